"""What the simulator's tests share: a clock the test moves, the default configuration with the seeded
random denials off (tests that want them turn them on) and with a payer's remittance practice changed, and
builders of the X12 a billing system sends (837P, 270, 276), written with rcm_x12's own writers; and, for
the tests of the services that call it, the simulator in process behind the same calls its HTTP client
makes, and an 835 of as many claims as a benchmark needs (`large_remittance`), with what each claim billed
so that a test can make the claims it pays."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any, Self

from rcm_clearinghouse_sim.config import DEV_API_KEY, ClearinghouseSettings, SimulatorConfig, load_config
from rcm_clearinghouse_sim.service_layer.clearinghouse import Clearinghouse, read_upload
from rcm_common.clearinghouse import ClearinghouseUnavailable, MailboxFile
from rcm_common.offload import off_the_loop
from rcm_x12.eligibility_request_writer import EligibilityInquiry, EligibilityRequest, write_270
from rcm_x12.professional_claim_writer import (
    BillingProvider,
    Claim,
    Contact,
    Dependent,
    ProfessionalClaimBatch,
    ProviderClaims,
    ServiceLine,
    SubscriberClaims,
    write_837p,
)
from rcm_x12.remittance_reader import read_remittances
from rcm_x12.status_request_writer import StatusInquiry, StatusRequest, write_276
from rcm_x12.writer import Address, Envelope, Member, Payer, Provider, TradingPartner

TODAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SERVICE_DATE = date(2026, 3, 2)
HOME = Address("12 OAK AVE", "SPRINGFIELD", "IL", "62704")
BILLING = BillingProvider(
    "ACME MEDICAL GROUP", "1234567893", "371234567", Address("1 MAIN ST", "SPRINGFIELD", "IL", "627011234")
)
PROVIDER = Provider("ACME MEDICAL GROUP", "1234567893")
SUBMITTER = TradingPartner("ACME BILLING", "ACMEBILL")
CLEARINGHOUSE = TradingPartner("RCM CLEARINGHOUSE SIMULATOR", "RCMCLEARSIM")
API_HEADERS = {"X-Api-Key": DEV_API_KEY, "Content-Type": "application/edi-x12"}
CHILD = Member("DOE", "JIM", birth_date=date(2012, 4, 1), gender="M", address=HOME)
"""The subscriber's child, whom the payer knows only under the subscriber's member id."""


@dataclass
class Clock:
    now: datetime = TODAY

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class X12:
    """Builds what a billing system sends, each interchange with the next control number."""

    numbers: count[int] = field(default_factory=lambda: count(1))

    def envelope(self, control: int | None = None) -> Envelope:
        number = control if control is not None else next(self.numbers)
        return Envelope("ACMEBILL", "RCMCLEARSIM", number, number, 1, TODAY)

    @staticmethod
    def member(member_id: str = "W123456789") -> Member:
        return Member("DOE", "JANE", member_id, birth_date=date(1970, 5, 6), gender="F", address=HOME)

    @staticmethod
    def line(procedure: str = "99213", charge: str = "150.00", **changes: Any) -> ServiceLine:
        return ServiceLine(procedure, Decimal(charge), Decimal(changes.pop("units", "1")), SERVICE_DATE, **changes)

    @staticmethod
    def claim(claim_id: str = "PCN1", *lines: ServiceLine, **changes: Any) -> Claim:
        fields: dict[str, Any] = {"place_of_service": "11", "diagnoses": ("J069",)}
        return Claim(claim_id, lines=lines or (X12.line(),), **(fields | changes))

    def batch(
        self,
        *claims: Claim,
        payer: str = "ACME01",
        member_id: str = "W123456789",
        control: int | None = None,
        provider: BillingProvider = BILLING,
        responsibility: str = "P",
        dependent: Dependent | None = None,
    ) -> str:
        subscriber = SubscriberClaims(
            self.member(member_id),
            Payer("SOME PAYER", payer),
            claims or (self.claim(),),
            responsibility=responsibility,
            dependent=dependent,
        )
        batch = ProfessionalClaimBatch(
            "BATCH1",
            SUBMITTER,
            Contact("EDI DESK", phone="2175550199"),
            CLEARINGHOUSE,
            (ProviderClaims(provider, (subscriber,)),),
        )
        return write_837p(batch, self.envelope(control))

    def inquiry(
        self,
        member_id: str = "W123456789",
        payer: str = "ACME01",
        service_types: tuple[str, ...] = ("30",),
        dependent: Member | None = None,
    ) -> str:
        request = EligibilityRequest(
            "INQ1",
            Payer("SOME PAYER", payer),
            PROVIDER,
            (
                EligibilityInquiry(
                    self.member(member_id), SERVICE_DATE, service_types, dependent=dependent, trace="TRACE-1"
                ),
            ),
            trace_originator="9ACMEBILL",
        )
        return write_270(request, self.envelope())

    def status(self, claim_id: str, payer: str = "ACME01", charge: str = "150.00") -> str:
        request = StatusRequest(
            "STAT1",
            Payer("SOME PAYER", payer),
            SUBMITTER,
            PROVIDER,
            (
                StatusInquiry(
                    self.member(),
                    "STAT-TRACE-1",
                    Decimal(charge),
                    SERVICE_DATE,
                    patient_control_number=claim_id,
                ),
            ),
        )
        return write_276(request, self.envelope())


def quiet_config(**changes: Any) -> SimulatorConfig:
    """The packaged configuration with no random denials (and any other changes)."""
    config = load_config(ClearinghouseSettings(environment="test"))
    payers = [payer.model_copy(update={"random_denial_rate": 0.0}) for payer in config.payers]
    return config.model_copy(update={"payers": payers, **changes})


def with_remittance(config: SimulatorConfig, payer_id: str | None = None, **practice: Any) -> SimulatorConfig:
    """The configuration with a payer's remittance settings changed (every payer's when `payer_id` is None),
    e.g. `reprocess_share=1.0` or `interest_after_days=0`."""
    payers = [
        payer.model_copy(update={"remittance": payer.remittance.model_copy(update=practice)})
        if payer_id in (None, payer.id)
        else payer
        for payer in config.payers
    ]
    return config.model_copy(update={"payers": payers})


@dataclass
class InProcessClearinghouse:
    """The simulator called in process, as a service's tests call it in place of its HTTP API: the same
    clearinghouse (its ledger, mailbox and payers), without a server. `lose_answers` answers that many
    claim uploads into the void after the simulator has taken them, as a connection dropped on the way back
    does, so a test can check that a resend is recognised."""

    clearinghouse: Clearinghouse
    lose_answers: int = 0
    uploads: int = 0

    @classmethod
    def quiet(cls, clock: Callable[[], datetime]) -> Self:
        return cls(Clearinghouse(quiet_config(), clock))

    async def submit_claims(self, batch_837: str) -> str:
        self.uploads += 1
        data = batch_837.encode()
        upload = await off_the_loop(read_upload, data, size=len(data))  # as the HTTP API reads it
        submission = self.clearinghouse.take_upload(upload)
        if self.lose_answers:
            self.lose_answers -= 1
            raise ClearinghouseUnavailable("the answer was lost on the way back")
        return submission.acknowledgment

    async def claim_status(self, request_276: str) -> str:
        return self.clearinghouse.claim_status(request_276.encode())

    async def mailbox(self) -> list[MailboxFile]:
        return [MailboxFile(f.id, f.kind, f.payer_id, f.created_at) for f in self.clearinghouse.mailbox.files()]

    async def mailbox_file(self, file_id: str) -> str:
        return self.clearinghouse.mailbox.get(file_id).content

    async def delete_mailbox_file(self, file_id: str) -> None:
        self.clearinghouse.mailbox.delete(file_id)


# --- a large 835 -----------------------------------------------------------------------------------------

_LINE_MENU = (
    ("99213", (), "1", "150.00"),
    ("99214", ("25",), "1", "210.00"),
    ("36415", (), "1", "20.00"),
    ("80053", (), "1", "45.00"),
    ("85025", (), "1", "32.00"),
    ("93000", (), "1", "60.00"),
    ("71046", (), "1", "95.00"),
    ("97110", ("GP",), "2", "140.00"),
)
"""What the claims of a large 835 bill: code, modifiers, units and charge (office visits, labs, an ECG, an
X-ray, therapy), none needing prior authorisation."""
_CLAIMS_PER_SET = 5000
"""The 837 guide's recommended limit of claims in one transaction set."""


@dataclass(frozen=True, slots=True)
class RemittedLine:
    """A service line as the claim billed it (and the 835 echoes it): REF*6R, code, modifiers, units, date,
    charge; and what the 835 says of it (allowed amount, None when denied, and payment)."""

    control_number: str
    procedure: str
    modifiers: tuple[str, ...]
    units: Decimal
    service_date: date
    charge: Decimal
    allowed: Decimal | None
    paid: Decimal


@dataclass(frozen=True, slots=True)
class RemittedClaim:
    """A claim of the 835: CLM01 (CLP01), the payer and its claim number (CLP07, as the 277CA gave it), the
    member id, CLM05-3, the total charge, its lines and what the 835 paid (CLP04) and left the patient
    (CLP05)."""

    claim_id: str
    payer_id: str
    payer_claim_number: str
    member_id: str = field(repr=False)
    frequency: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    lines: tuple[RemittedLine, ...]


@dataclass(frozen=True, slots=True)
class LargeRemittance:
    """One 835 interchange (`text`) paying every claim of `claims` to one payee (`payee_npi`, the billing
    provider), by one payer, under TRN02 `trace_number`; `claims_837` is the 837P the simulator was sent
    (two or more interchanges of at most 5,000 claims), for a test that would send the claims itself."""

    text: str
    trace_number: str
    payer_id: str
    payee_npi: str
    claims: tuple[RemittedClaim, ...]
    claims_837: str


def large_claim_batch(
    claims: int,
    *,
    payer_id: str = "ACME01",
    seed: int = 2026,
    provider: BillingProvider = BILLING,
    claim_id_prefix: str = "BIG",
) -> str:
    """An 837P upload of `claims` claims of one billing provider to one payer, each for its own member
    (member ids W000000001...), so that none is a duplicate of another; one to three lines each, drawn from
    the seed, REF*6R `<claim id>-<line>`. At most 5,000 claims a transaction set, one set an interchange."""
    draw = random.Random(f"{seed}:large-835")  # nosec B311 - seeded test data, not a secret
    x12 = X12()
    subscribers = []
    for number in range(1, claims + 1):
        claim_id = f"{claim_id_prefix}{number:07d}"
        picks = draw.sample(_LINE_MENU, draw.randint(1, 3))
        lines = tuple(
            ServiceLine(
                code, Decimal(charge), Decimal(units), SERVICE_DATE, modifiers=modifiers,
                control_number=f"{claim_id}-{line}",
            )
            for line, (code, modifiers, units, charge) in enumerate(picks, 1)
        )  # fmt: skip
        member = x12.member(f"W{number:09d}")
        subscribers.append(SubscriberClaims(member, Payer("SOME PAYER", payer_id), (X12.claim(claim_id, *lines),)))
    text = []
    for start in range(0, claims, _CLAIMS_PER_SET):
        batch = ProfessionalClaimBatch(
            f"BIG{start // _CLAIMS_PER_SET + 1}",
            SUBMITTER,
            Contact("EDI DESK", phone="2175550199"),
            CLEARINGHOUSE,
            (ProviderClaims(provider, tuple(subscribers[start : start + _CLAIMS_PER_SET])),),
        )
        text.append(write_837p(batch, x12.envelope()))
    return "".join(text)


def large_remittance(
    claims: int = 10_000,
    *,
    payer_id: str = "ACME01",
    seed: int = 2026,
    provider: BillingProvider = BILLING,
    claim_id_prefix: str = "BIG",
) -> LargeRemittance:
    """An 835 of `claims` claims (10,000 by default), as the simulator writes it: the claims of
    `large_claim_batch` sent to a simulator of the default configuration with `seed` (its seeded random
    denials on, so some claims are denied) and paid in one run. Deterministic: the same arguments make the
    same 835. About five seconds for 10,000 claims."""
    config = load_config(ClearinghouseSettings(environment="test")).model_copy(update={"seed": seed})
    clearinghouse = Clearinghouse(config, Clock())
    batch = large_claim_batch(claims, payer_id=payer_id, seed=seed, provider=provider, claim_id_prefix=claim_id_prefix)
    clearinghouse.submit(batch.encode())
    [file_id] = clearinghouse.run_payments(due_only=False)
    text = clearinghouse.mailbox.get(file_id).content
    [remittance] = read_remittances(text)
    paid = tuple(
        RemittedClaim(
            claim_id=claim.claim_id,
            payer_id=payer_id,
            payer_claim_number=claim.payer_claim_number,
            member_id=claim.patient.identifier if claim.patient else "",
            frequency=claim.frequency,
            charge=claim.charge,
            paid=claim.paid,
            patient_responsibility=claim.patient_responsibility,
            lines=tuple(
                RemittedLine(
                    line.control_number,
                    line.procedure.code,
                    line.procedure.modifiers,
                    line.units_billed,
                    line.service_date or SERVICE_DATE,
                    line.charge,
                    line.allowed,
                    line.paid,
                )
                for line in claim.lines
            ),
        )
        for claim in remittance.claims
    )
    return LargeRemittance(text, remittance.trace_number, payer_id, provider.npi, paid, batch)
