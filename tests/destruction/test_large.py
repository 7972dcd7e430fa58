"""A destruction of many weapons, end to end, in the batches its users send: intake by import, status changes,
the manifest, site verification 500 scans an upload, the certificate.

The region destroys 30,000 in a day: that size is the scale check of ``python -m bench.destruction``, not run here.
"""

from __future__ import annotations

import json
from pathlib import Path

from caliber.destruction.models import Stage
from caliber.destruction.schemas import AttestationInput, ManifestChange, ResidueCheck, Verification
from caliber.destruction.service import DestructionService
from caliber.imports.importer import Importer
from caliber.items.lifecycle import Action
from caliber.items.schemas import StatusChange
from caliber.items.service import ItemService
from tests.destruction.helpers import cast, plan, through_the_day
from tests.factories import OPERATOR, Factory

COUNT = 1_200
BATCH = 500


async def test_a_manifest_of_many_weapons_is_destroyed_and_certified(
    factory: Factory, items: ItemService, destructions: DestructionService, tmp_path: Path
) -> None:
    day = await cast(factory, items=0)
    rows = ["serial,manufacturer,model,calibre,un_type,intake_source"]
    rows += [f"Z{n:06d},Zastava,M48,7.92x57mm,rifle,surplus" for n in range(COUNT)]
    source = tmp_path / "rifles.csv"
    source.write_text("\n".join(rows) + "\n")
    report = await Importer(items).run(OPERATOR, source, day.depot.code, valid_only=False)
    assert report.imported == COUNT
    codes = await items.import_codes(report.sha256)
    for action in (Action.DECLARE_SURPLUS, Action.APPROVE_DESTRUCTION):
        for start in range(0, COUNT, BATCH):
            await items.change_status_many(OPERATOR, "item", codes[start : start + BATCH], StatusChange(action, "surplus"))

    event = await destructions.plan(day.clerk, plan(day))
    added = await destructions.change_manifest(day.clerk, event.id, ManifestChange(add=codes))
    assert len(added.added) == COUNT
    await destructions.approve(day.manager, event.id)
    for start in range(0, COUNT, BATCH):
        await destructions.verify(day.witnesses[0], event.id, Verification(codes[start : start + BATCH]))
    await through_the_day(destructions, day, event, verify=False)
    await destructions.check_residue(day.witnesses[1], event.id, ResidueCheck("all receivers melted"))
    digest = await destructions.current_sha256(day.manager, event.id, Stage.AFTER)
    for witness in day.witnesses:
        await destructions.attest(witness, event.id, AttestationInput(Stage.AFTER, digest))
    await destructions.certify(day.manager, event.id)
    view = await destructions.get(day.manager, event.id)
    assert view.counts == {"certified": COUNT}
    content = json.loads(await destructions.certificate(day.manager, event.id))
    assert {w["serial"] for w in content["weapons"]} == {f"Z{n:06d}" for n in range(COUNT)}
    assert content["counts"]["weapons_by_type"] == {"rifle": COUNT}
