"""Labels decode back to their URL with an independent decoder (zxing-cpp), at the printed size."""

from __future__ import annotations

import io
import re

import httpx
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from caliber.accounts.models import Role
from caliber.labels.codes import KINDS, format_code, make_code
from caliber.labels.render import MIN_MODULE_MM, LabelContent, LabelError, label_url, png, qr_modules, svg
from tests.factories import Factory, login

LONG = "Ж" * 60 + " very long manufacturer name that cannot fit on any label at all"


def decoded(image: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(image)))]


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(sorted(KINDS)),
    serial=st.integers(1, 99_999_999),
    base=st.sampled_from(["https://caliber.example.org", "http://127.0.0.1:8000", "https://salw.mup.gov.rs/caliber"]),
    dpi=st.sampled_from([203, 300, 600]),
)
def test_png_labels_decode_to_their_url(kind: str, serial: int, base: str, dpi: int) -> None:
    code = make_code(kind, serial)
    url = label_url(base, code)
    content = LabelContent(code, url, LONG, (LONG, LONG, LONG))
    assert decoded(png(content, dpi=dpi)) == [url]


def test_svg_labels_carry_the_qr_modules_and_the_readable_code() -> None:
    code = make_code("lot", 42)
    url = label_url("https://caliber.example.org", code)
    document = svg(LabelContent(code, url, "Ammunition lot", ("Lot <&> 7",)))
    dark = sum(row.count(True) for row in qr_modules(url))
    assert document.count("z") >= dark  # one closed square per dark module
    assert f"{code[:4]} {code[4:8]} {code[8:]}" in document
    assert "&lt;&amp;&gt;" in document


def item(serial: str, maker: str) -> LabelContent:
    code = make_code("weapon", 1_000_040)
    return LabelContent(
        code, label_url("https://caliber.ministry.example.gov", code), "Assault rifle", (maker, f"S/N {serial}", "7.62x39mm")
    )


@pytest.mark.parametrize(
    ("serial", "maker", "letters"),
    [
        ("АК-47 №12345{}", "Завод Црвена Застава {}", "ЖЛЩЮ"),  # Cyrillic
        ("ÇË-{}-00042", "Uzina Mekanike Poliçan {}", "ëçËÇ"),  # Albanian
    ],
    ids=["cyrillic", "albanian"],
)
@pytest.mark.parametrize("dpi", [203, 300])
def test_png_labels_draw_each_letter_of_a_serial_and_maker_as_itself(serial: str, maker: str, letters: str, dpi: int) -> None:
    """A face without these letters draws every one as the same empty box: then labels differing in one letter look alike."""
    serials = {png(item(serial.format(letter), maker.format("")), dpi=dpi) for letter in letters}
    makers = {png(item(serial.format(""), maker.format(letter)), dpi=dpi) for letter in letters}
    assert len(serials) == len(letters)
    assert len(makers) == len(letters)


@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_png_label_text_stays_inside_the_margin(dpi: int) -> None:
    image = Image.open(
        io.BytesIO(
            png(
                item(
                    "АК-47 №1234567890 " * 3,
                    "Zavodi Crvena Zastava Kragujevac WWWWWW MMMMMM",
                ),
                dpi=dpi,
            )
        )
    )
    margin = round(1.5 * dpi / 25.4)
    right = image.crop((image.width - margin, 0, image.width, image.height))
    bottom = image.crop((0, image.height - margin + 1, image.width, image.height))
    assert right.getextrema() == (255, 255)
    assert bottom.getextrema() == (255, 255)


def test_svg_labels_hold_the_whole_code_serial_and_maker_inside_the_label() -> None:
    maker, serial = "Zavodi Crvena Zastava Kragujevac M70AB2", "АК-47 №1234567890"
    document = svg(item(serial, maker))
    texts = re.findall(r'<text x="([0-9.]+)"[^>]* textLength="([0-9.]+)"[^>]*>([^<]*)</text>', document)
    assert texts
    assert texts[0][2] == format_code(make_code("weapon", 1_000_040))
    assert all(float(x) + float(length) <= 50.0 - 1.5 + 1e-3 for x, length, _ in texts)  # no line runs off the label
    shown = "".join(text for _, _, text in texts).replace(" ", "")
    assert maker.replace(" ", "") in shown
    assert f"S/N{serial}".replace(" ", "") in shown
    assert "…" not in shown


def test_a_qr_too_dense_for_the_label_is_refused() -> None:
    code = make_code("weapon", 1)
    url = label_url("https://caliber.example.org/" + "x" * 300, code)
    with pytest.raises(LabelError, match=f"under the {MIN_MODULE_MM} mm"):
        png(LabelContent(code, url, "Weapon", ()))


async def test_labels_are_served_for_every_kind_of_record(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    shelf = await factory.location(depot, "Rack 7")
    item, lot = await factory.item(depot, serial="LBL-1"), await factory.lot(depot)
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[depot])).user.username)
    for code in (item.code, lot.code, shelf.code):
        response = await client.get(f"/labels/{code}.png")
        assert response.headers["content-type"] == "image/png"
        assert decoded(response.content) == [f"http://testserver.local/s/{code}"]
    document = (await client.get(f"/labels/{item.code}.svg")).text
    assert "S/N LBL-1" in document
    assert (await client.get(f"/labels/{item.code}.pdf")).status_code == 404
    job = (await client.get(f"/labels/{lot.code}.zpl?size=4x2&dpi=300")).text
    assert f"^BQN,2,6^FH^FDMA,http://testserver.local/s/{lot.code}^FS" in job
    assert (await client.get(f"/labels/{lot.code}.zpl?size=3x3")).status_code == 400  # a stock no printer here loads
