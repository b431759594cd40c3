"""Cutting an aggregation over many local rows into pieces that each fit in memory.

Both rollups and the population features group by project and UTC day, so rows of
different projects, or of different days, never meet in one group: the answer over every
row is the union of the answers over disjoint ranges of either (or of both). DuckDB reads
only the row groups whose Parquet statistics overlap a piece's range, so when the files
are ordered by project (as BigQuery clusters its table), by time, or by day and then by
project (one export a day), a piece of the rows costs about its share of the reading, and
its hash table fits in memory instead of spilling to disk.

:func:`plan` chooses the cut from the statistics alone (:func:`extents` reads them). Our
plan uses them only to decide how the work is cut, never what is counted: each piece is an
exact filter on the canonical columns, and a row falls in exactly one piece. (DuckDB's own
row-group pruning trusts the statistics, for these bounds as for the time window.)
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.sources.local.files import column_index

#: How many rows the pieces may read again (row groups that straddle a cut are read by each
#: piece they overlap), as a share of the rows, rather than leave the whole to spill. A row
#: read again costs its decoding; a spilled one is written, read back and hashed again. So
#: the more times the whole exceeds memory, the more rereading is worth: up to
#: :data:`MOST_REREAD` per budget's worth of rows, at most :data:`MOST_REREAD_SPILLING`.
#: Measured: 100 M rows clustered by project, the fingerprint rollup at 8 budgets took 52 s
#: whole (spilling) against 29-34 s in pieces. A billion rows in 130 project-sorted runs
#: (a cut rereads a row group of every run): the downloads rollup's 22 pieces reread 86 %
#: of the rows; whole, it spilled 12 GB in its first 6 minutes, on course to fill the disk.
MOST_REREAD = 0.25
#: Reading the rows 2.5 times in all costs less than spilling an aggregation many times
#: the size of memory (written once and read back, and hashed twice). Past what memory and
#: the temporary disk hold (``room`` of :func:`plan`), any reread is better: the billion
#: rows' fingerprints, 88 pieces rereading 350 %, took 21 min on 2 cores within 6.6 GiB.
MOST_REREAD_SPILLING = 1.5

_K = TypeVar("_K", str, dt.date)
_B = TypeVar("_B", str, dt.datetime)


@dataclass(frozen=True, slots=True)
class Extent:
    """One row group: its rows and, where its statistics tell, the least and greatest
    project and UTC day in it."""

    rows: int
    projects: tuple[str, str] | None
    days: tuple[dt.date, dt.date] | None


@dataclass(frozen=True, slots=True)
class Piece:
    """The rows whose project is in ``projects`` and whose timestamp is in ``times`` (each
    ``(least, first past)``; None leaves that side open): the whole when both are open."""

    projects: tuple[str | None, str | None] = (None, None)
    times: tuple[dt.datetime | None, dt.datetime | None] = (None, None)

    def _terms(self) -> list[tuple[str, str, str | dt.datetime]]:
        (p_low, p_high), (t_low, t_high) = self.projects, self.times
        terms = [
            ("project >= $piece_project_low", "piece_project_low", p_low),
            ("project < $piece_project_high", "piece_project_high", p_high),
            ("timestamp >= $piece_time_low", "piece_time_low", t_low),
            ("timestamp < $piece_time_high", "piece_time_high", t_high),
        ]
        return [(sql, name, value) for sql, name, value in terms if value is not None]

    def where(self) -> str:
        """The piece's condition on the canonical view, its bounds as parameters;
        ``true`` for the whole."""
        return " AND ".join(sql for sql, _, _ in self._terms()) or "true"

    def params(self) -> dict[str, str | dt.datetime]:
        return {name: value for _, name, value in self._terms()}


WHOLE = Piece()


def plan(
    extents: Sequence[Extent],
    budget: int,
    days: tuple[dt.date, dt.date],
    room: int | None = None,
) -> list[Piece]:
    """Pieces of at most about ``budget`` rows each over the row groups that may hold rows
    of ``days`` (first and last, inclusive): by project, by day, or by day and then by
    project within days too big, whichever makes DuckDB read fewer rows twice; the whole
    when the rows fit, when no statistics tell, or when the files are ordered by neither
    or every cut would read too much again (:data:`MOST_REREAD`; then DuckDB spills
    instead). ``room``: the most rows whose aggregation memory and the temporary disk hold
    together; a whole of more cannot finish, so any cut is better than none."""
    first, last = days
    groups = [e for e in extents if e.days is None or (e.days[1] >= first and e.days[0] <= last)]
    total = sum(e.rows for e in groups)
    if total <= budget:
        return [WHOLE]
    options: list[tuple[int, int, list[Piece]]] = []  # (largest piece, reread, pieces)
    by_project = [(e.projects, e.rows) for e in groups if e.projects is not None]
    if len(by_project) == len(groups):
        cuts, reread, largest = _cuts(by_project, budget)
        options.append((largest, reread, [Piece(projects=b) for b in _bounds(cuts)]))
    by_day = [((max(e.days[0], first), min(e.days[1], last)), e.rows) for e in groups if e.days]
    if len(by_day) == len(groups):
        day_cuts, reread, largest = _cuts(by_day, budget)
        times = [_midnight(d) for d in day_cuts]
        options.append((largest, reread, [Piece(times=b) for b in _bounds(times)]))
        if len(by_project) == len(groups):
            options.append(_days_then_projects(groups, budget, first, last))
    allowed = total * min(MOST_REREAD * max(1.0, total / budget), MOST_REREAD_SPILLING)
    if room is not None and total > room:
        allowed = math.inf
    options = [o for o in options if len(o[2]) > 1 and o[1] <= allowed]
    if not options:
        return [WHOLE]
    # pieces within the budget first (a single project or day may not fit), then the
    # fewest rows read twice, then the fewest pieces
    return min(options, key=lambda o: (max(o[0], budget), o[1], len(o[2])))[2]


def _days_then_projects(
    groups: Sequence[Extent], budget: int, first: dt.date, last: dt.date
) -> tuple[int, int, list[Piece]]:
    """Cut only between days no row group spans (files of one export a day, or one a
    month, each clustered by project), and cut by project the spans still too big."""
    # runs of row groups whose days overlap, then as few consecutive runs as fit the budget
    runs: list[tuple[dt.date, dt.date, int, list[Extent]]] = []  # (first, last, rows, groups)
    for group in sorted(groups, key=lambda e: e.days or (first, first)):
        assert group.days is not None
        low, high = max(group.days[0], first), min(group.days[1], last)
        if runs and low <= runs[-1][1]:
            start, end, rows, members = runs[-1]
            runs[-1] = (start, max(end, high), rows + group.rows, members)
            members.append(group)
        else:
            runs.append((low, high, group.rows, [group]))
    merged: list[list[Extent]] = []
    starts: list[dt.date] = []
    held = 0
    for low, _, rows, members in runs:
        if merged and held + rows <= budget:
            merged[-1] += members
            held += rows
        else:
            merged.append(list(members))
            starts.append(low)
            held = rows
    pieces: list[Piece] = []
    reread = largest = 0
    for times, members in zip(_bounds([_midnight(d) for d in starts[1:]]), merged, strict=True):
        cuts, extra, most = _cuts([(e.projects, e.rows) for e in members if e.projects], budget)
        reread, largest = reread + extra, max(largest, most)
        pieces += [Piece(projects=b, times=times) for b in _bounds(cuts)]
    return largest, reread, pieces


def _cuts(groups: Sequence[tuple[tuple[_K, _K], int]], budget: int) -> tuple[list[_K], int, int]:
    """Cut values (each the start of a piece after the first) for row groups given as
    ((least, greatest), rows), how many rows the pieces read more than once, and the rows
    of the largest piece (past ``budget`` when one value holds more). A cut
    falls where a row group starts, once the rows since the last cut would pass
    ``budget``; a single value is never split, however many rows hold it."""
    ordered = sorted(groups)
    cuts: list[_K] = []
    held = largest = 0
    for (low, _), rows in ordered:
        # each cut above the last (or above the least value: no piece is empty)
        if held + rows > budget and low > (cuts[-1] if cuts else ordered[0][0][0]):
            cuts.append(low)
            held = 0
        held += rows
        largest = max(largest, held)
    # pieces are [cut, next cut): a row group spanning k cuts is read by k + 1 pieces
    reread = sum(rows * sum(1 for c in cuts if low < c <= high) for (low, high), rows in ordered)
    return cuts, reread, largest


def _bounds(cuts: Sequence[_B]) -> list[tuple[_B | None, _B | None]]:
    """The pieces between cuts: from nothing to the first, …, from the last to nothing."""
    edges: list[_B | None] = [None]
    edges.extend(cuts)
    edges.append(None)
    return list(itertools.pairwise(edges))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def extents(footers: Iterable[pq.FileMetaData], project: str, timestamp: str) -> list[Extent]:
    """Each row group of the files (their ``footers``) with what its statistics tell of the
    columns at the Parquet paths ``project`` and ``timestamp`` (None where they tell
    nothing usable: no statistics, another type)."""
    found: list[Extent] = []
    for meta in footers:
        projects, times = column_index(meta, project), column_index(meta, timestamp)
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            found.append(Extent(group.num_rows, _range(group, projects), _day_range(group, times)))
    return found


def _statistics(group: pq.RowGroupMetaData, index: int | None) -> tuple[object, object] | None:
    if index is None:
        return None
    try:
        stats = group.column(index).statistics
        if stats is None or not stats.has_min_max:
            return None
        return stats.min, stats.max
    except (ValueError, ArithmeticError, pa.ArrowException):  # undecodable: tells nothing
        return None


def _range(group: pq.RowGroupMetaData, index: int | None) -> tuple[str, str] | None:
    match _statistics(group, index):
        case (str() as low, str() as high):
            return low, high
    return None


def _day_range(group: pq.RowGroupMetaData, index: int | None) -> tuple[dt.date, dt.date] | None:
    match _statistics(group, index):
        case (dt.datetime() as low, dt.datetime() as high):
            return _utc_day(low), _utc_day(high)
    return None


def _utc_day(value: dt.datetime) -> dt.date:
    """The UTC day of a statistics value (a timestamp without a zone is read as UTC, as the
    local engine reads it)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.date()
