"""A finished case file for one package: one self-contained HTML file that opens offline.

Summary, findings in plain words, evidence charts (inline SVG: no script, no CDN, prints
well), caveats (mirrors, gameability) and data provenance (source, range, query cost, cache
times). Used by ``workbench report PACKAGE --out case.html`` and the report app.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

import altair as alt
import polars as pl

from workbench import __version__, charts
from workbench import breakdowns as b
from workbench.analysis import Analysis
from workbench.errors import InvalidInputError
from workbench.signals.findings import Finding
from workbench.signals.fingerprint import share_against_limit

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
    chart: alt.TopLevelMixin


def _esc(text: object) -> str:
    return html.escape(str(text))


def evidence(analysis: Analysis, project: str) -> list[Section]:
    """The charts of one package's case file, built from the analysis' own frames."""
    ctx = analysis.context
    mine = ctx.downloads.filter(pl.col("project") == project)
    clean = ctx.clean.filter(pl.col("project") == project)
    days = ctx.days
    daily = b.daily(clean, days)
    releases = ctx.releases.filter(pl.col("project") == project)
    findings = analysis.findings_of(project)
    sections = [
        Section(
            "Volume",
            charts.volume_timeline(
                daily,
                findings=findings,
                releases=releases,
                title=f"Downloads of {project} per day (mirrors excluded)",
            ),
        )
    ]
    summary = analysis.summary_of(project)
    if summary is not None and (summary.fired or summary.context):
        sections.insert(0, Section("Suspicion", charts.suspicion_chart(summary)))
    clients = share_against_limit(ctx, project)
    if clients.height:
        sections.append(Section("Clients", charts.client_share_timeline(clients)))

    def per(by: str) -> pl.DataFrame:
        return b.daily(mine, days, by=by).drop("project", "weekday", "weekend")

    sections.append(
        Section(
            "Installers", charts.stacked_share(per("installer"), "installer", title="Installers")
        )
    )
    latest = releases.sort("upload_time")["version"].to_list()[-1:] if releases.height else []
    sections.append(
        Section(
            "Versions",
            charts.stacked_share(
                b.daily(clean, days, by="version").drop("project", "weekday", "weekend"),
                "version",
                title="Versions (share of downloads)",
                top=7,
                normalize=True,
                highlight=latest[0] if latest else None,
            ),
        )
    )
    kinds = b.daily(mine.with_columns(b.client_kind()), days, by="client").drop(
        "project", "weekday", "weekend"
    )
    sections.append(
        Section("CI and people", charts.stacked_share(kinds, "client", title="Who downloads"))
    )
    country = clean.group_by("country").agg(pl.col("downloads").sum()).collect()
    if country.height:
        sections.append(
            Section(
                "Geography", alt.hconcat(charts.world_map(country), charts.country_bar(country))
            )
        )
    mix = clean.collect()
    sections.append(
        Section(
            "Python and OS",
            alt.hconcat(
                charts.share_bar(mix.select("python", "downloads"), "python", title="Python"),
                charts.share_bar(
                    mix.select("system", "downloads"), "system", title="Operating system"
                ),
            ),
        )
    )
    return sections


def _finding_html(f: Finding) -> str:
    explained = f"<p><b>Explained:</b> {_esc(f.explanation)}</p>" if f.explanation else ""
    return (
        f"<div class='finding'><span class='level {f.level}'>{f.level}</span> "
        f"<b>{_esc(f.title)}</b> <span class='sub'>{_esc(f.when())}</span>"
        f"<p>{_esc(f.text)}</p>{explained}</div>"
    )


def build(analysis: Analysis, project: str, *, now: dt.datetime | None = None) -> str:
    """The case file of ``project`` as one HTML document."""
    summary = analysis.summary_of(project)
    if summary is None or summary.downloads == 0:
        raise InvalidInputError(f"no downloads of {project!r} in {analysis.query.days}")
    now = now or dt.datetime.now(dt.UTC)
    findings = analysis.findings_of(project)
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
        "<h2>Evidence</h2>",
    ]
    for section in evidence(analysis, project):
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
