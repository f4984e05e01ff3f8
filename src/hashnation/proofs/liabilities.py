"""Proof of liabilities: a Merkle-sum tree per asset over customer balances.

Build (custodian)::

    balances = read_balances_csv(Path("balances.csv"))
    book = build_liabilities(balances, height=900_000, secret=secret, custodian="acme")
    book.root()                 # LiabilitiesRoot: publish as root.json
    book.proof("alice")         # InclusionProof: give to alice, privately
    book.disclosed_leaves()     # (asset, index, digest, amount) rows for the regulator

Verify (customer)::

    report = verify_inclusion(proof, root=published_root, customer_id="alice")
    report.ok, report.checks, report.balances

The hashes are those of :mod:`hashnation.proofs.hashing`: every internal node
commits to both children's digests and both children's sums, and every sum
is range-checked, which is what defeats the known attacks on naive Merkle-sum
trees (see ``docs/proof-of-liabilities.md``). Privacy comes from per-customer
nonces bound to the height (the custodian's secret never leaves it), optional
random splitting of each balance into several leaves, and a shuffled leaf order.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hashnation.proofs._engine import LeafInput, TreeLevels, build_trees
from hashnation.proofs.assets import get_asset
from hashnation.proofs.balances import Balances
from hashnation.proofs.canonical import canonical_json, sha256_hex
from hashnation.proofs.documents import (
    AssetInclusion,
    AssetRoot,
    CustodianId,
    InclusionProof,
    LeafProof,
    LiabilitiesRoot,
    PathStep,
)
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.hashing import (
    DIGEST_SIZE,
    MAX_AMOUNT,
    MAX_PARTS,
    NonceDeriver,
    leaf_digest,
    node_digest,
    tree_depth,
)

__all__ = [
    "Check",
    "InclusionReport",
    "Liabilities",
    "build_liabilities",
    "liabilities_digest",
    "verify_inclusion",
]

MIN_SECRET_BYTES = 32
"""Shortest custodian secret accepted [bytes]."""


def liabilities_digest(root: LiabilitiesRoot) -> str:
    """SHA-256 of the canonical JSON of a ``root.json`` (hex).

    Parameters
    ----------
    root
        The published root.

    Returns
    -------
    str
        64 hex digits; the solvency attestation carries it.
    """
    return sha256_hex(canonical_json(root.model_dump(mode="json")))


def _check_custodian(custodian: object) -> str:
    from pydantic import TypeAdapter, ValidationError

    try:
        return str(TypeAdapter(CustodianId).validate_python(custodian))
    except ValidationError:
        raise ProofInputError(
            "custodian", custodian, "1 to 64 ASCII letters, digits and . _ -, starting alphanumeric"
        ) from None


def _split(
    amounts: npt.NDArray[np.uint64], parts: int, rng: np.random.Generator
) -> npt.NDArray[np.uint64]:
    """Split each amount into ``parts`` random non-negative parts summing to it; ``(m, parts)``."""
    cuts = rng.integers(
        0, amounts[:, None], size=(len(amounts), parts - 1), endpoint=True, dtype=np.uint64
    )
    cuts.sort(axis=1)
    bounds = np.concatenate([np.zeros((len(amounts), 1), np.uint64), cuts, amounts[:, None]], 1)
    return np.diff(bounds, axis=1)


@dataclass(frozen=True, slots=True)
class Liabilities:
    """A built set of liabilities trees, one per asset, at one height.

    Parameters
    ----------
    custodian
        Custodian id.
    height
        Block height of the balances [blocks].
    customer_ids
        Every customer, indexed as in ``leaf_customers``.
    trees
        Per asset code, the tree's levels.
    leaf_customers
        Per asset, the customer index of each leaf, in tree order.
    leaf_parts
        Per asset, the part number of each leaf, in tree order.
    """

    custodian: str
    height: int
    customer_ids: Sequence[str]
    trees: dict[str, TreeLevels]
    leaf_customers: dict[str, npt.NDArray[np.int64]]
    leaf_parts: dict[str, npt.NDArray[np.int64]]
    _deriver: NonceDeriver = field(repr=False)
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _groups: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = field(
        default_factory=dict, repr=False
    )
    _roots: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def asset_root(self, asset: str) -> AssetRoot:
        """Return the root of one asset's tree."""
        tree = self.trees[asset]
        digest, total = tree.root
        return AssetRoot(
            asset=asset,
            unit=get_asset(asset).unit,
            digest=digest.hex(),
            total=total,
            leaf_count=tree.leaf_count,
            depth=tree_depth(tree.leaf_count),
        )

    def root(self) -> LiabilitiesRoot:
        """``root.json``: custodian, height, and each asset's root and total."""
        return LiabilitiesRoot(
            custodian=self.custodian,
            height=self.height,
            assets=[self.asset_root(asset) for asset in sorted(self.trees)],
        )

    def leaf(self, asset: str, index: int) -> tuple[bytes, int]:
        """Digest and amount [smallest unit] of the leaf at ``index``."""
        record = self.trees[asset].levels[0][index]
        return bytes(record[:DIGEST_SIZE]), int.from_bytes(bytes(record[DIGEST_SIZE:]), "big")

    def path(self, asset: str, index: int) -> list[PathStep]:
        """Siblings of the leaf at ``index`` up to the root, leaf level first."""
        return [
            PathStep.model_construct(digest=digest, sum=int(total))
            for digest, total in self._path(asset, index)
        ]

    def _path(self, asset: str, index: int) -> list[tuple[str, str]]:
        steps = []
        for level in self.trees[asset].levels[:-1]:
            record = level[index ^ 1].tobytes()
            total = int.from_bytes(record[DIGEST_SIZE:], "big")
            steps.append((record[:DIGEST_SIZE].hex(), str(total)))
            index >>= 1
        return steps

    def _customer(self, customer_id: str) -> int:
        if not self._index:
            self._index.update({c: i for i, c in enumerate(self.customer_ids)})
        number = self._index.get(customer_id)
        if number is None:
            raise ProofInputError("customer_id", customer_id, "a customer in these balances")
        return number

    def _leaves_of(self, asset: str, customer: int) -> npt.NDArray[np.int64]:
        if asset not in self._groups:
            order = np.argsort(self.leaf_customers[asset], kind="stable")
            starts = np.searchsorted(
                self.leaf_customers[asset][order], np.arange(len(self.customer_ids) + 1)
            )
            self._groups[asset] = (order, starts)
        order, starts = self._groups[asset]
        return order[starts[customer] : starts[customer + 1]]

    def proof(self, customer_id: str) -> InclusionProof:
        """Return the inclusion proof of one customer, over every asset they hold.

        Parameters
        ----------
        customer_id
            The customer.

        Returns
        -------
        InclusionProof
            Nonce, leaves and paths; private to the customer.

        Raises
        ------
        ProofInputError
            If the customer is not in the balances.
        """
        return InclusionProof.model_validate(self._document(self._customer(customer_id)))

    def proof_document(self, customer_id: str) -> dict[str, Any]:
        """Return :meth:`proof` as its JSON document (amounts as decimal strings).

        Parameters
        ----------
        customer_id
            The customer.

        Returns
        -------
        dict
            What ``proof(customer_id).model_dump(mode="json")`` gives, built directly.
        """
        return self._document(self._customer(customer_id))

    def _document(self, customer: int) -> dict[str, Any]:
        customer_id = self.customer_ids[customer]
        entries = []
        for asset in sorted(self.trees):
            positions = self._leaves_of(asset, customer)
            if not len(positions):
                continue
            parts = self.leaf_parts[asset][positions]
            level = self.trees[asset].levels[0]
            leaves = []
            balance = 0
            for index in positions[np.argsort(parts, kind="stable")].tolist():
                amount = int.from_bytes(level[index, DIGEST_SIZE:].tobytes(), "big")
                balance += amount
                leaves.append(
                    {
                        "part": int(self.leaf_parts[asset][index]),
                        "amount": str(amount),
                        "index": index,
                        "path": [{"digest": d, "sum": v} for d, v in self._path(asset, index)],
                    }
                )
            entries.append(
                {
                    "asset": asset,
                    "balance": str(balance),
                    "root": self._root_documents()[asset],
                    "leaves": leaves,
                }
            )
        return {
            "format": "hashnation-por-inclusion-proof",
            "version": 1,
            "custodian": self.custodian,
            "height": self.height,
            "customer_id": customer_id,
            "nonce": self._deriver(customer_id).hex(),
            "assets": entries,
        }

    def _root_documents(self) -> dict[str, dict[str, Any]]:
        if not self._roots:
            for asset in self.trees:
                self._roots[asset] = self.asset_root(asset).model_dump(mode="json")
        return self._roots

    def proofs(self) -> Iterator[InclusionProof]:
        """Every customer's inclusion proof, in the order of :attr:`customer_ids`."""
        for customer in range(len(self.customer_ids)):
            yield InclusionProof.model_validate(self._document(customer))

    def proof_documents(self) -> Iterator[dict[str, Any]]:
        """Every customer's proof as a JSON document (fast path for writing files)."""
        for customer in range(len(self.customer_ids)):
            yield self._document(customer)

    def disclosed_leaves(self) -> Iterator[tuple[str, int, str, int]]:
        """Rows of the disclosed leaf file: asset, index, digest (hex), amount [unit].

        The leaves alone (no ids, no nonces) let anyone recompute every tree,
        its sums and its root.
        """
        for asset in sorted(self.trees):
            level = self.trees[asset].levels[0]
            for index in range(self.trees[asset].leaf_count):
                record = bytes(level[index])
                yield (
                    asset,
                    index,
                    record[:DIGEST_SIZE].hex(),
                    int.from_bytes(record[DIGEST_SIZE:], "big"),
                )


def build_liabilities(
    balances: Balances,
    *,
    height: int,
    secret: bytes,
    custodian: str = "unnamed",
    split: int = 1,
    rng: np.random.Generator | None = None,
    workers: int = 1,
) -> Liabilities:
    """Build one Merkle-sum tree per asset from checked balances.

    Parameters
    ----------
    balances
        Customer balances (:class:`~hashnation.proofs.balances.Balances`).
    height
        Block height the balances are taken at [blocks]; nonces are bound to it.
    secret
        The custodian's secret key (>= 32 bytes), from which every customer's
        nonce is derived; never published, never written by this function.
    custodian
        Custodian id.
    split
        Leaves per balance (1 to 64). Above 1, each balance is cut at random
        into that many parts (each >= 0), hiding the balance distribution.
    rng
        Generator for the splits and the leaf order. Default: PCG64DXSM seeded
        with 256 bits from the operating system's CSPRNG, never logged. Give one
        only to reproduce a build (tests); a known seed discloses the order.
    workers
        Processes hashing in parallel (fork-based; 1 hashes in this process).

    Returns
    -------
    Liabilities
        The trees, with what is needed to write every proof.

    Raises
    ------
    ProofInputError
        If ``height``, ``secret``, ``custodian``, ``split`` or ``workers`` is out of range.
    """
    if isinstance(height, bool) or not isinstance(height, int) or not 0 <= height < 2**31:
        raise ProofInputError("height", height, "a block height in [0, 2**31 - 1]")
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        shown = f"{len(secret)} bytes" if isinstance(secret, bytes) else type(secret).__name__
        raise ProofInputError("secret", shown, f"at least {MIN_SECRET_BYTES} random bytes")
    custodian = _check_custodian(custodian)
    if isinstance(split, bool) or not isinstance(split, int) or not 1 <= split <= MAX_PARTS:
        raise ProofInputError("split", split, f"an int in [1, {MAX_PARTS}]")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise ProofInputError("workers", workers, "an int in [1, 64]")
    generator = rng or np.random.Generator(np.random.PCG64DXSM(secrets.randbits(256)))
    inputs = []
    leaf_customers: dict[str, npt.NDArray[np.int64]] = {}
    leaf_parts: dict[str, npt.NDArray[np.int64]] = {}
    for asset, (holders, amounts) in balances.holdings.items():
        if split > 1:
            customers = np.repeat(holders, split)
            parts = np.tile(np.arange(split, dtype=np.int64), len(holders))
            values = _split(amounts, split, generator).reshape(-1)
        else:
            customers, parts, values = holders, np.zeros(len(holders), np.int64), amounts
        # Leaf i of the input order goes to tree position positions[i]; the tree
        # position j holds input leaf order[j]. Hashing follows the input order.
        order = generator.permutation(len(values))
        positions = np.empty_like(order)
        positions[order] = np.arange(len(order))
        inputs.append(LeafInput(asset, customers, parts, values, positions=positions))
        leaf_customers[asset], leaf_parts[asset] = customers[order], parts[order]
    deriver = NonceDeriver(secret, height)
    trees = build_trees(inputs, balances.customer_ids, deriver, workers)
    return Liabilities(
        custodian=custodian,
        height=height,
        customer_ids=balances.customer_ids,
        trees={tree.asset: tree for tree in trees},
        leaf_customers=leaf_customers,
        leaf_parts=leaf_parts,
        _deriver=deriver,
    )


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step and its outcome.

    Parameters
    ----------
    name
        What was checked (stable text, the same in every verifier).
    ok
        Whether it holds.
    detail
        Why not, or what was found.
    """

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class InclusionReport:
    """Outcome of :func:`verify_inclusion`.

    Parameters
    ----------
    checks
        Every check, in order.
    balances
        The customer's balance per asset, as the proof states it [smallest unit].
    """

    checks: tuple[Check, ...]
    balances: dict[str, int]

    @property
    def ok(self) -> bool:
        """True when every check holds."""
        return all(check.ok for check in self.checks)


def _walk(
    digest: bytes, total: int, index: int, path: Sequence[PathStep]
) -> tuple[bytes, int, str]:
    """Fold a leaf up its path; return the root digest, the root sum and a range fault."""
    for level, step in enumerate(path):
        if not 0 <= step.sum <= MAX_AMOUNT:
            return digest, total, f"level {level}: sibling sum {step.sum} outside [0, 2**63 - 1]"
        sibling = bytes.fromhex(step.digest)
        if (index >> level) & 1:
            digest = node_digest(sibling, step.sum, digest, total)
        else:
            digest = node_digest(digest, total, sibling, step.sum)
        total += step.sum
        if total > MAX_AMOUNT:
            return digest, total, f"level {level + 1}: sum {total} passes 2**63 - 1"
    return digest, total, ""


def _leaf_checks(
    proof: InclusionProof, entry: AssetInclusion, leaf: LeafProof, nonce: bytes
) -> list[Check]:
    label = f"{entry.asset} leaf {leaf.index}"
    root = entry.root
    checks = [
        Check(
            f"{label}: amount in range",
            0 <= leaf.amount <= MAX_AMOUNT,
            "" if 0 <= leaf.amount <= MAX_AMOUNT else f"{leaf.amount} outside [0, 2**63 - 1]",
        )
    ]
    fits = len(leaf.path) == root.depth and 0 <= leaf.index < root.leaf_count
    checks.append(
        Check(
            f"{label}: path fits the tree",
            fits,
            ""
            if fits
            else f"{len(leaf.path)} steps for depth {root.depth}, index {leaf.index} of "
            f"{root.leaf_count} leaves",
        )
    )
    if not checks[0].ok:
        return [*checks, Check(f"{label}: sibling sums in range", False, "amount out of range")]
    start = leaf_digest(nonce, entry.asset, proof.customer_id, leaf.part, leaf.amount)
    digest, total, fault = _walk(start, leaf.amount, leaf.index, leaf.path)
    checks.append(Check(f"{label}: sibling sums in range", not fault, fault))
    if fault:
        return checks
    checks.append(
        Check(
            f"{label}: root digest",
            digest.hex() == root.digest,
            "" if digest.hex() == root.digest else f"recomputed {digest.hex()}",
        )
    )
    checks.append(
        Check(
            f"{label}: root total",
            total == root.total,
            "" if total == root.total else f"recomputed {total}, published {root.total}",
        )
    )
    return checks


def verify_inclusion(
    proof: InclusionProof,
    *,
    root: LiabilitiesRoot | None = None,
    customer_id: str | None = None,
) -> InclusionReport:
    """Check a customer's inclusion proof, check by check.

    For every leaf: its amount is in range; its path has the tree's depth and
    its index lies in the tree; the leaf digest recomputed from the nonce, the
    asset, the customer id, the part and the amount, folded up the path
    (sides from the index bits, both sums in every node), gives the published
    root digest; every sibling sum and running sum stays in ``[0, 2**63 - 1]``;
    the sums add up to the published total. For every asset: the leaves are
    distinct (parts and indices) and add up to the stated balance.

    Parameters
    ----------
    proof
        The inclusion proof.
    root
        The custodian's published ``root.json``; when given, the proof's
        custodian, height and roots must equal it.
    customer_id
        The customer's own id; when given, the proof must be for it.

    Returns
    -------
    InclusionReport
        Every check and the balances the proof states.
    """
    checks: list[Check] = []
    if customer_id is not None:
        same = proof.customer_id == customer_id
        checks.append(
            Check("customer id", same, "" if same else f"proof is for {proof.customer_id!r}")
        )
    if root is not None:
        mismatch = []
        if (root.custodian, root.height) != (proof.custodian, proof.height):
            mismatch.append(
                f"custodian/height {proof.custodian}/{proof.height}, "
                f"published {root.custodian}/{root.height}"
            )
        published = {a.asset: a for a in root.assets}
        for entry in proof.assets:
            if published.get(entry.asset) != entry.root:
                mismatch.append(f"{entry.asset} root differs from the published one")
        checks.append(Check("published root", not mismatch, "; ".join(mismatch)))
    nonce = bytes.fromhex(proof.nonce)
    balances = {}
    for entry in proof.assets:
        for leaf in entry.leaves:
            checks.extend(_leaf_checks(proof, entry, leaf, nonce))
        parts = [leaf.part for leaf in entry.leaves]
        indices = [leaf.index for leaf in entry.leaves]
        distinct = len(set(parts)) == len(parts) and len(set(indices)) == len(indices)
        checks.append(
            Check(
                f"{entry.asset} leaves distinct",
                distinct,
                "" if distinct else f"parts {parts}, indices {indices}",
            )
        )
        stated = sum(leaf.amount for leaf in entry.leaves)
        checks.append(
            Check(
                f"{entry.asset} balance = sum of leaves",
                stated == entry.balance,
                ""
                if stated == entry.balance
                else f"leaves sum to {stated}, balance {entry.balance}",
            )
        )
        balances[entry.asset] = entry.balance
    return InclusionReport(tuple(checks), balances)
