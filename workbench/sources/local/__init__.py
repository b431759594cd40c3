"""Local Parquet files of raw download rows, aggregated by DuckDB."""

from workbench.sources.local.parquet import ParquetSource

__all__ = ["ParquetSource"]
