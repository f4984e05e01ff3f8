"""Hourly grid profiles from CSV: same results as the built-in grid, clear errors."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer.testing

from hashnation.cli.main import app
from hashnation.errors import DataError
from hashnation.mining.grid import hourly_index
from hashnation.mining.profile import load_grid_profile
from hashnation.mining.program import MiningProgram
from hashnation.mining.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PAKISTAN = ROOT / "examples" / "pakistan-2000mw.toml"
COLUMNS = [
    "surplus_mw",
    "marginal_cost_usd_per_mwh",
    "emission_tco2_per_mwh",
    "coal_share_pu",
    "demand_mw",
    "marginal_fuel",
]


def _two_year_pakistan(tmp_path: Path) -> tuple[MiningProgram, Path]:
    """Run the Pakistan grid for two years and write its profile to a CSV next to a copy."""
    text = PAKISTAN.read_text(encoding="utf-8").replace("years = 10", "years = 2")
    toml = tmp_path / "pk.toml"
    toml.write_text(text, encoding="utf-8")
    program = MiningProgram.from_toml(toml).run()
    assert program.grid_hourly is not None
    program.grid_hourly[COLUMNS].to_csv(tmp_path / "profile.csv", index=False)
    csv_text = text.replace('grid = "pakistan"', 'grid = "csv"\nprofile_csv = "profile.csv"')
    (tmp_path / "pk-csv.toml").write_text(csv_text, encoding="utf-8")
    return program, tmp_path / "pk-csv.toml"


def test_csv_profile_reproduces_the_built_in_grid(tmp_path: Path) -> None:
    built_in, csv_toml = _two_year_pakistan(tmp_path)
    from_csv = MiningProgram.from_toml(csv_toml).run()
    a, b = built_in.results.summary, from_csv.results.summary
    for name in ("btc_mined", "npv_usd", "energy_mwh", "emissions_tco2", "coal_share_pu"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-9), name
    assert any("profile.csv" in note for note in b.notes)


def test_one_year_file_repeats_for_every_year(tmp_path: Path) -> None:
    idx = hourly_index(pd.Timestamp("2026-01-01", tz="UTC"), 3 * 8760)
    year = pd.DataFrame(
        {
            "surplus_mw": np.arange(8760, dtype=float),
            "marginal_cost_usd_per_mwh": 50.0,
            "emission_tco2_per_mwh": 0.5,
        }
    )
    year.to_csv(tmp_path / "y.csv", index=False)
    prof = load_grid_profile(tmp_path / "y.csv", idx)
    assert len(prof) == 3 * 8760
    assert prof["surplus_mw"].iloc[8760 + 5] == 5.0
    assert (prof["coal_share_pu"] == 0).all() and (prof["marginal_fuel"] == "grid").all()


def test_bad_profiles_name_file_column_and_row(tmp_path: Path) -> None:
    idx = hourly_index(pd.Timestamp("2026-01-01", tz="UTC"), 8760)
    good = pd.DataFrame(
        {"surplus_mw": 1.0, "marginal_cost_usd_per_mwh": 1.0, "emission_tco2_per_mwh": 0.1},
        index=range(8760),
    )
    good.drop(columns="emission_tco2_per_mwh").to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(DataError, match=r"a\.csv\.emission_tco2_per_mwh"):
        load_grid_profile(tmp_path / "a.csv", idx)
    bad = good.copy()
    bad.loc[99, "surplus_mw"] = -5.0
    bad.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataError, match=r"b\.csv\.surplus_mw: got -5\.0.*row 101"):
        load_grid_profile(tmp_path / "b.csv", idx)
    good.iloc[:100].to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(DataError, match=r"c\.csv\.rows: got 100, expected 8760 rows"):
        load_grid_profile(tmp_path / "c.csv", idx)


def test_cli_missing_column_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    _, csv_toml = _two_year_pakistan(tmp_path)
    frame = pd.read_csv(tmp_path / "profile.csv").drop(columns="marginal_cost_usd_per_mwh")
    frame.to_csv(tmp_path / "profile.csv", index=False)
    out = tmp_path / "out"
    runner = typer.testing.CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(app, ["mining", "run", str(csv_toml), "--out", str(out)])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert "profile.csv.marginal_cost_usd_per_mwh" in line and "expected" in line
    assert not out.exists()


def test_scenario_needs_a_file_for_csv_grid(tmp_path: Path) -> None:
    text = PAKISTAN.read_text(encoding="utf-8").replace('grid = "pakistan"', 'grid = "csv"')
    (tmp_path / "x.toml").write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match="profile_csv"):
        load_scenario(tmp_path / "x.toml")
