"""Harnesses that are not part of the product (they never ship in the package or the binary)."""
