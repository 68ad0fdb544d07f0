"""R9: hardening — revoked or expired credentials, decompression bombs, frame gaps under GetField load, and
keepalive GOAWAYs over an hour of console pings (issue 16, items 9–12).

* ``revoked_or_expired_credentials_accepted`` (:mod:`rel_revocation`): attempts with dead credentials that got
  through, streams past their token's expiry included. Target 0.
* ``decompression_bomb_peak_rss_mb`` (:mod:`rel_bomb`): the reader's peak RSS on a 15 KB recording whose chunk
  expands to 400 MiB (zstd and lz4, honest and lying sizes), and what repair keeps. Target ≤ 300.
* ``frame_gap_p99_ms_with_field_requests`` (:mod:`rel_field_gaps`): node-frame gaps of a ``scythe serve``
  stream while three viewers call GetField in a loop. Target ≤ 1,000.
* ``goaway_in_console_hour`` (:mod:`rel_keepalive`): GOAWAYs the console's connections to the embedded server
  receive over the pings of an hour (360 per idle connection), with every keepalive interval shrunk ten times
  on both sides, i.e. six minutes of wall time. Target 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_hardening(quick: bool, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_bomb import run_bombs
    from benchmarks.reliability.rel_field_gaps import run_field_gaps
    from benchmarks.reliability.rel_keepalive import pings_per_hour, run_keepalive
    from benchmarks.reliability.rel_revocation import run_revocation

    out: dict[str, Any] = {}
    out.update(run_revocation(tmp / "revocation", 2 if quick else 20))
    out.update(run_bombs(tmp / "bombs", (150 if quick else 400) << 20))
    out.update(run_field_gaps(tmp / "fields", 5.0 if quick else 60.0))
    keepalive = run_keepalive(3 if quick else pings_per_hour(), 0.1)
    out["goaway_in_console_hour"] = keepalive["goaways"]
    out.update({(k if k.startswith("keepalive") else f"keepalive_{k}"): v for k, v in keepalive.items()
                if k != "goaways"})
    return out


__all__ = ["run_hardening"]
