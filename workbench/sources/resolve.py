"""Turn a user's source string into a :class:`Source`.

``demo`` (the default), ``demo:SEED``, ``bigquery`` or ``bigquery:BILLING_PROJECT``,
or a path / glob of Parquet files.
"""

from __future__ import annotations

from pathlib import Path

from workbench.demo import DemoConfig
from workbench.errors import InvalidInputError
from workbench.sources.base import Source
from workbench.sources.bigquery import BigQuerySource, Confirm
from workbench.sources.demo import DemoSource
from workbench.sources.parquet import ParquetSource


def open_source(
    spec: str = "demo",
    *,
    max_bytes_billed: int | None = None,
    confirm: Confirm | None = None,
    data_dir: str | Path | None = None,
) -> Source:
    text = spec.strip()
    kind, _, arg = text.partition(":")
    if kind == "demo":
        if arg and not arg.isdigit():
            raise InvalidInputError(f"the demo seed must be a number, not {arg[:20]!r}")
        return DemoSource(DemoConfig.from_env(int(arg) if arg else None), data_dir=data_dir)
    if kind == "bigquery":
        return BigQuerySource(
            billing_project=arg or None, max_bytes_billed=max_bytes_billed, confirm=confirm
        )
    if kind == "parquet":
        text = arg
    return ParquetSource(text)
