"""The information–cost frontier as a PNG: greedy's curve at budget fractions and one point per policy.

Drawn with matplotlib's Agg canvas directly (no pyplot, no GUI backend, no fonts or tiles downloaded), so it
runs headless and offline. matplotlib is the optional ``plot`` extra; without it :func:`plot_frontier`
raises ImportError with the line to install it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from scythe_desktop.engine.rl.comparison import FrontierPoint

INSTALL_HINT = "--plot needs matplotlib: pip install -e '.[plot]'"


def plot_frontier(
    path: Path, points: Sequence[FrontierPoint], policies: Mapping[str, tuple[float, float]], title: str
) -> Path:
    """Write ``path`` (PNG): the frontier ``points`` and each policy's (information, cost) mean."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    fig = Figure(figsize=(7.5, 5.0), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(
        [p.cost for p in points],
        [p.information_gain for p in points],
        "-o",
        color="0.45",
        ms=4,
        label="greedy at 10 … 100 % of the budget",
    )
    for p in points:
        ax.annotate(
            f"{round(100 * p.fraction)}%",
            (p.cost, p.information_gain),
            fontsize=7,
            color="0.4",
            xytext=(3, -9),
            textcoords="offset points",
        )
    markers = "s^Dv<>ph*"
    for i, (name, (info, cost)) in enumerate(policies.items()):
        ax.plot([cost], [info], markers[i % len(markers)], ms=8, label=name)
    ax.set_xlabel("cost per episode ($)")
    ax.set_ylabel("information gain per episode (bits)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


__all__ = ["INSTALL_HINT", "plot_frontier"]
