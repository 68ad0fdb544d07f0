"""SCYTHE Desktop: an operator console that decides where to look next."""

__version__ = "0.1.0"
