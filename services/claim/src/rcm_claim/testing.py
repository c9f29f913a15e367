"""Test support shared by claim's tests: in-memory fakes of its ports, the practice's directories, and
charge's and registration's events as they arrive."""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal
from uuid import UUID

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.bootstrap import Claim as ClaimService
from rcm_claim.bootstrap import bootstrap
from rcm_claim.config import ClaimSettings
from rcm_claim.domain.acknowledgments import AcknowledgmentFile
from rcm_claim.domain.adjudication import ZERO, Adjudication
from rcm_claim.domain.batches import Batch, BatchState
from rcm_claim.domain.copies import Authorization, CoverageCopy, EligibilityAnswer, PatientCopy
from rcm_claim.domain.denial_risk import DecidedService, services_decided
from rcm_claim.domain.directories import Address, BillingProvider, PayerProfile, Provider, ProviderDirectory
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import NOT_FILED, Claim, ClaimState, EncounterLine, EncounterVersion
from rcm_claim.entrypoints.app import create_app
from rcm_claim.service_layer.handlers import (
    charge_handlers,
    eligibility_handlers,
    registration_handlers,
    remittance_handlers,
)
from rcm_claim.service_layer.mapping import to_integration_event
from rcm_common.audit import consumer_audit
from rcm_common.envelope import new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.events.charge import ChargesCaptured
from rcm_common.events.remittance import (
    AdjustmentPosted,
    ClaimPaymentReversed,
    LinePosted,
    PatientShare,
    PaymentPosted,
    Remark,
)
from rcm_common.events.remittance import ClaimDenied as RemittanceClaimDenied
from rcm_common.events.remittance import Denial as RemittanceDenial
from rcm_common.testing import (
    InMemoryAggregates,
    InMemoryControlNumbers,
    InMemoryCoverageCopies,
    InMemoryMerges,
    InMemoryPatientCopies,
    InProcessApp,
    RecordedStore,
    RecordingUnitOfWork,
    in_process_settings,
    serving,
)
from rcm_common.topics import CLAIM_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication

BILLING_NPI: Final = "1234567893"
RENDERING_NPI: Final = "1497758544"
PRACTICE: Final = ProviderDirectory(
    BillingProvider("Springfield Family Medicine", BILLING_NPI, "371234567", "207Q00000X",
                    Address("100 Main St", "Springfield", "IL", "627011234")),
    (Provider("Osler", "William", RENDERING_NPI, "207R00000X"),),
)  # fmt: skip


class FakeCoverages(InMemoryCoverageCopies[CoverageCopy]):
    async def for_patient(self, patient_id: UUID) -> list[CoverageCopy]:
        return [copy.copy(coverage) for coverage in self.rows.values() if coverage.patient_id == patient_id]


class FakeEligibility:
    def __init__(self) -> None:
        self.rows: dict[UUID, EligibilityAnswer] = {}

    async def latest(self, coverage_id: UUID) -> EligibilityAnswer | None:
        return self.rows.get(coverage_id)

    async def record(self, answer: EligibilityAnswer) -> bool:
        kept = self.rows.get(answer.coverage_id)
        if kept is not None and kept.checked_at > answer.checked_at:
            return False
        self.rows[answer.coverage_id] = answer
        return True


class FakeAuthorizations:
    def __init__(self) -> None:
        self.rows: dict[UUID, Authorization] = {}

    async def for_coverage(self, coverage_id: UUID) -> list[Authorization]:
        found = [a for a in self.rows.values() if a.coverage_id == coverage_id]
        return sorted(found, key=lambda a: (a.start_date, str(a.authorization_id)))

    async def save(self, authorization: Authorization) -> None:
        self.rows[authorization.authorization_id] = authorization


class FakeClaims(InMemoryAggregates[Claim]):
    noun = "claim"

    async def for_encounter(self, encounter_id: UUID) -> list[Claim]:
        return self._matching(lambda claim: claim.encounter_id == encounter_id)

    async def for_patient(self, patient_id: UUID) -> list[Claim]:
        return self._matching(lambda claim: claim.patient_id == patient_id)

    async def search(
        self, *, state: ClaimState | None = None, rule: str | None = None, rejection_code: str | None = None,
        payer_id: str | None = None, patient_id: UUID | None = None, date_from: date | None = None,
        date_to: date | None = None, limit: int = 100, offset: int = 0,
    ) -> list[Claim]:  # fmt: skip
        def wanted(claim: Claim) -> bool:
            held_by = claim.scrub.blocking_rules if claim.scrub is not None and claim.state == "scrub_failed" else ()
            rejected_for = {p.code for p in claim.rejection.problems} if claim.rejection is not None else set()
            return (
                (state is None or claim.state == state)
                and (rule is None or rule in held_by)
                and (rejection_code is None or rejection_code in rejected_for)
                and (payer_id is None or claim.payer_id == payer_id)
                and (patient_id is None or claim.patient_id == patient_id)
                and (date_from is None or claim.date_of_service >= date_from)
                and (date_to is None or claim.date_of_service <= date_to)
            )

        found = sorted(self._matching(wanted), key=lambda claim: (claim.in_state_since, str(claim.id)))
        return found[offset : offset + limit]

    async def save_many(self, claims: Sequence[Claim]) -> None:
        for claim in claims:
            await self.save(claim)

    async def ready_to_batch(self, payer_id: str, limit: int) -> list[Claim]:
        ready = self._matching(lambda c: c.payer_id == payer_id and c.state == "ready" and not c.kept_back)
        return sorted(ready, key=lambda claim: (claim.in_state_since, str(claim.id)))[:limit]

    async def in_batch(self, batch_id: UUID) -> list[Claim]:
        return self._matching(lambda claim: claim.batch_id == batch_id)

    async def waiting_for(self, claim_ids: Collection[UUID]) -> list[Claim]:
        return self._matching(lambda claim: claim.waits_for in claim_ids)

    async def by_patient_control_numbers(self, numbers: Collection[str]) -> list[Claim]:
        return self._matching(lambda claim: claim.patient_control_number in numbers)

    async def unanswered_since(
        self, before: datetime, *, payer_id: str | None = None, limit: int, offset: int = 0
    ) -> list[Claim]:
        def waiting_since(claim: Claim) -> bool:
            return (
                claim.state in ("batched", "submitted")
                and claim.in_state_since < before
                and payer_id in (None, claim.payer_id)
            )

        waiting = self._matching(waiting_since)
        return sorted(waiting, key=lambda claim: (claim.in_state_since, str(claim.id)))[offset : offset + limit]

    async def status_due(self, payer_id: str, accepted_before: datetime, *, limit: int) -> list[Claim]:
        def due(claim: Claim) -> bool:
            asked = claim.status_checked_at
            return (
                claim.payer_id == payer_id
                and claim.state == "accepted"
                and claim.in_state_since < accepted_before
                and (asked is None or asked < accepted_before)
            )

        return sorted(self._matching(due), key=lambda claim: (claim.in_state_since, str(claim.id)))[:limit]

    async def with_open_denials(
        self, *, category: str | None = None, payer_id: str | None = None, limit: int
    ) -> list[Claim]:
        found = [
            (claim.denied_on(denial), str(claim.id), claim)
            for claim in self._matching(lambda claim: claim.open_denial is not None)
            if (denial := claim.open_denial) is not None
            and category in (None, denial.category)
            and payer_id in (None, claim.payer_id)
        ]
        return [claim for *_, claim in sorted(found, key=lambda found: found[:2])][:limit]

    async def not_filed(self, payer_id: str, *, serviced_on_or_before: date, limit: int) -> list[Claim]:
        def unfiled(claim: Claim) -> bool:
            return (
                claim.payer_id == payer_id
                and claim.state in NOT_FILED
                and claim.frequency != "8"
                and claim.date_of_service <= serviced_on_or_before
            )

        return sorted(self._matching(unfiled), key=lambda claim: (claim.date_of_service, str(claim.id)))[:limit]

    async def repoint(self, merged_patient_id: UUID, surviving_patient_id: UUID) -> list[UUID]:
        moved = await self.for_patient(merged_patient_id)
        for claim in moved:
            claim.patient_id = surviving_patient_id
            await self.save(claim)
        return [claim.id for claim in moved]

    def _matching(self, keep: Any) -> list[Claim]:
        found = [claim for claim in self.rows.values() if keep(claim)]
        return [copy.deepcopy(claim) for claim in sorted(found, key=lambda claim: claim.timeline[0].at)]


class FakeDecidedServices:
    """The denial-risk history in memory, its diagnosis categories kept as they are."""

    def __init__(self) -> None:
        self.by_claim: dict[UUID, list[DecidedService]] = {}

    async def record(self, claim: Claim) -> None:
        self.by_claim[claim.id] = [service for *_, service in services_decided(claim)]

    async def for_payer(self, payer_id: str, *, since: date) -> tuple[DecidedService, ...]:
        return tuple(
            service
            for services in self.by_claim.values()
            for service in services
            if service.payer_id == payer_id and service.decided_on > since
        )


class FakeBatches:
    def __init__(self) -> None:
        self.rows: dict[UUID, Batch] = {}

    async def get(self, batch_id: UUID) -> Batch | None:
        found = self.rows.get(batch_id)
        return copy.copy(found) if found else None

    async def add(self, batch: Batch) -> None:
        self.rows[batch.id] = copy.copy(batch)

    async def save(self, batch: Batch) -> None:
        self.rows[batch.id] = copy.copy(batch)

    async def unanswered(self) -> list[Batch]:
        waiting = [batch for batch in self.rows.values() if batch.state in ("built", "sent")]
        return [copy.copy(batch) for batch in sorted(waiting, key=lambda batch: (batch.built_at, str(batch.id)))]

    async def search(
        self, *, payer_id: str | None = None, state: BatchState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Batch]:
        found = [b for b in self.rows.values() if payer_id in (None, b.payer_id) and state in (None, b.state)]
        newest = sorted(found, key=lambda batch: (batch.built_at, str(batch.id)), reverse=True)
        return [copy.copy(batch) for batch in newest[offset : offset + limit]]


class FakeAcknowledgmentFiles:
    def __init__(self) -> None:
        self.rows: dict[str, AcknowledgmentFile] = {}

    async def seen(self, digest: str) -> bool:
        return digest in self.rows

    async def add(self, file: AcknowledgmentFile) -> None:
        self.rows[file.digest] = file


class FakeDirectories:
    def __init__(self) -> None:
        self.provider_directory: ProviderDirectory | None = PRACTICE
        self.payer_profiles: dict[str, PayerProfile] = {payer.payer_id: payer for payer in default_payers()}

    async def providers(self) -> ProviderDirectory | None:
        return self.provider_directory

    async def replace_providers(self, directory: ProviderDirectory, by: str, now: datetime) -> None:
        self.provider_directory = directory

    async def payers(self) -> list[PayerProfile]:
        return sorted(self.payer_profiles.values(), key=lambda payer: payer.payer_id)

    async def payer(self, payer_id: str) -> PayerProfile | None:
        return self.payer_profiles.get(payer_id)

    async def replace_payers(self, payers: Sequence[PayerProfile], now: datetime) -> None:
        self.payer_profiles = {payer.payer_id: payer for payer in payers}


@dataclass
class FakeStore(RecordedStore):
    """What a fake unit of work commits into: shared by every unit of work of one test."""

    patients: InMemoryPatientCopies[PatientCopy] = field(default_factory=InMemoryPatientCopies)
    merges: InMemoryMerges = field(default_factory=InMemoryMerges)
    coverages: FakeCoverages = field(default_factory=lambda: FakeCoverages())
    eligibility: FakeEligibility = field(default_factory=FakeEligibility)
    authorizations: FakeAuthorizations = field(default_factory=FakeAuthorizations)
    claims: FakeClaims = field(default_factory=FakeClaims)
    batches: FakeBatches = field(default_factory=FakeBatches)
    acknowledgment_files: FakeAcknowledgmentFiles = field(default_factory=FakeAcknowledgmentFiles)
    control_numbers: InMemoryControlNumbers = field(default_factory=InMemoryControlNumbers)
    directories: FakeDirectories = field(default_factory=FakeDirectories)
    decided_services: FakeDecidedServices = field(default_factory=FakeDecidedServices)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork(RecordingUnitOfWork):
    """Writes through to the store at once, but publishes events and audit records only on commit; rolls the
    store back when left uncommitted."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__(store, "claim", Publication(CLAIM_EVENTS, to_integration_event))
        self.patients = store.patients
        self.merges = store.merges
        self.coverages = store.coverages
        self.eligibility = store.eligibility
        self.authorizations = store.authorizations
        self.claims = self.tracked(store.claims)
        self.batches = store.batches
        self.acknowledgment_files = store.acknowledgment_files
        self.control_numbers = store.control_numbers
        self.directories = store.directories
        self.decided_services = store.decided_services
        self.locked: list[UUID] = []

    async def lock_patient(self, patient_id: UUID) -> None:
        self.locked.append(patient_id)

    async def lock_patients(self, patient_ids: Collection[UUID]) -> None:
        self.locked.extend(sorted(set(patient_ids), key=str))

    async def read_for_batch(
        self, patient_ids: Collection[UUID], coverage_ids: Collection[UUID], encounter_ids: Collection[UUID]
    ) -> None:
        await self.lock_patients(patient_ids)  # the fakes read from memory already


def charges_captured(
    patient_id: UUID, coverage_id: UUID | None, *, codes: Sequence[str] = ("99214",), payer_id: str | None = "ACME01",
    day: date = date(2026, 11, 2), **changes: Any,
) -> ChargesCaptured:  # fmt: skip
    """A captured encounter as charge publishes it: one line per code at $185.00, each pointing at I10."""
    lines = [
        {"line_number": number, "procedure_code": code, "units": "1", "diagnosis_pointers": [1],
         "date_of_service": day.isoformat(), "charge": "185.00"}
        for number, code in enumerate(codes, start=1)
    ]  # fmt: skip
    fields: dict[str, Any] = {
        "encounter_id": str(uuid.uuid4()),
        "version": 1,
        "patient_id": str(patient_id),
        "coverage_id": str(coverage_id) if coverage_id else None,
        "payer_id": payer_id if coverage_id else None,
        "date_of_service": day.isoformat(),
        "place_of_service": "11",
        "billing_provider_npi": BILLING_NPI,
        "rendering_provider_npi": RENDERING_NPI,
        "icd10cm_edition": "2027",
        "diagnoses": [{"pointer": 1, "code": "I10", "description": "Essential (primary) hypertension"}],
        "lines": lines,
        "total_charge": str(Decimal("185.00") * len(lines)),
    }
    return ChargesCaptured.model_validate(fields | changes)


class ClaimApi(InProcessApp[ClaimService]):
    """Claim running in process; a biller's token unless a test names other roles."""

    @property
    def claim(self) -> ClaimService:
        return self.kernel

    async def feed(self, *events: IntegrationEvent) -> None:
        """Apply upstream events as the consumers do, each in a unit of work of its own."""
        scrubber = self.claim.scrubber
        handlers = (
            registration_handlers(scrubber) | eligibility_handlers(scrubber) | charge_handlers(scrubber)
            | remittance_handlers(scrubber)
        )  # fmt: skip
        for event in events:
            async with self.claim.uow(audit=consumer_audit("claim")()) as uow:
                producer = type(event).__module__.rpartition(".")[2]  # rcm_common.events.<producer>
                await handlers[type(event)](event, new_envelope(event, producer), uow)
                await uow.commit()


@contextlib.asynccontextmanager
async def running_claim(
    state_dir: Path,
    signing_keys: tuple[str, str],
    database_url: str = "",
    *,
    gateway: Any = None,
    clock: Clock = utcnow,
    **settings: Any,
) -> AsyncIterator[ClaimApi]:
    """Claim serving in process; its workers do not run by themselves (a test runs their rounds), and
    `gateway` is the clearinghouse they call when they do."""
    private_pem, public_pem = signing_keys
    settings.setdefault("run_workers", False)
    config = in_process_settings(ClaimSettings, state_dir, public_pem, database_url, **settings)
    app = create_app(service=bootstrap(config, gateway=gateway, clock=clock))
    async with serving(app, "http://claim.test") as client:
        yield ClaimApi(app, client, private_pem, app.state.claim, default_roles=("biller",))


# A claim the payer accepted and the payments an 835 may post to it, for the tests of what follows adjudication.
ADJUDICATED_AT: Final = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ENCOUNTER = EncounterVersion(
    encounter_id=uuid.uuid4(), version=1, patient_id=uuid.uuid4(), coverage_id=uuid.uuid4(), payer_id="ACME01",
    date_of_service=date(2026, 11, 2), place_of_service="11", diagnoses=("I10",),
    lines=(EncounterLine("99214", (), Decimal(1), date(2026, 11, 2), Decimal("185.00"), (1,)),),
    billing_provider_npi="1234567893",
)  # fmt: skip


def accepted_claim() -> Claim:
    """A claim of `ENCOUNTER` at ACME01, accepted with the payer's claim number ACME777."""
    claim = Claim.build(
        claim_id=uuid.uuid4(), encounter=ENCOUNTER, coverage_order="primary", now=ADJUDICATED_AT, cause="e:1"
    )
    claim.scrubbed(ScrubRecord((), ()), ADJUDICATED_AT, "scrub")
    claim.batch(uuid.uuid4(), ADJUDICATED_AT, "batch")
    claim.submit("000000001", ADJUDICATED_AT, "batch")
    claim.accept("ACME777", ADJUDICATED_AT, "277ca")
    claim.events.clear()
    return claim


def payment(
    status: str = "1",
    *,
    paid: str = "104.96",
    patient: str = "26.24",
    paid_lines: tuple[str, ...] = ("L1",),
    denied: tuple[str, ...] = (),
    underpaid_by: str | None = None,
) -> Adjudication:
    """A payment of the accepted claim as remittance posts it: paid as primary by default, its line named L1."""
    if status in ("4", "23"):  # a whole-claim denial: every line denied, nothing paid (as remittance sends it)
        paid, patient, denied = "0.00", "0.00", denied or ("L1",)
    return Adjudication(
        uuid.uuid4(), "TRACE1", "ACME777", status, Decimal("185.00"), Decimal(paid), Decimal("131.20"),
        Decimal(patient), paid_lines if Decimal(paid) else (), denied, Decimal(underpaid_by) if underpaid_by else None,
        ADJUDICATED_AT,
    )  # fmt: skip


def payment_posted(
    claim: Claim, *, denied: bool = False, payment_id: UUID | None = None, status: str | None = None
) -> PaymentPosted:
    """The payer's payment of a claim as remittance posts it: each line allowed 80% of its charge (the rest
    written off as contractual, CO-45) and paid 80% of that, the patient owing the other 20% as coinsurance
    (PR-2); or, `denied`, every line denied for a missing authorisation (CO-197, N54; CLP02 4)."""
    lines = []
    for line in claim.lines:
        allowed = ZERO if denied else _cents(line.charge * Decimal("0.80"))
        paid = _cents(allowed * Decimal("0.80"))
        share = allowed - paid
        adjustments = (
            (_adjustment("CO", "197", line.charge),)
            if denied
            else (_adjustment("CO", "45", line.charge - allowed), _adjustment("PR", "2", share))
        )
        lines.append(
            LinePosted(
                line_control_number=line.control_number, procedure_code=line.procedure_code, modifiers=line.modifiers,
                units_paid=line.units, date_of_service=line.date_of_service, charge=line.charge, paid=paid,
                allowed=allowed, adjustments=adjustments, remark_codes=("N54",) if denied else (),
                patient_share=_share(share),
            )
        )  # fmt: skip
    paid, share = (
        sum((line.paid for line in lines), ZERO),
        sum((line.patient_share.coinsurance for line in lines), ZERO),
    )
    return PaymentPosted(
        claim_id=claim.id, patient_id=claim.patient_id, payer_id=claim.payer_id, payment_id=payment_id or uuid.uuid4(),
        remittance_id=uuid.uuid4(), trace_number="TRACE1", payment_date=ADJUDICATED_AT.date(),
        claim_status=status or ("4" if denied else "1"), claim_status_meaning="denied" if denied else "primary",
        payer_claim_number=claim.payer_claim_number or "ACME777", charge=claim.total_charge, paid=paid,
        allowed=sum((line.allowed for line in lines), ZERO), patient_responsibility=share, patient_share=_share(share),
        adjustments_by_group={"CO": claim.total_charge - paid - share, **({"PR": share} if share else {})},
        adjustments=tuple(adjustment for line in lines for adjustment in line.adjustments), lines=tuple(lines),
        denied_lines=tuple(line.control_number for line in claim.lines) if denied else (),
    )  # fmt: skip


def payment_reversed(posted: PaymentPosted) -> ClaimPaymentReversed:
    """The payer taking a posted payment back (CLP02 22), every amount negated."""
    share = posted.patient_share
    return ClaimPaymentReversed(
        claim_id=posted.claim_id, patient_id=posted.patient_id, payer_id=posted.payer_id, payment_id=uuid.uuid4(),
        remittance_id=uuid.uuid4(), trace_number="TRACE2", reversed_payment_id=posted.payment_id,
        payer_claim_number=posted.payer_claim_number, charge=-posted.charge, paid=-posted.paid,
        patient_responsibility=-posted.patient_responsibility,
        patient_share=PatientShare(deductible=-share.deductible, coinsurance=-share.coinsurance, copay=-share.copay,
                                   other=-share.other),
        adjustments_by_group={group: -amount for group, amount in posted.adjustments_by_group.items()},
    )  # fmt: skip


def claim_denied(posted: PaymentPosted) -> RemittanceClaimDenied:
    """Remittance's word on a denied payment: each line's CO-197 with N54, in words."""
    return RemittanceClaimDenied(
        claim_id=posted.claim_id, patient_id=posted.patient_id, payer_id=posted.payer_id,
        payment_id=posted.payment_id, remittance_id=posted.remittance_id, trace_number=posted.trace_number,
        whole_claim=posted.claim_status == "4", category="authorisation",
        suggested_action="Obtain or find the authorisation and appeal with it, or send a corrected claim.",
        amount_denied=posted.charge - posted.paid,
        denials=tuple(
            RemittanceDenial(
                line_control_number=line.line_control_number, procedure_code=line.procedure_code, group="CO",
                reason="197", description=_CO_197, remark_codes=("N54",), remarks=(_N54,), category="authorisation",
                amount=line.charge - line.paid,
            )
            for line in posted.lines
        ),
    )  # fmt: skip


_CO_197: Final = "Precertification/authorization/notification/pre-treatment absent."
_N54: Final = Remark(
    code="N54", description="Claim information is inconsistent with pre-certified/authorized services."
)
_DESCRIPTIONS: Final = {
    "197": (_CO_197, "authorisation"),
    "45": ("Charge exceeds fee schedule/maximum allowable.", "contractual"),
    "2": ("Coinsurance Amount.", "patient_responsibility"),
}


def _adjustment(group: Literal["CO", "PR"], reason: str, amount: Decimal) -> AdjustmentPosted:
    description, category = _DESCRIPTIONS[reason]
    return AdjustmentPosted(group=group, reason=reason, description=description, category=category, amount=amount)


def _share(coinsurance: Decimal) -> PatientShare:
    return PatientShare(deductible=ZERO, coinsurance=coinsurance, copay=ZERO, other=ZERO)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))
