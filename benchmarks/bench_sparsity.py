"""Sparsity detection and colouring: what ``sparsity="auto"`` costs before the first pass.

Two ``F``: a dense one, ``tanh(W x + b)``, whose traced pattern is found dense (so
``jacobian(F, x, sparsity="auto")`` computes the Jacobian densely, without colouring), against the
dense ``jacobian(F, x)``; and the 1-D Brusselator residual of ``benchmarks.bench_sparse``
(``2 N`` unknowns, 4 non-zeros per row), whose detection (``trace_pattern``), colouring
(``color_columns``, smallest-last) and full preparation (``SparseJacobian(F, x)``: detection and
the best of two colourings) are timed against one call of ``F``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .bench_sparse import brusselator
from .common import Config
from .systems import load
from .timing import Case, Group

NAME = "sparsity"
TITLE = "Sparsity detection and colouring"
DESCRIPTION = (
    "Dense `F(x) = tanh(W x + b)`: `jacobian_sparsity(F, x)` and `jacobian(F, x, "
    "sparsity='auto')` (the traced pattern is dense, so the Jacobian is computed densely) "
    "against the dense `jacobian(F, x)` (target: 3×). The 1-D Brusselator (`N` grid points, "
    "`2N` unknowns): detection `trace_pattern(F, x)`, colouring `color_columns(P, "
    "'smallest_last')` and `SparseJacobian(F, x)` (detection and the best of two colourings, "
    "its colouring cache emptied before each call) as multiples of one call of `F`; target at "
    "`N = 100 000`: detection and colouring under 2 s."
)


def groups(config: Config) -> list[Group]:
    out = []
    for n in config.sizes([1000], [300]):
        rng = np.random.default_rng(n)
        W = rng.standard_normal((n, n)) / np.sqrt(n)
        b = rng.standard_normal(n)
        x = rng.standard_normal(n)

        def dense_f(x, W=W, b=b):
            return np.tanh(W @ x + b)

        cases = [Case("f", "numpy", "F(x)", lambda x=x, f=dense_f: partial(f, x))]
        if config.use("dualdiff"):
            cases += [
                Case("dense", "dualdiff", "jacobian(F, x)", partial(_dense, dense_f, x)),
                Case("sparsity", "dualdiff", "jacobian_sparsity(F, x)",
                     partial(_sparsity, dense_f, x), baseline="dense", target=3.0),
                Case("auto", "dualdiff", "jacobian(F, x, sparsity='auto')",
                     partial(_auto, dense_f, x), baseline="dense", target=3.0),
            ]  # fmt: skip
        title = f"Dense F = tanh(W x + b), n = {n:,}"
        out.append(Group(NAME, title, cases, [("× F", "f"), ("× dense", "dense")]))
    for n in config.sizes([1000, 100_000], [1000]):
        x = 1.0 + 0.1 * np.random.default_rng(n).standard_normal(2 * n)
        cases = [Case("f", "numpy", "F(x)", lambda x=x: partial(brusselator, x))]
        if config.use("dualdiff"):
            cases += [
                Case("detect", "dualdiff", "trace_pattern(F, x)", partial(_detect, x)),
                Case("color", "dualdiff", "color_columns(P, 'smallest_last')",
                     partial(_color, x)),
                Case("prepare", "dualdiff", "SparseJacobian(F, x)", partial(_prepare, x)),
            ]  # fmt: skip
        title = f"Brusselator, N = {n:,} ({2 * n:,} unknowns)"
        out.append(Group(NAME, title, cases, [("× F", "f")]))
    return out


def _dense(f, x):
    return partial(load("dualdiff").jacobian, f, x)


def _sparsity(f, x):
    return partial(load("dualdiff").jacobian_sparsity, f, x)


def _auto(f, x):
    return partial(load("dualdiff").jacobian, f, x, sparsity="auto")


def _detect(x):
    from dualdiff.sparsity.tracer import trace_pattern

    load("dualdiff")
    return partial(trace_pattern, brusselator, x)


def _color(x):
    from dualdiff.sparsity.coloring import color_columns
    from dualdiff.sparsity.tracer import trace_pattern

    load("dualdiff")
    pattern, _ = trace_pattern(brusselator, x)
    return partial(color_columns, pattern, "smallest_last")


def _prepare(x):
    dd = load("dualdiff")
    from dualdiff.engine import sparse

    def prepare():
        sparse._colorings.clear()  # a fresh colouring each time, as for a new pattern
        return dd.SparseJacobian(brusselator, x)

    return prepare
