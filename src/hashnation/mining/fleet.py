"""Mining fleet: ASIC mix, power, hashrate, cooling overhead, degradation.

Nameplate figures come from the bundled ASIC catalogue. The site's grid
connection (``site_power_mw``) feeds both the ASICs and their cooling; the
ASICs get ``site_power_mw / (1 + cooling_overhead_pu)``. Default cooling
overheads are engineering assumptions (stated so they can be argued with):
air-cooled containers in a hot climate 8 %, hydro and immersion 5 % (pumps and
dry coolers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hashnation.data.loaders import asic_spec
from hashnation.errors import InputError

MWH_PER_TH_DAY_PER_J_PER_TH = 86_400.0 / 3.6e9
"""Energy one TH/s at 1 J/TH uses in a day: 86,400 s / 3.6e9 J/MWh [MWh]."""

DEFAULT_COOLING_OVERHEAD_PU: dict[str, float] = {"air": 0.08, "hydro": 0.05, "immersion": 0.05}


@dataclass(frozen=True)
class FleetGroup:
    """Units of one ASIC model.

    Attributes
    ----------
    model
        Catalogue model name.
    units
        Number of machines [-].
    hashrate_ths_per_unit
        Nameplate hashrate [TH/s].
    power_w_per_unit
        Nameplate power at the wall [W].
    cooling
        ``air``, ``hydro`` or ``immersion``.
    """

    model: str
    units: int
    hashrate_ths_per_unit: float
    power_w_per_unit: float
    cooling: str

    @property
    def efficiency_j_per_th(self) -> float:
        """Energy per terahash [J/TH] (= W per TH/s)."""
        return self.power_w_per_unit / self.hashrate_ths_per_unit

    @property
    def hashrate_ths(self) -> float:
        """Nameplate hashrate of the group [TH/s]."""
        return self.units * self.hashrate_ths_per_unit

    @property
    def it_power_mw(self) -> float:
        """ASIC power of the group [MW]."""
        return self.units * self.power_w_per_unit / 1e6


@dataclass(frozen=True)
class Fleet:
    """A site's fleet.

    Attributes
    ----------
    groups
        One group per ASIC model, most efficient first.
    site_power_mw
        Grid connection feeding ASICs and cooling [MW].
    cooling_overhead_pu
        Cooling and auxiliaries per unit of ASIC power [pu].
    uptime_pu
        Share of scheduled hours a machine actually hashes [pu].
    degradation_pu_per_year
        Yearly loss of hashrate at the same power [pu/yr].
    replacement_years
        ASICs are replaced (and degradation resets) every this many years [yr].
    """

    groups: tuple[FleetGroup, ...]
    site_power_mw: float
    cooling_overhead_pu: float
    uptime_pu: float
    degradation_pu_per_year: float
    replacement_years: int

    @property
    def hashrate_ths(self) -> float:
        """Nameplate hashrate of the fleet [TH/s]."""
        return float(sum(g.hashrate_ths for g in self.groups))

    @property
    def it_power_mw(self) -> float:
        """ASIC power of the fleet [MW]."""
        return float(sum(g.it_power_mw for g in self.groups))

    @property
    def efficiency_j_per_th(self) -> float:
        """Fleet efficiency at the ASIC [J/TH]."""
        return self.it_power_mw * 1e6 / self.hashrate_ths

    def group_site_power_mw(self) -> NDArray[np.float64]:
        """Site power of each group incl. cooling [MW]."""
        return np.array(
            [g.it_power_mw * (1.0 + self.cooling_overhead_pu) for g in self.groups],
            dtype=np.float64,
        )

    def group_mwh_per_th_day(self) -> NDArray[np.float64]:
        """Site energy one TH/s of each group uses in a day, cooling included [MWh]."""
        return np.array(
            [
                g.efficiency_j_per_th
                * (1.0 + self.cooling_overhead_pu)
                * MWH_PER_TH_DAY_PER_J_PER_TH
                for g in self.groups
            ],
            dtype=np.float64,
        )

    def degradation_factor(self, years_elapsed: NDArray[np.float64]) -> NDArray[np.float64]:
        """Hashrate multiplier after ``years_elapsed`` [pu], reset at each replacement."""
        age = np.mod(years_elapsed, float(self.replacement_years))
        return np.asarray((1.0 - self.degradation_pu_per_year) ** age, dtype=np.float64)


def build_fleet(
    site_power_mw: float,
    mix: Sequence[tuple[str, float]],
    *,
    cooling_overhead_pu: float | None = None,
    uptime_pu: float = 0.95,
    degradation_pu_per_year: float = 0.03,
    replacement_years: int = 5,
) -> Fleet:
    """Fill a site with ASICs from the catalogue.

    Parameters
    ----------
    site_power_mw
        Grid connection [MW]; must be > 0.
    mix
        ``(model, share)`` pairs; shares of ASIC power, summing to 1 [pu].
    cooling_overhead_pu
        Cooling overhead [pu]; by default the power-weighted default of the
        models' cooling types.
    uptime_pu, degradation_pu_per_year, replacement_years
        See :class:`Fleet`.

    Examples
    --------
    1 MW of 20 J/TH machines with no cooling overhead holds 50,000 TH/s.
    """
    if not site_power_mw > 0:
        raise InputError("fleet.site_power_mw", site_power_mw, "a number > 0 [MW]")
    if not mix:
        raise InputError("fleet.mix", [], "at least one (model, share) pair")
    shares = np.array([s for _, s in mix], dtype=np.float64)
    for model, share in mix:
        if not share > 0:
            raise InputError(f"fleet.mix[{model}].share", share, "a share > 0 [pu]")
    if abs(shares.sum() - 1.0) > 1e-6:
        raise InputError("fleet.mix.share", float(shares.sum()), "shares summing to 1 [pu]")
    if not 0 < uptime_pu <= 1:
        raise InputError("fleet.uptime_pu", uptime_pu, "a value in (0, 1] [pu]")
    if not 0 <= degradation_pu_per_year < 1:
        raise InputError(
            "fleet.degradation_pu_per_year", degradation_pu_per_year, "a value in [0, 1) [pu/yr]"
        )
    if replacement_years < 1:
        raise InputError("fleet.replacement_years", replacement_years, "an integer >= 1 [yr]")
    specs = [asic_spec(model) for model, _ in mix]
    if cooling_overhead_pu is None:
        cooling_overhead_pu = float(
            sum(
                share * DEFAULT_COOLING_OVERHEAD_PU.get(spec.cooling, 0.08)
                for spec, share in zip(specs, shares, strict=True)
            )
        )
    if not 0 <= cooling_overhead_pu < 1:
        raise InputError("fleet.cooling_overhead_pu", cooling_overhead_pu, "a value in [0, 1) [pu]")
    it_mw = site_power_mw / (1.0 + cooling_overhead_pu)
    groups = []
    for spec, share in zip(specs, shares, strict=True):
        units = int(np.floor(it_mw * share * 1e6 / spec.power_w))
        groups.append(
            FleetGroup(
                model=spec.model,
                units=units,
                hashrate_ths_per_unit=spec.hashrate_ths,
                power_w_per_unit=spec.power_w,
                cooling=spec.cooling,
            )
        )
    groups.sort(key=lambda g: g.efficiency_j_per_th)
    return Fleet(
        groups=tuple(groups),
        site_power_mw=site_power_mw,
        cooling_overhead_pu=cooling_overhead_pu,
        uptime_pu=uptime_pu,
        degradation_pu_per_year=degradation_pu_per_year,
        replacement_years=replacement_years,
    )
