"""Replicate sums computed in the background while the report goes on
(`BootstrapWeights.flush_ahead`): the same sums as one flush at the end and as the
weights matrix written out, and a failure there is raised, not lost."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from crmroi.kpi import compute_kpi_report
from crmroi.kpi.intervals import BootstrapWeights, poisson_weights
from crmroi.store import Store
from tests.test_kpi_prefetch import _same

NAMES = [f"ACC-{i:05d}" for i in range(3000)] + ["rep-a", "rep-b"]


def _requests(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, ...]]:
    """n KPIs' entries: units, teams, columns (of 6) and values (some zero)."""
    out = []
    for _ in range(n):
        size = int(rng.integers(50, 4000))
        unit = rng.integers(0, len(NAMES), size)
        team = rng.integers(0, 3, size)
        col = rng.integers(0, 6, size)
        val = np.round(rng.normal(100, 40, size), 2) * (rng.random(size) > 0.1)
        out.append((unit, team, col, val))
    return out


def _run(requests: list[tuple[np.ndarray, ...]], ahead: int | None) -> list[np.ndarray]:
    weights = BootstrapWeights(11, 200, NAMES)
    if ahead is not None:
        weights.AHEAD = ahead
    outs = []
    for unit, team, col, val in requests:
        out = np.zeros((200, 6))
        weights.add(out, unit, team, col, val)
        outs.append(out)
        if ahead is not None:
            weights.flush_ahead()
    weights.flush()
    return outs


def test_background_sums_are_the_weights_times_the_sums() -> None:
    requests = _requests(np.random.default_rng(5), 9)
    at_end, ahead = _run(requests, None), _run(requests, 1)
    w = poisson_weights(11, 200, NAMES)  # (units x replicates), written out whole
    for (unit, _, col, val), a, b in zip(requests, at_end, ahead, strict=True):
        s = np.zeros((len(NAMES), 6))
        np.add.at(s, (unit, col), val)
        want = w.T @ s
        np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(b, want, rtol=1e-12, atol=1e-9)
    assert not [t for t in threading.enumerate() if t.name.startswith("crmroi-bootstrap")]


def test_a_background_failure_is_raised_at_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    weights = BootstrapWeights(11, 50, NAMES)
    weights.AHEAD = 1
    compute = BootstrapWeights._compute

    def failing(self: BootstrapWeights, requests: list, key_of: np.ndarray) -> None:
        if threading.current_thread().name.startswith("crmroi-bootstrap"):
            raise MemoryError("no room for the weights")
        compute(self, requests, key_of)

    monkeypatch.setattr(BootstrapWeights, "_compute", failing)
    unit, team, col, val = _requests(np.random.default_rng(1), 1)[0]
    weights.add(np.zeros((50, 6)), unit, team, col, val)
    weights.flush_ahead()
    with pytest.raises(MemoryError, match="no room"):
        weights.flush()
    assert not [t for t in threading.enumerate() if t.name.startswith("crmroi-bootstrap")]


def test_report_with_sums_ahead_is_the_same(
    small_demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The small demo queues too few entries to compute any ahead; with the threshold
    at one entry every KPI's sums are computed in the background: same report."""
    with Store.open(small_demo_folder) as store:
        at_end = [k.__dict__ for k in compute_kpi_report(store, bootstrap=300, seed=2).kpis]
        monkeypatch.setattr(BootstrapWeights, "AHEAD", 1)
        ahead = [k.__dict__ for k in compute_kpi_report(store, bootstrap=300, seed=2).kpis]
    assert sum(k["ci_low"] is not None for k in ahead) >= 15
    assert _same(at_end, ahead)
