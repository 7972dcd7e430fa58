"""Rules every way in must keep, checked over the whole app so a new route or field cannot skip them:
every integer a request carries is bounded, and every request struct checks its text (:class:`caliber.schemas.Input`).
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import types
import typing
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from caliber import schemas
from caliber.schemas import Input

SOURCE = Path(schemas.__file__).parent
LIMIT = 2**63
UNBOUNDED_PARAMETERS: dict[str, str] = {}
"""``"PATH name"``: why an integer route parameter needs no bounds (none does today)."""


def _handlers(app: Litestar) -> Iterator[tuple[str, HTTPRouteHandler]]:
    seen: set[int] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if id(handler) not in seen:
                seen.add(id(handler))
                yield route.path, handler


def _is_int(annotation: Any) -> bool:
    kinds = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)
    return int in kinds


def _bounded(low: int | None, high: int | None) -> bool:
    return low is not None and high is not None and -LIMIT < low <= high < LIMIT


def test_every_integer_parameter_of_every_route_is_bounded(app: Litestar) -> None:
    """Query, path and header integers: a value out of range is Litestar's 400, never a number SQL cannot hold."""
    unbounded = []
    for path, handler in _handlers(app):
        for name, parameter in handler.parsed_fn_signature.parameters.items():
            if name == "data" or not _is_int(parameter.annotation):
                continue
            rule = parameter.kwarg_definition
            low = getattr(rule, "ge", None) if getattr(rule, "ge", None) is not None else getattr(rule, "gt", None)
            high = getattr(rule, "le", None) if getattr(rule, "le", None) is not None else getattr(rule, "lt", None)
            if not _bounded(low, high) and f"{path} {name}" not in UNBOUNDED_PARAMETERS:
                unbounded.append(f"{path} {name}")
    assert unbounded == [], f"integer parameters without ge= and le= (Annotated[int, QueryParameter(ge=, le=)]): {unbounded}"


def _structs(annotation: Any) -> Iterator[type[msgspec.Struct]]:
    """The structs a type holds: itself, in lists, unions and as fields, all the way down."""
    info = msgspec.inspect.type_info(annotation)
    yield from _structs_in(info, set())


def _structs_in(info: msgspec.inspect.Type, seen: set[type]) -> Iterator[type[msgspec.Struct]]:
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return
        seen.add(info.cls)
        yield info.cls
        for field in info.fields:
            yield from _structs_in(field.type, seen)
    elif isinstance(info, msgspec.inspect.Metadata):
        yield from _structs_in(info.type, seen)
    elif isinstance(info, msgspec.inspect.UnionType):
        for inner in info.types:
            yield from _structs_in(inner, seen)
    elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.SetType, msgspec.inspect.VarTupleType)):
        yield from _structs_in(info.item_type, seen)


def _converted() -> Iterator[type[msgspec.Struct]]:
    """Every struct named as the target of ``convert(data, Struct)`` or ``msgspec.convert(...)`` in the source."""
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[1], ast.Name):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called == "convert":
                    module = importlib.import_module(".".join(path.relative_to(SOURCE.parent).with_suffix("").parts))
                    target = getattr(module, node.args[1].id, None)
                    if isinstance(target, type) and issubclass(target, msgspec.Struct):
                        yield target


def _request_structs(app: Litestar) -> set[type[msgspec.Struct]]:
    found: set[type[msgspec.Struct]] = set()
    for _, handler in _handlers(app):
        body = handler.parsed_fn_signature.parameters.get("data")
        if body is not None:
            found.update(_structs(body.annotation))
    for target in _converted():
        found.update(_structs(target))
    return found


def test_the_walk_finds_the_request_structs_of_json_bodies_and_forms(app: Litestar) -> None:
    names = {struct.__name__ for struct in _request_structs(app)}
    assert {"NewItem", "NewLot", "NewDepot", "NewUser", "LoginForm", "NewDestruction", "ObserverInput", "NewTransfer", "Scan"} <= names


def test_every_request_struct_checks_its_text(app: Litestar) -> None:
    """JSON bodies, forms and imported rows all become these structs: each one's text goes through ``Input``."""
    unchecked = sorted(s.__qualname__ for s in _request_structs(app) if not issubclass(s, Input))
    assert unchecked == [], f"request structs that are not caliber.schemas.Input (their text is not checked): {unchecked}"


def test_every_integer_field_of_a_request_struct_is_bounded(app: Litestar) -> None:
    unbounded = []
    for struct in _request_structs(app):
        for field in msgspec.inspect.type_info(struct).fields:  # type: ignore[attr-defined]
            for integer in _integers(field.type):
                low = integer.ge if integer.ge is not None else integer.gt
                high = integer.le if integer.le is not None else integer.lt
                if not _bounded(low, high):
                    unbounded.append(f"{struct.__name__}.{field.name}")
    assert unbounded == [], f"integer fields without msgspec.Meta(ge=, le=): {sorted(unbounded)}"


def _integers(info: msgspec.inspect.Type) -> Iterator[msgspec.inspect.IntType]:
    if isinstance(info, msgspec.inspect.IntType):
        yield info
    elif isinstance(info, msgspec.inspect.Metadata):
        yield from _integers(info.type)
    elif isinstance(info, msgspec.inspect.UnionType):
        for inner in info.types:
            yield from _integers(inner)
    elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.SetType, msgspec.inspect.VarTupleType)):
        yield from _integers(info.item_type)


def test_one_line_text_refuses_every_invisible_character_of_this_python_unicode() -> None:
    """The hand-written class holds Unicode's Cc, Cf, Zl and Zp, and beyond them only characters this Python's
    Unicode does not assign yet (format characters of a later Unicode)."""
    pattern: re.Pattern[str] = schemas._REFUSED_ON_ONE_LINE
    missed, extra = [], []
    for code in range(sys.maxunicode + 1):
        category, refused = unicodedata.category(chr(code)), bool(pattern.fullmatch(chr(code)))
        if category in {"Cc", "Cf", "Zl", "Zp"} and not refused:
            missed.append(f"U+{code:04X}")
        elif refused and category not in {"Cc", "Cf", "Zl", "Zp", "Cn"}:
            extra.append(f"U+{code:04X}")
    assert (missed, extra) == ([], []), f"Unicode {unicodedata.unidata_version}"
