"""The analyst's notes as a layer of the volume timeline: a shaded band for a span, a rule
for one day, each with its text in the tooltip (a layer of its own: it composes with any
time chart whose x field is a date)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

import altair as alt
import polars as pl

from workbench.notes import Note

#: The notes' colour (Okabe-Ito reddish purple: apart from the findings' colours).
NOTE = "#CC79A7"
#: Characters of a note shown in its tooltip.
TOOLTIP_TEXT = 300


def notes_frame(notes: Sequence[Note]) -> pl.DataFrame:
    """``start, end, when, note`` per note (``end`` the day after its last day)."""
    return pl.DataFrame(
        [
            {
                "start": n.start,
                "end": n.end + dt.timedelta(days=1),
                "when": n.when(),
                "note": n.text[:TOOLTIP_TEXT],
                "span": n.is_span,
            }
            for n in notes
        ],
        schema={
            "start": pl.Date,
            "end": pl.Date,
            "when": pl.String,
            "note": pl.String,
            "span": pl.Boolean,
        },
    )


def notes_layer(notes: Sequence[Note]) -> alt.LayerChart | None:
    """The layer for ``notes`` (``None`` when there are none): spans as bands, days as
    dashed rules, the text in the tooltip."""
    if not notes:
        return None
    frame = notes_frame(notes)
    tooltip = [alt.Tooltip("when:N", title="analyst's note"), alt.Tooltip("note:N", title="note")]
    base = alt.Chart(frame)
    spans = (
        base.transform_filter("datum.span")
        .mark_rect(opacity=0.14, color=NOTE, stroke=NOTE, strokeWidth=1)
        .encode(x="start:T", x2="end:T", tooltip=tooltip)
    )
    days = (
        base.transform_filter("!datum.span")
        .mark_rule(color=NOTE, strokeWidth=2, strokeDash=[6, 2])
        .encode(x="start:T", tooltip=tooltip)
    )
    return cast(alt.LayerChart, alt.layer(spans, days))


def with_notes(chart: alt.LayerChart, notes: Sequence[Note]) -> alt.LayerChart:
    """``chart`` (a layered time chart) with the notes' layer on top."""
    layer = notes_layer(notes)
    return chart if layer is None else chart + layer
