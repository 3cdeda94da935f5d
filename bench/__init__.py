"""Benchmarks: a synthetic partnership plan of any size, and timings of the board pages."""
