"""What a signal reports: a :class:`Finding` — what, when, how strong, evidence, plain words."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

LEVELS = ("info", "low", "medium", "high")


def level_of(strength: float) -> str:
    """Map a strength in [0, 1] to a level (medium and above count as "fired")."""
    if strength >= 0.7:
        return "high"
    if strength >= 0.4:
        return "medium"
    if strength >= 0.15:
        return "low"
    return "info"


@dataclass(frozen=True)
class Finding:
    """One thing a signal noticed about one package.

    ``strength`` is in [0, 1]; ``level`` follows from it. ``inorganic`` says
    whether the finding points at fake traffic (True), at real traffic that is
    easy to misread (False), or is context only (None). ``text`` is one or two
    sentences an analyst can paste into a report; ``evidence`` the rows behind it.
    """

    signal: str
    project: str
    title: str
    text: str
    strength: float
    inorganic: bool | None
    start: dt.date | None = None
    end: dt.date | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    evidence: pl.DataFrame = field(default_factory=pl.DataFrame)
    explanation: str | None = None

    @property
    def level(self) -> str:
        return level_of(self.strength)

    @property
    def fired(self) -> bool:
        return self.strength >= 0.4

    def when(self) -> str:
        if self.start is None:
            return ""
        return str(self.start) if self.end in (None, self.start) else f"{self.start}..{self.end}"

    def as_row(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "signal": self.signal,
            "level": self.level,
            "strength": round(self.strength, 3),
            "inorganic": self.inorganic,
            "start": self.start,
            "end": self.end,
            "title": self.title,
            "text": self.text,
            "explanation": self.explanation,
        }


def findings_frame(findings: list[Finding]) -> pl.DataFrame:
    schema = {
        "project": pl.String,
        "signal": pl.String,
        "level": pl.String,
        "strength": pl.Float64,
        "inorganic": pl.Boolean,
        "start": pl.Date,
        "end": pl.Date,
        "title": pl.String,
        "text": pl.String,
        "explanation": pl.String,
    }
    return pl.DataFrame([f.as_row() for f in findings], schema=schema)


def fmt_int(value: float) -> str:
    """12,345 / 1.2M style for sentences."""
    value = float(value)
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}"


def pct(value: float) -> str:
    return f"{100 * value:.0f}%" if value >= 0.01 or value == 0 else f"{100 * value:.1f}%"
