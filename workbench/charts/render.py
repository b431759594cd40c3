"""Drawing without the internet: static SVG/PNG/HTML through vl-convert (which carries the
Vega JavaScript), and offline rendering inside Jupyter/Voilà through ``JupyterChart``."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import vl_convert as vlc

from workbench.charts.theme import register

_offline = False


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    register()
    return dict(chart.to_dict())


def svg(chart: alt.TopLevelMixin) -> str:
    return str(vlc.vegalite_to_svg(json.dumps(spec(chart))))


def png(chart: alt.TopLevelMixin, *, scale: float = 2.0) -> bytes:
    return bytes(vlc.vegalite_to_png(json.dumps(spec(chart)), scale=scale))


def html(chart: alt.TopLevelMixin) -> str:
    """A standalone interactive HTML page with the Vega libraries inlined (no CDN)."""
    return str(vlc.vegalite_to_html(json.dumps(spec(chart)), bundle=True))


def enable_offline() -> None:
    """Make ``alt.JupyterChart`` load Vega from vl-convert, not a CDN (idempotent)."""
    global _offline
    if not _offline:
        register()
        alt.JupyterChart.enable_offline()
        _offline = True
