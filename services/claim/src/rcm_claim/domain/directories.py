"""The reference data the claim service owns: the practice's providers and the payers it bills.

A claim names its billing provider (2010AA: the organisation, its NPI, tax id, taxonomy, a nine-digit ZIP
and, where payments go elsewhere, the pay-to address) and its rendering and referring providers (2310B,
2310A: a person's name, NPI and taxonomy). Each of the practice's locations where services are given away
from the billing provider's address (a hospital, a surgery centre, a nursing facility) is a service
facility (2310C: its name, address and, where it has one, NPI), found by the location code charge records
on the encounter, and the practice's phone number goes on its appeal letters. A payer profile says how the
payer is billed: its claim filing indicator (SBR09), its timely-filing window, when an unpaid claim is
followed up, how claims are batched, and how long after a denial it takes an appeal, and where. Each
directory is replaced whole from one document; a document with any problem is refused whole, every problem
listed with where it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from rcm_common.identifiers import npi_valid

# SBR09, the claim filing indicator codes of the 837P (005010X222A1).
FILING_INDICATORS: Final = frozenset(
    {
        "09", "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA",
        "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
    }
)  # fmt: skip
_TAXONOMY: Final = re.compile(r"[0-9]{3}[0-9A-Z]{6}X")  # NUCC provider taxonomy: ten characters ending X
_TAX_ID: Final = re.compile(r"[0-9]{9}")
_ZIP_PLUS_4: Final = re.compile(r"[0-9]{9}")
_PHONE: Final = re.compile(r"[0-9]{10}")
_STATE: Final = re.compile(r"[A-Z]{2}")
_PAYER_ID: Final = re.compile(r"[A-Z0-9]{2,80}")
_LOCATION: Final = re.compile(r"[A-Za-z0-9_-]{1,20}")  # as charge records it on an encounter
_PROCEDURE_CODE: Final = re.compile(r"[0-9A-Z][0-9]{3}[0-9A-Z]")  # a CPT or HCPCS Level II code


class DirectoryError(ValueError):
    """A directory document with problems, each `(where, what)`; nothing of it is taken."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(frozen=True, slots=True)
class BillingProvider:
    name: str
    npi: str
    tax_id: str
    taxonomy: str
    address: Address
    pay_to: Address | None = None
    phone: str = ""  # ten digits: the practice's number on its appeal letters


@dataclass(frozen=True, slots=True)
class Provider:
    """A rendering or referring provider: a person."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str = ""


@dataclass(frozen=True, slots=True)
class Facility:
    """A service facility (2310C): where services are given, by the practice's code for the location."""

    location: str
    name: str
    address: Address
    npi: str = ""


@dataclass(frozen=True, slots=True)
class ProviderDirectory:
    billing: BillingProvider
    providers: tuple[Provider, ...]
    facilities: tuple[Facility, ...] = ()

    def provider(self, npi: str) -> Provider | None:
        return next((provider for provider in self.providers if provider.npi == npi), None)

    def facility(self, location: str | None) -> Facility | None:
        return next((facility for facility in self.facilities if facility.location == location), None)


@dataclass(frozen=True, slots=True)
class PayerProfile:
    payer_id: str
    name: str
    filing_indicator: str
    timely_filing_days: int
    follow_up_days: int
    batch_size: int
    batch_interval_seconds: int
    prior_authorization_codes: frozenset[str] = frozenset()  # the codes the payer will not pay unauthorised
    eligibility_max_age_days: int = 30  # an eligibility answer older than this is re-verified before billing
    appeal_days: int | None = None  # how long after a denial the payer takes an appeal
    appeals_address: Address | None = None  # where the payer takes appeals by mail


def checked_provider_directory(directory: ProviderDirectory) -> ProviderDirectory:
    """The directory, or DirectoryError with every problem: NPIs with a valid check digit, a nine-digit tax id,
    NUCC taxonomies, nine-digit ZIP+4 for the billing provider (2010AA N403), each provider once."""
    problems: list[tuple[str, str]] = []
    billing = directory.billing
    _npi(problems, "billing.npi", billing.npi)
    if not _TAX_ID.fullmatch(billing.tax_id):
        problems.append(("billing.tax_id", "the tax id is nine digits (an EIN, without the hyphen)"))
    _taxonomy(problems, "billing.taxonomy", billing.taxonomy, required=True)
    _address(problems, "billing.address", billing.address, zip_plus_4=True)
    if billing.pay_to is not None:
        _address(problems, "billing.pay_to", billing.pay_to, zip_plus_4=False)
    if billing.phone and not _PHONE.fullmatch(billing.phone):
        problems.append(("billing.phone", "a phone number is ten digits, without punctuation"))
    seen: dict[str, int] = {}
    for index, provider in enumerate(directory.providers):
        where = f"providers.{index}"
        if not provider.last_name.strip():
            problems.append((f"{where}.last_name", "a provider's last name is required"))
        _npi(problems, f"{where}.npi", provider.npi)
        _taxonomy(problems, f"{where}.taxonomy", provider.taxonomy, required=False)
        if (first := seen.setdefault(provider.npi, index)) != index:
            problems.append((f"{where}.npi", f"the NPI is listed already at providers.{first}"))
    _facilities(problems, directory.facilities)
    if problems:
        raise DirectoryError(problems)
    return directory


def checked_payer_directory(payers: Iterable[PayerProfile]) -> tuple[PayerProfile, ...]:
    """The payers, or DirectoryError with every problem: a payer id once, an SBR09 code, windows and batch
    sizes in range, and prior authorisation lists of CPT or HCPCS codes."""
    problems: list[tuple[str, str]] = []
    found = tuple(payers)
    seen: dict[str, int] = {}
    for index, payer in enumerate(found):
        where = f"payers.{index}"
        if not _PAYER_ID.fullmatch(payer.payer_id):
            problems.append((f"{where}.payer_id", "a payer id is 2 to 80 upper-case letters and digits"))
        elif (first := seen.setdefault(payer.payer_id, index)) != index:
            problems.append((f"{where}.payer_id", f"the payer is listed already at payers.{first}"))
        if not payer.name.strip():
            problems.append((f"{where}.name", "a payer's name is required"))
        if payer.filing_indicator not in FILING_INDICATORS:
            problems.append((f"{where}.filing_indicator", "not an 837P claim filing indicator (SBR09)"))
        if not 1 <= payer.timely_filing_days <= 3650:
            problems.append((f"{where}.timely_filing_days", "the timely-filing window is 1 to 3,650 days"))
        if not 1 <= payer.follow_up_days <= 365:
            problems.append((f"{where}.follow_up_days", "follow-up comes 1 to 365 days after acceptance"))
        if not 1 <= payer.batch_size <= 5000:
            problems.append((f"{where}.batch_size", "a batch holds 1 to 5,000 claims"))
        if not 1 <= payer.batch_interval_seconds <= 86400:
            problems.append((f"{where}.batch_interval_seconds", "batches go every 1 second to 1 day"))
        if not 1 <= payer.eligibility_max_age_days <= 365:
            problems.append((f"{where}.eligibility_max_age_days", "an eligibility answer is trusted 1 to 365 days"))
        if payer.appeal_days is not None and not 1 <= payer.appeal_days <= 3650:
            problems.append((f"{where}.appeal_days", "the appeal window is 1 to 3,650 days"))
        if payer.appeals_address is not None:
            _address(problems, f"{where}.appeals_address", payer.appeals_address, zip_plus_4=False)
        if unreadable := sum(not _PROCEDURE_CODE.fullmatch(code) for code in payer.prior_authorization_codes):
            codes = len(payer.prior_authorization_codes)
            problems.append(
                (f"{where}.prior_authorization_codes", f"{unreadable} of {codes} are not CPT or HCPCS codes")
            )
    if problems:
        raise DirectoryError(problems)
    return found


def _facilities(problems: list[tuple[str, str]], facilities: tuple[Facility, ...]) -> None:
    """Each location once, named, with a full address (2310C N403 is nine digits) and, if any, a valid NPI."""
    seen: dict[str, int] = {}
    for index, facility in enumerate(facilities):
        where = f"facilities.{index}"
        if not _LOCATION.fullmatch(facility.location):
            problems.append((f"{where}.location", "a location code is 1 to 20 letters, digits, - or _"))
        elif (first := seen.setdefault(facility.location, index)) != index:
            problems.append((f"{where}.location", f"the location is listed already at facilities.{first}"))
        if not facility.name.strip():
            problems.append((f"{where}.name", "a service facility's name is required"))
        if facility.npi:
            _npi(problems, f"{where}.npi", facility.npi)
        _address(problems, f"{where}.address", facility.address, zip_plus_4=True)


def _npi(problems: list[tuple[str, str]], where: str, npi: str) -> None:
    if not npi_valid(npi):
        problems.append((where, "an NPI is ten digits with a valid check digit"))


def _taxonomy(problems: list[tuple[str, str]], where: str, taxonomy: str, *, required: bool) -> None:
    if (taxonomy or required) and not _TAXONOMY.fullmatch(taxonomy):
        problems.append((where, "a provider taxonomy is ten characters ending in X (NUCC)"))


def _address(problems: list[tuple[str, str]], where: str, address: Address, *, zip_plus_4: bool) -> None:
    if not address.line1.strip() or not address.city.strip():
        problems.append((where, "an address has a street line and a city"))
    if not _STATE.fullmatch(address.state):
        problems.append((f"{where}.state", "a state is its two-letter postal code"))
    if zip_plus_4 and not _ZIP_PLUS_4.fullmatch(address.postal_code):
        problems.append((f"{where}.postal_code", "the ZIP is the nine-digit ZIP+4 (N403 of 2010AA and 2310C)"))
    elif not zip_plus_4 and not re.fullmatch(r"[0-9]{5}(?:[0-9]{4})?", address.postal_code):
        problems.append((f"{where}.postal_code", "a ZIP code is five or nine digits"))
