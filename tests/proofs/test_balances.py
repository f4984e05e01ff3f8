"""Balances files: every fault refused in one line naming the row and the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashnation.proofs.balances import parse_balances_csv, read_balances_csv
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.hashing import MAX_AMOUNT

GOOD = "customer_id,asset,amount\nalice,BTC,150000000\nalice,USDT,2500000000\nbob,BTC,0\n"


def test_good_file() -> None:
    balances = parse_balances_csv(GOOD)
    assert list(balances.customer_ids) == ["alice", "bob"]
    assert balances.totals == {"BTC": 150_000_000, "USDT": 2_500_000_000}
    holders, amounts = balances.holdings["BTC"]
    assert holders.tolist() == [0, 1] and amounts.tolist() == [150_000_000, 0]


def test_columns_in_any_order_blank_lines_and_spaces() -> None:
    text = "amount, customer_id ,asset\n\n5,bob,BTC\n 7 ,carol, USDC\n"
    balances = parse_balances_csv(text)
    assert balances.totals == {"BTC": 5, "USDC": 7}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("alice,BTC,-5", "balances.csv row 2 amount: got '-5'"),
        ("alice,BTC,1.5", "balances.csv row 2 amount: got '1.5'"),
        ("alice,BTC,1e3", "balances.csv row 2 amount: got '1e3'"),
        ("alice,BTC,", "balances.csv row 2 amount: got ''"),
        ("alice,BTC,٣", "balances.csv row 2 amount"),  # a non-ASCII digit
        (f"alice,BTC,{MAX_AMOUNT + 1}", "balances.csv row 2 amount: got 9223372036854775808"),
        ("alice,DOGE,5", "balances.csv row 2 asset: got 'DOGE', expected one of BTC, USDC, USDT"),
        ("alice,btc,5", "balances.csv row 2 asset: got 'btc'"),
        (
            "alice,BTC,5\nalice,BTC,6",
            "balances.csv row 3 customer_id: got 'alice', expected one "
            "row per customer and asset (BTC already given in row 2)",
        ),
        ("alice,BTC,5\nAlice,BTC,6", "balances.csv row 3 customer_id: got 'Alice'"),
        ("al ice,BTC,5", "balances.csv row 2 customer_id: got 'al ice'"),
        ("-alice,BTC,5", "balances.csv row 2 customer_id"),
        ("x" * 129 + ",BTC,5", "balances.csv row 2 customer_id"),
        (",BTC,5", "balances.csv row 2 customer_id: got ''"),
        ("alice,BTC", "balances.csv row 2: got 'alice,BTC', expected 3 fields"),
        ("alice,BTC,5,extra", "balances.csv row 2: got 'alice,BTC,5,extra'"),
        ('bob,BTC,1\n"alice,BTC,5', "balances.csv row 3"),
        (f"a,BTC,{MAX_AMOUNT}\nb,BTC,1", "balances.csv row 3 amount: got 1, expected a BTC total"),
    ],
)
def test_bad_rows(body: str, message: str) -> None:
    with pytest.raises(ProofInputError) as caught:
        parse_balances_csv("customer_id,asset,amount\n" + body + "\n")
    text = str(caught.value)
    assert message in text, text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "balances.csv: got 'an empty file'"),
        (
            "customer_id,asset,amount\n",
            "balances.csv: got 'no rows', expected at least one balance",
        ),
        ("customer,asset,amount\nalice,BTC,5\n", "balances.csv row 1: got 'customer,asset,amount'"),
        ("customer_id,asset\nalice,BTC\n", "balances.csv row 1"),
    ],
)
def test_bad_files(text: str, message: str) -> None:
    with pytest.raises(ProofInputError, match=message.replace("(", r"\(")):
        parse_balances_csv(text)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ProofInputError, match="a readable file"):
        read_balances_csv(tmp_path / "missing.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"customer_id,asset,amount\ncaf\xe9,BTC,5\n")
    with pytest.raises(
        ProofInputError, match=r"latin1.csv row 2: got b'\\xe9', expected UTF-8 text"
    ):
        read_balances_csv(bad)
