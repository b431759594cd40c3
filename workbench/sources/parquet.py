"""Local Parquet files in the BigQuery layout (nested or flattened).

A *dataset directory* holds ``file_downloads/`` (one or more Parquet files)
and optionally ``distribution_metadata.parquet``; any other file, directory or
glob is read as download rows only. Everything is lazy: ``scan_parquet`` with
the project and timestamp filters pushed down.
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

from workbench.errors import DataSchemaError, InvalidInputError
from workbench.metadata import dependents_from_files, releases_from_files
from workbench.query import RollupQuery
from workbench.rollup import canonical, downloads_rollup, fingerprints_rollup
from workbench.schema import DEPENDENTS, RELEASES
from workbench.sources.base import CostEstimate

DOWNLOADS_DIR = "file_downloads"
METADATA_FILE = "distribution_metadata.parquet"


def resolve_files(location: str | Path) -> list[Path]:
    """A file, a directory (searched recursively) or a glob → sorted Parquet files."""
    text = str(location)
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
        if root.is_dir() and (root / DOWNLOADS_DIR).is_dir():
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

    def _rows(self) -> pl.LazyFrame:
        try:
            scan = pl.scan_parquet(self._downloads)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise DataSchemaError(f"the Parquet files cannot be scanned ({exc})") from None
        return canonical(scan, where=f"the Parquet data at {self.location}")

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
        return self._names

    @cached_property
    def _names(self) -> list[str]:
        """Package names, most downloaded first (suggestions list the likely ones first)."""
        try:
            frame = (
                pl.scan_parquet(self._downloads)
                .group_by("project")
                .len()
                .sort(["len", "project"], descending=[True, False])
                .collect()
            )
        except (OSError, pl.exceptions.PolarsError):
            return []
        return frame["project"].drop_nulls().to_list()
