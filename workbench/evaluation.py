"""Detectors measured against ground truth: recall per scenario, precision per signal.

The demo's ``ground_truth.csv`` labels one scenario per package. A scenario is
*detected* when a signal expected to see it fires on that package (for a
dependency surge, the surge must also be explained by the right dependent). A
fired finding is *correct* when its package carries a scenario that signal is
expected to see, or when both the signal and the package are about fake
traffic (a campaign can also show up as a geographic anomaly); findings that are context
only (neither fake nor misleading: a stable concentration, a release-explained surge) make
no claim and are not counted. Organic packages (no label) must stay unflagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.analysis import Analysis

EXPECTED: dict[str, frozenset[str]] = {
    "inflation_campaign": frozenset({"narrow_fingerprint", "volume_change"}),
    "micro_inflation": frozenset({"narrow_fingerprint", "volume_change"}),
    "new_package_burst": frozenset({"new_package_burst", "narrow_fingerprint"}),
    "dependency_surge": frozenset({"volume_change"}),
    "ci_only": frozenset({"ci_traffic"}),
    "stale_pinned": frozenset({"version_distribution"}),
    "geo_concentration": frozenset({"geography", "volume_change"}),
    "installer_shift": frozenset({"installer_shift"}),
}
INORGANIC_SIGNALS = frozenset(
    {"narrow_fingerprint", "new_package_burst", "geography", "volume_change", "traffic_composition"}
)


@dataclass(frozen=True)
class Evaluation:
    scenarios: pl.DataFrame  # scenario, labelled, detected, flagged, recall, flag_recall
    signals: pl.DataFrame  # signal, fired, correct, precision
    organic: int
    organic_flagged: int
    flagged: int
    flagged_inorganic: int

    @property
    def organic_flag_rate(self) -> float:
        return self.organic_flagged / self.organic if self.organic else 0.0

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
            or (bool(label["inorganic"]) and f.signal in INORGANIC_SIGNALS and bool(f.inorganic))
        )
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
    return Evaluation(
        scenarios,
        signals,
        len(organic),
        sum(s.flagged for s in organic),
        len(flagged),
        sum(1 for s in flagged if s.project in labels and labels[s.project]["inorganic"]),
    )
