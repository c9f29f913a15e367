"""The agency export: one CSV row per account placed, in the layout the canvas documents.

The columns are fixed and named in a header row; money has two places and a dot; dates are ISO 8601. A
value a spreadsheet would read as a formula (one starting, after any spaces, with =, +, -, or @, or starting with
a tab or a carriage return) is written with a leading apostrophe, so opening the file never runs anything; a
telephone number written +1 ... so gains an apostrophe too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final
from uuid import UUID

COLUMNS: Final = (
    "placement_id",
    "account_id",
    "agency",
    "placed_on",
    "amount_placed",
    "balance_due",
    "guarantor_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "phone",
    "oldest_service_date",
    "last_statement_on",
    "statements_sent",
    "last_payment_on",
    "last_payment_amount",
    "paid_to_practice",
)
_FORMULA_START: Final = ("=", "+", "-", "@")


@dataclass(frozen=True)
class PlacedAccount:
    placement_id: UUID
    account_id: UUID
    agency: str
    placed_on: date
    amount_placed: Decimal
    balance_due: Decimal
    guarantor_name: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    phone: str
    oldest_service_date: date | None
    last_statement_on: date | None
    statements_sent: int
    last_payment_on: date | None
    last_payment_amount: Decimal | None
    paid_to_practice: Decimal


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = value.isoformat() if isinstance(value, date) else str(value)
    formula = text.lstrip().startswith(_FORMULA_START) or text.startswith(("\t", "\r"))
    return "'" + text if formula else text


def placement_csv(rows: Iterable[PlacedAccount]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in COLUMNS])
    return out.getvalue()
