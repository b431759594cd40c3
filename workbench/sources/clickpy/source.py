"""ClickPy: ClickHouse's public, free, read-only copy of PyPI's download log
(``clickpy-clickhouse.clickhouse.com``, user ``play``), through the official
``clickhouse-connect`` client.

One query per answer, aggregated server-side (:mod:`workbench.sources.clickpy.sql`), with
every value a server-side parameter. Answers come back as Arrow and become Polars frames.
ClickPy is free, so nothing is priced or confirmed; it is a third party's copy, so its
answers are checked like any source's (counts by :func:`workbench.data.plausible`, columns
here) and a failure is one :class:`SourceError` line (:mod:`workbench.sources.clickpy.faults`).

What ClickPy lacks is said in :attr:`ClickPySource.lacks`: its table has no CI flag and no
client detail, so the fingerprints rollup is empty and the population has the ``basic`` tier
only, with ``ci_downloads`` NULL.

Set ``WORKBENCH_CLICKPY_URL`` (e.g. ``http://127.0.0.1:8123``) to use a mirror or the test
double; a ``user:password@`` in it is sent as a header and never quoted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import polars as pl

from workbench import config
from workbench.dimensions import CI, CLIENTS
from workbench.errors import DataSchemaError, InvalidInputError, SourceError, redact
from workbench.population import features
from workbench.query import DayRange, RollupQuery
from workbench.schema import DOWNLOADS_ROLLUP, FIRST_RELEASES, conform, empty
from workbench.sources.base import Progress, Source
from workbench.sources.clickpy import sql
from workbench.sources.clickpy.faults import FAILURES, failure
from workbench.sources.metadata import dependents_from_files, releases_from_files

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

# The client logs each failed request (with a traceback) before raising: without a handler
# of the application's, Python's last-resort handler would print it under our one line.
logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())

#: ClickPy copies BigQuery's table, which itself lags a day, and the copy can lag more: its
#: last days may still be filling, so only days older than this are cached for good.
SETTLING = dt.timedelta(days=3)

_FILE_COLUMNS = ("name", "version", "upload_time", "packagetype", "requires_dist")
_DEPENDENT_COLUMNS = ("name", "version", "upload_time", "requires_dist")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where ClickPy is, and who asks (the login never appears in :attr:`shown`)."""

    scheme: str
    host: str
    port: int
    path: str
    username: str
    password: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """``http[s]://[user[:password]@]host[:port][/path]``, or one line saying why not."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
        ):
            raise InvalidInputError(
                f"{config.CLICKPY_URL_ENV} must be a URL like https://host:443, "
                f"not {redact(url)[:80]!r}"
            )
        return cls(
            parts.scheme,
            parts.hostname,
            port or (443 if parts.scheme == "https" else 80),
            parts.path.rstrip("/"),
            unquote(parts.username or "") or config.CLICKPY_USER,
            unquote(parts.password or ""),
        )

    @property
    def shown(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


class ClickPySource(Source):
    """ClickHouse's public ClickPy database (or a mirror of its ``pypi`` database)."""

    kind = "clickpy"
    live = True

    def __init__(
        self, *, url: str | None = None, timeout: float | None = None, client: Client | None = None
    ) -> None:
        super().__init__()
        self.endpoint = Endpoint.parse(url or config.clickpy_url())
        self.timeout = timeout or config.clickpy_timeout()
        self._client = client
        self._connecting = threading.Lock()

    # -- identity -------------------------------------------------------------------
    @property
    def identity(self) -> dict[str, Any]:
        return {"source": "clickpy", "endpoint": self.endpoint.shown}

    def describe(self) -> str:
        if self.endpoint.shown == Endpoint.parse(config.CLICKPY_URL).shown:
            return f"ClickPy ({self.endpoint.host})"
        return f"ClickPy at {self.endpoint.shown}"

    @property
    def lacks(self) -> Mapping[str, str]:
        return {
            CI: "ClickPy's copy of the download log has no CI flag",
            CLIENTS: "ClickPy keeps no client detail (installer version, distro, CPU…)",
        }

    def engine(self) -> str:
        """The SQL sent (its text never depends on values)."""
        texts = [
            sql.downloads_sql(projects=True),
            sql.downloads_sql(projects=False),
            sql.population_sql(),
            sql.release_files_sql(),
            sql.dependent_files_sql(),
            sql.first_releases_sql(),
            sql.names_sql(),
        ]
        return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]

    def complete_before(self) -> dt.date:
        return self.today() - SETTLING

    def caveats(self) -> list[str]:
        return [
            "ClickPy is ClickHouse's copy of BigQuery's download log: its last days may "
            "still be filling, and it has no CI flag or client detail"
        ]

    # -- running ------------------------------------------------------------------
    def _connected(self) -> Client:
        """The client, made on first use (it asks the server three start-up questions)."""
        with self._connecting:
            if self._client is None:
                import clickhouse_connect

                seconds = max(1, math.ceil(self.timeout))  # the client takes whole seconds
                end = self.endpoint
                self._client = clickhouse_connect.get_client(
                    interface=end.scheme,
                    host=end.host,
                    port=end.port,
                    proxy_path=end.path,
                    username=end.username,
                    password=end.password,
                    connect_timeout=seconds,
                    send_receive_timeout=seconds,
                    # one client serves the app's threads: no session, whose requests the
                    # client refuses to overlap
                    autogenerate_session_id=False,
                    show_clickhouse_errors="scrub",  # ClickHouse's words, without the URL
                    client_name="pypi-workbench",
                )
            return self._client

    def _run(
        self, text: str, params: dict[str, Any], what: str, columns: Iterable[str]
    ) -> pl.DataFrame:
        """Run one query; its answer must have ``columns`` (else it is not ClickPy's)."""
        try:
            table = self._connected().query_arrow(text, parameters=params)
        except FAILURES as exc:
            raise failure(exc, what, self.timeout) from None
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise SourceError(
                f"the answer to {what} is not ClickPy's: it lacks {', '.join(missing)}"
            )
        return frame

    # -- answers ------------------------------------------------------------------
    def fetch(
        self, kinds: tuple[str, ...], query: RollupQuery, progress: Progress | None = None
    ) -> dict[str, pl.DataFrame]:
        """The downloads rollup at ClickPy's grain (CI is NULL); the fingerprints rollup is
        empty, as ClickPy keeps no client detail. ``query.projects`` None reads every
        package's rows of the window: a big read (many GB for a month), free but slow."""
        out = {}
        for kind in kinds:
            if kind == "fingerprints":
                out[kind] = empty(kind)
                continue
            if kind != "downloads":
                raise ValueError(f"unknown rollup kind {kind!r}")
            if progress:
                progress(f"running the downloads rollup on ClickPy for {query.describe()}")
            text = sql.downloads_sql(projects=query.projects is not None)
            what = "the downloads rollup"
            frame = self._run(text, sql.window_params(query), what, DOWNLOADS_ROLLUP)
            out[kind] = conform(frame, kind)
        return out

    def population_tiers(self) -> tuple[str, ...]:
        return ("basic",)

    def population(
        self, days: DayRange, tier: str, progress: Progress | None = None
    ) -> pl.DataFrame:
        """Features of every package from ClickPy's per-day views (never the raw table)."""
        if tier != "basic":
            raise DataSchemaError(f"ClickPy offers the basic tier only: {self.lacks[CLIENTS]}")
        if progress:
            progress(f"running the population query on ClickPy for {days}")
        frame = self._run(
            sql.population_sql(), sql.day_params(days), "the population", ("project", "date")
        )
        return features.conform(frame)

    def releases(self, projects: tuple[str, ...]) -> pl.DataFrame:
        files = self._run(
            sql.release_files_sql(),
            sql.project_params(projects),
            "the release metadata",
            _FILE_COLUMNS,
        )
        return releases_from_files(files.lazy()).collect()

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.DataFrame:
        files = self._run(
            sql.dependent_files_sql(),
            sql.since_params(projects, since),
            "the dependents",
            _DEPENDENT_COLUMNS,
        )
        return dependents_from_files(files.lazy(), projects).collect()

    def first_releases(self) -> pl.DataFrame:
        frame = self._run(
            sql.first_releases_sql(), {}, "every package's first upload", FIRST_RELEASES
        )
        return frame.select(pl.col(c).cast(t) for c, t in FIRST_RELEASES.items())

    def names(self) -> pl.DataFrame:
        """The most downloaded packages (at most :data:`.sql.MAX_NAMES`), most first."""
        frame = self._run(sql.names_sql(), {}, "the package list", ("project", "downloads"))
        return conform(frame, "names")
