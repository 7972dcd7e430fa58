"""Which weapons are traced before their destruction is approved, per jurisdiction: data, checked when Caliber starts.

Caliber ships ``roadmap/tracing.toml`` (seized and found weapons, in all six
jurisdictions) and reads ``tracing.toml`` from the data dir instead when there
is one (``caliber destruction trace-rule --init`` copies the shipped file there
to edit). A manifest holding a weapon whose jurisdiction lists its intake source
is approved only once that weapon's trace has ended (see
:func:`caliber.destruction.rules.approve`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caliber.config import SettingsError, resource_path
from caliber.items.lifecycle import IntakeSource
from caliber.reports.service import JURISDICTIONS
from caliber.tracing.lifecycle import TRACED_SOURCES

__all__ = ["RULE_FILE", "TraceRule", "TraceRuleError", "load_trace_rule", "shipped_rule_file"]

RULE_FILE = "tracing.toml"
_TRACED = [source.value for source in IntakeSource if source in TRACED_SOURCES]


class TraceRuleError(SettingsError):
    """The tracing rule file cannot be used: the message names the file, the entry and what is wrong."""


@dataclass(frozen=True)
class TraceRule:
    """The intake sources traced before destruction in each jurisdiction, and the file they came from."""

    sources: Mapping[str, frozenset[IntakeSource]]
    source: Path

    def gated(self, jurisdiction: str) -> frozenset[IntakeSource]:
        """The intake sources whose weapons in ``jurisdiction`` are traced (or excepted) before destruction."""
        return self.sources.get(jurisdiction, frozenset())


def shipped_rule_file() -> Path:
    """The default shipped with Caliber."""
    return resource_path("roadmap") / RULE_FILE


def load_trace_rule(data_dir: Path | None) -> TraceRule:
    """The data dir's ``tracing.toml`` if there is one (None: none), else the shipped default; :class:`TraceRuleError`
    naming what is wrong."""
    path = data_dir / RULE_FILE if data_dir is not None else None
    if path is None or not path.is_file():
        path = shipped_rule_file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TraceRuleError(f"{path}: {exc}") from exc
    if unknown := sorted(set(raw) - {"jurisdiction"}):
        raise TraceRuleError(f"{path}: unknown entry {unknown[0]!r}: the file holds only [jurisdiction.XX] tables")
    tables = raw.get("jurisdiction", {})
    if not isinstance(tables, dict):
        raise TraceRuleError(f"{path}: jurisdiction must be tables, one a jurisdiction ([jurisdiction.AL])")
    if unknown := sorted(set(tables) - set(JURISDICTIONS)):
        raise TraceRuleError(f"{path}: jurisdiction {unknown[0]!r} is not one of {', '.join(JURISDICTIONS)}")
    if missing := [code for code in JURISDICTIONS if code not in tables]:
        raise TraceRuleError(f"{path}: jurisdiction {missing[0]} is missing: give it sources = [] to hold nothing back there")
    return TraceRule({code: _sources(f"{path}: jurisdiction {code}", tables[code]) for code in JURISDICTIONS}, path)


def _sources(where: str, entry: Any) -> frozenset[IntakeSource]:
    if not isinstance(entry, dict):
        raise TraceRuleError(f"{where} must be a table with sources = [...]")
    if unknown := sorted(set(entry) - {"sources"}):
        raise TraceRuleError(f"{where}: unknown key {unknown[0]!r}: a jurisdiction has only sources")
    given = entry.get("sources")
    if not isinstance(given, list) or not all(isinstance(value, str) for value in given):
        raise TraceRuleError(f'{where} needs sources = a list of intake sources (["seized", "found"], or [] for none)')
    for value in given:
        if value not in _TRACED:
            known = "has a known origin and is never traced" if value in {s.value for s in IntakeSource} else "is no intake source"
            raise TraceRuleError(f"{where}: {value!r} {known}; sources are some of {', '.join(_TRACED)}")
    return frozenset(IntakeSource(value) for value in given)
