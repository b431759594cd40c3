"""The Polars rollups against plain-Python references on rows built to hit the edge cases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from tests.conftest import SMALL
from workbench import ingest
from workbench.errors import DataSchemaError
from workbench.query import DayRange, RollupQuery
from workbench.rollup import downloads_rollup, fingerprint_columns, fingerprints_rollup
from workbench.schema import FINGERPRINT_SEPARATOR
from workbench.sources.parquet import ParquetSource

DAY = dt.date(2026, 9, 1)
FIELDS = tuple(fingerprint_columns())


def _rows(clients_per_day: dict[tuple[str, int], int]) -> pl.DataFrame:
    """Canonical rows: for each (project, day offset), clients 0..n-1, client i downloading
    ``1 + i % 7`` times (many ties), some fields null."""
    out: list[dict[str, object]] = []
    for (project, offset), clients in clients_per_day.items():
        moment = dt.datetime.combine(DAY + dt.timedelta(days=offset), dt.time(12), tzinfo=dt.UTC)
        for i in range(clients):
            row: dict[str, object] = dict.fromkeys(FIELDS, None)
            row.update(
                timestamp=moment,
                project=project,
                version="1.0",
                file_type="bdist_wheel",
                installer="pip" if i % 3 else "uv",
                installer_version=f"24.{i}",
                python_full="3.12.1",
                system="Linux",
                country="US" if i % 5 else None,
                ci_raw=None if i % 4 else True,
            )
            out += [row] * (1 + i % 7)
    return pl.DataFrame(out, schema_overrides={"timestamp": pl.Datetime("us", "UTC")})


def _reference_top(rows: pl.DataFrame, top_k: int) -> set[tuple[object, ...]]:
    """Top ``top_k`` fingerprints per project-day: most downloads first, ties by text."""
    counts: Counter[tuple[str, dt.date, str]] = Counter()
    for r in rows.iter_rows(named=True):
        text = FINGERPRINT_SEPARATOR.join("" if r[f] is None else str(r[f]) for f in FIELDS)
        counts[(r["project"], r["timestamp"].date(), text)] += 1
    days: dict[tuple[str, dt.date], list[tuple[str, int]]] = {}
    for (project, day, text), n in counts.items():
        days.setdefault((project, day), []).append((text, n))
    out = set()
    for (project, day), clients in days.items():
        ranked = sorted(clients, key=lambda c: (-c[1], c[0]))[:top_k]
        out |= {(project, day, text, n, len(clients)) for text, n in ranked}
    return out


@pytest.mark.parametrize("top_k", [1, 5, 40])
def test_fingerprints_keep_the_top_k_per_day_with_ties_broken_by_text(top_k: int) -> None:
    rows = _rows({("a", 0): 3, ("a", 1): 60, ("b", 0): 40, ("b", 2): 41})
    query = RollupQuery(None, DayRange(DAY, DAY + dt.timedelta(days=3)))
    got = fingerprints_rollup(rows.lazy(), query, top_k=top_k).collect()
    assert set(got.iter_rows()) == _reference_top(rows, top_k)


def test_downloads_rollup_counts_every_row_once() -> None:
    rows = _rows({("a", 0): 30, ("b", 1): 11})
    query = RollupQuery(("a",), DayRange(DAY, DAY + dt.timedelta(days=3)))
    got = downloads_rollup(rows.lazy(), query).collect()
    assert got["downloads"].sum() == rows.filter(pl.col("project") == "a").height
    assert set(got["ci"].to_list()) == {True, False}  # NULL counts as not CI
    assert got["project"].unique().to_list() == ["a"]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.parametrize(
    ("layout", "statistics"),
    [("clustered", True), ("shuffled", True), ("clustered", False)],
)
def test_chunked_ingest_equals_one_pass(
    small_demo_dir: Path, tmp_path: Path, layout: str, statistics: bool
) -> None:
    """Chunks far smaller than a project-day, projects spanning files, shuffled rows, files
    without statistics: the bounded-memory rollups equal the single lazy pass exactly."""
    raw = pl.read_parquet(small_demo_dir / "file_downloads").head(150_000)
    if layout == "shuffled":
        raw = raw.sample(fraction=1.0, shuffle=True, seed=1)
    (tmp_path / "rows").mkdir()
    for i, part in enumerate(raw.iter_slices(40_000)):
        pq.write_table(
            part.to_arrow(),
            tmp_path / "rows" / f"part-{i}.parquet",
            row_group_size=7_000,
            write_statistics=statistics,
        )
    source = ParquetSource(tmp_path / "rows")
    day = raw["timestamp"].dt.date()
    query = RollupQuery(None, DayRange(day.min(), day.max()))  # type: ignore[arg-type]
    chunks = ingest.plan(source._downloads, query, chunk_rows=15_000)
    assert len(chunks) >= 8
    assert ingest.clustered(chunks) == (layout == "clustered" and statistics)
    downloads, fingerprints = ingest.rollups(chunks, source._read_chunk, query, chunk_rows=15_000)
    assert downloads["downloads"].sum() == raw.height
    one_pass = pl.collect_all(
        [source.rollup("downloads", query), source.rollup("fingerprints", query)]
    )
    assert _sorted(downloads).equals(_sorted(one_pass[0]))
    assert _sorted(fingerprints).equals(_sorted(one_pass[1]))


def test_row_groups_outside_the_question_are_not_read(small_demo_dir: Path) -> None:
    source = ParquetSource(small_demo_dir)
    every = RollupQuery(None, DayRange(SMALL.start, SMALL.end))
    one = RollupQuery(("nimbus",), DayRange(SMALL.end, SMALL.end))
    whole = sum(c.rows for c in ingest.plan(source._downloads, every))
    some = sum(c.rows for c in ingest.plan(source._downloads, one))
    assert (
        whole
        == pl.scan_parquet(small_demo_dir / "file_downloads").select(pl.len()).collect().item()
    )
    assert 0 < some <= 200_000 < whole  # one or two of the 100k-row groups


def test_a_rollup_in_a_child_process_equals_the_one_in_process(small_demo_dir: Path) -> None:
    source = ParquetSource(small_demo_dir)
    query = RollupQuery(None, DayRange(SMALL.end - dt.timedelta(days=9), SMALL.end))
    here = source.compute(["downloads", "fingerprints"], query, isolate=False)
    steps: list[str] = []
    there = source.compute(["downloads", "fingerprints"], query, steps.append, isolate=True)
    assert steps and steps[-1].startswith("read ")  # the child's progress reached us
    for kind in ("downloads", "fingerprints"):
        assert _sorted(there[kind]).equals(_sorted(here[kind]))


def test_a_failing_child_is_one_clear_line(small_demo_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "rows.parquet"
    pl.read_parquet(small_demo_dir / "file_downloads").head(1000).write_parquet(copy)
    source = ParquetSource(copy)
    copy.write_bytes(b"PAR1 not parquet any more")  # changed under our feet
    query = RollupQuery(None, DayRange(SMALL.start, SMALL.end))
    with pytest.raises(DataSchemaError) as info:
        source.compute(["downloads"], query, isolate=True)
    assert "\n" not in str(info.value) and "rows.parquet" in str(info.value)
