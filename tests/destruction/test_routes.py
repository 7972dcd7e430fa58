"""Through the API, with each person on their own token: plan to certificate, the PDF, and the public verification page."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import html
import io
import json

import httpx
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from caliber.accounts.models import Role
from caliber.config import Settings
from caliber.destruction.models import Stage
from caliber.destruction.schemas import AttestationInput, Verification
from caliber.destruction.service import DestructionService
from caliber.labels.codes import format_code
from caliber.ledger import merkle
from caliber.ledger.note import parse_checkpoint
from tests.destruction.helpers import approved, cast, mistyped, photo, plan, through_the_day
from tests.factories import Factory, login

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
        "authority_number": "Odluka 01-55/26",
        "authority_date": "2026-05-01",  # the day may come before the planned date, never before the legal authority
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
    now = dt.datetime.now(dt.UTC)  # after the witnesses attested
    times = {"methods_used": ["smelting"], "started_at": now.isoformat(), "ended_at": (now + dt.timedelta(milliseconds=1)).isoformat()}
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


def form_value(page: str, name: str) -> str:
    """The value of the hidden field ``name`` on ``page``."""
    return page.split(f'name="{name}" value="')[1].split('"', maxsplit=1)[0]


async def test_a_witness_who_attested_sees_their_attestation_instead_of_the_form_and_a_second_click_is_refused(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=1)
    event = await approved(destructions, day)
    await destructions.verify(day.clerk, event.id, Verification(day.codes))
    witness = await factory.user(Role.WITNESS, display_name="Vesna Marković")
    await login(client, witness.user.username)
    url = f"/destructions/{event.id}"
    shown = (await client.get(url)).text
    assert "Attest before destruction" in shown
    body = {
        "stage": "before",
        "manifest_sha256": form_value(shown, "manifest_sha256"),
        "statement": "both rifles checked",
        "_csrf_token": form_value(shown, "_csrf_token"),
    }
    done = await client.post(f"{url}/attest", data=body, follow_redirects=True)
    assert "Attestation recorded" in done.text
    assert f'action="{url}/attest"' not in done.text
    assert "You attested before destruction" in done.text
    assert "both rifles checked" in done.text
    (given,) = (await destructions.get(day.manager, event.id)).attestations
    assert f"At {destructions.local(given.attested_at)}" in done.text
    again = await client.post(f"{url}/attest", data=body)  # the same form sent twice (a double click, another tab)
    assert again.status_code == 409
    assert "you attested before destruction already" in again.text
    assert "Attestation recorded" not in again.text
    assert len((await destructions.get(day.manager, event.id)).attestations) == 1


async def test_times_typed_on_the_page_are_local_and_a_start_before_the_attestations_is_refused_naming_both(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService, settings: Settings
) -> None:
    day = await cast(factory, items=1)
    event = await approved(destructions, day)
    await destructions.verify(day.clerk, event.id, Verification(day.codes))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.BEFORE)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.BEFORE, digest))
    for stage, colour in ((Stage.BEFORE, "red"), (Stage.AFTER, "blue")):
        await destructions.add_photo(day.clerk, event.id, stage, photo(colour), "image/png")
    last = max(a.attested_at for a in (await destructions.get(day.manager, event.id)).attestations)
    await login(client, (await factory.user(Role.WITNESS)).user.username)
    url = f"/destructions/{event.id}"
    token = form_value((await client.get(url)).text, "_csrf_token")
    here = dt.datetime.now(settings.zone).replace(second=0, microsecond=0, tzinfo=None)  # as a datetime-local box sends it
    typed = {"methods_used": "smelting", "_csrf_token": token}
    early = {**typed, "started_at": (here - dt.timedelta(hours=1)).isoformat(), "ended_at": here.isoformat()}
    refused = await client.post(f"{url}/complete", data=early)
    assert refused.status_code == 422
    started = destructions.local((here - dt.timedelta(hours=1)).replace(tzinfo=settings.zone))
    assert f"cannot start at {started} before the last before-destruction attestation at {destructions.local(last)}" in refused.text
    assert (await destructions.get(day.manager, event.id)).event.status == "in_progress"
    on_time = {**typed, "started_at": here.isoformat(), "ended_at": (here + dt.timedelta(minutes=1)).isoformat()}
    assert (await client.post(f"{url}/complete", data=on_time)).status_code in (302, 303)
    assert (await destructions.get(day.manager, event.id)).event.started_at == here.replace(tzinfo=settings.zone)


def box(page: str, name: str) -> str:
    """The text in the textarea ``name`` on ``page``, as the browser would show it."""
    return html.unescape(page.split(f'name="{name}"')[1].split(">", 1)[1].split("</textarea>", 1)[0])


async def test_a_batch_with_a_mistyped_label_keeps_every_line_and_adds_the_rest_only_when_asked(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)
    event = await destructions.plan(day.clerk, plan(day))
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[day.depot])
    await login(client, clerk.user.username)
    url = f"/destructions/{event.id}"
    token = form_value((await client.get(url)).text, "_csrf_token")
    misread = mistyped(day.codes[1])
    typed = f"{day.codes[0]}\r\n{format_code(misread)}\r\n{format_code(day.codes[0])}\r\n"

    refused = await client.post(f"{url}/manifest", data={"codes": typed, "_csrf_token": token})
    assert refused.status_code == 409
    assert "Nothing was changed" in refused.text
    assert box(refused.text, "codes") == typed.replace("\r\n", "\n")
    warning = refused.text.split('class="warning"')[1].split("</div>")[0]
    assert f"<code>{format_code(misread)}</code>: check digit does not match: a digit was mistyped or misread" in warning
    assert (await destructions.get(day.clerk, event.id)).on_manifest == 0

    added = await client.post(f"{url}/manifest", data={"codes": typed, "partial": "yes", "_csrf_token": token})
    assert added.status_code == 200
    assert '<p class="notice" role="status">Added 1.</p>' in added.text
    warning = added.text.split('class="warning"')[1].split("</div>")[0]
    assert f"<code>{format_code(misread)}</code>: check digit does not match" in warning
    assert "check digit" not in added.text.split('class="notice"')[1].split("</p>")[0]
    assert box(added.text, "codes") == format_code(misread)
    assert 'name="partial" value="yes" checked' in added.text
    assert (await destructions.get(day.clerk, event.id)).on_manifest == 1  # the third line named the first record again


async def test_the_api_reads_typed_lines_by_the_same_rules(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)
    event = await destructions.plan(day.clerk, plan(day))
    clerk = await as_user(factory, Role.DEPOT_CLERK, depots=[day.depot])
    misread = mistyped(day.codes[1])
    url = f"/api/destructions/{event.id}/manifest"
    refused = await client.post(url, json={"lines": [day.codes[0], misread]}, headers=clerk)
    assert refused.status_code == 409
    assert f"{misread}: check digit does not match" in refused.json()["detail"]
    both = {"lines": [day.codes[0], misread], "add": [misread], "partial": True}  # as a line, and as a code alone
    added = await client.post(url, json=both, headers=clerk)
    assert added.status_code == 200
    assert added.json()["added"] == [day.codes[0]]
    assert [r["code"] for r in added.json()["refused"]] == [misread, misread]


async def test_the_manifest_csv_describes_each_record_and_names_who_verified_it(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2, lots=1)
    event = await approved(destructions, day)
    first = day.codes[0]
    await destructions.verify(day.witnesses[0], event.id, Verification(codes=[first], serial_read="D-00000"))
    await login(client, day.manager.username)
    response = await client.get(f"/destructions/{event.id}/manifest.csv")
    assert response.status_code == 200, response.text
    rows = {row["label_code"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert set(rows) == set(day.codes)
    item, lot = rows[first], rows[day.codes[2]]
    assert (item["kind"], item["type"], item["serial"], item["manufacturer"], item["model"], item["calibre"]) == (
        "item", "assault_rifle", "D-00000", "Zastava", "M70", "7.62x39mm",
    )  # fmt: skip
    assert (item["verified_by"], item["verified_by_name"]) == (day.witnesses[0].username, day.witnesses[0].display_name)
    assert item["verified_at"]
    lot_columns = (lot["kind"], lot["lot_number"][:4], lot["quantity"], lot["gross_mass_kg"], lot["type"])
    assert lot_columns == ("lot", "PPU-", "10000", "180", "ball")
    assert rows[day.codes[1]]["verified_by_name"] == ""


async def test_the_event_page_says_why_a_step_is_not_yet_open_to_those_who_take_it_and_hides_it_from_others(
    client: httpx.AsyncClient, factory: Factory, destructions: DestructionService
) -> None:
    day = await cast(factory, items=2)
    event = await approved(destructions, day)
    await destructions.verify(day.clerk, event.id, Verification(day.codes[:1]))
    url = f"/destructions/{event.id}"
    await login(client, (await factory.user(Role.WITNESS)).user.username)
    shown = html.unescape((await client.get(url)).text)
    assert "Record the result: not yet, 1 record(s) are not verified" in shown
    assert 'action="' + url + '/complete"' not in shown
    await destructions.verify(day.clerk, event.id, Verification(day.codes[1:]))
    await through_the_day(destructions, day, event, verify=False)
    manager = await factory.user(Role.DEPOT_MANAGER, depots=[day.depot])
    await login(client, manager.user.username)
    shown = html.unescape((await client.get(url)).text)
    assert "Issue the certificate: not yet, the residue check is not recorded yet." in shown
    assert f'action="{url}/certify"' not in shown
    await login(client, (await factory.user(Role.DEPOT_CLERK, depots=[day.depot])).user.username)
    assert "not yet" not in (await client.get(url)).text
