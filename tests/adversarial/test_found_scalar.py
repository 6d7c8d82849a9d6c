"""Minimal reproductions of what the hunt of the scalar ``Dual`` and of object arrays of duals
found, one test each.

Each says what was observed and what is expected; the references are closed forms, plain NumPy
or numeric differences, never dualdiff itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import Dual


@pytest.mark.parametrize(
    "other", [np.array(2.5), np.array([2.5, -1.5])], ids=["0-d array", "1-d array"]
)
def test_divmod_of_a_dual_and_an_array(other):
    # divmod(d, array) returned (NotImplemented, NotImplemented): __divmod__ built a tuple of
    # the two operators' NotImplemented instead of deferring, and Python took it as the answer
    x = 1.7
    q, r = divmod(Dual(x, 1.0), other)
    np.testing.assert_array_equal(np.asarray(q.value), np.floor_divide(x, other))
    np.testing.assert_allclose(np.asarray(r.value), np.remainder(x, other))
    np.testing.assert_array_equal(np.asarray(q.tangent), np.zeros(np.shape(other)))  # d(x//c) = 0
    np.testing.assert_array_equal(np.asarray(r.tangent), np.ones(np.shape(other)))  # d(x%c) = 1


def test_divmod_of_a_dual_and_an_unsupported_type_raises():
    # the tuple of NotImplemented hid Python's TypeError too
    with pytest.raises(TypeError):
        divmod(Dual(1.7, 1.0), "a")
    with pytest.raises(TypeError):
        divmod("a", Dual(1.7, 1.0))


# A NumPy integer constant met a partial in its own dtype: -np.uint8(2) wrapped to 254,
# np.int8(-128) - 1 to 127, and log(np.int8(2)) came out float16. NumPy computes the value with
# the integer cast to the result's float dtype; the partials must see the same number.
INTEGER_CONSTANTS = {
    "arctan2(np.uint8(2), x)": (
        lambda c: lambda x: np.arctan2(c, x),
        np.uint8(2),
        lambda x: -2.0 / (x * x + 4.0),
    ),
    "x ** np.int8(-128)": (lambda c: lambda x: x**c, np.int8(-128), lambda x: -128.0 * x**-129),
    "np.int8(2) ** x": (lambda c: lambda x: c**x, np.int8(2), lambda x: math.log(2.0) * 2.0**x),
    "np.uint8(3) ** x": (lambda c: lambda x: c**x, np.uint8(3), lambda x: math.log(3.0) * 3.0**x),
}


@pytest.mark.parametrize("name", sorted(INTEGER_CONSTANTS))
@pytest.mark.parametrize("mode", ["Dual", "Dual, array constant", "jacobian", "jit_jacobian"])
def test_numpy_integer_constant_in_a_partial(name, mode):
    make, c, closed_form = INTEGER_CONSTANTS[name]
    x0 = 1.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the int8 wrap-around's overflow
        if mode == "Dual":
            got = dd.derivative(make(c), x0)
        elif mode == "Dual, array constant":
            got = dd.derivative(make(np.array([c])), x0)[0]
        elif mode == "jacobian":
            got = dd.jacobian(make(c), np.array([x0]))[0, 0]
        else:
            got = dd.jit_jacobian(make(np.array([c])))(np.array([x0]))[0, 0]
    np.testing.assert_allclose(got, closed_form(x0), rtol=1e-12)


def test_numpy_integer_base_in_taylor_mode():
    # the same float16 log(np.int8(2)) in Taylor mode's power series
    coefficients = dd.taylor(lambda x: np.int8(2) ** x, 1.01, 1)
    np.testing.assert_allclose(coefficients[1], math.log(2.0) * 2.0**1.01, rtol=1e-12)


# np.maximum/minimum/fmax/fmin/heaviside of a Python float and a Python int bound returned the
# int itself, so a Dual clipped at an integer bound held the Python int (or, after a second
# bound, np.int64) where NumPy gives float64: np.clip(x, 2, 3) ** 64 wrapped around to 0.
SELECTIONS = {
    "np.clip(x, 2, 3) ** 64 / 2.0**64 + x": lambda x: np.clip(x, 2, 3) ** 64 / 2.0**64 + x,
    "np.maximum(x, 2) ** -1": lambda x: np.maximum(x, 2) ** -1,
    "np.minimum(x, 1) ** -2 * x": lambda x: np.minimum(x, 1) ** -2 * x,
    "np.fmax(x, 2) ** 64 / 2.0**64 + x": lambda x: np.fmax(x, 2) ** 64 / 2.0**64 + x,
    "np.fmin(x, 1) ** -1 * x": lambda x: np.fmin(x, 1) ** -1 * x,
    "np.heaviside(x - x, 1) ** -1 * x": lambda x: np.heaviside(x - x, 1) ** -1 * x,
}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selection_of_a_python_int_is_a_float(name):
    f = SELECTIONS[name]
    x0 = 1.7
    y = f(Dual(x0, 1.0))
    expected = f(x0)  # plain NumPy: a float64 scalar
    assert isinstance(y.value, float) and not isinstance(y.value, np.integer)
    np.testing.assert_allclose(y.value, expected, rtol=1e-15)
    h = 1e-6
    np.testing.assert_allclose(y.tangent, (f(x0 + h) - f(x0 - h)) / (2 * h), rtol=1e-6)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
@pytest.mark.parametrize("y", [np.int8(2), np.uint8(3), np.array([2, 3], dtype=np.int16)], ids=repr)
def test_xlogy_of_a_numpy_integer(name, y):
    # dd.xlogy(0.6, np.int8(2)) took np.log of the int8 (float16): value 0.416 (float16), and the
    # derivative in x log(2) = 0.6934. scipy.special computes an integer y in float64.
    special = pytest.importorskip("scipy.special")
    f, reference, log = (
        getattr(dd, name),
        getattr(special, name),
        {"xlogy": np.log, "xlog1py": np.log1p}[name],
    )
    x0 = 0.6
    value = f(x0, y)
    np.testing.assert_allclose(value, reference(x0, y), rtol=1e-14)
    assert np.result_type(value) == np.result_type(reference(x0, y))
    got = dd.derivative(lambda x: f(x, y), x0)
    np.testing.assert_allclose(got, log(np.asarray(y, dtype=np.float64)), rtol=1e-14)


def test_xlogy_of_a_numpy_integer_in_taylor_mode():
    # Taylor mode evaluated the partial log(np.int8(2)) in float16 (0.6934)
    coefficients = dd.taylor(lambda t: dd.xlogy(t, np.int8(2)), 0.6, 1)
    np.testing.assert_allclose(coefficients[1], math.log(2.0), rtol=1e-14)


@pytest.mark.xfail(
    strict=True,
    reason="NumPy's .real of an object array is the array itself and its .imag an array of "
    "int zeros, whatever the elements; np.real/np.imag/np.linalg.norm read those attributes or "
    "none, and nothing of dualdiff is asked (no dispatch on an object ndarray). Documented in "
    "the sharp bits; "
    "np.stack([...]) keeps a complex DualArray, whose .real/.imag are right",
)
@pytest.mark.parametrize(
    "part, expected",
    [("real", [1.0]), ("imag", [2.0]), ("norm", 5.0**0.5)],
)
def test_complex_parts_of_an_object_array_of_complex_duals(part, expected):
    # np.array([x * (1 + 2j)]).imag had derivative [0.] (silently; 2 is right), .real kept
    # the complex value and derivative (1+2j), and np.linalg.norm, which takes .real/.imag only
    # of a complex dtype, summed z**2 instead of |z|**2 (derivative 1+2j, not sqrt(5))
    def f(x):
        a = np.array([x * (1 + 2j)])
        return np.linalg.norm(a) if part == "norm" else getattr(a, part)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dd.ObjectArrayWarning)
        got = dd.derivative(f, 1.7)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("exponent", [0.5, 2.5, np.float64(0.5)], ids=repr)
def test_negative_base_to_a_non_integer_power_is_numpy_nan_with_a_warning(exponent):
    # Python gives (-4.0) ** 0.5 a complex value; a Dual follows NumPy (documented): nan, never a
    # plausible real number, and NumPy's warning says so
    with pytest.warns(RuntimeWarning, match="invalid value"):
        y = Dual(-4.0, 1.0) ** exponent
    assert np.isnan(y.value) and np.isnan(y.tangent)
    with np.errstate(invalid="ignore"):
        assert np.isnan(np.power(-4.0, exponent))


def test_negative_base_to_an_integer_valued_float_power_is_real():
    y = Dual(-2.0, 1.0) ** 3.0  # x**3: value -8, derivative 3x**2 = 12
    assert (y.value, y.tangent) == (-8.0, 12.0)


@pytest.mark.parametrize("x", [1.0, np.float32(1.0)], ids=repr)
@pytest.mark.parametrize("v", [np.uint8(2), np.int8(2), np.True_], ids=repr)
def test_numpy_integer_direction_of_a_scalar_jvp(x, v):
    # dd.jvp(lambda x: -x, 1.0, np.uint8(2)) gave the tangent np.uint8(254): the direction was
    # seeded as it came, and the negation wrapped around (np.True_ raised NumPy's bool error)
    value, tangent = dd.jvp(lambda x: -x, x, v)
    assert tangent == -float(v)
    assert np.result_type(tangent) == np.result_type(x)
    _, tangent = dd.jvp(lambda x, y: -x * y, (1.0, 2.0), (v, np.int8(0)))
    assert tangent == -2.0 * float(v)


@pytest.mark.xfail(
    strict=True,
    reason="np.array([x, np.uint8(2)]) stores the NumPy integer as an element of the object "
    "array, and NumPy's object loop applies Python's operator to it alone (-np.uint8(2) is 254, "
    "np.int8(100) * 2 is -56): nothing of dualdiff is called for that element. A float array "
    "casts it first. Documented in the sharp bits; np.stack([...]) is right",
)
@pytest.mark.parametrize(
    "name",
    ["-np.array([x, np.uint8(2)])", "np.array([x, np.int8(100)]) * 2 * x"],
)
def test_numpy_integer_element_of_an_object_array(name):
    f = {
        "-np.array([x, np.uint8(2)])": lambda x: -np.array([x, np.uint8(2)]),
        "np.array([x, np.int8(100)]) * 2 * x": lambda x: np.array([x, np.int8(100)]) * 2 * x,
    }[name]
    x0 = 1.7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dd.ObjectArrayWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # the int8 overflow
        value, tangent = dd.jvp(f, x0, 1.0)
        expected = f(x0)  # plain NumPy: a float64 array
        h = 1e-6
        numeric = (f(x0 + h) - f(x0 - h)) / (2 * h)
    np.testing.assert_allclose(value, expected, rtol=1e-14)
    np.testing.assert_allclose(tangent, numeric, rtol=1e-6)
