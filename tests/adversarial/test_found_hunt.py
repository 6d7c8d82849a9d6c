"""Minimal reproductions of what the hunt of issue 11's last round found (in-place updates,
keywords, ties, dtypes, Python-level constructs), one test each.

Each says what was observed and what is expected; the references are closed forms, plain NumPy
or numeric differences, never dualdiff itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import dualdiff as dd
from dualdiff.core.errors import ValueDependentPatternWarning

XC = np.array([0.3 + 0.2j, -0.7 + 0.1j, 1.1 - 0.5j])
VC = np.array([1.0 + 0.5j, 0.2, -1j])


def _line_derivative(f, x, v, h=1e-6):
    """d/dt f(x + t v) at t = 0 (real t) by central differences of plain NumPy."""
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


def _written(write):
    def f(x):
        y = x * 1.0
        write(y, x)
        return y

    return f


# writes into one part of complex memory; the compiler numbered whole elements, so a write
# through .real replaced the imaginary part too (a silently wrong value and tangent), and one
# through .imag refused at replay with "a traced view became a copy"
PART_WRITES = {
    "y.real[:] = x.imag**2": lambda y, x: y.real.__setitem__(slice(None), x.imag**2),
    "y.real[1:] = 0": lambda y, x: y.real.__setitem__(slice(1, None), 0.0),
    "r = y.real; r *= 2": lambda y, x: y.real.__imul__(2.0),
    "y.imag += x.real": lambda y, x: y.imag.__iadd__(x.real),
    "y.real[[0, 0, 2]] = 3 x.imag": lambda y, x: y.real.__setitem__([0, 0, 2], 3 * x.imag),
    "y.real[argmax(x.real)] = 0": lambda y, x: y.real.__setitem__(np.argmax(x.real), 0.0),
    "np.sin(x.real, out=y.imag)": lambda y, x: np.sin(x.real, out=y.imag),
    "np.copyto(y.imag, x.real)": lambda y, x: np.copyto(y.imag, x.real),
    "y[1:].real += y[:-1].imag": lambda y, x: y[1:].real.__iadd__(y[:-1].imag),
    "np.put(y.real, [0, 2], x.imag[:2])": lambda y, x: np.put(y.real, [0, 2], x.imag[:2]),
    "np.add.at(y.real, [0, 0, 2], x.imag)": lambda y, x: np.add.at(y.real, [0, 0, 2], x.imag),
    "np.subtract.at(y.imag, [1, 1], x.real[0])": (
        lambda y, x: np.subtract.at(y.imag, [1, 1], x.real[0])
    ),
}


@pytest.mark.parametrize("name", sorted(PART_WRITES))
def test_jit_write_into_one_part_of_complex_memory(name):
    f = _written(PART_WRITES[name])
    compiled = dd.jit_jvp(f)
    for x in (XC, XC[::-1] * 1.5):  # traced at the first point, replayed at the second
        value, tangent = compiled(x, VC)
        np.testing.assert_allclose(value, f(x.copy()), rtol=1e-13, err_msg=name)
        np.testing.assert_allclose(tangent, _line_derivative(f, x, VC), atol=1e-6, err_msg=name)


def test_jit_jacobian_write_into_one_part_of_complex_memory():
    f = _written(PART_WRITES["y.imag += x.real"])  # y_j = x_j + i re(x_j)
    jac = dd.jit_jacobian(f)(XC)
    # along a real direction e_j: d y_j = 1 + i
    np.testing.assert_allclose(jac, np.eye(3) * (1 + 1j), atol=1e-12)
    f = _written(PART_WRITES["y.real[:] = x.imag**2"])  # y_j = im(x_j)**2 + i im(x_j)
    np.testing.assert_allclose(dd.jit_jacobian(f)(XC), np.zeros((3, 3)), atol=1e-12)


@pytest.mark.parametrize("mode", ["jacobian", "jvp", "taylor"])
def test_put_a_shorter_plain_array_into_a_dual_array(mode):
    """np.put(a, [0, 1, 0], [0.55, 0.1]) repeats the values ([0.55, 0.1, 0.55]); with a plain
    array of values into a DualArray it raised AttributeError ('numpy.ndarray' object has no
    attribute 'value') from inside dualdiff."""

    def f(x):
        a = np.sin(x)
        np.put(a, [0, 1, 0], np.array([0.55, 0.1]))
        return a

    x = np.array([0.4, 0.2, 0.3])
    expected = np.diag([0.0, 0.0, np.cos(0.3)])
    if mode == "jacobian":
        np.testing.assert_allclose(dd.jacobian(f, x), expected, atol=1e-15)
    elif mode == "jvp":
        value, tangent = dd.jvp(f, x, np.ones(3))
        np.testing.assert_allclose(value, [0.55, 0.1, np.sin(0.3)])
        np.testing.assert_allclose(tangent, expected.sum(1), atol=1e-15)
    else:
        np.testing.assert_allclose(
            dd.derivative(lambda t: f(x + t), 0.0, n=2), [0.0, 0.0, -np.sin(0.3)], atol=1e-15
        )


def _multiply_at_itself(a):
    """np.multiply.at(a, [0, 0, 0, 1], a): NumPy reads the values as they were before the call,
    so a_0 -> a_0 * a_0 * a_1 * a_2 and a_1 -> a_1 * a_3."""
    a = a * 1.0
    np.multiply.at(a, [0, 0, 0, 1], a)
    return a


def test_ufunc_at_with_values_that_alias_the_target_eager():
    """The rounds of ufunc.at wrote into a, which the values (a view of a) then saw: a_0 came
    out as a_0**2 a_1 a_2 a_3 (420 rather than 60 here), in value and tangent."""
    x = np.array([2.0, 3.0, 5.0, 7.0])
    v = np.array([1.0, -0.5, 0.3, 0.2])
    value, tangent = dd.jvp(_multiply_at_itself, x, v)
    np.testing.assert_allclose(value, [60.0, 21.0, 5.0, 7.0])
    # d(a0^2 a1 a2) = 2 a0 a1 a2 v0 + a0^2 a2 v1 + a0^2 a1 v2; d(a1 a3) = a3 v1 + a1 v3
    np.testing.assert_allclose(tangent, [60.0 - 10.0 + 3.6, -3.5 + 0.6, 0.3, 0.2])
    jac = dd.jacobian(_multiply_at_itself, x)
    np.testing.assert_allclose(jac[0], [60.0, 20.0, 12.0, 0.0])
    np.testing.assert_allclose(jac[1], [0.0, 7.0, 0.0, 3.0])


def test_ufunc_at_with_values_that_alias_the_target_taylor():
    """The same in Taylor mode's own ufunc.at: the second derivative along v came out 133.44."""
    x = np.array([2.0, 3.0, 5.0, 7.0])
    v = np.array([1.0, -0.5, 0.3, 0.2])
    # along x + t v: a_0 = (2 + t)^2 (3 - t/2)(5 + 3t/10), a_1 = (3 - t/2)(7 + t/5)
    p0 = np.polynomial.Polynomial([2, 1]) ** 2 * np.polynomial.Polynomial([3, -0.5])
    p0 = p0 * np.polynomial.Polynomial([5, 0.3])
    p1 = np.polynomial.Polynomial([3, -0.5]) * np.polynomial.Polynomial([7, 0.2])
    got = dd.taylor(lambda t: _multiply_at_itself(x + t * v), 0.0, 3)
    np.testing.assert_allclose(got[0], p0.coef[:4], rtol=1e-13)
    np.testing.assert_allclose(got[1], np.r_[p1.coef, 0.0], rtol=1e-13, atol=1e-13)


TIES = np.array([0.5, 0.2, 0.5, 0.2, 0.5, 0.1, 0.5, 0.9, 0.2, 0.5, 0.5, 0.2, 0.9])


def _sort_modes(f, x):
    n = x.size
    basis = np.eye(n)
    return {
        "jacobian": dd.jacobian(f, x),
        "jvp": np.stack([dd.jvp(f, x, e)[1] for e in basis], -1),
        "jit_jacobian": dd.jit_jacobian(f)(x),
        "SparseJacobian": dd.SparseJacobian(f, x)(x),
        "taylor": np.stack([dd.taylor(lambda t: f(x + t * e), 0.0, 2)[..., 1] for e in basis], -1),
    }


@pytest.mark.parametrize("kind", [None, "quicksort", "stable"])
def test_sort_at_ties_takes_the_stable_order_in_every_mode(kind):
    """At ties np.sort's derivative takes the equal elements in their own order (the stable
    permutation: the composition's convention). Eager mode argsorted with NumPy's default kind,
    whose SIMD quicksort is not stable, so jacobian/jvp/SparseJacobian disagreed with the
    compiler and Taylor mode; np.sort(x, kind=...) raised NumPy's ValueError ("kind and keyword
    parameters can't be provided at the same time") in Taylor mode."""
    modes = _sort_modes(lambda x: np.sort(x, kind=kind), TIES)
    if kind != "quicksort":  # any permutation that sorts is NumPy's at kind="quicksort"
        expected = np.eye(TIES.size)[np.argsort(TIES, stable=True)]
        np.testing.assert_array_equal(modes["jacobian"], expected)
    for name, jac in modes.items():
        np.testing.assert_array_equal(jac, modes["jacobian"], err_msg=name)
        np.testing.assert_array_equal(jac @ TIES, np.sort(TIES), err_msg=name)


MASK = np.array([True, False, True, True, False, True])
X6 = np.array([0.3, -0.7, 1.1, 0.5, -0.2, 0.9])


@pytest.mark.parametrize(
    "f, expected",
    [
        # sum of x_i^2 over the kept entries: 2 x_i there, 0 elsewhere
        (lambda x: np.sum(x**2, where=MASK, initial=2.0), 2 * X6 * MASK),
        (lambda x: np.mean(x**2, where=MASK), 2 * X6 * MASK / 4),
        (lambda x: (x.reshape(2, 3) ** 2).mean(where=MASK.reshape(2, 3), axis=1), None),
        (lambda x: np.add.reduce(x**2, where=MASK), 2 * X6 * MASK),
    ],
)
def test_sum_and_mean_with_where_in_eager_mode(f, expected):
    """np.sum/np.mean(where=...) raised "does not support where=" in eager mode (jacobian, jvp,
    SparseJacobian, derivative) while the compiler, Taylor mode and the sparsity tracer took
    them."""
    if expected is None:  # per row: 2 x_i / (entries kept in the row) where kept
        kept = MASK.reshape(2, 3)
        expected = np.zeros((2, 6))
        for r in range(2):
            expected[r, 3 * r : 3 * r + 3] = 2 * X6[3 * r : 3 * r + 3] * kept[r] / kept[r].sum()
    np.testing.assert_allclose(dd.jacobian(f, X6), expected, atol=1e-15)
    value, tangent = dd.jvp(f, X6, np.ones(6))
    np.testing.assert_allclose(value, f(X6))
    np.testing.assert_allclose(tangent, np.sum(expected, axis=-1), atol=1e-15)
    np.testing.assert_allclose(dd.jit_jacobian(f)(X6), expected, atol=1e-15)
    np.testing.assert_allclose(dd.SparseJacobian(f, X6)(X6), expected, atol=1e-15)


def test_mean_where_keeps_float32():
    x = X6.astype(np.float32)
    value, tangent = dd.jvp(lambda x: np.mean(x, where=MASK), x, np.ones(6, np.float32))
    assert value.dtype == tangent.dtype == np.mean(x, where=MASK).dtype == np.float32
    np.testing.assert_allclose(tangent, 1.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own: a mean of nothing
@pytest.mark.parametrize("axis", [None, 1])
def test_mean_where_of_nothing_has_a_nan_tangent_in_every_mode(axis):
    """A row with nothing kept is NaN; eager mode gave its tangent 0 (the division rule keeps a
    zero tangent zero) where the compiler, Taylor mode and numeric differences give NaN."""
    x = X6.reshape(2, 3)
    mask = (
        np.array([[True, False, True], [False, False, False]]) if axis else np.zeros((2, 3), bool)
    )

    def f(a):
        return np.mean(a, axis=axis, where=mask)

    v = np.cos(np.arange(6.0)).reshape(2, 3)
    h = 1e-6
    numeric = (f(x + h * v) - f(x - h * v)) / (2 * h)
    eager, compiled = dd.jvp(f, x, v), dd.jit_jvp(f)(x, v)
    taylor = dd.taylor(lambda t: f(x + t * v), 0.0, 1)
    for value, tangent in (eager, compiled, (taylor[..., 0], taylor[..., 1])):
        np.testing.assert_array_equal(np.isnan(value), np.isnan(f(x)))
        np.testing.assert_allclose(tangent, numeric, rtol=1e-8)  # NaN where numeric is NaN
    assert type(eager[0]) is type(f(x))


@pytest.mark.parametrize("func", [np.var, np.std])
def test_jit_var_where_differentiates(func):
    """jit of np.var(x, where=mask) raised ValueError("The truth value of an array ... is
    ambiguous") from inside the compiler's check of its options; then every mode refused
    where=; now each takes it, as NumPy computes it."""
    f = lambda x: func(x, where=MASK, ddof=1)  # noqa: E731
    value, tangent = dd.jit_jvp(f)(X6, X6)
    np.testing.assert_allclose(value, f(X6), rtol=1e-14)
    np.testing.assert_allclose(tangent, _line_derivative(f, X6, X6), rtol=1e-7)
    np.testing.assert_allclose(dd.jvp(f, X6, X6)[1], tangent, rtol=1e-13)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.max(x[:0], initial=0.5) * x,
        lambda x: np.min(x.reshape(3, 1)[:, :0], axis=1, initial=0.5) * x,
        lambda x: np.maximum.reduce(x[:0], initial=0.5) * x,
        lambda x: np.amax(x.reshape(3, 1)[:0], axis=0, initial=0.5, keepdims=True) * x,
    ],
)
def test_max_and_min_of_nothing_but_initial(f):
    """np.max(empty, initial=c) is c in NumPy; eager mode (jacobian, jvp, SparseJacobian,
    derivative) raised NumPy's "zero-size array to reduction operation maximum which has no
    identity" while the compiler took it."""
    x = np.array([0.5, 0.2, 0.1])
    expected = 0.5 * np.eye(3)
    np.testing.assert_allclose(dd.jacobian(f, x).reshape(3, 3), expected)
    np.testing.assert_allclose(dd.jvp(f, x, np.ones(3))[1].reshape(3), 0.5)
    np.testing.assert_allclose(dd.SparseJacobian(f, x)(x).reshape(3, 3), expected)
    np.testing.assert_allclose(dd.derivative(lambda t: f(x + t), 0.0).reshape(3), 0.5)
    np.testing.assert_allclose(dd.derivative(lambda t: f(x + t), 0.0, n=2).reshape(3), 0.0)
    value, _ = dd.jvp(f, x.astype(np.float32), np.ones(3, np.float32))
    assert value.dtype == f(x.astype(np.float32)).dtype


ROUNDINGS = {
    "round(x[0] * 3, 1)": (lambda x: round(x[0] * 3, 1) * x, 0.9),
    "round(x[0] * 3)": (lambda x: round(x[0] * 3) * x, 1.0),
    "math.floor(x[2])": (lambda x: math.floor(x[2]) * x, 1.0),
    "math.ceil(x[2])": (lambda x: math.ceil(x[2]) * x, 2.0),
    "math.trunc(x[2])": (lambda x: math.trunc(x[2]) * x, 1.0),
}


@pytest.mark.parametrize("name", sorted(ROUNDINGS))
def test_python_rounding_of_a_traced_scalar(name):
    """round()/math.floor/ceil/trunc of a scalar are piecewise constant: eager mode gives a plain
    number. The sparsity tracer raised "type SparsityTracer doesn't define __round__ method" (or
    refused floor/ceil as dropping a dependency), the compiler "type SymbolicDual doesn't define
    __round__ method"; now the tracer follows eager mode (the pattern holds at x only), and so
    does the compiler (the number guarded)."""
    f, factor = ROUNDINGS[name]
    x = np.array([0.3, -0.7, 1.1])
    expected = factor * np.eye(3)
    np.testing.assert_allclose(dd.jacobian(f, x), expected)
    with pytest.warns(ValueDependentPatternWarning):
        pattern = dd.jacobian_sparsity(f, x)
    np.testing.assert_array_equal(pattern, np.eye(3, dtype=bool))
    with pytest.warns(ValueDependentPatternWarning):
        np.testing.assert_allclose(dd.SparseJacobian(f, x)(x), expected)
    # the compiler reads the number at the tracing point and guards it: a point where it
    # differs is traced again
    compiled = dd.jit_jacobian(f)
    np.testing.assert_allclose(compiled(x), expected)
    np.testing.assert_allclose(compiled(x + 2.0), dd.jacobian(f, x + 2.0))
    np.testing.assert_allclose(dd.jit_jvp(f)(x, np.ones(3))[1], factor * np.ones(3))


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x[x[1]],
        lambda x: x[(x[1],)],
        lambda x: (lambda y: (y.__setitem__(x[1], 2.0), y)[1])(x * 1),
    ],
)
def test_taylor_indexed_by_a_dual_number_is_a_type_error(f):
    """x[x[1]] in Taylor mode raised NumPy's IndexError ("only integers, slices ... are valid
    indices"); eager mode, the compiler and the tracer raise a TypeError saying an index has no
    derivative."""
    x = np.array([0.3, 1.7, 1.1])
    with pytest.raises(TypeError, match="indexed by a dual number"):
        dd.derivative(lambda t: f(x + t), 0.0, n=2)
    with pytest.raises(TypeError, match="indexed by a dual number"):
        dd.derivative(lambda t: f(x + t), 0.0, n=1)


def _mod_through_a_view(x):
    y = np.sin(x) * 3
    v = y[::2]
    v %= 0.4
    w = y[1::2]
    w //= 0.4  # piecewise constant: zero derivative where written
    return y


@pytest.mark.parametrize("mode", ["jvp", "jacobian", "taylor"])
def test_mod_and_floordiv_in_place_through_a_view(mode):
    """v %= c and v //= c on a view v of y: DualArray and Taylor had no __imod__/__ifloordiv__,
    so Python rebound v to v % c and y kept its old values (a silently wrong value)."""
    x = np.array([0.3, -0.7, 1.1, 0.5, -0.2, 0.9])
    expected_value = _mod_through_a_view(x)
    cos = 3 * np.cos(x)
    expected = np.diag(np.where(np.arange(6) % 2 == 0, cos, 0.0))  # d(u mod c) = du
    if mode == "jvp":
        value, tangent = dd.jvp(_mod_through_a_view, x, np.ones(6))
        np.testing.assert_allclose(value, expected_value, rtol=1e-14)
        np.testing.assert_allclose(tangent, expected.sum(1), rtol=1e-14)
    elif mode == "jacobian":
        np.testing.assert_allclose(dd.jacobian(_mod_through_a_view, x), expected, rtol=1e-14)
    else:
        got = dd.taylor(lambda t: _mod_through_a_view(x + t), 0.0, 2)
        np.testing.assert_allclose(got[:, 0], expected_value, rtol=1e-14)
        np.testing.assert_allclose(got[:, 1], expected.sum(1), rtol=1e-14)


def _einsum_views(x):
    """np.einsum of one operand answers a transposition or a diagonal with a view of it, as
    np.transpose and np.diagonal do: writes through it land in b, writes into b show in it."""
    b = np.sin(x)
    t = np.einsum("ij->ji", b)
    t[0] = 0.5  # column 0 of b
    d = np.einsum("ii->i", b)
    d *= b[1, 2]
    b[2] = x[1] ** 2
    return np.concatenate([b.ravel(), t.ravel()])


X33 = np.array([[0.411, -0.691, -1.377], [-1.45, 0.94, 1.238], [0.1, 0.2, 0.3]])


@pytest.mark.parametrize("mode", ["jvp", "jacobian", "taylor", "sparsity", "SparseJacobian"])
def test_writes_through_an_einsum_view(mode):
    """Eager jacobian of x -> einsum('ij->ji', x) written into lost the write (the lazy seed's
    einsum was a copy); Taylor mode and the sparsity tracer made every einsum a copy, so the
    writes never reached b (a silently wrong value, derivative and pattern)."""
    f = _einsum_views
    x = X33
    ref = dd.numeric.jacobian(f, x).reshape(18, 9)
    v = np.linspace(-1.0, 1.0, 9).reshape(3, 3)
    if mode == "jvp":
        value, tangent = dd.jvp(f, x, v)
        np.testing.assert_allclose(value, f(x.copy()), rtol=1e-14)
        np.testing.assert_allclose(tangent, ref @ v.ravel(), atol=1e-8)
    elif mode == "jacobian":
        np.testing.assert_allclose(dd.jacobian(f, x).reshape(18, 9), ref, atol=1e-8)
    elif mode == "taylor":
        got = dd.taylor(lambda t: f(x + t * v), 0.0, 1)
        np.testing.assert_allclose(got[:, 0], f(x.copy()), rtol=1e-14)
        np.testing.assert_allclose(got[:, 1], ref @ v.ravel(), atol=1e-8)
    elif mode == "sparsity":
        np.testing.assert_array_equal(dd.jacobian_sparsity(f, x), ref != 0)
    else:
        np.testing.assert_allclose(dd.SparseJacobian(f, x)(x).reshape(18, 9), ref, atol=1e-8)


def test_writes_through_an_einsum_view_of_the_argument():
    """The case the grammar found: the eager jacobian's seeded argument viewed by einsum."""
    mask = np.array([[False, True], [True, True], [False, False]])

    def f(a0):
        a1 = np.einsum("ij->ji", a0)
        a1[mask] = 0.5
        return a0

    x = np.array([[0.411, -0.691, -1.377], [-1.45, 0.94, 1.238]])
    kept = ~mask.T  # the entries of a0 not overwritten
    np.testing.assert_array_equal(dd.jacobian(f, x).reshape(6, 6), np.diag(kept.ravel() * 1.0))


@pytest.mark.parametrize("mode", ["jvp", "jit_jvp", "taylor", "sparsity"])
def test_write_into_asfortranarray_of_a_fortran_ordered_dual_array_refuses(mode):
    """np.asfortranarray(b.T) is b.T itself in NumPy (already Fortran-ordered), so a write
    through it reaches b. Every mode's object array of duals (C-ordered) was copied by
    np.asfortranarray into a writable array, and the write was silently lost; now the object
    array keeps the layout, so the write refuses as one into np.asarray(x) does."""

    def f(x):
        b = np.sin(x) + 0.0
        v = np.asfortranarray(b.T)
        v[1] = x[0] ** 2
        return b

    x = X33
    v = np.ones((3, 3))
    call = {
        "jvp": lambda: dd.jvp(f, x, v),
        "jit_jvp": lambda: dd.jit_jvp(f)(x, v),
        "taylor": lambda: dd.taylor(lambda t: f(x + t), 0.0, 2),
        "sparsity": lambda: dd.jacobian_sparsity(f, x),
    }[mode]
    with pytest.warns(dd.ObjectArrayWarning), pytest.raises(ValueError, match="read-only"):
        call()


NAN_AT_0 = np.array([np.nan, 0.0, 0.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "name, f, expected",
    [
        # x + nan at 0: that entry is left out, the others count
        ("nansum", lambda x: np.nansum(x + NAN_AT_0), np.r_[0.0, np.ones(5)]),
        ("nanmean", lambda x: np.nanmean(x + NAN_AT_0), np.r_[0.0, np.ones(5) / 5]),
        (
            "nancumsum",
            lambda x: np.nancumsum(x + NAN_AT_0),
            np.tril(np.ones((6, 6))) * [0, 1, 1, 1, 1, 1],
        ),
        # NaN where x <= 0: four entries left
        ("nanmean", lambda x: np.nanmean(np.where(x > 0, x, np.nan)), (X6 > 0) / 4.0),
    ],
)
def test_nan_reductions_leave_the_nan_entries_out_of_the_derivative(name, f, expected):
    """np.nansum/nanmean/nancumsum were declared linear: the compiler and Taylor mode applied
    them to the tangent, whose entry at a NaN value is dx (x + nan) or 0 (np.where), so the NaN
    entries' tangents were summed and nanmean divided by every entry (1/6 for 1/4 here); eager
    nancumsum likewise."""
    x = X6
    np.testing.assert_allclose(dd.jacobian(f, x), expected, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), expected, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(dd.SparseJacobian(f, x)(x), expected, atol=1e-15, err_msg=name)
    along = dd.taylor(lambda t: f(x + t), 0.0, 2)[..., 1]
    np.testing.assert_allclose(along, np.sum(expected, axis=-1), atol=1e-14, err_msg=name)


@pytest.mark.parametrize("output", [lambda x: {"a": x**2}, lambda x: {1.0, 2.0}])
def test_sparsity_of_a_dict_or_set_output_refuses(output):
    """jacobian_sparsity of f returning a dict (or a set) gave an all-False (1, n) pattern, a
    silently wrong pattern, where every other mode refuses the output type."""
    x = np.array([0.3, -0.7, 1.1])
    with pytest.raises(TypeError, match="f must return one array or number"):
        dd.jacobian_sparsity(output, x)


ELEMENTS = {
    # x0 x1
    "x[0].item() * x[1]": (lambda x: x[0].item() * x[1], np.array([-0.7, 0.3, 0.0])),
    # x2 x_i: x2 on the diagonal, x_i in column 2
    "x.item(2) * x": (
        lambda x: x.item(2) * x,
        np.array([[1.1, 0.0, 0.3], [0.0, 1.1, -0.7], [0.0, 0.0, 2.2]]),
    ),
    # (x0 + x1 + x2) x0
    "sum(x.tolist()) * x[0]": (lambda x: sum(x.tolist()) * x[0], np.array([1.0, 0.3, 0.3])),
    "np.array(x.tolist()) ** 2": (lambda x: np.array(x.tolist()) ** 2, np.diag([0.6, -1.4, 2.2])),
}


@pytest.mark.parametrize("name", sorted(ELEMENTS))
def test_item_and_tolist_keep_the_derivative_in_every_mode(name):
    """x.item() and x.tolist() give duals with their tangents in eager and Taylor mode (as NumPy
    gives numbers); the compiler refused them as reading a value of x, and the sparsity tracer
    as dropping a dependency."""
    f, expected = ELEMENTS[name]
    x = np.array([0.3, -0.7, 1.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dd.ObjectArrayWarning)  # np.array of a list of duals
        np.testing.assert_allclose(dd.jacobian(f, x), expected, atol=1e-15)
        np.testing.assert_allclose(dd.jit_jacobian(f)(x), expected, atol=1e-15)
        np.testing.assert_allclose(dd.jit_jvp(f)(x, np.ones(3))[1], expected.sum(-1), atol=1e-15)
        np.testing.assert_array_equal(
            dd.jacobian_sparsity(f, x).reshape(expected.shape), expected != 0
        )
        np.testing.assert_allclose(dd.SparseJacobian(f, x)(x), expected, atol=1e-15)


def _write_through_a_view_of_the_argument(a0):
    """To NumPy np.expand_dims of a scalar (float or np.float64) is a new array: the write does
    not reach a0, so the result is arccosh(3.025 + 1.7775 tanh(a0))."""
    a1 = np.expand_dims(a0, 0)
    a1 += 0.5
    return np.arccosh(3.025 + 1.7775 * np.tanh(a0))


@pytest.mark.parametrize("x", [0.411, np.float64(0.411), np.float32(0.411)])
@pytest.mark.parametrize("api", ["jacobian", "gradient", "hessian"])
def test_jacobian_of_a_scalar_gives_f_a_scalar(x, api):
    """jacobian/gradient/hessian of a scalar x passed f a 0-d array, whose expand_dims view
    wrote back into x (0.203 for the derivative 0.421 that NumPy's semantics and jvp give)."""
    f = _write_through_a_view_of_the_argument
    u = np.tanh(0.411)
    inner = 3.025 + 1.7775 * u
    d_inner = 1.7775 * (1 - u * u)
    first = d_inner / np.sqrt(inner**2 - 1)
    tol = 1e-6 if isinstance(x, np.float32) else 1e-12
    got = getattr(dd, api)(f, x)
    assert np.ndim(got) == 0 and np.asarray(got).dtype == np.result_type(x, 0.0)
    if api == "hessian":
        second = dd.numeric.jacobian(lambda z: dd.derivative(f, z), 0.411)
        np.testing.assert_allclose(got, second, rtol=1e-6)
    else:
        np.testing.assert_allclose(got, first, rtol=tol)


@pytest.mark.parametrize("x", [0.411, np.float64(0.411), np.array(0.411)])
def test_jit_of_a_scalar_argument_follows_numpys_scalar_semantics(x):
    """The compiler traced a scalar x as a 0-d array, so np.reshape(x, (1,)) viewed it and a
    write through it reached x (the value 0.7325 and derivative 1.36 of a 0-d array, for NumPy's
    0.3995 and 0.9167 with a scalar); a 0-d array argument keeps the 0-d semantics."""

    def f(a0):
        a1 = np.reshape(a0, (1,))
        a1 += a1  # reaches a0 only when a0 is an array
        return np.sin(a0)

    t = 0.411 * (2.0 if isinstance(x, np.ndarray) else 1.0)
    dt = 2.0 if isinstance(x, np.ndarray) else 1.0
    compiled, compiled_jac = dd.jit_jvp(f), dd.jit_jacobian(f)
    for _ in range(2):  # traced, then replayed
        value, tangent = compiled(x, 1.0)
        np.testing.assert_allclose([value, tangent], [np.sin(t), np.cos(t) * dt], rtol=1e-14)
        np.testing.assert_allclose(compiled_jac(x), np.cos(t) * dt, rtol=1e-14)
    np.testing.assert_allclose(dd.jvp(f, x, 1.0)[1], np.cos(t) * dt, rtol=1e-14)


@pytest.mark.parametrize("x", [0.411, 2])
def test_jacobian_of_a_scalar_on_workers_gives_f_a_scalar(x):
    """jacobian(f, scalar, workers=2) passed f a 0-d array (0.203 where the serial jacobian,
    jvp and NumPy's semantics give 0.421); one column runs in this process, as jacobian() does."""
    f = _write_through_a_view_of_the_argument
    serial = dd.jacobian(f, x)
    assert serial == dd.derivative(f, float(x))
    assert dd.jacobian(f, x, workers=2) == serial
