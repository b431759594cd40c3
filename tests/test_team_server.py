"""``workbench serve --host`` for a team: every endpoint refuses a request without the token.

Two servers, each the real command:

* **lan**: bound to this machine's own non-loopback address (found by
  :func:`non_loopback_addresses`; skipped where there is none), with the token it generates
  and prints: a real team-mode bind, its Host rule (the bound address) and its printed URL.
* **loopback**: ``--host 127.0.0.1`` with ``WORKBENCH_SERVE_TOKEN`` set: a token given on
  loopback is required too (the reverse-proxy set-up), so the same checks run on machines
  with no other address.

For each: every endpoint (pages, ``/voila/render``, static, theme, lab-extension and notebook
files, the contents API, kernels, shutdown, the request-info and kernel websockets, unknown
paths, and the probes of ``test_served_apps``) is asked with no token, a wrong token (query,
header, a forged cookie), and the right one (query and ``Authorization: token …``): without
it a 403 or a redirect to the login form and never content; with it the content. Headless
Chromium opens an app with the token URL and sees it draw, and without the token sees the
login form and no app, then logs in with the form. Finally: the token is printed once, and
no kernel's environment and no command line holds it.
"""

from __future__ import annotations

import dataclasses
import http.client
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest

from tests import tally
from workbench import access

from .browser_support import (
    Server,
    chromium,
    new_page,
    non_loopback_addresses,
    serve,
    shot,
    wait_for_app,
)
from .test_served_apps import FOREIGN, PROBES, V1, _message, _receive, _send

pytestmark = pytest.mark.browser
WRONG = "not-the-token-" + "x" * 30
#: The app's chart marks (Vega draws into ``svg.marks`` or ``canvas.marks``).
MARKS = "svg.marks, canvas.marks"


@dataclass
class Team:
    mode: str
    server: Server
    token: str
    generated: bool
    kernel: str = ""  # a kernel of a page opened with the token

    @property
    def host_header(self) -> str:
        return self.server.url.removeprefix("http://")


def _lan_address() -> str | None:
    v4 = [a for a in non_loopback_addresses() if ":" not in a]
    return v4[0] if v4 else None


@pytest.fixture(scope="module", params=["lan", "loopback"])
def team(
    request: pytest.FixtureRequest,
    small_demo_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Team]:
    workdir = tmp_path_factory.mktemp(f"team-{request.param}")
    if request.param == "lan":
        address = _lan_address()
        if address is None:
            pytest.skip("this machine has no non-loopback IPv4 address to bind to")
        with serve(small_demo_dir, workdir, host=address) as server:
            printed = re.search(r"\?token=([A-Za-z0-9_-]{16,})", server.log.read_text())
            assert printed, server.log.read_text()[:2000]
            yield Team("lan", server, printed.group(1), generated=True)
    else:
        token = access.new_token()
        with serve(small_demo_dir, workdir, {access.TOKEN_ENV: token}) as server:
            yield Team("loopback", server, token, generated=False)


def _request(
    team: Team,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request to the team server, ``path`` sent as is."""
    conn = http.client.HTTPConnection(team.server.host, team.server.port, timeout=60)
    try:
        body = b"{}" if method in ("POST", "PUT", "PATCH", "DELETE") else None
        conn.request(method, path, body=body, headers={"Host": team.host_header, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _with_query(path: str, token: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}token={quote(token)}"


#: What the apps serve (GET), each with a piece of what comes back with the token.
CONTENT: list[tuple[str, bytes]] = [
    ("/", b"voila-tree-main"),  # the list page (drawn by its script)
    ("/voila/tree", b"voila-tree-main"),
    ("/voila/render/02_research.ipynb", b"kernelId"),
    ("/voila/api/contents", b"03_report.ipynb"),
    ("/voila/api/contents/01_investigate.ipynb", b'"type": "notebook"'),
    ("/voila/static/voila.js", b"function"),
    ("/voila/templates/lab/static/voila.js", b"function"),
    ("/voila/labextensions/@jupyter-widgets/jupyterlab-manager/package.json", b'"name"'),
    ("/voila/api/themes/@jupyterlab/theme-light-extension/index.css", b"--jp-"),
    ("/api/kernels/{kernel}", b'"execution_state"'),
]
#: Endpoints that must refuse without the token; with it they may answer (or fail).
REFUSE: list[tuple[str, str]] = [
    *[("GET", path) for path, _ in CONTENT],
    ("HEAD", "/voila/static/voila.js"),
    ("OPTIONS", "/voila/api/contents"),
    ("GET", "/voila/files/01_investigate.ipynb"),
    ("GET", "/voila/files/logo.png"),
    ("GET", "/voila/render/01_investigate.ipynb"),
    ("GET", "/voila/render/03_report.ipynb?theme=dark"),
    ("DELETE", "/api/kernels/{kernel}"),
    ("POST", "/api/kernels/{kernel}/restart"),
    ("POST", "/voila/api/shutdown/{kernel}"),
    ("GET", "/api/kernels/{kernel}/channels"),
    ("GET", "/voila/query/{kernel}"),
    ("GET", "/voila/execution/{kernel}"),
    ("GET", "/no/such/path"),
    ("GET", "/api"),
    ("GET", "/api/status"),
    ("GET", "/static/favicon.ico"),
    *[(method, path) for method, path, _ in PROBES],
]


def _kernel(team: Team) -> str:
    """A kernel of a page (opened with the token in the header)."""
    if not team.kernel:
        status, _h, page = _request(
            team,
            "GET",
            "/voila/render/02_research.ipynb",
            headers={"Authorization": f"token {team.token}"},
        )
        assert status == 200, page[:500]
        found = re.search(rb'"kernelId": "([0-9a-f-]{36})"', page)
        assert found, page[:500]
        team.kernel = found.group(1).decode()
    return team.kernel


def _refused(status: int, headers: dict[str, str], body: bytes) -> str | None:
    """Why this answer is not a refusal (``None``: it is one)."""
    if status == 302:
        location = headers.get("Location", "")
        if location.startswith("/login?next="):
            return None
        return f"302 to {location}"
    if status != 403:
        return f"status {status}"
    if len(body) > 3000 or any(f in body for f in FOREIGN) or b"kernelId" in body:
        return f"403 with content {body[:200]!r}"
    return None


def test_every_endpoint_refuses_without_the_token(team: Team) -> None:
    kernel = _kernel(team)
    # a login cookie signed with another secret, and a session cookie made up
    forged = f"username-{re.sub(r'[^A-Za-z0-9]+', '-', team.host_header)}=2|1:0|10:1|x|4:eA==|00"
    credentials: dict[str, dict[str, str]] = {
        "none": {},
        "wrong query": {},
        "wrong header": {"Authorization": f"token {WRONG}"},
        "bearer wrong": {"Authorization": f"Bearer {WRONG}"},
        "token prefix": {"Authorization": f"token {team.token[:-1]}"},
        "forged cookie": {"Cookie": forged},
    }
    opened = []
    for method, template in REFUSE:
        path = template.format(kernel=kernel)
        for name, headers in credentials.items():
            url = _with_query(path, WRONG) if name == "wrong query" else path
            status, answer_headers, body = _request(team, method, url, headers=headers)
            why = _refused(status, answer_headers, body)
            if why is not None:
                opened.append((name, method, path, why))
            tally.count("team server: refused requests")
    assert opened == []
    # the kernel survived every DELETE, restart and shutdown above
    status, _h, body = _request(
        team, "GET", f"/api/kernels/{kernel}", headers={"Authorization": f"token {team.token}"}
    )
    assert status == 200 and b'"execution_state"' in body


def test_the_right_token_opens_every_endpoint(team: Team) -> None:
    kernel = _kernel(team)
    for template, expected in CONTENT:
        path = template.format(kernel=kernel)
        # as a header: the content at once
        status, _h, body = _request(
            team, "GET", path, headers={"Authorization": f"token {team.token}"}
        )
        assert status == 200 and expected in body, (path, status, body[:300])
        # as a query parameter: the content, or (a page) the same page without the token
        # in its URL, with the login cookie that then opens it
        status, headers, body = _request(team, "GET", _with_query(path, team.token))
        if status == 302:
            assert headers["Location"] == path, headers
            cookie = headers["Set-Cookie"].split(";")[0]
            status, headers, body = _request(team, "GET", path, headers={"Cookie": cookie})
        assert status == 200 and expected in body, (path, status, body[:300])
        tally.count("team server: endpoints opened with the token")
    # "token" in the query of a page keeps the rest of the query
    status, headers, _b = _request(
        team, "GET", f"/voila/render/03_report.ipynb?a=1&token={quote(team.token)}&b=%C3%A9"
    )
    assert status == 302 and headers["Location"] == "/voila/render/03_report.ipynb?a=1&b=%C3%A9"
    # another Host, the token notwithstanding (the lan server: only its address)
    status, _h, _b = _request(
        team,
        "GET",
        "/voila/static/voila.js",
        headers={"Host": "attacker.example", "Authorization": f"token {team.token}"},
    )
    assert status == 403


def test_the_login_form(team: Team) -> None:
    """The token logs in; nothing else does; no password can be set (Jupyter's form would
    write it to ``jupyter_server_config.json`` in the server's working directory)."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _h, _b = _request(team, "POST", "/login", headers=form)
    assert status == 403  # no _xsrf: refused before the form is read
    status, headers, page = _request(team, "GET", "/login?next=/voila/tree")
    assert status == 200 and b"password_input" in page
    xsrf = headers["Set-Cookie"].split(";")[0]
    value = xsrf.split("=", 1)[1]
    for password, logged_in in ((WRONG, False), ("", False), (team.token, True)):
        body = f"_xsrf={quote(value)}&password={quote(password)}&new_password=a-new-password"
        conn = http.client.HTTPConnection(team.server.host, team.server.port, timeout=60)
        try:
            conn.request(
                "POST",
                "/login?next=/voila/tree",
                body=body,
                headers={"Host": team.host_header, "Cookie": xsrf, **form},
            )
            answer = conn.getresponse()
            status, location = answer.status, answer.getheader("Location")
            answer.read()
        finally:
            conn.close()
        if logged_in:
            assert (status, location) == (302, "/voila/tree")
        else:
            assert status in (200, 401), status  # the form again, with a message
    assert not (team.server.log.parent / "jupyter_server_config.json").exists()
    assert not list(team.server.log.parent.rglob("jupyter_server_config.json"))


def _websocket(team: Team, path: str, **kw: Any) -> Any:
    import websocket

    host = team.host_header
    return websocket.create_connection(f"ws://{host}{path}", timeout=30, **kw)


def test_websockets_need_the_token(team: Team) -> None:
    import websocket

    kernel = _kernel(team)
    channels = f"/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}"
    query = f"/voila/query/{kernel}"
    for path in (channels, query):
        for kw in (
            {},
            {"header": [f"Authorization: token {WRONG}"]},
            {"header": ["Authorization: token"]},
        ):
            with pytest.raises(websocket.WebSocketBadStatusException) as refusal:
                _websocket(team, path, **kw)
            assert refusal.value.status_code == 403, (path, kw)
            tally.count("team server: refused requests")
        with pytest.raises(websocket.WebSocketBadStatusException) as refusal:
            _websocket(team, _with_query(path, WRONG))
        assert refusal.value.status_code == 403
    # the right token, as a header and in the URL: the kernel answers
    for path, kw in (
        (channels, {"header": [f"Authorization: token {team.token}"], "subprotocols": [V1]}),
        (_with_query(channels, team.token), {"subprotocols": [V1]}),
    ):
        ws = _websocket(team, path, **kw)
        try:
            session = uuid.uuid4().hex
            info = _message("kernel_info_request", {}, session)
            _send(ws, V1, "shell", info)
            while True:
                header, parent = _receive(ws, V1)
                if parent.get("msg_id") == info["header"]["msg_id"] and header["msg_type"].endswith(
                    "_reply"
                ):
                    break
            assert header["msg_type"] == "kernel_info_reply"
        finally:
            ws.close()
    _websocket(team, query, header=[f"Authorization: token {team.token}"]).close()


def test_the_browser_needs_the_token(team: Team, small_demo_dir: Path) -> None:
    # a link to a package: the first screen without one draws no chart
    name = pl.read_csv(small_demo_dir / "ground_truth.csv")["project"][0]
    app = f"/voila/render/01_investigate.ipynb?package={name}"
    with chromium() as browser:
        origin = team.server.url
        # with the token URL (the printed one for the lan server): the app draws
        blocked: list[str] = []
        page = new_page(browser, blocked, allowed=(origin,))
        page.goto(f"{origin}{app}&token={team.token}", timeout=120_000)
        wait_for_app(page, ".wb-findings")
        page.wait_for_selector(MARKS, timeout=60_000)
        assert page.locator(MARKS).count() > 0
        assert "token" not in page.url  # the token left the address bar
        assert f"package={name}" in page.url  # and the link did not
        shot(page, f"team-{team.mode}-with-token")
        # and after logging out, no app any more
        page.goto(f"{origin}/logout")
        page.goto(f"{origin}{app}", timeout=120_000)
        assert "/login" in page.url and page.locator(".wb-findings, " + MARKS).count() == 0
        page.close()

        # without the token: the login form, no app; a wrong token is refused there
        page = new_page(browser, blocked, allowed=(origin,))
        page.goto(f"{origin}{app}", timeout=120_000)
        assert "/login" in page.url
        assert page.locator("#password_input").count() == 1
        assert page.locator(".wb-findings, .jupyter-widgets, " + MARKS).count() == 0
        assert "kernelId" not in page.content()
        shot(page, f"team-{team.mode}-without-token")
        page.fill("#password_input", WRONG)
        page.click("#login_submit")
        page.wait_for_load_state()
        assert "/login" in page.url and page.locator(".wb-findings").count() == 0
        # the token typed into the form opens the app
        page.fill("#password_input", team.token)
        page.click("#login_submit")
        wait_for_app(page, ".wb-findings")
        page.wait_for_selector(MARKS, timeout=60_000)
        shot(page, f"team-{team.mode}-logged-in")
        page.close()
    # Voilà's page template asks a CDN for Font Awesome (icons only); nothing else may leave
    assert [u for u in blocked if "fontawesome" not in u] == [], blocked


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo += [int(c) for c in task.read_text().split()]
    return found


def test_the_token_is_printed_once_and_kept_from_kernels(team: Team) -> None:
    """Runs last in the module: the log holds every request the tests made."""
    log = team.server.log.read_text()
    assert log.count(team.token) == (1 if team.generated else 0), [
        line for line in log.splitlines() if team.token in line
    ]
    assert WRONG not in log  # wrong tokens are scrubbed from the request log too
    assert "token=[secret]" in log
    if not Path("/proc/self/task").exists():
        pytest.skip("no /proc: the kernels' environment cannot be read")
    server, *children = _tree(team.server.proc.pid)
    if not children:
        pytest.skip("/proc lists no children here: the kernels' environment cannot be read")
    for pid in [server, *children]:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert team.token.encode() not in cmdline
    for pid in children:  # the server's own initial environment held it; kernels do not
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert team.token.encode() not in environ, pid
        assert access.TOKEN_ENV.encode() not in environ, pid


def test_every_interface(small_demo_dir: Path, tmp_path: Path) -> None:
    """``--host 0.0.0.0``: reachable on loopback and the LAN address, under any name (it
    answers on all of them), and the token required on each."""
    address = _lan_address()
    with serve(small_demo_dir, tmp_path, host="0.0.0.0", args=["--no-preheat"]) as server:
        log = server.log.read_text()
        printed = re.search(r"on http://([^/:]+):\d+/\?token=([A-Za-z0-9_-]{16,})", log)
        assert printed, log[:2000]
        assert printed.group(1) == socket.gethostname()  # a URL the team can open
        token = printed.group(2)
        for host in ["127.0.0.1", *([address] if address else [])]:
            for name in (host, "any-name.example"):
                team = Team("any", dataclasses.replace(server, host=host), token, generated=True)
                headers = {"Host": f"{name}:{server.port}"}
                for path in ("/", "/voila/api/contents", "/voila/static/voila.js"):
                    status, answer, body = _request(team, "GET", path, headers=headers)
                    assert _refused(status, answer, body) is None, (host, name, path, status)
                    status, _h, body = _request(
                        team, "GET", path, headers={**headers, "Authorization": f"token {token}"}
                    )
                    assert status == 200, (host, name, path, status)
                    tally.count("team server: refused requests")
