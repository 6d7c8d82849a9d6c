"""Peak memory of a dense Jacobian, as a multiple of the Jacobian's own size.

``jacobian(F, x)`` for ``F(x) = tanh(W x + b)``, measured with ``tracemalloc`` (which sees
NumPy's allocations): the most memory held at once during the call, over ``J.nbytes``. A small
Jacobian takes one pass (about 2x: an operation's input and output tangents); a larger one is
split into passes whose blocks are written into the preallocated result (target: 1.5x).

Run: ``python -m benchmarks.bench_memory [--quick]``.
"""

from __future__ import annotations

import sys
import tracemalloc

import numpy as np

import dualdiff as dd
from dualdiff.engine.forward import ONE_PASS_BYTES

NAME = "memory"
TITLE = "Peak memory of a dense Jacobian"
TARGET = 1.5


def peak_ratio(n: int, repeat: int = 3) -> tuple[float, list[float]]:
    """``J.nbytes`` and the peak over it of each of ``repeat`` calls."""
    rng = np.random.default_rng(n)
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    b = rng.standard_normal(n)
    x = rng.standard_normal(n)

    def F(x):
        return np.tanh(W @ x + b)

    dd.jacobian(F, x)  # warm: imports and caches are not the Jacobian's
    ratios = []
    for _ in range(repeat):
        tracemalloc.start()
        try:
            jac = dd.jacobian(F, x)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        ratios.append(peak / jac.nbytes)
        nbytes = jac.nbytes
        del jac
    return nbytes, ratios


def main() -> None:
    quick = "--quick" in sys.argv
    print("Peak memory of jacobian(F, x), F = tanh(W x + b), float64 (tracemalloc)")
    print(f"{'n':>6} {'J (MiB)':>9} {'peak / J':>9} {'spread':>13} {'target':>7} {'met':>4}")
    for n in [300, 1000] if quick else [300, 1000, 3000]:
        nbytes, ratios = peak_ratio(n)
        worst = max(ratios)
        met = "yes" if worst <= TARGET else "no"
        target = f"{TARGET:g}x" if nbytes > ONE_PASS_BYTES else "-"
        if target == "-":
            met = "-"  # one pass, by design (see dualdiff.engine.forward.ONE_PASS_BYTES)
        spread = f"{min(ratios):.3f}-{worst:.3f}"
        print(f"{n:>6} {nbytes / 2**20:>9.1f} {np.median(ratios):>8.3f}x {spread:>13} "
              f"{target:>7} {met:>4}")  # fmt: skip


if __name__ == "__main__":
    main()
