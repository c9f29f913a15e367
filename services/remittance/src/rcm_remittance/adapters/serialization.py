"""The JSON documents stored encrypted: a claim copy's lines, and a claim payment's detail (what the 835 said of
it beyond the columns, and how its lines matched). Amounts and quantities are decimal strings, dates ISO."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from rcm_remittance.domain.advice import Adjustment, ClaimPaymentAdvice, LineAdvice
from rcm_remittance.domain.copies import LineCopy


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _read_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def copy_lines_json(lines: tuple[LineCopy, ...]) -> str:
    return json.dumps(
        [
            [
                line.control_number,
                line.procedure_code,
                list(line.modifiers),
                str(line.units),
                line.date_of_service.isoformat(),
                str(line.charge),
                _money(line.expected_allowed),
            ]
            for line in lines
        ]
    )


def copy_lines_of(document: str) -> tuple[LineCopy, ...]:
    return tuple(
        LineCopy(
            control_number=control,
            procedure_code=code,
            modifiers=tuple(modifiers),
            units=Decimal(units),
            date_of_service=date.fromisoformat(day),
            charge=Decimal(charge),
            expected_allowed=Decimal(expected) if expected is not None else None,
        )
        for control, code, modifiers, units, day, charge, expected in json.loads(document)
    )


def _adjustments_json(adjustments: tuple[Adjustment, ...]) -> list[list[str]]:
    return [[a.group, a.reason, str(a.amount)] for a in adjustments]


def _adjustments_of(document: list[list[str]]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(group, reason, Decimal(amount)) for group, reason, amount in document)


def payment_detail_json(advice: ClaimPaymentAdvice, line_matches: tuple[str | None, ...]) -> str:
    """What the columns do not hold of a claim payment: frequency, statement dates, adjustments, remarks, lines."""
    return json.dumps(
        {
            "frequency": advice.frequency,
            "statement": [_day(advice.statement_start), _day(advice.statement_end)],
            "adjustments": _adjustments_json(advice.adjustments),
            "remarks": list(advice.remark_codes),
            "line_matches": list(line_matches),
            "lines": [_line_json(line) for line in advice.lines],
        }
    )


def _line_json(line: LineAdvice) -> dict[str, Any]:
    return {
        "code": line.procedure_code,
        "modifiers": list(line.modifiers),
        "billed": [line.billed_code, list(line.billed_modifiers)],
        "units": [str(line.units_paid), str(line.units_billed)],
        "date": _day(line.service_date),
        "amounts": [str(line.charge), str(line.paid), _money(line.allowed_amount)],
        "control": line.control_number,
        "adjustments": _adjustments_json(line.adjustments),
        "remarks": list(line.remark_codes),
    }


def payment_detail_of(
    document: str,
    *,
    patient_control_number: str,
    status: str,
    charge: Decimal,
    paid: Decimal,
    patient_responsibility: Decimal,
    payer_claim_number: str,
) -> tuple[ClaimPaymentAdvice, tuple[str | None, ...]]:
    """The claim payment's advice, from its columns and its detail, and how its lines matched."""
    detail = json.loads(document)
    start, end = detail["statement"]
    advice = ClaimPaymentAdvice(
        patient_control_number=patient_control_number,
        status=status,
        charge=charge,
        paid=paid,
        patient_responsibility=patient_responsibility,
        payer_claim_number=payer_claim_number,
        frequency=detail["frequency"],
        statement_start=_read_day(start),
        statement_end=_read_day(end),
        adjustments=_adjustments_of(detail["adjustments"]),
        remark_codes=tuple(detail["remarks"]),
        lines=tuple(_line_of(line) for line in detail["lines"]),
    )
    return advice, tuple(detail["line_matches"])


def _line_of(line: dict[str, Any]) -> LineAdvice:
    billed_code, billed_modifiers = line["billed"]
    units_paid, units_billed = line["units"]
    charge, paid, allowed = line["amounts"]
    return LineAdvice(
        procedure_code=line["code"],
        modifiers=tuple(line["modifiers"]),
        billed_code=billed_code,
        billed_modifiers=tuple(billed_modifiers),
        units_paid=Decimal(units_paid),
        units_billed=Decimal(units_billed),
        service_date=_read_day(line["date"]),
        charge=Decimal(charge),
        paid=Decimal(paid),
        allowed_amount=Decimal(allowed) if allowed is not None else None,
        control_number=line["control"],
        adjustments=_adjustments_of(line["adjustments"]),
        remark_codes=tuple(line["remarks"]),
    )
