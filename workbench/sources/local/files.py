"""Local Parquet files: which files, in which layout, and what they leave out.

Untrusted files: every file must be readable Parquet in the download-log layout (an error
names the first that is not); files of different but valid layouts (nested as BigQuery
exports them, or flattened with ``a.b.c`` / ``a_b_c`` column names; any timestamp unit or
zone; dictionary-encoded text) are each mapped to the canonical columns of
:data:`workbench.dimensions.COLUMNS` and combined. Only what this module reads from a file's
schema decides the SQL the local engine runs, and only names of the registry ever reach it.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from workbench.dimensions import COLUMNS, Column
from workbench.errors import DataSchemaError, InvalidInputError, WorkbenchError

DOWNLOADS_DIR = "file_downloads"
METADATA_FILE = "distribution_metadata.parquet"


def resolve_files(location: str | Path) -> list[Path]:
    """A file, a directory (searched recursively) or a glob → sorted Parquet files."""
    text = str(location)
    try:
        path = Path(text).expanduser()
        if any(ch in text for ch in "*?["):
            files = sorted(Path(p) for p in glob.glob(text, recursive=True))
        elif path.is_dir():
            files = sorted(path.rglob("*.parquet"))
        elif path.is_file():
            files = [path]
        else:
            raise InvalidInputError(f"no such file or directory: {text[:200]}")
        files = [f for f in files if f.is_file()]
    except (OSError, ValueError) as exc:
        if isinstance(exc, WorkbenchError):
            raise
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InvalidInputError(f"cannot read {text[:200]}: {reason}") from None
    if not files:
        raise InvalidInputError(f"no Parquet files found at {text[:200]}")
    return files


def is_dataset(root: Path) -> bool:
    """A dataset directory (``file_downloads/`` inside); False for anything unreadable."""
    try:
        return root.is_dir() and (root / DOWNLOADS_DIR).is_dir()
    except (OSError, ValueError):
        return False


def footer_of(file: Path) -> pq.FileMetaData:
    """The file's Parquet footer (its schema and every row group's statistics), or a
    one-line error naming the file. Read through a file of our own: given a path, pyarrow
    first resolves a filesystem, which cost up to 15 ms at a process's first read."""
    try:
        with file.open("rb") as handle:
            return pq.ParquetFile(handle).metadata
    except (OSError, pa.ArrowException) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise DataSchemaError(f"{file.name} is not a readable Parquet file ({reason})") from None


@dataclass(frozen=True, slots=True)
class Layout:
    """How one group of files holds each canonical column: an SQL expression over the
    file's own columns (built only from registry names), or NULL where an optional column
    is absent."""

    files: tuple[Path, ...]
    expressions: tuple[tuple[str, str], ...]

    def select(self, relation: str) -> str:
        """The canonical view of this layout over the DuckDB relation ``relation``."""
        columns = ",\n    ".join(f"{expr} AS {name}" for name, expr in self.expressions)
        return f"SELECT\n    {columns}\n  FROM {relation}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _locate(schema: pa.Schema, col: Column) -> tuple[str, pa.DataType] | None:
    """``col`` as a flattened column (``a.b.c`` / ``a_b_c``) or a nested struct field."""
    for joiner in (".", "_"):
        flat = joiner.join(col.path)
        if flat in schema.names:
            return _quote(flat), schema.field(flat).type
    if col.path[0] not in schema.names:
        return None
    expr = _quote(col.path[0])
    dtype: pa.DataType = schema.field(col.path[0]).type
    for part in col.path[1:]:
        if not pa.types.is_struct(dtype) or dtype.get_field_index(part) < 0:
            return None
        dtype = dtype.field(part).type
        expr = f"struct_extract({expr}, '{part}')"
    return expr, dtype


def _kind_ok(col: Column, dtype: pa.DataType) -> bool:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_null(dtype):
        return col.kind != "timestamp"
    if col.kind == "timestamp":
        return bool(pa.types.is_timestamp(dtype))
    if col.kind == "bool":
        return bool(pa.types.is_boolean(dtype))
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


_CAST = {"text": "VARCHAR", "bool": "BOOLEAN", "timestamp": "TIMESTAMPTZ"}
_EXPECTED = {"text": "text", "bool": "a boolean", "timestamp": "a timestamp"}


def _named(dtype: pa.DataType) -> str:
    """A column type in words (the Arrow name in brackets)."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "text"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return f"a number ({dtype})"
    if pa.types.is_date(dtype):
        return f"a date without a time ({dtype})"
    if pa.types.is_struct(dtype):
        return "a struct"
    if pa.types.is_boolean(dtype):
        return "a boolean"
    return str(dtype)


def layout_of(file: Path, schema: pa.Schema, where: str) -> tuple[tuple[str, str], ...]:
    """The canonical expressions for a file of ``schema``; refuses rollups, missing and
    mistyped columns, naming them (and ``where``)."""
    if "downloads" in schema.names and "timestamp" not in schema.names:
        raise DataSchemaError(
            f"{where} looks like a rollup (it has a downloads column); the source reads "
            "raw download rows, one per download, in the file_downloads layout"
        )
    found: list[tuple[str, str]] = []
    missing, wrong = [], []
    for col in COLUMNS.values():
        located = _locate(schema, col)
        if located is None:
            if col.required:
                missing.append(col.bigquery)
            found.append((col.name, f"CAST(NULL AS {_CAST[col.kind]})"))
            continue
        expr, dtype = located
        if not _kind_ok(col, dtype):
            wrong.append(f"{col.bigquery} is {_named(dtype)}, not {_EXPECTED[col.kind]}")
        found.append((col.name, f"CAST({expr} AS {_CAST[col.kind]})"))
    if missing:
        raise DataSchemaError(
            f"{where} is not in the download-log layout: missing {', '.join(missing)}"
        )
    if wrong:
        raise DataSchemaError(
            f"{where}: the data does not have the download-log types: {', '.join(wrong)}"
        )
    return tuple(found)


def layouts(footers: Mapping[Path, pq.FileMetaData], location: str) -> list[Layout]:
    """The files (each with its footer) grouped by layout (most exports: one group), each
    checked."""
    groups: dict[str, list[tuple[Path, pa.Schema]]] = {}
    for file, footer in footers.items():
        schema = footer.schema.to_arrow_schema()  # as pyarrow.parquet.read_schema reads it
        groups.setdefault(str(schema.remove_metadata()), []).append((file, schema))
    out = []
    for members in groups.values():
        where = (
            f"the Parquet data at {location}"
            if len(groups) == 1
            else f"{members[0][0].name} (in {location})"
        )
        expressions = layout_of(members[0][0], members[0][1], where)
        out.append(Layout(tuple(f for f, _ in members), expressions))
    return out


def column_index(footer: pq.FileMetaData, path: str) -> int | None:
    """The index of the column at the Parquet path ``path`` (``a.b.c``) in ``footer``, or
    None when the file has no such column."""
    return next(
        (i for i in range(footer.num_columns) if footer.schema.column(i).path == path), None
    )


def null_rows(footers: Iterable[pq.FileMetaData], columns: tuple[str, ...]) -> int | None:
    """Rows with a null in any of ``columns``, from the files' statistics alone (no data
    read); None when the statistics cannot tell (missing, or nulls in more than one of the
    columns, which may overlap)."""
    totals = dict.fromkeys(columns, 0)
    for meta in footers:
        for name in columns:
            index = column_index(meta, name)
            if index is None:
                return None
            for i in range(meta.num_row_groups):
                stats = meta.row_group(i).column(index).statistics
                if stats is None or not stats.has_null_count:
                    return None
                totals[name] += stats.null_count
    if sum(1 for n in totals.values() if n) > 1:
        return None
    return sum(totals.values())
