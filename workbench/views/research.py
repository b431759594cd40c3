"""The "Campaign research" app: scan a source, rank packages, open one, compare several,
and measure the detectors against ground truth when the source has it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import altair as alt
import ipywidgets as w
import polars as pl

from workbench import breakdowns as b
from workbench import charts
from workbench.analysis import Analysis, analyze
from workbench.cache import Cache
from workbench.evaluation import evaluate_against
from workbench.query import RollupQuery
from workbench.sources import open_source
from workbench.sources.base import Source
from workbench.views import page, state
from workbench.views.common import (
    badge,
    default_range,
    esc,
    message,
    picked_days,
    ranking_html,
    shown_errors,
)
from workbench.views.investigate import EMBED, TABS, InvestigateApp
from workbench.views.page import PageAddress
from workbench.views.request import ViewRequest, link, merged, parse
from workbench.views.screen import Approvals, ScreenPanel

SORTS = {"suspicion": ("score", True), "downloads": ("downloads", True), "name": ("project", False)}
ROWS = 40


def table_html(table: pl.DataFrame) -> str:
    return ranking_html(table, "wb-ranking")


class ResearchApp:
    def __init__(
        self,
        source: str | Source = "demo",
        days: int = 90,
        cache: Cache | None = None,
        *,
        request: ViewRequest | None = None,
        page: bool = False,
    ) -> None:
        """``request``: the view to open (a link's: range, sort, packages compared, the
        package opened with its drill-down and tab); ``page``: read it from the page's
        address (in Voilà) and keep a "link to this view"."""
        charts.enable_offline()
        self.cache = cache or Cache()
        #: Each paid request of this app (the screen's population, its deep-dive) waits a click.
        self.approvals = Approvals()
        self.source = (
            open_source(source, confirm=self.approvals) if isinstance(source, str) else source
        )
        self.analysis: Analysis | None = None
        first, last = default_range(self.source, days)
        self.start = w.DatePicker(value=first, description="From")
        self.end = w.DatePicker(value=last, description="To")
        self.scan_button = w.Button(
            description="Scan every package",
            button_style="primary",
            icon="search",
            layout=w.Layout(width="auto"),
        )
        self.sort = w.Dropdown(options=list(SORTS), value="suspicion", description="Sort by")
        self.only = w.Dropdown(
            options=[("flagged only", True), ("all", False)], value=False, description="Show"
        )
        self.status = w.HTML()
        self.table = w.HTML()
        self.pick = w.Select(options=[], description="Open", rows=8, layout=w.Layout(width="420px"))
        self.compare = w.SelectMultiple(
            options=[], description="Compare", rows=8, layout=w.Layout(width="420px")
        )
        self.comparison = w.VBox()
        self.evaluation = w.HTML()
        self.detail = w.VBox()
        self._investigate: InvestigateApp | None = None
        self._opening: ViewRequest | None = None
        self._opening_detail: ViewRequest | None = None
        self.notice = w.HTML()
        self.link = w.HTML()
        self.address = PageAddress() if page else None
        self.scan_button.on_click(lambda _b: self.scan())
        for widget in (self.sort, self.only):
            widget.observe(self._on_view_change, names="value")
        self.pick.observe(self._on_pick, names="value")
        self.compare.observe(self._on_compare, names="value")
        header = w.HTML(f"<div style='color:#5F6368'>Source: {esc(self.source.describe())}</div>")
        self.screen = ScreenPanel(
            self.source,
            self.cache,
            lambda: picked_days(self.start.value, self.end.value),
            approvals=self.approvals,
            on_open=self._open_screened,
        )
        for picker in (self.start, self.end):
            picker.observe(lambda _c: self.screen.refresh_price(), names="value")
        self.container = w.VBox(
            [
                header,
                w.HBox([self.start, self.end, self.scan_button]),
                self.notice,
                self.status,
                w.HBox([self.sort, self.only]),
                self.table,
                w.HBox([self.pick, self.compare]),
                self.comparison,
                self.evaluation,
                w.HTML("<h3>Screen every package of the population</h3>"),
                self.screen.container,
                self.detail,
                self.link,
                *([self.address] if self.address is not None else []),
            ]
        )
        self._open_view(request or ViewRequest())

    # -- the view a link asks for ------------------------------------------------------
    def _open_view(self, request: ViewRequest) -> None:
        how = page.mode() if self.address is not None else page.NOT_VOILA
        if how == page.PREHEATED and self.address is not None:
            if not self.source.paid:  # the likely scan, before anyone asks (not shown yet)
                with shown_errors(self.status):
                    days = picked_days(self.start.value, self.end.value)
                    self.analysis = analyze(self.source, RollupQuery(None, days), cache=self.cache)
            self.status.value = message("Opening the view…", kind="info")
            page.when_reported(
                self.address, lambda query: self._apply(merged(request, self._parse(query)))
            )
            return
        if how == page.COLD:
            request = merged(request, self._parse(page.environ_query()))
        self._apply(request)

    @staticmethod
    def _parse(query: str) -> ViewRequest:
        return parse(query, tabs=TABS, sorts=tuple(SORTS))

    def _apply(self, request: ViewRequest) -> None:
        """Set the range, sort and filter of the table, then rank at once when that costs
        nothing (a free source: demo, Parquet, ClickPy); a paid source waits for "Scan",
        which prices the scan and asks first."""
        self.notice.value = "".join(message(e) for e in request.errors)
        if request.start is not None:
            self.start.value = request.start
        if request.end is not None:
            self.end.value = request.end
        if request.sort is not None:
            self.sort.value = request.sort
        if request.only is not None:
            self.only.value = request.only
        self._opening = request
        if self.source.paid:
            self.status.value = message(
                "Scanning every package of a paid source is priced first: click 'Scan every "
                "package' to see what it would cost.",
                kind="info",
            )
        else:
            self.scan()
        self.show_link()

    def current(self) -> ViewRequest:
        """What the app shows, as a request (its link reopens the same view)."""
        inner = state.current(self._investigate) if self._investigate else ViewRequest()
        return replace(
            inner,
            start=self.start.value,
            end=self.end.value,
            compare=tuple(self.compare.value),
            sort=self.sort.value if self.sort.value != "suspicion" else None,
            only=True if self.only.value else None,
        )

    def show_link(self) -> None:
        query = link(self.current())
        self.link.value = (
            "<div class='wb-link' style='color:#5F6368;padding:.3em 0'>Link to this view: "
            f"<a href='{esc(query or '?')}'>{esc(query) or '(the first screen)'}</a></div>"
        )
        if self.address is not None and page.mode() != page.NOT_VOILA:
            self.address.address = query

    def scan(self) -> None:
        self.status.value = message(
            "Scanning every package… (the first scan computes the rollups)", kind="info"
        )
        with shown_errors(self.status):
            query = RollupQuery(None, picked_days(self.start.value, self.end.value))
            if self.analysis is None or self.analysis.query != query:  # else: warmed already
                self.analysis = analyze(self.source, query, cache=self.cache)
            flagged = sum(s.flagged for s in self.analysis.summaries)
            self.status.value = message(
                f"{len(self.analysis.summaries)} packages scanned in "
                f"{self.analysis.seconds:.1f} s; "
                f"{flagged} flagged (suspicion medium or high).",
                kind="ok",
            )
            names = [s.project for s in self.analysis.summaries]
            self.pick.options = names
            self.compare.options = names
            self.render_table()
            self.render_evaluation()
            opening, self._opening = self._opening, None
            if opening is not None:
                self._open_from_link(opening, names)

    def _open_from_link(self, request: ViewRequest, names: list[str]) -> None:
        unknown = [n for n in (request.package, *request.compare) if n and n not in names]
        if unknown:
            self.notice.value += message(
                f"in the link: {', '.join(unknown)} not among the packages scanned; ignored"
            )
        compared = [n for n in request.compare if n in names]
        if compared:
            self.compare.value = tuple(compared)
        if request.package in names:
            self._opening_detail = request
            self.pick.value = request.package

    def ranked(self) -> pl.DataFrame:
        assert self.analysis is not None
        table = self.analysis.table()
        if self.only.value:
            table = table.filter(pl.col("score") >= 0.4)
        column, descending = SORTS[self.sort.value]
        return table.sort(column, descending=descending).head(ROWS)

    def render_table(self) -> None:
        if self.analysis is not None:
            self.table.value = table_html(self.ranked())

    def _on_view_change(self, _change: dict[str, Any]) -> None:
        with shown_errors(self.status):
            self.render_table()
            self.show_link()

    def _open_screened(self, name: str) -> None:
        """Open a package from the screen's ranking in the investigate view below."""
        with shown_errors(self.status):
            days = picked_days(self.start.value, self.end.value)
            if self._investigate is None:
                self._investigate = InvestigateApp(
                    self.source, package=name, days=days.days, cache=self.cache
                )
                self._investigate.link.layout.display = "none"
                self._investigate.view_changed = self.show_link
                self.detail.children = [
                    w.HTML("<h3>Investigation</h3>"),
                    self._investigate.container,
                ]
            else:
                self._investigate.package.value = name
            self.show_link()

    def _on_pick(self, change: dict[str, Any]) -> None:
        if not change["new"] or self.analysis is None:
            return
        with shown_errors(self.status):
            days = self.analysis.query.days
            wanted, self._opening_detail = self._opening_detail, None
            if self._investigate is None:
                self._investigate = InvestigateApp(
                    self.source,
                    package=change["new"],
                    days=days.days,
                    cache=self.cache,
                    request=replace(wanted, compare=(), errors=()) if wanted else None,
                )
                self._investigate.link.layout.display = "none"
                self._investigate.view_changed = self.show_link
                self.detail.children = [
                    w.HTML("<h3>Investigation</h3>"),
                    self._investigate.container,
                ]
            else:
                self._investigate.package.value = change["new"]
            self.show_link()

    def _on_compare(self, change: dict[str, Any]) -> None:
        with shown_errors(self.status):
            self.comparison.children = self.compare_widgets(list(change["new"]))
            self.show_link()

    def comparison_table(self, projects: list[str]) -> pl.DataFrame:
        assert self.analysis is not None
        ctx = self.analysis.context
        kinds = b.client_kinds(ctx.downloads.filter(pl.col("project").is_in(projects)))
        desktop = kinds.filter(pl.col("client") == "desktop (macOS, Windows)").select(
            "project", desktop="share"
        )
        countries = b.shares(ctx.clean.filter(pl.col("project").is_in(projects)), "country")
        top = countries.filter(pl.col("rank") == 1).select(
            "project", top_country="country", top_country_share="share"
        )
        scores = (
            self.analysis.table()
            .filter(pl.col("project").is_in(projects))
            .select("project", "score", "level", "downloads", "signals")
        )
        return (
            scores.join(desktop, on="project", how="left")
            .join(top, on="project", how="left")
            .sort("score", descending=True)
        )

    def compare_widgets(self, projects: list[str]) -> list[w.Widget]:
        if self.analysis is None or len(projects) < 2:
            return []
        ctx = self.analysis.context
        daily = b.daily(ctx.clean.filter(pl.col("project").is_in(projects)), ctx.days)
        chart = charts.volume_timeline(daily, title="Side by side: downloads per day")
        table = self.comparison_table(projects)
        rows = "".join(
            f"<tr><td><b>{esc(r['project'])}</b></td><td>{badge(r['level'])} {r['score']:.2f}</td>"
            f"<td>{r['downloads']:,}</td><td>{(r['desktop'] or 0):.0%}</td>"
            f"<td>{esc(r['top_country'])} {(r['top_country_share'] or 0):.0%}</td>"
            f"<td>{esc(r['signals'])}</td></tr>"
            for r in table.iter_rows(named=True)
        )
        html = (
            "<table class='wb-compare'><tr><th>package</th><th>suspicion</th><th>downloads</th>"
            f"<th>desktop</th><th>top country</th><th>signals</th></tr>{rows}</table>"
        )
        return [alt.JupyterChart(chart, embed_options=EMBED), w.HTML(html)]

    def render_evaluation(self) -> None:
        truth = self.source.ground_truth() if self.analysis is not None else None
        if self.analysis is None or truth is None:
            self.evaluation.value = ""
            return
        ev = evaluate_against(self.analysis, truth)
        scen = "".join(
            f"<tr><td>{esc(r['scenario'])}</td><td>{r['detected']}/{r['labelled']}</td>"
            f"<td>{r['recall']:.0%}</td></tr>"
            for r in ev.scenarios.iter_rows(named=True)
        )
        sig = "".join(
            f"<tr><td>{esc(r['signal'])}</td><td>{r['correct']}/{r['fired']}</td>"
            f"<td>{r['precision']:.0%}</td></tr>"
            for r in ev.signals.iter_rows(named=True)
        )
        self.evaluation.value = (
            "<h3>Against the ground truth</h3><div style='display:flex;gap:3em'>"
            "<table class='wb-eval'><tr><th>scenario</th><th>found</th><th>recall</th></tr>"
            f"{scen}</table>"
            f"<table><tr><th>signal</th><th>correct</th><th>precision</th></tr>{sig}</table></div>"
            f"<p>Organic packages flagged: {ev.organic_flagged} of {ev.organic}. Flag precision "
            f"{ev.flag_precision:.0%}. The demo's scenarios are cleaner than real campaigns: see "
            "benchmarks/bench_realdata.py for real packages.</p>"
        )
