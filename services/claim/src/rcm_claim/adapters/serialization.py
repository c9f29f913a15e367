"""The JSON form of what claim stores encrypted: copies' personal details and a claim's content. Decimals
travel as strings and dates as ISO dates, so a round trip gives back equal domain objects."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from rcm_claim.domain.adjudication import (
    Adjudication,
    Adjustment,
    Denial,
    DeniedPart,
    LinePayment,
    PriorLine,
    PriorPayer,
)
from rcm_claim.domain.copies import Person
from rcm_claim.domain.denial_work import Appeal, Resolution
from rcm_claim.domain.directories import Address
from rcm_claim.domain.events import Problem
from rcm_claim.domain.findings import Finding, Override, RuleRun, ScrubRecord
from rcm_claim.domain.model import ClaimLine, Rejection, Transition


def _default(value: object) -> str:
    if isinstance(value, Decimal | date | UUID):  # datetime is a date: isoformat through str keeps its offset
        return value.isoformat() if isinstance(value, datetime) else str(value)
    raise TypeError(f"cannot store a {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"), sort_keys=True)


def flat(value: Any) -> dict[str, Any]:
    """A dataclass of plain values (no dataclass within) as a dict: `asdict` without its deep copying, which
    writing hundreds of claims a batch spends most of their serialisation on."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def person_to_json(person: Person | None) -> dict[str, Any] | None:
    return None if person is None else asdict(person)


def person_from_json(data: dict[str, Any] | None) -> Person | None:
    if data is None:
        return None
    return Person(data["last_name"], data["first_name"], _date(data["birth_date"]), data["sex"])


def address_from_json(data: dict[str, Any] | None) -> Address | None:
    return None if data is None else Address(**data)


def lines_to_json(lines: tuple[ClaimLine, ...]) -> list[dict[str, Any]]:
    return [flat(line) for line in lines]


def lines_from_json(data: list[dict[str, Any]]) -> tuple[ClaimLine, ...]:
    return tuple(
        ClaimLine(
            number=line["number"],
            control_number=line["control_number"],
            procedure_code=line["procedure_code"],
            modifiers=tuple(line["modifiers"]),
            units=Decimal(line["units"]),
            date_of_service=date.fromisoformat(line["date_of_service"]),
            charge=Decimal(line["charge"]),
            diagnosis_pointers=tuple(line["diagnosis_pointers"]),
            expected_allowed=None if line["expected_allowed"] is None else Decimal(line["expected_allowed"]),
            ndc=line["ndc"],
        )
        for line in data
    )


def timeline_to_json(timeline: list[Transition]) -> list[dict[str, Any]]:
    return [flat(step) for step in timeline]


def timeline_from_json(data: list[dict[str, Any]]) -> list[Transition]:
    return [
        Transition(
            datetime.fromisoformat(step["at"]), step["from_state"], step["to_state"], step["cause"], step["note"]
        )
        for step in data
    ]


def rejection_to_json(rejection: Rejection | None) -> dict[str, Any] | None:
    return None if rejection is None else asdict(rejection)


def rejection_from_json(data: dict[str, Any] | None) -> Rejection | None:
    if data is None:
        return None
    problems = tuple(Problem(p["code"], p["meaning"], p["suggested_fix"]) for p in data["problems"])
    return Rejection(data["stage"], problems, datetime.fromisoformat(data["at"]))


def _finding_to_json(finding: Finding) -> dict[str, Any]:
    """A finding, its evidence (claim ids) only when it has some: one without is stored as before."""
    data: dict[str, Any] = {"rule": finding.rule, "version": finding.version, "severity": finding.severity,
                            "message": finding.message, "line": finding.line}  # fmt: skip
    if finding.evidence:
        data["evidence"] = [str(claim_id) for claim_id in finding.evidence]
    return data


def _finding_from_json(data: dict[str, Any]) -> Finding:
    """A stored finding; one stored before findings had evidence reads with none."""
    return Finding(
        rule=data["rule"],
        version=data["version"],
        severity=data["severity"],
        message=data["message"],
        line=data["line"],
        evidence=tuple(UUID(claim_id) for claim_id in data.get("evidence", ())),
    )


def scrub_to_json(record: ScrubRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "ran": [flat(run) for run in record.ran],
        "findings": [_finding_to_json(finding) for finding in record.findings],
        "overrides": [
            {
                "rule": override.rule,
                "reason": override.reason,
                "by": override.by,
                "at": override.at,
                "findings": [[line, message] for line, message in override.findings],
            }
            for override in record.overrides
        ],
        "authorization_number": record.authorization_number,
    }


def scrub_from_json(data: dict[str, Any] | None) -> ScrubRecord | None:
    if data is None:
        return None
    return ScrubRecord(
        ran=tuple(RuleRun(**run) for run in data["ran"]),
        findings=tuple(_finding_from_json(finding) for finding in data["findings"]),
        overrides=tuple(
            Override(
                rule=override["rule"],
                reason=override["reason"],
                by=override["by"],
                at=datetime.fromisoformat(override["at"]),
                findings=frozenset((line, message) for line, message in override["findings"]),
            )
            for override in data["overrides"]
        ),
        authorization_number=data["authorization_number"],
    )


def adjudications_to_json(adjudications: tuple[Adjudication, ...]) -> list[dict[str, Any]]:
    return [asdict(adjudication) for adjudication in adjudications]


def _adjustments(data: list[dict[str, Any]]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a["group"], a["reason"], Decimal(a["amount"])) for a in data)


def _line_payment(line: dict[str, Any]) -> LinePayment:
    return LinePayment(line["control_number"], line["procedure_code"], tuple(line["modifiers"]),
                       Decimal(line["units"]), Decimal(line["paid"]), _adjustments(line["adjustments"]))  # fmt: skip


def adjudications_from_json(data: list[dict[str, Any]]) -> tuple[Adjudication, ...]:
    return tuple(
        Adjudication(
            payment_id=UUID(a["payment_id"]),
            trace_number=a["trace_number"],
            payer_claim_number=a["payer_claim_number"],
            claim_status=a["claim_status"],
            charge=Decimal(a["charge"]),
            paid=Decimal(a["paid"]),
            allowed=Decimal(a["allowed"]),
            patient_responsibility=Decimal(a["patient_responsibility"]),
            paid_lines=tuple(a["paid_lines"]),
            denied_lines=tuple(a["denied_lines"]),
            underpaid_by=Decimal(a["underpaid_by"]) if a["underpaid_by"] is not None else None,
            posted_at=datetime.fromisoformat(a["posted_at"]),
            reversed=a["reversed"],
            paid_on=_date(a.get("paid_on")),
            claim_adjustments=_adjustments(a.get("claim_adjustments", [])),
            line_payments=tuple(_line_payment(line) for line in a.get("line_payments", [])),
        )
        for a in data
    )


def prior_payers_to_json(payers: tuple[PriorPayer, ...]) -> list[dict[str, Any]]:
    return [asdict(payer) for payer in payers]


def prior_payers_from_json(data: list[dict[str, Any]]) -> tuple[PriorPayer, ...]:
    return tuple(
        PriorPayer(
            payer_id=p["payer_id"],
            payer_name=p["payer_name"],
            filing_indicator=p["filing_indicator"],
            responsibility=p["responsibility"],
            relationship=p["relationship"],
            member_id=p["member_id"],
            subscriber=Person(
                p["subscriber"]["last_name"],
                p["subscriber"]["first_name"],
                _date(p["subscriber"]["birth_date"]),
                p["subscriber"]["sex"],
            ),
            payer_claim_number=p["payer_claim_number"],
            payment_id=UUID(p["payment_id"]),
            paid=Decimal(p["paid"]),
            paid_on=date.fromisoformat(p["paid_on"]),
            adjustments=_adjustments(p["adjustments"]),
            lines=tuple(
                PriorLine(
                    line["line_number"],
                    line["procedure_code"],
                    tuple(line["modifiers"]),
                    Decimal(line["units"]),
                    Decimal(line["paid"]),
                    _adjustments(line["adjustments"]),
                )
                for line in p["lines"]
            ),
        )
        for p in data
    )


def denials_to_json(denials: tuple[Denial, ...]) -> list[dict[str, Any]]:
    return [asdict(denial) for denial in denials]


def denials_from_json(data: list[dict[str, Any]]) -> tuple[Denial, ...]:
    return tuple(
        Denial(
            payment_id=UUID(d["payment_id"]),
            whole_claim=d["whole_claim"],
            category=d["category"],
            suggested_action=d["suggested_action"],
            amount=Decimal(d["amount"]),
            reasons=tuple(d["reasons"]),
            words=tuple(d.get("words", ())),
            parts=tuple(DeniedPart(p["line"], p["reason"], Decimal(p["amount"])) for p in d.get("parts", ())),
        )
        for d in data
    )


def resolutions_to_json(resolutions: tuple[Resolution, ...]) -> list[dict[str, Any]]:
    return [flat(resolution) for resolution in resolutions]


def resolutions_from_json(data: list[dict[str, Any]]) -> tuple[Resolution, ...]:
    return tuple(
        Resolution(
            payment_id=UUID(r["payment_id"]),
            kind=r["kind"],
            reason=r["reason"],
            amount=Decimal(r["amount"]),
            by=r["by"],
            at=datetime.fromisoformat(r["at"]),
            replacement_id=UUID(r["replacement_id"]) if r["replacement_id"] is not None else None,
            appeal_number=r["appeal_number"],
            withdrawn=r.get("withdrawn", False),
            moved=Decimal(r.get("moved", "0.00")),
            underpayment=r.get("underpayment", False),
        )
        for r in data
    )


def appeals_to_json(appeals: tuple[Appeal, ...]) -> list[dict[str, Any]]:
    return [flat(appeal) for appeal in appeals]


def appeals_from_json(data: list[dict[str, Any]]) -> tuple[Appeal, ...]:
    return tuple(
        Appeal(
            number=a["number"],
            level=a["level"],
            payment_id=UUID(a["payment_id"]),
            category=a["category"],
            reasons=tuple(a["reasons"]),
            reason=a["reason"],
            argument=a["argument"],
            attachments=tuple(a["attachments"]),
            amount_at_stake=Decimal(a["amount_at_stake"]),
            paid_before=Decimal(a["paid_before"]),
            by=a["by"],
            at=datetime.fromisoformat(a["at"]),
            deadline=_date(a["deadline"]),
            lines=tuple(a.get("lines", ())),
            outcome=a["outcome"],
            decided_by=UUID(a["decided_by"]) if a["decided_by"] is not None else None,
            decided_at=datetime.fromisoformat(a["decided_at"]) if a["decided_at"] is not None else None,
            recovered=Decimal(a["recovered"]) if a["recovered"] is not None else None,
        )
        for a in data
    )
