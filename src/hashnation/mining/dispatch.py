"""Hourly dispatch: when the fleet runs, and on how much power.

**Curtailment rule.** An ASIC group runs in an hour only when grid surplus
lets it draw power and when one MWh spent hashing earns more than it costs:

    value_usd_per_mwh = hashprice_usd_per_th_day * (1 - pool_fee_pu) * degradation_pu
                        / (efficiency_j_per_th * (1 + cooling_overhead_pu) * 2.4e-5)

    run  if  value_usd_per_mwh >= tariff_usd_per_mwh + variable_om_usd_per_mwh

``2.4e-5`` is the MWh that one TH/s at 1 J/TH uses in a day
(86,400 s / 3.6e9 J/MWh). Put the other way: switch off when the marginal
cost of power in USD/MWh exceeds hashprice ÷ J/TH (in those units). The power
the grid allows is given to the most efficient groups first.

Both a vectorised implementation (:func:`dispatch`) and a plain per-hour loop
(:func:`dispatch_loop`, the reference the tests and the benchmark compare
against) are provided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hashnation.errors import InputError
from hashnation.mining.fleet import MWH_PER_TH_DAY_PER_J_PER_TH, Fleet

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DispatchInputs:
    """Hourly inputs of the dispatch, all of one length.

    Attributes
    ----------
    allowed_mw
        Power the grid lets the site draw [MW] (site power capped by surplus).
    tariff_usd_per_mwh
        Price the site pays for power [USD/MWh].
    hashprice_usd_per_th_day
        Gross hashprice [USD/(TH/s)/day].
    hashprice_btc_per_th_day
        Gross hashprice [BTC/(TH/s)/day].
    degradation_pu
        Hashrate multiplier from ASIC ageing [pu].
    """

    allowed_mw: FloatArray
    tariff_usd_per_mwh: FloatArray
    hashprice_usd_per_th_day: FloatArray
    hashprice_btc_per_th_day: FloatArray
    degradation_pu: FloatArray

    def __post_init__(self) -> None:
        n = self.allowed_mw.shape[0]
        for name in (
            "tariff_usd_per_mwh",
            "hashprice_usd_per_th_day",
            "hashprice_btc_per_th_day",
            "degradation_pu",
        ):
            if getattr(self, name).shape != (n,):
                raise InputError(
                    f"dispatch.{name}", getattr(self, name).shape, f"an array of shape ({n},)"
                )


@dataclass(frozen=True)
class DispatchResult:
    """Hourly dispatch outcome.

    Attributes
    ----------
    power_mw
        Scheduled site power per group, shape ``(hours, groups)`` [MW].
    energy_mwh
        Energy drawn per hour (scheduled power x uptime) [MWh].
    hashrate_ths
        Hashrate actually online per hour [TH/s].
    btc_mined
        Expected BTC mined per hour, before pool fee [BTC].
    economic_curtailed_mwh
        Allowed energy left unused because hashing did not pay [MWh].
    grid_curtailed_mwh
        Site energy the grid could not supply (no surplus) [MWh].
    running_pu
        Share of site power scheduled [pu].
    value_usd_per_mwh
        What one MWh earns in each group, shape ``(hours, groups)`` [USD/MWh].
    """

    power_mw: FloatArray
    energy_mwh: FloatArray
    hashrate_ths: FloatArray
    btc_mined: FloatArray
    economic_curtailed_mwh: FloatArray
    grid_curtailed_mwh: FloatArray
    running_pu: FloatArray
    value_usd_per_mwh: FloatArray

    @property
    def curtailed_mwh(self) -> FloatArray:
        """All site energy not drawn, for economics or for lack of surplus [MWh]."""
        return self.economic_curtailed_mwh + self.grid_curtailed_mwh


def value_usd_per_mwh(
    hashprice_usd_per_th_day: FloatArray | float,
    efficiency_j_per_th: FloatArray | float,
    *,
    cooling_overhead_pu: float = 0.0,
    pool_fee_pu: float = 0.0,
    degradation_pu: FloatArray | float = 1.0,
) -> FloatArray:
    """Revenue per MWh of site energy [USD/MWh].

    Parameters
    ----------
    hashprice_usd_per_th_day
        Gross hashprice [USD/(TH/s)/day].
    efficiency_j_per_th
        ASIC efficiency [J/TH].
    cooling_overhead_pu
        Cooling power per unit of ASIC power [pu].
    pool_fee_pu
        Pool fee [pu of revenue].
    degradation_pu
        Hashrate multiplier [pu].

    Examples
    --------
    At 0.05 USD/TH/day and 20 J/TH, a MWh buys 1 / (20 * 2.4e-5) = 2,083.3
    TH/s-days, worth 104.17 USD.
    """
    net = np.asarray(hashprice_usd_per_th_day) * (1.0 - pool_fee_pu) * np.asarray(degradation_pu)
    energy = (
        np.asarray(efficiency_j_per_th)
        * (1.0 + cooling_overhead_pu)
        * (MWH_PER_TH_DAY_PER_J_PER_TH)
    )
    return np.asarray(net / energy, dtype=np.float64)


def _check_fleet(fleet: Fleet, pool_fee_pu: float) -> None:
    if not 0.0 <= pool_fee_pu < 1.0:
        raise InputError("economics.pool_fee_pu", pool_fee_pu, "a value in [0, 1) [pu]")
    if not fleet.groups:
        raise InputError("fleet.groups", [], "at least one ASIC group")


def dispatch(
    fleet: Fleet,
    inputs: DispatchInputs,
    *,
    pool_fee_pu: float = 0.0,
    variable_om_usd_per_mwh: float = 0.0,
) -> DispatchResult:
    """Dispatch the fleet over every hour at once (vectorised).

    Parameters
    ----------
    fleet
        The fleet (groups most efficient first).
    inputs
        Hourly inputs.
    pool_fee_pu
        Pool fee [pu of revenue].
    variable_om_usd_per_mwh
        Variable operating cost on top of the tariff [USD/MWh].

    Returns
    -------
    DispatchResult
    """
    _check_fleet(fleet, pool_fee_pu)
    groups = fleet.groups
    n = inputs.allowed_mw.shape[0]
    cap = fleet.group_site_power_mw()
    site = float(cap.sum())
    # Hours are vectorised; the few ASIC groups are visited in merit order.
    net_usd = inputs.hashprice_usd_per_th_day * (1.0 - pool_fee_pu) * inputs.degradation_pu
    cost = inputs.tariff_usd_per_mwh + variable_om_usd_per_mwh
    allowed = np.minimum(inputs.allowed_mw, site)
    left = allowed.copy()
    power = np.empty((n, len(groups)), dtype=np.float64)
    value = np.empty((n, len(groups)), dtype=np.float64)
    share_ths = np.zeros(n, dtype=np.float64)
    mwh_per_th_day = fleet.group_mwh_per_th_day()
    for j, group in enumerate(groups):
        v = net_usd / mwh_per_th_day[j]
        take = np.where(v >= cost, np.minimum(left, cap[j]), 0.0)
        left -= take
        power[:, j] = take
        value[:, j] = v
        share_ths += take * (group.hashrate_ths / cap[j])
    online_ths = share_ths * inputs.degradation_pu * fleet.uptime_pu
    total_power = allowed - left
    return DispatchResult(
        power_mw=power,
        energy_mwh=total_power * fleet.uptime_pu,
        hashrate_ths=online_ths,
        btc_mined=online_ths * inputs.hashprice_btc_per_th_day / 24.0,
        economic_curtailed_mwh=left,
        grid_curtailed_mwh=site - allowed,
        running_pu=total_power / site,
        value_usd_per_mwh=value,
    )


def dispatch_loop(
    fleet: Fleet,
    inputs: DispatchInputs,
    *,
    pool_fee_pu: float = 0.0,
    variable_om_usd_per_mwh: float = 0.0,
) -> DispatchResult:
    """Dispatch hour by hour in plain Python: the reference for :func:`dispatch`.

    Same parameters and result as :func:`dispatch`; written for clarity, not
    speed.
    """
    _check_fleet(fleet, pool_fee_pu)
    n = inputs.allowed_mw.shape[0]
    groups = fleet.groups
    caps = [g.it_power_mw * (1.0 + fleet.cooling_overhead_pu) for g in groups]
    mwh_per_th_day = fleet.group_mwh_per_th_day()
    site = sum(caps)
    power = np.zeros((n, len(groups)))
    value = np.zeros((n, len(groups)))
    energy = np.zeros(n)
    online = np.zeros(n)
    btc = np.zeros(n)
    econ = np.zeros(n)
    grid = np.zeros(n)
    running = np.zeros(n)
    for t in range(n):
        left = min(float(inputs.allowed_mw[t]), site)
        allowed = left
        hp_usd = float(inputs.hashprice_usd_per_th_day[t])
        deg = float(inputs.degradation_pu[t])
        used = 0.0
        ths = 0.0
        for j, group in enumerate(groups):
            v = hp_usd * (1.0 - pool_fee_pu) * deg / float(mwh_per_th_day[j])
            value[t, j] = v
            if v < float(inputs.tariff_usd_per_mwh[t]) + variable_om_usd_per_mwh:
                continue
            take = min(caps[j], left)
            left -= take
            used += take
            power[t, j] = take
            ths += take / caps[j] * group.hashrate_ths
        ths *= deg * fleet.uptime_pu
        online[t] = ths
        btc[t] = ths * float(inputs.hashprice_btc_per_th_day[t]) / 24.0
        energy[t] = used * fleet.uptime_pu
        econ[t] = allowed - used
        grid[t] = site - allowed
        running[t] = used / site
    return DispatchResult(
        power_mw=power,
        energy_mwh=energy,
        hashrate_ths=online,
        btc_mined=btc,
        economic_curtailed_mwh=econ,
        grid_curtailed_mwh=grid,
        running_pu=running,
        value_usd_per_mwh=value,
    )
