"""The regulator's audit: whole trees recomputed from disclosed leaves, samples of proofs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from hashnation.proofs.audit import (
    audit_leaves,
    audit_proofs,
    audit_reserves,
    format_disclosed_leaves,
    parse_disclosed_leaves,
)
from hashnation.proofs.balances import Balances
from hashnation.proofs.documents import ReserveAddress, ReserveClaim
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.liabilities import Liabilities, build_liabilities

ROWS = [(f"c{i}", "BTC", 1_000 + i) for i in range(9)] + [("c1", "USDT", 5), ("c2", "USDT", 6)]


@pytest.fixture(scope="module")
def book() -> Liabilities:
    return build_liabilities(
        Balances.from_rows(ROWS),
        height=7,
        secret=b"s" * 32,
        custodian="acme",
        split=2,
        rng=np.random.default_rng(3),
    )


def leaf_lines(book: Liabilities) -> list[str]:
    return list(format_disclosed_leaves(book.disclosed_leaves()))


def failed(checks: list) -> set[str]:  # type: ignore[type-arg]
    return {c.name for c in checks if not c.ok}


def test_honest_book_passes(book: Liabilities) -> None:
    leaves = parse_disclosed_leaves("".join(leaf_lines(book)))
    checks = audit_leaves(book.root(), leaves)
    assert not failed(checks) and len(checks) == 11
    proofs = list(book.proofs())
    assert not failed(audit_proofs(book.root(), leaves, proofs))


def altered(book: Liabilities, line: int, column: int, value: str) -> str:
    lines = leaf_lines(book)
    cells = lines[line].rstrip("\n").split(",")
    cells[column] = value
    lines[line] = ",".join(cells) + "\n"
    return "".join(lines)


def test_changed_amount_changes_total_and_root(book: Liabilities) -> None:
    amount = int(leaf_lines(book)[3].split(",")[3])
    leaves = parse_disclosed_leaves(altered(book, 3, 3, str(amount - 1)))
    assert failed(audit_leaves(book.root(), leaves)) == {
        "BTC: total",
        "BTC: root digest recomputed",
    }


def test_changed_digest_changes_root(book: Liabilities) -> None:
    leaves = parse_disclosed_leaves(altered(book, 5, 2, "ab" * 32))
    assert failed(audit_leaves(book.root(), leaves)) == {"BTC: root digest recomputed"}
    # and the customer owning that leaf is told: their leaf is not the disclosed one
    checks = audit_proofs(book.root(), leaves, list(book.proofs()))
    assert len(failed(checks)) == 1 and next(iter(failed(checks))).startswith("proof of c")


def test_repeated_leaf_and_wrong_count(book: Liabilities) -> None:
    lines = leaf_lines(book)
    digest = lines[1].split(",")[2]
    leaves = parse_disclosed_leaves(altered(book, 2, 2, digest))
    assert "BTC: no leaf digest repeated" in failed(audit_leaves(book.root(), leaves))
    short = parse_disclosed_leaves("".join(lines[:-1]))  # one USDT leaf left out
    assert "USDT: leaf count" in failed(audit_leaves(book.root(), short))


def test_out_of_range_amount(book: Liabilities) -> None:
    leaves = parse_disclosed_leaves(altered(book, 1, 3, str(2**63)))
    assert "BTC: amounts in range [0, 2^63-1]" in failed(audit_leaves(book.root(), leaves))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("asset,index\n", "row 1"),
        ("asset,index,digest,amount\nBTC,1," + "ab" * 32 + ",5\n", "row 2 index: got '1'"),
        ("asset,index,digest,amount\nBTC,0," + "AB" * 32 + ",5\n", "row 2 digest"),
        ("asset,index,digest,amount\nBTC,0," + "ab" * 32 + ",-5\n", "row 2 amount"),
        (
            "asset,index,digest,amount\nBTC,0,"
            + "ab" * 32
            + ",5\nUSDT,0,"
            + "ab" * 32
            + ",5\nBTC,1,"
            + "ab" * 32
            + ",5\n",
            "row 4 asset: got 'BTC', expected each asset's rows together",
        ),
        ("asset,index,digest,amount\n", "at least one leaf"),
    ],
)
def test_malformed_leaf_files(text: str, message: str) -> None:
    with pytest.raises(ProofInputError, match=message):
        parse_disclosed_leaves(text)


def test_reserve_sample_is_reproducible(book: Liabilities) -> None:
    address = "bc1qptqd6902tgrvl5zsj2dm5q4hvvdajh35y4dlup"
    claim = ReserveClaim(
        custodian="acme",
        height=7,
        addresses=[ReserveAddress(asset="BTC", address=address, signature="smpAA==")],
    )
    one = audit_reserves(claim, book.root(), 5, random.Random(1))
    assert [(c.name, c.ok) for c in one] == [(f"reserve address {address}", False)]
    assert one == audit_reserves(claim, book.root(), 5, random.Random(1))
