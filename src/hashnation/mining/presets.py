"""Grid presets: the Pakistan national grid from bundled facts, and a baseload plant.

The Pakistan stack combines facts (installed capacity and shares, Thar coal
and nuclear capacity, CPPA-G fuel costs, coal carbon contents, NEPRA demand
peaks and generation) with the assumptions listed, with reasons, in
``pakistan_grid.toml`` beside this module.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from hashnation.data.loaders import emission_factor, fact_value
from hashnation.errors import InputError
from hashnation.mining.grid import DemandFacts, FuelBlock, GridParams
from hashnation.mining.subsidy import CostOfSupply

GJ_PER_BTU = 1.055056e-6
CO2_PER_C = 44.0 / 12.0
HOURS_PER_YEAR = 8760.0


@lru_cache(maxsize=1)
def _pakistan_doc() -> dict[str, Any]:
    text = resources.files("hashnation.mining").joinpath("pakistan_grid.toml").read_text("utf-8")
    return tomllib.loads(text)


def emission_tco2_per_mwh(heat_rate_btu_per_kwh: float, fuel_kgco2_per_gj: float) -> float:
    """Plant emission factor from heat rate and fuel emission factor [tCO2/MWh].

    ``heat_rate [Btu/kWh] * 1.055056e-6 [GJ/Btu] * EF [kgCO2/GJ]`` gives kgCO2
    per kWh, which equals tCO2 per MWh.

    Examples
    --------
    The GEM worked example: 8,863 Btu/kWh on 96.1 kgCO2/GJ coal gives 0.899.

    >>> round(emission_tco2_per_mwh(8863, 96.1), 3)
    0.899
    """
    return heat_rate_btu_per_kwh * GJ_PER_BTU * fuel_kgco2_per_gj


def pakistan_grid(fx_pkr_per_usd: float, reserve_margin_pu: float | None = None) -> GridParams:
    """Pakistan national grid parameters.

    Parameters
    ----------
    fx_pkr_per_usd
        Exchange rate used to turn PKR fuel costs into USD [PKR/USD].
    reserve_margin_pu
        Operating reserve [pu of demand]; the preset's value when omitted.
    """
    if not fx_pkr_per_usd > 0:
        raise InputError("tariff.fx_pkr_per_usd", fx_pkr_per_usd, "> 0 [PKR/USD]")
    doc = _pakistan_doc()
    cap = doc["capacity"]
    total = fact_value("pakistan", cap["total_fact"])
    hydro_mw = total * fact_value("pakistan", cap["hydel_share_fact"]) / 100.0
    thermal_mw = total * fact_value("pakistan", cap["thermal_share_fact"]) / 100.0
    renew_mw = total * fact_value("pakistan", cap["renewables_share_fact"]) / 100.0
    nuclear_mw = fact_value("pakistan", cap["nuclear_fact"])
    local_coal_mw = fact_value("pakistan", cap["local_coal_fact"])
    rfo_mw = thermal_mw - local_coal_mw - cap["imported_coal_mw"] - cap["gas_mw"] - cap["rlng_mw"]
    solar_mw = renew_mw * cap["solar_share_of_renewables"]
    wind_mw = renew_mw - solar_mw

    heat = doc["heat_rate_btu_per_kwh"]
    fuel_ef = doc["fuel_emission_kgco2_per_gj"]
    lignite = emission_factor(fuel_ef["local_coal_carbon_fact"])[0] * CO2_PER_C
    bituminous = emission_factor(fuel_ef["imported_coal_carbon_fact"])[0] * CO2_PER_C
    ef = {
        "local_coal": emission_tco2_per_mwh(heat["local_coal"], lignite),
        "imported_coal": emission_tco2_per_mwh(heat["imported_coal"], bituminous),
        "gas": emission_tco2_per_mwh(heat["gas"], fuel_ef["gas"]),
        "rlng": emission_tco2_per_mwh(heat["rlng"], fuel_ef["rlng"]),
        "rfo": emission_tco2_per_mwh(heat["rfo"], fuel_ef["rfo"]),
    }

    def usd(fuel: str) -> float:
        pkr_per_kwh = fact_value("pakistan", doc["fuel_cost_facts"][fuel])
        return pkr_per_kwh * 1000.0 / fx_pkr_per_usd

    avail = doc["availability_pu"]
    hydro_av = tuple(float(v) for v in avail["hydro"])
    thermal = (float(avail["thermal"]),)
    fuels = (
        FuelBlock("solar", solar_mw, (float(avail["solar"]),), 0.0, 0.0, solar=True),
        FuelBlock("wind", wind_mw, (float(avail["wind"]),), 0.0, 0.0),
        FuelBlock("hydro", hydro_mw, hydro_av, 0.0, 0.0),
        FuelBlock("nuclear", nuclear_mw, (float(avail["nuclear"]),), usd("nuclear"), 0.0),
        FuelBlock(
            "local_coal", local_coal_mw, thermal, usd("local_coal"), ef["local_coal"], is_coal=True
        ),
        FuelBlock("gas", float(cap["gas_mw"]), thermal, usd("gas"), ef["gas"]),
        FuelBlock(
            "imported_coal",
            float(cap["imported_coal_mw"]),
            thermal,
            usd("imported_coal"),
            ef["imported_coal"],
            is_coal=True,
        ),
        FuelBlock("rlng", float(cap["rlng_mw"]), thermal, usd("rlng"), ef["rlng"]),
        FuelBlock("rfo", rfo_mw, thermal, usd("rfo"), ef["rfo"]),
    )
    dem = doc["demand"]
    facts = DemandFacts(
        summer_peak_mw=fact_value("pakistan", dem["summer_peak_fact"]),
        winter_peak_mw=fact_value("pakistan", dem["winter_peak_fact"]),
        energy_gwh=fact_value("pakistan", dem["energy_fact"]),
        energy_window=(int(dem["energy_window"][0]), int(dem["energy_window"][1])),
    )
    return GridParams(
        fuels=fuels,
        demand=facts,
        timezone="Asia/Karachi",
        peak_day_of_year=float(dem["peak_day_of_year"]),
        peak_hour_local=float(dem["peak_hour_local"]),
        diurnal_amplitude_summer_pu=float(dem["diurnal_amplitude_summer_pu"]),
        diurnal_amplitude_winter_pu=float(dem["diurnal_amplitude_winter_pu"]),
        reserve_margin_pu=(
            float(dem["reserve_margin_pu"]) if reserve_margin_pu is None else reserve_margin_pu
        ),
    )


def baseload_grid(
    power_mw: float,
    availability_pu: float,
    emission_tco2_per_mwh: float,
    fuel: str = "baseload",
    cost_usd_per_mwh: float = 0.0,
) -> GridParams:
    """Model a dedicated plant (e.g. a geothermal unit) that serves only the site.

    Demand is zero, so the surplus is the plant's available output.

    Parameters
    ----------
    power_mw
        Plant capacity dedicated to the site [MW].
    availability_pu
        Plant availability [pu].
    emission_tco2_per_mwh
        Plant emission factor [tCO2/MWh].
    fuel
        Name shown as the marginal fuel.
    cost_usd_per_mwh
        Plant marginal cost [USD/MWh].
    """
    return GridParams(
        fuels=(
            FuelBlock(fuel, power_mw, (availability_pu,), cost_usd_per_mwh, emission_tco2_per_mwh),
        ),
        demand=DemandFacts(summer_peak_mw=0.0, winter_peak_mw=0.0, energy_gwh=0.0),
        diurnal_amplitude_summer_pu=0.0,
        diurnal_amplitude_winter_pu=0.0,
        reserve_margin_pu=0.0,
    )


def pakistan_cost_of_supply() -> CostOfSupply:
    """NEPRA FY2026 cost-of-supply components from the bundled facts [PKR/kWh]."""
    doc = _pakistan_doc()["subsidy_test"]
    return CostOfSupply(
        energy_pkr_per_kwh=fact_value("pakistan", doc["energy_fact"]),
        capacity_pkr_per_kwh=fact_value("pakistan", doc["capacity_fact"]),
        full_pkr_per_kwh=fact_value("pakistan", doc["full_fact"]),
        basis=(
            "NEPRA FY2026 determination: power purchase price energy + capacity components; "
            "national average base tariff as full cost of supply"
        ),
    )
