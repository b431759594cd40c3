"""The first screen: the source's most suspicious packages, one line each, one click to open.

The ranking is the screen's (:mod:`workbench.screening`, from the population's features, no
deep-dive): on a free source it is computed at once (the population is held in the cache
after the first time); on a paid one it is shown only when the population of the range is
already held, otherwise the panel says what it would cost and computes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ipywidgets as w
import polars as pl

from workbench import screening
from workbench.cache import Cache
from workbench.query import DayRange
from workbench.sources.base import Source
from workbench.views.common import badge, esc, message, picked_days, shown_errors

#: How many packages the first screen lists.
TOP = 8


def unpaid_ranking(source: Source, days: DayRange, cache: Cache) -> pl.DataFrame | str:
    """The screen's ranked table when it costs nothing now, else a sentence saying why not
    (a paid source whose population for ``days`` is not held, or no population at all)."""
    if not source.population_tiers():
        return f"{source.describe()} has no population to rank; type a package name above."
    cost = screening.price(source, days, cache)
    if cost is not None and cost.bytes_processed > 0:
        return (
            f"Ranking every package would first buy the population of {days} ({cost}). "
            "Type a package name above, or screen in the Research app."
        )
    return screening.run(source, days, top=0, cache=cache).table


def line(row: dict[str, object]) -> str:
    """One package's line: suspicion, downloads and what stood out."""
    signals = str(row.get("signals") or "") or "no signal stands out"
    downloads = row.get("downloads")
    count = f"{downloads:,} downloads" if isinstance(downloads, int) else ""
    return (
        f"{badge(str(row['level']))} <span style='color:#5F6368'>{float(row['score']):.2f} · "  # type: ignore[arg-type]
        f"{count} · {esc(signals)}</span>"
    )


class StartPanel:
    """ "Start here": the ranking's top packages as buttons; a click calls ``open_package``."""

    def __init__(self, open_package: Callable[[str], None]) -> None:
        self.open_package = open_package
        self._ranked: tuple[tuple[str, DayRange], pl.DataFrame | str] | None = None
        self.status = w.HTML()
        self.rows = w.VBox()
        self.container = w.VBox(
            [
                w.HTML(
                    "<h3 style='margin:.3em 0'>Start here: the most suspicious packages</h3>"
                    "<div style='color:#5F6368'>Ranked from every package's downloads over "
                    "the range; click one to investigate it, or type any name above.</div>"
                ),
                self.status,
                self.rows,
            ],
            layout=w.Layout(display="none"),
        )
        self.container.add_class("wb-start")

    def warm(
        self, source: Source, start: dt.date | None, end: dt.date | None, cache: Cache
    ) -> None:
        """Rank now, show later (a preheated kernel, before its page asks): an error waits
        for :meth:`show`, which ranks again and shows it."""
        try:
            days = picked_days(start, end)
            self._ranked = ((source.describe(), days), unpaid_ranking(source, days, cache))
        except Exception:  # shown by show(), which tries again
            self._ranked = None

    def show(self, source: Source, days: DayRange, cache: Cache) -> None:
        self.container.layout.display = None
        self.rows.children = ()
        self.status.value = message("Ranking every package…", kind="info")
        with shown_errors(self.status):
            warmed = self._ranked
            self._ranked = None
            if warmed is not None and warmed[0] == (source.describe(), days):
                ranked = warmed[1]
            else:
                ranked = unpaid_ranking(source, days, cache)
            if isinstance(ranked, str):
                self.status.value = message(ranked, kind="info")
                return
            self.status.value = ""
            self.rows.children = [self._row(r) for r in ranked.head(TOP).iter_rows(named=True)]

    def hide(self) -> None:
        self.container.layout.display = "none"

    def _row(self, row: dict[str, object]) -> w.Widget:
        name = str(row["project"])
        button = w.Button(description=name, tooltip=f"Investigate {name}")
        button.add_class("wb-start-open")
        button.layout.width = "260px"
        button.on_click(lambda _b: self.open_package(name))
        return w.HBox([button, w.HTML(line(row))])
