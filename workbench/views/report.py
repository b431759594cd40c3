"""The "Report" app: the finished case file of one package, in the page and as a download."""

from __future__ import annotations

import base64
from typing import Any

import ipywidgets as w

from workbench import data, notes
from workbench.cache import Cache
from workbench.errors import InvalidInputError
from workbench.investigation import Investigation, investigate
from workbench.publish import case_folder, write_case
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
        self.inv: Investigation | None = None
        self.case_name = w.Text(
            placeholder="case name", description="Case", layout=w.Layout(width="320px")
        )
        self.publish = w.Button(description="Publish this case", icon="share-square")
        self.published = w.HTML()
        self.publish.on_click(lambda _b: self.publish_case())
        for widget in (self.package, self.start, self.end):
            widget.observe(self._on_change, names="value")
        header = w.HTML(f"<div style='color:#5F6368'>Source: {esc(self.source.describe())}</div>")
        self.container = w.VBox(
            [
                header,
                w.HBox([self.package, self.start, self.end]),
                self.status,
                self.download,
                w.HBox([self.case_name, self.publish]),
                self.published,
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
        self.published.value = ""
        self.inv = None
        with shown_errors(self.status):
            days = picked_days(self.start.value, self.end.value)
            inv = investigate(
                self.package.value,
                source=self.source,
                start=days.start,
                end=days.end,
                cache=self.cache,
            )
            inv = inv.with_notes(
                notes.store_for(
                    self.cache, self.source.identity, inv.package, self.source.describe()
                ).load()
            )
            self.inv, name = inv, inv.package
            self.case_name.value = f"case-{name}"
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

    def publish_case(self) -> None:
        """Publish the case on screen (with its notes) as a folder under the cases folder."""
        with shown_errors(self.published):
            if self.inv is None:
                raise InvalidInputError("there is no case on screen to publish")
            case = write_case(self.inv, case_folder(self.case_name.value))
            self.published.value = message(
                f"Published {self.inv.package} to {case.path} ({len(case.files)} files, "
                f"{case.size / 1024:.0f} KiB): 'workbench serve {case.path}' opens it.",
                kind="ok",
            )
