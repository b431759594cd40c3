"""Release metadata (``distribution_metadata``) → per-release rows and dependents.

Both sources return *per-file* rows (``name, version, upload_time,
packagetype, requires_dist``) narrowed to the packages asked for; the
aggregation to one row per release is shared here so both give the same answer.
"""

from __future__ import annotations

import polars as pl

from workbench.schema import DEPENDENTS, FIRST_RELEASES, RELEASES

#: The distribution name at the start of a PEP 508 requirement string.
REQUIREMENT_NAME = r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)"


def normalized_name(expr: pl.Expr) -> pl.Expr:
    """PEP 503 normalisation as a Polars expression."""
    return expr.str.replace_all(r"[-_.]+", "-").str.to_lowercase()


def releases_from_files(files: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (project, version): first upload, file types, union of requirements."""
    return (
        files.with_columns(project=normalized_name(pl.col("name")))
        .group_by("project", "version")
        .agg(
            upload_time=pl.col("upload_time").min(),
            packagetypes=pl.col("packagetype").drop_nulls().unique().sort(),
            requires_dist=pl.col("requires_dist")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
        )
        .select([pl.col(c).cast(t) for c, t in RELEASES.items()])
        .sort("project", "upload_time", "version")
    )


def dependents_from_files(files: pl.LazyFrame, projects: tuple[str, ...]) -> pl.LazyFrame:
    """Releases of other packages whose ``requires_dist`` names one of ``projects``.

    One row per (required project, dependent, dependent version) with the first
    requirement string seen, so an analyst can see *when* a package started to
    require the one under investigation.
    """
    exploded = (
        files.select("name", "version", "upload_time", "requires_dist")
        .explode("requires_dist")
        .rename({"requires_dist": "requirement"})
        .drop_nulls("requirement")
        .with_columns(
            project=normalized_name(pl.col("requirement").str.extract(REQUIREMENT_NAME, 1)),
            dependent=normalized_name(pl.col("name")),
        )
        .filter(
            pl.col("project").is_in(list(projects)) & (pl.col("project") != pl.col("dependent"))
        )
    )
    return (
        exploded.group_by("project", "dependent", "version")
        .agg(pl.col("upload_time").min(), pl.col("requirement").sort().first())
        .select([pl.col(c).cast(t) for c, t in DEPENDENTS.items()])
        .sort("project", "dependent", "upload_time")
    )


def first_releases(files: pl.LazyFrame) -> pl.LazyFrame:
    """Every package's first upload: a package first uploaded inside a range is new there."""
    return (
        files.group_by(project=normalized_name(pl.col("name")))
        .agg(first_upload=pl.col("upload_time").min())
        .select([pl.col(c).cast(t) for c, t in FIRST_RELEASES.items()])
    )
