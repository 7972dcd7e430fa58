"""iARMS hits through the API (CSV body or multipart) and the upload page: the summary, the trace, the timeline."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from caliber.accounts.models import Role
from caliber.items.lifecycle import IntakeSource
from caliber.ledger.store import Ledger
from tests.factories import Factory, csrf_headers, login
from tests.tracing.hits_csv import hit, hits_csv

pytestmark = pytest.mark.usefixtures("ledger_checked")
URL = "/api/tracing/iarms-hits"


async def _bearer(factory: Factory, role: Role, depots: list[object]) -> dict[str, str]:
    return {"authorization": f"Bearer {await factory.token(await factory.user(role, depots=depots))}"}  # type: ignore[arg-type]


async def test_the_api_links_hits_and_the_trace_and_timeline_show_them(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, serial="API-77", intake_source=IntakeSource.FOUND)
    clerk = await _bearer(factory, Role.DEPOT_CLERK, [depot])
    assert (await client.post(f"/api/tracing/weapons/{item.code}/steps", json={"step": "domestic_check"}, headers=clerk)).status_code == 200
    body = hits_csv([hit("IA-1", "api77"), hit("IA-2", "NOPE-1")]).encode()
    answer = await client.post(URL, content=body, headers={**clerk, "content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["rows"], summary["linked_count"], summary["unmatched_count"], summary["queried_count"]) == (2, 1, 1, 1)
    assert summary["linked"] == [{"row": 2, "reference": "IA-1", "code": item.code, "matched_by": "serial", "queried": True}]
    assert summary["unmatched"][0]["row"] == 3
    files = {"file": ("hits.csv", body, "text/csv")}
    again = await client.post(URL, files=files, headers=clerk)
    assert again.status_code == 200, again.text
    assert (again.json()["linked_count"], again.json()["known"]) == (0, [{"row": 2, "reference": "IA-1", "code": item.code}])
    trace = (await client.get(f"/api/tracing/weapons/{item.code}", headers=clerk)).json()
    assert trace["state"] == "iarms_query"
    assert [(h["reference"], h["reported_as"], h["reporting_country"], h["reported_on"]) for h in trace["hits"]] == [
        ("IA-1", "stolen", "DE", "2019-03-08")
    ]
    await login(client, (await factory.user(Role.DEPOT_CLERK, [depot])).user.username)
    timeline = await client.get("/ledger/timeline", params={"subject": item.code})
    assert "iARMS hit: reported stolen by DE on 2019-03-08" in timeline.text
    assert "hit: reported stolen by DE on 2019-03-08" in timeline.text  # the finding of the iARMS query step
    trace_page = await client.get(f"/tracing/weapons/{item.code}")
    assert "iARMS hit IA-1</strong>: reported stolen by DE on 2019-03-08" in trace_page.text
    assert "linked by serial and maker" in trace_page.text


async def test_a_file_with_one_bad_cell_is_refused_whole(client: httpx.AsyncClient, factory: Factory, ledger: Ledger) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, serial="WHOLE-1")
    clerk = await _bearer(factory, Role.DEPOT_CLERK, [depot])
    size = await ledger.size()
    body = hits_csv([hit("IA-1", "WHOLE-1"), hit("IA-2", "WHOLE-1", reported_on="yesterday")]).encode()
    refused = await client.post(URL, content=body, headers={**clerk, "content-type": "text/csv"})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert "row 3, column reported_on" in problem["detail"]
    assert problem["errors"] == [{"field": "reported_on", "message": "row 3, reported_on: 'yesterday' is not a date written YYYY-MM-DD"}]
    assert (await client.get(f"/api/tracing/weapons/{item.code}", headers=clerk)).json()["hits"] == []
    assert await ledger.size() == size
    header = await client.post(URL, content=b"serial_number\nX\n", headers={**clerk, "content-type": "text/csv"})
    assert header.status_code == 422
    assert "missing column(s)" in header.json()["detail"]
    no_file = await client.post(URL, files={"other": ("x.csv", b"", "text/csv")}, headers=clerk)
    assert no_file.status_code == 422
    assert "choose the CSV file" in no_file.json()["detail"]


async def test_readers_outside_depot_work_may_not_import(client: httpx.AsyncClient, factory: Factory) -> None:
    inspector = await _bearer(factory, Role.INSPECTOR, [])
    refused = await client.post(URL, content=hits_csv([hit("IA-1", "X")]).encode(), headers={**inspector, "content-type": "text/csv"})
    assert refused.status_code == 403


async def test_the_upload_page_shows_the_summary_or_every_bad_cell(client: httpx.AsyncClient, factory: Factory, app: Litestar) -> None:
    depot = await factory.depot()
    item = await factory.item(depot, serial="PAGE-1")
    await login(client, (await factory.user(Role.DEPOT_MANAGER, [depot])).user.username)
    form = await client.get("/tracing/iarms-hits/")
    assert form.status_code == 200
    assert "hit_reference" in form.text
    assert "record_reference" in form.text
    good = hits_csv([hit("IA-P1", "page1", record_reference=item.code), hit("IA-P2", "NONE-9")]).encode()
    shown = await client.post("/tracing/iarms-hits/", files={"file": ("hits.csv", good, "text/csv")}, headers=csrf_headers(client))
    assert shown.status_code == 200, shown.text
    assert "<strong>1</strong> linked to a weapon" in shown.text
    assert "<strong>1</strong> unmatched" in shown.text
    assert f'href="/s/{item.code}"' in shown.text
    bad = hits_csv([hit("IA-P3", "PAGE-1", reporting_country="Germany")]).encode()
    refused = await client.post("/tracing/iarms-hits/", files={"file": ("hits.csv", bad, "text/csv")}, headers=csrf_headers(client))
    assert refused.status_code == 422
    assert "Rows to fix (1)" in refused.text
    assert "reporting_country" in refused.text
    assert "nothing was recorded" in refused.text
