"""Labels decode back to their URL with an independent decoder (zxing-cpp), at the printed size."""

from __future__ import annotations

import io

import httpx
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from caliber.accounts.models import Role
from caliber.labels.codes import KINDS, make_code
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
