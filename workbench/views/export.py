"""Export from the app: the visible tab's data as CSV, its chart as SVG or PNG.

The files are made in the kernel (CSV by Polars, SVG and PNG by vl-convert, offline) only
when a button is clicked, and handed to the page as bytes over the widget's comm: the page
saves them through a ``blob:`` link. Nothing is fetched from a server path, so it works in
Voilà offline, behind the token, and in JupyterLab alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as w
import polars as pl
import traitlets

from workbench import charts
from workbench.investigation import Chart, Investigation
from workbench.views.common import shown_errors

#: Each tab and the breakdowns its chart draws (what its CSV holds).
TAB_FRAMES: dict[str, tuple[str, ...]] = {
    "Volume": ("daily",),
    "Clients": ("busiest_client",),
    "Installers": ("installers",),
    "Versions": ("versions",),
    "Geography": ("countries",),
    "Python & OS": ("python", "system"),
    "CI & people": ("client_kinds",),
}
#: What each format is, and its media type.
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("data (CSV)", "text/csv"),
    "svg": ("chart (SVG)", "image/svg+xml"),
    "png": ("chart (PNG)", "image/png"),
}

_ESM = """
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "jupyter-button widget-button wb-export-" + model.get("kind");
  button.textContent = model.get("label");
  button.title = "Download " + model.get("label");
  button.addEventListener("click", () => model.send({ want: model.get("kind") }));
  el.appendChild(button);
  model.on("msg:custom", (msg, buffers) => {
    if (!buffers || !buffers.length) return;
    const url = URL.createObjectURL(new Blob([buffers[0]], { type: msg.mime }));
    const a = document.createElement("a");
    a.href = url;
    a.download = msg.name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
}
export default { render };
"""


class DownloadButton(anywidget.AnyWidget):
    """A button whose click asks the kernel for a file, which the page then saves."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    kind = traitlets.Unicode("csv").tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)

    def __init__(self, kind: str, make: Callable[[str], tuple[str, bytes]], status: w.HTML) -> None:
        super().__init__(kind=kind, label=FORMATS[kind][0])
        self._make = make
        self._status = status
        self.on_msg(self._on_msg)

    def _on_msg(self, _widget: Any, content: dict[str, Any], _buffers: list[bytes]) -> None:
        if content.get("want") == self.kind:
            with shown_errors(self._status):
                self.deliver()

    def deliver(self) -> tuple[str, bytes]:
        """Make the file and send it to the page (returned too, for tests)."""
        name, payload = self._make(self.kind)
        self.send({"name": name, "mime": FORMATS[self.kind][1]}, buffers=[payload])
        return name, payload


def tab_frame(inv: Investigation, tab: str) -> pl.DataFrame:
    """The data of ``tab`` under ``inv``'s drill-down, one table; with a compared package,
    its rows follow (the ``project`` column tells them apart)."""
    parts = [_frame(inv, tab)]
    if inv.other is not None:
        parts.append(_frame(inv.other.drill(inv.filters), tab))
    return pl.concat(parts, how="diagonal_relaxed")


def _frame(inv: Investigation, tab: str) -> pl.DataFrame:
    frames = []
    for name in TAB_FRAMES[tab]:
        frame = inv.frame(name)
        if name in ("python", "system"):  # two breakdowns in one table: long form
            frame = frame.rename({name: "value"}).with_columns(breakdown=pl.lit(name))
        frames.append(frame)
    table = pl.concat(frames, how="diagonal_relaxed")
    if "project" not in table.columns:
        table = table.with_columns(project=pl.lit(inv.package))
    return table.select("project", pl.exclude("project"))


def file_name(inv: Investigation, tab: str, ext: str) -> str:
    """``harbor-cli_2026-08-01_2026-08-30_geography_country-CN.csv``: what, when, how cut."""
    parts = [inv.package, str(inv.days.start), str(inv.days.end), tab]
    if inv.other is not None:
        parts.append(f"vs-{inv.other.package}")
    if inv.filters.active:
        parts.append(inv.filters.describe())
    slug = "_".join(re.sub(r"[^A-Za-z0-9.]+", "-", p).strip("-").lower() for p in parts)
    return f"{slug[:180]}.{ext}"


def make_file(inv: Investigation, tab: str, chart: Chart, kind: str) -> tuple[str, bytes]:
    """The file of ``tab`` in ``kind`` (csv, svg or png): its name and bytes."""
    if kind == "csv":
        payload = tab_frame(inv, tab).write_csv().encode()
    elif kind == "svg":
        payload = charts.svg(chart).encode()
    else:
        payload = charts.png(chart)
    return file_name(inv, tab, kind), payload


def export_bar(make: Callable[[str], tuple[str, bytes]], status: w.HTML) -> w.HBox:
    """ "Download this tab": one button per format; ``make(kind)`` makes the file."""
    bar = w.HBox(
        [
            w.HTML("<span style='color:#5F6368;padding-right:.5em'>Download this tab:</span>"),
            *[DownloadButton(kind, make, status) for kind in FORMATS],
        ],
        layout=w.Layout(display="none", align_items="center"),
    )
    bar.add_class("wb-export")
    return bar
