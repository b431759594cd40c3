"""A generated population shaped like all of PyPI, at the feature level (no raw rows), to
measure the screen at real scale and to check it finds planted campaigns.

Shape (the figures and their sources are in ``../shared/FINDINGS.md``): daily rates are
lognormal with a median of ~1.1 downloads a day and σ = 2.16, so ~46 % of packages are under
one a day and the busiest of 600 k is ~30,000× the median; daily counts are gamma-Poisson
with an over-dispersion that falls with volume (a coefficient of variation of ~1.35 at ten
a day, ~0.5 at a thousand), so small packages have zero days and bursts. The mixes
(mirrors, installers, OS, python, countries, clients) are drawn per package and per day
around plausible shares; they only need to be the right *kind* of numbers for the screen.

Planted campaigns (``campaigns`` packages, returned with their labels): a week of scripted
installs at 10–40× the package's level from one or a few clients in one country.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.population import features
from workbench.query import DayRange

MEDIAN_RATE = 1.1
SIGMA = 2.16


@dataclass(frozen=True)
class Synthetic:
    frame: pl.DataFrame
    days: DayRange
    campaigns: pl.DataFrame  # project, start, end


def _dispersion(mean: np.ndarray) -> np.ndarray:
    """Gamma shape by volume: CV² = 1/μ + 1/k gives ~1.35 at 10/day, ~0.6 at 100/day."""
    return np.asarray(0.3 * np.maximum(mean, 0.1) ** 0.35)


def generate(
    projects: int = 600_000,
    days: int = 30,
    *,
    end: dt.date = dt.date(2026, 10, 31),
    campaigns: int = 200,
    seed: int = 1,
) -> Synthetic:
    rng = np.random.default_rng(seed)
    span = DayRange(end - dt.timedelta(days=days - 1), end)
    rate = MEDIAN_RATE * np.exp(rng.normal(0.0, SIGMA, size=projects))
    rate = np.minimum(rate, 5e7)
    weekday = (np.arange(days) + span.start.weekday()) % 7 >= 5
    rhythm = np.where(weekday, rng.uniform(0.5, 1.0), 1.0)
    mean = rate[:, None] * rhythm[None, :]
    shape = _dispersion(mean)
    counts = rng.poisson(rng.gamma(shape, mean / shape)).astype(np.int64)
    planted = rng.choice(np.flatnonzero(rate > 3), size=min(campaigns, projects), replace=False)
    start = rng.integers(days // 3, days - 7, size=planted.size)
    extra = np.zeros_like(counts)
    for i, p in enumerate(planted):
        extra[p, start[i] : start[i] + 7] = int(max(rate[p], 5) * rng.uniform(10, 40))
    project_idx, day_idx = np.nonzero(counts + extra)
    n = (counts + extra)[project_idx, day_idx]
    bot = extra[project_idx, day_idx]
    size = n.size

    def share(lo: float, hi: float) -> np.ndarray:
        return np.asarray(rng.uniform(lo, hi, size=projects)[project_idx])

    def part(p: np.ndarray, of: np.ndarray) -> np.ndarray:
        return np.asarray(rng.binomial(of, np.clip(p, 0.0, 1.0)))

    organic = n - bot
    mirror = part(np.clip(3.0 / (rate[project_idx] + 3.0), 0.02, 0.95), organic)
    users = organic - mirror
    pip = part(share(0.6, 0.9), users) + bot
    uv = part(share(0.05, 0.15), users - (pip - bot))
    bots = part(share(0.0, 0.05), users - (pip - bot) - uv)
    no_installer = part(share(0.0, 0.05), users - (pip - bot) - uv - bots) + (mirror // 4)
    desktop = part(share(0.1, 0.5), users)
    linux = n - desktop - part(share(0.0, 0.05), users - desktop)
    ci = part(share(0.0, 0.6), users)
    no_python = part(share(0.02, 0.1), users) + mirror
    top_country_share = share(0.25, 0.5)
    top_country = part(top_country_share, organic) + bot
    countries = np.minimum(n, 1 + rng.poisson(np.sqrt(n) * 2)).astype(np.int32)
    rest = np.maximum(n - top_country, 0)
    hhi = (top_country / n) ** 2 + (rest / n) ** 2 / np.maximum(countries - 1, 1)
    versions = np.minimum(n, 1 + rng.poisson(np.log1p(n))).astype(np.int32)
    top_version = np.maximum(part(share(0.3, 0.8), organic), 1) + bot
    top_version = np.minimum(top_version, n)
    clients = np.maximum(part(share(0.3, 0.95), organic), 1) + np.minimum(bot, 3)
    top_client = np.maximum(np.minimum(organic, 1 + rng.poisson(np.sqrt(organic) / 3)), bot // 2)
    top_python = np.minimum(part(share(0.2, 0.4), users) + bot, n)
    names = np.char.add("pkg-", np.arange(projects).astype(str))
    dates = np.datetime64(span.start) + np.arange(days).astype("timedelta64[D]")
    frame = pl.DataFrame(
        {
            "project": names[project_idx],
            "date": dates[day_idx],
            "downloads": n,
            "mirror_downloads": mirror,
            "ci_downloads": ci,
            "pip_downloads": pip,
            "uv_downloads": uv,
            "bot_downloads": bots,
            "no_installer_downloads": no_installer,
            "desktop_downloads": desktop,
            "linux_downloads": np.maximum(linux, 0),
            "no_python_downloads": np.minimum(no_python, n),
            "pythons": np.minimum(n, 1 + rng.poisson(3, size=size)).astype(np.int32),
            "top_python_downloads": top_python,
            "countries": countries,
            "country_hhi": np.clip(hhi, 0.0, 1.0),
            "top_country": np.where(bot > 0, "NL", "US"),
            "top_country_downloads": np.minimum(top_country, n),
            "versions": versions,
            "top_version_downloads": top_version,
            "clients": np.minimum(clients, n),
            "top_client_downloads": np.minimum(top_client, n),
        }
    )
    planted_frame = pl.DataFrame(
        {
            "project": names[planted],
            "start": [span.start + dt.timedelta(days=int(s)) for s in start],
            "end": [span.start + dt.timedelta(days=int(s) + 6) for s in start],
        }
    )
    return Synthetic(features.conform(frame), span, planted_frame)
