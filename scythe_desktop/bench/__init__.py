"""Benchmarks run by ``scythe bench NAME``; each prints one JSON object of ratios against a baseline
measured in the same run, with ``<key>_target`` beside every key that has a goal."""
