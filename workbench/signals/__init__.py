"""Signals: what the numbers say about a package, each a function ``Context -> [Finding]``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from workbench.signals.composition import composition_findings
from workbench.signals.context import Context
from workbench.signals.findings import Finding, findings_frame
from workbench.signals.fingerprint import fingerprint_findings
from workbench.signals.geography import geo_findings
from workbench.signals.installers import installer_findings
from workbench.signals.newpkg import new_package_findings
from workbench.signals.summary import Summary, summarize
from workbench.signals.traffic import ci_findings, mirror_findings
from workbench.signals.versions import version_findings
from workbench.signals.volume import volume_findings

SIGNALS: dict[str, Callable[[Context], list[Finding]]] = {
    "volume_change": volume_findings,
    "traffic_composition": composition_findings,
    "ci_traffic": ci_findings,
    "version_distribution": version_findings,
    "geography": geo_findings,
    "installer_shift": installer_findings,
    "new_package_burst": new_package_findings,
    "narrow_fingerprint": fingerprint_findings,
    "mirror_blind_spot": mirror_findings,
}


def evaluate(ctx: Context, only: list[str] | None = None) -> list[Finding]:
    """Run every signal (or ``only`` these) over all projects of ``ctx``."""
    found: list[Finding] = []
    for name, signal in SIGNALS.items():
        if only is None or name in only:
            found.extend(signal(ctx))
    return reconcile(found)


def reconcile(found: list[Finding]) -> list[Finding]:
    """An unexplained surge whose extra traffic looks like the package's usual users (no
    dimension moved beyond sampling noise, no narrow pool: ``traffic_composition``) makes no
    claim of fake traffic: more of the same users is what a blog post, a dependent the
    metadata does not show or organic growth brings. Volume alone cannot tell those from a
    campaign; the composition of the extra traffic can, and here it says "usual"."""
    usual = {
        (f.project, f.start, f.end)
        for f in found
        if f.signal == "traffic_composition"
        and f.metrics.get("moved") == 0
        and not f.metrics.get("narrow_pool")
        and int(f.metrics.get("tested") or 0) > 0
    }
    out = []
    for f in found:
        if f.signal == "volume_change" and f.inorganic and (f.project, f.start, f.end) in usual:
            f = dataclasses.replace(
                f,
                inorganic=None,
                strength=min(f.strength, 0.45),
                text=f.text + " Its extra downloads look like the package's usual users "
                "(what the extra traffic is made of): more of the same users, not a campaign's "
                "clients.",
            )
        out.append(f)
    return out


__all__ = [
    "SIGNALS",
    "Context",
    "Finding",
    "Summary",
    "evaluate",
    "findings_frame",
    "reconcile",
    "summarize",
]
