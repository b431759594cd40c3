"""Cost safety: no query of the downloads table without its timestamp window, nothing above
the ceiling, nothing after a failed dry run.

The downloads table is ~1 PB partitioned by day: a query without the window scans (and
bills) all of it. Three layers keep that from happening, each tested here:

* every SQL builder in :mod:`workbench.sql` that reads the downloads table filters it on the
  ``@start``/``@end`` window (a structural check of the SQL text, independent of the guard);
* the BigQuery source refuses to send any SQL that reads the table without a bounded window,
  even a dry run (:func:`workbench.sql.unbounded_scans`);
* a dry run estimates every query first: above the ceiling, or when the dry run itself
  fails, no job is submitted, as counted on the wire by :class:`FaultyProxy`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from tests import tally
from tests.faultproxy import Fault, FaultyProxy, Loaded, Seen, routed, snapshot
from workbench import config, data
from workbench.cache import Cache
from workbench.cli import main
from workbench.errors import CostLimitError, NotConfirmedError, SourceError
from workbench.query import DayRange, RollupQuery
from workbench.sources.bigquery import BigQuerySource, sql
from workbench.sources.bigquery import source as bq
from workbench.sources.bigquery.faults import RetryPolicy
from workbench.sources.bigquery.sql import unbounded_scans

TODAY = dt.date(2026, 11, 25)
FAST = RetryPolicy(timeout=2.0, deadline=0.5, initial=0.05, maximum=0.15)
TABLE = "proj.pypi.file_downloads"
WINDOW = "timestamp >= @start AND timestamp < @end"

#: Builders that read the downloads table: each must filter it on the window.
DOWNLOAD_BUILDERS: dict[str, Callable[[str, RollupQuery], str]] = {
    "downloads_sql": sql.downloads_sql,
    "fingerprints_sql": sql.fingerprints_sql,
    # every package (no project filter), both tiers: the window is its only bound
    "population_sql": lambda table, _query: sql.population_sql(table, "clients"),
}
#: Builders over ``distribution_metadata``, which is not partitioned by time (a window would
#: not make it cheaper): the dry-run ceiling guards them (tested below). The dependents
#: query still only reads uploads since ``@since``.
METADATA_BUILDERS: dict[str, str | None] = {
    "release_files_sql": None,
    "dependent_files_sql": "upload_time >= @since",
    "first_releases_sql": None,
}

QUERIES = [
    RollupQuery.of("requests", "2026-10-01", "2026-10-30", today=TODAY),
    RollupQuery.of(["a", "b-c", "d_e"], "2026-10-05", "2026-10-05", today=TODAY),
    RollupQuery(None, DayRange(dt.date(2024, 1, 1), dt.date(2026, 11, 1))),
]


# -- 1. the SQL builders ------------------------------------------------------------------
def test_every_sql_builder_is_accounted_for() -> None:
    """A new builder fails this test until it is classified (and so checked) here."""
    builders = {
        name
        for name, fn in inspect.getmembers(sql, inspect.isfunction)
        if name.endswith("_sql") and fn.__module__ == sql.__name__
    }
    assert builders == DOWNLOAD_BUILDERS.keys() | METADATA_BUILDERS.keys()


def _reads(text: str, table: str) -> list[list[str]]:
    """For every read of ``table``: the AND-ed conditions of its WHERE clause."""
    quoted = f"`{table}`"
    assert text.count(table) == text.count(quoted), "the table is only ever read quoted"
    pieces = text.split(quoted)
    out = []
    for before, after in itertools.pairwise(pieces):
        assert before.rstrip().upper().endswith("FROM"), "read with FROM, not joined"
        where = re.match(r"\s*WHERE\s+(.*?)\s*(?:\bGROUP BY\b|$)", after, re.S)
        assert where is not None, "every read has a WHERE clause"
        clause = where.group(1)
        assert not re.search(r"\bOR\b|--|/\*", clause), "nothing can widen or hide it"
        out.append([" ".join(c.split()) for c in re.split(r"\bAND\b", clause)])
    return out


@pytest.mark.parametrize("name", list(DOWNLOAD_BUILDERS))
@pytest.mark.parametrize("query", QUERIES, ids=["one", "three", "all packages"])
def test_every_read_of_the_downloads_table_is_inside_the_window(
    name: str, query: RollupQuery
) -> None:
    text = DOWNLOAD_BUILDERS[name](TABLE, query)
    reads = _reads(text, TABLE)
    tally.count("cost safety: SQL builders checked for the timestamp window")
    assert reads, "the builder reads the downloads table"
    for conditions in reads:
        assert "timestamp >= @start" in conditions and "timestamp < @end" in conditions
    params = {p.name: p for p in sql.window_params(query)}
    assert params["start"].type == params["end"].type == "TIMESTAMP"
    assert params["start"].value < params["end"].value
    assert params["end"].value - params["start"].value == dt.timedelta(days=query.days.days)
    assert unbounded_scans(text, TABLE) == 0  # and the source's guard lets it through


@pytest.mark.parametrize("name", list(METADATA_BUILDERS))
def test_metadata_builders_never_read_the_downloads_table(name: str) -> None:
    text = getattr(sql, name)("proj.pypi.distribution_metadata")
    tally.count("cost safety: SQL builders checked for the timestamp window")
    assert "file_downloads" not in text
    condition = METADATA_BUILDERS[name]
    if condition is not None:
        assert condition in " ".join(text.split())


# -- 2. the guard in the source -----------------------------------------------------------
class _CountingClient:
    """Counts what would have been sent to BigQuery."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def query(self, text: str, job_config: Any, **options: Any) -> Any:
        self.sent.append(text)
        rows = SimpleNamespace(to_arrow=lambda **kw: pl.DataFrame({"x": [1]}).to_arrow())
        return SimpleNamespace(total_bytes_processed=1, result=lambda **kw: rows)


def _mutations(good: str) -> dict[str, str]:
    bare = TABLE
    return {
        "window removed": good.replace(WINDOW, "TRUE"),
        "window widened by OR": good.replace(WINDOW, f"{WINDOW} OR TRUE"),
        "window commented out": good.replace(WINDOW, f"TRUE -- {WINDOW}"),
        "window in a block comment": good.replace(WINDOW, f"/* {WINDOW} */ TRUE"),
        "only the lower bound": good.replace(WINDOW, "timestamp >= @start"),
        "bounds on another column": good.replace(WINDOW, WINDOW.replace("timestamp", "ts")),
        "a second read without it": f"{good}\nUNION ALL SELECT * FROM `{bare}`",
        "a read joined in": f"SELECT * FROM `x.y.z` JOIN `{bare}` USING (project) WHERE {WINDOW}",
        "an unquoted read": f"SELECT COUNT(*) FROM {bare}",
        "a subquery without it": f"SELECT * FROM (SELECT * FROM `{bare}`) WHERE {WINDOW}",
    }


@pytest.mark.parametrize("kind", ["downloads", "fingerprints"])
def test_the_source_refuses_sql_without_the_window_before_sending_anything(kind: str) -> None:
    client = _CountingClient()
    source = BigQuerySource(client=client, downloads_table=TABLE, retry_policy=FAST)  # type: ignore[arg-type]
    query = QUERIES[0]
    params = sql.window_params(query)
    good = source.sql(kind, query)
    for case, text in _mutations(good).items():
        assert text != good, case
        for send in (source._dry_run, source._run):
            with pytest.raises(CostLimitError, match="without a bounded timestamp window"):
                send(text, params, f"the {kind} rollup")
        tally.count("cost safety: SQL without a bounded window refused", 2)
    assert client.sent == []
    source._dry_run(good, params, "the real thing")  # and the real SQL goes through
    assert client.sent == [good]


def test_the_source_refuses_an_unbounded_or_missing_window_parameter() -> None:
    client = _CountingClient()
    source = BigQuerySource(client=client, downloads_table=TABLE, retry_policy=FAST)  # type: ignore[arg-type]
    good = source.sql("downloads", QUERIES[0])
    start, end = (p.value for p in sql.window_params(QUERIES[0])[:2])

    def window(lo: Any, hi: Any, kind: str = "TIMESTAMP") -> list[sql.Param]:
        return [sql.Param("start", kind, lo), sql.Param("end", kind, hi)]

    cases = {
        "no end": window(start, end)[:1],
        "no parameters": [],
        "empty window": window(end, end),
        "reversed": window(end, start),
        "not timestamps": window("0", "9", "STRING"),
        "end unbounded": window(start, None),
    }
    for params in cases.values():
        with pytest.raises(CostLimitError):
            source._dry_run(good, params, "the downloads rollup")
        tally.count("cost safety: unbounded window parameters refused")
    assert client.sent == []


# -- 3. with the real client, counted on the wire -----------------------------------------


@pytest.fixture
def via(
    proxy: FaultyProxy, public: Loaded, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultyProxy]:
    yield from routed(proxy, monkeypatch, config.BIGQUERY_ENDPOINT_ENV)


def _query(public: Loaded) -> RollupQuery:
    return RollupQuery.of(list(public.projects), public.first, public.last, today=TODAY)


def _dry(seen: Seen) -> bool:
    return seen.kind == "dry run"


@pytest.mark.emulator
def test_the_window_really_limits_what_is_counted(via: FaultyProxy, public: Loaded) -> None:
    """The window is not decoration: three of the eight loaded days count three days."""
    first = public.first + dt.timedelta(days=2)
    last = first + dt.timedelta(days=2)
    query = RollupQuery.of(list(public.projects), first, last, today=TODAY)
    got = BigQuerySource(retry_policy=FAST).fetch(("downloads",), query)["downloads"]
    day = pl.col("timestamp").dt.date()
    inside = public.rows.filter(day.is_between(first, last)).height
    tally.count("cost safety: window checked against the rows it counts")
    assert 0 < got["downloads"].sum() == inside < public.rows.height


@pytest.mark.emulator
def test_sql_that_lost_its_window_never_reaches_bigquery(
    via: FaultyProxy, public: Loaded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A builder that regressed (no window) is refused before even the dry run."""

    def regressed(table: str, query: RollupQuery) -> str:
        return sql.downloads_sql(table, query).replace(WINDOW, "TRUE")

    monkeypatch.setitem(bq._BUILDERS, "downloads", regressed)
    with pytest.raises(CostLimitError, match="without a bounded timestamp window"):
        data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=Cache(tmp_path))
    tally.count("cost safety: window-less SQL stopped before the wire")
    assert via.count() == 0


@pytest.mark.emulator
@pytest.mark.parametrize("over", [False, True], ids=["at the ceiling", "one byte over"])
def test_the_ceiling_is_checked_on_the_dry_run_and_enforced_by_bigquery(
    over: bool, via: FaultyProxy, public: Loaded, tmp_path: Path
) -> None:
    size = 3 * 2**40  # what each dry run reports: 3 TiB
    ceiling = 2 * size - int(over)
    via.inject(Fault("dry-run-size", when=_dry, size=size))
    source = BigQuerySource(max_bytes_billed=ceiling, retry_policy=FAST)
    cache = Cache(tmp_path / "cache")
    tally.count(f"cost safety: estimate {'over' if over else 'at'} the ceiling")
    if over:
        with pytest.raises(CostLimitError, match="above the ceiling") as info:
            data.load(source, _query(public), cache=cache, today=TODAY)
        assert "6.0 TiB" in str(info.value)
        assert via.count("dry run") == 2 and via.jobs_submitted() == 0
        assert snapshot(cache.root) == {}
        return
    data.load(source, _query(public), cache=cache, today=TODAY)
    jobs = [s for s in via.seen if s.kind == "job"]
    assert len(jobs) == 2  # and BigQuery itself is told the ceiling, for each job
    billed = {s.body["configuration"]["query"].get("maximumBytesBilled") for s in jobs}
    assert billed == {str(ceiling)}


@pytest.mark.emulator
def test_metadata_queries_over_the_ceiling_run_nothing(via: FaultyProxy) -> None:
    via.inject(Fault("dry-run-size", when=_dry, size=5 * 2**40))
    source = BigQuerySource(max_bytes_billed=2**40, retry_policy=FAST)
    with pytest.raises(CostLimitError):
        source.releases(("requests",))
    with pytest.raises(CostLimitError):
        source.dependents(("requests",), dt.date(2026, 1, 1))
    tally.count("cost safety: metadata query over the ceiling", 2)
    assert via.count("dry run") == 2 and via.jobs_submitted() == 0


@pytest.mark.emulator
def test_cli_over_the_ceiling_is_one_line_exit_5_and_no_job(
    via: FaultyProxy, public: Loaded
) -> None:
    via.inject(Fault("dry-run-size", when=_dry, size=2**40))
    args = ["fetch", *public.projects, "--source", "bigquery", "--yes", "--max-bytes", "1000000"]
    args += ["--start", str(public.first), "--end", str(public.last)]
    result = CliRunner().invoke(main, args)
    tally.count("cost safety: CLI fetch over the ceiling")
    assert result.exit_code == 5, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: the queries would process 2.0 TiB, above the ceiling")
    assert via.jobs_submitted() == 0


@pytest.mark.emulator
def test_declining_the_estimate_runs_nothing(
    via: FaultyProxy, public: Loaded, tmp_path: Path
) -> None:
    source = BigQuerySource(confirm=lambda estimate: False, retry_policy=FAST)
    with pytest.raises(NotConfirmedError):
        data.load(source, _query(public), cache=Cache(tmp_path), today=TODAY)
    tally.count("cost safety: estimate declined")
    assert via.count("dry run") == 2 and via.jobs_submitted() == 0


#: Dry runs that fail: (fault, the fetch's error)
FAILED_DRY_RUNS = {
    "rejected (400)": Fault("status", when=_dry, status=400, reason="invalidQuery"),
    "denied (403)": Fault("status", when=_dry, status=403, reason="accessDenied"),
    "failing (500, retried to the deadline)": Fault("status", when=_dry, status=500),
    "answer dropped mid-way": Fault("drop", when=_dry),
    "only the second one rejected": Fault(
        "status", when=lambda s: _dry(s) and "per_client" in s.sql, status=400, reason="x"
    ),
}


@pytest.mark.emulator
@pytest.mark.parametrize("case", list(FAILED_DRY_RUNS))
def test_a_failed_dry_run_means_no_run(
    case: str, via: FaultyProxy, public: Loaded, tmp_path: Path
) -> None:
    fault = FAILED_DRY_RUNS[case]
    via.inject(Fault(**{**fault.__dict__, "hits": 0}))
    cache = Cache(tmp_path / "cache")
    with pytest.raises(SourceError) as info:
        data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=cache, today=TODAY)
    tally.count(f"cost safety: failed dry run ({case}) runs nothing")
    assert "dry run" in str(info.value) and "\n" not in str(info.value)
    assert via.count("dry run", faulted=True) >= 1
    assert via.jobs_submitted() == 0
    assert snapshot(cache.root) == {}


@pytest.mark.emulator
def test_a_failed_dry_run_of_a_metadata_query_means_no_run(via: FaultyProxy) -> None:
    via.inject(Fault("status", when=_dry, status=400, reason="invalidQuery"))
    with pytest.raises(SourceError, match="dry run of the release metadata"):
        BigQuerySource(retry_policy=FAST).releases(("requests",))
    tally.count("cost safety: failed dry run (release metadata) runs nothing")
    assert via.jobs_submitted() == 0
