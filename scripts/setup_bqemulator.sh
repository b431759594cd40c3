#!/usr/bin/env bash
# Create a venv with the local BigQuery emulator (bqemulator) used by the tests.
# bqemulator needs DuckDB's spatial extension; DuckDB would download it, which fails
# offline, so it is installed from the duckdb-extension-spatial wheel instead.
set -euo pipefail
venv=${1:-.venv-bqemu}
python=${PYTHON:-python3}
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "bqemulator==1.4.0" "duckdb==1.5.5" \
    "duckdb-extension-spatial==1.5.5" numpy
"$venv/bin/python" - <<'PY'
import pathlib

import duckdb
import duckdb_extension_spatial

ext = next(pathlib.Path(duckdb_extension_spatial.__file__).parent.rglob("spatial.duckdb_extension"))
con = duckdb.connect()
con.execute(f"INSTALL '{ext}'")
con.execute("LOAD spatial")
print("bqemulator ready; spatial extension installed from", ext.name)
PY
