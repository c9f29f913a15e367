"""The shared element readers: amounts and numbers read exactly or refused, and the fast constructor of the
frozen value types, which must make the very objects their own constructors make."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from rcm_x12 import X12Error
from rcm_x12.elements import Party, Procedure, frozen_factory, money, number, party_of, procedure_of
from rcm_x12.remittance_reader import Adjustment, Claim


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("1200", "1200.00"),
        ("0", "0.00"),
        ("12.34", "12.34"),
        (".45", "0.45"),
        ("12.5", "12.50"),
        ("12.", "12.00"),
        ("-12.34", "-12.34"),
        ("-7", "-7.00"),
        ("-.5", "-0.50"),
        ("1.2300", "1.23"),
        ("5.000", "5.00"),
    ],
)
def test_an_amount_is_read_to_the_cent_as_sent(text: str, read: str) -> None:
    value = money(["AMT", "B6", text], 2, 9)

    assert str(value) == read


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is missing"),
        ("1.234", "is not an amount"),
        ("-", "is not an amount"),
        (".", "is not an amount"),
        ("--5", "is not an amount"),
        ("+5", "is not an amount"),
        ("1e5", "is not an amount"),
        ("1_000", "is not an amount"),
        (" 12", "is not an amount"),
        ("1.2.3", "is not an amount"),
        ("12.3a", "is not an amount"),
        ("\u0661\u0662.00", "is not an amount"),  # Arabic-Indic digits, which Decimal would take
        ("\u0661\u0662", "is not an amount"),
        ("NaN", "is not an amount"),
    ],
)
def test_what_is_not_an_amount_is_refused_by_element_and_position(text: str, problem: str) -> None:
    with pytest.raises(X12Error, match=rf"AMT02 {problem}.*\(segment AMT at position 9\)"):
        money(["AMT", "B6", text], 2, 9)


@pytest.mark.parametrize(
    ("elements", "read"),
    [(["QTY", "CA", "2"], Decimal("2")), (["QTY", "CA", " 2.5 "], Decimal("2.5")), (["QTY", "CA"], None),
     (["QTY", "CA", "-1"], Decimal("-1")), (["QTY", "CA", ""], None)],
)  # fmt: skip
def test_a_number_is_read_as_sent(elements: list[str], read: Decimal | None) -> None:
    assert number(elements, 2, 5) == read


@pytest.mark.parametrize("text", ["x", "1e3", "\u0662", "1..2", "-"])
def test_what_is_not_a_number_is_refused(text: str) -> None:
    with pytest.raises(X12Error, match=r"QTY02 is not a number \(segment QTY at position 5\)"):
        number(["QTY", "CA", text], 2, 5)


def test_the_fast_constructor_makes_the_same_frozen_object() -> None:
    make = frozen_factory(Adjustment)
    made = make("CO", "45", Decimal("10.00"))

    assert type(made) is Adjustment
    assert made == Adjustment("CO", "45", Decimal("10.00"))
    assert made.quantity is None  # the field's default
    assert hash(made) == hash(Adjustment("CO", "45", Decimal("10.00")))
    assert repr(made) == repr(Adjustment("CO", "45", Decimal("10.00")))
    assert pickle.loads(pickle.dumps(made)) == made  # noqa: S301 (our own bytes)
    assert dataclasses.replace(made, amount=Decimal("1.00")) == Adjustment("CO", "45", Decimal("1.00"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.amount = Decimal("0")  # type: ignore[misc]
    with pytest.raises(TypeError):
        make("CO")  # type: ignore[call-arg]


def test_the_fast_constructor_serves_frozen_slotted_dataclasses_only() -> None:
    @dataclass(frozen=True)
    class WithoutSlots:
        value: str

    @dataclass(frozen=True, slots=True)
    class Derived:
        value: str
        shown: str = field(init=False, default="")

    with pytest.raises(TypeError, match="not a slotted dataclass"):
        frozen_factory(WithoutSlots)
    with pytest.raises(TypeError, match="not set by __init__"):
        frozen_factory(Derived)
    assert frozen_factory(Claim) is not Claim


def test_parties_and_procedures_are_read_stripped_and_padded() -> None:
    assert party_of(["NM1", "QC", "1", " DOE ", "JANE"]) == Party("QC", "1", "DOE", "JANE", "", "", "", "")
    assert procedure_of("HC: 99213 :25::::OFFICE", ":") == Procedure("HC", "99213", ("25",), "OFFICE")
    assert procedure_of("", ":") is None
