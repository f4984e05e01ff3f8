"""The regulator's audit: recompute every tree from the disclosed leaves, then sample.

The custodian discloses its leaves (``leaves.csv``: asset, index, digest,
amount; no customer ids, no nonces). From them alone the regulator

1. recomputes each asset's tree and compares root digest, total, leaf count and
   depth with ``root.json``, checking every amount and the total are in range
   and that no leaf digest appears twice (one leaf shown to two customers);
2. checks a random sample of customer proofs, when it holds them: each
   verifies against ``root.json``, each leaf it claims is the disclosed leaf
   at its index (same digest, same amount), and no leaf is claimed by two
   proofs;
3. checks a random sample of the BIP322 reserve signatures against their
   challenges, and that an attestation is about this ``root.json``.

Samples are drawn with :class:`random.Random` from a seed the report shows, so
that anyone can draw the same sample again.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hashnation.proofs._engine import LeafInput, build_trees
from hashnation.proofs.balances import _exact_total
from hashnation.proofs.documents import InclusionProof, LiabilitiesRoot, ReserveClaim
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.hashing import MAX_AMOUNT, leaf_digest, tree_depth
from hashnation.proofs.liabilities import Check, verify_inclusion
from hashnation.proofs.reserves import verify_control

__all__ = [
    "DISCLOSED_COLUMNS",
    "AuditReport",
    "DisclosedLeaves",
    "audit_leaves",
    "audit_proofs",
    "audit_reserves",
    "format_disclosed_leaves",
    "parse_disclosed_leaves",
]

DISCLOSED_COLUMNS = ("asset", "index", "digest", "amount")
"""Columns of the disclosed leaf file."""


@dataclass(frozen=True, slots=True)
class DisclosedLeaves:
    """The leaves of every tree, as the custodian disclosed them.

    Parameters
    ----------
    digests
        Per asset, the leaf digests in index order, ``(n, 32)`` ``uint8``.
    amounts
        Per asset, the leaf amounts in index order [smallest unit], as Python
        ints (an adversarial file may hold values a ``uint64`` cannot).
    """

    digests: dict[str, npt.NDArray[np.uint8]]
    amounts: dict[str, list[int]]


def format_disclosed_leaves(rows: Iterable[tuple[str, int, str, int]]) -> Iterator[str]:
    """Yield the lines of a disclosed leaf file, header first, each ending in a newline.

    Parameters
    ----------
    rows
        ``(asset, index, digest hex, amount)`` as
        :meth:`~hashnation.proofs.liabilities.Liabilities.disclosed_leaves` gives them.

    Yields
    ------
    str
        One CSV line.
    """
    yield ",".join(DISCLOSED_COLUMNS) + "\n"
    for asset, index, digest, amount in rows:
        yield f"{asset},{index},{digest},{amount}\n"


def parse_disclosed_leaves(text: str, where: str = "leaves.csv") -> DisclosedLeaves:
    """Read a disclosed leaf file.

    Parameters
    ----------
    text
        The file's content: header ``asset,index,digest,amount``, then rows
        grouped by asset, indices ``0, 1, 2, ...`` in order within each asset.
    where
        File name, for messages.

    Returns
    -------
    DisclosedLeaves
        The leaves per asset.

    Raises
    ------
    ProofInputError
        On a wrong header, a malformed row, an index out of order or an asset
        given in two runs; the message names the row.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != DISCLOSED_COLUMNS:
        raise ProofInputError(f"{where} row 1", header, ",".join(DISCLOSED_COLUMNS))
    digests: dict[str, list[bytes]] = {}
    amounts: dict[str, list[int]] = {}
    current = None
    for cells in reader:
        at = f"{where} row {reader.line_num}"
        if len(cells) != 4:
            raise ProofInputError(at, ",".join(cells), "asset,index,digest,amount")
        asset, index, digest, amount = cells
        if asset != current:
            if asset in digests:
                raise ProofInputError(f"{at} asset", asset, "each asset's rows together")
            digests[asset], amounts[asset], current = [], [], asset
        if index != str(len(digests[asset])):
            raise ProofInputError(f"{at} index", index, f"{len(digests[asset])} (next in order)")
        try:
            raw = bytes.fromhex(digest)
        except ValueError:
            raw = b""
        if len(raw) != 32 or digest != digest.lower():
            raise ProofInputError(f"{at} digest", digest, "64 lower-case hex digits")
        if not (amount.isascii() and amount.isdigit()):
            raise ProofInputError(f"{at} amount", amount, "a whole number >= 0")
        digests[asset].append(raw)
        amounts[asset].append(int(amount))
    if not digests:
        raise ProofInputError(where, "no rows", "at least one leaf")
    return DisclosedLeaves(
        {a: np.frombuffer(b"".join(d), dtype=np.uint8).reshape(-1, 32) for a, d in digests.items()},
        amounts,
    )


def audit_leaves(root: LiabilitiesRoot, leaves: DisclosedLeaves, workers: int = 1) -> list[Check]:
    """Recompute each tree from the disclosed leaves and compare with ``root.json``.

    Parameters
    ----------
    root
        The published root.
    leaves
        The disclosed leaves.
    workers
        Processes hashing in parallel.

    Returns
    -------
    list of Check
        Per asset: leaf count, amounts in range, distinct digests, total, root digest.
    """
    checks = []
    published = {a.asset: a for a in root.assets}
    extra = sorted(set(leaves.digests) - set(published))
    checks.append(Check("leaf file: no asset without a published root", not extra, str(extra)))
    for asset, asset_root in published.items():
        digests = leaves.digests.get(asset)
        values = leaves.amounts.get(asset, [])
        count = 0 if digests is None else len(digests)
        checks.append(
            Check(
                f"{asset}: leaf count",
                count == asset_root.leaf_count,
                f"{count} leaves disclosed, {asset_root.leaf_count} published",
            )
        )
        if digests is None or not count:
            continue
        in_range = all(0 <= v <= MAX_AMOUNT for v in values)
        checks.append(Check(f"{asset}: amounts in range [0, 2^63-1]", in_range))
        unique = len({bytes(d) for d in digests}) == count
        checks.append(
            Check(f"{asset}: no leaf digest repeated", unique, "" if unique else "a leaf twice")
        )
        if not in_range:
            continue
        array = np.asarray(values, dtype=np.uint64)
        total = _exact_total(array)
        checks.append(
            Check(
                f"{asset}: total",
                total == asset_root.total and total <= MAX_AMOUNT,
                f"leaves sum to {total}, published {asset_root.total}",
            )
        )
        if total > MAX_AMOUNT:
            continue
        zeros = np.zeros(count, np.int64)
        given = LeafInput(asset, zeros, zeros, array, np.ascontiguousarray(digests))
        tree = build_trees([given], (), None, workers)[0]
        digest, _ = tree.root
        checks.append(
            Check(
                f"{asset}: root digest recomputed",
                digest.hex() == asset_root.digest and asset_root.depth == tree_depth(count),
                f"recomputed {digest.hex()}",
            )
        )
    return checks


def audit_proofs(
    root: LiabilitiesRoot, leaves: DisclosedLeaves, proofs: Sequence[InclusionProof]
) -> list[Check]:
    """Check customer proofs against the root and against the disclosed leaves.

    Parameters
    ----------
    root
        The published root.
    leaves
        The disclosed leaves.
    proofs
        The proofs to check (all, or a sample).

    Returns
    -------
    list of Check
        One per proof (it verifies and its leaves are the disclosed ones), and
        one saying no leaf is claimed by two proofs.
    """
    checks = []
    claimed: dict[tuple[str, int], str] = {}
    twice = []
    for proof in proofs:
        report = verify_inclusion(proof, root=root)
        faults = [c.name for c in report.checks if not c.ok]
        nonce = bytes.fromhex(proof.nonce)
        for entry in proof.assets:
            digests = leaves.digests.get(entry.asset)
            for leaf in entry.leaves:
                key = (entry.asset, leaf.index)
                owner = claimed.setdefault(key, proof.customer_id)
                if owner != proof.customer_id:
                    twice.append(
                        f"{entry.asset} leaf {leaf.index}: {owner} and {proof.customer_id}"
                    )
                mine = leaf_digest(nonce, entry.asset, proof.customer_id, leaf.part, leaf.amount)
                if (
                    digests is None
                    or leaf.index >= len(digests)
                    or bytes(digests[leaf.index]) != mine
                    or leaves.amounts[entry.asset][leaf.index] != leaf.amount
                ):
                    faults.append(f"{entry.asset} leaf {leaf.index} is not the disclosed leaf")
        checks.append(Check(f"proof of {proof.customer_id}", not faults, "; ".join(faults)))
    checks.append(Check("no leaf claimed by two proofs", not twice, "; ".join(twice[:5])))
    return checks


def audit_reserves(
    claim: ReserveClaim, root: LiabilitiesRoot, sample: int, rng: random.Random
) -> list[Check]:
    """Verify a random sample of the claim's BIP322 signatures.

    Parameters
    ----------
    claim
        The custodian's ``reserves.json``.
    root
        The liabilities root the challenges are bound to.
    sample
        How many addresses to check (all when the claim has fewer).
    rng
        Source of the sample (seeded by the caller, who reports the seed).

    Returns
    -------
    list of Check
        One per sampled address.
    """
    chosen = claim.addresses
    if sample < len(chosen):
        chosen = rng.sample(list(chosen), sample)
    return [
        Check(f"reserve address {c.address}", c.ok, c.reason)
        for c in verify_control(claim, root, chosen)
    ]


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Everything an audit checked.

    Parameters
    ----------
    seed
        Seed of the samples [int], so that they can be drawn again.
    checks
        Every check, in order.
    sampled_proofs
        Customer proofs checked.
    sampled_addresses
        Reserve addresses checked.
    """

    seed: int
    checks: tuple[Check, ...] = field(default_factory=tuple)
    sampled_proofs: int = 0
    sampled_addresses: int = 0

    @property
    def ok(self) -> bool:
        """True when every check holds."""
        return all(check.ok for check in self.checks)
