"""Witnesses: registering keys, the add-checkpoint exchange, cosignatures in checkpoints and in the verifier."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from caliber.accounts.models import Role
from caliber.ledger import merkle, note
from caliber.ledger.audit import export_bundle
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.ledger.verify import VerificationError, verify_bundle
from tests.factories import Factory


@pytest.fixture
async def setup(client: httpx.AsyncClient, factory: Factory) -> dict[str, object]:
    admin = {"authorization": f"Bearer {await factory.token(await factory.user(Role.ADMIN))}"}
    inspector = {"authorization": f"Bearer {await factory.token(await factory.user(Role.INSPECTOR))}"}
    skey, vkey = note.generate_key("inspector.example", note.COSIGNATURE_V1)
    registered = await client.post("/api/ledger/witnesses", json={"vkey": vkey}, headers=admin)
    assert registered.status_code == 201, registered.text
    return {"admin": admin, "inspector": inspector, "skey": skey, "vkey": vkey}


async def checkpoint(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, note.Checkpoint]:
    signed = (await client.get("/api/ledger/checkpoint", headers=headers)).text
    return signed, note.parse_checkpoint(note.split_note(signed)[0])


def request_body(old: int, proof: list[str], cosigned: str) -> str:
    return "\n".join([f"old {old}", *proof]) + "\n\n" + cosigned


async def test_an_inspector_cosigns_and_the_checkpoint_carries_it(
    client: httpx.AsyncClient, factory: Factory, setup: dict[str, object]
) -> None:
    inspector = setup["inspector"]
    signed, first = await checkpoint(client, inspector)  # type: ignore[arg-type]
    cosigned = note.cosign(signed, setup["skey"], int(time.time()))  # type: ignore[arg-type]
    answer = await client.post("/api/ledger/witness/add-checkpoint", content=request_body(0, [], cosigned), headers=inspector)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith("— inspector.example ")
    served = (await client.get("/api/ledger/checkpoint", headers=inspector)).text  # type: ignore[arg-type]
    assert note.verify_cosignature(served, setup["vkey"]) > 0  # type: ignore[arg-type]

    await factory.depot()
    signed2, second = await checkpoint(client, inspector)  # type: ignore[arg-type]
    stale = await client.post(
        "/api/ledger/witness/add-checkpoint", content=request_body(0, [], note.cosign(signed2, setup["skey"], 1)), headers=inspector
    )  # type: ignore[arg-type]
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("text/x.tlog.size")
    assert stale.text == f"{first.size}\n"
    proof = (await client.get(f"/api/ledger/proof/consistency?old={first.size}&new={second.size}", headers=inspector)).json()["proof"]  # type: ignore[arg-type]
    wrong = [base64.b64encode(bytes(32)).decode()] * max(1, len(proof))
    bad = await client.post(
        "/api/ledger/witness/add-checkpoint",
        content=request_body(first.size, wrong, note.cosign(signed2, setup["skey"], 2)),
        headers=inspector,
    )  # type: ignore[arg-type]
    assert bad.status_code == 422
    good = await client.post(
        "/api/ledger/witness/add-checkpoint",
        content=request_body(first.size, proof, note.cosign(signed2, setup["skey"], 3)),
        headers=inspector,
    )  # type: ignore[arg-type]
    assert good.status_code == 200, good.text


async def test_unknown_or_forged_signatures_are_403(client: httpx.AsyncClient, setup: dict[str, object]) -> None:
    inspector = setup["inspector"]
    signed, _ = await checkpoint(client, inspector)  # type: ignore[arg-type]
    stranger, _ = note.generate_key("stranger.example", note.COSIGNATURE_V1)
    unknown = await client.post(
        "/api/ledger/witness/add-checkpoint", content=request_body(0, [], note.cosign(signed, stranger, 1)), headers=inspector
    )  # type: ignore[arg-type]
    assert unknown.status_code == 403
    other_log, _ = note.generate_key("testserver.local/ledger")
    forged_note = note.sign(note.split_note(signed)[0], other_log)
    forged = await client.post(
        "/api/ledger/witness/add-checkpoint", content=request_body(0, [], note.cosign(forged_note, setup["skey"], 1)), headers=inspector
    )  # type: ignore[arg-type]
    assert forged.status_code == 403
    malformed = await client.post("/api/ledger/witness/add-checkpoint", content="nonsense", headers=inspector)  # type: ignore[arg-type]
    assert malformed.status_code == 422


@pytest.mark.parametrize("old", ["\u00b2", "\u0661", "-1", "1 ", ""])
async def test_an_old_size_of_other_than_ascii_digits_is_422(old: str, client: httpx.AsyncClient, setup: dict[str, object]) -> None:
    signed, _ = await checkpoint(client, setup["inspector"])  # type: ignore[arg-type]
    body = f"old {old}\n\n" + note.cosign(signed, setup["skey"], 1)  # type: ignore[arg-type]
    answer = await client.post("/api/ledger/witness/add-checkpoint", content=body.encode(), headers=setup["inspector"])  # type: ignore[arg-type]
    assert answer.status_code == 422
    assert "old <size>" in answer.json()["detail"]


async def test_a_note_key_is_not_a_witness_key(client: httpx.AsyncClient, setup: dict[str, object]) -> None:
    _skey, vkey = note.generate_key("not-a-witness")
    answer = await client.post("/api/ledger/witnesses", json={"vkey": vkey}, headers=setup["admin"])  # type: ignore[arg-type]
    assert answer.status_code == 422
    assert "not a witness" in answer.text


async def test_the_verifier_counts_cosignatures_against_a_quorum(
    client: httpx.AsyncClient, ledger: Ledger, setup: dict[str, object], settings: object
) -> None:
    inspector = setup["inspector"]
    signed, _ = await checkpoint(client, inspector)  # type: ignore[arg-type]
    cosigned = note.cosign(signed, setup["skey"], int(time.time()))  # type: ignore[arg-type]
    assert (
        await client.post("/api/ledger/witness/add-checkpoint", content=request_body(0, [], cosigned), headers=inspector)
    ).status_code == 200  # type: ignore[arg-type]
    signer = LogSigner.for_data_dir(ledger.origin, settings.data_dir)  # type: ignore[attr-defined]
    bundle = io.BytesIO()
    await export_bundle(ledger, signer, bundle)
    bundle.seek(0)
    report = verify_bundle(bundle, signer.vkey, [setup["vkey"]], quorum=1)  # type: ignore[list-item]
    assert report.cosigned_by == ["inspector.example"]
    bundle.seek(0)
    _other, other_vkey = note.generate_key("second.example", note.COSIGNATURE_V1)
    with pytest.raises(VerificationError, match="quorum is 2"):
        verify_bundle(bundle, signer.vkey, [setup["vkey"], other_vkey], quorum=2)  # type: ignore[list-item]


def test_offline_cosigning_from_the_command_line(tmp_path: Path) -> None:
    log_skey, log_vkey = note.generate_key("log.example/ledger")
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(5)]
    first = note.sign(note.format_checkpoint(note.Checkpoint("log.example/ledger", 3, merkle.root(leaves[:3]))), log_skey)
    second = note.sign(note.format_checkpoint(note.Checkpoint("log.example/ledger", 5, merkle.root(leaves))), log_skey)
    (tmp_path / "first").write_text(first)
    (tmp_path / "second").write_text(second)
    proof = merkle.consistency_proof(3, 5, merkle.subtree_from_leaves(leaves))
    (tmp_path / "proof.json").write_text(json.dumps({"proof": [base64.b64encode(p).decode() for p in proof]}))
    env = {**os.environ, "CALIBER_DATA_DIR": str(tmp_path / "data")}

    def caliber(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "caliber", *args], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)

    made = caliber("witness", "keygen", "inspector.example")
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip().splitlines()[-1]
    common = ["ledger", "cosign", "--key", "inspector.example.witness-key", "--log-key", log_vkey, "--state", "state"]
    one = caliber(*common, "first")
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("old 0\n\n")
    assert note.verify_cosignature(one.stdout.partition("\n\n")[2], vkey) > 0
    without_proof = caliber(*common, "second")
    assert without_proof.returncode == 1
    assert "not cosigned" in without_proof.stderr
    two = caliber(*common, "--proof", "proof.json", "second")
    assert two.returncode == 0, two.stderr
    assert two.stdout.startswith("old 3\n")
