#!/usr/bin/env bash
# Create a venv with chdb (ClickHouse's engine in-process, ~0.9 GB installed) for the
# ClickHouse test double (tests/chdouble/server.py), which the tests start with this venv's
# python. chdb stays out of the main venv: it is big and only the tests need it.
# The double itself needs nothing else: its HTTP server is the standard library's, and
# chdb brings pyarrow.
set -euo pipefail
venv=${1:-.venv-chdb}
python=${PYTHON:-python3}
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "chdb==4.4.0" "chdb-core==26.9.0"
"$venv/bin/python" - <<'PY'
import chdb

version = chdb.connect(":memory:").query("SELECT version()", "TabSeparated").bytes().decode()
print("chdb ready: ClickHouse", version.strip())
PY
