"""Run the signals over a source: one package (investigate) or many (scan).

Everything a signal needs is loaded first, through the cache — the rollups, release
metadata, the packages that started to require them and *their* downloads, the source's
first uploads, and the peer baselines of the population (:mod:`workbench.population.baseline`)
— then every signal runs in one vectorised pass with no I/O of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from workbench import data
from workbench.cache import Cache
from workbench.errors import InvalidInputError
from workbench.population import baseline
from workbench.population.peers import Peers
from workbench.query import RollupQuery
from workbench.schema import FIRST_RELEASES, empty
from workbench.signals import Context, Finding, evaluate, summarize
from workbench.signals.summary import Summary, summary_frame
from workbench.sources.base import Progress, Source

FORMATS = ("csv", "parquet", "json")
DEPENDENT_LOOKBACK = dt.timedelta(days=60)
#: At most this many packages that started to require ours are fetched to explain a surge
#: (the most recent first): they are the candidates the volume signal correlates with.
MAX_RELATED = 12


@dataclass(frozen=True)
class Analysis:
    """Findings and ranked summaries for the packages of one query."""

    query: RollupQuery
    context: Context
    findings: list[Finding]
    summaries: list[Summary]
    provenance: data.Provenance
    seconds: float
    #: Which population the peer baselines came from (or why there were none), in words.
    baseline: str = ""

    def table(self) -> pl.DataFrame:
        return summary_frame(self.summaries)

    def summary_of(self, project: str) -> Summary | None:
        return next((s for s in self.summaries if s.project == project), None)

    def findings_of(self, project: str) -> list[Finding]:
        return [f for f in self.findings if f.project == project]


def context(
    source: Source,
    rollup: data.Rollup,
    *,
    cache: Cache,
    peers: Peers | None,
    progress: Progress | None = None,
) -> Context:
    """Everything the signals need for ``rollup``'s packages, loaded now."""
    say = progress or (lambda _msg: None)
    days = rollup.query.days
    projects = tuple(
        sorted(rollup.downloads.select("project").unique().collect()["project"].to_list())
    )
    ctx = Context(days, rollup.downloads, rollup.fingerprints, peers=peers, lacks=source.lacks)
    if not projects:
        return ctx
    say("fetching release metadata and dependents")
    ctx.releases = data.releases(source, projects, cache=cache)
    ctx.dependents = data.dependents(source, projects, days.start - DEPENDENT_LOOKBACK, cache=cache)
    ctx.related = _related(source, ctx, projects, cache, say)
    if rollup.query.projects is None and not source.paid:
        ctx.first_releases = data.first_releases(source, cache=cache)
    else:
        ctx.first_releases = pl.DataFrame(schema=FIRST_RELEASES)
    return ctx


def _related(
    source: Source, ctx: Context, projects: tuple[str, ...], cache: Cache, say: Progress
) -> pl.DataFrame:
    """The downloads of packages that started to require ours inside the range (one batched
    request for all of them); an answer we cannot get is no explanation, not a failure."""
    firsts = (
        ctx.dependents.group_by("dependent")
        .agg(first=pl.col("upload_time").min())
        .filter(pl.col("first").dt.date() >= ctx.days.start - dt.timedelta(days=10))
        .filter(~pl.col("dependent").is_in(projects))
        .sort("first", descending=True)
        .head(MAX_RELATED)
    )
    if firsts.is_empty():
        return empty("downloads")
    names = tuple(sorted(firsts["dependent"].to_list()))
    say(f"fetching the downloads of {len(names)} package(s) that started to require it")
    query = RollupQuery(names, ctx.days)
    return data.load(source, query, cache=cache).downloads.collect()


def analyze(
    source: Source,
    query: RollupQuery,
    *,
    cache: Cache | None = None,
    buy_population: bool = False,
    peers: baseline.Baseline | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Evaluate every signal for the packages of ``query`` (``None`` = every package of a
    source that can list them for free), against the population's peers (``peers`` given:
    those, e.g. a published case's frozen baseline)."""
    began = time.perf_counter()
    cache = cache or Cache()
    say = progress or (lambda _msg: None)
    if query.projects is None and source.paid:
        raise InvalidInputError(
            f"scanning every package of {source.describe()} reads every download of the range "
            "(on BigQuery, the whole project column: ~1 TiB for 30 days); screen the "
            "population instead ('workbench screen'), or give a list of packages"
        )
    rollup = data.load(source, query, cache=cache, progress=progress)
    found = peers
    if found is None:
        say("loading the peer baselines of the population")
        found = baseline.load(source, query.days, cache=cache, buy=buy_population, progress=say)
    ctx = context(source, rollup, cache=cache, peers=found.peers, progress=say)
    say("evaluating signals")
    findings = evaluate(ctx)
    downloads = dict(ctx.totals.select("project", "all").iter_rows())
    summaries = summarize(findings, {str(k): int(v) for k, v in downloads.items()})
    return Analysis(
        query,
        ctx,
        findings,
        summaries,
        rollup.provenance,
        time.perf_counter() - began,
        found.note,
    )


def write(analysis: Analysis, out: str | Path, fmt: str | None = None) -> Path:
    """Write the ranked table as CSV, Parquet or JSON (JSON carries every finding)."""
    path = Path(out)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    table = analysis.table()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        table.write_csv(path)
    elif fmt == "parquet":
        table.write_parquet(path)
    else:
        payload = {
            "query": {
                "projects": analysis.query.projects,
                "start": str(analysis.query.days.start),
                "end": str(analysis.query.days.end),
            },
            "source": analysis.provenance.source,
            "packages": [
                {
                    **row,
                    "findings": [
                        _finding_json(f) for f in analysis.findings_of(row["project"]) if f.fired
                    ],
                }
                for row in table.to_dicts()
            ],
        }
        path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def _finding_json(f: Finding) -> dict[str, Any]:
    row = f.as_row()
    row["metrics"] = {
        k: v for k, v in f.metrics.items() if isinstance(v, str | int | float | bool) or v is None
    }
    return row
