"""The ``workbench`` command line: only click wiring; the work happens in the package.

Every error a user can cause prints one line (``error: …``) and exits non-zero
with the code of its :class:`~workbench.errors.WorkbenchError` class.
"""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import polars as pl
from tqdm import tqdm

from workbench import access, data
from workbench.cache import Cache
from workbench.demo import DemoConfig, generate
from workbench.errors import (
    InvalidInputError,
    NotConfirmedError,
    WorkbenchError,
    WorkbenchWarning,
    one_line,
    redact,
)
from workbench.names import normalize
from workbench.query import DayRange, RollupQuery, parse_day
from workbench.sources import open_source
from workbench.sources.base import KINDS, CostEstimate, Source, human_bytes
from workbench.sources.demo import DemoSource

if TYPE_CHECKING:
    from workbench.investigation import Investigation

SOURCE_HELP = (
    "demo (default), demo:SEED, bigquery[:BILLING_PROJECT], clickpy, or a Parquet path/glob"
)


class Spinner:
    """Progress on stderr for steps that may take more than a second.

    A tqdm bar (steps done, elapsed time, current step) on a terminal; plain
    ``… step`` lines when stderr is a pipe or a log file.
    """

    def __init__(self, enabled: bool, desc: str = "working") -> None:
        self.enabled = enabled
        self.bar: tqdm[Any] | None = None
        if enabled and sys.stderr.isatty():
            self.bar = tqdm(desc=desc, unit=" step", file=sys.stderr, leave=False)

    def __call__(self, message: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(message)
            self.bar.update(1)
        elif self.enabled:
            click.echo(f"… {message}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _warning_line(shown: Callable[..., None]) -> Callable[..., None]:
    """Show the workbench's own warnings as one ``warning: …`` line (others as usual)."""

    def show(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
        if issubclass(category, WorkbenchWarning):
            click.echo(f"warning: {redact(str(message))}", err=True)
        else:
            shown(message, category, *args, **kw)

    return show


@contextmanager
def _errors(*bars: Spinner) -> Iterator[None]:
    shown = warnings.showwarning
    warnings.showwarning = _warning_line(shown)
    try:
        yield
    except WorkbenchError as exc:
        for bar in bars:
            bar.close()
        click.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # a path given on the command line cannot be read or written
        for bar in bars:
            bar.close()
        click.echo(f"error: {one_line(redact(str(exc)))}", err=True)
        sys.exit(WorkbenchError.exit_code)
    finally:
        warnings.showwarning = shown


def _confirm(assume_yes: bool) -> Callable[[CostEstimate], bool]:
    def ask(estimate: CostEstimate) -> bool:
        click.echo(f"BigQuery estimate: {estimate}", err=True)
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            raise NotConfirmedError(
                "the query was not run: no terminal to confirm on; pass --yes to run it"
            )
        return click.confirm("Run it?", default=False, err=True)

    return ask


def _source(spec: str, *, max_bytes: int | None, yes: bool, progress: Spinner) -> Source:
    source = open_source(spec, max_bytes_billed=max_bytes, confirm=_confirm(yes))
    source.prepare(progress)  # the demo is generated on first use, with progress
    return source


def _days(source: Source, start: str | None, end: str | None, days: int) -> DayRange:
    if end is None:
        last = source.last_day()
    else:
        last = parse_day(end, what="end date")
        DayRange.checked(last, last)  # in range before any arithmetic on it
    first = start if start is not None else last - dt.timedelta(days=days - 1)
    return DayRange.parse(first, last)


class _Main(click.Group):
    """The command group, with click's own usage errors (a bad option value, an unknown
    option, a missing argument) as one ``error: …`` line and exit code 2, like ours."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # no arguments at all: the help text, as click shows it
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            hint = ""
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"error: {one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


F = TypeVar("F", bound=Callable[..., Any])


def _stacked(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def source_options(*, days: int, least: int = 1) -> Callable[[F], F]:
    """``--source``, ``--start``, ``--end`` and ``--days`` (default ``days``, minimum ``least``)."""
    return _stacked(
        [
            click.option("--source", "spec", default="demo", show_default=True, help=SOURCE_HELP),
            click.option("--start", help="First day (YYYY-MM-DD)."),
            click.option(
                "--end", help="Last day (YYYY-MM-DD); default: yesterday (demo: its last day)."
            ),
            click.option(
                "--days", type=click.IntRange(least, 1098), default=days, show_default=True
            ),
        ]
    )


def cost_options(command: F) -> F:
    """``--yes``, ``--max-bytes`` and ``--quiet``: how paid queries are confirmed and shown."""
    return _stacked(
        [
            click.option("--yes", is_flag=True, help="Run BigQuery queries without asking."),
            click.option(
                "--max-bytes", type=click.IntRange(1), help="Refuse queries estimated above this."
            ),
            click.option("--quiet", is_flag=True),
        ]
    )(command)


def ranking_options(command: F) -> F:
    """``--out``, ``--format`` and ``--top``: where a ranked table goes and how much is printed."""
    return _stacked(
        [
            click.option(
                "--out", type=click.Path(path_type=Path), help="Write the ranked table here."
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["csv", "parquet", "json"]),
                help="Default: from --out.",
            ),
            click.option(
                "--top",
                type=click.IntRange(0),
                default=20,
                show_default=True,
                help="Rows to print.",
            ),
        ]
    )(command)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="workbench")
def main() -> None:
    """Investigate PyPI download statistics: is this volume real?"""


@main.command("demo-data")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Directory to write (default: the data dir)."
)
@click.option("--seed", type=int, default=DemoConfig().seed, show_default=True)
@click.option(
    "--packages", type=click.IntRange(20, 5000), default=DemoConfig().packages, show_default=True
)
@click.option("--days", type=click.IntRange(28, 730), default=DemoConfig().days, show_default=True)
@click.option("--quiet", is_flag=True)
def demo_data(out: Path | None, seed: int, packages: int, days: int, quiet: bool) -> None:
    """Generate the demo dataset (raw BigQuery layout + metadata + ground truth)."""
    config = DemoConfig(seed=seed, packages=packages, days=days)
    progress = Spinner(not quiet, "generating")
    with _errors(progress):
        target = out or DemoSource(config).path
        report = generate(target, config, progress=progress)
        progress.close()
        click.echo(
            f"wrote {report.rows:,} rows for {report.packages} packages to {report.path} "
            f"in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s)"
        )


@main.command()
@click.argument("packages", nargs=-1, required=True)
@source_options(days=30)
@click.option("--dry-run", is_flag=True, help="Show the cost estimate (BigQuery) and stop.")
@click.option("--refresh", is_flag=True, help="Ignore cached results and fetch again.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Also write the downloads rollup here (.parquet/.csv).",
)
@cost_options
def fetch(
    packages: tuple[str, ...],
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    dry_run: bool,
    yes: bool,
    max_bytes: int | None,
    refresh: bool,
    out: Path | None,
    quiet: bool,
) -> None:
    """Fetch (or reuse from the cache) the rollups of PACKAGES."""
    progress = Spinner(not quiet, "fetching")
    with _errors(progress):
        source = _source(spec, max_bytes=max_bytes, yes=yes, progress=progress)
        query = RollupQuery.of(list(packages), *_range_args(source, start, end, days))
        if dry_run:
            estimate = source.estimate(KINDS, query)
            click.echo(
                f"{source.describe()}: {estimate}"
                if estimate
                else f"{source.describe()}: local data, no query cost"
            )
            return
        rollup = data.load(source, query, cache=Cache(), refresh=refresh, progress=progress)
        progress.close()
        totals = rollup.totals()
        for row in totals.iter_rows(named=True):
            downloads = f"{row['downloads']:,} downloads"
            click.echo(f"{row['project']}\t{downloads} (a lower bound: mirrors are not counted)")
        click.echo(rollup.provenance.summary(), err=True)
        if out is not None:
            _write(rollup.downloads.collect(), out)
        if rollup.missing:
            hints = []
            for name in rollup.missing:
                close = data.suggestions(source, name)
                hints.append(
                    f"{name!r}" + (f" (did you mean {', '.join(close)}?)" if close else "")
                )
            raise InvalidInputError(f"no downloads found for {'; '.join(hints)} in {query.days}")


def _range_args(source: Source, start: str | None, end: str | None, days: int) -> tuple[Any, Any]:
    rng = _days(source, start, end, days)
    return rng.start, rng.end


def _write(frame: Any, out: Path) -> None:
    if out.suffix == ".csv":
        frame.write_csv(out)
    elif out.suffix == ".parquet":
        frame.write_parquet(out)
    else:
        raise InvalidInputError(
            f"--out must end in .csv or .parquet, not {out.suffix or 'nothing'}"
        )


@main.group()
def cache() -> None:
    """List, size and clear cached rollups."""


@cache.command("list")
@click.option("--entries", is_flag=True, help="One line per stored file instead of per package.")
def cache_list(entries: bool) -> None:
    """Which days each package (or the population) holds, per source and kind."""
    store = Cache()
    found = store.entries()
    click.echo(f"{len(found)} entries, {human_bytes(sum(e.size for e in found))} in {store.root}")
    if entries:
        for e in found:
            state = "complete" if e.complete else f"incomplete, age {e.age()}"
            what = e.description.get("scope") or e.description.get("query") or ""
            click.echo(
                f"{e.key[:12]}  {e.kind:<12} {e.rows:>9,} rows {human_bytes(e.size):>10}  "
                f"{e.created:%Y-%m-%d %H:%M}  {state}  {one_line(str(what), 200)}"
            )
        return
    for line in data.holdings(found):
        click.echo(one_line(line, 2000))


@cache.command("size")
def cache_size() -> None:
    """Total size of the cache."""
    store = Cache()
    click.echo(f"{human_bytes(store.size())} in {store.root}")


@cache.command("clear")
@click.option("--incomplete", is_flag=True, help="Only entries holding days still in progress.")
@click.option(
    "--older-than", type=click.IntRange(0, 100_000), help="Only entries older than N days."
)
def cache_clear(incomplete: bool, older_than: int | None) -> None:
    """Remove cached entries."""
    age = dt.timedelta(days=older_than) if older_than is not None else None
    removed = Cache().clear(incomplete_only=incomplete, older_than=age)
    click.echo(f"removed {removed} entries")


@main.command()
@source_options(days=90, least=14)
@click.option("--packages", help="Comma-separated packages (default: every package of the source).")
@click.option(
    "--packages-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file with one package name per line.",
)
@ranking_options
@cost_options
def scan(
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    packages: str | None,
    packages_file: Path | None,
    out: Path | None,
    fmt: str | None,
    top: int,
    yes: bool,
    max_bytes: int | None,
    quiet: bool,
) -> None:
    """Evaluate every package (or a list) and rank them by suspicion."""
    from workbench.analysis import analyze, write

    progress = Spinner(not quiet, "scanning")
    with _errors(progress):
        source = _source(spec, max_bytes=max_bytes, yes=yes, progress=progress)
        names = _names(packages, packages_file)
        query = RollupQuery.of(names, *_range_args(source, start, end, days))
        result = analyze(source, query, cache=Cache(), progress=progress)
        progress.close()
        table = result.table()
        flagged = table.filter(pl.col("score") >= 0.4).height
        click.echo(
            f"{table.height} packages scanned in {result.seconds:.1f} s; {flagged} flagged "
            f"(suspicion medium or high)",
            err=True,
        )
        for row in table.head(top).iter_rows(named=True):
            project = one_line(str(row["project"]), 200)  # names come from the data
            click.echo(
                f"{row['rank']:>4}  {row['score']:.2f} {row['level']:<6} {project:<28} "
                f"{row['signals'] or '-'}"
            )
        if out is not None:
            click.echo(f"wrote {write(result, out, fmt)}", err=True)


#: A --packages-file larger than this is not a list of names.
MAX_PACKAGES_FILE = 10 * 2**20


def _names(packages: str | None, packages_file: Path | None) -> list[str] | None:
    """The names of ``--packages`` and ``--packages-file`` (``None``: neither was given).

    The file is UTF-8 text (a BOM is fine), one name per line; blank lines and ``#``
    comments are skipped; a bad name is reported with its line number.
    """
    names = [n for n in (packages or "").split(",") if n.strip()]
    if packages_file is not None:
        with packages_file.open("rb") as handle:
            raw = handle.read(MAX_PACKAGES_FILE + 1)
        if len(raw) > MAX_PACKAGES_FILE:
            raise InvalidInputError(
                f"{packages_file.name} is larger than {MAX_PACKAGES_FILE // 2**20} MiB; "
                "a packages file lists one name per line"
            )
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"{packages_file.name} is not UTF-8 text (byte {exc.start}); "
                "a packages file lists one name per line"
            ) from None
        for number, line in enumerate(text.splitlines(), 1):
            name = line.split("#", 1)[0].strip()
            if not name:
                continue
            try:
                normalize(name)
            except InvalidInputError as exc:
                raise InvalidInputError(f"{packages_file.name}, line {number}: {exc}") from None
            names.append(name)
        if not names:
            raise InvalidInputError(f"{packages_file.name} lists no package names")
    if packages is not None and not names:
        raise InvalidInputError("--packages lists no package names")
    return names or None


def package_options(command: F) -> F:
    """The options every one-package command shares (source, range, cost, quiet)."""
    return source_options(days=90, least=14)(cost_options(command))


@main.command()
@source_options(days=28)
@click.option("--dry-run", is_flag=True, help="Show what the missing days cost and stop.")
@click.option(
    "--tier",
    type=click.Choice(["basic", "clients"]),
    help="basic: no client detail (half the bytes on BigQuery); clients: with it. "
    "Default: basic on BigQuery, clients where it is free.",
)
@cost_options
def population(
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    dry_run: bool,
    tier: str | None,
    yes: bool,
    max_bytes: int | None,
    quiet: bool,
) -> None:
    """Fetch (or buy, priced and confirmed) the population features of every package for a
    range: the peers every investigation is judged against. Days held are never paid twice."""
    from workbench.screening import price

    progress = Spinner(not quiet, "population")
    with _errors(progress):
        source = _source(spec, max_bytes=max_bytes, yes=yes, progress=progress)
        span = _days(source, start, end, days)
        chosen = tier or source.default_tier()
        if chosen not in source.population_tiers():
            raise InvalidInputError(
                f"{source.describe()} offers the {', '.join(source.population_tiers())} tier(s)"
            )
        if dry_run:
            cost = price(source, span, Cache(), tier=chosen)
            click.echo(f"{source.describe()}: {cost}" if cost else f"{source.describe()}: free")
            return
        held = data.population(source, span, tier=chosen, cache=Cache(), progress=progress)
        progress.close()
        click.echo(
            f"{held.packages:,} packages × {span.days} days ({held.frame.height:,} rows, "
            f"{held.tier} tier) from {source.describe()}"
        )
        click.echo(held.provenance.summary(), err=True)


@main.command()
@source_options(days=30, least=14)
@click.option(
    "--deep",
    type=click.IntRange(0, 500),
    default=20,
    show_default=True,
    help="Deep-dive this many of the top with full rollups and every signal.",
)
@ranking_options
@cost_options
def screen(
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    deep: int,
    out: Path | None,
    fmt: str | None,
    top: int,
    yes: bool,
    max_bytes: int | None,
    quiet: bool,
) -> None:
    """Rank every package of the source's population by suspicion, then deep-dive the top."""
    from workbench import screening

    progress = Spinner(not quiet, "screening")
    with _errors(progress):
        source = _source(spec, max_bytes=max_bytes, yes=yes, progress=progress)
        span = _days(source, start, end, days)
        cost = screening.price(source, span, Cache())
        if cost is not None:
            click.echo(f"the population for {span} is not all held: {cost}", err=True)
        result = screening.run(source, span, top=deep, cache=Cache(), progress=progress)
        progress.close()
        click.echo(
            f"{result.table.height:,} packages screened in {result.seconds:.1f} s; "
            f"{result.flagged()} flagged (suspicion medium or high); top {deep} deep-dived",
            err=True,
        )
        for row in result.table.head(top).iter_rows(named=True):
            project = one_line(str(row["project"]), 200)
            deep_score = "" if row["deep_score"] is None else f" → {row['deep_score']:.2f}"
            click.echo(
                f"{row['rank']:>6}  {row['score']:.2f}{deep_score:<7} {row['level']:<6} "
                f"{project:<28} {row['signals'] or '-'}"
            )
        if out is not None:
            click.echo(f"wrote {screening.write(result, out, fmt)}", err=True)


def _investigate(
    package: str,
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    yes: bool,
    max_bytes: int | None,
    progress: Spinner,
) -> Investigation:
    """One package investigated (a one-line error with suggestions when it has no data)."""
    from workbench.investigation import investigate as run

    source = _source(spec, max_bytes=max_bytes, yes=yes, progress=progress)
    first, last = _range_args(source, start, end, days)
    return run(package, source=source, start=first, end=last, cache=Cache(), progress=progress)


@main.command()
@click.argument("package")
@package_options
@click.option("--all", "show_all", is_flag=True, help="Also print findings that did not fire.")
def investigate(
    package: str,
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    yes: bool,
    max_bytes: int | None,
    quiet: bool,
    show_all: bool,
) -> None:
    """Explain one package's downloads: the suspicion summary and every finding."""
    progress = Spinner(not quiet, "investigating")
    with _errors(progress):
        inv = _investigate(package, spec, start, end, days, yes, max_bytes, progress)
        progress.close()
        click.echo(
            f"{inv.package}: {inv.summary.downloads:,} downloads in {inv.days} (a lower bound)"
        )
        click.echo(inv.summary.text())
        click.echo(f"Peers: {one_line(inv.baseline, 1000)}")
        for f in inv.findings:
            if f.fired or show_all or f.signal == "mirror_blind_spot":
                # sentences quote values from the data (versions, names): one line each
                title, text = one_line(f.title, 4000), one_line(f.text, 4000)
                click.echo(f"\n[{f.level}] {title} {f.when()}\n  {text}")
                if f.explanation:
                    click.echo(f"  Explained: {one_line(f.explanation, 4000)}")
        click.echo(f"\n{inv.provenance.summary()}", err=True)


@main.command()
@click.argument("package")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML file to write.",
)
@package_options
def report(
    package: str,
    out: Path,
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    yes: bool,
    max_bytes: int | None,
    quiet: bool,
) -> None:
    """Write a self-contained HTML case file for PACKAGE (opens offline)."""
    from workbench.report import build

    progress = Spinner(not quiet, "reporting")
    with _errors(progress):
        inv = _investigate(package, spec, start, end, days, yes, max_bytes, progress)
        progress("drawing the charts")
        document = build(inv)
        progress.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(document)
        click.echo(f"wrote {out} ({len(document) / 1024:.0f} KiB): {inv.summary.text()}")


@main.command()
@click.argument("package")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder to write the case into (new, empty, or a previous case: replaced).",
)
@package_options
def publish(
    package: str,
    out: Path,
    spec: str,
    start: str | None,
    end: str | None,
    days: int,
    yes: bool,
    max_bytes: int | None,
    quiet: bool,
) -> None:
    """Publish PACKAGE's case: a folder with the case app, its frozen data, your notes,
    provenance and pinned requirements ('workbench serve DIR' opens it, offline)."""
    from workbench import notes as nt
    from workbench.publish import check_destination, write_case

    progress = Spinner(not quiet, "publishing")
    with _errors(progress):
        check_destination(out)  # before anything is fetched
        inv = _investigate(package, spec, start, end, days, yes, max_bytes, progress)
        saved = nt.store_for(Cache(), inv.source.identity, inv.package, inv.source.describe())
        progress("freezing the case")
        case = write_case(inv.with_notes(saved.load()), out)
        progress.close()
        click.echo(
            f"wrote {case.path} ({len(case.files)} files, {case.size / 1024:.0f} KiB, "
            f"{case.seconds:.1f} s): serve it with 'workbench serve {out}'"
        )


NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _case_notebook(notebook: str | None) -> Path | None:
    """The notebook of the published case in the folder ``notebook`` (``None``: not a folder)."""
    from workbench.sources.frozen import NOTEBOOK, notebook_is_ours, read_provenance

    if notebook is None or not Path(notebook).is_dir():
        return None
    folder = Path(notebook).resolve()
    if read_provenance(folder) is None or not (folder / NOTEBOOK).is_file():
        raise InvalidInputError(f"{notebook} is not a published case ('workbench publish')")
    if not notebook_is_ours(folder):
        raise InvalidInputError(
            f"the case notebook in {notebook} runs other code than 'workbench publish' wrote: "
            "not served (publish the case again)"
        )
    return folder / NOTEBOOK


@main.command()
@click.argument("notebook", required=False)  # an app's notebook, or a published case's folder
@click.option("--port", type=click.IntRange(1024, 65535), default=8866, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on. Beyond loopback (0.0.0.0 for every interface, or a LAN "
    "address) every request needs the token.",
)
@click.option(
    "--token",
    envvar=access.TOKEN_ENV,
    show_envvar=True,
    help="The token every request must carry (at least 16 characters). Generated and printed "
    "when serving beyond loopback without one; on loopback, required only if given. Prefer "
    "the environment variable: a command line is visible to every user of the machine.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name the browser may reach the server by (its DNS name, a reverse proxy's "
    "name); needs a token. Repeatable.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option(
    "--preheat/--no-preheat",
    default=True,
    show_default=True,
    help="Keep a kernel per app started with its notebook run (the page draws at once; "
    "costs one idle kernel per app).",
)
def serve(
    notebook: str | None,
    port: int,
    host: str,
    token: str | None,
    allow_hosts: tuple[str, ...],
    no_browser: bool,
    preheat: bool,
) -> None:
    """Serve the apps with Voilà (all of them, or NOTEBOOK) on 127.0.0.1, or to a team with
    --host and a token; the demo data is generated first if needed. The page can drive the
    widgets, never run code (see ``workbench/serve.py`` and SECURITY.md)."""
    import os

    with _errors():
        available = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
        case = _case_notebook(notebook)  # a published case's folder
        if case is None and notebook is not None and notebook not in available:
            raise InvalidInputError(f"no app {notebook!r}; available: {', '.join(available)}")
        loopback = access.is_loopback(host)
        generated = False
        if token:
            access.check_token(token)
        elif not loopback:
            token, generated = access.new_token(), True
        if allow_hosts and not token:
            raise InvalidInputError(
                "--allow-host needs a token: without one, the Host check is what keeps other "
                "web sites out (DNS rebinding)"
            )
        names = [access.check_host_name(name) for name in allow_hosts]
        target = case or (NOTEBOOKS if notebook is None else NOTEBOOKS / notebook)
        if case is None:  # a case holds its own data
            bar = Spinner(True, "preparing the demo data")
            DemoSource().prepare(bar)
            bar.close()
        args = [
            sys.executable,
            "-P",  # not the current directory on sys.path: a voila.py there would be imported
            "-m",
            "workbench.serve",
            str(target),
            f"--port={port}",
            "--Voila.port_retries=0",  # the URL printed below is the one served, or an error
            f"--Voila.ip={host}",
            "--strip_sources=True",
            "--show_tracebacks=False",
        ]
        if preheat:
            # A kernel per app is started and runs its notebook before anyone asks: the
            # page then shows the drawn app at once (measured: benchmarks/bench_app.py).
            args += ["--preheat_kernel=True", "--pool_size=1"]
        if no_browser:
            args.append("--no-browser")
        # Voilà reads both from the environment and removes them before a kernel starts.
        os.environ.pop(access.TOKEN_ENV, None)
        if token:
            os.environ[access.TOKEN_ENV] = token
        os.environ[access.HOSTS_ENV] = ",".join(names)
        url = f"http://{_url_host(host)}:{port}/" + (f"?token={token}" if generated else "")
        line = f"serving {target.name} on {url} (Ctrl+C to stop)"
        if token and not generated:
            line += "; open it with ?token=<the token> or log in with the token"
        click.echo(line, err=True)
        sys.stderr.flush()
        sys.stdout.flush()
        os.execv(sys.executable, args)  # Voilà replaces this process: stopping it stops Voilà


def _url_host(host: str) -> str:
    """How a browser writes ``host`` in a URL (``0.0.0.0`` / ``::``: this machine's name)."""
    import socket

    if access.is_wildcard(host):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    main()
