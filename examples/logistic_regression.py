"""Fitting a logistic regression with SciPy and exact derivatives
================================================================

A generalised linear model is fitted by minimising its negative log-likelihood. Written with
``scipy.special`` the way statisticians write it, ``log_expit(z)`` for ``log σ(z)`` (stable where
``log(expit(z))`` underflows), the loss is one line; ``dualdiff.gradient`` and
``dualdiff.hessian`` differentiate it as it stands, SciPy's special functions included, and
feed ``scipy.optimize.minimize`` (BFGS with the gradient, then a trust-region Newton method
with the Hessian too). Both are checked against the closed forms
``∇ = Xᵀ(σ(Xw) − y) + λw`` and ``H = Xᵀ diag(σ(1 − σ)) X + λI``.

Run: python examples/logistic_regression.py (needs SciPy)
"""

from __future__ import annotations

import sys

import numpy as np

import dualdiff as dd

N_SAMPLES, N_FEATURES, PENALTY = 400, 5, 1e-2


def make_data(seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features with an intercept column and labels drawn from a known logistic model."""
    rng = np.random.default_rng(seed)
    features = np.column_stack([np.ones(N_SAMPLES), rng.normal(size=(N_SAMPLES, N_FEATURES - 1))])
    true_w = np.array([-0.5, 1.5, -2.0, 0.75, 0.0])
    labels = (rng.random(N_SAMPLES) < 1.0 / (1.0 + np.exp(-features @ true_w))).astype(float)
    return features, labels, true_w


def main() -> int:
    try:
        from scipy import optimize, special
    except ImportError:
        print("SciPy is not installed: nothing to show (pip install scipy)")
        return 0
    X, y, true_w = make_data()

    def loss(w):
        """Penalised negative log-likelihood, as written for plain arrays."""
        z = X @ w
        log_likelihood = y * special.log_expit(z) + (1.0 - y) * special.log_expit(-z)
        return -np.sum(log_likelihood) + 0.5 * PENALTY * np.sum(w**2)

    def gradient(w):
        return dd.gradient(loss, w)

    def hessian(w):
        return dd.hessian(loss, w)

    w = np.linspace(-0.3, 0.3, N_FEATURES)  # any point: check the derivatives first
    p = special.expit(X @ w)
    closed_gradient = X.T @ (p - y) + PENALTY * w
    closed_hessian = X.T @ (X * (p * (1 - p))[:, None]) + PENALTY * np.eye(N_FEATURES)
    gradient_error = np.abs(gradient(w) - closed_gradient).max() / np.abs(closed_gradient).max()
    hessian_error = np.abs(hessian(w) - closed_hessian).max() / np.abs(closed_hessian).max()
    print(f"gradient against the closed form: max relative error {gradient_error:.1e}")
    print(f"Hessian against the closed form:  max relative error {hessian_error:.1e}")
    assert gradient_error < 1e-12 and hessian_error < 1e-12

    w0 = np.zeros(N_FEATURES)
    bfgs = optimize.minimize(loss, w0, jac=gradient, method="BFGS", options={"gtol": 1e-8})
    newton = optimize.minimize(loss, w0, jac=gradient, hess=hessian, method="trust-exact")
    numeric = optimize.minimize(loss, w0, method="BFGS", options={"gtol": 1e-8})
    for name, result in [
        ("BFGS, dualdiff gradient", bfgs),
        ("trust-exact, dualdiff gradient + Hessian", newton),
        ("BFGS, finite-difference gradient", numeric),
    ]:
        final = np.abs(gradient(result.x)).max()
        print(
            f"{name:42s} {result.nit:3d} iterations, {result.nfev:4d} loss evaluations, "
            f"|gradient| {final:.1e}"
        )
    assert newton.success and np.abs(gradient(bfgs.x)).max() < 1e-6
    assert np.abs(bfgs.x - newton.x).max() < 1e-6
    print(f"fitted weights: {np.round(newton.x, 3)}")
    print(f"true weights:   {true_w}")
    # standard errors from the inverse Hessian at the optimum (the observed information)
    errors = np.sqrt(np.diag(np.linalg.inv(hessian(newton.x))))
    print(f"standard errors: {np.round(errors, 3)}")
    assert np.all(np.abs(newton.x - true_w) < 4 * errors)  # the fit recovers the model
    return 0


if __name__ == "__main__":
    # exit only on failure: the documentation's gallery runs this file as __main__ in its own
    # process, where sys.exit(0) would end the whole build
    if status := main():
        sys.exit(status)
