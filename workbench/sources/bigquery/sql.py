"""BigQuery SQL: pure builders from the registry in :mod:`workbench.dimensions`; nothing
runs here.

Every user-supplied value (package names, dates) is a query *parameter*; the SQL text
depends only on table names, which are validated identifiers from configuration. Every
download query filters ``timestamp`` (partition pruning) and, where it is for some
packages, ``project`` (clustering), and reads only the columns it needs. The population
query has no project filter (it is about every package) but its window stays mandatory.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from workbench.dimensions import DIMENSIONS, expression, fingerprint
from workbench.errors import InvalidInputError
from workbench.population import features
from workbench.query import DayRange, RollupQuery
from workbench.schema import FINGERPRINT_TOP_K

_TABLE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){1,2}$")

_WINDOW = "timestamp >= @start AND timestamp < @end"


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter, independent of the client library."""

    name: str
    type: str  # STRING, TIMESTAMP, INT64
    value: Any
    array: bool = False


def table_name(name: str) -> str:
    """Validate a ``project.dataset.table`` identifier and quote it."""
    if not isinstance(name, str) or not _TABLE.fullmatch(name):
        raise InvalidInputError(
            f"{str(name)[:80]!r} is not a BigQuery table name like project.dataset.table"
        )
    return f"`{name}`"


def _project_filter(query: RollupQuery, column: str = "project") -> str:
    return "" if query.projects is None else f" AND {column} IN UNNEST(@projects)"


def downloads_sql(table: str, query: RollupQuery) -> str:
    """The whole downloads rollup, aggregated server-side."""
    select = ",\n  ".join(f"{expression(d, 'bigquery')} AS {d.name}" for d in DIMENSIONS)
    group = ", ".join(d.name for d in DIMENSIONS)
    return (
        f"SELECT\n  {select},\n  COUNT(*) AS downloads\n"
        f"FROM {table_name(table)}\n"
        f"WHERE {_WINDOW}{_project_filter(query)}\n"
        f"GROUP BY {group}"
    )


def fingerprints_sql(table: str, query: RollupQuery, *, top_k: int = FINGERPRINT_TOP_K) -> str:
    """The ``top_k`` client fingerprints per project-day, ranked server-side."""
    return (
        "WITH per_client AS (\n"  # noqa: S608 (validated table name; values are parameters)
        f"  SELECT project, DATE(timestamp) AS date, {fingerprint('bigquery')} AS fingerprint,\n"
        "    COUNT(*) AS downloads\n"
        f"  FROM {table_name(table)}\n"
        f"  WHERE {_WINDOW}{_project_filter(query)}\n"
        "  GROUP BY project, date, fingerprint\n"
        "), ranked AS (\n"
        "  SELECT project, date, fingerprint, downloads,\n"
        "    COUNT(*) OVER (PARTITION BY project, date) AS fingerprints,\n"
        "    ROW_NUMBER() OVER (PARTITION BY project, date\n"
        "      ORDER BY downloads DESC, fingerprint) AS client_rank\n"
        "  FROM per_client\n"
        ")\n"
        "SELECT project, date, fingerprint, downloads, fingerprints\n"
        "FROM ranked\n"
        f"WHERE client_rank <= {int(top_k)}"
    )


_NORMALIZED = r"LOWER(REGEXP_REPLACE({}, r'[-_.]+', '-'))"


def release_files_sql(table: str) -> str:
    """Per-file release rows of the packages in ``@projects``."""
    return (
        "SELECT name, version, upload_time, packagetype, requires_dist\n"
        f"FROM {table_name(table)}\n"
        f"WHERE {_NORMALIZED.format('name')} IN UNNEST(@projects)"
    )


def dependent_files_sql(table: str) -> str:
    """Release files uploaded since ``@since`` that require one of ``@projects``."""
    req = r"REGEXP_EXTRACT(req, r'^\s*([A-Za-z0-9][A-Za-z0-9._-]*)')"
    return (
        "SELECT name, version, upload_time, requires_dist\n"  # noqa: S608 (as above)
        f"FROM {table_name(table)}\n"
        "WHERE upload_time >= @since AND EXISTS (\n"
        "  SELECT 1 FROM UNNEST(requires_dist) AS req\n"
        f"  WHERE {_NORMALIZED.format(req)} IN UNNEST(@projects))"
    )


def population_sql(table: str, tier: features.Tier) -> str:
    """Population features of every package per day (one read of the table, no project
    filter; see :mod:`workbench.population.features`)."""
    return features.sql("bigquery", table_name(table), _WINDOW, tier)


def first_releases_sql(table: str) -> str:
    """Every package's first upload (small: two columns of the metadata table)."""
    return (
        f"SELECT {_NORMALIZED.format('name')} AS project, MIN(upload_time) AS first_upload\n"
        f"FROM {table_name(table)}\n"
        "GROUP BY project"
    )


def day_params(days: DayRange) -> list[Param]:
    """The half-open timestamp window of ``days``."""
    start = dt.datetime.combine(days.start, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(days.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return [Param("start", "TIMESTAMP", start), Param("end", "TIMESTAMP", end)]


def window_params(query: RollupQuery) -> list[Param]:
    """Parameters of a download query: the half-open timestamp window and the projects."""
    params = day_params(query.days)
    if query.projects is not None:
        params.append(Param("projects", "STRING", list(query.projects), array=True))
    return params


def project_params(projects: tuple[str, ...]) -> list[Param]:
    return [Param("projects", "STRING", list(projects), array=True)]


# -- the guard: no read of the downloads table without its window --------------------------
_CLAUSE = re.compile(
    r"\(|\)|\b(?:GROUP|ORDER|HAVING|QUALIFY|WINDOW|LIMIT|UNION|INTERSECT|EXCEPT)\b", re.I
)


def _where(text: str) -> str:
    """The WHERE clause that starts ``text``, up to its query's next clause or its end."""
    depth = 0
    for match in _CLAUSE.finditer(text):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            if depth == 0:
                return text[: match.start()]
            depth -= 1
        elif depth == 0:
            return text[: match.start()]
    return text


def unbounded_scans(sql: str, table: str) -> int:
    """How many reads of ``table`` in ``sql`` are not limited to the ``@start``/``@end``
    timestamp window: each must be ``FROM table [alias] WHERE <window> [AND …]`` with no
    ``OR`` that could widen it, in SQL without comments that could hide it. 0 is safe."""
    reads = list(re.finditer(rf"(?<![\w.`-])`?{re.escape(table)}`?(?![\w.`-])", sql))
    if reads and ("--" in sql or "/*" in sql):
        return len(reads)
    bad = 0
    for read in reads:
        before = sql[: read.start()].split()
        after = re.match(r"\s+(?:(?:AS\s+)?(?!WHERE\b)\w+\s+)?WHERE\s", sql[read.end() :], re.I)
        if not before or before[-1].upper() != "FROM" or after is None:
            bad += 1
            continue
        where = " ".join(_where(sql[read.end() + after.end() :]).split())
        rest = where.removeprefix(_WINDOW)
        widened = re.search(r"\bOR\b", where, re.I) is not None
        if rest == where or (rest and not rest.startswith(" AND ")) or widened:
            bad += 1
    return bad


def window_is_bounded(params: list[Param]) -> bool:
    values = {p.name: p.value for p in params if p.type == "TIMESTAMP" and not p.array}
    start, end = values.get("start"), values.get("end")
    return isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and start < end
