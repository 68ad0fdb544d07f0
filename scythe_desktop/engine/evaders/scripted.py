"""The scripted evaders: deterministic rules over the evader's view, vectorised over worlds.

Each one scores candidate moves per cluster row and sends the ``moves_per_tick`` best (score > 0); the
engine refuses what the stealth budget cannot pay, so a rule never needs to count points itself.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.adversary_spec import Adversary
from scythe_desktop.engine.batch.evader import ACTIVATE, DECOY, GO_QUIET, NONE, SHIFT, EvaderMoves, EvaderView
from scythe_desktop.engine.clusters import ACTIVATING, ACTIVE, QUIET
from scythe_desktop.engine.geo import destination, initial_bearing, unit_vectors

#: Decoys the decoy evader keeps alive at once.
DECOYS_ALIVE: Final = 3
#: How far from the cluster it imitates a decoy appears (km).
DECOY_OFFSET_KM: Final = 150.0
#: evade-when-watched activates only where the footprints sum below this (far outside every observer's reach)…
CALM_EXPOSURE: Final = 0.02
#: … and only while it holds this share of its stealth budget.
ACTIVATE_RESERVE: Final = 0.75


def _pick(view: EvaderView, moves_per_tick: int, candidates: list[tuple[int, NDArray[np.float64]]],
          first: EvaderMoves | None = None) -> EvaderMoves:
    """The best-scored (kind, row) pairs per world, best first; ``first`` fills slot 0 where it has a move."""
    b, c = view.own.shape
    scores = np.concatenate([s for _, s in candidates], axis=1)
    kinds = np.repeat(np.array([k for k, _ in candidates], dtype=np.int64), c)
    rows = np.tile(np.arange(c, dtype=np.int64), len(candidates))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :moves_per_tick]
    top = np.take_along_axis(scores, order, axis=1)
    out = EvaderMoves.none(b, moves_per_tick)
    out.kind[:] = np.where(top > 0.0, kinds[order], NONE)
    out.row[:] = np.where(top > 0.0, rows[order], -1)
    if first is not None:
        has = first.kind[:, 0] != NONE
        for name in ("kind", "row", "bearing", "lon", "lat"):
            col = getattr(out, name)
            col[has, 1:] = col[has, :-1].copy()
            col[has, 0] = getattr(first, name)[has, 0]
    return out


def away_from_nearest_observer(view: EvaderView) -> NDArray[np.float64]:
    """(B, C) bearing that leads each cluster straight away from its nearest observer (0 with none)."""
    cx = unit_vectors(view.lon, view.lat)  # (B, C, 3)
    ox = unit_vectors(view.observer_lon, view.observer_lat)  # (B, O, 3)
    # Written out (no BLAS: its blocking depends on the batch's shapes, and a world must not depend on them).
    dots = cx[:, :, None, 0] * ox[:, None, :, 0]
    dots += cx[:, :, None, 1] * ox[:, None, :, 1]
    dots += cx[:, :, None, 2] * ox[:, None, :, 2]
    dots = np.where(view.observer_live[:, None, :], dots, -2.0)
    nearest = dots.argmax(axis=2)
    olon = np.take_along_axis(view.observer_lon, nearest, axis=1)
    olat = np.take_along_axis(view.observer_lat, nearest, axis=1)
    anyone = np.asarray(view.observer_live.any(axis=1))[:, None]
    return np.where(anyone, initial_bearing(olon, olat, view.lon, view.lat), 0.0)


class WatchedEvader:
    """``evade-when-watched``: goes quiet where it is watched, shifts watched quiet clusters away from the
    nearest observer, and activates at most one cluster a tick, far outside every footprint, while it holds
    three quarters of its stealth.

    Optimises: few detections, activations that complete unseen. Weakness: it reacts to where observers are
    now and never misleads; and the clusters it quiets under watch later reactivate at the scenario's rate,
    under that watch (measured on ``adversarial``, seeds 1000..1002, against the shipped network: detections
    2,828 → 1,704, but early activations caught 54 → 83)."""

    name = "evade-when-watched"

    def __init__(self, adversary: Adversary) -> None:
        self.adv = adversary

    def moves(self, view: EvaderView) -> EvaderMoves:
        a = self.adv
        real = view.own & ~view.decoy
        watched = view.exposure > a.watched_exposure
        loud = (view.state == ACTIVE) | (view.state == ACTIVATING)
        quiet_score = np.where(real & watched & loud, 2.0 + view.exposure + (view.state == ACTIVATING), 0.0)
        shift_score = np.where(real & watched & (view.state == QUIET), 1.0 + view.exposure, 0.0)
        # One activation a tick at most, only far outside every footprint and with most of the budget left to
        # hide it again: an activation that is seen is caught, and every one costs stealth.
        reserve = (view.stealth >= ACTIVATE_RESERVE * a.stealth_budget)[:, None]
        calm = view.exposure < CALM_EXPOSURE
        activate_score = np.where(real & calm & (view.state == QUIET) & reserve, 0.5 - view.exposure, 0.0)
        best = activate_score.argmax(axis=1)
        activate_score = np.where(np.arange(activate_score.shape[1]) == best[:, None], activate_score, 0.0)
        out = _pick(view, a.moves_per_tick, [(GO_QUIET, quiet_score), (SHIFT, shift_score), (ACTIVATE, activate_score)])
        away = away_from_nearest_observer(view)
        rows = np.maximum(out.row, 0)
        out.bearing[:] = np.where(out.kind == SHIFT, np.take_along_axis(away, rows, axis=1), 0.0)
        return out


class DecoyEvader:
    """``decoy``: keeps up to three decoys alive beside its most exposed real cluster (to hold observers
    there) and activates its least watched quiet clusters elsewhere.

    Optimises: drawing observers and their spend away from where it activates. Weakness: it never hides;
    a defender that ignores new loud clusters near old ones is not misled."""

    name = "decoy"

    def __init__(self, adversary: Adversary) -> None:
        self.adv = adversary

    def moves(self, view: EvaderView) -> EvaderMoves:
        a = self.adv
        b = view.own.shape[0]
        real = view.own & ~view.decoy
        decoys = np.count_nonzero(view.own & view.decoy, axis=1)
        calm = view.exposure < a.watched_exposure
        activate_score = np.where(real & calm & (view.state == QUIET), 1.0 - view.exposure / max(a.watched_exposure,
                                                                                                  1e-9), 0.0)
        first = EvaderMoves.none(b, 1)
        # The decoy goes beside the real cluster observers already favour (or the largest one, with none).
        lure = np.where(real, view.exposure + 1e-6 * view.node_count, -1.0)
        anchor = lure.argmax(axis=1)
        want = (decoys < DECOYS_ALIVE) & real.any(axis=1)
        lon = np.take_along_axis(view.lon, anchor[:, None], axis=1)[:, 0]
        lat = np.take_along_axis(view.lat, anchor[:, None], axis=1)[:, 0]
        bearing = (view.tick * 137.0 + 45.0 * decoys) % 360.0  # a new direction for each decoy
        dlon, dlat = destination(lon, lat, bearing, DECOY_OFFSET_KM)
        first.kind[want, 0] = DECOY
        first.lon[:, 0], first.lat[:, 0] = dlon, dlat
        return _pick(view, a.moves_per_tick, [(ACTIVATE, activate_score)], first=first)


__all__ = ["DECOYS_ALIVE", "DecoyEvader", "WatchedEvader", "away_from_nearest_observer"]
