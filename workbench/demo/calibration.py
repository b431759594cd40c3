"""Calibration of the demo data, and where each figure comes from.

All figures below were measured on the real exports in ``../shared/realdata``
(see its ``SOURCES.md``) or taken from public facts about the PyPI logs; the
test ``tests/test_calibration.py`` re-derives the measurable ones from those
files when they are present.

=============================  ==========================  ==============================================
figure                         value used                  source
=============================  ==========================  ==============================================
first-week downloads of a      lognormal, median 28,       soodoku/social_proof_stars
brand-new package              p90 112 (σ = 1.08)          ``pkg_pypi_downloads.csv``: 622 packages first
                                                           released 24–30 Apr 2023; median 28, p90 112,
                                                           p99 535, max 1,029 in the first 7 days
weekend / weekday volume       0.45 (human traffic),       pypistats ``python_minor`` daily fixture
                               0.78 (CI), 1.0 (mirrors)    (a 58k/day package, 2018): 0.42; the 622 new
                                                           packages above (mostly bots/mirrors): 0.69
python minor shares            3.11 24 %, 3.12 21 %,       hugovk/pypi-tools monthly python_minor,
                               3.10 18 %, 3.13 10 %,       55 popular packages, Oct 2025 – Jan 2026
                               3.9 10 %, 3.7 6 %, 3.8 5 %,
                               3.14 2 %, unknown 3.5 %
mirror traffic                 every version fetched       duckinator/bork-statistics: old versions each
                               about evenly, ~0.2 a day    ~105–115 a month in 2021 (18 versions);
                               per version                 bitplane/pypi-stats: unpromoted packages
                                                           60–780 a month (p10–p90), median 207
micro-inflation campaign       ~100 downloads over 6 days  soodoku/social_proof_stars experiment: 4,823
                               with ``pip install          packages given ~100 artificial downloads each,
                               --no-cache-dir``            3–8 June 2023
popularity                     Pareto tail, α = 0.6,      hugovk/top-pypi-packages: the 30-day counts
                               3/day to 6k/day (scaled)   fall ~1.9 decades per decade of rank between
                                                           ranks 100 and 10,000; demo volumes are scaled
                                                           down ~1,000× so a laptop holds them
``details.ci``                 TRUE or NULL, never FALSE;  pip sets it from CI env vars (linehaul/pip);
                               75 % of CI rows say TRUE    it is a lower bound on CI traffic
uv share of pip+uv             8–18 %, +4 points over      ~9 % of a day's downloads (FINDINGS.md)
                               the window
=============================  ==========================  ==============================================

Installer names, distro names, user-agent field shapes and mirror clients
follow pypi/linehaul-cloud-function's parser fixtures.
"""

from __future__ import annotations

import math

FIRST_WEEK_MEDIAN = 28.0
FIRST_WEEK_P90 = 112.0
#: The largest first week among the 622 real new packages; organic draws stay below it.
FIRST_WEEK_MAX = 1029.0
FIRST_WEEK_SIGMA = math.log(FIRST_WEEK_P90 / FIRST_WEEK_MEDIAN) / 1.2816

WEEKEND_FACTOR = {"human": 0.45, "ci": 0.78, "mirror": 1.0, "unknown": 0.9}

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
}
MIRROR_INSTALLERS: dict[str, float] = {
    "bandersnatch": 0.55,
    "Artifactory": 0.18,
    "Nexus": 0.14,
    "devpi": 0.10,
    "z3c.pypimirror": 0.03,
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

#: Demo volumes: a Pareto tail of base daily downloads (human + CI), clipped.
POPULARITY_ALPHA = 0.6
POPULARITY_MIN = 3.0
POPULARITY_MAX = 6_000.0
#: Mirror fetches per version per day (before weekly noise).
MIRROR_PER_VERSION = 0.2
#: Share of traffic from unrecognised clients (installer NULL, Browser, requests).
UNKNOWN_SHARE = 0.03
#: Extra fetches of a new release on its day (half again the next day): on the real daily
#: series of 622 new packages, bursts of 10–50 downloads around releases are common.
RELEASE_BURST = 12.0
RELEASE_BURST_SHARE = 0.3
