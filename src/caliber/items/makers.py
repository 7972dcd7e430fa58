"""The reference names of makers and their models: the list weapon intake suggests from and records by.

Caliber ships ``makers.toml`` beside this module and reads ``makers.toml`` from the data dir instead
when there is one (``caliber items makers --init`` copies the shipped list there to edit). A name is
known when it matches the canonical name or an accepted variant of a maker, ignoring case, accents,
spaces and punctuation, with Cyrillic read as Latin; an unknown maker is allowed and shown flagged.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caliber.config import SettingsError
from caliber.items.records import identity_key

__all__ = ["MAKER_FILE", "Maker", "MakerFileError", "MakerList", "Model", "load_makers", "name_key", "shipped_maker_file"]

MAKER_FILE = "makers.toml"

_CYRILLIC = str.maketrans("абвгдежзијйклмнопрстћуфхцчшыэёѓќ", "abvgdezzijjklmnoprstcufhccsyeegk", "ъь")
_CYRILLIC_PAIRS = str.maketrans({"ђ": "dj", "љ": "lj", "њ": "nj", "џ": "dz", "ѕ": "dz", "щ": "sc", "ю": "ju", "я": "ja"})
_LATIN = str.maketrans({"đ": "dj", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i"})
_DIGRAPHS = (("zh", "z"), ("sh", "s"), ("ch", "c"), ("kh", "h"))
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def name_key(text: str) -> str:
    """``text`` as names are compared: Cyrillic read as Latin, small letters without accents, no spaces or
    punctuation (so "ZASTAVA-Arms", "zastava arms" and "Застава Армс" compare equal)."""
    folded = text.casefold().translate(_CYRILLIC).translate(_CYRILLIC_PAIRS).translate(_LATIN)
    plain = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    for digraph, letter in _DIGRAPHS:
        plain = plain.replace(digraph, letter)
    return _NOT_ALNUM.sub("", plain)


class MakerFileError(SettingsError):
    """The makers file cannot be used: the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class Model:
    """A model of a maker and the calibres it is found in."""

    name: str
    calibres: tuple[str, ...]


@dataclass(frozen=True)
class Maker:
    """A maker: its canonical name, the other spellings that mean it, and its models."""

    name: str
    variants: tuple[str, ...]
    models: tuple[Model, ...]

    @property
    def spellings(self) -> tuple[str, ...]:
        """The canonical name and every variant."""
        return (self.name, *self.variants)


@dataclass(frozen=True)
class MakerList:
    """The reference list in force, and the file it came from."""

    makers: tuple[Maker, ...]
    source: Path

    def __post_init__(self) -> None:
        by_key = {name_key(spelling): maker for maker in self.makers for spelling in maker.spellings}
        object.__setattr__(self, "_by_key", by_key)

    def maker(self, name: str) -> Maker | None:
        """The maker ``name`` means, if it is in the list."""
        found: Maker | None = self.__dict__["_by_key"].get(name_key(name))
        return found

    def normalise(self, name: str) -> tuple[str | None, bool]:
        """The canonical name of ``name`` and True, or (None, False) when no maker of the list has that spelling."""
        maker = self.maker(name)
        return (maker.name, True) if maker else (None, False)

    def recorded(self, name: str) -> str:
        """What intake records for ``name``: its canonical name when it is known, else ``name`` as given."""
        return self.normalise(name)[0] or name

    def known(self, name: str) -> bool:
        """``name`` is the name or a variant of a maker in the list."""
        return self.maker(name) is not None

    def suggest(self, prefix: str = "") -> list[str]:
        """Canonical names of the makers one of whose spellings starts with ``prefix`` (all of them for ""), by name."""
        start = name_key(prefix)
        return sorted(m.name for m in self.makers if any(name_key(s).startswith(start) for s in m.spellings))

    def models_of(self, maker: str | None = None) -> list[tuple[str, Model]]:
        """(canonical maker, model) pairs of ``maker``, or of every maker when it is None or not in the list."""
        found = self.maker(maker) if maker else None
        return [(m.name, model) for m in ((found,) if found else self.makers) for model in m.models]

    def calibres(self) -> list[str]:
        """Every calibre the list names, sorted."""
        return sorted({c for m in self.makers for model in m.models for c in model.calibres})

    def spellings_of(self, name: str) -> list[str]:
        """``name`` and, when it is known, every spelling of its maker: what records of that maker may carry."""
        maker = self.maker(name)
        return sorted({name, *(maker.spellings if maker else ())})

    def identity_keys(self, manufacturer: str, model: str, calibre: str, serial: str) -> list[str]:
        """Every identity key (:func:`caliber.items.records.identity_key`) a record of this weapon may carry: one for each
        spelling of its maker, so records typed "Zastava" and "ZASTAVA ARMS" are compared as one maker."""
        return sorted({identity_key(spelling, model, calibre, serial) for spelling in self.spellings_of(manufacturer)})


def shipped_maker_file() -> Path:
    """The reference list shipped with Caliber."""
    return Path(__file__).with_name(MAKER_FILE)


def load_makers(data_dir: Path | None = None) -> MakerList:
    """The data dir's ``makers.toml`` if there is one, else the shipped list; :class:`MakerFileError` if it is wrong."""
    path = data_dir / MAKER_FILE if data_dir is not None else shipped_maker_file()
    if not path.is_file():
        path = shipped_maker_file()
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MakerFileError(f"{path}: {exc}") from exc
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, 1) if line.strip().replace(" ", "") == "[[maker]]"]
    if set(raw) - {"maker"} or not isinstance(raw.get("maker"), list) or not raw["maker"]:
        raise MakerFileError(f"{path}: it needs one or more [[maker]] entries and nothing else")
    headers += [1] * (len(raw["maker"]) - len(headers))  # entries written otherwise than under [[maker]]
    makers: list[Maker] = []
    owners: dict[str, int] = {}
    for n, (entry, line) in enumerate(zip(raw["maker"], headers, strict=False)):
        maker = _maker(_Where(path, lines, line), entry)
        for spelling in maker.spellings:
            if (other := owners.setdefault(name_key(spelling), n)) != n:
                where = _Where(path, lines, line).at(spelling)
                raise MakerFileError(f"{where}: {spelling!r} is already a spelling of {makers[other].name!r}")
        makers.append(maker)
    return MakerList(tuple(makers), path)


@dataclass(frozen=True)
class _Where:
    """An entry of the file: its path and the line of its ``[[maker]]``, to name in an error."""

    path: Path
    lines: list[str]
    line: int

    def at(self, text: str) -> str:
        """The file and the first line of this entry that holds ``text`` (else the entry's first line)."""
        quoted = f'"{text}"'
        found = next((n for n in range(self.line, len(self.lines) + 1) if quoted in self.lines[n - 1]), self.line)
        return f"{self.path}, line {found}"

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}"


def _texts(where: _Where, entry: dict[str, Any], name: str, longest: int) -> tuple[str, ...]:
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MakerFileError(f"{where}: {name} must be a list of texts")
    for text in value:
        if not text.strip() or len(text) > longest or text != " ".join(text.split()):
            raise MakerFileError(f"{where.at(text)}: {text!r} in {name} must be 1 to {longest} characters, single-spaced")
    return tuple(value)


def _maker(where: _Where, entry: dict[str, Any]) -> Maker:
    if extra := set(entry) - {"name", "variants", "models"}:
        raise MakerFileError(f"{where}: a [[maker]] takes name, variants and models, not {', '.join(sorted(extra))}")
    name = entry.get("name")
    if not isinstance(name, str):
        raise MakerFileError(f"{where}: the [[maker]] needs name = a text")
    (name,) = _texts(where, {"name": [name]}, "name", 120)
    models = entry.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        raise MakerFileError(f"{where.at(name)}: models of {name!r} must be a list of {{ name = ..., calibres = [...] }}")
    found: list[Model] = []
    for model in models:
        if set(model) != {"name", "calibres"} or not isinstance(model["name"], str):
            raise MakerFileError(f"{where.at(name)}: each model of {name!r} needs a name and calibres, and nothing else")
        (model_name,) = _texts(where, {"name": [model["name"]]}, "name", 120)
        calibres = _texts(where, model, "calibres", 40)
        if not calibres:
            raise MakerFileError(f"{where.at(model_name)}: model {model_name!r} of {name!r} needs at least one calibre")
        if any(name_key(m.name) == name_key(model_name) for m in found):
            raise MakerFileError(f"{where.at(model_name)}: model {model_name!r} is listed twice for {name!r}")
        found.append(Model(model_name, calibres))
    return Maker(name, _texts(where, entry, "variants", 120), tuple(found))
