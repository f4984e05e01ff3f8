"""Transparency report: built from a regtest reserve, re-checked offline, tampering caught.

The reserve is a BIP84 watch-only descriptor (BIP32 test vector 1's master key,
public part only) whose addresses receive funds in blocks mined here under
regtest rules; one output is later spent. Each tampering test changes exactly one
field of a good report and expects the verifier to name that item.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hashnation.chain.regtest import RegtestChain, payment_transaction
from hashnation.errors import ReserveError
from hashnation.reserve.descriptors import ReserveDescriptors, derive_addresses
from hashnation.reserve.recheck import verify_report
from hashnation.reserve.service import collect_report, scan_reserve
from hashnation.reserve.transparency import (
    PriceQuote,
    ReserveReport,
    report_json_schema,
    usd_value,
)

XPUB = (
    "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8Y"
    "tGqsefD265TMg7usUDFdp6W1EGMcet8"
)
DESCRIPTOR = f"wpkh({XPUB}/<0;1>/*)"
OUTSIDE = bytes.fromhex("0014" + "ab" * 20)
PRICE = PriceQuote(Decimal("65000.00"), "stated for the test", "2023-11-14")


def _script(address: Any) -> bytes:
    return bytes.fromhex(address.script_pubkey_hex)


@pytest.fixture(scope="module")
def reserve_chain() -> tuple[RegtestChain, ReserveDescriptors, int, int]:
    """A regtest chain paying the reserve; returns chain, reserve, height, expected sat."""
    reserve = ReserveDescriptors()
    desc = reserve.add("cold", DESCRIPTOR)
    receive = derive_addresses(desc, 0, 8)
    change = derive_addresses(desc, 0, 2, change=True)
    chain = RegtestChain()
    expected = 0
    funding: list[tuple[str, int]] = []
    for block in range(4):
        txs = []
        for n in range(3):
            address = receive[(block * 3 + n) % 6]
            value = 100_000_000 + 1_000 * (block * 3 + n)
            raw = payment_transaction(
                [(_script(address), value), (OUTSIDE, 5_000)], tag=block * 10 + n
            )
            txs.append(raw)
            expected += value
        chain.mine(txs)
        for raw in txs:
            from hashnation.chain.transactions import parse_transaction

            funding.append((parse_transaction(raw).txid_hex, 0))
    # Spend the first funding output: 60,000,000 sat leaves, 40,000,000 back to change.
    spend = payment_transaction(
        [(OUTSIDE, 60_000_000), (_script(change[0]), 40_000_000)], spends=[funding[0]]
    )
    chain.mine([spend])
    expected += 40_000_000 - 100_000_000
    chain.mine()
    return chain, reserve, chain.tip_height(), expected


@pytest.fixture(scope="module")
def good_report(reserve_chain: tuple[RegtestChain, ReserveDescriptors, int, int]) -> dict[str, Any]:
    chain, reserve, height, expected = reserve_chain
    watched = scan_reserve(chain, reserve, gap_limit=3)
    report = collect_report(
        source=chain,
        reserve_name="Test reserve",
        height=height,
        watched=watched,
        descriptors={label: d.normalized for label, d in reserve.items()},
        network="regtest",
        ledger_sat=expected,
        price=PRICE,
    )
    return report.to_json_dict()


def _failed(doc: dict[str, Any]) -> dict[str, str]:
    result = verify_report(doc)
    assert not result.ok
    return {c.name: c.detail for c in result.checks if not c.ok}


def test_report_totals_and_verification(
    good_report: dict[str, Any], reserve_chain: tuple[RegtestChain, ReserveDescriptors, int, int]
) -> None:
    _, _, height, expected = reserve_chain
    assert good_report["schema"] == "hashnation.reserve-report"
    assert good_report["height"] == height
    totals = good_report["totals"]
    assert totals["chain_sat"] == expected == totals["ledger_sat"]
    # 12 payments, one of them spent, plus the change output
    assert totals["utxo_count"] == 12
    assert Decimal(totals["value_usd"]) == usd_value(expected, Decimal("65000"))
    assert len(good_report["headers"]) == height + 1
    # 6 used receive addresses + 3 lookahead, 1 used change address + 3 lookahead
    assert len(good_report["scripts"]) == 13
    result = verify_report(good_report)
    assert result.ok, result.to_dict()
    names = [c.name for c in result.checks]
    assert names == [
        "schema",
        "checkpoint",
        "headers",
        "descriptors",
        "addresses",
        "transactions",
        "utxos",
        "sums",
    ]
    assert "proves nothing about mainnet" in result.checks[1].detail


def test_spent_output_is_not_reported(good_report: dict[str, Any]) -> None:
    values = sorted(u["value_sat"] for u in good_report["utxos"])
    # the first payment (100,000,000 sat) was spent; its change (40,000,000 sat) is held
    assert 100_000_000 not in values
    assert values[0] == 40_000_000
    assert values[1:] == [100_000_000 + 1_000 * n for n in range(1, 12)]


def test_one_sat_more_is_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    doc["utxos"][3]["value_sat"] += 1
    utxo = doc["utxos"][3]
    failed = _failed(doc)
    assert f"utxos[3] ({utxo['txid']}:{utxo['vout']})" in failed["utxos"]
    assert "the transaction pays" in failed["utxos"]
    assert "sums" in failed


def test_one_sat_more_in_the_total_is_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    doc["totals"]["chain_sat"] += 1
    failed = _failed(doc)
    assert set(failed) == {"sums"}
    assert "totals.chain_sat" in failed["sums"]


def test_one_header_byte_is_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    header = bytearray.fromhex(doc["headers"][5])
    header[36] ^= 0x01  # a byte of the merkle root
    doc["headers"][5] = header.hex()
    failed = _failed(doc)
    assert (
        "headers[5] (height 5)" in failed["headers"] or "headers[6] (height 6)" in failed["headers"]
    )


def test_one_merkle_hash_is_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    item = doc["transactions"][2]
    node = bytearray.fromhex(item["merkle_branch"][0])
    node[0] ^= 0x80
    item["merkle_branch"][0] = node.hex()
    failed = _failed(doc)
    assert f"transactions[2] ({item['txid']})" in failed["transactions"]
    assert "merkle root" in failed["transactions"]


def test_one_address_is_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    other = derive_addresses(ReserveDescriptors().add("x", DESCRIPTOR), 50, 1)[0]
    doc["scripts"][1]["address"] = other.address
    doc["scripts"][1]["script_pubkey"] = other.script_pubkey_hex
    failed = _failed(doc)
    assert f"scripts[1] ({other.address})" in failed["addresses"]
    assert "cold/0/1 derives" in failed["addresses"]


def test_address_not_matching_its_script_is_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    doc["scripts"][0]["address"] = doc["scripts"][1]["address"]
    failed = _failed(doc)
    assert "scripts[0]" in failed["addresses"]
    assert "encodes script" in failed["addresses"]


def test_funding_transaction_byte_is_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    raw = bytearray.fromhex(doc["transactions"][1]["raw_hex"])
    raw[-10] ^= 0x01  # inside the last output's script
    doc["transactions"][1]["raw_hex"] = raw.hex()
    failed = _failed(doc)
    assert f"transactions[1] ({doc['transactions'][1]['txid']})" in failed["transactions"]
    assert "hashes to" in failed["transactions"]


def test_wrong_usd_value_and_bad_schema_are_caught(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    doc["totals"]["value_usd"] = "1.00"
    assert "totals.value_usd" in _failed(doc)["sums"]
    doc = copy.deepcopy(good_report)
    doc["utxos"][0]["value_sat"] = -5
    assert "utxos.0.value_sat" in _failed(doc)["schema"]
    doc = copy.deepcopy(good_report)
    doc["schema_version"] = 2
    assert "schema_version" in _failed(doc)["schema"]


def test_removing_a_utxo_is_caught_by_the_sums(good_report: dict[str, Any]) -> None:
    doc = copy.deepcopy(good_report)
    del doc["utxos"][4]
    failed = _failed(doc)
    assert "totals.utxo_count" in failed["sums"] and "balance_sat" in failed["sums"]


def test_ledger_disagreement_refuses_the_report(
    reserve_chain: tuple[RegtestChain, ReserveDescriptors, int, int],
) -> None:
    chain, reserve, height, expected = reserve_chain
    with pytest.raises(
        ReserveError, match=r"ledger custody balance .* differs .* \(difference \+1"
    ):
        collect_report(
            source=chain,
            reserve_name="Test reserve",
            height=height,
            watched=scan_reserve(chain, reserve, gap_limit=3),
            descriptors={"cold": reserve.items()[0][1].normalized},
            network="regtest",
            ledger_sat=expected + 1,
            price=PRICE,
        )


def test_report_at_an_earlier_height(
    reserve_chain: tuple[RegtestChain, ReserveDescriptors, int, int],
) -> None:
    chain, reserve, _, _ = reserve_chain
    report = collect_report(
        source=chain,
        reserve_name="Test reserve",
        height=2,
        watched=scan_reserve(chain, reserve, gap_limit=3),
        descriptors={"cold": reserve.items()[0][1].normalized},
        network="regtest",
        price=PRICE,
    )
    assert report.totals.utxo_count == 6
    assert report.totals.ledger_sat is None
    assert verify_report(report.to_json_dict()).ok


def test_committed_json_schema_is_current() -> None:
    committed = Path(__file__).parents[2] / "docs" / "reserve-report.schema.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == report_json_schema()


def test_model_round_trip(good_report: dict[str, Any]) -> None:
    assert ReserveReport.model_validate(good_report).to_json_dict() == good_report
