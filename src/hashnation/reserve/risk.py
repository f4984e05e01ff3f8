"""Reserve risk: value at risk, stress scenarios, and the reserve against financing needs.

Value at risk is by historical simulation: the distribution of ``horizon_days``
log-returns of the bundled BTC price (overlapping windows since
``since``) applied to today's value. Stress scenarios are instantaneous price
falls (-50 %, -80 % by default). The reserve's weight is its value as a share
of an external financing need, by default Pakistan's "USD 100 bn+ by 2029" as
reported around the IMF programme in 2025; the figure is a parameter because it
moves with every review.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hashnation.data.loaders import load_price_daily
from hashnation.errors import InputError

PAKISTAN_EXTERNAL_FINANCING_NEED_USD = 100e9
"""External financing need to 2029 as reported in 2025 (IMF programme coverage) [USD]."""


@dataclass(frozen=True)
class ReserveRisk:
    """Risk figures of a reserve (losses positive).

    Attributes
    ----------
    value_usd
        Market value today [USD].
    var_usd, cvar_usd
        Value at risk and conditional VaR over the horizon at ``confidence`` [USD].
    stress_loss_usd
        Loss for each stress scenario (fall in pu -> loss) [USD].
    share_of_financing_need_pu
        Value / external financing need [pu].
    """

    value_usd: float
    horizon_days: int
    confidence: float
    var_usd: float
    cvar_usd: float
    stress_loss_usd: dict[float, float]
    financing_need_usd: float
    share_of_financing_need_pu: float


def reserve_risk(
    holdings_btc: float,
    price_usd_per_btc: float,
    *,
    horizon_days: int = 30,
    confidence: float = 0.95,
    since: str = "2018-01-01",
    stresses: Sequence[float] = (0.5, 0.8),
    financing_need_usd: float = PAKISTAN_EXTERNAL_FINANCING_NEED_USD,
) -> ReserveRisk:
    """Value at risk, stress losses and weight of a reserve.

    Parameters
    ----------
    holdings_btc
        Reserve holdings [BTC].
    price_usd_per_btc
        Price to value them at [USD/BTC].
    horizon_days
        VaR horizon [day].
    confidence
        VaR confidence level, e.g. 0.95 [-].
    since
        First day of price history used.
    stresses
        Price falls to test [pu], e.g. 0.5 for -50 %.
    financing_need_usd
        External financing need to compare with [USD].

    Examples
    --------
    1,000 BTC at 100,000 USD under a -80 % stress lose 80 m USD.
    """
    if not holdings_btc >= 0:
        raise InputError("holdings_btc", holdings_btc, ">= 0 [BTC]")
    if not price_usd_per_btc > 0:
        raise InputError("price_usd_per_btc", price_usd_per_btc, "> 0 [USD/BTC]")
    if not 1 <= horizon_days <= 3650:
        raise InputError("horizon_days", horizon_days, "1..3650 [day]")
    if not 0.5 <= confidence < 1:
        raise InputError("confidence", confidence, "a level in [0.5, 1)")
    for s in stresses:
        if not 0 < s < 1:
            raise InputError("stresses", s, "falls in (0, 1), e.g. 0.5 for -50 %")
    if not financing_need_usd > 0:
        raise InputError("financing_need_usd", financing_need_usd, "> 0 [USD]")
    prices = load_price_daily()
    logp = np.log(prices[prices.index >= since].dropna().to_numpy(dtype=np.float64))
    returns = logp[horizon_days:] - logp[:-horizon_days]
    value = holdings_btc * price_usd_per_btc
    losses = value * (1.0 - np.exp(returns))
    var = float(np.quantile(losses, confidence))
    tail = losses[losses >= var]
    return ReserveRisk(
        value_usd=value,
        horizon_days=horizon_days,
        confidence=confidence,
        var_usd=var,
        cvar_usd=float(tail.mean()) if tail.size else var,
        stress_loss_usd={float(s): value * float(s) for s in stresses},
        financing_need_usd=financing_need_usd,
        share_of_financing_need_pu=value / financing_need_usd if math.isfinite(value) else 0.0,
    )
