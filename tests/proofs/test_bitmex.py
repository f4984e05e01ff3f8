"""BitMEX's published proof-of-liabilities format: read and verified.

Two sources of truth, neither of them this project's code:

* the worked example of BitMEX's README (``tests/vectors/bitmex_pol_readme_example.json``),
  with the nonces it publishes and the validator output it shows;
* a file written here by a tiny, independent generator that follows the format
  as BitMEX documents it (little-endian ``u64`` values, HMAC-SHA256 leaves
  keyed by the sub-nonce over value and leaf index, nodes hashing both child
  digests and both values, root first and breadth first).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import struct
from pathlib import Path
from typing import Any

import pytest

from hashnation.proofs.bitmex import parse_bitmex, verify_bitmex
from hashnation.proofs.errors import ProofInputError

VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "bitmex_pol_readme_example.json"


def readme() -> Any:
    return json.loads(VECTOR.read_text(encoding="utf-8"))


def test_readme_example_validates_as_published() -> None:
    example = readme()
    tree = parse_bitmex("\n".join(example["proof_lines"]) + "\n")
    check = example["validation"]
    report = verify_bitmex(
        tree, account=check["account"], account_nonce=bytes.fromhex(check["account_nonce"])
    )
    assert report.ok
    assert report.block_height == 100
    # "Number of leaf nodes to scan 8"
    assert report.leaf_count == 8
    # "Hash match for leaf 3 claims 1,294 sats", "Hash match for leaf 5 claims 1,706 sats"
    assert [(m.leaf_index, m.value_sat) for m in report.matches] == [(3, 1294), (5, 1706)]
    # "Validated 3,000 satoshis for account 2, total liabilities 4,000,004,000"
    assert (report.account_sat, report.total_sat) == (3000, 4_000_004_000)


def test_readme_example_every_account_adds_up_to_its_input() -> None:
    example = readme()
    tree = parse_bitmex("\n".join(example["proof_lines"]))
    owed = {}
    for line in example["liabilities_csv"][1:]:
        account, amount = (int(x) for x in line.split(","))
        owed[account] = amount
    for account, amount in owed.items():
        nonce = bytes.fromhex(example["nonces"][str(account)])
        assert verify_bitmex(tree, account=account, account_nonce=nonce).account_sat == amount
    assert sum(owed.values()) == tree.total_sat


# -- an independent generator, written from BitMEX's description --------------------------


def generate(accounts: dict[int, int], nonces: dict[int, bytes], height: int, seed: int) -> str:
    rng = random.Random(seed)
    parts = [(a, v) for a, v in accounts.items() if v > 0]
    size = 1
    while size < 2 * len(parts):
        size *= 2
    while len(parts) < size:  # split the largest part until leaves are a power of two
        parts.sort(key=lambda p: p[1])
        account, value = parts.pop()
        cut = rng.randint(1, value - 1)
        parts += [(account, cut), (account, value - cut)]
    rng.shuffle(parts)

    def sub(account: int) -> bytes:
        return hashlib.sha256(
            nonces[account] + struct.pack("<Q", height) + struct.pack("<Q", account)
        ).digest()

    level = [
        (hmac.new(sub(a), struct.pack("<Q", v) + struct.pack("<Q", i), hashlib.sha256).digest(), v)
        for i, (a, v) in enumerate(parts)
    ]
    rows = [level]
    while len(level) > 1:
        level = [
            (
                hashlib.sha256(
                    level[i][0]
                    + struct.pack("<Q", level[i][1])
                    + level[i + 1][0]
                    + struct.pack("<Q", level[i + 1][1])
                ).digest(),
                level[i][1] + level[i + 1][1],
            )
            for i in range(0, len(level), 2)
        ]
        rows.append(level)
    lines = [f"block_height:{height}"]
    for row in reversed(rows):
        lines += [f"{d.hex()},{v}" for d, v in row]
    return "\n".join(lines)


ACCOUNTS = {7: 150_000_000, 11: 20_000, 12: 3, 40: 2_100_000_000_000_000, 99: 1_000_000}
NONCES = {a: hashlib.sha256(f"nonce {a}".encode()).digest() for a in ACCOUNTS}


def test_independently_generated_file_verifies() -> None:
    text = generate(ACCOUNTS, NONCES, 912_345, seed=1)
    tree = parse_bitmex(text)
    assert tree.total_sat == sum(ACCOUNTS.values())
    assert len(tree.leaves) == 16
    for account, owed in ACCOUNTS.items():
        report = verify_bitmex(tree, account=account, account_nonce=NONCES[account])
        assert report.ok and report.account_sat == owed
        assert report.matches
        sub = hashlib.sha256(
            NONCES[account] + struct.pack("<Q", 912_345) + struct.pack("<Q", account)
        ).digest()
        assert verify_bitmex(tree, sub_nonce=sub).account_sat == owed
    # Another account's nonce matches nothing.
    assert verify_bitmex(tree, account=8, account_nonce=NONCES[7]).matches == ()


@pytest.mark.parametrize("line", [1, 2, 5, 20, 31])
@pytest.mark.parametrize("what", ["value", "digest"])
def test_any_tampered_node_is_found(line: int, what: str) -> None:
    lines = generate(ACCOUNTS, NONCES, 912_345, seed=2).split("\n")
    digest, value = lines[line].split(",")
    if what == "value":
        lines[line] = f"{digest},{int(value) + 1}"
    else:
        lines[line] = f"{'0' if digest[0] != '0' else '1'}{digest[1:]},{value}"
    report = verify_bitmex(parse_bitmex("\n".join(lines)))
    assert not report.ok
    level = (line).bit_length() - 1  # line 1 is the root (level 0), lines 2-3 level 1, ...
    assert any(f.startswith(f"level {max(level - 1, 0)} ") for f in report.faults)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("height:1\nab,1", "line 1"),
        ("block_height:1\n" + "ab" * 32 + ",1\n" + "ab" * 32 + ",1", "2\\*\\*k - 1"),
        ("block_height:1\nzz,1", "line 2"),
        ("block_height:1\n" + "ab" * 32 + f",{2**64}", "u64"),
        ("block_height:1\n" + "ab" * 32 + ",-1", "line 2"),
    ],
)
def test_malformed_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(ProofInputError, match=message):
        parse_bitmex(text, "pol.csv")


def test_nonce_options_are_checked() -> None:
    tree = parse_bitmex(generate(ACCOUNTS, NONCES, 1, seed=3))
    with pytest.raises(ProofInputError, match="account_nonce"):
        verify_bitmex(tree, account_nonce=NONCES[7])
    with pytest.raises(ProofInputError, match="account_nonce"):
        verify_bitmex(tree, account=7, account_nonce=NONCES[7], sub_nonce=b"x" * 32)
