"""Foundation figures: demo generation speed, rollup size and cost, cache reopening.

Run: ``.venv/bin/python benchmarks/bench_foundation.py [--packages N] [--days D]``.
Prints figures measured in this run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import polars as pl

from workbench import data
from workbench.cache import Cache
from workbench.demo import DemoConfig, generate
from workbench.query import RollupQuery
from workbench.sources.local import ParquetSource


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=DemoConfig().packages)
    parser.add_argument("--days", type=int, default=DemoConfig().days)
    parser.add_argument("--seed", type=int, default=DemoConfig().seed)
    args = parser.parse_args()
    config = DemoConfig(seed=args.seed, packages=args.packages, days=args.days)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        report = generate(root / "demo", config)
        raw_bytes = _size(root / "demo" / "file_downloads")
        print(
            f"generate   {report.rows:>12,} raw rows  {report.seconds:6.2f} s  "
            f"{report.rows_per_second:>12,.0f} rows/s  {raw_bytes / 2**20:8.1f} MiB Parquet"
        )
        source = ParquetSource(root / "demo")
        query = RollupQuery(None, RollupQuery.of("x", config.start, config.end).days)
        cache = Cache(root / "cache")
        began = time.perf_counter()
        rollup = data.load(source, query, cache=cache)
        cold = time.perf_counter() - began
        downloads = rollup.downloads.collect()
        fingerprints = rollup.fingerprints.collect()
        cached = sum(e.size for e in cache.entries())
        print(
            f"rollup     all {downloads['project'].n_unique()} packages: {cold:6.2f} s;  "
            f"downloads {downloads.height:,} rows ({downloads.height / report.rows:.2f} of raw), "
            f"fingerprints {fingerprints.height:,} rows; {cached / 2**20:.1f} MiB cached"
        )
        top = downloads.group_by("project").agg(pl.col("downloads").sum()).sort("downloads").tail(1)
        name = top["project"][0]
        one = RollupQuery.of(name, config.start, config.end)
        began = time.perf_counter()
        single = data.load(source, one, cache=cache)
        one_cold = time.perf_counter() - began
        began = time.perf_counter()
        data.load(source, one, cache=cache)
        one_warm = time.perf_counter() - began
        print(
            f"one pkg    {name}: {single.downloads.collect().height:,} rollup rows; "
            f"cold {one_cold * 1000:7.1f} ms, from cache {one_warm * 1000:6.1f} ms "
            f"(ratio {one_cold / one_warm:.0f}x)"
        )
        print(f"date       {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
