"""Loading country packs: the bundled four, lookup by name and path, one-line errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hashnation.countries import (
    COUNTRY_PATH_ENV,
    DEFAULT_COUNTRY,
    available_packs,
    load_pack,
)
from hashnation.errors import HashNationError, InputError
from hashnation.mining.scenario import load_scenario
from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.reserve.descriptors import ReserveDescriptors


def test_bundled_packs_load_and_name_their_files() -> None:
    packs = {p.slug: p for p in available_packs()}
    assert set(packs) >= {"pakistan", "el-salvador", "argentina", "turkey"}
    assert DEFAULT_COUNTRY in packs
    for pack in packs.values():
        assert pack.scenario_file is not None and pack.scenario_file.parent == pack.path
        assert load_scenario(pack.scenario_file).scenario.timezone == pack.timezone
        assert pack.reserve_file is not None
        import json

        reserve = ReserveDescriptors.from_dict(json.loads(pack.reserve_file.read_text()))
        assert len(reserve) >= 1 and reserve.network == "main"
        assert pack.licences and all(k in LicenceType for k in pack.licences)
    assert packs["el-salvador"].currency.code == "USD"
    assert packs["el-salvador"].currency.per_usd == 1
    assert packs["el-salvador"].language == "es" and packs["turkey"].language == "tr"
    visa = packs["el-salvador"].visa
    assert visa is not None and visa.amount_usd == Decimal("1000000") and visa.yearly_quota == 1000
    assert packs["pakistan"].visa is None
    assert packs["pakistan"].licence_prefix == "PVARA"
    assert set(packs["turkey"].licences) == {LicenceType.EXCHANGE, LicenceType.CUSTODIAL_WALLET}


def test_overrides_change_only_what_they_name(atlantis: Path) -> None:
    pack = load_pack(atlantis)
    assert pack.slug == "atlantis" and pack.iso2 == "XA"
    assert list(pack.licences) == [LicenceType.EXCHANGE, LicenceType.ADVISOR]
    exchange = pack.licences[LicenceType.EXCHANGE]
    base = LICENCE_SPECS[LicenceType.EXCHANGE]
    assert (exchange.title, exchange.code, exchange.filing_days) == (
        "Plateforme d'échange",
        "PLT",
        5,
    )
    assert exchange.min_capital_usd == Decimal("7000000")
    assert exchange.required_documents == (*base.required_documents, "atlantean_seal")
    assert exchange.return_frequency == base.return_frequency
    assert pack.licences[LicenceType.ADVISOR] == LICENCE_SPECS[LicenceType.ADVISOR]
    assert pack.currency.from_usd(Decimal("2")) == Decimal("7.0")


def test_lookup_by_name_in_the_country_path(
    atlantis: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(
        InputError, match=r"^country: got 'atlantis', expected a country pack name \("
    ):
        load_pack("atlantis")
    monkeypatch.setenv(COUNTRY_PATH_ENV, str(atlantis.parent))
    assert load_pack("atlantis").path == atlantis
    assert "atlantis" in {p.slug for p in available_packs()}


BROKEN = [
    (
        "country.toml",
        'iso2 = "PK"',
        'iso2 = "Pakistan"',
        "country.toml: country.iso2: got 'Pakistan'",
    ),
    (
        "country.toml",
        'timezone = "Asia/Karachi"',
        'timezone = "Mars/Olympus"',
        "country.toml: country.timezone: got 'Mars/Olympus', expected an IANA time zone",
    ),
    ("country.toml", 'code = "PKR"', 'code = "rupee"', "country.toml: currency.code: got 'rupee'"),
    (
        "country.toml",
        'per_usd = "280.0"',
        'per_usd = "-1"',
        "country.toml: currency.per_usd: got '-1', expected a number > 0",
    ),
    (
        "country.toml",
        '"advisor"]',
        '"astrologer"]',
        "country.toml: regulator.offered: got 'astrologer', expected a non-empty list of: exchange",
    ),
    (
        "country.toml",
        'descriptors = "reserve.json"',
        'descriptors = "../../etc/passwd"',
        "reserve.descriptors: got '../../etc/passwd', expected a file name inside the pack",
    ),
    (
        "country.toml",
        'scenario = "mining.toml"',
        'scenario = "missing.toml"',
        "country.toml: mining.scenario: got 'missing.toml', expected an existing file in pakistan/",
    ),
    ("country.toml", "[visa]", "[visas]", "country.toml: [visas]: got 'visas', expected one of"),
    (
        "country.toml",
        'licence_prefix = "PVARA"',
        'licence_prefix = "PV-ARA"',
        "country.toml: regulator.licence_prefix: got 'PV-ARA', expected ASCII letters and digits",
    ),
    ("mining.toml", "power_mw = 2000", "power_mw = -5", "site.power_mw"),
    ("reserve.json", "xpub", "xprv", "private"),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), BROKEN, ids=[b[3][:40] for b in BROKEN])
def test_a_broken_pack_is_refused_in_one_line(
    pakistan_copy: Path, file: str, old: str, new: str, message: str
) -> None:
    path = pakistan_copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(HashNationError) as caught:
        load_pack(pakistan_copy)
    line = str(caught.value)
    assert "\n" not in line and message in line


def test_licence_override_errors_name_the_key(pakistan_copy: Path) -> None:
    path = pakistan_copy / "country.toml"
    base = path.read_text(encoding="utf-8")
    section = "[regulator.licences.exchange]\n"
    cases = {
        section + "fee = 3\n": "regulator.licences.exchange.fee: got 'fee'",
        section + 'code = "EXCH"\n': "exchange.code: got 'EXCH', expected three capital letters",
        section + 'code = "CUS"\n': "regulator.licences: got ",
        section + 'return_frequency = "weekly"\n': "got 'weekly', expected monthly or quarterly",
        section + 'extra_documents = ["Bad Name"]\n': "extra_documents: got ['Bad Name']",
    }
    for extra, message in cases.items():
        path.write_text(base.replace("[reserve]", extra + "\n[reserve]"), encoding="utf-8")
        with pytest.raises(InputError) as caught:
            load_pack(pakistan_copy)
        assert message in str(caught.value), str(caught.value)


def test_bad_toml_and_non_pack_folders(pakistan_copy: Path, tmp_path: Path) -> None:
    (pakistan_copy / "country.toml").write_text("[country\nname=", encoding="utf-8")
    with pytest.raises(InputError, match=r"^country.toml: got .*expected valid TOML"):
        load_pack(pakistan_copy)
    with pytest.raises(InputError, match=r"^country: got"):
        load_pack(tmp_path)
