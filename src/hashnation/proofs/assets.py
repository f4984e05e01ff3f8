"""The assets a liabilities tree may hold, each counted in its smallest unit.

Amounts are integers of the asset's smallest unit: satoshi for BTC
(10^-8 BTC), 10^-6 of a dollar for the dollar stablecoins USDT and USDC. No
decimal amount enters a tree, so two verifiers can never round differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hashnation.proofs.errors import ProofInputError

__all__ = ["ASSETS", "ASSET_CODE_PATTERN", "Asset", "get_asset"]

ASSET_CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
"""What an asset code looks like: 2 to 12 upper-case ASCII letters or digits."""


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset customers hold with a custodian.

    Parameters
    ----------
    code
        Ticker, upper case (``BTC``).
    unit
        Name of the smallest unit, which every amount counts (``sat``).
    decimals
        Smallest units per whole coin, as a power of ten (8 for BTC).
    on_chain
        True when reserves can be proved on the Bitcoin chain (BIP322 control
        proofs and SPV-checked balances); other assets' reserves are declared.
    """

    code: str
    unit: str
    decimals: int
    on_chain: bool


ASSETS: dict[str, Asset] = {
    "BTC": Asset("BTC", "sat", 8, True),
    "USDT": Asset("USDT", "micro-USDT", 6, False),
    "USDC": Asset("USDC", "micro-USDC", 6, False),
}
"""Assets known to the platform, by code."""


def get_asset(code: object, field: str = "asset") -> Asset:
    """Return the asset of a code, or refuse it.

    Parameters
    ----------
    code
        Asset code as given (``BTC``).
    field
        Name of the field, for the message.

    Returns
    -------
    Asset
        The registered asset.

    Raises
    ------
    ProofInputError
        If ``code`` is not a registered asset code.
    """
    if isinstance(code, str) and code in ASSETS:
        return ASSETS[code]
    raise ProofInputError(field, code, f"one of {', '.join(sorted(ASSETS))}")
