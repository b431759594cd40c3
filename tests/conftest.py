"""Shared fixtures: isolated dirs, a small demo dataset, the BigQuery emulator, the ClickHouse
double (ClickPy's database in chdb)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests import tally
from tests.faultproxy import FaultyProxy, Loaded, load_public
from workbench.cache import Cache
from workbench.demo import DemoConfig, generate
from workbench.sources.demo import DemoSource

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
SMALL = DemoConfig(seed=7, packages=60, days=70)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real cache or data directories."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WORKBENCH_BIGQUERY_ENDPOINT", raising=False)
    monkeypatch.delenv("WORKBENCH_CLICKPY_URL", raising=False)
    monkeypatch.delenv("WORKBENCH_CLICKPY_TIMEOUT", raising=False)
    for name in ("SEED", "PACKAGES", "DAYS"):
        monkeypatch.delenv(f"WORKBENCH_DEMO_{name}", raising=False)


@pytest.fixture(scope="session")
def small_demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo dataset (all scenarios present), generated once per session."""
    path = DemoSource(SMALL, data_dir=tmp_path_factory.mktemp("demo")).path
    generate(path, SMALL)
    return path


@pytest.fixture
def small_env(small_demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment under which ``demo`` / ``demo:7`` mean the small session demo."""
    env = {
        "WORKBENCH_DATA_DIR": str(small_demo_dir.parent),
        "WORKBENCH_DEMO_SEED": str(SMALL.seed),
        "WORKBENCH_DEMO_PACKAGES": str(SMALL.packages),
        "WORKBENCH_DEMO_DAYS": str(SMALL.days),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def small_demo(small_demo_dir: Path) -> DemoSource:
    return DemoSource(SMALL, data_dir=small_demo_dir.parent)


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def column_chunks(file: Path) -> Iterator[pq.ColumnChunkMetaData]:
    """Every column chunk of every row group of a Parquet file, from its footer."""
    footer = pq.read_metadata(file)
    for group in range(footer.num_row_groups):
        for i in range(footer.num_columns):
            yield footer.row_group(group).column(i)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int,
    proc: subprocess.Popen[bytes],
    log: Path,
    what: str,
    timeout: float = 60,
    host: str = "127.0.0.1",
) -> None:
    """Wait until a service we started listens on ``host:port`` (fail with its log otherwise)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{what} did not start within {timeout:.0f} s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _emulator_binary() -> str | None:
    env = os.environ.get("WORKBENCH_BQEMULATOR")
    if env and Path(env).exists():
        return env
    local = ROOT / ".venv-bqemu" / "bin" / "bqemulator"
    if local.exists():
        return str(local)
    return shutil.which("bqemulator")


@pytest.fixture(scope="session")
def bq_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a local BigQuery emulator for the session; yields its REST endpoint."""
    binary = _emulator_binary()
    if binary is None:
        message = "bqemulator is not installed (make test installs it in .venv-bqemu)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    rest, grpc = _free_port(), _free_port()
    log = tmp_path_factory.mktemp("emulator") / "bqemulator.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [
                binary,
                "start",
                "--rest-port",
                str(rest),
                "--grpc-port",
                str(grpc),
                "--project",
                "test",
                "--log-level",
                "warning",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(rest, proc, log, "bqemulator")
        yield f"http://127.0.0.1:{rest}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def public(bq_endpoint: str, small_demo_dir: Path) -> Loaded:
    """The small demo loaded into the emulator's public tables (once per module)."""
    return load_public(bq_endpoint, small_demo_dir)


@pytest.fixture(scope="module")
def proxy(bq_endpoint: str) -> Iterator[FaultyProxy]:
    """A faulty proxy in front of the emulator (no fault until one is injected)."""
    server = FaultyProxy(bq_endpoint)
    yield server
    server.close()


def _chdb_python() -> str | None:
    env = os.environ.get("WORKBENCH_CHDB_PYTHON")
    if env and Path(env).exists():
        return env
    local = ROOT / ".venv-chdb" / "bin" / "python"
    return str(local) if local.exists() else None


@dataclass(frozen=True)
class ClickPyDouble:
    """What :func:`clickpy_endpoint` started: the double's URL and what its start-up cost."""

    url: str
    host: str
    port: int
    start_seconds: float  # process start to listening (the demo load included)
    loaded: dict[str, Any]  # the loader's counts (raw rows, per-view totals checked)


@pytest.fixture(scope="session")
def clickpy_double(
    tmp_path_factory: pytest.TempPathFactory, small_demo_dir: Path
) -> Iterator[ClickPyDouble]:
    """ClickPy's ``pypi`` database holding the small demo, in ClickHouse's engine (chdb)
    behind ClickHouse's HTTP interface (tests/chdouble/server.py), for the session."""
    python = _chdb_python()
    if python is None:
        message = "chdb is not installed (make test installs it in .venv-chdb)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    work = tmp_path_factory.mktemp("chdouble")
    log = work / "server.log"
    began = time.monotonic()
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [
                python,
                str(ROOT / "tests" / "chdouble" / "server.py"),
                "--port",
                str(port),
                "--data",
                str(work / "data"),
                "--load",
                str(small_demo_dir),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc, log, "the ClickHouse double", timeout=180)
        started = time.monotonic() - began
        loaded = next(
            json.loads(line)["loaded"]
            for line in log.read_text().splitlines()
            if line.startswith('{"loaded"')
        )
        yield ClickPyDouble(f"http://127.0.0.1:{port}", "127.0.0.1", port, started, loaded)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def clickpy_endpoint(clickpy_double: ClickPyDouble) -> str:
    """The ClickHouse double's base URL (skips when the chdb venv is absent, fails on CI)."""
    return clickpy_double.url


@pytest.fixture(scope="module")
def clickpy_proxy(clickpy_endpoint: str) -> Iterator[FaultyProxy]:
    """A faulty proxy in front of the ClickHouse double (no fault until one is injected)."""
    server = FaultyProxy(clickpy_endpoint)
    yield server
    server.close()


def pytest_report_header() -> list[str]:
    return [
        f"python {sys.version.split()[0]}; realdata: {'present' if REALDATA.exists() else 'absent'}"
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = tally.summary_lines()
    if lines:
        terminalreporter.section("reliability and security: cases tried")
        for line in lines:
            terminalreporter.write_line(line)
