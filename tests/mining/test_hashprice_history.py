"""Historical hashprice from bundled data against the formula and published figures."""

import csv
from pathlib import Path

import pytest

from hashnation.bitcoin.subsidy import block_subsidy_sat
from hashnation.mining.history import hashprice_history

FILES = Path(__file__).resolve().parents[2] / "src" / "hashnation" / "data" / "files"


def _rows(name: str) -> list[dict[str, str]]:
    with (FILES / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def _difficulty_at(unix_s: float) -> tuple[int, float, int]:
    best = None
    for row in _rows("btc_difficulty_epochs_2009_2025.csv"):
        if int(row["timestamp_unix_s"]) <= unix_s:
            best = (int(row["height"]), float(row["difficulty"]), int(row["timestamp_unix_s"]))
    assert best is not None
    return best


def _by_date(name: str, column: str) -> dict[str, float]:
    return {r["date"]: float(r[column]) for r in _rows(name) if r[column] not in ("", None)}


@pytest.mark.parametrize(
    "day",
    ["2017-06-01", "2020-05-20", "2021-11-10", "2024-07-04", "2024-12-17", "2025-11-20"],
)
def test_history_matches_formula_from_raw_rows(day: str) -> None:
    """Recompute hashprice by hand from the raw CSV rows and the definition."""
    import datetime as dt

    midnight = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()
    epoch_height, difficulty, epoch_start = _difficulty_at(midnight)
    height = epoch_height + int((midnight - epoch_start) // 600)
    subsidy_btc = block_subsidy_sat(height) / 1e8
    fees = _by_date("btc_fees_daily_2024_2025.csv", "fees_btc_per_day").get(day, 0.0) / 144
    price = _by_date("btc_price_daily_coingecko_2013_2026.csv", "price_usd_per_btc")[day]
    expected_usd = (subsidy_btc + fees) * 86_400 * 1e12 / (difficulty * 2**32) * price

    row = hashprice_history(day, day).iloc[0]
    assert row["difficulty"] == difficulty
    assert row["subsidy_btc_per_block"] == subsidy_btc
    assert row["hashprice_usd_per_th_day"] == pytest.approx(expected_usd, rel=1e-12)


def test_subsidy_halves_across_the_2024_halving() -> None:
    h = hashprice_history("2024-04-10", "2024-04-30")
    assert h["subsidy_btc_per_block"].iloc[0] == 6.25
    assert h["subsidy_btc_per_block"].iloc[-1] == 3.125


def test_agrees_with_luxor_hashprice_2024_07_04() -> None:
    """Luxor Hashprice Index, 2024-07-04 06:00 EDT: 44.842 USD per PH/s per day.

    Source: Luxor's hashprice index as reported by CoinDesk, 4 July 2024
    ("Bitcoin's daily mining revenue in dollars hits record low"). Our figure
    uses the bundled difficulty in force that day, the consensus subsidy, the
    bundled daily fees and CoinGecko's 00:00 UTC price.
    """
    published_usd_per_th_day = 44.842 / 1000.0
    ours = float(hashprice_history("2024-07-04", "2024-07-04")["hashprice_usd_per_th_day"].iloc[0])
    assert ours == pytest.approx(published_usd_per_th_day, rel=0.05)


def test_formula_agrees_with_luxor_five_year_low_2025() -> None:
    """Luxor via CoinDesk, November 2025: hashprice 38.2 USD/PH/s/day.

    The same report states its inputs: price about 91,000 USD, difficulty about
    152 T, fees "extremely low". The formula with those inputs and the 3.125
    BTC subsidy (no fees) must land within 5 % of the published figure.
    """
    from hashnation.bitcoin.hashprice import hashprice_usd_per_th_day

    ours = hashprice_usd_per_th_day(152e12, 3.125, 0.0, 91_000.0)
    assert ours == pytest.approx(38.2 / 1000.0, rel=0.05)
    bundled = hashprice_history("2025-11-20", "2025-11-21")["hashprice_usd_per_th_day"]
    assert float(bundled.mean()) == pytest.approx(38.2 / 1000.0, rel=0.08)
