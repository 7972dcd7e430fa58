"""Label sheets: every layout loads and fits, every label on its rasterised PDF decodes to its URL, and its
text layer holds the whole code in its groups, the serial and the maker."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pypdfium2
import pytest
import zxingcpp

from caliber.labels.codes import format_code, make_code
from caliber.labels.printing import content_of
from caliber.labels.render import LabelContent, label_url
from caliber.labels.sheets import REFERENCE_URL, Layout, LayoutError, layouts, load_layout, sheet_pdf

LONG = "Crvena Zastava Kragujevac – Čačak Đurđevac Ђурђевац Ќ " * 3
LAYOUTS = sorted(layouts())


def contents(count: int, base: str = "https://caliber.ministry.example.gov") -> list[LabelContent]:
    kinds = ["weapon", "component", "lot", "location"]
    result = []
    for n in range(count):
        code = make_code(kinds[n % 4], 1000 + n)
        result.append(LabelContent(code, label_url(base, code), "Assault rifle", (LONG, f"S/N {LONG}", LONG)))
    return result


MAKER, MODEL, SERIAL = "Zavodi Crvena Zastava Kragujevac", "M70AB2 Automatska puška", "АК-47 №1234567890"
ALBANIAN = ("Uzina Mekanike Poliçan", "Kallashnikov ë ç", "ÇË-çë 00042 Gjirokastër")


def item_label(code: str, maker: str, model: str, serial: str) -> LabelContent:
    """An item's label as printing makes it."""
    record = SimpleNamespace(
        code=code, component_type=None, un_type="assault_rifle", manufacturer=maker, model=model, serial=serial, calibre="7.62x39mm"
    )
    return content_of("item", record, "RS-KRG-01", "https://caliber.ministry.example.gov")


def label_texts(pdf: bytes, layout: Layout, count: int) -> list[str]:
    """The text layer inside each label's rectangle of the sheet's first page, in label order."""
    page = pypdfium2.PdfDocument(pdf)[0]
    text = page.get_textpage()
    height = layout.page[1]
    points = 72 / 25.4
    found = []
    for position in range(count):
        left, top = layout.origin(position)
        box = (left, height - top - layout.label_height_mm, left + layout.label_width_mm, height - top)
        found.append(text.get_text_bounded(*(value * points for value in box)).replace("\r\n", "\n"))
    return found


def squeezed(text: str) -> str:
    return "".join(text.split())


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


@pytest.mark.parametrize("key", LAYOUTS)
@pytest.mark.parametrize(("maker", "model", "serial"), [(MAKER, MODEL, SERIAL), ALBANIAN, ("Zastava", "M70", "1")])
def test_every_label_prints_the_whole_code_serial_and_maker(key: str, maker: str, model: str, serial: str) -> None:
    layout = layouts()[key]
    labels = [item_label(make_code("weapon", 1_000_040 + n), maker, model, serial) for n in range(layout.per_page)]
    pdf = sheet_pdf(layout, labels)
    texts = label_texts(pdf, layout, len(labels))
    for label, text in zip(labels, texts, strict=True):
        lines = text.split("\n")
        assert lines[0] == format_code(label.code)  # whole, in its groups, on one line
        assert "…" not in text
        for whole in (f"{maker} {model}", f"S/N {serial}", "7.62x39mm", "Assault rifle"):
            assert squeezed(whole) in squeezed(text)
    (page,) = decode_pages(pdf)
    assert page == {label.url for label in labels}


@pytest.mark.parametrize("key", LAYOUTS)
def test_text_too_long_for_any_label_is_shortened_but_never_the_code(key: str) -> None:
    layout = layouts()[key]
    code = make_code("weapon", 99_999_999)
    maker, model, serial = "Ж" * 120, "W" * 120, "Ш" * 80  # the longest each may be
    label = item_label(code, maker, model, serial)
    (text,) = label_texts(sheet_pdf(layout, [label]), layout, 1)
    assert text.split("\n")[0] == format_code(code)
    assert squeezed(f"S/N {serial}") in squeezed(text)  # the identity is shortened last
    assert ("…" in text) != (squeezed(maker + model) in squeezed(text))  # what is shortened says so
    bottom = max(box[1] for box in _char_boxes(sheet_pdf(layout, [label])))
    _left, top = layout.origin(0)
    assert bottom <= (top + layout.label_height_mm - layout.padding_mm) * 72 / 25.4 + 0.01  # nothing below the label


def _char_boxes(pdf: bytes) -> list[tuple[float, float]]:
    """Each character's (left, bottom) in points from the page's top-left."""
    page = pypdfium2.PdfDocument(pdf)[0]
    text = page.get_textpage()
    height = page.get_height()
    return [(box[0], height - box[1]) for box in (text.get_charbox(n) for n in range(text.count_chars()))]


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
        (("label_width_mm = 63.5", "label_width_mm = 53.0"), "the code needs 16.2 mm beside the QR at 6 pt"),
    ],
)
def test_a_layout_that_cannot_print_is_refused(tmp_path: Path, change: tuple[str, str], says: str) -> None:
    source = (Path(__file__).resolve().parents[2] / "labels" / "a4-3x7-63.5x38.1.toml").read_text()
    assert change[0] in source
    path = tmp_path / "bad.toml"
    path.write_text(source.replace(*change))
    with pytest.raises(LayoutError, match=says):
        load_layout(path)
