"""The public register of licensed virtual-asset service providers, as web pages.

``GET /register/`` searches the register (name, commercial name, registration
or licence number, LEI; licence type; status), a page of results at a time, and
links to the CSV and JSON exports served by the API (``/api/v1/register.csv``,
``/api/v1/register.json``). ``GET /register/firm/{firm_id}`` shows one firm's
public record (:meth:`~hashnation.registry.service.Registry.firm_record`): its
licences with their conditions, each licence's decisions and the enforcement
actions taken against it. :func:`register_router` also mounts the regulator
staff's pages (:mod:`hashnation.web.staff`).

Every page is rendered on the server from the service's views, with every
value HTML-escaped; the search is a plain GET form, so the pages work without
JavaScript. The pages carry no script at all, and their Content-Security-Policy
allows only their own style sheet (by hash) and forms posted to this site.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hashnation.errors import InputError, NotFoundError
from hashnation.mining.htmlkit import BASE_CSS, escape
from hashnation.registry.enforcement import EnforcementKind
from hashnation.registry.licences import LICENCE_SPECS, LicenceType, Specs, rules_for
from hashnation.registry.register import SERVICES, RegisterRow
from hashnation.registry.views import DecisionView, EnforcementView, FirmRecord
from hashnation.registry.workflow import PUBLIC, Action, Status

if TYPE_CHECKING:
    from hashnation.registry.service import Registry

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "EXPORT_CSV",
    "EXPORT_JSON",
    "MAX_PAGE_SIZE",
    "PAGE_SIZE",
    "REGISTER_STATUSES",
    "STYLE",
    "action_label",
    "firm_page",
    "html_response",
    "licence_title",
    "not_found_page",
    "nowrap",
    "page_html",
    "register_page",
    "register_router",
    "rows_table",
    "status_label",
    "when",
]

PAGE_SIZE: Final = 20
"""Register entries shown per page by default [entries]."""

MAX_PAGE_SIZE: Final = 200
"""Most register entries shown on one page [entries]."""

EXPORT_CSV: Final = "/api/v1/register.csv"
"""The whole register as CSV (served by the API)."""

EXPORT_JSON: Final = "/api/v1/register.json"
"""The whole register as JSON (served by the API)."""

REGISTER_STATUSES: Final[tuple[Status, ...]] = tuple(s for s in Status if s in PUBLIC)
"""Statuses found on the public register, in workflow order."""

_PAGE_CSS = """
header.site{background:#1f4e79;color:#fff;padding:8px 28px}
header.site a{color:#fff;margin-right:18px;text-decoration:none;font-weight:600}
header.site a[aria-current=page]{text-decoration:underline}
header.site .who{float:right;font-weight:400}
form.search{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:flex-end;
background:#f4f6f8;padding:12px 14px;margin:14px 0}
form.search label{display:flex;flex-direction:column;font-size:0.9em;font-weight:600}
form.search input[type=search]{min-width:22em}
input,select,textarea,button{font:inherit;padding:4px 6px}
button{cursor:pointer}
.count{color:#333}
.pages a,.pages span{margin-right:12px}
.error{background:#fdecee;border-left:4px solid #a40e26;padding:8px 12px;color:#6d0a19}
.done{background:#e8f5ec;border-left:4px solid #116329;padding:8px 12px;color:#0b4a1e}
.status{display:inline-block;padding:0 6px;border-radius:3px;background:#eef1f4;
white-space:nowrap}
.status-licensed{background:#e3f3e6;color:#0b4a1e}
.status-suspended,.status-revocation_appealed{background:#fff4d6;color:#6a4a00}
.status-revoked,.status-revocation_upheld{background:#fdecee;color:#6d0a19}
form.lookup{background:#f4f6f8;padding:12px 14px;margin:14px 0}
form.lookup input{min-width:16em}
.address{font-family:monospace;word-break:break-all}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
form.action{border:1px solid #d6d6d6;padding:10px 12px;margin:10px 0;max-width:44em}
form.action label{display:block;font-size:0.9em;margin:6px 0 2px}
form.action input[type=text],form.action textarea{width:100%;box-sizing:border-box}
form.inline{display:inline;margin-left:12px}
.bar{margin:12px 0}
.muted{color:#595959}
.nw{white-space:nowrap}
main a{color:#1a5a96}
.skip{position:absolute;left:12px;top:-80px;z-index:10;background:#fff;color:#1f4e79;
padding:8px 14px;border:2px solid #1f4e79;font-weight:600}
.skip:focus{top:8px}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,
textarea:focus-visible,summary:focus-visible{outline:3px solid #c25e00;outline-offset:2px}
header.site a:focus-visible{outline-color:#ffd27f}
main:focus{outline:none}
header.portal nav{display:flex;flex-wrap:wrap;gap:6px 22px;max-width:1180px;margin:0 auto;
padding:4px 0}
header.portal a{margin-right:0}
header.portal a:first-child{font-size:1.05em}
footer.site{max-width:1180px;margin:0 auto;padding:14px 28px 36px;color:#444;font-size:0.88em;
border-top:1px solid #d6d6d6;background:#fff}
footer.site p{margin:4px 0}
.toc{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0 4px}
.toc a{background:#eef3f8;border:1px solid #c9d6e3;border-radius:4px;padding:4px 12px;
text-decoration:none;font-weight:600}
dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:10px;
margin:10px 0 18px}
dl.figures>div{background:#f4f6f8;border-left:4px solid #f7931a;padding:8px 12px}
dl.figures dt{font-size:0.86em;color:#3d3d3d}
dl.figures dd{margin:2px 0 0;font-size:1.15em;font-weight:600}
dl.figures dd .small{display:block;font-weight:400;font-size:0.75em}
caption{text-align:left;font-weight:600;padding:4px 0 6px}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 28px;
align-items:start}
ul.links{padding-left:1.2em}
ul.links li{margin:4px 0}
.ok{color:#0b4a1e;font-weight:600}
.bad{color:#a40e26;font-weight:600}
code.wrap{word-break:break-all;font-size:0.85em}
section{margin-bottom:8px}
@media (max-width:640px){main{padding:16px 14px 40px}header.site{padding:8px 14px}
form.search input[type=search]{min-width:0;width:100%}form.search label{width:100%}
dl.figures{grid-template-columns:1fr 1fr}.cols{grid-template-columns:1fr}}
"""

STYLE: Final = BASE_CSS + _PAGE_CSS
"""The style sheet of the register, staff, records, visa and portal pages (one inline sheet)."""

_STYLE: Final = STYLE


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


CONTENT_SECURITY_POLICY: Final = (
    f"default-src 'none'; style-src {_csp_hash(_STYLE)}; img-src data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""No script; only the pages' own style sheet; forms post to this site only."""

_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


# ---------------------------------------------------------------- page parts


def status_label(status: Status | str) -> str:
    """Write a status in words (``under_review`` -> ``under review``)."""
    return str(status).replace("_", " ")


def action_label(action: Action | str) -> str:
    """Write an action in words (``begin_review`` -> ``begin review``)."""
    return str(action).replace("_", " ")


def licence_title(licence_type: LicenceType | str, specs: Specs = LICENCE_SPECS) -> str:
    """Name a licence type by its title (``exchange`` -> ``Virtual-asset exchange``).

    ``specs`` holds the regulator's licence rules (its titles); a type it does not
    grant keeps its default title.
    """
    try:
        return rules_for(licence_type, specs).title
    except InputError:
        return str(licence_type)


def when(value: date | datetime | None, *, none: str = "") -> str:
    """Format a day (``2025-07-14``) or a UTC time (``2025-07-14 09:30 UTC``).

    Parameters
    ----------
    value
        The day or the timezone-aware time, or None.
    none
        Text for None.

    Returns
    -------
    str
        ISO day, or day and minutes in UTC.
    """
    if value is None:
        return none
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def nowrap(text: str) -> str:
    """Escape ``text`` and keep it on one line (dates, licence numbers)."""
    return f'<span class="nw">{escape(text)}</span>'


def _status_badge(status: Status | str) -> str:
    value = str(status)
    return f'<span class="status status-{escape(value)}">{escape(status_label(value))}</span>'


def rows_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    table_id: str = "",
    empty: str = "None.",
) -> str:
    """Render a table whose cells are HTML already escaped by the caller.

    Parameters
    ----------
    headers
        Column headings (plain text, escaped here).
    rows
        Cells of each row, as HTML.
    table_id
        ``id`` of the ``<table>`` (or of the paragraph shown instead when empty).
    empty
        Plain text shown instead of a table without rows.

    Returns
    -------
    str
        A ``<table>`` with a ``<thead>`` and a ``<tbody>``, in a scrolling ``<div>``,
        or a paragraph saying ``empty``.
    """
    ident = f' id="{escape(table_id)}"' if table_id else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="muted"{ident}>{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return (
        f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _nav(current: str, staff_name: str | None) -> str:
    links = [
        ("/", "Home", "home"),
        ("/register/", "Public register", "register"),
        ("/records/", "Public records", "records"),
        ("/visa/", "Visa status", "visa"),
        ("/staff/queue", "Staff: review queue", "staff"),
    ]
    parts = []
    for href, text, key in links:
        mark = ' aria-current="page"' if key == current else ""
        parts.append(f'<a href="{href}"{mark}>{escape(text)}</a>')
    if staff_name is not None:
        parts.append(f'<span class="who">signed in as {escape(staff_name)}</span>')
    return "".join(parts)


def page_html(
    title: str,
    body: str,
    *,
    section: str = "register",
    lead: str = "",
    staff_name: str | None = None,
) -> str:
    """Assemble a complete page of the register or the staff area.

    Parameters
    ----------
    title
        Page title, in the tab and as the heading (escaped here).
    body
        HTML of the page's content.
    section
        ``register``, ``records``, ``visa`` or ``staff``: the navigation link marked
        current.
    lead
        Plain-text paragraph under the heading (escaped here), or empty for none.
    staff_name
        Name of the signed-in staff member, shown in the navigation bar.

    Returns
    -------
    str
        A complete HTML document (UTF-8) with one inline style sheet and no script.
    """
    lead_html = f'<p class="lead">{escape(lead)}</p>' if lead else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="site"><nav aria-label="Site">{_nav(section, staff_name)}</nav></header>
<main id="main" tabindex="-1">
<h1>{escape(title)}</h1>
{lead_html}
{body}
</main>
</body>
</html>
"""


def html_response(
    html: str, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """Wrap a page with the security headers every register and staff page carries.

    Parameters
    ----------
    html
        The page.
    status_code
        HTTP status.
    headers
        More headers (``Cache-Control``...).

    Returns
    -------
    HTMLResponse
        With :data:`CONTENT_SECURITY_POLICY`, ``no-referrer``, ``nosniff`` and
        ``X-Frame-Options: DENY``.
    """
    return HTMLResponse(html, status_code=status_code, headers={**_HEADERS, **(headers or {})})


def _options(values: Iterable[tuple[str, str]], chosen: str) -> str:
    parts = ['<option value="">any</option>']
    for value, text in values:
        mark = " selected" if value == chosen else ""
        parts.append(f'<option value="{escape(value)}"{mark}>{escape(text)}</option>')
    return "".join(parts)


def _website(url: str) -> str:
    if url.lower().startswith(("https://", "http://")):
        return f'<a href="{escape(url)}" rel="nofollow noopener noreferrer">{escape(url)}</a>'
    return escape(url)


def _usd(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f} USD"


# ---------------------------------------------------------------- register pages


def _query(q: str, licence_type: str, status: str, page: int, per_page: int) -> str:
    params = {"q": q, "licence_type": licence_type, "status": status}
    kept = {k: v for k, v in params.items() if v}
    if page > 1:
        kept["page"] = str(page)
    if per_page != PAGE_SIZE:
        kept["per_page"] = str(per_page)
    return "?" + urlencode(kept) if kept else ""


def _positive(text: str, default: int, maximum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        return default
    return min(max(value, 1), maximum)


def _search_form(q: str, licence_type: str, status: str, specs: Specs) -> str:
    types = _options(((t.value, licence_title(t, specs)) for t in specs), licence_type)
    statuses = _options(((s.value, status_label(s)) for s in REGISTER_STATUSES), status)
    return f"""<form class="search" id="search" method="get" action="/register/" role="search">
<label for="q">Name, commercial name or licence number
<input type="search" id="q" name="q" value="{escape(q)}" maxlength="200"></label>
<label for="licence_type">Licence type
<select id="licence_type" name="licence_type">{types}</select></label>
<label for="status">Status
<select id="status" name="status">{statuses}</select></label>
<button type="submit">Search</button>
</form>"""


def _result_row(row: RegisterRow, specs: Specs) -> list[str]:
    link = f"/register/firm/{row.firm_id}"
    entity = f'<a href="{link}">{escape(row.entity_name)}</a>'
    if row.commercial_name:
        entity += f'<br><span class="small">trading as {escape(row.commercial_name)}</span>'
    return [
        f'<a href="{link}">{nowrap(row.licence_number)}</a>',
        entity,
        escape(licence_title(row.licence_type, specs)),
        _status_badge(row.status),
        nowrap(when(row.authorisation_date)),
    ]


def register_page(
    registry: Registry,
    *,
    q: str = "",
    licence_type: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> tuple[str, int]:
    """Render the register search page.

    Parameters
    ----------
    registry
        The registry read.
    q
        Text searched in names and numbers (blank: every entry).
    licence_type, status
        Filters (blank: any).
    page
        Page number, from 1.
    per_page
        Entries per page [entries].

    Returns
    -------
    tuple of (str, int)
        The page and its HTTP status: 400 when a filter names no licence type or
        register status (the page then says which).
    """
    q, licence_type, status = q.strip()[:200], licence_type.strip(), status.strip()
    form = _search_form(q, licence_type, status, registry.licences)
    try:
        total = registry.register_count(query=q, licence_type=licence_type, status=status)
        pages = max(1, -(-total // per_page))
        page = min(page, pages)
        rows = registry.register(
            query=q,
            licence_type=licence_type,
            status=status,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
    except InputError as exc:
        body = form + f'<p class="error" role="alert" id="error">{escape(exc)}</p>'
        return page_html("Public register of virtual-asset service providers", body), 400
    if rows:
        first = (page - 1) * per_page + 1
        count = (
            f"{total:,} {'entry matches' if total == 1 else 'entries match'}; "
            f"showing {first:,}-{first + len(rows) - 1:,}."
        )
    else:
        count = "No entry matches."
    nav = []
    if page > 1:
        prev_q = _query(q, licence_type, status, page - 1, per_page)
        nav.append(f'<a rel="prev" href="/register/{escape(prev_q)}">previous page</a>')
    nav.append(f"<span>page {page:,} of {pages:,}</span>")
    if page < pages:
        next_q = _query(q, licence_type, status, page + 1, per_page)
        nav.append(f'<a rel="next" href="/register/{escape(next_q)}">next page</a>')
    results = rows_table(
        ["Licence number", "Entity", "Licence type", "Status", "Authorised on"],
        (_result_row(row, registry.licences) for row in rows),
        table_id="results",
        empty="No entry matches this search.",
    )
    downloads = (
        '<p id="exports">Download the whole register: '
        f'<a href="{EXPORT_CSV}">CSV</a> · <a href="{EXPORT_JSON}">JSON</a> '
        '<span class="small">(columns modelled on ESMA\'s interim MiCA register of '
        "crypto-asset service providers)</span></p>"
    )
    body = (
        form
        + f'<p class="count" id="count" role="status">{escape(count)}</p>'
        + results
        + f'<nav class="pages" id="pages" aria-label="pages">{"".join(nav)}</nav>'
        + downloads
    )
    lead = (
        f"Firms licensed by the {registry.authority}, and licences suspended, revoked or "
        "surrendered. Search by name, commercial name, registration or licence number."
    )
    return page_html("Public register of virtual-asset service providers", body, lead=lead), 200


def _decision_row(decision: DecisionView, numbers: Mapping[int, str]) -> list[str]:
    reason = escape(decision.reason)
    if decision.conditions:
        items = "".join(f"<li>{escape(c)}</li>" for c in decision.conditions)
        reason += f"<ul>{items}</ul>"
    return [
        nowrap(when(decision.decided_at.date())),
        nowrap(numbers.get(decision.application_id, "")),
        escape(action_label(decision.action)),
        f"{_status_badge(decision.from_status)} → {_status_badge(decision.to_status)}",
        reason,
    ]


def _enforcement_row(action: EnforcementView, numbers: Mapping[int, str]) -> list[str]:
    codes = ", ".join(action.breach_codes)
    return [
        nowrap(when(action.decided_on)),
        nowrap(numbers.get(action.application_id, "")),
        escape(EnforcementKind(action.kind).value),
        escape(_usd(action.fine_usd)),
        escape(action.reason),
        f"<code>{escape(codes)}</code>" if codes else "",
    ]


def firm_page(record: FirmRecord, specs: Specs = LICENCE_SPECS) -> str:
    """Render a firm's public record.

    Parameters
    ----------
    record
        The record (:meth:`~hashnation.registry.service.Registry.firm_record`).
    specs
        The regulator's licence rules (for the licence types' titles).

    Returns
    -------
    str
        The page: entity details, licences, licence history, enforcement actions.
    """
    firm = record.firm
    facts = [
        ("Legal name", escape(firm.name)),
        ("Commercial name", escape(firm.commercial_name or "none")),
        ("Registration number", escape(firm.registration_number)),
        ("LEI", escape(firm.lei or "none")),
        ("Home country", escape(firm.home_country)),
        ("Address", escape(firm.address)),
        ("Website", _website(firm.website)),
    ]
    details = '<dl class="facts" id="entity">' + "".join(
        f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts
    )
    details += "</dl>"
    numbers = {lic.id: lic.licence_number or f"application {lic.id}" for lic in record.licences}
    licences = []
    for lic in record.licences:
        conditions = "".join(f"<li>{escape(c)}</li>" for c in lic.conditions)
        services = "; ".join(SERVICES[lic.licence_type])
        licences.append(
            [
                nowrap(numbers[lic.id]),
                escape(licence_title(lic.licence_type, specs)),
                _status_badge(lic.status),
                nowrap(when(lic.authorised_on)),
                nowrap(when(lic.status_since.date())),
                f"<ul>{conditions}</ul>" if conditions else '<span class="muted">none</span>',
                f'<span class="small">{escape(services)}</span>',
            ]
        )
    body = (
        "<h2>Entity</h2>"
        + details
        + "<h2>Licences</h2>"
        + rows_table(
            [
                "Licence number",
                "Licence type",
                "Status",
                "Authorised on",
                "Status since",
                "Conditions",
                "Services",
            ],
            licences,
            table_id="licences",
        )
        + "<h2>Licence history</h2>"
        + rows_table(
            ["Date", "Licence", "Action", "Status", "Reason"],
            (_decision_row(d, numbers) for d in record.decisions),
            table_id="history",
            empty="No decision recorded.",
        )
        + "<h2>Enforcement actions</h2>"
        + rows_table(
            ["Date", "Licence", "Kind", "Fine", "Reason", "Breaches"],
            (_enforcement_row(e, numbers) for e in record.enforcement),
            table_id="enforcement",
            empty="No enforcement action.",
        )
        + '<p><a href="/register/">Back to the register</a></p>'
    )
    lead = f"Public record of {firm.name}: licences, decisions and enforcement actions."
    return page_html(firm.name, body, lead=lead)


def not_found_page(message: str, *, section: str = "register") -> str:
    """Render a "not found" page saying ``message`` (escaped here)."""
    body = (
        f'<p class="error" role="alert" id="error">{escape(message)}</p>'
        '<p><a href="/register/">Search the public register</a></p>'
    )
    return page_html("Not found", body, section=section)


# ---------------------------------------------------------------- router


_HTML: Final[dict[str, Any]] = {"content": {"text/html": {"schema": {"type": "string"}}}}
"""OpenAPI content of a page's error answer."""


def register_router(registry: Registry) -> APIRouter:
    """Return the routes of the public register and of the regulator staff's pages.

    Parameters
    ----------
    registry
        The registry the pages read and act on.

    Returns
    -------
    APIRouter
        ``GET /register/`` (search), ``GET /register/firm/{firm_id}`` (a firm's
        public record) and the ``/staff/...`` pages of
        :func:`hashnation.web.staff.add_staff_routes`.
    """
    router = APIRouter(tags=["register pages"])

    @router.get(
        "/register/",
        response_class=HTMLResponse,
        summary="Public register search",
        responses={400: {"description": "A filter that is not one of the register's.", **_HTML}},
    )
    def search(
        q: str = "",
        licence_type: str = "",
        status: str = "",
        page: str = "1",
        per_page: str = str(PAGE_SIZE),
    ) -> HTMLResponse:
        """Search the public register (plain GET form)."""
        html, code = register_page(
            registry,
            q=q,
            licence_type=licence_type,
            status=status,
            page=_positive(page, 1, 1_000_000),
            per_page=_positive(per_page, PAGE_SIZE, MAX_PAGE_SIZE),
        )
        return html_response(html, status_code=code)

    @router.get(
        "/register/firm/{firm_id}",
        response_class=HTMLResponse,
        summary="A firm's public record",
        responses={404: {"description": "No such firm on the public register.", **_HTML}},
    )
    def firm(firm_id: str) -> HTMLResponse:
        """Show a firm's licences, their history and enforcement actions."""
        try:
            record = registry.firm_record(int(firm_id))
        except (ValueError, NotFoundError):
            return html_response(
                not_found_page(f"No firm {firm_id} on the public register."), status_code=404
            )
        return html_response(firm_page(record, registry.licences))

    from hashnation.web.staff import add_staff_routes

    add_staff_routes(router, registry)
    return router
