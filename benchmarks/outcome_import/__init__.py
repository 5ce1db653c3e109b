"""Benchmark of the outcome import (outcomes/importing/) against a bare PostgreSQL COPY of the
same rows. See benchmarks/README.md and RESULTS.md beside this file."""
