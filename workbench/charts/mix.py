"""Mixes: installers, versions, python, OS, client kinds — over time and as share bars."""

from __future__ import annotations

import datetime as dt
import json
from typing import cast

import altair as alt
import polars as pl

from workbench.charts.theme import COUNT, DATE, MUTED, PALETTE, SHARE, WIDTH

OTHER = "(other)"


def pick(by: str, kind: str) -> str:
    """The name of the point selection a builder adds on ``by`` with ``select=True`` (one
    name per builder kind, so two builders on one field can share a spec)."""
    return f"{by}_{kind}"


def clickable(chart: alt.Chart, selection: alt.Parameter) -> alt.Chart:
    """``chart`` with ``selection`` added and a pointer cursor over its marks (a copy)."""
    picked = chart.add_params(selection)
    mark = picked.mark
    spec = mark.to_dict() if isinstance(mark, alt.MarkDef) else {"type": mark}
    picked.mark = alt.MarkDef(**{**spec, "cursor": "pointer"})
    return picked


def fold_top(
    frame: pl.DataFrame, by: str, *, top: int = 6, value: str = "downloads"
) -> pl.DataFrame:
    """Keep the ``top`` values of ``by`` (by total), fold the rest into ``(other)``; nulls are
    ``(unknown)``."""
    labelled = frame.with_columns(pl.col(by).cast(pl.String).fill_null("(unknown)"))
    keep = (
        labelled.group_by(by)
        .agg(pl.col(value).sum())
        .sort(value, descending=True)
        .head(top)[by]
        .to_list()
    )
    keys = [c for c in frame.columns if c not in (by, value)]
    return (
        labelled.with_columns(
            pl.when(pl.col(by).is_in(keep)).then(pl.col(by)).otherwise(pl.lit(OTHER))
        )
        .group_by([*keys, by])
        .agg(pl.col(value).sum())
    )


def _per_period(frame: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """Daily rows up to ~6 months, weekly beyond (keeps specs small, trends readable)."""
    dates = frame["date"].cast(pl.Date)
    first, last = dates.min(), dates.max()
    span = (last - first).days if isinstance(first, dt.date) and isinstance(last, dt.date) else 0
    if span <= 190:
        return frame, "day"
    keys = [c for c in frame.columns if c not in ("date", "downloads")]
    weekly = frame.group_by([pl.col("date").dt.truncate("1w"), *keys]).agg(
        pl.col("downloads").sum()
    )
    return weekly, "week"


def stacked_share(
    frame: pl.DataFrame,
    by: str,
    *,
    title: str,
    top: int = 6,
    normalize: bool = False,
    highlight: str | None = None,
    select: bool = False,
) -> alt.Chart:
    """Stacked area of downloads per value of ``by`` over time (``date, <by>, downloads``).
    With ``select``, a click on an area or its legend entry selects that value (selection
    ``pick(by, "series")``: ``[{by: value}]``)."""
    folded, period = _per_period(fold_top(frame.select("date", by, "downloads"), by, top=top))
    order = (
        folded.group_by(by)
        .agg(pl.col("downloads").sum())
        .sort("downloads", descending=True)[by]
        .to_list()
    )
    colors = [PALETTE[i % len(PALETTE)] if v != OTHER else MUTED for i, v in enumerate(order)]
    enc_y = alt.Y(
        "downloads:Q",
        stack="normalize" if normalize else "zero",
        title="share" if normalize else f"downloads per {period}",
        axis=alt.Axis(format=SHARE if normalize else COUNT),
    )
    chart = (
        alt.Chart(folded)
        .mark_area()
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format=DATE)),
            y=enc_y,
            color=alt.Color(
                f"{by}:N", title=None, sort=order, scale=alt.Scale(domain=order, range=colors)
            ),
            order=alt.Order("rank:Q"),
            tooltip=[
                alt.Tooltip("date:T", format="%Y-%m-%d"),
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("downloads:Q", format=","),
            ],
        )
        # values come from the data: JSON literals are exact in Vega's expression language
        # (Python's repr is not, e.g. for "\U000e0001")
        .transform_calculate(rank=f"indexof({json.dumps(order)}, datum[{json.dumps(by)}])")
    )
    if highlight is not None:
        chart = chart.encode(
            opacity=alt.condition(
                f"datum[{json.dumps(by)}] == {json.dumps(highlight)}",
                alt.value(1.0),
                alt.value(0.55),
            )
        )
    if select:
        chart = clickable(
            chart, alt.selection_point(fields=[by], bind="legend", name=pick(by, "series"))
        )
    subtitle = f"per {period}" + (
        f"; latest release {highlight} in full colour" if highlight else ""
    )
    return cast(
        alt.Chart,
        chart.properties(width=WIDTH, height=200, title=alt.Title(title, subtitle=subtitle)),
    )


def share_bar(
    frame: pl.DataFrame, by: str, *, title: str, top: int = 8, select: bool = False
) -> alt.Chart:
    """Horizontal bars of each value's share of downloads (``<by>, downloads``). With
    ``select``, a click on a bar selects its value (selection ``pick(by, "bar")``)."""
    folded = fold_top(frame.select(by, "downloads"), by, top=top)
    total = max(int(folded["downloads"].sum()), 1)
    folded = folded.with_columns(share=pl.col("downloads") / total).sort(
        "downloads", descending=True
    )
    order = folded[by].to_list()
    chart = (
        alt.Chart(folded)
        .mark_bar(color=PALETTE[0])
        .encode(
            y=alt.Y(f"{by}:N", sort=order, title=None),
            x=alt.X("share:Q", title="share of downloads", axis=alt.Axis(format=SHARE)),
            tooltip=[
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("downloads:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=280, height=alt.Step(18), title=title)
    )
    if select:
        chart = clickable(chart, alt.selection_point(fields=[by], name=pick(by, "bar")))
    return cast(alt.Chart, chart)
