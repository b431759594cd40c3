"""Brand-new packages with an implausible first week.

Real baseline (622 packages first released in one week of April 2023, pip
downloads counted from each package's release day, see
``workbench.demo.calibration``): median 32 downloads in the first 7 days, 90th
percentile 127, 99th 874, maximum 7,972 (``FIRST_WEEK_MAX``). A new package passing
that maximum in its first week is beyond everything in that sample.

A campaign can stay under that limit by ramping up slowly (a typosquat fed a few dozen
downloads a day, then more). Real new packages mostly decay after their launch week; in the
same sample 5 % had more than 271 downloads in weeks 3–4 (days 14–27 after the first
release), and about 3 % had both that and weeks 3–4 at least as busy as week 1. That alone
is noise at the 2 % target, so a *ramp* (weeks 3–4 above the limit and busier than week 1)
is reported at low strength, and is inorganic only with the client evidence no organic
launch shows: a pool of distinct clients per 1,000 downloads far narrower than peers' days
of the same volume. A name one typo away from a much more popular package of the context
is said, and adds to the strength.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from workbench.demo import calibration as cal
from workbench.signals.context import Context
from workbench.signals.findings import Finding, fmt_int, pct

#: Beyond the largest first week in the real sample.
FIRST_WEEK_LIMIT = cal.FIRST_WEEK_MAX
#: p95 of the real new packages' downloads in weeks 3–4 after the first release.
WEEKS_3_4_LIMIT = 271
#: A pool of distinct clients this narrow against peers' days of the same volume.
NARROW_POOL = 0.6


def new_package_findings(ctx: Context) -> list[Finding]:
    d = ctx.daily
    first = d.filter(pl.col("downloads") > 0).group_by("project").agg(first=pl.col("date").min())
    uploads = pl.concat(
        [
            ctx.releases.select("project", "upload_time"),
            ctx.first_releases.select("project", upload_time="first_upload"),
        ]
    )
    uploaded = uploads.group_by("project").agg(first_upload=pl.col("upload_time").min().dt.date())
    first = first.join(uploaded, on="project", how="left")
    # new = first seen after the range began (or first uploaded inside it)
    new = first.filter(
        (pl.col("first") > ctx.days.start + dt.timedelta(days=2))
        | (pl.col("first_upload") >= ctx.days.start).fill_null(False)
    )
    week = (
        d.join(new, on="project")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("first") + dt.timedelta(days=6)))
        .group_by("project", "first")
        .agg(week=pl.col("downloads").sum(), days=pl.len())
    )
    out = _ramps(ctx, new)
    for r in week.filter(pl.col("week") > FIRST_WEEK_LIMIT).iter_rows(named=True):
        top_share = _top_client_share(ctx, r["project"], r["first"])
        times = r["week"] / cal.FIRST_WEEK_MEDIAN
        strength = min(1.0, 0.5 + 0.25 * math.log10(r["week"] / FIRST_WEEK_LIMIT + 1) * 2)
        text = (
            f"First seen on {r['first']}, it had {fmt_int(r['week'])} downloads in its first 7 "
            f"days: {times:.0f}× the median new package ({cal.FIRST_WEEK_MEDIAN:.0f}) and above "
            f"the largest of 622 real new packages ({fmt_int(FIRST_WEEK_LIMIT)})."
        )
        if top_share is not None:
            text += f" The busiest single client accounts for {pct(top_share)} of that week."
        evidence = (
            d.filter((pl.col("project") == r["project"]) & (pl.col("date") >= r["first"]))
            .head(21)
            .select("date", "downloads")
        )
        out.append(
            Finding(
                "new_package_burst",
                r["project"],
                f"New package, {fmt_int(r['week'])} in week one",
                text,
                strength,
                True,
                r["first"],
                r["first"] + dt.timedelta(days=6),
                {
                    "first_week": r["week"],
                    "times_median": round(times, 1),
                    "top_client_share": top_share,
                },
                evidence,
            )
        )
    return out


def _top_client_share(ctx: Context, project: str, first: dt.date) -> float | None:
    end = first + dt.timedelta(days=6)
    fp = ctx.fingerprints.filter(
        (pl.col("project") == project) & pl.col("date").is_between(first, end)
    )
    per = fp.group_by("fingerprint").agg(pl.col("downloads").sum()).collect()
    total = ctx.daily_all.filter(
        (pl.col("project") == project) & pl.col("date").is_between(first, end)
    )
    n = int(total["downloads"].sum())
    return float(per["downloads"].max()) / n if n and per.height else None  # type: ignore[arg-type]


def _ramps(ctx: Context, new: pl.DataFrame) -> list[Finding]:
    """New packages whose weeks 3–4 are beyond real new packages' and busier than week 1."""
    weeks = (
        ctx.daily.join(new.select("project", "first"), on="project")
        .with_columns(k=(pl.col("date") - pl.col("first")).dt.total_days())
        .group_by("project", "first")
        .agg(
            week1=pl.col("downloads").filter(pl.col("k").is_between(0, 6)).sum(),
            weeks34=pl.col("downloads").filter(pl.col("k").is_between(14, 27)).sum(),
            seen=pl.col("k").max(),
        )
        .filter(
            (pl.col("seen") >= 27)
            & (pl.col("weeks34") > WEEKS_3_4_LIMIT)
            & (pl.col("weeks34") / 2 >= pl.col("week1"))
            & (pl.col("week1") <= FIRST_WEEK_LIMIT)
        )
    )
    out = []
    for r in weeks.iter_rows(named=True):
        lo, hi = r["first"] + dt.timedelta(days=14), r["first"] + dt.timedelta(days=27)
        pool = _pool(ctx, r["project"], lo, hi)
        twin = typo_twin(r["project"], ctx)
        narrow = pool is not None and pool < NARROW_POOL
        text = (
            f"First seen on {r['first']}, it had {fmt_int(r['week1'])} downloads in its first "
            f"week and {fmt_int(r['weeks34'])} in weeks 3–4: it grew where real new packages "
            f"decay (5% of 622 real new packages passed {WEEKS_3_4_LIMIT} in weeks 3–4)."
        )
        if pool is not None:
            text += (
                f" In weeks 3–4 it had {pool:.2f}× the distinct clients per 1,000 downloads of "
                "peers' days of the same volume"
                + (": a small set of clients repeating installs." if narrow else ".")
            )
        if twin is not None:
            text += f" Its name is one typo away from {twin}, a far more popular package."
        if narrow:
            assert pool is not None
            strength = min(1.0, 0.5 + 0.5 * (1 - pool / NARROW_POOL) + 0.15 * (twin is not None))
            inorganic: bool | None = True
        else:
            strength, inorganic = 0.3, None
        out.append(
            Finding(
                "new_package_burst",
                r["project"],
                "New package ramping up",
                text,
                strength,
                inorganic,
                lo,
                hi,
                {
                    "first_week": r["week1"],
                    "weeks_3_4": r["weeks34"],
                    "pool_vs_peers": None if pool is None else round(pool, 3),
                    "typo_of": twin,
                },
                ctx.daily.filter(
                    (pl.col("project") == r["project"]) & (pl.col("date") >= r["first"])
                ).select("date", "downloads"),
            )
        )
    return out


def _pool(ctx: Context, project: str, lo: dt.date, hi: dt.date) -> float | None:
    """Distinct clients per 1,000 downloads over ``lo..hi`` against peers' days of the same
    volume (None without client detail or peers)."""
    if ctx.peers is None:
        return None
    days = ctx.client_days.filter(
        (pl.col("project") == project) & pl.col("date").is_between(lo, hi)
    )
    if days.is_empty() or days["clients"].null_count() == days.height:
        return None
    typical = ctx.peers.rotation(int(days["band"].median() or 0))  # type: ignore[arg-type]
    downloads = float(days["downloads"].sum())
    if not typical or not downloads:
        return None
    return 1000 * float(days["clients"].sum()) / downloads / typical


def typo_twin(name: str, ctx: Context) -> str | None:
    """A package of the context with 10× the downloads whose name is one edit (a dropped,
    added, changed or swapped letter) or a ``py``/``python-`` prefix away from ``name``."""
    totals = dict(ctx.totals.select("project", "all").iter_rows())
    mine = totals.get(name, 0)
    for other, downloads in sorted(totals.items(), key=lambda kv: -kv[1]):
        if downloads < 10 * max(mine, 1):
            break
        if other != name and _one_slip(name, other):
            return str(other)
    return None


def _one_slip(a: str, b: str) -> bool:
    for prefix in ("python-", "py-", "py"):
        if a == prefix + b or b == prefix + a:
            return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) == 1 or (swapped and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
