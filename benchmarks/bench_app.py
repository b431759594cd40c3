"""The Investigate app in headless Chromium: deep link → charts drawn, one drill-down, and
the first screen.

Run: ``.venv/bin/python benchmarks/bench_app.py [--runs N]`` (needs Debian's Chromium at
``/usr/bin/chromium`` or ``$WORKBENCH_CHROMIUM``; ``make test`` installs it).

``workbench serve`` is started on a free port over the default demo data with a fresh cache.
The first navigation fills the cache (reported apart); then N runs are timed, twice: with
``--no-preheat`` (Voilà starts a kernel when the page asks, so kernel start and notebook run
are inside the time, and the kernel reads the link from its environment) and with the default
preheated kernels (``workbench serve`` keeps one kernel per app started with its notebook run;
it waits for the page to report its link, then loads; a new one warms for the next page,
given 8 s between pages). Each run opens three pages:

* **deep link → first chart**: ``?package=P`` → the Volume chart's marks are in the page;
  **every chart**: then each tab opened in turn until its chart's marks are in the page;
  **drill-down**: "Installer = uv" chosen → the visible chart redrawn (its SVG changed);
* **deep link to a tab**: ``?package=P&installer=pip&tab=Geography`` → the map's marks;
* **first screen**: no query → the start-here panel's first "open" button.

P is the demo's first inflation campaign. Printed: each run and the medians. Every request
that would leave 127.0.0.1 is blocked, as a user without internet would be. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("workbench serve exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("workbench serve did not start")


def _page(browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort(),
    )
    return page


def _visible_svg(page: Any) -> str:
    return str(
        page.evaluate(
            "() => { const s = [...document.querySelectorAll('.widget-tab-contents "
            ".vega-embed svg')].find(e => e.getBoundingClientRect().width > 0); "
            "return s ? s.outerHTML : ''; }"
        )
    )


def _package() -> str:
    from workbench.sources.demo import DemoSource

    truth = DemoSource().ground_truth()
    assert truth is not None
    return str(truth.filter(truth["scenario"] == "inflation_campaign")["project"][0])


def _timed(browser: Any, url: str, ready: str) -> float:
    page = _page(browser)
    began = time.perf_counter()
    page.goto(url, timeout=180_000)
    page.wait_for_selector(ready, timeout=180_000)
    spent = time.perf_counter() - began
    page.close()
    return spent


def _one_run(browser: Any, base: str, package: str, pause: float) -> dict[str, float]:
    result = _linked_run(browser, f"{base}?package={package}")
    time.sleep(pause)
    result["tab_link"] = _timed(
        browser,
        f"{base}?package={package}&installer=pip&tab=Geography",
        ".widget-tab-contents .vega-embed:visible svg .mark-shape",
    )
    time.sleep(pause)
    result["start"] = _timed(browser, base, ".wb-start .wb-start-open")
    return result


def _linked_run(browser: Any, url: str) -> dict[str, float]:
    page = _page(browser)
    began = time.perf_counter()
    page.goto(url, timeout=180_000)
    page.wait_for_selector(".vega-embed svg .mark-line", timeout=180_000)
    first = time.perf_counter() - began
    tabs = page.locator(".lm-TabBar-tab")
    for i in range(tabs.count()):
        tabs.nth(i).click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.widget-tab-contents .vega-embed svg')]"
            ".some(e => e.getBoundingClientRect().width > 0 && e.querySelector('[class*=mark-]'))",
            timeout=60_000,
        )
    every = time.perf_counter() - began
    tabs.nth(0).click()
    page.wait_for_timeout(300)
    before = _visible_svg(page)
    clicked = time.perf_counter()
    page.locator(".widget-dropdown:has(label:text('Installer')) select").select_option(label="uv")
    page.wait_for_function(
        "(before) => { const s = [...document.querySelectorAll("
        "'.widget-tab-contents .vega-embed svg')].find(e => e.getBoundingClientRect().width > 0);"
        " return s && s.outerHTML !== before && s.querySelector('.mark-line'); }",
        arg=before,
        timeout=60_000,
    )
    redraw = time.perf_counter() - clicked
    page.close()
    return {"first": first, "every": every, "redraw": redraw}


@contextlib.contextmanager
def served(*flags: str) -> Iterator[str]:
    """``workbench serve`` (with ``flags``) on a free port and a fresh cache; yields the
    Investigate app's URL once the port answers, and stops the server after."""
    workbench = str(Path(sys.executable).with_name("workbench"))
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "WORKBENCH_CACHE_DIR": str(Path(tmp) / "cache")}
        with (Path(tmp) / "voila.log").open("w") as log:
            proc = subprocess.Popen(
                [workbench, "serve", "--no-browser", *flags, f"--port={port}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_port(port, proc)
            yield f"http://127.0.0.1:{port}/voila/render/01_investigate.ipynb"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _serve_and_measure(runs: int, preheat: bool) -> tuple[dict[str, float], list[dict[str, float]]]:
    from playwright.sync_api import sync_playwright

    with served("--preheat" if preheat else "--no-preheat") as url:
        package = _package()
        pause = 8 if preheat else 0  # the pool's next kernel has time to warm
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            first = _one_run(browser, url, package, pause)
            measured = []
            for _ in range(runs):
                time.sleep(pause)
                measured.append(_one_run(browser, url, package, pause))
            browser.close()
    return first, measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    medians = {}
    for preheat in (False, True):
        label = "preheated kernels" if preheat else "a kernel started per page"
        first, runs = _serve_and_measure(args.runs, preheat)
        print(f"{label}:")
        print(
            f"  cache empty: deep link → first chart {first['first']:.1f} s, every chart "
            f"{first['every']:.1f} s, first screen {first['start']:.1f} s"
        )
        for i, r in enumerate(runs, 1):
            print(f"  run {i}: {_line(r)}")
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        medians[preheat] = med
        print(f"  median of {len(runs)} (cache warm): {_line(med)}")
    for key, what in (("first", "deep link → first chart"), ("tab_link", "link to a tab")):
        ratio = medians[True][key] / medians[False][key]
        print(f"ratio preheated / per-page kernel, {what}: {ratio:.2f}")


def _line(r: dict[str, float]) -> str:
    return (
        f"deep link → first chart {r['first']:.2f} s, every chart {r['every']:.2f} s, "
        f"drill-down redraw {r['redraw']:.2f} s, link to the Geography tab → map "
        f"{r['tab_link']:.2f} s, first screen {r['start']:.2f} s"
    )


if __name__ == "__main__":
    main()
