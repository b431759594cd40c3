"""Export from the Investigate app: each tab's data as CSV (under the drill-down, with the
compared package), its chart as SVG and PNG, made offline and sent to the page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from workbench.cache import Cache
from workbench.sources.demo import DemoSource
from workbench.views.export import DownloadButton
from workbench.views.investigate import TABS, InvestigateApp

from .conftest import SMALL


@pytest.fixture(scope="module")
def app(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> InvestigateApp:
    demo = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    truth = demo.ground_truth()
    name = str(truth.filter(pl.col("scenario") == "inflation_campaign")["project"][0])
    return InvestigateApp(
        demo, package=name, days=70, cache=Cache(tmp_path_factory.mktemp("export-cache"))
    )


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_exports_its_data_and_its_chart(app: InvestigateApp, tab: str) -> None:
    app.clear_filters()
    app.tabs.selected_index = TABS.index(tab)
    name, data = app.export("csv")
    assert name.endswith(".csv") and tab.split()[0].lower() in name
    frame = pl.read_csv(io.BytesIO(data))
    assert frame.height > 0 and frame["project"].unique().to_list() == [app.project]
    svg_name, svg = app.export("svg")
    assert svg_name.endswith(".svg") and svg.lstrip().startswith(b"<svg")
    png_name, png = app.export("png")
    assert png_name.endswith(".png") and png.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_csv_follows_the_drill_down(app: InvestigateApp) -> None:
    app.clear_filters()
    app.tabs.selected_index = TABS.index("Installers")
    everything = pl.read_csv(io.BytesIO(app.export("csv")[1]))
    app.filters["installer"].value = "uv"
    name, data = app.export("csv")
    only_uv = pl.read_csv(io.BytesIO(data))
    assert "installer-uv" in name
    assert set(only_uv["installer"].drop_nulls()) == {"uv"}
    assert (
        only_uv["downloads"].sum()
        == everything.filter(pl.col("installer") == "uv")["downloads"].sum()
    )
    app.clear_filters()


def test_a_compared_package_is_in_the_csv(app: InvestigateApp) -> None:
    other = next(n for n in app.package.options if n != app.project)
    app.compare.value = other
    app.tabs.selected_index = TABS.index("Python & OS")
    name, data = app.export("csv")
    frame = pl.read_csv(io.BytesIO(data))
    assert f"vs-{other}" in name
    assert set(frame["project"]) == {app.project, other}
    assert set(frame["breakdown"]) == {"python", "system"}
    app.compare.value = ""


def test_a_click_sends_the_file_to_the_page_and_errors_are_shown(app: InvestigateApp) -> None:
    sent: list[tuple[Any, Any]] = []
    button = next(c for c in app.export_bar.children if isinstance(c, DownloadButton))
    button.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    button._on_msg(button, {"want": button.kind}, [])
    assert sent and sent[0][0]["mime"] == "text/csv" and sent[0][1][0].startswith(b"project")
    app.filters["country"].options = [*app.filters["country"].options, ("ZZ", "ZZ")]
    app.filters["country"].value = "ZZ"  # nothing matches: the export says so
    button._on_msg(button, {"want": button.kind}, [])
    assert len(sent) == 1 and "wb-error" in app.status.value
    app.clear_filters()
