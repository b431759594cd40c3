"""The suspicion summary: findings combined into a ranked, explained score per package.

Each finding contributes ``weight × strength``, where the weight says how much
that kind of evidence points at *fake* traffic (a dominant scripted client: a
lot; a release-explained surge: a little; a pip → uv shift: nothing). The score
is ``1 − Π(1 − contribution)`` over signals, taking each signal's strongest
finding: different signals corroborate each other, repeats of one signal do not,
and no signal alone exceeds its weight. The summary always lists what fired and what explained it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.signals.findings import Finding, level_of

# (signal, inorganic flag) -> weight
WEIGHTS: dict[tuple[str, bool | None], float] = {
    ("narrow_fingerprint", True): 0.95,
    ("new_package_burst", True): 0.9,
    ("geography", True): 0.8,
    ("geography", None): 0.15,
    # An unexplained surge alone is a reason to look, not a verdict: on 622 real new packages
    # 14 % have one (benchmarks/bench_realdata.py). It flags only with a corroborating signal.
    ("volume_change", True): 0.35,
    # Extra traffic unlike the package's users on several dimensions, unexplained: strong
    # evidence on its own, even with no dominant client (rotating pools, spread campaigns).
    ("traffic_composition", True): 0.8,
    ("traffic_composition", None): 0.15,
    ("volume_change", None): 0.2,
    ("volume_change", False): 0.05,
    ("ci_traffic", False): 0.1,
    ("version_distribution", False): 0.05,
}


@dataclass(frozen=True)
class Summary:
    project: str
    score: float
    downloads: int
    fired: tuple[Finding, ...]
    context: tuple[Finding, ...]

    @property
    def level(self) -> str:
        return level_of(self.score) if self.score >= 0.15 else "none"

    @property
    def flagged(self) -> bool:
        return self.score >= 0.4

    def text(self) -> str:
        if not self.fired:
            return "No signal fired: the traffic looks organic for its size."
        groups = (
            ("Points at fake traffic", [f for f in self.fired if f.inorganic]),
            ("Real but easy to misread", [f for f in self.fired if f.inorganic is False]),
            ("Also", [f for f in self.fired if f.inorganic is None]),
        )
        parts = [
            f"{label}: "
            + "; ".join(f"{f.title} ({f.when()})" if f.when() else f.title for f in items)
            + "."
            for label, items in groups
            if items
        ]
        return f"Suspicion {self.level} ({self.score:.2f}). " + " ".join(parts)


def contribution(f: Finding) -> float:
    return WEIGHTS.get((f.signal, f.inorganic), 0.0) * f.strength


def summarize(findings: list[Finding], downloads: dict[str, int] | None = None) -> list[Summary]:
    """One summary per project that has findings (or downloads), most suspicious first."""
    by: dict[str, list[Finding]] = {}
    for f in findings:
        by.setdefault(f.project, []).append(f)
    for project in downloads or {}:
        by.setdefault(project, [])
    out = []
    for project, items in by.items():
        strongest: dict[str, float] = {}  # repeats of one signal are one kind of evidence
        for f in items:
            strongest[f.signal] = max(strongest.get(f.signal, 0.0), contribution(f))
        keep = 1.0
        for value in strongest.values():
            keep *= 1 - value
        fired = tuple(sorted((f for f in items if f.fired), key=contribution, reverse=True))
        context = tuple(f for f in items if not f.fired)
        out.append(Summary(project, 1 - keep, (downloads or {}).get(project, 0), fired, context))
    return sorted(out, key=lambda s: (-s.score, -s.downloads, s.project))


def summary_frame(summaries: list[Summary]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "rank": i + 1,
                "project": s.project,
                "score": round(s.score, 3),
                "level": s.level,
                "downloads": s.downloads,
                "signals": ", ".join(f"{f.signal}:{f.level}" for f in s.fired),
                "summary": s.text(),
                "evidence": " ".join(f.text for f in s.fired[:2]),
            }
            for i, s in enumerate(summaries)
        ],
        schema={
            "rank": pl.Int64,
            "project": pl.String,
            "score": pl.Float64,
            "level": pl.String,
            "downloads": pl.Int64,
            "signals": pl.String,
            "summary": pl.String,
            "evidence": pl.String,
        },
    )
