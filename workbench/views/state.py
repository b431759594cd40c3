"""An Investigate app's view as a :class:`~workbench.views.request.ViewRequest`: opening
one (from a link, or the page's address), and the link to what is on screen.

Kept apart from the app's class: the app knows widgets, this module knows which widget
holds which part of a link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.views import page
from workbench.views.common import esc, message
from workbench.views.request import ViewRequest, link, merged, parse

if TYPE_CHECKING:
    from workbench.views.investigate import InvestigateApp


def open_view(app: InvestigateApp, request: ViewRequest) -> None:
    """Open ``request`` in ``app`` — at once, or (a preheated kernel in Voilà) once the page
    has said what its address asks for: nothing is loaded before, so a deep link never
    shows another package first."""
    how = page.mode() if app.address is not None else page.NOT_VOILA
    if how == page.PREHEATED and app.address is not None:
        if request.package is None:
            app.start_panel.warm(app.source, app.start.value, app.end.value, app.cache)
        app.status.value = message("Opening the view…", kind="info")
        tabs = tuple(app.tab_names)
        page.when_reported(
            app.address, lambda query: _open(app, merged(request, parse(query, tabs=tabs)))
        )
        return
    if how == page.COLD:
        request = merged(request, parse(page.environ_query(), tabs=tuple(app.tab_names)))
    _open(app, request)


def _open(app: InvestigateApp, request: ViewRequest) -> None:
    app.notice.value = "".join(message(e) for e in request.errors)
    if request.package is None:
        app.start_here()
        show_link(app)
        return
    app._applying = True
    try:
        app.package.value = request.package
        if request.start is not None:
            app.start.value = request.start
        if request.end is not None:
            app.end.value = request.end
        app.compare.value = request.compare[0] if request.compare else ""
    finally:
        app._applying = False
    app._pending = request
    app.load()
    if request.tab in app.charts:
        app.tabs.selected_index = list(app.charts).index(request.tab)
    show_link(app)


def apply_drill(app: InvestigateApp, request: ViewRequest) -> None:
    """Set the filter bar to the link's drill-down (no redraw: the caller draws). A value the
    package does not have is offered anyway: the charts then say that nothing matches, as
    they do for a typed filter."""
    app._building = True
    try:
        for dim, value in request.filters.items():
            dropdown = app.filters[dim]
            if value not in [v for _label, v in dropdown.options]:
                dropdown.options = [*dropdown.options, (value, value)]
            dropdown.value = value
        app.ci.value = request.ci
        if request.span is not None:
            days = [day for _label, day in app.span.options]
            first, last = request.span
            if first in days and last in days and first <= last:
                app.span.index = (days.index(first), days.index(last))
            else:
                app.notice.value += message(
                    f"in the link: the span {first}..{last} is not inside "
                    f"{days[0]}..{days[-1]}; all days are shown"
                )
    finally:
        app._building = False


def current(app: InvestigateApp) -> ViewRequest:
    """What the app shows, as a request (its :func:`link` reopens the same view)."""
    inv = app.inv
    if inv is None:
        return ViewRequest()
    drill = app.current_filters()
    tabs = list(app.charts)
    index = app.tabs.selected_index or 0
    return ViewRequest(
        package=inv.package,
        start=inv.days.start,
        end=inv.days.end,
        compare=(inv.other.package,) if inv.other is not None else (),
        filters={dim: str(d.value) for dim, d in app.filters.items() if d.value is not None},
        ci=app.ci.value,
        span=(
            (drill.start or inv.days.start, drill.end or inv.days.end)
            if drill.start or drill.end
            else None
        ),
        tab=tabs[index] if 0 < index < len(tabs) else None,
    )


def show_link(app: InvestigateApp) -> None:
    """Refresh the "link to this view" (and, in Voilà, the address bar)."""
    query = link(current(app))
    shown = esc(query) if query else "(the first screen)"
    app.link.value = (
        "<div class='wb-link' style='color:#5F6368;padding:.3em 0'>Link to this view: "
        f"<a href='{esc(query or '?')}'>{shown}</a></div>"
    )
    if app.address is not None and page.mode() != page.NOT_VOILA:
        app.address.address = query
    if app.view_changed is not None:
        app.view_changed()
