"""The local engine (DuckDB) against plain-Python references and against the previous
Polars path (``tests/reference_rollup.py``), on rows built to hit the edge cases."""

from __future__ import annotations

import datetime as dt
import errno
import itertools
import os
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest

from tests import reference_rollup as reference
from tests.conftest import column_chunks
from workbench import data
from workbench.cache import Cache
from workbench.errors import CacheWriteWarning
from workbench.query import DayRange, RollupQuery
from workbench.schema import FINGERPRINT_SEPARATOR
from workbench.sources.local import ParquetSource, engine, files
from workbench.sources.local import sql as local_sql

DAY = dt.date(2026, 9, 1)
FIELDS = tuple(reference.fingerprint_columns())
# flat canonical name -> (struct, field...) of the BigQuery layout
NESTED = {
    "timestamp": ("timestamp",),
    "project": ("project",),
    "version": ("file", "version"),
    "file_type": ("file", "type"),
    "installer": ("details", "installer", "name"),
    "installer_version": ("details", "installer", "version"),
    "python_full": ("details", "python"),
    "implementation": ("details", "implementation", "name"),
    "system": ("details", "system", "name"),
    "system_release": ("details", "system", "release"),
    "distro": ("details", "distro", "name"),
    "distro_version": ("details", "distro", "version"),
    "cpu": ("details", "cpu"),
    "country": ("country_code",),
    "ci_raw": ("details", "ci"),
}


def _rows(
    clients_per_day: dict[tuple[str, int], int],
    downloads: Callable[[int], int] = lambda i: 1 + i % 7,
) -> pl.DataFrame:
    """Canonical rows: for each (project, day offset), clients 0..n-1, client i downloading
    ``downloads(i)`` times (by default ``1 + i % 7``: many ties), some fields null."""
    out: list[dict[str, object]] = []
    for (project, offset), clients in clients_per_day.items():
        moment = dt.datetime.combine(DAY + dt.timedelta(days=offset), dt.time(12), tzinfo=dt.UTC)
        for i in range(clients):
            row: dict[str, object] = dict.fromkeys(NESTED, None)
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
            out += [row] * downloads(i)
    return pl.DataFrame(out, schema_overrides={"timestamp": pl.Datetime("us", "UTC")})


def _flat_file(rows: pl.DataFrame, path: Path, **kw: object) -> Path:
    """Write canonical rows in BigQuery's flattened export layout (``a.b.c`` columns)."""
    renamed = rows.rename({name: ".".join(parts) for name, parts in NESTED.items()})
    pq.write_table(renamed.to_arrow(), path, **kw)  # type: ignore[arg-type]
    return path


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


def _engine_top(rows: pl.DataFrame, tmp_path: Path, top_k: int, days: int) -> set[Any]:
    """The engine's fingerprint rollup of ``rows`` (written as a flattened file) over the
    first ``days`` days from :data:`DAY`."""
    path = _flat_file(rows, tmp_path / "rows.parquet")
    window = {
        "start": dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC),
        "end": dt.datetime.combine(DAY + dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC),
    }
    with engine.connect(files.layouts({path: files.footer_of(path)}, str(path))) as con:
        sql = local_sql.fingerprints(projects=False, top_k=top_k)
        return set(engine.run(con, sql, window, "the fingerprints").iter_rows())


@pytest.mark.parametrize("top_k", [1, 5, 40])
def test_fingerprints_keep_the_top_k_per_day_with_ties_broken_by_text(
    top_k: int, tmp_path: Path
) -> None:
    rows = _rows({("a", 0): 3, ("a", 1): 60, ("b", 0): 40, ("b", 2): 41})
    assert _engine_top(rows, tmp_path, top_k, days=4) == _reference_top(rows, top_k)


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_fingerprints_cut_at_any_shape_of_ties(seed: int, tmp_path: Path) -> None:
    """Days of random sizes around the cut (fewer clients than ``top_k``, exactly as many,
    more), counts from a long tail (ties at every count, the cut often among them)."""
    rng = random.Random(seed)
    top_k = rng.choice([2, 4, 8])
    days = {
        (p, d): rng.choice([1, top_k, top_k + 1, 3 * top_k, 10 * top_k])
        for p in "abc"
        for d in range(3)
    }
    counts = [min(int(rng.paretovariate(1.2)), 9) for _ in range(max(days.values()))]
    rows = _rows(days, downloads=lambda i: counts[i])
    assert _engine_top(rows, tmp_path, top_k, days=3) == _reference_top(rows, top_k)


def test_downloads_rollup_counts_every_row_once(tmp_path: Path) -> None:
    rows = _rows({("a", 0): 30, ("b", 1): 11})
    source = ParquetSource(_flat_file(rows, tmp_path / "rows.parquet"))
    query = RollupQuery(("a",), DayRange(DAY, DAY + dt.timedelta(days=3)))
    got = source.fetch(("downloads",), query)["downloads"]
    assert got["downloads"].sum() == rows.filter(pl.col("project") == "a").height
    assert set(got["ci"].to_list()) == {True, False}  # NULL counts as not CI
    assert got["project"].unique().to_list() == ["a"]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def _previous_path(location: Path, query: RollupQuery) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rollups as the previous (Polars) engine computed them, one lazy pass."""
    rows = reference.canonical(pl.scan_parquet(location)).filter(
        pl.col("project").is_not_null() & pl.col("timestamp").is_not_null()
    )
    rows = rows.with_columns(pl.col("timestamp").dt.cast_time_unit("us"))
    downloads, fingerprints = pl.collect_all(
        [reference.downloads_rollup(rows, query), reference.fingerprints_rollup(rows, query)]
    )
    return downloads, fingerprints


#: Rows a piece may hold when the tests make the engine cut every package's answer.
SMALL_PIECES = 50_000


@pytest.mark.parametrize(
    ("layout", "statistics", "cut"),
    [
        ("clustered", True, None),
        ("clustered", True, "project"),
        ("time-ordered", True, "timestamp"),
        ("runs", True, "project"),
        ("shuffled", True, None),
        ("clustered", False, None),
        ("flattened", True, "project"),
        ("plain", True, None),
    ],
)
def test_the_duckdb_engine_equals_the_previous_polars_path(
    small_demo_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    layout: str,
    statistics: bool,
    cut: str | None,
) -> None:
    """Projects spanning files, shuffled rows, files without statistics, the flattened
    layout, files each sorted by project on their own (runs: a cut rereads a row group of
    every file), text stored as plain strings rather than a dictionary (DuckDB decodes
    them, and runs our expressions on them, apart), the answer cut into pieces by project
    or by day: the DuckDB rollups equal the previous engine's exactly."""
    raw = pl.read_parquet(small_demo_dir / "file_downloads").head(150_000)
    if layout == "shuffled":
        raw = raw.sample(fraction=1.0, shuffle=True, seed=1)
    if layout == "time-ordered":
        raw = raw.sort("timestamp")
    if cut or layout == "shuffled" or not statistics:  # small budget; nothing to cut by
        # runs: the whole 7.5 budgets, so cuts that reread most rows once are worth it
        budget = SMALL_PIECES * 2 // 5 if layout == "runs" else SMALL_PIECES
        monkeypatch.setattr(engine, "piece_rows", lambda kind: budget)
    (tmp_path / "rows").mkdir()
    for i, part in enumerate(raw.iter_slices(40_000)):
        target = tmp_path / "rows" / f"part-{i}.parquet"
        if layout == "runs":
            part = part.sort("project")
        if layout == "flattened":
            flat = part.unnest("file", "details", separator=".")
            flat = flat.unnest(
                "details.installer",
                "details.implementation",
                "details.distro",
                "details.system",
                separator=".",
            ).unnest("details.distro.libc", separator=".")
            pq.write_table(flat.to_arrow(), target, row_group_size=7_000)
        else:
            pq.write_table(
                part.to_arrow(),
                target,
                row_group_size=7_000,
                write_statistics=statistics,
                use_dictionary=layout != "plain",
            )
            if layout == "plain":
                for chunk in column_chunks(target):
                    if chunk.path_in_schema in ("project", "details.python"):
                        assert "RLE_DICTIONARY" not in chunk.encodings
    source = ParquetSource(tmp_path / "rows")
    day = raw["timestamp"].dt.date()
    every = RollupQuery(None, DayRange(day.min(), day.max()))  # type: ignore[arg-type]
    for kind in ("downloads", "fingerprints"):
        parts = source._parts(kind, every, {})
        assert (len(parts) > 1) == (cut is not None)
        assert all(f"AND {cut} " in sql for sql, _ in parts if cut)
        named = {"project": "piece_project_low", "timestamp": "piece_time_low"}
        assert all(named[cut] in p for _, p in parts[1:] if cut)
    for projects in (None, tuple(sorted(raw["project"].unique().to_list())[:3])):
        query = RollupQuery(projects, DayRange(day.min(), day.max()))  # type: ignore[arg-type]
        got = source.fetch(("downloads", "fingerprints"), query)
        downloads, fingerprints = _previous_path(tmp_path / "rows", query)
        if projects is None:
            assert got["downloads"]["downloads"].sum() == raw.height
        assert _sorted(got["downloads"]).equals(_sorted(downloads))
        assert _sorted(got["fingerprints"]).equals(_sorted(fingerprints))
    _assert_streamed_equal(source, query, tmp_path / "cache")


def _assert_streamed_equal(source: ParquetSource, query: RollupQuery, root: Path) -> None:
    """Every package's rollups written by DuckDB straight into the cache (and scanned back,
    fresh and then from the cache) equal the rollups answered into memory."""
    every = RollupQuery(None, query.days)
    answered = source.fetch(("downloads", "fingerprints"), every)
    for _ in range(2):  # written now, then read from the cache
        rollup = data.load(source, every, cache=Cache(root))
        assert isinstance(rollup.downloads, pl.LazyFrame)
        assert _sorted(rollup.downloads.collect()).equals(_sorted(answered["downloads"]))
        assert _sorted(rollup.fingerprints.collect()).equals(_sorted(answered["fingerprints"]))
    assert rollup.provenance.from_cache
    assert sum(p.rows for p in rollup.provenance.parts if p.kind == "downloads") == (
        answered["downloads"].height
    )


def _time_ordered(
    small_demo_dir: Path, root: Path, by: str = "timestamp"
) -> tuple[ParquetSource, RollupQuery]:
    """150,000 demo rows sorted by ``by``, in files of 40,000 rows and 7,000-row groups, and
    every package over their days."""
    raw = pl.read_parquet(small_demo_dir / "file_downloads").head(150_000).sort(by)
    root.mkdir()
    for i, part in enumerate(raw.iter_slices(40_000)):
        pq.write_table(part.to_arrow(), root / f"part-{i}.parquet", row_group_size=7_000)
    day = pl.col("timestamp").dt.date()
    first, last = raw.select(day.min().alias("first"), day.max().alias("last")).row(0)
    return ParquetSource(root), RollupQuery(None, DayRange(first, last))


def test_rows_in_time_order_too_many_at_once_are_written_a_span_at_a_time(
    small_demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows cut by day are written span by span, each span's rollups a file of the cache
    as DuckDB computes them (not gathered in a temporary table): every day once, each span
    a piece of each rollup, the same answer. Rows cut by project stay one span."""
    monkeypatch.setattr(engine, "piece_rows", lambda kind: SMALL_PIECES)
    source, every = _time_ordered(small_demo_dir, tmp_path / "rows")
    first, last = every.days.start, every.days.end
    spans = source.file_spans(every.days)
    assert len(spans) > 2 and (spans[0].start, spans[-1].end) == (first, last)
    assert all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(spans))
    assert all(len(source.cut(k, s)) == 1 for s in spans for k in ("downloads", "fingerprints"))
    answered = source.fetch(("downloads", "fingerprints"), every)
    rollup = data.load(source, every, cache=Cache(tmp_path / "cache"))
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 2 * len(spans)
    assert _sorted(rollup.downloads.collect()).equals(_sorted(answered["downloads"]))
    assert _sorted(rollup.fingerprints.collect()).equals(_sorted(answered["fingerprints"]))
    by_project, _ = _time_ordered(small_demo_dir, tmp_path / "by-project", by="project")
    assert len(by_project.cut("fingerprints", every.days)) > 1
    assert by_project.file_spans(every.days) == [every.days]


def test_a_span_that_cannot_be_written_leaves_the_rest_to_memory(
    small_demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache fails while the second span is written: the first span stays cached,
    the rest is answered from memory (one warning), and the answer is whole."""
    monkeypatch.setattr(engine, "piece_rows", lambda kind: SMALL_PIECES)
    source, every = _time_ordered(small_demo_dir, tmp_path / "rows")
    answered = source.fetch(("downloads", "fingerprints"), every)
    real, calls = engine.write, []

    def failing_second_span(con: Any, parts: Any, target: Any, *rest: Any) -> None:
        calls.append(target[0])
        if len(calls) > 2:  # both kinds of the first span were written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(con, parts, target, *rest)

    monkeypatch.setattr(engine, "write", failing_second_span)
    with pytest.warns(CacheWriteWarning, match="could not be written"):
        rollup = data.load(source, every, cache=Cache(tmp_path / "cache"))
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 2  # the first span's
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and ".tmp" in p.name]
    assert _sorted(rollup.downloads.collect()).equals(_sorted(answered["downloads"]))
    assert _sorted(rollup.fingerprints.collect()).equals(_sorted(answered["fingerprints"]))


def test_the_demo_dataset_equals_the_previous_path(small_demo_dir: Path, tmp_path: Path) -> None:
    source = ParquetSource(small_demo_dir)
    day = pl.scan_parquet(small_demo_dir / "file_downloads").select(
        first=pl.col("timestamp").min().dt.date(), last=pl.col("timestamp").max().dt.date()
    )
    first, last = day.collect().row(0)
    query = RollupQuery(None, DayRange(first, last))
    got = source.fetch(("downloads", "fingerprints"), query)
    downloads, fingerprints = _previous_path(small_demo_dir / "file_downloads", query)
    assert _sorted(got["downloads"]).equals(_sorted(downloads))
    assert _sorted(got["fingerprints"]).equals(_sorted(fingerprints))
    _assert_streamed_equal(source, query, tmp_path / "cache")


def test_daily_exports_cut_by_day_and_project_equal_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files of one export a day, each clustered by project, cut within days by project
    (each piece bounded on both columns): the same rollups as the whole."""
    clients = {(f"p{i}", day): 5 + 3 * i + day for i in range(6) for day in range(3)}
    rows = _rows(clients).sort("timestamp", "project")
    (tmp_path / "rows").mkdir()
    for (day,), part in rows.group_by(pl.col("timestamp").dt.date()):
        _flat_file(part, tmp_path / "rows" / f"{day}.parquet", row_group_size=40)
    source = ParquetSource(tmp_path / "rows")
    every = RollupQuery(None, DayRange(DAY, DAY + dt.timedelta(days=2)))
    whole = source.fetch(("downloads", "fingerprints"), every)
    monkeypatch.setattr(engine, "piece_rows", lambda kind: 120)
    cut = source.cut("fingerprints", every.days)
    assert any(all(p.projects) or all(p.times) for p in cut) and len(cut) > 3
    assert any(any(p.projects) and any(p.times) for p in cut)
    pieced = source.fetch(("downloads", "fingerprints"), every)
    for kind in ("downloads", "fingerprints"):
        assert _sorted(pieced[kind]).equals(_sorted(whole[kind]))
    _assert_streamed_equal(source, every, tmp_path / "cache")
