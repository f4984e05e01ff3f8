"""The public reserve page: holdings, history, addresses and the files to re-check them.

The app serves the reports in :attr:`~hashnation.web.app.WebSettings.reserve_report`
(one report file, or a folder of them: the highest is the current one, all of them
draw the history). Each report is re-checked by :func:`~hashnation.reserve.recheck.verify_report`
when loaded; a report that fails is not served. The page is the one
``hashnation reserve report`` writes, so a published folder and the live site agree.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

from hashnation.errors import InputError
from hashnation.reserve.recheck import Verification, load_report_file, verify_report
from hashnation.reserve.transparency import ReserveReport
from hashnation.reserve.transparency_page import (
    HistoryPoint,
    addresses_csv,
    history_point,
    report_page,
    utxos_csv,
    verify_instructions_page,
)

__all__ = ["PublishedReports", "reserve_router"]


@dataclass(frozen=True, slots=True)
class _Loaded:
    stamp: tuple[tuple[str, float, int], ...]
    current: ReserveReport
    raw: bytes
    verification: Verification
    history: tuple[HistoryPoint, ...]


class PublishedReports:
    """The verified reports of a file or folder, reloaded when the files change.

    Parameters
    ----------
    path
        A report JSON file, or a folder holding report JSON files.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def _files(self) -> list[Path]:
        if self._path.is_dir():
            return sorted(p for p in self._path.glob("*.json") if p.is_file())
        if self._path.is_file():
            return [self._path]
        raise InputError("reserve_report", str(self._path), "a report file or a folder of them")

    def get(self) -> _Loaded:
        """Return the loaded reports, re-reading them if a file changed.

        Raises
        ------
        InputError
            If there is no report, or the current one fails verification.
        """
        files = self._files()
        stamp = tuple((str(p), p.stat().st_mtime, p.stat().st_size) for p in files)
        with self._lock:
            if self._loaded is not None and self._loaded.stamp == stamp:
                return self._loaded
            reports: list[tuple[ReserveReport, bytes, Verification]] = []
            for path in files:
                data = load_report_file(path)
                if not isinstance(data, dict) or data.get("schema") != "hashnation.reserve-report":
                    continue
                verification = verify_report(data)
                if not verification.ok:
                    failed = "; ".join(c.detail for c in verification.checks if not c.ok)
                    raise InputError(
                        "reserve_report", str(path), f"a report that verifies ({failed})"
                    )
                reports.append(
                    (ReserveReport.model_validate(data), path.read_bytes(), verification)
                )
            if not reports:
                raise InputError("reserve_report", str(self._path), "at least one reserve report")
            reports.sort(key=lambda item: item[0].height)
            current, raw, verification = reports[-1]
            self._loaded = _Loaded(
                stamp,
                current,
                raw,
                verification,
                tuple(history_point(report) for report, _, _ in reports),
            )
            return self._loaded


def reserve_router(reports: PublishedReports) -> APIRouter:
    """Routes of the public reserve page under ``/reserve/`` and its data under ``/api/``."""
    router = APIRouter(tags=["reserve"])

    def loaded() -> _Loaded:
        try:
            return reports.get()
        except InputError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None

    @router.get("/reserve/", response_class=HTMLResponse, summary="Public reserve page")
    def page() -> HTMLResponse:
        item = loaded()
        html = report_page(item.current, history=item.history, verification=item.verification)
        return HTMLResponse(html)

    @router.get("/reserve/report.json", summary="The current report, as published")
    def report_json() -> Response:
        item = loaded()
        name = f"reserve-report-{item.current.height}.json"
        return Response(
            item.raw,
            media_type="application/json",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    @router.get("/reserve/utxos.csv", summary="Unspent outputs of the current report")
    def utxos() -> Response:
        return Response(utxos_csv(loaded().current), media_type="text/csv; charset=utf-8")

    @router.get("/reserve/addresses.csv", summary="Watched addresses of the current report")
    def addresses() -> Response:
        return Response(addresses_csv(loaded().current), media_type="text/csv; charset=utf-8")

    @router.get("/reserve/verify.html", response_class=HTMLResponse, summary="How to verify")
    def verify_page() -> HTMLResponse:
        return HTMLResponse(verify_instructions_page())

    @router.get("/reserve/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return Response(_plotly_js(), media_type="application/javascript")

    @router.get("/api/reserve/summary", summary="Totals of the current report and its history")
    def summary() -> dict[str, Any]:
        item = loaded()
        totals = item.current.totals
        return {
            "reserve": item.current.reserve,
            "network": item.current.network,
            "height": item.current.height,
            "block_hash": item.current.block_hash,
            "block_time": item.current.block_time,
            "utxo_count": totals.utxo_count,
            "chain_sat": totals.chain_sat,
            "ledger_sat": totals.ledger_sat,
            "price_usd_per_btc": totals.price_usd_per_btc,
            "value_usd": totals.value_usd,
            "verified": item.verification.ok,
            "history": [
                {"height": p.height, "block_time": p.block_time, "chain_sat": p.chain_sat}
                for p in item.history
            ],
        }

    return router


_PLOTLY: list[str] = []


def _plotly_js() -> str:
    if not _PLOTLY:
        import plotly.offline

        _PLOTLY.append(plotly.offline.get_plotlyjs())
    return _PLOTLY[0]
