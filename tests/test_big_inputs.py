"""Big inputs: data that would not fit in memory if read eagerly is rolled up in bounded
memory (DuckDB streams row groups and spills past its memory limit, which follows the
process's cgroup).

The proof runs two processes under the same real memory limit (a cgroup): reading the files
eagerly is killed by the kernel, while the workbench's rollup of the same files completes
with every row counted. Skipped only where no memory cgroup can be made (not root).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from tests import tally

COPIES = 24  # of 250,000 rows: 6 M rows, ~2.6 GB to hold eagerly, ~1.1 GB to roll up
LIMIT = 1800 * 2**20

WORKER = """
import sys
import polars as pl
from workbench.query import DayRange, RollupQuery
from workbench.sources.local import ParquetSource
source = ParquetSource(sys.argv[2])
if sys.argv[1] == "eager":
    print(pl.read_parquet(source._resolved.downloads).height)
else:
    query = RollupQuery(None, DayRange.parse(sys.argv[3], sys.argv[4]))
    got = source.fetch(("downloads", "fingerprints"), query)
    print(got["downloads"]["downloads"].sum())
"""


def _make_cgroup(name: str, limit: int) -> Path | None:
    """A memory cgroup limited to ``limit`` bytes (v1 or v2), or None if we cannot."""
    for root, knob in (
        (Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"),
        (Path("/sys/fs/cgroup"), "memory.max"),
    ):
        group = root / name
        try:
            group.mkdir(exist_ok=True)
            (group / knob).write_text(str(limit))
            if (group / "memory.swap.max").exists():
                (group / "memory.swap.max").write_text("0")
            return group
        except OSError:
            if group.exists():
                group.rmdir()
    return None


@pytest.fixture
def cgroup() -> Iterator[Path]:
    group = _make_cgroup(f"workbench-test-{os.getpid()}", LIMIT)
    if group is None:
        pytest.skip("no memory cgroup can be created here (needs root and cgroup access)")
    try:
        yield group
    finally:
        with contextlib.suppress(OSError):
            group.rmdir()


def _run(group: Path, *args: str) -> subprocess.CompletedProcess[str]:
    def enter() -> None:
        (group / "cgroup.procs").write_text(str(os.getpid()))

    return subprocess.run(
        [sys.executable, "-c", WORKER, *args],
        preexec_fn=enter,  # only writes the child's own pid into the cgroup
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_data_too_big_to_read_eagerly_is_rolled_up_in_bounded_memory(
    cgroup: Path, small_demo_dir: Path, tmp_path: Path
) -> None:
    rows = pl.read_parquet(small_demo_dir / "file_downloads").head(250_000)
    (tmp_path / "big").mkdir()
    table = rows.to_arrow()
    for k in range(COPIES):
        pq.write_table(table, tmp_path / "big" / f"part-{k:03d}.parquet", row_group_size=50_000)
    day = rows["timestamp"].dt.date()
    window = (str(day.min()), str(day.max()))

    eager = _run(cgroup, "eager", str(tmp_path / "big"))
    tally.count("big inputs: runs under a memory limit")
    assert eager.returncode == -signal.SIGKILL, (eager.returncode, eager.stderr[-500:])

    chunked = _run(cgroup, "chunked", str(tmp_path / "big"), *window)
    tally.count("big inputs: runs under a memory limit")
    assert chunked.returncode == 0, chunked.stderr[-2000:]
    counted = int(chunked.stdout.strip().splitlines()[-1])
    assert counted == rows.height * COPIES
    tally.lost("big inputs: rows not counted", rows.height * COPIES - counted)


def test_running_out_of_the_memory_limit_is_said_as_such(
    small_demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past DuckDB's memory limit the answer is one clear line naming the limit and the
    setting, not "could not be computed from the data"."""
    import datetime as dt

    from workbench.errors import SourceError
    from workbench.query import DayRange, RollupQuery
    from workbench.sources.local import ParquetSource
    from workbench.sources.local.engine import MEMORY_ENV

    monkeypatch.setenv(MEMORY_ENV, "1MB")
    source = ParquetSource(small_demo_dir)
    first = dt.date(2026, 9, 1)
    query = RollupQuery(None, DayRange(first, first + dt.timedelta(days=40)))
    with pytest.raises(SourceError, match=f"needs more memory.*1MB.*{MEMORY_ENV}"):
        source.fetch(("downloads", "fingerprints"), query)


def test_a_full_temporary_disk_is_said_as_such(
    small_demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB spills past its memory limit into the temporary directory (here a real 1 MiB
    tmpfs). Files the plan can cut are cut into pieces that each fit in memory, since the
    whole could not spill there: the same answer. Files it cannot cut (no statistics) spill
    and fill that disk: the one line names the directory and what to change."""
    import datetime as dt
    import shutil
    import tempfile

    from workbench.errors import SourceError
    from workbench.query import DayRange, RollupQuery
    from workbench.sources.local import ParquetSource
    from workbench.sources.local.engine import MEMORY_ENV

    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    first = dt.date(2026, 9, 1)
    query = RollupQuery(None, DayRange(first, first + dt.timedelta(days=40)))
    kinds = ("downloads", "fingerprints")
    expected = ParquetSource(small_demo_dir).fetch(kinds, query)
    blind = tmp_path / "blind"  # the same rows, without statistics
    blind.mkdir()
    rows = pq.read_table(small_demo_dir / "file_downloads")
    pq.write_table(rows, blind / "rows.parquet", write_statistics=False)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(tiny)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs is not allowed here")
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(tiny))
        monkeypatch.setenv(MEMORY_ENV, "60MB")
        cut = ParquetSource(small_demo_dir)
        assert len(cut.cut("fingerprints", query.days)) > 1
        got = cut.fetch(kinds, query)
        for kind in kinds:
            order = list(expected[kind].columns)
            assert got[kind].sort(order).equals(expected[kind].sort(order))
        tally.count("big inputs: a whole that could not spill, cut to fit in memory")
        with pytest.raises(SourceError, match=f"could spill to {tiny}.*TMPDIR") as info:
            ParquetSource(blind).fetch(kinds, query)
        assert "\n" not in str(info.value)
    finally:
        subprocess.run(["umount", str(tiny)], capture_output=True)
