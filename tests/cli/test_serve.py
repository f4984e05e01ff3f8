"""``hashnation serve``: the registry migrated, seeded and served by a real uvicorn process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer.testing

from hashnation.cli.main import app
from hashnation.cli.serve import prepare_registry
from hashnation.registry.service import Principal, Registry

runner = typer.testing.CliRunner()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(base: str, process: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not up within {timeout_s} s")


SERVE = [sys.executable, "-m", "hashnation.cli.main", "serve"]


def test_serve_registry_subprocess(tmp_path: Path) -> None:
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    process = subprocess.Popen(
        [*SERVE, "--db", db, "--port", str(port), "--no-mining"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, process)
        for path in ("/register/", "/api/v1/register", "/staff/login", "/docs"):
            assert httpx.get(base + path, timeout=10.0).status_code == 200, path
        page = httpx.get(f"{base}/api/v1/register", timeout=10.0).json()
        assert page["total"] > 0  # seeded
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "seeded example data" in output
    assert "  staff: hn_" in output and "  firm:" in output
    for path in ("/register/", "/staff/login", "/docs"):
        assert f"{base}{path}" in output
    assert not (tmp_path / "hashnation.db").exists()  # --db was used, not the default


def test_worker_processes_serve_a_change_at_once(tmp_path: Path) -> None:
    # Two uvicorn processes, each with its own cache of the public register: a licence
    # granted by a third process shows in every answer that follows.
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    command = [*SERVE, "--db", db, "--no-mining"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, process)

        def totals() -> set[int]:  # a new connection each time, to reach both workers
            return {
                int(httpx.get(f"{base}/api/v1/register", timeout=10.0).json()["total"])
                for _ in range(30)
            }

        (before,) = totals()
        staff = Principal.staff("officer")
        with Registry(db) as registry:
            (approved, *_) = registry.list_applications(staff, status="approved")
            registry.act(staff, approved.id, "grant_licence")
        assert totals() == {before + 1}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "2 worker processes" in output


def test_prepare_registry_seeds_an_empty_registry_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert prepare_registry(db, seed=False) == []
    with Registry(db) as registry:
        assert registry.is_empty()
    tokens = prepare_registry(db, seed=True)
    assert tokens[0][0] == "staff" and tokens[1][0].startswith("firm:")
    assert all(token.startswith("hn_") for _, token in tokens)
    assert prepare_registry(db, seed=True) == []  # not empty any more: nothing printed


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--port", "0"], "--port"),
        (["--reserve-report", "no/such/file.json"], "--reserve-report"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_serve_bad_options_write_nothing(
    args: list[str], field: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {field}")
    assert list(tmp_path.iterdir()) == []
