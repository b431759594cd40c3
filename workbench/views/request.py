"""What a page's address asks for: the typed, checked state of a view, and its link.

``?package=harbor-cli&start=2026-08-01&end=2026-08-30&country=CN&tab=Geography`` opens the
Investigate app on that package, range, drill-down and tab; the Research app reads the same
keys (it opens the package in its investigation panel). Every value is checked here with the
same functions typed input goes through (:func:`~workbench.names.normalize`,
:func:`~workbench.query.parse_day`, :class:`~workbench.breakdowns.Filters`): a bad value is
dropped and its message kept in :attr:`ViewRequest.errors`, for the app to show. Nothing
here raises on what a URL holds.

:func:`link` is the inverse: ``parse(link(r)) == r`` for any request without errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

from workbench import breakdowns as b
from workbench.errors import InvalidInputError, WorkbenchError
from workbench.names import normalize
from workbench.query import parse_day

#: The drill-down filters a link can set, in the order links write them.
FILTER_KEYS: tuple[str, ...] = ("version", "installer", "country", "python", "system")
#: The ``ci`` values a link can hold and the filter each means.
CI_VALUES: dict[str, bool] = {"yes": True, "no": False}
#: Every key a link may hold, in the order :func:`link` writes them.
KEYS: tuple[str, ...] = (
    "package",
    "start",
    "end",
    "compare",
    *FILTER_KEYS,
    "ci",
    "span",
    "tab",
    "sort",
    "only",
)
#: Keys Voilà or the server read themselves (left alone, never reported).
SERVER_KEYS = frozenset({"token", "template", "theme", "voila-template", "voila-theme"})
#: The longest query string read; longer ones are refused as a whole.
MAX_QUERY = 4000
MAX_VALUE = 200


@dataclass(frozen=True)
class ViewRequest:
    """The state a link asks for (``None``: the app's default) and what was wrong with it."""

    package: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    compare: tuple[str, ...] = ()
    filters: dict[str, str] = field(default_factory=dict)
    ci: bool | None = None
    span: tuple[dt.date, dt.date] | None = None
    tab: str | None = None
    sort: str | None = None
    only: bool | None = None
    errors: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the link asks for nothing (the app opens on its first screen)."""
        return replace(self, errors=()) == ViewRequest()

    def drill(self) -> b.Filters:
        """The drill-down the link asks for (checked when parsed)."""
        start, end = self.span if self.span else (None, None)
        return b.Filters(
            **{k: (v,) for k, v in self.filters.items()},  # type: ignore[arg-type]
            ci=self.ci,
            start=start,
            end=end,
        )


def parse(
    query: str | None,
    *,
    tabs: Sequence[str] = (),
    sorts: Sequence[str] = (),
) -> ViewRequest:
    """The request in ``query`` (``a=1&b=2``, with or without the leading ``?``); ``tabs`` and
    ``sorts`` are the app's (a ``tab``/``sort`` outside them is an error)."""
    text = (query or "").lstrip("?")
    if len(text) > MAX_QUERY:
        return ViewRequest(errors=(f"the link is {len(text):,} characters long; ignored",))
    values: dict[str, str] = {}
    errors: list[str] = []
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in SERVER_KEYS:
            continue
        if key not in KEYS:
            errors.append(f"the link holds an unknown setting {_shown(key)}; ignored")
        elif len(value) > MAX_VALUE:
            errors.append(f"the link's {key} is {len(value):,} characters long; ignored")
        elif value.strip():
            values[key] = value.strip()
    fields: dict[str, object] = {}
    filters: dict[str, str] = {}
    for key, value in values.items():
        try:
            if key in FILTER_KEYS:
                b.Filters(**{key: (value,)})  # type: ignore[arg-type]
                filters[key] = value
            else:
                fields.update(_field(key, value, tabs=tabs, sorts=sorts))
        except WorkbenchError as exc:
            errors.append(f"in the link: {exc}")
    request = ViewRequest(**fields, filters=filters)  # type: ignore[arg-type]
    try:
        request.drill()
    except WorkbenchError as exc:
        errors.append(f"in the link: {exc}")
        request = replace(request, filters={}, ci=None, span=None)
    return replace(request, errors=tuple(errors))


def _field(key: str, value: str, *, tabs: Sequence[str], sorts: Sequence[str]) -> dict[str, object]:
    if key == "package":
        return {"package": normalize(value)}
    if key in ("start", "end"):
        return {key: parse_day(value, what=f"{key} date")}
    if key == "compare":
        names = [normalize(v) for v in value.split(",") if v.strip()]
        return {"compare": tuple(dict.fromkeys(names))}
    if key == "ci":
        if value.lower() not in CI_VALUES:
            raise InvalidInputError(f"ci must be {' or '.join(CI_VALUES)}, not {_shown(value)}")
        return {"ci": CI_VALUES[value.lower()]}
    if key == "span":
        first, sep, last = value.partition("..")
        if not sep:
            raise InvalidInputError(f"span must be FIRST..LAST days, not {_shown(value)}")
        return {"span": (parse_day(first, what="span start"), parse_day(last, what="span end"))}
    if key == "tab":
        return {"tab": _one_of(value, tabs, "tab")}
    if key == "sort":
        return {"sort": _one_of(value, sorts, "sort")}
    if value.lower() not in ("yes", "no"):
        raise InvalidInputError(f"only must be yes or no, not {_shown(value)}")
    return {"only": value.lower() == "yes"}


def _shown(text: str, limit: int = 40) -> str:
    """Untrusted text, printable and short, for a message."""
    safe = text.encode("ascii", "backslashreplace").decode("ascii")
    return repr(safe if len(safe) <= limit else safe[:limit] + "…")


def _one_of(value: str, allowed: Sequence[str], what: str) -> str:
    for choice in allowed:
        if choice.lower() == value.lower():
            return choice
    raise InvalidInputError(f"no {what} {_shown(value)}; choose one of {', '.join(allowed)}")


def compare_of(names: str | None) -> tuple[str, ...]:
    """The packages to compare with, from a parameter (``"a"``, ``"a,b"`` or nothing)."""
    return tuple(n.strip() for n in (names or "").split(",") if n.strip())


def merged(base: ViewRequest, other: ViewRequest) -> ViewRequest:
    """``other``'s values over ``base``'s (the notebook's parameters under the page's link)."""
    changes = {
        name: getattr(other, name)
        for name in ViewRequest.__dataclass_fields__
        if name != "errors" and getattr(other, name) not in (None, (), {})
    }
    return replace(base, **changes, errors=base.errors + other.errors)


def link(request: ViewRequest) -> str:
    """The query string (with its ``?``; empty for the default view) that asks for
    ``request``: the inverse of :func:`parse`."""
    pairs: list[tuple[str, str]] = []
    if request.package:
        pairs.append(("package", request.package))
    if request.start:
        pairs.append(("start", request.start.isoformat()))
    if request.end:
        pairs.append(("end", request.end.isoformat()))
    if request.compare:
        pairs.append(("compare", ",".join(request.compare)))
    pairs += [(k, request.filters[k]) for k in FILTER_KEYS if k in request.filters]
    if request.ci is not None:
        pairs.append(("ci", "yes" if request.ci else "no"))
    if request.span:
        pairs.append(("span", f"{request.span[0]}..{request.span[1]}"))
    if request.tab:
        pairs.append(("tab", request.tab))
    if request.sort:
        pairs.append(("sort", request.sort))
    if request.only is not None:
        pairs.append(("only", "yes" if request.only else "no"))
    return f"?{urlencode(pairs)}" if pairs else ""
