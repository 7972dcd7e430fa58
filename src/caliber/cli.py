"""The ``caliber`` command. Thin: it reads settings, calls services, prints.

Heavy modules (the app, SQLAlchemy, Alembic) are imported inside the commands
that use them, so ``--help`` answers at once.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from caliber.config import Settings, load_or_exit

if TYPE_CHECKING:
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


def _ledger(db: Database, settings: Settings) -> Any:
    """The ledger of ``settings``' log over ``db``, knowing every domain's event types."""
    from caliber.domains import registry
    from caliber.ledger.store import Ledger

    return Ledger(db, settings.log_origin, registry())


def _prepared() -> Settings:
    """The settings with the database ready, read again: the log's origin then comes from the key made with the log."""
    prepare_database(load_or_exit())
    return load_or_exit()


def _writable(refusing: str) -> Settings:
    """:func:`_prepared`, refusing (``refusing: …``) a database that appending to would fork the signed log."""
    settings = _prepared()
    _check_log(settings, refusing)
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes (PostgreSQL: as many as cores)."
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve Caliber over HTTP with the granian ASGI server."""
    _check_kpi_file(load_or_exit())
    settings = _writable("refusing to serve")
    _serve(settings, host, port, workers)


def _check_log(settings: Settings, refusing: str) -> None:
    """Refuse to serve (or write to) a database that is not the log this server signs, or is behind or forked from what
    it signed: a command that appends to it would fork the log."""
    from caliber.ledger.audit import AuditError, check_log

    async def work(db: Database) -> None:
        ledger = _ledger(db, settings)
        await check_log(ledger, _signer(settings, create=False))

    try:
        run_with_database(settings, work)
    except AuditError as exc:
        fail(f"{refusing}: {exc}")


def _check_kpi_file(settings: Settings) -> None:
    from caliber.reports.kpis import KpiFileError, load_roadmap

    try:
        load_roadmap(settings.data_dir)
    except KpiFileError as exc:
        raise click.ClickException(f"the KPI file cannot be used: {exc}") from None


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    click.echo(f"Caliber on http://{host}:{port}/  (data: {settings.data_dir}; QR labels point at {settings.base_url})")
    from caliber.hardening import log_config

    Granian(
        "caliber.asgi:create",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_dictconfig=log_config(),
        log_access=False,  # Caliber logs each request itself, as JSON, with who asked
    ).serve()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--no-serve", is_flag=True, help="Only create the demo data and print the logins.")
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01, 10),
    help="Size of the demo stock: 1.0 is about 4,000 weapons and 300 lots over four years.",
)
def demo(host: str, port: int, no_serve: bool, scale: float) -> None:
    """Fill the data dir with demo depots and one user per role, print their logins, then serve.

    Without CALIBER_BASE_URL, labels point at the address and port the demo serves.
    """
    import os

    from caliber import demo as demo_data

    if "CALIBER_BASE_URL" not in os.environ:  # the server's workers read the same environment
        os.environ["CALIBER_BASE_URL"] = demo_data.served_url(host, port)
    settings = _writable("refusing to serve")
    logins = run_with_database(settings, lambda db: demo_data.ensure_demo(_ledger(db, settings), settings.data_dir, scale=scale))
    click.echo(demo_data.format_logins(logins))
    if not no_serve:
        _serve(settings, host, port, 1)


@main.group()
def db() -> None:
    """Database schema: upgrade, and new migrations for developers."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database up to this version's schema."""
    from caliber import migrate

    settings = load_or_exit()
    migrate.upgrade(settings.database_url)
    click.echo(f"database at revision {migrate.head_revision()}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write a migration autogenerated from the models (developers)."""
    from caliber import migrate

    settings = load_or_exit()
    migrate.revision(settings.database_url, message)


@main.group()
def user() -> None:
    """Users: create and list."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--depot", "depots", multiple=True, metavar="CODE", help="A depot the user works in (repeat for several).")
@click.option(
    "--jurisdiction",
    "jurisdictions",
    multiple=True,
    metavar="CODE",
    help="Inspectors and ministry officials: a jurisdiction they read (RS, AL, ...).",
)
@click.option("--name", "display_name", default=None, help="Full name (default: the username).")
@click.option("--organisation", default="", help="Ministry, police directorate, organisation.")
def user_create(  # noqa: PLR0917 (one parameter per option)
    username: str, role: str, depots: tuple[str, ...], jurisdictions: tuple[str, ...], display_name: str | None, organisation: str
) -> None:
    """Create a user. The password is asked for, or read from standard input when it is not a terminal."""
    from caliber.accounts.actor import Actor
    from caliber.accounts.schemas import NewUser
    from caliber.accounts.service import AccountService
    from caliber.errors import CaliberError
    from caliber.schemas import convert

    settings = _prepared()
    values = {
        "username": username,
        "role": role,
        "depots": list(depots),
        "jurisdictions": [code.upper() for code in jurisdictions],
        "display_name": display_name or username,
        "organisation": organisation,
        "password": _read_password(),
    }
    try:
        new = convert(values, NewUser)
    except CaliberError as exc:
        fail(exc.message)
    _check_log(settings, "refusing to create the user")
    operator = Actor.operator(getpass.getuser())
    view = run_with_database(settings, lambda db: AccountService(_ledger(db, settings)).create_user(operator, new))
    scope = view.depots + view.jurisdictions
    click.echo(f"created {view.user.username} ({view.user.role}){' in ' + ', '.join(scope) if scope else ''}")


def _read_password() -> str:
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password given: type one at the prompt or send it on standard input")
    return str(password)


@user.command("list")
def user_list() -> None:
    """List users with role, depots and status."""
    from rich.console import Console
    from rich.table import Table

    from caliber.accounts.actor import Actor
    from caliber.accounts.service import AccountService

    settings = load_or_exit()
    prepare_database(settings)
    operator = Actor.operator(getpass.getuser())
    views = run_with_database(settings, lambda db: AccountService(_ledger(db, settings)).users(operator))
    table = Table("username", "name", "role", "depots", "active")
    for view in views:
        u = view.user
        table.add_row(u.username, u.display_name, u.role, ", ".join(view.depots), "yes" if u.active else "no")
    Console().print(table)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write a backup of this deployment to FILE (a new tar file) while it runs: the database and the data dir's files.

    SQLite is copied with its online backup; PostgreSQL with pg_dump, of the snapshot the ledger's size is read in.
    """
    from caliber.backup import BackupError, make_backup

    settings = load_or_exit()
    prepare_database(settings, upgrade_sqlite=False)
    progress, tell = _steps()
    try:
        with progress:
            manifest = make_backup(settings, file, tell)
    except (BackupError, OSError) as exc:
        fail(f"backup failed: {exc}")
    click.echo(
        f"backup written to {file}: {manifest.database} database at revision {manifest.revision}, "
        f"ledger tree size {manifest.tree_size:,}, {len(manifest.members) - 1} files (mode 0600: it holds the keys)"
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Restore the backup FILE into this data dir and database, which must have no database yet.

    The restored ledger is verified before it takes its place: a restore that fails changes nothing.
    """
    from caliber.backup import BackupError, restore_backup

    settings = _settings_without_writing()
    entries: list[int] = []
    try:
        manifest = restore_backup(settings, file, lambda data_dir, url, manifest: entries.append(_check_restored(data_dir, url, manifest)))
    except (BackupError, OSError) as exc:
        fail(f"restore refused: {exc}")
    click.echo(
        f"restored {file} ({manifest.created_at}) into {settings.data_dir}: ledger OK, {entries[0]:,} entries; "
        "`caliber ledger check` compares the tables with a replay"
    )


def _settings_without_writing() -> Settings:
    """The settings, writing nothing into the data dir (not even a new secret key); a bad value exits 2."""
    from caliber.config import SettingsError

    try:
        return Settings.from_env(create=False)
    except SettingsError as exc:
        click.echo(f"caliber: {exc}", err=True)
        raise SystemExit(2) from None


def _check_restored(data_dir: Path, database_url: str, manifest: Any) -> int:
    """Verify a staged restore as its own deployment (its key names its origin); exit 1 naming what broke."""
    import os

    environ = {**os.environ, "CALIBER_DATA_DIR": str(data_dir), "CALIBER_DATABASE_URL": database_url}
    prepare_database(Settings.from_env(environ, create=False))
    report = _audit(Settings.from_env(environ, create=False), "restore refused (nothing was changed): the backup's ledger does not verify")
    if report.entries != manifest.tree_size:
        fail(f"restore refused (nothing was changed): the ledger holds {report.entries} entries where the backup said {manifest.tree_size}")
    return int(report.entries)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--depot", "depot_code", required=True, help="code of the depot taking the records in")
@click.option("--dry-run", is_flag=True, help="check every row and report; import nothing")
@click.option("--valid-only", is_flag=True, help="import the valid rows even when others have errors")
def import_file(file: Path, depot_code: str, *, dry_run: bool, valid_only: bool) -> None:
    """Import weapons and components, or ammunition lots, from a CSV or XLSX file (templates on /imports/)."""
    from caliber.accounts.actor import Actor
    from caliber.inventory.importer import Importer, ImportReport
    from caliber.inventory.items import ItemService

    settings = _prepared()
    if not dry_run:
        _check_log(settings, "refusing to import")
    operator = Actor.operator(getpass.getuser())

    async def work(db: Database) -> ImportReport:
        importer = Importer(ItemService(_ledger(db, settings), settings.data_dir / "photos"))
        progress, advance = _progress("checking rows", None)
        with progress:
            report = await importer.check(operator, file, depot_code, advance)
        _print_import_errors(report)
        if dry_run or (not report.clean and not valid_only):
            return report
        progress, advance = _progress("importing rows", report.rows)
        with progress:
            return await importer.run(operator, file, depot_code, valid_only=valid_only, checked=report, progress=advance)

    report = run_with_database(settings, work)
    summary = f"{report.rows} rows: {report.valid} valid, {report.error_count} with errors"
    if dry_run:
        click.echo(f"dry run: {summary}; {report.already_imported} of the valid rows were imported before")
        if not report.clean:
            sys.exit(1)
        return
    if not report.clean and not valid_only:
        fail(f"nothing imported: {summary}. Fix the file, or run again with --valid-only to import the valid rows")
    click.echo(
        f"imported {report.imported} new records into {depot_code.upper()} ({summary}; {report.valid - report.imported} were there already)"
    )


def _print_import_errors(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    if report.clean:
        return
    table = Table("row", "column", "reason", title=f"{report.error_count} row(s) with errors")
    for error in report.errors[:50]:
        table.add_row(str(error.row), error.column or "(row)", error.reason)
    Console(stderr=True).print(table)
    if len(report.errors) > 50:
        click.echo(f"... and more: the first {len(report.errors)} errors are kept; fix these and check again", err=True)


@main.group()
def ledger() -> None:
    """The custody ledger: verify, check, export, cosign."""


def _signer(settings: Settings, *, create: bool = True) -> Any:
    """The log's signer; without ``create`` a missing key is refused (a log that exists needs the key it was made with)."""
    from caliber.ledger.signer import LogSigner

    try:
        return LogSigner.for_data_dir(settings.log_origin, settings.data_dir, settings.log_key, create=create)
    except FileNotFoundError as exc:
        fail(f"{exc}, but the database already holds a log: restore the log-key file from a backup, or set CALIBER_LOG_KEY")
    except ValueError as exc:  # the data dir's key names another origin than CALIBER_LOG_ORIGIN
        fail(f"{exc}: a log's origin is fixed when it is created; unset CALIBER_LOG_ORIGIN or set it to the key's origin")


def _audit(settings: Settings, failure: str) -> Any:
    """Verify the whole ledger in the database (with a progress bar); on a failure, exit naming it after ``failure``."""
    from caliber.ledger.audit import AuditError, audit

    async def work(db: Database) -> Any:
        log = _ledger(db, settings)
        progress, advance = _progress("verifying the ledger", await log.size())
        with progress:
            return await audit(log, _signer(settings, create=False), advance)

    try:
        return run_with_database(settings, work)
    except AuditError as exc:
        fail(f"{failure}: {exc}")


def _steps() -> Any:
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


def _progress(description: str, total: int | None) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    )
    task = progress.add_task(description, total=total)
    return progress, lambda n: progress.advance(task, n)


@ledger.command("verify")
def ledger_verify() -> None:
    """Audit the whole ledger in the database: entries, chains, subtree hashes, checkpoints, signatures."""
    report = _audit(_prepared(), "ledger verification FAILED")
    click.echo(f"ledger OK: {report.entries} entries, {report.checkpoints} checkpoints, all signatures and subtree hashes verified")


@ledger.command("check")
def ledger_check() -> None:
    """Replay every event into an empty database and compare it with the live tables, row by row."""
    import tempfile
    from pathlib import Path

    from caliber import migrate
    from caliber.db import Database, create_engine
    from caliber.domains import registry
    from caliber.ledger.audit import replay

    settings = load_or_exit()
    prepare_database(settings)
    with tempfile.TemporaryDirectory() as folder:
        replay_url = f"sqlite+aiosqlite:///{Path(folder) / 'replay.db'}"
        migrate.upgrade(replay_url)

        async def work(db: Database) -> Any:
            empty = Database(create_engine(replay_url))
            try:
                progress, advance = _progress("replaying events", await _ledger(db, settings).size())
                with progress:
                    return await replay(db, empty, registry(), advance)
            finally:
                await empty.dispose()

        differences = run_with_database(settings, work)
    for difference in differences:
        click.echo(str(difference))
    if differences:
        fail(f"ledger check FAILED: {len(differences)} row(s) differ between the live tables and the ledger")
    click.echo("ledger check OK: replaying the ledger gives exactly the live tables")


@main.group()
def reports() -> None:
    """The Roadmap reports' figures."""


@reports.command("rebuild")
def reports_rebuild() -> None:
    """Rebuild the reports' projection from the whole ledger (a database from before the reports, or after a projection changed)."""
    from caliber.reports.projection import rebuild

    settings = load_or_exit()
    prepare_database(settings)

    async def work(db: Any) -> int:
        log = _ledger(db, settings)
        progress, advance = _progress("projecting entries", await log.size())
        with progress:
            return await rebuild(log, advance)

    entries = run_with_database(settings, work)
    click.echo(f"reports rebuilt from {entries:,} ledger entries")


@reports.command("kpis")
@click.option("--init", is_flag=True, help="copy the shipped defaults into the data dir, to edit there")
def reports_kpis(init: bool) -> None:
    """The Roadmap goals and KPIs in force, and the file they come from."""
    import shutil

    from rich.console import Console
    from rich.table import Table

    from caliber.reports.kpis import KPI_FILE, KpiFileError, load_roadmap, shipped_kpi_file

    settings = load_or_exit()
    if init:
        target = settings.data_dir / KPI_FILE
        if target.exists():
            raise click.ClickException(f"{target} exists already: edit it, or move it away first")
        shutil.copyfile(shipped_kpi_file(), target)
        click.echo(f"wrote {target}: edit it, then restart Caliber")
    try:
        roadmap = load_roadmap(settings.data_dir)
    except KpiFileError as exc:
        raise click.ClickException(str(exc)) from None
    table = Table("goal", "KPI", "name", "measure", "unit", "reported", "target", title=f"KPIs from {roadmap.source}")
    for kpi in roadmap.kpis:
        table.add_row(str(kpi.goal), kpi.key, kpi.name, kpi.measure, kpi.unit, kpi.period, kpi.target)
    Console().print(table)


@ledger.command("export")
@click.argument("bundle", type=click.Path(dir_okay=False, writable=True))
def ledger_export(bundle: str) -> None:
    """Write the ledger (entries, checkpoints, cosignatures) to one file for `caliber-verify`."""
    from caliber.ledger.audit import AuditError, check_log, export_bundle

    settings = _prepared()
    signers: list[Any] = []

    async def work(db: Database) -> int:
        log = _ledger(db, settings)
        signers.append(signer := _signer(settings, create=False))
        await check_log(log, signer)  # never export (and sign) a log this key does not sign, or a rolled-back one
        progress, advance = _progress("exporting entries", await log.size())
        with progress, open(bundle, "wb") as out:  # noqa: ASYNC230 (one sequential writer, nothing else waits)
            return await export_bundle(log, signer, out, advance)

    try:
        count = run_with_database(settings, work)
    except AuditError as exc:
        fail(f"not exported: {exc}")
    click.echo(f"exported {count} entries to {bundle}")
    click.echo(f"verify it anywhere with: caliber-verify {bundle} --log-key {signers[0].vkey}")


@ledger.command("events")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON Schema of every event type's data instead.")
def ledger_events(as_json: bool) -> None:
    """Print every custody event type and its fields (docs/events.md), or with --json their JSON Schema."""
    import json

    from caliber.domains import registry
    from caliber.ledger import eventdocs

    if as_json:
        click.echo(json.dumps(eventdocs.json_schema(registry()), indent=2, sort_keys=True))
    else:
        click.echo(eventdocs.markdown(registry()), nl=False)


@ledger.command("key")
def ledger_key() -> None:
    """Print the log's verifier key (to pin in caliber-verify and witnesses)."""
    click.echo(_signer(load_or_exit()).vkey)


@main.group()
def witness() -> None:
    """Witness keys: inspectors cosign the log's checkpoints with them."""


@witness.command("keygen")
@click.argument("name")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Where to keep the signer key (default: NAME.witness-key).")
def witness_keygen(name: str, out: str | None) -> None:
    """Make a witness key pair for an inspector: the signer key goes to a file (mode 0600), the verifier key is printed."""
    import os

    from caliber.ledger import note

    try:
        skey, vkey = note.generate_key(name, note.COSIGNATURE_V1)
    except note.NoteError as exc:
        fail(str(exc))
    path = out or f"{name.replace('/', '_')}.witness-key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(f"{path} exists already: a witness key is never overwritten")
    with os.fdopen(fd, "w") as handle:
        handle.write(skey + "\n")
    click.echo(f"signer key written to {path} (keep it offline)")
    click.echo(vkey)


@witness.command("add")
@click.argument("vkey")
def witness_add(vkey: str) -> None:
    """Register an inspector's witness verifier key with this log."""
    from caliber.accounts.actor import Actor
    from caliber.ledger.witness import WitnessService

    settings = _writable("refusing to register the witness")
    operator = Actor.operator(getpass.getuser())
    added = run_with_database(settings, lambda db: WitnessService(_ledger(db, settings)).register(operator, vkey.strip()))
    click.echo(f"witness {added.name} registered")


@ledger.command("cosign")
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False), help="The witness signer key file.")
@click.option("--log-key", required=True, help="The log's verifier key, pinned.")
@click.option(
    "--state", "state_dir", required=True, type=click.Path(file_okay=False), help="Folder remembering the last checkpoint cosigned."
)
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Consistency proof from the last cosigned size (JSON from /api/ledger/proof/consistency).",
)
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
def ledger_cosign(key_file: str, log_key: str, state_dir: str, proof_file: str | None, checkpoint: str) -> None:
    """Cosign a checkpoint offline, after checking it extends the last one cosigned; prints the add-checkpoint request."""
    import base64
    import json
    import time
    from pathlib import Path

    from caliber.ledger import merkle, note

    signed = Path(checkpoint).read_text()
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    last_file = state / "last-cosigned"
    try:
        new = note.parse_checkpoint(note.verify(signed, [log_key]))
        old = note.parse_checkpoint(note.verify(last_file.read_text(), [log_key])) if last_file.exists() else None
        proof = [base64.b64decode(p) for p in json.loads(Path(proof_file).read_text())["proof"]] if proof_file else []
        old_size, old_root = (old.size, old.root) if old else (0, merkle.EMPTY_ROOT)
        merkle.verify_consistency(old_size, new.size, proof, old_root, new.root)
        cosigned = note.cosign(signed, Path(key_file).read_text().strip(), int(time.time()))
    except (note.NoteError, merkle.ProofError, ValueError, KeyError) as exc:
        fail(f"not cosigned: {exc}")
    last_file.write_text(signed)
    lines = [f"old {old_size}", *(base64.b64encode(p).decode() for p in proof)]
    click.echo("\n".join(lines) + "\n\n" + cosigned, nl=False)
