"""Tests of ``hashnation --version``, ``hashnation data`` and ``hashnation bitcoin``."""

from __future__ import annotations

import pytest
import typer.testing

import hashnation
from hashnation.cli.errors import error_line
from hashnation.cli.main import app
from hashnation.errors import InputError

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})


def values(output: str) -> dict[str, str]:
    """``name  value  [unit]`` lines -> {name: value}."""
    rows = {}
    for line in output.splitlines():
        name, value = line.split()[:2]
        rows[name] = value
    return rows


def assert_one_line_error(result: typer.testing.Result, *texts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in texts:
        assert text in lines[0], (text, lines[0])


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"hashnation {hashnation.__version__}"


def test_no_command_shows_help() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert "mining" in result.output and "bitcoin" in result.output


def test_error_line_folds_newlines() -> None:
    exc = InputError("a.b", "x\ny", "one\n  line")
    assert error_line(exc) == "error: a.b: got 'x\\ny', expected one line"


@pytest.mark.parametrize(
    ("height", "sat", "btc", "next_halving"),
    [
        ("0", "5000000000", "50.00000000", "210000"),
        ("209999", "5000000000", "50.00000000", "210000"),
        ("840000", "312500000", "3.12500000", "1050000"),
        ("6929999", "1", "0.00000001", "6930000"),
        ("13440000", "0", "0.00000000", "13650000"),
    ],
)
def test_bitcoin_subsidy(height: str, sat: str, btc: str, next_halving: str) -> None:
    result = runner.invoke(app, ["bitcoin", "subsidy", height])
    assert result.exit_code == 0, result.output
    rows = values(result.stdout)
    assert rows["height"] == height
    assert rows["block_subsidy_sat"] == sat
    assert rows["block_subsidy_btc"] == btc
    assert rows["next_halving_height"] == next_halving
    assert int(rows["blocks_to_next_halving"]) == int(next_halving) - int(height)


def test_bitcoin_subsidy_rejects_negative_height() -> None:
    result = runner.invoke(app, ["bitcoin", "subsidy", "--", "-1"])
    assert_one_line_error(result, "height", "-1", ">= 0")


def test_bitcoin_subsidy_rejects_text() -> None:
    result = runner.invoke(app, ["bitcoin", "subsidy", "abc"])
    assert result.exit_code == 2  # Typer usage error


@pytest.mark.parametrize("bits", ["0x1d00ffff", "1d00ffff", "0X1D00FFFF"])
def test_bitcoin_bits_genesis(bits: str) -> None:
    result = runner.invoke(app, ["bitcoin", "bits", bits])
    assert result.exit_code == 0, result.output
    rows = values(result.stdout)
    assert rows["bits"] == "0x1d00ffff"
    assert rows["target"] == "0x00000000ffff" + "0" * 52
    assert float(rows["difficulty"]) == 1.0
    assert float(rows["expected_hashes_per_block"]) == pytest.approx(2.0**32, rel=1e-6)


def test_bitcoin_bits_block_840000() -> None:
    # The retarget period from height 838,656 (holding block 840,000) has nBits 0x17034219;
    # the bundled epoch file gives its difficulty as 86388558925171.02.
    result = runner.invoke(app, ["bitcoin", "bits", "0x17034219"])
    assert result.exit_code == 0, result.output
    rows = values(result.stdout)
    assert rows["target"] == "0x" + "0" * 18 + "034219" + "0" * 40
    assert float(rows["difficulty"]) == pytest.approx(86_388_558_925_171.02, rel=1e-12)


@pytest.mark.parametrize(
    ("bits", "texts"),
    [
        ("zz", ["bits", "'zz'", "hex"]),
        ("0x1d00ffff00", ["bits", "8 digits"]),
        ("0x01803456", ["bits", "sign bit"]),
        ("0x1d000000", ["bits", "non-zero mantissa"]),
    ],
)
def test_bitcoin_bits_errors(bits: str, texts: list[str]) -> None:
    assert_one_line_error(runner.invoke(app, ["bitcoin", "bits", bits]), *texts)


def test_data_list() -> None:
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0, result.output
    for text in ("asic_catalogue.csv", "pakistan_power_facts.csv", "licence"):
        assert text in result.stdout


def test_data_provenance() -> None:
    result = runner.invoke(app, ["data", "provenance", "asic_catalogue.csv"])
    assert result.exit_code == 0, result.output
    for text in ("source", "licence", "retrieved", "hashrate_ths", "TH/s", "efficiency_j_per_th"):
        assert text in result.stdout


def test_data_provenance_unknown_file() -> None:
    result = runner.invoke(app, ["data", "provenance", "nope.csv"])
    assert_one_line_error(result, "provenance.file", "'nope.csv'", "asic_catalogue.csv")
