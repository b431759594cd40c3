"""What a user asks for: a set of packages over a range of days.

A :class:`RollupQuery` is validated once, at construction, so every source,
the cache and the SQL builder can trust it: names are PEP 503 normalised, the
range is ordered, not in the future and not before the logs are usable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workbench.errors import InvalidInputError
from workbench.names import normalize_all

#: Counts before this day are about 10x too low (a logging change on PyPI's side).
RELIABLE_SINCE = dt.date(2018, 7, 26)
#: The download table starts here.
FIRST_DAY = dt.date(2016, 1, 22)
MAX_DAYS = 3 * 366


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def parse_day(value: str | dt.date, *, what: str = "date") -> dt.date:
    """Parse ``YYYY-MM-DD`` (or pass a date through) with a clear error.

    A timezone-aware datetime is the UTC day it falls on (days are UTC days everywhere).
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if value.tzinfo is not None else value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise InvalidInputError(
            f"the {what} must be a date or text like 2024-05-31, not {type(value).__name__}"
        )
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        shown = str(value)[:30]
        raise InvalidInputError(f"the {what} {shown!r} is not a date like 2024-05-31") from None


@dataclass(frozen=True, slots=True)
class DayRange:
    """An inclusive range of UTC days."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(
        cls, start: str | dt.date, end: str | dt.date, *, today: dt.date | None = None
    ) -> DayRange:
        first, last = parse_day(start, what="start date"), parse_day(end, what="end date")
        return cls.checked(first, last, today=today)

    @classmethod
    def checked(cls, start: dt.date, end: dt.date, *, today: dt.date | None = None) -> DayRange:
        today = today or utc_today()
        if start > end:
            raise InvalidInputError(f"the range is reversed: {start} is after {end}")
        if end > today:
            raise InvalidInputError(f"the end date {end} is in the future (today is {today} UTC)")
        if start < FIRST_DAY:
            raise InvalidInputError(f"the download logs start on {FIRST_DAY}; {start} is earlier")
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidInputError(
                f"the range spans {(end - start).days + 1} days; at most {MAX_DAYS} are allowed"
            )
        return cls(start, end)

    @classmethod
    def last_days(cls, days: int, *, end: dt.date | None = None) -> DayRange:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise InvalidInputError(
                f"the number of days must be a whole number from 1 to {MAX_DAYS}, "
                f"not {str(days)[:30]!r}"
            )
        last = end or utc_today()
        return cls.checked(last - dt.timedelta(days=days - 1), last)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each(self) -> list[dt.date]:
        """Every day of the range, in order."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def split(self, first_incomplete: dt.date) -> tuple[DayRange | None, DayRange | None]:
        """Split into (complete days, days still in progress) at ``first_incomplete``."""
        if self.end < first_incomplete:
            return self, None
        if self.start >= first_incomplete:
            return None, self
        return (
            DayRange(self.start, first_incomplete - dt.timedelta(days=1)),
            DayRange(first_incomplete, self.end),
        )

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


@dataclass(frozen=True, slots=True)
class RollupQuery:
    """Packages (``None`` = every package of the source) over a day range."""

    projects: tuple[str, ...] | None
    days: DayRange

    @classmethod
    def of(
        cls,
        projects: str | list[str] | tuple[str, ...] | None,
        start: str | dt.date,
        end: str | dt.date,
        *,
        today: dt.date | None = None,
    ) -> RollupQuery:
        names = None if projects is None else normalize_all(projects)
        return cls(names, DayRange.parse(start, end, today=today))

    def with_days(self, days: DayRange) -> RollupQuery:
        return RollupQuery(self.projects, days)

    def describe(self) -> str:
        who = "all packages" if self.projects is None else ", ".join(self.projects)
        return f"{who}, {self.days}"
