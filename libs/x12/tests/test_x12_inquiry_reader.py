"""The 270 and 276 readers: what write_270 and write_276 write reads back equal, dependants included, and
what the writers' types cannot hold is refused naming the segment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rcm_x12 import X12Error
from rcm_x12.eligibility_request_writer import EligibilityInquiry, EligibilityRequest, write_270
from rcm_x12.inquiry_reader import read_eligibility_requests, read_status_requests
from rcm_x12.status_request_writer import StatusInquiry, StatusRequest, write_276
from rcm_x12.testing.claims import ENVELOPE, HOME, PAYER, RENDERING, subscriber
from rcm_x12.writer import Member, Provider, TradingPartner

CHILD = Member("DOE", "TOM", birth_date=date(2015, 6, 1), gender="M", address=HOME)
PROVIDER = Provider("ACME MEDICAL GROUP", "1234567893")


def test_a_270_reads_back_equal() -> None:
    request = EligibilityRequest(
        "REF1",
        PAYER,
        PROVIDER,
        (
            EligibilityInquiry(subscriber(1), date(2026, 3, 2), ("30", "98"), trace="T1"),
            EligibilityInquiry(subscriber(2), None, ("30",), dependent=CHILD, trace="T2"),
        ),
        trace_originator="9ACME",
    )

    assert read_eligibility_requests(write_270(request, ENVELOPE)) == [request]


def test_a_270_without_eq_asks_about_plan_coverage() -> None:
    request = EligibilityRequest("REF1", PAYER, PROVIDER, (EligibilityInquiry(subscriber(), None, ("30",)),))
    text = write_270(request, ENVELOPE).replace("EQ*30~", "").replace("SE*10*", "SE*9*")

    [read] = read_eligibility_requests(text)

    assert read.inquiries[0].service_types == ("30",)


def test_a_276_reads_back_equal() -> None:
    # The 276 names the subscriber of a dependant's claim by NM1 only, and nobody's address.
    holder = Member("DOE", "JANE", "W000000001", birth_date=date(1980, 1, 2), gender="F")
    child = replace(CHILD, address=None)
    request = StatusRequest(
        "REF2",
        PAYER,
        TradingPartner("ACME BILLING", "ACMEBILL"),
        replace(RENDERING, taxonomy=""),
        (
            StatusInquiry(holder, "T1", Decimal("150.00"), date(2026, 3, 2), patient_control_number="PCN1"),
            StatusInquiry(
                Member("DOE", "JANE", "W000000002"), "T2", Decimal("35.50"), date(2026, 3, 2), date(2026, 3, 4),
                payer_claim_number="PAYER9", dependent=child,
            ),
        ),
    )  # fmt: skip

    assert read_status_requests(write_276(request, ENVELOPE)) == [request]


def test_a_276_inquiry_without_its_charge_is_refused() -> None:
    request = StatusRequest(
        "REF2", PAYER, TradingPartner("ACME BILLING", "ACMEBILL"), RENDERING,
        (StatusInquiry(subscriber(), "T1", Decimal("150.00"), date(2026, 3, 2)),),
    )  # fmt: skip
    text = write_276(request, ENVELOPE).replace("AMT*T3*150~", "")

    with pytest.raises(X12Error, match="AMT"):
        read_status_requests(text)


def test_a_270_without_a_payer_level_is_refused() -> None:
    request = EligibilityRequest("REF1", PAYER, PROVIDER, (EligibilityInquiry(subscriber(), None),))
    text = write_270(request, ENVELOPE).replace("HL*1**20*1", "HL*1**99*1")

    with pytest.raises(X12Error, match="information source"):
        read_eligibility_requests(text)


def test_the_reader_is_not_fooled_by_a_changed_member() -> None:
    request = EligibilityRequest("REF1", PAYER, PROVIDER, (EligibilityInquiry(subscriber(), None),))

    [read] = read_eligibility_requests(write_270(request, ENVELOPE))

    assert read != replace(request, reference="OTHER")
