"""``hashnation reserve report`` builds a transparency report; ``hashnation verify`` re-checks it.

``report`` asks a chain source (Bitcoin Core, Esplora or Electrum) for the reserve's
history, checks every header and merkle proof here, compares the total with the ledger
and writes ``report.json``, ``report.html``, ``utxos.csv``, ``addresses.csv`` and
``verify.html`` into one folder, all or nothing. ``verify`` needs only the JSON file:
it prints each check with ✓ or ✗ and exits with status 1 when any fails.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.text import Text

from hashnation.cli.chainopts import (
    BitcoindOption,
    ElectrumOption,
    EsploraOption,
    MinConfirmationsOption,
    chain_source,
)
from hashnation.cli.console import out_console
from hashnation.cli.files import replacing
from hashnation.errors import InputError

if TYPE_CHECKING:
    from hashnation.reserve.transparency import ReserveReport

__all__ = ["demo_command", "report_command", "verify_command"]


def _price(price_usd: str | None, price_date: str | None) -> object:
    from hashnation.reserve.transparency import PriceQuote

    if price_usd is None:
        if price_date is not None:
            raise InputError("--price-date", price_date, "to be given with --price-usd")
        return None
    try:
        value = Decimal(price_usd)
    except InvalidOperation:
        raise InputError("--price-usd", price_usd, "a price in USD/BTC, e.g. 91234.56") from None
    if not value.is_finite() or value <= 0:
        raise InputError("--price-usd", price_usd, "a price > 0 [USD/BTC]")
    if price_date is None:
        raise InputError("--price-date", None, "the day of the price, YYYY-MM-DD")
    try:
        day = date.fromisoformat(price_date)
    except ValueError:
        raise InputError("--price-date", price_date, "a day as YYYY-MM-DD") from None
    return PriceQuote(value, "stated by the publisher", day.isoformat())


def _ledger_sat(db: str | None, block_time: int) -> int | None:
    if db is None:
        return None
    from hashnation.reserve.ledger import total_holdings
    from hashnation.store.db import session_scope

    with session_scope(db) as session:
        return total_holdings(session, datetime.fromtimestamp(block_time, UTC))


def _publish(out: Path, report: ReserveReport) -> list[Path]:
    """Verify ``report`` as a reader would, then write its folder, all files or none."""
    import plotly.offline

    from hashnation.mining.outputs import publish_atomically
    from hashnation.reserve.recheck import verify_report
    from hashnation.reserve.transparency_page import (
        REPORT_FILES,
        addresses_csv,
        report_page,
        utxos_csv,
        verify_instructions_page,
    )

    verification = verify_report(report.to_json_dict())
    if not verification.ok:
        failed = "; ".join(f"{c.name}: {c.detail}" for c in verification.checks if not c.ok)
        raise InputError("report", report.height, f"a report that verifies ({failed})")
    doc = json.dumps(report.to_json_dict(), indent=1) + "\n"

    def fill(tmp: Path) -> None:
        (tmp / "report.json").write_text(doc, encoding="utf-8")
        (tmp / "report.html").write_text(
            report_page(report, verification=verification), encoding="utf-8"
        )
        (tmp / "utxos.csv").write_text(utxos_csv(report), encoding="utf-8")
        (tmp / "addresses.csv").write_text(addresses_csv(report), encoding="utf-8")
        (tmp / "verify.html").write_text(verify_instructions_page(), encoding="utf-8")
        (tmp / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")

    return publish_atomically(out, fill, list(REPORT_FILES), REPORT_FILES)


def report_command(
    height: Annotated[int, typer.Option("--height", help="Report height H.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.", show_default=False)],
    reserve_file: Annotated[
        Path | None,
        typer.Option(
            "--reserve",
            help="Reserve file: its descriptors are scanned (the country pack's when neither "
            "--reserve nor --address is given).",
        ),
    ] = None,
    address: Annotated[
        list[str] | None,
        typer.Option("--address", help="A published address or scriptPubKey hex (repeat)."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Name of the reserve (the country pack's by default)."),
    ] = None,
    esplora: EsploraOption = None,
    bitcoind: BitcoindOption = None,
    electrum: ElectrumOption = None,
    network: Annotated[str, typer.Option("--network", help="mainnet or regtest.")] = "mainnet",
    gap_limit: Annotated[
        int, typer.Option("--gap-limit", help="Unused addresses ending a scan.")
    ] = 20,
    min_confirmations: MinConfirmationsOption = 1,
    ledger_db: Annotated[
        str | None,
        typer.Option("--ledger-db", help="Ledger database URL: its custody total must agree."),
    ] = None,
    price_usd: Annotated[
        str | None, typer.Option("--price-usd", help="Stated price [USD/BTC].")
    ] = None,
    price_date: Annotated[
        str | None, typer.Option("--price-date", help="Day of the stated price, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Build a transparency report at height H: JSON + HTML + CSV, every proof checked here."""
    from hashnation.chain.base import ChainSource
    from hashnation.chain.headers import chain_params
    from hashnation.chain.scripts import resolve_script
    from hashnation.cli.reserve import _load_reserve
    from hashnation.mining.outputs import check_out_dir
    from hashnation.reserve.descriptors import ReserveDescriptors
    from hashnation.reserve.service import collect_report, scan_reserve
    from hashnation.reserve.transparency import PriceQuote, WatchedScript

    if height < 0:
        raise InputError("--height", height, "a block height >= 0")
    params = chain_params(network, "--network")
    price = _price(price_usd, price_date)
    assert price is None or isinstance(price, PriceQuote)
    check_out_dir(out)
    source = chain_source(esplora, bitcoind, electrum)
    assert isinstance(source, ChainSource)
    console = out_console()
    watched: list[WatchedScript] = []
    descriptors: dict[str, str] = {}
    if reserve_file is None and not address:
        from hashnation.cli.country import selected_pack

        pack = selected_pack()
        reserve_file = pack.reserve_file
        name = name or pack.reserve_name
    name = name or "Reserve"
    if reserve_file is not None:
        reserve = _load_reserve(reserve_file)
        assert isinstance(reserve, ReserveDescriptors)
        descriptors = {label: desc.normalized for label, desc in reserve.items()}
        watched += scan_reserve(source, reserve, gap_limit)
    for target in address or []:
        resolved = resolve_script(target)
        watched.append(WatchedScript(resolved.script.hex(), resolved.address))
    if not watched:
        raise InputError("--reserve/--address", None, "a reserve file or at least one address")

    def progress(line: str) -> None:
        console.print(Text(f"… {line}", style="dim"), soft_wrap=True)

    ledger_sat: int | None = None
    if ledger_db is not None:
        block_time = int.from_bytes(source.block_header(height)[68:72], "little")
        ledger_sat = _ledger_sat(ledger_db, block_time)
    net: Literal["mainnet", "regtest"] = "regtest" if params.name == "regtest" else "mainnet"
    report = collect_report(
        source=source,
        reserve_name=name,
        height=height,
        watched=watched,
        descriptors=descriptors,
        network=net,
        min_confirmations=min_confirmations,
        ledger_sat=ledger_sat,
        price=price,
        progress=progress,
    )
    progress("re-checking the report as a reader would")
    written = _publish(out, report)
    totals = report.totals
    console.print(
        Text(
            f"{totals.chain_sat / 1e8:,.8f} BTC in {totals.utxo_count:,} outputs at height "
            f"{report.height} ({report.block_hash}); {totals.value_usd} USD at "
            f"{totals.price_usd_per_btc} USD/BTC; ledger "
            + ("not given" if totals.ledger_sat is None else "agrees")
        ),
        soft_wrap=True,
    )
    console.print(Text(f"report: {written[0]}"), soft_wrap=True)


def _checkpoints(given: list[str] | None) -> dict[int, str] | None:
    if not given:
        return None
    trusted: dict[int, str] = {}
    for text in given:
        height, _, block_hash = text.partition(":")
        if not height.isdigit() or len(block_hash) != 64:
            raise InputError("--checkpoint", text, "HEIGHT:HASH with a 64-hex-digit block hash")
        try:
            bytes.fromhex(block_hash)
        except ValueError:
            raise InputError("--checkpoint", text, "HEIGHT:HASH with a hex block hash") from None
        trusted[int(height)] = block_hash.lower()
    return trusted


def verify_command(
    report_file: Annotated[Path, typer.Argument(metavar="REPORT.json")],
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            "--checkpoint",
            help="HEIGHT:HASH of a block you trust (repeat); default the bundled checkpoints.",
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the checks as JSON here.")
    ] = None,
) -> None:
    """Re-check a reserve transparency report offline; exit 1 if any check fails."""
    from hashnation.reserve.recheck import load_report_file, verify_report

    trusted = _checkpoints(checkpoint)
    result = verify_report(load_report_file(report_file), trusted_checkpoints=trusted)
    console = out_console()
    for check in result.checks:
        mark = Text("✓ ", style="green") if check.ok else Text("✗ ", style="bold red")
        console.print(mark + Text(f"{check.name}: {check.detail}"), soft_wrap=True)
    if json_out is not None:
        with replacing(json_out) as tmp:
            tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    verdict = "every check holds" if result.ok else "VERIFICATION FAILED"
    console.print(Text(f"{report_file}: {verdict}"), soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)


def demo_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.", show_default=False)],
    purchases: Annotated[int, typer.Option("--purchases", help="1 BTC purchases.")] = 60,
    per_block: Annotated[int, typer.Option("--per-block", help="Purchases per block.")] = 2,
    reports: Annotated[int, typer.Option("--reports", help="Reports published over time.")] = 6,
) -> None:
    """Build an example reserve on a regtest chain and publish reports over its history.

    Writes OUT/reports/report-H.json (one per published height: the history) and the
    latest report's folder in OUT/latest. Serve them with
    ``hashnation serve --reserve-report OUT/reports``.
    """
    from hashnation.mining.outputs import check_out_dir
    from hashnation.reserve.demo import demo_reserve
    from hashnation.reserve.service import collect_report, scan_reserve
    from hashnation.reserve.transparency import PriceQuote

    if isinstance(reports, bool) or reports < 1:
        raise InputError("--reports", reports, "an int >= 1")
    check_out_dir(out)
    demo = demo_reserve(purchases, per_block=per_block, spend_every=5)
    tip = demo.chain.tip_height()
    heights = sorted({max(1, round(tip * (k + 1) / reports)) for k in range(reports)})
    watched = scan_reserve(demo.chain, demo.reserve, gap_limit=5)
    price = PriceQuote(Decimal("91000.00"), "stated for the example", "2025-11-23")
    built = []
    for height in heights:
        built.append(
            collect_report(
                source=demo.chain,
                reserve_name="Example national reserve (regtest)",
                height=height,
                watched=watched,
                descriptors=demo.descriptors,
                network="regtest",
                ledger_sat=demo.held_sat[height],
                price=price,
            )
        )
    docs = {f"report-{r.height}.json": json.dumps(r.to_json_dict(), indent=1) + "\n" for r in built}

    def fill(tmp: Path) -> None:
        for name, text in docs.items():
            (tmp / name).write_text(text, encoding="utf-8")

    from hashnation.mining.outputs import publish_atomically

    publish_atomically(out / "reports", fill, list(docs), tuple(docs))
    written = _publish(out / "latest", built[-1])
    totals = built[-1].totals
    out_console().print(
        Text(
            f"{len(built)} reports (heights {heights[0]}..{heights[-1]}); latest: "
            f"{totals.chain_sat / 1e8:,.8f} BTC in {totals.utxo_count} outputs -> {written[0]}\n"
            f"serve them: hashnation serve --reserve-report {out / 'reports'}"
        ),
        soft_wrap=True,
    )
