"""Detection quality on the demo data, on seeds the tests never use.

Run: ``.venv/bin/python benchmarks/bench_detection.py [--seeds 11 12 13] [--packages N]``.
For each seed: generate the demo dataset, scan every package over its whole
range, and score the findings against ``ground_truth.csv`` (recall per
scenario, precision per signal, organic packages wrongly flagged). Prints one
table per seed and the totals; also the scan speed (packages per second).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from workbench.analysis import analyze
from workbench.cache import Cache
from workbench.demo import DemoConfig, generate
from workbench.evaluation import evaluate_against
from workbench.query import DayRange, RollupQuery
from workbench.sources.local import ParquetSource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--packages", type=int, default=DemoConfig().packages)
    args = parser.parse_args()
    pl.Config.set_tbl_rows(30)
    scen, sig, totals = (
        [],
        [],
        {"organic": 0, "organic_flagged": 0, "flagged": 0, "flagged_inorganic": 0},
    )
    for seed in args.seeds:
        config = DemoConfig(seed=seed, packages=args.packages)
        with tempfile.TemporaryDirectory() as tmp:
            report = generate(Path(tmp) / "demo", config)
            source = ParquetSource(report.path)
            query = RollupQuery(None, DayRange(config.start, config.end))
            cold_start = time.perf_counter()
            result = analyze(source, query, cache=Cache(Path(tmp) / "cache"))
            cold = time.perf_counter() - cold_start
            warm_start = time.perf_counter()
            analyze(source, query, cache=Cache(Path(tmp) / "cache"))
            warm = time.perf_counter() - warm_start
            truth = pl.read_csv(report.path / "ground_truth.csv")
            ev = evaluate_against(result, truth)
        n = len(result.summaries)
        print(
            f"\nseed {seed}: {report.rows:,} rows, {n} packages; scan cold {cold:.1f} s, "
            f"from cache {warm:.1f} s ({n / warm:.0f} packages/s)"
        )
        print(ev.scenarios.select("scenario", "labelled", "detected", "recall", "flag_recall"))
        print(ev.signals)
        print(
            f"organic packages flagged: {ev.organic_flagged}/{ev.organic}; "
            f"flag precision {ev.flag_precision:.2f} ({ev.flagged_inorganic}/{ev.flagged})"
        )
        scen.append(ev.scenarios.with_columns(seed=pl.lit(seed)))
        sig.append(ev.signals.with_columns(seed=pl.lit(seed)))
        for key in totals:
            totals[key] += getattr(ev, key)
    print(f"\n=== all seeds {args.seeds} ===")
    print(
        pl.concat(scen)
        .group_by("scenario")
        .agg(pl.col("labelled").sum(), pl.col("detected").sum(), pl.col("flagged").sum())
        .with_columns(recall=pl.col("detected") / pl.col("labelled"))
        .sort("scenario")
    )
    print(
        pl.concat(sig)
        .group_by("signal")
        .agg(pl.col("fired").sum(), pl.col("correct").sum())
        .with_columns(precision=pl.col("correct") / pl.col("fired"))
        .sort("signal")
    )
    print(
        f"organic flagged: {totals['organic_flagged']}/{totals['organic']} "
        f"({totals['organic_flagged'] / max(totals['organic'], 1):.1%}); flag precision "
        f"{totals['flagged_inorganic']}/{totals['flagged']}"
    )


if __name__ == "__main__":
    main()
