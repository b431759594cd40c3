"""BigQuery through the official ``google-cloud-bigquery`` client.

One parameterised query per rollup kind and (projects, day range), aggregated
server-side: never raw rows. Before anything runs, dry runs estimate the
bytes; a query above ``max_bytes_billed`` is refused, and a ``confirm``
callback (the CLI's prompt, the app's button) sees the estimate first. The
ceiling is also passed to BigQuery as ``maximum_bytes_billed`` so the service
enforces it too. Results come back as Arrow and become Polars frames.

Set ``WORKBENCH_BIGQUERY_ENDPOINT`` (e.g. ``http://127.0.0.1:9050``) to talk
to a local emulator with anonymous credentials.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench import config
from workbench.errors import CostLimitError, NotConfirmedError, SourceError
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
    from google.cloud import bigquery

Confirm = Callable[[CostEstimate], bool]

_BUILDERS = {"downloads": downloads_sql, "fingerprints": fingerprints_sql}


def make_client(billing_project: str | None = None) -> bigquery.Client:
    """A BigQuery client, or a :class:`SourceError` saying how to get credentials."""
    from google.cloud import bigquery

    endpoint = os.environ.get(config.BIGQUERY_ENDPOINT_ENV)
    if endpoint:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=billing_project or "workbench-local",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    import google.auth.exceptions

    try:
        return bigquery.Client(project=billing_project)
    except google.auth.exceptions.DefaultCredentialsError:
        raise SourceError(
            "no Google Cloud credentials found: run 'gcloud auth application-default login' "
            "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
        ) from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot create a BigQuery client: {type(exc).__name__}") from None


def _to_bigquery(params: list[Param]) -> list[Any]:
    from google.cloud import bigquery

    out: list[Any] = []
    for p in params:
        if p.array:
            out.append(bigquery.ArrayQueryParameter(p.name, p.type, p.value))
        else:
            out.append(bigquery.ScalarQueryParameter(p.name, p.type, p.value))
    return out


def _service_error(exc: Exception, what: str) -> SourceError:
    """Translate a google.api_core error into one clear line (never a credential)."""
    from google.api_core import exceptions as gexc

    reason = getattr(exc, "message", "") or type(exc).__name__
    reason = str(reason).splitlines()[0][:200]
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
    ) -> None:
        table_name(downloads_table), table_name(metadata_table)  # validate early
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
            self._client = make_client(self.billing_project)
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

    # -- cost ---------------------------------------------------------------------
    def _dry_run(self, sql: str, params: list[Param], what: str) -> int:
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery

        cfg = bigquery.QueryJobConfig(
            dry_run=True, use_query_cache=False, query_parameters=_to_bigquery(params)
        )
        try:
            job = self.client.query(sql, job_config=cfg)
        except gexc.GoogleAPIError as exc:
            raise _service_error(exc, f"the dry run of {what}") from None
        except (OSError, ConnectionError) as exc:
            raise SourceError(f"BigQuery is unreachable ({type(exc).__name__})") from None
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
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery

        cfg = bigquery.QueryJobConfig(
            query_parameters=_to_bigquery(params), maximum_bytes_billed=self.max_bytes_billed
        )
        try:
            job = self.client.query(sql, job_config=cfg)
            table = job.result().to_arrow(create_bqstorage_client=False)
        except gexc.GoogleAPIError as exc:
            raise _service_error(exc, what) from None
        except (OSError, ConnectionError) as exc:
            raise SourceError(f"BigQuery is unreachable ({type(exc).__name__})") from None
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
