"""The ``caliber`` command's group and what its commands share: settings, the database, the ledger, progress bars, failing in one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from caliber.config import Settings, load_or_exit

if TYPE_CHECKING:
    from pathlib import Path

    from caliber.db import Database


T = TypeVar("T")

ROLES = ["admin", "depot_clerk", "depot_manager", "witness", "inspector", "ministry_official"]


def fail(message: str) -> None:
    """Print one line naming what is wrong and exit 1."""
    click.echo(f"caliber: {message}", err=True)
    raise SystemExit(1)


def prepare_database(settings: Settings, *, upgrade_sqlite: bool = True) -> None:
    """Make the database usable: SQLite upgrades itself; PostgreSQL must already be current."""
    from caliber import migrate
    from caliber.db import create_engine

    if settings.is_sqlite and upgrade_sqlite:
        migrate.upgrade(settings.database_url)
        _pin_log_key(settings)
        return

    async def revision() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    try:
        current = asyncio.run(revision())
    except Exception as exc:  # noqa: BLE001 (any connection failure is reported the same way)
        fail(f"cannot reach the database at CALIBER_DATABASE_URL: {exc}")
    head = migrate.head_revision()
    if current != head:
        fail(f"the database is at revision {current or 'none (empty)'} but this version needs {head}: run `caliber db upgrade` first")
    _pin_log_key(settings)


def _pin_log_key(settings: Settings) -> None:
    """Make the log's key with the log, named after the origin its entries carry (else the configured one), so the
    origin never follows a later CALIBER_BASE_URL; a log signed before but without its key here is refused."""
    from caliber.ledger.audit import log_facts
    from caliber.ledger.signer import KEY_FILE, LogSigner

    if settings.log_key or (settings.data_dir / KEY_FILE).exists():
        return
    origin, signed = run_with_database(settings, log_facts)
    if signed:
        fail(
            f"no log key: {settings.data_dir / KEY_FILE} does not exist and CALIBER_LOG_KEY is not set, but the database "
            "already holds a signed log: restore the log-key file from a backup, or set CALIBER_LOG_KEY"
        )
    LogSigner.for_data_dir(origin or settings.log_origin, settings.data_dir)


def ledger_of(db: Database, settings: Settings) -> Any:
    """The ledger of ``settings``' log over ``db``, knowing every domain's event types."""
    from caliber.domains import registry
    from caliber.ledger.store import Ledger

    return Ledger(db, settings.log_origin, registry())


def prepared() -> Settings:
    """The settings with the database ready, read again: the log's origin then comes from the key made with the log."""
    prepare_database(load_or_exit())
    return load_or_exit()


def writable(refusing: str) -> Settings:
    """:func:`_prepared`, refusing (``refusing: …``) a database that appending to would fork the signed log."""
    settings = prepared()
    refuse_forked_log(settings, refusing)
    return settings


def run_with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` with a database for ``settings``; Caliber's errors become one line and exit 1."""
    from caliber.db import Database, create_engine
    from caliber.errors import CaliberError

    async def main() -> T:
        db = Database(create_engine(settings.database_url))
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except CaliberError as exc:
        fail(exc.message)
        raise  # unreachable: fail exits


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="caliber")
def main() -> None:
    """Caliber: custody of surplus small arms, light weapons and ammunition until witnessed destruction.

    Settings come from CALIBER_* environment variables (see docs/operations.md).
    """


def refuse_forked_log(settings: Settings, refusing: str) -> None:
    """Refuse to serve (or write to) a database that is not the log this server signs, or is behind or forked from what
    it signed: a command that appends to it would fork the log."""
    from caliber.ledger.audit import AuditError, check_log

    async def work(db: Database) -> None:
        ledger = ledger_of(db, settings)
        await check_log(ledger, signer_of(settings, create=False))

    try:
        run_with_database(settings, work)
    except AuditError as exc:
        fail(f"{refusing}: {exc}")


def copy_shipped(shipped: Path, target: Path) -> None:
    """``--init``: copy a file shipped with Caliber into the data dir to edit there, never over one that is there."""
    import shutil

    if target.exists():
        raise click.ClickException(f"{target} exists already: edit it, or move it away first")
    shutil.copyfile(shipped, target)
    click.echo(f"wrote {target}: edit it, then restart Caliber")


def data_file(init: bool, shipped: Path, name: str, load: Callable[[Path], T], error: type[Exception]) -> T:
    """A data file's command: with ``init`` copy the shipped file into the data dir first (:func:`copy_shipped`); then the
    file in force, loaded by ``load`` from the data dir (an ``error`` it raises ends the command, naming what is wrong)."""
    settings = load_or_exit()
    if init:
        copy_shipped(shipped, settings.data_dir / name)
    try:
        return load(settings.data_dir)
    except error as exc:
        raise click.ClickException(str(exc)) from None


def check_data_files(settings: Settings) -> None:
    """Refuse to start on a KPI file, a makers file or a tracing rule file in the data dir that cannot be used, naming what is wrong."""
    from caliber.destruction.trace_rule import TraceRuleError, load_trace_rule
    from caliber.items.makers import MakerFileError, load_makers
    from caliber.reports.kpis import KpiFileError, load_roadmap

    try:
        load_roadmap(settings.data_dir)
    except KpiFileError as exc:
        raise click.ClickException(f"the KPI file cannot be used: {exc}") from None
    try:
        load_makers(settings.data_dir)
    except MakerFileError as exc:
        raise click.ClickException(f"the makers file cannot be used: {exc}") from None
    try:
        load_trace_rule(settings.data_dir)
    except TraceRuleError as exc:
        raise click.ClickException(f"the tracing rule file cannot be used: {exc}") from None


def settings_without_writing() -> Settings:
    """The settings, writing nothing into the data dir (not even a new secret key); a bad value exits 2."""
    from caliber.config import SettingsError

    try:
        return Settings.from_env(create=False)
    except SettingsError as exc:
        click.echo(f"caliber: {exc}", err=True)
        raise SystemExit(2) from None


def signer_of(settings: Settings, *, create: bool = True) -> Any:
    """The log's signer; without ``create`` a missing key is refused (a log that exists needs the key it was made with)."""
    from caliber.ledger.signer import LogSigner

    try:
        return LogSigner.for_data_dir(settings.log_origin, settings.data_dir, settings.log_key, create=create)
    except FileNotFoundError as exc:
        fail(f"{exc}, but the database already holds a log: restore the log-key file from a backup, or set CALIBER_LOG_KEY")
    except ValueError as exc:  # the data dir's key names another origin than CALIBER_LOG_ORIGIN
        fail(f"{exc}: a log's origin is fixed when it is created; unset CALIBER_LOG_ORIGIN or set it to the key's origin")


def audited(settings: Settings, failure: str) -> Any:
    """Verify the whole ledger in the database (with a progress bar); on a failure, exit naming it after ``failure``."""
    from caliber.ledger.audit import AuditError, audit

    async def work(db: Database) -> Any:
        log = ledger_of(db, settings)
        progress, advance = progress_bar("verifying the ledger", await log.size())
        with progress:
            return await audit(log, signer_of(settings, create=False), advance)

    try:
        return run_with_database(settings, work)
    except AuditError as exc:
        fail(f"{failure}: {exc}")


def step_bars() -> Any:
    """A progress bar for work told as (what, done, total) steps."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    )
    tasks: dict[str, Any] = {}

    def tell(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = progress.add_task(what, total=total)
        progress.update(tasks[what], completed=done, total=total)

    return progress, tell


def progress_bar(description: str, total: int | None) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    )
    task = progress.add_task(description, total=total)
    return progress, lambda n: progress.advance(task, n)


def print_import_errors(report: Any) -> None:
    """The bad cells of a checked file (a report with ``clean``, ``errors`` and ``error_count``), the first 50, on stderr."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    if report.clean:
        return
    table = Table("row", "column", "reason", title=f"{report.error_count} row(s) with errors")
    for error in report.errors[:50]:
        table.add_row(str(error.row), escape(error.column or "(row)"), escape(error.reason))  # cells are text, not markup
    Console(stderr=True).print(table)
    if len(report.errors) > 50:
        click.echo(f"... and more: the first {len(report.errors)} errors are kept; fix these and check again", err=True)
