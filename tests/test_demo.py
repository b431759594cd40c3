"""The demo dataset: deterministic, in BigQuery's exact layout, with its scenarios present."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from workbench.demo import DemoConfig, generate
from workbench.demo import calibration as cal
from workbench.demo.catalog import EVASIVE, LOOKALIKES, SCENARIOS
from workbench.demo.realdata import MIRRORS
from workbench.schema import DISTRIBUTION_METADATA, FILE_DOWNLOADS, arrow_schema
from workbench.sources.demo import DemoSource

from .conftest import SMALL, column_chunks


@pytest.fixture(scope="module")
def rows(small_demo_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(small_demo_dir / "file_downloads")


@pytest.fixture(scope="module")
def truth(small_demo_dir: Path) -> pl.DataFrame:
    return pl.read_csv(small_demo_dir / "ground_truth.csv", try_parse_dates=True)


def _daily(rows: pl.DataFrame, project: str) -> pl.DataFrame:
    return (
        rows.filter(pl.col("project") == project)
        .group_by(day=pl.col("timestamp").dt.date())
        .len()
        .sort("day")
    )


def _window(truth: pl.DataFrame, kind: str) -> list[dict[str, object]]:
    return truth.filter(pl.col("scenario") == kind).to_dicts()


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path, small_demo_dir: Path) -> None:
    again = generate(tmp_path / "again", SMALL)
    for name in ("file_downloads/part-000.parquet", "distribution_metadata.parquet"):
        a = pq.read_table(small_demo_dir / name)
        b = pq.read_table(again.path / name)
        assert a.equals(b), name
    assert (small_demo_dir / "ground_truth.csv").read_text() == (
        again.path / "ground_truth.csv"
    ).read_text()
    other = generate(tmp_path / "other", DemoConfig(seed=8, packages=60, days=70))
    assert other.rows != again.rows


def test_schema_is_exactly_bigquerys(small_demo_dir: Path) -> None:
    for file in (small_demo_dir / "file_downloads").glob("*.parquet"):
        assert pq.read_schema(file).remove_metadata() == arrow_schema(FILE_DOWNLOADS)
    meta = pq.read_schema(small_demo_dir / "distribution_metadata.parquet").remove_metadata()
    assert meta == arrow_schema(DISTRIBUTION_METADATA)


def test_text_columns_are_dictionary_encoded_with_the_values_used(small_demo_dir: Path) -> None:
    """As a real export's writer stores them: a reader then scans a few bits a row, not
    every string (a dictionary with repeated entries made the writer fall back to plain
    strings in 15 of the columns, and DuckDB took 2.4 times as long to scan them)."""
    for file in (small_demo_dir / "file_downloads").glob("*.parquet"):
        for chunk in column_chunks(file):
            if chunk.physical_type == "BYTE_ARRAY":
                assert "RLE_DICTIONARY" in chunk.encodings, chunk.path_in_schema
        project = pq.ParquetFile(file, read_dictionary=["project"]).read(["project"])["project"]
        used = set(project.unique().to_pylist())
        for piece in project.chunks:  # the file's packages, each once
            assert sorted(piece.dictionary.to_pylist()) == sorted(used)


def test_every_scenario_is_labelled(truth: pl.DataFrame) -> None:
    counts = dict(truth.group_by("scenario").len().iter_rows())
    assert counts == SCENARIOS
    assert truth["project"].n_unique() == truth.height  # one scenario per package


def test_ci_is_true_or_null_never_false(rows: pl.DataFrame) -> None:
    ci = rows["details"].struct.field("ci")
    assert ci.drop_nulls().all() and ci.null_count() > 0


def test_organic_traffic_has_a_weekly_rhythm(rows: pl.DataFrame, truth: pl.DataFrame) -> None:
    # organic packages' users only: campaigns keep no weekend, and the mirror floor (every
    # version, every day) has none either and outweighs the users of most long-tail packages
    organic = rows.filter(~pl.col("project").is_in(truth["project"].implode()))
    by_weekday = _users(organic).group_by(wd=pl.col("timestamp").dt.weekday()).len()
    weekday = by_weekday.filter(pl.col("wd") <= 5)["len"].mean()
    weekend = by_weekday.filter(pl.col("wd") >= 6)["len"].mean()
    assert isinstance(weekday, float) and isinstance(weekend, float)
    # users have a weekend dip: a large real package's is 0.42 (pypistats, after the
    # 2018-07-27 logging fix), so the floor is below that
    assert 0.3 < weekend / weekday < 0.9


def test_installer_mix_is_realistic(rows: pl.DataFrame, truth: pl.DataFrame) -> None:
    # organic packages: in a small catalogue an installer_shift on the largest package
    # would outweigh the rest
    organic = rows.filter(~pl.col("project").is_in(truth["project"].implode()))
    mirrors = list(MIRRORS)
    installer = pl.col("details").struct.field("installer").struct.field("name")
    # shares without mirrors (as pypistats counts): a small catalogue is mostly long tail,
    # where the mirror floor outweighs the users
    share = (
        organic.filter(~installer.is_in(mirrors).fill_null(False))
        .group_by(i=pl.col("details").struct.field("installer").struct.field("name"))
        .len()
        .with_columns(s=pl.col("len") / pl.col("len").sum())
    )
    get = dict(zip(share["i"].to_list(), share["s"].to_list(), strict=True))
    assert get["pip"] > 0.6
    assert 0.05 < get["uv"] < 0.35
    assert get.get(None, 0) > 0
    assert organic.filter(installer == "bandersnatch").height > 0


def test_inflation_campaigns_multiply_volume_from_few_clients(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "inflation_campaign"):
        daily = _daily(rows, str(sc["project"]))
        inside = daily.filter(pl.col("day").is_between(sc["start"], sc["end"]))["len"].median()
        before = daily.filter(pl.col("day") < sc["start"])["len"].median()
        assert inside > 5 * max(before, 1)  # type: ignore[operator]


def test_new_package_bursts_pass_ten_thousand_in_week_one(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "new_package_burst"):
        daily = _daily(rows, str(sc["project"]))
        assert daily["day"].min() == sc["start"]
        assert daily.head(7)["len"].sum() >= 10_000
        clients = (
            rows.filter(
                (pl.col("project") == sc["project"]) & (pl.col("timestamp").dt.date() <= sc["end"])
            )
            .group_by(
                pl.col("details").struct.field("installer"),
                pl.col("details").struct.field("python"),
                "country_code",
            )
            .len()
        )
        assert clients["len"].max() / clients["len"].sum() > 0.3  # type: ignore[operator]


def test_ci_only_packages_are_almost_all_linux_ci(rows: pl.DataFrame, truth: pl.DataFrame) -> None:
    for sc in _window(truth, "ci_only"):
        mine = rows.filter(pl.col("project") == sc["project"])
        linux = (mine["details"].struct.field("system").struct.field("name") == "Linux").mean()
        assert linux is not None and linux > 0.85


def test_stale_packages_live_on_a_two_year_old_release(
    small_demo: DemoSource, rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "stale_pinned"):
        project = str(sc["project"])
        top = (
            rows.filter(pl.col("project") == project)
            .group_by(v=pl.col("file").struct.field("version"))
            .len()
            .sort("len", descending=True)
        )
        top_version, share = top["v"][0], top["len"][0] / top["len"].sum()
        releases = small_demo.releases((project,))
        uploaded = releases.filter(pl.col("version") == top_version)["upload_time"][0]
        assert share > 0.5
        assert (SMALL.end - uploaded.date()).days > 600
        assert releases["upload_time"].max() > uploaded  # newer releases exist


def test_geo_concentration_comes_from_one_unusual_country(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "geo_concentration"):
        late = rows.filter(
            (pl.col("project") == sc["project"])
            & (pl.col("timestamp").dt.date() > sc["start"] + dt.timedelta(days=5))
        )
        share = late.group_by("country_code").len().sort("len", descending=True)
        assert share["country_code"][0] not in ("US", "CN", "DE")
        assert share["len"][0] / share["len"].sum() > 0.5


def test_installer_shift_moves_pip_to_uv(rows: pl.DataFrame, truth: pl.DataFrame) -> None:
    for sc in _window(truth, "installer_shift"):
        mine = rows.filter(pl.col("project") == sc["project"]).with_columns(
            uv=pl.col("details").struct.field("installer").struct.field("name") == "uv",
            day=pl.col("timestamp").dt.date(),
        )
        before = mine.filter(pl.col("day") < sc["start"])["uv"].mean()
        after = mine.filter(pl.col("day") > sc["end"])["uv"].mean()
        if mine.filter(pl.col("day") > sc["end"]).height:
            assert after > before + 0.3  # type: ignore[operator]


def test_dependency_surge_follows_the_parents_release(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "dependency_surge"):
        # users only: the mirror floor does not follow a dependent's release
        pip = rows.filter(
            pl.col("details").struct.field("installer").struct.field("name").is_in(["pip", "uv"])
        )
        daily = _daily(pip, str(sc["project"]))
        before = daily.filter(pl.col("day") < sc["start"])["len"].mean()
        after = daily.filter(pl.col("day") > sc["start"] + dt.timedelta(days=10))["len"].mean()
        assert after > 2 * before  # type: ignore[operator]


def test_demo_source_generates_on_first_use(tmp_path: Path) -> None:
    config = DemoConfig(seed=3, packages=30, days=40)
    source = DemoSource(config, data_dir=tmp_path)
    assert not source.path.exists()
    assert source.project_names()
    assert (source.path / "manifest.json").exists()


# 101–105 are bench_detection's seeds: the tests never use them.
@pytest.mark.parametrize("seed", [202, 303, 404])
def test_scenarios_hold_on_other_seeds(seed: int, tmp_path: Path) -> None:
    config = DemoConfig(seed=seed, packages=50, days=60)
    report = generate(tmp_path / "d", config)
    rows = pl.scan_parquet(report.path / "file_downloads").select(
        "project", day=pl.col("timestamp").dt.date()
    )
    daily = rows.group_by("project", "day").len().collect()
    truth = pl.read_csv(report.path / "ground_truth.csv", try_parse_dates=True)
    assert dict(truth.group_by("scenario").len().iter_rows()) == SCENARIOS
    for sc in truth.iter_rows(named=True):
        mine = daily.filter(pl.col("project") == sc["project"])
        assert mine.height > 0, sc
        if sc["scenario"] in ("inflation_campaign", "new_package_burst", "geo_concentration"):
            inside = mine.filter(pl.col("day").is_between(sc["start"], sc["end"]))["len"].sum()
            outside = mine.filter(~pl.col("day").is_between(sc["start"], sc["end"]))["len"]
            per_day_out = outside.mean() if outside.len() else 0.0
            days_in = (sc["end"] - sc["start"]).days + 1
            assert inside / days_in > 2 * (per_day_out or 0.0), sc  # type: ignore[operator]


# -- evasive campaigns and organic look-alikes (workbench.demo.campaigns) ---------------------
def _inside(rows: pl.DataFrame, sc: dict[str, object], *, before: bool = False) -> pl.DataFrame:
    day = pl.col("timestamp").dt.date()
    when = day < sc["start"] if before else day.is_between(sc["start"], sc["end"])
    return rows.filter((pl.col("project") == sc["project"]) & when)


def _users(frame: pl.DataFrame) -> pl.DataFrame:
    """Without mirror clients: on a small package the mirror floor (every version, every
    day) outweighs its users, and mirrors report no CI flag."""
    installer = pl.col("details").struct.field("installer").struct.field("name")
    return frame.filter(~installer.is_in(list(MIRRORS)).fill_null(False))


def _client(frame: pl.DataFrame) -> pl.Series:
    d = pl.col("details")
    return frame.select(
        pl.concat_str(
            [
                d.struct.field("installer").struct.field("name"),
                d.struct.field("installer").struct.field("version"),
                d.struct.field("python"),
                d.struct.field("distro").struct.field("name"),
                d.struct.field("distro").struct.field("version"),
                d.struct.field("system").struct.field("name"),
                pl.col("country_code"),
            ],
            separator="|",
            ignore_nulls=True,
        )
    ).to_series()


def test_evasive_campaigns_and_lookalikes_are_labelled(truth: pl.DataFrame) -> None:
    for kinds, inorganic in ((EVASIVE, True), (LOOKALIKES, False)):
        for kind, count in kinds.items():
            labelled = truth.filter(pl.col("scenario") == kind)
            assert labelled.height == count, kind
            assert labelled["inorganic"].to_list() == [inorganic] * count, kind


def test_rotating_clients_spread_over_dozens_of_fingerprints(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "rotating_clients"):
        inside = _client(_inside(rows, sc)).value_counts(sort=True)
        days = (sc["end"] - sc["start"]).days + 1  # type: ignore[operator]
        assert inside.height >= 20, sc
        # no client dominates: the busiest makes a small share of the window
        assert inside["count"][0] / inside["count"].sum() < 0.2, sc
        assert inside["count"].sum() / days > 20


def test_cloud_spread_sits_in_several_cloud_countries(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "cloud_spread"):
        inside = _inside(rows, sc).group_by("country_code").len().sort("len", descending=True)
        share = inside["len"] / inside["len"].sum()
        assert (share >= 0.04).sum() >= 4, sc
        assert share[0] < 0.7, sc


def test_slow_ramp_grows_for_a_week_or_more(rows: pl.DataFrame, truth: pl.DataFrame) -> None:
    for sc in _window(truth, "slow_ramp"):
        daily = _daily(rows, str(sc["project"]))
        start = sc["start"]
        first = daily.filter(pl.col("day").is_between(start, start + dt.timedelta(days=2)))  # type: ignore[operator]
        later = daily.filter(
            pl.col("day").is_between(start + dt.timedelta(days=14), sc["end"])  # type: ignore[operator]
        )
        # the level before it from two weeks, not three days: small packages are bursty
        before = daily.filter(
            pl.col("day").is_between(start - dt.timedelta(days=14), start - dt.timedelta(days=1))  # type: ignore[operator]
        )
        if later.height:
            assert later["len"].mean() > 2 * before["len"].mean()  # type: ignore[operator]
            assert later["len"].mean() > first["len"].mean()  # type: ignore[operator]


def test_release_timed_campaign_starts_on_a_release(
    small_demo_dir: Path, truth: pl.DataFrame
) -> None:
    meta = pl.read_parquet(small_demo_dir / "distribution_metadata.parquet")
    for sc in _window(truth, "release_timed"):
        uploads = meta.filter(
            pl.col("name").str.to_lowercase().str.replace_all("_", "-") == sc["project"]
        )
        days = set(uploads["upload_time"].dt.date().to_list())
        assert sc["start"] in days, sc


def test_ci_cover_campaign_hides_on_a_ci_heavy_package(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "ci_cover"):
        before = _users(_inside(rows, sc, before=True))
        ci = before["details"].struct.field("ci").fill_null(False).mean()
        assert ci > 0.35, sc  # ~75 % of CI rows say so: a package mostly run by CI
        inside = _inside(rows, sc)
        linux = inside["details"].struct.field("system").struct.field("name") == "Linux"
        assert linux.mean() > 0.85, sc  # type: ignore[operator]


def test_typosquat_is_new_under_the_first_week_limit_and_named_like_a_popular_one(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "typosquat_ramp"):
        daily = _daily(rows, str(sc["project"]))
        assert daily["day"].min() >= sc["start"]  # type: ignore[operator]
        week = daily.filter(pl.col("day") < sc["start"] + dt.timedelta(days=7))["len"].sum()  # type: ignore[operator]
        assert week < cal.FIRST_WEEK_MAX, sc
        name, target = str(sc["project"]), str(sc["related"])
        assert name != target and abs(len(name) - len(target)) <= 12
        assert sum(a != b for a, b in zip(name, target, strict=False)) <= len(target) // 2 + 1


def test_blog_spike_comes_from_many_clients_and_decays(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "blog_spike"):
        daily = _daily(rows, str(sc["project"]))
        peak = daily.filter(pl.col("day") == sc["start"])["len"].sum()
        later = daily.filter(pl.col("day") == sc["end"])["len"].sum()
        before = daily.filter(pl.col("day") < sc["start"])["len"].mean()
        assert peak > 3 * before and later < peak, sc  # type: ignore[operator]
        first_day = _inside(rows, {**sc, "end": sc["start"]})
        assert _client(first_day).n_unique() > 0.3 * first_day.height, sc


def test_mirror_resync_fetches_every_version(rows: pl.DataFrame, truth: pl.DataFrame) -> None:
    for sc in _window(truth, "mirror_resync"):
        mine = rows.filter(pl.col("project") == sc["project"])
        versions = mine["file"].struct.field("version").n_unique()
        inside = _inside(rows, sc)
        assert inside["file"].struct.field("version").n_unique() >= 0.8 * versions, sc


def test_ci_heavy_plugin_is_a_pytest_plugin_run_by_ci(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    for sc in _window(truth, "ci_heavy_plugin"):
        assert str(sc["project"]).startswith("pytest-")
        installer = pl.col("details").struct.field("installer").struct.field("name")
        mine = rows.filter((pl.col("project") == sc["project"]) & installer.is_in(["pip", "uv"]))
        # ~75 % of CI rows carry the flag: 75–93 % CI traffic shows as > 50 % flagged
        assert mine["details"].struct.field("ci").fill_null(False).mean() > 0.5  # type: ignore[operator]


def test_regional_package_is_long_concentrated_in_one_country(
    rows: pl.DataFrame, truth: pl.DataFrame
) -> None:
    installer = pl.col("details").struct.field("installer").struct.field("name")
    for sc in _window(truth, "regional_package"):
        mine = rows.filter(
            (pl.col("project") == sc["project"]) & installer.is_in(["pip", "uv"])
        ).with_columns(
            early=pl.col("timestamp").dt.date() < sc["start"] + dt.timedelta(days=14)  # type: ignore[operator]
        )
        tops = []
        for early in (True, False):
            part = mine.filter(pl.col("early") == early)
            top = part.group_by("country_code").len().sort("len", descending=True)
            assert top["len"][0] / top["len"].sum() > 0.55, (sc, early)
            tops.append(top["country_code"][0])
        assert tops[0] == tops[1] != "US", sc


@pytest.mark.parametrize("packages", [40, 60])
def test_small_catalogues_carry_every_scenario(packages: int) -> None:
    """A small catalogue (the 1 M benchmark's 40 packages) has too few big packages for every
    scenario to take its own: the dependency surges still find a parent; a catalogue too
    small for the scenarios says so."""
    import numpy as np

    from workbench.demo.catalog import build

    with pytest.raises(ValueError, match=r"too small.*more packages"):
        build(np.random.default_rng(0), packages=10, days=120)
    for seed in range(5):
        catalog = build(np.random.default_rng(seed), packages=packages, days=120)
        surges = [s for s in catalog.scenarios if s.kind == "dependency_surge"]
        assert surges and all(s.related is not None and s.related != s.package for s in surges)
