"""The command line: exit codes, one-line errors, progress, cache commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import main
from workbench.sources.demo import DemoSource

from .conftest import SMALL


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def demo_args(small_env: dict[str, str]) -> list[str]:
    return ["--source", f"demo:{SMALL.seed}"]


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("demo-data", "fetch", "cache"):
        assert command in result.output


def test_fetch_prints_totals_as_lower_bounds(
    runner: CliRunner, demo_args: list[str], small_demo: DemoSource, tmp_path: Path
) -> None:
    name = small_demo.project_names()[0]
    out = tmp_path / "rollup.parquet"
    result = runner.invoke(main, ["fetch", name, *demo_args, "--days", "14", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{name}\t" in result.stdout and "lower bound" in result.stdout
    assert out.exists()
    again = runner.invoke(main, ["fetch", name, *demo_args, "--days", "14"])
    assert "14/14 package-days from cache" in again.stderr


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["fetch", "foo;DROP TABLE"], 2, "not a valid package name"),
        (["fetch", "requests", "--start", "2026-10-10", "--end", "2026-10-01"], 2, "reversed"),
        (["fetch", "requests", "--end", "2999-01-01"], 2, "future"),
        (["fetch", "requests", "--start", "soon"], 2, "not a date"),
        (["fetch", "no-such-package-here"], 2, "no downloads found"),
        (["fetch", "x", "--source", "/nonexistent/path"], 2, "no such file"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(
    runner: CliRunner, demo_args: list[str], args: list[str], code: int, needle: str
) -> None:
    result = runner.invoke(main, args + (demo_args if "--source" not in args else []))
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and needle in errors[0]
    assert "Traceback" not in result.output


def test_wrong_schema_file_exits_with_its_code(runner: CliRunner, tmp_path: Path) -> None:
    import polars as pl

    path = tmp_path / "x.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    result = runner.invoke(main, ["fetch", "x", "--source", str(path), "--end", "2026-01-01"])
    assert result.exit_code == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "download-log layout" in last


def test_dry_run_on_local_data_costs_nothing(
    runner: CliRunner, demo_args: list[str], small_demo: DemoSource
) -> None:
    result = runner.invoke(main, ["fetch", small_demo.project_names()[0], *demo_args, "--dry-run"])
    assert result.exit_code == 0 and "no query cost" in result.output


def test_cache_commands(runner: CliRunner, demo_args: list[str], small_demo: DemoSource) -> None:
    runner.invoke(main, ["fetch", small_demo.project_names()[0], *demo_args, "--days", "7"])
    listed = runner.invoke(main, ["cache", "list"])
    assert listed.exit_code == 0 and "2 entries" in listed.output and "downloads" in listed.output
    assert "KiB" in runner.invoke(main, ["cache", "size"]).output
    assert "removed 2 entries" in runner.invoke(main, ["cache", "clear"]).output
    assert "0 entries" in runner.invoke(main, ["cache", "list"]).output


def test_demo_data_reports_speed(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        main,
        [
            "demo-data",
            "--out",
            str(tmp_path / "d"),
            "--packages",
            "30",
            "--days",
            "35",
            "--seed",
            "5",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output and (tmp_path / "d" / "ground_truth.csv").exists()


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "demo-data" in result.stdout


def test_scan_prints_a_ranking_and_writes_the_table(
    runner: CliRunner, demo_args: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "ranked.json"
    result = runner.invoke(
        main, ["scan", *demo_args, "--days", "70", "--out", str(out), "--top", "5", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and lines[0].split()[0] == "1"
    assert "flagged" in result.stderr and out.exists()


def test_investigate_explains_one_package(
    runner: CliRunner, demo_args: list[str], small_demo: DemoSource
) -> None:
    truth = small_demo.ground_truth()
    name = truth.filter(truth["scenario"] == "inflation_campaign")["project"][0]
    result = runner.invoke(main, ["investigate", name, *demo_args, "--days", "70", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Suspicion high" in result.stdout and "lower bound" in result.stdout
    missing = runner.invoke(main, ["investigate", "no-such-pkg", *demo_args, "--quiet"])
    assert missing.exit_code == 2 and "no downloads found" in missing.stderr


def test_population_screen_and_cache_list(
    runner: CliRunner, demo_args: list[str], small_demo: DemoSource, tmp_path: Path
) -> None:
    got = runner.invoke(main, ["population", *demo_args, "--days", "20", "--quiet"])
    assert got.exit_code == 0, got.output
    assert "packages × 20 days" in got.stdout and "clients tier" in got.stdout
    priced = runner.invoke(main, ["population", *demo_args, "--days", "20", "--dry-run"])
    assert priced.exit_code == 0 and "free" in priced.stdout
    out = tmp_path / "ranked.csv"
    screened = runner.invoke(
        main, ["screen", *demo_args, "--days", "60", "--deep", "3", "--out", str(out), "--quiet"]
    )
    assert screened.exit_code == 0, screened.output
    assert "packages screened" in screened.stderr and "top 3 deep-dived" in screened.stderr
    ranked = out.read_text().splitlines()
    assert ranked[0].startswith("rank,project,score") and len(ranked) > 30
    listed = runner.invoke(main, ["cache", "list"])
    assert listed.exit_code == 0
    assert "every package" in listed.stdout and "population" in listed.stdout
    assert " days: " in listed.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["screen", "--days", "3"], "3 is not in the range"),
        (["population", "--tier", "gold"], "'gold' is not one of"),
        (["population", "--start", "2026-10-05", "--end", "2026-10-01"], "reversed"),
    ],
)
def test_population_and_screen_bad_input_is_one_line(
    runner: CliRunner, demo_args: list[str], args: list[str], needle: str
) -> None:
    result = runner.invoke(main, [*args, *demo_args, "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]
