"""Test support shared by charge's tests: in-memory fakes of its ports, a small code-set stand-in for the
domain tests, a practice's price lists, and the running application over a real database."""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from rcm_charge.adapters.mpfs import load_fee_schedule
from rcm_charge.bootstrap import Charge, bootstrap
from rcm_charge.config import ChargeSettings
from rcm_charge.domain.code_sets import CodeSets, DiagnosisCode, PairEdit, UnitLimit
from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.domain.model import Encounter
from rcm_charge.domain.pricing import ChargemasterEntry, ContractRate
from rcm_charge.entrypoints.app import create_app
from rcm_charge.service_layer import handlers
from rcm_charge.service_layer.mapping import event_mapper
from rcm_charge.service_layer.unit_of_work import ImportRecord
from rcm_common.envelope import Envelope as EventEnvelope
from rcm_common.envelope import new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import (
    InMemoryAggregates,
    InMemoryCoverageCopies,
    InMemoryMerges,
    InMemoryPatientCopies,
    InProcessApp,
    RecordedStore,
    RecordingUnitOfWork,
    in_process_settings,
    serving,
)
from rcm_common.topics import CHARGE_EVENTS
from rcm_common.uow import Publication
from rcm_x12.professional_claim_writer import (
    BillingProvider,
    Claim,
    Contact,
    Dependent,
    ProfessionalClaimBatch,
    ProviderClaims,
    SubscriberClaims,
    write_837p,
)
from rcm_x12.professional_claim_writer import ServiceLine as WrittenLine
from rcm_x12.writer import Address, Envelope, Member, Payer, Provider, TradingPartner

BILLING_NPI: Final = "1234567893"
RENDERING_NPI: Final = "1245319599"

# The price lists of a small practice: what it charges (MAIN is its main office, a higher charge at its
# hospital-based clinic HOSP) and what one payer's contract allows.
CHARGEMASTER_CSV: Final = """code,modifier,location,charge,description
99213,,,125.00,Office visit established 20-29 min
99214,,,185.00,Office visit established 30-39 min
99214,,HOSP,210.00,Office visit established 30-39 min (clinic)
99215,,,250.00,Office visit established 40-54 min
82962,,,30.00,Glucose blood by monitoring device
36415,,,20.00,Venipuncture
97140,,,60.00,Manual therapy each 15 min
97530,,,75.00,Therapeutic activities each 15 min
93000,,,70.00,ECG with interpretation
93010,,,25.00,ECG interpretation only
J1100,,,4.50,Dexamethasone 1 mg
20610,,,160.00,Arthrocentesis major joint
"""
CONTRACT_RATES_CSV: Final = """payer_id,code,modifier,allowed
ACME01,99213,,92.40
ACME01,99214,,131.20
ACME01,82962,,12.40
ACME01,97140,,28.10
ACME01,97530,,33.60
"""


# ------------------------------------------------------------------ code sets for the domain tests


SAMPLE_DIAGNOSES: Final = (
    DiagnosisCode("E11", "Type 2 diabetes mellitus", False, ("E11.9", "E11.65", "E11.8")),
    DiagnosisCode("E11.9", "Type 2 diabetes mellitus without complications", True),
    DiagnosisCode("E11.65", "Type 2 diabetes mellitus with hyperglycemia", True),
    DiagnosisCode("I10", "Essential (primary) hypertension", True),
    DiagnosisCode("J06.9", "Acute upper respiratory infection, unspecified", True),
    DiagnosisCode("M54.50", "Low back pain, unspecified", True),
    DiagnosisCode(
        "O80", "Encounter for full-term uncomplicated delivery", True, sex="F", min_age=9, max_age=64,
        restriction_note="maternity",
    ),
    DiagnosisCode("N40.0", "Benign prostatic hyperplasia without lower urinary tract symptoms", True, sex="M"),
    DiagnosisCode("S72.001A", "Fracture of unspecified part of neck of right femur, initial encounter", True),
    DiagnosisCode("W19.XXXA", "Unspecified fall, initial encounter", True),
    DiagnosisCode("E11.42", "Type 2 diabetes mellitus with diabetic polyneuropathy", True),
    DiagnosisCode("G63", "Polyneuropathy in diseases classified elsewhere", True, manifestation=True, code_first=True),
    DiagnosisCode(
        "F06.30", "Mood disorder due to known physiological condition, unspecified", True, code_first=True
    ),
)  # fmt: skip


@dataclass
class FakeCatalog:
    """A handful of ICD-10-CM codes as the real edition has them."""

    codes: dict[str, DiagnosisCode] = field(default_factory=lambda: {code.code: code for code in SAMPLE_DIAGNOSES})

    def lookup(self, code: str, on: date) -> DiagnosisCode | None:
        return self.codes.get(code.strip().upper())

    def edition_for(self, on: date) -> str:
        return "ICD-10-CM test edition"

    def covers(self, on: date) -> bool:
        return on < date(2027, 10, 1)


@dataclass
class FakeEdits:
    pairs: tuple[PairEdit, ...] = (
        PairEdit("97530", "97140", True, date(2020, 1, 1)),
        PairEdit("93000", "93010", False, date(2020, 1, 1)),
        PairEdit("20610", "99213", True, date(2020, 1, 1)),
    )
    limits: dict[str, UnitLimit] = field(
        default_factory=lambda: {"99214": UnitLimit("99214", 1), "97140": UnitLimit("97140", 4)}
    )

    def pair_edit(self, first: str, second: str, on: date) -> PairEdit | None:
        for edit in self.pairs:
            if {edit.column1, edit.column2} == {first, second} and edit.in_force(on):
                return edit
        return None

    def unit_limit(self, code: str) -> UnitLimit | None:
        return self.limits.get(code)


def fake_code_sets() -> CodeSets:
    return CodeSets(diagnoses=FakeCatalog(), edits=FakeEdits(), fees=load_fee_schedule(None))


def chargemaster() -> list[ChargemasterEntry]:
    rows = [line.split(",") for line in CHARGEMASTER_CSV.strip().splitlines()[1:]]
    return [
        ChargemasterEntry(code, Decimal(charge), modifier or None, location or None, description)
        for code, modifier, location, charge, description in rows
    ]


def contract_rates() -> list[ContractRate]:
    rows = [line.split(",") for line in CONTRACT_RATES_CSV.strip().splitlines()[1:]]
    return [ContractRate(payer, code, Decimal(allowed), modifier or None) for payer, code, modifier, allowed in rows]


# ------------------------------------------------------------------ in-memory fakes of the ports


FakePatients = InMemoryPatientCopies[PatientCopy]


class FakeCoverages(InMemoryCoverageCopies[CoverageCopy]):
    """The member id is kept for matching, as the SQL repository keeps its keyed hash."""

    async def find_by_member(self, payer_id: str, member_id: str) -> list[CoverageCopy]:
        return [c for c in self.rows.values() if c.payer_id == payer_id and c.member_id == member_id]

    async def save(self, coverage: CoverageCopy, now: datetime) -> None:
        kept = self.rows.get(coverage.coverage_id)
        member_id = coverage.member_id or (kept.member_id if kept else "")
        self.rows[coverage.coverage_id] = replace(coverage, member_id=member_id)


class FakeEncounters(InMemoryAggregates[Encounter]):
    noun = "encounter"

    async def find_imported(self, natural_key: str) -> UUID | None:
        return next(
            (
                e.id
                for e in self.rows.values()
                if natural_key and e.source.natural_key == natural_key and e.status != "voided"
            ),
            None,
        )

    async def held_for_patient(self, patient_id: UUID) -> list[Encounter]:
        return [
            copy.deepcopy(e) for e in self.rows.values() if e.status == "held" and e.details.patient_id == patient_id
        ]

    async def captured_same_day(self, patient_id: UUID, day: date, excluding: UUID | None) -> list[Encounter]:
        return [
            copy.deepcopy(e)
            for e in self.rows.values()
            if e.status == "captured"
            and e.details.patient_id == patient_id
            and e.details.date_of_service == day
            and e.id != excluding
        ]

    async def open_reviews(self, *, limit: int, offset: int, issue_code: str | None) -> list[Encounter]:
        waiting = [
            e
            for e in self.rows.values()
            if e.open_review is not None
            and (issue_code is None or any(i.code == issue_code for i in e.open_review.issues))
        ]
        waiting.sort(key=lambda e: e.open_review.opened_at if e.open_review else e.created_at)
        return [copy.deepcopy(e) for e in waiting[offset : offset + limit]]

    async def by_review(self, review_id: UUID, *, for_update: bool = False) -> Encounter | None:
        for encounter in self.rows.values():
            if any(review.id == review_id for review in encounter.reviews):
                return copy.deepcopy(encounter)
        return None

    async def repoint(self, merged_patient_id: UUID, surviving_patient_id: UUID) -> list[UUID]:
        moved = [e for e in self.rows.values() if e.details.patient_id == merged_patient_id]
        for stored in moved:
            encounter = copy.deepcopy(stored)
            encounter.details = replace(encounter.details, patient_id=surviving_patient_id)
            await self.save(encounter)
        return [encounter.id for encounter in moved]


class FakePrices:
    def __init__(self) -> None:
        self.entries: list[ChargemasterEntry] = chargemaster()
        self.contract: list[ContractRate] = contract_rates()

    async def chargemaster(self, codes: Iterable[str] | None = None) -> list[ChargemasterEntry]:
        wanted = set(codes) if codes is not None else None
        return [e for e in self.entries if wanted is None or e.code in wanted]

    async def replace_chargemaster(self, entries: list[ChargemasterEntry], now: datetime) -> None:
        self.entries = list(entries)

    async def rates(self, payer_id: str | None = None, codes: Iterable[str] | None = None) -> list[ContractRate]:
        wanted = set(codes) if codes is not None else None
        return [
            r
            for r in self.contract
            if (payer_id is None or r.payer_id == payer_id) and (wanted is None or r.code in wanted)
        ]

    async def replace_rates(self, payer_ids: set[str], rates: list[ContractRate], now: datetime) -> None:
        self.contract = [r for r in self.contract if r.payer_id not in payer_ids] + list(rates)


class FakeImports:
    def __init__(self) -> None:
        self.rows: dict[str, ImportRecord] = {}

    async def find(self, file_sha256: str) -> ImportRecord | None:
        return self.rows.get(file_sha256)

    async def add(self, record: ImportRecord) -> None:
        self.rows[record.file_sha256] = record


@dataclass
class FakeStore(RecordedStore):
    """What a fake unit of work commits into: shared by every unit of work of one test."""

    patients: FakePatients = field(default_factory=FakePatients)
    merges: InMemoryMerges = field(default_factory=InMemoryMerges)
    coverages: FakeCoverages = field(default_factory=FakeCoverages)
    encounters: FakeEncounters = field(default_factory=FakeEncounters)
    prices: FakePrices = field(default_factory=FakePrices)
    imports: FakeImports = field(default_factory=FakeImports)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork(RecordingUnitOfWork):
    """Writes through to the store at once, but publishes events and audit records only on commit; rolls the
    store back when left uncommitted."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__(store, "charge", Publication(CHARGE_EVENTS, event_mapper(FakeCatalog())))
        self.patients = store.patients
        self.merges = store.merges
        self.coverages = store.coverages
        self.encounters = self.tracked(store.encounters)
        self.prices = store.prices
        self.imports = store.imports


def registered(store: FakeStore, *, sex: str = "F", birth_date: date = date(1961, 5, 4)) -> tuple[UUID, UUID]:
    """A patient and an ACME01 coverage, as registration's events would have left them."""
    patient_id, coverage_id = uuid.uuid4(), uuid.uuid4()
    store.patients.rows[patient_id] = PatientCopy(patient_id, sex, birth_date)  # type: ignore[arg-type]
    store.coverages.rows[coverage_id] = CoverageCopy(
        coverage_id, patient_id, "ACME01", "ACM123456789", date(2026, 1, 1)
    )
    return patient_id, coverage_id


def encounter_body(patient_id: UUID | str, coverage_id: UUID | str | None, **changes: Any) -> dict[str, Any]:
    """The issue's example encounter: a 99214 for type 2 diabetes and hypertension."""
    body: dict[str, Any] = {
        "patient_id": str(patient_id),
        "coverage_id": str(coverage_id) if coverage_id else None,
        "date_of_service": "2026-11-02",
        "place_of_service": "11",
        "billing_provider_npi": BILLING_NPI,
        "rendering_provider_npi": BILLING_NPI,
        "diagnoses": ["E11.9", "I10"],
        "lines": [{"code": "99214", "modifiers": [], "units": 1, "diagnosis_pointers": [1, 2]}],
    }
    return body | changes


# ------------------------------------------------------------------ 837Ps as a practice-management system writes them

ENVELOPE = Envelope("PMSYSTEM", "CHARGE", 1, 1, 1, datetime(2026, 3, 4, 9, 5), usage="T")
HOME = Address("12 OAK AVE", "SPRINGFIELD", "IL", "627041234")
OFFICE = Address("1 MAIN ST", "SPRINGFIELD", "IL", "627011234")
BILLING = BillingProvider("ACME MEDICAL GROUP", "1234567893", "371234567", OFFICE)
PAYER = Payer("BIG HEALTH PLAN", "BHP01")
SUBSCRIBER = Member("DOE", "JANE", "W123456789", birth_date=date(1980, 1, 2), gender="F", address=HOME)
CHILD = Member("DOE", "TOM", birth_date=date(2015, 6, 1), gender="M", address=HOME)
RENDERING = Provider("SMITH", "1098765432", first_name="ANNA")
REFERRING = Provider("JONES", "1588667638", first_name="BOB")
FIRST_DAY = date(2026, 2, 27)
NEXT_DAY = date(2026, 3, 2)


def line(procedure: str = "99214", charge: str = "150.00", units: str = "1", **changes: Any) -> WrittenLine:
    return WrittenLine(procedure, Decimal(charge), Decimal(units), changes.pop("service_date", FIRST_DAY), **changes)


def claim(claim_id: str = "CLM1", **changes: Any) -> Claim:
    fields: dict[str, Any] = {"place_of_service": "11", "diagnoses": ("J449", "E119", "I10"), "lines": (line(),)}
    return Claim(claim_id, **(fields | changes))


def text_of(*claims: Claim, dependent: Dependent | None = None, **subscriber: Any) -> str:
    held = SubscriberClaims(SUBSCRIBER, PAYER, claims or (claim(),), dependent=dependent, **subscriber)
    batch = ProfessionalClaimBatch(
        "BATCH1",
        TradingPartner("PM SYSTEM", "PMSYSTEM"),
        Contact("EDI DESK", phone="2175550199"),
        TradingPartner("CHARGE", "CHARGE"),
        (ProviderClaims(BILLING, (held,)),),
    )
    return write_837p(batch, ENVELOPE)


# ------------------------------------------------------------------ the running application
# The real application (its lifespan included: migrations, broker link and relay) over a real database,
# through an in-process client. The broker is unreachable on purpose, so every event the service writes
# stays in its outbox for the test to read.


@dataclass
class ChargeApi(InProcessApp[Charge]):
    """Charge running in process; a coder's token unless a test names other roles."""

    @property
    def charge(self) -> Charge:
        return self.kernel

    async def feed(self, *events: IntegrationEvent) -> None:
        """Apply registration's events as the consumer does: in one unit of work."""
        event_handlers = handlers.event_handlers(self.charge.evaluator)
        async with self.charge.uow() as uow:
            for event in events:
                await event_handlers[type(event)](event, new_envelope(event, "registration"), uow)
            await uow.commit()


@contextlib.asynccontextmanager
async def running_charge(
    state_dir: Path, signing_keys: tuple[str, str], database_url: str = "", **settings: Any
) -> AsyncIterator[ChargeApi]:
    private_pem, public_pem = signing_keys
    config = in_process_settings(ChargeSettings, state_dir, public_pem, database_url, **settings)
    app = create_app(charge=bootstrap(config))
    async with serving(app, "http://charge.test") as client:
        yield ChargeApi(app, client, private_pem, app.state.charge, default_roles=("coder",))


def envelope(event: IntegrationEvent) -> EventEnvelope:
    return new_envelope(event, "registration")
