"""Detection quality on the demo data, on seeds the tests never use.

Run: ``.venv/bin/python benchmarks/bench_detection.py [--seeds 101,102,103,104,105]
[--packages N] [--speed]``. For each seed: generate the demo dataset, scan every package
over its whole range, and score the findings against ``ground_truth.csv``: recall per
scenario kind (an expected signal fired) and flag recall (the package is flagged), precision
per signal, and false alarms apart on organic packages and on the organic look-alikes (a
blog spike, a mirror re-sync, a CI-heavy plugin, a regional package). Prints one table per
seed and the totals; with ``--speed`` also the scan speed from the cache (packages per
second).
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

TOTALS = ("organic", "organic_flagged", "lookalikes", "lookalikes_flagged", "flagged")


def _seeds(values: list[str]) -> list[int]:
    return [int(v) for value in values for v in value.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", nargs="+", default=["101,102,103,104,105"])
    parser.add_argument("--packages", type=int, default=DemoConfig().packages)
    parser.add_argument("--speed", action="store_true", help="also time a scan from the cache")
    args = parser.parse_args()
    seeds = _seeds(args.seeds)
    pl.Config.set_tbl_rows(40)
    pl.Config.set_tbl_width_chars(120)
    scen, sig = [], []
    totals = dict.fromkeys((*TOTALS, "flagged_inorganic"), 0)
    for seed in seeds:
        config = DemoConfig(seed=seed, packages=args.packages)
        with tempfile.TemporaryDirectory() as tmp:
            report = generate(Path(tmp) / "demo", config)
            source = ParquetSource(report.path)
            query = RollupQuery(None, DayRange(config.start, config.end))
            cold_start = time.perf_counter()
            result = analyze(source, query, cache=Cache(Path(tmp) / "cache"))
            cold = time.perf_counter() - cold_start
            speed = ""
            if args.speed:
                warm_start = time.perf_counter()
                analyze(source, query, cache=Cache(Path(tmp) / "cache"))
                warm = time.perf_counter() - warm_start
                n = len(result.summaries)
                speed = f", from cache {warm:.1f} s ({n / warm:.0f} packages/s)"
            truth = pl.read_csv(report.path / "ground_truth.csv")
            ev = evaluate_against(result, truth)
        print(
            f"\nseed {seed}: {report.rows:,} rows, {len(result.summaries)} packages; "
            f"scan cold {cold:.1f} s{speed}"
        )
        print(ev.scenarios.select("scenario", "labelled", "detected", "flagged", "recall"))
        print(ev.signals)
        print(
            f"organic packages flagged: {ev.organic_flagged}/{ev.organic}; look-alikes "
            f"flagged: {ev.lookalikes_flagged}/{ev.lookalikes}; flag precision "
            f"{ev.flag_precision:.2f} ({ev.flagged_inorganic}/{ev.flagged})"
        )
        scen.append(ev.scenarios.with_columns(seed=pl.lit(seed)))
        sig.append(ev.signals.with_columns(seed=pl.lit(seed)))
        for key in totals:
            totals[key] += getattr(ev, key)
    print(f"\n=== all seeds {','.join(map(str, seeds))} ({args.packages} packages each) ===")
    per_kind = (
        pl.concat(scen)
        .group_by("scenario")
        .agg(
            pl.col("labelled").sum(),
            pl.col("detected").sum(),
            pl.col("flagged").sum(),
            pl.col("inorganic").first(),
            pl.col("lookalike").first(),
        )
        .with_columns(
            recall=pl.when(~pl.col("lookalike")).then(pl.col("detected") / pl.col("labelled")),
            flag_recall=pl.when(pl.col("inorganic")).then(pl.col("flagged") / pl.col("labelled")),
            false_alarm=pl.when(pl.col("lookalike")).then(pl.col("flagged") / pl.col("labelled")),
        )
        .sort("lookalike", "inorganic", "scenario")
    )
    print(per_kind.drop("inorganic"))
    print(
        pl.concat(sig)
        .group_by("signal")
        .agg(pl.col("fired").sum(), pl.col("correct").sum())
        .with_columns(precision=pl.col("correct") / pl.col("fired"))
        .sort("signal")
    )
    print(
        f"false alarms: organic {totals['organic_flagged']}/{totals['organic']} "
        f"({totals['organic_flagged'] / max(totals['organic'], 1):.1%}); look-alikes "
        f"{totals['lookalikes_flagged']}/{totals['lookalikes']} "
        f"({totals['lookalikes_flagged'] / max(totals['lookalikes'], 1):.1%}); flag precision "
        f"{totals['flagged_inorganic']}/{totals['flagged']}"
    )


if __name__ == "__main__":
    main()
