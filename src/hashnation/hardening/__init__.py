"""Hardening: fuzz targets for every parser of outside input, crash trials, security checks.

The benchmarks under ``bench/`` (``bench/hardening`` runs them all) and the tests under
``tests/hardening`` drive these modules; nothing here runs in production code paths.
"""
