r"""``hashnation public-records``: the public records registry from the command line.

Every command opens a migrated database (``--db``, a SQLite file by default or a
PostgreSQL URL; create it with ``hashnation registry init``) and acts as ``--actor``
(``$USER`` by default), the name written with each version and in the audit log.

::

    hashnation public-records add land_title LT-LHR-2026-000123 \
        --field parcel_id=LHR-0042-17 --field district=Lahore --field area_m2=512.5 \
        --field owner="Ayesha Khan" --field registered_on=2026-02-27 [--document deed.pdf]
    hashnation public-records correct LT-LHR-2026-000123 --field ... --reason "re-surveyed"
    hashnation public-records show LT-LHR-2026-000123 [--json]
    hashnation public-records anchor --calendar https://a.pool.opentimestamps.org
    hashnation public-records proof LT-LHR-2026-000123 2 --out v2.ots

A correction gives every field again (not a difference) and a reason; stored versions
are never edited. ``anchor`` stamps every pending version in one batch and submits
the batch's root to the calendars (network). Bad input prints ``error: <field>: got
<value>, expected <what>`` on one line and exits with code 2; nothing is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.markup import escape
from rich.table import Table

from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup
from hashnation.cli.files import replacing, safe_url
from hashnation.errors import InputError

if TYPE_CHECKING:
    from hashnation.records.service import RecordsRegistry

__all__ = ["DEFAULT_DB", "MAX_DOCUMENT_BYTES", "app", "open_records"]

DEFAULT_DB: Final = "sqlite:///hashnation.db"
"""Database used when ``--db`` is not given: a SQLite file in the working folder."""

MAX_DOCUMENT_BYTES: Final = 64 * 1024 * 1024
"""Largest document read for ``--document`` [bytes]."""

app = typer.Typer(
    name="public-records",
    cls=HashNationGroup,
    help="Public records: land titles, tax receipts, attestations, licence decisions.",
    no_args_is_help=True,
)

DbOption = Annotated[str, typer.Option("--db", help="Database URL (migrated).")]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Who acts ($USER by default).")]
FieldOption = Annotated[
    list[str] | None, typer.Option("--field", "-f", help="A field as NAME=VALUE (repeat).")
]
DocumentOption = Annotated[
    Path | None, typer.Option("--document", help="The record's document (its SHA-256 is anchored).")
]


@contextmanager
def open_records(db: str) -> Iterator[RecordsRegistry]:
    """Open the records service on an existing, migrated database.

    Raises
    ------
    InputError
        Field ``--db``: a SQLite file that does not exist, or a database without
        the records schema.
    """
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from hashnation.records.service import RecordsRegistry

    shown = safe_url(db)
    try:
        url = make_url(db)
    except ArgumentError:
        raise InputError(
            "--db", shown, "a database URL (sqlite:///FILE or postgresql://...)"
        ) from None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database not in ("", ":memory:") and not Path(database).is_file():
            raise InputError("--db", shown, "an existing database (run 'hashnation registry init')")
    with RecordsRegistry(db) as records:
        try:
            with records.engine.connect() as connection:
                found = inspect(connection).has_table("record_versions")
        except SQLAlchemyError as exc:
            reason = " ".join(str(getattr(exc, "orig", exc) or exc).split())[:200]
            raise InputError("--db", shown, f"a reachable database ({reason})") from None
        if not found:
            raise InputError("--db", shown, "a database migrated to the records schema")
        yield records


def _actor(actor: str | None) -> str:
    name = (os.environ.get("USER", "").strip() or "staff") if actor is None else actor.strip()
    if not name:
        raise InputError("--actor", actor, "a non-empty name")
    return name


def _fields(pairs: list[str] | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError("--field", pair, "NAME=VALUE")
        fields[name.strip()] = value
    return fields


def _document(path: Path | None) -> bytes | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError("--document", str(path), "an existing file")
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise InputError("--document", str(path), f"a file of at most {MAX_DOCUMENT_BYTES} bytes")
    return path.read_bytes()


@app.command("add")
def add(
    record_type: Annotated[str, typer.Argument(help="land_title, tax_filing_receipt, ...")],
    reference: Annotated[str, typer.Argument(help="New public reference.")],
    field: FieldOption = None,
    document: DocumentOption = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Store version 1 of a new record."""
    content = _document(document)
    with open_records(db) as records:
        view = records.add(
            _actor(actor),
            record_type=record_type,
            reference=reference,
            fields=_fields(field),
            document=content,
        )
    out_console().print(f"{escape(view.reference)} v{view.version} digest {view.digest}")


@app.command("correct")
def correct(
    reference: Annotated[str, typer.Argument(help="The record's reference.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is corrected.")],
    field: FieldOption = None,
    document: DocumentOption = None,
    expected_version: Annotated[
        int | None, typer.Option("--expected-version", help="Refuse if not the latest.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Store a correction: a new version pointing to the latest one."""
    content = _document(document)
    with open_records(db) as records:
        view = records.correct(
            _actor(actor),
            reference=reference,
            fields=_fields(field),
            reason=reason,
            document=content,
            expected_version=expected_version,
        )
    out_console().print(f"{escape(view.reference)} v{view.version} digest {view.digest}")


@app.command("show")
def show(
    reference: Annotated[str, typer.Argument(help="The record's reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Show every version of a record, with its digest and anchoring status."""
    from hashnation.web.records import version_json

    with open_records(db) as records:
        versions = records.history(reference)
    if as_json:
        typer.echo(json.dumps([version_json(v) for v in versions], indent=2))
        return
    table = Table(title=f"{versions[-1].record_type.value} {versions[-1].reference}")
    for column in ("version", "recorded", "digest", "status", "reason"):
        table.add_column(column)
    for view in versions:
        table.add_row(
            str(view.version),
            view.recorded_at.strftime("%Y-%m-%d %H:%M UTC"),
            view.digest,
            view.status,
            escape(view.reason),
        )
    out_console().print(table)


@app.command("anchor")
def anchor(
    calendar: Annotated[
        list[str] | None, typer.Option("--calendar", help="Calendar URL (repeat).")
    ] = None,
    timeout_s: Annotated[float, typer.Option("--timeout", help="Per calendar [s].")] = 10.0,
    db: DbOption = DEFAULT_DB,
    actor: ActorOption = None,
) -> None:
    """Stamp every pending version in one batch and submit its root to calendars."""
    from hashnation.anchoring.calendar import DEFAULT_CALENDARS
    from hashnation.records.service import calendar_attester

    urls = list(calendar or DEFAULT_CALENDARS)
    with open_records(db) as records:
        batch = records.anchor_pending(_actor(actor), calendar_attester(urls, timeout_s))
    if batch is None:
        out_console().print("nothing pending")
        return
    out_console().print(f"batch {batch.id}: {batch.leaf_count} versions, root {batch.merkle_root}")


@app.command("proof")
def proof(
    reference: Annotated[str, typer.Argument(help="The record's reference.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the .ots file.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write a version's .ots proof (upgraded when there is one) to a file."""
    with open_records(db) as records:
        data = records.proof(reference, version)
    with replacing(out) as temporary:
        temporary.write_bytes(data)
    out_console().print(f"wrote {escape(str(out))} ({len(data)} bytes)")
