"""The app of a published case (``case.ipynb`` in a folder written by ``workbench publish``):
the Investigate app over the case's frozen data, its package and range fixed, its notes
read-only, with what the case is and where it came from on top. No credentials, no network:
every chart is drawn, and every drill-down computed, from the frozen Parquet."""

from __future__ import annotations

import tempfile
from pathlib import Path

import ipywidgets as w

from workbench.cache import Cache
from workbench.sources.frozen import FrozenSource
from workbench.views.common import esc, message, shown_errors
from workbench.views.investigate import InvestigateApp


class CaseApp:
    """The case in ``folder`` (default: the notebook's own folder)."""

    def __init__(self, folder: str | Path = ".") -> None:
        self.app: InvestigateApp | None = None
        self.status = w.HTML()
        self.header = w.HTML()
        self.container = w.VBox([self.header, self.status])
        with shown_errors(self.status):
            self.source = FrozenSource(Path(folder).resolve())
            meta = self.source.meta
            # the frozen days are small: a private cache (removed with the app or at exit),
            # nothing written to the user's
            self._scratch = tempfile.TemporaryDirectory(prefix="workbench-case-")
            cache = Cache(self._scratch.name)
            self.app = InvestigateApp(
                source=self.source,
                package=self.source.package,
                days=self.source.days.days,
                cache=cache,
            )
            for fixed in (self.app.source_box, self.app.header, self.app.compare):
                fixed.layout.display = "none"
            for locked in (self.app.package, self.app.start, self.app.end):
                locked.disabled = True
            versions = meta.get("versions", {})
            self.header.value = (
                "<div class='wb-case' style='background:#F1F3F4;padding:.5em .8em;"
                "border-radius:.3em'>"
                f"<b>Published case: {esc(self.source.package)}</b>, {esc(self.source.days)}. "
                f"Frozen from {esc(meta['source'])} on {esc(meta['published'][:16])} UTC "
                f"with workbench {esc(versions.get('workbench', '?'))}; "
                f"{int(meta.get('bytes_queried', 0)):,} bytes queried. "
                "Everything here is read from the case's own files.</div>"
            )
            self.container.children = [self.header, self.status, self.app.container]
        if self.app is None:
            self.status.value = self.status.value or message("this case cannot be opened")
