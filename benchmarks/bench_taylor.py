"""Taylor mode per call: ``higher_derivative(lambda x: np.exp(np.sin(x)), 0.7, k)``.

For k = 1..8 and 20 against ``jax.jit`` of ``jax.experimental.jet`` (when JAX is installed).
The project's target: faster per call than jitted jet for k <= 8, with no compile step.

In the benchmark suite (``python -m benchmarks --only taylor``) this module is a workload like
the others; ``python -m benchmarks.bench_taylor [--quick]`` runs it alone and prints one table
(median of repeated runs, interleaved so that load drift hits every system alike).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from functools import partial

import numpy as np

from .common import Config, relative_error
from .timing import Case, Group

NAME = "taylor"
TITLE = "Taylor mode per call"
DESCRIPTION = (
    "`higher_derivative(f, x, k)` for `f(x) = exp(sin x)` at `x = 0.7` (one pass of Taylor "
    "mode, no compile step) against `jax.jit(jet(f))`. `× jet` is the paired ratio to jitted "
    "jet; the target is ≤ 1 for k ≤ 8. The jet row's first call includes its compilation."
)

X0 = 0.7
ORDERS = (1, 2, 3, 4, 5, 6, 7, 8, 20)
QUICK_ORDERS = (1, 4, 8, 20)


def f_numpy(x):
    return np.exp(np.sin(x))


def reference(x, k: int) -> list:
    """``[g(x), ..., g⁽ᵏ⁾(x)]`` for ``g = exp(sin x)`` from ``g' = cos(x)·g`` and Leibniz's rule,
    in the precision of ``x`` (``np.longdouble`` for the reference)."""
    s, c = np.sin(x), np.cos(x)
    sin_derivatives = [s, c, -s, -c]  # sin⁽ʲ⁾ repeats with period 4
    g = [np.exp(s)]
    for m in range(k):
        g.append(
            sum(math.comb(m, j) * sin_derivatives[(j + 1) % 4] * g[m - j] for j in range(m + 1))
        )
    return g


def _dualdiff(k: int):
    from dualdiff.series.taylor import higher_derivative

    return partial(higher_derivative, f_numpy, X0, k)


def _jax_jet(k: int):
    import jax

    jax.config.update("jax_enable_x64", True)
    from jax.experimental import jet

    def kth(x):
        # jet's input series holds derivatives along x + t: [1, 0, ...]; term k-1 is f⁽ᵏ⁾(x).
        _, series = jet.jet(
            lambda x: jax.numpy.exp(jax.numpy.sin(x)), (x,), ([1.0] + [0.0] * (k - 1),)
        )
        return series[k - 1]

    compiled = jax.jit(kth)
    return lambda: float(compiled(X0))


def groups(config: Config) -> list[Group]:
    exact = reference(np.longdouble(X0), max(ORDERS))
    out = []
    for k in QUICK_ORDERS if config.quick else ORDERS:

        def error(result, k=k):
            return relative_error(result, exact[k])

        cases = [Case("f", "numpy", "f(x) on a float", lambda: partial(f_numpy, X0))]
        jet = config.use("jax")
        if config.use("dualdiff"):
            cases.append(
                Case(
                    "dualdiff",
                    "dualdiff",
                    "higher_derivative(f, x, k)",
                    partial(_dualdiff, k),
                    error,
                    baseline="jax.jet" if jet else "f",
                    target=1.0 if jet and k <= 8 else None,
                )
            )
        if jet:
            cases.append(Case("jax.jet", "jax", "jax.jit(jet(f))", partial(_jax_jet, k), error))
        ratios = [("× f", "f")] + ([("× jet", "jax.jet")] if jet else [])
        out.append(Group(NAME, f"k = {k}", cases, ratios))
    return out


def _time(call, rounds: int, sample: float) -> list[float]:
    """Per-call times of ``rounds`` samples, each a loop lasting about ``sample`` seconds."""
    start = time.perf_counter()
    call()
    number = max(1, int(sample / max(time.perf_counter() - start, 1e-7)))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            call()
        times.append((time.perf_counter() - start) / number)
    return times


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    rounds, sample = (5, 0.005) if quick else (15, 0.02)
    orders = QUICK_ORDERS if quick else ORDERS
    exact = reference(np.longdouble(X0), max(orders))
    try:
        import jax  # noqa: F401

        have_jax = True
    except ImportError:
        have_jax = False
    print(f"higher_derivative(lambda x: np.exp(np.sin(x)), {X0}, k): median of {rounds} runs")
    header = f"{'k':>3} {'dualdiff':>11} {'error':>9}"
    if have_jax:
        header += f" {'jit(jet)':>11} {'jet compile':>12} {'error':>9} {'dd/jet':>7}"
    print(header)
    for k in orders:
        ours = _dualdiff(k)
        line = f"{k:>3} {_us(0)}"
        if have_jax:
            start = time.perf_counter()
            jet = _jax_jet(k)
            jet()
            compile_time = time.perf_counter() - start
        samples: dict[str, list[float]] = {"dd": [], "jet": []}
        for _ in range(rounds):  # interleaved, so load drift hits both alike
            samples["dd"] += _time(ours, 1, sample)
            if have_jax:
                samples["jet"] += _time(jet, 1, sample)
        dd_time = statistics.median(samples["dd"])
        line = f"{k:>3} {_us(dd_time)} {relative_error(ours(), exact[k]):>9.1e}"
        if have_jax:
            jet_time = statistics.median(samples["jet"])
            line += f" {_us(jet_time)} {compile_time * 1e3:>9.0f} ms"
            line += f" {relative_error(jet(), exact[k]):>9.1e} {dd_time / jet_time:>7.2f}"
        print(line, flush=True)
    if not have_jax:
        print("jax is not installed: the jax.jit(jet) comparison is skipped (pip install jax)")
    return 0


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:>8.2f} µs"


if __name__ == "__main__":
    raise SystemExit(main())
