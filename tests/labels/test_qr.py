"""The fast mask choice gives qrcode's own matrices; kept matrices come back as they went in."""

from __future__ import annotations

import qrcode
import qrcode.util
from hypothesis import given, settings
from hypothesis import strategies as st

from caliber.db import Database
from caliber.labels.codes import make_code
from caliber.labels.qr import Matrix, matrix, pack, penalty, unpack
from caliber.labels.qrstore import PARALLEL_FROM, QrStore
from caliber.labels.render import label_url


def reference(text: str) -> Matrix:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in qr.get_matrix())


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400))
def test_matrices_are_the_ones_qrcode_makes(text: str) -> None:
    assert matrix(text) == reference(text)


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["weapon", "component", "lot", "location", "destruction"]), serial=st.integers(1, 99_999_999))
def test_label_addresses_get_qrcodes_matrix(kind: str, serial: int) -> None:
    url = label_url("https://caliber.ministry.example.gov", make_code(kind, serial))
    assert matrix(url) == reference(url)


@settings(max_examples=120, deadline=None)
@given(st.data(), st.sampled_from([21, 25, 29, 33, 45, 57]))
def test_penalty_scores_any_grid_as_qrcode_does(data: st.DataObject, size: int) -> None:
    grid = [data.draw(st.lists(st.booleans(), min_size=size, max_size=size)) for _ in range(size)]
    rows = [int("".join("1" if dark else "0" for dark in row), 2) for row in grid]
    assert penalty(rows, size) == qrcode.util.lost_point(grid)


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_packed_matrices_unpack_unchanged(text: str) -> None:
    modules = matrix(text)
    assert unpack(pack(modules)) == modules


async def test_matrices_made_ahead_are_read_back_and_not_made_again(db: Database) -> None:
    store = QrStore(db)
    urls = [label_url("https://caliber.example.org", make_code("weapon", n)) for n in range(1, 1201)]
    assert await store.prepare(urls[:700]) == 700
    assert await store.prepare(urls) == 500
    assert await store.prepare(urls) == 0
    found = await store.matrices([*urls[:3], "made on demand"])
    assert found == {text: reference(text) for text in [*urls[:3], "made on demand"]}
    assert await store.prepare(["made on demand"]) == 0


async def test_a_large_first_print_makes_its_matrices_in_worker_processes(db: Database) -> None:
    urls = [label_url("https://caliber.example.org", make_code("lot", n)) for n in range(1, PARALLEL_FROM + 101)]
    found = await QrStore(db).matrices(urls)
    assert set(found) == set(urls)
    assert all(found[url] == reference(url) for url in urls[::37])
    assert await QrStore(db).prepare(urls) == 0
