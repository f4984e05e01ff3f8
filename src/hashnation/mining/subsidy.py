"""The IMF subsidy test: whether the miners' tariff covers the full cost of supply.

Pakistan's IMF programme forbids subsidised power for crypto mining. A tariff
is subsidy-free when it recovers the **full cost of supply** of each kWh, not
only its fuel. NEPRA's FY2026 determination gives the pieces:

* power purchase price Rs 26.34/kWh = energy (fuel) Rs 9.67 + capacity
  Rs 16.67 (payments owed to plants whether they run or not);
* national average base tariff Rs 34.01/kWh, which adds transmission and
  distribution losses, network costs and margins: 34.01 - 26.34 = Rs 7.67.

The test compares the tariff the miners actually pay (energy-weighted over the
hours they run) with the full cost of supply. The implied subsidy is the gap
times the energy drawn. Beside it the module shows the *marginal* view the
programme argues from: a tariff above the energy component still covers fuel
and contributes something toward capacity payments that are owed anyway. Both
are shown; the verdict follows the IMF's full-cost test.
"""

from __future__ import annotations

from dataclasses import dataclass

from hashnation.errors import InputError


@dataclass(frozen=True)
class CostOfSupply:
    """Components of the cost of supplying one kWh [PKR/kWh].

    Attributes
    ----------
    energy_pkr_per_kwh
        Fuel / energy component of the power purchase price.
    capacity_pkr_per_kwh
        Capacity payments component of the power purchase price.
    full_pkr_per_kwh
        Full cost of supply (national average base tariff).
    basis
        Where the numbers come from.
    """

    energy_pkr_per_kwh: float
    capacity_pkr_per_kwh: float
    full_pkr_per_kwh: float
    basis: str = ""

    def __post_init__(self) -> None:
        for name in ("energy_pkr_per_kwh", "capacity_pkr_per_kwh", "full_pkr_per_kwh"):
            value = getattr(self, name)
            if not value >= 0:
                raise InputError(f"subsidy_test.{name}", value, "a number >= 0 [PKR/kWh]")
        if self.full_pkr_per_kwh < self.power_purchase_pkr_per_kwh:
            raise InputError(
                "subsidy_test.full_pkr_per_kwh",
                self.full_pkr_per_kwh,
                f">= energy + capacity = {self.power_purchase_pkr_per_kwh:.2f} [PKR/kWh]",
            )

    @property
    def power_purchase_pkr_per_kwh(self) -> float:
        """Energy + capacity [PKR/kWh]."""
        return self.energy_pkr_per_kwh + self.capacity_pkr_per_kwh

    @property
    def network_and_losses_pkr_per_kwh(self) -> float:
        """Full cost minus power purchase price: losses, network, margins [PKR/kWh]."""
        return self.full_pkr_per_kwh - self.power_purchase_pkr_per_kwh


@dataclass(frozen=True)
class SubsidyTest:
    """Outcome of the subsidy test.

    Attributes
    ----------
    subsidy_free
        True when the tariff covers the full cost of supply.
    tariff_pkr_per_kwh
        Energy-weighted tariff paid [PKR/kWh].
    gap_pkr_per_kwh
        Full cost minus tariff; positive means below cost [PKR/kWh].
    energy_mwh_per_year
        Mean yearly energy drawn [MWh/yr].
    implied_subsidy_pkr_per_year, implied_subsidy_usd_per_year
        Gap times energy, zero when subsidy-free [PKR/yr], [USD/yr].
    covers_energy_component
        True when the tariff at least pays for fuel.
    contribution_to_capacity_pkr_per_kwh
        Tariff minus energy component, capped at the capacity component
        (what each kWh adds toward capacity payments) [PKR/kWh].
    explanation
        Plain-language paragraph for a reader outside the programme.
    """

    subsidy_free: bool
    tariff_pkr_per_kwh: float
    gap_pkr_per_kwh: float
    energy_mwh_per_year: float
    implied_subsidy_pkr_per_year: float
    implied_subsidy_usd_per_year: float
    covers_energy_component: bool
    contribution_to_capacity_pkr_per_kwh: float
    cost_of_supply: CostOfSupply
    explanation: str


def subsidy_test(
    tariff_pkr_per_kwh: float,
    energy_mwh_per_year: float,
    cost: CostOfSupply,
    fx_pkr_per_usd: float,
) -> SubsidyTest:
    """Run the IMF full-cost-of-supply test.

    Parameters
    ----------
    tariff_pkr_per_kwh
        Energy-weighted tariff the miners pay [PKR/kWh].
    energy_mwh_per_year
        Energy drawn per year [MWh/yr].
    cost
        Cost-of-supply components.
    fx_pkr_per_usd
        Exchange rate [PKR/USD].

    Examples
    --------
    A Rs 23/kWh tariff against Rs 34.01 full cost on 1,000 GWh a year:
    gap 11.01 Rs/kWh, subsidy 11.01 * 1e9 kWh = Rs 11.01bn a year.
    """
    if not tariff_pkr_per_kwh >= 0:
        raise InputError("tariff_pkr_per_kwh", tariff_pkr_per_kwh, ">= 0 [PKR/kWh]")
    if not energy_mwh_per_year >= 0:
        raise InputError("energy_mwh_per_year", energy_mwh_per_year, ">= 0 [MWh/yr]")
    if not fx_pkr_per_usd > 0:
        raise InputError("fx_pkr_per_usd", fx_pkr_per_usd, "> 0 [PKR/USD]")
    gap = cost.full_pkr_per_kwh - tariff_pkr_per_kwh
    free = gap <= 1e-9
    subsidy_pkr = max(gap, 0.0) * energy_mwh_per_year * 1000.0
    subsidy_usd = subsidy_pkr / fx_pkr_per_usd
    covers_energy = tariff_pkr_per_kwh >= cost.energy_pkr_per_kwh
    contribution = min(
        max(tariff_pkr_per_kwh - cost.energy_pkr_per_kwh, 0.0), cost.capacity_pkr_per_kwh
    )
    parts = (
        f"full cost of supply Rs {cost.full_pkr_per_kwh:.2f}/kWh = energy "
        f"{cost.energy_pkr_per_kwh:.2f} + capacity {cost.capacity_pkr_per_kwh:.2f} + losses, "
        f"network and margins {cost.network_and_losses_pkr_per_kwh:.2f}"
    )
    if free:
        verdict = (
            f"The miners pay Rs {tariff_pkr_per_kwh:.2f}/kWh on average, at or above the "
            f"{parts}. Every kWh recovers its full cost: subsidy-free: YES."
        )
    else:
        energy_gwh = energy_mwh_per_year / 1000.0
        verdict = (
            f"The miners pay Rs {tariff_pkr_per_kwh:.2f}/kWh on average, below the {parts}. "
            f"Each kWh is sold Rs {gap:.2f} below cost; on {energy_gwh:,.0f} GWh a year that is "
            f"Rs {subsidy_pkr / 1e9:,.1f}bn (USD {subsidy_usd / 1e6:,.1f}m) of implied subsidy "
            f"a year, paid by other consumers or the budget. "
        )
        if covers_energy:
            verdict += (
                f"The tariff does cover the fuel (energy component Rs "
                f"{cost.energy_pkr_per_kwh:.2f}), so each kWh adds Rs {contribution:.2f} toward "
                f"capacity payments owed anyway - the case for a marginal-cost tariff - but the "
                f"IMF test is against full cost: subsidy-free: NO."
            )
        else:
            verdict += (
                f"It does not even cover the fuel (energy component Rs "
                f"{cost.energy_pkr_per_kwh:.2f}): subsidy-free: NO."
            )
    return SubsidyTest(
        subsidy_free=free,
        tariff_pkr_per_kwh=tariff_pkr_per_kwh,
        gap_pkr_per_kwh=gap,
        energy_mwh_per_year=energy_mwh_per_year,
        implied_subsidy_pkr_per_year=subsidy_pkr,
        implied_subsidy_usd_per_year=subsidy_usd,
        covers_energy_component=covers_energy,
        contribution_to_capacity_pkr_per_kwh=contribution,
        cost_of_supply=cost,
        explanation=verdict,
    )
