"""Segments → download rows in the exact ``file_downloads`` layout (Arrow).

Attributes are drawn as integer codes into small vocabulary tables (clients,
operating systems, pythons, countries), then materialised with ``take``: fast
enough for millions of rows a second, with realistic correlations (OS with
distro, CPU and OpenSSL; installer with its version; python with its
implementation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.demo import calibration as cal
from workbench.demo import files
from workbench.demo.catalog import Catalog, Package
from workbench.demo.mixes import PYTHON_MINORS
from workbench.demo.traffic import Segment
from workbench.schema import FILE_DOWNLOADS, arrow_schema

SCHEMA = arrow_schema(FILE_DOWNLOADS)


#: Installer codes of clients linehaul does not recognise: a bare "Python-urllib/3.x"
#: (python only) and "(null)" (no ``details`` at all).
URLLIB, NULL_DETAILS = 0, 1


def _installers() -> list[tuple[str | None, str | None]]:
    rows: list[tuple[str | None, str | None]] = [(None, None), (None, None)]
    for name, versions in cal.INSTALLER_VERSIONS.items():
        rows += [(name, v or None) for v in versions]
    return rows


def _pythons() -> list[tuple[str | None, str | None, str | None]]:
    rows: list[tuple[str | None, str | None, str | None]] = [(None, None, None)]
    for patches in cal.PYTHON_PATCHES.values():
        rows += [(p, "CPython", p) for p in patches]
    rows += [("3.10.14", "PyPy", "7.3.17"), ("3.11.13", "PyPy", "7.3.20")]
    return rows


INSTALLERS = _installers()
PYTHONS = _pythons()
OS_ROWS = cal.OS_ROWS
COUNTRIES = tuple(cal.COUNTRY_SHARES)
NO_COUNTRY = len(COUNTRIES)
#: Bare minor versions ("3.11") for clients that send only those; one per PYTHONS row.
MINORS = tuple(sorted({".".join(p.split(".")[:2]) for p, _, _ in PYTHONS if p}))
_MINOR_OF = np.array([MINORS.index(".".join(p.split(".")[:2])) if p else -1 for p, _, _ in PYTHONS])


def _fields(field: str) -> np.ndarray:
    """Per installer code: does its user agent carry this ``details`` field?"""
    out = [
        name is not None and field in cal.UA_FIELDS.get(name, frozenset()) for name, _ in INSTALLERS
    ]
    if field == "python_minor":
        out[URLLIB] = True
    return np.array(out)


UA_HAS = {f: _fields(f) for f in ("python_minor", *cal.UA_DETAIL_FIELDS)}
SETUPTOOLS = ("80.9.0", "75.8.0", "70.0.0", "65.5.0", "59.6.0")
TLS = (("TLSv1.3", "TLS_AES_128_GCM_SHA256"), ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"))


def _norm(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return np.asarray(w / w.sum())


def _installer_weights(names: dict[str, float]) -> np.ndarray:
    w = np.zeros(len(INSTALLERS))
    for i, (name, _) in enumerate(INSTALLERS):
        if name in names:
            rank = cal.INSTALLER_VERSIONS[name].index(INSTALLERS[i][1] or "")
            w[i] = names[name] * 0.62**rank
    return _norm(w)


def _python_weights(kind: str, tilt: np.ndarray | None = None) -> np.ndarray:
    w = np.zeros(len(PYTHONS))
    for i, (full, impl, _) in enumerate(PYTHONS):
        if full is None:
            w[i] = 1.0 if kind == "unknown" else cal.PYTHON_MINOR_SHARES[None]
            continue
        if kind == "unknown":
            continue
        minor = ".".join(full.split(".")[:2])
        patches = cal.PYTHON_PATCHES[minor]
        share = cal.PYTHON_MINOR_SHARES.get(minor, 0.0)
        if tilt is not None:
            share *= tilt[PYTHON_MINORS.index(minor)]
        if kind in ("ci", "ci_uv") and minor in ("3.12", "3.13", "3.11"):
            share *= 1.6  # CI matrices lean to current versions
        rank = len(patches) - 1 - patches.index(full) if full in patches else 0
        w[i] = share * 0.7**rank * (0.01 if impl == "PyPy" else 1.0)
    return _norm(w)


@dataclass(frozen=True)
class Profile:
    """How one segment's rows are drawn."""

    installers: np.ndarray
    os: np.ndarray
    pythons: np.ndarray
    countries: np.ndarray
    ci_true: float
    hours: np.ndarray
    combos: np.ndarray | None = None  # (k, 4) installer, os, python, country: a narrow client set


_HUMAN = {
    "pip": 0.86,
    "poetry": 0.09,
    "pdm": 0.02,
    "requests": 0.01,
    "Browser": 0.02,
    **cal.RARE_INSTALLERS,
}
_CI = {"pip": 0.86, "poetry": 0.11, "pdm": 0.03, "twine": 0.004, "maturin": 0.002, "pex": 0.002}
_UNKNOWN = {"Browser": 0.3, "requests": 0.4, "OS": 0.05}


def _country_index(code: str) -> int:
    return COUNTRIES.index(code)


def _shares(table: dict[str, float]) -> np.ndarray:
    w = np.zeros(len(COUNTRIES))
    for code, share in table.items():
        w[_country_index(code)] = share
    return _norm(w)


def _os(kind: str, pkg: Package) -> np.ndarray:
    return _norm(np.array(cal.OS_WEIGHTS[kind]) * pkg.tilt.os + 1e-9)


def profile(rng: np.random.Generator, seg: Segment, catalog: Catalog) -> Profile:
    pkg = catalog.packages[seg.package]
    kind = seg.kind
    hours = _norm(np.array(cal.HUMAN_HOURS))
    if kind in ("human", "human_uv"):
        inst = _installer_weights({"uv": 1.0} if kind == "human_uv" else _HUMAN)
        return Profile(
            inst,
            _os("human", pkg),
            _python_weights(kind, pkg.tilt.python),
            pkg.countries,
            0.0,
            hours,
        )
    if kind in ("ci", "ci_uv"):
        inst = _installer_weights({"uv": 1.0} if kind == "ci_uv" else _CI)
        return Profile(
            inst,
            _os("ci", pkg),
            _python_weights(kind, pkg.tilt.python),
            _shares(cal.CI_COUNTRY_SHARES),
            0.75,
            _norm(np.array(cal.CI_HOURS)),
        )
    if kind == "mirror":
        return Profile(
            _installer_weights(cal.MIRROR_INSTALLERS),
            _norm(np.array(cal.OS_WEIGHTS["mirror"])),
            _python_weights("mirror"),
            _shares(cal.MIRROR_COUNTRY_SHARES),
            0.0,
            np.full(24, 1 / 24),
        )
    if kind == "unknown":
        inst = _installer_weights(_UNKNOWN)
        named = 1.0 - cal.UNKNOWN_URLLIB_SHARE - cal.UNKNOWN_NULL_DETAILS_SHARE
        inst = inst * named
        inst[URLLIB] = cal.UNKNOWN_URLLIB_SHARE
        inst[NULL_DETAILS] = cal.UNKNOWN_NULL_DETAILS_SHARE
        return Profile(
            _norm(inst),
            _norm(np.array(cal.OS_WEIGHTS["unknown"])),
            _python_weights("human"),
            pkg.countries,
            0.0,
            hours,
        )
    assert seg.scenario is not None
    sc = seg.scenario
    if kind == "geo":
        country = np.zeros(len(COUNTRIES))
        country[_country_index(sc.country or "US")] = 1.0
        return Profile(
            _installer_weights(_HUMAN),
            _norm(np.array(cal.OS_WEIGHTS["human"])),
            _python_weights("human"),
            country,
            0.0,
            np.full(24, 1 / 24),
        )
    # campaign: a handful of identical scripted clients
    pip = [
        i for i, (n, v) in enumerate(INSTALLERS) if n == "pip" and v in ("23.0.1", "22.0.2", "24.0")
    ]
    linux = [i for i, row in enumerate(OS_ROWS) if row[2] in ("Ubuntu", "Debian GNU/Linux")]
    py = [
        i
        for i, (full, impl, _) in enumerate(PYTHONS)
        if impl == "CPython" and full and full.startswith(("3.10", "3.11"))
    ]
    k = sc.fingerprints
    combos = np.stack(
        [
            rng.choice(pip, size=k),
            rng.choice(linux, size=k),
            rng.choice(py, size=k),
            np.full(k, _country_index(sc.country or "US")),
        ],
        axis=1,
    )
    zero = np.zeros(1)
    return Profile(zero, zero, zero, zero, 0.0, np.full(24, 1 / 24), combos)


@dataclass
class Columns:
    """Integer-coded rows, concatenated over all segments."""

    package: np.ndarray
    day: np.ndarray
    version: np.ndarray  # index into the package's versions
    file_type: np.ndarray  # index into files.FILE_TYPES
    installer: np.ndarray
    os: np.ndarray
    python: np.ndarray
    country: np.ndarray
    ci: np.ndarray
    second: np.ndarray


def _versions(
    rng: np.random.Generator,
    seg: Segment,
    day: np.ndarray,
    weights: np.ndarray,
    release_days: np.ndarray,
) -> np.ndarray:
    if seg.versions == "latest":
        return np.asarray(np.searchsorted(release_days, day, side="right") - 1)
    if seg.versions == "all":
        available = np.searchsorted(release_days, day, side="right")
        return np.asarray(np.floor(rng.random(day.size) * available).astype(np.int64))
    # Inverse-CDF per day in one search: offset each day's CDF by its day number so
    # the flattened table is monotone, then search u + day in it.
    n_versions = weights.shape[1]
    cum = np.cumsum(weights, axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(cum.shape[0])[:, None]).ravel()
    picked = np.searchsorted(flat, rng.random(day.size) + day, side="right") - day * n_versions
    return np.asarray(np.clip(picked, 0, n_versions - 1))


def expand(
    rng: np.random.Generator, catalog: Catalog, segs: list[Segment], weights: list[np.ndarray]
) -> Columns:
    parts: dict[str, list[np.ndarray]] = {f: [] for f in Columns.__dataclass_fields__}
    for seg in segs:
        n = int(seg.counts.sum())
        if n == 0:
            continue
        pkg = catalog.packages[seg.package]
        prof = seg.profile if seg.profile is not None else profile(rng, seg, catalog)
        day = np.repeat(np.arange(catalog.days, dtype=np.int64), seg.counts)
        version = _versions(rng, seg, day, weights[seg.package], pkg.release_days)
        if prof.combos is not None:
            combo = prof.combos[rng.integers(0, len(prof.combos), size=n)]
            inst, os_, py, ctry = combo.T
        else:
            inst = rng.choice(len(INSTALLERS), size=n, p=prof.installers)
            os_ = rng.choice(len(OS_ROWS), size=n, p=prof.os)
            py = rng.choice(len(PYTHONS), size=n, p=prof.pythons)
            ctry = rng.choice(len(COUNTRIES), size=n, p=prof.countries)
        wheel_p = 0.0 if not pkg.has_wheel else (0.5 if seg.kind == "mirror" else 0.9)
        if seg.kind == "campaign":
            wheel_p = 1.0 if pkg.has_wheel else 0.0
        file_type = (rng.random(n) >= wheel_p).astype(np.int8)
        if seg.kind == "mirror" and files.is_legacy(pkg.name):
            # mirrors fetch every file of a release, the legacy formats of the oldest too
            rare = (version == 0) & (rng.random(n) < 0.75)
            file_type[rare] = rng.choice(files.RARE, size=int(rare.sum()))
        if seg.kind not in ("campaign", "geo"):
            ctry = np.where(rng.random(n) < cal.NULL_COUNTRY_SHARE, NO_COUNTRY, ctry)
        hour = rng.choice(24, size=n, p=prof.hours)
        parts["package"].append(np.full(n, seg.package, dtype=np.int32))
        parts["day"].append(day.astype(np.int32))
        parts["version"].append(version.astype(np.int32))
        parts["file_type"].append(file_type)
        parts["installer"].append(inst.astype(np.int32))
        parts["os"].append(os_.astype(np.int32))
        parts["python"].append(py.astype(np.int32))
        parts["country"].append(ctry.astype(np.int32))
        parts["ci"].append(rng.random(n) < prof.ci_true)
        parts["second"].append((hour * 3600 + rng.integers(0, 3600, size=n)).astype(np.int32))
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    # Sorted by (project, time) like BigQuery's clustering: row-group statistics on
    # ``project`` then let a one-package scan skip most of the file.
    by_name = np.argsort(np.argsort([p.name for p in catalog.packages])).astype(np.int64)
    key = (by_name[cols["package"]] << 33) | (cols["day"].astype(np.int64) << 17)
    order = np.argsort(key | cols["second"].astype(np.int64), kind="stable")
    return Columns(**{k: v[order] for k, v in cols.items()})


def _files(catalog: Catalog) -> tuple[list[str], list[str], list[str], list[str], np.ndarray]:
    """Per (package, version, file type) filename and URL tables; offsets per package."""
    filenames: list[str] = []
    urls: list[str] = []
    versions: list[str] = []
    projects: list[str] = []
    offsets = np.zeros(len(catalog.packages), dtype=np.int64)
    for i, pkg in enumerate(catalog.packages):
        offsets[i] = len(filenames)
        for v in pkg.versions:
            for t in range(len(files.FILE_TYPES)):
                name = files.filename(pkg.name, v, t)
                digest = hashlib.sha256(name.encode()).hexdigest()
                filenames.append(name)
                urls.append(f"/packages/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{name}")
                versions.append(v)
                projects.append(pkg.name)
    return filenames, urls, versions, projects, offsets


def _take(
    values: Sequence[str | None], codes: np.ndarray, valid: np.ndarray | None = None
) -> pa.Array:
    """``values[codes]`` as a dictionary array of the distinct values the rows use, as a
    writer of real exports holds them: no string copies, and Parquet writes the dictionary
    as is. (Given one with repeated entries, such as every file's project, the writer fell
    back to plain strings in 15 columns: 15 bytes a row for ``project`` instead of a few
    bits, and DuckDB took 2.4 times as long to scan them; unused entries would be written
    too.) Files are written without the Arrow schema, so readers see strings. Rows where
    ``valid`` is False are NULL (the client did not send the field)."""
    codes = np.asarray(codes, dtype=np.int64)
    missing = np.array([v is None for v in values], dtype=bool)[codes]
    if valid is not None:
        missing |= ~valid
    every = pa.array([v if v is not None else "" for v in values], pa.string())
    distinct = pc.unique(every)
    mapped = pc.index_in(every, value_set=distinct).to_numpy()[codes]
    used = np.bincount(mapped[~missing], minlength=len(distinct)) > 0
    position = np.where(missing, 0, (np.cumsum(used) - 1)[mapped]).astype(np.int32)
    indices = pa.array(position, mask=missing)
    return pa.DictionaryArray.from_arrays(indices, distinct.filter(pa.array(used)))


def to_arrow(catalog: Catalog, cols: Columns, start: dt.date) -> pa.Table:
    """Materialise coded rows in the :data:`SCHEMA` layout (string leaves dictionary-encoded).

    Write it with ``store_schema=False``: readers then see exactly :data:`SCHEMA`.
    """
    filenames, urls, versions, projects, offsets = _files(catalog)
    n_types = len(files.FILE_TYPES)
    file_idx = offsets[cols.package] + cols.version.astype(np.int64) * n_types + cols.file_type
    epoch = int(dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC).timestamp()) * 1_000_000
    micros = (
        epoch
        + cols.day.astype(np.int64) * 86_400_000_000
        + cols.second.astype(np.int64) * 1_000_000
        + (cols.package.astype(np.int64) * 7919 + np.arange(cols.day.size)) % 1_000_000
    )
    installer = list(zip(*INSTALLERS, strict=True))
    python = list(zip(*PYTHONS, strict=True))
    os_ = list(zip(*OS_ROWS, strict=True))
    # which fields each row's client sends (linehaul's parsed user agents)
    has = {f: table[cols.installer] for f, table in UA_HAS.items()}
    setuptools = np.where(
        cols.python == 0, len(SETUPTOOLS), (cols.python * 31 + cols.os) % len(SETUPTOOLS)
    )
    minor = _MINOR_OF[cols.python]
    bare = ~has["python"] & has["python_minor"] & (minor >= 0)
    python_code = np.where(bare, len(PYTHONS) + minor, cols.python)
    python_values = [*python[0], *MINORS]
    distro = has["distro"]
    system = has["system"]
    nothing = np.zeros(cols.installer.size, dtype=bool)
    tls = (cols.second % 10 == 0).astype(np.int64)
    leaves: dict[tuple[str, ...], pa.Array] = {
        ("timestamp",): pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        ("country_code",): _take((*COUNTRIES, None), cols.country),
        ("url",): _take(urls, file_idx),
        ("project",): _take(projects, file_idx),
        ("file", "filename"): _take(filenames, file_idx),
        ("file", "project"): _take(projects, file_idx),
        ("file", "version"): _take(versions, file_idx),
        ("file", "type"): _take(files.FILE_TYPES, cols.file_type.astype(np.int64)),
        ("details", "installer", "name"): _take(installer[0], cols.installer),
        ("details", "installer", "version"): _take(installer[1], cols.installer),
        ("details", "python"): _take(python_values, python_code, has["python"] | bare),
        ("details", "implementation", "name"): _take(python[1], cols.python, has["implementation"]),
        ("details", "implementation", "version"): _take(
            python[2], cols.python, has["implementation"]
        ),
        ("details", "distro", "name"): _take(os_[2], cols.os, distro),
        ("details", "distro", "version"): _take(os_[3], cols.os, distro),
        ("details", "distro", "id"): _take(os_[4], cols.os, distro),
        ("details", "distro", "libc", "lib"): _take(os_[5], cols.os, distro),
        ("details", "distro", "libc", "version"): _take(os_[6], cols.os, distro),
        ("details", "system", "name"): _take(os_[0], cols.os, system),
        ("details", "system", "release"): _take(os_[1], cols.os, system),
        ("details", "cpu"): _take(os_[7], cols.os, has["cpu"]),
        ("details", "openssl_version"): _take(os_[8], cols.os, has["openssl_version"]),
        ("details", "setuptools_version"): _take(
            (*SETUPTOOLS, None), setuptools, has["setuptools_version"]
        ),
        # uv sends rustc_version null (linehaul's uv fixtures); no demo client sends it
        ("details", "rustc_version"): _take(("",), np.zeros(nothing.size, np.int64), nothing),
        ("details", "ci"): pa.array(
            np.ones(cols.ci.size, dtype=bool), pa.bool_(), mask=~(cols.ci & has["ci"])
        ),
        ("tls_protocol",): _take([p for p, _ in TLS], tls),
        ("tls_cipher",): _take([c for _, c in TLS], tls),
    }

    # A record the client did not send is NULL, not a record of NULLs; "(null)" user
    # agents get no details at all.
    unnamed = np.isin(cols.installer, (URLLIB, NULL_DETAILS))

    def os_lacks(column: int) -> np.ndarray:
        return np.asarray(np.array([row[column] is None for row in OS_ROWS])[cols.os])

    struct_nulls = {
        ("details",): cols.installer == NULL_DETAILS,
        ("details", "installer"): unnamed,
        ("details", "implementation"): ~has["implementation"] | (cols.python == 0),
        ("details", "distro"): ~distro | os_lacks(2),
        ("details", "distro", "libc"): ~distro | os_lacks(5),
        ("details", "system"): ~system | os_lacks(0),
    }

    def build(fields: Sequence[pa.Field], prefix: tuple[str, ...]) -> list[pa.Array]:
        arrays = []
        for field in fields:
            path = (*prefix, field.name)
            if isinstance(field.type, pa.StructType):
                children = build(list(field.type), path)
                names = [child.name for child in field.type]
                null = struct_nulls.get(path)
                mask = pa.array(null) if null is not None and null.any() else None
                arrays.append(pa.StructArray.from_arrays(children, names=names, mask=mask))
            else:
                arrays.append(leaves[path])
        return arrays

    return pa.Table.from_arrays(build(list(SCHEMA), ()), names=SCHEMA.names)
