"""Published cases: ``workbench publish`` writes a self-contained folder; its frozen source
reproduces the live investigation (findings, every frame, every chart, under drill-downs);
the case app opens it; the Report app's button publishes; and ``workbench serve DIR`` serves
it to a browser with no network and no demo data."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from workbench import notes as nt
from workbench.cache import Cache
from workbench.cli import main
from workbench.investigation import CHARTS, FRAMES, Investigation, investigate
from workbench.publish import write_case
from workbench.sources.demo import DemoSource
from workbench.sources.frozen import FROZEN, FrozenSource
from workbench.views.case import CaseApp
from workbench.views.report import ReportApp

from .browser_support import ARTIFACTS, chromium, new_page, serve, shot, wait_for_app
from .conftest import SMALL

FILES = [
    "case.ipynb",
    *(f"data/{name}.parquet" for name in sorted(FROZEN)),
    "notes.json",
    "provenance.json",
    "requirements.txt",
]


def _campaign(source: DemoSource) -> str:
    truth = source.ground_truth()
    return str(truth.filter(pl.col("scenario") == "inflation_campaign")["project"][0])


@pytest.fixture(scope="module")
def demo(small_demo_dir: Path) -> DemoSource:
    return DemoSource(SMALL, data_dir=small_demo_dir.parent)


@pytest.fixture(scope="module")
def live(demo: DemoSource, tmp_path_factory: pytest.TempPathFactory) -> Investigation:
    inv = investigate(
        _campaign(demo),
        source=demo,
        start=SMALL.start,
        end=SMALL.end,
        cache=Cache(tmp_path_factory.mktemp("publish-cache")),
    )
    note = nt.make(inv.days.start + dt.timedelta(days=5), inv.days.end, "campaign <b>window</b>")
    return inv.with_notes([note])


@pytest.fixture(scope="module")
def case_dir(live: Investigation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cases") / "case"
    case = write_case(live, out)
    assert case.path == out and list(case.files) == FILES
    return out


@pytest.fixture(scope="module")
def frozen(case_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Investigation:
    source = FrozenSource(case_dir)
    cache = Cache(tmp_path_factory.mktemp("frozen-cache"))
    return investigate(
        source.package, source=source, start=source.days.start, end=source.days.end, cache=cache
    )


# -- the folder --------------------------------------------------------------------------------
def test_cli_publish_writes_the_case_folder(
    small_env: dict[str, str], demo: DemoSource, tmp_path: Path
) -> None:
    name = _campaign(demo)
    saved = nt.store_for(Cache(), demo.identity, name, demo.describe())
    saved.save((nt.make(SMALL.end, None, "seen on HN"),))
    out = tmp_path / "cases" / name
    result = CliRunner().invoke(
        main, ["publish", name, "--out", str(out), "--days", "30", "--source", f"demo:{SMALL.seed}"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(rf"wrote {re.escape(str(out))} \(10 files, \d+ KiB, [\d.]+ s\)", result.output)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == FILES

    prov = json.loads((out / "provenance.json").read_text())
    assert prov["format"] == "workbench-case" and prov["package"] == name
    assert (prov["start"], prov["end"]) == (
        str(SMALL.end - dt.timedelta(days=29)),
        str(SMALL.end),
    )
    assert prov["source"] == demo.describe() and prov["bytes_queried"] == 0
    assert prov["versions"]["polars"] == metadata.version("polars")
    assert dt.datetime.fromisoformat(prov["published"]).tzinfo is not None
    assert prov["peers"]["packages"] > 0 and prov["notes"] == 1
    sha = hashlib.sha256()
    for frame in FROZEN:
        sha.update(frame.encode())
        sha.update((out / "data" / f"{frame}.parquet").read_bytes())
    assert prov["digest"] == sha.hexdigest()

    pins = [line for line in (out / "requirements.txt").read_text().splitlines() if line[:1] != "#"]
    assert all(re.fullmatch(r"[a-z0-9-]+==\S+", pin) for pin in pins), pins
    for package in ("polars", "voila", "altair", "ipywidgets", "workbench"):
        assert f"{package}=={metadata.version(package)}" in pins

    assert [n.text for n in nt.NoteFile(out / "notes.json", {}).load()] == ["seen on HN"]
    code = [
        c for c in json.loads((out / "case.ipynb").read_text())["cells"] if c["cell_type"] == "code"
    ]
    assert len(code) == 1 and "CaseApp" in "".join(code[0]["source"])
    downloads = pl.read_parquet(out / "data" / "downloads.parquet")
    assert name in downloads["project"].to_list()
    assert downloads["date"].min() >= SMALL.end - dt.timedelta(days=29)


def test_publish_refuses_a_folder_that_is_not_a_case(
    small_env: dict[str, str], tmp_path: Path
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.txt").write_text("mine")
    result = CliRunner().invoke(main, ["publish", "anything", "--out", str(busy)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "not empty and is not a published case" in lines[0]
    assert sorted(p.name for p in busy.iterdir()) == ["thesis.txt"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = CliRunner().invoke(main, ["publish", "anything", "--out", str(afile)])
    assert result.exit_code == 2 and result.output.startswith("error: ")


def test_publishing_again_replaces_the_previous_case(live: Investigation, tmp_path: Path) -> None:
    out = tmp_path / "case"
    write_case(live, out)
    first = json.loads((out / "provenance.json").read_text())["published"]
    (out / "stray.txt").write_text("left by hand")
    write_case(live.with_notes([]), out)
    assert json.loads((out / "provenance.json").read_text())["published"] != first
    assert not (out / "stray.txt").exists()
    assert nt.NoteFile(out / "notes.json", {}).load() == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]  # no temporary folder left


# -- the frozen source -------------------------------------------------------------------------
def test_the_frozen_case_reproduces_the_investigation(
    live: Investigation, frozen: Investigation
) -> None:
    assert frozen.package == live.package and frozen.days == live.days
    assert [f.as_row() for f in frozen.findings] == [f.as_row() for f in live.findings]
    assert frozen.summary.text() == live.summary.text()
    assert frozen.baseline == live.baseline and "packages of" in frozen.baseline
    for name in FRAMES:
        assert _same(frozen.frame(name), live.frame(name)), name
    country = str(live.frame("countries")["country"][0])
    span = {"start": live.days.start + dt.timedelta(days=9), "end": live.days.end}
    for drill in ({"country": (country,)}, {"installer": ("pip",)}, span):
        for name in ("installers", "versions", "countries", "client_kinds"):
            assert _same(frozen.frame(name, **drill), live.frame(name, **drill)), (name, drill)
    # the stacked charts embed their categories' order, in which categories tied in
    # downloads come in any order (run to run, live too): their frames are compared above
    for chart in sorted(set(CHARTS) - {"installers", "versions", "ci"}):
        assert _canonical(frozen.chart(chart)) == _canonical(live.with_notes([]).chart(chart)), (
            chart
        )


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """The same rows (rows tied in a frame's sort may come in either order; a mean summed in
    another order may differ in its last bits)."""
    try:
        assert_frame_equal(
            a.sort(a.columns, nulls_last=True),
            b.sort(b.columns, nulls_last=True),
            check_exact=False,
            rel_tol=1e-9,
        )
    except AssertionError:
        return False
    return True


def _rows(node: Any) -> Any:
    if isinstance(node, float):
        return float(f"{node:.10g}")
    if isinstance(node, dict):
        return {k: _rows(v) for k, v in node.items()}
    if isinstance(node, list):
        items = [_rows(v) for v in node]
        # rows, and the order of categories tied in downloads (a colour domain), may differ
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return node


def _canonical(chart: Any) -> str:
    """A chart's spec with every list as a sorted multiset, datasets named by their content
    (rows, and categories tied in a sort, may come in either order: the same chart)."""
    spec = _rows(chart.to_dict())
    datasets = spec.pop("datasets", {})
    text = json.dumps(spec, sort_keys=True)
    for name, rows in datasets.items():
        text = text.replace(name, hashlib.sha256(json.dumps(rows).encode()).hexdigest())
    return text


def test_a_case_is_a_source_for_the_cli(case_dir: Path, live: Investigation) -> None:
    source = ["--source", f"case:{case_dir}"]
    outside = CliRunner().invoke(main, ["investigate", live.package, *source, "--days", "90"])
    assert outside.exit_code == 2 and f"holds {live.days} only" in outside.output
    days = ["--start", str(live.days.start), "--end", str(live.days.end)]
    result = CliRunner().invoke(main, ["investigate", live.package, *source, *days])
    assert result.exit_code == 0, result.output
    assert live.summary.text() in result.output
    assert f"Peers: {live.baseline}" in result.output


def test_a_frozen_case_needs_its_folder(tmp_path: Path) -> None:
    from workbench.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="not a published case"):
        FrozenSource(tmp_path)


# -- the apps ----------------------------------------------------------------------------------
def _text(widget: Any) -> str:
    return html.unescape(str(widget.value))


def test_the_case_app_opens_the_frozen_case(case_dir: Path, live: Investigation) -> None:
    app = CaseApp(case_dir)
    assert app.app is not None and app.app.inv is not None
    inner = app.app
    assert "Published case" in _text(app.header) and live.package in _text(app.header)
    assert "Suspicion high" in _text(inner.findings)
    assert list(inner.charts) == [
        "Volume",
        "Clients",
        "Installers",
        "Versions",
        "Geography",
        "Python & OS",
        "CI & people",
    ]
    # the notes published with the case: on the timeline, listed, not editable
    assert [n.text for n in inner.inv.notes] == ["campaign <b>window</b>"]
    assert "#CC79A7" in json.dumps(inner.charts["Volume"].chart.to_dict())
    assert inner.notes_panel is not None and inner.notes_panel.store.read_only
    # drill-down on the frozen rows
    inner.filters["installer"].value = "pip"
    assert "installer = pip" in _text(inner.filter_bar)
    assert "wb-error" not in inner.status.value


def test_the_case_app_says_when_a_folder_is_not_a_case(tmp_path: Path) -> None:
    app = CaseApp(tmp_path)
    assert app.app is None and "not a published case" in _text(app.status)


def test_the_report_app_publishes_the_case(
    demo: DemoSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_CASES_DIR", str(tmp_path / "cases"))
    cache = Cache(tmp_path / "c")
    saved = nt.store_for(cache, demo.identity, _campaign(demo), demo.describe())
    saved.save((nt.make(SMALL.end, None, "noted in the Investigate app"),))
    app = ReportApp(demo, package=_campaign(demo), days=SMALL.days, cache=cache)
    assert "Analyst's notes" in app.document.value  # the saved notes are printed
    assert "noted in the Investigate app" in app.document.value
    assert app.case_name.value == f"case-{_campaign(demo)}"
    for bad in ("../escape", "/tmp/x", ".hidden", ""):
        app.case_name.value = bad
        app.publish_case()
        assert "wb-error" in app.published.value and "not a path" in _text(app.published), bad
    assert not (tmp_path / "cases").exists() and not (tmp_path / "escape").exists()
    app.case_name.value = "my-case"
    app.publish_case()
    assert "wb-ok" in app.published.value, app.published.value
    published = FrozenSource(tmp_path / "cases" / "my-case")
    assert published.package == _campaign(demo)
    assert [n.text for n in published.notes_file().load()] == ["noted in the Investigate app"]


def test_serve_refuses_a_folder_that_is_not_a_case(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(tmp_path), "--no-browser"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "is not a published case" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_serve_refuses_a_case_whose_notebook_was_changed(case_dir: Path, tmp_path: Path) -> None:
    import shutil

    from workbench.sources.frozen import notebook_is_ours

    assert notebook_is_ours(case_dir)
    copy = tmp_path / "case"
    shutil.copytree(case_dir, copy)
    nb = json.loads((copy / "case.ipynb").read_text())
    nb["cells"][1]["source"] = "import os\nos.system('touch /tmp/pwned')"
    (copy / "case.ipynb").write_text(json.dumps(nb))
    result = CliRunner().invoke(main, ["serve", str(copy), "--no-browser"])
    assert result.exit_code == 2 and "runs other code" in result.output


# -- served, in a browser ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.mark.browser
def test_a_served_case_draws_and_drills_down_offline(
    case_dir: Path, small_demo_dir: Path, browser: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "no-data"
    empty.mkdir()
    # no demo data and no credentials reachable: the case holds everything it shows
    env = {"WORKBENCH_DATA_DIR": str(empty), "WORKBENCH_CACHE_DIR": str(tmp_path / "cache")}
    with serve(small_demo_dir, tmp_path, env, args=[str(case_dir)]) as server:
        blocked: list[str] = []
        page = new_page(browser, blocked)
        started = time.monotonic()
        page.goto(f"{server.url}/", timeout=120_000)
        wait_for_app(page, ".wb-findings")
        page.wait_for_selector(".vega-embed svg .mark-line", timeout=60_000)
        first_chart = time.monotonic() - started
        assert "Published case" in page.locator(".wb-case").inner_text()
        assert "Suspicion high" in page.locator(".wb-findings").inner_text()
        body = page.locator("body").inner_text().replace("\xa0", " ")
        assert "campaign <b>window</b>" in body  # the note, as text
        assert page.locator(
            ".vega-embed svg .mark-rect path, .vega-embed svg .mark-rule line"
        ).count()
        shot(page, "case")
        timeline = page.locator(".widget-tab-contents .vega-embed:visible").first
        timeline.screenshot(path=str(ARTIFACTS / "case-timeline-with-notes.png"))
        select = page.locator(".widget-dropdown:has(label:text('Installer')) select")
        select.select_option(label="pip")
        page.wait_for_selector(".wb-filters", timeout=30_000)
        assert "installer = pip" in page.locator(".wb-filters").inner_text()
        page.locator(".lm-TabBar-tab:has-text('Geography')").click()
        page.wait_for_function(
            "document.querySelectorAll('.widget-tab-contents .vega-embed svg .mark-shape path')"
            ".length > 100",
            timeout=30_000,
        )
        shot(page, "case-drilldown")
        page.close()
    assert not list(empty.iterdir()), "the served case generated or read demo data"
    assert [u for u in blocked if "fontawesome" not in u] == [], blocked
    print(f"served case: first chart {first_chart:.1f} s after navigation")
