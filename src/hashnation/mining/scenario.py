"""Scenario files: a TOML document validated into typed settings.

Every field carries its unit in its name. Unknown keys are refused (a typo
must not silently fall back to a default). Validation errors become one
:class:`~hashnation.errors.ScenarioError` naming the field, the value and what
was expected.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hashnation.errors import ScenarioError

MAX_PKR_PER_KWH = 200.0
MAX_USD_PER_KWH = 1.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioMeta(_Model):
    """``[scenario]``: name, start and horizon."""

    name: str
    country: str = "pakistan"
    timezone: str | None = Field(
        default=None, description="IANA zone of local hours; by country when omitted"
    )
    start: datetime = Field(description="First hour, tz-aware ISO 8601 [UTC]")
    years: Annotated[int, Field(ge=1, le=30)] = 10

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: name too long
                raise ValueError("an IANA time zone such as Asia/Karachi") from None
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("a tz-aware time such as 2026-01-01T00:00:00Z")
        return value


class SiteSpec(_Model):
    """``[site]``: grid connection and the grid model it sits on."""

    power_mw: Annotated[float, Field(gt=0, le=100_000)]
    grid: Literal["pakistan", "baseload", "csv"] = "pakistan"
    profile_csv: str | None = Field(
        default=None, description="Hourly profile for grid = 'csv' (relative to the TOML file)"
    )
    baseload_availability_pu: Annotated[float, Field(gt=0, le=1)] = 1.0
    baseload_emission_tco2_per_mwh: Annotated[float, Field(ge=0)] = 0.0
    baseload_fuel: str = "baseload"
    reserve_margin_pu: Annotated[float, Field(ge=0, lt=1)] | None = None

    @model_validator(mode="after")
    def _csv_needs_file(self) -> SiteSpec:
        if self.grid == "csv" and not self.profile_csv:
            raise ValueError("profile_csv = 'file.csv' when grid = 'csv'")
        return self


class MixItem(_Model):
    """One ``[[fleet.mix]]`` entry: a catalogue model, or a custom machine."""

    model: str
    share: Annotated[float, Field(gt=0, le=1)]
    hashrate_ths: Annotated[float, Field(gt=0)] | None = None
    power_w: Annotated[float, Field(gt=0)] | None = None
    cooling: Literal["air", "hydro", "immersion"] = "air"

    @model_validator(mode="after")
    def _custom_pair(self) -> MixItem:
        if (self.hashrate_ths is None) != (self.power_w is None):
            raise ValueError("hashrate_ths and power_w together for a custom machine")
        return self


class FleetSpec(_Model):
    """``[fleet]``: ASIC mix and operating assumptions."""

    mix: list[MixItem]
    uptime_pu: Annotated[float, Field(gt=0, le=1)] = 0.95
    degradation_pu_per_year: Annotated[float, Field(ge=0, lt=1)] = 0.03
    replacement_years: Annotated[int, Field(ge=1, le=30)] = 5
    cooling_overhead_pu: Annotated[float, Field(ge=0, lt=1)] | None = None


class TariffSpec(_Model):
    """``[tariff]``: what the miners pay for power.

    ``kind = "flat"`` takes one of ``pkr_per_kwh`` / ``usd_per_kwh``;
    ``kind = "marginal_cost"`` passes through the hourly fuel cost of the slice
    of the merit order the fleet draws, plus ``adder_pkr_per_kwh``.
    """

    kind: Literal["flat", "marginal_cost"] = "flat"
    pkr_per_kwh: float | None = None
    usd_per_kwh: float | None = None
    adder_pkr_per_kwh: float = 0.0
    fx_pkr_per_usd: Annotated[float, Field(gt=0)] = 280.0

    @field_validator("pkr_per_kwh", "adder_pkr_per_kwh")
    @classmethod
    def _pkr_unit(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value <= MAX_PKR_PER_KWH:
            hint = " (that looks like PKR/MWh)" if value > MAX_PKR_PER_KWH else ""
            raise ValueError(f"PKR per kWh in [0, {MAX_PKR_PER_KWH:.0f}]{hint}")
        return value

    @field_validator("usd_per_kwh")
    @classmethod
    def _usd_unit(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value <= MAX_USD_PER_KWH:
            hint = " (that looks like USD/MWh or cents/kWh)" if value > MAX_USD_PER_KWH else ""
            raise ValueError(f"USD per kWh in [0, {MAX_USD_PER_KWH:.0f}]{hint}")
        return value

    @model_validator(mode="after")
    def _one_price(self) -> TariffSpec:
        if self.kind == "flat" and (self.pkr_per_kwh is None) == (self.usd_per_kwh is None):
            raise ValueError("exactly one of pkr_per_kwh or usd_per_kwh for a flat tariff")
        return self

    def flat_usd_per_mwh(self) -> float:
        """Flat tariff [USD/MWh]."""
        if self.usd_per_kwh is not None:
            return self.usd_per_kwh * 1000.0
        assert self.pkr_per_kwh is not None
        return self.pkr_per_kwh * 1000.0 / self.fx_pkr_per_usd


class NetworkSpec(_Model):
    """``[network]``: difficulty growth and fees; start state from bundled data."""

    hashrate_growth_pu_per_year: Annotated[float, Field(gt=-1, le=10)] = 0.25
    fees_btc_per_block: Annotated[float, Field(ge=0, le=50)] | None = None
    fees_growth_pu_per_year: Annotated[float, Field(gt=-1, le=10)] = 0.0
    include_fleet_hashrate: bool = True
    start_difficulty: Annotated[float, Field(ge=1)] | None = None
    start_height: Annotated[int, Field(ge=0)] | None = None


class PriceSpec(_Model):
    """``[price]``: start price (default: last bundled) and yearly drift."""

    start_usd_per_btc: Annotated[float, Field(gt=0)] | None = None
    drift_pu_per_year: Annotated[float, Field(gt=-1, le=10)] = 0.0


class EconomicsSpec(_Model):
    """``[economics]``: costs and discounting (see ``CostParams``)."""

    asic_price_usd_per_th: Annotated[float, Field(ge=0, le=1000)] = 15.0
    asic_price_decline_pu_per_year: Annotated[float, Field(ge=0, lt=1)] = 0.10
    infrastructure_usd_per_mw: Annotated[float, Field(ge=0)] = 300_000.0
    fixed_om_usd_per_mw_year: Annotated[float, Field(ge=0)] = 40_000.0
    variable_om_usd_per_mwh: Annotated[float, Field(ge=0)] = 0.0
    pool_fee_pu: Annotated[float, Field(ge=0, lt=1)] = 0.02
    discount_rate_pu: Annotated[float, Field(gt=-1, lt=1)] = 0.10


class DemandResponseSpec(_Model):
    """``[demand_response]``: payment for power handed back at grid peaks."""

    enabled: bool = False
    payment_usd_per_mwh: Annotated[float, Field(ge=0)] = 0.0


class SubsidyTestSpec(_Model):
    """``[subsidy_test]``: cost-of-supply components; bundled NEPRA facts by default."""

    enabled: bool = True
    energy_pkr_per_kwh: Annotated[float, Field(ge=0)] | None = None
    capacity_pkr_per_kwh: Annotated[float, Field(ge=0)] | None = None
    full_pkr_per_kwh: Annotated[float, Field(ge=0)] | None = None


class RiskSpec(_Model):
    """``[risk]``: stochastic drivers of ``hashnation mining risk`` (see ``drivers``).

    Fields left out take the defaults of :class:`~hashnation.mining.drivers.DriverParams`;
    volatilities left out are fitted to the bundled history.
    """

    price_model: Literal["bootstrap", "gbm"] = "bootstrap"
    price_volatility_pu: Annotated[float, Field(ge=0, le=5)] | None = None
    price_fit_since: str = "2021-01-01"
    bootstrap_block_days: Annotated[int, Field(ge=1, le=365)] = 30
    hashrate_elasticity: Annotated[float, Field(ge=0, le=50)] = 1.0
    hashrate_lag_days: Annotated[int, Field(ge=0, le=3650)] = 90
    hashrate_volatility_pu: Annotated[float, Field(ge=0, le=5)] = 0.10
    fees_volatility_pu: Annotated[float, Field(ge=0, le=5)] | None = None
    fees_autocorrelation: Annotated[float, Field(ge=0, lt=1)] | None = None
    block_time_variability: bool = True
    surplus_volatility_pu: Annotated[float, Field(ge=0, le=2)] = 0.10
    failure_rate_pu_per_year: Annotated[float, Field(ge=0, le=0.5)] = 0.02
    degradation_spread_pu_per_year: Annotated[float, Field(ge=0, le=0.5)] = 0.01


class Scenario(_Model):
    """A whole scenario file."""

    scenario: ScenarioMeta
    site: SiteSpec
    fleet: FleetSpec
    tariff: TariffSpec
    network: NetworkSpec = NetworkSpec()
    price: PriceSpec = PriceSpec()
    economics: EconomicsSpec = EconomicsSpec()
    demand_response: DemandResponseSpec = DemandResponseSpec()
    subsidy_test: SubsidyTestSpec = SubsidyTestSpec()
    risk: RiskSpec = RiskSpec()

    @model_validator(mode="after")
    def _shares(self) -> Scenario:
        total = sum(item.share for item in self.fleet.mix)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"fleet.mix shares summing to 1 (they sum to {total:g})")
        return self


def _first_error(exc: ValidationError) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in err["loc"]) or "scenario"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err["type"] == "missing":
        return ScenarioError(loc, None, "a value (the field is required)")
    if err["type"] == "extra_forbidden":
        return ScenarioError(loc, err.get("input"), "no such field (check the spelling)")
    value: Any = err.get("input")
    if isinstance(value, dict):
        value = "{...}"
    if msg and not (len(msg) > 1 and msg[1].isupper()):
        msg = msg[0].lower() + msg[1:]
    return ScenarioError(loc, value, msg or "a valid value")


def parse_scenario(data: dict[str, Any]) -> Scenario:
    """Validate a scenario given as nested mappings."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    ScenarioError
        File missing, malformed TOML, or an invalid field.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("scenario_file", str(p), "an existing TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError("scenario_file", str(p), f"a readable UTF-8 file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("scenario_file", str(p), f"valid TOML ({exc})") from None
    scenario = parse_scenario(data)
    csv = scenario.site.profile_csv
    if csv is not None and not Path(csv).is_absolute():
        # A relative profile path is relative to the scenario file, not to the caller.
        site = scenario.site.model_copy(update={"profile_csv": str(p.parent / csv)})
        scenario = scenario.model_copy(update={"site": site})
    return scenario
