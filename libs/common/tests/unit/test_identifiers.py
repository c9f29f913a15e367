from __future__ import annotations

import pytest

from rcm_common.identifiers import npi_valid


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_an_npi_with_its_luhn_check_digit_over_80840_is_valid(npi: str) -> None:
    assert npi_valid(npi)


@pytest.mark.parametrize(
    "npi",
    [
        "1234567890",
        "12345",
        "12345678931",
        "123456789X",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff13",
        "",
    ],
)
def test_a_wrong_check_digit_length_or_character_is_not(npi: str) -> None:
    assert not npi_valid(npi)
