"""The event structs: one per type, documented, matching every logged entry, and docs/events.md written from them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import msgspec
import pytest

from caliber.domains import registry
from caliber.ledger import eventdocs
from caliber.ledger.events import Event, EventShapeError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def bundle_entries(bundle: Path) -> list[dict[str, object]]:
    """Every entry of an exported bundle, as logged."""
    lines = bundle.read_bytes().splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(b"entries "))
    return [json.loads(line) for line in lines[start + 1 :]]


def test_docs_events_md_is_written_from_the_structs() -> None:
    written = (ROOT / "docs" / "events.md").read_text()
    assert written == eventdocs.markdown(registry()), "docs/events.md is stale: run `caliber ledger events > docs/events.md`"


def test_every_event_type_is_one_documented_struct() -> None:
    undocumented = []
    for name in registry().event_types:
        cls = registry().event(name)
        assert issubclass(cls, Event)
        assert cls.type == name
        if not (cls.__doc__ or "").strip() or cls.__doc__ == Event.__doc__:
            undocumented.append(name)
    assert undocumented == []
    assert f"### `{registry().event_types[0]}`" in eventdocs.markdown(registry())


@pytest.mark.parametrize("folder", sorted(FIXTURES.glob("ledger-v*")), ids=lambda folder: folder.name)
def test_every_old_entry_reads_back_through_its_struct_unchanged(folder: Path) -> None:
    """Decoding an entry's data and writing it again gives the same JSON: no logged field is unknown to its struct.

    Only a field added after the entry was written may appear, with its default.
    """
    entries = bundle_entries(folder / "ledger.bundle")
    assert len(entries) > 300
    for entry in entries:
        cls = registry().event(str(entry["type"]))
        data = entry["data"]
        assert isinstance(data, dict)
        again = cls.decode(data).encode()
        added = {key: value for key, value in again.items() if key not in data}
        defaults = {field.encode_name: field.default for field in msgspec.structs.fields(cls) if not field.required}
        assert {key: again[key] for key in data} == data, f"entry {entry['seq']} ({entry['type']}) changes when read back"
        assert all(key in defaults and defaults[key] == value for key, value in added.items()), (entry["seq"], added)


@pytest.mark.parametrize("folder", sorted(FIXTURES.glob("ledger-v*")), ids=lambda folder: folder.name)
def test_the_json_schema_accepts_every_old_entry(folder: Path) -> None:
    schema = eventdocs.json_schema(registry())
    for entry in bundle_entries(folder / "ledger.bundle"):
        one = {"$schema": schema["$schema"], "$defs": schema["$defs"], **schema["properties"][entry["type"]]}
        errors = [error.message for error in jsonschema_rs.validator_for(one).iter_errors(entry["data"])]
        assert errors == [], (entry["seq"], entry["type"], errors)


def test_an_entry_of_the_wrong_shape_is_refused_by_name() -> None:
    cls = registry().event("depot.registered")
    with pytest.raises(EventShapeError, match=r"depot.registered: .*\$\.id"):
        cls.decode({"id": "not-a-uuid", "code": "X", "name": "X", "kind": "army_depot", "jurisdiction": "RS", "address": ""})
    with pytest.raises(EventShapeError, match="kind"):
        cls.decode(
            {"id": "0" * 8 + "-0000-7000-8000-" + "0" * 12, "code": "X", "name": "X", "kind": "castle", "jurisdiction": "RS", "address": ""}
        )
