"""The BigQuery path, with the real client against a local emulator.

The same generated rows are loaded into the emulator and read from Parquet:
both sources must give the same rollups.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench import data
from workbench.cache import Cache
from workbench.errors import CostLimitError, NotConfirmedError, SourceError
from workbench.query import RollupQuery
from workbench.schema import DISTRIBUTION_METADATA, FILE_DOWNLOADS, bigquery_schema
from workbench.sources.base import CostEstimate
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.local import ParquetSource

from .conftest import SMALL
from .faultproxy import jsonable

DOWNLOADS = "test.pypi.file_downloads"
METADATA = "test.pypi.distribution_metadata"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def loaded(
    bq_endpoint: str, small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Three packages × 12 days of demo rows loaded into the emulator and a Parquet file."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=bq_endpoint),
    )
    client.create_dataset("pypi", exists_ok=True)
    table = bigquery.Table(DOWNLOADS, schema=bigquery_schema(FILE_DOWNLOADS))
    table.time_partitioning = bigquery.TimePartitioning(field="timestamp")
    table.clustering_fields = ["project"]
    client.create_table(table, exists_ok=True)
    client.create_table(
        bigquery.Table(METADATA, schema=bigquery_schema(DISTRIBUTION_METADATA)), exists_ok=True
    )

    raw = pl.scan_parquet(small_demo_dir / "file_downloads")
    names = raw.group_by("project").len().sort("len").collect()["project"].to_list()
    projects = [names[len(names) // 4], names[len(names) // 2], names[-8]]
    first_day = SMALL.start + dt.timedelta(days=20)
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC)
    rows = raw.filter(
        pl.col("project").is_in(projects)
        & (pl.col("timestamp") >= start)
        & (pl.col("timestamp") < start + dt.timedelta(days=12))
    ).collect()
    assert rows.height > 1000
    rows = rows.head(6000)
    out = tmp_path_factory.mktemp("bq") / "rows.parquet"
    rows.write_parquet(out)
    meta = pq.read_table(small_demo_dir / "distribution_metadata.parquet")
    meta_rows = [r for r in meta.to_pylist() if r["name"].replace("_", "-").lower() in projects]
    meta_path = out.parent / "meta.parquet"
    pq.write_table(pa.Table.from_pylist(meta_rows, schema=meta.schema), meta_path)
    for lo in range(0, rows.height, 2000):
        errors = client.insert_rows_json(
            DOWNLOADS, [jsonable(r) for r in rows.slice(lo, 2000).to_dicts()]
        )
        assert not errors, errors[:3]
    assert not client.insert_rows_json(METADATA, [jsonable(r) for r in meta_rows])
    last_day = first_day + dt.timedelta(days=11)
    query = RollupQuery.of([*projects, "not-there"], first_day, last_day, today=TODAY)
    return {
        "client": client,
        "parquet": out,
        "meta": meta_path,
        "query": query,
        "projects": tuple(sorted(projects)),
    }


def _bq(loaded: dict[str, Any], **kw: Any) -> BigQuerySource:
    return BigQuerySource(
        client=loaded["client"], downloads_table=DOWNLOADS, metadata_table=METADATA, **kw
    )


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.emulator
@pytest.mark.parametrize("kind", ["downloads", "fingerprints"])
def test_bigquery_and_parquet_give_the_same_rollup(loaded: dict[str, Any], kind: str) -> None:
    query = loaded["query"]
    remote = _bq(loaded).fetch((kind,), query)[kind]
    local = ParquetSource(loaded["parquet"]).fetch((kind,), query)[kind]
    assert remote.height > 100
    assert remote["downloads"].sum() == local["downloads"].sum()
    assert _sorted(remote).equals(_sorted(local.select(remote.columns)))


@pytest.mark.emulator
def test_release_metadata_matches(loaded: dict[str, Any]) -> None:
    projects = loaded["projects"]
    remote = _bq(loaded).releases(projects)
    local = ParquetSource(loaded["parquet"], metadata=loaded["meta"]).releases(projects)
    assert remote.height > 0
    assert _sorted(remote).equals(_sorted(local))


@pytest.mark.emulator
def test_load_through_the_cache_costs_nothing_the_second_time(
    loaded: dict[str, Any], tmp_path: Path
) -> None:
    seen: list[CostEstimate] = []
    source = _bq(loaded, confirm=lambda e: seen.append(e) or True)
    cache = Cache(tmp_path)
    first = data.load(source, loaded["query"], cache=cache, today=TODAY)
    assert len(seen) == 1 and seen[0].queries == 2
    assert first.missing == ("not-there",)
    second = data.load(
        _bq(loaded, confirm=lambda e: pytest.fail("asked again")),
        loaded["query"],
        cache=cache,
        today=TODAY,
    )
    assert second.provenance.from_cache
    assert _sorted(second.downloads.collect()).equals(_sorted(first.downloads.collect()))


@pytest.mark.emulator
def test_missing_table_is_a_clear_error(loaded: dict[str, Any]) -> None:
    source = BigQuerySource(client=loaded["client"], downloads_table="test.pypi.nope")
    with pytest.raises(SourceError, match="not found"):
        source.fetch(("downloads",), loaded["query"])


class _DryRunClient:
    """A stand-in client whose dry runs report a fixed size (the emulator reports 0)."""

    def __init__(self, size: int) -> None:
        self.size, self.ran = size, 0

    def query(self, sql: str, job_config: Any, **options: Any) -> Any:
        if not job_config.dry_run:
            self.ran += 1
            raise AssertionError("a query ran")
        return type("Job", (), {"total_bytes_processed": self.size})()


def test_queries_over_the_ceiling_are_refused_before_running(tmp_path: Path) -> None:
    client = _DryRunClient(3 * 2**40)
    source = BigQuerySource(client=client, max_bytes_billed=2**40)  # type: ignore[arg-type]
    query = RollupQuery.of("requests", "2026-10-01", "2026-10-30", today=TODAY)
    with pytest.raises(CostLimitError, match="above the ceiling"):
        data.load(source, query, cache=Cache(tmp_path), today=TODAY)
    assert client.ran == 0 and not list(tmp_path.glob("*.parquet"))


def test_declined_confirmation_runs_nothing(tmp_path: Path) -> None:
    client = _DryRunClient(2**30)
    source = BigQuerySource(client=client, confirm=lambda e: False)  # type: ignore[arg-type]
    query = RollupQuery.of("requests", "2026-10-01", "2026-10-30", today=TODAY)
    with pytest.raises(NotConfirmedError):
        data.load(source, query, cache=Cache(tmp_path), today=TODAY)
    assert client.ran == 0


def test_estimate_is_priced() -> None:
    estimate = CostEstimate(2**40, 2)
    assert estimate.usd == pytest.approx(6.25)
    assert "1.0 TiB" in str(estimate) and "2 queries" in str(estimate)


def test_missing_credentials_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    with pytest.raises(SourceError) as info:
        _ = BigQuerySource().client
    assert "credentials" in str(info.value) and "\n" not in str(info.value)


def test_release_metadata_queries_are_guarded_too() -> None:
    client = _DryRunClient(5 * 2**40)
    source = BigQuerySource(client=client, max_bytes_billed=2**40)  # type: ignore[arg-type]
    with pytest.raises(CostLimitError):
        source.releases(("requests",))
    with pytest.raises(CostLimitError):
        source.dependents(("requests",), dt.date(2026, 1, 1))
    assert client.ran == 0
