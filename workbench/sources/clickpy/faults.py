"""How ClickPy failures are told apart and reported (used by :mod:`workbench.sources.clickpy`).

``clickhouse-connect`` raises few types, pinned on the wire by ``tests/test_chdouble.py``: an
``OperationalError`` for a connection refused, reset, silent or dropped mid-answer (and for
429/503/504 answers it already asked again), a ``DatabaseError`` for an answer that is an
error (ClickHouse's own, with its code; a proxy's page, without one). An answer with 200 OK
that is not ClickHouse's (a captive portal's HTML, ``{"error": …}``) reaches pyarrow, which
raises ``ArrowInvalid``. The client itself retries a connection closed by the server once,
and 429/503/504 twice: nothing more is retried here, as ClickPy's answers are free and a
fault that outlives those retries is not a blip.

Each ends as one :class:`~workbench.errors.SourceError` line that says what failed, with
credentials and URLs redacted (the client's messages may end with ``(for url …)``).
"""

from __future__ import annotations

import re
import socket

import pyarrow as pa
import urllib3.exceptions as u3
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from workbench import config
from workbench.errors import SourceError, chain, redact

#: Every exception a ClickPy request can end in (for ``except``; :func:`failure` words each).
FAILURES: tuple[type[BaseException], ...] = (DatabaseError, pa.ArrowInvalid)

_STATUS = re.compile(r"HTTP status (\d{3})")
#: ClickHouse's own message: ``Code: 62. DB::Exception: <text>. (SYNTAX_ERROR) (version …)``.
_EXCEPTION = re.compile(r"DB::Exception: (.*?)(?: \([A-Z][A-Z0-9_]+\))?(?: \(version [^)]*\))?$")
_REASON_CHARS = 160


def failure(exc: BaseException, what: str, timeout: float) -> SourceError:
    """One line for a ClickPy request about ``what`` that failed for good."""
    if isinstance(exc, pa.ArrowInvalid):
        return _foreign(what, "its 200 OK answer is not Arrow data")
    assert isinstance(exc, DatabaseError)
    if exc.code is not None:
        name = f" {exc.name}" if exc.name else ""
        return SourceError(f"ClickPy refused {what}: Code {exc.code}{name}{_reason(exc)}")
    status = _STATUS.search(str(exc))
    if status is not None:
        if isinstance(exc, OperationalError):  # the client asked again (429, 503, 504)
            return SourceError(
                f"ClickPy kept answering HTTP {status.group(1)} to {what}; try again later"
            )
        return _foreign(what, f"it answered HTTP {status.group(1)} without a ClickHouse error")
    words = _transport(exc, timeout)
    if words is None:  # no connection failed: the client could not make sense of an answer
        return _foreign(what, "the client could not read it")
    return SourceError(f"ClickPy is unreachable for {what} ({words})")


def _foreign(what: str, why: str) -> SourceError:
    return SourceError(
        f"the answer to {what} is not a ClickHouse answer ({why}); is a proxy or firewall "
        "in the way?"
    )


def _reason(exc: DatabaseError) -> str:
    """ClickHouse's own words, short, on one line, without the server's version or a URL."""
    text = " ".join(redact(str(exc)).split())
    text = re.sub(r" \(for url [^)]*\)$", "", text)
    found = _EXCEPTION.search(text)
    if found is None:
        return ""
    reason = found.group(1).rstrip(".")
    return f" ({reason[:_REASON_CHARS]}{'…' if len(reason) > _REASON_CHARS else ''})"


def _transport(exc: BaseException, timeout: float) -> str | None:
    """A few words on a connection that failed (never a URL or an answer); ``None`` when
    no connection failed."""
    wrapped = chain(exc)

    def found(*kinds: type[BaseException]) -> bool:
        return any(isinstance(e, kinds) for e in wrapped)

    if found(ConnectionRefusedError):
        return "connection refused"
    if found(u3.NameResolutionError):
        return "its host name does not resolve"
    if found(u3.SSLError):
        return "the TLS handshake failed"
    broken = [e for e in wrapped if isinstance(e, u3.ProtocolError)]
    if found(u3.IncompleteRead) or any("Connection broken" in str(e) for e in broken):
        return "the connection dropped mid-answer"  # urllib3's words once the answer began
    if found(ConnectionResetError):
        return "the connection was reset"
    if found(u3.NewConnectionError):  # a subclass of ConnectTimeoutError, for history
        return "cannot connect"
    if found(u3.TimeoutError, socket.timeout):
        return f"no answer within {timeout:g} s, {config.CLICKPY_TIMEOUT_ENV}"
    if broken:
        return "the connection was closed before an answer"
    transport = [type(e).__name__ for e in wrapped if isinstance(e, u3.HTTPError | OSError)]
    return transport[-1] if transport else None
