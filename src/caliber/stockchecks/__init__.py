"""Stock checks: what the records expect on the shelves, what is counted there, and a second person to confirm."""
