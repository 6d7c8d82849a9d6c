"""Minimal reproductions of what the hunt with generated NumPy programs (Python operators,
loops, gathers and extrema among the grammar's steps; every mode against every other) found,
one test each.

Each says what was observed and what is expected; the references are closed forms or numeric
differences, never dualdiff itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd


@pytest.mark.parametrize("n", [2, 3])
def test_taylor_power_of_a_constant_zero_base(n):
    # 0**(t + 1.3) is the constant 0 (np.pad's zeros raised to a power computed from x): Taylor
    # mode's order 2 and beyond were nan, because its fallback multiplied the infinite partial
    # y·x**(y-1) of the constant base by that base's zero derivative (first order, and forward
    # over forward, keep a zero tangent zero)
    assert dd.derivative(lambda t: (t * 0.0) ** (t + 1.3), 0.5, n=n) == 0.0
    x, v = np.array([0.3, 0.8]), np.array([1.0, -0.5])

    def f(a):
        return np.pad(a, (1, 0)) ** (a[0] + 1.0)

    def line(t):
        return np.asarray(f(x + t * v))

    got = dd.derivative(lambda t: f(x + t * v), 0.0, n=n)
    h = 1e-3
    if n == 2:
        want = (line(h) - 2 * line(0.0) + line(-h)) / h**2
    else:
        want = (line(2 * h) - 2 * line(h) + 2 * line(-h) - line(-2 * h)) / (2 * h**3)
    assert got[0] == 0.0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_hessian_of_a_power_at_a_zero_exponent():
    # d/dx x**y was taken as exactly 0 wherever y == 0, also when y is a dual of value 0
    # (forward over forward): its tangent was dropped, and the Hessian of x0**x1 at x1 = 0 came
    # out [[0, 0], [0.5, log(2)²]], not symmetric; d²/dx0dx1 = x0**(x1-1) (1 + x1 log x0) = 1/x0
    want = np.array([[0.0, 0.5], [0.5, np.log(2.0) ** 2]])
    x = np.array([2.0, 0.0])
    np.testing.assert_allclose(dd.hessian(lambda a: a[0] ** a[1], x), want, rtol=1e-14)
    np.testing.assert_allclose(dd.hessian(lambda a: np.sum(a[:1] ** a[1:]), x), want, rtol=1e-14)
    # x**0 stays the constant 1 at x = 0: no nan from 0·0**-1
    assert dd.jacobian(lambda a: a**0.0, np.array([0.0, 2.0])).tolist() == [[0.0, 0.0], [0.0, 0.0]]


MODES = {
    "jacobian": lambda f, x: dd.jacobian(f, x),
    "jvp": lambda f, x: dd.jvp(f, x, np.ones_like(x))[1],
    "jit_jacobian": lambda f, x: dd.jit_jacobian(f)(x),
    "sparsity": lambda f, x: dd.jacobian(f, x, sparsity="auto"),
    "taylor": lambda f, x: dd.derivative(lambda t: f(x + t), 0.0, n=2),
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.diff(a, n=0, axis=None) * 2.0,
        lambda a: np.diff(np.sum(a), n=0) + a,
        lambda a: np.diff(a, n=0, axis=7) * 2.0,
    ],
    ids=["axis None", "0-d", "axis out of range"],
)
def test_diff_of_order_zero_checks_nothing(f, mode):
    # NumPy's np.diff(a, n=0) returns a before it looks at axis or a's dimensions; eager mode
    # and the sparsity tracer checked them first ("'NoneType' object cannot be interpreted as
    # an integer", "diff requires input that is at least one dimensional", AxisError), where
    # the compiler and Taylor mode followed NumPy
    x = np.array([[0.9, -0.4, 0.2], [-0.3, -0.1, 0.8]])
    out = np.asarray(MODES[mode](f, x))
    if mode in ("jacobian", "jit_jacobian", "sparsity"):
        want = np.asarray(dd.numeric.jacobian(f, x))
        np.testing.assert_allclose(np.asarray(out).reshape(want.shape), want, rtol=1e-8)
    elif mode == "jvp":
        np.testing.assert_allclose(out, np.asarray(f(x + 1.0)) - np.asarray(f(x)), rtol=1e-12)
    else:
        assert out.shape == np.shape(f(x)) and not out.any()


@pytest.mark.parametrize("join", [np.concatenate, np.stack, np.hstack, np.vstack])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_sparsity_of_a_join_with_a_float_dtype(join, dtype):
    # np.concatenate([...], dtype=np.float64) (and stack, hstack, vstack): eager mode, Taylor
    # mode and the compiler take it, the sparsity tracer refused "dtype=... is not supported"
    x = np.array([0.3, -0.5, 0.8])

    def f(a):
        return join([a[::-1] * 2.0, np.sin(a)], dtype=dtype)

    parts = [2.0 * np.eye(3)[::-1], np.diag(np.cos(x))]  # the Jacobians of the two parts
    want = np.stack(parts) if join in (np.stack, np.vstack) else np.concatenate(parts)
    got = dd.jacobian(f, x, sparsity="auto")
    assert got.dtype == dd.jacobian(f, x).dtype  # (float32 values: float32 tangents)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    pattern = dd.jacobian_sparsity(f, x)
    assert pattern.sum() == 6  # one dependency per output: the join keeps them apart


def test_sparsity_of_a_join_to_integers_is_refused_as_in_every_mode():
    def f(a):
        return np.concatenate([a, a * 2.0], dtype=int, casting="unsafe")

    x = np.array([0.3, -0.5, 0.8])
    for call in (dd.jacobian, dd.jacobian_sparsity, lambda g, z: dd.jit_jacobian(g)(z)):
        with pytest.raises(TypeError, match="drop"):
            call(f, x)


@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace_between_points_computed_from_x(endpoint):
    # a grid np.linspace(0, T, n) whose end T is a parameter: every mode refused "no derivative
    # rule for numpy.linspace"; the samples are start + k·(stop - start)/div, linear in both
    x = np.array([0.3, 1.7])

    def f(a):
        return np.linspace(a[0], a[1] ** 2, 5, endpoint=endpoint)

    div = 4 if endpoint else 5
    k = np.arange(5) / div
    want = np.stack([1 - k, k * 2 * x[1]], axis=1)
    value, _ = dd.jvp(f, x, np.ones(2))
    np.testing.assert_array_equal(value, np.linspace(0.3, 1.7**2, 5, endpoint=endpoint))
    np.testing.assert_allclose(dd.jacobian(f, x), want, rtol=1e-14)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), want, rtol=1e-14)
    np.testing.assert_allclose(dd.jacobian(f, x, sparsity="auto"), want, rtol=1e-14)
    second = dd.derivative(lambda t: f(x + t * np.array([0.0, 1.0])), 0.0, n=2)
    np.testing.assert_allclose(second, 2 * k, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.divmod(a, 1.0 + a[::-1] ** 2)[1],
        lambda a: divmod(a, 0.7)[1] * a[0],
        lambda a: np.modf(3.0 * a)[0] + np.modf(a)[1],
        lambda a: np.frexp(a)[0] * a[1],
    ],
    ids=["divmod", "builtin divmod", "modf", "frexp"],
)
def test_sparsity_of_ufuncs_with_two_outputs(f):
    # np.divmod, np.modf and np.frexp have rules in eager mode, Taylor mode and the compiler
    # (each output through rules of the table); the sparsity tracer refused "no dependency rule
    # for numpy.divmod", so jacobian(f, x, sparsity="auto") failed where jacobian(f, x) did not
    x = np.array([0.3, 1.7, -0.4, 2.2])
    dense = dd.numeric.jacobian(f, x)
    pattern = dd.jacobian_sparsity(f, x)
    assert not (np.abs(dense) > 1e-6)[~pattern].any()
    np.testing.assert_allclose(dd.jacobian(f, x, sparsity="auto"), dense, rtol=1e-7, atol=1e-9)
