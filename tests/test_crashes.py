"""Crashes that must be right answers or clear errors (issue 11, class 9).

Each case once raised an internal error (RecursionError, AxisError, ZeroDivisionError from Python
float arithmetic, a ValueError from a NaN converted to int) where NumPy gives a number. References
are NumPy's own semantics (inf/nan with a RuntimeWarning), closed forms, or central differences.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import assert_close, directional
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff import Dual

# -- value-only functions of sequences of duals ------------------------------------------------


def test_lexsort_of_a_dual_key_sorts_by_values():
    x = np.array([3.0, 1.0, 2.0])
    order = np.lexsort((x,))
    expected = np.eye(3)[order]  # x[order] picks rows of the identity
    np.testing.assert_array_equal(dd.jacobian(lambda u: u[np.lexsort((u,))], x), expected)
    # two keys, one of them a constant
    keys = np.array([1.0, 0.0, 1.0])
    order2 = np.lexsort((x, keys))
    got = dd.jacobian(lambda u: u[np.lexsort((u, keys))] * 2.0, x)
    np.testing.assert_array_equal(got, 2.0 * np.eye(3)[order2])


def test_value_functions_strip_duals_inside_sequences():
    x = dd.DualArray(np.array([0.5, 2.0]), np.ones(2))
    assert np.allclose(np.isclose(x, [0.5, 1.0]), [True, False])
    assert np.searchsorted([0.0, 1.0, 3.0], x).tolist() == [1, 2]
    assert np.digitize(x, [0.0, 1.0]).tolist() == [1, 2]


# -- joins and atleast_nd on 0-d, 1-d and n-d traced values -------------------------------------

_PIECES = {
    "0d": lambda x: x[0] ** 2,
    "1d": lambda x: x[1:3] * x[3],
    "2d": lambda x: np.sin(x[:4].reshape(2, 2)),
    "const0d": lambda x: np.float64(2.0),
    "const1d": lambda x: np.array([1.0, 2.0]),
}
_JOINS = {
    "hstack": np.hstack,
    "vstack": np.vstack,
    "dstack": np.dstack,
    "column_stack": np.column_stack,
    "concatenate": np.concatenate,
    "concatenate_flat": lambda a: np.concatenate(a, axis=None),
    "stack": np.stack,
    "stack_last": lambda a: np.stack(a, axis=-1),
    "atleast_1d": lambda a: np.atleast_1d(*a),
    "atleast_2d": lambda a: np.atleast_2d(*a),
    "atleast_3d": lambda a: np.atleast_3d(*a),
}
_COMBINATIONS = [
    ("0d", "0d"),
    ("0d", "const0d"),
    ("1d", "1d"),
    ("1d", "const1d"),
    ("2d", "2d"),
    ("0d",),
    ("1d",),
    ("2d",),
    ("0d", "1d"),
]


def _joined(join, combination):
    def f(x):
        result = join([_PIECES[name](x) for name in combination])
        if isinstance(result, tuple):  # atleast_nd of several arrays
            return np.concatenate([np.ravel(r) for r in result])
        return result

    return f


@pytest.mark.parametrize("combination", _COMBINATIONS, ids="-".join)
@pytest.mark.parametrize("name", sorted(_JOINS))
def test_joins_in_every_mode(name, combination):
    f = _joined(_JOINS[name], combination)
    x = np.linspace(0.3, 1.1, 6)
    v = np.linspace(-1.0, 1.0, 6)
    try:
        expected = np.asarray(f(x))
    except ValueError:  # NumPy refuses the shapes: every mode must refuse them too
        for run in (
            lambda: dd.jacobian(f, x),
            lambda: dd.jit_jacobian(f)(x),
            lambda: dd.jit_jvp(f)(x, v),
        ):
            with pytest.raises(ValueError):
                run()
        return
    jac = numeric_jacobian(f, x)
    for result in (dd.jacobian(f, x), dd.jit_jacobian(f)(x)):
        assert result.shape == expected.shape + (6,)
        assert_close(result, jac)
    tangent = np.tensordot(jac, v, 1)
    for value, t in (dd.jvp(f, x, v), dd.jit_jvp(f)(x, v)):
        np.testing.assert_allclose(value, expected, rtol=1e-15)
        assert t.shape == expected.shape
        assert_close(t, tangent)


def test_hstack_of_zero_d_traced_values():  # the reproduction
    got = dd.jit_jacobian(lambda x: np.hstack([x[0], x[1] ** 2]))(np.ones(2))
    np.testing.assert_array_equal(got, [[1.0, 0.0], [0.0, 2.0]])


# -- division by zero follows NumPy (inf/nan with a RuntimeWarning), never ZeroDivisionError ----


def test_compiled_division_by_a_zero_constant():
    x = np.ones(2)
    with pytest.warns(RuntimeWarning):
        eager = dd.jacobian(lambda u: u / 0.0, x)
    np.testing.assert_array_equal(eager, np.diag([np.inf, np.inf]))
    with pytest.warns(RuntimeWarning):
        compiled = dd.jit_jacobian(lambda u: u / 0.0)(x)
    np.testing.assert_array_equal(compiled, eager)
    with pytest.warns(RuntimeWarning):
        value, tangent = dd.jit_jvp(lambda u: u / 0.0)(x, x)
    np.testing.assert_array_equal(tangent, [np.inf, np.inf])
    with pytest.warns(RuntimeWarning):  # float32 stays float32, as the constant is weak
        small = dd.jit_jacobian(lambda u: u / 0.0)(np.ones(2, np.float32))
    assert small.dtype == np.float32


def test_scalar_division_by_zero_is_numpy_division():
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda x: 1 / x, 0.0) == -np.inf
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda x: x / 0.0, 1.0) == np.inf
    with pytest.warns(RuntimeWarning):
        assert np.isnan(dd.derivative(lambda x: x / x, 0.0))  # (0·1 - 0·1)/0: NumPy's 0/0
    with pytest.warns(RuntimeWarning):
        d = Dual(1.0, 1.0) / Dual(0.0, 0.0)
    assert d.value == np.inf and np.isnan(d.tangent)  # (1 - inf·0)/0
    assert type(d.value) is float  # the result stays on the Python-float fast path


def test_nested_derivative_through_a_pole():
    # d/dy log'(y) = d/dy 1/y = -1/y**2: -inf at 0, as NumPy's arithmetic gives
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda y: dd.derivative(np.log, y), 0.0) == -np.inf
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda y: dd.derivative(lambda x: 1 / x, y), 0.0) == np.inf
    assert dd.derivative(np.log, 0.0, n=2) == -np.inf  # Taylor mode: the same poles
    assert dd.derivative(lambda x: 1 / x, 0.0, n=2) == np.inf
    assert dd.derivative(lambda x: 1 / x, 0.0, n=3) == -np.inf
    # away from the pole the nested result is the closed form
    assert dd.derivative(lambda y: dd.derivative(np.log, y), 2.0) == -0.25


def test_every_scalar_operator_at_special_values_gives_a_number():
    values = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2]
    operators = [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: a**b,
    ]

    def dual(v, nested):
        if nested:
            return Dual(Dual(v, 1.0, tag=5), Dual(1.0, 0.0, tag=5), tag=6)
        return Dual(v, 1.0, tag=5)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for nested in (False, True):
            for a in values:
                for b in values:
                    for op in operators:
                        for left, right in ((True, False), (False, True), (True, True)):
                            x = dual(a, nested) if left else a
                            y = dual(b, nested) if right else b
                            result = op(x, y)
                            plain = op(np.float64(a), np.float64(b))
                            got = dd.dual.strip(result)
                            assert got == plain or (np.isnan(got) and np.isnan(plain))


def test_nested_duals_keep_the_first_order_rule_at_a_pole():
    x = Dual(Dual(0.0, 1.0, tag=5), Dual(1.0, 0.0, tag=5), tag=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = x / 0.0
    # value 0/0 and tangent 1/0 at both layers, computed the way NumPy computes them
    assert np.isnan(y.value.value) and y.value.tangent == np.inf
    assert y.tangent.value == np.inf and np.isnan(y.tangent.tangent)
    assert_close(dd.derivative(lambda u: 1 / u, 0.5), directional(lambda u: 1 / u, 0.5, 1.0))


# -- Taylor rules at NaN and infinite points give NaN/inf, as NumPy would, never a crash ------


def test_sinc_higher_derivatives_at_nan_and_infinity():
    for x in (np.nan, np.inf, -np.inf):
        for n in (2, 3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert np.isnan(dd.derivative(dd.sinc, x, n=n))
                got = dd.derivative(dd.sinc, np.array([x, 0.5]), n=n)
            assert np.isnan(got[0])
            assert_close(got[1], dd.derivative(dd.sinc, 0.5, n=n), rtol=1e-14)
    # sinc''(0) = -π²/3
    assert_close(dd.derivative(dd.sinc, 0.0, n=2), -(np.pi**2) / 3, rtol=1e-14)


_SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]


@pytest.mark.parametrize("name", sorted(dd.RULES))
def test_every_taylor_rule_at_special_points(name):
    rule = dd.RULES[name]
    if name == "ldexp":  # its exponent must be an integer: NumPy refuses floats
        pytest.skip("ldexp takes an integer exponent")
    calls = []
    if rule.nin == 1:
        calls += [(rule.function, x) for x in _SPECIAL]
    else:
        for a in _SPECIAL[::2]:  # nan, -inf, -0.0 (and 1.0 below): enough pairs, quickly
            for b in _SPECIAL[::2] + [1.0]:
                calls += [
                    (lambda x, b=b: rule.function(x, b), a),
                    (lambda x, a=a: rule.function(a, x), b),
                    (lambda x, b=b: rule.function(x, x * b), a),
                ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f, x in calls:
            for n in (2,) if rule.nin == 2 else (2, 3):
                scalar = dd.derivative(f, x, n=n)
                elementwise = dd.derivative(f, np.array([x, x]), n=n)
                # the same point as a scalar and inside an array: the same answer
                np.testing.assert_allclose(elementwise, [scalar, scalar], rtol=1e-13)


# -- arguments are validated the same way on every path ---------------------------------------


@pytest.mark.parametrize("x", [1.0, 1, np.float64(1.0), np.array([1.0, 2.0])], ids=repr)
@pytest.mark.parametrize("n", [1.0, 2.0, True, False, np.True_, "1", None, np.array([1])], ids=repr)
def test_derivative_order_must_be_an_integer_on_every_path(x, n):
    with pytest.raises(TypeError, match="order n must be an integer"):
        dd.derivative(lambda u: u * u, x, n=n)


@pytest.mark.parametrize("n", [1, 2, np.int64(1), np.uint8(2), np.array(1)], ids=repr)
def test_derivative_order_accepts_integers_of_any_kind(n):
    expected = 3 * 2.0**2 if int(n) == 1 else 6 * 2.0  # (x³)' = 3x², (x³)'' = 6x at x = 2
    assert dd.derivative(lambda u: u**3, 2.0, n=n) == expected
    np.testing.assert_array_equal(dd.derivative(lambda u: u**3, np.array([2.0]), n=n), [expected])


def test_negative_orders_and_bad_taylor_orders_raise():
    for x in (1.0, np.ones(2)):
        with pytest.raises(ValueError, match=">= 0"):
            dd.derivative(np.sin, x, n=-1)
    for order in (2.0, True, np.True_, "2"):
        with pytest.raises(TypeError, match="must be an integer"):
            dd.taylor(np.sin, 1.0, order)
    np.testing.assert_allclose(dd.taylor(np.exp, 0.0, np.int8(2)), [1.0, 1.0, 0.5])


@pytest.mark.parametrize("chunk", [1.5, True, "2"], ids=repr)
def test_chunk_must_be_an_integer_everywhere(chunk):
    x = np.ones(3)
    for run in (
        lambda: dd.jacobian(lambda u: u * u, x, chunk=chunk),
        lambda: dd.gradient(lambda u: np.sum(u**3), x, chunk=chunk),
        lambda: dd.hessian(lambda u: np.sum(u**3), x, chunk=chunk),
        lambda: dd.jacobian(lambda u: u * u, x, chunk=chunk, workers=1),
    ):
        with pytest.raises(TypeError, match="chunk"):
            run()
    with pytest.raises(ValueError, match=">= 1"):
        dd.jacobian(lambda u: u * u, x, chunk=0)


def test_jacobian_output_option_is_checked():
    with pytest.raises(ValueError, match="'dense' or 'sparse'"):
        dd.jacobian(lambda u: u * u, np.ones(2), output="csr")
    with pytest.raises(TypeError, match="workers"):
        dd.jacobian(lambda u: u * u, np.ones(2), workers=2.5)
