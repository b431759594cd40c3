"""The case file: one self-contained HTML file that opens offline and says what it knows."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from workbench.cache import Cache
from workbench.cli import main
from workbench.errors import InvalidInputError
from workbench.investigation import investigate
from workbench.report import build
from workbench.sources.demo import DemoSource

from .conftest import SMALL


@pytest.fixture(scope="module")
def case(
    small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str, DemoSource]:
    source = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    name = source.ground_truth().filter(pl.col("scenario") == "inflation_campaign")["project"][0]
    inv = investigate(
        name,
        source=source,
        start=SMALL.start,
        end=SMALL.end,
        cache=Cache(tmp_path_factory.mktemp("cache")),
    )
    return build(inv), name, source


def test_case_file_has_every_section(case: tuple[str, str, DemoSource]) -> None:
    document, name, _ = case
    for heading in ("Summary", "Findings", "Evidence", "Caveats", "Data provenance"):
        assert f"<h2>{heading}</h2>" in document
    assert f"<h1>{name}</h1>" in document and "Suspicion high" in document
    assert "One client dominates" in document and "lower bound" in document
    assert document.count("<svg") >= 7


def test_case_file_loads_nothing_from_the_network(case: tuple[str, str, DemoSource]) -> None:
    document, _, _ = case
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", document)
    assert "<script" not in document
    assert "@import" not in document


def test_unknown_package_is_refused(case: tuple[str, str, DemoSource], tmp_path: Path) -> None:
    _, _, source = case
    with pytest.raises(InvalidInputError, match="no downloads found"):
        investigate(
            "no-such-pkg", source=source, start=SMALL.start, end=SMALL.end, cache=Cache(tmp_path)
        )


def test_report_command_writes_the_file(
    case: tuple[str, str, DemoSource],
    small_demo_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, name, _ = case
    for key, value in {
        "WORKBENCH_DATA_DIR": str(small_demo_dir.parent),
        "WORKBENCH_DEMO_PACKAGES": str(SMALL.packages),
        "WORKBENCH_DEMO_DAYS": str(SMALL.days),
    }.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "case.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            name,
            "--out",
            str(out),
            "--source",
            f"demo:{SMALL.seed}",
            "--days",
            "70",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and out.stat().st_size > 50_000 and "Suspicion high" in result.stdout
