"""The public portal: figures equal their sources, keyboard use, accessibility, page weight.

The browser tests serve the whole app (register, records, reserve, portal) on one
SQLite file holding the example register and two anchored public records, a reserve
transparency report built on a regtest chain, and the El Salvador pack's mining
scenario run for real. Each page is read in Debian's headless Chromium; the routes'
own rules (headers, read-only files, path traversal) are checked without a browser.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from hashnation.chain.regtest import RegtestChain
from hashnation.countries import available_packs, load_pack
from hashnation.countries.services import pack_registry
from hashnation.errors import InputError
from hashnation.mining.outputs import write_outputs
from hashnation.mining.program import MiningProgram
from hashnation.records.service import RecordsRegistry, regtest_attester
from hashnation.registry.seed import seed_example
from hashnation.reserve.demo import demo_reserve
from hashnation.reserve.recheck import verify_report
from hashnation.reserve.service import collect_report, scan_reserve
from hashnation.reserve.transparency import PriceQuote
from hashnation.web.app import WebSettings, create_app
from hashnation.web.portal import HEAVY_BYTES, REPORT_CSP, MiningFolder
from hashnation.web.portal_text import DEFAULT_STRINGS, Texts, check_strings
from hashnation.web.register import CONTENT_SECURITY_POLICY

BUNDLED = ("pakistan", "el-salvador", "argentina", "turkey")
PRICE = PriceQuote(Decimal("91000.00"), "stated for the test", "2025-11-23")
LAND = {
    "parcel_id": "LHR-0042-17",
    "district": "Lahore",
    "area_m2": "512.50",
    "owner": "Ayesha Khan",
    "registered_on": "2026-02-27",
}
PORTAL_PAGES = ("/", "/mining/", "/countries/")


# ---------------------------------------------------------------- the data served


@dataclass(frozen=True)
class Site:
    """Files and database of a served programme."""

    db_path: Path
    mining: Path
    reserve: Path

    def settings(self, country: str = "pakistan", **changes: Any) -> WebSettings:
        values: dict[str, Any] = {
            "registry_db": f"sqlite:///{self.db_path}",
            "reserve_report": self.reserve,
            "mining_report": self.mining,
            "country": country,
            "rate_limit_per_minute": 0,
        }
        values.update(changes)
        return WebSettings(**values)


@pytest.fixture(scope="module")
def mining_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The El Salvador pack's mining scenario, run and written as ``mining run`` does."""
    scenario = load_pack("el-salvador").scenario_file
    assert scenario is not None
    results = MiningProgram.from_toml(scenario).run().results
    folder = tmp_path_factory.mktemp("mining") / "run"
    write_outputs(results, folder, hourly_csv=False)
    return folder


@pytest.fixture(scope="module")
def reserve_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One verified transparency report of a demo reserve on a regtest chain."""
    demo = demo_reserve(12, per_block=2, spend_every=4)
    watched = scan_reserve(demo.chain, demo.reserve, gap_limit=4)
    report = collect_report(
        source=demo.chain,
        reserve_name="Test national reserve",
        height=demo.chain.tip_height(),
        watched=watched,
        descriptors=demo.descriptors,
        network="regtest",
        ledger_sat=demo.held_sat[demo.chain.tip_height()],
        price=PRICE,
    )
    folder = tmp_path_factory.mktemp("reserve")
    (folder / "report.json").write_text(json.dumps(report.to_json_dict()), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def seeded_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example register and two public records, one batch anchored on regtest."""
    path = tmp_path_factory.mktemp("portal-db") / "site.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    with pack_registry(load_pack("pakistan"), url) as registry:
        seed_example(registry)
    clock = lambda: datetime(2026, 3, 2, tzinfo=UTC)  # noqa: E731
    with RecordsRegistry(url, clock=clock) as records:
        records.add("registrar", record_type="land_title", reference="LT-LHR-9", fields=LAND)
        records.add(
            "registrar",
            record_type="land_title",
            reference="LT-LHR-10",
            fields={**LAND, "parcel_id": "LHR-0042-18"},
        )
        records.anchor_pending("registrar", regtest_attester(RegtestChain()))
    return path


@pytest.fixture
def site(seeded_db: Path, mining_dir: Path, reserve_dir: Path, tmp_path: Path) -> Site:
    """A fresh copy of the seeded database, with the mining and reserve folders."""
    path = tmp_path / "site.db"
    shutil.copyfile(seeded_db, path)
    return Site(path, mining_dir, reserve_dir)


@pytest.fixture
def serve(live_server: Callable[[Any], Any]) -> Callable[[WebSettings], str]:
    """Serve the whole app for some settings; return its base URL."""

    def start(settings: WebSettings) -> str:
        return str(live_server(create_app(settings)).url)

    return start


# ---------------------------------------------------------------- routes, no browser


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.settings())) as test_client:
        yield test_client


def test_portal_pages_carry_the_strict_policy(client: TestClient) -> None:
    for path in PORTAL_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in response.text
        assert '<html lang="en">' in response.text
    countries = client.get("/countries/").text
    for pack in available_packs():
        assert pack.authority.split(" (")[0] in countries


def test_mining_report_files_are_served_from_the_folder(client: TestClient, site: Site) -> None:
    moved = client.get("/mining/report", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/mining/report/"
    report = client.get("/mining/report/")
    assert report.status_code == 200
    assert report.content == (site.mining / "report.html").read_bytes()
    assert report.headers["content-security-policy"] == REPORT_CSP
    plotly = client.get("/mining/report/plotly.min.js")
    assert plotly.headers["content-type"].startswith("application/javascript")
    assert len(plotly.content) == (site.mining / "plotly.min.js").stat().st_size
    summary = client.get("/mining/report/summary.json")
    assert summary.json() == json.loads((site.mining / "summary.json").read_text("utf-8"))


TRAVERSALS = (
    "/mining/report/..%2F..%2F..%2Fetc%2Fpasswd",
    "/mining/report/%2e%2e%2fsummary.json",
    "/mining/report/%2E%2E/%2E%2E/etc/passwd",
    "/mining/report/..%5csummary.json",
    "/mining/report/hourly.json",
    "/mining/report/report.html%00.txt",
    "/mining/report/.%2Fsummary.json",
    "/mining/report//etc/passwd",
)


def test_mining_report_refuses_paths_outside_its_files(client: TestClient) -> None:
    for path in TRAVERSALS:
        response = client.get(path)
        assert response.status_code in (400, 404), path  # refused, whoever refuses it
        assert "root:" not in response.text


def test_a_link_leading_out_of_the_folder_is_not_followed(site: Site, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(site.mining, folder)
    secret = tmp_path / "secret.csv"
    secret.write_text("not public\n", encoding="utf-8")
    (folder / "annual.csv").unlink()
    (folder / "annual.csv").symlink_to(secret)
    mining = MiningFolder(folder)
    assert mining.file("annual.csv") is None
    assert mining.file("summary.json") == (folder / "summary.json").resolve()
    with TestClient(create_app(site.settings(mining_report=folder))) as client:
        assert client.get("/mining/report/annual.csv").status_code == 404


def test_a_folder_without_a_summary_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="mining_report"):
        MiningFolder(tmp_path)


def test_without_reports_the_portal_says_how_to_make_them(site: Site) -> None:
    settings = site.settings(mining_report=None, reserve_report=None)
    with TestClient(create_app(settings)) as client:
        home = client.get("/").text
        assert 'id="mining-none"' in home
        assert "hashnation --country pakistan mining run --out DIR" in home
        assert 'id="reserve-none"' in home
        assert 'id="reserve-descriptors"' in home
        assert "wsh(sortedmulti(2," in home  # the pack's watch-only descriptor
        assert client.get("/mining/report/").status_code == 404
        assert 'id="mining-none"' in client.get("/mining/").text


# ---------------------------------------------------------------- texts


def test_every_bundled_pack_translates_every_text() -> None:
    for slug in BUNDLED:
        pack = load_pack(slug)
        assert set(pack.strings) == set(DEFAULT_STRINGS), slug
        check_strings(pack.strings, source=f"{slug}/strings.toml")


@pytest.mark.parametrize(
    ("strings", "message"),
    [
        ({"portal.mining.headng": "Minería"}, r"strings\.toml: portal\.mining\.headng: got"),
        (
            {"portal.title": "{pais}: programa"},
            r"portal\.title: .*only the placeholders \{country\}",
        ),
        ({"portal.title": "{country"}, r"portal\.title: .*pair"),
        ({"portal.skip": "  "}, r"portal\.skip: .*non-empty string"),
    ],
)
def test_a_bad_pack_text_is_refused_in_one_line(strings: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        check_strings(strings)
    assert "\n" not in str(caught.value)


def test_numbers_follow_the_pack() -> None:
    assert Texts("en").num(1234567.891, 2) == "1,234,567.89"
    assert Texts("es").num(1234567.891, 2) == "1.234.567,89"
    assert Texts("tr").num(Decimal("1234.5"), 1) == "1.234,5"
    assert Texts("es", load_pack("el-salvador").strings).num(1234.5, 1) == "1,234.5"
    assert Texts("es", load_pack("argentina").strings).num(1234.5, 1) == "1.234,5"
    assert Texts("tr", load_pack("turkey").strings).compact(7.33e9) == "7,33 milyar"
    assert Texts("en").size(5_238_070) == "about 5.2 MB"


# ---------------------------------------------------------------- in Chromium


def _data_values(page: Any, selector: str) -> list[str]:
    return [str(v) for v in page.eval_on_selector_all(selector, "els => els.map(e => e.value)")]


def test_home_page_figures_equal_their_sources(
    site: Site, serve: Callable[[WebSettings], str], page: Any
) -> None:
    url = serve(site.settings())
    page.goto(url + "/")
    summary = json.loads((site.mining / "summary.json").read_text("utf-8"))
    annual = json.loads((site.mining / "annual.json").read_text("utf-8"))
    values = _data_values(page, "#mining-figures dd data")
    for key in (
        "btc_mined",
        "energy_mwh",
        "curtailed_share_pu",
        "emissions_tco2",
        "coal_share_pu",
        "revenue_usd",
        "cost_usd_per_btc",
        "tariff_usd_per_mwh",
        "breakeven_price_usd_per_btc",
        "next_halving_height",
    ):
        assert str(summary[key]) in values, key
    assert page.inner_text("#mining-figures").count("BTC") >= 1
    assert f"{summary['btc_mined']:,.2f} BTC" in page.inner_text("#mining-figures")
    rows = page.locator("#mining-annual tbody tr")
    assert rows.count() == len(annual)
    btc = _data_values(page, "#mining-annual tbody tr td:nth-child(3) data")
    assert [float(v) for v in btc] == [year["btc_mined"] for year in annual]
    assert "Rs " in page.inner_text("#mining-figures")  # money in the pack's currency
    assert "USD " in page.inner_text("#mining-figures")  # with US dollars

    report = json.loads((site.reserve / "report.json").read_text("utf-8"))
    reserve = _data_values(page, "#reserve-figures dd data")
    assert str(report["totals"]["chain_sat"]) in reserve
    assert str(report["totals"]["utxo_count"]) in reserve
    checks = page.locator("#reserve-checks tbody tr")
    verification = verify_report(report)
    assert checks.count() == len(verification.checks)
    assert page.locator("#reserve-checks .ok").count() == len(verification.checks)
    assert f"hashnation verify reserve-report-{report['height']}.json" in page.inner_text(
        "#reserve"
    )

    with pack_registry(load_pack("pakistan"), f"sqlite:///{site.db_path}") as registry:
        expected = [
            registry.register_count(licence_type=kind.value, status="licensed")
            for kind in load_pack("pakistan").licences
        ]
        latest = registry.register(limit=None)
    counts = [int(v) for v in _data_values(page, "#register-counts tbody data")]
    assert counts == [*expected, sum(expected)]
    names = page.locator("#register-latest tbody tr td:nth-child(2) a").all_inner_texts()
    newest = sorted(latest, key=lambda r: (r.status_date, r.application_id), reverse=True)
    assert names == [r.entity_name for r in newest[: len(names)]] and names

    batches = page.locator("#records-batches tbody tr")
    assert batches.count() == 1
    assert _data_values(page, "#records-batches tbody data") == ["2"]
    assert page.inner_text("#visa").strip().endswith("Pakistan runs no investor visa programme.")
    assert page.errors == []


def _tab_order(page: Any) -> list[tuple[str, str]]:
    """Press Tab from the top until focus leaves the page: each stop's mark and outline."""
    page.evaluate(
        """() => document.querySelectorAll('a[href], input, select, textarea, button')
        .forEach((e, i) => e.dataset.tabMark = String(i))"""
    )
    stops: list[tuple[str, str]] = []
    for _ in range(400):
        page.keyboard.press("Tab")
        mark, outline = page.evaluate(
            """() => [document.activeElement?.dataset?.tabMark ?? '',
            getComputedStyle(document.activeElement).outlineStyle]"""
        )
        if not mark or (stops and mark == stops[0][0]):
            break
        stops.append((mark, outline))
    return stops


def test_keyboard_reaches_everything_and_enter_submits(
    site: Site, serve: Callable[[WebSettings], str], page: Any
) -> None:
    url = serve(site.settings())
    page.goto(url + "/")
    page.keyboard.press("Tab")
    first = page.evaluate("() => [document.activeElement.className, document.activeElement.href]")
    assert first == ["skip", url + "/#main"]
    box = page.locator("a.skip").bounding_box()
    assert box is not None and box["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    page.goto(url + "/")
    stops = _tab_order(page)
    marks = [mark for mark, _ in stops]
    everything = page.evaluate(
        "() => document.querySelectorAll('a[href], input, select, textarea, button').length"
    )
    assert marks == [str(i) for i in range(everything)]  # every one, in document order
    assert {outline for _, outline in stops} == {"solid"}  # each with a visible focus ring

    page.goto(url + "/")
    page.focus("#register-q")
    page.keyboard.type("Indus")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == url + "/register/?q=Indus"
    assert "Indus Digital Exchange" in page.inner_text("#results")

    page.goto(url + "/")
    before = page.evaluate(
        """() => [...document.querySelectorAll('a[href], input, select, textarea, button')]
        .indexOf(document.getElementById('records-q'))"""
    )
    for _ in range(before + 1):  # Tab from the top to the records lookup
        page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "records-q"
    page.keyboard.type("LT-LHR-9")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == url + "/records/?q=LT-LHR-9"
    assert "LT-LHR-9" in page.inner_text("#results")
    assert page.errors == []


_AUDIT = """() => {
  const problems = [];
  const html = document.documentElement;
  if (!html.lang) problems.push('no lang');
  for (const sel of ['body > header', 'header nav', 'main#main', 'body > footer'])
    if (!document.querySelector(sel)) problems.push('no landmark ' + sel);
  const first = document.querySelector('a[href], input, button, select');
  if (!first || !first.matches('a.skip[href="#main"]')) problems.push('no skip link first');
  document.querySelectorAll('img').forEach(i => { if (!i.hasAttribute('alt'))
    problems.push('img without alt ' + i.src); });
  document.querySelectorAll('input, select, textarea').forEach(f => {
    if (f.type === 'hidden' || f.type === 'submit') return;
    if (!f.labels.length && !f.getAttribute('aria-label')) problems.push('unlabelled ' + f.id);
  });
  const heads = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')];
  if (heads.filter(h => h.tagName === 'H1').length !== 1) problems.push('not one h1');
  let level = 0;
  for (const h of heads) {
    const n = Number(h.tagName[1]);
    if (n > level + 1) problems.push('skipped heading level at ' + h.textContent);
    level = n;
  }
  document.querySelectorAll('table').forEach(t => {
    if (!t.querySelector('caption')) problems.push('table without caption ' + t.id);
    t.querySelectorAll('th').forEach(th => { if (!th.getAttribute('scope'))
      problems.push('th without scope in ' + t.id); });
  });
  document.querySelectorAll('a[href], button').forEach(a => {
    if (!a.textContent.trim() && !a.getAttribute('aria-label')) problems.push('empty link');
  });
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  ids.filter((id, i) => ids.indexOf(id) !== i).forEach(id => problems.push('duplicate id ' + id));
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  document.querySelectorAll('body *').forEach(e => {
    const text = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!text || !e.getClientRects().length) return;
    const style = getComputedStyle(e);
    const a = lum(rgb(style.color)), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio < (large ? 3 : 4.5))
      problems.push(`contrast ${ratio.toFixed(2)}: ${e.textContent.trim().slice(0, 30)}`);
  });
  return problems;
}"""


@pytest.mark.parametrize("country", ["pakistan", "el-salvador"])
def test_portal_pages_pass_the_accessibility_checks(
    site: Site, serve: Callable[[WebSettings], str], page: Any, country: str
) -> None:
    url = serve(site.settings(country=country))
    language = load_pack(country).language
    for path in PORTAL_PAGES:
        page.goto(url + path)
        assert page.evaluate(_AUDIT) == [], path
        assert page.evaluate("() => document.documentElement.lang") == language
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, path  # no sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert page.errors == []


def _page_bytes(page: Any, url: str) -> int:
    """Load ``url`` and add up what came over the wire: every response's headers and body."""
    responses: list[Any] = []

    def seen(response: Any) -> None:
        responses.append(response)

    page.on("response", seen)
    page.goto(url, wait_until="load")
    page.remove_listener("response", seen)
    total = 0
    for response in responses:
        sizes = response.request.sizes()
        total += sizes["responseHeadersSize"] + max(sizes["responseBodySize"], len(response.body()))
    return total


def _links(page: Any, base: str) -> list[tuple[str, str, bool, bool]]:
    """Same-site links of the page: (URL without fragment, text, heavy, download)."""
    found = page.eval_on_selector_all(
        "a[href]",
        "els => els.map(a => [a.href, a.innerText, a.classList.contains('heavy'),"
        " a.hasAttribute('download')])",
    )
    links = []
    for href, text, heavy, download in found:
        target = urljoin(base, href).split("#")[0]
        if urlsplit(target).netloc == urlsplit(base).netloc:
            links.append((target, str(text), bool(heavy), bool(download)))
    return links


def _stated_bytes(text: str) -> float:
    number = re.search(r"([\d.,]+) (MB|kB)", text)
    assert number is not None, text
    value = float(number.group(1).replace(",", "."))
    return value * (1_000_000 if number.group(2) == "MB" else 1000)


def test_no_page_over_a_megabyte(
    site: Site, serve: Callable[[WebSettings], str], page: Any, browser: Any
) -> None:
    url = serve(site.settings())
    measured: dict[str, int] = {}
    heavy: dict[str, str] = {}
    downloads: set[str] = set()
    for path in PORTAL_PAGES:
        measured[url + path] = _page_bytes(page, url + path)
        for target, text, is_heavy, is_download in _links(page, url + path):
            if is_heavy:
                heavy[target] = text
            elif is_download:
                downloads.add(target)
            else:
                measured.setdefault(target, -1)
    assert {f"{url}/register/", f"{url}/records/", f"{url}/reserve/verify.html"} <= set(measured)
    for target, size in measured.items():
        if size < 0:
            measured[target] = _page_bytes(page, target)
    over = {target: size for target, size in measured.items() if size >= HEAVY_BYTES}
    assert over == {}
    for target in downloads:
        response = page.request.get(target)
        assert response.ok and len(response.body()) < HEAVY_BYTES, target
    # The interactive pages are labelled with their weight, which is right to 15 %.
    assert set(heavy) == {f"{url}/mining/report/", f"{url}/reserve/"}
    context = browser.new_context()
    try:
        for target, label in heavy.items():
            fresh = context.new_page()
            errors: list[str] = []
            fresh.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            actual = _page_bytes(fresh, target)
            assert actual > HEAVY_BYTES
            assert abs(_stated_bytes(label) - actual) < 0.15 * actual, (target, label, actual)
            # The interactive pages draw their charts under their own policies.
            fresh.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
            assert errors == [], target
            fresh.close()
    finally:
        context.close()
    print("portal page weights [bytes]:", {urlsplit(k).path: v for k, v in measured.items()})
    assert page.errors == []


def test_a_spanish_pack_reads_in_spanish(
    site: Site, serve: Callable[[WebSettings], str], page: Any
) -> None:
    url = serve(site.settings(country="el-salvador"))
    pack = load_pack("el-salvador")
    page.goto(url + "/")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    assert page.inner_text("h1") == "El Salvador: programa nacional de bitcoin"
    assert page.inner_text("#mining-h") == pack.strings["portal.mining.heading"] == "Minería"
    assert page.inner_text("a.skip") == "Saltar al contenido principal"
    assert page.get_attribute("#register-q", "name") == "q"
    assert page.inner_text("label[for=register-q]") == pack.strings["portal.register.search_label"]
    summary = json.loads((site.mining / "summary.json").read_text("utf-8"))
    assert f"USD {summary['revenue_usd'] / 1e6:,.2f} millones" in page.inner_text("#mining")
    visa = page.inner_text("#visa-terms")
    assert "USD 1,000,000" in visa and "Plazo para pagar una factura" in visa
    assert "Comisión Nacional de Activos Digitales" in page.inner_text("footer")
    page.goto(url + "/countries/")
    rows = page.locator("#countries tbody tr")
    assert rows.count() == len(available_packs())
    assert "publicado aquí" in page.inner_text("#countries")
    assert page.errors == []
