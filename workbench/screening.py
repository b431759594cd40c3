"""Screen every package of a source: rank the population by suspicion from its features,
then deep-dive the top with full rollups and every signal.

The population for the range is read from the cache or fetched (on BigQuery: priced and
confirmed first — a screen over days with no population held asks before buying one); the
deep-dive of the top ``K`` is one batched request for the ``K`` packages (one query per
span of missing days on BigQuery), judged against the same population's peers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from workbench import data
from workbench.analysis import Analysis, analyze
from workbench.cache import Cache
from workbench.errors import InvalidInputError
from workbench.population import screen as ranking
from workbench.query import DayRange, RollupQuery
from workbench.sources.base import CostEstimate, Progress, Source, total

FORMATS = ("csv", "parquet", "json")


@dataclass(frozen=True)
class Screening:
    """A screen's ranked table (every package), the deep-dive of its top, and provenance."""

    table: pl.DataFrame
    deep: Analysis | None
    population: data.Population
    seconds: float

    def flagged(self) -> int:
        return int(self.table.filter(pl.col("score") >= 0.4).height)


def price(
    source: Source, days: DayRange, cache: Cache, *, tier: str | None = None
) -> CostEstimate | None:
    """What buying the missing days of the population would cost (nothing is run)."""
    if not source.population_tiers() or not source.paid:
        return None
    tier = tier or source.default_tier()
    held = set(data.population_held(source, days, tier, cache))
    missing = data.runs([day for day in days.each() if day not in held])
    return total([source.estimate_population(span, tier) for span in missing])


def run(
    source: Source,
    days: DayRange,
    *,
    top: int = 20,
    tier: str | None = None,
    cache: Cache | None = None,
    progress: Progress | None = None,
) -> Screening:
    """Rank every package of ``source`` over ``days``, then deep-dive the ``top``."""
    began = time.perf_counter()
    cache = cache or Cache()
    say = progress or (lambda _msg: None)
    if not source.population_tiers():
        raise InvalidInputError(f"{source.describe()} has no population to screen")
    population = data.population(
        source, days, tier=tier or source.default_tier(), cache=cache, progress=say
    )
    if population.frame.is_empty():
        raise InvalidInputError(f"no downloads at all in {days} on {source.describe()}")
    say(f"ranking {population.packages:,} packages")
    firsts = data.first_releases(source, cache=cache)
    screened = ranking.screen(
        population.frame,
        days,
        first_releases=firsts,
        source=source.describe(),
        tier=population.tier,
    )
    table = screened.table.with_columns(
        level=pl.col("score").map_elements(ranking.level, pl.String), deep=pl.lit(False)
    )
    deep = None
    names = tuple(sorted(table.head(top)["project"].to_list())) if top else ()
    if names:
        say(f"deep-diving the top {len(names)} with full rollups and every signal")
        deep = analyze(source, RollupQuery(names, days), cache=cache, progress=say)
        summaries = pl.DataFrame(
            [
                {
                    "project": s.project,
                    "deep_score": round(s.score, 3),
                    "summary": s.text(),
                    "findings": " ".join(f.text for f in s.fired[:2]),
                }
                for s in deep.summaries
            ],
            schema={
                "project": pl.String,
                "deep_score": pl.Float64,
                "summary": pl.String,
                "findings": pl.String,
            },
        )
        table = table.join(summaries, on="project", how="left").with_columns(
            deep=pl.col("deep_score").is_not_null()
        )
    else:
        table = table.with_columns(
            deep_score=pl.lit(None, pl.Float64),
            summary=pl.lit(None, pl.String),
            findings=pl.lit(None, pl.String),
        )
    return Screening(table, deep, population, time.perf_counter() - began)


COLUMNS = ("rank", "project", "score", "level", "downloads", "signals", "deep_score", "summary")


def write(result: Screening, out: str | Path, fmt: str | None = None) -> Path:
    """Write the ranked table as CSV, Parquet or JSON."""
    path = Path(out)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    table = result.table.select(*COLUMNS, "findings")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        table.write_csv(path)
    elif fmt == "parquet":
        table.write_parquet(path)
    else:
        table.write_json(path)
    return path
