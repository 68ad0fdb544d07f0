"""When deltas go up as row runs and when as one full upload (no GL needed)."""

from __future__ import annotations

import numpy as np

from scythe_desktop.render.nodes import UploadPolicy


def test_nearby_runs_merge_into_one_write():
    policy = UploadPolicy(merge_gap_rows=4, max_runs=8, full_fraction=0.5)
    assert policy.plan(np.array([1, 2, 3, 6, 7, 40]), 1000) == [(1, 8), (40, 41)]


def test_empty_delta_uploads_nothing():
    assert UploadPolicy().plan(np.zeros(0, np.int64), 100) == []


def test_scattered_churn_falls_back_to_a_full_upload():
    policy = UploadPolicy(merge_gap_rows=0, max_runs=8, full_fraction=0.5)
    assert policy.plan(np.arange(0, 100, 2), 1000) is None  # 50 runs > 8


def test_covering_most_rows_falls_back_to_a_full_upload():
    policy = UploadPolicy(merge_gap_rows=0, max_runs=8, full_fraction=0.5)
    assert policy.plan(np.arange(0, 600), 1000) is None
    assert policy.plan(np.arange(0, 400), 1000) == [(0, 400)]


def test_a_uniform_five_percent_delta_becomes_one_full_upload():
    rows = np.unique(np.random.default_rng(0).integers(0, 100_000, 5000))
    assert UploadPolicy().plan(rows, 100_000) is None
