"""A certificate of destruction checked offline against an exported ledger bundle, with the inspector's verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caliber.db import Database
from caliber.destruction.certificate import certificate_bytes, statement
from caliber.destruction.models import Stage
from caliber.destruction.schemas import AttestationInput, ResidueCheck
from caliber.destruction.service import DestructionService
from caliber.ledger import canonical
from caliber.ledger.audit import export_bundle
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.ledger.verify import VerificationError, main, verify_certificate
from tests.destruction.helpers import approved, cast, through_the_day
from tests.factories import Factory


async def certified(factory: Factory, destructions: DestructionService, db: Database) -> bytes:
    day = await cast(factory, items=3, lots=1)
    event = await approved(destructions, day)
    await through_the_day(destructions, day, event)
    await destructions.check_residue(day.witnesses[1], event.id, ResidueCheck("cut and melted"))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.AFTER)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.AFTER, digest))
    await destructions.certify(day.manager, event.id)
    async with db.read() as session:
        return certificate_bytes(await statement(session, event.id))


async def test_caliber_verify_checks_a_certificate_against_the_bundle(
    factory: Factory, destructions: DestructionService, db: Database, ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statement_bytes = await certified(factory, destructions, db)
    signer = LogSigner.for_data_dir(ledger.origin, tmp_path)
    bundle = tmp_path / "bundle"
    with bundle.open("wb") as out:
        await export_bundle(ledger, signer, out)
    certificate = tmp_path / "certificate.json"
    certificate.write_bytes(statement_bytes)
    assert main([str(bundle), "--log-key", signer.vkey, "--certificate", str(certificate)]) == 0
    assert "OK: certificate of destruction" in capsys.readouterr().out

    content = json.loads(statement_bytes)
    content["weapons"][0]["serial"] = "ALTERED"
    certificate.write_bytes(canonical.encode(content))
    assert main([str(bundle), "--log-key", signer.vkey, "--certificate", str(certificate)]) == 1
    assert "no entry of the ledger certifies" in capsys.readouterr().err

    certificate.write_bytes(json.dumps(json.loads(statement_bytes), indent=1).encode())
    with bundle.open("rb") as stream, pytest.raises(VerificationError, match="not the canonical JSON"):
        verify_certificate(stream, certificate.read_bytes())
