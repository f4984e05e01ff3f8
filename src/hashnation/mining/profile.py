"""Hourly grid profiles supplied as CSV, for grids with real (or other) hourly data.

A scenario with ``[site] grid = "csv"`` and ``profile_csv = "file.csv"`` uses
the file instead of the synthetic Pakistan profile. One row per hour, either
one year (8,760 rows, repeated for every programme year) or the whole horizon.

Columns (units in the names):

``surplus_mw`` (required)
    Power the grid can give the site this hour [MW] (capped at the site's size).
``marginal_cost_usd_per_mwh`` (required)
    Cost of the energy the site draws [USD/MWh] (used by ``marginal_cost`` tariffs).
``emission_tco2_per_mwh`` (required)
    Emission factor of that energy [tCO2/MWh].
``coal_share_pu`` (optional, default 0)
    Share of that energy from coal [pu].
``demand_mw`` (optional, default 0)
    Grid demand, for the report [MW].
``marginal_fuel`` (optional, default ``"grid"``)
    Name of the marginal fuel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hashnation.data.loaders import read_csv_checked
from hashnation.errors import DataError

HOURS_PER_YEAR = 8760
REQUIRED: dict[str, str] = {
    "surplus_mw": "MW the grid can give the site each hour",
    "marginal_cost_usd_per_mwh": "USD/MWh of the energy drawn",
    "emission_tco2_per_mwh": "tCO2/MWh of the energy drawn",
}
OPTIONAL_NUMERIC: tuple[str, ...] = ("coal_share_pu", "demand_mw")


def load_grid_profile(path: str | Path, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Read an hourly profile and lay it on the scenario's hours.

    Parameters
    ----------
    path
        CSV file (see the module docstring for its columns).
    index
        The scenario's hourly index.

    Returns
    -------
    pandas.DataFrame
        Columns ``demand_mw``, ``available_mw``, ``reserve_mw``, ``surplus_mw``,
        ``marginal_fuel``, ``marginal_cost_usd_per_mwh``,
        ``emission_tco2_per_mwh``, ``coal_share_pu`` on ``index``.

    Raises
    ------
    DataError
        Missing file or column, wrong row count, or a value out of range; the
        message names the file, the column (or row) and the expectation.
    """
    name = Path(path).name
    present = set(pd.read_csv(path, nrows=0).columns) if Path(path).is_file() else set()
    numeric = [*REQUIRED, *(c for c in OPTIONAL_NUMERIC if c in present)]
    frame = read_csv_checked(path, REQUIRED, name, numeric=numeric)
    rows = len(frame)
    if rows == HOURS_PER_YEAR and len(index) % HOURS_PER_YEAR == 0:
        reps = len(index) // HOURS_PER_YEAR
        frame = pd.concat([frame] * reps, ignore_index=True)
    elif rows < len(index):
        raise DataError(
            f"{name}.rows", rows, f"{HOURS_PER_YEAR} rows (one year) or {len(index)} (the horizon)"
        )
    frame = frame.iloc[: len(index)].reset_index(drop=True)
    checks = {
        "surplus_mw": (0.0, np.inf),
        "marginal_cost_usd_per_mwh": (0.0, 10_000.0),
        "emission_tco2_per_mwh": (0.0, 5.0),
        "coal_share_pu": (0.0, 1.0),
        "demand_mw": (0.0, np.inf),
    }
    for column, (lo, hi) in checks.items():
        if column not in frame:
            continue
        values = frame[column].to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values) | (values < lo) | (values > hi)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"{name}.{column}",
                float(values[row]),
                f"a number in [{lo:g}, {hi:g}] (row {row + 2})",
            )
    n = len(index)
    surplus = frame["surplus_mw"].to_numpy(dtype=np.float64)
    demand = frame["demand_mw"].to_numpy(np.float64) if "demand_mw" in frame else np.zeros(n)
    coal = frame["coal_share_pu"].to_numpy(np.float64) if "coal_share_pu" in frame else np.zeros(n)
    fuel = (
        frame["marginal_fuel"].astype(str).to_numpy()
        if "marginal_fuel" in frame
        else np.full(n, "grid")
    )
    return pd.DataFrame(
        {
            "demand_mw": demand,
            "available_mw": demand + surplus,
            "reserve_mw": np.zeros(n),
            "surplus_mw": surplus,
            "marginal_fuel": fuel,
            "marginal_cost_usd_per_mwh": frame["marginal_cost_usd_per_mwh"].to_numpy(float),
            "emission_tco2_per_mwh": frame["emission_tco2_per_mwh"].to_numpy(float),
            "coal_share_pu": coal,
        },
        index=index,
    )
