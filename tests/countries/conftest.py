"""A fake country pack, written by the tests: Atlantis adopts HashNation with no code change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hashnation.countries import bundled_packs_dir

BIP32 = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "bip32.json").read_text())
XPUB_1 = BIP32["vectors"][0]["chains"][1]["ext_pub"]  # vector 1, m/0H
XPUB_2 = BIP32["vectors"][1]["chains"][1]["ext_pub"]  # vector 2, m/0

COUNTRY_TOML = """
[country]
name = "Atlantis"
iso2 = "XA"
language = "fr"
timezone = "Atlantic/Azores"

[currency]
code = "XTS"
symbol = "A$"
per_usd = "3.5"
source = "the ISO 4217 code reserved for tests; a made-up rate"

[mining]
scenario = "mining.toml"

[regulator]
authority = "Autorité atlante des actifs numériques"
licence_prefix = "AAN"
offered = ["exchange", "advisor"]

[regulator.licences.exchange]
title = "Plateforme d'échange"
code = "PLT"
min_capital_usd = "7000000"
filing_days = 5
extra_documents = ["atlantean_seal"]

[reserve]
name = "Réserve atlante"
descriptors = "reserve.json"

[visa]
name = "Visa de l'Atlantide"
amount_usd = "250000"
price_usd_per_btc = "100000"
invoice_validity_hours = 24
confirmations_required = 2
yearly_quota = 7
descriptor = "wpkh(XPUB/<0;1>/*)"
source = "made up for the test"
"""

MINING_TOML = """
[scenario]
name = "Atlantis tidal mining"
country = "atlantis"
timezone = "Atlantic/Azores"
start = "2026-01-01T00:00:00Z"
years = 1

[site]
power_mw = 12
grid = "baseload"
baseload_fuel = "tidal"
baseload_availability_pu = 0.5
baseload_emission_tco2_per_mwh = 0.0

[[fleet.mix]]
model = "Antminer S21"
share = 1.0

[tariff]
kind = "flat"
usd_per_kwh = 0.04

[subsidy_test]
enabled = false
"""


@pytest.fixture()
def atlantis(tmp_path: Path) -> Path:
    """The folder of a complete fake pack, ``<tmp>/packs/atlantis``."""
    folder = tmp_path / "packs" / "atlantis"
    folder.mkdir(parents=True)
    (folder / "country.toml").write_text(COUNTRY_TOML.replace("XPUB", XPUB_2), encoding="utf-8")
    (folder / "mining.toml").write_text(MINING_TOML, encoding="utf-8")
    reserve = {"version": 1, "descriptors": {"vault": f"wpkh({XPUB_1}/<0;1>/*)"}}
    (folder / "reserve.json").write_text(json.dumps(reserve), encoding="utf-8")
    return folder


@pytest.fixture()
def pakistan_copy(tmp_path: Path) -> Path:
    """A copy of the bundled Pakistan pack, to break one value at a time."""
    folder = tmp_path / "broken" / "pakistan"
    shutil.copytree(bundled_packs_dir() / "pakistan", folder)
    return folder
