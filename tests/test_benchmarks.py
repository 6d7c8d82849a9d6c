"""The benchmark command: a quick run on dualdiff alone, its tables, and its exact references.

The references the benchmarks measure accuracy against are checked here against central
differences, so a wrong closed form cannot make a wrong derivative look right.
"""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dualdiff as dd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the benchmarks package lives beside the tests, not in dualdiff
    sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    bench_jacobian,
    bench_jvp,
    bench_kth,
    bench_scalar,
    bench_sparse,
    bench_sparse_jacobian,
    run,
    threads,
)
from benchmarks.common import Config, relative_error  # noqa: E402
from benchmarks.timing import Case, Group, Settings, measure  # noqa: E402

WORKLOADS = ("scalar", "jvp", "jacobian", "kth")


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def numeric_jacobian(F, x, h=1e-6):
    columns = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        columns.append((F(x + e) - F(x - e)) / (2 * h))
    return np.stack(columns, axis=-1)


# -- the exact references ------------------------------------------------------------------------


def test_scalar_reference_matches_differences():
    expected = central(bench_scalar.f_math, bench_scalar.X0)
    assert float(bench_scalar.exact_derivative(bench_scalar.X0)) == pytest.approx(expected, 1e-8)
    assert bench_scalar.hand_derivative(0.3) == pytest.approx(expected, rel=1e-8)


def test_jvp_references_match_differences():
    x, v = bench_jvp.point(50)
    expected = central(bench_jvp.f_numpy, x) * v
    np.testing.assert_allclose(
        np.asarray(bench_jvp.exact_tangent(x, v), float), expected, rtol=1e-6, atol=1e-8
    )
    for jvp in (bench_jvp.hand_jvp, bench_jvp.rules_jvp):
        value, tangent = jvp(x, v)
        np.testing.assert_allclose(value, bench_jvp.f_numpy(x), rtol=1e-14)
        np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)
    # the rules row makes dualdiff's own NumPy calls: the same numbers, at both sizes
    for n in (50, 1 << 15):
        x, v = bench_jvp.point(n)
        value, tangent = bench_jvp.rules_jvp(x, v)
        dd_value, dd_tangent = dd.jvp(bench_jvp.f_numpy, x, v)
        np.testing.assert_array_equal(value, dd_value)
        np.testing.assert_array_equal(tangent, dd_tangent)


def test_sparse_rules_row_repeats_dualdiff_exactly():
    """The eager floor of the sparse Jacobian row makes dualdiff's own NumPy calls."""
    n = 50
    x = 1.0 + 0.1 * np.random.default_rng(n).standard_normal(2 * n)
    pattern = bench_sparse.BrusselatorJacobian(n)(x) != 0
    prepared = dd.SparseJacobian(bench_sparse.brusselator, x, sparsity=pattern, output="sparse")
    rules = bench_sparse_jacobian.RulesJacobian(prepared)(x)
    expected = prepared(x)
    np.testing.assert_array_equal(rules.indptr, expected.indptr)
    np.testing.assert_array_equal(rules.indices, expected.indices)
    np.testing.assert_array_equal(rules.data, expected.data)


def test_jacobian_references_match_differences():
    F, x, (W, b) = bench_jacobian.tanh_problem(6)
    np.testing.assert_allclose(
        bench_jacobian.tanh_jacobian(x, W, b), numeric_jacobian(F, x), rtol=1e-6, atol=1e-8
    )
    x = bench_jacobian.brusselator_point(8)
    J = bench_jacobian.brusselator_jacobian(x)
    assert J.shape == (8, 8)
    np.testing.assert_allclose(
        J, numeric_jacobian(bench_jacobian.brusselator, x), rtol=1e-6, atol=1e-6
    )


def test_kth_reference_matches_differences_order_by_order():
    x0 = bench_kth.X0
    g = bench_kth.hand_derivatives(x0, 8)
    assert g[0] == pytest.approx(math.exp(math.sin(x0)), rel=1e-15)
    for k in range(1, 9):
        step = central(lambda x, k=k: bench_kth.hand_derivatives(x, k - 1)[k - 1], x0, h=1e-5)
        assert g[k] == pytest.approx(step, rel=1e-6, abs=1e-6), k
    extended = bench_kth.hand_derivatives(np.longdouble(x0), 8)
    assert relative_error(g, extended) < 1e-14


def test_relative_error_is_normwise_and_checks_shapes():
    assert relative_error([1.0, 0.0], [1.0, 0.0]) == 0
    assert relative_error([1.0, 1e-3], [2.0, 0.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shape"):
        relative_error(np.zeros(3), np.zeros(4))


# -- the timing engine ---------------------------------------------------------------------------


def test_measure_reports_errors_and_skips_as_rows():
    def broken():
        raise NotImplementedError("not yet")

    cases = [
        Case("f", "numpy", "baseline", lambda: lambda: sum(range(50))),
        Case("same", "numpy", "same work", lambda: lambda: sum(range(50)), target=100.0),
        Case("slow", "numpy", "more work", lambda: lambda: sum(range(5000)), target=1.0),
        Case("raises", "dualdiff", "raises", lambda: broken),
        Case("skipped", "dualdiff", "skipped", lambda: broken, skip="skipped: later"),
    ]
    group = Group("test", "engine", cases, [("× f", "f")])
    rows = {row.case.key: row for row in measure(group, Settings(rounds=4, sample_time=2e-4))}
    assert [r.case.key for r in rows.values()] == [c.key for c in cases]
    assert rows["f"].ratios["× f"] == 1.0
    assert rows["slow"].ratios["× f"] > 3
    assert rows["same"].target_met is True
    assert rows["slow"].target_met is False
    assert rows["raises"].status == "error"
    assert "NotImplementedError: not yet" in rows["raises"].message
    assert rows["skipped"].status == "skipped"
    assert rows["skipped"].median is None


def test_sizes_are_capped():
    assert Config(max_n=100).sizes([10, 100, 1000], [10]) == [10, 100]
    assert Config(max_n=50).sizes([1000, 10_000], [1000]) == [50]
    assert Config(quick=True).sizes([10, 100, 1000], [10, 100]) == [10, 100]


def test_only_rejects_unknown_names():
    workloads = run.load_workloads()
    assert run.select(["dualdiff,jvp"], workloads) == ({"jvp"}, {"dualdiff", "numpy"})
    with pytest.raises(SystemExit, match="unknown name"):
        run.select(["nonesuch"], workloads)


def test_markdown_command_leaves_out_output_paths():
    argv = ["--quick", "--json", "out.json", "--only", "jvp", "--markdown=perf.md", "--profile"]
    assert run.measurement_args(argv) == ["--quick", "--only", "jvp"]


def test_threads_argument_is_read_before_numpy():
    assert threads.requested_threads(["--quick"]) == 1
    assert threads.requested_threads(["--threads", "2"]) == 2
    assert threads.requested_threads(["--threads=3"]) == 3
    with pytest.raises(SystemExit):
        threads.requested_threads(["--threads", "0"])


# -- the command, end to end ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    files = ["--markdown", str(out / "performance.md"), "--json", str(out / "results.json")]
    command = [sys.executable, "-m", "benchmarks", "--quick", "--only", "dualdiff", "--max-n",
               "100", "--rounds", "3", "--sample-time", "0.0003", *files]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    return done.stdout, (out / "performance.md").read_text(), results


def test_quick_run_prints_aligned_tables(quick_run):
    stdout, _, _ = quick_run
    assert "pinned to 1" in stdout
    lines = stdout.splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("system ")]
    assert len(headers) >= 1 + 1 + 2 + 4  # scalar, jvp, two Jacobians, four orders k
    for i in headers:
        header, rule = lines[i], lines[i + 1]
        spans = [(m.start(), m.end()) for m in re.finditer("-+", rule)]
        assert len(spans) == len(header.split("  ")) - header.split("  ").count("")
        table = [header]
        for line in lines[i + 2 :]:
            if not line.strip():
                break
            table.append(line)
        # Every cell stays inside its column: the two characters around each column are blank.
        for line in table:
            for start, end in spans:
                assert line[max(start - 2, 0) : start].strip() == "", (line, start)
                assert line[end : end + 2].strip() == "", (line, end)
        assert "median" in header and "error" in header
    scalar = next(line for line in lines if "derivative(f, x), f with dualdiff.exp" in line)
    assert scalar.startswith("dualdiff") and "×" in scalar and "s " in scalar


def test_quick_run_covers_every_workload_without_anchors(quick_run):
    _, _, results = quick_run
    assert {w["name"] for w in results["workloads"]} >= set(WORKLOADS)
    statuses = {s["name"]: s["status"] for s in results["systems"]}
    assert statuses["dualdiff"] == "used"
    assert all(statuses[name] == "not selected" for name in ("jax", "torch", "fastdual"))
    for workload in results["workloads"]:
        if workload["name"] not in WORKLOADS:
            continue
        assert workload["groups"], workload["name"]
        for group in workload["groups"]:
            rows = {row["key"]: row for row in group["rows"]}
            assert {row["system"] for row in rows.values()} == {"numpy", "dualdiff"}
            assert rows["f"]["status"] == "ok" and rows["f"]["median"] > 0
            assert rows["hand"]["error"] < 1e-13
            # A dualdiff row is never dropped: it is measured, an error, or a skip with a reason.
            dualdiff = [row for row in rows.values() if row["system"] == "dualdiff"]
            assert dualdiff
            for row in dualdiff:
                if row["status"] == "ok":
                    assert row["median"] > 0 and row["error"] < 1e-12
                else:
                    assert row["message"]


def test_quick_run_scalar_rows_are_measured(quick_run):
    _, _, results = quick_run
    scalar = next(w for w in results["workloads"] if w["name"] == "scalar")
    rows = {row["key"]: row for row in scalar["groups"][0]["rows"]}
    for key in ("dualdiff.exp", "dualdiff.np"):
        assert rows[key]["status"] == "ok"
        assert rows[key]["baseline_ratio"] > 1
        assert rows[key]["target_met"] in (True, False)


def test_quick_run_writes_markdown(quick_run):
    _, markdown, results = quick_run
    assert markdown.startswith("# Performance")
    for section in ("## Machine", "## Systems", "## Method", "## Targets"):
        assert section in markdown
    assert "| system | method | median |" in markdown
    for workload in results["workloads"]:
        for group in workload["groups"]:
            assert f"### {group['title']}" in markdown
