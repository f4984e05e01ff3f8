"""``hashnation bitcoin``: consensus arithmetic (block subsidy, compact targets)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from hashnation.bitcoin.difficulty import (
    TARGET_SPACING_S,
    bits_to_difficulty,
    compact_to_target,
    expected_hashes_per_block,
)
from hashnation.bitcoin.subsidy import block_subsidy_sat, next_halving_height
from hashnation.bitcoin.units import sat_to_btc
from hashnation.cli.errors import HashNationGroup
from hashnation.errors import InputError

__all__ = ["app", "parse_bits"]

app = typer.Typer(
    name="bitcoin",
    cls=HashNationGroup,
    help="Bitcoin consensus arithmetic: block subsidy, compact targets and difficulty.",
    no_args_is_help=True,
)

_HEX_BITS = re.compile(r"(?:0x)?([0-9a-f]{1,8})")
_SECONDS_PER_YEAR = 365.25 * 86_400


def parse_bits(text: str) -> int:
    """Parse compact ``nBits`` written in hex (``0x1d00ffff`` or ``1d00ffff``).

    Parameters
    ----------
    text
        Hex digits, with or without ``0x``; at most 8 digits (a uint32).

    Returns
    -------
    int
        The compact target.

    Raises
    ------
    InputError
        If ``text`` is not 1 to 8 hex digits.
    """
    match = _HEX_BITS.fullmatch(text.strip().lower())
    if match is None:
        raise InputError("bits", text, "a compact target in hex, 1 to 8 digits, e.g. 0x1d00ffff")
    return int(match.group(1), 16)


def _print(rows: list[tuple[str, str, str]]) -> None:
    """Print ``name  value  unit`` lines, names aligned (easy to read and to grep)."""
    width = max(len(name) for name, _, _ in rows)
    for name, value, unit in rows:
        typer.echo(f"{name:<{width}}  {value}{f'  [{unit}]' if unit else ''}")


@app.command("subsidy")
def subsidy_command(
    height: Annotated[
        int, typer.Argument(metavar="HEIGHT", help="Block height (>= 0).", show_default=False)
    ],
) -> None:
    """Block subsidy at HEIGHT and the next halving."""
    subsidy = block_subsidy_sat(height)
    halving = next_halving_height(height)
    blocks = halving - height
    years = blocks * TARGET_SPACING_S / _SECONDS_PER_YEAR
    rows = [
        ("height", f"{height}", "block"),
        ("block_subsidy_sat", f"{subsidy}", "sat"),
        ("block_subsidy_btc", f"{sat_to_btc(subsidy):.8f}", "BTC"),
        ("next_halving_height", f"{halving}", "block"),
        ("blocks_to_next_halving", f"{blocks}", "block"),
        ("time_to_next_halving", f"{years:.2f}", "yr, at 600 s per block"),
    ]
    _print(rows)


@app.command("bits")
def bits_command(
    bits: Annotated[
        str,
        typer.Argument(
            metavar="BITS", help="Compact target nBits in hex, e.g. 0x1d00ffff.", show_default=False
        ),
    ],
) -> None:
    """Target, difficulty and expected hashes per block of compact nBits."""
    value = parse_bits(bits)
    target = compact_to_target(value)
    difficulty = bits_to_difficulty(value)
    hashes = expected_hashes_per_block(difficulty)
    rows = [
        ("bits", f"0x{value:08x}", "compact nBits"),
        ("target", f"0x{target:064x}", "256-bit integer"),
        ("difficulty", repr(difficulty), "dimensionless"),
        ("expected_hashes_per_block", f"{hashes:.6e}", "H, difficulty x 2^32"),
    ]
    _print(rows)
