"""Data sources: one base class (:class:`Source`), several engines.

==========  ==========================================  ==========================
source      what it reads                               engine
==========  ==========================================  ==========================
demo        the embedded, generated dataset             DuckDB over its Parquet
parquet     your own exports of raw download rows       DuckDB over the files
bigquery    ``bigquery-public-data.pypi``               BigQuery SQL (paid, priced)
clickpy     ClickHouse's public ClickPy database        ClickHouse SQL (free)
==========  ==========================================  ==========================
"""

from __future__ import annotations

from workbench.sources.base import CostEstimate, Source
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.clickpy import ClickPySource
from workbench.sources.demo import DemoSource
from workbench.sources.local import ParquetSource
from workbench.sources.resolve import open_source

__all__ = [
    "BigQuerySource",
    "ClickPySource",
    "CostEstimate",
    "DemoSource",
    "ParquetSource",
    "Source",
    "open_source",
]
