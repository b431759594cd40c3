"""Pieces shared by the apps: error display, the findings panel, source and date defaults."""

from __future__ import annotations

import datetime as dt
import html
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w

from workbench.breakdowns import UNKNOWN
from workbench.errors import InvalidInputError, NotConfirmedError, WorkbenchError, redact
from workbench.query import DayRange
from workbench.signals.findings import Finding
from workbench.signals.summary import Summary
from workbench.sources.base import Source

LEVEL_COLOURS = {
    "high": "#D55E00",
    "medium": "#E69F00",
    "low": "#56B4E9",
    "info": "#9AA0A6",
    "none": "#9AA0A6",
}


def esc(text: object) -> str:
    return html.escape(str(text))


def badge(level: str) -> str:
    colour = LEVEL_COLOURS.get(level, "#9AA0A6")
    return (
        f"<span style='background:{colour};color:white;border-radius:1em;padding:0 .6em;"
        f"font-size:.85em;font-weight:600'>{esc(level)}</span>"
    )


def message(text: str, *, kind: str = "error") -> str:
    colour = {"error": "#B00020", "info": "#1A73E8", "ok": "#188038"}[kind]
    return f"<div style='color:{colour};padding:.3em 0' class='wb-{kind}'>{esc(text)}</div>"


def default_range(source: Source, days: int) -> tuple[dt.date, dt.date]:
    """The last ``days`` days of the source (never before its first day)."""
    held = source.default_range(days)
    return held.start, held.end


def picked_days(start: dt.date | None, end: dt.date | None) -> DayRange:
    """The range of two date pickers (either may have been cleared), checked."""
    if start is None or end is None:
        raise InvalidInputError("choose both a start and an end date")
    return DayRange.checked(start, end)


def findings_html(summary: Summary | None, findings: list[Finding]) -> str:
    """The findings panel: the summary first, then each fired finding in plain words."""
    if summary is None:
        return ""
    items = [f for f in findings if f.fired] or []
    mirror = [f for f in findings if f.signal == "mirror_blind_spot"]
    rows = []
    for f in items:
        explained = f"<div><b>Explained:</b> {esc(f.explanation)}</div>" if f.explanation else ""
        rows.append(
            f"<li style='margin:.4em 0'>{badge(f.level)} <b>{esc(f.title)}</b> "
            f"<span style='color:#5F6368'>{esc(f.when())}</span>"
            f"<div>{esc(f.text)}</div>{explained}</li>"
        )
    caveat = (
        f"<div style='color:#5F6368;font-size:.9em'>{esc(mirror[0].text)}</div>" if mirror else ""
    )
    return (
        f"<div class='wb-findings'><div style='font-size:1.1em'>{badge(summary.level)} "
        f"{esc(summary.text())}</div>"
        f"<ul style='padding-left:1.2em'>{''.join(rows)}</ul>{caveat}</div>"
    )


@contextmanager
def shown_errors(target: w.HTML, on_error: Callable[[], None] | None = None) -> Iterator[None]:
    """Run a callback body; any error becomes a visible message in ``target``, never a
    silent dead cell. Unexpected errors say so and keep their type for a bug report."""
    try:
        yield
    except NotConfirmedError as exc:
        target.value = message(redact(str(exc)), kind="info")
        if on_error:
            on_error()
    except WorkbenchError as exc:
        target.value = message(redact(str(exc)))
        if on_error:
            on_error()
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({last[0].name})" if last else ""
        target.value = message(
            f"Unexpected error {type(exc).__name__}{where}: {redact(str(exc))[:300]}"
        )
        if on_error:
            on_error()


def options(values: list[Any]) -> list[tuple[str, Any]]:
    """Drop-down choices: "(all)" (no filter), then each value; a missing value is offered
    as :data:`~workbench.breakdowns.UNKNOWN`, which keeps the downloads without it."""
    return [("(all)", None)] + [
        (str(v), v) if v is not None else (UNKNOWN, UNKNOWN) for v in values
    ]


def ranking_html(table: Any, css: str, extra: tuple[str, str] | None = None) -> str:
    """A ranked table (rank, package, suspicion, downloads, signals) and, with ``extra``
    (heading, column), one more text column."""
    more = f"<th>{extra[0]}</th>" if extra else ""
    head = (
        "<tr><th>#</th><th>package</th><th>suspicion</th><th>downloads</th>"
        f"<th>signals</th>{more}</tr>"
    )
    rows = "".join(
        f"<tr><td>{r['rank']}</td><td><b>{esc(r['project'])}</b></td>"
        f"<td>{badge(r['level'])} {r['score']:.2f}</td>"
        f"<td style='text-align:right'>{r['downloads']:,}</td>"
        f"<td style='color:#5F6368'>{esc(r['signals'] or '—')}</td>"
        + (f"<td style='color:#5F6368'>{esc(r[extra[1]] or '')}</td>" if extra else "")
        + "</tr>"
        for r in table.iter_rows(named=True)
    )
    style = "border-collapse:collapse;width:100%"
    return f"<table class='{css}' style='{style}'>{head}{rows}</table>"
