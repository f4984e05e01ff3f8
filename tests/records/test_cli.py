"""``hashnation public-records`` on a SQLite file: add, correct, show, proof."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from hashnation.chain.regtest import RegtestChain
from hashnation.cli.records_registry import app
from hashnation.records.service import RecordsRegistry, regtest_attester
from hashnation.store.db import upgrade

FIELDS = [
    "--field",
    "parcel_id=LHR-0042-17",
    "--field",
    "district=Lahore",
    "--field",
    "area_m2=512.5",
    "--field",
    "owner=Ayesha Khan",
    "--field",
    "registered_on=2026-02-27",
]


def _main() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(app, name="public-records")
    return root


def test_add_correct_show_and_proof(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    runner = CliRunner()
    cli = _main()
    base = ["public-records"]
    added = runner.invoke(
        cli, [*base, "add", "land_title", "LT-1", *FIELDS, "--db", url, "--actor", "registrar"]
    )
    assert added.exit_code == 0, added.output
    deed = tmp_path / "deed.pdf"
    deed.write_bytes(b"%PDF deed")
    fixed = runner.invoke(
        cli,
        [
            *base,
            "correct",
            "LT-1",
            *FIELDS,
            "--reason",
            "scan attached",
            "--document",
            str(deed),
            "--db",
            url,
        ],
    )
    assert fixed.exit_code == 0, fixed.output
    shown = runner.invoke(cli, [*base, "show", "LT-1", "--json", "--db", url])
    versions = json.loads(shown.output)
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["reason"] == "scan attached"
    with RecordsRegistry(url) as records:
        records.anchor_pending("registrar", regtest_attester(RegtestChain()))
    out = tmp_path / "v2.ots"
    wrote = runner.invoke(cli, [*base, "proof", "LT-1", "2", "--out", str(out), "--db", url])
    assert wrote.exit_code == 0, wrote.output
    with RecordsRegistry(url) as records:
        assert out.read_bytes() == records.proof("LT-1", 2)


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    runner = CliRunner()
    bad = runner.invoke(
        _main(),
        ["public-records", "add", "land_title", "LT-1", "--field", "area_m2=-1", "--db", url],
    )
    assert bad.exit_code == 2
    missing = runner.invoke(
        _main(), ["public-records", "show", "LT-1", "--db", f"sqlite:///{tmp_path / 'none.db'}"]
    )
    assert missing.exit_code == 2
