"""
Sparse Newton on a reaction–diffusion system
============================================

Newton's method on a 2-D reaction–diffusion grid with a sparse Jacobian from dualdiff.

One implicit Euler step of the Brusselator on a periodic :math:`n \\times n` grid,

.. math::

    u' = A + u^2 v - (B + 1) u + D_u \\Delta u, \\qquad v' = B u - u^2 v + D_v \\Delta v,

means solving :math:`G(w) = w - w_\\text{old} - \\Delta t\\, F(w) = 0` for the :math:`2 n^2`
unknowns :math:`w = (u, v)`. Each row of the Jacobian of :math:`G` has at most 6 non-zeros (the
5-point Laplacian and the coupling), so instead of :math:`2 n^2` forward directions a handful of
colours gives the whole Jacobian. The pattern is traced and coloured once, then reused in every
Newton iteration. The figure shows the pattern dualdiff detects on a small grid, its columns
coloured (no two columns of one colour share a row), and the compressed Jacobian: one column per
colour, which is all the forward passes compute.

Run: ``python examples/sparse_newton.py [n]``
"""

from __future__ import annotations

import sys
import time

import numpy as np

import dualdiff as dd

A, B = 1.0, 3.0
D_U, D_V = 1.0, 0.5
DT = 0.01


def laplacian(z, h):
    """The periodic 5-point Laplacian of a 2-D array with grid step h."""
    neighbours = np.roll(z, 1, 0) + np.roll(z, -1, 0) + np.roll(z, 1, 1) + np.roll(z, -1, 1)
    return (neighbours - 4.0 * z) / (h * h)


def rates(w, n, h):
    """The right-hand side F(w) of the Brusselator, w = (u, v) flattened."""
    u, v = w[: n * n].reshape(n, n), w[n * n :].reshape(n, n)
    uuv = u * u * v
    du = A + uuv - (B + 1.0) * u + D_U * laplacian(u, h)
    dv = B * u - uuv + D_V * laplacian(v, h)
    return np.concatenate([du.ravel(), dv.ravel()])


def solve(jac, rhs):
    """Solve jac @ dx = rhs, with SciPy's sparse solver when jac is sparse."""
    if isinstance(jac, np.ndarray):
        return np.linalg.solve(jac, rhs)
    from scipy.sparse.linalg import spsolve

    return spsolve(jac.tocsc(), rhs)


def newton(residual, w, jacobian, tol=1e-10, maxiter=20):
    """Newton iterations w <- w - J(w)^-1 G(w) until |G(w)| < tol; returns (w, residual norms)."""
    norms = []
    for _ in range(maxiter):
        g, jac = jacobian.value_and_jacobian(w)
        norms.append(float(np.max(np.abs(g))))
        if norms[-1] < tol:
            return w, norms
        w = w - solve(jac, g)
    raise RuntimeError(f"Newton did not converge: residuals {norms}")


def main(n=24, verbose=True):
    h = 1.0 / n
    rng = np.random.default_rng(0)
    w_old = np.concatenate(
        [A + 0.1 * rng.standard_normal(n * n), B / A + 0.1 * rng.standard_normal(n * n)]
    )

    def residual(w):
        return w - w_old - DT * rates(w, n, h)

    try:
        import scipy.sparse  # noqa: F401

        output = "sparse"
    except ImportError:
        output = "dense"
    start = time.perf_counter()
    jacobian = dd.SparseJacobian(residual, w_old, output=output)
    prepared = time.perf_counter() - start
    start = time.perf_counter()
    w, norms = newton(residual, w_old.copy(), jacobian)
    solved = time.perf_counter() - start
    if verbose:
        print(f"{n} x {n} grid, {w.size} unknowns, {jacobian.pattern.nnz} Jacobian non-zeros")
        c = jacobian.ncolors
        print(f"pattern traced and coloured in {prepared:.2f} s: {c} colours, so {c} forward")
        print(f"directions per Jacobian instead of {w.size}")
        for k, r in enumerate(norms):
            print(f"  Newton iteration {k}: max |G(w)| = {r:.3e}")
        print(f"solved in {solved:.2f} s ({output} Jacobian)")
    return w, norms, jacobian


def plot_pattern(n=4):
    """Draw the detected pattern, its column colouring and the compressed Jacobian (matplotlib)."""
    import matplotlib.pyplot as plt

    h = 1.0 / n
    w0 = np.concatenate([np.full(n * n, A), np.full(n * n, B / A)])

    def residual(w):
        return w - w0 - DT * rates(w, n, h)

    pattern = dd.jacobian_sparsity(residual, w0)  # boolean, (outputs, inputs)
    colors = dd.SparseJacobian(residual, w0).colors  # the colour of each column
    rows, cols = np.nonzero(pattern)
    compressed = np.zeros((pattern.shape[0], colors.max() + 1), dtype=bool)
    compressed[rows, colors[cols]] = True  # a row meets each colour in at most one column

    fig, axes = plt.subplots(
        1, 3, figsize=(10, 4), layout="constrained", gridspec_kw={"width_ratios": [4, 4, 1.6]}
    )
    axes[0].spy(pattern, markersize=3, color="black")
    axes[0].set_title(f"detected pattern: {pattern.sum()} non-zeros")
    axes[1].scatter(cols, rows, c=colors[cols], cmap="tab10", vmin=0, vmax=9, s=9, marker="s")
    axes[1].set_xlim(-0.5, pattern.shape[1] - 0.5)
    axes[1].set_ylim(pattern.shape[0] - 0.5, -0.5)
    axes[1].set_aspect("equal")
    axes[1].xaxis.tick_top()
    axes[1].set_title(f"columns coloured: {colors.max() + 1} colours")
    crow, ccol = np.nonzero(compressed)
    axes[2].scatter(ccol, crow, c=ccol, cmap="tab10", vmin=0, vmax=9, s=9, marker="s")
    axes[2].set_xlim(-0.5, compressed.shape[1] - 0.5)
    axes[2].set_ylim(compressed.shape[0] - 0.5, -0.5)
    axes[2].xaxis.tick_top()
    axes[2].set_title("compressed")
    fig.suptitle(f"Jacobian of the Brusselator step on a {n} x {n} grid ({2 * n * n} unknowns)")
    return fig


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        plot_pattern()
        plt.show()
