"""Drill-down latency in the Investigate app, measured headless (no browser).

Run: ``.venv/bin/python benchmarks/bench_drilldown.py [--dataset demo|1M|10M|100M]
[--package NAME] [--repeat N]``.

For each tab: the time from a filter change to the visible chart's new spec being set on
its widget (breakdowns recomputed from the cached rollup + chart built + spec serialised),
median and p95 over N changes; then, after one filter change, **every** tab's breakdowns
(the frames alone), and every tab's breakdowns and charts (what a change would cost if all
tabs were visible). The first load (timed
separately) fills the cache; ``--dataset 100M`` uses the benchmark dataset of
``datasets.py``, whose most popular package is investigated against ~5,000 peers. Browser
drawing time is not included (see benchmarks/bench_app.py).
"""

from __future__ import annotations

import argparse
import statistics
import time

import datasets

from workbench.sources.local import ParquetSource
from workbench.views.investigate import InvestigateApp


def _summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return f"median {statistics.median(times):6.0f} ms   p95 {p95:6.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default=None, help="default: the most downloaded package")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dataset", default="demo", help="demo, or 1M / 10M / 100M")
    datasets.add_argument(parser)
    args = parser.parse_args()
    if args.dataset == "demo":
        source = "demo"
    else:
        source = ParquetSource(datasets.dataset(args.dataset, args.data_dir))
    began = time.perf_counter()
    app = InvestigateApp(source, package=args.package)
    loaded = time.perf_counter() - began
    rows = app._rows.collect().height
    print(
        f"{args.dataset}: {app.project} ({rows:,} rollup rows): first load (rollups, peers, "
        f"all charts) {loaded:.1f} s"
    )
    values = [v for _, v in app.filters["installer"].options][:4]
    for index, tab in enumerate(list(app.charts)):
        app.tabs.selected_index = index
        times = []
        for i in range(args.repeat):
            started = time.perf_counter()
            app.filters["installer"].value = values[i % len(values)]
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {tab:<12} {_summary(times)}")
    frames, every = [], []
    app.filters["installer"].unobserve_all()  # from here: the change alone, then timed work
    for i in range(args.repeat):
        app.filters["installer"].value = values[i % len(values)]
        started = time.perf_counter()
        app.breakdowns()
        frames.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        app.build_charts()
        every.append((time.perf_counter() - started) * 1000)
    print(f"  {'every breakdown of every tab (frames only)':<44} {_summary(frames)}")
    print(f"  {'every tab: breakdowns and charts':<44} {_summary(every)}")


if __name__ == "__main__":
    main()
