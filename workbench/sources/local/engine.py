"""DuckDB, the engine that aggregates local raw rows.

Chosen by measurement (``benchmarks/bench_ingest.py``): DuckDB's hash aggregation streams
row groups, spills to disk past its memory limit and prunes row groups from Parquet
statistics by itself, so raw rows never sit in memory and nothing here buckets or forks.
Every package's answer over more rows than fit is cut into pieces by project, by day or
by both (:mod:`workbench.sources.local.pieces`) when the files' order allows it, so that
each piece's aggregation fits in memory instead of spilling. Polars stays the layer for
everything after the rollup.

Every query takes a cursor of one in-memory database per process (:func:`connect`): UTC
days, every core, a memory limit (``WORKBENCH_MEMORY_LIMIT``, default 3 GB per core and at
most 60 % of RAM) past which aggregation spills to a temporary directory, and no promise of
row order (which lets DuckDB stream). Every package's rollups are written by DuckDB itself
into the cache (:func:`write`), so they never pass through Python. Values reach the SQL only
as parameters; the text is built from registry constants.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from workbench.errors import DataSchemaError, SourceError
from workbench.schema import ROW_GROUP_ROWS
from workbench.sources.local.files import Layout

MEMORY_ENV = "WORKBENCH_MEMORY_LIMIT"
ROWS = "rows"
#: The name of DuckDB's spill directories (under the system's temporary directory).
SPILL_PREFIX = "workbench-duckdb-"
#: Rows per Arrow batch of an answer handed from DuckDB to Polars.
BATCH_ROWS = 1_000_000


#: DuckDB's memory per thread by default: its guidance is 1-4 GB per thread (1-2 GB for
#: aggregations, 3-4 GB for joins; the fingerprint rollup has both). Measured on 100 M rows
#: and 2 threads: 3 GB a thread (6 GB) cost 17 % more time than 14 GB and peaked at 6.2 GB.
PER_THREAD = 3 * 2**30


def memory_limit() -> str:
    """DuckDB's memory limit: ``WORKBENCH_MEMORY_LIMIT`` (e.g. ``8GB``), or the smaller of
    :data:`PER_THREAD` per core and 60 % of the memory this process may use (the
    machine's, or its cgroup's when that is smaller: a container or a test's limit),
    leaving room for Python, Polars and the apps. Past it, DuckDB spills to disk."""
    configured = os.environ.get(MEMORY_ENV, "").strip()
    if configured:
        return configured
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        available = 4 * 2**30
    limit = _cgroup_limit()
    if limit is not None:
        available = min(available, limit)
    chosen = min(available * 0.6, PER_THREAD * (os.cpu_count() or 1))
    return f"{max(64, int(chosen / 2**20))}MB"


#: Memory DuckDB needs per raw row aggregated, by answer: a hash-table entry per group, and
#: nearly every row is a client of its own in the fingerprint rollup and the population's
#: cells (their groups hold the whole client fingerprint). From peaks measured by
#: ``benchmarks/bench_ingest.py``, rounded up; a piece of the rows
#: (:mod:`workbench.sources.local.pieces`) is sized to fill half the memory limit, the rest
#: being DuckDB's reading, output and slack.
ROW_BYTES = {"fingerprints": 256, "downloads": 64, "population": 256}

_UNITS = {"": 1, "B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def limit_bytes(limit: str) -> int | None:
    """``6144MB``, ``8GB``, ``12GiB`` … in bytes (as DuckDB reads them); None if unreadable
    (DuckDB then says what is wrong with it)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(I?)B?\s*", limit.upper())
    if found is None:
        return None
    number, prefix, binary = found.groups()
    unit = 1024 ** "BKMGT".index(prefix or "B") if binary else _UNITS[prefix]
    return int(float(number) * unit)


def piece_rows(kind: str) -> int | None:
    """How many raw rows one piece of the ``kind`` answer may aggregate (None: no limit
    known, so the rows are not cut)."""
    limit = limit_bytes(memory_limit())
    return None if limit is None else max(1, limit // 2 // ROW_BYTES[kind])


def spill_rows(kind: str) -> int | None:
    """How many raw rows the ``kind`` answer may aggregate at all: what the memory limit and
    the free space of the temporary directory (where DuckDB spills) hold together, at
    :data:`ROW_BYTES` a row. Past it, the whole cannot finish, however long it runs (None:
    the memory limit is not known)."""
    limit = limit_bytes(memory_limit())
    if limit is None:
        return None
    try:
        free = shutil.disk_usage(tempfile.gettempdir()).free
    except OSError:
        return None
    return (limit + free) // ROW_BYTES[kind]


def _cgroup_limit() -> int | None:
    """The memory limit of this process's cgroup (v2 or v1), if it has one."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            candidate = Path("/sys/fs/cgroup") / path.lstrip("/") / "memory.max"
        elif "memory" in controllers.split(","):
            candidate = Path("/sys/fs/cgroup/memory") / path.lstrip("/") / "memory.limit_in_bytes"
        else:
            continue
        try:
            text = candidate.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def _limit_setting() -> str:
    """The memory limit as a ``SET`` value: in bytes, from :func:`memory_limit` (the
    setting's text never reaches the SQL)."""
    limit = memory_limit()
    size = limit_bytes(limit)
    if size is None or size < 1:
        raise SourceError(f"{MEMORY_ENV}={limit!r} is not a memory size such as 8GB or 512MB")
    return f"{size}B"


class _Database:
    """DuckDB's in-memory database of this process, shared by every query.

    Opening and closing a database took 40-55 ms of a 1 M-row load (measured: 26-31 ms to
    open, 17-24 ms to close); a cursor of an open one takes microseconds. Its spill
    directory lives under the system's temporary directory of when it was opened (DuckDB
    cannot move it once used), so a new one is opened when that changes (``TMPDIR``), in a
    forked child and after a query fails, so that a failure's memory and temporary files
    go with it. A database is closed, and its spill directory removed, by its last user
    once it is replaced, and at exit.

    DuckDB's allocator keeps the memory of a finished aggregation and hands it back to the
    system only seconds later (measured: 330 MiB after an aggregation, 69 MiB two seconds
    later), and only closing hands it back at once. So the database that served an answer
    over every package (:func:`connect` with ``release``) is replaced, and closed by a
    thread of its own while the caller goes on (DuckDB's close lets go of the GIL), so what
    the caller reads next no longer lands on top of the aggregation's memory. Measured on
    a 1 M-row load and the reading of its answer, 12 runs each: median peak 390 MiB
    (middle half 389-392) against 400 (399-413) kept open, in the same time (0.66 against
    0.67 s). A package's answer keeps the database open: it is small, and the next one
    comes soon."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.parent = tempfile.gettempdir()
        self.spill = tempfile.mkdtemp(prefix=SPILL_PREFIX)
        settings: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": self.spill,
            "threads": os.cpu_count() or 1,
            "preserve_insertion_order": False,
            "allocator_background_threads": True,
        }
        try:
            self.connection = duckdb.connect(config=settings)
        except BaseException:
            shutil.rmtree(self.spill, ignore_errors=True)
            raise
        self.users = 0
        self.stale = False
        self.closing = False

    def current(self) -> bool:
        """Whether this database may take another query here and now."""
        return not self.stale and self.pid == os.getpid() and self.parent == tempfile.gettempdir()

    def close(self) -> None:
        if self.pid == os.getpid():  # a forked child leaves its parent's database alone
            with contextlib.suppress(duckdb.Error):
                self.connection.close()
            shutil.rmtree(self.spill, ignore_errors=True)


_DATABASE_LOCK = threading.Lock()
_database: _Database | None = None
#: Databases being closed by a thread of their own (see :func:`_retire`).
_closing: list[threading.Thread] = []
#: Names of the views over each query's files (unique: such views are shared by cursors).
_VIEW_NAMES = itertools.count()


def _take() -> tuple[_Database, duckdb.DuckDBPyConnection]:
    """The current database (opened if need be) and a cursor of it, counted as a user."""
    global _database
    with _DATABASE_LOCK:
        if _database is None or not _database.current():
            old, _database = _database, _Database()
            if old is not None and old.users == 0:
                _retire(old, wait=True)
            elif old is not None:
                old.stale = True  # closed by its last user
        _database.users += 1
        try:
            return _database, _database.connection.cursor()
        except BaseException:
            _database.users -= 1
            raise


def _give_back(database: _Database, failed: bool, release: bool) -> None:
    with _DATABASE_LOCK:
        database.users -= 1
        database.stale = database.stale or failed or release
        if database.stale and database.users == 0:
            # a failure's memory and spill files go before its error is told
            _retire(database, wait=failed)


def _retire(database: _Database, *, wait: bool) -> None:
    """Close ``database`` (once): here, or in a thread of its own (called holding the lock;
    the threads still closing are joined at exit)."""
    if database.closing:
        return
    database.closing = True
    if wait:
        database.close()
        return
    _closing[:] = [t for t in _closing if t.is_alive()]
    thread = threading.Thread(target=database.close, name="workbench-duckdb-close")
    thread.start()
    _closing.append(thread)


@atexit.register
def _close_at_exit() -> None:
    with _DATABASE_LOCK:
        if _database is not None:
            _retire(_database, wait=True)
        closing = list(_closing)
    for thread in closing:
        thread.join()


@contextlib.contextmanager
def connect(layouts: list[Layout], *, release: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of the process's database (:class:`_Database`) with the canonical view
    ``rows`` over every layout's files, under the memory limit of now. With ``release``
    (a heavy answer, over every package), the database is replaced after this use, so
    that the memory of its aggregations goes back to the system at once."""
    limit = _limit_setting()
    database, con = _take()
    names: list[str] = []
    failed = True
    try:
        con.execute(f"SET memory_limit = '{limit}'")  # bytes computed here, not the text
        con.execute("SET TimeZone = 'UTC'")  # days are UTC days (ICU is built in)
        con.execute("SET enable_progress_bar = false")  # it would print into our output
        selects = []
        for layout in layouts:
            names.append(f"workbench_raw_{next(_VIEW_NAMES)}")
            con.read_parquet([str(f) for f in layout.files]).create_view(names[-1])
            selects.append(layout.select(names[-1]))
        con.execute(f"CREATE TEMP VIEW {ROWS} AS " + "\nUNION ALL ".join(selects))
        yield con
        failed = False
    finally:
        try:
            with contextlib.suppress(duckdb.Error):  # a failing database goes anyway
                for name in names:
                    con.execute(f"DROP VIEW IF EXISTS {name}")
            with contextlib.suppress(duckdb.Error):
                con.close()
        finally:
            _give_back(database, failed, release)


@contextlib.contextmanager
def _errors(what: str, writing: Path | None = None) -> Iterator[None]:
    """DuckDB's errors as one line: running out of its memory limit is said as such (with
    what to change), not as a fault of the data; failing to write ``writing`` is an
    :class:`OSError` (a full or read-only disk), anything else a fault of the data."""
    try:
        yield
    except duckdb.OutOfMemoryException:
        raise SourceError(
            f"{what} needs more memory than DuckDB may use here ({memory_limit()}) or "
            f"could spill to {tempfile.gettempdir()}: raise {MEMORY_ENV} (e.g. "
            f"{MEMORY_ENV}=12GB), free disk there (or point TMPDIR at a larger one) or ask "
            "for fewer days"
        ) from None
    except duckdb.Error as exc:
        text = str(exc).strip()
        first = text.splitlines()[0][:200] if text else type(exc).__name__
        if writing is not None and isinstance(exc, duckdb.IOException) and str(writing) in text:
            raise OSError(first) from None
        if isinstance(exc, duckdb.IOException) and SPILL_PREFIX in text:
            raise SourceError(
                f"{what} needs more temporary disk than {tempfile.gettempdir()} has (DuckDB "
                f"spills there past {memory_limit()} of memory): free space there, point "
                f"TMPDIR at a larger disk, raise {MEMORY_ENV} or ask for fewer days"
            ) from None
        raise DataSchemaError(f"{what} could not be computed from the data: {first}") from None


#: The temporary table the pieces of one answer are gathered in.
_PIECES = "answer_pieces"

#: DuckDB's names of the Polars types of the rollup schemas.
_TYPES = {pl.String: "VARCHAR", pl.Date: "DATE", pl.Boolean: "BOOLEAN", pl.Int64: "BIGINT"}


def write(
    con: duckdb.DuckDBPyConnection,
    parts: Sequence[tuple[str, Mapping[str, Any]]],
    target: tuple[Path, Mapping[str, str]],
    schema: Mapping[str, Any],
    what: str,
) -> None:
    """Run each (sql, params) of ``parts`` (the pieces of one answer, whose rows never
    overlap) and write their answers to ``target`` (a path, and the key-value metadata of
    its footer) as one zstd Parquet file in the columns and types of ``schema``.

    DuckDB writes it itself, in parallel, while its aggregation streams and spills: no row
    of the answer passes through Python, so a 100 M-row answer costs no memory here. Pieces
    run one after another into a temporary table, so only one piece's aggregation is held
    at a time. DuckDB spills that table past its memory limit, uncompressed: a billion raw
    rows take tens of GB of temporary disk (written to compressed files instead, the pieces
    cost a tenth more time; see ``benchmarks/bench_ingest.py``). The path and the metadata
    are parameters, like every value."""
    path, footer = target
    columns = ", ".join(
        f'CAST("{name}" AS {_TYPES[dtype]}) AS "{name}"' for name, dtype in schema.items()
    )
    keys = sorted(footer)
    if not all(key.isidentifier() for key in keys):
        raise ValueError(f"footer keys must be plain names: {keys}")
    metadata = ", ".join(f"{key}: $footer_{i}" for i, key in enumerate(keys))
    # no Bloom filters: cache files are read by Polars and pyarrow, which prune row groups
    # by their statistics, and DuckDB spent a tenth to a quarter of a file's writing on them
    options = (
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, "
        f"USE_TMP_FILE false, WRITE_BLOOM_FILTER false, KV_METADATA {{{metadata}}})"
    )
    values = {f"footer_{i}": footer[key] for i, key in enumerate(keys)}
    values["target"] = str(path)
    with _errors(what, writing=path):
        if len(parts) == 1:
            ((sql, params),) = parts
            copy = f"COPY (SELECT {columns} FROM ({sql})) TO $target {options}"  # noqa: S608 (registry names; values are parameters)
            con.execute(copy, {**params, **values})
            return
        try:
            for i, (sql, params) in enumerate(parts):
                into = f"CREATE TEMP TABLE {_PIECES} AS" if i == 0 else f"INSERT INTO {_PIECES}"
                con.execute(f"{into} SELECT {columns} FROM ({sql})", dict(params))  # noqa: S608
            con.execute(f"COPY {_PIECES} TO $target {options}", values)
        finally:
            with contextlib.suppress(duckdb.Error):  # the connection may be failing already
                con.execute(f"DROP TABLE IF EXISTS {_PIECES}")


def gather(
    con: duckdb.DuckDBPyConnection, parts: Sequence[tuple[str, Mapping[str, Any]]], what: str
) -> pl.DataFrame:
    """Run each (sql, params) of ``parts`` (the pieces of one answer) and return their
    answers as one Polars frame."""
    return pl.concat([run(con, sql, params, what) for sql, params in parts], rechunk=False)


def run(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any], what: str
) -> pl.DataFrame:
    """Run ``sql`` and return its answer as a Polars frame (errors as one line).

    The answer streams out of DuckDB in Arrow batches, each handed to Polars as it comes, so
    a whole Arrow copy and a whole Polars copy of a large answer are never held together.
    Running out of DuckDB's memory limit is said as such (with what to change), not as a
    fault of the data."""
    frames: list[pl.DataFrame] = []
    with _errors(what):
        batches = con.sql(sql, params=dict(params)).to_arrow_reader(BATCH_ROWS)
        for batch in batches:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frames.append(frame)
        schema = batches.schema
    if not frames:
        empty = pl.from_arrow(schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return empty
    return pl.concat(frames, rechunk=False)
