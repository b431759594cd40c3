"""Breakdowns of a rollup: tidy frames, dense over days (a quiet day is a 0, not a gap).

Every function takes the downloads rollup (a Polars LazyFrame, one or many
projects) and an optional :class:`Filters` — the drill-down ("only uv", "only
2.1", "only CN") applied to the cached rollup, never a refetch.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import polars as pl

from workbench.dimensions import DESKTOP_SYSTEMS, MIRROR_CLIENTS
from workbench.errors import InvalidInputError, NoMatchError, one_line
from workbench.query import DayRange, parse_day
from workbench.schema import split_fingerprint

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The drill-down dimensions that keep listed values (rollup columns of text).
VALUE_FILTERS: tuple[str, ...] = (
    "version",
    "installer",
    "country",
    "python",
    "system",
    "file_type",
)
_SHOWN_VALUE = 60
#: The filter value that keeps the downloads whose field is missing (NULL) in the data.
UNKNOWN = "(unknown)"


@dataclass(frozen=True, slots=True)
class Filters:
    """A drill-down: each field keeps only the listed values (``None`` = all).

    Checked at construction: value filters are text (one text is a list of one, never a
    list of letters), ``ci`` and ``without_mirrors`` are booleans, ``start``/``end`` are days
    (``YYYY-MM-DD`` text is parsed) in order. Anything else is an :class:`InvalidInputError`.
    Values are compared exactly, as data, never interpreted: a value that occurs nowhere
    makes the breakdowns raise :class:`NoMatchError` rather than draw an empty chart.
    """

    version: tuple[str, ...] | None = None
    installer: tuple[str, ...] | None = None
    country: tuple[str, ...] | None = None
    python: tuple[str, ...] | None = None
    system: tuple[str, ...] | None = None
    file_type: tuple[str, ...] | None = None
    ci: bool | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    without_mirrors: bool = False

    def __post_init__(self) -> None:
        for name in VALUE_FILTERS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _filter_values(name, value))
        for name in ("ci", "without_mirrors"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidInputError(
                    f"the {name.replace('_', ' ')} filter must be True, False or None, "
                    f"not {type(value).__name__}"
                )
        if self.without_mirrors is None:
            raise InvalidInputError("the without mirrors filter must be True or False")
        days = {}
        for name in ("start", "end"):
            value = getattr(self, name)
            days[name] = None if value is None else parse_day(value, what=f"drill-down {name}")
            object.__setattr__(self, name, days[name])
        if days["start"] is not None and days["end"] is not None and days["start"] > days["end"]:
            raise InvalidInputError(
                f"the drill-down span is reversed: {days['start']} is after {days['end']}"
            )

    @property
    def active(self) -> bool:
        """True when the drill-down keeps less than everything."""
        return self != NO_FILTER

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        cond = pl.lit(True)
        for f in ("version", "installer", "country", "python", "system", "file_type"):
            values = getattr(self, f)
            if values is not None:
                keep = pl.col(f).is_in(list(values))
                if UNKNOWN in values:
                    keep = keep | pl.col(f).is_null()
                cond = cond & keep.fill_null(False)
        if self.ci is not None:
            cond = cond & (pl.col("ci") == self.ci)
        if self.start is not None:
            cond = cond & (pl.col("date") >= self.start)
        if self.end is not None:
            cond = cond & (pl.col("date") <= self.end)
        if self.without_mirrors:
            cond = cond & ~pl.col("installer").is_in(list(MIRROR_CLIENTS)).fill_null(False)
        return frame.filter(cond)

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The drill-down in words, e.g. ``installer = uv, not reported as CI``."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "ci" and value is not None:
                parts.append("reported as CI" if value else "not reported as CI")
            elif f.name == "without_mirrors" and value:
                parts.append("without mirrors")
            elif isinstance(value, tuple):
                shown = " or ".join(_shown(v) for v in value)
                parts.append(f"{f.name.replace('_', ' ')} = {shown}")
            elif isinstance(value, dt.date):
                parts.append(f"{'from' if f.name == 'start' else 'to'} {value}")
        return ", ".join(parts) or "no filter"


NO_FILTER = Filters()


def _filter_values(name: str, value: object) -> tuple[str, ...]:
    label = name.replace("_", " ")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidInputError(
            f"the {label} filter must be text or a list of texts, not {type(value).__name__}"
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidInputError(
                f"the {label} filter values must be text (e.g. '3.12'), "
                f"not {type(item).__name__} {str(item)[:20]!r}"
            )
    if not items:
        raise InvalidInputError(f"the {label} filter lists no values (None keeps all)")
    return tuple(sorted(items)) if isinstance(value, set | frozenset) else items


def _shown(value: str) -> str:
    """A filter value as one printable, bounded piece of text."""
    text = one_line(value)
    return text if len(text) <= _SHOWN_VALUE else text[: _SHOWN_VALUE - 1] + "…"


def no_match(downloads: pl.LazyFrame, filters: Filters) -> NoMatchError:
    """The error for a drill-down that keeps nothing of ``downloads``: which values occur
    nowhere in the data (with close ones that do), or that they never occur together."""
    reasons = []
    for name in VALUE_FILTERS:
        wanted = getattr(filters, name)
        if wanted is None:
            continue
        present = downloads.select(pl.col(name).unique()).collect()[name].to_list()
        present = [UNKNOWN if p is None else p for p in present]
        if any(v in present for v in wanted):
            continue
        label = name.replace("_", " ")
        hints: list[str] = []
        for value in wanted:
            same = [p for p in present if p.casefold() == value.casefold()]
            hints += same or difflib.get_close_matches(value, present, n=2, cutoff=0.75)
        hint = f" (did you mean {', '.join(_shown(h) for h in dict.fromkeys(hints))}?)"
        shown = " or ".join(f"'{_shown(v)}'" for v in wanted)
        reasons.append(f"no {label} {shown} in the data" + (hint if hints else ""))
    if filters.start is not None or filters.end is not None:
        span = downloads.select(first=pl.col("date").min(), last=pl.col("date").max()).collect()
        first, last = span["first"][0], span["last"][0]
        if first is None or (filters.start or first) > last or (filters.end or last) < first:
            reasons.append(
                "the data has no downloads in that span"
                + (f" (it covers {first}..{last})" if first is not None else "")
            )
    if not reasons:
        reasons.append("no download in the data has all of these at once")
    return NoMatchError(
        f"no downloads match the drill-down ({filters.describe()}): " + "; ".join(reasons)
    )


def _check_by(downloads: pl.LazyFrame, by: object) -> None:
    """``by`` must name a column of the frame (not be text from elsewhere)."""
    names = downloads.collect_schema().names()
    if not isinstance(by, str) or by in ("date", "downloads") or by not in names:
        choices = ", ".join(n for n in names if n not in ("date", "downloads"))
        raise InvalidInputError(f"cannot break down by {str(by)[:40]!r}; choose one of {choices}")


def require_match(downloads: pl.LazyFrame, filters: Filters) -> None:
    """Raise :class:`NoMatchError` when an active drill-down keeps no downloads, so an app
    shows why instead of an empty chart."""
    if not filters.active:
        return
    kept = filters.apply(downloads).select(pl.col("downloads").sum()).collect().item()
    if not kept:
        raise no_match(downloads, filters)


def day_frame(days: DayRange) -> pl.DataFrame:
    return pl.DataFrame({"date": pl.date_range(days.start, days.end, eager=True)})


def densify(
    frame: pl.DataFrame, days: DayRange, keys: list[str], value: str = "downloads"
) -> pl.DataFrame:
    """Every day × every combination of ``keys`` seen, missing days filled with 0."""
    grid = day_frame(days)
    if keys:
        grid = grid.join(frame.select(keys).unique(), how="cross")
    return (
        grid.join(frame, on=["date", *keys], how="left", nulls_equal=True)
        .with_columns(pl.col(value).fill_null(0))
        .sort([*keys, "date"])
    )


def daily(
    downloads: pl.LazyFrame, days: DayRange, *, by: str | None = None, filters: Filters = NO_FILTER
) -> pl.DataFrame:
    """Downloads per day (per ``project`` and per value of ``by``), dense, with weekday names."""
    if by is not None:
        _check_by(downloads, by)
    keys = ["project"] + ([by] if by else [])
    frame = (
        filters.apply(downloads).group_by(["date", *keys]).agg(pl.col("downloads").sum()).collect()
    )
    if frame.height == 0 and filters.active:
        raise no_match(downloads, filters)
    return densify(frame, days, keys).with_columns(
        weekday=pl.col("date").dt.weekday().cast(pl.Int8),
        weekend=pl.col("date").dt.weekday() >= 6,
    )


def weekly(
    downloads: pl.LazyFrame, days: DayRange, *, by: str | None = None, filters: Filters = NO_FILTER
) -> pl.DataFrame:
    """Downloads per ISO week (weeks cut by the range are marked ``partial``)."""
    keys = ["project"] + ([by] if by else [])
    per_day = daily(downloads, days, by=by, filters=filters)
    return (
        per_day.group_by([pl.col("date").dt.truncate("1w").alias("week"), *keys])
        .agg(pl.col("downloads").sum(), days=pl.len())
        .with_columns(partial=pl.col("days") < 7)
        .sort([*keys, "week"])
    )


def weekday_profile(
    downloads: pl.LazyFrame, days: DayRange, *, filters: Filters = NO_FILTER
) -> pl.DataFrame:
    """Mean downloads per weekday relative to the package's mean day (the weekly rhythm)."""
    per_day = daily(downloads, days, filters=filters)
    return (
        per_day.group_by("project", "weekday")
        .agg(mean=pl.col("downloads").mean())
        .with_columns(relative=pl.col("mean") / pl.col("mean").mean().over("project"))
        .with_columns(day=pl.col("weekday").map_elements(lambda d: WEEKDAYS[d - 1], pl.String))
        .sort("project", "weekday")
    )


def shares(
    downloads: pl.LazyFrame, by: str, *, filters: Filters = NO_FILTER, top: int | None = None
) -> pl.DataFrame:
    """Downloads and share per value of ``by`` for each project, ranked; ``top`` keeps the head
    and folds the rest into ``(other)``."""
    _check_by(downloads, by)
    frame = (
        filters.apply(downloads)
        .group_by("project", by)
        .agg(pl.col("downloads").sum())
        .with_columns(share=pl.col("downloads") / pl.col("downloads").sum().over("project"))
        .sort(["project", "downloads", by], descending=[False, True, False], nulls_last=True)
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("project"))
        .collect()
    )
    if frame.height == 0 and filters.active:
        raise no_match(downloads, filters)
    if top is None:
        return frame
    head = frame.filter(pl.col("rank") <= top).with_columns(pl.col(by).cast(pl.String))
    rest = (
        frame.filter(pl.col("rank") > top)
        .group_by("project")
        .agg(pl.col("downloads").sum(), pl.col("share").sum())
        .with_columns(pl.lit("(other)").alias(by), rank=pl.lit(top + 1, pl.Int64))
    )
    return pl.concat([head, rest.select(head.columns)]).sort("project", "rank")


def share_over_time(
    downloads: pl.LazyFrame, days: DayRange, by: str, *, filters: Filters = NO_FILTER
) -> pl.DataFrame:
    """Daily share of each value of ``by`` (dense; share is 0 on days with no downloads)."""
    per = daily(downloads, days, by=by, filters=filters)
    total = pl.col("downloads").sum().over("project", "date")
    return per.with_columns(
        share=pl.when(total > 0).then(pl.col("downloads") / total).otherwise(0.0)
    )


def client_kind() -> pl.Expr:
    """Who a download looks like it came from, from installer, OS and the CI flag."""
    return (
        pl.when(pl.col("installer").is_in(list(MIRROR_CLIENTS)))
        .then(pl.lit("mirror"))
        .when(pl.col("ci"))
        .then(pl.lit("reported CI"))
        .when(pl.col("system").is_in(list(DESKTOP_SYSTEMS)))
        .then(pl.lit("desktop (macOS, Windows)"))
        .when(pl.col("system") == "Linux")
        .then(pl.lit("Linux, not reported CI"))
        .otherwise(pl.lit("unidentified client"))
        .alias("client")
    )


def client_kinds(downloads: pl.LazyFrame, *, filters: Filters = NO_FILTER) -> pl.DataFrame:
    """Share of downloads per client kind (CI, desktop, Linux, mirror, unidentified)."""
    return shares(downloads.with_columns(client_kind()), "client", filters=filters)


def versions_with_releases(
    downloads: pl.LazyFrame, releases: pl.DataFrame, *, filters: Filters = NO_FILTER
) -> pl.DataFrame:
    """Per project and version: downloads, share, upload time, and rank among the package's
    releases (1 = newest)."""
    ranked = releases.with_columns(
        release_rank=pl.col("upload_time").rank("ordinal", descending=True).over("project")
    ).select("project", "version", "upload_time", "release_rank")
    return shares(downloads, "version", filters=filters).join(
        ranked, on=["project", "version"], how="left"
    )


def latest_share(
    downloads: pl.LazyFrame,
    releases: pl.DataFrame,
    days: DayRange,
    *,
    n: int = 3,
    filters: Filters = NO_FILTER,
) -> pl.DataFrame:
    """Daily share of downloads on the ``n`` newest releases available on that day."""
    per = daily(downloads, days, by="version", filters=filters)
    rel = releases.select("project", "version", up=pl.col("upload_time").dt.date())
    joined = per.join(rel, on=["project", "version"], how="left")
    # rank of each version among the releases already out on that day (1 = newest)
    newer = (
        joined.select("project", "date")
        .unique()
        .join(rel, on="project")
        .filter(pl.col("up") <= pl.col("date"))
        .with_columns(rank=pl.col("up").rank("ordinal", descending=True).over("project", "date"))
        .select("project", "date", "version", "rank")
    )
    return (
        joined.join(newer, on=["project", "date", "version"], how="left")
        .group_by("project", "date")
        .agg(
            total=pl.col("downloads").sum(),
            latest=pl.col("downloads").filter(pl.col("rank") <= n).sum(),
        )
        .with_columns(
            share=pl.when(pl.col("total") > 0)
            .then(pl.col("latest") / pl.col("total"))
            .otherwise(None)
        )
        .sort("project", "date")
    )


AGE_BUCKETS = (30, 90, 180, 365, 730)


def version_age(
    downloads: pl.LazyFrame, releases: pl.DataFrame, *, filters: Filters = NO_FILTER
) -> pl.DataFrame:
    """Downloads by age of the downloaded version on the day of download (buckets in days)."""
    rel = releases.select("project", "version", up=pl.col("upload_time").dt.date())
    labels = [f"< {b} d" for b in AGE_BUCKETS] + [f"≥ {AGE_BUCKETS[-1]} d", "unknown"]
    frame = (
        filters.apply(downloads)
        .group_by("project", "date", "version")
        .agg(pl.col("downloads").sum())
        .collect()
        .join(rel, on=["project", "version"], how="left")
        .with_columns(age=(pl.col("date") - pl.col("up")).dt.total_days())
    )
    if frame.height == 0 and filters.active:
        raise no_match(downloads, filters)
    bucket: Any = pl.when(pl.col("age").is_null()).then(pl.lit(labels[-1]))
    for limit, label in zip(AGE_BUCKETS, labels, strict=False):
        bucket = bucket.when(pl.col("age") < limit).then(pl.lit(label))
    bucket = bucket.otherwise(pl.lit(labels[-2]))
    return (
        frame.with_columns(age_bucket=bucket)
        .group_by("project", "age_bucket")
        .agg(pl.col("downloads").sum())
        .with_columns(share=pl.col("downloads") / pl.col("downloads").sum().over("project"))
        .with_columns(order=pl.col("age_bucket").replace_strict(labels, list(range(len(labels)))))
        .sort("project", "order")
        .drop("order")
    )


def fingerprint_fields(fingerprints: pl.LazyFrame) -> pl.LazyFrame:
    """The fingerprint rollup with its fields split into columns."""
    return fingerprints.with_columns(split_fingerprint())


def installer_versions(fingerprints: pl.LazyFrame, *, top_installers: int = 3) -> pl.DataFrame:
    """Downloads per installer version for the top installers (from the fingerprint table,
    which keeps each day's top clients: ``coverage`` is the share of downloads it holds)."""
    split = fingerprint_fields(fingerprints)
    per = (
        split.group_by("project", "installer", "installer_version")
        .agg(pl.col("downloads").sum())
        .collect()
    )
    top = (
        per.group_by("project", "installer")
        .agg(pl.col("downloads").sum())
        .sort("downloads", descending=True)
        .group_by("project", maintain_order=True)
        .head(top_installers)
        .select("project", "installer")
    )
    return (
        per.join(top, on=["project", "installer"], how="inner", nulls_equal=True)
        .with_columns(
            share_of_installer=pl.col("downloads")
            / pl.col("downloads").sum().over("project", "installer")
        )
        .sort(["project", "installer", "downloads"], descending=[False, False, True])
    )


def distros(fingerprints: pl.LazyFrame) -> pl.DataFrame:
    """Downloads per OS distro and version (from the fingerprint table's top clients)."""
    split = fingerprint_fields(fingerprints)
    return (
        split.group_by("project", "system", "distro", "distro_version")
        .agg(pl.col("downloads").sum())
        .with_columns(share=pl.col("downloads") / pl.col("downloads").sum().over("project"))
        .sort(["project", "downloads"], descending=[False, True])
        .collect()
    )
