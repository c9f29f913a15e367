"""The provider and payer directories: a document is taken whole or refused whole with every problem listed,
and the default payers are the clearinghouse simulator's four, filed as their plans are."""

from __future__ import annotations

import dataclasses
import json
from importlib.resources import files

import pytest

from rcm_claim.adapters.payer_defaults import default_payers
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
from rcm_claim.testing import PRACTICE

OFFICE = Address("100 Main St", "Springfield", "IL", "627011234")
CLINIC = BillingProvider("Springfield Family Medicine", "1234567893", "371234567", "207Q00000X", OFFICE)
DOCTOR = Provider("Osler", "William", "1497758544", "207R00000X")


def payer(**changes: object) -> PayerProfile:
    profile = PayerProfile("ACME01", "Acme Health Plan", "12", 90, 30, 500, 60)
    return dataclasses.replace(profile, **changes)  # type: ignore[arg-type]


def problems_of(error: pytest.ExceptionInfo[DirectoryError]) -> dict[str, str]:
    return dict(error.value.problems)


def test_a_valid_provider_directory_is_taken_and_finds_a_provider_by_npi() -> None:
    directory = checked_provider_directory(ProviderDirectory(CLINIC, (DOCTOR,)))

    assert directory.provider("1497758544") == DOCTOR
    assert directory.provider("1234567893") is None


def test_a_provider_directory_is_refused_with_every_problem_where_it_is() -> None:
    billing = BillingProvider(
        "Clinic", "1234567890", "37-1234567", "family", Address("", "Springfield", "Illinois", "62701")
    )
    providers = (DOCTOR, Provider("", "Ann", "1497758544", "207R0000"))

    with pytest.raises(DirectoryError) as error:
        checked_provider_directory(ProviderDirectory(billing, providers))

    assert problems_of(error) == {
        "billing.npi": "an NPI is ten digits with a valid check digit",
        "billing.tax_id": "the tax id is nine digits (an EIN, without the hyphen)",
        "billing.taxonomy": "a provider taxonomy is ten characters ending in X (NUCC)",
        "billing.address": "an address has a street line and a city",
        "billing.address.state": "a state is its two-letter postal code",
        "billing.address.postal_code": "the ZIP is the nine-digit ZIP+4 (N403 of 2010AA and 2310C)",
        "providers.1.last_name": "a provider's last name is required",
        "providers.1.taxonomy": "a provider taxonomy is ten characters ending in X (NUCC)",
        "providers.1.npi": "the NPI is listed already at providers.0",
    }


def test_the_pay_to_address_may_have_a_five_digit_zip_but_not_a_malformed_one() -> None:
    five_digits = dataclasses.replace(CLINIC, pay_to=Address("PO Box 9", "Springfield", "IL", "62705"))
    assert checked_provider_directory(ProviderDirectory(five_digits, ())).billing.pay_to is not None

    malformed = dataclasses.replace(CLINIC, pay_to=Address("PO Box 9", "Springfield", "IL", "6270"))
    with pytest.raises(DirectoryError) as error:
        checked_provider_directory(ProviderDirectory(malformed, ()))
    assert problems_of(error) == {"billing.pay_to.postal_code": "a ZIP code is five or nine digits"}


def test_a_rendering_provider_without_a_taxonomy_is_taken() -> None:
    untyped = Provider("Osler", "William", "1497758544")

    assert checked_provider_directory(ProviderDirectory(CLINIC, (untyped,))).providers == (untyped,)


def test_a_payer_directory_is_refused_with_every_problem_where_it_is() -> None:
    document = [
        payer(),
        payer(name=" ", filing_indicator="PPO", timely_filing_days=0),
        payer(payer_id="acme-01", follow_up_days=400, batch_size=0, batch_interval_seconds=86401),
        payer(payer_id="SUMMT1", eligibility_max_age_days=0, prior_authorization_codes=frozenset({"72148", "MRI"})),
    ]

    with pytest.raises(DirectoryError) as error:
        checked_payer_directory(document)

    assert problems_of(error) == {
        "payers.1.payer_id": "the payer is listed already at payers.0",
        "payers.1.name": "a payer's name is required",
        "payers.1.filing_indicator": "not an 837P claim filing indicator (SBR09)",
        "payers.1.timely_filing_days": "the timely-filing window is 1 to 3,650 days",
        "payers.2.payer_id": "a payer id is 2 to 80 upper-case letters and digits",
        "payers.2.follow_up_days": "follow-up comes 1 to 365 days after acceptance",
        "payers.2.batch_size": "a batch holds 1 to 5,000 claims",
        "payers.2.batch_interval_seconds": "batches go every 1 second to 1 day",
        "payers.3.eligibility_max_age_days": "an eligibility answer is trusted 1 to 365 days",
        "payers.3.prior_authorization_codes": "1 of 2 are not CPT or HCPCS codes",
    }
    assert "payers.1.name: a payer's name is required" in str(error.value)
    assert "MRI" not in str(error.value)


@pytest.mark.parametrize("indicator", ["MB", "MC", "CI", "HM", "12", "BL"])
def test_the_claim_filing_indicators_payers_use_are_taken(indicator: str) -> None:
    assert checked_payer_directory([payer(filing_indicator=indicator)])[0].filing_indicator == indicator


def test_the_default_payers_are_the_simulators_four_filed_as_their_plans_are() -> None:
    simulator = json.loads(files("rcm_clearinghouse_sim").joinpath("default_config.json").read_text(encoding="utf-8"))
    plans = {plan["id"]: plan for plan in simulator["payers"]}

    payers = default_payers()

    assert [profile.payer_id for profile in payers] == list(plans)
    for profile in payers:
        assert profile.filing_indicator == plans[profile.payer_id]["claim_filing"]
        assert profile.timely_filing_days == plans[profile.payer_id]["timely_filing_days"]
        assert profile.prior_authorization_codes == set(plans[profile.payer_id].get("prior_auth_codes") or ())


def test_facilities_are_checked_with_the_providers_each_location_once_with_a_full_address() -> None:
    hospital = Facility("HOSP", "Springfield General", Address("800 E Carpenter St", "Springfield", "IL", "627690001"))
    directory = dataclasses.replace(
        PRACTICE,
        facilities=(
            hospital,
            dataclasses.replace(hospital, npi="1245319590"),
            Facility("ER 2", " ", Address("1 Way", "Springfield", "IL", "62769")),
        ),
    )

    with pytest.raises(DirectoryError) as error:
        checked_provider_directory(directory)

    assert dict(error.value.problems) == {
        "facilities.1.location": "the location is listed already at facilities.0",
        "facilities.1.npi": "an NPI is ten digits with a valid check digit",
        "facilities.2.location": "a location code is 1 to 20 letters, digits, - or _",
        "facilities.2.name": "a service facility's name is required",
        "facilities.2.address.postal_code": "the ZIP is the nine-digit ZIP+4 (N403 of 2010AA and 2310C)",
    }
    assert (
        checked_provider_directory(dataclasses.replace(PRACTICE, facilities=(hospital,))).facility("HOSP") == hospital
    )
