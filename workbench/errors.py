"""Errors the workbench raises on purpose.

Every error a user can cause is a :class:`WorkbenchError` whose message is one
plain sentence: the CLI prints it as a single line with a non-zero exit code,
the widgets show it in the page. Anything else escaping is a bug.
"""

from __future__ import annotations

import re

#: What may carry a credential in an error message from a library: a URL's ``user:password@``,
#: token-like query parameters, a signed JWT (an OAuth assertion or ID token), a bearer token,
#: a PEM private key.
_SECRETS = (
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]+@"), r"\1***@"),
    (
        re.compile(
            r"(?i)\b(access_token|id_token|refresh_token|assertion|client_secret|api_key|key"
            r"|token|password|passwd|secret|sig|signature)=[^&\s'\"]+"
        ),
        r"\1=***",
    ),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+(\.[\w-]*)?"), "***"),
    (re.compile(r"(?i)\bbearer\s+[\w.~+/-]+=*"), "Bearer ***"),
    (
        re.compile(
            r"-----BEGIN[A-Z ]*PRIVATE KEY-----.*?(-----END[A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        "***",
    ),
)


def redact(text: str) -> str:
    """``text`` without anything that looks like a credential (for messages that quote a
    library's error, which may echo a request URL or a token endpoint's answer)."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (causes, contexts, urllib3's ``reason``, exception args): a
    client library's error says *why* a connection failed only somewhere down this chain."""
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


#: Longest message an error carries (a 10 kB hostile input stays a readable line).
MAX_MESSAGE = 1000


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` as one printable line: line breaks, NUL, bidi overrides and other invisible
    characters become escapes (``\\n``, ``\\x00``, ``\\u202e``); longer text is cut with …."""
    out = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    return out if len(out) <= limit else out[: limit - 1] + "…"


class WorkbenchError(Exception):
    """Base class: a problem the user can understand and fix.

    The message is always one printable line (:func:`one_line`), whatever input it quotes,
    so the CLI's ``error: …`` line and the apps' messages cannot be split or visually
    reordered by hostile text (newlines, NUL, right-to-left overrides, 10 kB strings).
    """

    exit_code = 1

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(str(message)), *args)


class InvalidInputError(WorkbenchError, ValueError):
    """A package name, date range or option that cannot be used."""

    exit_code = 2


class NoMatchError(InvalidInputError):
    """A drill-down (filter values, day span) that keeps no downloads at all."""


class DataSchemaError(WorkbenchError):
    """A data file that does not have the download-log layout."""

    exit_code = 3


class SourceError(WorkbenchError):
    """A data source that cannot answer (missing credentials, service errors)."""

    exit_code = 4


class CostLimitError(SourceError):
    """A BigQuery query whose estimated cost is above the configured ceiling."""

    exit_code = 5


class NotConfirmedError(WorkbenchError):
    """The user declined to run a query after seeing its cost."""

    exit_code = 6


class WorkbenchWarning(UserWarning):
    """Something the user should know that did not stop the work (one line, like errors)."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(str(message)), *args)


class CacheWriteWarning(WorkbenchWarning):
    """The cache could not be written (full disk, read-only, no permission): the result is
    still returned, only not kept, and nothing already cached is touched."""
