"""Custody timelines and exports in words: who did what, from where to where, with names instead of ids."""

from __future__ import annotations

import csv
import html
import io
import re
import zoneinfo
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sa_event

from caliber.accounts.models import Role
from caliber.db import Database
from caliber.domains import registry
from caliber.items.service import ItemService
from caliber.labels.codes import format_code
from caliber.ledger import sentences
from caliber.transfers.schemas import NewTransfer
from caliber.transfers.service import TransferService
from tests.factories import OPERATOR, Factory, login

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _rows(page: str) -> list[str]:
    """The timeline table's rows as text, tags stripped and whitespace squeezed."""
    body = page.split('<table class="timeline">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr id="entry-\d+">(.*?)</tr>', body, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


async def test_a_timeline_says_who_moved_a_weapon_from_where_to_where_by_name(
    client: httpx.AsyncClient, factory: Factory, items: ItemService, transfers: TransferService
) -> None:
    sender = await factory.depot(code="RS-KG", name="Kragujevac")
    receiver = await factory.depot(code="RS-NS", name="Novi Sad")
    hall = await factory.location(sender, "Building A")
    first, second = await factory.location(sender, "Shelf 1", hall), await factory.location(sender, "Shelf 2", hall)
    dock = await factory.location(receiver, "Dock")
    item = await factory.item(sender, location_id=first.id, serial="Ђ-4471")
    await items.move(OPERATOR, [item.code], second.id)
    sent = await transfers.dispatch(OPERATOR, NewTransfer(sender.id, receiver.id, [item.code], seals=["S-1"]))
    await transfers.receive(OPERATOR, sent.transfer.id, [item.code], dock.id)
    inspector = await factory.user(Role.INSPECTOR, display_name="Jelena Petrović")
    await login(client, inspector.user.username)

    page = (await client.get("/ledger/timeline", params={"subject": item.code})).text
    rows = _rows(page)
    assert len(rows) == 4, rows
    assert "Taken into custody at RS-KG Kragujevac · Building A / Shelf 1: assault rifle Zastava M70 7.62x39mm" in rows[0]
    assert "serial: Ђ-4471" in rows[0]
    assert "Moved from RS-KG Kragujevac · Building A / Shelf 1 to RS-KG Kragujevac · Building A / Shelf 2" in rows[1]
    assert "Dispatched from RS-KG Kragujevac · Building A / Shelf 2 to RS-NS Novi Sad" in rows[2]
    assert "seals: S-1" in rows[2]
    assert "Received from RS-KG Kragujevac · Building A / Shelf 2 to RS-NS Novi Sad · Dock" in rows[3]
    assert "tests (command line)" in rows[0]
    assert format_code(item.code) in page
    table = page.split('<table class="timeline">', 1)[1].split("<details>", 1)[0]
    assert not UUID_TEXT.search(table), "a timeline row shows an internal id"
    indexes = re.findall(r'<tr id="entry-(\d+)">\s*<td><a href="/ledger/entries/(\d+)"', page)
    assert len(indexes) == 4
    assert all(a == b for a, b in indexes), "each entry's number links to its own page"

    # The item page shows the same words.
    await login(client, (await factory.user(Role.DEPOT_CLERK, [receiver])).user.username)
    item_page = (await client.get(f"/items/{item.code}")).text
    assert "Moved from RS-KG Kragujevac · Building A / Shelf 1 to RS-KG Kragujevac · Building A / Shelf 2" not in item_page
    assert "Moved from another depot to another depot" in html.unescape(item_page)
    assert "Received from another depot to RS-NS Novi Sad · Dock" in html.unescape(item_page)
    assert "Kragujevac" not in item_page, "depot staff of Novi Sad read no name inside Kragujevac"


async def test_every_event_type_has_words() -> None:
    """A new event type without a sentence of its own fails here (it would read as its raw type and fields)."""
    told = {name[1:].replace("_", ".", 1) for name in dir(sentences._Story) if name.startswith("_") and "." not in name}
    record_verbs = {name.removeprefix("_record_") for name in dir(sentences._Story) if name.startswith("_record_")}
    known = registry().event_types
    assert {"item.moved", "transfer.received", "destruction.certified", "report.target_set"} <= set(known)
    wordless = []
    for event_type in known:
        kind, _, verb = event_type.partition(".")
        if event_type in told or (kind in ("item", "lot") and verb in record_verbs):
            continue
        wordless.append(event_type)
    assert wordless == []


async def test_names_for_a_page_of_events_take_a_few_statements_whatever_its_length(db: Database, factory: Factory) -> None:
    depots = [await factory.depot() for _ in range(3)]
    places = [await factory.location(depot) for depot in depots for _ in range(4)]
    events: list[dict[str, Any]] = [
        {
            "type": "item.moved",
            "actor": {"name": f"user{n}"},
            "data": {"depot_id": str(place.depot_id), "from_location": str(places[(n - 1) % len(places)].id), "to_location": str(place.id)},
        }
        for n, place in enumerate(places * 50)
    ]
    statements: list[str] = []
    engine = db.engine.sync_engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        async with db.read() as session:
            names = await sentences.names_for(session, await factory.actor(Role.ADMIN), events)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    assert len(events) == 600
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 8, statements
    assert names.place(places[5].depot_id, places[5].id) == f"{depots[1].code} {depots[1].name} · {places[5].path}"


async def test_item_and_lot_exports_carry_depot_and_location_names(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot(code="AL-TR", name="Tiranë")
    shelf = await factory.location(depot, "Rafti 3")
    item = await factory.item(depot, location_id=shelf.id)
    lot = await factory.lot(depot)
    await login(client, (await factory.user(Role.DEPOT_MANAGER, [depot])).user.username)
    for url, code in (("/api/items/export.csv", item.code), ("/api/lots/export.csv", lot.code)):
        response = await client.get(url, params={"depot": depot.code})
        assert response.status_code == 200, response.text
        (row,) = [r for r in csv.DictReader(io.StringIO(response.text)) if r["code"] == code]
        assert (row["depot_code"], row["depot_name"]) == ("AL-TR", "Tiranë")
        assert row["location_path"] == ("Rafti 3" if code == item.code else "")
        assert row["depot_id"] == str(depot.id)


@pytest.mark.parametrize("kind", ["item", "lot"])
async def test_sentences_never_name_a_depot_the_reader_may_not_see(factory: Factory, db: Database, kind: str) -> None:
    hidden, seen = await factory.depot(name="Hidden depot"), await factory.depot(name="Seen depot")
    reader = await factory.actor(Role.DEPOT_CLERK, [seen])
    place = await factory.location(hidden, "Secret room")
    events = [
        {"type": f"{kind}.moved", "time": "2026-06-10T08:10:00Z", "actor": {"name": "x", "role": "depot_clerk"}, "data": {
            "depot_id": str(hidden.id), "from_location": None, "to_location": str(place.id)}},
        {"type": "transfer.dispatched", "time": "2026-06-10T09:00:00Z", "actor": {"name": "x", "role": "depot_clerk"}, "data": {
            "from_depot_id": str(hidden.id), "to_depot_id": str(seen.id), "items": ["X"], "lots": []}},
    ]  # fmt: skip
    async with db.read() as session:
        names = await sentences.names_for(session, reader, events)
    lines = sentences.event_lines(list(enumerate(events)), names, zoneinfo.ZoneInfo("Europe/Belgrade"), "X")
    text = " ".join(line.what + " ".join(line.details) for line in lines)
    assert "Hidden" not in text
    assert "Secret" not in text
    assert lines[0].what == "Moved from no shelf to another depot"
    assert lines[1].what == f"Dispatched from another depot to {seen.code} {seen.name}"
    assert lines[0].when == "2026-06-10 10:10 Europe/Belgrade"
