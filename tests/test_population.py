"""The population: one definition of the features everywhere, peer baselines from it, and
the screen of every package."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import SMALL
from workbench import data
from workbench.cache import Cache
from workbench.dimensions import MIRROR_CLIENTS
from workbench.population import baseline, features, peers, screen, synthetic
from workbench.query import DayRange, RollupQuery
from workbench.sources.demo import DemoSource

DAYS = DayRange(SMALL.end - dt.timedelta(days=27), SMALL.end)


@pytest.fixture(scope="module")
def population(small_demo_dir: Path) -> pl.DataFrame:
    source = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    return source.population(DAYS, "clients")


def test_features_from_rollups_equal_the_engine(
    population: pl.DataFrame, small_demo: DemoSource
) -> None:
    """The local engine's SQL and the Polars definition over a package's rollups agree on
    every column: an investigated package is measured exactly like its peers."""
    rollups = small_demo.fetch(("downloads", "fingerprints"), RollupQuery(None, DAYS))
    mine = features.from_rollups(rollups["downloads"].lazy(), rollups["fingerprints"].lazy())
    engine = population.sort("project", "date")
    mine = mine.sort("project", "date")
    assert engine.height == mine.height > 0
    for column in engine.columns:
        if engine[column].dtype == pl.Float64:
            assert (engine[column] - mine[column]).abs().max() < 1e-9, column  # type: ignore[operator]
        else:
            assert engine[column].equals(mine[column]), column


def test_features_against_plain_python(population: pl.DataFrame, small_demo_dir: Path) -> None:
    """Downloads, mirrors, concentration and versions re-derived from the raw rows."""
    raw = pl.read_parquet(small_demo_dir / "file_downloads").filter(
        pl.col("timestamp").dt.date().is_between(DAYS.start, DAYS.end)
    )
    rows = raw.select(
        "project",
        date=pl.col("timestamp").dt.date(),
        country=pl.col("country_code"),
        version=pl.col("file").struct.field("version"),
        installer=pl.col("details").struct.field("installer").struct.field("name"),
    )
    busiest = rows.filter(pl.col("date") == DAYS.end)["project"].mode()[0]
    day = rows.filter(pl.col("project") == busiest, pl.col("date") == DAYS.end)
    assert day.height
    counts: dict[object, int] = {}
    for country in day["country"].to_list():
        counts[country] = counts.get(country, 0) + 1
    total = sum(counts.values())
    hhi = sum((n / total) ** 2 for n in counts.values())
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))[0][0]
    got = population.filter(
        (pl.col("project") == day["project"][0]) & (pl.col("date") == DAYS.end)
    ).row(0, named=True)
    assert got["downloads"] == total
    assert got["mirror_downloads"] == sum(1 for i in day["installer"] if i in MIRROR_CLIENTS)
    assert abs(got["country_hhi"] - hhi) < 1e-12 and got["top_country"] == top
    assert got["versions"] == day["version"].n_unique()


def test_peers_round_trip_and_answer_by_band(population: pl.DataFrame) -> None:
    built = peers.build(population, DAYS, source="demo", tier="clients")
    again = peers.Peers.from_frame(built.to_frame(), source="demo", days=DAYS, tier="clients")
    assert again.packages == built.packages == population["project"].n_unique()
    assert again.table.equals(built.table)
    medians = built.client_medians(min_days=5)
    if medians.height >= 3:  # the busiest client's share falls as volume grows (overall)
        m = medians["median"].to_list()
        assert m[0] > m[-1]
        assert sum(b <= a for a, b in itertools.pairwise(m)) >= 0.75 * (len(m) - 1)
    assert built.geography(2) is not None
    assert "packages of demo" in built.describe()


def test_baselines_are_cached_and_reopened_without_the_population(
    small_demo: DemoSource, cache: Cache
) -> None:
    first = baseline.load(small_demo, DAYS, cache=cache)
    assert first.peers is not None
    calls: list[DayRange] = []
    small_demo.population = lambda days, tier, progress=None: calls.append(days)  # type: ignore[assignment,method-assign,misc,return-value]
    again = baseline.load(small_demo, DAYS, cache=cache)
    assert again.peers is not None and calls == []
    assert again.peers.table.equals(first.peers.table)


def test_a_paid_source_never_buys_a_population_unasked(tmp_path: Path) -> None:
    from workbench.sources.bigquery import BigQuerySource

    class Refuses:
        def query(self, *_a: object, **_k: object) -> None:
            raise AssertionError("nothing may be queried")

    source = BigQuerySource(client=Refuses())  # type: ignore[arg-type]
    found = baseline.load(source, DAYS, cache=Cache(tmp_path))
    assert found.peers is None and "fixed limits apply" in found.note
    assert "workbench population" in found.note


def test_the_screen_finds_planted_campaigns_in_a_pypi_shaped_population() -> None:
    syn = synthetic.generate(20_000, 30, campaigns=40, seed=5)
    per_day = syn.frame.group_by("project").agg(pl.col("downloads").sum() / 30)["downloads"]
    assert 0.5 < per_day.median() < 3  # type: ignore[operator]
    ranked = screen.screen(syn.frame, syn.days, source="synthetic")
    top = set(ranked.table.head(60)["project"].to_list())
    found = top & set(syn.campaigns["project"].to_list())
    assert len(found) >= 36, len(found)
    assert ranked.table["score"].is_sorted(descending=True)


def test_the_screen_ranks_the_demo_scenarios_first(small_demo: DemoSource, cache: Cache) -> None:
    days = DayRange(SMALL.start, SMALL.end)
    pop = data.population(small_demo, days, cache=cache)
    firsts = data.first_releases(small_demo, cache=cache)
    ranked = screen.screen(pop.frame, days, first_releases=firsts, source="demo").table
    truth = small_demo.ground_truth()
    fake = set(truth.filter(pl.col("inorganic"))["project"].to_list())
    flagged = set(ranked.filter(pl.col("score") >= 0.4)["project"].to_list())
    assert len(fake & flagged) >= 0.8 * len(fake)
    organic = set(ranked["project"]) - set(truth["project"])
    assert len(flagged & organic) <= 1


def test_the_population_in_pieces_equals_the_whole(
    population: pl.DataFrame, small_demo: DemoSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every package's features computed a piece of the rows at a time (as on more rows
    than fit in memory) equal the features computed at once."""
    from workbench.sources.local import engine

    monkeypatch.setattr(engine, "piece_rows", lambda kind: 400_000)
    assert len(small_demo.cut("population", DAYS)) > 1
    pieced = small_demo.population(DAYS, "clients")
    assert pieced.sort("project", "date").equals(population.sort("project", "date"))
