"""Benchmarks (not tests): ``python -m bench``. They print tables; figures go in docs and notes."""
