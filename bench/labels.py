"""Label output: a 1,000-label PDF, a 10,000-label ZPL job, and QR codes per second with qrcode against segno.

Run: ``.venv/bin/python -m bench.labels``. The PDF figure is timed cold (every
QR made anew, as for a first print of an intake batch) and warm (the QR cache
filled, as for a reprint). Goal: 1,000 labels in under 3 s.
"""

from __future__ import annotations

import time

import qrcode
import segno

from caliber.labels.codes import make_code
from caliber.labels.render import LabelContent, label_url, qr_modules
from caliber.labels.sheets import layouts, sheet_pdf
from caliber.labels.zpl import ZplLabel, zpl

BASE = "https://caliber.ministry.example.gov"
COUNT = 1000


def batch(first: int, count: int = COUNT) -> list[LabelContent]:
    """Weapon labels with realistic lines, distinct codes."""
    labels = []
    for n in range(first, first + count):
        code = make_code("weapon", n)
        labels.append(LabelContent(code, label_url(BASE, code), "Assault rifle", ("Zastava M70AB2", f"S/N 84{n:06d}", "7.62x39mm")))
    return labels


def qr_rate(make: object, count: int = 300) -> float:
    """QR codes per second made by ``make``."""
    start = time.perf_counter()
    for n in range(count):
        make(label_url(BASE, make_code("lot", 500_000 + n)))  # type: ignore[operator]
    return count / (time.perf_counter() - start)


def with_qrcode(data: str) -> object:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def with_segno(data: str) -> object:
    return segno.make_qr(data, error="m", boost_error=False).matrix


def main() -> None:
    """Print the figures."""
    layout = layouts()["a4-3x7-63.5x38.1"]
    labels = batch(1)
    qr_modules.cache_clear()
    start = time.perf_counter()
    pdf = sheet_pdf(layout, labels)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    sheet_pdf(layout, labels)
    warm = time.perf_counter() - start
    print(f"label PDF, {COUNT:,} labels on {layout.name} ({len(pdf) / 1024:.0f} KiB)")
    print(f"  cold (every QR made)   {cold:6.2f} s   goal < 3 s")
    print(f"  warm (QRs cached)      {warm:6.2f} s")
    thermal = batch(20_001, 10_000)
    start = time.perf_counter()
    job = zpl(thermal, ZplLabel("2x1", 203))
    seconds = time.perf_counter() - start
    print(f"ZPL job, {len(thermal):,} labels (2 x 1 in, 203 dpi; {len(job) / 1024:.0f} KiB): {seconds:.2f} s")
    rate_qrcode, rate_segno = qr_rate(with_qrcode), qr_rate(with_segno)
    print(f"QR codes per second: qrcode {rate_qrcode:,.0f}, segno {rate_segno:,.0f} (reference), ratio {rate_qrcode / rate_segno:.2f}")


if __name__ == "__main__":
    main()
