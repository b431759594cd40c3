"""The rules of ``workbench serve --host/--token/--allow-host`` (``workbench.access``), and the
CLI refusing what it must refuse before anything starts."""

from __future__ import annotations

import subprocess

import pytest

from workbench import access
from workbench.errors import InvalidInputError

from .browser_support import WORKBENCH


@pytest.mark.parametrize(
    ("host", "loopback", "wildcard"),
    [
        ("127.0.0.1", True, False),
        ("127.0.0.2", True, False),  # all of 127.0.0.0/8 is loopback
        ("::1", True, False),
        ("[::1]", True, False),
        ("localhost", True, False),
        ("0.0.0.0", False, True),
        ("::", False, True),
        ("192.0.2.2", False, False),
        ("10.1.2.3", False, False),
        ("fd00::2", False, False),
    ],
)
def test_addresses_are_classified(host: str, loopback: bool, wildcard: bool) -> None:
    assert access.is_loopback(host) is loopback
    assert access.is_wildcard(host) is wildcard


@pytest.mark.parametrize("host", ["example.com", "", "127.0.0.1:8866", "0", "1.2.3.4/24"])
def test_host_must_be_an_address(host: str) -> None:
    with pytest.raises(InvalidInputError):
        access.is_loopback(host)


def test_tokens() -> None:
    assert len(access.new_token()) >= 43
    assert access.new_token() != access.new_token()
    assert access.check_token("x" * 16) == "x" * 16
    for weak in ("", "short", "x" * 15, "with a space xxxxxxx", "tab\txxxxxxxxxxxxxxxxx", "é" * 20):
        with pytest.raises(InvalidInputError):
            access.check_token(weak)


@pytest.mark.parametrize(
    ("bound", "extra", "header", "ok"),
    [
        # loopback: loopback addresses and localhost, as Jupyter's own check
        ("127.0.0.1", [], "127.0.0.1:8866", True),
        ("127.0.0.1", [], "127.9.9.9:8866", True),
        ("127.0.0.1", [], "[::1]:8866", True),
        ("127.0.0.1", [], "localhost:8866", True),
        ("127.0.0.1", [], "LOCALHOST", True),
        ("127.0.0.1", [], "attacker.example:8866", False),  # DNS rebinding
        ("127.0.0.1", [], "192.0.2.2:8866", False),
        ("127.0.0.1", [], "localhost.attacker.example", False),
        ("127.0.0.1", [], "", False),
        ("127.0.0.1", ["proxy.example"], "proxy.example", True),
        # a LAN address: that address (and loopback), nothing else
        ("192.0.2.2", [], "192.0.2.2:8866", True),
        ("192.0.2.2", [], "192.0.2.2", True),
        ("192.0.2.2", [], "192.0.2.3:8866", False),
        ("192.0.2.2", [], "attacker.example:8866", False),
        ("192.0.2.2", ["box.lan"], "box.lan:8866", True),
        ("192.0.2.2", ["Box.Lan."], "BOX.LAN.:8866", True),
        ("fd00::2", [], "[fd00::2]:8866", True),
        ("fd00::2", [], "[fd00:0::2]:8866", True),
        ("fd00::2", [], "[fd00::3]:8866", False),
        # every interface: every name (the token is the protection)
        ("0.0.0.0", [], "attacker.example:8866", True),
        ("::", [], "192.0.2.2:8866", True),
    ],
)
def test_host_header(bound: str, extra: list[str], header: str, ok: bool) -> None:
    assert access.host_allowed(header, access.allowed_hosts(bound, extra)) is ok


@pytest.mark.parametrize("name", ["a b", "", "-x", "x_y.example", "x" * 300, "evil/", "a..b"])
def test_allow_host_names(name: str) -> None:
    with pytest.raises(InvalidInputError):
        access.check_host_name(name)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--host", "192.0.2.2", "--token", "short"], {}, "too short"),
        (["--host", "0.0.0.0"], {access.TOKEN_ENV: "x" * 15}, "too short"),
        (["--token", "tooshort"], {}, "too short"),  # a token given on loopback is checked too
        (["--host", "example.com"], {}, "must be an IP address"),
        (["--allow-host", "box.lan"], {}, "needs a token"),
        (["--host", "0.0.0.0", "--token", "x" * 20, "--allow-host", "a b"], {}, "--allow-host"),
    ],
)
def test_cli_refuses_in_one_line(
    args: list[str], env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    done = subprocess.run(
        [*WORKBENCH, "serve", "--no-browser", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert done.stdout == ""
