"""The FastAPI application: one app, one router per pillar.

:class:`WebSettings` says where the published material lives (a reserve's
transparency report and its history); :func:`create_app` builds the app with the
routers that have something to serve. ``hashnation serve`` runs it with uvicorn.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hashnation import __version__
from hashnation.errors import (
    AccessError,
    HashNationError,
    LogIntegrityError,
    NotFoundError,
    ReturnError,
    TransitionError,
)

__all__ = ["SETTINGS_ENV", "WebSettings", "app_from_environment", "create_app", "error_status"]

SETTINGS_ENV = "HASHNATION_WEB_SETTINGS"
"""Environment variable holding :class:`WebSettings` as JSON for :func:`app_from_environment`."""

_STATUS_OF: tuple[tuple[type[HashNationError], int], ...] = (
    (ReturnError, 422),
    (AccessError, 403),
    (NotFoundError, 404),
    (TransitionError, 409),
    (LogIntegrityError, 409),
)


def error_status(exc: HashNationError) -> int:
    """HTTP status for an error the app lets through: the message is the body's ``detail``.

    Parameters
    ----------
    exc
        The error.

    Returns
    -------
    int
        422 for a periodic return that breaks its rules, 403 for a caller who may not
        do this, 404 for what does not exist (or is another firm's), 409 for an action
        the current status does not allow or a hash-chained log that no longer
        verifies, 400 for any other bad input.
    """
    for kind, status in _STATUS_OF:
        if isinstance(exc, kind):
            return status
    return 400


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What the web app serves.

    Parameters
    ----------
    reserve_report
        A transparency report JSON file (``hashnation reserve report``), or a folder of
        them (the highest is current, all draw the history); the public reserve page
        shows it. ``None`` serves no reserve page.
    registry_db
        Database URL of the virtual-asset regulator's registry (migrated to head);
        its API (``/api/v1/...``), public register and staff pages are served.
        ``None`` serves neither.
    country
        The country pack whose public portal is served at ``/``: a pack name
        (``pakistan``) or the folder of a pack (see :mod:`hashnation.countries`).
        ``None`` serves the default pack's portal.
    mining_report
        A folder written by ``hashnation mining run`` (its ``summary.json`` and
        ``annual.json``): the portal's mining dashboard. ``None`` shows how to make one.
    rate_limit_per_minute
        Requests a client address may make to the public (unauthenticated) pages and
        endpoints per minute before it is answered 429; 0 turns the limit off.
    cors_origins
        Origins allowed to read the public JSON endpoints from a browser script; empty
        (the default) sends no CORS headers, so only same-origin pages can.
    """

    reserve_report: Path | None = None
    registry_db: str | None = None
    country: str | None = None
    mining_report: Path | None = None
    rate_limit_per_minute: int = 600
    cors_origins: tuple[str, ...] = ()

    def to_environment(self) -> str:
        """Write the settings as the JSON object :func:`app_from_environment` reads."""
        return json.dumps(
            {
                "reserve_report": str(self.reserve_report) if self.reserve_report else None,
                "registry_db": self.registry_db,
                "country": self.country,
                "mining_report": str(self.mining_report) if self.mining_report else None,
                "rate_limit_per_minute": self.rate_limit_per_minute,
                "cors_origins": list(self.cors_origins),
            }
        )

    @classmethod
    def from_environment(cls, text: str) -> WebSettings:
        """Read the JSON object written by :meth:`to_environment`."""
        raw = json.loads(text or "{}")
        report = raw.get("reserve_report")
        mining = raw.get("mining_report")
        return cls(
            reserve_report=Path(report) if report else None,
            registry_db=raw.get("registry_db"),
            country=raw.get("country"),
            mining_report=Path(mining) if mining else None,
            rate_limit_per_minute=int(raw.get("rate_limit_per_minute", 600)),
            cors_origins=tuple(raw.get("cors_origins") or ()),
        )


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings
        What to serve; default serves the pages that need no data.

    Returns
    -------
    FastAPI
        The app, with OpenAPI at ``/openapi.json``, behind the guards of
        :mod:`hashnation.web.security` (rate limit, private key screen, CORS and
        cross-site post policy, security headers, log redaction).
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
        return JSONResponse(status_code=error_status(exc), content={"detail": str(exc)})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    from hashnation.web import routers

    for router in routers.all_routers(settings):
        app.include_router(router)

    from hashnation.web.security import install_security

    install_security(app, settings)
    return app


def app_from_environment() -> FastAPI:
    """Build the app from the settings in ``$HASHNATION_WEB_SETTINGS``.

    ``hashnation serve --workers N`` runs N uvicorn processes; each builds its app
    with this factory from the JSON object the command put in the environment
    (:meth:`WebSettings.to_environment`).

    Returns
    -------
    FastAPI
        The app, as :func:`create_app` builds it.
    """
    return create_app(WebSettings.from_environment(os.environ.get(SETTINGS_ENV) or "{}"))
