"""Subsidy schedule, checked against Bitcoin Core's chain parameters and validation tests."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hashnation.bitcoin.subsidy import (
    HALVING_INTERVAL_BLOCKS,
    INITIAL_SUBSIDY_SAT,
    MAX_HALVINGS,
    block_subsidy_sat,
    block_subsidy_sat_array,
    halving_height,
    halving_heights,
    next_halving_height,
    projected_halving_dates,
    total_supply_sat,
)
from hashnation.errors import ConsensusError, InputError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _facts() -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((VECTORS / "consensus_facts.json").read_text("utf-8"))
    return facts


def _checkpoints() -> list[dict[str, Any]]:
    path = VECTORS / "chain" / "bitcoinj_checkpoints_mainnet.json"
    checkpoints: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return checkpoints


def test_constants_match_bitcoin_core() -> None:
    facts = _facts()
    assert facts["mainnet"]["nSubsidyHalvingInterval"]["value"] == HALVING_INTERVAL_BLOCKS
    assert facts["money"]["initial_block_subsidy_sats"]["value"] == INITIAL_SUBSIDY_SAT
    assert "maxHalvings = 64" in facts["money"]["initial_block_subsidy_sats"]["note"]
    assert MAX_HALVINGS == 64
    # The genesis coinbase pays the height-0 subsidy.
    assert facts["genesis_block_mainnet"]["coinbase_reward_sats"] == block_subsidy_sat(0)


def test_subsidy_limit_test_procedure() -> None:
    # Bitcoin Core's subsidy_limit_test, run as the fact file's "procedure" text states it:
    # "nSum = sum over nHeight in range(0, 14000000, 1000) of GetBlockSubsidy(nHeight) * 1000".
    limit = _facts()["money"]["subsidy_limit_test"]
    match = re.search(
        r"range\((\d+), (\d+), (\d+)\) of GetBlockSubsidy\(nHeight\) \* (\d+)", limit["procedure"]
    )
    assert match is not None, limit["procedure"]
    start, stop, step, factor = (int(group) for group in match.groups())
    assert (start, stop, step, factor) == (0, 14_000_000, 1000, 1000)
    n_sum = sum(block_subsidy_sat(height) * factor for height in range(start, stop, step))
    assert n_sum == limit["value"] == 2_099_999_997_690_000
    heights = np.arange(start, stop, step, dtype=np.int64)
    assert int(block_subsidy_sat_array(heights).sum()) * factor == limit["value"]


def test_total_supply_matches_core_and_stays_below_max_money() -> None:
    money = _facts()["money"]
    assert total_supply_sat() == money["subsidy_limit_test"]["value"]
    assert total_supply_sat() < money["MAX_MONEY_sats"]["value"]


def test_block_subsidy_halvings_as_core_tests_them() -> None:
    # Core's TestBlockSubsidyHalvings: each halving height pays half (integer division) of
    # the previous one, starting from the initial subsidy; 0 at maxHalvings * interval.
    money = _facts()["money"]
    interval = _facts()["mainnet"]["nSubsidyHalvingInterval"]["value"]
    previous = money["initial_block_subsidy_sats"]["value"] * 2
    for halvings in range(64):
        subsidy = block_subsidy_sat(halvings * interval)
        assert subsidy <= money["initial_block_subsidy_sats"]["value"]
        assert subsidy == previous // 2
        # Constant within an era.
        assert block_subsidy_sat(halvings * interval + interval - 1) == subsidy
        previous = subsidy
    assert block_subsidy_sat(64 * interval) == 0
    assert block_subsidy_sat(10**18) == 0


def test_known_era_values() -> None:
    interval = _facts()["mainnet"]["nSubsidyHalvingInterval"]["value"]
    assert block_subsidy_sat(interval - 1) == 50 * 100_000_000
    assert block_subsidy_sat(interval) == 25 * 100_000_000
    assert block_subsidy_sat(4 * interval) == 312_500_000  # 3.125 BTC from block 840000
    assert block_subsidy_sat(32 * interval) == 1  # last era paying anything
    assert block_subsidy_sat(33 * interval) == 0


@pytest.mark.parametrize("height", [-1, -210_000, 1.0, True, "1", None])
def test_block_subsidy_rejects_bad_height(height: object) -> None:
    with pytest.raises(ConsensusError) as excinfo:
        block_subsidy_sat(height)  # type: ignore[arg-type]
    assert excinfo.value.field == "height"
    assert "height" in str(excinfo.value)


def test_vectorised_equals_scalar() -> None:
    interval = HALVING_INTERVAL_BLOCKS
    boundaries = [k * interval + d for k in range(70) for d in (-1, 0, 1) if k * interval + d >= 0]
    spread = list(range(0, 70 * interval, 9_973))
    heights = np.array(boundaries + spread + [2**40, 2**62], dtype=np.int64)
    vectorised = block_subsidy_sat_array(heights)
    assert vectorised.dtype == np.int64
    assert vectorised.shape == heights.shape
    assert vectorised.tolist() == [block_subsidy_sat(int(h)) for h in heights]


def test_vectorised_keeps_shape_and_accepts_other_int_dtypes() -> None:
    heights = np.array([[0, 210_000], [420_000, 13_440_000]], dtype=np.int32)
    result = block_subsidy_sat_array(heights)
    assert result.shape == (2, 2)
    assert result.tolist() == [[5_000_000_000, 2_500_000_000], [1_250_000_000, 0]]
    assert block_subsidy_sat_array(np.array([], dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize(
    "heights",
    [np.array([0, -1]), np.array([0.0, 1.0]), np.array([True, False]), ["a"]],
)
def test_vectorised_rejects_bad_heights(heights: object) -> None:
    with pytest.raises(ConsensusError, match="heights"):
        block_subsidy_sat_array(heights)  # type: ignore[arg-type]


def test_halving_heights() -> None:
    interval = _facts()["mainnet"]["nSubsidyHalvingInterval"]["value"]
    assert halving_heights(3) == [interval, 2 * interval, 3 * interval]
    assert halving_heights(0) == []
    assert halving_height(0) == 0
    assert halving_height(4) == 840_000
    assert next_halving_height(0) == interval
    assert next_halving_height(interval - 1) == interval
    assert next_halving_height(interval) == 2 * interval
    assert next_halving_height(839_999) == 840_000
    with pytest.raises(InputError, match="count"):
        halving_heights(-1)
    with pytest.raises(InputError, match="epoch"):
        halving_height(-1)
    with pytest.raises(ConsensusError, match="height"):
        next_halving_height(-5)


def test_projected_halving_dates_arithmetic() -> None:
    at = datetime(2024, 4, 1, tzinfo=UTC)
    result = projected_halving_dates(839_000, at, block_interval_s=600.0, count=3)
    assert result == [
        (840_000, at + timedelta(seconds=1_000 * 600)),
        (1_050_000, at + timedelta(seconds=211_000 * 600)),
        (1_260_000, at + timedelta(seconds=421_000 * 600)),
    ]
    assert all(when.tzinfo is not None and when.utcoffset() == timedelta(0) for _, when in result)
    assert projected_halving_dates(839_000, at, count=0) == []
    faster = projected_halving_dates(839_000, at, block_interval_s=300.0, count=1)
    assert faster == [(840_000, at + timedelta(seconds=300_000))]


def test_projected_halving_from_real_checkpoint() -> None:
    # bitcoinj checkpoint 838656 is the last retarget before the April 2024 halving at 840000.
    checkpoint = next(c for c in _checkpoints() if c["height"] == 838_656)
    at = datetime.fromtimestamp(checkpoint["time"], tz=UTC)
    [(height, when)] = projected_halving_dates(checkpoint["height"], at, count=1)
    assert height == 840_000
    assert (when.year, when.month) == (2024, 4)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"at": datetime(2024, 4, 1)}, "at"),  # naive
        ({"at": datetime(2024, 4, 1, tzinfo=timezone(timedelta(hours=5)))}, "at"),
        ({"at": "2024-04-01"}, "at"),
        ({"block_interval_s": 0.0}, "block_interval_s"),
        ({"block_interval_s": -600.0}, "block_interval_s"),
        ({"block_interval_s": float("nan")}, "block_interval_s"),
        ({"block_interval_s": float("inf")}, "block_interval_s"),
        ({"count": -1}, "count"),
        ({"count": 10**6}, "count"),  # dates past year 9999
        ({"height": -1}, "height"),
    ],
)
def test_projected_halving_dates_rejects(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"height": 0, "at": datetime(2024, 4, 1, tzinfo=UTC)}
    args.update(kwargs)
    with pytest.raises(InputError) as excinfo:
        projected_halving_dates(**args)
    assert excinfo.value.field == field
