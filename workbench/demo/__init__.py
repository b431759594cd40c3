"""The embedded demo dataset: realistic download logs with labelled scenarios.

:func:`generate` writes, deterministically from a seed, a *dataset directory*:

* ``file_downloads/part-NNN.parquet`` — raw rows in the exact BigQuery layout;
* ``distribution_metadata.parquet`` — one row per uploaded file;
* ``ground_truth.csv`` — one row per labelled scenario (what, where, when);
* ``manifest.json`` — seed, generator version, row counts (written last).

See :mod:`workbench.demo.calibration` for the figures it is calibrated on and
their sources, and :mod:`workbench.demo.catalog` for the scenarios.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from workbench.demo import campaigns
from workbench.demo.catalog import Catalog, build
from workbench.demo.metadata import metadata_table
from workbench.demo.rows import Columns, expand, to_arrow
from workbench.demo.traffic import segments

GENERATOR_VERSION = 4
DEFAULT_SEED = 20261031
DEFAULT_END = dt.date(2026, 10, 31)
DEFAULT_DAYS = 120
DEFAULT_PACKAGES = 300
ROWS_PER_FILE = 2_000_000

GROUND_TRUTH = "ground_truth.csv"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DemoConfig:
    seed: int = DEFAULT_SEED
    end: dt.date = DEFAULT_END
    days: int = DEFAULT_DAYS
    packages: int = DEFAULT_PACKAGES

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)

    @property
    def slug(self) -> str:
        """A directory name unique to this configuration."""
        size = (
            ""
            if (self.packages, self.days) == (DEFAULT_PACKAGES, DEFAULT_DAYS)
            else (f"-p{self.packages}-d{self.days}")
        )
        return f"demo-v{GENERATOR_VERSION}-seed{self.seed}{size}"

    @classmethod
    def from_env(cls, seed: int | None = None) -> DemoConfig:
        """The default demo, resized by ``WORKBENCH_DEMO_SEED`` / ``_PACKAGES`` / ``_DAYS``."""

        def env(name: str, default: int) -> int:
            value = os.environ.get(f"WORKBENCH_DEMO_{name}", "").strip()
            return int(value) if value.isdigit() else default

        return cls(
            seed=seed if seed is not None else env("SEED", DEFAULT_SEED),
            packages=env("PACKAGES", DEFAULT_PACKAGES),
            days=env("DAYS", DEFAULT_DAYS),
        )


@dataclass(frozen=True)
class GenerationReport:
    path: Path
    rows: int
    packages: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


Progress = Callable[[str], None]


def ground_truth_rows(catalog: Catalog, start: dt.date) -> list[dict[str, object]]:
    out = []
    for sc in catalog.scenarios:
        out.append(
            {
                "project": catalog.packages[sc.package].name,
                "scenario": sc.kind,
                "inorganic": sc.inorganic,
                "start": start + dt.timedelta(days=sc.start),
                "end": start + dt.timedelta(days=sc.end),
                "related": catalog.packages[sc.related].name if sc.related is not None else "",
                "detail": sc.detail,
            }
        )
    return out


def generate(
    out: str | Path, config: DemoConfig = DemoConfig(), progress: Progress | None = None
) -> GenerationReport:
    """Write the demo dataset to ``out`` (atomically: built aside, then renamed)."""
    began = time.perf_counter()
    say = progress or (lambda _msg: None)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    say("drawing packages and scenarios")
    catalog = build(rng, packages=config.packages, days=config.days)
    campaigns.assign(rng, catalog)
    weekday0 = config.start.weekday()
    say("drawing daily traffic")
    segs, weights = segments(rng, catalog, weekday0)
    segs += campaigns.segments(rng, catalog, weights, weekday0)
    say("drawing download rows")
    cols = expand(rng, catalog, segs, weights)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (work / "file_downloads").mkdir()
        rows = cols.day.size
        starts = range(0, rows, ROWS_PER_FILE)
        say(f"writing {rows:,} rows in {len(starts)} parts")

        def write_part(part: int) -> None:
            sl = slice(starts[part], starts[part] + ROWS_PER_FILE)
            chunk = Columns(**{k: getattr(cols, k)[sl] for k in Columns.__dataclass_fields__})
            pq.write_table(
                to_arrow(catalog, chunk, config.start),
                work / "file_downloads" / f"part-{part:03d}.parquet",
                compression="zstd",
                row_group_size=100_000,
                store_schema=False,
                # statistics where filters use them: row groups are pruned by these
                write_statistics=["timestamp", "project"],
            )

        # Arrow releases the GIL while building and encoding: both cores work.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for part, _ in enumerate(pool.map(write_part, range(len(starts)))):
                say(f"wrote part {part + 1} of {len(starts)}")
        say("writing release metadata and ground truth")
        pq.write_table(
            metadata_table(rng, catalog, config.start),
            work / "distribution_metadata.parquet",
            compression="zstd",
        )
        truth = ground_truth_rows(catalog, config.start)
        with (work / GROUND_TRUTH).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(truth[0]))
            writer.writeheader()
            writer.writerows(truth)
        manifest = {
            "generator_version": GENERATOR_VERSION,
            "seed": config.seed,
            "start": str(config.start),
            "config_packages": config.packages,
            "end": str(config.end),
            "rows": rows,
            "packages": len(catalog.packages),
            "scenarios": len(catalog.scenarios),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return GenerationReport(out, rows, len(catalog.packages), time.perf_counter() - began)


def is_complete(path: str | Path, config: DemoConfig) -> bool:
    """True when ``path`` holds a finished dataset for ``config``."""
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return bool(
        manifest.get("generator_version") == GENERATOR_VERSION
        and manifest.get("seed") == config.seed
        and manifest.get("end") == str(config.end)
        and manifest.get("start") == str(config.start)
        and manifest.get("config_packages") == config.packages
    )
