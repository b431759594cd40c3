"""The screen: every package of a population ranked by suspicion from its features alone.

The same evidence as the signals, vectorised over every package at once and measured on
the population's features (so 600 k packages × 30 days fit on a laptop): the largest surge
and how rare it is for the package's size, the busiest client's share of a day against
peers' days of that volume, concentration in one country (new, or long-standing),
implausible first weeks, and whether a surge's extra traffic looks like the package's
usual traffic (installer families, python, OS, CI, country, version, the client pool). The
contributions combine as the suspicion summary does (:mod:`workbench.signals.summary`).
The top of the ranking is then deep-dived with full rollups and every signal
(:func:`workbench.analysis.analyze`), one batched request for all of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from workbench import series
from workbench.demo import calibration as cal
from workbench.population import peers as peer_stats
from workbench.population.peers import Peers
from workbench.query import DayRange
from workbench.signals.summary import WEIGHTS

#: The feature groups a surge's extra traffic is compared on (shares of downloads).
MIX_GROUPS: dict[str, tuple[str, ...]] = {
    "installer": ("pip_downloads", "uv_downloads", "bot_downloads", "no_installer_downloads"),
    "os": ("desktop_downloads", "linux_downloads"),
    "python": ("no_python_downloads", "top_python_downloads"),
    "ci": ("ci_downloads",),
    "country": ("top_country_downloads",),
    "version": ("top_version_downloads",),
}
MIN_EXTRA = 60
MOVED = 0.25


@dataclass(frozen=True)
class Screen:
    """The ranked table of a screen and what it was computed from."""

    table: pl.DataFrame
    days: DayRange
    packages: int
    baseline: str
    peers: Peers | None = None


def _strength_expr(contributions: dict[str, pl.Expr]) -> pl.Expr:
    keep = pl.lit(1.0)
    for value in contributions.values():
        keep = keep * (1 - value.fill_null(0.0))
    return 1 - keep


def _volume(flags: pl.DataFrame, peers: Peers | None) -> pl.DataFrame:
    """Per project: its largest surge (ratio, excess, days) and its strength, scaled by how
    often peers of its size jump that far."""
    events = series.surges(flags)
    top = (
        events.sort("excess", descending=True)
        .group_by("project", maintain_order=True)
        .first()
        .select("project", "start", "end", "ratio", "excess", "base_per_day", "days")
    )
    strength = (0.35 + 0.45 * pl.col("ratio").clip(lower_bound=1.0).log10()).clip(upper_bound=1.0)
    strength = (
        pl.when(pl.col("excess") < 100).then(strength.clip(upper_bound=0.3)).otherwise(strength)
    )
    top = top.with_columns(surge=strength, bin=series.volume_bin(pl.col("base_per_day")))
    if peers is None:
        return top
    rates = peers.table.filter(pl.col("metric") == "surge_rate").select(
        bin="band", threshold="threshold", rate="value"
    )
    if rates.is_empty():
        return top
    joined = top.sort("bin", "ratio").join_asof(
        rates.sort("bin", "threshold"),
        left_on="ratio",
        right_on="threshold",
        by="bin",
        check_sortedness=False,  # sorted above within each bin
    )
    factor = ((0.10 - pl.col("rate").fill_null(0.0)) / 0.09).clip(0.0, 1.0)
    return joined.with_columns(
        surge=pl.when(pl.col("surge") > 0.3)
        .then(0.3 + (pl.col("surge") - 0.3) * factor)
        .otherwise(pl.col("surge"))
    ).drop("threshold", "rate")


def _none(column: str) -> pl.DataFrame:
    """No evidence of this kind for any package (keyed by the screen's integer ids)."""
    return pl.DataFrame(schema={"project": pl.UInt32, column: pl.Float64})


def _clients(features: pl.DataFrame, peers: Peers | None) -> pl.DataFrame:
    """Per project: days when one client made far more than peers' busiest client does."""
    if peers is None:
        return _none("client")
    limits = peers.client_medians()
    if limits.is_empty():
        return _none("client")
    days = peer_stats.day_stats(features).join(limits, on="band", how="left")
    limit = pl.max_horizontal(4 * pl.col("median"), pl.col("median") + 0.1)
    hits = days.filter((pl.col("share") > limit) & (pl.col("top_client_downloads") >= 10))
    per = hits.group_by("project").agg(
        hit_days=pl.len(),
        top=pl.col("top_client_downloads").sum(),
        total=pl.col("clean").sum(),
        limit=limit.mean(),
    )
    ratio = (pl.col("top") / pl.col("total") / pl.col("limit")).clip(lower_bound=1.0)
    return per.filter((pl.col("hit_days") >= 2) | (pl.col("top") >= 50)).select(
        "project", client=(0.45 + 0.25 * ratio.log(2)).clip(upper_bound=1.0)
    )


def _geography(features: pl.DataFrame, days: DayRange, peers: Peers | None) -> pl.DataFrame:
    """Per project: concentration in one country against peers of its size, new or not."""
    if peers is None:
        return _none("geo")
    recent = DayRange(max(days.start, days.end - dt.timedelta(days=27)), days.end)
    early = DayRange(days.start, min(days.end, days.start + dt.timedelta(days=13)))
    stats = peer_stats.window_stats(features, recent).filter(
        pl.col("clean") >= peer_stats.MIN_GEO_DOWNLOADS
    )
    base = peers.table.filter(pl.col("metric").is_in(["geo_median", "geo_mad"]))
    wide = base.pivot(on="metric", index="band", values="value").rename({"band": "bin"})
    pooled = wide.filter(pl.col("bin") == -1)
    if pooled.is_empty():
        return _none("geo")
    med0, mad0 = float(pooled["geo_median"][0]), float(pooled["geo_mad"][0])
    stats = stats.join(wide, on="bin", how="left").with_columns(
        pl.col("geo_median").fill_null(med0), pl.col("geo_mad").fill_null(mad0)
    )
    z = (pl.col("log_hhi") - pl.col("geo_median")) / (1.4826 * pl.col("geo_mad") + 1e-9)
    before = (
        features.filter(pl.col("date").is_between(early.start, early.end))
        .group_by("project")
        .agg(early_total=pl.col("downloads").sum())
    )
    early_top = (
        features.filter(pl.col("date").is_between(early.start, early.end))
        .group_by("project", "top_country")
        .agg(early_top=pl.col("top_country_downloads").sum())
    )
    stats = (
        stats.with_columns(z=z)
        .join(before, on="project", how="left")
        .join(early_top, on=["project", "top_country"], how="left")
        .with_columns(
            before=pl.when(pl.col("early_total") >= 30).then(
                pl.col("early_top").fill_null(0) / pl.col("early_total")
            )
        )
    )
    shifted = (pl.col("top_share") - pl.col("before") >= 0.25).fill_null(False) & (days.days >= 42)
    ratio = pl.col("hhi") / pl.col("geo_median").exp()
    unusual = (pl.col("top_share") >= 0.4) & (
        (pl.col("z") >= 3) | (shifted & (pl.col("z") >= 1.5) & (ratio >= 2))
    )
    appeared = (0.5 + pl.col("top_share") - pl.col("before")).clip(upper_bound=1.0)
    return stats.filter(unusual).select(
        "project",
        geo=pl.when(shifted).then(appeared).otherwise(None),
        geo_stable=pl.when(shifted).then(None).otherwise(pl.lit(0.45)),
    )


def _new_packages(
    features: pl.DataFrame, days: DayRange, first_releases: pl.DataFrame
) -> pl.DataFrame:
    """Per new project: its first week against the largest first week of real new packages."""
    clean = features.select(
        "project", "date", downloads=pl.col("downloads") - pl.col("mirror_downloads")
    )
    first = (
        clean.filter(pl.col("downloads") > 0).group_by("project").agg(first=pl.col("date").min())
    )
    uploads = first_releases.select("project", up=pl.col("first_upload").dt.date())
    first = first.join(uploads, on="project", how="left")
    new = first.filter(
        (pl.col("first") > days.start + dt.timedelta(days=2))
        | (pl.col("up") >= days.start).fill_null(False)
    )
    week = (
        clean.join(new.select("project", "first"), on="project")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("first") + dt.timedelta(days=6)))
        .group_by("project")
        .agg(week=pl.col("downloads").sum())
    )
    limit = cal.FIRST_WEEK_MAX
    return week.filter(pl.col("week") > limit).select(
        "project",
        new=(0.5 + 0.5 * (pl.col("week") / limit + 1).log10()).clip(upper_bound=1.0),
    )


def _composition(features: pl.DataFrame, flags: pl.DataFrame, volume: pl.DataFrame) -> pl.DataFrame:
    """Per project with a surge: how many feature groups its extra traffic moved on."""
    events = volume.select("project", "start", "end")
    if events.is_empty():
        return _none("mix")
    marked = flags.join(events, on="project").with_columns(
        when=pl.when(pl.col("surge") & pl.col("date").is_between(pl.col("start"), pl.col("end")))
        .then(pl.lit("surge"))
        .when(
            ~pl.col("surge")
            & (pl.col("date") < pl.col("start"))
            & (pl.col("date") >= pl.col("start") - dt.timedelta(days=28))
        )
        .then(pl.lit("usual"))
    )
    expected = (
        marked.filter(pl.col("when") == "surge")
        .group_by("project")
        .agg(expected=pl.col("expected").sum())
    )
    columns = sorted({c for cols in MIX_GROUPS.values() for c in cols})
    sums = (
        features.join(
            marked.select("project", "date", "when").drop_nulls("when"), on=["project", "date"]
        )
        .group_by("project", "when")
        .agg(
            pl.col("downloads").sum(),
            *(pl.col(c).sum() for c in columns),
            # downloads per distinct client: one client's downloads share its values, so
            # the mix is a sample of clients, not of downloads (1 without client detail)
            design=(
                pl.when(pl.col("clients").sum() > 0)
                .then(pl.col("downloads").sum() / pl.col("clients").sum())
                .otherwise(1.0)
                if "clients" in features.columns
                else pl.lit(1.0)
            ),
        )
    )
    surge = sums.filter(pl.col("when") == "surge").drop("when")
    usual = sums.filter(pl.col("when") == "usual").drop("when")
    joined = surge.join(usual, on="project", suffix="_u").join(expected, on="project")
    joined = joined.filter(
        (pl.col("downloads") - pl.col("expected") >= MIN_EXTRA) & (pl.col("downloads_u") >= 100)
    )
    extra = pl.col("downloads") - pl.col("expected")
    moved = []
    for name, cols in MIX_GROUPS.items():
        parts = []
        rest_usual = pl.lit(1.0)
        rest_extra = pl.lit(1.0)
        for c in cols:
            share_u = pl.col(f"{c}_u") / pl.col("downloads_u")
            share_x = ((pl.col(c) - pl.col("expected") * share_u) / extra).clip(0.0, 1.0)
            parts.append((share_x - share_u).abs())
            rest_usual = rest_usual - share_u
            rest_extra = rest_extra - share_x
        parts.append((rest_extra.clip(0.0, 1.0) - rest_usual.clip(0.0, 1.0)).abs())
        tvd = 0.5 * pl.sum_horizontal(parts)
        known = pl.all_horizontal(pl.col(c).is_not_null() for c in cols)
        design = pl.col("design_u").fill_null(1.0).clip(lower_bound=1.0)
        noise = (len(cols) + 1) ** 0.5 / (extra / design).sqrt()
        moved.append(pl.when(known & (tvd > MOVED + noise)).then(1).otherwise(0).alias(name))
    scored = joined.with_columns(moved).with_columns(moved=pl.sum_horizontal(list(MIX_GROUPS)))
    return scored.filter(pl.col("moved") >= 2).select(
        "project", mix=(0.45 + 0.1 * (pl.col("moved") - 2)).clip(upper_bound=1.0)
    )


def screen(
    features: pl.DataFrame,
    days: DayRange,
    *,
    peers: Peers | None = None,
    first_releases: pl.DataFrame | None = None,
    build_peers: bool = True,
    source: str = "the population",
    tier: str = "clients",
) -> Screen:
    """Rank every package of ``features`` (a population over ``days``) by suspicion; the
    peers are built from the same population when not given."""
    # Integer ids for the work (grouping and joining 18 M rows on names is the cost at
    # PyPI's scale); names come back at the end.
    names = features.select("project").unique().sort("project").with_row_index("id")
    features = features.join(names, on="project").drop("project").rename({"id": "project"})
    flags = peer_stats.surge_flags(features, days)
    if peers is None and build_peers:
        peers = peer_stats.build(features, days, source=source, tier=tier, flags=flags)
    totals = features.group_by("project").agg(
        downloads=pl.col("downloads").sum(),
        clean=(pl.col("downloads") - pl.col("mirror_downloads")).sum(),
    )
    volume = _volume(flags, peers)
    parts = [
        volume.select("project", "surge", "ratio", "start", "end"),
        _clients(features, peers),
        _geography(features, days, peers),
        _new_packages(features, days, _ids(first_releases, names)),
        _composition(features, flags, volume),
    ]
    table = totals
    for part in parts:
        table = table.join(part, on="project", how="left")
    weights = {
        "surge": WEIGHTS[("volume_change", True)],
        "client": WEIGHTS[("narrow_fingerprint", True)],
        "geo": WEIGHTS[("geography", True)],
        "geo_stable": WEIGHTS[("geography", None)],
        "new": WEIGHTS[("new_package_burst", True)],
        "mix": WEIGHTS[("traffic_composition", True)],
    }
    contributions = {k: pl.col(k) * w for k, w in weights.items()}
    labels = {
        "surge": "surge",
        "client": "one client dominates",
        "geo": "new concentration",
        "geo_stable": "long concentration",
        "new": "new-package burst",
        "mix": "unusual extra traffic",
    }
    fired = [pl.when(pl.col(k) >= 0.4).then(pl.lit(v)).otherwise(None) for k, v in labels.items()]
    ranked = (
        table.with_columns(score=_strength_expr(contributions))
        .with_columns(signals=pl.concat_str(fired, separator=", ", ignore_nulls=True))
        .join(names.rename({"id": "_id", "project": "name"}), left_on="project", right_on="_id")
        .drop("project")
        .rename({"name": "project"})
        .sort(["score", "downloads", "project"], descending=[True, True, False])
        .with_row_index("rank", offset=1)
    )
    baseline = peers.describe() if peers is not None else "no population baseline"
    return Screen(ranked, days, ranked.height, baseline, peers)


def _ids(first_releases: pl.DataFrame | None, names: pl.DataFrame) -> pl.DataFrame:
    """First uploads keyed by the screen's integer ids."""
    if first_releases is None:
        return pl.DataFrame(schema={"project": pl.UInt32, "first_upload": pl.Datetime("us", "UTC")})
    return first_releases.join(names, on="project").select(
        project="id", first_upload="first_upload"
    )


def level(score: float) -> str:
    """The suspicion level of a score, as the summary names it."""
    if score >= 0.7:
        return "high"
    if score >= 0.4:
        return "medium"
    if score >= 0.15:
        return "low"
    return "none"
