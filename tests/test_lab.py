"""JupyterLab runs a notebook whose charts are ``alt.JupyterChart`` widgets drawn offline.

The notebooks are written at test time. ``charts.ipynb`` shows two Altair charts with
``workbench.charts.enable_offline()`` and ``alt.JupyterChart`` (one on Vega's canvas
renderer, one on SVG), then replaces the second from Python after it was displayed. Lab (see
``tests/lab_support.py``) runs every cell in headless Chromium that may reach nothing but the
local server: the charts must draw and redraw, no cell may fail, nothing may log an error,
and no request may leave 127.0.0.1, Lab's own included. Two broken notebooks show that the
driver notices what it must: a failing cell, and a chart that wants a CDN.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .browser_support import ARTIFACTS, chromium
from .conftest import ROOT, SMALL
from .lab_support import Lab, jupyter_lab, open_lab, run_notebook, shot

pytestmark = pytest.mark.browser

SETUP = """\
import altair as alt
import polars as pl

from workbench.charts import enable_offline

enable_offline()
days = pl.DataFrame({"day": [f"2026-09-{d:02d}" for d in range(1, 31)],
                     "downloads": [1000 + 37 * d + (d % 7) * 120 for d in range(1, 31)]})
installers = pl.DataFrame({"installer": ["pip", "uv", "poetry", "pdm"],
                           "downloads": [5200, 2100, 640, 90]})"""
LINE = """\
line_chart = alt.Chart(days).mark_line().encode(x="day:T", y="downloads:Q")
line = alt.JupyterChart(line_chart.properties(width=400), embed_options={"renderer": "canvas"})
line"""
BARS = """\
bars_chart = alt.Chart(installers).mark_bar().encode(x="installer:N", y="downloads:Q")
bars = alt.JupyterChart(bars_chart, embed_options={"renderer": "svg", "actions": False})
bars"""
TITLE = "updated from Python"
UPDATE = f"""\
bars.chart = bars_chart.mark_bar(color="#d62728").properties(title={TITLE!r})"""
#: Without enable_offline(), JupyterChart's JavaScript imports Vega from a CDN.
ONLINE = """\
import altair as alt
import polars as pl

alt.JupyterChart(alt.Chart(pl.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_point()
                 .encode(x="x:Q", y="y:Q"))"""


#: The analyst's exploration notebook (the public API on the demo data).
EXPLORE = ROOT / "notebooks" / "explore.ipynb"


def write_notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)


def _jupyter_dirs() -> dict[str, float | None]:
    """The user's real Jupyter/IPython directories and their modification times."""
    home = Path.home()
    found: dict[str, float | None] = {}
    for relative in (".jupyter", ".local/share/jupyter", ".ipython", ".cache/workbench"):
        path = home / relative
        found[relative] = path.stat().st_mtime if path.exists() else None
    return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, small_demo_dir: Path) -> Iterator[Lab]:
    before = _jupyter_dirs()
    root = tmp_path_factory.mktemp("lab-root")
    workdir = tmp_path_factory.mktemp("lab")
    write_notebook(root / "charts.ipynb", SETUP, LINE, BARS, UPDATE)
    write_notebook(root / "failing.ipynb", SETUP, LINE, "1 / 0", BARS)
    write_notebook(root / "online.ipynb", ONLINE)
    shutil.copy(EXPLORE, root / "explore.ipynb")
    env = {
        "WORKBENCH_CACHE_DIR": str(workdir / "cache"),
        # "demo" is the session's small demo (explore.ipynb investigates it)
        "WORKBENCH_DATA_DIR": str(small_demo_dir.parent),
        "WORKBENCH_DEMO_SEED": str(SMALL.seed),
        "WORKBENCH_DEMO_PACKAGES": str(SMALL.packages),
        "WORKBENCH_DEMO_DAYS": str(SMALL.days),
    }
    with jupyter_lab(root, workdir, env) as running:
        yield running
    assert _jupyter_dirs() == before, "Lab touched the user's own Jupyter directories"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_notebook_charts_draw_offline_in_lab(lab: Lab, browser: Any) -> None:
    run = run_notebook(browser, lab, "charts.ipynb", charts=2, screenshot="lab-charts")
    page = run.page
    assert run.all_ok, run.output_errors
    assert run.output_errors == []
    # both of Vega's renderers drew: canvas and SVG
    assert page.locator(".jp-OutputArea-output canvas.marks").count() == 1
    assert page.locator(".jp-OutputArea-output svg.marks").count() == 1
    # the chart replaced from Python after it was displayed redraws in place
    page.wait_for_function(
        "[...document.querySelectorAll('.jp-OutputArea-output svg.marks')]"
        f".some(s => s.textContent.includes({TITLE!r}))",
        timeout=60_000,
    )
    assert page.locator(".jp-OutputArea-output svg.marks path[fill='#d62728']").count() == 4
    shot(page, "lab-charts-updated")
    page.close()
    assert run.external == [], run.external
    assert run.console_errors == [] and run.page_errors == [], (run.console_errors, run.page_errors)
    assert run.http_errors == [], run.http_errors
    # this Lab's own directories were used: the server's runtime files, and the kernel's
    # workbench cache (where enable_offline keeps the chart bundle)
    assert list((lab.log.parent / "home" / "jupyter-runtime").glob("jpserver-*.json"))
    assert list((lab.log.parent / "cache" / "vega").glob("jupyterchart-*.js"))
    timings = {"lab started": lab.started_s, **run.timings}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "lab-timings.json").write_text(json.dumps(timings, indent=1))
    print("JupyterLab timings (s):", {k: round(v, 1) for k, v in timings.items()})


def test_the_explore_notebook_draws_its_charts_offline_in_lab(lab: Lab, browser: Any) -> None:
    """``notebooks/explore.ipynb`` as an analyst runs it: every cell, on the public API, in
    Lab with nothing but 127.0.0.1 reachable; its two charts (map, timeline) draw."""
    run = run_notebook(
        browser, lab, "explore.ipynb", charts=2, screenshot="lab-explore", timeout=480
    )
    page = run.page
    assert run.all_ok and run.output_errors == [], run.output_errors
    outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
    assert any("Suspicion high" in text for text in outputs), outputs[:4]
    # the world map drew its countries, the timeline its line
    assert page.locator(".jp-OutputArea-output .mark-shape path").count() > 100
    assert page.locator(".jp-OutputArea-output .mark-line path").count() >= 1
    page.close()
    assert run.external == [], run.external
    assert run.page_errors == [], run.page_errors
    print("explore.ipynb in Lab (s):", {k: round(v, 1) for k, v in run.timings.items()})


def test_lab_itself_loads_nothing_from_the_internet(lab: Lab, browser: Any) -> None:
    """Lab's own page, launcher and settings, with nothing but 127.0.0.1 reachable."""
    run = open_lab(browser, lab)
    page = run.page
    # Lab's own page: no notebook an earlier test opened is restored into it
    documents = "() => [...window.jupyterapp.shell.widgets('main')].filter(w => w.context).length"
    assert page.evaluate(documents) == 0
    for command, shown in (
        ("launcher:create", ".jp-Launcher"),
        ("settingeditor:open", ".jp-SettingsPanel, .jp-SettingsEditor"),
        ("help:about", ".jp-Dialog"),
    ):
        # not awaited: a dialog's command resolves only when the dialog is closed
        page.evaluate(f"() => {{ window.jupyterapp.commands.execute({command!r}); }}")
        page.wait_for_selector(shown, timeout=60_000)
    page.wait_for_timeout(2000)  # late requests (icons, fonts) of what was just shown
    shot(page, "lab-itself")
    page.close()
    hosts = sorted({r.split("/")[2] for r in run.requests if "://" in r})
    print(f"Lab made {len(run.requests)} requests, to {hosts}; off 127.0.0.1: {run.external}")
    assert run.external == []
    assert run.console_errors == [] and run.page_errors == [], (run.console_errors, run.page_errors)


def test_the_driver_sees_a_failing_cell(lab: Lab, browser: Any) -> None:
    with pytest.raises(AssertionError) as failure:
        run_notebook(browser, lab, "failing.ipynb", charts=2, screenshot="lab-failing", timeout=60)
    message = str(failure.value)
    assert "ZeroDivisionError" in message and "of 4 code cells ran" in message, message


def test_the_driver_sees_a_chart_that_needs_the_internet(lab: Lab, browser: Any) -> None:
    with pytest.raises(AssertionError) as failure:
        run_notebook(browser, lab, "online.ipynb", charts=1, screenshot="lab-online", timeout=20)
    message = str(failure.value)
    assert "left 127.0.0.1: ['https://" in message, message
