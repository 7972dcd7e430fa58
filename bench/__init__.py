"""Benchmarks: each prints its figures and their ratio to a reference measured in the same run."""
