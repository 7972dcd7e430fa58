"""The half-year and yearly report laid out like SEESAC's: by goal, then by jurisdiction; tables as data.

One :class:`Report` feeds the page, the PDF and the CSV files, so the three
always agree. Every number that counts records carries the link to the list
of those records (the drill-down), and the report carries the ledger tree
size and root it was computed at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from caliber.reports.kpis import Goal, Kpi, Roadmap
from caliber.reports.service import TAKEN_IN, Figures, Snapshot
from caliber.reports.targets import Progress

__all__ = ["KPI_DRILLS", "Cell", "Report", "Table", "build_report", "label"]


def label(value: str) -> str:
    """A stored value as people write it: ``voluntarily_surrendered`` is "Voluntarily surrendered"."""
    return value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Cell:
    """One figure: its value (for CSV), how it is printed, and the list of records behind it."""

    value: float | str | None
    text: str
    link: str | None = None


@dataclass(frozen=True)
class Table:
    """One table of the report: a row per jurisdiction (or per target), a column per figure."""

    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    note: str = ""


@dataclass(frozen=True)
class Report:
    """The report of one period: sections by goal, each with its tables."""

    snapshot: Snapshot
    sections: list[tuple[Goal, list[Table]]]
    names: dict[str, str]
    footnotes: list[str] = field(default_factory=list)
    kpi_set: str = ""
    """The KPI set the report follows (:attr:`caliber.reports.kpis.Roadmap.title`)."""

    @property
    def tables(self) -> list[Table]:
        """Every table, in order."""
        return [table for _, tables in self.sections for table in tables]

    def table(self, key: str) -> Table | None:
        """The table with ``key``."""
        return next((table for table in self.tables if table.key == key), None)


@dataclass(frozen=True)
class _Builder:
    snapshot: Snapshot
    names: dict[str, str]

    def link(self, jurisdiction: str, measure: str, detail: str | None = None) -> str:
        query = {"period": self.snapshot.period.key, "jurisdiction": jurisdiction, "measure": measure}
        if detail:
            query["detail"] = detail
        return "/reports/records?" + urlencode(query)

    def linked(self, cell: Cell, jurisdiction: str, measure: str) -> Cell:
        """``cell`` with the list of the records it was computed from (none when it has no value)."""
        return Cell(cell.value, cell.text, self.link(jurisdiction, measure) if cell.value else None)

    def count(self, n: int, jurisdiction: str, measure: str, detail: str | None = None) -> Cell:
        return Cell(n, f"{n:,}", self.link(jurisdiction, measure, detail) if n else None)

    def table(self, key: str, title: str, columns: list[str], row: Callable[[str, Figures], list[Cell]], note: str = "") -> Table:
        figures = self.snapshot.figures
        return Table(key, title, columns, [(self.names[j], row(j, f)) for j, f in figures.items()], note)


def _number(value: float, decimals: int = 0) -> Cell:
    return Cell(round(value, decimals), f"{value:,.{decimals}f}")


def _days(pair: tuple[float, float] | None, n: int) -> Cell:
    return Cell(None, "–") if pair is None else Cell(round(pair[n], 1), f"{pair[n]:,.0f}")


def _present(values: Iterable[dict[str, int]]) -> list[str]:
    return sorted({key for found in values for key, n in found.items() if n})


KPI_DRILLS = {
    **{measure: measure for measure in ("declared", "destroyed", "surplus_end", "taken_in", "taken_in_destroyed", "origins_established")},
    "traced_share": "traced_established",
    "traced_established": "traced_established",
    "trace_requests_sent": "requests_sent",
    "trace_requests_answered": "requests_answered",
    "trace_requests_overdue": "requests_overdue",
    "incoming_requests": "incoming_received",
    "incoming_overdue": "incoming_overdue",
}
"""The list of records (or requests) behind each KPI measure that has one."""


def _kpi_table(b: _Builder, goal: Goal, kpis: list[Kpi]) -> Table:
    def row(j: str, f: Figures) -> list[Cell]:
        cells = []
        for kpi in kpis:
            value = kpi.value(f)
            link = b.link(j, KPI_DRILLS[kpi.measure]) if kpi.measure in KPI_DRILLS and value else None
            cells.append(Cell(value, kpi.shown(value), link))
        return cells

    return b.table(f"goal-{goal.number}-kpis", f"Goal {goal.number} KPIs", [f"{k.key} {k.name} ({k.unit})" for k in kpis], row)


def _goal_5(b: _Builder) -> list[Table]:
    sources = [label(source) for source in TAKEN_IN]

    def row(j: str, f: Figures) -> list[Cell]:
        total = sum(f.taken_in.values())
        return [
            *(b.count(f.taken_in.get(source, 0), j, "taken_in", source) for source in TAKEN_IN),
            b.count(total, j, "taken_in"),
            b.count(sum(f.taken_in_destroyed.values()), j, "taken_in_destroyed"),
            b.count(sum(f.taken_in_held.values()), j, "taken_in_held"),
        ]

    note = (
        "Weapons registered in the period from seizure, finds and voluntary surrender; "
        "destroyed by the end of the period; on evidence hold at its end."
    )
    taken_in = b.table("taken-in", "Weapons taken in", [*sources, "Total", "Of them destroyed", "Of them on evidence hold"], row, note)
    return [taken_in, *_tracing(b)]


def _share(share: float | None) -> Cell:
    return Cell(None, "–") if share is None else Cell(share, f"{share:.1f}")


def _tracing(b: _Builder) -> list[Table]:
    """SDG 16.4.2 and the trace requests (definitions in :mod:`caliber.reports.trace_figures`)."""
    reasons = _present(f.tracing.excepted for f in b.snapshot.figures.values())

    def traced(j: str, f: Figures) -> list[Cell]:
        t = f.tracing
        return [
            b.count(t.taken_in, j, "taken_in"),
            b.count(t.established, j, "traced_established"),
            _share(t.share),
            b.count(t.not_established, j, "traced_not_established"),
            *(b.count(t.excepted.get(reason, 0), j, "traced_excepted", reason) for reason in reasons),
            b.count(sum(t.excepted.values()), j, "traced_excepted"),
            b.count(t.open, j, "traced_open"),
            b.count(t.not_started, j, "traced_not_started"),
        ]

    columns = [
        "Taken in",
        "Origin established",
        "Share established (%)",
        "Traced, origin not established",
        *(f"Excepted: {label(reason).lower()}" for reason in reasons),
        "Excepted",
        "Trace open",
        "Trace not started",
    ]
    note = (
        "SDG 16.4.2: of the weapons taken in during the period (seized, found, voluntarily surrendered; collection "
        "programmes are not counted, as above), those whose origin was established by the end of the period; "
        "beside them, where the others stood at its end."
    )

    def requests(j: str, f: Figures) -> list[Cell]:
        t = f.tracing
        measures = ["requests_sent", "requests_answered", "requests_answered_late", "requests_overdue", "origins_established"]
        measures += ["incoming_received", "incoming_answered", "incoming_overdue"]
        return [b.count(getattr(t, measure), j, measure) for measure in measures]

    request_columns = [
        "Trace requests sent",
        "Sent: answered",
        "Sent: answered late",
        "Sent: overdue at the end",
        "Origins established",
        "Received from other states",
        "Received: answered",
        "Received: overdue at the end",
    ]
    request_note = (
        "Requests by the day they were sent, answered or received; overdue: due on or before the last day of the "
        "period and not answered by its end. Origins established: of any weapon, in the period."
    )
    return [
        b.table("tracing", "Weapons traced (SDG 16.4.2)", columns, traced, note),
        b.table("trace-requests", "Tracing activity", request_columns, requests, request_note),
    ]


def _goal_6(b: _Builder) -> list[Table]:
    figures = b.snapshot.figures.values()
    types = _present(f.destroyed_by_type for f in figures)
    methods = _present(f.destroyed_by_method for f in figures)
    surplus = b.table(
        "surplus",
        "Declared surplus weapons",
        ["Stock at the start", "Declared", "Destroyed", "Stock at the end"],
        lambda j, f: [
            b.count(f.surplus_start, j, "surplus_start"),
            b.count(f.declared, j, "declared"),
            b.count(f.destroyed, j, "destroyed"),
            b.count(f.surplus_end, j, "surplus_end"),
        ],
        "Stock: weapons declared surplus and neither destroyed nor taken out of the surplus (retained, returned, transferred out).",
    )
    by_type = b.table(
        "destroyed-by-type",
        "Weapons destroyed by UN SALW type",
        [*(label(t) for t in types), "Total"],
        lambda j, f: [*(b.count(f.destroyed_by_type.get(t, 0), j, "destroyed", t) for t in types), b.count(f.destroyed, j, "destroyed")],
    )
    by_method = b.table(
        "destroyed-by-method",
        "Weapons destroyed by method",
        [label(m) for m in methods],
        lambda j, f: [b.count(f.destroyed_by_method.get(m, 0), j, "destroyed_by_method", m) for m in methods],
        "A destruction that used several methods counts under each.",
    )
    ammunition = b.table(
        "ammunition",
        "Ammunition destroyed",
        ["Pieces", "Net explosive mass (t)", "Gross mass (t)"],
        lambda j, f: [
            b.count(f.ammunition_pieces, j, "ammunition"),
            *(b.linked(_number(grams / 1_000_000, 3), j, "ammunition") for grams in (f.ammunition_net_g, f.ammunition_gross_g)),
        ],
    )
    durations = b.table(
        "durations",
        "Days to destruction of the weapons destroyed",
        ["From intake, median", "From intake, 90th percentile", "From declaration, median", "From declaration, 90th percentile"],
        lambda j, f: [
            _days(f.days_from_intake, 0),
            _days(f.days_from_intake, 1),
            _days(f.days_from_declaration, 0),
            _days(f.days_from_declaration, 1),
        ],
    )
    return [surplus, by_type, by_method, ammunition, durations]


def _goal_7(b: _Builder) -> list[Table]:
    def row(_: str, f: Figures) -> list[Cell]:
        share = 100 * f.depots_counted / f.depots if f.depots else 0.0
        return [
            _number(f.depots),
            Cell(f.depots_counted, f"{f.depots_counted:,}", "/stockchecks/" if f.depots_counted else None),
            _number(share, 1),
            Cell(f.discrepancies, f"{f.discrepancies:,}", "/stockchecks/" if f.discrepancies else None),
            Cell(f.missing_now, f"{f.missing_now:,}", "/items/?status=missing" if f.missing_now else None),
        ]

    columns = ["Depots", "With a full count in the last 12 months", "Share (%)", "Discrepancies found by counts", "Records missing now"]
    return [b.table("security", "Stockpile security", columns, row, "Records missing now: as of the day the report is made.")]


def _targets(b: _Builder, goal: Goal, progress: list[Progress]) -> list[Table]:
    year = int(b.snapshot.period.key[:4])
    mine = [p for p in progress if p.kpi.goal == goal.number and (p.kpi.target == "clear" or p.target.year == year)]
    if not mine:
        return []
    rows = []
    for p in mine:
        if p.kpi.target == "clear":
            aim = f"surplus declared before {p.target.declared_before} ({p.kpi.shown(p.amount)}) gone by the end of {p.target.year}"
        else:
            aim = f"{p.kpi.shown(p.amount)} {p.kpi.unit} in {p.target.year}"
        needed = Cell(None, "–") if p.needed_per_month is None else _number(p.needed_per_month, 1)
        cells = [Cell(p.kpi.key, f"{p.kpi.key} {p.kpi.name}"), Cell(aim, aim), _number(p.done, 1), _number(p.remaining, 1), needed]
        rows.append((b.names[p.target.jurisdiction], [*cells, Cell(p.state, p.state)]))
    columns = ["KPI", "Target", "Done", "Remaining", "Needed a month", "State"]
    return [
        Table(f"goal-{goal.number}-targets", f"Goal {goal.number} targets", columns, rows, "Progress as of the day the report is made.")
    ]


def build_report(snapshot: Snapshot, roadmap: Roadmap, progress: list[Progress], names: dict[str, str], footnotes: list[str]) -> Report:
    """The report of ``snapshot``'s period: for each goal its KPI table, its measures by jurisdiction, and its targets."""
    b = _Builder(snapshot, names)
    measures: dict[int, Callable[[_Builder], list[Table]]] = {5: _goal_5, 6: _goal_6, 7: _goal_7}
    sections = []
    for goal in roadmap.goals:
        tables = []
        if kpis := [kpi for kpi in roadmap.of_goal(goal.number) if kpi.target != "clear"]:  # a clearance shows in the targets
            tables.append(_kpi_table(b, goal, kpis))
        if goal.number in measures:
            tables.extend(measures[goal.number](b))
        tables.extend(_targets(b, goal, progress))
        if tables:  # a goal Caliber measures nothing of (legislation, awareness) has no section
            sections.append((goal, tables))
    return Report(snapshot, sections, names, footnotes, roadmap.title)
