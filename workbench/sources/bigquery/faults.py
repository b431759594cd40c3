"""How BigQuery failures are told apart, retried and reported (used by
:mod:`workbench.sources.bigquery`).

Only transient failures are retried (429, 500, 502, 503, 504, BigQuery's 403
``rateLimitExceeded``, a refused, reset, dropped or silent connection; never another 400,
403 or 404), with exponential backoff, for at most ``WORKBENCH_BIGQUERY_DEADLINE`` seconds
per call; every HTTP request waits at most ``WORKBENCH_BIGQUERY_TIMEOUT`` seconds (a capped
session). Whatever fails ends as one :class:`~workbench.errors.SourceError` line, with
credentials and URLs redacted.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench import config
from workbench.errors import CostLimitError, SourceError, chain, redact

if TYPE_CHECKING:
    import requests
    from google.api_core.retry import Retry

log = logging.getLogger("workbench.sources.bigquery")


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
    wrapped = chain(exc)
    if any(isinstance(e, ConnectionRefusedError) for e in wrapped):
        return "connection refused"
    if any(isinstance(e, ConnectionResetError) for e in wrapped):
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


#: What the client library raises when an answer is not in BigQuery's shape (a proxy's own
#: error page, ``{"error": "text"}``, HTML with 200 OK): the library's parser trips on it.
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError, IndexError)


def failures() -> tuple[type[BaseException], ...]:
    """Every exception a BigQuery call can end in (for ``except``; :func:`_failure` words
    each in one line)."""
    import google.auth.exceptions
    from google.api_core import exceptions as gexc

    return (gexc.GoogleAPIError, google.auth.exceptions.GoogleAuthError, OSError, *_MALFORMED)


def _malformed_answer(exc: BaseException) -> bool:
    """An answer that is not in BigQuery's shape (requests' JSON decode error is also an
    OSError, so it is told apart before the connection failures)."""
    import requests

    if isinstance(exc, OSError):  # e.g. requests' InvalidURL is a ValueError too
        return isinstance(exc, requests.exceptions.JSONDecodeError)
    return isinstance(exc, _MALFORMED)


def _failure(exc: BaseException, attempts: _Attempts, policy: RetryPolicy) -> SourceError:
    """One line for a BigQuery operation that failed for good."""
    import google.auth.exceptions
    from google.api_core import exceptions as gexc

    what = attempts.what
    if _malformed_answer(exc):
        return SourceError(
            f"the endpoint's answer to {what} is not a BigQuery answer ({type(exc).__name__}); "
            "is a proxy or firewall in the way?"
        )
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
