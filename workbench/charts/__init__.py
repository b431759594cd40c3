"""Altair chart builders: pure functions ``(frame, *, options) -> Chart`` with one shared theme.

Every builder aggregates before plotting (daily up to ~6 months, weekly beyond; top-N values
plus "other"), so no chart comes near Altair's 5,000-row limit, and every chart draws with no
internet (see :mod:`workbench.charts.render`).
"""

from __future__ import annotations

from workbench.charts.compare import share_compare
from workbench.charts.geo import country_bar, world_map
from workbench.charts.mix import share_bar, stacked_share
from workbench.charts.render import enable_offline, html, png, svg
from workbench.charts.summary import note, suspicion_chart
from workbench.charts.theme import register
from workbench.charts.timeline import client_share_timeline, volume_timeline

__all__ = [
    "client_share_timeline",
    "country_bar",
    "enable_offline",
    "html",
    "note",
    "png",
    "register",
    "share_bar",
    "share_compare",
    "stacked_share",
    "suspicion_chart",
    "svg",
    "volume_timeline",
    "world_map",
]
