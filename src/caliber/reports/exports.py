"""The report as files: a PDF to file and send, CSV to paste into the Roadmap templates.

- the PDF: every table by goal, then jurisdiction, each figure linked to the
  records behind it, and the ledger tree size, root and signed checkpoint the
  figures were computed at;
- one CSV per table, laid out like the page (a row per jurisdiction);
- one CSV of the whole report, one figure per row, each row carrying the
  period and the tree size and root (for pivot tables and for tracing);
- a workbook with a sheet per table.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from caliber.labels.sheets import BOLD, FONT, register_fonts
from caliber.reports.report import Report
from caliber.reports.report import Table as ReportTable
from caliber.web import csv_cell

__all__ = ["report_csv", "report_pdf", "report_xlsx", "table_csv"]

REPORT_COLUMNS = ["period", "goal", "table", "row", "column", "value", "tree_size", "root"]


def _root(report: Report) -> str:
    return base64.b64encode(report.snapshot.root).decode()


def table_csv(table: ReportTable) -> str:
    """One table as the page shows it: a header row, then a row per jurisdiction."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["", *table.columns])
    for name, cells in table.rows:
        writer.writerow([csv_cell(name), *(csv_cell(cell.value if cell.value is not None else "") for cell in cells)])
    return out.getvalue()


def report_csv(report: Report) -> str:
    """Every figure of the report, one per row, with the period and the ledger tree it was computed at."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    tail = [report.snapshot.tree_size, _root(report)]
    for goal, tables in report.sections:
        for table in tables:
            for name, cells in table.rows:
                for column, cell in zip(table.columns, cells, strict=True):
                    value = cell.value if cell.value is not None else ""
                    writer.writerow(
                        [report.snapshot.period.key, goal.number, table.key, csv_cell(name), csv_cell(column), csv_cell(value), *tail]
                    )
    return out.getvalue()


def report_xlsx(report: Report) -> bytes:
    """The report as a workbook: a first sheet saying what it is and where it was computed, then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    about = book.active
    about.title = "Report"
    snapshot = report.snapshot
    rows: list[Sequence[object]] = [
        ["Roadmap report", snapshot.period.label],
        ["Period", snapshot.period.key],
        ["Computed (UTC)", f"{snapshot.computed_at:%Y-%m-%d %H:%M}"],
        ["Ledger tree size", snapshot.tree_size],
        ["Ledger root (base64)", _root(report)],
        ["KPI set", report.kpi_set],
        *[[note] for note in report.footnotes],
    ]
    for row in rows:
        about.append([csv_cell(value) for value in row])
    about["A1"].font = Font(bold=True)
    for goal, tables in report.sections:
        for table in tables:
            sheet = book.create_sheet(f"G{goal.number} {table.key}"[:31])
            sheet.append([table.title])
            sheet.append(["", *table.columns])
            for name, cells in table.rows:
                sheet.append([csv_cell(name), *(csv_cell(cell.value) if cell.value is not None else "" for cell in cells)])
            for cell in (sheet["A1"], *sheet[2]):
                cell.font = Font(bold=True)
            sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_pdf(report: Report, checkpoint: str, base_url: str) -> bytes:
    """The report as an A4 landscape PDF; ``checkpoint`` is the signed checkpoint note covering the figures' tree size."""
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=11)
    small = ParagraphStyle("small", parent=body, fontSize=7, leading=9, textColor=colors.HexColor("#444444"))
    heading = ParagraphStyle("heading", parent=body, fontName=BOLD, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4)
    title = ParagraphStyle("title", parent=heading, fontSize=17, leading=21)
    cell = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.5, alignment=TA_RIGHT)
    head = ParagraphStyle("head", parent=cell, fontName=BOLD, alignment=TA_LEFT)
    snapshot = report.snapshot
    story: list[Flowable] = [
        Paragraph("Roadmap report: " + escape(snapshot.period.label), title),
        Paragraph(
            f"Computed from the custody records on {snapshot.computed_at:%Y-%m-%d %H:%M} UTC, at ledger tree size "
            f"{snapshot.tree_size:,} (root {_root(report)}). Every figure traces back to ledger events: follow its link, "
            "or replay the ledger to that size.",
            small,
        ),
        Paragraph(f"KPIs as defined by {escape(report.kpi_set)}.", small),
    ]
    width = landscape(A4)[0] - 30 * mm
    for goal, tables in report.sections:
        opening = [Paragraph(f"Goal {goal.number}: {escape(goal.name)}", heading), Paragraph(escape(goal.text), small)]
        for n, table in enumerate(tables):  # a goal's heading stays with its first table
            story.append(KeepTogether([*(opening if n == 0 else []), *_table(table, base_url, width, (cell, head, small, body))]))
        if not tables:
            story.extend(opening)
    story.append(Paragraph("Signed checkpoint", heading))
    story.append(
        Paragraph(
            "The log's signed checkpoint (C2SP signed note) covering the tree size above; an inspector checks it, and the "
            "consistency of the two trees, with caliber-verify against an exported bundle.",
            small,
        )
    )
    story.extend(Paragraph(escape(line) or " ", small) for line in checkpoint.splitlines())
    story.extend(Paragraph(escape(note), small) for note in report.footnotes)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm, bottomMargin=14 * mm, invariant=1
    )
    doc.title = f"Roadmap report {snapshot.period.key}"

    def footer(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.setFont(FONT, 7)
        canvas.drawString(
            15 * mm, 8 * mm, f"Roadmap report {snapshot.period.key} · ledger tree size {snapshot.tree_size:,} · page {document.page}"
        )

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _table(table: ReportTable, base_url: str, width: float, styles: tuple[ParagraphStyle, ...]) -> list[Flowable]:
    cell, head, small, body = styles
    rows = [[Paragraph("", head), *(Paragraph(escape(c), head) for c in table.columns)]]
    for name, cells in table.rows:
        shown = [
            Paragraph(f'<a href="{escape(base_url + c.link)}" color="#1f3b63">{escape(c.text)}</a>' if c.link else escape(c.text), cell)
            for c in cells
        ]
        rows.append([Paragraph(escape(name), head), *shown])
    first = 42 * mm
    rest = (width - first) / max(len(table.columns), 1)
    grid = Table(rows, colWidths=[first, *([rest] * len(table.columns))], repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf2")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    parts: list[Flowable] = [
        Paragraph(escape(table.title), ParagraphStyle("t", parent=body, fontName=BOLD, spaceBefore=6, spaceAfter=2)),
        grid,
    ]
    if table.note:
        parts.append(Paragraph(escape(table.note), small))
    parts.append(Spacer(1, 3 * mm))
    return parts
