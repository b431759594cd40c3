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


def fingerprints(*, projects: bool, piece: Piece = WHOLE, top_k: int = FINGERPRINT_TOP_K) -> str:
    """The ``top_k`` client fingerprints per project-day (most downloads first, ties by
    fingerprint text, exactly as BigQuery's ``ROW_NUMBER`` ranks them), each with the day's
    number of distinct fingerprints (of the rows of ``piece``).

    A window ``ROW_NUMBER`` over every client was half the cost (profiled on 10 M demo
    rows): most clients of a busy day fall below the day's cut. So the cut (the
    ``top_k``-th largest count, from a bounded heap per day) comes first, and only the
    clients at or above it are ranked. Every step is one DuckDB can spill (the clients, a
    hash join against the small per-day table, a window over the few candidates): an
    earlier form that cut ties with per-day lists of texts ran out of memory under a tight
    limit instead of spilling (10 M rows at 300 MB; this form: 21 s, 0.5 GB).
    """
    k = int(top_k)
    return f"""WITH clients AS (
  SELECT project, {_DAY} AS date, {fingerprint("duckdb")} AS fingerprint,
    count(*) AS downloads
  FROM {ROWS}
  WHERE {_where(projects, piece)}
  GROUP BY ALL
), days AS (
  SELECT project, date, count(*) AS fingerprints, list_min(max(downloads, {k})) AS cut
  FROM clients GROUP BY ALL
)
SELECT project, date, fingerprint, downloads, fingerprints
FROM clients JOIN days USING (project, date)
WHERE fingerprints <= {k} OR downloads >= cut
QUALIFY row_number() OVER (PARTITION BY project, date ORDER BY downloads DESC, fingerprint)
  <= {k}"""


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
