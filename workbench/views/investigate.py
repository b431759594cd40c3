"""The "Investigate a package" app: findings first, then every breakdown, with drill-down.

Drill-down is a filter bar (version, installer, country, python, OS, CI flag, date span):
changing any filter recomputes every breakdown from the cached rollup and redraws the
charts in place (``alt.JupyterChart`` offline), no refetch. The charts drive the same
filter bar: a click on a country, a bar or a legend entry, or a brush on the timeline,
arrives as an Altair selection on the chart's widget and sets the matching filter. The
findings panel describes the package as a whole; the charts follow the filters, and the
filter bar says which apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import altair as alt
import ipywidgets as w
import polars as pl

from workbench import breakdowns as b
from workbench import charts, data, notes
from workbench.analysis import Analysis
from workbench.cache import Cache
from workbench.charts.mix import OTHER
from workbench.errors import InvalidInputError, NoMatchError
from workbench.investigation import Chart, Investigation, investigate
from workbench.names import normalize
from workbench.sources import open_source
from workbench.sources.base import CostEstimate, Source
from workbench.sources.frozen import FrozenSource
from workbench.views import state
from workbench.views.common import (
    default_range,
    esc,
    message,
    options,
    picked_days,
    shown_errors,
)
from workbench.views.compare import findings_panel
from workbench.views.export import export_bar, make_file
from workbench.views.notes import NotesPanel
from workbench.views.page import PageAddress
from workbench.views.request import ViewRequest, compare_of, merged
from workbench.views.start import StartPanel

DIMENSIONS = {
    "version": "Version",
    "installer": "Installer",
    "country": "Country",
    "python": "Python",
    "system": "OS",
}
#: Each tab and the investigation's chart it draws.
TAB_CHARTS = {
    "Volume": "volume",
    "Clients": "clients",
    "Installers": "installers",
    "Versions": "versions",
    "Geography": "geography",
    "Python & OS": "python_os",
    "CI & people": "ci",
}
TABS = tuple(TAB_CHARTS)
MAX_OPTIONS = 40
#: How the brushable chart reports its selection: after the brush has rested 300 ms.
PICK_WAIT: dict[str, dict[str, Any]] = {"Volume": {"debounce_wait": 300, "max_wait": False}}
#: SVG output: crisp, accessible (text in the DOM), and printable from the browser.
EMBED = {"renderer": "svg", "actions": False}


class InvestigateApp:
    """Package box, date range, source; findings panel; tabs of charts with drill-down."""

    def __init__(
        self,
        source: str | Source = "demo",
        package: str | None = None,
        days: int = 90,
        compare: str | None = None,
        cache: Cache | None = None,
        *,
        request: ViewRequest | None = None,
        page: bool = False,
    ) -> None:
        """``request``: the view to open (a link's, see :mod:`workbench.views.request`) over
        the parameters; ``page``: read it from the page's address (in Voilà) and keep a
        "link to this view" and the address bar on what is shown."""
        charts.enable_offline()
        self.cache = cache or Cache()
        self._approved: str | None = None
        self.source = (
            open_source(source, confirm=self._confirm) if isinstance(source, str) else source
        )
        self.inv: Investigation | None = None
        self.analysis: Analysis | None = None
        names = data.project_names(self.source, self.cache)
        first, last = default_range(self.source, days)
        self.package = w.Combobox(
            value=package or "",
            options=names[:5000],
            placeholder="package name",
            description="Package",
            ensure_option=False,
            continuous_update=False,
        )
        self.compare = w.Combobox(
            value=compare or "",
            options=names[:5000],
            placeholder="(none)",
            description="Compare with",
            style={"description_width": "initial"},
            ensure_option=False,
            continuous_update=False,
        )
        self.start = w.DatePicker(value=first, description="From")
        self.end = w.DatePicker(value=last, description="To")
        self.status = w.HTML()
        self.progress = w.IntProgress(
            min=0, max=4, layout=w.Layout(width="240px", visibility="hidden")
        )
        self.run = w.Button(
            description="Run the query", button_style="warning", layout=w.Layout(display="none")
        )
        self.findings = w.HTML()
        self.filters: dict[str, w.Dropdown] = {
            dim: w.Dropdown(options=options([]), description=label, layout=w.Layout(width="220px"))
            for dim, label in DIMENSIONS.items()
        }
        self.ci = w.Dropdown(
            options=[("(all)", None), ("reported CI", True), ("not reported", False)],
            description="CI flag",
            layout=w.Layout(width="220px"),
        )
        self.span = w.SelectionRangeSlider(
            options=[last],
            description="Days",
            continuous_update=False,
            layout=w.Layout(width="520px"),
        )
        self.clear = w.Button(description="Clear filters", icon="times")
        self.filter_bar = w.HTML()
        self.charts: dict[str, alt.JupyterChart] = {}
        self.tabs = w.Tab()
        self._stale: set[str] = set()
        self._building = False
        self.notes_box = w.VBox()  # the analyst's notes panel, made for each loaded package
        self.notes_panel: NotesPanel | None = None
        self._applying = False
        self._pending: ViewRequest | None = None
        self.notice = w.HTML()
        self.link = w.HTML()
        self.address = PageAddress() if page else None
        self.start_panel = StartPanel(self._open_package)
        self.export_bar = export_bar(self.export, self.status)
        #: Called when what is shown changes (an app embedding this one keeps its link).
        self.view_changed: Callable[[], None] | None = None

        for widget in (self.package, self.start, self.end):
            widget.observe(self._on_query_change, names="value")
        self.compare.observe(self._on_compare_change, names="value")
        for widget in (*self.filters.values(), self.ci, self.span):
            widget.observe(self._on_filter_change, names="value")
        self.clear.on_click(lambda _b: self.clear_filters())
        self.tabs.observe(self._on_tab_change, names="selected_index")
        self.run.on_click(lambda _b: self._approve_and_load())

        controls = w.HBox([self.package, self.start, self.end, self.compare])
        drill = self.drill_bar = w.VBox(
            [
                w.HBox(list(self.filters.values())[:3]),
                w.HBox([*list(self.filters.values())[3:], self.ci]),
                w.HBox([self.span, self.clear]),
                self.filter_bar,
            ]
        )
        self.source_box = w.Text(
            value=source if isinstance(source, str) else "",
            placeholder="demo | /path/to/export/*.parquet | bigquery[:billing-project]",
            description="Source",
            continuous_update=False,
            layout=w.Layout(width="520px"),
        )
        self.source_box.observe(self._on_source_change, names="value")
        self.header = w.HTML(self._source_label())
        self.container = w.VBox(
            [
                w.HBox([self.source_box, self.header]),
                controls,
                w.HBox([self.progress, self.run]),
                self.notice,
                self.status,
                self.start_panel.container,
                self.findings,
                drill,
                self.tabs,
                self.notes_box,
                self.export_bar,
                self.link,
                *([self.address] if self.address is not None else []),
            ]
        )
        # the parameters as given: a bad name is checked by load(), with its message
        given = ViewRequest(package=package or None, compare=compare_of(compare))
        state.open_view(self, merged(given, request) if request is not None else given)

    # -- loading ----------------------------------------------------------------------
    def _source_label(self) -> str:
        return f"<div style='color:#5F6368;padding:.3em'>{esc(self.source.describe())}</div>"

    def _on_source_change(self, change: dict[str, Any]) -> None:
        """Switch source (demo, Parquet, BigQuery); on an error the current source stays."""
        with shown_errors(self.status):
            source = open_source(change["new"] or "demo", confirm=self._confirm)
            names = data.project_names(source, self.cache)  # a bad path fails here, clearly
            self.source = source
            self.header.value = self._source_label()
            self.package.options = names[:5000]
            self.compare.options = names[:5000]
            self.load()

    def _confirm(self, estimate: CostEstimate) -> bool:
        key = self._key()
        if self._approved == key:
            return True
        self.status.value = message(
            f"This BigQuery request would cost {estimate}. Click 'Run the query' to go ahead.",
            kind="info",
        )
        self.run.layout.display = None
        return False

    def _approve_and_load(self) -> None:
        self._approved = self._key()
        self.run.layout.display = "none"
        self.load()

    def _key(self) -> str:
        return f"{self.package.value}|{self.start.value}|{self.end.value}"

    def _on_query_change(self, _change: dict[str, Any]) -> None:
        if not self._applying:
            self.load()

    def _on_compare_change(self, _change: dict[str, Any]) -> None:
        if self._applying:
            return
        with shown_errors(self.status):
            self._load_compare()
            if self.inv is not None:
                self.findings.value = findings_panel(self.inv)
            self.redraw()
            if self.analysis is not None:  # replace an earlier error about the comparison
                other = (self.compare.value or "").strip()
                what = f"compared with {other}" if other else "no comparison"
                self.status.value = message(f"{self.project}: {what}.", kind="ok")
            state.show_link(self)

    def _step(self, value: int, text: str) -> None:
        self.progress.value = value
        self.status.value = message(text, kind="info")

    def load(self) -> None:
        """Fetch (or reuse) the investigation of the package and redraw everything."""
        self.progress.layout.visibility = "visible"
        with shown_errors(self.status, on_error=self._clear_results):
            if self.start.value is None or self.end.value is None:
                raise InvalidInputError("choose both a start and an end date")
            name = normalize(self.package.value)
            self._step(
                1,
                f"Loading {name} for {self.start.value}..{self.end.value}… (the first load also "
                "builds the peer baseline from the population)",
            )
            inv = investigate(
                name,
                source=self.source,
                start=self.start.value,
                end=self.end.value,
                cache=self.cache,
                progress=lambda text: self._step(2, text[:1].upper() + text[1:] + "…"),
            )
            self.inv = self._with_notes(inv)
            self.analysis = inv.analysis
            self.start_panel.hide()
            self.drill_bar.layout.display = None
            self.export_bar.layout.display = None
            self._step(3, "Drawing…")
            self._load_compare()
            self._reset_filters(name)
            if self._pending is not None:
                state.apply_drill(self, self._pending)
            self.findings.value = findings_panel(self.inv)
            self.redraw()
            self.status.value = message(
                f"{inv.summary.downloads:,} downloads of {name} in {inv.days} (a lower bound). "
                f"Peers: {inv.baseline}. {inv.provenance.summary()}",
                kind="ok",
            )
        self._pending = None
        self.progress.layout.visibility = "hidden"
        state.show_link(self)

    @property
    def tab_names(self) -> tuple[str, ...]:
        return TABS

    def start_here(self) -> None:
        """The first screen (no package given): the most suspicious packages to open."""
        self._clear_results()
        self.drill_bar.layout.display = "none"
        self.tabs.layout.display = "none"
        self.export_bar.layout.display = "none"
        self.status.value = ""
        if self.start.value is None or self.end.value is None:
            self.status.value = message("choose both a start and an end date")
            return
        with shown_errors(self.status):
            days = picked_days(self.start.value, self.end.value)
            self.start_panel.show(self.source, days, self.cache)

    def visible_tab(self) -> str:
        tabs = list(self.charts)
        return tabs[self.tabs.selected_index or 0] if tabs else TABS[0]

    def export(self, kind: str) -> tuple[str, bytes]:
        """The visible tab as a file: ``kind`` csv (its data), svg or png (its chart)."""
        if self.inv is None:
            raise InvalidInputError("open a package first")
        tab = self.visible_tab()
        inv = self.inv.drill(self.current_filters())
        return make_file(inv, tab, self.build_charts(only={tab})[tab], kind)

    def _open_package(self, name: str) -> None:
        self.package.value = name

    def _clear_results(self) -> None:
        self.analysis = None
        self.inv = None
        self.findings.value = ""
        self.tabs.children = ()
        self.charts = {}

    def _load_compare(self) -> None:
        if self.inv is None:
            return
        other = (self.compare.value or "").strip()
        self.inv = self.inv.compare(other or None)

    # -- drill-down -------------------------------------------------------------------
    @property
    def project(self) -> str:
        assert self.inv is not None
        return self.inv.package

    def _reset_filters(self, name: str) -> None:
        assert self.inv is not None
        self._building = True
        try:
            for dim, dropdown in self.filters.items():
                dropdown.options = options(self.inv.options(dim, MAX_OPTIONS))
                dropdown.value = None
            self.ci.value = None
            days = self.inv.days
            span = [days.start + dt.timedelta(days=i) for i in range(days.days)]
            self.span.options = [(f"{d:%b %d}", d) for d in span]
            self.span.index = (0, len(span) - 1)
        finally:
            self._building = False

    def current_filters(self) -> b.Filters:
        chosen = {dim: (d.value,) for dim, d in self.filters.items() if d.value is not None}
        start, end = (
            self.span.value if self.span.value and len(self.span.value) == 2 else (None, None)
        )
        days = self.analysis.query.days if self.analysis else None
        return b.Filters(
            **chosen,  # type: ignore[arg-type]
            ci=self.ci.value,
            start=start if days and start != days.start else None,
            end=end if days and end != days.end else None,
        )

    def clear_filters(self) -> None:
        self._building = True
        try:
            for dropdown in self.filters.values():
                dropdown.value = None
            self.ci.value = None
            if self.span.options:
                self.span.index = (0, len(self.span.options) - 1)
        finally:
            self._building = False
        self.redraw()

    def _on_filter_change(self, _change: dict[str, Any]) -> None:
        if not self._building:
            with shown_errors(self.status):
                self.redraw()
                state.show_link(self)

    # -- drawing ------------------------------------------------------------------------
    def breakdowns(self) -> dict[str, pl.DataFrame]:
        """Every tab's breakdowns for the current package and filters (no charts)."""
        assert self.inv is not None
        return self.inv.drill(self.current_filters()).frames()

    def build_charts(self, only: set[str] | None = None) -> dict[str, Chart]:
        """The dashboard's charts for the current package and filters: all tabs, or only
        those in ``only`` (pure: builds charts, changes nothing)."""
        assert self.inv is not None
        inv = self.inv.drill(self.current_filters())
        return {
            tab: inv.chart(name, select=True)
            for tab, name in TAB_CHARTS.items()
            if only is None or tab in only
        }

    def redraw(self) -> None:
        """Redraw after a change: the visible tab now, the others when they are opened."""
        if self.analysis is None:
            return
        filters = self.current_filters()
        self.filter_bar.value = (
            ""
            if filters == b.NO_FILTER
            else "<div class='wb-filters' "
            "style='background:#E8F0FE;padding:.3em .6em;border-radius:.3em'>"
            f"Drill-down: <b>{esc(filters.describe())}</b> — charts show only these downloads "
            f"(findings describe the whole package). Use 'Clear filters' to remove.</div>"
        )
        assert self.inv is not None
        try:
            b.require_match(self.inv.rows.lazy(), filters)
        except NoMatchError as exc:  # say so, rather than draw empty (or stale) charts
            self.filter_bar.value = (
                "<div class='wb-filters wb-no-match' "
                "style='background:#FCE8E6;padding:.3em .6em;border-radius:.3em'>"
                f"{esc(str(exc))}. The charts are hidden; change the drill-down or use "
                "'Clear filters'.</div>"
            )
            self.tabs.layout.display = "none"
            return
        self.tabs.layout.display = None
        tabs = list(self.charts)
        if not tabs:
            self._rebuild_all()
            return
        visible = tabs[self.tabs.selected_index or 0]
        self._stale = set(tabs) - {visible}
        self._refresh(visible)

    def _refresh(self, tab: str) -> None:
        built = self.build_charts(only={tab})
        if tab in built:
            self.charts[tab].chart = built[tab]
            self._watch(self.charts[tab])
        self._stale.discard(tab)

    def _on_tab_change(self, change: dict[str, Any]) -> None:
        state.show_link(self)
        tabs = list(self.charts)
        index = change["new"]
        if index is not None and index < len(tabs) and tabs[index] in self._stale:
            with shown_errors(self.status):
                self._refresh(tabs[index])

    def _rebuild_all(self) -> None:
        built = self.build_charts()
        self._stale = set()
        self.charts = {
            # a brush reports once it rests (not on every move, which would redraw mid-drag)
            tab: alt.JupyterChart(chart, embed_options=EMBED, **PICK_WAIT.get(tab, {}))
            for tab, chart in built.items()
        }
        for chart in self.charts.values():
            self._watch(chart)
        self.tabs.children = [w.Box([chart]) for chart in self.charts.values()]
        for i, tab in enumerate(self.charts):
            self.tabs.set_title(i, tab)

    # -- the analyst's notes ------------------------------------------------------------
    def _with_notes(self, inv: Investigation) -> Investigation:
        """Show the notes panel of ``inv``'s package; ``inv`` carrying its saved notes."""
        store = notes.store_for(
            self.cache, self.source.identity, inv.package, self.source.describe()
        )
        if isinstance(self.source, FrozenSource):  # a published case: its own, read-only
            store = self.source.notes_file()
        self.notes_panel = NotesPanel(store, inv.days, on_change=self._on_notes)
        self.notes_box.children = [self.notes_panel.container]
        return inv.with_notes(self.notes_panel.notes)

    def _on_notes(self, changed: tuple[notes.Note, ...]) -> None:
        if self.inv is not None:
            self.inv = self.inv.with_notes(changed)
            self.redraw()

    # -- drill-down from the charts ------------------------------------------------------
    def _watch(self, chart: alt.JupyterChart) -> None:
        """Follow the selections of ``chart`` (a new chart spec brings new selection traits)."""
        names = list(chart.selections.trait_names())
        if names:
            chart.selections.observe(self._on_pick, names=names)

    def _on_pick(self, change: dict[str, Any]) -> None:
        """A click or brush on a chart: set the matching filter, which redraws every chart
        (and so clears the selection). An empty selection (a redrawn chart, a click beside
        the marks) changes nothing."""
        with shown_errors(self.status):
            value = change["new"].value
            if not value:
                return
            if isinstance(value, dict):  # an interval: {"date": [first, last]}
                if "date" in value:
                    self._pick_span(value["date"])
            else:
                picked = [(k, v) for point in value for k, v in point.items() if k in DIMENSIONS]
                if picked:
                    self._pick_value(*picked[-1])
            # the clicked chart redraws (and drops its selection) even if the page's tab
            # change has not reached the kernel yet
            clicked = [t for t, c in self.charts.items() if c.selections is change["owner"]]
            if clicked and clicked[0] in self._stale:
                self._refresh(clicked[0])

    def _pick_value(self, dim: str, value: Any) -> None:
        dropdown = self.filters[dim]
        choices = [v for _label, v in dropdown.options if v is not None]
        text = str(value)
        if text not in choices:
            why = (
                "it stands for several values folded together"
                if text == OTHER
                else f"not among the {MAX_OPTIONS} most downloaded"
            )
            self.status.value = message(
                f"{DIMENSIONS[dim]} {text!r} cannot be picked as a filter ({why}); "
                "pick another value in the chart or the filter bar.",
                kind="info",
            )
            return
        self.status.value = message(
            f"Drill-down from the chart: {DIMENSIONS[dim]} = {text}.", kind="ok"
        )
        dropdown.value = text

    def _pick_span(self, bounds: list[Any]) -> None:
        days = [d for _label, d in self.span.options]
        if len(bounds) != 2 or not days:
            return
        lo, hi = (_day(x, up) for x, up in zip(bounds, (True, False), strict=True))
        first, last = max(lo, days[0]), min(hi, days[-1])
        if first > last:  # a brush between two days: the nearer day
            first = last = min(max(lo, days[0]), days[-1])
        self.status.value = message(f"Drill-down from the timeline: {first} to {last}.", kind="ok")
        self.span.value = (first, last)


def _day(value: Any, up: bool) -> dt.date:
    """A brush bound as a day: epoch milliseconds or ISO text (days are UTC midnights in the
    chart); the lower bound rounds up to the next day drawn, the upper bound down."""
    if isinstance(value, int | float):
        moment = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        moment = moment.astimezone(dt.UTC)
    day = moment.date()
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return day + dt.timedelta(days=1) if up and moment > midnight else day
