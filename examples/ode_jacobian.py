"""Exact Jacobians for a stiff ODE solver
=========================================

Robertson's chemical kinetics problem is the classic stiff system: rate constants from 0.04 to
3·10⁷ make explicit solvers crawl, and implicit ones (``scipy.integrate.solve_ivp`` with
``method="Radau"``) need the Jacobian of the right-hand side at every Newton restart. Without
``jac=`` SciPy estimates it by finite differences (one extra evaluation per state per Jacobian,
and an error in every entry); ``dualdiff.jacobian`` gives it exactly from the same Python
function.

The right-hand side is written as almost every ODE is, ``return np.array([...])`` of its
components. On duals NumPy makes that an object array of dual numbers, which dualdiff lifts
back: the derivatives are exact, at the cost of one Python object per component (a
``dualdiff.ObjectArrayWarning`` says so once). ``np.stack([...])`` keeps the vectorised path;
with three components the two cost about the same, for large arrays the object array is much
slower (see the README). Both are shown, with the finite-difference default. For three states a
finite-difference Jacobian is cheap (three extra evaluations); what the exact one brings here is
that no entry carries a truncation error, and the solver takes the same steps.

Run: python examples/ode_jacobian.py (needs SciPy)
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

import dualdiff as dd

K1, K2, K3 = 0.04, 3.0e7, 1.0e4
Y0 = np.array([1.0, 0.0, 0.0])
T_END = 40.0


def robertson(t, y):
    """The right-hand side as it is usually written: a list of expressions made an array."""
    return np.array(
        [
            -K1 * y[0] + K3 * y[1] * y[2],
            K1 * y[0] - K3 * y[1] * y[2] - K2 * y[1] ** 2,
            K2 * y[1] ** 2,
        ]
    )


def robertson_stacked(t, y):
    """The same with ``np.stack``: the components stay one vectorised dual array."""
    return np.stack(
        [
            -K1 * y[0] + K3 * y[1] * y[2],
            K1 * y[0] - K3 * y[1] * y[2] - K2 * y[1] ** 2,
            K2 * y[1] ** 2,
        ]
    )


def exact_jacobian(y):
    """The Jacobian by hand, to check dualdiff's against."""
    return np.array(
        [
            [-K1, K3 * y[2], K3 * y[1]],
            [K1, -K3 * y[2] - 2 * K2 * y[1], -K3 * y[1]],
            [0.0, 2 * K2 * y[1], 0.0],
        ]
    )


def solve(integrate, jac, rhs=robertson):
    start = time.perf_counter()
    solution = integrate.solve_ivp(
        rhs, (0.0, T_END), Y0, method="Radau", rtol=1e-6, atol=[1e-8, 1e-12, 1e-8], jac=jac
    )
    elapsed = time.perf_counter() - start
    assert solution.success, solution.message
    return solution, elapsed


def main() -> int:
    try:
        from scipy import integrate
    except ImportError:
        print("SciPy is not installed: nothing to show (pip install scipy)")
        return 0
    # the object-array fallback warns once that np.stack would be faster: shown below instead
    warnings.simplefilter("ignore", dd.ObjectArrayWarning)

    y = np.array([0.7, 2.0e-5, 0.3])
    error = np.abs(dd.jacobian(lambda u: robertson(0.0, u), y) - exact_jacobian(y)).max()
    print(f"dualdiff Jacobian against the hand-written one: max abs error {error:.1e}")
    assert error == 0.0  # polynomial right-hand side: every entry exact

    runs = {
        "finite differences (SciPy's default)": solve(integrate, None),
        "dualdiff, np.array right-hand side": solve(
            integrate, lambda t, u: dd.jacobian(lambda v: robertson(t, v), u)
        ),
        "dualdiff, np.stack right-hand side": solve(
            integrate,
            lambda t, u: dd.jacobian(lambda v: robertson_stacked(t, v), u),
            robertson_stacked,
        ),
    }
    reference = runs["finite differences (SciPy's default)"][0].y[:, -1]
    print(f"Robertson to t = {T_END:g} with Radau (rtol 1e-6):")
    print(f"{'Jacobian':40s} {'steps':>6s} {'f evals':>8s} {'J evals':>8s} {'time':>9s}")
    for name, (solution, elapsed) in runs.items():
        steps = solution.t.size - 1
        print(
            f"{name:40s} {steps:6d} {solution.nfev:8d} {solution.njev:8d} {elapsed * 1e3:7.1f} ms"
        )
    for name, (solution, _) in runs.items():
        final = solution.y[:, -1]
        agreement = np.max(np.abs(final - reference) / np.maximum(np.abs(reference), 1e-12))
        print(f"final state, {name}: {final}  (relative difference {agreement:.1e})")
        assert agreement < 1e-5  # the same solution, to the solver's tolerance
    mass = runs["dualdiff, np.array right-hand side"][0].y.sum(axis=0)
    print(f"mass conservation y1 + y2 + y3 = 1: max deviation {np.abs(mass - 1).max():.1e}")
    return 0


if __name__ == "__main__":
    # exit only on failure: the documentation's gallery runs this file as __main__ in its own
    # process, where sys.exit(0) would end the whole build
    if status := main():
        sys.exit(status)
