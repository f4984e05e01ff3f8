"""The transparency report as people read it: an HTML page, CSV files and instructions.

Pure: a :class:`~hashnation.reserve.transparency.ReserveReport` in, strings out. The
page loads ``plotly.min.js`` from its own folder, so the published folder works
offline and the web layer serves the very same page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import plotly.graph_objects as go

import hashnation
from hashnation.mining.htmlkit import (
    BTC_COLOUR,
    apply_layout,
    escape,
    figure_html,
    html_page,
    html_table,
)
from hashnation.reserve.recheck import Verification
from hashnation.reserve.transparency import ReserveReport

__all__ = [
    "REPORT_FILES",
    "HistoryPoint",
    "addresses_csv",
    "history_point",
    "report_page",
    "utxos_csv",
    "verify_instructions_page",
]

REPORT_FILES = (
    "report.json",
    "report.html",
    "utxos.csv",
    "addresses.csv",
    "verify.html",
    "plotly.min.js",
)
"""Files of a published report folder."""


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """Holdings in one published report."""

    height: int
    block_time: int
    chain_sat: int
    value_usd: Decimal


def history_point(report: ReserveReport) -> HistoryPoint:
    """Return the history point of ``report``."""
    return HistoryPoint(
        report.height, report.block_time, report.totals.chain_sat, Decimal(report.totals.value_usd)
    )


def _btc(amount_sat: int) -> str:
    whole, frac = divmod(amount_sat, 100_000_000)
    return f"{whole:,}.{frac:08d}"


def _when(unix_s: int) -> str:
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


def utxos_csv(report: ReserveReport) -> str:
    """One row per unspent output: outpoint, address, amount, height, derivation."""
    scripts = {s.script_pubkey: s for s in report.scripts}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "txid",
            "vout",
            "address",
            "script_pubkey",
            "value_sat",
            "value_btc",
            "height",
            "descriptor",
            "branch",
            "index",
        ]
    )
    for utxo in report.utxos:
        owner = scripts[utxo.script_pubkey]
        writer.writerow(
            [
                utxo.txid,
                utxo.vout,
                owner.address or "",
                utxo.script_pubkey,
                utxo.value_sat,
                _btc(utxo.value_sat).replace(",", ""),
                utxo.height,
                owner.descriptor or "",
                "" if owner.branch is None else owner.branch,
                "" if owner.index is None else owner.index,
            ]
        )
    return buffer.getvalue()


def addresses_csv(report: ReserveReport) -> str:
    """One row per watched script: address, derivation, balance."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["address", "script_pubkey", "descriptor", "branch", "index", "balance_sat"])
    for s in report.scripts:
        writer.writerow(
            [
                s.address or "",
                s.script_pubkey,
                s.descriptor or "",
                "" if s.branch is None else s.branch,
                "" if s.index is None else s.index,
                s.balance_sat,
            ]
        )
    return buffer.getvalue()


def _history_figure(points: Sequence[HistoryPoint]) -> go.Figure:
    ordered = sorted(points, key=lambda p: p.height)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[datetime.fromtimestamp(p.block_time, UTC) for p in ordered],
            y=[p.chain_sat / 1e8 for p in ordered],
            customdata=[[p.height, float(p.value_usd)] for p in ordered],
            hovertemplate="height %{customdata[0]}<br>%{y:,.8f} BTC<br>"
            "%{customdata[1]:,.2f} USD<extra></extra>",
            mode="lines+markers",
            name="holdings [BTC]",
            line={"color": BTC_COLOUR, "shape": "hv"},
        )
    )
    fig.update_yaxes(title_text="holdings [BTC]", rangemode="tozero")
    return apply_layout(fig, "Holdings in each published report [BTC]")


def _arrivals_figure(report: ReserveReport) -> go.Figure:
    by_height: dict[int, int] = {}
    for utxo in report.utxos:
        by_height[utxo.height] = by_height.get(utxo.height, 0) + utxo.value_sat
    heights = sorted(by_height)
    running = 0
    ys = []
    for h in heights:
        running += by_height[h]
        ys.append(running / 1e8)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=heights,
            y=ys,
            mode="lines",
            name="outputs held now [BTC]",
            line={"color": BTC_COLOUR, "shape": "hv"},
            fill="tozeroy",
        )
    )
    fig.update_xaxes(title_text="block height of the funding transaction")
    fig.update_yaxes(title_text="cumulative [BTC]")
    return apply_layout(fig, "When the outputs held now arrived [BTC, cumulative]")


def _verification_html(verification: Verification | None) -> str:
    if verification is None:
        return ""
    rows = [("✓" if c.ok else "✗", c.name, c.detail) for c in verification.checks]
    verdict = "every check holds" if verification.ok else "SOME CHECKS FAIL"
    return (
        f'<h2>Checks re-done when this page was made</h2><p id="verdict">{escape(verdict)}. '
        "Do not rely on them: re-run them yourself (see the verifier instructions).</p>"
        + html_table(["", "check", "result"], rows, cls="checks")
    )


def report_page(
    report: ReserveReport,
    *,
    history: Sequence[HistoryPoint] = (),
    verification: Verification | None = None,
    base: str = "",
    max_rows: int = 2000,
) -> str:
    """Render the public page of a report.

    Parameters
    ----------
    report
        The report.
    history
        Points of earlier published reports (the report's own point is added).
    verification
        Checks re-done on the report, shown on the page when given.
    base
        Prefix of the links to the report's files (``""`` for files beside the page).
    max_rows
        Largest number of address rows shown; the CSV has them all.

    Returns
    -------
    str
        A complete HTML document.
    """
    totals = report.totals
    points = {p.height: p for p in history}
    points[report.height] = history_point(report)
    net = "regtest (a private test chain)" if report.network == "regtest" else "Bitcoin mainnet"
    lead = (
        f"{report.reserve} holds {_btc(totals.chain_sat)} BTC in {totals.utxo_count:,} unspent "
        f"outputs at block {report.height:,} ({_when(report.block_time)}), worth "
        f"{Decimal(totals.value_usd):,.2f} USD at {Decimal(totals.price_usd_per_btc):,.2f} "
        f"USD/BTC. Every figure here can be re-checked offline from report.json."
    )
    ledger = (
        "not given"
        if totals.ledger_sat is None
        else f"{_btc(totals.ledger_sat)} BTC (agrees with the chain)"
    )
    summary = f"""
<table class="summary">
<tr><th>Holdings</th><td class="num" id="total-btc">{_btc(totals.chain_sat)} BTC</td></tr>
<tr><th>Value</th><td class="num" id="total-usd">{Decimal(totals.value_usd):,.2f} USD</td></tr>
<tr><th>Price</th><td class="num">{escape(totals.price_usd_per_btc)} USD/BTC,
 {escape(totals.price_date)} ({escape(totals.price_source)})</td></tr>
<tr><th>Unspent outputs</th><td class="num" id="utxo-count">{totals.utxo_count:,}</td></tr>
<tr><th>Ledger figure</th><td class="num" id="ledger">{escape(ledger)}</td></tr>
<tr><th>Block height</th><td class="num" id="height">{report.height:,}</td></tr>
<tr><th>Block hash</th><td><code id="block-hash">{escape(report.block_hash)}</code></td></tr>
<tr><th>Chain</th><td>{escape(net)}; headers from the checkpoint at height
 {report.checkpoint_height:,}</td></tr>
</table>"""
    rows = [
        (
            s.address or f"script {s.script_pubkey}",
            s.descriptor or "listed",
            "" if s.index is None else f"{s.branch}/{s.index}",
            _btc(s.balance_sat),
        )
        for s in report.scripts
    ]
    shown = rows[:max_rows]
    cut = (
        f'<p class="small">First {max_rows:,} of {len(rows):,} addresses; all are in '
        f'<a href="{base}addresses.csv">addresses.csv</a>.</p>'
        if len(rows) > max_rows
        else ""
    )
    descriptors = html_table(
        ["label", "descriptor (public keys only)"],
        [(d.label, d.descriptor) for d in report.descriptors],
    )
    body = (
        summary
        + '<h2>Downloads</h2><ul id="downloads">'
        + f'<li><a href="{base}report.json">report.json</a>: the whole report (schema '
        f"{escape(report.schema_id)} v{report.schema_version})</li>"
        + f'<li><a href="{base}utxos.csv">utxos.csv</a> and '
        + f'<a href="{base}addresses.csv">addresses.csv</a></li>'
        + f'<li><a href="{base}verify.html">How to verify this report yourself</a></li></ul>'
        + "<h2>History</h2>"
        + figure_html(
            "history",
            _history_figure(list(points.values())),
            "Each point is one published report; its figures were re-checked by the verifier.",
        )
        + figure_html(
            "arrivals",
            _arrivals_figure(report),
            "The outputs held at this height, summed by the height of the block that created "
            "them. Outputs spent since arriving are not shown.",
        )
        + "<h2>Descriptors</h2>"
        + descriptors
        + '<h2>Addresses</h2><div class="scroll" id="addresses">'
        + html_table(
            ["address", "descriptor", "branch/index", "balance [BTC]"], shown, numeric_from=3
        )
        + f"</div>{cut}"
        + _verification_html(verification)
    )
    subtitle = (
        f"Transparency report at block {report.height:,} · generated {escape(report.generated_at)}"
        f" · HashNation {escape(hashnation.__version__)}"
    )
    nav = f'<a href="{base}report.json">report.json</a><a href="{base}verify.html">verify</a>'
    return html_page(f"{report.reserve}: reserve holdings", subtitle, nav, lead, body)


def verify_instructions_page(report_name: str = "report.json") -> str:
    """Return the page telling anyone how to re-check a report without trusting its publisher."""
    body = f"""
<h2>1. Install the verifier</h2>
<p>The verifier is the <code>hashnation</code> command (Python 3.11+), open source:
<code>pip install hashnation</code>, or from a copy of the repository: <code>make demo</code>
sets it up. It needs no network and no Bitcoin node.</p>
<h2>2. Run it</h2>
<pre><code>hashnation verify {escape(report_name)}</code></pre>
<p>Each check prints ✓ or ✗ and the command exits with status 1 if any fails:</p>
<ul>
<li><b>checkpoint</b>: the first header is a block you trust. Mainnet reports are compared with
 checkpoints shipped with the verifier (the genesis block and the first block of every
 difficulty period, from bitcoinj); give your own with
 <code>--checkpoint HEIGHT:HASH</code>
 (e.g. from <code>bitcoin-cli getblockhash HEIGHT</code>).</li>
<li><b>headers</b>: every header links to the previous one, carries the difficulty the consensus
 rules give and enough proof of work; the last one is the block the report names.</li>
<li><b>descriptors / addresses</b>: every address is re-derived from the published descriptor
 (public keys only) at its branch and index.</li>
<li><b>transactions</b>: every funding transaction hashes to its id, and its merkle branch leads
 to the merkle root in the header at its height.</li>
<li><b>utxos</b>: every output exists in its transaction with the stated amount and script.</li>
<li><b>sums</b>: balances per address, the total, the ledger's figure and the USD value.</li>
</ul>
<h2>3. What the report cannot prove</h2>
<p>A block header chain proves that a transaction was mined, not that its outputs are still
unspent. With your own node, check each output of <code>utxos.csv</code>:
<code>bitcoin-cli gettxout TXID VOUT</code> returns the output while it is unspent. You can also
compare the block hash at the report height: <code>bitcoin-cli getblockhash HEIGHT</code>.</p>
<h2>4. Write your own verifier</h2>
<p>The file format is documented (JSON Schema <code>reserve-report.schema.json</code> and
<code>docs/reserve-report.md</code> in the repository): headers are 80-byte block headers in hex,
merkle branches are display-order hashes, amounts are integer satoshis.</p>
"""
    return html_page(
        "Verify a reserve report yourself",
        "Offline, with no trust in the publisher",
        "",
        "A reserve report is a set of proofs. Anyone can re-check them with the open-source "
        "verifier, or with their own Bitcoin node.",
        body,
        plotly=False,
    )
