"""The Voilà apps in a real headless Chromium against a running Voilà server, offline.

Every request that is not to the local server is blocked, so a chart that needed a CDN
would not draw. Screenshots are kept in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from workbench.analysis import analyze
from workbench.cache import Cache
from workbench.query import DayRange, RollupQuery
from workbench.report import build
from workbench.sources.demo import DemoSource

from .conftest import ROOT, SMALL, _free_port, stop, wait_for_port

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _need_browser() -> None:
    missing = not Path(CHROMIUM).exists() or (shutil.which("voila") is None and not _has_voila())
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium ({CHROMIUM}) or Voilà is missing: make test installs them")
        pytest.skip("Chromium or Voilà is not installed")


def _has_voila() -> bool:
    try:
        import voila  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def server(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_browser()
    port = _free_port()
    env = {
        **os.environ,
        "WORKBENCH_DATA_DIR": str(small_demo_dir.parent),
        "WORKBENCH_CACHE_DIR": str(tmp_path_factory.mktemp("voila-cache")),
        "WORKBENCH_DEMO_SEED": str(SMALL.seed),
        "WORKBENCH_DEMO_PACKAGES": str(SMALL.packages),
        "WORKBENCH_DEMO_DAYS": str(SMALL.days),
    }
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                str(ROOT / "notebooks"),
                f"--port={port}",
                "--no-browser",
                "--Voila.ip=127.0.0.1",
                "--strip_sources=True",
            ],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc, log, "Voilà")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _page(browser: Any, blocked: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "file://", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    return page


def _wait_for_app(page: Any, ready: str) -> None:
    """Wait for ``ready``, but fail at once (with the page's text) if the app shows an error
    or the kernel printed a traceback instead."""
    failed = (
        ".wb-error, [data-mime-type='application/vnd.jupyter.stderr'], .jp-OutputArea-output pre"
    )
    page.wait_for_selector(f"{ready}, {failed}", timeout=120_000)
    if page.locator(ready).count() == 0:
        raise AssertionError(f"the app did not load: {page.locator('body').inner_text()[:1500]}")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _visible_tab_text(page: Any) -> str:
    return str(page.locator(".widget-tab-contents .vega-embed:visible").first.inner_text())


def test_investigate_app_draws_drills_down_and_reports_errors(
    server: str, browser: Any, small_demo_dir: Path
) -> None:
    blocked: list[str] = []
    page = _page(browser, blocked)
    started = time.monotonic()
    page.goto(f"{server}/voila/render/01_investigate.ipynb", timeout=120_000)
    _wait_for_app(page, ".wb-findings")
    page.wait_for_selector(".vega-embed svg .mark-line", timeout=60_000)
    first_draw = time.monotonic() - started
    body = page.locator("body").inner_text()
    assert "import" not in body and "InvestigateApp(" not in body  # no code cells shown
    _shot(page, "investigate")

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
    _shot(page, "investigate-drilldown")
    page.locator(".lm-TabBar-tab:has-text('Geography')").click()
    page.wait_for_function(
        "document.querySelectorAll('.widget-tab-contents .vega-embed svg .mark-shape path')"
        ".length > 100",
        timeout=30_000,
    )
    _shot(page, "investigate-map")

    # an unknown package: a clear message in the page
    name.fill("no-such-package")
    name.press("Enter")
    page.wait_for_selector(".wb-error", timeout=30_000)
    assert "No downloads of no-such-package" in page.locator(".wb-error").inner_text()
    _shot(page, "investigate-unknown")
    page.close()
    # Voilà's page template asks a CDN for Font Awesome (icons only); nothing else may leave.
    assert [u for u in blocked if "fontawesome" not in u] == [], blocked
    print(f"first chart drawn {first_draw:.1f} s after navigation")


def _label(small_demo_dir: Path, scenario: str) -> str:
    truth = pl.read_csv(small_demo_dir / "ground_truth.csv")
    return str(truth.filter(pl.col("scenario") == scenario)["project"][0])


def test_research_and_report_apps_render(server: str, browser: Any) -> None:
    blocked: list[str] = []
    page = _page(browser, blocked)
    page.goto(f"{server}/voila/render/02_research.ipynb", timeout=120_000)
    _wait_for_app(page, "button:has-text('Scan every package')")
    page.get_by_role("button", name="Scan every package").click()
    page.wait_for_selector(".wb-ranking", timeout=120_000)
    assert page.locator(".wb-ranking tr").count() > 10
    _shot(page, "research")
    page.goto(f"{server}/voila/render/03_report.ipynb", timeout=120_000)
    _wait_for_app(page, ".wb-report svg")
    assert page.locator(".wb-report h2").count() >= 5
    _shot(page, "report-app")
    page.close()


def test_case_file_opens_and_draws_offline(
    browser: Any, small_demo_dir: Path, tmp_path: Path
) -> None:
    source = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    name = str(
        source.ground_truth().filter(pl.col("scenario") == "geo_concentration")["project"][0]
    )
    result = analyze(
        source, RollupQuery((name,), DayRange(SMALL.start, SMALL.end)), cache=Cache(tmp_path)
    )
    path = tmp_path / "case.html"
    path.write_text(build(result, name))
    blocked: list[str] = []
    page = _page(browser, blocked)
    page.goto(path.as_uri())
    assert page.locator("svg .mark-line, svg .mark-area, svg .mark-rect").count() > 5
    assert page.locator("svg .mark-geoshape path, svg path").count() > 100
    _shot(page, "case-file")
    page.close()
    assert blocked == []
