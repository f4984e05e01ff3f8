"""``hashnation records``: stamp, upgrade, verify and inspect OpenTimestamps proofs.

The verbs mirror the ``ots`` client's::

    hashnation records stamp a.pdf b.pdf --calendar https://a.pool.opentimestamps.org
    hashnation records upgrade a.pdf.ots --calendar https://a.pool.opentimestamps.org
    hashnation records verify a.pdf.ots --headers headers.json
    hashnation records info a.pdf.ots

``stamp`` joins all files into one batch (one Merkle root submitted to every
calendar) and writes ``<file>.ots`` beside each file, only once a calendar has
answered, each file atomically. ``verify`` is offline: it trusts only the
headers in ``--headers``, a JSON file the store validates header by header
(links and proof of work)::

    {"network": "mainnet" | "regtest",
     "checkpoint": {"height": H, "header": "<160 hex>", "period_start_time": T},
     "headers": ["<160 hex of H+1>", "<160 hex of H+2>", ...]}

Exit codes: 0 verified, 1 not verified (pending, header missing, mismatch),
2 bad input (one ``error:`` line).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hashnation.anchoring import (
    AnchorInputError,
    proof_info,
    stamp_digests,
    submit_batch,
    upgrade_proof,
    verify_proof,
)
from hashnation.anchoring.calendar import DEFAULT_CALENDARS
from hashnation.chain.headers import Checkpoint, HeaderStore, chain_params
from hashnation.cli.errors import HashNationGroup
from hashnation.cli.files import replacing

__all__ = ["app", "load_header_store"]

app = typer.Typer(
    cls=HashNationGroup,
    help="Anchor records to Bitcoin with OpenTimestamps proofs (.ots) and verify them offline.",
    no_args_is_help=True,
)

CalendarOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--calendar",
        "-c",
        help="Calendar URL (repeat); the public OpenTimestamps calendars by default.",
    ),
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Network timeout per request [s].")]


def _read(path: Path, field: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AnchorInputError(field, str(path), f"a readable file ({exc.strerror})") from None


def _write(path: Path, data: bytes) -> None:
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def load_header_store(path: Path) -> HeaderStore:
    """Build a validated :class:`HeaderStore` from a headers JSON file (see module doc).

    Parameters
    ----------
    path
        The JSON file.

    Returns
    -------
    HeaderStore
        Every header checked for its link and proof of work.

    Raises
    ------
    AnchorInputError
        If the file is not that JSON shape.
    SpvError
        If a header does not link or lacks proof of work.
    """
    try:
        doc: Any = json.loads(_read(path, "headers"))
        params = chain_params(doc.get("network", "mainnet"), "headers.network")
        point = doc["checkpoint"]
        checkpoint = Checkpoint(
            int(point["height"]),
            str(point["header"]),
            point.get("chainwork"),
            point.get("period_start_time"),
        )
        headers = [str(h) for h in doc.get("headers", [])]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AnchorInputError(
            "headers", str(path), f"a headers JSON file with a checkpoint ({exc})"
        ) from None
    store = HeaderStore(checkpoint, params=params)
    store.extend(headers)
    return store


@app.command("stamp")
def stamp_command(
    files: Annotated[list[Path], typer.Argument(help="Files to stamp (one batch).")],
    calendar: CalendarOpt = None,
    timeout: TimeoutOpt = 10.0,
) -> None:
    """Stamp files: one Merkle root to the calendars, ``<file>.ots`` beside each file."""
    targets = [Path(f"{f}.ots") for f in files]
    for target in targets:
        if target.exists():
            raise AnchorInputError("file", str(target), "a proof that does not exist yet")
    digests = [hashlib.sha256(_read(f, "file")).digest() for f in files]
    batch = stamp_digests(digests)
    failures = submit_batch(batch, calendar or list(DEFAULT_CALENDARS), timeout)
    for line in failures:
        typer.echo(f"warning: {line}", err=True)
    for target, proof in zip(targets, batch.proofs(), strict=True):
        _write(target, proof)
        typer.echo(f"{target}: pending, root {batch.root.hex()}")


@app.command("upgrade")
def upgrade_command(
    proofs: Annotated[list[Path], typer.Argument(help=".ots files to upgrade in place.")],
    calendar: CalendarOpt = None,
    timeout: TimeoutOpt = 10.0,
) -> None:
    """Fetch completed attestations for pending proofs from their calendars."""
    for path in proofs:
        upgraded, merged = upgrade_proof(_read(path, "proof"), calendar, timeout)
        if merged:
            _write(path, upgraded)
            typer.echo(f"{path}: upgraded ({merged} new attestation(s))")
        else:
            typer.echo(f"{path}: unchanged (still pending or nothing new)")


@app.command("verify")
def verify_command(
    proof: Annotated[Path, typer.Argument(help="The .ots file.")],
    headers: Annotated[
        Path | None, typer.Option("--headers", help="Headers JSON file to verify against.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Stamped file (default: the proof's name less .ots)."),
    ] = None,
) -> None:
    """Verify a proof offline against stored, validated block headers."""
    data_path = file
    if data_path is None and proof.suffix == ".ots" and proof.with_suffix("").is_file():
        data_path = proof.with_suffix("")
    data = _read(data_path, "file") if data_path is not None else None
    store = load_header_store(headers) if headers is not None else None
    result = verify_proof(_read(proof, "proof"), store, data=data)
    if data is None:
        typer.echo("note: stamped file not given; only the proof itself was checked", err=True)
    for check in result.attestations:
        typer.echo(f"  {check.status}: {check.message}")
    typer.echo(f"{result.status}: {result.message}")
    if not result.ok:
        raise typer.Exit(code=1)


@app.command("info")
def info_command(proof: Annotated[Path, typer.Argument(help="The .ots file.")]) -> None:
    """Show a proof's file hash, operations and attestations (as ``ots info``)."""
    typer.echo(proof_info(_read(proof, "proof")), nl=False)
