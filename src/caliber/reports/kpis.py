"""The Roadmap goals and KPIs as data: a TOML file the deployment edits, checked when Caliber starts.

The Roadmap's numbered KPI definitions are not public in full, so Caliber
ships defaults for Goals 5, 6 and 7 (``roadmap/kpis.toml``, the Roadmap
2018-2024) and reads ``kpis.toml`` from the data dir instead when there is one.
The set of the Roadmap 2025-2030 ships beside it (``roadmap/kpis-2025-2030.toml``):
``caliber reports kpis --init --set 2025-2030`` puts it in force. Each KPI names
one of the :data:`MEASURES` Caliber computes from its records; the file's
``name`` says which set the reports follow.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caliber.config import SettingsError, resource_path

if TYPE_CHECKING:
    from caliber.reports.service import Figures

__all__ = [
    "KPI_FILE",
    "KPI_SETS",
    "MEASURES",
    "Goal",
    "Kpi",
    "KpiFileError",
    "Measure",
    "Roadmap",
    "load_kpi_file",
    "load_roadmap",
    "shipped_kpi_file",
]

KPI_FILE = "kpis.toml"
KPI_SETS = {"2018-2024": "kpis.toml", "2025-2030": "kpis-2025-2030.toml"}
"""The KPI sets shipped, by the Roadmap's years, and their files in ``roadmap/`` (the first is the default)."""
PERIODS = ("half-year", "year")
TARGETS = ("annual", "clear", "none")
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,20}$")


@dataclass(frozen=True)
class Measure:
    """Something Caliber counts: how to read it from a period's :class:`Figures`, its unit, and whether periods add up."""

    unit: str
    value: Callable[[Figures], float]
    additive: bool = True
    """A year's figure is the sum of its half-years' (so it can have an annual target)."""
    decimals: int = 0
    part: str = "counts"
    """The part of the figures it is read from (:data:`caliber.reports.service.PARTS`): a target's progress computes no other."""


def _share(figures: Figures) -> float:
    return 100 * figures.depots_counted / figures.depots if figures.depots else 0.0


MEASURES: dict[str, Measure] = {
    "declared": Measure("weapons", lambda f: f.declared),
    "destroyed": Measure("weapons", lambda f: f.destroyed),
    "surplus_end": Measure("weapons", lambda f: f.surplus_end, additive=False, part="stock"),
    "taken_in": Measure("weapons", lambda f: sum(f.taken_in.values())),
    "taken_in_destroyed": Measure("weapons", lambda f: sum(f.taken_in_destroyed.values()), part="taken_in"),
    "ammunition_pieces": Measure("rounds", lambda f: f.ammunition_pieces),
    "ammunition_net_t": Measure("t", lambda f: f.ammunition_net_g / 1_000_000, decimals=3),
    "ammunition_gross_t": Measure("t", lambda f: f.ammunition_gross_g / 1_000_000, decimals=3),
    "depots_counted_share": Measure("%", _share, additive=False, decimals=1, part="security"),
    "discrepancies": Measure("records", lambda f: f.discrepancies, part="security"),
    "missing_now": Measure("records", lambda f: f.missing_now, additive=False, part="security"),
    "surplus_cleared": Measure("weapons", lambda f: f.destroyed, additive=False),
    "traced_share": Measure("%", lambda f: f.tracing.share or 0.0, additive=False, decimals=1, part="tracing"),
    "traced_established": Measure("weapons", lambda f: f.tracing.established, additive=False, part="tracing"),
    "origins_established": Measure("weapons", lambda f: f.tracing.origins_established, part="tracing"),
    "trace_requests_sent": Measure("requests", lambda f: f.tracing.requests_sent, part="tracing"),
    "trace_requests_answered": Measure("requests", lambda f: f.tracing.requests_answered, part="tracing"),
    "trace_requests_overdue": Measure("requests", lambda f: f.tracing.requests_overdue, additive=False, part="tracing"),
    "incoming_requests": Measure("requests", lambda f: f.tracing.incoming_received, part="tracing"),
    "incoming_overdue": Measure("requests", lambda f: f.tracing.incoming_overdue, additive=False, part="tracing"),
}
"""Every measure a KPI can name. ``surplus_cleared`` is measured against a baseline (see ``clear`` targets).

The tracing ones (SDG 16.4.2 and the trace requests) are defined in
:mod:`caliber.reports.trace_figures`; ``traced_share`` and ``traced_established``
follow the weapons taken in during a period to its end, so a year's are not the sum
of its half-years'.
"""


class KpiFileError(SettingsError):
    """The KPI file cannot be used: the message names the file, the entry and what is wrong."""


@dataclass(frozen=True)
class Goal:
    """A Roadmap goal."""

    number: int
    name: str
    text: str


@dataclass(frozen=True)
class Kpi:
    """A KPI: what Caliber measures for a goal, how often it is reported, and what kind of target it takes."""

    key: str
    goal: int
    name: str
    measure: str
    period: str
    target: str

    @property
    def part(self) -> str:
        """The part of the figures its value is read from."""
        return MEASURES[self.measure].part

    @property
    def unit(self) -> str:
        """The unit of its measure."""
        return MEASURES[self.measure].unit

    def value(self, figures: Figures) -> float:
        """Its value in a period's figures."""
        return MEASURES[self.measure].value(figures)

    def shown(self, value: float) -> str:
        """``value`` as reports print it."""
        return f"{value:,.{MEASURES[self.measure].decimals}f}"


@dataclass(frozen=True)
class Roadmap:
    """The goals and KPIs in force, and the file they came from."""

    goals: tuple[Goal, ...]
    kpis: tuple[Kpi, ...]
    source: Path
    name: str = ""
    """Which KPI set this is (``Roadmap 2025-2030``), as the reports name it."""

    @property
    def title(self) -> str:
        """The set's name, or the file it came from when the file names none."""
        return self.name or f"the KPIs of {self.source.name}"

    def kpi(self, key: str) -> Kpi | None:
        """The KPI with ``key``."""
        return next((kpi for kpi in self.kpis if kpi.key == key), None)

    def of_goal(self, number: int) -> list[Kpi]:
        """The KPIs of goal ``number``, in file order."""
        return [kpi for kpi in self.kpis if kpi.goal == number]


def shipped_kpi_file(kpi_set: str = "2018-2024") -> Path:
    """The file of a KPI set shipped with Caliber (the default: the set in force when a deployment has no file)."""
    if kpi_set not in KPI_SETS:
        raise KpiFileError(f"no KPI set {kpi_set!r}: Caliber ships {', '.join(KPI_SETS)}")
    return resource_path("roadmap") / KPI_SETS[kpi_set]


def load_roadmap(data_dir: Path) -> Roadmap:
    """The deployment's ``kpis.toml`` if its data dir has one, else the shipped defaults; :class:`KpiFileError` if it is wrong."""
    path = data_dir / KPI_FILE
    return load_kpi_file(path if path.is_file() else shipped_kpi_file())


def load_kpi_file(path: Path) -> Roadmap:
    """The goals and KPIs of the file at ``path``, checked; :class:`KpiFileError` naming what is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KpiFileError(f"{path}: {exc}") from exc
    goals = tuple(_goal(path, n, entry) for n, entry in enumerate(raw.get("goal", []), 1))
    kpis = tuple(_kpi(path, n, entry, {goal.number for goal in goals}) for n, entry in enumerate(raw.get("kpi", []), 1))
    if not goals or not kpis:
        raise KpiFileError(f"{path}: it needs at least one [[goal]] and one [[kpi]]")
    for seen, what in (([g.number for g in goals], "goal number"), ([k.key for k in kpis], "KPI key")):
        if len(set(seen)) != len(seen):
            raise KpiFileError(f"{path}: a {what} is used twice")
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise KpiFileError(f"{path}: name is the KPI set's name, a string")
    return Roadmap(goals, kpis, path, name)


def _field(where: str, entry: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = entry.get(name, default)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise KpiFileError(f"{where} needs {name} = a {kind.__name__}")
    return value


def _goal(path: Path, n: int, entry: dict[str, Any]) -> Goal:
    where = f"{path}: goal {n}"
    return Goal(_field(where, entry, "number", int), _field(where, entry, "name", str), _field(where, entry, "text", str, ""))


def _kpi(path: Path, n: int, entry: dict[str, Any], goals: set[int]) -> Kpi:
    where = f"{path}: kpi {n}"
    kpi = Kpi(
        key=_field(where, entry, "key", str),
        goal=_field(where, entry, "goal", int),
        name=_field(where, entry, "name", str),
        measure=_field(where, entry, "measure", str),
        period=_field(where, entry, "period", str, "year"),
        target=_field(where, entry, "target", str, "none"),
    )
    where = f"{path}: kpi {kpi.key!r}"
    problems = [
        (not _KEY.match(kpi.key), "its key may hold only letters, digits and _ . - (at most 20)"),
        (kpi.goal not in goals, f"goal {kpi.goal} is not among the [[goal]] entries"),
        (kpi.measure not in MEASURES, f"measure must be one of {', '.join(MEASURES)}"),
        (kpi.period not in PERIODS, f"period must be one of {', '.join(PERIODS)}"),
        (kpi.target not in TARGETS, f"target must be one of {', '.join(TARGETS)}"),
        (
            kpi.target == "annual" and not MEASURES.get(kpi.measure, MEASURES["surplus_end"]).additive,
            "an annual target needs a measure that adds up",
        ),
        (
            (kpi.target == "clear") != (kpi.measure == "surplus_cleared"),
            'the measure surplus_cleared goes with target = "clear", and only it',
        ),
    ]
    for wrong, message in problems:
        if wrong:
            raise KpiFileError(f"{where}: {message}")
    return kpi
