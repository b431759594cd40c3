"""The realism figures measured on ``../shared/realdata`` and on a demo dataset.

:func:`real_figures` reads the public exports (see their ``SOURCES.md``);
:func:`demo_figures` reads a generated demo directory. Both return the same keys,
measured by the definitions in :mod:`workbench.demo.realism`. A figure whose source
file is absent is left out.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl

from workbench.demo import realism

SOCIAL = "soodoku__social_proof_stars"
DAILY_622 = f"{SOCIAL}/github_exp/get_metrics/output/pkg_pypi_downloads.csv"
RELEASES_622 = f"{SOCIAL}/github_exp/sample_and_random_assign/output/check-github-url.csv"
TYPOGARD = "mt3443__typogard/paper/data/pypi_download_counts.csv"
PYTHONS = "hugovk__pypi-tools/data__consolidated_python_version_monthly.csv"
BORK = "duckinator__bork-statistics/data/pypi"
BITPLANE = "bitplane__pypi-stats/cache/davidsong"
PYPISTATS = "hugovk__pypistats/tests/data/python_minor__as_pypistats_json.json"
#: uv's share of a day's downloads: a public figure (FINDINGS.md), not in realdata.
UV_SHARE = 0.09
#: bork's volume in downloads a day (all clients), for comparing release adoption.
BORK_SIZE = (40.0, 150.0)
MIRRORS = ("bandersnatch", "devpi", "z3c.pypimirror", "Artifactory", "Nexus", "pep381client")


def _noise(figures: dict[str, float], packages: pl.DataFrame) -> None:
    for band in realism.noise_by_band(packages):
        key = f"{band.lo:g}-{band.hi:g}/day"
        figures[f"noise CV {key}"] = band.cv
        figures[f"zero days {key}"] = band.zero_days
        figures[f"peak/median {key}"] = band.peak_over_median
    figures["weekend/weekday p10"], figures["weekend/weekday p90"] = realism.weekend_spread(
        packages
    )


def _read_json(path: Path) -> object:
    text = path.read_text()
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def _monthly_figures(figures: dict[str, float], monthly: pl.DataFrame) -> None:
    figures["new release share of its month"] = realism.new_version_share(monthly)
    figures["old version floor /day"] = realism.old_version_floor(monthly)


def real_figures(root: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    if (root / DAILY_622).exists():
        daily = pl.read_csv(root / DAILY_622, try_parse_dates=True).select(
            project="pkg", day="date", n="download_count"
        )
        _noise(out, realism.per_package(daily))
        if (root / RELEASES_622).exists():
            releases = pl.read_csv(root / RELEASES_622).select(
                project="pkg",
                release=pl.col("earliest_release").str.to_datetime().dt.date(),
            )
            weeks = realism.first_weeks(daily, releases.unique("project"))
            for name, value in zip(
                ("median", "p90", "p99", "max"),
                realism.quantiles(weeks, (0.5, 0.9, 0.99, 1.0)),
                strict=True,
            ):
                out[f"first week {name}"] = value
    if (root / TYPOGARD).exists():
        per_day = pl.read_csv(root / TYPOGARD)["weekly_downloads"].to_numpy() / 7
        out["median package /day"], out["packages < 1/day"] = realism.long_tail(per_day)
    if (root / PYTHONS).exists():
        frame = pl.read_csv(root / PYTHONS, infer_schema_length=100_000)
        recent = frame.filter(
            (pl.col("month") >= "2025-10") & (pl.col("project") != "__ALL_PYPI__")
        ).select("project", category="python_version", n="downloads")
        out["python 3.7 share p10"], out["python 3.7 share p90"] = realism.share_spread(
            recent, "3.7"
        )
    if (root / BORK).exists():
        rows = []
        for path in sorted((root / BORK).glob("*.json")):
            for r in _read_json(path):  # type: ignore[attr-defined]
                rows.append({"project": "bork", "month": path.stem, **r})
        monthly = pl.DataFrame(rows).select("project", "month", "version", n="count")
        _monthly_figures(out, monthly)
    if (root / BITPLANE).exists():
        totals = [
            float(v)
            for path in sorted((root / BITPLANE).glob("*.json"))
            for v in _read_json(path).values()  # type: ignore[attr-defined]
        ]
        for name, value in zip(
            ("p10", "p50", "p90"), realism.quantiles(np.array(totals), (0.1, 0.5, 0.9)), strict=True
        ):
            out[f"small package month {name}"] = value
    if (root / PYPISTATS).exists():
        data = pl.DataFrame(json.loads((root / PYPISTATS).read_text())["data"])
        totals_by_day = (
            data.with_columns(pl.col("date").str.to_date())
            .group_by("date")
            .agg(pl.col("downloads").sum())
            .filter(pl.col("date") >= dt.date(2018, 7, 27))  # the logging fix
        )
        ends = totals_by_day.group_by(weekend=pl.col("date").dt.weekday() >= 6).agg(
            pl.col("downloads").mean()
        )
        means = dict(zip(ends["weekend"], ends["downloads"], strict=True))
        out["weekend/weekday of a large package"] = float(means[True] / means[False])
    out["uv share"] = UV_SHARE
    return out


def demo_figures(path: Path) -> dict[str, float]:
    """The same figures on a generated demo (labelled and new packages left out)."""
    manifest = json.loads((path / "manifest.json").read_text())
    first, last = dt.date.fromisoformat(manifest["start"]), dt.date.fromisoformat(manifest["end"])
    days = (last - first).days + 1
    labelled = pl.read_csv(path / "ground_truth.csv")["project"].to_list()
    details = pl.col("details")
    rows = (
        pl.scan_parquet(path / "file_downloads")
        .select(
            "project",
            day=pl.col("timestamp").dt.date(),
            installer=details.struct.field("installer").struct.field("name"),
            python=details.struct.field("python"),
            version=pl.col("file").struct.field("version"),
        )
        .filter(~pl.col("project").is_in(labelled))
    )
    starts = rows.group_by("project").agg(start=pl.col("day").min())
    organic = starts.filter(pl.col("start") < first + dt.timedelta(days=7)).select("project")
    rows = rows.join(organic, on="project")
    pip = (
        rows.filter(pl.col("installer") == "pip").group_by("project", "day").agg(n=pl.len())
    ).collect()
    pip_daily = realism.complete(pip, first, last)
    out: dict[str, float] = {}
    _noise(out, realism.per_package(pip_daily))
    per_day = pip_daily.group_by("project").agg(pl.col("n").sum() / days)["n"].to_numpy()
    out["median package /day"], out["packages < 1/day"] = realism.long_tail(per_day)
    minors = (
        rows.filter(~pl.col("installer").is_in(MIRRORS))  # pypistats counts without mirrors
        .group_by("project", category=pl.col("python").str.extract(r"^(\d+\.\d+)"))
        .agg(n=pl.len())
        .with_columns(pl.col("category").fill_null("null"))
        .collect()
    )
    big = minors.group_by("project").agg(pl.col("n").sum()).filter(pl.col("n") >= 3000)
    out["python 3.7 share p10"], out["python 3.7 share p90"] = realism.share_spread(
        minors.join(big.select("project"), on="project"), "3.7"
    )
    totals = rows.group_by("project").agg(per_day=pl.len() / days).collect()
    # packages of bork's size (1,211–4,570 downloads a month, all clients)
    small = totals.filter(pl.col("per_day").is_between(*BORK_SIZE))["project"]
    monthly = (
        rows.filter(pl.col("project").is_in(small.implode()))
        .group_by("project", "version", month=pl.col("day").dt.strftime("%Y-%m"))
        .agg(n=pl.len())
        .collect()
    )
    _monthly_figures(out, monthly)
    tail = set(per_day_below(pip_daily, days))
    full_months = (
        rows.filter(pl.col("project").is_in(list(tail)))
        .with_columns(month=pl.col("day").dt.truncate("1mo"))
        .filter(pl.col("month") >= first)
        .group_by("project", "month")
        .agg(n=pl.len())
        .collect()["n"]
        .to_numpy()
    )
    if full_months.size:
        for name, value in zip(
            ("p10", "p50", "p90"), realism.quantiles(full_months, (0.1, 0.5, 0.9)), strict=True
        ):
            out[f"small package month {name}"] = value
    all_daily = realism.complete(
        rows.group_by("project", "day").agg(n=pl.len()).collect(), first, last
    )
    large = realism.per_package(all_daily).filter(pl.col("mean") >= 1000)["weekend_ratio"]
    if large.len():
        out["weekend/weekday of a large package"] = float(large.median())  # type: ignore[arg-type]
    _first_weeks(out, path, labelled)
    # unlabelled packages: an installer_shift scenario on the largest package would weigh
    # more than all of real PyPI's shifts do
    out["uv share"] = float(rows.select((pl.col("installer") == "uv").mean()).collect().item())
    return out


def _first_weeks(out: dict[str, float], path: Path, labelled: list[str]) -> None:
    """Pip downloads in the 7 days from the release of the demo's organic new packages
    (a handful per dataset, so only their median is reported)."""
    meta = pl.read_parquet(path / "distribution_metadata.parquet", columns=["name", "upload_time"])
    releases = (
        meta.group_by(project=pl.col("name").str.to_lowercase().str.replace_all(r"[-_.]+", "-"))
        .agg(release=pl.col("upload_time").min().dt.date())
        .filter(~pl.col("project").is_in(labelled))
    )
    start = pl.read_parquet(path / "file_downloads", columns=["timestamp"])["timestamp"].min()
    assert isinstance(start, dt.datetime)
    new = releases.filter(pl.col("release") > start.date() + dt.timedelta(days=7))
    if new.height == 0:
        return
    installer = pl.col("details").struct.field("installer").struct.field("name")
    daily = (
        pl.scan_parquet(path / "file_downloads")
        .filter(installer == "pip")  # the real series count pip only
        .select("project", day=pl.col("timestamp").dt.date())
        .filter(pl.col("project").is_in(new["project"].implode()))
        .group_by("project", "day")
        .agg(n=pl.len())
        .collect()
    )
    out["first week median"] = float(np.median(realism.first_weeks(daily, new)))


def per_day_below(pip_daily: pl.DataFrame, days: int, limit: float = 1.0) -> list[str]:
    """Projects whose pip downloads average under ``limit`` a day (the long tail)."""
    means = pip_daily.group_by("project").agg(pl.col("n").sum() / days)
    return means.filter(pl.col("n") < limit)["project"].to_list()
