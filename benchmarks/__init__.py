"""Benchmarks for hive-socket: what the SDK costs per request, against hand-written calls.

Run ``python -m benchmarks`` (or ``nox -s bench``); ``benchmarks/run.py`` explains the
method.
"""
