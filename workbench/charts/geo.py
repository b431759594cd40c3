"""Where downloads come from: a world choropleth (geometry shipped with the package) and a
ranked bar. ``country_code`` is ISO 3166 alpha-2; the map is keyed by ISO numeric ids."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, cast

import altair as alt
import polars as pl
import pycountry

from workbench.charts.mix import clickable, pick, share_bar
from workbench.charts.theme import SHARE


@cache
def world() -> dict[str, Any]:
    """Natural Earth 1:110m countries as TopoJSON (world-atlas 2.0.2, ISC licence)."""
    path = resources.files("workbench.charts") / "data" / "countries-110m.json"
    return dict(json.loads(path.read_text()))


@cache
def _numeric(alpha2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha2)
    return None if country is None else str(country.numeric)


@cache
def _name(alpha2: str) -> str:
    country = pycountry.countries.get(alpha_2=alpha2)
    return alpha2 if country is None else str(country.name)


def country_shares(frame: pl.DataFrame) -> pl.DataFrame:
    """``country, downloads`` → with share, ISO numeric id and readable name."""
    total = max(int(frame["downloads"].sum()), 1)
    per = frame.group_by("country").agg(pl.col("downloads").sum()).drop_nulls("country")
    return per.with_columns(
        share=pl.col("downloads") / total,
        id=pl.col("country").map_elements(_numeric, pl.String),
        name=pl.col("country").map_elements(_name, pl.String),
    ).sort("downloads", descending=True)


@cache
def _geometry() -> alt.Data:
    """The map's data: the TopoJSON inline as one string, which Vega parses by its format.
    As a nested object Altair would validate ~40k numbers on every spec (~0.3 s a redraw)."""
    topo = alt.DataFormat(type="topojson", feature="countries")  # type: ignore[no-untyped-call]
    text = json.dumps(world(), separators=(",", ":"))
    return alt.Data(values=text, format=topo)  # type: ignore[no-untyped-call]


def world_map(
    frame: pl.DataFrame, *, title: str = "Downloads by country", select: bool = False
) -> alt.LayerChart:
    """Share of downloads per country on a world map. With ``select``, a click on a country
    with downloads selects it (selection ``pick("country", "map")``: ``[{"country": "CN"}]``,
    ISO alpha-2 as in the data)."""
    shares = country_shares(frame).drop_nulls("id")
    geometry = _geometry()
    rows = shares.select("id", "country", "name", "downloads", "share").to_dicts()
    lookup = alt.LookupData(
        data=alt.Data(values=rows),  # type: ignore[no-untyped-call]
        key="id",
        fields=["country", "name", "downloads", "share"],
    )
    land = alt.Chart(geometry).mark_geoshape(fill="#F1F3F4", stroke="white", strokeWidth=0.4)
    filled = (
        alt.Chart(geometry)
        .mark_geoshape(stroke="white", strokeWidth=0.4)
        .transform_lookup(lookup="id", from_=lookup)
        .transform_filter("isValid(datum.share)")
        .encode(
            color=alt.Color(
                "share:Q",
                title="share",
                scale=alt.Scale(scheme="blues", type="sqrt"),
                legend=alt.Legend(format=SHARE, orient="right"),
            ),
            tooltip=[
                alt.Tooltip("name:N", title="country"),
                alt.Tooltip("downloads:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
    )
    if select:
        filled = clickable(
            filled, alt.selection_point(fields=["country"], name=pick("country", "map"))
        )
    layered = alt.layer(land, filled).project("equalEarth")
    return cast(alt.LayerChart, layered.properties(width=560, height=300, title=title))


def country_bar(frame: pl.DataFrame, *, top: int = 10, select: bool = False) -> alt.Chart:
    return share_bar(
        frame.select("country", "downloads"),
        "country",
        title="Top countries",
        top=top,
        select=select,
    )
