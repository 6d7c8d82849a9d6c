"""NumPy's non-ufunc functions on DualArrays (the ``__array_function__`` rules of functions.py):
what the shared case list cannot say.

One case per function, argument kind and option lives in the shared list (``cases.py``), run
through every mode by ``test_every_mode.py``. Here: reductions, scans and layout functions on
random shapes and axes (hypothesis), exactness at zeros and ties, conventions, constructors and
error messages. Derivatives are checked against a column-by-column numeric Jacobian of the same
plain-NumPy function (``reference.jacobian``), through ``dualdiff.jacobian`` and ``dualdiff.jvp``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import assert_close, directional
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff import Dual, DualArray

RTOL = 1e-7


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def separated(*shape, seed=0):
    """Distinct values at least 0.3 apart (no ties, and no swaps within a difference step)."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    return (rng.permutation(n) * 0.3 - 0.15 * n + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def check(f, x, rtol=RTOL):
    """``f``'s Jacobian (k = n directions) and a JVP (k = 1) against numeric differences."""
    expected = numeric_jacobian(f, x)
    jac = dd.jacobian(f, x)
    assert np.shape(jac) == expected.shape
    assert_close(jac, expected, rtol)
    v = np.random.default_rng(7).standard_normal(np.shape(x))
    value, tangent = dd.jvp(f, x, v)
    assert_close(value, f(np.array(x, dtype=float)), 1e-12, 1e-14)
    assert_close(tangent, directional(f, x, v), rtol)


X = normal(3, 4, seed=1)
S = separated(3, 4, seed=3)
XP = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 3.0])


# -- reductions, scans and layout on random shapes and axes -----------------------------------

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@st.composite
def array_and_axis(draw, allow_tuple=True):
    shape = draw(shapes)
    ndim = len(shape)
    choices = [st.none(), st.integers(-ndim, ndim - 1)]
    if allow_tuple:
        choices.append(st.sets(st.integers(0, ndim - 1), min_size=1).map(tuple))
    return separated(*shape, seed=draw(st.integers(0, 99))), draw(st.one_of(*choices))


REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "prod": np.prod,
    "max": np.max,
    "min": np.min,
    "var": np.var,
    "std": np.std,
    "ptp": np.ptp,
}


@settings(max_examples=40, deadline=None)
@given(array_and_axis(), st.sampled_from(sorted(REDUCTIONS)), st.booleans())
def test_reductions_on_random_shapes(x_axis, name, keepdims):
    x, axis = x_axis
    if name == "ptp" and isinstance(axis, tuple):
        axis = axis[0]
    # the std of one entry is 0 for every input, with an undefined derivative (see below)
    assume(name != "std" or np.mean(x, axis=axis).size < x.size)
    f = REDUCTIONS[name]
    check(lambda a: f(a, axis=axis, keepdims=keepdims), x)


@settings(max_examples=25, deadline=None)
@given(array_and_axis(allow_tuple=False), st.sampled_from(["cumsum", "cumprod", "sort", "diff"]))
def test_scans_and_sort_on_random_shapes(x_axis, name):
    x, axis = x_axis
    if name == "diff" and axis is None:
        axis = -1
    check(lambda a: getattr(np, name)(a, axis=axis), x)


@settings(max_examples=25, deadline=None)
@given(shapes, st.data())
def test_layout_functions_on_random_shapes(shape, data):
    x = normal(*shape, seed=len(shape))
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    other = data.draw(st.integers(-ndim, ndim - 1))
    perm = tuple(data.draw(st.permutations(range(ndim))))
    functions = [
        lambda a: np.transpose(a, perm),
        lambda a: np.moveaxis(a, axis, other),
        lambda a: np.swapaxes(a, axis, other),
        lambda a: np.expand_dims(a, axis),
        lambda a: np.flip(a, axis),
        lambda a: np.roll(a, 1, axis),
        lambda a: np.repeat(a, 2, axis),
        lambda a: np.concatenate([a, 2 * a], axis),
        lambda a: np.stack([a, a**2], other),
        lambda a: np.take(a, [0, -1], axis=axis),
        lambda a: np.cumsum(a * a[..., :1], axis=axis),
    ]
    for f in functions:
        check(f, x)


# -- exactness and conventions -----------------------------------------------------------------

ZEROS = np.array([[0.0, 2.0, 3.0, -1.0], [0.0, 0.0, 5.0, 2.0], [1.0, 2.0, 4.0, -3.0]])


def exclusive_product(row, i, upto=None):
    """prod_{l <= upto, l != i} row[l], by a plain loop."""
    upto = len(row) - 1 if upto is None else upto
    out = 1.0
    for j in range(upto + 1):
        if j != i:
            out *= row[j]
    return out


def test_prod_with_zeros_is_exact():
    jac = dd.jacobian(lambda a: np.prod(a, axis=1), ZEROS)
    expected = np.zeros((3, 3, 4))
    for r in range(3):
        for i in range(4):
            expected[r, r, i] = exclusive_product(ZEROS[r], i)
    np.testing.assert_array_equal(jac, expected)
    assert np.all(np.isfinite(dd.jacobian(np.prod, ZEROS)))
    np.testing.assert_array_equal(dd.jacobian(lambda a: np.multiply.reduce(a, 1), ZEROS), expected)


def test_cumprod_with_zeros_is_exact():
    expected = np.zeros((3, 4, 3, 4))
    for r in range(3):
        for j in range(4):
            for i in range(j + 1):
                expected[r, j, r, i] = exclusive_product(ZEROS[r], i, j)
    np.testing.assert_array_equal(dd.jacobian(lambda a: np.cumprod(a, axis=1), ZEROS), expected)
    np.testing.assert_array_equal(
        dd.jacobian(lambda a: np.multiply.accumulate(a, axis=1), ZEROS), expected
    )


@pytest.mark.parametrize("fn", [np.max, np.min, np.amax, np.amin])
def test_max_and_min_split_ties_evenly(fn):
    x = np.array([[1.0, -3.0, 2.0], [1.0, -3.0, 2.0], [0.5, -3.0, 2.0]])
    best = fn(x, axis=0)
    hits = x == best
    expected = np.zeros((3, 3, 3))
    for j in range(3):
        expected[j, :, j] = hits[:, j] / hits[:, j].sum()
    assert_close(dd.jacobian(lambda a: fn(a, axis=0), x), expected, 1e-15)
    flat = x.ravel()
    assert_close(dd.jacobian(fn, flat), (flat == fn(flat)) / np.sum(flat == fn(flat)), 1e-15)


def test_ptp_of_constant_array_has_zero_derivative():
    np.testing.assert_array_equal(dd.jacobian(np.ptp, np.full(4, 2.0)), np.zeros(4))


def test_std_at_zero_variance_keeps_a_zero_tangent():
    # every tangent of var is exactly 0 there, and sqrt promises a zero tangent stays zero
    np.testing.assert_array_equal(dd.jacobian(np.std, np.full(3, 2.0)), np.zeros(3))


def test_cumprod_over_an_empty_axis():
    jac = dd.jacobian(lambda a: np.cumprod(a, axis=0), np.zeros((0, 2)))
    assert jac.shape == (0, 2, 0, 2)
    out = np.cumprod(DualArray(np.zeros((2, 0))), axis=1)
    assert out.shape == (2, 0) and out.tangent.shape == (2, 0)


def test_sort_tangent_follows_the_permutation():
    x = np.array([[3.0, -1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.0]])
    v = normal(2, 4, seed=4)
    for axis in (-1, 0):
        order = np.argsort(x, axis=axis)
        value, tangent = dd.jvp(lambda a: np.sort(a, axis=axis), x, v)
        np.testing.assert_array_equal(value, np.sort(x, axis=axis))
        np.testing.assert_array_equal(tangent, np.take_along_axis(v, order, axis=axis))
    value, tangent = dd.jvp(lambda a: np.sort(a, axis=None), x, v)
    np.testing.assert_array_equal(tangent, v.ravel()[np.argsort(x, axis=None)])


def test_value_functions_pass_through_on_values():
    x = DualArray(S, normal(3, 4, seed=5))
    assert np.argmax(x) == np.argmax(S)
    np.testing.assert_array_equal(np.argmin(x, axis=0), np.argmin(S, axis=0))
    np.testing.assert_array_equal(np.argsort(x, axis=0), np.argsort(S, axis=0))
    for got, expected in zip(np.nonzero(x > 0), np.nonzero(S > 0)):
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.searchsorted(x[0], [0.0]), np.searchsorted(S[0], [0.0]))


def test_interp_outside_the_table_has_zero_slope_in_x():
    x = np.array([-5.0, 5.0, 0.25])
    jac = dd.jacobian(lambda a: np.interp(a, XP, XP**2), x)
    assert_close(np.diag(jac), [0.0, 0.0, 0.5 + 0.0], 1e-14)  # slope of x**2 between 0 and 0.5


# -- construction and copies -------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda x: np.zeros_like(x),
        lambda x: np.ones_like(x),
        lambda x: np.empty_like(x),
        lambda x: np.full_like(x, 2.5),
        lambda x: np.zeros(x.shape, like=x),
        lambda x: np.ones(x.shape, like=x),
        lambda x: np.empty(x.shape, like=x),
        lambda x: np.full(x.shape, 2.5, like=x),
    ],
)
def test_constructors_keep_tag_and_directions_with_zero_tangent(make):
    x = DualArray(X, np.ones((5,) + X.shape), tag=3, batched=True)
    out = make(x)
    assert type(out) is DualArray and out.shape == X.shape and out.tag == 3
    assert out.batched and out.directions == 5
    np.testing.assert_array_equal(out.tangent, np.zeros((5,) + X.shape))
    out[0, 0] = x[1, 1]  # and it can receive the dual's entries
    np.testing.assert_array_equal(out.tangent[:, 0, 0], np.ones(5))


def test_constructors_values():
    x = DualArray(X)
    np.testing.assert_array_equal(np.ones_like(x).value, np.ones_like(X))
    np.testing.assert_array_equal(np.full_like(x, 2.5).value, np.full_like(X, 2.5))
    np.testing.assert_array_equal(np.zeros(3, like=x).value, np.zeros(3))
    np.testing.assert_array_equal(np.full((2, 2), 4.0, like=x).value, np.full((2, 2), 4.0))
    assert np.ones_like(x, dtype=complex).dtype == complex
    with pytest.raises(TypeError, match="drop the tangent"):
        np.zeros_like(x, dtype=int)


def test_copy_is_independent():
    x = DualArray(X.copy(), np.ones_like(X))
    y = np.copy(x)
    y[0, 0] = Dual(9.0, 5.0)
    assert x.value[0, 0] == X[0, 0] and x.tangent[0, 0] == 1.0


# -- misuse gives clear errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: np.spacing(x), "numpy.spacing"),
        (lambda x: np.tril_indices_from(x.reshape(3, 4)), "numpy.tril_indices_from"),
    ],
)
def test_function_without_rule_raises_naming_it(call, name):
    x = DualArray(X.ravel(), np.ones(12))
    with pytest.raises(TypeError, match=f"dualdiff has no derivative rule for {name}"):
        call(x)


@pytest.mark.parametrize("convert", [np.asarray, np.array])
def test_conversion_to_plain_array_raises_pointing_to_value(convert):
    # an object array of Duals unless strict_arrays() (tests/test_object_arrays.py); a float
    # array always raises
    with dd.strict_arrays(), pytest.raises(TypeError, match=r"x\.value"):
        convert(DualArray(X))
    with pytest.raises(TypeError, match=r"x\.value"):
        convert(DualArray(X), dtype=float)


def test_unsupported_options_raise():
    x = DualArray(X)
    with pytest.raises(TypeError, match="where"):
        np.sin(x, where=X > 0)  # (without out=: NumPy leaves the other entries uninitialised)
    with pytest.raises(TypeError, match="drop the tangent"):
        np.sum(x, dtype=int)
    with pytest.raises(TypeError, match="pad"):
        np.pad(x, 1, mode="maximum")
    with pytest.raises(TypeError, match="out="):
        np.sum(x, axis=0, out=np.zeros(4))


def test_out_argument_of_functions_accepts_dual_arrays():
    def f(a):
        out = np.zeros_like(a[0])
        result = np.sum(a, axis=0, out=out)
        assert result is out
        return out * a[1]

    check(f, X)


@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.max(a * a),
        lambda a: np.min(a * a, axis=0),
        lambda a: np.linalg.norm(a, 2),
        lambda a: np.cumprod(a, axis=1),
    ],
    ids=["max", "min axis", "norm 2", "cumprod"],
)
def test_second_derivatives_of_max_min_and_cumprod_keep_float32(f):
    # the weights of ties and cumprod's padding were float64: harmless on a plain tangent (cast
    # to the value's dtype), but a nested tangent is a dual itself, which they promoted
    x = np.array([[3.0, 0.5, -1.0], [0.2, -2.5, 0.4], [1.0, 0.3, 2.0]], np.float32)
    second = dd.jacobian(lambda a: dd.jacobian(f, a), x)
    assert second.dtype == np.float32
    reference = numeric_jacobian(lambda a: dd.jacobian(f, a), x.astype(np.float64))
    np.testing.assert_allclose(second, reference, rtol=1e-4, atol=1e-4)
