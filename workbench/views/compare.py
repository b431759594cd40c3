"""The findings panel with a compared package: both packages' findings, side by side."""

from __future__ import annotations

from workbench.investigation import Investigation
from workbench.views.common import esc, findings_html


def findings_panel(inv: Investigation) -> str:
    """``inv``'s findings; with a compared package, its findings in a column beside them."""
    mine = findings_html(inv.summary, inv.findings)
    if inv.other is None:
        return mine
    theirs = findings_html(inv.other.summary, inv.other.findings)
    column = "flex:1;min-width:320px;padding:0 .8em;border-left:3px solid {}"
    return (
        "<div class='wb-compare-findings' style='display:flex;gap:1em;flex-wrap:wrap'>"
        f"<div style='{column.format('#0072B2')}'><h4 style='margin:.2em 0'>{esc(inv.package)}"
        f"</h4>{mine}</div>"
        f"<div style='{column.format('#E69F00')}' class='wb-compared'><h4 style='margin:.2em 0'>"
        f"{esc(inv.other.package)}</h4>{theirs}</div></div>"
    )
