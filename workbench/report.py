"""A finished case file for one package: one self-contained HTML file that opens offline.

Summary, findings in plain words, evidence charts (inline SVG: no script, no CDN, prints
well), caveats (mirrors, gameability) and data provenance (source, range, query cost, cache
times). Used by ``workbench report PACKAGE --out case.html`` and the report app.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from workbench import __version__, charts
from workbench.investigation import Chart, Investigation
from workbench.notes import Note
from workbench.signals.findings import Finding

CAVEATS = (
    "Every count is a lower bound: installs served by mirrors and caching proxies (bandersnatch, "
    "devpi, Artifactory, Nexus, company proxies) never reach PyPI's logs.",
    "Client details (installer, Python, OS, CI flag) are reported by the client itself and can be "
    "spoofed; the CI flag is set by pip from environment variables and is a lower bound.",
    "There is no IP address or user id in the logs: downloads are not users, and one CI pipeline "
    "can outweigh thousands of people.",
    "Download counts are easy to inflate and are a weak signal of a package's health or trust.",
)

_CSS = """
body{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;max-width:980px;margin:2em auto;
color:#202124;line-height:1.45;padding:0 1em}
h1{margin-bottom:0}h2{margin-top:2em;border-bottom:1px solid #E8EAED;padding-bottom:.2em}
.sub{color:#5F6368}.level{display:inline-block;padding:.1em .6em;border-radius:1em;color:white;
font-weight:600;font-size:.85em}.high{background:#D55E00}.medium{background:#E69F00}
.low{background:#56B4E9}.info,.none{background:#9AA0A6}
.finding{border-left:4px solid #E8EAED;padding:.3em 1em;margin:1em 0}.finding p{margin:.3em 0}
.chart{margin:1.2em 0}.chart svg{max-width:100%;height:auto}
table{border-collapse:collapse}
td,th{padding:.2em .8em;border-bottom:1px solid #E8EAED;text-align:left}
footer{margin-top:3em;color:#5F6368;font-size:.85em}
"""


@dataclass(frozen=True)
class Section:
    title: str
    chart: Chart


def _esc(text: object) -> str:
    return html.escape(str(text))


#: The case file's evidence: (section title, the investigation's chart).
SECTIONS = (
    ("Suspicion", "suspicion"),
    ("Volume", "volume"),
    ("Clients", "clients"),
    ("Installers", "installers"),
    ("Versions", "versions"),
    ("CI and people", "ci"),
    ("Geography", "geography"),
    ("Python and OS", "python_os"),
)


def evidence(inv: Investigation) -> list[Section]:
    """The charts of one package's case file: the investigation's own charts."""
    summary = inv.summary
    sections = []
    for title, name in SECTIONS:
        if name == "suspicion" and not (summary.fired or summary.context):
            continue
        if name == "clients" and inv.frame("busiest_client").is_empty():
            continue
        if name == "geography" and inv.frame("countries").is_empty():
            continue
        sections.append(Section(title, inv.chart(name)))
    return sections


def _finding_html(f: Finding) -> str:
    explained = f"<p><b>Explained:</b> {_esc(f.explanation)}</p>" if f.explanation else ""
    return (
        f"<div class='finding'><span class='level {f.level}'>{f.level}</span> "
        f"<b>{_esc(f.title)}</b> <span class='sub'>{_esc(f.when())}</span>"
        f"<p>{_esc(f.text)}</p>{explained}</div>"
    )


def notes_html(dated: Sequence[Note], text: str = "") -> str:
    """The analyst's notes as HTML (every character of theirs escaped)."""
    items = "".join(f"<li><b>{_esc(n.when())}</b> — {_esc(n.text)}</li>" for n in dated)
    free = f"<p>{_esc(text)}</p>" if text else ""
    return (f"<ul class='notes'>{items}</ul>" if items else "") + free


def build(inv: Investigation, *, now: dt.datetime | None = None, notes: str = "") -> str:
    """The case file of the investigated package as one HTML document: the investigation's
    dated notes (and ``notes``, free text), HTML-escaped, are printed after the findings."""
    analysis, project, summary = inv.analysis, inv.package, inv.summary
    now = now or dt.datetime.now(dt.UTC)
    findings = inv.findings
    shown = [f for f in findings if f.fired] + [
        f
        for f in findings
        if not f.fired and f.signal != "mirror_blind_spot" and f.strength >= 0.15
    ]
    mirror = [f for f in findings if f.signal == "mirror_blind_spot"]
    prov = analysis.provenance
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Case file: {_esc(project)}</title>"
        f"<meta name='generator' content='workbench {__version__}'>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_esc(project)}</h1><p class='sub'>PyPI download investigation, "
        f"{_esc(analysis.query.days)} — {summary.downloads:,} downloads (a lower bound)</p>",
        f"<h2>Summary</h2><p><span class='level {summary.level}'>{_esc(summary.level)}</span> "
        f"{_esc(summary.text())}</p>",
        "<h2>Findings</h2>"
        + ("".join(_finding_html(f) for f in shown) or "<p>No signal fired.</p>"),
    ]
    if inv.notes or notes:
        parts.append(f"<h2>Analyst's notes</h2>{notes_html(inv.notes, notes)}")
    parts.append("<h2>Evidence</h2>")
    for section in evidence(inv):
        parts.append(
            f"<div class='chart' role='img' aria-label='{_esc(section.title)}'>"
            f"<h3>{_esc(section.title)}</h3>{charts.svg(section.chart)}</div>"
        )
    parts.append(
        "<h2>Caveats</h2><ul>"
        + "".join(f"<li>{_esc(c)}</li>" for c in CAVEATS)
        + "".join(f"<li>{_esc(f.text)}</li>" for f in mirror)
        + "</ul>"
    )
    rows = [
        ("Source", prov.source),
        ("Range", str(analysis.query.days)),
        ("Peers", inv.baseline),
        ("Bytes queried", f"{prov.bytes_processed:,}"),
        ("Estimated query cost", str(prov.estimate) if prov.estimate else "none (local data)"),
        (
            "Rollups",
            "; ".join(
                f"{p.kind} {p.days} {'from cache' if p.from_cache else 'fetched'} "
                f"{p.created:%Y-%m-%d %H:%M} UTC"
                for p in prov.parts
            ),
        ),
        ("Report generated", f"{now:%Y-%m-%d %H:%M} UTC by workbench {__version__}"),
    ]
    parts.append(
        "<h2>Data provenance</h2><table>"
        + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
        + "</table>"
    )
    parts.append(
        "<footer>Signals and their limits are documented in the workbench README. "
        "This file is self-contained: it loads nothing from the network.</footer></body></html>"
    )
    return "".join(parts)
