"""Witnessed destruction: events, manifests, site verification, witnesses, certificates."""
