"""Hostile input through the Python API and the CLI: it works, or it is one clear line.

Package names, version strings, country codes, date ranges, drill-down filter values,
source specs and ``--packages-file`` lines are generated (hypothesis) from ordinary values,
arbitrary text and injection attempts (quotes, backticks, ``; DROP TABLE``, comments, NUL,
newlines, look-alike letters, right-to-left overrides, 10 kB strings). Every input must
either give the right answer (checked against an oracle computed here, independently) or
raise a ``workbench.errors`` exception whose message is one printable line; on the CLI,
exactly one ``error: …`` line with the exit code of its class. For BigQuery, the query text
a real :class:`BigQuerySource` submits (recorded by a fake client) must be the golden SQL
whatever the input, with the values only in the query parameters.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests import tally
from workbench import breakdowns as b
from workbench import data
from workbench.cache import Cache
from workbench.cli import main
from workbench.dimensions import MIRROR_CLIENTS
from workbench.errors import (
    InvalidInputError,
    NoMatchError,
    NotConfirmedError,
    SourceError,
    WorkbenchError,
)
from workbench.query import FIRST_DAY, MAX_DAYS, DayRange, RollupQuery
from workbench.schema import conform
from workbench.sources import open_source
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.bigquery.sql import table_name

from .conftest import SMALL

TODAY = dt.date(2026, 11, 25)
GOLDEN = {
    path.stem: path.read_text().removesuffix("\n")
    for path in (Path(__file__).parent / "golden").glob("*.sql")
}
KIND_OF_SQL = {text: kind for kind, text in GOLDEN.items()}

VALID_NAMES = ["requests", "Foo_Bar", "zope.interface", "a", "A1", "x" * 200, "scikit-learn"]
INJECTIONS = [
    "'",
    '"',
    "`",
    "\\",
    "requests'; DROP TABLE t; --",
    "x` UNION ALL SELECT 1 --",
    "a' OR '1'='1",
    "x); DELETE FROM `bigquery-public-data.pypi.file_downloads` --",
    "/* x */",
    "a--b",
    "a/*b*/",
    "@projects",
    "@start",
    "${x}",
    "%s",
    "{0}",
    "a\x00b",
    "a\nb",
    "a\r\nSELECT 1",
    "\t",
    "requ\u0435sts",  # Cyrillic е
    "ｒｅｑｕｅｓｔｓ",  # fullwidth
    "\u202eslanoitan",  # right-to-left override
    "re\u200bquests",  # zero-width space
    "İstanbul",
    "a\u0301",
    "x" * 10_000,
    "../../etc/passwd",
    "",
    " ",
    "\u3000",
]
HOSTILE_TEXT = st.one_of(
    st.sampled_from(VALID_NAMES + INJECTIONS),
    st.text(max_size=40),
    st.builds(operator.add, st.sampled_from(VALID_NAMES), st.sampled_from(INJECTIONS)),
    st.builds(operator.add, st.sampled_from(INJECTIONS), st.sampled_from(VALID_NAMES)),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}[A-Za-z0-9]", fullmatch=True),
)
NOT_TEXT = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=10),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
SLOW = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- oracles, written from the specs (PEP 503 / PEP 508, ISO dates), not from the code -----
def expected_name(raw: object) -> str | None:
    """The PEP 503 form of a valid PEP 508 name (surrounding whitespace ignored), else None."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    valid = re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", text)
    if valid is None or len(text) > 200:
        return None
    return re.sub(r"[-_.]+", "-", text).lower()


def expected_day(raw: object) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.astimezone(dt.UTC).date() if raw.tzinfo else raw.date()
    if isinstance(raw, dt.date):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None


def range_problem(start: dt.date, end: dt.date, today: dt.date) -> str | None:
    """The message fragment a valid-looking but unusable range must give, else None."""
    if start > end:
        return "reversed"
    if end > today:
        return "future"
    if start < FIRST_DAY:
        return "start on"
    if (end - start).days + 1 > MAX_DAYS:
        return "at most"
    return None


def assert_one_line(exc: BaseException) -> str:
    """A workbench error whose message is one printable, bounded line."""
    assert isinstance(exc, WorkbenchError), f"{type(exc).__name__}: {exc}"
    message = str(exc)
    assert message and message.isprintable() and len(message) <= 1000, repr(message)
    return message


def assert_cli_error(result: Result, code: int, needle: str = "") -> str:
    """Exit ``code``, exactly one ``error: …`` line on stderr, no usage text, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].isprintable() and len(errors[0]) < 1100
    assert "Traceback" not in result.output and "Usage:" not in result.stderr
    assert needle in errors[0], (needle, errors[0])
    return errors[0]


# --- package names through the API ------------------------------------------------------
NAME_INPUTS = st.one_of(
    HOSTILE_TEXT,
    st.lists(HOSTILE_TEXT, max_size=4),
    st.tuples(HOSTILE_TEXT, HOSTILE_TEXT),
    NOT_TEXT,
    st.lists(st.one_of(HOSTILE_TEXT, NOT_TEXT), min_size=1, max_size=3),
)


@settings(SLOW, max_examples=600)
@given(names=NAME_INPUTS)
def test_package_names_are_normalised_or_refused_in_one_line(names: Any) -> None:
    tally.count("hostile input: package names (API)")
    if names is None:  # None is "every package of the source"
        assert RollupQuery.of(None, "2026-10-01", "2026-10-30", today=TODAY).projects is None
        return
    listed = [names] if isinstance(names, str) else names
    expected: set[str] | None = None
    if isinstance(listed, list | tuple) and listed:
        normal = [expected_name(n) for n in listed]
        expected = None if None in normal else {n for n in normal if n is not None}
    try:
        query = RollupQuery.of(names, "2026-10-01", "2026-10-30", today=TODAY)
    except InvalidInputError as exc:
        assert_one_line(exc)
        assert expected is None, f"{names!r} is valid but was refused: {exc}"
        return
    assert expected is not None, f"{names!r} was accepted as {query.projects}"
    assert query.projects == tuple(sorted(expected))


# --- dates through the API --------------------------------------------------------------
DAY_INPUTS = st.one_of(
    st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2027, 12, 31)).map(str),
    st.dates().map(str),
    st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2027, 1, 1)),
    st.datetimes(
        min_value=dt.datetime(2016, 1, 2),
        max_value=dt.datetime(2026, 11, 24),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-11))]),
    ),
    st.sampled_from(
        [
            "2026-10-01'; DROP TABLE t; --",
            "2026-10-01\x00",
            "2026-10-01\n2026-10-02",
            "２０２６-10-01",
            "٢٠٢٦-١٠-٠١",
            "2026-02-30",
            "yesterday",
            "2026-10-01T00:00:00",
            " 2026-10-01 ",
            "20261001",
            "2026-W40-1",
            "1e9",
            "9" * 10_000,
            "",
        ]
    ),
    st.text(max_size=20),
    NOT_TEXT,
)


@settings(SLOW, max_examples=500)
@given(start=DAY_INPUTS, end=DAY_INPUTS)
def test_date_ranges_are_exact_or_refused_in_one_line(start: Any, end: Any) -> None:
    tally.count("hostile input: date ranges (API)")
    first, last = expected_day(start), expected_day(end)
    problem = None if first is None or last is None else range_problem(first, last, TODAY)
    try:
        days = DayRange.parse(start, end, today=TODAY)
    except InvalidInputError as exc:
        message = assert_one_line(exc)
        if first is None or last is None:
            assert "not a date" in message or "must be a date" in message
        else:
            assert problem is not None and problem in message, (start, end, message)
        return
    assert first is not None and last is not None and problem is None
    assert (days.start, days.end) == (first, last)


@settings(SLOW, max_examples=200)
@given(days=st.one_of(st.integers(-(10**20), 10**20), st.integers(-5, MAX_DAYS + 5)))
def test_last_n_days_is_exact_or_refused(days: int) -> None:
    tally.count("hostile input: --days counts (API)")
    try:
        span = DayRange.last_days(days, end=TODAY)
    except InvalidInputError as exc:
        assert_one_line(exc)
        assert not 1 <= days <= MAX_DAYS
        return
    assert 1 <= days <= MAX_DAYS and span.days == days and span.end == TODAY


# --- drill-down filters through the API -------------------------------------------------
def _rollup_rows() -> list[dict[str, Any]]:
    """A small rollup with several values in every dimension (and nulls)."""
    rows = []
    start = dt.date(2026, 10, 1)
    combos = [
        ("1.0.0", "pip", "US", "3.12", "Linux", "bdist_wheel", False),
        ("1.0.0", "uv", "DE", "3.11", "Darwin", "sdist", False),
        ("2.0.0", "pip", "CN", "3.12", "Windows", "bdist_wheel", True),
        ("2.0.0", "bandersnatch", "US", None, "Linux", "bdist_wheel", False),
        ("2.1", "poetry", None, "3.13", None, "bdist_wheel", True),
    ]
    for day in range(10):
        for i, (ver, inst, country, py, system, ftype, ci) in enumerate(combos):
            if (day + i) % 3 == 0:
                continue
            rows.append(
                {
                    "project": "pkg-a" if i % 2 else "pkg-b",
                    "date": start + dt.timedelta(days=day),
                    "version": ver,
                    "file_type": ftype,
                    "installer": inst,
                    "python": py,
                    "system": system,
                    "country": country,
                    "ci": ci,
                    "downloads": 1 + (day * 7 + i * 3) % 11,
                }
            )
    return rows


ROWS = _rollup_rows()
ROLLUP = conform(pl.DataFrame(ROWS), "downloads")
SPAN = DayRange(dt.date(2026, 10, 1), dt.date(2026, 10, 10))
PRESENT = {dim: sorted({r[dim] for r in ROWS if r[dim] is not None}) for dim in b.VALUE_FILTERS}


def _lookalikes(value: str) -> list[str]:
    return [
        value.lower(),
        value.upper(),
        f" {value}",
        f"{value}\x00",
        value.replace("p", "\u0440").replace("e", "\u0435"),  # Cyrillic р, е
        "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value),  # fullwidth
        f"\u202e{value}",
        f"{value}'; DROP TABLE t; --",
    ]


def filter_values(dim: str) -> st.SearchStrategy[Any]:
    real = st.sampled_from(PRESENT[dim])
    fake = st.one_of(real.flatmap(lambda v: st.sampled_from(_lookalikes(v))), HOSTILE_TEXT)
    one = st.one_of(real, real, fake)
    return st.one_of(
        one,
        st.lists(one, max_size=3),
        st.lists(one, max_size=3).map(tuple),
        st.frozensets(one, max_size=3),
        NOT_TEXT,
        st.lists(st.one_of(one, NOT_TEXT), min_size=1, max_size=2),
    )


FILTER_INPUTS = st.fixed_dictionaries(
    {},
    optional={
        **{dim: filter_values(dim) for dim in b.VALUE_FILTERS},
        "ci": st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.text(max_size=3)),
        "start": st.one_of(DAY_INPUTS, st.dates(dt.date(2026, 9, 25), dt.date(2026, 10, 15))),
        "end": st.one_of(DAY_INPUTS, st.dates(dt.date(2026, 9, 25), dt.date(2026, 10, 15))),
        "without_mirrors": st.one_of(st.booleans(), st.none(), st.integers(0, 2)),
    },
)


def _expected_filter(kw: dict[str, Any]) -> dict[str, Any] | None:
    """The drill-down the spec says ``kw`` means, or None where it must be refused."""
    out: dict[str, Any] = {}
    for dim in b.VALUE_FILTERS:
        if dim not in kw or kw[dim] is None:
            continue
        value = kw[dim]
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple | frozenset) or not values:
            return None
        if not all(isinstance(v, str) for v in values):
            return None
        out[dim] = set(values)
    for flag in ("ci", "without_mirrors"):
        if flag in kw and kw[flag] is not None and not isinstance(kw[flag], bool):
            return None
    if kw.get("without_mirrors", False) is None:
        return None
    out["ci"] = kw.get("ci")
    out["without_mirrors"] = kw.get("without_mirrors", False)
    for edge in ("start", "end"):
        if kw.get(edge) is None:
            out[edge] = None
            continue
        day = expected_day(kw[edge])
        if day is None:
            return None
        out[edge] = day
    if out["start"] and out["end"] and out["start"] > out["end"]:
        return None
    return out


def _kept(row: dict[str, Any], spec: dict[str, Any]) -> bool:
    for dim in b.VALUE_FILTERS:
        if dim in spec and row[dim] not in spec[dim]:
            return False
    if spec["ci"] is not None and row["ci"] != spec["ci"]:
        return False
    if spec["start"] is not None and row["date"] < spec["start"]:
        return False
    if spec["end"] is not None and row["date"] > spec["end"]:
        return False
    return not (spec["without_mirrors"] and row["installer"] in MIRROR_CLIENTS)


@settings(SLOW, max_examples=350)
@given(
    kw=FILTER_INPUTS,
    by=st.one_of(
        st.sampled_from(["installer", "country", "version", "python", "system", "ci"]),
        st.sampled_from(["date", "downloads", "", "nope", "installer; DROP TABLE t", "Installer"]),
    ),
)
def test_drill_down_filters_are_exact_or_say_no_downloads_match(
    kw: dict[str, Any], by: str
) -> None:
    tally.count("hostile input: drill-down filter values (API)")
    spec = _expected_filter(kw)
    try:
        filters = b.Filters(**kw)
    except InvalidInputError as exc:
        assert_one_line(exc)
        assert spec is None, f"{kw!r} is a valid drill-down but was refused: {exc}"
        return
    assert spec is not None, f"{kw!r} was accepted as {filters}"
    described = filters.describe()
    assert described.isprintable() and len(described) < 2000
    if by not in ("installer", "country", "version", "python", "system", "ci"):
        for breakdown in (b.shares, lambda f, by, **kw: b.daily(f, SPAN, by=by, **kw)):
            with pytest.raises(InvalidInputError, match="cannot break down by") as info:
                breakdown(ROLLUP.lazy(), by, filters=filters)
            assert_one_line(info.value)
        return
    kept = [r for r in ROWS if _kept(r, spec)]
    total = sum(r["downloads"] for r in kept)
    per_value: dict[tuple[str, Any], int] = {}
    for r in kept:
        key = (r["project"], r[by])
        per_value[key] = per_value.get(key, 0) + r["downloads"]
    try:
        shares = b.shares(ROLLUP.lazy(), by, filters=filters)
        daily = b.daily(ROLLUP.lazy(), SPAN, filters=filters)
    except NoMatchError as exc:
        message = assert_one_line(exc)
        assert total == 0, f"{filters} keeps {total} downloads but was called empty"
        assert message.startswith("no downloads match")
        with pytest.raises(NoMatchError):
            b.require_match(ROLLUP.lazy(), filters)
        return
    assert total > 0, f"{filters} keeps nothing, yet no NoMatchError"
    b.require_match(ROLLUP.lazy(), filters)  # does not raise
    assert shares["downloads"].sum() == total
    got = {(p, v): n for p, v, n in shares.select("project", by, "downloads").iter_rows()}
    assert got == per_value
    assert daily["downloads"].sum() == total and daily.height % SPAN.days == 0


@pytest.mark.parametrize(
    ("kw", "hint"),
    [
        ({"country": "us"}, "did you mean US"),
        ({"installer": "Pip"}, "did you mean pip"),
        ({"installer": "p\u0456p"}, "no installer"),  # Cyrillic і
        ({"version": "1.0.0'; DROP TABLE t; --"}, "no version"),
        ({"installer": "uv", "country": "CN"}, "has all of these at once"),
        ({"start": "2027-01-01"}, "no downloads in that span"),
    ],
)
def test_no_match_says_why(kw: dict[str, Any], hint: str) -> None:
    tally.count("hostile input: drill-down filter values (API)")
    with pytest.raises(NoMatchError, match="no downloads match") as info:
        b.daily(ROLLUP.lazy(), SPAN, filters=b.Filters(**kw))
    assert hint in assert_one_line(info.value)


def test_filter_values_are_data_not_expressions() -> None:
    """A value that looks like a Polars/regex/SQL expression matches only itself."""
    tricky = ["pip|uv", ".*", "pip' OR '1'='1", "%", "*", "^pip$", "pip\\"]
    rows = [dict(ROWS[0], installer=t, downloads=i + 1) for i, t in enumerate(tricky)]
    frame = conform(pl.DataFrame(ROWS + rows), "downloads").lazy()
    for i, value in enumerate(tricky):
        tally.count("hostile input: drill-down filter values (API)")
        got = b.shares(frame, "installer", filters=b.Filters(installer=value))
        assert got["installer"].to_list() == [value] and got["downloads"].sum() == i + 1


# --- BigQuery: the text is golden whatever the input; values only in parameters -----------
class FakeBigQuery:
    """Records what a real BigQuerySource submits; answers like BigQuery would (Arrow)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def query(self, sql: str, job_config: Any = None, **_: Any) -> Any:
        self.calls.append((sql, job_config))
        kind = KIND_OF_SQL.get(sql)
        assert kind is not None, f"non-golden SQL submitted:\n{sql}"
        params = {p.name: p for p in job_config.query_parameters}
        table = _answer(kind, params)
        result = type("Rows", (), {"to_arrow": lambda self, *a, **k: table})()
        return type(
            "Job", (), {"total_bytes_processed": 10_000, "result": lambda self, *a, **k: result}
        )()


def _answer(kind: str, params: dict[str, Any]) -> Any:
    projects = list(params["projects"].values)
    if kind in ("downloads", "fingerprints"):
        day = params["start"].value.date()
        rows = [
            {
                "project": p,
                "date": day,
                "version": "1.0",
                "file_type": "bdist_wheel",
                "installer": "pip",
                "python": "3.12",
                "system": "Linux",
                "country": "US",
                "ci": False,
                "fingerprint": "pip|24.0|3.12.1|CPython|Linux|6.1|Ubuntu|24.04|x86_64|US",
                "fingerprints": 1,
                "downloads": 3 + i,
            }
            for i, p in enumerate(projects)
        ]
        return conform(pl.DataFrame(rows), kind).to_arrow() if rows else None
    schema: dict[str, Any] = {
        "name": pl.String,
        "version": pl.String,
        "upload_time": pl.Datetime("us", "UTC"),
        "requires_dist": pl.List(pl.String),
    }
    if kind == "release_files":
        schema["packagetype"] = pl.String
    return pl.DataFrame(schema=schema).to_arrow()


def check_submitted(client: FakeBigQuery, query: RollupQuery) -> None:
    """Every submitted text is golden; the user's values are parameters, exactly."""
    assert client.calls, "nothing was submitted"
    dry = [cfg for _, cfg in client.calls if cfg.dry_run]
    assert dry and len(dry) * 2 == len(client.calls)  # every query was dry-run first
    for sql, cfg in client.calls:
        kind = KIND_OF_SQL[sql]
        params = {p.name: p for p in cfg.query_parameters}
        assert params["projects"].values == list(query.projects or ())
        assert params["projects"].array_type == "STRING"
        if kind in ("downloads", "fingerprints"):
            assert set(params) == {"start", "end", "projects"}
            assert params["start"].value.date() >= query.days.start
            assert params["end"].value.date() <= query.days.end + dt.timedelta(days=1)
        else:
            assert set(params) == (
                {"projects"} if kind == "release_files" else {"projects", "since"}
            )


VALID_LISTS = st.lists(
    st.one_of(
        st.sampled_from(VALID_NAMES),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}[A-Za-z0-9]", fullmatch=True),
    ),
    min_size=1,
    max_size=3,
)
USABLE_RANGES = st.lists(
    st.dates(dt.date(2026, 9, 1), dt.date(2026, 11, 25)).map(str), min_size=2, max_size=2
).map(sorted)


@settings(SLOW, max_examples=120)
@given(
    names=st.one_of(NAME_INPUTS, VALID_LISTS, VALID_LISTS),
    days=st.one_of(st.lists(DAY_INPUTS, min_size=2, max_size=2), USABLE_RANGES, USABLE_RANGES),
)
def test_bigquery_text_is_golden_whatever_the_input(names: Any, days: list[Any]) -> None:
    start, end = days
    assume(names is not None)  # None is every package: refused on BigQuery by analyze()
    tally.count("hostile input: BigQuery queries (API, fake client)")
    client = FakeBigQuery()
    source = BigQuerySource(client=client, confirm=lambda _e: True)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(tmp)
        try:
            query = RollupQuery.of(names, start, end, today=TODAY)
        except InvalidInputError as exc:
            assert_one_line(exc)
            assert client.calls == []  # refused before anything reached BigQuery
            return
        assert query.projects is not None
        tally.count("hostile input: BigQuery queries submitted, text checked golden")
        rollup = data.load(source, query, cache=cache, today=TODAY)
        data.releases(source, query.projects, cache=cache)
        data.dependents(source, query.projects, query.days.start, cache=cache)
    check_submitted(client, query)
    totals = dict(rollup.totals().iter_rows())
    expected = {p: 3 + i for i, p in enumerate(query.projects)}
    # the fake answers each downloads query with one day of ``3 + i`` per package
    queries = sum(
        1 for text, cfg in client.calls if not cfg.dry_run and KIND_OF_SQL[text] == "downloads"
    )
    assert queries == 1  # one contiguous span of missing days: one query per kind
    assert totals == {p: n * queries for p, n in expected.items()}


@pytest.mark.parametrize(
    "table",
    [
        "a.b.c\n",
        "a.b.c`; DROP TABLE t; --",
        "a.b.c --",
        "a.b./*x*/c",
        "а.b.c",  # Cyrillic а
        "a.b.c\x00",
        "a" * 10_000,
        "a.b",  # accepted: dataset.table
    ],
)
def test_table_names_reach_sql_only_when_identifiers(table: str) -> None:
    tally.count("hostile input: BigQuery table names")
    try:
        quoted = table_name(table)
    except InvalidInputError as exc:
        assert_one_line(exc)
        with pytest.raises(InvalidInputError):
            BigQuerySource(client=FakeBigQuery(), downloads_table=table)  # type: ignore[arg-type]
        return
    assert re.fullmatch(r"`[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){1,2}`", quoted)


# --- the CLI ------------------------------------------------------------------------------
@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def demo_totals(small_env: dict[str, str], small_demo_dir: Path) -> Any:
    """Downloads per project and UTC day of the small demo, counted by DuckDB from the raw
    Parquet files (independently of the workbench), and a function summing a range."""
    files = str(small_demo_dir / "file_downloads" / "*.parquet")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(
        "SELECT project, CAST(timestamp AS DATE) AS day, count(*) FROM read_parquet(?) "
        "WHERE project IS NOT NULL GROUP BY ALL",
        [files],
    ).fetchall()
    per: dict[str, dict[dt.date, int]] = {}
    for project, day, n in rows:
        per.setdefault(project, {})[day] = n

    def total(project: str, first: dt.date, last: dt.date) -> int:
        return sum(n for d, n in per.get(project, {}).items() if first <= d <= last)

    return per, total


DEMO = ["--source", f"demo:{SMALL.seed}", "--quiet"]
DEMO_LAST = SMALL.end
DEMO_FIRST_30 = SMALL.end - dt.timedelta(days=29)


def _name_variants(name: str) -> list[str]:
    return [name, name.upper(), name.replace("-", "_"), f"  {name} ", name.replace("-", ".")]


@settings(SLOW, max_examples=45)
@given(data_=st.data())
def test_cli_fetch_names_exact_or_one_error_line(
    runner: CliRunner, demo_totals: Any, data_: st.DataObject
) -> None:
    per, total = demo_totals
    known = sorted(per)
    raw = data_.draw(
        st.one_of(
            st.sampled_from(known).flatmap(lambda n: st.sampled_from(_name_variants(n))),
            HOSTILE_TEXT,
        ),
        label="name",
    )
    tally.count("hostile input: package names (CLI fetch)")
    result = runner.invoke(main, ["fetch", *DEMO, "--", raw])
    name = expected_name(raw)
    if name is None:
        assert_cli_error(result, 2)
        return
    expected = total(name, DEMO_FIRST_30, DEMO_LAST)
    if expected == 0:
        assert_cli_error(result, 2, "no downloads found")
        return
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{name}\t{expected:,} downloads (a lower bound: mirrors are not counted)"
    ]


CLI_DAYS = st.one_of(
    st.dates(dt.date(2026, 7, 1), dt.date(2026, 12, 31)).map(str),
    st.dates().map(str),
    st.sampled_from(
        [
            "2026-10-01'; DROP TABLE t; --",
            "2026-10-01\n",
            "２０２６-10-01",
            "2026-02-30",
            "0001-01-01",
            "9999-12-31",
            "2026-10-01T00:00:00+14:00",
            "x" * 10_000,
            "",
            "-1",
            "--help",
        ]
    ),
    st.text(max_size=12),
)


@settings(SLOW, max_examples=35)
@given(data_=st.data())
def test_cli_date_options_exact_or_one_error_line(
    runner: CliRunner, demo_totals: Any, data_: st.DataObject
) -> None:
    per, total = demo_totals
    name = data_.draw(st.sampled_from(sorted(per)), label="name")
    start = data_.draw(st.one_of(st.none(), CLI_DAYS), label="start")
    end = data_.draw(st.one_of(st.none(), CLI_DAYS), label="end")
    days = data_.draw(
        st.one_of(
            st.none(),
            st.integers(-3, 1200).map(str),
            st.sampled_from(["1e3", "９", "10" * 30, "0x10", " 7", "", "3.5"]),
        ),
        label="days",
    )
    tally.count("hostile input: --start/--end/--days (CLI fetch)")
    args = ["fetch", *DEMO]
    for option, value in (("--start", start), ("--end", end), ("--days", days)):
        if value is not None:
            args.append(f"{option}={value}")
    result = runner.invoke(main, [*args, "--", name])
    today = dt.datetime.now(dt.UTC).date()
    n_days = 30
    if days is not None:
        try:
            n_days = int(days.strip())
        except ValueError:
            assert_cli_error(result, 2, "--days")
            return
        if not 1 <= n_days <= 1098:
            assert_cli_error(result, 2, "--days")
            return
    last = DEMO_LAST if end is None else expected_day(end)
    if last is None:
        assert_cli_error(result, 2, "not a date")
        return
    if end is not None and range_problem(last, last, today):
        assert_cli_error(result, 2, range_problem(last, last, today) or "")
        return
    first = last - dt.timedelta(days=n_days - 1) if start is None else expected_day(start)
    if first is None:
        assert_cli_error(result, 2, "not a date")
        return
    problem = range_problem(first, last, today)
    if problem:
        assert_cli_error(result, 2, problem)
        return
    expected = total(name, first, last)
    if expected == 0:
        assert_cli_error(result, 2, "no downloads found")
        return
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{name}\t{expected:,} downloads")


CURATED_SPECS = [
    "",
    " ",
    "parquet:",
    "demo:",
    "demo:-1",
    "demo:³",
    "demo:٣",
    "demo:1e3",
    "demo:" + "9" * 30,
    "demo:7'; DROP TABLE t; --",
    "bigquery:My Project",
    "bigquery:proj'; DROP TABLE t; --",
    "bigquery:проект",
    "bigquery:../../x",
    "bigquery:a\nb",
    "clickpy:https://user:pw@elsewhere.example",
    "clickpy:'; DROP TABLE pypi.pypi; --",
    "/nonexistent/*.parquet",
    "/nonexistent/file.parquet",
    "x" * 10_000,
    "a\x00b",
    "Demo",
    "bigqeury",
]
SOURCE_SPECS = st.one_of(
    st.sampled_from(CURATED_SPECS),
    st.builds(operator.add, st.sampled_from(["demo:", "bigquery:", "parquet:", ""]), HOSTILE_TEXT),
)


@settings(SLOW, max_examples=40)
@given(spec=SOURCE_SPECS)
def test_cli_source_specs_work_or_one_error_line(
    runner: CliRunner,
    small_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    spec: str,
) -> None:
    kind, _, arg = spec.strip().partition(":")
    assume(not (kind == "demo" and arg.isascii() and arg.isdigit()))  # would generate a demo
    path = arg if kind == "parquet" else spec.strip()
    if spec not in CURATED_SPECS and kind not in ("demo", "bigquery"):
        # generated paths stay inside the empty working directory (no "/", "~", "..", globs)
        assume(not any(part in path for part in ("/", "~", "..", "*", "?", "[")))
    tally.count("hostile input: --source specs (CLI)")

    def no_credentials(*_a: Any, **_k: Any) -> Any:
        raise SourceError("no Google Cloud credentials found (test)")

    monkeypatch.setattr("workbench.sources.bigquery.source.make_client", no_credentials)
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    monkeypatch.chdir(cwd)  # a spec read as a path finds nothing by accident
    result = runner.invoke(main, ["fetch", "--source", spec, "--quiet", "--", "requests"])
    project_id = r"(?:[a-z0-9][a-z0-9.-]*:)?[a-z][a-z0-9-]{0,62}"
    if kind == "bigquery" and (arg == "" or re.fullmatch(project_id, arg)):
        assert_cli_error(result, 4, "credentials")
    elif kind == "demo" and arg == "":
        assert result.exit_code in (0, 2), result.output  # the small demo itself
    else:
        assert_cli_error(result, 2)
    assert not list(cwd.iterdir())  # nothing written where the CLI ran


def _bigquery_cli(monkeypatch: pytest.MonkeyPatch) -> FakeBigQuery:
    client = FakeBigQuery()
    monkeypatch.setattr("workbench.sources.bigquery.source.make_client", lambda *_a, **_k: client)
    return client


BQ_RANGE = ["--start", "2026-10-01", "--end", "2026-10-30"]


@settings(SLOW, max_examples=30)
@given(
    names=st.one_of(st.lists(HOSTILE_TEXT, min_size=1, max_size=3), VALID_LISTS),
    how=st.sampled_from(["arg", "list"]),
)
def test_cli_bigquery_sends_golden_text_whatever_the_names(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, names: list[str], how: str
) -> None:
    assume(how == "arg" or not any("," in n for n in names))
    tally.count("hostile input: BigQuery queries (CLI, fake client)")
    client = _bigquery_cli(monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.setenv("WORKBENCH_CACHE_DIR", tmp)
        if how == "arg":
            args = ["fetch", "--source", "bigquery", "--yes", *BQ_RANGE, "--quiet", "--", *names]
        else:
            args = ["scan", "--source", "bigquery", "--yes", *BQ_RANGE, "--quiet"]
            args += ["--packages", ",".join(names)]
        result = runner.invoke(main, args)
    sent = [n for n in names if how == "arg" or n.strip()]  # --packages skips blank entries
    normal = [expected_name(n) for n in sent]
    if None in normal or not normal:
        assert_cli_error(result, 2)
        assert client.calls == []
        return
    assert result.exit_code == 0, (result.output, result.exception)
    tally.count("hostile input: BigQuery queries submitted, text checked golden")
    query = RollupQuery.of(sent, "2026-10-01", "2026-10-30")
    check_submitted(client, query)


def test_cli_bigquery_without_yes_is_one_error_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    tally.count("hostile input: BigQuery queries (CLI, fake client)")
    client = _bigquery_cli(monkeypatch)
    result = runner.invoke(main, ["fetch", "--source", "bigquery", *BQ_RANGE, "--", "requests"])
    assert_cli_error(result, NotConfirmedError.exit_code, "--yes")
    assert all(cfg.dry_run for _, cfg in client.calls)  # priced, never run


PACKAGE_LINES = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(VALID_NAMES),
    st.sampled_from(VALID_NAMES),
    st.sampled_from(["# a comment", "   ", "requests  # why", "\ufeffrequests", "Foo_Bar\r"]),
)


@settings(SLOW, max_examples=30)
@given(
    lines=st.lists(PACKAGE_LINES, max_size=5),
    junk=st.sampled_from([b"", b"\xff\xfe\x00bad", b"\x00\x01", b"\xef\xbb\xbf"]),
)
def test_cli_packages_file_lines(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, lines: list[str], junk: bytes
) -> None:
    tally.count("hostile input: --packages-file lines (CLI)")
    client = _bigquery_cli(monkeypatch)
    body = junk + "\n".join(lines).encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.setenv("WORKBENCH_CACHE_DIR", tmp)
        path = Path(tmp) / "watchlist.txt"
        path.write_bytes(body)
        args = ["scan", "--source", "bigquery", "--yes", *BQ_RANGE, "--quiet"]
        result = runner.invoke(main, [*args, "--packages-file", str(path)])
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        assert_cli_error(result, 2, "not UTF-8")
        assert client.calls == []
        return
    names = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    names = [n for n in names if n]
    bad = [i for i, n in enumerate(names) if expected_name(n) is None]
    if bad or not names:
        message = assert_cli_error(result, 2)
        assert ("line " in message) if bad else ("no package names" in message)
        assert client.calls == []
        return
    assert result.exit_code == 0, (result.output, result.exception)
    tally.count("hostile input: BigQuery queries submitted, text checked golden")
    check_submitted(client, RollupQuery.of(names, "2026-10-01", "2026-10-30"))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["fetch", "--days", "0", "x"], "--days"),
        (["fetch", "--days", "abc", "x"], "--days"),
        (["fetch", "--no-such\nline", "x"], "No such option"),
        (["fetch", "-x"], "No such option"),
        (["fetch"], "Missing argument"),
        (["scan", "--format", "xml'; DROP"], "--format"),
        (["scan", "--top", "-1"], "--top"),
        (["fetch", "--max-bytes", "0", "x"], "--max-bytes"),
        (["serve", "--port", "80"], "--port"),
        (["cache", "clear", "--older-than", "99999999999"], "--older-than"),
        (["scan", "--packages-file", "/nonexistent\u202e.txt"], "--packages-file"),
        (["no-such-command"], "No such command"),
    ],
)
def test_cli_usage_errors_are_one_line(
    runner: CliRunner, small_env: dict[str, str], args: list[str], needle: str
) -> None:
    tally.count("hostile input: CLI options")
    assert_cli_error(runner.invoke(main, args), 2, needle)


def test_cli_names_that_look_like_options(runner: CliRunner, small_env: dict[str, str]) -> None:
    for name in ["-rf", "--days", "--source=bigquery"]:
        tally.count("hostile input: package names (CLI fetch)")
        result = runner.invoke(main, ["fetch", *DEMO, name])
        assert_cli_error(result, 2)
    assert runner.invoke(main, ["fetch", "--help"]).exit_code == 0


def test_cli_unwritable_outputs_are_one_line(
    runner: CliRunner, small_env: dict[str, str], tmp_path: Path
) -> None:
    name = open_source(f"demo:{SMALL.seed}").project_names()[0]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out, code in [
        (tmp_path / "missing" / "dir" / "x.parquet", 1),
        (blocker / "x.parquet", 1),
        (tmp_path / "x.txt'; DROP", 2),
    ]:
        tally.count("hostile input: --out paths (CLI)")
        result = runner.invoke(main, ["fetch", *DEMO, "--out", str(out), "--", name])
        assert_cli_error(result, code)


def test_packages_file_is_bounded(runner: CliRunner, tmp_path: Path) -> None:
    tally.count("hostile input: --packages-file lines (CLI)")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a\n" * (6 * 2**20))
    result = runner.invoke(main, ["scan", "--packages-file", str(big), "--quiet"])
    assert_cli_error(result, 2, "larger than")


def test_investigate_app_says_no_downloads_match_instead_of_empty_charts(
    small_demo_dir: Path, tmp_path: Path
) -> None:
    """Two drill-down values that each occur but never together: a message, charts hidden."""
    from workbench.sources.local import ParquetSource
    from workbench.views.investigate import InvestigateApp

    raw = pl.scan_parquet(small_demo_dir / "file_downloads")
    name = raw.group_by("project").len().sort("len").collect()["project"][-1]
    raw.filter(pl.col("project") == name).sink_parquet(tmp_path / "one.parquet")
    source = ParquetSource(tmp_path / "one.parquet")  # one package: its own peers, quick
    app = InvestigateApp(source, package=name, days=120, cache=Cache(tmp_path / "c"))
    assert app.inv is not None
    rows = app.inv.rows
    pairs = set(rows.select("installer", "country").iter_rows())

    # values the dropdowns offer (the busiest ones: a long tail of countries is not listed)
    def offered(key: str) -> list[str]:
        values = [o[1] if isinstance(o, tuple) else o for o in app.filters[key].options]
        present = set(rows[key].drop_nulls().to_list())  # not the "(unknown)" entry
        return [v for v in values if isinstance(v, str) and v in present]

    installers, countries = offered("installer"), offered("country")
    absent = next((i, c) for i in installers for c in countries if (i, c) not in pairs)
    tally.count("hostile input: drill-down filter values (app)")
    app.filters["installer"].value = absent[0]
    assert app.tabs.layout.display is None and "wb-no-match" not in app.filter_bar.value
    app.filters["country"].value = absent[1]
    assert "no downloads match the drill-down" in app.filter_bar.value
    assert app.tabs.layout.display == "none"
    app.clear_filters()
    assert app.filter_bar.value == "" and app.tabs.layout.display is None
    for other in ["x'; DROP TABLE t; --", "requ\u0435sts", "a\nb", "\u202eevil", "x" * 10_000]:
        tally.count("hostile input: compare-with names (app)")
        app.compare.value = other
        assert "wb-error" in app.status.value and "package name" in app.status.value
        assert "\n" not in app.status.value and "\u202e" not in app.status.value
