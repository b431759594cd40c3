"""Cutting an aggregation over many local rows into pieces that each fit in memory.

Both rollups group by project and UTC day, so rows of different projects, or of different
days, never meet in one group: the answer over every row is the union of the answers over
disjoint ranges of either. DuckDB reads only the row groups whose Parquet statistics
overlap a piece's range, so when the files are ordered by project (as BigQuery clusters
its table) or by time (one export a day), a piece of the rows costs about its share of the
reading, and its hash table fits in memory instead of spilling to disk.

:func:`plan` chooses the cut from the statistics alone (:func:`extents` reads them). The
statistics decide only how the work is cut, never what is counted: each piece is an exact
filter on the canonical columns, and a row falls in exactly one piece whatever the
statistics say.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

#: Reading more than this share of rows again (row groups that straddle a cut are read by
#: each piece they overlap) costs more than spilling the whole aggregation to disk.
MOST_REREAD = 0.25

_K = TypeVar("_K", str, dt.date)


@dataclass(frozen=True, slots=True)
class Extent:
    """One row group: its rows and, where its statistics tell, the least and greatest
    project and UTC day in it."""

    rows: int
    projects: tuple[str, str] | None
    days: tuple[dt.date, dt.date] | None


@dataclass(frozen=True, slots=True)
class Piece:
    """The rows whose ``column`` is at least ``low`` and below ``high`` (either open when
    None); the whole of the rows when ``column`` is None."""

    column: str | None = None
    low: str | dt.datetime | None = None
    high: str | dt.datetime | None = None

    def where(self) -> str:
        """The piece's condition on the canonical view, its bounds as parameters
        (``$piece_low``, ``$piece_high``); ``true`` for the whole."""
        terms = []
        if self.column is not None and self.low is not None:
            terms.append(f"{self.column} >= $piece_low")
        if self.column is not None and self.high is not None:
            terms.append(f"{self.column} < $piece_high")
        return " AND ".join(terms) or "true"

    def params(self) -> dict[str, str | dt.datetime]:
        bounds = {"piece_low": self.low, "piece_high": self.high}
        return {k: v for k, v in bounds.items() if self.column is not None and v is not None}


WHOLE = Piece()


def plan(extents: Sequence[Extent], budget: int, days: tuple[dt.date, dt.date]) -> list[Piece]:
    """Pieces of at most about ``budget`` rows each over the row groups that may hold rows
    of ``days`` (first and last, inclusive): by project or by day, whichever makes DuckDB
    read fewer rows twice; the whole when the rows fit, when no statistics tell, or when
    the files are ordered by neither (then DuckDB spills instead)."""
    first, last = days
    groups = [e for e in extents if e.days is None or (e.days[1] >= first and e.days[0] <= last)]
    total = sum(e.rows for e in groups)
    if total <= budget:
        return [WHOLE]
    options: list[tuple[int, list[Piece]]] = []
    by_project = [(e.projects, e.rows) for e in groups if e.projects is not None]
    if len(by_project) == len(groups):
        cuts, reread = _cuts(by_project, budget)
        options.append((reread, _pieces("project", cuts)))
    by_day = [((max(e.days[0], first), min(e.days[1], last)), e.rows) for e in groups if e.days]
    if len(by_day) == len(groups):
        day_cuts, reread = _cuts(by_day, budget)
        options.append((reread, _pieces("timestamp", [_midnight(d) for d in day_cuts])))
    options = [o for o in options if len(o[1]) > 1 and o[0] <= MOST_REREAD * total]
    if not options:
        return [WHOLE]
    return min(options, key=lambda o: (o[0], len(o[1])))[1]


def _cuts(groups: Sequence[tuple[tuple[_K, _K], int]], budget: int) -> tuple[list[_K], int]:
    """Cut values (each the start of a piece after the first) for row groups given as
    ((least, greatest), rows), and how many rows the pieces read more than once. A cut
    falls where a row group starts, once the rows since the last cut would pass
    ``budget``; a single value is never split, however many rows hold it."""
    ordered = sorted(groups)
    cuts: list[_K] = []
    held = 0
    for (low, _), rows in ordered:
        # each cut above the last (or above the least value: no piece is empty)
        if held + rows > budget and low > (cuts[-1] if cuts else ordered[0][0][0]):
            cuts.append(low)
            held = 0
        held += rows
    # pieces are [cut, next cut): a row group spanning k cuts is read by k + 1 pieces
    reread = sum(rows * sum(1 for c in cuts if low < c <= high) for (low, high), rows in ordered)
    return cuts, reread


def _pieces(column: str, cuts: Sequence[str | dt.datetime]) -> list[Piece]:
    bounds: list[str | dt.datetime | None] = [None, *cuts, None]
    return [Piece(column, low, high) for low, high in itertools.pairwise(bounds)]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def extents(files: Iterable[Path], project: str, timestamp: str) -> list[Extent]:
    """Each row group of ``files`` with what its statistics tell of the columns at the
    Parquet paths ``project`` and ``timestamp`` (None where they tell nothing usable:
    no statistics, another type, an unreadable footer)."""
    found: list[Extent] = []
    for file in files:
        try:
            meta = pq.read_metadata(file)
        except (OSError, pa.ArrowException):
            return []  # the query itself will say what is wrong with the file
        names = [meta.schema.column(i).path for i in range(meta.num_columns)]
        where = {name: names.index(name) for name in (project, timestamp) if name in names}
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            found.append(
                Extent(
                    group.num_rows,
                    _range(group, where.get(project)),
                    _day_range(group, where.get(timestamp)),
                )
            )
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
