"""What the browser tests share: ``workbench serve`` started by a test, headless Chromium
(Debian's, driven by Playwright) that may reach nothing but the local server, and waits.

The server is the real command (``workbench serve --no-browser``), so the tests see the
configuration users get (strip_sources, loopback only, Host check, no outside config).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, SMALL, _free_port, stop, wait_for_port

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: The command users run (the venv's console script; ``python -m`` would put the current
#: directory on ``sys.path``, which the console script does not).
WORKBENCH = (
    [str(Path(sys.executable).with_name("workbench"))]
    if Path(sys.executable).with_name("workbench").exists()
    else [sys.executable, "-P", "-m", "workbench.cli"]
)
#: What the page shows when the kernel printed an error instead of the app drawing.
FAILED = ".wb-error, [data-mime-type='application/vnd.jupyter.stderr'], .jp-OutputArea-output pre"


def need_browser() -> None:
    missing = not Path(CHROMIUM).exists() or (shutil.which("voila") is None and not _has_voila())
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium ({CHROMIUM}) or Voilà is missing: make test installs them")
        pytest.skip("Chromium or Voilà is not installed")


def _has_voila() -> bool:
    try:
        import voila  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]
    host: str = "127.0.0.1"


@contextmanager
def serve(
    small_demo_dir: Path,
    workdir: Path,
    extra_env: Mapping[str, str] | None = None,
    *,
    host: str = "127.0.0.1",
    args: Sequence[str] = (),
) -> Iterator[Server]:
    """``workbench serve`` on a free port over the small demo (cache and log in ``workdir``);
    ``host`` and ``args`` are passed on (``--host``, ``--token`` …)."""
    need_browser()
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")},
        "WORKBENCH_DATA_DIR": str(small_demo_dir.parent),
        "WORKBENCH_CACHE_DIR": str(workdir / "cache"),
        "WORKBENCH_DEMO_SEED": str(SMALL.seed),
        "WORKBENCH_DEMO_PACKAGES": str(SMALL.packages),
        "WORKBENCH_DEMO_DAYS": str(SMALL.days),
        **(extra_env or {}),
    }
    log = workdir / "voila.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [*WORKBENCH, "serve", "--no-browser", f"--port={port}", f"--host={host}", *args],
            env=env,
            cwd=workdir,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc, log, "workbench serve", host=host)
        url_host = f"[{host}]" if ":" in host else host
        yield Server(f"http://{url_host}:{port}", port, log, proc, host)
    finally:
        stop(proc)


def non_loopback_addresses() -> list[str]:
    """This machine's non-loopback IPv4/IPv6 addresses."""
    found = set()
    for family, target in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((target, 9))  # no packet is sent: this only picks the route
                found.add(s.getsockname()[0])
        except OSError:
            pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(info[4][0]))
    except OSError:
        pass
    return sorted(a for a in found if not ipaddress.ip_address(a.split("%")[0]).is_loopback)


@contextmanager
def chromium() -> Iterator[Any]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, blocked: list[str], allowed: Sequence[str] = ()) -> Any:
    """A page that may load only from the local server, or the origins in ``allowed``
    (other requests are recorded in ``blocked`` and aborted). Each page has its own
    browser context: no cookie is shared between pages."""
    page = browser.new_page(viewport={"width": 1300, "height": 1000})

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "file://", "data:", "blob:", *allowed)):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    return page


def wait_for_app(page: Any, ready: str) -> None:
    """Wait for ``ready``, but fail at once (with the page's text) if the app shows an error
    or the kernel printed a traceback instead."""
    page.wait_for_selector(f"{ready}, {FAILED}", timeout=120_000)
    if page.locator(ready).count() == 0:
        raise AssertionError(f"the app did not load: {page.locator('body').inner_text()[:1500]}")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
