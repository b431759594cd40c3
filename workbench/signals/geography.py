"""Geographic concentration, judged against packages of the same size, not a fixed threshold.

Concentration is the Herfindahl–Hirschman index of country shares (Σ share²: 1/N for N equal
countries, 1 for a single country), each day's weighted by its downloads over the last 28
days — measured the same way for the package and for its peers
(:func:`workbench.population.peers.window_stats`). The baseline is the distribution of the
same index among the population's packages of similar volume (same half-decade of downloads
a day); a package is unusual when its log-HHI is > 3 robust standard deviations above its
peers' median (> 1.5 when the concentration is also new and 1.5× the peers' median, or a
majority of the downloads and twice the peers' median).

* A concentration that **appeared** inside the range (the top country's share rose by 25
  points or more since the first two weeks) is what a campaign from one place looks like:
  high strength, inorganic.
* A **stable** concentration far above the peers is reported at medium strength, neither
  inorganic nor organic: a regional-language audience looks like this, and so does a
  campaign that has run since before the range. The finding says what to look at next.

Without a population the packages of the context itself are the peers when there are
enough of them (a scan); otherwise the signal says it has no baseline.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from workbench.population import peers as peer_stats
from workbench.query import DayRange
from workbench.signals.context import Context
from workbench.signals.findings import Finding, pct

MIN_DOWNLOADS = peer_stats.MIN_GEO_DOWNLOADS
MIN_PEERS = 8
Z_LIMIT = 3.0
#: Two independent pieces of evidence (unusual for its peers *and* new inside the range)
#: need less of each: a concentration that appeared (its top country up 25 points or more)
#: is reported from 1.5 robust SDs, provided it is also 1.5× the peers' median HHI.
SHIFT_Z_LIMIT = 1.5
SHIFT_RATIO = 1.5
SHIFT = 0.25
BEFORE_DAYS = 14
#: Most downloads from one country with twice the peers' concentration is unusual from
#: 1.5 robust SDs as well: a band's spread is wide where CI-heavy packages (runners in US
#: clouds) sit beside global ones, and a regional audience would hide behind it.
MAJORITY, MAJORITY_RATIO = 0.6, 2.0
#: A stable concentration far above the peers: worth an analyst's look, not a verdict.
STABLE_STRENGTH = 0.45


def _baseline(ctx: Context, mine: pl.DataFrame, volume_bin: int) -> tuple[float, float, int]:
    """(median, MAD, peers) of log-HHI for the bin: the population's, or the context's."""
    if ctx.peers is not None:
        found = ctx.peers.geography(volume_bin)
        if found is not None:
            return found
    peers = mine.filter(pl.col("clean") >= MIN_DOWNLOADS)
    if peers.height < MIN_PEERS:
        return float("nan"), float("nan"), peers.height
    values = peers["log_hhi"].to_numpy()
    med = float(np.median(values))
    return med, float(np.median(np.abs(values - med))), peers.height


def _share_in(ctx: Context, project: str, country: str, days: DayRange) -> float | None:
    """The share of ``country`` in ``days`` as features measure it (its downloads on the
    days it was the busiest country); None with too few downloads to say."""
    frame = ctx.features.filter(
        (pl.col("project") == project) & pl.col("date").is_between(days.start, days.end)
    )
    total = int(frame["downloads"].sum())
    if total < 30:
        return None
    top = frame.filter(pl.col("top_country") == country)["top_country_downloads"].sum()
    return int(top) / total


def geo_findings(ctx: Context) -> list[Finding]:
    recent = ctx.recent(28)
    mine = peer_stats.window_stats(ctx.features, recent)
    early = DayRange(ctx.days.start, ctx.days.start + dt.timedelta(days=BEFORE_DAYS - 1))
    out = []
    for row in mine.filter(pl.col("clean") >= MIN_DOWNLOADS).iter_rows(named=True):
        med, mad, n_peers = _baseline(ctx, mine, row["bin"])
        if n_peers < MIN_PEERS or not np.isfinite(med) or row["top_share"] is None:
            continue
        z = (row["log_hhi"] - med) / (1.4826 * mad + 1e-9)
        if row["top_share"] < 0.4 or z < SHIFT_Z_LIMIT:
            continue
        country = row["top_country"] or "(unknown)"
        before = (
            _share_in(ctx, row["project"], row["top_country"], early)
            if ctx.days.days >= 42 and row["top_country"] is not None
            else None
        )
        shifted = before is not None and row["top_share"] - before >= SHIFT
        ratio = row["hhi"] / float(np.exp(med))
        majority = row["top_share"] >= MAJORITY and ratio >= MAJORITY_RATIO
        if not (z >= Z_LIMIT or (shifted and ratio >= SHIFT_RATIO) or majority):
            continue
        peer_hhi = float(np.exp(med))
        baseline = ctx.baseline() if ctx.peers else f"{n_peers} packages of this scan"
        text = (
            f"{pct(row['top_share'])} of the last 28 days' downloads come from {country}; "
            f"country concentration (HHI {row['hhi']:.2f}) is {z:.1f} robust SDs above "
            f"packages of similar volume (their median HHI {peer_hhi:.2f}; baseline: "
            f"{baseline})."
        )
        if shifted:
            assert before is not None
            text += (
                f" The concentration is new: {country} had {pct(before)} at the start of the "
                "range. Traffic that moves to one country at once, without a release or a "
                "dependency to explain it, is typical of a campaign run from one place."
            )
            strength, inorganic = min(1.0, 0.5 + (row["top_share"] - before)), True
        else:
            text += (
                " It was already this concentrated at the start of the range: a regional "
                "audience (a package for one language or one country's infrastructure) "
                "looks like this, and so does a campaign that has run for longer than the "
                "range. To tell them apart, look at a longer range, at whether the "
                "package's docs and dependents point to that country, and at whether those "
                "downloads' installers, Python versions and clients look like the rest of "
                "the package's users (the composition signal)."
            )
            strength, inorganic = STABLE_STRENGTH, None
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
                f"Concentrated in {country}" if shifted else f"Long concentrated in {country}",
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
                    "baseline": baseline,
                },
                evidence,
            )
        )
    return out
