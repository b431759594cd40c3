"""Hand-built rollups for signal tests: a daily series becomes rollup + fingerprint rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from workbench.query import DayRange
from workbench.schema import FINGERPRINT_SEPARATOR, conform, empty
from workbench.signals import Context

START = dt.date(2026, 6, 1)
COUNTRIES = ("US", "DE", "GB", "FR", "IN", "JP", "CN", "BR", "CA", "NL")


def seasonal(days: int, level: float, *, seed: int = 0, weekend: float = 0.5) -> list[int]:
    """Organic-looking daily counts: weekday/weekend rhythm and Poisson noise."""
    rng = np.random.default_rng(seed)
    wd = [(START + dt.timedelta(days=i)).weekday() for i in range(days)]
    mean = np.array([level * (weekend if w >= 5 else 1.0) for w in wd])
    return [int(x) for x in rng.poisson(mean)]


def rollup(
    project: str,
    series: Sequence[int],
    *,
    installer: str = "pip",
    system: str = "Linux",
    ci: bool = False,
    version: str = "1.0.0",
    country: str | Sequence[str] = COUNTRIES,
    clients: int = 50,
    start: dt.date = START,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One rollup row per day and country (volume spread evenly), and a fingerprint table with
    ``clients`` distinct clients sharing each day's downloads evenly."""
    countries = [country] if isinstance(country, str) else list(country)
    rows, fps = [], []
    for i, n in enumerate(series):
        day = start + dt.timedelta(days=i)
        split = np.array_split(np.arange(n), len(countries))
        for c, part in zip(countries, split, strict=True):
            if len(part):
                rows.append(
                    {
                        "project": project,
                        "date": day,
                        "version": version,
                        "file_type": "bdist_wheel",
                        "installer": installer,
                        "python": "3.12",
                        "system": system,
                        "country": c,
                        "ci": ci,
                        "downloads": len(part),
                    }
                )
        per = np.array_split(np.arange(n), max(min(clients, n), 1))
        for k, part in enumerate(per):
            if len(part):
                fp = FINGERPRINT_SEPARATOR.join(
                    [
                        installer,
                        "24.0",
                        f"3.12.{k % 13}",
                        "CPython",
                        system,
                        f"6.{k}",
                        "Ubuntu",
                        "24.04",
                        "x86_64",
                        countries[k % len(countries)],
                    ]
                )
                fps.append(
                    {
                        "project": project,
                        "date": day,
                        "fingerprint": fp,
                        "downloads": len(part),
                        "fingerprints": len(per),
                    }
                )
    downloads = conform(pl.DataFrame(rows), "downloads") if rows else empty("downloads")
    fingerprints = conform(pl.DataFrame(fps), "fingerprints") if fps else empty("fingerprints")
    return downloads, fingerprints


def combine(*parts: tuple[pl.DataFrame, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return (pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts]))


def context(parts: tuple[pl.DataFrame, pl.DataFrame], days: int, **kw: object) -> Context:
    downloads, fingerprints = parts
    span = DayRange(START, START + dt.timedelta(days=days - 1))
    return Context(span, downloads.lazy(), fingerprints.lazy(), **kw)  # type: ignore[arg-type]


def release(
    project: str, version: str, day: dt.date, requires: Sequence[str] = ()
) -> dict[str, object]:
    return {
        "project": project,
        "version": version,
        "upload_time": dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
        "packagetypes": ["bdist_wheel"],
        "requires_dist": list(requires),
    }
