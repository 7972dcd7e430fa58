"""Field types and the one conversion of request data into schema structs, shared by every domain."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import msgspec

from caliber.errors import InvalidInput

__all__ = ["Code", "Labelled", "Name", "Text", "convert"]

T = TypeVar("T")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
"""A person's or place's name: 1 to 200 characters, not blank."""
Text = Annotated[str, msgspec.Meta(max_length=400)]
"""Free text such as an address or organisation, up to 400 characters."""
Code = Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
"""A short code people type: capital letters, digits and hyphens."""


class Labelled(enum.StrEnum):
    """An enumeration whose values people read: ``open_burning`` is shown as "Open burning"."""

    @property
    def label(self) -> str:
        """The value as people write it."""
        return self.value.replace("_", " ").capitalize()


def convert(data: Mapping[str, Any], schema: type[T]) -> T:
    """``data`` (a parsed form or JSON object) as ``schema``, or :class:`InvalidInput` naming the field."""
    try:
        return msgspec.convert(dict(data), schema, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rpartition("$.")[2] if "$." in message else None
        raise InvalidInput(message, field=field) from None
