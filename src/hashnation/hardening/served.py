"""A real HashNation server in a subprocess, for the hardening tests and benchmarks.

:func:`serve` migrates a registry database (SQLite file or PostgreSQL URL), fills it with
the example book (:func:`hashnation.registry.seed.seed_example`, which gives a staff
token and a token per firm), and runs the web app under uvicorn in a child process, on
a loopback socket bound here and handed over (``uvicorn --fd``: no port race), with the
app built by :func:`hashnation.web.app.app_from_environment` from the
:class:`~hashnation.web.app.WebSettings` given. Everything the server writes (its log,
at the level asked) goes to a file, read back with :meth:`ServedApp.log_text`.

::

    with serve("sqlite:///x.db", work=folder, log_level="info") as served:
        httpx.get(f"{served.url}/api/v1/register")
        served.tokens["staff"]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ServedApp", "seed_registry", "serve"]


@dataclass
class ServedApp:
    """A running server.

    Attributes
    ----------
    url
        Its base URL (``http://127.0.0.1:PORT``).
    db_url
        The registry database it serves.
    tokens
        API tokens of the example book by label: ``"staff"`` and
        ``"firm:<registration number>"`` (empty when not seeded here).
    log_path
        File holding everything the server wrote (stdout and stderr).
    process
        The server process.
    """

    url: str
    db_url: str
    tokens: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def staff_token(self) -> str:
        """The example book's staff token."""
        return self.tokens["staff"]

    @property
    def firm_token(self) -> str:
        """A firm's token of the example book (the first firm's)."""
        return next(token for label, token in self.tokens.items() if label.startswith("firm:"))

    def log_text(self) -> str:
        """Everything the server has written so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def seed_registry(db_url: str) -> dict[str, str]:
    """Migrate a registry database and fill it with the example book if empty.

    Parameters
    ----------
    db_url
        Database URL.

    Returns
    -------
    dict of str to str
        The example book's API tokens by label (empty when the database was not empty).
    """
    from hashnation.registry.seed import seed_example
    from hashnation.registry.service import Registry
    from hashnation.store.db import upgrade

    upgrade(db_url)
    with Registry(db_url) as registry:
        if not registry.is_empty():
            return {}
        return seed_example(registry)


def _wait_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout_s} s")


@contextmanager
def serve(
    db_url: str,
    *,
    work: Path,
    seed: bool = True,
    rate_limit_per_minute: int = 0,
    cors_origins: Sequence[str] = (),
    log_level: str = "warning",
    host: str = "127.0.0.1",
    timeout_s: float = 60.0,
) -> Iterator[ServedApp]:
    """Run the web app over a registry database in a child process.

    Parameters
    ----------
    db_url
        Registry database URL (migrated here; seeded when ``seed`` and empty).
    work
        Folder for the server's log (``server.log``).
    seed
        Fill an empty registry with the example book.
    rate_limit_per_minute
        The app's rate limit [requests/min]; 0 (the default here) turns it off.
    cors_origins
        Origins allowed to read the public JSON endpoints.
    log_level
        uvicorn's log level: ``warning``, ``info`` (access log), ``debug``...
    host
        Loopback address to listen on.
    timeout_s
        How long to wait for the server to answer ``/healthz`` [s].

    Yields
    ------
    ServedApp
        The running server; it is stopped (SIGTERM, then SIGKILL) when the block ends.
    """
    from hashnation.web.app import SETTINGS_ENV, WebSettings

    tokens = seed_registry(db_url) if seed else {}
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "server.log"
    settings = WebSettings(
        registry_db=db_url,
        rate_limit_per_minute=rate_limit_per_minute,
        cors_origins=tuple(cors_origins),
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    port = int(sock.getsockname()[1])
    env = {**os.environ, SETTINGS_ENV: settings.to_environment(), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "hashnation.web.app:app_from_environment",
        "--fd",
        str(sock.fileno()),
        "--log-level",
        log_level,
        "--lifespan",
        "off",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, pass_fds=(sock.fileno(),)
        )
    sock.close()
    url = f"http://{host}:{port}"
    try:
        _wait_up(url, process, log_path, timeout_s)
        yield ServedApp(url, db_url, tokens, log_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
