"""Faults: BigQuery down, slow, refusing, rate-limiting, failing or dropping mid-answer; the
cache on a full disk, read-only, or written by two processes at once.

The BigQuery faults are real: the official client talks HTTP to :class:`FaultyProxy`, which
stands in front of the local emulator and breaks requests on purpose. What must hold:

* a fault ends in one clear line (a :class:`SourceError`; ``error: …`` and exit code 4 from
  the CLI, no traceback), within a bounded time;
* only transient faults are retried (429, 5xx, BigQuery's 403 rateLimitExceeded, a refused,
  reset, dropped or silent connection), never 400/403/404: attempts are counted on the wire;
* nothing from a failed fetch is cached (the cache is byte-identical, lock files aside), and
  once the fault clears the same fetch gives the same answer as a fault-free one.

The cache faults use a real full tmpfs and a real read-only bind mount when the test runs as
root with mount rights (as here); elsewhere they fall back to injected ``ENOSPC`` / ``EROFS``
and say so in the counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tests import tally
from tests.faultproxy import Fault, FaultyProxy, Loaded, Seen, dead_endpoint, routed
from tests.faultproxy import snapshot as _snapshot
from workbench import config, data
from workbench.cache import Cache
from workbench.cli import main
from workbench.errors import CacheWriteWarning, InvalidInputError, SourceError
from workbench.query import DayRange, RollupQuery
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.bigquery.faults import RetryPolicy, is_transient
from workbench.sources.demo import DemoSource
from workbench.sources.local import ParquetSource

from .conftest import SMALL

TODAY = dt.date(2026, 11, 25)
#: Small limits so that a failing fetch gives up in half a second (requests may take 2 s:
#: the emulator answers a query's insert once the query has run, on a busy 2-core machine).
FAST = RetryPolicy(timeout=2.0, deadline=0.5, initial=0.05, maximum=0.15)
#: For a server that does not answer: a shorter request timeout (and a deadline that leaves
#: room for a second attempt).
IMPATIENT = RetryPolicy(timeout=1.0, deadline=1.5, initial=0.05, maximum=0.15)
SILENCE = 2.5  # seconds the "slow" proxy keeps quiet, more than IMPATIENT.timeout


def _bound(policy: RetryPolicy) -> float:
    """The longest a fetch may go on after its first failure: the deadline, one request
    timeout (an attempt started just before the deadline), and slack for a busy machine."""
    return policy.deadline + policy.timeout + 1.5


def snapshot(root: Path) -> dict[str, bytes]:
    """The cache's files, byte for byte, without its lock files (empty, made before a fetch
    so that two processes do not pay for one query twice)."""
    return {k: v for k, v in _snapshot(root).items() if not k.startswith("locks/")}


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def _answer(rollup: data.Rollup) -> dict[str, pl.DataFrame]:
    return {
        "downloads": _sorted(rollup.downloads.collect()),
        "fingerprints": _sorted(rollup.fingerprints.collect()),
    }


def _query(public: Loaded, projects: tuple[str, ...] | None = None) -> RollupQuery:
    return RollupQuery.of(list(projects or public.projects), public.first, public.last, today=TODAY)


def _lost(before: dict[str, bytes], after: dict[str, bytes]) -> int:
    """Entries that were in the cache before and are missing or changed after."""
    return sum(1 for name, content in before.items() if after.get(name) != content)


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(
    public: Loaded, bq_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pl.DataFrame]:
    """The fault-free answer, straight from the emulator, checked against the rows."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.BIGQUERY_ENDPOINT_ENV, bq_endpoint)
        cache = Cache(tmp_path_factory.mktemp("reference-cache"))
        answer = _answer(
            data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=cache, today=TODAY)
        )
    rows = tmp_path_factory.mktemp("reference-rows") / "rows.parquet"
    public.rows.write_parquet(rows)
    local = ParquetSource(rows).fetch(("downloads",), _query(public))["downloads"]
    assert answer["downloads"]["downloads"].sum() == public.rows.height
    assert answer["downloads"].equals(_sorted(local.select(answer["downloads"].columns)))
    return answer


@pytest.fixture(scope="module")
def seeded(public: Loaded, proxy: FaultyProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache already holding another answer (one package), whose bytes must survive."""
    root = tmp_path_factory.mktemp("seeded") / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.BIGQUERY_ENDPOINT_ENV, proxy.url)
        # days before the tests' window: a cached package's days would serve their query
        first = public.first - dt.timedelta(days=10)
        query = RollupQuery.of(public.projects[:1], first, first + dt.timedelta(days=5))
        data.load(BigQuerySource(retry_policy=FAST), query, cache=Cache(root), today=TODAY)
    assert len(Cache(root).entries()) == 2
    return root


@pytest.fixture
def via(proxy: FaultyProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    """The BigQuery source reaches the emulator through the proxy, with small limits."""
    yield from routed(proxy, monkeypatch, config.BIGQUERY_ENDPOINT_ENV)


@pytest.fixture
def cache(seeded: Path, tmp_path: Path) -> Cache:
    root = tmp_path / "cache"
    shutil.copytree(seeded, root)
    return Cache(root)


def _is(kind: str) -> Any:
    return lambda seen: seen.kind == kind


def _rows(seen: Seen) -> bool:
    return seen.rows_page


def _wait(seen: Seen) -> bool:
    return seen.kind == "results" and not seen.rows_page


def _fingerprints_job(seen: Seen) -> bool:
    return seen.kind == "job" and "per_client" in seen.sql


# -- the retry predicate ------------------------------------------------------------------
def _http_error(status: int, reason: str) -> Exception:
    from google.api_core import exceptions as gexc

    errors = [{"reason": reason, "message": reason}]
    return gexc.from_http_status(status, f"{reason} message", errors=errors)


@pytest.mark.parametrize(
    ("status", "reason", "transient"),
    [
        (400, "invalidQuery", False),
        (400, "backendError", False),  # the client library would retry this one
        (401, "unauthorized", False),
        (403, "accessDenied", False),
        (403, "quotaExceeded", False),
        (403, "billingNotEnabled", False),
        (404, "notFound", False),
        (409, "duplicate", False),
        (403, "rateLimitExceeded", True),
        (429, "rateLimitExceeded", True),
        (500, "backendError", True),
        (502, "badGateway", True),
        (503, "backendError", True),
        (504, "timeout", True),
    ],
)
def test_only_transient_http_errors_are_retried(status: int, reason: str, transient: bool) -> None:
    assert is_transient(_http_error(status, reason)) is transient


def test_connection_failures_are_transient_but_certificates_and_gave_up_are_not() -> None:
    import requests
    from google.api_core import exceptions as gexc

    for exc in (
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ChunkedEncodingError("dropped"),
        requests.exceptions.ReadTimeout("slow"),
        ConnectionResetError(),
    ):
        assert is_transient(exc), exc
    assert not is_transient(requests.exceptions.SSLError("bad certificate"))
    assert not is_transient(gexc.RetryError("gave up", _http_error(503, "backendError")))
    assert not is_transient(ValueError("a bug"))


@pytest.mark.parametrize("value", ["abc", "0", "-3", "nan", "inf", " "])
def test_bad_timeout_settings_are_one_clear_line(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.BIGQUERY_TIMEOUT_ENV, value)
    monkeypatch.setenv(config.BIGQUERY_DEADLINE_ENV, value)
    if not value.strip():
        assert RetryPolicy.from_env() == RetryPolicy()  # unset: the documented defaults
        assert (RetryPolicy().timeout, RetryPolicy().deadline) == (60.0, 600.0)
        return
    with pytest.raises(InvalidInputError) as info:
        BigQuerySource()
    assert config.BIGQUERY_TIMEOUT_ENV in str(info.value) and "\n" not in str(info.value)


def test_client_requests_are_capped_by_the_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The client library raises getQueryResults' timeout to 120 s on its own: the
    session under it caps every request at WORKBENCH_BIGQUERY_TIMEOUT."""
    from workbench.sources.bigquery import make_client

    monkeypatch.setenv(config.BIGQUERY_ENDPOINT_ENV, dead_endpoint())
    monkeypatch.setenv(config.BIGQUERY_TIMEOUT_ENV, "7")
    session = make_client()._http
    sent: list[Any] = []

    def record(self: Any, method: str, url: str, **kw: Any) -> Any:
        sent.append(kw.get("timeout"))
        raise ConnectionRefusedError

    import requests

    monkeypatch.setattr(requests.Session, "request", record)
    for given in (None, 120, 3.0, (120, 300)):
        with contextlib.suppress(ConnectionRefusedError):
            session.request("GET", "http://127.0.0.1:1/", timeout=given)
    assert sent == [7.0, 7.0, 3.0, (7.0, 7.0)]


def test_a_job_still_running_at_the_deadline_is_one_clear_line() -> None:
    """``job.result(timeout=deadline)`` gives up on a job that never finishes."""
    import concurrent.futures
    from types import SimpleNamespace

    def never(**kw: Any) -> Any:
        assert kw["timeout"] == FAST.deadline and kw["job_retry"] is not None
        raise concurrent.futures.TimeoutError

    class Client:
        def query(self, text: str, job_config: Any, **kw: Any) -> Any:
            assert kw["job_retry"] is None and kw["timeout"] == FAST.timeout
            return SimpleNamespace(result=never)

    source = BigQuerySource(client=Client(), retry_policy=FAST)  # type: ignore[arg-type]
    query = RollupQuery.of("requests", "2026-10-01", "2026-10-02", today=TODAY)
    with pytest.raises(SourceError) as info:
        source.fetch(("downloads",), query)
    tally.count("faults injected: BigQuery job still running at the deadline")
    assert str(info.value) == (
        "BigQuery did not finish the downloads rollup within 0.5 s (WORKBENCH_BIGQUERY_DEADLINE)"
    )


# -- BigQuery faults that end the fetch ---------------------------------------------------
def _status(status: int, reason: str = "backendError", **kw: Any) -> Fault:
    return Fault("status", status=status, reason=reason, **kw)


#: (fault, what the message says, retried?)
FAILS = {
    "400 invalidQuery on the dry run": (_status(400, "invalidQuery"), "rejected", False),
    "403 accessDenied on the dry run": (_status(403, "accessDenied"), "denied access", False),
    "404 notFound on the dry run": (_status(404, "notFound"), "not found", False),
    "403 accessDenied on the wait for results": (
        _status(403, "accessDenied", when=_wait),
        "denied access",
        False,
    ),
    "404 'Not found: Job' on the job insert": (
        _status(404, "notFound", when=_is("job"), message="Not found: Job test:x"),
        "not found",
        False,
    ),
    "job failed with invalidQuery": (
        Fault("job-fails", when=_is("job"), reason="invalidQuery"),
        "rejected",
        False,
    ),
    "429 on the dry run": (_status(429, "rateLimitExceeded"), "HTTP 429", True),
    "403 rateLimitExceeded on the dry run": (
        _status(403, "rateLimitExceeded"),
        "HTTP 403 rateLimitExceeded",
        True,
    ),
    "500 on the job insert": (_status(500, when=_is("job")), "HTTP 500", True),
    "502 on the wait for results": (_status(502, "badGateway", when=_wait), "HTTP 502", True),
    "503 on the rows": (_status(503, when=_rows), "HTTP 503", True),
    "connection reset on the job insert": (Fault("reset", when=_is("job")), "reset", True),
    "connection dropped mid-answer on the rows": (Fault("drop", when=_rows), "mid-answer", True),
    "no answer in time on the dry run": (Fault("slow", delay=SILENCE), "no answer in time", True),
    "a proxy's {'error': text} answer on the dry run": (
        Fault("garbage", status=400, message='{"error": "blocked by policy"}'),
        "not a BigQuery answer",
        False,
    ),
    "an HTML page with 200 OK on the job insert": (
        Fault("garbage", status=200, when=_is("job"), message="<html>captive portal</html>"),
        "not a BigQuery answer",
        False,
    ),
}


@pytest.mark.emulator
@pytest.mark.parametrize("case", list(FAILS))
def test_a_bigquery_fault_is_one_line_retried_only_if_transient_and_caches_nothing(
    case: str,
    via: FaultyProxy,
    public: Loaded,
    reference: dict[str, pl.DataFrame],
    cache: Cache,
) -> None:
    fault, words, transient = FAILS[case]
    fault = Fault(**{**fault.__dict__, "hits": 0})
    policy = IMPATIENT if fault.mode == "slow" else FAST
    before = snapshot(cache.root)
    via.inject(fault)
    with pytest.raises(SourceError) as info:
        data.load(BigQuerySource(retry_policy=policy), _query(public), cache=cache, today=TODAY)
    elapsed = time.monotonic() - via.first_fault()
    tally.count(f"faults injected: BigQuery {case}")
    message = str(info.value)
    assert "\n" not in message and words in message, message
    assert type(info.value) is SourceError  # exit code 4, not a cost or input error
    attempts = via.count(faulted=True)
    if transient:
        match = re.search(r"gave up after (\d+) attempts", message)
        assert match is not None, message
        assert attempts == int(match.group(1))  # every attempt seen on the wire is counted
        assert attempts >= 2
    else:
        assert attempts == 1  # never asked again
    assert elapsed < _bound(policy), elapsed
    after = snapshot(cache.root)
    lost = _lost(before, after)
    tally.lost(f"cache entries lost or corrupted: BigQuery {case}", lost)
    assert lost == 0 and after == before  # byte-identical: nothing partial was cached
    if fault.when(Seen("POST", "/jobs", {"configuration": {"dryRun": True}})):
        assert via.jobs_submitted() == 0  # a failed dry run runs nothing
        return  # and nothing happened that could linger

    via.inject(None)  # the fault clears: the same fetch now gives the whole, right answer
    again = data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=cache, today=TODAY)
    assert not any(p.from_cache for p in again.provenance.parts)
    answer = _answer(again)
    assert answer["downloads"].equals(reference["downloads"])
    assert answer["fingerprints"].equals(reference["fingerprints"])


@pytest.mark.emulator
def test_bigquery_down_is_one_line_after_bounded_retries(
    via: FaultyProxy,
    public: Loaded,
    cache: Cache,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(config.BIGQUERY_ENDPOINT_ENV, dead_endpoint())
    before = snapshot(cache.root)
    started = time.monotonic()
    logs = caplog.at_level("INFO", logger="workbench.sources.bigquery")
    with logs, pytest.raises(SourceError) as info:
        data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=cache, today=TODAY)
    tally.count("faults injected: BigQuery endpoint down (connection refused)")
    message = str(info.value)
    assert "connection refused" in message and "\n" not in message, message
    logged = [r for r in caplog.records if "connection refused" in r.getMessage()]
    assert len(logged) >= 3 and f"after {len(logged)} attempts" in message
    assert time.monotonic() - started < _bound(FAST)
    assert snapshot(cache.root) == before


# -- BigQuery faults that the retries absorb ----------------------------------------------
#: (fault, requests it breaks, real jobs then submitted: one per rollup kind, plus restarts)
RECOVERS = {
    "503 twice on the dry run": (_status(503, times=2), 2, 2),
    "429 once on the job insert": (
        _status(429, "rateLimitExceeded", when=_is("job"), times=1),
        1,
        2,
    ),
    "500 once on the wait for results": (_status(500, when=_wait, times=1), 1, 2),
    "connection reset once on the job insert": (Fault("reset", when=_is("job"), times=1), 1, 2),
    "connection dropped once mid-answer on the rows": (Fault("drop", when=_rows, times=1), 1, 2),
    "no answer in time once on the dry run": (Fault("slow", times=1, delay=SILENCE), 1, 2),
    "job failed once with backendError (a new job)": (
        Fault("job-fails", when=_is("job"), times=1, reason="backendError"),
        1,
        3,
    ),
}


@pytest.mark.emulator
@pytest.mark.parametrize("case", list(RECOVERS))
def test_a_passing_fault_is_retried_to_the_same_answer(
    case: str,
    via: FaultyProxy,
    public: Loaded,
    reference: dict[str, pl.DataFrame],
    cache: Cache,
) -> None:
    fault, broken, jobs = RECOVERS[case]
    via.inject(Fault(**{**fault.__dict__, "hits": 0}))
    policy = IMPATIENT if fault.mode == "slow" else FAST
    rollup = data.load(
        BigQuerySource(retry_policy=policy), _query(public), cache=cache, today=TODAY
    )
    tally.count(f"faults injected: BigQuery {case}", broken)
    assert via.count(faulted=True) == broken
    assert via.jobs_run() == jobs  # one per rollup kind (+ the replacement of a failed job)
    answer = _answer(rollup)
    assert answer["downloads"].equals(reference["downloads"])
    assert answer["fingerprints"].equals(reference["fingerprints"])
    days = str(_query(public).days)
    stored = [e for e in cache.entries() if e.description.get("days") == days]
    assert len(stored) == 2 * len(public.projects) and all(e.complete for e in stored)


@pytest.mark.emulator
def test_a_job_insert_whose_answer_was_lost_is_not_billed_twice(
    via: FaultyProxy, public: Loaded, reference: dict[str, pl.DataFrame], cache: Cache
) -> None:
    """The insert reached BigQuery, the answer was dropped: the retry reuses the job id, so
    BigQuery sees one job per rollup, not two."""
    via.inject(Fault("drop", when=_is("job"), times=1))
    rollup = data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=cache, today=TODAY)
    tally.count("faults injected: BigQuery job insert answer dropped")
    inserts = [s for s in via.seen if s.kind == "job"]
    ids = {s.body["jobReference"]["jobId"] for s in inserts}
    assert len(inserts) == 3 and len(ids) == 2
    assert _answer(rollup)["downloads"].equals(reference["downloads"])


@pytest.mark.emulator
def test_a_fault_after_the_first_rollup_stores_nothing_of_the_part(
    via: FaultyProxy, public: Loaded, reference: dict[str, pl.DataFrame], cache: Cache
) -> None:
    """The downloads rollup arrives whole, then the fingerprints query keeps failing: a part
    is stored only once all its rollups are good, so the cache stays byte-identical, and the
    next fetch computes the whole part again, to the fault-free answer."""
    before = snapshot(cache.root)
    via.inject(_status(503, when=_fingerprints_job))
    with pytest.raises(SourceError, match="fingerprints rollup"):
        data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=cache, today=TODAY)
    tally.count("faults injected: BigQuery fingerprints query failing after downloads arrived")
    assert via.jobs_run() == 1  # the downloads job ran; its answer arrived
    after = snapshot(cache.root)
    lost = _lost(before, after)
    tally.lost("cache entries lost or corrupted: fault after the first rollup", lost)
    assert lost == 0 and after == before

    via.inject(None)
    again = data.load(BigQuerySource(retry_policy=FAST), _query(public), cache=cache, today=TODAY)
    assert not any(p.from_cache for p in again.provenance.parts)
    answer = _answer(again)
    assert answer["downloads"].equals(reference["downloads"])
    assert answer["fingerprints"].equals(reference["fingerprints"])


# -- through the command line -------------------------------------------------------------
CLI_FAILS = {
    "endpoint down": None,
    "403 accessDenied on the dry run": _status(403, "accessDenied"),
    "503 on the rows": _status(503, when=_rows),
}


@pytest.mark.emulator
@pytest.mark.parametrize("case", list(CLI_FAILS))
def test_cli_fetch_from_a_faulty_bigquery_is_one_error_line_and_exit_4(
    case: str,
    via: FaultyProxy,
    public: Loaded,
    reference: dict[str, pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(config.BIGQUERY_TIMEOUT_ENV, "5")
    monkeypatch.setenv(config.BIGQUERY_DEADLINE_ENV, "1.5")  # the policy's own backoff
    fault = CLI_FAILS[case]
    if fault is None:
        monkeypatch.setenv(config.BIGQUERY_ENDPOINT_ENV, dead_endpoint())
    via.inject(fault and Fault(**{**fault.__dict__, "hits": 0}))
    args = ["fetch", *public.projects, "--source", "bigquery", "--yes", "--quiet"]
    args += ["--start", str(public.first), "--end", str(public.last)]
    root = config.cache_dir()
    before = snapshot(root)
    result = CliRunner().invoke(main, args)
    finished = time.monotonic()
    tally.count(f"faults injected: CLI fetch, BigQuery {case}")
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    errors = [
        line for line in result.stderr.splitlines() if not line.startswith("BigQuery estimate")
    ]
    assert len(errors) == 1 and errors[0].startswith("error: BigQuery"), result.stderr
    assert "Traceback" not in result.output
    if fault is not None and fault.status != 403:
        assert finished - via.first_fault() < 1.5 + 5 + 1.5
    assert snapshot(root) == before
    if fault is not None and fault.status in (403,):
        assert via.count(faulted=True) == 1
    elif fault is not None:
        assert via.count(faulted=True) >= 2
    if fault is None or fault.status == 403:
        return

    monkeypatch.setenv(config.BIGQUERY_ENDPOINT_ENV, via.url)
    via.inject(None)
    fine = CliRunner().invoke(main, args)
    assert fine.exit_code == 0, fine.output
    totals = reference["downloads"].group_by("project").agg(pl.col("downloads").sum())
    for project, downloads in totals.iter_rows():
        assert f"{project}\t{downloads:,} downloads" in fine.stdout


@pytest.mark.emulator
def test_cli_in_a_real_process_prints_no_traceback(
    via: FaultyProxy, public: Loaded, tmp_path: Path
) -> None:
    via.inject(Fault("status", status=503))
    env = {
        **os.environ,
        config.BIGQUERY_ENDPOINT_ENV: via.url,
        config.BIGQUERY_TIMEOUT_ENV: "5",
        config.BIGQUERY_DEADLINE_ENV: "1.5",
        config.CACHE_DIR_ENV: str(tmp_path / "cache"),
    }
    args = ["fetch", *public.projects, "--source", "bigquery", "--yes", "--quiet"]
    args += ["--start", str(public.first), "--end", str(public.last)]
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("workbench")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    tally.count("faults injected: CLI fetch in a real process, BigQuery 503")
    assert proc.returncode == 4 and proc.stdout == ""
    assert re.fullmatch(r"error: BigQuery kept failing on .*HTTP 503.*\n", proc.stderr), proc.stderr
    assert via.count(faulted=True) >= 2 and via.jobs_submitted() == 0


# -- the cache: full disk, read-only, two writers -----------------------------------------
def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", *args], capture_output=True, check=False)
    return done.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


def _demo_query(small_demo: DemoSource, first: int, count: int) -> RollupQuery:
    names = small_demo.project_names()[first : first + count]
    return RollupQuery.of(names, "2026-10-01", "2026-10-14")


#: What the unwritable-cache tests ask for: two packages (answered into memory, then
#: stored), or every package (written by DuckDB straight into the cache).
ASKS = ("two packages", "every package")


def _asked(small_demo: DemoSource, ask: str) -> RollupQuery:
    if ask == "every package":
        return RollupQuery(None, DayRange(dt.date(2026, 10, 1), dt.date(2026, 10, 14)))
    return _demo_query(small_demo, 3, 2)


def _expected(small_demo: DemoSource, tmp_path: Path, ask: str) -> dict[str, pl.DataFrame]:
    """The answer :func:`_check_unwritable_cache` asks for, from a healthy cache."""
    return _answer(data.load(small_demo, _asked(small_demo, ask), cache=Cache(tmp_path)))


def _check_unwritable_cache(
    small_demo: DemoSource,
    cache: Cache,
    how: str,
    fault: str,
    before: dict[str, bytes],
    expected: dict[str, pl.DataFrame],
    ask: str,
) -> None:
    """A load into an unwritable cache: the answer, one kind of warning, nothing touched."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = data.load(small_demo, _asked(small_demo, ask), cache=cache)
    tally.count(f"faults injected: cache {fault} ({how}, {ask})")
    messages = {str(w.message) for w in caught if issubclass(w.category, CacheWriteWarning)}
    assert len(messages) == 1, messages
    (message,) = messages
    assert "could not be written" in message and "\n" not in message
    answer = _answer(got)
    assert answer["downloads"].equals(expected["downloads"])
    assert answer["fingerprints"].equals(expected["fingerprints"])
    after = snapshot(cache.root)
    lost = _lost(before, after)
    tally.lost(f"cache entries lost or corrupted: {fault}", lost)
    assert lost == 0 and after == before  # nothing new, no temporary file left behind
    old = data.load(small_demo, _demo_query(small_demo, 0, 1), cache=cache)
    assert old.provenance.from_cache  # what was cached still reads


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A 2 MiB tmpfs (``how`` = "real tmpfs"), or a directory whose Parquet writes fail
    half-way with ENOSPC ("simulated ENOSPC") where mounting is not allowed."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)):
        try:
            yield mount, "real tmpfs"
        finally:
            _umount(mount)
        return
    yield mount, "simulated ENOSPC"


def _fill(path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    filler = path / "filler"
    if how == "real tmpfs":
        with contextlib.suppress(OSError), filler.open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        return filler
    import workbench.cache

    def half_then_full(table: object, where: Any, **kw: object) -> None:
        os.write(where.fileno(), b"PAR1 half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(workbench.cache.pq, "write_table", half_then_full)

    def engine_half_then_full(con: object, parts: object, target: Any, *a: Any) -> None:
        target[0].write_bytes(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("workbench.sources.local.engine.write", engine_half_then_full)
    return filler


@pytest.mark.parametrize("ask", ASKS)
def test_a_full_disk_costs_a_warning_not_the_answer_nor_the_cache(
    full_disk: tuple[Path, str],
    small_demo: DemoSource,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ask: str,
) -> None:
    mount, how = full_disk
    cache = Cache(mount / "cache")
    data.load(small_demo, _demo_query(small_demo, 0, 1), cache=cache)
    before = snapshot(cache.root)
    assert len(cache.entries()) == 2
    expected = _expected(small_demo, tmp_path / "healthy", ask)
    filler = _fill(mount, how, monkeypatch)
    _check_unwritable_cache(small_demo, cache, how, "on a full disk", before, expected, ask)
    if ask == "every package":
        return  # every package's rollups do not fit the small disk even when it is empty

    monkeypatch.undo()  # space again: the same load is now kept
    filler.unlink(missing_ok=True)
    data.load(small_demo, _demo_query(small_demo, 3, 2), cache=cache)
    assert len(cache.entries()) == 6  # two more packages, two kinds each


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], str]]:
    """``freeze(dir)`` makes a directory a read-only bind mount and returns "real read-only
    mount"; where mounting is not allowed, new cache files fail with EROFS instead
    ("simulated EROFS")."""
    mounted: list[Path] = []

    def freeze(root: Path) -> str:
        if _mount("--bind", str(root), str(root)):
            mounted.append(root)
            if _mount("-o", "remount,ro,bind", str(root)):
                with pytest.raises(OSError) as info:
                    (root / "probe").touch()
                assert info.value.errno == errno.EROFS
                return "real read-only mount"
        import workbench.cache

        def refuse(*args: object, **kw: object) -> Any:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

        monkeypatch.setattr(workbench.cache.tempfile, "mkstemp", refuse)
        return "simulated EROFS"

    yield freeze
    for root in reversed(mounted):
        _umount(root)


@pytest.mark.parametrize("ask", ASKS)
def test_a_read_only_cache_costs_a_warning_not_the_answer_nor_the_cache(
    read_only: Callable[[Path], str], small_demo: DemoSource, tmp_path: Path, ask: str
) -> None:
    cache = Cache(tmp_path / "cache")
    data.load(small_demo, _demo_query(small_demo, 0, 1), cache=cache)
    before = snapshot(cache.root)
    expected = _expected(small_demo, tmp_path / "healthy", ask)
    how = read_only(cache.root)
    _check_unwritable_cache(small_demo, cache, how, "read-only", before, expected, ask)


def test_cli_with_a_read_only_cache_prints_the_answer_and_one_warning_line(
    read_only: Callable[[Path], str],
    small_demo: DemoSource,
    small_env: dict[str, str],
    tmp_path: Path,
) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    how = read_only(root)
    if how != "real read-only mount":
        pytest.skip("a read-only cache in another process needs a real read-only mount")
    name = small_demo.project_names()[0]
    env = {**os.environ, **small_env, config.CACHE_DIR_ENV: str(root)}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("workbench")), "fetch", name, "--source",
         f"demo:{SMALL.seed}", "--days", "14", "--quiet"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    tally.count("faults injected: CLI fetch with a read-only cache (real read-only mount)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{name}\t") and "downloads" in proc.stdout
    warned = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warned == [
        f"warning: the cache at {root} could not be written (it is read-only): "
        "results are shown but not kept"
    ], proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(root) == {}


_TWO_WRITERS = """
import os, sys, time
from pathlib import Path
from workbench import data
from workbench.cache import Cache
from workbench.demo import DemoConfig
from workbench.query import DayRange, RollupQuery
from workbench.sources.demo import DemoSource

data_dir, root, marker, me, other, out = sys.argv[1:7]
source = DemoSource(DemoConfig(seed=7, packages=60, days=70), data_dir=data_dir)

def counted(method):  # records each rollup kind computed, slowly (a wide race window)
    def run(kinds, *args):
        names = [kinds] if isinstance(kinds, str) else kinds
        with open(marker, "a") as handle:
            handle.writelines(f"{me} {kind}\\n" for kind in names)
        time.sleep(0.4)
        return method(kinds, *args)
    return run

for name in ("fetch",):  # what the loader calls
    if hasattr(source, name):
        setattr(source, name, counted(getattr(source, name)))
names = source.project_names()[5:7]
query = RollupQuery.of(names, "2026-10-01", "2026-10-20")
Path(root, "..", f"ready-{me}").touch()
while not Path(root, "..", f"ready-{other}").exists():  # start together
    time.sleep(0.01)
rollup = data.load(source, query, cache=Cache(root))
frame = rollup.downloads.collect()
frame.sort(frame.columns, nulls_last=True).write_parquet(out)
"""


def test_two_processes_fetching_one_key_compute_it_once_and_agree(
    small_demo_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    marker = tmp_path / "computed.txt"
    script = [sys.executable, "-c", textwrap.dedent(_TWO_WRITERS), str(small_demo_dir.parent)]
    procs = [
        subprocess.Popen([*script, str(root), str(marker), me, other, f"{tmp_path}/{me}.parquet"])
        for me, other in (("a", "b"), ("b", "a"))
    ]
    for proc in procs:
        assert proc.wait(timeout=90) == 0
    tally.count("faults injected: two processes writing one cache key")
    computed = marker.read_text().splitlines()
    assert sorted(line.split()[1] for line in computed) == ["downloads", "fingerprints"]
    first, second = (pq.read_table(tmp_path / f"{me}.parquet") for me in "ab")
    assert first.equals(second) and first.num_rows > 0
    cache = Cache(root)
    assert len(cache.entries()) == 4  # two packages, two kinds
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]
    stored = sorted(root.glob("*.parquet"))
    lost = sum(1 for p in stored if Cache(root).entry(p.stem) is None)
    tally.lost("cache entries lost or corrupted: two writers", lost)
    assert lost == 0
