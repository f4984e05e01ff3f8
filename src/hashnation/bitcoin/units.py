"""Bitcoin amounts: integer satoshis everywhere, exact conversion to and from BTC.

Amounts inside HashNation are held as ``int`` satoshis (``amount_sat``). A
:class:`~decimal.Decimal` BTC value appears only at the edges (input files,
reports). Floats are never accepted for amounts: ``0.1 + 0.2`` is not
``0.3`` in binary floating point, and a ledger must not drift.

The bounds follow Bitcoin Core's ``src/consensus/amount.h``: ``COIN`` is
100 000 000 sat and ``MAX_MONEY`` is 21 000 000 BTC, a sanity bound on any
single amount (``MoneyRange``), not the supply actually issued.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hashnation.errors import ConsensusError

__all__ = [
    "MAX_MONEY_SAT",
    "SAT_PER_BTC",
    "btc_to_sat",
    "sat_to_btc",
]

SAT_PER_BTC: int = 100_000_000
"""Satoshis in one bitcoin [sat/BTC] (Bitcoin Core ``COIN``)."""

MAX_MONEY_SAT: int = 21_000_000 * SAT_PER_BTC
"""Largest valid single amount [sat] (Bitcoin Core ``MAX_MONEY``, a sanity bound)."""

_SAT_DECIMALS = 8
_MAX_MONEY_BTC = Decimal(MAX_MONEY_SAT // SAT_PER_BTC)
_EXPECTED_BTC = "a BTC amount as Decimal, str or int, 0 to 21000000 BTC, at most 8 decimals"
_EXPECTED_SAT = f"an int amount 0 to {MAX_MONEY_SAT} [sat]"


def btc_to_sat(btc: Decimal | str | int) -> int:
    """Convert a BTC amount to integer satoshis, exactly.

    Parameters
    ----------
    btc
        Amount [BTC] as a :class:`~decimal.Decimal`, a decimal string
        (``"0.00010000"``) or an ``int``. Floats are refused because they cannot
        hold most decimal amounts exactly.

    Returns
    -------
    int
        The same amount [sat].

    Raises
    ------
    ConsensusError
        If ``btc`` is a float, a bool, not a finite decimal number, negative,
        above ``MAX_MONEY`` (21 000 000 BTC) or finer than one satoshi
        (more than 8 significant decimals).

    Examples
    --------
    >>> btc_to_sat("0.00010000")
    10000
    >>> btc_to_sat(Decimal("20999999.9769"))
    2099999997690000
    """
    if isinstance(btc, bool) or not isinstance(btc, Decimal | str | int):
        raise ConsensusError("btc", btc, _EXPECTED_BTC)
    if isinstance(btc, int):
        amount_sat = btc * SAT_PER_BTC
        if not 0 <= amount_sat <= MAX_MONEY_SAT:
            raise ConsensusError("btc", btc, _EXPECTED_BTC)
        return amount_sat
    try:
        value = Decimal(btc)
    except (InvalidOperation, ValueError):
        raise ConsensusError("btc", btc, _EXPECTED_BTC) from None
    if not value.is_finite() or value < 0 or value > _MAX_MONEY_BTC:
        raise ConsensusError("btc", btc, _EXPECTED_BTC)
    # Work on the digit tuple so that no Decimal context can round the value.
    _, digits, exponent_raw = value.as_tuple()
    exponent = int(exponent_raw)  # an int for every finite value
    coefficient = int("".join(map(str, digits)))
    if coefficient == 0:
        return 0
    while coefficient % 10 == 0:
        coefficient //= 10
        exponent += 1
    if exponent < -_SAT_DECIMALS:
        raise ConsensusError("btc", btc, "at most 8 decimals (1 sat = 0.00000001 BTC)")
    scale: int = 10 ** (exponent + _SAT_DECIMALS)
    return coefficient * scale


def sat_to_btc(amount_sat: int) -> Decimal:
    """Convert integer satoshis to an exact BTC :class:`~decimal.Decimal`.

    Parameters
    ----------
    amount_sat
        Amount [sat], an ``int`` from 0 to ``MAX_MONEY_SAT``.

    Returns
    -------
    Decimal
        The same amount [BTC], always with 8 decimals (``Decimal("1.00000000")``).

    Raises
    ------
    ConsensusError
        If ``amount_sat`` is not an ``int`` (bools and floats included) or is
        outside ``0 .. MAX_MONEY_SAT``.

    Examples
    --------
    >>> sat_to_btc(10000)
    Decimal('0.00010000')
    """
    if isinstance(amount_sat, bool) or not isinstance(amount_sat, int):
        raise ConsensusError("amount_sat", amount_sat, _EXPECTED_SAT)
    if not 0 <= amount_sat <= MAX_MONEY_SAT:
        raise ConsensusError("amount_sat", amount_sat, _EXPECTED_SAT)
    whole_btc, rest_sat = divmod(amount_sat, SAT_PER_BTC)
    return Decimal(f"{whole_btc}.{rest_sat:0{_SAT_DECIMALS}d}")
