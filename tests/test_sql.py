"""Golden SQL: the generated BigQuery and DuckDB queries, compared with checked-in files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from workbench.errors import InvalidInputError
from workbench.query import DayRange, RollupQuery
from workbench.schema import DOWNLOADS_TABLE, METADATA_TABLE
from workbench.sources.bigquery import sql
from workbench.sources.local import sql as local_sql
from workbench.sources.local.pieces import Piece

GOLDEN = Path(__file__).parent / "golden"
TODAY = dt.date(2026, 11, 25)
QUERY = RollupQuery.of(["requests", "Foo_Bar"], "2026-10-01", "2026-10-30", today=TODAY)

#: One piece of every package's answer: its bounds are parameters, never text.
PIECE = Piece(
    ("Robert'); DROP TABLE rows; --", "zz"), (None, dt.datetime(2026, 10, 2, tzinfo=dt.UTC))
)

BUILT = {
    "downloads.sql": lambda q: sql.downloads_sql(DOWNLOADS_TABLE, q),
    "fingerprints.sql": lambda q: sql.fingerprints_sql(DOWNLOADS_TABLE, q),
    "release_files.sql": lambda q: sql.release_files_sql(METADATA_TABLE),
    "dependent_files.sql": lambda q: sql.dependent_files_sql(METADATA_TABLE),
    "duckdb_downloads.sql": lambda q: local_sql.downloads(projects=True),
    "duckdb_fingerprints.sql": lambda q: local_sql.fingerprints(projects=True),
    "duckdb_fingerprints_all.sql": lambda q: local_sql.fingerprints(projects=False),
    "duckdb_downloads_piece.sql": lambda q: local_sql.downloads(projects=False, piece=PIECE),
    "duckdb_fingerprints_piece.sql": lambda q: local_sql.fingerprints(projects=False, piece=PIECE),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_golden_sql(name: str) -> None:
    text = BUILT[name](QUERY) + "\n"
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("kind", ["downloads", "fingerprints"])
def test_download_queries_prune_partitions_and_clusters(kind: str) -> None:
    text = BUILT[f"{kind}.sql"](QUERY)
    assert "timestamp >= @start AND timestamp < @end" in text
    assert "project IN UNNEST(@projects)" in text
    assert "SELECT *" not in text and "LIMIT" not in text


def test_parameters_carry_the_user_input() -> None:
    params = {p.name: p for p in sql.window_params(QUERY)}
    assert params["projects"].value == ["foo-bar", "requests"] and params["projects"].array
    assert params["start"].value == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert params["end"].value == dt.datetime(2026, 10, 31, tzinfo=dt.UTC)  # half-open: day after


@pytest.mark.parametrize("names", [["requests"], ["a", "b", "c"], ["x" * 150]])
def test_sql_text_never_depends_on_names(names: list[str]) -> None:
    other = RollupQuery.of(names, "2025-01-01", "2025-01-02", today=TODAY)
    for build in BUILT.values():
        assert build(other) == build(QUERY)


def test_scan_of_all_packages_drops_only_the_project_filter() -> None:
    everything = RollupQuery(None, DayRange(dt.date(2026, 10, 1), dt.date(2026, 10, 2)))
    text = sql.downloads_sql(DOWNLOADS_TABLE, everything)
    assert "@projects" not in text and "timestamp >= @start" in text
    assert "projects" not in {p.name for p in sql.window_params(everything)}


@pytest.mark.parametrize("bad", ["x", "a.b;DROP TABLE t", "`a.b.c`", "a.b.c.d", "a b.c"])
def test_table_names_are_validated(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        sql.table_name(bad)


#: Instants whose UTC day a faster expression could get wrong: either side of midnight,
#: before 1970 (negative epochs), a leap day, far ahead, and with sub-second parts.
EDGE_INSTANTS = [
    dt.datetime(2026, 10, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
    dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    dt.datetime(1900, 3, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 2, 29, 12, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2026, 7, 4, 3, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))),  # 22:00 UTC
]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_duckdb_day_is_the_utc_day_whatever_the_session_zone(zone: str) -> None:
    import duckdb

    from workbench.dimensions import DIMENSION, expression

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    con.execute("CREATE TABLE t (i INTEGER, timestamp TIMESTAMPTZ)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(EDGE_INSTANTS)))
    day = expression(DIMENSION["date"], "duckdb")
    got = dict(con.sql(f"SELECT i, {day} FROM t").fetchall())
    assert got == {i: t.astimezone(dt.UTC).date() for i, t in enumerate(EDGE_INSTANTS)}


def test_duckdb_fingerprint_joins_every_field_and_empties_the_missing() -> None:
    import duckdb

    from workbench.dimensions import CLIENT_FIELDS, SEPARATOR, fingerprint

    con = duckdb.connect()
    columns = ", ".join(f"{name} VARCHAR" for name in CLIENT_FIELDS)
    con.execute(f"CREATE TABLE t ({columns})")
    rows = [
        tuple(f"v{i}" for i in range(len(CLIENT_FIELDS))),
        tuple(None for _ in CLIENT_FIELDS),
        tuple(None if i % 3 else f"x|{i}" for i in range(len(CLIENT_FIELDS))),
    ]
    marks = ", ".join("?" for _ in CLIENT_FIELDS)
    con.executemany(f"INSERT INTO t VALUES ({marks})", rows)
    got = [text for (text,) in con.sql(f"SELECT {fingerprint('duckdb')} FROM t").fetchall()]
    assert got == [SEPARATOR.join(value or "" for value in row) for row in rows]
