"""Write the outputs of a Monte Carlo run or a design sweep to a folder, all or nothing.

Risk run (:func:`write_risk_outputs`): ``report.html`` + ``plotly.min.js``,
``risk_summary.json`` (headline figures, seed, resolved driver parameters),
``paths.csv`` (one row per path), ``fan_<field>.csv`` (percentiles per year),
``p_loss_by_year.csv``, and ``tornado.csv`` / ``sobol.csv`` when computed.

Sweep (:func:`write_sweep_outputs`): ``report.html`` + ``plotly.min.js``,
``sweep.csv`` and ``sweep.json`` (one row per design).

Both go through :func:`hashnation.mining.outputs.publish_atomically`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.offline

from hashnation.mining.montecarlo import RiskResult
from hashnation.mining.outputs import publish_atomically
from hashnation.mining.report import PLOTLY_JS_FILE
from hashnation.mining.risk_report import risk_report_html, sweep_report_html

FAN_FIELDS: tuple[str, ...] = (
    "cumulative_cashflow_usd",
    "btc_mined",
    "revenue_usd",
    "price_usd_per_btc",
    "hashprice_usd_per_th_day",
)
RISK_FILES: tuple[str, ...] = (
    "report.html",
    PLOTLY_JS_FILE,
    "risk_summary.json",
    "paths.csv",
    *(f"fan_{f}.csv" for f in FAN_FIELDS),
    "p_loss_by_year.csv",
    "tornado.csv",
    "sobol.csv",
)
SWEEP_FILES: tuple[str, ...] = ("report.html", PLOTLY_JS_FILE, "sweep.csv", "sweep.json")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def risk_summary_document(result: RiskResult, scenario_name: str) -> dict[str, Any]:
    """JSON-ready summary of a Monte Carlo run."""
    doc: dict[str, Any] = _clean(
        {
            "scenario": scenario_name,
            "seed": result.seed,
            "paths": len(result.paths),
            "chunks": result.chunks,
            "wall_s": result.wall_s,
            "summary": result.summary(),
            "drivers": dataclasses.asdict(result.drivers),
            "meta": result.meta,
        }
    )
    return doc


def _csv(frame: pd.DataFrame, path: Path, index: bool = True) -> None:
    frame.to_csv(path, index=index, encoding="utf-8", lineterminator="\n")


def write_risk_outputs(
    result: RiskResult,
    out_dir: Path,
    scenario_name: str,
    *,
    tornado: pd.DataFrame | None = None,
    sobol: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the risk report and tables into ``out_dir`` atomically.

    Raises
    ------
    OutputError
        If the folder cannot be written; nothing is left behind.
    """
    names = [n for n in RISK_FILES if (n != "tornado.csv" or tornado is not None)]
    names = [n for n in names if (n != "sobol.csv" or sobol is not None)]

    def fill(tmp: Path) -> None:
        html = risk_report_html(result, scenario_name, tornado=tornado, sobol=sobol)
        (tmp / "report.html").write_text(html, encoding="utf-8")
        (tmp / PLOTLY_JS_FILE).write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        doc = risk_summary_document(result, scenario_name)
        (tmp / "risk_summary.json").write_text(
            json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        _csv(result.paths, tmp / "paths.csv")
        for name in FAN_FIELDS:
            fan = result.fan(name)
            fan.columns = [f"p{round(float(q) * 100):02d}_{name}" for q in fan.columns]
            _csv(fan, tmp / f"fan_{name}.csv")
        _csv(result.p_loss_by_year().rename("p_loss").to_frame(), tmp / "p_loss_by_year.csv")
        if tornado is not None:
            _csv(tornado, tmp / "tornado.csv", index=False)
        if sobol is not None:
            _csv(sobol, tmp / "sobol.csv", index=False)

    return publish_atomically(Path(out_dir), fill, names, RISK_FILES)


def write_sweep_outputs(table: pd.DataFrame, out_dir: Path, scenario_name: str) -> list[Path]:
    """Write the sweep report and table into ``out_dir`` atomically."""

    def fill(tmp: Path) -> None:
        html = sweep_report_html(table, scenario_name)
        (tmp / "report.html").write_text(html, encoding="utf-8")
        (tmp / PLOTLY_JS_FILE).write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        _csv(table, tmp / "sweep.csv", index=False)
        records = [_clean(r) for r in table.to_dict(orient="records")]
        (tmp / "sweep.json").write_text(
            json.dumps(records, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )

    return publish_atomically(Path(out_dir), fill, list(SWEEP_FILES), SWEEP_FILES)
