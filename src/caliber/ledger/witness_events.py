"""The witnesses' custody event: an inspector's witness key registered to cosign the log's checkpoints.

Its struct is the ``data`` of the event type; ``docs/events.md`` is written from it.
"""

from __future__ import annotations

from caliber.ledger.events import Event

__all__ = ["WitnessRegistered"]


class WitnessRegistered(Event, frozen=True, kw_only=True):
    """An admin registered an inspector's witness key: checkpoints cosigned with it are accepted from then on."""

    type = "witness.registered"
    name: str
    """The witness's name, the first part of its key (``salw-commission.example/witness``)."""
    vkey: str
    """Its verifier key as a signed-note key line, ``name+hash+base64`` (cosignature/v1): public, never a secret."""
