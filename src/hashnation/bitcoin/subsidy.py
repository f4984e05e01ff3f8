"""Block subsidy schedule: halvings every 210 000 blocks, in integer satoshis.

The rule is Bitcoin Core's ``GetBlockSubsidy`` (``src/validation.cpp``)::

    halvings = height / nSubsidyHalvingInterval
    if (halvings >= 64) return 0;
    return (50 * COIN) >> halvings;

The right shift truncates, so the total ever issued is a little under 21
million BTC; :func:`total_supply_sat` adds it up era by era.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from hashnation.bitcoin.units import SAT_PER_BTC
from hashnation.errors import ConsensusError, InputError

__all__ = [
    "HALVING_INTERVAL_BLOCKS",
    "INITIAL_SUBSIDY_SAT",
    "MAX_HALVINGS",
    "block_subsidy_sat",
    "block_subsidy_sat_array",
    "halving_height",
    "halving_heights",
    "next_halving_height",
    "projected_halving_dates",
    "total_supply_sat",
]

HALVING_INTERVAL_BLOCKS: int = 210_000
"""Blocks between halvings [blocks] (``consensus.nSubsidyHalvingInterval``)."""

INITIAL_SUBSIDY_SAT: int = 50 * SAT_PER_BTC
"""Subsidy of the blocks before the first halving [sat] (50 BTC)."""

MAX_HALVINGS: int = 64
"""From this many halvings on the subsidy is 0 (Core guards the 64-bit shift)."""

_EXPECTED_HEIGHT = "an int block height >= 0"


def _check_height(field: str, height: object) -> int:
    if isinstance(height, bool) or not isinstance(height, int | np.integer) or height < 0:
        raise ConsensusError(field, height, _EXPECTED_HEIGHT)
    return int(height)


def _check_count(field: str, count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
        raise InputError(field, count, "an int >= 0")
    return int(count)


def block_subsidy_sat(height: int) -> int:
    """Newly issued coins allowed in the block at ``height``.

    Parameters
    ----------
    height
        Block height [blocks] >= 0.

    Returns
    -------
    int
        Subsidy [sat]: ``INITIAL_SUBSIDY_SAT >> (height // HALVING_INTERVAL_BLOCKS)``,
        and 0 from 64 halvings on.

    Raises
    ------
    ConsensusError
        If ``height`` is not an int >= 0.

    Examples
    --------
    >>> block_subsidy_sat(840_000)  # fourth halving, 3.125 BTC
    312500000
    """
    halvings = _check_height("height", height) // HALVING_INTERVAL_BLOCKS
    if halvings >= MAX_HALVINGS:
        return 0
    return INITIAL_SUBSIDY_SAT >> halvings


def block_subsidy_sat_array(heights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Vectorised :func:`block_subsidy_sat` over an array of heights.

    Parameters
    ----------
    heights
        Block heights [blocks] >= 0, an integer array (any shape) or
        anything :func:`numpy.asarray` turns into one.

    Returns
    -------
    numpy.ndarray of int64
        Subsidy per height [sat], same shape as ``heights``.

    Raises
    ------
    ConsensusError
        If the heights are not integers or any is negative.
    """
    array = np.asarray(heights)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ConsensusError("heights", f"array of dtype {array.dtype}", "an integer array")
    array = array.astype(np.int64, copy=False)
    if array.size and int(array.min()) < 0:
        raise ConsensusError("heights", int(array.min()), "block heights >= 0")
    halvings = array // HALVING_INTERVAL_BLOCKS
    shifted = np.right_shift(np.int64(INITIAL_SUBSIDY_SAT), np.minimum(halvings, MAX_HALVINGS - 1))
    result: npt.NDArray[np.int64] = np.where(halvings >= MAX_HALVINGS, np.int64(0), shifted)
    return result.astype(np.int64, copy=False)


def halving_height(epoch: int) -> int:
    """First height of subsidy epoch ``epoch``, i.e. of the ``epoch``-th halving.

    Parameters
    ----------
    epoch
        Number of halvings so far, >= 0 (epoch 0 starts at the genesis block,
        epoch 1 at the first halving).

    Returns
    -------
    int
        Height [blocks] ``epoch * HALVING_INTERVAL_BLOCKS``.

    Raises
    ------
    InputError
        If ``epoch`` is not an int >= 0.
    """
    return _check_count("epoch", epoch) * HALVING_INTERVAL_BLOCKS


def halving_heights(count: int) -> list[int]:
    """Heights of the first ``count`` halvings.

    Parameters
    ----------
    count
        How many halvings to list, >= 0.

    Returns
    -------
    list of int
        ``[210000, 420000, ...]`` [blocks], ``count`` items.

    Raises
    ------
    InputError
        If ``count`` is not an int >= 0.
    """
    return [halving_height(epoch) for epoch in range(1, _check_count("count", count) + 1)]


def next_halving_height(height: int) -> int:
    """Height of the first halving after ``height``.

    Parameters
    ----------
    height
        Block height [blocks] >= 0.

    Returns
    -------
    int
        Smallest multiple of ``HALVING_INTERVAL_BLOCKS`` above ``height`` [blocks]
        (at a halving height itself, the following one).

    Raises
    ------
    ConsensusError
        If ``height`` is not an int >= 0.
    """
    epoch = _check_height("height", height) // HALVING_INTERVAL_BLOCKS
    return halving_height(epoch + 1)


def total_supply_sat() -> int:
    """Sum of every block subsidy that will ever be issued.

    Computed era by era: ``sum(HALVING_INTERVAL_BLOCKS * (INITIAL_SUBSIDY_SAT >> era))``
    for the 64 eras before the subsidy is forced to 0 (from era 33 on the
    shift already gives 0). Fees and lost or unclaimed coins are not counted.

    Returns
    -------
    int
        Total subsidy [sat], 2 099 999 997 690 000 sat (20 999 999.9769 BTC),
        below ``MAX_MONEY_SAT``.
    """
    return sum(
        HALVING_INTERVAL_BLOCKS * block_subsidy_sat(halving_height(era))
        for era in range(MAX_HALVINGS)
    )


def projected_halving_dates(
    height: int,
    at: datetime,
    block_interval_s: float = 600.0,
    count: int = 3,
) -> list[tuple[int, datetime]]:
    """Project when the next halvings happen, assuming a constant block interval.

    Parameters
    ----------
    height
        Current tip height [blocks] >= 0.
    at
        Time of the tip block, timezone-aware with a zero UTC offset.
    block_interval_s
        Assumed mean time between blocks [s] > 0 (600 s is the design value).
    count
        How many upcoming halvings to project, >= 0.

    Returns
    -------
    list of (int, datetime)
        ``(halving height [blocks], projected UTC time)`` for each of the next
        ``count`` halvings, where time is
        ``at + (halving height - height) * block_interval_s``.

    Raises
    ------
    ConsensusError
        If ``height`` is not an int >= 0.
    InputError
        If ``at`` is naive or not UTC, ``block_interval_s`` is not a finite
        number > 0, ``count`` is not an int >= 0, or a date would fall beyond
        year 9999.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> projected_halving_dates(839_999, datetime(2024, 4, 20, tzinfo=UTC), count=1)
    [(840000, datetime.datetime(2024, 4, 20, 0, 10, tzinfo=datetime.timezone.utc))]
    """
    tip = _check_height("height", height)
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise InputError("at", at, "a timezone-aware datetime in UTC")
    if (
        isinstance(block_interval_s, bool)
        or not isinstance(block_interval_s, int | float)
        or not math.isfinite(block_interval_s)
        or block_interval_s <= 0
    ):
        raise InputError("block_interval_s", block_interval_s, "a finite number > 0 [s]")
    n = _check_count("count", count)
    start = at.astimezone(UTC)
    first = next_halving_height(tip)
    projections: list[tuple[int, datetime]] = []
    for index in range(n):
        target_height = first + index * HALVING_INTERVAL_BLOCKS
        try:
            when = start + timedelta(seconds=(target_height - tip) * float(block_interval_s))
        except OverflowError:
            raise InputError(
                "count", count, "few enough halvings that the dates stay before year 10000"
            ) from None
        projections.append((target_height, when))
    return projections
