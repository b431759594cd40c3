"""Ingest: raw Parquet in the BigQuery layout → both rollups, against DuckDB, same run.

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--sizes 1M,10M,100M]
[--layouts clustered,unclustered] [--engines workbench,duckdb] [--data-dir DIR]``.

For each size and layout (see ``datasets.py``), each engine runs in its own fresh process
(so its peak memory is its own):

* **workbench**: ``data.load`` on a ``ParquetSource`` for every package and the whole range —
  the product's path (DuckDB over the canonical view of the files writes the downloads
  rollup and the top-100 fingerprint rollup straight into a fresh day-span cache, and the
  answer is a scan of those files, counted lazily);
* **duckdb**: the same two aggregations in DuckDB SQL on the same files, results
  materialised in memory (``to_arrow_table``), on the same number of threads.

Before each engine the files are read once, so both start from the page cache. Small
datasets run several times, the engines in turn, and each engine's median time and median
peak are shown (``--repeat``).

Printed: seconds, raw rows per second, peak resident memory, and the time ratio
workbench / duckdb (≤ 1.0 means we are at least as fast; with four runs or more, beside it
the middle half of the ratios of runs made back to back and of each engine's peaks), and
per layout how rows/s holds up with size (the linearity: rows/s at the largest size over
rows/s at the one before).
Both answers are checked to have the same number of rollup rows, the same download total
and the same fingerprint rows. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import datasets

from workbench.schema import FINGERPRINT_SEPARATOR, FINGERPRINT_TOP_K

DUCKDB_DOWNLOADS = """
SELECT project, CAST(timestamp AS DATE) AS date, file.version AS version,
  file.type AS file_type, details.installer.name AS installer,
  NULLIF(regexp_extract(details.python, '^([0-9]+\\.[0-9]+)', 1), '') AS python,
  details.system.name AS system, country_code AS country,
  coalesce(details.ci, false) AS ci, count(*) AS downloads
FROM read_parquet($files)
WHERE timestamp >= $start AND timestamp < $end
GROUP BY ALL
"""

DUCKDB_FINGERPRINTS = f"""
WITH per_client AS (
  SELECT project, CAST(timestamp AS DATE) AS date,
    concat_ws('{FINGERPRINT_SEPARATOR}',
      coalesce(details.installer.name, ''), coalesce(details.installer.version, ''),
      coalesce(details.python, ''), coalesce(details.implementation.name, ''),
      coalesce(details.system.name, ''), coalesce(details.system.release, ''),
      coalesce(details.distro.name, ''), coalesce(details.distro.version, ''),
      coalesce(details.cpu, ''), coalesce(country_code, '')) AS fingerprint,
    count(*) AS downloads
  FROM read_parquet($files)
  WHERE timestamp >= $start AND timestamp < $end
  GROUP BY ALL
)
SELECT project, date, fingerprint, downloads,
  count(*) OVER (PARTITION BY project, date) AS fingerprints
FROM per_client
QUALIFY row_number() OVER (PARTITION BY project, date
  ORDER BY downloads DESC, fingerprint) <= {FINGERPRINT_TOP_K}
"""


def _window(path: Path) -> tuple[str, str]:
    manifest = json.loads((path / "manifest.json").read_text())
    return manifest["start"], manifest["end"]


def _workbench(path: Path, span_days: int = 0) -> dict[str, float | str]:
    import datetime as dt

    import polars as pl

    from workbench import data
    from workbench.cache import Cache
    from workbench.query import DayRange, RollupQuery
    from workbench.sources.local import ParquetSource

    start, end = _window(path)
    query = RollupQuery(None, DayRange.parse(start, end))
    with tempfile.TemporaryDirectory() as tmp:
        source, cache = ParquetSource(path), Cache(Path(tmp))
        first = query.days.start
        while span_days and first <= query.days.end:  # the range a few spans at a time
            last = min(first + dt.timedelta(days=span_days - 1), query.days.end)
            data.load(source, RollupQuery(None, DayRange(first, last)), cache=cache)
            first = last + dt.timedelta(days=1)
        rollup = data.load(source, query, cache=cache)  # then whole (from the cache if spanned)
        # the rollups are scans of the cache's files: counted there, as a user would
        counts = rollup.downloads.select(pl.len(), pl.col("downloads").sum()).collect()
        return {
            "rollup_rows": int(counts.item(0, 0)),
            "total": int(counts.item(0, 1)),
            "fingerprint_rows": int(rollup.fingerprints.select(pl.len()).collect().item()),
        }


def _pieces(path: Path) -> str:
    """How the engine cuts the whole range of each rollup (each piece's aggregation fits in
    memory), and into how many spans of days, each written as a cache file per rollup (rows
    in time order): reported after the timing, since it is not part of the work."""
    from workbench.query import DayRange
    from workbench.sources.local.parquet import ParquetSource

    source, days = ParquetSource(path), DayRange.parse(*_window(path))
    cut = "/".join(str(len(source.cut(kind, days))) for kind in ("downloads", "fingerprints"))
    spans = len(source.file_spans(days))
    return cut + (f", written in {spans} spans" if spans > 1 else "")


def _duckdb(path: Path) -> dict[str, float]:
    import datetime as dt

    import duckdb
    import pyarrow.compute as pc

    start, end = _window(path)
    files = [str(p) for p in sorted((path / "file_downloads").rglob("*.parquet"))]
    params = {
        "files": files,
        "start": dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC),
        "end": dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC) + dt.timedelta(days=1),
    }
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    downloads = con.sql(DUCKDB_DOWNLOADS, params=params).to_arrow_table()
    fingerprints = con.sql(DUCKDB_FINGERPRINTS, params=params).to_arrow_table()
    return {
        "rollup_rows": downloads.num_rows,
        "total": int(pc.sum(downloads["downloads"]).as_py()),
        "fingerprint_rows": fingerprints.num_rows,
    }


def _worker(engine: str, path: Path, span_days: int) -> None:
    # Imports first, outside the timing, for both engines (the work is what is measured).
    import duckdb  # noqa: F401
    import pyarrow.compute  # noqa: F401

    from workbench import data  # noqa: F401
    from workbench.sources.local import ParquetSource  # noqa: F401

    began = time.perf_counter()
    result = _workbench(path, span_days) if engine == "workbench" else _duckdb(path)
    result["seconds"] = time.perf_counter() - began
    result["peak_mib"] = datasets.peak_mib()
    if engine == "workbench":
        result["pieces"] = _pieces(path)
    print(json.dumps(result))


def _warm(path: Path) -> None:
    """Read every file once, so that each engine starts from the page cache (the one
    measured first would otherwise pay for the disk, after a larger dataset evicted it)."""
    for file in sorted((path / "file_downloads").rglob("*.parquet")):
        with file.open("rb") as handle:
            while handle.read(1 << 23):
                pass


def _measure(engine: str, path: Path, span_days: int) -> dict[str, Any]:
    _warm(path)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", engine, str(path), "--span-days", str(span_days)],
        check=True,
        capture_output=True,
        text=True,
    )
    return {"engine": engine, **json.loads(out.stdout.strip().splitlines()[-1])}


#: Runs of each engine by dataset size: a run of a second is at the mercy of a shared
#: machine (the same 1 M run measured 0.74-1.61 s), one of a minute much less so.
REPEATS = ((5_000_000, 5), (50_000_000, 3))


def _repeats(rows: int) -> int:
    return next((n for limit, n in REPEATS if rows < limit), 1)


def _median(runs: Iterable[list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each engine's run of median time (its own answer), from runs made in turn
    (workbench, duckdb, workbench, …), so that a slow spell of the machine hits both; with
    the median of its peaks over every run: one run's peak is as noisy as its time (the
    same 1 M load peaked at 389-412 MiB in ten runs)."""
    by_engine: dict[str, list[dict[str, Any]]] = {}
    for results in runs:
        for result in results:
            by_engine.setdefault(result["engine"], []).append(result)
    return {
        engine: {
            **sorted(results, key=lambda r: float(r["seconds"]))[len(results) // 2],
            "peak_mib": statistics.median(float(r["peak_mib"]) for r in results),
        }
        for engine, results in by_engine.items()
    }


def _middle(values: Iterable[float]) -> tuple[float, float]:
    """The middle half of ``values``: from the first quartile's value to the third's."""
    ordered = sorted(values)
    quarter = len(ordered) // 4
    return ordered[quarter], ordered[-1 - quarter]


def _spread(runs: list[list[dict[str, Any]]]) -> str:
    """The middle half of the ratios of runs made back to back (workbench over duckdb, each
    pair in the same spell of the machine): how far apart the engines really are, beside
    the ratio of medians; and the middle half of each engine's peaks (ours / the peer's)."""
    pairs = [{r["engine"]: r for r in results} for results in runs]
    low, high = _middle(by["workbench"]["seconds"] / by["duckdb"]["seconds"] for by in pairs)
    peaks = " / ".join(
        "{:,.0f}-{:,.0f}".format(*_middle(by[engine]["peak_mib"] for by in pairs))
        for engine in ("workbench", "duckdb")
    )
    return f" (pairs {low:.2f}-{high:.2f}; peaks MiB {peaks})"


def _build(name: str, root: Path) -> Path:
    """Build the dataset in a child process: a child's peak memory counts the memory of the
    process it was forked from (Linux keeps the high-water mark across exec), so this
    process stays small and the engines' peaks are their own."""
    subprocess.run([sys.executable, __file__, "--build", name, "--data-dir", str(root)], check=True)
    return root / name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1M,10M,100M")
    parser.add_argument("--layouts", default="clustered,unclustered")
    parser.add_argument(
        "--engines",
        default="workbench,duckdb",
        help="workbench alone for the 1B run (the peer would double an hour-long run)",
    )
    parser.add_argument(
        "--span-days",
        type=int,
        default=0,
        help="workbench: load the range this many days at a time, then whole from the cache "
        "(as a user adding days would); 0 = the whole range at once",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs of each engine, alternating, of which the median is shown; 0 = by size "
        f"({', '.join(f'{n} below {r:,} rows' for r, n in REPEATS)}, else 1)",
    )
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--build", help=argparse.SUPPRESS)
    datasets.add_argument(parser)
    args = parser.parse_args()
    if args.build:
        datasets.dataset(args.build, args.data_dir)
        return
    if args.worker:
        _worker(args.worker[0], Path(args.worker[1]), args.span_days)
        return
    print(
        f"{'size':>5} {'layout':>12} {'raw rows':>13} {'engine':>9} {'seconds':>8} "
        f"{'rows/s':>11} {'peak MiB':>9} {'rollup rows':>12}  ratio"
    )
    speeds: dict[str, list[tuple[str, float]]] = {}
    for layout in args.layouts.split(","):
        for size in args.sizes.split(","):
            name = size.strip() + ("" if layout == "clustered" else "-unclustered")
            path = _build(name, args.data_dir)
            raw = datasets.rows(path)
            engines = [e for e in ("workbench", "duckdb") if e in args.engines.split(",")]
            repeat = args.repeat or _repeats(raw)
            runs = [
                [_measure(engine, path, args.span_days) for engine in engines]
                for _ in range(repeat)
            ]
            results = _median(runs)
            peer, ours = results.get("duckdb"), results.get("workbench")
            ratio = ours["seconds"] / peer["seconds"] if peer and ours else float("nan")
            spread = _spread(runs) if peer and ours and repeat >= 4 else ""
            for engine, r in results.items():
                print(
                    f"{size:>5} {layout:>12} {raw:>13,} {engine:>9} {r['seconds']:8.2f} "
                    f"{raw / r['seconds']:>11,.0f} {r['peak_mib']:9,.0f} "
                    f"{int(r['rollup_rows']):>12,}"
                    + (f"  {ratio:.2f}{spread}" if engine == "workbench" else "")
                    + (f"  pieces {r['pieces']}" if "pieces" in r else "")
                )
            if peer and ours:
                same = all(
                    results["workbench"][k] == peer[k]
                    for k in ("rollup_rows", "total", "fingerprint_rows")
                )
                print(f"      same answer (rollup rows, total, fingerprint rows): {same}")
            print(f"      cores: {os.cpu_count()}, runs of each engine: {repeat}", flush=True)
            if ours:
                speeds.setdefault(layout, []).append((size, raw / ours["seconds"]))
    for layout, rows in speeds.items():
        for (small, a), (big, b) in itertools.pairwise(rows):
            print(f"linearity ({layout}): rows/s at {big} is {b / a:.0%} of rows/s at {small}")


if __name__ == "__main__":
    main()
