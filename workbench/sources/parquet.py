"""Local Parquet files in the BigQuery layout (nested or flattened).

A *dataset directory* holds ``file_downloads/`` (one or more Parquet files)
and optionally ``distribution_metadata.parquet``; any other file, directory or
glob is read as download rows only. Everything is lazy: ``scan_parquet`` with
the project and timestamp filters pushed down.

Untrusted files: every file must be readable Parquet in the download-log layout
(an error names the first that is not); files of different but valid layouts
(nested and flattened, other timestamp units or time zones) are read each in its
own layout and combined; rows without a project or a timestamp are left out of
every count and counted in :meth:`ParquetSource.caveats`.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from workbench import ingest
from workbench.errors import DataSchemaError, InvalidInputError, WorkbenchError
from workbench.ingest import Chunk
from workbench.metadata import dependents_from_files, releases_from_files
from workbench.query import RollupQuery
from workbench.rollup import canonical, downloads_rollup, fingerprints_rollup
from workbench.schema import DEPENDENTS, RELEASES
from workbench.sources import child
from workbench.sources.base import CostEstimate, Progress

DOWNLOADS_DIR = "file_downloads"
METADATA_FILE = "distribution_metadata.parquet"
#: Rows that can be counted: a project and a timestamp (the others are in the caveats).
_COUNTED = pl.col("project").is_not_null() & pl.col("timestamp").is_not_null()


def resolve_files(location: str | Path) -> list[Path]:
    """A file, a directory (searched recursively) or a glob → sorted Parquet files."""
    text = str(location)
    try:
        path = Path(text).expanduser()
        if any(ch in text for ch in "*?["):
            files = sorted(Path(p) for p in glob.glob(text, recursive=True))
        elif path.is_dir():
            files = sorted(path.rglob("*.parquet"))
        elif path.is_file():
            files = [path]
        else:
            raise InvalidInputError(f"no such file or directory: {text[:200]}")
        files = [f for f in files if f.is_file()]
    except (OSError, ValueError) as exc:
        if isinstance(exc, WorkbenchError):
            raise
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InvalidInputError(f"cannot read {text[:200]}: {reason}") from None
    if not files:
        raise InvalidInputError(f"no Parquet files found at {text[:200]}")
    return files


def _check_readable(files: list[Path]) -> None:
    for file in files:
        try:
            pq.read_metadata(file)
        except (OSError, pa.ArrowException) as exc:
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise DataSchemaError(
                f"{file.name} is not a readable Parquet file ({reason})"
            ) from None


class ParquetSource:
    """Download rows (and optional release metadata) from local Parquet files."""

    def __init__(self, location: str | Path, *, metadata: str | Path | None = None) -> None:
        root = Path(str(location)).expanduser()
        if _is_dataset(root):
            self._downloads = resolve_files(root / DOWNLOADS_DIR)
            default_meta = root / METADATA_FILE
            metadata = metadata or (default_meta if default_meta.exists() else None)
        else:
            self._downloads = resolve_files(location)
        self._metadata = resolve_files(metadata) if metadata is not None else []
        _check_readable(self._downloads + self._metadata)
        self.location = str(location)

    @cached_property
    def identity(self) -> dict[str, Any]:
        digest = hashlib.sha256()
        for file in self._downloads + self._metadata:
            stat = file.stat()
            digest.update(f"{file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        return {"source": "parquet", "files": digest.hexdigest()}

    @property
    def live(self) -> bool:
        return False

    def describe(self) -> str:
        return f"Parquet files at {self.location} ({len(self._downloads)} file(s))"

    @cached_property
    def _layouts(self) -> list[tuple[pl.Schema, list[Path]]]:
        """The download files grouped by identical schema (most exports: one group)."""
        groups: dict[str, tuple[pl.Schema, list[Path]]] = {}
        for file in self._downloads:
            try:
                schema = pl.scan_parquet(file).collect_schema()
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise DataSchemaError(
                    f"{file.name} cannot be scanned as Parquet ({_first_line(exc)})"
                ) from None
            groups.setdefault(repr(list(schema.items())), (schema, []))[1].append(file)
        return list(groups.values())

    def _where(self, files: list[Path]) -> str:
        if len(self._layouts) == 1:
            return f"the Parquet data at {self.location}"
        return f"{files[0].name} (in {self.location})"

    def _layout_rows(self, scan: pl.LazyFrame, schema: pl.Schema, where: str) -> pl.LazyFrame:
        """Rows of one layout in canonical columns (see :func:`workbench.rollup.canonical`),
        with timestamps as UTC microseconds and ``ci_raw`` as booleans."""
        if "downloads" in schema and "timestamp" not in schema:
            raise DataSchemaError(
                f"{where} looks like a rollup (it has a downloads column); the source reads "
                "raw download rows, one per download, in the file_downloads layout"
            )
        try:
            rows = canonical(scan, where=where)
        except DataSchemaError as exc:
            if where in str(exc):
                raise
            raise DataSchemaError(f"{where}: {exc}") from None
        return rows.with_columns(
            pl.col("timestamp").dt.cast_time_unit("us"), pl.col("ci_raw").cast(pl.Boolean)
        )

    def _all_rows(self) -> pl.LazyFrame:
        """Every row in canonical columns, one scan per layout."""
        frames = []
        for schema, files in self._layouts:
            where = self._where(files)
            try:
                scan = pl.scan_parquet(files)
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise DataSchemaError(f"{where} cannot be scanned ({_first_line(exc)})") from None
            frames.append(self._layout_rows(scan, schema, where))
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")

    @cached_property
    def _layout_of(self) -> dict[Path, tuple[pl.Schema, list[Path]]]:
        return {file: (schema, files) for schema, files in self._layouts for file in files}

    def _read_chunk(self, chunk: Chunk) -> pl.LazyFrame:
        """The countable rows of one chunk (see :mod:`workbench.ingest`)."""
        schema, files = self._layout_of[chunk.file]
        scan = pl.scan_parquet(chunk.file).slice(chunk.offset, chunk.rows)
        return self._layout_rows(scan, schema, self._where(files)).filter(_COUNTED)

    def compute(
        self,
        kinds: list[str],
        query: RollupQuery,
        progress: Progress | None = None,
        *,
        isolate: bool | None = None,
    ) -> dict[str, pl.DataFrame]:
        """Both rollups, chunk by chunk in bounded memory (see :mod:`workbench.ingest`); in a
        child process when more than ``child.ISOLATE_ROWS`` rows are to be read (``isolate``
        None) or when asked (see :mod:`workbench.sources.child`)."""
        self._all_rows()  # every layout is checked before anything is read
        chunks = ingest.plan(self._downloads, query)
        if isolate is None:
            isolate = sum(c.rows for c in chunks) > child.ISOLATE_ROWS
        if isolate:
            found = child.compute(self.location, query, progress)
            return {kind: found[kind] for kind in kinds}
        try:
            downloads, fingerprints = ingest.rollups(
                chunks, self._read_chunk, query, progress=progress
            )
        except (OSError, pl.exceptions.PolarsError, pa.ArrowException) as exc:
            raise DataSchemaError(
                f"the Parquet data at {self.location} cannot be read ({_first_line(exc)})"
            ) from None
        found = {"downloads": downloads, "fingerprints": fingerprints}
        return {kind: found[kind] for kind in kinds}

    def _rows(self) -> pl.LazyFrame:
        """The rows that can be counted: a project and a timestamp (see :meth:`caveats`)."""
        return self._counted_rows

    @cached_property
    def _counted_rows(self) -> pl.LazyFrame:
        # One plan object for every rollup: collected together, Polars recognises the shared
        # scan and reads the files once (the lazy path; data.load uses :meth:`compute`).
        return self._all_rows().filter(_COUNTED)

    def caveats(self) -> list[str]:
        """What the numbers leave out of this data, in words (shown with the provenance)."""
        return list(self._caveats)

    @cached_property
    def _caveats(self) -> tuple[str, ...]:
        dropped = ingest.null_rows(self._downloads, ("project", "timestamp"))
        try:
            dropped = (
                dropped
                if dropped is not None
                else (
                    self._all_rows()
                    .select((pl.col("project").is_null() | pl.col("timestamp").is_null()).sum())
                    .collect()
                    .item()
                )
            )
        except pl.exceptions.PolarsError as exc:
            raise DataSchemaError(
                f"the Parquet data at {self.location} cannot be read ({_first_line(exc)})"
            ) from None
        if not dropped:
            return ()
        return (
            f"{dropped:,} row{'s' if dropped != 1 else ''} of the Parquet data "
            f"{'have' if dropped != 1 else 'has'} no project or no timestamp and "
            f"{'are' if dropped != 1 else 'is'} left out of every count",
        )

    def rollup(self, kind: str, query: RollupQuery) -> pl.LazyFrame:
        rows = self._rows()
        if kind == "downloads":
            return downloads_rollup(rows, query)
        if kind == "fingerprints":
            return fingerprints_rollup(rows, query)
        raise ValueError(f"unknown rollup kind {kind!r}")

    def estimate(self, query: RollupQuery) -> CostEstimate | None:
        return None

    def _files(self) -> pl.LazyFrame | None:
        if not self._metadata:
            return None
        scan = pl.scan_parquet(self._metadata)
        needed = {"name", "version", "upload_time", "packagetype", "requires_dist"}
        missing = needed - set(scan.collect_schema().names())
        if missing:
            raise DataSchemaError(
                f"the release metadata lacks {', '.join(sorted(missing))} "
                "(expected the distribution_metadata layout)"
            )
        return scan

    def releases(self, projects: tuple[str, ...]) -> pl.LazyFrame:
        files = self._files()
        if files is None:
            return pl.LazyFrame(schema=RELEASES)
        return releases_from_files(files).filter(pl.col("project").is_in(list(projects)))

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.LazyFrame:
        files = self._files()
        if files is None:
            return pl.LazyFrame(schema=DEPENDENTS)
        cutoff = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        return dependents_from_files(files.filter(pl.col("upload_time") >= cutoff), projects)

    def project_names(self) -> list[str]:
        """Package names, most downloaded first (suggestions list the likely ones first)."""
        try:
            frame = self.names().collect()
        except (OSError, pl.exceptions.PolarsError):
            return []
        return frame["project"].to_list()

    def names(self) -> pl.LazyFrame:
        """Every package with its downloads, most downloaded first (``data.project_names``
        caches it: reading it scans the whole ``project`` column)."""
        return (
            pl.scan_parquet(self._downloads)
            .group_by("project")
            .agg(downloads=pl.len().cast(pl.Int64))
            .drop_nulls("project")
            .sort(["downloads", "project"], descending=[True, False])
        )


def _is_dataset(root: Path) -> bool:
    """A dataset directory (``file_downloads/`` inside); False for anything unreadable."""
    try:
        return root.is_dir() and (root / DOWNLOADS_DIR).is_dir()
    except (OSError, ValueError):
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
