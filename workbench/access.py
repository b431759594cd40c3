"""Who may use the served apps: the address ``workbench serve`` binds to, its token and the
``Host`` names it answers to (stdlib only, so the CLI checks its options before Voilà loads).

Two modes:

* **Loopback** (127.0.0.0/8, ``::1``, ``localhost``; the default): only programs on this
  machine can connect, so no token is needed unless one is given. The ``Host`` check is
  what keeps a web page on another site out: such a page can rebind its own DNS name to
  127.0.0.1 (DNS rebinding), and the browser then lets it read our answers, but it still
  sends its own name in ``Host``, which is refused.
* **Team** (any other address, ``0.0.0.0`` and ``::`` included): anyone on the network
  can connect, so every request must carry the token (``?token=``, an ``Authorization:
  token …`` header, or the login cookie set after either). The ``Host`` the server was
  bound to is accepted besides the loopback names (and every name for ``0.0.0.0`` /
  ``::``, which answer on all of the machine's addresses and names). DNS rebinding gains
  nothing here: the rebound page runs under the attacker's name, so the browser sends it
  neither the login cookie (cookies belong to a host name) nor the token (which it never
  had), and every request it makes is refused for want of the token.
"""

from __future__ import annotations

import ipaddress
import re
import secrets

from workbench.errors import InvalidInputError

#: The environment variable the token is read from (also how the CLI hands it to Voilà,
#: so that it never appears on a command line, which every local user can list).
TOKEN_ENV = "WORKBENCH_SERVE_TOKEN"
#: Extra ``Host`` names (comma-separated), from ``--allow-host``; the CLI sets it.
HOSTS_ENV = "WORKBENCH_SERVE_ALLOW_HOSTS"
#: Shorter tokens are refused: ``secrets.token_urlsafe(32)`` (what is generated) has 43.
MIN_TOKEN_LENGTH = 16
#: Printable ASCII without spaces: the token travels in URLs, headers and a form field.
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
#: A DNS name (letters, digits, ``-``, dots) for ``--allow-host``.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``--host`` names (``None`` for ``localhost``); anything else is refused:
    a host name may resolve to several addresses, loopback and not, so whether a token is
    needed would depend on DNS at the moment of binding."""
    if text == "localhost":
        return None
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        raise InvalidInputError(
            f"--host must be an IP address (127.0.0.1, 0.0.0.0 for every interface, a LAN "
            f"address) or localhost, not {text!r}"
        ) from None


def is_loopback(text: str) -> bool:
    """Whether ``text`` (a ``--host`` value) is reachable only from this machine."""
    address = parse_address(text)
    return address is None or address.is_loopback


def is_wildcard(text: str) -> bool:
    """``0.0.0.0`` / ``::``: every interface, so every name of the machine."""
    address = parse_address(text)
    return address is not None and address.is_unspecified


def check_token(token: str) -> str:
    """``token`` if it is long enough to resist guessing over the network, else an error."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise InvalidInputError(
            f"the token is too short ({len(token)} characters; at least {MIN_TOKEN_LENGTH}): "
            f"leave it out and one is generated"
        )
    if not _TOKEN_CHARS.fullmatch(token):
        raise InvalidInputError(
            "the token must be printable ASCII without spaces (it travels in URLs and headers)"
        )
    return token


def new_token() -> str:
    """A fresh token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def check_host_name(name: str) -> str:
    """An ``--allow-host`` value: a DNS name or an IP address, lower-cased."""
    try:
        return str(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(name):
        raise InvalidInputError(f"--allow-host takes a host name or an IP address, not {name!r}")
    return name.lower().rstrip(".")


def allowed_hosts(bound: str, extra: list[str]) -> frozenset[str] | None:
    """The ``Host`` names accepted besides the loopback ones (``None``: every name).

    Loopback: only ``extra`` (empty unless a token protects the server). Team: the bound
    address and ``extra``; every name for ``0.0.0.0`` / ``::``."""
    if is_wildcard(bound):
        return None
    names = {check_host_name(name) for name in extra}
    address = parse_address(bound)
    if address is not None and not address.is_loopback:
        names.add(str(address))
    return frozenset(names)


def host_allowed(host_header: str, allowed: frozenset[str] | None) -> bool:
    """Whether a request's ``Host`` header (``name[:port]``, ``[v6]:port``) is accepted:
    a loopback address, ``localhost``, or one of ``allowed`` (``None``: any)."""
    if allowed is None:
        return True
    match = re.fullmatch(r"(.*?)(:\d+)?", host_header)
    host = (match.group(1) if match else host_header).lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.rstrip(".")
        return name == "localhost" or name in allowed
    return address.is_loopback or str(address) in allowed
