"""Newton's method on a 2-D reaction-diffusion grid with a sparse Jacobian from dualdiff.

One implicit Euler step of the Brusselator on a periodic n x n grid,

    u' = A + u^2 v - (B + 1) u + D_u Lap(u),    v' = B u - u^2 v + D_v Lap(v),

means solving G(w) = w - w_old - dt F(w) = 0 for the 2 n^2 unknowns w = (u, v). Each row of the
Jacobian of G has at most 6 non-zeros (the 5-point Laplacian and the coupling), so instead of
2 n^2 forward directions a handful of colours gives the whole Jacobian. The pattern is traced
and coloured once, then reused in every Newton iteration.

Run: python examples/sparse_newton.py [n]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from dualdiff.sparse import SparseJacobian

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
    jacobian = SparseJacobian(residual, w_old, output=output)
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
