"""The ClickHouse double (``tests/chdouble``), proved with the real ``clickhouse-connect`` client.

The double is ClickPy's ``pypi`` database in ClickHouse's own engine (chdb) behind ClickHouse's
HTTP interface, filled from the session's small demo through ClickPy's own DDL and load
transformation. What must hold, so that the ClickPy source can be tested on it offline:

* parameterised ``query_arrow`` answers equal the same numbers computed with Polars from the
  demo's raw Parquet rows, for every view the source may read;
* errors reach the client as ClickHouse's (``DatabaseError`` with the ClickHouse code);
* parameter values travel as ``param_*`` data, never as SQL, whatever they hold;
* each transport fault (down, slow, reset, dropped mid-answer, 5xx from ClickHouse or a proxy,
  a 200 that is not ClickHouse's) ends in a client-side exception, whose type is pinned here
  (``FAULTS``) for the source to map to one-line errors.
"""

from __future__ import annotations

import datetime as dt
import http.client
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import clickhouse_connect
import polars as pl
import pyarrow as pa
import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import (
    DatabaseError,
    OperationalError,
    StreamFailureError,
)

from tests import tally
from tests.conftest import ClickPyDouble
from tests.faultproxy import Fault, FaultyProxy, clickhouse_exception, dead_endpoint

PER_PROJECT = (
    "SELECT project, sum(count) AS n FROM pypi.pypi_downloads_per_day "
    "WHERE date >= {start:Date} AND date <= {end:Date} AND project IN {projects:Array(String)} "
    "GROUP BY project"
)
START, END = dt.date(2026, 9, 10), dt.date(2026, 10, 5)


def connect(url: str, **kwargs: Any) -> Client:
    """A client as the ClickPy source will make one (plain HTTP here, HTTPS on ClickPy)."""
    parts = urlsplit(url)
    return clickhouse_connect.get_client(
        host=parts.hostname,
        port=parts.port,
        username=kwargs.pop("username", "play"),
        password="",
        secure=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def client(clickpy_endpoint: str) -> Iterator[Client]:
    c = connect(clickpy_endpoint)
    yield c
    c.close()


@pytest.fixture(scope="module")
def rows(small_demo_dir: Path) -> pl.DataFrame:
    """The demo's raw rows in ClickPy's columns, computed with Polars: the reference."""
    details = pl.col("details")
    return (
        pl.scan_parquet(small_demo_dir / "file_downloads" / "*.parquet")
        .select(
            date=pl.col("timestamp").dt.date(),  # UTC timestamps, UTC dates
            country_code=pl.col("country_code").fill_null(""),
            project=pl.col("project"),
            type=pl.col("file").struct.field("type").fill_null(""),
            installer=details.struct.field("installer").struct.field("name").fill_null(""),
            python_minor=details.struct.field("python")
            .fill_null("")
            .str.split(".")
            .list.slice(0, 2)
            .list.join("."),
            system=details.struct.field("system").struct.field("name").fill_null(""),
            version=pl.col("file").struct.field("version").fill_null(""),
        )
        .collect()
    )


def _totals(table: pa.Table, key: str) -> dict[Any, int]:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return dict(zip(frame[key].to_list(), frame["n"].to_list(), strict=True))


# -- the answers ----------------------------------------------------------------------------
def test_loaded_once_per_session(
    clickpy_double: ClickPyDouble, client: Client, rows: pl.DataFrame
) -> None:
    """The loader checked every view against the raw rows; the session pays this once."""
    assert client.command("SELECT sum(count) FROM pypi.pypi_downloads_per_day") == rows.height
    assert clickpy_double.loaded["raw_rows"] == rows.height  # rows with project and timestamp
    assert clickpy_double.loaded["rows_without_project_or_timestamp"] == 0
    assert clickpy_double.loaded["pypi_rows"] == rows.height
    assert clickpy_double.start_seconds < 120, clickpy_double


def test_per_project_downloads_equal_polars(client: Client, rows: pl.DataFrame) -> None:
    sizes = rows.group_by("project").len().sort("len", descending=True)["project"].to_list()
    projects = [*sizes[:3], sizes[-1], "no-such-project"]
    got = client.query_arrow(
        PER_PROJECT, parameters={"start": START, "end": END, "projects": projects}
    )
    want = (
        rows.filter(pl.col("date").is_between(START, END) & pl.col("project").is_in(projects))
        .group_by("project")
        .agg(n=pl.len())
    )
    assert _totals(got, "project") == dict(zip(want["project"], want["n"], strict=True))
    assert len(want) >= 3


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("pypi_downloads", "project"),
        ("pypi_downloads_per_day", "date"),
        ("pypi_downloads_per_day_by_version", "version"),
        ("pypi_downloads_per_day_by_version_by_country", "country_code"),
        ("pypi_downloads_per_day_by_version_by_file_type", "type"),
        ("pypi_downloads_per_day_by_version_by_python", "python_minor"),
        ("pypi_downloads_per_day_by_version_by_installer_by_type", "installer"),
        ("pypi_downloads_per_day_by_version_by_system", "system"),
        ("pypi_downloads_per_day_by_version_by_installer_by_type_by_country", "type"),
        ("pypi_downloads_per_day_by_version_by_python_by_country", "country_code"),
        ("pypi_downloads_per_day_by_version_by_system_by_country", "system"),
    ],
)
def test_each_view_equals_polars(client: Client, rows: pl.DataFrame, table: str, key: str) -> None:
    """ClickPy's transformation (NULL → '', python → major.minor) as its views store it."""
    project = rows["project"].mode().sort()[0]
    got = client.query_arrow(
        "SELECT {key:Identifier} AS k, sum(count) AS n FROM pypi.{table:Identifier} "
        "WHERE project = {project:String} GROUP BY k",
        parameters={"key": key, "table": table, "project": project},
    )
    want = rows.filter(pl.col("project") == project).group_by(key).agg(n=pl.len())
    assert _totals(got.rename_columns([key, "n"]), key) == dict(
        zip(want[key], want["n"], strict=True)
    )


def test_first_and_last_day_and_projects(
    client: Client, rows: pl.DataFrame, small_demo_dir: Path
) -> None:
    got = pl.from_arrow(
        client.query_arrow(
            "SELECT project, max(max_date) AS last, min(min_date) AS first "
            "FROM pypi.pypi_downloads_max_min GROUP BY project"
        )
    )
    assert isinstance(got, pl.DataFrame)
    want = rows.group_by("project").agg(last=pl.col("date").max(), first=pl.col("date").min())
    assert got.sort("project").equals(want.sort("project"))
    meta = pl.read_parquet(small_demo_dir / "distribution_metadata.parquet")
    projects = client.query_arrow(
        "SELECT name, count() AS n, sum(length(requires_dist)) AS deps FROM pypi.projects "
        "GROUP BY name"
    )
    want_meta = meta.group_by("name").agg(n=pl.len(), deps=pl.col("requires_dist").list.len().sum())
    frame = pl.from_arrow(projects)
    assert isinstance(frame, pl.DataFrame)
    assert frame.sort("name").cast(want_meta.schema).equals(want_meta.sort("name"))


def test_types_as_the_client_receives_them(client: Client) -> None:
    """Arrow: Date → date32, LowCardinality(String) → plain string, count → int64; the
    Native path (``client.query``) gives Python dates and str."""
    table = client.query_arrow(
        "SELECT date, country_code, type, count FROM "
        "pypi.pypi_downloads_per_day_by_version_by_installer_by_type_by_country LIMIT 1"
    )
    assert table.schema.types == [pa.date32(), pa.string(), pa.string(), pa.int64()]
    result = client.query("SELECT date, country_code, python_minor FROM pypi.pypi LIMIT 1")
    date, country, python = result.result_rows[0]
    assert isinstance(date, dt.date) and isinstance(country, str) and isinstance(python, str)
    assert [t.name for t in result.column_types] == [
        "Date",
        "LowCardinality(String)",
        "LowCardinality(String)",
    ]


def test_settings_and_database_apply_per_query(clickpy_endpoint: str, client: Client) -> None:
    got = client.query_arrow("SELECT getSetting('max_threads') AS m", settings={"max_threads": 3})
    assert got.column("m").to_pylist() == [3]
    # an unknown setting is ignored by the double (ClickHouse would answer 115 UNKNOWN_SETTING)
    assert client.query_arrow("SELECT 1 AS x", settings={"no_such_setting": 1}).num_rows == 1
    scoped = connect(clickpy_endpoint, database="pypi")
    assert scoped.command("SELECT count() > 0 FROM pypi_downloads") == 1
    scoped.close()


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "code", "name", "status"),
    [
        ("SELEC 1", 62, "SYNTAX_ERROR", 400),
        ("SELECT * FROM pypi.no_such_table", 60, "UNKNOWN_TABLE", 404),
        ("SELECT {d:Date}", 456, "UNKNOWN_QUERY_PARAMETER", 500),
        ("SELECT throwIf(1, 'boom')", 395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO", 500),
    ],
)
def test_errors_carry_the_clickhouse_code(
    client: Client, clickpy_double: ClickPyDouble, sql: str, code: int, name: str, status: int
) -> None:
    with pytest.raises(DatabaseError) as caught:
        client.query_arrow(sql)
    assert type(caught.value) is DatabaseError
    assert (caught.value.code, caught.value.name) == (code, name)
    assert f"Code: {code}. DB::Exception:" in str(caught.value)
    conn = http.client.HTTPConnection(clickpy_double.host, clickpy_double.port, timeout=10)
    conn.request("POST", "/?user=play", body=sql.encode())
    answer = conn.getresponse()
    assert answer.status == status
    assert answer.getheader("X-ClickHouse-Exception-Code") == str(code)
    assert answer.read().decode().startswith(f"Code: {code}. DB::Exception: ")
    conn.close()


def test_wrong_user_is_refused(clickpy_endpoint: str) -> None:
    with pytest.raises(DatabaseError) as caught:
        connect(clickpy_endpoint, username="default")
    assert (caught.value.code, caught.value.name) == (516, "AUTHENTICATION_FAILED")


# -- parameters are data --------------------------------------------------------------------
HOSTILE = [
    "'",
    "''",
    "'; DROP TABLE pypi.pypi; --",
    "x') OR 1=1 --",
    "\\",
    "\\'",
    "\\N",
    "a\\tb\\nc",
    "tab\there\nnew line\r\n",
    '"; DROP DATABASE pypi; "',
    "`pypi`.`pypi`",
    "{projects:Array(String)}",
    "$$ heredoc $$",
    "/* comment */ --",
    "%s %(x)s ? :name",
    "é ü ß 中文 🐍 \u202e\u200d",
    " leading and trailing ",
    "x" * 5000,  # past 4 KiB: the client switches to a multipart form
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_parameters_are_data(
    clickpy_proxy: FaultyProxy, rows: pl.DataFrame, value: str
) -> None:
    clickpy_proxy.inject(None)
    c = connect(clickpy_proxy.url)
    clickpy_proxy.inject(None)  # forget the start-up requests
    got = c.query_arrow(
        "SELECT {v:String} AS echo, "
        "(SELECT sum(count) FROM pypi.pypi_downloads WHERE project = {v:String}) AS one, "
        "(SELECT count() FROM pypi.pypi_downloads_per_day WHERE project IN {vs:Array(String)}) "
        "AS many",
        parameters={"v": value, "vs": [value, value[::-1]]},
    )
    assert got.to_pylist() == [{"echo": value, "one": 0, "many": 0}]
    (request,) = clickpy_proxy.seen
    form = request.headers.get("Content-Type", "").startswith("multipart/form-data")
    assert form == (len(value) > 4000)
    if not form:  # the SQL is the body, the values are URL arguments
        assert value not in request.raw.decode()
        assert "param_v" in request.params and "param_vs" in request.params
    assert c.command("SELECT count() FROM pypi.pypi") == rows.height  # nothing dropped
    c.close()
    tally.count("hostile input: ClickHouse parameters")


def test_many_projects_go_as_a_form(client: Client, rows: pl.DataFrame) -> None:
    """A long project list passes 4 KiB of URL arguments: the client sends a multipart form."""
    projects = [*rows["project"].unique().to_list(), *(f"absent-{i:04d}" for i in range(600))]
    got = client.query_arrow(
        PER_PROJECT, parameters={"start": START, "end": END, "projects": projects}
    )
    want = rows.filter(pl.col("date").is_between(START, END)).group_by("project").agg(n=pl.len())
    assert _totals(got, "project") == dict(zip(want["project"], want["n"], strict=True))


# -- what the client sends ------------------------------------------------------------------
def test_what_the_client_sends(clickpy_proxy: FaultyProxy) -> None:
    """Pinned from the wire: the start-up probes and a parameterised query_arrow."""
    clickpy_proxy.inject(None)
    c = connect(clickpy_proxy.url)
    c.query_arrow(PER_PROJECT, parameters={"start": START, "end": END, "projects": ["a"]})
    c.close()
    sent = [(s.method, s.raw.decode().split("\n FORMAT ")) for s in clickpy_proxy.seen]
    assert sent == [
        ("POST", ["SELECT version(), timezone()"]),
        ("POST", ["SELECT name, value, readonly FROM system.settings LIMIT 10000", "Native"]),
        ("POST", ["SELECT 1 AS check", "Native"]),
        ("POST", [PER_PROJECT, "Arrow"]),
    ]
    probe, query = clickpy_proxy.seen[2], clickpy_proxy.seen[3]
    assert probe.params["client_protocol_version"] == "54405"
    assert {"param_start": "2026-09-10", "param_end": "2026-10-05"}.items() <= query.params.items()
    assert query.params["param_projects"] == "['a']"
    assert query.params["wait_end_of_query"] == "1"
    assert query.params["query_id"]  # a fresh uuid per request
    assert query.headers["Authorization"] == "Basic cGxheTo="  # play:
    assert query.headers["User-Agent"].startswith("clickhouse-connect/")
    assert query.headers["Accept-Encoding"] == "identity"  # query_arrow asks no compression
    assert query.params["session_id"]  # autogenerated: one session per client
    assert query.params["send_progress_in_http_headers"] == "1"


# -- faults ---------------------------------------------------------------------------------
HTML = {"Content-Type": "text/html"}
JSON = {"Content-Type": "application/json"}

#: fault → the exception clickhouse-connect raises from query_arrow (exact type), the code it
#: carries, and how many requests the client made (it retries a reset once, 503 twice).
FAULTS: dict[str, tuple[Fault, type[Exception], int | None, int]] = {
    "reset": (Fault("reset"), OperationalError, None, 3),
    "slow": (Fault("slow", delay=3.0), OperationalError, None, 1),
    "drop mid-answer": (Fault("drop"), OperationalError, None, 3),
    "ClickHouse 500": (
        clickhouse_exception(241, "MEMORY_LIMIT_EXCEEDED", "Memory limit exceeded"),
        DatabaseError,
        241,
        1,
    ),
    "proxy 502": (
        Fault("garbage", status=502, message="<html>502 Bad Gateway</html>", headers=HTML),
        DatabaseError,
        None,
        1,
    ),
    "proxy 503": (
        Fault("garbage", status=503, message="<html>503 Unavailable</html>", headers=HTML),
        OperationalError,
        None,
        3,
    ),
    "200 HTML": (
        Fault("garbage", status=200, message="<html>Sign in</html>", headers=HTML),
        pa.ArrowInvalid,
        None,
        1,
    ),
    "200 JSON error": (
        Fault("garbage", status=200, message='{"error": "quota exceeded"}', headers=JSON),
        pa.ArrowInvalid,
        None,
        1,
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_each_fault_raises_on_the_client(clickpy_proxy: FaultyProxy, name: str) -> None:
    fault, expected, code, attempts = FAULTS[name]
    clickpy_proxy.inject(None)
    c = connect(clickpy_proxy.url, send_receive_timeout=1)
    clickpy_proxy.inject(fault)
    began = time.monotonic()
    with pytest.raises(Exception) as caught:
        c.query_arrow(PER_PROJECT, parameters={"start": START, "end": END, "projects": ["a"]})
    assert type(caught.value) is expected, (name, repr(caught.value))
    assert getattr(caught.value, "code", None) == code
    assert len(clickpy_proxy.seen) == attempts
    assert time.monotonic() - began < 6
    clickpy_proxy.inject(None)
    c.close()
    tally.count("faults injected: ClickHouse double")


#: Where the Native path (``client.query``, streamed) raises otherwise than query_arrow: a
#: broken or foreign body is found while reading the stream.
NATIVE = {
    "drop mid-answer": StreamFailureError,
    "200 HTML": StreamFailureError,
    "200 JSON error": StreamFailureError,
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_each_fault_on_the_native_path(clickpy_proxy: FaultyProxy, name: str) -> None:
    fault, expected, code, _ = FAULTS[name]
    clickpy_proxy.inject(None)
    c = connect(clickpy_proxy.url, send_receive_timeout=1)
    clickpy_proxy.inject(fault)
    with pytest.raises(Exception) as caught:
        c.query("SELECT project, count FROM pypi.pypi_downloads")
    assert type(caught.value) is NATIVE.get(name, expected), (name, repr(caught.value))
    assert getattr(caught.value, "code", None) == code
    clickpy_proxy.inject(None)
    c.close()
    tally.count("faults injected: ClickHouse double")


@pytest.mark.parametrize(
    "fault",
    [Fault("reset", times=1), Fault("drop", times=1), Fault("garbage", status=503, times=1)],
    ids=["reset", "drop", "503"],
)
def test_one_transient_fault_is_retried_by_the_client(
    clickpy_proxy: FaultyProxy, fault: Fault
) -> None:
    """clickhouse-connect itself retries a read once after a reset or a drop, and after 503:
    a single blip never reaches the source."""
    clickpy_proxy.inject(None)
    c = connect(clickpy_proxy.url)
    clickpy_proxy.inject(fault)
    got = c.query_arrow("SELECT count() AS n FROM pypi.pypi_downloads")
    assert got.num_rows == 1 and len(clickpy_proxy.seen) == 2
    clickpy_proxy.inject(None)
    c.close()


def test_a_server_that_is_down_refuses_at_connect() -> None:
    began = time.monotonic()
    with pytest.raises(OperationalError) as caught:
        connect(dead_endpoint())
    assert type(caught.value) is OperationalError
    assert "Connection refused" in str(caught.value)
    assert time.monotonic() - began < 5
