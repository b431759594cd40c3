"""Drill-down latency in the Investigate app, measured headless (no browser).

Run: ``.venv/bin/python benchmarks/bench_drilldown.py [--package NAME] [--repeat N]``.
For each tab: the time from a filter change to the visible chart's new spec being set on
its widget (breakdowns recomputed from the cached rollup + chart built + spec serialised),
median and p95 over N changes. The first load (not timed) fills the cache. Browser drawing
time is not included (see tests/test_browser.py for the page).
"""

from __future__ import annotations

import argparse
import statistics
import time

from workbench.views.investigate import InvestigateApp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default=None, help="default: the most downloaded package")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    began = time.perf_counter()
    app = InvestigateApp(package=args.package)
    loaded = time.perf_counter() - began
    print(f"{app.project}: first load (rollups, peers, all charts) {loaded:.1f} s")
    values = [v for _, v in app.filters["installer"].options][:4]
    for index, tab in enumerate(list(app.charts)):
        app.tabs.selected_index = index
        times = []
        for i in range(args.repeat):
            started = time.perf_counter()
            app.filters["installer"].value = values[i % len(values)]
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        print(f"  {tab:<12} median {statistics.median(times):6.0f} ms   p95 {p95:6.0f} ms")


if __name__ == "__main__":
    main()
