"""The demo's packages, their release histories and the labelled scenarios.

Everything is drawn from one ``numpy.random.Generator`` so a seed fixes the
whole catalogue. Days are integers relative to the first day of the window
(negative = before the window).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.demo import calibration as cal
from workbench.demo.mixes import Tilt, draw_tilt, neutral

_PREFIXES = ("py", "django-", "flask-", "aio", "pytest-", "sphinx-", "fast", "lib", "open", "")
_ROOTS = (
    "quill",
    "tidal",
    "beacon",
    "marrow",
    "sprocket",
    "lumen",
    "cobalt",
    "fjord",
    "orbit",
    "parsec",
    "rivet",
    "tundra",
    "vortex",
    "wren",
    "yarrow",
    "zephyr",
    "anvil",
    "basalt",
    "cinder",
    "delta",
    "ember",
    "flint",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lichen",
    "mosaic",
    "nimbus",
    "onyx",
    "prism",
    "quartz",
    "ridge",
    "sable",
    "thistle",
    "umber",
    "vellum",
    "willow",
    "xenon",
    "yonder",
    "zinc",
    "atlas",
    "bramble",
    "cask",
    "dune",
    "eddy",
    "fable",
    "glade",
    "heron",
    "isle",
    "jolt",
    "knot",
    "loom",
    "mesa",
)
_SUFFIXES = ("", "", "", "-client", "-utils", "-sdk", "x", "-core", "-cli", "kit", "-io", "db")
_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "MPL-2.0", "GPL-3.0-or-later")

#: Scenario types and how many packages carry each one.
SCENARIOS: dict[str, int] = {
    "inflation_campaign": 3,
    "micro_inflation": 6,
    "new_package_burst": 2,
    "dependency_surge": 2,
    "ci_only": 2,
    "stale_pinned": 2,
    "geo_concentration": 2,
    "installer_shift": 2,
}
#: Campaigns shaped to evade the detectors, and organic traffic shaped like a campaign
#: (drawn by :mod:`workbench.demo.campaigns`).
EVASIVE: dict[str, int] = {
    "rotating_clients": 2,
    "cloud_spread": 2,
    "slow_ramp": 2,
    "release_timed": 2,
    "ci_cover": 2,
    "typosquat_ramp": 2,
}
LOOKALIKES: dict[str, int] = {
    "blog_spike": 2,
    "mirror_resync": 2,
    "ci_heavy_plugin": 2,
    "regional_package": 2,
}
SCENARIOS.update(EVASIVE)
SCENARIOS.update(LOOKALIKES)
#: Scenarios that are fake traffic (the rest are real but easy to misread).
INORGANIC = frozenset(
    {"inflation_campaign", "micro_inflation", "new_package_burst", "geo_concentration", *EVASIVE}
)
ORGANIC_NEW_PACKAGES = 6
REGIONAL_AUDIENCES = ("CN", "JP", "RU", "DE", "KR", "BR")


@dataclass
class Package:
    name: str
    display: str
    base: float
    growth: float
    ci_share: float
    uv_share: float
    has_wheel: bool
    versions: list[str]
    release_days: np.ndarray
    pin_share: float
    pin_tau: float
    countries: np.ndarray
    license: str
    requires: list[list[str]] = field(default_factory=list)
    pinned: int | None = None
    first_week: float | None = None
    audience: str = "global"
    tilt: Tilt = field(default_factory=neutral)
    mirror_rate: float = cal.MIRROR_PER_VERSION

    @property
    def is_new(self) -> bool:
        return self.first_week is not None


@dataclass
class Scenario:
    kind: str
    package: int
    start: int
    end: int
    detail: str
    related: int | None = None
    country: str | None = None
    volume: float = 0.0
    fingerprints: int = 1
    #: Where a spread campaign's clients sit, and shape parameters (campaigns.py).
    countries: tuple[str, ...] = ()
    params: dict[str, float] = field(default_factory=dict)

    @property
    def inorganic(self) -> bool:
        return self.kind in INORGANIC


@dataclass
class Catalog:
    days: int
    packages: list[Package]
    scenarios: list[Scenario]
    countries: tuple[str, ...]


def _names(rng: np.random.Generator, n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        name = (rng.choice(_PREFIXES) + rng.choice(_ROOTS) + rng.choice(_SUFFIXES)).strip("-")
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _display(rng: np.random.Generator, name: str) -> str:
    """Distribution names keep their author's spelling; the project column is normalised."""
    roll = rng.random()
    if roll < 0.15:
        return name.replace("-", "_")
    if roll < 0.22:
        return "-".join(p.capitalize() for p in name.split("-"))
    return name


def _version_strings(rng: np.random.Generator, n: int) -> list[str]:
    major, minor, patch = int(rng.integers(0, 3)), int(rng.integers(0, 6)), 0
    out = []
    for _ in range(n):
        out.append(f"{major}.{minor}.{patch}")
        roll = rng.random()
        if roll < 0.08:
            major, minor, patch = major + 1, 0, 0
        elif roll < 0.38:
            minor, patch = minor + 1, 0
        else:
            patch += 1
    return out


def _release_days(rng: np.random.Generator, n: int, first: int, last: int) -> np.ndarray:
    """``n`` release days from ``first`` to at most ``last``, denser towards recent times."""
    if n == 1:
        return np.array([first])
    span = max(last - first, n)
    gaps = rng.gamma(1.2, 1.0, size=n - 1) * np.linspace(1.6, 0.6, n - 1)
    days = first + np.concatenate([[0.0], np.cumsum(gaps / gaps.sum() * span)])
    return np.unique(np.round(days).astype(int))


def _countries(rng: np.random.Generator, audience: str) -> np.ndarray:
    base = np.array(list(cal.COUNTRY_SHARES.values()))
    weights = base * rng.lognormal(0.0, cal.COUNTRY_SIGMA, size=base.size)
    if audience != "global":
        idx = list(cal.COUNTRY_SHARES).index(audience)
        weights[idx] = weights.sum() * rng.uniform(1.2, 2.5)
    return np.asarray(weights / weights.sum())


def _package(rng: np.random.Generator, name: str, base: float, days: int) -> Package:
    n_versions = int(np.clip(2 + rng.poisson(2.2 * np.log10(base + 10)), 2, 45))
    age_years = rng.uniform(0.4, 8.0)
    last = -1 if rng.random() < 0.55 else int(rng.integers(0, days - 5))
    first = -int(age_years * 365)
    release_days = _release_days(rng, n_versions, first, last)
    versions = _version_strings(rng, len(release_days))
    audience = "global"
    if rng.random() < 0.04:
        audience = str(rng.choice(REGIONAL_AUDIENCES))
    return Package(
        name=name,
        display=_display(rng, name),
        base=base,
        growth=float(rng.normal(0.05, 0.25)),
        ci_share=float(np.clip(rng.beta(2.2, 3.5), 0.05, 0.85)),
        uv_share=float(rng.uniform(0.04, 0.10)),
        has_wheel=bool(rng.random() < 0.9),
        versions=versions,
        release_days=release_days,
        pin_share=float(rng.uniform(0.08, 0.35)),
        pin_tau=float(rng.uniform(60, 250)),
        countries=_countries(rng, audience),
        license=str(rng.choice(_LICENSES)),
        audience=audience,
        tilt=draw_tilt(rng),
        mirror_rate=cal.MIRROR_PER_VERSION * float(rng.lognormal(0.0, cal.MIRROR_SIGMA)),
    )


def _popularity(rng: np.random.Generator, n: int) -> np.ndarray:
    """Stratified quantiles of real pip volumes with jitter: the long tail, stable totals
    across seeds. Returned as people (human + CI) downloads a day."""
    q = (np.arange(n) + rng.uniform(0.2, 0.8, size=n)) / n
    at, value = np.array(cal.POPULARITY_QUANTILES).T
    pip = np.exp(np.interp(q, at, np.log(value)))
    base = np.minimum(pip, cal.POPULARITY_MAX) / cal.PIP_SHARE * rng.lognormal(0.0, 0.15, size=n)
    return np.asarray(rng.permutation(base))


def _new_package(rng: np.random.Generator, name: str, days: int, first_week: float) -> Package:
    first = _between(rng, days // 3, days - 10)
    n_versions = int(rng.integers(1, 5))
    release_days = np.unique(first + np.sort(rng.integers(0, days - first, size=n_versions)))
    release_days[0] = first
    release_days = np.unique(release_days)
    pkg = _package(rng, name, first_week / 7.0, days)
    pkg.versions = [f"0.{i + 1}.0" for i in range(len(release_days))]
    pkg.release_days = release_days
    pkg.first_week = first_week
    pkg.pin_share = 0.0
    return pkg


def build(rng: np.random.Generator, *, packages: int, days: int) -> Catalog:
    """Draw the organic catalogue, then assign the labelled scenarios to packages."""
    n_new = ORGANIC_NEW_PACKAGES + SCENARIOS["new_package_burst"]
    names = _names(rng, packages + n_new)
    bases = _popularity(rng, packages)
    catalog = [_package(rng, names[i], float(bases[i]), days) for i in range(packages)]
    for i in range(n_new):
        week = float(rng.lognormal(np.log(cal.FIRST_WEEK_MEDIAN), cal.FIRST_WEEK_SIGMA))
        week = min(week, cal.FIRST_WEEK_MAX)  # stay inside the real sample's range
        catalog.append(_new_package(rng, names[packages + i], days, week))
    for pkg in catalog:
        pkg.requires = _requirements(rng, pkg, catalog)
    scenarios = _assign(rng, catalog, packages, days)
    return Catalog(days, catalog, scenarios, tuple(cal.COUNTRY_SHARES))


def _requirements(
    rng: np.random.Generator, pkg: Package, catalog: list[Package]
) -> list[list[str]]:
    """Static dependencies on more popular packages (same for every release)."""
    popular = [p.name for p in catalog if p.base > pkg.base * 3 and not p.is_new]
    deps: list[str] = []
    for name in rng.permutation(popular)[: int(rng.integers(0, 4))] if popular else []:
        deps.append(f"{name}>={int(rng.integers(0, 4))}.{int(rng.integers(0, 9))}")
    if rng.random() < 0.5:
        deps.append('pytest>=7; extra == "test"')
    return [list(deps) for _ in pkg.versions]


class _Picker:
    """Draws distinct organic packages of a given size for scenarios."""

    def __init__(self, rng: np.random.Generator, catalog: list[Package], organic: int) -> None:
        self.rng, self.catalog = rng, catalog
        self.pool = [i for i in range(organic) if catalog[i].audience == "global"]
        self.used: set[int] = set()

    def __call__(self, lo: float, hi: float) -> int:
        free = [i for i in self.pool if i not in self.used]
        fit = [i for i in free if lo <= self.catalog[i].base <= hi]
        if not free:
            raise ValueError(
                f"a demo of {len(self.catalog)} packages is too small to give each of its "
                "scenarios a package of its own: ask for more packages (40 or more)"
            )
        choice = int(self.rng.choice(fit or free))
        if not fit:
            # the long tail leaves a small catalogue few packages of this size: give the
            # chosen one a size in the range (log-uniform over its first decade)
            top = min(hi, 10 * lo)
            self.catalog[choice].base = float(np.exp(self.rng.uniform(np.log(lo), np.log(top))))
        self.used.add(choice)
        return choice


def _between(rng: np.random.Generator, lo: int, hi: int) -> int:
    """A day in [lo, hi), tolerant of short windows (hi is raised to lo + 1)."""
    return int(rng.integers(lo, max(hi, lo + 1)))


def _assign(
    rng: np.random.Generator, catalog: list[Package], organic: int, days: int
) -> list[Scenario]:
    pick = _Picker(rng, catalog, organic)
    out: list[Scenario] = []

    def window(lo: int, hi: int, length: tuple[int, int]) -> tuple[int, int]:
        start = _between(rng, lo, hi)
        return start, min(days - 1, start + int(rng.integers(*length)) - 1)

    for _ in range(SCENARIOS["inflation_campaign"]):
        i = pick(15, 400)
        start, end = window(days // 4, days - 20, (7, 15))
        factor = float(rng.uniform(10, 40))
        out.append(
            Scenario(
                "inflation_campaign",
                i,
                start,
                end,
                f"scripted pip installs at ~{factor:.0f}x the usual volume",
                volume=catalog[i].base * factor,
                fingerprints=int(rng.integers(1, 4)),
                country=str(rng.choice(["US", "DE", "NL", "SG"])),
            )
        )
    for _ in range(SCENARIOS["micro_inflation"]):
        i = pick(3, 25)
        start, end = window(days // 4, days - 10, (6, 7))
        out.append(
            Scenario(
                "micro_inflation",
                i,
                start,
                end,
                "~100 'pip install --no-cache-dir' downloads over 6 days",
                volume=100 / 6,
                fingerprints=1,
                country="US",
            )
        )
    new_ids = [i for i, p in enumerate(catalog) if p.is_new]
    for i in new_ids[-SCENARIOS["new_package_burst"] :]:
        pkg = catalog[i]
        first = int(pkg.release_days[0])
        week = float(rng.uniform(10_000, 25_000))
        out.append(
            Scenario(
                "new_package_burst",
                i,
                first,
                min(days - 1, first + 6),
                f"{week:,.0f} downloads in its first week from a narrow client set",
                volume=week / 7,
                fingerprints=int(rng.integers(1, 3)),
                country=str(rng.choice(["US", "DE", "FR"])),
            )
        )
    # the most popular 4 %: with the long tail, a small catalogue has only a few big packages
    by_size = sorted(range(organic), key=lambda k: -catalog[k].base)
    populars = by_size[: max(4, organic // 25)]
    for _ in range(SCENARIOS["dependency_surge"]):
        free = [p for p in populars if p not in pick.used]
        if not free:  # a small catalogue whose big packages all carry a scenario already
            free = [p for p in by_size if p not in pick.used][:1]
        parent = int(rng.choice(free))
        pick.used.add(parent)
        i = pick(5, 120)
        start = _between(rng, days // 4, days - 25)
        out.append(
            Scenario(
                "dependency_surge",
                i,
                start,
                days - 1,
                f"became a dependency of {catalog[parent].name}",
                related=parent,
                volume=float(rng.uniform(0.25, 0.6)),
            )
        )
    for _ in range(SCENARIOS["ci_only"]):
        i = pick(30, 3000)
        out.append(Scenario("ci_only", i, 0, days - 1, "~98% of downloads from CI runners"))
    for _ in range(SCENARIOS["stale_pinned"]):
        i = pick(20, 5000)
        out.append(
            Scenario(
                "stale_pinned", i, 0, days - 1, "most downloads on a version about two years old"
            )
        )
    for _ in range(SCENARIOS["geo_concentration"]):
        i = pick(20, 1500)
        start = _between(rng, days // 5, days // 2)
        country = str(rng.choice(["VN", "IR", "EG", "PK", "BD"]))
        out.append(
            Scenario(
                "geo_concentration",
                i,
                start,
                days - 1,
                f"most downloads suddenly come from {country}",
                country=country,
                volume=catalog[i].base * float(rng.uniform(3, 6)),
            )
        )
    for _ in range(SCENARIOS["installer_shift"]):
        i = pick(100, 8000)
        start = _between(rng, days // 4, days - 30)
        out.append(
            Scenario(
                "installer_shift",
                i,
                start,
                min(days - 1, start + 20),
                "its users moved from pip to uv; uv re-downloads more, so volume grows",
            )
        )
    for sc in out:
        _apply(rng, sc, catalog, days)
    return out


def _apply(rng: np.random.Generator, sc: Scenario, catalog: list[Package], days: int) -> None:
    """Change the package's own history where a scenario needs it."""
    pkg = catalog[sc.package]
    if sc.kind == "ci_only":
        pkg.ci_share = 0.98
    elif sc.kind == "stale_pinned":
        old = int(rng.integers(-760, -700))
        pkg.release_days = np.unique(np.concatenate([pkg.release_days, [old]]))
        newer = int((pkg.release_days > old).sum())
        if newer < 3:
            extra = np.sort(rng.integers(old + 60, 0, size=3 - newer))
            pkg.release_days = np.unique(np.concatenate([pkg.release_days, extra]))
        pkg.versions = _version_strings(rng, len(pkg.release_days))
        pkg.requires = [pkg.requires[0] if pkg.requires else [] for _ in pkg.versions]
        pkg.pinned = int(np.searchsorted(pkg.release_days, old))
        pkg.pin_share = float(rng.uniform(0.7, 0.85))
    elif sc.kind == "dependency_surge":
        assert sc.related is not None
        parent = catalog[sc.related]
        day = sc.start
        if not np.any(parent.release_days == day):
            parent.release_days = np.unique(np.concatenate([parent.release_days, [day]]))
            parent.versions = _version_strings(rng, len(parent.release_days))
            parent.requires = [
                parent.requires[0] if parent.requires else [] for _ in parent.versions
            ]
        cut = int(np.searchsorted(parent.release_days, day))
        spec = f"{pkg.name}>={pkg.versions[-1] if pkg.release_days[-1] < day else pkg.versions[0]}"
        for v in range(cut, len(parent.versions)):
            parent.requires[v] = [*parent.requires[v], spec]
