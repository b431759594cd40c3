"""The embedded demo dataset as a source: generated on first use, then read like any other
Parquet export (it *is* one: raw rows in BigQuery's layout, with release metadata)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from workbench import config
from workbench.demo import GENERATOR_VERSION, GROUND_TRUTH, DemoConfig, generate, is_complete
from workbench.sources.base import Progress, Source
from workbench.sources.local.parquet import ParquetSource


class DemoSource(ParquetSource):
    """Deterministic demo data (no credentials, no network)."""

    kind = "demo"

    def __init__(
        self,
        demo: DemoConfig | None = None,
        *,
        data_dir: str | Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        Source.__init__(self)  # nothing is read (or generated) until first asked
        self.config = demo or DemoConfig.from_env()
        self.path = config.data_dir(data_dir) / self.config.slug
        self.location = str(self.path)
        self._metadata_location = None
        self._progress = progress

    def prepare(self, progress: Progress | None = None) -> None:
        """Generate the dataset if it is not there yet (``progress`` hears each step)."""
        if not is_complete(self.path, self.config):
            generate(self.path, self.config, progress=progress or self._progress)

    def ensure(self) -> Path:
        self.prepare()
        return self.path

    def _root(self) -> Path:
        return self.ensure()

    @property
    def identity(self) -> dict[str, Any]:
        c = self.config
        return {
            "source": "demo",
            "generator": GENERATOR_VERSION,
            "seed": c.seed,
            "end": str(c.end),
            "days": c.days,
            "packages": c.packages,
        }

    def today(self) -> dt.date:
        """The demo's "today": the day after its last day of data."""
        return self.config.end + dt.timedelta(days=1)

    def first_day(self) -> dt.date:
        return self.config.start

    def describe(self) -> str:
        return (
            f"embedded demo data (seed {self.config.seed}, {self.config.start}..{self.config.end})"
        )

    def ground_truth(self) -> pl.DataFrame:
        """The labelled scenarios of this dataset."""
        return pl.read_csv(self.ensure() / GROUND_TRUTH, try_parse_dates=True)
