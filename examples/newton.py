"""
Newton's method for a nonlinear system
======================================

Newton's method with the exact Jacobian from dualdiff.

Solves :math:`F(u) = 0` for a small discretised boundary-value problem (Bratu's equation
:math:`u'' + \\lambda e^u = 0` on :math:`(0, 1)`, :math:`u(0) = u(1) = 0`) written in plain NumPy.
Each Newton step solves :math:`J(u)\\,\\delta = -F(u)` with ``J = dualdiff.jacobian(F, u)``; the
residual falls quadratically.

Run: ``python examples/newton.py``
"""

import numpy as np

import dualdiff as dd

N = 40
LAMBDA = 1.0
H = 1.0 / (N + 1)


def residual(u: np.ndarray) -> np.ndarray:
    """F(u) for the interior grid values u (zero boundary values)."""
    padded = np.concatenate([[0.0], u, [0.0]])
    second_difference = (padded[2:] - 2 * padded[1:-1] + padded[:-2]) / H**2
    return second_difference + LAMBDA * np.exp(u)


def newton(
    u: np.ndarray, tolerance: float = 1e-12, max_steps: int = 20
) -> tuple[np.ndarray, list[float]]:
    """Newton's iterations from u until |F(u)| < tolerance: the solution and the residual norms."""
    norms = []
    for step in range(max_steps):
        value, jac = dd.value_and_jacobian(residual, u)
        norms.append(float(np.linalg.norm(value)))
        print(f"step {step}: |F(u)| = {norms[-1]:.3e}")
        if norms[-1] < tolerance:
            return u, norms
        u = u - np.linalg.solve(jac, value)
    raise RuntimeError("Newton's method did not converge")


def main() -> tuple[np.ndarray, list[float]]:
    u, norms = newton(np.zeros(N))
    print(f"max u = {u.max():.10f}")
    assert np.linalg.norm(residual(u)) < 1e-10
    return u, norms


def plot(u: np.ndarray, norms: list[float]) -> None:
    """The solution on the grid, and the residual falling quadratically (needs matplotlib)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    grid = np.linspace(0.0, 1.0, N + 2)
    left.plot(grid, np.concatenate([[0.0], u, [0.0]]), ".-")
    left.set(xlabel="x", ylabel="u(x)", title=f"Bratu's problem, λ = {LAMBDA}")
    right.semilogy(range(len(norms)), norms, "o-")
    right.set(xlabel="Newton step", ylabel="|F(u)|", title="residual: quadratic convergence")
    right.grid(True, alpha=0.3)


if __name__ == "__main__":
    solution, residual_norms = main()
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # the figure is optional: pip install dualdiff[plot]
        plt = None
    if plt is not None:
        plot(solution, residual_norms)
        plt.show()
