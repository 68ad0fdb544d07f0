"""Token buckets per identity: each key earns ``rate`` units a second up to ``burst``; a request spends its cost.

Buckets of keys not seen for a while are dropped (a full bucket holds no information), and at most
``max_keys`` are kept, so the table cannot grow without bound. Thread-safe; the clock is injectable so
tests never wait. Knows numbers and keys, nothing of gRPC or fields.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    def __init__(self, rate: float, burst: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0 or not burst > 0:
            raise ValueError(f"rate and burst must be > 0, got {rate!r} and {burst!r}")
        self.rate, self.burst = rate, burst
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (level, at)

    def take(self, key: str, cost: float) -> float:
        """Spend ``cost`` from ``key``'s bucket and return 0, or return the seconds until it could (nothing spent).

        A cost above ``burst`` can never be paid: the caller refuses such requests before asking."""
        now = self._clock()
        with self._lock:
            level, at = self._buckets.pop(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            wait = 0.0 if level >= cost else (cost - level) / self.rate
            self._buckets[key] = (level - cost if wait == 0.0 else level, now)
            self._forget(now)
            return wait

    def _forget(self, now: float) -> None:
        refill_s = self.burst / self.rate
        while self._buckets:
            key, (_level, at) = next(iter(self._buckets.items()))
            if len(self._buckets) <= self._max_keys and now - at < refill_s:
                return
            del self._buckets[key]  # the oldest: full again by now, or one too many


__all__ = ["TokenBuckets"]
