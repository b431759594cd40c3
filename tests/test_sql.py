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
