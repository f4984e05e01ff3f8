"""``hashnation serve``: run the web app (public pages, registry API and pages) with uvicorn.

With no option it serves the virtual-asset regulator's registry from
``sqlite:///hashnation.db`` in the working folder: the schema is migrated first, and
an empty registry is filled with example data (``--no-seed`` to leave it empty),
printing a demo staff token and a firm token once, so that the staff pages can be
tried at once. ``--no-registry`` serves the reserve and proof pages only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from hashnation.cli.files import safe_url
from hashnation.errors import InputError

__all__ = ["DEFAULT_DB", "prepare_registry", "serve_command"]

DEFAULT_DB = "sqlite:///hashnation.db"
"""Registry database served when ``--db`` is not given."""


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
    from hashnation.registry.seed import seed_example
    from hashnation.registry.service import Registry
    from hashnation.store.db import upgrade

    upgrade(db)
    if not seed:
        return []
    with Registry(db) as registry:
        if not registry.is_empty():
            return []
        return _demo_tokens(seed_example(registry))


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
    registry_db: str | None = None
    if not no_registry:
        tokens = prepare_registry(db, seed=seed)
        registry_db = db
        typer.echo(f"registry: {safe_url(db)}")
        if tokens:
            typer.echo("seeded example data; demo API tokens (shown once):")
            for label, token in tokens:
                typer.echo(f"  {label}: {token}")
    settings = WebSettings(reserve_report=reserve_report, registry_db=registry_db)
    app = create_app(settings)  # built here too, so that a bad setting fails before serving
    base = f"http://{host}:{port}"
    typer.echo(f"serving on {base}/")
    if registry_db is not None:
        typer.echo(f"  public register: {base}/register/")
        typer.echo(f"  staff pages:     {base}/staff/login")
    if reserve_report is not None:
        typer.echo(f"  reserve page:    {base}/reserve/")
    typer.echo(f"  API docs:        {base}/docs")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    os.environ[SETTINGS_ENV] = json.dumps(
        {
            "reserve_report": str(reserve_report) if reserve_report is not None else None,
            "registry_db": registry_db,
        }
    )
    typer.echo(f"  {workers} worker processes")
    uvicorn.run(
        "hashnation.web.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
    )
