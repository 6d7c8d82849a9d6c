"""Sparse Jacobians with a known pattern, eager (no compiler): per call and prepared.

The 1-D Brusselator residual of ``benchmarks.bench_sparse`` (``2 N`` unknowns), its pattern
given: ``jacobian(F, x, sparsity=P)`` per call (the colouring of ``P`` is found once and reused
for the same or an equal pattern) and a prepared ``SparseJacobian``, both returning
``scipy.sparse.csr_array``, against the hand-written analytic Jacobian filled into a prebuilt CSR
structure.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .bench_sparse import BrusselatorJacobian, brusselator
from .common import Config
from .systems import load
from .timing import Case, Group

NAME = "sparse_jacobian"
TITLE = "Sparse Jacobian with a given pattern (eager)"
DESCRIPTION = (
    "The 1-D Brusselator residual (`N` grid points, `2N` unknowns, 4 colours) with its sparsity "
    "pattern `P` given. `sparsity=P` is `jacobian(F, x, sparsity=P, output='sparse')` called "
    "afresh each time (its colouring is cached by the pattern's content); `SparseJacobian` is "
    "prepared once, `SparseJacobian(F, x0, sparsity=P, output='sparse')(x)`, both without the "
    "compiler. `× hand` is the paired ratio to the analytic Jacobian written by hand, filled into "
    "a prebuilt CSR structure (target: 3×)."
)


def groups(config: Config) -> list[Group]:
    out = []
    for n in config.sizes([1000, 10_000], [1000]):
        x = 1.0 + 0.1 * np.random.default_rng(n).standard_normal(2 * n)
        analytic = BrusselatorJacobian(n)
        reference = analytic(x).toarray()
        scale = np.abs(reference).max()

        def error(result, reference=reference, scale=scale):
            return float(np.abs(result.toarray() - reference).max() / scale)

        cases = [
            Case("f", "numpy", "F(x)", lambda x=x: partial(brusselator, x)),
            Case(
                "hand",
                "numpy",
                "analytic CSR by hand",
                lambda a=analytic, x=x: partial(a, x),
                error,
            ),  # fmt: skip
        ]
        if config.use("dualdiff"):
            pattern = analytic(x) != 0
            cases += [
                Case("per-call", "dualdiff", "jacobian(F, x, sparsity=P)",
                     partial(_per_call, x, pattern), error, baseline="hand", target=3.0),
                Case("prepared", "dualdiff", "SparseJacobian(F, x0, sparsity=P)(x)",
                     partial(_prepared, x, pattern), error, baseline="hand", target=3.0),
            ]  # fmt: skip
        title = f"Brusselator, N = {n:,} ({2 * n:,} unknowns)"
        out.append(Group(NAME, title, cases, [("× f", "f"), ("× hand", "hand")]))
    return out


def _per_call(x, pattern):
    dd = load("dualdiff")
    return partial(dd.jacobian, brusselator, x, sparsity=pattern, output="sparse")


def _prepared(x, pattern):
    dd = load("dualdiff")
    return partial(dd.SparseJacobian(brusselator, x, sparsity=pattern, output="sparse"), x)
