"""Scenario files: examples parse; bad input names field, value and expectation."""

from pathlib import Path

import pytest

from hashnation.errors import ScenarioError
from hashnation.mining.scenario import load_scenario, parse_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def base() -> dict:
    return {
        "scenario": {"name": "t", "start": "2026-01-01T00:00:00Z", "years": 1},
        "site": {"power_mw": 10.0},
        "fleet": {"mix": [{"model": "Antminer S21", "share": 1.0}]},
        "tariff": {"pkr_per_kwh": 23.0},
    }


@pytest.mark.parametrize("name", ["pakistan-2000mw.toml", "el-salvador-geothermal.toml"])
def test_examples_parse(name: str) -> None:
    sc = load_scenario(EXAMPLES / name)
    assert sc.site.power_mw > 0
    assert abs(sum(m.share for m in sc.fleet.mix) - 1.0) < 1e-9


def test_flat_tariff_conversion() -> None:
    sc = parse_scenario(base())
    # 23 PKR/kWh at 280 PKR/USD = 0.082142857 USD/kWh = 82.142857 USD/MWh
    assert sc.tariff.flat_usd_per_mwh() == pytest.approx(82.142857, rel=1e-6)


@pytest.mark.parametrize(
    ("section", "key", "value", "pattern"),
    [
        ("site", "power_mw", -5, r"site\.power_mw: got -5, expected .*greater than 0"),
        ("tariff", "pkr_per_kwh", 23000, r"tariff\.pkr_per_kwh: got 23000.*PKR/MWh"),
        ("scenario", "years", 0, r"scenario\.years: got 0"),
        ("scenario", "start", "2026-01-01T00:00:00", r"scenario\.start: .*tz-aware"),
        ("site", "powr_mw", 5, r"site\.powr_mw: got 5, expected no such field"),
    ],
)
def test_bad_fields(section: str, key: str, value: object, pattern: str) -> None:
    data = base()
    data[section][key] = value
    with pytest.raises(ScenarioError, match=pattern):
        parse_scenario(data)


def test_usd_tariff_in_wrong_unit() -> None:
    data = base()
    data["tariff"] = {"usd_per_kwh": 80}
    with pytest.raises(ScenarioError, match=r"tariff\.usd_per_kwh: got 80.*USD/MWh"):
        parse_scenario(data)


def test_two_tariffs_or_none() -> None:
    data = base()
    data["tariff"] = {"pkr_per_kwh": 23.0, "usd_per_kwh": 0.08}
    with pytest.raises(ScenarioError, match="exactly one of"):
        parse_scenario(data)


def test_missing_section_and_shares() -> None:
    data = base()
    del data["site"]
    with pytest.raises(ScenarioError, match=r"^site: got None, expected a value"):
        parse_scenario(data)
    data = base()
    data["fleet"]["mix"][0]["share"] = 0.5
    with pytest.raises(ScenarioError, match="summing to 1"):
        parse_scenario(data)


def test_malformed_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\nname = 1\n")
    with pytest.raises(ScenarioError, match="valid TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="an existing TOML file"):
        load_scenario(tmp_path / "nope.toml")
