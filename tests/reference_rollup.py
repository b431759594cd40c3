"""The previous local engine, kept as a reference: raw rows → rollups in Polars.

This is the Polars path the workbench used before DuckDB aggregated local rows (its
``workbench/rollup.py`` as it was). ``tests/test_rollup.py`` requires the DuckDB path to
give exactly the same rollups on every test dataset.

Raw download rows → rollups, in Polars (the local twin of the BigQuery SQL).

Everything here builds a :class:`polars.LazyFrame` and runs nothing: the
caller decides when to collect (and whether to stream). The filters on
``project`` and ``timestamp`` are applied to the raw columns first, so
``scan_parquet`` pushes them down to row groups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from workbench.errors import DataSchemaError
from workbench.query import RollupQuery
from workbench.schema import (
    DIMENSIONS,
    FINGERPRINT_FIELDS,
    FINGERPRINT_SEPARATOR,
    FINGERPRINT_TOP_K,
)

__all__ = ["canonical", "downloads_rollup", "fingerprint_columns", "fingerprints_rollup"]

# canonical name -> path in the BigQuery layout
REQUIRED: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp",),
    "project": ("project",),
    "version": ("file", "version"),
    "file_type": ("file", "type"),
    "installer": ("details", "installer", "name"),
    "python_full": ("details", "python"),
    "system": ("details", "system", "name"),
    "country": ("country_code",),
    "ci_raw": ("details", "ci"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "installer_version": ("details", "installer", "version"),
    "implementation": ("details", "implementation", "name"),
    "system_release": ("details", "system", "release"),
    "distro": ("details", "distro", "name"),
    "distro_version": ("details", "distro", "version"),
    "cpu": ("details", "cpu"),
}


def _locate(schema: Mapping[str, pl.DataType], path: tuple[str, ...]) -> pl.Expr | None:
    """Find ``path`` as a nested struct field or as a flattened column."""
    for joiner in (".", "_"):
        flat = joiner.join(path)
        if flat in schema:
            return pl.col(flat)
    head = path[0]
    if head not in schema:
        return None
    expr: pl.Expr = pl.col(head)
    dtype: Any = schema[head]
    for name in path[1:]:
        if not isinstance(dtype, pl.Struct):
            return None
        fields = {f.name: f.dtype for f in dtype.fields}
        if name not in fields:
            return None
        expr, dtype = expr.struct.field(name), fields[name]
    return expr


def _check_types(schema: Mapping[str, pl.DataType], columns: dict[str, pl.Expr]) -> None:
    probe = pl.LazyFrame(schema=schema).select(**columns).collect_schema()
    problems = []
    for name, dtype in probe.items():
        if name == "timestamp":
            ok = isinstance(dtype, pl.Datetime)
        elif name == "ci_raw":
            ok = dtype in (pl.Boolean, pl.Null)
        else:
            ok = dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum)
        if not ok:
            path = REQUIRED.get(name) or OPTIONAL.get(name) or (name,)
            problems.append(f"{'.'.join(path)} is {dtype}")
    if problems:
        raise DataSchemaError(
            "the data does not have the download-log types: " + ", ".join(problems)
        )


def canonical(raw: pl.LazyFrame, *, where: str = "the data") -> pl.LazyFrame:
    """Map raw rows (nested BigQuery layout or flattened) to canonical flat columns.

    Raises :class:`DataSchemaError` naming every missing or mistyped column.
    """
    try:
        schema = raw.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise DataSchemaError(f"{where} cannot be read as Parquet ({_first_line(exc)})") from None
    columns: dict[str, pl.Expr] = {}
    missing = []
    for name, path in REQUIRED.items():
        expr = _locate(schema, path)
        if expr is None:
            missing.append(".".join(path))
        else:
            columns[name] = expr
    if missing:
        raise DataSchemaError(
            f"{where} is not in the download-log layout: missing {', '.join(missing)}"
        )
    for name, path in OPTIONAL.items():
        found = _locate(schema, path)
        columns[name] = found if found is not None else pl.lit(None, dtype=pl.String)
    _check_types(schema, columns)
    ts = columns["timestamp"]
    ts_dtype = pl.LazyFrame(schema=schema).select(ts).collect_schema()["timestamp"]
    assert isinstance(ts_dtype, pl.Datetime)
    utc = (
        ts.dt.replace_time_zone("UTC")
        if ts_dtype.time_zone is None
        else ts.dt.convert_time_zone("UTC")
    )
    columns["timestamp"] = utc
    return raw.select(
        **{
            name: expr.cast(pl.String) if name not in ("timestamp", "ci_raw") else expr
            for name, expr in columns.items()
        }
    )


def _window(frame: pl.LazyFrame, query: RollupQuery) -> pl.LazyFrame:
    start = dt.datetime.combine(query.days.start, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(query.days.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    cond = (pl.col("timestamp") >= start) & (pl.col("timestamp") < end)
    if query.projects is not None:
        cond = cond & pl.col("project").is_in(list(query.projects))
    return frame.filter(cond)


def _dimensions(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_columns(
        date=pl.col("timestamp").dt.date(),
        python=pl.col("python_full").str.extract(r"^([0-9]+\.[0-9]+)", 1),
        ci=pl.col("ci_raw").fill_null(False),
    )


def downloads_rollup(rows: pl.LazyFrame, query: RollupQuery) -> pl.LazyFrame:
    """Download counts at the rollup grain (see :mod:`workbench.schema`)."""
    return (
        _dimensions(_window(rows, query))
        .group_by(DIMENSIONS)
        .agg(downloads=pl.len().cast(pl.Int64))
    )


def fingerprint_columns() -> list[str]:
    """The canonical columns of a fingerprint, in :data:`FINGERPRINT_FIELDS` order."""
    source = {"python": "python_full"}
    return [source.get(f, f) for f in FINGERPRINT_FIELDS]


def fingerprint_expr() -> pl.Expr:
    parts = [pl.col(c).fill_null("") for c in fingerprint_columns()]
    return pl.concat_str(parts, separator=FINGERPRINT_SEPARATOR)


CLIENT_KEYS = ["project", "date"]


def client_counts(rows: pl.LazyFrame, query: RollupQuery) -> pl.LazyFrame:
    """Downloads per project, day and client (the fingerprint's columns, not yet joined)."""
    return (
        _window(rows, query)
        .with_columns(date=pl.col("timestamp").dt.date())
        .group_by([*CLIENT_KEYS, *fingerprint_columns()])
        .agg(downloads=pl.len().cast(pl.Int64))
    )


def top_clients(counts: pl.LazyFrame, *, top_k: int = FINGERPRINT_TOP_K) -> pl.LazyFrame:
    """The ``top_k`` fingerprints of each project-day of complete :func:`client_counts`
    (most downloads first, ties by fingerprint text, as the SQL twin ranks them), each row
    with the day's number of distinct fingerprints."""
    keys = CLIENT_KEYS
    per_client = counts.select(
        *keys,
        fingerprint=fingerprint_expr(),
        downloads="downloads",
        fingerprints=pl.len().over(keys).cast(pl.Int64),
    )
    busy = (
        per_client.filter(pl.col("fingerprints") > top_k)
        .sort([*keys, "downloads", "fingerprint"], descending=[False, False, True, False])
        .filter(pl.int_range(pl.len()).over(keys) < top_k)
    )
    return pl.concat([per_client.filter(pl.col("fingerprints") <= top_k), busy])


def fingerprints_rollup(
    rows: pl.LazyFrame, query: RollupQuery, *, top_k: int = FINGERPRINT_TOP_K
) -> pl.LazyFrame:
    """The ``top_k`` client fingerprints per project-day, with the day's distinct count.

    Profiled on 10 M demo rows (benchmarks/bench_ingest.py), the fingerprint text was the
    cost: building it for every raw row and grouping on it took 15 s. Grouping on the
    fingerprint's columns and building the text only for the groups takes 6 s; ranking
    only the days with more than ``top_k`` clients (the rest are kept whole) saves the
    sort of most groups.
    """
    return top_clients(client_counts(rows, query), top_k=top_k)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
