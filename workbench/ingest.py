"""Rollups of local Parquet files in bounded memory: chunk by chunk, combined exactly.

One lazy query over every file is fast but holds the whole per-client table in memory
(4.9 GB at 10 M rows, so 100 M rows would not fit in 24 GB). Instead the files are cut
into *chunks* of about :data:`CHUNK_ROWS` rows along row-group boundaries, and each chunk is
read once for both rollups:

* the downloads rollup of each chunk is kept; projects seen in more than one chunk are
  summed again at the end, so the answer equals a single pass;
* the per-client counts of each chunk are merged with those still *open*, and a
  project-day is closed (ranked to its top fingerprints, its per-client rows dropped) as soon
  as no later chunk can hold its project, which the row-group statistics on ``project`` tell.

Memory is therefore one chunk plus the answer plus the open clients: bounded for data
clustered by project, as BigQuery clusters ``file_downloads`` and its exports keep it. For
unclustered data every project stays open until the end, which is still exact and no worse
than a single pass. Row groups outside the time window or the projects asked for are
skipped from their statistics without being read.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from workbench.query import RollupQuery
from workbench.rollup import (
    CLIENT_KEYS,
    client_counts,
    downloads_rollup,
    fingerprint_columns,
    top_clients,
)
from workbench.schema import DIMENSIONS, empty

CHUNK_ROWS = 2_000_000


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive row groups of one file: rows ``offset`` to ``offset + rows``."""

    file: Path
    offset: int
    rows: int
    #: smallest and largest project in the chunk; None when the file has no statistics
    projects: tuple[str, str] | None


def _column_index(meta: pq.FileMetaData, name: str) -> int | None:
    for i in range(meta.num_columns):
        if meta.schema.column(i).path == name:
            return i
    return None


def _stats(group: pq.RowGroupMetaData, index: int | None) -> tuple[Any, Any] | None:
    if index is None:
        return None
    stats = group.column(index).statistics
    if stats is None or not stats.has_min_max:
        return None
    return stats.min, stats.max


def _as_utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _wanted(
    group: pq.RowGroupMetaData, project: int | None, timestamp: int | None, query: RollupQuery
) -> bool:
    """False only when the statistics prove the row group holds nothing for ``query``."""
    times = _stats(group, timestamp)
    if times is not None:
        low, high = _as_utc(times[0]), _as_utc(times[1])
        start = dt.datetime.combine(query.days.start, dt.time(), tzinfo=dt.UTC)
        end = dt.datetime.combine(query.days.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        if low is not None and high is not None and (high < start or low >= end):
            return False
    names = _stats(group, project)
    if names is not None and query.projects is not None:
        return any(names[0] <= p <= names[1] for p in query.projects)
    return True


@dataclass(frozen=True, slots=True)
class _Group:
    offset: int
    rows: int
    names: tuple[Any, Any] | None


def _chunk(file: Path, run: list[_Group]) -> Chunk:
    names = [g.names for g in run]
    span = None
    if all(n is not None for n in names):
        span = (min(n[0] for n in names if n), max(n[1] for n in names if n))
    return Chunk(file, run[0].offset, sum(g.rows for g in run), span)


def plan(files: list[Path], query: RollupQuery, *, chunk_rows: int = CHUNK_ROWS) -> list[Chunk]:
    """The chunks to read for ``query``, in file order: runs of consecutive wanted row
    groups of at most ``chunk_rows`` rows (or one larger row group)."""
    chunks: list[Chunk] = []
    for file in files:
        meta = pq.read_metadata(file)
        project, timestamp = _column_index(meta, "project"), _column_index(meta, "timestamp")
        run: list[_Group] = []
        offset = 0
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            if _wanted(group, project, timestamp, query):
                end = run[-1].offset + run[-1].rows if run else offset
                if run and (end != offset or sum(g.rows for g in run) >= chunk_rows):
                    chunks.append(_chunk(file, run))
                    run = []
                run.append(_Group(offset, group.num_rows, _stats(group, project)))
            offset += group.num_rows
        if run:
            chunks.append(_chunk(file, run))
    return chunks


def null_rows(files: list[Path], columns: tuple[str, ...]) -> int | None:
    """Rows with a null in any of ``columns``, from the files' statistics alone (no data
    read: this runs on every load, cached or not); None when the statistics cannot tell
    (missing, or nulls in more than one of the columns, which may overlap)."""
    totals = dict.fromkeys(columns, 0)
    for file in files:
        meta = pq.read_metadata(file)
        for name in columns:
            index = _column_index(meta, name)
            if index is None:
                return None
            for i in range(meta.num_row_groups):
                stats = meta.row_group(i).column(index).statistics
                if stats is None or not stats.has_null_count:
                    return None
                totals[name] += stats.null_count
    if sum(1 for n in totals.values() if n) > 1:
        return None
    return sum(totals.values())


def _open_later(chunks: list[Chunk]) -> Iterator[pl.Expr | None]:
    """For each chunk: the condition on ``project`` of rows a later chunk may add to (None:
    nothing later; ``pl.lit(True)``: a later chunk has no statistics, so everything)."""
    for i in range(len(chunks)):
        later = chunks[i + 1 :]
        if not later:
            yield None
        elif any(c.projects is None for c in later):
            yield pl.lit(True)
        else:
            spans = {c.projects for c in later if c.projects is not None}
            yield pl.any_horizontal(
                pl.col("project").is_between(pl.lit(lo), pl.lit(hi)) for lo, hi in spans
            )


def clustered(chunks: list[Chunk]) -> bool:
    """True when the chunks, taken in project order, hold disjoint project ranges (a project
    may straddle two neighbours), as data clustered by project does."""
    spans = [c.projects for c in chunks]
    if any(s is None for s in spans):
        return False
    ordered = sorted(s for s in spans if s is not None)
    return all(ordered[i][0] >= ordered[i - 1][1] for i in range(1, len(ordered)))


def rollups(
    chunks: list[Chunk],
    read: Callable[[Chunk], pl.LazyFrame],
    query: RollupQuery,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[str], None] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The downloads and fingerprints rollups of every chunk, exactly as one pass would."""
    say = progress or (lambda _text: None)
    if clustered(chunks):
        order = sorted(chunks, key=lambda c: c.projects or ("", ""))
        return _closing_as_we_go(order, read, query, say)
    buckets = max(1, -(-sum(c.rows for c in chunks) // chunk_rows))
    with tempfile.TemporaryDirectory(prefix="workbench-ingest-") as spill:
        return _bucketed(chunks, read, query, buckets, Path(spill), say)


def _partials(rows: pl.LazyFrame, query: RollupQuery) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One chunk read once: its downloads rollup and its per-client counts."""
    part, clients = pl.collect_all(
        [downloads_rollup(rows, query), client_counts(rows, query)], engine="streaming"
    )
    return part, clients


def _closing_as_we_go(
    chunks: list[Chunk],
    read: Callable[[Chunk], pl.LazyFrame],
    query: RollupQuery,
    say: Callable[[str], None],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clustered data: a project-day is ranked and its clients dropped once no later chunk
    can hold its project (memory: a chunk, the answer, a boundary project's clients)."""
    client_keys = [*CLIENT_KEYS, *fingerprint_columns()]
    downloads: list[pl.DataFrame] = []
    seen: list[pl.Series] = []
    tops: list[pl.DataFrame] = []
    still_open: pl.DataFrame | None = None
    for index, (chunk, later) in enumerate(zip(chunks, _open_later(chunks), strict=True)):
        part, clients = _partials(read(chunk), query)
        downloads.append(_compact(part))
        seen.append(part["project"].unique())
        if still_open is not None and still_open.height:  # merge only the carried projects
            carried = pl.col("project").is_in(still_open["project"].unique().implode())
            merged = (
                pl.concat([still_open, clients.filter(carried)])
                .group_by(client_keys)
                .agg(pl.col("downloads").sum())
            )
            clients = pl.concat([clients.filter(~carried), merged])
        closing = clients if later is None else clients.filter(~later)
        still_open = None if later is None else clients.filter(later)
        if closing.height:
            tops.append(_compact(top_clients(closing.lazy()).collect()))
        say(f"read {index + 1} of {len(chunks)} chunks")
    return _combine(downloads, seen), _concat(tops, "fingerprints")


def _bucketed(
    chunks: list[Chunk],
    read: Callable[[Chunk], pl.LazyFrame],
    query: RollupQuery,
    buckets: int,
    spill: Path,
    say: Callable[[str], None],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Unclustered data (e.g. one export file per day, each holding every project): each
    chunk's partial results are written to ``buckets`` files by a hash of the project, then
    each bucket is combined on its own (memory: a chunk, the answer, one bucket)."""
    bucket = (pl.col("project").hash(seed=0) % buckets).alias("_bucket")
    for index, chunk in enumerate(chunks):
        partials = _partials(read(chunk), query)
        for name, frame in zip(("downloads", "clients"), partials, strict=True):
            pieces = frame.with_columns(bucket).partition_by("_bucket", as_dict=True)
            for (number, *_), piece in pieces.items():
                target = spill / f"{name}-{number:05d}-{index:06d}.parquet"
                piece.drop("_bucket").write_parquet(target, compression="lz4")
        say(f"read {index + 1} of {len(chunks)} chunks")
    client_keys = [*CLIENT_KEYS, *fingerprint_columns()]
    downloads: list[pl.DataFrame] = []
    tops: list[pl.DataFrame] = []
    for number in range(buckets):
        parts = sorted(spill.glob(f"downloads-{number:05d}-*.parquet"))
        clients = sorted(spill.glob(f"clients-{number:05d}-*.parquet"))
        if parts:
            summed = pl.scan_parquet(parts).group_by(DIMENSIONS).agg(pl.col("downloads").sum())
            counts = pl.scan_parquet(clients).group_by(client_keys).agg(pl.col("downloads").sum())
            got = pl.collect_all([summed, top_clients(counts)], engine="streaming")
            downloads.append(_compact(got[0]))
            tops.append(_compact(got[1]))
        for file in parts + clients:
            file.unlink()
        say(f"combined {number + 1} of {buckets} buckets")
    return _concat(downloads, "downloads"), _concat(tops, "fingerprints")


def _combine(parts: list[pl.DataFrame], seen: list[pl.Series]) -> pl.DataFrame:
    """Concatenate per-chunk downloads rollups, summing again only the projects that
    appear in more than one chunk."""
    if not parts:
        return _concat(parts, "downloads")
    counts = pl.concat(seen).value_counts()
    shared = counts.filter(pl.col("count") > 1)["project"]
    whole = pl.concat(parts)
    if shared.is_empty():
        return whole
    split = pl.col("project").is_in(shared.implode())
    again = whole.filter(split).group_by(DIMENSIONS).agg(pl.col("downloads").sum())
    return pl.concat([whole.filter(~split), again.select(whole.columns)])


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of ``frame`` in buffers of its own. Text columns of a result can be views into
    the buffers of everything the query read; kept for the answer, a chunk's small result
    would hold its whole chunk (profiled: 0.4 GB retained per bucket at 100 M rows)."""
    copied = pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))
    assert isinstance(copied, pl.DataFrame)
    return copied


def _concat(frames: list[pl.DataFrame], kind: str) -> pl.DataFrame:
    return pl.concat(frames) if frames else empty(kind)
