"""Two packages overlaid: each value's share of each package's downloads, bars side by side
(a package's mix against another's, whatever their volumes)."""

from __future__ import annotations

from typing import cast

import altair as alt
import polars as pl

from workbench.charts.mix import clickable, fold_top, pick
from workbench.charts.theme import PALETTE, SHARE


def share_compare(
    frame: pl.DataFrame, by: str, *, title: str, top: int = 8, select: bool = False
) -> alt.Chart:
    """Grouped horizontal bars of the share of each value of ``by`` per package
    (``project, <by>, downloads``); the ``top`` values over both, the rest folded. With
    ``select``, a click on a bar selects its value (selection ``pick(by, "bar")``)."""
    folded = fold_top(frame.select("project", by, "downloads"), by, top=top)
    shares = folded.with_columns(
        share=pl.col("downloads") / pl.col("downloads").sum().over("project").clip(1)
    )
    order = (
        shares.group_by(by).agg(pl.col("share").sum()).sort("share", descending=True)[by].to_list()
    )
    packages = list(dict.fromkeys(frame["project"].to_list()))
    chart = (
        alt.Chart(shares)
        .mark_bar()
        .encode(
            y=alt.Y(f"{by}:N", sort=order, title=None),
            yOffset=alt.YOffset("project:N", sort=packages),
            x=alt.X(
                "share:Q", title="share of each package's downloads", axis=alt.Axis(format=SHARE)
            ),
            color=alt.Color(
                "project:N",
                title=None,
                sort=packages,
                scale=alt.Scale(domain=packages, range=list(PALETTE[: len(packages)])),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("project:N", title="package"),
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("downloads:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=300, height=alt.Step(12), title=title)
    )
    if select:
        chart = clickable(chart, alt.selection_point(fields=[by], name=pick(by, "bar")))
    return cast(alt.Chart, chart)
