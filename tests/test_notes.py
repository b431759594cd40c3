"""Analyst notes: the model's checks, atomic storage, the timeline layer, the report, and
the notes panel of the Investigate app (bad input is a visible message)."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from workbench import notes as nt
from workbench.cache import Cache
from workbench.errors import InvalidInputError
from workbench.investigation import Investigation, investigate
from workbench.notes import Note, NoteFile, NotesFileError
from workbench.query import DayRange
from workbench.report import build
from workbench.sources.demo import DemoSource
from workbench.views.investigate import InvestigateApp
from workbench.views.notes import NotesPanel

from .conftest import SMALL

DAYS = DayRange(dt.date(2026, 9, 1), dt.date(2026, 9, 30))
NOTE_COLOUR = "#CC79A7"


@pytest.fixture(scope="module")
def views_cache(tmp_path_factory: pytest.TempPathFactory) -> Cache:
    return Cache(tmp_path_factory.mktemp("notes-cache"))


@pytest.fixture(scope="module")
def inv(small_demo_dir: Path, views_cache: Cache) -> Investigation:
    source = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    name = source.ground_truth().filter(pl.col("scenario") == "inflation_campaign")["project"][0]
    return investigate(name, source=source, start=SMALL.start, end=SMALL.end, cache=views_cache)


# -- the model -------------------------------------------------------------------------------
def test_a_note_is_a_day_or_a_span() -> None:
    day = nt.make("2026-09-03", None, "  release  announced\non HN ")
    assert (day.start, day.end, day.is_span) == (dt.date(2026, 9, 3), dt.date(2026, 9, 3), False)
    assert day.text == "release announced on HN"  # whitespace folded
    span = nt.make(dt.date(2026, 9, 3), dt.date(2026, 9, 9), "campaign", within=DAYS)
    assert span.is_span and span.when() == "2026-09-03..2026-09-09"


@pytest.mark.parametrize(
    ("start", "end", "text", "needle"),
    [
        (None, None, "x", "choose the day"),
        ("2026-09-09", "2026-09-03", "x", "before its first day"),
        ("2026-09-03", None, "   ", "write the note's text"),
        ("2026-09-03", None, "x" * (nt.MAX_TEXT + 1), "at most 2,000 characters"),
        ("2026-09-03", None, "a\u202eb", "invisible control characters"),
        ("2026-08-31", None, "x", "outside the investigation's range"),
        ("2026-09-29", "2026-10-02", "x", "outside the investigation's range"),
        ("03/09/2026", None, "x", "must be YYYY-MM-DD"),
    ],
)
def test_bad_notes_are_refused_with_a_sentence(
    start: Any, end: Any, text: str, needle: str
) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        nt.make(start, end, text, within=DAYS)


def test_notes_are_kept_in_day_order_without_duplicates() -> None:
    a, b = nt.make("2026-09-05", None, "b"), nt.make("2026-09-01", "2026-09-02", "a")
    assert nt.added(nt.added((), a), b) == (b, a)
    assert nt.added((b, a), a) == (b, a)
    full = tuple(nt.make(DAYS.start + dt.timedelta(days=i % 30), None, str(i)) for i in range(200))
    with pytest.raises(InvalidInputError, match="at most 200 notes"):
        nt.added(nt.ordered(full), a)


# -- storage ---------------------------------------------------------------------------------
def test_notes_round_trip_through_their_file(tmp_path: Path) -> None:
    store = NoteFile(tmp_path / "n" / "pkg.json", {"package": "pkg"})
    assert store.load() == ()
    kept = (nt.make("2026-09-01", None, "é <b>ok</b>"), nt.make("2026-09-02", "2026-09-04", "s"))
    store.save(kept)
    assert store.load() == kept
    payload = json.loads(store.path.read_text())
    assert payload["format"] == "workbench-notes" and payload["package"] == "pkg"
    assert [n["start"] for n in payload["notes"]] == ["2026-09-01", "2026-09-02"]


def test_a_failed_save_keeps_the_previous_notes_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = NoteFile(tmp_path / "pkg.json", {})
    first = (nt.make("2026-09-01", None, "first"),)
    store.save(first)

    def crash(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save((*first, nt.make("2026-09-02", None, "second")))
    monkeypatch.undo()
    assert store.load() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg.json"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "damaged"),
        ('{"format": "other", "notes": []}', "not a workbench notes file"),
        ('{"format": "workbench-notes", "notes": {}}', "no list of notes"),
        (
            '{"format": "workbench-notes", "notes": [{"start": "2026-09-02", '
            '"end": "2026-09-01", "text": "x"}]}',
            "bad note",
        ),
    ],
)
def test_a_damaged_notes_file_is_a_clear_error(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "n.json"
    path.write_text(content)
    with pytest.raises(NotesFileError, match=needle):
        NoteFile(path, {}).load()


def test_read_only_notes_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="read-only"):
        NoteFile(tmp_path / "n.json", {}, read_only=True).save(())


def test_notes_are_kept_per_source_and_package(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    a = nt.store_for(cache, {"source": "demo", "seed": 1}, "pkg", "demo 1")
    assert a.path.parent == tmp_path / "notes"
    assert a.path == nt.store_for(cache, {"source": "demo", "seed": 1}, "pkg", "x").path
    assert a.path != nt.store_for(cache, {"source": "demo", "seed": 2}, "pkg", "demo 2").path
    assert a.path != nt.store_for(cache, {"source": "demo", "seed": 1}, "other", "demo 1").path
    a.save((nt.make("2026-09-01", None, "x"),))
    assert cache.entries() == []  # notes are not cache entries (never swept or cleared)


# -- the timeline and the report -------------------------------------------------------------
def _note_layers(chart: Any) -> list[dict[str, Any]]:
    spec = chart.to_dict()
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            mark = node.get("mark")
            if isinstance(mark, dict) and mark.get("color") == NOTE_COLOUR:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


def test_notes_are_drawn_on_the_timeline(inv: Investigation) -> None:
    assert _note_layers(inv.chart("volume")) == []
    day = nt.make(inv.days.start + dt.timedelta(days=3), None, "blog post")
    span = nt.make(inv.days.start + dt.timedelta(days=10), inv.days.end, "campaign runs")
    noted = inv.with_notes([span, day])
    assert noted.notes == (day, span)
    layers = _note_layers(noted.chart("volume"))
    assert sorted(layer["mark"]["type"] for layer in layers) == ["rect", "rule"]
    spec = json.dumps(noted.chart("volume").to_dict())
    assert "blog post" in spec and "campaign runs" in spec and "analyst's note" in spec
    # a drill-down and a comparison keep the notes; other charts do not draw them
    assert _note_layers(noted.drill(installer=("pip",)).chart("volume"))
    assert _note_layers(noted.chart("ci")) == []


def test_notes_are_printed_in_the_report(inv: Investigation) -> None:
    plain = build(inv)
    assert "Analyst's notes" not in plain
    note = nt.make(inv.days.start, None, "<script>alert(1)</script> seen on HN")
    document = build(inv.with_notes([note]))
    assert "<h2>Analyst's notes</h2>" in document
    assert f"<b>{inv.days.start}</b>" in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; seen on HN" in document
    assert "<script>alert" not in document
    assert document.index("Analyst's notes") < document.index("<h2>Evidence")


def shown(panel: NotesPanel) -> str:
    return html.unescape(panel.status.value)


# -- the panel -------------------------------------------------------------------------------
def test_the_panel_adds_deletes_and_shows_bad_input(tmp_path: Path) -> None:
    store = NoteFile(tmp_path / "n.json", {})
    seen: list[tuple[Note, ...]] = []
    panel = NotesPanel(store, DAYS, on_change=seen.append)
    panel.text.value = ""
    panel.add_note()
    assert "wb-error" in shown(panel) and "write the note" in shown(panel)
    panel.start.value, panel.end.value = dt.date(2026, 9, 20), dt.date(2026, 9, 10)
    panel.text.value = "x"
    panel.add_note()
    assert "before its first day" in shown(panel) and seen == []
    panel.start.value, panel.end.value = dt.date(2026, 10, 2), None
    panel.add_note()
    assert "outside the investigation's range" in shown(panel)
    panel.start.value = dt.date(2026, 9, 5)
    panel.text.value = "surge starts"
    panel.add_note()
    assert "wb-ok" in shown(panel) and panel.text.value == ""
    added = Note(dt.date(2026, 9, 5), dt.date(2026, 9, 5), "surge starts")
    assert seen[-1] == store.load() == (added,)
    assert [label for label, _ in panel.listing.options] == ["2026-09-05: surge starts"]
    panel.listing.value = None
    panel.delete_selected()
    assert "select a note" in shown(panel)
    panel.listing.value = 0
    panel.delete_selected()
    assert seen[-1] == () and store.load() == () and "deleted" in shown(panel)


def test_a_damaged_notes_file_shows_in_the_panel(tmp_path: Path) -> None:
    (tmp_path / "n.json").write_text("garbage")
    panel = NotesPanel(NoteFile(tmp_path / "n.json", {}), DAYS)
    assert "wb-error" in shown(panel) and "damaged" in shown(panel)
    assert panel.notes == ()


def test_investigate_app_saves_notes_and_redraws_the_timeline(
    small_demo_dir: Path, views_cache: Cache, inv: Investigation
) -> None:
    demo = DemoSource(SMALL, data_dir=small_demo_dir.parent)
    app = InvestigateApp(demo, package=inv.package, days=SMALL.days, cache=views_cache)
    panel = app.notes_panel
    assert panel is not None and app.notes_box.children == (panel.container,)
    assert _note_layers(app.charts["Volume"].chart) == []
    panel.start.value = inv.days.start + dt.timedelta(days=2)
    panel.text.value = "package renamed"
    panel.add_note()
    assert app.inv is not None and [n.text for n in app.inv.notes] == ["package renamed"]
    assert _note_layers(app.charts["Volume"].chart)
    # reopened: the saved note is back, on the timeline
    again = InvestigateApp(demo, package=inv.package, days=SMALL.days, cache=views_cache)
    assert again.inv is not None and [n.text for n in again.inv.notes] == ["package renamed"]
    assert _note_layers(again.charts["Volume"].chart)
