"""Loaders for the bundled datasets, and a checked CSV reader for user files.

Every loader reads its file from the installed package (``hashnation/data/files``)
through :func:`read_csv_checked`, which raises :class:`~hashnation.errors.DataError`
naming the file, the column and what was expected when a column is missing or holds
a value of the wrong kind.

Time-indexed results carry a timezone-aware UTC :class:`pandas.DatetimeIndex`
named ``"timestamp"``, sorted and free of duplicates; daily series are stamped at
00:00 UTC of their day. Results are cached: each call returns a fresh copy, so
callers may modify what they get.

Provenance, units and caveats of every file are in ``provenance.toml``
(:func:`hashnation.data.provenance_for`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import IO, Literal, NamedTuple, TypeAlias

import pandas as pd

from hashnation.errors import DataError

__all__ = [
    "ASIC_CATALOGUE_FILE",
    "DIFFICULTY_EPOCHS_FILE",
    "EL_SALVADOR_FACTS_FILE",
    "EMISSION_FACTORS_FILE",
    "EPOCH_BLOCKS",
    "FEES_DAILY_FILE",
    "HASHRATE_7D_FILE",
    "MAINNET_CHECKPOINTS_FILE",
    "NETWORK_DAILY_FILE",
    "PAKISTAN_FACTS_FILE",
    "PRICE_DAILY_FILE",
    "TIME_INDEX_NAME",
    "AsicSpec",
    "Country",
    "CsvSource",
    "Epoch",
    "asic_spec",
    "bundled_files",
    "difficulty_on",
    "emission_factor",
    "epoch_on",
    "fact_range",
    "fact_value",
    "load_asic_catalogue",
    "load_difficulty_epochs",
    "load_emission_factors",
    "load_facts",
    "load_fees_daily",
    "load_hashrate_7d",
    "load_mainnet_checkpoints",
    "load_network_daily",
    "load_price_daily",
    "price_on",
    "read_csv_checked",
]

DIFFICULTY_EPOCHS_FILE = "btc_difficulty_epochs_2009_2025.csv"
MAINNET_CHECKPOINTS_FILE = "mainnet_checkpoints.csv"
NETWORK_DAILY_FILE = "btc_network_daily_2009_2025.csv"
HASHRATE_7D_FILE = "btc_difficulty_hashrate_7d_2009_2026.csv"
PRICE_DAILY_FILE = "btc_price_daily_coingecko_2013_2026.csv"
FEES_DAILY_FILE = "btc_fees_daily_2024_2025.csv"
ASIC_CATALOGUE_FILE = "asic_catalogue.csv"
PAKISTAN_FACTS_FILE = "pakistan_power_facts.csv"
EL_SALVADOR_FACTS_FILE = "el_salvador_facts.csv"
EMISSION_FACTORS_FILE = "emission_factors.csv"

TIME_INDEX_NAME = "timestamp"
"""Name of the UTC index of every time-indexed result."""

EPOCH_BLOCKS = 2016
"""Blocks per difficulty epoch (retarget interval)."""

_NOMINAL_EPOCH = pd.Timedelta(minutes=10 * EPOCH_BLOCKS)
_MAX_LISTED = 40

Country: TypeAlias = Literal["pakistan", "el_salvador"]
"""Countries with a bundled facts file."""

CsvSource: TypeAlias = str | os.PathLike[str] | IO[str] | IO[bytes]
"""A path to a CSV file, or an open text or binary file object."""

_FACT_FILES: dict[str, str] = {
    "pakistan": PAKISTAN_FACTS_FILE,
    "el_salvador": EL_SALVADOR_FACTS_FILE,
}

_EPOCH_COLUMNS = {
    "height": "block height of the epoch's first block, a multiple of 2016",
    "timestamp_unix_s": "s since 1970-01-01 UTC, header time of the epoch's first block",
    "difficulty": "dimensionless difficulty, >= 1",
}
_NETWORK_COLUMNS = {
    "date": "YYYY-MM-DD (UTC)",
    "hashrate_ehs": "EH/s",
    "subsidy_btc_per_day": "BTC/day, block subsidy without fees",
    "subsidy_usd_per_day": "USD/day",
    "median_block_interval_min": "min",
    "price_usd_per_btc": "USD/BTC, daily average",
    "cbeci_efficiency_lower_j_per_th": "J/TH, CBECI lower bound",
    "cbeci_efficiency_estimate_j_per_th": "J/TH, CBECI estimate",
    "cbeci_efficiency_upper_j_per_th": "J/TH, CBECI upper bound",
}
_HASHRATE_7D_COLUMNS = {
    "date": "YYYY-MM-DD (UTC)",
    "difficulty_7d_avg": "dimensionless, 7-day average",
    "hashrate_ths_7d_avg": "TH/s, 7-day average",
    "price_usd_per_btc_7d_avg": "USD/BTC, 7-day average",
}
_PRICE_COLUMNS = {
    "date": "YYYY-MM-DD (UTC)",
    "price_usd_per_btc": "USD/BTC at 00:00 UTC",
}
_FEES_COLUMNS = {
    "date": "YYYY-MM-DD (UTC)",
    "fees_btc_per_day": "BTC/day paid to miners in fees",
}
_ASIC_COLUMNS = {
    "manufacturer": "text",
    "model": "text",
    "release_date": "YYYY or YYYY-MM, may be blank",
    "hashrate_ths": "TH/s",
    "power_w": "W",
    "efficiency_j_per_th": "J/TH",
    "cooling": "air, hydro or immersion",
    "source": "text",
    "note": "text, may be blank",
}
_ASIC_TEXT = ("manufacturer", "model", "release_date", "cooling", "source", "note")
_ASIC_NUMERIC = ("hashrate_ths", "power_w", "efficiency_j_per_th")
_FACT_COLUMNS = {
    "fact": "text identifier",
    "value": "a number, a 'low-high' range or text",
    "unit": "text",
    "as_of": "date or period",
    "source": "text",
    "note": "text, may be blank",
}
_EMISSION_COLUMNS = {
    "item": "text identifier",
    "value": "a number",
    "unit": "text",
    "as_of": "year, may be blank",
    "source": "text",
    "note": "text, may be blank",
}

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_SINGLE_RE = re.compile(rf"[+-]?{_NUMBER}")
_RANGE_RE = re.compile(rf"({_NUMBER})\s*-\s*({_NUMBER})")


# --------------------------------------------------------------------------- generic reader


def read_csv_checked(
    path_or_buffer: CsvSource,
    required: Mapping[str, str],
    name: str,
    *,
    numeric: Collection[str] = (),
    text: Collection[str] = (),
) -> pd.DataFrame:
    """Read a CSV file and check that it has the columns a caller needs.

    Parameters
    ----------
    path_or_buffer
        Path of the file, or an open text or binary file object.
    required
        Column name to a description of its unit or content (``"EH/s"``); the
        description is quoted in the error raised when the column is missing.
    name
        Name of the dataset used in error messages, usually the file name.
    numeric
        Columns that must hold numbers (blank cells are allowed and read as NaN).
    text
        Columns to read as strings whatever they contain (``"2023"`` stays text).

    Returns
    -------
    pandas.DataFrame
        The file as read by :func:`pandas.read_csv`, with every column (also those
        not listed in ``required``); numeric columns are int64 or float64.

    Raises
    ------
    DataError
        If the file cannot be read or parsed, is empty, lacks a required column,
        or holds a non-number in a numeric column. The message names the file
        (``name``), the column and what was expected.
    """
    dtype = dict.fromkeys(text, "str")
    try:
        frame = pd.read_csv(path_or_buffer, dtype=dtype)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise DataError(name, str(path_or_buffer), "a readable CSV file") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(name, "an empty file", _columns_phrase(required)) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(name, str(exc).strip(), "a well-formed UTF-8 CSV file") from exc

    present = [str(column) for column in frame.columns]
    missing = [column for column in required if column not in present]
    if missing:
        wanted = "; ".join(f"{column!r} ({required[column]})" for column in missing)
        raise DataError(
            f"{name}.{missing[0]}",
            "missing",
            f"a column {wanted}; the file has columns {present}",
        )
    for column in numeric:
        if column in frame.columns:
            frame[column] = _as_number(frame[column], name, column, required.get(column))
    return frame


def _columns_phrase(required: Mapping[str, str]) -> str:
    return "a CSV header with columns " + ", ".join(repr(column) for column in required)


def _as_number(values: pd.Series, name: str, column: str, unit: str | None) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        raise DataError(f"{name}.{column}", values.iloc[0], f"a number ({unit or 'numeric'})")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        position = int(bad.to_numpy().argmax())
        raise DataError(
            f"{name}.{column}",
            values.iloc[position],
            f"a number ({unit or 'numeric'}) on line {position + 2} of the file",
        )
    return converted


def _read_bundled(
    file: str,
    required: Mapping[str, str],
    *,
    numeric: Collection[str] = (),
    text: Collection[str] = (),
) -> pd.DataFrame:
    resource = resources.files(__package__ or "hashnation.data") / "files" / file
    with resource.open("rb") as handle:
        return read_csv_checked(handle, required, file, numeric=numeric, text=text)


def bundled_files() -> list[str]:
    """List the CSV files bundled with the package.

    Returns
    -------
    list[str]
        File names inside ``hashnation/data/files``, sorted.
    """
    folder = resources.files(__package__ or "hashnation.data") / "files"
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".csv"))


# --------------------------------------------------------------------------- checks


def _check(frame: pd.DataFrame, column: str, name: str, ok: pd.Series, expected: str) -> None:
    """Raise on the first row where ``ok`` is false."""
    if not bool(ok.all()):
        position = int((~ok).to_numpy().argmax())
        raise DataError(
            f"{name}.{column}",
            frame[column].iloc[position],
            f"{expected} (line {position + 2} of the file)",
        )


def _check_complete(frame: pd.DataFrame, columns: Collection[str], name: str) -> None:
    for column in columns:
        _check(frame, column, name, frame[column].notna(), "a value (no blank cells)")


def _check_positive(
    frame: pd.DataFrame, columns: Collection[str], name: str, *, allow_missing: bool
) -> None:
    for column in columns:
        values = frame[column]
        ok = (values > 0) | values.isna() if allow_missing else values > 0
        _check(frame, column, name, ok.astype(bool), "a number > 0")


def _with_time_index(frame: pd.DataFrame, stamps: pd.Series, drop: str, name: str) -> pd.DataFrame:
    index = pd.DatetimeIndex(stamps, name=TIME_INDEX_NAME)
    out = frame.drop(columns=drop)
    out.index = index
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise DataError(f"{name}.{drop}", str(dup.date()), "each time at most once")
    if not index.is_monotonic_increasing:
        out = out.sort_index()
    return out


def _daily(frame: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    raw = frame[column]
    stamps = pd.to_datetime(raw, format="%Y-%m-%d", utc=True, errors="coerce")
    _check(frame, column, name, stamps.notna(), "a date YYYY-MM-DD")
    return _with_time_index(frame, stamps, column, name)


# --------------------------------------------------------------------------- difficulty


class Epoch(NamedTuple):
    """One difficulty epoch: 2016 blocks mined at one difficulty."""

    height: int
    """Height of the epoch's first block."""
    difficulty: float
    """Difficulty in force during the epoch (dimensionless)."""
    start: pd.Timestamp
    """Header time (UTC) of the epoch's first block."""


@functools.cache
def _epochs() -> pd.DataFrame:
    name = DIFFICULTY_EPOCHS_FILE
    frame = _read_bundled(name, _EPOCH_COLUMNS, numeric=list(_EPOCH_COLUMNS))
    _check_complete(frame, _EPOCH_COLUMNS, name)
    if not pd.api.types.is_integer_dtype(frame["height"].dtype):
        raise DataError(f"{name}.height", str(frame["height"].dtype), "whole block heights")
    height = frame["height"]
    _check(frame, "height", name, height % EPOCH_BLOCKS == 0, "a multiple of 2016")
    steps = height.diff().fillna(EPOCH_BLOCKS)
    _check(frame, "height", name, steps == EPOCH_BLOCKS, "the previous height + 2016")
    _check(frame, "difficulty", name, frame["difficulty"] >= 1, "a difficulty >= 1")
    seconds = frame["timestamp_unix_s"]
    steps_s = seconds.diff().fillna(1)
    _check(frame, "timestamp_unix_s", name, steps_s > 0, "a time after the previous epoch")
    stamps = pd.to_datetime(seconds, unit="s", utc=True)
    out = _with_time_index(frame, stamps, "timestamp_unix_s", name)
    return out.astype({"height": "int64", "difficulty": "float64"})


def load_mainnet_checkpoints() -> dict[int, str]:
    """Load the bundled mainnet checkpoints: height to block hash.

    Returns
    -------
    dict of int to str
        Block hash (display-order hex) of the genesis block and of the first block of
        every retarget period up to the last bundled one.

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    name = MAINNET_CHECKPOINTS_FILE
    frame = _read_bundled(
        name, {"height": "block height", "block_hash": "display hex"}, numeric=["height"]
    )
    hashes = frame["block_hash"].astype(str)
    _check(frame, "block_hash", name, hashes.str.fullmatch("[0-9a-f]{64}"), "64 hex digits")
    return {int(h): str(b) for h, b in zip(frame["height"], frame["block_hash"], strict=True)}


def load_difficulty_epochs() -> pd.DataFrame:
    """Load the difficulty of every retarget epoch since the genesis block.

    Returns
    -------
    pandas.DataFrame
        Columns ``height`` (int64, first block of the epoch, a multiple of 2016)
        and ``difficulty`` (float64, dimensionless), one row per epoch, indexed by
        the UTC header time of the epoch's first block (index ``"timestamp"``).

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    return _epochs().copy()


def epoch_on(when: datetime | pd.Timestamp) -> Epoch:
    """Return the difficulty epoch in force at a given time.

    The epoch in force is the last one whose first block has a header time at or
    before ``when``. The final epoch in the file is taken to last its nominal
    2016 x 10 min; later times are outside the data.

    Parameters
    ----------
    when
        A timezone-aware time; it is converted to UTC.

    Returns
    -------
    Epoch
        ``(height, difficulty, start)`` of the epoch.

    Raises
    ------
    DataError
        If ``when`` is naive (no timezone), not a time, before the genesis block or
        after the end of the data.
    """
    stamp = _utc_timestamp(when, "when")
    epochs = _epochs()
    index = pd.DatetimeIndex(epochs.index)
    first = pd.Timestamp(index[0])
    end = pd.Timestamp(index[-1]) + _NOMINAL_EPOCH
    if stamp < first or stamp >= end:
        raise DataError(
            "when",
            when,
            f"a time from {first.isoformat()} to before {end.isoformat()} "
            f"(span of {DIFFICULTY_EPOCHS_FILE})",
        )
    position = int(index.searchsorted(stamp, side="right")) - 1
    return Epoch(
        height=int(epochs["height"].iloc[position]),
        difficulty=float(epochs["difficulty"].iloc[position]),
        start=pd.Timestamp(index[position]),
    )


def difficulty_on(when: datetime | pd.Timestamp) -> float:
    """Return the difficulty in force at a given time.

    Parameters
    ----------
    when
        A timezone-aware time; it is converted to UTC.

    Returns
    -------
    float
        Difficulty of the epoch in force (see :func:`epoch_on`), dimensionless.

    Raises
    ------
    DataError
        If ``when`` is naive, not a time, or outside the data.
    """
    return epoch_on(when).difficulty


def _utc_timestamp(when: object, field: str) -> pd.Timestamp:
    if not isinstance(when, datetime) or pd.isna(when):
        raise DataError(field, when, "a timezone-aware datetime or pandas Timestamp")
    if when.tzinfo is None or when.utcoffset() is None:
        raise DataError(
            field,
            when,
            "a timezone-aware datetime (for example with tzinfo=timezone.utc); "
            "naive times are ambiguous",
        )
    return pd.Timestamp(when).tz_convert("UTC")


# --------------------------------------------------------------------------- daily series


@functools.cache
def _network_daily() -> pd.DataFrame:
    name = NETWORK_DAILY_FILE
    numeric = [column for column in _NETWORK_COLUMNS if column != "date"]
    frame = _read_bundled(name, _NETWORK_COLUMNS, numeric=numeric)
    frame = frame.astype(dict.fromkeys(numeric, "float64"))
    _check_positive(frame, numeric, name, allow_missing=True)
    return _daily(frame, "date", name)


def load_network_daily() -> pd.DataFrame:
    """Load the daily network series (hashrate, subsidy, block interval, price, CBECI).

    Returns
    -------
    pandas.DataFrame
        Float64 columns ``hashrate_ehs`` (EH/s), ``subsidy_btc_per_day`` (BTC/day,
        subsidy only), ``subsidy_usd_per_day`` (USD/day), ``median_block_interval_min``
        (min), ``price_usd_per_btc`` (USD/BTC, CoinMarketCap daily average) and
        ``cbeci_efficiency_lower_j_per_th``, ``cbeci_efficiency_estimate_j_per_th``,
        ``cbeci_efficiency_upper_j_per_th`` (J/TH), indexed daily at 00:00 UTC from
        2009-01-03 to 2025-03-10. Blank cells are NaN: USD columns before 2010-07-17,
        all but CBECI after 2025-03-08. 2009-01-04 ... 2009-01-08 have no row.

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    return _network_daily().copy()


@functools.cache
def _hashrate_7d() -> pd.DataFrame:
    name = HASHRATE_7D_FILE
    numeric = [column for column in _HASHRATE_7D_COLUMNS if column != "date"]
    frame = _read_bundled(name, _HASHRATE_7D_COLUMNS, numeric=numeric)
    frame = frame.astype(dict.fromkeys(numeric, "float64"))
    for column in numeric:
        _check(frame, column, name, ~(frame[column] < 0), "a number >= 0")
        frame[column] = frame[column].where(frame[column] > 0)
    return _daily(frame, "date", name)


def load_hashrate_7d() -> pd.DataFrame:
    """Load the 7-day average difficulty, hashrate and price (Blockchain.com).

    Returns
    -------
    pandas.DataFrame
        Float64 columns ``difficulty_7d_avg`` (dimensionless), ``hashrate_ths_7d_avg``
        (TH/s) and ``price_usd_per_btc_7d_avg`` (USD/BTC), indexed at 00:00 UTC of
        each sample day from 2009-01-03 to 2026-01-02. Difficulty and hashrate are
        sampled on different days, so most rows hold only one of them (the other is
        NaN). Zeros in the file mean "no data" and are returned as NaN.

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    return _hashrate_7d().copy()


@functools.cache
def _price_daily() -> pd.Series:
    name = PRICE_DAILY_FILE
    frame = _read_bundled(name, _PRICE_COLUMNS, numeric=["price_usd_per_btc"])
    frame = frame.astype({"price_usd_per_btc": "float64"})
    _check_complete(frame, ["price_usd_per_btc"], name)
    _check_positive(frame, ["price_usd_per_btc"], name, allow_missing=False)
    daily = _daily(frame[["date", "price_usd_per_btc"]], "date", name)
    return daily["price_usd_per_btc"].rename("price_usd_per_btc")


def load_price_daily() -> pd.Series:
    """Load the daily bitcoin price (CoinGecko snapshot at 00:00 UTC).

    Returns
    -------
    pandas.Series
        Float64 series ``price_usd_per_btc`` (USD/BTC), indexed daily at 00:00 UTC
        from 2013-04-28 to 2026-01-02; 2013-06-04 and 2015-01-28 have no row.

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    return _price_daily().copy()


def price_on(day: date | datetime | pd.Timestamp) -> float:
    """Return the CoinGecko bitcoin price of one UTC day.

    Parameters
    ----------
    day
        A calendar day (:class:`datetime.date`, read as a UTC day), or a
        timezone-aware time, whose UTC day is used.

    Returns
    -------
    float
        Price at 00:00 UTC of that day, USD/BTC.

    Raises
    ------
    DataError
        If ``day`` is a naive time, before 2013-04-28, after 2026-01-02 or one of
        the days missing from the file.
    """
    if isinstance(day, datetime):
        stamp = _utc_timestamp(day, "day").normalize()
    elif isinstance(day, date):
        stamp = pd.Timestamp(day.year, day.month, day.day, tz="UTC")
    else:
        raise DataError("day", day, "a date or a timezone-aware datetime")
    prices = _price_daily()
    index = pd.DatetimeIndex(prices.index)
    first, last = pd.Timestamp(index[0]), pd.Timestamp(index[-1])
    if stamp < first or stamp > last:
        raise DataError(
            "day",
            str(stamp.date()),
            f"a day from {first.date()} to {last.date()} (span of {PRICE_DAILY_FILE})",
        )
    if stamp not in index:
        full = pd.date_range(first, last, freq="D")
        gaps = ", ".join(str(d.date()) for d in full.difference(index))
        raise DataError(
            "day", str(stamp.date()), f"a day with a price; {PRICE_DAILY_FILE} lacks {gaps}"
        )
    return float(prices.loc[stamp])


@functools.cache
def _fees_daily() -> pd.Series:
    name = FEES_DAILY_FILE
    frame = _read_bundled(name, _FEES_COLUMNS, numeric=["fees_btc_per_day"])
    frame = frame.astype({"fees_btc_per_day": "float64"})
    _check_complete(frame, ["fees_btc_per_day"], name)
    _check(frame, "fees_btc_per_day", name, frame["fees_btc_per_day"] >= 0, "a number >= 0")
    daily = _daily(frame[["date", "fees_btc_per_day"]], "date", name)
    return daily["fees_btc_per_day"].rename("fees_btc_per_day")


def load_fees_daily() -> pd.Series:
    """Load the transaction fees paid to miners per day (Blockchain.com).

    Returns
    -------
    pandas.Series
        Float64 series ``fees_btc_per_day`` (BTC/day), indexed daily at 00:00 UTC
        from 2024-02-06 to 2025-02-02 without gaps.

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    return _fees_daily().copy()


# --------------------------------------------------------------------------- ASICs


@dataclass(frozen=True)
class AsicSpec:
    """Nameplate specification of one ASIC miner model.

    Parameters
    ----------
    model
        Model name as sold (``"Antminer S21"``).
    manufacturer
        Maker (``"Bitmain"``).
    hashrate_ths
        Nameplate hashrate, TH/s.
    power_w
        Nameplate power at the wall, W.
    efficiency_j_per_th
        Nameplate efficiency, J/TH.
    cooling
        ``"air"``, ``"hydro"`` or ``"immersion"``.
    """

    model: str
    manufacturer: str
    hashrate_ths: float
    power_w: float
    efficiency_j_per_th: float
    cooling: str


@functools.cache
def _asic_catalogue() -> pd.DataFrame:
    name = ASIC_CATALOGUE_FILE
    frame = _read_bundled(name, _ASIC_COLUMNS, numeric=_ASIC_NUMERIC, text=_ASIC_TEXT)
    frame = frame.astype(dict.fromkeys(_ASIC_NUMERIC, "float64"))
    _check_complete(frame, ["manufacturer", "model", "cooling", "source", *_ASIC_NUMERIC], name)
    _check_positive(frame, _ASIC_NUMERIC, name, allow_missing=False)
    cooling_ok = frame["cooling"].isin(["air", "hydro", "immersion"])
    _check(frame, "cooling", name, cooling_ok, "one of: air, hydro, immersion")
    keys = frame["model"].map(_model_key)
    _check(frame, "model", name, ~keys.duplicated(), "each model at most once")
    return frame[list(_ASIC_COLUMNS)]


def load_asic_catalogue() -> pd.DataFrame:
    """Load the ASIC miner catalogue.

    Returns
    -------
    pandas.DataFrame
        One row per model, columns ``manufacturer``, ``model``, ``release_date``
        (string ``YYYY`` or ``YYYY-MM``, missing when unknown), ``hashrate_ths``
        (TH/s), ``power_w`` (W), ``efficiency_j_per_th`` (J/TH), ``cooling``,
        ``source`` and ``note`` (missing when blank).

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    return _asic_catalogue().copy()


def asic_spec(model: str) -> AsicSpec:
    """Return the nameplate specification of an ASIC model in the catalogue.

    Parameters
    ----------
    model
        Model name; matched exactly but ignoring case and repeated spaces
        (``"antminer s21"`` finds ``"Antminer S21"``, not ``"Antminer S21 Pro"``).

    Returns
    -------
    AsicSpec
        The model's specification.

    Raises
    ------
    DataError
        If the catalogue has no such model; the message lists the known models.
    """
    catalogue = _asic_catalogue()
    models = catalogue["model"]
    matches = models.map(_model_key) == _model_key(model) if isinstance(model, str) else None
    if matches is None or not bool(matches.any()):
        raise DataError("asic.model", model, f"one of: {_listing(models.tolist())}")
    row = catalogue.loc[matches].iloc[0]
    return AsicSpec(
        model=str(row["model"]),
        manufacturer=str(row["manufacturer"]),
        hashrate_ths=float(row["hashrate_ths"]),
        power_w=float(row["power_w"]),
        efficiency_j_per_th=float(row["efficiency_j_per_th"]),
        cooling=str(row["cooling"]),
    )


def _model_key(model: str) -> str:
    return " ".join(model.split()).casefold()


def _listing(names: list[str]) -> str:
    if len(names) <= _MAX_LISTED:
        return ", ".join(names)
    shown = ", ".join(names[:_MAX_LISTED])
    return f"{shown}, ... ({len(names) - _MAX_LISTED} more)"


# --------------------------------------------------------------------------- facts


@functools.cache
def _facts(country: str) -> pd.DataFrame:
    name = _FACT_FILES[country]
    frame = _read_bundled(name, _FACT_COLUMNS, text=list(_FACT_COLUMNS))
    _check_complete(frame, ["fact", "value", "unit", "source"], name)
    return frame[list(_FACT_COLUMNS)]


def load_facts(country: Country) -> pd.DataFrame:
    """Load the facts file of one country.

    Parameters
    ----------
    country
        ``"pakistan"`` (power sector) or ``"el_salvador"`` (geothermal, reserve).

    Returns
    -------
    pandas.DataFrame
        String columns ``fact``, ``value`` (a number, a ``low-high`` range or text),
        ``unit``, ``as_of``, ``source`` and ``note``, one row per fact and date;
        a fact may repeat with different ``as_of``.

    Raises
    ------
    DataError
        If ``country`` is not one of the above.
    """
    return _facts(_country_key(country)).copy()


def fact_value(country: Country, fact: str, *, as_of: str | None = None) -> float:
    """Return a numeric fact.

    Parameters
    ----------
    country
        ``"pakistan"`` or ``"el_salvador"``.
    fact
        Identifier in the ``fact`` column (``"base_tariff_national_average_fy26"``).
    as_of
        The ``as_of`` text of the row wanted, for facts recorded more than once;
        by default the most recent row is used when all its dates are ISO dates.

    Returns
    -------
    float
        The value, in the unit of the row's ``unit`` column.

    Raises
    ------
    DataError
        If the fact is unknown, ambiguous, a range (use :func:`fact_range`) or text.
    """
    key = _country_key(country)
    value, unit = _fact_row(key, fact, as_of)
    if _SINGLE_RE.fullmatch(value):
        return float(value)
    expected = "a single number"
    if _RANGE_RE.fullmatch(value):
        expected += "; this fact is a range, use fact_range()"
    else:
        expected += f"; this fact is text (unit {unit!r})"
    raise DataError(f"{key}.{fact}", value, expected)


def fact_range(country: Country, fact: str, *, as_of: str | None = None) -> tuple[float, float]:
    """Return a fact given as a range ``low-high``, or a single number as ``(x, x)``.

    Parameters
    ----------
    country
        ``"pakistan"`` or ``"el_salvador"``.
    fact
        Identifier in the ``fact`` column (``"proposed_miner_tariff"``).
    as_of
        The ``as_of`` text of the row wanted, as in :func:`fact_value`.

    Returns
    -------
    tuple[float, float]
        ``(low, high)`` with ``low <= high``, in the unit of the row's ``unit``.

    Raises
    ------
    DataError
        If the fact is unknown, ambiguous, text, or a range with ``low > high``.
    """
    key = _country_key(country)
    value, unit = _fact_row(key, fact, as_of)
    if _SINGLE_RE.fullmatch(value):
        number = float(value)
        return number, number
    match = _RANGE_RE.fullmatch(value)
    if match is None:
        raise DataError(f"{key}.{fact}", value, f"a number or a range 'low-high' (unit {unit!r})")
    low, high = float(match.group(1)), float(match.group(2))
    if low > high:
        raise DataError(f"{key}.{fact}", value, "a range 'low-high' with low <= high")
    return low, high


def _country_key(country: object) -> str:
    if not isinstance(country, str) or country not in _FACT_FILES:
        raise DataError("country", country, f"one of: {', '.join(_FACT_FILES)}")
    return country


def _fact_row(country: str, fact: str, as_of: str | None) -> tuple[str, str]:
    facts = _facts(country)
    rows = facts.loc[facts["fact"] == fact]
    if rows.empty:
        known = sorted(set(facts["fact"].tolist()))
        raise DataError(f"{country}.fact", fact, f"one of: {_listing(known)}")
    if as_of is not None:
        dated = rows.loc[rows["as_of"] == as_of]
        if dated.empty:
            choices = ", ".join(repr(str(a)) for a in rows["as_of"].tolist())
            raise DataError(f"{country}.{fact}.as_of", as_of, f"one of: {choices}")
        rows = dated
    if len(rows) > 1:
        dates = pd.to_datetime(rows["as_of"], format="ISO8601", errors="coerce")
        if bool(dates.isna().any()):
            choices = ", ".join(repr(str(a)) for a in rows["as_of"].tolist())
            raise DataError(f"{country}.{fact}", f"{len(rows)} rows", f"as_of= one of: {choices}")
        rows = rows.iloc[[int(dates.to_numpy().argmax())]]
    row = rows.iloc[0]
    return str(row["value"]).strip(), str(row["unit"])


# --------------------------------------------------------------------------- emissions


@functools.cache
def _emission_factors() -> pd.DataFrame:
    name = EMISSION_FACTORS_FILE
    text = [column for column in _EMISSION_COLUMNS if column != "value"]
    frame = _read_bundled(name, _EMISSION_COLUMNS, numeric=["value"], text=text)
    frame = frame.astype({"value": "float64"})
    _check_complete(frame, ["item", "value", "unit", "source"], name)
    _check(frame, "item", name, ~frame["item"].duplicated(), "each item at most once")
    return frame[list(_EMISSION_COLUMNS)]


def load_emission_factors() -> pd.DataFrame:
    """Load the emission factors.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` (identifier), ``value`` (float64), ``unit``, ``as_of``
        (missing for undated defaults), ``source`` and ``note``.

    Raises
    ------
    DataError
        If the bundled file is damaged.
    """
    return _emission_factors().copy()


def emission_factor(item: str) -> tuple[float, str]:
    """Return one emission factor and its unit.

    Parameters
    ----------
    item
        Identifier in the ``item`` column (``"pakistan_grid_carbon_intensity"``).

    Returns
    -------
    tuple[float, str]
        ``(value, unit)``, e.g. ``(309.55, "gCO2eq/kWh")``.

    Raises
    ------
    DataError
        If the item is unknown; the message lists the known items.
    """
    factors = _emission_factors()
    rows = factors.loc[factors["item"] == item]
    if rows.empty:
        known = factors["item"].tolist()
        raise DataError("emission_factor.item", item, f"one of: {_listing(known)}")
    row = rows.iloc[0]
    return float(row["value"]), str(row["unit"])
