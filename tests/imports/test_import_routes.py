"""Imports through the upload page and the API: report first, then progress until every valid row is in."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from caliber.accounts.models import Role
from caliber.depots.models import LocationKind
from caliber.imports.service import ImportJobs
from tests.factories import Factory, csrf_headers, login

pytestmark = pytest.mark.usefixtures("ledger_checked")
GOOD = b"serial,manufacturer,model,calibre,un_type,intake_source\n" + b"".join(
    f"R{n:04d},Zastava,M70,7.62x39mm,assault_rifle,found\n".encode() for n in range(30)
)


async def test_upload_page_reports_then_imports_with_progress(client: httpx.AsyncClient, factory: Factory, app: Litestar) -> None:
    depot = await factory.depot()
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[depot])
    await login(client, clerk.user.username)
    bad = GOOD + b"X1,Zastava,M70,7.62x39mm,laser,found\n"
    response = await client.post(
        "/imports/", data={"depot": depot.code}, files={"file": ("weapons.csv", bad, "text/csv")}, headers=csrf_headers(client)
    )
    assert response.status_code == 302
    report = await client.get(response.headers["location"])
    assert "30 valid" in report.text
    assert "1 with errors" in report.text
    assert "un_type" in report.text
    assert "Import only the 30 valid rows" in report.text
    sha = response.headers["location"].rsplit("/", 1)[1]
    refused = await client.post(f"/imports/{sha}/run", data={}, headers=csrf_headers(client))
    assert refused.status_code == 422
    assert "have errors" in refused.text
    started = await client.post(f"/imports/{sha}/run", data={"valid_only": "yes"}, headers=csrf_headers(client))
    assert started.status_code == 302
    jobs: ImportJobs = app.state["imports"]
    await jobs.wait()
    progress = await client.get(f"/imports/{sha}/progress")
    assert "30 of 30 records" in progress.text
    assert "hx-trigger" not in progress.text  # done: the page stops polling


async def test_the_api_uploads_checks_and_runs(client: httpx.AsyncClient, factory: Factory, app: Litestar) -> None:
    depot, other = await factory.depot(), await factory.depot()
    token = await factory.token(await factory.user(Role.DEPOT_MANAGER, depots=[depot]))
    headers = {"authorization": f"Bearer {token}"}
    uploaded = await client.post(f"/api/imports?depot={depot.code}&filename=w.csv", content=GOOD, headers=headers)
    assert uploaded.status_code == 201
    body = uploaded.json()
    assert (body["rows"], body["valid"], body["error_count"], body["imported"]) == (30, 30, 0, 0)
    started = await client.post(f"/api/imports/{body['sha256']}/run", headers=headers)
    assert started.status_code == 202
    await app.state["imports"].wait()
    status = (await client.get(f"/api/imports/{body['sha256']}", headers=headers)).json()
    assert (status["imported"], status["done"], status["running"]) == (30, True, False)
    codes = await app.state["items"].import_codes(body["sha256"])
    assert await app.state["printing"].prepare(codes) == 0  # their labels' QR matrices were made after the import
    again = await client.post(f"/api/imports/{body['sha256']}/run", headers=headers)
    assert again.status_code == 202
    await app.state["imports"].wait()
    assert (await client.get(f"/api/imports/{body['sha256']}", headers=headers)).json()["imported"] == 30
    admin = {"authorization": f"Bearer {await factory.token(await factory.user(Role.ADMIN))}"}
    elsewhere = await client.post(f"/api/imports?depot={other.code}&filename=w.csv", content=GOOD, headers=admin)
    assert elsewhere.status_code == 409
    assert depot.code in elsewhere.json()["detail"]


async def test_templates_download(client: httpx.AsyncClient, factory: Factory) -> None:
    await login(client, (await factory.user(Role.INSPECTOR)).user.username)
    csv_file = await client.get("/imports/template.csv")
    assert csv_file.text.startswith("serial,manufacturer,model")
    xlsx = await client.get("/imports/template.xlsx")
    assert xlsx.content.startswith(b"PK")


@pytest.mark.parametrize("kind", ["weapons", "lots"])
async def test_the_downloaded_xlsx_template_uploads_and_imports(
    client: httpx.AsyncClient, factory: Factory, app: Litestar, kind: str
) -> None:
    """An upload is kept under its SHA-256, with no ``.xlsx``: the workbook is still read (it once was refused)."""
    depot = await factory.depot()
    building = await factory.location(depot, "Building A", kind=LocationKind.BUILDING)
    await factory.location(depot, "Room 1", building)  # where the template's example row puts its record
    token = await factory.token(await factory.user(Role.DEPOT_MANAGER, depots=[depot]))
    headers = {"authorization": f"Bearer {token}"}
    template = await client.get("/imports/template.xlsx", params={"kind": kind}, headers=headers)
    assert template.status_code == 200
    uploaded = await client.post(f"/api/imports?depot={depot.code}&filename=template.xlsx", content=template.content, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert (body["valid"], body["error_count"]) == (body["rows"], 0), body
    assert body["rows"] >= 1
    assert (await client.post(f"/api/imports/{body['sha256']}/run", headers=headers)).status_code == 202
    await app.state["imports"].wait()
    assert (await client.get(f"/api/imports/{body['sha256']}", headers=headers)).json()["imported"] == body["rows"]
