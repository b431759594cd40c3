"""The data layouts, defined once.

Two layers:

* The **raw** tables exactly as BigQuery publishes them
  (``bigquery-public-data.pypi.file_downloads`` and ``distribution_metadata``).
  The demo generator writes this layout, the Parquet source reads it (nested, as
  BigQuery exports it, or flattened with ``a.b.c`` / ``a_b_c`` column names) and
  the emulator tests create these tables from the same definition.
* The **rollups** the workbench computes from it, in BigQuery SQL or in Polars.

Rollup grain — one row per
``project × day × version × file_type × installer × python minor × system × country × ci``.
Why this grain:

* **day**, not hour: every signal works on daily series, and BigQuery partitions
  by day; hours would multiply the rows by ~24 for no question we ask.
* **python minor** (``3.12``), not the patch version: breakdowns are by minor;
  the patch level is only a client trait, kept in the fingerprint table.
* **installer name** only and **system name** only (Linux, Darwin, Windows):
  installer versions, OS releases, distros and CPUs multiply the row count by
  ~50 and are needed together, per client, by one signal (narrow fingerprint)
  — so they live in the fingerprint table instead.
* **ci** as TRUE/FALSE: the log has TRUE or NULL (pip reports CI, never "not CI");
  NULL becomes FALSE, read as "not reported as CI".
* every dimension a drill-down filters on (version, installer, python, system,
  country, ci, file type) is a column, so a drill-down never refetches.

Fingerprint table — one row per ``project × day × client fingerprint`` for the
:data:`FINGERPRINT_TOP_K` most frequent fingerprints of the day, each row also
carrying how many distinct fingerprints the day had. The rest of the day's
volume is the rollup's total minus the kept rows, so top-k shares, the count of
distinct clients and the remainder are exact while popular packages stay small.
A fingerprint is installer name + version, python, implementation,
system + release, distro + version, cpu and country, joined by ``|`` in
:data:`FINGERPRINT_FIELDS` order (empty text for a missing field).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl
import pyarrow as pa

from workbench.dimensions import CLIENT_FIELD_NAMES, SEPARATOR
from workbench.dimensions import DIMENSIONS as _DIMENSIONS
from workbench.population.features import SCHEMA as POPULATION
from workbench.population.peers import SCHEMA as PEERS

if TYPE_CHECKING:
    from google.cloud import bigquery

#: Bump when the rollup definition changes: old cache entries then no longer match.
SCHEMA_VERSION = 2
#: Rows per row group of every rollup file the workbench writes (by pyarrow or by DuckDB):
#: statistics per group let a filtered read skip groups, and DuckDB encodes a large
#: answer's groups in parallel (half its default size wrote a 1 M-row load's two rollups
#: 2-3 % sooner, and Polars read them back sooner too).
ROW_GROUP_ROWS = 64_000
FINGERPRINT_TOP_K = 100

DOWNLOADS_TABLE = "bigquery-public-data.pypi.file_downloads"
METADATA_TABLE = "bigquery-public-data.pypi.distribution_metadata"


@dataclass(frozen=True, slots=True)
class Field:
    """One BigQuery column: name, type (STRING, TIMESTAMP, …), mode, children."""

    name: str
    type: str
    mode: str = "NULLABLE"
    fields: tuple[Field, ...] = ()


def _s(name: str) -> Field:
    return Field(name, "STRING")


def _rec(name: str, *fields: Field) -> Field:
    return Field(name, "RECORD", fields=fields)


def _rep(name: str) -> Field:
    return Field(name, "STRING", "REPEATED")


FILE_DOWNLOADS: tuple[Field, ...] = (
    Field("timestamp", "TIMESTAMP"),
    _s("country_code"),
    _s("url"),
    _s("project"),
    _rec("file", _s("filename"), _s("project"), _s("version"), _s("type")),
    _rec(
        "details",
        _rec("installer", _s("name"), _s("version")),
        _s("python"),
        _rec("implementation", _s("name"), _s("version")),
        _rec("distro", _s("name"), _s("version"), _s("id"), _rec("libc", _s("lib"), _s("version"))),
        _rec("system", _s("name"), _s("release")),
        _s("cpu"),
        _s("openssl_version"),
        _s("setuptools_version"),
        _s("rustc_version"),
        Field("ci", "BOOLEAN"),
    ),
    _s("tls_protocol"),
    _s("tls_cipher"),
)

# Column list of bigquery-public-data.pypi.distribution_metadata (one row per
# uploaded file), as published with the dataset.
DISTRIBUTION_METADATA: tuple[Field, ...] = (
    _s("metadata_version"),
    _s("name"),
    _s("version"),
    _s("summary"),
    _s("description"),
    _s("description_content_type"),
    _s("author"),
    _s("author_email"),
    _s("maintainer"),
    _s("maintainer_email"),
    _s("license"),
    _s("keywords"),
    _rep("classifiers"),
    _rep("platform"),
    _s("home_page"),
    _s("download_url"),
    _s("requires_python"),
    _rep("requires"),
    _rep("provides"),
    _rep("obsoletes"),
    _rep("requires_dist"),
    _rep("provides_dist"),
    _rep("obsoletes_dist"),
    _rep("requires_external"),
    _rep("project_urls"),
    _s("uploaded_via"),
    Field("upload_time", "TIMESTAMP"),
    _s("filename"),
    Field("size", "INTEGER"),
    _s("path"),
    _s("python_version"),
    _s("packagetype"),
    _s("comment_text"),
    Field("has_signature", "BOOLEAN"),
    _s("md5_digest"),
    _s("sha256_digest"),
    _s("blake2_256_digest"),
)

_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "BOOLEAN": pa.bool_(),
    "INTEGER": pa.int64(),
}


def _arrow_type(field: Field) -> pa.DataType:
    if field.type == "RECORD":
        base: pa.DataType = pa.struct([arrow_field(f) for f in field.fields])
    else:
        base = _ARROW_TYPES[field.type]
    return pa.list_(base) if field.mode == "REPEATED" else base


def arrow_field(field: Field) -> pa.Field:
    return pa.field(field.name, _arrow_type(field), nullable=field.mode != "REQUIRED")


def arrow_schema(fields: Sequence[Field]) -> pa.Schema:
    """The Arrow schema BigQuery uses when exporting ``fields`` to Parquet."""
    return pa.schema([arrow_field(f) for f in fields])


def bigquery_schema(fields: Sequence[Field]) -> list[bigquery.SchemaField]:
    """The same definition as ``google-cloud-bigquery`` schema fields."""
    from google.cloud import bigquery

    def convert(field: Field) -> bigquery.SchemaField:
        children = [convert(f) for f in field.fields]
        return bigquery.SchemaField(field.name, field.type, mode=field.mode, fields=children)

    return [convert(f) for f in fields]


def leaf_paths(fields: Sequence[Field], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf column as a path, e.g. ``("details", "installer", "name")``."""
    paths: list[tuple[str, ...]] = []
    for f in fields:
        if f.type == "RECORD" and f.mode != "REPEATED":
            paths.extend(leaf_paths(f.fields, (*prefix, f.name)))
        else:
            paths.append((*prefix, f.name))
    return paths


# --- rollups -------------------------------------------------------------------

#: The dimensions of the downloads rollup, in order (defined in :mod:`workbench.dimensions`).
DIMENSIONS: tuple[str, ...] = tuple(d.name for d in _DIMENSIONS)

DOWNLOADS_ROLLUP: dict[str, Any] = {
    **{d.name: pl.String for d in _DIMENSIONS},
    "date": pl.Date,
    "ci": pl.Boolean,
    "downloads": pl.Int64,
}

#: Fields of a client fingerprint, in the order they are joined.
FINGERPRINT_FIELDS: tuple[str, ...] = CLIENT_FIELD_NAMES
FINGERPRINT_SEPARATOR = SEPARATOR

FINGERPRINTS_ROLLUP: dict[str, Any] = {
    "project": pl.String,
    "date": pl.Date,
    "fingerprint": pl.String,
    "downloads": pl.Int64,
    "fingerprints": pl.Int64,
}

RELEASES: dict[str, Any] = {
    "project": pl.String,
    "version": pl.String,
    "upload_time": pl.Datetime("us", "UTC"),
    "packagetypes": pl.List(pl.String),
    "requires_dist": pl.List(pl.String),
}

DEPENDENTS: dict[str, Any] = {
    "project": pl.String,
    "dependent": pl.String,
    "version": pl.String,
    "upload_time": pl.Datetime("us", "UTC"),
    "requirement": pl.String,
}

#: Every package's first upload (or, without release metadata, its first download).
FIRST_RELEASES: dict[str, Any] = {"project": pl.String, "first_upload": pl.Datetime("us", "UTC")}

#: Every package of a local source with its downloads (the app's package list).
NAMES: dict[str, Any] = {"project": pl.String, "downloads": pl.Int64}

ROLLUP_SCHEMAS: dict[str, dict[str, Any]] = {
    "names": NAMES,
    "downloads": DOWNLOADS_ROLLUP,
    "fingerprints": FINGERPRINTS_ROLLUP,
    "releases": RELEASES,
    "dependents": DEPENDENTS,
    "first_releases": FIRST_RELEASES,
    "population": POPULATION,
    "peers": PEERS,
}


_Frame = TypeVar("_Frame", pl.DataFrame, pl.LazyFrame)


def conform(frame: _Frame, kind: str) -> _Frame:
    """Cast ``frame`` (eager or lazy) to the rollup schema of ``kind`` (same columns, same
    order)."""
    schema = ROLLUP_SCHEMAS[kind]
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def empty(kind: str) -> pl.DataFrame:
    return pl.DataFrame(schema=ROLLUP_SCHEMAS[kind])


def split_fingerprint(column: str = "fingerprint") -> list[pl.Expr]:
    """Expressions that split a fingerprint string back into named fields."""
    parts = pl.col(column).str.split(FINGERPRINT_SEPARATOR)
    return [
        parts.list.get(i, null_on_oob=True).replace("", None).alias(name)
        for i, name in enumerate(FINGERPRINT_FIELDS)
    ]
