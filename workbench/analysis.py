"""Run the signals over a source: one package (investigate) or all of them (scan).

Both load the rollups through the cache, fetch release metadata and the
packages that started to require them, and evaluate every signal in one
vectorised pass. Peer baselines come from every package of the source when the
source is local (the demo, Parquet exports: cheap once cached); on BigQuery
they come from the packages asked for, and signals fall back to their
documented fixed limits when that is too few.
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
from workbench.query import DayRange, RollupQuery
from workbench.signals import Context, Finding, evaluate, summarize
from workbench.signals.summary import Summary, summary_frame
from workbench.sources.base import Progress, Source

FORMATS = ("csv", "parquet", "json")
DEPENDENT_LOOKBACK = dt.timedelta(days=60)


@dataclass(frozen=True)
class Analysis:
    """Findings and ranked summaries for the packages of one query."""

    query: RollupQuery
    context: Context
    findings: list[Finding]
    summaries: list[Summary]
    provenance: data.Provenance
    seconds: float

    def table(self) -> pl.DataFrame:
        return summary_frame(self.summaries)

    def summary_of(self, project: str) -> Summary | None:
        return next((s for s in self.summaries if s.project == project), None)

    def findings_of(self, project: str) -> list[Finding]:
        return [f for f in self.findings if f.project == project]


def _context(source: Source, rollup: data.Rollup, cache: Cache) -> Context:
    projects = tuple(
        sorted(rollup.downloads.select("project").unique().collect()["project"].to_list())
    )
    if not projects:
        return Context.from_rollup(rollup)
    since = rollup.query.days.start - DEPENDENT_LOOKBACK
    return Context.from_rollup(
        rollup,
        releases=data.releases(source, projects, cache=cache),
        dependents=data.dependents(source, projects, since, cache=cache),
    )


def analyze(
    source: Source,
    query: RollupQuery,
    *,
    cache: Cache | None = None,
    peers: bool = True,
    progress: Progress | None = None,
) -> Analysis:
    """Evaluate every signal for the packages of ``query`` (``None`` = every package)."""
    began = time.perf_counter()
    cache = cache or Cache()
    say = progress or (lambda _msg: None)
    if query.projects is None and source.live:
        raise InvalidInputError(
            f"scanning every package of {source.describe()} reads every download of the range "
            "(on BigQuery, the whole project column: ~1 TiB for 30 days); give a list of packages"
        )
    rollup = data.load(source, query, cache=cache, progress=progress)
    say("fetching release metadata and dependents")
    ctx = _context(source, rollup, cache)
    if peers and query.projects is not None and not source.live:
        say("building peer baselines from every package of the source")
        everything = data.load(
            source, RollupQuery(None, query.days), cache=cache, progress=progress
        )
        ctx.peers = Context.from_rollup(everything)
    ctx.lookup = _lookup(source, query.days, cache)
    say("evaluating signals")
    findings = evaluate(ctx)
    downloads = dict(ctx.totals.select("project", "all").iter_rows())
    summaries = summarize(findings, {str(k): int(v) for k, v in downloads.items()})
    return Analysis(query, ctx, findings, summaries, rollup.provenance, time.perf_counter() - began)


def _lookup(source: Source, days: DayRange, cache: Cache) -> Any:
    def fetch(project: str) -> pl.LazyFrame | None:
        try:
            return data.load(source, RollupQuery((project,), days), cache=cache).downloads
        except Exception:  # a dependent we cannot fetch is no explanation, not a failure
            return None

    return fetch


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
