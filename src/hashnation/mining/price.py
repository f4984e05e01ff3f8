"""Bitcoin price scenario for the deterministic model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hashnation.errors import InputError

HOURS_PER_YEAR = 8766.0


@dataclass(frozen=True)
class PriceScenario:
    """A smooth price path: ``start * (1 + drift) ** years``.

    Parameters
    ----------
    start_price_usd_per_btc
        Price at the first hour [USD/BTC].
    drift_pu_per_year
        Yearly growth of the price (0.1 = +10 %/yr) [pu/yr].
    scale
        Multiplier on the whole path (to find the breakeven price) [-].
    """

    start_price_usd_per_btc: float
    drift_pu_per_year: float = 0.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.start_price_usd_per_btc > 0:
            raise InputError(
                "price.start_price_usd_per_btc", self.start_price_usd_per_btc, "> 0 [USD/BTC]"
            )
        if not self.drift_pu_per_year > -1.0:
            raise InputError(
                "price.drift_pu_per_year",
                self.drift_pu_per_year,
                "a yearly rate > -1 (0.1 means +10 %/yr) [pu/yr]",
            )


def price_path(index: pd.DatetimeIndex, scenario: PriceScenario) -> NDArray[np.float64]:
    """Hourly price on ``index`` [USD/BTC]."""
    t_years = np.arange(len(index), dtype=np.float64) / HOURS_PER_YEAR
    growth = math.log1p(scenario.drift_pu_per_year)
    return scenario.start_price_usd_per_btc * scenario.scale * np.exp(growth * t_years)
