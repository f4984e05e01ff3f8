"""Building liabilities trees and checking inclusion proofs."""

from __future__ import annotations

import json
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashnation.proofs import _engine
from hashnation.proofs.balances import Balances
from hashnation.proofs.documents import InclusionProof, parse_document
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.hashing import MAX_AMOUNT
from hashnation.proofs.liabilities import build_liabilities, liabilities_digest, verify_inclusion

SECRET = bytes(range(32, 64))
ROWS = [
    ("alice", "BTC", 150_000_000),
    ("alice", "USDT", 2_500_000_000),
    ("bob", "BTC", 20_000),
    ("carol", "BTC", 0),
    ("dave", "USDC", 1),
    ("erin", "BTC", 7_777),
]


def build(rows: list[tuple[str, str, int]] = ROWS, **options: object) -> object:
    defaults: dict[str, object] = {"height": 900_000, "secret": SECRET, "custodian": "acme"}
    defaults.update(options)
    return build_liabilities(Balances.from_rows(rows), **defaults)  # type: ignore[arg-type]


def test_every_customer_proof_verifies() -> None:
    book = build(rng=np.random.default_rng(1))
    root = book.root()
    assert [(a.asset, a.total, a.leaf_count) for a in root.assets] == [
        ("BTC", 150_027_777, 4),
        ("USDC", 1, 1),
        ("USDT", 2_500_000_000, 1),
    ]
    seen = set()
    for proof in book.proofs():
        report = verify_inclusion(proof, root=root, customer_id=proof.customer_id)
        assert report.ok, [c for c in report.checks if not c.ok]
        seen.add(proof.customer_id)
        # A written and re-read proof verifies the same.
        again = parse_document(InclusionProof, proof.to_json())
        assert verify_inclusion(again, root=root).ok
    assert seen == {"alice", "bob", "carol", "dave", "erin"}
    assert verify_inclusion(book.proof("alice")).balances == {
        "BTC": 150_000_000,
        "USDT": 2_500_000_000,
    }


def test_tree_matches_the_reference_implementation(reference: ModuleType) -> None:
    book = build(rng=np.random.default_rng(2), split=3)
    for asset_root in book.root().assets:
        leaves = [
            (bytes.fromhex(d), v) for a, _, d, v in book.disclosed_leaves() if a == asset_root.asset
        ]
        digest, total = reference.root(leaves)
        assert (digest.hex(), total) == (asset_root.digest, asset_root.total)
    # Each leaf is the reference leaf of its customer, part and amount, with the HMAC nonce.
    for proof in book.proofs():
        nonce = reference.nonce(SECRET, 900_000, proof.customer_id)
        assert proof.nonce == nonce.hex()
        for entry in proof.assets:
            for leaf in entry.leaves:
                expected = reference.leaf(
                    nonce, entry.asset, proof.customer_id, leaf.part, leaf.amount
                )
                assert book.leaf(entry.asset, leaf.index) == (expected, leaf.amount)


def test_split_and_shuffle() -> None:
    rows = [(f"c{i}", "BTC", 1_000 * i) for i in range(40)]
    book = build(rows, split=4, rng=np.random.default_rng(3))
    assert book.root().assets[0].leaf_count == 160
    for proof in book.proofs():
        (entry,) = proof.assets
        assert [leaf.part for leaf in entry.leaves] == [0, 1, 2, 3]
        assert sum(leaf.amount for leaf in entry.leaves) == entry.balance
    # The order is shuffled: customers' first parts are not in input order.
    first_parts = [book.proof(f"c{i}").assets[0].leaves[0].index for i in range(40)]
    assert first_parts != sorted(first_parts)
    # Without a generator the build draws from the OS: two builds differ in order.
    a, b = build(rows), build(rows)
    assert a.root().assets[0].digest != b.root().assets[0].digest
    assert a.root().assets[0].total == b.root().assets[0].total


def test_same_generator_same_tree_and_nonces_bound_to_height() -> None:
    one = build(rng=np.random.default_rng(5))
    two = build(rng=np.random.default_rng(5))
    assert one.root() == two.root()
    later = build(rng=np.random.default_rng(5), height=900_001)
    assert later.proof("bob").nonce != one.proof("bob").nonce
    assert liabilities_digest(one.root()) != liabilities_digest(later.root())


def test_parallel_build_equals_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_engine, "PARALLEL_MIN_NODES", 64)
    rows = [(f"k{i:05d}", "BTC", i * 37 % 1000) for i in range(3001)]
    rows += [(f"k{i:05d}", "USDT", i) for i in range(0, 3001, 3)]
    serial = build(rows, rng=np.random.default_rng(9))
    parallel = build(rows, rng=np.random.default_rng(9), workers=2)
    assert serial.root() == parallel.root()
    for asset in ("BTC", "USDT"):
        for level_a, level_b in zip(
            serial.trees[asset].levels, parallel.trees[asset].levels, strict=True
        ):
            assert np.array_equal(level_a, level_b)


def test_single_asset_fast_path_equals_rows() -> None:
    ids = [f"u{i}" for i in range(100)]
    amounts = np.arange(100, dtype=np.uint64) * 3
    fast = Balances.single_asset(ids, "BTC", amounts)
    rows = Balances.from_rows([(c, "BTC", int(a)) for c, a in zip(ids, amounts, strict=True)])
    assert (
        build_liabilities(fast, height=1, secret=SECRET, rng=np.random.default_rng(0)).root()
        == build_liabilities(rows, height=1, secret=SECRET, rng=np.random.default_rng(0)).root()
    )
    with pytest.raises(ProofInputError, match="amounts"):
        Balances.single_asset(ids, "BTC", -amounts.astype(np.int64) - 1)
    with pytest.raises(ProofInputError, match="each customer once"):
        Balances.single_asset(["a", "A"], "BTC", [1, 2])
    with pytest.raises(ProofInputError, match="total"):
        Balances.single_asset(["a", "b"], "BTC", np.array([MAX_AMOUNT, 1], dtype=np.uint64))


def test_build_options_are_checked() -> None:
    balances = Balances.from_rows(ROWS)
    for option, value, field in [
        ("height", -1, "height"),
        ("secret", b"short", "secret"),
        ("custodian", "bad id!", "custodian"),
        ("split", 0, "split"),
        ("split", 65, "split"),
        ("workers", 0, "workers"),
    ]:
        options: dict[str, object] = {"height": 1, "secret": SECRET, option: value}
        with pytest.raises(ProofInputError, match=f"^{field}: got"):
            build_liabilities(balances, **options)  # type: ignore[arg-type]
    book = build()
    with pytest.raises(ProofInputError, match="customer_id: got 'zed'"):
        book.proof("zed")


def test_largest_amounts_fit() -> None:
    rows = [("whale", "BTC", MAX_AMOUNT - 5), ("minnow", "BTC", 5)]
    book = build(rows, rng=np.random.default_rng(1))
    assert book.root().assets[0].total == MAX_AMOUNT
    assert all(verify_inclusion(p).ok for p in book.proofs())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amounts=st.lists(st.integers(0, 10**15), min_size=1, max_size=40),
    split=st.integers(1, 3),
    seed=st.integers(0, 2**32),
)
def test_any_book_proves_every_customer(
    reference: ModuleType, amounts: list[int], split: int, seed: int
) -> None:
    rows = [(f"id{i}", "BTC", a) for i, a in enumerate(amounts)]
    book = build(rows, split=split, rng=np.random.default_rng(seed))
    (asset_root,) = book.root().assets
    assert asset_root.total == sum(amounts)
    assert asset_root.leaf_count == len(amounts) * split
    leaves = [(bytes.fromhex(d), v) for _, _, d, v in book.disclosed_leaves()]
    assert reference.root(leaves) == (bytes.fromhex(asset_root.digest), sum(amounts))
    for proof in book.proofs():
        assert verify_inclusion(proof).ok


def test_proof_documents_are_deterministic_json() -> None:
    book = build(rng=np.random.default_rng(4))
    text = book.proof("alice").to_json()
    doc = json.loads(text)
    assert list(doc) == sorted(doc)
    assert doc["format"] == "hashnation-por-inclusion-proof" and doc["version"] == 1
    assert isinstance(doc["assets"][0]["balance"], str)  # amounts are strings
    assert parse_document(InclusionProof, text).to_json() == text


def test_proof_document_fast_path_equals_the_model() -> None:
    book = build(split=2, rng=np.random.default_rng(8))
    for customer, document in zip(book.customer_ids, book.proof_documents(), strict=True):
        assert document == book.proof(customer).model_dump(mode="json")
        assert book.proof_document(customer) == document
    leaf = book.proof("alice").assets[0].leaves[0]
    assert book.path("BTC", leaf.index) == leaf.path
