"""Field types and the one conversion of request data into schema structs, shared by every domain."""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import msgspec

from caliber.errors import FieldError, InvalidInput
from caliber.forms import decode, label, refusal

__all__ = [
    "LINES",
    "SECRET",
    "Code",
    "Input",
    "Labelled",
    "Lines",
    "Name",
    "Text",
    "clean_text",
    "convert",
]

T = TypeVar("T")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
"""A person's or place's name: 1 to 200 characters, not blank."""
Text = Annotated[str, msgspec.Meta(max_length=400)]
"""Free text on one line, such as an organisation, up to 400 characters."""
LINES = {"text": "lines"}
"""``msgspec.Meta(extra=LINES)`` marks text that may run over several lines (notes, addresses, statements)."""
SECRET = {"text": "secret"}
"""``msgspec.Meta(extra=SECRET)`` marks text kept exactly as typed (passwords): never normalised or refused."""
Lines = Annotated[str, msgspec.Meta(max_length=400, extra=LINES)]
"""Free text that may run over several lines, such as an address, up to 400 characters."""
Code = Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
"""A short code people type: capital letters, digits and hyphens."""


class Labelled(enum.StrEnum):
    """An enumeration whose values people read: ``open_burning`` is shown as "Open burning"."""

    @property
    def label(self) -> str:
        """The value as people write it."""
        return self.value.replace("_", " ").capitalize()


def convert(data: Mapping[str, Any], schema: type[T]) -> T:
    """``data`` (a parsed form or JSON object) as ``schema``, or :class:`InvalidInput` listing every field refused,
    each in a plain sentence (:func:`caliber.forms.decode`)."""
    return decode(data, schema)


def validation_problem(message: str) -> tuple[str, str]:
    """The field (``""`` if none) and the reason in a msgspec message such as ``Invalid enum value 'x' - at `$.un_type```."""
    reason, _, where = message.partition(" - at ")
    if where.startswith("`$."):
        return where[3:].split("`")[0].split("[")[0].split(".")[0], reason
    if "required field `" in message:
        field = message.split("`")[1]
        return field, f"{field} is required"
    return "", message


# Characters that would make text display differently than it is stored. Everywhere: C0 and C1 controls (but tab
# and line feed where text runs over lines) and the bidirectional embeddings, overrides and isolates (Unicode
# UAX #9 §2: U+202A-202E, U+2066-2069). On one line (serials, names, codes) also every invisible format
# character (Unicode category Cf: direction marks U+200E/U+200F/U+061C, zero-width spaces and joiners, soft
# hyphen, ...) and the line and paragraph separators (Zl, Zp).
_REFUSED_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_REFUSED_ON_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def clean_text(text: str, field: str, *, lines: bool = False) -> str:
    """``text`` in Unicode NFC (line breaks as ``\\n`` where ``lines``), or :class:`InvalidInput` naming ``field``
    if it holds a character that would make it display differently than stored."""
    text = unicodedata.normalize("NFC", text)
    if lines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if found := (_REFUSED_IN_LINES if lines else _REFUSED_ON_ONE_LINE).search(text):
        character = f"U+{ord(found.group()):04X}"
        plain = f"{label(field)} holds a hidden control or direction character ({character}): type it again without it"
        raise InvalidInput(
            f"{field}: contains a control or direction-override character ({character}) that would "
            "make it display differently than stored; type it again without it",
            field=field,
            errors=[FieldError(field, plain)],
        )
    return text


# What pages and documents write out visibly: the one-line set, but line breaks (LF, CR) and tabs as they are.
_HIDDEN_WHEN_SHOWN = re.compile(_REFUSED_ON_ONE_LINE.pattern.replace("\x00-\x1f", "\x00-\x08\x0b\x0c\x0e-\x1f", 1))


def visible(text: str) -> str:
    """``text`` as people should see it: every character :func:`clean_text` refuses written out as ``⟨U+202E⟩``.

    Pages, certificates and labels show stored text through this, so a record kept from before the input rules
    (or written by hand into the database) shows what it holds instead of reordering or hiding part of itself.
    """
    if _HIDDEN_WHEN_SHOWN.search(text) is None:
        return text
    return _HIDDEN_WHEN_SHOWN.sub(lambda found: f"⟨U+{ord(found.group()):04X}⟩", text)


class Input(msgspec.Struct):
    """Base of every request struct: its text is checked and put in NFC (:func:`clean_text`) however it arrives
    (JSON, form, imported file, command line, code), since msgspec runs ``__post_init__`` on each."""

    def __post_init__(self) -> None:
        refused: list[InvalidInput] = []
        for name, lines in _text_fields(type(self)).items():
            try:
                setattr(self, name, _cleaned(getattr(self, name), name, lines))
            except InvalidInput as exc:
                refused.append(exc)
        if len(refused) == 1:
            raise refused[0]
        if refused:  # every field at once, as a form shows them
            raise refusal([error for exc in refused for error in exc.errors])

    @classmethod
    def refused_text(cls, values: Mapping[str, Any]) -> list[FieldError]:
        """The fields among ``values`` whose text :func:`clean_text` refuses, so a form lists them with the rest."""
        refused: list[FieldError] = []
        for name, lines in _text_fields(cls).items():
            try:
                _cleaned(values.get(name), name, lines)
            except InvalidInput as exc:
                refused += exc.errors
        return refused


def _cleaned(value: Any, name: str, lines: bool) -> Any:
    """A field's value with its text (alone or in a list) cleaned by :func:`clean_text`."""
    if type(value) is str:
        return clean_text(value, name, lines=lines)
    if isinstance(value, list):
        return [clean_text(v, name, lines=lines) if type(v) is str else v for v in value]
    return value


@functools.cache
def _text_fields(schema: type[Input]) -> dict[str, bool]:
    """The fields of ``schema`` that hold text (alone, optional or in a list), each with whether it may run over lines."""
    fields: dict[str, bool] = {}
    for field in msgspec.inspect.type_info(schema).fields:  # type: ignore[attr-defined]
        kinds = _text_kinds(field.type)
        if kinds and "secret" not in kinds:
            fields[field.name] = "lines" in kinds
    return fields


def _text_kinds(info: msgspec.inspect.Type) -> set[str]:
    """``{"line"}``, ``{"lines"}`` or ``{"secret"}`` for a text type (inside unions and lists too); empty for others."""
    if isinstance(info, msgspec.inspect.Metadata):
        inner = _text_kinds(info.type)
        return {(info.extra or {}).get("text", kind) for kind in inner}
    if isinstance(info, msgspec.inspect.StrType):
        return {"line"}
    if isinstance(info, msgspec.inspect.UnionType):
        return set().union(*(_text_kinds(t) for t in info.types))
    if isinstance(info, msgspec.inspect.ListType):
        return _text_kinds(info.item_type)
    return set()
