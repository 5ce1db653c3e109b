"""Benchmarks (scripts, not timed tests). Run through management commands, e.g. `bench_sweep`."""
