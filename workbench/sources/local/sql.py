"""DuckDB SQL over local raw rows (the canonical view ``rows``): pure builders from the
registry in :mod:`workbench.dimensions`, the twins of :mod:`workbench.sources.bigquery.sql`.

Values are parameters: ``$start``/``$end`` (the half-open UTC timestamp window),
``$projects`` (a list; absent for every package) and, for one piece of a large answer
(:mod:`workbench.sources.local.pieces`), its bounds (``$piece_project_low`` …).
"""

from __future__ import annotations

from workbench.dimensions import DIMENSION, DIMENSIONS, expression, fingerprint
from workbench.population import features
from workbench.schema import FINGERPRINT_TOP_K
from workbench.sources.local.engine import ROWS
from workbench.sources.local.pieces import WHOLE, Piece

#: The UTC day of a row, as the registry renders it.
_DAY = expression(DIMENSION["date"], "duckdb")

WINDOW = "timestamp >= $start AND timestamp < $end AND project IS NOT NULL"


def _where(projects: bool, piece: Piece) -> str:
    where = WINDOW + (" AND project IN (SELECT unnest($projects))" if projects else "")
    return where if piece == WHOLE else f"{where} AND {piece.where()}"


def downloads(*, projects: bool, piece: Piece = WHOLE) -> str:
    """The downloads rollup at the grain of :data:`workbench.dimensions.DIMENSIONS` (of the
    rows of ``piece``)."""
    select = ",\n  ".join(f"{expression(d, 'duckdb')} AS {d.name}" for d in DIMENSIONS)
    return (
        f"SELECT\n  {select},\n  count(*) AS downloads\nFROM {ROWS}\n"
        f"WHERE {_where(projects, piece)}\nGROUP BY ALL"
    )


#: A day's clients kept by :func:`fingerprints`, with the day's cut (the ``cuts`` table).
_KEPT = (
    "SELECT project, date, fingerprint, downloads, fingerprints\n"
    "FROM clients JOIN cuts USING (project, date)"
)


def fingerprints(*, projects: bool, piece: Piece = WHOLE, top_k: int = FINGERPRINT_TOP_K) -> str:
    """The ``top_k`` client fingerprints per project-day (most downloads first, ties by
    fingerprint text, exactly as BigQuery's ``ROW_NUMBER`` ranks them), each with the day's
    number of distinct fingerprints (of the rows of ``piece``).

    A window ``ROW_NUMBER`` over every client was half the cost (profiled on 10 M demo
    rows): most clients of a busy day fall below the day's cut. So each day's cut comes
    first: the ``top_k``-th largest count, from a bounded heap per day (``top``, sorted
    largest first). A day's clients above the cut are then all kept, as are the clients of
    a day of ``top_k`` or fewer, with no window. Only the clients tied at the cut are ranked
    (by text), for the day's ``slots`` there: how many of its ``top_k`` largest counts equal
    the cut (in ``top``, from the cut's first place to the end). Ranking the ties alone,
    not every candidate, took 4.5 s and 981 MiB against 5.3 s and 1,071 MiB on 10 M
    time-ordered demo rows.

    Every step is one DuckDB can spill (the clients, hash joins against the small per-day
    table, a window over the ties): an earlier form that cut ties with per-day lists of
    texts ran out of memory under a tight limit instead of spilling (10 M rows at 300 MB).
    """
    k = int(top_k)
    return f"""WITH clients AS (
  SELECT project, {_DAY} AS date, {fingerprint("duckdb")} AS fingerprint,
    count(*) AS downloads
  FROM {ROWS}
  WHERE {_where(projects, piece)}
  GROUP BY ALL
), days AS (
  SELECT project, date, count(*) AS fingerprints,
    list_reverse_sort(max(downloads, {k})) AS top
  FROM clients GROUP BY ALL
), cuts AS (
  SELECT project, date, fingerprints, list_min(top) AS cut,
    len(top) - list_position(top, list_min(top)) + 1 AS slots
  FROM days
)
{_KEPT}
WHERE fingerprints <= {k} OR downloads > cut
UNION ALL
{_KEPT}
WHERE fingerprints > {k} AND downloads = cut
QUALIFY row_number() OVER (PARTITION BY project, date ORDER BY fingerprint) <= slots"""


def population(tier: features.Tier, piece: Piece = WHOLE) -> str:
    """Population features of every package per day (see
    :mod:`workbench.population.features`), of the rows of ``piece``."""
    return features.sql("duckdb", ROWS, _where(False, piece), tier)


def names() -> str:
    """Every package with its downloads (the app's package list)."""
    return (
        f"SELECT project, count(*) AS downloads FROM {ROWS}\n"
        "WHERE project IS NOT NULL GROUP BY project"
    )


def first_seen() -> str:
    """The first day each package was downloaded in the files (when no release metadata)."""
    return (
        f"SELECT project, min(timestamp) AS first_upload FROM {ROWS}\n"
        "WHERE project IS NOT NULL AND timestamp IS NOT NULL GROUP BY project"
    )


def uncounted() -> str:
    """Rows left out of every count (no project or no timestamp), when statistics cannot
    tell."""
    return f"SELECT count(*) AS n FROM {ROWS} WHERE project IS NULL OR timestamp IS NULL"
