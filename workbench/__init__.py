"""workbench: an investigation workbench for PyPI download statistics.

The public face, for a notebook or a script::

    import workbench as wb

    wb.notebook_charts()                       # charts draw with no network (notebooks)
    source = wb.open_source("demo")            # or "clickpy", "bigquery", a Parquet path
    inv = wb.investigate("openjuniper-io", source=source, days=90)
    inv.summary.text()                         # suspicion, in plain words
    inv.findings                               # every finding, with its evidence
    inv.frame("installers", country="CN")      # any breakdown under any drill-down
    inv.chart("geography")                     # any chart (Altair, draws offline)
    wb.scan(source, packages=["a", "b"])       # several packages ranked
    wb.screen(source, days=30)                 # every package of the population ranked
    wb.publish(inv, "case/")                   # a case colleagues open offline (Voilà)

Everything is cached day by day; a paying source prices every query and asks first.
"""

from __future__ import annotations

from workbench.api import investigate, notebook_charts, open_source, publish, scan, screen

__version__ = "0.2.0"
__all__ = [
    "__version__",
    "investigate",
    "notebook_charts",
    "open_source",
    "publish",
    "scan",
    "screen",
]
