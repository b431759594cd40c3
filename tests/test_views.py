"""The apps' widget logic, without a browser: loading, drill-down, errors in the page."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from workbench.cache import Cache
from workbench.sources.demo import DemoSource
from workbench.views.investigate import InvestigateApp
from workbench.views.report import ReportApp
from workbench.views.research import ResearchApp

from .conftest import SMALL


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Cache:
    return Cache(tmp_path_factory.mktemp("views-cache"))


@pytest.fixture
def demo(small_demo_dir: Path) -> DemoSource:
    return DemoSource(SMALL, data_dir=small_demo_dir.parent)


def _campaign(demo: DemoSource) -> str:
    return str(demo.ground_truth().filter(pl.col("scenario") == "inflation_campaign")["project"][0])


def _data(chart: object) -> list[dict[str, object]]:
    spec = chart.to_dict()  # type: ignore[attr-defined]
    rows: list[dict[str, object]] = []
    for values in spec.get("datasets", {}).values():
        rows += values
    return rows


def test_investigate_shows_findings_first_and_every_tab(demo: DemoSource, cache: Cache) -> None:
    app = InvestigateApp(demo, package=_campaign(demo), days=70, cache=cache)
    assert "Suspicion high" in app.findings.value and "One client dominates" in app.findings.value
    assert list(app.charts) == [
        "Volume",
        "Clients",
        "Installers",
        "Versions",
        "Geography",
        "Python & OS",
        "CI & people",
    ]
    assert "wb-ok" in app.status.value and "lower bound" in app.status.value


def test_drill_down_redraws_every_chart_with_the_filtered_numbers(
    demo: DemoSource, cache: Cache
) -> None:
    app = InvestigateApp(demo, package=_campaign(demo), days=70, cache=cache)
    before = app.charts["Installers"]
    app.filters["installer"].value = "uv"
    assert "Installers" in app._stale  # not visible: redrawn when opened
    app.tabs.selected_index = list(app.charts).index("Installers")
    assert app.charts["Installers"] is before and not app._stale & {"Installers"}  # in place
    installers = {
        r.get("installer") for r in _data(app.charts["Installers"].chart) if "installer" in r
    }
    assert installers == {"uv"}
    assert "installer = uv" in app.filter_bar.value
    ctx = app.analysis.context  # type: ignore[union-attr]
    uv_total = (
        ctx.downloads.filter(
            (pl.col("project") == app.project)
            & (pl.col("installer") == "uv")
            & ~pl.col("installer").is_null()
        )
        .select(pl.col("downloads").sum())
        .collect()
        .item()
    )
    bars = [r for r in _data(app.charts["Installers"].chart) if "share" in r]
    assert sum(int(r["downloads"]) for r in bars) == uv_total  # type: ignore[call-overload]
    app.clear_filters()
    assert app.filter_bar.value == "" and "Volume" in app._stale
    assert (
        len({r.get("installer") for r in _data(app.charts["Installers"].chart) if "installer" in r})
        > 1
    )


def test_compare_overlays_a_second_package(demo: DemoSource, cache: Cache) -> None:
    names = demo.project_names()
    app = InvestigateApp(demo, package=names[0], days=70, cache=cache, compare=names[1])
    projects = {r["project"] for r in _data(app.charts["Volume"].chart) if "project" in r}
    assert projects == {names[0], names[1]}
    installers = {r["project"] for r in _data(app.charts["Installers"].chart) if "project" in r}
    assert installers == {names[0], names[1]}  # both packages' shares, side by side


def test_source_box_switches_source_and_keeps_the_old_one_on_error(
    demo: DemoSource, cache: Cache, small_demo_dir: Path
) -> None:
    app = InvestigateApp(demo, package=demo.project_names()[0], days=70, cache=cache)
    app.source_box.value = "/no/such/export.parquet"
    assert "wb-error" in app.status.value and "no such file" in app.status.value
    assert app.source is demo
    app.source_box.value = str(small_demo_dir)  # the same rows, read as a Parquet dataset
    assert "Parquet files" in app.header.value and "wb-ok" in app.status.value


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("bad name;", "not a valid package name"),
        ("no-such-package", "no downloads found for &#x27;no-such-package&#x27;"),
    ],
)
def test_errors_show_in_the_page(demo: DemoSource, cache: Cache, typed: str, expected: str) -> None:
    app = InvestigateApp(demo, package=demo.project_names()[0], days=70, cache=cache)
    app.package.value = typed
    assert "wb-error" in app.status.value and expected in app.status.value
    assert app.charts == {} and app.findings.value == ""


def test_reversed_dates_show_a_message(demo: DemoSource, cache: Cache) -> None:
    app = InvestigateApp(demo, package=demo.project_names()[0], days=70, cache=cache)
    app.start.value, app.end.value = app.end.value, app.start.value
    assert "reversed" in app.status.value


def test_research_scans_ranks_opens_compares_and_evaluates(demo: DemoSource, cache: Cache) -> None:
    app = ResearchApp(demo, days=70, cache=cache)
    app.scan()
    assert "packages scanned" in app.status.value and "wb-ranking" in app.table.value
    first = app.ranked()["project"][0]
    assert demo.ground_truth().filter(pl.col("project") == first)["inorganic"].item()
    app.sort.value = "name"
    assert app.ranked()["project"].is_sorted()
    app.only.value = True
    assert (app.ranked()["score"] >= 0.4).all()
    app.pick.value = first
    assert app.detail.children and "Suspicion" in app._investigate.findings.value  # type: ignore[union-attr]
    app.compare.value = tuple(app.compare.options[:2])
    assert len(app.comparison.children) == 2
    assert (
        "recall" in app.evaluation.value and "Organic packages flagged: 0" in app.evaluation.value
    )


def test_report_app_shows_the_case_file_and_a_download(demo: DemoSource, cache: Cache) -> None:
    app = ReportApp(demo, package=_campaign(demo), days=70, cache=cache)
    assert "<h2>Findings</h2>" in app.document.value and "<svg" in app.document.value
    assert "data:text/html;base64," in app.download.value
    app.package.value = "nope-nope"
    assert "wb-error" in app.status.value and app.document.value == ""
