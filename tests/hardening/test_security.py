"""Security of the running server: rate limit over real HTTP, secrets never kept nor logged.

One real server (``hashnation.hardening.served``: uvicorn in a child process, log at
DEBUG, rate limit 60/min) over the example book. Private keys come from the BIP32 and
BIP380 test vectors (tests/vectors); they are pasted into every kind of input (API bodies,
query strings, paths, the staff sign-in form, a bearer header) and into the CLI commands
that take descriptors, addresses and names. Then the server's log, the CLI's output, every
answer and every text of every table of the database (and the SQLite file's bytes) are
searched for them: never found. API tokens: the text of one issued through the API is not
in the database, its SHA-256 is.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import typer.testing
from embit.bip32 import HDKey
from embit.networks import NETWORKS

from hashnation.cli.main import app
from hashnation.hardening.injection import stored_texts
from hashnation.hardening.served import ServedApp, serve
from hashnation.redaction import PRIVATE_KEY_NOT_SHOWN
from hashnation.store.db import make_engine, upgrade

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
BIP32 = json.loads((VECTORS / "bip32.json").read_text(encoding="utf-8"))
BIP380 = json.loads((VECTORS / "bip380_descriptors.json").read_text(encoding="utf-8"))
XPRV = BIP32["vectors"][1]["chains"][2]["ext_prv"]
TPRV = HDKey.from_string(BIP32["vectors"][0]["chains"][0]["ext_prv"]).to_string(
    version=NETWORKS["test"]["xprv"]
)
WIF = next(
    k["key_expression"]
    for k in BIP380["valid_key_expressions"]
    if k["description"] == "WIF compressed private key"
)
WIF_UNCOMPRESSED = next(
    k["key_expression"]
    for k in BIP380["valid_key_expressions"]
    if k["description"] == "WIF uncompressed private key"
)
SECRETS = (XPRV, TPRV, WIF, WIF_UNCOMPRESSED)
LIMIT = 60


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    work = tmp_path_factory.mktemp("served")
    with serve(
        f"sqlite:///{work / 'registry.db'}",
        work=work,
        rate_limit_per_minute=LIMIT,
        log_level="debug",
    ) as app:
        yield app


def _client(served: ServedApp, address: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=served.url, transport=transport, timeout=30)


# ---------------------------------------------------------------- rate limit


def test_rate_limit_over_real_http(served: ServedApp) -> None:
    staff = {"Authorization": f"Bearer {served.staff_token}"}
    with _client(served, "127.0.0.3") as greedy, _client(served, "127.0.0.4") as other:
        codes = [greedy.get("/api/v1/register").status_code for _ in range(LIMIT + 10)]
        assert codes[: LIMIT - 5] == [200] * (LIMIT - 5)
        assert 429 in codes
        refused = greedy.get("/register/", headers={"Accept": "text/html"})
        assert refused.status_code == 429
        retry = int(refused.headers["Retry-After"])
        assert 1 <= retry <= 2
        assert other.get("/api/v1/register").status_code == 200
        assert greedy.get("/api/v1/firms", headers=staff).status_code == 200
        assert greedy.get("/healthz").status_code == 200
        time.sleep(retry + 0.2)
        assert greedy.get("/api/v1/register").status_code == 200


# ---------------------------------------------------------------- secrets


def _paste_everywhere(served: ServedApp, secret: str, address: str) -> list[httpx.Response]:
    staff = {"Authorization": f"Bearer {served.staff_token}"}
    firm = {"Authorization": f"Bearer {served.firm_token}"}
    with _client(served, address) as client:
        return [
            client.post(
                "/api/v1/firms",
                headers=staff,
                json={"name": "Key Paste Ltd", "registration_number": secret},
            ),
            client.post("/api/v1/tokens", headers=staff, json={"role": "staff", "label": secret}),
            client.post(
                "/api/v1/visa/applications",
                headers=staff,
                json={"applicant_name": "Paste", "nationality": "AE", "refund_address": secret},
            ),
            client.post(
                "/api/v1/applications/1/returns",
                headers=firm,
                json={"licence_type": "exchange", "period_start": secret},
            ),
            client.post(
                "/api/v1/applications/1/enforcement",
                headers=staff,
                json={"kind": "warning", "reason": f"descriptor wpkh({secret}/0/*)"},
            ),
            client.get("/api/v1/register", params={"q": secret}),
            client.get("/register/", params={"q": f"sh(wpkh({secret}))"}),
            client.get(f"/api/v1/visa/applications/{quote(secret)}"),
            client.get("/visa/status", params={"reference": secret}),
            client.get(f"/records/{quote(secret)}"),
            client.post("/staff/login", data={"token": secret}),
            client.get("/api/v1/firms", headers={"Authorization": f"Bearer {secret}"}),
            client.post(
                "/api/v1/records/R-1/versions/1/check",
                content=f"proof for {secret}".encode(),
                headers={"Content-Type": "text/plain"},
            ),
        ]


def test_private_keys_are_refused_and_never_logged_or_stored(served: ServedApp) -> None:
    for number, secret in enumerate(SECRETS, start=1):
        answers = _paste_everywhere(served, secret, f"127.0.1.{number}")  # a bucket each
        for answer in answers:
            assert answer.status_code < 500, answer.text
            assert answer.status_code not in (200, 201, 429), answer.request.url
            assert secret not in answer.text
        assert PRIVATE_KEY_NOT_SHOWN in answers[0].text
    time.sleep(0.3)  # the access log is written after the answer
    log = served.log_text()
    assert '"GET /api/v1/register?q=' in log  # the access log is on (DEBUG)
    for secret in SECRETS:
        assert secret not in log
        assert quote(secret) not in log
    _assert_not_in_database(served, SECRETS)


def _assert_not_in_database(served: ServedApp, needles: tuple[str, ...]) -> None:
    engine = make_engine(served.db_url)
    try:
        texts = [value for _, value in stored_texts(engine)]
    finally:
        engine.dispose()
    assert len(texts) > 1000
    for needle in needles:
        assert not any(needle in value for value in texts)
    raw = b"".join(
        path.read_bytes()
        for path in Path(served.db_url.removeprefix("sqlite:///")).parent.glob("registry.db*")
    )
    for needle in needles:
        assert needle.encode() not in raw


def test_tokens_are_hashed_at_rest_and_never_logged(served: ServedApp) -> None:
    staff = {"Authorization": f"Bearer {served.staff_token}"}
    with _client(served, "127.0.2.1") as client:
        issued = client.post(
            "/api/v1/tokens", headers=staff, json={"role": "staff", "label": "at rest probe"}
        )
        assert issued.status_code == 201
        token = issued.json()["token"]
        assert client.get("/api/v1/firms", headers={"Authorization": f"Bearer {token}"}).is_success
        login = client.post("/staff/login", data={"token": token}, follow_redirects=False)
        assert login.status_code == 303
    time.sleep(0.3)
    digest = hashlib.sha256(token.encode()).hexdigest()
    engine = make_engine(served.db_url)
    try:
        texts = {value for _, value in stored_texts(engine)}
    finally:
        engine.dispose()
    assert digest in texts
    assert not any(token in value for value in texts)
    assert not any(served.staff_token in value for value in texts)
    raw = Path(served.db_url.removeprefix("sqlite:///")).read_bytes()
    assert token.encode() not in raw
    assert digest.encode() in raw
    log = served.log_text()
    for secret in (token, served.staff_token, served.firm_token):
        assert secret not in log


# ---------------------------------------------------------------- the CLI


RUNNER = typer.testing.CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_the_cli_refuses_keys_without_echoing_them(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(db)
    reserve = tmp_path / "reserve.json"
    pasted = tmp_path / "pasted.psbt"
    pasted.write_text(f"{XPRV}\n", encoding="utf-8")
    commands = [
        ["reserve", "psbt", "inspect", str(pasted)],
        ["reserve", "descriptor", "add", str(reserve), "cold", f"wpkh({XPRV}/0/*)"],
        ["reserve", "descriptor", "add", str(reserve), "cold", f"pkh({WIF})"],
        ["visa", "configure", f"wpkh({TPRV}/0/*)", "--db", db],
        ["visa", "apply", "Applicant", "AE", "--refund-address", XPRV, "--db", db],
        ["registry", "firm", "add", WIF, "--registration-number", "K-1", "--db", db],
        ["registry", "firm", "add", "Key Ltd", "--registration-number", TPRV, "--db", db],
    ]
    for command in commands:
        run = RUNNER.invoke(app, command)
        assert run.exit_code == 2, (command, run.output)
        for secret in SECRETS:
            assert secret not in run.output
    assert not reserve.exists()
    raw = (tmp_path / "cli.db").read_bytes()
    assert not any(secret.encode() in raw for secret in SECRETS)
