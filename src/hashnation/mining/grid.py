"""Hourly grid-surplus profile built from published facts, and the merit order.

No public hourly demand series exists for Pakistan's national grid; what is
published is a handful of facts: installed capacity by fuel, two NEPRA peak
snapshots (summer 29,187 MW on 2022-06-29, winter 12,280 MW on 2022-12-12)
and the energy generated in July-March FY2025 (90,145 GWh). This module turns
such facts into an hourly profile with a documented method:

1. **Demand** is a seasonal cosine times a diurnal cosine::

       demand_mw(t) = (a + b * cos(2 pi (doy - doy_peak) / 365.25))
                      * (1 + A(t) * cos(2 pi (hour_local - hour_peak) / 24))

   where the diurnal amplitude ``A`` moves between its winter and summer values
   with the same seasonal cosine. The two seasonal parameters ``a`` and ``b``
   [MW] are fitted by least squares, in relative terms, to the three facts
   (summer peak, winter peak, energy over the stated window), see
   :func:`fit_seasonal_demand`. The residual of each fact is reported.
2. **Supply** is the sum over fuel blocks of ``capacity_mw * availability``,
   with monthly availability (hydro is low in winter when rivers run low) and a
   daytime bell for solar.
3. **Surplus** is supply minus demand minus an operating reserve
   (``reserve_margin_pu * demand``); it is never negative.
4. **Merit order**: blocks are stacked by marginal cost; the energy that an
   extra load of ``L`` MW draws is the slice ``[demand, demand + L]`` of the
   stack. :func:`slice_fuel_mix` integrates that slice exactly, so the fuel
   mix, marginal cost and emissions of the mining load follow from the stack.

All functions are pure: arrays in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hashnation.errors import InputError

FloatArray = NDArray[np.float64]

HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class FuelBlock:
    """One block of the supply stack.

    Parameters
    ----------
    name
        Fuel or technology name (``"local_coal"``, ``"rlng"``, ...).
    capacity_mw
        Installed capacity [MW].
    availability_pu
        Availability by calendar month, January first [per unit of capacity];
        a single value applies to every month.
    marginal_cost_usd_per_mwh
        Short-run (fuel) cost of one more MWh [USD/MWh].
    emission_tco2_per_mwh
        Direct CO2 emissions per MWh generated [tCO2/MWh].
    is_coal
        Whether the block burns coal (for the coal share).
    solar
        Whether output follows the daytime bell (06:00-18:00 local).
    """

    name: str
    capacity_mw: float
    availability_pu: tuple[float, ...]
    marginal_cost_usd_per_mwh: float
    emission_tco2_per_mwh: float
    is_coal: bool = False
    solar: bool = False

    def __post_init__(self) -> None:
        if not self.capacity_mw >= 0:
            raise InputError(f"grid.fuels.{self.name}.capacity_mw", self.capacity_mw, ">= 0 [MW]")
        if len(self.availability_pu) not in (1, 12):
            raise InputError(
                f"grid.fuels.{self.name}.availability_pu",
                list(self.availability_pu),
                "1 or 12 monthly values [pu]",
            )
        for value in self.availability_pu:
            if not 0.0 <= value <= 1.0:
                raise InputError(
                    f"grid.fuels.{self.name}.availability_pu", value, "a value in [0, 1] [pu]"
                )
        if not self.emission_tco2_per_mwh >= 0:
            raise InputError(
                f"grid.fuels.{self.name}.emission_tco2_per_mwh",
                self.emission_tco2_per_mwh,
                ">= 0 [tCO2/MWh]",
            )

    def monthly_availability(self) -> FloatArray:
        """Return the 12 monthly availabilities [pu]."""
        values = np.asarray(self.availability_pu, dtype=np.float64)
        return np.broadcast_to(values, (12,)).copy() if values.size == 1 else values


@dataclass(frozen=True)
class DemandFacts:
    """Published demand facts the seasonal curve is fitted to.

    Parameters
    ----------
    summer_peak_mw
        Highest hourly demand of the year [MW].
    winter_peak_mw
        Highest hourly demand on a mid-winter day [MW].
    energy_gwh
        Energy generated over ``energy_window`` [GWh].
    energy_window
        First and last calendar month (1-12) of the energy figure, inclusive,
        wrapping over the new year (``(7, 3)`` is July-March).
    """

    summer_peak_mw: float
    winter_peak_mw: float
    energy_gwh: float
    energy_window: tuple[int, int] = (7, 3)


@dataclass(frozen=True)
class GridParams:
    """Everything the hourly profile needs.

    Parameters
    ----------
    fuels
        Supply stack (any order; it is sorted by marginal cost).
    demand
        Facts the seasonal demand curve is fitted to.
    timezone
        IANA zone of the grid, for the diurnal shapes.
    peak_day_of_year
        Day of year of the seasonal demand peak [day].
    peak_hour_local
        Local hour of the diurnal demand peak [h].
    diurnal_amplitude_summer_pu, diurnal_amplitude_winter_pu
        Diurnal swing around the daily mean [pu].
    reserve_margin_pu
        Operating reserve kept back from the surplus [pu of demand].
    """

    fuels: tuple[FuelBlock, ...]
    demand: DemandFacts
    timezone: str = "Asia/Karachi"
    peak_day_of_year: float = 180.0
    peak_hour_local: float = 20.0
    diurnal_amplitude_summer_pu: float = 0.12
    diurnal_amplitude_winter_pu: float = 0.20
    reserve_margin_pu: float = 0.10
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.fuels:
            raise InputError("grid.fuels", [], "at least one fuel block")
        if not 0.0 <= self.reserve_margin_pu < 1.0:
            raise InputError("grid.reserve_margin_pu", self.reserve_margin_pu, "a value in [0, 1)")
        for name, amp in (
            ("grid.diurnal_amplitude_summer_pu", self.diurnal_amplitude_summer_pu),
            ("grid.diurnal_amplitude_winter_pu", self.diurnal_amplitude_winter_pu),
        ):
            if not 0.0 <= amp < 1.0:
                raise InputError(name, amp, "a value in [0, 1)")

    @property
    def installed_capacity_mw(self) -> float:
        """Total installed capacity [MW]."""
        return float(sum(f.capacity_mw for f in self.fuels))

    def merit_order(self) -> tuple[FuelBlock, ...]:
        """Fuel blocks sorted by marginal cost, cheapest first."""
        return tuple(sorted(self.fuels, key=lambda f: f.marginal_cost_usd_per_mwh))


def _seasonal_cos(day_of_year: FloatArray, peak_day: float) -> FloatArray:
    return np.cos(2.0 * np.pi * (day_of_year - peak_day) / DAYS_PER_YEAR)


def _diurnal_amplitude(seasonal: FloatArray, params: GridParams) -> FloatArray:
    mid = 0.5 * (params.diurnal_amplitude_summer_pu + params.diurnal_amplitude_winter_pu)
    half = 0.5 * (params.diurnal_amplitude_summer_pu - params.diurnal_amplitude_winter_pu)
    return mid + half * seasonal


def _local_parts(
    index: pd.DatetimeIndex, timezone: str
) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    local = index.tz_convert(timezone)
    hours = local.hour.to_numpy(dtype=np.float64)
    doy = local.day_of_year.to_numpy(dtype=np.float64) + hours / 24.0
    hour = local.hour.to_numpy(dtype=np.float64) + 0.5
    month = local.month.to_numpy(dtype=np.int64)
    return doy, hour, month


def hourly_index(start: pd.Timestamp, hours: int) -> pd.DatetimeIndex:
    """Hourly tz-aware UTC index of ``hours`` steps starting at ``start``.

    Parameters
    ----------
    start
        First hour; must be tz-aware.
    hours
        Number of hours [h].
    """
    if start.tzinfo is None:
        raise InputError("start", str(start), "a tz-aware timestamp (e.g. 2026-01-01T00:00Z)")
    if hours <= 0:
        raise InputError("hours", hours, "a positive number of hours")
    return pd.date_range(
        start.tz_convert("UTC").floor("h"), periods=hours, freq="h", name="timestamp"
    )


def _shape_factors(index: pd.DatetimeIndex, params: GridParams) -> tuple[FloatArray, FloatArray]:
    """Return (seasonal cosine, diurnal factor) for each hour of ``index``."""
    doy, hour, _ = _local_parts(index, params.timezone)
    seasonal = _seasonal_cos(doy, params.peak_day_of_year)
    amp = _diurnal_amplitude(seasonal, params)
    diurnal = 1.0 + amp * np.cos(2.0 * np.pi * (hour - params.peak_hour_local) / HOURS_PER_DAY)
    return seasonal, diurnal


@dataclass(frozen=True)
class DemandFit:
    """Result of fitting the seasonal demand curve.

    Attributes
    ----------
    mean_mw
        Annual mean of the daily-mean demand, ``a`` [MW].
    seasonal_amplitude_mw
        Seasonal half-swing of the daily mean, ``b`` [MW].
    modelled
        The modelled value of each fact (same keys as ``published``).
    published
        The published facts: ``summer_peak_mw``, ``winter_peak_mw``,
        ``energy_gwh``.
    """

    mean_mw: float
    seasonal_amplitude_mw: float
    modelled: dict[str, float]
    published: dict[str, float]

    def relative_residuals(self) -> dict[str, float]:
        """Modelled / published - 1 for each fact [pu] (0 where nothing was published)."""
        return {
            k: (self.modelled[k] / v - 1.0 if v > 0 else 0.0) for k, v in self.published.items()
        }


def fit_seasonal_demand(params: GridParams, year: int = 2025) -> DemandFit:
    """Fit ``a`` and ``b`` of the seasonal demand curve to the published facts.

    Each fact is linear in ``(a, b)`` once the shapes are fixed: the summer
    peak is ``(a + b s_max) d_max`` over the hours of the year, the winter peak
    the same on the day of the year with the lowest seasonal factor, and the
    energy is the sum of ``(a + b s) d`` over the window's hours. The three
    equations are divided by their published values and solved by linear least
    squares, so each fact weighs by its relative error.

    Parameters
    ----------
    params
        Grid parameters (the ``demand`` facts and the shapes).
    year
        Calendar year the shapes are evaluated on.

    Returns
    -------
    DemandFit
        Fitted parameters and how well each fact is reproduced.
    """
    facts = params.demand
    published = {
        "summer_peak_mw": facts.summer_peak_mw,
        "winter_peak_mw": facts.winter_peak_mw,
        "energy_gwh": facts.energy_gwh,
    }
    if max(published.values()) <= 0.0:
        # A dedicated plant with no other load (see presets.baseload_grid).
        return DemandFit(0.0, 0.0, dict.fromkeys(published, 0.0), published)
    for name, value in published.items():
        if not value > 0.0:
            raise InputError(f"grid.demand.{name}", value, "a number > 0")
    index = hourly_index(pd.Timestamp(f"{year}-01-01", tz="UTC"), 8760)
    seasonal, diurnal = _shape_factors(index, params)
    _, _, month = _local_parts(index, params.timezone)

    # Summer peak hour: the highest-demand hour for a > b > 0 lies in the days of
    # highest seasonal factor; the max of (1 + s) d finds it.
    i_summer = int(np.argmax((1.0 + seasonal) * diurnal))
    i_winter = int(np.argmax((seasonal <= seasonal.min() + 1e-3) * diurnal))
    first, last = facts.energy_window
    in_window = (
        (month >= first) | (month <= last) if first > last else (month >= first) & (month <= last)
    )

    rows = np.array(
        [
            [diurnal[i_summer], seasonal[i_summer] * diurnal[i_summer]],
            [diurnal[i_winter], seasonal[i_winter] * diurnal[i_winter]],
            [
                float(diurnal[in_window].sum()) / 1000.0,
                float((seasonal * diurnal)[in_window].sum()) / 1000.0,
            ],
        ]
    )
    targets = np.array([facts.summer_peak_mw, facts.winter_peak_mw, facts.energy_gwh])
    solution, *_ = np.linalg.lstsq(rows / targets[:, None], np.ones(3), rcond=None)
    a, b = float(solution[0]), float(solution[1])
    modelled = rows @ solution
    return DemandFit(
        mean_mw=a,
        seasonal_amplitude_mw=b,
        modelled={
            "summer_peak_mw": float(modelled[0]),
            "winter_peak_mw": float(modelled[1]),
            "energy_gwh": float(modelled[2]),
        },
        published=published,
    )


def demand_mw(index: pd.DatetimeIndex, params: GridParams, fit: DemandFit) -> FloatArray:
    """Hourly grid demand [MW] on ``index`` from a fitted seasonal curve."""
    seasonal, diurnal = _shape_factors(index, params)
    return (fit.mean_mw + fit.seasonal_amplitude_mw * seasonal) * diurnal


def _solar_shape(hour_local: FloatArray) -> FloatArray:
    """Daytime bell: 0 at night, 1 at 12:00 local, mean 1/pi over 24 h [pu]."""
    return np.clip(np.sin(np.pi * (hour_local - 6.0) / 12.0), 0.0, None)


def available_by_block_mw(index: pd.DatetimeIndex, params: GridParams) -> FloatArray:
    """Available capacity of each block, merit-order columns [MW].

    Returns
    -------
    numpy.ndarray
        Shape ``(hours, blocks)``, blocks in :meth:`GridParams.merit_order`.
    """
    _, hour, month = _local_parts(index, params.timezone)
    blocks = params.merit_order()
    out = np.empty((len(index), len(blocks)), dtype=np.float64)
    for j, block in enumerate(blocks):
        avail = block.monthly_availability()[month - 1]
        cap = block.capacity_mw * avail
        if block.solar:
            # Scale so the daily energy equals capacity * availability * 24 h.
            cap = cap * _solar_shape(hour) * np.pi
        out[:, j] = cap
    return out


def slice_fuel_mix(stack_mw: FloatArray, base_mw: FloatArray, load_mw: FloatArray) -> FloatArray:
    """Energy each block supplies to the slice ``[base, base + load]`` of the stack.

    Parameters
    ----------
    stack_mw
        Available capacity per block in merit order, shape ``(hours, blocks)`` [MW].
    base_mw
        Load already served below the slice (grid demand), shape ``(hours,)`` [MW].
    load_mw
        Extra load on top (the mining fleet), shape ``(hours,)`` [MW].

    Returns
    -------
    numpy.ndarray
        Shape ``(hours, blocks)``: MW of the extra load met by each block. Rows
        sum to ``load_mw`` where the stack is deep enough, less otherwise.
    """
    upper = np.cumsum(stack_mw, axis=1)
    lower = upper - stack_mw
    top = (base_mw + load_mw)[:, None]
    bottom = base_mw[:, None]
    overlap = np.minimum(upper, top) - np.maximum(lower, bottom)
    return np.asarray(np.clip(overlap, 0.0, None), dtype=np.float64)


def surplus_profile(
    index: pd.DatetimeIndex, params: GridParams, fit: DemandFit | None = None
) -> pd.DataFrame:
    """Hourly demand, available supply and surplus [MW].

    Parameters
    ----------
    index
        Hourly tz-aware index.
    params
        Grid parameters.
    fit
        Fitted demand curve; fitted from ``params`` when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``demand_mw``, ``available_mw``, ``reserve_mw``, ``surplus_mw``.
    """
    if fit is None:
        fit = fit_seasonal_demand(params)
    demand = demand_mw(index, params, fit)
    stack = available_by_block_mw(index, params)
    available = stack.sum(axis=1)
    reserve = params.reserve_margin_pu * demand
    surplus = np.clip(available - demand - reserve, 0.0, None)
    return pd.DataFrame(
        {
            "demand_mw": demand,
            "available_mw": available,
            "reserve_mw": reserve,
            "surplus_mw": surplus,
        },
        index=index,
    )


@dataclass(frozen=True)
class LoadSupply:
    """What an extra load draws from the stack, hour by hour.

    Attributes
    ----------
    marginal_cost_usd_per_mwh
        Energy-weighted fuel cost of the extra load's slice [USD/MWh]
        (the cost of the next block where the slice is empty).
    emission_tco2_per_mwh
        Energy-weighted emission factor of the slice [tCO2/MWh].
    coal_share_pu
        Share of the slice met by coal-fired blocks [pu].
    marginal_fuel
        Name of the block at the top of the slice.
    """

    marginal_cost_usd_per_mwh: FloatArray
    emission_tco2_per_mwh: FloatArray
    coal_share_pu: FloatArray
    marginal_fuel: NDArray[np.str_]


def load_supply(
    index: pd.DatetimeIndex,
    params: GridParams,
    demand: FloatArray,
    load_mw: FloatArray | float,
) -> LoadSupply:
    """Fuel mix, cost and emissions of an extra load placed on top of demand.

    Parameters
    ----------
    index
        Hourly index.
    params
        Grid parameters.
    demand
        Grid demand without the extra load [MW].
    load_mw
        Extra load [MW]; where it is zero, the block that would serve the
        next MW is used.
    """
    blocks = params.merit_order()
    stack = available_by_block_mw(index, params)
    load = np.broadcast_to(np.asarray(load_mw, dtype=np.float64), demand.shape)
    probe = np.where(load > 0.0, load, 1.0)
    mix = slice_fuel_mix(stack, demand, probe)
    total = mix.sum(axis=1)
    safe = np.where(total > 0.0, total, 1.0)
    weights = mix / safe[:, None]
    cost = np.array([b.marginal_cost_usd_per_mwh for b in blocks])
    ef = np.array([b.emission_tco2_per_mwh for b in blocks])
    coal = np.array([1.0 if b.is_coal else 0.0 for b in blocks])
    upper = np.cumsum(stack, axis=1)
    top_index = np.minimum((upper < (demand + probe)[:, None]).sum(axis=1), len(blocks) - 1)
    names = np.array([b.name for b in blocks])
    # Where the stack is exhausted, the dearest block is the marginal one.
    exhausted = total <= 0.0
    weights[exhausted, :] = 0.0
    weights[exhausted, -1] = 1.0
    return LoadSupply(
        marginal_cost_usd_per_mwh=weights @ cost,
        emission_tco2_per_mwh=weights @ ef,
        coal_share_pu=weights @ coal,
        marginal_fuel=names[top_index],
    )
