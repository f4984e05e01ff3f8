"""End-to-end tests of ``hashnation mining``: real scenario files, real model runs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer.testing

from hashnation.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EL_SALVADOR = ROOT / "examples" / "el-salvador-geothermal.toml"
SCENARIO_NAME = "El Salvador geothermal mining (LaGeo, Berlin)"

# Rich wraps tables at 80 columns when output is not a terminal; widen it so
# that names are not folded across lines.
runner = typer.testing.CliRunner(env={"COLUMNS": "200"})


def _no_nan(token: str) -> float:
    raise AssertionError(f"non-standard JSON constant {token}")


def load_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_nan)


def variant(tmp_path: Path, old: str, new: str, name: str = "scenario.toml") -> Path:
    """Copy the El Salvador example with one piece of text replaced."""
    text = EL_SALVADOR.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in the example"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def without_section(tmp_path: Path, section: str) -> Path:
    """Copy the El Salvador example without one ``[section]`` table."""
    lines = EL_SALVADOR.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"[{section}]")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    path = tmp_path / "scenario.toml"
    path.write_text("\n".join(lines[:start] + lines[end:]) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- a good run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[typer.testing.Result, Path]:
    out = tmp_path_factory.mktemp("el-salvador") / "out"
    result = runner.invoke(app, ["mining", "run", str(EL_SALVADOR), "--out", str(out)])
    return result, out


def test_run_succeeds_and_prints_summary(run_dir: tuple[typer.testing.Result, Path]) -> None:
    result, out = run_dir
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert SCENARIO_NAME in result.stdout
    assert "BTC mined over the horizon" in result.stdout
    assert "/BTC" in result.stdout
    assert "IMF subsidy test: not run" in result.stdout
    assert f"report: {out / 'report.html'}" in result.stdout


def test_run_writes_every_file(run_dir: tuple[typer.testing.Result, Path]) -> None:
    _, out = run_dir
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "report.html",
            "plotly.min.js",
            "summary.json",
            "annual.csv",
            "annual.json",
            "hourly.csv",
            "hourly.json",
        ]
    )
    leftovers = [p.name for p in out.parent.iterdir() if p.name != "out"]
    assert leftovers == []


def test_report_is_offline_and_has_figures(run_dir: tuple[typer.testing.Result, Path]) -> None:
    _, out = run_dir
    html = (out / "report.html").read_text(encoding="utf-8")
    assert SCENARIO_NAME in html
    assert html.count('<script src="plotly.min.js"></script>') == 1
    assert html.count('class="plotly-graph-div"') >= 4
    assert "cdn.plot.ly" not in html
    assert "IMF subsidy test" in html
    assert "does not pay back" in html
    js = (out / "plotly.min.js").read_text(encoding="utf-8")
    assert len(js) > 1_000_000
    assert "plotly" in js[:2000].lower()


def test_summary_json_has_unit_keys(run_dir: tuple[typer.testing.Result, Path]) -> None:
    _, out = run_dir
    summary = load_json(out / "summary.json")
    assert isinstance(summary, dict)
    for key in (
        "btc_mined",
        "revenue_usd",
        "energy_mwh",
        "curtailed_mwh",
        "emissions_tco2",
        "cost_usd_per_btc",
        "cash_cost_usd_per_btc",
        "npv_usd",
        "breakeven_price_usd_per_btc",
    ):
        assert key in summary, key
    assert summary["scenario"] == SCENARIO_NAME
    assert summary["start"] == "2026-01-01T00:00:00+00:00"
    assert summary["irr_pu"] is None
    assert summary["subsidy_test"] is None  # disabled in the El Salvador example
    assert set(summary["demand_fit"]) >= {"published", "modelled", "relative_residuals_pu"}


def test_tables_agree_with_summary(run_dir: tuple[typer.testing.Result, Path]) -> None:
    _, out = run_dir
    summary = load_json(out / "summary.json")
    assert isinstance(summary, dict)
    annual = pd.read_csv(out / "annual.csv")
    assert list(annual.columns[:3]) == ["program_year", "start", "btc_mined"]
    for column in ("revenue_usd", "energy_mwh", "cost_usd_per_btc", "cash_cost_usd_per_btc"):
        assert column in annual.columns
    assert len(annual) == summary["years"]
    assert math.isclose(annual["btc_mined"].sum(), summary["btc_mined"], rel_tol=1e-9)
    assert math.isclose(annual["energy_mwh"].sum(), summary["energy_mwh"], rel_tol=1e-9)

    records = load_json(out / "annual.json")
    assert isinstance(records, list) and len(records) == summary["years"]
    assert records[0]["start"] == "2026-01-01T00:00:00Z"
    idle = [r for r in records if r["btc_mined"] == 0]
    assert idle, "the example stops mining after a halving"
    assert all(r["cost_usd_per_btc"] is None for r in idle)  # NaN -> null

    with (out / "hourly.csv").open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
        first = handle.readline()
    assert header[0] == "timestamp"
    for column in ("running_pu", "power_mw", "btc_mined", "subsidy_btc_per_block"):
        assert column in header
    assert first.startswith("2026-01-01 00:00:00+00:00,")
    with (out / "hourly.json").open(encoding="utf-8") as handle:
        head = handle.read(200)
    assert head.startswith('[{"timestamp":"2026-01-01T00:00:00Z",')


def test_rerun_into_existing_dir_without_hourly(tmp_path: Path) -> None:
    name = "El Salvador [draft] <b>&"  # Rich markup and HTML in the name are shown as text
    scenario = variant(tmp_path, f'name = "{SCENARIO_NAME}"', f'name = "{name}"')
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "hourly.csv").write_text("stale", encoding="utf-8")
    result = runner.invoke(
        app, ["mining", "run", str(scenario), "--out", str(out), "--no-hourly-csv"]
    )
    assert result.exit_code == 0, result.output
    assert name in result.stdout
    assert "El Salvador [draft] &lt;b&gt;&amp;" in (out / "report.html").read_text(encoding="utf-8")
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "summary.json", "annual.csv", "notes.txt"} <= names
    assert "hourly.csv" not in names  # a stale table from another run is not kept
    assert "hourly.json" not in names
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scenario.toml"]


# --------------------------------------------------------------------------- bad input


BAD_INPUTS = {
    "unknown ASIC model": (
        lambda d: variant(d, 'model = "Antminer S21 Pro"', 'model = "Antminer S99"'),
        ["fleet.mix.0.model", "'Antminer S99'", "Antminer S21"],
    ),
    "negative site power": (
        lambda d: variant(d, "power_mw = 20 ", "power_mw = -20 "),
        ["site.power_mw", "-20", "greater than 0"],
    ),
    "PKR tariff given per MWh": (
        lambda d: variant(d, "usd_per_kwh = 0.05", "pkr_per_kwh = 23000"),
        ["tariff.pkr_per_kwh", "23000", "PKR per kWh", "PKR/MWh"],
    ),
    "USD tariff given per MWh": (
        lambda d: variant(d, "usd_per_kwh = 0.05", "usd_per_kwh = 80"),
        ["tariff.usd_per_kwh", "80", "USD per kWh", "USD/MWh"],
    ),
    "malformed TOML": (
        lambda d: variant(d, "[site]", "[site"),
        ["scenario_file", "scenario.toml", "valid TOML"],
    ),
    "missing [site]": (
        lambda d: without_section(d, "site"),
        ["site", "None", "required"],
    ),
    "unknown key": (
        lambda d: variant(d, "uptime_pu = 0.95", "uptime_p = 0.95"),
        ["fleet.uptime_p", "0.95", "no such field"],
    ),
    "missing scenario file": (
        lambda d: d / "nope.toml",
        ["scenario_file", "nope.toml", "an existing TOML file"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case: str, tmp_path: Path) -> None:
    make, expected = BAD_INPUTS[case]
    scenario = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "out"
    result = runner.invoke(app, ["mining", "run", str(scenario), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in expected:
        assert text.lower() in lines[0].lower(), (text, lines[0])
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("case", ["unknown ASIC model", "unknown key", "malformed TOML"])
def test_validate_reports_the_same_errors(case: str, tmp_path: Path) -> None:
    make, expected = BAD_INPUTS[case]
    result = runner.invoke(app, ["mining", "validate", str(make(tmp_path))])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert all(text in result.stderr for text in expected)


def test_out_pointing_at_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["mining", "run", str(EL_SALVADOR), "--out", str(target)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: --out")
    assert str(target) in lines[0]
    assert "a directory" in lines[0]
    assert target.read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_missing_out_option_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mining", "run", str(EL_SALVADOR)])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_unexpected_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashnation.cli.mining as mining_cli

    def broken(path: Path) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(mining_cli, "load_scenario", broken)
    result = runner.invoke(app, ["mining", "validate", str(EL_SALVADOR)])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


def test_validate_ok() -> None:
    result = runner.invoke(app, ["mining", "validate", str(EL_SALVADOR)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK")
    assert SCENARIO_NAME in result.stdout


def test_asics_lists_the_catalogue() -> None:
    result = runner.invoke(app, ["mining", "asics"])
    assert result.exit_code == 0, result.output
    for text in ("Antminer S21 Pro", "Whatsminer M66S+", "TH/s", "J/TH"):
        assert text in result.stdout


# --------------------------------------------------------------------------- console script


def _hashnation(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hashnation.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_console_script_error_is_one_line(tmp_path: Path) -> None:
    bad = variant(tmp_path, "power_mw = 20 ", "power_mw = -20 ")
    proc = _hashnation("mining", "run", str(bad), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: site.power_mw: got -20")
    assert not (tmp_path / "out").exists()


def test_console_script_validates_and_reports_version(tmp_path: Path) -> None:
    proc = _hashnation("mining", "validate", str(EL_SALVADOR), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK")
    proc = _hashnation("--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("hashnation ")
