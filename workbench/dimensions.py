"""The one registry of what the workbench reads from a download log, and how each engine
computes it (the model is pypinfo's ``fields.py``: each field defined once).

Three layers, each defined here and nowhere else:

* :data:`COLUMNS`: the raw columns read, with their path in BigQuery's ``file_downloads``
  layout. Local files are mapped to these names (nested or flattened layouts alike), so the
  local engine's SQL names a column the same way whatever the file looked like.
* :data:`DIMENSIONS`: the downloads rollup's grain (see :mod:`workbench.schema` for why this
  grain), each a column plus a *transform* (a UTC day from a timestamp, a python minor from
  a full version, "not reported as CI" for NULL).
* :data:`CLIENT_FIELDS`: the fields of a client fingerprint, in the order they are joined.

Each engine renders the same registry into its own SQL: BigQuery (``bigquery``), DuckDB
over local files (``duckdb``) and ClickHouse over ClickPy's ``pypi.pypi`` table
(``clickhouse``; ClickPy stores NULL as ``''`` and has no CI flag or client detail, so some
dimensions are absent there). The builders are pure: text in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Engine = Literal["bigquery", "duckdb", "clickhouse"]
Transform = Literal["identity", "date", "python_minor", "ci"]


@dataclass(frozen=True, slots=True)
class Column:
    """One raw column: its canonical name, its path in the BigQuery layout, its kind."""

    name: str
    path: tuple[str, ...]
    kind: Literal["text", "timestamp", "bool"] = "text"
    #: Without it a file is not a download log (the others may be absent: read as NULL).
    required: bool = True
    #: ClickPy's ``pypi.pypi`` column holding it (None: ClickPy does not keep it).
    clickpy: str | None = None

    @property
    def bigquery(self) -> str:
        return ".".join(self.path)


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column("timestamp", ("timestamp",), "timestamp", clickpy="date"),
        Column("project", ("project",), clickpy="project"),
        Column("version", ("file", "version"), clickpy="version"),
        Column("file_type", ("file", "type"), clickpy="type"),
        Column("installer", ("details", "installer", "name"), clickpy="installer"),
        Column("python_full", ("details", "python"), clickpy="python_minor"),
        Column("system", ("details", "system", "name"), clickpy="system"),
        Column("country", ("country_code",), clickpy="country_code"),
        Column("ci_raw", ("details", "ci"), "bool"),
        Column("installer_version", ("details", "installer", "version"), required=False),
        Column("implementation", ("details", "implementation", "name"), required=False),
        Column("system_release", ("details", "system", "release"), required=False),
        Column("distro", ("details", "distro", "name"), required=False),
        Column("distro_version", ("details", "distro", "version"), required=False),
        Column("cpu", ("details", "cpu"), required=False),
    )
}


@dataclass(frozen=True, slots=True)
class Dimension:
    """One column of the downloads rollup: which raw column, transformed how, and why."""

    name: str
    column: str
    transform: Transform
    why: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("project", "project", "identity", "the package (PEP 503 name)"),
    Dimension("date", "timestamp", "date", "signals work on daily series; UTC days"),
    Dimension("version", "version", "identity", "version adoption, pinned old releases"),
    Dimension("file_type", "file_type", "identity", "wheels vs sdists (mirrors fetch both)"),
    Dimension("installer", "installer", "identity", "pip/uv/mirrors/bots; installer shifts"),
    Dimension("python", "python_full", "python_minor", "the python mix, by minor version"),
    Dimension("system", "system", "identity", "desktop (macOS, Windows) vs Linux servers"),
    Dimension("country", "country", "identity", "geographic concentration"),
    Dimension("ci", "ci_raw", "ci", "reported CI: TRUE or NULL in the log, NULL = not CI"),
)
#: The dimensions by name.
DIMENSION: dict[str, Dimension] = {d.name: d for d in DIMENSIONS}

#: The fields of a client fingerprint, in the order they are joined (raw column names).
CLIENT_FIELDS: tuple[str, ...] = (
    "installer",
    "installer_version",
    "python_full",
    "implementation",
    "system",
    "system_release",
    "distro",
    "distro_version",
    "cpu",
    "country",
)
#: The same fields as the fingerprint rollup names them once split (python is the full one).
CLIENT_FIELD_NAMES: tuple[str, ...] = tuple(
    "python" if f == "python_full" else f for f in CLIENT_FIELDS
)
SEPARATOR = "|"

#: Installers that are mirrors or caching proxies: their downloads are not end users.
MIRROR_CLIENTS: tuple[str, ...] = (
    "bandersnatch",
    "devpi",
    "z3c.pypimirror",
    "Artifactory",
    "Nexus",
    "pep381client",
)
DESKTOP_SYSTEMS: tuple[str, ...] = ("Darwin", "Windows")

#: What a source may lack (its ``lacks`` keys): the CI flag, and client detail (installer
#: version, implementation, OS release, distro, CPU: the fingerprint's other fields).
CI = "ci"
CLIENTS = "clients"


def column(name: str, engine: Engine) -> str:
    """How ``engine`` names a raw column (DuckDB reads the local files' canonical view)."""
    col = COLUMNS[name]
    if engine == "bigquery":
        return col.bigquery
    if engine == "duckdb":
        return col.name
    if col.clickpy is None:
        raise KeyError(f"ClickPy keeps no {name}")
    return col.clickpy


_PYTHON_MINOR = r"^[0-9]+\.[0-9]+"


def _duckdb_day(col: str) -> str:
    """The UTC day of DuckDB's ``TIMESTAMPTZ`` ``col``, from its epoch: the same instant as a
    timestamp without a zone, whose date is plain arithmetic. Casting the zoned value to a
    date goes through the time-zone library for every row (a scan computing it: 55 ms per
    million rows, against 16 ms this way) and depends on the session's zone; this does
    not. Infinite timestamps give NULL (no window holds them)."""
    return f"CAST(make_timestamp(epoch_us({col})) AS DATE)"


def expression(dim: Dimension, engine: Engine) -> str:
    """``dim`` as a SQL expression of ``engine`` (``NULL`` where the engine lacks it)."""
    if engine == "clickhouse":
        return _clickhouse(dim)
    col = column(dim.column, engine)
    if dim.transform == "identity":
        return col
    if dim.transform == "date":
        return f"DATE({col})" if engine == "bigquery" else _duckdb_day(col)
    if dim.transform == "python_minor":
        if engine == "bigquery":
            return f"REGEXP_EXTRACT({col}, r'{_PYTHON_MINOR}')"
        return f"NULLIF(regexp_extract({col}, '{_PYTHON_MINOR}'), '')"
    return f"IFNULL({col}, FALSE)" if engine == "bigquery" else f"coalesce({col}, false)"


def _clickhouse(dim: Dimension) -> str:
    """ClickPy's ``pypi.pypi``: NULLs were stored as ``''`` (they become NULL again), the
    python column is already cut to ``major.minor`` (or what splitting gave), no CI flag."""
    source = COLUMNS[dim.column].clickpy
    if source is None:
        return "CAST(NULL AS Nullable(Bool))"
    if dim.transform == "date":
        return source
    if dim.transform == "python_minor":
        return f"nullIf(extract({source}, '{_PYTHON_MINOR}'), '')"
    if dim.name == "project":
        return source
    return f"nullIf({source}, '')"


def fingerprint(engine: Literal["bigquery", "duckdb"]) -> str:
    """The client fingerprint text: the fields joined by ``|`` (a missing field is empty).

    One ``concat`` of the fields and separators in both engines: in DuckDB it costs three
    quarters of ``concat_ws`` (105 against 140 ms per million rows) for the same text, since
    no part is NULL."""
    parts = [f"IFNULL({column(f, engine)}, '')" for f in CLIENT_FIELDS]
    return "CONCAT(" + f", '{SEPARATOR}', ".join(parts) + ")"


def quoted_list(values: tuple[str, ...]) -> str:
    """Constant text values of this registry (never user input) as a SQL list literal."""
    for value in values:
        if not value.replace(".", "").replace("-", "").isalnum():
            raise ValueError(f"not a registry constant: {value!r}")
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
