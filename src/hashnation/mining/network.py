"""Network projection: difficulty, height, subsidy and fees, hour by hour.

The exogenous network hashrate grows exponentially at a stated annual rate;
the fleet under study may add its own hashrate on top (2,000 MW of modern
ASICs is a tenth of today's network, so it raises difficulty for itself).
Difficulty follows the consensus rule: it is constant for 2,016 blocks, then
rescaled by ``TARGET_TIMESPAN_S / actual_timespan_s`` (clamped to a factor of
4 either way). Blocks arrive at the rate the hashrate implies at the current
difficulty, ``hashrate_hs / (difficulty * 2**32)`` per second, so halvings come
earlier when hashrate grows. The subsidy of each hour is computed from the
projected height with the consensus subsidy function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hashnation.bitcoin.difficulty import (
    RETARGET_INTERVAL_BLOCKS,
    TARGET_SPACING_S,
    TARGET_TIMESPAN_S,
)
from hashnation.bitcoin.subsidy import block_subsidy_sat_array
from hashnation.bitcoin.units import SAT_PER_BTC
from hashnation.errors import InputError

FloatArray = NDArray[np.float64]
HASHES_PER_DIFFICULTY = 2.0**32
SECONDS_PER_HOUR = 3600.0
HOURS_PER_YEAR = 8766.0  # 365.25 days


@dataclass(frozen=True)
class NetworkScenario:
    """State of the network at the start of a scenario and how it evolves.

    Parameters
    ----------
    start_height
        Block height at the first hour [block].
    start_difficulty
        Difficulty in force at the first hour [-].
    blocks_into_epoch
        Blocks already mined in the current retarget period [block].
    hashrate_growth_pu_per_year
        Exogenous hashrate growth, as a yearly rate (0.3 = +30 %/yr) [pu/yr].
    fees_btc_per_block
        Transaction fees per block at the start [BTC/block].
    fees_growth_pu_per_year
        Yearly growth of fees per block [pu/yr].
    start_hashrate_ehs
        Exogenous hashrate at the first hour [EH/s]; by default the hashrate
        that the start difficulty implies at 600 s blocks.
    added_hashrate_ehs
        Hashrate added by the fleet under study while it runs [EH/s].
    difficulty_scale
        Multiplier on the start difficulty and on the exogenous hashrate (used to
        find the breakeven difficulty) [-].
    """

    start_height: int
    start_difficulty: float
    blocks_into_epoch: int = 0
    hashrate_growth_pu_per_year: float = 0.0
    fees_btc_per_block: float = 0.0
    fees_growth_pu_per_year: float = 0.0
    start_hashrate_ehs: float | None = None
    added_hashrate_ehs: float = 0.0
    difficulty_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.start_height < 0:
            raise InputError("network.start_height", self.start_height, "a height >= 0 [block]")
        if not self.start_difficulty >= 1.0:
            raise InputError(
                "network.start_difficulty", self.start_difficulty, "a difficulty >= 1 [-]"
            )
        if not 0 <= self.blocks_into_epoch < RETARGET_INTERVAL_BLOCKS:
            raise InputError(
                "network.blocks_into_epoch", self.blocks_into_epoch, "an integer in [0, 2016)"
            )
        if not self.hashrate_growth_pu_per_year > -1.0:
            raise InputError(
                "network.hashrate_growth_pu_per_year",
                self.hashrate_growth_pu_per_year,
                "a yearly rate > -1 (0.3 means +30 %/yr) [pu/yr]",
            )
        if not self.fees_btc_per_block >= 0.0:
            raise InputError(
                "network.fees_btc_per_block", self.fees_btc_per_block, ">= 0 [BTC/block]"
            )
        if not self.fees_growth_pu_per_year > -1.0:
            raise InputError(
                "network.fees_growth_pu_per_year", self.fees_growth_pu_per_year, "> -1 [pu/yr]"
            )
        if not self.added_hashrate_ehs >= 0.0:
            raise InputError("network.added_hashrate_ehs", self.added_hashrate_ehs, ">= 0 [EH/s]")
        if not self.difficulty_scale > 0.0:
            raise InputError("network.difficulty_scale", self.difficulty_scale, "> 0 [-]")

    def scaled(self, factor: float) -> NetworkScenario:
        """Return the scenario with difficulty and exogenous hashrate times ``factor``."""
        return replace(self, difficulty_scale=self.difficulty_scale * factor)


def implied_hashrate_hs(difficulty: float | FloatArray) -> float | FloatArray:
    """Hashrate that finds one block per 600 s at ``difficulty`` [H/s]."""
    return difficulty * HASHES_PER_DIFFICULTY / TARGET_SPACING_S


def project_network(index: pd.DatetimeIndex, scenario: NetworkScenario) -> pd.DataFrame:
    """Project the network hour by hour.

    Parameters
    ----------
    index
        Hourly tz-aware index (first hour = scenario start).
    scenario
        Start state and growth assumptions.

    Returns
    -------
    pandas.DataFrame
        Columns: ``height`` (expected height at the start of the hour [block]),
        ``blocks`` (expected blocks in the hour [block]), ``difficulty`` [-],
        ``hashrate_ehs`` (network, incl. added) [EH/s], ``subsidy_btc_per_block``
        [BTC], ``fees_btc_per_block`` [BTC], ``retarget`` (True in the hour a
        new difficulty takes effect).
    """
    n = len(index)
    t_years = np.arange(n, dtype=np.float64) / HOURS_PER_YEAR
    d0 = scenario.start_difficulty * scenario.difficulty_scale
    h0 = (
        float(implied_hashrate_hs(d0))
        if scenario.start_hashrate_ehs is None
        else scenario.start_hashrate_ehs * 1e18 * scenario.difficulty_scale
    )
    growth = math.log1p(scenario.hashrate_growth_pu_per_year)
    hashrate = h0 * np.exp(growth * t_years) + scenario.added_hashrate_ehs * 1e18

    difficulty = np.empty(n, dtype=np.float64)
    blocks = np.empty(n, dtype=np.float64)
    retarget = np.zeros(n, dtype=bool)
    done = float(scenario.blocks_into_epoch)
    elapsed_s = done * TARGET_SPACING_S
    d = d0
    i = 0
    while i < n:
        remaining = RETARGET_INTERVAL_BLOCKS - done
        window = 1024
        while True:
            stop = min(n, i + window)
            rate = hashrate[i:stop] * SECONDS_PER_HOUR / (d * HASHES_PER_DIFFICULTY)
            cum = np.cumsum(rate)
            k = int(np.searchsorted(cum, remaining))
            if k < len(cum) or stop == n:
                break
            window *= 2
        end = min(i + k + 1, n)
        difficulty[i:end] = d
        blocks[i:end] = rate[: end - i]
        if end >= n:
            break
        elapsed_s += (k + 1) * SECONDS_PER_HOUR
        actual = min(max(elapsed_s, TARGET_TIMESPAN_S / 4), TARGET_TIMESPAN_S * 4)
        d = d * TARGET_TIMESPAN_S / actual
        done = float(cum[k] - remaining)
        elapsed_s = 0.0
        retarget[end] = True
        i = end

    height = scenario.start_height + np.concatenate(([0.0], np.cumsum(blocks)[:-1]))
    subsidy_sat = block_subsidy_sat_array(np.floor(height).astype(np.int64))
    fees = scenario.fees_btc_per_block * np.exp(
        math.log1p(scenario.fees_growth_pu_per_year) * t_years
    )
    return pd.DataFrame(
        {
            "height": height,
            "blocks": blocks,
            "difficulty": difficulty,
            "hashrate_ehs": hashrate / 1e18,
            "subsidy_btc_per_block": subsidy_sat.astype(np.float64) / SAT_PER_BTC,
            "fees_btc_per_block": fees,
            "retarget": retarget,
        },
        index=index,
    )


def hashprice_btc_per_th_day(network: pd.DataFrame) -> FloatArray:
    """Hashprice of each hour of a projection [BTC/(TH/s)/day]."""
    reward = network["subsidy_btc_per_block"].to_numpy() + network["fees_btc_per_block"].to_numpy()
    per_th_day = 86_400.0 * 1e12 / (network["difficulty"].to_numpy() * HASHES_PER_DIFFICULTY)
    return np.asarray(reward * per_th_day, dtype=np.float64)
