"""Shapes and dtypes of derivatives at every order, for every kind of output.

``derivative(f, x, n)`` for ``n >= 1`` is elementwise: it has the shape of ``f(x)`` broadcast
with ``x`` (a constant output gives zeros of that shape), the dtype of ``f``'s values (at least
float), and the same at every order. ``n = 0`` is ``f(x)`` itself. ``taylor`` puts the
coefficients on one trailing axis. ``jacobian``, ``gradient``, ``hessian`` and ``jvp`` of a
constant function are zeros of their documented shapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import dualdiff as dd

SHAPES = [(), (4,), (2, 3)]
ORDERS = [0, 1, 2, 3]


def _point(shape, dtype=np.float64):
    x = np.linspace(0.3, 0.9, math.prod(shape)).reshape(shape).astype(dtype)
    return x[()] if shape == () else x


# (name, f, n-th derivative in closed form as a function of (x, n) on plain values)
FUNCTIONS = [
    ("x*x", lambda x: x * x, lambda x, n: [x * x, 2 * x, 2.0 + 0 * x, 0 * x][n]),
    ("exp", np.exp, lambda x, n: np.exp(x)),
    ("constant 3.0", lambda x: 3.0, lambda x, n: 3.0 if n == 0 else 0.0),
    ("constant array", lambda x: np.ones(4), lambda x, n: np.ones(4) * (n == 0)),
    ("ignores x", lambda x: np.zeros(np.shape(x)) + 2.0, lambda x, n: 2.0 * (n == 0) + 0 * x),
    ("x - x", lambda x: x - x, lambda x, n: 0 * x),
    (
        "complex",
        lambda x: x * (1 + 2j),
        lambda x, n: [x * (1 + 2j), 1 + 2j + 0 * x, 0j * x, 0j * x][n],
    ),
    (
        "outer broadcast",
        lambda x: x + np.ones((2,) + np.shape(x)),
        lambda x, n: [
            x + np.ones((2,) + np.shape(x)),
            np.ones((2,) + np.shape(x)),
            np.zeros((2,) + np.shape(x)),
            np.zeros((2,) + np.shape(x)),
        ][n],
    ),
]


def _expected_shape(f, x, n):
    out = np.shape(f(x))
    if n == 0:
        return out
    try:
        return np.broadcast_shapes(out, np.shape(x))
    except ValueError:
        return out


def _float_dtype(a):
    dtype = np.asarray(a).dtype
    return dtype if dtype.kind in "fc" else np.dtype(float)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(("name", "f", "closed"), FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_derivative_shape_dtype_and_value(name, f, closed, shape):
    x = _point(shape)
    for n in ORDERS:
        got = dd.derivative(f, x, n=n)
        want_shape = _expected_shape(f, x, n)
        assert np.shape(got) == want_shape, n
        assert _float_dtype(got) == _float_dtype(f(x)), n
        want = np.broadcast_to(closed(x, n), want_shape)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, err_msg=f"n={n}")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.complex128])
def test_derivative_keeps_the_dtype_at_every_order(dtype, shape):
    x = _point(shape, dtype)
    for n in [1, 2, 3]:
        got = dd.derivative(lambda u: u * u * u, x, n=n)
        assert np.asarray(got).dtype == np.asarray(x * x).dtype, n
        assert np.shape(got) == shape, n


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(("name", "f", "closed"), FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_taylor_shape(name, f, closed, shape):
    x = _point(shape)
    for order in ORDERS:
        got = dd.taylor(f, x, order)
        out = np.shape(f(x))
        if shape == () and out == ():
            assert got.shape == (order + 1,)
        else:
            assert got.shape == _expected_shape(f, x, 1) + (order + 1,)
        assert got.dtype == _float_dtype(f(x))
        for k in range(order + 1):
            want = np.broadcast_to(closed(x, k) / math.factorial(k), got.shape[:-1])
            np.testing.assert_allclose(got[..., k], want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_taylor_keeps_the_dtype(dtype):
    x = _point((4,), dtype)
    got = dd.taylor(lambda u: u * u, x, 3)
    assert got.dtype == dtype and got.shape == (4, 4)
    np.testing.assert_allclose(got[:, 2], np.ones(4))


CONSTANTS = [
    lambda x: 3.0,
    lambda x: np.float32(3.0),
    lambda x: np.ones(4),
    lambda x: np.ones((2, 2)),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("c", range(len(CONSTANTS)))
def test_derivatives_of_constants(c, shape):
    f = CONSTANTS[c]
    x = _point(shape)
    out = np.shape(f(x))
    jac = dd.jacobian(f, x)
    assert jac.shape == out + shape and jac.dtype.kind == "f" and not jac.any()
    jac = dd.jacobian(f, x, chunk=1)
    assert jac.shape == out + shape and jac.dtype.kind == "f" and not jac.any()
    value, tangent = dd.jvp(f, x, np.ones(shape) if shape else 1.0)
    assert np.shape(tangent) == out and np.asarray(tangent).dtype.kind == "f"
    assert not np.any(tangent)
    if out == ():
        g = dd.gradient(f, x)
        assert np.shape(g) == shape and np.asarray(g).dtype.kind == "f" and not np.any(g)
        h = dd.hessian(f, x)
        assert np.shape(h) == shape * 2 and np.asarray(h).dtype.kind == "f" and not np.any(h)


def test_second_derivative_of_x_squared_is_elementwise():
    # the reproduction: the scalar 2.0 came back for a (4,) input
    got = dd.derivative(lambda x: x * x, np.ones(4), n=2)
    assert got.shape == (4,)
    np.testing.assert_array_equal(got, np.full(4, 2.0))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tuple_outputs_are_elementwise_leaf_by_leaf(n):
    x = np.linspace(0.2, 0.8, 4)
    first, constant, total = dd.derivative(lambda u: (u**3, 3.0, np.sum(u)), x, n=n)
    np.testing.assert_allclose(first, [3 * x**2, 6 * x, np.full(4, 6.0)][n - 1], rtol=1e-14)
    np.testing.assert_array_equal(constant, np.zeros(4))
    # np.sum is not elementwise: its tangent along the all-ones seed is kept as it is (a scalar),
    # not broadcast into a fake per-element derivative
    assert np.shape(total) == ()
    assert total == (4.0 if n == 1 else 0.0)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_compiled_derivatives_of_constants(shape):
    x = _point(np.atleast_1d(np.zeros(shape)).shape)  # the compiler takes arrays
    value, tangent = dd.jit_jvp(lambda u: u * 0.0 + 3.0)(x, np.ones(x.shape))
    assert tangent.shape == x.shape and tangent.dtype.kind == "f" and not tangent.any()
    jac = dd.jit_jacobian(lambda u: u * 0.0 + 3.0)(x)
    assert jac.shape == x.shape * 2 and jac.dtype.kind == "f" and not jac.any()
