"""Breakdowns: dense over days, shares that add up, drill-down without refetching."""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench import breakdowns as b
from workbench.query import DayRange
from workbench.schema import RELEASES

from .frames import START, combine, release, rollup

DAYS = DayRange(START, START + dt.timedelta(days=13))


def _frames() -> tuple[pl.LazyFrame, pl.LazyFrame]:
    parts = combine(
        rollup("p", [10, 0, 0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10], installer="pip"),
        rollup("p", [5] * 14, installer="uv", version="2.0.0", country="CN"),
        rollup("p", [3] * 14, installer="bandersnatch"),
    )
    return parts[0].lazy(), parts[1].lazy()


def test_daily_is_dense_and_quiet_days_are_zero() -> None:
    downloads, _ = _frames()
    daily = b.daily(downloads, DAYS, filters=b.Filters(installer=("pip",)))
    assert daily.height == 14
    assert daily["downloads"].to_list()[:3] == [10, 0, 0]
    by = b.daily(downloads, DAYS, by="installer")
    assert by.height == 14 * 3


def test_weekly_marks_partial_weeks_and_keeps_totals() -> None:
    downloads, _ = _frames()
    days = DayRange(START + dt.timedelta(days=2), START + dt.timedelta(days=11))  # Wed..Fri
    weekly = b.weekly(downloads, days)
    assert weekly["downloads"].sum() == b.daily(downloads, days)["downloads"].sum()
    assert weekly.filter(pl.col("partial"))["days"].to_list() == [5, 5]


def test_shares_add_up_and_top_folds_the_rest() -> None:
    downloads, _ = _frames()
    table = b.shares(downloads, "installer", top=1)
    assert table["installer"].to_list() == ["pip", "(other)"]
    assert abs(table["share"].sum() - 1.0) < 1e-9


def test_drill_down_filters_every_dimension_without_refetching() -> None:
    downloads, _ = _frames()
    only_uv_cn = b.Filters(installer=("uv",), country=("CN",))
    assert b.shares(downloads, "version", filters=only_uv_cn)["version"].to_list() == ["2.0.0"]
    no_mirrors = b.Filters(without_mirrors=True)
    assert (
        "bandersnatch"
        not in b.shares(downloads, "installer", filters=no_mirrors)["installer"].to_list()
    )
    span = b.Filters(start=START + dt.timedelta(days=3), end=START + dt.timedelta(days=4))
    assert b.daily(downloads, DAYS, filters=span)["downloads"].sum() > 0
    assert only_uv_cn.describe() == "installer = uv, country = CN"
    assert (
        b.Filters(ci=False, without_mirrors=True).describe()
        == "not reported as CI, without mirrors"
    )
    assert b.Filters(ci=True, start=START).describe() == "reported as CI, from 2026-06-01"


def test_client_kinds_separate_mirrors_ci_and_desktops() -> None:
    parts = combine(
        rollup("p", [10] * 3, ci=True),
        rollup("p", [5] * 3, system="Darwin"),
        rollup("p", [2] * 3, installer="devpi"),
    )
    kinds = dict(b.client_kinds(parts[0].lazy()).select("client", "downloads").iter_rows())
    assert kinds == {"reported CI": 30, "desktop (macOS, Windows)": 15, "mirror": 6}


def test_version_views_use_release_dates() -> None:
    downloads, _ = _frames()
    rel = pl.DataFrame(
        [
            release("p", "1.0.0", START - dt.timedelta(days=800)),
            release("p", "2.0.0", START - dt.timedelta(days=10)),
        ],
        schema=RELEASES,
    )
    latest = b.latest_share(downloads, rel, DAYS, n=1)
    assert latest["share"].drop_nulls().max() < 1.0
    ages = dict(b.version_age(downloads, rel).select("age_bucket", "downloads").iter_rows())
    assert set(ages) == {"< 30 d", "≥ 730 d"}
    ranked = b.versions_with_releases(downloads, rel)
    assert dict(ranked.select("version", "release_rank").iter_rows()) == {"1.0.0": 2, "2.0.0": 1}


def test_installer_versions_and_distros_from_fingerprints() -> None:
    _, fingerprints = _frames()
    iv = b.installer_versions(fingerprints, top_installers=2)
    assert set(iv["installer"].to_list()) <= {"pip", "uv", "bandersnatch"}
    assert (
        abs(
            iv.group_by("installer").agg(pl.col("share_of_installer").sum())["share_of_installer"]
            - 1
        ).max()
        < 1e-9
    )
    assert b.distros(fingerprints)["distro"].to_list()[0] == "Ubuntu"


def test_weekday_profile_shows_the_weekly_rhythm() -> None:
    downloads = rollup("p", [100, 100, 100, 100, 100, 40, 40] * 2)[
        0
    ].lazy()  # 2026-06-01 is a Monday
    profile = b.weekday_profile(downloads, DAYS)
    rel = dict(profile.select("day", "relative").iter_rows())
    assert rel["Sat"] < 0.6 < rel["Mon"]


def test_the_unknown_value_keeps_the_downloads_without_one() -> None:
    rows = pl.DataFrame(
        {"system": ["Linux", None, None, "Darwin"], "downloads": [5, 3, 4, 2]},
        schema_overrides={"system": pl.String},
    ).lazy()
    unknown = b.Filters(system=b.UNKNOWN).apply(rows).collect()
    assert unknown["downloads"].sum() == 7
    both = b.Filters(system=("Linux", b.UNKNOWN)).apply(rows).collect()
    assert both["downloads"].sum() == 12
    assert b.Filters(system="Linux").apply(rows).collect()["downloads"].sum() == 5
