"""``hashnation serve``: run the web app (public pages and their data) with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hashnation.errors import InputError

__all__ = ["serve_command"]


def serve_command(
    reserve_report: Annotated[
        Path | None,
        typer.Option(
            "--reserve-report", help="A transparency report JSON file or a folder of them."
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
) -> None:
    """Serve the public pages (reserve transparency, proof verification) and the OpenAPI."""
    import uvicorn

    from hashnation.web.app import WebSettings, create_app

    if not 0 < port < 65536:
        raise InputError("--port", port, "a TCP port from 1 to 65535")
    if reserve_report is not None and not reserve_report.exists():
        raise InputError("--reserve-report", str(reserve_report), "an existing file or folder")
    app = create_app(WebSettings(reserve_report=reserve_report))
    typer.echo(f"serving on http://{host}:{port}/ (reserve page: /reserve/, API: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
