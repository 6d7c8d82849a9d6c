"""NumPy's non-ufunc functions on DualArrays (the ``__array_function__`` rules of functions.py).

Every rule is checked against a column-by-column numeric Jacobian of the same plain-NumPy function
(``reference.jacobian``), through ``dualdiff.jacobian`` (all ``n`` directions in one batched pass)
and ``dualdiff.jvp`` (one direction, checked against ``reference.directional``).
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


def packed(f, *shapes):
    """``g(x) = f(a, b, ...)`` with the arguments cut from one flat ``x`` (differentiates all)."""
    sizes = [int(np.prod(s)) for s in shapes]
    stops = np.cumsum(sizes)

    def g(x):
        return f(*(x[stop - n : stop].reshape(s) for n, s, stop in zip(sizes, shapes, stops)))

    return g, normal(int(stops[-1]), seed=sum(sizes))


X = normal(3, 4, seed=1)
Y = normal(2, 3, 4, seed=2)
S = separated(3, 4, seed=3)
XP = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 3.0])


def _put(a):
    b = np.zeros_like(a)
    np.put(b, [0, 3, 7], a[0, :3])
    np.put(b, [1, 20], a[2, 1] ** 2, mode="wrap")
    return b


# name -> (f, x); the name starts with the NumPy function's name (the coverage test reads it)
CASES = {
    # reductions
    "sum": (lambda a: np.sum(a, axis=1), X),
    "sum tuple keepdims": (lambda a: np.sum(a, axis=(0, 2), keepdims=True), Y),
    "sum initial": (lambda a: np.sum(a, initial=2.0), X),
    "prod": (lambda a: np.prod(a, axis=0), X),
    "prod all": (lambda a: np.prod(a), X),
    "prod tuple keepdims": (lambda a: np.prod(a, axis=(0, -1), keepdims=True), Y),
    "mean": (lambda a: np.mean(a, axis=-1, keepdims=True), X),
    "mean tuple": (lambda a: np.mean(a, axis=(0, 1)), Y),
    "var": (lambda a: np.var(a, axis=0, ddof=1), X),
    "var all": (lambda a: np.var(a), X),
    "std": (lambda a: np.std(a, axis=1), X),
    "std keepdims": (lambda a: np.std(a, axis=(1, 2), keepdims=True, ddof=1), Y),
    "cumsum": (lambda a: np.cumsum(a, axis=1), X),
    "cumsum flat": (lambda a: np.cumsum(a), X),
    "cumprod": (lambda a: np.cumprod(a, axis=0), X),
    "cumprod flat": (lambda a: np.cumprod(a), X),
    "diff": (lambda a: np.diff(a, n=2, axis=1), X),
    "diff prepend append": (lambda a: np.diff(a, axis=0, prepend=1.0, append=a[:1] ** 2), X),
    "gradient": (lambda a: np.gradient(a)[1], X),
    "gradient spacing": (lambda a: np.gradient(a, 0.5, axis=0), X),
    "gradient edge order 2": (lambda a: np.gradient(a, axis=1, edge_order=2), X),
    "trapezoid": (lambda a: np.trapezoid(a, axis=0), X),
    "trapezoid x": (lambda a: np.trapezoid(a, x=np.array([0.0, 1.0, 3.0]), axis=0), X),
    "trapezoid dual x": (lambda a: np.trapezoid(a[0] ** 2, x=np.cumsum(np.exp(a[1]))), X),
    # products
    "dot matrix": (lambda a: np.dot(a, a.T), X),
    "dot vector": (lambda a: np.dot(a[0], a[1]), X),
    "dot matrix vector": (lambda a: np.dot(a, a[0]), X),
    "dot nd": (lambda a: np.dot(a, a[0].T), Y),
    "dot scalar": (lambda a: np.dot(2.5, a), X),
    "vdot": (lambda a: np.vdot(a, 2 * a + 1), X),
    "vdot complex": (lambda a: np.vdot(a * (1 + 2j), a[::-1] * (0.5 - 1j)), X),
    "inner": (lambda a: np.inner(a, a[1:]), X),
    "outer": (lambda a: np.outer(a, a[0]), X),
    "matmul": (lambda a: np.matmul(a, a.T), X),
    "matmul broadcast": (lambda a: np.matmul(a, a[0].T), Y),
    "matmul vector left": (lambda a: a[0] @ a.T, X),
    "matmul vector right": (lambda a: a @ a[0], X),
    "tensordot": (lambda a: np.tensordot(a, a, axes=([0], [0])), X),
    "tensordot int": (lambda a: np.tensordot(a, a[0], axes=2), Y),
    "einsum": (lambda a: np.einsum("ij,kj->ik", a, a), X),
    "einsum full": (lambda a: np.einsum("ij,ij", a, a), X),
    "einsum trace": (lambda a: np.einsum("ii", a[:, :3]), X),
    "einsum ellipsis": (lambda a: np.einsum("...j,j->...", a, a[0, 0]), Y),
    "einsum three operands": (lambda a: np.einsum("ij,jk,k", a, a.T, np.ones(3)), X),
    "trace": (lambda a: np.trace(a, 1), X),
    "trace axes": (lambda a: np.trace(a, axis1=1, axis2=2), Y),
    "kron": (lambda a: np.kron(a[:2, :2], a[1:, 2:]), X),
    "kron mixed ndim": (lambda a: np.kron(a[0], np.arange(6.0).reshape(2, 3)), X),
    "cross": (lambda a: np.cross(a[:, :3], a[:, 1:]), X),
    "cross axis": (lambda a: np.cross(a, a[::-1] ** 2, axis=1), Y),
    # joining and splitting
    "concatenate": (lambda a: np.concatenate([a, np.ones((1, 4)), a[:1] * 2]), X),
    "concatenate axis none": (lambda a: np.concatenate([a, a.T], axis=None), X),
    "concatenate last": (lambda a: np.concatenate([np.ones((3, 1)), a], axis=-1), X),
    "stack": (lambda a: np.stack([a, np.ones((3, 4)), a**2], axis=-1), X),
    "stack duals": (lambda a: np.stack([a[0, 0], 1.0, a[1, 1]]), X),
    "hstack": (lambda a: np.hstack([a, a[:, :1]]), X),
    "hstack 1d": (lambda a: np.hstack([a[0], np.ones(2), a[1, 1]]), X),
    "vstack": (lambda a: np.vstack([a[0], a, np.zeros(4)]), X),
    "column_stack": (lambda a: np.column_stack([a[0], a[1], np.ones(4)]), X),
    "column_stack 2d": (lambda a: np.column_stack([a, np.ones(3)]), X),
    "split": (lambda a: np.split(a, 2, axis=1)[1], X),
    "split indices": (lambda a: np.split(a, [1], axis=0)[1], X),
    "array_split": (lambda a: np.array_split(a, 3, axis=1)[0], X),
    "array_split flat": (lambda a: np.array_split(a.ravel(), 5)[-1], X),
    # shape and layout
    "reshape": (lambda a: np.reshape(a, (2, -1)), X),
    "reshape F": (lambda a: np.reshape(a, (2, 6), order="F"), X),
    "ravel": (lambda a: np.ravel(a), Y),
    "ravel F": (lambda a: np.ravel(a, order="F"), X),
    "transpose": (lambda a: np.transpose(a), Y),
    "transpose axes": (lambda a: np.transpose(a, (2, 0, 1)), Y),
    "moveaxis": (lambda a: np.moveaxis(a, 0, -1), Y),
    "moveaxis several": (lambda a: np.moveaxis(a, [0, 1], [-1, 0]), Y),
    "swapaxes": (lambda a: np.swapaxes(a, 0, 2), Y),
    "expand_dims": (lambda a: np.expand_dims(a, (0, -1)), X),
    "expand_dims middle": (lambda a: np.expand_dims(a, 1), X),
    "squeeze": (lambda a: np.squeeze(a[:, None, :1]), X),
    "squeeze axis": (lambda a: np.squeeze(a[:, None, :], axis=1), X),
    "broadcast_to": (lambda a: np.broadcast_to(a, (2, 3, 4)), X),
    "broadcast_to row": (lambda a: np.broadcast_to(a[0], (3, 4)) * a, X),
    "broadcast_to column": (lambda a: np.broadcast_to(a[:, :1], (3, 4)), X),
    "atleast_1d": (lambda a: np.atleast_1d(a[0, 0]), X),
    "atleast_2d": (lambda a: np.atleast_2d(a[0]), X),
    "atleast_3d": (lambda a: np.atleast_3d(a), X),
    "atleast_3d 1d": (lambda a: np.atleast_3d(a[0]), X),
    "atleast_2d several": (lambda a: np.atleast_2d(a[0], a)[0], X),
    "flip": (lambda a: np.flip(a), X),
    "flip axis": (lambda a: np.flip(a, 1), Y),
    "flip axes": (lambda a: np.flip(a, (0, 2)), Y),
    "roll": (lambda a: np.roll(a, 2), X),
    "roll axis": (lambda a: np.roll(a, -1, axis=1), X),
    "roll axes": (lambda a: np.roll(a, (1, 2), axis=(0, 1)), X),
    "tile": (lambda a: np.tile(a, 2), X),
    "tile more dims": (lambda a: np.tile(a, (2, 1, 2)), X),
    "tile 1d": (lambda a: np.tile(a[0], (2, 2)), X),
    "repeat": (lambda a: np.repeat(a, 2), X),
    "repeat axis": (lambda a: np.repeat(a, [1, 0, 2], axis=0), X),
    "pad": (lambda a: np.pad(a, 1), X),
    "pad constant values": (lambda a: np.pad(a, (1, 2), constant_values=(1.0, 2.0)), X),
    "pad reflect": (lambda a: np.pad(a, ((1, 2), (0, 1)), mode="reflect"), X),
    "pad edge": (lambda a: np.pad(a, 2, mode="edge"), X),
    "pad wrap": (lambda a: np.pad(a, 2, mode="wrap"), X),
    "pad symmetric": (lambda a: np.pad(a, 2, mode="symmetric"), X),
    "pad linear_ramp": (lambda a: np.pad(a, 2, mode="linear_ramp", end_values=3.0), X),
    "pad mean": (lambda a: np.pad(a, 2, mode="mean"), X),
    "pad mean stat_length": (lambda a: np.pad(a, 1, mode="mean", stat_length=2), X),
    # selection
    "where": (lambda a: np.where(a > 0, a, a**2), X),
    "where broadcast": (lambda a: np.where(a[0] > 0, a, 1.0), X),
    "where broadcast dual": (lambda a: np.where(X > 0, a[0, 0], a[:, :1]), X),
    "select": (lambda a: np.select([a > 0.5, a < -0.5], [a, a**2], default=a * 3), X),
    "select constant choice": (lambda a: np.select([a > 0.5, a < -0.5], [a, 1.0]), X),
    "clip": (lambda a: np.clip(a, -0.5, 0.5), X),
    "clip dual bound": (lambda a: np.clip(a, a[0] ** 2 - 1.0, None), X),
    "take": (lambda a: np.take(a, [0, 5, 5, 11]), X),
    "take axis": (lambda a: np.take(a, [[0, 2], [1, 1]], axis=1), X),
    "take scalar index": (lambda a: np.take(a, 2, axis=1), X),
    "take_along_axis": (lambda a: np.take_along_axis(a, np.argsort(X, axis=0), axis=0), X),
    "take_along_axis none": (lambda a: np.take_along_axis(a, np.array([0, 3, 11]), None), X),
    "put": (_put, X),
    "sort": (lambda a: np.sort(a), S),
    "sort axis": (lambda a: np.sort(a, axis=0), S),
    "sort flat": (lambda a: np.sort(a, axis=None), S),
    "max": (lambda a: np.max(a), S),
    "max axis": (lambda a: np.max(a, axis=0), S),
    "max keepdims": (lambda a: np.max(a, axis=1, keepdims=True), S),
    "max tuple": (lambda a: np.max(a, axis=(0, 1)), S),
    "max initial": (lambda a: np.max(a, axis=0, initial=0.2), S),
    "min": (lambda a: np.min(a, axis=-1), S),
    "amax": (lambda a: np.amax(a, axis=-1), S),
    "amin": (lambda a: np.amin(a, axis=0, keepdims=True), S),
    "ptp": (lambda a: np.ptp(a, axis=0), S),
    "ptp all": (lambda a: np.ptp(a), S),
    # values only: indices from the values, used to pick differentiable entries
    "argmax": (lambda a: a.ravel()[np.argmax(a)] * np.argmax(a, axis=0), S),
    "argsort": (lambda a: a.ravel()[np.argsort(a, axis=None)], S),
    "nonzero": (lambda a: a[np.nonzero(a > 0)], S),
    # polynomials and interpolation
    "polyval": (lambda a: np.polyval([1.0, -2.0, 3.0, 0.5], a), X),
    "polyval coefficients": (lambda a: np.polyval(a[0], a[1:]), X),
    "polyval scalar point": (lambda a: np.polyval(a[0], 0.7), X),
    "interp": (lambda a: np.interp(a, XP, np.sin(XP)), X),
    "interp left right": (lambda a: np.interp(3 * a, XP, np.sin(XP), left=-5.0, right=7.0), X),
    "interp fp": (lambda a: np.interp(np.linspace(-4, 4, 7), np.linspace(-2, 2, 4), a[0]), X),
    # construction
    "zeros_like": (lambda a: np.zeros_like(a) + a, X),
    "ones_like": (lambda a: np.ones_like(a) * a, X),
    "empty_like": (lambda a: np.empty_like(a, shape=(2, 4)) * 0.0 + a[1:], X),
    "full_like": (lambda a: np.full_like(a, 3.0) * a, X),
    "full_like dual fill": (lambda a: np.full_like(a, a[0, 0]) * a, X),
    "copy": (lambda a: np.copy(a) * 2, X),
    "zeros like=": (lambda a: np.zeros((2, 3, 4), like=a) + a, X),
    "ones like=": (lambda a: np.ones(4, like=a) * a, X),
    "full like=": (lambda a: np.full(4, 2.0, like=a) * a, X),
    "empty like=": (lambda a: np.empty(4, like=a) * 0.0 + a, X),
}

# the functions the project's issue lists; each needs at least one case above
REQUIRED = """sum prod mean var std cumsum cumprod diff gradient trapezoid dot vdot inner
outer matmul tensordot einsum trace kron cross concatenate stack hstack vstack column_stack split
array_split reshape ravel transpose moveaxis swapaxes expand_dims squeeze broadcast_to
atleast_1d atleast_2d atleast_3d flip roll tile repeat pad where select clip take
take_along_axis put sort max min amax amin ptp argmax argsort nonzero polyval interp
zeros_like ones_like empty_like full_like copy zeros""".split()


def test_every_required_function_has_a_case():
    covered = {name.split()[0] for name in CASES}
    assert set(REQUIRED) <= covered, sorted(set(REQUIRED) - covered)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_matches_numeric_jacobian(name):
    f, x = CASES[name]
    check(f, x)


# -- products and elementwise combinations with respect to every argument, with broadcasting --

PAIRS = {
    "matmul batch broadcast": (np.matmul, (2, 1, 3, 2), (4, 2, 3)),
    "matmul vector @ stack": (np.matmul, (3,), (2, 3, 2)),
    "matmul stack @ vector": (np.matmul, (2, 4, 3), (3,)),
    "dot": (np.dot, (2, 3), (4, 3, 2)),
    "inner": (np.inner, (2, 3), (4, 3)),
    "outer": (np.outer, (2, 2), (3,)),
    "vdot": (np.vdot, (2, 3), (3, 2)),
    "tensordot": (lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 2])), (3, 2), (2, 2, 3)),
    "einsum broadcast": (lambda a, b: np.einsum("...ij,jk->...ik", a, b), (2, 2, 3), (3, 2)),
    "kron": (np.kron, (2, 1, 2), (3, 2)),
    "cross": (np.cross, (2, 3), (3,)),
    "where": (lambda a, b: np.where(b > 0, a, b), (3, 1), (4,)),
    "clip": (lambda a, b: np.clip(a, b - 0.5, b + 0.5), (3, 4), (4,)),
    "concatenate": (lambda a, b: np.concatenate([a, b], axis=1), (3, 1), (3, 2)),
    "stack": (lambda a, b: np.stack([a, b], axis=1), (3, 2), (3, 2)),
    "polyval": (np.polyval, (4,), (2, 3)),
    "trapezoid": (lambda y, x: np.trapezoid(y, x=np.cumsum(np.exp(x))), (2, 5), (5,)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_two_argument_rules_in_both_arguments(name):
    f, shape_a, shape_b = PAIRS[name]
    g, x = packed(f, shape_a, shape_b)
    check(g, x)


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("shapes", [((3, 2), (3, 2)), ((4, 2), (4, 3)), ((3,), (2, 2))])
def test_cross_with_two_component_vectors(shapes):
    g, x = packed(np.cross, *shapes)
    check(g, x)


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
        (lambda x: np.histogram(x), "numpy.histogram"),
        (lambda x: np.linalg.eig(x.reshape(3, 4)[:, :3]), "numpy.linalg.eig"),
        (lambda x: np.fft.fft(x), "numpy.fft.fft"),
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
        np.sum(x, where=X > 0)
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
