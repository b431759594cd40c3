"""The population: compact features of every package, per day, and why each exists.

The per-package rollup answers "what is this package's traffic made of"; the population
answers "is that unusual *for a package like it*", for every package of a source at once,
cheaply enough to hold 600 k packages × 30 days on a laptop and to rank all of them
(:mod:`workbench.population.screen`). Each column is there because a signal needs it (the
``why`` of each :class:`Feature`); nothing else is kept. One row per package and day with
at least one download.

Every engine computes the same definition from raw rows (BigQuery SQL, DuckDB over local
files: :func:`sql`); ClickPy computes it from its materialized views, without the columns
it cannot know (CI, clients), which are NULL there. Installer families are defined once in
:data:`FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from workbench.dimensions import (
    CLIENT_FIELDS,
    DESKTOP_SYSTEMS,
    DIMENSION,
    MIRROR_CLIENTS,
    Engine,
    column,
    expression,
    quoted_list,
)

Tier = Literal["basic", "clients"]
TIERS: tuple[Tier, ...] = ("basic", "clients")
KIND = "population"


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    dtype: Any
    why: str
    #: Only the "clients" tier (client detail: installer version, distro, cpu…) has it.
    clients: bool = False
    #: A source may not know it (ClickPy has no CI flag): NULL there, never 0.
    nullable: bool = False


#: Installer families (mirrors are counted apart, in ``mirror_downloads``): what an extra
#: surge is made of is first of all *which tools* fetched it.
FAMILIES: dict[str, tuple[str, ...]] = {
    "pip": ("pip",),
    "uv": ("uv",),
    # Scripts and browsers: no resolver, usually no python or OS in the user agent.
    "bot": ("requests", "Browser", "curl", "wget", "aiohttp", "httpx", "urllib3", "OS"),
}

FEATURES: tuple[Feature, ...] = (
    Feature("project", pl.String, "the package"),
    Feature("date", pl.Date, "the UTC day"),
    Feature("downloads", pl.Int64, "volume: every signal's series and the peers' volume band"),
    Feature(
        "mirror_downloads",
        pl.Int64,
        "mirrors copy every release, not what users install: left out of 'users', and a "
        "mirror re-sync must not look like a surge",
    ),
    Feature(
        "ci_downloads",
        pl.Int64,
        "reported CI (a lower bound): CI share against peers; CI traffic explains surges",
        nullable=True,
    ),
    Feature("pip_downloads", pl.Int64, "installer mix: pip → uv shifts; composition of surges"),
    Feature("uv_downloads", pl.Int64, "installer mix: pip → uv shifts; composition of surges"),
    Feature(
        "bot_downloads",
        pl.Int64,
        "scripts and browsers (requests, Browser…): extra traffic made of them is not users",
    ),
    Feature(
        "no_installer_downloads",
        pl.Int64,
        "user agents linehaul could not parse (no details at all): bots, scanners",
    ),
    Feature(
        "desktop_downloads",
        pl.Int64,
        "macOS and Windows: the clearest trace of people at their machines",
    ),
    Feature("linux_downloads", pl.Int64, "Linux: servers, containers, CI — and people"),
    Feature(
        "no_python_downloads",
        pl.Int64,
        "clients that send no python (mirrors, browsers, requests, poetry/pdm): composition",
    ),
    Feature("pythons", pl.Int32, "distinct python minors: a surge from one interpreter is odd"),
    Feature("top_python_downloads", pl.Int64, "downloads on the day's most common python minor"),
    Feature("countries", pl.Int32, "distinct countries (NULL counts as one): geographic spread"),
    Feature(
        "country_hhi",
        pl.Float64,
        "country concentration Σ share²: peers of the same volume band are the baseline",
    ),
    Feature("top_country", pl.String, "the day's busiest country (ties: first by code)"),
    Feature("top_country_downloads", pl.Int64, "its downloads: concentration that appeared"),
    Feature("versions", pl.Int32, "distinct versions fetched: campaigns sit on few versions"),
    Feature("top_version_downloads", pl.Int64, "downloads of the day's busiest version"),
    Feature(
        "clients",
        pl.Int64,
        "distinct client fingerprints: rotation (clients per 1,000 downloads)",
        clients=True,
        nullable=True,
    ),
    Feature(
        "top_client_downloads",
        pl.Int64,
        "the busiest non-mirror client's downloads: scripted install loops",
        clients=True,
        nullable=True,
    ),
)
SCHEMA: dict[str, Any] = {f.name: f.dtype for f in FEATURES}
COUNTS: tuple[str, ...] = tuple(
    f.name for f in FEATURES if f.dtype in (pl.Int64, pl.Int32) and f.name != "date"
)


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Every feature column, typed, in order (a tier or source without some is NULL)."""
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in SCHEMA.items()
        ]
    )


# -- SQL (BigQuery and DuckDB from raw rows; ClickHouse from ClickPy's daily count views) --
RawEngine = Literal["bigquery", "duckdb"]


def _when(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN n ELSE 0 END)"


def _first_by_count(value: str, engine: Engine) -> str:
    """The value with the most downloads ``n`` (ties: the smallest value; NULL as '')."""
    text = f"IFNULL({value}, '')"
    if engine == "bigquery":
        return f"ARRAY_AGG({text} ORDER BY n DESC, {text} LIMIT 1)[OFFSET(0)]"
    if engine == "clickhouse":
        return f"argMin({text}, (-n, {text}))"
    return f"first({text} ORDER BY n DESC, {text})"


def sql(engine: RawEngine, source: str, window: str, tier: Tier) -> str:
    """Features of every package per day from raw rows: one read of ``source`` (a table or
    a local view) restricted by ``window`` (the engine's timestamp-window condition).

    One ``cells`` aggregation at the finest grain the features need, then one small
    aggregation per concern (base counts, countries, pythons, versions, clients), joined on
    (project, day). With the ``clients`` tier the cells keep the whole client fingerprint.
    """
    keys = {name: expression(DIMENSION[name], engine) for name in _CELL_DIMENSIONS}
    client_keys = ["installer", "system", "country"]
    if tier == "clients":
        for field in CLIENT_FIELDS:
            if field not in client_keys:
                keys[f"c_{field}"] = column(field, engine)
                client_keys.append(f"c_{field}")
    select = ",\n    ".join(f"{expr} AS {name}" for name, expr in keys.items())
    materialized = " MATERIALIZED" if engine == "duckdb" else ""
    parts = [
        f"cells AS{materialized} (\n  SELECT\n    {select},\n    COUNT(*) AS n\n"
        f"  FROM {source}\n  WHERE {window}\n  GROUP BY {', '.join(keys)}\n)",
        "base AS (\n  SELECT project, date,\n    "
        + ",\n    ".join(f"{_when(cond)} AS {name}" for name, _, cond in _base_counts())
        + "\n  FROM cells GROUP BY project, date\n)",
    ]
    for name in _SPREAD_DIMENSIONS:
        parts.append(
            f"by_{name} AS (\n  SELECT project, date, {name}, SUM(n) AS n\n"
            f"  FROM cells GROUP BY project, date, {name}\n)"
        )
    parts += _spread(engine)
    joins = ["countries", "pythons", "versions"]
    out = [name for name, _, _ in _base_counts()] + _SPREAD_OUT
    if tier == "clients":
        parts += [
            "by_client AS (\n  SELECT project, date, installer, SUM(n) AS n\n  FROM cells\n"
            f"  GROUP BY project, date, {', '.join(client_keys)}\n)",
            "clients AS (\n  SELECT project, date, COUNT(*) AS clients,\n"
            f"    MAX(CASE WHEN {_NOT_MIRROR} THEN n END) AS top_client_downloads\n"
            "  FROM by_client GROUP BY project, date\n)",
        ]
        joins.append("clients")
        out += ["IFNULL(clients, 0) AS clients"]
        out += ["IFNULL(top_client_downloads, 0) AS top_client_downloads"]
    return _select(parts, out, "base", joins)


def views_sql(views: Mapping[str, str], window: str) -> str:
    """Features of every package per day from per-dimension daily counts (ClickHouse; ClickPy's
    materialized views), restricted by ``window``: the same features as :func:`sql`, from
    the same definitions, without what no view holds (CI: NULL; no clients tier).

    ``views`` maps each dimension the features read (installer, system, python, country,
    version) to a table of (``project``, ``date``, that dimension's ClickPy column, ``count``).
    Every download is in each table, so the first one also gives the day's total. The tables
    are SummingMergeTree: rows of one key may not be merged yet, so counts are always
    ``sum(count)`` grouped by the key, never read as they are.
    """
    if set(views) != {"installer", *_SPREAD_DIMENSIONS, "system"}:
        raise ValueError(f"views_sql needs a table per dimension, not {sorted(views)}")
    first = next(iter(views))
    parts = [
        f"by_{name} AS (\n  SELECT project, date, {expression(DIMENSION[name], 'clickhouse')} "
        f"AS {name}, sum(count) AS n\n  FROM {table}\n  WHERE {window}\n"
        f"  GROUP BY project, date, {name}\n)"
        for name, table in views.items()
    ]
    sums: dict[str, list[str]] = {}
    out = []
    for name, dimension, condition in _base_counts():
        home = first if dimension is None else dimension
        if home in views:
            sums.setdefault(home, []).append(f"{_when(condition)} AS {name}")
            out.append(name)
        else:
            out.append(f"NULL AS {name}")
    for home, counts in sums.items():
        parts.append(
            f"{home}_counts AS (\n  SELECT project, date,\n    "
            + ",\n    ".join(counts)
            + f"\n  FROM by_{home} GROUP BY project, date\n)"
        )
    parts += _spread("clickhouse")
    joins = [f"{home}_counts" for home in sums if home != first]
    joins += ["countries", "pythons", "versions"]
    return _select(parts, out + _SPREAD_OUT, f"{first}_counts", joins)


_CELL_DIMENSIONS = ("project", "date", "version", "installer", "python", "system", "country", "ci")
#: The dimensions whose spread is measured (distinct values, the busiest one's share).
_SPREAD_DIMENSIONS = ("country", "python", "version")
_SPREAD_OUT = [
    "pythons",
    "top_python_downloads",
    "countries",
    "country_hhi",
    "NULLIF(top_country, '') AS top_country",
    "top_country_downloads",
    "versions",
    "top_version_downloads",
]


def _spread(engine: Engine) -> list[str]:
    """The spread of countries, pythons and versions per (project, day), from ``by_country``,
    ``by_python`` and ``by_version`` (a count ``n`` per value)."""
    return [
        "countries AS (\n  SELECT project, date, COUNT(*) AS countries,\n"
        "    SUM(n * n) / (SUM(n) * SUM(n)) AS country_hhi,\n"
        f"    {_first_by_count('country', engine)} AS top_country,\n"
        "    MAX(n) AS top_country_downloads\n  FROM by_country GROUP BY project, date\n)",
        "pythons AS (\n  SELECT project, date, COUNT(python) AS pythons,\n"
        "    IFNULL(MAX(CASE WHEN python IS NOT NULL THEN n END), 0) AS top_python_downloads\n"
        "  FROM by_python GROUP BY project, date\n)",
        "versions AS (\n  SELECT project, date, COUNT(*) AS versions,\n"
        "    MAX(n) AS top_version_downloads\n  FROM by_version GROUP BY project, date\n)",
    ]


def _select(parts: list[str], out: list[str], base: str, joins: list[str]) -> str:
    text = "WITH " + ",\n".join(parts) + "\nSELECT project, date, " + ", ".join(out)
    text += f"\nFROM {base}"
    for name in joins:
        text += f"\nLEFT JOIN {name} USING (project, date)"
    return text


_NOT_MIRROR = f"(installer IS NULL OR installer NOT IN {quoted_list(MIRROR_CLIENTS)})"


def _base_counts() -> list[tuple[str, str | None, str]]:
    """(feature, the dimension its condition reads (None: every download), condition on a
    cell) for the counts summed straight from the cells."""
    family = {name: quoted_list(names) for name, names in FAMILIES.items()}
    return [
        ("downloads", None, "TRUE"),
        ("mirror_downloads", "installer", f"installer IN {quoted_list(MIRROR_CLIENTS)}"),
        ("ci_downloads", "ci", "ci"),
        ("pip_downloads", "installer", f"installer IN {family['pip']}"),
        ("uv_downloads", "installer", f"installer IN {family['uv']}"),
        ("bot_downloads", "installer", f"installer IN {family['bot']}"),
        ("no_installer_downloads", "installer", "installer IS NULL"),
        ("desktop_downloads", "system", f"system IN {quoted_list(DESKTOP_SYSTEMS)}"),
        ("linux_downloads", "system", "system = 'Linux'"),
        ("no_python_downloads", "python", "python IS NULL"),
    ]


# -- the same definition over a package's rollups (Polars, after the engine) ----------------
def _first_by_count_expr(value: str) -> pl.Expr:
    """The value with the most downloads (ties: the smallest; NULL sorts as '')."""
    text = pl.col(value).fill_null("")
    return text.sort_by([pl.col("n"), text], descending=[True, False]).first()


def from_rollups(downloads: pl.LazyFrame, fingerprints: pl.LazyFrame) -> pl.DataFrame:
    """The population features of the packages in a downloads rollup (and its fingerprint
    rollup), by the definition above: a package under investigation is measured exactly as
    its peers are (``tests/test_population.py`` checks it against the engines)."""
    keys = ["project", "date"]
    installer, system = pl.col("installer"), pl.col("system")
    mirror = installer.is_in(list(MIRROR_CLIENTS)).fill_null(False)

    def family(name: str) -> pl.Expr:
        return installer.is_in(list(FAMILIES[name])).fill_null(False)

    def count(condition: pl.Expr) -> pl.Expr:
        return pl.col("downloads").filter(condition).sum()

    base = downloads.group_by(keys).agg(
        downloads=pl.col("downloads").sum(),
        mirror_downloads=count(mirror),
        ci_downloads=count(pl.col("ci").fill_null(False)),
        pip_downloads=count(family("pip")),
        uv_downloads=count(family("uv")),
        bot_downloads=count(family("bot")),
        no_installer_downloads=count(installer.is_null()),
        desktop_downloads=count(system.is_in(list(DESKTOP_SYSTEMS)).fill_null(False)),
        linux_downloads=count((system == "Linux").fill_null(False)),
        no_python_downloads=count(pl.col("python").is_null()),
    )

    def per(column: str) -> pl.LazyFrame:
        return downloads.group_by([*keys, column]).agg(n=pl.col("downloads").sum())

    countries = (
        per("country")
        .group_by(keys)
        .agg(
            countries=pl.len(),
            country_hhi=(pl.col("n") * pl.col("n")).sum() / pl.col("n").sum().pow(2),
            top_country=_first_by_count_expr("country"),
            top_country_downloads=pl.col("n").max(),
        )
        .with_columns(pl.col("top_country").replace("", None))
    )
    pythons = (
        per("python")
        .group_by(keys)
        .agg(
            pythons=pl.col("python").count(),
            top_python_downloads=pl.col("n")
            .filter(pl.col("python").is_not_null())
            .max()
            .fill_null(0),
        )
    )
    versions = (
        per("version")
        .group_by(keys)
        .agg(versions=pl.len(), top_version_downloads=pl.col("n").max())
    )
    prefix = pl.any_horizontal(
        pl.col("fingerprint").str.starts_with(name + "|") for name in MIRROR_CLIENTS
    )
    clients = fingerprints.group_by(keys).agg(
        clients=pl.col("fingerprints").first(),
        top_client_downloads=pl.col("downloads").filter(~prefix).max().fill_null(0),
    )
    joined = base
    for other in (countries, pythons, versions, clients):
        joined = joined.join(other, on=keys, how="left")
    frame = joined.collect().with_columns(
        pl.col("clients").fill_null(0), pl.col("top_client_downloads").fill_null(0)
    )
    return conform(frame).sort(keys)
