"""The on-disk cache of fetched rollups.

One Parquet file per entry, named by its key (a SHA-256 of source identity,
query, kind and schema version). The file carries its own description in the
Parquet footer (key, kind, schema version, creation time, completeness), so an
entry is self-checking:

* **atomic**: written to a temporary file in the same directory, fsynced, then
  ``os.replace``-d into place; a crash leaves only a temporary file that
  readers never open and :meth:`Cache.entries` sweeps away;
* **verified on read**: a truncated, foreign or mismatched file is deleted and
  reported as a miss (refetched), never crashed on;
* **expiring only when incomplete**: entries holding days still in progress
  (today, yesterday) expire after a TTL; complete days are kept until cleared;
* **safe for concurrent users**: readers only ever see whole files, and
  :meth:`Cache.lock` serialises two processes fetching the same key so a
  BigQuery query is not paid for twice;
* **optional when it cannot be written**: on a full disk, a read-only mount or
  without permission, :meth:`Cache.store` returns the result unkept with one
  :class:`~workbench.errors.CacheWriteWarning`; existing entries are untouched
  and no temporary file stays behind.

**Day spans.** Rollups and population features are stored as *span entries*: one file per
(space, first day, last day), where a space is one source × kind × scope (a package, or
every package). The days are in the file name, so :meth:`Cache.spans` lists what a space
holds from a directory listing and the footers alone; :mod:`workbench.data` assembles any
range from the days held and fetches only the rest. One package is read out of an
every-package entry by a filtered scan of that one open file (:meth:`Cache.read`: a
consistent snapshot), which decodes the ``project`` column and only the matching rows of the
others. Entries are written in the order the engine answered: sorting tens of millions of
rollup rows by project cost more at write (measured: 4.7 s of a 23 s ingest of 10 M rows)
than the filtered scan costs at read (0.15 s for one package of a 4.7 M-row entry).

**Staged entries.** An engine that writes Parquet itself (DuckDB) writes an every-package
entry straight into a temporary file of the cache (:meth:`Cache.staged_span`), footer
included; the file is checked and moved into place like any other. Such entries are read
back as lazy scans (:meth:`Cache.scan`), so a 100 M-row ingest holds none of its rollup
rows in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from workbench import config
from workbench.errors import CacheWriteWarning
from workbench.schema import ROLLUP_SCHEMAS, ROW_GROUP_ROWS, SCHEMA_VERSION, conform

_META_KEY = b"workbench"
_SUFFIX = ".parquet"
_TMP_PREFIX = ".tmp-"
_STALE_TMP = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Entry:
    """What the cache knows about one stored rollup."""

    key: str
    path: Path
    kind: str
    created: dt.datetime
    complete: bool
    rows: int
    size: int
    description: Mapping[str, Any]
    #: For a span entry: its space and the days it holds.
    space: str | None = None
    days: tuple[dt.date, dt.date] | None = None

    def age(self, now: dt.datetime | None = None) -> dt.timedelta:
        return (now or dt.datetime.now(dt.UTC)) - self.created


@dataclass(slots=True)
class Staging:
    """Where an engine writes a span entry itself (:meth:`Cache.staged_span`)."""

    #: The temporary file to write (in the cache's directory, moved into place after).
    path: Path
    #: Key-value metadata the file's footer must carry (the entry's description).
    footer: dict[str, str]
    #: The entry, once the file is in place.
    entry: Entry | None = None


def span_key(space: str, first: dt.date, last: dt.date) -> str:
    """The key (and file stem) of the span entry of ``space`` for ``first``..``last``."""
    return f"{space}.{first:%Y%m%d}-{last:%Y%m%d}"


def make_key(material: Mapping[str, Any]) -> str:
    """A stable key for ``material`` (JSON-serialisable), schema version included."""
    payload = json.dumps(
        {**material, "schema_version": SCHEMA_VERSION}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class Cache:
    """A directory of rollup entries. ``root`` defaults to the platform cache dir."""

    def __init__(self, root: str | Path | None = None, *, ttl: dt.timedelta | None = None) -> None:
        self.root = config.cache_dir(root)
        self.ttl = ttl if ttl is not None else config.cache_ttl()

    # -- reading ------------------------------------------------------------------
    def path(self, key: str) -> Path:
        return self.root / f"{key}{_SUFFIX}"

    def _load(self, key: str) -> tuple[Entry, bytes] | None:
        """One consistent snapshot of ``key``'s file (one open), verified; a bad file is removed."""
        snap = _snapshot(self.path(key))
        if snap is None:
            return None
        content, stat = snap
        entry = _describe(self.path(key), content, stat.st_size)
        if entry is None or entry.key != key:
            _discard(self.path(key), stat)
            return None
        return entry, content

    def entry(self, key: str) -> Entry | None:
        """The verified entry for ``key``, or ``None``."""
        loaded = self._load(key)
        return loaded[0] if loaded else None

    def get(self, key: str, kind: str, *, now: dt.datetime | None = None) -> pl.DataFrame | None:
        """The cached frame for ``key``, or ``None`` on a miss, an expired or a bad entry."""
        loaded = self._load(key)
        if loaded is None:
            return None
        entry, content = loaded
        if entry.kind != kind or (not entry.complete and entry.age(now) > self.ttl):
            return None
        try:
            return conform(pl.read_parquet(io.BytesIO(content)), kind)
        except (OSError, pl.exceptions.PolarsError, pa.ArrowException):
            return None

    # -- writing ------------------------------------------------------------------
    def _footer_meta(
        self,
        key: str,
        kind: str,
        complete: bool,
        description: Mapping[str, Any],
        now: dt.datetime | None,
        span: tuple[str, dt.date, dt.date] | None,
    ) -> dict[str, Any]:
        """What an entry's footer says of it (see :func:`_describe_meta`)."""
        meta: dict[str, Any] = {
            "key": key,
            "kind": kind,
            "schema_version": SCHEMA_VERSION,
            "created": (now or dt.datetime.now(dt.UTC)).isoformat(),
            "complete": complete,
            "description": dict(description),
        }
        if span is not None:
            meta["span"] = [span[0], str(span[1]), str(span[2])]
        return meta

    def _entry(
        self,
        meta: Mapping[str, Any],
        rows: int,
        size: int,
        span: tuple[str, dt.date, dt.date] | None,
    ) -> Entry:
        key = str(meta["key"])
        return Entry(
            key,
            self.path(key),
            str(meta["kind"]),
            dt.datetime.fromisoformat(str(meta["created"])),
            bool(meta["complete"]),
            rows,
            size,
            dict(meta["description"]),
            span[0] if span is not None else None,
            (span[1], span[2]) if span is not None else None,
        )

    def put(
        self,
        key: str,
        kind: str,
        frame: pl.DataFrame,
        *,
        complete: bool,
        description: Mapping[str, Any],
        now: dt.datetime | None = None,
        span: tuple[str, dt.date, dt.date] | None = None,
    ) -> Entry:
        """Store ``frame`` atomically under ``key``; returns the new entry."""
        meta = self._footer_meta(key, kind, complete, description, now, span)
        table = conform(frame, kind).to_arrow()
        table = table.replace_schema_metadata({_META_KEY: json.dumps(meta, default=str).encode()})
        size = atomic_write(
            self.path(key),
            lambda handle: pq.write_table(
                table, handle, compression="zstd", row_group_size=ROW_GROUP_ROWS
            ),
        )
        return self._entry(meta, table.num_rows, size, span)

    @contextlib.contextmanager
    def staged_span(
        self,
        space: str,
        kind: str,
        first: dt.date,
        last: dt.date,
        *,
        complete: bool,
        description: Mapping[str, Any],
    ) -> Iterator[Staging]:
        """A span entry written by someone else: an engine that writes Parquet itself, so
        that a large answer goes to disk without passing through Python.

        Yields where to write the file and the footer metadata it must carry. On a clean
        exit the file is checked (a whole Parquet file naming this entry), fsynced and
        moved into place, and :attr:`Staging.entry` is set; on any error it is removed and
        nothing changes. Raises :class:`OSError` when the cache cannot be written."""
        key = span_key(space, first, last)
        span = (space, first, last)
        meta = self._footer_meta(key, kind, complete, description, None, span)
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f"{_TMP_PREFIX}{key[:16]}-", suffix=_SUFFIX, dir=self.root
        )
        os.close(fd)
        tmp = Path(name)
        staging = Staging(tmp, {_META_KEY.decode(): json.dumps(meta, default=str)})
        try:
            yield staging
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
                size = os.fstat(handle.fileno()).st_size
                parquet = pq.ParquetFile(handle)
                described = _describe_meta(tmp, parquet.metadata, size)
                if described is None or described.key != key or described.kind != kind:
                    raise OSError(f"the engine did not write a whole entry for {kind}")
                rows = parquet.metadata.num_rows
            os.replace(tmp, self.path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(self.root)
        staging.entry = self._entry(meta, rows, size, span)

    def store(
        self,
        key: str,
        kind: str,
        frame: pl.DataFrame,
        *,
        complete: bool,
        description: Mapping[str, Any],
        span: tuple[str, dt.date, dt.date] | None = None,
    ) -> Entry | None:
        """:meth:`put`, but a cache that cannot be written (full disk, read-only, no
        permission) only costs a :class:`CacheWriteWarning`: returns ``None``, keeps nothing."""
        try:
            return self.put(key, kind, frame, complete=complete, description=description, span=span)
        except (OSError, pa.ArrowException) as exc:
            self.warn_unwritable(exc)
            return None

    def warn_unwritable(self, exc: BaseException) -> None:
        """Say (once, as a :class:`CacheWriteWarning`) that a result is shown but not kept."""
        warnings.warn(
            CacheWriteWarning(
                f"the cache at {self.root} could not be written ({_why(exc)}): "
                "results are shown but not kept"
            ),
            stacklevel=3,
        )

    # -- day spans -------------------------------------------------------------------
    def store_span(
        self,
        space: str,
        kind: str,
        frame: pl.DataFrame,
        first: dt.date,
        last: dt.date,
        *,
        complete: bool,
        description: Mapping[str, Any],
    ) -> Entry | None:
        """Store the days ``first``..``last`` of ``space`` (see :meth:`store`)."""
        key = span_key(space, first, last)
        return self.store(
            key,
            kind,
            frame,
            complete=complete,
            description=description,
            span=(space, first, last),
        )

    def spans(self, space: str, *, now: dt.datetime | None = None) -> list[Entry]:
        """The valid span entries of ``space`` (footers checked; expired incomplete ones
        and bad files left out, bad files removed), newest first."""
        if not self.root.exists():
            return []
        found = []
        for path in self.root.glob(f"{space}.*{_SUFFIX}"):
            entry = _footer(path)
            if entry is None or entry.space != space or entry.key != path.stem:
                _discard(path)
                continue
            if not entry.complete and entry.age(now) > self.ttl:
                continue
            found.append(entry)
        return sorted(found, key=lambda e: e.created, reverse=True)

    def read(self, entry: Entry, project: str | None = None) -> pl.DataFrame | None:
        """The frame of ``entry`` (only ``project``'s rows, by a filtered scan, when given),
        from one open file; ``None`` when it is gone or no longer a whole entry (then it
        is removed, so it is fetched again)."""
        try:
            with entry.path.open("rb") as handle:
                parquet = _whole(entry, handle)
                if parquet is None:
                    return None
                if project is None:
                    frame = pl.from_arrow(parquet.read())
                else:
                    handle.seek(0)
                    frame = pl.scan_parquet(handle).filter(pl.col("project") == project).collect()
            assert isinstance(frame, pl.DataFrame)
            frame = conform(frame, entry.kind)
        except FileNotFoundError:
            return None
        except (OSError, pl.exceptions.PolarsError, pa.ArrowException):
            _discard(entry.path)
            return None
        return frame

    def scan(self, entry: Entry) -> pl.LazyFrame | None:
        """A lazy scan of ``entry`` (an every-package rollup too large to hold), its footer
        checked first; ``None`` (and the file removed) when it is no longer a whole entry.
        The scan reads the file when collected: collect it before clearing the cache."""
        try:
            with entry.path.open("rb") as handle:
                if _whole(entry, handle) is None:
                    return None
            return conform(pl.scan_parquet(entry.path), entry.kind)
        except FileNotFoundError:
            return None
        except (OSError, pa.ArrowException):
            _discard(entry.path)
            return None

    def discard(self, path: Path) -> None:
        """Remove an entry found damaged (it is fetched again)."""
        _discard(path)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold an exclusive inter-process lock for ``key`` (fetch-then-put).

        Where no lock file can be made (a read-only or full cache), nothing can be stored
        either: the fetch goes ahead unlocked and :meth:`store` reports the cache."""
        locks = self.root / "locks"
        handle: IO[str] | None = None
        with contextlib.suppress(OSError):
            locks.mkdir(parents=True, exist_ok=True)
            handle = (locks / f"{key}.lock").open("a")
        if handle is None:
            yield
            return
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # -- housekeeping ----------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """Every valid entry, newest first; stale temporary and bad files are removed."""
        if not self.root.exists():
            return []
        now = dt.datetime.now(dt.UTC)
        found = []
        for path in self.root.iterdir():
            if path.name.startswith(_TMP_PREFIX):
                if _mtime(path) < now - _STALE_TMP:
                    _discard(path)
                continue
            if path.suffix != _SUFFIX:
                continue
            entry = _footer(path)
            if entry is None or entry.key != path.name.removesuffix(_SUFFIX):
                _discard(path)
                continue
            found.append(entry)
        return sorted(found, key=lambda e: e.created, reverse=True)

    def size(self) -> int:
        return sum(e.size for e in self.entries())

    def clear(
        self, *, incomplete_only: bool = False, older_than: dt.timedelta | None = None
    ) -> int:
        """Remove entries (all, only incomplete ones, or older ones); returns how many."""
        removed = 0
        for entry in self.entries():
            if incomplete_only and entry.complete:
                continue
            if older_than is not None and entry.age() < older_than:
                continue
            _discard(entry.path)
            removed += 1
        return removed


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> int:
    """Write ``path`` atomically: ``write`` fills a temporary file in the same directory,
    which is fsynced and ``os.replace``-d into place (readers see the old or the new file,
    never a part); on any failure the temporary file is removed. Returns the size written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{path.name[:16]}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            size = os.fstat(handle.fileno()).st_size
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    _fsync_dir(path.parent)
    return size


def _snapshot(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The file's bytes and identity from a single open (immune to concurrent replaces)."""
    try:
        with path.open("rb") as handle:
            return handle.read(), os.fstat(handle.fileno())
    except OSError:
        return None


def _describe(path: Path, content: bytes, size: int) -> Entry | None:
    """Check an entry's footer; ``None`` if it is not a whole, current entry."""
    try:
        meta_file = pq.read_metadata(pa.BufferReader(content))
    except (OSError, ValueError, pa.ArrowException):
        return None
    return _describe_meta(path, meta_file, size)


def _footer(path: Path) -> Entry | None:
    """The entry described by ``path``'s footer alone (no data read)."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return _describe_meta(path, pq.read_metadata(handle), size)
    except (OSError, ValueError, pa.ArrowException):
        return None


def _whole(entry: Entry, handle: IO[bytes]) -> pq.ParquetFile | None:
    """The open file of ``entry`` if its footer still names that entry; otherwise ``None``,
    and that very file removed (not a valid entry written meanwhile by another process)."""
    parquet = pq.ParquetFile(handle)
    described = _describe_meta(entry.path, parquet.metadata, entry.size)
    if described is None or described.key != entry.key:
        _discard(entry.path, os.fstat(handle.fileno()))
        return None
    return parquet


def _describe_meta(path: Path, meta_file: pq.FileMetaData, size: int) -> Entry | None:
    try:
        raw = (meta_file.metadata or {}).get(_META_KEY)
        if raw is None:
            return None
        meta = json.loads(raw)
        kind = meta["kind"]
        if meta["schema_version"] != SCHEMA_VERSION or kind not in ROLLUP_SCHEMAS:
            return None
        names = list(meta_file.schema.to_arrow_schema().names)
        if names != list(ROLLUP_SCHEMAS[kind]):
            return None
        span = meta.get("span")
        days = None
        if span is not None:
            days = (dt.date.fromisoformat(span[1]), dt.date.fromisoformat(span[2]))
        return Entry(
            key=str(meta["key"]),
            path=path,
            kind=kind,
            created=dt.datetime.fromisoformat(meta["created"]),
            complete=bool(meta["complete"]),
            rows=meta_file.num_rows,
            size=size,
            description=meta.get("description", {}),
            space=str(span[0]) if span is not None else None,
            days=days,
        )
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None


def _discard(path: Path, seen: os.stat_result | None = None) -> None:
    """Remove ``path``; with ``seen``, only while it is still that same file, so a valid
    entry written meanwhile by another process is never deleted."""
    with contextlib.suppress(OSError):
        if seen is not None:
            now = path.stat()
            if (now.st_ino, now.st_mtime_ns) != (seen.st_ino, seen.st_mtime_ns):
                return
        path.unlink()


_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "it is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def _why(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code in _WHY:
        return _WHY[code]
    if isinstance(code, int) and code > 0:
        return os.strerror(code)
    return type(exc).__name__


def _mtime(path: Path) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:
        return dt.datetime.now(dt.UTC)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
