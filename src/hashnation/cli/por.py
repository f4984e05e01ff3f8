"""``hashnation por``: proof of reserves and liabilities for licensed custodians.

::

    hashnation por build balances.csv --height 900000 --out out/por --custodian acme
    hashnation por challenge out/por/root.json --address bc1q...
    hashnation por attest out/por/root.json reserves.json --esplora URL --out att.json
    hashnation por verify-inclusion out/por/proofs/alice.json --root out/por/root.json
    hashnation por audit out/por --reserves reserves.json --attestation att.json
    hashnation por verify-bitmex liabilities.csv --account 2 --account-nonce HEX

Bad input prints one ``error: ...`` line and exits 2; a proof that does not
hold prints ``✗`` lines and exits 1.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from hashnation.cli.chainopts import (
    BitcoindOption,
    ElectrumOption,
    EsploraOption,
    MinConfirmationsOption,
    chain_source,
    genesis_store,
)
from hashnation.cli.errors import HashNationGroup
from hashnation.cli.files import write_text_atomically
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.liabilities import Check

__all__ = ["app"]

EXIT_FAILED = 1
"""Exit code when a proof was checked and does not hold."""
BUILD_FILES = ("root.json", "leaves.csv", "proofs")
"""What ``por build`` writes into ``--out``."""

app = typer.Typer(
    name="por",
    cls=HashNationGroup,
    help="Proof of reserves and liabilities: build, verify, audit, attest.",
    no_args_is_help=True,
)


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _print_checks(checks: Iterable[Check]) -> bool:
    ok = True
    for check in checks:
        detail = f" ({check.detail})" if check.detail and not check.ok else ""
        typer.echo(f"{_mark(check.ok)} {check.name}{detail}")
        ok = ok and check.ok
    return ok


def _read_secret(path: Path | None) -> tuple[bytes, bool]:
    if path is None:
        return secrets.token_bytes(32), False
    try:
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError):
        raise ProofInputError("--secret-file", str(path), "a readable file of hex digits") from None
    if len(secret) < 32:
        raise ProofInputError("--secret-file", f"{len(secret)} bytes", "at least 32 bytes (64 hex)")
    return secret, True


def _check_empty_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ProofInputError(
            "--out", str(out), "a new or empty folder (a published proof set is never overwritten)"
        )


@app.command("build")
def build_command(
    balances_file: Annotated[Path, typer.Argument(help="CSV: customer_id,asset,amount.")],
    height: Annotated[int, typer.Option("--height", help="Block height of the balances.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="New or empty output folder.")],
    custodian: Annotated[str, typer.Option("--custodian", help="Custodian id.")] = "unnamed",
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret-file", help="Custodian secret (hex, >= 32 bytes); random if absent."
        ),
    ] = None,
    split: Annotated[int, typer.Option("--split", help="Leaves per balance (1-64).")] = 1,
    workers: Annotated[
        int, typer.Option("--workers", help="Hashing processes (default: up to 2).")
    ] = 0,
) -> None:
    """Build the liabilities trees; write root.json, leaves.csv and proofs/<id>.json."""
    from hashnation.mining.outputs import check_out_dir, publish_atomically
    from hashnation.proofs.audit import format_disclosed_leaves
    from hashnation.proofs.balances import read_balances_csv
    from hashnation.proofs.documents import dump_json
    from hashnation.proofs.liabilities import build_liabilities, liabilities_digest

    check_out_dir(out)
    _check_empty_out(out)
    secret, kept = _read_secret(secret_file)
    balances = read_balances_csv(balances_file)
    count = workers or min(2, os.cpu_count() or 1)
    book = build_liabilities(
        balances, height=height, secret=secret, custodian=custodian, split=split, workers=count
    )
    root = book.root()

    def fill(tmp: Path) -> None:
        (tmp / "root.json").write_text(root.to_json(), encoding="utf-8")
        with (tmp / "leaves.csv").open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(format_disclosed_leaves(book.disclosed_leaves()))
        proofs = tmp / "proofs"
        proofs.mkdir()
        for document in book.proof_documents():  # compact canonical JSON, one per customer
            path = proofs / f"{document['customer_id']}.json"
            path.write_bytes(dump_json(document).encode("utf-8"))

    publish_atomically(out, fill, list(BUILD_FILES), BUILD_FILES)
    for asset in root.assets:
        typer.echo(
            f"{asset.asset}\ttotal {asset.total} {asset.unit}\t{asset.leaf_count} leaves\t"
            f"root {asset.digest}"
        )
    typer.echo(f"liabilities digest {liabilities_digest(root)}")
    typer.echo(f"{len(balances.customer_ids)} proofs in {out / 'proofs'}")
    if not kept:
        typer.echo("a fresh secret was used and not kept: the nonces live in the proof files only")


@app.command("challenge")
def challenge_command(
    root_file: Annotated[Path, typer.Argument(help="The liabilities root.json.")],
    address: Annotated[str, typer.Option("--address", help="Address that will sign.")],
    asset: Annotated[str, typer.Option("--asset", help="Asset proved on chain.")] = "BTC",
) -> None:
    """Print the BIP322 challenge an address must sign for this root.json."""
    from hashnation.proofs.documents import LiabilitiesRoot, load_document
    from hashnation.proofs.reserves import challenge_message

    root = load_document(LiabilitiesRoot, root_file)
    asset_root = root.asset_root(asset)
    typer.echo(
        challenge_message(
            custodian=root.custodian,
            asset=asset,
            height=root.height,
            liabilities_root=asset_root.digest,
            liabilities_total=asset_root.total,
            address=address,
        )
    )


@app.command("attest")
def attest_command(
    root_file: Annotated[Path, typer.Argument(help="The liabilities root.json.")],
    reserves_file: Annotated[Path, typer.Argument(help="The reserves.json claim.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Attestation JSON to write.")],
    esplora: EsploraOption = None,
    bitcoind: BitcoindOption = None,
    electrum: ElectrumOption = None,
    min_confirmations: MinConfirmationsOption = 1,
) -> None:
    """Verify reserves (BIP322 control, SPV balances) and attest solvency per asset."""
    from hashnation.chain.holdings import sync_headers
    from hashnation.proofs.attestation import attest, attestation_digest
    from hashnation.proofs.documents import LiabilitiesRoot, ReserveClaim, load_document
    from hashnation.proofs.reserves import prove_reserves

    root = load_document(LiabilitiesRoot, root_file)
    claim = load_document(ReserveClaim, reserves_file)
    if out.exists() and out.is_dir():
        raise ProofInputError("--out", str(out), "a file path (it is a folder)")
    source = chain_source(esplora, bitcoind, electrum)
    store = genesis_store()
    sync_headers(source, store, claim.height)  # type: ignore[arg-type]
    proof = prove_reserves(claim, root, source, store, min_confirmations)  # type: ignore[arg-type]
    attestation = attest(root, proof, min_confirmations)
    write_text_atomically(out, attestation.to_json())
    for control in proof.control:
        typer.echo(f"{_mark(control.ok)} control of {control.address}", nl=False)
        typer.echo(f" ({control.reason})" if not control.ok else "")
    for entry in attestation.assets:
        typer.echo(
            f"{entry.asset}\treserves {entry.reserves} ({entry.reserves_basis})\t"
            f"liabilities {entry.liabilities}\tratio {entry.ratio or 'n/a'}\t"
            f"{'solvent' if entry.solvent else 'INSOLVENT'}"
        )
    typer.echo(f"attestation digest {attestation_digest(attestation)}")


@app.command("verify-inclusion")
def verify_inclusion_command(
    proof_file: Annotated[Path, typer.Argument(help="Your proofs/<id>.json.")],
    root_file: Annotated[
        Path | None, typer.Option("--root", help="The custodian's published root.json.")
    ] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="Your customer id.")] = None,
) -> None:
    """Check your inclusion proof; print ✓/✗ per check, exit 1 if any fails."""
    from hashnation.proofs.documents import InclusionProof, LiabilitiesRoot, load_document
    from hashnation.proofs.liabilities import verify_inclusion

    proof = load_document(InclusionProof, proof_file)
    root = None if root_file is None else load_document(LiabilitiesRoot, root_file)
    report = verify_inclusion(proof, root=root, customer_id=customer)
    ok = _print_checks(report.checks)
    for asset, balance in report.balances.items():
        typer.echo(f"{asset} balance {balance}")
    typer.echo(
        f"{'VALID' if ok else 'INVALID'}: proof of {proof.customer_id} at height {proof.height}"
    )
    if not ok:
        raise typer.Exit(EXIT_FAILED)


@app.command("audit")
def audit_command(
    folder: Annotated[Path, typer.Argument(help="Build output: root.json, leaves.csv, proofs/.")],
    reserves_file: Annotated[
        Path | None, typer.Option("--reserves", help="reserves.json: sample its signatures.")
    ] = None,
    attestation_file: Annotated[
        Path | None, typer.Option("--attestation", help="An attestation to check against root.")
    ] = None,
    sample: Annotated[int, typer.Option("--sample", help="Proofs and addresses to sample.")] = 20,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the samples (random if absent).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Hashing processes.")] = 0,
) -> None:
    """Recompute every tree from leaves.csv, sample proofs and reserve signatures; report."""
    from hashnation.proofs.attestation import SolvencyAttestation, check_attestation
    from hashnation.proofs.audit import (
        audit_leaves,
        audit_proofs,
        audit_reserves,
        parse_disclosed_leaves,
    )
    from hashnation.proofs.documents import (
        InclusionProof,
        LiabilitiesRoot,
        ReserveClaim,
        load_document,
    )

    if sample < 0:
        raise ProofInputError("--sample", sample, "an int >= 0")
    root = load_document(LiabilitiesRoot, folder / "root.json")
    leaves_path = folder / "leaves.csv"
    try:
        leaves_text = leaves_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProofInputError(str(leaves_path), str(exc), "a readable leaf file") from None
    leaves = parse_disclosed_leaves(leaves_text, "leaves.csv")
    claim = None if reserves_file is None else load_document(ReserveClaim, reserves_file)
    attestation = (
        None if attestation_file is None else load_document(SolvencyAttestation, attestation_file)
    )
    seed = secrets.randbits(32) if seed is None else seed
    rng = random.Random(seed)
    typer.echo(f"audit of {root.custodian} at height {root.height} (sample seed {seed})")
    checks = audit_leaves(root, leaves, workers or min(2, os.cpu_count() or 1))
    proof_files = sorted((folder / "proofs").glob("*.json"))
    chosen = proof_files if sample >= len(proof_files) else rng.sample(proof_files, sample)
    proofs = [load_document(InclusionProof, path) for path in sorted(chosen)]
    misnamed = [
        p.name for p, doc in zip(sorted(chosen), proofs, strict=True) if p.stem != doc.customer_id
    ]
    if proofs:
        checks += audit_proofs(root, leaves, proofs)
        checks.append(Check("proof files named by their customer id", not misnamed, str(misnamed)))
    if claim is not None:
        checks += audit_reserves(claim, root, sample, rng)
    if attestation is not None:
        checks += check_attestation(attestation, root)
    ok = _print_checks(checks)
    typer.echo(
        f"{'PASSED' if ok else 'FAILED'}: {sum(c.ok for c in checks)} of {len(checks)} checks; "
        f"{len(proofs)} of {len(proof_files)} proofs and "
        f"{0 if claim is None else min(sample, len(claim.addresses))} reserve signatures sampled"
    )
    if not ok:
        raise typer.Exit(EXIT_FAILED)


@app.command("verify-bitmex")
def verify_bitmex_command(
    proof_file: Annotated[Path, typer.Argument(help="BitMEX liabilities file.")],
    account: Annotated[int | None, typer.Option("--account", help="BitMEX account number.")] = None,
    nonce: Annotated[
        str | None, typer.Option("--nonce", help="Your nonce for this proof (hex).")
    ] = None,
    account_nonce: Annotated[
        str | None, typer.Option("--account-nonce", help="Your account's lifetime nonce (hex).")
    ] = None,
) -> None:
    """Verify a BitMEX proof-of-liabilities file; find an account's leaves."""
    from hashnation.proofs.bitmex import read_bitmex, verify_bitmex

    def key(text: str | None, option: str) -> bytes | None:
        if text is None:
            return None
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ProofInputError(option, text, "32 bytes in hex (64 digits)")
        return raw

    if (nonce or account_nonce) and account is None:
        raise ProofInputError("--account", None, "an account number with --nonce/--account-nonce")
    if nonce and account_nonce:
        raise ProofInputError("--nonce/--account-nonce", "both", "one of them")
    tree = read_bitmex(proof_file)
    report = verify_bitmex(
        tree,
        account=account,
        sub_nonce=key(nonce, "--nonce"),
        account_nonce=key(account_nonce, "--account-nonce"),
    )
    typer.echo(
        f"block height {report.block_height}, {report.leaf_count} leaves, "
        f"total liabilities {report.total_sat} sat"
    )
    for fault in report.faults:
        typer.echo(f"✗ {fault}")
    typer.echo(f"{_mark(report.ok)} every node commits to its children's digests and values")
    found = True
    if nonce or account_nonce:
        for match in report.matches:
            typer.echo(f"✓ leaf {match.leaf_index}: {match.value_sat} sat")
        found = bool(report.matches)
        typer.echo(
            f"{_mark(found)} account {account}: {report.account_sat} sat in "
            f"{len(report.matches)} leaves"
        )
    if not (report.ok and found):
        raise typer.Exit(EXIT_FAILED)
