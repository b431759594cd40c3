"""Cutting a large local aggregation into pieces from the files' statistics
(:mod:`workbench.sources.local.pieces`): the plan is pure, and it only decides how the work
is cut; that the answer is the same whatever the cut is tested in ``test_rollup.py``."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.sources.local import engine
from workbench.sources.local.pieces import WHOLE, Extent, Piece, extents, plan

DAY = dt.date(2026, 9, 1)
DAYS = (DAY, DAY + dt.timedelta(days=9))


def _day(offset: int) -> dt.date:
    return DAY + dt.timedelta(days=offset)


def _clustered(projects: int = 20, rows: int = 1_000) -> list[Extent]:
    """One row group per project, every day in each (as BigQuery clusters by project)."""
    return [Extent(rows, (f"p{i:03d}", f"p{i:03d}"), (DAYS[0], DAYS[1])) for i in range(projects)]


def _daily(days: int = 10, groups: int = 3, rows: int = 1_000) -> list[Extent]:
    """Row groups in time order (one export a day): each spans every project, one day."""
    return [
        Extent(rows, ("a", "z"), (_day(d), _day(d))) for d in range(days) for _ in range(groups)
    ]


def _column(piece: Piece) -> str:
    """Which column the piece bounds ("project", "timestamp", both, or "" for the whole)."""
    names = [n for n, b in (("project", piece.projects), ("timestamp", piece.times)) if any(b)]
    return "+".join(names)


def _holds(piece: Piece, project: str, day: dt.date) -> bool:
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    for value, (low, high) in ((project, piece.projects), (moment, piece.times)):
        if (low is not None and value < low) or (high is not None and value >= high):  # type: ignore[operator]
            return False
    return True


def _rows_of(piece: Piece, groups: list[Extent]) -> int:
    """Rows the piece holds, for row groups of a single project and a single day."""
    held = 0
    for group in groups:
        assert group.projects is not None and group.days is not None
        held += group.rows if _holds(piece, group.projects[0], group.days[0]) else 0
    return held


def test_rows_that_fit_are_one_piece() -> None:
    assert plan(_clustered(), 20_000, DAYS) == [WHOLE]
    assert WHOLE.where() == "true" and WHOLE.params() == {}


def test_rows_clustered_by_project_are_cut_by_project_within_the_budget() -> None:
    groups = _clustered()
    pieces = plan(groups, 3_500, DAYS)
    assert {_column(p) for p in pieces} == {"project"}
    assert pieces[0].projects[0] is None and pieces[-1].projects[1] is None  # nothing left out
    assert all(a.projects[1] == b.projects[0] for a, b in itertools.pairwise(pieces))
    assert [_rows_of(p, groups) for p in pieces] == [3_000] * 6 + [2_000]
    assert pieces[1].where() == ("project >= $piece_project_low AND project < $piece_project_high")
    assert pieces[1].params() == {"piece_project_low": "p003", "piece_project_high": "p006"}
    assert pieces[0].where() == "project < $piece_project_high"


def test_rows_in_time_order_are_cut_at_utc_midnights() -> None:
    groups = _daily()
    pieces = plan(groups, 6_500, DAYS)
    assert {_column(p) for p in pieces} == {"timestamp"}
    bounds = [p.times[0] for p in pieces[1:]]
    assert all(
        isinstance(b, dt.datetime) and b.tzinfo == dt.UTC and b.time() == dt.time() for b in bounds
    )
    assert [_rows_of(p, groups) for p in pieces] == [6_000] * 5
    assert pieces[0].where() == "timestamp < $piece_time_high"


def test_exports_of_a_day_each_clustered_by_project_are_cut_by_day_then_project() -> None:
    """As BigQuery exports each day's partition, clustered by project: a day too big for
    one piece is cut by project within the day, and no row group is read twice."""
    groups = [
        Extent(1_000, (f"p{i:02d}", f"p{i:02d}"), (_day(d), _day(d)))
        for d in range(4)
        for i in range(10)
    ]
    pieces = plan(groups, 3_000, DAYS)
    assert {_column(p) for p in pieces} == {"project+timestamp"}
    assert all(_rows_of(p, groups) <= 3_000 for p in pieces)
    assert sum(_rows_of(p, groups) for p in pieces) == 40_000
    assert len({p.times for p in pieces}) == 4  # one span per day
    # days that fit together are not cut further
    assert [_rows_of(p, groups) for p in plan(groups, 20_000, DAYS)] == [20_000, 20_000]


def test_files_ordered_by_neither_are_not_cut() -> None:
    """Every row group spans every project and day: each piece would read all the rows."""
    groups = [Extent(1_000, ("a", "z"), DAYS) for _ in range(50)]
    assert plan(groups, 2_000, DAYS) == [WHOLE]


def test_a_few_straddling_row_groups_are_read_twice_rather_than_spilling() -> None:
    groups = _clustered()
    groups[5] = Extent(1_000, ("p004", "p007"), DAYS)  # spans a cut
    pieces = plan(groups, 3_500, DAYS)
    assert len(pieces) > 1


def _runs(runs: int = 8, per_run: int = 10, rows: int = 1_000) -> list[Extent]:
    """``runs`` files over the same days, each sorted by project on its own (a year of
    exports appended, or copies), their row groups' bounds staggered: a cut anywhere falls
    inside a row group of nearly every run, which both pieces then read."""
    return [
        Extent(rows, (f"p{i * 100 + r * 10:04d}", f"p{i * 100 + r * 10 + 99:04d}"), DAYS)
        for r in range(runs)
        for i in range(per_run)
    ]


def _reads(pieces: list[Piece], groups: list[Extent]) -> int:
    """Rows read by the pieces: a row group once for each piece its projects overlap."""
    read = 0
    for group in groups:
        assert group.projects is not None
        low, high = group.projects
        read += group.rows * sum(
            1
            for p in pieces
            if (p.projects[0] is None or high >= p.projects[0])
            and (p.projects[1] is None or low < p.projects[1])
        )
    return read


def _rows_of_runs(piece: Piece, groups: list[Extent]) -> int:
    """Rows the piece holds, each row group's rows spread evenly over its 100 projects."""
    held = 0
    for group in groups:
        assert group.projects is not None
        first = int(group.projects[0][1:])
        for n in range(first, first + 100):
            if _holds(piece, f"p{n:04d}", DAY):
                held += group.rows // 100
    return held


def test_the_more_the_whole_exceeds_memory_the_more_rereading_is_worth() -> None:
    """80 k rows in 8 project-sorted runs. At 10 budgets, cuts that read most rows twice
    beat spilling the whole; at 1.2 budgets, a cut that rereads over a third does not."""
    groups = _runs()
    total = sum(g.rows for g in groups)
    pieces = plan(groups, 8_000, DAYS)
    assert {_column(p) for p in pieces} == {"project"}
    assert 1.5 * total < _reads(pieces, groups) <= 2.5 * total
    assert sum(_rows_of_runs(p, groups) for p in pieces) == total
    assert plan(_runs(runs=4, per_run=2, rows=10_000), 66_000, DAYS) == [WHOLE]


def test_a_whole_that_could_not_spill_is_cut_whatever_it_rereads() -> None:
    """Cutting 40 budgets' worth of runs rereads three times the rows: not worth it while the
    whole can spill, but when memory and the temporary disk cannot hold it, the only plan
    that finishes."""
    groups = _runs()
    total = sum(g.rows for g in groups)
    assert plan(groups, 2_000, DAYS) == [WHOLE]
    assert plan(groups, 2_000, DAYS, room=total) == [WHOLE]
    pieces = plan(groups, 2_000, DAYS, room=total - 1)
    assert len(pieces) > 1 and _reads(pieces, groups) > 3 * total
    assert sum(_rows_of_runs(p, groups) for p in pieces) == total


def test_the_order_that_rereads_less_wins() -> None:
    # clustered by project within each day: both orders cut, by day rereads nothing
    groups = [
        Extent(1_000, (f"p{i:03d}", f"p{i:03d}" if i % 2 else f"p{i + 1:03d}"), (_day(d), _day(d)))
        for d in range(10)
        for i in range(4)
    ]
    assert {_column(p) for p in plan(groups, 8_000, DAYS)} == {"timestamp"}


def test_without_statistics_of_one_column_the_other_decides() -> None:
    no_days = [Extent(e.rows, e.projects, None) for e in _clustered()]
    assert {_column(p) for p in plan(no_days, 3_500, DAYS)} == {"project"}
    no_projects = [Extent(e.rows, None, e.days) for e in _daily()]
    assert {_column(p) for p in plan(no_projects, 6_500, DAYS)} == {"timestamp"}
    nothing = [Extent(e.rows, None, None) for e in _daily()]
    assert plan(nothing, 6_500, DAYS) == [WHOLE]


def test_one_value_is_never_split_however_many_rows_hold_it() -> None:
    groups = [Extent(1_000, ("big", "big"), DAYS) for _ in range(10)]
    groups += [Extent(1_000, ("small", "small"), DAYS)]
    pieces = plan(groups, 2_000, DAYS)
    assert pieces == [Piece(projects=(None, "small")), Piece(projects=("small", None))]


def test_only_row_groups_of_the_asked_days_count() -> None:
    groups = _daily(days=10)
    asked = (_day(8), _day(9))  # 6,000 rows of the 30,000
    assert plan(groups, 6_500, asked) == [WHOLE]
    pieces = plan(groups, 3_500, asked)
    assert [p.times[0] for p in pieces] == [None, dt.datetime(2026, 9, 10, tzinfo=dt.UTC)]


def test_pieces_cover_every_row_exactly_once_whatever_the_layout() -> None:
    """Random row groups: every single-valued group lies in exactly one piece."""
    rng = random.Random(7)
    for _ in range(200):
        groups = [
            Extent(rng.randint(1, 5_000), (p, p), (d, d))
            for p, d in ((f"p{rng.randint(0, 30):02d}", _day(rng.randint(0, 9))) for _ in range(40))
        ]
        pieces = plan(groups, rng.randint(1, 60_000), DAYS)
        assert sum(_rows_of(p, groups) for p in pieces) == sum(g.rows for g in groups)


def test_statistics_are_read_from_the_files(tmp_path: Path) -> None:
    rows = pl.DataFrame(
        {
            "project": ["a", "b", "c", "d"],
            "timestamp": [
                dt.datetime(2026, 9, 1, 23, 30, tzinfo=dt.UTC),
                dt.datetime(2026, 9, 2, 0, 30, tzinfo=dt.UTC),
                dt.datetime(2026, 9, 3, tzinfo=dt.UTC),
                dt.datetime(2026, 9, 4, tzinfo=dt.UTC),
            ],
        }
    )
    with_stats = tmp_path / "with.parquet"
    pq.write_table(rows.to_arrow(), with_stats, row_group_size=2)
    without = tmp_path / "without.parquet"
    pq.write_table(rows.to_arrow(), without, row_group_size=4, write_statistics=False)
    naive = tmp_path / "naive.parquet"
    local = rows.with_columns(pl.col("timestamp").dt.replace_time_zone(None)).to_arrow()
    pq.write_table(local, naive)
    assert _extents([with_stats]) == [
        Extent(2, ("a", "b"), (_day(0), _day(1))),
        Extent(2, ("c", "d"), (_day(2), _day(3))),
    ]
    assert _extents([without]) == [Extent(4, None, None)]
    assert _extents([naive]) == [Extent(4, ("a", "d"), (_day(0), _day(3)))]
    footer = pq.read_metadata(with_stats)
    assert extents([footer], "name", "time") == [Extent(2, None, None)] * 2


def _extents(paths: list[Path]) -> list[Extent]:
    return extents([pq.read_metadata(p) for p in paths], "project", "timestamp")


def test_number_typed_columns_tell_nothing(tmp_path: Path) -> None:
    path = tmp_path / "numbers.parquet"
    pq.write_table(pa.table({"project": [1, 2], "timestamp": [3, 4]}), path)
    assert _extents([path]) == [Extent(2, None, None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6144MB", 6144 * 10**6),
        ("8GB", 8 * 10**9),
        ("12GiB", 12 * 2**30),
        ("1.5 gb", 1_500_000_000),
        ("500MiB", 500 * 2**20),
        ("1024", 1024),
        ("lots", None),
    ],
)
def test_memory_limits_are_read_as_duckdb_reads_them(text: str, expected: int | None) -> None:
    assert engine.limit_bytes(text) == expected


def test_the_room_to_spill_is_memory_and_the_temporary_disk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(engine.MEMORY_ENV, "1GB")
    monkeypatch.setattr(engine.tempfile, "tempdir", str(tmp_path))
    free = engine.shutil.disk_usage(tmp_path).free
    assert engine.spill_rows("fingerprints") == (10**9 + free) // engine.ROW_BYTES["fingerprints"]
    monkeypatch.setenv(engine.MEMORY_ENV, "plenty")
    assert engine.spill_rows("downloads") is None


def test_the_budget_follows_the_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engine.MEMORY_ENV, "8GB")
    eight = engine.piece_rows("fingerprints")
    monkeypatch.setenv(engine.MEMORY_ENV, "16GB")
    assert engine.piece_rows("fingerprints") == 2 * eight  # type: ignore[operator]
    assert engine.piece_rows("downloads") > engine.piece_rows("fingerprints")  # type: ignore[operator]
    monkeypatch.setenv(engine.MEMORY_ENV, "plenty")
    assert engine.piece_rows("downloads") is None
