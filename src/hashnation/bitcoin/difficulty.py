"""Proof-of-work targets, compact ``nBits``, difficulty and retargeting (mainnet).

A block is valid proof of work when its hash, read as a 256-bit big-endian
number (display order), is at most the *target*. Headers store the target in
a 32-bit floating-point-like *compact* form, ``nBits``: the top byte is a
size in bytes, the low 23 bits a mantissa and bit 23 a sign flag. The
functions here follow Bitcoin Core's ``arith_uint256::SetCompact`` /
``GetCompact`` (``src/arith_uint256.cpp``) and ``CalculateNextWorkRequired``
(``src/pow.cpp``) bit for bit, with mainnet parameters from
``src/kernel/chainparams.cpp``.

*Difficulty* is how many times harder than the easiest mainnet target
(``0x1d00ffff``) the current target is, and one block takes on average
``difficulty * 2**32`` hashes.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, cast, overload

import numpy as np

from hashnation.bitcoin._numeric import FloatArray, check_range, restore_kind
from hashnation.errors import ConsensusError

if TYPE_CHECKING:
    from hashnation.bitcoin._numeric import FloatSeries, Numeric

__all__ = [
    "DIFF1_TARGET",
    "HASHES_PER_DIFFICULTY_1",
    "POW_LIMIT",
    "POW_LIMIT_BITS",
    "RETARGET_INTERVAL_BLOCKS",
    "TARGET_SPACING_S",
    "TARGET_TIMESPAN_S",
    "bits_to_difficulty",
    "compact_to_target",
    "decode_compact",
    "difficulty_to_target",
    "expected_hashes_per_block",
    "network_hashrate_hs",
    "next_retarget_height",
    "next_work_required",
    "target_to_compact",
    "target_to_difficulty",
    "work_from_target",
]

TARGET_TIMESPAN_S: int = 14 * 24 * 60 * 60
"""Intended length of one retarget period [s] (``nPowTargetTimespan``, two weeks)."""

TARGET_SPACING_S: int = 10 * 60
"""Intended time between blocks [s] (``nPowTargetSpacing``)."""

RETARGET_INTERVAL_BLOCKS: int = TARGET_TIMESPAN_S // TARGET_SPACING_S
"""Blocks per retarget period [blocks] (``DifficultyAdjustmentInterval()``, 2016)."""

POW_LIMIT: int = int("00000000" + "ff" * 28, 16)
"""Easiest allowed mainnet target (``consensus.powLimit``), 2**224 - 1."""

POW_LIMIT_BITS: int = 0x1D00FFFF
"""Compact form of the easiest target actually used, that of the genesis block."""

DIFF1_TARGET: int = 0xFFFF << 208
"""Target of difficulty 1, i.e. ``compact_to_target(0x1d00ffff)``."""

HASHES_PER_DIFFICULTY_1: int = 2**32
"""Expected hashes per block at difficulty 1 [H] (about 2**256 / DIFF1_TARGET)."""

_UINT32_MAX = 0xFFFF_FFFF
_UINT256_LIMIT = 1 << 256
_SIGN_BIT = 0x0080_0000
_MANTISSA_MASK = 0x007F_FFFF


def _check_uint32(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT32_MAX:
        raise ConsensusError(field, value, "an int from 0 to 0xffffffff (uint32)")
    return value


def _check_target(field: str, target: object, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if (
        isinstance(target, bool)
        or not isinstance(target, int)
        or not low <= target < _UINT256_LIMIT
    ):
        raise ConsensusError(field, target, f"an int target from {low} to 2**256 - 1")
    return target


def decode_compact(bits: int) -> tuple[int, bool, bool]:
    """Decode compact ``nBits`` exactly as Bitcoin Core's ``SetCompact``.

    Parameters
    ----------
    bits
        Compact target, a uint32 (``0x1d00ffff``).

    Returns
    -------
    tuple of (int, bool, bool)
        ``(target, negative, overflow)``. ``target`` is the magnitude
        ``mantissa * 256**(size - 3)`` with the 23-bit mantissa (the sign bit
        dropped); ``negative`` is set when the sign bit is set and the mantissa
        is non-zero; ``overflow`` when the value would not fit in 256 bits (the
        target is then not reduced modulo 2**256 and should not be used).

    Raises
    ------
    ConsensusError
        If ``bits`` is not an int in the uint32 range.
    """
    _check_uint32("bits", bits)
    size = bits >> 24
    word = bits & _MANTISSA_MASK
    target = word >> (8 * (3 - size)) if size <= 3 else word << (8 * (size - 3))
    negative = word != 0 and (bits & _SIGN_BIT) != 0
    overflow = word != 0 and (
        size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    return target, negative, overflow


def compact_to_target(bits: int) -> int:
    """Expand compact ``nBits`` into the 256-bit target.

    Parameters
    ----------
    bits
        Compact target, a uint32.

    Returns
    -------
    int
        The target, ``0 <= target < 2**256``. A zero mantissa gives 0, as in
        Bitcoin Core (such a target can never be met).

    Raises
    ------
    ConsensusError
        If ``bits`` is out of the uint32 range, has the sign bit set with a
        non-zero mantissa (Core's ``fNegative``) or encodes a number of more
        than 256 bits (``fOverflow``). Core rejects such headers.

    Examples
    --------
    >>> hex(compact_to_target(0x1d00ffff))
    '0xffff0000000000000000000000000000000000000000000000000000'
    """
    target, negative, overflow = decode_compact(bits)
    if negative:
        raise ConsensusError(
            "bits", f"0x{bits:08x}", "a compact target without the sign bit 0x00800000"
        )
    if overflow:
        raise ConsensusError("bits", f"0x{bits:08x}", "a compact target that fits in 256 bits")
    return target


def target_to_compact(target: int) -> int:
    """Encode a target as compact ``nBits`` exactly as Bitcoin Core's ``GetCompact``.

    Precision beyond the 3-byte mantissa is truncated, so
    ``compact_to_target(target_to_compact(t)) <= t``, with equality when ``t``
    came from ``compact_to_target``.

    Parameters
    ----------
    target
        Target, an int ``0 <= target < 2**256``.

    Returns
    -------
    int
        Compact form (uint32) with a positive sign: when the mantissa's top
        bit would be set the mantissa is shifted one byte right and the size
        raised, as in Core.

    Raises
    ------
    ConsensusError
        If ``target`` is not an int in ``0 .. 2**256 - 1``.

    Examples
    --------
    >>> hex(target_to_compact(0xFFFF << 208))
    '0x1d00ffff'
    """
    _check_target("target", target, allow_zero=True)
    size = (target.bit_length() + 7) // 8
    compact = target << (8 * (3 - size)) if size <= 3 else target >> (8 * (size - 3))
    if compact & _SIGN_BIT:
        compact >>= 8
        size += 1
    return compact | (size << 24)


def target_to_difficulty(target: int) -> float:
    """Difficulty of a target: ``DIFF1_TARGET / target``.

    Parameters
    ----------
    target
        Target, an int ``1 <= target < 2**256``.

    Returns
    -------
    float
        Difficulty [dimensionless], the correctly rounded quotient. It is 1.0 for
        the ``0x1d00ffff`` target, and below 1 for easier targets.

    Raises
    ------
    ConsensusError
        If ``target`` is not a positive int below 2**256.
    """
    _check_target("target", target)
    return DIFF1_TARGET / target


def bits_to_difficulty(bits: int) -> float:
    """Difficulty of compact ``nBits`` (``target_to_difficulty(compact_to_target(bits))``).

    Parameters
    ----------
    bits
        Compact target, a uint32.

    Returns
    -------
    float
        Difficulty [dimensionless]; ``bits_to_difficulty(0x1d00ffff) == 1.0``.

    Raises
    ------
    ConsensusError
        If ``bits`` is malformed (see :func:`compact_to_target`) or decodes to 0.
    """
    target = compact_to_target(bits)
    if target == 0:
        raise ConsensusError("bits", f"0x{bits:08x}", "a compact target with a non-zero mantissa")
    return target_to_difficulty(target)


def difficulty_to_target(difficulty: float) -> int:
    """Target of a difficulty: ``floor(DIFF1_TARGET / difficulty)``, computed exactly.

    Parameters
    ----------
    difficulty
        Difficulty [dimensionless], a finite number > 0 (the float is used at
        its exact binary value).

    Returns
    -------
    int
        The target, ``1 <= target < 2**256``.

    Raises
    ------
    ConsensusError
        If ``difficulty`` is not a finite positive number, or is so small that
        the target would not fit in 256 bits (or so large that it would be 0).
    """
    if (
        isinstance(difficulty, bool)
        or not isinstance(difficulty, int | float)
        or not math.isfinite(difficulty)
        or difficulty <= 0
    ):
        raise ConsensusError("difficulty", difficulty, "a finite number > 0")
    target = math.floor(Fraction(DIFF1_TARGET) / Fraction(difficulty))
    if not 1 <= target < _UINT256_LIMIT:
        raise ConsensusError(
            "difficulty", difficulty, "a difficulty whose target is between 1 and 2**256 - 1"
        )
    return target


@overload
def expected_hashes_per_block(difficulty: float) -> float: ...
@overload
def expected_hashes_per_block(difficulty: FloatSeries) -> FloatSeries: ...
@overload
def expected_hashes_per_block(difficulty: FloatArray) -> FloatArray: ...
@overload
def expected_hashes_per_block(difficulty: Numeric) -> Numeric: ...
def expected_hashes_per_block(difficulty: Numeric) -> Numeric:
    """Return the expected number of hashes to find one block, ``difficulty * 2**32``.

    Parameters
    ----------
    difficulty
        Difficulty [dimensionless] > 0: a number, NumPy array or pandas Series.

    Returns
    -------
    float or ndarray or Series
        Expected hashes per block [H], of the same kind as ``difficulty``.

    Raises
    ------
    ConsensusError
        If a difficulty is not > 0 or is infinite.
    """
    check_range("difficulty", difficulty, minimum=0.0, inclusive=False, error=ConsensusError)
    result = np.multiply(difficulty, float(HASHES_PER_DIFFICULTY_1))
    return cast("Numeric", restore_kind(result, difficulty))


@overload
def network_hashrate_hs(difficulty: float, block_interval_s: float = ...) -> float: ...
@overload
def network_hashrate_hs(
    difficulty: FloatSeries, block_interval_s: float | FloatSeries = ...
) -> FloatSeries: ...
@overload
def network_hashrate_hs(
    difficulty: FloatArray, block_interval_s: float | FloatArray = ...
) -> FloatArray: ...
@overload
def network_hashrate_hs(difficulty: Numeric, block_interval_s: Numeric = ...) -> Numeric: ...
def network_hashrate_hs(
    difficulty: Numeric, block_interval_s: Numeric = float(TARGET_SPACING_S)
) -> Numeric:
    """Network hashrate implied by a difficulty: ``difficulty * 2**32 / block_interval_s``.

    Parameters
    ----------
    difficulty
        Difficulty [dimensionless] > 0: a number, NumPy array or pandas Series.
    block_interval_s
        Observed mean time between blocks [s] > 0; 600 s is the design value.

    Returns
    -------
    float or ndarray or Series
        Hashrate [H/s], of the same kind as the inputs (a Series if either is one).

    Raises
    ------
    ConsensusError
        If a difficulty is not > 0 or is infinite.
    InputError
        If ``block_interval_s`` is not > 0 or is infinite.

    Examples
    --------
    Difficulty 1e14 with 600 s blocks is 1e14 * 4294967296 / 600 H/s:

    >>> round(network_hashrate_hs(1e14) / 1e18, 1)  # EH/s
    715.8
    """
    check_range("difficulty", difficulty, minimum=0.0, inclusive=False, error=ConsensusError)
    check_range("block_interval_s", block_interval_s, minimum=0.0, inclusive=False, unit="[s]")
    result = np.divide(np.multiply(difficulty, float(HASHES_PER_DIFFICULTY_1)), block_interval_s)
    return cast("Numeric", restore_kind(result, difficulty, block_interval_s))


def next_work_required(last_bits: int, first_block_time_s: int, last_block_time_s: int) -> int:
    """Compact target of the next retarget period (Core's ``CalculateNextWorkRequired``).

    The time the last 2016-block period took (from its first block to its
    last, i.e. over 2015 intervals, as Core does) is clamped to
    ``[TARGET_TIMESPAN_S / 4, TARGET_TIMESPAN_S * 4]``; the old target is
    scaled by ``actual / TARGET_TIMESPAN_S`` in integer arithmetic, capped at
    ``POW_LIMIT`` and compact-encoded.

    Parameters
    ----------
    last_bits
        ``nBits`` of the last block of the period ending now.
    first_block_time_s
        ``nTime`` of the first block of that period [s, Unix time].
    last_block_time_s
        ``nTime`` of its last block [s, Unix time].

    Returns
    -------
    int
        ``nBits`` required for the first block of the next period.

    Raises
    ------
    ConsensusError
        If ``last_bits`` is malformed, decodes to 0 or to a target above
        ``POW_LIMIT`` (no valid mainnet block has one), or a time is not an int.
    """
    for field, value in (
        ("first_block_time_s", first_block_time_s),
        ("last_block_time_s", last_block_time_s),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConsensusError(field, value, "an int Unix time [s]")
    old_target = compact_to_target(last_bits)
    if not 1 <= old_target <= POW_LIMIT:
        raise ConsensusError(
            "last_bits", f"0x{last_bits:08x}", "a compact target between 1 and POW_LIMIT"
        )
    actual_timespan_s = last_block_time_s - first_block_time_s
    actual_timespan_s = max(actual_timespan_s, TARGET_TIMESPAN_S // 4)
    actual_timespan_s = min(actual_timespan_s, TARGET_TIMESPAN_S * 4)
    new_target = old_target * actual_timespan_s // TARGET_TIMESPAN_S
    new_target = min(new_target, POW_LIMIT)
    return target_to_compact(new_target)


def next_retarget_height(height: int) -> int:
    """First height after ``height`` at which the difficulty is recomputed.

    Parameters
    ----------
    height
        Block height [blocks] >= 0.

    Returns
    -------
    int
        Smallest multiple of ``RETARGET_INTERVAL_BLOCKS`` (2016) above ``height``.

    Raises
    ------
    ConsensusError
        If ``height`` is not an int >= 0.
    """
    if isinstance(height, bool) or not isinstance(height, int) or height < 0:
        raise ConsensusError("height", height, "an int block height >= 0")
    return (height // RETARGET_INTERVAL_BLOCKS + 1) * RETARGET_INTERVAL_BLOCKS


def work_from_target(target: int) -> int:
    """Return the chain work of one block at ``target``: ``2**256 // (target + 1)``.

    This is Bitcoin Core's ``GetBlockProof``; the sum over blocks is the
    ``chainwork`` that picks the best chain.

    Parameters
    ----------
    target
        Target, an int ``1 <= target < 2**256``.

    Returns
    -------
    int
        Work of one block at that target [H].

    Raises
    ------
    ConsensusError
        If ``target`` is not a positive int below 2**256 (Core gives 0 work to such
        targets; here they are refused).
    """
    _check_target("target", target)
    return _UINT256_LIMIT // (target + 1)
