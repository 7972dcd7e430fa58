"""Depots, their storage locations and the jurisdictions they belong to."""
