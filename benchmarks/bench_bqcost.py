"""BigQuery cost model of one 30-day investigation: our queries against pypinfo's way.

Run: ``.venv/bin/python benchmarks/bench_bqcost.py [--package NAME]``.

BigQuery bills on-demand queries by the *logical* bytes of the columns each query reads, in
the partitions (days) it touches: STRING 2 bytes + its UTF-8 length, TIMESTAMP 8, BOOL 1
(NULL 0). ``file_downloads`` is partitioned by day and clustered by ``project``, so a query
with a ``timestamp`` window and a ``project`` filter is billed for the package's blocks of
each day, column by column. The model here:

* which columns each query reads, taken from the SQL the workbench really sends
  (``workbench/sql.py``), and the same for pypinfo's way — one query per breakdown, each
  reading ``timestamp``, ``project`` and its own dimension columns;
* the logical bytes per row of every column, measured on the demo rows (same layout, values
  calibrated on real exports), so **bytes per day-partition per column = bytes per row ×
  the package's rows that day**.

**The population** (every package per day, ``workbench/population/features.py``): one query
per span of missing days with no project filter, so it is billed for whole day-partitions:
bytes per row of its columns × the day's rows (~1.4 B on real PyPI). Printed for both tiers
(without and with the client-detail columns): bytes per row, the price of one real day and
of 30 days. The ``project`` column is priced at its real size (13 TB over ~700 B rows in
FINDINGS.md) rather than the demo's shorter names.

Printed: per query its columns and bytes per row, the totals and the ratio. Release
metadata and dependents (``distribution_metadata``, two more queries) are the same in both
ways and left out. Confirm on the real table with a dry run, which prices exactly these
queries without running them::

    workbench fetch PACKAGE --source bigquery --dry-run --start D --end D+29

A dry run reports the bytes of the whole day-partitions (clustering prunes blocks only when
the query runs), so it is the upper bound; ``bytes_billed`` of the real job (shown by
``workbench fetch`` as "bytes queried") is what the package's blocks cost.
"""

from __future__ import annotations

import argparse
import re

import polars as pl

from workbench import config
from workbench.population import features
from workbench.query import RollupQuery
from workbench.schema import FILE_DOWNLOADS, leaf_paths
from workbench.sources.bigquery.sql import downloads_sql, fingerprints_sql, population_sql
from workbench.sources.demo import DemoSource

LEAVES = [".".join(p) for p in leaf_paths(FILE_DOWNLOADS)]
#: Real PyPI: rows a day, and the ``project`` column's logical bytes per row (13 TB over
#: ~700 B rows, FINDINGS.md).
REAL_ROWS_PER_DAY = 1.4e9
REAL_PROJECT_BYTES = 13e12 / 700e9

#: pypinfo's breakdowns the Investigate app shows (``pypinfo PKG FIELD [FIELD]``).
PYPINFO: dict[str, tuple[str, ...]] = {
    "daily total": (),
    "version": ("file.version",),
    "file type": ("file.type",),
    "installer": ("details.installer.name",),
    "installer version": ("details.installer.name", "details.installer.version"),
    "python": ("details.python",),
    "implementation": ("details.implementation.name",),
    "system": ("details.system.name",),
    "system release": ("details.system.name", "details.system.release"),
    "distro": ("details.distro.name", "details.distro.version"),
    "cpu": ("details.cpu",),
    "country": ("country_code",),
    "ci": ("details.ci",),
}


def columns_of(sql: str) -> list[str]:
    """The leaf columns of ``file_downloads`` a query text reads."""
    return [leaf for leaf in LEAVES if re.search(rf"(?<![\w.]){re.escape(leaf)}(?![\w])", sql)]


def _logical(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.when(column.is_null()).then(0).otherwise(2 + column.str.len_bytes())
    if dtype == pl.Boolean:
        return column.is_not_null().cast(pl.Int64)
    return column.is_not_null().cast(pl.Int64) * 8


def bytes_per_row(rows: pl.DataFrame) -> dict[str, float]:
    """Mean logical bytes per row of every leaf column."""
    flat: dict[str, pl.Expr] = {}
    for leaf in LEAVES:
        head, *rest = leaf.split(".")
        expr = pl.col(head)
        for name in rest:
            expr = expr.struct.field(name)
        flat[leaf] = expr
    dtypes = rows.select(**flat).schema
    sizes = rows.select(**{k: _logical(e, dtypes[k]).mean() for k, e in flat.items()})
    return {k: float(v or 0) for k, v in sizes.row(0, named=True).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", default="nimbus")
    args = parser.parse_args()
    source = DemoSource()
    every = pl.read_parquet(source.ensure() / "file_downloads")
    rows = every.filter(pl.col("project") == args.package)
    size = bytes_per_row(rows)
    end = source.config.end
    query = RollupQuery.of(args.package, end.replace(day=1), end)
    ours = {
        "downloads rollup": columns_of(downloads_sql("p.d.t", query)),
        "fingerprints rollup": columns_of(fingerprints_sql("p.d.t", query)),
    }
    theirs = {name: ["timestamp", "project", *cols] for name, cols in PYPINFO.items()}
    print(f"logical bytes per row, measured on {rows.height:,} demo rows of {args.package}:")
    for leaf in sorted({c for cols in [*ours.values(), *theirs.values()] for c in cols}):
        print(f"  {leaf:<30} {size[leaf]:6.1f}")
    totals = {}
    for label, queries in (("workbench", ours), ("pypinfo way", theirs)):
        per_row = {name: sum(size[c] for c in cols) for name, cols in queries.items()}
        totals[label] = sum(per_row.values())
        print(f"\n{label}: {len(queries)} queries")
        for name, cols in queries.items():
            print(f"  {name:<22} {len(cols):2} columns  {per_row[name]:6.1f} B/row")
        distinct = len({c for cols in queries.values() for c in cols})
        print(
            f"  total {totals[label]:.1f} B per row of the package ({distinct} distinct "
            f"columns, {sum(len(c) for c in queries.values())} column reads)"
        )
    daily = rows.height / rows["timestamp"].dt.date().n_unique()
    print(
        f"\nratio workbench / pypinfo way: {totals['workbench'] / totals['pypinfo way']:.2f} "
        f"in bytes, {len(ours)}/{len(theirs)} in queries"
    )
    print(
        f"for {args.package} (~{daily:,.0f} rows a day): {totals['workbench'] * daily / 2**20:.1f}"
        f" MiB per day-partition for the workbench, "
        f"{totals['pypinfo way'] * daily / 2**20:.1f} MiB the pypinfo way; x30 for 30 days"
    )
    population(bytes_per_row(every))


def population(size: dict[str, float]) -> None:
    """Bytes per row and price of the population query, per tier."""
    print("\npopulation (every package, no project filter: whole day-partitions are billed)")
    real = dict(size, project=REAL_PROJECT_BYTES)
    for tier in features.TIERS:
        cols = columns_of(population_sql("p.d.t", tier))
        per_row = sum(real[c] for c in cols)
        day = per_row * REAL_ROWS_PER_DAY
        usd = day / 2**40 * config.PRICE_PER_TIB
        print(
            f"  {tier:<8} tier: {len(cols):2} columns, {per_row:6.1f} B/row "
            f"(demo-measured {sum(size[c] for c in cols):.1f}); one real day "
            f"{day / 2**30:,.0f} GiB ≈ ${usd:.2f}; 30 days {30 * day / 2**40:.2f} TiB ≈ "
            f"${30 * usd:.2f} (the first TiB of each month is free)"
        )
        print(f"           columns: {', '.join(cols)}")


if __name__ == "__main__":
    main()
