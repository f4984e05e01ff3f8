"""Building blocks shared by the HTML pages of the mining and risk reports.

Escaping, tables, number formatting, the Plotly figure style and the page
skeleton (head, style sheet, title, lead paragraph) live here so that every
page looks and reads the same. Pure functions returning strings; nothing is
read from or written to disk.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import plotly.io as pio

__all__ = [
    "BASE_CSS",
    "BTC_COLOUR",
    "FIG_HEIGHT_PX",
    "GREY",
    "PLOTLY_JS_FILE",
    "TEMPLATE",
    "USD_COLOUR",
    "apply_layout",
    "escape",
    "figure_html",
    "fmt_num",
    "fmt_share",
    "fmt_usd",
    "html_page",
    "html_table",
]

PLOTLY_JS_FILE = "plotly.min.js"
"""Name of the Plotly bundle a page loads from its own folder."""

TEMPLATE = "plotly_white"
"""Plotly template of every figure."""

FIG_HEIGHT_PX = 430
"""Default figure height [px]."""

BTC_COLOUR = "#f7931a"
"""Colour of BTC quantities."""

USD_COLOUR = "#1f4e79"
"""Colour of US dollar quantities."""

GREY = "#6b6b6b"
"""Colour of reference lines and notes."""


# --------------------------------------------------------------------------- text and numbers


def escape(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute.

    Parameters
    ----------
    value
        Anything; it is converted with :func:`str` first.

    Returns
    -------
    str
        The text with ``&``, ``<``, ``>``, ``"`` and ``'`` escaped.
    """
    return html.escape(str(value), quote=True)


def fmt_num(value: float | None, decimals: int = 0, *, none: str = "n/a") -> str:
    """Format a number with thousands separators.

    Parameters
    ----------
    value
        The number, or None.
    decimals
        Digits after the decimal point.
    none
        Text for None.

    Returns
    -------
    str
        ``"1,234,567"`` (or ``"1,234.57"`` with two decimals); ``none`` for
        None and ``"n/a"`` for NaN or infinity.
    """
    if value is None:
        return none
    if not math.isfinite(value):
        return "n/a"
    return f"{value:,.{decimals}f}"


def fmt_usd(value: float | None, *, none: str = "n/a") -> str:
    """Format US dollars, with millions or billions spelled out for large amounts.

    Parameters
    ----------
    value
        Amount [USD], or None.
    none
        Text for None.

    Returns
    -------
    str
        ``"USD 2,500,000 (2.5 m)"``, ``"USD 3,000,000,000 (3.00 bn)"`` or
        ``"USD 950"``; ``none`` for None and ``"n/a"`` for NaN or infinity.
    """
    if value is None:
        return none
    if not math.isfinite(value):
        return "n/a"
    text = f"USD {value:,.0f}"
    big = abs(value)
    if big >= 1e9:
        text += f" ({value / 1e9:,.2f} bn)"
    elif big >= 1e6:
        text += f" ({value / 1e6:,.1f} m)"
    return text


def fmt_share(value: float | None, *, unit: str = "", none: str = "n/a") -> str:
    """Format a per-unit value with its percentage.

    Parameters
    ----------
    value
        Share [pu] (1 = 100 %), or None.
    unit
        Unit written after the value (``"pu"``), or empty for none.
    none
        Text for None.

    Returns
    -------
    str
        ``"0.740 (74.0 %)"``, or ``"0.740 pu (74.0 %)"`` with ``unit="pu"``;
        ``none`` for None and ``"n/a"`` for NaN or infinity.
    """
    if value is None:
        return none
    if not math.isfinite(value):
        return "n/a"
    label = f" {unit}" if unit else ""
    return f"{value:.3f}{label} ({value * 100:.1f} %)"


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    cls: str = "",
    numeric_from: int | None = None,
) -> str:
    """Render an HTML table, escaping every header and cell.

    Parameters
    ----------
    headers
        Column headings.
    rows
        Cells of each row, converted with :func:`str`.
    cls
        CSS class(es) of the ``<table>``, or empty for none.
    numeric_from
        Index of the first column to align right (``<td class="num">``), or
        None to align every column left.

    Returns
    -------
    str
        One ``<table>`` element with a ``<thead>`` and a ``<tbody>``.
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            attr = ' class="num"' if numeric_from is not None and i >= numeric_from else ""
            cells.append(f"<td{attr}>{escape(cell)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    klass = f' class="{escape(cls)}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- figures


def apply_layout(
    fig: Any, title: str, *, right_margin: int = 40, hovermode: str | None = None
) -> Any:
    """Give a figure the reports' common style and a left-aligned title.

    Parameters
    ----------
    fig
        Plotly figure, changed in place.
    title
        Figure title (with its unit).
    right_margin
        Right margin [px]; wider for a second y axis.
    hovermode
        Plotly ``hovermode`` (``"x unified"``), or None to keep the template's.

    Returns
    -------
    Any
        ``fig`` itself, for chaining.
    """
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "height": FIG_HEIGHT_PX,
        "margin": {"l": 70, "r": right_margin, "t": 60, "b": 50},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    }
    if hovermode is not None:
        layout["hovermode"] = hovermode
    fig.update_layout(**layout)
    return fig


def figure_html(key: str, fig: Any, caption: str) -> str:
    """Embed a figure as a ``<div>`` (Plotly loaded by the page) with its caption.

    Parameters
    ----------
    key
        Short id of the figure; the ``<div>`` gets the id ``fig-{key}``.
    fig
        Plotly figure; its layout height, or :data:`FIG_HEIGHT_PX`, sets the
        height of the ``<div>``.
    caption
        Plain text under the figure (escaped here).

    Returns
    -------
    str
        ``<div class="fig">`` holding the plot and a ``<p class="caption">``.
    """
    div = pio.to_html(
        fig,
        include_plotlyjs=False,
        full_html=False,
        div_id=f"fig-{key}",
        default_height=f"{fig.layout.height or FIG_HEIGHT_PX}px",
        config={"displaylogo": False, "responsive": True},
    )
    return f'<div class="fig">{div}<p class="caption">{escape(caption)}</p></div>'


# --------------------------------------------------------------------------- page

BASE_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
color:#1b1b1b;background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.7em;margin:0.2em 0}
h2{border-bottom:2px solid #f7931a;padding-bottom:4px;margin-top:2em}
h3{margin-bottom:0.3em}
.sub{color:#555;margin-top:0}
.lead{font-size:1.08em;background:#f4f6f8;border-left:4px solid #1f4e79;padding:10px 14px}
table{border-collapse:collapse;margin:10px 0 16px;font-size:0.92em}
th,td{border:1px solid #d6d6d6;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f0f2f4}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
.fig{margin:18px 0 8px}
.caption{color:#444;font-size:0.92em;margin-top:0}
.small{font-size:0.85em;color:#555}
code{background:#f4f4f4;padding:0 3px}
nav a{margin-right:14px}
"""
"""Style sheet of every page; a page adds its own rules after it."""


def html_page(
    title: str,
    subtitle: str,
    nav: str,
    lead: str,
    body: str,
    *,
    extra_css: str = "",
    plotly: bool = True,
) -> str:
    """Assemble a complete report page that loads Plotly from its own folder.

    Parameters
    ----------
    title
        Page title, shown in the tab and as the heading (escaped here).
    subtitle
        HTML under the heading (already escaped).
    nav
        HTML links of the navigation bar (already escaped).
    lead
        Plain-text summary paragraph (escaped here).
    body
        HTML of the sections after the lead paragraph.
    extra_css
        Style rules of this page, added after :data:`BASE_CSS`.
    plotly
        Load :data:`PLOTLY_JS_FILE` (about 4.8 MB); False for a page without figures.

    Returns
    -------
    str
        A complete HTML document (UTF-8) with one ``<script>`` loading
        :data:`PLOTLY_JS_FILE`, or none without ``plotly``.
    """
    script = f'<script src="{PLOTLY_JS_FILE}"></script>\n' if plotly else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="data:,">
{script}<style>{BASE_CSS}{extra_css}</style>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
<p class="sub">{subtitle}</p>
<nav>{nav}</nav>
<p class="lead">{escape(lead)}</p>
{body}
</main>
</body>
</html>
"""
