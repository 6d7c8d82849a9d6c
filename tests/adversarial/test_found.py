"""Minimal reproductions of the failures the adversarial properties found, one test each.

Each names the class of issue 11 it is an instance of (or "new"), what is observed and what is
expected. Those that fail on the current code are ``xfail(strict=True)``: remove the mark when the
fix lands (a strict xfail that starts passing fails the suite, so it cannot be forgotten). The
references are closed forms or plain NumPy, never dualdiff itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd

X = np.array([0.4, -0.6, -1.3])
V = np.array([0.2, 0.5, 0.1])


# --- class 9: ndarray methods missing ---------------------------------------------------------


def test_methods_of_a_numpy_scalar_input_under_jvp():
    # observed: AttributeError: 'Dual' object has no attribute 'flatten' (also .reshape, .T,
    # .astype: a NumPy scalar has every ndarray method, a Dual has none of them; a 0-d array x
    # works) expected: what np.float64(0.4).flatten() gives, value [0.4] and tangent [1.0]
    value, tangent = dd.jvp(lambda x: x.flatten(), np.float64(0.4), np.float64(1.0))
    np.testing.assert_array_equal(value, [0.4])
    np.testing.assert_array_equal(tangent, [1.0])


def test_methods_of_a_numpy_scalar_result_under_derivative():
    # observed: AttributeError: 'Dual' object has no attribute 'reshape' (np.sin of a NumPy
    # scalar is a NumPy scalar, which has every ndarray method; dualdiff gives a Dual; n=2 and
    # jacobian work) expected: [cos(0.4)]
    d = dd.derivative(lambda x: np.sin(x).reshape(1), np.float64(0.4))
    np.testing.assert_allclose(d, [np.cos(0.4)], rtol=1e-15)


@pytest.mark.parametrize("index", [(), (Ellipsis, None)])
def test_indexing_a_scalar_result(index):
    # np.sum(x) is a NumPy scalar, which takes [()] and [..., None] like a 0-d array. A Dual
    # does not, on purpose (a declared difference): NumPy takes any subscriptable object for a
    # sequence, and then turns the TypeError of ``out[i] = d`` on a float array (which names the
    # write and its fix) into "setting an array element with a sequence". np.asarray-free
    # spellings work: np.reshape(np.sum(x), ()) or np.expand_dims(np.sum(x), -1).
    with pytest.raises(TypeError, match="not subscriptable"):
        dd.jacobian(lambda x: np.sum(x)[index], X)
    shaped = np.reshape if index == () else (lambda s, _: np.expand_dims(s, -1))
    jac = dd.jacobian(lambda x: shaped(np.sum(x), ()), X)
    np.testing.assert_array_equal(jac, np.ones((1, 3)) if index else np.ones(3))


def test_sort_method_on_a_copy():
    def f(x):
        c = x.copy()
        c.sort()
        return c

    # observed: AttributeError: 'DualArray' object has no attribute 'sort'
    # expected: the permutation matrix of np.sort
    order = np.argsort(X)
    np.testing.assert_array_equal(dd.jacobian(f, X), np.eye(3)[order])


# --- class 3: results alias what the user passed ----------------------------------------------


@pytest.mark.parametrize(
    "f", [lambda x: x[:], lambda x: x.T, lambda x: x[::-1], lambda x: x.reshape(3, 1)]
)
def test_jvp_of_a_view_does_not_alias_the_inputs(f):
    x, v = X.copy(), V.copy()
    value, tangent = dd.jvp(f, x, v)
    # observed: value shares memory with x and tangent with v (writing into the result writes
    # into the caller's arrays); expected: fresh arrays, as every other mode returns
    assert not np.shares_memory(value, x)
    assert not np.shares_memory(tangent, v)


# --- class 1: in-place updates through another name, Taylor mode ------------------------------


def test_taylor_in_place_update_seen_through_another_name():
    def f(x):
        y = x * 1.0
        z = y  # the same array
        z += 0.5  # so y is updated too
        return np.sin(y)

    # observed: -sin(x) v**2 (the update is lost: Taylor's __iadd__ returns a new object)
    # expected: -sin(x + 0.5) v**2; jvp and jacobian get the first order right
    d2 = dd.derivative(lambda t: f(X + t * V), 0.0, n=2)
    np.testing.assert_allclose(d2, -np.sin(X + 0.5) * V**2, rtol=1e-12)


def test_hessian_of_an_augmented_assignment_through_a_slice():
    def f(x):
        y = x * 1.0
        y[:] += np.sin(x)  # Python: t = y[:]; t += sin(x); y[:] = t
        return np.sum(y)

    # observed: TypeError: cannot store a dual of a newer tag (from a nested differentiation)
    # into a view of another array (the message suggests assigning into the original array,
    # which is what the program does); expected: diag(-sin(x)), as jacobian(gradient) gives for
    # y += np.sin(x)
    np.testing.assert_allclose(dd.hessian(f, X), np.diag(-np.sin(X)), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "read",
    [
        lambda a: a[0],
        lambda a: a.ravel()[np.argmax(a)],
        lambda a: a.item(0),
        lambda a: next(iter(a)),
        lambda a: a.tolist()[0],
        lambda a: np.take(a, 0),
        lambda a: a.flat[0],
    ],
)
def test_scalar_read_from_an_array_updated_later(read):
    def f(x):
        a = x * 1.0
        s = read(a)  # a NumPy scalar: a copy of the element
        a *= 0.5  # does not change s
        return s

    x = np.array([0.4, -0.6, -1.3])
    # observed: [0.5, 0, 0] with any chunk (the batched tangent of s is a view of a's tangent,
    # and `a *= 0.5` scales it in place); expected [1, 0, 0]; jvp is right (its tangent is a
    # scalar); cause: DualArray.__getitem__ (array.py) indexes the tangent without copying where
    # the value's indexing copies
    np.testing.assert_array_equal(dd.jacobian(f, x), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(dd.jacobian(f, x, chunk=1), [1.0, 0.0, 0.0])


@pytest.mark.parametrize("x", [0.4, np.array([0.4, 0.5])])
def test_hessian_of_an_assignment_into_a_tiled_array(x):
    def f(x):
        a = np.tile(x, 2)  # a new array (its .base is a private temporary of np.tile)
        a[0] = np.sin(a[0])
        return np.sum(a)

    # observed: TypeError: cannot store a dual of a newer tag (from a nested differentiation)
    # into a view of another array (jacobian and derivative(n=2) accept it; probable cause:
    # array.py _check_not_view treats every array with a .base as a user-visible view)
    # expected: d2/dx0^2 sin(x0) = -sin(x0) in the first diagonal entry, 0 elsewhere
    hess = np.atleast_2d(dd.hessian(f, x))
    expected = np.zeros_like(hess)
    expected[0, 0] = -np.sin(np.ravel(x)[0])
    np.testing.assert_allclose(hess, expected, rtol=1e-14, atol=1e-15)


def test_sparsity_of_a_write_into_a_reshaped_copy():
    def f(x):
        a = x.T * 1.0  # NumPy keeps x.T's Fortran layout
        b = a.reshape(6)  # so this is a copy, not a view
        b[0] = 0.5  # a is unchanged
        return a

    x = np.array([[0.4, -0.6, -1.3], [0.9, 0.2, -0.1]])
    assert not np.shares_memory(x.T * 1.0, (x.T * 1.0).reshape(6))
    # observed: the pattern (and SparseJacobian(f, x)(x)) misses d a[0, 0] / d x[0, 0] = 1: the
    # tracer (sparsity.py) makes reshape a view whatever the layout; expected: the transpose
    # permutation, as jacobian gives
    expected = np.eye(6)[[0, 3, 1, 4, 2, 5]]
    np.testing.assert_array_equal(dd.jacobian(f, x).reshape(6, 6), expected)
    assert np.all(dd.jacobian_sparsity(f, x)[expected != 0])
    np.testing.assert_array_equal(dd.SparseJacobian(f, x)(x).reshape(6, 6), expected)


@pytest.mark.parametrize("x", [np.array(0.411), np.array(0.411 + 0j)])
def test_write_through_a_view_of_a_zero_d_result(x):
    def f(x):
        s = np.where(x < 0.0, 0.5, x)  # a 0-d array in NumPy (np.sin(x) would be a scalar)
        e = np.expand_dims(s, 0)  # a view of s
        e += e  # doubles s
        return s

    assert f(x.copy()) == 2 * x
    # observed: jvp tangent 1 and derivative 1 (np.where returns an immutable Dual, so the write
    # through the view is lost); expected 2, as jacobian gives
    assert dd.jacobian(f, x) == 2.0
    assert dd.jvp(f, x, np.ones_like(x))[1] == 2.0
    assert dd.derivative(f, x) == 2.0


# --- class 5: a zero tangent stays zero on every path -----------------------------------------


def test_std_of_one_element_jvp():
    # np.std(x[:1]) is identically 0. observed: jvp tangent nan; expected 0.0 (the Jacobian
    # path gives 0: the convention that an exactly zero tangent stays zero)
    _, tangent = dd.jvp(lambda x: np.std(x[:1]), X, V)
    assert tangent == 0.0
    np.testing.assert_array_equal(dd.jacobian(lambda x: np.std(x[:1]), X), [0.0, 0.0, 0.0])


def test_std_of_one_element_taylor():
    # observed: nan (sqrt of a Taylor series whose coefficients are all zero); expected 0.0
    assert dd.derivative(lambda t: np.std(X[:1] + t * V[:1]), 0.0, n=2) == 0.0


# --- class 6: shapes at every order ---------------------------------------------------------------


@pytest.mark.parametrize(
    "f, expected",
    [
        (lambda t: np.sin(t) + t * V, np.zeros(3)),
        (lambda t: np.sum(t * V) ** 2 + t * V, np.full(3, 2 * np.sum(V) ** 2)),
    ],
)
def test_second_derivative_keeps_the_array_shape(f, expected):
    # f(t) has shape (3,). observed: a scalar (-0.0 and 1.28): the array term's order-2
    # coefficient is zero and the sum takes the scalar term's shape; expected shape (3,)
    d2 = dd.derivative(f, 0.0, n=2)
    assert np.shape(d2) == np.shape(f(0.0)) == (3,)
    np.testing.assert_allclose(d2, expected, rtol=1e-14)


@pytest.mark.parametrize("n", [1, 2])
def test_elementwise_derivative_of_a_constant_has_xs_shape(n):
    # observed: 0.0 (a scalar); expected zeros of shape f(x) broadcast with x = (3,), as the
    # README promises for elementwise derivatives at every order
    d = dd.derivative(lambda x: 3.0, X, n=n)
    assert np.shape(d) == (3,)


# --- class 4: indices computed from values ------------------------------------------------------


def test_sparsity_of_a_gather_through_argmax():
    f = lambda x: x[np.argmax(x)]  # noqa: E731
    pattern = dd.jacobian_sparsity(f, X)
    # observed: only the column of the argmax at X ([[T, F, F]]); at another point the non-zero
    # moves (jacobian at [0, 0, 1] is [0, 0, 1]) and the pattern misses it
    assert pattern[0, 2]


# --- new: float32 tangents promoted to float64 -------------------------------------------------


X32 = X.astype(np.float32)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.clip(x, -0.5, 0.7),
        lambda x: x * 2.0,
        lambda x: np.maximum(x, 0.0),
    ],
)
def test_float32_jacobian_keeps_numpys_dtype(f):
    # NumPy (NEP 50): a Python float is weak, f(x32) is float32. observed: the Jacobian is float64
    # (tangents meet the constant as float64 arrays); expected: float32, as f(x32) and as
    # jacobian(np.sin, x32) already are
    assert f(X32).dtype == np.float32
    assert dd.jacobian(f, X32).dtype == np.float32


def test_float32_elementwise_derivative_dtype():
    # observed: float64 (the seed is np.ones(shape), float64); expected: float32 like np.sin(x32)
    assert dd.derivative(np.sin, X32).dtype == np.float32


def test_float32_where_with_a_python_float_keeps_the_value_dtype():
    f = lambda x: np.where(x < 0.0, 0.5, x)  # noqa: E731
    # observed: the value is float64 (and so is the tangent); expected float32 as f(X32) is
    value, tangent = dd.jvp(f, X32, V.astype(np.float32))
    assert value.dtype == f(X32).dtype == np.float32
    assert tangent.dtype == np.float32


# --- new: partials evaluated in the precision of a float32 scalar constant -----------------------

C32 = np.float32(0.1)
C = np.float64(C32)  # the value NumPy computes with: float32(0.1) promoted to float64
XP = np.array([0.4, 0.6, 1.3])


@pytest.mark.parametrize(
    "f, expected",
    [
        # x / c: observed 10.0 (1.0 / float32(0.1) rounded to float32), expected 9.99999985...
        (lambda x: x / C32, lambda x: np.full_like(x, 1.0 / C)),
        # x ** c: observed off by 2e-9 relative (y - 1 computed in float32)
        (lambda x: x**C32, lambda x: C * x ** (C - 1.0)),
        # c ** x: observed off by 2e-8 relative (log(c) in float32)
        (lambda x: C32**x, lambda x: C**x * np.log(C)),
        # arctan2(x, c): observed off by 2e-9 relative
        (lambda x: np.arctan2(x, C32), lambda x: C / (x * x + C * C)),
    ],
)
def test_float32_constant_in_a_float64_program(f, expected):
    # f(XP) is float64 (a NumPy float32 scalar is not weak): the derivative is that of the
    # float64 program, so it must be exact to float64 accuracy, as jvp already is for x / c
    assert f(XP).dtype == np.float64
    np.testing.assert_allclose(np.diag(dd.jacobian(f, XP)), expected(XP), rtol=1e-14)


def test_float32_constant_scalar_derivative():
    # a NumPy float64 x: the program is float64; observed float32 10.0 (the seed's tangent was
    # the weak Python 1.0, and 1.0 / C32 is float32), expected 1 / float64(float32(0.1))
    x = np.float64(0.4)
    for f, want in [
        (lambda x: x / C32, 1.0 / C),
        (lambda x: x**C32, C * x ** (C - 1.0)),
        (lambda x: C32**x, C**x * np.log(C)),
        (lambda x: np.arctan2(x, C32), C / (x * x + C * C)),
    ]:
        d = dd.derivative(f, x)
        assert np.asarray(d).dtype == np.float64
        np.testing.assert_allclose(d, want, rtol=1e-14)
    # a Python float x is weak: NumPy's x / C32 is float32, and so is its derivative, correctly
    # rounded (float32(9.99999985...) is 10.0)
    assert type(0.4 / C32) is np.float32
    d = dd.derivative(lambda x: x / C32, 0.4)
    assert np.asarray(d).dtype == np.float32 and d == np.float32(1.0 / C)


# --- class 1: out= into a view ------------------------------------------------------------------


def test_ufunc_out_into_a_view_of_its_input():
    def f(x):
        a = x + 0.5
        np.sin(a, out=a[:])  # a is now sin(x + 0.5)
        return a

    # observed: the identity (the tangent of the view is written, not a's); expected
    # diag(cos(x + 0.5)); jvp is right
    np.testing.assert_allclose(dd.jacobian(f, X), np.diag(np.cos(X + 0.5)), rtol=1e-14)
    np.testing.assert_allclose(dd.jvp(f, X, V)[1], np.cos(X + 0.5) * V, rtol=1e-14)


def test_taylor_astype():
    # observed: AttributeError: 'Taylor' object has no attribute 'astype'; expected -sin(x) v**2
    d2 = dd.derivative(lambda t: np.sin((X + t * V).astype(np.float64)), 0.0, n=2)
    np.testing.assert_allclose(d2, -np.sin(X) * V**2, rtol=1e-13)


def test_sparsity_of_a_boolean_mask_from_values():
    f = lambda x: x[x > -0.5]  # noqa: E731
    x0, x1 = np.array([0.035, 1.351, -1.068]), np.array([1.346, -0.565, -0.23])
    pattern = dd.jacobian_sparsity(f, x0)  # rows: x[0], x[1]
    # at x1 the same output size selects x[0] and x[2]: observed pattern [[T,F,F],[F,T,F]]
    # misses J[1, 2] = 1 (the pattern must hold at every point, or the tracer must say it does not)
    jac = dd.jacobian(f, x1)
    assert not np.any((jac != 0) & ~pattern)


# --- new: a reduction's dtype= is checked, then ignored -----------------------------------------


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.sum(x, dtype=np.float32),
        lambda x: x.sum(dtype=np.float32),
        lambda x: np.mean(x, dtype=np.float32),
        lambda x: np.cumsum(x, dtype=np.float32),
    ],
)
def test_reduction_dtype_is_honoured(f):
    # observed: value and tangent float64 (functions.py: _dtype_check accepts a float dtype, then
    # the reduction runs in a's dtype), so the value differs from NumPy's float32 accumulation;
    # expected: NumPy's value and dtype (ufuncs refuse dtype= with a TypeError instead)
    value, tangent = dd.jvp(f, X, np.ones(3))
    assert np.asarray(value).dtype == f(X).dtype == np.float32
    np.testing.assert_array_equal(value, f(X))


# --- class 9: more of ndarray's API -------------------------------------------------------------


@pytest.mark.parametrize("how", ["view", "shape"])
def test_view_method_and_shape_setter(how):
    def f(x):
        y = x * 1.0
        if how == "view":
            z = y.view()
            z[0] = 5.0 * x[1]  # writes into y
        else:
            y.shape = (3, 1)
        return y

    # observed: AttributeError ('DualArray' object has no attribute 'view' / property 'shape'
    # has no setter), on every tracer too (SymbolicDual, SparsityTracer); expected: NumPy's
    # semantics
    jac = dd.jacobian(f, X)
    expected = np.eye(3) if how == "shape" else np.array([[0, 5.0, 0], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(jac.reshape(3, 3), expected)


def test_scalar_read_from_an_array_updated_later_nested():
    def f(x):
        a = x * 1.0
        s = a[0]  # a copy of the element, its tangent (of both layers) too
        a *= 0.5
        return s**2

    # d2/dx0^2 x0^2 = 2 (observed 0.5 and 1 before: the inner layer's tangent aliased a's)
    expected = np.zeros((3, 3))
    expected[0, 0] = 2.0
    np.testing.assert_array_equal(dd.hessian(f, X), expected)
