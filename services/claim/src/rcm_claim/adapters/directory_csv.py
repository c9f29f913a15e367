"""The provider and payer directories as CSV files, read and written.

A file's rows are read into the JSON documents' fields, so a cell meets the same limits a JSON field does,
and then into the same domain objects, checked by the same domain rules (`checked_provider_directory`,
`checked_payer_directory`). A file is taken whole or not at all (`rcm_common.csv_tables`): the problems of
the file (a formula cell, a role, the billing row), of its fields (a length, a whole number) and of the
domain (an NPI's check digit, a payer listed twice) are raised together as one `CsvFileError`, each with its
row and column, and none repeats what a cell held. A row whose fields cannot all be read is left out of the
domain's checks, as a JSON document with a bad field never reaches them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from rcm_claim.domain.directories import (
    Address,
    BillingProvider,
    DirectoryError,
    Facility,
    PayerProfile,
    Provider,
    ProviderDirectory,
    checked_payer_directory,
    checked_provider_directory,
)
from rcm_claim.service_layer.views import BillingProviderDocument, FacilityDocument, PayerDocument, ProviderDocument
from rcm_common.csv_tables import (
    CsvProblem,
    CsvRow,
    InvalidCell,
    defused,
    raise_if_any,
    read_rows,
    refuse_formula,
    write_csv,
)
from rcm_common.http import validation_message

__all__ = [
    "MAX_PAYER_ROWS",
    "MAX_PROVIDER_ROWS",
    "PAYER_COLUMNS",
    "PROVIDER_COLUMNS",
    "parse_payer_directory",
    "parse_provider_directory",
    "payer_directory_csv",
    "provider_directory_csv",
]

_ADDRESS_PARTS: Final = ("line1", "line2", "city", "state", "postal_code")
_ADDRESS: Final = tuple(f"address_{part}" for part in _ADDRESS_PARTS)
_PAY_TO: Final = tuple(f"pay_to_{part}" for part in _ADDRESS_PARTS)
_APPEALS: Final = tuple(f"appeals_{part}" for part in _ADDRESS_PARTS)
PROVIDER_COLUMNS: Final = (
    "role", "name", "last_name", "first_name", "npi", "tax_id", "taxonomy", *_ADDRESS, *_PAY_TO, "location", "phone",
)  # fmt: skip
# A facility's row leaves these blank.
_FACILITY_BLANK: Final = ("last_name", "first_name", "tax_id", "taxonomy", *_PAY_TO, "phone")
_PERSON_COLUMNS: Final = ("last_name", "first_name")  # the billing row leaves these blank
_PROVIDER_REQUIRED: Final = frozenset(
    {"role", "name", "last_name", "npi", "tax_id", "taxonomy", "address_line1", "address_city", "address_state",
     "address_postal_code"}
)  # fmt: skip
_PAYER_FIELDS: Final = (
    "payer_id", "name", "filing_indicator", "timely_filing_days", "follow_up_days", "batch_size",
    "batch_interval_seconds", "eligibility_max_age_days", "prior_authorization_codes", "appeal_days",
)  # fmt: skip
PAYER_COLUMNS: Final = (*_PAYER_FIELDS, *_APPEALS)
# The document has defaults for the others: 30 days, no codes, no appeal window or address.
_PAYER_REQUIRED: Final = frozenset(PAYER_COLUMNS) - {
    "eligibility_max_age_days", "prior_authorization_codes", "appeal_days", *_APPEALS
}  # fmt: skip
MAX_PROVIDER_ROWS: Final = 5001  # the billing provider and the 5,000 providers a JSON document may list
MAX_PAYER_ROWS: Final = 1000  # as many payers as a JSON document may list
ROLES: Final = ("billing", "provider", "facility")
_CODE_SEPARATORS: Final = re.compile(r"[\s,;]+")
_POSITION: Final = re.compile(r"(?:providers|facilities|payers)\.\d+")  # how a domain problem names another row
# Checked in place of a billing row that is missing or unreadable, so the providers are checked all the same;
# what is wrong with it is no row's.
_NO_BILLING: Final = BillingProvider("", "", "", "", Address("", "", "", ""))

_D = TypeVar("_D", bound=BaseModel)


def parse_provider_directory(text: str) -> ProviderDirectory:
    """The directory of a CSV file with a row per provider: one `billing` row (the practice, 2010AA, with its
    address and optional pay-to address), a `provider` row per rendering or referring provider (a person), and
    a `facility` row per service facility (2310C, by its `location` code); or CsvFileError with every problem."""
    problems: list[CsvProblem] = []
    billing: list[tuple[CsvRow, BillingProvider | None]] = []
    people: list[tuple[CsvRow, Provider | None]] = []
    places: list[tuple[CsvRow, Facility | None]] = []
    for row in read_rows(text, PROVIDER_COLUMNS, _PROVIDER_REQUIRED, problems, max_rows=MAX_PROVIDER_ROWS):
        _refuse_formulas(row)
        match row.take("role", _role, None):
            case "billing":
                billing.append((row, _billing_provider(row)))
            case "provider":
                people.append((row, _provider(row)))
            case "facility":
                places.append((row, _facility(row)))
    _note_billing_rows([row for row, _ in billing], bool(people or places), problems)
    providers = [(row, provider) for row, provider in people if provider is not None]
    facilities = [(row, facility) for row, facility in places if facility is not None]
    rows = {f"providers.{index}": row for index, (row, _) in enumerate(providers)}
    rows |= {f"facilities.{index}": row for index, (row, _) in enumerate(facilities)}
    billing_row, billing_provider = billing[0] if billing else (None, None)
    if billing_row is not None and billing_provider is not None:
        rows["billing"] = billing_row
    directory = ProviderDirectory(
        billing_provider or _NO_BILLING,
        tuple(provider for _, provider in providers),
        tuple(facility for _, facility in facilities),
    )
    try:
        checked_provider_directory(directory)
    except DirectoryError as error:
        _note_domain_problems(error, rows, PROVIDER_COLUMNS)
    raise_if_any(problems)
    return directory


def parse_payer_directory(text: str) -> tuple[PayerProfile, ...]:
    """The payers of a CSV file with a row per payer, its prior authorisation codes in one cell separated by
    spaces, commas or semicolons; or CsvFileError with every problem."""
    problems: list[CsvProblem] = []
    read: list[tuple[CsvRow, PayerProfile]] = []
    for row in read_rows(text, PAYER_COLUMNS, _PAYER_REQUIRED, problems, max_rows=MAX_PAYER_ROWS):
        _refuse_formulas(row)
        fields: dict[str, Any] = _filled(row, _PAYER_FIELDS)
        if appeals := _filled(row, _ADDRESS_PARTS, "appeals_"):
            fields["appeals_address"] = appeals
        if codes := fields.get("prior_authorization_codes"):
            fields["prior_authorization_codes"] = [code for code in _CODE_SEPARATORS.split(codes) if code]
        if (document := _document(row, PayerDocument, fields, PAYER_COLUMNS)) is not None:
            read.append((row, document.domain()))
    payers = tuple(payer for _, payer in read)
    try:
        checked_payer_directory(payers)
    except DirectoryError as error:
        _note_domain_problems(error, {f"payers.{index}": row for index, (row, _) in enumerate(read)}, PAYER_COLUMNS)
    raise_if_any(problems)
    return payers


def provider_directory_csv(directory: ProviderDirectory) -> str:
    """The directory as CSV, the billing row first and the providers in their order, as
    `parse_provider_directory` reads it back."""
    rows = [
        _billing_cells(directory.billing),
        *({"role": "provider"} | _person_cells(provider) for provider in directory.providers),
        *(_facility_cells(facility) for facility in directory.facilities),
    ]
    return write_csv(
        PROVIDER_COLUMNS, (tuple(defused(row.get(column, "")) for column in PROVIDER_COLUMNS) for row in rows)
    )


def payer_directory_csv(payers: Iterable[PayerProfile]) -> str:
    """The payers as CSV ordered by payer id, their codes sorted and separated by spaces, as
    `parse_payer_directory` reads them back."""
    return write_csv(PAYER_COLUMNS, (_payer_cells(payer) for payer in sorted(payers, key=lambda p: p.payer_id)))


def _role(cell: str) -> str:
    if (role := cell.lower()) not in ROLES:
        raise InvalidCell(
            "the role is billing (the practice, one row), provider (a rendering or referring provider) or facility"
        )
    return role


def _refuse_formulas(row: CsvRow) -> None:
    """No cell of a directory begins as a formula does: no name, code, number or address does."""
    for column in row.cells:
        row.take(column, _not_a_formula, None)


def _not_a_formula(cell: str) -> None:
    refuse_formula(cell, "a cell")


def _billing_provider(row: CsvRow) -> BillingProvider | None:
    _leave_blank(row, _PERSON_COLUMNS, "only a provider row has a person's name")
    _leave_blank(row, ("location",), "only a facility row has a location")
    fields: dict[str, Any] = _filled(row, ("name", "npi", "tax_id", "taxonomy", "phone"))
    fields["address"] = _filled(row, _ADDRESS_PARTS, "address_")
    if pay_to := _filled(row, _ADDRESS_PARTS, "pay_to_"):
        fields["pay_to"] = pay_to
    if (document := _document(row, BillingProviderDocument, fields, PROVIDER_COLUMNS)) is None:
        return None
    return BillingProvider(
        document.name, document.npi, document.tax_id, document.taxonomy, document.address.domain(),
        document.pay_to.domain() if document.pay_to is not None else None, document.phone,
    )  # fmt: skip


def _provider(row: CsvRow) -> Provider | None:
    _leave_blank(row, ("tax_id", *_PAY_TO, "phone"), "only the billing row has this column")
    _leave_blank(row, ("name", *_ADDRESS, "location"), "only the billing or a facility row has this column")
    fields = _filled(row, ("last_name", "first_name", "npi", "taxonomy"))
    if (document := _document(row, ProviderDocument, fields, PROVIDER_COLUMNS)) is None:
        return None
    return Provider(document.last_name, document.first_name, document.npi, document.taxonomy)


def _facility(row: CsvRow) -> Facility | None:
    _leave_blank(row, _FACILITY_BLANK, "a facility row has a location, a name, an address and an NPI only")
    fields: dict[str, Any] = _filled(row, ("location", "name", "npi"))
    fields["address"] = _filled(row, _ADDRESS_PARTS, "address_")
    if (document := _document(row, FacilityDocument, fields, PROVIDER_COLUMNS)) is None:
        return None
    return document.domain()


def _leave_blank(row: CsvRow, columns: Iterable[str], message: str) -> None:
    """A cell another role's column holds would be dropped unseen: it is refused instead."""
    for column in columns:
        if row.cells.get(column):
            row.problem(column, message)


def _note_billing_rows(billing: list[CsvRow], any_provider: bool, problems: list[CsvProblem]) -> None:
    """A file has one billing row. None is the file's problem once any row's role was read."""
    for row in billing[1:]:
        row.problem("role", f"row {billing[0].number} is the billing provider; a file has one")
    if not billing and any_provider:
        problems.append(CsvProblem(1, None, "no row has the role billing; the practice's billing provider needs one"))


def _filled(row: CsvRow, fields: Iterable[str], prefix: str = "") -> dict[str, Any]:
    """The row's non-blank cells of the columns `prefix` + field, by field: a blank cell is left to the
    document's default, as an absent JSON field is."""
    return {field: cell for field in fields if (cell := row.cells.get(prefix + field))}


def _document(row: CsvRow, model: type[_D], fields: dict[str, Any], columns: tuple[str, ...]) -> _D | None:
    """The row as the JSON document `model`, so a file meets a document's field limits; or None, each field's
    problem noted in its column (`address.city` is `address_city`) with a 422's message for a JSON field."""
    try:
        return model.model_validate(fields)
    except ValidationError as invalid:
        for error in invalid.errors():
            column = "_".join(part for part in error["loc"] if isinstance(part, str))
            row.problem(column if column in columns else None, validation_message(error["type"]))
        return None


def _note_domain_problems(error: DirectoryError, rows: Mapping[str, CsvRow], columns: tuple[str, ...]) -> None:
    """Note each domain problem (where it is: `billing.address.state`, `providers.3.npi`, `payers.0.payer_id`)
    in its row (`rows` by the domain's name for it: `billing`, `providers.3`, `payers.0`) and column, another
    row it mentions named by number."""
    for where, what in error.problems:
        parts = where.split(".")
        named = 1 if parts[0] == "billing" else 2
        if (row := rows.get(".".join(parts[:named]))) is None:
            continue  # the stand-in billing provider's
        column = "_".join(parts[named:])
        row.problem(column if column in columns else None, _POSITION.sub(lambda at: f"row {rows[at[0]].number}", what))


def _billing_cells(billing: BillingProvider) -> dict[str, str]:
    pay_to = _address_cells("pay_to_", billing.pay_to) if billing.pay_to is not None else {}
    return {
        "role": "billing", "name": billing.name, "npi": billing.npi, "tax_id": billing.tax_id,
        "taxonomy": billing.taxonomy, **_address_cells("address_", billing.address), **pay_to, "phone": billing.phone,
    }  # fmt: skip


def _address_cells(prefix: str, address: Address) -> dict[str, str]:
    return {prefix + part: value for part, value in dataclasses.asdict(address).items()}


def _facility_cells(facility: Facility) -> dict[str, str]:
    return {"role": "facility", "location": facility.location, "name": facility.name, "npi": facility.npi,
            **_address_cells("address_", facility.address)}  # fmt: skip


def _person_cells(provider: Provider) -> dict[str, str]:
    return {"last_name": provider.last_name, "first_name": provider.first_name, "npi": provider.npi,
            "taxonomy": provider.taxonomy}  # fmt: skip


def _payer_cells(payer: PayerProfile) -> tuple[str, ...]:
    appeals = _address_cells("appeals_", payer.appeals_address) if payer.appeals_address is not None else {}
    cells = (
        payer.payer_id, payer.name, payer.filing_indicator, str(payer.timely_filing_days), str(payer.follow_up_days),
        str(payer.batch_size), str(payer.batch_interval_seconds), str(payer.eligibility_max_age_days),
        " ".join(sorted(payer.prior_authorization_codes)),
        str(payer.appeal_days) if payer.appeal_days is not None else "",
        *(appeals.get(column, "") for column in _APPEALS),
    )  # fmt: skip
    return tuple(defused(cell) for cell in cells)
