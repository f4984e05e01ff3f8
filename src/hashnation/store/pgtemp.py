"""A throwaway PostgreSQL server for tests and benchmarks.

:class:`TemporaryPostgres` runs ``initdb`` into a fresh temporary folder, starts
``pg_ctl`` on a free TCP port of ``127.0.0.1`` with its unix socket in the same
folder, waits until the server accepts connections, and on :meth:`~TemporaryPostgres.stop`
shuts it down and deletes the folder. Nothing outside the folder is touched.

PostgreSQL refuses to run as root: when the current user is root, every server
command runs as the ``postgres`` system user (``runuser -u postgres --``) and the
folder is handed to that user.

Server binaries are looked up on ``PATH`` and then in
``/usr/lib/postgresql/<version>/bin`` and ``/usr/local/pgsql/bin``
(:func:`find_pg_bin`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["TemporaryPostgres", "find_pg_bin"]

_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
_SYSTEM_USER = "postgres"


def find_pg_bin() -> Path | None:
    """Find the folder holding the PostgreSQL server programs.

    Returns
    -------
    pathlib.Path or None
        Folder with ``initdb`` and ``pg_ctl``, or None when none is installed.
    """
    initdb = shutil.which("initdb")
    if initdb is not None and shutil.which("pg_ctl") is not None:
        return Path(os.path.realpath(initdb)).parent
    candidates: list[str] = []
    for pattern in _SEARCH:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryPostgres:
    """A PostgreSQL cluster in a temporary folder, removed when stopped.

    Parameters
    ----------
    durable
        Keep PostgreSQL's default durability (``fsync``, synchronous commit).
        False (the default, for tests) turns both off: faster, and a crash of
        the server, not of a client, could lose committed work.
    bin_dir
        Folder of the server programs; found with :func:`find_pg_bin` by default.
    startup_timeout_s
        How long to wait for the server to accept connections, s.

    Examples
    --------
    >>> with TemporaryPostgres() as pg:  # doctest: +SKIP
    ...     url = pg.create_database("ledger")
    """

    def __init__(
        self,
        *,
        durable: bool = False,
        bin_dir: Path | None = None,
        startup_timeout_s: float = 60.0,
    ) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise FileNotFoundError("PostgreSQL server programs (initdb, pg_ctl) not found")
        self.bin_dir = found
        self.durable = durable
        self.startup_timeout_s = startup_timeout_s
        self.root: Path | None = None
        self.port = 0
        self._started = False

    # ------------------------------------------------------------------ paths and commands

    @property
    def data_dir(self) -> Path:
        """Folder of the cluster's data files."""
        return self._root() / "data"

    @property
    def socket_dir(self) -> Path:
        """Folder of the server's unix socket."""
        return self._root() / "socket"

    def _root(self) -> Path:
        if self.root is None:
            raise RuntimeError("the temporary PostgreSQL server is not started")
        return self.root

    def _as_server_user(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", _SYSTEM_USER, "--", *args]
        return args

    def _run(self, args: list[str], *, timeout: float = 120.0) -> None:
        done = subprocess.run(
            self._as_server_user(args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}"
            )

    # ------------------------------------------------------------------ life cycle

    def start(self) -> TemporaryPostgres:
        """Create the cluster and start the server; return ``self``.

        Returns
        -------
        TemporaryPostgres
            This server, started.

        Raises
        ------
        RuntimeError
            If ``initdb`` or ``pg_ctl`` fails, or the server does not accept
            connections within ``startup_timeout_s``.
        """
        self.root = Path(tempfile.mkdtemp(prefix="hashnation-pg-"))
        try:
            self.socket_dir.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.root, user=_SYSTEM_USER)
                shutil.chown(self.socket_dir, user=_SYSTEM_USER)
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    _SYSTEM_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            )
            self.port = _free_port()
            options = [
                f"-p {self.port}",
                f"-k {self.socket_dir}",
                "-c listen_addresses=127.0.0.1",
                "-c max_connections=50",
            ]
            if not self.durable:
                options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            self._run(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self._root() / "server.log"),
                    "-o",
                    " ".join(options),
                    "-W",
                    "start",
                ]
            )
            self._started = True
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        isready = shutil.which("pg_isready") or str(self.bin_dir / "pg_isready")
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if Path(isready).is_file():
                done = subprocess.run(
                    [isready, "-q", "-h", str(self.socket_dir), "-p", str(self.port)],
                    check=False,
                    timeout=10,
                )
                if done.returncode == 0:
                    return
            elif self._can_connect():
                return
            time.sleep(0.05)
        log = self._root() / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
        raise RuntimeError(f"PostgreSQL did not start within {self.startup_timeout_s} s: {tail}")

    def _can_connect(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder; safe to call twice."""
        if self.root is None:
            return
        if self._started:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                pg_ctl = str(self.bin_dir / "pg_ctl")
                self._run(
                    [pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "stop"], timeout=60
                )
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ databases

    def dsn(self, database: str) -> str:
        """Return a libpq connection string for ``database`` over the unix socket.

        Parameters
        ----------
        database
            Database name.

        Returns
        -------
        str
            ``host=... port=... user=postgres dbname=...``.
        """
        return f"host={self.socket_dir} port={self.port} user={_SYSTEM_USER} dbname={database}"

    def url(self, database: str) -> str:
        """Return a SQLAlchemy URL (``postgresql+psycopg``) for ``database``.

        Parameters
        ----------
        database
            Database name.

        Returns
        -------
        str
            URL connecting over the server's unix socket.
        """
        return (
            f"postgresql+psycopg://{_SYSTEM_USER}@/{database}"
            f"?host={self.socket_dir}&port={self.port}"
        )

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database and return its SQLAlchemy URL.

        Parameters
        ----------
        name
            New database name (letters, digits and underscores).
        template
            Database to copy (it must have no open connection); ``template1``
            by default.

        Returns
        -------
        str
            URL of the new database (see :meth:`url`).
        """
        import psycopg
        from psycopg import sql

        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            if template is not None:
                query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
                if conn.info.server_version >= 150000:
                    # Copy the files (one checkpoint) rather than WAL-log every block: faster.
                    query = sql.SQL("{} STRATEGY FILE_COPY").format(query)
            conn.execute(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection still open to it.

        Parameters
        ----------
        name
            Database name.
        """
        import psycopg
        from psycopg import sql

        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(query)
