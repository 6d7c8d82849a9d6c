"""
Exact derivatives for ``scipy.optimize``
========================================

dualdiff's exact derivatives as the ``jac=`` of ``scipy.optimize`` (skipped without SciPy).

Minimises the Rosenbrock function with BFGS using ``dualdiff.gradient``, and solves a nonlinear
system with ``scipy.optimize.root`` using ``dualdiff.jacobian``.

Run: ``python examples/scipy_optimize.py``
"""

import sys

import numpy as np

import dualdiff as dd


def rosenbrock(x: np.ndarray) -> float:
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def system(v: np.ndarray) -> np.ndarray:
    x, y = v[0], v[1]
    return np.stack([x**2 + y**2 - 4.0, np.exp(x) + y - 1.0])


def main() -> int:
    try:
        from scipy import optimize
    except ImportError:
        print("SciPy is not installed: nothing to show (pip install scipy)")
        return 0
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    result = optimize.minimize(rosenbrock, x0, jac=lambda x: dd.gradient(rosenbrock, x))
    print(f"BFGS with the exact gradient: x = {np.round(result.x, 8)}, {result.nfev} evaluations")
    assert np.allclose(result.x, 1.0, atol=1e-5)

    solution = optimize.root(system, np.array([1.0, -1.0]), jac=lambda v: dd.jacobian(system, v))
    residual = np.abs(system(solution.x)).max()
    print(f"root with the exact Jacobian: {solution.x}, residual {residual:.1e}")
    assert solution.success and np.abs(system(solution.x)).max() < 1e-10
    return 0


if __name__ == "__main__":
    # exit only on failure: the documentation's gallery runs this file as __main__ in its own
    # process, where sys.exit(0) would end the whole build
    if status := main():
        sys.exit(status)
