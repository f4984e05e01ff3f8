"""``hashnation reserve``: the strategic bitcoin reserve (policies, risk)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from hashnation.cli.chainopts import (
    BitcoindOption,
    ElectrumOption,
    EsploraOption,
    MinConfirmationsOption,
    chain_source,
    genesis_store,
)
from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup
from hashnation.cli.files import replacing, safe_url, write_json_atomically
from hashnation.errors import InputError

__all__ = ["app"]

app = typer.Typer(
    name="reserve",
    cls=HashNationGroup,
    help="Strategic bitcoin reserve: accumulation policies and reserve risk.",
    no_args_is_help=True,
)


def _day(text: str, option: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InputError(option, text, "a day as YYYY-MM-DD") from None


@app.command("backtest")
def backtest_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.", show_default=False)],
    policy: Annotated[
        str, typer.Option("--policy", help="fixed_btc, fixed_usd, value_averaging or mining.")
    ] = "fixed_btc",
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")] = "2022-11-17",
    end: Annotated[str, typer.Option("--end", help="Last day, YYYY-MM-DD.")] = "2025-12-31",
    btc_per_day: Annotated[float, typer.Option("--btc-per-day", help="[BTC/day]")] = 1.0,
    usd_per_day: Annotated[float, typer.Option("--usd-per-day", help="[USD/day]")] = 0.0,
    no_purchases_from: Annotated[
        str | None,
        typer.Option("--no-purchases-from", help="IMF-style stop on purchases, YYYY-MM-DD."),
    ] = None,
    financing_need_usd: Annotated[
        float,
        typer.Option("--financing-need-usd", help="External financing need to compare with."),
    ] = 100e9,
) -> None:
    """Backtest an accumulation policy on bundled prices; write report.html and CSV/JSON."""
    import plotly.offline

    from hashnation.mining.outputs import check_out_dir, publish_atomically
    from hashnation.reserve.policy import Policy, backtest
    from hashnation.reserve.report import backtest_html
    from hashnation.reserve.risk import reserve_risk

    first, last = _day(start, "--start"), _day(end, "--end")
    stop = _day(no_purchases_from, "--no-purchases-from") if no_purchases_from else None
    spec = Policy(
        policy,  # type: ignore[arg-type]  # validated by Policy
        btc_per_day=btc_per_day,
        usd_per_day=usd_per_day,
        no_purchases_from=stop,
    )
    check_out_dir(out)
    table = backtest(spec, first, last)
    final = table.iloc[-1]
    risk = reserve_risk(
        float(final["holdings_sat"]) / 1e8,
        float(final["price_usd_per_btc"]),
        financing_need_usd=financing_need_usd,
    )
    text = f"{policy} ({btc_per_day:g} BTC/day, {usd_per_day:g} USD/day)"
    if stop:
        text += f", no purchases from {stop}"
    html = backtest_html(table, f"Reserve backtest: {policy}", text, risk)
    held_sat = int(final["holdings_sat"])
    summary: dict[str, object] = {
        "policy": policy,
        "start": str(first),
        "end": str(last),
        "holdings_sat": held_sat,
        "cost_basis_usd": float(final["cost_basis_usd"]),
        "value_usd": float(final["value_usd"]),
        "var_usd": risk.var_usd,
        "share_of_financing_need_pu": risk.share_of_financing_need_pu,
    }
    names = ["report.html", "plotly.min.js", "backtest.csv", "summary.json"]

    def fill(tmp: Path) -> None:
        (tmp / "report.html").write_text(html, encoding="utf-8")
        (tmp / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        table.to_csv(tmp / "backtest.csv", lineterminator="\n")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    written = publish_atomically(out, fill, names, tuple(names))
    console = out_console()
    console.print(
        Text(
            f"{held_sat / 1e8:,.2f} BTC on {last}: value USD "
            f"{float(final['value_usd']):,.0f}, cost USD {float(final['cost_basis_usd']):,.0f}, "
            f"30-day VaR 95 % USD {risk.var_usd:,.0f}"
        ),
        soft_wrap=True,
    )
    console.print(Text(f"report: {written[0]}"), soft_wrap=True)


descriptor_app = typer.Typer(
    name="descriptor",
    cls=HashNationGroup,
    help="The reserve's watch-only descriptors, kept in a JSON reserve file.",
    no_args_is_help=True,
)
app.add_typer(descriptor_app, name="descriptor")

ReserveFile = Annotated[
    Path, typer.Argument(metavar="RESERVE.json", help="Reserve file (created by 'descriptor add').")
]


PackReserveFile = Annotated[
    Path | None,
    typer.Argument(
        metavar="[RESERVE.json]",
        help="Reserve file; the country pack's when omitted (hashnation --country X ...).",
        show_default=False,
    ),
]


def _pack_reserve_file(path: Path | None) -> Path:
    """Return the reserve file given, or the selected country pack's."""
    if path is not None:
        return path
    from hashnation.cli.country import selected_pack

    pack = selected_pack()
    if pack.reserve_file is None:
        raise InputError("RESERVE.json", None, f"a reserve file (the {pack.slug} pack has none)")
    return pack.reserve_file


def _load_reserve(path: Path, *, missing_ok: bool = False) -> object:
    from hashnation.reserve.descriptors import ReserveDescriptors

    if not path.exists():
        if missing_ok:
            return ReserveDescriptors()
        raise InputError("RESERVE.json", str(path), "an existing reserve file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            "RESERVE.json", str(path), f"a readable JSON reserve file ({exc})"
        ) from None
    return ReserveDescriptors.from_dict(data)


def _save_reserve(path: Path, reserve: object) -> None:
    from hashnation.reserve.descriptors import ReserveDescriptors

    assert isinstance(reserve, ReserveDescriptors)
    write_json_atomically(path, reserve.to_dict())


@descriptor_app.command("add")
def descriptor_add(
    reserve_file: ReserveFile,
    label: Annotated[str, typer.Argument(help="Name of the wallet in the reserve.")],
    descriptor: Annotated[str, typer.Argument(help="Output descriptor with public keys only.")],
) -> None:
    """Add a watch-only descriptor; private key material is refused and never stored."""
    from hashnation.reserve.descriptors import ReserveDescriptors

    reserve = _load_reserve(reserve_file, missing_ok=True)
    assert isinstance(reserve, ReserveDescriptors)
    added = reserve.add(label, descriptor)
    _save_reserve(reserve_file, reserve)
    out_console().print(Text(f"added {label}: {added.normalized}"), soft_wrap=True)


@descriptor_app.command("list")
def descriptor_list(reserve_file: PackReserveFile = None) -> None:
    """List the reserve's descriptors with their kind and network."""
    from hashnation.reserve.descriptors import ReserveDescriptors

    reserve = _load_reserve(_pack_reserve_file(reserve_file))
    assert isinstance(reserve, ReserveDescriptors)
    for label, desc in reserve.items():  # tab-separated, for scripts
        typer.echo(f"{label}\t{desc.kind}\t{desc.network}\t{desc.normalized}")


@app.command("addresses")
def addresses_command(
    reserve_file: PackReserveFile = None,
    *,
    label: Annotated[str, typer.Option("--label", help="Descriptor label.")],
    count: Annotated[int, typer.Option("--count", help="How many addresses.")] = 20,
    start: Annotated[int, typer.Option("--start", help="First index.")] = 0,
    change: Annotated[bool, typer.Option("--change", help="Change branch (multipath).")] = False,
) -> None:
    """Derive addresses of one descriptor (index, address, scriptPubKey)."""
    from hashnation.reserve.descriptors import ReserveDescriptors, derive_addresses

    reserve = _load_reserve(_pack_reserve_file(reserve_file))
    assert isinstance(reserve, ReserveDescriptors)
    if label not in reserve:
        raise InputError(
            "--label", label, "one of: " + ", ".join(reserve) if len(reserve) else "a label"
        )
    for item in derive_addresses(reserve[label], start, count, change=change):
        typer.echo(f"{item.index}\t{item.address}\t{item.script_pubkey_hex}")


@app.command("verify")
def verify_command(
    height: Annotated[int, typer.Option("--height", help="Audit height H.")],
    script: Annotated[
        list[str] | None, typer.Option("--script", help="scriptPubKey hex or address (repeat).")
    ] = None,
    reserve_file: Annotated[
        Path | None, typer.Option("--reserve", help="Reserve file: scan its descriptors.")
    ] = None,
    gap_limit: Annotated[int, typer.Option("--gap-limit", help="Unused addresses to stop.")] = 20,
    esplora: EsploraOption = None,
    bitcoind: BitcoindOption = None,
    electrum: ElectrumOption = None,
    min_confirmations: MinConfirmationsOption = 1,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the verified holdings as JSON here.")
    ] = None,
) -> None:
    """Prove holdings at a height: headers (links, PoW, retargets) and merkle inclusion, here."""
    from hashnation.chain.holdings import sync_headers, utxos_at
    from hashnation.reserve.descriptors import ReserveDescriptors, scan_with_gap_limit

    if height < 0:
        raise InputError("--height", height, "a block height >= 0")
    source = chain_source(esplora, bitcoind, electrum)
    targets = list(script or [])
    if reserve_file is not None:
        reserve = _load_reserve(reserve_file)
        assert isinstance(reserve, ReserveDescriptors)
        for _, desc in reserve.items():
            used = scan_with_gap_limit(
                desc,
                lambda address: bool(source.address_history(address)),  # type: ignore[attr-defined]
                gap_limit,
            )
            targets += [a.address for a in used]
    if not targets:
        raise InputError("--script/--reserve", None, "at least one script, address or descriptor")
    store = genesis_store()
    sync_headers(source, store, height)  # type: ignore[arg-type]
    holdings = utxos_at(source, targets, height, store, min_confirmations)  # type: ignore[arg-type]
    for owner, sat in holdings.balances_sat.items():
        typer.echo(f"{owner}\t{sat}")
    typer.echo(
        f"total\t{holdings.total_sat}\tsat at height {holdings.height} "
        f"({holdings.block_hash}); {len(holdings.utxos)} UTXOs, every header and merkle proof "
        "checked here"
    )
    if json_out is not None:
        doc = {
            "height": holdings.height,
            "block_hash": holdings.block_hash,
            "min_confirmations": holdings.min_confirmations,
            "balances_sat": holdings.balances_sat,
            "total_sat": holdings.total_sat,
            "utxos": [
                {
                    "owner": u.owner,
                    "txid": u.txid,
                    "vout": u.vout,
                    "value_sat": u.value_sat,
                    "height": u.height,
                    "confirmations": u.confirmations,
                    "merkle_index": u.proof.index,
                    "merkle_branch": [h.hex() for h in u.proof.branch],
                }
                for u in holdings.utxos
            ],
        }
        write_json_atomically(json_out, doc)


ledger_app = typer.Typer(
    name="ledger",
    cls=HashNationGroup,
    help="The reserve's double-entry ledger (SQLite by default, PostgreSQL by URL).",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        help="Database URL: sqlite:///reserve.db (default) or postgresql+psycopg://user@host/db.",
    ),
]

from hashnation.cli import custody  # noqa: E402  (after _load_reserve, which it uses)

app.add_typer(custody.app, name="psbt")


@ledger_app.command("init")
def ledger_init(db: DbOption = "sqlite:///reserve.db") -> None:
    """Create or upgrade the ledger schema (Alembic migrations)."""
    from hashnation.store.db import upgrade

    upgrade(db)
    typer.echo(f"ledger schema at head: {safe_url(db)}")


@ledger_app.command("account")
def ledger_account(
    name: Annotated[str, typer.Argument(help="Unique account name.")],
    kind: Annotated[
        str,
        typer.Option(
            "--type", help="custody, government, counterparty, income, expense or equity."
        ),
    ],
    reference: Annotated[
        str | None, typer.Option("--reference", help="Address, wallet id or counterparty.")
    ] = None,
    db: DbOption = "sqlite:///reserve.db",
) -> None:
    """Add an account (a custody address, a government wallet, a counterparty...)."""
    from hashnation.reserve.ledger import add_account
    from hashnation.store.db import session_scope

    with session_scope(db) as session:
        account = add_account(session, name, kind, reference=reference)
        typer.echo(f"account {account.id}: {name} ({kind})")


@ledger_app.command("import")
def ledger_import(
    csv_file: Annotated[Path, typer.Argument(metavar="ENTRIES.csv")],
    db: DbOption = "sqlite:///reserve.db",
) -> None:
    """Import journal entries from CSV in one transaction: all of them or none."""
    from hashnation.reserve.ledger import import_csv
    from hashnation.store.db import session_scope

    if not csv_file.is_file():
        raise InputError("ENTRIES.csv", str(csv_file), "an existing CSV file")
    with session_scope(db) as session:
        result = import_csv(session, csv_file)
    typer.echo(f"imported {result.entries} entries ({result.postings} postings)")


@ledger_app.command("export")
def ledger_export(
    csv_file: Annotated[Path, typer.Argument(metavar="ENTRIES.csv")],
    db: DbOption = "sqlite:///reserve.db",
) -> None:
    """Export every journal entry to CSV (one row per posting, units in the column names)."""
    from hashnation.reserve.ledger import export_csv
    from hashnation.store.db import session_scope

    with replacing(csv_file) as tmp, session_scope(db) as session:
        count = export_csv(session, tmp)
    typer.echo(f"exported {count} entries to {csv_file}")


@ledger_app.command("report")
def ledger_report(
    at: Annotated[str, typer.Option("--at", help="Valuation day, YYYY-MM-DD.")],
    method: Annotated[str, typer.Option("--method", help="fifo or average.")] = "fifo",
    price: Annotated[
        float | None,
        typer.Option("--price-usd-per-btc", help="Price to value at; bundled price by default."),
    ] = None,
    db: DbOption = "sqlite:///reserve.db",
) -> None:
    """Report holdings, cost basis, mark-to-market and inflows by kind."""
    from hashnation.reserve.ledger import inflows_by_kind, mark_to_market
    from hashnation.store.db import session_scope

    day = _day(at, "--at")
    if method not in ("fifo", "average"):
        raise InputError("--method", method, "fifo or average")
    with session_scope(db) as session:
        value = mark_to_market(
            session,
            day,
            method=method,  # type: ignore[arg-type]
            price_usd_per_btc=None if price is None else str(price),
        )
        flows = inflows_by_kind(session, None, None)
    typer.echo(
        f"holdings\t{value.held_sat}\tsat at {value.at.isoformat()}\n"
        f"price_usd_per_btc\t{value.price_usd_per_btc}\n"
        f"market_value_usd\t{value.market_value_usd}\n"
        f"basis_usd ({method})\t{value.basis_usd}\n"
        f"unrealised_pnl_usd\t{value.unrealised_pnl_usd}\n"
        f"realised_pnl_usd\t{value.realised_pnl_usd}"
    )
    for kind, flow in flows.items():
        typer.echo(f"inflow\t{kind}\t{flow.entries} entries\t{flow.amount_sat} sat")


@ledger_app.command("mining")
def ledger_mining(
    annual_csv: Annotated[
        Path, typer.Argument(metavar="ANNUAL.csv", help="annual.csv of 'hashnation mining run'.")
    ],
    custody: Annotated[str, typer.Option("--custody", help="Custody account receiving BTC.")],
    income: Annotated[str, typer.Option("--income", help="Income account of the programme.")],
    site: Annotated[str, typer.Option("--site", help="Mining site or programme id.")],
    db: DbOption = "sqlite:///reserve.db",
) -> None:
    """Record each programme year's mined BTC (a mining run's output) as mining inflows."""
    from decimal import Decimal

    import pandas as pd

    from hashnation.data.loaders import read_csv_checked
    from hashnation.reserve.ledger import record_mining
    from hashnation.store.db import session_scope

    table = read_csv_checked(
        annual_csv,
        {
            "program_year": "programme year 1..N",
            "start": "first hour of the year (ISO 8601, UTC)",
            "btc_mined": "BTC mined in the year",
            "revenue_usd": "value of that BTC [USD]",
        },
        annual_csv.name,
        numeric=["program_year", "btc_mined", "revenue_usd"],
    )
    count = 0
    with session_scope(db) as session:
        for row in table.to_dict(orient="records"):
            sat = round(float(str(row["btc_mined"])) * 100_000_000)
            if sat <= 0:
                continue
            record_mining(
                session,
                occurred_at=pd.Timestamp(str(row["start"])).to_pydatetime(),
                custody=custody,
                income=income,
                amount_sat=sat,
                value_usd=Decimal(f"{float(str(row['revenue_usd'])):.2f}"),
                site=site,
                period=f"programme year {int(float(str(row['program_year'])))}",
            )
            count += 1
    typer.echo(f"recorded {count} mining inflows from {annual_csv.name}")
