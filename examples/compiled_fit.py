"""
A compiled Levenberg–Marquardt fit
==================================

A least-squares fit whose Jacobian is compiled once and reused at every iteration.

Fits a damped oscillation :math:`y = a e^{-bt} \\cos(\\omega t + \\varphi)` to noisy samples by
Gauss–Newton with Levenberg–Marquardt damping. The residual is plain NumPy; its Jacobian (200
residuals × 4 parameters) comes from ``dualdiff.jit_jacobian``, which traces the residual on the
first call and replays straight-line NumPy afterwards, and the eager ``dualdiff.jacobian`` gives
the same numbers.

Run: ``python examples/compiled_fit.py``
"""

import time

import numpy as np

import dualdiff as dd

T = np.linspace(0.0, 10.0, 200)
TRUE = np.array([2.0, 0.3, 2.5, 0.4])  # amplitude, decay, angular frequency, phase
RNG = np.random.default_rng(1)
DATA = TRUE[0] * np.exp(-TRUE[1] * T) * np.cos(TRUE[2] * T + TRUE[3])
DATA = DATA + 0.01 * RNG.standard_normal(T.size)


def residual(p: np.ndarray) -> np.ndarray:
    a, b, omega, phi = p[0], p[1], p[2], p[3]
    return a * np.exp(-b * T) * np.cos(omega * T + phi) - DATA


def fit(p: np.ndarray, jacobian, steps: int = 50) -> np.ndarray:
    damping = 1e-3
    cost = 0.5 * np.sum(residual(p) ** 2)
    step = 0
    while step < steps:
        r, J = residual(p), jacobian(p)
        gradient = J.T @ r
        if np.max(np.abs(gradient)) < 1e-10:
            break
        step += 1
        trial = p - np.linalg.solve(J.T @ J + damping * np.diag(np.diag(J.T @ J)), gradient)
        trial_cost = 0.5 * np.sum(residual(trial) ** 2)
        if trial_cost < cost:
            p, cost, damping = trial, trial_cost, damping / 3
        else:
            damping *= 4
    print(f"converged after {step} steps: cost = {cost:.6e}")
    return p


def per_call(fn, x, repeat: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn(x)
    return (time.perf_counter() - start) / repeat


def main() -> np.ndarray:
    compiled = dd.jit_jacobian(residual)
    start = np.array([1.5, 0.2, 2.4, 0.0])
    p = fit(start, compiled)
    print("fitted:", np.round(p, 3), " true:", TRUE)
    assert np.allclose(p, TRUE, atol=0.02)

    eager = dd.jacobian(residual, p)
    assert np.allclose(compiled(p), eager, rtol=1e-13, atol=1e-15)
    eager_time = per_call(lambda q: dd.jacobian(residual, q), p)
    compiled_time = per_call(compiled, p)
    print(
        f"Jacobian per call: eager {1e6 * eager_time:.0f} µs, compiled {1e6 * compiled_time:.0f} µs"
    )
    print("the generated code begins:")
    print("\n".join(compiled.source.splitlines()[:6]))
    return p


def plot(p: np.ndarray) -> None:
    """The noisy samples and the fitted curve (needs matplotlib)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    ax.plot(T, DATA, ".", ms=3, color="tab:gray", label="samples")
    ax.plot(T, residual(p) + DATA, color="tab:red", label="fitted a·exp(-bt)·cos(ωt + φ)")
    ax.set(xlabel="t", ylabel="y", title="Levenberg–Marquardt with a compiled Jacobian")
    ax.legend()


if __name__ == "__main__":
    fitted = main()
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # the figure is optional: pip install dualdiff[plot]
        plt = None
    if plt is not None:
        plot(fitted)
        plt.show()
