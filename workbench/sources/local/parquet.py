"""Raw download rows in local Parquet files (your own BigQuery exports), aggregated by DuckDB.

A *dataset directory* holds ``file_downloads/`` (one or more Parquet files) and optionally
``distribution_metadata.parquet``; any other file, directory or glob is read as download
rows only. The files are checked once (:mod:`workbench.sources.local.files`); every answer
is one DuckDB query over the canonical view of all of them (:mod:`workbench.sources.local.sql`),
with the window and the packages pushed down to the Parquet row groups. Rows without a
project or a timestamp are left out of every count and counted in :meth:`ParquetSource.caveats`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from workbench.errors import DataSchemaError
from workbench.population import features
from workbench.query import DayRange, RollupQuery
from workbench.schema import DEPENDENTS, FIRST_RELEASES, RELEASES, ROLLUP_SCHEMAS, conform
from workbench.sources import metadata
from workbench.sources.base import KINDS, Progress, Source
from workbench.sources.local import engine, files, pieces
from workbench.sources.local import sql as local_sql

#: What this engine's answers depend on besides the files (bump on a definition change).
ENGINE_VERSION = "duckdb-1"


def _window(days: DayRange, projects: tuple[str, ...] | None) -> dict[str, Any]:
    start = dt.datetime.combine(days.start, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(days.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    params: dict[str, Any] = {"start": start, "end": end}
    if projects is not None:
        params["projects"] = list(projects)
    return params


class _Files(NamedTuple):
    """The files, and what their footers tell (each footer read once, when the source is
    made: the layouts are checked then)."""

    downloads: list[Path]
    metadata: list[Path]
    layouts: list[files.Layout]
    extents: list[pieces.Extent]
    #: Rows without a project or a timestamp, from the statistics (None: they cannot tell).
    dropped: int | None


#: The SQL of each rollup kind.
_BUILDERS = {"downloads": local_sql.downloads, "fingerprints": local_sql.fingerprints}


class ParquetSource(Source):
    """Download rows (and optional release metadata) from local Parquet files."""

    kind = "parquet"
    writes_files = True

    def __init__(self, location: str | Path, *, metadata: str | Path | None = None) -> None:
        super().__init__()
        self.location = str(location)
        self._metadata_location = metadata
        self._resolved  # noqa: B018 (a missing or unreadable location fails at once, clearly)

    # -- files --------------------------------------------------------------------------
    def _root(self) -> str | Path:
        """Where the files are (the demo generates them first)."""
        return self.location

    @cached_property
    def _resolved(self) -> _Files:
        location = self._root()
        root = Path(str(location)).expanduser()
        meta = self._metadata_location
        if files.is_dataset(root):
            downloads = files.resolve_files(root / files.DOWNLOADS_DIR)
            default = root / files.METADATA_FILE
            meta = meta or (default if default.exists() else None)
        else:
            downloads = files.resolve_files(location)
        metadata_files = files.resolve_files(meta) if meta is not None else []
        # each footer read once: readable Parquet, or an error naming the file
        footers = {file: files.footer_of(file) for file in downloads}
        for file in metadata_files:
            files.footer_of(file)
        return _Files(
            downloads,
            metadata_files,
            files.layouts(footers, self.location),
            pieces.extents(footers.values(), "project", "timestamp"),
            files.null_rows(footers.values(), ("project", "timestamp")),
        )

    @cached_property
    def identity(self) -> dict[str, Any]:
        digest = hashlib.sha256()
        downloads, metadata_files = self._resolved.downloads, self._resolved.metadata
        for file in downloads + metadata_files:
            stat = file.stat()
            digest.update(f"{file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        return {"source": "parquet", "files": digest.hexdigest()}

    def engine(self) -> str:
        return ENGINE_VERSION

    def describe(self) -> str:
        return f"Parquet files at {self.location} ({len(self._resolved.downloads)} file(s))"

    # -- answers --------------------------------------------------------------------------
    def _run(self, queries: list[tuple[str, str, dict[str, Any]]]) -> list[pl.DataFrame]:
        """Run (sql, what, params) on one connection over every layout of the files."""
        with engine.connect(self._resolved.layouts) as con:
            return [engine.run(con, sql, params, what) for sql, what, params in queries]

    def fetch(
        self, kinds: tuple[str, ...], query: RollupQuery, progress: Progress | None = None
    ) -> dict[str, pl.DataFrame]:
        params = _window(query.days, query.projects)
        if progress:
            progress(f"aggregating {' and '.join(kinds)} for {query.describe()} (DuckDB)")
        found = {}
        with engine.connect(self._resolved.layouts, release=query.projects is None) as con:
            # The heaviest aggregation first, while nothing else is held (a lower peak).
            for kind in sorted(kinds, key=lambda k: k != "fingerprints"):
                parts = self._parts(kind, query, params)
                found[kind] = conform(engine.gather(con, parts, f"the {kind} rollup"), kind)
        return {k: found[k] for k in kinds}

    def _parts(
        self, kind: str, query: RollupQuery, params: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        """The SQL and parameters of each piece of the ``kind`` rollup for ``query``: one
        for named packages; for every package, as many as keep each piece's aggregation
        within memory (:mod:`workbench.sources.local.pieces`)."""
        if query.projects is not None:
            return [(_BUILDERS[kind](projects=True), dict(params))]
        build = _BUILDERS[kind]
        return self._pieces(kind, query.days, params, lambda p: build(projects=False, piece=p))

    def _pieces(
        self,
        kind: str,
        days: DayRange,
        params: Mapping[str, Any],
        build: Callable[[pieces.Piece], str],
    ) -> list[tuple[str, dict[str, Any]]]:
        """The SQL (``build`` of each piece) and parameters of every package's ``kind``
        answer for ``days``, in pieces that each fit in memory."""
        return [(build(p), {**params, **p.params()}) for p in self.cut(kind, days)]

    def cut(self, kind: str, days: DayRange) -> list[pieces.Piece]:
        """How every package's ``kind`` answer (a rollup's kind, or ``population``) for
        ``days`` is cut into pieces whose aggregations each fit in DuckDB's memory limit
        (:func:`workbench.sources.local.pieces.plan`; the whole when the limit is not
        known)."""
        budget = engine.piece_rows(kind)
        if budget is None:
            return [pieces.WHOLE]
        room = engine.spill_rows(kind)
        return pieces.plan(self._resolved.extents, budget, (days.start, days.end), room)

    def file_spans(self, days: DayRange) -> list[DayRange]:
        """``days`` cut at every day where a piece of either rollup begins (rows too many to
        aggregate whole, in files ordered by time), so that each span's rollups are written
        as DuckDB computes them, a piece at a time, and held by the cache as a file each.
        Pieces of one file are gathered in a temporary table first and written after: at
        81 M time-ordered rows, the downloads rollup's 30 M rows took 9 s more that way
        (written after its 21 s of aggregation, not alongside it). Pieces cut by project
        (files clustered by project) stay pieces of one file."""
        starts = {
            piece.times[0].date()
            for kind in KINDS
            for piece in self.cut(kind, days)
            if piece.times[0] is not None
        }
        firsts = [days.start, *sorted(d for d in starts if days.start < d <= days.end)]
        if len(firsts) == 1:
            return [days]
        lasts = [d - dt.timedelta(days=1) for d in firsts[1:]] + [days.end]
        # a span's own plan may cut it again (the row groups across its ends count whole)
        return [
            span
            for first, last in zip(firsts, lasts, strict=True)
            for span in self.file_spans(DayRange(first, last))
        ]

    def fetch_files(
        self,
        query: RollupQuery,
        targets: Mapping[str, tuple[Path, Mapping[str, str]]],
        progress: Progress | None = None,
    ) -> None:
        params = _window(query.days, query.projects)
        if progress:
            progress(f"aggregating {' and '.join(targets)} for {query.describe()} (DuckDB)")
        with engine.connect(self._resolved.layouts, release=True) as con:
            for kind in sorted(targets, key=lambda k: k != "fingerprints"):
                parts = self._parts(kind, query, params)
                schema = ROLLUP_SCHEMAS[kind]
                engine.write(con, parts, targets[kind], schema, f"the {kind} rollup")

    def population_tiers(self) -> tuple[str, ...]:
        return ("clients",)  # local rows carry every client field at no cost

    def population(
        self, days: DayRange, tier: str, progress: Progress | None = None
    ) -> pl.DataFrame:
        if progress:
            progress(f"computing population features for {days} (DuckDB)")
        parts = self._pieces(
            "population", days, _window(days, None), lambda p: local_sql.population("clients", p)
        )
        with engine.connect(self._resolved.layouts, release=True) as con:
            return features.conform(engine.gather(con, parts, "the population"))

    def names(self) -> pl.DataFrame:
        (frame,) = self._run([(local_sql.names(), "the package list", {})])
        return frame.sort(["downloads", "project"], descending=[True, False])

    def caveats(self) -> list[str]:
        return list(self._caveats)

    @cached_property
    def _caveats(self) -> tuple[str, ...]:
        dropped = self._resolved.dropped
        if dropped is None:
            what = "the rows without a project or timestamp"
            (frame,) = self._run([(local_sql.uncounted(), what, {})])
            dropped = int(frame["n"][0])
        if not dropped:
            return ()
        return (
            f"{dropped:,} row{'s' if dropped != 1 else ''} of the Parquet data "
            f"{'have' if dropped != 1 else 'has'} no project or no timestamp and "
            f"{'are' if dropped != 1 else 'is'} left out of every count",
        )

    # -- release metadata (small: Polars) ------------------------------------------------
    def _files(self) -> pl.LazyFrame | None:
        metadata_files = self._resolved.metadata
        if not metadata_files:
            return None
        scan = pl.scan_parquet(metadata_files)
        needed = {"name", "version", "upload_time", "packagetype", "requires_dist"}
        missing = needed - set(scan.collect_schema().names())
        if missing:
            raise DataSchemaError(
                f"the release metadata lacks {', '.join(sorted(missing))} "
                "(expected the distribution_metadata layout)"
            )
        return scan

    def releases(self, projects: tuple[str, ...]) -> pl.DataFrame:
        scan = self._files()
        if scan is None:
            return pl.DataFrame(schema=RELEASES)
        wanted = metadata.releases_from_files(scan).filter(pl.col("project").is_in(projects))
        return wanted.collect()

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.DataFrame:
        scan = self._files()
        if scan is None:
            return pl.DataFrame(schema=DEPENDENTS)
        cutoff = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        recent = scan.filter(pl.col("upload_time") >= cutoff)
        return metadata.dependents_from_files(recent, projects).collect()

    def first_releases(self) -> pl.DataFrame:
        scan = self._files()
        if scan is None:
            (frame,) = self._run([(local_sql.first_seen(), "first downloads", {})])
            return frame.select(pl.col(c).cast(t) for c, t in FIRST_RELEASES.items())
        return metadata.first_releases(scan).collect()
