"""The screen of every package at PyPI's scale, and reopening an investigation with the
population's peers, on a generated population shaped like all of PyPI.

Run: ``.venv/bin/python benchmarks/bench_screen.py [--projects 600000] [--days 30]``.

1. A population of ``--projects`` packages × ``--days`` days
   (:mod:`workbench.population.synthetic`: median ~1 download a day, ~45 % under one a day,
   the busiest ~30,000× the median, over-dispersed small series, 200 planted campaigns) is
   written to a fresh cache as span entries, exactly as a BigQuery or ClickPy population is
   kept.
2. A fresh process reads it back from the cache and screens every package (the peer
   baselines built on the way): seconds and peak resident memory of that process, and how
   many of the planted campaigns rank in the top 300.
3. A fresh process investigates one demo package against the peers of that population
   (given to ``wb.investigate(peers=…)``), everything cached: seconds from the call to
   findings, every frame and every chart.

Targets (not asserted): the screen under 3 minutes and 6 GB on 2 cores; the reopen under 1 s.
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
import polars as pl

import workbench as wb
from workbench import data
from workbench.cache import Cache
from workbench.errors import SourceError
from workbench.investigation import CHARTS
from workbench.population import peers, screen, synthetic
from workbench.population.baseline import Baseline
from workbench.query import DayRange, RollupQuery
from workbench.sources.base import Progress, Source


class SyntheticSource(Source):
    """A source whose population is a generated frame (answered once, then held in the
    cache like any population)."""

    kind = "synthetic"

    def __init__(self, frame: pl.DataFrame | None = None) -> None:
        super().__init__()
        self.frame = frame

    @property
    def identity(self) -> dict[str, object]:
        return {"source": "synthetic-pypi"}

    def describe(self) -> str:
        return "a generated PyPI-shaped population"

    def fetch(
        self, kinds: tuple[str, ...], query: RollupQuery, progress: Progress | None = None
    ) -> dict[str, pl.DataFrame]:
        raise SourceError("the generated population has no raw rows")

    def population_tiers(self) -> tuple[str, ...]:
        return ("clients",)

    def population(
        self, days: DayRange, tier: str, progress: Progress | None = None
    ) -> pl.DataFrame:
        assert self.frame is not None, "written once, then read from the cache"
        return self.frame.filter(pl.col("date").is_between(days.start, days.end))


def _write(cache_dir: str, projects: int, days: int) -> dict[str, object]:
    began = time.perf_counter()
    syn = synthetic.generate(projects, days)
    data.population(SyntheticSource(syn.frame), syn.days, cache=Cache(Path(cache_dir)))
    syn.campaigns.write_parquet(Path(cache_dir) / "planted.parquet")
    return {
        "rows": syn.frame.height,
        "seconds": time.perf_counter() - began,
        "start": str(syn.days.start),
        "end": str(syn.days.end),
    }


def _screen(cache_dir: str, start: str, end: str) -> dict[str, object]:
    began = time.perf_counter()
    days = DayRange.parse(start, end)
    cache = Cache(Path(cache_dir))
    population = data.population(SyntheticSource(), days, cache=cache).frame
    loaded = time.perf_counter() - began
    screened = screen.screen(population, days, source="a generated PyPI", tier="clients")
    ranked = screened.table
    seconds = time.perf_counter() - began
    assert screened.peers is not None
    screened.peers.to_frame().write_parquet(Path(cache_dir) / "peers.parquet")
    planted = set(pl.read_parquet(Path(cache_dir) / "planted.parquet")["project"].to_list())
    found = len(planted & set(ranked.head(300)["project"].to_list()))
    return {
        "packages": ranked.height,
        "load_seconds": loaded,
        "seconds": seconds,
        "found": found,
        "planted": len(planted),
        "peak_mib": datasets.peak_mib(),
    }


def _reopen(cache_dir: str, start: str, end: str) -> dict[str, object]:
    cache = Cache(Path(cache_dir) / "demo-cache")
    source = wb.open_source("demo")
    frame = pl.read_parquet(Path(cache_dir) / "peers.parquet")
    days = DayRange.parse(start, end)
    found = peers.Peers.from_frame(frame, source="a generated PyPI", days=days, tier="clients")
    given = Baseline(found, found.describe())
    wb.investigate("nimbus", source=source, cache=cache, peers=given)  # fills the cache
    began = time.perf_counter()
    inv = wb.investigate("nimbus", source=source, cache=cache, peers=given)
    inv.frames()
    for name in CHARTS:
        inv.chart(name)
    return {"seconds": time.perf_counter() - began, "baseline": inv.baseline}


def _child(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=600_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        step, *rest = args.worker
        if step == "write":
            print(json.dumps(_write(rest[0], int(rest[1]), int(rest[2]))))
        elif step == "screen":
            print(json.dumps(_screen(*rest)))
        else:
            print(json.dumps(_reopen(*rest)))
        return
    with tempfile.TemporaryDirectory() as cache_dir:
        written = _child("write", cache_dir, str(args.projects), str(args.days))
        print(
            f"population: {args.projects:,} packages × {args.days} days, "
            f"{written['rows']:,} package-days with downloads, generated and cached in "
            f"{written['seconds']:.0f} s"
        )
        screened = _child("screen", cache_dir, str(written["start"]), str(written["end"]))
        print(
            f"screen (fresh process, population from the cache): {screened['seconds']:.1f} s "
            f"(of which reading the cache {screened['load_seconds']:.1f} s), peak "
            f"{screened['peak_mib']:,.0f} MiB; {screened['found']} of {screened['planted']} "
            "planted campaigns in the top 300"
        )
        reopened = _child("reopen", cache_dir, str(written["start"]), str(written["end"]))
        print(
            f"reopen one investigation with these peers, everything cached: "
            f"{reopened['seconds']:.2f} s to findings, every frame and chart "
            f"({reopened['baseline']})"
        )


if __name__ == "__main__":
    main()
