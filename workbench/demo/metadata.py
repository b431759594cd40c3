"""The demo's ``distribution_metadata`` rows (one per uploaded file)."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pyarrow as pa

from workbench.demo import files
from workbench.demo.catalog import Catalog
from workbench.schema import DISTRIBUTION_METADATA, arrow_schema

SCHEMA = arrow_schema(DISTRIBUTION_METADATA)
_CLASSIFIERS = (
    "Programming Language :: Python :: 3",
    "Operating System :: OS Independent",
    "Intended Audience :: Developers",
)


def metadata_table(rng: np.random.Generator, catalog: Catalog, start: dt.date) -> pa.Table:
    rows: dict[str, list[object]] = {f.name: [] for f in SCHEMA}
    origin = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    for pkg in catalog.packages:
        for v, (version, day) in enumerate(zip(pkg.versions, pkg.release_days, strict=True)):
            uploaded = origin + dt.timedelta(days=int(day), seconds=int(rng.integers(0, 86_400)))
            kinds = [
                (files.FILE_TYPES[t], files.filename(pkg.name, version, t), files.python_version(t))
                for t in files.release_files(pkg.name, v, pkg.has_wheel)
            ]
            for offset, (ptype, filename, pyver) in enumerate(kinds):
                digest = hashlib.sha256(filename.encode()).hexdigest()
                values: dict[str, object] = {
                    "metadata_version": "2.4" if day > -400 else "2.1",
                    "name": pkg.display,
                    "version": version,
                    "summary": f"{pkg.display}: tools for {pkg.name.split('-')[0]} work",
                    "author": f"{pkg.name.split('-')[0].title()} maintainers",
                    "license": pkg.license,
                    "classifiers": list(_CLASSIFIERS),
                    "requires_python": ">=3.9" if day > -500 else ">=3.7",
                    "requires_dist": list(pkg.requires[v]) if v < len(pkg.requires) else [],
                    "uploaded_via": "twine/6.1.0",
                    "upload_time": uploaded + dt.timedelta(seconds=offset * 3),
                    "filename": filename,
                    "size": int(rng.integers(8_000, 2_000_000)),
                    "path": f"{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}",
                    "python_version": pyver,
                    "packagetype": ptype,
                    "has_signature": False,
                    "md5_digest": hashlib.md5(filename.encode(), usedforsecurity=False).hexdigest(),
                    "sha256_digest": digest,
                    "blake2_256_digest": hashlib.blake2b(
                        filename.encode(), digest_size=32
                    ).hexdigest(),
                }
                for field in SCHEMA:
                    default: object = [] if isinstance(field.type, pa.ListType) else None
                    rows[field.name].append(values.get(field.name, default))
    return pa.Table.from_pydict(rows, schema=SCHEMA)
