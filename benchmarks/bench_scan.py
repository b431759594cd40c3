"""Scan: every package of a dataset through every signal, in packages per second.

Run: ``.venv/bin/python benchmarks/bench_scan.py [--datasets demo,10M,100M]``.

For each dataset, in a fresh process each (so peak memory is the scan's own): a **cold**
scan with an empty cache (the rollups are computed from the raw rows, then every signal),
then a **warm** scan of the same packages (rollups from the cache, signals again). Printed:
seconds, packages per second, flagged packages and peak resident memory. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import datasets


def _worker(spec: str, cache_dir: str) -> None:
    from workbench.analysis import analyze
    from workbench.cache import Cache
    from workbench.query import DayRange, RollupQuery
    from workbench.sources import open_source

    source = open_source(spec)
    names = source.project_names()
    manifest = json.loads((Path(getattr(source, "path", spec)) / "manifest.json").read_text())
    days = DayRange.parse(manifest["start"], manifest["end"])
    runs = []
    for _ in ("cold", "warm"):
        began = time.perf_counter()
        analysis = analyze(source, RollupQuery(None, days), cache=Cache(Path(cache_dir)))
        seconds = time.perf_counter() - began
        flagged = sum(s.flagged for s in analysis.summaries)
        runs.append({"seconds": seconds, "flagged": flagged})
    peak = datasets.peak_mib()
    print(json.dumps({"packages": len(names), "runs": runs, "peak_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default="demo,10M,100M")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    datasets.add_argument(parser)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    print(
        f"{'dataset':>8} {'raw rows':>12} {'packages':>9} {'run':>5} {'seconds':>8} "
        f"{'packages/s':>11} {'flagged':>8} {'peak MiB':>9}"
    )
    for name in args.datasets.split(","):
        if name == "demo":
            from workbench.sources.demo import DemoSource

            path = DemoSource().ensure()
        else:
            path = datasets.dataset(name, args.data_dir)
        with tempfile.TemporaryDirectory() as cache_dir:
            out = subprocess.run(
                [sys.executable, __file__, "--worker", str(path), cache_dir],
                check=True,
                capture_output=True,
                text=True,
            )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        for label, run in zip(("cold", "warm"), result["runs"], strict=True):
            print(
                f"{name:>8} {datasets.rows(path):>12,} {result['packages']:>9,} {label:>5} "
                f"{run['seconds']:8.1f} {result['packages'] / run['seconds']:>11,.0f} "
                f"{run['flagged']:>8,} {result['peak_mib']:>9,.0f}"
            )


if __name__ == "__main__":
    main()
