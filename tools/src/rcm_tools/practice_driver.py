"""Drive a synthetic practice's whole revenue cycle through the running stack, as its staff would, over the
services' HTTP APIs only and on the services' own clock.

The front desk registers the patients and their coverages (secondary ones, and dependants with their parent as
guarantor) and records the authorisations it obtained; a coder captures the visits and works charge's coding
review queue; billers work the claim service's queues until every claim is decided: scrub holds and rejections
fixed where the cause is (a coverage corrected in registration, a retro-authorisation recorded, an override
where the claim goes without one), denials appealed, corrected, moved to the patient or written off,
underpayments accepted. What waits for the calendar is asked for now: the simulated payers pay on a payment run,
decide appeals when asked, and collections runs its daily cycle on demand. Secondary claims follow the primary's
payment by themselves. Finally each guarantor pays as they do: at once, on a plan, or never (their account
placed with the agency).

Creates carry idempotency keys derived from the practice's seed (and its day), so a request sent again after a
lost answer creates nothing twice. Every wait is bounded, and a wait that runs out names what did not arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Self, TypeVar

import httpx

from rcm_tools.end_to_end import CSV, PAYERS, change_claim, client, simulator
from rcm_tools.errors import ToolError
from rcm_tools.progress import Progress
from rcm_tools.stack import LocalStack
from rcm_tools.synthetic_practice import (
    Appointment,
    Authorisation,
    Defect,
    Patient,
    PaymentBehaviour,
    Remedy,
    SyntheticPractice,
    Visit,
)

T = TypeVar("T")

CONCURRENCY: Final = 6
"""Requests in flight at once: enough to keep every service busy, few enough for SQLite's one writer."""
POLL_SECONDS: Final = 0.5
STAGE_SECONDS: Final = 180.0
"""How long any one wait may take before the drive gives up, naming what did not arrive."""
CLAIMS_SECONDS: Final = 270.0
"""How long the claims may take to be decided, rounds of denials, appeals and secondary claims included."""
_RETRYABLE: Final = frozenset({502, 503, 504})
_ATTEMPTS: Final = 4
_IDEMPOTENCY_NAMESPACE: Final = uuid.UUID("0b6a2f7e-3f0a-4c1e-9d8e-6c1f1a0e5b42")
_FINAL: Final = frozenset({"closed", "replaced", "voided"})
_NOT_YET_KNOWN: Final = frozenset({"PATIENT_UNKNOWN", "COVERAGE_UNKNOWN"})
_MINIMUM_INSTALLMENT: Final = Decimal("10.00")  # collections' least installment
_MONTHLY_INSTALLMENT: Final = Decimal("50.00")  # what a plan asks a month, about: two to six months
_DIGITS_AS_LETTERS: Final = str.maketrans("0123456789", "ghijklmnop")
COPAY_AT_VISIT: Final = {"ACME01": Decimal("25.00"), "SUMMT1": Decimal("15.00"), "MCAID1": Decimal("3.00")}
"""The plans' office-visit copays (the simulated payers' benefits), taken at the front desk."""
COPAY_CODES: Final = frozenset({"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"})
_DENIAL_OF: Final = {
    # The payer's denial a defect earns (a coding error is caught in charge's review: the payer never sees it).
    Defect.ELIGIBILITY: "CO-27",  # an ended plan's member id, when the claim went before the payer's 271 came
    Defect.MISSING_AUTHORISATION: "CO-197",
    Defect.PAYER_DENIAL: "CO-96",
}


class PracticeDriveError(ToolError):
    """A service refused what the practice asked, or what the practice waits for did not arrive in time."""


@dataclass(frozen=True)
class DriveSummary:
    """What the drive did, stage by stage, and the ids a report may look up."""

    patients: int
    coverages: int
    visits: int
    coding_corrections: int
    claims_submitted: int
    claims_paid: int
    claims_denied: int
    claims_appealed: int
    secondary_claims: int
    secondary_claims_paid: int
    statements: int
    patient_payments: int
    copays_at_visit: int
    appointments: int
    payment_plans: int
    placements: int
    upcoder_npi: str | None
    patient_ids: Mapping[PaymentBehaviour, tuple[str, ...]]
    encounter_ids: Mapping[Defect, tuple[str, ...]]
    """The encounters of the visits carrying each defect."""
    claim_ids: tuple[str, ...]
    account_ids: tuple[str, ...]


async def drive_practice(stack: LocalStack, practice: SyntheticPractice, progress: Progress) -> DriveSummary:
    """Push the practice's whole revenue cycle through the running stack and say what happened."""
    async with _Staff.at(stack, practice, progress) as staff:
        await staff.set_up_practice()
        await staff.register_patients()
        await staff.book_appointments()
        await staff.capture_visits()
        await staff.work_coding_review()
        await staff.settle_claims()
        await staff.bill_patients()
        return await staff.summary()


@dataclass
class _Clients:
    desk: httpx.AsyncClient  # registration
    authorisations: httpx.AsyncClient  # eligibility, by the front desk
    coder: httpx.AsyncClient
    charge_admin: httpx.AsyncClient
    claim_admin: httpx.AsyncClient
    biller: httpx.AsyncClient
    collector: httpx.AsyncClient
    cashier: httpx.AsyncClient  # collections, by the front desk
    payers: httpx.AsyncClient  # the clearinghouse simulator


@dataclass
class _Staff:
    """The practice's staff at work on the stack, and what they have learnt of it (the ids it gave)."""

    practice: SyntheticPractice
    progress: Progress
    http: _Clients
    patient_ids: dict[str, str] = field(default_factory=dict)
    coverage_ids: dict[tuple[str, str], str] = field(default_factory=dict)  # (patient key, order) -> id
    encounter_ids: dict[str, str] = field(default_factory=dict)  # visit key -> id
    visit_of: dict[str, Visit] = field(default_factory=dict)  # encounter id -> visit
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)  # our claims as last listed, by id
    done: set[str] = field(default_factory=set)  # what was done once and must not be done again
    accounts: dict[str, str] = field(default_factory=dict)  # account id -> the patient key of one of its patients
    coding_corrections: int = 0
    patient_payments: int = 0
    appointments: int = 0
    copays: int = 0
    payment_plans: int = 0
    placements: int = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def at(cls, stack: LocalStack, practice: SyntheticPractice, progress: Progress) -> AsyncIterator[Self]:
        async with contextlib.AsyncExitStack() as opened:

            async def staff(service: str, role: str) -> httpx.AsyncClient:
                return await opened.enter_async_context(client(stack, service, role, subject=f"practice-{role}"))

            http = _Clients(
                desk=await staff("registration", "front_desk"),
                authorisations=await staff("eligibility", "front_desk"),
                coder=await staff("charge", "coder"),
                charge_admin=await staff("charge", "admin"),
                claim_admin=await staff("claim", "admin"),
                biller=await staff("claim", "biller"),
                collector=await staff("collections", "collector"),
                cashier=await staff("collections", "front_desk"),
                payers=await opened.enter_async_context(simulator(stack)),
            )
            yield cls(practice, progress, http)

    # ------------------------------------------------------------ set-up, registration, capture

    async def set_up_practice(self) -> None:
        """The providers and payers in claim, the chargemaster and each payer's contract in charge."""
        stage = self.progress.stage("setting up the practice", 4)
        documents = (("/providers", self.practice.provider_directory()), ("/payers", PAYERS))
        for path, document in documents:
            await _send(self.http.claim_admin, "PUT", path, json=document)
            stage.advance()
        office = self.practice
        for path, text in (("/chargemaster", office.chargemaster_csv), ("/contract-rates", office.contract_rates_csv)):
            await _send(self.http.charge_admin, "PUT", path, content=text, headers=CSV)
            stage.advance()
        stage.done()

    async def register_patients(self) -> None:
        """Each patient, then their coverages, primary first."""
        stage = self.progress.stage("registering patients", len(self.practice.patients))

        async def register(patient: Patient) -> None:
            created = await self._create(self.http.desk, "/patients", patient.registration_body(), patient.key)
            self.patient_ids[patient.key] = created["id"]
            for coverage in patient.coverages:
                path = f"/patients/{created['id']}/coverages"
                added = await self._create(self.http.desk, path, coverage.body(), f"{patient.key}:{coverage.order}")
                self.coverage_ids[(patient.key, coverage.order)] = added["id"]
            stage.advance()

        await _each(self.practice.patients, register)
        stage.done()

    async def book_appointments(self) -> None:
        """The coming days' visits booked in eligibility, once it knows each coverage: its sweep checks them."""
        stage = self.progress.stage("booking appointments", len(self.practice.appointments))

        async def book(appointment: Appointment) -> None:
            patient = appointment.patient
            body = appointment.body(self.patient_ids[patient.key], self.coverage_ids[(patient.key, "primary")])
            key = self._idempotency_key("appointments", f"{patient.key}:{appointment.day}")

            async def booked() -> bool:
                headers = {"Idempotency-Key": key}
                answer = await _send(self.http.authorisations, "POST", "/appointments", json=body, headers=headers,
                                     expect={201, 404})  # fmt: skip
                return answer.status_code == 201  # 404: eligibility has not read the coverage yet

            await _until(booked, f"eligibility's copy of the coverage of {patient.key}, to book its appointment")
            self.appointments += 1
            stage.advance()

        await _each(self.practice.appointments, book)
        stage.done()

    async def capture_visits(self) -> None:
        """Each visit of the past weeks captured as coded, with the authorisation obtained before it on file."""
        stage = self.progress.stage("capturing visits", len(self.practice.visits))

        async def capture(visit: Visit) -> None:
            if visit.remedy is not Remedy.RECORD_AUTHORISATION:
                await self._record_authorisations(visit)
            patient = visit.patient
            coverage_id = self.coverage_ids.get((patient.key, "primary"))
            body = visit.encounter_body(self.patient_ids[patient.key], coverage_id)
            captured = await self._create(self.http.coder, "/encounters", body, visit.key)
            self.encounter_ids[visit.key] = captured["id"]
            self.visit_of[captured["id"]] = visit
            await self._take_copay(visit, captured["id"])
            stage.advance()

        await _each(self.practice.visits, capture)
        stage.done()

    async def _take_copay(self, visit: Visit, encounter_id: str) -> None:
        """The front desk takes the plan's office-visit copay at the visit from a patient who pays at once (collections
        keeps it on the visit until the payer's PR-3 says what it paid for); once collections knows the patient."""
        coverage = visit.patient.primary
        copay = COPAY_AT_VISIT.get(coverage.payer_id) if coverage is not None else None
        office_visit = any(code in COPAY_CODES for code in visit.coded.codes)
        if copay is None or not office_visit or visit.patient.behaviour is not PaymentBehaviour.PAYS_AT_ONCE:
            return
        key = self._idempotency_key("payments", f"copay:{visit.key}")
        body = {
            "patient_id": self.patient_ids[visit.patient.key], "amount": str(copay), "method": "card",
            "encounter_id": encounter_id, "at_visit": True, "processor_reference": _reference(key),
        }  # fmt: skip

        async def taken() -> bool:
            headers = {"Idempotency-Key": key}
            answer = await _send(self.http.cashier, "POST", "/payments", json=body, headers=headers, expect={201, 404})
            return answer.status_code == 201  # 404: collections has not read the patient's registration yet

        await _until(taken, f"collections' account of the patient of visit {visit.key}, to take the copay")
        self.copays += 1

    async def _record_authorisations(self, visit: Visit) -> None:
        """The payers' authorisations of the visit recorded in eligibility, each once eligibility knows its
        coverage (a 404 until its copy of registration's event arrives)."""
        for authorisation in visit.authorisations:
            if self._first_time(f"authorisation:{authorisation.number}"):
                await self._record(visit, authorisation)

    async def _record(self, visit: Visit, authorisation: Authorisation) -> None:
        patient = visit.patient
        coverage_id = self.coverage_ids[(patient.key, authorisation.order)]
        body = authorisation.body(self.patient_ids[patient.key], coverage_id)
        key = self._idempotency_key("authorisation", authorisation.number)

        async def recorded() -> bool:
            answer = await _send(
                self.http.authorisations, "POST", "/prior-authorizations", json=body, headers={"Idempotency-Key": key},
                expect={201, 404, 409},  # 409: recorded by an earlier drive
            )  # fmt: skip
            return answer.status_code != 404

        await _until(recorded, f"eligibility's copy of the coverage of visit {visit.key}, to record its authorisation")

    # ------------------------------------------------------------ coding review

    async def work_coding_review(self) -> None:
        """The coder corrects each visit held for a coding error, once the patient is known to charge, and
        approves the corrected coding."""
        held = self.practice.visits_with(Defect.CODING_ERROR)
        stage = self.progress.stage("coding review", len(held))

        async def correct(visit: Visit) -> None:
            encounter_id = self.encounter_ids[visit.key]
            for _ in range(_ATTEMPTS):
                encounter = await _until(
                    lambda: self._held_for_coding(encounter_id),
                    f"the review item of visit {visit.key} ({visit.review_issue})",
                )
                assert visit.recoded is not None, "a coding error carries its correction"
                decision = {
                    "decision": "approve", "note": "documentation reviewed; coding corrected",
                    "revision": encounter["revision"], "correction": visit.recoded.body(),
                }  # fmt: skip
                path = f"/review-queue/{encounter['review']['id']}/resolve"
                answer = await _send(self.http.coder, "POST", path, json=decision, expect={200, 412})
                if answer.status_code == 200:
                    self.coding_corrections += 1
                    stage.advance()
                    return
            raise PracticeDriveError(f"the encounter of visit {visit.key} kept changing under the coder's correction")

        await _each(held, correct)
        stage.done()

    async def _held_for_coding(self, encounter_id: str) -> dict[str, Any] | None:
        """The encounter once it waits for a coder for its coding alone (not for registration's events)."""
        encounter: dict[str, Any] = await _read(self.http.coder, f"/encounters/{encounter_id}")
        blocking = {issue["code"] for issue in encounter["issues"] if issue["severity"] != "warning"}
        waiting = encounter["status"] == "held" and encounter["review"] is not None
        return encounter if waiting and blocking and not blocking & _NOT_YET_KNOWN else None

    # ------------------------------------------------------------ claims

    async def settle_claims(self) -> None:
        """Work the claim queues until every insured visit's claims are decided for good: closed (paid, moved
        to the patient, written off), or replaced by one that is."""
        insured = [v for v in self.practice.visits if v.insured]
        stage = self.progress.stage("claims decided", len(insured))
        deadline = time.monotonic() + CLAIMS_SECONDS
        shown = 0
        settled_twice = 0  # two listings in a row agree: no claim built meanwhile was missed
        while settled_twice < 2:
            by_encounter = await self._list_claims()
            decided = sum(_decided(by_encounter.get(self.encounter_ids[v.key], [])) for v in insured)
            stage.advance(max(0, decided - shown))  # a claim reopened by the payer does not move the bar back
            shown = max(shown, decided)
            settled_twice = settled_twice + 1 if decided == len(insured) else 0
            if time.monotonic() > deadline:
                raise PracticeDriveError(self._undecided(insured, by_encounter))
            if settled_twice < 2:
                await self._work_claim_queues()
                await asyncio.sleep(POLL_SECONDS)
        stage.done()

    async def _list_claims(self) -> dict[str, list[dict[str, Any]]]:
        """Every claim of the practice's encounters, grouped by encounter."""
        listed: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            page = await _read(self.http.biller, "/claims", limit=500, offset=offset)
            listed |= {claim["id"]: claim for claim in page if claim["encounter_id"] in self.visit_of}
            if len(page) < 500:
                break
            offset += 500
        self.claims = listed
        by_encounter: dict[str, list[dict[str, Any]]] = {}
        for claim in listed.values():
            by_encounter.setdefault(claim["encounter_id"], []).append(claim)
        return by_encounter

    def _undecided(self, insured: list[Visit], by_encounter: Mapping[str, list[dict[str, Any]]]) -> str:
        """Which visits' claims are not decided, and where each of their claims is (held by which rules)."""
        waiting = [
            f"{visit.key} ({', '.join(_where(claim) for claim in claims) or 'no claim'})"
            for visit in insured
            if not _decided(claims := by_encounter.get(self.encounter_ids[visit.key], []))
        ]
        return f"claims not decided within {CLAIMS_SECONDS:.0f} s: {'; '.join(waiting[:20])}"

    async def _work_claim_queues(self) -> None:
        claims = list(self.claims.values())
        for claim in claims:
            if claim["state"] == "scrub_failed":
                await self._work_scrub_failure(claim)
            elif claim["state"] == "rejected":
                await self._work_rejection(claim)
        if any(claim["state"] in ("accepted", "denied") for claim in claims):
            await _send(self.http.payers, "POST", "/payment-runs")  # the payers pay now, not on their timer
        if any(claim["state"] in ("denied", "partially_paid") for claim in claims):
            await self._work_denials()
            await self._accept_underpayments()

    async def _work_scrub_failure(self, claim: dict[str, Any]) -> None:
        """Fix what holds the claim where a biller would: the coverage, the authorisation, or an override to send
        it without one. Rules that wait on other services' events (the patient's copy, eligibility's answer)
        clear by themselves."""
        visit = self.visit_of[claim["encounter_id"]]
        rules = set(claim["blocking_rules"])
        if "COVERAGE_INACTIVE" in rules and visit.defect is Defect.ELIGIBILITY:
            await self._fix_coverage(visit.patient)
        if "PRIOR_AUTH" in rules and visit.defect is Defect.MISSING_AUTHORISATION:
            if visit.remedy is Remedy.RECORD_AUTHORISATION:
                await self._record_authorisations(visit)
            elif self._first_time(f"override:{claim['id']}"):
                reason = {"rule": "PRIOR_AUTH", "reason": "sent without an authorisation; retro-authorisation asked"}
                await self._change_claim(claim["id"], "overrides", reason, {200})

    async def _work_rejection(self, claim: dict[str, Any]) -> None:
        """A claim the payer rejected for a member it does not know: the coverage corrected, the claim scrubbed
        again (registration's change does so by itself, unless it came while the claim was on its way). Sent
        before the claim service had the correction, it comes back rejected again, and is scrubbed again."""
        visit = self.visit_of[claim["encounter_id"]]
        if visit.defect is Defect.ELIGIBILITY:
            await self._fix_coverage(visit.patient)
            if self._first_time(f"rescrub:{claim['id']}:{claim['rejection']['at']}"):
                await self._change_claim(claim["id"], "rescrub", {}, {200, 409})  # 409: scrubbed and sent already

    async def _fix_coverage(self, patient: Patient) -> None:
        """The member id corrected from the patient's current card: eligibility asks the payer again, and the
        claims held for it are scrubbed again."""
        coverage = patient.primary
        if coverage is None or not self._first_time(f"coverage:{patient.key}"):
            return
        path = f"/patients/{self.patient_ids[patient.key]}/coverages/{self.coverage_ids[(patient.key, 'primary')]}"
        await _send(self.http.desk, "PATCH", path, json={"member_id": coverage.member_id})

    async def _work_denials(self) -> None:
        queue = await _read(self.http.biller, "/workqueues/denials", limit=500)
        for group in queue["groups"]:
            for item in group["items"]:
                claim = self.claims.get(item["claim_id"])
                if claim is None or not item["reasons"]:
                    continue  # another practice's, or remittance's word on it not here yet
                if self._first_time(f"denial:{item['claim_id']}:{item['payment_id']}"):
                    await self._resolve_denial(self.visit_of[claim["encounter_id"]], item)

    async def _resolve_denial(self, visit: Visit, item: dict[str, Any]) -> None:
        """The visit's own remedy for the denial its defect earns; any other denial (one the payers draw at
        random, say) worked as a biller works its category."""
        claim_id = item["claim_id"]
        earned = _DENIAL_OF.get(visit.defect) if visit.defect is not None else None
        if earned not in item["reasons"]:
            await self._work_unforeseen_denial(visit, item)
        elif visit.remedy is Remedy.FIX_COVERAGE:
            await self._fix_coverage(visit.patient)
            await self._resolve(claim_id, "corrected", "member id corrected from the patient's current card")
        elif visit.remedy is Remedy.APPEAL:
            await self._appeal(claim_id, "the service was urgent: a new neurological deficit needed imaging")
        elif visit.remedy is Remedy.WRITE_OFF:
            await self._resolve(claim_id, "written_off", "no authorisation obtained; the practice's by contract")
        elif visit.remedy is Remedy.RECODE_AND_RESUBMIT:
            await self._recode(visit)  # once: the denial is worked once per payment
        else:
            await self._resolve(claim_id, "transferred_to_patient", "waiver signed before the service",
                                basis="waiver_on_file")  # fmt: skip

    async def _work_unforeseen_denial(self, visit: Visit, item: dict[str, Any]) -> None:
        """The patient's own share moves to them; a medical-necessity denial is appealed; a bundling or
        missing-information one is sent again with a note, once; anything else is written off."""
        claim_id = item["claim_id"]
        if all(reason.startswith("PR-") for reason in item["reasons"]):
            await self._resolve(claim_id, "transferred_to_patient", "the patient's share", basis="not_contractual")
        elif item["category"] == "medical_necessity" and not item["appeals_made"]:
            await self._appeal(claim_id, "the record documents why the service was necessary")
        elif item["category"] in ("bundling", "missing_information") and self._first_time(f"sent again:{visit.key}"):
            note = "separately identifiable service; documentation attached"
            await self._resolve(claim_id, "corrected", "sent again with the documentation", note=note)
        else:
            await self._resolve(claim_id, "written_off", "not worth pursuing further")

    async def _resolve(self, claim_id: str, kind: str, reason: str, **fields: str) -> None:
        await self._change_claim(claim_id, "denial-resolutions", {"kind": kind, "reason": reason, **fields}, {200})

    async def _appeal(self, claim_id: str, argument: str) -> None:
        """A first-level appeal, which the payer (the simulator) overturns: its next payment run pays the claim."""
        appeal = {
            "level": 1, "reason": "the denial does not stand on the record", "argument": argument,
            "attachments": ["progress-notes.pdf"],
        }  # fmt: skip
        await self._change_claim(claim_id, "appeals", appeal, {201})
        claim = await _read(self.http.biller, f"/claims/{claim_id}")
        decision = {"decision": "overturned", "reason": "documentation supports the service"}
        path = f"/claims/{claim['payer_claim_number']}/appeal-decisions"
        await _send(self.http.payers, "POST", path, json=decision, expect={202})

    async def _recode(self, visit: Visit) -> None:
        """The coder corrects the encounter: the claim goes again as a replacement (frequency 7)."""
        assert visit.recoded is not None, "a recode carries the coding to send"
        path = f"/encounters/{self.encounter_ids[visit.key]}"
        for _ in range(_ATTEMPTS):
            read = await _send(self.http.coder, "GET", path)
            headers = {"If-Match": read.headers["ETag"]}
            answer = await _send(self.http.coder, "PATCH", path, json=visit.recoded.body(), headers=headers,
                                 expect={200, 412})  # fmt: skip
            if answer.status_code == 200:
                return
        raise PracticeDriveError(f"the encounter of visit {visit.key} kept changing under the coder's correction")

    async def _accept_underpayments(self) -> None:
        queue = await _read(self.http.biller, "/workqueues/underpayments", limit=500)
        for item in queue:
            if item["claim_id"] in self.claims and self._first_time(f"underpayment:{item['claim_id']}"):
                reason = {"reason": "the payer's fee schedule; not worth appealing"}
                await self._change_claim(item["claim_id"], "underpayment-acceptance", reason, {200})

    async def _change_claim(self, claim_id: str, action: str, body: dict[str, Any], expect: Collection[int]) -> None:
        answer = await change_claim(self.http.biller, claim_id, action, body)
        _expect(answer, expect, f"POST /claims/{claim_id}/{action}")

    # ------------------------------------------------------------ the patients' share

    async def bill_patients(self) -> None:
        """Once collections has every visit's money, the statements go and each guarantor pays as they do."""
        accounts = await self._accounts()
        self.accounts = {account_id: patient_key for patient_key, account_id in accounts.items()}
        await self._until_posted(accounts)
        stage = self.progress.stage("statements", len(self.accounts))
        cycle = (await _send(self.http.collector, "POST", "/cycle-runs")).json()
        stage.advance(cycle["statements_issued"])
        stage.done()
        behaviour = {patient.key: patient.behaviour for patient in self.practice.patients}
        stage = self.progress.stage("patient payments", len(self.accounts))

        async def collect(account_id: str) -> None:
            await self._collect(account_id, behaviour[self.accounts[account_id]])
            stage.advance()

        await _each(sorted(self.accounts), collect)
        stage.done()

    async def _accounts(self) -> dict[str, str]:
        """Each patient's guarantor account (a dependant's is the parent's account for the children)."""
        found: dict[str, str] = {}

        async def account_of(patient: Patient) -> None:
            async def listed() -> str | None:
                accounts = await _read(self.http.collector, "/accounts", patient_id=self.patient_ids[patient.key])
                return str(accounts[0]["id"]) if accounts else None

            found[patient.key] = await _until(listed, f"collections' account of patient {patient.key}")

        await _each(self.practice.patients, account_of)
        return found

    async def _until_posted(self, accounts: Mapping[str, str]) -> None:
        """Until every visit is on its account and none waits on insurance any more."""
        expected: dict[str, set[str]] = {}
        for visit in self.practice.visits:
            expected.setdefault(accounts[visit.patient.key], set()).add(self.encounter_ids[visit.key])
        stage = self.progress.stage("patients' balances posted", len(expected))

        async def posted(account_id: str) -> None:
            async def settled() -> bool:
                account = await _read(self.http.collector, f"/accounts/{account_id}")
                ready = {v["encounter_id"] for v in account["visits"] if v["status"] != "insurance_pending"}
                return expected[account_id] <= ready

            await _until(settled, f"collections' word on every visit of account {account_id}")
            stage.advance()

        await _each(sorted(expected), posted)
        stage.done()

    async def _collect(self, account_id: str, behaviour: PaymentBehaviour) -> None:
        """What the account owes, paid at once, put on a plan (its first installment paid now) or placed with
        the agency; a balance too small for a plan's installments is paid at once."""
        account = await _read(self.http.collector, f"/accounts/{account_id}")
        due = Decimal(account["patient_due"])
        if due <= 0:
            return
        if behaviour is PaymentBehaviour.NEVER_PAYS:
            reason = {"reason": "no answer to the statements; the patient refuses to pay"}
            await _send(self.http.collector, "POST", f"/accounts/{account_id}/placement", json=reason, expect={201})
            self.placements += 1
        elif behaviour is PaymentBehaviour.PAYMENT_PLAN and due >= 2 * _MINIMUM_INSTALLMENT:
            months = min(6, max(2, int(due // _MONTHLY_INSTALLMENT)))
            terms = {"months": months, "first_due_on": self.practice.today.isoformat()}
            plan = await self._create(self.http.collector, f"/accounts/{account_id}/payment-plans", terms,
                                      f"plan:{account_id}")  # fmt: skip
            self.payment_plans += 1
            await self._pay(account_id, Decimal(plan["installments"][0]["amount"]), "installment-1")
        else:
            await self._pay(account_id, due, "balance")

    async def _pay(self, account_id: str, amount: Decimal, what: str) -> None:
        """A card payment at the front desk, with the processor's charge reference (letters only: collections
        refuses a reference with a run of digits that could be a card number)."""
        key = f"payment:{account_id}:{what}"
        reference = _reference(self._idempotency_key("payments", key))
        body = {"account_id": account_id, "amount": str(amount), "method": "card", "processor_reference": reference}
        await self._create(self.http.cashier, "/payments", body, key)
        self.patient_payments += 1

    async def summary(self) -> DriveSummary:
        """The counts of each stage, from the claims and accounts as the services show them now."""
        account_ids = sorted(self.accounts)
        claims = await _each(sorted(self.claims), lambda claim_id: _read(self.http.biller, f"/claims/{claim_id}"))
        accounts = await _each(account_ids, lambda account_id: _read(self.http.collector, f"/accounts/{account_id}"))
        practice = self.practice
        return DriveSummary(
            patients=len(practice.patients),
            coverages=len(self.coverage_ids),
            visits=len(practice.visits),
            coding_corrections=self.coding_corrections,
            claims_submitted=sum(_reached(claim, "submitted") for claim in claims),
            claims_paid=sum(_paid(claim) for claim in claims),
            claims_denied=sum(_denied(claim) for claim in claims),
            claims_appealed=sum(bool(claim["appeals"]) for claim in claims),
            secondary_claims=sum(claim["responsibility"] != "P" for claim in claims),
            secondary_claims_paid=sum(claim["responsibility"] != "P" and _paid(claim) for claim in claims),
            statements=sum(len(account["statements"]) for account in accounts),
            patient_payments=self.patient_payments,
            copays_at_visit=self.copays,
            appointments=self.appointments,
            payment_plans=self.payment_plans,
            placements=self.placements,
            upcoder_npi=practice.upcoder.npi if practice.upcoder else None,
            patient_ids={
                behaviour: tuple(self.patient_ids[p.key] for p in practice.patients if p.behaviour is behaviour)
                for behaviour in PaymentBehaviour
            },
            encounter_ids={
                defect: tuple(self.encounter_ids[v.key] for v in practice.visits_with(defect)) for defect in Defect
            },
            claim_ids=tuple(sorted(self.claims)),
            account_ids=tuple(account_ids),
        )

    # ------------------------------------------------------------ helpers

    async def _create(self, http: httpx.AsyncClient, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """POST a create with an idempotency key from the practice's seed: sent again, it creates nothing new."""
        headers = {"Idempotency-Key": self._idempotency_key(path.split("/")[1], key)}
        created: dict[str, Any] = (await _send(http, "POST", path, json=body, headers=headers, expect={201})).json()
        return created

    def _idempotency_key(self, what: str, key: str) -> str:
        practice = self.practice
        size = f"{len(practice.patients)}x{len(practice.visits)}"  # another size of practice is another practice
        return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"practice:{practice.seed}:{practice.today}:{size}:{what}:{key}"))

    def _first_time(self, what: str) -> bool:
        """True the first time a step is asked for, so a step repeated by a loop is taken once."""
        if what in self.done:
            return False
        self.done.add(what)
        return True


def _reference(key: str) -> str:
    """A card processor's charge reference made of letters only: collections refuses a reference with a run of
    digits that could be a card number."""
    return "ch_" + key.replace("-", "")[:20].translate(_DIGITS_AS_LETTERS)


def _decided(claims: list[dict[str, Any]]) -> bool:
    """A visit is decided once it has claims and each is final (a void claim, frequency 8, asks nothing)."""
    return bool(claims) and all(claim["state"] in _FINAL or claim["frequency"] == "8" for claim in claims)


def _where(claim: Mapping[str, Any]) -> str:
    """A claim's payer and state, with the rules holding it or the codes that rejected it."""
    rejection = claim["rejection"]
    rejected = [problem["code"] for problem in rejection["problems"]] if rejection else []
    why = claim["blocking_rules"] or rejected
    return " ".join((claim["payer_id"], claim["state"], *why))


def _reached(claim: Mapping[str, Any], state: str) -> bool:
    return any(step["to_state"] == state for step in claim["timeline"])


def _denied(claim: Mapping[str, Any]) -> bool:
    """The payer denied the claim, or some of its lines, on one of its 835s."""
    return _reached(claim, "denied") or any(payment["denied_lines"] for payment in claim["adjudications"])


def _paid(claim: Mapping[str, Any]) -> bool:
    return any(Decimal(payment["paid"]) > 0 and not payment["reversed"] for payment in claim["adjudications"])


async def _each(items: Iterable[T], work: Callable[[T], Awaitable[Any]]) -> list[Any]:
    """`work` on every item, a few at a time; the results in the items' order. The first failure stops the rest."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated(item: T) -> Any:
        async with gate:
            return await work(item)

    tasks = [asyncio.ensure_future(gated(item)) for item in items]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


async def _until(ready: Callable[[], Awaitable[T | None]], what: str, within: float = STAGE_SECONDS) -> T:
    """The first answer of `ready` that is neither None nor False, asked every half second; a PracticeDriveError
    naming `what` when none comes in time."""
    deadline = time.monotonic() + within
    while True:
        answer = await ready()
        if answer is not None and answer is not False:
            return answer
        if time.monotonic() > deadline:
            raise PracticeDriveError(f"{what} did not arrive within {within:.0f} s")
        await asyncio.sleep(POLL_SECONDS)


async def _send(
    http: httpx.AsyncClient, method: str, path: str, *, expect: Collection[int] = (200,), **request: Any
) -> httpx.Response:
    """The request, sent again on a transient failure (a dropped connection, 502-504); an answer not expected
    is a PracticeDriveError with the problem's title and detail (which carry no PHI)."""
    failure = ""
    for attempt in range(_ATTEMPTS):
        if attempt:
            await asyncio.sleep(0.25 * 2**attempt)
        try:
            answer = await http.request(method, path, **request)
        except httpx.TransportError as exc:
            failure = type(exc).__name__
            continue
        if answer.status_code in _RETRYABLE:
            failure = f"{answer.status_code} {_problem(answer)}"
            continue
        return _expect(answer, expect, f"{method} {path}")
    raise PracticeDriveError(f"{method} {path} failed {_ATTEMPTS} times; the last time with {failure}")


async def _read(http: httpx.AsyncClient, path: str, **params: str | int) -> Any:
    """A GET's JSON answer."""
    return (await _send(http, "GET", path, params=params)).json()


def _expect(answer: httpx.Response, expect: Collection[int], doing: str) -> httpx.Response:
    if answer.status_code not in expect:
        raise PracticeDriveError(f"{doing} answered {answer.status_code}: {_problem(answer)}")
    return answer


def _problem(answer: httpx.Response) -> str:
    try:
        problem = answer.json()
    except ValueError:
        return answer.reason_phrase
    if not isinstance(problem, dict):
        return answer.reason_phrase
    return ": ".join(str(problem[part]) for part in ("title", "detail", "errors") if problem.get(part))
