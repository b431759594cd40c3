"""A published case as a source: the frozen rollups, release metadata and population peers
that :mod:`workbench.publish` wrote, read back with no credentials and no network.

An investigation on a :class:`FrozenSource` is the published one: the same rollups, the same
releases and dependents, and the population's peers as they were (the baseline comes from
the frozen peers, never from a population), so the findings and every frame and chart are
the same, and a drill-down works on the frozen rows.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import InvalidInputError
from workbench.notes import NoteFile
from workbench.population.peers import Peers
from workbench.query import DayRange, RollupQuery
from workbench.schema import DEPENDENTS, RELEASES, conform, empty
from workbench.sources.base import Progress, Source

#: What marks a folder as a published case (in ``provenance.json``).
CASE_FORMAT = "workbench-case"
CASE_VERSION = 1
PROVENANCE = "provenance.json"
NOTES = "notes.json"
NOTEBOOK = "case.ipynb"
REQUIREMENTS = "requirements.txt"
DATA = "data"
#: The one code cell of a case notebook: what ``workbench serve DIR`` agrees to run.
CASE_CODE = 'from workbench.views.case import CaseApp\n\nCaseApp(".").container'
#: The frozen frames, each one Parquet file under ``data/``.
FROZEN = ("downloads", "fingerprints", "releases", "dependents", "peers", "findings")


def read_provenance(folder: Path) -> dict[str, Any] | None:
    """The provenance of the case in ``folder`` (``None``: not a published case)."""
    try:
        payload = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("format") != CASE_FORMAT:
        return None
    return payload


def notebook_is_ours(folder: Path) -> bool:
    """Whether the case notebook in ``folder`` runs exactly the code ``workbench publish``
    wrote (a notebook is code: one that was changed is not served)."""
    try:
        cells = json.loads((folder / NOTEBOOK).read_text(encoding="utf-8"))["cells"]
        code = [c["source"] for c in cells if c["cell_type"] == "code"]
        code = ["".join(c) if isinstance(c, list) else c for c in code]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return code == [CASE_CODE]


class FrozenSource(Source):
    """The frozen data of one published case (a folder written by ``workbench publish``)."""

    kind = "case"

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        self.folder = Path(folder)
        found = read_provenance(self.folder)
        if found is None:
            raise InvalidInputError(
                f"{self.folder} is not a published case (no {PROVENANCE} written by "
                "'workbench publish')"
            )
        self.meta = found

    # -- what the case is -----------------------------------------------------------------
    @property
    def package(self) -> str:
        return str(self.meta["package"])

    @property
    def days(self) -> DayRange:
        return DayRange(
            dt.date.fromisoformat(self.meta["start"]), dt.date.fromisoformat(self.meta["end"])
        )

    @property
    def identity(self) -> dict[str, Any]:
        return {"source": "case", "package": self.package, "digest": self.meta["digest"]}

    def describe(self) -> str:
        frozen = str(self.meta["published"])[:16]
        return f"published case of {self.package} ({self.meta['source']}; frozen {frozen} UTC)"

    @property
    def lacks(self) -> dict[str, str]:
        return dict(self.meta.get("lacks", {}))

    def caveats(self) -> list[str]:
        return list(self.meta.get("caveats", []))

    def notes_file(self) -> NoteFile:
        """The case's notes (read-only: a case is what was published)."""
        return NoteFile(self.folder / NOTES, {"package": self.package}, read_only=True)

    # -- days -------------------------------------------------------------------------------
    def today(self) -> dt.date:
        return self.days.end + dt.timedelta(days=1)

    def first_day(self) -> dt.date:
        return self.days.start

    # -- frozen frames ----------------------------------------------------------------------
    def frame(self, name: str) -> pl.DataFrame:
        """One frozen frame (see :data:`FROZEN`)."""
        if name not in FROZEN:
            raise InvalidInputError(f"no frozen frame {name!r}; choose one of {', '.join(FROZEN)}")
        return self._frames[name]

    @cached_property
    def _frames(self) -> dict[str, pl.DataFrame]:
        try:
            return {
                name: pl.read_parquet(self.folder / DATA / f"{name}.parquet") for name in FROZEN
            }
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InvalidInputError(
                f"the case in {self.folder} is incomplete or damaged ({type(exc).__name__})"
            ) from None

    @cached_property
    def peers(self) -> Peers | None:
        """The population's peers as they were when the case was published."""
        frame = self.frame("peers")
        if frame.is_empty():
            return None
        p = self.meta["peers"]
        days = DayRange(dt.date.fromisoformat(p["start"]), dt.date.fromisoformat(p["end"]))
        return Peers.from_frame(frame, source=p["source"], days=days, tier=p["tier"])

    @property
    def peers_note(self) -> str:
        return str(self.meta.get("baseline", ""))

    # -- answers ----------------------------------------------------------------------------
    def fetch(
        self, kinds: tuple[str, ...], query: RollupQuery, progress: Progress | None = None
    ) -> dict[str, pl.DataFrame]:
        held = self.days
        if query.days.start < held.start or query.days.end > held.end:
            raise InvalidInputError(
                f"the case of {self.package} holds {held} only, not {query.days}: "
                f"use --start {held.start} --end {held.end}"
            )
        out = {}
        for kind in kinds:
            rows = self.frame(kind).filter(
                pl.col("date").is_between(query.days.start, query.days.end)
            )
            if query.projects is not None:
                rows = rows.filter(pl.col("project").is_in(list(query.projects)))
            out[kind] = conform(rows, kind) if rows.height else empty(kind)
        return out

    def releases(self, projects: tuple[str, ...]) -> pl.DataFrame:
        rows = self.frame("releases").filter(pl.col("project").is_in(list(projects)))
        return rows.select([pl.col(k).cast(v) for k, v in RELEASES.items()])

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.DataFrame:
        rows = self.frame("dependents").filter(pl.col("project").is_in(list(projects)))
        rows = rows.select([pl.col(k).cast(v) for k, v in DEPENDENTS.items()])
        return rows.filter(pl.col("upload_time").dt.date() >= since)

    def names(self) -> pl.DataFrame:
        """The case's package (the only one it is about)."""
        total = int(
            self.frame("downloads").filter(pl.col("project") == self.package)["downloads"].sum()
        )
        return pl.DataFrame({"project": [self.package], "downloads": [total]})
