"""Fused per-path kernel of the Monte Carlo, compiled with Numba.

One pass over the hours of each path does what the array code in
:mod:`hashnation.mining.montecarlo` does in many passes: the consensus
retarget, height and subsidy, hashprice, the merit-order dispatch of each ASIC
group and the yearly sums. It reads each input once and keeps the state in
registers, so it runs near memory speed instead of at numpy's
one-temporary-per-operation pace. It releases the GIL, so Dask threads run
chunks in parallel. Results equal the array code to rounding (the yearly sums
are accumulated in order rather than pairwise); the tests check both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from hashnation.bitcoin.difficulty import (
    RETARGET_INTERVAL_BLOCKS,
    TARGET_SPACING_S,
    TARGET_TIMESPAN_S,
)
from hashnation.bitcoin.subsidy import HALVING_INTERVAL_BLOCKS, INITIAL_SUBSIDY_SAT
from hashnation.bitcoin.units import SAT_PER_BTC

# Output slots of the (paths, N_OUT, years) result array.
OUT_FIELDS: tuple[str, ...] = (
    "btc_mined",
    "revenue_usd",
    "energy_mwh",
    "energy_cost_usd",
    "emissions_tco2",
    "coal_energy_mwh",
    "grid_short_mwh",
    "curtailed_mwh",
    "price_usd_per_btc",
    "hashprice_usd_per_th_day",
)
N_OUT = len(OUT_FIELDS)

_HASHES = 2.0**32
_TIMESPAN = float(TARGET_TIMESPAN_S)
_SPACING = float(TARGET_SPACING_S)
_BLOCKS = float(RETARGET_INTERVAL_BLOCKS)
_HALVING = int(HALVING_INTERVAL_BLOCKS)
_SUBSIDY0 = int(INITIAL_SUBSIDY_SAT)
_SAT = float(SAT_PER_BTC)


@njit(nogil=True, cache=True)
def simulate_paths(
    hashrate_exo: Any,
    hashrate_added: float,
    x_daily: Any,
    start_difficulty: float,
    blocks_into_epoch: float,
    start_height: float,
    work: Any,
    use_work: bool,
    fees_det: Any,
    fees_mult: Any,
    price_det: Any,
    price_dev: Any,
    surplus: Any,
    surplus_scale: Any,
    cost: Any,
    emission: Any,
    coal: Any,
    mwh_per_th_day: Any,
    cap: Any,
    ths_per_mw: Any,
    alive: Any,
    degr: Any,
    uptime: float,
    pool_fee: float,
    hours_per_year: int,
) -> Any:
    """Simulate a block of paths hour by hour; return yearly sums.

    Array shapes: hours ``N``, days ``N / 24``, paths ``P``, years ``Y``,
    groups ``G``. ``x_daily``, ``fees_mult``, ``price_dev`` are ``(P, days)``;
    ``surplus_scale``, ``alive``, ``degr`` are ``(P, Y)``; ``work`` is
    ``(P, periods)``; hourly inputs are ``(N,)``; group arrays are ``(G,)``.
    Returns an array ``(P, N_OUT, Y)`` in the order of :data:`OUT_FIELDS`
    (price and hashprice as yearly means, the rest as yearly sums).
    """
    n_paths = x_daily.shape[0]
    n_hours = hashrate_exo.shape[0]
    n_years = n_hours // hours_per_year
    n_groups = cap.shape[0]
    site = 0.0
    for j in range(n_groups):
        site += cap[j]
    out = np.zeros((n_paths, N_OUT, n_years))
    for p in range(n_paths):
        d = start_difficulty
        done = blocks_into_epoch
        elapsed = done * _SPACING
        epoch_start = 0
        period = 0
        remaining = _BLOCKS - done
        target = work[p, 0] if use_work else remaining
        factor = remaining / target
        cum = 0.0
        cum_blocks = 0.0
        for h in range(n_hours):
            day = h // 24
            y = h // hours_per_year
            hashes = (hashrate_exo[h] * np.exp(x_daily[p, day]) + hashrate_added) * 3600.0
            rate = hashes / (d * _HASHES)
            height = start_height + cum_blocks
            cum_blocks += rate * factor
            cum += rate
            era = int(np.floor(height)) // _HALVING
            subsidy = 0.0 if era >= 64 else float(_SUBSIDY0 >> era) / _SAT
            fees = fees_det[h] * fees_mult[p, day]
            hp_btc = (subsidy + fees) * (86_400.0 * 1e12) / (d * _HASHES)
            price = price_det[h] * np.exp(price_dev[p, day])
            hp_usd = hp_btc * price
            # Retarget after the hour in which the period's work is reached.
            if cum >= target:
                span = elapsed + (h + 1 - epoch_start) * 3600.0
                span = min(max(span, _TIMESPAN / 4.0), _TIMESPAN * 4.0)
                done = (cum - target) * factor
                d_next = d * _TIMESPAN / span
                elapsed = 0.0
                epoch_start = h + 1
                period += 1
                remaining = _BLOCKS - done
                target = work[p, min(period, work.shape[1] - 1)] if use_work else remaining
                factor_next = remaining / target
                cum = 0.0
            else:
                d_next = d
                factor_next = factor
            # Dispatch this hour.
            a = alive[p, y]
            dg = degr[p, y]
            net = hp_usd * ((1.0 - pool_fee) * dg)
            allowed = min(surplus[h] * surplus_scale[p, y], site * a)
            left = allowed
            ths = 0.0
            c = cost[h]
            for j in range(n_groups):
                if net / mwh_per_th_day[j] >= c:
                    take = min(left, cap[j] * a)
                    left -= take
                    ths += take * ths_per_mw[j]
            used = allowed - left
            online = ths * (dg * uptime)
            btc = online * hp_btc / 24.0
            energy = used * uptime
            o = out[p]
            o[0, y] += btc
            o[1, y] += btc * price
            o[2, y] += energy
            o[3, y] += energy * c
            o[4, y] += energy * emission[h]
            o[5, y] += energy * coal[h]
            o[6, y] += site * a - allowed
            o[7, y] += site - used
            o[8, y] += price
            o[9, y] += hp_usd
            d = d_next
            factor = factor_next
        for y in range(n_years):
            out[p, 8, y] /= hours_per_year
            out[p, 9, y] /= hours_per_year
    return out
