r"""``hashnation visa``: the investor-residency visa programme's console.

Every command opens the programme's database (``--db``, a SQLite file by default or a
PostgreSQL URL, migrated with ``hashnation registry init``)::

    hashnation visa configure "wpkh([d34db33f/84h/0h/0h]xpub.../<0;1>/*)" \
        --amount-usd 100000 --price-usd-per-btc 95000 --validity-hours 72 \
        --confirmations 3 --yearly-quota 1000 --tolerance-sat 1000
    hashnation visa apply "A. Investor" AE --refund-address bc1q...
    hashnation visa kyc HV-ABCDEFGH23 cleared
    hashnation visa invoice HV-ABCDEFGH23
    hashnation visa scan --esplora https://mempool.space/api
    hashnation visa approve HV-ABCDEFGH23
    hashnation visa refund HV-ABCDEFGH23 --fee-rate 4 --out refunds/
    hashnation visa status HV-ABCDEFGH23 [--json]

Bad input prints ``error: <field>: got <value>, expected <what>`` on one line and exits
with code 2; nothing is written. The descriptor holds public keys only; refunds are
unsigned PSBTs written to files for the signers.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from hashnation.cli.chainopts import (
    BitcoindOption,
    ElectrumOption,
    EsploraOption,
    chain_source,
    genesis_store,
)
from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup
from hashnation.cli.files import write_text_atomically
from hashnation.errors import InputError

if TYPE_CHECKING:
    from hashnation.visa.service import StatusView, VisaProgramme

__all__ = ["DEFAULT_DB", "app", "status_json"]

DEFAULT_DB: Final = "sqlite:///hashnation.db"
"""Database used when ``--db`` is not given."""

app = typer.Typer(
    name="visa",
    cls=HashNationGroup,
    help="Investor-residency visa paid in BTC: applications, invoices, payments, refunds.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str,
    typer.Option(
        "--db", help="Database URL: sqlite:///hashnation.db (default) or postgresql+psycopg://..."
    ),
]


def _programme(db: str) -> VisaProgramme:
    from hashnation.visa.service import VisaProgramme

    return VisaProgramme(db)


def _decimal(option: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InputError(option, text, "a decimal number") from None


def status_json(view: StatusView) -> dict[str, Any]:
    """Turn an application's status into JSON-able data (amounts in sat, ISO 8601 UTC).

    Parameters
    ----------
    view
        The status.

    Returns
    -------
    dict
        Reference, status, KYC, and invoices with their payments.
    """
    return {
        "reference": view.application.reference,
        "status": view.application.status,
        "kyc_status": view.application.kyc_status,
        "invoices": [
            {
                "index": i.index,
                "address": i.address,
                "uri": i.uri,
                "amount_sat": i.amount_sat,
                "price_usd_per_btc": str(i.price_usd_per_btc),
                "issued_at": i.issued_at.isoformat(),
                "expires_at": i.expires_at.isoformat(),
                "status": i.status.value,
                "received_sat": i.received_sat,
                "shortfall_sat": i.shortfall_sat,
                "confirmations_required": i.confirmations_required,
                "paid_txid": i.paid_txid,
                "ledger_entry_id": i.ledger_entry_id,
                "payments": [
                    {
                        "txid": p.txid,
                        "vout": p.vout,
                        "value_sat": p.value_sat,
                        "height": p.height,
                        "confirmations": p.confirmations,
                        "payer_address": p.payer_address,
                        "outcome": p.outcome.value,
                        "kept_sat": p.kept_sat,
                        "refund_sat": p.refund_sat,
                        "refund_spend_id": p.refund_spend_id,
                    }
                    for p in i.payments
                ],
            }
            for i in view.invoices
        ],
    }


@app.command("configure")
def configure_command(
    descriptor: Annotated[
        str | None,
        typer.Argument(
            help="Watch-only descriptor ending /<0;1>/*; the country pack's when omitted.",
            show_default=False,
        ),
    ] = None,
    price_usd_per_btc: Annotated[
        str | None,
        typer.Option(
            "--price-usd-per-btc",
            help="Stated price [USD/BTC]; the country pack's when omitted.",
            show_default=False,
        ),
    ] = None,
    amount_sat: Annotated[
        int | None, typer.Option("--amount-sat", help="Fee per visa [sat].", show_default=False)
    ] = None,
    amount_usd: Annotated[
        str | None,
        typer.Option("--amount-usd", help="Fee per visa [USD] at the price.", show_default=False),
    ] = None,
    validity_hours: Annotated[
        int | None, typer.Option("--validity-hours", help="Invoice validity [h] (pack's, else 72).")
    ] = None,
    confirmations: Annotated[
        int | None, typer.Option("--confirmations", help="Confirmations required (pack's, else 3).")
    ] = None,
    yearly_quota: Annotated[
        int | None,
        typer.Option("--yearly-quota", help="Visas per calendar year (pack's, else 1000)."),
    ] = None,
    tolerance_sat: Annotated[
        int | None,
        typer.Option(
            "--tolerance-sat", help="Shortfall accepted / excess kept [sat] (pack's, else 0)."
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Set the programme's descriptor and terms (defaults: the country pack's visa terms)."""
    from hashnation.cli.country import selected_pack
    from hashnation.visa.rules import VisaRules

    pack = selected_pack()
    terms = pack.visa
    descriptor = descriptor or (terms.descriptor if terms else None)
    if descriptor is None:
        raise InputError(
            "DESCRIPTOR", None, f"a watch-only descriptor (the {pack.slug} pack names none)"
        )
    price = _decimal("--price-usd-per-btc", price_usd_per_btc)
    if price is None and terms is not None:
        price = terms.price_usd_per_btc
    if price is None:
        raise InputError(
            "--price-usd-per-btc",
            None,
            f"a price [USD/BTC] (the {pack.slug} pack has no visa terms)",
        )
    usd = _decimal("--amount-usd", amount_usd)
    if amount_sat is None and usd is None and terms is not None:
        usd = terms.amount_usd

    def pick(given: int | None, packed: int | None, default: int) -> int:
        return given if given is not None else packed if packed is not None else default

    rules = VisaRules(
        price_usd_per_btc=price,
        amount_sat=amount_sat,
        amount_usd=usd,
        invoice_validity_hours=pick(
            validity_hours, terms.invoice_validity_hours if terms else None, 72
        ),
        confirmations_required=pick(
            confirmations, terms.confirmations_required if terms else None, 3
        ),
        yearly_quota=pick(yearly_quota, terms.yearly_quota if terms else None, 1_000),
        tolerance_sat=pick(tolerance_sat, terms.tolerance_sat if terms else None, 0),
    )
    with _programme(db) as programme:
        view = programme.configure(descriptor, rules)
    out_console().print(
        f"visa programme: fee {view.rules.fee_sat} sat, {view.rules.confirmations_required} "
        f"confirmations, quota {view.rules.yearly_quota} a year ({view.network}net)"
    )


@app.command("apply")
def apply_command(
    applicant_name: Annotated[str, typer.Argument(help="Applicant's name.")],
    nationality: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 code.")],
    refund_address: Annotated[
        str | None,
        typer.Option("--refund-address", help="Where refunds go.", show_default=False),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Open an application (KYC pending); prints its reference."""
    with _programme(db) as programme:
        view = programme.apply(
            applicant_name=applicant_name, nationality=nationality, refund_address=refund_address
        )
    typer.echo(view.reference)


@app.command("kyc")
def kyc_command(
    reference: Annotated[str, typer.Argument(help="Application reference.")],
    status: Annotated[str, typer.Argument(help="pending, cleared or rejected.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Record the outcome of the KYC checks."""
    with _programme(db) as programme:
        view = programme.set_kyc(reference, status)
    typer.echo(f"{view.reference}: KYC {view.kyc_status}, {view.status}")


@app.command("invoice")
def invoice_command(
    reference: Annotated[str, typer.Argument(help="Application reference.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Issue the BTC invoice (a new address of the descriptor)."""
    with _programme(db) as programme:
        view = programme.issue_invoice(reference)
    typer.echo(f"pay {view.amount_sat} sat to {view.address} before {view.expires_at.isoformat()}")
    typer.echo(view.uri)


@app.command("scan")
def scan_command(
    esplora: EsploraOption = None,
    bitcoind: BitcoindOption = None,
    electrum: ElectrumOption = None,
    height: Annotated[
        int | None, typer.Option("--height", help="Scan height (tip).", show_default=False)
    ] = None,
    regtest: Annotated[
        bool, typer.Option("--regtest", help="The source serves a regtest chain.")
    ] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Detect and settle payments (SPV-checked) at a height."""
    from hashnation.chain.base import ChainSource

    source = chain_source(esplora, bitcoind, electrum)
    assert isinstance(source, ChainSource)
    if regtest:
        from hashnation.chain.headers import REGTEST, Checkpoint, HeaderStore
        from hashnation.chain.regtest import REGTEST_GENESIS

        headers = HeaderStore(Checkpoint(0, REGTEST_GENESIS), REGTEST)
    else:
        headers = genesis_store()
    with _programme(db) as programme:
        result = programme.scan(source, headers, height=height)
    typer.echo(
        f"height {result.height}: {result.invoices_scanned} invoices, "
        f"{result.new_payments} new payments, paid {len(result.paid)}, "
        f"expired {len(result.expired)}"
    )
    for reference in result.paid:
        typer.echo(f"paid {reference}")
    for reference in result.expired:
        typer.echo(f"expired {reference}")


@app.command("approve")
def approve_command(
    reference: Annotated[str, typer.Argument(help="Application reference.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Approve a paid application within the year's quota."""
    with _programme(db) as programme:
        view = programme.approve(reference)
    typer.echo(f"{view.reference}: approved ({view.approved_year} quota)")


@app.command("refund")
def refund_command(
    reference: Annotated[str, typer.Argument(help="Application reference.")],
    fee_rate: Annotated[float, typer.Option("--fee-rate", help="Fee rate [sat/vB].")] = 2.0,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the PSBT files.", show_default=False),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Build unsigned refund PSBTs for the payments owed back."""
    with _programme(db) as programme:
        refunds = programme.refund(reference, fee_rate_sat_per_vb=fee_rate)
    if not refunds:
        typer.echo("no refund owed")
    for refund in refunds:
        typer.echo(
            f"refund {refund.amount_sat} sat to {refund.destination} "
            f"(fee {refund.fee_sat} sat) spend {refund.spend_id}"
        )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            write_text_atomically(out / f"refund-{refund.spend_id}.psbt", refund.psbt_base64)
        else:
            typer.echo(refund.psbt_base64)


@app.command("status")
def status_command(
    reference: Annotated[str, typer.Argument(help="Application reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Show an application with its invoices and payments."""
    with _programme(db) as programme:
        view = programme.status(reference)
    data = status_json(view)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"{data['reference']}: {data['status']} (KYC {data['kyc_status']})")
    for invoice in data["invoices"]:
        typer.echo(
            f"  invoice {invoice['address']}: {invoice['status']}, due "
            f"{invoice['amount_sat']} sat, received {invoice['received_sat']} sat, "
            f"short {invoice['shortfall_sat']} sat"
        )
        for p in invoice["payments"]:
            typer.echo(
                f"    {p['txid']}:{p['vout']} {p['value_sat']} sat, "
                f"{p['confirmations']} conf, {p['outcome']}"
            )
