"""Normalising what people type about weapons and lots: serial and identity keys, masses in grams."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["UNREADABLE_SERIALS", "grams", "identity_key", "kilograms", "serial_key", "squeeze"]

UNREADABLE_SERIALS = frozenset({"ILLEGIBLE", "REMOVED", "NONE", "UNKNOWN"})
"""Serials that identify nothing: records carrying them rely on their label and are never flagged as duplicates."""


def squeeze(text: str) -> str:
    """Trimmed, with runs of white space made one space."""
    return " ".join(text.split())


def serial_key(serial: str) -> str:
    """The serial as searches and duplicate checks compare it: capitals, no white space."""
    return "".join(serial.split()).upper()


def identity_key(manufacturer: str, model: str, calibre: str, serial: str) -> str:
    """Manufacturer, model, calibre and serial, case- and space-insensitive: equal keys may be one weapon."""
    return "|".join([squeeze(manufacturer).casefold(), squeeze(model).casefold(), squeeze(calibre).casefold(), serial_key(serial)])


def grams(kilograms_text: str) -> int:
    """A mass given as a decimal string of kilograms (to the gram), in grams."""
    value = Decimal(kilograms_text) * 1000
    if value != value.to_integral_value():
        raise ValueError(f"{kilograms_text} kg is finer than a gram")
    return int(value)


def kilograms(grams_value: int) -> str:
    """Grams as the shortest decimal string of kilograms: 12500 -> ``12.5``, 3000 -> ``3``."""
    whole, rest = divmod(grams_value, 1000)
    return f"{whole}.{rest:03d}".rstrip("0").rstrip(".") if rest else str(whole)
