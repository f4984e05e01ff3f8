"""Reserve services: collect a transparency report from a chain source.

The I/O side of :mod:`hashnation.reserve.transparency`: scan the reserve's
descriptors for used addresses, pick a trusted checkpoint at or below the first
funding height, fetch and validate the headers up to ``H``, rebuild and verify the
UTXO set, and hand everything to :func:`~hashnation.reserve.transparency.assemble_report`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from hashnation.chain.base import ChainSource
from hashnation.chain.headers import REGTEST, Checkpoint, HeaderStore, chain_params
from hashnation.chain.holdings import sync_headers, utxos_at
from hashnation.chain.regtest import REGTEST_GENESIS
from hashnation.errors import InputError, SpvError
from hashnation.reserve.descriptors import ReserveDescriptors, scan_with_gap_limit
from hashnation.reserve.transparency import (
    PriceQuote,
    ReserveReport,
    WatchedScript,
    assemble_report,
)

__all__ = ["bundled_price", "collect_report", "scan_reserve", "trusted_checkpoint"]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def scan_reserve(
    source: ChainSource, reserve: ReserveDescriptors, gap_limit: int = 20
) -> list[WatchedScript]:
    """Every address of the reserve's descriptors up to the gap limit, as watched scripts.

    Parameters
    ----------
    source
        Chain source asked whether each address was ever used.
    reserve
        The reserve's descriptors.
    gap_limit
        Unused addresses in a row that end a branch.

    Returns
    -------
    list of WatchedScript
        Used addresses and the trailing unused ones, descriptor by descriptor.
    """
    watched: list[WatchedScript] = []
    for label, desc in reserve.items():
        for derived in scan_with_gap_limit(
            desc, lambda address: bool(source.address_history(address)), gap_limit
        ):
            watched.append(
                WatchedScript(
                    derived.script_pubkey_hex, derived.address, label, derived.branch, derived.index
                )
            )
    return watched


def trusted_checkpoint(source: ChainSource, network: str, below_height: int) -> Checkpoint:
    """Return the highest trusted checkpoint at or below ``below_height``.

    Its header is fetched from ``source`` and checked against the trusted hash.

    Mainnet checkpoints are the bundled ones (the genesis block and the first block of
    each retarget period); the header the source gives must hash to the bundled hash.
    Regtest starts at its genesis.

    Raises
    ------
    SpvError
        If the source's header is not the trusted block.
    """
    if network == REGTEST.name:
        raw = source.block_header(0)
        if raw != REGTEST_GENESIS.serialize():
            raise SpvError(f"{source.url}: header at height 0 is not the regtest genesis")
        return Checkpoint(0, REGTEST_GENESIS)
    from hashnation.data.loaders import load_mainnet_checkpoints

    known = load_mainnet_checkpoints()
    height = max(h for h in known if h <= max(below_height, 0))
    checkpoint = Checkpoint(height, source.block_header(height))
    if checkpoint.header.hash_hex() != known[height]:
        raise SpvError(
            f"{source.url}: header at height {height} hashes to {checkpoint.header.hash_hex()}, "
            f"expected the checkpoint {known[height]}"
        )
    return checkpoint


def bundled_price(moment: datetime) -> PriceQuote:
    """Return the bundled CoinGecko daily price of the UTC day of ``moment``.

    Raises
    ------
    DataError
        If the day is outside the bundled prices.
    """
    from hashnation.data.loaders import price_on

    day = moment.astimezone(UTC).date()
    value = Decimal(repr(price_on(day))).quantize(Decimal("0.01"))
    return PriceQuote(
        value, "CoinGecko daily price at 00:00 UTC (bundled dataset)", day.isoformat()
    )


def collect_report(
    *,
    source: ChainSource,
    reserve_name: str,
    height: int,
    watched: Sequence[WatchedScript],
    descriptors: dict[str, str] | None = None,
    network: Literal["mainnet", "regtest"] = "mainnet",
    min_confirmations: int = 1,
    ledger_sat: int | None = None,
    price: PriceQuote | None = None,
    generated_at: datetime | None = None,
    progress: Progress = _quiet,
) -> ReserveReport:
    """Fetch, verify and assemble a transparency report at ``height``.

    Parameters
    ----------
    source
        Chain source (Bitcoin Core, Esplora, Electrum or a regtest chain).
    reserve_name
        Name of the reserve in the report.
    height
        Report height ``H``.
    watched
        Scripts to report (:func:`scan_reserve` for descriptors, or listed addresses).
    descriptors
        Descriptor label to normalized text, for the scripts that derive from one.
    network
        Chain of ``source``: ``"mainnet"`` or ``"regtest"``.
    min_confirmations
        Confirmations an output needs at ``H``.
    ledger_sat
        The ledger's custody balance [sat]; must equal the chain's.
    price
        Stated price; default the bundled daily price of the day of block ``H``.
    generated_at
        Build time (default now).
    progress
        Called with a line of text at each stage.

    Returns
    -------
    ReserveReport
        The report, every header and proof in it checked here.
    """
    params = chain_params(network)
    if not watched:
        raise InputError("watched", 0, "at least one script, address or descriptor")
    progress(f"histories of {len(watched)} scripts")
    first = min(
        (ref.height for w in watched for ref in source.address_history(w.owner) if ref.height > 0),
        default=height,
    )
    checkpoint = trusted_checkpoint(source, params.name, min(first, height))
    store = HeaderStore(checkpoint, params)
    progress(f"headers {checkpoint.height}..{height}")
    sync_headers(source, store, height)
    progress("unspent outputs and merkle proofs")
    holdings = utxos_at(source, [w.owner for w in watched], height, store, min_confirmations)
    if price is None:
        price = bundled_price(datetime.fromtimestamp(store.header_at(height).time, UTC))
    progress(f"assembling: {len(holdings.utxos)} outputs")
    return assemble_report(
        reserve=reserve_name,
        holdings=holdings,
        headers=store,
        network=network,
        descriptors=descriptors or {},
        watched=watched,
        price=price,
        ledger_sat=ledger_sat,
        generated_at=generated_at,
    )
