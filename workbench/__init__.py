"""workbench: an investigation workbench for PyPI download statistics.

Start with :func:`workbench.data.load` on a source from
:func:`workbench.sources.open_source` (``"demo"``, a Parquet path, or ``"bigquery"``).
"""

from __future__ import annotations

__version__ = "0.1.0"
