"""The overview app's widget logic, without a browser."""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.cache import Cache
from workbench.sources.demo import DemoSource
from workbench.views.overview import OverviewApp, share_table


def test_share_table_keeps_totals_and_labels_nulls() -> None:
    frame = pl.DataFrame({"installer": ["pip", "uv", None, "pdm"], "downloads": [70, 20, 6, 4]})
    table = share_table(frame, "installer", top=2)
    assert table["installer"].to_list() == ["pip", "uv", "(other)"]
    assert table["downloads"].sum() == 100
    assert abs(table["share"].sum() - 1.0) < 1e-9


def test_app_shows_totals_then_errors_in_the_page(small_demo: DemoSource, cache: Cache) -> None:
    name = small_demo.project_names()[0]
    app = OverviewApp(small_demo, package=name, days=14, cache=cache)
    assert "downloads of <b>" in app.status.value and "lower bound" in app.status.value
    assert "Installer" in app.body.value and "Country" in app.body.value

    app.package.value = "bad name;"
    assert "not a valid package name" in app.status.value and app.body.value == ""

    app.package.value = name[:-1] + ("x" if name[-1] != "x" else "y")
    assert "No downloads of" in app.status.value

    app.package.value = name
    app.start.value = app.end.value + dt.timedelta(days=3)
    assert "reversed" in app.status.value


def test_labels_mark_mirrors_and_ci() -> None:
    frame = pl.DataFrame(
        {"installer": ["pip", "bandersnatch"], "ci": [True, False], "downloads": [5, 3]}
    )
    assert share_table(frame, "installer")["installer"].to_list() == [
        "pip",
        "bandersnatch (mirror)",
    ]
    assert share_table(frame, "ci")["ci"].to_list() == ["reported CI", "not reported"]


def test_names_come_most_downloaded_first(small_demo: DemoSource) -> None:
    names = small_demo.project_names()
    counts = (
        pl.scan_parquet(small_demo.ensure() / "file_downloads").group_by("project").len().collect()
    )
    by_name = dict(counts.iter_rows())
    assert [by_name[n] for n in names] == sorted(by_name.values(), reverse=True)
