"""Deep links without a browser: a link's query parsed and checked, written back, and
opened by the apps (the start-here panel when it names no package)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.cache import Cache
from workbench.sources.demo import DemoSource
from workbench.views import page
from workbench.views.investigate import TABS, InvestigateApp
from workbench.views.request import ViewRequest, link, parse
from workbench.views.research import ResearchApp

from .conftest import SMALL


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Cache:
    return Cache(tmp_path_factory.mktemp("deeplink-cache"))


@pytest.fixture
def demo(small_demo_dir: Path) -> DemoSource:
    return DemoSource(SMALL, data_dir=small_demo_dir.parent)


def _campaign(demo: DemoSource) -> str:
    truth = demo.ground_truth()
    return str(truth.filter(pl.col("scenario") == "inflation_campaign")["project"][0])


# -- parsing -------------------------------------------------------------------------------
def test_a_full_link_is_parsed_into_typed_values() -> None:
    request = parse(
        "?package=Harbor_CLI&start=2026-08-01&end=2026-08-30&compare=nimbus&country=CN"
        "&installer=uv&python=3.12&system=Linux&version=1.0&ci=no&span=2026-08-03..2026-08-09"
        "&tab=geography",
        tabs=TABS,
    )
    assert request.errors == ()
    assert request.package == "harbor-cli"
    assert (request.start, request.end) == (dt.date(2026, 8, 1), dt.date(2026, 8, 30))
    assert request.compare == ("nimbus",)
    assert request.filters == {
        "country": "CN",
        "installer": "uv",
        "python": "3.12",
        "system": "Linux",
        "version": "1.0",
    }
    assert request.ci is False
    assert request.span == (dt.date(2026, 8, 3), dt.date(2026, 8, 9))
    assert request.tab == "Geography"
    drill = request.drill()
    assert drill.country == ("CN",) and drill.start == dt.date(2026, 8, 3)


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("package=har/bor", "not a valid package name"),
        ("package=-" + "a" * 150, "not a valid package name"),
        ("start=2026-13-01", "start date"),
        ("end=yesterday", "end date"),
        ("ci=maybe", "ci must be yes or no"),
        ("span=2026-08-01", "span must be FIRST..LAST"),
        ("span=2026-08-09..2026-08-01", "the drill-down span is reversed"),
        ("tab=Nowhere", "no tab 'Nowhere'"),
        ("colour=red", "unknown setting 'colour'"),
        ("country=" + "x" * 300, "300 characters long"),
        ("compare=ok,bad name", "not a valid package name"),
    ],
)
def test_a_bad_value_is_dropped_with_the_message_typed_input_gets(query: str, said: str) -> None:
    request = parse(query, tabs=TABS)
    assert len(request.errors) == 1 and said in request.errors[0], request.errors
    assert request.package is None and request.filters == {} and request.tab is None


def test_good_values_survive_a_bad_neighbour_and_server_keys_are_ignored() -> None:
    request = parse("package=nimbus&start=nope&country=DE&token=secret&template=lab", tabs=TABS)
    assert request.package == "nimbus" and request.filters == {"country": "DE"}
    assert len(request.errors) == 1 and "start date" in request.errors[0]
    assert "secret" not in " ".join(request.errors)


def test_an_overlong_link_is_refused_whole() -> None:
    request = parse("package=a&" + "x=1&" * 2000)
    assert request.package is None and "characters long" in request.errors[0]


def test_the_default_view_has_an_empty_link() -> None:
    assert link(ViewRequest()) == "" and parse("").empty and parse(None).empty


_names = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5})?", fullmatch=True)
_days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2026, 11, 1))
_text = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="\x7f"),
    min_size=1,
    max_size=20,
).filter(lambda t: t.strip() == t)


@given(
    package=st.none() | _names,
    start=st.none() | _days,
    end=st.none() | _days,
    compare=st.lists(_names, max_size=3, unique=True),
    filters=st.dictionaries(
        st.sampled_from(["version", "installer", "country", "python", "system"]), _text
    ),
    ci=st.none() | st.booleans(),
    span=st.none() | st.tuples(_days, _days).map(lambda d: (min(d), max(d))),
    tab=st.none() | st.sampled_from(TABS),
    only=st.none() | st.booleans(),
)
def test_parse_reads_back_what_link_writes(
    package: str | None,
    start: dt.date | None,
    end: dt.date | None,
    compare: list[str],
    filters: dict[str, str],
    ci: bool | None,
    span: tuple[dt.date, dt.date] | None,
    tab: str | None,
    only: bool | None,
) -> None:
    request = ViewRequest(
        package=package,
        start=start,
        end=end,
        compare=tuple(compare),
        filters=filters,
        ci=ci,
        span=span,
        tab=tab,
        only=only,
    )
    assert parse(link(request), tabs=TABS) == request


def test_how_the_kernel_learns_its_page_query() -> None:
    assert page.mode({"VOILA_PREHEAT": "True"}) == page.PREHEATED
    voila = {"QUERY_STRING": "package=x", "VOILA_REQUEST_URL": "http://h/voila/render/a"}
    assert page.mode(voila) == page.COLD and page.environ_query(voila) == "package=x"
    assert page.mode({}) == page.NOT_VOILA


def test_a_preheated_app_waits_for_the_page_before_loading_anything(
    demo: DemoSource, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    app = InvestigateApp(demo, days=70, cache=cache, page=True)
    assert app.inv is None and app.charts == {} and "Opening" in app.status.value
    assert app.address is not None
    app.address.search = f"?package={_campaign(demo)}&tab=Versions&installer=uv"
    assert app.inv is not None and app.inv.package == _campaign(demo)
    assert list(app.charts)[app.tabs.selected_index or 0] == "Versions"
    assert "installer = uv" in app.filter_bar.value
    # the address bar follows the view
    assert app.address.address is not None and "tab=Versions" in app.address.address
    app.address.search = "?package=nimbus"  # reported once: later reports change nothing
    assert app.inv.package == _campaign(demo)


# -- the apps --------------------------------------------------------------------------
def test_a_link_opens_the_package_range_filter_and_tab_and_the_link_follows_changes(
    demo: DemoSource, cache: Cache
) -> None:
    name = _campaign(demo)
    last = demo.default_range(70).end
    first = last - dt.timedelta(days=29)
    request = parse(f"package={name}&start={first}&end={last}&country=US&tab=Geography", tabs=TABS)
    app = InvestigateApp(demo, days=70, cache=cache, request=request)
    assert app.inv is not None and app.inv.package == name
    assert (app.inv.days.start, app.inv.days.end) == (first, last)
    assert app.filters["country"].value == "US" and "country = US" in app.filter_bar.value
    assert list(app.charts)[app.tabs.selected_index or 0] == "Geography"
    assert app.notice.value == ""
    shown = parse(link_of(app), tabs=TABS)
    assert shown == request  # the link reproduces exactly what is on screen
    app.filters["installer"].value = "pip"
    app.tabs.selected_index = list(app.charts).index("Installers")
    changed = parse(link_of(app), tabs=TABS)
    assert changed.filters == {"country": "US", "installer": "pip"}
    assert changed.tab == "Installers"


def link_of(app: InvestigateApp | ResearchApp) -> str:
    html = app.link.value
    start = html.index("href='") + len("href='")
    return html[start : html.index("'", start)].replace("&amp;", "&")


def test_bad_link_values_show_messages_and_the_rest_still_opens(
    demo: DemoSource, cache: Cache
) -> None:
    name = _campaign(demo)
    app = InvestigateApp(
        demo,
        days=70,
        cache=cache,
        request=parse(f"package={name}&ci=perhaps&tab=Map&country=ZZ", tabs=TABS),
    )
    assert app.inv is not None and app.inv.package == name
    assert app.notice.value.count("wb-error") == 2
    assert "ci must be yes or no" in app.notice.value and "no tab" in app.notice.value
    # a value the package does not have: the same message a typed filter gets
    assert "wb-no-match" in app.filter_bar.value


def test_a_link_to_an_unknown_package_says_so_as_typed_input_does(
    demo: DemoSource, cache: Cache
) -> None:
    typed = InvestigateApp(demo, package=_campaign(demo), days=70, cache=cache)
    typed.package.value = "no-such-package-here"
    linked = InvestigateApp(
        demo, days=70, cache=cache, request=parse("package=no-such-package-here")
    )
    assert "wb-error" in linked.status.value
    assert linked.status.value == typed.status.value


def test_no_package_opens_on_the_most_suspicious_packages(demo: DemoSource, cache: Cache) -> None:
    app = InvestigateApp(demo, days=70, cache=cache)
    assert app.inv is None and app.start_panel.container.layout.display is None
    rows = app.start_panel.rows.children
    assert 3 <= len(rows) <= 8
    names = [row.children[0].description for row in rows]  # type: ignore[attr-defined]
    planted = set(demo.ground_truth()["project"])  # the demo's cases (organic ones unlisted)
    assert names[0] in planted
    rows[0].children[0].click()  # type: ignore[attr-defined]
    assert app.inv is not None and app.inv.package == names[0]
    assert app.start_panel.container.layout.display == "none"
    assert f"package={names[0]}" in link_of(app)


def test_research_ranks_at_once_and_opens_a_link(demo: DemoSource, cache: Cache) -> None:
    app = ResearchApp(demo, days=70, cache=cache)
    assert "packages scanned" in app.status.value and "wb-ranking" in app.table.value
    names = list(app.pick.options)
    query = (
        f"package={names[1]}&compare={names[0]},{names[2]}&sort=name&installer=pip&tab=Installers"
    )
    linked = ResearchApp(demo, days=70, cache=cache, request=ResearchApp._parse(query))
    assert linked.sort.value == "name" and linked.compare.value == (names[0], names[2])
    inner = linked._investigate
    assert inner is not None and inner.inv is not None and inner.inv.package == names[1]
    assert inner.filters["installer"].value == "pip"
    assert list(inner.charts)[inner.tabs.selected_index or 0] == "Installers"
    reopened = ResearchApp._parse(link_of(linked))
    assert reopened.package == names[1] and reopened.sort == "name"
    assert reopened.compare == (names[0], names[2]) and reopened.tab == "Installers"


def test_a_preheated_research_app_ranks_before_the_page_and_shows_after(
    demo: DemoSource, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    app = ResearchApp(demo, days=70, cache=cache, page=True)
    warmed = app.analysis
    assert warmed is not None  # the likely scan is done before anyone asks
    assert app.table.value == "" and "Opening" in app.status.value  # and nothing shown yet
    assert app.address is not None
    app.address.search = "?sort=name"
    assert app.analysis is warmed and "wb-ranking" in app.table.value  # reused, shown
    assert app.sort.value == "name" and "sort=name" in (app.address.address or "")


def test_a_preheated_investigate_app_ranks_the_first_screen_before_the_page(
    demo: DemoSource, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    app = InvestigateApp(demo, days=70, cache=cache, page=True)
    assert app.start_panel._ranked is not None and app.start_panel.rows.children == ()
    assert app.address is not None
    app.address.search = ""
    assert len(app.start_panel.rows.children) >= 3 and app.start_panel._ranked is None


def test_a_bad_package_parameter_is_a_message_not_a_traceback(
    demo: DemoSource, cache: Cache
) -> None:
    app = InvestigateApp(demo, package="../etc/passwd", days=70, cache=cache)
    assert app.inv is None and "not a valid package name" in app.status.value
