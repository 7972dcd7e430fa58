"""Custody events as typed records: each event type is one struct, declared by its domain in its ``events.py``.

An entry of the log is an envelope (``time``, ``actor``, ``type``,
``subjects``, ``data`` and the chain fields the store adds); the struct is
its ``data``. A service builds the struct and records it; the applier, the
replay and the verifier read the same struct back; ``docs/events.md`` is
written from the structs (``caliber ledger events``). A field added to an
event type later has a default, so that entries written before it still
decode, replay and verify unchanged.
"""

from __future__ import annotations

import ast
import datetime as dt
import enum
import inspect
import textwrap
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

import msgspec

__all__ = ["Change", "Event", "EventShapeError", "Recorded", "field_docs", "type_text"]


class EventShapeError(ValueError):
    """An entry's ``data`` does not have the shape its event type declares."""


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """The ``data`` of one custody event type; a subclass names its ``type`` (``"depot.registered"``)."""

    type: ClassVar[str]

    def encode(self) -> dict[str, Any]:
        """The JSON value written to the log (UUIDs and enums as strings)."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]

    @classmethod
    def decode(cls, data: Any) -> Self:
        """The struct of an entry's ``data``; :class:`EventShapeError` naming the field when it does not fit."""
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as error:
            raise EventShapeError(f"{cls.type}: {error}") from None


E = TypeVar("E", bound=Event)


class Change(msgspec.Struct, frozen=True):
    """One corrected field of a ``*.changed`` event: the value before and after."""

    old: Any
    """The value before the change."""
    new: Any
    """The value after it."""


@dataclass(frozen=True, slots=True)
class Recorded(Generic[E]):
    """One recorded event as its applier sees it: the envelope, with ``data`` typed."""

    type: str
    time: str
    """When it was recorded (RFC 3339, UTC, with microseconds)."""
    actor: dict[str, Any]
    """Who recorded it: ``{"id", "name", "role"}``."""
    subjects: list[str]
    data: E
    seq: int | None = None
    """Its index in the log (``None`` while it is being written)."""

    @property
    def moment(self) -> dt.datetime:
        """``time`` as an aware datetime."""
        return dt.datetime.fromisoformat(self.time)


def field_docs(cls: type[msgspec.Struct]) -> dict[str, str]:
    """The docstring written under each field of a struct and its bases (``name: str`` then ``\"\"\"...\"\"\"``)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, msgspec.Struct)) or klass.__module__ == "msgspec":
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0]
        assert isinstance(body, ast.ClassDef)
        for statement, following in zip(body.body, [*body.body[1:], None], strict=True):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs


def type_text(annotation: Any) -> str:
    """A field's type in the words of JSON: ``string (UUID)``, ``integer or null``, ``one of "a", "b"``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return type_text(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return "one of " + ", ".join(f'"{value}"' for value in typing.get_args(annotation))
    if origin in (list, tuple, frozenset, set):
        args = typing.get_args(annotation)
        return f"list of {type_text(args[0])}" if args else "list"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"object of {type_text(value)} by {type_text(key)}"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return "one of " + ", ".join(f'"{member.value}"' for member in annotation)
        if issubclass(annotation, msgspec.Struct):
            return f"`{annotation.__name__}`"
        named = {str: "string", int: "integer", float: "number", bool: "boolean", bytes: "string (base64)"}
        if annotation in named:
            return named[annotation]
        if annotation.__name__ == "UUID":
            return "string (UUID)"
        if annotation in (dt.datetime, dt.date):
            return f"string ({annotation.__name__})"
    if annotation is Any:
        return "any JSON value"
    return str(annotation)
