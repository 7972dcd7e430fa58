"""``caliber ledger`` and ``caliber witness``: verify, check, export, cosign; witnesses and their keys."""

from __future__ import annotations

import getpass
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
    progress_bar,
    run_with_database,
    signer_of,
    writable,
)
from caliber.config import load_or_exit

if TYPE_CHECKING:
    from caliber.db import Database


@main.group()
def ledger() -> None:
    """The custody ledger: verify, check, export, cosign."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Audit the whole ledger in the database: entries, chains, subtree hashes, checkpoints, signatures."""
    report = audited(prepared(), "ledger verification FAILED")
    click.echo(f"ledger OK: {report.entries} entries, {report.checkpoints} checkpoints, all signatures and subtree hashes verified")


@ledger.command("check")
def ledger_check() -> None:
    """Replay every event into an empty database and compare it with the live tables, row by row."""
    import tempfile

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
                progress, advance = progress_bar("replaying events", await ledger_of(db, settings).size())
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


@ledger.command("export")
@click.argument("bundle", type=click.Path(dir_okay=False, writable=True))
def ledger_export(bundle: str) -> None:
    """Write the ledger (entries, checkpoints, cosignatures) to one file for `caliber-verify`."""
    from caliber.ledger.audit import AuditError, check_log, export_bundle

    settings = prepared()
    signers: list[Any] = []

    async def work(db: Database) -> int:
        log = ledger_of(db, settings)
        signers.append(signer := signer_of(settings, create=False))
        await check_log(log, signer)  # never export (and sign) a log this key does not sign, or a rolled-back one
        progress, advance = progress_bar("exporting entries", await log.size())
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
    click.echo(signer_of(load_or_exit()).vkey)


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

    settings = writable("refusing to register the witness")
    operator = Actor.operator(getpass.getuser())
    added = run_with_database(settings, lambda db: WitnessService(ledger_of(db, settings)).register(operator, vkey.strip()))
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
