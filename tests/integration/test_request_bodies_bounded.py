"""The services bound request bodies at the edge: registration refuses a 5 MB JSON patient with 413 before its
route reads it (the route would have validated it whole), and claim takes a payer directory replaced as JSON up
to its endpoint's own bound, past the edge's JSON one."""

from __future__ import annotations

import json
from pathlib import Path

from rcm_claim.config import ClaimSettings
from rcm_claim.entrypoints.app import create_app as create_claim
from rcm_common.http import JSON_BODY_LIMIT
from rcm_common.testing import bearer_headers, in_process_settings, serving
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.app import create_app as create_registration


def bearer(signing_keys: tuple[str, str], role: str) -> dict[str, str]:
    return bearer_headers(signing_keys[0], [role], subject="bounded") | {"content-type": "application/json"}


async def test_a_five_megabyte_json_body_is_refused_with_413(signing_keys: tuple[str, str], tmp_path: Path) -> None:
    settings = in_process_settings(RegistrationSettings, tmp_path, signing_keys[1])
    huge = json.dumps({"first_name": "x" * 5_000_000}).encode()

    async with serving(create_registration(settings), "http://registration.test") as client:
        answer = await client.post("/patients", content=huge, headers=bearer(signing_keys, "front_desk"))

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == f"The request body is larger than {JSON_BODY_LIMIT} bytes."


async def test_a_directory_replaced_as_json_is_bounded_by_its_endpoint_not_the_json_bound(
    signing_keys: tuple[str, str], tmp_path: Path
) -> None:
    settings = in_process_settings(ClaimSettings, tmp_path, signing_keys[1])
    large = json.dumps([{"payer_id": "X", "name": "y" * 1_500_000}]).encode()

    async with serving(create_claim(settings), "http://claim.test") as client:
        answer = await client.put("/payers", content=large, headers=bearer(signing_keys, "admin"))

    assert answer.status_code == 422  # read whole and refused for what it says, not for its size
    assert "larger than" not in answer.text
