"""Detectors measured against ground truth: recall per scenario, precision per signal.

The demo's ``ground_truth.csv`` labels one scenario per package. A scenario is
*detected* when a signal expected to see it fires on that package (for a
dependency surge, the surge must also be explained by the right dependent). A
fired finding is *correct* when its package carries a scenario that signal is
expected to see, or when both the signal and the package are about fake
traffic (a campaign can also show up as a geographic anomaly); findings that are context
only (neither fake nor misleading: a stable concentration, a release-explained surge) make
no claim and are not counted. Organic packages (no label) must stay unflagged, and so must
the *look-alikes* (organic traffic shaped like a campaign: a blog post's spike, a mirror
re-sync, a CI-heavy plugin, a regional package); their false alarms are counted apart.

The evasive campaigns (:mod:`workbench.demo.campaigns`) spread their traffic so that no
single client or country dominates. What still gives them away, and so what each expects:

* ``traffic_composition`` for all of them: the extra traffic is unlike the package's users
  (server images instead of its desktops and CI, other countries, one version) and nothing
  explains it; a rotating pool also shows as few distinct clients per 1,000 downloads;
* ``volume_change``: every one is a surge (a slow ramp too, against its trailing baseline);
* ``narrow_fingerprint`` where the pool stays small enough that its busiest client still
  stands out for the day's volume (cloud spread, release-timed, CI cover, slow ramp);
* ``geography`` for a spread campaign whose few cloud countries still displace the users';
* a typosquat that stays under the first-week limit has no surge (its ramp *is* its
  history) and no usual users to differ from: what is left is the new-package signal on
  its first weeks and its narrow client pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.analysis import Analysis
from workbench.demo.catalog import LOOKALIKES as _LOOKALIKE_COUNTS

EXPECTED: dict[str, frozenset[str]] = {
    "inflation_campaign": frozenset({"narrow_fingerprint", "volume_change"}),
    "micro_inflation": frozenset({"narrow_fingerprint", "volume_change"}),
    "new_package_burst": frozenset({"new_package_burst", "narrow_fingerprint"}),
    "dependency_surge": frozenset({"volume_change"}),
    "ci_only": frozenset({"ci_traffic"}),
    "stale_pinned": frozenset({"version_distribution"}),
    "geo_concentration": frozenset({"geography", "volume_change"}),
    "installer_shift": frozenset({"installer_shift"}),
    # evasive campaigns
    "rotating_clients": frozenset({"traffic_composition", "volume_change"}),
    "cloud_spread": frozenset(
        {"traffic_composition", "volume_change", "narrow_fingerprint", "geography"}
    ),
    "slow_ramp": frozenset({"traffic_composition", "volume_change", "narrow_fingerprint"}),
    "release_timed": frozenset({"traffic_composition", "volume_change", "narrow_fingerprint"}),
    "ci_cover": frozenset({"traffic_composition", "volume_change", "narrow_fingerprint"}),
    "typosquat_ramp": frozenset({"new_package_burst", "narrow_fingerprint"}),
    # organic look-alikes: what may describe them (never as fake traffic)
    "blog_spike": frozenset({"volume_change", "traffic_composition"}),
    "mirror_resync": frozenset({"mirror_blind_spot"}),
    "ci_heavy_plugin": frozenset({"ci_traffic"}),
    "regional_package": frozenset({"geography"}),
}
#: What is also true of a scenario's package without finding its campaign: a campaign
#: hidden in a CI-heavy package's traffic leaves that package CI-heavy, so saying so is right.
ALSO_TRUE: dict[str, frozenset[str]] = {"ci_cover": frozenset({"ci_traffic"})}
#: Organic traffic shaped like a campaign: reported at most as context, never flagged.
LOOKALIKES = frozenset(_LOOKALIKE_COUNTS)
INORGANIC_SIGNALS = frozenset(
    {"narrow_fingerprint", "new_package_burst", "geography", "volume_change", "traffic_composition"}
)


@dataclass(frozen=True)
class Evaluation:
    scenarios: pl.DataFrame  # scenario, labelled, detected, flagged, lookalike, recall, …
    signals: pl.DataFrame  # signal, fired, correct, precision
    organic: int
    organic_flagged: int
    flagged: int
    flagged_inorganic: int
    lookalikes: int = 0
    lookalikes_flagged: int = 0

    @property
    def organic_flag_rate(self) -> float:
        return self.organic_flagged / self.organic if self.organic else 0.0

    @property
    def lookalike_flag_rate(self) -> float:
        return self.lookalikes_flagged / self.lookalikes if self.lookalikes else 0.0

    @property
    def flag_precision(self) -> float:
        return self.flagged_inorganic / self.flagged if self.flagged else 1.0


def evaluate_against(analysis: Analysis, truth: pl.DataFrame) -> Evaluation:
    """Score ``analysis`` against a ground-truth table (project, scenario, inorganic, related)."""
    labels = {r["project"]: r for r in truth.iter_rows(named=True)}
    fired = [f for f in analysis.findings if f.fired]
    rows = []
    for r in truth.iter_rows(named=True):
        mine = [
            f for f in fired if f.project == r["project"] and f.signal in EXPECTED[r["scenario"]]
        ]
        if r["scenario"] == "dependency_surge":
            mine = [f for f in mine if f.metrics.get("dependent") == r["related"]]
        summary = analysis.summary_of(r["project"])
        rows.append(
            {
                "scenario": r["scenario"],
                "detected": bool(mine),
                "flagged": bool(summary and summary.flagged),
                "inorganic": bool(r["inorganic"]),
            }
        )
    per = pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "detected": pl.Boolean,
            "flagged": pl.Boolean,
            "inorganic": pl.Boolean,
        },
    )
    scenarios = (
        per.group_by("scenario")
        .agg(
            labelled=pl.len(),
            detected=pl.col("detected").sum(),
            flagged=pl.col("flagged").sum(),
            inorganic=pl.col("inorganic").first(),
        )
        .with_columns(lookalike=pl.col("scenario").is_in(list(LOOKALIKES)))
        .with_columns(
            recall=pl.col("detected") / pl.col("labelled"),
            flag_recall=pl.when(pl.col("inorganic")).then(pl.col("flagged") / pl.col("labelled")),
        )
        .sort("scenario")
    )
    sig_rows = []
    for f in fired:
        if f.inorganic is None:
            continue  # context (a stable concentration, a release): no claim to be right about
        label = labels.get(f.project)
        correct = label is not None and (
            f.signal in EXPECTED[label["scenario"]]
            or f.signal in ALSO_TRUE.get(label["scenario"], frozenset())
            or (bool(label["inorganic"]) and f.signal in INORGANIC_SIGNALS and bool(f.inorganic))
        )
        if label is not None and label["scenario"] in LOOKALIKES and f.inorganic:
            correct = False  # organic traffic called fake
        sig_rows.append({"signal": f.signal, "correct": correct})
    signals = (
        pl.DataFrame(sig_rows, schema={"signal": pl.String, "correct": pl.Boolean})
        .group_by("signal")
        .agg(fired=pl.len(), correct=pl.col("correct").sum())
        .with_columns(precision=pl.col("correct") / pl.col("fired"))
        .sort("signal")
    )
    organic = [s for s in analysis.summaries if s.project not in labels and s.downloads > 0]
    flagged = [s for s in analysis.summaries if s.flagged]
    alike = [
        s
        for s in analysis.summaries
        if s.project in labels and labels[s.project]["scenario"] in LOOKALIKES
    ]
    return Evaluation(
        scenarios,
        signals,
        len(organic),
        sum(s.flagged for s in organic),
        len(flagged),
        sum(1 for s in flagged if s.project in labels and labels[s.project]["inorganic"]),
        len(alike),
        sum(s.flagged for s in alike),
    )
