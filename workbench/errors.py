"""Errors the workbench raises on purpose.

Every error a user can cause is a :class:`WorkbenchError` whose message is one
plain sentence: the CLI prints it as a single line with a non-zero exit code,
the widgets show it in the page. Anything else escaping is a bug.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class: a problem the user can understand and fix."""

    exit_code = 1


class InvalidInputError(WorkbenchError, ValueError):
    """A package name, date range or option that cannot be used."""

    exit_code = 2


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
