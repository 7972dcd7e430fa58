"""Bulk import of weapons and components, or of ammunition lots, from CSV or XLSX: check every row, then import in batches.

The file is read as a stream twice (memory stays flat for any size): once to
check every row and report row, column and reason; once to import, in batches
of :data:`BATCH_ROWS` rows, each one transaction with its custody events.
Every imported row is remembered by the file's SHA-256 and its row number, so
importing the same file again adds nothing, and an interrupted import picks up
at the first batch that did not commit.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select

from caliber.accounts.actor import Actor
from caliber.depots.models import Depot, Location
from caliber.errors import InvalidInput, NotFound
from caliber.imports.models import ImportRow
from caliber.items.access import DEPOT_STAFF, check_item, check_lot
from caliber.items.fields import ITEM, LOT, RecordFields
from caliber.items.schemas import NewItem, NewLot
from caliber.items.service import ItemService
from caliber.schemas import validation_problem

__all__ = [
    "BATCH_ROWS",
    "COLUMNS",
    "ImportReport",
    "Importer",
    "RowError",
    "blank_template_csv",
    "blank_template_xlsx",
    "file_sha256",
]

BATCH_ROWS = 1000
MAX_ERRORS_KEPT = 1000


@dataclass(frozen=True)
class RowError:
    """What is wrong in one cell (column ``""`` when the row as a whole is wrong)."""

    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    """The result of checking (and perhaps importing) a file."""

    sha256: str
    rows: int = 0
    valid: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    imported: int = 0
    already_imported: int = 0

    @property
    def clean(self) -> bool:
        """No row has an error."""
        return self.error_count == 0


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(path: Path) -> Iterator[list[str]]:
    """The file's rows as lists of text, header first: CSV (UTF-8, with or without BOM) or XLSX (first sheet)."""
    with path.open("rb") as probe:
        zipped = probe.read(4) == b"PK\x03\x04"
    if zipped:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        # An open file, not the path: uploads are kept under their SHA-256, with no ".xlsx" for openpyxl to see.
        with path.open("rb") as workbook:
            try:
                book = load_workbook(workbook, read_only=True, data_only=True)
            except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
                raise InvalidInput(f"the file is not a readable XLSX workbook: {exc}", field="file") from None
            try:
                for values in book.worksheets[0].iter_rows(values_only=True):
                    yield [_cell(v) for v in values]
            finally:
                book.close()
        return
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        try:
            yield from csv.reader(text)
        except UnicodeDecodeError:
            raise InvalidInput("the file is not UTF-8 text: save the CSV as UTF-8, or upload the XLSX", field="file") from None
        except csv.Error as exc:
            raise InvalidInput(f"the CSV cannot be read: {exc}", field="file") from None


def _header(row: list[str]) -> tuple[Sheet, list[str]]:
    """Which template the file follows (a ``lot_number`` column means ammunition lots) and its column names."""
    names = [cell.strip().lower().replace(" ", "_") for cell in row]
    sheet = SHEETS["lots"] if "lot_number" in names else SHEETS["weapons"]
    unknown = [n for n in names if n and n not in sheet.columns]
    if unknown:
        raise InvalidInput(
            f"row 1: unknown column(s) {', '.join(unknown)}; the {sheet.kind} template has {', '.join(sheet.columns)}", field="file"
        )
    missing = sorted(sheet.required - set(names))
    if missing:
        raise InvalidInput(f"row 1: missing column(s) {', '.join(missing)} of the {sheet.kind} template", field="file")
    return sheet, names


@dataclass(frozen=True)
class _Checked:
    row: int
    item: NewItem | NewLot | None
    errors: list[RowError]


class _RowChecker:
    """Turns one row into an intake struct, or says, cell by cell, what is wrong."""

    def __init__(self, depot: Depot, locations: dict[str, UUID]) -> None:
        self.depot = depot
        self.locations = {path.casefold(): location_id for path, location_id in locations.items()}

    def check(self, number: int, sheet: Sheet, names: list[str], cells: list[str]) -> _Checked:
        if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
            return _Checked(number, None, [RowError(number, "", f"{len(cells)} cells but {len(names)} columns")])
        values = {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name and cell.strip()}
        errors: list[RowError] = []
        location = values.pop("location", None)
        record: dict[str, Any] = {"depot_id": self.depot.id, **values}
        for name in sheet.capitals:
            if name in record:
                record[name] = record[name].upper()
        for name in sheet.lowered:
            if name in record:
                record[name] = record[name].lower().replace(" ", "_")
        if location is not None:
            location_id = self.locations.get(" / ".join(part.strip() for part in location.split("/")).casefold())
            if location_id is None:
                errors.append(RowError(number, "location", f"no active location {location!r} in depot {self.depot.code}"))
            record["location_id"] = location_id
        while True:
            try:
                item = msgspec.convert(record, sheet.schema, strict=False)
            except msgspec.ValidationError as exc:
                column, reason = validation_problem(str(exc))
            except InvalidInput as exc:  # text that would display differently than stored (caliber.schemas.Input)
                column, reason = exc.field or "", exc.message
            else:
                break
            if any(e.column == column for e in errors):  # even its stand-in fails: stop at what is known
                return _Checked(number, None, errors)
            if column in record:
                errors.append(RowError(number, column, f"{reason}: {record.pop(column)!r}"))
            elif column in sheet.columns:
                errors.append(RowError(number, column, reason))
            else:
                return _Checked(number, None, [*errors, RowError(number, column, reason)])
            if column in sheet.required:  # a valid stand-in, so the rest of the row is still checked
                record[column] = sheet.example[sheet.columns.index(column)]
        try:
            sheet.check(item)
        except InvalidInput as exc:
            errors.append(RowError(number, exc.field or "", exc.message))
        return _Checked(number, None if errors else item, errors)


class Importer:
    """Checks and imports files for one depot."""

    def __init__(self, items: ItemService) -> None:
        self.items = items
        self.db = items.db

    async def depot_for(self, actor: Actor, depot_code: str) -> Depot:
        """The active depot with this code, in ``actor``'s scope, for depot staff."""
        actor.require_role(*DEPOT_STAFF)
        async with self.db.read() as session:
            depot = await session.scalar(select(Depot).where(Depot.code == depot_code.strip().upper()))
        if depot is None:
            raise NotFound(f"no depot with code {depot_code}")
        actor.require_depot(depot.id, depot.code)
        if not depot.active:
            raise InvalidInput(f"depot {depot.code} is inactive", field="depot")
        return depot

    async def _checker(self, actor: Actor, depot_code: str) -> _RowChecker:
        depot = await self.depot_for(actor, depot_code)
        async with self.db.read() as session:
            rows = await session.execute(select(Location.path, Location.id).where(Location.depot_id == depot.id, Location.active.is_(True)))
            return _RowChecker(depot, dict(rows.all()))

    async def check(self, actor: Actor, path: Path, depot_code: str, progress: Callable[[int], None] | None = None) -> ImportReport:
        """Read the whole file and report every bad row (row, column, reason); nothing is written."""
        checker = await self._checker(actor, depot_code)
        report = ImportReport(file_sha256(path))
        done = await self._done_rows(report.sha256)
        for checked in self._walk(checker, path, progress):
            report.rows += 1
            if checked.errors:
                report.error_count += 1
                room = MAX_ERRORS_KEPT - len(report.errors)
                report.errors += checked.errors[: max(room, 0)]
            else:
                report.valid += 1
                report.already_imported += checked.row in done
        return report

    async def run(
        self,
        actor: Actor,
        path: Path,
        depot_code: str,
        *,
        valid_only: bool = False,
        checked: ImportReport | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import every valid row not imported before, batch by batch; refuses a file with bad rows unless ``valid_only``.

        ``checked`` is the report of :meth:`check` on this file, when the caller
        has already shown it; otherwise the file is checked first.
        """
        report = checked or await self.check(actor, path, depot_code)
        if not report.clean and not valid_only:
            raise InvalidInput(
                f"{report.error_count} row(s) have errors, first at row {report.errors[0].row}: "
                "fix the file, or choose to import only the valid rows",
                field="file",
            )
        checker = await self._checker(actor, depot_code)
        batch: list[_Checked] = []
        for row in self._walk(checker, path, progress):
            if row.item is None:
                continue
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                report.imported += await self._import_batch(actor, report.sha256, batch)
                batch = []
                # SQLite statements run in place (caliber.inline_sqlite): let the requests waiting meanwhile (scans,
                # this import's progress) in between batches
                await asyncio.sleep(0)
        if batch:
            report.imported += await self._import_batch(actor, report.sha256, batch)
        return report

    def _walk(self, checker: _RowChecker, path: Path, progress: Callable[[int], None] | None) -> Iterator[_Checked]:
        rows = _rows(path)
        header = next(rows, None)
        if header is None:
            raise InvalidInput("the file is empty", field="file")
        sheet, names = _header(header)
        for number, cells in enumerate(rows, start=2):
            if progress:
                progress(1)
            if not any(cell.strip() for cell in cells):
                continue
            yield checker.check(number, sheet, names, cells)

    async def _done_rows(self, sha256: str) -> set[int]:
        async with self.db.read() as session:
            return set(await session.scalars(select(ImportRow.row).where(ImportRow.file_sha256 == sha256)))

    async def _import_batch(self, actor: Actor, sha256: str, batch: list[_Checked]) -> int:
        """One transaction: the batch's rows not imported before, each a ``*.registered`` event naming file and row."""
        async with self.items.ledger.write(actor) as tx:
            numbers = [c.row for c in batch]
            query = select(ImportRow.row).where(ImportRow.file_sha256 == sha256, ImportRow.row.in_(numbers))
            done = set(await tx.session.scalars(query))
            todo = [c for c in batch if c.row not in done]
            sources = [(sha256, c.row) for c in todo]
            items = [c.item for c in todo if isinstance(c.item, NewItem)]
            lots = [c.item for c in todo if isinstance(c.item, NewLot)]
            if items:
                await self.items.record_items(tx, actor, items, sources=sources)
            if lots:
                await self.items.record_lots(tx, actor, lots, sources=sources)
            return len(todo)


def blank_template_csv(kind: str = "weapons") -> str:
    """The import template as CSV (``weapons`` or ``lots``): the header and one example row."""
    sheet = SHEETS[kind]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.columns)
    writer.writerow(sheet.example)
    return out.getvalue()


def blank_template_xlsx(kind: str = "weapons") -> bytes:
    """The import template as an XLSX workbook: the header, one example row, and a sheet explaining each column."""
    from openpyxl import Workbook

    sheet = SHEETS[kind]
    book = Workbook()
    rows = book.active
    rows.title = kind
    rows.append(sheet.columns)
    rows.append(sheet.example)
    notes = book.create_sheet("columns")
    notes.append(["column", "label", "required", "what it holds"])
    for name in sheet.columns:
        notes.append([name, sheet.labels.get(name, ""), "yes" if name in sheet.required else "", sheet.help[name]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Sheet:
    """One import template: its columns, what it turns a row into, and the checks beyond the fields' own."""

    kind: str
    columns: list[str]
    required: frozenset[str]
    example: list[str]
    help: dict[str, str]
    schema: type[NewItem] | type[NewLot]
    check: Callable[[Any], None]
    capitals: tuple[str, ...] = ()
    lowered: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: str, record: RecordFields, schema: type[NewItem] | type[NewLot], check: Callable[[Any], None]) -> Sheet:
        """The template of one record kind, from its fields (``caliber.items.fields``)."""
        fields = record.importable
        return cls(
            kind,
            [f.column or "" for f in fields],
            frozenset(f.column or "" for f in fields if f.required),
            [f.example for f in fields],
            {f.column or "": f.explained for f in fields},
            schema,
            check,
            capitals=tuple(f.column or "" for f in fields if f.case == "upper"),
            lowered=tuple(f.column or "" for f in fields if f.case == "lower"),
            labels={f.column or "": f.label for f in fields},
        )


SHEETS = {
    "weapons": Sheet.of("weapons", ITEM, NewItem, lambda item: check_item(item, None)),
    "lots": Sheet.of("lots", LOT, NewLot, check_lot),
}
COLUMNS = SHEETS["weapons"].columns
"""The columns of the weapons template; ``location`` is a path as the depot page shows it (``Building A / Room 1``)."""
