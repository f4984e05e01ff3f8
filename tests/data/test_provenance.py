from __future__ import annotations

import csv
import re
from importlib import resources

import pytest

from hashnation.data import (
    PROVENANCE_KEYS,
    DatasetProvenance,
    bundled_files,
    load_provenance,
    load_provenance_document,
    provenance_for,
    provenance_section,
)
from hashnation.errors import DataError

FILES = resources.files("hashnation.data") / "files"
COMMIT = re.compile(r"@ [0-9a-f]{40} : ")
ABSOLUTE_PATH = re.compile(r"(?:^|[\s\"'(=])(?:/[\w.-]+){2,}|[A-Za-z]:\\", re.MULTILINE)


def _header(file: str) -> list[str]:
    with (FILES / file).open("r", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def test_bundled_files_are_the_expected_ten() -> None:
    assert bundled_files() == sorted(
        [
            "asic_catalogue.csv",
            "btc_difficulty_epochs_2009_2025.csv",
            "btc_difficulty_hashrate_7d_2009_2026.csv",
            "btc_fees_daily_2024_2025.csv",
            "btc_network_daily_2009_2025.csv",
            "btc_price_daily_coingecko_2013_2026.csv",
            "el_salvador_facts.csv",
            "emission_factors.csv",
            "mainnet_checkpoints.csv",
            "pakistan_power_facts.csv",
        ]
    )


def test_every_file_has_an_entry_and_every_entry_a_file() -> None:
    described = [record.file for record in load_provenance()]
    assert len(described) == len(set(described))
    assert sorted(described) == bundled_files()


def test_every_entry_has_all_keys_in_the_toml() -> None:
    for table in provenance_section("dataset"):
        assert set(PROVENANCE_KEYS) <= set(table), table.get("file")
        for key in PROVENANCE_KEYS:
            assert table[key], (table["file"], key)


@pytest.mark.parametrize("record", load_provenance(), ids=lambda r: r.file)
def test_entry_is_complete(record: DatasetProvenance) -> None:
    for key in PROVENANCE_KEYS:
        if key != "columns":
            value = getattr(record, key)
            assert isinstance(value, str)
            assert value.strip(), key
    assert record.retrieved == "2026-11-23"
    # Columns: every CSV column described, in file order, as "unit; meaning".
    assert list(record.columns) == _header(record.file)
    for column, text in record.columns.items():
        unit, _, meaning = text.partition(";")
        assert unit.strip() and meaning.strip(), column
        assert record.unit_of(column) == unit.strip()
        assert record.meaning_of(column) == meaning.strip()


@pytest.mark.parametrize("record", load_provenance(), ids=lambda r: r.file)
def test_source_is_pinned_or_compiled(record: DatasetProvenance) -> None:
    if record.source.startswith("compiled"):
        assert "source" in record.columns  # one source per row
    else:
        assert COMMIT.search(record.source), record.source


def test_no_local_paths_in_provenance() -> None:
    text = (resources.files("hashnation.data") / "provenance.toml").read_text(encoding="utf-8")
    # No absolute file-system paths (URLs and unit fractions such as J/TH are fine).
    assert not ABSOLUTE_PATH.search(text), ABSOLUTE_PATH.search(text)
    assert "file://" not in text


def test_provenance_for() -> None:
    record = provenance_for("btc_difficulty_epochs_2009_2025.csv")
    assert "bilthon/mining-roi" in record.source
    assert record.licence.startswith("MIT")
    assert record.unit_of("difficulty") == "dimensionless"
    assert provenance_for("btc_network_daily_2009_2025.csv").unit_of("hashrate_ehs") == "EH/s"


def test_provenance_for_unknown_file() -> None:
    with pytest.raises(DataError, match=r"provenance\.file.*'nope\.csv'.*asic_catalogue\.csv"):
        provenance_for("nope.csv")


def test_unknown_column() -> None:
    with pytest.raises(DataError, match="fees_btc_per_day"):
        provenance_for("btc_fees_daily_2024_2025.csv").unit_of("fees")


def test_generic_sections() -> None:
    document = load_provenance_document()
    assert "dataset" in document
    document["dataset"].clear()  # a copy: the cached document is untouched
    assert len(provenance_section("dataset")) == len(bundled_files())
    assert provenance_section("no_such_section", missing_ok=True) == []
    with pytest.raises(DataError, match="no_such_section"):
        provenance_section("no_such_section")


def test_records_are_frozen() -> None:
    record = load_provenance()[0]
    with pytest.raises(AttributeError):
        record.file = "x.csv"  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.columns["x"] = "y"  # type: ignore[index]
