"""Traffic concentrated on one narrow client fingerprint: the mark of scripted installs.

For every project-day, the share of (non-mirror) downloads made by the single
busiest client fingerprint (installer + version, python, implementation, OS +
release, distro, CPU, country). Organic traffic spreads over many clients, and
the more downloads a day has, the smaller the busiest client's share. The
baseline is therefore per volume band: for peers' days with the same
⌊log₂ downloads⌋, the *median* of that share — robust even where campaign days
are a sizeable part of a high-volume band, which drags any upper percentile up.
Organic days stay within ~2.2× the median (their 99th percentile on the demo's
organic packages). A day is flagged when its share is more than 4× the band
median (and at least 10 points above it) with 10+ downloads from that one
client; flagged days close together form one event.
"""

from __future__ import annotations

import math

import polars as pl

from workbench import breakdowns as b
from workbench.schema import FINGERPRINT_FIELDS, FINGERPRINT_SEPARATOR
from workbench.signals.context import Context, mark_runs
from workbench.signals.findings import Finding, fmt_int, pct

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


def top_client_days(ctx: Context) -> pl.DataFrame:
    """Per project-day: clean downloads, the busiest non-mirror client, its count and share."""
    # Profiled on every investigation (the peers' million fingerprint rows): a prefix test
    # and a per-day max, not splitting every fingerprint and sorting them all.
    fingerprint = pl.col("fingerprint")
    mirror = pl.any_horizontal(
        fingerprint.str.starts_with(name + FINGERPRINT_SEPARATOR) for name in b.MIRROR_CLIENTS
    )
    busiest = pl.col("downloads") == pl.col("downloads").max()
    top = (
        ctx.fingerprints.filter(~mirror)
        .group_by("project", "date")
        .agg(
            top=pl.col("downloads").max(),
            client=fingerprint.filter(busiest).min(),  # ties: the first by text, as ranked
            clients=pl.col("fingerprints").first(),
        )
        .collect()
    )
    return (
        ctx.daily.join(top, on=["project", "date"], how="left")
        .with_columns(pl.col("top").fill_null(0))
        .filter(pl.col("downloads") > 0)
        .with_columns(
            share=pl.col("top") / pl.col("downloads"),
            band=pl.col("downloads").log(2).floor().cast(pl.Int32),
        )
    )


def band_limits(reference: pl.DataFrame) -> pl.DataFrame:
    """The 99th percentile of the busiest client's share per volume band, from peers' days."""
    bands = (
        reference.group_by("band")
        .agg(median=pl.col("share").median(), days=pl.len())
        .filter(pl.col("days") >= MIN_DAYS_PER_BAND)
        .sort("band")
    )
    if bands.is_empty():
        return bands
    # Bands with too few days borrow the next lower band's limit (limits fall with volume).
    full = pl.DataFrame(
        {"band": list(range(0, int(bands["band"].cast(pl.Int64).max() or 0) + 8))},  # type: ignore[arg-type]
        schema={"band": pl.Int32},
    )
    return (
        full.join(bands, on="band", how="left")
        .with_columns(pl.col("median").forward_fill())
        .drop_nulls("median")
    )


def _limit() -> pl.Expr:
    return pl.max_horizontal(FACTOR * pl.col("median"), pl.col("median") + 0.1)


def share_against_limit(ctx: Context, project: str) -> pl.DataFrame:
    """One package's days: the busiest client's share and the peer limit it is judged by
    (empty when there are no peer bands)."""
    limits = band_limits(ctx.reference().client_days)
    days = ctx.client_days.filter(pl.col("project") == project)
    if limits.is_empty():
        return days.clear()
    return days.join(limits.select("band", "median"), on="band", how="left").with_columns(
        limit=_limit()
    )


def fingerprint_findings(ctx: Context) -> list[Finding]:
    days = ctx.client_days
    reference = ctx.reference().client_days if ctx.peers else days
    limits = band_limits(reference)
    if limits.is_empty() or reference["project"].n_unique() < 10:
        days = days.with_columns(median=pl.lit(FALLBACK_LIMIT / FACTOR))
        peers_note = "no peer baseline was available, so a fixed limit of 50% applies"
    else:
        days = days.join(limits.select("band", "median"), on="band", how="left")
        peers_note = f"among {reference['project'].n_unique()} packages' days of similar volume"
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
            client=pl.col("client").mode().first(),
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
            .sort("downloads", descending=True)
            .head(5)
            .collect()
            .with_columns(client=pl.col("fingerprint").map_elements(describe, pl.String))
        )
        out.append(
            Finding(
                "narrow_fingerprint",
                ev["project"],
                "One client dominates",
                text,
                strength,
                True,
                ev["start"],
                ev["end"],
                {
                    "share": round(share, 3),
                    "limit": round(ev["limit"], 3),
                    "client_downloads": ev["top"],
                    "excess": round(excess),
                    "days": ev["days"],
                },
                evidence,
            )
        )
    return out
