"""The "Report" app: the finished case file of one package, in the page and as a download."""

from __future__ import annotations

import base64
from typing import Any

import ipywidgets as w

from workbench import data
from workbench.cache import Cache
from workbench.investigation import investigate
from workbench.report import build
from workbench.sources import open_source
from workbench.sources.base import Source
from workbench.views.common import default_range, esc, message, picked_days, shown_errors


class ReportApp:
    def __init__(
        self,
        source: str | Source = "demo",
        package: str | None = None,
        days: int = 90,
        cache: Cache | None = None,
    ) -> None:
        self.cache = cache or Cache()
        self.source = open_source(source) if isinstance(source, str) else source
        names = data.project_names(self.source, self.cache)
        first, last = default_range(self.source, days)
        self.package = w.Combobox(
            value=package or (names[0] if names else ""),
            options=names[:5000],
            description="Package",
            ensure_option=False,
            continuous_update=False,
        )
        self.start = w.DatePicker(value=first, description="From")
        self.end = w.DatePicker(value=last, description="To")
        self.status = w.HTML()
        self.download = w.HTML()
        self.document = w.HTML()
        for widget in (self.package, self.start, self.end):
            widget.observe(self._on_change, names="value")
        header = w.HTML(f"<div style='color:#5F6368'>Source: {esc(self.source.describe())}</div>")
        self.container = w.VBox(
            [
                header,
                w.HBox([self.package, self.start, self.end]),
                self.status,
                self.download,
                self.document,
            ]
        )
        self.render()

    def _on_change(self, _change: dict[str, Any]) -> None:
        self.render()

    def render(self) -> None:
        self.status.value = message("Building the case file…", kind="info")
        self.document.value = ""
        self.download.value = ""
        with shown_errors(self.status):
            days = picked_days(self.start.value, self.end.value)
            inv = investigate(
                self.package.value,
                source=self.source,
                start=days.start,
                end=days.end,
                cache=self.cache,
            )
            name = inv.package
            html = build(inv)
            body = html.split("<body>", 1)[1].rsplit("</body>", 1)[0]
            style = html.split("<style>", 1)[1].split("</style>", 1)[0]
            self.document.value = f"<style>{style}</style><div class='wb-report'>{body}</div>"
            payload = base64.b64encode(html.encode()).decode()
            self.download.value = (
                f"<a download='case-{esc(name)}.html' href='data:text/html;base64,{payload}'>"
                "⬇ Download this case file (one HTML file that opens offline)</a>"
            )
            self.status.value = message(f"Case file for {name}, {inv.days}.", kind="ok")
