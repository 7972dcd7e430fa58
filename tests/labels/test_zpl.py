"""ZPL: the printer's own QR command carries the exact URL at a readable module size, on every stock."""

from __future__ import annotations

import asyncio
import re

import pytest

from caliber.labels.codes import format_code, make_code
from caliber.labels.render import LabelContent, LabelError, label_url
from caliber.labels.zpl import DPIS, SIZES, ZplLabel, send_to_printer, zpl

LONG = "Crvena Zastava ^~_ Kragujevac " * 4


def content(kind: str, n: int, base: str = "https://caliber.ministry.example.gov") -> LabelContent:
    code = make_code(kind, n)
    return LabelContent(code, label_url(base, code), "Ammunition lot", (LONG, LONG))


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("dpi", DPIS)
def test_the_qr_payload_is_the_url_and_modules_stay_readable(size: str, dpi: int) -> None:
    stock = ZplLabel(size, dpi)
    labels = [content(kind, 77) for kind in ("weapon", "component", "lot", "location")]
    job = zpl(labels, stock)
    assert job.count("^XA") == job.count("^XZ") == 4
    payloads = re.findall(r"\^BQN,2,(\d+)\^FH\^FDMA,([^\^]+)\^FS", job)
    assert [url for _, url in payloads] == [label.url for label in labels]
    assert {int(m) for m, _ in payloads} == {stock.magnification}
    assert stock.magnification / dpi * 25.4 >= 0.5
    assert "^~" not in job.replace("^XA^CI28", "")  # command characters in text are hex-escaped
    for x, y in re.findall(r"\^FO(\d+),(\d+)", job):
        assert int(x) < stock.dots[0]
        assert int(y) < stock.dots[1]


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("dpi", DPIS)
@pytest.mark.parametrize("base", ["https://caliber.ministry.example.gov", "https://salw-registry.interior.example.gov/calibr"])
def test_the_code_serial_and_maker_are_printed_whole(size: str, dpi: int, base: str) -> None:
    stock = ZplLabel(size, dpi)
    code = make_code("weapon", 1_000_040)
    maker, serial = "Zavodi Crvena Zastava Kragujevac M70AB2", "АК-47 №1234567890"
    label = LabelContent(code, label_url(base, code), "Assault rifle", (maker, f"S/N {serial}", "7.62x39mm"))
    fields = re.findall(r"\^FO(\d+),(\d+)\^A0N,(\d+),\d+\^FH\^FD([^\^]*)\^FS", zpl([label], stock))
    texts = [text for *_, text in fields]
    assert texts[0] == format_code(code)
    assert "…" not in "".join(texts)
    assert maker.replace(" ", "") in "".join(texts).replace(" ", "")
    assert f"S/N{serial}".replace(" ", "") in "".join(texts).replace(" ", "")
    width, height = stock.dots
    for x, y, font, text in fields:
        assert int(x) + len(text) * int(font) * 0.6 <= width  # font 0 at its widest
        assert int(y) + int(font) <= height


def test_a_qr_that_does_not_fit_the_stock_is_refused() -> None:
    long_base = "https://caliber.example.org/" + "x" * 120
    with pytest.raises(LabelError, match="use the 4x2 stock"):
        zpl([content("weapon", 1, long_base)], ZplLabel("2x1", 300))
    with pytest.raises(LabelError, match="203 or 300 dpi"):
        ZplLabel("2x1", 600)


async def test_jobs_reach_a_network_printer_over_raw_tcp() -> None:
    received: list[bytes] = []

    async def printer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read())
        writer.close()

    server = await asyncio.start_server(printer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    job = zpl([content("weapon", 5)], ZplLabel("2x1", 203))
    async with server:
        await send_to_printer("127.0.0.1", job, port)
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.02)
    assert received == [job.encode()]
    server.close()
    with pytest.raises(LabelError, match=r"^connection refused$"):
        await send_to_printer("127.0.0.1", job, port, seconds=2)


@pytest.mark.parametrize(("host", "port"), [("a" * 300, 9100), ("printer\x00", 9100), ("127.0.0.1", 99999), ("..", 9100)])
async def test_an_address_no_printer_can_have_is_a_label_error_that_repeats_no_address(host: str, port: int) -> None:
    with pytest.raises(LabelError) as refused:
        await send_to_printer(host, "^XA^XZ", port, seconds=2)
    assert host not in str(refused.value)
    assert str(port) not in str(refused.value)
