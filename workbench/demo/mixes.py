"""Each package's own client mix: perturbations of the global python, OS and weekly mixes.

Real packages differ: one has a tenth of its users on python 3.7, another none; one is
used on weekends as much as on weekdays, another by offices only. A package's *tilt*
multiplies the global weights: a lognormal factor per python minor (a package's users
on 3.7 range from almost none to a tenth, as real packages' do), and a Dirichlet draw
around the global OS mix divided by that mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.demo import calibration as cal

PYTHON_MINORS: tuple[str | None, ...] = tuple(cal.PYTHON_MINOR_SHARES)


@dataclass(frozen=True)
class Tilt:
    """Multipliers on the global mixes for one package."""

    python: np.ndarray  # one per PYTHON_MINORS entry
    os: np.ndarray  # one per cal.OS_ROWS entry
    weekend: float  # the package's human weekend factor


def _dirichlet_ratio(
    rng: np.random.Generator, shares: np.ndarray, concentration: float
) -> np.ndarray:
    shares = shares / shares.sum()
    alpha = np.maximum(shares * concentration, 1e-3)
    drawn = rng.dirichlet(alpha)
    return np.asarray(np.where(shares > 0, drawn / np.maximum(shares, 1e-12), 0.0))


def _legacy(minor: str | None) -> bool:
    """Minors past their end of life (before 3.9), whose users come and go together."""
    return minor is not None and tuple(map(int, minor.split("."))) < (3, 9)


LEGACY = np.array([_legacy(m) for m in PYTHON_MINORS])


def draw_tilt(rng: np.random.Generator) -> Tilt:
    # Packages differ mostly in how many of their users are on old pythons (an old
    # company's fleet, a legacy distro): one factor for the legacy minors together, wide,
    # and a narrow one per minor; independent wide factors per minor would renormalise
    # every share towards the largest.
    z = rng.standard_normal(size=len(PYTHON_MINORS))
    python = np.exp(cal.PYTHON_SIGMA * z)
    python[LEGACY] *= np.exp(cal.LEGACY_MU + cal.LEGACY_SIGMA * z[LEGACY][0])
    os_ = _dirichlet_ratio(rng, np.array(cal.OS_WEIGHTS["human"], float), cal.OS_CONCENTRATION)
    weekend = cal.WEEKEND_FACTOR["human"] * float(rng.lognormal(0.0, cal.WEEKEND_SIGMA))
    return Tilt(python, os_, min(weekend, cal.WEEKEND_MAX))


def neutral() -> Tilt:
    """No perturbation: the global mixes."""
    return Tilt(np.ones(len(PYTHON_MINORS)), np.ones(len(cal.OS_ROWS)), cal.WEEKEND_FACTOR["human"])
