"""Open the console's ``--source``: the one place that picks embedded, remote or replay.

Each kind is implemented outside the console (:mod:`scythe_desktop.client.embedded`,
:mod:`scythe_desktop.client.source`, :mod:`scythe_desktop.recording.replay`) behind the one
:class:`~scythe_desktop.client.source.Source` interface; this module only chooses. No Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scythe_desktop.client.embedded import PolicySpec, open_embedded
from scythe_desktop.client.source import Source, SourceError, SourceSpec, open_remote, parse_source
from scythe_desktop.recording.replay import open_replay


def open_source(
    spec: SourceSpec,
    *,
    scenario: str = "regional",
    seed: int = 0,
    policy: PolicySpec = "auto",
    token: str | None = None,
    tls_ca: Path | None = None,
    embedded_options: dict[str, Any] | None = None,
) -> Source:
    """Open ``spec``. Raises :class:`SourceError` for what cannot be opened (the message says why)."""
    if spec.kind == "embedded":
        return open_embedded(scenario, seed, policy, **(embedded_options or {}))
    if spec.kind == "grpc":
        return open_remote(spec, token, tls_ca)
    if spec.kind == "replay":
        return open_replay(spec)
    raise SourceError(f"unknown source kind {spec.kind!r}")


__all__ = ["Source", "SourceError", "SourceSpec", "open_source", "parse_source"]
