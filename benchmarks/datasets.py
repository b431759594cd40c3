"""Benchmark datasets of 1 M, 10 M, 100 M and 1 B raw rows in the BigQuery layout.

Built once into ``--data-dir`` (default ``$WORKBENCH_BENCH_DIR`` or
``~/.cache/pypi-workbench-bench``) and reused by every benchmark:

* ``1M`` and ``10M`` are demo datasets generated with 40 and 500 packages;
* ``100M`` is the ``10M`` dataset ten times over: copy *k* renames every project to
  ``NAME-mK`` (rows, releases and ``requires_dist`` alike), so it holds ~5,000 packages with
  the demo's realistic mix. The demo generator holds all rows in memory (2 GB at 10 M rows),
  hence the copies;
* ``1B`` is the ``100M`` dataset thirteen times over (``NAME-bK``): the ``100M`` one holds
  81 M rows in its window, so 13 copies pass a billion (1.05 B rows, ~6,600 packages),
  written by DuckDB in bounded memory (about 12 GB of disk).

Each comes in two layouts: ``SIZE`` (clustered: sorted by project, as BigQuery clusters its
table and its exports keep it; for 100M and 1B the copies are each clustered) and
``SIZE-unclustered`` (the same rows in timestamp order, as one export per day would hold
them: every file spans every project), written by DuckDB from the clustered one; for 1B,
13 renamed copies of ``100M-unclustered``, each in timestamp order.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.demo import DemoConfig, generate

SIZES = {"1M": 40, "10M": 500}
COPIES = 10
COPIES_1B = 13


def default_dir() -> Path:
    env = os.environ.get("WORKBENCH_BENCH_DIR")
    return Path(env) if env else Path.home() / ".cache" / "pypi-workbench-bench"


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=default_dir(), help="where datasets are built/reused"
    )


def _rename(table: pa.Table, column: str, suffix: str) -> pa.Table:
    index = table.schema.get_field_index(column)
    renamed = pc.binary_join_element_wise(table[column], pa.scalar(suffix), "")
    return table.set_column(index, column, renamed)


def _rename_requirements(table: pa.Table, suffix: str) -> pa.Table:
    """``foo (>=1)`` → ``foo-mK (>=1)`` in every ``requires_dist`` entry."""
    column = table["requires_dist"].combine_chunks()
    flat = pc.replace_substring_regex(
        column.values, pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]*)", replacement=rf"\1{suffix}"
    )
    rebuilt = pa.ListArray.from_arrays(column.offsets, flat, mask=column.is_null())
    index = table.schema.get_field_index("requires_dist")
    return table.set_column(index, "requires_dist", rebuilt)


def _copies(base: Path, out: Path) -> None:
    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "file_downloads").mkdir(parents=True)
    parts = sorted((base / "file_downloads").glob("*.parquet"))
    meta = pq.read_table(base / "distribution_metadata.parquet")
    copies = []
    for k in range(COPIES):
        suffix = "" if k == 0 else f"-m{k}"
        for part in parts:
            target = work / "file_downloads" / f"copy{k:02d}-{part.name}"
            if k == 0:
                shutil.copyfile(part, target)
                continue
            pq.write_table(
                _rename(pq.read_table(part), "project", suffix),
                target,
                compression="zstd",
                row_group_size=100_000,
                store_schema=False,
                write_statistics=["timestamp", "project"],
            )
        copies.append(
            meta if k == 0 else _rename_requirements(_rename(meta, "name", suffix), suffix)
        )
    pq.write_table(pa.concat_tables(copies), work / "distribution_metadata.parquet")
    manifest = json.loads((base / "manifest.json").read_text())
    manifest.update(rows=manifest["rows"] * COPIES, copies=COPIES)
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
    os.replace(work, out)


def _duckdb_copy(base: Path, out: Path, select: str, order: str, copies: int = 1) -> None:
    """Write ``select`` over ``base``'s rows to ``out`` in ``order``, through DuckDB (bounded
    memory), as files of about a million rows each, in the BigQuery layout."""
    import duckdb

    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "file_downloads").mkdir(parents=True)
    files = [str(p) for p in sorted((base / "file_downloads").rglob("*.parquet"))]
    con = duckdb.connect(config={"preserve_insertion_order": True, "memory_limit": "6GB"})
    con.execute("SET TimeZone = 'UTC'")
    for k in range(copies):
        target = work / "file_downloads" / f"copy{k:02d}"
        query = select.format(k=k)
        ordered = f" ORDER BY {order}" if order else ""
        con.execute(
            f"COPY (SELECT * REPLACE ({query}) FROM read_parquet($files){ordered}) "
            f"TO '{target}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, "
            "FILE_SIZE_BYTES '64MB')",
            {"files": files},
        )
    shutil.copyfile(base / "distribution_metadata.parquet", work / "distribution_metadata.parquet")
    manifest = json.loads((base / "manifest.json").read_text())
    manifest.update(rows=manifest["rows"] * copies, copies=copies * manifest.get("copies", 1))
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
    os.replace(work, out)


def dataset(size: str, root: Path) -> Path:
    """The dataset directory for ``size`` (``1M``, ``10M``, ``100M`` or ``1B``, each also as
    ``SIZE-unclustered``), built if missing."""
    out = root / size
    if (out / "manifest.json").exists():
        return out
    root.mkdir(parents=True, exist_ok=True)
    if size.startswith("1B"):
        # 13 renamed copies of the 100M dataset in the same layout: renaming keeps each
        # copy's order (sorting a billion rows by time would take an hour)
        base = dataset(size.replace("1B", "100M"), root)
        copies = f"{COPIES_1B} copies of {base.name}"
        print(f"building the {size} dataset in {out}: {copies} (once)", flush=True)
        _duckdb_copy(base, out, "project || '-b{k}' AS project", "", copies=COPIES_1B)
    elif size.endswith("-unclustered"):
        base = dataset(size.removesuffix("-unclustered"), root)
        print(f"building the {size} dataset in {out}: rows in timestamp order (once)", flush=True)
        _duckdb_copy(base, out, "project AS project", "timestamp")
    elif size in SIZES:
        print(f"building the {size} dataset in {out} (once)", flush=True)
        generate(out, DemoConfig(packages=SIZES[size]))
    elif size == "100M":
        base = dataset("10M", root)
        print(f"building the 100M dataset in {out}: 10 renamed copies of 10M (once)", flush=True)
        _copies(base, out)
    else:
        raise SystemExit(f"unknown size {size!r}: choose 1M, 10M, 100M or 1B")
    return out


def peak_mib() -> float:
    """Peak resident memory of this process or the largest child it waited for, in MiB."""
    who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    return max(resource.getrusage(w).ru_maxrss for w in who) / 1024


def rows(path: Path) -> int:
    return int(json.loads((path / "manifest.json").read_text())["rows"])
