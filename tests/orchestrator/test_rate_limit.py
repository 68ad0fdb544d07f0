"""Token buckets per identity, on an injected clock (no waiting)."""

from __future__ import annotations

import pytest

from scythe_desktop.orchestrator.rate_limit import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_key_spends_its_own_burst_and_refills_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=10.0, burst=100.0, clock=clock)
    assert buckets.take("a", 100.0) == 0.0
    assert buckets.take("a", 30.0) == pytest.approx(3.0)  # nothing spent by a refusal
    assert buckets.take("b", 100.0) == 0.0
    clock.now = 3.0
    assert buckets.take("a", 30.0) == 0.0
    assert buckets.take("a", 1.0) == pytest.approx(0.1)


def test_the_table_is_bounded() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=10.0, max_keys=3, clock=clock)
    for i in range(50):
        buckets.take(f"k{i}", 5.0)
    assert len(buckets._buckets) == 3
    clock.now = 100.0  # every bucket full again: forgotten
    buckets.take("new", 1.0)
    assert list(buckets._buckets) == ["new"]


def test_rate_and_burst_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBuckets(rate=0.0, burst=1.0)
