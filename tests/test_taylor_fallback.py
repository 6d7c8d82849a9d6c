"""Taylor mode's fallback for special functions without a series rule: DualArray's first-order
rule nested once per order (``dualdiff.series.taylor._nested_fallback``).

References: NumPy's own value (coefficient 0, exactly), numeric differences of the first-order
jvp (orders 1 to 4), and the identities the results satisfy at every order (``QR = A``,
``AV = VΛ``, ``UΣVᴴ = A``, ``A⁺A = I``, the normal equations), whose series are computed by
Taylor mode's own matmul and arithmetic.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff import numeric
from dualdiff.series.taylor import Taylor

T = sys.modules["dualdiff.series.taylor"]  # the module (dualdiff.taylor is also a function's name)

RNG = np.random.default_rng(3)
A0, A1, A2 = (RNG.standard_normal((4, 3)) for _ in range(3))
S0 = RNG.standard_normal((3, 3)) + np.diag([0.0, 3.0, 6.0])  # distinct real eigenvalues
B = RNG.standard_normal(4)


def tall(t):
    return A0 + t * A1 + t * t * A2  # a matrix that moves along a curve, not a line


def square(t):
    return S0 + t * A1[:3] + t * t * A2[:3]


FUNCTIONS = {
    "qr": lambda t: np.concatenate([np.ravel(m) for m in np.linalg.qr(tall(t))]),
    "qr complete": lambda t: np.ravel(np.linalg.qr(square(t), mode="complete").Q),
    "svd": lambda t: np.concatenate([np.ravel(m) for m in np.linalg.svd(tall(t), False)]),
    "eigvals": lambda t: np.sort(np.linalg.eigvals(square(t)).real),
    "eig vectors": lambda t: np.ravel(np.linalg.eig(square(t)).eigenvectors.real),
    "pinv": lambda t: np.ravel(np.linalg.pinv(tall(t))),
    "lstsq": lambda t: np.linalg.lstsq(tall(t), B + t * B[::-1], rcond=None)[0],
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_coefficient_zero_is_numpys_value(name):
    f = FUNCTIONS[name]
    np.testing.assert_array_equal(dd.taylor(f, 0.3, 3)[..., 0], f(0.3))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_orders_one_to_four_match_differences_of_the_jvp(name):
    f = FUNCTIONS[name]
    coefficients = dd.taylor(f, 0.3, 4)
    np.testing.assert_allclose(coefficients[..., 1], numeric.derivative(f, 0.3), atol=1e-7)
    for k in (2, 3, 4):
        # coefficient k = (k-1)-th derivative of the first-order jvp / k!
        expected = numeric.derivative(
            lambda t: dd.derivative(f, t), 0.3, n=k - 1, method="richardson"
        )
        np.testing.assert_allclose(
            coefficients[..., k] * math.factorial(k), expected, rtol=1e-5, atol=1e-6
        )


def _residual_series(residual, order=6):
    return dd.taylor(residual, 0.3, order)


IDENTITIES = {
    # each residual is zero for every t, so every Taylor coefficient of it is zero
    "qr": lambda t: np.matmul(*np.linalg.qr(tall(t))) - tall(t),
    "qr orthonormal": lambda t: (lambda q: q.T @ q - np.eye(3))(np.linalg.qr(tall(t)).Q),
    "eig": lambda t: (lambda w, v: square(t) @ v - v * w)(*np.linalg.eig(square(t))),
    "svd": lambda t: (lambda u, s, vh: (u * s) @ vh)(*np.linalg.svd(tall(t), False)) - tall(t),
    "pinv": lambda t: np.linalg.pinv(tall(t)) @ tall(t) - np.eye(3),
    "lstsq": lambda t: tall(t).T @ (tall(t) @ np.linalg.lstsq(tall(t), B, rcond=None)[0] - B),
}


@pytest.mark.parametrize("name", list(IDENTITIES))
def test_identities_hold_at_every_order(name):
    series = _residual_series(IDENTITIES[name])  # the factors' coefficients are O(1) to O(20)
    assert np.all(np.abs(series) <= 1e-11), np.abs(series).reshape(-1, 7).max(axis=0)


def test_results_keep_numpys_structure():
    x = Taylor([tall(0.0), A1, A2], 2)
    qr = np.linalg.qr(x)
    assert type(qr).__name__ == "QRResult" and type(qr.Q) is Taylor and qr.Q.order == 2
    solution, residuals, rank, singular = np.linalg.lstsq(x, B, rcond=None)
    assert type(rank) is type(np.linalg.lstsq(tall(0.0), B, rcond=None)[2])
    assert type(solution) is Taylor and type(singular) is Taylor
    w, v = np.linalg.eig(Taylor([S0 + 0j, A1[:3]], 1))  # complex coefficients
    np.testing.assert_array_equal(w.coefficients[0], np.linalg.eig(S0 + 0j).eigenvalues)


def test_a_constant_series_gives_numpys_results():
    q = np.linalg.qr(Taylor([tall(0.0)], 3)).Q
    np.testing.assert_array_equal(dd.taylor(lambda t: q, 0.0, 2)[..., 0], np.linalg.qr(A0).Q)


def test_orders_above_the_limit_are_refused_by_name():
    x = Taylor([tall(0.0), A1], T.FALLBACK_MAX_ORDER + 1)
    refusal = r"numpy.linalg.qr on a Taylor series of order 7.*3\*\*order"
    with pytest.raises(TypeError, match=refusal):
        np.linalg.qr(x)
    np.linalg.qr(Taylor([tall(0.0), A1], T.FALLBACK_MAX_ORDER))  # the limit itself works


def test_second_derivative_of_a_function_whose_first_works():
    # issue 12: derivative(f, x, n=2) works where derivative(f, x) does
    def f(t):
        return np.linalg.pinv(tall(t))[1, 2] * np.linalg.svd(tall(t), False).U[0, 0]

    expected = numeric.derivative(lambda t: dd.derivative(f, t), 0.2, method="richardson")
    assert dd.derivative(f, 0.2, n=2) == pytest.approx(expected, rel=1e-6)


def test_nested_with_other_differentiations():
    c = RNG.standard_normal((4, 3))

    def coefficient_two(s):  # Taylor mode inside, its coefficients duals of an outer pass
        return dd.taylor(lambda t: np.linalg.pinv(tall(t) + s * c)[1, 2], 0.0, 2)[2]

    def first(t):  # a first-order pass inside Taylor mode
        return dd.derivative(lambda s: np.linalg.qr(tall(t) + s * c).R[0, 1], 0.0)

    assert dd.derivative(coefficient_two, 0.2) == pytest.approx(
        numeric.derivative(coefficient_two, 0.2, method="richardson"), rel=1e-6
    )
    for f in (coefficient_two, first):
        expected = numeric.derivative(lambda x, f=f: dd.derivative(f, x), 0.2, method="richardson")
        assert dd.derivative(f, 0.2, n=2) == pytest.approx(expected, rel=1e-6)
    x = np.array([0.1, 0.2])  # a batched jacobian around the fallback

    def g(x):
        return dd.taylor(lambda t: np.linalg.eigvals(square(t) + x[0] * c[:3]).real.max(), 0.0, 3)

    np.testing.assert_allclose(dd.jacobian(g, x), numeric.jacobian(g, x), rtol=1e-6, atol=1e-8)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.sampled_from(["qr", "pinv", "svd"]))
def test_identities_on_random_series(seed, order, name):
    rng = np.random.default_rng(seed)
    a = Taylor([rng.standard_normal((4, 3)) for _ in range(order + 1)], order)
    if name == "qr":
        q, r = np.linalg.qr(a)
        residual, value = q @ r - a, np.linalg.qr(a.coefficients[0]).R
        out = r
    elif name == "pinv":
        out = np.linalg.pinv(a)
        residual, value = out @ a - np.eye(3), np.linalg.pinv(a.coefficients[0])
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        residual, value = (u * s) @ vh - a, np.linalg.svd(a.coefficients[0]).S
        out = s
    np.testing.assert_array_equal(out.coefficients[0], value)
    # relative to the size of the factors' coefficients (random matrices can be ill-conditioned)
    size = max(np.abs(c).max() for c in out.coefficients)
    for c in residual.coefficients:
        assert np.abs(c).max() <= 1e-12 * max(1.0, size) ** 2
