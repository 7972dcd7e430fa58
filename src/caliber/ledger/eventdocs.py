"""``docs/events.md`` and the events' JSON Schema, written from the event structs of a registry.

For inspectors reading a bundle and for anyone writing another implementation:
every event type, what it records, and each field of its ``data``.
``caliber ledger events`` prints the document (``--json``: the schema); a test
fails when ``docs/events.md`` is not what this module writes.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import msgspec

from caliber.ledger.events import Event, field_docs, type_text
from caliber.ledger.registry import Registry

__all__ = ["json_schema", "markdown"]

ENVELOPE = [
    ("v", "integer", "The entry format's version: 1."),
    ("log", "string", "The log's origin (its name in every checkpoint), e.g. `caliber.example.org/ledger`."),
    ("seq", "integer", "The entry's index in the log, from 0."),
    ("time", "string", "When it was recorded: RFC 3339, UTC, with microseconds (`2026-11-28T08:12:29.123456Z`)."),
    ("actor", "object", "Who recorded it: `id` (the user's UUID, or null for the command line), `name`, `role`."),
    ("type", "string", "The event type: one of the headings below."),
    ("subjects", "list of string", "The records the event concerns, sorted: `item:<code>`, `depot:<uuid>`, ..."),
    ("data", "object", "The event's own fields, as given for its type below."),
    ("prev", "string or null", "The leaf hash of the entry before it (base64), null for the first."),
    ("subject_prev", "object", "For each subject that had an entry before, the index of its latest one."),
]


def _words(text: str) -> str:
    """Docstring text as Markdown (``code`` becomes `code`)."""
    return text.replace("``", "`")


def _summary(cls: type) -> str:
    return _words(inspect.cleandoc(cls.__doc__ or "").strip())


def _fields(cls: type[msgspec.Struct]) -> list[tuple[str, str, str, str | None]]:
    """Each field: its name in the JSON, its type, its meaning, and (when it may be absent) the value that absence means."""
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls, include_extras=True)
    return [
        (field.encode_name, type_text(hints[field.name]), _words(docs.get(field.name, "")), None if field.required else _default(field))
        for field in msgspec.structs.fields(cls)
    ]


def _default(field: msgspec.structs.FieldInfo) -> str:
    value = field.default_factory() if field.default is msgspec.NODEFAULT else field.default
    return msgspec.json.encode(value).decode()


def _nested(annotation: Any, into: dict[str, type[msgspec.Struct]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) and not issubclass(annotation, Event):
        if annotation.__name__ not in into:
            into[annotation.__name__] = annotation
            for hint in typing.get_type_hints(annotation, include_extras=True).values():
                _nested(hint, into)
        return
    for argument in typing.get_args(annotation):
        _nested(argument, into)


def _table(rows: list[tuple[str, str, str, str | None]]) -> list[str]:
    if not rows:
        return ["No fields.", ""]
    lines = ["| field | type | meaning |", "|---|---|---|"]
    for name, kind, doc, default in rows:
        optional = "" if default is None else f" (may be absent: then `{default}`)"
        meaning = doc.replace("\n", " ").replace("|", "\\|")
        lines.append(f"| `{name}` | {kind}{optional} | {meaning} |")
    return [*lines, ""]


def markdown(registry: Registry) -> str:
    """The whole of ``docs/events.md`` for ``registry``'s event types."""
    out = [
        "# Custody events",
        "",
        "<!-- Written by `caliber ledger events > docs/events.md` from the event structs; do not edit by hand. -->",
        "",
        "Every entry of the custody log is one event: a JSON object in RFC 8785",
        "canonical form, whose SHA-256 leaf hash (RFC 6962) is in the Merkle tree that",
        "the signed checkpoints commit to. This page lists every event type Caliber",
        "records, by domain, and the fields of each. `caliber ledger events --json`",
        "prints the same as a JSON Schema.",
        "",
        "## The envelope",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
        *(f"| `{name}` | {kind} | {doc} |" for name, kind, doc in ENVELOPE),
        "",
        "A field marked *may be absent* is left out when it has the value given",
        "(or was added after the first entries of its type were written): a reader",
        "takes that value when the field is missing.",
        "",
    ]
    nested: dict[str, type[msgspec.Struct]] = {}
    for domain in registry.domains:
        if not domain.events:
            continue
        out += [f"## {domain.domain.capitalize()}", ""]
        for name, cls in domain.events.items():
            out += [f"### `{name}`", "", _summary(cls), "", *_table(_fields(cls))]
            for hint in typing.get_type_hints(cls, include_extras=True).values():
                _nested(hint, nested)
    if nested:
        out += ["## Shapes inside events", ""]
        for title in sorted(nested):
            shape = nested[title]
            out += [f"### `{title}`", "", _summary(shape), "", *_table(_fields(shape))]
    return "\n".join(out).rstrip() + "\n"


def _structs(roots: list[type[Event]]) -> list[type[msgspec.Struct]]:
    nested: dict[str, type[msgspec.Struct]] = {}
    for cls in roots:
        for hint in typing.get_type_hints(cls, include_extras=True).values():
            _nested(hint, nested)
    return [*roots, *nested.values()]


def json_schema(registry: Registry) -> dict[str, Any]:
    """A JSON Schema (2020-12) of every event type's ``data``, the types as ``$defs`` named by event type."""
    structs = [registry.events[name] for name in registry.event_types]
    schemas, components = msgspec.json.schema_components(structs, ref_template="#/$defs/{name}")
    named = {cls.type: schema for cls, schema in zip(structs, schemas, strict=True)}
    for title, component in components.items():
        cls = next((c for c in _structs(structs) if c.__name__ == title), None)
        if cls is not None:
            for name, doc in field_docs(cls).items():
                if name in component.get("properties", {}):
                    component["properties"][name]["description"] = doc
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Caliber custody event data, by event type",
        "$defs": components,
        "properties": named,
    }
