"""The 999 from structure problems: a valid batch is accepted, pyx12 accepts the 999 written, and each
kind of problem the validator reports becomes its IK3/IK4 code, and one of a kind not known still rejects."""

from __future__ import annotations

import pytest

from rcm_x12 import read, structure_acknowledgment
from rcm_x12.acknowledgment_reader import read_acknowledgments
from rcm_x12.acknowledgment_writer import write_999
from rcm_x12.professional_claim_writer import write_837p
from rcm_x12.reader import Interchange
from rcm_x12.structure import Validation
from rcm_x12.structure_acknowledgment import acknowledge
from rcm_x12.testing import assert_accepted_by_pyx12
from rcm_x12.testing.claims import ENVELOPE, one_claim

VALID = write_837p(one_claim(), ENVELOPE)


def _acknowledged(text: str) -> str:
    [interchange] = read(text)
    [group] = acknowledge(interchange)
    return write_999(group, ENVELOPE)


def test_a_valid_batch_is_accepted() -> None:
    written = _acknowledged(VALID)
    [ack] = read_acknowledgments(written).implementation

    assert (ack.code, ack.sets_accepted, ack.responses[0].segment_errors) == ("A", 1, [])
    assert_accepted_by_pyx12(written)


def test_problems_become_segment_and_element_errors() -> None:
    broken = VALID.replace("HI*ABK:J449*ABF:E119~", "").replace("SV1*HC:99214", "SV1*XX:99214")
    written = _acknowledged(broken)
    [ack] = read_acknowledgments(written).implementation

    [response] = ack.responses
    errors = {(e.segment_id, e.code, e.loop_id) for e in response.segment_errors}
    # IK502 5 for the segments in error, 4 as the SE still counts the HI taken out.
    assert (ack.code, response.code, response.syntax_errors) == ("R", "R", ("4", "5"))
    assert errors == {("HI", "3", "2300"), ("SV1", "8", "2400")}
    [sv1] = [e for e in response.segment_errors if e.segment_id == "SV1"]
    assert [(e.position.element, e.position.component, e.code) for e in sv1.element_errors] == [(1, 1, "7")]
    assert_accepted_by_pyx12(written)


def test_a_wrong_segment_count_rejects_the_set() -> None:
    [response] = read_acknowledgments(_acknowledged(VALID.replace("SE*29*", "SE*30*"))).implementation[0].responses

    assert (response.code, response.syntax_errors) == ("R", ("4",))


@pytest.mark.parametrize(
    "problem",
    ["CLM at position 20 breaks a rule said in a new way", "a rule said in a new way, at no position"],
    ids=["in-the-set", "nowhere"],
)
def test_a_problem_of_an_unknown_shape_still_rejects_the_set(monkeypatch: pytest.MonkeyPatch, problem: str) -> None:
    def validate(_: list[Interchange]) -> Validation:
        return Validation(structure=[problem], envelope=[], notes=[])

    monkeypatch.setattr(structure_acknowledgment, "validate", validate)
    [response] = read_acknowledgments(_acknowledged(VALID)).implementation[0].responses

    assert (response.code, response.syntax_errors, response.segment_errors) == ("R", ("5",), [])
