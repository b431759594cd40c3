"""Each signal on small hand-built frames: fires where it should, quiet on organic traffic,
fine on tiny packages and single-day ranges."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.population import features as feature_set
from workbench.population import peers as peer_stats
from workbench.query import DayRange
from workbench.schema import DEPENDENTS, RELEASES
from workbench.signals import evaluate, summarize
from workbench.signals.composition import composition_findings, distance, noise
from workbench.signals.fingerprint import describe
from workbench.signals.geography import geo_findings
from workbench.signals.installers import installer_findings
from workbench.signals.newpkg import new_package_findings, typo_twin
from workbench.signals.traffic import ci_findings, mirror_findings
from workbench.signals.versions import version_findings
from workbench.signals.volume import volume_findings

from .frames import START, combine, context, release, rollup, seasonal

DAYS = 84


def _fired(findings: list, signal: str | None = None) -> list:
    return [f for f in findings if f.fired and (signal is None or f.signal == signal)]


# -- volume -----------------------------------------------------------------------------


def test_surge_fires_on_a_seasonal_series() -> None:
    series = seasonal(DAYS, 500, seed=1)
    for i in range(50, 57):
        series[i] += 50_000 // 7  # 500/day -> +50,000 a week
    found = _fired(volume_findings(context(rollup("p", series), DAYS)))
    assert len(found) == 1
    f = found[0]
    assert f.start == START + dt.timedelta(days=50) and f.end == START + dt.timedelta(days=56)
    assert f.metrics["ratio"] > 10 and f.level == "high" and f.inorganic
    assert "Nothing in the release history" in f.text
    assert {"date", "downloads", "expected"} <= set(f.evidence.columns)


@pytest.mark.parametrize("level", [2, 8, 40, 500, 20_000])
def test_organic_seasonal_traffic_stays_quiet(level: int) -> None:
    parts = [rollup(f"p{s}", seasonal(DAYS, level, seed=s, weekend=0.4)) for s in range(5)]
    assert _fired(volume_findings(context(combine(*parts), DAYS))) == []


def test_a_one_day_burst_is_reported_as_context_not_as_fake_traffic() -> None:
    """Real packages' busiest day is often 10–20× their median day: a lone day is a look."""
    series = seasonal(DAYS, 40, seed=2)
    series[60] += 400
    (f,) = [f for f in volume_findings(context(rollup("p", series), DAYS)) if f.start]
    assert f.start == f.end == START + dt.timedelta(days=60)
    assert f.inorganic is None and f.strength <= 0.45
    assert "everyday noise" in f.text
    series[60:64] = [s + 400 for s in series[60:64]]  # four days: a claim again
    (g,) = _fired(volume_findings(context(rollup("p", series), DAYS)))
    assert g.inorganic and g.end == START + dt.timedelta(days=63)


def test_drop_to_zero_is_reported() -> None:
    series = seasonal(DAYS, 200, seed=3)
    for i in range(70, DAYS):
        series[i] = 0
    found = _fired(volume_findings(context(rollup("p", series), DAYS)))
    assert [f.title for f in found] == ["Drop to zero"]
    assert found[0].metrics["to_zero"]


def test_single_day_and_tiny_inputs_do_not_break() -> None:
    assert volume_findings(context(rollup("p", [5]), 1)) == []
    assert _fired(evaluate(context(rollup("p", [0, 1, 0, 2]), 4))) == []


def test_surge_explained_by_a_release() -> None:
    series = seasonal(DAYS, 300, seed=4)
    for i in range(60, 63):
        series[i] += 3000
    base = rollup("p", series[:60], version="1.0.0")
    burst = rollup("p", series[60:], version="2.0.0", start=START + dt.timedelta(days=60))
    rel = pl.DataFrame(
        [
            release("p", "1.0.0", START - dt.timedelta(days=200)),
            release("p", "2.0.0", START + dt.timedelta(days=59)),
        ],
        schema=RELEASES,
    )
    found = _fired(volume_findings(context(combine(base, burst), DAYS, releases=rel)))
    assert found and "release 2.0.0" in (found[0].explanation or "")
    assert found[0].inorganic is None


def test_surge_explained_by_a_new_dependent() -> None:
    parent = seasonal(DAYS, 5000, seed=5)
    child = seasonal(DAYS, 20, seed=6)
    adoption = [0.0] * 50 + [min(1.0, (i + 1) / 6) for i in range(DAYS - 50)]
    parent_new = [int(p * a) for p, a in zip(parent, adoption, strict=True)]
    parent_old = [p - n for p, n in zip(parent, parent_new, strict=True)]
    child = [c + int(0.4 * n) for c, n in zip(child, parent_new, strict=True)]
    parts = combine(
        rollup("child", child),
        rollup("parent", parent_old, version="1.0"),
        rollup("parent", parent_new, version="2.0"),
    )
    deps = pl.DataFrame(
        [
            {
                "project": "child",
                "dependent": "parent",
                "version": "2.0",
                "upload_time": dt.datetime.combine(
                    START + dt.timedelta(days=50), dt.time(9), tzinfo=dt.UTC
                ),
                "requirement": "child>=0.3",
            }
        ],
        schema=DEPENDENTS,
    )
    found = [
        f
        for f in _fired(volume_findings(context(parts, DAYS, dependents=deps)))
        if f.project == "child"
    ]
    assert len(found) == 1
    f = found[0]
    assert f.metrics["dependent"] == "parent" and f.metrics["correlation"] > 0.8
    assert f.inorganic is False and "parent started to require it" in (f.explanation or "")
    assert f.metrics["persists"] and "persists to the end" in f.text


# -- CI / mirrors -----------------------------------------------------------------------


def test_ci_only_package_is_reported_as_automated() -> None:
    parts = combine(
        rollup("bot", [980] * 14, ci=True, system="Linux"),
        rollup("bot", [20] * 14, system="Darwin"),
        rollup("org", [600] * 14, system="Linux"),
        rollup("org", [400] * 14, system="Windows"),
    )
    found = {f.project: f for f in ci_findings(context(parts, 14))}
    assert found["bot"].fired and "98% of downloads look automated" in found["bot"].text
    assert not found["org"].fired


def test_mirror_blind_spot_is_always_stated() -> None:
    parts = combine(rollup("p", [100] * 7), rollup("p", [30] * 7, installer="bandersnatch"))
    (f,) = mirror_findings(context(parts, 7))
    assert (
        "lower bound" in f.text
        and "bandersnatch" in f.text
        and f.metrics["mirror_downloads"] == 210
    )


# -- versions ---------------------------------------------------------------------------


def _versions(newer_day: dt.date | None) -> list[object]:
    parts = combine(
        rollup("p", [900] * 28, version="1.0.0"), rollup("p", [100] * 28, version="3.0.0")
    )
    rels = [release("p", "1.0.0", START - dt.timedelta(days=760))]
    if newer_day is not None:
        rels.append(release("p", "3.0.0", newer_day))
    return version_findings(context(parts, 28, releases=pl.DataFrame(rels, schema=RELEASES)))


def test_majority_on_a_two_year_old_version_is_pinned() -> None:
    (f,) = _versions(START - dt.timedelta(days=200))
    assert f.fired and f.title == "Pinned on 1.0.0" and "pinned" in f.text


def test_old_but_latest_release_is_stable_not_pinned() -> None:
    (f,) = _versions(None)
    assert not f.fired and "stable" in f.text


def test_a_release_from_last_week_is_adoption_in_progress() -> None:
    assert [f for f in _versions(START + dt.timedelta(days=24)) if f.fired] == []


# -- geography --------------------------------------------------------------------------


def _peers(n: int = 30) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    return [rollup(f"peer{i}", seasonal(DAYS, 100, seed=i)) for i in range(n)]


def test_new_concentration_against_peers_fires() -> None:
    target = combine(
        rollup("t", seasonal(DAYS, 100, seed=99)),
        rollup("t", [0] * 30 + [400] * (DAYS - 30), country="VN"),
    )
    found = [f for f in geo_findings(context(combine(target, *_peers()), DAYS)) if f.project == "t"]
    assert len(found) == 1 and found[0].fired and found[0].inorganic
    assert found[0].metrics["top_country"] == "VN" and "is new" in found[0].text


def test_stable_concentration_is_reported_at_medium_but_not_flagged() -> None:
    """A long-standing concentration far above its peers: a medium finding that names both
    readings (a regional audience, a long-running campaign) and what to look at next; it
    does not make the package suspicious on its own."""
    target = combine(
        rollup("t", seasonal(DAYS, 100, seed=98)),
        rollup("t", seasonal(DAYS, 300, seed=97), country="CN"),
    )
    found = [f for f in geo_findings(context(combine(target, *_peers()), DAYS)) if f.project == "t"]
    assert len(found) == 1 and found[0].level == "medium" and found[0].inorganic is None
    assert "regional audience" in found[0].text and "campaign" in found[0].text
    assert not summarize(found)[0].flagged


def test_global_mix_is_quiet() -> None:
    assert [f for f in geo_findings(context(combine(*_peers()), DAYS)) if f.fired] == []


# -- installer shift --------------------------------------------------------------------


def test_pip_to_uv_shift_is_explained_not_growth() -> None:
    uv = [100] * 28 + [100 + 40 * i for i in range(28)] + [1200] * 28
    pip = [900] * 28 + [900 - 25 * i for i in range(28)] + [200] * 28
    parts = combine(rollup("p", pip), rollup("p", uv, installer="uv"))
    (f,) = installer_findings(context(parts, DAYS))
    assert f.fired and f.inorganic is False and "not new users" in f.text
    assert f.metrics["uv_share_after"] > 0.8


def test_steady_installer_mix_is_quiet() -> None:
    parts = combine(
        rollup("p", seasonal(DAYS, 900, seed=1)),
        rollup("p", seasonal(DAYS, 100, seed=2), installer="uv"),
    )
    assert installer_findings(context(parts, DAYS)) == []


# -- new packages -----------------------------------------------------------------------


def test_new_package_with_ten_thousand_in_week_one() -> None:
    series = [0] * 40 + [3000, 2500, 2000, 1500, 1200, 900, 800] + [20] * 37
    (f,) = new_package_findings(context(rollup("n", series, clients=2), DAYS))
    assert f.fired and f.start == START + dt.timedelta(days=40)
    assert f.metrics["first_week"] == 11_900 and "above the largest" in f.text


def test_typical_new_package_and_old_package_are_quiet() -> None:
    typical = [0] * 40 + [10, 6, 4, 3, 2, 2, 1] + [1] * 37
    parts = combine(rollup("typical", typical), rollup("old", seasonal(DAYS, 3000)))
    assert new_package_findings(context(parts, DAYS)) == []


def _ramp_context(clients: int) -> list:
    """A package first seen on day 30, a quiet week, then 15 → 70 a day, beside a popular
    ``requests`` and 20 peers of similar volume with 40 clients a day."""
    ramp = [0] * 30 + [4, 3, 2, 2, 1, 1, 1] + [min(70, 5 * k) for k in range(1, DAYS - 36)]
    peers = [rollup(f"peer{i}", seasonal(DAYS, 60, seed=i), clients=40) for i in range(20)]
    population = combine(*peers)
    span = DayRange(START, START + dt.timedelta(days=DAYS - 1))
    feats = feature_set.from_rollups(population[0].lazy(), population[1].lazy())
    baseline = peer_stats.build(feats, span, source="test peers", tier="clients")
    parts = combine(
        rollup("reqests", ramp, clients=clients),
        rollup("requests", seasonal(DAYS, 3000, seed=3), clients=400),
        *peers,
    )
    found = new_package_findings(context(parts, DAYS, peers=baseline))
    return [f for f in found if f.project == "reqests"]


def test_a_new_package_ramping_from_a_few_clients_is_inorganic() -> None:
    """Under the first-week limit, but growing where real new packages decay, from 4 clients
    a day: the typosquat ramp."""
    (f,) = _ramp_context(clients=4)
    assert f.fired and f.inorganic is True and f.title == "New package ramping up"
    assert f.metrics["pool_vs_peers"] < 0.6 and f.metrics["typo_of"] == "requests"
    assert "one typo away from requests" in f.text


def test_a_new_package_ramping_from_many_clients_is_only_worth_a_look() -> None:
    (f,) = _ramp_context(clients=60)
    assert not f.fired and f.inorganic is None


def test_typo_twins() -> None:
    ctx = context(
        combine(
            rollup("requests", [1000] * 5),
            rollup("reqeusts", [5] * 5),
            rollup("python-requests", [5] * 5),
            rollup("flask", [5] * 5),
        ),
        5,
    )
    assert typo_twin("reqeusts", ctx) == "requests"
    assert typo_twin("python-requests", ctx) == "requests"
    assert typo_twin("flask", ctx) is None
    assert typo_twin("requests", ctx) is None  # the popular one is nobody's twin


def _resync(every_version: bool) -> list:
    """A package of 12 releases, 400 downloads a day of the latest, and one day on which one
    client fetches 600 files: every release evenly (a mirror re-sync) or the latest only."""
    versions = [f"1.{k}.0" for k in range(12)]
    day = [0] * 60 + [50] + [0] * (DAYS - 61)
    rows = [
        rollup("p", day, version=v, installer="requests", country="DE")[0]
        for v in (versions if every_version else [versions[-1]] * 12)
    ]
    # one client: its fingerprint rows are one per day, as the fingerprint rollup has them
    client = rollup("p", [12 * n for n in day], clients=1, installer="requests", country="DE")
    parts = combine(
        rollup("p", seasonal(DAYS, 400, seed=21), version=versions[-1], clients=300),
        (pl.concat(rows), client[1]),
        *[rollup(f"peer{i}", seasonal(DAYS, 60, seed=i), clients=40) for i in range(12)],
    )
    rels = [
        release("p", v, START - dt.timedelta(days=400 - 30 * k)) for k, v in enumerate(versions)
    ]
    ctx = context(parts, DAYS, releases=pl.DataFrame(rels, schema=RELEASES))
    return [f for f in evaluate(ctx) if f.project == "p"]


def test_one_client_copying_every_release_is_a_mirror_not_a_campaign() -> None:
    found = _resync(every_version=True)
    assert not [f for f in found if f.fired and f.inorganic]
    (fp,) = [f for f in found if f.signal == "narrow_fingerprint"]
    assert fp.title == "One client copies every release" and fp.inorganic is False
    assert not summarize(found)[0].flagged


def test_one_client_repeating_the_latest_release_is_still_a_campaign() -> None:
    found = _resync(every_version=False)
    assert [f for f in found if f.fired and f.inorganic and f.signal == "narrow_fingerprint"]
    assert summarize(found)[0].flagged


# -- narrow fingerprint ---------------------------------------------------------------------


def test_one_dominant_client_against_peers() -> None:
    target = combine(
        rollup("t", seasonal(DAYS, 300, seed=50), clients=200),
        rollup("t", [0] * 60 + [2000] * 6 + [0] * 18, clients=1, installer="pip"),
    )
    parts = combine(
        target, *[rollup(f"peer{i}", seasonal(DAYS, 300, seed=i), clients=200) for i in range(12)]
    )
    found = _fired(evaluate(context(parts, DAYS), only=["narrow_fingerprint"]))
    assert [f.project for f in found] == ["t"]
    f = found[0]
    assert f.start == START + dt.timedelta(days=60) and f.metrics["share"] > 0.8
    assert "scripted" in f.text and f.evidence.height >= 1


def test_describe_fingerprint() -> None:
    text = describe("pip|23.0.1|3.10.12|CPython|Linux|5.15.0|Ubuntu|22.04|x86_64|US")
    assert text == "pip 23.0.1 · CPython 3.10.12 · Ubuntu 22.04 (Linux 5.15.0) · x86_64 · US"
    assert describe("||||||||") == "unknown client"


# -- summary ----------------------------------------------------------------------------


def test_summary_ranks_and_explains() -> None:
    series = seasonal(DAYS, 300, seed=8)
    for i in range(60, 66):
        series[i] += 6000
    parts = combine(rollup("bad", series, clients=1), *_peers(12))
    findings = evaluate(context(parts, DAYS))
    summaries = summarize(findings)
    assert summaries[0].project == "bad" and summaries[0].flagged
    assert "Points at fake traffic" in summaries[0].text()
    quiet = next(s for s in summaries if s.project == "peer0")
    assert not quiet.flagged and "organic" in quiet.text()


# -- what the extra traffic is made of ---------------------------------------------------


def _usual(series_pip: list[int], series_uv: list[int]) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    return [
        rollup("p", series_pip, installer="pip", system="Linux", clients=60),
        rollup("p", series_uv, installer="uv", system="Darwin", country=("US", "GB"), clients=20),
    ]


def test_extra_traffic_unlike_the_usual_users_is_inorganic() -> None:
    """A week of installs from one country, a narrow client pool, one version: unlike the
    package's users on several counts, with nothing to explain it — inorganic even though no
    single client dominates."""
    pip, uv = seasonal(DAYS, 200, seed=11), seasonal(DAYS, 60, seed=12)
    extra = [3000 if 50 <= i < 57 else 0 for i in range(DAYS)]
    parts = [*_usual(pip, uv), rollup("p", extra, country="NL", version="9.9.9", clients=30)]
    found = _fired(composition_findings(context(combine(*parts), DAYS)))
    assert len(found) == 1 and found[0].inorganic is True
    f = found[0]
    moved = set(f.evidence.filter(pl.col("moved"))["dimension"].to_list())
    assert {"country", "version"} <= moved
    assert "NL" in f.text and "No release or dependent explains it" in f.text


def test_more_of_the_same_users_looks_usual() -> None:
    """A blog-post spike: ten times the traffic for a week, in the usual mix."""
    pip, uv = seasonal(DAYS, 200, seed=13), seasonal(DAYS, 60, seed=14)
    for series in (pip, uv):
        for i in range(50, 57):
            series[i] *= 10
    found = composition_findings(context(combine(*_usual(pip, uv)), DAYS))
    assert found and not [f for f in found if f.fired]
    assert found[0].title == "Extra traffic looks usual"


def test_a_surge_of_the_usual_users_makes_no_claim_of_fake_traffic() -> None:
    """The same blog-post spike through every signal: volume reports it, the composition
    says the extra looks usual, so the surge is context and nothing is flagged."""
    pip, uv = seasonal(DAYS, 200, seed=13), seasonal(DAYS, 60, seed=14)
    for series in (pip, uv):
        for i in range(50, 57):
            series[i] *= 10
    found = evaluate(context(combine(*_usual(pip, uv)), DAYS))
    (surge,) = [f for f in found if f.signal == "volume_change" and f.start]
    assert surge.inorganic is None and surge.strength <= 0.45
    assert "look like the package's usual users" in surge.text
    assert not [f for f in found if f.fired and f.inorganic]
    alone = _fired(volume_findings(context(combine(*_usual(pip, uv)), DAYS)))
    assert alone and alone[0].inorganic  # volume alone could not tell


def test_the_distance_is_zero_for_the_same_mix_and_one_for_a_disjoint_one() -> None:
    usual = {"a": 60.0, "b": 40.0}
    assert distance(usual, {"a": 600.0, "b": 400.0}, expected=100.0)[0] < 1e-9
    assert abs(distance(usual, {"a": 60.0, "b": 40.0, "c": 500.0}, expected=100.0)[0] - 1) < 1e-9
    assert noise(usual, 10) > noise(usual, 1000)
