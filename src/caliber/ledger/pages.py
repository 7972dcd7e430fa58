"""The ledger's pages: the signed checkpoint and its witnesses, a search by subject, entries with their proofs,
and the bundle an inspector verifies offline with ``caliber-verify``.

The pages show what the API answers, scoped the same way (``caliber.ledger.scope``): an entry about no record
in the reader's scope shows its index and leaf hash only; a timeline out of scope is not found.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shlex
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Stream, Template
from sqlalchemy import select

from caliber.accounts.actor import Actor
from caliber.config import Settings
from caliber.labels.codes import CodeError, read_code
from caliber.ledger import store
from caliber.ledger.audit import export_bundle
from caliber.ledger.models import LedgerCosignature, LedgerWitness
from caliber.ledger.routes import MAX_INDEX, b64, checkpoint_with_cosignatures, ledger_scope, proven_entry, scoped_timeline
from caliber.ledger.scope import LedgerScope, reads_everything
from caliber.ledger.sentences import event_lines, names_for, read_timeline
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.times import local_time
from caliber.web import page

__all__ = ["LedgerPages", "bundle_name", "subject_of", "verify_command"]

RECENT = 25
"""Entries on one page of the recent list."""
SUBJECT_KINDS = ("depot", "location", "transfer", "stockcheck", "printer", "layout", "witness", "target", "user")
"""Record keys a search takes as typed (``depot:{id}`` …); anything else is read as a scanned label code."""
_RECORD_KEY = re.compile(rf"(?:{'|'.join(SUBJECT_KINDS)}):[\w.:@+-]+")
Index = Annotated[int, PathParameter(ge=0, le=MAX_INDEX)]
Before = Annotated[int | None, QueryParameter(ge=1, le=MAX_INDEX)]


def subject_of(text: str) -> str:
    """The ledger subject a search means: a record key as typed, or the label code found in a scan, a URL
    ``…/s/CODE`` or text typed through another keyboard layout; :class:`CodeError` says why there is none."""
    text = text.strip()
    if _RECORD_KEY.fullmatch(text):
        return text
    return read_code(text)


def bundle_name(origin: str, size: int) -> str:
    """The file name of the bundle of ``origin`` up to ``size`` (letters, digits, dots and dashes only)."""
    return f"caliber-bundle-{re.sub(r'[^A-Za-z0-9.-]+', '-', origin).strip('-')}-{size}.txt"


def verify_command(origin: str, size: int, log_key: str, witness_keys: list[str]) -> str:
    """The shell command that verifies the downloaded bundle offline, the log key and witness keys pinned."""
    words = ["caliber-verify", bundle_name(origin, size), "--log-key", log_key]
    for vkey in witness_keys:
        words += ["--witness", vkey]
    return shlex.join(words)


def timeline_url(subject: str) -> str:
    """The timeline page of ``subject``."""
    return "/ledger/timeline?" + urlencode({"subject": subject})


def event_time(event: dict[str, Any], zone: ZoneInfo) -> str:
    """An event's ``time`` (RFC 3339, UTC) in local time, to the second."""
    return local_time(event["time"], zone, seconds=True)


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A registered witness and, where it cosigned the latest checkpoint, when."""

    name: str
    key_id: str
    vkey: str
    cosigned: str | None


async def _cosigners(ledger: Ledger, size: int, zone: ZoneInfo) -> list[Cosigner]:
    """Every registered witness, those that cosigned the checkpoint of ``size`` with the time they did."""
    async with ledger.db.read() as session:
        witnesses = list(await session.scalars(select(LedgerWitness).order_by(LedgerWitness.name)))
        rows = await session.execute(select(LedgerCosignature.witness, LedgerCosignature.timestamp).where(LedgerCosignature.size == size))
        when: dict[str, int] = {name: timestamp for name, timestamp in rows}  # noqa: C416 (rows, not pairs, to the type checker)
    return [
        Cosigner(
            w.name,
            w.vkey.split("+")[1],
            w.vkey,
            local_time(dt.datetime.fromtimestamp(when[w.name], dt.UTC), zone, seconds=True) if w.name in when else None,
        )
        for w in witnesses
    ]


async def _recent(ledger: Ledger, scope: LedgerScope, actor: Actor, before: int, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Entries below ``before``, newest first, each with its event and its sentence where ``actor`` reads it
    (None elsewhere); the names of the whole page are resolved together."""
    async with ledger.db.read() as session:
        found = await store.read_entries(session, max(0, before - RECENT), before)
    events = [entry.event for entry in found]
    readable = await scope.readable(actor, events)
    shown_events = [event if ok else None for event, ok in zip(events, readable, strict=True)]
    async with ledger.db.read() as session:
        names = await names_for(session, actor, shown_events)
    lines = event_lines([(e.index, event) for e, event in zip(found, shown_events, strict=True)], names, zone)
    shown = [
        {"index": e.index, "leaf_hash": b64(e.leaf_hash), "event": event, "line": line}
        for e, event, line in zip(found, shown_events, lines, strict=True)
    ]
    return shown[::-1]


class LedgerPages(Controller):
    """Pages for inspectors and everyone who reads the ledger: checkpoint, search, entries, timelines, bundle."""

    path = "/ledger"
    include_in_schema = False
    dependencies = {"read_scope": Provide(ledger_scope, sync_to_thread=False)}

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        *,
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        read_scope: NamedDependency[LedgerScope],
        settings: NamedDependency[Settings],
        before: Before = None,
        q: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        """The latest signed checkpoint with its witnesses, the search, the recent entries and the bundle.

        ``q`` searches a subject: found, the page sends the reader to its timeline; otherwise it says why.
        """
        values, error = {"q": q or ""}, None
        if q is not None and q.strip():
            try:
                return Redirect(timeline_url(subject_of(q)))
            except CodeError as exc:
                error = f"{exc} (or type a record key such as depot:…)"
        checkpoint, text = await checkpoint_with_cosignatures(ledger, signer)
        before = min(before or checkpoint.size, checkpoint.size)
        cosigners = await _cosigners(ledger, checkpoint.size, settings.zone)
        context = {
            "checkpoint": checkpoint,
            "checkpoint_text": text,
            "origin": ledger.origin,
            "root": b64(checkpoint.root),
            "signed_at": local_time(checkpoint.created_at, settings.zone, seconds=True),
            "cosigners": cosigners,
            "vkey": signer.vkey,
            "entries": await _recent(ledger, read_scope, actor, before, settings.zone),
            "before": before,
            "newer": min(before + RECENT, checkpoint.size) if before < checkpoint.size else None,
            "older": before - RECENT if before > RECENT else None,
            "bundle_whole": reads_everything(actor),
            "bundle_name": bundle_name(ledger.origin, checkpoint.size),
            "command": verify_command(ledger.origin, checkpoint.size, signer.vkey, [c.vkey for c in cosigners]),
            "values": values,
            "error": error,
            "event_time": lambda event: event_time(event, settings.zone),
            "timeline_url": timeline_url,
        }
        return page(request, "ledger/index.html", status_code=422 if error else 200, **context)

    @get("/entries/{index:int}")
    async def entry(
        self,
        request: Request[Any, Any, Any],
        *,
        index: Index,
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        read_scope: NamedDependency[LedgerScope],
        settings: NamedDependency[Settings],
    ) -> Template:
        """One entry with its leaf hash and inclusion proof (its content only where the reader's scope has it)."""
        proven = await proven_entry(ledger, signer, read_scope, actor, index)
        event = proven.entry.event
        context: dict[str, Any] = {
            "entry": proven.entry,
            "proof": [b64(p) for p in proven.proof],
            "size": proven.checkpoint.size,
            "root": b64(proven.checkpoint.root),
            "event_json": event_json(event) if event is not None else None,
            "when": event_time(event, settings.zone) if event is not None else None,
            "timeline_url": timeline_url,
        }
        return page(request, "ledger/entry.html", **context)

    @get("/entries/{index:int}/proof", media_type="text/plain; charset=utf-8")
    async def entry_proof(
        self,
        *,
        index: Index,
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        read_scope: NamedDependency[LedgerScope],
    ) -> Response[str]:
        """The entry's ``c2sp.org/tlog-proof@v1`` bundle as a file (hashes and the signed checkpoint: no content)."""
        proven = await proven_entry(ledger, signer, read_scope, actor, index)
        headers = {"Content-Disposition": f'attachment; filename="caliber-entry-{index}.tlog-proof"'}
        return Response(proven.entry.tlog_proof, media_type="text/plain; charset=utf-8", headers=headers)

    @get("/bundle")
    async def bundle(
        self,
        *,
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        read_scope: NamedDependency[LedgerScope],
        size: Before = None,
    ) -> Stream:
        """The verification bundle up to the checkpoint of ``size`` (default: the latest): the bytes of every entry the
        reader may read, and of the others only their leaf hashes (every leaf, so every checkpoint's root is checked)."""
        readable = None if reads_everything(actor) else functools.partial(read_scope.readable, actor)
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the stream once sent)
        try:
            size = await export_bundle(ledger, signer, spool, upto=size, readable=readable)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        headers = {"Content-Disposition": f'attachment; filename="{bundle_name(ledger.origin, size)}"'}
        return Stream(_chunks(spool), media_type="text/plain; charset=utf-8", headers=headers)

    @get("/timeline")
    async def timeline_page(
        self,
        request: Request[Any, Any, Any],
        *,
        actor: NamedDependency[Actor],
        ledger: NamedDependency[Ledger],
        signer: NamedDependency[LogSigner],
        read_scope: NamedDependency[LedgerScope],
        settings: NamedDependency[Settings],
        subject: FromQuery[str],
    ) -> Template:
        """The custody timeline of ``subject`` in words: who did what, from where to where, when, each entry linking
        to its page with the inclusion proof against the checkpoint."""
        timeline = await scoped_timeline(ledger, signer, read_scope, actor, subject.strip())
        story = await read_timeline(ledger.db, actor, timeline, settings.zone)
        return page(request, "ledger/timeline.html", timeline=timeline, story=story, vkey=signer.vkey)


def event_json(event: dict[str, Any]) -> str:
    """An event's JSON, keys in canonical order, indented for reading (the hashed bytes are the compact form)."""
    return json.dumps(event, indent=2, sort_keys=True, ensure_ascii=False)


async def _chunks(spool: IO[bytes], size: int = 1 << 16) -> AsyncIterator[bytes]:
    try:
        while chunk := spool.read(size):
            yield chunk
    finally:
        spool.close()
