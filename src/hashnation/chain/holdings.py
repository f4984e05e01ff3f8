"""Holdings at a past height, rebuilt from history and checked by SPV.

:func:`utxos_at` asks a :class:`~hashnation.chain.base.ChainSource` for the
history of each address or script, fetches every transaction at a height up
to ``H``, and keeps the outputs paying a watched script that no transaction
up to ``H`` spends. The outputs created minus the outputs spent, without
replaying the chain in order, gives the UTXO set at ``H``. Every transaction
used (each one funding a returned output or spending a watched one) must
hash to its txid and carry a merkle proof that folds to the merkle root of
the header the caller's :class:`~hashnation.chain.headers.HeaderStore` holds
at its height: the platform checks inclusion itself and trusts the source
for nothing but completeness of the history (a source can hide a transaction,
not invent one).

Confirmation rule: a UTXO counts at ``H`` with ``min_confirmations`` when its
funding height ``h`` satisfies ``h <= H - min_confirmations + 1``. A source
claiming an output at a later height raises :class:`~hashnation.errors.SpvError`
naming the txid, as does a failed proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hashnation.bitcoin.header import BlockHeader
from hashnation.chain.base import ChainSource, MerkleProof, TxRef, check_transaction
from hashnation.chain.headers import HeaderStore
from hashnation.chain.scripts import resolve_script
from hashnation.chain.transactions import Transaction
from hashnation.errors import ChainError, InputError, SpvError

__all__ = ["Holdings", "Utxo", "sync_headers", "utxos_at"]


@dataclass(frozen=True, slots=True)
class Utxo:
    """An unspent output at the audit height, with its inclusion proof.

    Parameters
    ----------
    owner
        The address or script hex the caller named.
    txid
        Funding transaction id, display order hex.
    vout
        Output index.
    value_sat
        Amount [sat].
    script_pubkey
        Locking script, hex.
    height
        Height of the block holding the funding transaction.
    confirmations
        Confirmations at the audit height: ``H - height + 1``.
    proof
        Merkle proof of the funding transaction, verified against the header store.
    """

    owner: str
    txid: str
    vout: int
    value_sat: int
    script_pubkey: str
    height: int
    confirmations: int
    proof: MerkleProof


@dataclass(frozen=True, slots=True)
class Holdings:
    """Verified UTXOs and balances of a set of addresses/scripts at one height.

    Parameters
    ----------
    height
        Audit height ``H``.
    block_hash
        Hash of the header at ``H`` in the header store, display hex.
    min_confirmations
        Confirmations each UTXO was required to have at ``H``.
    utxos
        Unspent outputs, by height, txid and vout.
    balances_sat
        Sum of UTXO values per owner [sat]; every owner asked for is present.
    funding_transactions
        Serialised funding transaction of every UTXO, by txid (display hex); each
        hashed to its txid when fetched.
    """

    height: int
    block_hash: str
    min_confirmations: int
    utxos: tuple[Utxo, ...]
    balances_sat: dict[str, int] = field(default_factory=dict)
    funding_transactions: dict[str, bytes] = field(default_factory=dict)

    @property
    def total_sat(self) -> int:
        """Sum over all owners [sat]."""
        return sum(self.balances_sat.values())


def _check_int(field_name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(field_name, value, f"an int >= {minimum}")
    return value


def sync_headers(source: ChainSource, store: HeaderStore, to_height: int | None = None) -> int:
    """Fetch headers from a source and add them to a store, validating each.

    Parameters
    ----------
    source
        Where to read headers.
    store
        The store to extend from its tip.
    to_height
        Last height wanted; the source's tip by default.

    Returns
    -------
    int
        The store's new tip height.

    Raises
    ------
    SpvError
        If a header fails validation (see :meth:`HeaderStore.add`).
    ChainError
        If the source fails.
    """
    target = source.tip_height() if to_height is None else _check_int("to_height", to_height, 0)
    for height in range(store.tip_height + 1, target + 1):
        try:
            store.add(source.block_header(height))
        except SpvError as exc:
            raise SpvError(f"{source.url} block_header({height}): {exc}") from exc
    return store.tip_height


def _verified(
    source: ChainSource, headers: HeaderStore, ref: TxRef, cache: dict[str, MerkleProof]
) -> MerkleProof:
    cached = cache.get(ref.txid)
    if cached is not None:
        return cached
    where = f"{source.url} merkle_proof({ref.txid}, {ref.height})"
    proof = source.merkle_proof(ref.txid, ref.height)
    if proof.height != ref.height or proof.txid != ref.txid:
        raise SpvError(
            f"{where}: proof for tx {proof.txid} at height {proof.height}, "
            f"expected tx {ref.txid} at height {ref.height}"
        )
    try:
        headers.verify_inclusion(ref.txid, proof.branch, proof.index, ref.height)
    except SpvError as exc:
        raise SpvError(f"{where}: {exc}") from exc
    cache[ref.txid] = proof
    return proof


def utxos_at(
    source: ChainSource,
    scripts: Sequence[str],
    height: int,
    headers: HeaderStore,
    min_confirmations: int = 1,
) -> Holdings:
    """Rebuild and verify the UTXO set of some addresses/scripts at height ``H``.

    Parameters
    ----------
    source
        Chain source giving histories, transactions and merkle proofs.
    scripts
        Addresses or ``scriptPubKey`` hex strings; each names one owner.
    height
        Audit height ``H``; the header store must hold it.
    headers
        Validated header chain holding every height from the first funding
        transaction up to ``H``.
    min_confirmations
        Confirmations each UTXO must have at ``H`` (>= 1).

    Returns
    -------
    Holdings
        UTXOs with their proofs and balance per owner [sat].

    Raises
    ------
    InputError
        If a script is malformed or given twice, ``height`` or
        ``min_confirmations`` is out of range.
    SpvError
        If a transaction does not hash to its txid, a merkle proof fails or
        names another height, the header store lacks a height needed, or a
        UTXO is claimed at a height above ``H - min_confirmations + 1``.
    ChainError
        If the source fails, or gives one txid at two heights.
    """
    _check_int("height", height, 0)
    _check_int("min_confirmations", min_confirmations, 1)
    if isinstance(scripts, str) or not scripts:
        raise InputError("scripts", scripts, "a non-empty list of addresses or script hex")
    if height not in headers:
        raise SpvError(
            f"audit height {height}: not in the header store, expected a height from "
            f"{headers.base_height} to {headers.tip_height}"
        )
    owners: dict[bytes, str] = {}
    for target in scripts:
        resolved = resolve_script(target)
        if resolved.script in owners:
            raise InputError(
                "scripts", target, f"each script once (same script as {owners[resolved.script]!r})"
            )
        owners[resolved.script] = resolved.label

    refs: dict[str, int] = {}
    for label in owners.values():
        for ref in source.address_history(label):
            if 0 < ref.height <= height:
                known = refs.setdefault(ref.txid, ref.height)
                if known != ref.height:
                    raise ChainError(
                        f"{source.url} address_history: tx {ref.txid} at heights {known} and "
                        f"{ref.height}, expected one height"
                    )

    transactions: dict[str, Transaction] = {}
    raw_transactions: dict[str, bytes] = {}
    for txid in sorted(refs, key=lambda t: (refs[t], t)):
        raw = source.raw_transaction(txid)
        transactions[txid] = check_transaction(raw, txid, f"{source.url} raw_transaction")
        raw_transactions[txid] = raw

    created: dict[tuple[str, int], tuple[bytes, int]] = {}
    for txid, tx in transactions.items():
        for vout, tx_out in enumerate(tx.outputs):
            if tx_out.script_pubkey in owners:
                created[(txid, vout)] = (tx_out.script_pubkey, tx_out.value_sat)
    spenders: dict[tuple[str, int], str] = {}
    for txid, tx in transactions.items():
        for tx_in in tx.inputs:
            if tx_in.outpoint in created:
                spenders[tx_in.outpoint] = txid

    proofs: dict[str, MerkleProof] = {}
    for spender in sorted(set(spenders.values())):
        _verified(source, headers, TxRef(refs[spender], spender), proofs)

    latest_allowed = height - min_confirmations + 1
    utxos: list[Utxo] = []
    balances = dict.fromkeys(owners.values(), 0)
    for (txid, vout), (script, value) in sorted(
        created.items(), key=lambda item: (refs[item[0][0]], item[0])
    ):
        if (txid, vout) in spenders:
            continue
        funded_at = refs[txid]
        if funded_at > latest_allowed:
            raise SpvError(
                f"UTXO {txid}:{vout} of {owners[script]}: funded at height {funded_at}, "
                f"expected at most {latest_allowed} ({min_confirmations} confirmations at "
                f"height {height})"
            )
        proof = _verified(source, headers, TxRef(funded_at, txid), proofs)
        utxos.append(
            Utxo(
                owner=owners[script],
                txid=txid,
                vout=vout,
                value_sat=value,
                script_pubkey=script.hex(),
                height=funded_at,
                confirmations=height - funded_at + 1,
                proof=proof,
            )
        )
        balances[owners[script]] += value
    tip: BlockHeader = headers.header_at(height)
    funding = {utxo.txid: raw_transactions[utxo.txid] for utxo in utxos}
    return Holdings(height, tip.hash_hex(), min_confirmations, tuple(utxos), balances, funding)
