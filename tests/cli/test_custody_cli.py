"""``hashnation reserve psbt``: a 2-of-3 spend coordinated end to end, logged on both back ends."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
import typer.testing

from hashnation.cli.main import app
from hashnation.reserve.custody import (
    build_spend,
    parse_psbt,
    psbt_to_base64,
    psbt_to_bytes,
    verify_spend,
)
from hashnation.reserve.descriptors import derive_addresses, parse_descriptor
from hashnation.store.db import make_engine

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})


def _helpers() -> ModuleType:
    name = "hashnation_custody_test_helpers"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "reserve" / "custody_helpers.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


H = _helpers()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def _fails(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def reserve(tmp_path: Path) -> dict[str, Any]:
    cosigners = [H.Cosigner.new() for _ in range(3)]
    keys = ",".join(f"{c.key()}/<0;1>/*" for c in cosigners)
    text = f"wsh(sortedmulti(2,{keys}))"
    reserve_file = tmp_path / "reserve.json"
    _ok(["reserve", "descriptor", "add", str(reserve_file), "treasury", text])
    desc = parse_descriptor(text)
    _, utxos = H.fund(desc, [150_000, 250_000])
    _, others = H.fund(desc, [10_000], label="other")
    utxos_file = tmp_path / "utxos.json"
    utxos_file.write_text(
        json.dumps([u.to_dict() for u in utxos + others], indent=2), encoding="utf-8"
    )
    return {
        "cosigners": cosigners,
        "desc": desc,
        "file": reserve_file,
        "utxos": utxos,
        "utxos_file": utxos_file,
    }


def test_two_of_three_spend_through_the_cli(
    reserve: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    a, b, c = reserve["cosigners"]
    spend = tmp_path / "spend.psbt"
    db = ["--db", db_url]
    out = _ok(
        [
            "reserve", "psbt", "create", str(reserve["file"]),
            "--label", "treasury", "--utxos", str(reserve["utxos_file"]),
            "--to", f"{H.DESTINATION}:180000", "--fee-rate", "3", "--change-index", "4",
            "--out", str(spend), "--actor", "ops-alice", *db,
        ]
    )  # fmt: skip
    change = derive_addresses(reserve["desc"], 4, 1, change=True)[0]
    assert f"to {change.address} (index 4)" in out
    unsigned = parse_psbt(spend.read_bytes())
    assert spend.read_bytes().startswith(b"psbt\xff")  # BIP174 binary file

    inspect = ["reserve", "psbt", "inspect", str(spend), "--reserve", str(reserve["file"])]
    doc = json.loads(_ok([*inspect, "--label", "treasury", "--json"]))
    spend_id = doc["spend_id"]
    assert doc["satisfied"] is False and doc["signers"] == []
    assert [o["is_change"] for o in doc["outputs"]] == [False, True]
    assert {i["required_signatures"] for i in doc["inputs"]} == {2}
    assert {(i["branch"], i["missing_signatures"]) for i in doc["inputs"]} == {(0, 2)}

    # each cosigner signs its own copy, outside the platform
    copy_a, copy_c = tmp_path / "a.psbt", tmp_path / "c.psbt"
    copy_a.write_text(psbt_to_base64(a.sign(unsigned)) + "\n", encoding="ascii")
    copy_c.write_bytes(psbt_to_bytes(c.sign(unsigned)))

    out = _ok(["reserve", "psbt", "import", str(copy_a), "--actor", "ops-alice", *db])
    assert f"new signers: {a.fingerprint}" in out and "not yet satisfied" in out
    table = _ok(["reserve", "psbt", "inspect", str(copy_a)])
    assert a.fingerprint in table and "not satisfied" in table and "2 of 3" in table

    tx_file = tmp_path / "tx.hex"
    line = _fails(
        ["reserve", "psbt", "finalize", str(copy_a), "--out", str(tx_file), "--actor", "x", *db]
    )
    assert "has 1 of 2 required signatures (needs 1 more)" in line
    assert not tx_file.exists()

    combined = tmp_path / "combined.psbt"
    out = _ok(
        [
            "reserve", "psbt", "combine", str(copy_a), str(copy_c),
            "--out", str(combined), "--actor", "ops-bob", *db,
        ]
    )  # fmt: skip
    assert "satisfied: ready to finalize" in out
    out = _ok(
        [
            "reserve",
            "psbt",
            "finalize",
            str(combined),
            "--out",
            str(tx_file),
            "--actor",
            "ops-bob",
            *db,
        ]
    )
    assert f"transaction {spend_id}" in out
    tx_hex = tx_file.read_text(encoding="ascii").strip()
    by_outpoint = {u.outpoint: u for u in reserve["utxos"]}
    verify_spend(
        tx_hex,
        [
            (by_outpoint[i["outpoint"]].value_sat, by_outpoint[i["outpoint"]].script_pubkey_hex)
            for i in doc["inputs"]
        ],
    )

    log = json.loads(_ok(["reserve", "psbt", "log", spend_id, "--json", *db]))
    assert [(e["action"], e["actor"]) for e in log] == [
        ("created", "ops-alice"),
        ("imported", "ops-alice"),
        ("signed-by", a.fingerprint),
        ("signed-by", c.fingerprint),
        ("combined", "ops-bob"),
        ("finalized", "ops-bob"),
        ("extracted", "ops-bob"),
    ]
    assert log[0]["psbt_sha256"] != log[-1]["psbt_sha256"]
    assert spend_id in log[-1]["note"]
    assert "signed-by" in _ok(["reserve", "psbt", "log", spend_id, *db])
    assert "7 entries" in _ok(["reserve", "psbt", "log-verify", *db])

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE custody_approvals SET actor = 'mallory' WHERE id = 3"))
    finally:
        engine.dispose()
    line = _fails(["reserve", "psbt", "log-verify", *db])
    assert line.startswith("error: approvals log entry 3: ")
    assert b.fingerprint  # the third cosigner never signed


def test_cli_errors_are_one_line(reserve: dict[str, Any], db_url: str, tmp_path: Path) -> None:
    spend = tmp_path / "spend.psbt"
    base = [
        "reserve", "psbt", "create", str(reserve["file"]), "--label", "treasury",
        "--utxos", str(reserve["utxos_file"]), "--fee-rate", "3", "--change-index", "0",
        "--out", str(spend), "--actor", "ops", "--db", db_url,
    ]  # fmt: skip
    assert "--to: got 'nowhere'" in _fails([*base, "--to", "nowhere"])
    assert "amount_sat: got 5, expected at least" in _fails([*base, "--to", f"{H.DESTINATION}:5"])
    assert "utxos: got '400000 sat in 2 UTXOs'" in _fails(
        [*base, "--to", f"{H.DESTINATION}:900000"]
    )
    assert "'test' address, not 'main'" in _fails([*base, "--to", f"{H.MAINNET_DESTINATION}:1000"])
    assert not spend.exists()

    missing = f"sqlite:///{tmp_path / 'empty.db'}"
    line = _fails([*base[:-2], "--db", missing, "--to", f"{H.DESTINATION}:1000"])
    assert "hashnation reserve ledger init" in line
    assert not spend.exists()

    secret = reserve["cosigners"][0].root
    leaked = tmp_path / "leaked.psbt"
    leaked.write_text(secret + "\n", encoding="ascii")
    line = _fails(["reserve", "psbt", "inspect", str(leaked)])
    assert "redacted extended private key" in line and secret[4:40] not in line
    garbage = tmp_path / "garbage.psbt"
    garbage.write_bytes(b"psbt\xff\x00garbage")
    assert "expected a valid PSBT" in _fails(["reserve", "psbt", "inspect", str(garbage)])
    assert "an existing file" in _fails(["reserve", "psbt", "inspect", str(tmp_path / "no")])

    unknown = tmp_path / "unknown.psbt"
    psbt = build_spend(reserve["desc"], reserve["utxos"], [(H.DESTINATION, 5_000)], 2.0, 9)
    unknown.write_bytes(psbt_to_bytes(psbt))
    line = _fails(["reserve", "psbt", "import", str(unknown), "--actor", "ops", "--db", db_url])
    assert "no log entry has that spend id" in line
