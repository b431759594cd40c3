"""Sources + cache → the frames an investigation works on, day by day.

:func:`load` answers a :class:`RollupQuery` and :func:`population` a range of days from the
days the cache already holds, and fetches only the days it does not: one request per
contiguous span of missing days (for the packages missing exactly that span), priced and
authorised once, before anything runs. Fetched days are stored per package (or for every
package) and per span, complete days for good and days still in progress (live sources:
yesterday and today) until the cache TTL. A package's days are also served from an
every-package entry of the same source (a scan's rollups serve a later investigation).
Every package's rollups from a source that writes files (local Parquet, through DuckDB) go
straight from the engine into the cache and come back as scans of those files, never as
frames in memory.

Nothing is cached from a failed fetch, an answer with impossible counts is refused, and a
cache that cannot be written (full disk, read-only) costs one warning, not the answer. Two
processes asking for the same package and days fetch them once (an inter-process lock per
package; the second finds the days held).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from workbench.cache import Cache, Entry, make_key
from workbench.errors import DataSchemaError, SourceError
from workbench.population import features
from workbench.query import DayRange, RollupQuery
from workbench.schema import conform, empty
from workbench.sources.base import KINDS, CostEstimate, Progress, Source, total

#: The scope of an entry holding every package.
ALL = "*"
#: The largest count a rollup may hold: integers above it lose precision as JSON / in charts.
MAX_COUNT = 2**53
_COUNTS = {
    "downloads": ("downloads",),
    "fingerprints": ("downloads", "fingerprints"),
    "population": ("downloads",),
}


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of an answer: the days of one kind and scope served by one entry (or
    fetched now)."""

    kind: str
    scope: str
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

    @property
    def days_fetched(self) -> int:
        """Days fetched now (per scope, counted once whatever the number of kinds)."""
        return len({(p.scope, d) for p in self.parts if not p.from_cache for d in p.days.each()})

    def summary(self) -> str:
        wanted = self.query.days.days * max(1, len({p.scope for p in self.parts}))
        fetched = self.days_fetched
        held = f"{wanted - fetched}/{wanted} package-days from cache"
        cost = f"; queried: {self.estimate}" if self.estimate else ""
        caveats = "".join(f"; caveat: {c}" for c in self.caveats)
        return f"{self.source}; {self.query.describe()}; {held}{cost}{caveats}"


@dataclass(frozen=True)
class Rollup:
    """The rollups of one query, as lazy frames: over memory for named packages, over the
    cache's files for every package of a source that writes them (collect those before
    clearing the cache)."""

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


def plausible(frame: pl.DataFrame | pl.LazyFrame, kind: str) -> bool:
    """Counts are whole downloads: at least 1 and at most 2^53 (checked on every cache
    read and every source answer; anything else is a damaged or hostile file). A lazy
    frame is checked in one streaming pass over its count columns."""
    names = _COUNTS.get(kind, ())
    if not names:
        return True
    checks = frame.lazy().select(
        bad=pl.sum_horizontal(
            *(
                pl.col(n).is_null().sum() + (pl.col(n) < 1).sum() + (pl.col(n) > MAX_COUNT).sum()
                for n in names
            )
        )
    )
    return int(checks.collect(engine="streaming").item()) == 0


def plausible_written(path: Path, kind: str) -> bool:
    """:func:`plausible` for a file our engine has just written: from its footer's
    statistics (exact for integer columns) when every row group carries them, so that a
    100 M-row answer is not read again; otherwise one streaming pass."""
    with path.open("rb") as handle:  # given a path, pyarrow would resolve a filesystem first
        meta = pq.ParquetFile(handle).metadata
    names = list(meta.schema.to_arrow_schema().names)
    for name in _COUNTS.get(kind, ()):
        column = names.index(name)
        for group in range(meta.num_row_groups):
            stats = meta.row_group(group).column(column).statistics
            if stats is None or not stats.has_min_max or not stats.has_null_count:
                return plausible(pl.scan_parquet(path), kind)
            if stats.null_count or stats.min < 1 or stats.max > MAX_COUNT:
                return False
    return True


def runs(days: list[dt.date]) -> list[DayRange]:
    """Sorted days → the contiguous spans they form."""
    out: list[DayRange] = []
    for day in sorted(days):
        if out and day == out[-1].end + dt.timedelta(days=1):
            out[-1] = DayRange(out[-1].start, day)
        else:
            out.append(DayRange(day, day))
    return out


# -- the day-span machinery, for rollups and the population alike ---------------------------
@dataclass
class _Piece:
    """A candidate for some days of one (kind, scope): a cache entry or a fresh frame."""

    days: tuple[dt.date, dt.date]
    complete: bool
    created: dt.datetime
    entry: Entry | None = None
    project: str | None = None  # read only this package's rows (an every-package entry)
    frame: pl.DataFrame | pl.LazyFrame | None = None
    fetched: bool = False  # written into the cache by the source just now

    @property
    def fresh(self) -> bool:
        return self.fetched or self.entry is None


@dataclass
class _Ask:
    """One kind for one scope: where its days may be held (best first) and stored."""

    kind: str
    scope: str
    spaces: list[tuple[str, str | None]]
    store: str
    #: Read entries as lazy scans, not into memory (every package's rollups).
    lazy: bool = False
    pieces: list[_Piece] = field(default_factory=list)
    served: dict[dt.date, _Piece] = field(default_factory=dict)


def _cover(ask: _Ask, days: DayRange) -> None:
    """Assign each day to the best piece holding it: fresh, then complete, then newest."""
    ranked = sorted(ask.pieces, key=lambda p: (not p.fresh, not p.complete, -p.created.timestamp()))
    ask.served = {}
    for piece in ranked:
        first, last = max(piece.days[0], days.start), min(piece.days[1], days.end)
        for i in range((last - first).days + 1):
            ask.served.setdefault(first + dt.timedelta(days=i), piece)


def _load_pieces(cache: Cache, ask: _Ask, days: DayRange, refresh: bool) -> None:
    """The entries of the ask's spaces that overlap ``days`` (fresh pieces are kept)."""
    ask.pieces = [p for p in ask.pieces if p.fresh]
    if refresh:
        return
    for space, project in ask.spaces:
        for entry in cache.spans(space):
            assert entry.days is not None
            if entry.days[1] < days.start or entry.days[0] > days.end:
                continue
            ask.pieces.append(_Piece(entry.days, entry.complete, entry.created, entry, project))


def _read(cache: Cache, piece: _Piece, ask: _Ask) -> pl.DataFrame | pl.LazyFrame | None:
    """A piece's frame (read once, or scanned); ``None`` (and the file removed) when it is
    damaged."""
    if piece.frame is None and piece.entry is not None:
        lazy = ask.lazy and piece.project is None
        frame = cache.scan(piece.entry) if lazy else cache.read(piece.entry, piece.project)
        try:
            good = frame is not None and plausible(frame, ask.kind)
        except (OSError, pl.exceptions.PolarsError):
            good = False
        if not good:
            cache.discard(piece.entry.path)
            return None
        piece.frame = frame
    return piece.frame


def _settle(cache: Cache, ask: _Ask, days: DayRange) -> None:
    """Cover the days with pieces whose frames read well (damaged ones are dropped, so
    their days count as missing and are fetched again)."""
    while True:
        _cover(ask, days)
        serving = {id(p): p for p in ask.served.values()}
        broken = [p for p in serving.values() if _read(cache, p, ask) is None]
        if not broken:
            return
        ask.pieces = [p for p in ask.pieces if all(p is not b for b in broken)]


def _missing(asks: list[_Ask], days: DayRange) -> dict[str, list[dt.date]]:
    """Per scope, the days some kind does not hold."""
    out: dict[str, set[dt.date]] = {}
    for ask in asks:
        gaps = [d for d in days.each() if d not in ask.served]
        if gaps:
            out.setdefault(ask.scope, set()).update(gaps)
    return {scope: sorted(found) for scope, found in out.items()}


def _fetches(missing: dict[str, list[dt.date]]) -> list[tuple[DayRange, tuple[str, ...]]]:
    """One request per contiguous span of missing days, for the scopes missing it."""
    by_span: dict[DayRange, list[str]] = {}
    for scope, gaps in missing.items():
        for span in runs(gaps):
            by_span.setdefault(span, []).append(scope)
    return [(span, tuple(sorted(scopes))) for span, scopes in sorted(by_span.items(), key=str)]


Fetch = Callable[[DayRange, tuple[str, ...]], dict[str, pl.DataFrame]]
#: Has the source write every package's answer for a span into files (kind → path, footer).
Write = Callable[[DayRange, dict[str, tuple[Path, dict[str, str]]]], None]


def _gather(
    source: Source,
    cache: Cache,
    asks: list[_Ask],
    days: DayRange,
    *,
    refresh: bool,
    price: Callable[[DayRange, tuple[str, ...]], CostEstimate | None],
    fetch: Fetch,
    say: Progress,
    complete_before: dt.date,
    write: Write | None = None,
) -> CostEstimate | None:
    """Cover ``days`` for every ask from the cache, fetch the rest (priced and authorised
    once), store what was fetched, and leave each ask's pieces ready to assemble. With
    ``write``, every package's complete days are written by the source straight into the
    cache (:func:`_stream`)."""
    for ask in asks:
        _load_pieces(cache, ask, days, refresh)
        _settle(cache, ask, days)
    todo = _fetches(_missing(asks, days))
    if not todo:
        return None
    estimate = total([price(span, scopes) for span, scopes in todo])
    if estimate is not None:
        source.authorize(estimate)
    by_scope = {(a.kind, a.scope): a for a in asks}
    for span, scopes in todo:
        with ExitStack() as stack:
            for scope in scopes:  # sorted: two processes lock in the same order
                stack.enter_context(cache.lock(_lock_key(asks, scope)))
            if not refresh:  # another process may have fetched these days meanwhile
                for ask in asks:
                    if ask.scope in scopes:
                        _load_pieces(cache, ask, days, refresh)
                        _settle(cache, ask, days)
                scopes = tuple(s for s in scopes if s in _missing(asks, span))
                if not scopes:
                    continue
            say(f"fetching {span} for {_scopes(scopes)}")
            keep = True
            if write is not None and scopes == (ALL,) and span.end < complete_before:
                streamed = [a for a in asks if a.scope == ALL]
                for part in source.file_spans(span):
                    keep = _stream(source, cache, streamed, part, write)
                    if not keep:  # the cache cannot be written: the rest into memory
                        span = DayRange(part.start, span.end)
                        break
                if keep:
                    continue
            got = fetch(span, scopes)
            for kind, frame in got.items():
                if not plausible(frame, kind):
                    raise DataSchemaError(
                        f"the {kind} answer from {source.describe()} has impossible counts "
                        "(below 1 or above 2^53); nothing was cached"
                    )
            for kind, frame in got.items():
                per = _per_scope(frame, scopes)
                for scope in scopes:
                    ask = by_scope[(kind, scope)]
                    _store(source, cache, ask, per[scope], span, complete_before, keep=keep)
                del per
    for ask in asks:
        _settle(cache, ask, days)
    return estimate


def _stream(source: Source, cache: Cache, asks: list[_Ask], span: DayRange, write: Write) -> bool:
    """Have the source write every package's answer for ``span`` straight into the cache
    (a staged file per kind, checked, then moved into place), so that no row of a large
    answer passes through memory here. ``False`` when the cache cannot be written (one
    warning): the caller then fetches into memory. Impossible counts keep nothing."""
    description = {"source": source.describe(), "scope": ALL, "days": str(span)}
    try:
        with ExitStack() as stack:
            staged = {
                ask.kind: stack.enter_context(
                    cache.staged_span(
                        ask.store,
                        ask.kind,
                        span.start,
                        span.end,
                        complete=True,
                        description={**description, "kind": ask.kind},
                    )
                )
                for ask in asks
            }
            write(span, {kind: (s.path, s.footer) for kind, s in staged.items()})
            for kind, staging in staged.items():
                if not plausible_written(staging.path, kind):
                    raise DataSchemaError(
                        f"the {kind} answer from {source.describe()} has impossible counts "
                        "(below 1 or above 2^53); nothing was cached"
                    )
    except OSError as exc:
        cache.warn_unwritable(exc)
        return False
    for ask in asks:
        entry = staged[ask.kind].entry
        assert entry is not None
        days = (span.start, span.end)
        frame = cache.scan(entry)  # None only if removed meanwhile: then read again
        ask.pieces.append(_Piece(days, True, entry.created, entry, frame=frame, fetched=True))
    return True


def _per_scope(frame: pl.DataFrame, scopes: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """A fetched frame cut per scope in one pass (every scope present, empty when quiet)."""
    if scopes == (ALL,):
        return {ALL: frame}
    parts = {str(k[0]): v for k, v in frame.partition_by("project", as_dict=True).items()}
    return {scope: parts.get(scope, frame.clear()) for scope in scopes}


def _lock_key(asks: list[_Ask], scope: str) -> str:
    return next(a.store for a in asks if a.scope == scope)


def _scopes(scopes: tuple[str, ...]) -> str:
    if scopes == (ALL,):
        return "every package"
    return ", ".join(scopes[:5]) + (f" and {len(scopes) - 5} more" if len(scopes) > 5 else "")


def _store(
    source: Source,
    cache: Cache,
    ask: _Ask,
    frame: pl.DataFrame,
    span: DayRange,
    boundary: dt.date,
    *,
    keep: bool = True,
) -> None:
    """Keep ``frame`` (the days of ``span``) as complete pieces (days before ``boundary``)
    and still-changing ones; in the cache too unless ``keep`` is false (it was just found
    unwritable)."""
    parts = [
        (DayRange(span.start, min(span.end, boundary - dt.timedelta(days=1))), True),
        (DayRange(max(span.start, boundary), span.end), False),
    ]
    for days, complete in parts:
        if days.start > days.end:
            continue
        whole = days == span  # most fetches: no copy of a large answer
        piece_frame = (
            frame if whole else frame.filter(pl.col("date").is_between(days.start, days.end))
        )
        description = {
            "source": source.describe(),
            "kind": ask.kind,
            "scope": ask.scope,
            "days": str(days),
        }
        entry = None
        if keep:
            entry = cache.store_span(
                ask.store,
                ask.kind,
                piece_frame,
                days.start,
                days.end,
                complete=complete,
                description=description,
            )
        created = entry.created if entry is not None else dt.datetime.now(dt.UTC)
        ask.pieces.append(_Piece((days.start, days.end), complete, created, frame=piece_frame))


def _assemble(
    ask: _Ask, days: DayRange, schema: Any
) -> tuple[pl.DataFrame | pl.LazyFrame, list[Part]]:
    """The ask's frame for ``days`` from its pieces (lazy when a piece is a scan), and the
    parts it came from."""
    by_piece: dict[int, list[dt.date]] = {}
    pieces = {}
    for day, piece in ask.served.items():
        by_piece.setdefault(id(piece), []).append(day)
        pieces[id(piece)] = piece
    frames, parts = [], []
    for key, served in by_piece.items():
        piece = pieces[key]
        assert piece.frame is not None
        for span in runs(served):
            whole = (span.start, span.end) == piece.days
            chunk = (
                piece.frame
                if whole
                else piece.frame.filter(pl.col("date").is_between(span.start, span.end))
            )
            frames.append(chunk)
            parts.append(
                Part(
                    ask.kind,
                    ask.scope,
                    span,
                    piece.complete,
                    not piece.fresh,
                    _height(chunk, piece.entry if whole else None),
                    piece.created,
                )
            )
    frame: pl.DataFrame | pl.LazyFrame = pl.DataFrame(schema=schema)
    if frames and all(isinstance(f, pl.DataFrame) for f in frames):
        frame = pl.concat([f for f in frames if isinstance(f, pl.DataFrame)])
    elif frames:
        frame = pl.concat([f.lazy() for f in frames])
    return frame, sorted(parts, key=lambda p: (p.kind, p.scope, p.days.start))


def _height(chunk: pl.DataFrame | pl.LazyFrame, entry: Entry | None) -> int:
    """Rows of a chunk (of a scan: from the footer when it is the whole entry)."""
    if isinstance(chunk, pl.DataFrame):
        return chunk.height
    if entry is not None:
        return entry.rows
    return int(chunk.select(pl.len()).collect().item())


def _complete_before(source: Source, today: dt.date | None) -> dt.date:
    """Days before this one are complete (``today`` overrides the source's own clock)."""
    if today is None or not source.live:
        return source.complete_before()
    return today - dt.timedelta(days=1)


def _space(source: Source, kind: str, scope: str, **extra: str) -> str:
    material = {
        "kind": kind,
        "source": source.identity,
        "engine": source.engine(),
        "scope": scope,
        **extra,
    }
    return make_key(material)[:40]


# -- rollups ------------------------------------------------------------------------------
def load(
    source: Source,
    query: RollupQuery,
    *,
    cache: Cache | None = None,
    refresh: bool = False,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> Rollup:
    """The downloads and fingerprint rollups for ``query``, from the days the cache holds
    and the days fetched now."""
    cache = cache or Cache()
    say = progress or (lambda _msg: None)
    scopes = query.projects if query.projects is not None else (ALL,)
    asks = []
    for kind in KINDS:
        every = _space(source, kind, ALL)
        for scope in scopes:
            own = _space(source, kind, scope)
            spaces: list[tuple[str, str | None]] = [(own, None)]
            if scope != ALL:
                spaces.append((every, scope))
            asks.append(_Ask(kind, scope, spaces, own, lazy=scope == ALL))

    def projects(scopes: tuple[str, ...]) -> tuple[str, ...] | None:
        return None if scopes == (ALL,) else scopes

    def price(span: DayRange, scopes: tuple[str, ...]) -> CostEstimate | None:
        return source.estimate(KINDS, RollupQuery(projects(scopes), span))

    def fetch(span: DayRange, scopes: tuple[str, ...]) -> dict[str, pl.DataFrame]:
        got = source.fetch(KINDS, RollupQuery(projects(scopes), span), say)
        return {kind: conform(frame, kind) for kind, frame in got.items()}

    def write(span: DayRange, targets: dict[str, tuple[Path, dict[str, str]]]) -> None:
        source.fetch_files(RollupQuery(None, span), targets, say)

    estimate = _gather(
        source,
        cache,
        asks,
        query.days,
        refresh=refresh,
        price=price,
        fetch=fetch,
        say=say,
        complete_before=_complete_before(source, today),
        write=write if source.writes_files else None,
    )
    frames: dict[str, list[pl.DataFrame | pl.LazyFrame]] = {k: [] for k in KINDS}
    parts: list[Part] = []
    for ask in asks:
        frame, got = _assemble(ask, query.days, empty(ask.kind).schema)
        frames[ask.kind].append(frame)
        parts += got
    downloads = pl.concat([f.lazy() for f in frames["downloads"]])
    fingerprints = pl.concat([f.lazy() for f in frames["fingerprints"]])
    missing: tuple[str, ...] = ()
    if query.projects is not None:
        found = set(downloads.select(pl.col("project").unique()).collect().to_series().to_list())
        missing = tuple(p for p in query.projects if p not in found)
    provenance = Provenance(
        source.describe(),
        query,
        tuple(parts),
        source.bytes_processed,
        estimate,
        tuple(source.caveats()),
    )
    return Rollup(query, downloads, fingerprints, provenance, missing)


# -- the population ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Population:
    """Features of every package of a source, per day (see
    :mod:`workbench.population.features`), and where they came from."""

    frame: pl.DataFrame
    days: DayRange
    tier: str
    provenance: Provenance

    @property
    def packages(self) -> int:
        return int(self.frame["project"].n_unique())

    def describe(self) -> str:
        """Which population a baseline came from, in words."""
        return (
            f"{self.packages:,} packages of {self.provenance.source}, {self.days} "
            f"({self.tier} tier)"
        )


def population_spaces(source: Source, tier: str) -> list[str]:
    """The spaces that may hold a ``tier`` population (a richer tier serves a poorer one)."""
    tiers = source.population_tiers()
    usable = tiers[tiers.index(tier) :] if tier in tiers else (tier,)
    return [_space(source, features.KIND, ALL, tier=t) for t in reversed(usable)]


def population(
    source: Source,
    days: DayRange,
    *,
    tier: str | None = None,
    cache: Cache | None = None,
    refresh: bool = False,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> Population:
    """Population features of every package for ``days``, from the days held and the days
    fetched now (one request per contiguous span of missing days, priced first)."""
    cache = cache or Cache()
    say = progress or (lambda _msg: None)
    tiers = source.population_tiers()
    if not tiers:
        raise SourceError(f"{source.describe()} has no population of every package")
    tier = tier or source.default_tier()
    if tier not in tiers:
        raise DataSchemaError(f"{source.describe()} offers the {', '.join(tiers)} tier(s)")
    spaces = population_spaces(source, tier)
    ask = _Ask(features.KIND, ALL, [(s, None) for s in spaces], spaces[-1])

    def price(span: DayRange, _scopes: tuple[str, ...]) -> CostEstimate | None:
        return source.estimate_population(span, tier)

    def fetch(span: DayRange, _scopes: tuple[str, ...]) -> dict[str, pl.DataFrame]:
        return {features.KIND: features.conform(source.population(span, tier, say))}

    estimate = _gather(
        source,
        cache,
        [ask],
        days,
        refresh=refresh,
        price=price,
        fetch=fetch,
        say=say,
        complete_before=_complete_before(source, today),
    )
    frame, parts = _assemble(ask, days, features.SCHEMA)
    assert isinstance(frame, pl.DataFrame)  # the population is read, never scanned
    provenance = Provenance(
        source.describe(),
        RollupQuery(None, days),
        tuple(parts),
        source.bytes_processed,
        estimate,
        tuple(source.caveats()),
    )
    return Population(features.conform(frame), days, tier, provenance)


def population_held(source: Source, days: DayRange, tier: str, cache: Cache) -> list[dt.date]:
    """The days of ``days`` whose population the cache holds (nothing is read or fetched)."""
    held: set[dt.date] = set()
    for space in population_spaces(source, tier):
        for entry in cache.spans(space):
            assert entry.days is not None
            first, last = max(entry.days[0], days.start), min(entry.days[1], days.end)
            held.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return sorted(held)


# -- small, keyed frames --------------------------------------------------------------------
def _cached_frame(
    cache: Cache,
    source: Source,
    kind: str,
    material: dict[str, Any],
    fetch: Callable[[], pl.DataFrame],
) -> pl.DataFrame:
    key = make_key({"kind": kind, "source": source.identity, **material})
    frame = cache.get(key, kind)
    if frame is not None:
        return frame
    with cache.lock(key):
        frame = cache.get(key, kind)
        if frame is None:
            frame = conform(fetch(), kind)
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


def first_releases(source: Source, *, cache: Cache | None = None) -> pl.DataFrame:
    """Every package's first upload (cached; refreshed after the TTL for live sources)."""
    return _cached_frame(cache or Cache(), source, "first_releases", {}, source.first_releases)


def project_names(source: Source, cache: Cache | None = None) -> list[str]:
    """Package names of the source, most downloaded first, where the source can list them
    cheaply (cached: a local source's list scans every row's project; BigQuery has none)."""
    frame = _cached_frame(cache or Cache(), source, "names", {}, lambda: _names(source))
    return frame.sort(["downloads", "project"], descending=[True, False])["project"].to_list()


def _names(source: Source) -> pl.DataFrame:
    names = source.names()
    return names if names is not None else empty("names")


def suggestions(source: Source, name: str, limit: int = 3, cache: Cache | None = None) -> list[str]:
    """Known package names close to ``name`` (for "did you mean")."""
    return difflib.get_close_matches(name, project_names(source, cache), n=limit, cutoff=0.75)


def holdings(entries: list[Entry]) -> list[str]:
    """Per source, kind and package: the day spans the cache holds (merged), the days still
    changing marked — what ``workbench cache list`` prints."""
    groups: dict[tuple[str, str, str], list[Entry]] = {}
    for e in entries:
        if e.days is None:
            continue
        key = (str(e.description.get("source", "?")), e.kind, str(e.description.get("scope")))
        groups.setdefault(key, []).append(e)
    lines = []
    for (source, kind, scope), items in sorted(groups.items()):
        days = sorted({d for e in items if e.days for d in DayRange(*e.days).each()})
        fresh = sorted(
            {d for e in items if e.days and not e.complete for d in DayRange(*e.days).each()}
        )
        spans = ", ".join(str(r) for r in runs(days))
        pending = ", ".join(str(r) for r in runs(fresh))
        who = "every package" if scope == ALL else scope
        lines.append(
            f"{who:<32} {kind:<12} {len(days):>4} days: {spans}"
            + (f" (still changing: {pending})" if pending else "")
            + f"  [{source}]"
        )
    return lines
