"""Voilà, locked down, for ``workbench serve`` (``python -m workbench.serve NOTEBOOKS …``).

What a page (or any program on the machine) can reach:

* **No code execution.** Voilà runs the notebook itself; the page talks to its kernel over
  ``/api/kernels/<id>/channels``, where Voilà passes only ``comm_*``, ``kernel_info_request``
  and ``shutdown_request`` messages (the widgets need nothing else): an ``execute_request``
  is dropped by the server before it reaches the kernel. There is no ``/api/kernels`` to
  start a kernel, no contents, terminals, ``/lab`` or ``/tree`` API, and code cells are
  stripped from the page (``strip_sources``).
* **Loopback only.** The server listens on 127.0.0.1, and requests whose ``Host`` is not
  a loopback address or ``localhost`` are refused (403): a web page on another site that
  rebinds its DNS name to 127.0.0.1 cannot drive the apps (Voilà allows any ``Host`` by
  default).
* **No outside configuration.** ``voila.py`` / ``voila.json`` are not read from the current
  directory or the Jupyter config path: a ``voila.py`` is code, and running ``workbench
  serve`` inside a checked-out repository must not execute it.
"""

from __future__ import annotations

import sys
from typing import Any

#: Tornado settings applied on top of Voilà's own (``Voila.tornado_settings``).
TORNADO_SETTINGS: dict[str, Any] = {
    # Voilà sets allow_remote_access=True, which skips Jupyter's Host-header check.
    "allow_remote_access": False,
    "local_hostnames": ["localhost"],
}


def main(argv: list[str] | None = None) -> None:
    """Run Voilà with ``argv`` (the notebook or directory, ``--port`` …) and our settings."""
    from voila.app import Voila  # type: ignore[import-untyped]

    Voila.launch_instance(
        argv=sys.argv[1:] if argv is None else argv,
        config_file_paths=[],
        tornado_settings=TORNADO_SETTINGS,
    )


if __name__ == "__main__":
    main()
