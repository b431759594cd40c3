"""Publish an investigation as a case: a self-contained folder colleagues open as a Voilà app.

The folder holds the case notebook (``case.ipynb``, a :class:`~workbench.views.case.CaseApp`),
the frozen rollups, client rollups, releases, dependents, population peers and findings as
Parquet (``data/``), the analyst's notes (``notes.json``), the provenance (``provenance.json``:
source, range, when, versions, bytes queried, a digest of the data) and a pinned
``requirements.txt``. ``workbench serve DIR`` or ``voila DIR/case.ipynb`` serves it with no
credentials and no network (:class:`~workbench.sources.frozen.FrozenSource`).

The folder is written next to its destination and moved into place, so a failed publish
leaves the previous case (or nothing); a non-empty folder that is not a case is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import json
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from workbench import config
from workbench import notes as nt
from workbench.errors import InvalidInputError
from workbench.investigation import Investigation
from workbench.notes import Note
from workbench.signals.findings import findings_frame
from workbench.sources.frozen import (
    CASE_CODE,
    CASE_FORMAT,
    CASE_VERSION,
    DATA,
    FROZEN,
    NOTEBOOK,
    NOTES,
    PROVENANCE,
    REQUIREMENTS,
    read_provenance,
)

#: Where the apps' "Publish this case" button writes (a folder name under it, no path).
CASES_DIR_ENV = "WORKBENCH_CASES_DIR"
_CASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

#: Packages whose versions the provenance names (the rest are in requirements.txt).
KEY_PACKAGES = ("polars", "pyarrow", "altair", "ipywidgets", "voila", "duckdb", "vl-convert-python")


@dataclass(frozen=True)
class Case:
    """A published case: where, how big, how long it took."""

    path: Path
    files: tuple[str, ...]
    size: int
    seconds: float


def frozen_frames(inv: Investigation) -> dict[str, pl.DataFrame]:
    """What a case freezes of ``inv``: everything its signals and charts read."""
    ctx = inv.analysis.context
    peers = ctx.peers.to_frame() if ctx.peers is not None else pl.DataFrame()
    downloads = pl.concat([ctx.downloads.collect(), ctx.related], how="vertical_relaxed")
    return {
        "downloads": downloads,
        "fingerprints": ctx.fingerprints.collect(),
        "releases": ctx.releases,
        "dependents": ctx.dependents,
        "peers": peers,
        "findings": findings_frame(inv.findings),
    }


def notebook(inv: Investigation) -> dict[str, Any]:
    """The case notebook: a header and one :class:`CaseApp` over the folder it sits in."""
    header = (
        f"# Case: {inv.package}\n"
        f"PyPI downloads of {inv.package}, {inv.days}, frozen from "
        f"{html.escape(inv.provenance.source)}."
    )
    code = CASE_CODE
    return {
        "cells": [
            {"cell_type": "markdown", "id": "header", "metadata": {}, "source": header},
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "app",
                "metadata": {},
                "outputs": [],
                "source": code,
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _requires(name: str) -> list[str]:
    """The names ``name`` requires unconditionally (no extras; markers of this machine)."""
    from packaging.requirements import Requirement

    try:
        declared = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for text in declared:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.append(req.name)
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(root: str = "workbench") -> list[str]:
    """``name==version`` of ``root`` and everything it requires, as installed here."""
    seen: dict[str, str] = {}
    todo = [root]
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        try:
            seen[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        todo.extend(_requires(name))
    return [f"{name}=={version}" for name, version in sorted(seen.items())]


def _versions() -> dict[str, str]:
    from workbench import __version__

    found = {"workbench": __version__, "python": platform.python_version()}
    for name in KEY_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def provenance(
    inv: Investigation, digest: str, now: dt.datetime, notes: Sequence[Note]
) -> dict[str, Any]:
    """The case's provenance: what was frozen, from where, when, by what."""
    prov, peers, summary = inv.provenance, inv.analysis.context.peers, inv.summary
    return {
        "format": CASE_FORMAT,
        "version": CASE_VERSION,
        "package": inv.package,
        "start": str(inv.days.start),
        "end": str(inv.days.end),
        "source": prov.source,
        "source_kind": inv.source.kind,
        "published": now.isoformat(),
        "versions": _versions(),
        "bytes_queried": prov.bytes_processed,
        "estimate": str(prov.estimate) if prov.estimate else None,
        "rollups": [
            {
                "kind": p.kind,
                "days": str(p.days),
                "from_cache": p.from_cache,
                "created": p.created.isoformat(),
            }
            for p in prov.parts
        ],
        "baseline": inv.baseline,
        "peers": None
        if peers is None
        else {
            "source": peers.source,
            "start": str(peers.days.start),
            "end": str(peers.days.end),
            "tier": peers.tier,
            "packages": peers.packages,
        },
        "lacks": dict(inv.analysis.context.lacks),
        "caveats": list(prov.caveats),
        "summary": {
            "level": summary.level,
            "text": summary.text(),
            "downloads": summary.downloads,
        },
        "notes": len(notes),
        "digest": digest,
    }


def cases_dir() -> Path:
    """The folder the apps publish cases into (``WORKBENCH_CASES_DIR``, default ``cases``
    under the data directory)."""
    env = os.environ.get(CASES_DIR_ENV)
    return Path(env) if env else config.data_dir() / "cases"


def case_folder(name: str) -> Path:
    """The folder of the case ``name`` under :func:`cases_dir`: a page may name a case,
    never a path (no ``/``, no ``..``, no leading dot)."""
    text = (name or "").strip()
    if not _CASE_NAME.fullmatch(text):
        raise InvalidInputError(
            f"a case name is letters, digits, '.', '_' and '-' (not a path), not {text[:40]!r}"
        )
    return cases_dir() / text


def check_destination(out: Path) -> None:
    """Refuse a destination that is a file, or a non-empty folder that is not a case."""
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} is a file, not a folder for the case")
    if out.is_dir() and any(out.iterdir()) and read_provenance(out) is None:
        raise InvalidInputError(
            f"{out} is not empty and is not a published case: choose a new or empty folder "
            "(a previous case is replaced)"
        )


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for name in FROZEN:
        sha.update(name.encode())
        sha.update((folder / DATA / f"{name}.parquet").read_bytes())
    return sha.hexdigest()


def write_case(
    inv: Investigation,
    out: str | Path,
    *,
    notes: Sequence[Note] | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Write ``inv`` as a case into ``out`` (new, empty, or a previous case: replaced)."""
    began = time.perf_counter()
    out = Path(out).absolute()
    check_destination(out)
    kept = nt.ordered(inv.notes if notes is None else notes)
    now = now or dt.datetime.now(dt.UTC)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.publish-", dir=out.parent))
    try:
        (work / DATA).mkdir()
        for name, frame in frozen_frames(inv).items():
            frame.write_parquet(work / DATA / f"{name}.parquet", compression="zstd")
        (work / NOTES).write_text(nt.to_json(kept, package=inv.package), encoding="utf-8")
        (work / NOTEBOOK).write_text(json.dumps(notebook(inv), indent=1) + "\n", encoding="utf-8")
        (work / REQUIREMENTS).write_text(
            "# the exact versions this case was published with\n"
            + "\n".join(pinned_requirements())
            + "\n",
            encoding="utf-8",
        )
        meta = provenance(inv, _digest(work), now, kept)
        (work / PROVENANCE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        check_destination(out)  # still a case (or empty) just before it is replaced
        _swap(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    files = tuple(sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()))
    size = sum((out / f).stat().st_size for f in files)
    return Case(out, files, size, time.perf_counter() - began)


def _swap(work: Path, out: Path) -> None:
    """Move the finished folder ``work`` to ``out`` (the previous case removed after)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{time.time_ns()}")
        out.rename(old)
    work.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
