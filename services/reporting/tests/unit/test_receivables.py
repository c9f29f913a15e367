"""A/R from the event log, on plain records: a denial stays on the books while it is worked and leaves at its
claim's close less what was won back, moved or written off; a reversal takes its payment's denial with it; the
date asked about decides who owes a visit and what had happened by then."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from rcm_reporting.domain.claims import ClaimRecord
from rcm_reporting.domain.receivables import (
    PATIENT,
    UNBILLED,
    EventLog,
    aging_rows,
    bucket_of,
    denial_releases,
    receivables,
)
from rcm_reporting.domain.records import (
    Answer,
    Hold,
    Movement,
    MovementKind,
    Opening,
    Resolution,
    Reversal,
    Visit,
    VisitVersion,
)

D = Decimal
PAYER = "ACME01"


def at(day: int) -> datetime:
    return datetime(2026, 10, day, 12, tzinfo=UTC)


VISIT = Visit(
    encounter_id=uuid.uuid4(), version=1, patient_id=uuid.uuid4(), payer_id=PAYER, self_pay=False,
    date_of_service=date(2026, 10, 1), captured_at=at(1), rendering_npi="1245319599", total_charge=D("200.00"),
    procedure_codes=("99214", "93000"),
)  # fmt: skip
CLAIM = ClaimRecord(uuid.uuid4(), VISIT.encounter_id, VISIT.patient_id, PAYER, "P", "1", D("200.00"), at(2))
DENYING, LATER = uuid.uuid4(), uuid.uuid4()


def denied_line(**changes: object) -> EventLog:
    """200.00 charged; the payer pays line 1 (100.00 less 20.00 contractual) and denies line 2 (100.00, CO-197)."""
    where = {"claim_id": CLAIM.claim_id, "payment_id": DENYING, "payer_id": PAYER}
    fields: dict[str, object] = {
        "visits": {VISIT.encounter_id: VISIT},
        "claims": {CLAIM.claim_id: CLAIM},
        "movements": [
            Movement(at(1), MovementKind.CHARGE, D("200.00"), encounter_id=VISIT.encounter_id),
            Movement(at(10), MovementKind.INSURANCE_PAYMENT, D("-80.00"), **where),  # type: ignore[arg-type]
            Movement(at(10), MovementKind.CONTRACTUAL, D("-20.00"), **where),  # type: ignore[arg-type]
            Movement(at(10), MovementKind.OTHER_ADJUSTMENT, D("-100.00"), **where),  # type: ignore[arg-type]
            Movement(at(10), MovementKind.DENIAL_HELD, D("100.00"), **where),  # type: ignore[arg-type]
        ],
        "holds": [Hold(DENYING, CLAIM.claim_id, "2", D("100.00"), at(10))],
        "answers": [Answer(DENYING, CLAIM.claim_id, ("1",), at(10))],
        "openings": [Opening(CLAIM.claim_id, at(2), True, "built")],
        "versions": [VisitVersion(VISIT.encounter_id, 1, at(1), VISIT.patient_id, False, VISIT.date_of_service)],
    }
    return EventLog(**(fields | changes))  # type: ignore[arg-type]


def balance(log: EventLog, day: int) -> Decimal:
    return sum((item.balance for item in receivables(log, at(day))), D(0))


def test_a_denied_line_stays_on_the_books_with_the_payer_while_its_claim_is_open() -> None:
    log = denied_line()

    [item] = receivables(log, at(20))
    assert item.balance == D("100.00")
    assert item.owed_by == PAYER
    assert item.claim_id == CLAIM.claim_id
    assert denial_releases(log, at(20)) == []


def test_at_the_close_what_is_left_of_the_denial_leaves_the_books() -> None:
    closed = Opening(CLAIM.claim_id, at(15), False, "denial_accepted")
    log = denied_line(openings=[Opening(CLAIM.claim_id, at(2), True, "built"), closed])

    assert balance(log, 14) == D("100.00")
    assert balance(log, 15) == D("0.00")
    [released] = denial_releases(log, at(20))
    assert released.amount == D("-100.00")
    assert released.occurred_at == at(15)


def test_what_billers_moved_to_the_patient_stays_theirs_after_the_close() -> None:
    log = denied_line(
        openings=[Opening(CLAIM.claim_id, at(2), True, "built"), Opening(CLAIM.claim_id, at(15), False, "moved")],
        resolutions=[Resolution(DENYING, "transferred_to_patient", D("100.00"), at(14))],
    )

    [item] = receivables(log, at(20))
    assert item.balance == D("100.00")
    assert item.owed_by == PATIENT


def test_a_later_payment_answering_the_line_counts_instead_of_the_denial() -> None:
    where = {"claim_id": CLAIM.claim_id, "payment_id": LATER, "payer_id": PAYER}
    base = denied_line()
    log = denied_line(
        movements=[
            *base.movements,
            Movement(at(16), MovementKind.INSURANCE_PAYMENT, D("-70.00"), **where),  # type: ignore[arg-type]
            Movement(at(16), MovementKind.CONTRACTUAL, D("-30.00"), **where),  # type: ignore[arg-type]
        ],
        answers=[*base.answers, Answer(LATER, CLAIM.claim_id, ("2",), at(16))],
        openings=[*base.openings, Opening(CLAIM.claim_id, at(17), False, "paid_in_full")],
    )

    assert balance(log, 16) == D("0.00")
    assert balance(log, 20) == D("0.00")  # the won-back line is not released a second time


def test_a_reversed_payment_takes_its_denial_with_it_and_the_claim_reopens_with_the_payer() -> None:
    base = denied_line()
    undone = [
        Movement(at(18), m.kind, -m.amount, m.encounter_id, m.claim_id, m.account_id, uuid.uuid4(), m.payer_id)
        for m in base.movements
        if m.payment_id == DENYING
    ]
    log = denied_line(
        movements=[*base.movements, *undone],
        reversals=[Reversal(DENYING, at(18))],
        openings=[*base.openings, Opening(CLAIM.claim_id, at(15), False, "denial_accepted"),
                  Opening(CLAIM.claim_id, at(18), True, "reopened")],
    )  # fmt: skip

    assert balance(log, 16) == D("0.00")
    [item] = receivables(log, at(20))
    assert item.balance == D("200.00")
    assert item.owed_by == PAYER


def test_a_covered_visit_with_no_claim_is_unbilled_and_a_self_pay_one_the_patient_s() -> None:
    log = denied_line(claims={}, openings=[], holds=[], answers=[], movements=[denied_line().movements[0]])
    [item] = receivables(log, at(3))
    assert item.owed_by == UNBILLED

    self_pay = [VisitVersion(VISIT.encounter_id, 1, at(1), VISIT.patient_id, True, VISIT.date_of_service)]
    log = denied_line(versions=self_pay, claims={}, openings=[], holds=[], answers=[], movements=log.movements)
    [item] = receivables(log, at(3))
    assert item.owed_by == PATIENT


def test_buckets_age_from_the_date_of_service() -> None:
    assert [bucket_of(days) for days in (0, 30, 31, 60, 61, 90, 91, 120, 121, 400)] == [
        "0-30", "0-30", "31-60", "31-60", "61-90", "61-90", "91-120", "91-120", "over 120", "over 120",
    ]  # fmt: skip
    rows = aging_rows(receivables(denied_line(), datetime(2027, 1, 15, tzinfo=UTC)), "owed_by")
    assert [(row.key, row.buckets["91-120"]) for row in rows] == [(PAYER, D("100.00"))]
