"""The public records registry, as web pages and JSON.

Pages (server-rendered, no script, same style sheet and Content-Security-Policy as
the public register, :mod:`hashnation.web.register`):

``GET /records/``
    Look a record up by reference (or the start of one) or by a version's digest.
``GET /records/{reference}``
    A record's versions, newest first: fields, digest, the version corrected and why,
    anchoring status, a download link to each version's ``.ots`` proof, and a form to
    check a proof.
``GET /records/{reference}/v{version}.ots``
    The version's proof (upgraded when there is one), for ``ots verify``.
``POST /records/{reference}/check``
    Check an uploaded ``.ots`` file (``multipart/form-data``: ``version``, ``proof``)
    against the stored digest of that version, on the server; with a header store,
    Bitcoin block attestations are checked against its headers too.

JSON under ``/api/v1/records``: ``GET ?q=`` (lookup), ``GET /{reference}`` (all
versions), ``GET /{reference}/versions/{version}``, ``GET
/{reference}/versions/{version}/proof.ots`` and ``POST
/{reference}/versions/{version}/check`` (body: the ``.ots`` bytes).
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hashnation.errors import InputError, NotFoundError
from hashnation.mining.htmlkit import escape
from hashnation.records.types import RECORD_SPECS, ProofCheck, RecordVersionView
from hashnation.web.register import html_response, nowrap, page_html, rows_table, when

if TYPE_CHECKING:
    from hashnation.chain.headers import HeaderStore
    from hashnation.records.service import RecordsRegistry

__all__ = [
    "MAX_PROOF_BYTES",
    "check_page",
    "lookup_page",
    "parse_proof_upload",
    "record_page",
    "records_router",
    "version_json",
]

MAX_PROOF_BYTES: Final = 64 * 1024
"""Largest ``.ots`` file accepted by the check form and endpoint [bytes]."""

_OTS_TYPE: Final = "application/vnd.opentimestamps.ots"
_STATUS_TEXT: Final = {
    "pending": "pending: not stamped yet",
    "stamped": "stamped: waiting for a Bitcoin block",
    "anchored": "anchored in Bitcoin",
}


def _status(view: RecordVersionView) -> str:
    text = _STATUS_TEXT[view.status]
    if view.attested_height is not None:
        text += f" (block {view.attested_height})"
    return f'<span class="status status-{escape(view.status)}">{escape(text)}</span>'


def _proof_link(view: RecordVersionView) -> str:
    if not view.has_proof:
        return '<span class="muted">none yet</span>'
    href = f"/records/{view.reference}/v{view.version}.ots"
    return f'<a href="{escape(href)}" download>{escape(f"v{view.version}.ots")}</a>'


def _search_form(q: str) -> str:
    return f"""<form class="search" id="search" method="get" action="/records/" role="search">
<label for="q">Reference or digest
<input type="search" id="q" name="q" value="{escape(q)}" maxlength="100"></label>
<button type="submit">Look up</button>
</form>"""


def lookup_page(registry: RecordsRegistry, q: str = "") -> tuple[str, int]:
    """Render the lookup page.

    Parameters
    ----------
    registry
        The records read.
    q
        Reference, start of a reference, or a version's digest (blank: no search).

    Returns
    -------
    tuple of (str, int)
        The page and its HTTP status (400 for a query that cannot be searched).
    """
    q = q.strip()[:100]
    body = _search_form(q)
    code = 200
    if q:
        try:
            found = registry.lookup(q)
        except InputError as exc:
            found = []
            code = 400
            body += f'<p class="error" role="alert" id="error">{escape(exc)}</p>'
        rows = (
            [
                f'<a href="/records/{escape(v.reference)}">{nowrap(v.reference)}</a>',
                escape(RECORD_SPECS[v.record_type].title),
                str(v.version),
                f"<code>{escape(v.digest)}</code>",
                _status(v),
            ]
            for v in found
        )
        body += rows_table(
            ["Reference", "Type", "Version", "Digest (SHA-256)", "Anchoring"],
            rows,
            table_id="results",
            empty=f"No record matches {q!r}.",
        )
    lead = (
        "Land titles, tax filing receipts, identity attestations and licence decisions, "
        "each version anchored to Bitcoin with an OpenTimestamps proof."
    )
    return page_html("Public records", body, section="records", lead=lead), code


def _version_block(view: RecordVersionView) -> str:
    fields = "".join(
        f"<dt>{escape(name.replace('_', ' '))}</dt><dd>{escape(value)}</dd>"
        for name, value in view.fields.items()
    )
    facts = [
        ("Recorded", nowrap(when(view.recorded_at)) + f" by {escape(view.recorded_by)}"),
        ("Digest (SHA-256)", f'<code class="digest">{escape(view.digest)}</code>'),
        ("Digest of", "the attached document" if view.document_sha256 else "the content below"),
        ("Anchoring", _status(view)),
        ("Proof", _proof_link(view)),
    ]
    if view.version > 1:
        facts.insert(1, ("Corrects", f"version {view.version - 1}: {escape(view.reason)}"))
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return (
        f'<section class="version" id="v{view.version}"><h2>Version {view.version}</h2>'
        f'<dl class="facts">{dl}{fields}</dl>'
        f"<details><summary>Canonical content hashed</summary>"
        f"<pre>{escape(view.content_json)}</pre></details></section>"
    )


def _check_form(reference: str, versions: list[RecordVersionView]) -> str:
    options = "".join(
        f'<option value="{v.version}">version {v.version}</option>' for v in reversed(versions)
    )
    return f"""<form class="action" id="check" method="post" enctype="multipart/form-data"
 action="/records/{escape(reference)}/check">
<h2>Check a proof</h2>
<label for="version">Version</label>
<select id="version" name="version">{options}</select>
<label for="proof">OpenTimestamps proof (.ots)</label>
<input type="file" id="proof" name="proof" accept=".ots" required>
<p><button type="submit">Check</button></p>
</form>"""


def record_page(registry: RecordsRegistry, reference: str) -> str:
    """Render a record's page: every version, newest first, and the proof check form.

    Raises
    ------
    NotFoundError
        If there is no such record.
    InputError
        If the reference is malformed.
    """
    versions = registry.history(reference)
    latest = versions[-1]
    title = f"{RECORD_SPECS[latest.record_type].title} {latest.reference}"
    body = (
        "".join(_version_block(v) for v in reversed(versions))
        + _check_form(latest.reference, versions)
        + '<p><a href="/records/">Look up another record</a></p>'
    )
    lead = (
        f"{len(versions)} version(s). A correction is a new version; "
        "earlier versions stay as they were, with their own proofs."
    )
    return page_html(title, body, section="records", lead=lead)


def check_page(reference: str, version: int, check: ProofCheck) -> str:
    """Render the result of checking an uploaded proof."""
    if check.complete:
        kind, headline = (
            "done",
            f"The proof verifies: version {version} existed by block {check.height}.",
        )
    elif check.matches_digest:
        kind, headline = "done", f"The proof is for version {version}'s digest, not yet complete."
    else:
        kind, headline = "error", f"The proof is not for version {version} of {reference}."
    body = (
        f'<p class="{kind}" role="status" id="result">{escape(headline)}</p>'
        f'<dl class="facts"><dt>Stored digest</dt><dd><code>{escape(check.digest)}</code></dd>'
        f"<dt>Detail</dt><dd>{escape(check.detail)}</dd>"
        f"<dt>Block time</dt><dd>{escape(when(check.block_time, none='-'))}</dd></dl>"
        f'<p><a href="/records/{escape(reference)}">Back to the record</a></p>'
    )
    return page_html("Proof check", body, section="records")


def _not_found(message: str) -> str:
    body = (
        f'<p class="error" role="alert" id="error">{escape(message)}</p>'
        '<p><a href="/records/">Look up a record</a></p>'
    )
    return page_html("Not found", body, section="records")


def parse_proof_upload(content_type: str, body: bytes) -> tuple[str, bytes]:
    """Read the ``version`` field and the ``proof`` file of a ``multipart/form-data`` body.

    Parameters
    ----------
    content_type
        The request's ``Content-Type`` header (with its boundary).
    body
        The request body [bytes], at most :data:`MAX_PROOF_BYTES` plus 4 KiB.

    Returns
    -------
    tuple of (str, bytes)
        The version as sent, and the proof's bytes.

    Raises
    ------
    InputError
        For another content type, a body too large, or a missing field.
    """
    if not content_type.lower().startswith("multipart/form-data"):
        raise InputError("content-type", content_type, "multipart/form-data")
    if len(body) > MAX_PROOF_BYTES + 4096:
        raise InputError("proof", f"{len(body)} bytes", f"at most {MAX_PROOF_BYTES} bytes")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    version = ""
    proof = b""
    for part in message.iter_parts() if message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "version":
            version = data.decode("utf-8", "replace").strip()
        elif name == "proof":
            proof = data
    if not proof:
        raise InputError("proof", "no file", "an .ots file")
    return version, proof


def _version_number(text: str) -> int:
    try:
        number = int(text.removeprefix("v"))
    except ValueError:
        raise InputError("version", text, "a version number (integer >= 1)") from None
    if number < 1:
        raise InputError("version", text, "a version number (integer >= 1)")
    return number


def version_json(view: RecordVersionView) -> dict[str, Any]:
    """Return a version as JSON: plain fields, times ISO 8601 UTC, the proof's URL if any."""
    proof_url = (
        f"/api/v1/records/{view.reference}/versions/{view.version}/proof.ots"
        if view.has_proof
        else None
    )
    return {
        "reference": view.reference,
        "record_type": view.record_type.value,
        "version": view.version,
        "previous_version": view.version - 1 if view.previous_id is not None else None,
        "reason": view.reason,
        "fields": dict(view.fields),
        "content_json": view.content_json,
        "content_sha256": view.content_sha256,
        "document_sha256": view.document_sha256,
        "digest": view.digest,
        "recorded_at": view.recorded_at.isoformat(),
        "recorded_by": view.recorded_by,
        "status": view.status,
        "batch_id": view.batch_id,
        "attested_height": view.attested_height,
        "proof_url": proof_url,
    }


def _check_json(check: ProofCheck) -> dict[str, Any]:
    return {
        "digest": check.digest,
        "matches_digest": check.matches_digest,
        "complete": check.complete,
        "height": check.height,
        "block_time": None if check.block_time is None else check.block_time.isoformat(),
        "detail": check.detail,
    }


def _ots(proof: bytes, reference: str, version: int) -> Response:
    name = f"{reference}-v{version}.ots"
    return Response(
        proof,
        media_type=_OTS_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


_PUBLIC: dict[str, Any] = {"security": []}
"""OpenAPI: the record routes need no token (anyone may look records up and check proofs)."""

_ERROR_JSON: Final[dict[str, Any]] = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    }
}
_HTML: Final[dict[str, Any]] = {"content": {"text/html": {"schema": {"type": "string"}}}}
_OTS: Final[dict[str, Any]] = {
    "description": "The detached OpenTimestamps proof.",
    "content": {_OTS_TYPE: {"schema": {"type": "string", "format": "binary"}}},
}


def _json_errors(**why: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a JSON route: ``{"detail": ...}`` for each code (``e400=``)."""
    return {int(code[1:]): {"description": text, **_ERROR_JSON} for code, text in why.items()}


def _html_errors(**why: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a page: an HTML page for each code (``e404=...``)."""
    return {int(code[1:]): {"description": text, **_HTML} for code, text in why.items()}


_BAD: Final = "Bad input: a reference, version or proof that is malformed."
_MISSING: Final = "No such record or version."


def records_router(registry: RecordsRegistry, headers: HeaderStore | None = None) -> APIRouter:
    """Return the public records pages and JSON endpoints.

    Parameters
    ----------
    registry
        The records served.
    headers
        Validated Bitcoin headers against which uploaded proofs' block attestations
        are checked; None checks only that a proof is for the stored digest.

    Returns
    -------
    APIRouter
        The routes listed in this module's description.
    """
    router = APIRouter(tags=["public records"])

    @router.get(
        "/records/",
        response_class=HTMLResponse,
        summary="Look up a public record",
        responses=_html_errors(e400=_BAD),
    )
    def lookup(q: str = "") -> HTMLResponse:
        """Look a record up by reference or digest (plain GET form)."""
        html, code = lookup_page(registry, q)
        return html_response(html, status_code=code)

    @router.get(
        "/records/{reference}/{proof_name}",
        summary="Download a version's .ots proof",
        response_class=Response,
        responses={200: _OTS, **_html_errors(e404=_MISSING)},
    )
    def download(reference: str, proof_name: str) -> Response:
        """Download the version's proof (upgraded when there is one)."""
        try:
            if not proof_name.endswith(".ots"):
                raise InputError("file", proof_name, "v<version>.ots")
            number = _version_number(proof_name.removesuffix(".ots"))
            return _ots(registry.proof(reference, number), reference, number)
        except (InputError, NotFoundError) as exc:
            return html_response(_not_found(str(exc)), status_code=404)

    @router.get(
        "/records/{reference}",
        response_class=HTMLResponse,
        summary="A public record",
        responses=_html_errors(e404=_MISSING),
    )
    def record(reference: str) -> HTMLResponse:
        """Show every version of a record."""
        try:
            return html_response(record_page(registry, reference))
        except (InputError, NotFoundError):
            return html_response(_not_found(f"No public record {reference!r}."), status_code=404)

    @router.post(
        "/records/{reference}/check",
        response_class=HTMLResponse,
        responses=_html_errors(e400=_BAD, e404=_MISSING),
    )
    async def check(reference: str, request: Request) -> HTMLResponse:
        """Check an uploaded .ots proof against a version's stored digest."""
        try:
            text, proof = parse_proof_upload(
                request.headers.get("content-type", ""), await request.body()
            )
            number = _version_number(text)
            result = registry.check_proof(reference, number, proof, headers)
        except NotFoundError as exc:
            return html_response(_not_found(str(exc)), status_code=404)
        except InputError as exc:
            body = (
                f'<p class="error" role="alert" id="error">{escape(exc)}</p>'
                f'<p><a href="/records/{escape(reference)}">Back to the record</a></p>'
            )
            return html_response(page_html("Proof check", body, section="records"), status_code=400)
        return html_response(check_page(reference, number, result))

    @router.get(
        "/api/v1/records",
        summary="Look up public records",
        openapi_extra=_PUBLIC,
        responses=_json_errors(e400=_BAD),
    )
    def api_lookup(q: str) -> JSONResponse:
        """Latest version of each record whose reference starts with ``q``, or digest match."""
        return JSONResponse([version_json(v) for v in registry.lookup(q)])

    @router.get(
        "/api/v1/records/{reference}",
        summary="All versions of a record",
        openapi_extra=_PUBLIC,
        responses=_json_errors(e400=_BAD, e404=_MISSING),
    )
    def api_history(reference: str) -> JSONResponse:
        """Every version, oldest first."""
        return JSONResponse([version_json(v) for v in registry.history(reference)])

    @router.get(
        "/api/v1/records/{reference}/versions/{version}",
        summary="One version",
        openapi_extra=_PUBLIC,
        responses=_json_errors(e400=_BAD, e404=_MISSING),
    )
    def api_version(reference: str, version: int) -> JSONResponse:
        """One version of a record."""
        return JSONResponse(version_json(registry.get(reference, version)))

    @router.get(
        "/api/v1/records/{reference}/versions/{version}/proof.ots",
        summary="A version's proof",
        openapi_extra=_PUBLIC,
        response_class=Response,
        responses={200: _OTS, **_json_errors(e400=_BAD, e404=_MISSING)},
    )
    def api_proof(reference: str, version: int) -> Response:
        """Download the ``.ots`` proof (upgraded when there is one)."""
        return _ots(registry.proof(reference, version), reference, version)

    @router.post(
        "/api/v1/records/{reference}/versions/{version}/check",
        summary="Check a proof",
        openapi_extra=_PUBLIC,
        responses=_json_errors(e400=_BAD, e404=_MISSING),
    )
    async def api_check(reference: str, version: int, request: Request) -> JSONResponse:
        """Check a proof (request body: the ``.ots`` bytes) against the stored digest."""
        body = await request.body()
        if len(body) > MAX_PROOF_BYTES:
            raise InputError("proof", f"{len(body)} bytes", f"at most {MAX_PROOF_BYTES} bytes")
        return JSONResponse(_check_json(registry.check_proof(reference, version, body, headers)))

    return router
