"""The 271 reader: a hand-written response whose every value is checked, request errors (AAA) at each
level, refusals that name the element and position, and every 271 of the shared corpus."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from rcm_x12 import X12Error, read
from rcm_x12.corpus import CorpusFile, default_root, manifest
from rcm_x12.elements import Period
from rcm_x12.eligibility_response_reader import Member, RequestError, eligibility_of, read_eligibility, summary

CORPUS = default_root()
ISA = "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260105*1200*^*00501*000000101*0*T*:~"


def interchange(body: str, *, set_id: str = "271", implementation: str = "005010X279A1") -> str:
    """An interchange around one transaction set; `body` is one segment per line, without ST and SE.
    The body's first segment is at position 4 (ISA, GS and ST come first)."""
    segments = [line.strip() for line in body.strip().splitlines() if line.strip()]
    return (
        f"{ISA}GS*HB*PAYER*CLINIC*20260105*1200*1*X*{implementation}~ST*{set_id}*0001*{implementation}~"
        + "".join(f"{segment}~" for segment in segments)
        + f"SE*{len(segments) + 2}*0001~GE*1*1~IEA*1*000000101~"
    )


SOURCE_AND_RECEIVER = """
BHT*0022*11*REQ123*20260105*1200
HL*1**20*1
NM1*PR*2*ACME HEALTH*****PI*12345
HL*2*1*21*1
NM1*1P*2*RIVERSIDE CLINIC*****XX*1234567893
"""

ACTIVE = (
    SOURCE_AND_RECEIVER
    + """
HL*3*2*22*0
TRN*2*TRACE1*9RIVERSIDE
NM1*IL*1*DOE*JANE*Q***MI*W123456789
REF*6P*GRP001*ACME GOLD GROUP
REF*18*PLAN77
N3*1 MAIN ST*APT 2
N4*SPRINGFIELD*IL*62701
DMG*D8*19800215*F
INS*Y*18*001*25
DTP*291*RD8*20260101-20261231
EB*1*IND*30^1^98*PR*ACME GOLD
EB*B*IND*98*PR*ACME GOLD*27*25
EB*A*IND*30**ACME GOLD*23**0.2****Y
EB*C*IND*30***23*1500
EB*C*IND*30***29*1200.5
EB*G*FAM*30***23*6000*****N
EB*CB*IND*4^5**********HC:70551:26
EB*1*IND*4^5********Y
REF*G1*PA12345
III*ZZ*11
MSG*PRIOR AUTHORIZATION REQUIRED FOR IMAGING
DTP*292*D8*20260101
LS*2120
NM1*P3*1*SMITH*ROBERT****XX*1999999984
LE*2120
"""
)


def _subscriber(body: str) -> Member:
    [response] = read_eligibility(interchange(body))
    [subscriber] = response.subscribers
    return subscriber


def test_the_source_receiver_and_header_are_read() -> None:
    [response] = read_eligibility(interchange(ACTIVE))
    [source] = response.sources
    [receiver] = source.receivers

    assert (response.control_number, response.implementation, response.position) == ("0001", "005010X279A1", 3)
    assert (response.header.reference, response.header.created, response.header.time) == (
        "REQ123",
        date(2026, 1, 5),
        "1200",
    )
    assert source.payer is not None
    assert (source.payer.entity, source.payer.name, source.payer.id_qualifier, source.payer.identifier) == (
        "PR",
        "ACME HEALTH",
        "PI",
        "12345",
    )
    assert receiver.provider is not None
    assert (receiver.provider.name, receiver.provider.identifier) == ("RIVERSIDE CLINIC", "1234567893")
    assert (response.errors, response.findings) == ([], [])


def test_an_active_subscriber_and_their_demographics_and_plan_dates() -> None:
    subscriber = _subscriber(ACTIVE)

    assert subscriber.active is True
    assert (subscriber.member_id, subscriber.name.name, subscriber.name.first_name, subscriber.name.middle_name) == (
        "W123456789",
        "DOE",
        "JANE",
        "Q",
    )
    assert (subscriber.group_number, subscriber.plan_number) == ("GRP001", "PLAN77")
    assert subscriber.references[0].description == "ACME GOLD GROUP"
    assert subscriber.trace_numbers == [("TRACE1", "9RIVERSIDE")]
    assert subscriber.address is not None
    assert (subscriber.address.lines, subscriber.address.city, subscriber.address.state) == (
        ("1 MAIN ST", "APT 2"),
        "SPRINGFIELD",
        "IL",
    )
    assert (subscriber.birth_date, subscriber.gender, subscriber.relationship) == (date(1980, 2, 15), "F", "18")
    assert subscriber.dates == {"291": Period(date(2026, 1, 1), date(2026, 12, 31))}
    assert (subscriber.plan_begin, subscriber.plan_end) == (date(2026, 1, 1), date(2026, 12, 31))


def test_copay_coinsurance_deductible_and_out_of_pocket_are_exact() -> None:
    benefits = _subscriber(ACTIVE).benefits

    assert [benefit.code for benefit in benefits] == ["1", "B", "A", "C", "C", "G", "CB", "1"]
    coverage, copay, coinsurance, deductible, remaining, out_of_pocket = benefits[:6]
    assert (coverage.meaning, coverage.service_types, coverage.insurance_type, coverage.plan_description) == (
        "Active Coverage",
        ("30", "1", "98"),
        "PR",
        "ACME GOLD",
    )
    assert (copay.meaning, copay.service_types, copay.time_period_meaning, copay.amount) == (
        "Co-Payment",
        ("98",),
        "Visit",
        Decimal("25.00"),
    )
    assert str(copay.amount) == "25.00"
    assert (coinsurance.percent, coinsurance.amount, coinsurance.in_plan_network) == (Decimal("0.2"), None, "Y")
    assert str(coinsurance.percent) == "0.2"
    assert (deductible.meaning, deductible.time_period_meaning, deductible.amount) == (
        "Deductible",
        "Calendar Year",
        Decimal("1500.00"),
    )
    assert (remaining.time_period_meaning, str(remaining.amount)) == ("Remaining", "1200.50")
    assert (out_of_pocket.meaning, out_of_pocket.coverage_level_meaning, out_of_pocket.amount) == (
        "Out of Pocket (Stop Loss)",
        "Family",
        Decimal("6000.00"),
    )
    assert out_of_pocket.in_plan_network == "N"


def test_authorization_procedure_and_the_2110_loop_details() -> None:
    benefits = _subscriber(ACTIVE).benefits
    basis, imaging = benefits[6], benefits[7]

    assert basis.procedure is not None
    assert (basis.procedure.qualifier, basis.procedure.code, basis.procedure.modifiers) == ("HC", "70551", ("26",))
    assert basis.authorization_required is None
    assert (imaging.service_types, imaging.authorization_required) == (("4", "5"), True)
    assert imaging.messages == ["PRIOR AUTHORIZATION REQUIRED FOR IMAGING"]
    assert [(ref.qualifier, ref.value) for ref in imaging.references] == [("G1", "PA12345")]
    assert imaging.additional_info == [("ZZ", "11")]
    assert imaging.dates == {"292": Period(date(2026, 1, 1))}
    [doctor] = imaging.related_entities
    assert (doctor.entity, doctor.name, doctor.identifier) == ("P3", "SMITH", "1999999984")
    assert all(benefit.related_entities == [] for benefit in benefits[:7])


def test_an_invalid_member_id_is_an_error_at_the_subscriber_level_and_not_active() -> None:
    subscriber = _subscriber(
        SOURCE_AND_RECEIVER
        + """
HL*3*2*22*0
NM1*IL*1*DOE*JANE****MI*W000000000
AAA*N**72*C
DMG*D8*19800215*F
"""
    )

    assert subscriber.errors == [RequestError(level="subscriber", valid_request=False, code="72", follow_up="C")]
    [error] = subscriber.errors
    assert (error.meaning, error.follow_up_meaning) == (
        "Invalid/Missing Subscriber/Insured ID",
        "Please Correct and Resubmit",
    )
    assert subscriber.active is False
    assert subscriber.benefits == []


def test_the_summary_is_json_with_the_subscribers_benefits_and_errors() -> None:
    body = ACTIVE.replace("HL*3*2*22*0", "HL*3*2*22*0\nAAA*Y**42*R")
    [result] = read(interchange(body))
    transaction = result.groups[0].transactions[0]

    data = json.loads(json.dumps(summary(transaction, result)))

    assert data["payers"] == [{"name": "ACME HEALTH", "id": "12345"}]
    [subscriber] = data["subscribers"]
    assert (subscriber["member_id"], subscriber["active"], subscriber["plan_begin"], subscriber["plan_end"]) == (
        "W123456789",
        True,
        "2026-01-01",
        "2026-12-31",
    )
    assert [error["code"] for error in subscriber["errors"]] == ["42"]
    assert subscriber["errors"][0]["follow_up_meaning"] == "Resubmission Allowed"
    copay = subscriber["benefits"][1]
    assert (copay["code"], copay["amount"], copay["service_types"]) == ("B", "25.00", ["98"])
    assert subscriber["benefits"][2]["percent"] == "0.2"
    assert subscriber["dependants"] == []
    assert "DOE" not in json.dumps(data)


def test_errors_at_the_source_and_receiver_levels_say_where_they_are() -> None:
    [response] = read_eligibility(
        interchange(
            """
BHT*0022*11*REQ123*20260105*1200
HL*1**20*1
AAA*Y**42*R
NM1*PR*2*ACME HEALTH*****PI*12345
HL*2*1*21*0
NM1*1P*2*RIVERSIDE CLINIC*****XX*1234567893
AAA*Y**50*N
"""
        )
    )

    assert [(error.level, error.code, error.valid_request) for error in response.errors] == [
        ("source", "42", True),
        ("receiver", "50", True),
    ]
    assert response.errors[1].meaning == "Provider Ineligible for Inquiries"
    assert response.subscribers == []


def test_a_dependant_is_read_under_its_subscriber() -> None:
    path = "LinuxForHealth-x12/src/tests/resources/271_005010X279A1/dependent-health-benefit-check.271"
    [response] = read_eligibility((CORPUS / path).read_bytes())
    [subscriber] = response.subscribers
    [dependant] = subscriber.dependants

    assert (subscriber.member_id, subscriber.active) == ("123456789", None)
    assert (dependant.level, dependant.name.entity, dependant.name.first_name) == ("dependant", "03", "MARY")
    assert (dependant.birth_date, dependant.gender, dependant.relationship) == (date(1998, 10, 14), "F", "19")
    assert (dependant.active, dependant.plan_begin) == (True, date(2006, 1, 1))
    copays = [benefit.amount for benefit in dependant.benefits if benefit.code == "B"]
    assert copays == [Decimal("10.00"), Decimal("30.00")]


def test_a_corpus_271_with_errors_and_related_entities_in_its_benefit_loops() -> None:
    # This file's ISA11 and ISA16 are both "^": no repetition separator is declared, so EB03 repeats on "^".
    folder = "OopFactory-X12Parser/tests/OopFactory.X12.Hipaa.Tests.Unit/Eligibility/TestData/_271/_5010"
    [response] = read_eligibility((CORPUS / f"{folder}/Example_3_1_2.txt").read_bytes())
    benefits = response.subscribers[0].benefits

    assert [(error.level, error.code, error.follow_up) for error in benefits[0].errors] == [
        ("subscriber", "51", "N"),
        ("subscriber", "60", "W"),
    ]
    assert [(party.entity, party.name) for party in benefits[0].related_entities] == [
        ("PR", "COVENTRY HEALTH AND LIFE INSURANCE")
    ]
    assert (benefits[1].meaning, benefits[1].time_period_meaning, benefits[1].authorization_required) == (
        "Limitations",
        "Lifetime",
        True,
    )
    assert benefits[3].service_types == (
        "1",
        "33",
        "35",
        "47",
        "86",
        "88",
        "98",
        "AL",
        "MH",
        "UC",
    )


def test_an_aaa_only_answer_from_the_corpus_is_inactive_with_its_errors() -> None:
    folder = "OopFactory-X12Parser/tests/OopFactory.X12.Hipaa.Tests.Unit/Eligibility/TestData/_271/_5010"
    path = f"{folder}/ValidationForSubscriberName.txt"
    [response] = read_eligibility((CORPUS / path).read_bytes())
    [subscriber] = response.subscribers

    assert [error.code for error in subscriber.errors] == ["72", "75"]
    assert subscriber.active is False


def test_an_impossible_date_is_none_and_a_finding_naming_where_it_is() -> None:
    [response] = read_eligibility(interchange(ACTIVE.replace("20260101-20261231", "20261301-20261231")))

    assert response.subscribers[0].plan_begin is None
    assert response.findings == ["DTP03 at position 18 is not a date in the DTP02 format: read as none"]


@pytest.mark.parametrize(
    ("segment", "message"),
    [
        (
            "EB*B*IND*98***27*25.005",
            r"EB07 is not an amount of at most two decimal places \(segment EB at position 11\)",
        ),
        (
            "EB*B*IND*98***27*1,000",
            r"EB07 is not an amount of at most two decimal places \(segment EB at position 11\)",
        ),
        ("EB*A*IND*30*****20%", r"EB08 is not a number \(segment EB at position 11\)"),
        ("EB*F*IND*30******VS*ten", r"EB10 is not a number \(segment EB at position 11\)"),
    ],
)
def test_a_bad_amount_percent_or_quantity_is_refused_naming_element_and_position(segment: str, message: str) -> None:
    body = SOURCE_AND_RECEIVER + f"HL*3*2*22*0\nNM1*IL*1*DOE*JANE****MI*W123456789\n{segment}"

    with pytest.raises(X12Error, match=message) as refused:
        read_eligibility(interchange(body))
    assert segment.split("*")[-1] not in str(refused.value)


def test_a_level_whose_parent_is_unknown_is_refused() -> None:
    body = SOURCE_AND_RECEIVER + "HL*3*9*22*0\nNM1*IL*1*DOE*JANE****MI*W123456789"

    with pytest.raises(X12Error, match=r"HL02 .* information receiver .*segment HL at position 9"):
        read_eligibility(interchange(body))


def test_a_transaction_that_is_not_a_271_is_refused() -> None:
    data = interchange(ACTIVE, set_id="270")
    [result] = read(data)

    assert read_eligibility(data) == []
    with pytest.raises(X12Error, match="not a 271"):
        eligibility_of(result.groups[0].transactions[0], result)


def test_names_ids_addresses_and_birth_dates_stay_out_of_repr() -> None:
    shown = repr(_subscriber(ACTIVE))

    assert all(secret not in shown for secret in ("DOE", "W123456789", "GRP001", "MAIN ST", "1980"))


FILES = [entry for entry in manifest(CORPUS) if entry.must_read and entry.kind == "271"]


@pytest.mark.parametrize("entry", FILES, ids=lambda entry: entry.path)
def test_every_271_of_the_corpus_is_read_and_summarised(entry: CorpusFile) -> None:
    data = (CORPUS / entry.path).read_bytes()
    interchanges = read(data)
    transactions = [(t, i) for i in interchanges for g in i.groups for t in g.transactions if t.set_id == "271"]

    responses = read_eligibility(data)

    assert len(responses) == len(transactions) >= 1
    assert all(response.sources for response in responses)
    for transaction, result in transactions:
        json.dumps(summary(transaction, result))


def test_the_corpus_has_the_271_files_it_should() -> None:
    assert len(FILES) == 14


def test_a_dependant_under_another_dependant_is_refused_not_lost() -> None:
    body = (
        SOURCE_AND_RECEIVER
        + "HL*3*2*22*1\nNM1*IL*1*DOE*JANE****MI*W1\nHL*4*3*23*1\nNM1*03*1*DOE*SAM\nHL*5*4*23*0\nNM1*03*1*DOE*AMY\n"
    )
    with pytest.raises(X12Error, match="under another dependant"):
        read_eligibility(interchange(body))
