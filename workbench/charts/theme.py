"""One shared look: colour-blind-safe palette, readable number and date formats."""

from __future__ import annotations

from typing import Any

import altair as alt

#: Okabe–Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MUTED = "#9AA0A6"
ALERT = "#D55E00"  # vermillion: unexplained / suspicious
CALM = "#009E73"  # bluish green: explained / benign
COUNT = "~s"  # 1.2k, 3.4M
SHARE = ".0%"
DATE = "%b %d"
WIDTH = 640
NAME = "workbench"


def theme() -> dict[str, Any]:
    return {
        "config": {
            "font": "Inter, Segoe UI, Helvetica, Arial, sans-serif",
            "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 220},
            "range": {"category": list(PALETTE)},
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "gridColor": "#E8EAED",
                "domainColor": "#BDC1C6",
                "tickColor": "#BDC1C6",
            },
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
            "title": {
                "fontSize": 14,
                "anchor": "start",
                "subtitleColor": "#5F6368",
                "subtitleFontSize": 11,
            },
        }
    }


def register() -> None:
    """Register and enable the theme (idempotent)."""
    if NAME not in alt.theme.names():
        alt.theme.register(NAME, enable=False)(theme)  # type: ignore[arg-type]
    alt.theme.enable(NAME)
