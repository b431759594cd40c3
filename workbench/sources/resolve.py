"""Turn a user's source string into a :class:`Source`.

``demo`` (the default), ``demo:SEED``, ``bigquery`` or ``bigquery:BILLING_PROJECT``,
``clickpy`` (ClickHouse's public ClickPy; ``WORKBENCH_CLICKPY_URL`` points it at a mirror or a
test double), ``case:DIR`` (a published case's frozen data), or a path / glob of Parquet files.
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.demo import DemoConfig
from workbench.errors import InvalidInputError
from workbench.sources.base import Source
from workbench.sources.bigquery import BigQuerySource, Confirm
from workbench.sources.clickpy import ClickPySource
from workbench.sources.demo import DemoSource
from workbench.sources.frozen import FrozenSource
from workbench.sources.local import ParquetSource

#: A Google Cloud project id (optionally domain-scoped, ``example.com:my-project``).
_BILLING_PROJECT = re.compile(r"(?:[a-z0-9][a-z0-9.-]*:)?[a-z][a-z0-9-]{0,62}")
_MAX_SEED_DIGITS = 19


def open_source(
    spec: str = "demo",
    *,
    max_bytes_billed: int | None = None,
    confirm: Confirm | None = None,
    data_dir: str | Path | None = None,
) -> Source:
    if not isinstance(spec, str):
        raise InvalidInputError(f"a source must be text, not {type(spec).__name__}")
    text = spec.strip()
    kind, _, arg = text.partition(":")
    if kind == "demo":
        if arg and not (arg.isascii() and arg.isdigit() and len(arg) <= _MAX_SEED_DIGITS):
            raise InvalidInputError(
                f"the demo seed must be a number (digits 0-9, at most {_MAX_SEED_DIGITS}), "
                f"not {arg[:20]!r}"
            )
        return DemoSource(DemoConfig.from_env(int(arg) if arg else None), data_dir=data_dir)
    if kind == "bigquery":
        if arg and not _BILLING_PROJECT.fullmatch(arg):
            raise InvalidInputError(
                f"{arg[:40]!r} is not a Google Cloud project id (lowercase letters, digits, '-')"
            )
        return BigQuerySource(
            billing_project=arg or None, max_bytes_billed=max_bytes_billed, confirm=confirm
        )
    if kind == "clickpy":
        if arg:
            raise InvalidInputError(
                "the clickpy source takes no argument; set WORKBENCH_CLICKPY_URL to use "
                "another endpoint"
            )
        return ClickPySource()
    if kind == "case":  # a published case's folder (workbench publish)
        return FrozenSource(arg.strip() or ".")
    if kind == "parquet":
        text = arg.strip()
    if not text:
        raise InvalidInputError(
            "the source is empty; give demo, demo:SEED, bigquery[:PROJECT], clickpy or a Parquet "
            "path"
        )
    return ParquetSource(text)
