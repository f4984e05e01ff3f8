"""The shared HTML building blocks of the report pages."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest

from hashnation.mining import htmlkit, report

NASTY = "Tom & \"Jerry\" <script>alert('x')</script>"


def test_escape_quotes_and_markup() -> None:
    assert htmlkit.escape(NASTY) == (
        "Tom &amp; &quot;Jerry&quot; &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    )
    assert htmlkit.escape(3.5) == "3.5"
    assert htmlkit.escape(None) == "None"


def test_table_escapes_every_cell_and_header() -> None:
    out = htmlkit.html_table(["<h>"], [[NASTY]], cls='a"b')
    assert "<script>" not in out
    assert "<th>&lt;h&gt;</th>" in out
    assert '<table class="a&quot;b">' in out


def test_table_aligns_columns_from_numeric_from() -> None:
    out = htmlkit.html_table(["name", "x", "y"], [("a", 1, 2.5)], numeric_from=1)
    assert '<td>a</td><td class="num">1</td><td class="num">2.5</td>' in out
    plain = htmlkit.html_table(["name", "x"], [("a", 1)])
    assert 'class="num"' not in plain
    assert plain.startswith("<table><thead><tr><th>name</th><th>x</th></tr></thead>")


def test_table_with_no_rows() -> None:
    assert htmlkit.html_table(["a"], []).endswith("<tbody></tbody></table>")


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234567.891, 0, "1,234,568"),
        (1234.5678, 2, "1,234.57"),
        (None, 0, "n/a"),
        (math.nan, 2, "n/a"),
        (math.inf, 0, "n/a"),
        (1e15, 0, "1,000,000,000,000,000"),
    ],
)
def test_fmt_num(value: float | None, decimals: int, expected: str) -> None:
    assert htmlkit.fmt_num(value, decimals) == expected


def test_fmt_num_text_for_none_is_a_parameter() -> None:
    assert htmlkit.fmt_num(None, none="none") == "none"
    assert htmlkit.fmt_num(math.nan, none="none") == "n/a"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (950.4, "USD 950"),
        (2_500_000.0, "USD 2,500,000 (2.5 m)"),
        (-2_500_000.0, "USD -2,500,000 (-2.5 m)"),
        (3e9, "USD 3,000,000,000 (3.00 bn)"),
        (1.25e12, "USD 1,250,000,000,000 (1,250.00 bn)"),
        (None, "n/a"),
        (math.nan, "n/a"),
        (-math.inf, "n/a"),
    ],
)
def test_fmt_usd(value: float | None, expected: str) -> None:
    assert htmlkit.fmt_usd(value) == expected


def test_fmt_share() -> None:
    assert htmlkit.fmt_share(0.74) == "0.740 (74.0 %)"
    assert htmlkit.fmt_share(0.74, unit="pu") == "0.740 pu (74.0 %)"
    assert htmlkit.fmt_share(12.5, unit="pu") == "12.500 pu (1250.0 %)"
    assert htmlkit.fmt_share(None) == "n/a"
    assert htmlkit.fmt_share(None, none="none") == "none"
    assert htmlkit.fmt_share(math.nan, unit="pu") == "n/a"


def test_apply_layout() -> None:
    fig = htmlkit.apply_layout(go.Figure(), "Title [unit]")
    assert fig.layout.title.text == "Title [unit]"
    assert fig.layout.height == htmlkit.FIG_HEIGHT_PX
    assert fig.layout.margin.r == 40
    assert fig.layout.hovermode is None
    wide = htmlkit.apply_layout(go.Figure(), "t", right_margin=70, hovermode="x unified")
    assert wide.layout.margin.r == 70
    assert wide.layout.hovermode == "x unified"


def test_figure_html_uses_the_figure_height_and_escapes_the_caption() -> None:
    fig = htmlkit.apply_layout(go.Figure(go.Bar(x=[1], y=[2])), "t")
    fig.update_layout(height=600)
    out = htmlkit.figure_html("k", fig, "a < b")
    assert 'id="fig-k"' in out
    assert "height:600px" in out
    assert '<p class="caption">a &lt; b</p>' in out
    assert "<script src=" not in out  # Plotly is loaded once by the page


def test_html_page_escapes_title_and_lead_and_keeps_html_parts() -> None:
    page = htmlkit.html_page(
        NASTY, "<b>sub</b>", '<a href="#x">X</a>', NASTY, "<h2>Body</h2>", extra_css="p{}"
    )
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>alert" not in page
    assert page.count(f'<script src="{htmlkit.PLOTLY_JS_FILE}"></script>') == 1
    assert '<p class="sub"><b>sub</b></p>' in page
    assert '<nav><a href="#x">X</a></nav>' in page
    assert "<h2>Body</h2>" in page
    assert "td.num{" in page
    assert "p{}</style>" in page


def test_plotly_bundle_name_is_still_exported_by_the_report() -> None:
    assert report.PLOTLY_JS_FILE == htmlkit.PLOTLY_JS_FILE == "plotly.min.js"
