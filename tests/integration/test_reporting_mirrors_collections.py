"""Reporting's A/R agrees with collections' ledger where collections moves the patients' money by itself: collections'
own account (its real domain) takes the patients' payments, write-offs and corrections, its events are mapped as its
unit of work maps them and fed to reporting with the charge events, and reporting's A/R equals the account's
balance to the cent, its unapplied amount the account's credit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest

from rcm_collections.domain.account import Account, Guarantor
from rcm_collections.domain.encounter import ServiceItem
from rcm_collections.domain.statements import Addressee
from rcm_collections.service_layer.mapping import to_integration_event
from rcm_common.sample_events import DATE_OF_SERVICE, Visit, captured
from rcm_reporting.testing import Fed, ReportingApi, envelope_at, running_reporting

D = Decimal


@pytest.fixture
async def reporting(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[ReportingApi]:
    async with running_reporting(tmp_path, signing_keys, database_url) as running:
        yield running


class Mirror:
    """A self-pay patient's account in collections, each change published as collections publishes it."""

    def __init__(self) -> None:
        self.patient = uuid.uuid4()
        address = Addressee("Guarantor", "1 Elm St", None, "Springfield", "IL", "62704")
        self.account = Account(uuid.uuid4(), Guarantor("Guarantor", address, "2175550147"), patients={self.patient})
        self.published: list[Fed] = []
        self.now = datetime(2026, 11, 3, 9, tzinfo=UTC)

    def tick(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now

    def publish(self) -> None:
        for event in self.account.events:
            contract = to_integration_event(self.account, event)
            self.published.append(Fed(contract, envelope_at(contract, self.tick())))
        self.account.events.clear()

    def capture(self, visit: Visit, total: str, version: int = 1) -> None:
        now = self.tick()
        event = captured(visit, (total,), self_pay=True, version=version)
        self.published.append(Fed(event, envelope_at(event, now)))
        items = (ServiceItem("99213", (), DATE_OF_SERVICE, D(total)),)
        self.account.capture(
            encounter_id=visit.encounter_id, patient_id=self.patient, version=version, self_pay=True,
            date_of_service=DATE_OF_SERVICE, provider_npi=None, items=items, total=D(total), cause="event:x", now=now,
        )  # fmt: skip
        self.publish()

    def write_off_all(self, kind: Literal["hardship", "bad_debt"]) -> None:
        asked = self.account.request_write_off(
            write_off_id=uuid.uuid4(), kind=kind, amount=None, reason="let go", requested_by="ann", now=self.tick()
        )
        self.account.decide_write_off(
            write_off_id=asked.id, approve=True, decided_by="bo", cause="api:bo", now=self.tick()
        )
        self.publish()

    def pay(self, amount: str) -> None:
        self.account.receive_payment(
            payment_id=uuid.uuid4(), amount=D(amount), method="card", processor_reference=None, encounter_id=None,
            at_visit=False, patient_id=None, source="patient", agency_fee=D("0"), cause="api:p", now=self.tick(),
        )  # fmt: skip
        self.publish()


async def agrees(reporting: ReportingApi, mirror: Mirror, events: Sequence[str]) -> None:
    await reporting.feed(*mirror.published)
    aging = await reporting.get("/ar/aging")
    unapplied = sum((D(row["buckets"]["unapplied"]) for row in aging["by_payer"]), D(0))
    assert D(aging["total"]) == mirror.account.balance
    assert unapplied == -mirror.account.credit
    published = {item.envelope.event_type.rsplit(".", 1)[1] for item in mirror.published}
    assert set(events) <= published


async def test_a_bad_debt_recovered_by_a_later_payment(reporting: ReportingApi) -> None:
    mirror = Mirror()
    mirror.capture(Visit(mirror.patient), "80.00")
    mirror.write_off_all("bad_debt")
    mirror.pay("50.00")

    await agrees(reporting, mirror, ["balance_written_off", "write_off_reversed", "patient_payment_received"])


async def test_a_write_off_no_longer_owed_once_the_visit_is_corrected_down(reporting: ReportingApi) -> None:
    mirror = Mirror()
    visit = Visit(mirror.patient)
    mirror.capture(visit, "80.00")
    mirror.write_off_all("hardship")
    mirror.capture(visit, "30.00", version=2)

    await agrees(reporting, mirror, ["write_off_reversed"])


async def test_an_overpayment_moves_to_credit_and_the_credit_pays_the_next_visit(reporting: ReportingApi) -> None:
    mirror = Mirror()
    first, second = Visit(mirror.patient), Visit(mirror.patient)
    mirror.capture(first, "80.00")
    mirror.pay("80.00")
    mirror.capture(first, "30.00", version=2)  # 50.00 overpaid: to the account's credit
    mirror.capture(second, "20.00")  # the credit pays it

    await agrees(reporting, mirror, ["patient_credit_moved"])
