"""Depots, storage locations, the weapons, components and ammunition lots kept in them, transfers, stock checks and imports."""
