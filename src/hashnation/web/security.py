"""The web app's guards: rate limits, private keys, cross-site requests, headers, logs.

:func:`install_security` puts them on an app (``create_app`` calls it) as plain ASGI
middleware, outermost first:

:class:`BrowserPolicy`
    *Security headers*: every response says ``X-Content-Type-Options: nosniff``; every
    HTML page also carries a Content-Security-Policy (:data:`FALLBACK_CSP` when the page
    sets none: no framing, no ``<base>``, forms to this site only, no plugins),
    ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``.
    *CORS*: no CORS header at all unless the request's ``Origin`` is one of
    ``WebSettings.cors_origins``; then only a ``GET``/``HEAD`` of a public JSON endpoint
    (an operation of the OpenAPI document that needs no token and answers JSON) gets
    ``Access-Control-Allow-Origin`` (never ``...-Allow-Credentials``), and only a preflight
    for such a ``GET`` is answered (204). A preflight for anything else, such as a staff
    ``POST``, passes to the app unanswered by this layer (405, no allow headers).
    *Cross-site form posts*: a state-changing request (``POST``, ``PUT``, ``PATCH``,
    ``DELETE``) to a page (any path outside ``/api/``) is refused with 403 before the app
    sees it when the browser says it comes from another site: ``Sec-Fetch-Site`` other than
    ``same-origin`` (or ``none``, typed by the user); without that header, an ``Origin``
    (or, without one, a ``Referer``) naming another host, or the opaque origin ``null``.
    (Pages sent with ``Referrer-Policy: no-referrer`` make browsers send ``Origin: null``
    even to their own site; ``Sec-Fetch-Site`` still tells.) The staff forms also carry a
    CSRF token (:mod:`hashnation.web.staff`); this check covers the sign-in form and any
    page form.
:class:`RateLimit`
    A token bucket per client address: a client may make ``rate_limit_per_minute``
    requests in a burst, refilled at that rate spread over the minute. Requests carrying a
    valid API token (``Authorization: Bearer``, or the staff pages' cookie; checked by
    :class:`TokenCheck`) and ``/healthz`` are never counted; everything else is. A client
    over its limit is answered 429 with ``Retry-After`` (seconds) and a one-line body
    (JSON under ``/api/`` or when HTML is not accepted, else HTML). 0 turns it off. The
    buckets live in each server process: with N worker processes a client may get up to N
    times the limit.
:class:`InputScreen`
    HashNation never needs a private key. A request whose path, query string or text body
    (JSON, form, multipart, plain text) holds one (an ``xprv``/``tprv``/SLIP-132 extended
    private key, a WIF key or a BIP39 seed phrase, :func:`hashnation.redaction.private_key_kind`)
    is refused with 400 before any route sees it, so that none is ever stored, and the
    answer never repeats it. So is one holding a NUL character, which PostgreSQL text
    cannot store (refused on every database alike), or a lone UTF-16 surrogate in JSON.

It also makes request validation errors (FastAPI's 422) hide private keys in the input
they echo, lists every method of a path in a 405's ``Allow`` header (Starlette names only
those of the first route matching the path), documents the guards' answers (400, 403 on
pages, 429) on every operation of the OpenAPI document, and adds
:class:`RedactingLogFilter` to the server's loggers, so that no log line (an access log
line holds the query string) repeats a private key.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote_plus, urlsplit

from hashnation.redaction import PRIVATE_KEY_NOT_SHOWN, private_key_kind, redact

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Engine

    from hashnation.web.app import WebSettings

__all__ = [
    "FALLBACK_CSP",
    "LOGGERS",
    "BrowserPolicy",
    "InputScreen",
    "RateLimit",
    "RedactingLogFilter",
    "TokenBuckets",
    "TokenCheck",
    "install_security",
    "path_methods",
    "public_json_matcher",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FALLBACK_CSP: Final = (
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
"""Content-Security-Policy of an HTML page that sets none (the API docs, the reserve page)."""

LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "hashnation")
"""Loggers :func:`install_security` puts a :class:`RedactingLogFilter` on."""

EXEMPT_PATHS: Final = frozenset({"/healthz"})
"""Paths never rate limited (health checks of load balancers and monitors)."""

STAFF_COOKIE: Final = "hashnation_staff"
"""The staff pages' session cookie (it holds a staff API token)."""

_UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TEXT_BODY: Final = ("application/json", "application/x-www-form-urlencoded", "multipart/", "text/")
_DEFAULT_PORTS: Final = {"http": "80", "https": "443"}
_NO_STORE: Final = "no-store"
_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})
_PAGE_CSP: Final = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


# ---------------------------------------------------------------- small ASGI helpers


def _header(scope: Scope, name: bytes) -> str | None:
    """Read a request header (the first), decoded as Latin-1; None when absent."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value.strip('"')
    return None


def _wants_json(scope: Scope) -> bool:
    if str(scope.get("path", "")).startswith("/api/"):
        return True
    return "text/html" not in (_header(scope, b"accept") or "")


async def _answer(
    send: Send,
    status: int,
    text: str,
    *,
    as_json: bool,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send a one-line answer: ``{"detail": text}`` or a minimal HTML page."""
    import json

    from hashnation.mining.htmlkit import escape

    if as_json:
        body = json.dumps({"detail": text}).encode("utf-8")
        kind = "application/json"
    else:
        body = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{status}</title></head><body><p>{escape(text)}</p></body></html>\n"
        ).encode()
        kind = "text/html; charset=utf-8"
    raw = [
        (b"content-type", kind.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"cache-control", _NO_STORE.encode("latin-1")),
    ]
    if not as_json:
        raw.append((b"content-security-policy", _PAGE_CSP.encode("latin-1")))
    raw.extend(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
    )
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _netloc(url: str, scheme_hint: str = "http") -> str | None:
    """``host[:port]`` of a URL or a Host header, lower case, default port left out.

    None when it names no host or a port that is not one (it then matches nothing).
    """
    parts = urlsplit(url if "//" in url else f"{scheme_hint}://{url}")
    host = (parts.hostname or "").lower()
    if not host:
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme or scheme_hint
    if port is None or str(port) == _DEFAULT_PORTS.get(scheme):
        return host
    return f"{host}:{port}"


# ---------------------------------------------------------------- rate limit


class TokenBuckets:
    """Token buckets, one per client: ``per_minute`` requests in a burst, refilled evenly.

    Parameters
    ----------
    per_minute
        Bucket size and refill per minute [requests/min]; > 0.
    clock
        Monotonic clock [s] (``time.monotonic``).
    max_clients
        Buckets kept; past this, the full ones (clients idle for a minute) are dropped.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be > 0")
        self.capacity = float(per_minute)
        self.rate_per_s = per_minute / 60.0
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, client: str, now: float) -> float:
        tokens, stamp = self._buckets.get(client, (self.capacity, now))
        return min(self.capacity, tokens + (now - stamp) * self.rate_per_s)

    def take(self, client: str) -> float:
        """Take one request from ``client``'s bucket.

        Returns
        -------
        float
            0.0 when the request may go ahead; else the wait until it may [s].
        """
        with self._lock:
            now = self._clock()
            level = self._level(client, now)
            if level >= 1.0:
                self._buckets[client] = (level - 1.0, now)
                if len(self._buckets) > self._max_clients:
                    self._prune(now)
                return 0.0
            self._buckets[client] = (level, now)
            return (1.0 - level) / self.rate_per_s

    def _prune(self, now: float) -> None:
        full = [c for c in self._buckets if self._level(c, now) >= self.capacity]
        for client in full:
            del self._buckets[client]
        if len(self._buckets) > self._max_clients:  # all busy: forget the oldest half
            by_age = sorted(self._buckets, key=lambda c: self._buckets[c][1])
            for client in by_age[: len(by_age) // 2]:
                del self._buckets[client]


class TokenCheck:
    """Tell whether an API token is valid (issued and not revoked), with a short memory.

    Answers are remembered (by the token's SHA-256) for ``ttl_s``, valid and invalid
    alike, so that a client with a token costs one indexed query a minute, not one a
    request, and a made-up token sent again costs none; a token revoked meanwhile is still
    spared the rate limit until then (the routes themselves check it every time).

    Parameters
    ----------
    db_url
        The registry database holding the tokens' hashes.
    ttl_s
        How long an answer is remembered [s].
    max_entries
        Answers remembered at most (all are forgotten when it is reached).
    """

    def __init__(self, db_url: str, *, ttl_s: float = 60.0, max_entries: int = 10_000) -> None:
        self._db_url = db_url
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._known: dict[str, tuple[bool, float]] = {}
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def remembered(self, token: str) -> bool | None:
        """Give the answer remembered for the token (within ``ttl_s``), or None (no query)."""
        found = self._known.get(hashlib.sha256(token.encode("utf-8")).hexdigest())
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    def __call__(self, token: str) -> bool:
        """Look the token up (one indexed query) and remember the answer."""
        from sqlalchemy import select

        from hashnation.registry.tokens import TOKEN_PREFIX
        from hashnation.store.db import make_engine
        from hashnation.store.registry_models import ApiToken

        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return False
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self._db_url)
            engine = self._engine
        with engine.connect() as conn:
            row = conn.execute(
                select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.token_sha256 == digest)
            ).first()
        valid = row is not None and row[1] is None
        with self._lock:
            if len(self._known) >= self._max_entries:
                self._known.clear()
            self._known[digest] = (valid, time.monotonic() + self._ttl_s)
        return valid


def _credential(scope: Scope) -> str | None:
    """Find the API token a request carries (bearer header, or the staff cookie), if any."""
    auth = _header(scope, b"authorization")
    if auth is not None:
        kind, _, token = auth.partition(" ")
        return token.strip() if kind.lower() == "bearer" and token.strip() else None
    if str(scope.get("path", "")).startswith("/staff"):
        return _cookie(scope, STAFF_COOKIE)
    return None


class RateLimit:
    """ASGI middleware: a token bucket per client address (see the module notes).

    Parameters
    ----------
    app
        The ASGI app to guard.
    per_minute
        Requests a client may make per minute [requests/min]; > 0.
    token_check
        Tells a valid API token (requests carrying one are not counted); None counts
        every request but ``/healthz``.
    clock
        Monotonic clock [s], for the buckets.
    """

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        token_check: TokenCheck | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.per_minute = per_minute
        self.buckets = TokenBuckets(per_minute, clock=clock)
        self.token_check = token_check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request against its client's bucket, or answer 429."""
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        token = _credential(scope) if self.token_check is not None else None
        if token is not None and self.token_check is not None:
            valid = self.token_check.remembered(token)
            if valid is None:
                from starlette.concurrency import run_in_threadpool

                valid = await run_in_threadpool(self.token_check, token)
            if valid:
                await self.app(scope, receive, send)
                return
        wait_s = self.buckets.take(address)
        if wait_s <= 0.0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait_s))
        await _answer(
            send,
            429,
            f"rate limit: more than {self.per_minute} requests a minute from this address; "
            f"retry after {retry} s",
            as_json=_wants_json(scope),
            headers={"Retry-After": str(retry)},
        )


# ---------------------------------------------------------------- inputs

_KEY_REFUSED: Final = (
    f"got {PRIVATE_KEY_NOT_SHOWN}, expected no private key material "
    "(HashNation never needs one: give the public key, xpub/tpub, or the address)"
)
_NUL_REFUSED: Final = "got a NUL character, expected text without NUL characters"
_SURROGATE_REFUSED: Final = "got a lone UTF-16 surrogate, expected text in UTF-8"
_JSON_NUL: Final = re.compile(r"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_JSON_SURROGATE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def _text_problem(text: str) -> str | None:
    """Say what is wrong with a piece of request text (decoded), or None."""
    if "\x00" in text:
        return _NUL_REFUSED
    if private_key_kind(text) is not None:
        return _KEY_REFUSED
    return None


def _json_problem(text: str) -> str | None:
    """Say what is wrong with a JSON body's escapes (NUL, lone surrogates), or None."""
    if _JSON_NUL.search(text):
        return _NUL_REFUSED
    if _JSON_SURROGATE.search(text):
        import json

        try:
            decoded = json.loads(text)
        except ValueError:
            return None  # the route refuses it as malformed JSON
        stack = [decoded]
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError:
                    return _SURROGATE_REFUSED
            elif isinstance(node, dict):
                stack.extend(node.keys())
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return None


class InputScreen:
    """ASGI middleware: refuse (400) a request holding what HashNation never stores.

    The path, the query string (URL-decoded) and a text body (JSON, form, multipart,
    ``text/...``) are searched for private key material
    (:func:`hashnation.redaction.private_key_kind`; the answer names where it was, never the
    key), NUL characters (which PostgreSQL text cannot hold: refused on every database
    alike; not in a multipart body, whose files may be binary) and, in JSON, lone UTF-16
    surrogates (not UTF-8). The answer is
    one line, ``{"detail": "<where>: got ..., expected ..."}`` (or an HTML page).

    Parameters
    ----------
    app
        The ASGI app to guard.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Search the request; pass it on (body replayed) or answer 400."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        where, problem = "path", _text_problem(str(scope.get("path", "")))
        if problem is None and query:
            where, problem = "query", _text_problem(unquote_plus(query, errors="replace"))
        kind = (_header(scope, b"content-type") or "").lower()
        if problem is None and scope.get("method") in _UNSAFE and kind.startswith(_TEXT_BODY):
            messages: list[Message] = []
            chunks: list[bytes] = []
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks).decode("utf-8", "replace")
            if "form-urlencoded" in kind and "%" in body:
                body = unquote_plus(body, errors="replace")
            if kind.startswith("multipart/"):  # files may be binary: keys only
                where, problem = "body", _KEY_REFUSED if private_key_kind(body) else None
            else:
                where, problem = "body", _text_problem(body)
            if problem is None and "json" in kind:
                problem = _json_problem(body)
            if problem is None:
                replay = iter(messages)

                async def replayed() -> Message:
                    try:
                        return next(replay)
                    except StopIteration:
                        return await receive()

                await self.app(scope, replayed, send)
                return
        if problem is None:
            await self.app(scope, receive, send)
            return
        await _answer(send, 400, f"{where}: {problem}", as_json=_wants_json(scope))


# ---------------------------------------------------------------- browsers


class BrowserPolicy:
    """ASGI middleware: security headers, CORS for public JSON reads, cross-site posts.

    Parameters
    ----------
    app
        The ASGI app.
    cors_origins
        Origins (``https://example.org``) allowed to read the public JSON endpoints.
    is_public_json
        Tells whether ``(method, path)`` is a ``GET`` of a public JSON endpoint; None
        reads it from the app's OpenAPI document on first use.
    """

    def __init__(
        self,
        app: ASGIApp,
        cors_origins: Iterable[str] = (),
        is_public_json: Callable[[str], bool] | None = None,
    ) -> None:
        self.app = app
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)
        self._is_public_json = is_public_json

    def public_json(self, scope: Scope) -> bool:
        """Whether the request's path is a public JSON endpoint (a GET of the API)."""
        if self._is_public_json is None:
            app = scope.get("app")
            if app is None or not hasattr(app, "openapi"):
                return False
            self._is_public_json = public_json_matcher(app.openapi())
        return self._is_public_json(str(scope.get("path", "")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a cross-site post, answer an allowed preflight, add the headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "GET")).upper()
        path = str(scope.get("path", ""))
        origin = _header(scope, b"origin")
        if method in _UNSAFE and not path.startswith("/api/") and not self._same_site(scope):
            await _answer(
                send,
                403,
                "This form was not sent from this site; nothing was done.",
                as_json=_wants_json(scope),
                headers={"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"},
            )
            return
        allowed = (
            origin is not None
            and origin.rstrip("/") in self.cors_origins
            and self.public_json(scope)
        )
        if method == "OPTIONS" and origin is not None and allowed:
            wanted = (_header(scope, b"access-control-request-method") or "").upper()
            if wanted in ("GET", "HEAD"):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 204,
                        "headers": [
                            (b"access-control-allow-origin", origin.encode("latin-1")),
                            (b"access-control-allow-methods", b"GET, HEAD"),
                            (b"access-control-max-age", b"600"),
                            (b"vary", b"Origin"),
                            (b"x-content-type-options", b"nosniff"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        cors = allowed and method in ("GET", "HEAD") and origin is not None

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not bytes(k).lower().startswith(b"access-control-")
                ]
                names = {bytes(k).lower() for k, _ in headers}
                kind = next(
                    (
                        bytes(v).decode("latin-1")
                        for k, v in headers
                        if bytes(k).lower() == b"content-type"
                    ),
                    "",
                )
                extra: list[tuple[bytes, bytes]] = []
                if b"x-content-type-options" not in names:
                    extra.append((b"x-content-type-options", b"nosniff"))
                if kind.startswith("text/html"):
                    if b"content-security-policy" not in names:
                        extra.append((b"content-security-policy", FALLBACK_CSP.encode("latin-1")))
                    if b"x-frame-options" not in names:
                        extra.append((b"x-frame-options", b"DENY"))
                    if b"referrer-policy" not in names:
                        extra.append((b"referrer-policy", b"no-referrer"))
                if cors and origin is not None:
                    extra.append((b"access-control-allow-origin", origin.encode("latin-1")))
                    extra.append((b"vary", b"Origin"))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, with_headers)

    @staticmethod
    def _same_site(scope: Scope) -> bool:
        """Whether a state-changing request comes from this site (or says nothing)."""
        host = _header(scope, b"host")
        scheme = str(scope.get("scheme", "http"))
        origin = _header(scope, b"origin")
        site = _header(scope, b"sec-fetch-site")
        if site is not None:  # set by the browser itself (Fetch Metadata); scripts cannot
            return site.strip().lower() in ("same-origin", "none")
        own = _netloc(host, scheme) if host is not None else None
        if origin is not None:
            if origin.strip().lower() == "null":  # a sandboxed frame, a data: URL...
                return False
            return own is not None and _netloc(origin.strip()) == own
        referer = _header(scope, b"referer")
        if referer:
            return own is not None and _netloc(referer) == own
        return True


def public_json_matcher(openapi: Mapping[str, Any]) -> Callable[[str], bool]:
    """Build the test of "a GET of a public JSON endpoint" from an OpenAPI document.

    Parameters
    ----------
    openapi
        The app's OpenAPI document.

    Returns
    -------
    callable
        ``matcher(path) -> bool``: True for a path of a ``GET`` operation that needs no
        token (``security: []``, or none declared and no scheme in use) and whose 200
        answer is JSON.
    """
    patterns: list[re.Pattern[str]] = []
    for template, operations in (openapi.get("paths") or {}).items():
        get = operations.get("get") if isinstance(operations, Mapping) else None
        if not isinstance(get, Mapping):
            continue
        if get.get("security"):
            continue
        ok = (get.get("responses") or {}).get("200") or {}
        content = ok.get("content") or {}
        if "application/json" not in content:
            continue
        patterns.append(_template_regex(template))
    return lambda path: any(p.fullmatch(path) for p in patterns)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(
        "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
    )


def path_methods(openapi: Mapping[str, Any]) -> Callable[[str], set[str]]:
    """Build the lookup of the methods a path answers, from an OpenAPI document.

    Parameters
    ----------
    openapi
        The app's OpenAPI document.

    Returns
    -------
    callable
        ``methods(path) -> set of str``: the methods (upper case, ``HEAD`` with ``GET``)
        of the operations whose path template matches, the most specific templates (most
        literal segments: ``/records/{reference}/check`` over ``/records/{reference}/{name}``)
        only; empty for an unknown path.
    """
    table: list[tuple[re.Pattern[str], int, set[str]]] = []
    for template, operations in (openapi.get("paths") or {}).items():
        if not isinstance(operations, Mapping):
            continue
        methods = {m.upper() for m in operations if m.lower() in _HTTP_METHODS}
        if "GET" in methods:
            methods.add("HEAD")
        literal = sum(1 for part in template.split("/") if part and "{" not in part)
        table.append((_template_regex(template), literal, methods))

    def lookup(path: str) -> set[str]:
        matches = [
            (literal, methods) for pattern, literal, methods in table if pattern.fullmatch(path)
        ]
        if not matches:
            return set()
        best = max(literal for literal, _ in matches)
        return set().union(*(methods for literal, methods in matches if literal == best))

    return lookup


# ---------------------------------------------------------------- logs


class RedactingLogFilter(logging.Filter):
    """A log filter that hides private keys in a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def _install_log_filters() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingLogFilter) for f in logger.filters):
            logger.addFilter(RedactingLogFilter())


# ---------------------------------------------------------------- the app


def _redacted(node: Any) -> Any:
    if isinstance(node, str):
        return PRIVATE_KEY_NOT_SHOWN if private_key_kind(node) is not None else node
    if isinstance(node, list):
        return [_redacted(item) for item in node]
    if isinstance(node, dict):
        return {key: _redacted(value) for key, value in node.items()}
    return node


_DETAIL_JSON: Final[dict[str, Any]] = {
    "schema": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    }
}
_PAGE_HTML: Final[dict[str, Any]] = {"schema": {"type": "string"}}


def _document_guards(app: FastAPI, per_minute: int) -> None:
    """Add the guards' answers to every operation of the app's OpenAPI document.

    400 (the input screen: a private key, a NUL character), 403 on the state-changing
    pages (a cross-site post) and, with a rate limit, 429 with ``Retry-After``: each as a
    one-line JSON ``{"detail": ...}``, and on pages also as HTML. An answer the route
    already documents keeps its description and schema; only missing media types are added.
    """
    build = app.openapi
    refused = "Bad input, or a request holding a private key or a NUL character."
    cross_site = "A form sent from another site (its Origin or Referer)."
    throttled = (
        f"Too many requests from this address (more than {per_minute} a minute without an "
        "API token): wait `Retry-After` seconds."
    )

    def add(responses: dict[str, Any], code: str, text: str, *, page: bool) -> dict[str, Any]:
        answer: dict[str, Any] = responses.setdefault(code, {"description": text})
        content = answer.setdefault("content", {})
        content.setdefault("application/json", copy.deepcopy(_DETAIL_JSON))
        if page:
            content.setdefault("text/html", copy.deepcopy(_PAGE_HTML))
        return answer

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            page = not str(path).startswith("/api/")
            for method, operation in operations.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                add(responses, "400", refused, page=page)
                if page and method.upper() in _UNSAFE:
                    add(responses, "403", cross_site, page=True)
                if per_minute > 0:
                    answer = add(responses, "429", throttled, page=page)
                    answer.setdefault("headers", {})["Retry-After"] = {
                        "description": "Seconds to wait [s].",
                        "schema": {"type": "integer", "minimum": 1},
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_security(app: FastAPI, settings: WebSettings) -> None:
    """Put the guards of this module on an app.

    Parameters
    ----------
    app
        The app, its routes mounted.
    settings
        Its settings: ``rate_limit_per_minute`` (0: no limit), ``cors_origins`` and
        ``registry_db`` (whose API tokens are spared the rate limit).
    """
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import Request
    from starlette.responses import Response

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        from fastapi.encoders import jsonable_encoder

        detail = _redacted(jsonable_encoder(exc.errors()))
        return JSONResponse(status_code=422, content={"detail": detail})

    methods_of: list[Callable[[str], set[str]]] = []

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            if not methods_of:
                methods_of.append(path_methods(app.openapi()))
            methods = methods_of[0](request.url.path)
            if methods:
                exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
        return await http_exception_handler(request, exc)

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_middleware(InputScreen)
    if settings.rate_limit_per_minute > 0:
        check = TokenCheck(settings.registry_db) if settings.registry_db else None
        app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, token_check=check)
    app.add_middleware(BrowserPolicy, cors_origins=settings.cors_origins)
    _document_guards(app, max(0, settings.rate_limit_per_minute))
    _install_log_filters()
