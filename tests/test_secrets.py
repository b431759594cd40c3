"""Planted credentials never leave the process that holds them.

A fake service-account key (``GOOGLE_APPLICATION_CREDENTIALS``; distinctive markers in
``private_key``, ``private_key_id`` and ``client_email``), tokens in the environment
(``GOOGLE_OAUTH_ACCESS_TOKEN``, ``CLOUDSDK_AUTH_ACCESS_TOKEN``, ``WORKBENCH_API_TOKEN``) and a
BigQuery endpoint with ``user:password@`` in it are planted; then every file and stream the
workbench produces is scanned for the markers: cache entries (decoded, not only their
compressed bytes), CLI stdout/stderr, Python logging at DEBUG, the case file, the scan's
CSV/JSON/Parquet, notebook outputs and widget state (with ``data:`` downloads decoded), and
error messages. The BigQuery paths run against the local emulator; the token endpoint of
the valid key is a local server that, like a careless proxy, echoes what it was sent.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import polars as pl
import pyarrow.parquet as pq
import pytest

from tests import tally
from tests.faultproxy import create_public_tables, jsonable
from workbench.analysis import analyze
from workbench.analysis import write as write_table
from workbench.cache import Cache
from workbench.errors import SourceError, redact
from workbench.query import RollupQuery
from workbench.sources.base import KINDS
from workbench.sources.bigquery import BigQuerySource, make_client
from workbench.sources.bigquery.faults import _service_error

from .conftest import ROOT, SMALL

KEY_ID = "WBLEAK-KEYID-51e2c9"
EMAIL = "wbleak-email-93f1@wbleak-proj.iam.gserviceaccount.com"
PRIVATE = "WBLEAK-PRIVKEY-7f3a9c"
TOKEN = "ya29.WBLEAK-TOKEN-c0ffee42"
SDK_TOKEN = "WBLEAK-SDKTOKEN-d00d"
WB_TOKEN = "WBLEAK-WBTOKEN-beef77"
USER = "wbleak-user-8c1"
PASSWORD = "WBLEAK-PASS-4d2b"
#: A signed JWT (an OAuth assertion, an ID token): a credential whatever it carries.
JWT = re.compile(rb"eyJ[\w-]{10,}\.eyJ[\w-]{10,}")
DATA_URI = re.compile(rb"data:[\w/+.-]+;base64,([A-Za-z0-9+/=]+)")


@dataclass
class Planted:
    """The planted credentials: files, environment, and the strings that must not leak."""

    root: Path
    bad_key: Path  # a key whose private_key is not a key (fails to load)
    good_key: Path  # a real RSA key whose token endpoint is local and echoes the request
    markers: list[str]  # the strings that must never come out
    token_hits: list[bytes] = field(default_factory=list)  # bodies the echoing server got
    echo_url: str = ""  # that server (it answers every POST with a 400 quoting the body)
    authorizations: list[str] = field(default_factory=list)  # the Authorization headers

    def env(self, key: Path | None = None) -> dict[str, str]:
        return {
            "GOOGLE_APPLICATION_CREDENTIALS": str(key or self.bad_key),
            "GOOGLE_OAUTH_ACCESS_TOKEN": TOKEN,
            "CLOUDSDK_AUTH_ACCESS_TOKEN": SDK_TOKEN,
            "WORKBENCH_API_TOKEN": WB_TOKEN,
            "NO_GCE_CHECK": "True",  # never probe a metadata server
            "CLOUDSDK_CONFIG": str(self.root / "gcloud"),  # never the user's gcloud login
        }


def endpoint_with_password(endpoint: str, path: str = "") -> str:
    return endpoint.replace("http://", f"http://{USER}:{PASSWORD}@", 1) + path


def _echoing_server(hits: list[bytes], authorizations: list[str]) -> http.server.HTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.append(body)
            authorizations.append(self.headers.get("Authorization", ""))
            quoted = f"bad request: {body!r}"  # a careless server quoting what it got
            answer = {"error": {"code": 400, "message": quoted}, "error_description": quoted}
            payload = json.dumps(answer).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def plant(root: Path, token_uri: str) -> Planted:
    """Write the two key files under ``root`` (the valid one's tokens come from ``token_uri``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "wbleak-proj",
        "private_key_id": KEY_ID,
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": token_uri,
    }
    not_a_key = f"-----BEGIN PRIVATE KEY-----\n{PRIVATE}\n-----END PRIVATE KEY-----\n"
    good, bad = root / "good-key.json", root / "bad-key.json"
    good.write_text(json.dumps({**info, "private_key": pem}))
    bad.write_text(json.dumps({**info, "private_key": not_a_key}))
    body = "".join(pem.splitlines()[1:-1])
    markers = [KEY_ID, EMAIL, PRIVATE, TOKEN, SDK_TOKEN, WB_TOKEN, PASSWORD, body[100:160]]
    return Planted(root, bad_key=bad, good_key=good, markers=markers)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    hits: list[bytes] = []
    authorizations: list[str] = []
    server = _echoing_server(hits, authorizations)
    secrets = plant(
        tmp_path_factory.mktemp("secrets"), f"http://127.0.0.1:{server.server_port}/token"
    )
    secrets.token_hits, secrets.authorizations = hits, authorizations
    secrets.echo_url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield secrets
    finally:
        server.shutdown()


# -- the scanner ----------------------------------------------------------------------------
def _variants(marker: str) -> list[bytes]:
    forms = {marker, urllib.parse.quote(marker), urllib.parse.quote_plus(marker)}
    forms |= {json.dumps(marker)[1:-1]}
    return [f.encode() for f in forms]


def _decoded(data: bytes) -> Iterable[bytes]:
    """``data`` and what it embeds: base64 ``data:`` URIs (the report app's download link)."""
    yield data
    for match in DATA_URI.finditer(data):
        try:
            yield base64.b64decode(match.group(1), validate=False)
        except ValueError:
            continue


def leaks(data: bytes | str, markers: list[str]) -> list[str]:
    """The planted secrets found in ``data`` (any encoding we can undo), and any signed JWT."""
    raw = data.encode() if isinstance(data, str) else data
    found = []
    for chunk in _decoded(raw):
        for marker in markers:
            if any(v in chunk for v in _variants(marker)):
                found.append(marker)
        jwt = JWT.search(chunk)
        if jwt:
            found.append(f"a signed JWT ({jwt.group(0)[:20]!r}…)")
    return sorted(set(found))


def scan_stream(what: str, data: bytes | str, markers: list[str]) -> list[str]:
    """Scan one output stream (stdout, a log, a page, a message); returns the leaks found."""
    size = len(data.encode() if isinstance(data, str) else data)
    tally.count("secrets: streams scanned")
    tally.volume("secrets: bytes scanned", size)
    return [f"{what}: {m}" for m in leaks(data, markers)]


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured log record: its formatted line and all its fields, except the raw HTTP
    traffic google-auth attaches to its DEBUG records (``httpRequest``/``httpResponse``
    extras, printed only by a structured formatter the user opts into; an echoing token
    server's answer is in there by design)."""
    raw_http = {"httpRequest", "httpResponse"}
    fields = (
        json.dumps({k: v for k, v in r.__dict__.items() if k not in raw_http}, default=str)
        for r in caplog.records
    )
    return caplog.text + "\n".join(fields)


def _parquet_text(path: Path) -> bytes:
    """A Parquet file's metadata and every value, decoded (data pages are compressed)."""
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    parts = [k + b"=" + v for k, v in meta.items()]
    parts.append(json.dumps(table.to_pylist(), default=str).encode())
    return b"\n".join(parts)


def scan_files(paths: Iterable[Path], markers: list[str]) -> list[str]:
    """Scan every file (Parquet decoded too); returns the leaks found."""
    found = []
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        tally.count("secrets: files scanned")
        tally.volume("secrets: bytes scanned", len(data))
        found += [f"{path.name}: {m}" for m in leaks(data, markers)]
        if path.suffix == ".parquet" and data[:4] == b"PAR1":
            found += [f"{path.name} (decoded): {m}" for m in leaks(_parquet_text(path), markers)]
    return found


def test_the_scanner_finds_what_was_planted(planted: Planted) -> None:
    """The scanner itself: every marker, in the encodings it claims to undo."""
    assert len(planted.markers) == 8 and all(len(m) >= 16 for m in planted.markers)
    for marker in planted.markers:
        assert leaks(f"x {marker} y", planted.markers) == [marker]
        assert leaks(json.dumps({"k": f"q={urllib.parse.quote(marker)}"}), planted.markers)
        page = f"<a href='data:text/html;base64,{base64.b64encode(marker.encode()).decode()}'>"
        assert leaks(page, planted.markers) == [marker]
    assert leaks("assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4eHh4In0.sig", [])
    assert leaks("nothing to see: demo:7, bigquery, 2026-10-01", planted.markers) == []


def test_library_errors_are_redacted_before_they_are_shown(planted: Planted) -> None:
    """The last line of defence: whatever a library's error quotes (a URL with a login, a
    token parameter, a signed JWT, a bearer token, a private key) is cut before it is shown."""
    from google.api_core import exceptions as gexc

    jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJ3YmxlYWsifQ.c2lnbmF0dXJl"
    quoted = [
        f"POST http://{USER}:{PASSWORD}@bq.internal/bigquery/v2/jobs: Access Denied",
        f"Access Denied for http://{USER}:{PASSWORD}@bq.internal/x",
        f"GET https://bq.example/x?access_token={TOKEN}&alt=json: Forbidden",
        f"invalid_grant: assertion={jwt}",
        f"token rejected: Authorization: Bearer {TOKEN}",
        f"bad key -----BEGIN PRIVATE KEY-----\n{PRIVATE}\n-----END PRIVATE KEY----- in file",
    ]
    for text in quoted:
        assert leaks(text, planted.markers), "the precondition: the text holds a secret"
        assert leaks(redact(text), planted.markers) == [], text
        for error in (gexc.Forbidden(text), gexc.NotFound(text), gexc.BadRequest(text)):
            assert leaks(str(_service_error(error, "the query")), planted.markers) == [], text
        tally.count("secrets: messages redacted")
    assert redact("demo:7, 2026-10-01..2026-10-31, bigquery:my-project") == (
        "demo:7, 2026-10-01..2026-10-31, bigquery:my-project"
    )


# -- BigQuery through the emulator -------------------------------------------------------------
@dataclass(frozen=True)
class Loaded:
    endpoint: str
    package: str
    start: dt.date
    end: dt.date


@pytest.fixture(scope="module")
def public_tables(bq_endpoint: str, small_demo_dir: Path) -> Loaded:
    """One package's rows in the emulator under the real table names (what the CLI reads)."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project="bigquery-public-data",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=bq_endpoint),
    )
    create_public_tables(client)
    raw = pl.scan_parquet(small_demo_dir / "file_downloads")
    counts = raw.group_by("project").len().sort("len", "project").collect()
    package = str(counts["project"][counts.height // 3])
    rows = raw.filter(pl.col("project") == package).collect().head(3000)

    errors = client.insert_rows_json(
        "bigquery-public-data.pypi.file_downloads", [jsonable(r) for r in rows.to_dicts()]
    )
    assert not errors, errors[:3]
    return Loaded(bq_endpoint, package, SMALL.start, SMALL.end)


def _query(loaded: Loaded) -> RollupQuery:
    return RollupQuery.of(loaded.package, loaded.start, loaded.end)


@pytest.mark.emulator
def test_bigquery_errors_never_quote_credentials(
    public_tables: Loaded,
    planted: Planted,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for key, value in planted.env().items():
        monkeypatch.setenv(key, value)
    found: list[str] = []
    # 1. a service error. The client library quotes the request URL in its errors (and
    # debug logs): with the login in the endpoint URL, the password would be in the message.
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    nowhere = endpoint_with_password(public_tables.endpoint, "/nowhere")
    naive = bigquery.Client(
        project="x",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=nowhere),
    )
    with pytest.raises(Exception) as raw:
        naive.query("SELECT 1").result()
    assert PASSWORD in str(raw.value), "the precondition: the library quotes the URL"
    caplog.clear()
    monkeypatch.setenv("WORKBENCH_BIGQUERY_ENDPOINT", nowhere)
    with pytest.raises(Exception) as ours:  # our client: the login is not in the URL at all
        make_client().query("SELECT 1").result()
    assert "/nowhere/" in str(ours.value) and PASSWORD not in str(ours.value)
    source = BigQuerySource()
    for call in (
        lambda: source.estimate(KINDS, _query(public_tables)),
        lambda: source.fetch(("downloads",), _query(public_tables)),
        lambda: source.releases((public_tables.package,)),
    ):
        with pytest.raises(SourceError) as error:
            call()
        found += scan_stream("service error", str(error.value), planted.markers)
    # the login still reaches the endpoint, as a Basic authorization header
    monkeypatch.setenv("WORKBENCH_BIGQUERY_ENDPOINT", endpoint_with_password(planted.echo_url))
    with pytest.raises(SourceError) as error:
        BigQuerySource().estimate(KINDS, _query(public_tables))
    login = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert planted.authorizations[-1] == f"Basic {login}"
    found += scan_stream("echoing endpoint", str(error.value), planted.markers)
    # 2. a token endpoint that echoes the signed assertion back
    monkeypatch.delenv("WORKBENCH_BIGQUERY_ENDPOINT")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(planted.good_key))
    hits = len(planted.token_hits)
    with pytest.raises(SourceError, match="credentials") as error:
        BigQuerySource().estimate(KINDS, _query(public_tables))
    assert len(planted.token_hits) > hits, "the precondition: the token endpoint was asked"
    assert JWT.search(planted.token_hits[-1]), "the precondition: the request held a JWT"
    found += scan_stream("rejected credentials", str(error.value), planted.markers)
    # 3. a key file that does not load
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(planted.bad_key))
    with pytest.raises(SourceError, match="credentials") as error:
        BigQuerySource().estimate(KINDS, _query(public_tables))
    found += scan_stream("unusable key file", str(error.value), planted.markers)
    found += scan_stream("python logging", log_text(caplog), planted.markers)
    assert found == []


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.emulator
def test_cli_outputs_cache_and_reports_hold_no_credential(
    public_tables: Loaded,
    planted: Planted,
    small_demo_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")},
        **planted.env(planted.good_key),
        "WORKBENCH_CACHE_DIR": str(tmp_path / "cache"),
        "WORKBENCH_DATA_DIR": str(small_demo_dir.parent),
    }
    served = {
        **base,
        "WORKBENCH_BIGQUERY_ENDPOINT": endpoint_with_password(public_tables.endpoint),
    }
    span = ["--start", str(public_tables.start), "--end", str(public_tables.end)]
    pkg = public_tables.package
    runs = {
        "report": (
            ["report", pkg, "--source", "bigquery", "--yes", *span, "--out", "out/case.html"],
            served,
            0,
        ),
        "scan": (
            [
                "scan",
                "--source",
                "bigquery",
                "--yes",
                "--packages",
                pkg,
                *span,
                "--out",
                "out/r.json",
            ],
            served,
            0,
        ),
        "cache list": (["cache", "list"], served, 0),
        "service error": (
            ["fetch", pkg, "--source", "bigquery", "--yes", *span],
            {
                **base,
                "WORKBENCH_BIGQUERY_ENDPOINT": endpoint_with_password(
                    public_tables.endpoint, "/nowhere"
                ),
            },
            4,
        ),
        "rejected key": (["fetch", pkg, "--source", "bigquery", "--yes", *span], base, 4),
        "unusable key": (
            ["fetch", pkg, "--source", "bigquery", "--yes", *span],
            {**base, **planted.env(planted.bad_key)},
            4,
        ),
    }
    found: list[str] = []
    # independent runs at once (the cache's lock keeps report and scan from querying twice);
    # the listing of the cache last
    with ThreadPoolExecutor(len(runs) - 1) as pool:
        futures = {
            name: pool.submit(_run, args, env, tmp_path)
            for name, (args, env, _code) in runs.items()
            if name != "cache list"
        }
        results = {name: future.result() for name, future in futures.items()}
    results["cache list"] = _run(*runs["cache list"][:2], tmp_path)
    for name, done in results.items():
        code = runs[name][2]
        assert done.returncode == code, (name, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, (name, done.stderr[-2000:])
        found += scan_stream(f"{name} stdout", done.stdout, planted.markers)
        found += scan_stream(f"{name} stderr", done.stderr, planted.markers)
    assert (tmp_path / "out" / "case.html").stat().st_size > 10_000
    # the other export formats, from the same (cached) BigQuery rollups, in this process
    for key, value in served.items():
        monkeypatch.setenv(key, value)
    caplog.set_level(logging.DEBUG)
    analysis = analyze(BigQuerySource(), _query(public_tables), cache=Cache())
    for fmt in ("csv", "parquet"):
        write_table(analysis, tmp_path / "out" / f"r.{fmt}")
    found += scan_stream("python logging", log_text(caplog), planted.markers)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len([p for p in files if p.parent.name == "cache"]) >= 4  # rollups and metadata
    found += scan_files(files, planted.markers)
    assert found == []


@pytest.mark.emulator
def test_notebook_outputs_hold_no_credential(
    public_tables: Loaded,
    planted: Planted,
    small_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The report app on BigQuery (the case file and its base64 download in the widget
    state), and the investigate app on a BigQuery that answers with an error."""
    from nbclient import NotebookClient

    for key, value in planted.env().items():
        monkeypatch.setenv(key, value)
    cases = {
        "03_report.ipynb": endpoint_with_password(public_tables.endpoint),
        "01_investigate.ipynb": endpoint_with_password(public_tables.endpoint, "/nowhere"),
    }
    notebooks = {}
    for name, endpoint in cases.items():
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        params.source += (
            f'\nsource = "bigquery"\npackage = "{public_tables.package}"\n'
            f"days = {(public_tables.end - public_tables.start).days + 1}\n"
        )
        env = {**os.environ, "WORKBENCH_BIGQUERY_ENDPOINT": endpoint}  # the kernel's
        notebooks[name] = (nb, NotebookClient(nb, timeout=300, kernel_name="python3"), env)
    with ThreadPoolExecutor(len(notebooks)) as pool:  # both kernels at once
        runs = [pool.submit(client.execute, env=env) for _nb, client, env in notebooks.values()]
        for run in runs:
            run.result()
    found: list[str] = []
    for name, (nb, _client, _env) in notebooks.items():
        text = nbformat.writes(nb)
        state = json.dumps(nb.metadata.get("widgets", {}))
        # the precondition: the app ran against BigQuery (a case file; an error shown)
        assert ("Case file for" if name.startswith("03") else "wb-error") in state, state[:2000]
        found += scan_stream(f"{name} (executed)", text, planted.markers)
    assert found == []
