"""Write the outputs of a mining run to a folder, all or nothing.

:func:`write_outputs` writes

* ``report.html`` and ``plotly.min.js`` (the page opens offline);
* ``summary.json``: the headline figures (:meth:`MiningSummary.to_dict`), the
  IMF subsidy test (``subsidy_test``, null when disabled) and the grid demand
  fit (``demand_fit``); NaN becomes ``null``, times are ISO 8601;
* ``annual.csv`` and ``annual.json``: one row per programme year;
* ``hourly.csv`` and ``hourly.json``: one row per hour (JSON as records),
  unless ``hourly_csv=False``.

Every file is first written into a temporary folder next to ``out_dir`` (same
file system). Only when all of them are complete does the folder become
``out_dir`` (one rename), or, when ``out_dir`` already exists, is each file
moved into it with :func:`os.replace`. On any failure the temporary folder is
removed and :class:`~hashnation.errors.OutputError` is raised: no half-written
output is left behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.offline

import hashnation
from hashnation.data.provenance import DatasetProvenance, load_provenance
from hashnation.errors import OutputError
from hashnation.mining.report import PLOTLY_JS_FILE, build_report

if TYPE_CHECKING:
    from hashnation.mining.program import MiningResults

__all__ = [
    "HOURLY_FILES",
    "OUTPUT_FILES",
    "check_out_dir",
    "summary_document",
    "write_outputs",
]

REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.json"
ANNUAL_CSV = "annual.csv"
ANNUAL_JSON = "annual.json"
HOURLY_CSV = "hourly.csv"
HOURLY_JSON = "hourly.json"

HOURLY_FILES: tuple[str, ...] = (HOURLY_CSV, HOURLY_JSON)
"""Files left out when ``hourly_csv=False``."""

OUTPUT_FILES: tuple[str, ...] = (
    REPORT_FILE,
    PLOTLY_JS_FILE,
    SUMMARY_FILE,
    ANNUAL_CSV,
    ANNUAL_JSON,
    *HOURLY_FILES,
)
"""Every file :func:`write_outputs` may write, in writing order."""

_TIME_KEYS = ("start",)


# --------------------------------------------------------------------------- content


def _plain(value: Any) -> Any:
    """Turn a value into plain JSON data: NaN and inf -> None, times -> ISO text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to JSON: {value!r}")


def _iso(text: Any) -> Any:
    """``"2026-01-01 00:00:00+00:00"`` -> ``"2026-01-01T00:00:00+00:00"``."""
    if not isinstance(text, str):
        return text
    try:
        return pd.Timestamp(text).isoformat()
    except ValueError:
        return text


def summary_document(results: MiningResults) -> dict[str, Any]:
    """Content of ``summary.json``.

    Parameters
    ----------
    results
        Results of a run.

    Returns
    -------
    dict[str, Any]
        The summary's keys (units in the names), plus ``subsidy_test`` (the IMF
        test with its cost-of-supply components, or None), ``demand_fit``
        (published and modelled facts and their relative residuals) and
        ``hashnation_version``. Plain JSON data: NaN and inf are None.
    """
    doc: dict[str, Any] = dict(results.summary.to_dict())
    for key in _TIME_KEYS:
        if key in doc:
            doc[key] = _iso(doc[key])
    test = results.subsidy
    if test is None:
        doc["subsidy_test"] = None
    else:
        subsidy = dataclasses.asdict(test)
        cos = test.cost_of_supply
        subsidy["cost_of_supply"]["power_purchase_pkr_per_kwh"] = cos.power_purchase_pkr_per_kwh
        subsidy["cost_of_supply"]["network_and_losses_pkr_per_kwh"] = (
            cos.network_and_losses_pkr_per_kwh
        )
        doc["subsidy_test"] = subsidy
    fit = results.demand_fit
    doc["demand_fit"] = {
        "mean_mw": fit.mean_mw,
        "seasonal_amplitude_mw": fit.seasonal_amplitude_mw,
        "published": dict(fit.published),
        "modelled": dict(fit.modelled),
        "relative_residuals_pu": fit.relative_residuals(),
    }
    doc["hashnation_version"] = hashnation.__version__
    plain: dict[str, Any] = _plain(doc)
    return plain


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _column_values(column: pd.Series) -> list[Any]:
    """Plain JSON values of one column: floats exact (shortest repr), NaN -> None."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        stamps = column.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return [None if pd.isna(v) else v for v in stamps.tolist()]
    if pd.api.types.is_datetime64_dtype(column.dtype):
        return [None if pd.isna(v) else v.isoformat() for v in column.tolist()]
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64)
        out: list[Any] = values.tolist()
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            out[i] = None
        return out
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_integer_dtype(column.dtype):
        return column.tolist()
    return [_plain(v) for v in column]


def _frame_json(frame: pd.DataFrame) -> str:
    """Serialise a table as a JSON array of records (one object per row), strict JSON."""
    names = [str(c) for c in frame.columns]
    columns = [_column_values(frame[c]) for c in frame.columns]
    records = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    return json.dumps(records, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------------- writers
# Module-level so that a test can make one of them fail part-way.


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


# --------------------------------------------------------------------------- folder


def check_out_dir(out_dir: Path) -> None:
    """Check that ``out_dir`` can be an output folder, before any work is done.

    Parameters
    ----------
    out_dir
        Output folder; it may not exist yet (it and its parents are created).

    Raises
    ------
    OutputError
        If ``out_dir``, or one of its parents, exists and is not a directory.
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out: got {str(path)!r}, expected a directory (it is a file)")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(
                    f"--out: got {str(path)!r}, expected a directory ({str(parent)!r} is a file)"
                )
            break


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_parents(path: Path) -> list[Path]:
    """Create the missing parents of ``path``; return those created, outermost first."""
    missing = [p for p in path.absolute().parents if not p.exists()]
    created: list[Path] = []
    for parent in reversed(missing):
        parent.mkdir()
        created.append(parent)
    return created


def _remove_created(created: list[Path]) -> None:
    for parent in reversed(created):
        try:
            parent.rmdir()
        except OSError:
            break


def write_outputs(
    results: MiningResults,
    out_dir: Path,
    *,
    hourly_csv: bool = True,
    timezone: str = "UTC",
    sources: list[DatasetProvenance] | None = None,
    scenario_file: str | None = None,
) -> list[Path]:
    """Write report, summary and tables of a run into ``out_dir``, atomically.

    Parameters
    ----------
    results
        Results of :meth:`MiningProgram.run`.
    out_dir
        Output folder; created (with its parents) when missing. Files of the
        same names in an existing folder are replaced.
    hourly_csv
        Write the hourly tables (``hourly.csv`` and ``hourly.json``, the
        largest outputs: one row per hour). When False, hourly files left in
        an existing ``out_dir`` by an earlier run are removed, so every file
        in the folder belongs to this run.
    timezone
        IANA zone of the report's hour-of-day axis.
    sources
        Dataset provenance cited in the report; the bundled records by default.
    scenario_file
        Scenario file name shown in the report.

    Returns
    -------
    list[Path]
        The files written, report first.

    Raises
    ------
    OutputError
        If ``out_dir`` is not a directory, or anything fails while writing; then
        nothing is left behind (no temporary folder, no partial files).
    """
    names = [n for n in OUTPUT_FILES if hourly_csv or n not in HOURLY_FILES]
    src = load_provenance() if sources is None else sources
    return publish_atomically(
        Path(out_dir),
        lambda tmp: _fill(
            tmp,
            results,
            hourly=hourly_csv,
            timezone=timezone,
            sources=src,
            scenario_file=scenario_file,
        ),
        names,
        OUTPUT_FILES,
    )


def publish_atomically(
    out_dir: Path,
    fill: Callable[[Path], None],
    names: list[str],
    known: tuple[str, ...],
) -> list[Path]:
    """Write files with ``fill(tmp)`` into a temporary folder, then move them to ``out_dir``.

    Parameters
    ----------
    out_dir
        Output folder; created (with its parents) when missing.
    fill
        Writes every file of ``names`` into the folder it is given.
    names
        Files this run writes.
    known
        Every file such a run may write; those of ``known`` not in ``names``
        left in ``out_dir`` by an earlier run are removed.

    Returns
    -------
    list[Path]
        The files written.

    Raises
    ------
    OutputError
        If ``out_dir`` is not a directory or anything fails; nothing is left behind.
    """
    out = Path(out_dir)
    check_out_dir(out)
    created: list[Path] = []
    tmp: Path | None = None
    try:
        created = _make_parents(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; out_dir should not be
        fill(tmp)
        _publish(tmp, out, names, known)
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        _remove_created(created)
        if not isinstance(exc, Exception):
            raise
        reason = f"{type(exc).__name__}: {exc}"
        raise OutputError(
            f"--out: got {str(out)!r}, expected a writable directory; nothing was written "
            f"({' '.join(reason.split())})"
        ) from exc
    return [out / n for n in names]


def _fill(
    tmp: Path,
    results: MiningResults,
    *,
    hourly: bool,
    timezone: str,
    sources: list[DatasetProvenance],
    scenario_file: str | None,
) -> None:
    """Write every output file into the temporary folder ``tmp``."""
    steps: list[tuple[str, Callable[[Path], None]]] = [
        (
            REPORT_FILE,
            lambda p: _write_text(
                p,
                build_report(
                    results, timezone=timezone, sources=sources, scenario_file=scenario_file
                ),
            ),
        ),
        (PLOTLY_JS_FILE, lambda p: _write_text(p, plotly.offline.get_plotlyjs())),
        (SUMMARY_FILE, lambda p: _write_text(p, _json_text(summary_document(results)))),
        (ANNUAL_CSV, lambda p: _write_csv(p, results.annual.reset_index())),
        (ANNUAL_JSON, lambda p: _write_text(p, _frame_json(results.annual.reset_index()))),
    ]
    if hourly:
        steps += [
            (HOURLY_CSV, lambda p: _write_csv(p, results.hourly.reset_index())),
            (HOURLY_JSON, lambda p: _write_text(p, _frame_json(results.hourly.reset_index()))),
        ]
    for name, write in steps:
        write(tmp / name)


def _publish(tmp: Path, out: Path, names: list[str], known: tuple[str, ...]) -> None:
    """Move the finished files from ``tmp`` to ``out``."""
    if not out.exists():
        os.rename(tmp, out)
        return
    for name in names:
        target = out / name
        if target.is_dir():
            raise IsADirectoryError(f"{target} is a directory")
    for name in names:
        os.replace(tmp / name, out / name)
    tmp.rmdir()
    for name in known:
        stale = out / name
        if name not in names and stale.is_file():
            stale.unlink()
