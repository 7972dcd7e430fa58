"""Label codes, scan normalisation and (later) label renderers."""
