"""The web app's guards (hashnation.web.security), in process over a seeded registry.

Rate limit (token bucket per client, valid tokens and /healthz spared, 429 with
Retry-After), CORS (nothing unless the origin is listed, then GET of public JSON only),
cross-site form posts refused, CSRF tokens on staff forms, security headers on every HTML
page, private keys refused before any route and never echoed, 405 with a full Allow.
The same app over real HTTP is in tests/hardening/test_security.py.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hashnation.hardening.served import seed_registry
from hashnation.redaction import PRIVATE_KEY_NOT_SHOWN
from hashnation.registry.service import Registry
from hashnation.web.app import WebSettings, create_app
from hashnation.web.security import FALLBACK_CSP, RateLimit, RedactingLogFilter, TokenBuckets
from hashnation.web.staff import COOKIE_NAME, csrf_token

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
BIP32 = json.loads((VECTORS / "bip32.json").read_text(encoding="utf-8"))
BIP380 = json.loads((VECTORS / "bip380_descriptors.json").read_text(encoding="utf-8"))
XPRV = BIP32["vectors"][0]["chains"][0]["ext_prv"]
XPUB = BIP32["vectors"][0]["chains"][0]["ext_pub"]
WIF = next(
    k["key_expression"]
    for k in BIP380["valid_key_expressions"]
    if k["description"] == "WIF compressed private key"
)
FOREIGN = "https://attacker.example"
ALLOWED = "https://dashboard.example"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A registry filled with the example book (SQLite file) and its tokens."""
    path = tmp_path_factory.mktemp("security") / "seeded.db"
    tokens = seed_registry(f"sqlite:///{path}")
    return path, tokens


@pytest.fixture
def db(seeded: tuple[Path, dict[str, str]], tmp_path: Path) -> str:
    """A fresh copy of the seeded registry."""
    target = tmp_path / "registry.db"
    shutil.copyfile(seeded[0], target)
    return f"sqlite:///{target}"


@pytest.fixture
def tokens(seeded: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return seeded[1]


def client_for(db: str, *, address: str = "203.0.113.7", **settings: Any) -> TestClient:
    app = create_app(WebSettings(registry_db=db, **settings))
    return TestClient(app, client=(address, 50000), follow_redirects=False)


# ---------------------------------------------------------------- rate limit


def test_over_the_limit_answers_429_with_retry_after(db: str) -> None:
    client = client_for(db, rate_limit_per_minute=5)
    codes = [client.get("/api/v1/register").status_code for _ in range(5)]
    assert codes == [200] * 5
    refused = client.get("/api/v1/register")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/json"
    assert "rate limit" in refused.json()["detail"]
    assert "\n" not in refused.json()["detail"]
    page = client.get("/register/", headers={"Accept": "text/html"})
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.count("\n") == 1
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_other_clients_keep_their_own_budget(db: str) -> None:
    app = create_app(WebSettings(registry_db=db, rate_limit_per_minute=3))
    first = TestClient(app, client=("198.51.100.1", 1000))
    second = TestClient(app, client=("198.51.100.2", 1000))
    assert [first.get("/api/v1/register").status_code for _ in range(4)] == [200] * 3 + [429]
    assert second.get("/api/v1/register").status_code == 200


def test_valid_tokens_and_healthz_are_not_counted(db: str, tokens: dict[str, str]) -> None:
    client = client_for(db, rate_limit_per_minute=2)
    staff = {"Authorization": f"Bearer {tokens['staff']}"}
    for _ in range(6):
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/firms", headers=staff).status_code == 200
        assert client.get("/register/", headers=staff).status_code == 200
    assert client.get("/api/v1/register").status_code == 200
    assert client.get("/api/v1/register").status_code == 200
    assert client.get("/api/v1/register").status_code == 429
    # a made-up token does not buy more requests, wherever it is sent
    bogus = {"Authorization": "Bearer hn_" + "A" * 43}
    assert client.get("/register/", headers=bogus).status_code == 429
    assert client.get("/api/v1/firms", headers=bogus).status_code == 429
    # a valid one still works once the address is out of requests
    assert client.get("/api/v1/firms", headers=staff).status_code == 200


def test_the_staff_cookie_counts_as_a_token(db: str, tokens: dict[str, str]) -> None:
    client = client_for(db, rate_limit_per_minute=1)
    client.cookies.set(COOKIE_NAME, tokens["staff"], path="/staff")
    for _ in range(4):
        assert client.get("/staff/queue").status_code == 200


def test_the_bucket_refills_at_the_limit_rate() -> None:
    now = [1000.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])
    assert all(buckets.take("a") == 0.0 for _ in range(60))
    wait = buckets.take("a")
    assert wait == pytest.approx(1.0)
    now[0] += 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("a") == 0.0
    now[0] += 3600
    assert all(buckets.take("a") == 0.0 for _ in range(60))
    assert buckets.take("a") > 0


def test_the_middleware_refills_with_its_clock() -> None:
    now = [0.0]

    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    client = TestClient(RateLimit(ok, per_minute=2, clock=lambda: now[0]))
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/").headers["Retry-After"] == "30"
    now[0] += 30
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 429


def test_limit_zero_is_off_and_429_is_documented_only_when_on(db: str) -> None:
    off = client_for(db, rate_limit_per_minute=0)
    assert all(off.get("/api/v1/register").status_code == 200 for _ in range(30))
    assert all("429" not in op["responses"] for op in _operations(off))
    on = client_for(db, rate_limit_per_minute=10)
    documented = [op["responses"]["429"] for op in _operations(on)]
    assert documented
    assert all("Retry-After" in answer["headers"] for answer in documented)


def _operations(client: TestClient) -> list[dict[str, Any]]:
    spec = client.get("/openapi.json").json()
    return [op for ops in spec["paths"].values() for op in ops.values()]


# ---------------------------------------------------------------- CORS


def test_no_cors_header_unless_the_origin_is_listed(db: str) -> None:
    bare = client_for(db)
    answer = bare.get("/api/v1/register", headers={"Origin": ALLOWED})
    assert not [h for h in answer.headers if h.lower().startswith("access-control-")]
    listed = client_for(db, cors_origins=(ALLOWED,))
    foreign = listed.get("/api/v1/register", headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in foreign.headers


def test_cors_allows_only_gets_of_public_json(db: str, tokens: dict[str, str]) -> None:
    client = client_for(db, cors_origins=(ALLOWED,))
    public = client.get("/api/v1/register", headers={"Origin": ALLOWED})
    assert public.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in public.headers
    assert "Origin" in public.headers["vary"]
    staff = {"Origin": ALLOWED, "Authorization": f"Bearer {tokens['staff']}"}
    for path in ("/api/v1/firms", "/register/", "/staff/login"):
        answer = client.get(path, headers=staff)
        assert "access-control-allow-origin" not in answer.headers, path
    posted = client.post(
        "/api/v1/firms", headers=staff, json={"name": "X", "registration_number": "X-1"}
    )
    assert "access-control-allow-origin" not in posted.headers


def test_preflights(db: str) -> None:
    client = client_for(db, cors_origins=(ALLOWED,))
    ok = client.options(
        "/api/v1/register",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"},
    )
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    assert ok.headers["access-control-allow-methods"] == "GET, HEAD"
    assert "access-control-allow-credentials" not in ok.headers
    for path, method in (
        ("/staff/applications/1/actions", "POST"),
        ("/staff/login", "POST"),
        ("/api/v1/firms", "POST"),
        ("/api/v1/register", "POST"),
    ):
        answer = client.options(
            path,
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        allow = [h for h in answer.headers if h.lower().startswith("access-control-")]
        assert answer.status_code == 405, path
        assert allow == [], path
    foreign = client.options(
        "/api/v1/register", headers={"Origin": FOREIGN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in foreign.headers


# ---------------------------------------------------------------- cross-site posts, CSRF


def test_foreign_origin_or_referer_posts_are_refused(db: str, tokens: dict[str, str]) -> None:
    client = client_for(db)
    body = {"token": tokens["staff"]}
    for headers in (
        {"Origin": FOREIGN},
        {"Origin": "null"},
        {"Referer": f"{FOREIGN}/login"},
        {"Origin": "http://testserver.attacker.example"},
        {"Origin": "http://testserver:8080"},
    ):
        answer = client.post("/staff/login", data=body, headers=headers)
        assert answer.status_code == 403, headers
        assert COOKIE_NAME not in answer.headers.get("set-cookie", "")
    for headers in (
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        assert client.post("/staff/login", data=body, headers=headers).status_code == 403
    same = client.post("/staff/login", data=body, headers={"Origin": "http://testserver"})
    assert same.status_code == 303
    # a page sent with Referrer-Policy: no-referrer posts with Origin: null; the browser's
    # Sec-Fetch-Site still says it is this site
    fetched = client.post(
        "/staff/login", data=body, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    )
    assert fetched.status_code == 303
    plain = client.post("/staff/login", data=body, headers={"Referer": "http://testserver/x"})
    assert plain.status_code == 303


def test_staff_actions_need_the_csrf_token_and_this_site(db: str, tokens: dict[str, str]) -> None:
    client = client_for(db)
    client.cookies.set(COOKIE_NAME, tokens["staff"], path="/staff")
    with Registry(db) as registry:
        waiting = registry.review_queue(registry.authenticate(tokens["staff"]))[0]
    form = {"action": "begin_review", "from_status": waiting.status.value, "reason": ""}
    url = f"/staff/applications/{waiting.id}/actions"
    for extra, headers in (
        ({}, {}),
        ({"csrf": "0" * 64}, {}),
        ({"csrf": csrf_token(tokens["firm:0001234"])}, {}),
        ({"csrf": csrf_token(tokens["staff"])}, {"Origin": FOREIGN}),
    ):
        answer = client.post(url, data={**form, **extra}, headers=headers)
        assert answer.status_code == 403
    with Registry(db) as registry:
        principal = registry.authenticate(tokens["staff"])
        assert registry.get_application(principal, waiting.id).status == waiting.status
    done = client.post(
        url,
        data={**form, "csrf": csrf_token(tokens["staff"])},
        headers={"Origin": "http://testserver"},
    )
    assert done.status_code == 303
    with Registry(db) as registry:
        principal = registry.authenticate(tokens["staff"])
        assert registry.get_application(principal, waiting.id).status != waiting.status


def test_api_posts_are_not_subject_to_the_origin_check(db: str, tokens: dict[str, str]) -> None:
    client = client_for(db)
    answer = client.post(
        "/api/v1/firms",
        headers={"Authorization": f"Bearer {tokens['staff']}", "Origin": FOREIGN},
        json={"name": "Origin Test Ltd", "registration_number": "OT-1"},
    )
    assert answer.status_code == 201


# ---------------------------------------------------------------- headers


def test_every_html_page_has_the_security_headers(db: str, tokens: dict[str, str]) -> None:
    client = client_for(db)
    client.cookies.set(COOKIE_NAME, tokens["staff"], path="/staff")
    spec = client.get("/openapi.json").json()
    pages = ["/docs", "/redoc", "/staff/queue", "/staff/applications/1", "/register/?status=x"]
    for template, operations in spec["paths"].items():
        get = operations.get("get")
        if get and "text/html" in get["responses"].get("200", {}).get("content", {}):
            pages.append(template.replace("{firm_id}", "1").replace("{reference}", "NOPE"))
    pages.append("/no/such/page")
    assert len(pages) >= 10
    for path in pages:
        answer = client.get(path, headers={"Accept": "text/html"})
        assert answer.headers["x-content-type-options"] == "nosniff", path
        if not answer.headers["content-type"].startswith("text/html"):
            continue
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
    assert client.get("/docs").headers["content-security-policy"] == FALLBACK_CSP
    assert client.get("/api/v1/register").headers["x-content-type-options"] == "nosniff"


def test_405_lists_every_method_of_the_path(db: str) -> None:
    client = client_for(db)
    answer = client.delete("/api/v1/firms")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, POST"
    assert client.put("/api/v1/register").headers["allow"] == "GET, HEAD"


# ---------------------------------------------------------------- private keys


@pytest.mark.parametrize("secret", [XPRV, WIF, f"wpkh({XPRV}/0/*)"])
def test_a_private_key_anywhere_is_refused_and_not_echoed(
    db: str, tokens: dict[str, str], secret: str
) -> None:
    client = client_for(db)
    staff = {"Authorization": f"Bearer {tokens['staff']}"}
    answers = [
        client.get("/api/v1/register", params={"q": secret}),
        client.get(f"/api/v1/visa/applications/{secret}"),
        client.post(
            "/api/v1/firms", headers=staff, json={"name": secret, "registration_number": "K-1"}
        ),
        client.post("/staff/login", data={"token": secret}),
        client.post(
            "/api/v1/visa/applications",
            headers=staff,
            json={"applicant_name": "A", "nationality": "AE", "refund_address": secret},
        ),
        client.get("/register/", params={"q": secret}, headers={"Accept": "text/html"}),
    ]
    for answer in answers:
        assert answer.status_code == 400
        assert secret not in answer.text
        assert PRIVATE_KEY_NOT_SHOWN in answer.text
    with Registry(db) as registry:
        names = [f.name for f in registry.list_firms(registry.authenticate(tokens["staff"]))]
    assert secret not in names


def test_a_public_key_is_not_refused(db: str) -> None:
    client = client_for(db)
    answer = client.get("/api/v1/register", params={"q": XPUB})
    assert answer.status_code == 200


def test_log_lines_never_hold_a_private_key() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/api/v1/register?q={XPRV}&w={WIF}", "1.1", 400),
        None,
    )
    assert RedactingLogFilter().filter(record)
    line = record.getMessage()
    assert XPRV not in line
    assert WIF not in line
    assert "/api/v1/register?q=<private key not shown>" in line


def _foreign_site(forms: dict[str, str]) -> Any:
    """Another site (another origin): one page per form, each posting to the target."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    site = FastAPI()
    for name, form in forms.items():

        def show(form: str = form) -> HTMLResponse:
            return HTMLResponse(f"<!DOCTYPE html><title>x</title>{form}")

        site.add_api_route(f"/{name}", show)
    return site


def test_a_foreign_page_cannot_sign_in_or_act_in_a_real_browser(
    db: str, tokens: dict[str, str], live_server: Any, page: Any
) -> None:
    server = live_server(create_app(WebSettings(registry_db=db)))
    foreign = live_server(
        _foreign_site(
            {
                "act": f'<form method="post" action="{server.url}/staff/applications/1/actions">'
                '<input name="action" value="begin_review"><input name="csrf" value="x">'
                '<button id="go">go</button></form>',
                "login": f'<form method="post" action="{server.url}/staff/login">'
                f'<input name="token" value="{tokens["staff"]}"><button id="go">go</button></form>',
            }
        )
    )
    page.goto(f"{server.url}/staff/login")
    page.fill("#token", tokens["staff"])
    page.click("#login button")
    assert page.url.endswith("/staff/queue")  # the site's own form signs in
    for name in ("act", "login"):
        page.goto(f"{foreign.url}/{name}")
        page.click("#go")
        page.wait_for_load_state()
        assert "not sent from this site" in page.content(), name
