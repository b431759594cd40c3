"""The short public API (``import workbench as wb``): open a source, investigate a package,
scan a list, screen every package. Each function is a thin, typed entry to the model
modules (:mod:`workbench.investigation`, :mod:`workbench.analysis`,
:mod:`workbench.screening`), which the CLI and the apps use too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from workbench.analysis import Analysis, analyze
from workbench.cache import Cache
from workbench.investigation import Investigation, investigate
from workbench.publish import Case
from workbench.query import RollupQuery
from workbench.screening import Screening
from workbench.sources.base import CostEstimate, Progress, Source
from workbench.sources.resolve import open_source as _open

__all__ = [
    "Analysis",
    "Investigation",
    "Screening",
    "investigate",
    "notebook_charts",
    "open_source",
    "publish",
    "scan",
    "screen",
]


def open_source(
    spec: str = "demo",
    *,
    max_bytes_billed: int | None = None,
    confirm: Callable[[CostEstimate], bool] | None = None,
    data_dir: str | Path | None = None,
) -> Source:
    """A source: ``"demo"`` (default, offline), ``"demo:SEED"``, ``"clickpy"`` (free, no
    account), ``"bigquery"`` / ``"bigquery:BILLING_PROJECT"`` (paid: every query is priced and
    ``confirm`` is asked; over ``max_bytes_billed`` nothing runs) or a Parquet path/glob."""
    return _open(spec, max_bytes_billed=max_bytes_billed, confirm=confirm, data_dir=data_dir)


def _source(source: str | Source) -> Source:
    return open_source(source) if isinstance(source, str) else source


def scan(
    source: str | Source = "demo",
    *,
    packages: Iterable[str] | None = None,
    days: int = 90,
    cache: Cache | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Every signal for ``packages`` (or every package of a free source), ranked by
    suspicion: ``scan(...).table()``."""
    src = _source(source)
    src.prepare(progress)
    span = src.default_range(days)
    names = None if packages is None else list(packages)
    query = RollupQuery.of(names, span.start, span.end)
    return analyze(src, query, cache=cache, progress=progress)


def screen(
    source: str | Source = "demo",
    *,
    days: int = 30,
    deep: int = 20,
    cache: Cache | None = None,
    progress: Progress | None = None,
) -> Screening:
    """Every package of the source's population ranked from its features, the top ``deep``
    deep-dived: ``screen(...).table``."""
    from workbench import screening

    src = _source(source)
    src.prepare(progress)
    return screening.run(src, src.default_range(days), top=deep, cache=cache, progress=progress)


def publish(
    package: str | Investigation,
    out: str | Path,
    *,
    source: str | Source = "demo",
    days: int = 90,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    cache: Cache | None = None,
    progress: Progress | None = None,
) -> Case:
    """Publish a case: ``package`` investigated (or an :class:`Investigation`, with its
    notes) written into the folder ``out`` as a Voilà app with its frozen data (see
    :mod:`workbench.publish`); the analyst's saved notes of the package go with it.
    ``voila OUT/case.ipynb`` or ``workbench serve OUT`` opens it, offline."""
    from workbench import notes as nt
    from workbench.publish import write_case

    if isinstance(package, Investigation):
        return write_case(package, out)
    cache = cache or Cache()
    inv = investigate(
        package,
        source=_source(source),
        days=days,
        start=start,
        end=end,
        cache=cache,
        progress=progress,
    )
    saved = nt.store_for(cache, inv.source.identity, inv.package, inv.source.describe()).load()
    return write_case(inv.with_notes(saved), out)


def notebook_charts() -> None:
    """Draw the charts a notebook shows (``inv.chart(...)`` as a cell's result) with no
    network, in JupyterLab, Jupyter and Voilà: Vega from vl-convert (bundle cached), through
    Altair's ``jupyter`` renderer. Call once per kernel."""
    import altair as alt

    from workbench.charts import enable_offline

    enable_offline()
    # SVG, as the apps draw: crisp, text in the page, printable
    alt.renderers.enable("jupyter", offline=True, embed_options={"renderer": "svg"})
