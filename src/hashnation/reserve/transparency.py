"""The reserve's transparency report: everything needed to re-check its holdings offline.

A report at block height ``H`` holds

* the block headers from a checkpoint to ``H`` (so a reader checks links and proof
  of work itself, and compares the checkpoint with one they trust);
* the reserve's descriptors, and every watched script with the descriptor branch and
  index it derives from (so a reader re-derives each address);
* every unspent output at ``H`` and, once per funding transaction, the serialised
  transaction and its merkle branch (so a reader checks each output's amount and
  script and its inclusion under a header of the chain);
* totals in BTC and in USD at a stated price, and the ledger's figure beside the
  chain's: a report is built only when the two agree.

What a report cannot prove: that nothing was spent. SPV shows that a transaction is
in the chain, not that no later transaction spends its output; the report lists the
outputs its chain source called unspent at ``H`` and every spend of a watched output
the source reported is taken out. A reader with a full node checks unspentness with
``gettxout`` (documented in ``docs/reserve-report.md``).

The JSON form is :class:`ReserveReport` (``schema`` ``"hashnation.reserve-report"``,
``schema_version`` 1); :func:`report_json_schema` gives its JSON Schema.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hashnation.bitcoin.units import SAT_PER_BTC
from hashnation.chain.headers import HeaderStore
from hashnation.chain.holdings import Holdings
from hashnation.errors import InputError, ReserveError

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "FundingTransaction",
    "PriceQuote",
    "ReportDescriptor",
    "ReportScript",
    "ReportTotals",
    "ReportUtxo",
    "ReserveReport",
    "WatchedScript",
    "assemble_report",
    "report_json_schema",
    "usd_value",
]

SCHEMA_ID = "hashnation.reserve-report"
"""Value of a report's ``schema`` field."""

SCHEMA_VERSION = 1
"""Version of the report format this module writes and reads."""

_HEX64 = r"^[0-9a-f]{64}$"
_HEADER = r"^[0-9a-f]{160}$"
_CENT = Decimal("0.01")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReportDescriptor(_Model):
    """A watch-only descriptor of the reserve."""

    label: str = Field(min_length=1, description="Name of the descriptor in the reserve.")
    descriptor: str = Field(min_length=1, description="Normalized descriptor with checksum.")


class ReportScript(_Model):
    """A watched output script and its balance at the report height."""

    script_pubkey: str = Field(pattern=r"^([0-9a-f]{2})+$", description="Locking script, hex.")
    address: str | None = Field(description="Address, or null for scripts without one.")
    descriptor: str | None = Field(description="Label of the descriptor it derives from.")
    branch: int | None = Field(ge=0, description="Descriptor branch: 0 receive, 1 change.")
    index: int | None = Field(ge=0, description="Child index of the address.")
    balance_sat: int = Field(ge=0, description="Sum of its unspent outputs [sat].")


class FundingTransaction(_Model):
    """A transaction funding reported outputs, with its merkle proof."""

    txid: str = Field(pattern=_HEX64, description="Transaction id, display hex.")
    height: int = Field(ge=0, description="Height of the block holding it.")
    index: int = Field(ge=0, description="Position in the block.")
    merkle_branch: list[str] = Field(description="Sibling hashes, leaf level first, display hex.")
    raw_hex: str = Field(pattern=r"^([0-9a-f]{2})+$", description="Serialised transaction.")


class ReportUtxo(_Model):
    """An unspent output at the report height."""

    txid: str = Field(pattern=_HEX64, description="Funding transaction id, display hex.")
    vout: int = Field(ge=0, description="Output index.")
    value_sat: int = Field(ge=0, description="Amount [sat].")
    script_pubkey: str = Field(pattern=r"^([0-9a-f]{2})+$", description="Locking script, hex.")
    height: int = Field(ge=0, description="Height of the funding block.")


class ReportTotals(_Model):
    """Totals of the report."""

    utxo_count: int = Field(ge=0)
    chain_sat: int = Field(ge=0, description="Sum of the unspent outputs [sat].")
    ledger_sat: int | None = Field(description="Custody balance in the ledger [sat], or null.")
    price_usd_per_btc: str = Field(description="Price used for the USD value, decimal text.")
    price_source: str = Field(description="Where the price comes from.")
    price_date: str = Field(description="Day of the price, YYYY-MM-DD (UTC).")
    value_usd: str = Field(description="chain_sat x price / 1e8, to the cent (half even).")


class ReserveReport(_Model):
    """A reserve's transparency report at one block height (schema version 1)."""

    schema_id: Literal["hashnation.reserve-report"] = Field(alias="schema")
    schema_version: Literal[1]
    reserve: str = Field(min_length=1, description="Name of the reserve.")
    generated_at: str = Field(description="When the report was built, ISO 8601 UTC.")
    network: Literal["mainnet", "regtest"] = Field(description="Proof-of-work rules.")
    height: int = Field(ge=0, description="Report height H.")
    block_hash: str = Field(pattern=_HEX64, description="Hash of the block at H.")
    block_time: int = Field(description="Header time at H [s since 1970 UTC].")
    min_confirmations: int = Field(ge=1)
    checkpoint_height: int = Field(ge=0, description="Height of headers[0].")
    headers: list[str] = Field(
        min_length=1, description="Headers from the checkpoint to H, 160 hex digits each."
    )
    descriptors: list[ReportDescriptor]
    scripts: list[ReportScript]
    transactions: list[FundingTransaction]
    utxos: list[ReportUtxo]
    totals: ReportTotals

    def to_json_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data, with field names as in the file."""
        return self.model_dump(by_alias=True, mode="json")


def report_json_schema() -> dict[str, Any]:
    """JSON Schema of :class:`ReserveReport` (draft 2020-12, as pydantic writes it)."""
    return ReserveReport.model_json_schema(by_alias=True)


@dataclass(frozen=True, slots=True)
class WatchedScript:
    """A script the reserve watches, and where it comes from.

    Parameters
    ----------
    script_pubkey_hex
        Locking script, hex.
    address
        Its address, or ``None`` (early pay-to-pubkey outputs have none).
    descriptor
        Label of the descriptor it derives from, or ``None`` for a listed address.
    branch, index
        Descriptor branch and child index, or ``None``.
    """

    script_pubkey_hex: str
    address: str | None = None
    descriptor: str | None = None
    branch: int | None = None
    index: int | None = None

    @property
    def owner(self) -> str:
        """Name the chain source is asked about: the address, else the script."""
        return self.address or self.script_pubkey_hex


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """A stated BTC price.

    Parameters
    ----------
    usd_per_btc
        Price [USD/BTC].
    source
        Where it comes from (``"CoinGecko daily close, bundled"``, ``"stated by the operator"``).
    day
        Day of the price, UTC.
    """

    usd_per_btc: Decimal
    source: str
    day: str


def usd_value(amount_sat: int, usd_per_btc: Decimal) -> Decimal:
    """Value of ``amount_sat`` at ``usd_per_btc``, rounded half-even to the cent [USD]."""
    return (Decimal(amount_sat) * usd_per_btc / SAT_PER_BTC).quantize(_CENT, ROUND_HALF_EVEN)


def _price_text(price: Decimal) -> str:
    if not price.is_finite() or price <= 0:
        raise InputError("price_usd_per_btc", str(price), "a finite price > 0 [USD/BTC]")
    return format(price.normalize(), "f")


def assemble_report(
    *,
    reserve: str,
    holdings: Holdings,
    headers: HeaderStore,
    network: Literal["mainnet", "regtest"],
    descriptors: Mapping[str, str],
    watched: Sequence[WatchedScript],
    price: PriceQuote,
    ledger_sat: int | None = None,
    generated_at: datetime | None = None,
) -> ReserveReport:
    """Build the report from verified holdings (pure: no I/O).

    Parameters
    ----------
    reserve
        Name of the reserve.
    holdings
        Verified UTXOs at the report height (:func:`~hashnation.chain.holdings.utxos_at`
        over the owners of ``watched``), with their funding transactions.
    headers
        The header store the holdings were verified against; its base is the checkpoint.
    network
        Chain of ``headers``.
    descriptors
        Descriptor label to normalized descriptor text.
    watched
        Every watched script, in the order the report lists them.
    price
        Price for the USD value.
    ledger_sat
        Custody balance the ledger gives at the report time [sat], or ``None``.
    generated_at
        Build time (default now, UTC).

    Returns
    -------
    ReserveReport
        The report.

    Raises
    ------
    ReserveError
        If the ledger's figure differs from the chain's: no report is built then.
    InputError
        If a watched script is listed twice, a UTXO pays no watched script or the
        price is not positive.
    """
    by_script: dict[str, WatchedScript] = {}
    for item in watched:
        if item.script_pubkey_hex in by_script:
            raise InputError("watched", item.owner, "each script once")
        if item.descriptor is not None and item.descriptor not in descriptors:
            raise InputError("watched.descriptor", item.descriptor, "a label of `descriptors`")
        by_script[item.script_pubkey_hex] = item
    balances: dict[str, int] = defaultdict(int)
    for utxo in holdings.utxos:
        if utxo.script_pubkey not in by_script:
            raise InputError("holdings", f"{utxo.txid}:{utxo.vout}", "outputs of watched scripts")
        balances[utxo.script_pubkey] += utxo.value_sat
    chain_sat = sum(balances.values())
    if ledger_sat is not None and ledger_sat != chain_sat:
        raise ReserveError(
            f"ledger custody balance {ledger_sat} sat differs from the chain's {chain_sat} sat "
            f"at height {holdings.height} (difference {ledger_sat - chain_sat:+d} sat); "
            "reconcile the ledger before publishing a report"
        )
    price_text = _price_text(price.usd_per_btc)

    transactions: list[FundingTransaction] = []
    seen: set[str] = set()
    for utxo in holdings.utxos:
        if utxo.txid in seen:
            continue
        seen.add(utxo.txid)
        proof = utxo.proof
        transactions.append(
            FundingTransaction(
                txid=utxo.txid,
                height=utxo.height,
                index=proof.index,
                merkle_branch=proof.branch_hex,
                raw_hex=holdings.funding_transactions[utxo.txid].hex(),
            )
        )
    height = holdings.height
    header_hex = [
        headers.header_at(h).serialize().hex() for h in range(headers.base_height, height + 1)
    ]
    moment = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return ReserveReport(
        schema_id=SCHEMA_ID,
        schema_version=SCHEMA_VERSION,
        reserve=reserve,
        generated_at=moment.isoformat().replace("+00:00", "Z"),
        network=network,
        height=height,
        block_hash=holdings.block_hash,
        block_time=headers.header_at(height).time,
        min_confirmations=holdings.min_confirmations,
        checkpoint_height=headers.base_height,
        headers=header_hex,
        descriptors=[
            ReportDescriptor(label=label, descriptor=text) for label, text in descriptors.items()
        ],
        scripts=[
            ReportScript(
                script_pubkey=item.script_pubkey_hex,
                address=item.address,
                descriptor=item.descriptor,
                branch=item.branch,
                index=item.index,
                balance_sat=balances.get(item.script_pubkey_hex, 0),
            )
            for item in watched
        ],
        transactions=transactions,
        utxos=[
            ReportUtxo(
                txid=u.txid,
                vout=u.vout,
                value_sat=u.value_sat,
                script_pubkey=u.script_pubkey,
                height=u.height,
            )
            for u in holdings.utxos
        ],
        totals=ReportTotals(
            utxo_count=len(holdings.utxos),
            chain_sat=chain_sat,
            ledger_sat=ledger_sat,
            price_usd_per_btc=price_text,
            price_source=price.source,
            price_date=price.day,
            value_usd=format(usd_value(chain_sat, price.usd_per_btc), "f"),
        ),
    )
