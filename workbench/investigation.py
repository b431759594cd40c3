"""One investigation: a package (and optionally one to compare with) over a range of days,
from a source, under a drill-down — the one model the CLI, the apps, the report and a
notebook user share.

    inv = workbench.investigate("openjuniper-io", days=90)
    inv.summary.text()                  # suspicion, in words
    inv.findings                        # what each signal found, in plain words
    inv.frame("installers", country="CN")   # any breakdown, under any drill-down
    inv.chart("geography")              # any chart (Altair; draws offline)
    inv.compare("nimbus").chart("versions")  # side by side with a second package

Frames and charts are computed from the cached rollups (a drill-down never refetches); the
findings describe the package as a whole, against the population's peers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import altair as alt
import polars as pl

from workbench import breakdowns as b
from workbench import charts, data
from workbench.analysis import Analysis, analyze
from workbench.cache import Cache
from workbench.charts.notes import with_notes
from workbench.errors import InvalidInputError
from workbench.notes import Note, ordered
from workbench.population.baseline import Baseline
from workbench.query import DayRange, RollupQuery
from workbench.signals.findings import Finding
from workbench.signals.fingerprint import share_against_limit
from workbench.signals.summary import Summary
from workbench.sources.base import Progress, Source

#: The breakdowns :meth:`Investigation.frame` knows, with what each holds.
FRAMES: dict[str, str] = {
    "daily": "downloads per day, mirrors excluded",
    "weekly": "downloads per ISO week, mirrors excluded",
    "weekday": "the weekly rhythm: mean downloads per weekday relative to the mean day",
    "installers": "downloads per day and installer (every client)",
    "installer_shares": "share of downloads per installer",
    "installer_versions": "downloads per installer version (from the top clients of each day)",
    "versions": "downloads per day and version, mirrors excluded",
    "version_shares": "share per version with its upload time and release rank",
    "version_age": "downloads by the age of the version downloaded",
    "countries": "downloads per country, mirrors excluded",
    "python": "share of downloads per python minor version",
    "system": "share of downloads per operating system",
    "distros": "downloads per distro (from the top clients of each day)",
    "client_kinds": "downloads per day by kind of client: CI, desktop, Linux, mirror",
    "busiest_client": "the busiest client's share of each day against its peer limit",
}
#: The charts :meth:`Investigation.chart` draws (one per app tab, and the summary).
CHARTS: tuple[str, ...] = (
    "volume",
    "clients",
    "installers",
    "versions",
    "geography",
    "python_os",
    "ci",
    "suspicion",
)


#: What a chart builder returns.
Chart = alt.Chart | alt.LayerChart | alt.HConcatChart | alt.VConcatChart


class NoDownloadsError(InvalidInputError):
    """A package with no downloads in the range (the message suggests close names)."""


def did_you_mean(source: Source, name: str, cache: Cache | None = None) -> str:
    """`` (did you mean a, b?)`` for names of ``source`` close to ``name``, or nothing."""
    close = data.suggestions(source, name, cache=cache)
    return f" (did you mean {', '.join(close)}?)" if close else ""


@dataclass
class Investigation:
    """A package over a range, from a source, under a drill-down (see the module doc)."""

    source: Source
    package: str
    days: DayRange
    analysis: Analysis
    cache: Cache
    filters: b.Filters = field(default_factory=b.Filters)
    other: Investigation | None = None
    #: The analyst's notes (dated annotations), drawn on the timeline and in the report.
    notes: tuple[Note, ...] = ()

    # -- what the signals say --------------------------------------------------------------
    @property
    def summary(self) -> Summary:
        found = self.analysis.summary_of(self.package)
        assert found is not None
        return found

    @property
    def findings(self) -> list[Finding]:
        return self.analysis.findings_of(self.package)

    @property
    def fired(self) -> list[Finding]:
        return [f for f in self.findings if f.fired]

    @property
    def releases(self) -> pl.DataFrame:
        return self.analysis.context.releases.filter(pl.col("project") == self.package)

    @property
    def provenance(self) -> data.Provenance:
        return self.analysis.provenance

    @property
    def baseline(self) -> str:
        """Which population the findings were judged against (or why there was none)."""
        return self.analysis.baseline

    @cached_property
    def rows(self) -> pl.DataFrame:
        """The package's downloads rollup rows (cut once: every drill-down filters these)."""
        return self.analysis.context.downloads.filter(pl.col("project") == self.package).collect()

    @cached_property
    def client_rows(self) -> pl.DataFrame:
        return self.analysis.context.fingerprints.filter(
            pl.col("project") == self.package
        ).collect()

    # -- drill-down and comparison -------------------------------------------------------------
    def drill(self, filters: b.Filters | None = None, **values: Any) -> Investigation:
        """The same investigation under another drill-down (``None`` values clear one)."""
        base = filters if filters is not None else self.filters
        changed = base.with_(**values) if values else base
        return replace(self, filters=changed, other=self.other)

    def compare(self, other: str | None, *, progress: Progress | None = None) -> Investigation:
        """The same investigation with ``other`` beside it (``None``: no comparison)."""
        if not other:
            return replace(self, other=None)
        peer = investigate(
            other,
            source=self.source,
            start=self.days.start,
            end=self.days.end,
            cache=self.cache,
            progress=progress,
        )
        return replace(self, other=peer)

    def with_notes(self, notes: Iterable[Note]) -> Investigation:
        """The same investigation carrying ``notes`` (in order of their days)."""
        return replace(self, notes=ordered(notes))

    def options(self, dimension: str, limit: int = 40) -> list[str | None]:
        """The values of a drill-down dimension, most downloaded first."""
        return (
            self.rows.group_by(dimension)
            .agg(pl.col("downloads").sum())
            .sort("downloads", descending=True)
            .head(limit)[dimension]
            .to_list()
        )

    # -- frames and charts ------------------------------------------------------------------
    def _filters(self, values: dict[str, Any]) -> b.Filters:
        return self.filters.with_(**values) if values else self.filters

    def frame(self, name: str, **filters: Any) -> pl.DataFrame:
        """The breakdown ``name`` (see :data:`FRAMES`) under the drill-down and ``filters``
        (``country="CN"``, ``installer="uv"``, ``start=…``)."""
        if name not in FRAMES:
            raise InvalidInputError(f"no frame {name!r}; choose one of {', '.join(FRAMES)}")
        cut = _Cut(self, self._filters(filters))
        return cut.frame(name)

    def frames(self, **filters: Any) -> dict[str, pl.DataFrame]:
        """Every breakdown the app's tabs draw (what one filter change recomputes)."""
        cut = _Cut(self, self._filters(filters))
        return {name: cut.frame(name) for name in _TAB_FRAMES}

    def chart(self, name: str, *, select: bool = False, **filters: Any) -> Chart:
        """The chart ``name`` (see :data:`CHARTS`), beside the compared package when there is
        one; pure: builds a chart, changes nothing.

        With ``select``, the chart carries Altair selections for drill-down (read them from
        ``alt.JupyterChart(chart).selections``): a click on a country, a version, an installer,
        a python or OS bar or a legend entry gives ``[{dimension: value}]``, and a brush on the
        volume timeline ``{"date": [first, last]}``. The compared package's half has none."""
        if name not in CHARTS:
            raise InvalidInputError(f"no chart {name!r}; choose one of {', '.join(CHARTS)}")
        chosen = self._filters(filters)
        b.require_match(self.rows.lazy(), chosen)
        mine = _Cut(self, chosen).chart(name, select=select)
        if self.other is None:
            return mine
        if name == "volume":
            return _Cut(self, chosen, other=self.other).chart("volume", select=select)
        try:
            theirs = _Cut(self.other, chosen).chart(name)
        except InvalidInputError:  # the drill-down keeps nothing of the other package
            return mine
        return self._compared(name, chosen, mine, theirs, select=select)

    def _compared(
        self, name: str, chosen: b.Filters, mine: Chart, theirs: Chart, *, select: bool = False
    ) -> Chart:
        """``name`` for two packages: the mixes (installers, countries, python, OS) overlaid
        as each package's shares, the time charts and maps one above or beside the other."""
        assert self.other is not None
        cuts = (_Cut(self, chosen), _Cut(self.other, chosen))

        def both(by: str, frame: str | None = None) -> pl.DataFrame:
            parts = [
                (c.frame(frame) if frame else c.collected)
                .select(by, "downloads")
                .with_columns(project=pl.lit(c.inv.package))
                for c in cuts
            ]
            return pl.concat(parts, how="vertical_relaxed")

        pair = f"{self.package} and {self.other.package}"
        if name == "python_os":
            return alt.hconcat(
                charts.share_compare(
                    both("python"), "python", title=f"Python: {pair}", select=select
                ),
                charts.share_compare(
                    both("system"), "system", title="Operating system", select=select
                ),
            )
        if name == "geography":
            maps = [
                charts.world_map(
                    c.frame("countries"), title=c.inv.package, select=select and c is cuts[0]
                ).properties(width=420)
                for c in cuts
            ]
            return alt.vconcat(
                alt.hconcat(*maps),
                charts.share_compare(
                    both("country", "countries"),
                    "country",
                    title=f"Top countries: {pair}",
                    top=10,
                    select=select,
                ),
            )
        if name == "installers":
            stacked = [
                charts.stacked_share(
                    c.frame("installers"),
                    "installer",
                    title=f"Installers: {c.inv.package}",
                    select=select and c is cuts[0],
                )
                for c in cuts
            ]
            return alt.vconcat(
                *stacked,
                charts.share_compare(
                    both("installer"), "installer", title=f"Installer share: {pair}", select=select
                ),
            )
        return alt.vconcat(mine, theirs) if name in _STACKED else alt.hconcat(mine, theirs)

    def describe(self) -> str:
        """One line: package, range, downloads, suspicion."""
        return (
            f"{self.package}: {self.summary.downloads:,} downloads in {self.days} "
            f"(a lower bound); {self.summary.text()}"
        )


_TAB_FRAMES = ("daily", "installers", "versions", "countries", "client_kinds", "python", "system")
#: Charts that are wide (a time axis): compared packages stack rather than sit side by side.
_STACKED = frozenset({"installers", "versions", "ci", "clients"})


class _Cut:
    """One package's rows under one drill-down: each breakdown computed once when asked."""

    def __init__(
        self, inv: Investigation, filters: b.Filters, other: Investigation | None = None
    ) -> None:
        self.inv, self.filters, self.other = inv, filters, other
        self.days = inv.days
        self.mine = filters.apply(inv.rows.lazy())
        self.clean = b.Filters(without_mirrors=True).apply(self.mine)

    @cached_property
    def collected(self) -> pl.DataFrame:
        return self.mine.collect()

    def _per(self, frame: pl.LazyFrame, by: str) -> pl.DataFrame:
        return b.daily(frame, self.days, by=by).drop("project", "weekday", "weekend")

    def frame(self, name: str) -> pl.DataFrame:
        inv, days = self.inv, self.days
        builders: dict[str, Callable[[], pl.DataFrame]] = {
            "daily": lambda: b.daily(self.clean, days),
            "weekly": lambda: b.weekly(self.clean, days),
            "weekday": lambda: b.weekday_profile(self.clean, days),
            "installers": lambda: self._per(self.mine, "installer"),
            "installer_shares": lambda: b.shares(self.mine, "installer"),
            "installer_versions": lambda: b.installer_versions(self._clients()),
            "versions": lambda: self._per(self.clean, "version"),
            "version_shares": lambda: b.versions_with_releases(self.clean, inv.releases),
            "version_age": lambda: b.version_age(self.clean, inv.releases),
            "countries": lambda: (
                self.clean.group_by("country")
                .agg(pl.col("downloads").sum())
                .sort("downloads", descending=True)
                .collect()
            ),
            "python": lambda: b.shares(self.mine, "python"),
            "system": lambda: b.shares(self.mine, "system"),
            "distros": lambda: b.distros(self._clients()),
            "client_kinds": lambda: self._per(self.mine.with_columns(b.client_kind()), "client"),
            "busiest_client": lambda: share_against_limit(inv.analysis.context, inv.package),
        }
        return builders[name]()

    def _clients(self) -> pl.LazyFrame:
        rows = self.inv.client_rows.lazy()
        if self.filters.start is not None:
            rows = rows.filter(pl.col("date") >= self.filters.start)
        if self.filters.end is not None:
            rows = rows.filter(pl.col("date") <= self.filters.end)
        return rows

    def chart(self, name: str, *, select: bool = False) -> Chart:
        inv = self.inv
        label = inv.package
        if name == "volume":
            daily = self.frame("daily")
            if self.other is not None:
                theirs = b.daily(
                    b.Filters(without_mirrors=True).apply(
                        self.filters.apply(self.other.rows.lazy())
                    ),
                    self.days,
                )
                daily = pl.concat([daily, theirs.select(daily.columns)])
            drilled = "" if not self.filters.active else f" — {self.filters.describe()}"
            return with_notes(
                charts.volume_timeline(
                    daily,
                    findings=inv.findings,
                    releases=inv.releases,
                    title=f"Downloads per day{drilled}",
                    select=select,
                ),
                inv.notes,
            )
        if name == "clients":
            clients = self.frame("busiest_client")
            if clients.is_empty():
                return charts.note(
                    "No client detail on this source"
                    if "clients" in inv.analysis.context.lacks
                    else "No peer baseline for the busiest client"
                )
            return charts.client_share_timeline(clients, title=f"Busiest client: {label}")
        if name == "installers":
            return alt.vconcat(
                charts.stacked_share(
                    self.frame("installers"),
                    "installer",
                    title=f"Installers: {label}",
                    select=select,
                ),
                charts.share_bar(
                    self.collected.select("installer", "downloads"),
                    "installer",
                    title=f"Installer share: {label}",
                    select=select,
                ),
            )
        if name == "versions":
            latest = inv.releases.sort("upload_time")["version"].to_list()[-1:]
            return charts.stacked_share(
                self.frame("versions"),
                "version",
                title=f"Versions: {label}",
                top=7,
                normalize=True,
                highlight=latest[0] if latest else None,
                select=select,
            )
        if name == "geography":
            countries = self.frame("countries")
            return alt.hconcat(
                charts.world_map(countries, title=f"Downloads by country: {label}", select=select),
                charts.country_bar(countries, select=select),
            )
        if name == "python_os":
            return alt.hconcat(
                charts.share_bar(
                    self.collected.select("python", "downloads"),
                    "python",
                    title=f"Python: {label}",
                    select=select,
                ),
                charts.share_bar(
                    self.collected.select("system", "downloads"),
                    "system",
                    title="Operating system",
                    select=select,
                ),
            )
        if name == "ci":
            return charts.stacked_share(
                self.frame("client_kinds"), "client", title=f"Who downloads: {label}"
            )
        return charts.suspicion_chart(inv.summary)


def investigate(
    package: str,
    *,
    source: str | Source = "demo",
    days: int = 90,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    compare: str | None = None,
    cache: Cache | None = None,
    buy_population: bool = False,
    peers: Baseline | None = None,
    progress: Progress | None = None,
) -> Investigation:
    """Investigate ``package`` on ``source`` over the last ``days`` days of the source (or
    ``start``..``end``): rollups from the cache or fetched, every signal against the
    population's peers. A package with no downloads in the range is an error that suggests
    close names."""
    from workbench.sources import open_source

    cache = cache or Cache()
    src = open_source(source) if isinstance(source, str) else source
    src.prepare(progress)
    span = _range(src, days, start, end)
    query = RollupQuery.of(package, span.start, span.end)
    name = query.projects[0] if query.projects else package
    analysis = analyze(
        src, query, cache=cache, buy_population=buy_population, peers=peers, progress=progress
    )
    summary = analysis.summary_of(name)
    if summary is None or summary.downloads == 0:
        raise NoDownloadsError(
            f"no downloads found for {name!r}{did_you_mean(src, name, cache)} in {span}"
        )
    inv = Investigation(src, name, span, analysis, cache)
    return inv.compare(compare, progress=progress) if compare else inv


def _range(
    source: Source, days: int, start: str | dt.date | None, end: str | dt.date | None
) -> DayRange:
    if start is None and end is None:
        return source.default_range(days)
    last = end if end is not None else source.last_day()
    first = (
        start if start is not None else DayRange.parse(last, last).end - dt.timedelta(days=days - 1)
    )
    return DayRange.parse(first, last)
