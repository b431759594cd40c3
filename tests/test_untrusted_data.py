"""Untrusted data files: a clear error or a documented handling, never a wrong chart.

Each case plants rows in Parquet files (wrong schemas, nulls everywhere, empty, truncated,
mixed directories, timestamps far out of range, absurd counts, hostile values, tampered
cache entries) and reads them through :class:`ParquetSource` (and ``--source PATH``). Where
rows are kept, the rollup totals, the breakdowns and the data inside the charts must equal
what is computed here from the planted rows with plain Python, independently of the
workbench. The handling of each case is documented in README's *Sources* section.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tests import tally
from workbench import breakdowns as b
from workbench import charts, data
from workbench.cache import Cache
from workbench.charts.render import spec
from workbench.cli import main
from workbench.dimensions import COLUMNS
from workbench.errors import DataSchemaError
from workbench.query import DayRange, RollupQuery
from workbench.schema import FILE_DOWNLOADS, arrow_schema
from workbench.sources.bigquery import BigQuerySource
from workbench.sources.local import ParquetSource

TODAY = dt.date(2026, 11, 25)
UTC = dt.UTC
FIRST, LAST = dt.date(2026, 10, 1), dt.date(2026, 10, 10)
SCHEMA = arrow_schema(FILE_DOWNLOADS)


def at(day: int, hour: int = 12, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, 30, tzinfo=tz)


def row(
    project: str | None = "pkg-a",
    ts: dt.datetime | None = None,
    *,
    version: str | None = "1.0",
    installer: str | None = "pip",
    python: str | None = "3.12.1",
    system: str | None = "Linux",
    country: str | None = "US",
    ci: bool | None = None,
    file: bool = True,
    details: bool = True,
) -> dict[str, Any]:
    """One download in BigQuery's nested layout."""
    return {
        "timestamp": at(3) if ts is None else ts,
        "country_code": country,
        "url": "/packages/x",
        "project": project,
        "file": {"filename": "x.whl", "project": project, "version": version, "type": "bdist_wheel"}
        if file
        else None,
        "details": {
            "installer": {"name": installer, "version": "24.0"},
            "python": python,
            "implementation": {"name": "CPython", "version": python},
            "distro": None,
            "system": {"name": system, "release": "6.1"},
            "cpu": "x86_64",
            "openssl_version": None,
            "setuptools_version": None,
            "rustc_version": None,
            "ci": ci,
        }
        if details
        else None,
        "tls_protocol": "TLSv1.3",
        "tls_cipher": None,
    }


def organic(n: int = 40, project: str = "pkg-a") -> list[dict[str, Any]]:
    """Valid rows spread over the window and over every dimension."""
    out = []
    for i in range(n):
        out.append(
            row(
                project if i % 4 else "pkg-b",
                at(1 + i % 10, i % 24),
                version=["1.0", "2.0", "2.1"][i % 3],
                installer=["pip", "uv", "poetry", "bandersnatch"][i % 4],
                python=["3.12.1", "3.11.9", "3.13.0"][i % 3],
                system=["Linux", "Darwin", "Windows"][i % 3],
                country=["US", "DE", "CN", "BR", "JP"][i % 5],
                ci=True if i % 7 == 0 else None,
            )
        )
    return out


def write(path: Path, rows: list[dict[str, Any]], schema: pa.Schema = SCHEMA) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def flatten(table: pa.Table, joiner: str = ".") -> pa.Table:
    """BigQuery's nested columns as ``a.b.c`` (or ``a_b_c``) columns, as some exports do."""
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table.rename_columns([c.replace(".", joiner) for c in table.column_names])


# --- the oracle: plain Python over the planted rows ----------------------------------------
def utc_day(ts: dt.datetime) -> dt.date:
    return ts.astimezone(UTC).date() if ts.tzinfo else ts.date()  # naive is read as UTC


def field(r: dict[str, Any], *path: str) -> Any:
    value: Any = r
    for name in path:
        value = None if value is None else value.get(name)
    return value


def counted(
    rows: Iterable[dict[str, Any]], projects: set[str] | None, first: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """The rows the documented handling counts: a project, a timestamp, inside the range."""
    return [
        r
        for r in rows
        if r["project"] is not None
        and r["timestamp"] is not None
        and first <= utc_day(r["timestamp"]) <= last
        and (projects is None or r["project"] in projects)
    ]


def by(rows: list[dict[str, Any]], key: Any) -> dict[Any, int]:
    return dict(Counter(key(r) for r in rows))


def python_minor(r: dict[str, Any]) -> str | None:
    full = field(r, "details", "python")
    found = re.match(r"^([0-9]+\.[0-9]+)", full) if full is not None else None
    return found.group(1) if found else None


def chart_downloads(chart: Any) -> int:
    """The downloads inside a chart's data (every dataset that has a downloads column)."""
    datasets = spec(chart).get("datasets", {})
    return sum(
        int(r["downloads"]) for values in datasets.values() for r in values if "downloads" in r
    )


def check_exact(
    source: ParquetSource,
    rows: list[dict[str, Any]],
    cache: Cache,
    *,
    projects: list[str] | None = None,
    first: dt.date = FIRST,
    last: dt.date = LAST,
) -> data.Rollup:
    """Rollup, breakdowns and chart data equal the planted rows, exactly."""
    query = (
        RollupQuery(None, DayRange(first, last))
        if projects is None
        else RollupQuery.of(projects, first, last, today=TODAY)
    )
    rollup = data.load(source, query, cache=cache, today=TODAY)
    kept = counted(rows, None if projects is None else set(query.projects or ()), first, last)
    downloads = rollup.downloads
    assert dict(rollup.totals().iter_rows()) == by(kept, lambda r: r["project"])
    fetched = source.fetch(("downloads",), query)["downloads"]
    per_project = fetched.group_by("project").agg(pl.col("downloads").sum())
    assert dict(per_project.iter_rows()) == by(kept, lambda r: r["project"])  # uncached
    daily = b.daily(downloads, query.days)
    got_daily = {(p, d): n for p, d, n in daily.select("project", "date", "downloads").iter_rows()}
    want_daily = by(kept, lambda r: (r["project"], utc_day(r["timestamp"])))
    assert {k: v for k, v in got_daily.items() if v} == want_daily
    for dim, key in [
        ("country", lambda r: r["country_code"]),
        ("installer", lambda r: field(r, "details", "installer", "name")),
        ("version", lambda r: field(r, "file", "version")),
        ("system", lambda r: field(r, "details", "system", "name")),
        ("python", python_minor),
        ("ci", lambda r: bool(field(r, "details", "ci"))),
    ]:
        shares = b.shares(downloads, dim)
        got = {(p, v): n for p, v, n in shares.select("project", dim, "downloads").iter_rows()}
        assert got == by(kept, lambda r, key=key: (r["project"], key(r))), dim
    fingerprints = rollup.fingerprints.group_by("project", "date").agg(pl.col("downloads").sum())
    got_fp = dict(((p, d), n) for p, d, n in fingerprints.collect().iter_rows())
    assert got_fp == want_daily  # few clients: the top-100 table holds every download
    for project, total in by(kept, lambda r: r["project"]).items():
        mine = downloads.filter(pl.col("project") == project)
        country = mine.group_by("country").agg(pl.col("downloads").sum()).collect()
        assert chart_downloads(charts.country_bar(country)) == total
        assert chart_downloads(charts.volume_timeline(b.daily(mine, query.days))) == total
        per_version = b.daily(mine, query.days, by="version").drop("project")
        stacked = charts.stacked_share(per_version, "version", title="Versions")
        assert chart_downloads(stacked) == total
    return rollup


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


# --- nulls -------------------------------------------------------------------------------
NULL_ROWS: dict[str, list[dict[str, Any]]] = {
    "project": [row(None, at(2)), row(None, at(4))],
    "timestamp": [{**row("pkg-a"), "timestamp": None}],
    "project and timestamp": [{**row(None), "timestamp": None}],
    "file struct": [row("pkg-a", at(5), file=False)],
    "details struct": [row("pkg-b", at(6), details=False)],
    "installer struct": [
        {**row("pkg-a", at(7)), "details": {**row()["details"], "installer": None}}
    ],
    "country": [row("pkg-a", at(8), country=None)],
    "version": [row("pkg-a", at(8), version=None)],
    "python": [row("pkg-b", at(9), python=None), row("pkg-b", at(9), python="garbage")],
    "system": [row("pkg-a", at(1), system=None)],
    "every field but project and timestamp": [
        {k: (v if k in ("project", "timestamp") else None) for k, v in row("pkg-a", at(2)).items()}
    ],
}


@pytest.mark.parametrize("what", sorted(NULL_ROWS))
def test_nulls_are_kept_or_dropped_and_counted_never_miscounted(
    what: str, tmp_path: Path, cache: Cache
) -> None:
    tally.count("untrusted data: null values")
    rows = organic() + NULL_ROWS[what] * 3
    source = ParquetSource(write(tmp_path / "nulls.parquet", rows))
    check_exact(source, rows, cache, projects=["pkg-a", "pkg-b"])
    rollup = check_exact(source, rows, Cache(cache.root / "all"))  # every package
    dropped = sum(r["project"] is None or r["timestamp"] is None for r in rows)
    caveats = rollup.provenance.caveats
    if dropped:
        assert len(caveats) == 1 and caveats[0].startswith(f"{dropped:,} row")
        assert f"caveat: {caveats[0]}" in rollup.provenance.summary()
    else:
        assert caveats == ()
    assert None not in rollup.totals()["project"].to_list()


def test_null_rows_caveat_reaches_the_cli(tmp_path: Path) -> None:
    tally.count("untrusted data: null values")
    rows = organic() + NULL_ROWS["project"] + NULL_ROWS["timestamp"]
    path = write(tmp_path / "nulls.parquet", rows)
    result = CliRunner().invoke(
        main,
        ["fetch", "pkg-a", "--source", str(path), "--start", "2026-10-01", "--end", "2026-10-10"],
    )
    assert result.exit_code == 0, result.output
    want = len(counted(rows, {"pkg-a"}, FIRST, LAST))
    assert result.stdout.startswith(f"pkg-a\t{want:,} downloads")
    assert "caveat: 3 rows of the Parquet data have no project or no timestamp" in result.stderr


def test_all_null_typed_columns(tmp_path: Path, cache: Cache) -> None:
    """Columns written with no type at all (Arrow null), where the layout allows it."""
    tally.count("untrusted data: null values")
    rows = organic()
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    table = table.set_column(1, "country_code", pa.nulls(table.num_rows))
    source = ParquetSource(write_table(tmp_path / "nullcountry.parquet", table))
    planted = [{**r, "country_code": None} for r in rows]
    check_exact(source, planted, cache, projects=["pkg-a", "pkg-b"])


def write_table(path: Path, table: pa.Table) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


# --- wrong schemas -----------------------------------------------------------------------
def _without(path: tuple[str, ...]) -> pa.Schema:
    """The layout with one leaf column removed (nested: from its struct)."""

    def drop(fields: list[pa.Field], rest: tuple[str, ...]) -> list[pa.Field]:
        out = []
        for f in fields:
            if f.name != rest[0]:
                out.append(f)
            elif len(rest) > 1:
                out.append(pa.field(f.name, pa.struct(drop(list(f.type), rest[1:]))))
        return out

    return pa.schema(drop(list(SCHEMA), path))


def _conform_rows(rows: list[dict[str, Any]], schema: pa.Schema) -> list[dict[str, Any]]:
    def cut(value: Any, typ: pa.DataType) -> Any:
        if value is None or not pa.types.is_struct(typ):
            return value
        return {f.name: cut(value.get(f.name), f.type) for f in typ}

    return [{f.name: cut(r.get(f.name), f.type) for f in schema} for r in rows]


@pytest.mark.parametrize("path", sorted(c.path for c in COLUMNS.values() if c.required))
def test_a_missing_column_is_named(path: tuple[str, ...], tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: missing columns")
    schema = _without(path)
    target = write(tmp_path / "missing.parquet", _conform_rows(organic(), schema), schema)
    with pytest.raises(DataSchemaError, match=f"missing {re.escape('.'.join(path))}") as info:
        data.load(
            ParquetSource(target),
            RollupQuery.of("pkg-a", FIRST, LAST, today=TODAY),
            cache=cache,
            today=TODAY,
        )
    assert "\n" not in str(info.value)
    assert not cache.root.exists() or not list(cache.root.glob("*.parquet"))


WRONG_TYPES = {
    "country_code int": ("country_code", pa.int32(), "country_code is a number"),
    "project int": ("project", pa.int64(), "project is a number"),
    "timestamp int": ("timestamp", pa.int64(), "timestamp is a number"),
    "timestamp date": ("timestamp", pa.date32(), "timestamp is a date without a time"),
    "timestamp string": ("timestamp", pa.string(), "timestamp is text"),
}


@pytest.mark.parametrize("what", sorted(WRONG_TYPES))
def test_a_wrong_type_is_named(what: str, tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: wrong types")
    column, typ, message = WRONG_TYPES[what]
    table = pa.Table.from_pylist(organic(), schema=SCHEMA)
    index = table.schema.get_field_index(column)
    old = table.column(column).to_pylist()
    if column == "timestamp" and typ == pa.int64():
        values = table.column(column).cast(pa.int64())
    elif column == "timestamp":
        values = pa.array([t.date() if typ == pa.date32() else str(t) for t in old], typ)
    else:
        values = pa.array(range(len(old)), typ)
    path = write_table(tmp_path / "typed.parquet", table.set_column(index, column, values))
    with pytest.raises(DataSchemaError, match=message) as info:
        data.load(
            ParquetSource(path),
            RollupQuery.of("pkg-a", FIRST, LAST, today=TODAY),
            cache=cache,
            today=TODAY,
        )
    assert "\n" not in str(info.value)


def test_nested_ci_and_python_of_the_wrong_type(tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: wrong types")
    flat = flatten(pa.Table.from_pylist(organic(), schema=SCHEMA))
    for column, values, message in [
        ("details.ci", pa.array(["yes"] * flat.num_rows), "details.ci is text"),
        ("details.python", pa.array([3.12] * flat.num_rows), "details.python is a number"),
    ]:
        index = flat.schema.get_field_index(column)
        path = write_table(tmp_path / f"{column}.parquet", flat.set_column(index, column, values))
        with pytest.raises(DataSchemaError, match=message):
            data.load(
                ParquetSource(path),
                RollupQuery.of("pkg-a", FIRST, LAST, today=TODAY),
                cache=cache,
                today=TODAY,
            )


# --- empty and truncated files -----------------------------------------------------------
def test_zero_rows_is_an_explicit_no_downloads(tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: empty and truncated files")
    path = write(tmp_path / "empty.parquet", [])
    rollup = data.load(
        ParquetSource(path),
        RollupQuery.of("pkg-a", FIRST, LAST, today=TODAY),
        cache=cache,
        today=TODAY,
    )
    assert rollup.missing == ("pkg-a",) and rollup.totals().height == 0
    result = CliRunner().invoke(
        main,
        ["fetch", "pkg-a", "--source", str(path), "--start", "2026-10-01", "--end", "2026-10-10"],
    )
    assert result.exit_code == 2 and "error: no downloads found for 'pkg-a'" in result.stderr


@pytest.mark.parametrize("cut", [0, 4, 8, 0.5, -1, -8, -12])
def test_truncated_files_are_refused_up_front(cut: float, tmp_path: Path) -> None:
    tally.count("untrusted data: empty and truncated files")
    whole = write(tmp_path / "whole.parquet", organic()).read_bytes()
    size = int(len(whole) * cut) if isinstance(cut, float) else cut % len(whole) if cut else 0
    part = tmp_path / "cut.parquet"
    part.write_bytes(whole[:size])
    with pytest.raises(DataSchemaError, match=r"cut\.parquet is not a readable Parquet file"):
        ParquetSource(part)
    result = CliRunner().invoke(main, ["fetch", "x", "--source", str(part)])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == 3 and len(errors) == 1 and "cut.parquet" in errors[0]


def test_a_file_without_columns(tmp_path: Path) -> None:
    tally.count("untrusted data: empty and truncated files")
    path = write_table(tmp_path / "nothing.parquet", pa.table({}))
    with pytest.raises(DataSchemaError, match="missing timestamp, project"):
        ParquetSource(path).fetch(("downloads",), RollupQuery.of("x", FIRST, LAST, today=TODAY))


# --- a directory of mixed files ----------------------------------------------------------
def test_a_mixed_directory_reads_every_valid_layout_and_ignores_other_files(
    tmp_path: Path, cache: Cache
) -> None:
    tally.count("untrusted data: mixed directory")
    root = tmp_path / "export"
    a, bee, c, d = organic(30), organic(20, "pkg-c"), organic(12, "pkg-a"), organic(9, "pkg-d")
    write(root / "part-0.parquet", a)
    write_table(root / "part-1.parquet", flatten(pa.Table.from_pylist(bee, schema=SCHEMA)))
    underscored = flatten(pa.Table.from_pylist(c, schema=SCHEMA), "_")
    new_york = underscored.column(0).cast(pa.timestamp("ms", tz="America/New_York"))
    write_table(root / "sub" / "part-2.parquet", underscored.set_column(0, "timestamp", new_york))
    naive = pa.schema([SCHEMA.field(0).with_type(pa.timestamp("us")), *list(SCHEMA)[1:]])
    write(
        root / "sub" / "deeper" / "part-3.parquet",
        [{**r, "timestamp": r["timestamp"].replace(tzinfo=None)} for r in d],
        naive,
    )
    write(root / "part-4.parquet", [])  # zero rows
    (root / "rows.csv").write_text("timestamp,project\n2026-10-03T00:00:00Z,pkg-a\n" * 50)
    (root / "junk.bin").write_bytes(b"\x00\xffPAR1" * 100)
    (root / "README").write_text("exported by hand")
    (root / "_SUCCESS").write_text("")
    planted = a + bee + c + d
    check_exact(ParquetSource(root), planted, cache)
    check_exact(ParquetSource(root), planted, Cache(cache.root / "some"), projects=["pkg-a"])

    pl.DataFrame({"a": [1], "b": ["x"]}).write_parquet(root / "sub" / "other.parquet")
    with pytest.raises(DataSchemaError, match=r"other\.parquet \(in .*\) is not in the download"):
        data.load(
            ParquetSource(root),
            RollupQuery.of("pkg-a", FIRST, LAST, today=TODAY),
            cache=Cache(cache.root / "x"),
            today=TODAY,
        )
    (root / "sub" / "other.parquet").write_bytes(b"PAR1 not really PAR1")
    with pytest.raises(DataSchemaError, match=r"other\.parquet is not a readable Parquet file"):
        ParquetSource(root)


def test_a_dataset_with_foreign_release_metadata(tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: mixed directory")
    root = tmp_path / "dataset"
    write(root / "file_downloads" / "part-0.parquet", organic())
    pl.DataFrame({"name": ["pkg-a"]}).write_parquet(root / "distribution_metadata.parquet")
    source = ParquetSource(root)
    check_exact(source, organic(), cache, projects=["pkg-a"])
    with pytest.raises(DataSchemaError, match=r"release metadata lacks .*requires_dist"):
        data.releases(source, ("pkg-a",), cache=cache)


# --- timestamps out of range ---------------------------------------------------------------
def test_timestamps_far_out_of_range_and_in_any_zone(tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: timestamps out of range")
    odd = [
        dt.datetime(1970, 1, 1, tzinfo=UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),  # before the epoch
        dt.datetime(1900, 1, 1, tzinfo=UTC),
        dt.datetime(2016, 1, 25, tzinfo=UTC),  # inside the logs, outside the window
        dt.datetime(2100, 1, 1, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=UTC),  # the edges of the window
        dt.datetime(2026, 10, 11, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 1, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 10, 23, 59, 59, 999999, tzinfo=UTC),
        at(1, 2, ZoneInfo("Pacific/Kiritimati")),  # UTC+14: still 30 Sep in UTC
        at(10, 20, dt.timezone(dt.timedelta(hours=-11))),  # 11 Oct in UTC
        at(5, 23, dt.timezone(dt.timedelta(hours=-5))),
    ]
    rows = organic() + [row("pkg-a", ts, version="odd") for ts in odd]
    check_exact(ParquetSource(write(tmp_path / "aware.parquet", rows)), rows, cache)
    kept_old = check_exact(
        ParquetSource(tmp_path / "aware.parquet"),
        rows,
        Cache(cache.root / "2016"),
        projects=["pkg-a"],
        first=dt.date(2016, 1, 22),
        last=dt.date(2016, 2, 1),
    )
    assert kept_old.totals()["downloads"].to_list() == [1]
    for unit in ("ms", "ns"):
        fits = [r for r in rows if r["timestamp"].year < 2200] if unit == "ns" else rows
        first_field = SCHEMA.field(0).with_type(pa.timestamp(unit, tz="UTC"))
        typed = pa.schema([first_field, *list(SCHEMA)[1:]])
        path = write(tmp_path / f"{unit}.parquet", fits, typed)
        check_exact(ParquetSource(path), fits, Cache(cache.root / unit))


def test_naive_and_legacy_int96_timestamps_are_utc(tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: timestamps out of range")
    rows = [*organic(), row("pkg-a", dt.datetime(2026, 10, 1, 0, 0, 1, tzinfo=UTC))]
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    naive = table.cast(table.schema.set(0, pa.field("timestamp", pa.timestamp("us"))))
    path = tmp_path / "int96.parquet"
    pq.write_table(naive, path, use_deprecated_int96_timestamps=True)
    assert pq.read_schema(path).field("timestamp").type == pa.timestamp("ns")
    check_exact(ParquetSource(path), rows, cache)


# --- absurd counts -------------------------------------------------------------------------
def test_one_client_with_two_million_identical_rows(tmp_path: Path, cache: Cache) -> None:
    tally.count("untrusted data: absurd counts")
    n = 2_000_000
    rows = organic()
    burst = row("pkg-a", at(4, 9), installer="uv", country="CN")
    base = pa.Table.from_pylist([burst, *rows], schema=SCHEMA)
    repeat = np.concatenate([np.zeros(n, np.int64), np.arange(1, base.num_rows)])  # row 0 n×
    path = write_table(tmp_path / "burst.parquet", base.take(repeat))
    source = ParquetSource(path)
    query = RollupQuery.of(["pkg-a", "pkg-b"], FIRST, LAST, today=TODAY)
    rollup = data.load(source, query, cache=cache, today=TODAY)
    want = by(counted(rows, {"pkg-a", "pkg-b"}, FIRST, LAST), lambda r: r["project"])
    want["pkg-a"] += n
    assert dict(rollup.totals().iter_rows()) == want
    day = b.daily(rollup.downloads, query.days).filter(pl.col("date") == dt.date(2026, 10, 4))
    organic_day = sum(
        1 for r in rows if r["project"] == "pkg-a" and utc_day(r["timestamp"]) == at(4).date()
    )
    assert day.filter(pl.col("project") == "pkg-a")["downloads"].item() == n + organic_day
    top = (
        rollup.fingerprints.filter(
            (pl.col("project") == "pkg-a") & (pl.col("date") == dt.date(2026, 10, 4))
        )
        .sort("downloads", descending=True)
        .collect()
    )
    assert top["downloads"][0] == n and top["fingerprints"][0] == top.height
    country = (
        rollup.downloads.filter(pl.col("project") == "pkg-a")
        .group_by("country")
        .agg(pl.col("downloads").sum())
    )
    assert chart_downloads(charts.country_bar(country.collect())) == want["pkg-a"]


def test_rollup_shaped_files_cannot_be_fed_as_download_rows(tmp_path: Path) -> None:
    for downloads in ([-5], [2**53 + 1], [0], [7]):
        tally.count("untrusted data: rollup-shaped files")
        path = tmp_path / "rollup.parquet"
        frame = pl.DataFrame(
            {"project": ["pkg-a"], "date": [FIRST], "installer": ["pip"], "downloads": downloads}
        )
        frame.write_parquet(path)
        with pytest.raises(DataSchemaError, match="looks like a rollup"):
            ParquetSource(path).fetch(
                ("downloads",), RollupQuery.of("pkg-a", FIRST, LAST, today=TODAY)
            )
        result = CliRunner().invoke(main, ["fetch", "pkg-a", "--source", str(path)])
        assert result.exit_code == 3 and "looks like a rollup" in result.stderr


def _tamper(cache: Cache, kind: str, values: list[Any]) -> int:
    """Rewrite every ``kind`` entry's counts in place, footer (key, kind, …) intact."""
    changed = 0
    for path in cache.root.glob("*.parquet"):
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[b"workbench"])
        if meta["kind"] != kind or table.num_rows == 0:
            continue
        bad = pa.array((values * table.num_rows)[: table.num_rows], pa.int64())
        index = table.schema.get_field_index("downloads")
        table = table.set_column(index, "downloads", bad).replace_schema_metadata(
            table.schema.metadata
        )
        pq.write_table(table, path)
        changed += 1
    return changed


@pytest.mark.parametrize("values", [[-5], [0], [2**53 + 1], [2**62], [None], [3, -1]], ids=str)
@pytest.mark.parametrize("kind", ["downloads", "fingerprints"])
def test_a_tampered_cache_entry_is_refetched_never_shown(
    kind: str, values: list[Any], tmp_path: Path, cache: Cache
) -> None:
    tally.count("untrusted data: tampered cache entries")
    rows = organic()
    source = ParquetSource(write(tmp_path / "rows.parquet", rows))
    truth = check_exact(source, rows, cache, projects=["pkg-a", "pkg-b"])
    assert _tamper(cache, kind, values) == 2  # one entry per package
    again = check_exact(source, rows, cache, projects=["pkg-a", "pkg-b"])
    wrong = again.totals().equals(truth.totals()) is False
    tally.lost("untrusted data: wrong totals after a tampered cache entry", int(wrong))
    assert not wrong
    refetched = [p for p in again.provenance.parts if p.kind == kind]
    assert refetched and not any(p.from_cache for p in refetched)
    third = data.load(source, again.query, cache=cache, today=TODAY)  # rewritten, good again
    assert third.provenance.from_cache and third.totals().equals(truth.totals())


class _LyingBigQuery:
    """A BigQuery that answers the right shape with impossible counts."""

    def __init__(self, downloads: int) -> None:
        self.downloads = downloads

    def query(self, sql: str, job_config: Any = None, **_: Any) -> Any:
        frame = pl.DataFrame(
            {
                "project": ["requests"],
                "date": [FIRST],
                "version": ["1.0"],
                "file_type": ["bdist_wheel"],
                "installer": ["pip"],
                "python": ["3.12"],
                "system": ["Linux"],
                "country": ["US"],
                "ci": [False],
                "fingerprint": ["x"],
                "downloads": [self.downloads],
                "fingerprints": [1],
            }
        )
        table = frame.to_arrow()
        rows = type("Rows", (), {"to_arrow": lambda self, *a, **k: table})()
        return type("Job", (), {"total_bytes_processed": 1, "result": lambda s, *a, **k: rows})()


@pytest.mark.parametrize("downloads", [-1, 0, 2**53 + 1])
def test_impossible_counts_from_a_source_are_refused_and_not_cached(
    downloads: int, tmp_path: Path
) -> None:
    tally.count("untrusted data: BigQuery answers with impossible counts")
    source = BigQuerySource(client=_LyingBigQuery(downloads), confirm=lambda _e: True)  # type: ignore[arg-type]
    cache = Cache(tmp_path / "cache")
    with pytest.raises(DataSchemaError, match="impossible counts") as info:
        data.load(
            source, RollupQuery.of("requests", FIRST, LAST, today=TODAY), cache=cache, today=TODAY
        )
    assert "\n" not in str(info.value)
    assert not cache.root.exists() or not list(cache.root.glob("*.parquet"))


# --- hostile values inside the data --------------------------------------------------------
HOSTILE_VALUES = [
    "1.0'; DROP TABLE t; --",
    "a\"b'c\\",
    "x\ny",
    "\x1b[2J\x1b[31mred",
    "\u202eevil",
    "\U000e0001tag",
    "\x00nul",
    "ｆｕｌｌ",
    "x" * 10_000,
]


def test_hostile_values_in_the_data_are_counted_exactly(tmp_path: Path, cache: Cache) -> None:
    rows = organic()
    for i, value in enumerate(HOSTILE_VALUES):
        tally.count("untrusted data: hostile values inside the data")
        rows += [
            row("pkg-a", at(1 + i), version=value, installer=value, country=value[:20]),
            row("pkg-b", at(2 + i), python=value, system=value),
        ]
    check_exact(ParquetSource(write(tmp_path / "hostile.parquet", rows)), rows, cache)


def test_hostile_versions_keep_their_place_in_stacked_charts() -> None:
    """Values from the data are JSON literals in the chart's expressions (exact in Vega)."""
    values = [*HOSTILE_VALUES[:7], "1.0"]
    frame = pl.DataFrame(
        {
            "date": [FIRST] * len(values),
            "version": values,
            "downloads": list(range(len(values), 0, -1)),
        }
    )
    for value in values:
        tally.count("untrusted data: hostile values inside the data")
        chart = spec(charts.stacked_share(frame, "version", title="v", top=10, highlight=value))
        rank = chart["transform"][0]["calculate"]
        assert rank.startswith("indexof(") and rank.endswith(', datum["version"])')
        order = json.loads(rank[len("indexof(") : -len(', datum["version"])')])
        assert order == chart["encoding"]["color"]["scale"]["domain"]
        assert set(order) == set(values)
        test = chart["encoding"]["opacity"]["condition"]["test"]
        prefix = 'datum["version"] == '
        assert test.startswith(prefix) and json.loads(test[len(prefix) :]) == value


def test_hostile_project_names_in_the_data_print_as_one_line_each(tmp_path: Path) -> None:
    rows = organic()
    names = ["evil\nname", "\x1b[2Jclear", "a'; DROP TABLE t", "\u202eevil", "ok-name"]
    for i, name in enumerate(names):
        tally.count("untrusted data: hostile values inside the data")
        rows += [row(name, at(1 + i))] * (i + 1)
    path = write(tmp_path / "names.parquet", rows)
    span = ["--start", "2026-10-01", "--end", "2026-10-30"]
    result = CliRunner().invoke(
        main, ["scan", "--source", str(path), *span, "--quiet", "--top", "50"]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    lines = result.stdout.splitlines()
    assert len(lines) == len({"pkg-a", "pkg-b", *names})
    assert all(line.isprintable() for line in lines)
    assert any("evil\\nname" in line for line in lines)
