"""Bulk imports of weapons, components and ammunition lots from CSV or XLSX files."""
