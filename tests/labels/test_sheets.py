"""Label sheets: every layout loads and fits, and every label on its rasterised PDF decodes to its URL."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest
import zxingcpp

from caliber.labels.codes import make_code
from caliber.labels.render import LabelContent, label_url
from caliber.labels.sheets import REFERENCE_URL, LayoutError, layouts, load_layout, sheet_pdf

LONG = "Crvena Zastava Kragujevac – Čačak Đurđevac Ђурђевац Ќ " * 3
LAYOUTS = sorted(layouts())


def contents(count: int, base: str = "https://caliber.ministry.example.gov") -> list[LabelContent]:
    kinds = ["weapon", "component", "lot", "location"]
    result = []
    for n in range(count):
        code = make_code(kinds[n % 4], 1000 + n)
        result.append(LabelContent(code, label_url(base, code), "Assault rifle", (LONG, f"S/N {LONG}", LONG)))
    return result


def decode_pages(pdf: bytes) -> list[set[str]]:
    document = pypdfium2.PdfDocument(pdf)
    pages = []
    for page in document:
        image = page.render(scale=300 / 72).to_pil()
        pages.append({result.text for result in zxingcpp.read_barcodes(image)})
    return pages


@pytest.mark.parametrize("key", LAYOUTS)
def test_every_label_of_a_sheet_decodes_to_its_url(key: str) -> None:
    layout = layouts()[key]
    labels = contents(layout.per_page)
    (page,) = decode_pages(sheet_pdf(layout, labels))
    assert page == {label.url for label in labels}
    assert len(REFERENCE_URL) <= len(labels[0].url)  # the longest address the loader checked for


def test_printing_starts_anywhere_on_a_used_sheet_and_runs_on() -> None:
    layout = layouts()["a4-3x7-63.5x38.1"]
    labels = contents(25)
    pages = decode_pages(sheet_pdf(layout, labels, start=20, offset_mm=(1.0, -0.5)))
    assert [len(p) for p in pages] == [2, 21, 2]
    assert set().union(*pages) == {label.url for label in labels}
    with pytest.raises(LayoutError, match="positions 1 to 21"):
        sheet_pdf(layout, labels, start=22)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('name = "x"', "page is missing"),
        ('name = "x"\npage = "A3"', "page must be one of A4, Letter"),
        ("not toml = = =", "cannot be read"),
    ],
)
def test_a_broken_layout_names_its_file_and_field(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(LayoutError, match=f"broken.toml: .*{says}"):
        load_layout(path)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("rows = 7", "rows = 9"), "label_height_mm: the grid is"),
        (("label_height_mm = 38.1", "label_height_mm = 18.0"), "under 0.5 mm a module"),
        (("columns = 3", 'columns = "3"'), "columns must be a int"),
    ],
)
def test_a_layout_that_cannot_print_is_refused(tmp_path: Path, change: tuple[str, str], says: str) -> None:
    source = (Path(__file__).resolve().parents[2] / "labels" / "a4-3x7-63.5x38.1.toml").read_text()
    assert change[0] in source
    path = tmp_path / "bad.toml"
    path.write_text(source.replace(*change))
    with pytest.raises(LayoutError, match=says):
        load_layout(path)
