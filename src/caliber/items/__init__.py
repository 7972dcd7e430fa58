"""Weapons, components and ammunition lots: intake, look-up, moves, lifecycle actions, corrections, splits."""
