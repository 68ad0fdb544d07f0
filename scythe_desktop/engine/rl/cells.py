"""The cells of the RL layout: centres of a ``rows × cols`` lon/lat grid over a scenario's playing field, where
the action codec deploys and relocates observers and the grid observation is binned."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.scenario import Scenario


@dataclass(frozen=True)
class CellGrid:
    """Cell centres (row-major) over a lon/lat box; ``lon_min > lon_max`` never happens here (no wrap)."""

    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    rows: int
    cols: int

    @classmethod
    def for_scenario(cls, scenario: Scenario, rows: int, cols: int) -> CellGrid:
        """The bounding box of the regions where observers may go (all regions if none is singled out)."""
        names = scenario.constraints.allowed_regions or tuple(r.name for r in scenario.regions)
        regions = [scenario.region(n) for n in names if n not in scenario.constraints.forbidden_regions]
        if any(r.lon_min > r.lon_max for r in regions):
            lon_min, lon_max = -180.0, 180.0  # a region crosses the antimeridian: use the whole circle
        else:
            lon_min, lon_max = min(r.lon_min for r in regions), max(r.lon_max for r in regions)
        lat_min, lat_max = min(r.lat_min for r in regions), max(r.lat_max for r in regions)
        return cls(lon_min, lon_max, lat_min, lat_max, rows, cols)

    @property
    def centres(self) -> NDArray[np.float64]:
        """(rows * cols, 2) lon/lat of the cell centres, row 0 at the south."""
        lon = self.lon_min + (np.arange(self.cols) + 0.5) * (self.lon_max - self.lon_min) / self.cols
        lat = self.lat_min + (np.arange(self.rows) + 0.5) * (self.lat_max - self.lat_min) / self.rows
        glon, glat = np.meshgrid(lon, lat)
        return np.stack([glon.ravel(), glat.ravel()], axis=1)

    def normalise(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """Map lon/lat into [-1, 1] over the box (outside points fall outside [-1, 1])."""
        x = 2.0 * (lon - self.lon_min) / max(self.lon_max - self.lon_min, 1e-9) - 1.0
        y = 2.0 * (lat - self.lat_min) / max(self.lat_max - self.lat_min, 1e-9) - 1.0
        return x, y

    def cell_of(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.intp]:
        """Row-major cell index per point, -1 outside the box."""
        col = np.floor((lon - self.lon_min) / (self.lon_max - self.lon_min) * self.cols).astype(np.intp)
        row = np.floor((lat - self.lat_min) / (self.lat_max - self.lat_min) * self.rows).astype(np.intp)
        inside = (col >= 0) & (col < self.cols) & (row >= 0) & (row < self.rows)
        return np.where(inside, row * self.cols + col, -1)


__all__ = ["CellGrid"]
