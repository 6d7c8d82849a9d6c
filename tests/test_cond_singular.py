"""``np.linalg.cond`` of a singular matrix: NumPy's ``inf``, with a ``nan`` derivative.

NumPy turns the ``nan`` of a failed inverse (``p`` in 1, -1, inf, -inf, "fro") or of ``0/0``
(the SVD orders at a zero matrix) into ``inf``; dualdiff raised LinAlgError (or gave ``nan``
with a zero derivative) in every mode. Near a singular ``A`` the condition number is unbounded
(``cond(A + tV) ~ c/|t|``), so there is no derivative: ``nan`` along every direction that moves
``A``, never a finite number (0 along one that leaves it, whose value does not change). The
other matrices of a stack keep their derivatives (checked against numeric differences).
"""

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1: inv raises, svd's s_min ~ 1e-16
NONSINGULAR = np.array([[2.0, 0.5], [-0.3, 1.5]])
ORDERS = [1, -1, 2, np.inf, -np.inf, "fro", None, -2]


def stacks(p):
    """Matrices NumPy gives ``inf`` for at ``p`` (an exactly singular one, a zero one), each
    stacked with a regular one."""
    zero = np.zeros((2, 2))
    exact = np.array([[1.0, 0.0], [0.0, 0.0]])  # s_min exactly 0
    singular = [zero, exact] + ([SINGULAR] if p not in (None, 2, -2) else [])
    return [np.stack([m, NONSINGULAR]) for m in singular]


@pytest.mark.parametrize("p", ORDERS)
def test_cond_of_a_singular_matrix_is_inf_with_a_nan_derivative(p):
    f = lambda a: np.linalg.cond(a, p)  # noqa: E731
    for x in stacks(p):
        with np.errstate(all="ignore"):
            expected = np.linalg.cond(x, p)
        if p == -2 and expected[0] == 0:
            continue  # s_min / s_max = 0: finite in NumPy too
        assert np.isinf(expected[0]) and np.isfinite(expected[1])
        regular = numeric.jacobian(lambda m: f(m[None])[0], NONSINGULAR)
        for value, jac in (
            dd.value_and_jacobian(f, x),
            dd.jit_jacobian(f).value_and_jacobian(x),
            dd.SparseJacobian(f, x).value_and_jacobian(x),
        ):
            np.testing.assert_array_equal(value, expected)
            assert np.isnan(jac[0, 0]).all()  # no derivative at the singular matrix
            # ... along the regular one it is constant (the sparse recovery keeps a NaN to
            # its own entries, as the dense pass gives them)
            assert not jac[0, 1].any()
            np.testing.assert_allclose(jac[1, 1], regular, rtol=1e-6, atol=1e-8)
            assert not jac[1, 0].any()  # the regular matrix's does not depend on the other
        v = np.stack([np.array([[0.3, -1.0], [0.5, 0.2]])] * 2)
        coefficients = dd.taylor(lambda t: f(x + t * v), 0.0, 3)
        assert coefficients[0, 0] == np.inf and np.isnan(coefficients[0, 1:]).all()
        line = lambda t: f(NONSINGULAR + t * v[1])  # noqa: E731
        assert coefficients[1, 0] == expected[1]
        np.testing.assert_allclose(coefficients[1, 1], numeric.derivative(line, 0.0), rtol=1e-6)
        second = numeric.derivative(line, 0.0, n=2) / 2
        np.testing.assert_allclose(coefficients[1, 2], second, rtol=1e-4)
        v[0] = 0.0  # the singular matrix stays as it is along t: a constant inf
        coefficients = dd.taylor(lambda t: f(x + t * v), 0.0, 3)
        np.testing.assert_array_equal(coefficients[0], [np.inf, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("p", [1, "fro", None])
@pytest.mark.parametrize("n", [1, 3])
def test_cond_of_a_singular_matrix_in_a_nested_derivative(p, n):
    # a derivative along t inside a jacobian: nan, and its derivative nan too (a 0 there was a
    # plausible number for the derivative of a nan)
    singular, v = np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.3, -1.0], [0.5, 0.2]])

    def along(a):
        return dd.derivative(lambda t: np.linalg.cond(a + t * v, p), 0.0, n=n)

    assert np.isnan(along(singular))
    assert np.isnan(dd.jacobian(along, singular)).all()
    assert np.isnan(dd.hessian(lambda a: np.linalg.cond(a, p), singular)).all()
    # cond(a) along t is constant when a stays put: derivative 0 along t, and in a too
    constant = lambda a: dd.derivative(lambda t: np.linalg.cond(a * (1 + 0 * t), p), 0.0, n=2)  # noqa: E731
    assert constant(singular) == 0.0
    assert not dd.jacobian(constant, singular).any()


def test_cond_nuc_of_a_singular_matrix_raises_as_numpy_does():
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cond(SINGULAR, "nuc")
    for run in (
        lambda: dd.jacobian(lambda a: np.linalg.cond(a, "nuc"), SINGULAR),
        lambda: dd.taylor(lambda t: np.linalg.cond(SINGULAR * (1 + t), "nuc"), 0.0, 2),
    ):
        with pytest.raises(np.linalg.LinAlgError):
            run()
