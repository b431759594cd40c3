"""The notes panel of the Investigate app: add a dated note on a day or a span, list the
package's notes, delete one. Every note is checked (:func:`workbench.notes.make`) and bad
input is a visible message; each change is saved at once and handed to ``on_change``."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from workbench import notes as nt
from workbench.notes import Note, NoteFile
from workbench.query import DayRange
from workbench.views.common import message, shown_errors


class NotesPanel:
    """Day/span pickers, the text, Add; the list of notes with Delete; a status line."""

    def __init__(
        self,
        store: NoteFile,
        days: DayRange,
        on_change: Callable[[tuple[Note, ...]], None] | None = None,
    ) -> None:
        self.store, self.days, self.on_change = store, days, on_change
        self.notes: tuple[Note, ...] = ()
        self.start = w.DatePicker(value=days.end, description="Day")
        self.end = w.DatePicker(value=None, description="to (optional)")
        self.text = w.Textarea(
            placeholder="What happened on this day or span (e.g. 'release announced on HN')",
            layout=w.Layout(width="520px", height="3.5em"),
        )
        self.add = w.Button(description="Add note", icon="plus")
        self.listing = w.Select(options=[], rows=4, layout=w.Layout(width="640px"))
        self.delete = w.Button(description="Delete note", icon="trash")
        self.status = w.HTML()
        self.add.on_click(lambda _b: self.add_note())
        self.delete.on_click(lambda _b: self.delete_selected())
        title = w.HTML(
            "<b>Analyst's notes</b> <span style='color:#5F6368'>(on the timeline)</span>"
        )
        editing: list[w.Widget] = []
        if not store.read_only:
            editing = [w.HBox([self.start, self.end]), w.HBox([self.text, self.add])]
        self.container = w.VBox([title, *editing, w.HBox([self.listing, self.delete]), self.status])
        self.delete.layout.display = "none" if store.read_only else None
        with shown_errors(self.status):
            self._show(store.load())

    def _show(self, notes: tuple[Note, ...]) -> None:
        self.notes = notes
        self.listing.options = [(str(n), i) for i, n in enumerate(notes)]
        self.listing.layout.display = None if notes else "none"
        self.delete.disabled = not notes

    def _changed(self, notes: tuple[Note, ...], said: str) -> None:
        self.store.save(notes)
        self._show(notes)
        self.status.value = message(said, kind="ok")
        if self.on_change is not None:
            self.on_change(notes)

    def add_note(self) -> None:
        """Check the typed note; keep it (saved, drawn) or say what is wrong."""
        with shown_errors(self.status):
            note = nt.make(self.start.value, self.end.value, self.text.value, within=self.days)
            self._changed(nt.added(self.notes, note), f"Note added on {note.when()}.")
            self.text.value = ""

    def delete_selected(self) -> None:
        """Delete the note selected in the list (a message when none is)."""
        with shown_errors(self.status):
            index = self.listing.value
            if index is None or not 0 <= index < len(self.notes):
                self.status.value = message("select a note to delete")
                return
            gone = self.notes[index]
            kept = tuple(n for i, n in enumerate(self.notes) if i != index)
            self._changed(kept, f"Note of {gone.when()} deleted.")
