"""Sources + cache → the frames an investigation works on.

:func:`load` answers a :class:`RollupQuery` from the cache where it can and
from the source where it must, split so that complete days are cached for good
and days still in progress (today, yesterday) expire after the cache TTL. For
a paying source (BigQuery) the cost of everything missing is estimated and
authorised once, before any query runs. Nothing is cached from a failed fetch.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.cache import Cache, make_key
from workbench.errors import DataSchemaError, WorkbenchError
from workbench.query import DayRange, RollupQuery, utc_today
from workbench.schema import conform, empty
from workbench.sources.base import KINDS, CostEstimate, Source

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Part:
    """One cached piece of an answer."""

    kind: str
    days: DayRange
    complete: bool
    from_cache: bool
    rows: int
    created: dt.datetime


@dataclass(frozen=True)
class Provenance:
    """Where the numbers came from: source, range, cost, cache times."""

    source: str
    query: RollupQuery
    parts: tuple[Part, ...]
    bytes_processed: int
    estimate: CostEstimate | None

    @property
    def from_cache(self) -> bool:
        return all(p.from_cache for p in self.parts)

    def summary(self) -> str:
        cached = sum(p.from_cache for p in self.parts)
        cost = f"; queried: {self.estimate}" if self.estimate else ""
        parts = f"{cached}/{len(self.parts)} parts from cache"
        return f"{self.source}; {self.query.describe()}; {parts}{cost}"


@dataclass(frozen=True)
class Rollup:
    """The rollups of one query, as lazy frames over in-memory data."""

    query: RollupQuery
    downloads: pl.LazyFrame
    fingerprints: pl.LazyFrame
    provenance: Provenance
    missing: tuple[str, ...] = field(default=())

    def totals(self) -> pl.DataFrame:
        return (
            self.downloads.group_by("project")
            .agg(pl.col("downloads").sum())
            .sort("downloads", descending=True)
            .collect()
        )


def _key_material(source: Source, kind: str, query: RollupQuery) -> dict[str, Any]:
    material: dict[str, Any] = {
        "kind": kind,
        "source": source.identity,
        "projects": list(query.projects) if query.projects is not None else None,
        "start": str(query.days.start),
        "end": str(query.days.end),
    }
    sql = getattr(source, "sql", None)
    if callable(sql):
        material["sql"] = hashlib.sha256(str(sql(kind, query)).encode()).hexdigest()
    return material


def _collect(frame: pl.LazyFrame, what: str) -> pl.DataFrame:
    try:
        return frame.collect(engine="streaming")
    except WorkbenchError:
        raise
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DataSchemaError(f"{what} could not be computed from the data: {first}") from None


def _parts(source: Source, query: RollupQuery, today: dt.date) -> list[tuple[RollupQuery, bool]]:
    if not source.live:
        return [(query, True)]
    complete, incomplete = query.days.split(today - dt.timedelta(days=1))
    out = []
    if complete is not None:
        out.append((query.with_days(complete), True))
    if incomplete is not None:
        out.append((query.with_days(incomplete), False))
    return out


def load(
    source: Source,
    query: RollupQuery,
    *,
    cache: Cache | None = None,
    refresh: bool = False,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> Rollup:
    """The downloads and fingerprint rollups for ``query``, cached."""
    cache = cache or Cache()
    say = progress or (lambda _msg: None)
    today = today or utc_today()
    plan = []  # (kind, part query, complete, key)
    for part, complete in _parts(source, query, today):
        for kind in KINDS:
            plan.append((kind, part, complete, make_key(_key_material(source, kind, part))))

    hits: dict[str, pl.DataFrame] = {}
    if not refresh:
        for kind, _, _, key in plan:
            frame = cache.get(key, kind)
            if frame is not None:
                hits[key] = frame
    missing_parts = {(p.days, c) for kind, p, c, key in plan if key not in hits}
    estimate: CostEstimate | None = None
    if missing_parts:
        estimates = [
            source.estimate(query.with_days(days)) for days, _ in sorted(missing_parts, key=str)
        ]
        known = [e for e in estimates if e is not None]
        if known:
            estimate = sum(known[1:], known[0])
            authorize = getattr(source, "authorize", None)
            if callable(authorize):
                authorize(estimate)

    frames: dict[str, list[pl.DataFrame]] = {k: [] for k in KINDS}
    parts: list[Part] = []
    for kind, part, complete, key in plan:
        frame = hits.get(key)
        from_cache = frame is not None
        if frame is None:
            with cache.lock(key):
                frame = None if refresh else cache.get(key, kind)  # another process may have won
                from_cache = frame is not None
                if frame is None:
                    say(f"computing the {kind} rollup for {part.describe()}")
                    frame = conform(_collect(source.rollup(kind, part), f"the {kind} rollup"), kind)
                    cache.put(
                        key,
                        kind,
                        frame,
                        complete=complete,
                        description={"source": source.describe(), "query": part.describe()},
                    )
        entry = cache.entry(key)
        created = entry.created if entry else dt.datetime.now(dt.UTC)
        frames[kind].append(frame)
        parts.append(Part(kind, part.days, complete, from_cache, frame.height, created))

    downloads = pl.concat(frames["downloads"]) if frames["downloads"] else empty("downloads")
    fingerprints = (
        pl.concat(frames["fingerprints"]) if frames["fingerprints"] else empty("fingerprints")
    )
    found = set(downloads["project"].unique().to_list())
    missing = tuple(p for p in (query.projects or ()) if p not in found)
    spent = int(getattr(source, "last_bytes_processed", 0) or 0)
    provenance = Provenance(source.describe(), query, tuple(parts), spent, estimate)
    return Rollup(query, downloads.lazy(), fingerprints.lazy(), provenance, missing)


def _cached_frame(
    cache: Cache,
    source: Source,
    kind: str,
    material: dict[str, Any],
    fetch: Callable[[], pl.LazyFrame],
) -> pl.DataFrame:
    key = make_key({"kind": kind, "source": source.identity, **material})
    frame = cache.get(key, kind)
    if frame is not None:
        return frame
    with cache.lock(key):
        frame = cache.get(key, kind)
        if frame is None:
            frame = conform(_collect(fetch(), kind), kind)
            cache.put(
                key,
                kind,
                frame,
                complete=not source.live,
                description={"source": source.describe(), **material},
            )
    return frame


def releases(
    source: Source, projects: tuple[str, ...], *, cache: Cache | None = None
) -> pl.DataFrame:
    """One row per release of ``projects`` (cached; refreshed after the TTL for live sources)."""
    return _cached_frame(
        cache or Cache(),
        source,
        "releases",
        {"projects": list(projects)},
        lambda: source.releases(projects),
    )


def dependents(
    source: Source, projects: tuple[str, ...], since: dt.date, *, cache: Cache | None = None
) -> pl.DataFrame:
    """Releases of other packages since ``since`` that require ``projects`` (cached)."""
    material = {"projects": list(projects), "since": str(since)}
    return _cached_frame(
        cache or Cache(), source, "dependents", material, lambda: source.dependents(projects, since)
    )


def suggestions(source: Source, name: str, limit: int = 3) -> list[str]:
    """Known package names close to ``name`` (for "did you mean")."""
    return difflib.get_close_matches(name, source.project_names(), n=limit, cutoff=0.75)
