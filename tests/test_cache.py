"""The cache: hits, misses, atomic writes, corruption, TTL, concurrency."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from tests import tally
from workbench import data
from workbench.cache import Cache, make_key
from workbench.query import RollupQuery
from workbench.schema import conform
from workbench.sources.demo import DemoSource

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def _frame(n: int = 5, project: str = "foo") -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "project": [project] * n,
                "date": [dt.date(2026, 1, 1)] * n,
                "version": [str(i) for i in range(n)],
                "file_type": ["sdist"] * n,
                "installer": ["pip"] * n,
                "python": ["3.12"] * n,
                "system": ["Linux"] * n,
                "country": ["US"] * n,
                "ci": [False] * n,
                "downloads": list(range(n)),
            }
        ),
        "downloads",
    )


def test_miss_then_hit(cache: Cache) -> None:
    key = make_key({"q": 1})
    assert cache.get(key, "downloads") is None
    cache.put(key, "downloads", _frame(), complete=True, description={"query": "foo"})
    hit = cache.get(key, "downloads")
    assert hit is not None and hit.equals(_frame())
    assert [e.key for e in cache.entries()] == [key]
    assert cache.get(key, "fingerprints") is None  # kind is checked


def test_keys_depend_on_every_part_of_the_question() -> None:
    base = {"kind": "downloads", "source": {"source": "demo"}, "projects": ["a"], "start": "x"}
    assert make_key(base) == make_key(dict(reversed(list(base.items()))))
    for change in ({"kind": "fingerprints"}, {"projects": ["b"]}, {"source": {"source": "bq"}}):
        assert make_key({**base, **change}) != make_key(base)


def test_crash_mid_write_leaves_the_old_entry_intact(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key({"q": "crash"})
    cache.put(key, "downloads", _frame(3), complete=True, description={})

    def half_then_die(table: object, where: object, **kw: object) -> None:
        os.write(where.fileno(), b"PAR1 half a file")  # type: ignore[attr-defined]
        raise OSError("disk vanished")

    monkeypatch.setattr(pq, "write_table", half_then_die)
    with pytest.raises(OSError):
        cache.put(key, "downloads", _frame(9), complete=True, description={})
    monkeypatch.undo()
    still = cache.get(key, "downloads")
    assert still is not None and still.height == 3
    assert [p.name for p in cache.root.iterdir() if p.name.startswith(".tmp")] == []


def test_kill_9_during_write_never_leaves_a_readable_half_file(tmp_path: Path) -> None:
    """A real process killed mid-write: readers see the old entry or nothing, never a torn one."""
    root = tmp_path / "c"
    script = textwrap.dedent(f"""
        import polars as pl, datetime as dt, os, signal
        from workbench.cache import Cache
        from workbench.schema import conform
        import pyarrow.parquet as pq
        real = pq.write_table
        def slow(table, where, **kw):
            os.write(where.fileno(), b"PAR1" + b"x" * 4096)
            os.kill(os.getpid(), signal.SIGKILL)
        pq.write_table = slow
        n = 1000
        frame = conform(pl.DataFrame({{
            "project": ["p"] * n, "date": [dt.date(2026, 1, 1)] * n, "version": ["1"] * n,
            "file_type": ["sdist"] * n, "installer": ["pip"] * n, "python": ["3.12"] * n,
            "system": ["Linux"] * n, "country": ["US"] * n, "ci": [False] * n,
            "downloads": [1] * n}}),
            "downloads")
        Cache({str(root)!r}).put("k" * 64, "downloads", frame, complete=True, description={{}})
    """)
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -signal.SIGKILL
    tally.count("faults injected: kill -9 during a cache write")
    cache = Cache(root)
    assert cache.get("k" * 64, "downloads") is None
    assert cache.entries() == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign", "empty"])
def test_corrupt_or_foreign_files_are_refetched_not_crashed_on(
    damage: str, small_demo: DemoSource, cache: Cache
) -> None:
    query = RollupQuery.of(small_demo.project_names()[:2], "2026-10-01", "2026-10-10")
    first = data.load(small_demo, query, cache=cache)
    paths = sorted(cache.root.glob("*.parquet"))
    assert len(paths) == 4  # per package and kind
    target = paths[0]
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    elif damage == "garbage":
        target.write_bytes(os.urandom(2048))
    elif damage == "foreign":
        pl.DataFrame({"a": [1, 2]}).write_parquet(target)
    else:
        target.write_bytes(b"")
    again = data.load(small_demo, query, cache=cache)
    tally.count("untrusted data: damaged cache entries (refetched)")
    assert not again.provenance.from_cache
    assert again.downloads.collect().sort(pl.all()).equals(first.downloads.collect().sort(pl.all()))
    assert (
        again.fingerprints.collect()
        .sort(pl.all())
        .equals(first.fingerprints.collect().sort(pl.all()))
    )
    assert len(cache.entries()) == 4


def test_incomplete_days_expire_after_the_ttl_complete_days_do_not(tmp_path: Path) -> None:
    cache = Cache(tmp_path, ttl=dt.timedelta(hours=1))
    done, live = make_key({"p": "done"}), make_key({"p": "live"})
    cache.put(done, "downloads", _frame(), complete=True, description={}, now=NOW)
    cache.put(live, "downloads", _frame(), complete=False, description={}, now=NOW)
    later = NOW + dt.timedelta(minutes=30)
    assert cache.get(live, "downloads", now=later) is not None
    much_later = NOW + dt.timedelta(days=400)
    assert cache.get(done, "downloads", now=much_later) is not None
    assert cache.get(live, "downloads", now=NOW + dt.timedelta(hours=2)) is None
    assert cache.clear(incomplete_only=True) == 1
    assert [e.key for e in cache.entries()] == [done]


def _writer(root: str, key: str, n: int, rounds: int) -> None:
    cache = Cache(root)
    for i in range(rounds):
        cache.put(key, "downloads", _frame(n + i % 3), complete=True, description={"w": n})


def _reader(root: str, key: str, rounds: int, bad: multiprocessing.Queue[str]) -> None:
    cache = Cache(root)
    for _ in range(rounds):
        frame = cache.get(key, "downloads")
        if frame is not None and (
            frame.height < 2 or frame["downloads"].to_list() != list(range(frame.height))
        ):
            bad.put(f"torn read: {frame.height}")


def test_concurrent_writers_and_readers_never_see_a_torn_entry(tmp_path: Path) -> None:
    key = make_key({"concurrent": True})
    ctx = multiprocessing.get_context("spawn")
    bad: multiprocessing.Queue[str] = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), key, n, 25)) for n in (2, 5, 8)]
    procs += [ctx.Process(target=_reader, args=(str(tmp_path), key, 60, bad)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert bad.empty()
    cache = Cache(tmp_path)
    final = cache.get(key, "downloads")
    assert final is not None and final.height in {2, 3, 4, 5, 6, 7, 8, 9, 10}
    assert len(cache.entries()) == 1


def test_lock_serialises_fetches_of_the_same_key(small_demo: DemoSource, tmp_path: Path) -> None:
    """Two loads of the same question in parallel compute it once; the other reads the cache."""
    import threading

    cache = Cache(tmp_path)
    query = RollupQuery.of(small_demo.project_names()[:1], "2026-10-01", "2026-10-05")
    calls: list[str] = []
    original = small_demo.fetch

    def counting(
        kinds: tuple[str, ...], q: RollupQuery, progress: object = None
    ) -> dict[str, pl.DataFrame]:
        calls.extend(kinds)
        return original(kinds, q)

    small_demo.fetch = counting  # type: ignore[method-assign,assignment]
    threads = [
        threading.Thread(target=data.load, args=(small_demo, query), kwargs={"cache": cache})
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == ["downloads", "fingerprints"]


def test_cache_dir_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert Cache().root == tmp_path / "elsewhere"
    assert Cache(tmp_path / "arg").root == tmp_path / "arg"
