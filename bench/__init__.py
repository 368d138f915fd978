"""Benchmarks for probed: recovery latency and probe cost against the alternatives, stampede,
scale and idle cost. One command, `python -m bench [--smoke] [--out docs/]`, writes
docs/benchmarks.md and docs/benchmarks-recovery.png. Not a runtime part of probed."""
