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

from .bench_sparse import ALPHA, A, B, BrusselatorJacobian, brusselator
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
    "a prebuilt CSR structure (target: 3×). The `rules` row makes the NumPy calls of the "
    "prepared eager pass and its recovery with nothing between them: `× rules` is what "
    "dispatch costs, and `rules × hand` the least the eager mode could reach."
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
            rules = RulesJacobian(load("dualdiff").SparseJacobian(brusselator, x, sparsity=pattern))
            cases += [
                Case("rules", "numpy", "dualdiff's rules without dispatch (the eager floor)",
                     lambda r=rules, x=x: partial(r, x), error),
            ]  # fmt: skip
            cases += [
                Case("per-call", "dualdiff", "jacobian(F, x, sparsity=P)",
                     partial(_per_call, x, pattern), error, baseline="hand", target=3.0),
                Case("prepared", "dualdiff", "SparseJacobian(F, x0, sparsity=P)(x)",
                     partial(_prepared, x, pattern), error, baseline="hand", target=3.0),
            ]  # fmt: skip
        title = f"Brusselator, N = {n:,} ({2 * n:,} unknowns)"
        ratios = [("× f", "f"), ("× hand", "hand"), ("× rules", "rules")]
        out.append(Group(NAME, title, cases, ratios))
    return out


def _per_call(x, pattern):
    dd = load("dualdiff")
    return partial(dd.jacobian, brusselator, x, sparsity=pattern, output="sparse")


def _prepared(x, pattern):
    dd = load("dualdiff")
    return partial(dd.SparseJacobian(brusselator, x, sparsity=pattern, output="sparse"), x)


class RulesJacobian:
    """What a prepared eager ``SparseJacobian`` of the Brusselator computes, NumPy call for NumPy
    call (each rule's value and tangent arithmetic, the concatenations, the recovery into CSR),
    with no dispatch between them. Its colouring, seeds and index arrays are the prepared
    object's (its public ``colors`` and ``pattern``)."""

    def __init__(self, prepared):
        pattern, colors = prepared.pattern, prepared.colors
        m, n = pattern.shape
        k = int(colors.max()) + 1
        self.seeds = (colors[None, :] == np.arange(k)[:, None]).astype(float)
        self.take = colors[pattern.indices] * m + pattern.rows()
        self.pattern, self.shape = pattern, (m, n)
        import scipy.sparse

        self.sparse = scipy.sparse

    def __call__(self, x):
        n = x.shape[0] // 2
        t = self.seeds
        u, v, du, dv = x[:n], x[n:], t[:, :n], t[:, n:]
        lap_u, dlap_u = _laplacian(u, du)
        lap_v, dlap_v = _laplacian(v, dv)
        uu, duu = u * u, du * (u + u)  # u * u: 2u du in one pass over the tangents
        uuv, duuv = _times(uu, duu, v, dv)
        first, dfirst = uuv + A, duuv.copy()  # d(A + w) = dw, in an array of its own
        first, dfirst = first - (B + 1) * u, dfirst - du * (B + 1)
        first, dfirst = first + ALPHA * lap_u, dfirst + dlap_u * ALPHA
        second, dsecond = B * u, du * B
        second, dsecond = second - uuv, dsecond - duuv
        second, dsecond = second + ALPHA * lap_v, dsecond + dlap_v * ALPHA
        np.concatenate([first, second])  # the value, which the pass computes too
        compressed = np.concatenate([dfirst, dsecond], axis=1)
        data = compressed.reshape(-1)[self.take]
        indices, indptr = self.pattern.indices.copy(), self.pattern.indptr.copy()
        return self.sparse.csr_array((data, indices, indptr), shape=self.shape)


def _times(a, da, b, db):
    tangent = b * da
    tangent += a * db
    return a * b, tangent


def _laplacian(u, du):
    ends = (u[1:2] - u[:1], du[:, 1:2] - du[:, :1])
    middle = (u[:-2] - 2 * u[1:-1], du[:, :-2] - du[:, 1:-1] * 2)
    middle = (middle[0] + u[2:], middle[1] + du[:, 2:])
    last = (u[-2:-1] - u[-1:], du[:, -2:-1] - du[:, -1:])
    value = np.concatenate([ends[0], middle[0], last[0]])
    return value, np.concatenate([ends[1], middle[1], last[1]], axis=1)
