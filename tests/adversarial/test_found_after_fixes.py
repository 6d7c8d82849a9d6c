"""Minimal reproductions of failures found by hunting on the code with classes 1-10 of issue 11
fixed, one test each.

Each says what was observed and what is expected; the references are closed forms, plain NumPy or
numeric differences, never dualdiff itself. Those that still fail are ``xfail(strict=True)`` with
the class and the cause (file:function) in the reason: remove the mark when the fix lands.

The class they share: a NumPy function that returns its argument itself (or writes into it) for
the arguments at hand -- ``np.diff(a, n=0)``, ``np.broadcast_arrays(a)`` of an array already of
the broadcast shape, ``np.nan_to_num(a, copy=False)`` -- gave a fresh array in some mode, so a
later in-place update through the result never reached ``a`` (class 1/3: freshness decided by
the function's name rather than by what NumPy did with these arguments).
"""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd

X = np.array([0.3, -0.7, 1.1])
V = np.array([1.0, 0.2, -0.5])


def _write_through(returns_argument):
    """y = sin(x); r = returns_argument(y); r += x[0]**2; return cos(y) + x. In NumPy ``r`` is
    ``y`` itself, so y_i = sin(x_i) + x_0**2."""

    def f(x):
        y = np.sin(x)
        r = returns_argument(y)
        r += x[0] ** 2
        return np.cos(y) + x

    return f


def _expected_second_derivative(x, v):
    # g(t) = cos(sin(x + t v) + (x0 + t v0)**2) + x + t v, so with u = sin(x) + x0**2:
    # u' = cos(x) v + 2 x0 v0, u'' = -sin(x) v**2 + 2 v0**2, g'' = -cos(u) u'**2 - sin(u) u''
    u = np.sin(x) + x[0] ** 2
    du = np.cos(x) * v + 2 * x[0] * v[0]
    ddu = -np.sin(x) * v**2 + 2 * v[0] ** 2
    return -np.cos(u) * du**2 - np.sin(u) * ddu


def _expected_jacobian(x):
    # d/dx_j cos(u_i) + delta_ij with u_i = sin(x_i) + x_0**2
    u = np.sin(x) + x[0] ** 2
    du = np.diag(np.cos(x))
    du[:, 0] += 2 * x[0]
    return -np.sin(u)[:, None] * du + np.eye(x.size)


def test_reference_is_numpy():
    # the closed forms above are what plain NumPy computes (checked by differences)
    f = _write_through(lambda a: np.diff(a, n=0))
    h = 1e-6
    columns = [(f(X + h * e) - f(X - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(np.stack(columns, axis=-1), _expected_jacobian(X), atol=1e-8)
    line = lambda t: f(X + t * V)  # noqa: E731
    h = 1e-3
    second = (line(h) - 2 * line(0.0) + line(-h)) / h**2
    np.testing.assert_allclose(second, _expected_second_derivative(X, V), atol=1e-5)


def test_taylor_diff_n0_is_the_argument_itself():
    # observed: derivative(n=2) [-0.787, -0.003, 0.141]: Taylor's np.diff(a, n=0) built a new
    # series from a's coefficients, so `r += x[0]**2` updated the copy and y was unchanged;
    # expected: the closed form [-2.882, 0.584, -1.555] (NumPy returns a itself)
    f = _write_through(lambda a: np.diff(a, n=0))
    d2 = dd.derivative(lambda t: f(X + t * V), 0.0, n=2)
    np.testing.assert_allclose(d2, _expected_second_derivative(X, V), rtol=1e-12)


def test_taylor_broadcast_arrays_returns_the_argument_of_the_broadcast_shape():
    # observed: as above (np.broadcast_arrays of Taylor series copied every argument); expected:
    # NumPy returns each argument already of the broadcast shape itself
    for first in (lambda a: np.broadcast_arrays(a)[0], lambda a: np.broadcast_arrays(a, a[:1])[0]):
        f = _write_through(first)
        d2 = dd.derivative(lambda t: f(X + t * V), 0.0, n=2)
        np.testing.assert_allclose(d2, _expected_second_derivative(X, V), rtol=1e-12)


def test_sparsity_nan_to_num_without_copy_writes_into_its_argument():
    # observed: the pattern is the diagonal: np.nan_to_num(y, copy=False) returned a new tracer
    # (sharing y's values but not its dependencies), so `r += x[0]**2` never reached y;
    # expected: every row depends on x[0] as well (NumPy replaces in y and returns y)
    f = _write_through(lambda a: np.nan_to_num(a, copy=False))
    pattern = dd.jacobian_sparsity(f, X)
    np.testing.assert_array_equal(pattern, _expected_jacobian(X) != 0)
    np.testing.assert_array_equal(pattern[:, 0], [True, True, True])


@pytest.mark.parametrize("mode", ["jacobian", "jvp"])
def test_dual_broadcast_arrays_returns_the_argument_of_the_broadcast_shape(mode):
    # observed: jacobian diag(0.722, 1.459, 0.647) (the write through the result is lost, the
    # value is cos(sin(x)) + x); expected: the closed form (NumPy returns the argument itself)
    f = _write_through(lambda a: np.broadcast_arrays(a)[0])
    if mode == "jacobian":
        np.testing.assert_allclose(dd.jacobian(f, X), _expected_jacobian(X), rtol=1e-12)
    else:
        np.testing.assert_allclose(dd.jvp(f, X, V)[1], _expected_jacobian(X) @ V, rtol=1e-12)


@pytest.mark.parametrize("mode", ["jacobian", "jvp"])
def test_dual_nan_to_num_without_copy_writes_into_its_argument(mode):
    # observed: jacobian diag(0.722, 1.459, 0.647) and a value without the write; expected: the
    # closed form (NumPy replaces in y and returns y itself)
    f = _write_through(lambda a: np.nan_to_num(a, copy=False))
    if mode == "jacobian":
        np.testing.assert_allclose(dd.jacobian(f, X), _expected_jacobian(X), rtol=1e-12)
    else:
        np.testing.assert_allclose(dd.jvp(f, X, V)[1], _expected_jacobian(X) @ V, rtol=1e-12)


# --- the user's np.errstate(all="raise") around a program NumPy runs clean -------------------
#
# np.std of one element (or of equal ones) is 0 and NumPy evaluates it without a floating-point
# error; dualdiff's own arithmetic for the zero-tangent convention (sqrt'(0) = inf, masked where
# the tangent is exactly zero) must not trip the user's error state (found by the errstate
# property on a 0-d x).


def test_taylor_sqrt_of_a_constant_zero_under_errstate_raise():
    # observed: FloatingPointError: invalid value encountered in scalar divide (taylor.py:
    # _sqrt_series divides 0 by 2 sqrt(0) before _keep_constant restores the constant);
    # expected: 0.0, as without errstate (std of one element is 0 whatever x is)
    with np.errstate(all="raise"):
        assert dd.derivative(lambda t: np.std(np.array(0.4) + t), 0.0, n=2) == 0.0
        assert dd.derivative(lambda t: np.sqrt(t - t) + t, 0.3, n=3) == 0.0
    # what NumPy itself raises for the value still raises
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        dd.derivative(np.sqrt, -1.0, n=2)


@pytest.mark.parametrize("keepdims", [False, True])
def test_jacobian_std_of_one_element_under_errstate_raise(keepdims):
    # observed: FloatingPointError: divide by zero encountered in (scalar) divide (the sqrt
    # partial, from functions.py:std: through dual.py/rules.py:_term for a scalar result, through
    # array.py:apply_unary with keepdims); expected: zeros, as without errstate
    with np.errstate(all="raise"):
        got = dd.jacobian(lambda x: np.std(x[:1], keepdims=keepdims), np.array([0.4, 0.2]))
    np.testing.assert_array_equal(got, np.zeros((1,) * keepdims + (2,)))


@pytest.mark.parametrize("mode", ["jacobian", "hessian"])
def test_sqrt_of_x_minus_x_under_errstate_raise(mode):
    # observed: FloatingPointError (divide by zero); expected: the identity and zeros, as without
    # errstate (NumPy evaluates np.sqrt(0.0) without an error)
    with np.errstate(all="raise"):
        if mode == "jacobian":
            got = dd.jacobian(lambda x: np.sqrt(x - x) + x, np.ones(2))
            np.testing.assert_array_equal(got, np.eye(2))
        else:
            np.testing.assert_array_equal(dd.hessian(np.std, np.array(0.4)), 0.0)


# --- sparsity: a write into the real or imaginary part of complex memory ---------------------
#
# y.real and y.imag are views in NumPy; the tracer keeps one dependency set per element, shared
# by both parts, and a write into one part replaced the set: the other part's dependencies were
# dropped, and a prepared SparseJacobian returned zeros or mixed columns without a word.


def _complex_part_write(write):
    def f(x):
        y = x * (1 + 0.5j) + x[::-1] * 0.25j
        write(y, x)
        return y

    return f


def _complex_part_expected(write):
    # the Jacobian of f by differences along each x_j (f is linear in x up to the constants)
    f = _complex_part_write(write)
    h = 1e-6
    return np.stack([(f(X + h * e) - f(X - h * e)) / (2 * h) for e in np.eye(3)], axis=-1)


@pytest.mark.parametrize(
    "write",
    [
        lambda y, x: y.real.__setitem__(slice(None), 0.0),
        lambda y, x: np.real(y).__setitem__(slice(1, None), 2.0),
        lambda y, x: y.imag.__setitem__(Ellipsis, x[0]),
        lambda y, x: y.real.__setitem__([0, 1], 0.0),
        lambda y, x: y.imag.__setitem__(np.array([True, False, True]), 0.0),
        lambda y, x: y.real.fill(2.0),
        lambda y, x: np.copyto(y.imag, 0.0),
        lambda y, x: np.copyto(y.real, x[0], where=[False, True, True]),
        lambda y, x: np.multiply(x, 0.0, out=y.real),
        lambda y, x: np.put(y.real, [0, 2], 1.0),
        lambda y, x: y.real.reshape(3, 1).__setitem__(Ellipsis, 0.0),
    ],
)
def test_sparsity_write_into_one_part_of_complex_memory(write):
    # observed (y.real[:] = 0.0): the pattern is all False and SparseJacobian(f, x)(x) is zero,
    # where the Jacobian is 0.5j on the diagonal (and 0.25j on the anti-diagonal); expected: the
    # pattern covers the Jacobian's non-zeros and SparseJacobian equals it
    f = _complex_part_write(write)
    expected = _complex_part_expected(write)
    pattern = dd.jacobian_sparsity(f, X)
    assert not ((np.abs(expected) > 1e-9) & ~pattern).any()
    np.testing.assert_allclose(dd.SparseJacobian(f, X)(X), expected, atol=1e-8)


@pytest.mark.parametrize("mode", ["jvp", "jit_jvp", "taylor", "sparsity"])
def test_real_and_imag_setters(mode):
    # (it raised AttributeError: property 'real' ... has no setter, in every carrier)
    def f(x):
        y = x * (1 + 0.5j)
        y.imag = x[0] * y.real  # NumPy: writes the imaginary parts of y in place
        return y

    # expected: d/dx of x + 1j * x0 * x along v
    v = np.array([1.0, 0.0, 0.0])
    expected = v + 1j * (v[0] * X + X[0] * v)
    if mode == "jvp":
        _, tangent = dd.jvp(f, X, v)
        np.testing.assert_allclose(tangent, expected)
    elif mode == "jit_jvp":
        np.testing.assert_allclose(dd.jit_jvp(f)(X, v)[1], expected)
    elif mode == "taylor":
        np.testing.assert_allclose(dd.taylor(lambda t: f(X + t * v), 0.0, 1)[:, 1], expected)
    else:
        assert dd.jacobian_sparsity(f, X)[:, 0].all()


@pytest.mark.parametrize("mode", ["jvp", "jit_jvp", "taylor", "sparsity"])
def test_imag_setter_of_a_real_array_refuses_as_numpy_does(mode):
    def f(x):
        y = x * 1.0
        y.imag = x
        return y

    call = {
        "jvp": lambda: dd.jvp(f, X, X),
        "jit_jvp": lambda: dd.jit_jvp(f)(X, X),
        "taylor": lambda: dd.taylor(lambda t: f(X + t), 0.0, 1),
        "sparsity": lambda: dd.jacobian_sparsity(f, X),
    }[mode]
    with pytest.raises(TypeError, match="array does not have imaginary part to set"):
        call()


# --- a real tangent under a complex value: an in-place update drops the imaginary part -------
#
# NEW CLASS (silently wrong, only a ComplexWarning): the tangent of a complex value is stored as
# a real array wherever the operation that made the value did not make the tangent complex
# (y = x + 1j for a real x: dy = dx; C @ x for a complex x and a real C under jacobian's real
# identity seed; a real direction v under jvp). An in-place update then writes the complex
# tangent into the real tangent array, and NumPy's cast keeps the real part.


def _complex_update(x):
    y = x + 1j  # complex value, real tangent
    y += y * y
    return y


_XR = np.array([0.3, -0.5, 0.7])
# d/dx_i of y_i + y_i**2 with y = x + 1j: 1 + 2 (x_i + 1j)
_DIAG = 1 + 2 * (_XR + 1j)


@pytest.mark.parametrize("mode", ["jacobian", "jvp", "derivative", "SparseJacobian"])
def test_inplace_update_of_a_complex_value_with_a_real_tangent(mode):
    # observed: diag [1.6, 0.0, 2.4] in every mode (the imaginary parts 2j lost; a ComplexWarning
    # from array.py is the only sign); expected: 1 + 2 (x + 1j) = [1.6+2j, 2j, 2.4+2j]
    if mode == "jacobian":
        got = np.diag(dd.jacobian(_complex_update, _XR))
    elif mode == "jvp":
        got = dd.jvp(_complex_update, _XR, np.ones(3))[1]
    elif mode == "derivative":
        got = dd.derivative(lambda t: _complex_update(_XR + t), 0.0)
    else:
        got = np.diag(dd.SparseJacobian(_complex_update, _XR)(_XR))
    np.testing.assert_allclose(got, _DIAG, rtol=1e-12)


def test_inplace_update_of_a_complex_value_taylor_order_two():
    # Taylor mode keeps complex coefficients: d2/dt2 of y + y**2 along (1, 1, 1) is 2
    d2 = dd.derivative(lambda t: _complex_update(_XR + t), 0.0, n=2)
    np.testing.assert_allclose(d2, [2.0, 2.0, 2.0], rtol=1e-12)


def test_complex_input_matmul_then_inplace_update_under_jacobian():
    c = np.array([[0.27, -0.46, -0.92], [-0.97, 0.63, 0.83]])
    x = np.array([0.3 + 0.2j, -0.5 + 0.1j, 0.7 - 0.4j])

    def f(a0):
        a1 = c @ a0
        a1 += a1 @ a1
        return a1

    # expected: d/dx_j (C x + (C x).(C x)) = C + 2 (C x) (C_j) summed: C + 2 outer(1, (C x) @ C)
    cx = c @ x
    expected = c + 2 * np.outer(np.ones(2), cx @ c)
    # observed: off by up to 1.5 (SparseJacobian, which colours the columns, happens to be right)
    np.testing.assert_allclose(dd.jacobian(f, x), expected, rtol=1e-12)


# --- class 9 in the compiler: ndarray methods of a traced constant (a mask) ------------------


@pytest.mark.parametrize(
    "f",
    [
        lambda x: (x > 0).astype(float) * x,
        lambda x: (x > 0).sum() * x,
        lambda x: (x > 0).copy() * x,
        lambda x: (x[:, None] > 0).T.astype(np.float64)[0] * x,
        lambda x: (x > 0).cumsum() * x,
    ],
)
def test_jit_methods_of_a_traced_mask(f):
    # observed: AttributeError: 'Sym' object has no attribute 'astype' (and sum, copy, cumsum:
    # the compiler's value-only symbol had none of ndarray's methods); expected: the compiled
    # Jacobian, replayed at a point where the mask differs, equals the closed form
    # d/dx_i (m_i(x) x_i) = m_i for a piecewise-constant m
    compiled = dd.jit_jacobian(f)
    for x in (np.array([1.3, -0.7, 2.2]), np.array([-0.8, 0.7, -2.2])):
        m = f(x) / x  # the constant factor of each x_i at this point (plain NumPy)
        np.testing.assert_allclose(compiled(x), np.diag(m), rtol=1e-15)


def test_jit_refuses_writes_into_a_traced_mask():
    def f(x):
        m = x > 0
        m[0] = True  # in place: the compiler refuses (a TypeError naming the fix)
        return m * x

    with pytest.raises(TypeError, match="in place"):
        dd.jit_jacobian(f)(np.array([1.0, -1.0]))


def test_complex_input_matmul_then_ufunc_out_under_jacobian():
    c = np.array([[0.27, -0.46, -0.92], [-0.97, 0.63, 0.83]])
    x = np.array([0.411 + 0.2j, -0.691 + 0.0j, -1.377 - 0.3j])

    def f(a0):
        a1 = c @ a0
        np.sin(a1, out=a1)
        return a1

    # observed: the real parts of the expected entries only (SparseJacobian is right);
    # expected: d sin(C x) / dx = cos(C x)[:, None] * C
    np.testing.assert_allclose(dd.jacobian(f, x), np.cos(c @ x)[:, None] * c, rtol=1e-12)
