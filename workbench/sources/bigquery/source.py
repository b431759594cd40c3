"""BigQuery through the official ``google-cloud-bigquery`` client.

One parameterised query per rollup kind and (projects, day range), aggregated
server-side: never raw rows. Before anything runs, dry runs estimate the
bytes; a query above ``max_bytes_billed`` is refused, and a ``confirm``
callback (the CLI's prompt, the app's button) sees the estimate first. The
ceiling is also passed to BigQuery as ``maximum_bytes_billed`` so the service
enforces it too. Results come back as Arrow and become Polars frames.

Failures are handled by an explicit :class:`~workbench.sources.bigquery.faults.RetryPolicy`
instead of the client library's defaults (which retry every call for 10 minutes, restart failed jobs
for up to 40, and retry some 403 and 404 answers): only transient failures are
retried (429, 500, 502, 503, 504, BigQuery's 403 ``rateLimitExceeded``, a
refused, reset, dropped or silent connection; never another 400, 403 or 404),
with exponential backoff, for at most ``WORKBENCH_BIGQUERY_DEADLINE`` seconds
per call; every HTTP request waits at most ``WORKBENCH_BIGQUERY_TIMEOUT``
seconds. Whatever fails ends as one :class:`SourceError` line.

No SQL that reads the downloads table leaves this module without its
``@start``/``@end`` timestamp window (:func:`~workbench.sources.bigquery.sql.unbounded_scans`): a
query without it would scan, and bill, every partition.

Set ``WORKBENCH_BIGQUERY_ENDPOINT`` (e.g. ``http://127.0.0.1:9050``) to talk
to a local emulator with anonymous credentials.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench import config
from workbench.errors import CostLimitError, NotConfirmedError, SourceError
from workbench.population import features
from workbench.query import DayRange, RollupQuery
from workbench.schema import DOWNLOADS_TABLE, FIRST_RELEASES, METADATA_TABLE, conform
from workbench.sources.base import CostEstimate, Progress, Source, human_bytes, total
from workbench.sources.bigquery.faults import (
    RetryPolicy,
    _Attempts,
    _capped_session,
    _failure,
    failures,
)
from workbench.sources.bigquery.sql import (
    Param,
    day_params,
    dependent_files_sql,
    downloads_sql,
    fingerprints_sql,
    first_releases_sql,
    population_sql,
    project_params,
    release_files_sql,
    table_name,
    unbounded_scans,
    window_is_bounded,
    window_params,
)
from workbench.sources.metadata import dependents_from_files, releases_from_files

if TYPE_CHECKING:
    from google.cloud import bigquery

Confirm = Callable[[CostEstimate], bool]

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
class BigQuerySource(Source):
    """The public PyPI tables on BigQuery (or any tables in the same layout)."""

    kind = "bigquery"
    live = True
    paid = True

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
        super().__init__()
        table_name(downloads_table), table_name(metadata_table)  # validate early
        self.policy = retry_policy or RetryPolicy.from_env()
        self.downloads_table = downloads_table
        self.metadata_table = metadata_table
        self.max_bytes_billed = max_bytes_billed or config.max_bytes_billed()
        self.confirm = confirm
        self.billing_project = billing_project
        self._client = client

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

    def describe(self) -> str:
        return f"BigQuery {self.downloads_table}"

    def engine(self) -> str:
        """The SQL sent (its text depends on the table names only, never on values)."""
        example = RollupQuery(("x",), DayRange(dt.date(2024, 1, 1), dt.date(2024, 1, 1)))
        texts = [self.sql(kind, example) for kind in _BUILDERS]
        texts += [population_sql(self.downloads_table, tier) for tier in features.TIERS]
        return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]

    def sql(self, kind: str, query: RollupQuery) -> str:
        return _BUILDERS[kind](self.downloads_table, query)

    # -- guards -------------------------------------------------------------------
    def _require_window(self, sql: str, params: list[Param]) -> None:
        """Refuse SQL that would read the downloads table outside a bounded timestamp
        window (every partition: the whole table's price), before it is even dry-run."""
        reads = unbounded_scans(sql, self.downloads_table)
        mentioned = self.downloads_table in sql
        if reads or (mentioned and not window_is_bounded(params)):
            raise CostLimitError(
                f"refusing to send a query of {self.downloads_table} without a bounded "
                "timestamp window (@start < @end): it would scan, and bill, the whole table"
            )

    # -- cost ---------------------------------------------------------------------
    def _dry_run(self, sql: str, params: list[Param], what: str) -> int:
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
        except failures() as exc:
            raise _failure(exc, attempts, self.policy) from None
        return int(job.total_bytes_processed or 0)

    def estimate(self, kinds: tuple[str, ...], query: RollupQuery) -> CostEstimate | None:
        return total(
            [
                CostEstimate(
                    self._dry_run(self.sql(k, query), window_params(query), f"the {k} rollup"), 1
                )
                for k in kinds
            ]
        )

    def estimate_population(self, days: DayRange, tier: str) -> CostEstimate:
        sql = population_sql(self.downloads_table, _tier(tier))
        return CostEstimate(self._dry_run(sql, day_params(days), "the population"), 1)

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
        except failures() as exc:
            raise _failure(exc, attempts, self.policy) from None
        self.bytes_processed += int(job.total_bytes_processed or 0)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def fetch(
        self, kinds: tuple[str, ...], query: RollupQuery, progress: Progress | None = None
    ) -> dict[str, pl.DataFrame]:
        """Run the rollup queries; the caller (:func:`workbench.data.load`) has priced and
        authorised them."""
        out = {}
        for kind in kinds:
            if progress:
                progress(f"running the {kind} rollup on BigQuery for {query.describe()}")
            frame = self._run(self.sql(kind, query), window_params(query), f"the {kind} rollup")
            out[kind] = conform(frame, kind)
        return out

    def population_tiers(self) -> tuple[str, ...]:
        return features.TIERS

    def population(
        self, days: DayRange, tier: str, progress: Progress | None = None
    ) -> pl.DataFrame:
        """Features of every package (the caller has priced and authorised the query)."""
        if progress:
            progress(f"running the population query ({tier} tier) on BigQuery for {days}")
        sql = population_sql(self.downloads_table, _tier(tier))
        return features.conform(self._run(sql, day_params(days), "the population"))

    def _guarded_run(self, sql: str, params: list[Param], what: str) -> pl.DataFrame:
        """Dry run, authorise (ceiling + confirmation), then run."""
        self.authorize(CostEstimate(self._dry_run(sql, params, what), 1))
        return self._run(sql, params, what)

    def releases(self, projects: tuple[str, ...]) -> pl.DataFrame:
        sql = release_files_sql(self.metadata_table)
        files = self._guarded_run(sql, project_params(projects), "the release metadata")
        return releases_from_files(files.lazy()).collect()

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.DataFrame:
        cutoff = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        params = [*project_params(projects), Param("since", "TIMESTAMP", cutoff)]
        files = self._guarded_run(
            dependent_files_sql(self.metadata_table), params, "the dependents"
        )
        return dependents_from_files(files.lazy(), projects).collect()

    def first_releases(self) -> pl.DataFrame:
        frame = self._guarded_run(
            first_releases_sql(self.metadata_table), [], "every package's first upload"
        )
        return frame.select(pl.col(c).cast(t) for c, t in FIRST_RELEASES.items())


def _tier(tier: str) -> features.Tier:
    if tier == "basic":
        return "basic"
    if tier == "clients":
        return "clients"
    raise ValueError(f"unknown population tier {tier!r}")
