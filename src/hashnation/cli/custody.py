r"""``hashnation reserve psbt``: coordinate a multisig spend of the reserve (watch-only).

The platform builds the unsigned PSBT, reads back what each cosigner signed, combines the
copies and finalizes the transaction; it never sees a private key. Every step is appended
to the hash-chained approvals log in the database (``--db``, the ledger's database; create
it with ``hashnation reserve ledger init``).

::

    hashnation reserve psbt create reserve.json --label treasury --utxos utxos.json \
        --to tb1q...:150000 --fee-rate 5 --change-index 3 --out spend.psbt --actor ops
    hashnation reserve psbt import signed-by-a.psbt --actor ops
    hashnation reserve psbt inspect signed-by-a.psbt --reserve reserve.json --label treasury
    hashnation reserve psbt combine a.psbt b.psbt --out combined.psbt --actor ops
    hashnation reserve psbt finalize combined.psbt --out tx.hex --actor ops
    hashnation reserve psbt log SPEND_ID
    hashnation reserve psbt log-verify

PSBT files are written in BIP174's binary form (``--base64`` writes base64 text instead);
any of binary, base64 or hex is read. Files are replaced only when a command succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup
from hashnation.cli.files import replacing, safe_url
from hashnation.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hashnation.reserve.custody import PsbtSummary
    from hashnation.reserve.descriptors import WatchDescriptor

__all__ = ["app"]

app = typer.Typer(
    name="psbt",
    cls=HashNationGroup,
    help="Coordinate multisig spends of the reserve with PSBTs (no private key, ever).",
    no_args_is_help=True,
)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        help="Database URL for the approvals log: sqlite:///reserve.db (default) or "
        "postgresql+psycopg://user@host/db.",
    ),
]
ActorOption = Annotated[
    str, typer.Option("--actor", help="Who runs this step (recorded in the approvals log).")
]
Base64Option = Annotated[
    bool, typer.Option("--base64", help="Write the PSBT as base64 text instead of binary.")
]
DEFAULT_DB = "sqlite:///reserve.db"
MAX_FILE_BYTES = 32 * 1024 * 1024


# --------------------------------------------------------------------------- helpers


def _read_bytes(path: Path, name: str) -> bytes:
    if not path.is_file():
        raise InputError(name, str(path), "an existing file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(name, str(path), f"a file of at most {MAX_FILE_BYTES} bytes")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(name, str(path), f"a readable file ({exc.strerror})") from None


def _load_psbt(path: Path, name: str = "FILE.psbt") -> Any:
    from hashnation.reserve.custody import parse_psbt

    return parse_psbt(_read_bytes(path, name), field_name=f"{name} {path.name}")


def _fill_psbt(tmp: Path, psbt: Any, *, as_base64: bool) -> None:
    from hashnation.reserve.custody import psbt_to_base64, psbt_to_bytes

    if as_base64:
        tmp.write_text(psbt_to_base64(psbt) + "\n", encoding="ascii")
    else:
        tmp.write_bytes(psbt_to_bytes(psbt))


def _write_psbt(path: Path, psbt: Any, *, as_base64: bool) -> None:

    with replacing(path) as tmp:
        _fill_psbt(tmp, psbt, as_base64=as_base64)


def _descriptor(reserve_file: Path | None, label: str | None) -> WatchDescriptor | None:
    from hashnation.cli.reserve import _load_reserve
    from hashnation.reserve.descriptors import ReserveDescriptors

    if reserve_file is None and label is None:
        return None
    if reserve_file is None or label is None:
        raise InputError("--reserve/--label", label, "both a reserve file and a label, or neither")
    reserve = _load_reserve(reserve_file)
    assert isinstance(reserve, ReserveDescriptors)
    if label not in reserve:
        expected = f"one of: {', '.join(reserve)}" if len(reserve) else "a label"
        raise InputError("--label", label, expected)
    return reserve[label]


@contextmanager
def _log_session(db: str) -> Iterator[Session]:
    """Open a session on the approvals log's database, committed if the block succeeds."""
    from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

    from hashnation.store.db import session_scope

    try:
        with session_scope(db) as session:
            yield session
    except (OperationalError, ProgrammingError) as exc:
        raise InputError(
            "--db",
            safe_url(db),
            "a reachable database at the newest schema (run 'hashnation reserve ledger init "
            f"--db URL'): {type(exc.orig).__name__ if exc.orig else 'error'}",
        ) from None
    except ArgumentError:
        raise InputError("--db", safe_url(db), "a SQLAlchemy database URL") from None


def _record_signers(
    session: Session, summary: PsbtSummary, importer: str, source: str
) -> list[str]:
    """Record ``signed-by`` for each cosigner whose verified signatures are new to the log."""
    from hashnation.reserve.approvals import list_entries, record

    known = {e.actor for e in list_entries(session, summary.spend_id) if e.action == "signed-by"}
    added: list[str] = []
    for fingerprint in summary.signers:
        if fingerprint in known:
            continue
        inputs = [
            str(item.index)
            for item in summary.inputs
            if any(key.fingerprint == fingerprint for key in item.signed)
        ]
        record(
            session,
            spend_id=summary.spend_id,
            action="signed-by",
            actor=fingerprint,
            psbt_sha256=summary.psbt_sha256,
            note=f"verified signatures on inputs {', '.join(inputs)}; "
            f"from {source}, imported by {importer}",
        )
        added.append(fingerprint)
    return added


def _sat(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _print_summary(summary: PsbtSummary) -> None:
    console = out_console()
    console.print(
        Text(
            f"spend {summary.spend_id}  (PSBT v{summary.psbt_version}, sha256 "
            f"{summary.psbt_sha256[:16]}...)"
        ),
        soft_wrap=True,
    )
    inputs = Table(title="Inputs", title_justify="left")
    for name in ("#", "outpoint", "amount [sat]", "branch/index", "signed", "needs", "ok"):
        inputs.add_column(escape(name))
    for item in summary.inputs:
        where = "-" if item.descriptor_index is None else f"{item.branch}/{item.descriptor_index}"
        signed = ", ".join(key.fingerprint or key.pubkey[:16] for key in item.signed) or "-"
        needs = (
            f"{item.required_signatures} of {item.cosigner_count}"
            if item.required_signatures is not None
            else "?"
        )
        for path in item.paths[1:]:
            if path.relative_lock_blocks is not None:
                needs += f"; or {path.required_signatures} after {path.relative_lock_blocks} blocks"
            elif path.relative_lock_seconds is not None:
                needs += f"; or {path.required_signatures} after {path.relative_lock_seconds} s"
            elif path.absolute_lock_height is not None:
                needs += f"; or {path.required_signatures} from height {path.absolute_lock_height}"
            elif path.absolute_lock_time is not None:
                needs += f"; or {path.required_signatures} from time {path.absolute_lock_time}"
        ok = "final" if item.finalized else "yes" if item.satisfied else "no"
        cells = (str(item.index), item.outpoint, _sat(item.value_sat), where, signed, needs, ok)
        inputs.add_row(*(escape(cell) for cell in cells))
    console.print(inputs)
    outputs = Table(title="Outputs", title_justify="left")
    for name in ("#", "address", "amount [sat]", "change"):
        outputs.add_column(escape(name))
    for out in summary.outputs:
        change = f"yes ({out.branch}/{out.descriptor_index})" if out.is_change else "no"
        row = (str(out.index), out.address or out.script_pubkey_hex, _sat(out.amount_sat), change)
        outputs.add_row(*(escape(cell) for cell in row))
    console.print(outputs)
    rate = "?" if summary.fee_rate_sat_per_vb is None else f"{summary.fee_rate_sat_per_vb:g}"
    console.print(
        Text(
            f"fee {_sat(summary.fee_sat)} sat, {_sat(summary.vsize_vb)} vB, {rate} sat/vB; "
            f"signers: {', '.join(summary.signers) or 'none'}; "
            f"{'satisfied: ready to finalize' if summary.satisfied else 'not satisfied'}"
        ),
        soft_wrap=True,
    )


# --------------------------------------------------------------------------- commands


def _destination(text: str) -> tuple[str, int]:
    address, sep, amount = text.rpartition(":")
    if not sep or not address or not amount.isdigit():
        raise InputError("--to", text, "ADDRESS:AMOUNT_SAT, e.g. bc1q...:150000")
    return address, int(amount)


def _load_utxos(path: Path, label: str) -> list[Any]:
    from hashnation.reserve.custody import SpendableUtxo

    try:
        data = json.loads(_read_bytes(path, "--utxos").decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError("--utxos", str(path), f"a JSON file ({exc})") from None
    if isinstance(data, dict):
        data = data.get("utxos")
    if not isinstance(data, list):
        raise InputError("--utxos", str(path), "a JSON list of UTXOs (or {'utxos': [...]})")
    utxos = [SpendableUtxo.from_dict(item, field_name=f"utxos[{i}]") for i, item in enumerate(data)]
    chosen = [u for u in utxos if u.label == label]
    if not chosen:
        raise InputError("--utxos", str(path), f"at least one UTXO with label {label!r}")
    return chosen


@app.command("create")
def create_command(
    reserve_file: Annotated[Path, typer.Argument(metavar="RESERVE.json", help="Reserve file.")],
    label: Annotated[str, typer.Option("--label", help="Descriptor label to spend from.")],
    utxos_file: Annotated[Path, typer.Option("--utxos", help="JSON list of the reserve's UTXOs.")],
    to: Annotated[list[str], typer.Option("--to", help="ADDRESS:AMOUNT_SAT to pay (repeat).")],
    fee_rate: Annotated[float, typer.Option("--fee-rate", help="Fee rate [sat/vB].")],
    change_index: Annotated[
        int, typer.Option("--change-index", help="Index of the change address (branch /1/*).")
    ],
    out: Annotated[Path, typer.Option("--out", help="PSBT file to write.")],
    actor: ActorOption,
    db: DbOption = DEFAULT_DB,
    recovery: Annotated[
        bool, typer.Option("--recovery", help="Spend through the timelocked recovery path.")
    ] = False,
    as_base64: Base64Option = False,
) -> None:
    """Build the unsigned PSBT of a spend and record it as created."""
    from hashnation.reserve.approvals import record
    from hashnation.reserve.custody import build_spend, inspect_psbt

    descriptor = _descriptor(reserve_file, label)
    assert descriptor is not None
    utxos = _load_utxos(utxos_file, label)
    destinations = [_destination(text) for text in to]
    psbt = build_spend(
        descriptor,
        utxos,
        destinations,
        fee_rate,
        change_index,
        label=label,
        recovery_path=recovery,
    )
    summary = inspect_psbt(psbt, descriptor)
    with replacing(out) as tmp:  # the file replaces OUT once the log entry is committed
        _fill_psbt(tmp, psbt, as_base64=as_base64)
        with _log_session(db) as session:
            record(
                session,
                spend_id=summary.spend_id,
                action="created",
                actor=actor,
                psbt_sha256=summary.psbt_sha256,
                note=f"{len(summary.inputs)} inputs, {len(summary.outputs)} outputs, "
                f"fee {summary.fee_sat} sat; written to {out.name}",
            )
    change = [o for o in summary.outputs if o.is_change]
    typer.echo(
        f"spend {summary.spend_id}: {len(summary.inputs)} inputs, "
        f"{summary.output_total_sat - summary.change_total_sat} sat paid, "
        f"change {summary.change_total_sat} sat"
        + (f" to {change[0].address} (index {change[0].descriptor_index})" if change else "")
        + f", fee {summary.fee_sat} sat ({summary.fee_rate_sat_per_vb} sat/vB); wrote {out}"
    )


@app.command("import")
def import_command(
    psbt_file: Annotated[Path, typer.Argument(metavar="FILE.psbt", help="PSBT from a cosigner.")],
    actor: ActorOption,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Record a cosigner's PSBT: its digest, and each new cosigner with verified signatures."""
    from hashnation.reserve.approvals import list_entries, record
    from hashnation.reserve.custody import inspect_psbt

    summary = inspect_psbt(_load_psbt(psbt_file))
    bad = [item for item in summary.inputs if item.invalid_signatures]
    if bad:
        raise InputError(
            "FILE.psbt",
            psbt_file.name,
            f"signatures that verify (input {bad[0].index} has one that does not)",
        )
    with _log_session(db) as session:
        if not list_entries(session, summary.spend_id):
            raise InputError(
                "FILE.psbt",
                f"spend {summary.spend_id}",
                "a spend created here (no log entry has that spend id)",
            )
        record(
            session,
            spend_id=summary.spend_id,
            action="imported",
            actor=actor,
            psbt_sha256=summary.psbt_sha256,
            note=f"from {psbt_file.name}",
        )
        added = _record_signers(session, summary, actor, psbt_file.name)
    typer.echo(
        f"imported {psbt_file.name} for spend {summary.spend_id}; new signers: "
        f"{', '.join(added) or 'none'}; "
        f"{'satisfied' if summary.satisfied else 'not yet satisfied'}"
    )


@app.command("inspect")
def inspect_command(
    psbt_file: Annotated[Path, typer.Argument(metavar="FILE.psbt", help="PSBT file.")],
    reserve_file: Annotated[
        Path | None, typer.Option("--reserve", help="Reserve file, to recognize change.")
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="Descriptor label.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Show a PSBT's inputs, outputs, fee, and which cosigners signed (verified only)."""
    from hashnation.reserve.custody import inspect_psbt

    summary = inspect_psbt(_load_psbt(psbt_file), _descriptor(reserve_file, label))
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        _print_summary(summary)


@app.command("combine")
def combine_command(
    psbt_files: Annotated[
        list[Path], typer.Argument(metavar="A.psbt B.psbt ...", help="Copies of one PSBT.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Combined PSBT file to write.")],
    actor: ActorOption,
    db: DbOption = DEFAULT_DB,
    as_base64: Base64Option = False,
) -> None:
    """Merge cosigners' copies of one spend; record new signers and the combination."""
    from hashnation.reserve.approvals import record
    from hashnation.reserve.custody import combine_psbts, inspect_psbt

    psbts = [_load_psbt(path) for path in psbt_files]
    combined = combine_psbts(psbts)
    summary = inspect_psbt(combined)
    with replacing(out) as tmp:  # the file replaces OUT once the log entries are committed
        _fill_psbt(tmp, combined, as_base64=as_base64)
        with _log_session(db) as session:
            for path, psbt in zip(psbt_files, psbts, strict=True):
                _record_signers(session, inspect_psbt(psbt), actor, path.name)
            record(
                session,
                spend_id=summary.spend_id,
                action="combined",
                actor=actor,
                psbt_sha256=summary.psbt_sha256,
                note=f"{', '.join(p.name for p in psbt_files)} -> {out.name}",
            )
    typer.echo(
        f"combined {len(psbts)} PSBTs of spend {summary.spend_id}: signers "
        f"{', '.join(summary.signers) or 'none'}; "
        f"{'satisfied: ready to finalize' if summary.satisfied else 'not yet satisfied'}; "
        f"wrote {out}"
    )


@app.command("finalize")
def finalize_command(
    psbt_file: Annotated[Path, typer.Argument(metavar="FILE.psbt", help="Signed PSBT.")],
    out: Annotated[Path, typer.Option("--out", help="Raw transaction (hex) file to write.")],
    actor: ActorOption,
    db: DbOption = DEFAULT_DB,
    psbt_out: Annotated[
        Path | None, typer.Option("--psbt-out", help="Also write the finalized PSBT here.")
    ] = None,
) -> None:
    """Finalize a satisfied PSBT and extract the transaction (scripts verified here)."""
    from hashnation.reserve.approvals import record
    from hashnation.reserve.custody import (
        extract_transaction,
        finalize_psbt,
        psbt_sha256,
        spend_id,
    )

    final = finalize_psbt(_load_psbt(psbt_file))
    tx_hex, txid = extract_transaction(final)
    digest, sid = psbt_sha256(final), spend_id(final)
    with replacing(out) as tmp:
        tmp.write_text(tx_hex + "\n", encoding="ascii")
        with _log_session(db) as session:
            record(
                session,
                spend_id=sid,
                action="finalized",
                actor=actor,
                psbt_sha256=digest,
                note=f"from {psbt_file.name}",
            )
            record(
                session,
                spend_id=sid,
                action="extracted",
                actor=actor,
                psbt_sha256=digest,
                note=f"txid {txid}; written to {out.name}",
            )
            if psbt_out is not None:
                _write_psbt(psbt_out, final, as_base64=False)
    typer.echo(f"transaction {txid} ({len(tx_hex) // 2} bytes): wrote {out}")


@app.command("log")
def log_command(
    spend: Annotated[str, typer.Argument(metavar="SPEND_ID", help="Unsigned txid of the spend.")],
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the approvals log entries of one spend."""
    from hashnation.reserve.approvals import list_entries

    with _log_session(db) as session:
        entries = list_entries(session, spend)
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    if not entries:
        typer.echo(f"no entries for spend {spend}")
        return
    table = Table(title=f"Spend {spend}", title_justify="left")
    for name in ("id", "recorded at (UTC)", "action", "actor", "psbt sha256", "note"):
        table.add_column(name)
    for e in entries:
        cells = (
            str(e.id),
            e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.action,
            e.actor,
            e.psbt_sha256[:16],
            e.note,
        )
        table.add_row(*(escape(cell) for cell in cells))
    out_console().print(table)


@app.command("log-verify")
def log_verify_command(
    db: DbOption = DEFAULT_DB,
    head: Annotated[
        str | None, typer.Option("--head", help="A head hash published earlier, to check.")
    ] = None,
) -> None:
    """Recompute the approvals log's hash chain; fail at the first altered entry."""
    from hashnation.reserve.approvals import verify_log

    with _log_session(db) as session:
        check = verify_log(session, expected_head=head)
    typer.echo(f"approvals log verifies: {check.entries} entries, head {check.head_hash}")
