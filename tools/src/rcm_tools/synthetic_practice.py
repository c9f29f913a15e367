"""A whole synthetic practice for `make run`: four providers billing under one group, its price lists, a few
weeks of patients and coded visits, and the defects a real office's work carries, each visit knowing its own.

Everything follows from the seed: the same arguments give the same practice. The mixes are a small primary-care
office's: most adults commercially insured, everyone 65 or older on Medicare, some on Medicaid, about 15% with a
second coverage, about 8% paying for themselves, and children billed under a parent's plan with the parent as
guarantor. One provider (when asked for) bills the two highest office-visit levels far more often than the
others, the coding pattern a reviewer looks for.

Defects, at rates of a few percent each, are what the practice's staff must work on the running stack:

- ELIGIBILITY: the front desk registered a member id the payer does not know (the simulator's NOTFOUND
  convention) or an old card's whose plan has ended (TERM): the claim is held for COVERAGE_INACTIVE (or, if it
  went before the payer's 271 came, rejected A3:33 or denied CO-27) until the coverage is corrected.
- MISSING_AUTHORISATION: a lumbar MRI (72148) for a patient whose plan authorises it in advance, with none on
  file: the claim is held for PRIOR_AUTH; the retro-authorisation is recorded, or the claim goes under an
  override and the payer denies it CO-197, to be appealed or written off.
- CODING_ERROR: what charge's coding review holds: a header diagnosis (ICD10_NOT_BILLABLE), the highest visit
  level for a cold (REVIEW_HIGH_LEVEL_VISIT), modifier 25 with no procedure (REVIEW_MODIFIER_25).
- PAYER_DENIAL: Medicare's wellness visit (G0439) billed to a commercial plan, which does not cover it (CO-96):
  recoded as the plan's preventive visit and sent again, or moved to the patient under the waiver they signed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Final, Literal, TypeVar

from rcm_common.identifiers import npi_valid
from rcm_tools import practice
from rcm_tools.synthetic import PLANS, PayerPlan, SyntheticPatient, relative_of, synthetic_patients

T = TypeVar("T")


class PaymentBehaviour(StrEnum):
    PAYS_AT_ONCE = "pays_at_once"
    PAYMENT_PLAN = "payment_plan"
    NEVER_PAYS = "never_pays"


class Defect(StrEnum):
    ELIGIBILITY = "eligibility"
    MISSING_AUTHORISATION = "missing_authorisation"
    CODING_ERROR = "coding_error"
    PAYER_DENIAL = "payer_denial"


class Remedy(StrEnum):
    """What the practice's staff do about a visit's defect."""

    FIX_COVERAGE = "fix_coverage"  # correct the member id in registration
    RECORD_AUTHORISATION = "record_authorisation"  # the plan grants it retroactively
    APPEAL = "appeal"  # send without it, appeal the denial; the payer overturns it
    WRITE_OFF = "write_off"  # send without it, write the denial off
    CORRECT_AT_REVIEW = "correct_at_review"  # the coder fixes the coding in charge's review queue
    RECODE_AND_RESUBMIT = "recode_and_resubmit"  # correct the encounter after the denial: a replacement claim
    TRANSFER_TO_PATIENT = "transfer_to_patient"  # the patient signed a waiver for the service not covered


DEFECT_RATES: Final = {
    Defect.ELIGIBILITY: 0.04,  # of patients (all their visits carry it)
    Defect.MISSING_AUTHORISATION: 0.03,  # of visits, as the rest
    Defect.CODING_ERROR: 0.04,
    Defect.PAYER_DENIAL: 0.03,
}
BEHAVIOUR_SHARES: Final = {
    PaymentBehaviour.PAYS_AT_ONCE: 0.7,
    PaymentBehaviour.PAYMENT_PLAN: 0.2,
    PaymentBehaviour.NEVER_PAYS: 0.1,
}
SELF_PAY_SHARE: Final = 0.08
MEDICAID_SHARE: Final = 0.15
SECONDARY_SHARE: Final = 0.15
DEPENDANT_SHARE: Final = 0.12
NEW_PATIENT_SHARE: Final = 0.2
RETURN_SHARE: Final = 0.3
"""The chance that a visit is a patient's second or later in the period, once there are patients to return."""
COVERING_SHARE: Final = 0.1
"""The share of visits another provider sees while the patient's own is away."""
MEDICARE_AGE: Final = 65
APPOINTMENT_SHARE: Final = 0.15
APPOINTMENT_DAYS: Final = 10
COMMERCIAL: Final = ("ACME01", "SUMMT1")
"""The commercial plans: neither covers Medicare's wellness visit (G0439)."""

# ---------------------------------------------------------------- providers


@dataclass(frozen=True)
class Provider:
    first_name: str
    last_name: str
    npi: str
    taxonomy: str
    specialty: str
    sees_children: bool

    def directory_entry(self) -> dict[str, str]:
        """The provider as the claim service's `PUT /providers` lists rendering providers."""
        return {"last_name": self.last_name, "first_name": self.first_name, "npi": self.npi, "taxonomy": self.taxonomy}


def npi_with_check_digit(stem: str) -> str:
    """A nine-digit `stem` with the check digit that makes it a valid NPI (Luhn over 80840 + the NPI)."""
    return next(npi for npi in (stem + digit for digit in "0123456789") if npi_valid(npi))


PROVIDERS: Final = (
    Provider("Anna", "Whitfield", practice.RENDERING_NPI, "207Q00000X", "family medicine", sees_children=True),
    Provider("Rajesh", "Iyer", npi_with_check_digit("165298734"), "207R00000X", "internal medicine", False),
    Provider("Maria", "Delgado", npi_with_check_digit("178420961"), "363L00000X", "nurse practitioner", True),
    Provider("Thomas", "Becker", npi_with_check_digit("190354872"), "207Q00000X", "family medicine", True),
)

# ---------------------------------------------------------------- price lists

_MORE_PRICES: Final = """99202,,,145.00,New patient office visit (15-29 min)
99204,,,320.00,New patient office visit (45-59 min)
99205,,,420.00,New patient office visit (60-74 min)
99211,,,50.00,Established patient office visit (minimal)
99212,,,95.00,Established patient office visit (10-19 min)
99215,,,300.00,Established patient office visit (40-54 min)
99392,,,190.00,Preventive visit established patient age 1-4
99393,,,195.00,Preventive visit established patient age 5-11
99394,,,210.00,Preventive visit established patient age 12-17
99395,,,230.00,Preventive visit established patient age 18-39
99396,,,245.00,Preventive visit established patient age 40-64
G0439,,,260.00,Annual wellness visit subsequent
80053,,,55.00,Comprehensive metabolic panel
85025,,,40.00,Complete blood count with differential
84443,,,60.00,Thyroid stimulating hormone
71046,,,140.00,Chest X-ray 2 views
72148,,,900.00,MRI lumbar spine without contrast
20610,,,210.00,Arthrocentesis or injection major joint
J3301,,,6.00,Triamcinolone acetonide 10 mg
"""
CHARGEMASTER_CSV: Final = practice.CHARGEMASTER_CSV + _MORE_PRICES
"""The practice's chargemaster: the demo's, with every office-visit level, preventive visits, labs, imaging and a
joint injection."""

# Medicare's physician fee schedule for the codes it lists (the simulator's MCARE1 fees).
_MEDICARE_FEES: Final = {
    "99202": "71.32", "99203": "110.43", "99204": "165.50", "99205": "218.52", "99211": "23.38",
    "99212": "55.38", "99213": "90.08", "99214": "127.53", "99215": "179.76", "36415": "3.00", "80053": "10.56",
    "85025": "7.77", "93000": "16.08", "71046": "29.66", "70551": "220.18", "70553": "318.80", "72148": "214.56",
    "74177": "322.55", "97110": "29.18", "20610": "60.90", "G0439": "125.38", "J3301": "1.60",
}  # fmt: skip
# Each payer's contract: a share of Medicare's fee, else of the practice's charge for a code Medicare does not list.
_CONTRACTS: Final = {
    "MCARE1": ("1.00", "0.5"),
    "MCAID1": ("0.72", "0.4"),
    "ACME01": ("1.35", "0.6"),
    "SUMMT1": ("1.20", "0.55"),
}
PRIOR_AUTHORISATION_CODES: Final = {
    "ACME01": frozenset({"70551", "70552", "70553", "72148", "74177"}),
    "SUMMT1": frozenset({"70551", "70552", "70553", "72148", "74177", "20610"}),
}
"""The codes each payer authorises in advance (the claim service's payer directory says the same)."""


def chargemaster() -> dict[str, Decimal]:
    """The practice's charge per code."""
    rows = (line.split(",", 4) for line in CHARGEMASTER_CSV.strip().splitlines()[1:])
    return {code: Decimal(charge) for code, _modifier, _location, charge, _description in rows}


def contract_rates_csv() -> str:
    """Each payer's allowed amount per unit of every code: what its fee schedule pays, never above the charge,
    so a payment at the contract is never flagged as an underpayment."""
    rows = ["payer_id,code,allowed"]
    for code, charge in chargemaster().items():
        for payer_id, (of_medicare, of_charge) in _CONTRACTS.items():
            fee = _MEDICARE_FEES.get(code)
            allowed = Decimal(fee) * Decimal(of_medicare) if fee is not None else charge * Decimal(of_charge)
            rows.append(f"{payer_id},{code},{min(_cents(allowed), charge)}")
    return "\n".join(rows) + "\n"


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- patients and coverages


@dataclass(frozen=True)
class Subscriber:
    """The policy holder of a coverage the patient holds as a spouse or child."""

    first_name: str
    last_name: str
    birth_date: date
    sex: Literal["F", "M"]

    @classmethod
    def of(cls, person: SyntheticPatient) -> Subscriber:
        return cls(person.first_name, person.last_name, person.birth_date, person.sex)


@dataclass(frozen=True)
class Coverage:
    plan: PayerPlan
    member_id: str
    """The member id on the patient's current card."""
    registered_member_id: str
    """What the front desk registered: another id for a coverage with an eligibility defect."""
    order: Literal["primary", "secondary"]
    relationship: Literal["self", "spouse", "child"]
    effective_date: date
    group_number: str | None = None
    subscriber: Subscriber | None = None

    @property
    def payer_id(self) -> str:
        return self.plan.payer_id

    @property
    def misregistered(self) -> bool:
        return self.registered_member_id != self.member_id

    def body(self) -> dict[str, Any]:
        """The `POST /patients/{id}/coverages` body, as registered."""
        body: dict[str, Any] = {
            "payer_id": self.plan.payer_id,
            "payer_name": self.plan.payer_name,
            "plan_type": self.plan.plan_type,
            "member_id": self.registered_member_id,
            "relationship": self.relationship,
            "effective_date": self.effective_date.isoformat(),
            "order": self.order,
        }
        if self.group_number is not None:
            body["group_number"] = self.group_number
        if self.subscriber is not None:
            subscriber = self.subscriber
            body["subscriber"] = {
                "first_name": subscriber.first_name,
                "last_name": subscriber.last_name,
                "birth_date": subscriber.birth_date.isoformat(),
                "sex": subscriber.sex,
            }
        return body


@dataclass(frozen=True)
class Patient:
    key: str
    """The patient's name within the practice (P0001...): idempotency keys and reports use it, never PHI."""
    person: SyntheticPatient
    coverages: tuple[Coverage, ...]
    """Primary first; none for a patient paying for themself."""
    behaviour: PaymentBehaviour
    provider: Provider
    """The patient's own provider, who sees most of their visits."""
    new_to_practice: bool
    guarantor: SyntheticPatient | None = None
    """The parent who pays a dependant's bills (themself a patient of the practice)."""

    @property
    def primary(self) -> Coverage | None:
        return self.coverages[0] if self.coverages else None

    def age_on(self, day: date) -> int:
        return _age(self.person.birth_date, day)

    def registration_body(self) -> dict[str, Any]:
        """The `POST /patients` body: a dependant's names the parent as guarantor."""
        body = self.person.registration_body()
        if self.guarantor is not None:
            parent = self.guarantor.registration_body()
            body["guarantor"] = {
                "relationship": "parent",
                "first_name": parent["first_name"],
                "last_name": parent["last_name"],
                "birth_date": parent["birth_date"],
                "address": parent["address"],
                "phone": parent["phone"],
            }
        return body


def _age(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# ---------------------------------------------------------------- visits


@dataclass(frozen=True)
class Line:
    code: str
    pointers: tuple[int, ...] = (1,)
    modifiers: tuple[str, ...] = ()
    units: int = 1
    ndc: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "modifiers": list(self.modifiers),
            "units": self.units,
            "diagnosis_pointers": list(self.pointers),
        }
        if self.ndc is not None:
            body["ndc"] = self.ndc
        return body


@dataclass(frozen=True)
class Coding:
    diagnoses: tuple[str, ...]
    lines: tuple[Line, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(line.code for line in self.lines)

    @property
    def office_visit(self) -> str | None:
        """The office visit's E/M code (99202-99215), if the visit has one."""
        return next((code for code in self.codes if code in OFFICE_VISITS), None)

    def body(self) -> dict[str, Any]:
        return {"diagnoses": list(self.diagnoses), "lines": [line.body() for line in self.lines]}


@dataclass(frozen=True)
class Authorisation:
    """A payer's authorisation of the visit's services, for the coverage of that order (each payer that
    authorises a service in advance gives its own, a secondary payer too)."""

    order: Literal["primary", "secondary"]
    number: str
    procedure_codes: tuple[str, ...]
    start_date: date
    end_date: date

    def body(self, patient_id: str, coverage_id: str) -> dict[str, Any]:
        """The eligibility service's `POST /prior-authorizations` body."""
        return {
            "patient_id": patient_id,
            "coverage_id": coverage_id,
            "authorization_number": self.number,
            "procedure_codes": list(self.procedure_codes),
            "units_authorized": 1,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
        }


@dataclass(frozen=True)
class Visit:
    key: str
    patient: Patient
    day: date
    provider: Provider
    coded: Coding
    """What the coder captures."""
    recoded: Coding | None = None
    """The coding after the fix, for a coding error (at review) or a recode (after the payer's denial)."""
    new_patient: bool = False
    authorisations: tuple[Authorisation, ...] = ()
    """On file before the visit; or, for RECORD_AUTHORISATION, the one the plan grants after the claim is held."""
    defect: Defect | None = None
    remedy: Remedy | None = None
    review_issue: str | None = None
    """The issue charge's coding review holds a CODING_ERROR visit for."""

    @property
    def billed(self) -> Coding:
        """The coding the payer finally sees."""
        return self.recoded or self.coded

    @property
    def insured(self) -> bool:
        return self.patient.primary is not None

    def encounter_body(self, patient_id: str, coverage_id: str | None) -> dict[str, Any]:
        """The charge service's `POST /encounters` body: the visit at the office, billed by the group."""
        return {
            "patient_id": patient_id,
            "coverage_id": coverage_id,
            "date_of_service": self.day.isoformat(),
            "place_of_service": "11",
            "billing_provider_npi": practice.BILLING_NPI,
            "rendering_provider_npi": self.provider.npi,
            **self.coded.body(),
        }


OFFICE_VISITS: Final = frozenset({"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"})
HIGH_LEVELS: Final = frozenset({"99204", "99205", "99214", "99215"})

Audience = Literal["child", "adult", "senior"]
VisitKind = Literal["problem", "minor", "preventive", "wellness", "nurse"]


@dataclass(frozen=True)
class _Template:
    """A reason for a visit: its diagnoses, the services besides the visit itself, and how the visit is billed
    (an office visit at a level, capped at 4 for a self-limited problem; a preventive or wellness visit; none)."""

    diagnoses: tuple[str, ...]
    procedures: tuple[Line, ...]
    kind: VisitKind
    audiences: frozenset[Audience]
    weight: int
    visit_modifiers: tuple[str, ...] = ()


_ADULTS: Final[frozenset[Audience]] = frozenset({"adult", "senior"})
_EVERYONE: Final[frozenset[Audience]] = frozenset({"child", "adult", "senior"})
_KENALOG_NDC: Final = "00003029305"  # triamcinolone acetonide 40 mg/mL
_TEMPLATES: Final = (
    _Template(("I10",), (), "problem", _ADULTS, 12),
    _Template(("I10",), (Line("93000"),), "problem", _ADULTS, 3),
    _Template(("E11.9", "I10"), (Line("83036"), Line("36415")), "problem", _ADULTS, 10),
    _Template(("E78.5", "R73.03"), (Line("80053", (1, 2)), Line("36415")), "problem", _ADULTS, 7),
    _Template(("E03.9",), (Line("84443"), Line("36415")), "problem", _ADULTS, 3),
    _Template(("R53.83", "D64.9"), (Line("85025", (1, 2)), Line("36415")), "problem", _ADULTS, 3),
    _Template(("R00.2",), (Line("93000"),), "problem", _ADULTS, 3),
    _Template(("J20.9", "R05.9"), (Line("71046", (1, 2)),), "problem", _ADULTS, 3),
    _Template(("M54.50",), (), "problem", _ADULTS, 5),
    _Template(("F41.1",), (), "problem", _ADULTS, 3),
    _Template(("F32.A",), (), "problem", _ADULTS, 2),
    _Template(("J44.9",), (), "problem", frozenset({"senior"}), 3),
    _Template(
        ("M17.11",),
        (Line("20610", modifiers=("RT",)), Line("J3301", units=4, ndc=_KENALOG_NDC)),
        "problem",
        _ADULTS,
        2,
        visit_modifiers=("25",),
    ),
    _Template(("J45.909",), (), "problem", frozenset({"child", "adult"}), 2),
    _Template(("J06.9",), (), "minor", _EVERYONE, 6),
    _Template(("J02.9",), (), "minor", _EVERYONE, 3),
    _Template(("H66.90",), (), "minor", frozenset({"child"}), 4),
    _Template(("Z00.129",), (), "preventive", frozenset({"child"}), 4),
    _Template(("Z00.00",), (), "preventive", frozenset({"adult"}), 3),
    _Template(("Z00.00",), (), "wellness", frozenset({"senior"}), 4),
    _Template(("Z23",), (Line("90686"), Line("90471")), "nurse", _EVERYONE, 3),
)
_NOT_COVERED_WELLNESS: Final = Coding(("Z00.00",), (Line("G0439"),))

# The office-visit level drawn (1 minimal to 5 high); a new patient has no level 1 (99201 was deleted in 2021).
_TYPICAL_LEVELS: Final = {1: 0.03, 2: 0.12, 3: 0.50, 4: 0.30, 5: 0.05}
_UPCODING_LEVELS: Final = {2: 0.05, 3: 0.20, 4: 0.50, 5: 0.25}


def _office_visit(level: int, *, new_patient: bool) -> str:
    return f"9920{max(level, 2)}" if new_patient else f"9921{level}"


def _preventive_visit(age: int) -> str:
    """The preventive-medicine code for an established patient of that age."""
    for code, oldest in (("99392", 4), ("99393", 11), ("99394", 17), ("99395", 39)):
        if age <= oldest:
            return code
    return "99396"


# ---------------------------------------------------------------- the practice


@dataclass(frozen=True)
class SyntheticPractice:
    seed: int
    today: date
    providers: tuple[Provider, ...]
    upcoder: Provider | None
    patients: tuple[Patient, ...]
    visits: tuple[Visit, ...]
    appointments: tuple[Appointment, ...]
    """Visits booked for the coming days: eligibility checks their coverage beforehand."""
    chargemaster_csv: str
    contract_rates_csv: str

    def provider_directory(self) -> dict[str, Any]:
        """The claim service's `PUT /providers` document: the group, its four providers, its hospital."""
        return practice.PROVIDER_DIRECTORY | {"providers": [p.directory_entry() for p in self.providers]}

    def visits_with(self, defect: Defect) -> tuple[Visit, ...]:
        return tuple(visit for visit in self.visits if visit.defect is defect)


def synthetic_practice(
    *, seed: int, days: int, visits_per_day: int, today: date, upcoder: bool = True
) -> SyntheticPractice:
    """The practice's last `days` working days before `today` (the services' day, in UTC), about `visits_per_day`
    visits each."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    upcoding = rng.choice(PROVIDERS) if upcoder else None
    past_days = _weekdays(today, days, step=-1)[::-1]  # oldest first
    schedule, patient_count = _schedule(rng, past_days, visits_per_day)
    patients = _patients(rng, patient_count, seed=seed, today=today)
    by_slot = rng.sample(patients, len(patients))
    visits = _visits(rng, [(day, by_slot[slot]) for day, slot in schedule], upcoding, seed=seed)
    return SyntheticPractice(
        seed=seed,
        today=today,
        providers=PROVIDERS,
        upcoder=upcoding,
        patients=tuple(patients),
        visits=tuple(_with_defects(rng, visits, seed=seed)),
        appointments=tuple(_appointments(rng, patients, today)),
        chargemaster_csv=CHARGEMASTER_CSV,
        contract_rates_csv=contract_rates_csv(),
    )


@dataclass(frozen=True)
class Appointment:
    """A visit booked for a coming working day (the services take no appointment in the past)."""

    patient: Patient
    day: date

    def body(self, patient_id: str, coverage_id: str) -> dict[str, Any]:
        """The eligibility service's `POST /appointments` body: an office visit (service type 30)."""
        return {"patient_id": patient_id, "coverage_id": coverage_id, "date_of_service": self.day.isoformat(),
                "service_type": "30"}  # fmt: skip


def _appointments(rng: random.Random, patients: list[Patient], today: date) -> list[Appointment]:
    """A share of the insured patients booked on one of the next ten working days (drawn last, so the rest of the
    practice is as it was without them)."""
    days = _weekdays(today, APPOINTMENT_DAYS, step=1)
    insured = [patient for patient in patients if patient.primary is not None and not patient.primary.misregistered]
    booked = rng.sample(insured, round(len(insured) * APPOINTMENT_SHARE))
    return sorted((Appointment(patient, rng.choice(days)) for patient in booked), key=lambda a: (a.day, a.patient.key))


def _weekdays(today: date, days: int, *, step: int) -> list[date]:
    """The `days` weekdays after today (`step` 1) or before it (`step` -1), nearest first."""
    found: list[date] = []
    day = today
    while len(found) < days:
        day += timedelta(days=step)
        if day.weekday() < 5:
            found.append(day)
    return found


def _schedule(rng: random.Random, days: list[date], visits_per_day: int) -> tuple[list[tuple[date, int]], int]:
    """Each visit's day and patient slot (a returning patient's, never twice on one day, or a new slot's), and the
    number of slots."""
    schedule: list[tuple[date, int]] = []
    slots = 0
    for day in days:
        jitter = rng.choice((-1, 0, 0, 1)) if visits_per_day > 1 else 0
        today: set[int] = set()
        for _ in range(visits_per_day + jitter):
            returning = [slot for slot in range(slots) if slot not in today]
            if returning and rng.random() < RETURN_SHARE:
                slot = rng.choice(returning)
            else:
                slot, slots = slots, slots + 1
            today.add(slot)
            schedule.append((day, slot))
    return schedule, slots


def _chosen(rng: random.Random, candidates: Sequence[T], share: float, total: int) -> list[T]:
    """`share` of `total`, rounded (at least one when there is anyone to choose), drawn from the candidates."""
    wanted = max(1, round(share * total)) if candidates else 0
    return rng.sample(list(candidates), min(wanted, len(candidates)))


def _patients(rng: random.Random, count: int, *, seed: int, today: date) -> list[Patient]:
    """Adults from the demo's generator and their dependants, each with coverages, a provider and a behaviour."""
    adults = synthetic_patients(count - round(count * DEPENDANT_SHARE), seed=seed, plan_year=today.year)
    families = _families(rng, adults, count - len(adults), today)
    member_ids = _member_ids(seed)
    plans = _plans(rng, adults, [parent for parent, _ in families], count=count, today=today)
    behaviours = _behaviours(rng, adults)
    patients: list[tuple[SyntheticPatient, tuple[Coverage, ...], PaymentBehaviour, SyntheticPatient | None]] = []
    for person in adults:
        coverages = _coverages(rng, person, plans[id(person)], member_ids, today=today)
        patients.append((person, coverages, behaviours[id(person)], None))
    coverage_of = {id(person): coverages for person, coverages, _, _ in patients}
    for parent, kid in families:
        coverages = _dependant_coverage(coverage_of[id(parent)][0], kid, parent, member_ids)
        patients.append((kid, coverages, behaviours[id(parent)], parent))
    new = {id(person) for person, *_ in _chosen(rng, patients, NEW_PATIENT_SHARE, len(patients))}
    own_provider = _panels(rng, [person for person, *_ in patients], today)
    practice_patients = [
        Patient(
            key=f"P{index:04d}",
            person=person,
            coverages=coverages,
            behaviour=behaviour,
            provider=own_provider[id(person)],
            new_to_practice=id(person) in new,
            guarantor=guarantor,
        )
        for index, (person, coverages, behaviour, guarantor) in enumerate(patients, 1)
    ]
    return _misregistered(rng, practice_patients)


def _families(
    rng: random.Random, adults: list[SyntheticPatient], children: int, today: date
) -> list[tuple[SyntheticPatient, SyntheticPatient]]:
    """Each child with their parent (an adult of 25 to 55, of one child or a few): none when no adult is of an age
    to be a parent. No child shares a name and birth date with another patient, as registration would refuse."""
    parents = [person for person in adults if 25 <= _age(person.birth_date, today) <= 55]
    taken = {(person.first_name, person.last_name, person.birth_date) for person in adults}
    families: list[tuple[SyntheticPatient, SyntheticPatient]] = []
    while parents and len(families) < children:
        parent = rng.choice(parents)
        kid = _child(parent, rng, today)
        if (identity := (kid.first_name, kid.last_name, kid.birth_date)) not in taken:
            taken.add(identity)
            families.append((parent, kid))
    return families


def _child(parent: SyntheticPatient, rng: random.Random, today: date) -> SyntheticPatient:
    """A child of 2 to 17, born when the parent was at least 18."""
    youngest = today - timedelta(days=2 * 366)
    oldest = max(today - timedelta(days=17 * 365), parent.birth_date + timedelta(days=18 * 366))
    born = oldest + timedelta(days=rng.randrange(max(1, (youngest - oldest).days)))
    return relative_of(parent, rng, birth_date=born)


def _member_ids(seed: int) -> Callable[[PayerPlan], str]:
    """A new member id for each coverage of the practice, unique to it and its seed."""
    issued = iter(range(1, 1_000_000))
    return lambda plan: f"{plan.payer_id[:3]}{seed % 1000:03d}{next(issued):06d}"


_PlanChoice = tuple[str | None, str | None]  # (primary payer, secondary payer); (None, None): self-pay


def _plans(
    rng: random.Random,
    adults: list[SyntheticPatient],
    parents: list[SyntheticPatient],
    *,
    count: int,
    today: date,
) -> dict[int, _PlanChoice]:
    """Each adult's payers: Medicare from 65; of the others some self-pay (never a parent), some Medicaid, the
    rest Acme or Summit; a second coverage for some (Medicaid or a supplement beside Medicare, a spouse's
    employer plan beside a commercial one; never for a parent, whose dependants are billed under their plan)."""
    seniors = [p for p in adults if _age(p.birth_date, today) >= MEDICARE_AGE]
    younger = [p for p in adults if _age(p.birth_date, today) < MEDICARE_AGE]
    parent_ids = {id(p) for p in parents}
    self_pay = _chosen(rng, [p for p in younger if id(p) not in parent_ids], SELF_PAY_SHARE, count)
    rest = [p for p in younger if p not in self_pay]
    medicaid = _chosen(rng, rest, MEDICAID_SHARE, count)
    choice: dict[int, _PlanChoice] = {id(p): ("MCARE1", None) for p in seniors}
    choice |= {id(p): (None, None) for p in self_pay}
    choice |= {id(p): ("MCAID1", None) for p in medicaid}
    choice |= {id(p): ("ACME01" if rng.random() < 0.6 else "SUMMT1", None) for p in rest if p not in medicaid}
    commercial = [p for p in rest if choice[id(p)][0] in COMMERCIAL and id(p) not in parent_ids]
    for person in _chosen(rng, seniors + commercial, SECONDARY_SHARE, count):
        primary = choice[id(person)][0]
        if primary == "MCARE1":
            second = rng.choice(("MCAID1", "ACME01"))  # dual eligible, or a supplement
        else:
            second = "SUMMT1" if primary == "ACME01" else "ACME01"  # a spouse's employer plan
        choice[id(person)] = (primary, second)
    return choice


def _coverages(
    rng: random.Random,
    person: SyntheticPatient,
    plans: _PlanChoice,
    member_ids: Callable[[PayerPlan], str],
    *,
    today: date,
) -> tuple[Coverage, ...]:
    """The adult's own coverage, and a second one: their own beside Medicare, a spouse's beside another plan."""
    primary, secondary = plans
    if primary is None:
        return ()
    since = date(today.year - 1, 1, 1)
    coverages = [_own(rng, PLANS[primary], "primary", member_ids, since)]
    if secondary is not None:
        second = _own(rng, PLANS[secondary], "secondary", member_ids, since)
        if primary != "MCARE1":
            sex: Literal["F", "M"] = "M" if person.sex == "F" else "F"
            born = person.birth_date + timedelta(days=rng.randrange(-1500, 1500))
            spouse = relative_of(person, rng, birth_date=born, sex=sex)
            second = replace(second, relationship="spouse", subscriber=Subscriber.of(spouse))
        coverages.append(second)
    return tuple(coverages)


def _own(
    rng: random.Random,
    plan: PayerPlan,
    order: Literal["primary", "secondary"],
    member_ids: Callable[[PayerPlan], str],
    since: date,
) -> Coverage:
    member_id = member_ids(plan)
    group = f"G{rng.randrange(10000, 100000)}" if plan.plan_type in ("PPO", "HMO") else None
    return Coverage(plan, member_id, member_id, order, "self", since, group_number=group)


def _dependant_coverage(
    parents: Coverage, kid: SyntheticPatient, parent: SyntheticPatient, member_ids: Callable[[PayerPlan], str]
) -> tuple[Coverage, ...]:
    """A child is covered by the parent's employer plan under the parent's member id, or by Medicaid under an id
    of their own; from birth, or from when the parent's coverage began."""
    since = max(parents.effective_date, kid.birth_date)
    if parents.payer_id == "MCAID1":
        member_id = member_ids(parents.plan)
        return (Coverage(parents.plan, member_id, member_id, "primary", "self", since),)
    child = Coverage(
        parents.plan, parents.member_id, parents.member_id, "primary", "child", since,
        group_number=parents.group_number, subscriber=Subscriber.of(parent),
    )  # fmt: skip
    return (child,)


def _behaviours(rng: random.Random, adults: list[SyntheticPatient]) -> dict[int, PaymentBehaviour]:
    """70% pay at once, 20% on a plan, 10% never; a dependant's bills go to the parent, who pays as they do."""
    shuffled = rng.sample(adults, len(adults))
    behaviours: dict[int, PaymentBehaviour] = {}
    start = 0
    for behaviour, share in BEHAVIOUR_SHARES.items():  # the last, never paying, takes whoever is left
        end = len(shuffled) if behaviour is PaymentBehaviour.NEVER_PAYS else start + round(share * len(shuffled))
        behaviours |= {id(person): behaviour for person in shuffled[start:end]}
        start = end
    return behaviours


def _panels(rng: random.Random, people: list[SyntheticPatient], today: date) -> dict[int, Provider]:
    """Each patient's own provider: of those who see patients of their age, one with the smallest panel so far (a
    practice spreads its patients), so every provider sees enough visits for the coding-pattern signal to speak."""
    sizes = dict.fromkeys(PROVIDERS, 0)
    own = {}
    for person in people:
        eligible = _providers_for(_age(person.birth_date, today))
        smallest = min(sizes[provider] for provider in eligible)
        provider = rng.choice([p for p in eligible if sizes[p] == smallest])
        sizes[provider] += 1
        own[id(person)] = provider
    return own


def _providers_for(age: int) -> list[Provider]:
    return [provider for provider in PROVIDERS if age >= 18 or provider.sees_children]


def _misregistered(rng: random.Random, patients: list[Patient]) -> list[Patient]:
    """Some adults with one coverage of their own were registered under a member id the payer does not know
    (a typo: the simulator's NOTFOUND) or an old card's whose plan has ended (TERM)."""
    candidates = [
        p for p in patients
        if len(p.coverages) == 1 and p.coverages[0].relationship == "self" and p.guarantor is None
        and not any(other.guarantor is p.person for other in patients)
    ]  # fmt: skip
    wrong = {p.key for p in _chosen(rng, candidates, DEFECT_RATES[Defect.ELIGIBILITY], len(patients))}
    result = []
    for number, patient in enumerate(patients):
        if patient.key in wrong:
            coverage = patient.coverages[0]
            prefix = "NOTFOUND" if number % 2 else "TERM"
            patient = replace(patient, coverages=(replace(coverage, registered_member_id=prefix + coverage.member_id),))
        result.append(patient)
    return result


def _visits(
    rng: random.Random, schedule: list[tuple[date, Patient]], upcoder: Provider | None, *, seed: int
) -> list[Visit]:
    """Each scheduled visit coded: its reason drawn for the patient's age and plan, a new patient's first visit
    a problem visit at a new-patient level, a preventive or wellness visit at most once a patient."""
    seen: set[str] = set()
    checked_up: set[str] = set()
    visits = []
    for number, (day, patient) in enumerate(schedule, 1):
        new_patient = patient.new_to_practice and patient.key not in seen
        seen.add(patient.key)
        provider = patient.provider
        if rng.random() < COVERING_SHARE:
            provider = rng.choice(_providers_for(patient.age_on(day)))
        template = _template(rng, patient, day, new_patient=new_patient, checked_up=patient.key in checked_up)
        if template.kind in ("preventive", "wellness"):
            checked_up.add(patient.key)
        coding = _coding(rng, template, patient, day, new_patient=new_patient, upcoding=provider == upcoder)
        key = f"V{number:04d}"
        visits.append(
            Visit(key, patient, day, provider, coding, new_patient=new_patient,
                  authorisations=_authorisations_needed(coding, patient, day, seed=seed, key=key))
        )  # fmt: skip
    return visits


def _audience(patient: Patient, day: date) -> Audience:
    age = patient.age_on(day)
    return "child" if age < 18 else "senior" if age >= MEDICARE_AGE else "adult"


def _template(rng: random.Random, patient: Patient, day: date, *, new_patient: bool, checked_up: bool) -> _Template:
    audience = _audience(patient, day)
    primary = patient.primary
    fitting = [
        t for t in _TEMPLATES
        if audience in t.audiences
        and not (new_patient and t.kind not in ("problem", "minor"))
        and not (checked_up and t.kind in ("preventive", "wellness"))
        and not (t.kind == "wellness" and (primary is None or primary.payer_id != "MCARE1"))
    ]  # fmt: skip
    return rng.choices(fitting, weights=[t.weight for t in fitting])[0]


def _coding(
    rng: random.Random, template: _Template, patient: Patient, day: date, *, new_patient: bool, upcoding: bool
) -> Coding:
    diagnoses = template.diagnoses
    visit: list[Line] = []
    if template.kind in ("problem", "minor"):
        levels = _UPCODING_LEVELS if upcoding else _TYPICAL_LEVELS
        level = rng.choices(list(levels), weights=list(levels.values()))[0]
        if template.kind == "minor":
            level = min(level, 4)  # a cold rarely supports the highest level
        pointers = tuple(range(1, min(len(diagnoses), 4) + 1))
        visit = [Line(_office_visit(level, new_patient=new_patient), pointers, template.visit_modifiers)]
    elif template.kind == "preventive":
        visit = [Line(_preventive_visit(patient.age_on(day)))]
    elif template.kind == "wellness":
        visit = [Line("G0439")]
    return Coding(diagnoses, (*visit, *template.procedures))


def _authorisations_needed(
    coding: Coding, patient: Patient, day: date, *, seed: int, key: str
) -> tuple[Authorisation, ...]:
    """The authorisations the front desk obtains before the visit: one from each of the patient's payers that
    authorises one of its services in advance."""
    authorisations = []
    for coverage in patient.coverages:
        codes = tuple(code for code in coding.codes if code in PRIOR_AUTHORISATION_CODES.get(coverage.payer_id, ()))
        if codes:
            number = f"PA{seed % 1000:03d}{key}{coverage.order[0].upper()}"
            valid = (day - timedelta(days=7), day + timedelta(days=30))
            authorisations.append(Authorisation(coverage.order, number, codes, *valid))
    return tuple(authorisations)


# ---------------------------------------------------------------- defects


def _with_defects(rng: random.Random, visits: list[Visit], *, seed: int) -> list[Visit]:
    """The visits with their defects: each visit carries at most one."""
    visits = [
        replace(v, defect=Defect.ELIGIBILITY, remedy=Remedy.FIX_COVERAGE) if _misregistered_patient(v) else v
        for v in visits
    ]
    visits = _missing_authorisation(rng, visits, seed=seed)
    return _coding_error(rng, _not_covered_service(rng, visits))


def _misregistered_patient(visit: Visit) -> bool:
    primary = visit.patient.primary
    return primary is not None and primary.misregistered


def _simple_adult(visit: Visit, payers: Iterable[str]) -> bool:
    """An adult's visit with no defect yet, billed to one of `payers` alone, no dependant of theirs involved."""
    patient = visit.patient
    primary = patient.primary
    return (
        visit.defect is None and primary is not None and primary.payer_id in payers and len(patient.coverages) == 1
        and primary.relationship == "self" and patient.guarantor is None and patient.age_on(visit.day) >= 18
    )  # fmt: skip


def _replace_chosen(
    rng: random.Random,
    visits: list[Visit],
    candidates: list[Visit],
    defect: Defect,
    change: Callable[[Visit, int], Visit],
) -> list[Visit]:
    chosen = {v.key: n for n, v in enumerate(_chosen(rng, candidates, DEFECT_RATES[defect], len(visits)))}
    return [change(v, chosen[v.key]) if v.key in chosen else v for v in visits]


def _missing_authorisation(rng: random.Random, visits: list[Visit], *, seed: int) -> list[Visit]:
    """A lumbar MRI for a plan that authorises it in advance, with none on file; in turn appealed, recorded
    after the hold (the plan grants it retroactively), and written off."""
    remedies = (Remedy.APPEAL, Remedy.RECORD_AUTHORISATION, Remedy.WRITE_OFF)
    candidates = [
        v for v in visits
        if _simple_adult(v, PRIOR_AUTHORISATION_CODES) and not v.authorisations and v.coded.office_visit
    ]  # fmt: skip

    def change(visit: Visit, number: int) -> Visit:
        """The visit, at the level it was billed, found a lumbar radiculopathy and ordered the MRI."""
        remedy = remedies[number % len(remedies)]
        office_visit = next(line for line in visit.coded.lines if line.code in OFFICE_VISITS)
        coding = Coding(("M54.16",), (Line(office_visit.code), Line("72148")))
        granted = _authorisations_needed(coding, visit.patient, visit.day, seed=seed, key=visit.key)
        authorisations = granted if remedy is Remedy.RECORD_AUTHORISATION else ()
        return replace(visit, coded=coding, authorisations=authorisations, defect=Defect.MISSING_AUTHORISATION,
                       remedy=remedy)  # fmt: skip

    return _replace_chosen(rng, visits, candidates, Defect.MISSING_AUTHORISATION, change)


def _not_covered_service(rng: random.Random, visits: list[Visit]) -> list[Visit]:
    """Medicare's wellness visit billed to a commercial plan, which denies it as not covered; in turn recoded as
    the plan's preventive visit, and moved to the patient under their waiver. At most one a patient, and never
    beside a preventive visit of theirs."""
    remedies = (Remedy.RECODE_AND_RESUBMIT, Remedy.TRANSFER_TO_PATIENT)
    checked_up = {v.patient.key for v in visits if v.coded.codes[0] in ("G0439", *_PREVENTIVE)}
    candidates = list(
        {
            v.patient.key: v for v in visits
            if _simple_adult(v, COMMERCIAL) and not v.new_patient and v.patient.key not in checked_up
        }.values()
    )  # fmt: skip

    def change(visit: Visit, number: int) -> Visit:
        preventive = Coding(("Z00.00",), (Line(_preventive_visit(visit.patient.age_on(visit.day))),))
        remedy = remedies[number % len(remedies)]
        recoded = preventive if remedy is Remedy.RECODE_AND_RESUBMIT else None
        return replace(visit, coded=_NOT_COVERED_WELLNESS, recoded=recoded, defect=Defect.PAYER_DENIAL, remedy=remedy)

    return _replace_chosen(rng, visits, candidates, Defect.PAYER_DENIAL, change)


_PREVENTIVE: Final = ("99392", "99393", "99394", "99395", "99396")
_MINOR_DIAGNOSES: Final = ("J06.9", "J02.9", "H66.90")


def _coding_error(rng: random.Random, visits: list[Visit]) -> list[Visit]:
    """A coding error charge's review holds: the highest level for a cold, a header diagnosis, or modifier 25
    with no procedure; the coder corrects it to the visit's true coding."""
    candidates = [v for v in visits if v.defect is None and v.coded.office_visit is not None and _errors_possible(v)]

    def change(visit: Visit, _number: int) -> Visit:
        issue, coded = rng.choice(_errors_possible(visit))
        return replace(visit, coded=coded, recoded=visit.coded, defect=Defect.CODING_ERROR,
                       remedy=Remedy.CORRECT_AT_REVIEW, review_issue=issue)  # fmt: skip

    return _replace_chosen(rng, visits, candidates, Defect.CODING_ERROR, change)


def _errors_possible(visit: Visit) -> list[tuple[str, Coding]]:
    """The coding errors this visit could carry, each with charge's issue code and the coding as miscoded."""
    coding = visit.coded
    errors = []
    dotted = [n for n, code in enumerate(coding.diagnoses) if "." in code]
    if dotted:
        header = list(coding.diagnoses)
        header[dotted[0]] = header[dotted[0]].split(".")[0]
        errors.append(("ICD10_NOT_BILLABLE", replace(coding, diagnoses=tuple(header))))
    if coding.diagnoses[0] in _MINOR_DIAGNOSES and len(coding.diagnoses) == 1:
        top = "99205" if visit.new_patient else "99215"
        errors.append(("REVIEW_HIGH_LEVEL_VISIT", _with_visit_line(coding, lambda line: replace(line, code=top))))
    if len(coding.lines) == 1 and not coding.lines[0].modifiers:
        errors.append(("REVIEW_MODIFIER_25", _with_visit_line(coding, lambda line: replace(line, modifiers=("25",)))))
    return errors


def _with_visit_line(coding: Coding, change: Callable[[Line], Line]) -> Coding:
    return replace(coding, lines=tuple(change(line) if line.code in OFFICE_VISITS else line for line in coding.lines))
