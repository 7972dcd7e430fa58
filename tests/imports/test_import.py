"""Bulk import: every bad row reported with row and column, nothing half-written, idempotent, resumable."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from caliber.depots.models import Depot, LocationKind
from caliber.errors import InvalidInput
from caliber.imports import importer as importer_module
from caliber.imports.importer import COLUMNS, Importer, blank_template_csv, blank_template_xlsx
from caliber.items.service import ItemService
from caliber.ledger.store import Ledger
from tests.factories import OPERATOR, Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")
HEADER = ["serial", "manufacturer", "model", "calibre", "un_type", "intake_source", "year_of_manufacture", "location"]


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def good_rows(count: int, location: str = "") -> list[list[object]]:
    return [[f"IMP{n:05d}", "Zastava", "M70", "7.62x39mm", "assault_rifle", "surplus", 1980 + n % 30, location] for n in range(count)]


async def depot_with_shelf(factory: Factory) -> Depot:
    depot = await factory.depot()
    building = await factory.location(depot, "Building A", kind=LocationKind.BUILDING)
    await factory.location(depot, "Room 1", parent=building)
    return depot


async def test_a_clean_file_imports_once_whatever_the_number_of_runs(factory: Factory, items: ItemService, tmp_path: Path) -> None:
    depot = await depot_with_shelf(factory)
    path = write_csv(tmp_path / "weapons.csv", good_rows(25, "building a / ROOM 1"))
    importer = Importer(items)
    report = await importer.run(OPERATOR, path, depot.code)
    assert (report.rows, report.valid, report.imported, report.error_count) == (25, 25, 25, 0)
    again = await importer.run(OPERATOR, path, depot.code)
    assert (again.imported, again.already_imported) == (0, 25)
    found = await items.search(OPERATOR, {"depot_id": depot.id}, limit=100)
    assert len(found.records) == 25
    assert {i.location_id for i in found.records} != {None}


async def test_xlsx_imports_like_csv(factory: Factory, items: ItemService, tmp_path: Path) -> None:
    depot = await depot_with_shelf(factory)
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in good_rows(5):
        sheet.append([*row[:6], float(row[6]), None])  # spreadsheets hold years as numbers
    path = tmp_path / "weapons.xlsx"
    book.save(path)
    report = await Importer(items).run(OPERATOR, path, depot.code)
    assert report.imported == 5
    assert {i.year_of_manufacture for i in (await items.search(OPERATOR, {"depot_id": depot.id})).records} == {1980, 1981, 1982, 1983, 1984}


async def test_the_templates_are_valid_imports(factory: Factory, items: ItemService, tmp_path: Path) -> None:
    depot = await depot_with_shelf(factory)
    (tmp_path / "template.csv").write_text(blank_template_csv(), encoding="utf-8")
    (tmp_path / "template.xlsx").write_bytes(blank_template_xlsx())
    assert (await Importer(items).check(OPERATOR, tmp_path / "template.csv", depot.code)).clean
    assert (await Importer(items).check(OPERATOR, tmp_path / "template.xlsx", depot.code)).clean


async def test_bad_rows_are_named_and_nothing_is_imported_unless_asked(
    factory: Factory, items: ItemService, ledger: Ledger, tmp_path: Path
) -> None:
    depot = await depot_with_shelf(factory)
    rows = good_rows(4)
    rows[1][4] = "laser_gun"
    rows[2][6] = "19x"
    rows[3][7] = "Nowhere"
    path = write_csv(tmp_path / "bad.csv", rows)
    importer = Importer(items)
    report = await importer.check(OPERATOR, path, depot.code)
    assert [(e.row, e.column) for e in report.errors] == [(3, "un_type"), (4, "year_of_manufacture"), (5, "location")]
    before = await ledger.size()
    with pytest.raises(InvalidInput, match="3 row\\(s\\) have errors, first at row 3"):
        await importer.run(OPERATOR, path, depot.code)
    assert await ledger.size() == before
    partial = await importer.run(OPERATOR, path, depot.code, valid_only=True)
    assert partial.imported == 1


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (["serial", "manufacturer", "colour"], "unknown column"),
        (["serial", "manufacturer"], "missing column"),
    ],
)
async def test_a_bad_header_is_refused_naming_the_columns(
    factory: Factory, items: ItemService, tmp_path: Path, header: list[str], says: str
) -> None:
    depot = await depot_with_shelf(factory)
    path = write_csv(tmp_path / "h.csv", [], header)
    with pytest.raises(InvalidInput, match=says):
        await Importer(items).check(OPERATOR, path, depot.code)


async def test_files_that_are_not_csv_or_xlsx_are_refused(factory: Factory, items: ItemService, tmp_path: Path) -> None:
    depot = await depot_with_shelf(factory)
    (tmp_path / "latin1.csv").write_bytes(",".join(HEADER).encode() + b"\n\xe9\xe9\xe9,a,b,c,rifle,found,,\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        await Importer(items).check(OPERATOR, tmp_path / "latin1.csv", depot.code)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InvalidInput, match="not a readable XLSX"):
        await Importer(items).check(OPERATOR, tmp_path / "broken.xlsx", depot.code)


async def test_an_interrupted_import_keeps_whole_batches_and_resumes(
    factory: Factory, items: ItemService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    depot = await depot_with_shelf(factory)
    monkeypatch.setattr(importer_module, "BATCH_ROWS", 10)
    path = write_csv(tmp_path / "weapons.csv", good_rows(35))
    importer = Importer(items)
    real = Importer._import_batch
    calls = 0

    async def dies_on_the_third_batch(self: Importer, *args: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise ConnectionError("the server was switched off")
        return await real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Importer, "_import_batch", dies_on_the_third_batch)
    with pytest.raises(ConnectionError):
        await importer.run(OPERATOR, path, depot.code)
    assert len((await items.search(OPERATOR, {"depot_id": depot.id}, limit=100)).records) == 20
    monkeypatch.setattr(Importer, "_import_batch", real)
    resumed = await importer.run(OPERATOR, path, depot.code)
    assert (resumed.imported, resumed.valid) == (15, 35)
    assert len((await items.search(OPERATOR, {"depot_id": depot.id}, limit=100)).records) == 35


cells = st.one_of(st.text(max_size=30), st.sampled_from(["", "rifle", "surplus", "seized", "1984", "YU", "-1", "Building A"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_arbitrary_cells_never_crash_the_checker(factory: Factory, items: ItemService, tmp_path: Path, data: st.DataObject) -> None:
    depot = await factory.depot()
    header = data.draw(st.lists(st.sampled_from(COLUMNS), min_size=6, max_size=12, unique=True), label="header")
    header = list(dict.fromkeys(["serial", "manufacturer", "model", "calibre", "un_type", "intake_source", *header]))
    rows = data.draw(st.lists(st.lists(cells, min_size=0, max_size=len(header) + 2), max_size=8), label="rows")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    report = await Importer(items).check(OPERATOR, path, depot.code)
    assert report.valid + report.error_count == report.rows
    for error in report.errors:
        assert 2 <= error.row <= len(rows) + 1
        assert error.column in {*COLUMNS, ""}
        assert error.reason
    bad_rows = {e.row for e in report.errors}
    assert len(bad_rows) == report.error_count


async def test_ammunition_lots_import_from_their_own_template(factory: Factory, items: ItemService, tmp_path: Path) -> None:
    depot = await depot_with_shelf(factory)
    (tmp_path / "lots.xlsx").write_bytes(blank_template_xlsx("lots"))
    assert (await Importer(items).check(OPERATOR, tmp_path / "lots.xlsx", depot.code)).clean
    header = ["lot_number", "manufacturer", "calibre", "nature", "quantity", "gross_mass_kg", "net_explosive_mass_kg"]
    header += ["hazard_division", "compatibility_group", "intake_source", "location"]
    rows: list[list[object]] = [
        [f"L-{n}", "Igman", "9x19mm", "ball", 1000 + n, "12.5", "0.4", "1.4", "s", "surplus", "Building A"] for n in range(5)
    ]
    rows.append(["L-bad", "Igman", "9x19mm", "ball", -3, "12.5", "13", "1.9", "S", "surplus", ""])
    path = write_csv(tmp_path / "lots.csv", rows, header)
    importer = Importer(items)
    report = await importer.check(OPERATOR, path, depot.code)
    assert {e.column for e in report.errors} >= {"quantity", "hazard_division"}
    assert {e.row for e in report.errors} == {7}
    done = await importer.run(OPERATOR, path, depot.code, valid_only=True)
    assert done.imported == 5
    page = await items.search_lots(OPERATOR, {"depot_id": depot.id})
    assert sorted(lot.quantity for lot in page.records) == [1000, 1001, 1002, 1003, 1004]
    assert {lot.compatibility_group for lot in page.records} == {"S"}
    assert (await importer.run(OPERATOR, path, depot.code, valid_only=True)).imported == 0
