"""The page an app is shown in: its address in, the link to the current view out.

Voilà gives a kernel its page's query string in the ``QUERY_STRING`` variable when it
starts one for the page. A *preheated* kernel (``workbench serve``'s default) ran its
notebook before any page asked, so it has none: the query reaches it from the page itself,
through :class:`PageAddress`, a widget with no view that reports ``location.search`` when it
is drawn. The app waits for it before loading anything, so a deep link never shows the
default package first. (Voilà's own ``wait_for_request`` asks the server over a websocket
without the token, which a team server refuses; the widget needs nothing from the server.)

The widget also keeps the address bar on the current view (``history.replaceState``), so a
copied address reproduces what is on screen — only in Voilà, never in JupyterLab.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import anywidget
import traitlets

#: How the page hands the query to the kernel.
COLD, PREHEATED, NOT_VOILA = "cold", "preheated", "not voila"

_ESM = """
function render({ model, el }) {
  el.style.display = "none";
  model.set("search", window.location.search || "");
  model.save_changes();
  const follow = () => {
    const to = model.get("address");
    if (to === null || to === undefined) return;
    const target = to || window.location.pathname;
    if (target !== window.location.search) window.history.replaceState(null, "", target);
  };
  model.on("change:address", follow);
  follow();
}
export default { render };
"""


class PageAddress(anywidget.AnyWidget):
    """The page's query string (``search``, set by the page) and the address to show
    (``address``, a relative URL set by the app; ``None``: leave the address bar alone)."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    search = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    address = traitlets.Unicode(None, allow_none=True).tag(sync=True)


def mode(environ: Mapping[str, str] | None = None) -> str:
    """How this kernel learns its page's query: from the environment (:data:`COLD`), from
    the page once drawn (:data:`PREHEATED`), or not at all (:data:`NOT_VOILA`: JupyterLab,
    tests)."""
    env = os.environ if environ is None else environ
    if env.get("VOILA_PREHEAT") == "True":
        return PREHEATED
    if "QUERY_STRING" in env and "VOILA_REQUEST_URL" in env:
        return COLD
    return NOT_VOILA


def environ_query(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("QUERY_STRING", "")


def when_reported(address: PageAddress, callback: Callable[[str], None]) -> None:
    """Call ``callback(search)`` once, when the page reports its query string."""

    def once(change: dict[str, Any]) -> None:
        if change["new"] is None:
            return
        address.unobserve(once, names="search")
        callback(change["new"])

    address.observe(once, names="search")
    if address.search is not None:
        once({"new": address.search})
