"""The served apps (``workbench serve``) against a hostile page, a hostile network neighbour
and hostile input.

* The page gets no code: code cells are stripped, and a kernel websocket opened the way a
  malicious page would (both wire protocols, shell and control channels) cannot execute
  anything: ``execute_request`` & co. are dropped by the server (a marker file is never
  written; the server log says each was refused).
* Nothing but the apps is served: contents, terminals, kernels, sessions, ``/lab``, ``/tree``,
  files outside ``notebooks/`` and path traversal all fail; the server listens on loopback
  only and refuses a foreign ``Host`` (DNS rebinding); a ``voila.py`` in the directory it
  runs from is not executed.
* Garbage typed into every text box, date picker and dropdown of the three apps, in
  headless Chromium: each gives a visible message, never a traceback or a script run (a
  ``<script>`` shows as text), and the app still loads a real package afterwards.

Planted credentials (see ``test_secrets``) sit in the server's environment; the pages and
the server log are scanned for them at the end.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import polars as pl
import pytest

from tests import tally

from .browser_support import (
    Server,
    chromium,
    new_page,
    non_loopback_addresses,
    serve,
    shot,
    wait_for_app,
)
from .conftest import ROOT, SMALL
from .test_secrets import Planted, plant, scan_stream

pytestmark = pytest.mark.browser
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))  # the apps
V1 = "v1.kernel.websocket.jupyter.org"


@dataclass(frozen=True)
class Served:
    server: Server
    workdir: Path
    secrets: Planted
    pages: list[str]  # every page's HTML seen by the tests, scanned at the end


@pytest.fixture(scope="module")
def served(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("served")
    # Voilà reads voila.py from the current directory by default: it must not be run
    (workdir / "voila.py").write_text(
        f"open({str(workdir / 'cwd-config-ran')!r}, 'w').write('ran')\n"
    )
    secrets = plant(workdir, "http://127.0.0.1:9/token")
    with serve(small_demo_dir, workdir, secrets.env(secrets.bad_key)) as server:
        yield Served(server, workdir, secrets, [])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def packages(small_demo_dir: Path) -> list[str]:
    """Two real packages of the small demo, busiest first."""
    counts = (
        pl.scan_parquet(small_demo_dir / "file_downloads")
        .group_by("project")
        .len()
        .sort("len", "project", descending=True)
        .collect()
    )
    return [str(counts["project"][3]), str(counts["project"][10])]


def _source_lines() -> list[str]:
    """Every line of every code cell of the apps (none may reach a page)."""
    lines = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                lines += [line.strip() for line in cell.source.splitlines() if line.strip()]
    return lines


# -- HTTP ---------------------------------------------------------------------------------------
def _request(
    port: int, method: str, path: str, *, host: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request with ``path`` sent as is (no client-side normalisation of ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        conn.request(method, path, body=body, headers={"Host": host or f"127.0.0.1:{port}"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


#: (method, path, content that must never come back): every path must end in an error,
#: after at most one redirect, except where a 200 is allowed without the content.
PROBES: list[tuple[str, str, bytes | None]] = [
    ("GET", "/api/contents", None),
    ("GET", "/api/contents/01_investigate.ipynb", None),
    ("PUT", "/api/contents/new.ipynb", None),
    ("GET", "/api/terminals", None),
    ("POST", "/api/terminals", None),
    ("GET", "/terminals/websocket/1", None),
    ("GET", "/lab", None),
    ("GET", "/lab/tree/01_investigate.ipynb", None),
    ("GET", "/tree", None),
    ("GET", "/notebooks/01_investigate.ipynb", None),
    ("GET", "/edit/01_investigate.ipynb", None),
    ("GET", "/api/kernels", None),
    ("POST", "/api/kernels", None),
    ("GET", "/api/kernelspecs", None),
    ("GET", "/api/sessions", None),
    ("POST", "/api/sessions", None),
    ("GET", "/api/nbconvert", None),
    ("GET", "/api/config/notebook", None),
    ("GET", "/files/pyproject.toml", None),
    ("GET", "/voila/files/01_investigate.ipynb", None),
    ("GET", "/voila/files/../pyproject.toml", None),
    ("GET", "/voila/files/%2e%2e/pyproject.toml", None),
    ("GET", "/voila/render/../../../../../../etc/passwd", None),
    ("GET", "/voila/render/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", None),
    ("GET", "/voila/render/%2Fetc%2Fpasswd", None),
    ("GET", "/voila/render/../pyproject.toml", None),
    ("GET", "/voila/render/../workbench/serve.py", None),
    ("GET", "/voila/static/../app.py", None),
    ("GET", "/voila/static/%2e%2e/app.py", None),
    ("GET", "/voila/templates/lab/static/../../../../app.py", None),
    ("GET", "/voila/labextensions/../../../../../../etc/passwd", None),
    ("GET", "/voila/api/contents/..", None),
    ("GET", "/voila/api/contents/%2e%2e/pyproject.toml", None),
    ("PUT", "/voila/api/contents/new.ipynb", None),
    ("DELETE", "/voila/api/contents/01_investigate.ipynb", None),
    ("POST", "/voila/api/contents/01_investigate.ipynb", None),
    # allowed to answer, never with the content: the notebook's model carries no source
    ("GET", "/voila/api/contents/01_investigate.ipynb?content=1", b"InvestigateApp"),
    ("GET", "/voila/api/contents/03_report.ipynb?format=text", b"ReportApp"),
]
#: What a file outside the apps would show if it were served.
FOREIGN = [b"root:", b"[project]", b"import ", b"InvestigateApp", b"ResearchApp", b"ReportApp"]


def test_nothing_but_the_apps_is_served(served: Served) -> None:
    port = served.server.port
    before = {p: p.read_bytes() for p in NOTEBOOKS}
    opened = []
    for method, path, forbidden in PROBES:
        status, headers, body = _request(port, method, path)
        if 300 <= status < 400 and "Location" in headers:  # follow one redirect
            status, headers, body = _request(port, "GET", headers["Location"])
        if forbidden is None:
            if status < 400 or any(f in body for f in FOREIGN):
                opened.append((method, path, status, body[:200]))
        elif forbidden in body:
            opened.append((method, path, status, body[:200]))
        tally.count("served apps: blocked endpoints")
    assert opened == []
    assert {p: p.read_bytes() for p in NOTEBOOKS} == before  # nothing written or deleted
    # the controls: the list page is served, and its listing names the three apps
    assert _request(port, "GET", "/")[0] == 200
    status, _headers, listing = _request(port, "GET", "/voila/api/contents")
    assert status == 200 and all(p.name.encode() in listing for p in NOTEBOOKS)


def test_listens_on_loopback_only_and_checks_the_host(served: Served) -> None:
    port = served.server.port
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # the control: the server is up
    addresses = non_loopback_addresses()
    accepted = []
    for address in addresses:
        try:
            with socket.create_connection((address, port), timeout=3):
                accepted.append(address)
        except OSError:
            pass
        tally.count("served apps: blocked endpoints")
    assert accepted == [], f"workbench serve accepts connections on {accepted}"
    # a page on another site whose name resolves to 127.0.0.1 (DNS rebinding) gets nothing
    for path in (
        "/",
        "/voila/render/02_research.ipynb",
        "/voila/tree",
        "/voila/api/contents",
        "/voila/static/voila.js",  # Voilà's static handlers check no Host: ours do
        "/voila/templates/lab/static/voila.js",
        "/voila/labextensions/@jupyter-widgets/jupyterlab-manager/package.json",
        "/voila/api/themes/@jupyterlab/theme-light-extension/index.css",
    ):
        status, _h, _b = _request(port, "GET", path, host=f"attacker.example:{port}")
        assert status == 403, (path, status)
        assert _request(port, "GET", path)[0] == 200, path  # the control
        tally.count("served apps: blocked endpoints")
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert _request(port, "GET", "/", host=host)[0] == 200
    assert not (served.workdir / "cwd-config-ran").exists(), "voila.py in the cwd was run"
    if not addresses:
        pytest.skip("this machine has no non-loopback address to try (the rest passed)")


# -- the kernel websocket -------------------------------------------------------------------
def _message(msg_type: str, content: dict[str, Any], session: str) -> dict[str, Any]:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "session": session,
            "username": "attacker",
            "date": dt.datetime.now(dt.UTC).isoformat(),
            "msg_type": msg_type,
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {"version": "2.1.0"},
        "content": content,
        "buffers": [],
    }


def _send(ws: Any, protocol: str | None, channel: str, msg: dict[str, Any]) -> None:
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    if protocol == V1:
        ws.send_binary(serialize_msg_to_ws_v1(msg, channel, pack=lambda o: json.dumps(o).encode()))
    else:
        ws.send(json.dumps({**msg, "channel": channel}))


def _receive(ws: Any, protocol: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

    raw = ws.recv()
    if protocol == V1:
        _channel, parts = deserialize_msg_from_ws_v1(raw)
        return json.loads(parts[0]), json.loads(parts[1])
    msg = json.loads(raw)
    return msg["header"], msg["parent_header"]


def _kernel_of_a_page(served: Served) -> str:
    status, _h, page = _request(served.server.port, "GET", "/voila/render/02_research.ipynb")
    assert status == 200
    served.pages.append(page.decode())
    found = re.search(rb'"kernelId": "([0-9a-f-]{36})"', page)
    assert found, page[:500]
    return found.group(1).decode()


def test_a_page_cannot_run_code_in_the_kernel(served: Served, tmp_path: Path) -> None:
    import websocket

    kernel = _kernel_of_a_page(served)
    marker = tmp_path / "pwned"
    code = f"open({str(marker)!r}, 'w').write('pwned')"
    attacks: list[tuple[str, str, dict[str, Any]]] = [
        ("shell", "execute_request", {"code": code, "silent": False, "store_history": False}),
        ("control", "execute_request", {"code": code, "silent": True}),
        ("shell", "inspect_request", {"code": code, "cursor_pos": 1, "detail_level": 1}),
        ("shell", "complete_request", {"code": code, "cursor_pos": 1}),
        ("shell", "history_request", {"hist_access_type": "tail", "n": 10, "output": True}),
        ("control", "debug_request", {"command": "evaluate", "arguments": {"expression": code}}),
        ("stdin", "input_reply", {"value": code}),
    ]
    # an allowed type that asks the widget registry for a class it must not have
    widget_state = {
        "_model_module": "os",
        "_model_module_version": "*",
        "_model_name": "system",
        "_view_module": "os",
        "_view_module_version": "*",
        "_view_name": "system",
        "value": code,
    }
    comm_open = {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget"}
    comm_open["data"] = {"state": widget_state, "buffer_paths": []}
    port = served.server.port
    url = f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels"
    log_before = served.server.log.read_text().count("which is not allowed. Ignoring")
    for protocol in (None, V1):
        session = uuid.uuid4().hex
        ws = websocket.create_connection(
            f"{url}?session_id={session}",
            subprotocols=[protocol] if protocol else None,
            timeout=60,
        )
        try:
            assert ws.subprotocol == protocol
            for channel, msg_type, content in attacks:
                _send(ws, protocol, channel, _message(msg_type, content, session))
            _send(ws, protocol, "shell", _message("comm_open", comm_open, session))
            # the barrier: the kernel answers this only after everything sent before it
            info = _message("kernel_info_request", {}, session)
            _send(ws, protocol, "shell", info)
            replies = []
            while True:
                header, parent = _receive(ws, protocol)
                replies.append(header["msg_type"])
                if parent.get("msg_id") == info["header"]["msg_id"] and header["msg_type"].endswith(
                    "_reply"
                ):
                    break
        finally:
            ws.close()
        assert "kernel_info_reply" in replies  # the control: the channel reaches the kernel
        forbidden = {"execute_reply", "execute_result", "inspect_reply", "complete_reply"}
        assert not forbidden & set(replies), replies
        tally.count("served apps: kernel messages refused", len(attacks) + 1)
    assert not marker.exists(), "a page executed code in the kernel"
    # every disallowed message was refused by the server itself (it logs each)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        refused = served.server.log.read_text().count("which is not allowed. Ignoring")
        if refused - log_before >= 2 * len(attacks):
            break
        time.sleep(0.2)
    assert refused - log_before == 2 * len(attacks)
    # a foreign page (cross-origin, or a rebound host name) cannot open the socket at all
    for headers in (
        {"origin": "http://attacker.example"},
        {"host": f"attacker.example:{port}", "origin": f"http://attacker.example:{port}"},
    ):
        with pytest.raises(websocket.WebSocketBadStatusException) as refusal:
            websocket.create_connection(f"{url}?session_id=x", timeout=30, **headers)
        assert refusal.value.status_code == 403
        tally.count("served apps: blocked endpoints")


# -- garbage in every widget, in a real browser ---------------------------------------------------
class KernelTraffic:
    """The page's kernel messages (Jupyter's v1 websocket protocol, or JSON), so a test waits
    exactly until the kernel has handled everything one user action sent to it."""

    def __init__(self, page: Any) -> None:
        self.sent: list[str] = []
        self.done: set[str] = set()
        page.on("websocket", self._watch)

    def _watch(self, ws: Any) -> None:
        if "/channels" in ws.url:
            ws.on("framesent", lambda payload: self._frame(payload, outgoing=True))
            ws.on("framereceived", lambda payload: self._frame(payload, outgoing=False))

    def _frame(self, payload: str | bytes, *, outgoing: bool) -> None:
        from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

        if isinstance(payload, str):
            msg = json.loads(payload)
            header, parent, content = msg["header"], msg["parent_header"], msg["content"]
        else:
            _channel, parts = deserialize_msg_from_ws_v1(payload)
            header, parent, content = (json.loads(parts[i]) for i in (0, 1, 3))
        if outgoing and str(header.get("msg_type", "")).startswith("comm_"):
            self.sent.append(header["msg_id"])
        elif header.get("msg_type") == "status" and content.get("execution_state") == "idle":
            self.done.add(parent.get("msg_id", ""))

    def act(self, page: Any, action: Callable[[], Any], *, timeout: float = 90) -> int:
        """Run ``action``; wait until the kernel is idle after every message it caused;
        returns how many messages it sent (0: the page did not pass the input on)."""
        before = len(self.sent)
        action()
        deadline = time.monotonic() + timeout
        quiet_until = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            page.wait_for_timeout(30)
            new = self.sent[before:]
            if not new and time.monotonic() > quiet_until:
                return 0
            if new and all(m in self.done for m in new):
                page.wait_for_timeout(100)  # the widgets apply the last updates
                if all(m in self.done for m in self.sent[before:]):
                    return len(self.sent) - before
        raise AssertionError(f"the kernel did not finish the input within {timeout:.0f} s")


#: Typed into every text box (package, compare, source): empty, blank, 10 kB, quotes, SQL,
#: markup, look-alike letters (full-width, Cyrillic), traversal, a right-to-left override,
#: format strings.
TEXT = [
    "",
    "x" * 10_000,
    "   ",
    "'\"`",
    "'; DROP TABLE file_downloads; --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "ｒｅｑｕｅｓｔｓ",
    "rеquests",
    "../../../etc/passwd",
    "requests\u202egnp.exe",
    "%s%n{0}${jndi:ldap://x/a}",
]
SOURCES = [
    "/nonexistent/exports/*.parquet",
    "/etc/passwd",
    "../../../../etc/shadow",
    "demo:abc",
    "demo:99999999999999999999999",
    "bigquery",  # the planted key file does not load: a message, not the key
    "bigquery:Bad_Project!",
    "<script>alert(1)</script>",
    "x" * 10_000,
    "parquet:",
    "   ",
]
#: The compare box validates like the package box: the distinct cases only.
COMPARE = ["x" * 10_000, "<script>alert(1)</script>", "rеquests", "no-such-package"]
MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
BROKEN = ("Traceback", "Unexpected error", "There was an error when executing", 'File "/')


@dataclass
class App:
    page: Any
    traffic: KernelTraffic
    dialogs: list[str]

    def message(self) -> str:
        return "\n".join(self.page.locator(".wb-error, .wb-ok, .wb-info").all_inner_texts())

    def enter(self, box: Any, value: str) -> int:
        def action() -> None:
            box.fill(value)
            box.press("Enter")

        return self.traffic.act(self.page, action)

    def check(self, what: str, value: str, *, error: bool = True) -> None:
        """A visible message (an error if ``error``), no traceback, no script run."""
        page = self.page
        body = page.locator("body").inner_text()
        shown = f"{what} = {value[:40]!r}: {body[:1500]}"
        assert not [b for b in BROKEN if b in body], shown
        assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert self.dialogs == [], shown
        assert page.locator(".wb-error:visible, .wb-ok:visible, .wb-info:visible").count()
        if error:
            assert page.locator(".wb-error:visible").count(), shown
        if value in MARKUP:
            assert page.locator("script:has-text('alert(1)'), img[src='x']").count() == 0
            if error:
                assert value in body, shown  # the markup is shown as text
        tally.count("served apps: garbage inputs")


def _open(served: Served, browser: Any, notebook: str, ready: str) -> App:
    blocked: list[str] = []
    page = new_page(browser, blocked)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    app = App(page, KernelTraffic(page), dialogs)
    page.goto(f"{served.server.url}/voila/render/{notebook}", timeout=120_000)
    wait_for_app(page, ready)
    return app


def _finish(served: Served, app: App, name: str) -> None:
    html = app.page.content()
    served.pages.append(html)
    leaked = [line for line in _source_lines() if line in html]
    assert leaked == [], f"code cells in the page: {leaked}"
    shot(app.page, name)
    app.page.close()


def test_garbage_in_the_investigate_app(served: Served, browser: Any, packages: list[str]) -> None:
    # a package loaded (by a link: the first screen has none), then garbage typed in
    app = _open(served, browser, f"01_investigate.ipynb?package={packages[0]}", ".wb-findings")
    page = app.page
    package = page.locator("input[placeholder='package name']")
    for value in TEXT:
        assert app.enter(package, value), value
        app.check("package", value)
    assert app.enter(package, packages[1])
    assert packages[1] in page.locator(".wb-ok").inner_text()
    compare = page.locator("input[placeholder='(none)']")  # with a package loaded
    for value in COMPARE:
        assert app.enter(compare, value), value
        app.check("compare with", value)
    assert app.enter(compare, packages[0])
    app.check("compare with", packages[0], error=False)
    assert page.locator(".wb-error").count() == 0  # the earlier error is gone
    assert f"compared with {packages[0]}" in app.message()
    assert app.enter(compare, "")
    source = page.locator("input[placeholder^='demo |']")
    for value in SOURCES:
        assert app.enter(source, value), value
        app.check("source", value)
    assert app.enter(source, "demo")
    assert app.enter(package, packages[1])
    assert packages[1] in page.locator(".wb-ok").inner_text()
    # dates: cleared, year 9999, year 1, reversed (each a message naming the problem)
    start, end = (
        page.locator("input[type='date']").nth(0),
        page.locator("input[type='date']").nth(1),
    )
    first, last = SMALL.start.isoformat(), SMALL.end.isoformat()
    for box, value, expect in [
        (end, "", "choose both"),
        (end, "9999-12-31", "future"),
        (end, "0001-01-01", "reversed"),
        (start, "0001-01-01", "2016-01-22"),
        (start, "", "choose both"),
        (start, last, "reversed"),
        (end, first, "reversed"),
        (end, "9999-12-30", "future"),
    ]:
        assert app.traffic.act(page, lambda b=box, v=value: b.fill(v)), value
        app.check("date", value)
        assert expect in app.message(), (value, app.message())
    app.traffic.act(page, lambda: start.fill(first))
    app.traffic.act(page, lambda: end.fill(last))
    assert packages[1] in page.locator(".wb-ok").inner_text()
    # every drill-down dropdown on its rarest value: the intersection keeps nothing
    selects = page.locator(".widget-dropdown select")
    for i in range(selects.count()):
        select = selects.nth(i)
        last = select.locator("option").count() - 1
        app.traffic.act(page, lambda s=select, n=last: s.select_option(index=n))
        app.check("drill-down", f"dropdown {i}", error=False)
    app.traffic.act(page, lambda: page.get_by_role("button", name="Clear filters").click())
    # still works: a real package loads and draws
    assert app.enter(package, packages[0])
    app.check("package", packages[0], error=False)
    assert packages[0] in page.locator(".wb-ok").inner_text()
    page.wait_for_selector(".vega-embed svg .mark-line", timeout=60_000)
    _finish(served, app, "served-investigate-garbage")


def test_garbage_in_the_research_app(served: Served, browser: Any) -> None:
    app = _open(served, browser, "02_research.ipynb", "button:has-text('Scan every package')")
    page = app.page
    scan = page.get_by_role("button", name="Scan every package")
    start, end = (
        page.locator("input[type='date']").nth(0),
        page.locator("input[type='date']").nth(1),
    )
    first, last = SMALL.start.isoformat(), SMALL.end.isoformat()
    for box, value in [
        (end, ""),
        (end, "9999-12-31"),
        (start, "9999-12-31"),
        (end, first),
        (start, "0001-01-01"),
        (start, ""),
    ]:
        app.traffic.act(page, lambda b=box, v=value: b.fill(v))
        assert app.traffic.act(page, scan.click), value
        app.check("date", value)
    app.traffic.act(page, lambda: start.fill(first))
    app.traffic.act(page, lambda: end.fill(last))
    assert app.traffic.act(page, scan.click)
    page.wait_for_selector(".wb-ranking", timeout=120_000)
    app.check("scan", "valid dates", error=False)
    selects = page.locator(".widget-dropdown select:visible")  # a one-tier source hides "Tier"
    for i in range(selects.count()):
        select = selects.nth(i)
        count, current = select.locator("option").count(), select.evaluate("s => s.selectedIndex")
        for n in [(current + k) % count for k in range(1, count + 1)]:  # each, ending as it was
            assert app.traffic.act(page, lambda s=select, k=n: s.select_option(index=k))
            app.check("dropdown", f"{i}:{n}", error=False)
    compare = page.locator("select[multiple]")
    names = compare.locator("option").all_inner_texts()
    for chosen in (names[:1], names[:4], []):
        app.traffic.act(page, lambda c=chosen: compare.select_option(c))
        app.check("compare", f"{len(chosen)} packages", error=False)
    _finish(served, app, "served-research-garbage")


def test_garbage_in_the_report_app(served: Served, browser: Any, packages: list[str]) -> None:
    app = _open(served, browser, "03_report.ipynb", ".wb-report svg")
    page = app.page
    package = page.locator("input[type='text']").first
    for value in TEXT:
        assert app.enter(package, value), value
        app.check("package", value)
    start, end = (
        page.locator("input[type='date']").nth(0),
        page.locator("input[type='date']").nth(1),
    )
    for box, value, expect in [
        (start, "", "choose both"),
        (end, "9999-12-31", "choose both"),
        (start, "0001-01-01", "future"),
        (end, "0001-01-01", "2016-01-22"),
        (start, SMALL.end.isoformat(), "reversed"),
    ]:
        assert app.traffic.act(page, lambda b=box, v=value: b.fill(v)), value
        app.check("date", value)
        assert expect in app.message(), (value, app.message())
    app.traffic.act(page, lambda: start.fill(SMALL.start.isoformat()))
    app.traffic.act(page, lambda: end.fill(SMALL.end.isoformat()))
    # still works: a real package's case file
    assert app.enter(package, packages[1])
    page.wait_for_selector(".wb-report svg", timeout=60_000)
    app.check("package", packages[1], error=False)
    assert packages[1] in page.locator(".wb-ok").inner_text()
    _finish(served, app, "served-report-garbage")


def test_pages_and_server_log_hold_no_planted_secret(served: Served) -> None:
    """Runs last: every page the tests saw, and the whole server log."""
    assert served.pages, "the tests above saw no page"
    found = []
    for i, html in enumerate(served.pages):
        found += scan_stream(f"page {i}", html, served.secrets.markers)
    found += scan_stream("server log", served.server.log.read_text(), served.secrets.markers)
    assert found == []
