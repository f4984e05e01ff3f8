"""The known attacks on naive Merkle-sum trees: each fools a naive verifier, not ours.

Every test builds the attack against a naive scheme and shows a naive verifier
accepting proofs whose root total understates what the customers are owed,
then mounts the same attack on HashNation's scheme and shows
:func:`~hashnation.proofs.liabilities.verify_inclusion` refusing it.
``docs/proof-of-liabilities.md`` describes each attack.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from hashnation.proofs.audit import audit_proofs, format_disclosed_leaves, parse_disclosed_leaves
from hashnation.proofs.balances import Balances
from hashnation.proofs.documents import (
    AssetInclusion,
    AssetRoot,
    InclusionProof,
    LeafProof,
    PathStep,
    parse_document,
)
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.hashing import MAX_AMOUNT, leaf_digest, node_digest, tree_depth
from hashnation.proofs.liabilities import build_liabilities, verify_inclusion

Node = tuple[bytes, int]
NONCE_A, NONCE_B = b"\xaa" * 32, b"\xbb" * 32


def sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


# -- HashNation proofs built by hand (validation bypassed, as an attacker would) -----------


def forged(
    customer_id: str,
    nonce: bytes,
    amount: int,
    index: int,
    path: Sequence[Node],
    root: Node,
    leaf_count: int,
) -> InclusionProof:
    steps = [PathStep.model_construct(digest=d.hex(), sum=s) for d, s in path]
    asset_root = AssetRoot.model_construct(
        asset="BTC",
        unit="sat",
        digest=root[0].hex(),
        total=root[1],
        leaf_count=leaf_count,
        depth=tree_depth(leaf_count),
    )
    leaf = LeafProof.model_construct(part=0, amount=amount, index=index, path=steps)
    entry = AssetInclusion.model_construct(
        asset="BTC", balance=amount, root=asset_root, leaves=[leaf]
    )
    return InclusionProof.model_construct(
        format="hashnation-por-inclusion-proof",
        version=1,
        custodian="acme",
        height=900_000,
        customer_id=customer_id,
        nonce=nonce.hex(),
        assets=[entry],
    )


def ours(proof: InclusionProof, customer_id: str | None = None) -> tuple[bool, set[str]]:
    report = verify_inclusion(proof, customer_id=customer_id)
    return report.ok, {c.name for c in report.checks if not c.ok}


def leaf_of(customer_id: str, nonce: bytes, amount: int) -> Node:
    return leaf_digest(nonce, "BTC", customer_id, 0, amount), amount


def parent(left: Node, right: Node) -> Node:
    return node_digest(left[0], left[1], right[0], right[1]), left[1] + right[1]


# -- a generic naive verifier: sides from the index, a pluggable node rule ----------------


def naive_verify(
    leaf: Node,
    index: int,
    path: Sequence[Node],
    root: Node,
    combine: Callable[[Node, Node], Node],
) -> bool:
    node = leaf
    for level, sibling in enumerate(path):
        node = combine(sibling, node) if (index >> level) & 1 else combine(node, sibling)
    return node == root


def test_maxwell_todd_child_sums_must_be_committed() -> None:
    # Naive (Maxwell's original): a node hashes only its own total, not each child's.
    def sum_only(left: Node, right: Node) -> Node:
        total = left[1] + right[1]
        return sha(total.to_bytes(8, "big"), left[0], right[0]), total

    leaf_a, leaf_b = (sha(NONCE_A, b"a100"), 100), (sha(NONCE_B, b"b60"), 60)
    # The custodian publishes a root of total 100 (max of the two), not 160, and shows
    # each customer the other's sum as whatever makes 100.
    root = sum_only((leaf_a[0], 100), (leaf_b[0], 0))
    assert root[1] == 100
    assert naive_verify(leaf_a, 0, [(leaf_b[0], 0)], root, sum_only)
    assert naive_verify(leaf_b, 1, [(leaf_a[0], 40)], root, sum_only)

    # Ours: each node commits to both child sums; the root fixes what each side is shown.
    a, b = leaf_of("alice", NONCE_A, 100), leaf_of("bob", NONCE_B, 60)
    fake_root = node_digest(a[0], 100, b[0], 0), 100
    shown_to_a = forged("alice", NONCE_A, 100, 0, [(b[0], 0)], fake_root, 2)
    shown_to_b = forged("bob", NONCE_B, 60, 1, [(a[0], 40)], fake_root, 2)
    assert ours(shown_to_a)[0]  # alice sees her own 100 included...
    ok, failed = ours(shown_to_b)  # ...but bob cannot be shown a matching sibling sum
    assert not ok and "BTC leaf 1: root digest" in failed
    for sibling_sum in (0, 40, 60, 100):
        assert not ours(forged("bob", NONCE_B, 60, 1, [(a[0], sibling_sum)], fake_root, 2))[0]
    # The only root both accept is the honest one, whose total is 160.
    honest = parent(a, b)
    assert ours(forged("alice", NONCE_A, 100, 0, [b], honest, 2))[0]
    assert ours(forged("bob", NONCE_B, 60, 1, [a], honest, 2))[0]
    assert honest[1] == 160


def test_negative_leaf_cannot_offset_liabilities() -> None:
    # Naive: sums are signed 64-bit and never range-checked.
    def signed(left: Node, right: Node) -> Node:
        enc = [v.to_bytes(8, "big", signed=True) for v in (left[1], right[1])]
        return sha(b"\x01", left[0], enc[0], right[0], enc[1]), left[1] + right[1]

    leaf_a, fake, leaf_b, zero = (
        (sha(b"a"), 100),
        (sha(b"fake"), -150),
        (sha(b"b"), 60),
        (sha(b"z"), 0),
    )
    left, right = signed(leaf_a, fake), signed(leaf_b, zero)
    root = signed(left, right)
    assert root[1] == 10  # 160 owed, 10 published
    assert naive_verify(leaf_a, 0, [fake, right], root, signed)
    assert naive_verify(leaf_b, 2, [zero, left], root, signed)

    # Ours: the same tree shape with the fake negative leaf.
    b = leaf_of("bob", NONCE_B, 60)
    neg: Node = (sha(b"fake"), -150)
    zero_ = (sha(b"z"), 0)
    right_ = parent(b, zero_)
    fake_left = (sha(b"whatever the custodian claims"), -50)
    proof_a = forged("alice", NONCE_A, 100, 0, [neg, right_], (sha(b"r"), 10), 4)
    proof_b = forged("bob", NONCE_B, 60, 2, [zero_, fake_left], (sha(b"r"), 10), 4)
    for proof, label in ((proof_a, "BTC leaf 0"), (proof_b, "BTC leaf 2")):
        ok, failed = ours(proof)
        assert not ok and f"{label}: sibling sums in range" in failed
    # Written out, such a proof is refused on reading, and so is a negative balance.
    with pytest.raises(ProofInputError, match=r"assets\.0\.leaves\.0\.path\.0\.sum: got '-150'"):
        parse_document(InclusionProof, proof_a.to_json())
    with pytest.raises(ProofInputError, match="row 2 amount: got -150"):
        Balances.from_rows([("mallory", "BTC", -150)])


def test_overflow_cannot_wrap_the_total() -> None:
    # Naive: 64-bit unsigned arithmetic that wraps, as C, Go or Rust release builds do.
    def wrapping(left: Node, right: Node) -> Node:
        total = (left[1] + right[1]) % 2**64
        return (
            sha(
                b"\x01", left[0], left[1].to_bytes(8, "big"), right[0], right[1].to_bytes(8, "big")
            ),
            total,
        )

    # Two fake leaves, each below 2**63, that add up to -150 modulo 2**64.
    fake1, fake2 = 2**63 - 1, 2**63 - 149
    leaf_a, leaf_b = (sha(b"a"), 100), (sha(b"b"), 60)
    f1, f2 = (sha(b"f1"), fake1), (sha(b"f2"), fake2)
    left, right = wrapping(leaf_a, f1), wrapping(leaf_b, f2)
    root = wrapping(left, right)
    assert root[1] == 10  # 160 owed, 10 published
    assert naive_verify(leaf_a, 0, [f1, right], root, wrapping)
    assert naive_verify(leaf_b, 2, [f2, left], root, wrapping)

    # Ours: each sibling is in range, but the running sum passes 2**63 - 1: refused.
    a = leaf_of("alice", NONCE_A, 100)
    proof = forged("alice", NONCE_A, 100, 0, [f1, (sha(b"r"), 60 + fake2)], (sha(b"x"), 10), 4)
    ok, failed = ours(proof)
    assert not ok and "BTC leaf 0: sibling sums in range" in failed
    assert a[1] + fake1 > MAX_AMOUNT
    # A single sibling above 2**63 - 1 (what wrapped in the naive tree) is refused too.
    proof = forged("alice", NONCE_A, 100, 0, [(sha(b"f"), 2**64 - 150)], (sha(b"x"), 10), 2)
    assert "BTC leaf 0: sibling sums in range" in ours(proof)[1]


def test_one_leaf_cannot_serve_two_customers() -> None:
    # Naive: a leaf commits to a custodian-chosen nonce and the amount, not to who owns it.
    def naive_leaf(nonce: bytes, amount: int) -> Node:
        return sha(nonce, amount.to_bytes(8, "big")), amount

    def plain(left: Node, right: Node) -> Node:
        return (
            sha(
                b"\x01", left[0], left[1].to_bytes(8, "big"), right[0], right[1].to_bytes(8, "big")
            ),
            left[1] + right[1],
        )

    shared = naive_leaf(NONCE_A, 100)  # alice and bob are both owed 100
    carol = naive_leaf(b"\xcc" * 32, 50)
    root = plain(shared, carol)
    assert root[1] == 150  # 250 owed
    assert naive_verify(shared, 0, [carol], root, plain)  # alice
    assert naive_verify(shared, 0, [carol], root, plain)  # bob, shown the same leaf

    # Ours: the leaf commits to the customer id.
    book = build_liabilities(
        Balances.from_rows([("alice", "BTC", 100), ("bob", "BTC", 100), ("carol", "BTC", 50)]),
        height=900_000,
        secret=b"s" * 32,
        custodian="acme",
        rng=np.random.default_rng(1),
    )
    alice = book.proof("alice")
    assert verify_inclusion(alice, customer_id="alice").ok
    ok, failed = ours(alice, customer_id="bob")  # handed to bob as it is
    assert not ok and failed == {"customer id"}
    as_bob = alice.model_copy(update={"customer_id": "bob"})  # relabelled for bob
    ok, failed = ours(as_bob, customer_id="bob")
    index = alice.assets[0].leaves[0].index
    assert not ok and f"BTC leaf {index}: root digest" in failed
    # The regulator's audit sees two proofs claiming one leaf.
    leaves = parse_disclosed_leaves("".join(format_disclosed_leaves(book.disclosed_leaves())))
    checks = {c.name: c.ok for c in audit_proofs(book.root(), leaves, [alice, as_bob])}
    assert checks["no leaf claimed by two proofs"] is False
    assert checks["proof of bob"] is False


def test_swapped_siblings_change_the_root() -> None:
    # Naive: children are hashed in sorted order, so a proof does not fix its leaf's side.
    def sorted_pair(left: Node, right: Node) -> Node:
        low, high = sorted([left, right])
        return (
            sha(b"\x01", low[0], low[1].to_bytes(8, "big"), high[0], high[1].to_bytes(8, "big")),
            left[1] + right[1],
        )

    shared = (sha(NONCE_A, b"100"), 100)  # alice's and bob's equal balances, one leaf
    carol = (sha(b"c"), 50)
    root = sorted_pair(shared, carol)
    # Shown at index 0 to alice and at index 1 to bob: an audit counting one proof per
    # index sees two distinct leaves, and both customers accept.
    assert naive_verify(shared, 0, [carol], root, sorted_pair)
    assert naive_verify(shared, 1, [carol], root, sorted_pair)

    # Ours: the index bits fix the sides; a leaf moved to its sibling's place fails.
    book = build_liabilities(
        Balances.from_rows([("alice", "BTC", 100), ("bob", "BTC", 100), ("carol", "BTC", 50)]),
        height=900_000,
        secret=b"s" * 32,
        custodian="acme",
        rng=np.random.default_rng(2),
    )
    for customer in ("alice", "bob", "carol"):
        proof = book.proof(customer)
        leaf = proof.assets[0].leaves[0]
        moved_leaf = leaf.model_copy(update={"index": leaf.index ^ 1})
        moved_entry = proof.assets[0].model_copy(update={"leaves": [moved_leaf]})
        moved = proof.model_copy(update={"assets": [moved_entry]})
        ok, failed = ours(moved)
        assert not ok and f"BTC leaf {leaf.index ^ 1}: root digest" in failed
        # Swapping the order of two path steps fails as well.
        steps = list(leaf.path)
        swapped_leaf = leaf.model_copy(update={"path": [steps[1], steps[0]]})
        swapped_entry = proof.assets[0].model_copy(update={"leaves": [swapped_leaf]})
        assert not ours(proof.model_copy(update={"assets": [swapped_entry]}))[0]
