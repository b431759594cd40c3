"""The local engine's one DuckDB database per process: every query takes a cursor of it,
leaves nothing behind in it, and a new one is opened where the old one cannot serve."""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from workbench.errors import SourceError
from workbench.query import DayRange, RollupQuery
from workbench.sources.local import ParquetSource, engine

FIRST = dt.date(2026, 9, 1)
QUERY = RollupQuery(None, DayRange(FIRST, FIRST + dt.timedelta(days=13)))
KINDS = ("downloads", "fingerprints")


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def _named(source: ParquetSource) -> RollupQuery:
    """Two packages of the data over :data:`QUERY`'s days (a package's answer, which keeps
    the database open)."""
    projects = tuple(sorted(source.names()["project"].to_list()[:2]))
    return RollupQuery(projects, QUERY.days)


def _closed(database: engine._Database) -> bool:
    """Whether ``database`` was closed, with its spill directory (once the threads that
    close databases are done)."""
    for thread in list(engine._closing):
        thread.join()
    return database.closing and not Path(database.spill).exists()


def _views(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    ]


def test_queries_share_one_database_and_leave_no_views(small_demo_dir: Path) -> None:
    source = ParquetSource(small_demo_dir)
    named = _named(source)
    first = source.fetch(KINDS, named)
    database = engine._database
    assert database is not None
    second = source.fetch(KINDS, named)
    source.names()
    assert engine._database is database  # a cursor of the same database each time
    assert database.users == 0
    assert _views(database.connection) == []  # each query's views went with it
    for kind in KINDS:
        assert _sorted(second[kind]).equals(_sorted(first[kind]))


def test_each_query_runs_under_the_memory_limit_of_now(
    small_demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = ParquetSource(small_demo_dir)
    for limit, size in (("1GB", 10**9), ("2GiB", 2 * 2**30)):
        monkeypatch.setenv(engine.MEMORY_ENV, limit)
        with engine.connect(source._resolved.layouts) as con:
            ((shown,),) = con.execute("SELECT current_setting('memory_limit')").fetchall()
            assert engine.limit_bytes(shown) == pytest.approx(size, rel=1e-3)  # "953.6 MiB"
            assert con.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]


def test_an_unreadable_memory_limit_is_one_line_naming_the_setting(
    small_demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(engine.MEMORY_ENV, "plenty'; DROP VIEW rows; --")
    with pytest.raises(SourceError, match=f"{engine.MEMORY_ENV}=.*not a memory size") as info:
        ParquetSource(small_demo_dir).fetch(("downloads",), QUERY)
    assert "\n" not in str(info.value)


def test_a_new_temporary_directory_gets_a_new_database(
    small_demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB cannot move its spill directory once used: a changed TMPDIR opens a new
    database that spills there, and the old one is closed with its directory."""
    source = ParquetSource(small_demo_dir)
    named = _named(source)
    expected = source.fetch(KINDS, named)
    old = engine._database
    assert old is not None and Path(old.spill).is_dir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    got = source.fetch(KINDS, named)
    new = engine._database
    assert new is not None and new is not old
    assert Path(new.spill).parent == tmp_path
    assert Path(new.spill).name.startswith(engine.SPILL_PREFIX)
    assert not Path(old.spill).exists()
    for kind in KINDS:
        assert _sorted(got[kind]).equals(_sorted(expected[kind]))


def test_an_answer_over_every_package_hands_its_memory_back(
    small_demo_dir: Path, tmp_path: Path
) -> None:
    """Every package's rollups (fetched, or written into the cache) and population: the
    database that computed them is closed after, by a thread of its own, which hands
    their memory back at once; a package's answer keeps it open. The next query opens a
    fresh database and gets the same answers."""
    source = ParquetSource(small_demo_dir)
    source.fetch(KINDS, _named(source))
    kept = engine._database
    assert kept is not None and not kept.stale
    first = source.fetch(KINDS, QUERY)
    assert engine._database is kept and _closed(kept)
    targets = {kind: (tmp_path / f"{kind}.parquet", {"kind": kind}) for kind in KINDS}
    source.fetch_files(QUERY, targets)
    written = engine._database
    assert written is not kept and written is not None and _closed(written)
    for kind in KINDS:
        assert _sorted(pl.read_parquet(targets[kind][0])).equals(_sorted(first[kind]))
    population = source.population(QUERY.days, "clients")
    assert population.height > 0
    assert engine._database is not written and _closed(engine._database)


def test_a_database_released_while_in_use_is_closed_by_its_last_user(
    small_demo_dir: Path,
) -> None:
    source = ParquetSource(small_demo_dir)
    with engine.connect(source._resolved.layouts) as con:
        expected = source.fetch(KINDS, QUERY)  # released, but still in use here
        database = engine._database
        assert database is not None and database.stale and not database.closing
        assert con.execute("SELECT count(*) FROM rows").fetchone() is not None
    assert _closed(database)
    got = source.fetch(KINDS, QUERY)
    assert engine._database is not database
    for kind in KINDS:
        assert _sorted(got[kind]).equals(_sorted(expected[kind]))


def test_a_failed_query_takes_its_database_with_it(
    small_demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running out of memory leaves nothing held (memory, spill files): the database is
    closed, and the next query opens a fresh one and gets the full answer."""
    source = ParquetSource(small_demo_dir)
    expected = source.fetch(KINDS, QUERY)
    monkeypatch.setenv(engine.MEMORY_ENV, "1MB")
    with pytest.raises(SourceError, match="needs more memory"):
        source.fetch(KINDS, QUERY)
    failed = engine._database
    assert failed is not None and failed.stale and not Path(failed.spill).exists()
    monkeypatch.delenv(engine.MEMORY_ENV)
    got = source.fetch(KINDS, QUERY)
    assert engine._database is not failed
    for kind in KINDS:
        assert _sorted(got[kind]).equals(_sorted(expected[kind]))


def test_queries_from_two_threads_get_their_own_answers(
    small_demo_dir: Path, tmp_path: Path
) -> None:
    """Two sources queried at once, each through its own cursor and views: every answer is
    its own source's, as when asked alone."""
    whole = ParquetSource(small_demo_dir)
    rows = pq.read_table(small_demo_dir / "file_downloads")
    some = pa.array(sorted(set(rows["project"].to_pylist()))[:5])
    pq.write_table(rows.filter(pc.is_in(rows["project"], value_set=some)), tmp_path / "p.parquet")
    part = ParquetSource(tmp_path / "p.parquet")
    alone = {"whole": whole.names(), "part": part.names()}
    assert not alone["whole"].equals(alone["part"])
    got: dict[str, list[pl.DataFrame]] = {"whole": [], "part": []}
    errors: list[BaseException] = []

    def ask(name: str, source: ParquetSource) -> None:
        try:
            for _ in range(4):
                got[name].append(source.names())
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [
        threading.Thread(target=ask, args=("whole", whole)),
        threading.Thread(target=ask, args=("part", part)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for name, answers in got.items():
        assert len(answers) == 4
        assert all(_sorted(a).equals(_sorted(alone[name])) for a in answers)
    database = engine._database
    assert database is not None and database.users == 0
    assert _views(database.connection) == []
