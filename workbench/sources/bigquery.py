"""BigQuery through the official ``google-cloud-bigquery`` client.

One parameterised query per rollup kind and (projects, day range), aggregated
server-side: never raw rows. Before anything runs, dry runs estimate the
bytes; a query above ``max_bytes_billed`` is refused, and a ``confirm``
callback (the CLI's prompt, the app's button) sees the estimate first. The
ceiling is also passed to BigQuery as ``maximum_bytes_billed`` so the service
enforces it too. Results come back as Arrow and become Polars frames.

Failures are handled by an explicit :class:`RetryPolicy` instead of the client
library's defaults (which retry every call for 10 minutes, restart failed jobs
for up to 40, and retry some 403 and 404 answers): only transient failures are
retried (429, 500, 502, 503, 504, BigQuery's 403 ``rateLimitExceeded``, a
refused, reset, dropped or silent connection; never another 400, 403 or 404),
with exponential backoff, for at most ``WORKBENCH_BIGQUERY_DEADLINE`` seconds
per call; every HTTP request waits at most ``WORKBENCH_BIGQUERY_TIMEOUT``
seconds. Whatever fails ends as one :class:`SourceError` line.

No SQL that reads the downloads table leaves this module without its
``@start``/``@end`` timestamp window (:func:`unbounded_scans`): a query without
it would scan, and bill, every partition.

Set ``WORKBENCH_BIGQUERY_ENDPOINT`` (e.g. ``http://127.0.0.1:9050``) to talk
to a local emulator with anonymous credentials.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench import config
from workbench.errors import CostLimitError, NotConfirmedError, SourceError, redact
from workbench.metadata import dependents_from_files, releases_from_files
from workbench.query import RollupQuery
from workbench.schema import DOWNLOADS_TABLE, METADATA_TABLE, conform
from workbench.sources.base import KINDS, CostEstimate, human_bytes
from workbench.sql import (
    Param,
    dependent_files_sql,
    downloads_sql,
    fingerprints_sql,
    project_params,
    release_files_sql,
    table_name,
    window_params,
)

if TYPE_CHECKING:
    import requests
    from google.api_core.retry import Retry
    from google.cloud import bigquery

Confirm = Callable[[CostEstimate], bool]
log = logging.getLogger(__name__)

_BUILDERS = {"downloads": downloads_sql, "fingerprints": fingerprints_sql}


def make_client(
    billing_project: str | None = None, *, timeout: float | None = None
) -> bigquery.Client:
    """A BigQuery client, or a :class:`SourceError` saying how to get credentials.

    Its HTTP requests wait at most ``timeout`` seconds (default ``WORKBENCH_BIGQUERY_TIMEOUT``)
    for an answer (:func:`_capped_session`)."""
    from google.cloud import bigquery

    timeout = timeout or config.bigquery_timeout()
    endpoint = os.environ.get(config.BIGQUERY_ENDPOINT_ENV)
    if endpoint:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        endpoint, login = _without_login(endpoint)
        session = _capped_session(anonymous, timeout)
        session.auth = login  # sent as a header: the URL, quoted in errors and logs, has none
        return bigquery.Client(
            project=billing_project or "workbench-local",
            credentials=anonymous,
            client_options=ClientOptions(api_endpoint=endpoint),
            _http=session,
        )
    import google.auth
    import google.auth.exceptions

    try:
        credentials, default_project = google.auth.default(scopes=bigquery.Client.SCOPE)
        return bigquery.Client(
            project=billing_project or default_project,
            credentials=credentials,
            _http=_capped_session(credentials, timeout),
        )
    except google.auth.exceptions.DefaultCredentialsError:
        raise SourceError(
            "no Google Cloud credentials found: run 'gcloud auth application-default login' "
            "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
        ) from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot create a BigQuery client: {type(exc).__name__}") from None


def _without_login(endpoint: str) -> tuple[str, tuple[str, str] | None]:
    """``http://user:password@host:port`` -> (``http://host:port``, (user, password)).

    The client library quotes request URLs in its errors and debug logs, so an endpoint's
    login must never be part of them."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(endpoint)
    if "@" not in parts.netloc:
        return endpoint, None
    host = parts.netloc.rpartition("@")[2]
    login = (unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=host)), login


def _to_bigquery(params: list[Param]) -> list[Any]:
    from google.cloud import bigquery

    out: list[Any] = []
    for p in params:
        if p.array:
            out.append(bigquery.ArrayQueryParameter(p.name, p.type, p.value))
        else:
            out.append(bigquery.ScalarQueryParameter(p.name, p.type, p.value))
    return out


#: The client prefixes a service error with the request ("POST http://…/jobs: "): the URL
#: may hold an endpoint's ``user:password@`` and says nothing the user needs.
_REQUEST_PREFIX = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+\S+:\s+")


def _service_error(exc: Exception, what: str) -> SourceError:
    """Translate a google.api_core or google.auth error into one clear line (never a
    credential: no request URL, no token endpoint's answer)."""
    import google.auth.exceptions
    from google.api_core import exceptions as gexc

    if isinstance(exc, google.auth.exceptions.TransportError):
        return SourceError(f"BigQuery is unreachable for {what} (the token request failed)")
    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        return SourceError(
            f"BigQuery did not accept the Google Cloud credentials for {what} "
            f"({type(exc).__name__}): check GOOGLE_APPLICATION_CREDENTIALS or run "
            "'gcloud auth application-default login'"
        )
    reason = getattr(exc, "message", "") or type(exc).__name__
    lines = str(reason).splitlines() or [type(exc).__name__]
    reason = redact(_REQUEST_PREFIX.sub("", lines[0]))[:200]
    if isinstance(exc, gexc.Forbidden):
        if "bytesBilledLimitExceeded" in str(exc) or "bytes billed" in str(exc).lower():
            return CostLimitError(f"BigQuery refused {what}: over the bytes-billed ceiling")
        return SourceError(f"BigQuery denied access for {what}: {reason}")
    if isinstance(exc, gexc.NotFound):
        return SourceError(f"BigQuery table not found for {what}: {reason}")
    if isinstance(exc, gexc.BadRequest):
        return SourceError(f"BigQuery rejected {what}: {reason}")
    if isinstance(exc, gexc.TooManyRequests):
        return SourceError(f"BigQuery is rate-limiting {what}; try again in a minute")
    return SourceError(f"BigQuery failed on {what}: {reason}")


def _capped_session(credentials: Any, timeout: float) -> requests.Session:
    """An authorised HTTP session whose requests wait at most ``timeout`` seconds for the
    server: the client library raises some timeouts on its own (getQueryResults to 120 s,
    or none at all), so without this cap a silent server would hold a fetch for minutes."""
    from google.auth.transport.requests import AuthorizedSession

    class CappedSession(AuthorizedSession):
        def request(  # type: ignore[override]
            self,
            method: Any,
            url: Any,
            data: Any = None,
            headers: Any = None,
            max_allowed_time: Any = None,
            timeout: Any = None,
            **kw: Any,
        ) -> Any:
            capped = _cap(timeout, cap)
            return super().request(  # type: ignore[no-untyped-call]
                method, url, data, headers, max_allowed_time, capped, **kw
            )

    cap = timeout
    return CappedSession(credentials)  # type: ignore[no-untyped-call]


def _cap(timeout: Any, cap: float) -> Any:
    """``timeout`` (seconds, a (connect, read) pair, or ``None`` = forever) at most ``cap``."""
    if isinstance(timeout, tuple):
        return tuple(_cap(t, cap) for t in timeout)
    if isinstance(timeout, int | float):
        return min(float(timeout), cap)
    return cap


#: HTTP answers worth asking again: 429 Too Many Requests and the 5xx of an overloaded or
#: restarting service. Never 400 (a bad query), 401/403 (credentials, permission, quota) or
#: 404 (no such table): asking again gives the same answer.
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
#: ... except BigQuery's short-term rate limit, which it reports as 403 rateLimitExceeded and
#: documents as "retry with exponential backoff" (unlike 403 quotaExceeded or accessDenied).
_RATE_LIMITED = "rateLimitExceeded"
#: Why a *job* (not a request) may fail and a new job succeed.
_JOB_TRANSIENT_REASONS = frozenset(
    {
        "backendError",
        "internalError",
        "rateLimitExceeded",
        "jobBackendError",
        "jobInternalError",
        "jobRateLimitExceeded",
    }
)


def _reason(exc: BaseException) -> str:
    """BigQuery's machine-readable reason for an error (``accessDenied``, …), or ``""``."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("reason") or "")
    return ""


def is_transient(exc: BaseException) -> bool:
    """Whether a failed BigQuery request is worth repeating (see :data:`_TRANSIENT_STATUS`):
    429/5xx, BigQuery's rate limit, a refused, reset, dropped or silent connection."""
    import google.auth.exceptions
    import requests
    from google.api_core import exceptions as gexc

    if isinstance(exc, gexc.RetryError):
        return False  # an inner retry already gave up: do not multiply the waiting
    if isinstance(exc, gexc.GoogleAPICallError):
        return exc.code in _TRANSIENT_STATUS or (exc.code == 403 and _reason(exc) == _RATE_LIMITED)
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate problem does not go away by itself
    return isinstance(
        exc,
        requests.exceptions.ConnectionError
        | requests.exceptions.ChunkedEncodingError
        | requests.exceptions.Timeout
        | google.auth.exceptions.TransportError
        | ConnectionError,
    )


def _job_failed_transiently(exc: BaseException) -> bool:
    """Whether a query *job* failed for a reason a new job can cure (BigQuery's backend or
    rate limit), as opposed to a request that already used up its own retries."""
    from google.api_core import exceptions as gexc

    if isinstance(exc, gexc.RetryError):
        return False
    return isinstance(exc, gexc.GoogleAPICallError) and _reason(exc) in _JOB_TRANSIENT_REASONS


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (causes, contexts, urllib3's ``reason``, exception args)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        wrapped += list(current.args)
        todo += [w for w in wrapped if isinstance(w, BaseException)]
    return seen


def _what_went_wrong(exc: BaseException) -> str:
    """A few words on one failed request; never a URL or a server's full answer."""
    import requests
    from google.api_core import exceptions as gexc

    if isinstance(exc, gexc.GoogleAPICallError):
        reason = _reason(exc)
        return f"HTTP {exc.code}" + (f" {reason}" if reason else "")
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection dropped mid-answer"
    chain = _chain(exc)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused"
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return "the connection was reset"
    return type(exc).__name__


@dataclass
class _Attempts:
    """The failed attempts of one BigQuery operation, for the log and the final message."""

    what: str
    failures: int = 0
    last: str = ""
    started: float = field(default_factory=time.monotonic)

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        self.last = _what_went_wrong(exc)
        log.info("BigQuery: %s failed (%s), attempt %d", self.what, self.last, self.failures)

    def seconds(self) -> float:
        return time.monotonic() - self.started


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long the BigQuery source waits and what it asks again (see the module doc).

    ``timeout``: seconds one HTTP request may wait for an answer; ``deadline``: seconds of
    retrying per call (exponential backoff from ``initial`` up to ``maximum`` seconds, with
    jitter), and of waiting for one job to finish.
    """

    timeout: float = config.DEFAULT_BIGQUERY_TIMEOUT
    deadline: float = config.DEFAULT_BIGQUERY_DEADLINE
    initial: float = 1.0
    maximum: float = 32.0
    multiplier: float = 2.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        return cls(timeout=config.bigquery_timeout(), deadline=config.bigquery_deadline())

    def _retry(self, predicate: Callable[[BaseException], bool], attempts: _Attempts) -> Retry:
        from google.api_core.retry import Retry

        return Retry(
            predicate=predicate,
            initial=self.initial,
            maximum=self.maximum,
            multiplier=self.multiplier,
            timeout=self.deadline,
            on_error=attempts.failed,
        )

    def requests(self, attempts: _Attempts) -> Retry:
        """For every HTTP call: transient failures only."""
        return self._retry(is_transient, attempts)

    def jobs(self, attempts: _Attempts) -> Retry:
        """For a query job that failed on BigQuery's side: a new job, within the deadline."""
        return self._retry(_job_failed_transiently, attempts)


def _failure(exc: BaseException, attempts: _Attempts, policy: RetryPolicy) -> SourceError:
    """One line for a BigQuery operation that failed for good."""
    import google.auth.exceptions
    from google.api_core import exceptions as gexc

    what = attempts.what
    if isinstance(exc, gexc.RetryError):
        cause = exc.cause if exc.cause is not None else exc
        return SourceError(
            f"BigQuery kept failing on {what} ({_what_went_wrong(cause)}): gave up after "
            f"{attempts.failures} attempts in {attempts.seconds():.0f} s "
            f"({config.BIGQUERY_DEADLINE_ENV}={policy.deadline:g}); try again later"
        )
    if isinstance(exc, TimeoutError):  # job.result(timeout=...) ran out
        return SourceError(
            f"BigQuery did not finish {what} within {policy.deadline:g} s "
            f"({config.BIGQUERY_DEADLINE_ENV})"
        )
    if isinstance(exc, gexc.GoogleAPIError | google.auth.exceptions.GoogleAuthError):
        return _service_error(exc, what)
    return SourceError(f"BigQuery is unreachable for {what} ({_what_went_wrong(exc)})")


_WINDOW = "timestamp >= @start AND timestamp < @end"
_CLAUSE = re.compile(
    r"\(|\)|\b(?:GROUP|ORDER|HAVING|QUALIFY|WINDOW|LIMIT|UNION|INTERSECT|EXCEPT)\b", re.I
)


def _where(text: str) -> str:
    """The WHERE clause that starts ``text``, up to its query's next clause or its end."""
    depth = 0
    for match in _CLAUSE.finditer(text):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            if depth == 0:
                return text[: match.start()]
            depth -= 1
        elif depth == 0:
            return text[: match.start()]
    return text


def unbounded_scans(sql: str, table: str) -> int:
    """How many reads of ``table`` in ``sql`` are not limited to the ``@start``/``@end``
    timestamp window: each must be ``FROM table [alias] WHERE <window> [AND …]`` with no
    ``OR`` that could widen it, in SQL without comments that could hide it. 0 is safe."""
    reads = list(re.finditer(rf"(?<![\w.`-])`?{re.escape(table)}`?(?![\w.`-])", sql))
    if reads and ("--" in sql or "/*" in sql):
        return len(reads)
    bad = 0
    for read in reads:
        before = sql[: read.start()].split()
        after = re.match(r"\s+(?:(?:AS\s+)?(?!WHERE\b)\w+\s+)?WHERE\s", sql[read.end() :], re.I)
        if not before or before[-1].upper() != "FROM" or after is None:
            bad += 1
            continue
        where = " ".join(_where(sql[read.end() + after.end() :]).split())
        rest = where.removeprefix(_WINDOW)
        widened = re.search(r"\bOR\b", where, re.I) is not None
        if rest == where or (rest and not rest.startswith(" AND ")) or widened:
            bad += 1
    return bad


def _window_is_bounded(params: list[Param]) -> bool:
    values = {p.name: p.value for p in params if p.type == "TIMESTAMP" and not p.array}
    start, end = values.get("start"), values.get("end")
    return isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and start < end


#: What the client library raises when an answer is not in BigQuery's shape (a proxy's own
#: error page, ``{"error": "text"}``, HTML with 200 OK): the library's parser trips on it.
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError, IndexError)


def _malformed_answer(exc: BaseException) -> bool:
    """True for an answer that is not JSON (requests' decode error is also an OSError)."""
    import requests

    return isinstance(exc, requests.exceptions.JSONDecodeError)


def _not_bigquery(exc: BaseException, what: str) -> SourceError:
    return SourceError(
        f"the endpoint's answer to {what} is not a BigQuery answer ({type(exc).__name__}); "
        "is a proxy or firewall in the way?"
    )


class BigQuerySource:
    """The public PyPI tables on BigQuery (or any tables in the same layout)."""

    def __init__(
        self,
        *,
        billing_project: str | None = None,
        downloads_table: str = DOWNLOADS_TABLE,
        metadata_table: str = METADATA_TABLE,
        max_bytes_billed: int | None = None,
        confirm: Confirm | None = None,
        client: bigquery.Client | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        table_name(downloads_table), table_name(metadata_table)  # validate early
        self.policy = retry_policy or RetryPolicy.from_env()
        self.downloads_table = downloads_table
        self.metadata_table = metadata_table
        self.max_bytes_billed = max_bytes_billed or config.max_bytes_billed()
        self.confirm = confirm
        self.billing_project = billing_project
        self._client = client
        self.last_bytes_processed = 0

    @property
    def client(self) -> bigquery.Client:
        if self._client is None:
            self._client = make_client(self.billing_project, timeout=self.policy.timeout)
        return self._client

    @property
    def identity(self) -> dict[str, Any]:
        return {
            "source": "bigquery",
            "downloads_table": self.downloads_table,
            "metadata_table": self.metadata_table,
            "endpoint": os.environ.get(config.BIGQUERY_ENDPOINT_ENV, ""),
        }

    @property
    def live(self) -> bool:
        return True

    def describe(self) -> str:
        return f"BigQuery {self.downloads_table}"

    def sql(self, kind: str, query: RollupQuery) -> str:
        return _BUILDERS[kind](self.downloads_table, query)

    # -- guards -------------------------------------------------------------------
    def _require_window(self, sql: str, params: list[Param]) -> None:
        """Refuse SQL that would read the downloads table outside a bounded timestamp
        window (every partition: the whole table's price), before it is even dry-run."""
        reads = unbounded_scans(sql, self.downloads_table)
        mentioned = self.downloads_table in sql
        if reads or (mentioned and not _window_is_bounded(params)):
            raise CostLimitError(
                f"refusing to send a query of {self.downloads_table} without a bounded "
                "timestamp window (@start < @end): it would scan, and bill, the whole table"
            )

    # -- cost ---------------------------------------------------------------------
    def _dry_run(self, sql: str, params: list[Param], what: str) -> int:
        import google.auth.exceptions
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery

        self._require_window(sql, params)
        cfg = bigquery.QueryJobConfig(
            dry_run=True, use_query_cache=False, query_parameters=_to_bigquery(params)
        )
        attempts = _Attempts(f"the dry run of {what}")
        try:
            job = self.client.query(
                sql,
                job_config=cfg,
                retry=self.policy.requests(attempts),
                timeout=self.policy.timeout,
                job_retry=None,  # a dry run is no job; and no hidden 10-minute insert retry
            )
        except (gexc.GoogleAPIError, google.auth.exceptions.GoogleAuthError, OSError) as exc:
            if _malformed_answer(exc):
                raise _not_bigquery(exc, f"the dry run of {what}") from None
            raise _failure(exc, attempts, self.policy) from None
        except _MALFORMED as exc:
            raise _not_bigquery(exc, f"the dry run of {what}") from None
        return int(job.total_bytes_processed or 0)

    def estimate(self, query: RollupQuery) -> CostEstimate:
        total = CostEstimate(0, 0)
        for kind in KINDS:
            size = self._dry_run(self.sql(kind, query), window_params(query), f"the {kind} rollup")
            total = total + CostEstimate(size, 1)
        return total

    def authorize(self, estimate: CostEstimate) -> None:
        """Refuse over the ceiling; ask ``confirm`` otherwise."""
        if estimate.bytes_processed > self.max_bytes_billed:
            raise CostLimitError(
                f"the queries would process {human_bytes(estimate.bytes_processed)}, above the "
                f"ceiling of {human_bytes(self.max_bytes_billed)}; narrow the range or raise "
                "--max-bytes"
            )
        if self.confirm is not None and not self.confirm(estimate):
            raise NotConfirmedError("the query was not run (not confirmed)")

    # -- running ------------------------------------------------------------------
    def _run(self, sql: str, params: list[Param], what: str) -> pl.DataFrame:
        """Submit, wait, download: each HTTP call retried per :attr:`policy`; a job that
        fails on BigQuery's side for a transient reason is replaced by a new one (the
        client's ``job_retry``, made explicit: same predicate family, same deadline)."""
        import google.auth.exceptions
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery

        self._require_window(sql, params)
        cfg = bigquery.QueryJobConfig(
            query_parameters=_to_bigquery(params), maximum_bytes_billed=self.max_bytes_billed
        )
        attempts = _Attempts(what)
        retry = self.policy.requests(attempts)
        try:
            # job_retry=None here: the client would otherwise wrap the insert in its own
            # 10-minute retry; restarts of failed jobs are asked for in result() instead.
            job = self.client.query(
                sql, job_config=cfg, retry=retry, timeout=self.policy.timeout, job_retry=None
            )
            rows = job.result(
                retry=retry, timeout=self.policy.deadline, job_retry=self.policy.jobs(attempts)
            )
            table = rows.to_arrow(create_bqstorage_client=False)
        except (gexc.GoogleAPIError, google.auth.exceptions.GoogleAuthError, OSError) as exc:
            if _malformed_answer(exc):
                raise _not_bigquery(exc, what) from None
            raise _failure(exc, attempts, self.policy) from None
        except _MALFORMED as exc:
            raise _not_bigquery(exc, what) from None
        self.last_bytes_processed += int(job.total_bytes_processed or 0)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def rollup(self, kind: str, query: RollupQuery) -> pl.LazyFrame:
        """Run the rollup query; the caller (:func:`workbench.data.load`) has authorised it."""
        frame = self._run(self.sql(kind, query), window_params(query), f"the {kind} rollup")
        return conform(frame, kind).lazy()

    def _guarded_run(self, sql: str, params: list[Param], what: str) -> pl.DataFrame:
        """Dry run, authorise (ceiling + confirmation), then run."""
        self.authorize(CostEstimate(self._dry_run(sql, params, what), 1))
        return self._run(sql, params, what)

    def releases(self, projects: tuple[str, ...]) -> pl.LazyFrame:
        sql = release_files_sql(self.metadata_table)
        files = self._guarded_run(sql, project_params(projects), "the release metadata")
        return releases_from_files(files.lazy())

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.LazyFrame:
        cutoff = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        params = [*project_params(projects), Param("since", "TIMESTAMP", cutoff)]
        files = self._guarded_run(
            dependent_files_sql(self.metadata_table), params, "the dependents"
        )
        return dependents_from_files(files.lazy(), projects)

    def project_names(self) -> list[str]:
        return []  # listing all of PyPI would cost a scan: no suggestions from BigQuery
