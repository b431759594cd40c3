"""Voilà, locked down, for ``workbench serve`` (``python -m workbench.serve NOTEBOOKS …``).

What a page (or any program that can connect) can reach:

* **No code execution.** Voilà runs the notebook itself; the page talks to its kernel over
  ``/api/kernels/<id>/channels``, where Voilà passes only ``comm_*``, ``kernel_info_request``
  and ``shutdown_request`` messages (the widgets need nothing else): an ``execute_request``
  is dropped by the server before it reaches the kernel. There is no ``/api/kernels`` to
  start a kernel, no contents, terminals, ``/lab`` or ``/tree`` API, and code cells are
  stripped from the page (``strip_sources``).
* **Loopback by default.** The server listens on 127.0.0.1, and requests whose ``Host`` is
  not a loopback address or ``localhost`` are refused (403): a web page on another site
  that rebinds its DNS name to 127.0.0.1 cannot drive the apps (Voilà allows any ``Host``
  by default, and checks none on its static files).
* **A token beyond loopback** (``--host``, see :mod:`workbench.access`). Every handler
  Voilà installs is wrapped (:func:`guarded`) so that it checks the ``Host`` and, when a
  token is set, refuses a request without it: pages, ``/voila/render``, the kernel
  websocket, the APIs, and also the static files, theme and lab-extension files and the
  request-info websocket, which Voilà and Jupyter serve to anyone (they hold no data, but
  "every request needs the token" is a rule one can check). The token is compared in
  constant time, the login form cannot set a password (Jupyter's would write a
  ``jupyter_server_config.json`` into the working directory), the token is read from the
  environment and removed from it before any kernel starts, and it is scrubbed from the
  request log.
* **No outside configuration.** ``voila.py`` / ``voila.json`` are not read from the current
  directory or the Jupyter config path: a ``voila.py`` is code, and running ``workbench
  serve`` inside a checked-out repository must not execute it.
"""

from __future__ import annotations

import functools
import hmac
import os
import re
import sys
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode

from jupyter_server.auth.identity import PasswordIdentityProvider, User
from jupyter_server.auth.login import LoginFormHandler
from jupyter_server.auth.logout import LogoutHandler
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.log import log_request
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketHandler

from workbench import access
from workbench.errors import InvalidInputError, WorkbenchError

#: Tornado settings applied on top of Voilà's own (``Voila.tornado_settings``).
TORNADO_SETTINGS: dict[str, Any] = {
    # Voilà sets allow_remote_access=True, which skips Jupyter's Host-header check; ours
    # (Guard.check_host) replaces it on every handler.
    "allow_remote_access": False,
    "local_hostnames": ["localhost"],
    # Jupyter's request log, which writes "token=[secret]"; tornado's default would log
    # the token of a refused or missing URL in clear.
    "log_function": functools.partial(log_request, record_prometheus_metrics=False),
}


#: A URL parameter whose name contains "token" (as Jupyter's request log scrubs them).
_SECRET_PARAM = re.compile(r"([?&][^=&#]*token[^=&#]*=)[^&#]*", re.IGNORECASE)


class Guard(JupyterHandler):
    """Put in front of every handler class: the ``Host`` check, and the token on all of them.

    Jupyter's handlers authenticate their own pages and APIs, but its file handlers mark
    ``get`` as open to anyone (they serve the login page's assets) and Voilà's static,
    template and request-info handlers are plain tornado ones, with neither a ``Host`` nor
    a token check. Mixing :class:`JupyterHandler` into those is what Jupyter itself does
    for its authenticated file handler.
    """

    def check_host(self) -> bool:
        allowed: frozenset[str] | None = self.settings["workbench_hosts"]
        if access.host_allowed(self.request.host, allowed):
            return True
        self.log.warning("Refused a request for the Host %r", self.request.host[:200])
        return False

    async def prepare(self, *, _redirect_to_login: bool = True) -> None:
        await super().prepare()
        if self._finished:  # redirected to the login page
            return
        if self.current_user is None and not isinstance(self, LoginFormHandler | LogoutHandler):
            raise web.HTTPError(403)
        if self._token_in_page_url():
            # The login cookie is set on this answer: the same page without the token, so
            # the token stays out of the browser's history, Referer headers and the app's
            # kernel (Voilà hands the page's URL to it).
            rest = [(k, v) for k, vs in self.request.query_arguments.items() for v in vs]
            query = urlencode([(k, v.decode()) for k, v in rest if k != "token"])
            self.redirect(self.request.path + (f"?{query}" if query else ""))

    def get_login_url(self) -> str:
        """Only a page sends the browser to the login form; everything else is refused."""
        from voila.handler import BaseVoilaHandler

        if isinstance(self, WebSocketHandler) or not isinstance(self, BaseVoilaHandler):
            raise web.HTTPError(403)
        return super().get_login_url()

    def _token_in_page_url(self) -> bool:
        from voila.handler import BaseVoilaHandler

        return (
            self.request.method == "GET"
            and "token" in self.request.query_arguments
            and getattr(self, "_token_authenticated", False)
            and isinstance(self, BaseVoilaHandler)
        )

    def _request_summary(self) -> str:
        """What tornado logs with an error ("404 GET /api/kernels/x?token=…"): scrubbed."""
        uri = _SECRET_PARAM.sub(r"\1[secret]", self.request.uri or "")
        return f"{self.request.method} {uri} ({self.request.remote_ip})"

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        from voila.handler import BaseVoilaHandler

        if isinstance(self, BaseVoilaHandler | APIHandler | LoginFormHandler):
            super().write_error(status_code, **kwargs)
        else:  # Jupyter's error page needs a static_path Voilà does not set (a traceback)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"{status_code}\n")


def guarded(handler: type[Any]) -> type[Any]:
    """``handler`` with :class:`Guard` in front (tornado or Jupyter handler)."""
    if issubclass(handler, Guard):
        return handler
    return type(f"Guarded{handler.__name__}", (Guard, handler), {})


class NotFound(JupyterHandler):
    """Unknown paths: 404 once the token is shown (before it, 403 like everything else)."""

    async def prepare(self, *, _redirect_to_login: bool = True) -> None:
        await super().prepare(_redirect_to_login=False)
        raise web.HTTPError(404)


class Logout(LogoutHandler):
    """Forget the login cookie and show the login form. (Jupyter's logout page needs a
    ``static_path`` that Voilà does not set: it answered 500.)"""

    def get(self) -> None:
        self.identity_provider.clear_login_cookie(self)
        self.redirect(url_path_join(self.base_url, "login"))


class TokenIdentityProvider(PasswordIdentityProvider):
    """A token and nothing else: compared in constant time; no password can be set.

    Jupyter's ``PasswordIdentityProvider`` compares with ``==`` and, with a token, lets the
    login form set a new password, which it writes to ``jupyter_server_config.json`` in the
    current directory (Voilà sets no config directory)."""

    allow_password_change = False

    def _matches(self, given: str) -> bool:
        return bool(self.token) and hmac.compare_digest(given.encode(), str(self.token).encode())

    async def get_user_token(self, handler: web.RequestHandler) -> User | None:
        given = self.get_token(handler)
        if not given or not self._matches(given):
            return None
        user = self.get_user_cookie(handler)
        if isinstance(user, Awaitable):
            user = await user
        return user if user is not None else self.generate_anonymous_user(handler)

    def process_login_form(self, handler: web.RequestHandler) -> User | None:
        if self._matches(handler.get_argument("password", default="")):
            return self.generate_anonymous_user(handler)
        return None

    def get_handlers(self) -> list[tuple[str, object]]:
        return [(r"/login", self.login_handler_class), (r"/logout", Logout)] if self.token else []


def voila_class() -> type[Any]:
    """Voilà with every handler guarded and the token from the environment."""
    from voila.app import Voila

    class WorkbenchVoila(Voila):  # type: ignore[misc]
        def init_settings(self) -> dict[str, Any]:
            token = os.environ.pop(access.TOKEN_ENV, "") or None
            extra = [h for h in os.environ.pop(access.HOSTS_ENV, "").split(",") if h]
            if token is not None:
                access.check_token(token)
            elif not access.is_loopback(self.ip):
                raise InvalidInputError(f"serving on {self.ip} needs a token")
            self.token = token
            self.identity_provider_class = TokenIdentityProvider
            settings: dict[str, Any] = super().init_settings()
            settings["workbench_hosts"] = access.allowed_hosts(self.ip, extra)
            settings["default_handler_class"] = guarded(NotFound)
            return settings

        def init_handlers(self) -> list[Any]:
            return [(rule[0], guarded(rule[1]), *rule[2:]) for rule in super().init_handlers()]

    return WorkbenchVoila


def main(argv: list[str] | None = None) -> None:
    """Run Voilà with ``argv`` (the notebook or directory, ``--port`` …) and our settings."""
    try:
        voila_class().launch_instance(
            argv=sys.argv[1:] if argv is None else argv,
            config_file_paths=[],
            tornado_settings=TORNADO_SETTINGS,
        )
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
