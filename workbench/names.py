"""Package names: validation and PEP 503 normalisation.

The download table's ``project`` column holds normalised names, so every name
a user types is normalised before it reaches a query or a cache key. Names that
are not valid distribution names (PEP 508) are rejected with a clear message
instead of being passed on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from workbench.errors import InvalidInputError

# PEP 508 / core metadata "Name" field, case-insensitive.
_VALID = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_RUNS = re.compile(r"[-_.]+")
MAX_NAME_LENGTH = 200


def normalize(name: str) -> str:
    """Return the PEP 503 normal form of ``name`` after validating it.

    >>> normalize("Foo_Bar")
    'foo-bar'
    >>> normalize("  zope.interface ")
    'zope-interface'
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"a package name must be text, not {type(name).__name__}")
    stripped = name.strip()
    if not stripped:
        raise InvalidInputError("the package name is empty")
    if len(stripped) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"the package name is {len(stripped)} characters long; PyPI names are shorter"
        )
    if not stripped.isascii() or not _VALID.fullmatch(stripped):
        raise InvalidInputError(
            f"{_shown(stripped)} is not a valid package name "
            "(letters, digits, '.', '_' and '-', starting and ending with a letter or digit)"
        )
    return _RUNS.sub("-", stripped).lower()


def normalize_all(names: Iterable[str]) -> tuple[str, ...]:
    """Normalise, de-duplicate and sort a collection of names (one name is a collection of
    one, never a collection of letters)."""
    if isinstance(names, str):
        names = [names]
    elif isinstance(names, bytes | bytearray | Mapping) or not isinstance(names, Iterable):
        raise InvalidInputError(
            f"package names must be text or a list of texts, not {type(names).__name__}"
        )
    result = tuple(sorted({normalize(n) for n in names}))
    if not result:
        raise InvalidInputError("no package name was given")
    return result


def _shown(text: str, limit: int = 40) -> str:
    """A short, printable rendering of untrusted text for error messages."""
    safe = text.encode("ascii", "backslashreplace").decode("ascii")
    return repr(safe if len(safe) <= limit else safe[:limit] + "…")
