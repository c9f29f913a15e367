"""The 277CA writer: a 277CA reads back through the claim status reader to the claims acknowledged, pyx12
accepts 277CAs from a payer or a clearinghouse, what one cannot hold is refused when made, and a delimiter in a
value is refused naming the place, never the value, or replaced when the envelope asks (in a 277CA and in a
999)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from rcm_x12.acknowledgment_reader import read_acknowledgments
from rcm_x12.acknowledgment_writer import ElementFault, SegmentFault, write_999
from rcm_x12.claim_acknowledgment_writer import (
    AcknowledgedClaim,
    ClaimAcknowledgment,
    ClaimRejection,
    ProviderAcknowledgment,
    write_277ca,
)
from rcm_x12.claim_status_reader import read_claim_statuses
from rcm_x12.elements import Period
from rcm_x12.testing import (
    DELIMITER_MARKS,
    ENVELOPE,
    JANE,
    PAYER,
    PROVIDER,
    SAM,
    SUBMITTER,
    D,
    assert_accepted_by_pyx12,
    assert_refused_naming_the_place_not_the_value,
    code,
    find,
    group_acknowledgment,
    pyx12_verdict,
    rejected_set,
    segments_of,
)
from rcm_x12.writer import Payer, Provider, TradingPartner

CLEARINGHOUSE = TradingPartner("SWITCHBOARD EDI", "SWITCH01")


def acknowledged(claim_id: str = "PCN-1", **changes: Any) -> AcknowledgedClaim:
    fields: dict[str, Any] = {
        "patient": JANE,
        "charge": D("185.50"),
        "service_date": date(2026, 2, 27),
        "payer_claim_number": f"ICN-{claim_id}",
        "clearinghouse_trace": f"CH-{claim_id}",
    }
    return AcknowledgedClaim(claim_id, **(fields | changes))


REJECTION = ClaimRejection((code("A7", "562", "85"), code("A7", "21", "IL")), "NPI NOT ENROLLED")


def claim_acknowledgment(
    *groups: ProviderAcknowledgment, source: Payer | TradingPartner = PAYER
) -> ClaimAcknowledgment:
    return ClaimAcknowledgment("ACK0001", source, SUBMITTER, "BATCH0001", date(2026, 3, 20), date(2026, 3, 21), groups)


def test_a_277ca_reads_back_to_the_claims_acknowledged() -> None:
    rejected = acknowledged("PCN-2", charge=D("40"), service_end=date(2026, 3, 1), payer_claim_number="")
    text = write_277ca(
        claim_acknowledgment(
            ProviderAcknowledgment(PROVIDER, (acknowledged(), replace(rejected, rejection=REJECTION)))
        ),
        ENVELOPE,
    )
    segments = segments_of(text)
    [response] = read_claim_statuses(text)

    assert (response.kind, response.implementation) == ("277CA", "005010X214")
    assert (response.header.structure, response.header.reference, response.header.transaction_type) == (
        "0085",
        "ACK0001",
        "TH",
    )
    assert find(segments, "HL") == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "21", "1"],
        ["HL", "3", "2", "19", "1"],
        ["HL", "4", "3", "PT"],
        ["HL", "5", "3", "PT"],
    ]
    assert find(segments, "DTP", "050") == [["DTP", "050", "D8", "20260320"]]
    assert find(segments, "DTP", "009") == [["DTP", "009", "D8", "20260321"]]
    assert find(segments, "QTY") == [["QTY", "90", "1"], ["QTY", "AA", "1"], ["QTY", "QA", "1"], ["QTY", "QC", "1"]]
    assert find(segments, "AMT") == [["AMT", "YU", "185.5"], ["AMT", "YY", "40"]] * 2
    [payer, receiver, provider] = response.entity_statuses
    assert (payer.level, payer.party and payer.party.identifier, payer.statuses) == ("payer", "BHP01", [])
    assert (receiver.level, receiver.trace_number) == ("receiver", "BATCH0001")
    assert [(s.codes, s.effective_date, s.action, s.charge) for s in receiver.statuses] == [
        ((code("A1", "19", "PR"),), date(2026, 3, 21), "WQ", D("225.50"))
    ]
    assert [(s.codes, s.effective_date, s.action, s.charge) for s in provider.statuses] == [
        ((code("A1", "19", "PR"),), None, "WQ", D("225.50"))
    ]
    first, second = response.claims
    assert (first.patient_control_number, first.accepted, first.payer_claim_number, first.clearinghouse_trace) == (
        "PCN-1",
        True,
        "ICN-PCN-1",
        "CH-PCN-1",
    )
    assert [(s.codes, s.action, s.charge, s.effective_date) for s in first.statuses] == [
        ((code("A1", "19", "PR"),), "WQ", D("185.50"), date(2026, 3, 21)),
        ((code("A2", "20", "PR"),), "WQ", D("185.50"), date(2026, 3, 21)),
    ]
    assert first.service_period == Period(date(2026, 2, 27))
    assert (first.member_id, first.provider and first.provider.identifier, first.subscriber) == (
        "W000000001",
        "1234567893",
        None,
    )
    assert (first.patient and (first.patient.entity, first.patient.name, first.patient.first_name)) == (
        "QC",
        "DOE",
        "JANE",
    )
    assert (second.patient_control_number, second.accepted, second.payer_claim_number) == ("PCN-2", False, None)
    [status] = second.statuses
    assert (status.codes, status.action, status.charge, status.message) == (
        REJECTION.codes,
        "U",
        D("40.00"),
        "NPI NOT ENROLLED",
    )
    assert second.service_period == Period(date(2026, 2, 27), date(2026, 3, 1))


@pytest.mark.parametrize("source", [PAYER, CLEARINGHOUSE], ids=["payer", "clearinghouse"])
def test_277cas_pass_pyx12(source: Payer | TradingPartner) -> None:
    other = Provider("SMITH", "1098765432", first_name="ANNA")
    groups = (
        ProviderAcknowledgment(
            PROVIDER,
            tuple(
                acknowledged(f"PCN-{n}", rejection=REJECTION, payer_claim_number="")
                if n % 4 == 0
                else acknowledged(f"PCN-{n}")
                for n in range(1, 200)
            ),
        ),
        ProviderAcknowledgment(other, (acknowledged("ONLY", patient=replace(JANE, middle_name="Q", suffix="JR")),)),
        ProviderAcknowledgment(PROVIDER, (replace(acknowledged("R"), payer_claim_number="", rejection=REJECTION),)),
    )
    text = write_277ca(claim_acknowledgment(*groups, source=source), ENVELOPE)

    assert "AK9*A*1*1*1~" in assert_accepted_by_pyx12(text)
    [response] = read_claim_statuses(text)
    assert [claim.accepted for claim in response.claims].count(False) == 49 + 1
    assert find(segments_of(text), "NM1", "AY" if source is CLEARINGHOUSE else "PR")


def test_pyx12_reports_what_is_wrong_in_a_277ca() -> None:
    text = write_277ca(claim_acknowledgment(ProviderAcknowledgment(PROVIDER, (acknowledged(),))), ENVELOPE)
    broken = text.replace("*WQ*185.5~", "*QQ*185.5~").replace("DTP*472*D8*20260227~", "")

    valid, errors, acknowledgment = pyx12_verdict(broken)

    assert not valid
    assert errors
    assert "AK9*R*1*1*0~" in acknowledgment


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ClaimRejection((code("A1", "19"),)), "A3, A6, A7 or A8"),
        (lambda: ClaimRejection(()), "one to three"),
        (lambda: ClaimRejection((code("A7", "21"),) * 4), "one to three"),
        (lambda: ClaimRejection((code("A7", ""),)), "category and status"),
        (lambda: acknowledged(rejection=REJECTION), "no payer claim number"),
        (lambda: acknowledged(patient=SAM), "member id"),
        (lambda: acknowledged(charge=D("1.005")), "two decimal places"),
        (lambda: acknowledged(charge=1.5), "Decimal"),
        (lambda: ProviderAcknowledgment(PROVIDER, ()), "at least one claim"),
        (lambda: claim_acknowledgment(), "at least one claim"),
    ],
    ids=["category", "none", "four", "status", "icn", "member id", "cents", "float", "provider", "batch"],
)
def test_what_a_277ca_cannot_hold_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("mark", DELIMITER_MARKS)
@pytest.mark.parametrize(
    ("write", "element", "record"),
    [
        (lambda v: write_277ca(claim_acknowledgment(ProviderAcknowledgment(PROVIDER, (acknowledged(v),))), ENVELOPE),
         "TRN02", "claim 1"),
        (lambda v: write_277ca(claim_acknowledgment(ProviderAcknowledgment(PROVIDER, (
            acknowledged(), acknowledged("R", payer_claim_number="", rejection=replace(REJECTION, message=v))))),
            ENVELOPE), "STC12", "claim 2"),
    ],
    ids=["277ca claim id", "277ca message"],
)  # fmt: skip
def test_a_delimiter_in_a_value_is_refused_naming_the_place_not_the_value(
    mark: str, write: Any, element: str, record: str
) -> None:
    assert_refused_naming_the_place_not_the_value(write, mark, element, record)


def test_replacement_puts_the_replacement_where_the_delimiters_were_when_asked() -> None:
    replacing = replace(ENVELOPE, on_delimiter="replace", replacement="-")
    rejection = replace(REJECTION, message="NPI*NOT~ON:FILE^")
    text = write_277ca(
        claim_acknowledgment(
            ProviderAcknowledgment(PROVIDER, (acknowledged("R", payer_claim_number="", rejection=rejection),))
        ),
        replacing,
    )
    bad_value = SegmentFault("CLM", 2, "8", element_faults=(ElementFault(1, "6", bad_value="A*B"),))
    acknowledgment = write_999(group_acknowledgment(replace(rejected_set(), segment_faults=(bad_value,))), replacing)

    assert read_claim_statuses(text)[0].claims[0].statuses[0].message == "NPI-NOT-ON-FILE-"
    assert (
        read_acknowledgments(acknowledgment)
        .implementation[0]
        .responses[0]
        .segment_errors[0]
        .element_errors[0]
        .bad_value
        == "A-B"
    )
