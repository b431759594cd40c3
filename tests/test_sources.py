"""Local Parquet sources: layouts, pushdown-friendly filters, bad files, unknown packages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from workbench import data
from workbench.cache import Cache
from workbench.errors import DataSchemaError, InvalidInputError
from workbench.query import RollupQuery
from workbench.sources import open_source
from workbench.sources.demo import DemoSource
from workbench.sources.local import ParquetSource

TODAY = dt.date(2026, 11, 25)


def _flatten(raw: pl.DataFrame, joiner: str) -> pl.DataFrame:
    """Flatten nested structs into ``a.b.c`` / ``a_b_c`` columns, as some exports do."""
    frame = raw
    while any(isinstance(t, pl.Struct) for t in frame.schema.values()):
        cols = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                cols += [
                    pl.col(name).struct.field(f.name).alias(f"{name}{joiner}{f.name}")
                    for f in dtype.fields
                ]
            else:
                cols.append(pl.col(name))
        frame = frame.select(cols)
    return frame


@pytest.fixture
def raw_rows(small_demo_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(small_demo_dir / "file_downloads").head(20_000)


@pytest.mark.parametrize("joiner", [".", "_"])
def test_flattened_exports_give_the_same_rollup_as_nested(
    raw_rows: pl.DataFrame, tmp_path: Path, joiner: str
) -> None:
    nested, flat = tmp_path / "nested.parquet", tmp_path / "flat.parquet"
    raw_rows.write_parquet(nested)
    _flatten(raw_rows, joiner).write_parquet(flat)
    projects = raw_rows["project"].unique().sort().to_list()[:3]
    days = raw_rows["timestamp"].dt.date()
    query = RollupQuery.of(projects, days.min(), days.max(), today=TODAY)
    for kind in ("downloads", "fingerprints"):
        a = ParquetSource(nested).fetch((kind,), query)[kind].sort(pl.all())
        b = ParquetSource(flat).fetch((kind,), query)[kind].sort(pl.all())
        assert a.height > 0 and a.equals(b)


def test_file_directory_and_glob_are_all_accepted(raw_rows: pl.DataFrame, tmp_path: Path) -> None:
    parts = tmp_path / "export"
    parts.mkdir()
    raw_rows.head(10_000).write_parquet(parts / "000.parquet")
    raw_rows.tail(10_000).write_parquet(parts / "001.parquet")
    sizes = {len(ParquetSource(p)._resolved.downloads) for p in (parts, f"{parts}/*.parquet")}
    assert sizes == {2}
    assert len(ParquetSource(parts / "000.parquet")._resolved.downloads) == 1


def test_pep503_names_find_the_project(small_demo: DemoSource, cache: Cache) -> None:
    odd = [
        r
        for r in pq.read_table(
            small_demo.ensure() / "distribution_metadata.parquet", columns=["name"]
        )
        .column("name")
        .to_pylist()
        if "_" in r or r[0].isupper()
    ]
    assert odd, "the demo should have display names that differ from the normalised name"
    typed = odd[0].upper() if "_" in odd[0] else odd[0]
    query = RollupQuery.of(typed, "2026-09-01", "2026-10-31")
    rollup = data.load(small_demo, query, cache=cache)
    assert rollup.missing == ()
    assert rollup.totals()["downloads"].sum() > 0


def test_unknown_package_is_an_empty_answer_with_its_name(
    small_demo: DemoSource, cache: Cache
) -> None:
    query = RollupQuery.of(["no-such-package"], "2026-09-01", "2026-09-30")
    rollup = data.load(small_demo, query, cache=cache)
    assert rollup.missing == ("no-such-package",)
    assert rollup.downloads.collect().height == 0


def _cache_snapshot(cache: Cache) -> dict[str, bytes]:
    return (
        {p.name: p.read_bytes() for p in cache.root.glob("*.parquet")}
        if cache.root.exists()
        else {}
    )


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"a": [1]}), "missing timestamp"),
        (pl.DataFrame({"timestamp": ["2026-01-01"], "project": ["x"]}), "missing file.version"),
    ],
)
def test_wrong_schema_is_a_clear_error_and_the_cache_is_untouched(
    frame: pl.DataFrame, message: str, tmp_path: Path, small_demo: DemoSource, cache: Cache
) -> None:
    data.load(
        small_demo,
        RollupQuery.of(small_demo.project_names()[:1], "2026-10-01", "2026-10-02"),
        cache=cache,
    )
    before = _cache_snapshot(cache)
    path = tmp_path / "bad.parquet"
    frame.write_parquet(path)
    with pytest.raises(DataSchemaError, match=message) as info:
        data.load(ParquetSource(path), RollupQuery.of("x", "2026-01-01", "2026-01-02"), cache=cache)
    assert "\n" not in str(info.value)
    assert _cache_snapshot(cache) == before


def test_wrong_types_are_named(raw_rows: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    raw_rows.with_columns(pl.col("timestamp").cast(pl.String)).write_parquet(path)
    with pytest.raises(DataSchemaError, match="timestamp is text"):
        ParquetSource(path).fetch(("downloads",), RollupQuery.of("x", "2026-01-01", "2026-01-02"))


def test_truncated_and_empty_files_are_refused_up_front(
    raw_rows: pl.DataFrame, tmp_path: Path
) -> None:
    good = tmp_path / "good.parquet"
    raw_rows.write_parquet(good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(DataSchemaError, match=r"cut\.parquet is not a readable Parquet file"):
        ParquetSource(cut)
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(DataSchemaError, match="not a readable"):
        ParquetSource(empty)


def test_missing_paths_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        ParquetSource(tmp_path / "absent")
    with pytest.raises(InvalidInputError, match="no Parquet files"):
        ParquetSource(tmp_path)
    with pytest.raises(InvalidInputError, match="demo seed"):
        open_source("demo:abc")


def test_naive_timestamps_are_read_as_utc(raw_rows: pl.DataFrame, tmp_path: Path) -> None:
    naive = tmp_path / "naive.parquet"
    raw_rows.with_columns(pl.col("timestamp").dt.replace_time_zone(None)).write_parquet(naive)
    aware = tmp_path / "aware.parquet"
    raw_rows.write_parquet(aware)
    day = raw_rows["timestamp"].dt.date().min()
    query = RollupQuery.of(raw_rows["project"][0], day, day, today=TODAY)
    a = ParquetSource(naive).fetch(("downloads",), query)["downloads"].sort(pl.all())
    b = ParquetSource(aware).fetch(("downloads",), query)["downloads"].sort(pl.all())
    assert a.equals(b)


def test_release_metadata_and_dependents(small_demo: DemoSource, cache: Cache) -> None:
    truth = small_demo.ground_truth().filter(pl.col("scenario") == "dependency_surge")
    row = truth.row(0, named=True)
    deps = data.dependents(small_demo, (row["project"],), dt.date(2020, 1, 1), cache=cache)
    assert row["related"] in deps["dependent"].to_list()
    first = deps.filter(pl.col("dependent") == row["related"])["upload_time"].min()
    assert first is not None and first.date() == row["start"]
    rel = data.releases(small_demo, (row["related"],), cache=cache)
    assert rel.height >= 2 and rel["upload_time"].is_sorted()
