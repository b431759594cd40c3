"""The ClickPy source, with the real ``clickhouse-connect`` client against the ClickHouse double
(ClickPy's own DDL in ClickHouse's engine, ``tests/chdouble``), filled from the small demo.

What must hold:

* the SQL is the golden text whatever the names and dates (they travel as ``param_*``), and
  hostile names are refused before anything is sent;
* the same generated rows give the same downloads rollup and the same population features in
  the demo (DuckDB), the BigQuery emulator and ClickPy, at their common grain (ClickPy has no
  CI flag and no client detail), and match a plain Polars reference from the raw rows;
* release metadata agrees with the demo's;
* the day-by-day cache fetches only missing days from ClickPy (queries counted on the wire);
* every fault (down, slow, a ClickHouse exception, a proxy's 502/503, a reset, a dropped
  answer, a 200 that is not ClickHouse's) is one :class:`SourceError` line without the URL's
  login, caches nothing, and the same load gives the fault-free answer once it clears;
* ``workbench fetch`` and ``workbench investigate`` work on ``--source clickpy``, and print one
  error line with exit code 4 when ClickPy is down.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from tests import tally
from tests.faultproxy import (
    Fault,
    FaultyProxy,
    Loaded,
    Seen,
    clickhouse_exception,
    dead_endpoint,
    jsonable,
    routed,
)
from tests.test_faults import snapshot
from workbench import config, data
from workbench.cache import Cache
from workbench.cli import main
from workbench.dimensions import MIRROR_CLIENTS
from workbench.errors import InvalidInputError, SourceError
from workbench.population import features
from workbench.query import DayRange, RollupQuery
from workbench.schema import DIMENSIONS, FILE_DOWNLOADS, bigquery_schema
from workbench.sources import open_source
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.clickpy import ClickPySource, sql
from workbench.sources.clickpy.source import Endpoint
from workbench.sources.demo import DemoSource
from workbench.sources.local import ParquetSource

from .conftest import SMALL

TODAY = dt.date(2026, 11, 25)
GOLDEN = Path(__file__).parent / "golden"
SECRET = "s3cret-pw"


def _sent(seen: Seen) -> str:
    """The SQL of a request (the client appends its FORMAT)."""
    return seen.raw.decode().rsplit("\n FORMAT ", 1)[0]


def _queries(proxy: FaultyProxy) -> list[Seen]:
    """The source's queries among the requests (not the client's start-up probes)."""
    return [s for s in proxy.seen if s.raw.endswith(b"\n FORMAT Arrow")]


def _is_query(seen: Seen) -> bool:
    return seen.raw.endswith(b"\n FORMAT Arrow")


@dataclass(frozen=True)
class Window:
    """Some packages over some days of the demo."""

    projects: tuple[str, ...]
    first: dt.date
    last: dt.date


def _query(window: Window | Loaded, first: int = 0, last: int = 7) -> RollupQuery:
    days = (window.first + dt.timedelta(days=first), window.first + dt.timedelta(days=last))
    return RollupQuery.of(list(window.projects), *days, today=TODAY)


def _with_login(url: str, user: str = "play", password: str = "") -> str:
    return url.replace("http://", f"http://{user}:{password}@", 1)


@pytest.fixture(scope="module")
def window(small_demo_dir: Path) -> Window:
    """Two mid-sized packages over eight days (no emulator needed)."""
    names = DemoSource(SMALL, data_dir=small_demo_dir.parent).project_names()
    first = SMALL.end - dt.timedelta(days=20)
    return Window(tuple(sorted(names[20:22])), first, first + dt.timedelta(days=7))


@pytest.fixture
def clickpy(clickpy_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> ClickPySource:
    monkeypatch.setenv(config.CLICKPY_URL_ENV, clickpy_endpoint)
    return ClickPySource()


@pytest.fixture
def via(clickpy_proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    """ClickPy reached through the faulty proxy."""
    yield from routed(clickpy_proxy, monkeypatch, config.CLICKPY_URL_ENV)


@pytest.fixture
def emulator(bq_endpoint: str, public: Loaded, monkeypatch: pytest.MonkeyPatch) -> BigQuerySource:
    """The BigQuery source on the emulator's copy of the public tables (``public``)."""
    monkeypatch.setenv(config.BIGQUERY_ENDPOINT_ENV, bq_endpoint)
    return BigQuerySource()


# -- the SQL ---------------------------------------------------------------------------------
BUILT: dict[str, Callable[[], str]] = {
    "clickpy_downloads.sql": lambda: sql.downloads_sql(projects=True),
    "clickpy_downloads_all.sql": lambda: sql.downloads_sql(projects=False),
    "clickpy_population.sql": sql.population_sql,
    "clickpy_release_files.sql": sql.release_files_sql,
    "clickpy_dependent_files.sql": sql.dependent_files_sql,
    "clickpy_first_releases.sql": sql.first_releases_sql,
    "clickpy_names.sql": sql.names_sql,
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_golden_sql(name: str) -> None:
    text = BUILT[name]() + "\n"
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_the_population_reads_views_and_always_sums_their_counts() -> None:
    text = sql.population_sql()
    assert "pypi.pypi\n" not in text and "FROM pypi.pypi " not in text  # never the raw table
    for view in sql.POPULATION_VIEWS.values():
        assert f"FROM {view}\n  WHERE {sql.WINDOW}\n" in text
    assert text.count("sum(count) AS n") == len(sql.POPULATION_VIEWS)
    assert len(re.findall(r"\bcount\b(?!\()", text)) == len(sql.POPULATION_VIEWS)


def test_the_sql_sent_never_depends_on_names_or_dates(via: FaultyProxy, window: Window) -> None:
    """Two fetches of other packages and days send the golden text; the values are
    ``param_*`` arguments."""
    queries = [
        _query(window),
        RollupQuery.of(["Foo_Bar", "a.b-c", "requests"], "2026-09-01", "2026-09-03", today=TODAY),
    ]
    for query in queries:
        ClickPySource().fetch(("downloads",), query)
    sent = _queries(via)
    assert [_sent(s) for s in sent] == [sql.downloads_sql(projects=True)] * 2
    assert sent[1].params["param_projects"] == "['a-b-c', 'foo-bar', 'requests']"
    assert (sent[1].params["param_start"], sent[1].params["param_end"]) == (
        "2026-09-01",
        "2026-09-03",
    )
    for seen, query in zip(sent, queries, strict=True):
        assert query.projects is not None
        body = seen.raw.decode()
        assert not any(name in body for name in query.projects)
        assert str(query.days.start) not in body


HOSTILE_NAMES = [
    "x'; DROP TABLE pypi.pypi; --",
    "a'b",
    'a"b',
    "back\\slash",
    "\\'",
    "rеquests",  # Cyrillic е
    "ｒequests",  # fullwidth ｒ
    "requests\u200d",
    "{projects:Array(String)}",
    "x' OR '1'='1",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_names_never_reach_clickpy(via: FaultyProxy, name: str) -> None:
    with pytest.raises(InvalidInputError):
        RollupQuery.of([name], "2026-10-01", "2026-10-02", today=TODAY)
    args = ["fetch", "--source", "clickpy", "--start", "2026-10-01", "--end", "2026-10-02"]
    result = CliRunner().invoke(main, [*args, "--quiet", "--", name])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert via.seen == []  # not even a connection
    tally.count("hostile input: names for ClickPy")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host",
        "clickpy-clickhouse.clickhouse.com",
        "http://",
        "http://h:99999",
        "http://h/?x=1",
    ],
)
def test_a_bad_endpoint_is_one_line_without_its_password(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.CLICKPY_URL_ENV, url.replace("//", f"//u:{SECRET}@", 1))
    with pytest.raises(InvalidInputError) as info:
        open_source("clickpy")
    assert config.CLICKPY_URL_ENV in str(info.value) and SECRET not in str(info.value)


def test_the_endpoint_and_its_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    public = Endpoint.parse(config.CLICKPY_URL)
    assert (public.scheme, public.host, public.port, public.username, public.password) == (
        "https",
        "clickpy-clickhouse.clickhouse.com",
        443,
        "play",
        "",
    )
    mirror = Endpoint.parse(f"http://reader:{SECRET}@127.0.0.1:8123/ch/")
    assert (mirror.username, mirror.password, mirror.path) == ("reader", SECRET, "/ch")
    assert mirror.shown == "http://127.0.0.1:8123/ch"
    source = ClickPySource(url=f"http://reader:{SECRET}@127.0.0.1:8123")
    assert SECRET not in str(source.identity) and SECRET not in source.describe()
    assert ClickPySource().describe() == "ClickPy (clickpy-clickhouse.clickhouse.com)"
    assert ClickPySource().timeout == 60
    monkeypatch.setenv(config.CLICKPY_TIMEOUT_ENV, "7")
    assert ClickPySource().timeout == 7
    monkeypatch.setenv(config.CLICKPY_TIMEOUT_ENV, "abc")
    with pytest.raises(InvalidInputError, match=config.CLICKPY_TIMEOUT_ENV):
        ClickPySource()
    with pytest.raises(InvalidInputError, match="WORKBENCH_CLICKPY_URL"):
        open_source("clickpy:https://elsewhere")


def test_what_clickpy_lacks_is_said() -> None:
    source = ClickPySource()
    assert set(source.lacks) == {"ci", "clients"}
    assert source.population_tiers() == ("basic",) and source.live and source.kind == "clickpy"


# -- the same rows everywhere -------------------------------------------------------------------
_DIMS = [d for d in DIMENSIONS if d != "ci"]


def _common_grain(frame: pl.DataFrame) -> pl.DataFrame:
    """The downloads rollup summed over ``ci`` (ClickPy has none), NULL and '' alike."""
    text = [c for c in _DIMS if frame.schema[c] == pl.String]
    return (
        frame.with_columns(pl.col(text).fill_null(""))
        .group_by(_DIMS)
        .agg(pl.col("downloads").sum())
        .sort(_DIMS)
    )


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.emulator
def test_the_same_rows_give_the_same_downloads_rollup_everywhere(
    small_demo: DemoSource, emulator: BigQuerySource, clickpy: ClickPySource, public: Loaded
) -> None:
    query = _query(public)
    demo = small_demo.fetch(("downloads",), query)["downloads"]
    bigquery = emulator.fetch(("downloads",), query)["downloads"]
    got = clickpy.fetch(("downloads", "fingerprints"), query)
    assert demo["downloads"].sum() == public.rows.height > 1000  # every row of the window
    assert _sorted(bigquery).equals(_sorted(demo))  # ci included
    assert _common_grain(got["downloads"]).equals(_common_grain(demo))
    assert got["downloads"]["ci"].null_count() == got["downloads"].height  # unknown, not False
    assert got["fingerprints"].is_empty()
    per_day = (
        public.rows.group_by("project", date=pl.col("timestamp").dt.date())
        .agg(downloads=pl.len().cast(pl.Int64))
        .sort("project", "date")
    )
    totals = got["downloads"].group_by("project", "date").agg(pl.col("downloads").sum())
    assert totals.sort("project", "date").equals(per_day)


def test_every_package_at_once_equals_the_demo(
    small_demo: DemoSource, clickpy: ClickPySource
) -> None:
    """Every package (no project filter) over the demo's whole range: ~850 k rows."""
    query = RollupQuery(None, DayRange(SMALL.start, SMALL.end))
    demo = small_demo.fetch(("downloads",), query)["downloads"]
    got = clickpy.fetch(("downloads",), query)["downloads"]
    assert got["project"].n_unique() == demo["project"].n_unique() >= SMALL.packages
    assert _common_grain(got).equals(_common_grain(demo))


#: The features every source has (ClickPy lacks CI and client detail).
COMMON = [
    f for f in features.SCHEMA if f not in ("ci_downloads", "clients", "top_client_downloads")
]


def _features(
    frame: pl.DataFrame, columns: list[str], projects: tuple[str, ...] | None = None
) -> pl.DataFrame:
    if projects is not None:
        frame = frame.filter(pl.col("project").is_in(projects))
    return frame.select(columns).sort("project", "date")


def _same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    """Equal; country_hhi (a ratio) to the last few bits."""
    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12, abs_tol=0)


def _reference(rows: pl.DataFrame) -> pl.DataFrame:
    """A few features straight from raw rows, with plain Polars (no SQL, no registry
    transform): the yardstick for every engine."""
    cells = rows.select(
        "project",
        date=pl.col("timestamp").dt.date(),
        installer=pl.col("details").struct.field("installer").struct.field("name"),
        country=pl.col("country_code").fill_null(""),
        version=pl.col("file").struct.field("version"),
    )
    per_day = cells.group_by("project", "date").agg(
        downloads=pl.len().cast(pl.Int64),
        mirror_downloads=pl.col("installer").is_in(list(MIRROR_CLIENTS)).sum().cast(pl.Int64),
        versions=pl.col("version").n_unique().cast(pl.Int32),
    )
    countries = (
        cells.group_by("project", "date", "country")
        .agg(n=pl.len().cast(pl.Float64))
        .sort(["n", "country"], descending=[True, False])
        .group_by("project", "date", maintain_order=True)
        .agg(
            country_hhi=(pl.col("n") ** 2).sum() / pl.col("n").sum() ** 2,
            top_country=pl.col("country").first().replace("", None),
        )
    )
    columns = ["project", "date", "downloads", "mirror_downloads", "country_hhi", "top_country"]
    return per_day.join(countries, on=["project", "date"]).select(*columns, "versions")


@pytest.mark.emulator
def test_the_same_rows_give_the_same_population_everywhere(
    small_demo: DemoSource, emulator: BigQuerySource, clickpy: ClickPySource, public: Loaded
) -> None:
    days = DayRange(public.first, public.last)
    projects = public.projects
    demo = small_demo.population(days, "clients")  # the demo's one tier: every feature
    want = _features(demo, COMMON, projects)
    assert want.height == 2 * days.days
    _same(_features(emulator.population(days, "basic"), COMMON), want)
    clickhouse = clickpy.population(days, "basic")
    _same(_features(clickhouse, COMMON, projects), want)
    unknown = clickhouse.select("ci_downloads", "clients", "top_client_downloads")
    assert unknown.null_count().row(0) == (clickhouse.height,) * 3
    reference = _reference(public.rows)
    _same(_features(demo, reference.columns, projects), _features(reference, reference.columns))
    _same(
        _features(clickhouse, reference.columns, projects), _features(reference, reference.columns)
    )


@pytest.mark.emulator
def test_the_clients_tier_agrees_between_the_demo_and_the_emulator(
    small_demo: DemoSource, emulator: BigQuerySource, public: Loaded
) -> None:
    days = DayRange(public.first, public.last)
    every = list(features.SCHEMA)
    want = _features(small_demo.population(days, "clients"), every, public.projects)
    assert want["clients"].min() > 0  # type: ignore[operator]
    _same(_features(emulator.population(days, "clients"), every), want)


@pytest.mark.emulator
def test_ties_are_broken_alike_on_the_emulator(
    public: Loaded, bq_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The busiest country of a day with ties is the smallest code, NULL first (as ''): the
    emulator's ``ARRAY_AGG(… ORDER BY n DESC, … LIMIT 1)[OFFSET(0)]`` against DuckDB's
    ``first(… ORDER BY …)`` (ClickHouse's ``argMin`` meets ties in the demo itself)."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    countries = ["US", "US", "DE", "DE", None, None, "US", "US", "DE", "DE", "FR"]
    start = dt.datetime.combine(public.first, dt.time(), tzinfo=dt.UTC)
    times = [start + dt.timedelta(hours=i) for i in range(6)]
    times += [start + dt.timedelta(days=1, hours=i) for i in range(5)]
    rows = public.rows.head(len(countries)).with_columns(
        project=pl.lit("tied-pkg"),
        country_code=pl.Series(countries, dtype=pl.String),
        timestamp=pl.Series(times),
    )
    client = bigquery.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=bq_endpoint),
    )
    client.create_dataset("ties", exists_ok=True)
    table = "test.ties.file_downloads"
    client.create_table(bigquery.Table(table, schema=bigquery_schema(FILE_DOWNLOADS)))
    assert not client.insert_rows_json(table, [jsonable(r) for r in rows.to_dicts()])
    monkeypatch.setenv(config.BIGQUERY_ENDPOINT_ENV, bq_endpoint)
    days = DayRange(public.first, public.first + dt.timedelta(days=1))
    got = BigQuerySource(downloads_table=table).population(days, "clients")
    rows.write_parquet(tmp_path / "rows.parquet")
    want = ParquetSource(tmp_path / "rows.parquet").population(days, "clients")
    every = list(features.SCHEMA)
    _same(_features(got, every), _features(want, every))
    assert got.sort("date")["top_country"].to_list() == [None, "DE"]


def test_every_package_s_population_equals_the_demo(
    small_demo: DemoSource, clickpy: ClickPySource, small_demo_dir: Path
) -> None:
    days = DayRange(SMALL.start, SMALL.end)
    demo = small_demo.population(days, "clients")
    got = clickpy.population(days, "basic")
    assert got.height == demo.height > 1000
    _same(_features(got, COMMON), _features(demo, COMMON))
    reference = _reference(pl.read_parquet(small_demo_dir / "file_downloads"))
    _same(_features(got, reference.columns), _features(reference, reference.columns))


def test_release_metadata_agrees_with_the_demo(
    small_demo: DemoSource, clickpy: ClickPySource
) -> None:
    projects = tuple(sorted(small_demo.project_names()))
    releases = clickpy.releases(projects)
    assert releases.height > len(projects)
    keys = ["project", "version"]
    assert releases.sort(keys).equals(small_demo.releases(projects).sort(keys))
    first = clickpy.first_releases().sort("project")
    assert first.height >= len(projects)
    assert first.equals(small_demo.first_releases().sort("project"))
    since = SMALL.start - dt.timedelta(days=3 * 365)
    keys = ["project", "dependent", "version"]
    dependents = clickpy.dependents(projects, since)
    assert dependents.height > 0
    assert dependents.sort(keys).equals(small_demo.dependents(projects, since).sort(keys))


def test_names_are_every_package_most_downloaded_first(
    small_demo: DemoSource, clickpy: ClickPySource
) -> None:
    assert clickpy.project_names() == small_demo.project_names()
    names = clickpy.names()
    assert names["downloads"].is_sorted(descending=True)


# -- the cache --------------------------------------------------------------------------------
def test_the_cache_fetches_only_missing_days_from_clickpy(
    via: FaultyProxy, window: Window, cache: Cache
) -> None:
    data.load(ClickPySource(), _query(window, 0, 4), cache=cache, today=TODAY)
    assert len(_queries(via)) == 1
    via.inject(None)  # forget what was sent
    later = data.load(ClickPySource(), _query(window, 2, 7), cache=cache, today=TODAY)
    (sent,) = _queries(via)  # only days 5..7
    span = (sent.params["param_start"], sent.params["param_end"])
    assert span == (str(window.first + dt.timedelta(days=5)), str(window.last))
    fresh = ClickPySource().fetch(("downloads",), _query(window, 2, 7))["downloads"]
    assert _sorted(later.downloads.collect()).equals(_sorted(fresh))
    via.inject(None)
    again = data.load(ClickPySource(), _query(window, 0, 7), cache=cache, today=TODAY)
    assert _queries(via) == [] and again.provenance.from_cache

    days = DayRange(window.first, window.first + dt.timedelta(days=3))
    data.population(ClickPySource(), days, cache=cache, today=TODAY)
    via.inject(None)
    wider = DayRange(window.first, window.last)
    population = data.population(ClickPySource(), wider, cache=cache, today=TODAY)
    (sent,) = _queries(via)
    assert sent.params["param_start"] == str(window.first + dt.timedelta(days=4))
    whole = ClickPySource().population(wider, "basic")
    assert_frame_equal(population.frame.sort("project", "date"), whole.sort("project", "date"))


# -- faults ------------------------------------------------------------------------------------
HTML = {"Content-Type": "text/html"}
JSON = {"Content-Type": "application/json"}

#: fault (None: the endpoint is down) → what the one line says.
FAULTS: dict[str, tuple[Fault | None, str]] = {
    "down": (None, "ClickPy is unreachable for the downloads rollup (connection refused)"),
    "slow": (
        Fault("slow", delay=2.5),
        "ClickPy is unreachable for the downloads rollup (no answer within 1 s, "
        "WORKBENCH_CLICKPY_TIMEOUT)",
    ),
    "ClickHouse 500": (
        clickhouse_exception(241, "MEMORY_LIMIT_EXCEEDED", "Memory limit (total) exceeded"),
        "ClickPy refused the downloads rollup: Code 241 MEMORY_LIMIT_EXCEEDED "
        "(Memory limit (total) exceeded)",
    ),
    "ClickHouse syntax error": (
        clickhouse_exception(62, "SYNTAX_ERROR", "Syntax error: failed at position 1", 400),
        "ClickPy refused the downloads rollup: Code 62 SYNTAX_ERROR",
    ),
    "proxy 502": (
        Fault("garbage", status=502, message="<html>502 Bad Gateway</html>", headers=HTML),
        "the answer to the downloads rollup is not a ClickHouse answer (it answered HTTP 502 "
        "without a ClickHouse error); is a proxy or firewall in the way?",
    ),
    "proxy 503": (
        Fault("garbage", status=503, message="<html>503 Unavailable</html>", headers=HTML),
        "ClickPy kept answering HTTP 503 to the downloads rollup; try again later",
    ),
    "reset": (
        Fault("reset"),
        "ClickPy is unreachable for the downloads rollup (the connection was reset)",
    ),
    "dropped mid-answer": (
        Fault("drop"),
        "ClickPy is unreachable for the downloads rollup (the connection dropped mid-answer)",
    ),
    "HTML with 200 OK": (
        Fault("garbage", status=200, message="<html>Sign in</html>", headers=HTML),
        "the answer to the downloads rollup is not a ClickHouse answer",
    ),
    'JSON {"error": …} with 200 OK': (
        Fault("garbage", status=200, message='{"error": "quota exceeded"}', headers=JSON),
        "the answer to the downloads rollup is not a ClickHouse answer",
    ),
}


@pytest.fixture(scope="module")
def fault_free(
    clickpy_endpoint: str, window: Window, tmp_path_factory: pytest.TempPathFactory
) -> pl.DataFrame:
    cache = Cache(tmp_path_factory.mktemp("fault-free"))
    rollup = data.load(
        ClickPySource(url=clickpy_endpoint), _query(window, 3, 7), cache=cache, today=TODAY
    )
    return _sorted(rollup.downloads.collect())


@pytest.mark.parametrize("at", ["the query", "every request"])
@pytest.mark.parametrize("case", list(FAULTS))
def test_a_clickpy_fault_is_one_line_and_caches_nothing(
    case: str,
    at: str,
    via: FaultyProxy,
    window: Window,
    cache: Cache,
    fault_free: pl.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At the query (the client connected fine), or at every request (the client's start-up
    probes fail first: the login then never reaches the server, so it carries a password)."""
    fault, words = FAULTS[case]
    login = ("reader", SECRET) if at == "every request" else ("play", "")
    data.load(ClickPySource(), _query(window, 0, 2), cache=cache, today=TODAY)  # other days
    before = snapshot(cache.root)
    if fault is None:
        monkeypatch.setenv(config.CLICKPY_URL_ENV, _with_login(dead_endpoint(), *login))
    else:
        monkeypatch.setenv(config.CLICKPY_URL_ENV, _with_login(via.url, *login))
        when = _is_query if at == "the query" else (lambda seen: True)
        via.inject(Fault(**{**fault.__dict__, "when": when, "hits": 0}))
    with pytest.raises(SourceError) as info:
        source = ClickPySource(timeout=1.0)  # the slow fault waits longer than this
        data.load(source, _query(window, 3, 7), cache=cache, today=TODAY)
    tally.count(f"faults injected: ClickPy {case} at {at}")
    message = str(info.value)
    assert type(info.value) is SourceError  # exit code 4
    assert message.startswith(words), message
    assert "\n" not in message and SECRET not in message and "127.0.0.1" not in message
    after = snapshot(cache.root)
    lost = sum(1 for name, content in before.items() if after.get(name) != content)
    tally.lost(f"cache entries lost or corrupted: ClickPy {case}", lost)
    assert after == before  # byte-identical: nothing from the failure was cached

    via.inject(None)  # the fault clears: the same load gives the fault-free answer
    monkeypatch.setenv(config.CLICKPY_URL_ENV, via.url)
    again = data.load(ClickPySource(), _query(window, 3, 7), cache=cache, today=TODAY)
    assert not again.provenance.from_cache
    assert _sorted(again.downloads.collect()).equals(fault_free)


@pytest.mark.parametrize("what", ["population", "releases", "first_releases", "names"])
def test_every_request_kind_fails_in_one_line(via: FaultyProxy, what: str) -> None:
    via.inject(Fault("garbage", status=200, message="<html>portal</html>", headers=HTML))
    source = ClickPySource()
    calls: dict[str, Callable[[], Any]] = {
        "population": lambda: source.population(DayRange(SMALL.start, SMALL.start), "basic"),
        "releases": lambda: source.releases(("x",)),
        "first_releases": source.first_releases,
        "names": source.names,
    }
    with pytest.raises(SourceError, match="not a ClickHouse answer") as info:
        calls[what]()
    assert "\n" not in str(info.value)


# -- the command line ------------------------------------------------------------------------
def test_cli_fetch_and_investigate_on_clickpy(
    clickpy_endpoint: str, small_demo: DemoSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.CLICKPY_URL_ENV, clickpy_endpoint)
    name = small_demo.project_names()[3]
    span = ["--source", "clickpy", "--start", str(SMALL.start), "--end", str(SMALL.end)]
    fetched = CliRunner().invoke(main, ["fetch", name, *span, "--quiet"])
    assert fetched.exit_code == 0, fetched.output
    total = small_demo.fetch(("downloads",), RollupQuery((name,), DayRange(SMALL.start, SMALL.end)))
    assert f"{name}\t{total['downloads']['downloads'].sum():,} downloads" in fetched.stdout
    assert "ClickPy at http://127.0.0.1" in fetched.stderr
    investigated = CliRunner().invoke(main, ["investigate", name, *span, "--quiet", "--all"])
    assert investigated.exit_code == 0, investigated.output
    assert name in investigated.stdout and "Traceback" not in investigated.output
    # ClickPy has no CI flag: its CI share is unknown, not 0 %
    assert "this source does not say which are reported as CI" in investigated.stdout
    assert "are reported as CI by the installer" not in investigated.stdout


@pytest.mark.parametrize("command", ["fetch", "investigate"])
def test_cli_with_clickpy_down_is_one_error_line_and_exit_4(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.CLICKPY_URL_ENV, _with_login(dead_endpoint(), "reader", SECRET))
    args = [command, "requests", "--source", "clickpy", "--start", "2026-10-01"]
    result = CliRunner().invoke(main, [*args, "--end", "2026-10-20", "--quiet"])
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ClickPy is unreachable for the downloads rollup"), line
    assert SECRET not in result.output and "Traceback" not in result.output
