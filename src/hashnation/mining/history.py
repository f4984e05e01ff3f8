"""Historical hashprice from the bundled network history.

For each UTC day: the difficulty in force (bundled retarget epochs), the block
height estimated from the epoch's first block at 600 s per block, the subsidy
computed from that height with the consensus rule, fees per block from the
bundled daily fees (over 144 blocks; zero where the fee file has no data,
flagged in ``fees_known``), and the CoinGecko daily price. Hashprice then
follows the definition::

    hashprice_btc_per_th_day = (subsidy + fees) * 86,400 * 1e12 / (difficulty * 2**32)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hashnation.bitcoin.difficulty import TARGET_SPACING_S
from hashnation.bitcoin.hashprice import hashprice_btc_per_th_day
from hashnation.bitcoin.subsidy import block_subsidy_sat_array
from hashnation.bitcoin.units import SAT_PER_BTC
from hashnation.data.loaders import load_difficulty_epochs, load_fees_daily, load_price_daily
from hashnation.errors import InputError

BLOCKS_PER_DAY = 144.0


def hashprice_history(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DataFrame:
    """Daily hashprice from bundled data between two UTC days, inclusive.

    Parameters
    ----------
    start, end
        First and last day (``"2024-07-01"`` or tz-aware timestamps).

    Returns
    -------
    pandas.DataFrame
        Daily, tz-aware UTC index; columns ``difficulty`` [-], ``height``
        [block], ``subsidy_btc_per_block`` [BTC], ``fees_btc_per_block`` [BTC],
        ``fees_known`` [bool], ``price_usd_per_btc`` [USD/BTC],
        ``hashprice_btc_per_th_day`` [BTC/(TH/s)/day],
        ``hashprice_usd_per_th_day`` [USD/(TH/s)/day].
    """
    t0 = pd.Timestamp(start)
    t1 = pd.Timestamp(end)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    t1 = t1.tz_localize("UTC") if t1.tzinfo is None else t1.tz_convert("UTC")
    if t1 < t0:
        raise InputError("end", str(t1.date()), f"a day on or after start {t0.date()}")
    days = pd.date_range(t0.floor("D"), t1.floor("D"), freq="D", name="timestamp")
    epochs = load_difficulty_epochs()
    epoch_times = pd.DatetimeIndex(epochs.index)
    if days[0] < epoch_times[0]:
        raise InputError("start", str(t0.date()), f"a day from {epoch_times[0].date()}")
    pos = np.asarray(epoch_times.searchsorted(days, side="right")) - 1
    difficulty = epochs["difficulty"].to_numpy()[pos]
    elapsed_s = (days - epoch_times[pos]).total_seconds().to_numpy()
    height = epochs["height"].to_numpy()[pos] + np.floor(elapsed_s / TARGET_SPACING_S)
    subsidy = block_subsidy_sat_array(height.astype(np.int64)).astype(np.float64) / SAT_PER_BTC
    fees_daily = load_fees_daily().reindex(days)
    fees_known = fees_daily.notna().to_numpy()
    fees = np.nan_to_num(fees_daily.to_numpy(dtype=np.float64)) / BLOCKS_PER_DAY
    price = load_price_daily().reindex(days).to_numpy(dtype=np.float64)
    hp_btc = np.asarray(hashprice_btc_per_th_day(difficulty, subsidy, fees), dtype=np.float64)
    return pd.DataFrame(
        {
            "difficulty": difficulty,
            "height": height.astype(np.int64),
            "subsidy_btc_per_block": subsidy,
            "fees_btc_per_block": fees,
            "fees_known": fees_known,
            "price_usd_per_btc": price,
            "hashprice_btc_per_th_day": hp_btc,
            "hashprice_usd_per_th_day": hp_btc * price,
        },
        index=days,
    )
