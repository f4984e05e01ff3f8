"""``hashnation reserve report`` against a real-protocol server of mainnet blocks, then ``verify``.

Block 170 holds the first bitcoin transaction: Satoshi pays 10 BTC to Hal Finney
and 40 BTC back to himself, both to pay-to-pubkey scripts.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer.testing

from hashnation.cli.main import app

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})
HAL = (
    "4104ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7"
    "df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac"
)
SATOSHI = (
    "410411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84cc"
    "f9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3ac"
)
GENESIS = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"


def _build(esplora_url: str, out: Path, *extra: str) -> typer.testing.Result:
    return runner.invoke(
        app,
        [
            "reserve",
            "report",
            "--height",
            "180",
            "--address",
            HAL,
            "--address",
            SATOSHI,
            "--name",
            "Block 170 example",
            "--esplora",
            esplora_url,
            "--price-usd",
            "0.08",
            "--price-date",
            "2009-01-12",
            "--out",
            str(out),
            *extra,
        ],
    )


def test_report_then_verify(tmp_path: Path, esplora_url: str) -> None:
    out = tmp_path / "report"
    result = _build(esplora_url, out)
    assert result.exit_code == 0, result.output
    assert "50.00000000 BTC in 2 outputs at height 180" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.json", "report.html", "utxos.csv", "addresses.csv", "verify.html", "plotly.min.js"]
    )
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["checkpoint_height"] == 0 and len(doc["headers"]) == 181
    assert doc["totals"]["chain_sat"] == 5_000_000_000
    assert doc["totals"]["value_usd"] == "4.00"
    csv_rows = (out / "utxos.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) == 3 and csv_rows[0].startswith("txid,vout,address")
    assert "✓" in (out / "report.html").read_text(encoding="utf-8")

    checks = tmp_path / "checks.json"
    verified = runner.invoke(app, ["verify", str(out / "report.json"), "--json", str(checks)])
    assert verified.exit_code == 0, verified.output
    assert "✓ checkpoint: block " + GENESIS in verified.stdout
    assert "every check holds" in verified.stdout
    assert json.loads(checks.read_text(encoding="utf-8"))["ok"] is True


def test_verify_fails_on_tampering_and_on_an_untrusted_checkpoint(
    tmp_path: Path, esplora_url: str
) -> None:
    out = tmp_path / "report"
    assert _build(esplora_url, out).exit_code == 0
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    doc["utxos"][0]["value_sat"] += 1
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(app, ["verify", str(tampered)])
    assert result.exit_code == 1
    assert "✗ utxos: utxos[0]" in result.stdout
    assert "VERIFICATION FAILED" in result.stdout

    wrong = runner.invoke(
        app, ["verify", str(out / "report.json"), "--checkpoint", f"0:{'11' * 32}"]
    )
    assert wrong.exit_code == 1
    assert "✗ checkpoint: headers[0] at height 0 is " + GENESIS in wrong.stdout


def test_ledger_disagreement_writes_nothing(tmp_path: Path, esplora_url: str) -> None:
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert runner.invoke(app, ["reserve", "ledger", "init", "--db", db]).exit_code == 0
    out = tmp_path / "report"
    result = _build(esplora_url, out, "--ledger-db", db)
    assert result.exit_code == 2
    assert "error: ledger custody balance 0 sat differs from the chain's 5000000000 sat" in (
        result.output
    )
    assert not out.exists()


def test_bad_inputs_are_one_line_errors(tmp_path: Path, esplora_url: str) -> None:
    result = _build(esplora_url, tmp_path / "r", "--network", "testnet")
    assert result.exit_code == 2 and "--network" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["verify", str(broken)])
    assert result.exit_code == 2
    assert result.output.startswith("error: report: got ")
    assert len(result.output.strip().splitlines()) == 1
