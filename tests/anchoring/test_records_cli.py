"""``hashnation records stamp|upgrade|verify|info`` against the local calendar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hashnation.chain.regtest import RegtestChain
from hashnation.cli.records import app

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "opentimestamps"
runner = CliRunner()


def _headers_file(chain: RegtestChain, path: Path) -> Path:
    doc = {
        "network": "regtest",
        "checkpoint": {"height": 0, "header": chain.block_header(0).hex()},
        "headers": [chain.block_header(h).hex() for h in range(1, chain.tip_height() + 1)],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_stamp_upgrade_verify_info(
    tmp_path: Path, calendar: Any, regtest_chain: RegtestChain
) -> None:
    files = [tmp_path / "decision-1.txt", tmp_path / "decision-2.txt"]
    for i, f in enumerate(files):
        f.write_text(f"licence decision {i}\n", encoding="utf-8")
    result = runner.invoke(app, ["stamp", *map(str, files), "--calendar", calendar.url])
    assert result.exit_code == 0, result.output
    proofs = [Path(f"{f}.ots") for f in files]
    assert all(p.exists() for p in proofs)

    again = runner.invoke(app, ["stamp", str(files[0]), "--calendar", calendar.url])
    assert again.exit_code == 2 and "does not exist yet" in again.output

    headers = _headers_file(regtest_chain, tmp_path / "headers.json")
    pending = runner.invoke(app, ["verify", str(proofs[0]), "--headers", str(headers)])
    assert pending.exit_code == 1 and "pending" in pending.output

    height = calendar.confirm()
    up = runner.invoke(app, ["upgrade", *map(str, proofs), "--calendar", calendar.url])
    assert up.exit_code == 0 and up.output.count("upgraded") == 2

    headers = _headers_file(regtest_chain, tmp_path / "headers.json")
    ok = runner.invoke(app, ["verify", str(proofs[1]), "--headers", str(headers)])
    assert ok.exit_code == 0, ok.output
    assert f"verified: regtest block {height}" in ok.output

    files[1].write_text("licence decision 1 (edited)\n", encoding="utf-8")
    bad = runner.invoke(app, ["verify", str(proofs[1]), "--headers", str(headers)])
    assert bad.exit_code == 1 and "differs from the proof" in bad.output

    info = runner.invoke(app, ["info", str(proofs[0])])
    assert info.exit_code == 0 and info.output.startswith("File sha256 hash: ")
    assert f"BitcoinBlockHeaderAttestation({height})" in info.output


def test_verify_example_without_header(tmp_path: Path) -> None:
    proof = tmp_path / "hello-world.txt.ots"
    proof.write_bytes((VECTORS / "hello-world.txt.ots").read_bytes())
    (tmp_path / "hello-world.txt").write_bytes((VECTORS / "hello-world.txt").read_bytes())
    result = runner.invoke(app, ["verify", str(proof)])
    assert result.exit_code == 1
    assert "header for height 358391 not in the store" in result.output


def test_invalid_proof_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["info", str(VECTORS / "invalid" / "bad-major-version.ots")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "1151" in lines[0]
    missing = runner.invoke(app, ["verify", str(tmp_path / "nope.ots")])
    assert missing.exit_code == 2


def test_bad_headers_file(tmp_path: Path) -> None:
    headers = tmp_path / "h.json"
    headers.write_text('{"network": "regtest"}', encoding="utf-8")
    result = runner.invoke(app, ["verify", str(VECTORS / "empty.ots"), "--headers", str(headers)])
    assert result.exit_code == 2 and "checkpoint" in result.output
