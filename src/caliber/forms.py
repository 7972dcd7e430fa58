"""Reading a submitted form (or JSON object) into a request struct, with every field's error at once in plain words.

Each field is checked on its own against its type and constraints (``msgspec.inspect``), so one mistake does not
hide the next; each refusal is a sentence naming the field as the form labels it ("Year of manufacture must be a
year, like 1987"), built from the field's type, never msgspec's own wording.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from caliber.errors import FieldError, InvalidInput

__all__ = ["LABELS", "PATTERNS", "decode", "describe", "label", "refusal"]

T = TypeVar("T")

LABELS = {
    "un_type": "UN SALW type",
    "eu_category": "EU category",
    "kpi": "KPI",
    "dpi": "Resolution",
    "size": "Label size",
    "manifest_sha256": "Manifest hash",
    "parent_code": "Comes from weapon",
    "parent_id": "Parent location",
    "case_reference": "Legal basis / case reference",
    "lot_number": "Lot or batch number",
    "q": "Search",
}
"""Fields whose label on the forms is not their name in words."""

PATTERNS = {
    r"\S": "is required",
    r"^[A-Z0-9][A-Z0-9-]*$": "must be capital letters, digits and hyphens, like RS-BG-01",
    r"^[A-Z]{2}$": "must be a two-letter code, like RS",
    r"^[0-9]{10}$": "must be a label code of 10 digits",
    r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,3})?$": "must be a number of kilograms, like 12.5",
    r"^[a-z0-9][a-z0-9._-]*$": "can hold only small letters, digits, dots, hyphens and underscores, like j.petrovic",
    r"^[^/]*\S[^/]*$": "is required and cannot hold “/”",
    r"^\s*\d{1,15}(\.\d{1,3})?\s*$": "must be a number, like 5000 or 120.5",
    r"^[0-9a-f]{64}$": "must be the 64-character hash shown on the page",
}
"""What a text pattern asks for, in words (a pattern ``^(A|B)$`` of choices needs none)."""

_SENTENCES: dict[type[mi.Type], str] = {
    mi.FloatType: "{name} must be a number, like 12.5",
    mi.BoolType: "{name} must be yes or no",
    mi.EnumType: "Choose one of the listed {plural}",
    mi.LiteralType: "Choose one of the listed {plural}",
    mi.UUIDType: "Choose the {lower}",
    mi.DateType: "{name} must be a date, like 2026-12-03",
    mi.DateTimeType: "{name} must be a date and time, like 2026-12-03 09:30",
}
"""The sentence for a field of each type that has no constraints to tell."""
_CHOICES = re.compile(r"^\^\(([\w|]+)\)\$$")
_BIG = 10**6  # bounds at or past this are limits of storage, not of what people type: left unsaid


def label(field: str) -> str:
    """The field as the form labels it: ``year_of_manufacture`` is "Year of manufacture", ``depot_id`` "Depot"."""
    if field in LABELS:
        return LABELS[field]
    words = field.removesuffix("_id").removesuffix("_kg").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def decode(data: Mapping[str, Any], schema: type[T]) -> T:
    """``data`` as ``schema``, or :class:`InvalidInput` listing every field it refuses, each in a plain sentence."""
    if not isinstance(data, Mapping):
        raise InvalidInput("the request must be an object of named fields", errors=[FieldError("", "Send the form's fields")])
    if problems := _problems(data, schema):
        raise refusal(problems, schema)
    try:
        return msgspec.convert(dict(data), schema, strict=False)
    except msgspec.ValidationError as exc:  # a rule across fields that no single field breaks
        raise InvalidInput(f"{label(schema.__name__)} is not valid: check the fields and send it again") from exc


def refusal(errors: list[FieldError], schema: type[Any] | None = None) -> InvalidInput:
    """One :class:`InvalidInput` for every field refused (in the order of ``schema``'s fields when given): its message
    joins theirs, ``field`` is the first."""
    if schema is not None:
        order = list(_fields(schema))
        errors = sorted(errors, key=lambda e: order.index(e.field) if e.field in order else len(order))
    return InvalidInput("; ".join(e.message for e in errors), field=errors[0].field or None, errors=errors)


def _problems(data: Mapping[str, Any], schema: type[Any]) -> list[FieldError]:
    problems: list[FieldError] = []
    fields = _fields(schema)
    for name, (annotation, info, required) in fields.items():
        if name not in data:
            if required:
                problems.append(FieldError(name, f"{label(name)} is required"))
            continue
        try:
            msgspec.convert(data[name], annotation, strict=False)
        except (msgspec.ValidationError, InvalidInput):
            problems += _refused(name, info, data[name])
    if refused_text := getattr(schema, "refused_text", None):  # text with hidden characters (caliber.schemas.Input)
        named = {p.field for p in problems}
        problems += refused_text({name: value for name, value in data.items() if name in fields and name not in named})
    if _forbids_unknown(schema):
        problems += [FieldError(name, f"{name} is not asked for here") for name in data if name not in fields]
    return problems


def _fields(schema: type[Any]) -> dict[str, tuple[Any, mi.Type, bool]]:
    """Each field of ``schema`` (see :func:`_read_fields`), read once per struct."""
    hashable: Any = schema
    return _read_fields(hashable)


@functools.cache
def _read_fields(schema: Any) -> dict[str, tuple[Any, mi.Type, bool]]:
    """Each field of ``schema``: its annotation, its type as :mod:`msgspec.inspect` reads it, and whether it is required."""
    hints = typing.get_type_hints(schema, include_extras=True)
    info = mi.type_info(schema)
    return {f.encode_name: (hints[f.name], f.type, f.required) for f in info.fields}  # type: ignore[attr-defined]


def _forbids_unknown(schema: type[Any]) -> bool:
    return bool(getattr(getattr(schema, "__struct_config__", None), "forbid_unknown_fields", False))


def _refused(name: str, info: mi.Type, value: Any) -> list[FieldError]:
    """The refusals of one field; a list of structs (the scans of a count) names each element refused."""
    kind = _unwrapped(info)
    item = _unwrapped(kind.item_type) if isinstance(kind, mi.ListType) else None
    if isinstance(kind, mi.ListType) and isinstance(item, mi.StructType) and isinstance(value, list) and _sized(kind, value):
        one = label(name).removesuffix("s")
        refused = []
        for position, element in enumerate(value):
            inner = _problems(element, item.cls) if isinstance(element, Mapping) else [FieldError("", "its fields are missing")]
            refused += [FieldError(f"{name}[{position}].{e.field}", f"{one} {position + 1}: {e.message}") for e in inner]
        if refused:
            return refused
    return [FieldError(name, _sentence(label(name), info, value))]


def _sized(info: mi.ListType, value: list[Any]) -> bool:
    return len(value) >= (info.min_length or 0) and (info.max_length is None or len(value) <= info.max_length)


def _sentence(name: str, info: mi.Type, value: Any) -> str:
    """Why ``value`` is refused for the field labelled ``name``, as a sentence."""
    info = _unwrapped(info)
    if isinstance(info, mi.StrType) and isinstance(value, str):
        return _text_sentence(name, info, value)
    if isinstance(info, mi.IntType) and _converts(value, int) and not isinstance(value, bool):
        return f"{name} {_int_phrase(name, info, msgspec.convert(value, int, strict=False))}"
    if isinstance(info, mi.ListType) and isinstance(value, list) and not _sized(info, value):
        return _list_sentence(name, info, value)
    return describe(name, info) or f"{name} is not valid"


def describe(name: str, info: mi.Type) -> str | None:
    """What the field labelled ``name`` takes, as the sentence shown when it gets something else (``None``: no
    wording for this type yet, which the tests refuse)."""
    info = _unwrapped(info)
    if sentence := _SENTENCES.get(type(info)):
        return sentence.format(name=name, lower=_lower(name), plural=_plural(_lower(name)))
    match info:
        case mi.IntType():
            return f"{name} {_int_phrase(name, info)}"
        case mi.StrType():
            return _text_rule(name, info)
        case mi.ListType():
            if isinstance(_unwrapped(info.item_type), mi.EnumType | mi.LiteralType):
                return f"Choose only from the listed {_lower(name)}"
            return describe(f"Each of the {_lower(name)}", info.item_type)
        case mi.UnionType():
            described = [describe(name, t) for t in info.types if not isinstance(t, mi.NoneType)]
            return None if None in described else described[0]
        case mi.StructType():
            inner = [describe(label(f.name), f.type) for f in info.fields]
            return None if None in inner else f"{name} needs {', '.join(label(f.name).lower() for f in info.fields if f.required)}"
    return None


def _text_sentence(name: str, info: mi.StrType, value: str) -> str:
    if info.min_length and not value.strip():
        return f"{name} is required"
    if info.min_length and len(value) < info.min_length:
        return f"{name} must be at least {info.min_length} characters"
    if info.max_length is not None and len(value) > info.max_length:
        return f"{name} can be at most {info.max_length} characters"
    return _text_rule(name, info) or f"{name} is not valid"


def _text_rule(name: str, info: mi.StrType) -> str | None:
    if info.pattern is None:
        if info.min_length and info.min_length > 1:
            return f"{name} must be at least {info.min_length} characters"
        return f"{name} can be at most {info.max_length} characters" if info.max_length else f"{name} must be text"
    if choices := _CHOICES.match(info.pattern):
        return f"{name} must be one of {', '.join(choices.group(1).split('|'))}"
    phrase = PATTERNS.get(info.pattern)
    return phrase and f"{name} {phrase}"


def _int_phrase(name: str, info: mi.IntType, value: int | None = None) -> str:
    """What a whole-number field takes; for a ``value`` out of range, the bound it passed (even a large one)."""
    low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else None)
    high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else None)
    if "year" in name.lower():
        return f"must be a year from {low} to {high}" if value is not None and low and high else "must be a year, like 1987"
    if value is not None and high is not None and value > high:
        return f"must be a whole number from {low} to {high}" if low is not None else f"must be a whole number of {high} or less"
    if low is not None and high is not None and abs(low) < _BIG and abs(high) < _BIG:
        return f"must be a whole number from {low} to {high}"
    if low is not None and abs(low) < _BIG:
        return f"must be a whole number of {low} or more"
    if high is not None and abs(high) < _BIG:
        return f"must be a whole number of {high} or less"
    return "must be a whole number"


def _list_sentence(name: str, info: mi.ListType, value: list[Any]) -> str:
    if info.min_length and len(value) < info.min_length:
        if isinstance(_unwrapped(info.item_type), mi.EnumType | mi.LiteralType):
            return f"Choose at least {'one' if info.min_length == 1 else info.min_length} of the {_lower(name)}"
        return f"{name} needs at least {info.min_length}" if info.min_length > 1 else f"{name} needs at least one"
    return f"{name} can have at most {info.max_length}"


def _unwrapped(info: mi.Type) -> mi.Type:
    """The type inside metadata, and inside an optional (``X | None``) union."""
    if isinstance(info, mi.Metadata):
        return _unwrapped(info.type)
    if isinstance(info, mi.UnionType):
        kinds = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(kinds) == 1:
            return _unwrapped(kinds[0])
    return info


def _converts(value: Any, kind: type) -> bool:
    try:
        msgspec.convert(value, kind, strict=False)
    except msgspec.ValidationError:
        return False
    return True


def _lower(name: str) -> str:
    """A label inside a sentence: "Hazard division" as "hazard division", "UN SALW type" as it is."""
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def _plural(words: str) -> str:
    if words.endswith("y"):
        return words[:-1] + "ies"
    return words if words.endswith("s") else words + "s"
