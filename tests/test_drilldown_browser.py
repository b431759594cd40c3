"""Chart-driven drill-down in a real headless Chromium against ``workbench serve``, offline:
a click on a bar and a brush on the timeline set the filter bar, and the charts redraw.

Charts are SVG (the app embeds with the SVG renderer), so a bar is an element to click.
Screenshots are kept in ``test-artifacts/``; the click → redraw times are printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from .browser_support import chromium, new_page, serve, shot, wait_for_app

pytestmark = pytest.mark.browser

#: The SVG of the chart in the visible tab (empty when none has drawn).
VISIBLE_SVG = (
    "() => { const s = [...document.querySelectorAll('.widget-tab-contents .vega-embed svg')]"
    ".find(e => e.getBoundingClientRect().width > 0); return s ? s.outerHTML : ''; }"
)
CHANGED = (
    "(before) => { const s = [...document.querySelectorAll('.widget-tab-contents "
    ".vega-embed svg')].find(e => e.getBoundingClientRect().width > 0);"
    " return s && s.outerHTML !== before && s.querySelector('[class*=mark-]'); }"
)
#: How long the visible chart must stay unchanged to count as drawn.
SETTLED = 1.0
#: The filter bar shows a day span.
SPAN_SET = (
    "() => { const f = document.querySelector('.wb-filters');"
    " return f && f.textContent.includes('from '); }"
)


@pytest.fixture(scope="module")
def server(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(small_demo_dir, tmp_path_factory.mktemp("voila-drill")) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _open_tab(page: Any, tab: str) -> None:
    """Open ``tab`` and wait until its chart has drawn and stopped changing: a tab left
    stale by a drill-down first shows its old chart, then the kernel's redraw."""
    page.locator(f".lm-TabBar-tab:has-text('{tab}')").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-tab-contents .vega-embed svg')]"
        ".some(e => e.getBoundingClientRect().width > 0 && e.querySelector('[class*=mark-]'))",
        timeout=60_000,
    )
    _settle(page)


def _settle(page: Any, quiet: float = SETTLED, timeout: float = 60.0) -> None:
    """Wait until the visible chart's SVG has not changed for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = page.evaluate(VISIBLE_SVG), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "the visible chart kept changing"
        page.wait_for_timeout(100)
        now = page.evaluate(VISIBLE_SVG)
        if now != last:
            last, since = now, time.monotonic()


def _brush(page: Any) -> tuple[float, str]:
    """Drag across the timeline until the filter bar shows a day span. A drag that lands
    while the chart is being replaced is lost, as it would be for a user, who drags again:
    once, on the chart as it is now (not after a slow one, which would set the same span
    again, and redraw nothing). Returns when the last drag began, and the chart's SVG
    after it (with the brush drawn: only a redraw changes it now)."""
    began, before = _drag(page)
    try:
        page.wait_for_function(SPAN_SET, timeout=15_000)
    except Exception:
        shot(page, "debug-brush")
        _settle(page)
        if not page.evaluate(SPAN_SET):  # lost, not merely slow: a second drag
            began, before = _drag(page)
            page.wait_for_function(SPAN_SET, timeout=30_000)
    return began, before


def _drag(page: Any) -> tuple[float, str]:
    """Drag across 30–60 % of the visible timeline: when it began, and the SVG after it."""
    began = time.monotonic()
    plot = _visible(page).locator(".mark-line path").first.bounding_box()
    assert plot is not None
    y = plot["y"] + plot["height"] / 2
    x1, x2 = plot["x"] + plot["width"] * 0.3, plot["x"] + plot["width"] * 0.6
    page.mouse.move(x1, y)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, y, steps=5)
    page.mouse.move(x2, y, steps=5)
    page.mouse.up()
    return began, page.evaluate(VISIBLE_SVG)


def _dropdown(page: Any, label: str) -> str:
    select = page.locator(f".widget-dropdown:has(label:text('{label}')) select")
    # a cleared filter (value None) shows no selected option
    return str(select.evaluate("s => s.selectedIndex < 0 ? '' : s.options[s.selectedIndex].text"))


def _visible(page: Any) -> Any:
    return page.locator(".widget-tab-contents .vega-embed:visible").first


def test_a_click_on_a_bar_and_a_brush_drive_the_filter_bar(
    server: str, browser: Any, small_demo_dir: Path
) -> None:
    blocked: list[str] = []
    page = new_page(browser, blocked)
    # the page opens on the start-here panel without a package: link to the busiest one
    raw = pl.scan_parquet(small_demo_dir / "file_downloads")
    name = raw.group_by("project").len().sort("len").collect()["project"][-1]
    page.goto(f"{server}/voila/render/01_investigate.ipynb?package={name}", timeout=120_000)
    wait_for_app(page, ".wb-findings")
    page.wait_for_selector(".vega-embed svg .mark-line", timeout=60_000)
    assert page.locator(".wb-filters").count() == 0

    # a click on the "pip" bar of the installer share
    _open_tab(page, "Installers")
    bar = (
        _visible(page)
        .locator("path[aria-roledescription='bar'][aria-label*='installer: pip']")
        .first
    )
    assert bar.count() == 1, _visible(page).inner_html()[:2000]
    legend_before = _visible(page).locator(".role-legend").first.text_content() or ""
    assert "pip" in legend_before and len(legend_before) > len("pip")
    before = page.evaluate(VISIBLE_SVG)
    clicked = time.monotonic()
    bar.click()
    try:
        page.wait_for_function(CHANGED, arg=before, timeout=15_000)
    except Exception:
        shot(page, "debug-click")
        print("STATUS", page.locator(".wb-ok, .wb-info, .wb-error").first.inner_text()[:1500])
        print("BAR", bar.evaluate("e => e.outerHTML"))
        raise
    redrawn = time.monotonic() - clicked
    page.wait_for_selector(".wb-filters", timeout=30_000)
    assert "installer = pip" in page.locator(".wb-filters").inner_text()
    assert _dropdown(page, "Installer") == "pip"
    legend = _visible(page).locator(".role-legend").first.text_content() or ""
    assert legend.strip() == "pip", legend  # the stacked areas now hold pip alone
    shot(page, "drilldown-click")
    # the other tabs follow: the Python & OS bars are those of pip's downloads
    opened = time.monotonic()
    _open_tab(page, "Python & OS")
    other_tab = time.monotonic() - opened - SETTLED
    assert (
        "installer = pip" in (_visible(page).text_content() or "")
        or _dropdown(page, "Installer") == "pip"
    )

    # a brush on the timeline sets the day span
    _open_tab(page, "Volume")
    brushed, before = _brush(page)
    page.wait_for_function(CHANGED, arg=before, timeout=30_000)
    brush_redrawn = time.monotonic() - brushed
    bar_text = page.locator(".wb-filters").inner_text()
    assert "installer = pip" in bar_text and " to " in bar_text, bar_text
    shot(page, "drilldown-brush")

    # clearing the filter bar: every filter and the brush go
    page.get_by_role("button", name="Clear filters").click()
    page.wait_for_function("() => !document.querySelector('.wb-filters')", timeout=30_000)
    assert _dropdown(page, "Installer") in ("", "(all)")

    # a click on a legend entry of the stacked areas
    _open_tab(page, "Installers")
    entry = _visible(page).locator(".role-legend-label text", has_text="uv").first
    entry.wait_for(state="visible", timeout=30_000)
    before = page.evaluate(VISIBLE_SVG)
    entry.click()
    try:
        page.wait_for_function(CHANGED, arg=before, timeout=15_000)
    except Exception:
        shot(page, "debug-legend")
        print("STATUS", page.locator(".wb-ok, .wb-info, .wb-error").first.inner_text()[:1500])
        raise
    assert "installer = uv" in page.locator(".wb-filters").inner_text()
    assert _dropdown(page, "Installer") == "uv"
    page.close()
    assert [u for u in blocked if "fontawesome" not in u] == [], blocked
    print(
        f"click → clicked chart redrawn {redrawn:.2f} s; another tab opened and redrawn "
        f"{other_tab:.2f} s; brush → timeline redrawn {brush_redrawn:.2f} s"
    )
