"""Destruction events, from the plan to the certificate: the only code that changes them, every step a custody event.

Events (structs in :mod:`caliber.destruction.events`; lists of codes go in
chunks of at most :data:`~caliber.destruction.queries.CHUNK` an event, each
event naming the destruction and the records it changes, so every weapon's own
custody chain shows its destruction):

- ``destruction.planned``: id, code, depot_id, site_depot_id, site_name,
  site_address, planned_date, methods, authority_number, authority_date,
  organiser, required_witnesses, observer_names, observer_organisations, notes
- ``destruction.manifest_changed``: id, items, lots (added), removed, reason,
  amendment (a change after approval: the manifest needs approval again)
- ``destruction.approved``: id, manifest_sha256, records
- ``destruction.verified``: id, codes, serial_read (checked at the site)
- ``destruction.unexpected``: id, code, kind (scanned at the site, not on the manifest)
- ``destruction.withdrawn``: id, codes, reason, missing
- ``destruction.attested``: id, stage, manifest_sha256, user_id, name, role, statement
- ``destruction.photo_added``: id, sha256, stage, content_type, size
- ``destruction.returned``: id, codes, reason (not destroyed on the day: back to storage)
- ``destruction.destroyed``: id, codes, methods
- ``destruction.completed``: id, methods_used, started_at, ended_at, destroyed, returned
- ``destruction.residue_checked``: id, codes, notes
- ``destruction.certified``: id, codes, certificate_sha256

The steps are in :mod:`~caliber.destruction.manifest` (the plan, the manifest,
its approval and the site's checks against it) and :mod:`~caliber.destruction.day`
(attestations, photographs, the result, the residue check, the certificate);
what they read, and the manifest hash, in :mod:`~caliber.destruction.queries`;
what applies each event to the tables in :mod:`~caliber.destruction.appliers`.
"""

from __future__ import annotations

from caliber.destruction.day import DaySteps
from caliber.destruction.manifest import ManifestSteps

__all__ = ["DestructionService"]


class DestructionService(ManifestSteps, DaySteps):
    """Plan, manifest, site verification, attestation, completion and certification of destruction events."""
