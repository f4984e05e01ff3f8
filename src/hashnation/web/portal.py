"""The public portal: one home page per country for the whole programme.

Citizens and journalists find the programme in one place, in the country's language
(texts from the pack's ``strings.toml``, :mod:`hashnation.web.portal_text`):

``GET /``
    The country's home page: a section each for mining (headline figures of the
    latest scenario report and a per-year table), the strategic reserve (holdings
    and checks of the published transparency report, or the watch-only descriptors
    when none is published), the register of licensed firms (counts by licence type,
    latest decisions, a search form), public records (a lookup form and the latest
    anchoring batches) and the investor visa (its terms, or that there is none).
``GET /mining/``
    The mining dashboard: every headline figure, the full per-year table and the
    report's notes, as a light page.
``GET /mining/report/`` and ``GET /mining/report/{name}``
    The full interactive report (``report.html``, which loads ``plotly.min.js``,
    about 5 MB) and the data files of the report folder, served read-only from the
    folder: only those file names, only directly in it.
``GET /countries/``
    Every installed country pack: currency, regulator and programmes.

The portal's pages are rendered on the server, carry no script, share the register's
style sheet and Content-Security-Policy (:mod:`hashnation.web.register`), open with a
skip link to the main content and keep under 1 MB with everything they load; the
heavy interactive pages they link to are labelled with their size.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import hashnation
from hashnation.errors import HashNationError, InputError
from hashnation.mining.htmlkit import escape
from hashnation.web.portal_text import Texts
from hashnation.web.register import STYLE, html_response, when

if TYPE_CHECKING:
    from hashnation.countries import CountryPack, Currency
    from hashnation.records.service import RecordsRegistry
    from hashnation.registry.service import Registry
    from hashnation.web.app import WebSettings
    from hashnation.web.reserve import PublishedReports

__all__ = [
    "HEAVY_BYTES",
    "MINING_FILES",
    "REPORT_CSP",
    "MiningFolder",
    "MiningReport",
    "Portal",
    "countries_page",
    "home_page",
    "mining_page",
    "portal_router",
]

HEAVY_BYTES: Final = 1_000_000
"""Page weight above which a link is labelled as a large download [bytes]."""

MINING_FILES: Final[Mapping[str, str]] = {
    "report.html": "text/html; charset=utf-8",
    "plotly.min.js": "application/javascript",
    "summary.json": "application/json",
    "annual.json": "application/json",
    "annual.csv": "text/csv; charset=utf-8",
}
"""Files of a mining report folder the portal serves, with their media types."""

REPORT_CSP: Final = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""Policy of the interactive mining report: its inline figures and its own Plotly only."""

_REPORT_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": REPORT_CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_CURRENT: Final = ' aria-current="page"'
_HEAVY: Final = ' class="heavy"'

_LATEST: Final = 5
"""Latest decisions and anchoring batches shown on the home page [rows]."""

_SHOWN_ADDRESSES: Final = 3
"""Receiving addresses shown per reserve descriptor when no report is published."""

_REGISTER_STATUSES: Final = (
    "licensed",
    "suspended",
    "revoked",
    "revocation_appealed",
    "revocation_upheld",
    "surrendered",
)


# ---------------------------------------------------------------- mining report


@dataclass(frozen=True, slots=True)
class MiningReport:
    """What the portal shows of a mining report folder.

    Attributes
    ----------
    summary
        ``summary.json``: the scenario's headline figures.
    annual
        ``annual.json``: one object per programme year.
    heavy_bytes
        ``report.html`` and ``plotly.min.js`` together [bytes]; 0 when the folder
        has no ``report.html``.
    """

    summary: Mapping[str, Any]
    annual: tuple[Mapping[str, Any], ...]
    heavy_bytes: int


def _read_json(path: Path, field_name: str = "mining_report") -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(field_name, str(path), f"a readable JSON file ({exc})") from None


class MiningFolder:
    """A folder written by ``hashnation mining run``, re-read when its files change.

    Parameters
    ----------
    path
        The folder; it must hold ``summary.json`` (``annual.json`` and
        ``report.html`` are optional).

    Raises
    ------
    InputError
        If the folder has no ``summary.json``.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not (self.path / "summary.json").is_file():
            raise InputError(
                "mining_report", str(self.path), "a folder written by hashnation mining run"
            )
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[tuple[str, float, int], ...], MiningReport] | None = None

    def _stamp(self) -> tuple[tuple[str, float, int], ...]:
        found = []
        for name in ("summary.json", "annual.json", "report.html", "plotly.min.js"):
            path = self.path / name
            if path.is_file():
                info = path.stat()
                found.append((name, info.st_mtime, info.st_size))
        return tuple(found)

    def get(self) -> MiningReport:
        """Return the report, re-reading its files if one changed.

        Raises
        ------
        InputError
            If ``summary.json`` is missing or is not a JSON object, or ``annual.json``
            is not a list of objects.
        """
        stamp = self._stamp()
        with self._lock:
            if self._loaded is not None and self._loaded[0] == stamp:
                return self._loaded[1]
            summary = _read_json(self.path / "summary.json")
            if not isinstance(summary, dict):
                raise InputError("mining_report", "summary.json", "a JSON object")
            annual: Any = []
            if (self.path / "annual.json").is_file():
                annual = _read_json(self.path / "annual.json")
            if not isinstance(annual, list) or not all(isinstance(r, dict) for r in annual):
                raise InputError("mining_report", "annual.json", "a JSON list of objects")
            sizes = {name: size for name, _, size in stamp}
            heavy = sizes.get("report.html", 0) + sizes.get("plotly.min.js", 0)
            report = MiningReport(summary, tuple(annual), heavy if "report.html" in sizes else 0)
            self._loaded = (stamp, report)
            return report

    def file(self, name: str) -> Path | None:
        """Find the file ``name`` of the folder; None when it may not be served.

        Only the names of :data:`MINING_FILES`, as plain files directly in the folder
        (a link leading out of it is refused), are served.
        """
        if name not in MINING_FILES:
            return None
        path = self.path / name
        try:
            resolved = path.resolve(strict=True)
        except OSError:
            return None
        if resolved.parent != self.path.resolve() or not resolved.is_file():
            return None
        return resolved


# ---------------------------------------------------------------- portal state


@dataclass(frozen=True, slots=True)
class _Descriptor:
    label: str
    text: str
    addresses: tuple[str, ...]


@dataclass(slots=True)
class Portal:
    """Everything the portal's pages read.

    Parameters
    ----------
    pack
        The country pack.
    mining
        The mining report folder, or None.
    reserve
        The published reserve reports, or None.
    registry
        The regulator's registry (register and visa pages served), or None.
    records
        The public records registry, or None.
    """

    pack: CountryPack
    mining: MiningFolder | None = None
    reserve: PublishedReports | None = None
    registry: Registry | None = None
    records: RecordsRegistry | None = None
    texts: Texts = field(init=False)
    _descriptors: tuple[_Descriptor, ...] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.texts = Texts(self.pack.language, self.pack.strings)

    def descriptors(self) -> tuple[_Descriptor, ...]:
        """Return the reserve's watch-only descriptors and their first receiving addresses."""
        if self._descriptors is None:
            self._descriptors = _load_descriptors(self.pack.reserve_file)
        return self._descriptors


def _load_descriptors(path: Path | None) -> tuple[_Descriptor, ...]:
    if path is None:
        return ()
    from hashnation.reserve.descriptors import ReserveDescriptors, derive_addresses

    reserve = ReserveDescriptors.from_dict(_read_json(path, "reserve.descriptors"))
    found = []
    for label, desc in reserve.items():
        count = _SHOWN_ADDRESSES if desc.is_ranged else 1
        addresses = tuple(a.address for a in derive_addresses(desc, 0, count))
        found.append(_Descriptor(label, desc.normalized, addresses))
    return tuple(found)


# ---------------------------------------------------------------- page parts


def _portal_page(portal: Portal, title: str, body: str, *, current: str, lead: str = "") -> str:
    """Assemble a portal page: skip link, navigation, main content, footer."""
    t = portal.texts
    links = [
        ("/", "portal.nav.home", "home"),
        ("/mining/", "portal.nav.mining", "mining"),
        ("/#reserve", "portal.nav.reserve", "reserve"),
    ]
    if portal.registry is not None:
        links.append(("/register/", "portal.nav.register", "register"))
    if portal.records is not None:
        links.append(("/records/", "portal.nav.records", "records"))
    if portal.registry is not None and portal.pack.visa is not None:
        links.append(("/visa/", "portal.nav.visa", "visa"))
    links.append(("/countries/", "portal.nav.countries", "countries"))
    nav = "".join(
        f'<a href="{href}"{_CURRENT if key == current else ""}>{escape(t(text))}</a>'
        for href, text, key in links
    )
    currency = portal.pack.currency
    footer = [t("portal.footer.authority", authority=portal.pack.authority)]
    if currency.code != "USD":
        footer.append(
            t(
                "portal.footer.rate",
                currency=currency.code,
                rate=t.num(currency.per_usd, 2),
                source=currency.source,
            )
        )
    footer.append(t("portal.footer.software", version=hashnation.__version__))
    lead_html = f'<p class="lead">{escape(lead)}</p>' if lead else ""
    return f"""<!DOCTYPE html>
<html lang="{escape(portal.pack.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="data:,">
<style>{STYLE}</style>
</head>
<body>
<a class="skip" href="#main">{escape(t("portal.skip"))}</a>
<header class="site portal"><nav aria-label="{escape(t("portal.nav.label"))}">{nav}</nav></header>
<main id="main" tabindex="-1">
<h1>{escape(title)}</h1>
{lead_html}
{body}
</main>
<footer class="site">{"".join(f"<p>{escape(line)}</p>" for line in footer)}</footer>
</body>
</html>
"""


def _data(value: object, shown: str) -> str:
    """Wrap a figure as shown with its exact value in ``<data value>``, for machines."""
    return f'<data value="{escape(value)}">{escape(shown)}</data>'


def _figures(items: Iterable[tuple[str, str, str]], *, ident: str) -> str:
    """Render a ``<dl>`` of figures: (term, value HTML, small note HTML)."""
    parts = []
    for term, value, note in items:
        small = f'<span class="small">{note}</span>' if note else ""
        parts.append(f"<div><dt>{escape(term)}</dt><dd>{value}{small}</dd></div>")
    return f'<dl class="figures" id="{escape(ident)}">{"".join(parts)}</dl>'


def _table(
    caption: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    ident: str,
    numeric_from: int = 99,
    row_headers: bool = False,
) -> str:
    """Render a captioned table; cells are HTML escaped by the caller.

    The first cell of each row is a row header when ``row_headers``; columns from
    ``numeric_from`` on are right-aligned.
    """
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            num = ' class="num"' if i >= numeric_from else ""
            if i == 0 and row_headers:
                cells.append(f'<th scope="row"{num}>{cell}</th>')
            else:
                cells.append(f"<td{num}>{cell}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table id="{escape(ident)}"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _money(t: Texts, currency: Currency, usd: float | Decimal | None) -> tuple[str, str]:
    """Write an amount in the pack's currency, and in US dollars as a note (none for USD)."""
    if usd is None:
        return "-", ""
    in_usd = f"USD {t.compact(usd)}"
    if currency.code == "USD":
        return in_usd, ""
    return f"{currency.symbol} {t.compact(currency.from_usd(usd))}", in_usd


def _day(value: object) -> str:
    text = str(value or "")
    return text[:10] if len(text) >= 10 else "-"


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# ---------------------------------------------------------------- mining section


def _mining_figures(portal: Portal, report: MiningReport, *, full: bool) -> str:
    t = portal.texts
    s = report.summary
    currency = portal.pack.currency

    def get(key: str) -> float | None:
        return _float(s.get(key))

    def figure(term: str, key: str, shown: str, note: str = "") -> tuple[str, str, str]:
        return t(term), _data(s.get(key), shown), escape(note)

    def money(term: str, key: str) -> tuple[str, str, str]:
        return figure(term, key, *_money(t, currency, get(key)))

    energy = get("energy_mwh")
    if energy is not None and energy >= 1_000_000:
        energy_text = f"{t.num(energy / 1_000_000, 2)} TWh"
    elif energy is not None and energy >= 10_000:
        energy_text = f"{t.num(energy / 1000, 1)} GWh"
    else:
        energy_text = f"{t.num(energy, 0)} MWh"
    tariff = get("tariff_usd_per_mwh")
    tariff_text, tariff_note = "-", ""
    if tariff is not None:
        per_kwh = currency.from_usd(tariff) / 1000
        symbol = currency.symbol if currency.code != "USD" else "USD"
        local = f"{symbol} {t.num(per_kwh, 2 if per_kwh >= 1 else 3)}"
        tariff_text = t("portal.mining.per_kwh", amount=local)
        tariff_note = t("portal.mining.per_mwh", amount=f"USD {t.num(tariff, 2)}")
    halving = s.get("next_halving_height")
    halving_text, halving_note = "-", ""
    if isinstance(halving, int):
        halving_text = t("portal.mining.halving_block", height=t.num(halving))
        halving_note = t("portal.mining.halving_date", date=_day(s.get("next_halving_at")))
    items = [
        figure("portal.mining.btc_mined", "btc_mined", f"{t.num(get('btc_mined'), 2)} BTC"),
        figure("portal.mining.energy", "energy_mwh", energy_text),
        figure(
            "portal.mining.curtailed", "curtailed_share_pu", t.percent(get("curtailed_share_pu"))
        ),
        figure(
            "portal.mining.emissions", "emissions_tco2", f"{t.num(get('emissions_tco2'), 0)} tCO₂"
        ),
        figure("portal.mining.coal_share", "coal_share_pu", t.percent(get("coal_share_pu"))),
        money("portal.mining.revenue", "revenue_usd"),
        money("portal.mining.cost_per_btc", "cost_usd_per_btc"),
        figure("portal.mining.tariff", "tariff_usd_per_mwh", tariff_text, tariff_note),
        money("portal.mining.breakeven", "breakeven_price_usd_per_btc"),
        figure("portal.mining.halving", "next_halving_height", halving_text, halving_note),
    ]
    if full:
        payback = get("payback_years")
        payback_text = (
            t("portal.mining.payback_years", years=t.num(payback, 1))
            if payback is not None
            else t("portal.mining.payback_never")
        )
        hashrate = get("fleet_hashrate_ths")
        items += [
            money("portal.mining.start_price", "start_price_usd_per_btc"),
            money("portal.mining.npv", "npv_usd"),
            figure("portal.mining.payback", "payback_years", payback_text),
            money("portal.mining.capex", "capex_usd"),
            money("portal.mining.opex", "opex_usd"),
            figure(
                "portal.mining.fleet",
                "asic_units",
                t("portal.mining.fleet_units", units=t.num(get("asic_units"))),
                f"{t.num(None if hashrate is None else hashrate / 1000, 0)} PH/s",
            ),
        ]
    return _figures(items, ident="mining-all-figures" if full else "mining-figures")


def _annual_table(portal: Portal, report: MiningReport, *, full: bool) -> str:
    t = portal.texts
    currency = portal.pack.currency
    headers = [
        t("portal.mining.col.year"),
        t("portal.mining.col.start"),
        t("portal.mining.col.btc"),
        t("portal.mining.col.energy"),
    ]
    if full:
        headers.append(t("portal.mining.col.curtailed"))
    headers.append(t("portal.mining.col.revenue", currency=currency.code))
    if full:
        headers += [t("portal.mining.col.price"), t("portal.mining.col.cost")]
    headers.append(t("portal.mining.col.emissions"))
    rows = []
    for year in report.annual:
        revenue = _float(year.get("revenue_usd"))
        local = None if revenue is None else currency.from_usd(revenue)
        cells = [
            escape(year.get("program_year", "-")),
            f'<span class="nw">{escape(_day(year.get("start")))}</span>',
            _data(year.get("btc_mined"), t.num(_float(year.get("btc_mined")), 2)),
            _data(year.get("energy_mwh"), t.num(_float(year.get("energy_mwh")), 0)),
        ]
        if full:
            cells.append(
                _data(year.get("curtailed_mwh"), t.num(_float(year.get("curtailed_mwh")), 0))
            )
        cells.append(_data(year.get("revenue_usd"), t.num(local, 0)))
        if full:
            cells += [
                _data(
                    year.get("price_usd_per_btc"), t.num(_float(year.get("price_usd_per_btc")), 0)
                ),
                _data(year.get("cost_usd_per_btc"), t.num(_float(year.get("cost_usd_per_btc")), 0)),
            ]
        cells.append(
            _data(year.get("emissions_tco2"), t.num(_float(year.get("emissions_tco2")), 0))
        )
        rows.append(cells)
    return _table(
        t("portal.mining.annual_caption"),
        headers,
        rows,
        ident="mining-annual" if not full else "mining-annual-full",
        numeric_from=2,
        row_headers=True,
    )


def _mining_links(portal: Portal, report: MiningReport, *, dashboard: bool) -> str:
    t = portal.texts
    items = []
    if dashboard:
        items.append(f'<a href="/mining/">{escape(t("portal.mining.dashboard_link"))}</a>')
    if report.heavy_bytes:
        items.append(
            f'<a href="/mining/report/" class="heavy" id="mining-report-link">'
            f"{escape(t('portal.mining.report_link'))} "
            f'<span class="small">({escape(t.size(report.heavy_bytes))})</span></a>'
        )
    if not dashboard and portal.mining is not None:
        for name in ("summary.json", "annual.json", "annual.csv"):
            path = portal.mining.file(name)
            if path is not None:
                size = escape(t.size(path.stat().st_size))
                items.append(
                    f'<a href="/mining/report/{name}" download><code>{name}</code></a> '
                    f'<span class="small">({size})</span>'
                )
    return '<ul class="links">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _mining_missing(portal: Portal) -> str:
    t = portal.texts
    slug = escape(portal.pack.slug)
    command = f"<code>hashnation --country {slug} mining run --out DIR</code>"
    serve = f"<code>hashnation --country {slug} serve --mining-report DIR</code>"
    howto = escape(t("portal.mining.howto", command="\0c", serve="\0s"))
    howto = howto.replace("\0c", command).replace("\0s", serve)
    return f'<p class="muted" id="mining-none">{escape(t("portal.mining.none"))}</p><p>{howto}</p>'


def _mining_intro(portal: Portal, report: MiningReport) -> str:
    t = portal.texts
    s = report.summary
    return t(
        "portal.mining.intro",
        scenario=s.get("scenario", "-"),
        power=t.num(_float(s.get("site_power_mw")), 0),
        years=s.get("years", "-"),
        start=_day(s.get("start")),
    )


def _mining_section(portal: Portal) -> str:
    t = portal.texts
    body = ""
    if portal.mining is None:
        body = _mining_missing(portal)
    else:
        try:
            report = portal.mining.get()
        except InputError as exc:
            body = f'<p class="error" role="alert">{escape(exc)}</p>'
        else:
            body = (
                f"<p>{escape(_mining_intro(portal, report))}</p>"
                f"<h3>{escape(t('portal.mining.figures'))}</h3>"
                + _mining_figures(portal, report, full=False)
                + _annual_table(portal, report, full=False)
                + _mining_links(portal, report, dashboard=True)
            )
    return _section("mining", t("portal.mining.heading"), body)


def _section(ident: str, heading: str, body: str) -> str:
    return (
        f'<section id="{ident}" aria-labelledby="{ident}-h">'
        f'<h2 id="{ident}-h">{escape(heading)}</h2>{body}</section>'
    )


# ---------------------------------------------------------------- reserve section


def _btc(t: Texts, sat: int) -> str:
    """Write an amount in BTC to the satoshi in the texts' number format (``1.234,56789012``)."""
    whole, frac = divmod(sat, 100_000_000)
    return f"{t.num(whole)}{t.separators[0]}{frac:08d}"


def _reserve_section(portal: Portal) -> str:
    t = portal.texts
    pack = portal.pack
    body = f"<p>{escape(t('portal.reserve.intro', reserve=pack.reserve_name))}</p>"
    if portal.reserve is not None:
        try:
            loaded = portal.reserve.get()
        except InputError as exc:
            body += f'<p class="error" role="alert">{escape(exc)}</p>'
        else:
            body += _reserve_report(portal, loaded)
            return _section("reserve", t("portal.reserve.heading"), body)
    body += f'<p class="muted" id="reserve-none">{escape(t("portal.reserve.none"))}</p>'
    descriptors = portal.descriptors()
    if not descriptors:
        body += f"<p>{escape(t('portal.reserve.no_descriptors'))}</p>"
    else:
        body += _table(
            t("portal.reserve.descriptors_caption"),
            [
                t("portal.reserve.col.label"),
                t("portal.reserve.col.descriptor"),
                t("portal.reserve.col.address"),
            ],
            (
                [
                    escape(d.label),
                    f'<code class="wrap">{escape(d.text)}</code>',
                    "<br>".join(f'<code class="wrap">{escape(a)}</code>' for a in d.addresses),
                ]
                for d in descriptors
            ),
            ident="reserve-descriptors",
            row_headers=True,
        )
    return _section("reserve", t("portal.reserve.heading"), body)


def _reserve_report(portal: Portal, loaded: Any) -> str:
    t = portal.texts
    report = loaded.current
    totals = report.totals
    currency = portal.pack.currency
    block_time = datetime.fromtimestamp(report.block_time, tz=UTC)
    value, value_note = _money(t, currency, Decimal(totals.value_usd))
    price = f"USD {t.num(Decimal(totals.price_usd_per_btc), 2)}"
    at_block = t("portal.reserve.at_block", height=t.num(report.height))
    if report.network != "mainnet":
        at_block += " · " + t("portal.reserve.test_chain")
    items = [
        (
            t("portal.reserve.held"),
            _data(totals.chain_sat, f"{_btc(t, totals.chain_sat)} BTC"),
            escape(at_block),
        ),
        (t("portal.reserve.block_time"), _data(report.block_time, when(block_time)), ""),
        (t("portal.reserve.utxos"), _data(totals.utxo_count, t.num(totals.utxo_count)), ""),
        (t("portal.reserve.value"), _data(totals.value_usd, value), escape(value_note)),
        (
            t("portal.reserve.price"),
            _data(totals.price_usd_per_btc, price),
            escape(f"{totals.price_date}, {totals.price_source}"),
        ),
    ]
    if totals.ledger_sat is not None:
        items.append(
            (
                t("portal.reserve.ledger"),
                _data(totals.ledger_sat, f"{_btc(t, totals.ledger_sat)} BTC"),
                "",
            )
        )
    checks = _table(
        t("portal.reserve.checks_caption"),
        [
            t("portal.reserve.col.check"),
            t("portal.reserve.col.result"),
            t("portal.reserve.col.detail"),
        ],
        (
            [
                escape(c.name),
                f'<span class="{"ok" if c.ok else "bad"}">'
                f"{escape(t('portal.reserve.passed' if c.ok else 'portal.reserve.failed'))}</span>",
                escape(c.detail),
            ]
            for c in loaded.verification.checks
        ),
        ident="reserve-checks",
        row_headers=True,
    )
    page_bytes = len(loaded.raw) + _plotly_bytes()
    name = f"reserve-report-{report.height}.json"
    links = [
        f'<a href="/reserve/" class="heavy">{escape(t("portal.reserve.page_link"))} '
        f'<span class="small">({escape(t.size(page_bytes))})</span></a>',
        f'<a href="/reserve/report.json" download="{escape(name)}"'
        f"{_HEAVY if len(loaded.raw) > HEAVY_BYTES else ''}>"
        f"{escape(t('portal.reserve.json_link'))} "
        f'<span class="small">({escape(t.size(len(loaded.raw)))})</span></a>',
        f'<a href="/reserve/verify.html">{escape(t("portal.reserve.verify_link"))}</a>',
    ]
    verify = (
        f"<p>{escape(t('portal.reserve.verify'))} <code>hashnation verify {escape(name)}</code></p>"
    )
    return (
        _figures(items, ident="reserve-figures")
        + checks
        + verify
        + '<ul class="links">'
        + "".join(f"<li>{link}</li>" for link in links)
        + "</ul>"
    )


_PLOTLY_SIZE: list[int] = []


def _plotly_bytes() -> int:
    """Size of the Plotly bundle the reserve page loads [bytes]."""
    if not _PLOTLY_SIZE:
        try:
            bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
            _PLOTLY_SIZE.append(len(bundle.read_bytes()))
        except (OSError, ModuleNotFoundError):
            _PLOTLY_SIZE.append(0)
    return _PLOTLY_SIZE[0]


# ---------------------------------------------------------------- register section


def _status_text(t: Texts, status: str) -> str:
    key = f"portal.status.{status}"
    return t(key) if status in _REGISTER_STATUSES else status.replace("_", " ")


def _register_section(portal: Portal) -> str:
    t = portal.texts
    pack = portal.pack
    heading = t("portal.register.heading")
    if portal.registry is None:
        return _section(
            "register", heading, f'<p class="muted">{escape(t("portal.register.none"))}</p>'
        )
    registry = portal.registry
    counts = [
        (spec.title, registry.register_count(licence_type=kind.value, status="licensed"))
        for kind, spec in pack.licences.items()
    ]
    total = sum(n for _, n in counts)
    count_rows = [[escape(title), _data(n, t.num(n))] for title, n in counts]
    count_rows.append([escape(t("portal.register.total")), _data(total, t.num(total))])
    rows = sorted(
        registry.register(limit=None),
        key=lambda r: (r.status_date, r.application_id),
        reverse=True,
    )[:_LATEST]
    titles = {kind.value: spec.title for kind, spec in pack.licences.items()}
    latest = (
        _table(
            t("portal.register.latest_caption"),
            [
                t("portal.register.col.date"),
                t("portal.register.col.firm"),
                t("portal.register.col.licence"),
                t("portal.register.col.status"),
            ],
            (
                [
                    f'<span class="nw">{escape(when(r.status_date))}</span>',
                    f'<a href="/register/firm/{r.firm_id}">{escape(r.entity_name)}</a>'
                    '<br><span class="small">'
                    f"{escape(titles.get(r.licence_type, r.licence_type))}</span>",
                    f'<span class="nw">{escape(r.licence_number)}</span>',
                    f'<span class="status status-{escape(r.status)}">'
                    f"{escape(_status_text(t, r.status))}</span>",
                ]
                for r in rows
            ),
            ident="register-latest",
        )
        if rows
        else f'<p class="muted">{escape(t("portal.register.no_decisions"))}</p>'
    )
    form = (
        '<form class="search" id="register-search" method="get" action="/register/" role="search">'
        f'<label for="register-q">{escape(t("portal.register.search_label"))}'
        '<input type="search" id="register-q" name="q" maxlength="200"></label>'
        f'<button type="submit">{escape(t("portal.register.search_button"))}</button></form>'
    )
    body = (
        f"<p>{escape(t('portal.register.intro', authority=pack.authority))}</p>"
        + form
        + '<div class="cols">'
        + _table(
            t("portal.register.counts_caption"),
            [t("portal.register.col.type"), t("portal.register.col.count")],
            count_rows,
            ident="register-counts",
            numeric_from=1,
            row_headers=True,
        )
        + latest
        + "</div>"
        + f'<p><a href="/register/">{escape(t("portal.register.link"))}</a></p>'
    )
    return _section("register", heading, body)


# ---------------------------------------------------------------- records section


@dataclass(frozen=True, slots=True)
class _Batch:
    id: int
    merkle_root: str
    leaf_count: int
    stamped_at: datetime
    height: int | None


def _latest_batches(records: RecordsRegistry, limit: int) -> list[_Batch]:
    """Read the latest anchoring batches, with the block their proofs attest to (if any)."""
    from hashnation.store.records_models import RecordAnchorBatch, RecordVersion

    height = (
        select(func.max(RecordVersion.attested_height))
        .where(RecordVersion.batch_id == RecordAnchorBatch.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            RecordAnchorBatch.id,
            RecordAnchorBatch.merkle_root,
            RecordAnchorBatch.leaf_count,
            RecordAnchorBatch.stamped_at,
            height,
        )
        .order_by(RecordAnchorBatch.id.desc())
        .limit(limit)
    )
    with Session(records.engine) as session:
        return [_Batch(*row) for row in session.execute(stmt)]


def _records_section(portal: Portal) -> str:
    t = portal.texts
    heading = t("portal.records.heading")
    if portal.records is None:
        return _section(
            "records", heading, f'<p class="muted">{escape(t("portal.records.none"))}</p>'
        )
    form = (
        '<form class="search" id="records-search" method="get" action="/records/" role="search">'
        f'<label for="records-q">{escape(t("portal.records.search_label"))}'
        '<input type="search" id="records-q" name="q" maxlength="100" '
        'spellcheck="false" autocomplete="off"></label>'
        f'<button type="submit">{escape(t("portal.records.search_button"))}</button></form>'
    )
    batches = _latest_batches(portal.records, _LATEST)
    if batches:
        table = _table(
            t("portal.records.batches_caption"),
            [
                t("portal.records.col.batch"),
                t("portal.records.col.stamped"),
                t("portal.records.col.count"),
                t("portal.records.col.block"),
                t("portal.records.col.root"),
            ],
            (
                [
                    escape(str(b.id)),
                    f'<span class="nw">{escape(when(b.stamped_at))}</span>',
                    _data(b.leaf_count, t.num(b.leaf_count)),
                    escape(t.num(b.height))
                    if b.height is not None
                    else f'<span class="muted">{escape(t("portal.records.waiting"))}</span>',
                    f'<code class="wrap">{escape(b.merkle_root)}</code>',
                ]
                for b in batches
            ),
            ident="records-batches",
            row_headers=True,
        )
    else:
        table = f'<p class="muted">{escape(t("portal.records.no_batches"))}</p>'
    body = (
        f"<p>{escape(t('portal.records.intro'))}</p>"
        + form
        + table
        + f'<p><a href="/records/">{escape(t("portal.records.link"))}</a></p>'
    )
    return _section("records", heading, body)


# ---------------------------------------------------------------- visa section


def _visa_section(portal: Portal) -> str:
    t = portal.texts
    pack = portal.pack
    heading = t("portal.visa.heading")
    visa = pack.visa
    if visa is None:
        text = t("portal.visa.none", country=pack.name)
        return _section("visa", heading, f'<p id="visa-none">{escape(text)}</p>')
    note = t(
        "portal.visa.fee_note",
        btc=t.num(visa.amount_usd / visa.price_usd_per_btc, 8),
        price=t.num(visa.price_usd_per_btc, 0),
    )
    items = [
        (
            t("portal.visa.fee"),
            _data(visa.amount_usd, f"USD {t.num(visa.amount_usd, 0)}"),
            escape(note),
        ),
        (
            t("portal.visa.validity"),
            _data(
                visa.invoice_validity_hours,
                t("portal.visa.validity_value", hours=t.num(visa.invoice_validity_hours)),
            ),
            "",
        ),
        (
            t("portal.visa.confirmations"),
            _data(visa.confirmations_required, t.num(visa.confirmations_required)),
            "",
        ),
        (t("portal.visa.quota"), _data(visa.yearly_quota, t.num(visa.yearly_quota)), ""),
    ]
    body = (
        f"<p>{escape(t('portal.visa.intro', name=visa.name))}</p>"
        + _figures(items, ident="visa-terms")
        + f'<p class="small">{escape(t("portal.visa.source"))}: {escape(visa.source)}</p>'
    )
    if portal.registry is not None:
        body += f'<p><a href="/visa/">{escape(t("portal.visa.status_link"))}</a></p>'
    return _section("visa", heading, body)


# ---------------------------------------------------------------- pages


def home_page(portal: Portal) -> str:
    """Render the country's home page.

    Parameters
    ----------
    portal
        What the page reads.

    Returns
    -------
    str
        A complete HTML document in the pack's language, one section per part of the
        programme.
    """
    t = portal.texts
    sections = [
        ("mining", "portal.nav.mining", _mining_section),
        ("reserve", "portal.nav.reserve", _reserve_section),
        ("register", "portal.nav.register", _register_section),
        ("records", "portal.nav.records", _records_section),
        ("visa", "portal.nav.visa", _visa_section),
    ]
    toc = (
        f'<nav class="toc" aria-label="{escape(t("portal.toc.label"))}">'
        + "".join(f'<a href="#{ident}">{escape(t(key))}</a>' for ident, key, _ in sections)
        + "</nav>"
    )
    body = toc + "".join(render(portal) for _, _, render in sections)
    title = t("portal.title", country=portal.pack.name)
    return _portal_page(portal, title, body, current="home", lead=t("portal.lead"))


def mining_page(portal: Portal) -> str:
    """Render the mining dashboard: every headline figure, the years and the notes.

    Parameters
    ----------
    portal
        What the page reads.

    Returns
    -------
    str
        A complete, light HTML document (the interactive report is linked, with its size).
    """
    t = portal.texts
    pack = portal.pack
    title = t("portal.mining.page_title", country=pack.name)
    lead = t("portal.mining.page_lead", currency=pack.currency.code)
    if portal.mining is None:
        return _portal_page(portal, title, _mining_missing(portal), current="mining", lead=lead)
    try:
        report = portal.mining.get()
    except InputError as exc:
        body = f'<p class="error" role="alert">{escape(exc)}</p>'
        return _portal_page(portal, title, body, current="mining", lead=lead)
    notes = report.summary.get("notes")
    notes_html = ""
    if isinstance(notes, list) and notes:
        items = "".join(f"<li>{escape(n)}</li>" for n in notes)
        notes_html = (
            f'<h2>{escape(t("portal.mining.notes"))}</h2><ul id="mining-notes">{items}</ul>'
        )
    body = (
        f"<p>{escape(_mining_intro(portal, report))}</p>"
        f"<h2>{escape(t('portal.mining.figures'))}</h2>"
        + _mining_figures(portal, report, full=True)
        + _annual_table(portal, report, full=True)
        + notes_html
        + f"<h2>{escape(t('portal.mining.files'))}</h2>"
        + _mining_links(portal, report, dashboard=False)
    )
    return _portal_page(portal, title, body, current="mining", lead=lead)


def _programmes(t: Texts, pack: CountryPack) -> str:
    names = []
    if pack.scenario_file is not None:
        names.append(t("portal.programme.mining"))
    if pack.reserve_file is not None:
        names.append(t("portal.programme.reserve"))
    if pack.licences:
        names.append(t("portal.programme.licensing"))
    if pack.visa is not None:
        names.append(t("portal.programme.visa"))
    return ", ".join(names)


def countries_page(portal: Portal, packs: Sequence[CountryPack]) -> str:
    """Render the list of installed country packs.

    Parameters
    ----------
    portal
        The portal (its pack is marked as the one served here).
    packs
        Every installed pack.

    Returns
    -------
    str
        A complete HTML document with one table row per pack.
    """
    t = portal.texts
    rows = []
    for pack in packs:
        name = escape(pack.name)
        if pack.slug == portal.pack.slug:
            here = escape(t("portal.countries.current"))
            name = f'<strong>{name}</strong> <span class="small">({here})</span>'
        currency = pack.currency
        rows.append(
            [
                name,
                f"<code>{escape(pack.language)}</code>",
                f"{escape(currency.code)} ({escape(currency.symbol)})",
                escape(pack.authority),
                escape(_programmes(t, pack)),
            ]
        )
    table = _table(
        t("portal.countries.caption"),
        [
            t("portal.countries.col.country"),
            t("portal.countries.col.language"),
            t("portal.countries.col.currency"),
            t("portal.countries.col.authority"),
            t("portal.countries.col.programmes"),
        ],
        rows,
        ident="countries",
        row_headers=True,
    )
    return _portal_page(
        portal,
        t("portal.countries.title"),
        table,
        current="countries",
        lead=t("portal.countries.lead"),
    )


def _not_found_page(portal: Portal) -> str:
    t = portal.texts
    body = (
        f'<p class="error" role="alert" id="error">{escape(t("portal.not_found.text"))}</p>'
        f'<p><a href="/">{escape(t("portal.not_found.home"))}</a></p>'
    )
    return _portal_page(portal, t("portal.not_found.title"), body, current="")


# ---------------------------------------------------------------- router


def portal_router(
    settings: WebSettings,
    *,
    registry: Registry | None = None,
    records: RecordsRegistry | None = None,
    reserve: PublishedReports | None = None,
) -> APIRouter:
    """Return the public portal's routes for the country of ``settings``.

    Parameters
    ----------
    settings
        ``country`` (pack name or folder; None: the default pack), ``mining_report``
        (a ``hashnation mining run`` folder, or None) and ``reserve_report``.
    registry
        The registry whose register and visa pages are served, or None.
    records
        The public records registry served at ``/records/``, or None.
    reserve
        The published reserve reports (shared with :func:`~hashnation.web.reserve.reserve_router`);
        None reads ``settings.reserve_report`` when set.

    Returns
    -------
    APIRouter
        ``GET /``, ``/mining/``, ``/mining/report/``, ``/mining/report/{name}`` and
        ``/countries/``.

    Raises
    ------
    InputError
        If the pack cannot be loaded, its texts name an unknown key, or the mining
        report folder has no ``summary.json``.
    """
    from hashnation.countries import DEFAULT_COUNTRY, available_packs, load_pack

    pack = load_pack(settings.country or DEFAULT_COUNTRY)
    if reserve is None and settings.reserve_report is not None:
        from hashnation.web.reserve import PublishedReports

        reserve = PublishedReports(settings.reserve_report)
    mining = MiningFolder(settings.mining_report) if settings.mining_report is not None else None
    cached: list[list[CountryPack]] = []

    def packs() -> list[CountryPack]:
        if not cached:
            cached.append(available_packs())
        return cached[0]

    portal = Portal(pack, mining, reserve, registry, records)
    router = APIRouter(tags=["public portal"])

    @router.get("/", response_class=HTMLResponse, summary="The country's public portal")
    def home() -> HTMLResponse:
        """Show the home page: mining, reserve, register, records and visa."""
        return html_response(home_page(portal))

    @router.get("/mining/", response_class=HTMLResponse, summary="Mining dashboard")
    def mining_dashboard() -> HTMLResponse:
        """Every headline figure of the latest mining report, year by year."""
        return html_response(mining_page(portal))

    @router.get("/mining/report", include_in_schema=False)
    def mining_report_folder() -> RedirectResponse:
        return RedirectResponse("/mining/report/", status_code=308)

    @router.get("/mining/report/{name}", include_in_schema=False)
    @router.get("/mining/report/", include_in_schema=False)
    def mining_report_file(name: str = "report.html") -> Response:
        path = mining.file(name) if mining is not None else None
        if path is None:
            return html_response(_not_found_page(portal), status_code=404)
        headers = dict(_REPORT_HEADERS)
        if name != "report.html":
            headers["Content-Disposition"] = f'inline; filename="{name}"'
        return FileResponse(path, media_type=MINING_FILES[name], headers=headers)

    @router.get("/countries/", response_class=HTMLResponse, summary="Installed country packs")
    def countries() -> HTMLResponse:
        """Every installed country pack: currency, regulator and programmes."""
        try:
            found: Sequence[CountryPack] = packs()
        except HashNationError:
            found = [pack]
        return html_response(countries_page(portal, found))

    return router
