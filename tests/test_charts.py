"""Chart builders: spec structure, inputs untouched, and static renders with real marks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import altair as alt
import polars as pl
import pytest

from workbench import breakdowns as b
from workbench import charts
from workbench.charts.geo import country_shares, world
from workbench.charts.mix import fold_top
from workbench.query import DayRange
from workbench.schema import RELEASES
from workbench.signals.findings import Finding

from .frames import START, combine, release, rollup, seasonal

DAYS = DayRange(START, START + dt.timedelta(days=59))


@pytest.fixture(scope="module")
def frames() -> tuple[pl.LazyFrame, pl.DataFrame]:
    parts = combine(
        rollup("p", seasonal(60, 400, seed=1)),
        rollup(
            "p", seasonal(60, 100, seed=2), installer="uv", version="2.0.0", country=("US", "DE")
        ),
        rollup("q", seasonal(60, 300, seed=3)),
    )
    rel = pl.DataFrame(
        [
            release("p", "1.0.0", START - dt.timedelta(days=90)),
            release("p", "2.0.0", START + dt.timedelta(days=20)),
        ],
        schema=RELEASES,
    )
    return parts[0].lazy(), rel


def _marks(svg: str) -> int:
    return len(re.findall(r'class="mark-', svg))


def test_volume_timeline_annotates_findings_and_releases(
    frames: tuple[pl.LazyFrame, pl.DataFrame],
) -> None:
    downloads, rel = frames
    daily = b.daily(downloads, DAYS)
    before = daily.clone()
    surge = Finding(
        "volume_change",
        "p",
        "Surge ×12",
        "text",
        0.8,
        True,
        START + dt.timedelta(days=30),
        START + dt.timedelta(days=33),
    )
    chart = charts.volume_timeline(daily, findings=[surge], releases=rel)
    spec = chart.to_dict()
    marks = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        for layer in spec["layer"]
    ]
    assert marks == ["rect", "line", "rule", "text"]
    assert spec["layer"][1]["encoding"]["y"]["axis"]["format"] == "~s"  # 1.2k, 3.4M
    assert any("tooltip" in layer["encoding"] for layer in spec["layer"])
    assert daily.equals(before)  # input untouched
    svg = charts.svg(chart)
    assert "<svg" in svg and _marks(svg) >= 4 and "2.0.0" in svg


def test_comparison_overlays_two_packages(frames: tuple[pl.LazyFrame, pl.DataFrame]) -> None:
    downloads, _ = frames
    chart = charts.volume_timeline(b.daily(downloads, DAYS))
    assert chart.to_dict()["layer"][-1]["encoding"]["color"]["field"] == "project"


def test_stacked_share_folds_and_stays_small(frames: tuple[pl.LazyFrame, pl.DataFrame]) -> None:
    downloads, _ = frames
    per = b.daily(downloads, DAYS, by="installer").drop("project", "weekday", "weekend")
    chart = charts.stacked_share(
        per, "installer", title="Installers", normalize=True, highlight="uv"
    )
    spec = chart.to_dict()
    assert spec["encoding"]["y"]["stack"] == "normalize"
    values = next(iter(spec["datasets"].values()))
    assert len(values) < 5000
    assert _marks(charts.svg(chart)) >= 1
    long = pl.DataFrame(
        {"date": pl.date_range(START, START + dt.timedelta(days=399), eager=True)}
    ).with_columns(installer=pl.lit("pip"), downloads=pl.lit(5))
    weekly = charts.stacked_share(long, "installer", title="x").to_dict()
    assert len(next(iter(weekly["datasets"].values()))) <= 60  # weekly beyond ~6 months


def test_fold_top_keeps_totals() -> None:
    frame = pl.DataFrame({"v": [str(i) for i in range(20)], "downloads": list(range(20))})
    folded = fold_top(frame, "v", top=3)
    assert folded.height == 4 and folded["downloads"].sum() == sum(range(20))


def test_world_map_draws_offline_from_packaged_geometry(
    frames: tuple[pl.LazyFrame, pl.DataFrame],
) -> None:
    downloads, _ = frames
    countries = downloads.group_by("country").agg(pl.col("downloads").sum()).collect()
    shares = country_shares(countries)
    assert shares.filter(pl.col("country") == "US")["id"].item() == "840"
    chart = charts.world_map(countries)
    spec = chart.to_dict()
    spec.pop("$schema")  # an identifier, never fetched
    assert "http" not in str(spec) and "'url'" not in str(spec)  # geometry inline, no URL
    assert len(world()["objects"]["countries"]["geometries"]) > 170
    svg = charts.svg(alt.hconcat(chart, charts.country_bar(countries)))
    assert svg.count("<path") > 150


def test_png_and_standalone_html_need_no_network(frames: tuple[pl.LazyFrame, pl.DataFrame]) -> None:
    downloads, _ = frames
    chart = charts.volume_timeline(b.daily(downloads, DAYS))
    assert charts.png(chart)[:8] == b"\x89PNG\r\n\x1a\n"
    page = charts.html(chart)
    assert "cdn.jsdelivr" not in page and '<script src="http' not in page


def test_theme_is_registered_and_colour_blind_safe() -> None:
    charts.register()
    assert alt.theme.active == "workbench"
    assert charts.theme.PALETTE[0] == "#0072B2"


def test_every_builder_returns_a_chart_and_renders(
    tmp_path: Path, frames: tuple[pl.LazyFrame, pl.DataFrame]
) -> None:
    downloads, _ = frames
    mix = downloads.collect()
    built = [
        charts.share_bar(mix.select("python", "downloads"), "python", title="Python"),
        charts.share_bar(mix.select("system", "downloads"), "system", title="OS"),
        charts.client_share_timeline(
            pl.DataFrame(
                {
                    "date": [START, START + dt.timedelta(days=1)],
                    "share": [0.1, 0.9],
                    "limit": [0.3, 0.3],
                    "top": [1, 90],
                    "downloads": [10, 100],
                }
            )
        ),
    ]
    for chart in built:
        assert _marks(charts.svg(chart)) >= 1


def test_the_offline_bundle_is_built_once_then_reused_and_a_torn_copy_rebuilt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workbench.charts import render

    builds = []

    def bundle(cls: type[alt.JupyterChart], offline: bool = True) -> None:
        builds.append(offline)
        cls._esm = "export default {}; // the bundle"

    monkeypatch.setattr(alt.JupyterChart, "enable_offline", classmethod(bundle))
    monkeypatch.setattr(alt.JupyterChart, "_esm", "online", raising=False)

    def fresh_process() -> str:
        monkeypatch.setattr(render, "_offline", False)
        alt.JupyterChart._esm = "online"
        render.enable_offline()
        return str(alt.JupyterChart._esm)

    assert fresh_process().startswith("export default {}; // the bundle")
    assert fresh_process().startswith("export default {}; // the bundle")
    assert len(builds) == 1  # the second process read the cached copy
    path = render._bundle_path()
    path.write_text(path.read_text()[:10])  # a torn write
    assert fresh_process().startswith("export default {}; // the bundle")
    assert len(builds) == 2
