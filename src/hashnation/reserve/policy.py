"""Accumulation policies for a strategic reserve, backtested on bundled prices.

A policy decides, day by day, how much bitcoin the reserve acquires and how.
Purchases are bought at the day's price (CoinGecko daily close at 00:00 UTC
from the bundled history); mining inflows are free of purchase cost but carry
the energy cost stated with them. Amounts are integer satoshis; USD figures
are floats (these are simulations; the ledger keeps Decimal money).

Policies
--------
``fixed_btc``
    Buy a fixed amount of BTC every day (El Salvador's "1 BTC a day" since
    2022-11-17/18).
``fixed_usd``
    Spend a fixed USD amount every day (dollar-cost averaging).
``value_averaging``
    Buy so that the reserve's market value follows a target path that grows
    by a fixed USD amount a day; never sells, buys at most ``max_usd_per_day``.
``mining``
    Inflows from the mining programme (BTC per day, e.g. from a
    :class:`~hashnation.mining.program.MiningProgram` run).

Any of them can carry an **IMF-style constraint**: no new purchases from a
given date (mining and other non-purchase inflows continue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from hashnation.bitcoin.units import SAT_PER_BTC
from hashnation.data.loaders import load_price_daily
from hashnation.errors import InputError

PolicyKind = Literal["fixed_btc", "fixed_usd", "value_averaging", "mining"]


@dataclass(frozen=True)
class Policy:
    """An accumulation policy.

    Parameters
    ----------
    kind
        One of ``fixed_btc``, ``fixed_usd``, ``value_averaging``, ``mining``.
    btc_per_day
        For ``fixed_btc`` and ``mining`` (a constant inflow) [BTC/day].
    usd_per_day
        For ``fixed_usd``; for ``value_averaging`` the growth of the target
        value [USD/day].
    max_usd_per_day
        Cap on one day's purchase for ``value_averaging`` [USD/day].
    no_purchases_from
        IMF-style constraint: no purchases on or after this day.
    mining_btc_per_day
        A daily mining inflow series (overrides ``btc_per_day`` for ``mining``)
        [BTC/day], indexed by UTC day.
    """

    kind: PolicyKind
    btc_per_day: float = 0.0
    usd_per_day: float = 0.0
    max_usd_per_day: float = math.inf
    no_purchases_from: date | None = None
    mining_btc_per_day: pd.Series | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("fixed_btc", "fixed_usd", "value_averaging", "mining"):
            raise InputError(
                "policy.kind", self.kind, "fixed_btc, fixed_usd, value_averaging or mining"
            )
        for name in ("btc_per_day", "usd_per_day", "max_usd_per_day"):
            value = getattr(self, name)
            if not value >= 0:
                raise InputError(f"policy.{name}", value, "a number >= 0")
        if self.kind == "fixed_btc" and not self.btc_per_day > 0:
            raise InputError("policy.btc_per_day", self.btc_per_day, "> 0 [BTC/day]")
        if self.kind in ("fixed_usd", "value_averaging") and not self.usd_per_day > 0:
            raise InputError("policy.usd_per_day", self.usd_per_day, "> 0 [USD/day]")


def _days(start: date, end: date) -> pd.DatetimeIndex:
    if end < start:
        raise InputError("end", str(end), f"a day on or after start {start}")
    return pd.date_range(pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"), freq="D")


def _prices(days: pd.DatetimeIndex) -> np.ndarray:
    series = load_price_daily()
    lo, hi = series.index[0], series.index[-1]
    if days[0] < lo or days[-1] > hi:
        raise InputError(
            "backtest window",
            f"{days[0].date()}..{days[-1].date()}",
            f"days within the bundled prices {lo.date()}..{hi.date()}",
        )
    # Two days are missing in the bundled file; carry the last price forward.
    return np.asarray(series.reindex(days).ffill().to_numpy(dtype=np.float64))


def backtest(policy: Policy, start: date, end: date) -> pd.DataFrame:
    """Run a policy day by day over ``start..end`` (inclusive) on bundled prices.

    Returns
    -------
    pandas.DataFrame
        Daily, tz-aware UTC index; columns ``price_usd_per_btc``,
        ``bought_sat``, ``mined_sat``, ``usd_spent``, ``holdings_sat``,
        ``cost_basis_usd`` (purchases only), ``avg_cost_usd_per_btc``,
        ``value_usd``, ``unrealised_pnl_usd``.

    Examples
    --------
    1 BTC a day for three days at 100, 200 and 300 USD: holdings 3 BTC, cost
    600 USD, average cost 200 USD/BTC, value on day 3 900 USD.
    """
    days = _days(start, end)
    price = _prices(days)
    n = len(days)
    bought = np.zeros(n, dtype=np.int64)
    mined = np.zeros(n, dtype=np.int64)
    spent = np.zeros(n)
    holdings = 0
    target_value = 0.0
    stop = pd.Timestamp(policy.no_purchases_from, tz="UTC") if policy.no_purchases_from else None
    mining = None
    if policy.kind == "mining" and policy.mining_btc_per_day is not None:
        mining = policy.mining_btc_per_day.reindex(days).fillna(0.0).to_numpy(dtype=np.float64)
    for i in range(n):
        can_buy = stop is None or days[i] < stop
        sat = 0
        if policy.kind == "fixed_btc" and can_buy:
            sat = round(policy.btc_per_day * SAT_PER_BTC)
        elif policy.kind == "fixed_usd" and can_buy:
            sat = math.floor(policy.usd_per_day / price[i] * SAT_PER_BTC)
        elif policy.kind == "value_averaging" and can_buy:
            target_value += policy.usd_per_day
            gap_usd = target_value - holdings / SAT_PER_BTC * price[i]
            usd = min(max(gap_usd, 0.0), policy.max_usd_per_day)
            sat = math.floor(usd / price[i] * SAT_PER_BTC)
        elif policy.kind == "mining":
            btc = mining[i] if mining is not None else policy.btc_per_day
            mined[i] = round(btc * SAT_PER_BTC)
        bought[i] = sat
        spent[i] = sat / SAT_PER_BTC * price[i]
        holdings += int(bought[i] + mined[i])
    holdings_sat = np.cumsum(bought + mined)
    cost = np.cumsum(spent)
    bought_total = np.cumsum(bought)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = np.where(bought_total > 0, cost / (bought_total / SAT_PER_BTC), np.nan)
    value = holdings_sat / SAT_PER_BTC * price
    return pd.DataFrame(
        {
            "price_usd_per_btc": price,
            "bought_sat": bought,
            "mined_sat": mined,
            "usd_spent": spent,
            "holdings_sat": holdings_sat,
            "cost_basis_usd": cost,
            "avg_cost_usd_per_btc": avg,
            "value_usd": value,
            "unrealised_pnl_usd": value - cost,
        },
        index=pd.DatetimeIndex(days, name="timestamp"),
    )
