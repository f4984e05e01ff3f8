from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashnation.data import (
    EPOCH_BLOCKS,
    AsicSpec,
    Epoch,
    asic_spec,
    difficulty_on,
    emission_factor,
    epoch_on,
    fact_range,
    fact_value,
    load_asic_catalogue,
    load_difficulty_epochs,
    load_emission_factors,
    load_facts,
    load_fees_daily,
    load_hashrate_7d,
    load_network_daily,
    load_price_daily,
    price_on,
    read_csv_checked,
)
from hashnation.errors import DataError

PKT = timezone(timedelta(hours=5))  # Pakistan Standard Time, no DST

TIME_LOADERS: list[Callable[[], pd.DataFrame | pd.Series]] = [
    load_difficulty_epochs,
    load_network_daily,
    load_hashrate_7d,
    load_price_daily,
    load_fees_daily,
]
DAILY_LOADERS = TIME_LOADERS[1:]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --------------------------------------------------------------------------- common shape


@pytest.mark.parametrize("loader", TIME_LOADERS, ids=lambda f: f.__name__)
def test_time_index_is_utc_sorted_unique(loader: Callable[[], pd.DataFrame | pd.Series]) -> None:
    data = loader()
    index = data.index
    assert isinstance(index, pd.DatetimeIndex)
    assert index.name == "timestamp"
    assert str(index.tz) == "UTC"
    assert index.is_monotonic_increasing
    assert index.is_unique


@pytest.mark.parametrize("loader", DAILY_LOADERS, ids=lambda f: f.__name__)
def test_daily_stamps_are_midnight_utc(loader: Callable[[], pd.DataFrame | pd.Series]) -> None:
    index = pd.DatetimeIndex(loader().index)
    assert (index == index.normalize()).all()


@pytest.mark.parametrize("loader", TIME_LOADERS, ids=lambda f: f.__name__)
def test_results_are_copies(loader: Callable[[], pd.DataFrame | pd.Series]) -> None:
    first = loader()
    before = first.copy()
    first.iloc[0] = -1
    pd.testing.assert_frame_equal(pd.DataFrame(loader()), pd.DataFrame(before), check_freq=False)


# --------------------------------------------------------------------------- difficulty


def test_difficulty_epochs_shape_and_genesis() -> None:
    epochs = load_difficulty_epochs()
    assert list(epochs.columns) == ["height", "difficulty"]
    assert epochs["height"].dtype == np.int64
    assert epochs["difficulty"].dtype == np.float64
    assert len(epochs) == 460
    # File line 2: "0,1231006505,1" -- the genesis block, 2009-01-03 18:15:05 UTC.
    assert epochs.index[0] == pd.Timestamp("2009-01-03 18:15:05", tz="UTC")
    assert epochs["height"].iloc[0] == 0
    assert epochs["difficulty"].iloc[0] == 1.0
    assert (epochs["height"] % EPOCH_BLOCKS == 0).all()
    assert (epochs["height"].diff().dropna() == EPOCH_BLOCKS).all()
    assert (epochs["difficulty"] >= 1).all()
    # Last line: "925344,1764206208,149301205959699.9" (2025-11-27 01:16:48 UTC).
    assert epochs["height"].iloc[-1] == 925_344
    assert epochs.index[-1] == pd.Timestamp("2025-11-27 01:16:48", tz="UTC")


def test_difficulty_on_known_date() -> None:
    # File line 423: "848736,1718875797,83675262295059.9" -- the epoch that started
    # 2024-06-20 09:29:57 UTC and was in force on 2024-07-04 (the next one, line 424,
    # "850752,1720149673,79495195323031.48", started 2024-07-05 03:21:13 UTC).
    when = utc(2024, 7, 4, 12)
    assert difficulty_on(when) == pytest.approx(83_675_262_295_059.9, rel=1e-12)
    epoch = epoch_on(when)
    assert isinstance(epoch, Epoch)
    height, difficulty, start = epoch
    assert height == 848_736
    assert difficulty == pytest.approx(83.675e12, rel=1e-4)
    assert start == pd.Timestamp("2024-06-20 09:29:57", tz="UTC")


def test_difficulty_switches_at_the_first_block_of_the_epoch() -> None:
    start = pd.Timestamp(1720149673, unit="s", tz="UTC")  # height 850752
    assert epoch_on(start).height == 850_752
    assert difficulty_on(start) == pytest.approx(79_495_195_323_031.48, rel=1e-12)
    assert epoch_on(start - pd.Timedelta(seconds=1)).height == 848_736


def test_difficulty_on_genesis_and_other_time_zones() -> None:
    assert epoch_on(utc(2009, 1, 3, 18, 15, 5)) == Epoch(
        0, 1.0, pd.Timestamp("2009-01-03 18:15:05", tz="UTC")
    )
    # 2024-07-05 07:00 in Pakistan is 02:00 UTC, still before the 03:21 retarget.
    assert epoch_on(datetime(2024, 7, 5, 7, 0, tzinfo=PKT)).height == 848_736
    assert epoch_on(datetime(2024, 7, 5, 9, 0, tzinfo=PKT)).height == 850_752
    assert epoch_on(pd.Timestamp("2024-07-04 12:00", tz="Asia/Karachi")).height == 848_736


def test_difficulty_outside_range() -> None:
    with pytest.raises(DataError, match=r"when.*expected a time from 2009-01-03"):
        difficulty_on(utc(2009, 1, 3, 18, 15, 4))
    # Last epoch started 2025-11-27 01:16:48 UTC; nominal length 14 days.
    assert epoch_on(utc(2025, 12, 10)).height == 925_344
    with pytest.raises(DataError, match="2025-12-11T01:16:48"):
        difficulty_on(utc(2025, 12, 12))


def test_difficulty_needs_aware_datetime() -> None:
    with pytest.raises(DataError, match="timezone-aware"):
        difficulty_on(datetime(2024, 7, 4, 12))
    with pytest.raises(DataError, match="timezone-aware"):
        epoch_on(pd.Timestamp("2024-07-04 12:00"))
    with pytest.raises(DataError, match="when"):
        difficulty_on(date(2024, 7, 4))  # type: ignore[arg-type]
    with pytest.raises(DataError, match="when"):
        difficulty_on(pd.NaT)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # DataError is a ValueError
        difficulty_on(datetime(2024, 7, 4, 12))


def test_epoch_difficulty_matches_network_hashrate() -> None:
    # Hashrate implied by an epoch (2016 blocks x difficulty x 2^32 hashes over its
    # duration) should agree with the mean daily estimate of the network file.
    epochs = load_difficulty_epochs()
    network = load_network_daily()["hashrate_ehs"]
    index = pd.DatetimeIndex(epochs.index)
    window = epochs.loc["2022":"2024"]
    checked = 0
    for start in pd.DatetimeIndex(window.index):
        position = int(index.searchsorted(start))
        end = index[position + 1]
        seconds = (end - start).total_seconds()
        implied_ehs = EPOCH_BLOCKS * epochs["difficulty"].iloc[position] * 2**32 / seconds / 1e18
        inside = network.loc[start.normalize() + pd.Timedelta(days=1) : end.normalize()]
        assert inside.mean() == pytest.approx(implied_ehs, rel=0.1), start
        checked += 1
    assert checked > 70


# --------------------------------------------------------------------------- daily series


def test_network_daily() -> None:
    network = load_network_daily()
    assert list(network.columns) == [
        "hashrate_ehs",
        "subsidy_btc_per_day",
        "subsidy_usd_per_day",
        "median_block_interval_min",
        "price_usd_per_btc",
        "cbeci_efficiency_lower_j_per_th",
        "cbeci_efficiency_estimate_j_per_th",
        "cbeci_efficiency_upper_j_per_th",
    ]
    assert (network.dtypes == np.float64).all()
    assert network.index[0] == pd.Timestamp("2009-01-03", tz="UTC")
    assert network.index[-1] == pd.Timestamp("2025-03-10", tz="UTC")
    assert network["hashrate_ehs"].last_valid_index() == pd.Timestamp("2025-03-08", tz="UTC")
    # File line 5905: "2025-03-08,753.005,428.125,36895645.53125,...,86179.61,13.430351,..."
    row = network.loc[pd.Timestamp("2025-03-08", tz="UTC")]
    assert row["hashrate_ehs"] == pytest.approx(753.005)
    assert row["subsidy_btc_per_day"] == pytest.approx(428.125)
    assert row["price_usd_per_btc"] == pytest.approx(86179.61)
    # Only gap: no blocks were mined 2009-01-04 ... 2009-01-08.
    steps = pd.DatetimeIndex(network.index).to_series().diff().dropna()
    assert (steps > pd.Timedelta(days=1)).sum() == 1
    assert steps.max() == pd.Timedelta(days=6)
    bounds = network[[c for c in network.columns if c.startswith("cbeci")]].dropna()
    # lower <= estimate <= upper, up to small upstream inconsistencies: the bounds are
    # rounded to 0.1 J/TH while all three coincide (2010-07 ... 2011-03), and on
    # 2011-03-11 ... 2011-03-31 the estimate (2406452) exceeds the upper bound
    # (2405161.4) by 0.05 %.
    tolerance = 1 + 1e-3
    assert (bounds.iloc[:, 0] <= bounds.iloc[:, 1] * tolerance).all()
    assert (bounds.iloc[:, 1] <= bounds.iloc[:, 2] * tolerance).all()


def test_network_subsidy_halves_in_april_2024() -> None:
    subsidy = load_network_daily()["subsidy_btc_per_day"]
    # 144 blocks/day x 6.25 BTC = 900 before, x 3.125 BTC = 450 after.
    assert subsidy.loc["2024-03-01":"2024-04-18"].median() == pytest.approx(900, rel=0.05)
    assert subsidy.loc["2024-05-01":"2024-06-30"].median() == pytest.approx(450, rel=0.05)


def test_hashrate_7d() -> None:
    data = load_hashrate_7d()
    assert list(data.columns) == [
        "difficulty_7d_avg",
        "hashrate_ths_7d_avg",
        "price_usd_per_btc_7d_avg",
    ]
    assert (data.dtypes == np.float64).all()
    assert data.index[-1] == pd.Timestamp("2026-01-02", tz="UTC")
    # File line 3116: "2026-01-01,148258433855480.4,,87614.83714285718"
    row = data.loc[pd.Timestamp("2026-01-01", tz="UTC")]
    assert row["difficulty_7d_avg"] == pytest.approx(148_258_433_855_480.4)
    assert np.isnan(row["hashrate_ths_7d_avg"])
    # File line 3: "2009-01-07,0,,0" -- zeros are "no data".
    assert data.loc["2009-01-07"].isna().to_numpy().all()
    assert (data.fillna(1) > 0).to_numpy().all()


def test_price_daily() -> None:
    price = load_price_daily()
    assert isinstance(price, pd.Series)
    assert price.name == "price_usd_per_btc"
    assert price.dtype == np.float64
    assert price.index[0] == pd.Timestamp("2013-04-28", tz="UTC")
    assert price.index[-1] == pd.Timestamp("2026-01-02", tz="UTC")
    assert price.iloc[0] == pytest.approx(135.3)  # file line 2: "2013-04-28,135.3,..."
    assert len(price) == 4631
    assert (price > 0).all()


def test_price_on() -> None:
    # File line 4085: "2024-07-04,60244.68076433092,..."
    assert price_on(date(2024, 7, 4)) == pytest.approx(60244.68076433092)
    assert price_on(utc(2024, 7, 4, 23, 59)) == pytest.approx(60244.68076433092)
    # 03:00 on 5 July in Pakistan is still 4 July in UTC.
    assert price_on(datetime(2024, 7, 5, 3, 0, tzinfo=PKT)) == pytest.approx(60244.68076433092)
    assert price_on(pd.Timestamp("2026-01-02", tz="UTC")) == pytest.approx(88727.67004249741)


def test_price_on_errors() -> None:
    with pytest.raises(DataError, match=r"day: got '2013-04-27'.*2013-04-28 to 2026-01-02"):
        price_on(date(2013, 4, 27))
    with pytest.raises(DataError, match="2026-01-03"):
        price_on(date(2026, 1, 3))
    with pytest.raises(DataError, match="lacks 2013-06-04, 2015-01-28"):
        price_on(date(2015, 1, 28))
    with pytest.raises(DataError, match="timezone-aware"):
        price_on(datetime(2024, 7, 4))
    with pytest.raises(DataError, match="day"):
        price_on("2024-07-04")  # type: ignore[arg-type]


def test_fees_daily() -> None:
    fees = load_fees_daily()
    assert fees.name == "fees_btc_per_day"
    assert fees.dtype == np.float64
    assert len(fees) == 363
    assert fees.index[0] == pd.Timestamp("2024-02-06", tz="UTC")
    assert fees.index[-1] == pd.Timestamp("2025-02-02", tz="UTC")
    full = pd.date_range(fees.index[0], fees.index[-1], freq="D")
    assert len(full) == len(fees)  # no gaps
    # File line 76: "2024-04-20,1257.7154452499992" -- the halving-day fee spike.
    assert fees.idxmax() == pd.Timestamp("2024-04-20", tz="UTC")
    assert fees.max() == pytest.approx(1257.7154452499992)
    assert (fees > 0).all()


# --------------------------------------------------------------------------- ASICs


def test_asic_catalogue() -> None:
    catalogue = load_asic_catalogue()
    assert list(catalogue.columns) == [
        "manufacturer",
        "model",
        "release_date",
        "hashrate_ths",
        "power_w",
        "efficiency_j_per_th",
        "cooling",
        "source",
        "note",
    ]
    assert len(catalogue) == 25
    for column in ("hashrate_ths", "power_w", "efficiency_j_per_th"):
        assert catalogue[column].dtype == np.float64
    assert pd.api.types.is_string_dtype(catalogue["release_date"])
    s21 = catalogue.loc[catalogue["model"] == "Antminer S21"].iloc[0]
    assert s21["release_date"] == "2023"  # stays text, not the number 2023
    assert set(catalogue["cooling"]) == {"air", "hydro", "immersion"}
    assert catalogue["model"].str.casefold().is_unique


def test_asic_power_matches_efficiency() -> None:
    catalogue = load_asic_catalogue()
    ratio = catalogue["power_w"] / catalogue["hashrate_ths"] / catalogue["efficiency_j_per_th"]
    assert ((ratio - 1).abs() < 0.08).all(), catalogue.loc[(ratio - 1).abs() >= 0.08, "model"]


def test_asic_spec() -> None:
    spec = asic_spec("Antminer S21")
    assert spec == AsicSpec(
        model="Antminer S21",
        manufacturer="Bitmain",
        hashrate_ths=200.0,
        power_w=3500.0,
        efficiency_j_per_th=17.5,
        cooling="air",
    )
    assert asic_spec("  antminer   S21 ") == spec
    assert asic_spec("ANTMINER S21+ HYDRO").cooling == "hydro"
    assert asic_spec("whatsminer m66s+").cooling == "immersion"
    with pytest.raises(AttributeError):
        spec.power_w = 1.0  # type: ignore[misc]


def test_asic_spec_unknown_model() -> None:
    with pytest.raises(DataError) as info:
        asic_spec("Antminer S99")
    message = str(info.value)
    assert info.value.field == "asic.model"
    assert info.value.value == "Antminer S99"
    assert "asic.model" in message
    assert "'Antminer S99'" in message
    assert "Antminer S21" in message
    assert "Avalon A16 XP" in message
    with pytest.raises(DataError, match=r"asic.model"):
        asic_spec("Antminer")  # no prefix matching


# --------------------------------------------------------------------------- facts


def test_facts_frames() -> None:
    for country in ("pakistan", "el_salvador"):
        facts = load_facts(country)
        assert list(facts.columns) == ["fact", "value", "unit", "as_of", "source", "note"]
        assert all(pd.api.types.is_string_dtype(facts[c]) for c in facts.columns)
        assert facts["fact"].notna().all() and facts["source"].notna().all()
    pakistan = load_facts("pakistan")
    assert len(pakistan) == 38
    assert pakistan.loc[pakistan["fact"] == "winter_demand", "value"].item() == "12000-13000"


def test_fact_value_and_range() -> None:
    assert fact_value("pakistan", "base_tariff_national_average_fy26") == 34.01
    assert fact_value("pakistan", "installed_capacity_total") == 46605
    assert fact_value("pakistan", "fuel_cost_local_coal_apr2025") == pytest.approx(11.2115)
    assert fact_range("pakistan", "proposed_miner_tariff") == (22, 24)
    assert fact_range("pakistan", "winter_demand") == (12000, 13000)
    assert fact_range("pakistan", "capacity_payment_burden") == (12, 15)
    assert fact_range("pakistan", "crypto_ai_power_allocation") == (2000, 2000)
    assert fact_value("el_salvador", "geothermal_installed_capacity") == 204


def test_fact_repeated_with_as_of() -> None:
    # reserve_holdings appears for 2024-03-19, 2024-05-15 and 2024-09-12.
    assert fact_value("el_salvador", "reserve_holdings") == 5871  # most recent
    assert fact_value("el_salvador", "reserve_holdings", as_of="2024-03-19") == 5693
    with pytest.raises(DataError, match=r"as_of.*2024-05-15"):
        fact_value("el_salvador", "reserve_holdings", as_of="2023-01-01")


def test_fact_errors() -> None:
    with pytest.raises(DataError, match=r"pakistan\.fact: got 'nope'.*winter_demand"):
        fact_value("pakistan", "nope")
    with pytest.raises(DataError, match="fact_range"):
        fact_value("pakistan", "proposed_miner_tariff")
    with pytest.raises(DataError, match="imf_position"):
        fact_value("pakistan", "imf_position")
    with pytest.raises(DataError, match="imf_position"):
        fact_range("pakistan", "imf_position")
    with pytest.raises(DataError, match="daily_purchase_start"):
        fact_range("el_salvador", "daily_purchase_start")  # a date, not a range
    with pytest.raises(DataError, match=r"country.*india.*pakistan, el_salvador"):
        load_facts("india")  # type: ignore[arg-type]


def test_emission_factors() -> None:
    factors = load_emission_factors()
    assert list(factors.columns) == ["item", "value", "unit", "as_of", "source", "note"]
    assert factors["value"].dtype == np.float64
    assert emission_factor("pakistan_grid_carbon_intensity") == (309.55, "gCO2eq/kWh")
    # The same figure is in the Pakistan facts file.
    assert fact_value("pakistan", "grid_carbon_intensity_2023") == 309.55
    # The derived coal row: 8863 Btu/kWh x 1.055056e-3 MJ/Btu x 96.1 kg/GJ.
    heat_rate, _ = emission_factor("coal_example_heat_rate_supercritical")
    fuel_ef, _ = emission_factor("coal_fuel_emission_factor_subbituminous")
    derived, unit = emission_factor("coal_plant_emission_factor_supercritical_subbituminous")
    assert unit == "tCO2/MWh"
    assert heat_rate * 1.055056e-3 * fuel_ef / 1e6 == pytest.approx(derived, abs=5e-4)
    with pytest.raises(DataError, match=r"emission_factor.item.*pakistan_grid_carbon_intensity"):
        emission_factor("nope")


# --------------------------------------------------------------------------- read_csv_checked

REQUIRED = {"date": "YYYY-MM-DD (UTC)", "power_mw": "MW"}


def test_read_csv_checked_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "profile.csv"
    path.write_text("date,load_mw\n2025-01-01,12000\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_csv_checked(path, REQUIRED, "profile.csv")
    message = str(info.value)
    assert info.value.field == "profile.csv.power_mw"
    assert "profile.csv" in message
    assert "'power_mw' (MW)" in message
    assert "load_mw" in message  # what the file does have


def test_read_csv_checked_ok_and_numeric(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("date,power_mw,extra\n2025-01-01,12000,a\n2025-01-02,,b\n", encoding="utf-8")
    frame = read_csv_checked(str(path), REQUIRED, "ok.csv", numeric=["power_mw"])
    assert list(frame.columns) == ["date", "power_mw", "extra"]
    assert frame["power_mw"].dtype == np.float64
    assert np.isnan(frame["power_mw"].iloc[1])


def test_read_csv_checked_bad_number() -> None:
    buffer = io.StringIO("date,power_mw\n2025-01-01,12000\n2025-01-02,twelve\n")
    with pytest.raises(DataError, match=r"bad\.csv\.power_mw: got 'twelve'.*MW.*line 3"):
        read_csv_checked(buffer, REQUIRED, "bad.csv", numeric=["power_mw"])


def test_read_csv_checked_text_columns() -> None:
    buffer = io.BytesIO(b"date,power_mw\n2025,1\n")
    frame = read_csv_checked(buffer, REQUIRED, "t.csv", text=["date"])
    assert frame["date"].iloc[0] == "2025"


def test_read_csv_checked_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="readable CSV"):
        read_csv_checked(tmp_path / "absent.csv", REQUIRED, "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"empty.csv.*'date', 'power_mw'"):
        read_csv_checked(empty, REQUIRED, "empty.csv")


def test_mainnet_checkpoints_match_the_official_vectors() -> None:
    import json

    from hashnation.data.loaders import load_mainnet_checkpoints

    checkpoints = load_mainnet_checkpoints()
    vectors = json.loads(
        (
            Path(__file__).parents[1] / "vectors" / "chain" / "bitcoinj_checkpoints_mainnet.json"
        ).read_text(encoding="utf-8")
    )
    assert len(checkpoints) == len(vectors) + 1
    assert checkpoints[0] == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    for record in vectors:
        assert checkpoints[record["height"]] == record["block_hash"]
