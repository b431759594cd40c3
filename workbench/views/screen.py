"""The screen in the Research app: every package of the population ranked, priced first.

On a free source (demo, Parquet, ClickPy) or with the population already held, the price
line says so and the screen runs when asked. On BigQuery the price of the missing days is
shown before anything runs, and every paid request (the population's missing days, then
the deep-dive of the top) waits for its own click on "Approve": the source is opened with
an :class:`Approvals` gate as its ``confirm``, and the gate lets exactly one request
through per click.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
import polars as pl

from workbench import screening
from workbench.cache import Cache
from workbench.errors import NotConfirmedError
from workbench.query import DayRange
from workbench.screening import Screening
from workbench.sources.base import CostEstimate, Source
from workbench.views.common import message, ranking_html, shown_errors

ROWS = 40


class Approvals:
    """A source's ``confirm``: each click on "Approve" lets exactly one priced request run."""

    def __init__(self) -> None:
        self.granted = 0
        self.pending: CostEstimate | None = None

    def __call__(self, estimate: CostEstimate) -> bool:
        if self.granted > 0:
            self.granted -= 1
            self.pending = None
            return True
        self.pending = estimate
        return False

    def grant(self) -> None:
        self.granted = 1


def screen_html(table: pl.DataFrame) -> str:
    """The ranked table, with what the deep-dive of the top said."""
    return ranking_html(table, "wb-screen", ("deep-dive", "summary"))


class ScreenPanel:
    """Tier, deep-dive size, the price, "Screen every package", the ranking, one click to open."""

    def __init__(
        self,
        source: Source,
        cache: Cache,
        days: Callable[[], DayRange],
        *,
        approvals: Approvals | None = None,
        on_open: Callable[[str], None] | None = None,
    ) -> None:
        self.source = source
        self.cache = cache
        self.days = days
        self.approvals = approvals or Approvals()
        self.on_open = on_open
        self.result: Screening | None = None
        tiers = source.population_tiers()
        self.tier = w.Dropdown(
            options=list(tiers),
            value=source.default_tier() if tiers else None,
            description="Tier",
            layout=w.Layout(width="200px", display=None if len(tiers) > 1 else "none"),
        )
        self.deep = w.BoundedIntText(
            value=10, min=0, max=100, description="Deep-dive", layout=w.Layout(width="170px")
        )
        self.button = w.Button(
            description="Screen every package",
            button_style="primary",
            icon="filter",
            layout=w.Layout(width="auto"),
            disabled=not tiers,
        )
        self.approve = w.Button(
            description="Approve and run",
            button_style="warning",
            layout=w.Layout(width="auto", display="none"),
        )
        self.price = w.HTML()
        self.status = w.HTML()
        self.table = w.HTML()
        self.pick = w.Dropdown(options=[], description="Open", layout=w.Layout(width="420px"))
        self.button.on_click(lambda _b: self.run())
        self.approve.on_click(lambda _b: self._approve())
        self.tier.observe(self._on_tier, names="value")
        self.pick.observe(self._on_pick, names="value")
        self.container = w.VBox(
            [
                w.HBox([self.tier, self.deep, self.button, self.approve]),
                self.price,
                self.status,
                self.table,
                self.pick,
            ]
        )
        self.refresh_price()

    def refresh_price(self) -> None:
        """Say what the screen of the chosen days costs, before anything runs."""
        if not self.source.population_tiers():
            self.price.value = message(
                f"{self.source.describe()} has no population of every package to screen.",
                kind="info",
            )
            return
        with shown_errors(self.price):
            cost = screening.price(self.source, self.days(), self.cache, tier=self.tier.value)
            if cost is None:
                held = "held in the cache" if self.source.paid else "free on this source"
                text = f"The population for {self.days()} is {held}."
            else:
                text = (
                    f"Buying the missing days of the population for {self.days()} costs {cost}; "
                    "the deep-dive of the top is priced before it runs."
                )
            self.price.value = message(text, kind="info")

    def run(self) -> None:
        """Screen (each paid step waits for "Approve"); the ranking replaces the table."""
        self.approve.layout.display = "none"
        self.status.value = message("Screening every package…", kind="info")
        with shown_errors(self.status):
            try:
                self.result = screening.run(
                    self.source,
                    self.days(),
                    top=int(self.deep.value),
                    tier=self.tier.value,
                    cache=self.cache,
                )
            except NotConfirmedError:
                pending = self.approvals.pending
                self.status.value = message(
                    f"This step would cost {pending}. Click 'Approve and run' to pay for it."
                    if pending is not None
                    else "The request was not confirmed.",
                    kind="info",
                )
                self.approve.layout.display = None
                return
            self.render()
        self.refresh_price()

    def _approve(self) -> None:
        self.approvals.grant()
        self.run()

    def render(self) -> None:
        if self.result is None:
            return
        table = self.result.table
        self.status.value = message(
            f"{table.height:,} packages screened in {self.result.seconds:.1f} s from "
            f"{self.result.population.packages:,} packages' features; {self.result.flagged()} "
            f"flagged; the top {int(table['deep'].sum())} deep-dived with every signal.",
            kind="ok",
        )
        top = table.head(ROWS)
        self.table.value = screen_html(top)
        self.pick.options = [("", None), *[(p, p) for p in top["project"].to_list()]]

    def _on_tier(self, _change: dict[str, Any]) -> None:
        self.refresh_price()

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change["new"] and self.on_open is not None:
            self.on_open(str(change["new"]))
