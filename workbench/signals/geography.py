"""Geographic concentration, judged against comparable packages, not a fixed threshold.

Concentration is the Herfindahl–Hirschman index of country shares (Σ share²:
1/N for N equal countries, 1 for a single country) over the last 28 days,
mirrors excluded. The baseline is the distribution of the same index among
peers of similar volume (same half-decade of downloads a day); a package is
unusual when its log-HHI is > 3 robust standard deviations above its peers'
median (> 1.5 when the concentration is also new and twice the peers' median).
A concentration that *appeared* inside the range (the top country's share rose
by 25 points or more since the first two weeks) is what a campaign from one
place looks like; a stable one is more often a regional audience.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from workbench.query import DayRange
from workbench.signals.context import Context, volume_bin
from workbench.signals.findings import Finding, pct

MIN_DOWNLOADS = 100
MIN_PEERS = 8
#: A volume band needs this many peers for its own baseline; otherwise all peers are pooled
#: (concentration hardly depends on volume once a package has 100+ downloads).
MIN_BAND_PEERS = 20
Z_LIMIT = 3.0
#: Two independent pieces of evidence (unusual for its peers *and* new inside the range)
#: need less of each: a concentration that appeared is reported from 1.5 robust SDs,
#: provided it is also at least twice as concentrated as the peers' median.
SHIFT_Z_LIMIT = 1.5
SHIFT_RATIO = 2.0
SHIFT = 0.25
BEFORE_DAYS = 14


def _concentration(ctx: Context, days: DayRange) -> pl.DataFrame:
    per = (
        ctx.clean.filter(pl.col("date").is_between(days.start, days.end))
        .group_by("project", "country")
        .agg(pl.col("downloads").sum())
        .collect()
        .with_columns(share=pl.col("downloads") / pl.col("downloads").sum().over("project"))
    )
    return (
        per.sort("share", descending=True)
        .group_by("project", maintain_order=True)
        .agg(
            hhi=(pl.col("share") ** 2).sum(),
            top_country=pl.col("country").first(),
            top_share=pl.col("share").first(),
            n=pl.col("downloads").sum(),
        )
        .with_columns(per_day=pl.col("n") / days.days)
        .with_columns(bin=volume_bin(pl.col("per_day")), log_hhi=pl.col("hhi").log())
    )


def _early(days: DayRange) -> DayRange:
    span = min(28, max(days.days // 3, 7))
    return DayRange(days.start, days.start + dt.timedelta(days=span - 1))


def geo_findings(ctx: Context) -> list[Finding]:
    recent = ctx.recent(28)
    mine = _concentration(ctx, recent)
    ref = _concentration(ctx.reference(), recent) if ctx.peers else mine
    peers = ref.filter(pl.col("n") >= MIN_DOWNLOADS)
    stats = peers.group_by("bin").agg(
        med=pl.col("log_hhi").median(),
        mad=(pl.col("log_hhi") - pl.col("log_hhi").median()).abs().median(),
        peers=pl.len(),
    )
    overall = peers.select(
        med=pl.col("log_hhi").median(),
        mad=(pl.col("log_hhi") - pl.col("log_hhi").median()).abs().median(),
        peers=pl.len(),
    )
    early = _concentration(ctx, _early(ctx.days)) if ctx.days.days >= 42 else None
    out = []
    for row in mine.filter(pl.col("n") >= MIN_DOWNLOADS).iter_rows(named=True):
        b = stats.filter(pl.col("bin") == row["bin"])
        base = b if not b.is_empty() and b["peers"][0] >= MIN_BAND_PEERS else overall
        if base.is_empty() or base["peers"][0] < MIN_PEERS:
            continue
        med, mad, n_peers = base["med"][0], base["mad"][0], base["peers"][0]
        z = (row["log_hhi"] - med) / (1.4826 * mad + 1e-9)
        if row["top_share"] < 0.4 or z < SHIFT_Z_LIMIT:
            continue
        before = _share_before(ctx, early, row["project"], row["top_country"])
        shifted = before is not None and row["top_share"] - before >= SHIFT
        ratio = row["hhi"] / float(np.exp(med))
        if not (z >= Z_LIMIT or (shifted and ratio >= SHIFT_RATIO)):
            continue
        peer_hhi = float(np.exp(med))
        text = (
            f"{pct(row['top_share'])} of the last 28 days' downloads come from "
            f"{row['top_country']}; country concentration (HHI {row['hhi']:.2f}) is {z:.1f} robust "
            f"SDs above {n_peers} packages of similar volume (their median HHI {peer_hhi:.2f})."
        )
        if shifted:
            assert before is not None
            text += (
                f" The concentration is new: {row['top_country']} had {pct(before)} at the "
                "start of the range. Traffic that moves to one country at once, without a "
                "release or a dependency to explain it, is typical of a campaign run from one "
                "place."
            )
            strength, inorganic = min(1.0, 0.5 + (row["top_share"] - before)), True
        else:
            text += (
                " It was already concentrated at the start of the range: more likely a "
                "regional audience."
            )
            strength, inorganic = 0.2, None
        evidence = (
            ctx.clean.filter(
                (pl.col("project") == row["project"])
                & pl.col("date").is_between(recent.start, recent.end)
            )
            .group_by("country")
            .agg(pl.col("downloads").sum())
            .sort("downloads", descending=True)
            .with_columns(share=pl.col("downloads") / pl.col("downloads").sum())
            .head(10)
            .collect()
        )
        out.append(
            Finding(
                "geography",
                row["project"],
                f"Concentrated in {row['top_country']}",
                text,
                strength,
                inorganic,
                recent.start,
                recent.end,
                {
                    "hhi": round(row["hhi"], 3),
                    "z": round(z, 2),
                    "top_country": row["top_country"],
                    "top_share": round(row["top_share"], 3),
                    "share_before": before,
                    "peers": n_peers,
                },
                evidence,
            )
        )
    return out


def _share_before(
    ctx: Context, early: pl.DataFrame | None, project: str, country: str
) -> float | None:
    """The country's share in the first two weeks of the range (``None`` if too few downloads)."""
    if early is None:
        return None
    first = ctx.days.start
    frame = ctx.clean.filter(
        (pl.col("project") == project) & (pl.col("date") < first + dt.timedelta(days=BEFORE_DAYS))
    )
    sums = frame.select(
        total=pl.col("downloads").sum(),
        top=pl.col("downloads").filter(pl.col("country") == country).sum(),
    ).collect()
    total = int(sums["total"][0] or 0)
    return int(sums["top"][0] or 0) / total if total >= 30 else None
