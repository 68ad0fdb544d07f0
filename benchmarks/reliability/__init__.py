"""Reliability harnesses R1–R7 (restarts, load, fuzz, auth matrix, guardrails, recording kills, soak).

Not part of the product: run them from the repository root with ``python -m benchmarks.reliability``
(docs/reliability.md)."""
