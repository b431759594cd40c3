"""Reopening an investigation from the cache, in a cold process.

Run: ``.venv/bin/python benchmarks/bench_cache.py [--dataset demo|1M|10M|100M]
[--package NAME] [--repeat N]``.

A first process fills a fresh cache (the package, its population and peer baselines,
releases, dependents). Then N fresh processes each reopen the same investigation through
the public API: ``wb.investigate`` (rollups, peer baselines, signals), then every tab's
breakdowns and charts. Printed per reopen:
the whole process (interpreter start and imports included), the part after imports, the
cache parts used and what was read from the source: raw rows scanned (every Parquet source
read is counted) and BigQuery bytes (from the provenance). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import datasets


def _worker(spec: str, package: str | None, cache_dir: str) -> None:
    began = time.perf_counter()
    from workbench.cache import Cache
    from workbench.investigation import CHARTS, investigate
    from workbench.sources import open_source
    from workbench.sources.local import ParquetSource

    reads = {"fetches": 0, "populations": 0}
    fetch, population = ParquetSource.fetch, ParquetSource.population

    def counted_fetch(self: ParquetSource, *args: object, **kw: object) -> object:
        reads["fetches"] += 1
        return fetch(self, *args, **kw)  # type: ignore[arg-type]

    def counted_population(self: ParquetSource, *args: object, **kw: object) -> object:
        reads["populations"] += 1
        return population(self, *args, **kw)  # type: ignore[arg-type]

    ParquetSource.fetch = counted_fetch  # type: ignore[assignment,method-assign]
    ParquetSource.population = counted_population  # type: ignore[assignment,method-assign]
    imported = time.perf_counter()
    source = open_source(spec)
    name = package or source.project_names()[0]
    inv = investigate(name, source=source, cache=Cache(Path(cache_dir)))
    inv.frames()
    for chart in CHARTS:
        inv.chart(chart)
    ready = time.perf_counter()
    provenance = inv.provenance
    print(
        json.dumps(
            {
                "package": inv.package,
                "imports": imported - began,
                "ready": ready - imported,
                "cached_parts": sum(p.from_cache for p in provenance.parts),
                "parts": len(provenance.parts),
                "bytes_queried": provenance.bytes_processed,
                "source_reads": reads["fetches"] + reads["populations"],
            }
        )
    )


def _run(spec: str, package: str | None, cache_dir: str) -> tuple[float, dict[str, float]]:
    command = [sys.executable, __file__, "--worker", spec, package or "", cache_dir]
    began = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - began
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="demo", help="demo, or 1M / 10M / 100M")
    parser.add_argument("--package", default=None, help="default: the most downloaded")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    datasets.add_argument(parser)
    args = parser.parse_args()
    if args.worker:
        spec, package, cache_dir = args.worker
        _worker(spec, package or None, cache_dir)
        return
    spec = "demo" if args.dataset == "demo" else str(datasets.dataset(args.dataset, args.data_dir))
    with tempfile.TemporaryDirectory() as cache_dir:
        wall, first = _run(spec, args.package, cache_dir)
        print(
            f"{args.dataset}: {first['package']}: first open (cache empty) {wall:.1f} s, "
            f"{first['source_reads']} source reads"
        )
        walls, readies = [], []
        for _ in range(args.repeat):
            wall, r = _run(spec, first["package"], cache_dir)
            walls.append(wall)
            readies.append(r["ready"])
        print(
            f"  reopen, cold process: median {statistics.median(walls):.2f} s whole process "
            f"(imports {r['imports']:.2f} s), median {statistics.median(readies):.2f} s from "
            f"imports to every frame and chart ready"
        )
        print(
            f"  {r['cached_parts']}/{r['parts']} parts from cache; source reads "
            f"{r['source_reads']}; bytes queried {r['bytes_queried']:,}"
        )


if __name__ == "__main__":
    main()
