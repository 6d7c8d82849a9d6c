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


def newton(u: np.ndarray, tolerance: float = 1e-12, max_steps: int = 20) -> np.ndarray:
    for step in range(max_steps):
        value, jac = dd.value_and_jacobian(residual, u)
        norm = np.linalg.norm(value)
        print(f"step {step}: |F(u)| = {norm:.3e}")
        if norm < tolerance:
            return u
        u = u - np.linalg.solve(jac, value)
    raise RuntimeError("Newton's method did not converge")


def main() -> None:
    u = newton(np.zeros(N))
    print(f"max u = {u.max():.10f}")
    assert np.linalg.norm(residual(u)) < 1e-10


if __name__ == "__main__":
    main()
