"""ClickPy: ClickHouse's public, free, read-only copy of PyPI's download log."""

from workbench.sources.clickpy.source import ClickPySource

__all__ = ["ClickPySource"]
