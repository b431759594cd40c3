"""The suspicion summary as a chart: what each signal contributed, and why."""

from __future__ import annotations

from typing import cast

import altair as alt
import polars as pl

from workbench.charts.theme import ALERT, CALM, MUTED, SHARE
from workbench.signals.summary import Summary, contribution


def suspicion_chart(summary: Summary) -> alt.Chart:
    rows = [
        {
            "signal": f.signal.replace("_", " "),
            "title": f.title,
            "level": f.level,
            "contribution": contribution(f),
            "kind": "points at fake traffic"
            if f.inorganic
            else "real but misleading"
            if f.inorganic is False
            else "context",
            "text": f.text[:280],
        }
        for f in (*summary.fired, *summary.context)
        if f.fired or contribution(f) > 0
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "signal": pl.String,
            "title": pl.String,
            "level": pl.String,
            "contribution": pl.Float64,
            "kind": pl.String,
            "text": pl.String,
        },
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("title:N", sort="-x", title=None),
            x=alt.X(
                "contribution:Q",
                title="contribution to suspicion",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format=SHARE),
            ),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(
                    domain=["points at fake traffic", "real but misleading", "context"],
                    range=[ALERT, CALM, MUTED],
                ),
            ),
            tooltip=[
                "signal:N",
                "title:N",
                "level:N",
                alt.Tooltip("contribution:Q", format=".2f"),
                "text:N",
            ],
        )
        .properties(
            width=360,
            height=alt.Step(22),
            title=alt.Title(
                f"Suspicion {summary.level} ({summary.score:.2f})",
                subtitle="signals that fired and what they weigh",
            ),
        )
    )
    return cast(alt.Chart, chart)


def note(text: str, *, width: int = 400) -> alt.Chart:
    """A chart that says why there is nothing to draw (a tab never shows a blank)."""
    frame = pl.DataFrame({"text": [text]})
    chart = (
        alt.Chart(frame)
        .mark_text(align="left", fontSize=13, color=MUTED)
        .encode(text="text:N")
        .properties(width=width, height=40)
    )
    return cast(alt.Chart, chart)
