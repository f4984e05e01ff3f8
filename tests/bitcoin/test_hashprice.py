"""Hashprice formula: a hand-worked case, and scalar / ndarray / Series agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hashnation.bitcoin.difficulty import bits_to_difficulty
from hashnation.bitcoin.hashprice import hashprice_btc_per_th_day, hashprice_usd_per_th_day
from hashnation.bitcoin.subsidy import block_subsidy_sat, block_subsidy_sat_array
from hashnation.bitcoin.units import SAT_PER_BTC
from hashnation.errors import ConsensusError, InputError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _checkpoints() -> list[dict[str, Any]]:
    path = VECTORS / "chain" / "bitcoinj_checkpoints_mainnet.json"
    checkpoints: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return checkpoints


def test_hand_worked_case() -> None:
    # Difficulty 1e14, subsidy 3.125 BTC, fees 0.125 BTC -> reward 3.25 BTC per block.
    #   numerator   = 3.25 * 86400 * 1e12       = 2.808e17   (BTC * H per TH/s per day)
    #   denominator = 1e14 * 2**32 = 1e14 * 4294967296 = 4.294967296e23   (H per block)
    #   hashprice   = 2.808e17 / 4.294967296e23 = 2808 / 4294967296 = 351 / 2**29
    #               = 351 / 536870912 = 6.5378844738e-7 BTC per TH/s per day
    # At 100000 USD/BTC: 6.5378844738e-7 * 1e5 = 0.065378844738 USD per TH/s per day.
    btc = hashprice_btc_per_th_day(1e14, 3.125, 0.125)
    assert type(btc) is float
    assert btc == pytest.approx(351 / 2**29, rel=1e-15)
    assert btc == pytest.approx(6.5378844738e-7, rel=1e-10)
    usd = hashprice_usd_per_th_day(1e14, 3.125, 0.125, 100_000.0)
    assert usd == pytest.approx(0.065378844738, rel=1e-10)


def test_fees_default_to_zero_and_add_linearly() -> None:
    assert hashprice_btc_per_th_day(1e14, 3.125) == hashprice_btc_per_th_day(1e14, 3.125, 0.0)
    assert hashprice_btc_per_th_day(1e14, 3.0, 1.0) == pytest.approx(
        hashprice_btc_per_th_day(1e14, 4.0), rel=1e-15
    )
    # Doubling the difficulty halves the hashprice.
    assert hashprice_btc_per_th_day(2e14, 3.125) == pytest.approx(
        hashprice_btc_per_th_day(1e14, 3.125) / 2, rel=1e-15
    )


def _real_inputs() -> tuple[list[int], list[float], list[float]]:
    # Real difficulties (bitcoinj checkpoints, one every ~50 periods) and the subsidy in force.
    checkpoints = _checkpoints()[::50]
    heights = [c["height"] for c in checkpoints]
    difficulties = [bits_to_difficulty(c["nbits"]) for c in checkpoints]
    subsidies = [block_subsidy_sat(h) / SAT_PER_BTC for h in heights]
    return heights, difficulties, subsidies


def test_scalar_ndarray_series_agree() -> None:
    heights, difficulties, subsidies = _real_inputs()
    fees = [0.1 * i for i in range(len(heights))]
    prices = [1_000.0 * (i + 1) for i in range(len(heights))]
    scalar_btc = [
        hashprice_btc_per_th_day(d, s, f)
        for d, s, f in zip(difficulties, subsidies, fees, strict=True)
    ]
    scalar_usd = [
        hashprice_usd_per_th_day(d, s, f, p)
        for d, s, f, p in zip(difficulties, subsidies, fees, prices, strict=True)
    ]
    assert all(type(value) is float for value in scalar_btc + scalar_usd)

    array_btc = hashprice_btc_per_th_day(
        np.array(difficulties), np.array(subsidies), np.array(fees)
    )
    assert isinstance(array_btc, np.ndarray)
    np.testing.assert_allclose(array_btc, scalar_btc, rtol=1e-15)
    array_usd = hashprice_usd_per_th_day(
        np.array(difficulties), np.array(subsidies), np.array(fees), np.array(prices)
    )
    assert isinstance(array_usd, np.ndarray)
    np.testing.assert_allclose(array_usd, scalar_usd, rtol=1e-15)

    index = pd.Index(heights, name="height")
    series_btc = hashprice_btc_per_th_day(
        pd.Series(difficulties, index=index),
        pd.Series(subsidies, index=index),
        pd.Series(fees, index=index),
    )
    assert isinstance(series_btc, pd.Series)
    assert series_btc.index.equals(index)
    np.testing.assert_allclose(series_btc.to_numpy(), scalar_btc, rtol=1e-15)
    series_usd = hashprice_usd_per_th_day(
        pd.Series(difficulties, index=index), pd.Series(subsidies, index=index), 0.0, 50_000.0
    )
    assert isinstance(series_usd, pd.Series)
    expected = [
        hashprice_usd_per_th_day(d, s, 0.0, 50_000.0)
        for d, s in zip(difficulties, subsidies, strict=True)
    ]
    np.testing.assert_allclose(series_usd.to_numpy(), expected, rtol=1e-15)


def test_mixed_kinds_broadcast() -> None:
    heights, difficulties, _ = _real_inputs()
    subsidy_sat = block_subsidy_sat_array(np.array(heights))
    # ndarray difficulty with a scalar subsidy -> ndarray.
    result = hashprice_btc_per_th_day(np.array(difficulties), 3.125)
    assert isinstance(result, np.ndarray)
    assert result.shape == (len(heights),)
    # Series difficulty with an ndarray subsidy -> Series.
    series = pd.Series(difficulties, index=heights)
    mixed = hashprice_btc_per_th_day(series, subsidy_sat / SAT_PER_BTC)
    assert isinstance(mixed, pd.Series)
    assert list(mixed.index) == heights
    # Scalar difficulty with an array of prices -> ndarray.
    prices = np.array([10_000.0, 20_000.0])
    usd = hashprice_usd_per_th_day(1e14, 3.125, 0.0, prices)
    assert isinstance(usd, np.ndarray)
    assert usd[1] == pytest.approx(2 * usd[0], rel=1e-15)
    # Integer inputs give a float.
    assert type(hashprice_btc_per_th_day(10**14, 3)) is float


def test_nan_in_a_series_passes_through() -> None:
    series = pd.Series([1e14, np.nan, 2e14])
    result = hashprice_btc_per_th_day(series, 3.125)
    assert np.isnan(result.iloc[1])
    assert result.iloc[0] == pytest.approx(2 * result.iloc[2], rel=1e-15)


@pytest.mark.parametrize(
    ("args", "error", "field"),
    [
        ((0.0, 3.125, 0.0), ConsensusError, "difficulty"),
        ((-1e14, 3.125, 0.0), ConsensusError, "difficulty"),
        ((float("inf"), 3.125, 0.0), ConsensusError, "difficulty"),
        ((float("nan"), 3.125, 0.0), ConsensusError, "difficulty"),
        ((np.array([1e14, 0.0]), 3.125, 0.0), ConsensusError, "difficulty"),
        ((1e14, -3.125, 0.0), InputError, "subsidy_btc_per_block"),
        ((1e14, 3.125, -0.1), InputError, "fees_btc_per_block"),
        ((1e14, 3.125, pd.Series([0.1, -0.1])), InputError, "fees_btc_per_block"),
        ((1e14, "3.125", 0.0), InputError, "subsidy_btc_per_block"),
        ((True, 3.125, 0.0), ConsensusError, "difficulty"),
    ],
)
def test_bad_inputs_raise(args: tuple[Any, ...], error: type[InputError], field: str) -> None:
    with pytest.raises(error) as excinfo:
        hashprice_btc_per_th_day(*args)
    assert excinfo.value.field == field
    assert str(excinfo.value).startswith(f"{field}: got ")


def test_bad_price_raises() -> None:
    with pytest.raises(InputError, match="price_usd_per_btc"):
        hashprice_usd_per_th_day(1e14, 3.125, 0.0, -1.0)
