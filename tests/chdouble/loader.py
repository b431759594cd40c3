"""Fill ClickPy's ``pypi`` database in a chdb session from a demo dataset's raw rows.

Run under the chdb venv (``scripts/setup_chdb.sh``), usually through ``server.py --load``;
standalone: ``python tests/chdouble/loader.py --data DIR --load DEMO_DIR``.

The tables come from ClickPy's own DDL (``clickpy_schema.sql``), and the raw rows go into
``pypi.pypi`` through ClickPy's own transformation (``scripts/load.sh`` in ClickHouse/clickpy):
``timestamp::Date``, ``file.type``, ``installer.name``, the first two parts of ``python``,
``system.name``, ``file.version``, read with ``input_format_null_as_default=1`` so that NULLs
become ``''``. The materialized views then fill exactly as they do on ClickPy. The one
difference: ClickPy reads a BigQuery export whose ``details`` record is flattened
(``installer.name``); the demo keeps BigQuery's nesting (``details.installer.name``), so the
same fields are read one level deeper.

Every path and structure goes to chdb as a query parameter, never formatted into the SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).with_name("clickpy_schema.sql")

#: load.sh's ``--cfg.structure``, keeping only the columns its SELECT uses, with the demo's
#: nesting (``details.…``) instead of the flattened export's.
RAW_STRUCTURE = (
    "timestamp DateTime64(6), country_code LowCardinality(String), project String, "
    "file Tuple(version String, type String), "
    "details Tuple(installer Tuple(name String), python String, system Tuple(name String))"
)

#: load.sh's ``--cfg.select`` and the settings of its ``--cfg.query_settings`` that change what
#: is stored (its block-size and thread settings only shape the insert: 1.5 s slower here).
INSERT_PYPI = """
INSERT INTO pypi.pypi
SELECT timestamp::Date as date, country_code, project, file.type as type,
       details.installer.name as installer,
       arrayStringConcat(arraySlice(splitByChar('.', details.python), 1, 2), '.') as python_minor,
       details.system.name as system, file.version as version
FROM file({files:String}, Parquet, {structure:String})
SETTINGS input_format_null_as_default = 1, input_format_parquet_import_nested = 1
"""

#: Columns are matched by name (the insertion table's structure is used for the file).
INSERT_PROJECTS = """
INSERT INTO pypi.projects SELECT * FROM file({file:String}, Parquet)
SETTINGS input_format_null_as_default = 1
"""

#: The tables whose ``sum(count)`` must equal the raw row count. pypi_downloads_per_month is
#: not one: its view keeps only the last six months before ``now()``, as on ClickPy.
COUNTED = (
    "pypi_downloads",
    "pypi_downloads_by_version",
    "pypi_downloads_per_day",
    "pypi_downloads_per_day_by_version",
    "pypi_downloads_per_day_by_version_by_country",
    "pypi_downloads_per_day_by_version_by_file_type",
    "pypi_downloads_per_day_by_version_by_python",
    "pypi_downloads_per_day_by_version_by_installer_by_type",
    "pypi_downloads_per_day_by_version_by_system",
    "pypi_downloads_per_day_by_version_by_installer_by_type_by_country",
    "pypi_downloads_per_day_by_version_by_python_by_country",
    "pypi_downloads_per_day_by_version_by_system_by_country",
)


def _scalar(conn: Any, sql: str, **params: str) -> int:
    return int(conn.query(sql, "TabSeparated", params=params).bytes().decode().strip())


def load_demo(conn: Any, demo_dir: Path) -> dict[str, Any]:
    """(Re)create ``pypi`` from ``demo_dir`` and check every view's total against the raw
    rows; returns the counts and the time taken (raises if a total is off)."""
    began = time.perf_counter()
    files = str(demo_dir.resolve() / "file_downloads" / "*.parquet")
    conn.query("DROP DATABASE IF EXISTS pypi SYNC")
    conn.query("CREATE DATABASE pypi")
    for statement in SCHEMA.read_text().split(";\n"):
        if statement.strip() and not all(
            line.startswith("--") for line in statement.strip().splitlines()
        ):
            conn.query(statement)
    conn.query(INSERT_PYPI, "TabSeparated", params={"files": files, "structure": RAW_STRUCTURE})
    conn.query(
        INSERT_PROJECTS,
        "TabSeparated",
        params={"file": str(demo_dir.resolve() / "distribution_metadata.parquet")},
    )
    raw = _scalar(
        conn,
        "SELECT countIf(project IS NOT NULL AND timestamp IS NOT NULL) FROM file({files:String}, "
        "Parquet, 'project Nullable(String), timestamp Nullable(DateTime64(6))')",
        files=files,
    )
    every = _scalar(conn, "SELECT count() FROM file({files:String}, Parquet)", files=files)
    counts = {
        table: _scalar(conn, "SELECT sum(count) FROM pypi.{t:Identifier}", t=table)
        for table in COUNTED
    }
    # ClickPy stores a row without project or timestamp too (as '' / 1970-01-01), so every
    # view counts every row; the demo has none such, so the totals also equal ``raw``.
    wrong = {table: n for table, n in counts.items() if n != every}
    if wrong:
        raise RuntimeError(f"views disagree with the {every} raw rows: {wrong}")
    return {
        "raw_rows": raw,
        "rows_without_project_or_timestamp": every - raw,
        "pypi_rows": _scalar(conn, "SELECT count() FROM pypi.pypi"),
        "projects_rows": _scalar(conn, "SELECT count() FROM pypi.projects"),
        "per_month_count": _scalar(conn, "SELECT sum(count) FROM pypi.pypi_downloads_per_month"),
        "seconds": round(time.perf_counter() - began, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="chdb's data directory")
    parser.add_argument("--load", required=True, type=Path, help="a demo dataset directory")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"  # timestamp::Date in UTC, as on ClickPy (chdb follows TZ)
    import chdb  # only in the chdb venv

    conn = chdb.connect(str(args.data))
    print(json.dumps(load_demo(conn, args.load)), flush=True)
    conn.close()


if __name__ == "__main__":
    main()
