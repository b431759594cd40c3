"""What a surge's extra traffic is made of: does it look like the package's usual users?

For each surge event (:mod:`workbench.series`), the days before it (up to 28, surge days
left out) are the package's *usual* traffic. On the surge days the usual users are expected
to account for the expected volume in their usual mix; whatever is left over is the *extra*
traffic, and its mix is compared with the usual one, dimension by dimension:

    extra_v = max(surge_v − expected · usual_share_v, 0)
    distance = ½ Σ |extra share − usual share|

(the total variation distance: 0 when the extra traffic is more of the same users, 1 when
it shares nothing with them). The dimensions are the ones a client reports — installer,
installer version, python, OS, distro, CPU, CI flag — plus country and the package version.
A dimension *moved* when its distance is beyond what sampling alone gives for that many
extra downloads. Extra traffic that moved on several dimensions, sits on few versions, and
has no release or dependent to explain it is inorganic even when no single client
dominates (a rotating pool of fingerprints, traffic spread over cloud regions).

When a package that started to require this one explains the surge, the extra traffic is
compared with *that* package's users too: more of its users is organic. A release explains
the version (its downloads are of the new release) but not a different kind of client.

The client pool: distinct clients per 1,000 downloads on the surge days and on the usual
days, each against the peers' days of the same volume (clients repeat more as a day grows,
so a bigger day has fewer per 1,000 anyway) — a pool much narrower than usual *for the
volume* is how a rotating set of dozens of fingerprints shows.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from workbench import breakdowns as b
from workbench import series
from workbench.dimensions import CLIENTS
from workbench.signals.context import Context
from workbench.signals.findings import Finding, fmt_int, pct
from workbench.signals.volume import BURST_DAYS, Explanation, explain

#: At least this many extra downloads, and this many usual ones, for a verdict.
MIN_EXTRA = 60
MIN_USUAL = 100
USUAL_DAYS = 28
#: The version mix drifts as users adopt a new release (e-folding of a few days), so the
#: usual *version* mix is that of the last usual days only, not of four weeks.
RECENT_VERSION_DAYS = 7
#: A short burst's extra traffic at least this much reported as CI is CI runs.
CI_BURST_SHARE = 0.4
#: A dimension moved when its distance is this far above the sampling noise.
MOVED = 0.25
#: Extra traffic this concentrated on one version is "on few versions".
ONE_VERSION = 0.8
#: A client pool this much narrower than usual for the volume (clients per 1,000 downloads).
NARROW_POOL = 0.6
ROLLUP_DIMENSIONS = ("installer", "python", "system", "country", "ci", "version")
#: Dimensions that come from one part of the user agent, and so are one piece of evidence.
FAMILY = {"installer version": "installer", "distro": "system", "cpu": "system"}
#: Fingerprint fields (only the top clients of each day are kept: a lower bound).
CLIENT_DIMENSIONS = {
    "installer version": ("installer", "installer_version"),
    "distro": ("distro", "distro_version"),
    "cpu": ("cpu",),
}


def distance(
    usual: dict[str, float], surge: dict[str, float], expected: float
) -> tuple[float, float, dict[str, float]]:
    """(distance, extra downloads, extra shares) of the surge's extra traffic from the usual
    mix; ``usual`` and ``surge`` map a value to its downloads."""
    total = sum(usual.values())
    if total <= 0:
        return 0.0, 0.0, {}
    shares = {k: v / total for k, v in usual.items()}
    extra = {k: max(surge.get(k, 0.0) - expected * shares.get(k, 0.0), 0.0) for k in surge}
    extra_total = sum(extra.values())
    if extra_total <= 0:
        return 0.0, 0.0, {}
    mix = {k: v / extra_total for k, v in extra.items()}
    keys = set(shares) | set(mix)
    tvd = 0.5 * sum(abs(mix.get(k, 0.0) - shares.get(k, 0.0)) for k in keys)
    return tvd, extra_total, mix


def noise(usual: dict[str, float], extra: float, design: float = 1.0) -> float:
    """The distance sampling alone gives ``extra`` downloads drawn from the usual mix
    (the expected total variation of a multinomial sample, to first order).

    Downloads are not independent draws: one client (one fingerprint: the same installer,
    python, OS, country) fetches a package several times, and all its downloads share its
    values. ``design`` is the usual downloads per distinct client: the sample is that many
    times smaller than its count, so a small surge carries little evidence."""
    total = sum(usual.values())
    if total <= 0 or extra <= 0:
        return 1.0
    shares = [v / total for v in usual.values()]
    n_usual, n_extra = max(total / max(design, 1.0), 1.0), extra / max(design, 1.0)
    spread = sum(math.sqrt(p * (1 - p)) for p in shares)
    usual_noise = sum(math.sqrt(p * (1 - p) / n_usual) for p in shares)
    return 0.5 * spread * math.sqrt(2 / (math.pi * n_extra)) + usual_noise


def _counts(frame: pl.LazyFrame, by: str | list[str], days: pl.Expr) -> dict[str, float]:
    keys = [by] if isinstance(by, str) else by
    label = pl.concat_str([pl.col(k).cast(pl.String).fill_null("—") for k in keys], separator=" ")
    got = frame.filter(days).group_by(label.alias("value")).agg(pl.col("downloads").sum()).collect()
    return {str(v): float(n) for v, n in got.iter_rows()}


def composition_findings(ctx: Context) -> list[Finding]:
    flags = series.day_flags(ctx.daily, ctx.days)
    events = series.surges(flags)
    out: list[Finding] = []
    for ev in events.iter_rows(named=True):
        found = _event(ctx, ev, flags)
        if found is not None:
            out.append(found)
    return out


def _event(ctx: Context, ev: dict[str, object], flags: pl.DataFrame) -> Finding | None:
    project, start, end = str(ev["project"]), ev["start"], ev["end"]
    assert isinstance(start, dt.date) and isinstance(end, dt.date)
    mine = flags.filter(pl.col("project") == project)
    surge_days = mine.filter(pl.col("surge") & pl.col("date").is_between(start, end))["date"]
    usual_days = mine.filter(
        ~pl.col("surge")
        & (pl.col("date") < start)
        & (pl.col("date") >= start - dt.timedelta(days=USUAL_DAYS))
        & (pl.col("age") >= 0)
    )["date"]
    expected = float(mine.filter(pl.col("date").is_in(surge_days.implode()))["expected"].sum())
    if surge_days.is_empty() or usual_days.is_empty():
        return None
    in_surge = pl.col("date").is_in(surge_days.implode())
    in_usual = pl.col("date").is_in(usual_days.implode())
    in_recent = pl.col("date").is_in(usual_days.sort().tail(RECENT_VERSION_DAYS).implode())
    rows = ctx.clean.filter(pl.col("project") == project)
    why = explain(ctx, project, start, end, mine.select("date", "downloads"))
    dims: list[tuple[str, dict[str, float], dict[str, float], float]] = []
    for dim in ROLLUP_DIMENSIONS:
        if dim == "ci" and "ci" in ctx.lacks:
            continue
        if dim == "version" and why.release:
            continue  # the release explains the version, not who fetched it
        usual_of = in_recent if dim == "version" else in_usual
        dims.append((dim, _counts(rows, dim, usual_of), _counts(rows, dim, in_surge), expected))
    if CLIENTS not in ctx.lacks:
        clients = b.fingerprint_fields(ctx.fingerprints.filter(pl.col("project") == project))
        for name, fields in CLIENT_DIMENSIONS.items():
            usual = _counts(clients, list(fields), in_usual)
            surge = _counts(clients, list(fields), in_surge)
            if sum(usual.values()) <= 0:
                continue
            # the fingerprint table keeps each day's top clients: its own expected total
            kept = sum(surge.values()) * expected / max(float(ev["observed"]), 1.0)  # type: ignore[arg-type]
            dims.append((name, usual, surge, kept))
    usual_total = sum(dims[0][1].values()) if dims else 0.0
    design = _design(ctx, project, in_usual)
    measured = []
    for name, usual, surge, exp in dims:
        tvd, extra, mix = distance(usual, surge, exp)
        if extra <= 0:
            continue
        threshold = MOVED + 2 * noise(usual, extra, design)
        total = sum(usual.values())
        top = max(mix, key=mix.__getitem__) if mix else ""
        measured.append(
            {
                "dimension": name,
                "distance": round(tvd, 3),
                "threshold": round(threshold, 3),
                "moved": tvd > threshold,
                "extra_top": top,
                "extra_top_share": round(mix.get(top, 0.0), 3),
                "usual_share_of_it": round(usual.get(top, 0.0) / total, 3) if total else 0.0,
                "extra": extra,
            }
        )
    extra_total = float(ev["observed"]) - expected  # type: ignore[arg-type]
    if not measured or extra_total < MIN_EXTRA or usual_total < MIN_USUAL:
        return None
    pool = _pool(ctx, project, in_surge, in_usual)
    moved = [m for m in measured if m["moved"]]
    on_version = next(
        (
            m
            for m in measured
            if m["dimension"] == "version"
            and _f(m["extra_top_share"]) >= ONE_VERSION
            and _f(m["usual_share_of_it"]) <= 0.5
        ),
        None,
    )
    narrow = pool is not None and pool[0] < NARROW_POOL * pool[1]
    # pool: (surge, usual) clients per 1,000 each relative to peers' days of its own volume
    evidence = pl.DataFrame(measured).drop("extra")
    like_dependent = _like_dependent(ctx, why.dependent, dims, in_surge) if why.dependent else None
    return _finding(
        ctx,
        project,
        (start, end),
        why,
        measured,
        (moved, on_version, narrow, pool, like_dependent),
        extra_total,
        evidence,
    )


def _like_dependent(
    ctx: Context,
    dependent: str,
    dims: list[tuple[str, dict[str, float], dict[str, float], float]],
    in_surge: pl.Expr,
) -> float | None:
    """The mean distance of the extra traffic's mix from the dependent's own users' mix on
    the surge days (installer, python, OS, country): small when the extra traffic is more
    of the dependent's users."""
    theirs = b.Filters(without_mirrors=True).apply(
        ctx.related.lazy().filter(pl.col("project") == dependent)
    )
    found = []
    for name, usual, surge, exp in dims:
        if name not in ("installer", "python", "system", "country"):
            continue
        their_mix = _counts(theirs, name, in_surge)
        total = sum(their_mix.values())
        _, extra, mix = distance(usual, surge, exp)
        if total <= 0 or extra <= 0:
            continue
        keys = set(mix) | set(their_mix)
        found.append(0.5 * sum(abs(mix.get(k, 0.0) - their_mix.get(k, 0.0) / total) for k in keys))
    return sum(found) / len(found) if found else None


def _design(ctx: Context, project: str, in_usual: pl.Expr) -> float:
    """Downloads per distinct client on the usual days (1 without client detail): how
    many downloads move together in the mix (see :func:`noise`)."""
    if CLIENTS in ctx.lacks:
        return 1.0
    days = ctx.client_days.filter((pl.col("project") == project) & in_usual)
    if days.is_empty() or days["clients"].null_count() == days.height:
        return 1.0
    clients = float(days["clients"].sum())
    return max(1.0, float(days["downloads"].sum()) / clients) if clients else 1.0


def _pool(
    ctx: Context, project: str, in_surge: pl.Expr, in_usual: pl.Expr
) -> tuple[float, float, float | None] | None:
    """Distinct clients per 1,000 downloads on the surge days and the usual days, each as a
    multiple of the peers' median for days of that volume (clients repeat more as a day's
    downloads grow, so raw rates of a bigger day are lower anyway); None without client
    detail or peers."""
    if CLIENTS in ctx.lacks or ctx.peers is None:
        return None
    days = ctx.client_days.filter(pl.col("project") == project)
    if days.is_empty() or days["clients"].null_count() == days.height:
        return None
    peers = ctx.peers

    def relative(frame: pl.DataFrame) -> float | None:
        downloads = float(frame["downloads"].sum())
        if not downloads:
            return None
        band = int(frame["band"].median() or 0)  # type: ignore[arg-type]
        typical = peers.rotation(band)
        rate = 1000 * float(frame["clients"].sum()) / downloads
        return rate / typical if typical else None

    surge, usual = relative(days.filter(in_surge)), relative(days.filter(in_usual))
    if surge is None or usual is None:
        return None
    return surge, usual, None


def _finding(
    ctx: Context,
    project: str,
    span_days: tuple[dt.date, dt.date],
    why: Explanation,
    measured: list[dict[str, object]],
    signs_found: tuple[
        list[dict[str, object]],
        dict[str, object] | None,
        bool,
        tuple[float, float, float | None] | None,
        float | None,
    ],
    extra: float,
    evidence: pl.DataFrame,
) -> Finding:
    start, end = span_days
    moved, on_version, narrow, pool, like_dependent = signs_found
    tested = len(measured)
    # Dimensions read from one part of the user agent move together (a client that sends
    # no OS record moves OS, distro and CPU at once): each family is one sign, and the
    # version, moved or concentrated on one release, is one.
    on_one = on_version is not None and not why.release
    families = {FAMILY.get(str(m["dimension"]), str(m["dimension"])) for m in moved}
    signs = len(families | ({"version"} if on_one else set())) + int(narrow)
    described = "; ".join(
        f"{m['dimension']} ({_f(m['distance']):.2f}: {pct(_f(m['extra_top_share']))} "
        f"{m['extra_top']} against {pct(_f(m['usual_share_of_it']))} usually)"
        for m in sorted(moved, key=lambda m: -_f(m["distance"]))
    )
    span = f"on {start}" if start == end else f"from {start} to {end}"
    metrics: dict[str, object] = {
        "moved": len(moved),
        "tested": tested,
        "signs": signs,
        "narrow_pool": narrow,
        "pool_vs_peers": None if pool is None else round(pool[0], 3),
        "usual_pool_vs_peers": None if pool is None else round(pool[1], 3),
        "like_dependent": None if like_dependent is None else round(like_dependent, 3),
        "baseline": ctx.baseline(),
    }
    if not moved and not narrow:
        text = (
            f"The {fmt_int(extra)} extra downloads {span} look like the package's usual users: "
            f"none of {tested} dimensions (installer and its version, python, OS, distro, CPU, "
            "country, CI, version) moved beyond sampling noise. More of the same users is what "
            "organic growth, a blog post or a release looks like."
        )
        return Finding(
            "traffic_composition",
            project,
            "Extra traffic looks usual",
            text,
            0.1,
            None,
            start,
            end,
            metrics,
            evidence,
        )
    inorganic: bool | None
    text = (
        f"The {fmt_int(extra)} extra downloads {span} differ from the package's usual users on "
        f"{len(moved)} of {tested} dimensions" + (f": {described}." if described else ".")
    )
    if on_version is not None:
        text += (
            f" {pct(_f(on_version['extra_top_share']))} of them are of {on_version['extra_top']}."
        )
    if narrow and pool is not None:
        text += (
            f" The client pool is narrow for the volume: on those days it holds "
            f"{pool[0]:.2f}× the distinct clients per 1,000 downloads of peers' days of the "
            f"same volume, against {pool[1]:.2f}× on the usual days: a small set of clients, "
            "rotating or not, repeating installs."
        )
    if why.mirror is not None:
        text += f" Explained: {why.text}"
        strength, title, inorganic = 0.2, "Extra traffic copies every release", False
    elif why.dependent is not None and like_dependent is not None and like_dependent < 0.3:
        text += (
            f" Explained: {why.text} The extra downloads look like {why.dependent}'s own "
            f"users (distance {like_dependent:.2f})."
        )
        strength, title = 0.2, "Extra traffic from a new dependent"
        inorganic = False
    elif signs >= 2 and _ci_burst(moved, start, end):
        text += (
            " Its installers report it as CI: a pipeline's burst (a matrix of jobs on one "
            "day) brings exactly such clients. Automated but real; see the CI and people tab."
        )
        strength, title, inorganic = 0.35, "A burst of CI runs", False
    elif signs >= 2:
        if why.dependent is not None:
            text += (
                f" {why.dependent} started to require it then, but the extra downloads do not "
                "look like its users either."
            )
        elif why.release:
            text += (
                f" A release ({', '.join(why.release)}) was uploaded then, but a release "
                "brings more of the usual clients, not different ones."
            )
        else:
            text += " No release or dependent explains it."
        mean = sum(_f(m["distance"]) for m in moved) / max(len(moved), 1)
        strength = min(1.0, 0.45 + 0.1 * (signs - 2) + 0.5 * max(mean - MOVED, 0.0))
        inorganic = None if why.dependent is not None else True
        title = "Extra traffic unlike the usual users"
    else:
        strength, inorganic, title = 0.3, None, "Extra traffic partly unusual"
    return Finding(
        "traffic_composition",
        project,
        title,
        text,
        strength,
        inorganic,
        start,
        end,
        metrics,
        evidence,
        why.text,
    )


def _ci_burst(moved: list[dict[str, object]], start: dt.date, end: dt.date) -> bool:
    """A burst of at most :data:`~workbench.signals.volume.BURST_DAYS` days whose extra
    traffic is largely reported as CI by the installers (≥ :data:`CI_BURST_SHARE`; the flag is
    a lower bound, many CI systems set no variable): CI runs, not a campaign (a campaign
    that means to move a package's numbers lasts longer; a long one in CI clothes is still
    judged on its other dimensions)."""
    if (end - start).days + 1 > BURST_DAYS:
        return False
    return any(
        m["dimension"] == "ci"
        and str(m["extra_top"]).lower() == "true"
        and _f(m["extra_top_share"]) >= CI_BURST_SHARE
        for m in moved
    )


def _f(value: object) -> float:
    return float(value)  # type: ignore[arg-type]
