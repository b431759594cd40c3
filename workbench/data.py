"""Sources + cache → the frames an investigation works on.

:func:`load` answers a :class:`RollupQuery` from the cache where it can and
from the source where it must, split so that complete days are cached for good
and days still in progress (today, yesterday) expire after the cache TTL. For
a paying source (BigQuery) the cost of everything missing is estimated and
authorised once, before any query runs. Nothing is cached from a failed fetch, and a
cache that cannot be written (full disk, read-only) costs one warning, not the answer.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.cache import Cache, make_key
from workbench.errors import DataSchemaError, WorkbenchError
from workbench.query import DayRange, RollupQuery, utc_today
from workbench.schema import conform, empty
from workbench.sources.base import KINDS, CostEstimate, Progress, Source


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
    #: What the numbers leave out of the source's data (e.g. rows without a project).
    caveats: tuple[str, ...] = ()

    @property
    def from_cache(self) -> bool:
        return all(p.from_cache for p in self.parts)

    def summary(self) -> str:
        cached = sum(p.from_cache for p in self.parts)
        cost = f"; queried: {self.estimate}" if self.estimate else ""
        parts = f"{cached}/{len(self.parts)} parts from cache"
        caveats = "".join(f"; caveat: {c}" for c in self.caveats)
        return f"{self.source}; {self.query.describe()}; {parts}{cost}{caveats}"


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


#: The largest count a rollup may hold: integers above it lose precision as JSON / in charts.
MAX_COUNT = 2**53
_COUNTS = {"downloads": ("downloads",), "fingerprints": ("downloads", "fingerprints")}


def plausible(frame: pl.DataFrame, kind: str) -> bool:
    """Every count of a ``downloads`` / ``fingerprints`` rollup is a whole number of rows:
    at least 1 and at most :data:`MAX_COUNT` (a tampered cache entry or a broken source can
    hold anything)."""
    columns = _COUNTS.get(kind, ())
    if not columns or frame.height == 0:
        return True
    ok = frame.select(
        pl.all_horizontal(
            pl.col(c).is_between(1, MAX_COUNT).fill_null(False) for c in columns
        ).all()
    ).item()
    return bool(ok)


def _collect_all(frames: list[pl.LazyFrame], what: str) -> list[pl.DataFrame]:
    """Collect lazy frames in one streaming run (a scan they share is read once)."""
    try:
        return pl.collect_all(frames, engine="streaming")
    except WorkbenchError:
        raise
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DataSchemaError(f"{what} could not be computed from the data: {first}") from None


def _collect(frame: pl.LazyFrame, what: str) -> pl.DataFrame:
    return _collect_all([frame], what)[0]


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


def _part_frames(
    source: Source,
    cache: Cache,
    part: RollupQuery,
    complete: bool,
    keys: dict[str, str],
    hits: dict[str, pl.DataFrame],
    *,
    refresh: bool,
    say: Progress,
) -> dict[str, tuple[pl.DataFrame, bool]]:
    """Every rollup of one part: from the cache where it can, the rest computed together.

    The missing rollups are collected in one ``collect_all``, so a local source reads its
    files once for both (profiled: the second scan was 40 % of a cold load). Their cache
    keys are locked (in a fixed order) so two processes never compute one part twice.
    """
    got = {kind: (hits[key], True) for kind, key in keys.items() if key in hits}
    wanted = sorted(kind for kind in keys if kind not in got)
    if not wanted:
        return got
    with ExitStack() as stack:
        for kind in sorted(wanted, key=keys.__getitem__):
            stack.enter_context(cache.lock(keys[kind]))
        for kind in list(wanted):  # another process may have won the race
            frame = None if refresh else cache.get(keys[kind], kind)
            if frame is not None and plausible(frame, kind):
                got[kind] = (frame, True)
                wanted.remove(kind)
        if wanted:
            say(f"computing the {' and '.join(wanted)} rollups for {part.describe()}")
            compute = getattr(source, "compute", None)
            if callable(compute):  # the source computes eagerly (bounded memory)
                done = compute(wanted, part, say)
                computed = [done[kind] for kind in wanted]
            else:
                computed = _collect_all(
                    [source.rollup(kind, part) for kind in wanted],
                    f"the {' and '.join(wanted)} rollups",
                )
            for kind, raw in zip(wanted, computed, strict=True):
                frame = conform(raw, kind)
                if not plausible(frame, kind):
                    raise DataSchemaError(
                        f"the {kind} rollup from {source.describe()} has impossible counts "
                        f"(below 1 or above 2^53); nothing was cached"
                    )
                got[kind] = (frame, False)
            for kind in wanted:  # stored only once every rollup of the part is good
                cache.store(
                    keys[kind],
                    kind,
                    got[kind][0],
                    complete=complete,
                    description={"source": source.describe(), "query": part.describe()},
                )
    return {kind: got[kind] for kind in keys}


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
            if frame is not None and plausible(frame, kind):  # else refetched, overwritten
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
    for part, complete in _parts(source, query, today):
        keys = {kind: key for kind, p, _, key in plan if p == part}
        got = _part_frames(source, cache, part, complete, keys, hits, refresh=refresh, say=say)
        for kind, (frame, from_cache) in got.items():
            entry = cache.entry(keys[kind])
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
    caveats = getattr(source, "caveats", None)
    noted = tuple(caveats()) if callable(caveats) else ()
    provenance = Provenance(source.describe(), query, tuple(parts), spent, estimate, noted)
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
            cache.store(
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


def project_names(source: Source, cache: Cache | None = None) -> list[str]:
    """Package names of the source, most downloaded first: cached for a local source (the
    list scans every row's project; profiled at 1.5 s of each app start on the demo)."""
    names = getattr(source, "names", None)
    if source.live or not callable(names):
        return source.project_names()
    frame = _cached_frame(cache or Cache(), source, "names", {}, names)
    return frame.sort(["downloads", "project"], descending=[True, False])["project"].to_list()


def suggestions(source: Source, name: str, limit: int = 3, cache: Cache | None = None) -> list[str]:
    """Known package names close to ``name`` (for "did you mean")."""
    return difflib.get_close_matches(name, project_names(source, cache), n=limit, cutoff=0.75)
