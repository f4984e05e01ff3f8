"""Hashprice: expected mining revenue per unit of hashrate per day.

Hashprice is what one TH/s of hashing power earns in a day, on average, at a
given difficulty and block reward::

    hashprice [BTC/(TH/s)/day] = reward [BTC/block] * 86 400 [s/day] * 1e12 [H/s per TH/s]
                                 / (difficulty * 2**32 [H/block])

A machine doing 1 TH/s computes ``1e12 * 86 400`` hashes a day; one block
takes ``difficulty * 2**32`` hashes on average; each block pays the subsidy
plus fees. Pool fees, luck and stale shares are not modelled here.

Worked example (difficulty 1e14, 3.125 BTC subsidy, no fees, 100 000 USD/BTC):

* hashes per TH/s per day: ``1e12 * 86 400 = 8.64e16``;
* hashes per block: ``1e14 * 4 294 967 296 = 4.294967296e23``;
* blocks per TH/s per day: ``8.64e16 / 4.294967296e23 = 2.0117e-7``;
* hashprice: ``2.0117e-7 * 3.125 = 6.2864e-7`` BTC/(TH/s)/day, times
  100 000 USD/BTC = 0.0629 USD/(TH/s)/day.

Both functions take numbers, NumPy arrays or pandas Series and broadcast them
with NumPy ufuncs; the result has the kind of the inputs (a Series if any
input is one, keeping its index).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast, overload

import numpy as np

from hashnation.bitcoin._numeric import FloatArray, check_range, restore_kind
from hashnation.bitcoin.difficulty import HASHES_PER_DIFFICULTY_1
from hashnation.errors import ConsensusError

if TYPE_CHECKING:
    from hashnation.bitcoin._numeric import FloatSeries, Numeric

__all__ = [
    "HASHES_PER_TH",
    "SECONDS_PER_DAY",
    "hashprice_btc_per_th_day",
    "hashprice_usd_per_th_day",
]

SECONDS_PER_DAY: int = 86_400
"""Seconds in a day [s/day]."""

HASHES_PER_TH: float = 1e12
"""Hashes per second in one TH/s [(H/s)/(TH/s)]."""


@overload
def hashprice_btc_per_th_day(
    difficulty: float, subsidy_btc_per_block: float, fees_btc_per_block: float = ...
) -> float: ...
@overload
def hashprice_btc_per_th_day(
    difficulty: FloatSeries,
    subsidy_btc_per_block: float | FloatArray | FloatSeries,
    fees_btc_per_block: float | FloatArray | FloatSeries = ...,
) -> FloatSeries: ...
@overload
def hashprice_btc_per_th_day(
    difficulty: FloatArray,
    subsidy_btc_per_block: float | FloatArray,
    fees_btc_per_block: float | FloatArray = ...,
) -> FloatArray: ...
@overload
def hashprice_btc_per_th_day(
    difficulty: Numeric, subsidy_btc_per_block: Numeric, fees_btc_per_block: Numeric = ...
) -> Numeric: ...
def hashprice_btc_per_th_day(
    difficulty: Numeric, subsidy_btc_per_block: Numeric, fees_btc_per_block: Numeric = 0.0
) -> Numeric:
    """Hashprice in bitcoin: expected BTC earned per TH/s per day.

    ``(subsidy + fees) * 86400 * 1e12 / (difficulty * 2**32)``.

    Parameters
    ----------
    difficulty
        Network difficulty [dimensionless] > 0.
    subsidy_btc_per_block
        Block subsidy [BTC/block] >= 0 (3.125 after the 2024 halving).
    fees_btc_per_block
        Mean transaction fees per block [BTC/block] >= 0.

    Returns
    -------
    float or ndarray or Series
        Hashprice [BTC/(TH/s)/day], of the kind of the inputs.

    Raises
    ------
    ConsensusError
        If a difficulty is not > 0 or is infinite.
    InputError
        If a subsidy or fee is negative or infinite.

    Notes
    -----
    Worked by hand for difficulty 1e14, subsidy 3.125 BTC and no fees:
    ``3.125 * 86400 * 1e12 / (1e14 * 4294967296) = 2.7e17 / 4.294967296e23
    = 6.2864e-7`` BTC/(TH/s)/day.

    Examples
    --------
    >>> f"{hashprice_btc_per_th_day(1e14, 3.125):.4e}"
    '6.2864e-07'
    """
    check_range("difficulty", difficulty, minimum=0.0, inclusive=False, error=ConsensusError)
    check_range("subsidy_btc_per_block", subsidy_btc_per_block, minimum=0.0, inclusive=True)
    check_range("fees_btc_per_block", fees_btc_per_block, minimum=0.0, inclusive=True)
    reward_btc = np.add(subsidy_btc_per_block, fees_btc_per_block)
    hashes_per_th_day = float(SECONDS_PER_DAY) * HASHES_PER_TH
    hashes_per_block = np.multiply(difficulty, float(HASHES_PER_DIFFICULTY_1))
    result = np.divide(np.multiply(reward_btc, hashes_per_th_day), hashes_per_block)
    return cast(
        "Numeric", restore_kind(result, difficulty, subsidy_btc_per_block, fees_btc_per_block)
    )


@overload
def hashprice_usd_per_th_day(
    difficulty: float,
    subsidy_btc_per_block: float,
    fees_btc_per_block: float,
    price_usd_per_btc: float,
) -> float: ...
@overload
def hashprice_usd_per_th_day(
    difficulty: FloatSeries,
    subsidy_btc_per_block: float | FloatArray | FloatSeries,
    fees_btc_per_block: float | FloatArray | FloatSeries,
    price_usd_per_btc: float | FloatArray | FloatSeries,
) -> FloatSeries: ...
@overload
def hashprice_usd_per_th_day(
    difficulty: FloatArray,
    subsidy_btc_per_block: float | FloatArray,
    fees_btc_per_block: float | FloatArray,
    price_usd_per_btc: float | FloatArray,
) -> FloatArray: ...
@overload
def hashprice_usd_per_th_day(
    difficulty: Numeric,
    subsidy_btc_per_block: Numeric,
    fees_btc_per_block: Numeric,
    price_usd_per_btc: Numeric,
) -> Numeric: ...
def hashprice_usd_per_th_day(
    difficulty: Numeric,
    subsidy_btc_per_block: Numeric,
    fees_btc_per_block: Numeric,
    price_usd_per_btc: Numeric,
) -> Numeric:
    """Hashprice in US dollars: expected USD earned per TH/s per day.

    :func:`hashprice_btc_per_th_day` times the bitcoin price.

    Parameters
    ----------
    difficulty
        Network difficulty [dimensionless] > 0.
    subsidy_btc_per_block
        Block subsidy [BTC/block] >= 0.
    fees_btc_per_block
        Mean transaction fees per block [BTC/block] >= 0.
    price_usd_per_btc
        Bitcoin price [USD/BTC] >= 0.

    Returns
    -------
    float or ndarray or Series
        Hashprice [USD/(TH/s)/day], of the kind of the inputs.

    Raises
    ------
    ConsensusError
        If a difficulty is not > 0 or is infinite.
    InputError
        If a subsidy, fee or price is negative or infinite.

    Examples
    --------
    Difficulty 1e14, 3.125 BTC subsidy, no fees, 100 000 USD/BTC:
    ``6.2864e-7 BTC * 100000 USD/BTC = 0.0629`` USD/(TH/s)/day.

    >>> round(hashprice_usd_per_th_day(1e14, 3.125, 0.0, 100_000.0), 4)
    0.0629
    """
    check_range("price_usd_per_btc", price_usd_per_btc, minimum=0.0, inclusive=True)
    hashprice_btc = hashprice_btc_per_th_day(difficulty, subsidy_btc_per_block, fees_btc_per_block)
    result = np.multiply(hashprice_btc, price_usd_per_btc)
    return cast(
        "Numeric",
        restore_kind(
            result, difficulty, subsidy_btc_per_block, fees_btc_per_block, price_usd_per_btc
        ),
    )
