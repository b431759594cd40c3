"""Where things live on disk, and the settings users can override.

Nothing here touches the disk on import: directories are resolved when asked.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import platformdirs

from workbench.errors import InvalidInputError

APP = "pypi-workbench"
CACHE_DIR_ENV = "WORKBENCH_CACHE_DIR"
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
TTL_ENV = "WORKBENCH_CACHE_TTL_MINUTES"
BIGQUERY_ENDPOINT_ENV = "WORKBENCH_BIGQUERY_ENDPOINT"
MAX_BYTES_ENV = "WORKBENCH_MAX_BYTES_BILLED"
BIGQUERY_TIMEOUT_ENV = "WORKBENCH_BIGQUERY_TIMEOUT"
BIGQUERY_DEADLINE_ENV = "WORKBENCH_BIGQUERY_DEADLINE"
CLICKPY_URL_ENV = "WORKBENCH_CLICKPY_URL"
CLICKPY_TIMEOUT_ENV = "WORKBENCH_CLICKPY_TIMEOUT"

#: On-demand price of BigQuery queries, USD per TiB processed.
PRICE_PER_TIB = 6.25
#: Refuse queries estimated above this unless the user raises it (100 GiB ≈ $0.61).
DEFAULT_MAX_BYTES = 100 * 2**30
DEFAULT_TTL = dt.timedelta(hours=1)
#: Seconds one HTTP request to BigQuery may stay silent before it counts as failed.
DEFAULT_BIGQUERY_TIMEOUT = 60.0
#: Seconds of retrying (transient errors only) per BigQuery call, and of waiting for a job.
DEFAULT_BIGQUERY_DEADLINE = 600.0
#: ClickHouse's public, read-only ClickPy database, and its user (no password). A URL in
#: ``WORKBENCH_CLICKPY_URL`` may name another user as ``http://user:password@host:port``.
CLICKPY_URL = "https://clickpy-clickhouse.clickhouse.com:443"
CLICKPY_USER = "play"
#: Seconds ClickPy may take to accept a connection, and to send the next bytes of an answer.
DEFAULT_CLICKPY_TIMEOUT = 60.0


def cache_dir(override: str | Path | None = None) -> Path:
    if override is not None:
        return Path(override)
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP))


def data_dir(override: str | Path | None = None) -> Path:
    if override is not None:
        return Path(override)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir(APP))


def cache_ttl() -> dt.timedelta:
    env = os.environ.get(TTL_ENV)
    return dt.timedelta(minutes=float(env)) if env else DEFAULT_TTL


def max_bytes_billed() -> int:
    env = os.environ.get(MAX_BYTES_ENV)
    return int(env) if env else DEFAULT_MAX_BYTES


def _seconds(name: str, default: float) -> float:
    env = os.environ.get(name, "").strip()
    if not env:
        return default
    try:
        value = float(env)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise InvalidInputError(f"{name} must be a positive number of seconds, not {env[:20]!r}")
    return value


def bigquery_timeout() -> float:
    """Seconds one BigQuery HTTP request may take to answer (``WORKBENCH_BIGQUERY_TIMEOUT``)."""
    return _seconds(BIGQUERY_TIMEOUT_ENV, DEFAULT_BIGQUERY_TIMEOUT)


def bigquery_deadline() -> float:
    """Seconds of retries per BigQuery call and of waiting per job
    (``WORKBENCH_BIGQUERY_DEADLINE``)."""
    return _seconds(BIGQUERY_DEADLINE_ENV, DEFAULT_BIGQUERY_DEADLINE)


def clickpy_url() -> str:
    """Where ClickPy is (``WORKBENCH_CLICKPY_URL``: a mirror, or a test double)."""
    return os.environ.get(CLICKPY_URL_ENV, "").strip() or CLICKPY_URL


def clickpy_timeout() -> float:
    """Seconds to connect to ClickPy, and that its answer may stay silent
    (``WORKBENCH_CLICKPY_TIMEOUT``)."""
    return _seconds(CLICKPY_TIMEOUT_ENV, DEFAULT_CLICKPY_TIMEOUT)
