"""ClickHouse SQL over ClickPy's ``pypi`` database: pure builders from the registry in
:mod:`workbench.dimensions`; nothing runs here.

Every value (package names, dates) is a server-side parameter written ``{name:Type}``:
ClickHouse receives it apart from the text (``param_*`` arguments), so the text depends on
nothing a user typed. Tables and columns are the constants below.

Where each answer is read, and why:

* the downloads rollup from the raw table ``pypi.pypi``: only it keeps every dimension of
  the rollup together; its ``ORDER BY (project, date, …)`` makes a package's days a range
  read;
* the population from the ``pypi_downloads_per_day_by_version_by_*`` materialized views,
  never the raw table: every package at once from the raw table is a scan of the whole log;
* the package list from ``pypi_downloads`` (one row per package);
* release metadata from ``pypi.projects`` (the columns of BigQuery's
  ``distribution_metadata``, one row per uploaded file).

The views are SummingMergeTree tables: rows of one key may not be merged yet, so a count is
always ``sum(count)`` with ``GROUP BY``, never read as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workbench.dimensions import DIMENSIONS, expression
from workbench.population import features
from workbench.query import DayRange, RollupQuery

DOWNLOADS_TABLE = "pypi.pypi"
PROJECTS_TABLE = "pypi.projects"
PER_PROJECT_TABLE = "pypi.pypi_downloads"
_PER_DAY = "pypi.pypi_downloads_per_day_by_version"
#: The view holding each dimension the population reads, per project, day and version.
POPULATION_VIEWS: dict[str, str] = {
    "installer": f"{_PER_DAY}_by_installer_by_type",
    "system": f"{_PER_DAY}_by_system",
    "python": f"{_PER_DAY}_by_python",
    "country": f"{_PER_DAY}_by_country",
    "version": _PER_DAY,
}
#: How many packages :func:`names_sql` lists at most.
MAX_NAMES = 100_000

WINDOW = "date >= {start:Date} AND date <= {end:Date}"
_PROJECTS = "{projects:Array(String)}"
#: PEP 503 normalisation of a name, as :func:`workbench.sources.metadata.normalized_name`.
_NORMALIZED = "lower(replaceRegexpAll({}, '[-_.]+', '-'))"


def downloads_sql(*, projects: bool) -> str:
    """The downloads rollup at ClickPy's grain (every dimension of the registry; CI is NULL),
    counted server-side, for ``{projects}`` (or, without ``projects``, every package: a read
    of every row of the window, many GB for a month)."""
    select = ",\n  ".join(f"{expression(d, 'clickhouse')} AS {d.name}" for d in DIMENSIONS)
    group = ", ".join(d.name for d in DIMENSIONS)
    where = f"project IN {_PROJECTS} AND {WINDOW}" if projects else WINDOW
    return (
        f"SELECT\n  {select},\n  count() AS downloads\n"
        f"FROM {DOWNLOADS_TABLE}\n"
        f"WHERE {where}\n"
        f"GROUP BY {group}"
    )


def population_sql() -> str:
    """Population features of every package per day, from the views (see
    :func:`workbench.population.features.views_sql`)."""
    return features.views_sql(POPULATION_VIEWS, WINDOW)


def release_files_sql() -> str:
    """Per-file release rows of the packages in ``{projects}`` (ClickPy stores NULL as '')."""
    return (
        "SELECT name, version, upload_time, nullIf(packagetype, '') AS packagetype, "
        "requires_dist\n"
        f"FROM {PROJECTS_TABLE}\n"
        f"WHERE {_NORMALIZED.format('name')} IN {_PROJECTS}"
    )


def dependent_files_sql() -> str:
    """Release files uploaded since ``{since}`` (a UTC day) that require one of
    ``{projects}``."""
    required = _NORMALIZED.format(r"extract(req, '^\\s*([A-Za-z0-9][A-Za-z0-9._-]*)')")
    return (
        "SELECT name, version, upload_time, requires_dist\n"
        f"FROM {PROJECTS_TABLE}\n"
        "WHERE upload_time >= toDateTime({since:Date}, 'UTC')\n"
        f"  AND arrayExists(req -> has({_PROJECTS}, {required}), requires_dist)"
    )


def first_releases_sql() -> str:
    """Every package's first upload (two columns of ``pypi.projects``)."""
    return (
        f"SELECT {_NORMALIZED.format('name')} AS project, min(upload_time) AS first_upload\n"
        f"FROM {PROJECTS_TABLE}\n"
        "GROUP BY project"
    )


def names_sql() -> str:
    """The :data:`MAX_NAMES` most downloaded packages with their downloads, most first.

    The list feeds "did you mean" and the apps' package box: ClickPy knows every package
    ever downloaded (hundreds of thousands, most with a handful of downloads), and matching
    a typed name against all of them is slower and no more useful than against the top."""
    return (
        f"SELECT project, sum(count) AS downloads\nFROM {PER_PROJECT_TABLE}\n"
        "WHERE project != ''\nGROUP BY project\n"
        f"ORDER BY downloads DESC, project\nLIMIT {int(MAX_NAMES)}"
    )


def day_params(days: DayRange) -> dict[str, Any]:
    """The window's parameters: both days included (``date`` is already a UTC day)."""
    return {"start": days.start, "end": days.end}


def window_params(query: RollupQuery) -> dict[str, Any]:
    params = day_params(query.days)
    if query.projects is not None:
        params["projects"] = list(query.projects)
    return params


def project_params(projects: tuple[str, ...]) -> dict[str, Any]:
    return {"projects": list(projects)}


def since_params(projects: tuple[str, ...], since: dt.date) -> dict[str, Any]:
    return {**project_params(projects), "since": since}
