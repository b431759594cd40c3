"""Drawing without the internet: static SVG/PNG/HTML through vl-convert (which carries the
Vega JavaScript), and offline rendering inside Jupyter/Voilà through ``JupyterChart``."""

from __future__ import annotations

import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc

from workbench import config
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
    """Make ``alt.JupyterChart`` load Vega from vl-convert, not a CDN (idempotent).

    Altair bundles the chart widget's JavaScript with vl-convert in every new process
    (1.3 s of a kernel's start, profiled). The bundle depends only on the Altair and
    vl-convert versions, so it is kept in the cache directory and reused; a missing or
    unreadable copy is rebuilt the documented way."""
    global _offline
    if _offline:
        return
    register()
    bundle = _bundle_path()
    cached = _read(bundle)
    if cached is not None and hasattr(alt.JupyterChart, "_esm"):
        alt.JupyterChart._esm = cached
        alt.JupyterChart._is_offline = True
    else:
        alt.JupyterChart.enable_offline()
        _write(bundle, str(alt.JupyterChart._esm))
    _offline = True


def _bundle_path() -> Path:
    versions = f"altair{alt.__version__}-vlconvert{metadata.version('vl-convert-python')}"
    return config.cache_dir() / "vega" / f"jupyterchart-{versions}.js"


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.rstrip().endswith(_END) else None  # a whole file, not a torn one


def _write(path: Path, text: str) -> None:
    """Atomically, best effort: a cache that cannot be written only costs the next start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
        ) as handle:
            handle.write(text.rstrip() + "\n" + _END + "\n")
        os.replace(handle.name, path)
    except OSError:
        return


_END = "// end of workbench-cached bundle"
