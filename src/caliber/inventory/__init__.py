"""Depots, storage locations and (later) the items kept in them."""
