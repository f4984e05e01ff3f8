"""``hashnation por``: build, verify-inclusion, challenge, attest, audit, verify-bitmex."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer.testing
from btclib import b32
from btclib.key import PrvKeyData
from btclib.script.taproot import output_pubkey
from btclib_wallet import bip322

from hashnation.cli.main import app
from hashnation.proofs.attestation import SolvencyAttestation, attestation_digest
from hashnation.proofs.documents import InclusionProof, LiabilitiesRoot, load_document
from hashnation.proofs.hashing import derive_nonce

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})
TESTS = Path(__file__).resolve().parents[1]
BALANCES = (
    "customer_id,asset,amount\n"
    "alice,BTC,150000000\n"
    "alice,USDT,2500000000\n"
    "bob,BTC,20000\n"
    "carol,BTC,0\n"
    "dave,USDC,7\n"
)
KEY = PrvKeyData(0x1234567890ABCDEF)


def assert_one_line_error(result: typer.testing.Result, *texts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for text in texts:
        assert text in lines[0], (text, lines[0])


def build(tmp_path: Path, *extra: str, balances: str = BALANCES) -> Path:
    (tmp_path / "balances.csv").write_text(balances, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "por",
            "build",
            str(tmp_path / "balances.csv"),
            "--height",
            "200",
            "--out",
            str(out),
            "--custodian",
            "acme",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_build_writes_root_leaves_and_proofs(tmp_path: Path) -> None:
    secret = tmp_path / "secret.hex"
    secret.write_text("ab" * 32 + "\n", encoding="ascii")
    out = build(tmp_path, "--split", "2", "--secret-file", str(secret), "--workers", "1")
    assert sorted(p.name for p in out.iterdir()) == ["leaves.csv", "proofs", "root.json"]
    assert sorted(p.name for p in (out / "proofs").iterdir()) == [
        "alice.json",
        "bob.json",
        "carol.json",
        "dave.json",
    ]
    root = load_document(LiabilitiesRoot, out / "root.json")
    assert [(a.asset, a.total, a.leaf_count) for a in root.assets] == [
        ("BTC", 150_020_000, 6),
        ("USDC", 7, 2),
        ("USDT", 2_500_000_000, 2),
    ]
    proof = load_document(InclusionProof, out / "proofs" / "alice.json")
    assert proof.nonce == derive_nonce(bytes.fromhex("ab" * 32), 200, "alice").hex()
    lines = (out / "leaves.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "asset,index,digest,amount" and len(lines) == 1 + 6 + 2 + 2
    assert "alice" not in (out / "leaves.csv").read_text(encoding="utf-8")
    assert list(tmp_path.glob(".out.*")) == []  # no temporary folder left


def test_verify_inclusion(tmp_path: Path) -> None:
    out = build(tmp_path)
    proof_path = out / "proofs" / "alice.json"
    result = runner.invoke(
        app,
        [
            "por",
            "verify-inclusion",
            str(proof_path),
            "--root",
            str(out / "root.json"),
            "--customer",
            "alice",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "✗" not in result.stdout
    assert "✓ customer id" in result.stdout and "✓ published root" in result.stdout
    assert "BTC balance 150000000" in result.stdout
    assert result.stdout.strip().endswith("VALID: proof of alice at height 200")
    # Another customer's id: refused, exit 1.
    result = runner.invoke(app, ["por", "verify-inclusion", str(proof_path), "--customer", "bob"])
    assert result.exit_code == 1
    assert "✗ customer id (proof is for 'alice')" in result.stdout
    # A tampered sibling sum.
    doc = json.loads(proof_path.read_text(encoding="utf-8"))
    step = doc["assets"][0]["leaves"][0]["path"][0]
    step["sum"] = str(int(step["sum"]) + 1)
    proof_path.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(app, ["por", "verify-inclusion", str(proof_path)])
    assert result.exit_code == 1
    index = doc["assets"][0]["leaves"][0]["index"]
    assert f"✗ BTC leaf {index}: root digest" in result.stdout
    assert f"✗ BTC leaf {index}: root total" in result.stdout
    assert "INVALID" in result.stdout


@pytest.mark.parametrize(
    ("body", "texts"),
    [
        ("alice,BTC,5\nalice,BTC,6\n", ["balances.csv row 3 customer_id", "row 2"]),
        ("alice,BTC,-5\n", ["balances.csv row 2 amount: got '-5'"]),
        ("alice,XYZ,5\n", ["balances.csv row 2 asset: got 'XYZ'"]),
        ("alice,BTC,0.5\n", ["balances.csv row 2 amount: got '0.5'", "whole number"]),
        ("alice,BTC\n", ["balances.csv row 2", "3 fields"]),
        ('alice,BTC,"5\n', ["balances.csv row"]),
    ],
)
def test_bad_balances_write_nothing(tmp_path: Path, body: str, texts: list[str]) -> None:
    (tmp_path / "balances.csv").write_text("customer_id,asset,amount\n" + body, encoding="utf-8")
    out = tmp_path / "deep" / "out"
    result = runner.invoke(
        app, ["por", "build", str(tmp_path / "balances.csv"), "--height", "1", "--out", str(out)]
    )
    assert_one_line_error(result, *texts)
    assert not (tmp_path / "deep").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["balances.csv"]


def test_bad_options(tmp_path: Path) -> None:
    (tmp_path / "balances.csv").write_text(BALANCES, encoding="utf-8")
    used = tmp_path / "used"
    used.mkdir()
    (used / "root.json").write_text("{}", encoding="utf-8")
    args = ["por", "build", str(tmp_path / "balances.csv"), "--height"]
    result = runner.invoke(app, [*args, "1", "--out", str(used)])
    assert_one_line_error(result, "--out", "never overwritten")
    result = runner.invoke(app, [*args, "-1", "--out", str(tmp_path / "x")])
    assert_one_line_error(result, "height: got -1")
    result = runner.invoke(app, [*args, "1", "--out", str(tmp_path / "x"), "--split", "99"])
    assert_one_line_error(result, "split: got 99")
    (tmp_path / "short.hex").write_text("abcd", encoding="ascii")
    result = runner.invoke(
        app,
        [*args, "1", "--out", str(tmp_path / "x"), "--secret-file", str(tmp_path / "short.hex")],
    )
    assert_one_line_error(result, "--secret-file", "at least 32 bytes")
    assert not (tmp_path / "x").exists()


def test_audit_passes_then_catches_a_tampered_leaf_file(tmp_path: Path) -> None:
    out = build(tmp_path, "--split", "3")
    result = runner.invoke(app, ["por", "audit", str(out), "--seed", "7", "--sample", "2"])
    assert result.exit_code == 0, result.output
    assert "sample seed 7" in result.stdout
    assert "✓ BTC: root digest recomputed" in result.stdout
    assert "PASSED" in result.stdout and "2 of 4 proofs" in result.stdout
    again = runner.invoke(app, ["por", "audit", str(out), "--seed", "7", "--sample", "2"])
    assert again.stdout == result.stdout  # the same seed draws the same sample
    leaves = out / "leaves.csv"
    lines = leaves.read_text(encoding="utf-8").splitlines()
    asset, index, digest, amount = lines[1].split(",")
    lines[1] = f"{asset},{index},{digest},{int(amount) + 1}"
    leaves.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["por", "audit", str(out), "--sample", "0"])
    assert result.exit_code == 1
    assert f"✗ {asset}: total" in result.stdout and "FAILED" in result.stdout


def test_verify_bitmex(tmp_path: Path) -> None:
    example = json.loads((TESTS / "vectors" / "bitmex_pol_readme_example.json").read_text())
    path = tmp_path / "liabilities-100-proof.csv"
    path.write_text("\n".join(example["proof_lines"]) + "\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "por",
            "verify-bitmex",
            str(path),
            "--account",
            "2",
            "--account-nonce",
            example["nonces"]["2"],
        ],
    )
    assert result.exit_code == 0, result.output
    assert "8 leaves, total liabilities 4000004000 sat" in result.stdout
    assert "✓ leaf 3: 1294 sat" in result.stdout and "✓ leaf 5: 1706 sat" in result.stdout
    assert "✓ account 2: 3000 sat in 2 leaves" in result.stdout
    result = runner.invoke(
        app, ["por", "verify-bitmex", str(path), "--account", "3", "--nonce", "00" * 32]
    )
    assert result.exit_code == 1 and "✗ account 3: 0 sat" in result.stdout
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace(",963610699", ",963610700")
    path.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(app, ["por", "verify-bitmex", str(path)])
    assert result.exit_code == 1 and "✗ level 1 node 0: value" in result.stdout
    result = runner.invoke(
        app, ["por", "verify-bitmex", str(path), "--account", "2", "--nonce", "abcd"]
    )
    assert_one_line_error(result, "--nonce: got 'abcd'")


# -- reserves against the real-protocol Esplora server over mainnet blocks 0..255 ----------


def _servers() -> ModuleType:
    name = "hashnation_chain_test_servers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "chain" / "servers.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def esplora_url() -> Iterator[str]:
    servers = _servers()
    with servers.esplora_server(servers.ChainFixture()) as url:
        yield url


def test_challenge_attest_and_audit(tmp_path: Path, esplora_url: str) -> None:
    out = build(tmp_path)
    addresses = [b32.p2wpkh(KEY.pub), b32.p2tr(output_pubkey(KEY.pub)[0])]
    entries: list[dict[str, Any]] = []
    for address in addresses:
        result = runner.invoke(
            app, ["por", "challenge", str(out / "root.json"), "--address", address]
        )
        assert result.exit_code == 0, result.output
        message = result.stdout.rstrip("\n")
        assert message.splitlines()[1:4] == ["custodian: acme", "asset: BTC", "height: 200"]
        signature = bip322.sign(message.encode("utf-8"), KEY, address).b64encode()
        entries.append({"asset": "BTC", "address": address, "signature": signature})
    entries.append(
        {
            "asset": "BTC",
            "address": b32.p2wpkh(PrvKeyData(7).pub),
            "signature": entries[0]["signature"],
        }
    )  # not its signature
    claim = {
        "format": "hashnation-por-reserves",
        "version": 1,
        "custodian": "acme",
        "height": 200,
        "addresses": entries,
        "declared": [
            {"asset": "USDC", "amount": "7", "evidence": "issuer statement 2009-01-12"},
            {"asset": "USDT", "amount": "3000000000", "evidence": "bank letter"},
        ],
    }
    (tmp_path / "reserves.json").write_text(json.dumps(claim), encoding="utf-8")
    attestation_path = tmp_path / "attestation.json"
    result = runner.invoke(
        app,
        [
            "por",
            "attest",
            str(out / "root.json"),
            str(tmp_path / "reserves.json"),
            "--esplora",
            esplora_url,
            "--out",
            str(attestation_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"✓ control of {addresses[0]}" in result.stdout
    assert "✗ control of" in result.stdout and "invalid signature" in result.stdout
    assert "BTC\treserves 0 (bip322+spv)\tliabilities 150020000\tratio 0.000000\tINSOLVENT" in (
        result.stdout
    )
    assert "USDT\treserves 3000000000 (declared)" in result.stdout
    attestation = load_document(SolvencyAttestation, attestation_path)
    assert f"attestation digest {attestation_digest(attestation)}" in result.stdout
    assert attestation.block_hash == _servers().ChainFixture().hashes[200]
    result = runner.invoke(
        app,
        [
            "por",
            "audit",
            str(out),
            "--reserves",
            str(tmp_path / "reserves.json"),
            "--attestation",
            str(attestation_path),
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 1  # the address whose signature is not its own
    assert result.stdout.count("✗ ") == 1 and "✗ reserve address" in result.stdout
    assert "✓ attestation: liabilities digest" in result.stdout


def test_attest_needs_a_source(tmp_path: Path) -> None:
    out = build(tmp_path)
    claim = {"format": "hashnation-por-reserves", "version": 1, "custodian": "acme", "height": 200}
    (tmp_path / "reserves.json").write_text(json.dumps(claim), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "por",
            "attest",
            str(out / "root.json"),
            str(tmp_path / "reserves.json"),
            "--out",
            str(tmp_path / "a.json"),
        ],
    )
    assert_one_line_error(result, "exactly one chain source")
