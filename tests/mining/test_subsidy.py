"""IMF subsidy test against NEPRA's cost of supply (from the bundled facts)."""

import pytest

from hashnation.data.loaders import fact_range, fact_value
from hashnation.errors import InputError
from hashnation.mining.presets import pakistan_cost_of_supply
from hashnation.mining.subsidy import CostOfSupply, subsidy_test


def test_cost_of_supply_comes_from_the_facts() -> None:
    cos = pakistan_cost_of_supply()
    assert cos.energy_pkr_per_kwh == fact_value(
        "pakistan", "power_purchase_price_energy_component_fy26"
    )
    assert cos.capacity_pkr_per_kwh == fact_value(
        "pakistan", "power_purchase_price_capacity_component_fy26"
    )
    assert cos.full_pkr_per_kwh == fact_value("pakistan", "base_tariff_national_average_fy26")
    # 16.67 + 9.67 = 26.34, the published power purchase price.
    assert cos.power_purchase_pkr_per_kwh == pytest.approx(
        fact_value("pakistan", "power_purchase_price_avg_fy26")
    )
    assert cos.network_and_losses_pkr_per_kwh == pytest.approx(34.01 - 26.34)


@pytest.mark.parametrize("which", [0, 1])
def test_proposed_miner_tariff_is_not_subsidy_free(which: int) -> None:
    tariff = fact_range("pakistan", "proposed_miner_tariff")[which]  # Rs 22 and Rs 24
    result = subsidy_test(tariff, 1_000_000.0, pakistan_cost_of_supply(), 280.0)
    assert not result.subsidy_free
    gap = 34.01 - tariff
    assert result.gap_pkr_per_kwh == pytest.approx(gap)
    # gap [Rs/kWh] x 1e9 kWh = implied subsidy per year
    assert result.implied_subsidy_pkr_per_year == pytest.approx(gap * 1e9)
    assert result.implied_subsidy_usd_per_year == pytest.approx(gap * 1e9 / 280.0)
    assert result.covers_energy_component
    assert result.contribution_to_capacity_pkr_per_kwh == pytest.approx(tariff - 9.67)
    assert "subsidy-free: NO" in result.explanation
    assert "34.01" in result.explanation


def test_full_cost_tariff_is_subsidy_free() -> None:
    result = subsidy_test(34.01, 1000.0, pakistan_cost_of_supply(), 280.0)
    assert result.subsidy_free
    assert result.implied_subsidy_usd_per_year == 0.0
    assert "subsidy-free: YES" in result.explanation


def test_tariff_below_fuel_cost_says_so() -> None:
    result = subsidy_test(5.0, 1000.0, pakistan_cost_of_supply(), 280.0)
    assert not result.covers_energy_component
    assert result.contribution_to_capacity_pkr_per_kwh == 0.0
    assert "does not even cover the fuel" in result.explanation


def test_inconsistent_components_refused() -> None:
    with pytest.raises(InputError, match="full_pkr_per_kwh"):
        CostOfSupply(10.0, 20.0, 25.0)
    with pytest.raises(InputError, match="fx_pkr_per_usd"):
        subsidy_test(20.0, 1.0, pakistan_cost_of_supply(), 0.0)
