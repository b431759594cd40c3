"""Which peers an investigation is judged against: the population's baselines, loaded (or
bought, when asked to) through the cache.

A free source (the demo, Parquet exports, ClickPy) computes its population for the last
:data:`WINDOW` days of a range the first time it is needed; a paying source (BigQuery) uses
the days already held and never buys a population unless asked to (``buy``; the CLI's
``workbench population``, the apps' button), priced and confirmed like any query. The
baselines themselves are small and cached, so an investigation reopens with its peers
without reading the population again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workbench import data
from workbench.cache import Cache, make_key
from workbench.population import peers as peer_stats
from workbench.population.peers import Peers
from workbench.query import DayRange
from workbench.sources.base import Progress, Source
from workbench.sources.frozen import FrozenSource

#: The days of population a baseline is built from: the last four weeks of a range.
WINDOW = 28
#: Bump when the baselines' definition changes (cached baselines are then rebuilt).
VERSION = 1


@dataclass(frozen=True)
class Baseline:
    """The peers found for a range (or why there are none, in words)."""

    peers: Peers | None
    note: str


def window(days: DayRange) -> DayRange:
    """The population days a range's baseline comes from."""
    return DayRange(max(days.start, days.end - dt.timedelta(days=WINDOW - 1)), days.end)


def load(
    source: Source,
    days: DayRange,
    *,
    cache: Cache | None = None,
    buy: bool = False,
    tier: str | None = None,
    progress: Progress | None = None,
) -> Baseline:
    """The peers for ``days`` (its last :data:`WINDOW` days of population): of ``tier``, or
    of the richest tier whose days are all held, or of the source's default tier."""
    if isinstance(source, FrozenSource):  # a published case: the peers it was judged against
        return Baseline(source.peers, source.peers_note)
    cache = cache or Cache()
    tiers = source.population_tiers()
    if not tiers:
        return Baseline(None, f"{source.describe()} has no population of every package")
    span = window(days)
    if tier is None:
        whole = [t for t in tiers if len(data.population_held(source, span, t, cache)) == span.days]
        tier = whole[-1] if whole else source.default_tier()
    held = data.population_held(source, span, tier, cache)
    if len(held) < span.days and source.paid and not buy:
        return Baseline(
            None,
            f"no population of {source.describe()} is held for {span} ({len(held)} of "
            f"{span.days} days): fixed limits apply. 'workbench population --start "
            f"{span.start} --end {span.end} --source {source.kind} --tier {tier}' buys it "
            "after showing the price",
        )
    key = make_key(
        {
            "kind": "peers",
            "source": source.identity,
            "engine": source.engine(),
            "days": str(span),
            "tier": tier,
            "version": VERSION,
        }
    )
    complete = span.end < source.complete_before()
    frame = cache.get(key, "peers") if len(held) == span.days else None
    if frame is None:  # the population's days held, fetched (free) or bought (asked to)
        population = data.population(source, span, tier=tier, cache=cache, progress=progress)
        if progress:
            progress(f"building peer baselines from {population.packages:,} packages")
        built = peer_stats.build(population.frame, span, source=source.describe(), tier=tier)
        cache.store(
            key,
            "peers",
            built.to_frame(),
            complete=complete,
            description={"source": source.describe(), "days": str(span), "kind": "peers"},
        )
        return Baseline(built, built.describe())
    peers = Peers.from_frame(frame, source=source.describe(), days=span, tier=tier)
    return Baseline(peers, peers.describe())
