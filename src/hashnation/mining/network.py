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
        Hashrate added by the fleet under study [EH/s]; added in every hour,
        curtailed or not (the program passes nameplate x uptime: an upper bound).
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

    @property
    def difficulty0(self) -> float:
        """Difficulty at the first hour, scale applied [-]."""
        return self.start_difficulty * self.difficulty_scale

    def exogenous_hashrate_hs(self, hours: int) -> FloatArray:
        """Network hashrate without the fleet's, hour by hour [H/s].

        Starts at ``start_hashrate_ehs`` (or the hashrate the start difficulty
        implies at 600 s blocks) and grows at ``hashrate_growth_pu_per_year``.
        """
        t_years = np.arange(hours, dtype=np.float64) / HOURS_PER_YEAR
        h0 = (
            float(implied_hashrate_hs(self.difficulty0))
            if self.start_hashrate_ehs is None
            else self.start_hashrate_ehs * 1e18 * self.difficulty_scale
        )
        return h0 * np.exp(math.log1p(self.hashrate_growth_pu_per_year) * t_years)


def implied_hashrate_hs(difficulty: float | FloatArray) -> float | FloatArray:
    """Hashrate that finds one block per 600 s at ``difficulty`` [H/s]."""
    return difficulty * HASHES_PER_DIFFICULTY / TARGET_SPACING_S


def retarget_paths(
    hashrate_hs: FloatArray,
    start_difficulty: FloatArray,
    blocks_into_epoch: FloatArray,
    epoch_work_blocks: FloatArray | None = None,
    *,
    window_hours: int = 1024,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Apply the consensus difficulty rule to many hourly hashrate paths at once.

    Each path keeps its difficulty for one retarget period, then rescales it by
    ``TARGET_TIMESPAN_S / actual_timespan_s`` (clamped to a factor of 4). A
    period ends when the hashes done since it began reach the work of its
    remaining blocks. That work is ``2016 - blocks_into_epoch`` blocks of
    expected work by default; ``epoch_work_blocks`` replaces it by a random
    amount (a Gamma draw for a Poisson block process), so block-time luck moves
    retargets and halvings. Paths are independent: a path's result does not
    depend on which other paths are computed with it.

    Parameters
    ----------
    hashrate_hs
        Network hashrate per hour, shape ``(paths, hours)`` [H/s].
    start_difficulty
        Difficulty at the first hour, shape ``(paths,)`` [-].
    blocks_into_epoch
        Blocks already mined in the first period, shape ``(paths,)`` [block].
    epoch_work_blocks
        Optional work needed by each successive period, in blocks of expected
        work, shape ``(paths, periods)`` [block]; the first column is for the
        remaining part of the first period.
    window_hours
        Hours searched at once for the end of a period (a tuning knob only).

    Returns
    -------
    difficulty, blocks, retarget
        Difficulty in force [-], blocks found [block] and whether a new
        difficulty takes effect, each of shape ``(paths, hours)``.
    """
    hashes = np.asarray(hashrate_hs, dtype=np.float64) * SECONDS_PER_HOUR
    n_paths, n = hashes.shape
    d = np.asarray(start_difficulty, dtype=np.float64).copy()
    done = np.asarray(blocks_into_epoch, dtype=np.float64).copy()
    elapsed = done * TARGET_SPACING_S
    start = np.zeros(n_paths, dtype=np.int64)
    period = np.zeros(n_paths, dtype=np.int64)
    seg_d = np.zeros((n_paths, n), dtype=np.float64)
    seg_f = np.zeros((n_paths, n), dtype=np.float64)
    is_start = np.zeros((n_paths, n), dtype=bool)
    retarget = np.zeros((n_paths, n), dtype=bool)
    rows = np.arange(n_paths)
    offsets = np.arange(window_hours)
    active = start < n
    while active.any():
        idx = rows[active]
        i = start[idx]
        remaining = RETARGET_INTERVAL_BLOCKS - done[idx]
        if epoch_work_blocks is None:
            work = remaining
        else:
            work = epoch_work_blocks[idx, np.minimum(period[idx], epoch_work_blocks.shape[1] - 1)]
        cols = i[:, None] + offsets[None, :]
        inside = cols < n
        rate = np.where(
            inside,
            hashes[idx[:, None], np.minimum(cols, n - 1)] / (d[idx, None] * HASHES_PER_DIFFICULTY),
            0.0,
        )
        cum = np.cumsum(rate, axis=1)
        k = (cum < work[:, None]).sum(axis=1)
        crossed_k = np.empty_like(work)
        for pos in np.nonzero((k == window_hours) & (i + window_hours < n))[0]:
            # Rare: the period outlasts the window (hashrate collapse); search the rest.
            tail = hashes[idx[pos], i[pos] :] / (d[idx[pos]] * HASHES_PER_DIFFICULTY)
            tail_cum = np.cumsum(tail)
            k[pos] = int(np.searchsorted(tail_cum, work[pos]))
            crossed_k[pos] = tail_cum[min(k[pos], tail_cum.size - 1)]
        end = np.minimum(i + k + 1, n)
        seg_d[idx, i] = d[idx]
        seg_f[idx, i] = remaining / work
        is_start[idx, i] = True
        finished = end < n
        fin = idx[finished]
        kk = k[finished]
        in_window = kk < window_hours
        crossed = np.where(
            in_window,
            cum[np.nonzero(finished)[0], np.minimum(kk, window_hours - 1)],
            crossed_k[finished],
        )
        elapsed_fin = elapsed[fin] + (end[finished] - i[finished]) * SECONDS_PER_HOUR
        actual = np.clip(elapsed_fin, TARGET_TIMESPAN_S / 4, TARGET_TIMESPAN_S * 4)
        factor = (remaining / work)[finished]
        done[fin] = (crossed - work[finished]) * factor
        d[fin] = d[fin] * TARGET_TIMESPAN_S / actual
        elapsed[fin] = 0.0
        retarget[fin, end[finished]] = True
        period[fin] += 1
        start[idx] = end
        active = start < n
    # Forward-fill each period's difficulty and luck factor along the hours.
    last = np.maximum.accumulate(np.where(is_start, np.arange(n)[None, :], 0), axis=1)
    difficulty = np.take_along_axis(seg_d, last, axis=1)
    luck = np.take_along_axis(seg_f, last, axis=1)
    blocks = hashes / (difficulty * HASHES_PER_DIFFICULTY) * luck
    return difficulty, blocks, retarget


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
    hashrate = scenario.exogenous_hashrate_hs(n) + scenario.added_hashrate_ehs * 1e18

    diff2, blocks2, retarget2 = retarget_paths(
        hashrate[None, :],
        np.array([scenario.difficulty0]),
        np.array([float(scenario.blocks_into_epoch)]),
    )
    difficulty, blocks, retarget = diff2[0], blocks2[0], retarget2[0]

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
