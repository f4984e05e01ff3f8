"""Cash flows, NPV, IRR, payback and cost per BTC.

Conventions: year 0 holds the initial capital expenditure (ASICs plus site
infrastructure); years 1..N hold operating cash flows, with ASIC replacement
paid at the end of every ``replacement_years``-th year that is not the last.
Discounting is yearly at ``discount_rate_pu``. No taxes, no salvage value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import brentq

from hashnation.errors import InputError

FloatArray = NDArray[np.float64]
T = TypeVar("T", pd.Series, NDArray[Any])


@dataclass(frozen=True)
class CostParams:
    """Capital and operating cost assumptions.

    Parameters
    ----------
    asic_price_usd_per_th
        Purchase price of ASICs [USD per TH/s].
    asic_price_decline_pu_per_year
        Yearly fall of the ASIC price, applied to replacements [pu/yr].
    infrastructure_usd_per_mw
        Site build-out: substation, containers, cooling [USD/MW of site power].
    fixed_om_usd_per_mw_year
        Staff, maintenance, security, insurance [USD/MW/yr].
    variable_om_usd_per_mwh
        Operating cost that scales with energy drawn [USD/MWh].
    pool_fee_pu
        Mining-pool fee [pu of revenue].
    discount_rate_pu
        Discount rate [pu/yr].
    """

    asic_price_usd_per_th: float = 15.0
    asic_price_decline_pu_per_year: float = 0.10
    infrastructure_usd_per_mw: float = 300_000.0
    fixed_om_usd_per_mw_year: float = 40_000.0
    variable_om_usd_per_mwh: float = 0.0
    pool_fee_pu: float = 0.02
    discount_rate_pu: float = 0.10

    def __post_init__(self) -> None:
        for name in (
            "asic_price_usd_per_th",
            "infrastructure_usd_per_mw",
            "fixed_om_usd_per_mw_year",
            "variable_om_usd_per_mwh",
        ):
            value = getattr(self, name)
            if not value >= 0:
                raise InputError(f"economics.{name}", value, "a number >= 0")
        if not 0 <= self.asic_price_decline_pu_per_year < 1:
            raise InputError(
                "economics.asic_price_decline_pu_per_year",
                self.asic_price_decline_pu_per_year,
                "a value in [0, 1) [pu/yr]",
            )
        if not 0 <= self.pool_fee_pu < 1:
            raise InputError("economics.pool_fee_pu", self.pool_fee_pu, "a value in [0, 1) [pu]")
        if not -1 < self.discount_rate_pu < 1:
            raise InputError(
                "economics.discount_rate_pu",
                self.discount_rate_pu,
                "a yearly rate in (-1, 1), e.g. 0.10 for 10 % [pu/yr]",
            )


def npv(cashflows_usd: Sequence[float] | FloatArray, rate_pu: float) -> float:
    """Net present value of yearly cash flows, the first at year 0 [USD].

    Examples
    --------
    >>> round(npv([-100.0, 60.0, 60.0], 0.1), 4)
    4.1322
    """
    flows = np.asarray(cashflows_usd, dtype=np.float64)
    years = np.arange(flows.size, dtype=np.float64)
    return float((flows / (1.0 + rate_pu) ** years).sum())


def irr(cashflows_usd: Sequence[float] | FloatArray) -> float | None:
    """Return the internal rate of return [pu/yr], or None when none is in (-99 %, 1000 %).

    Examples
    --------
    >>> round(irr([-100.0, 60.0, 60.0]), 6)
    0.130662
    """
    flows = np.asarray(cashflows_usd, dtype=np.float64)
    lo, hi = -0.99, 10.0
    f_lo, f_hi = npv(flows, lo), npv(flows, hi)
    if not np.isfinite(f_lo) or not np.isfinite(f_hi) or f_lo * f_hi > 0:
        return None
    return float(brentq(lambda r: npv(flows, r), lo, hi, xtol=1e-12))


def payback_years(cashflows_usd: Sequence[float] | FloatArray) -> float | None:
    """Years until cumulative cash turns non-negative, interpolated within the year.

    Returns None when it never does ("does not pay back").

    Examples
    --------
    >>> payback_years([-100.0, 40.0, 40.0, 40.0])
    2.5
    >>> payback_years([-100.0, 10.0]) is None
    True
    """
    flows = np.asarray(cashflows_usd, dtype=np.float64)
    cum = np.cumsum(flows)
    if cum[0] >= 0:
        return 0.0
    for year in range(1, flows.size):
        if cum[year] >= 0:
            before = cum[year - 1]
            return float(year - 1 + (-before) / flows[year])
    return None


def replacement_capex_usd(
    initial_asic_capex_usd: float, years: int, replacement_years: int, decline_pu_per_year: float
) -> FloatArray:
    """ASIC replacement spending by operating year 1..N [USD]."""
    out = np.zeros(years, dtype=np.float64)
    for year in range(replacement_years, years, replacement_years):
        out[year - 1] = initial_asic_capex_usd * (1.0 - decline_pu_per_year) ** year
    return out


@dataclass(frozen=True)
class CapitalPlan:
    """What the programme spends on capital and fixed O&M.

    Attributes
    ----------
    asic_usd
        Initial ASIC purchase [USD].
    infrastructure_usd
        Initial site build-out [USD].
    fixed_om_usd_per_year
        Fixed operation and maintenance [USD/yr].
    replacements_usd
        ASIC replacement spending by operating year 1..N [USD].
    """

    asic_usd: float
    infrastructure_usd: float
    fixed_om_usd_per_year: float
    replacements_usd: FloatArray

    @property
    def initial_usd(self) -> float:
        """Year-0 capital expenditure [USD]."""
        return self.asic_usd + self.infrastructure_usd


def capital_plan(
    costs: CostParams,
    *,
    hashrate_ths: float,
    site_power_mw: float,
    years: int,
    replacement_years: int,
) -> CapitalPlan:
    """Capital spending and fixed O&M of a fleet over ``years`` operating years.

    Parameters
    ----------
    costs
        Cost assumptions.
    hashrate_ths
        Nameplate hashrate bought [TH/s].
    site_power_mw
        Site size [MW].
    years
        Operating years [yr].
    replacement_years
        ASIC replacement cycle [yr].
    """
    asic = hashrate_ths * costs.asic_price_usd_per_th
    return CapitalPlan(
        asic_usd=asic,
        infrastructure_usd=site_power_mw * costs.infrastructure_usd_per_mw,
        fixed_om_usd_per_year=site_power_mw * costs.fixed_om_usd_per_mw_year,
        replacements_usd=replacement_capex_usd(
            asic, years, replacement_years, costs.asic_price_decline_pu_per_year
        ),
    )


def yearly_cashflow_usd(
    revenue_usd: T,
    demand_response_usd: T,
    energy_cost_usd: T,
    pool_fee_usd: T,
    fixed_om_usd: float,
    capex_usd: FloatArray | pd.Series,
) -> tuple[T, T, T]:
    """Operating spending, operating cash flow and cash flow of each year [USD].

    ``opex = energy + fixed O&M + pool fee``; ``operating = revenue + demand
    response - opex``; ``cashflow = operating - capex``. Works on one year's
    Series or on arrays of (paths, years), so the deterministic model and the
    Monte Carlo share the arithmetic (and its rounding).

    Returns
    -------
    opex_usd, operating_usd, cashflow_usd
    """
    opex = energy_cost_usd + fixed_om_usd + pool_fee_usd
    operating = revenue_usd + demand_response_usd - opex
    return opex, operating, operating - capex_usd


def payback_label(value: float | None) -> str:
    """Human wording of a payback period."""
    return "does not pay back" if value is None else f"{value:.1f} years"


def cashflow_vector(annual: pd.DataFrame, initial_capex_usd: float) -> FloatArray:
    """Year-0 capex followed by each operating year's ``cashflow_usd``."""
    return np.concatenate(([-initial_capex_usd], annual["cashflow_usd"].to_numpy(dtype=float)))
