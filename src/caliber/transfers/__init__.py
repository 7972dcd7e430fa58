"""Transfers between depots: a sealed manifest dispatched by one depot and received, scan by scan, by the other."""
