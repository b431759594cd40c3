"""Large local rollups run in a child process, whose memory goes back to the system.

Profiled on 100 M rows: the chunked rollup (:mod:`workbench.ingest`) needs little *live*
memory, but Polars' allocator (jemalloc) keeps freed pages, so a long ingest's resident
memory grew by ~0.5 GB per bucket and a 24 GB machine ran out. A rollup of more than
:data:`ISOLATE_ROWS` planned rows therefore runs as ``python -m workbench.sources.child``
with the allocator told to return freed pages at once (slower by a third, so only there);
the child writes both rollups to a temporary directory and exits, and this process reads
them: it holds the answer, never the ingest's working memory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from workbench.errors import DataSchemaError, WorkbenchError
from workbench.query import DayRange, RollupQuery
from workbench.sources.base import Progress

#: Planned raw rows above which a local rollup runs in a child process.
ISOLATE_ROWS = 20_000_000
#: jemalloc (Polars' allocator) options for the child: freed pages go back at once.
ALLOCATOR = {"_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}
_KINDS = ("downloads", "fingerprints")


def compute(
    location: str, query: RollupQuery, progress: Progress | None
) -> dict[str, pl.DataFrame]:
    """Both rollups of the Parquet source at ``location``, computed by a child process."""
    with tempfile.TemporaryDirectory(prefix="workbench-rollup-") as tmp:
        work = Path(tmp)
        spec = {
            "location": location,
            "start": str(query.days.start),
            "end": str(query.days.end),
            "projects": list(query.projects) if query.projects is not None else None,
        }
        (work / "query.json").write_text(json.dumps(spec))
        log = work / "stderr.txt"  # a file, not a pipe: a chatty child never blocks on it
        with log.open("w") as stderr:
            proc = subprocess.Popen(
                # -P: the current directory is not on sys.path (nothing there can shadow us)
                [sys.executable, "-P", "-m", "workbench.sources.child", str(work)],
                env={**os.environ, **ALLOCATOR},
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if progress:
                    progress(line.strip())
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if code != 0:
            raise DataSchemaError(_failure(code, log.read_text(errors="replace"), location))
        return {kind: pl.read_parquet(work / f"{kind}.parquet") for kind in _KINDS}


def _failure(code: int, errors: str, location: str) -> str:
    said = [line[len("error: ") :] for line in errors.splitlines() if line.startswith("error: ")]
    if said:
        return said[-1]
    if code == -signal.SIGKILL:
        return f"the rollup of {location} was killed (out of memory?)"
    return f"the rollup of {location} failed (exit {code})"


def main(argv: list[str]) -> int:
    from workbench.sources.parquet import ParquetSource

    work = Path(argv[0])
    spec = json.loads((work / "query.json").read_text())
    days = DayRange(dt.date.fromisoformat(spec["start"]), dt.date.fromisoformat(spec["end"]))
    projects = tuple(spec["projects"]) if spec["projects"] is not None else None
    try:
        source = ParquetSource(spec["location"])  # the rollups read the download rows only
        got = source.compute(
            list(_KINDS),
            RollupQuery(projects, days),
            lambda text: print(text, flush=True),
            isolate=False,
        )
        for kind, frame in got.items():
            frame.write_parquet(work / f"{kind}.parquet")
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
