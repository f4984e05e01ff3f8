"""Tests of write_outputs: file contents, and all-or-nothing writing."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import pytest

import hashnation.mining.outputs as outputs
from hashnation.errors import OutputError
from hashnation.mining.outputs import (
    HOURLY_FILES,
    OUTPUT_FILES,
    check_out_dir,
    summary_document,
    write_outputs,
)
from hashnation.mining.program import MiningProgram, MiningResults
from hashnation.mining.subsidy import CostOfSupply, subsidy_test

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "el-salvador-geothermal.toml"


@pytest.fixture(scope="module")
def full() -> MiningResults:
    return MiningProgram.from_toml(EXAMPLE).run().results


@pytest.fixture(scope="module")
def results(full: MiningResults) -> MiningResults:
    """The run with its hourly table cut to two days, to keep the files small."""
    return dataclasses.replace(full, hourly=full.hourly.iloc[:48])


def strict_json(path: Path) -> object:
    def refuse(token: str) -> float:
        raise AssertionError(f"non-standard JSON constant {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- contents


def test_writes_every_file_and_creates_parents(results: MiningResults, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "out"
    paths = write_outputs(results, out)
    assert paths == [out / name for name in OUTPUT_FILES]
    assert entries(out) == sorted(OUTPUT_FILES)
    assert entries(out.parent) == ["out"]  # no temporary folder left
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_summary_json(results: MiningResults, tmp_path: Path) -> None:
    write_outputs(results, tmp_path / "out")
    doc = strict_json(tmp_path / "out" / "summary.json")
    assert isinstance(doc, dict)
    expected = results.summary.to_dict()
    for key in ("btc_mined", "revenue_usd", "energy_mwh", "npv_usd", "cost_usd_per_btc"):
        assert doc[key] == expected[key]
    assert doc["start"] == "2026-01-01T00:00:00+00:00"
    assert doc["subsidy_test"] is None
    assert doc["demand_fit"]["relative_residuals_pu"] == results.demand_fit.relative_residuals()
    assert doc["hashnation_version"]


def test_summary_document_nan_to_null_and_subsidy(results: MiningResults) -> None:
    test = subsidy_test(23.0, 724_277.0, CostOfSupply(9.67, 16.67, 34.01, basis="NEPRA"), 280.0)
    changed = dataclasses.replace(
        results,
        summary=dataclasses.replace(results.summary, cost_usd_per_btc=float("nan")),
        subsidy=test,
    )
    doc = summary_document(changed)
    assert doc["cost_usd_per_btc"] is None
    json.dumps(doc, allow_nan=False)
    subsidy = doc["subsidy_test"]
    assert subsidy["subsidy_free"] is False
    assert subsidy["explanation"] == test.explanation
    cos = subsidy["cost_of_supply"]
    assert cos["full_pkr_per_kwh"] == 34.01
    assert math.isclose(cos["power_purchase_pkr_per_kwh"], 26.34)
    assert math.isclose(cos["network_and_losses_pkr_per_kwh"], 7.67)


def test_tables_round_trip_exactly(results: MiningResults, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(results, out)
    hourly = results.hourly
    csv = pd.read_csv(out / "hourly.csv")
    assert list(csv.columns) == ["timestamp", *hourly.columns]
    assert csv["btc_mined"].tolist() == hourly["btc_mined"].tolist()
    records = strict_json(out / "hourly.json")
    assert isinstance(records, list) and len(records) == len(hourly)
    assert records[0]["timestamp"] == "2026-01-01T00:00:00Z"
    assert records[1]["timestamp"] == "2026-01-01T01:00:00Z"
    assert [r["btc_mined"] for r in records] == hourly["btc_mined"].tolist()
    assert records[0]["marginal_fuel"] == hourly["marginal_fuel"].iloc[0]

    annual = strict_json(out / "annual.json")
    assert isinstance(annual, list) and len(annual) == len(results.annual)
    assert [r["program_year"] for r in annual] == list(results.annual.index)
    nan_years = results.annual["cost_usd_per_btc"].isna()
    assert nan_years.any()
    assert [r["cost_usd_per_btc"] is None for r in annual] == nan_years.tolist()
    annual_csv = pd.read_csv(out / "annual.csv")
    assert math.isclose(annual_csv["btc_mined"].sum(), results.summary.btc_mined, rel_tol=1e-9)


def test_without_hourly_tables(results: MiningResults, tmp_path: Path) -> None:
    paths = write_outputs(results, tmp_path / "out", hourly_csv=False)
    names = {p.name for p in paths}
    assert not names & set(HOURLY_FILES)
    assert entries(tmp_path / "out") == sorted(names)


def test_existing_dir_files_replaced_others_kept(results: MiningResults, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old", encoding="utf-8")
    (out / "hourly.json").write_text("stale", encoding="utf-8")
    (out / "mine.txt").write_text("keep", encoding="utf-8")
    write_outputs(results, out, hourly_csv=False)
    assert (out / "report.html").read_text(encoding="utf-8") != "old"
    assert not (out / "hourly.json").exists()
    assert (out / "mine.txt").read_text(encoding="utf-8") == "keep"
    assert entries(tmp_path) == ["out"]


# --------------------------------------------------------------------------- refusals


def test_out_is_a_file(results: MiningResults, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("a file", encoding="utf-8")
    with pytest.raises(OutputError, match="a directory") as info:
        write_outputs(results, target)
    assert str(info.value).startswith(f"--out: got {str(target)!r}")
    assert target.read_text(encoding="utf-8") == "a file"
    assert entries(tmp_path) == ["out"]


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file"):
        check_out_dir(tmp_path / "f" / "out")


# --------------------------------------------------------------------------- atomicity


def fail_on_csv(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the CSV writer fail; report.html and summary.json are written before it."""
    written: list[str] = []
    real = outputs._write_text

    def text(path: Path, content: str) -> None:
        written.append(path.name)
        real(path, content)

    def csv(path: Path, frame: pd.DataFrame) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs, "_write_text", text)
    monkeypatch.setattr(outputs, "_write_csv", csv)
    return written


def test_failure_leaves_nothing(
    results: MiningResults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = fail_on_csv(monkeypatch)
    out = tmp_path / "new" / "out"
    with pytest.raises(OutputError, match="No space left on device") as info:
        write_outputs(results, out)
    assert written[:3] == ["report.html", "plotly.min.js", "summary.json"]
    assert isinstance(info.value.__cause__, OSError)
    assert entries(tmp_path) == []  # neither out, nor the parent made for it, nor a temp dir


def test_failure_leaves_existing_dir_unchanged(
    results: MiningResults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old report", encoding="utf-8")
    fail_on_csv(monkeypatch)
    with pytest.raises(OutputError):
        write_outputs(results, out)
    assert entries(out) == ["report.html"]
    assert (out / "report.html").read_text(encoding="utf-8") == "old report"
    assert entries(tmp_path) == ["out"]


def test_unserialisable_value_leaves_nothing(results: MiningResults, tmp_path: Path) -> None:
    broken = dataclasses.replace(results, hourly=results.hourly.assign(bad=object()))
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="TypeError"):
        write_outputs(broken, out)
    assert entries(tmp_path) == []
