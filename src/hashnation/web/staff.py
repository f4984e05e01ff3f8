"""The regulator staff's pages: review queue, late filings, application decisions.

A staff member signs in by pasting a staff API token (issued by
:meth:`~hashnation.registry.service.Registry.issue_token`) on ``/staff/login``.
The token is checked with :meth:`~hashnation.registry.service.Registry.authenticate`
and kept in a cookie (``HttpOnly``, ``SameSite=Strict``, ``Path=/staff``, and
``Secure`` over HTTPS); it is checked again on every request, so a revoked token
signs its holder out. A firm's token, or an unknown one, is refused. Without a
valid staff cookie every ``/staff/...`` page redirects to the sign-in form.

Forms that change anything carry a CSRF token: the HMAC-SHA256 of a fixed label
keyed by the session's own token. Another site cannot compute it (the cookie is
HttpOnly and never leaves this site), and it needs no server-side state, so any
number of app processes agree on it.

Routes:

- ``GET /staff/login``, ``POST /staff/login``, ``POST /staff/logout``;
- ``GET /staff/queue``: applications waiting for staff (longest first), those
  waiting for the firm's information, and returns filed late or missing;
- ``GET /staff/applications/{id}``: one application, its decisions, audit entries
  and a form per staff action its status allows;
- ``POST /staff/applications/{id}/actions``: takes the action
  (:meth:`~hashnation.registry.service.Registry.act`) and redirects back (303);
  an error (an action another officer's decision made stale, a missing reason)
  is shown on the page with the status :func:`~hashnation.web.app.error_status`
  gives it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Final
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hashnation.errors import (
    AccessError,
    HashNationError,
    InputError,
    NotFoundError,
    TransitionError,
)
from hashnation.mining.htmlkit import escape
from hashnation.registry.licences import LICENCE_SPECS, Specs, missing_documents, rules_for
from hashnation.registry.views import ApplicationView, AuditEntryView, DecisionView, LateFiling
from hashnation.registry.workflow import REASON_REQUIRED, STAFF_ACTIONS, Action, Status
from hashnation.web.register import (
    action_label,
    html_response,
    licence_title,
    not_found_page,
    nowrap,
    page_html,
    rows_table,
    status_label,
    when,
)

if TYPE_CHECKING:
    from hashnation.registry.service import Principal, Registry

__all__ = [
    "COOKIE_NAME",
    "COOKIE_PATH",
    "SESSION_SECONDS",
    "add_staff_routes",
    "csrf_token",
]

COOKIE_NAME: Final = "hashnation_staff"
"""Name of the cookie holding the staff token."""

COOKIE_PATH: Final = "/staff"
"""The cookie is sent to the staff pages only."""

SESSION_SECONDS: Final = 8 * 3600
"""Lifetime of the sign-in cookie [s] (a working day)."""

_FORM_MAX_BYTES: Final = 16_384
_FORM_MAX_FIELDS: Final = 16
_CSRF_LABEL: Final = b"hashnation staff form v1"
_NO_STORE: Final[Mapping[str, str]] = {"Cache-Control": "no-store"}

_PAGE: Final[dict[str, Any]] = {"content": {"text/html": {"schema": {"type": "string"}}}}
_FORM_ERROR: Final[dict[str, Any]] = {
    "description": "The form body is not a URL-encoded form in UTF-8, or is too large.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        },
        "text/html": {"schema": {"type": "string"}},
    },
}


def _pages(**why: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a staff page: an HTML page for each code (``e403=...``)."""
    return {int(code[1:]): {"description": text, **_PAGE} for code, text in why.items()}


_SIGNED_OUT: Final = "Not signed in: redirected to the sign-in form."


def csrf_token(session_token: str) -> str:
    """CSRF token of a session: HMAC-SHA256 of a fixed label keyed by the session's token.

    Parameters
    ----------
    session_token
        The staff API token held in the session cookie.

    Returns
    -------
    str
        64 lowercase hex digits; reveals nothing of the session token.
    """
    return hmac.new(session_token.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


async def _form(request: Request) -> dict[str, str]:
    """Read an ``application/x-www-form-urlencoded`` body (the last value of each field)."""
    body = await request.body()
    if len(body) > _FORM_MAX_BYTES:
        raise InputError("form", f"{len(body)} bytes", f"at most {_FORM_MAX_BYTES} bytes")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=_FORM_MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise InputError("form", "request body", "a URL-encoded form in UTF-8") from None
    return dict(pairs)


FormFields = Annotated[dict[str, str], Depends(_form)]


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=dict(_NO_STORE))


def _login_page(error: str = "", *, notice: str = "") -> str:
    message = f'<p class="error" role="alert" id="error">{escape(error)}</p>' if error else ""
    if notice:
        message += f'<p class="done" role="status" id="notice">{escape(notice)}</p>'
    body = f"""{message}
<form class="action" id="login" method="post" action="/staff/login">
<label for="token">Staff API token</label>
<input type="password" id="token" name="token" autocomplete="off" spellcheck="false"
 maxlength="200" required>
<p class="small">The token is kept in a cookie sent to the staff pages only, and is
checked on every page. Firms' tokens are not accepted here.</p>
<button type="submit">Sign in</button>
</form>"""
    return page_html(
        "Staff sign-in",
        body,
        section="staff",
        lead="The review queue and licence decisions are for the regulator's staff.",
    )


def _logout_form(csrf: str) -> str:
    return (
        '<form class="inline" method="post" action="/staff/logout" id="logout">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button type="submit">Sign out</button></form>'
    )


def _days(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    return f"{max(0, (now.date() - since.date()).days):,}"


def _app_link(app: ApplicationView) -> str:
    return f'<a href="/staff/applications/{app.id}">#{app.id}</a>'


def _queue_row(app: ApplicationView, now: datetime, specs: Specs) -> list[str]:
    missing = missing_documents(app.licence_type, app.documents, specs)
    return [
        _app_link(app),
        escape(app.firm_name),
        escape(licence_title(app.licence_type, specs)),
        escape(status_label(app.status)),
        nowrap(when(app.submitted_at)),
        f'<span class="num">{_days(app.status_since, now)}</span>',
        escape(", ".join(missing)) if missing else '<span class="muted">none</span>',
    ]


def _late_row(item: LateFiling, now: datetime) -> list[str]:
    days_late = ((item.filed_on or now.date()) - item.due_on).days
    return [
        f'<a href="/staff/applications/{item.application_id}">'
        f"{nowrap(item.licence_number or f'#{item.application_id}')}</a>",
        escape(item.firm_name),
        f"{nowrap(when(item.period_start))} to {nowrap(when(item.period_end))}",
        nowrap(when(item.due_on)),
        nowrap(when(item.filed_on, none="not filed")),
        escape(f"{days_late:,}"),
        escape(item.breach.detail),
    ]


def queue_page(
    waiting: list[ApplicationView],
    with_firm: list[ApplicationView],
    late: list[LateFiling],
    *,
    now: datetime,
    staff_name: str,
    csrf: str,
    specs: Specs = LICENCE_SPECS,
) -> str:
    """Render the review queue.

    Parameters
    ----------
    waiting
        Applications waiting for staff, longest-waiting first.
    with_firm
        Applications waiting for information from the firm.
    late
        Returns filed after their due day or due and not filed.
    now
        The registry's clock (days waiting are counted to its day).
    staff_name
        The signed-in staff member.
    csrf
        The session's CSRF token (for the sign-out form).
    specs
        The regulator's licence rules (titles and required documents).

    Returns
    -------
    str
        The page.
    """
    headers = [
        "Application",
        "Firm",
        "Licence type",
        "Status",
        "Submitted",
        "Days waiting",
        "Missing documents",
    ]
    body = (
        f'<div class="bar">{_logout_form(csrf)} '
        f'<span class="small">Days counted to {escape(when(now))}.</span></div>'
        f"<h2>Waiting for staff ({len(waiting):,})</h2>"
        + rows_table(
            headers,
            (_queue_row(a, now, specs) for a in waiting),
            table_id="queue",
            empty="Nothing waits for a decision.",
        )
        + f"<h2>Waiting for the firm's information ({len(with_firm):,})</h2>"
        + rows_table(
            headers,
            (_queue_row(a, now, specs) for a in with_firm),
            table_id="information-requested",
            empty="No request for information is open.",
        )
        + f"<h2>Late and missing returns ({len(late):,})</h2>"
        + rows_table(
            ["Licence", "Firm", "Period", "Due on", "Filed on", "Days late", "Breach"],
            (_late_row(item, now) for item in late),
            table_id="late-filings",
            empty="Every return due has been filed on time.",
        )
    )
    return page_html(
        "Review queue",
        body,
        section="staff",
        lead="Applications and licences waiting for a decision, longest-waiting first.",
        staff_name=staff_name,
    )


def _action_form(app: ApplicationView, action: Action, csrf: str) -> str:
    required = action in REASON_REQUIRED
    reason_label = "Reason (required)" if required else "Reason (optional)"
    conditions = ""
    if action is Action.APPROVE:
        conditions = (
            f'<label for="conditions-{action.value}">Conditions, one per line (optional)</label>'
            f'<textarea id="conditions-{action.value}" name="conditions" rows="3"></textarea>'
        )
    return f"""<form class="action" method="post" action="/staff/applications/{app.id}/actions"
 id="action-{action.value}">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="action" value="{escape(action.value)}">
<input type="hidden" name="from_status" value="{escape(app.status.value)}">
<label for="reason-{action.value}">{escape(reason_label)}</label>
<input type="text" id="reason-{action.value}" name="reason" maxlength="2000"
{" required" if required else ""}>
{conditions}
<button type="submit">{escape(action_label(action).capitalize())}</button>
</form>"""


def _decision_row(d: DecisionView) -> list[str]:
    reason = escape(d.reason)
    if d.conditions:
        reason += "<ul>" + "".join(f"<li>{escape(c)}</li>" for c in d.conditions) + "</ul>"
    return [
        nowrap(when(d.decided_at)),
        escape(action_label(d.action)),
        escape(f"{status_label(d.from_status)} → {status_label(d.to_status)}"),
        reason,
        escape(d.actor),
    ]


def _audit_row(entry: AuditEntryView) -> list[str]:
    return [
        escape(f"{entry.id}"),
        nowrap(when(entry.recorded_at)),
        f"<code>{escape(entry.action)}</code>",
        escape(entry.actor),
        f"<code>{escape(entry.entry_hash[:16])}…</code>",
    ]


def application_page(
    app: ApplicationView,
    decisions: list[DecisionView],
    audit: list[AuditEntryView],
    *,
    now: datetime,
    staff_name: str,
    csrf: str,
    error: str = "",
    done: str = "",
    specs: Specs = LICENCE_SPECS,
) -> str:
    """Render one application for staff, with a form per staff action allowed.

    Parameters
    ----------
    app
        The application.
    decisions
        Its decisions, oldest first.
    audit
        Its audit log entries, newest first.
    now
        The registry's clock.
    staff_name
        The signed-in staff member.
    csrf
        The session's CSRF token, put in every form.
    specs
        The regulator's licence rules (titles and required documents).
    error
        An error to show (plain text), or empty.
    done
        A note on the action just taken (plain text), or empty.

    Returns
    -------
    str
        The page.
    """
    spec = rules_for(app.licence_type, specs)
    missing = missing_documents(app.licence_type, app.documents, specs)
    message = ""
    if error:
        message += f'<p class="error" role="alert" id="error">{escape(error)}</p>'
    if done:
        message += f'<p class="done" role="status" id="done">{escape(done)}</p>'
    facts = [
        ("Firm", escape(app.firm_name)),
        ("Licence type", escape(spec.title)),
        ("Status", f'<span id="app-status">{escape(status_label(app.status))}</span>'),
        ("Status since", escape(f"{when(app.status_since)} ({_days(app.status_since, now)} days)")),
        ("Submitted", escape(when(app.submitted_at, none="not yet"))),
        ("Licence number", escape(app.licence_number or "not granted")),
        ("Authorised on", escape(when(app.authorised_on, none="not authorised"))),
        (
            "Capital",
            escape(f"{app.capital_usd:,.2f} USD (minimum {spec.min_capital_usd:,.0f} USD)"),
        ),
        ("Documents provided", escape(", ".join(app.documents) or "none")),
        ("Missing documents", escape(", ".join(missing) or "none")),
        (
            "Conditions",
            "<ul>" + "".join(f"<li>{escape(c)}</li>" for c in app.conditions) + "</ul>"
            if app.conditions
            else "none",
        ),
    ]
    details = (
        '<dl class="facts" id="application">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
        + "</dl>"
    )
    actions = [a for a in app.allowed_actions if a in STAFF_ACTIONS]
    firm_only = [a for a in app.allowed_actions if a not in STAFF_ACTIONS]
    forms = "".join(_action_form(app, a, csrf) for a in actions)
    if not forms:
        forms = '<p class="muted" id="no-actions">No staff action is allowed in this status.</p>'
    if firm_only:
        names = ", ".join(action_label(a) for a in firm_only)
        forms += f'<p class="small">The firm may also: {escape(names)}.</p>'
    body = (
        message
        + '<div class="bar"><a href="/staff/queue">Back to the queue</a>'
        + f"{_logout_form(csrf)}</div>"
        + details
        + '<h2>Actions</h2><div id="actions">'
        + forms
        + "</div><h2>Decisions</h2>"
        + rows_table(
            ["When", "Action", "Status", "Reason", "By"],
            (_decision_row(d) for d in decisions),
            table_id="decisions",
            empty="No decision yet.",
        )
        + "<h2>Audit log</h2>"
        + rows_table(
            ["Entry", "Recorded", "Action", "By", "Hash"],
            (_audit_row(e) for e in audit),
            table_id="audit",
            empty="No audit entry.",
        )
    )
    return page_html(
        f"Application #{app.id}: {app.firm_name}",
        body,
        section="staff",
        staff_name=staff_name,
    )


def add_staff_routes(router: APIRouter, registry: Registry) -> None:
    """Add the staff pages to ``router``.

    Parameters
    ----------
    router
        The router of the register pages.
    registry
        The registry the pages read and act on.
    """
    from hashnation.web.app import error_status

    def staff(request: Request) -> tuple[Principal, str] | None:
        """Return the staff principal and token of the request's cookie, or None."""
        token = request.cookies.get(COOKIE_NAME)
        if not token:
            return None
        try:
            principal = registry.authenticate(token)
        except AccessError:
            return None
        return (principal, token) if principal.role == "staff" else None

    def to_login() -> RedirectResponse:
        response = _redirect("/staff/login")
        response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
        return response

    def page(html: str, status_code: int = 200) -> HTMLResponse:
        return html_response(html, status_code=status_code, headers=_NO_STORE)

    def show_application(
        principal: Principal,
        token: str,
        application_id: int,
        *,
        error: str = "",
        done: str = "",
        status_code: int = 200,
    ) -> HTMLResponse:
        try:
            app = registry.get_application(principal, application_id)
        except (NotFoundError, InputError):
            html = not_found_page(f"No application {application_id}.", section="staff")
            return page(html, 404)
        decisions = registry.list_decisions(principal, app.id)
        audit = registry.audit_log(principal, subject=f"application:{app.id}", limit=50)
        html = application_page(
            app,
            decisions,
            audit,
            now=registry.now(),
            staff_name=principal.name,
            csrf=csrf_token(token),
            specs=registry.licences,
            error=error,
            done=done,
        )
        return page(html, status_code)

    @router.get("/staff/", include_in_schema=False)
    def staff_home() -> RedirectResponse:
        """Send to the review queue."""
        return _redirect("/staff/queue")

    @router.get("/staff/login", response_class=HTMLResponse, summary="Staff sign-in form")
    def login_form(signed_out: str = "") -> HTMLResponse:
        """Show the form to paste a staff API token."""
        notice = "You are signed out." if signed_out else ""
        return page(_login_page(notice=notice))

    @router.post(
        "/staff/login",
        response_class=HTMLResponse,
        summary="Staff sign-in",
        responses={
            303: {"description": "Signed in: redirected to the review queue."},
            400: _FORM_ERROR,
            **_pages(
                e401="No token, or an unknown or revoked one.",
                e403="A firm's token, or a form sent from another site.",
            ),
        },
    )
    def login(form: FormFields, request: Request) -> Response:
        """Check a staff token and keep it in the session cookie."""
        token = form.get("token", "").strip()
        if not token:
            return page(_login_page("Paste a staff API token."), 401)
        try:
            principal = registry.authenticate(token)
        except AccessError:
            return page(_login_page("This token is not valid (unknown or revoked)."), 401)
        if principal.role != "staff":
            return page(
                _login_page("This is a firm's token; the staff pages need a staff token."), 403
            )
        response = _redirect("/staff/queue")
        response.set_cookie(
            COOKIE_NAME,
            token,
            max_age=SESSION_SECONDS,
            path=COOKIE_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    @router.post(
        "/staff/logout",
        response_class=HTMLResponse,
        summary="Staff sign-out",
        responses={
            303: {"description": "Signed out: redirected to the sign-in form."},
            400: _FORM_ERROR,
            **_pages(e403="The form's CSRF token is wrong, or it was sent from another site."),
        },
    )
    def logout(form: FormFields, request: Request) -> Response:
        """Forget the session cookie."""
        session = staff(request)
        if session is not None and not hmac.compare_digest(
            form.get("csrf", ""), csrf_token(session[1])
        ):
            return page(_login_page("The sign-out form has expired; sign out again."), 403)
        response = _redirect("/staff/login?signed_out=1")
        response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
        return response

    @router.get(
        "/staff/queue",
        response_class=HTMLResponse,
        summary="Review queue",
        responses={303: {"description": _SIGNED_OUT}},
    )
    def queue(request: Request) -> Response:
        """Applications waiting for staff, requests for information, late returns."""
        session = staff(request)
        if session is None:
            return to_login()
        principal, token = session
        now = registry.now()
        html = queue_page(
            registry.review_queue(principal),
            registry.list_applications(principal, status=Status.INFORMATION_REQUESTED),
            registry.late_filings(principal, now.date()),
            now=now,
            staff_name=principal.name,
            csrf=csrf_token(token),
            specs=registry.licences,
        )
        return page(html)

    @router.get(
        "/staff/applications/{application_id}",
        response_class=HTMLResponse,
        summary="One application, its decisions and the actions allowed",
        responses={
            303: {"description": _SIGNED_OUT},
            **_pages(e404="No such application."),
        },
    )
    def application(application_id: str, request: Request, done: str = "") -> Response:
        """Show an application with a form per staff action allowed."""
        session = staff(request)
        if session is None:
            return to_login()
        principal, token = session
        note = ""
        if done:
            try:
                note = f"Done: {action_label(Action(done))}."
            except ValueError:
                note = ""
        try:
            ident = int(application_id)
        except ValueError:
            return page(not_found_page(f"No application {application_id}.", section="staff"), 404)
        return show_application(principal, token, ident, done=note)

    @router.post(
        "/staff/applications/{application_id}/actions",
        response_class=HTMLResponse,
        summary="Take a staff action on an application",
        responses={
            303: {"description": "Done (redirected to the application), or not signed in."},
            400: _FORM_ERROR,
            **_pages(
                e403="The form's CSRF token is wrong, or it was sent from another site.",
                e404="No such application.",
                e409="The action is not allowed in the application's current status.",
                e422="The action's fields break its rules.",
            ),
        },
    )
    async def act(application_id: str, request: Request, form: FormFields) -> Response:
        """Take the action of the form and redirect back to the application."""
        session = await run_in_threadpool(staff, request)
        if session is None:
            return to_login()
        principal, token = session
        try:
            ident = int(application_id)
        except ValueError:
            return page(not_found_page(f"No application {application_id}.", section="staff"), 404)
        if not hmac.compare_digest(form.get("csrf", ""), csrf_token(token)):
            return await run_in_threadpool(
                show_application,
                principal,
                token,
                ident,
                error="This form has expired or did not come from this site; nothing was done.",
                status_code=403,
            )
        conditions = [line.strip() for line in form.get("conditions", "").splitlines()]

        def take() -> Action:
            taken = Action(form.get("action", "").strip())
            shown = form.get("from_status", "").strip()
            current = registry.get_application(principal, ident).status
            if shown and shown != current.value:
                raise TransitionError(
                    f"status: the application moved from {status_label(shown)!r} to "
                    f"{status_label(current)!r} since the page was shown; nothing was done"
                )
            registry.act(
                principal,
                ident,
                taken,
                reason=form.get("reason", ""),
                conditions=[c for c in conditions if c],
            )
            return taken

        try:
            taken = await run_in_threadpool(take)
        except (ValueError, HashNationError) as exc:
            error = (
                exc
                if isinstance(exc, HashNationError)
                else InputError("action", form.get("action", ""), "a staff action")
            )
            return await run_in_threadpool(
                show_application,
                principal,
                token,
                ident,
                error=str(error),
                status_code=error_status(error),
            )
        return _redirect(f"/staff/applications/{ident}?done={quote(taken.value)}")
