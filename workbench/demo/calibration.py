"""Calibration of the demo data, and where each figure comes from.

All figures below were measured on the real exports in ``../shared/realdata``
(see its ``SOURCES.md``) or taken from public facts about the PyPI logs; the
test ``tests/test_calibration.py`` re-derives the measurable ones from those
files when they are present.

=============================  ==========================  ==============================================
figure                         value used                  source
=============================  ==========================  ==============================================
first-week downloads of a      lognormal, median 32,       soodoku/social_proof_stars
brand-new package              p90 127 (σ = 1.07), cut     ``pkg_pypi_downloads.csv`` joined with each
                               at 7,972                    package's ``earliest_release``: 622 packages
                                                           released 24–30 Apr 2023; counted from the
                                                           release day: median 32, p90 127, p99 874,
                                                           max 7,972 in the first 7 days
weekend / weekday volume       human 0.45 (per package     pypistats ``python_minor`` daily fixture (a
                               lognormal, σ 0.6), CI       108k/day package, from the 2018-07-27 logging
                               0.78, mirrors 1.0           fix on): 0.42; over the whole file 0.72
                                                           (counts before the fix are ~10× low). Per
                                                           package p10–p90 0.33–1.10 on the 622 new
                                                           packages (pip only, mean ≥ 5/day, from day 14)
daily noise                    gamma day multiplier shared ``pkg_pypi_downloads.csv`` from day 14, pip
                               by a package's segments,    only: CV 2.15 / 1.35 / 0.77, zero days 55 % /
                               shape 0.65·(μ/10)^0.7       14 % / 0 %, peak ÷ median ∞ / 17 / 4.7 at
                               (μ = pip downloads a day)   2–5, 5–20 and 50–500 downloads a day
python minor shares            3.11 24 %, 3.12 21 %,       hugovk/pypi-tools monthly python_minor,
                               3.10 18 %, 3.13 10 %,       55 popular packages, Oct 2025 – Jan 2026;
                               3.9 10 %, 3.7 6 %, 3.8 5 %, per package the 3.7 share spans 0.3–10.5 %
                               3.14 2 %, unknown 3.5 %;    (p10–p90)
                               per package lognormal
                               factor per minor, σ 1.6
mirror traffic                 every version fetched       duckinator/bork-statistics: old versions each
                               about evenly, per package   ~105–115 a month in 2021 (18 versions);
                               lognormal, median 1.5 a     bitplane/pypi-stats: unpromoted packages
                               day per version, σ 1.0      60–785 a month (p10–p90), median 207
release adoption               floating users move with    duckinator/bork-statistics: versions first
                               an e-folding time of 4      seen in a month take a median ~40 % of that
                               days (bursts on release     month's downloads (demo: packages of bork's
                               day on top)                 size, 40–150 a day)
micro-inflation campaign       ~100 downloads over 6 days  soodoku/social_proof_stars experiment: 4,823
                               with ``pip install          packages given ~100 artificial downloads each,
                               --no-cache-dir``            3–8 June 2023
popularity                     log-linear between the      mt3443/typogard ``pypi_download_counts.csv``
                               quantiles of real pip       (206,944 packages, Feb 2020): median 1.14 a
                               downloads a day, cut at     day, 44 % under 1 a day, p90 21, p99 2,844;
                               6k/day                      the top is cut so a laptop holds the demo
``details.ci``                 TRUE or NULL, never FALSE;  pip sets it from CI env vars (linehaul/pip);
                               75 % of CI rows say TRUE    it is a lower bound on CI traffic
uv share of pip+uv             4–10 %, +2 points over      ~9 % of a day's downloads (public reports,
                               the window                  FINDINGS.md; not in realdata)
user-agent shapes              per installer, which        pypi/linehaul-cloud-function parser fixtures:
                               ``details`` fields exist    mirrors, Browser, conda, Bazel … send only
                                                           their name; poetry, pdm, twine no python;
                                                           uv no rustc; ``(null)`` → NULL details
=============================  ==========================  ==============================================

Installer names, distro names, user-agent field shapes and mirror clients
follow pypi/linehaul-cloud-function's parser fixtures.
"""

from __future__ import annotations

import math

FIRST_WEEK_MEDIAN = 32.0
FIRST_WEEK_P90 = 127.0
FIRST_WEEK_P99 = 874.0
#: The largest first week among the 622 real new packages, counted from each one's
#: release day; organic draws stay below it.
FIRST_WEEK_MAX = 7972.0
FIRST_WEEK_SIGMA = math.log(FIRST_WEEK_P90 / FIRST_WEEK_MEDIAN) / 1.2816

WEEKEND_FACTOR = {"human": 0.45, "ci": 0.78, "mirror": 1.0, "unknown": 0.9}
#: Spread (lognormal σ) of each package's own weekend factor around the above.
WEEKEND_SIGMA = 0.7
#: The busiest weekend a package's people give it (a weekend hobby tool: as many as weekdays).
WEEKEND_MAX = 1.5

#: Daily noise: a package's organic segments share one gamma multiplier per day, of shape
#: ``NOISE_SHAPE_AT_10 * (pip_per_day / 10) ** NOISE_SHAPE_SLOPE`` (clipped), so small
#: packages are bursty with zero days and large ones smoother.
NOISE_SHAPE_AT_10 = 0.65
NOISE_SHAPE_SLOPE = 0.7
NOISE_SHAPE_RANGE = (0.12, 6.0)

#: Per-package mixes: lognormal σ of each python minor's weight (renormalised), the
#: Dirichlet concentration around the global OS mix, the lognormal σ of each country's
#: weight.
PYTHON_SIGMA = 0.3
#: Each package's factor on its legacy-python users (lognormal μ, σ): python 3.7's share
#: across packages spans p10–p90 0.3–10.5 % (hugovk's monthly shares), a ratio of ~35.
LEGACY_MU, LEGACY_SIGMA = 0.0, 1.8
OS_CONCENTRATION = 6.0
COUNTRY_SIGMA = 0.8

PYTHON_MINOR_SHARES: dict[str | None, float] = {
    "3.11": 0.2408,
    "3.12": 0.2122,
    "3.10": 0.1765,
    "3.9": 0.1000,
    "3.13": 0.0999,
    "3.7": 0.0573,
    "3.8": 0.0461,
    None: 0.0352,
    "3.14": 0.0209,
    "3.6": 0.0065,
    "2.7": 0.0043,
}
PYTHON_PATCHES: dict[str, tuple[str, ...]] = {
    "3.14": ("3.14.0", "3.14.1"),
    "3.13": ("3.13.5", "3.13.7", "3.13.8", "3.13.9"),
    "3.12": ("3.12.3", "3.12.7", "3.12.10", "3.12.11", "3.12.12"),
    "3.11": ("3.11.4", "3.11.9", "3.11.11", "3.11.13", "3.11.14"),
    "3.10": ("3.10.12", "3.10.14", "3.10.18", "3.10.19"),
    "3.9": ("3.9.6", "3.9.18", "3.9.23", "3.9.24"),
    "3.8": ("3.8.10", "3.8.18", "3.8.20"),
    "3.7": ("3.7.3", "3.7.16", "3.7.17"),
    "3.6": ("3.6.8", "3.6.15"),
    "2.7": ("2.7.18",),
}

# Installer name -> (share among human traffic, versions newest first)
INSTALLER_VERSIONS: dict[str, tuple[str, ...]] = {
    "pip": (
        "25.3",
        "25.2",
        "25.1.1",
        "25.0.1",
        "24.3.1",
        "24.2",
        "24.0",
        "23.3.1",
        "23.0.1",
        "22.0.2",
        "21.3.1",
        "20.0.2",
    ),
    "uv": ("0.9.7", "0.9.5", "0.9.2", "0.8.22", "0.8.17", "0.8.13", "0.7.20", "0.6.14"),
    "poetry": ("2.2.1", "2.1.3", "2.0.1", "1.8.5", "1.8.3"),
    "pdm": ("2.26.1", "2.25.4", "2.22.4"),
    "bandersnatch": ("6.6.0", "6.5.0", "6.3.0"),
    "devpi": ("6.14.0", "6.12.1"),
    "Nexus": ("3.84.0", "3.76.1"),
    "Artifactory": ("7.117.5", "7.104.15"),
    "z3c.pypimirror": ("1.0.16",),
    "requests": ("2.32.5", "2.32.3", "2.31.0"),
    "Browser": ("",),
    "twine": ("6.1.0", "5.1.1"),
    "maturin": ("1.9.4", "1.7.4"),
    "setuptools": ("80.9.0", "75.8.0"),
    "distribute": ("0.7.3",),
    "pex": ("2.59.1", "2.20.3"),
    "conda": ("25.7.0", "24.11.3"),
    "Bazel": ("8.4.1", "7.6.1"),
    "Homebrew": ("4.6.11", "4.5.8"),
    "OS": ("",),
    "pep381client": ("1.5",),
}
#: Rare clients among people's downloads (share of the people segment, before uv).
RARE_INSTALLERS: dict[str, float] = {
    "twine": 0.002,
    "setuptools": 0.002,
    "conda": 0.002,
    "pex": 0.001,
    "Bazel": 0.001,
    "maturin": 0.0005,
    "Homebrew": 0.0005,
    "distribute": 0.0002,
}
#: Which ``details`` fields each client's user agent carries, as linehaul parses it
#: (pypi/linehaul-cloud-function ``tests/unit/ua/fixtures``). ``python_minor`` is the
#: bare "3.6" that setuptools / distribute / Python-urllib send; every other client not
#: listed sends only its name and version.
#: Every ``details`` field a full user agent (pip's) fills.
UA_DETAIL_FIELDS = (
    "python",
    "implementation",
    "distro",
    "system",
    "cpu",
    "openssl_version",
    "setuptools_version",
    "ci",
)
UA_FIELDS: dict[str, frozenset[str]] = {
    "pip": frozenset(UA_DETAIL_FIELDS),
    "uv": frozenset({"python", "implementation", "distro", "system", "cpu", "ci"}),
    "poetry": frozenset({"implementation", "system"}),
    "pdm": frozenset({"implementation"}),
    "twine": frozenset({"implementation"}),
    "setuptools": frozenset({"python_minor"}),
    "distribute": frozenset({"python_minor"}),
}
#: Unrecognised clients: share sending a parsable "Python-urllib/3.x" (python only, no
#: installer) and share sending "(null)" (linehaul stores no ``details`` at all).
UNKNOWN_URLLIB_SHARE = 0.25
UNKNOWN_NULL_DETAILS_SHARE = 0.35
MIRROR_INSTALLERS: dict[str, float] = {
    "bandersnatch": 0.55,
    "Artifactory": 0.18,
    "Nexus": 0.14,
    "devpi": 0.10,
    "z3c.pypimirror": 0.02,
    "pep381client": 0.01,
}

# (system, release, distro name, distro version, distro id, libc, libc version, cpu, openssl)
OS_ROWS: tuple[tuple[str | None, ...], ...] = (
    (
        "Linux",
        "6.8.0-1017-azure",
        "Ubuntu",
        "24.04",
        "noble",
        "glibc",
        "2.39",
        "x86_64",
        "OpenSSL 3.0.13 30 Jan 2024",
    ),
    (
        "Linux",
        "6.11.0-1018-azure",
        "Ubuntu",
        "24.04",
        "noble",
        "glibc",
        "2.39",
        "x86_64",
        "OpenSSL 3.0.13 30 Jan 2024",
    ),
    (
        "Linux",
        "5.15.0-1040-aws",
        "Ubuntu",
        "22.04",
        "jammy",
        "glibc",
        "2.35",
        "x86_64",
        "OpenSSL 3.0.2 15 Mar 2022",
    ),
    (
        "Linux",
        "6.1.0-28-cloud-amd64",
        "Debian GNU/Linux",
        "12",
        "bookworm",
        "glibc",
        "2.36",
        "x86_64",
        "OpenSSL 3.0.15 3 Sep 2024",
    ),
    (
        "Linux",
        "6.1.0-28-cloud-arm64",
        "Debian GNU/Linux",
        "12",
        "bookworm",
        "glibc",
        "2.36",
        "aarch64",
        "OpenSSL 3.0.15 3 Sep 2024",
    ),
    (
        "Linux",
        "6.6.56+",
        "Alpine Linux",
        "3.20.3",
        None,
        "musl",
        "1.2.5",
        "x86_64",
        "OpenSSL 3.3.2 3 Sep 2024",
    ),
    (
        "Linux",
        "6.1.112-124.190.amzn2023.x86_64",
        "Amazon Linux",
        "2023",
        "amzn",
        "glibc",
        "2.34",
        "x86_64",
        "OpenSSL 3.0.8 7 Feb 2023",
    ),
    (
        "Linux",
        "4.18.0-553.el8_10.x86_64",
        "Red Hat Enterprise Linux",
        "8.10",
        "ootpa",
        "glibc",
        "2.28",
        "x86_64",
        "OpenSSL 1.1.1k  FIPS 25 Mar 2021",
    ),
    (
        "Linux",
        "6.8.0-48-generic",
        "Ubuntu",
        "24.04",
        "noble",
        "glibc",
        "2.39",
        "x86_64",
        "OpenSSL 3.0.13 30 Jan 2024",
    ),
    (
        "Linux",
        "6.11.5-300.fc41.x86_64",
        "Fedora Linux",
        "41",
        None,
        "glibc",
        "2.40",
        "x86_64",
        "OpenSSL 3.2.2 4 Jun 2024",
    ),
    ("Darwin", "24.6.0", "macOS", "15.6", None, None, None, "arm64", "OpenSSL 3.5.2 5 Aug 2025"),
    ("Darwin", "23.6.0", "macOS", "14.7", None, None, None, "arm64", "OpenSSL 3.4.0 22 Oct 2024"),
    ("Darwin", "22.6.0", "macOS", "13.7", None, None, None, "x86_64", "OpenSSL 3.0.15 3 Sep 2024"),
    ("Windows", "11", None, None, None, None, None, "AMD64", "OpenSSL 3.0.15 3 Sep 2024"),
    ("Windows", "10", None, None, None, None, None, "AMD64", "OpenSSL 3.0.13 30 Jan 2024"),
    (None, None, None, None, None, None, None, None, None),
)
# Weights over OS_ROWS by traffic kind (same order).
OS_WEIGHTS: dict[str, tuple[float, ...]] = {
    "human": (3, 2, 8, 6, 1, 1, 3, 3, 9, 2, 14, 8, 3, 17, 10, 0.5),
    "ci": (30, 24, 14, 12, 3, 5, 4, 1, 1, 0.5, 3, 0.5, 0.2, 1.5, 0.5, 0.3),
    "mirror": (2, 1, 6, 8, 1, 1, 4, 10, 1, 0, 0, 0, 0, 0.5, 0.5, 2),
    "unknown": (0,) * 15 + (1,),
}

# Countries (alpha-2) and the share of human traffic worldwide.
COUNTRY_SHARES: dict[str, float] = {
    "US": 0.34,
    "CN": 0.09,
    "DE": 0.055,
    "IN": 0.05,
    "GB": 0.04,
    "FR": 0.03,
    "JP": 0.03,
    "CA": 0.025,
    "KR": 0.022,
    "NL": 0.02,
    "BR": 0.02,
    "SG": 0.018,
    "IE": 0.017,
    "AU": 0.015,
    "RU": 0.015,
    "SE": 0.01,
    "CH": 0.01,
    "ES": 0.01,
    "IT": 0.01,
    "PL": 0.01,
    "TW": 0.009,
    "HK": 0.008,
    "FI": 0.006,
    "IL": 0.006,
    "BE": 0.006,
    "AT": 0.005,
    "DK": 0.005,
    "NO": 0.004,
    "CZ": 0.004,
    "UA": 0.004,
    "VN": 0.004,
    "ID": 0.004,
    "TR": 0.004,
    "MX": 0.004,
    "AR": 0.003,
    "ZA": 0.003,
    "PT": 0.003,
    "RO": 0.003,
    "NZ": 0.002,
    "TH": 0.002,
    "MY": 0.002,
    "PH": 0.002,
    "CO": 0.002,
    "CL": 0.002,
    "EG": 0.001,
    "NG": 0.001,
    "PK": 0.001,
    "BD": 0.001,
    "IR": 0.001,
    "KE": 0.001,
}
# CI runners sit in a few cloud regions.
CI_COUNTRY_SHARES: dict[str, float] = {
    "US": 0.72,
    "IE": 0.06,
    "DE": 0.05,
    "NL": 0.04,
    "GB": 0.03,
    "SG": 0.03,
    "JP": 0.02,
    "CA": 0.02,
    "AU": 0.01,
    "IN": 0.01,
    "BR": 0.01,
}
MIRROR_COUNTRY_SHARES: dict[str, float] = {
    "US": 0.35,
    "DE": 0.15,
    "CN": 0.15,
    "JP": 0.08,
    "GB": 0.07,
    "FR": 0.06,
    "NL": 0.06,
    "RU": 0.04,
    "KR": 0.04,
}

# Hour-of-day weights (UTC) for human traffic: Europe + Americas working hours.
HUMAN_HOURS: tuple[float, ...] = (
    2.0,
    1.6,
    1.4,
    1.5,
    1.9,
    2.6,
    3.6,
    4.6,
    5.3,
    5.6,
    5.6,
    5.4,
    5.6,
    6.2,
    6.7,
    6.8,
    6.4,
    5.6,
    4.8,
    4.2,
    3.7,
    3.2,
    2.8,
    2.4,
)
CI_HOURS: tuple[float, ...] = tuple(2.0 + 0.6 * h for h in HUMAN_HOURS)

#: Demo volumes: quantiles of real pip downloads a day per package (typogard, Feb 2020),
#: interpolated log-linearly; the top is cut at ``POPULARITY_MAX``.
POPULARITY_QUANTILES: tuple[tuple[float, float], ...] = (
    (0.0, 0.08),
    (0.1, 0.29),
    (0.25, 0.43),
    (0.44, 1.0),
    (0.5, 1.14),
    (0.6, 1.86),
    (0.75, 4.14),
    (0.9, 21.1),
    (0.95, 94.4),
    (0.99, 2844.0),
    (1.0, 20_000.0),
)
POPULARITY_MAX = 6_000.0
#: Share of a package's people (human + CI) downloads that pip makes (the rest: uv,
#: poetry, pdm, rarer clients); popularity quantiles are pip counts, so base = pip / this.
PIP_SHARE = 0.8
#: Mirror and scanner fetches per version per day: per package lognormal (median, σ).
MIRROR_PER_VERSION = 1.5
MIRROR_SIGMA = 1.0
#: e-folding time (days) for floating users to move to a new release.
ADOPTION_DAYS = 4.0
#: Share of rows with no country (linehaul leaves it NULL when the edge has none).
NULL_COUNTRY_SHARE = 0.002
#: Share of traffic from unrecognised clients (installer NULL, Browser, requests).
UNKNOWN_SHARE = 0.03
#: Extra fetches of a new release on its day (half again the next day): on the real daily
#: series of 622 new packages, bursts of 10–50 downloads around releases are common.
RELEASE_BURST = 12.0
RELEASE_BURST_SHARE = 0.3
