"""End to end on the demo data: every labelled scenario found, organic packages left alone."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from workbench.analysis import analyze, write
from workbench.cache import Cache
from workbench.demo.catalog import EVASIVE, LOOKALIKES
from workbench.errors import InvalidInputError
from workbench.evaluation import evaluate_against
from workbench.query import DayRange, RollupQuery
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.demo import DemoSource

from .conftest import SMALL


@pytest.fixture(scope="module")
def scanned(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    source = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    cache = Cache(tmp_path_factory.mktemp("cache"))
    return (
        source,
        cache,
        analyze(source, RollupQuery(None, DayRange(SMALL.start, SMALL.end)), cache=cache),
    )


def test_scan_finds_every_scenario_and_flags_no_organic_package(scanned) -> None:  # type: ignore[no-untyped-def]
    source, _, result = scanned
    ev = evaluate_against(result, source.ground_truth())
    missed = ev.scenarios.filter(~pl.col("lookalike") & (pl.col("detected") < pl.col("labelled")))
    assert missed.is_empty(), missed
    assert ev.organic_flagged == 0
    assert ev.signals["precision"].min() >= 0.9


def test_evasive_campaigns_are_flagged_and_lookalikes_are_not(scanned) -> None:  # type: ignore[no-untyped-def]
    """Campaigns that spread over rotating clients and cloud countries, ramp, ride a release,
    hide in CI or squat a name are flagged; a blog post's spike, a mirror re-sync, a CI-heavy
    plugin and a regional package are not (the last may carry the stable-concentration
    context finding, never a flag)."""
    source, _, result = scanned
    truth = source.ground_truth()
    ev = evaluate_against(result, truth)
    evasive = ev.scenarios.filter(pl.col("inorganic") & pl.col("scenario").is_in(list(EVASIVE)))
    assert evasive.height == len(EVASIVE)
    assert evasive["flagged"].sum() >= evasive["labelled"].sum() - 1, evasive
    assert ev.lookalikes == sum(LOOKALIKES.values()) and ev.lookalikes_flagged == 0
    for name in truth.filter(pl.col("scenario") == "regional_package")["project"]:
        summary = result.summary_of(name)
        assert summary is not None and not summary.flagged
        assert not [f for f in result.findings_of(name) if f.fired and f.inorganic]


def test_inorganic_scenarios_rank_at_the_top(scanned) -> None:  # type: ignore[no-untyped-def]
    source, _, result = scanned
    truth = source.ground_truth()
    fake = set(truth.filter(pl.col("inorganic"))["project"].to_list())
    top = [s.project for s in result.summaries[: len(fake)]]
    assert set(top) == fake
    for s in result.summaries[: len(fake)]:
        assert s.flagged and "Points at fake traffic" in s.text()


def test_investigating_one_package_uses_peers_from_the_population(scanned) -> None:  # type: ignore[no-untyped-def]
    source, cache, _ = scanned
    truth = source.ground_truth().filter(pl.col("scenario") == "micro_inflation")
    name = truth["project"][0]
    one = analyze(source, RollupQuery((name,), DayRange(SMALL.start, SMALL.end)), cache=cache)
    assert one.context.peers is not None and one.context.peers.packages > 50
    assert "packages of embedded demo data" in one.baseline
    summary = one.summary_of(name)
    assert summary is not None and summary.flagged
    assert any(f.signal == "narrow_fingerprint" and f.fired for f in one.findings_of(name))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_ranked_table_in_every_format(scanned, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    _, _, result = scanned
    path = write(result, tmp_path / f"scan.{fmt}")
    if fmt == "json":
        payload = json.loads(path.read_text())
        first = payload["packages"][0]
        assert first["rank"] == 1 and first["findings"] and first["findings"][0]["text"]
    else:
        table = pl.read_csv(path) if fmt == "csv" else pl.read_parquet(path)
        assert table["rank"].to_list()[:3] == [1, 2, 3]
        assert table["score"].is_sorted(descending=True)
    with pytest.raises(InvalidInputError):
        write(result, tmp_path / "scan.xlsx")


def test_scanning_all_of_pypi_on_bigquery_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="screen the population"):
        analyze(
            BigQuerySource(client=object()), RollupQuery(None, DayRange(SMALL.start, SMALL.end))
        )  # type: ignore[arg-type]
