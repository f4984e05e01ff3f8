"""Property-based tests of the HTTP API from its own OpenAPI document (Schemathesis).

Schemathesis reads ``/openapi.json`` of a running server and sends, for every operation,
requests generated from the schema (examples, boundary values of each parameter,
Hypothesis-generated data, and sequences of calls linked by their responses), then checks
each answer. :func:`run_schemathesis` runs its command line (``python -m schemathesis.cli
run``) against one server as one caller (a bearer token, or none) and reads its JSON
report into a :class:`SchemaRun`.

The checks are :data:`CHECKS`: no 5xx, every status code, content type, header and body
documented by the operation, invalid data refused, required headers enforced, unsupported
methods refused with an exact ``Allow``, a deleted resource gone, a created one readable,
and authentication not ignored. ``positive_data_acceptance`` is left out: the registry
refuses schema-valid bodies for rules a schema cannot say (the documents a licence type
requires, a registration number already taken, a day before admission...), and answers
them 400 with one line. Object-level authorization is the authorization matrix's job
(``tests/api/test_authorization_matrix.py``).

A staff caller may revoke API tokens (``POST /api/v1/tokens/{token_id}/revoke``); so that
the run does not revoke its own token, that operation's ``token_id`` is pinned to a spare
token made for the purpose (:func:`spare_token_id`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "CHECKS",
    "REVOKE_PATH",
    "SchemaRun",
    "run_schemathesis",
    "schemathesis_config",
    "spare_token_id",
]

CHECKS: Final[tuple[str, ...]] = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
)
"""Schemathesis checks run on every answer."""

REVOKE_PATH: Final = "/api/v1/tokens/{token_id}/revoke"
"""The operation whose ``token_id`` is pinned to a spare token."""

SERVER_ERROR_TYPES: Final = frozenset({"ServerError", "ContentTypeServerError"})
"""Failure types of the ``not_a_server_error`` check (a 5xx answer)."""


@dataclass(frozen=True)
class SchemaRun:
    """What one Schemathesis run found.

    Attributes
    ----------
    caller
        Who called: ``staff``, ``firm`` or ``anonymous``.
    operations
        Operations tested [count].
    test_cases
        Test cases generated and sent [count].
    failures
        Distinct failures found [count].
    server_errors
        Failures that were 5xx answers [count].
    groups
        The failures by kind: ``{"code", "title", "count", "operations"}`` each.
    errors
        Errors of the run itself (not the API's): ``{"title", "count"}`` each.
    seconds
        Wall time of the run [s].
    exit_code
        Schemathesis' exit status (0: nothing found).
    """

    caller: str
    operations: int
    test_cases: int
    failures: int
    server_errors: int
    groups: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    exit_code: int = 0


def spare_token_id(base_url: str, staff_token: str) -> int:
    """Issue a spare staff token through the API and return its id.

    Parameters
    ----------
    base_url
        The server.
    staff_token
        A staff token, to issue it with.

    Returns
    -------
    int
        The new token's id, to be revoked by the run instead of the caller's own.
    """
    label = f"spare token for revocation {time.time_ns()}"
    headers = {"Authorization": f"Bearer {staff_token}", "Content-Type": "application/json"}
    body = json.dumps({"role": "staff", "label": label}).encode()
    request = urllib.request.Request(f"{base_url}/api/v1/tokens", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
    listing = urllib.request.Request(f"{base_url}/api/v1/tokens", headers=headers)
    with urllib.request.urlopen(listing, timeout=30) as answer:
        tokens = json.loads(answer.read())
    return int(next(t["id"] for t in tokens if t["label"] == label))


def schemathesis_config(*, revoke_token_id: int | None) -> str:
    """Write the Schemathesis configuration file (TOML) of a run.

    Parameters
    ----------
    revoke_token_id
        The id the revocation operation's ``token_id`` is pinned to; None leaves it free
        (a caller who may not revoke tokens).

    Returns
    -------
    str
        TOML text.
    """
    lines = [
        "[checks]",
        "positive_data_acceptance.enabled = false",
        "object_level_authorization.enabled = false",
    ]
    if revoke_token_id is not None:
        lines += [
            "",
            "[[operations]]",
            f'include-path = "{REVOKE_PATH}"',
            f"parameters = {{ token_id = {int(revoke_token_id)} }}",
        ]
    return "\n".join(lines) + "\n"


def run_schemathesis(
    base_url: str,
    *,
    caller: str,
    token: str | None,
    work: Path,
    max_examples: int,
    seed: int,
    revoke_token_id: int | None = None,
    workers: int = 1,
    phases: Sequence[str] = ("examples", "coverage", "fuzzing", "stateful"),
    max_time_s: int | None = None,
    env: Mapping[str, str] | None = None,
) -> SchemaRun:
    """Run Schemathesis over every operation of a server's OpenAPI document.

    Parameters
    ----------
    base_url
        The server (its document is ``/openapi.json``).
    caller
        Name of the caller, for the result and the files.
    token
        Bearer token sent with every request; None calls anonymously.
    work
        Folder for the configuration, the JSON report and the console output
        (``schemathesis-<caller>.{toml,json,txt}``).
    max_examples
        Test cases per operation and phase at most [count].
    seed
        Random seed (the same seed repeats the same run).
    revoke_token_id
        See :func:`schemathesis_config`.
    workers
        Concurrent Schemathesis workers.
    phases
        Phases to run.
    max_time_s
        Time budget of the run [s]; None for none.
    env
        Environment of the Schemathesis process (default: this one's).

    Returns
    -------
    SchemaRun
        What it found.
    """
    work.mkdir(parents=True, exist_ok=True)
    config = work / f"schemathesis-{caller}.toml"
    config.write_text(schemathesis_config(revoke_token_id=revoke_token_id), encoding="utf-8")
    report = work / f"schemathesis-{caller}.json"
    output = work / f"schemathesis-{caller}.txt"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        str(workers),
        "--phases",
        ",".join(phases),
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    if max_time_s is not None:
        command += ["--max-time", str(max_time_s)]
    started = time.perf_counter()
    with output.open("wb") as out:
        finished = subprocess.run(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else {**os.environ, "NO_COLOR": "1"},
            check=False,
        )
    seconds = time.perf_counter() - started
    if not report.is_file():
        tail = output.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"schemathesis wrote no report (exit {finished.returncode}):\n{tail}")
    data = json.loads(report.read_text(encoding="utf-8"))
    groups = [
        {
            "code": g.get("code"),
            "type": g.get("type"),
            "title": g.get("title"),
            "count": int(g.get("count", 0)),
            "operations": list(g.get("operations", [])),
        }
        for g in data.get("failures", [])
    ]
    cases = data.get("test_cases") or {}
    return SchemaRun(
        caller=caller,
        operations=int((data.get("operations") or {}).get("tested", 0)),
        test_cases=int(cases.get("generated", 0)),
        failures=int(cases.get("unique_failures", 0)),
        server_errors=sum(g["count"] for g in groups if g["type"] in SERVER_ERROR_TYPES),
        groups=groups,
        errors=list(data.get("errors", [])),
        seconds=seconds,
        exit_code=finished.returncode,
    )
