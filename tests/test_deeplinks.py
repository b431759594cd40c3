"""Deep links in a real headless Chromium against ``workbench serve`` (preheated kernels, as
users get them), offline: a link opens its package, range, filter and tab; a bad value is a
visible message; the first screen lists suspicious packages; the address follows the view.
Screenshots are kept in ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest

from workbench.cache import Cache
from workbench.investigation import investigate
from workbench.sources.demo import DemoSource

from .browser_support import chromium, new_page, serve, shot
from .conftest import SMALL

pytestmark = pytest.mark.browser

INVESTIGATE = "/voila/render/01_investigate.ipynb"


@pytest.fixture(scope="module")
def server(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(small_demo_dir, tmp_path_factory.mktemp("voila-links")) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _campaign(small_demo_dir: Path) -> str:
    truth = pl.read_csv(small_demo_dir / "ground_truth.csv")
    return str(truth.filter(pl.col("scenario") == "inflation_campaign")["project"][0])


def _first_ok(page: Any) -> str:
    """The first success message the page shows (what was loaded first)."""
    page.wait_for_selector(".wb-ok", timeout=120_000)
    return str(page.locator(".wb-ok").first.inner_text())


def test_a_deep_link_opens_its_package_range_filter_and_tab(
    server: str, browser: Any, small_demo_dir: Path, tmp_path: Path
) -> None:
    name = _campaign(small_demo_dir)
    demo = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    end = demo.last_day()
    start = end - dt.timedelta(days=29)
    inv = investigate(name, source=demo, start=start, end=end, cache=Cache(tmp_path / "c"))
    country = str(inv.frame("countries")["country"][1])  # the second country: not a default
    blocked: list[str] = []
    page = new_page(browser, blocked)
    query = f"package={name}&start={start}&end={end}&country={country}&tab=Geography"
    page.goto(f"{server}{INVESTIGATE}?{query}", timeout=120_000)
    first = _first_ok(page)
    # the preheated kernel waited for the page: the first thing loaded is the linked package
    assert name in first and f"{start}..{end}" in first, first
    page.wait_for_selector(".wb-findings", timeout=60_000)
    assert f"country = {country}" in page.locator(".wb-filters").inner_text()
    current = page.locator(".lm-TabBar-tab.lm-mod-current").inner_text()
    assert current.strip() == "Geography"
    drawn = ".widget-tab-contents .vega-embed:visible svg .mark-shape"
    page.wait_for_selector(drawn, timeout=60_000)
    link = page.locator(".wb-link a").get_attribute("href") or ""
    assert parse_qs(link.lstrip("?")) == parse_qs(query)
    assert parse_qs(urlsplit(page.url).query) == parse_qs(query)  # the address bar, too
    shot(page, "deeplink-geography")

    # a change on screen changes the link and the address
    page.locator(".lm-TabBar-tab:has-text('Versions')").click()
    page.wait_for_function(
        "() => (document.querySelector('.wb-link a') || {}).href?.includes('tab=Versions')",
        timeout=30_000,
    )
    page.wait_for_function("() => location.search.includes('tab=Versions')", timeout=30_000)
    assert not blocked or all("127.0.0.1" not in u for u in blocked)
    page.close()


def test_bad_link_values_are_visible_messages(
    server: str, browser: Any, small_demo_dir: Path
) -> None:
    name = _campaign(small_demo_dir)
    page = new_page(browser, [])
    page.goto(f"{server}{INVESTIGATE}?package={name}&ci=perhaps&tab=Map", timeout=120_000)
    page.wait_for_selector(".wb-findings", timeout=120_000)
    errors = page.locator(".wb-error").all_inner_texts()
    assert any("ci must be yes or no" in e for e in errors), errors
    assert any("no tab 'Map'" in e for e in errors), errors
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and name in _first_ok(page)
    page.close()

    page = new_page(browser, [])
    page.goto(f"{server}{INVESTIGATE}?package=../../etc", timeout=120_000)
    page.wait_for_selector(".wb-error", timeout=120_000)
    assert "not a valid package name" in page.locator(".wb-error").first.inner_text()
    shot(page, "deeplink-bad-value")
    page.close()


def test_the_first_screen_lists_suspicious_packages_one_click_away(
    server: str, browser: Any, small_demo_dir: Path
) -> None:
    page = new_page(browser, [])
    page.goto(f"{server}{INVESTIGATE}", timeout=120_000)
    page.wait_for_selector(".wb-start .wb-start-open", timeout=120_000)
    shot(page, "start-here")
    buttons = page.locator(".wb-start .wb-start-open")
    assert buttons.count() >= 3
    first = buttons.first.inner_text().strip()
    truth = pl.read_csv(small_demo_dir / "ground_truth.csv")
    assert first in set(truth["project"])  # one of the demo's planted cases
    buttons.first.click()
    page.wait_for_selector(".wb-findings", timeout=60_000)
    page.wait_for_selector(".vega-embed svg .mark-line", timeout=60_000)
    assert first in page.locator(".wb-ok").first.inner_text()
    page.wait_for_function(f"() => location.search.includes('package={first}')", timeout=30_000)
    page.close()


def test_a_tab_downloads_as_csv_and_svg_offline(
    server: str, browser: Any, small_demo_dir: Path
) -> None:
    name = _campaign(small_demo_dir)
    blocked: list[str] = []
    page = new_page(browser, blocked)
    page.goto(f"{server}{INVESTIGATE}?package={name}&installer=pip&tab=Installers")
    page.wait_for_selector(".wb-export .wb-export-csv", timeout=120_000)
    page.wait_for_selector(".widget-tab-contents .vega-embed:visible svg", timeout=60_000)
    with page.expect_download(timeout=60_000) as got:
        page.locator(".wb-export .wb-export-csv").click()
    download = got.value
    assert download.suggested_filename.endswith("_installers_installer-pip.csv")
    frame = pl.read_csv(download.path())
    assert set(frame["installer"].drop_nulls()) == {"pip"} and frame["downloads"].sum() > 0
    with page.expect_download(timeout=60_000) as got:
        page.locator(".wb-export .wb-export-svg").click()
    svg = Path(got.value.path()).read_text()
    assert svg.lstrip().startswith("<svg") and "pip" in svg
    shot(page, "export")
    assert not blocked or all("127.0.0.1" not in u for u in blocked)
    page.close()
