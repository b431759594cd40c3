"""Analyst notes: dated annotations on a day or a span of an investigation, with free text.

A note is a first and last day (the same day for a one-day note) and a sentence or two. The
notes of one package on one source are kept together in one JSON file, written atomically
(:func:`workbench.cache.atomic_write`): under the cache directory's ``notes/`` for the apps
(:class:`NoteFile` from :func:`store_for`), or as ``notes.json`` inside a published case.
They are drawn on the timeline (:mod:`workbench.charts.notes`) and printed in the report.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.cache import Cache, atomic_write, make_key
from workbench.errors import InvalidInputError, WorkbenchError
from workbench.query import DayRange

#: The longest note (characters): a note is an annotation, not a document.
MAX_TEXT = 2000
#: The most notes one package may carry (the timeline stays readable).
MAX_NOTES = 200
FORMAT = "workbench-notes"
VERSION = 1


class NotesFileError(WorkbenchError):
    """A notes file that cannot be read as notes (damaged or foreign)."""


@dataclass(frozen=True, slots=True)
class Note:
    """One annotation: ``start``..``end`` (inclusive; equal for one day) and its text."""

    start: dt.date
    end: dt.date
    text: str

    @property
    def is_span(self) -> bool:
        return self.end != self.start

    def when(self) -> str:
        return f"{self.start}..{self.end}" if self.is_span else str(self.start)

    def as_dict(self) -> dict[str, str]:
        return {"start": str(self.start), "end": str(self.end), "text": self.text}

    def __str__(self) -> str:
        return f"{self.when()}: {self.text}"


def make(
    start: dt.date | str | None,
    end: dt.date | str | None,
    text: str | None,
    *,
    within: DayRange | None = None,
) -> Note:
    """A checked note (``end`` ``None``: the one day ``start``), inside ``within`` when
    given; bad input raises :class:`InvalidInputError` with a sentence saying what is wrong."""
    if start is None or (isinstance(start, str) and not start.strip()):
        raise InvalidInputError("choose the day the note is about")
    first = _day(start, "start")
    last = first if end is None or (isinstance(end, str) and not end.strip()) else _day(end, "end")
    if last < first:
        raise InvalidInputError(f"the note's last day {last} is before its first day {first}")
    body = " ".join((text or "").split())
    if not body:
        raise InvalidInputError("write the note's text")
    if len(body) > MAX_TEXT:
        raise InvalidInputError(f"a note holds at most {MAX_TEXT:,} characters, not {len(body):,}")
    if any(not ch.isprintable() for ch in body):
        raise InvalidInputError("the note's text has invisible control characters")
    if within is not None and (first < within.start or last > within.end):
        days = f"days {first}..{last} are" if last != first else f"day {first} is"
        raise InvalidInputError(f"the note's {days} outside the investigation's range {within}")
    return Note(first, last, body)


def _day(value: dt.date | str, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(
            f"the note's {what} day must be YYYY-MM-DD, not {value[:20]!r}"
        ) from None


def ordered(notes: Iterable[Note]) -> tuple[Note, ...]:
    """Notes in order of their days (then text), duplicates removed."""
    return tuple(sorted(set(notes), key=lambda n: (n.start, n.end, n.text)))


def added(notes: Sequence[Note], note: Note) -> tuple[Note, ...]:
    """``notes`` with ``note`` (refused past :data:`MAX_NOTES`)."""
    if len(notes) >= MAX_NOTES:
        raise InvalidInputError(f"a package holds at most {MAX_NOTES} notes; delete one first")
    return ordered([*notes, note])


def to_json(notes: Sequence[Note], **about: Any) -> str:
    payload = {
        "format": FORMAT,
        "version": VERSION,
        **about,
        "notes": [n.as_dict() for n in ordered(notes)],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def from_json(text: str, where: str = "the notes file") -> tuple[Note, ...]:
    """The notes of a notes file; every note is checked as if typed."""
    try:
        payload = json.loads(text)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise NotesFileError(f"{where} is not a workbench notes file")
        rows = payload["notes"]
        if not isinstance(rows, list):
            raise NotesFileError(f"{where} has no list of notes")
        return ordered(make(r["start"], r["end"], r["text"]) for r in rows)
    except (ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, WorkbenchError):
            raise NotesFileError(f"{where} holds a bad note: {exc}") from None
        raise NotesFileError(f"{where} is damaged ({type(exc).__name__})") from None


@dataclass(frozen=True)
class NoteFile:
    """The notes of one package, kept in one JSON file (``read_only``: a published case)."""

    path: Path
    about: dict[str, Any]
    read_only: bool = False

    def load(self) -> tuple[Note, ...]:
        """The saved notes (none when the file does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ()
        except OSError as exc:
            raise NotesFileError(f"the notes at {self.path} cannot be read ({exc})") from None
        return from_json(text, f"the notes file {self.path.name}")

    def save(self, notes: Sequence[Note]) -> None:
        """Replace the saved notes, atomically."""
        if self.read_only:
            raise InvalidInputError("these notes belong to a published case: they are read-only")
        content = to_json(notes, **self.about).encode()
        atomic_write(self.path, lambda handle: handle.write(content))


def store_for(cache: Cache, source_identity: dict[str, Any], package: str, label: str) -> NoteFile:
    """Where the notes of ``package`` on a source are kept: ``notes/`` under the cache
    directory, one file per source scope and package (``label``: the source in words)."""
    scope = make_key({"kind": "notes", "source": source_identity})[:16]
    path = cache.root / "notes" / f"{package}.{scope}.json"
    return NoteFile(path, {"package": package, "source": label})
