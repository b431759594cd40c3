"""Traffic concentrated on one narrow client fingerprint: the mark of scripted installs.

For every project-day, the share of (non-mirror) downloads made by the single
busiest client fingerprint (installer + version, python, implementation, OS +
release, distro, CPU, country). Organic traffic spreads over many clients, and
the more downloads a day has, the smaller the busiest client's share. The
baseline is therefore per volume band: for the population's days with the same
⌊log₂ downloads⌋, the *median* of that share — robust even where campaign days
are a sizeable part of a high-volume band, which drags any upper percentile up.
A day is flagged when its share is more than 4× the band median (and at least 10
points above it) with 10+ downloads from that one client; flagged days close
together form one event. Without a population a fixed limit applies, and the
finding says so.
"""

from __future__ import annotations

import math

import polars as pl

from workbench.dimensions import CLIENTS, MIRROR_CLIENTS
from workbench.schema import FINGERPRINT_FIELDS, FINGERPRINT_SEPARATOR
from workbench.series import mark_runs
from workbench.signals.context import Context
from workbench.signals.findings import Finding, fmt_int, pct
from workbench.signals.volume import copies_every_release

MIN_TOP = 10
FACTOR = 4.0
MIN_DAYS_PER_BAND = 40
#: Without peers (a lone package on BigQuery): a conservative fixed band.
FALLBACK_LIMIT = 0.5


def describe(fingerprint: str) -> str:
    """'pip 23.0.1 · CPython 3.10.12 · Ubuntu 22.04 (Linux 5.15…) · x86_64 · US'."""
    f = dict(zip(FINGERPRINT_FIELDS, fingerprint.split(FINGERPRINT_SEPARATOR), strict=False))
    parts = [
        f"{f.get('installer') or 'unknown client'} {f.get('installer_version', '')}".strip(),
        f"{f.get('implementation', '')} {f.get('python', '')}".strip(),
        f"{f.get('distro', '')} {f.get('distro_version', '')}".strip()
        + (
            f" ({f.get('system', '')} {f.get('system_release', '')})".rstrip()
            if f.get("system")
            else ""
        ),
        f.get("cpu", ""),
        f.get("country", ""),
    ]
    return " · ".join(p for p in parts if p and p != "()")


def _limit() -> pl.Expr:
    return pl.max_horizontal(FACTOR * pl.col("median"), pl.col("median") + 0.1)


def band_limits(ctx: Context) -> pl.DataFrame:
    """``band, median`` of the busiest client's share from the peers (empty without)."""
    if ctx.peers is None:
        return pl.DataFrame(schema={"band": pl.Int32, "median": pl.Float64})
    return ctx.peers.client_medians(MIN_DAYS_PER_BAND)


def share_against_limit(ctx: Context, project: str) -> pl.DataFrame:
    """One package's days: the busiest client's share and the peer limit it is judged by
    (empty when there are no peer bands)."""
    limits = band_limits(ctx)
    days = _client_days(ctx).filter(pl.col("project") == project)
    if limits.is_empty():
        return days.clear().with_columns(median=pl.lit(0.0), limit=pl.lit(0.0))
    return days.join(limits, on="band", how="left").with_columns(limit=_limit())


def _client_days(ctx: Context) -> pl.DataFrame:
    """The client days with the busiest client's fingerprint (from the fingerprint table)."""
    fingerprint = pl.col("fingerprint")
    mirror = pl.any_horizontal(
        fingerprint.str.starts_with(name + FINGERPRINT_SEPARATOR) for name in MIRROR_CLIENTS
    )
    busiest = pl.col("downloads") == pl.col("downloads").max()
    named = (
        ctx.fingerprints.filter(~mirror)
        .group_by("project", "date")
        .agg(client=fingerprint.filter(busiest).min())  # ties: the first by text, as ranked
        .collect()
    )
    return (
        ctx.client_days.join(named, on=["project", "date"], how="left")
        .with_columns(downloads=pl.col("clean"), top=pl.col("top_client_downloads"))
        .sort("project", "date")
    )


def fingerprint_findings(ctx: Context) -> list[Finding]:
    if CLIENTS in ctx.lacks:
        return [_unavailable(ctx, project) for project in ctx.projects]
    days = _client_days(ctx)
    limits = band_limits(ctx)
    if limits.is_empty():
        days = days.with_columns(median=pl.lit(FALLBACK_LIMIT / FACTOR))
        peers_note = "no population is held, so a fixed limit of 50% applies"
    else:
        days = days.join(limits, on="band", how="left")
        peers_note = f"among the days of similar volume of {ctx.baseline()}"
    flagged = (
        days.with_columns(limit=_limit())
        .with_columns(hit=(pl.col("share") > pl.col("limit")) & (pl.col("top") >= MIN_TOP))
        .sort("project", "date")
    )
    hit = pl.col("hit")
    flagged = mark_runs(flagged, "hit")
    events = (
        flagged.filter(pl.col("in_run"))
        .group_by("project", "run")
        .agg(
            start=pl.col("date").min(),
            end=pl.col("date").max(),
            days=hit.sum(),
            top=pl.col("top").sum(),
            total=pl.col("downloads").sum(),
            limit=pl.col("limit").mean(),
            median=pl.col("median").mean(),
            expected=(pl.col("median") * pl.col("downloads")).sum(),
            client=pl.col("client").mode().sort().first(),  # ties: the first by text
        )
        .filter((pl.col("days") >= 2) | (pl.col("top") >= 50))
        .sort("project", "start")
    )
    out = []
    for ev in events.iter_rows(named=True):
        share = ev["top"] / ev["total"]
        strength = min(1.0, 0.45 + 0.25 * math.log2(max(share / max(ev["limit"], 1e-6), 1.0)))
        excess = ev["top"] - ev["expected"]
        span = (
            f"on {ev['start']}"
            if ev["start"] == ev["end"]
            else f"from {ev['start']} to {ev['end']}"
        )
        text = (
            f"{span[0].upper()}{span[1:]}, one client fingerprint — {describe(ev['client'])} — "
            f"made {pct(share)} of downloads ({fmt_int(ev['top'])} of {fmt_int(ev['total'])}); "
            f"{peers_note}, the busiest client typically makes {pct(ev['median'])} of a day's "
            "downloads. Identical clients repeating an install is what a scripted `pip install` "
            "loop looks like."
        )
        evidence = (
            ctx.fingerprints.filter(
                (pl.col("project") == ev["project"])
                & pl.col("date").is_between(ev["start"], ev["end"])
            )
            .group_by("fingerprint")
            .agg(pl.col("downloads").sum(), days=pl.col("date").n_unique())
            .sort(["downloads", "fingerprint"], descending=[True, False])
            .head(5)
            .collect()
            .with_columns(client=pl.col("fingerprint").map_elements(describe, pl.String))
        )
        inorganic: bool | None = True
        title = "One client dominates"
        covered = copies_every_release(ctx, ev["project"], ev["start"], ev["end"])
        if covered is not None:
            text += (
                f" But those days' downloads cover {pct(covered)} of the released versions, "
                "spread evenly: one client copying the release history (a mirror or a sync "
                "script), not repeating an install."
            )
            strength, inorganic = min(strength, 0.3), False
            title = "One client copies every release"
        out.append(
            Finding(
                "narrow_fingerprint",
                ev["project"],
                title,
                text,
                strength,
                inorganic,
                ev["start"],
                ev["end"],
                {
                    "share": round(share, 3),
                    "limit": round(ev["limit"], 3),
                    "client_downloads": ev["top"],
                    "excess": round(excess),
                    "days": ev["days"],
                    "baseline": ctx.baseline(),
                },
                evidence,
            )
        )
    return out


def _unavailable(ctx: Context, project: str) -> Finding:
    return Finding(
        "narrow_fingerprint",
        project,
        "Client fingerprints not available",
        f"Not available on this source: {ctx.lacks[CLIENTS]}.",
        0.0,
        None,
    )
