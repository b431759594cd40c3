"""The cache works day by day: any range is assembled from the days held, only missing days
are fetched (one request per contiguous span), complete days are kept for good and days
still changing expire. Counted on the wire (BigQuery emulator) and on the local engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest

from tests import tally
from tests.conftest import SMALL
from tests.faultproxy import FaultyProxy, Loaded, routed
from workbench import config, data
from workbench.cache import Cache
from workbench.query import DayRange, RollupQuery
from workbench.schema import ROW_GROUP_ROWS
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.bigquery.faults import RetryPolicy
from workbench.sources.demo import DemoSource

TODAY = dt.date(2026, 11, 25)
FAST = RetryPolicy(timeout=5.0, deadline=2.0, initial=0.05, maximum=0.15)


def _windows(proxy: FaultyProxy) -> list[tuple[str, str]]:
    """The (start, end) window of every billed query job that went through the proxy."""
    out = []
    for seen in proxy.seen:
        if seen.kind != "job":
            continue
        params = seen.body["configuration"]["query"].get("queryParameters", [])
        values = {
            p["name"]: p["parameterValue"]["value"]
            for p in params
            if "value" in p["parameterValue"]
        }
        out.append((values["start"][:10], values["end"][:10]))
    return out


@pytest.fixture
def via(proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    yield from routed(proxy, monkeypatch, config.BIGQUERY_ENDPOINT_ENV)


@pytest.mark.emulator
def test_bigquery_fetches_only_the_missing_days(
    via: FaultyProxy, public: Loaded, tmp_path: Path
) -> None:
    cache = Cache(tmp_path)
    projects = list(public.projects)
    first = public.first
    month = RollupQuery.of(projects, first, first + dt.timedelta(days=5), today=TODAY)
    data.load(BigQuerySource(retry_policy=FAST), month, cache=cache, today=TODAY)
    assert len(_windows(via)) == 2  # one query per rollup kind

    via.inject(None)  # a range shifted by a day: exactly the one new day is queried
    shifted = RollupQuery.of(
        projects, first + dt.timedelta(days=1), first + dt.timedelta(days=6), today=TODAY
    )
    again = data.load(BigQuerySource(retry_policy=FAST), shifted, cache=cache, today=TODAY)
    day = str(first + dt.timedelta(days=6))
    after = str(first + dt.timedelta(days=7))
    assert _windows(via) == [(day, after), (day, after)]
    assert via.count("dry run") == 2  # priced first, the same one day
    fetched = {p.days for p in again.provenance.parts if not p.from_cache}
    assert fetched == {DayRange(first + dt.timedelta(days=6), first + dt.timedelta(days=6))}
    tally.count("cache reuse: a shifted range queries one day")

    via.inject(None)  # a narrower range: nothing is queried, not even a dry run
    narrow = RollupQuery.of(
        projects, first + dt.timedelta(days=1), first + dt.timedelta(days=5), today=TODAY
    )
    held = data.load(BigQuerySource(retry_policy=FAST), narrow, cache=cache, today=TODAY)
    assert via.count() == 0 and held.provenance.from_cache
    assert held.provenance.estimate is None
    tally.count("cache reuse: a narrower range queries nothing")

    # the narrow answer equals the same days of a fresh fetch
    fresh = data.load(
        BigQuerySource(retry_policy=FAST), narrow, cache=Cache(tmp_path / "fresh"), today=TODAY
    )
    assert _sorted(held.downloads.collect()).equals(_sorted(fresh.downloads.collect()))
    assert _sorted(held.fingerprints.collect()).equals(_sorted(fresh.fingerprints.collect()))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


class _Counting:
    """Wraps a source's ``fetch``/``fetch_files``/``population`` and records what was
    asked (an every-package fetch is written by the source into files)."""

    def __init__(self, source: DemoSource) -> None:
        self.calls: list[tuple[str, Any, DayRange]] = []
        fetch, fetch_files, population = source.fetch, source.fetch_files, source.population

        def counted_fetch(kinds: Any, query: RollupQuery, progress: Any = None) -> Any:
            self.calls.append(("fetch", query.projects, query.days))
            return fetch(kinds, query, progress)

        def counted_files(query: RollupQuery, targets: Any, progress: Any = None) -> None:
            self.calls.append(("fetch", query.projects, query.days))
            fetch_files(query, targets, progress)

        def counted_population(days: DayRange, tier: str, progress: Any = None) -> Any:
            self.calls.append(("population", None, days))
            return population(days, tier, progress)

        source.fetch = counted_fetch  # type: ignore[method-assign]
        source.fetch_files = counted_files  # type: ignore[method-assign]
        source.population = counted_population  # type: ignore[method-assign]


def test_local_ranges_are_assembled_from_the_days_held(
    small_demo: DemoSource, cache: Cache
) -> None:
    counting = _Counting(small_demo)
    names = small_demo.project_names()[:3]
    start = dt.date(2026, 9, 1)
    data.load(
        small_demo, RollupQuery.of(names[:2], start, start + dt.timedelta(days=9)), cache=cache
    )
    # more packages and more days: only the third package and the new days are computed
    wider = RollupQuery.of(names, start, start + dt.timedelta(days=14))
    got = data.load(small_demo, wider, cache=cache)
    assert counting.calls[1:] == [
        ("fetch", tuple(sorted(names[2:])), DayRange(start, start + dt.timedelta(days=14))),
        (
            "fetch",
            tuple(sorted(names[:2])),
            DayRange(start + dt.timedelta(days=10), start + dt.timedelta(days=14)),
        ),
    ]
    fresh = data.load(small_demo, wider, cache=Cache(cache.root / "fresh"))
    assert _sorted(got.downloads.collect()).equals(_sorted(fresh.downloads.collect()))


def test_a_package_is_served_from_an_every_package_entry(
    small_demo: DemoSource, cache: Cache
) -> None:
    counting = _Counting(small_demo)
    days = DayRange(dt.date(2026, 10, 1), dt.date(2026, 10, 7))
    everything = data.load(small_demo, RollupQuery(None, days), cache=cache)
    name = small_demo.project_names()[4]
    one = data.load(small_demo, RollupQuery((name,), days), cache=cache)
    assert len(counting.calls) == 1 and one.provenance.from_cache
    mine = everything.downloads.filter(pl.col("project") == name).collect()
    assert _sorted(one.downloads.collect()).equals(_sorted(mine))


def test_the_population_is_cached_day_by_day(small_demo: DemoSource, cache: Cache) -> None:
    counting = _Counting(small_demo)
    first = DayRange(dt.date(2026, 10, 1), dt.date(2026, 10, 10))
    data.population(small_demo, first, cache=cache)
    second = DayRange(dt.date(2026, 10, 5), dt.date(2026, 10, 15))
    got = data.population(small_demo, second, cache=cache)
    assert counting.calls == [
        ("population", None, first),
        ("population", None, DayRange(dt.date(2026, 10, 11), dt.date(2026, 10, 15))),
    ]
    assert got.frame["date"].min() == second.start and got.frame["date"].max() == second.end
    assert data.population_held(small_demo, second, "clients", cache) == second.each()


def test_days_still_changing_expire_complete_days_stay(
    small_demo_dir: Path, tmp_path: Path
) -> None:
    """A live source's yesterday and today are kept for the TTL only; older days for good."""

    class Live(DemoSource):
        live = True

    source = Live(SMALL, data_dir=small_demo_dir.parent)
    cache = Cache(tmp_path / "cache", ttl=dt.timedelta(seconds=0))
    end = source.config.end
    today = end  # the last day of the data is "today": it and yesterday are still changing
    query = RollupQuery(("x",), DayRange(end - dt.timedelta(days=4), end))
    counting = _Counting(source)
    data.load(source, query, cache=cache, today=today)
    data.load(source, query, cache=cache, today=today)  # TTL 0: only the open days again
    assert [c[2] for c in counting.calls] == [
        query.days,
        DayRange(end - dt.timedelta(days=1), end),
    ]
    lines = data.holdings(cache.entries())
    assert any("still changing" in line for line in lines)


def test_every_package_is_written_into_the_cache_and_scanned_not_held(
    small_demo: DemoSource, cache: Cache
) -> None:
    """An every-package load is written by the engine straight into the cache: the rollup
    is a scan of the cache's files (nothing held in memory), in row groups of the size the
    cache writes its own entries in, and no temporary file stays."""
    days = DayRange(dt.date(2026, 10, 1), dt.date(2026, 10, 21))
    rollup = data.load(small_demo, RollupQuery(None, days), cache=cache)
    plan = rollup.downloads.explain()
    assert "parquet" in plan.lower() and str(cache.root) in plan
    assert not rollup.provenance.from_cache and rollup.provenance.days_fetched == 21
    groups = [
        [footer.row_group(i).num_rows for i in range(footer.num_row_groups)]
        for footer in (pq.read_metadata(p) for p in cache.root.glob("*.parquet"))
    ]
    assert max(sum(sizes) for sizes in groups) > ROW_GROUP_ROWS  # the downloads rollup
    assert all(max(sizes) <= ROW_GROUP_ROWS for sizes in groups), groups
    assert sorted(p.name.split(".")[-1] for p in cache.root.iterdir() if p.is_file()) == [
        "parquet",
        "parquet",
    ]
    direct = small_demo.fetch(("downloads",), RollupQuery(None, days))["downloads"]
    assert rollup.downloads.select(pl.col("downloads").sum()).collect().item() == (
        direct["downloads"].sum()
    )


def test_impossible_counts_written_by_the_engine_keep_nothing(
    small_demo: DemoSource, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source that writes a file with a zero count: refused with one line, nothing kept
    (not the file, not a temporary one)."""
    from workbench.errors import DataSchemaError
    from workbench.schema import empty

    def zero_counts(query: RollupQuery, targets: Any, progress: Any = None) -> None:
        for kind, (path, footer) in targets.items():
            row = empty(kind).to_dicts() or [
                {**dict.fromkeys(empty(kind).columns), "project": "x", "date": days.start}
            ]
            frame = pl.DataFrame(row, schema=empty(kind).schema).with_columns(
                pl.lit(0, pl.Int64).alias("downloads")
            )
            table = frame.to_arrow().replace_schema_metadata(
                {k.encode(): v.encode() for k, v in footer.items()}
            )
            pq.write_table(table, path)

    days = DayRange(dt.date(2026, 10, 1), dt.date(2026, 10, 3))
    monkeypatch.setattr(small_demo, "fetch_files", zero_counts)
    with pytest.raises(DataSchemaError, match=r"impossible counts.*nothing was cached"):
        data.load(small_demo, RollupQuery(None, days), cache=cache)
    tally.count("untrusted data: impossible counts written by the engine")
    left = [p for p in cache.root.rglob("*") if p.is_file() and "locks" not in p.parts]
    assert left == []
