"""Click → redraw in the Investigate app: a bar clicked, the timeline brushed.

Run: ``.venv/bin/python benchmarks/bench_click.py [--runs N]`` (needs Debian's Chromium at
``/usr/bin/chromium`` or ``$WORKBENCH_CHROMIUM``).

``workbench serve`` (preheated kernels) over the default demo with a fresh cache; one page
load fills the cache, then N pages, each:

* **click → clicked chart**: the "pip" bar of the installer share clicked → the Installers
  chart redrawn (its SVG changed; the filter bar then says ``installer = pip``);
* **click → other tab**: then the "Python & OS" tab opened → its chart redrawn for pip
  (other tabs redraw when opened; timed from the click);
* **brush → timeline**: a brush over the middle third of the Volume chart → redrawn
  (includes the widget's 300 ms rest before a brush is reported).

Also, without a browser: the kernel's share (selection received → filter set → the visible
chart's new spec set), median over N. Printed, nothing asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench_app import ARGS, CHROMIUM, _package, _page, served

SVGS = "[...document.querySelectorAll('.widget-tab-contents .vega-embed svg')]"
VISIBLE = f"() => {{ const s = {SVGS}.find(e => e.getBoundingClientRect().width > 0); return s ? s.outerHTML : ''; }}"  # noqa: E501
CHANGED = (
    f"(before) => {{ const s = {SVGS}.find(e => e.getBoundingClientRect().width > 0);"
    " return s && s.outerHTML !== before && s.querySelector('[class*=mark-]'); }"
)
NTH = f"(i) => {{ const s = {SVGS}[i]; return s ? s.outerHTML : ''; }}"


def _tab(page: Any, name: str) -> None:
    page.locator(f".lm-TabBar-tab:has-text('{name}')").click()


def _one_run(browser: Any, url: str) -> dict[str, float]:
    page = _page(browser)
    page.goto(url, timeout=180_000)
    page.wait_for_selector(".vega-embed svg .mark-line", timeout=180_000)
    tabs = [t.strip() for t in page.locator(".lm-TabBar-tab").all_inner_texts()]
    python_os = page.evaluate(NTH, tabs.index("Python & OS"))
    _tab(page, "Installers")
    page.wait_for_timeout(500)
    bar = page.locator(
        ".widget-tab-contents .vega-embed:visible "
        "path[aria-roledescription='bar'][aria-label*='installer: pip']"
    ).first
    before = page.evaluate(VISIBLE)
    clicked = time.perf_counter()
    bar.click()
    page.wait_for_function(CHANGED, arg=before, timeout=60_000)
    same_chart = time.perf_counter() - clicked
    page.wait_for_selector(".wb-filters", timeout=60_000)
    _tab(page, "Python & OS")
    page.wait_for_function(CHANGED, arg=python_os, timeout=60_000)
    other_tab = time.perf_counter() - clicked
    _tab(page, "Volume")
    page.wait_for_timeout(500)
    box = page.locator(".widget-tab-contents .vega-embed:visible .mark-line path").first
    plot = box.bounding_box()
    y = plot["y"] + plot["height"] / 2
    x1, x2 = plot["x"] + plot["width"] / 3, plot["x"] + plot["width"] * 2 / 3
    page.mouse.move(x1, y)
    page.mouse.down()
    page.mouse.move(x2, y, steps=8)
    brushed = time.perf_counter()
    page.mouse.up()
    before = page.evaluate(VISIBLE)  # with the brush drawn: only a redraw changes it now
    page.wait_for_function(CHANGED, arg=before, timeout=60_000)
    brush = time.perf_counter() - brushed
    page.close()
    return {"click → clicked chart": same_chart, "click → other tab": other_tab,
            "brush → timeline": brush}  # fmt: skip


def _browser_runs(runs: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    with served() as app, sync_playwright() as p:
        url = f"{app}?package={_package()}"  # without one, the page opens on "start here"
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        _one_run(browser, url)  # fills the cache
        measured = []
        for _ in range(runs):
            time.sleep(8)  # the pool's next kernel has time to warm
            measured.append(_one_run(browser, url))
        browser.close()
    return measured


def _kernel_runs(runs: int) -> list[float]:
    from workbench.views.investigate import InvestigateApp

    app = InvestigateApp("demo", package=_package())  # no package: the start-here panel
    app.tabs.selected_index = list(app.charts).index("Installers")
    chart = app.charts["Installers"]
    times = []
    for i in range(runs):
        app.clear_filters()
        value = "uv" if i % 2 else "pip"
        point = {"installer": [value], "vlPoint": {"or": [{"installer": value}]}}
        sent = {**chart._vl_selections, "installer_bar": {"value": point, "store": []}}
        began = time.perf_counter()
        chart._vl_selections = sent  # what the page sends on a click
        times.append(time.perf_counter() - began)
        assert app.filters["installer"].value == value
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    kernel = _kernel_runs(args.runs)
    print(
        f"kernel (no browser): selection → filter → new spec, median "
        f"{statistics.median(kernel) * 1000:.0f} ms, max {max(kernel) * 1000:.0f} ms"
    )
    runs = _browser_runs(args.runs)
    for i, r in enumerate(runs, 1):
        print(f"  run {i}: " + ", ".join(f"{k} {v:.2f} s" for k, v in r.items()))
    print(
        f"median of {len(runs)}: "
        + ", ".join(f"{k} {statistics.median(r[k] for r in runs):.2f} s" for k in runs[0])
    )


if __name__ == "__main__":
    main()
