"""A country adopts HashNation by writing a pack: every pillar runs on a fake one.

The pack (``conftest.atlantis``) lives in a temporary folder, is selected with
``hashnation --country FOLDER`` or by name through ``$HASHNATION_COUNTRY_PATH``, and
nothing in the code knows it: mining runs its scenario, the regulator grants its
licence types under its rules and prefix, the reserve watches its descriptors, the
visa programme takes its terms, public records work on its database.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import pytest
import typer.testing

from hashnation.chain.regtest import RegtestChain, payment_transaction
from hashnation.cli.main import app
from hashnation.countries import COUNTRY_PATH_ENV, load_pack
from hashnation.reserve.descriptors import (
    ReserveDescriptors,
    derive_addresses,
    parse_descriptor,
)
from hashnation.reserve.service import collect_report, scan_reserve

runner = typer.testing.CliRunner(env={"COLUMNS": "200", "USER": "tester"})


def _ok(pack: Path | str, *args: str) -> str:
    result = runner.invoke(app, ["--country", str(pack), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _fails(pack: Path | str, *args: str) -> str:
    result = runner.invoke(app, ["--country", str(pack), *args])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    return line


def test_country_show_describes_the_pack(atlantis: Path) -> None:
    shown = json.loads(_ok(atlantis, "country", "show", "--json"))
    assert shown["name"] == "Atlantis" and shown["currency"]["code"] == "XTS"
    assert shown["regulator"]["licences"]["exchange"]["code"] == "PLT"
    assert shown["visa"]["yearly_quota"] == 7


def test_mining_runs_the_packs_scenario(atlantis: Path, tmp_path: Path) -> None:
    out = tmp_path / "mining"
    _ok(atlantis, "mining", "run", "--out", str(out), "--no-hourly-csv")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "Atlantis tidal mining"
    assert summary["years"] == 1 and summary["site_power_mw"] == 12.0
    assert summary["btc_mined"] > 0 and summary["emissions_tco2"] == 0.0


def test_regulator_uses_the_packs_licence_rules(atlantis: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'atlantis.db'}"
    _ok(atlantis, "registry", "init", "--db", db)
    _ok(atlantis, "registry", "seed", "--db", db)
    export = tmp_path / "register.json"
    _ok(atlantis, "registry", "export", "--format", "json", "--out", str(export), "--db", db)
    rows = json.loads(export.read_text())["entries"]
    assert rows, "the example book is seeded with the pack's licence types"
    numbers = {row["licence_number"] for row in rows}
    assert all(n.startswith(("AAN-PLT-", "AAN-ADV-")) for n in numbers), numbers
    assert {row["competent_authority"] for row in rows} == {
        "Autorité atlante des actifs numériques"
    }
    assert {row["home_country"] for row in rows} == {"XA"}
    assert {row["licence_type"] for row in rows} == {"exchange", "advisor"}
    # A type the regulator does not grant, and the pack's higher capital minimum:
    line = _fails(
        atlantis,
        "registry",
        "apply",
        "1",
        "broker",
        "--capital-usd",
        "9000000",
        "--all-documents",
        "--db",
        db,
    )
    assert line == "error: licence_type: got 'broker', expected one of exchange, advisor"
    line = _fails(
        atlantis,
        "registry",
        "apply",
        "1",
        "exchange",
        "--capital-usd",
        "2000000",
        "--all-documents",
        "--db",
        db,
    )
    assert "capital_usd: got Decimal('2000000'), expected at least 7000000 USD" in line
    out = _ok(
        atlantis,
        "registry",
        "apply",
        "1",
        "exchange",
        "--capital-usd",
        "7000000",
        "--all-documents",
        "--db",
        db,
    )
    assert "(exchange) is draft" in out


def test_reserve_watches_the_packs_descriptors(atlantis: Path) -> None:
    listed = _ok(atlantis, "reserve", "descriptor", "list")
    assert listed.startswith("vault\twpkh\tmain\t")
    pack = load_pack(atlantis)
    assert pack.reserve_file is not None
    reserve = ReserveDescriptors.from_dict(json.loads(pack.reserve_file.read_text()))
    vault = reserve["vault"]
    addresses = derive_addresses(vault, 0, 3)
    shown = _ok(atlantis, "reserve", "addresses", "--label", "vault", "--count", "3")
    assert [line.split("\t")[1] for line in shown.splitlines()] == [a.address for a in addresses]
    # Fund the pack's addresses on a regtest chain and publish a report on them.
    chain = RegtestChain()
    paid = [125_000_000, 40_000_000, 7_500]
    txs = [
        payment_transaction([(bytes.fromhex(a.script_pubkey_hex), sat)], tag=i)
        for i, (a, sat) in enumerate(zip(addresses, paid, strict=True))
    ]
    chain.mine(txs)
    height = chain.mine()
    watched = scan_reserve(chain, reserve, gap_limit=5)
    report = collect_report(
        source=chain,
        reserve_name=pack.reserve_name,
        height=height,
        watched=watched,
        descriptors={label: d.normalized for label, d in reserve.items()},
        network="regtest",
    )
    assert report.totals.chain_sat == sum(paid) and report.totals.utxo_count == 3
    assert report.to_json_dict()["reserve"] == "Réserve atlante"


def test_visa_takes_the_packs_terms(atlantis: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'visa.db'}"
    _ok(atlantis, "registry", "init", "--db", db)
    out = _ok(atlantis, "visa", "configure", "--db", db)
    fee_sat = int(
        (Decimal("250000") / Decimal("100000") * 100_000_000).to_integral_value(ROUND_CEILING)
    )
    assert f"fee {fee_sat} sat, 2 confirmations, quota 7 a year (mainnet)" in out
    reference = _ok(atlantis, "visa", "apply", "Ana Atlante", "XA", "--db", db).strip()
    _ok(atlantis, "visa", "kyc", reference, "cleared", "--db", db)
    _ok(atlantis, "visa", "invoice", reference, "--db", db)
    status = json.loads(_ok(atlantis, "visa", "status", reference, "--json", "--db", db))
    (invoice,) = status["invoices"]
    assert invoice["amount_sat"] == fee_sat and invoice["confirmations_required"] == 2
    issued = datetime.fromisoformat(invoice["issued_at"])
    assert datetime.fromisoformat(invoice["expires_at"]) - issued == timedelta(hours=24)
    pack = load_pack(atlantis)
    assert pack.visa is not None and pack.visa.descriptor is not None
    first = derive_addresses(parse_descriptor(pack.visa.descriptor), 0, 1)[0]
    assert invoice["address"] == first.address


def test_public_records_work_on_the_packs_database(atlantis: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'records.db'}"
    _ok(atlantis, "registry", "init", "--db", db)
    doc = tmp_path / "deed.pdf"
    doc.write_bytes(b"%PDF-1.4 Atlantis land title")
    out = _ok(
        atlantis,
        "public-records",
        "add",
        "land_title",
        "ATL-0001",
        "--document",
        str(doc),
        "--field",
        "parcel_id=ATL-7",
        "--field",
        "district=Poseidonia",
        "--field",
        "owner=Ana Atlante",
        "--field",
        "area_m2=450",
        "--field",
        "registered_on=2026-03-01",
        "--db",
        db,
    )
    assert "ATL-0001" in out
    shown = _ok(atlantis, "public-records", "show", "ATL-0001", "--db", db)
    assert "land_title ATL-0001" in shown


def test_selected_by_name_through_the_country_path(
    atlantis: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COUNTRY_PATH_ENV, str(atlantis.parent))
    shown = json.loads(_ok("atlantis", "country", "show", "--json"))
    assert shown["path"] == str(atlantis)
    listed = runner.invoke(app, ["country", "list"])
    assert listed.exit_code == 0 and "atlantis" in listed.stdout and "extra" in listed.stdout


def test_an_unknown_country_is_one_line(atlantis: Path) -> None:
    line = _fails("atlantida", "country", "show")
    assert line.startswith("error: country: got 'atlantida', expected a country pack name (")
