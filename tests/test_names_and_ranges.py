from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import InvalidInputError
from workbench.names import normalize, normalize_all
from workbench.query import DayRange, RollupQuery

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Foo_Bar", "foo-bar"),
        ("foo.bar", "foo-bar"),
        ("FOO--_.bar", "foo-bar"),
        (" requests ", "requests"),
        ("zope.interface", "zope-interface"),
        ("a", "a"),
    ],
)
def test_pep503_normalisation(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "-leading",
        "trailing_",
        "quote'",
        "semi;colon",
        "back`tick",
        "foo bar",
        "requests\u0435",
        "ｒｅｑｕｅｓｔｓ",
        "a" * 201,
        "foo\nbar",
        "../etc/passwd",
    ],
)
def test_invalid_names_are_refused_with_one_line(bad: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        normalize(bad)
    assert "\n" not in str(info.value)


def test_normalize_all_deduplicates_and_sorts() -> None:
    assert normalize_all(["B", "a", "A"]) == ("a", "b")
    with pytest.raises(InvalidInputError):
        normalize_all([])


@given(st.text(max_size=60))
def test_any_text_is_normalised_or_refused(text: str) -> None:
    try:
        name = normalize(text)
    except InvalidInputError as exc:
        assert "\n" not in str(exc)
        return
    assert re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", name)
    assert normalize(name) == name


def test_ranges() -> None:
    r = DayRange.parse("2026-01-01", "2026-01-31", today=TODAY)
    assert r.days == 31
    with pytest.raises(InvalidInputError, match="reversed"):
        DayRange.parse("2026-02-01", "2026-01-01", today=TODAY)
    with pytest.raises(InvalidInputError, match="future"):
        DayRange.parse("2026-11-01", "2026-12-01", today=TODAY)
    with pytest.raises(InvalidInputError, match="start on"):
        DayRange.parse("2010-01-01", "2010-02-01", today=TODAY)
    with pytest.raises(InvalidInputError, match="not a date"):
        DayRange.parse("yesterday", "2026-01-01", today=TODAY)
    single = DayRange.parse("2026-03-03", "2026-03-03", today=TODAY)
    assert single.days == 1


def test_split_complete_and_incomplete_days() -> None:
    r = DayRange.parse("2026-11-01", "2026-11-25", today=TODAY)
    done, live = r.split(dt.date(2026, 11, 24))
    assert done == DayRange(dt.date(2026, 11, 1), dt.date(2026, 11, 23))
    assert live == DayRange(dt.date(2026, 11, 24), dt.date(2026, 11, 25))
    assert r.split(dt.date(2027, 1, 1)) == (r, None)
    assert r.split(dt.date(2026, 1, 1)) == (None, r)


def test_query_normalises_names() -> None:
    q = RollupQuery.of(["Foo_Bar", "foo-bar"], "2026-01-01", "2026-01-02", today=TODAY)
    assert q.projects == ("foo-bar",)
