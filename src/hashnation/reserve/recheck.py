"""Re-check a transparency report offline, trusting nothing but a checkpoint.

:func:`verify_report` re-does every check a reader can do with the report alone:

1. **schema**: the file is a report of a known version;
2. **checkpoint**: the first header is one the reader trusts (the bundled mainnet
   checkpoints, or one given by the reader); a regtest report is flagged as such;
3. **headers**: each header links to the previous one, carries the right bits and
   enough proof of work, and the last is the block the report names;
4. **descriptors** and **addresses**: every descriptor parses (public keys only) and
   every watched script is re-derived from its descriptor branch and index, or
   re-encoded from its address;
5. **transactions**: each funding transaction hashes to its txid and its merkle
   branch folds to the merkle root of the header at its height;
6. **utxos**: each output exists in its funding transaction with the stated amount
   and script, and pays a watched script;
7. **sums**: balances per script, the UTXO count, the chain total, the ledger's
   figure and the USD value at the stated price.

Each check gives a :class:`Check` naming the first items that fail. Nothing here
reads a network or a database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hashnation.chain.headers import Checkpoint, HeaderStore, chain_params
from hashnation.chain.merkle import as_internal_hash
from hashnation.chain.regtest import REGTEST_GENESIS
from hashnation.chain.transactions import Transaction, parse_transaction
from hashnation.errors import HashNationError, InputError, SpvError
from hashnation.reserve.transparency import SCHEMA_ID, ReserveReport, usd_value

__all__ = ["Check", "Verification", "load_report_file", "verify_report"]

_SHOWN_FAILURES = 10


@dataclass(frozen=True, slots=True)
class Check:
    """One verified property of a report.

    Attributes
    ----------
    name
        What was checked (``"headers"``, ``"utxos"`` ...).
    ok
        Whether it holds.
    detail
        What was found; on failure, the items that fail (the first few).
    """

    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class Verification:
    """Every check of one report."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check holds."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, failures: list[str], success: str) -> bool:
        """Record a check from its list of failures; True when there were none."""
        if failures:
            shown = "; ".join(failures[:_SHOWN_FAILURES])
            more = len(failures) - _SHOWN_FAILURES
            self.checks.append(
                Check(name, False, shown + (f"; and {more} more" if more > 0 else ""))
            )
            return False
        self.checks.append(Check(name, True, success))
        return True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``ok`` and each check."""
        return {
            "ok": self.ok,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def load_report_file(path: Path) -> Any:
    """Read a report file as JSON data.

    Raises
    ------
    InputError
        If the file cannot be read or is not JSON.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError("report", str(path), f"a readable file ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            "report", str(path), f"JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _schema(data: Any, result: Verification) -> ReserveReport | None:
    if isinstance(data, Mapping) and data.get("schema") != SCHEMA_ID:
        result.add("schema", [f"schema {data.get('schema')!r}, expected {SCHEMA_ID!r}"], "")
        return None
    try:
        report = ReserveReport.model_validate(data)
    except ValidationError as exc:
        errors = [
            f"{'.'.join(str(p) for p in err['loc']) or 'report'}: {err['msg']}"
            f" (value {str(err.get('input'))[:80]!r})"
            for err in exc.errors()
        ]
        result.add("schema", errors, "")
        return None
    result.add("schema", [], f"{SCHEMA_ID} version {report.schema_version}")
    return report


def _checkpoint(
    report: ReserveReport, trusted: Mapping[int, str] | None, result: Verification
) -> None:
    first = report.headers[0]
    if report.network == "regtest":
        failures = (
            []
            if report.checkpoint_height == 0 and first == REGTEST_GENESIS.serialize().hex()
            else ["headers[0]: expected the regtest genesis header at height 0"]
        )
        result.add(
            "checkpoint",
            failures,
            "regtest genesis: a private test chain; this report proves nothing about mainnet",
        )
        return
    if trusted is None:
        from hashnation.data.loaders import load_mainnet_checkpoints

        trusted = load_mainnet_checkpoints()
        whence = "bundled mainnet checkpoints"
    else:
        whence = "checkpoint given by the reader"
    try:
        got = Checkpoint(report.checkpoint_height, first).header.hash_hex()
    except HashNationError as exc:
        result.add("checkpoint", [f"headers[0]: {exc}"], "")
        return
    expected = trusted.get(report.checkpoint_height)
    if expected is None:
        failures = [
            f"height {report.checkpoint_height} is not among the {whence}; give one you trust "
            "(--checkpoint HEIGHT:HASH)"
        ]
    elif expected != got:
        failures = [
            f"headers[0] at height {report.checkpoint_height} is {got}, expected {expected}"
        ]
    else:
        failures = []
    result.add(
        "checkpoint", failures, f"block {got} at height {report.checkpoint_height} ({whence})"
    )


def _headers(report: ReserveReport, result: Verification) -> HeaderStore | None:
    base = report.checkpoint_height
    tip = base + len(report.headers) - 1
    if tip != report.height:
        result.add(
            "headers",
            [
                f"{len(report.headers)} headers from height {base} end at {tip}, "
                f"expected {report.height}"
            ],
            "",
        )
        return None
    try:
        store = HeaderStore(
            Checkpoint(base, report.headers[0]), chain_params(report.network, "network")
        )
        for offset, header in enumerate(report.headers[1:], start=1):
            try:
                store.add(bytes.fromhex(header))
            except SpvError as exc:
                result.add("headers", [f"headers[{offset}] (height {base + offset}): {exc}"], "")
                return None
    except HashNationError as exc:
        result.add("headers", [f"headers[0] (height {base}): {exc}"], "")
        return None
    tip_header = store.header_at(report.height)
    failures = []
    if tip_header.hash_hex() != report.block_hash:
        failures.append(
            f"block_hash {report.block_hash}, the header at H is {tip_header.hash_hex()}"
        )
    if tip_header.time != report.block_time:
        failures.append(f"block_time {report.block_time}, the header at H says {tip_header.time}")
    ok = result.add(
        "headers",
        failures,
        f"{len(report.headers)} headers {base}..{report.height} link with valid proof of work; "
        f"tip {report.block_hash}",
    )
    return store if ok else None


def _addresses(report: ReserveReport, result: Verification) -> None:
    from hashnation.reserve.descriptors import (
        derive_addresses,
        parse_descriptor,
        script_pubkey_from_address,
    )

    parsed = {}
    failures = []
    for number, item in enumerate(report.descriptors):
        try:
            parsed[item.label] = parse_descriptor(
                item.descriptor, field_name=f"descriptors[{number}]", allow_miniscript=True
            )
        except HashNationError as exc:
            failures.append(f"descriptors[{number}] ({item.label}): {exc}")
    result.add("descriptors", failures, f"{len(parsed)} watch-only descriptors parse")

    failures = []
    wanted: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for number, script in enumerate(report.scripts):
        shown = f"scripts[{number}] ({script.address or script.script_pubkey[:20]})"
        if script.address is not None:
            try:
                encoded = script_pubkey_from_address(script.address)
            except HashNationError as exc:
                failures.append(f"{shown}: {exc}")
                continue
            if encoded != script.script_pubkey:
                failures.append(
                    f"{shown}: the address encodes script {encoded}, not {script.script_pubkey}"
                )
                continue
        if script.descriptor is None:
            continue
        if script.descriptor not in parsed or script.branch is None or script.index is None:
            failures.append(
                f"{shown}: descriptor {script.descriptor!r} with a branch and index expected"
            )
            continue
        wanted[(script.descriptor, script.branch)].append((script.index, number))
    derived = 0
    for (label, branch), items in wanted.items():
        desc = parsed[label]
        indices = sorted(index for index, _ in items)
        start, stop = indices[0], indices[-1] + 1
        try:
            found = (
                {
                    a.index: a
                    for a in derive_addresses(
                        desc, start, stop - start, branch=branch if desc.is_multipath else None
                    )
                }
                if len(indices) * 4 >= stop - start
                else {
                    i: derive_addresses(desc, i, 1, branch=branch if desc.is_multipath else None)[0]
                    for i in indices
                }
            )
        except HashNationError as exc:
            failures.append(f"descriptor {label!r} branch {branch}: {exc}")
            continue
        for index, number in items:
            script = report.scripts[number]
            got = found.get(index)
            if (
                got is None
                or got.script_pubkey_hex != script.script_pubkey
                or (script.address is not None and got.address != script.address)
            ):
                failures.append(
                    f"scripts[{number}] ({script.address or script.script_pubkey[:20]}): "
                    f"{label}/{branch}/{index} derives "
                    f"{got.address if got else 'nothing'}, not the script listed"
                )
            else:
                derived += 1
    result.add(
        "addresses",
        failures,
        f"{len(report.scripts)} scripts: {derived} re-derived from their descriptors, "
        f"{len(report.scripts) - derived} listed by address or script",
    )


def _transactions(
    report: ReserveReport, store: HeaderStore, result: Verification
) -> dict[str, tuple[int, Transaction]]:
    checked: dict[str, tuple[int, Transaction]] = {}
    failures = []
    latest = report.height - report.min_confirmations + 1
    for number, item in enumerate(report.transactions):
        shown = f"transactions[{number}] ({item.txid})"
        if item.txid in checked:
            failures.append(f"{shown}: listed twice")
            continue
        try:
            tx = parse_transaction(bytes.fromhex(item.raw_hex))
        except HashNationError as exc:
            failures.append(f"{shown}: {exc}")
            continue
        if tx.txid_hex != item.txid:
            failures.append(f"{shown}: the serialised transaction hashes to {tx.txid_hex}")
            continue
        if item.height > latest:
            failures.append(
                f"{shown}: height {item.height} above {latest} "
                f"({report.min_confirmations} confirmations)"
            )
            continue
        try:
            branch = [as_internal_hash(node, "merkle_branch") for node in item.merkle_branch]
            store.verify_inclusion(item.txid, branch, item.index, item.height)
        except HashNationError as exc:
            failures.append(f"{shown}: {exc}")
            continue
        checked[item.txid] = (item.height, tx)
    result.add(
        "transactions",
        failures,
        f"{len(checked)} funding transactions hash to their txids and are in the chain "
        "(merkle proofs)",
    )
    return checked


def _utxos(
    report: ReserveReport, checked: Mapping[str, tuple[int, Transaction]], result: Verification
) -> None:
    watched = {s.script_pubkey for s in report.scripts}
    seen: set[tuple[str, int]] = set()
    failures = []
    for number, utxo in enumerate(report.utxos):
        shown = f"utxos[{number}] ({utxo.txid}:{utxo.vout})"
        if (utxo.txid, utxo.vout) in seen:
            failures.append(f"{shown}: listed twice")
            continue
        seen.add((utxo.txid, utxo.vout))
        found = checked.get(utxo.txid)
        if found is None:
            failures.append(f"{shown}: no verified funding transaction {utxo.txid} in the report")
            continue
        height, tx = found
        if utxo.vout >= len(tx.outputs):
            failures.append(f"{shown}: the transaction has {len(tx.outputs)} outputs")
            continue
        out = tx.outputs[utxo.vout]
        if out.value_sat != utxo.value_sat:
            failures.append(
                f"{shown}: value_sat {utxo.value_sat}, the transaction pays {out.value_sat}"
            )
        if out.script_pubkey.hex() != utxo.script_pubkey:
            failures.append(
                f"{shown}: script {utxo.script_pubkey}, "
                f"the transaction pays {out.script_pubkey.hex()}"
            )
        if utxo.script_pubkey not in watched:
            failures.append(f"{shown}: pays script {utxo.script_pubkey}, not a watched script")
        if height != utxo.height:
            failures.append(f"{shown}: height {utxo.height}, its transaction is at {height}")
    result.add(
        "utxos", failures, f"{len(report.utxos)} unspent outputs match their funding transactions"
    )


def _sums(report: ReserveReport, result: Verification) -> None:
    per_script: dict[str, int] = defaultdict(int)
    for utxo in report.utxos:
        per_script[utxo.script_pubkey] += utxo.value_sat
    total = sum(per_script.values())
    totals = report.totals
    failures = []
    for number, script in enumerate(report.scripts):
        if script.balance_sat != per_script.get(script.script_pubkey, 0):
            failures.append(
                f"scripts[{number}] ({script.address or script.script_pubkey[:20]}): balance_sat "
                f"{script.balance_sat}, "
                f"its outputs sum to {per_script.get(script.script_pubkey, 0)}"
            )
    if totals.utxo_count != len(report.utxos):
        failures.append(
            f"totals.utxo_count {totals.utxo_count}, the report lists {len(report.utxos)}"
        )
    if totals.chain_sat != total:
        failures.append(f"totals.chain_sat {totals.chain_sat}, the outputs sum to {total}")
    if totals.ledger_sat is not None and totals.ledger_sat != total:
        failures.append(f"totals.ledger_sat {totals.ledger_sat} disagrees with the chain's {total}")
    try:
        price = Decimal(totals.price_usd_per_btc)
        if not price.is_finite() or price <= 0:
            raise InvalidOperation
        value = format(usd_value(total, price), "f")
        if value != totals.value_usd:
            failures.append(
                f"totals.value_usd {totals.value_usd}, {total} sat at {price} USD/BTC is {value}"
            )
    except InvalidOperation:
        failures.append(
            f"totals.price_usd_per_btc {totals.price_usd_per_btc!r}: expected a price > 0"
        )
    ledger = "agrees with the ledger" if totals.ledger_sat is not None else "no ledger figure given"
    result.add(
        "sums",
        failures,
        f"{total / 1e8:,.8f} BTC in {len(report.utxos)} outputs ({ledger}); "
        f"{totals.value_usd} USD at {totals.price_usd_per_btc} USD/BTC ({totals.price_date})",
    )


def verify_report(
    data: Any, *, trusted_checkpoints: Mapping[int, str] | None = None
) -> Verification:
    """Re-check every figure of a transparency report.

    Parameters
    ----------
    data
        The report as JSON data (:func:`load_report_file`).
    trusted_checkpoints
        Height to block hash the reader trusts; default the bundled mainnet checkpoints.

    Returns
    -------
    Verification
        Each check and whether it holds; ``ok`` is True only when all hold.
    """
    result = Verification()
    report = _schema(data, result)
    if report is None:
        return result
    _checkpoint(report, trusted_checkpoints, result)
    store = _headers(report, result)
    _addresses(report, result)
    if store is None:
        result.add("transactions", ["not checked: the header chain did not verify"], "")
    else:
        checked = _transactions(report, store, result)
        _utxos(report, checked, result)
    _sums(report, result)
    return result


def failed_items(verification: Verification) -> Iterable[str]:
    """Details of the failed checks (for messages)."""
    return (f"{c.name}: {c.detail}" for c in verification.checks if not c.ok)
