"""The embedded demo dataset as a source: generated on first use, then read as Parquet."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from workbench import config
from workbench.demo import (
    GENERATOR_VERSION,
    GROUND_TRUTH,
    DemoConfig,
    Progress,
    generate,
    is_complete,
)
from workbench.query import RollupQuery
from workbench.sources.base import CostEstimate
from workbench.sources.parquet import ParquetSource


class DemoSource:
    """Deterministic demo data (no credentials, no network)."""

    def __init__(
        self,
        demo: DemoConfig | None = None,
        *,
        data_dir: str | Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config = demo or DemoConfig.from_env()
        self.path = config.data_dir(data_dir) / self.config.slug
        self._progress = progress

    def ensure(self) -> Path:
        """Generate the dataset if it is not there yet; returns its directory."""
        if not is_complete(self.path, self.config):
            generate(self.path, self.config, progress=self._progress)
        return self.path

    @cached_property
    def _parquet(self) -> ParquetSource:
        return ParquetSource(self.ensure())

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

    @property
    def live(self) -> bool:
        return False

    @property
    def today(self) -> dt.date:
        """The demo's "today": the day after its last day of data."""
        return self.config.end + dt.timedelta(days=1)

    def describe(self) -> str:
        return (
            f"embedded demo data (seed {self.config.seed}, {self.config.start}..{self.config.end})"
        )

    def rollup(self, kind: str, query: RollupQuery) -> pl.LazyFrame:
        return self._parquet.rollup(kind, query)

    def compute(
        self,
        kinds: list[str],
        query: RollupQuery,
        progress: Progress | None = None,
        *,
        isolate: bool | None = None,
    ) -> dict[str, pl.DataFrame]:
        return self._parquet.compute(kinds, query, progress, isolate=isolate)

    def estimate(self, query: RollupQuery) -> CostEstimate | None:
        return None

    def releases(self, projects: tuple[str, ...]) -> pl.LazyFrame:
        return self._parquet.releases(projects)

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.LazyFrame:
        return self._parquet.dependents(projects, since)

    def project_names(self) -> list[str]:
        return self._parquet.project_names()

    def names(self) -> pl.LazyFrame:
        return self._parquet.names()

    def ground_truth(self) -> pl.DataFrame:
        """The labelled scenarios of this dataset."""
        return pl.read_csv(self.ensure() / GROUND_TRUTH, try_parse_dates=True)
