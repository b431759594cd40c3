"""Data sources: one interface (:class:`Source`), several engines."""

from __future__ import annotations

from workbench.sources.base import CostEstimate, Source
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.demo import DemoSource
from workbench.sources.parquet import ParquetSource
from workbench.sources.resolve import open_source

__all__ = [
    "BigQuerySource",
    "CostEstimate",
    "DemoSource",
    "ParquetSource",
    "Source",
    "open_source",
]
