"""Summary statistics for evaluation tables: mean and a Student-t 95% confidence half-width.

Kept apart from the episode runner so that tables, CSV/JSON writers and benchmarks agree on one formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class MeanCI:
    mean: float
    half_width: float  # 95% two-sided, Student t with n - 1 degrees of freedom; 0 for n < 2
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3g} ± {self.half_width:.2g}"


def mean_ci95(values: Sequence[float]) -> MeanCI:
    """Mean and 95% CI half-width of ``values`` (NaN mean for an empty sequence)."""
    n = len(values)
    if n == 0:
        return MeanCI(math.nan, math.nan, 0)
    mean = math.fsum(values) / n
    if n < 2:
        return MeanCI(mean, 0.0, n)
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(var / n)
    return MeanCI(mean, half, n)
