"""``hashnation serve``: run the web app (public pages, registry API and pages) with uvicorn.

With no option it serves the virtual-asset regulator's registry from
``sqlite:///hashnation.db`` in the working folder: the schema is migrated first, and
an empty registry is filled with example data (``--no-seed`` to leave it empty),
printing a demo staff token and a firm token once, so that the staff pages can be
tried at once. ``--no-registry`` serves the reserve and proof pages only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hashnation.cli.files import safe_url
from hashnation.errors import InputError

if TYPE_CHECKING:
    from hashnation.countries import CountryPack

__all__ = ["DEFAULT_DB", "default_mining_report", "prepare_registry", "serve_command"]

DEFAULT_DB = "sqlite:///hashnation.db"
"""Registry database served when ``--db`` is not given."""

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _demo_tokens(tokens: dict[str, str]) -> list[tuple[str, str]]:
    """Pick the staff token and one firm token of the seeded set (labels as keys)."""
    staff = [(label, token) for label, token in tokens.items() if "staff" in label.lower()]
    firms = [(label, token) for label, token in tokens.items() if "staff" not in label.lower()]
    return staff[:1] + firms[:1]


def prepare_registry(db: str, *, seed: bool) -> list[tuple[str, str]]:
    """Migrate the registry database and, if asked and it is empty, seed it.

    Parameters
    ----------
    db
        Registry database URL.
    seed
        Fill an empty registry with the example data.

    Returns
    -------
    list of (str, str)
        The demo tokens worth printing (label, token): a staff token and a firm token
        when the registry was seeded now, else none.
    """
    from hashnation.cli.country import selected_pack
    from hashnation.countries.services import pack_registry
    from hashnation.registry.seed import seed_example
    from hashnation.store.db import upgrade

    upgrade(db)
    if not seed:
        return []
    with pack_registry(selected_pack(), db) as registry:
        if not registry.is_empty():
            return []
        return _demo_tokens(seed_example(registry))


def default_mining_report(pack: CountryPack) -> Path | None:
    """Find or make the portal's mining report (``out/<slug>-mining``) from the pack's scenario.

    Parameters
    ----------
    pack
        The country pack.

    Returns
    -------
    Path or None
        The report folder, or None when the pack has no scenario.
    """
    if pack.scenario_file is None:
        return None
    folder = Path("out") / f"{pack.slug}-mining"
    if (folder / "summary.json").is_file():
        return folder
    from hashnation.cli.mining import load_checked, run_with_progress
    from hashnation.mining.outputs import write_outputs
    from hashnation.mining.report import timezone_for

    typer.echo(f"running the {pack.slug} mining scenario once for the portal -> {folder}")
    spec = load_checked(pack.scenario_file)
    results = run_with_progress(spec)
    write_outputs(
        results,
        folder,
        hourly_csv=False,
        timezone=spec.scenario.timezone or timezone_for(spec.scenario.country),
        scenario_file=pack.scenario_file.name,
    )
    return folder


def serve_command(
    reserve_report: Annotated[
        Path | None,
        typer.Option(
            "--reserve-report", help="A transparency report JSON file or a folder of them."
        ),
    ] = None,
    db: Annotated[
        str,
        typer.Option(
            "--db",
            help="Registry database URL (migrated before serving): sqlite:///hashnation.db "
            "(default) or postgresql+psycopg://user@host/db.",
        ),
    ] = DEFAULT_DB,
    no_registry: Annotated[
        bool, typer.Option("--no-registry", help="Do not serve the registry API and pages.")
    ] = False,
    seed: Annotated[
        bool,
        typer.Option(
            "--seed/--no-seed",
            help="Fill an empty registry with example data and print demo tokens.",
        ),
    ] = True,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", help="Server processes (one per core is typical).")
    ] = 1,
    mining_report: Annotated[
        Path | None,
        typer.Option(
            "--mining-report",
            help="Folder written by 'hashnation mining run': the portal's mining dashboard. "
            "Default: out/<country>-mining, made from the country pack's scenario when missing.",
            show_default=False,
        ),
    ] = None,
    no_mining: Annotated[
        bool, typer.Option("--no-mining", help="Serve the portal without a mining dashboard.")
    ] = False,
    rate_limit_per_minute: Annotated[
        int,
        typer.Option(
            "--rate-limit-per-minute",
            help="Requests a client address may make per minute without an API token "
            "(public pages and endpoints) before it is answered 429; 0 turns the limit off.",
        ),
    ] = 600,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="An origin (https://example.org) allowed to read the public JSON endpoints "
            "from a browser script; repeat for more. Default: none.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="Server log level: critical, error, warning, info (one line per request) "
            "or debug. Private keys are never written to the log.",
        ),
    ] = "warning",
) -> None:
    """Serve the public pages, the registry API and pages, and the OpenAPI docs."""
    import uvicorn

    from hashnation.web.app import SETTINGS_ENV, WebSettings, create_app

    if not 0 < port < 65536:
        raise InputError("--port", port, "a TCP port from 1 to 65535")
    if not 1 <= workers <= 64:
        raise InputError("--workers", workers, "a number of processes from 1 to 64")
    if reserve_report is not None and not reserve_report.exists():
        raise InputError("--reserve-report", str(reserve_report), "an existing file or folder")
    if rate_limit_per_minute < 0:
        raise InputError(
            "--rate-limit-per-minute", rate_limit_per_minute, "requests per minute >= 0 (0: off)"
        )
    origins = tuple(cors_origin or ())
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
            raise InputError("--cors-origin", origin, "an origin: scheme://host[:port]")
    if log_level not in _LOG_LEVELS:
        raise InputError("--log-level", log_level, f"one of {', '.join(_LOG_LEVELS)}")
    registry_db: str | None = None
    if not no_registry:
        tokens = prepare_registry(db, seed=seed)
        registry_db = db
        typer.echo(f"registry: {safe_url(db)}")
        if tokens:
            typer.echo("seeded example data; demo API tokens (shown once):")
            for label, token in tokens:
                typer.echo(f"  {label}: {token}")
    from hashnation.cli.country import selected_country, selected_pack

    pack = selected_pack()
    if no_mining:
        mining_report = None
    elif mining_report is None:
        mining_report = default_mining_report(pack)
    elif not (mining_report / "summary.json").is_file():
        raise InputError(
            "--mining-report", str(mining_report), "a folder written by 'hashnation mining run'"
        )
    typer.echo(f"country: {pack.name} (pack '{pack.slug}')")
    settings = WebSettings(
        reserve_report=reserve_report,
        registry_db=registry_db,
        country=selected_country(),
        mining_report=mining_report,
        rate_limit_per_minute=rate_limit_per_minute,
        cors_origins=origins,
    )
    app = create_app(settings)  # built here too, so that a bad setting fails before serving
    base = f"http://{host}:{port}"
    typer.echo(f"serving on {base}/  (the country's public portal)")
    if registry_db is not None:
        typer.echo(f"  public register: {base}/register/")
        typer.echo(f"  staff pages:     {base}/staff/login")
    if reserve_report is not None:
        typer.echo(f"  reserve page:    {base}/reserve/")
    typer.echo(f"  API docs:        {base}/docs")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level)
        return
    os.environ[SETTINGS_ENV] = settings.to_environment()
    typer.echo(f"  {workers} worker processes")
    uvicorn.run(
        "hashnation.web.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
    )
