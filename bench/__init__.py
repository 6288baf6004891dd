"""Borderflow benchmarks (``make bench``): throughput, latency and scale on one machine.

Not tests: nothing here asserts a timing. Each benchmark alternates its two sides in windows
(A, B, A, B, …) within one run so that the noise of a shared machine falls on both sides.
"""
