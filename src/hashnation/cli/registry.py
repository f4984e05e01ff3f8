r"""``hashnation registry``: the virtual-asset regulator's staff console.

Every command opens the registry database (``--db``, a SQLite file by default or a
PostgreSQL URL; create it with ``registry init``) and acts as a member of staff named
by ``--actor`` (``$USER`` by default): the name written in decisions and in the
audit log. Firm actions (submit, withdraw, provide information, appeal, surrender,
filing returns) are taken on a firm's behalf with ``--as-firm FIRM_ID``; the service
checks that the firm owns the application.

::

    hashnation registry init
    hashnation registry seed
    hashnation registry firm add "Indus Exchange Ltd" --registration-number 0123456
    hashnation registry apply 1 exchange --document business_plan --document ... \
        --capital-usd 2500000
    hashnation registry act 7 submit --as-firm 1
    hashnation registry act 7 begin_review
    hashnation registry act 7 approve --condition "quarterly proof of reserves"
    hashnation registry queue
    hashnation registry returns file 7 return-2025-10.json --as-firm 1
    hashnation registry late --as-of 2025-12-31
    hashnation registry enforce 7 fine --reason "late October return" --fine-usd 25000
    hashnation registry token issue --role firm --firm 1 --label "Indus filings"
    hashnation registry audit verify --head 3f5a...
    hashnation registry export --format csv --out register.csv

Bad input prints ``error: <field>: got <value>, expected <what>`` on one line and
exits with code 2; nothing is written. ``audit verify`` exits with code 1 when the
log does not verify, naming the first entry at fault.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup
from hashnation.cli.files import safe_url, write_text_atomically
from hashnation.errors import InputError

if TYPE_CHECKING:
    from hashnation.registry.service import Principal, Registry
    from hashnation.registry.views import ApplicationView, ParticipantView

__all__ = ["DEFAULT_DB", "EXIT_BROKEN_LOG", "app", "default_actor", "open_registry"]

DEFAULT_DB: Final = "sqlite:///hashnation.db"
"""Registry database used when ``--db`` is not given: a SQLite file in the working folder."""

EXIT_BROKEN_LOG: Final = 1
"""Exit code of ``audit verify`` when the log does not verify."""

MAX_RETURN_BYTES: Final = 4 * 1024 * 1024
"""Largest return file read [bytes]."""

app = typer.Typer(
    name="registry",
    cls=HashNationGroup,
    help="Virtual-asset regulator: firms, licences, returns, enforcement, public register.",
    no_args_is_help=True,
)
firm_app = typer.Typer(
    name="firm", cls=HashNationGroup, help="Firms known to the regulator.", no_args_is_help=True
)
returns_app = typer.Typer(
    name="returns",
    cls=HashNationGroup,
    help="Periodic returns filed under licences.",
    no_args_is_help=True,
)
sandbox_app = typer.Typer(
    name="sandbox",
    cls=HashNationGroup,
    help="Regulatory sandbox: cohorts, participants, usage, exits.",
    no_args_is_help=True,
)
token_app = typer.Typer(
    name="token", cls=HashNationGroup, help="API tokens (shown once).", no_args_is_help=True
)
audit_app = typer.Typer(
    name="audit",
    cls=HashNationGroup,
    help="The registry's hash-chained audit log.",
    no_args_is_help=True,
)
app.add_typer(firm_app, name="firm")
app.add_typer(returns_app, name="returns")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        help="Registry database URL: sqlite:///hashnation.db (default) or "
        "postgresql+psycopg://user@host/db.",
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Member of staff acting (named in decisions and the audit log); "
        "$USER, or 'staff', by default.",
        show_default=False,
    ),
]
AsFirmOption = Annotated[
    int | None,
    typer.Option(
        "--as-firm",
        metavar="FIRM_ID",
        help="Act on behalf of this firm (firm actions: submit, withdraw, "
        "provide_information, appeal, surrender, filing returns).",
        show_default=False,
    ),
]


# --------------------------------------------------------------------------- helpers


def default_actor() -> str:
    """Name of the acting member of staff when ``--actor`` is not given.

    Returns
    -------
    str
        ``$USER`` when set and not blank, else ``"staff"``.
    """
    user = os.environ.get("USER", "").strip()
    return user or "staff"


def _principal(actor: str | None, as_firm: int | None = None) -> Principal:
    from hashnation.registry.service import Principal

    name = default_actor() if actor is None else actor.strip()
    if not name:
        raise InputError("--actor", actor, "a non-empty name")
    if as_firm is not None:
        if as_firm < 1:
            raise InputError("--as-firm", as_firm, "a firm id (integer >= 1)")
        return Principal.firm(as_firm, name)
    return Principal.staff(name)


def _check_database(db: str) -> None:
    """Refuse a database that does not exist or has no registry schema (nothing created)."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from hashnation.store.db import make_engine

    shown = safe_url(db)
    try:
        url = make_url(db)
    except ArgumentError:
        expected = "a database URL (sqlite:///FILE or postgresql://...)"
        raise InputError("--db", shown, expected) from None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        in_file = database not in ("", ":memory:") and not database.startswith("file:")
        if in_file and not Path(database).is_file():
            raise InputError(
                "--db", shown, "an existing registry database (run 'hashnation registry init')"
            )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = inspect(connection).has_table("registry_audit")
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", exc) or exc).split())[:200]
        raise InputError("--db", shown, f"a reachable database ({reason})") from None
    finally:
        engine.dispose()
    if not found:
        raise InputError(
            "--db", shown, "a database with the registry schema (run 'hashnation registry init')"
        )


@contextmanager
def open_registry(db: str) -> Iterator[Registry]:
    """Open the registry service on an existing, migrated database.

    Parameters
    ----------
    db
        Database URL.

    Yields
    ------
    Registry
        The service; its engine is disposed of when the block ends.

    Raises
    ------
    InputError
        Field ``--db``: not a URL, a SQLite file that does not exist, a server that
        cannot be reached, or a database without the registry schema.
    """
    from hashnation.cli.country import selected_pack
    from hashnation.countries.services import pack_registry

    pack = selected_pack()
    _check_database(db)
    with pack_registry(pack, db) as registry:
        yield registry


def _day(text: str, option: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InputError(option, text, "a day as YYYY-MM-DD") from None


def _usd(text: str, option: str, *, positive: bool = False) -> Decimal:
    try:
        amount = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise InputError(option, text, f"an amount {'> 0' if positive else '>= 0'} [USD]")
    return amount


def _documents(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}"


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _echo_application(view: ApplicationView) -> None:
    line = (
        f"application {view.id}: {view.firm_name} ({view.licence_type.value}) "
        f"is {view.status.value}"
    )
    if view.licence_number:
        line += f", licence {view.licence_number}"
    if view.conditions:
        line += f"; conditions: {'; '.join(view.conditions)}"
    typer.echo(line)
    allowed = ", ".join(action.value for action in view.allowed_actions)
    typer.echo(f"  next: {allowed or '(none: final)'}")


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    out_console().print(table)


# --------------------------------------------------------------------------- schema and data


@app.command("init")
def init_command(db: DbOption = DEFAULT_DB) -> None:
    """Create or upgrade the registry schema (Alembic migrations to head)."""
    from hashnation.store.db import upgrade

    upgrade(db)
    typer.echo(f"registry schema at head: {safe_url(db)}")


@app.command("seed")
def seed_command(db: DbOption = DEFAULT_DB, actor: ActorOption = None) -> None:
    """Fill an empty registry with example data; print the demo API tokens (shown once)."""
    from hashnation.registry.seed import seed_example

    _principal(actor)  # validates --actor before anything is written
    with open_registry(db) as registry:
        if not registry.is_empty():
            raise InputError("--db", safe_url(db), "an empty registry to seed (this one has data)")
        tokens = seed_example(registry)
        firms = len(registry.list_firms(_principal(actor), limit=None))
    typer.echo(f"seeded {safe_url(db)}: {firms} firms")
    typer.echo("demo API tokens (shown once; send as 'Authorization: Bearer <token>'):")
    for label, token in tokens.items():
        typer.echo(f"  {label}\t{token}")


# --------------------------------------------------------------------------- firms


@firm_app.command("add")
def firm_add(
    name: Annotated[str, typer.Argument(help="Legal name.")],
    registration_number: Annotated[
        str, typer.Option("--registration-number", help="Company registration number (unique).")
    ],
    commercial_name: Annotated[
        str, typer.Option("--commercial-name", help="Trading name, if different.")
    ] = "",
    lei: Annotated[
        str | None, typer.Option("--lei", help="ISO 17442 Legal Entity Identifier (20 chars).")
    ] = None,
    address: Annotated[str, typer.Option("--address", help="Registered address.")] = "",
    website: Annotated[str, typer.Option("--website", help="Website address.")] = "",
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Register a firm."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        firm = registry.register_firm(
            staff,
            name=name,
            registration_number=registration_number,
            commercial_name=commercial_name,
            lei=lei,
            address=address,
            website=website,
        )
    typer.echo(f"firm {firm.id}: {firm.name} ({firm.registration_number})")


@firm_app.command("list")
def firm_list(
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Text in the name or number.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """List firms by name (tab-separated: id, name, registration number, LEI, country)."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        firms = registry.list_firms(staff, query=query, limit=None)
    for firm in firms:
        typer.echo(
            f"{firm.id}\t{firm.name}\t{firm.registration_number}\t{firm.lei or ''}\t"
            f"{firm.home_country}"
        )


# --------------------------------------------------------------------------- applications


@app.command("apply")
def apply_command(
    firm_id: Annotated[int, typer.Argument(metavar="FIRM_ID", help="The applying firm.")],
    licence_type: Annotated[
        str,
        typer.Argument(
            metavar="LICENCE_TYPE",
            help="exchange, custodial_wallet, broker, stablecoin_issuer or advisor.",
        ),
    ],
    capital_usd: Annotated[
        str, typer.Option("--capital-usd", help="Capital the firm holds [USD].")
    ],
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            "-d",
            help="A document provided (repeat, or separate with commas).",
            show_default=False,
        ),
    ] = None,
    all_documents: Annotated[
        bool,
        typer.Option("--all-documents", help="Declare every document the licence type requires."),
    ] = False,
    as_firm: AsFirmOption = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Open a licence application (a draft; the firm submits it with 'act ID submit')."""
    from hashnation.registry.licences import licence_spec

    principal = _principal(actor, as_firm)
    capital = _usd(capital_usd, "--capital-usd")
    documents = _documents(document or [])
    with open_registry(db) as registry:
        if all_documents:
            spec = licence_spec(licence_type, registry.licences)
            documents = [*documents, *spec.required_documents]
        view = registry.open_application(
            principal, firm_id, licence_type, documents=documents, capital_usd=capital
        )
    _echo_application(view)


@app.command("act")
def act_command(
    application_id: Annotated[int, typer.Argument(metavar="APPLICATION_ID")],
    action: Annotated[
        str,
        typer.Argument(
            metavar="ACTION",
            help="begin_review, request_information, approve, refuse, grant_licence, suspend, "
            "reinstate, revoke, allow_appeal, dismiss_appeal; with --as-firm: submit, "
            "withdraw, provide_information, appeal, surrender.",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (required for some).")] = "",
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition", help="A condition attached to an approval (repeat).", show_default=False
        ),
    ] = None,
    as_firm: AsFirmOption = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Take a workflow action on an application or licence."""
    principal = _principal(actor, as_firm)
    with open_registry(db) as registry:
        view = registry.act(
            principal, application_id, action, reason=reason, conditions=tuple(condition or ())
        )
    _echo_application(view)


@app.command("applications")
def applications_command(
    firm: Annotated[int | None, typer.Option("--firm", help="Only this firm's.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """List applications and licences, oldest first (Rich table)."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        views = registry.list_applications(staff, firm_id=firm, status=status)
    _table(
        f"{len(views)} applications",
        ("id", "firm", "type", "status", "licence", "since"),
        [
            (
                str(v.id),
                v.firm_name,
                v.licence_type.value,
                v.status.value,
                v.licence_number or "",
                _when(v.status_since),
            )
            for v in views
        ],
    )


@app.command("queue")
def queue_command(db: DbOption = DEFAULT_DB, actor: ActorOption = None) -> None:
    """Show the review queue: applications waiting for staff, longest-waiting first."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        views = registry.review_queue(staff)
    staff_next = {"submit", "withdraw", "provide_information", "appeal", "surrender"}
    _table(
        f"review queue: {len(views)} waiting",
        ("id", "firm", "type", "status", "waiting since", "capital USD", "staff actions"),
        [
            (
                str(v.id),
                v.firm_name,
                v.licence_type.value,
                v.status.value,
                _when(v.status_since),
                _money(v.capital_usd),
                ", ".join(a.value for a in v.allowed_actions if a.value not in staff_next),
            )
            for v in views
        ],
    )


# --------------------------------------------------------------------------- returns


def _read_return(path: Path) -> dict[str, Any]:
    name = "RETURN.json"
    if not path.is_file():
        raise InputError(name, str(path), "an existing JSON file")
    if path.stat().st_size > MAX_RETURN_BYTES:
        raise InputError(name, str(path), f"a file of at most {MAX_RETURN_BYTES} bytes")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(name, str(path), f"a readable JSON file ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(name, str(path), "a JSON object (the return)")
    return doc


@returns_app.command("file")
def returns_file(
    application_id: Annotated[int, typer.Argument(metavar="APPLICATION_ID")],
    return_file: Annotated[Path, typer.Argument(metavar="RETURN.json")],
    as_firm: Annotated[
        int,
        typer.Option(
            "--as-firm",
            metavar="FIRM_ID",
            help="The licensed firm filing (returns are filed by the firm).",
        ),
    ],
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """File a periodic return from JSON; a period already filed becomes the next version."""
    principal = _principal(actor, as_firm)
    payload = _read_return(return_file)
    with open_registry(db) as registry:
        view = registry.file_return(principal, application_id, payload)
    typer.echo(
        f"return {view.id}: application {view.application_id}, {view.period_start} to "
        f"{view.period_end}, version {view.version}"
    )
    for breach in view.breaches:
        typer.echo(f"  breach {breach.code} ({breach.severity}): {breach.detail}")


@returns_app.command("list")
def returns_list(
    application: Annotated[
        int | None, typer.Option("--application", help="Only under this licence.")
    ] = None,
    firm: Annotated[int | None, typer.Option("--firm", help="Only this firm's.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Latest version per period.")] = False,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """List returns filed (Rich table)."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        views = registry.list_returns(
            staff, application_id=application, firm_id=firm, latest_only=latest
        )
    _table(
        f"{len(views)} returns",
        ("id", "application", "type", "period", "version", "filed", "by", "breaches"),
        [
            (
                str(v.id),
                str(v.application_id),
                v.licence_type.value,
                f"{v.period_start} to {v.period_end}",
                str(v.version),
                _when(v.filed_at),
                v.filed_by,
                ", ".join(b.code for b in v.breaches),
            )
            for v in views
        ],
    )


@app.command("late")
def late_command(
    as_of: Annotated[str, typer.Option("--as-of", help="Day the calendars are drawn, YYYY-MM-DD.")],
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """List returns due and not filed, or filed late, as of a day."""
    staff = _principal(actor)
    day = _day(as_of, "--as-of")
    with open_registry(db) as registry:
        found = registry.late_filings(staff, day)
    _table(
        f"{len(found)} late or missing returns as of {day}",
        ("application", "firm", "licence", "period", "due", "filed", "state"),
        [
            (
                str(f.application_id),
                f.firm_name,
                f.licence_number or "",
                f"{f.period_start} to {f.period_end}",
                str(f.due_on),
                "" if f.filed_on is None else str(f.filed_on),
                f.state,
            )
            for f in found
        ],
    )


# --------------------------------------------------------------------------- enforcement


@app.command("enforce")
def enforce_command(
    application_id: Annotated[int, typer.Argument(metavar="APPLICATION_ID")],
    kind: Annotated[
        str, typer.Argument(metavar="KIND", help="warning, fine, suspension or revocation.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    fine_usd: Annotated[
        str | None, typer.Option("--fine-usd", help="The fine, fines only [USD].")
    ] = None,
    breach: Annotated[
        list[str] | None,
        typer.Option("--breach", help="A breach code cited (repeat).", show_default=False),
    ] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Take an enforcement action; a suspension or revocation also moves the licence."""
    staff = _principal(actor)
    fine = None if fine_usd is None else _usd(fine_usd, "--fine-usd", positive=True)
    with open_registry(db) as registry:
        view = registry.enforce(
            staff,
            application_id,
            kind,
            reason=reason,
            fine_usd=fine,
            breach_codes=tuple(breach or ()),
        )
    line = f"enforcement {view.id}: {view.kind.value} against application {view.application_id}"
    if view.fine_usd is not None:
        line += f", fine USD {_money(view.fine_usd)}"
    typer.echo(line)


# --------------------------------------------------------------------------- sandbox


def _echo_participant(view: ParticipantView) -> None:
    typer.echo(
        f"participant {view.id}: {view.firm_name} in {view.cohort_code} ({view.product}), "
        f"{view.status} until {view.closes_on}"
    )
    for found in view.breaches:
        typer.echo(f"  breach {found.code} ({found.severity}): {found.detail}")


@sandbox_app.command("cohort-add")
def sandbox_cohort_add(
    code: Annotated[str, typer.Argument(help="Short identifier (unique).")],
    name: Annotated[str, typer.Argument(help="Name in words.")],
    opens_on: Annotated[str, typer.Option("--opens-on", help="First day, YYYY-MM-DD.")],
    max_customers: Annotated[int, typer.Option("--max-customers", help="[customers]")],
    max_volume_usd: Annotated[str, typer.Option("--max-volume-usd", help="[USD]")],
    max_duration_days: Annotated[int, typer.Option("--max-duration-days", help="[days]")],
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Open a sandbox cohort with its caps."""
    staff = _principal(actor)
    day = _day(opens_on, "--opens-on")
    volume = _usd(max_volume_usd, "--max-volume-usd", positive=True)
    with open_registry(db) as registry:
        view = registry.create_cohort(
            staff,
            code=code,
            name=name,
            opens_on=day,
            max_customers=max_customers,
            max_volume_usd=volume,
            max_duration_days=max_duration_days,
        )
    typer.echo(f"cohort {view.id}: {view.code} ({view.name}), {view.opens_on} to {view.closes_on}")


@sandbox_app.command("cohorts")
def sandbox_cohorts(db: DbOption = DEFAULT_DB, actor: ActorOption = None) -> None:
    """List sandbox cohorts."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        views = registry.list_cohorts(staff)
    _table(
        f"{len(views)} sandbox cohorts",
        ("id", "code", "name", "opens", "closes", "max customers", "max volume USD", "firms"),
        [
            (
                str(v.id),
                v.code,
                v.name,
                str(v.opens_on),
                str(v.closes_on),
                f"{v.max_customers:,}",
                _money(v.max_volume_usd),
                str(v.participants),
            )
            for v in views
        ],
    )


@sandbox_app.command("admit")
def sandbox_admit(
    cohort_id: Annotated[int, typer.Argument(metavar="COHORT_ID")],
    firm_id: Annotated[int, typer.Argument(metavar="FIRM_ID")],
    product: Annotated[str, typer.Option("--product", help="What the firm tests.")],
    admitted_on: Annotated[
        str | None, typer.Option("--admitted-on", help="Day admitted, YYYY-MM-DD (today).")
    ] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Admit a firm to a sandbox cohort."""
    staff = _principal(actor)
    day = None if admitted_on is None else _day(admitted_on, "--admitted-on")
    with open_registry(db) as registry:
        view = registry.admit_to_sandbox(
            staff, cohort_id, firm_id, product=product, admitted_on=day
        )
    _echo_participant(view)


@sandbox_app.command("usage")
def sandbox_usage(
    participant_id: Annotated[int, typer.Argument(metavar="PARTICIPANT_ID")],
    customers: Annotated[int, typer.Option("--customers", help="Customers so far.")],
    volume_usd: Annotated[str, typer.Option("--volume-usd", help="Cumulative volume [USD].")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day of the figures, YYYY-MM-DD (today).")
    ] = None,
    as_firm: AsFirmOption = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Record a participant's usage; print the caps it breaches."""
    principal = _principal(actor, as_firm)
    volume = _usd(volume_usd, "--volume-usd")
    day = None if as_of is None else _day(as_of, "--as-of")
    with open_registry(db) as registry:
        view = registry.record_sandbox_usage(
            principal, participant_id, customers=customers, volume_usd=volume, as_of=day
        )
    _echo_participant(view)


@sandbox_app.command("exit")
def sandbox_exit(
    participant_id: Annotated[int, typer.Argument(metavar="PARTICIPANT_ID")],
    decision: Annotated[str, typer.Argument(metavar="DECISION", help="graduate, extend or exit.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    extend_days: Annotated[
        int | None, typer.Option("--extend-days", help="Extension, for extend [days].")
    ] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Graduate, extend or exit a sandbox participant."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        view = registry.decide_sandbox_exit(
            staff, participant_id, decision, reason=reason, extend_days=extend_days
        )
    _echo_participant(view)


@sandbox_app.command("participants")
def sandbox_participants(
    cohort: Annotated[int | None, typer.Option("--cohort", help="Only this cohort.")] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """List sandbox participants with their latest usage."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        views = registry.list_participants(staff, cohort_id=cohort)
    _table(
        f"{len(views)} sandbox participants",
        (
            "id",
            "cohort",
            "firm",
            "product",
            "status",
            "until",
            "customers",
            "volume USD",
            "breaches",
        ),
        [
            (
                str(v.id),
                v.cohort_code,
                v.firm_name,
                v.product,
                v.status,
                str(v.closes_on),
                "" if v.customers is None else f"{v.customers:,}",
                _money(v.volume_usd),
                ", ".join(b.code for b in v.breaches),
            )
            for v in views
        ],
    )


# --------------------------------------------------------------------------- tokens


@token_app.command("issue")
def token_issue(
    role: Annotated[str, typer.Option("--role", help="staff or firm.")],
    label: Annotated[str, typer.Option("--label", help="Who holds it (named in the audit log).")],
    firm: Annotated[
        int | None, typer.Option("--firm", help="The firm a firm token acts for.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Issue an API token; it is printed once and only its SHA-256 is kept."""
    staff = _principal(actor)
    if role not in ("staff", "firm"):
        raise InputError("--role", role, "staff or firm")
    if role == "firm" and firm is None:
        raise InputError("--firm", None, "the firm a firm token acts for")
    if role == "staff" and firm is not None:
        raise InputError("--firm", firm, "no firm for a staff token")
    chosen: Literal["staff", "firm"] = "staff" if role == "staff" else "firm"
    with open_registry(db) as registry:
        token = registry.issue_token(staff, role=chosen, firm_id=firm, label=label)
    typer.echo(token)
    typer.echo("store it now: it is not shown again", err=True)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="TOKEN_ID")],
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Revoke an API token (by id, see 'token list')."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        view = registry.revoke_token(staff, token_id)
    typer.echo(f"token {view.id} ({view.label}) revoked at {_when(view.revoked_at)}")


@token_app.command("list")
def token_list(db: DbOption = DEFAULT_DB, actor: ActorOption = None) -> None:
    """List API tokens (never their text): id, role, firm, label, issued, revoked."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        views = registry.list_tokens(staff)
    for view in views:
        typer.echo(
            f"{view.id}\t{view.role}\t{'' if view.firm_id is None else view.firm_id}\t"
            f"{view.label}\t{_when(view.created_at)}\t{_when(view.revoked_at)}"
        )


# --------------------------------------------------------------------------- audit log


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        str | None,
        typer.Option("--head", metavar="HASH", help="A head hash published earlier."),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Recompute the whole hash chain; exit 1 naming the first entry that does not verify."""
    from hashnation.errors import AuditLogError

    with open_registry(db) as registry:
        try:
            check = registry.verify_audit(expected_head=head)
        except AuditLogError as exc:
            out_console().print(Text(f"✗ {exc}", style="bold red"), soft_wrap=True)
            raise typer.Exit(code=EXIT_BROKEN_LOG) from None
    out_console().print(Text(f"✓ {check.entries} entries verify"), soft_wrap=True)
    typer.echo(f"head {check.head_hash}")


@audit_app.command("log")
def audit_log(
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only about this (application:12).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Entries at most (1-1000).")] = 20,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Show the latest audit log entries, newest first."""
    staff = _principal(actor)
    with open_registry(db) as registry:
        entries = registry.audit_log(staff, subject=subject, limit=limit)
    _table(
        f"{len(entries)} audit entries",
        ("id", "recorded", "actor", "action", "subject", "hash"),
        [
            (
                str(e.id),
                _when(e.recorded_at),
                e.actor,
                e.action,
                e.subject,
                e.entry_hash[:16],
            )
            for e in entries
        ],
    )


# --------------------------------------------------------------------------- public register


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (replaced whole).")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text to search.")] = None,
    licence_type: Annotated[
        str | None, typer.Option("--licence-type", help="Only this licence type.")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Export the public register (the columns of ESMA's interim MiCA CASP register)."""
    from hashnation.registry.register import register_csv, register_json

    if fmt not in ("csv", "json"):
        raise InputError("--format", fmt, "csv or json")
    with open_registry(db) as registry:
        rows = registry.register(query=query, licence_type=licence_type, status=status, limit=None)
    if fmt == "csv":
        text = register_csv(rows)
    else:
        text = json.dumps(register_json(rows), indent=2, ensure_ascii=False) + "\n"
    write_text_atomically(out, text)
    typer.echo(f"exported {len(rows)} register entries to {out}")
