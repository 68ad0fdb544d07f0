"""Load the offline basemap (country outlines) shipped in ``resources/basemap``, with numpy alone.

The file is produced once by ``scripts/build_basemap.py`` from Natural Earth 1:110m (public domain);
nothing is ever downloaded at run time. This module only reads and checks it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def resources_dir() -> Path:
    """The ``resources/`` folder: next to the package in a checkout, or unpacked by PyInstaller."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


DEFAULT_BASEMAP = "basemap/ne_110m_borders.npz"


@dataclass(frozen=True)
class Basemap:
    """Country outlines as polylines: ``lonlat[offsets[k]:offsets[k+1]]`` is outline ``k`` (degrees)."""

    lonlat: NDArray[np.float32]
    offsets: NDArray[np.int64]
    country_of_line: NDArray[np.int32]
    country_names: NDArray[np.str_]
    source: str
    licence: str

    @property
    def line_count(self) -> int:
        return int(self.offsets.shape[0] - 1)


def load_basemap(path: str | Path | None = None) -> Basemap:
    """Read and validate a basemap ``.npz``; raises ``ValueError`` naming the file and what is wrong."""
    path = Path(path) if path is not None else resources_dir() / DEFAULT_BASEMAP
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read basemap {path}: {exc}") from exc
    required = ("lonlat", "offsets", "country_of_line", "country_names", "source", "licence")
    missing = [k for k in required if k not in fields]
    if missing:
        raise ValueError(f"basemap {path} lacks {', '.join(missing)}")
    lonlat, offsets = fields["lonlat"], fields["offsets"]
    if lonlat.ndim != 2 or lonlat.shape[1] != 2 or lonlat.dtype != np.float32:
        raise ValueError(f"basemap {path}: lonlat must be float32 (P, 2), got {lonlat.dtype} {lonlat.shape}")
    if offsets.ndim != 1 or offsets[0] != 0 or offsets[-1] != lonlat.shape[0] or (np.diff(offsets) < 2).any():
        raise ValueError(f"basemap {path}: offsets must rise from 0 to {lonlat.shape[0]} in steps of >= 2")
    if not np.isfinite(lonlat).all() or (np.abs(lonlat[:, 0]) > 180).any() or (np.abs(lonlat[:, 1]) > 90).any():
        raise ValueError(f"basemap {path}: lonlat must be finite degrees within [-180, 180] x [-90, 90]")
    return Basemap(
        lonlat=lonlat,
        offsets=offsets.astype(np.int64),
        country_of_line=fields["country_of_line"].astype(np.int32),
        country_names=fields["country_names"],
        source=str(fields["source"]),
        licence=str(fields["licence"]),
    )


__all__ = ["DEFAULT_BASEMAP", "Basemap", "load_basemap", "resources_dir"]
