"""The overview app: pick a package and a range, see where its downloads come from.

A first, table-only view over the rollup (charts arrive with the chart
builders). It follows the app pattern used throughout: one class builds the
widgets, wires ``_on_change → _update``, shows errors in the page and exposes
``.container``.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import ipywidgets as w
import polars as pl

from workbench import data
from workbench.cache import Cache
from workbench.errors import WorkbenchError
from workbench.query import RollupQuery
from workbench.sources import open_source
from workbench.sources.base import Source
from workbench.sources.demo import DemoSource

BREAKDOWNS: dict[str, str] = {
    "installer": "Installer",
    "version": "Version",
    "country": "Country",
    "python": "Python",
    "system": "OS",
    "ci": "Reported as CI",
}
CAVEAT = (
    "Counts are a lower bound: downloads served by mirrors and caches (bandersnatch, "
    "devpi, Artifactory, Nexus, corporate proxies) never reach PyPI's logs."
)


#: Installers that are mirrors or caching proxies: their downloads are not end users.
MIRROR_CLIENTS = frozenset(
    {"bandersnatch", "devpi", "z3c.pypimirror", "Artifactory", "Nexus", "pep381client"}
)


def _labels(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Readable values: CI flags as words, mirror clients marked."""
    if column == "ci":
        words = pl.when(pl.col("ci")).then(pl.lit("reported CI")).otherwise(pl.lit("not reported"))
        return frame.with_columns(words.alias("ci"))
    if column == "installer":
        marked = pl.col("installer") + pl.lit(" (mirror)")
        mirror = pl.col("installer").is_in(list(MIRROR_CLIENTS))
        return frame.with_columns(pl.when(mirror).then(marked).otherwise(pl.col("installer")))
    return frame


def share_table(frame: pl.DataFrame, column: str, *, top: int = 8) -> pl.DataFrame:
    """Downloads and share per value of ``column``, the top values plus "other"."""
    totals = (
        _labels(frame.select(column, "downloads"), column)
        .group_by(column)
        .agg(pl.col("downloads").sum())
        .sort(["downloads", column], descending=[True, False], nulls_last=True)
    )
    grand = int(totals["downloads"].sum())
    total = max(grand, 1)
    head = totals.head(top).with_columns(pl.col(column).cast(pl.String).fill_null("(unknown)"))
    rest = grand - int(head["downloads"].sum())
    if rest:
        other = pl.DataFrame({column: ["(other)"], "downloads": [rest]}, schema=head.schema)
        head = pl.concat([head, other])
    return head.with_columns(share=pl.col("downloads") / total)


def _html_table(title: str, frame: pl.DataFrame, column: str) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(r[column]))}</td>"
        f"<td style='text-align:right'>{r['downloads']:,}</td>"
        f"<td style='text-align:right'>{r['share']:.1%}</td></tr>"
        for r in frame.iter_rows(named=True)
    )
    return (
        f"<div style='min-width:220px;margin:0 16px 16px 0'><b>{html.escape(title)}</b>"
        f"<table>{rows}</table></div>"
    )


class OverviewApp:
    """Package box, date range, and a breakdown of the package's downloads."""

    def __init__(
        self,
        source: str | Source = "demo",
        package: str | None = None,
        days: int = 30,
        cache: Cache | None = None,
    ) -> None:
        self.source = open_source(source) if isinstance(source, str) else source
        self.cache = cache or Cache()
        names = self.source.project_names()
        last = (
            self.source.today - dt.timedelta(days=1)
            if isinstance(self.source, DemoSource)
            else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        )
        self.package = w.Combobox(
            value=package or (names[0] if names else ""),
            options=names,
            placeholder="package name",
            description="Package",
            ensure_option=False,
        )
        self.start = w.DatePicker(value=last - dt.timedelta(days=days - 1), description="From")
        self.end = w.DatePicker(value=last, description="To")
        self.status = w.HTML()
        self.body = w.HTML()
        for widget in (self.package, self.start, self.end):
            widget.observe(self._on_change, names="value")
        header = w.HTML(f"<small>Source: {html.escape(self.source.describe())}</small>")
        self.container = w.VBox(
            [header, w.HBox([self.package, self.start, self.end]), self.status, self.body]
        )
        self._update()

    def _on_change(self, _change: dict[str, Any]) -> None:
        self._update()

    def _update(self) -> None:
        self.status.value = "<i>Loading…</i>"
        try:
            query = RollupQuery.of(self.package.value, self.start.value, self.end.value)
            rollup = data.load(self.source, query, cache=self.cache)
        except WorkbenchError as exc:
            self.status.value = f"<span style='color:#b00020'>⚠ {html.escape(str(exc))}</span>"
            self.body.value = ""
            return
        except Exception as exc:  # shown, never swallowed: a bug report needs it
            self.status.value = (
                f"<span style='color:#b00020'>Unexpected error: "
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc)[:300])}</span>"
            )
            self.body.value = ""
            return
        if rollup.missing:
            close = data.suggestions(self.source, rollup.missing[0])
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            self.status.value = (
                f"<span style='color:#b00020'>No downloads of "
                f"{html.escape(rollup.missing[0])} in {query.days}.{hint}</span>"
            )
            self.body.value = ""
            return
        frame = rollup.downloads.collect()
        total = int(frame["downloads"].sum())
        daily = total / query.days.days
        name = html.escape(query.projects[0] if query.projects else "")
        self.status.value = (
            f"<b>{total:,}</b> downloads of <b>{name}</b> in {query.days} ({daily:,.0f} a day). "
            f"<small>{CAVEAT}</small><br>"
            f"<small>{html.escape(rollup.provenance.summary())}</small>"
        )
        tables = [
            _html_table(title, share_table(frame, col), col) for col, title in BREAKDOWNS.items()
        ]
        self.body.value = f"<div style='display:flex;flex-wrap:wrap'>{''.join(tables)}</div>"
