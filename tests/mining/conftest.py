"""Shared scenario builders for the mining tests."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

# 1 MW of 20 J/TH machines on a dedicated plant, free power, constant difficulty
# 1e14 at height 900,000, price 100,000 USD/BTC, no fees: every figure can be
# worked by hand (see tests/mining/test_dispatch.py).
ONE_MW: dict[str, Any] = {
    "scenario": {"name": "one MW by hand", "start": "2026-01-01T00:00:00Z", "years": 2},
    "site": {"power_mw": 1.0, "grid": "baseload"},
    "fleet": {
        "mix": [{"model": "t20", "share": 1.0, "hashrate_ths": 200.0, "power_w": 4000.0}],
        "uptime_pu": 1.0,
        "degradation_pu_per_year": 0.0,
        "cooling_overhead_pu": 0.0,
    },
    "tariff": {"usd_per_kwh": 0.0},
    "network": {
        "start_difficulty": 1e14,
        "start_height": 900_000,
        "fees_btc_per_block": 0.0,
        "hashrate_growth_pu_per_year": 0.0,
        "include_fleet_hashrate": False,
    },
    "price": {"start_usd_per_btc": 100_000.0},
    "subsidy_test": {"enabled": False},
}


@pytest.fixture
def one_mw_scenario() -> Callable[..., dict[str, Any]]:
    """Return a builder: ``make(section__field=value, ...)`` -> scenario mapping."""

    def make(**overrides: Any) -> dict[str, Any]:
        data = copy.deepcopy(ONE_MW)
        for key, value in overrides.items():
            section, name = key.split("__")
            data.setdefault(section, {})[name] = value
        return data

    return make
