"""The directories over HTTP as CSV, beside JSON: what `GET` answers as CSV a `PUT` takes back unchanged, and
a CSV with anything wrong is refused whole with problem+json naming every problem by row and column,
echoing no cell, and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.service_layer.views import PayerDocument, ProviderDirectoryDocument
from rcm_claim.testing import PRACTICE, ClaimApi, running_claim

PAYERS = [PayerDocument.of(payer).model_dump() for payer in default_payers()]
PROVIDERS = ProviderDirectoryDocument.of(PRACTICE).model_dump()
CSV = {"Content-Type": "text/csv"}
AS_CSV = {"Accept": "text/csv"}
PROBLEM = "application/problem+json"
FORMULA = "a cell cannot begin with =, +, -, or @, which spreadsheets run as a formula"


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[ClaimApi]:
    async with running_claim(tmp_path / "state", signing_keys, database_url) as running:
        for path, document in (("/payers", PAYERS), ("/providers", PROVIDERS)):
            stored = await running.client.put(path, json=document, headers=running.auth("admin"))
            assert stored.status_code == 200, stored.text
        yield running


async def directories(api: ClaimApi) -> tuple[Any, Any]:
    providers = await api.client.get("/providers", headers=api.auth())
    payers = await api.client.get("/payers", headers=api.auth())
    return providers.json(), payers.json()


async def test_a_directory_read_as_csv_is_taken_back_unchanged(api: ClaimApi) -> None:
    before = await directories(api)
    providers = await api.client.get("/providers", headers=api.auth() | AS_CSV)
    payers = await api.client.get("/payers", headers=api.auth(**{"Accept": "application/json;q=0.5, text/csv"}))

    assert providers.headers["content-type"].startswith("text/csv")
    assert payers.headers["content-type"].startswith("text/csv")
    assert providers.headers["vary"] == "Accept"
    assert providers.text.splitlines()[1].startswith("billing,Springfield Family Medicine,,,1234567893,371234567,")
    assert (
        "ACME01,Acme Health Plan,12,90,30,500,5,30,70551 70552 70553 72148 74177,180,PO BOX 3003,"
        "ATTN APPEALS DEPARTMENT,HARTFORD,CT,06101"
    ) in payers.text.splitlines()

    admin = api.auth("admin") | CSV
    stored_providers = await api.client.put("/providers", content=providers.text, headers=admin)
    stored_payers = await api.client.put("/payers", content=payers.text.encode("utf-8-sig"), headers=admin)

    assert (stored_providers.status_code, stored_providers.json()) == (200, {"stored": 2})
    assert (stored_payers.status_code, stored_payers.json()) == (200, {"stored": 4})
    assert await directories(api) == before


async def test_json_is_still_the_answer_unless_csv_is_asked_for(api: ClaimApi) -> None:
    answer = await api.client.get("/providers", headers=api.auth(**{"Accept": "application/json"}))

    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["vary"] == "Accept"
    assert answer.json() == PROVIDERS


async def test_a_payer_file_lists_each_payers_codes_in_one_cell(api: ClaimApi) -> None:
    text = (
        "payer_id,name,filing_indicator,timely_filing_days,follow_up_days,batch_size,batch_interval_seconds,"
        "prior_authorization_codes\r\n"
        'ACME01,Acme Health Plan,12,90,30,500,60,"72148; 70551;74177"\r\n'
        "SUMMT1,Summit Health,HM,180,45,250,120,20610 72148\r\n"
        "MCARE1,Medicare Part B,MB,365,30,500,60,\r\n"
    )

    stored = await api.client.put("/payers", content=text, headers=api.auth("admin") | CSV)

    assert stored.json() == {"stored": 3}
    _, payers = await directories(api)
    assert [(p["payer_id"], p["prior_authorization_codes"], p["eligibility_max_age_days"]) for p in payers] == [
        ("ACME01", ["70551", "72148", "74177"], 30),
        ("MCARE1", [], 30),
        ("SUMMT1", ["20610", "72148"], 30),
    ]


async def test_a_bad_provider_file_is_refused_naming_every_problem_and_nothing_changes(api: ClaimApi) -> None:
    before = await directories(api)
    text = "\r\n".join(
        [
            "role,name,last_name,first_name,npi,taxonomy,address_line1,address_city,address_state,"
            "address_postal_code",  # no tax_id column
            "billing,Springfield Family Medicine,,,1234567893,207Q00000X,100 Main St,Springfield,IL,627011234",
            "provider,,Osler,William,1497758545,207R00000X",  # the NPI's check digit
            "provider,,=HYPERLINK(1),Ann,1003000001,",
            "provider,,Lister,Joseph,1003000019,,,,,,,surplus",
        ]
    )

    refused = await api.client.put("/providers", content=text, headers=api.auth("admin") | CSV)

    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    body = refused.json()
    assert body["detail"] == "The file has 4 problems; nothing was stored."
    assert body["errors"] == [
        {"field": "row 1 tax_id", "message": "the required column is missing"},
        {"field": "row 3 npi", "message": "an NPI is ten digits with a valid check digit"},
        {"field": "row 4 last_name", "message": FORMULA},
        {"field": "row 5", "message": "the row has more cells than the header has columns (10)"},
    ]
    for cell in ("1497758545", "HYPERLINK", "surplus", "Osler"):
        assert cell not in refused.text
    assert await directories(api) == before


async def test_a_payer_file_over_the_row_limit_is_refused_and_nothing_changes(api: ClaimApi) -> None:
    before = await directories(api)
    rows = "".join(f"P{index:04d},Payer,12,90,30,500,60,30,\r\n" for index in range(1001))
    header = "payer_id,name,filing_indicator,timely_filing_days,follow_up_days,batch_size,batch_interval_seconds,"
    text = header + "eligibility_max_age_days,prior_authorization_codes\r\n" + rows

    refused = await api.client.put("/payers", content=text, headers=api.auth("admin") | CSV)

    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "row 1002", "message": "the file has more than 1,000 data rows"}]
    assert await directories(api) == before


async def test_a_file_that_is_not_utf8_is_refused_without_its_bytes(api: ClaimApi) -> None:
    before = await directories(api)
    text = "role,name,npi\r\nbilling,Cl\xednica Pe\xf1a,1234567893\r\n".encode("latin-1")

    refused = await api.client.put("/providers", content=text, headers=api.auth("admin") | CSV)

    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["errors"] == [{"field": "body", "message": "the provider directory is not UTF-8 text"}]
    assert "Pe" not in refused.text
    assert await directories(api) == before


async def test_a_json_body_is_still_read_and_refused_as_before(api: ClaimApi) -> None:
    admin = api.auth("admin") | {"Content-Type": "application/json"}
    broken = await api.client.put("/providers", content=b'{"billing": {"name": "Jane Doe', headers=admin)
    unknown = await api.client.put("/payers", json=[{**PAYERS[0], "batch_size": "many", "notes": "x"}], headers=admin)

    assert broken.status_code == 422
    assert broken.json()["errors"] == [{"field": "body", "message": "is not valid JSON"}]
    assert "Jane" not in broken.text
    assert unknown.json()["errors"] == [
        {"field": "0.batch_size", "message": "must be a whole number"},
        {"field": "0.notes", "message": "is not allowed"},
    ]


async def test_the_openapi_documents_both_forms_and_the_columns(api: ClaimApi) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    put_providers, get_payers = spec["paths"]["/providers"]["put"], spec["paths"]["/payers"]["get"]

    assert set(put_providers["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert put_providers["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProviderDirectoryDocument"
    }
    assert "ProviderDirectoryDocument" in spec["components"]["schemas"]
    assert "`pay_to_postal_code`" in put_providers["description"]
    assert "`prior_authorization_codes`" in spec["paths"]["/payers"]["put"]["description"]
    assert set(get_payers["responses"]["200"]["content"]) == {"application/json", "text/csv"}
