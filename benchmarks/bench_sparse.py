"""Sparse Jacobians and parallel columns: dualdiff against hand-written and serial baselines.

Part 1, the 1-D Brusselator residual (``2 N`` unknowns, ``u`` then ``v``): the time of one
Jacobian with a prepared pattern (``SparseJacobian``, compressed forward passes and recovery)
against the hand-written analytic sparse Jacobian, both as multiples of one residual call.

Part 2, an ``f`` costing about 20 ms per call with ``n = 64`` inputs: the dense Jacobian serially,
on a 2-process pool and on a 2-worker Dask ``LocalCluster`` (skipped without dask).

Run: ``python benchmarks/bench_sparse.py`` (add ``--quick`` for a short run).
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial

import numpy as np

from dualdiff.engine.parallel import jacobian_columns
from dualdiff.engine.sparse import SparseJacobian

ALPHA = 0.02  # diffusion coefficient over the squared grid step
A, B = 1.0, 3.0
WIDTHS = (7, 9, 7, 8, 11, 9, 9, 10, 13, 15)


def brusselator(x):
    """Residual of the 1-D Brusselator with zero-flux ends: ``u' = A + u²v - (B+1)u + αΔu``,
    ``v' = Bu - u²v + αΔv``."""
    n = x.shape[0] // 2
    u, v = x[:n], x[n:]
    lap_u = np.concatenate([u[1:2] - u[:1], u[:-2] - 2 * u[1:-1] + u[2:], u[-2:-1] - u[-1:]])
    lap_v = np.concatenate([v[1:2] - v[:1], v[:-2] - 2 * v[1:-1] + v[2:], v[-2:-1] - v[-1:]])
    uuv = u * u * v
    return np.concatenate([A + uuv - (B + 1) * u + ALPHA * lap_u, B * u - uuv + ALPHA * lap_v])


class BrusselatorJacobian:
    """The analytic Jacobian, hand-written: the CSR structure is built once, and each call fills
    in the entries (tridiagonal Laplacians plus the diagonal reaction blocks)."""

    def __init__(self, n):
        import scipy.sparse as sp

        self.sp, self.n = sp, n
        i = np.arange(n)
        # Row i of the u block: u[i-1], u[i], u[i+1], v[i].
        # Row i of the v block: u[i], v[i-1], v[i], v[i+1].
        u_cols = np.stack([i - 1, i, i + 1, n + i], axis=1)
        v_cols = np.stack([i, n + i - 1, n + i, n + i + 1], axis=1)
        self.keep = np.ones((2 * n, 4), dtype=bool)
        self.keep[0, 0] = self.keep[n - 1, 2] = self.keep[n, 1] = self.keep[2 * n - 1, 3] = False
        self.indices = np.concatenate([u_cols, v_cols])[self.keep]
        self.indptr = np.concatenate(([0], np.cumsum(self.keep.sum(axis=1))))
        self.diag = np.full(n, -2.0 * ALPHA)
        self.diag[0] = self.diag[-1] = -ALPHA

    def __call__(self, x):
        n = self.n
        u, v = x[:n], x[n:]
        uu, uv = u * u, u * v
        data = np.empty((2 * n, 4))
        data[:n, 0] = data[:n, 2] = ALPHA
        data[:n, 1] = 2 * uv - (B + 1) + self.diag
        data[:n, 3] = uu
        data[n:, 0] = B - 2 * uv
        data[n:, 1] = data[n:, 3] = ALPHA
        data[n:, 2] = -uu + self.diag
        shape = (2 * n, 2 * n)
        return self.sp.csr_array((data[self.keep], self.indices, self.indptr), shape=shape)


def brusselator_jacobian_diags(x):
    """The analytic Jacobian written the usual way, from scipy.sparse.diags blocks."""
    import scipy.sparse as sp

    n = x.shape[0] // 2
    u, v = x[:n], x[n:]
    main = np.full(n, -2.0)
    main[0] = main[-1] = -1.0
    lap = sp.diags([np.ones(n - 1), main, np.ones(n - 1)], [-1, 0, 1])
    fuu = sp.diags(2 * u * v - (B + 1)) + ALPHA * lap
    fvv = sp.diags(-u * u) + ALPHA * lap
    blocks = [[fuu, sp.diags(u * u)], [sp.diags(B - 2 * u * v), fvv]]
    return sp.block_array(blocks, format="csr")


def best_time(fn, repeat):
    """The least wall time of ``repeat`` calls (seconds)."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def paired_times(fns, rounds, calls=5):
    """Median times (seconds) of the functions ``fns`` (a dict), timed in interleaved rounds
    (each round: the best of ``calls`` calls of each), and the median per-round ratio of each
    to the first: the drift of a shared machine cancels in the ratios."""
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(best_time(fn, calls))
    first = next(iter(fns))
    times = {name: float(np.median(values)) for name, values in samples.items()}
    ratios = {
        name: float(np.median(np.array(values) / np.array(samples[first])))
        for name, values in samples.items()
    }
    return times, ratios


def bench_brusselator(sizes, repeat):
    print("1-D Brusselator: time of one Jacobian as a multiple of one residual call F")
    print("  (medians of per-round ratios; each round times every method, best of 5 calls)")
    print("  dualdiff: SparseJacobian with the pattern traced and coloured beforehand")
    print("  dd jit: the same with jit=True (the compressed pass compiled once, dualdiff.jit)")
    print("  analytic CSR: hand-written entries filled into a prebuilt CSR structure")
    print("  analytic diags: hand-written with scipy.sparse.diags and block_array")
    header = ("N", "unknowns", "F (ms)", "colours", "detect (s)", "dualdiff", "dd jit",
              "dense out", "analytic CSR", "analytic diags")  # fmt: skip
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, WIDTHS)))
    rng = np.random.default_rng(0)
    for n in sizes:
        x = 1.0 + 0.1 * rng.standard_normal(2 * n)
        start = time.perf_counter()
        jac = SparseJacobian(brusselator, x, output="sparse")
        detect = time.perf_counter() - start
        analytic = BrusselatorJacobian(n)
        compiled = SparseJacobian(brusselator, x, sparsity=jac.pattern, output="sparse", jit=True)
        assert abs(jac(x) - analytic(x)).max() < 1e-12, "AD and analytic Jacobians disagree"
        assert abs(compiled(x) - analytic(x)).max() < 1e-12, "compiled and analytic disagree"
        assert abs(jac(x) - brusselator_jacobian_diags(x)).max() < 1e-12
        fns = {
            "f": lambda: brusselator(x),
            "csr": lambda: analytic(x),
            "ad": lambda: jac(x),
            "jit": lambda: compiled(x),
            "diags": lambda: brusselator_jacobian_diags(x),
        }
        if n <= 2000:
            fns["dense"] = SparseJacobian(brusselator, x, sparsity=jac.pattern, output="dense")
            fns["dense"] = partial(fns["dense"], x)
        times, over_f = paired_times(fns, repeat)
        _, over_csr = paired_times({"csr": fns["csr"], "ad": fns["ad"], "jit": fns["jit"],
                                    "diags": fns["diags"]}, repeat)  # fmt: skip
        t_dense = f"{over_f['dense']:.1f}x" if "dense" in over_f else "-"
        row = (n, 2 * n, f"{1e3 * times['f']:.3f}", jac.ncolors, f"{detect:.3f}",
               f"{over_f['ad']:.1f}x", f"{over_f['jit']:.1f}x", t_dense,
               f"{over_f['csr']:.1f}x", f"{over_f['diags']:.1f}x")  # fmt: skip
        print(" ".join(f"{c:>{w}}" for c, w in zip(row, WIDTHS)))
        print(
            f"{'':>9}dualdiff / analytic: {over_csr['ad']:.1f}x (CSR), "
            f"{over_csr['ad'] / over_csr['diags']:.2f}x (diags); jit=True: "
            f"{over_csr['jit']:.2f}x (CSR), target 3x"
        )


def expensive(x):
    """About 20 ms per call on one core, and the tangents cost scales with the directions."""
    h = np.repeat(x, 40)  # small enough to stay in cache: the work is arithmetic, not memory
    for _ in range(360):  # 200 rounds measured 11 ms on the benchmark machine
        h = np.sin(h) * np.cos(0.5 * h) + 0.1 * h
    return h.reshape(x.shape[0], -1).sum(axis=1)


def bench_parallel(repeat):
    x = np.linspace(0.1, 1.0, 64)
    t_f = best_time(lambda: expensive(x), 5)
    print(f"\nParallel columns: n = 64, one call of f = {1e3 * t_f:.1f} ms")
    serial = best_time(lambda: jacobian_columns(expensive, x, chunk=8), repeat)
    print(f"  (machine load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    pool = best_time(lambda: jacobian_columns(expensive, x, workers=2, chunk=8), repeat)
    print(f"  serial (8 passes of 8)     {serial:7.3f} s")
    print(f"  workers=2 (process pool)   {pool:7.3f} s   speed-up {serial / pool:4.2f}x "
          "(includes starting the pool)")  # fmt: skip
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as executor:
        jacobian_columns(expensive, x, workers=executor, chunk=8)
        warm = best_time(lambda: jacobian_columns(expensive, x, workers=executor, chunk=8), repeat)
    print(f"  warm 2-process pool        {warm:7.3f} s   speed-up {serial / warm:4.2f}x")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("  dask: not installed (pip install 'dask[distributed]')")
        return
    import dask

    from dualdiff.engine.parallel import DASK_WORKER_ENVIRON

    with dask.config.set(DASK_WORKER_ENVIRON):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
    with cluster, Client(cluster) as client:
        jacobian_columns(expensive, x, workers=client, chunk=8)
        dask = best_time(lambda: jacobian_columns(expensive, x, workers=client, chunk=8), repeat)
    print(f"  Dask LocalCluster (2 procs) {dask:6.3f} s   speed-up {serial / dask:4.2f}x")


def main():
    quick = "--quick" in sys.argv
    bench_brusselator([1000] if quick else [1000, 10_000], 3 if quick else 15)
    bench_parallel(1 if quick else 3)


if __name__ == "__main__":
    main()
