"""Exact BTC <-> sat conversion, checked against Bitcoin Core's amount constants."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashnation.bitcoin.units import MAX_MONEY_SAT, SAT_PER_BTC, btc_to_sat, sat_to_btc
from hashnation.errors import ConsensusError, InputError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _money() -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((VECTORS / "consensus_facts.json").read_text("utf-8"))
    money: dict[str, Any] = facts["money"]
    return money


def test_constants_match_bitcoin_core_amount_h() -> None:
    money = _money()
    assert money["COIN_sats"]["value"] == SAT_PER_BTC
    assert money["MAX_MONEY_sats"]["value"] == MAX_MONEY_SAT


def test_total_subsidy_quoted_in_btc_converts_exactly() -> None:
    # The fact file states the subsidy total both in sat and as "20999999.9769 BTC".
    limit = _money()["subsidy_limit_test"]
    assert "20999999.9769 BTC" in limit["procedure"]
    assert btc_to_sat("20999999.9769") == limit["value"]
    assert sat_to_btc(limit["value"]) == Decimal("20999999.9769")


@pytest.mark.parametrize(
    ("btc", "amount_sat"),
    [
        ("0.00000001", 1),
        ("1", SAT_PER_BTC),
        (1, SAT_PER_BTC),
        (0, 0),
        ("0", 0),
        ("-0", 0),
        ("0E-20", 0),
        ("1.000000000000", SAT_PER_BTC),  # trailing zeros past 8 decimals are still exact
        ("1E-8", 1),
        ("1e2", 100 * SAT_PER_BTC),
        (" 0.5 ", SAT_PER_BTC // 2),
        (Decimal("21000000"), MAX_MONEY_SAT),
        (21_000_000, MAX_MONEY_SAT),
        (Decimal("0.12345678"), 12_345_678),
    ],
)
def test_btc_to_sat_exact(btc: Decimal | str | int, amount_sat: int) -> None:
    result = btc_to_sat(btc)
    assert result == amount_sat
    assert type(result) is int


@pytest.mark.parametrize(
    "btc",
    [
        0.1,  # float: refused even when "round"
        1.0,
        True,
        None,
        b"1",
        "-1",
        "-0.00000001",
        -1,
        "0.000000001",
        "0.123456789",
        "1.00000000000000000000000000000001",  # more digits than a default Decimal context holds
        "21000000.00000001",
        21_000_001,
        "1e-999999999",
        "1e999999999",
        "nan",
        "sNaN",
        "Infinity",
        "abc",
        "",
        Decimal("-Infinity"),
    ],
)
def test_btc_to_sat_rejects(btc: object) -> None:
    with pytest.raises(ConsensusError) as excinfo:
        btc_to_sat(btc)  # type: ignore[arg-type]
    assert excinfo.value.field == "btc"
    assert str(excinfo.value).startswith("btc: got ")
    assert isinstance(excinfo.value, InputError)
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize(
    ("amount_sat", "btc_text"),
    [
        (0, "0.00000000"),
        (1, "0.00000001"),
        (SAT_PER_BTC, "1.00000000"),
        (12_345_678, "0.12345678"),
        (MAX_MONEY_SAT, "21000000.00000000"),
    ],
)
def test_sat_to_btc_exact(amount_sat: int, btc_text: str) -> None:
    result = sat_to_btc(amount_sat)
    assert isinstance(result, Decimal)
    assert result == Decimal(btc_text)
    assert result.as_tuple().exponent == -8
    assert f"{result:f}" == btc_text


@pytest.mark.parametrize("amount_sat", [-1, MAX_MONEY_SAT + 1, 1.0, True, "1", None])
def test_sat_to_btc_rejects(amount_sat: object) -> None:
    with pytest.raises(ConsensusError, match="amount_sat"):
        sat_to_btc(amount_sat)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=MAX_MONEY_SAT))
def test_sat_btc_sat_round_trip(amount_sat: int) -> None:
    assert btc_to_sat(sat_to_btc(amount_sat)) == amount_sat
    assert btc_to_sat(str(sat_to_btc(amount_sat))) == amount_sat
    assert btc_to_sat(f"{sat_to_btc(amount_sat):f}") == amount_sat


@given(
    st.decimals(
        min_value=Decimal(0),
        max_value=Decimal(21_000_000),
        places=8,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_btc_sat_btc_round_trip(btc: Decimal) -> None:
    assert sat_to_btc(btc_to_sat(btc)) == btc


@given(st.integers(min_value=1, max_value=9), st.integers(min_value=0, max_value=10**8 - 1))
def test_sub_satoshi_digit_is_refused(extra_digit: int, amount_sat: int) -> None:
    text = f"{sat_to_btc(amount_sat):f}{extra_digit}"
    with pytest.raises(ConsensusError):
        btc_to_sat(text)
