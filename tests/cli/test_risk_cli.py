"""``hashnation mining risk`` and ``sweep`` end to end on the El Salvador example."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer.testing

from hashnation.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EL_SALVADOR = ROOT / "examples" / "el-salvador-geothermal.toml"
runner = typer.testing.CliRunner(env={"COLUMNS": "200"})


def test_risk_writes_report_and_tables(tmp_path: Path) -> None:
    out = tmp_path / "risk"
    args = ["mining", "risk", str(EL_SALVADOR), "--out", str(out), "--paths", "60"]
    result = runner.invoke(app, [*args, "--seed", "7", "--tornado-paths", "10"])
    assert result.exit_code == 0, result.output
    assert "P(loss)" in result.stdout
    summary = json.loads((out / "risk_summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 7 and summary["paths"] == 60
    paths = pd.read_csv(out / "paths.csv")
    assert len(paths) == 60
    assert summary["summary"]["p_loss"] == pytest.approx((paths["npv_usd"] < 0).mean())
    fan = pd.read_csv(out / "fan_cumulative_cashflow_usd.csv")
    assert list(fan.columns)[1:] == [
        f"p{q}_cumulative_cashflow_usd" for q in ("05", "25", "50", "75", "95")
    ]
    tornado = pd.read_csv(out / "tornado.csv")
    assert tornado["swing_usd"].is_monotonic_decreasing
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "plotly.min.js" in html and "seed" in html
    assert (out / "plotly.min.js").stat().st_size > 1_000_000
    # Same seed, same numbers.
    again = tmp_path / "again"
    result = runner.invoke(
        app,
        [*args[:3], "--out", str(again), "--paths", "60", "--seed", "7", "--tornado-paths", "0"],
    )
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(again / "paths.csv"), paths)
    assert not (again / "tornado.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--paths", "0"], "--paths: got 0, expected an integer >= 1"),
        (["--backend", "tpu"], "backend: got 'tpu', expected one of: numba, numpy, cupy"),
        (["--price-volatility", "-0.2"], "drivers.price_volatility_pu: got -0.2"),
        (["--scheduler", "bogus"], "--scheduler: got 'bogus'"),
        (["--scheduler", "tcp://127.0.0.1:9"], "expected a reachable Dask scheduler"),
    ],
)
def test_risk_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["mining", "risk", str(EL_SALVADOR), "--out", str(out), "--paths", "4", *extra]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_sweep_table_and_report(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "mining",
            "sweep",
            str(EL_SALVADOR),
            "--out",
            str(out),
            "--mw",
            "10,20",
            "--tariff-usd",
            "0.02,0.05",
            "--paths",
            "12",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 4
    assert set(table["power_mw"]) == {10.0, 20.0}
    for mw, group in table.groupby("power_mw"):
        cheap = group[group["tariff_usd_per_kwh"] == 0.02]["npv_p50_usd"].iloc[0]
        dear = group[group["tariff_usd_per_kwh"] == 0.05]["npv_p50_usd"].iloc[0]
        assert cheap > dear, mw
    assert json.loads((out / "sweep.json").read_text(encoding="utf-8"))[0]["paths"] == 12


def test_sweep_needs_exactly_one_tariff_list(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["mining", "sweep", str(EL_SALVADOR), "--out", str(out), "--mw", "10"]
    )
    assert result.exit_code == 2
    assert "exactly one of the two" in result.stderr
    result = runner.invoke(
        app,
        [
            "mining",
            "sweep",
            str(EL_SALVADOR),
            "--out",
            str(out),
            "--mw",
            "ten",
            "--tariff-usd",
            "1",
        ],
    )
    assert result.exit_code == 2
    assert "--mw: got 'ten'" in result.stderr
    assert not out.exists()


def test_sweep_over_asic_mixes(tmp_path: Path) -> None:
    out = tmp_path / "mix"
    args = ["mining", "sweep", str(EL_SALVADOR), "--out", str(out), "--mw", "20"]
    args += ["--tariff-usd", "0.03", "--paths", "6", "--mix", "Antminer S21 Pro:1"]
    args += ["--mix", "Antminer S21 XP:0.5,Antminer S19:0.5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 2
    assert table["asic_mix"].str.contains("Antminer S19 50 %").any()
    bad = runner.invoke(app, [*args[:9], "--mix", "Antminer S21 Pro"])
    assert bad.exit_code == 2
    assert "--mix: got 'Antminer S21 Pro'" in bad.stderr
