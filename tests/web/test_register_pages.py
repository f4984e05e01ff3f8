"""The public register and the staff pages in real headless Chromium, on the example book.

Every test seeds a database with :func:`~hashnation.registry.seed.seed_example`,
serves the whole app on it and compares what the pages show with what the
:class:`~hashnation.registry.service.Registry` answers from the same database.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.seed import seed_example
from hashnation.registry.service import Principal, Registry
from hashnation.registry.workflow import Status
from hashnation.web.app import WebSettings, create_app
from hashnation.web.register import PAGE_SIZE
from hashnation.web.staff import COOKIE_NAME

STAFF = Principal.staff("test officer")
INDUS = "firm:0001234"  # Indus Digital Exchange Ltd: a licensed exchange


@pytest.fixture(scope="module")
def seeded_file(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """A migrated SQLite file holding the example book, and its demo tokens."""
    path = tmp_path_factory.mktemp("register-pages") / "seeded.db"
    shutil.copyfile(sqlite_template, path)
    with Registry(f"sqlite:///{path}") as registry:
        tokens = seed_example(registry)
    return path, tokens


@pytest.fixture
def book(
    seeded_file: tuple[Path, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[Registry, dict[str, str]]]:
    """A fresh copy of the seeded SQLite book: its registry and demo tokens."""
    source, tokens = seeded_file
    path = tmp_path / "book.db"
    shutil.copyfile(source, path)
    with Registry(f"sqlite:///{path}") as registry:
        yield registry, tokens


def _serve(live_server: Callable[[Any], Any], registry: Registry) -> str:
    server = live_server(create_app(WebSettings(registry_db=str(registry.engine.url))))
    return str(server.url)


def _column(page: Any, table: str, index: int) -> list[str]:
    cells = page.locator(f"#{table} tbody tr td:nth-child({index})").all_inner_texts()
    return [cell.strip() for cell in cells]


def _errors(page: Any, *statuses: int) -> list[str]:
    """Console errors of the page, less Chromium's notes on the error statuses expected."""
    expected = {
        f"Failed to load resource: the server responded with a status of {code} "
        for code in statuses
    }
    return [e for e in page.errors if not any(e.startswith(x) for x in expected)]


def _login(page: Any, url: str, token: str) -> Any:
    page.goto(f"{url}/staff/login")
    with page.expect_navigation() as navigation:
        page.fill("#token", token)
        page.click("#login button[type=submit]")
    return navigation.value


def _grant(registry: Registry, firm_id: int, licence_type: LicenceType) -> int:
    """Open an application for a firm and carry it to a licence; return its id."""
    firm = Principal.firm(firm_id, "applicant")
    spec = LICENCE_SPECS[licence_type]
    app = registry.open_application(
        firm,
        firm_id,
        licence_type,
        documents=spec.required_documents,
        capital_usd=spec.min_capital_usd,
    )
    registry.act(firm, app.id, "submit")
    for action in ("begin_review", "approve", "grant_licence"):
        registry.act(STAFF, app.id, action)
    return app.id


# ---------------------------------------------------------------- public register


def test_search_by_name_type_and_status(
    db_url: str, live_server: Callable[[Any], Any], page: Any
) -> None:
    with Registry(db_url) as registry:
        seed_example(registry)
        url = _serve(live_server, registry)
        answer = page.goto(f"{url}/register/")
        assert answer.status == 200
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        everything = registry.register(limit=PAGE_SIZE)
        assert _column(page, "results", 1) == [r.licence_number for r in everything]
        assert f"{registry.register_count()} entries match" in page.inner_text("#count")

        cases: list[tuple[str, str, str]] = [
            ("coin", "", ""),
            ("", "exchange", ""),
            ("", "", "licensed"),
            ("ltd", "custodial_wallet", "licensed"),
            ("VA-BRK", "", ""),
        ]
        for query, licence_type, status in cases:
            page.fill("#q", query)
            page.select_option("#licence_type", licence_type)
            page.select_option("#status", status)
            with page.expect_navigation():
                page.click("#search button[type=submit]")
            expected = registry.register(
                query=query, licence_type=licence_type, status=status, limit=PAGE_SIZE
            )
            assert expected, (query, licence_type, status)
            assert _column(page, "results", 1) == [r.licence_number for r in expected]
            assert _column(page, "results", 2)[0].startswith(expected[0].entity_name)
            shown_status = {s.replace(" ", "_") for s in _column(page, "results", 4)}
            assert shown_status == {r.status for r in expected}
            total = registry.register_count(query=query, licence_type=licence_type, status=status)
            assert page.inner_text("#count").startswith(f"{total} ")
            # the form keeps what was searched
            assert page.input_value("#q") == query
            assert page.input_value("#licence_type") == licence_type
        # a search that matches nothing says so
        page.goto(f"{url}/register/?q=no-such-firm")
        assert "No entry matches" in page.inner_text("#count")
        assert page.locator("#results tbody tr").count() == 0
        # exports are linked
        assert page.get_attribute("#exports a >> nth=0", "href") == "/api/v1/register.csv"
        assert page.get_attribute("#exports a >> nth=1", "href") == "/api/v1/register.json"
        exported = page.request.get(url + page.get_attribute("#exports a >> nth=0", "href"))
        assert exported.ok
        numbers = [row["licence_number"] for row in csv.DictReader(io.StringIO(exported.text()))]
        assert numbers == [r.licence_number for r in registry.register(limit=None)]
    assert page.errors == []


def test_pagination_and_bad_filters(
    book: tuple[Registry, dict[str, str]], live_server: Callable[[Any], Any], page: Any
) -> None:
    registry, _ = book
    url = _serve(live_server, registry)
    page.goto(f"{url}/register/?per_page=4")
    assert _column(page, "results", 1) == [r.licence_number for r in registry.register(limit=4)]
    seen = []
    while True:
        seen += _column(page, "results", 1)
        nxt = page.locator("#pages a[rel=next]")
        if nxt.count() == 0:
            break
        with page.expect_navigation():
            nxt.click()
    assert seen == [r.licence_number for r in registry.register(limit=None)]
    assert "page 3 of 3" in page.inner_text("#pages")
    with page.expect_navigation():
        page.click("#pages a[rel=prev]")
    assert _column(page, "results", 1) == [
        r.licence_number for r in registry.register(limit=4, offset=4)
    ]
    answer = page.goto(f"{url}/register/?status=under_review")
    assert answer.status == 400
    assert "status" in page.inner_text("#error")
    assert _errors(page, 400) == []


def test_firm_page_shows_licences_history_and_enforcement(
    book: tuple[Registry, dict[str, str]], live_server: Callable[[Any], Any], page: Any
) -> None:
    registry, _ = book
    url = _serve(live_server, registry)
    suspended = registry.register(status="suspended", limit=None)[0]
    page.goto(f"{url}/register/?status=suspended")
    with page.expect_navigation():
        page.click(f"#results a:text-is('{suspended.entity_name}')")
    assert page.url == f"{url}/register/firm/{suspended.firm_id}"
    record = registry.firm_record(suspended.firm_id)
    assert page.inner_text("h1") == record.firm.name
    assert _column(page, "licences", 1) == [lic.licence_number for lic in record.licences]
    assert _column(page, "licences", 3) == ["suspended"]
    # the licence history: one row per decision, with the reason of the suspension
    actions = [d.action.replace("_", " ") for d in record.decisions]
    assert _column(page, "history", 3) == actions
    assert actions[:4] == ["submit", "begin review", "approve", "grant licence"]
    assert actions[-1] == "suspend"
    assert _column(page, "history", 4)[-1] == "licensed → suspended"
    assert _column(page, "history", 5)[-1] == record.decisions[-1].reason
    # the enforcement action the seed took
    assert [e.kind for e in record.enforcement] == ["suspension"]
    assert _column(page, "enforcement", 3) == ["suspension"]
    assert _column(page, "enforcement", 5) == [record.enforcement[0].reason]

    # a fine shows its amount, a licence its conditions
    records = {r.firm_id: registry.firm_record(r.firm_id) for r in registry.register(limit=None)}
    fined_id, fine = next(
        (firm_id, e) for firm_id, rec in records.items() for e in rec.enforcement if e.fine_usd
    )
    fined = records[fined_id].licences[0]
    page.goto(f"{url}/register/firm/{fined_id}")
    assert _column(page, "enforcement", 4) == [f"{fine.fine_usd:,.2f} USD"]
    assert _column(page, "enforcement", 6) == [", ".join(fine.breach_codes)]
    assert fined.conditions and fined.conditions[0] in page.inner_text("#licences")

    # unknown firms, and firms with no licence on the register, are not found
    answer = page.goto(f"{url}/register/firm/9999")
    assert answer.status == 404 and "No firm 9999" in page.inner_text("#error")
    applicant = registry.review_queue(STAFF)[0]
    assert applicant.status is Status.SUBMITTED
    answer = page.goto(f"{url}/register/firm/{applicant.firm_id}")
    assert answer.status == 404
    answer = page.goto(f"{url}/register/firm/abc")
    assert answer.status == 404
    assert _errors(page, 404) == []


# ---------------------------------------------------------------- staff pages


def test_staff_signs_in_sees_the_queue_and_begins_a_review(
    book: tuple[Registry, dict[str, str]], live_server: Callable[[Any], Any], page: Any
) -> None:
    registry, tokens = book
    url = _serve(live_server, registry)
    page.goto(f"{url}/staff/queue")
    assert page.url == f"{url}/staff/login"
    answer = _login(page, url, tokens["staff"])
    assert answer.status == 200 and page.url == f"{url}/staff/queue"
    (cookie,) = page.context.cookies()
    assert cookie["name"] == COOKIE_NAME and cookie["value"] == tokens["staff"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/staff"

    queue = registry.review_queue(STAFF)
    assert [f"#{a.id}" for a in queue] == _column(page, "queue", 1)
    assert _column(page, "queue", 2) == [a.firm_name for a in queue]
    waiting_info = registry.list_applications(STAFF, status="information_requested")
    assert _column(page, "information-requested", 1) == [f"#{a.id}" for a in waiting_info]
    late = registry.late_filings(STAFF, registry.now().date())
    assert page.locator("#late-filings tbody tr").count() == len(late) > 0

    # begin the review of the oldest submitted application, through its page
    submitted = next(a for a in queue if a.status is Status.SUBMITTED)
    before = registry.verify_audit().entries
    with page.expect_navigation():
        page.click(f"#queue a:text-is('#{submitted.id}')")
    assert page.inner_text("#app-status") == "submitted"
    with page.expect_navigation() as navigation:
        page.click("#action-begin_review button")
    assert navigation.value.status == 200
    assert page.url == f"{url}/staff/applications/{submitted.id}?done=begin_review"
    assert page.inner_text("#done") == "Done: begin review."
    assert page.inner_text("#app-status") == "under review"
    assert registry.get_application(STAFF, submitted.id).status is Status.UNDER_REVIEW
    assert registry.verify_audit().entries == before + 1
    entry = registry.audit_log(STAFF, subject=f"application:{submitted.id}", limit=1)[0]
    assert entry.action == "application.begin_review" and entry.actor == "demo staff"
    assert _column(page, "decisions", 2)[-1] == "begin review"
    assert _column(page, "audit", 3)[0] == "application.begin_review"

    # another officer acts first: the stale form is refused and says why
    registry.act(STAFF, submitted.id, "request_information", reason="Missing accounts.")
    with page.expect_navigation() as navigation:
        page.click("#action-approve button")
    assert navigation.value.status == 409
    assert "nothing was done" in page.inner_text("#error")
    assert registry.get_application(STAFF, submitted.id).status is Status.INFORMATION_REQUESTED
    assert page.locator("#action-approve").count() == 0
    assert registry.verify_audit().entries == before + 2

    # a form without the session's CSRF token changes nothing
    reply = page.request.post(
        f"{url}/staff/applications/{submitted.id}/actions",
        form={"csrf": "0" * 64, "action": "refuse", "reason": "forged"},
        max_redirects=0,
    )
    assert reply.status == 403
    assert registry.get_application(STAFF, submitted.id).status is Status.INFORMATION_REQUESTED
    assert registry.verify_audit().entries == before + 2

    # granting a licence gives it its number
    approved = next(a for a in queue if a.status is Status.APPROVED)
    page.goto(f"{url}/staff/applications/{approved.id}")
    with page.expect_navigation():
        page.click("#action-grant_licence button")
    granted = registry.get_application(STAFF, approved.id)
    assert granted.status is Status.LICENSED and granted.licence_number
    assert granted.licence_number in page.inner_text("#application")

    answer = page.goto(f"{url}/staff/applications/99999")
    assert answer.status == 404 and "No application 99999" in page.inner_text("#error")

    page.goto(f"{url}/staff/queue")
    with page.expect_navigation():
        page.click("#logout button")
    assert page.url == f"{url}/staff/login?signed_out=1"
    assert page.context.cookies() == []
    page.goto(f"{url}/staff/queue")
    assert page.url == f"{url}/staff/login"
    assert _errors(page, 403, 404, 409) == []


def test_firm_and_unknown_tokens_are_refused(
    book: tuple[Registry, dict[str, str]], live_server: Callable[[Any], Any], page: Any
) -> None:
    registry, tokens = book
    url = _serve(live_server, registry)
    answer = page.goto(f"{url}/staff/applications/1")
    assert page.url == f"{url}/staff/login" and answer.status == 200
    answer = _login(page, url, tokens[INDUS])
    assert answer.status == 403
    assert "firm's token" in page.inner_text("#error")
    assert page.context.cookies() == []
    answer = _login(page, url, "hn_" + "x" * 43)
    assert answer.status == 401
    assert "not valid" in page.inner_text("#error")
    assert page.context.cookies() == []
    # a cookie holding a firm's token opens nothing either
    page.context.add_cookies(
        [{"name": COOKIE_NAME, "value": tokens[INDUS], "url": f"{url}/staff/"}]
    )
    page.goto(f"{url}/staff/queue")
    assert page.url == f"{url}/staff/login"
    # a revoked staff token signs its holder out
    _login(page, url, tokens["staff"])
    assert page.url == f"{url}/staff/queue"
    (staff_token,) = [t for t in registry.list_tokens(STAFF) if t.role == "staff"]
    registry.revoke_token(STAFF, staff_token.id)
    page.goto(f"{url}/staff/queue")
    assert page.url == f"{url}/staff/login"
    assert _errors(page, 401, 403) == []


def test_names_are_shown_as_text_never_run(
    book: tuple[Registry, dict[str, str]], live_server: Callable[[Any], Any], page: Any
) -> None:
    registry, tokens = book
    name = "<script>alert(1)</script>"
    trading = '"><img src=x onerror=alert(2)>'
    firm = registry.register_firm(
        STAFF, name=name, registration_number="X-0001", commercial_name=trading
    )
    application = _grant(registry, firm.id, LicenceType.BROKER)
    registry.act(STAFF, application, "suspend", reason="<b>bold</b> & <i>reason</i>")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    url = _serve(live_server, registry)

    page.goto(f"{url}/register/?q=%3Cscript")
    assert _column(page, "results", 2) == [f"{name}\ntrading as {trading}"]
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    with page.expect_navigation():
        page.click("#results td:nth-child(2) a")
    assert page.inner_text("h1") == name
    assert page.title() == name
    assert _column(page, "history", 5)[-1] == "<b>bold</b> & <i>reason</i>"
    assert page.locator("script, img, b, i").count() == 0

    _login(page, url, tokens["staff"])
    page.goto(f"{url}/staff/applications/{application}")
    assert name in page.inner_text("h1")
    assert page.locator("script, img").count() == 0
    assert dialogs == []
    assert page.errors == []
