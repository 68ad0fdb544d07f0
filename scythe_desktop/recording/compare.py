"""Two futures side by side: the divergence of two recordings (a branch and its parent, or any two runs of one
world) over time, and where their decisions differ.

The figures are the running totals every simulated recording carries on its metrics channel (the episode
meter of :mod:`scythe_desktop.recording.simulate`): information gain (bits), the seed reward with the default
weights, $ spent, distinct clusters detected, and early activations caught (the engine's own tally). A
recording without them (a live one) is refused by name. :func:`compare` aligns the two on their common
ticks; :class:`ObserverTrack` is a recording's observers over time (the console's ghosts of the other future);
:func:`table` formats the result for a terminal; :func:`plot` draws it (matplotlib's Agg canvas, the
optional ``plot`` extra). Knows our schemas, not Qt.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.recording import schemas
from scythe_desktop.recording.decisions import RecordedDecision, read_decisions
from scythe_desktop.recording.durations import format_duration
from scythe_desktop.recording.reader import Recording, RecordingError

#: Compared series: (label, metric on the recording's metrics channel).
SERIES: Final = (
    ("information (bits)", "information_gain_total"),
    ("seed reward", "seed_reward_total"),
    ("cost ($)", "cost_total"),
    ("clusters detected", "clusters_detected_total"),
    ("early activations caught", "activations_caught_total"),
)


@dataclass(frozen=True)
class RunSeries:
    path: Path
    tick_hz: float
    ticks: NDArray[np.int64]
    values: dict[str, NDArray[np.float64]]  # metric -> value at each tick
    decisions: tuple[RecordedDecision, ...]


@dataclass(frozen=True)
class DecisionDifference:
    tick: int
    a: tuple[str, ...]  # the actions A applied at this tick ("deploy satellite at …")
    b: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    a: RunSeries
    b: RunSeries
    ticks: NDArray[np.int64]  # common ticks
    a_values: dict[str, NDArray[np.float64]]
    b_values: dict[str, NDArray[np.float64]]
    divergence_tick: int | None  # first common tick where any compared figure differs
    decision_differences: tuple[DecisionDifference, ...]

    def delta(self, metric: str) -> NDArray[np.float64]:
        """B minus A at each common tick."""
        return self.b_values[metric] - self.a_values[metric]


def load_series(path: str | Path) -> RunSeries:
    """The compared figures of one recording, tick by tick, and its decisions."""
    with Recording(path) as rec:
        tick_hz = float(rec.metadata.get("tick_hz", "5"))
        ticks: list[int] = []
        rows: list[list[float]] = []
        names = [metric for _, metric in SERIES]
        for m in rec.messages([schemas.TOPIC_METRICS]):
            msg = schemas.Metrics.FromString(m.data)
            got = {v.name: v.value for v in msg.values}
            missing = [n for n in names if n not in got]
            if missing:
                raise RecordingError(
                    f"{rec.path}: its metrics lack {', '.join(missing)} (recorded live or by an older version: "
                    "only `scythe simulate` and `scythe whatif` recordings carry the running totals compared)")
            ticks.append(int(msg.tick))
            rows.append([got[n] for n in names])
        if not ticks:
            raise RecordingError(f"{rec.path}: has no metrics to compare")
        decisions = tuple(read_decisions(rec))
    table = np.asarray(rows, dtype=np.float64)
    return RunSeries(Path(path), tick_hz, np.asarray(ticks, dtype=np.int64),
                     {n: table[:, i] for i, n in enumerate(names)}, decisions)


@dataclass(frozen=True)
class ObserverTrack:
    """A recording's observer lists over time: ``lonlat[i]`` (K, 2) from ``times_ns[i]`` on."""

    times_ns: tuple[int, ...]
    lonlat: tuple[NDArray[np.float64], ...]

    @classmethod
    def read(cls, path: Path) -> ObserverTrack:
        times: list[int] = []
        where: list[NDArray[np.float64]] = []
        with Recording(path) as rec:
            for m in rec.messages([schemas.TOPIC_OBSERVERS]):
                frame = pb.Frame.FromString(m.data)
                observers = pb.ObserverList.FromString(frame.payload).observers
                times.append(m.log_time_ns)
                where.append(np.array([(o.lon, o.lat) for o in observers], dtype=np.float64).reshape(-1, 2))
        return cls(tuple(times), tuple(where))

    def at(self, t_ns: int) -> NDArray[np.float64]:
        """The observers (lon, lat) in force at ``t_ns`` (none before the first list)."""
        i = bisect.bisect_right(self.times_ns, t_ns) - 1
        return self.lonlat[i] if i >= 0 else np.zeros((0, 2))


def _applied_by_tick(run: RunSeries) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {}
    for d in run.decisions:
        if d.took:
            out.setdefault(d.tick, []).append(f"{d.proposal.kind} {d.proposal.target}")
    return {t: tuple(v) for t, v in out.items()}


def compare(a: RunSeries, b: RunSeries) -> Comparison:
    common, ia, ib = np.intersect1d(a.ticks, b.ticks, assume_unique=False, return_indices=True)
    if not common.size:
        raise RecordingError(f"{a.path} and {b.path} share no tick: they are not two futures of one world")
    av = {n: v[ia] for n, v in a.values.items()}
    bv = {n: v[ib] for n, v in b.values.items()}
    differs = np.zeros(common.size, dtype=bool)
    for n in av:
        differs |= av[n] != bv[n]
    hit = np.flatnonzero(differs)
    applied_a, applied_b = _applied_by_tick(a), _applied_by_tick(b)
    lo, hi = int(common[0]), int(common[-1])
    diffs = tuple(
        DecisionDifference(t, applied_a.get(t, ()), applied_b.get(t, ()))
        for t in sorted(set(applied_a) | set(applied_b))
        if lo <= t <= hi and applied_a.get(t, ()) != applied_b.get(t, ())
    )
    return Comparison(a, b, common, av, bv, int(common[hit[0]]) if hit.size else None, diffs)


def _row_ticks(c: Comparison, rows: int) -> list[int]:
    """The ticks the table shows: the last before divergence, evenly spaced ticks after it, the last."""
    ticks = c.ticks
    start = c.divergence_tick if c.divergence_tick is not None else int(ticks[0])
    after = ticks[ticks >= start]
    picks = {int(after[round(i)]) for i in np.linspace(0, after.size - 1, rows)} if after.size else set()
    before = ticks[ticks < start]
    if before.size:
        picks.add(int(before[-1]))
    return sorted(picks)


def table(c: Comparison, rows: int = 6) -> str:
    """The comparison for a terminal: divergence, B − A over time per figure, and the differing decisions."""
    hz = c.a.tick_hz
    lines = [f"A: {c.a.path}", f"B: {c.b.path}"]
    if c.divergence_tick is None:
        lines.append(f"the figures never diverge over {c.ticks.size} common ticks")
    else:
        lines.append(f"the figures diverge at {format_duration(c.divergence_tick / hz)} (tick {c.divergence_tick})")
    index = {int(t): i for i, t in enumerate(c.ticks)}
    head = f"{'time':>10}  " + "  ".join(f"{label:>26}" for label, _ in SERIES)
    lines += ["", "A → B at each time (B − A in brackets)", head]
    for t in _row_ticks(c, rows):
        i = index[t]
        cells = []
        for _, metric in SERIES:
            va, vb = c.a_values[metric][i], c.b_values[metric][i]
            cells.append(f"{f'{va:.1f} → {vb:.1f} ({vb - va:+.1f})':>26}")
        lines.append(f"{format_duration(t / hz):>10}  " + "  ".join(cells))
    lines += ["", f"decisions that differ: {len(c.decision_differences)}"]
    for d in c.decision_differences[:20]:
        lines.append(f"  {format_duration(d.tick / hz):>10}  A: {'; '.join(d.a) or '—'}  |  B: {'; '.join(d.b) or '—'}")
    if len(c.decision_differences) > 20:
        lines.append(f"  … and {len(c.decision_differences) - 20} more")
    return "\n".join(lines)


def as_dict(c: Comparison) -> dict[str, object]:
    """The comparison as JSON-ready values: final figures of both, divergence, differing decisions."""
    return {
        "a": str(c.a.path), "b": str(c.b.path), "common_ticks": int(c.ticks.size),
        "divergence_tick": c.divergence_tick,
        "final": {metric: {"a": float(c.a_values[metric][-1]), "b": float(c.b_values[metric][-1])}
                  for _, metric in SERIES},
        "decision_differences": [{"tick": d.tick, "a": list(d.a), "b": list(d.b)} for d in c.decision_differences],
    }


def plot(c: Comparison, path: Path) -> Path:
    """Write ``path`` (PNG): each figure of A and B over time, the divergence and the differing decisions marked."""
    from scythe_desktop.engine.rl.plot import INSTALL_HINT

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    fig = Figure(figsize=(8.0, 2.0 * len(SERIES)), dpi=110)
    FigureCanvasAgg(fig)
    minutes = c.ticks / c.a.tick_hz / 60.0
    marks = [d.tick / c.a.tick_hz / 60.0 for d in c.decision_differences]
    for row, (label, metric) in enumerate(SERIES):
        ax = fig.add_subplot(len(SERIES), 1, row + 1)
        ax.plot(minutes, c.a_values[metric], color="0.35", lw=1.2, label=f"A {c.a.path.name}")
        ax.plot(minutes, c.b_values[metric], color="tab:orange", lw=1.2, label=f"B {c.b.path.name}")
        if c.divergence_tick is not None:
            ax.axvline(c.divergence_tick / c.a.tick_hz / 60.0, color="tab:red", lw=0.8, ls="--")
        for x in marks[:200]:
            ax.axvline(x, color="tab:red", lw=0.3, alpha=0.25)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if row == 0:
            ax.legend(fontsize=7, loc="upper left")
    fig.axes[-1].set_xlabel("minutes from the recording's start (red: where the decisions differ)", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


__all__ = ["SERIES", "Comparison", "DecisionDifference", "ObserverTrack", "RunSeries", "as_dict", "compare",
           "load_series", "plot", "table"]
