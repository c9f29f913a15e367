"""The clearinghouse's answers read from X12: a batch's 999 as a verdict per transaction set, a 277CA as a
verdict per claim, a 277 as each claim's statuses. Problems name segments, positions and codes with their
meanings, never the values the 999 copied back (IK404 may hold a member id)."""

from __future__ import annotations

from rcm_claim.domain.acknowledgments import (
    STRUCTURE_FIX,
    ClaimAnswer,
    ClaimStatusAnswer,
    SetVerdict,
    rejection_problem,
)
from rcm_claim.domain.events import Problem, StatusReport
from rcm_x12.acknowledgment_reader import ImplementationAcknowledgment, TransactionSetResponse, read_acknowledgments
from rcm_x12.claim_status_reader import ClaimStatus, read_claim_statuses
from rcm_x12.codes.acknowledgment import (
    ELEMENT_ERRORS,
    GROUP_SYNTAX_ERRORS,
    SEGMENT_ERRORS,
    SET_SYNTAX_ERRORS,
)
from rcm_x12.codes.claim_status import REJECTED_CATEGORIES


def set_verdicts(acknowledgment_999: str, group_control_number: str, control_numbers: list[str]) -> list[SetVerdict]:
    """The 999's verdict on each transaction set sent (by ST02) in the functional group `group_control_number`
    (GS06, which the 999's AK102 names; the batch's GS06 is its ISA13). A set the 999 does not name takes its
    group's verdict (AK9): a group rejected whole rejects every set in it. A TA1 rejecting the interchange
    (TA104 R) rejects every set, with TA105 in words. An answer saying nothing of the group (a TA1 accepting
    it alone, a 999 for another interchange) is a ValueError: it says nothing of these claims."""
    answer = read_acknowledgments(acknowledgment_999)
    refusals = [
        ta1 for ta1 in answer.interchange if ta1.code == "R" and _same(ta1.control_number, group_control_number)
    ]
    if refusals:
        problem = Problem(
            f"TA1:{refusals[0].note_code}", refusals[0].note or "The interchange was rejected", STRUCTURE_FIX
        )
        return [SetVerdict(number, False, (problem,)) for number in control_numbers]
    groups = [
        group
        for group in answer.implementation
        if group.functional_id == "HC" and _same(group.group_control_number, group_control_number)
    ]
    if not groups:
        raise ValueError("the answer holds no 999 for the batch's functional group")
    named = {response.control_number: response for group in groups for response in group.responses}
    return [
        _set_verdict(named[number]) if number in named else _group_verdict(number, groups) for number in control_numbers
    ]


def _same(control_number: str, ours: str) -> bool:
    """Control numbers compared as numbers: some echo ours with leading zeros."""
    return control_number.strip().isdigit() and ours.isdigit() and int(control_number) == int(ours)


def _set_verdict(response: TransactionSetResponse) -> SetVerdict:
    if response.accepted:
        return SetVerdict(response.control_number, True)
    problems: list[Problem] = []
    for error in response.segment_errors:
        where = f"segment {error.segment_id} at position {error.position}" + (
            f" in loop {error.loop_id}" if error.loop_id else ""
        )
        problems.append(Problem(f"IK3:{error.code}", f"{SEGMENT_ERRORS.get(error.code, 'Segment error')}: {where}",
                                STRUCTURE_FIX))  # fmt: skip
        for element in error.element_errors:
            name = f"{error.segment_id}{element.position.element:02d}"
            meaning = f"{ELEMENT_ERRORS.get(element.code, 'Element error')}: {name} of the {where}"
            problems.append(Problem(f"IK4:{element.code}", meaning, STRUCTURE_FIX))
    for code in response.syntax_errors:
        problems.append(Problem(f"IK5:{code}", SET_SYNTAX_ERRORS.get(code, "Transaction set error"), STRUCTURE_FIX))
    if not problems:
        problems.append(Problem(f"IK5:{response.code}", response.meaning or "Rejected", STRUCTURE_FIX))
    return SetVerdict(response.control_number, False, tuple(problems))


def _group_verdict(control_number: str, groups: list[ImplementationAcknowledgment]) -> SetVerdict:
    if all(group.code in ("A", "E") for group in groups):
        return SetVerdict(control_number, True)
    codes = [code for group in groups for code in group.group_errors] or ["R"]
    problems = tuple(
        Problem(f"AK9:{code}", GROUP_SYNTAX_ERRORS.get(code, "The functional group was rejected"), STRUCTURE_FIX)
        for code in codes
    )
    return SetVerdict(control_number, False, problems)


def claim_answers(acknowledgment_277ca: str) -> list[ClaimAnswer]:
    """Each claim the 277CA answers, accepted (with the payer's claim number) or rejected (with its codes)."""
    return [
        ClaimAnswer(
            claim.patient_control_number,
            claim.accepted,
            claim.payer_claim_number,
            _rejection_problems(claim) if claim.accepted is False else (),
        )
        for response in read_claim_statuses(acknowledgment_277ca)
        for claim in response.claims
    ]


def _rejection_problems(claim: ClaimStatus) -> tuple[Problem, ...]:
    statuses = [*claim.statuses, *(status for line in claim.lines for status in line.statuses)]
    codes = [code for status in statuses for code in status.codes]
    rejecting = [code for code in codes if code.category in REJECTED_CATEGORIES] or codes
    return tuple(
        rejection_problem(code.category, code.status, code.category_meaning or "", code.status_meaning or "")
        for code in rejecting
    )


def status_answers(response_277: str) -> list[ClaimStatusAnswer]:
    """Each claim a 277 answers, with every status it gives (claim level first, then lines)."""
    answers = []
    for response in read_claim_statuses(response_277):
        for claim in response.claims:
            statuses = [*claim.statuses, *(status for line in claim.lines for status in line.statuses)]
            reports = tuple(
                StatusReport(
                    code.category,
                    code.status,
                    f"{code.category_meaning or 'Unknown category'}: {code.status_meaning or 'unlisted status'}",
                )
                for status in statuses
                for code in status.codes
            )
            answers.append(ClaimStatusAnswer(claim.patient_control_number, reports))
    return answers
