"""Daily download counts per traffic segment, and which versions they fetch.

A *segment* is one kind of client for one package (people, CI runners, uv
users, mirrors, unknown clients, a campaign's bots) with a daily count series
and a rule for choosing versions. Counts are Poisson around a mean with
gamma noise (day-to-day over-dispersion), weekly seasonality per kind, a slow
trend, and the scenario overlays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from workbench.demo import calibration as cal
from workbench.demo.catalog import Catalog, Package, Scenario

if TYPE_CHECKING:
    from workbench.demo.rows import Profile

ADOPTION_DAYS = cal.ADOPTION_DAYS  # e-folding time for floating users to move to a new release


@dataclass
class Segment:
    package: int
    kind: str  # human, ci, human_uv, ci_uv, mirror, unknown, campaign, geo
    counts: np.ndarray  # int64, one per day
    versions: str  # "mix" (adoption model), "latest", "all" (mirror)
    scenario: Scenario | None = None
    #: How its rows are drawn, when not by kind (the scenarios of campaigns.py).
    profile: Profile | None = None


def _adopted(age: np.ndarray) -> np.ndarray:
    """Share of floating users who have moved to a release ``age`` days after it."""
    return np.asarray(np.where(age >= 0, 1.0 - np.exp(-np.maximum(age, 0) / ADOPTION_DAYS), 0.0))


def version_weights(pkg: Package, days: int) -> np.ndarray:
    """(days × versions) share of each version per day: floating + pinned users."""
    t = np.arange(days)[:, None].astype(float)
    r = pkg.release_days[None, :].astype(float)
    nxt = np.append(pkg.release_days[1:], 10**6)[None, :].astype(float)
    floating = _adopted(t - r) - _adopted(t - nxt)
    available = (t >= r).astype(float)
    pinned = available * np.exp(-np.maximum(t - r, 0) / pkg.pin_tau)
    if pkg.pinned is not None:
        pinned = pinned * 0.05
        pinned[:, pkg.pinned] = available[:, pkg.pinned]
    pinned = pinned / np.maximum(pinned.sum(axis=1, keepdims=True), 1e-12)
    total = (1 - pkg.pin_share) * floating + pkg.pin_share * pinned
    return np.asarray(total / np.maximum(total.sum(axis=1, keepdims=True), 1e-12))


def _weekly(days: int, weekday0: int, kind: str, factor: float | None = None) -> np.ndarray:
    weekend = (np.arange(days) + weekday0) % 7 >= 5
    if factor is None:
        factor = cal.WEEKEND_FACTOR.get(kind, 1.0)
    # Normalise so the weekly mean stays at 1.
    scale = 7 / (5 + 2 * factor)
    return np.where(weekend, factor, 1.0) * scale


def _draw(rng: np.random.Generator, mean: np.ndarray, dispersion: float = 25.0) -> np.ndarray:
    noise = rng.gamma(dispersion, 1 / dispersion, size=mean.size)
    return np.asarray(rng.poisson(np.maximum(mean, 0) * noise), dtype=np.int64)


def noise_shape(pip_per_day: float) -> float:
    """Gamma shape of a package's day multiplier: bursty when small, smoother when large."""
    lo, hi = cal.NOISE_SHAPE_RANGE
    shape = cal.NOISE_SHAPE_AT_10 * (max(pip_per_day, 1e-3) / 10.0) ** cal.NOISE_SHAPE_SLOPE
    return float(np.clip(shape, lo, hi))


def day_noise(rng: np.random.Generator, pip_per_day: float, days: int) -> np.ndarray:
    """One multiplier per day (mean 1), shared by a package's organic segments: real
    small packages have zero days and bursts on the whole package, not per client kind."""
    shape = noise_shape(pip_per_day)
    return np.asarray(rng.gamma(shape, 1 / shape, size=days))


def _lifecycle(pkg: Package, days: int) -> np.ndarray:
    """Base volume multiplier per day: trend, or the launch curve of a new package."""
    t = np.arange(days)
    if pkg.first_week is None:
        return np.asarray(np.exp(pkg.growth * t / 365.0))
    k = t - int(pkg.release_days[0])
    curve = np.where(k >= 0, np.exp(-np.maximum(k, 0) / 2.5) + 0.12, 0.0)
    first_week = np.exp(-np.arange(7) / 2.5).sum() + 0.84
    # base = first_week / 7, so scale the curve to sum to first_week over the first 7 days
    return np.asarray(curve * 7 / first_week)


def segments(
    rng: np.random.Generator, catalog: Catalog, weekday0: int
) -> tuple[list[Segment], list[np.ndarray]]:
    days = catalog.days
    t = np.arange(days)
    weights = [version_weights(p, days) for p in catalog.packages]
    by_package: dict[int, list[Scenario]] = {}
    for sc in catalog.scenarios:
        by_package.setdefault(sc.package, []).append(sc)
    out: list[Segment] = []
    for i, pkg in enumerate(catalog.packages):
        life = _lifecycle(pkg, days)
        extra = np.zeros(days)
        uv = pkg.uv_share + 0.02 * t / days
        dup = np.ones(days)
        for sc in by_package.get(i, []):
            if sc.kind == "dependency_surge":
                extra += _dependency_volume(catalog, weights, sc, weekday0)
            elif sc.kind == "installer_shift":
                ramp = np.clip((t - sc.start) / max(sc.end - sc.start, 1), 0, 1)
                uv = uv + (0.6 - uv) * ramp
                dup = 1 + 0.8 * ramp
        people = pkg.base * life + extra
        noise = day_noise(rng, float(people.mean()) * cal.PIP_SHARE, days)
        weekend = {"human": pkg.tilt.weekend, "ci": None}
        for kind, share in (("human", 1 - pkg.ci_share), ("ci", pkg.ci_share)):
            mean = people * noise * share * _weekly(days, weekday0, kind, weekend[kind])
            out.append(Segment(i, kind, _draw(rng, mean * (1 - uv)), "mix"))
            out.append(Segment(i, f"{kind}_uv", _draw(rng, mean * uv * dup), "mix"))
        available = (t[:, None] >= pkg.release_days[None, :]).sum(axis=1)
        mirror = available * pkg.mirror_rate
        out.append(Segment(i, "mirror", _draw(rng, mirror, 8.0), "all"))
        unknown = people * noise * cal.UNKNOWN_SHARE + 0.3 * (available > 0)
        out.append(
            Segment(i, "unknown", _draw(rng, unknown * _weekly(days, weekday0, "unknown")), "mix")
        )
        releases = np.zeros(days)
        for r in pkg.release_days[(pkg.release_days >= 0) & (pkg.release_days < days)]:
            # Scanners, early adopters and CI tracking the latest release fetch it at once
            # (the bursts seen around releases in real small packages' daily series).
            burst = cal.RELEASE_BURST + cal.RELEASE_BURST_SHARE * pkg.base
            releases[r] += burst
            if r + 1 < days:
                releases[r + 1] += burst / 2
        if releases.any():
            out.append(Segment(i, "human", _draw(rng, releases, 10.0), "latest"))
        for sc in by_package.get(i, []):
            if sc.kind in ("inflation_campaign", "micro_inflation", "new_package_burst"):
                active = (t >= sc.start) & (t <= sc.end)
                out.append(
                    Segment(i, "campaign", _draw(rng, active * sc.volume, 60.0), "latest", sc)
                )
            elif sc.kind == "geo_concentration":
                ramp = np.clip((t - sc.start + 1) / 4, 0, 1) * (t <= sc.end)
                out.append(Segment(i, "geo", _draw(rng, ramp * sc.volume, 40.0), "latest", sc))
    return out, weights


def _dependency_volume(
    catalog: Catalog, weights: list[np.ndarray], sc: Scenario, weekday0: int
) -> np.ndarray:
    """Downloads the dependency gains: a share of the parent's downloads of new releases."""
    assert sc.related is not None
    parent = catalog.packages[sc.related]
    w = weights[sc.related]
    cut = int(np.searchsorted(parent.release_days, sc.start))
    share_new = w[:, cut:].sum(axis=1)
    parent_volume = parent.base * _lifecycle(parent, catalog.days)
    return np.asarray(parent_volume * share_new * sc.volume)
