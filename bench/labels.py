"""Label output: a 1,000-label PDF, a 10,000-label ZPL job, and QR codes per second with qrcode against segno.

Run: ``.venv/bin/python -m bench.labels``. The PDF figure is timed three ways:
cold (every QR made during the job), made ahead (the QR matrices read from
``label_qr`` in SQLite, where the import job leaves them: the usual case) and
warm (in this process's memory, as for a reprint). Goal: 1,000 labels in
under 3 s. The QR rate compares Caliber's matrices (qrcode's encoding with the
fast mask choice), plain qrcode and segno, as references in the same run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import qrcode
import segno

from bench.figures import figure
from bench.ledger_store import in_thread
from caliber import migrate
from caliber.db import Database, create_engine
from caliber.labels.codes import make_code
from caliber.labels.qr import matrix
from caliber.labels.qrstore import QrStore, _made
from caliber.labels.render import LabelContent, label_url
from caliber.labels.sheets import Layout, layouts, sheet_pdf
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


async def made_ahead(labels: list[LabelContent]) -> tuple[float, float]:
    """Seconds to make and keep the labels' matrices (the background job), and to read them back for a job."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        in_thread(migrate.upgrade, url)
        db = Database(create_engine(url))
        try:
            store = QrStore(db)
            start = time.perf_counter()
            await store.prepare(label.url for label in labels)
            prepared = time.perf_counter() - start
            start = time.perf_counter()
            matrices = await store.matrices(label.url for label in labels)
            labels[:] = [dataclasses.replace(label, modules=matrices[label.url]) for label in labels]
            return prepared, time.perf_counter() - start
        finally:
            await db.dispose()


def cold_job(layout: Layout, labels: list[LabelContent]) -> tuple[list[LabelContent], bytes]:
    """A print job that makes every QR (as for the first print of records never labelled)."""
    made = asyncio.run(_made([label.url for label in labels]))
    labels = [dataclasses.replace(label, modules=made[label.url]) for label in labels]
    return labels, sheet_pdf(layout, labels)


def main() -> None:
    """Print the figures."""
    layout = layouts()["a4-3x7-63.5x38.1"]
    labels = batch(1)
    start = time.perf_counter()
    cold_job(layout, batch(50_001))
    first = time.perf_counter() - start
    start = time.perf_counter()
    labels, pdf = cold_job(layout, labels)
    cold = time.perf_counter() - start
    ahead = batch(1)
    prepared, read = asyncio.run(made_ahead(ahead))
    start = time.perf_counter()
    sheet_pdf(layout, ahead)
    drawn = time.perf_counter() - start
    start = time.perf_counter()
    sheet_pdf(layout, labels)
    warm = time.perf_counter() - start
    print(f"label PDF, {COUNT:,} labels on {layout.name} ({len(pdf) / 1024:.0f} KiB)")
    print(f"  cold (every QR made in the job)      {cold:6.2f} s   goal < 3 s  (QRs made by {os.cpu_count()} worker processes)")
    print(f"     the first such job of a process   {first:6.2f} s   (it starts the worker processes)")
    print(f"  made ahead (read from label_qr)      {read + drawn:6.2f} s   goal < 3 s  (reading them {read:.2f} s)")
    print(f"     making them ahead (background)    {prepared:6.2f} s")
    print(f"  warm (QRs in this process's memory)  {warm:6.2f} s")
    thermal = batch(20_001, 10_000)
    start = time.perf_counter()
    job = zpl(thermal, ZplLabel("2x1", 203))
    seconds = time.perf_counter() - start
    print(f"ZPL job, {len(thermal):,} labels (2 x 1 in, 203 dpi; {len(job) / 1024:.0f} KiB): {seconds:.2f} s")
    rate_caliber, rate_qrcode, rate_segno = qr_rate(matrix), qr_rate(with_qrcode), qr_rate(with_segno)
    print("QR codes per second (label addresses, error correction M):")
    ratios = f"ratio to qrcode {rate_caliber / rate_qrcode:.2f}, to segno {rate_caliber / rate_segno:.2f}"
    print(f"  caliber.labels.qr {rate_caliber:6,.0f}   {ratios}")
    print(f"  qrcode            {rate_qrcode:6,.0f}   ratio to segno {rate_qrcode / rate_segno:.2f}")
    print(f"  segno             {rate_segno:6,.0f}")
    figure("labels", f"label PDF, {COUNT:,} labels, cold", cold, "s", goal="< 3 s", met=cold < 3)
    figure("labels", f"label PDF, {COUNT:,} labels, made ahead", read + drawn, "s", goal="< 3 s", met=read + drawn < 3)
    figure("labels", f"ZPL job, {len(thermal):,} labels", seconds, "s")
    figure("labels", "QR codes", rate_caliber, "QR/s", reference=f"qrcode {rate_qrcode:,.0f} QR/s", ratio=rate_caliber / rate_qrcode)


if __name__ == "__main__":
    main()
