"""A faulty HTTP proxy in front of a local service, and the rows the BigQuery emulator serves.

The real ``google-cloud-bigquery`` client talks to :class:`FaultyProxy` (through
``WORKBENCH_BIGQUERY_ENDPOINT``); the proxy forwards to the emulator and, while a
:class:`Fault` is set, answers the matching requests with an HTTP error in BigQuery's JSON
layout, resets the connection, answers late, drops the connection half-way through the
answer's body, reports a failed job, or inflates a dry run's byte estimate. It records every
request it sees (:attr:`FaultyProxy.seen`), so tests count attempts and submitted jobs from
the wire, not from the code under test.

The same proxy stands in front of the ClickHouse double (``tests/chdouble``) for the real
``clickhouse-connect`` client: the transport faults (reset, slow, drop) are the same, and a
``garbage`` fault answers any body with any headers — a ClickHouse exception
(:func:`clickhouse_exception`), a proxy's 502 page, or a 200 that is not ClickHouse's.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import pyarrow.parquet as pq
import pytest

from workbench.schema import DISTRIBUTION_METADATA, FILE_DOWNLOADS, bigquery_schema

#: The tables the CLI's ``--source bigquery`` reads by default, recreated in the emulator.
DOWNLOADS = "bigquery-public-data.pypi.file_downloads"
METADATA = "bigquery-public-data.pypi.distribution_metadata"

#: Fault modes that still pass the request on to the emulator.
_FORWARDED = frozenset({"", "drop", "job-fails", "dry-run-size"})

_STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}


@dataclass
class Seen:
    """One request as the proxy received it, and what it did with it."""

    method: str
    path: str
    body: dict[str, Any]
    fault: str = ""
    at: float = field(default_factory=time.monotonic)
    raw: bytes = b""  # the body as sent (SQL text for ClickHouse)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, str]:
        """The URL's arguments (ClickHouse's settings, ``param_*`` and ``database``)."""
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    @property
    def kind(self) -> str:
        """``dry run``, ``job`` (a real jobs.insert), ``query`` (jobs.query), ``results``
        (jobs.getQueryResults: waiting or rows), ``job status`` (jobs.get) or ``other``."""
        path = self.path.split("?")[0]
        if self.method == "POST" and path.endswith("/jobs"):
            config = self.body.get("configuration", {})
            return "dry run" if config.get("dryRun") else "job"
        if self.method == "POST" and path.endswith("/queries"):
            return "dry run" if self.body.get("dryRun") else "query"
        if self.method == "GET" and "/queries/" in path:
            return "results"
        if self.method == "GET" and "/jobs/" in path:
            return "job status"
        return "other"

    @property
    def sql(self) -> str:
        return str(self.body.get("configuration", {}).get("query", {}).get("query", ""))

    @property
    def rows_page(self) -> bool:
        """A getQueryResults request that fetches rows (not the ``maxResults=0`` wait)."""
        return self.kind == "results" and "maxResults=0" not in self.path


@dataclass
class Fault:
    """What to do to the requests ``when`` selects (``times`` of them, or all)."""

    mode: str  # status | garbage | reset | drop | slow | job-fails | dry-run-size
    when: Callable[[Seen], bool] = lambda seen: True
    times: int | None = None
    status: int = 500
    reason: str = "backendError"
    delay: float = 0.0
    size: int = 0
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # sent with status / garbage
    hits: int = 0

    def take(self, seen: Seen) -> bool:
        if (self.times is not None and self.hits >= self.times) or not self.when(seen):
            return False
        self.hits += 1
        return True


def error_body(status: int, reason: str, message: str = "") -> bytes:
    """An error answer as BigQuery's REST API writes it."""
    message = message or f"{reason}: injected by the test proxy"
    return json.dumps(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": _STATUS_TEXT.get(status, "UNKNOWN"),
            }
        }
    ).encode()


def clickhouse_exception(code: int, name: str, message: str, status: int = 500) -> Fault:
    """An answer as ClickHouse's HTTP interface writes an exception."""
    return Fault(
        "garbage",
        status=status,
        message=f"Code: {code}. DB::Exception: {message}. ({name}) (version 26.9.2.1)\n",
        headers={
            "Content-Type": "text/plain; charset=UTF-8",
            "X-ClickHouse-Exception-Code": str(code),
        },
    )


def dead_endpoint() -> str:
    """A local URL where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _any(self) -> None:
        self.server.proxy._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultyProxy


class FaultyProxy:
    """Forwards to ``upstream`` except where the current :class:`Fault` says otherwise."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.seen: list[Seen] = []
        self.fault: Fault | None = None
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, fault: Fault | None) -> None:
        with self._lock:
            self.fault = fault
            self.seen.clear()

    def count(self, kind: str | None = None, *, faulted: bool | None = None) -> int:
        with self._lock:
            return sum(
                1
                for s in self.seen
                if (kind is None or s.kind == kind)
                and (faulted is None or bool(s.fault) == faulted)
            )

    def first_fault(self) -> float:
        """When the first broken request arrived (``time.monotonic``)."""
        with self._lock:
            return min(s.at for s in self.seen if s.fault)

    def jobs_submitted(self) -> int:
        """Requests that would start a billed query (jobs.insert or jobs.query, not dry),
        whether or not they got through."""
        return self.count("job") + self.count("query")

    def jobs_run(self) -> int:
        """Distinct query jobs that reached the emulator (a retried insert reuses its id)."""
        with self._lock:
            ids = {
                s.body.get("jobReference", {}).get("jobId") or id(s)
                for s in self.seen
                if s.kind in ("job", "query") and s.fault in _FORWARDED
            }
        return len(ids)

    # -- the wire ------------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        seen = Seen(
            h.command,
            h.path,
            body if isinstance(body, dict) else {},
            raw=raw,
            headers=dict(h.headers),
        )
        with self._lock:
            fault = self.fault if self.fault is not None and self.fault.take(seen) else None
            seen.fault = fault.mode if fault else ""
            self.seen.append(seen)
        if fault is None:
            self._reply(h, *self._forward(h, raw))
        elif fault.mode == "status":
            body = error_body(fault.status, fault.reason, fault.message)
            self._reply(h, fault.status, fault.headers, body)
        elif fault.mode == "garbage":  # any other answer (a proxy's page, a ClickHouse error)
            self._reply(h, fault.status, fault.headers, fault.message.encode())
        elif fault.mode == "reset":
            _reset(h)
        elif fault.mode == "slow":
            time.sleep(fault.delay)
            _reset(h)  # the client gave up long ago
        elif fault.mode == "drop":
            status, headers, data = self._forward(h, raw)
            h.send_response(status)
            h.send_header("Content-Type", headers.get("Content-Type", "application/json"))
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            _reset(h)
        elif fault.mode == "job-fails":
            status, headers, data = self._forward(h, raw)
            job = json.loads(data)
            error = {"reason": fault.reason, "message": "injected job failure"}
            job["status"] = {"state": "DONE", "errorResult": error, "errors": [error]}
            self._reply(h, status, headers, json.dumps(job).encode())
        elif fault.mode == "dry-run-size":
            status, headers, data = self._forward(h, raw)
            job = json.loads(data)
            stats = job.setdefault("statistics", {})
            stats["totalBytesProcessed"] = str(fault.size)
            stats.setdefault("query", {})["totalBytesProcessed"] = str(fault.size)
            self._reply(h, status, headers, json.dumps(job).encode())
        else:
            raise AssertionError(f"unknown fault mode {fault.mode}")

    def _forward(self, h: _Handler, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        skip = {"host", "connection", "accept-encoding", "content-length"}
        headers = {k: v for k, v in h.headers.items() if k.lower() not in skip}
        try:
            conn.request(h.command, h.path, body=raw or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in {"transfer-encoding", "connection", "content-length"}
            }
            return response.status, kept, data
        finally:
            conn.close()

    @staticmethod
    def _reply(h: _Handler, status: int, headers: dict[str, str], data: bytes) -> None:
        h.send_response(status)
        for key, value in headers.items():
            if key.lower() not in {"content-type", "server", "date"}:
                h.send_header(key, value)
        h.send_header("Content-Type", headers.get("Content-Type", "application/json"))
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def routed(
    proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch, variable: str
) -> Iterator[FaultyProxy]:
    """``proxy`` as the endpoint the environment ``variable`` names, with no fault injected
    before or after (for a fixture: ``yield from routed(…)``)."""
    monkeypatch.setenv(variable, proxy.url)
    proxy.inject(None)
    yield proxy
    proxy.inject(None)


def _reset(h: _Handler) -> None:
    """Close the client's connection with a TCP reset (no FIN, no answer)."""
    h.close_connection = True
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass


# -- the data -----------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """A row for ``insert_rows_json``: datetimes as ISO text, recursively."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Loaded:
    """What :func:`load_public` put into the emulator."""

    projects: tuple[str, ...]
    first: dt.date
    last: dt.date
    rows: pl.DataFrame = field(repr=False)


def create_public_tables(client: Any) -> None:
    """The public tables' layout (``file_downloads`` partitioned by day) in the emulator."""
    from google.cloud import bigquery

    client.create_dataset(bigquery.Dataset("bigquery-public-data.pypi"), exists_ok=True)
    table = bigquery.Table(DOWNLOADS, schema=bigquery_schema(FILE_DOWNLOADS))
    table.time_partitioning = bigquery.TimePartitioning(field="timestamp")
    client.create_table(table, exists_ok=True)
    client.create_table(
        bigquery.Table(METADATA, schema=bigquery_schema(DISTRIBUTION_METADATA)), exists_ok=True
    )


@functools.cache
def load_public(endpoint: str, demo_dir: Path) -> Loaded:
    """Two packages × 8 days of demo rows in the emulator's copy of the public tables
    (once per emulator: test modules share it)."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=endpoint),
    )
    create_public_tables(client)
    raw = pl.scan_parquet(demo_dir / "file_downloads")
    first = dt.date(2026, 10, 10)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    window = raw.filter(
        (pl.col("timestamp") >= start) & (pl.col("timestamp") < start + dt.timedelta(days=8))
    )
    # Two mid-sized packages whose every row of the window fits the emulator's insert budget:
    # the tests compare the emulator's answers with the demo's over the whole window.
    sizes = (
        window.group_by("project")
        .len()
        .filter(pl.col("len").is_between(300, 1500))
        .sort("len", "project")
        .collect()["project"]
        .to_list()
    )
    assert len(sizes) >= 2, sizes
    projects = (sizes[len(sizes) // 2], sizes[len(sizes) * 5 // 6])
    rows = window.filter(pl.col("project").is_in(projects)).collect()
    assert 600 <= rows.height <= 3000, rows.height
    errors = client.insert_rows_json(DOWNLOADS, [jsonable(r) for r in rows.to_dicts()])
    assert not errors, errors[:3]
    meta = pq.read_table(demo_dir / "distribution_metadata.parquet").to_pylist()
    wanted = [r for r in meta if r["name"].replace("_", "-").lower() in projects]
    assert not client.insert_rows_json(METADATA, [jsonable(r) for r in wanted])
    client.close()
    return Loaded(tuple(sorted(projects)), first, first + dt.timedelta(days=7), rows)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path → bytes): the cache, byte for byte."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
