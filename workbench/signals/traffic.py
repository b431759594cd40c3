"""Who the traffic looks like: CI and servers vs people at desktops; and what the logs miss.

``details.ci`` is set by pip from CI environment variables and is TRUE or NULL,
never FALSE: a lower bound. macOS and Windows downloads without the CI flag are
the clearest trace of people at their machines; Linux without the flag is
ambiguous (laptops, servers, containers, CI that sets no variable). A source without
the flag (ClickPy) has NULL there: its CI share is unknown, never 0 %.
"""

from __future__ import annotations

import polars as pl

from workbench import breakdowns as b
from workbench.dimensions import MIRROR_CLIENTS
from workbench.signals.context import Context
from workbench.signals.findings import Finding, fmt_int, pct

#: Below this share of desktop downloads (and with most traffic reported as CI or Linux),
#: a package is reported as mostly automated. Organic packages in the calibration keep
#: 12 %+ desktop traffic even when most of their users are CI pipelines.
DESKTOP_FLOOR = 0.08
MIN_DOWNLOADS = 200


def _kinds(ctx: Context) -> pl.DataFrame:
    return (
        ctx.downloads.with_columns(b.client_kind())
        .group_by("project", "client")
        .agg(pl.col("downloads").sum())
        .collect()
        .pivot(on="client", index="project", values="downloads")
        .fill_null(0)
    )


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(0)


def ci_findings(ctx: Context) -> list[Finding]:
    k = _kinds(ctx)
    ci, desk, linux = (
        _col(k, c) for c in ("reported CI", "desktop (macOS, Windows)", "Linux, not reported CI")
    )
    mirror, other = _col(k, "mirror"), _col(k, "unidentified client")
    k = k.with_columns(total=ci + desk + linux + other, mirror_n=mirror).with_columns(
        ci_share=ci / pl.col("total"),
        desktop_share=desk / pl.col("total"),
        linux_share=(linux + ci) / pl.col("total"),
    )
    kinds = b.client_kinds(ctx.downloads)  # one query for every project; sliced below
    unknown = set(
        ctx.downloads.group_by("project")
        .agg(pl.col("ci").is_null().all().alias("unknown"))
        .filter("unknown")
        .collect()["project"]
    )
    out = []
    for row in k.filter(pl.col("total") >= MIN_DOWNLOADS).iter_rows(named=True):
        desktop, ci_share = row["desktop_share"], row["ci_share"]
        automated = 1 - desktop
        mostly = desktop < DESKTOP_FLOOR and ci_share >= 0.5
        strength = (
            min(1.0, 0.4 + 0.6 * (DESKTOP_FLOOR - desktop) / DESKTOP_FLOOR) if mostly else 0.05
        )
        reported = (
            "this source does not say which are reported as CI"
            if row["project"] in unknown
            else f"{pct(ci_share)} are reported as CI by the installer (a lower bound)"
        )
        text = (
            f"{pct(automated)} of downloads look automated: {reported} and "
            f"{pct(row['linux_share'])} come from Linux; only {pct(desktop)} come from macOS or "
            "Windows desktops."
        )
        if mostly:
            text += (
                " Download counts here measure pipeline runs, not people: one busy CI "
                "configuration can outweigh thousands of users."
            )
        evidence = kinds.filter(pl.col("project") == row["project"]).drop("project")
        out.append(
            Finding(
                "ci_traffic",
                row["project"],
                "Mostly automated" if mostly else "Traffic mix",
                text,
                strength,
                False if mostly else None,
                metrics={
                    "ci_share": None if row["project"] in unknown else round(ci_share, 3),
                    "desktop_share": round(desktop, 3),
                    "linux_share": round(row["linux_share"], 3),
                },
                evidence=evidence,
            )
        )
    return out


def mirror_findings(ctx: Context) -> list[Finding]:
    """Every package: visible counts are a lower bound; mirror clients are set apart."""
    per = (
        ctx.downloads.with_columns(
            mirror=pl.col("installer").is_in(list(MIRROR_CLIENTS)).fill_null(False)
        )
        .group_by("project", "mirror", "installer")
        .agg(pl.col("downloads").sum())
        .collect()
    )
    out = []
    for project, rows in per.group_by("project"):
        name = str(project[0])
        total = int(rows["downloads"].sum())
        mirrors = rows.filter(pl.col("mirror")).sort("downloads", descending=True)
        seen = int(mirrors["downloads"].sum())
        clients = ", ".join(
            f"{r['installer']} {fmt_int(r['downloads'])}" for r in mirrors.iter_rows(named=True)
        )
        text = (
            f"{fmt_int(total)} downloads reached PyPI's logs: a lower bound. Installs served by "
            "mirrors and caching proxies (bandersnatch, devpi, Artifactory, Nexus, company "
            "proxies) are never logged, and enterprise-heavy packages can be 2–5× their visible "
            "count."
        )
        if seen:
            text += (
                f" Mirror clients fetched {fmt_int(seen)} files ({pct(seen / total)}: {clients}); "
                "they copy every release, not what users install, so the other signals leave them "
                "out."
            )
        out.append(
            Finding(
                "mirror_blind_spot",
                name,
                "Counts are a lower bound",
                text,
                0.0,
                None,
                metrics={"visible": total, "mirror_downloads": seen},
                evidence=mirrors.select("installer", "downloads"),
            )
        )
    return out
