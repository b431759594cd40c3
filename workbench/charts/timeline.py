"""Volume over time, with the findings annotated on it; the busiest-client share over time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

import altair as alt
import polars as pl

from workbench.charts.theme import ALERT, CALM, COUNT, DATE, MUTED, SHARE, WIDTH
from workbench.signals.findings import Finding

MAX_RELEASE_LABELS = 12
#: The name of the timeline's brush (``select=True``): an interval on x, read as a day span.
SPAN_BRUSH = "days_brush"


def _events(findings: Sequence[Finding]) -> pl.DataFrame:
    rows = []
    for f in findings:
        if f.signal != "volume_change" or f.start is None or (not f.fired and f.strength < 0.15):
            continue
        kind = (
            "drop"
            if f.title.startswith("Drop")
            else "explained surge"
            if f.explanation
            else "unexplained surge"
        )
        end = (f.end or f.start) + dt.timedelta(days=1)
        rows.append(
            {
                "start": f.start,
                "end": end,
                "kind": kind,
                "title": f.title,
                "detail": (f.explanation or f.text)[:300],
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "start": pl.Date,
            "end": pl.Date,
            "kind": pl.String,
            "title": pl.String,
            "detail": pl.String,
        },
    )


def volume_timeline(
    daily: pl.DataFrame,
    *,
    findings: Sequence[Finding] = (),
    releases: pl.DataFrame | None = None,
    title: str = "Downloads per day",
    subtitle: str = "A lower bound: mirrors and caching proxies are not logged.",
    select: bool = False,
) -> alt.LayerChart:
    """Daily downloads per project (``date, project, downloads``; several projects overlay
    as a comparison), surges and drops shaded, releases as labelled rules. With ``select``,
    the line can be brushed along x (selection :data:`SPAN_BRUSH`: ``{"date": [lo, hi]}``)."""
    projects = daily["project"].unique().sort().to_list()
    color = (
        alt.Color("project:N", title=None, legend=alt.Legend(orient="top"))
        if len(projects) > 1
        else alt.value("#0072B2")
    )
    line = (
        alt.Chart(daily.select("date", "project", "downloads"))
        .mark_line(strokeWidth=1.6)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format=DATE)),
            y=alt.Y("downloads:Q", title="downloads", axis=alt.Axis(format=COUNT)),
            color=color,
            tooltip=[
                alt.Tooltip("project:N"),
                alt.Tooltip("date:T", format="%a %Y-%m-%d"),
                alt.Tooltip("downloads:Q", format=","),
            ],
        )
    )
    if select:
        line = line.add_params(alt.selection_interval(encodings=["x"], name=SPAN_BRUSH))
    layers: list[alt.Chart] = []
    events = _events(findings)
    if events.height:
        layers.append(
            alt.Chart(events)
            .mark_rect(opacity=0.18)
            .encode(
                x="start:T",
                x2="end:T",
                color=alt.Color(
                    "kind:N",
                    title=None,
                    legend=alt.Legend(orient="top"),
                    scale=alt.Scale(
                        domain=["unexplained surge", "explained surge", "drop"],
                        range=[ALERT, CALM, MUTED],
                    ),
                ),
                tooltip=[
                    "title:N",
                    "kind:N",
                    alt.Tooltip("start:T", format="%Y-%m-%d"),
                    "detail:N",
                ],
            )
        )
    layers.append(line)
    if releases is not None and releases.height:
        lo, hi = daily["date"].min(), daily["date"].max()
        rel = (
            releases.with_columns(day=pl.col("upload_time").dt.date())
            .filter(pl.col("day").is_between(lo, hi))
            .sort("day")
            .tail(MAX_RELEASE_LABELS)
            .select("day", "version")
        )
        if rel.height:
            rules = (
                alt.Chart(rel)
                .mark_rule(strokeDash=[3, 3], color="#5F6368")
                .encode(
                    x="day:T",
                    tooltip=[
                        alt.Tooltip("version:N", title="release"),
                        alt.Tooltip("day:T", format="%Y-%m-%d"),
                    ],
                )
            )
            labels = (
                alt.Chart(rel)
                .mark_text(angle=270, align="left", dx=4, dy=-3, fontSize=9, color="#5F6368")
                .encode(x="day:T", y=alt.value(0), text="version:N")
            )
            layers += [rules, labels]
    return cast(alt.LayerChart, alt.layer(*layers)).properties(
        width=WIDTH, height=240, title=alt.Title(title, subtitle=subtitle)
    )


def client_share_timeline(
    days: pl.DataFrame, *, title: str = "Busiest client's share of each day"
) -> alt.LayerChart:
    """``date, share, limit`` (from the narrow-fingerprint signal): the busiest client's share of
    each day against the limit drawn from comparable packages; days over it are marked."""
    frame = days.select("date", "share", "limit", "top", "downloads").with_columns(
        over=pl.col("share") > pl.col("limit")
    )
    base = alt.Chart(frame).encode(x=alt.X("date:T", title=None, axis=alt.Axis(format=DATE)))
    share = base.mark_line(color="#0072B2").encode(
        y=alt.Y(
            "share:Q",
            title="share of downloads",
            axis=alt.Axis(format=SHARE),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=[
            alt.Tooltip("date:T", format="%Y-%m-%d"),
            alt.Tooltip("share:Q", format=".1%"),
            alt.Tooltip("top:Q", title="busiest client", format=","),
            alt.Tooltip("downloads:Q", title="all downloads", format=","),
        ],
    )
    limit = base.mark_line(strokeDash=[4, 3], color=MUTED).encode(y="limit:Q")
    flagged = (
        base.transform_filter("datum.over")
        .mark_point(color=ALERT, filled=True, size=40)
        .encode(y="share:Q")
    )
    return cast(alt.LayerChart, alt.layer(limit, share, flagged)).properties(
        width=WIDTH,
        height=160,
        title=alt.Title(
            title, subtitle="dashed: 4× the typical share among packages of similar volume"
        ),
    )
