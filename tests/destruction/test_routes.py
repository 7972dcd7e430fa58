"""Through the API, with each person on their own token: plan to certificate, the PDF, and the public verification page."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import httpx
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from caliber.accounts.models import Role
from caliber.ledger import merkle
from caliber.ledger.note import parse_checkpoint
from tests.destruction.helpers import cast, photo
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("ledger_checked")


def pdf_text_and_urls(pdf: bytes) -> tuple[str, set[str]]:
    text, urls = [], set()
    for page in pypdfium2.PdfDocument(pdf):
        text.append(page.get_textpage().get_text_range())
        urls |= {r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())}
    return "\n".join(text), urls


async def as_user(factory: Factory, role: Role, depots: list[object] | None = None) -> dict[str, str]:
    view = await factory.user(role, depots=depots)  # type: ignore[arg-type]
    return {"authorization": f"Bearer {await factory.token(view)}"}


async def test_a_destruction_through_the_api_ends_in_a_certificate_anyone_can_check(client: httpx.AsyncClient, factory: Factory) -> None:
    day = await cast(factory, items=5, lots=1)
    clerk = await as_user(factory, Role.DEPOT_CLERK, [day.depot])
    manager = await as_user(factory, Role.DEPOT_MANAGER, [day.depot])
    first, second = await as_user(factory, Role.WITNESS), await as_user(factory, Role.WITNESS)
    body = {
        "depot_id": str(day.depot.id),
        "site_name": "Zeljezara Niksic",
        "planned_date": "2030-06-01",
        "methods": ["smelting"],
        "authority_number": "Odluka 01-55/30",
        "authority_date": "2030-05-01",
        "organiser": "Ministry of Defence",
        "observers": [{"name": "A. Observer", "organisation": "UNDP/SEESAC"}],
    }
    event = (await client.post("/api/destructions", json=body, headers=clerk)).json()
    url = f"/api/destructions/{event['id']}"
    added = await client.post(f"{url}/manifest", json={"add": day.codes}, headers=clerk)
    assert added.json() == {"added": day.codes, "removed": [], "refused": []}
    assert (await client.post(f"{url}/approve", headers=clerk)).status_code == 403
    assert (await client.post(f"{url}/approve", headers=manager)).json()["status"] == "approved"
    waiting = (await client.get(f"/destructions/{event['id']}", headers=first)).text
    assert "6 to go" in waiting
    assert "Attest before destruction" not in waiting
    verified = (await client.post(f"{url}/verify", json={"codes": day.codes}, headers=first)).json()
    assert "Attest before destruction" in (await client.get(f"/destructions/{event['id']}", headers=first)).text
    assert (verified["remaining"], verified["counts"]) == (0, {"verified": 6})
    for witness in (first, second):
        digest = (await client.get(f"{url}/attestation?stage=before", headers=witness)).json()["manifest_sha256"]
        assert (await client.post(f"{url}/attest", json={"stage": "before", "manifest_sha256": digest}, headers=witness)).status_code == 200
    for stage, colour in (("before", "red"), ("after", "blue")):
        uploaded = await client.post(f"{url}/photos?stage={stage}", content=photo(colour), headers={**clerk, "content-type": "image/png"})
        assert uploaded.json()["sha256"] == hashlib.sha256(photo(colour)).hexdigest()
    times = {"methods_used": ["smelting"], "started_at": "2026-01-10T08:00:00+01:00", "ended_at": "2026-01-10T11:30:00+01:00"}
    assert (await client.post(f"{url}/complete", json=times, headers=first)).json()["status"] == "completed"
    assert (await client.post(f"{url}/residue", json={"notes": "frames melted"}, headers=second)).status_code == 200
    for witness in (first, second):
        digest = (await client.get(f"{url}/attestation?stage=after", headers=witness)).json()["manifest_sha256"]
        await client.post(f"{url}/attest", json={"stage": "after", "manifest_sha256": digest}, headers=witness)
    issued = (await client.post(f"{url}/certify", headers=manager)).json()["certificate_sha256"]

    statement = (await client.get(f"{url}/certificate.json", headers=first)).content
    assert hashlib.sha256(statement).hexdigest() == issued
    serials = [w["serial"] for w in json.loads(statement)["weapons"]]
    assert len(serials) == 5

    pdf = (await client.get(f"/destructions/{event['id']}/certificate.pdf", headers=first)).content
    text, urls = pdf_text_and_urls(pdf)
    assert all(serial in text for serial in serials)
    assert issued in text
    assert "UNDP/SEESAC" in text
    (verify_url,) = urls
    assert verify_url.endswith(f"/certificates/{event['code']}")

    public = await client.get(f"/certificates/{event['code']}")  # no login
    assert public.status_code == 200
    assert "is on the custody ledger" in public.text
    assert issued in public.text
    bundle = public.text.split('<pre class="wrap">')[1].split("</pre>")[0]
    lines = bundle.split("\n")
    index = int(lines[1].removeprefix("index "))
    proof = [base64.b64decode(line) for line in lines[2 : lines.index("")]]
    checkpoint = parse_checkpoint("\n".join(lines[lines.index("") + 1 :]).split("\n\n")[0] + "\n")
    entry = (await client.get(f"/api/ledger/entries/{index}", headers=first)).json()
    leaf = merkle.leaf_hash(base64.b64decode(entry["data"]))
    merkle.verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root)
    assert json.loads(base64.b64decode(entry["data"]))["data"]["certificate_sha256"] == issued


async def test_nothing_to_verify_publicly_before_certification(client: httpx.AsyncClient, factory: Factory) -> None:
    day = await cast(factory, items=1)
    clerk = await as_user(factory, Role.DEPOT_CLERK, [day.depot])
    body = {
        "depot_id": str(day.depot.id),
        "site_name": "Range",
        "planned_date": "2030-06-01",
        "methods": ["open_detonation"],
        "authority_number": "1",
        "authority_date": "2030-07-01",
        "organiser": "MoD",
    }
    refused = await client.post("/api/destructions", json=body, headers=clerk)
    assert refused.status_code == 422
    assert "authority" in refused.json()["detail"]
    body["authority_date"] = "2030-05-01"
    event = (await client.post("/api/destructions", json=body, headers=clerk)).json()
    assert (await client.get(f"/certificates/{event['code']}")).status_code == 404
    label = await client.get(f"/labels/{event['code']}.png", headers=clerk)  # for the event's crates
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(label.content)))
    assert decoded.text.endswith(f"/s/{event['code']}")
    opened = await client.get(f"/s/{event['code']}", headers=clerk)
    assert opened.headers["location"] == f"/destructions/{event['id']}"
    assert (await client.get("/certificates/not-a-code")).status_code == 404
