"""Options and set-up shared by the commands that read the chain.

``reserve verify``, ``reserve report`` and ``por attest`` all take one chain
source (``--esplora``, ``--bitcoind`` or ``--electrum``) and a confirmation
depth, and start their header store from the mainnet genesis block. The option
types below keep the flags and their help identical across commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hashnation.errors import InputError, SpvError

if TYPE_CHECKING:
    from hashnation.chain.headers import HeaderStore

__all__ = [
    "GENESIS_HASH",
    "GENESIS_HEADER_HEX",
    "BitcoindOption",
    "ElectrumOption",
    "EsploraOption",
    "MinConfirmationsOption",
    "chain_source",
    "genesis_store",
]

GENESIS_HEADER_HEX = (
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b2"
    "7ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
)
"""Mainnet genesis header: the default trust anchor; its hash is checked on use."""
GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
"""Mainnet genesis block hash (display order)."""

EsploraOption = Annotated[
    str | None, typer.Option("--esplora", help="Esplora base URL.", show_default=False)
]
BitcoindOption = Annotated[
    str | None,
    typer.Option("--bitcoind", help="http://user:pass@host:port of Core RPC.", show_default=False),
]
ElectrumOption = Annotated[
    str | None,
    typer.Option("--electrum", help="tcp://host:port or ssl://host:port.", show_default=False),
]
MinConfirmationsOption = Annotated[
    int, typer.Option("--min-confirmations", help="Depth an output needs at the height [blocks].")
]


def chain_source(esplora: str | None, bitcoind: str | None, electrum: str | None) -> object:
    """Open the one chain source the options name.

    Parameters
    ----------
    esplora, bitcoind, electrum
        The three options; exactly one must be given. Credentials in the
        ``--bitcoind`` URL are passed to the RPC client apart from the URL.

    Returns
    -------
    object
        An ``EsploraSource``, ``ElectrumSource`` or ``BitcoindSource``.

    Raises
    ------
    InputError
        When none or more than one is given.
    """
    from hashnation.chain import BitcoindSource, ElectrumSource, EsploraSource

    given = [x for x in (esplora, bitcoind, electrum) if x]
    if len(given) != 1:
        raise InputError("--esplora/--bitcoind/--electrum", len(given), "exactly one chain source")
    if esplora:
        return EsploraSource(esplora)
    if electrum:
        return ElectrumSource(electrum)
    assert bitcoind is not None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(bitcoind)
    host = f"{parts.hostname or ''}:{parts.port}" if parts.port else parts.hostname or ""
    clean = urlunsplit((parts.scheme, host, parts.path, "", ""))  # credentials go apart
    return BitcoindSource(clean, user=parts.username, password=parts.password)


def genesis_store() -> HeaderStore:
    """Return a mainnet header store anchored at the genesis block.

    Returns
    -------
    HeaderStore
        Holding only the genesis header, whose hash has been checked.

    Raises
    ------
    SpvError
        If the built-in header does not hash to the genesis block.
    """
    from hashnation.bitcoin.header import BlockHeader
    from hashnation.chain.headers import Checkpoint, HeaderStore

    genesis = BlockHeader.from_hex(GENESIS_HEADER_HEX)
    if genesis.hash_hex() != GENESIS_HASH:
        raise SpvError("the built-in genesis header does not hash to the genesis block")
    return HeaderStore(Checkpoint(0, genesis))
