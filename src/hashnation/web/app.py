"""The FastAPI application: one app, one router per pillar.

:class:`WebSettings` says where the published material lives (a reserve's
transparency report and its history); :func:`create_app` builds the app with the
routers that have something to serve. ``hashnation serve`` runs it with uvicorn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hashnation import __version__
from hashnation.errors import HashNationError

__all__ = ["WebSettings", "create_app"]


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What the web app serves.

    Parameters
    ----------
    reserve_report
        A transparency report JSON file (``hashnation reserve report``), or a folder of
        them (the highest is current, all draw the history); the public reserve page
        shows it. ``None`` serves no reserve page.
    """

    reserve_report: Path | None = None


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings
        What to serve; default serves the pages that need no data.

    Returns
    -------
    FastAPI
        The app, with OpenAPI at ``/openapi.json``.
    """
    settings = settings or WebSettings()
    app = FastAPI(
        title="HashNation",
        version=__version__,
        description="Public pages and data of a national Bitcoin programme.",
    )
    app.state.settings = settings

    @app.exception_handler(HashNationError)
    async def _input_error(request: Request, exc: HashNationError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    from hashnation.web import routers

    for router in routers.all_routers(settings):
        app.include_router(router)
    return app
