"""What the simulator's tests share: a clock the test moves, the default configuration with the seeded
random denials off (tests that want them turn them on), and builders of the X12 a billing system sends
(837P, 270, 276), written with rcm_x12's own writers; and, for the tests of the services that call it, the
simulator in process behind the same calls its HTTP client makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any, Self

from rcm_clearinghouse_sim.config import DEV_API_KEY, ClearinghouseSettings, SimulatorConfig, load_config
from rcm_clearinghouse_sim.service_layer.clearinghouse import Clearinghouse
from rcm_common.clearinghouse import ClearinghouseUnavailable, MailboxFile
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
        submission = self.clearinghouse.submit(batch_837.encode())
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
