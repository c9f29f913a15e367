"""The X12 side of a check: the 270 eligibility writes, and what it reads from 271s, the shared corpus's
real ones included."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rcm_eligibility.adapters.x12_eligibility import Asker, benefits_of, build_270, read_271
from rcm_eligibility.domain.benefits import Accumulator
from rcm_eligibility.domain.estimate import estimate
from rcm_eligibility.domain.model import CoverageCopy, EligibilityCheck, PatientCopy, Person
from rcm_eligibility.service_layer.mapping import benefits_contract
from rcm_eligibility.testing import NOW, commercial_benefits, medicare_benefits, reply_for
from rcm_x12 import read
from rcm_x12.corpus import default_root, manifest
from rcm_x12.eligibility_response_reader import read_eligibility
from rcm_x12.eligibility_response_writer import RequestRejection
from rcm_x12.errors import X12Error
from rcm_x12.structure import validate

ASKER = Asker("RCMPLATFORM", "RCMCLEARINGHSE", "RCM DEMO PRACTICE", "1234567893", "9000000001")
PATIENT = PatientCopy(uuid.uuid4(), Person("Jane", "Doe", date(1980, 1, 15), "F"))
CORPUS = default_root()
CORPUS_271 = [f for f in manifest(CORPUS) if f.kind == "271"] if CORPUS.exists() else []


def coverage(**changes: object) -> CoverageCopy:
    fields: dict[str, object] = {
        "coverage_id": uuid.uuid4(),
        "patient_id": PATIENT.patient_id,
        "payer_id": "ACME01",
        "payer_name": "Acme Health Plan",
        "member_id": "ACM123456789",
        "relationship": "self",
        "effective_date": date(2026, 1, 1),
        "order": "primary",
    }
    return CoverageCopy(**(fields | changes))  # type: ignore[arg-type]


def request_270(cover: CoverageCopy, service_type: str = "30") -> tuple[EligibilityCheck, str]:
    check = EligibilityCheck.request(
        check_id=uuid.uuid4(), coverage=cover, date_of_service=date(2026, 11, 2), service_type=service_type,
        trigger="on_demand", now=NOW,
    )  # fmt: skip
    return check, build_270(check, PATIENT, cover, ASKER, control_number=7, now=NOW)


def segments(text: str) -> list[list[str]]:
    return [segment.strip().split("*") for segment in text.split("~") if segment.strip()]


class TestThe270:
    def test_a_subscriber_inquiry_is_structurally_valid_and_traced_by_the_check(self) -> None:
        check, text = request_270(coverage(), "98")
        found_problems = validate(read(text))
        assert (found_problems.structure, found_problems.envelope) == ([], [])
        found = segments(text)
        assert ["TRN", "1", check.trace_number, "9000000001"] in found
        assert ["EQ", "98"] in found
        assert ["DTP", "291", "D8", "20261102"] in found
        assert ["NM1", "IL", "1", "Doe", "Jane", "", "", "", "MI", "ACM123456789"] in found
        assert found[0][13] == "000000007"  # ISA13 from the caller's counter

    def test_a_dependant_is_asked_about_through_the_subscriber(self) -> None:
        subscriber = Person("John", "Doe", date(1978, 3, 2), "M")
        _check, text = request_270(coverage(relationship="child", subscriber=subscriber))
        found_problems = validate(read(text))
        assert (found_problems.structure, found_problems.envelope) == ([], [])
        names = [s for s in segments(text) if s[0] == "NM1" and s[1] in ("IL", "03")]
        assert names[0][:5] == ["NM1", "IL", "1", "Doe", "John"]
        assert names[0][-1] == "ACM123456789"
        assert names[1][:5] == ["NM1", "03", "1", "Doe", "Jane"]


class TestThe271:
    def test_commercial_benefits_are_normalised_to_in_network_individual_amounts(self) -> None:
        _check, text = request_270(coverage())
        answer = read_271(
            reply_for(text, benefits=commercial_benefits()),
            "unused-trace",
            member_id="ACM123456789",
            for_dependant=False,
        )
        benefits = answer.benefits
        assert answer.errors == ()
        assert benefits is not None
        assert benefits.active
        assert benefits.plan_begin == date(2026, 1, 1)
        assert (benefits.plan_description, benefits.insurance_type, benefits.group_number) == (
            "GOLD PPO",
            "PR",
            "GRP100",
        )
        assert benefits.copay_for("98") == Decimal("25.00")  # the out-of-network $60 is left aside
        assert benefits.coinsurance_for("98") == Decimal("0.2")  # from the plan's general coinsurance
        assert benefits.deductible == Accumulator(Decimal("1500.00"), Decimal("1000.00"))  # not the family's
        assert benefits.out_of_pocket == Accumulator(Decimal("6000.00"), Decimal("5200.00"))
        assert benefits.prior_authorization_service_types == ("62",)

    def test_the_answer_is_matched_to_the_inquiry_by_its_trace(self) -> None:
        check, text = request_270(coverage())
        answer = read_271(
            reply_for(text, benefits=commercial_benefits()), check.trace_number, member_id="other", for_dependant=False
        )
        assert answer.benefits is not None
        assert answer.benefits.active

    def test_member_and_source_errors_are_read_with_their_meaning(self) -> None:
        _check, text = request_270(coverage())
        member_error = read_271(
            reply_for(text, errors=(RequestRejection("72", "C"),)), "t", member_id="ACM123456789", for_dependant=False
        )
        assert member_error.benefits is None
        assert [(e.level, e.code, e.meaning, e.follow_up) for e in member_error.errors] == [
            ("subscriber", "72", "Invalid/Missing Subscriber/Insured ID", "C")
        ]
        source_error = read_271(
            reply_for(text, source_errors=(RequestRejection("42", "R", valid_request=True),)),
            "t",
            member_id="x",
            for_dependant=False,
        )
        assert [(e.level, e.code, e.ask_again_later) for e in source_error.errors] == [("source", "42", True)]

    def test_inactive_coverage_is_read_with_its_end_date(self) -> None:
        from rcm_x12.eligibility_response_writer import BenefitInfo

        _check, text = request_270(coverage())
        reply = reply_for(text, benefits=(BenefitInfo("6", coverage_level="IND"),), plan_end=date(2026, 9, 30))
        benefits = read_271(reply, "t", member_id="ACM123456789", for_dependant=False).benefits
        assert benefits is not None
        assert not benefits.active
        assert benefits.plan_end == date(2026, 9, 30)
        assert not benefits.covers(date(2026, 11, 2))

    def test_an_answer_about_someone_else_is_no_answer(self) -> None:
        _check, text = request_270(coverage())
        reply = reply_for(text, benefits=commercial_benefits())
        assert read_271(reply, "another-trace", member_id="ACM000000000", for_dependant=False).benefits is None
        assert read_271(reply, "another-trace", member_id="acm-123456789", for_dependant=False).benefits is not None

    def test_a_share_no_plan_can_have_is_refused_not_guessed(self) -> None:
        _check, text = request_270(coverage())
        reply = reply_for(text, benefits=commercial_benefits()).replace("EB*A*IND*30*****0.2*", "EB*A*IND*30*****20*")
        with pytest.raises(X12Error, match="EB08"):
            read_271(reply, "t", member_id="ACM123456789", for_dependant=False)

    def test_text_that_is_not_x12_is_refused(self) -> None:
        with pytest.raises(X12Error):
            read_271("<html>gateway timeout</html>", "t", member_id="x", for_dependant=False)


@pytest.mark.skipif(not CORPUS_271, reason="the shared corpus is not beside the repository")
class TestCorpus:
    @pytest.mark.parametrize("entry", [f for f in CORPUS_271 if f.must_read], ids=lambda f: f.path)
    def test_every_member_of_every_readable_271_maps_to_a_snapshot(self, entry: object) -> None:
        path = CORPUS / entry.path  # type: ignore[attr-defined]
        data = Path(path).read_bytes()
        responses = read_eligibility(data)
        members = [m for r in responses for s in r.subscribers for m in (s, *s.dependants)]
        for member in members:
            benefits = benefits_of(member)
            assert benefits.active is (member.active is True)
        for subscriber in (s for r in responses for s in r.subscribers):
            answer = read_271(data, "no-such-trace", member_id=subscriber.member_id, for_dependant=False)
            assert answer.benefits is not None or answer.errors or not subscriber.benefits

    @pytest.mark.parametrize("entry", [f for f in CORPUS_271 if not f.must_read], ids=lambda f: f.path)
    def test_old_and_defective_271s_are_refused_or_read_never_crashed_on(self, entry: object) -> None:
        """4010 files are refused as such; the error fixtures, readable but structurally wrong, are read
        as far as they go (what a payer meant is kept) or refused with an X12Error."""
        data = (CORPUS / entry.path).read_bytes()  # type: ignore[attr-defined]
        try:
            answer = read_271(data, "t", member_id="", for_dependant=False)
        except X12Error:
            return
        assert entry.version.startswith("005010"), answer  # type: ignore[attr-defined]


class TestMedicarePartsAAndB:
    """CMS's HETS 271 states Medicare Part A's (EB04 MA) and Part B's (MB) deductibles both under service type
    30. Part B pays a physician's services (42 CFR 410.10), Part A institutional care (42 CFR 409): each
    amount is kept with its insurance type, and the one of the part that pays the service applies."""

    def test_each_parts_deductible_is_kept_apart_and_part_bs_is_the_professional_one(self) -> None:
        _check, text = request_270(coverage())
        reply = reply_for(text, benefits=medicare_benefits())
        benefits = read_271(reply, "t", member_id="ACM123456789", for_dependant=False).benefits

        assert benefits is not None
        assert benefits.deductible == Accumulator(Decimal("283.00"), Decimal("0.00"))  # Part B's, not Part A's
        assert benefits.deductible_for("98") == Accumulator(Decimal("283.00"), Decimal("0.00"))
        assert benefits.deductible_for("48") == Accumulator(Decimal("1736.00"), Decimal("1736.00"))  # inpatient
        assert {(a.insurance_type, a.coverage_level, a.remaining) for a in benefits.accumulators} == {
            ("MA", "IND", Decimal("1736.00")),
            ("MB", "IND", Decimal("0.00")),
        }

    def test_a_99214_with_the_part_b_deductible_met_is_estimated_at_its_coinsurance(self) -> None:
        """The reviewed figure: $127.53 allowed, Part B's deductible met, 20% coinsurance: $25.51, not the
        $127.53 a Part A deductible would have made it."""
        _check, text = request_270(coverage())
        reply = reply_for(text, benefits=medicare_benefits())
        benefits = read_271(reply, "t", member_id="ACM123456789", for_dependant=False).benefits
        assert benefits is not None

        owed = estimate(benefits, "98", Decimal("127.53"))

        assert (owed.deductible, owed.coinsurance, owed.patient_responsibility) == (
            Decimal("0.00"),
            Decimal("25.51"),
            Decimal("25.51"),
        )


def test_another_payer_named_in_the_271_is_kept_and_published_for_the_front_desk() -> None:
    """Coverage discovery: a 271's EB*R names another or an additional payer (loop 2120, DTP*290 for
    coordination of benefits). For Medicare, insurance types such as 12 (working aged) name a group health
    plan primary to Medicare under the Medicare Secondary Payer rules (42 U.S.C. 1395y(b))."""
    from rcm_x12.eligibility_response_writer import BenefitInfo

    _check, text = request_270(coverage())
    msp = BenefitInfo(
        "R", "IND", ("30",), insurance_type="12", coordination_begin=date(2024, 7, 1),
        other_payer=("EMPLOYER GROUP HEALTH PLAN", "EGHP1"),
    )  # fmt: skip
    reply = reply_for(text, benefits=(*medicare_benefits(), msp))
    benefits = read_271(reply, "t", member_id="ACM123456789", for_dependant=False).benefits

    assert benefits is not None
    [other] = benefits.other_payers
    assert (other.name, other.payer_id, other.insurance_type, other.coordination_begin) == (
        "EMPLOYER GROUP HEALTH PLAN",
        "EGHP1",
        "12",
        date(2024, 7, 1),
    )
    assert other.medicare_secondary_payer
    assert other.in_effect_on(date(2026, 11, 2))
    [published] = benefits_contract(benefits).other_payers
    assert (published.name, published.medicare_secondary_payer) == ("EMPLOYER GROUP HEALTH PLAN", True)


def test_an_ended_medicare_secondary_payer_episode_is_read_with_its_end() -> None:
    """DTP*290 as a range: the other payer was primary only within it."""
    from rcm_x12.eligibility_response_writer import BenefitInfo

    _check, text = request_270(coverage())
    ended = BenefitInfo(
        "R", "IND", ("30",), insurance_type="12", coordination_begin=date(2020, 1, 1),
        coordination_end=date(2025, 12, 31), other_payer=("FORMER EMPLOYER PLAN", "FEP01"),
    )  # fmt: skip
    benefits = read_271(reply_for(text, benefits=(*medicare_benefits(), ended)), "t", member_id="ACM123456789",
                        for_dependant=False).benefits  # fmt: skip

    assert benefits is not None
    [other] = benefits.other_payers
    assert (other.coordination_begin, other.coordination_end) == (date(2020, 1, 1), date(2025, 12, 31))
    assert not other.in_effect_on(date(2026, 11, 2))


def test_amounts_with_and_without_the_plans_one_insurance_type_are_one_plans() -> None:
    """A payer naming its insurance type (PR) on some deductible rows and none on others: one plan's amounts,
    not two, so neither the total nor the remaining amount is lost."""
    from rcm_x12.eligibility_response_writer import BenefitInfo

    _check, text = request_270(coverage())
    rows = (
        BenefitInfo("1", "IND", ("30",), insurance_type="PR"),
        BenefitInfo("C", "IND", ("30",), insurance_type="PR", time_period="23", amount=Decimal("1500.00")),
        BenefitInfo("C", "IND", ("30",), time_period="29", amount=Decimal("1000.00")),
    )
    benefits = read_271(reply_for(text, benefits=rows), "t", member_id="ACM123456789", for_dependant=False).benefits

    assert benefits is not None
    assert benefits.deductible == Accumulator(Decimal("1500.00"), Decimal("1000.00"))
