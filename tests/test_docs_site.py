"""The built policy explorer: `mkdocs build --strict` from the real packs, a pack change that
shows on rebuild with no other edit, and the site opened in headless Chromium (tables, charts,
Chinese search). Screenshots go to $MINZHENG_DOCS_SHOTS when set (else a temp folder)."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from minzheng_rules import load_pack
from minzheng_rules.cli.main import app
from minzheng_rules.packs._discovery import builtin_packs_dir

pytest.importorskip("mkdocs", reason="docs extra not installed (pip install -e '.[docs]')")
pytest.importorskip("material", reason="mkdocs-material not installed (docs extra)")

from minzheng_rules.docsgen import build_site

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The real site, built strictly from the shipped packs (one build for the module)."""
    out = tmp_path_factory.mktemp("site")
    return build_site(out, on=TODAY, config_file=REPO / "mkdocs.yml", strict=True)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _visible(html: str) -> str:
    """The page's text without tags, so a number split by markup still reads as one."""
    return re.sub(r"<[^>]+>", "", html)


def test_every_pack_has_a_page_and_generated_sections_exist(site):
    for pid in (p.name for p in builtin_packs_dir().iterdir() if (p / "pack.yaml").is_file()):
        assert (site / "packs" / f"{pid}.html").is_file(), pid
    for page in (
        "compare.html",
        "calculator.html",
        "needs/index.html",
        "examples/index.html",
        "reference/cli.html",
        "reference/schema.html",
    ):
        assert (site / page).is_file(), page
    assert (site / "reference" / "pack.schema.json").is_file()
    compare = _text(site / "compare.html")
    assert 'href="packs/huzhou.html"' in compare  # generated pages are in the navigation
    assert compare.count('<figure class="mz-chart" data-search-exclude>') >= 1
    assert "<svg" in compare and "mz-step" in compare


def test_navigation_lists_generated_pages_after_their_index():
    from minzheng_rules.docsgen._site import GeneratedSite
    from minzheng_rules.docsgen.hooks import _expand

    site = GeneratedSite(nav={"packs/index.md": [("湖州市 Huzhou", "packs/huzhou.md")]})
    nav = [{"Home": "index.md"}, {"Packs": ["packs/index.md"]}, {"Other": ["x.md"]}]
    assert _expand(nav, site) == [
        {"Home": "index.md"},
        {"Packs": ["packs/index.md", {"湖州市 Huzhou": "packs/huzhou.md"}]},
        {"Other": ["x.md"]},
    ]


def test_pack_format_page_carries_the_json_schema(site):
    page = _text(site / "pack-format.html")
    assert "minzheng-rules pack file" in page  # the schema's title, inserted at build time
    assert "minzheng:json-schema" not in page


def test_site_loads_nothing_from_the_internet(site):
    external = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["'](?:https?:)?//""")
    for page in site.rglob("*.html"):
        match = external.search(_text(page))
        assert match is None, f"{page.relative_to(site)} loads {match.group(0) if match else ''}"
    assert "fonts.googleapis" not in _text(site / "index.html")


def test_search_index_holds_chinese_words(site):
    index = json.loads(_text(site / "search" / "search_index.json"))
    words = {
        w for doc in index["docs"] for w in re.split(index["config"]["separator"], doc["text"])
    }
    # cut into words by jieba at build time; a word that begins a key term carries an
    # invisible word joiner (U+2060) so the browser's query segmenter keeps 低保 whole
    assert {"低保\u2060", "孤儿\u2060", "特困\u2060", "尊老金"} <= words
    assert not {"低", "孤", "高龄", "最低"} & words  # prefixes the segmenter would cut at


def test_changing_a_standard_changes_city_and_comparison_pages(site, tmp_path):
    """Copy the packs, give 湖州 a new 低保 standard from a date, rebuild: the city page and the
    comparison page show it, with no other edit."""
    packs = tmp_path / "policies"
    for pid in load_pack("huzhou").definition.chain:  # huzhou and what it builds on: quicker
        shutil.copytree(builtin_packs_dir() / pid, packs / pid)
    path = next(  # whichever file of the pack defines the standard
        f
        for f in sorted((packs / "huzhou").glob("*.yaml"))
        if "dibao.standard" in ((yaml.safe_load(_text(f)) or {}).get("parameters") or {})
    )
    data = yaml.safe_load(_text(path))
    history = data["parameters"]["dibao.standard"]["history"]
    since = max(TODAY, history[-1]["since"] + dt.timedelta(days=1))
    new_value = 4321
    history.append(
        {
            "since": since,
            "value": new_value,
            "confidence": "modelled",
            "source": {"reasoning": "a test of the explorer: a changed standard"},
        }
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = {p: _visible(_text(site / p)) for p in ("packs/huzhou.html", "compare.html")}
    if since != TODAY:  # a pack already dated past today: rebuild the baseline on that date
        base = build_site(tmp_path / "base", on=since, config_file=REPO / "mkdocs.yml")
        before = {p: _visible(_text(base / p)) for p in before}
    out = tmp_path / "site"
    args = ["docs", "build", "--out", str(out), "--packs", str(packs), "--date", str(since)]
    result = CliRunner().invoke(app, [*args, "--config", str(REPO / "mkdocs.yml")])
    assert result.exit_code == 0, result.output
    for page, old in before.items():
        new = _visible(_text(out / page))
        assert str(new_value) not in old, page
        assert f"{new_value} 元/人·月" in new, page  # the current standard, with its unit
    huzhou = _visible(_text(out / "packs" / "huzhou.html"))
    visible = " ".join(huzhou.split())
    assert f"{since} (assumed 推定) {new_value} modelled" in visible  # history row, marked
    chart = _text(out / "compare.html")
    assert f"{since}: {new_value} (modelled)" in chart  # a point of the 低保 chart


# --- in a browser -------------------------------------------------------------------------


def _server(root: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        reason = (
            "headless Chromium not installed: apt-get install chromium chromium-driver "
            "(.ci/run installs it)"
        )
        if os.environ.get("CI"):  # in CI a skip would hide a missing install step
            pytest.fail(reason)
        pytest.skip(reason)
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1800",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    server = _server(site)
    base = next(server)
    shots = Path(os.environ.get("MINZHENG_DOCS_SHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield driver, base, shots
    finally:
        driver.quit()
        next(server, None)


def _wait(predicate, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def _rendered_tables(driver) -> list[int]:
    """Row counts of the visible tables that have a body."""
    return driver.execute_script(
        "return [...document.querySelectorAll('article table')]"
        ".filter(t => t.getBoundingClientRect().width > 0)"
        ".map(t => t.querySelectorAll('tbody tr').length)"
    )


def _chart_sizes(driver) -> list[list[float]]:
    """For each chart: its drawn width and height, and the width of its longest step line."""
    return driver.execute_script(
        "return [...document.querySelectorAll('figure.mz-chart svg')].map(s => {"
        " const r = s.getBoundingClientRect();"
        " const steps = [...s.querySelectorAll('line.mz-step')]"
        "   .map(l => l.getBoundingClientRect().width);"
        " return [r.width, r.height, Math.max(0, ...steps)]; })"
    )


def _only_local_resources(driver, base: str) -> list[str]:
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [u for u in urls if not u.startswith(base)]


def _screenshot_chart(driver, shots: Path, name: str) -> None:
    driver.execute_script(
        "const f = document.querySelector('figure.mz-chart');"
        "f.scrollIntoView(); window.scrollBy(0, -90);"
    )
    driver.save_screenshot(str(shots / name))


@pytest.mark.parametrize("page", ["compare.html", "packs/huzhou.html"])
def test_tables_and_charts_render_in_chromium(browser, page):
    driver, base, shots = browser
    driver.get(base + page)
    assert _wait(lambda: driver.execute_script("return document.readyState") == "complete")
    name = page.removesuffix(".html").replace("/", "-")
    driver.save_screenshot(str(shots / f"{name}.png"))
    rows = _rendered_tables(driver)
    assert len(rows) >= 2 and min(rows) >= 1, rows
    charts = _chart_sizes(driver)
    assert charts, "no chart on the page"
    for width, height, longest_step in charts:
        assert width > 150 and height > 80, charts  # laid out, not collapsed
        assert longest_step > 5, charts  # its lines were drawn
    _screenshot_chart(driver, shots, f"{name}-chart.png")
    assert _only_local_resources(driver, base) == []


@pytest.mark.parametrize("query", ["低保", "孤儿"])
def test_chinese_search_returns_results(browser, query):
    from selenium.webdriver.common.by import By

    driver, base, shots = browser
    driver.get(base)
    box = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "input.md-search__input"))
    box[0].click()
    box[0].send_keys(query)
    results = _wait(
        lambda: driver.find_elements(By.CSS_SELECTOR, ".md-search-result__item"), timeout=20
    )
    driver.save_screenshot(str(shots / f"search-{query}.png"))
    assert results, f"no search results for {query}"
    meta = driver.find_element(By.CSS_SELECTOR, ".md-search-result__meta").text
    assert re.search(r"\d+ matching document", meta), meta
    highlighted = driver.find_elements(By.CSS_SELECTOR, ".md-search-result mark")
    assert any(query in m.text for m in highlighted)


def _search(driver, url: str, query: str) -> list[str]:
    """The result links, best first, for a query typed into the search box at ``url``."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    box = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "input.md-search__input"))
    box[0].click()
    box[0].send_keys(query)
    _wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".md-search-result__item"), timeout=20)
    time.sleep(0.3)  # results arrive once; the empty-?h= cleaner runs on the same change
    return driver.execute_script(
        "return [...document.querySelectorAll('.md-search-result__item > a')]"
        ".map(a => a.getAttribute('href'))"
    )


@pytest.mark.parametrize(
    ("query", "page"),
    [
        ("低保", "programs/dibao.html"),
        ("最低生活保障", "programs/dibao.html"),
        ("dibao", "programs/dibao.html"),
        ("高龄津贴", "programs/longevity_allowance.html"),
        ("尊老金", "programs/longevity_allowance.html"),
        ("特困", "programs/tekun.html"),
        ("孤儿", "programs/orphan_allowance.html"),
        ("孤儿基本生活费", "programs/orphan_allowance.html"),
    ],
)
def test_search_puts_the_program_page_first_from_file_urls(browser, site, query, page):
    """Opened from the file system (file://), the search works and the program's own page
    comes first for its name and synonyms; no result link carries an empty ?h=."""
    driver, _, shots = browser
    links = _search(driver, (site / "index.html").as_uri(), query)
    driver.save_screenshot(str(shots / f"search-file-{query}.png"))
    assert links, f"no results for {query} from file://"
    assert links[0].split("?")[0].split("#")[0].endswith(page), links[:5]
    assert not [h for h in links if re.search(r"\?h=(#|$)", h)], links
    assert "?h=" in links[0]  # the first result highlights the query on its page


def test_site_works_from_file_urls(browser, site):
    """Links between pages open pages (not folder listings) from file://."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver, _, _ = browser
    driver.get((site / "index.html").as_uri())

    def file_links(d):  # the navigation, once the page has it (a busy machine is slow)
        hrefs = [
            a.get_attribute("href")
            for a in d.find_elements(By.CSS_SELECTOR, "nav.md-nav--primary a.md-nav__link[href]")
        ]
        return [h for h in hrefs if h and h.startswith("file://")]

    try:
        pages = WebDriverWait(driver, 30).until(file_links)
    except TimeoutException:
        raise AssertionError(f"no navigation on {driver.current_url} ({driver.title})") from None
    assert all(h.split("#")[0].endswith(".html") for h in pages), pages[:10]

    driver.get(next(h for h in pages if h.endswith("compare.html")))
    try:  # a large page on a busy machine: wait for it rather than read it half-built
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "article table"))
    except TimeoutException:
        raise AssertionError(f"no table on {driver.current_url} ({driver.title})") from None
    assert "Index of" not in driver.title


def test_chart_text_stays_out_of_the_search_index(site):
    index = _text(site / "search" / "search_index.json")
    compare = _text(site / "compare.html")
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", compare)
    assert captions
    ticks = re.findall(r"<text[^>]*>([^<]+)</text>", compare)
    assert ticks
    for caption in captions[:5]:
        assert caption not in index
    assert " ".join(ticks[:4]) not in index


def test_calculator_page_answers_a_worked_example_from_file_urls(browser, site):
    """The calculator, opened from file://, loads a pack's worked example and shows the
    amounts the case expects (hand-computed in the pack's cases)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from minzheng_rules.docsgen._examples import case_title

    driver, _, shots = browser
    pack = load_pack("huzhou")
    case = next(c for c in pack.cases if any(e.status == "eligible" for e in c.expect.values()))
    driver.get((site / "calculator.html").as_uri())
    _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#mz-calc-results[data-state]"))
    Select(driver.find_element(By.ID, "mz-calc-pack")).select_by_value("huzhou")
    Select(driver.find_element(By.ID, "mz-calc-example")).select_by_visible_text(
        f"{case_title(pack, case)} · {case.id}"
    )
    rows = _wait(
        lambda: driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('tr[data-program]')]"
            ".map(r => [r.dataset.program, [r.dataset.status, r.dataset.amount]]))"
        )
    )
    driver.save_screenshot(str(shots / "calculator.png"))
    for pid, want in case.expect.items():
        assert rows[pid][0] == want.status, (pid, rows[pid])
        if want.amount is not None:
            assert Decimal(rows[pid][1]) == want.amount, (pid, rows[pid])
    # the why-trace names the parameters with their dates and sources
    driver.execute_script("document.querySelectorAll('details.mz-calc-why')[0].open = true")
    why = driver.find_element(By.CSS_SELECTOR, "details.mz-calc-why").text
    assert "自 since" in why or "未知" in why or "✓" in why or "✗" in why


def test_compare_page_recomputes_values_on_the_date_chosen(browser, site):
    """Pick a date on the compare page: each value is the one in force that day, with its
    since-date, and values older than two years before it are flagged."""
    from minzheng_rules.docsgen import _md as md
    from minzheng_rules.docsgen._compare import stale_before
    from minzheng_rules.docsgen._values import value_on

    driver, _, shots = browser
    driver.get((site / "compare.html").as_uri())
    on = dt.date(2022, 6, 1)
    driver.execute_script(
        "const i = document.getElementById('mz-compare-date'); i.value = arguments[0];"
        "i.dispatchEvent(new Event('change'));",
        on.isoformat(),
    )
    cells = driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll("
        "'.mz-cell[data-param=\"dibao.standard\"]')].map(c => [c.dataset.pack, c.innerText]))"
    )
    driver.save_screenshot(str(shots / "compare-2022-06-01.png"))
    assert set(cells) >= {"huzhou", "zhenjiang"}
    for pid, text in cells.items():
        shown = value_on(load_pack(pid), "dibao.standard", on)
        assert shown is not None and shown.since is not None
        assert text.startswith(f"{md.number(shown.value)} "), text
        assert f"since {shown.since}" in text, text
        assert ("over 2 years old" in text) == (shown.since < stale_before(on)), text


def test_api_page_lists_fields_and_enum_values(site):
    text = re.sub(r"\s+", " ", _visible(_text(site / "reference" / "api.html")))
    for field in ("monthly_income", "assessed_needs", "excluded_by", "amount_explanation"):
        assert field in text, field  # Member, Household, ProgramOutcome fields
    assert "eligible ineligible undetermined" in text  # the Status enum's values
    assert "tour::" not in text  # no raw reStructuredText
