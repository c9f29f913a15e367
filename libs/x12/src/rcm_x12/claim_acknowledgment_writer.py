"""The 277CA health care claim acknowledgment (005010X214) a clearinghouse or payer returns for a batch of
837 claims, and `write_277ca` to write it.

The hierarchy is the guide's: the information source (2000A: the payer, or a clearinghouse), the receiver
(2000B: the 837's submitter, with the batch's receipt status and counts), the billing provider (2000C, with
its claims' counts) and per claim the patient level (2000D, HL03 PT) with the claim's status (2200D): the
submitter's claim id echoed (TRN*2, the 837's CLM01), and either acceptance (STC A1:19:PR receipt and
A2:20:PR acceptance into adjudication, action WQ, with the payer's claim number REF*1K) or the rejection's
composites (category A3, A6, A7 or A8, action U, with free text), then the clearinghouse trace (REF*D9),
and the dates of service (DTP*472). The total charge is STC04 at every level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from rcm_x12.claim_status_reader import StatusCode
from rcm_x12.claim_status_writer import check_status_codes, stc
from rcm_x12.codes.claim_status import REJECTED_CATEGORIES
from rcm_x12.writer import (
    Composite,
    Elements,
    Envelope,
    Member,
    Payer,
    Provider,
    SegmentWriter,
    TradingPartner,
    check_money,
    date_text,
    decimal_text,
    period,
)

__all__ = [
    "IMPLEMENTATION",
    "AcknowledgedClaim",
    "ClaimAcknowledgment",
    "ClaimRejection",
    "ProviderAcknowledgment",
    "StatusCode",
    "write_277ca",
]

IMPLEMENTATION = "005010X214"
_RECEIVED = StatusCode("A1", "19", "PR", "")
_ACCEPTED = StatusCode("A2", "20", "PR", "")
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class ClaimRejection:
    """Why a claim was not accepted: STC01 (then STC10 and STC11 when there is more than one reason), the
    first of category A3 (returned as unprocessable), A6 (missing information), A7 (invalid information) or
    A8 (relational field in error), e.g. A7:562:85 (the billing provider's NPI), A7:33:IL (subscriber not
    found); `message` is STC12, free text."""

    codes: tuple[StatusCode, ...]
    message: str = ""

    def __post_init__(self) -> None:
        check_status_codes(self.codes)
        if self.codes[0].category not in REJECTED_CATEGORIES:
            raise ValueError("a rejection's first status category is A3, A6, A7 or A8")


@dataclass(frozen=True, slots=True)
class AcknowledgedClaim:
    """One claim of the batch: `claim_id` is the 837's CLM01, the patient (2100D) is named with the member
    id the claim gave; `charge` is the claim's total charge. Accepted unless `rejection` says why not;
    only an accepted claim has the payer's claim number (REF*1K). `clearinghouse_trace` is REF*D9."""

    claim_id: str
    patient: Member
    charge: Decimal
    service_date: date
    service_end: date | None = None
    payer_claim_number: str = ""
    clearinghouse_trace: str = ""
    rejection: ClaimRejection | None = None

    def __post_init__(self) -> None:
        check_money(self.charge, what="an acknowledged claim")
        if not self.patient.member_id:
            raise ValueError("the patient of a 277CA (NM1*QC) needs the member id the claim gave")
        if self.rejection is not None and self.payer_claim_number:
            raise ValueError("a rejected claim has no payer claim number")

    @property
    def accepted(self) -> bool:
        return self.rejection is None


@dataclass(frozen=True, slots=True)
class ProviderAcknowledgment:
    """2000C: a billing provider (NM1*85, by NPI) and its claims in the batch."""

    provider: Provider
    claims: tuple[AcknowledgedClaim, ...]

    def __post_init__(self) -> None:
        if not self.claims:
            raise ValueError("a provider in a 277CA has at least one claim")


@dataclass(frozen=True, slots=True)
class ClaimAcknowledgment:
    """One 277CA transaction. `reference` is BHT03 and the source's trace (2200A TRN02); `source` is the
    payer (NM1*PR, PI) or a clearinghouse (NM1*AY, 46); `receiver` the 837's submitter (NM1*41) and
    `batch_reference` the 837's BHT03 (2200B TRN02). `received` is DTP*050, `processed` DTP*009 and the
    date every status takes effect (STC02)."""

    reference: str
    source: Payer | TradingPartner
    receiver: TradingPartner
    batch_reference: str
    received: date
    processed: date
    providers: tuple[ProviderAcknowledgment, ...]

    def __post_init__(self) -> None:
        if not self.providers:
            raise ValueError("a 277CA acknowledges at least one claim")


def write_277ca(acknowledgment: ClaimAcknowledgment, envelope: Envelope) -> str:
    """The acknowledgment as one X12 interchange holding one 277 (005010X214) transaction set."""
    writer = SegmentWriter(envelope, "HN", "277", IMPLEMENTATION)
    acknowledgment = writer.prepare(acknowledgment)
    all_claims = [claim for group in acknowledgment.providers for claim in group.claims]
    writer.add(partial(_header, acknowledgment, all_claims, writer.date, writer.time), "the header")
    hl = 2
    claims = 0
    for number, group in enumerate(acknowledgment.providers, 1):
        hl += 1
        provider_hl = hl
        writer.add(partial(_provider, group, acknowledgment, hl), f"provider {number}")
        for claim in group.claims:
            hl += 1
            claims += 1
            writer.add(partial(_claim, claim, acknowledgment.processed, hl, provider_hl), f"claim {claims}")
    return writer.text()


def _header(
    acknowledgment: ClaimAcknowledgment,
    claims: list[AcknowledgedClaim],
    created_date: str,
    created_time: str,
    composite: Composite,
) -> list[Elements]:
    source = acknowledgment.source
    entity = "PR" if isinstance(source, Payer) else "AY"
    return [
        ("BHT", "0085", "08", acknowledgment.reference, created_date, created_time, "TH"),
        ("HL", "1", "", "20", "1"),
        source.nm1() if isinstance(source, Payer) else source.nm1("AY"),
        ("TRN", "1", acknowledgment.reference),
        ("DTP", "050", "D8", date_text(acknowledgment.received)),
        ("DTP", "009", "D8", date_text(acknowledgment.processed)),
        ("HL", "2", "1", "21", "1"),
        acknowledgment.receiver.nm1("41"),
        ("TRN", "2", acknowledgment.batch_reference),
        *_receipt(claims, acknowledgment.processed, entity, ("90", "AA"), composite),
    ]


def _provider(
    group: ProviderAcknowledgment, acknowledgment: ClaimAcknowledgment, hl: int, composite: Composite
) -> list[Elements]:
    entity = "PR" if isinstance(acknowledgment.source, Payer) else "AY"
    return [
        ("HL", str(hl), "2", "19", "1"),
        group.provider.nm1("85"),
        ("TRN", "1", "0"),  # the guide's value when the source has no trace of its own for the provider
        *_receipt(list(group.claims), None, entity, ("QA", "QC"), composite),  # 2200C has no STC02
    ]


def _receipt(
    claims: list[AcknowledgedClaim],
    processed: date | None,
    entity: str,
    quantities: tuple[str, str],
    composite: Composite,
) -> list[Elements]:
    """The receipt of a batch or a provider's claims (STC A1:19), with the total charge, and the accepted
    and rejected claims' counts (QTY) and charges (AMT YU and YY) when there are any."""
    accepted = [claim.charge for claim in claims if claim.accepted]
    rejected = [claim.charge for claim in claims if not claim.accepted]
    total = sum(accepted, _ZERO) + sum(rejected, _ZERO)
    segments: list[Elements] = [
        stc((StatusCode("A1", "19", entity, ""),), processed, composite, action="WQ", charge=total)
    ]
    for qualifier, counted in zip(quantities, (accepted, rejected), strict=True):
        if counted:
            segments.append(("QTY", qualifier, str(len(counted))))
    for qualifier, counted in (("YU", accepted), ("YY", rejected)):
        if counted:
            segments.append(("AMT", qualifier, decimal_text(sum(counted, _ZERO))))
    return segments


def _claim(claim: AcknowledgedClaim, processed: date, hl: int, parent: int, composite: Composite) -> list[Elements]:
    segments: list[Elements] = [
        ("HL", str(hl), str(parent), "PT"),
        claim.patient.nm1("QC"),
        ("TRN", "2", claim.claim_id),
    ]
    rejection = claim.rejection
    if rejection is None:
        segments += [
            stc((status,), processed, composite, action="WQ", charge=claim.charge) for status in (_RECEIVED, _ACCEPTED)
        ]
    else:
        segments.append(
            stc(rejection.codes, processed, composite, action="U", charge=claim.charge, message=rejection.message)
        )
    if claim.payer_claim_number:
        segments.append(("REF", "1K", claim.payer_claim_number))
    if claim.clearinghouse_trace:
        segments.append(("REF", "D9", claim.clearinghouse_trace))
    segments.append(("DTP", "472", *period(claim.service_date, claim.service_end)))
    return segments
