"""The ledger's pages: checkpoint and witnesses, search, entries with proofs, and the bundle verified offline with
the very command the page prints."""

from __future__ import annotations

import asyncio
import base64
import html
import io
import os
import re
import shlex
import sys
import time
from asyncio.subprocess import PIPE
from pathlib import Path

import httpx

from caliber.accounts.models import Role
from caliber.ledger import merkle, note, verify
from tests.factories import Factory, login


def _between(page: str, start: str, end: str = "</") -> str:
    """The text of the element that opens with ``start`` (HTML entities decoded)."""
    return html.unescape(page.split(start, 1)[1].split(end, 1)[0])


async def _as(client: httpx.AsyncClient, factory: Factory, role: Role, **kwargs: object) -> None:
    user = await factory.user(role, **kwargs)  # type: ignore[arg-type]
    await login(client, user.user.username)


async def test_an_inspector_sees_the_checkpoint_its_witnesses_and_the_entries(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot(name="Kragujevac")
    item = await factory.item(depot)
    admin = {"authorization": f"Bearer {await factory.token(await factory.user(Role.ADMIN))}"}
    inspector = await factory.user(Role.INSPECTOR)
    keys = [note.generate_key(name, note.COSIGNATURE_V1) for name in ("alpha.example", "beta.example")]
    for _skey, vkey in keys:
        assert (await client.post("/api/ledger/witnesses", json={"vkey": vkey}, headers=admin)).status_code == 201
    bearer = {"authorization": f"Bearer {await factory.token(inspector)}"}
    signed = (await client.get("/api/ledger/checkpoint", headers=bearer)).text
    body = "old 0\n\n" + note.cosign(signed, keys[0][0], int(time.time()))
    assert (await client.post("/api/ledger/witness/add-checkpoint", content=body, headers=bearer)).status_code == 200

    await login(client, inspector.user.username)
    response = await client.get("/ledger/")
    assert response.status_code == 200, response.text
    page = response.text
    checkpoint = note.parse_checkpoint(note.split_note(signed)[0])
    assert _between(page, '<dd class="secret" id="root">') == base64.b64encode(checkpoint.root).decode()
    assert _between(page, '<pre class="secret note-text" id="checkpoint-note">').startswith(note.split_note(signed)[0])
    witnesses = _between(page, '<ul class="ledger-witnesses">', "</ul>")
    alpha, beta = (re.search(rf"<li[^>]*><strong>{name}</strong>.*?</li>", witnesses, re.S) for name in ("alpha.example", "beta.example"))
    assert alpha
    assert "cosigned this checkpoint" in alpha.group()
    assert keys[0][1].split("+")[1] in alpha.group()
    assert beta
    assert "has not cosigned this checkpoint" in beta.group()
    assert f'<a href="/ledger/entries/{checkpoint.size - 1}">' in page
    assert f"/ledger/timeline?subject={item.code}" in page
    assert "not in your scope" not in page
    assert '<a href="/ledger/" aria-current="page">Ledger</a>' in page


async def test_a_search_takes_a_code_as_scanned_and_opens_its_timeline(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    item = await factory.item(depot)
    await _as(client, factory, Role.INSPECTOR)
    for typed in (item.code, f"https://caliber.example/s/{item.code}", f"хттпсЖ//цалибер.еџампле/с/{item.code}\n"):
        found = await client.get("/ledger/", params={"q": typed})
        assert found.status_code == 302, typed
        assert found.headers["location"] == f"/ledger/timeline?subject={item.code}"
    key = await client.get("/ledger/", params={"q": f" depot:{depot.id} "})
    assert key.headers["location"] == f"/ledger/timeline?subject=depot%3A{depot.id}"
    timeline = await client.get(key.headers["location"])
    assert timeline.status_code == 200
    assert "depot.registered" in timeline.text


async def test_a_search_without_a_code_says_so_and_keeps_what_was_typed(client: httpx.AsyncClient, factory: Factory) -> None:
    await _as(client, factory, Role.INSPECTOR)
    wrong = await client.get("/ledger/", params={"q": "12345 nonsense"})
    assert wrong.status_code == 422
    assert 'value="12345 nonsense"' in wrong.text
    assert "no label code (10 digits)" in _between(wrong.text, '<p class="field-error" id="q-error">')
    item = await factory.item(await factory.depot())
    mistyped = await client.get("/ledger/", params={"q": item.code[:-1] + str((int(item.code[-1]) + 1) % 10)})
    assert mistyped.status_code == 422
    assert "check digit wrong" in _between(mistyped.text, '<p class="field-error" id="q-error">')


async def test_an_entry_page_shows_the_event_and_a_proof_that_verifies(client: httpx.AsyncClient, factory: Factory) -> None:
    depot = await factory.depot()
    for n in range(4):
        await factory.location(depot, f"Room {n}")
    await _as(client, factory, Role.INSPECTOR)
    page = (await client.get("/ledger/entries/2")).text
    leaf = base64.b64decode(_between(page, '<dd class="secret" id="leaf-hash">'))
    proof = [base64.b64decode(p) for p in re.findall(r"<li>([A-Za-z0-9+/=]+)</li>", _between(page, 'id="proof">', "</ol>"))]
    signed = (await client.get("/api/ledger/checkpoint")).text
    checkpoint = note.parse_checkpoint(note.split_note(signed)[0])
    merkle.verify_inclusion(leaf, 2, checkpoint.size, proof, checkpoint.root)
    assert '"type": "location.created"' in _between(page, 'id="event-json">')
    assert f'<a href="/ledger/timeline?subject=depot%3A{depot.id}"' in page
    assert "The proof is checked offline" in page.replace("\n", " ")
    file = await client.get("/ledger/entries/2/proof")
    assert file.headers["content-disposition"] == 'attachment; filename="caliber-entry-2.tlog-proof"'
    assert file.text.startswith("c2sp.org/tlog-proof@v1\nindex 2\n")
    assert (await client.get("/ledger/entries/999")).status_code == 404


async def test_a_clerk_reads_their_depot_only(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.depot(), await factory.depot()
    await factory.item(mine, serial="MINE-1")
    other = await factory.item(theirs, serial="THEIRS-1")
    await _as(client, factory, Role.DEPOT_CLERK, depots=[mine])
    page = (await client.get("/ledger/")).text
    assert "MINE-1" not in page  # the list shows types and subjects, never data
    assert "not in your scope" in page
    assert other.code not in page
    assert str(theirs.id) not in page
    entries = (await client.get("/api/ledger/entries")).json()
    hidden = next(e for e in entries if e["event"] is None and e["index"] > 0)
    entry = await client.get(f"/ledger/entries/{hidden['index']}")
    assert entry.status_code == 200
    assert "Not in your scope" in entry.text
    assert hidden["leaf_hash"] in entry.text
    assert "THEIRS-1" not in entry.text
    assert other.code not in entry.text
    assert str(theirs.id) not in entry.text
    assert 'id="event-json"' not in entry.text
    assert (await client.get("/ledger/", params={"q": other.code})).status_code == 302
    assert (await client.get(f"/ledger/timeline?subject={other.code}")).status_code == 404
    assert 'id="bundle-scope"' in page  # the page says what the bundle withholds
    bundle = await client.get(f"/ledger/bundle?size={len(entries)}")
    assert bundle.status_code == 200
    for secret in ("THEIRS-1", other.code, str(theirs.id)):
        assert secret not in bundle.text
    signed = (await client.get("/api/ledger/checkpoint")).text
    vkey = _between(page, '<pre class="secret note-text" id="log-key">')
    report = verify.verify_bundle(io.BytesIO(bundle.content), vkey)
    assert report.entries == len(entries) == note.parse_checkpoint(note.split_note(signed)[0]).size
    assert report.withheld == sum(e["event"] is None for e in entries) > 0
    lines = bundle.content.split(b"\nentries ", 1)[1].split(b"\n")[1:-1]
    shown = [line for line in lines if not line.startswith(b"#")]
    assert len(shown) == report.entries - report.withheld
    assert any(b"MINE-1" in line for line in shown)


async def test_a_visitor_is_sent_to_log_in(client: httpx.AsyncClient, factory: Factory) -> None:
    await factory.depot()
    for path in ("/ledger/", "/ledger/entries/0", "/ledger/bundle?size=1"):
        answer = await client.get(path)
        assert answer.status_code in (302, 303), path
        assert answer.headers["location"].startswith("/login?next=/ledger"), path


async def test_the_bundle_verifies_offline_with_the_command_the_page_shows(
    client: httpx.AsyncClient, factory: Factory, tmp_path: Path
) -> None:
    depot = await factory.depot()
    await factory.item(depot)
    admin = {"authorization": f"Bearer {await factory.token(await factory.user(Role.ADMIN))}"}
    _skey, vkey = note.generate_key("alpha.example", note.COSIGNATURE_V1)
    assert (await client.post("/api/ledger/witnesses", json={"vkey": vkey}, headers=admin)).status_code == 201
    await _as(client, factory, Role.INSPECTOR)
    page = (await client.get("/ledger/")).text
    link = re.search(r'<a class="button" id="bundle-link" href="([^"]+)" download="([^"]+)">', page)
    assert link is not None
    command = _between(page, '<pre class="secret note-text" id="verify-command">')
    await factory.location(depot, "Added after the page was drawn")  # the link still gives the tree the page showed
    download = await client.get(html.unescape(link.group(1)))
    assert download.status_code == 200
    name = re.fullmatch(r'attachment; filename="([^"]+)"', download.headers["content-disposition"])
    assert name is not None
    assert name.group(1) == html.unescape(link.group(2))
    (tmp_path / name.group(1)).write_bytes(download.content)
    words = shlex.split(command)
    assert words[:2] == ["caliber-verify", name.group(1)]
    assert words[words.index("--witness") + 1] == vkey
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    run = await asyncio.create_subprocess_shell(command, cwd=tmp_path, env=env, stdout=PIPE, stderr=PIPE)
    out, err = await asyncio.wait_for(run.communicate(), 120)
    assert run.returncode == 0, err.decode()
    assert out.decode().startswith("OK: testserver.local/ledger: ")
    assert (await client.get("/ledger/bundle?size=99999")).status_code == 404


async def test_the_entries_page_by_page_newest_first(client: httpx.AsyncClient, factory: Factory) -> None:
    from caliber.ledger.pages import RECENT

    depot = await factory.depot()
    for n in range(RECENT + 5):
        await factory.location(depot, f"Bay {n}")
    await _as(client, factory, Role.INSPECTOR)
    size = note.parse_checkpoint(note.split_note((await client.get("/api/ledger/checkpoint")).text)[0]).size
    first = (await client.get("/ledger/")).text
    shown = [int(i) for i in re.findall(r'<li id="entry-(\d+)">', first)]
    assert shown == list(range(size - 1, size - 1 - RECENT, -1))
    older = re.search(r'<a href="(/ledger/\?before=\d+)">Older</a>', first)
    assert older is not None
    assert "Newer</a>" not in first
    second = (await client.get(older.group(1))).text
    assert [int(i) for i in re.findall(r'<li id="entry-(\d+)">', second)] == list(range(size - 1 - RECENT, -1, -1))
    assert f'<a href="/ledger/?before={size}">Newer</a>' in second
    assert "Older</a>" not in second
