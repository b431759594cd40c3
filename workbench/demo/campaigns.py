"""Evasive campaigns and organic look-alikes: the hard cases of the demo.

The scenarios of :mod:`workbench.demo.catalog` are the campaigns the detectors were built
for (one scripted client, one country, a first week far beyond any real one). The ones here
are built to get past them, and their organic twins are built to be mistaken for them:

=================  ===========  ====================================================
kind               inorganic    what it looks like
=================  ===========  ====================================================
rotating_clients   yes          dozens of client fingerprints (installer versions,
                                pythons, distros) drawn in turn: no client dominates
cloud_spread       yes          a few server images spread over 4–6 cloud-region
                                countries (US, DE, IE, SG, JP, NL, …)
slow_ramp          yes          a campaign that grows over 1–2 weeks, then holds
release_timed      yes          starts on the day of a real release of the package,
                                fetching that release
ci_cover           yes          CI-runner-shaped clients on a package whose users are
                                mostly CI pipelines; rows flagged CI or not
typosquat_ramp     yes          a new package named like a popular one, ramping slowly
                                and staying under the new-package first-week limit
blog_spike         no           a post sends people: a spike from many desktops and
                                countries that decays over days
mirror_resync      no           one mirror or sync script fetches every file of every
                                version within a day or two
ci_heavy_plugin    no           a pytest plugin: most downloads from CI matrices
regional_package   no           a regional-language package: one country has long
                                made most of its downloads
=================  ===========  ====================================================

Every size, pool, country set and date is drawn from the seed: there is no fixed signature.
:func:`assign` adds the scenarios (and changes the package histories they need) to a built
catalogue; :func:`segments` draws their extra traffic. Each segment carries its own row
:class:`~workbench.demo.rows.Profile`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from workbench.demo import calibration as cal
from workbench.demo import rows
from workbench.demo.catalog import (
    EVASIVE,
    LOOKALIKES,
    Catalog,
    Package,
    Scenario,
    _between,
    _new_package,
    _version_strings,
)
from workbench.demo.traffic import Segment

_Pick = Callable[..., int]

#: Countries with large cloud regions (where rented servers sit).
CLOUD_COUNTRIES = ("US", "DE", "IE", "SG", "JP", "NL", "GB", "FR", "IN", "BR", "AU", "CA")
#: Countries whose language communities have their own packages.
REGIONAL = ("JP", "CN", "KR", "RU", "BR", "DE", "FR", "TR", "VN", "IR")
#: Where a post that reaches many readers tilts the audience.
BLOG_COUNTRIES = ("US", "GB", "IN", "DE", "JP", "FR", "BR", "CA")
#: Who re-syncs a mirror: a home-made script, a client with no user agent, mirror products.
RESYNC_CLIENTS = ("requests", "unknown", "Artifactory", "Nexus", "bandersnatch")


def assign(rng: np.random.Generator, catalog: Catalog) -> None:
    """Add the evasive campaigns and the look-alikes to ``catalog`` (in place); a demo too
    small to hold them all gets those its free packages allow."""
    days = catalog.days
    used = {sc.package for sc in catalog.scenarios}
    used |= {sc.related for sc in catalog.scenarios if sc.related is not None}
    organic = [i for i, p in enumerate(catalog.packages) if not p.is_new]

    def pick(lo: float, hi: float, *, min_versions: int = 1) -> int:
        free = [i for i in organic if i not in used and catalog.packages[i].audience == "global"]
        fit = [
            i
            for i in free
            if lo <= catalog.packages[i].base <= hi
            and len(catalog.packages[i].versions) >= min_versions
        ]
        if not free:
            raise _NoPackage(f"no free package left for {lo}-{hi} downloads a day")
        choice = int(rng.choice(fit or free))
        if not fit:
            # the long tail leaves a small catalogue few packages of this size: give the
            # chosen one a size in the range (log-uniform over its first decade), as the
            # catalogue's own scenarios do
            top = min(hi, 10 * lo)
            catalog.packages[choice].base = float(np.exp(rng.uniform(np.log(lo), np.log(top))))
        used.add(choice)
        return choice

    makers = {
        "rotating_clients": _rotating,
        "cloud_spread": _cloud,
        "slow_ramp": _ramp,
        "release_timed": _release_timed,
        "ci_cover": _ci_cover,
        "typosquat_ramp": _typosquat,
        "blog_spike": _blog,
        "mirror_resync": _resync,
        "ci_heavy_plugin": _plugin,
        "regional_package": _regional,
    }
    for kind, count in {**EVASIVE, **LOOKALIKES}.items():
        for _ in range(count):
            try:
                catalog.scenarios.append(makers[kind](rng, catalog, pick, days))
            except _NoPackage:  # a tiny demo: fewer scenarios, all still labelled
                break


class _NoPackage(LookupError):
    """Every organic package already carries a scenario."""


# -- the scenarios ---------------------------------------------------------------------------
def _window(rng: np.random.Generator, days: int, length: tuple[int, int]) -> tuple[int, int]:
    start = _between(rng, days // 3, days - length[0])
    return start, min(days - 1, start + int(rng.integers(*length)) - 1)


def _rotating(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(8, 400)
    start, end = _window(rng, days, (8, 22))
    factor = float(rng.uniform(4, 14))
    pool = int(rng.integers(24, 90))
    countries = _some(rng, CLOUD_COUNTRIES, int(rng.integers(1, 4)))
    return Scenario(
        "rotating_clients",
        i,
        start,
        end,
        f"~{factor:.0f}x the usual volume from a pool of {pool} rotating client fingerprints "
        f"({', '.join(countries)})",
        volume=max(catalog.packages[i].base * factor, 25.0),
        fingerprints=pool,
        country=countries[0],
        countries=tuple(countries),
        params={"ci": 0.0, "latest": float(rng.uniform(0.7, 1.0))},
    )


def _cloud(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(8, 400)
    start, end = _window(rng, days, (8, 22))
    factor = float(rng.uniform(4, 12))
    pool = int(rng.integers(4, 16))
    countries = _some(rng, CLOUD_COUNTRIES, int(rng.integers(4, 7)))
    return Scenario(
        "cloud_spread",
        i,
        start,
        end,
        f"~{factor:.0f}x the usual volume from {pool} server images in {len(countries)} "
        f"cloud-region countries ({', '.join(countries)})",
        volume=max(catalog.packages[i].base * factor, 25.0),
        fingerprints=pool,
        country=countries[0],
        countries=tuple(countries),
        params={"ci": 0.0, "latest": float(rng.uniform(0.8, 1.0))},
    )


def _ramp(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(8, 300)
    ramp = int(rng.integers(7, 15))
    start = _between(rng, days // 3, days - ramp - 5)
    end = min(days - 1, start + ramp + int(rng.integers(5, 25)))
    factor = float(rng.uniform(3, 10))
    pool = int(rng.integers(6, 40))
    countries = _some(rng, CLOUD_COUNTRIES, int(rng.integers(1, 5)))
    return Scenario(
        "slow_ramp",
        i,
        start,
        end,
        f"grows over {ramp} days to ~{factor:.0f}x the usual volume, {pool} client "
        f"fingerprints ({', '.join(countries)})",
        volume=max(catalog.packages[i].base * factor, 25.0),
        fingerprints=pool,
        country=countries[0],
        countries=tuple(countries),
        params={"ci": 0.0, "ramp": float(ramp), "latest": 1.0},
    )


def _release_timed(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(8, 400)
    pkg = catalog.packages[i]
    inside = pkg.release_days[(pkg.release_days >= days // 3) & (pkg.release_days < days - 10)]
    if inside.size:
        start = int(rng.choice(inside))
    else:  # the package gets a new release inside the window: the campaign rides it
        start = _between(rng, days // 3, days - 10)
        _add_release(rng, pkg, start)
    end = min(days - 1, start + int(rng.integers(5, 15)))
    factor = float(rng.uniform(4, 12))
    pool = int(rng.integers(3, 40))
    countries = _some(rng, CLOUD_COUNTRIES, int(rng.integers(1, 4)))
    version = pkg.versions[int(np.searchsorted(pkg.release_days, start, side="right")) - 1]
    return Scenario(
        "release_timed",
        i,
        start,
        end,
        f"starts with release {version}: ~{factor:.0f}x the usual volume of it from {pool} "
        f"client fingerprints ({', '.join(countries)})",
        volume=max(pkg.base * factor, 25.0),
        fingerprints=pool,
        country=countries[0],
        countries=tuple(countries),
        params={"ci": 0.0, "latest": 1.0},
    )


def _ci_cover(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(20, 1500)
    pkg = catalog.packages[i]
    pkg.ci_share = float(rng.uniform(0.6, 0.85))
    start, end = _window(rng, days, (8, 22))
    factor = float(rng.uniform(3, 10))
    pool = int(rng.integers(4, 24))
    ci = float(rng.choice([0.0, 0.75, 1.0]))
    countries = _some(rng, ("US", "US", "IE", "NL", "DE", "SG"), int(rng.integers(1, 4)))
    flagged = {0.0: "not flagged CI", 0.75: "mostly flagged CI", 1.0: "all flagged CI"}[ci]
    return Scenario(
        "ci_cover",
        i,
        start,
        end,
        f"~{factor:.0f}x the usual volume from {pool} CI-runner-like clients, {flagged}, on a "
        f"package {pkg.ci_share:.0%} CI",
        volume=max(pkg.base * factor, 25.0),
        fingerprints=pool,
        country=countries[0],
        countries=tuple(countries),
        params={"ci": ci, "latest": float(rng.uniform(0.8, 1.0))},
    )


def _typosquat(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    popular = sorted(
        (i for i, p in enumerate(catalog.packages) if not p.is_new),
        key=lambda k: -catalog.packages[k].base,
    )[:15]
    target = catalog.packages[int(rng.choice(popular))]
    taken = {p.name for p in catalog.packages}
    name = _typo(rng, target.name, taken)
    first_week = float(rng.uniform(8, 40))  # typo victims and scanners: organic but tiny
    pkg = _new_package(rng, name, days, first_week)
    first = _between(rng, days // 4, max(days // 4 + 1, days - 30))
    n = int(rng.integers(1, 4))
    pkg.release_days = np.unique(first + np.sort(rng.integers(0, max(days - first - 5, 1), n)))
    pkg.release_days[0] = first
    pkg.versions = [f"0.{k + 1}.0" for k in range(len(pkg.release_days))]
    pkg.requires = [[] for _ in pkg.versions]
    catalog.packages.append(pkg)
    i = len(catalog.packages) - 1
    ramp = int(rng.integers(10, 21))
    peak = float(rng.uniform(40, 160))
    pool = int(rng.integers(3, 25))
    countries = _some(rng, CLOUD_COUNTRIES, int(rng.integers(1, 4)))
    return Scenario(
        "typosquat_ramp",
        i,
        first,
        days - 1,
        f"new package named like {target.name}, its downloads ramped over {ramp} days to "
        f"~{peak:.0f}/day by {pool} client fingerprints, under the first-week limit",
        related=catalog.packages.index(target),
        volume=peak,
        fingerprints=pool,
        country=countries[0],
        countries=tuple(countries),
        params={"ci": 0.0, "ramp": float(ramp), "latest": 1.0},
    )


def _blog(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(5, 600)
    tau = float(rng.uniform(1.2, 4.0))
    start = _between(rng, days // 3, days - 8)
    end = min(days - 1, start + int(np.ceil(3 * tau)))
    peak = max(catalog.packages[i].base * float(rng.uniform(5, 25)), 40.0)
    country = str(rng.choice(BLOG_COUNTRIES))
    return Scenario(
        "blog_spike",
        i,
        start,
        end,
        f"a post read in {country} and elsewhere: ~{peak:.0f} downloads from people on its "
        f"first day, halving every {tau * np.log(2):.1f} days",
        volume=peak,
        fingerprints=0,
        country=country,
        params={"tau": tau, "tilt": float(rng.uniform(0.1, 0.45))},
    )


def _resync(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(3, 3000, min_versions=10)
    pkg = catalog.packages[i]
    start = _between(rng, days // 3, days - 3)
    spread = int(rng.integers(1, 3))
    copies = int(rng.integers(1, 5))
    code = int(rng.integers(0, len(RESYNC_CLIENTS)))
    client = RESYNC_CLIENTS[code]
    return Scenario(
        "mirror_resync",
        i,
        start,
        min(days - 1, start + spread - 1),
        f"a mirror ({client}) re-fetched every file of its {len(pkg.versions)} versions "
        f"{copies}x over {spread} day(s)",
        volume=float(copies),
        fingerprints=1,
        country=str(rng.choice(list(cal.MIRROR_COUNTRY_SHARES))),
        params={"client": float(code)},
    )


def _plugin(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(20, 3000)
    pkg = catalog.packages[i]
    root = pkg.name.split("-")[0].removeprefix("py") or "plugin"
    for name in (f"pytest-{root}", f"pytest-{root}-plugin", f"pytest-{root}s"):
        if pkg.name.startswith("pytest-") or _rename(catalog, i, name):
            break
    pkg.ci_share = float(rng.uniform(0.75, 0.93))
    return Scenario(
        "ci_heavy_plugin",
        i,
        0,
        days - 1,
        f"a pytest plugin: ~{pkg.ci_share:.0%} of its downloads from CI pipelines",
    )


def _regional(rng: np.random.Generator, catalog: Catalog, pick: _Pick, days: int) -> Scenario:
    i = pick(10, 2000)
    pkg = catalog.packages[i]
    country = str(rng.choice(REGIONAL))
    share = float(rng.uniform(0.72, 0.93))
    idx = rows.COUNTRIES.index(country)
    weights = pkg.countries.copy()
    weights[idx] = 0.0
    weights = weights / weights.sum() * (1 - share)
    weights[idx] = share
    pkg.countries = weights
    pkg.audience = country
    # people in one language community, far less CI (whose runners sit in US clouds)
    pkg.ci_share = float(rng.uniform(0.03, 0.15))
    return Scenario(
        "regional_package",
        i,
        0,
        days - 1,
        f"a package for {country}'s language community: ~{share:.0%} of its users there, for years",
        country=country,
    )


# -- package history edits -------------------------------------------------------------------
def _add_release(rng: np.random.Generator, pkg: Package, day: int) -> None:
    pkg.release_days = np.unique(np.concatenate([pkg.release_days, [day]]))
    pkg.versions = _version_strings(rng, len(pkg.release_days))
    pkg.requires = [pkg.requires[0] if pkg.requires else [] for _ in pkg.versions]


def _rename(catalog: Catalog, i: int, name: str) -> bool:
    """Rename package ``i`` (and the requirements that name it) unless the name is taken."""
    old = catalog.packages[i].name
    if any(p.name == name for p in catalog.packages):
        return False
    catalog.packages[i].name = name
    catalog.packages[i].display = name
    for pkg in catalog.packages:
        pkg.requires = [
            [f"{name}{r[len(old) :]}" if r.split(">")[0] == old else r for r in reqs]
            for reqs in pkg.requires
        ]
    return True


def _typo(rng: np.random.Generator, name: str, taken: set[str]) -> str:
    """A name one slip away from ``name`` (swapped, dropped or doubled letter, a prefix)."""
    for _ in range(50):
        roll, k = rng.random(), int(rng.integers(1, max(len(name) - 1, 2)))
        if roll < 0.3 and k + 1 < len(name):
            out = name[:k] + name[k + 1] + name[k] + name[k + 2 :]
        elif roll < 0.55:
            out = name[:k] + name[k + 1 :]
        elif roll < 0.75:
            out = name[:k] + name[k] + name[k:]
        else:
            out = str(rng.choice(["python-", "py-", ""])) + name + str(rng.choice(["", "-py", "s"]))
        out = out.strip("-")
        if out and out != name and out not in taken:
            return out
    return name + "-lib"


def _some(rng: np.random.Generator, options: tuple[str, ...], n: int) -> list[str]:
    unique = list(dict.fromkeys(options))
    return [str(c) for c in rng.choice(unique, size=min(n, len(unique)), replace=False)]


# -- traffic ---------------------------------------------------------------------------------
def segments(
    rng: np.random.Generator, catalog: Catalog, weights: list[np.ndarray], weekday0: int
) -> list[Segment]:
    """The extra traffic of every scenario of this module, with its row profile."""
    t = np.arange(catalog.days)
    out: list[Segment] = []
    for sc in catalog.scenarios:
        if sc.kind not in EVASIVE and sc.kind not in LOOKALIKES:
            continue
        active = ((t >= sc.start) & (t <= sc.end)).astype(float)
        if sc.kind in EVASIVE:
            level = active * sc.volume
            if "ramp" in sc.params:
                level = level * np.clip((t - sc.start + 1) / sc.params["ramp"], 0, 1)
            # campaigns are not perfectly flat: the operator tops up and pauses
            level = level * rng.lognormal(0.0, 0.25, size=t.size)
            counts = _poisson(rng, level)
            prof = _campaign_profile(rng, sc)
            latest = float(sc.params.get("latest", 1.0))
            on_latest = rng.binomial(counts, latest)
            out.append(Segment(sc.package, "campaign", on_latest, "latest", sc, prof))
            if (counts - on_latest).any():  # the rest spread over what users fetch
                out.append(Segment(sc.package, "campaign", counts - on_latest, "mix", sc, prof))
        elif sc.kind == "blog_spike":
            decay = np.where(t >= sc.start, np.exp(-(t - sc.start) / sc.params["tau"]), 0.0)
            counts = _poisson(rng, sc.volume * decay * (t <= sc.end + 4))
            prof = _blog_profile(rng, sc, catalog)
            on_latest = rng.binomial(counts, float(rng.uniform(0.6, 0.95)))
            out.append(Segment(sc.package, "human", on_latest, "latest", sc, prof))
            out.append(Segment(sc.package, "human", counts - on_latest, "mix", sc, prof))
        elif sc.kind == "mirror_resync":
            pkg = catalog.packages[sc.package]
            files = len(pkg.versions) * (2 if pkg.has_wheel else 1)
            per_day = files * sc.volume / max(sc.end - sc.start + 1, 1)
            counts = _poisson(rng, active * per_day)
            out.append(
                Segment(sc.package, "mirror", counts, "all", sc, _resync_profile(rng, sc, catalog))
            )
    return out


def _poisson(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    return np.asarray(rng.poisson(np.maximum(mean, 0.0)), dtype=np.int64)


def _index(table: Sequence[Sequence[str | None]]) -> dict[str, list[int]]:
    """Row numbers of a vocabulary table by its first field (an installer name)."""
    out: dict[str, list[int]] = {}
    for i, row in enumerate(table):
        out.setdefault(str(row[0]), []).append(i)
    return out


def _campaign_profile(rng: np.random.Generator, sc: Scenario) -> rows.Profile:
    """A pool of ``sc.fingerprints`` client combinations: installer + version, OS image,
    python, country. Rotating pools draw widely; the others from a few server images."""
    installers = _index(rows.INSTALLERS)
    pip = installers["pip"]
    names = installers["pip"] + installers.get("uv", []) + installers.get("poetry", [])
    linux = [i for i, r in enumerate(rows.OS_ROWS) if r[0] == "Linux"]
    servers = [i for i in linux if rows.OS_ROWS[i][2] in ("Ubuntu", "Debian GNU/Linux")] or linux
    desktops = [i for i, r in enumerate(rows.OS_ROWS) if r[0] in ("Darwin", "Windows")]
    pythons = [
        i
        for i, (full, impl, _) in enumerate(rows.PYTHONS)
        if impl == "CPython" and full and full.startswith(("3.8", "3.9", "3.10", "3.11", "3.12"))
    ]
    k = max(int(sc.fingerprints), 1)
    countries = [rows.COUNTRIES.index(c) for c in sc.countries]
    share = rng.dirichlet(np.full(len(countries), 2.0))
    if sc.kind == "rotating_clients":
        installer = rng.choice(names, size=k)
        os_pool = np.array(linux + desktops)
        os_ = rng.choice(os_pool, size=k)
        python = rng.choice(pythons, size=k)
    elif sc.kind == "ci_cover":
        ci_images = [i for i in linux if "azure" in str(rows.OS_ROWS[i][1])] or servers
        installer = rng.choice(pip[:4], size=k)
        os_ = rng.choice(ci_images, size=k)
        python = rng.choice(pythons, size=k)
    else:
        images = rng.choice(servers, size=int(rng.integers(1, 4)))
        installer = rng.choice(pip[: int(rng.integers(3, len(pip)))], size=k)
        os_ = rng.choice(images, size=k)
        python = rng.choice(pythons, size=k)
    country = rng.choice(countries, size=k, p=share)
    # every country of the campaign holds at least one of its clients (as many as the pool
    # allows): a campaign said to sit in five cloud regions does
    n = min(k, len(countries))
    country[:n] = countries[:n]
    combos = np.stack([installer, os_, python, country], axis=1).astype(np.int64)
    zero = np.zeros(1)
    hours = _norm(rng.gamma(2.0, 1.0, size=24))
    return rows.Profile(zero, zero, zero, zero, float(sc.params.get("ci", 0.0)), hours, combos)


def _blog_profile(rng: np.random.Generator, sc: Scenario, catalog: Catalog) -> rows.Profile:
    """People reading a post: the package's human clients, tilted to the post's country."""
    base = rows.profile(rng, Segment(sc.package, "human", np.zeros(1, np.int64), "mix"), catalog)
    countries = base.countries * (1 - sc.params["tilt"])
    countries[rows.COUNTRIES.index(sc.country or "US")] += sc.params["tilt"]
    return dataclasses.replace(base, countries=_norm(countries))


def _resync_profile(rng: np.random.Generator, sc: Scenario, catalog: Catalog) -> rows.Profile:
    """One sync client: a mirror product, a home-made ``requests`` script, or no user agent."""
    client = RESYNC_CLIENTS[int(sc.params["client"])]
    installer = np.zeros(len(rows.INSTALLERS))
    if client == "unknown":
        installer[0] = 1.0
    else:
        installer[[i for i, r in enumerate(rows.INSTALLERS) if r[0] == client][:1]] = 1.0
    linux = [i for i, r in enumerate(rows.OS_ROWS) if r[0] == "Linux"]
    os_ = np.zeros(len(rows.OS_ROWS))
    os_[int(rng.choice(linux)) if client == "requests" else len(rows.OS_ROWS) - 1] = 1.0
    python = np.zeros(len(rows.PYTHONS))
    python[int(rng.integers(1, len(rows.PYTHONS))) if client == "requests" else 0] = 1.0
    country = np.zeros(len(rows.COUNTRIES))
    country[rows.COUNTRIES.index(sc.country or "US")] = 1.0
    hours = np.zeros(24)
    hours[int(rng.integers(0, 24))] = 1.0
    return rows.Profile(installer, os_, python, country, 0.0, hours)


def _norm(w: np.ndarray) -> np.ndarray:
    return np.asarray(w / w.sum())
