"""Compare on every tab: the second package beside or overlaid on the first in each chart,
and its findings beside the first's."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from workbench.cache import Cache
from workbench.investigation import Investigation, investigate
from workbench.sources.demo import DemoSource
from workbench.views.investigate import TAB_CHARTS, InvestigateApp

from .conftest import SMALL


@pytest.fixture(scope="module")
def pair(
    small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DemoSource, Cache, str, str]:
    demo = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    truth = demo.ground_truth()
    campaign = str(truth.filter(pl.col("scenario") == "inflation_campaign")["project"][0])
    organic = next(n for n in demo.project_names() if n not in set(truth["project"]))
    return demo, Cache(tmp_path_factory.mktemp("compare-cache")), campaign, organic


def _datasets(spec: dict[str, object]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for values in spec.get("datasets", {}).values():  # type: ignore[attr-defined]
        rows += values
    return rows


@pytest.mark.parametrize("chart", [c for c in TAB_CHARTS.values() if c != "volume"])
def test_every_tab_shows_the_second_package(
    pair: tuple[DemoSource, Cache, str, str], chart: str
) -> None:
    demo, cache, campaign, organic = pair
    inv: Investigation = investigate(campaign, source=demo, days=70, cache=cache, compare=organic)
    spec = inv.chart(chart).to_dict()
    text = json.dumps(spec)
    assert campaign in text and organic in text
    if chart in ("installers", "geography", "python_os"):  # mixes overlaid as shares
        rows = [r for r in _datasets(spec) if "share" in r and "project" in r]
        assert {r["project"] for r in rows} == {campaign, organic}
        by_package: dict[object, float] = {}
        for r in rows:
            by_package[r["project"]] = by_package.get(r["project"], 0.0) + float(r["share"])  # type: ignore[arg-type]
        # each package's shares are of its own downloads (python and OS: two charts)
        assert all(0.99 <= total <= 2.01 for total in by_package.values()), by_package


def test_the_findings_of_both_packages_sit_side_by_side(
    pair: tuple[DemoSource, Cache, str, str],
) -> None:
    demo, cache, campaign, organic = pair
    app = InvestigateApp(demo, package=campaign, days=70, cache=cache)
    assert "wb-compare-findings" not in app.findings.value
    app.compare.value = organic
    panel = app.findings.value
    assert "wb-compare-findings" in panel and campaign in panel and organic in panel
    assert panel.count("wb-findings") == 2
    assert f"compare={organic}" in app.link.value
    app.tabs.selected_index = list(app.charts).index("Geography")
    assert organic in json.dumps(app.charts["Geography"].chart.to_dict())
    app.compare.value = ""
    assert "wb-compare-findings" not in app.findings.value
