"""gatesim performance benchmarks (not part of the test suite).

Run from the repository root, e.g. ``python -m benchmarks.bench_engine --quick``.
See benchmarks/README.md.
"""
