"""The demo's calibration figures, re-derived from the real exports in ../shared/realdata."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from workbench.demo import calibration as cal

from .conftest import REALDATA

SOCIAL = REALDATA / "soodoku__social_proof_stars"
needs = pytest.mark.skipif(not REALDATA.exists(), reason="../shared/realdata is absent")


@needs
def test_first_week_of_new_packages() -> None:
    path = SOCIAL / "github_exp/get_metrics/output/pkg_pypi_downloads.csv"
    if not path.exists():
        pytest.skip("export absent")
    frame = pl.read_csv(path, try_parse_dates=True)
    first = frame.group_by("pkg").agg(d0=pl.col("date").min())
    week = (
        frame.join(first, on="pkg")
        .filter((pl.col("date") - pl.col("d0")).dt.total_days() < 7)
        .group_by("pkg")
        .agg(pl.col("download_count").sum())["download_count"]
    )
    assert week.median() == pytest.approx(cal.FIRST_WEEK_MEDIAN)
    assert week.quantile(0.9) == pytest.approx(cal.FIRST_WEEK_P90)


@needs
def test_python_minor_shares() -> None:
    path = REALDATA / "hugovk__pypi-tools/data__consolidated_python_version_monthly.csv"
    if not path.exists():
        pytest.skip("export absent")
    frame = pl.read_csv(path, infer_schema_length=100_000)
    recent = (
        frame.filter((pl.col("month") >= "2025-10") & (pl.col("project") != "__ALL_PYPI__"))
        .group_by("python_version")
        .agg(pl.col("downloads").sum())
        .with_columns(share=pl.col("downloads") / pl.col("downloads").sum())
    )
    shares = dict(zip(recent["python_version"], recent["share"], strict=True))
    for version, share in cal.PYTHON_MINOR_SHARES.items():
        assert shares["null" if version is None else version] == pytest.approx(share, abs=0.001)


@needs
def test_mirror_signature_spreads_evenly_over_versions() -> None:
    files = sorted((REALDATA / "duckinator__bork-statistics/data/pypi").glob("2021-*.json"))
    if not files:
        pytest.skip("export absent")
    import ast

    text = files[-1].read_text()
    try:
        rows = json.loads(text)
    except ValueError:
        rows = ast.literal_eval(text)
    counts = np.array([r["count"] for r in rows])
    old = np.sort(counts)[: len(counts) // 2]
    # Old versions get near-identical counts: the spread among them is small.
    assert old.std() / old.mean() < 0.5
    assert 0.05 < np.median(old) / 30 < 5 * cal.MIRROR_PER_VERSION * 10


def test_calibration_is_internally_consistent() -> None:
    assert sum(cal.PYTHON_MINOR_SHARES.values()) == pytest.approx(1.0, abs=0.02)
    assert 0.9 <= sum(cal.COUNTRY_SHARES.values()) <= 1.0  # normalised before use
    for weights in cal.OS_WEIGHTS.values():
        assert len(weights) == len(cal.OS_ROWS)
    assert all(0 < f <= 1 for f in cal.WEEKEND_FACTOR.values())
