"""Chart-driven drill-down: the builders' selections (only when asked), and the Investigate
app turning a selection on a chart's widget into a filter, without a browser (the browser
test is ``test_drilldown_browser.py``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import pytest
import vl_convert as vlc

from workbench import charts
from workbench.cache import Cache
from workbench.charts.mix import OTHER
from workbench.investigation import CHARTS, Investigation, investigate
from workbench.sources.demo import DemoSource
from workbench.views.investigate import InvestigateApp, _day

from .conftest import SMALL

#: The selections each chart carries with ``select=True``.
EXPECTED = {
    "volume": {"days_brush": "interval"},
    "installers": {"installer_series": "point", "installer_bar": "point"},
    "versions": {"version_series": "point"},
    "geography": {"country_map": "point", "country_bar": "point"},
    "python_os": {"python_bar": "point", "system_bar": "point"},
    "clients": {},
    "ci": {},
    "suspicion": {},
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Cache:
    return Cache(tmp_path_factory.mktemp("drill-cache"))


@pytest.fixture
def demo(small_demo_dir: Path) -> DemoSource:
    return DemoSource(SMALL, data_dir=small_demo_dir.parent)


def _campaign(demo: DemoSource) -> str:
    return str(demo.ground_truth().filter(pl.col("scenario") == "inflation_campaign")["project"][0])


@pytest.fixture
def inv(demo: DemoSource, cache: Cache) -> Investigation:
    return investigate(_campaign(demo), source=demo, start=SMALL.start, end=SMALL.end, cache=cache)


def _params(spec: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["select"]["type"] for p in spec.get("params", []) if "select" in p}


@pytest.mark.parametrize("name", CHARTS)
def test_charts_carry_selections_only_when_asked(inv: Investigation, name: str) -> None:
    plain = inv.chart(name).to_dict()
    assert "params" not in json.dumps(plain) and "cursor" not in json.dumps(plain)
    picked = inv.chart(name, select=True).to_dict()  # validated against the schema
    assert _params(picked) == EXPECTED[name]
    vlc.vegalite_to_vega(picked)  # compiles: no duplicate or dangling signal
    if EXPECTED[name]:
        assert '"cursor": "pointer"' in json.dumps(picked) or name == "volume"


def test_a_comparison_keeps_one_set_of_selections(inv: Investigation) -> None:
    both = inv.compare(inv.source.project_names()[0])
    for name in ("installers", "geography", "python_os", "versions", "volume"):
        spec = both.chart(name, select=True).to_dict()
        assert _params(spec) == EXPECTED[name]
        vlc.vegalite_to_vega(spec)


def test_builders_name_their_selections(inv: Investigation) -> None:
    countries = inv.frame("countries")
    bar = charts.share_bar(countries, "country", title="t", select=True)
    assert _params(bar.to_dict()) == {"country_bar": "point"}
    assert bar.to_dict()["params"][0]["select"]["fields"] == ["country"]
    area = charts.stacked_share(inv.frame("versions"), "version", title="t", select=True)
    [param] = area.to_dict()["params"]
    assert param["bind"] == "legend" and param["select"]["fields"] == ["version"]
    brush = charts.volume_timeline(inv.frame("daily"), select=True).to_dict()
    [param] = brush["params"]
    assert param["select"] == {"type": "interval", "encodings": ["x"]}
    geo = charts.world_map(countries, select=True).to_dict()
    # the map's countries carry the alpha-2 code the filter wants
    assert _params(geo) == {"country_map": "point"}
    lookup = json.dumps(geo)
    assert '"fields": ["country", "name", "downloads", "share"]' in lookup


def _select(chart: alt.JupyterChart, name: str, value: Any) -> None:
    """What the page sends when a selection changes (the widget's synced state)."""
    chart._vl_selections = {**chart._vl_selections, name: {"value": value, "store": []}}


def _point(field: str, value: str) -> dict[str, Any]:
    return {field: [value], "vlPoint": {"or": [{field: value}]}}


def _open(app: InvestigateApp, tab: str) -> alt.JupyterChart:
    app.tabs.selected_index = list(app.charts).index(tab)
    return app.charts[tab]


def _values(chart: alt.JupyterChart, field: str) -> set[Any]:
    spec = chart.chart.to_dict()
    return {r[field] for rows in spec.get("datasets", {}).values() for r in rows if field in r}


def test_a_click_on_a_bar_sets_the_filter_and_redraws(demo: DemoSource, cache: Cache) -> None:
    app = InvestigateApp(demo, package=_campaign(demo), days=70, cache=cache)
    installers = _open(app, "Installers")
    assert len(_values(installers, "installer")) > 1
    _select(installers, "installer_bar", _point("installer", "uv"))
    assert app.filters["installer"].value == "uv"
    assert "installer = uv" in app.filter_bar.value
    assert app.charts["Installers"] is installers  # redrawn in place
    assert _values(installers, "installer") == {"uv"}
    assert installers.selections.installer_bar.value == []  # the new spec starts unselected
    assert {"Volume", "Geography"} <= app._stale  # the other tabs follow when opened
    # the redrawn chart's selections are followed too: a legend click on the area
    _select(installers, "installer_series", _point("installer", "pip"))
    assert app.filters["installer"].value == "pip"
    # a country on the map, then an OS bar: filters add up
    geo = _open(app, "Geography")
    country = next(c for c in sorted(_values(geo, "country")) if c != OTHER)
    _select(geo, "country_map", _point("country", country))
    assert app.filters["country"].value == country
    _select(_open(app, "Python & OS"), "system_bar", _point("system", "Linux"))
    assert app.current_filters().describe().count("=") == 3


def test_empty_and_unknown_picks_change_nothing(demo: DemoSource, cache: Cache) -> None:
    app = InvestigateApp(demo, package=_campaign(demo), days=70, cache=cache)
    versions = _open(app, "Versions")
    _select(versions, "version_series", _point("version", OTHER))
    assert app.filters["version"].value is None
    assert "wb-info" in app.status.value and "folded together" in app.status.value
    _select(versions, "version_series", _point("version", "0.0.0-not-offered"))
    assert app.filters["version"].value is None and "not among" in app.status.value
    _select(versions, "version_series", {})  # a redraw or a click beside the marks
    assert app.current_filters().active is False and app.filter_bar.value == ""


def test_a_brush_on_the_timeline_sets_the_day_span(demo: DemoSource, cache: Cache) -> None:
    app = InvestigateApp(demo, package=_campaign(demo), days=70, cache=cache)
    volume = _open(app, "Volume")
    days = [d for _label, d in app.span.options]
    first, last = days[10], days[20]

    def ms(day: dt.date, hours: int) -> float:
        moment = dt.datetime.combine(day, dt.time(hours), tzinfo=dt.UTC)
        return moment.timestamp() * 1000

    # from the middle of the day before `first` to the middle of `last`
    _select(volume, "days_brush", {"date": [ms(first - dt.timedelta(days=1), 12), ms(last, 12)]})
    assert app.span.value == (first, last)
    filters = app.current_filters()
    assert (filters.start, filters.end) == (first, last)
    # the timeline now counts only the span's downloads (days outside it are drawn as 0)
    spec = app.charts["Volume"].chart.to_dict()
    counted = {
        r["date"][:10]
        for rows in spec["datasets"].values()
        for r in rows
        if "downloads" in r and "date" in r and r["downloads"] > 0
    }
    assert counted and min(counted) >= str(first) and max(counted) <= str(last)
    # a brush beyond the range is clamped; clearing the filters clears the brush
    _select(volume, "days_brush", {"date": [ms(days[0], 0) - 9e9, ms(days[-1], 0) + 9e9]})
    assert app.span.value == (days[0], days[-1]) and app.current_filters().active is False
    _select(volume, "days_brush", {"date": [ms(first, 0), ms(last, 0)]})
    assert app.current_filters().active
    app.clear_filters()
    assert app.current_filters().active is False
    assert app.charts["Volume"].selections.days_brush.value == {}


def test_brush_bounds_as_days() -> None:
    day = dt.date(2026, 8, 3)
    midnight = dt.datetime(2026, 8, 3, tzinfo=dt.UTC).timestamp() * 1000
    assert _day(midnight, True) == day and _day(midnight, False) == day
    assert _day(midnight + 1, True) == day + dt.timedelta(days=1)
    assert _day(midnight + 1, False) == day
    assert _day("2026-08-03T00:00:00.000Z", True) == day
    assert _day("2026-08-03T05:00:00.000Z", True) == dt.date(2026, 8, 4)
