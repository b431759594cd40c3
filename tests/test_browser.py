"""The Voilà apps in a real headless Chromium against a running Voilà server, offline.

Every request that is not to the local server is blocked, so a chart that needed a CDN
would not draw. Screenshots are kept in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from workbench.cache import Cache
from workbench.investigation import investigate
from workbench.report import build
from workbench.sources.demo import DemoSource

from .browser_support import chromium, new_page, serve, shot, wait_for_app
from .conftest import SMALL

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(small_demo_dir, tmp_path_factory.mktemp("voila")) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _visible_tab_text(page: Any) -> str:
    return str(page.locator(".widget-tab-contents .vega-embed:visible").first.inner_text())


def test_investigate_app_draws_drills_down_and_reports_errors(
    server: str, browser: Any, small_demo_dir: Path
) -> None:
    blocked: list[str] = []
    page = new_page(browser, blocked)
    started = time.monotonic()
    page.goto(f"{server}/voila/render/01_investigate.ipynb", timeout=120_000)
    wait_for_app(page, ".wb-start-open")  # the first screen: suspicious packages to open
    page.locator(".wb-start-open").first.click()
    page.wait_for_selector(".wb-findings", timeout=60_000)
    page.wait_for_selector(".vega-embed svg .mark-line", timeout=60_000)
    first_draw = time.monotonic() - started
    body = page.locator("body").inner_text()
    assert "import" not in body and "InvestigateApp(" not in body  # no code cells shown
    shot(page, "investigate")

    # change the package: every chart redraws for the new one
    name = page.locator("input[placeholder='package name']")
    campaign = _label(small_demo_dir, "inflation_campaign")
    name.fill(campaign)
    name.press("Enter")
    page.wait_for_function(
        f"document.querySelector('.wb-ok') && document.querySelector('.wb-ok')"
        f".textContent.includes('{campaign}')",
        timeout=60_000,
    )
    assert "Suspicion high" in page.locator(".wb-findings").inner_text()

    # drill down: only uv; the Installers tab then holds uv alone
    page.locator(".widget-dropdown:has(label:text('Installer')) select").select_option(label="uv")
    page.wait_for_selector(".wb-filters", timeout=30_000)
    assert "installer = uv" in page.locator(".wb-filters").inner_text()
    page.locator(".lm-TabBar-tab:has-text('Installers')").click()
    page.wait_for_timeout(1500)
    legend = page.locator(".widget-tab-contents .vega-embed:visible .role-legend").first
    labels = legend.text_content() or ""
    assert "uv" in labels and "pip" not in labels
    shot(page, "investigate-drilldown")
    page.locator(".lm-TabBar-tab:has-text('Geography')").click()
    page.wait_for_function(
        "document.querySelectorAll('.widget-tab-contents .vega-embed svg .mark-shape path')"
        ".length > 100",
        timeout=30_000,
    )
    shot(page, "investigate-map")

    # an unknown package: a clear message in the page
    name.fill("no-such-package")
    name.press("Enter")
    page.wait_for_selector(".wb-error", timeout=30_000)
    assert "no downloads found for 'no-such-package'" in page.locator(".wb-error").inner_text()
    shot(page, "investigate-unknown")
    page.close()
    # Voilà's page template asks a CDN for Font Awesome (icons only); nothing else may leave.
    assert [u for u in blocked if "fontawesome" not in u] == [], blocked
    print(f"first chart drawn {first_draw:.1f} s after navigation")


def _label(small_demo_dir: Path, scenario: str) -> str:
    truth = pl.read_csv(small_demo_dir / "ground_truth.csv")
    return str(truth.filter(pl.col("scenario") == scenario)["project"][0])


def test_research_and_report_apps_render(server: str, browser: Any) -> None:
    blocked: list[str] = []
    page = new_page(browser, blocked)
    page.goto(f"{server}/voila/render/02_research.ipynb", timeout=120_000)
    wait_for_app(page, "button:has-text('Scan every package')")
    page.get_by_role("button", name="Scan every package").click()
    page.wait_for_selector(".wb-ranking", timeout=120_000)
    assert page.locator(".wb-ranking tr").count() > 10
    shot(page, "research")
    page.goto(f"{server}/voila/render/03_report.ipynb", timeout=120_000)
    wait_for_app(page, ".wb-report svg")
    assert page.locator(".wb-report h2").count() >= 5
    shot(page, "report-app")
    page.close()


def test_case_file_opens_and_draws_offline(
    browser: Any, small_demo_dir: Path, tmp_path: Path
) -> None:
    source = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    name = str(
        source.ground_truth().filter(pl.col("scenario") == "geo_concentration")["project"][0]
    )
    inv = investigate(name, source=source, start=SMALL.start, end=SMALL.end, cache=Cache(tmp_path))
    path = tmp_path / "case.html"
    path.write_text(build(inv))
    blocked: list[str] = []
    page = new_page(browser, blocked)
    page.goto(path.as_uri())
    assert page.locator("svg .mark-line, svg .mark-area, svg .mark-rect").count() > 5
    assert page.locator("svg .mark-geoshape path, svg path").count() > 100
    shot(page, "case-file")
    page.close()
    assert blocked == []
