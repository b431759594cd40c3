"""A JupyterLab driver for browser tests: run a notebook in a real JupyterLab, headless and
offline, and see its charts draw.

* :func:`jupyter_lab` starts ``jupyter lab`` from this venv on a free port of 127.0.0.1 with a
  random token, no browser, a temporary root directory, and its own configuration, data,
  runtime, IPython and home directories: the user's Jupyter settings, kernels, extensions,
  workspaces and IPython start-up files are never read and never written. The workbench's
  cache and data directories are the test's. Lab's news feed and update check are off (they
  are the server fetching from the internet).
* :func:`run_notebook` opens ``lab/tree/<notebook>`` in Chromium (each page in a fresh
  workspace of its own, so that no earlier test's notebooks are restored into it), runs
  every cell through Lab's own ``notebook:run-all-cells`` command (Lab started with
  ``expose_app_in_browser``, as JupyterLab's own Galata tests do: no keyboard shortcuts or
  menus to click, and the command's promise says when the last cell has finished and
  whether every cell succeeded),
  waits until the output areas hold N drawn charts (``svg.marks`` / ``canvas.marks``), and
  returns what a test checks: timings, console and page errors, error outputs, HTTP errors,
  and every request that tried to leave 127.0.0.1 (aborted, so a chart that needed a CDN
  does not draw). A screenshot goes to ``test-artifacts/``.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from .browser_support import CHROMIUM, shot
from .conftest import _free_port, stop

#: Drawn Vega charts (vega-embed's SVG and canvas renderers), inside notebook outputs.
CHART_MARKS = ".jp-OutputArea-output svg.marks, .jp-OutputArea-output canvas.marks"
#: Outputs that mean a cell failed or wrote to stderr.
ERROR_OUTPUTS = (
    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
    ".jp-OutputArea-output.jp-mod-error"
)
#: Environment variables of the user's Jupyter/IPython set-up, dropped for the Lab process.
_USER_PREFIXES = ("JUPYTER", "JPY_", "IPYTHON", "XDG_", "WORKBENCH_")


def need_lab() -> None:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.skip("JupyterLab is not installed")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium ({CHROMIUM}) is missing: make test installs it")
        pytest.skip("Chromium is not installed")


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab."""

    url: str  # http://127.0.0.1:PORT (no trailing slash)
    token: str
    root: Path  # the directory Lab serves (notebooks go here)
    log: Path
    proc: subprocess.Popen[bytes]
    started_s: float  # from starting the process to /api/status answering


def lab_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Lab process's environment: the user's Jupyter/IPython/XDG variables dropped, every
    Jupyter directory under ``home``, this venv's ``bin`` first on ``PATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_USER_PREFIXES)}
    dirs = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "jupyter-config",
        "JUPYTER_DATA_DIR": home / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "jupyter-config" / "lab" / "user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "jupyter-config" / "lab" / "workspaces",
        "IPYTHONDIR": home / "ipython",
        "MPLCONFIGDIR": home / "matplotlib",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    _quiet_settings(dirs["JUPYTERLAB_SETTINGS_DIR"])
    env.update({k: str(v) for k, v in dirs.items()})
    env["JUPYTER_PREFER_ENV_PATH"] = "1"  # this venv's kernels and extensions first
    env["PYTHONNOUSERSITE"] = "1"  # no ~/.local packages in the server or the kernel
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def _quiet_settings(settings: Path) -> None:
    """Lab's user settings: never ask about the news feed (a toast over the notebook that,
    if accepted, fetches from the internet) and never check for updates."""
    path = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@contextmanager
def jupyter_lab(
    root: Path, workdir: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[Lab]:
    """``jupyter lab`` serving ``root``; its home, Jupyter directories and log in ``workdir``.

    ``extra_env`` is added to the environment (the workbench's cache and data directories)."""
    need_lab()
    port, token = _free_port(), secrets.token_urlsafe(32)
    env = lab_env(workdir / "home", {"JUPYTER_TOKEN": token, **(extra_env or {})})
    command = [
        sys.executable,
        "-P",
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: Lab's commands
        "--LabApp.news_url=",  # no news feed fetched by the server
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no PyPI search for extensions
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root
    log = workdir / "jupyter-lab.log"
    started = time.monotonic()
    with log.open("w") as handle:
        proc = subprocess.Popen(command, env=env, cwd=root, stdout=handle, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_status(url, token, proc, log)
        yield Lab(url, token, root, log, proc, time.monotonic() - started)
    finally:
        stop(proc)


def _wait_for_status(url: str, token: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until Lab's REST API answers with the token (not just the port being open)."""
    headers = {"Authorization": f"token {token}"}
    request = urllib.request.Request(f"{url}/api/status", headers=headers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    pytest.fail(f"jupyter lab did not start within 120 s: {log.read_text()[-3000:]}")


@dataclass
class LabRun:
    """What opening and running a notebook in Lab did."""

    page: Any
    charts: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds since navigation
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    output_errors: list[str] = field(default_factory=list)  # error / stderr cell outputs
    http_errors: list[str] = field(default_factory=list)  # local answers >= 400
    external: list[str] = field(default_factory=list)  # requests that tried to leave
    requests: list[str] = field(default_factory=list)  # every request the page made
    all_ok: bool | None = None  # what run-all-cells reported (None: not run)


#: Names of the pages' workspaces.
_WORKSPACES = itertools.count()


def open_lab(browser: Any, lab: Lab, path: str = "") -> LabRun:
    """A fresh page on ``lab/tree/<path>`` (or Lab's launcher) in a new, empty workspace,
    watched: console and page errors, HTTP errors, and requests off 127.0.0.1 (aborted).
    Returns once Lab has restored its layout."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    run = LabRun(page)
    local = urlsplit(lab.url).netloc

    def route(r: Any) -> None:
        url = r.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == local:
            r.continue_()
        else:
            run.external.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda r: run.requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and run.console_errors.append(m.text))
    page.on("pageerror", lambda e: run.page_errors.append(str(e)))
    page.on(
        "response",
        lambda r: r.status >= 400 and run.http_errors.append(f"{r.status} {r.url}"),
    )
    # Each page in a workspace of its own, reset: the default one would restore every
    # notebook an earlier test opened, whose live widgets then re-initialise in this page
    # (seen: "[anywidget] Failed to initialize model." on Lab's own launcher).
    workspace = f"{lab.url}/lab/workspaces/test-{next(_WORKSPACES)}"
    target = f"{workspace}/tree/{quote(path)}" if path else workspace
    page.goto(f"{target}?reset&token={lab.token}", timeout=120_000)
    page.wait_for_function(
        "window.jupyterapp !== undefined && window.jupyterapp.restored !== undefined",
        timeout=120_000,
    )
    run.timings["lab restored"] = page.evaluate(
        "async () => { await window.jupyterapp.restored; return performance.now() / 1000; }"
    )
    return run


#: JavaScript: the notebook panel of ``path``, activated, with its kernel ready; then run
#: every cell with Lab's command, recording the outcome in ``window.__workbenchRun`` and
#: when the first chart appeared (seconds since navigation) in ``__workbenchFirstChart``.
_RUN_ALL = """
async ([path, marks]) => {
  const app = window.jupyterapp;
  let panel = null;
  for (let i = 0; i < 600 && panel === null; i++) {
    for (const widget of app.shell.widgets('main')) {
      if (widget.context && widget.context.path === path) panel = widget;
    }
    if (panel === null) await new Promise(r => setTimeout(r, 100));
  }
  if (panel === null) throw new Error('no notebook panel for ' + path);
  app.shell.activateById(panel.id);
  await panel.context.ready;
  await panel.sessionContext.ready;
  if (!panel.sessionContext.session || !panel.sessionContext.session.kernel) {
    throw new Error('the notebook has no kernel');
  }
  window.__workbenchFirstChart = null;
  const watch = setInterval(() => {
    if (document.querySelector(marks)) {
      window.__workbenchFirstChart = performance.now() / 1000;
      clearInterval(watch);
    }
  }, 20);
  window.__workbenchRun = {done: false};
  app.commands.execute('notebook:run-all-cells').then(
    ok => { window.__workbenchRun = {done: true, ok: ok !== false}; },
    err => { window.__workbenchRun = {done: true, ok: false, error: String(err)}; },
  );
  return [panel.content.widgets.filter(c => c.model.type === 'code').length,
          performance.now() / 1000];
}
"""
#: Code cells that ran (their prompt shows an execution count).
_EXECUTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .filter(p => /\\[\\d+\\]/.test(p.textContent)).length"""


def run_notebook(
    browser: Any,
    lab: Lab,
    path: str,
    *,
    charts: int,
    screenshot: str,
    timeout: float = 240,
) -> LabRun:
    """Open ``path`` (relative to ``lab.root``) in Lab, run all its cells, and wait until
    ``charts`` charts are drawn in its outputs. Fails (an ``AssertionError`` naming what
    the page saw) if a cell fails or does not run, or the charts do not draw in time."""
    run = open_lab(browser, lab, path)
    page = run.page

    def fail(why: str) -> AssertionError:
        shot(page, f"{screenshot}-failed")
        run.output_errors = page.locator(ERROR_OUTPUTS).all_inner_texts()
        return AssertionError(f"{why}\n{describe(run)}")

    code_cells, run.timings["kernel ready"] = page.evaluate(_RUN_ALL, [path, CHART_MARKS])
    try:
        page.wait_for_function(
            "window.__workbenchRun && window.__workbenchRun.done", timeout=timeout * 1000
        )
    except Exception as exc:
        raise fail(f"the cells did not finish within {timeout:.0f} s") from exc
    run.timings["all cells run"] = page.evaluate("performance.now() / 1000")
    run.all_ok = bool(page.evaluate("window.__workbenchRun.ok"))
    executed = page.evaluate(_EXECUTED)
    if not run.all_ok or executed < code_cells:
        raise fail(f"{executed} of {code_cells} code cells ran, not all successfully")
    try:
        page.wait_for_function(
            f"document.querySelectorAll({CHART_MARKS!r}).length >= {charts}",
            timeout=timeout * 1000,
        )
    except Exception as exc:
        raise fail(f"fewer than {charts} charts drew within {timeout:.0f} s") from exc
    run.timings["all charts"] = page.evaluate("performance.now() / 1000")
    run.timings["first chart"] = page.evaluate("window.__workbenchFirstChart")
    run.charts = page.locator(CHART_MARKS).count()
    run.output_errors = page.locator(ERROR_OUTPUTS).all_inner_texts()
    shot(page, screenshot)
    return run


def describe(run: LabRun) -> str:
    """The errors a failed run saw, for an assertion message."""
    return "\n".join(
        [
            f"run-all ok: {run.all_ok}; charts: {run.charts}; timings: {run.timings}",
            f"output errors: {run.page.locator(ERROR_OUTPUTS).all_inner_texts()[:5]}",
            f"console errors: {run.console_errors[:10]}",
            f"page errors: {run.page_errors[:10]}",
            f"HTTP errors: {run.http_errors[:10]}",
            f"left 127.0.0.1: {run.external[:10]}",
        ]
    )
