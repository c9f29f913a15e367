"""Test support shared by remittance's tests: the claim service's ClaimSubmitted as it arrives, and 835s written
by the X12 codec's writer that pay, deny or reverse those claims."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from rcm_common.audit import consumer_audit
from rcm_common.envelope import new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.events.claim import ClaimAccepted, ClaimSubmitted, SubmittedLine
from rcm_common.testing import InProcessApp, in_process_settings, serving
from rcm_common.types import Clock, utcnow
from rcm_remittance.bootstrap import Remittance, bootstrap
from rcm_remittance.config import RemittanceSettings
from rcm_remittance.entrypoints.app import create_app
from rcm_remittance.service_layer.handlers import claim_handlers
from rcm_x12.remittance_reader import Adjustment, Contact, ProviderAdjustment
from rcm_x12.remittance_writer import PaidClaim, PaidLine, PaymentInfo, RemittanceAdvice, write_835
from rcm_x12.writer import Address, Envelope, Member, Payer, Provider

DATE_OF_SERVICE: Final = date(2026, 11, 2)
PAID_ON: Final = date(2026, 11, 20)
PAYEE: Final = Provider("SPRINGFIELD FAMILY MEDICINE", "1234567893")


def submitted(
    *,
    payer_id: str = "ACME01",
    lines: Sequence[tuple[str, str, str | None]] = (("99213", "125.00", "90.00"), ("36415", "25.00", "10.00")),
    claim_id: uuid.UUID | None = None,
    date_of_service: date = DATE_OF_SERVICE,
) -> ClaimSubmitted:
    """A ClaimSubmitted: each line (code, charge, expected allowed) with the control number `<CLM01>-<n>`."""
    claim_id = claim_id or uuid.uuid4()
    control = "C" + claim_id.hex[:16].upper()
    submitted_lines = tuple(
        SubmittedLine(
            line_control_number=f"{control}-{number}",
            procedure_code=code,
            units=Decimal(1),
            date_of_service=date_of_service,
            charge=Decimal(charge),
            expected_allowed=Decimal(expected) if expected is not None else None,
        )
        for number, (code, charge, expected) in enumerate(lines, 1)
    )
    return ClaimSubmitted(
        claim_id=claim_id,
        patient_id=uuid.uuid4(),
        payer_id=payer_id,
        encounter_id=uuid.uuid4(),
        encounter_version=1,
        coverage_id=uuid.uuid4(),
        patient_control_number=control,
        frequency="1",
        batch_id=uuid.uuid4(),
        interchange_control_number="000000001",
        total_charge=sum((line.charge for line in submitted_lines), Decimal("0.00")),
        lines=submitted_lines,
    )


def accepted_event(claim: ClaimSubmitted) -> ClaimAccepted:
    """The claim's 277CA acceptance, with a payer claim number of its own (`P` and the CLM01's characters)."""
    return ClaimAccepted(
        claim_id=claim.claim_id,
        patient_id=claim.patient_id,
        payer_id=claim.payer_id,
        patient_control_number=claim.patient_control_number,
        payer_claim_number="P" + claim.patient_control_number[1:],
    )


def paid_claim(
    claim: ClaimSubmitted,
    *,
    payer_claim_number: str = "",
    status: str = "1",
    allowed: Sequence[str] | None = None,
    deductible: str = "0.00",
    coinsurance_share: str = "0.20",
    copay: str = "0.00",
    denial: tuple[str, str] | None = None,
    negate: bool = False,
    control_numbers: bool = True,
) -> PaidClaim:
    """The payer's answer to `claim`: each line allowed its expected allowed (or `allowed`), the rest CO-45; the
    first line's allowed goes to the deductible, then a copay or coinsurance; a denial (group, CARC) denies
    every line whole. `negate` writes it as its own reversal (CLP02 22, every amount negative)."""
    sign = Decimal(-1) if negate else Decimal(1)
    lines, remaining_deductible = [], Decimal(deductible)
    for number, line in enumerate(claim.lines):
        line_allowed = Decimal(allowed[number]) if allowed is not None else (line.expected_allowed or line.charge)
        adjustments: list[Adjustment] = []
        if denial is not None:
            adjustments.append(Adjustment(denial[0], denial[1], line.charge))
            paid = Decimal("0.00")
            line_allowed = Decimal("0.00")
        else:
            if line.charge > line_allowed:
                adjustments.append(Adjustment("CO", "45", line.charge - line_allowed))
            to_deductible = min(remaining_deductible, line_allowed)
            remaining_deductible -= to_deductible
            if to_deductible:
                adjustments.append(Adjustment("PR", "1", to_deductible))
            rest = line_allowed - to_deductible
            share = (
                min(Decimal(copay), rest)
                if Decimal(copay)
                else (rest * Decimal(coinsurance_share)).quantize(Decimal("0.01"))
            )
            if share:
                adjustments.append(Adjustment("PR", "3" if Decimal(copay) else "2", share))
            paid = rest - share
        lines.append(
            PaidLine(
                procedure=line.procedure_code,
                charge=sign * line.charge,
                paid=sign * paid,
                modifiers=line.modifiers,
                service_date=line.date_of_service,
                control_number=line.line_control_number if control_numbers else "",
                allowed=sign * line_allowed if denial is None else None,
                adjustments=tuple(Adjustment(a.group, a.reason, sign * a.amount) for a in adjustments),
            )
        )
    patient = sum((a.amount for line in lines for a in line.adjustments if a.group == "PR"), Decimal("0.00"))
    return PaidClaim(
        claim_id=claim.patient_control_number,
        status="22" if negate else ("4" if denial is not None else status),
        charge=sign * claim.total_charge,
        paid=sum((line.paid for line in lines), Decimal("0.00")),
        payer_claim_number=payer_claim_number or f"PCN{claim.patient_control_number[1:12]}",
        patient=Member("DOE", "JANE", "MEMBER1"),
        filing_indicator="12",
        patient_responsibility=patient,
        lines=tuple(lines),
    )


def remittance_835(
    claims: Sequence[PaidClaim],
    *,
    payer_id: str = "ACME01",
    trace: str = "TRACE0001",
    interchange_control_number: int = 1,
    provider_adjustments: Sequence[tuple[str, str, str]] = (),
    paid_on: date = PAID_ON,
) -> bytes:
    """One 835 paying `claims` by check, less the PLB adjustments (reason, reference, amount). One that would pay
    less than nothing (a reversal alone) carries the rest forward to the payer's next 835 (PLB FB), as payers do."""
    fiscal = date(paid_on.year, 12, 31)
    adjustments = tuple(
        ProviderAdjustment(PAYEE.npi, fiscal, reason, reference, Decimal(amount))
        for reason, reference, amount in provider_adjustments
    )
    total = sum((claim.paid for claim in claims), Decimal("0.00")) - sum((a.amount for a in adjustments), Decimal(0))
    if total < 0:
        adjustments += (ProviderAdjustment(PAYEE.npi, fiscal, "FB", trace, total),)
        total = Decimal("0.00")
    advice = RemittanceAdvice(
        payment=PaymentInfo(total, "CHK" if total else "NON", paid_on, trace, "1999999999"),
        payer=Payer("ACME HEALTH PLAN", payer_id, Address("PO BOX 1", "HARTFORD", "CT", "06101")),
        payer_contacts=(Contact("BL", "EDI SUPPORT", (("TE", "8005550100"),)),),
        payee=PAYEE,
        claims=tuple(claims),
        provider_adjustments=adjustments,
        production_date=paid_on,
    )
    envelope = Envelope(
        sender_id=payer_id,
        receiver_id="RCMDEMO",
        interchange_control_number=interchange_control_number,
        group_control_number=interchange_control_number,
        transaction_control_number=1,
        created=datetime(paid_on.year, paid_on.month, paid_on.day, 9, 0, tzinfo=UTC),
    )
    return write_835(advice, envelope).encode()


class RemittanceApi(InProcessApp[Remittance]):
    """Remittance running in process; a biller's token unless a test names other roles."""

    @property
    def remittance(self) -> Remittance:
        return self.kernel

    async def feed(self, *events: IntegrationEvent) -> None:
        """Apply the claim service's events as the consumer does, each in a unit of work of its own."""
        handlers = claim_handlers(self.remittance.clock)
        for event in events:
            async with self.remittance.uow(audit=consumer_audit("remittance")()) as uow:
                await handlers[type(event)](event, new_envelope(event, "claim"), uow)
                await uow.commit()

    async def upload(self, content: bytes) -> dict[str, Any]:
        """Upload an 835 and post it; the upload's answer."""
        response = await self.client.post(
            "/remittances", content=content, headers=self.auth(**{"content_type": "application/edi-x12"})
        )
        assert response.status_code == 202, response.text
        await self.remittance.poster.run_once()
        answer: dict[str, Any] = response.json()
        return answer

    async def published_events(self) -> list[dict[str, Any]]:
        """Every payload in the outbox, in order, with its event type as `type`."""
        rows = await self.rows("SELECT event_type, payload FROM outbox ORDER BY id")
        return [json.loads(row["payload"]) | {"type": row["event_type"]} for row in rows]

    async def published(self, event_type: str) -> list[dict[str, Any]]:
        """The payloads of the outbox's events of this type (`rcm.remittance.payment_posted`), in order."""
        rows = await self.rows(
            "SELECT payload FROM outbox WHERE event_type = :event_type ORDER BY id", event_type=event_type
        )
        return [json.loads(row["payload"]) for row in rows]


@contextlib.asynccontextmanager
async def running_remittance(
    state_dir: Path,
    signing_keys: tuple[str, str],
    database_url: str = "",
    *,
    gateway: Any = None,
    clock: Clock = utcnow,
    **settings: Any,
) -> AsyncIterator[RemittanceApi]:
    """Remittance serving in process; its workers do not run by themselves (a test runs their rounds), and
    `gateway` is the clearinghouse mailbox they read when they do."""
    private_pem, public_pem = signing_keys
    settings.setdefault("run_workers", False)
    config = in_process_settings(RemittanceSettings, state_dir, public_pem, database_url, **settings)
    app = create_app(service=bootstrap(config, gateway=gateway, clock=clock))
    async with serving(app, "http://remittance.test") as client:
        yield RemittanceApi(app, client, private_pem, app.state.remittance, default_roles=("biller",))
