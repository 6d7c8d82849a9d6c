"""The sparse-Jacobian and memory workloads of ``python -m benchmarks``: their rows are measured
and accurate, the analytic Jacobian they compare against agrees with differences, and the memory
figure is a plain ratio."""

import sys
from pathlib import Path

import numpy as np
from reference import jacobian as numeric_jacobian

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the benchmarks package lives beside the tests, not in dualdiff
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_memory, bench_sparse, bench_sparse_jacobian  # noqa: E402
from benchmarks.common import Config  # noqa: E402
from benchmarks.timing import Settings, measure  # noqa: E402


def test_analytic_brusselator_jacobian_matches_differences():
    x = 1.0 + 0.1 * np.random.default_rng(0).standard_normal(2 * 6)
    jac = bench_sparse.BrusselatorJacobian(6)(x).toarray()
    np.testing.assert_allclose(jac, numeric_jacobian(bench_sparse.brusselator, x), atol=1e-7)


def test_sparse_jacobian_rows_are_measured_and_exact():
    config = Config(quick=True, max_n=30, systems={"numpy", "dualdiff"})
    (group,) = bench_sparse_jacobian.groups(config)
    rows = {row.case.key: row for row in measure(group, Settings(rounds=2, sample_time=2e-4))}
    assert set(rows) == {"f", "hand", "rules", "per-call", "prepared"}
    for key in ("rules", "per-call", "prepared"):
        assert rows[key].status == "ok", rows[key].message
        assert rows[key].error < 1e-14
        if key != "rules":  # (the floor has no target)
            assert rows[key].baseline_ratio > 0 and rows[key].target_met in (True, False)


def test_memory_ratio_is_measured():
    nbytes, ratios = bench_memory.peak_ratio(40, repeat=2)
    assert nbytes == 40 * 40 * 8
    assert len(ratios) == 2 and all(1.0 <= r < 4.0 for r in ratios)
