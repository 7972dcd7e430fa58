"""``caliber backup``, ``caliber restore`` and ``caliber import``: a deployment's data in and out."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from caliber.cli.base import (
    audited,
    fail,
    ledger_of,
    main,
    prepare_database,
    prepared,
    print_import_errors,
    progress_bar,
    refuse_forked_log,
    run_with_database,
    settings_without_writing,
    step_bars,
)
from caliber.config import Settings, load_or_exit

if TYPE_CHECKING:
    from caliber.db import Database


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write a backup of this deployment to FILE (a new tar file) while it runs: the database and the data dir's files.

    SQLite is copied with its online backup; PostgreSQL with pg_dump, of the snapshot the ledger's size is read in.
    """
    from caliber.backup import BackupError, make_backup

    settings = load_or_exit()
    prepare_database(settings, upgrade_sqlite=False)
    progress, tell = step_bars()
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

    settings = settings_without_writing()
    entries: list[int] = []
    try:
        manifest = restore_backup(settings, file, lambda data_dir, url, manifest: entries.append(_check_restored(data_dir, url, manifest)))
    except (BackupError, OSError) as exc:
        fail(f"restore refused: {exc}")
    click.echo(
        f"restored {file} ({manifest.created_at}) into {settings.data_dir}: ledger OK, {entries[0]:,} entries; "
        "`caliber ledger check` compares the tables with a replay"
    )


def _check_restored(data_dir: Path, database_url: str, manifest: Any) -> int:
    """Verify a staged restore as its own deployment (its key names its origin); exit 1 naming what broke."""
    import os

    environ = {**os.environ, "CALIBER_DATA_DIR": str(data_dir), "CALIBER_DATABASE_URL": database_url}
    prepare_database(Settings.from_env(environ, create=False))
    report = audited(Settings.from_env(environ, create=False), "restore refused (nothing was changed): the backup's ledger does not verify")
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
    from caliber.imports.importer import Importer, ImportReport
    from caliber.items.makers import load_makers
    from caliber.items.service import ItemService

    settings = prepared()
    if not dry_run:
        refuse_forked_log(settings, "refusing to import")
    operator = Actor.operator(getpass.getuser())

    async def work(db: Database) -> ImportReport:
        importer = Importer(ItemService(ledger_of(db, settings), settings.data_dir / "photos", load_makers(settings.data_dir)))
        progress, advance = progress_bar("checking rows", None)
        with progress:
            report = await importer.check(operator, file, depot_code, advance)
        print_import_errors(report)
        if dry_run or (not report.clean and not valid_only):
            return report
        progress, advance = progress_bar("importing rows", report.rows)
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
