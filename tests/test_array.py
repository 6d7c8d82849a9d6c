"""DualArray: construction, ndarray behaviour, indexing and assignment, operators with every
operand kind, ufuncs (every rule of the table, reduce/accumulate/outer, ``out=``), nesting of
tags, and batched tangents. Derivatives are checked against numeric differences
(``reference``); layout operations, being linear, against the same operation on the tangent."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst
from reference import assert_close, directional
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff import Dual, DualArray
from dualdiff.arrays.dualarray import DERIVED_FUNCTIONS, HANDLED_FUNCTIONS
from dualdiff.rules.elementwise import RULES, UFUNC_RULES

RTOL = 1e-7


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def check(f, x, rtol=RTOL):
    """``f``'s Jacobian (k = n directions) and a JVP (k = 1) against numeric differences."""
    expected = numeric_jacobian(f, x)
    assert_close(dd.jacobian(f, x), expected, rtol)
    v = normal(*np.shape(x), seed=7)
    value, tangent = dd.jvp(f, x, v)
    assert_close(value, f(np.array(x, dtype=float)), 1e-12, 1e-14)
    assert_close(tangent, directional(f, x, v), rtol)


X = normal(3, 4, seed=1)
T = normal(3, 3, 4, seed=2)  # three tangent directions for X


def batched(value=X, tangent=T):
    return DualArray(value, tangent, batched=True)


def assert_layout(op, x=None, tangent=None):
    """A linear operation acts on each tangent direction as on the value."""
    value = X if x is None else x
    tangent = T if tangent is None else tangent
    out = op(DualArray(value, tangent, batched=True))
    expected = op(value)
    if type(expected) is not np.ndarray:  # NumPy gave a scalar (a 0-d array stays an array)
        assert type(out) is Dual
        np.testing.assert_array_equal(out.value, expected)
        np.testing.assert_array_equal(out.tangent, [op(t) for t in tangent])
        return
    assert type(out) is DualArray and out.batched
    np.testing.assert_array_equal(out.value, expected)
    np.testing.assert_array_equal(out.tangent, np.stack([op(t) for t in tangent]))
    single = op(DualArray(value, tangent[1]))
    np.testing.assert_array_equal(single.tangent, op(tangent[1]))


# -- construction and attributes -------------------------------------------------------------


def test_construction_real_complex_and_promoted_integers():
    x = DualArray([1, 2, 3])
    assert x.dtype == np.float64 and x.value.tolist() == [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(x.tangent, np.zeros(3))
    y = DualArray([1, 2], [True, False])
    assert y.tangent.dtype.kind == "f" and y.tangent.tolist() == [1.0, 0.0]
    z = DualArray([1j, 2.0], [1.0, 0.5j])
    assert z.dtype.kind == "c" and z.tangent[1] == 0.5j
    w = DualArray(np.arange(6).reshape(2, 3), np.ones((4, 2, 3)), batched=True)
    assert w.shape == (2, 3) and w.directions == 4 and w.tangent.shape == (4, 2, 3)
    assert DualArray(3.0, 1.0).shape == ()


@pytest.mark.parametrize(
    "args, kwargs, error",
    [
        ((["a", "b"],), {}, TypeError),
        (([1.0, 2.0], [1.0, 2.0, 3.0]), {}, ValueError),
        (([1.0, 2.0], [1.0, 2.0]), {"batched": True}, ValueError),
        (([1.0, 2.0],), {"batched": True}, ValueError),
        (([1.0, 2.0],), {"tag": 1.5}, TypeError),
        ((Dual(1.0, 1.0),), {}, TypeError),
    ],
)
def test_construction_errors(args, kwargs, error):
    with pytest.raises(error):
        DualArray(*args, **kwargs)


def test_ndarray_attributes_len_and_iteration():
    x = DualArray(X, T[0])
    assert (x.shape, x.ndim, x.size, x.dtype, len(x)) == ((3, 4), 2, 12, np.float64, 3)
    rows = list(x)
    assert len(rows) == 3 and all(type(r) is DualArray for r in rows)
    np.testing.assert_array_equal(rows[2].tangent, T[0][2])
    items = list(rows[1])
    assert all(type(i) is Dual for i in items)
    assert [i.value for i in items] == X[1].tolist()
    assert [i.tangent for i in items] == T[0][1].tolist()
    zero_d = DualArray(2.0, 1.0)
    with pytest.raises(TypeError):
        len(zero_d)
    with pytest.raises(TypeError):
        iter(zero_d).__next__()


def test_repr_shows_value_and_tangent():
    text = repr(DualArray([1.0, 2.0], [3.0, 4.0]))
    assert text.startswith("DualArray(") and "tangent=" in text and "3." in text


# -- indexing ---------------------------------------------------------------------------------

V4 = normal(2, 3, 4, 5, seed=3)
T4 = normal(3, 2, 3, 4, 5, seed=4)
MASK = V4 > 0

INDICES = [
    (1,),
    (1, 2, 3, 4),
    (-1, -2),
    (slice(None), 1),
    (slice(1, None, 2), Ellipsis, slice(None, None, -2)),
    (Ellipsis, 1),
    (None, 0, Ellipsis, None),
    (np.int64(1), [0, 2]),
    ([0, 1], slice(None), [1, 2]),  # advanced indices separated by a slice: they go first
    (slice(None), [0, 1], slice(None), [1, 2]),
    (Ellipsis, [0, 1], slice(None), [1, 2]),
    (slice(None), [0, 1], [1, 2]),
    (None, [0, 1], slice(None), [1, 2]),
    ([1, 0], 1, slice(None), [0, 3]),
    ([[0], [1]], [0, 1, 2]),
    (np.array([0, 1]), Ellipsis, np.array([[1], [2]])),
    (MASK,),
    (MASK[..., 0],),
    (1, MASK[1]),
    (slice(None), MASK[0]),
    (MASK[:, :, 0, 0], slice(1, 3)),
    (True,),
    ([1],),
]


@pytest.mark.parametrize("index", INDICES, ids=range(len(INDICES)))
def test_indexing_acts_on_value_and_every_tangent(index):
    assert_layout(lambda a: a[index], V4, T4)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_basic_and_integer_array_indices(data):
    shape = (2, 3, 4, 5)
    basic = data.draw(npst.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    assert_layout(lambda a: a[basic], V4, T4)
    fancy = data.draw(npst.integer_array_indices(shape, result_shape=npst.array_shapes(max_dims=2)))
    assert_layout(lambda a: a[fancy], V4, T4)


def test_indexing_to_one_element_gives_a_dual():
    x = DualArray(X, T[0])
    d = x[1, 2]
    assert type(d) is Dual and d.value == X[1, 2] and d.tangent == T[0][1, 2]
    assert type(x[1][2]) is Dual and type(x[(1, -1)]) is Dual
    b = batched()[2, 3]
    assert type(b) is Dual
    np.testing.assert_array_equal(b.tangent, T[:, 2, 3])
    assert type(DualArray(2.0, 1.0)[()]) is Dual


def test_bad_indices_raise():
    x = DualArray(X)
    with pytest.raises(IndexError):
        x[1.0]
    with pytest.raises(IndexError):
        x[np.array([0.0, 1.0])]
    with pytest.raises(TypeError, match="indexed by a dual"):
        x[Dual(1.0, 1.0)]
    with pytest.raises(IndexError):
        x[3]


# -- item assignment and in-place operators ---------------------------------------------------


def _assign(index, rhs, start=lambda a: a * 1.0):
    def f(a):
        b = start(a)
        b[index] = rhs(a)
        return b

    return f


ASSIGNMENTS = {
    "row from dual row": _assign(0, lambda a: a[1] * 2.0),
    "element from Dual": _assign((1, 2), lambda a: a[0, 0] * a[1, 1], np.zeros_like),
    "plain number": _assign((Ellipsis, 1), lambda a: 3.0),
    "plain array": _assign(slice(None, 2), lambda a: np.arange(4.0)),
    "broadcast column": _assign((slice(None), slice(1, 3)), lambda a: a[:, :1] ** 2),
    "boolean mask": _assign(X > 0, lambda a: a[X > 0] * 3.0),
    "boolean mask scalar": _assign(X > 0, lambda a: a[0, 0]),
    "advanced": _assign(([0, 2], [1, 3]), lambda a: a[1, :2]),
    "advanced separated": _assign(
        (slice(None), [0, 1], slice(None), [1, 2]),
        lambda a: a[:2, :2, None],
        lambda a: np.zeros((2, 3, 4, 5), like=a),
    ),
    "ellipsis advanced": _assign(
        (Ellipsis, [0, 1], slice(None), [1, 2]),
        lambda a: a[:2, None, :],
        lambda a: np.zeros((2, 3, 4, 5), like=a),
    ),
    "newaxis": _assign((None, 0, Ellipsis, slice(1, 3)), lambda a: a[1, 1:3]),
    "into plain zeros": _assign(1, lambda a: np.sin(a[2]), lambda a: np.zeros((3, 4), like=a)),
}


@pytest.mark.parametrize("name", sorted(ASSIGNMENTS))
def test_item_assignment(name):
    check(ASSIGNMENTS[name], X)


def _views(a):
    b = a * 1.0
    b[1][2] = a[0, 0] ** 2  # through a row view
    v = b[:, 1:3]
    v *= a[2, 3]  # in place through a slice view
    b.T[0] = a[:, 0] * 5.0  # through a transposed view
    w = b.reshape(-1)
    w[-1] = np.cos(a[1, 1])
    return b


def _inplace(a):
    b = a * 1.0
    b[b > 0] *= 2.0
    b += a[0]
    b -= np.ones(4)
    b[:, 1] /= a[:, 0] + 3.0
    b **= 2
    c = b[:2, :2] * 1.0
    c @= a[1:3, 1:3]
    b[0, :2] = c[0]
    return b


def _duplicate_advanced(a):
    b = a * 1.0
    b[[0, 0], [1, 1]] += 1.0  # NumPy semantics: the repeated entry is written once
    return b


@pytest.mark.parametrize("f", [_views, _inplace, _duplicate_advanced])
def test_views_and_in_place_operators(f):
    check(f, X)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_assignment_acts_on_value_and_every_tangent_as_numpy_does(data):
    shape = V4.shape[1:]
    index = data.draw(
        st.one_of(
            npst.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True),
            npst.integer_array_indices(shape, result_shape=npst.array_shapes(max_dims=2)),
            npst.arrays(bool, shape).map(lambda mask: (mask,)),
        )
    )
    value, tangent = V4[0], T4[:, 0]
    target = value[index].shape
    cut = data.draw(st.integers(0, len(target)))  # an item broadcasting to the target
    item_shape = tuple(1 if data.draw(st.booleans()) else n for n in target[cut:])
    item = DualArray(normal(*item_shape, seed=1), normal(3, *item_shape, seed=2), batched=True)
    x = DualArray(value.copy(), tangent.copy(), batched=True)
    x[index] = item if item.ndim else item[()]
    y = DualArray(value.copy(), tangent.copy(), batched=True)
    y[index] *= 2.0
    expected, twice = value.copy(), value.copy()
    expected[index] = item.value
    twice[index] *= 2.0
    np.testing.assert_array_equal(x.value, expected)
    np.testing.assert_array_equal(y.value, twice)
    for j in range(3):
        expected, twice = tangent[j].copy(), tangent[j].copy()
        expected[index] = item.tangent[j]
        twice[index] *= 2.0
        np.testing.assert_array_equal(x.tangent[j], expected)
        np.testing.assert_array_equal(y.tangent[j], twice)


def test_assigning_dual_into_plain_array_raises():
    def f(a):
        b = np.zeros(4)
        b[0] = a[0]
        return b

    with pytest.raises(TypeError, match="zeros_like"):
        dd.jacobian(f, np.ones(3))


def test_assigning_more_directions_than_the_array_has_raises():
    x = DualArray(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="tangent directions"):
        x[0] = batched()[0, 0]


def test_result_of_an_operation_does_not_share_its_inputs_tangent():
    # y = x + c has the tangent of x: writing into either must leave the other's derivative alone
    def f(a):
        x = a * 1.0
        ys = [x + 1.0, x - 0.0, 2.0 + x, +x, np.positive(x), np.conj(x)]
        for y in ys:
            y[0] = 0.0
            y *= 3.0
        x[1] = 7.0
        return np.concatenate([x] + ys)

    check(f, np.array([1.0, 2.0, 3.0]))


def test_results_do_not_alias_plain_operands():
    def f(a):
        m = np.arange(12.0).reshape(4, 3)
        c = np.linspace(0.0, 1.0, 3)
        outs = [m @ a, np.dot(m, a), a * c, a + c, np.where(c > 0.5, a, c), np.maximum(a, c)]
        m[...] = 0.0  # the constants change after use
        c[...] = 9.0
        return np.concatenate(outs)

    check(f, np.array([0.3, -0.2, 0.8]))


def test_writing_through_a_view_of_an_array_with_a_broadcast_tangent():
    # x + zeros((2, 3)) has a lazily broadcast tangent: views must still write through to it
    def f(a):
        b = a + np.zeros((2, 3))
        row = b[0]
        row[1] = a[0] * 5.0
        b.T[2] = a[1] ** 2
        c = a - np.zeros((2, 3))
        c.reshape(-1)[0] = a[2] * 3.0
        return b + c

    check(f, np.array([1.0, 2.0, 3.0]))


def test_division_by_a_python_zero_follows_numpy():
    x = DualArray([1.0, -2.0], [1.0, 3.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for zero in (0.0, 0):
            out = x / zero
            np.testing.assert_array_equal(out.value, np.divide([1.0, -2.0], 0.0))
            np.testing.assert_array_equal(out.tangent, np.divide([1.0, 3.0], 0.0))
        out = np.mean(DualArray(np.zeros((0, 2))), axis=0)
        assert np.isnan(out.value).all() and out.tangent.shape == (2,)


# -- ndarray methods --------------------------------------------------------------------------

LAYOUT_METHODS = {
    "T": lambda a: a.T,
    "reshape args": lambda a: a.reshape(2, 6),
    "reshape tuple F": lambda a: a.reshape((6, 2), order="F"),
    "ravel": lambda a: a.ravel(),
    "ravel F": lambda a: a.ravel("F"),
    "flatten": lambda a: a.flatten(),
    "flatten F": lambda a: a.flatten("F"),
    "transpose": lambda a: a.transpose(),
    "transpose args": lambda a: a[None].transpose(2, 0, 1),
    "transpose tuple": lambda a: a[None].transpose((1, 2, 0)),
    "swapaxes": lambda a: a[None].swapaxes(0, -1),
    "squeeze": lambda a: a[None, :, None, :1].squeeze(),
    "squeeze axis": lambda a: a[None].squeeze(0),
    "copy": lambda a: a.copy(),
    "astype float": lambda a: a.astype(float),
    "astype complex": lambda a: a.astype(complex),
    "real": lambda a: (a * (1 + 2j)).real,
    "imag": lambda a: (a * (1 + 2j)).imag,
    "conj": lambda a: (a * (1 + 2j)).conj(),
    "trace": lambda a: a.trace(1),
    "sum": lambda a: a.sum(),
    "sum axis": lambda a: a.sum(axis=0),
    "sum keepdims": lambda a: a.sum(axis=1, keepdims=True),
    "mean": lambda a: a.mean(axis=(0, 1), keepdims=True),
    "cumsum": lambda a: a.cumsum(axis=1),
    "cumsum flat": lambda a: a.cumsum(),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_METHODS))
def test_linear_methods_act_on_every_direction(name):
    op = LAYOUT_METHODS[name]
    out = op(DualArray(X, T, batched=True))
    expected = op(X)
    np.testing.assert_allclose(out.value, expected, rtol=1e-15)
    np.testing.assert_allclose(out.tangent, np.stack([op(t) for t in T]), rtol=1e-14)


def test_copy_and_flatten_are_independent_and_astype_refuses_integers():
    x = DualArray(X.copy(), T[0].copy())
    for make in (lambda: x.copy(), lambda: x.flatten(), lambda: x.astype(float)):
        y = make()
        y[0] = Dual(99.0, 99.0) if y.ndim == 1 else np.full(4, 99.0)
        np.testing.assert_array_equal(x.value, X)
        np.testing.assert_array_equal(x.tangent, T[0])
    assert x.astype(np.float32).tangent.dtype == np.float32
    for dtype in (int, bool):
        with pytest.raises(TypeError, match="drop the tangent"):
            x.astype(dtype)


@pytest.mark.parametrize("method", ["sum", "mean", "prod", "min", "max", "std", "var"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_methods_with_axis_and_keepdims(method, axis, keepdims):
    check(lambda a: getattr(a, method)(axis=axis, keepdims=keepdims), X)


@pytest.mark.parametrize(
    "f",
    [
        lambda a: a.cumprod(axis=0),
        lambda a: a.cumprod(),
        lambda a: a.std(axis=0, ddof=1),
        lambda a: a.var(ddof=1),
        lambda a: a.dot(a.T),
        lambda a: a[0].dot(a[1]),
        lambda a: a.dot(np.ones(4)),
        lambda a: a @ a.T,
        lambda a: a @ np.ones((4, 2)),
        lambda a: np.ones((2, 3)) @ a,
        lambda a: np.ones(3) @ a,
        lambda a: [1.0, 2.0, 3.0] @ a,
        lambda a: a[0] @ a[1],
        lambda a: a.reshape(3, 2, 2) @ a.reshape(3, 2, 2).mT,
        lambda a: a.clip(-0.3, 0.3),
        lambda a: np.stack(a.tolist()[1]),
    ],
)
def test_other_methods(f):
    check(f, X)


def test_comparisons_give_plain_boolean_arrays():
    x = DualArray(X, T[0])
    others = [
        X[::-1],
        0.5,
        np.float64(-0.1),
        Dual(0.2, 1.0),
        DualArray(X.T.ravel()[:12].reshape(3, 4)),
    ]
    for other in others:
        plain = other.value if isinstance(other, (Dual, DualArray)) else other
        for op in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
            for got, expected in ((op(x, other), op(X, plain)), (op(other, x), op(plain, X))):
                assert type(got) is np.ndarray and got.dtype == bool
                np.testing.assert_array_equal(got, expected)


def test_conversions_that_drop_the_tangent_raise():
    x = DualArray([1.5], [1.0])
    for convert in (float, int, complex, lambda a: [0, 1][a]):
        with pytest.raises(TypeError, match="x.value|integers"):
            convert(x)
    for convert in (np.asarray, np.array):  # object arrays of Duals, unless strict
        with dd.strict_arrays(), pytest.raises(TypeError, match="x.value|integers"):
            convert(x)
    with pytest.raises(TypeError):
        hash(x)


# -- operators with every operand kind, in both orders ----------------------------------------

OPERANDS = {
    "DualArray": DualArray([1.3, 2.7, 0.65], [0.3, -1.2, 0.8]),
    "batched": DualArray([1.1, 0.45, 1.9], [[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]], batched=True),
    "Dual": Dual(1.7, 0.4),
    "ndarray": np.array([0.9, 1.45, 2.2]),
    "float": 1.25,
    "int": 3,
    "numpy float": np.float64(0.8),
    "numpy int": np.int64(2),
    "complex": 0.5 + 1.0j,
    "list": [1.15, 0.6, 2.5],
}
OPERATORS = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.pow,
    operator.floordiv,
    operator.mod,
]


def _parts(a):
    """(value, tangent directions) of an operand; a plain operand has no tangent."""
    if type(a) is DualArray:
        return a.value, (a.tangent if a.batched else a.tangent[None])
    if type(a) is Dual:
        return a.value, np.array([a.tangent])
    return np.asarray(a), None


def _mixes():
    """(op, left, right) for every pair that makes a DualArray computation."""
    for left, a in OPERANDS.items():
        for right, b in OPERANDS.items():
            kinds = {type(a), type(b)}
            if DualArray not in kinds and not (Dual in kinds and np.ndarray in kinds):
                continue  # no array (Python semantics), or no dual at all
            if {left, right} == {"DualArray", "batched"} or left == right == "batched":
                continue  # different numbers of tangent directions
            for op in OPERATORS:
                if not (op in (operator.floordiv, operator.mod) and "complex" in (left, right)):
                    yield pytest.param(op, left, right, id=f"{left} {op.__name__} {right}")


@pytest.mark.parametrize("op, left, right", list(_mixes()))
def test_operators_mix_every_operand_kind(op, left, right):
    a, b = OPERANDS[left], OPERANDS[right]
    result = op(a, b)
    assert isinstance(result, DualArray)
    (va, ta), (vb, tb) = _parts(a), _parts(b)
    k = max(len(t) for t in (ta, tb) if t is not None)
    assert result.directions == k
    np.testing.assert_allclose(result.value, op(va, vb), rtol=1e-14)
    tangent = result.tangent if result.batched else result.tangent[None]
    for j in range(k):
        ja = 0.0 if ta is None else ta[min(j, len(ta) - 1)]
        jb = 0.0 if tb is None else tb[min(j, len(tb) - 1)]
        expected = directional(lambda s: op(va + s * ja, vb + s * jb), 0.0, 1.0)
        assert_close(tangent[j], expected, 1e-7)


def test_operators_with_matrices_in_both_orders():
    m = normal(3, 3, seed=5)
    check(lambda a: a @ m - m @ a + m * a / (m**2 + 1.0) + (a + m) ** 2 - 2.0**a, normal(3, 3))


def test_negation_abs_and_divmod():
    check(lambda a: -a + abs(a) + divmod(a, 0.7)[1] + divmod(5.0, a + 4.0)[1], X)


# -- ufuncs: every rule of the table on arrays, with broadcasting -------------------------------

# points away from the jumps of piecewise-constant functions, inside each rule's domain
ZERO_RULES = sorted(name for name, rule in RULES.items() if rule.zero)


def _points(interval, shape, seed):
    lo, hi = interval
    return lo + (hi - lo) * np.random.default_rng(seed).uniform(0.05, 0.95, shape)


def _callable(rule):
    return rule.ufunc if rule.ufunc is not None else rule.function


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.nin == 1 and not r.zero))
def test_unary_rules_on_arrays(name):
    rule = RULES[name]
    fn = _callable(rule)
    x = _points(rule.domain[0], (2, 3), seed=len(name))
    check(fn, x)
    batch = DualArray(x, normal(4, 2, 3, seed=1), batched=True)
    out = fn(batch)
    for j in range(4):
        assert_close(out.tangent[j], directional(rule.array, x, batch.tangent[j]), RTOL)
    if rule.complex:  # the same rule along a complex ray
        check(lambda a: fn(a * (1.0 + 0.2j)), x)


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.nin == 2 and not r.zero))
def test_binary_rules_on_arrays_with_broadcasting(name):
    rule = RULES[name]
    fn = _callable(rule)
    x = _points(rule.domain[0], (3, 1), seed=1)
    y = _points(rule.domain[1], (4,), seed=2)
    if name in ("remainder", "fmod"):  # keep x / y away from integers
        x = _points((0.2, 0.8), (3, 1), 3) + np.array([[-2.0], [0.0], [1.0]])
        x = x * y[0]
        y = np.full(4, y[0]) * np.array([1.0, 1.01, 0.99, 1.02])
    if name == "ldexp":  # an integer exponent: differentiate in x only
        check(lambda a: fn(a, np.array([-2, 0, 1, 3])), x)
        return
    check(lambda a: fn(a, y), x)  # broadcasting (3, 1) against (4,)
    check(lambda b: fn(x, b), y)
    n = x.size

    def both(z):
        return fn(z[:n].reshape(3, 1), z[n:])

    check(both, np.concatenate([x.ravel(), y]))
    check(lambda a: fn(a, float(y[0])), x)  # a Python scalar on either side
    check(lambda b: fn(float(x[0, 0]), b), y)
    z = np.concatenate([x.ravel(), y])
    check(lambda a: fn(a[1], a[n:]), z)  # a Dual with a DualArray of the same tag
    check(lambda a: fn(a[:n].reshape(3, 1), a[-1]), z)
    if rule.complex:
        check(lambda a: fn(a * (1.0 + 0.1j), y), x)


@pytest.mark.parametrize("name", ZERO_RULES)
def test_piecewise_constant_rules_have_zero_tangent(name):
    rule = RULES[name]
    x = DualArray(np.array([[-2.3, -0.6, 0.4], [1.7, 2.2, 0.0]]), normal(2, 3, seed=6))
    args = (x,) if rule.nin == 1 else (x, np.array([0.7, 1.3, 0.9]))
    out = _callable(rule)(*args)
    np.testing.assert_array_equal(
        out.value, rule.array(*(np.asarray(a.value) if a is x else a for a in args))
    )
    np.testing.assert_array_equal(out.tangent, np.zeros((2, 3)))


def test_every_ufunc_rule_is_reachable_through_numpy():
    for ufunc, rule in UFUNC_RULES.items():
        x = DualArray(_points(rule.domain[0], (2, 2), 4), np.ones((2, 2)))
        if ufunc.nin == 1:
            args = (x,)
        else:
            args = (x, np.array([2, 1]) if ufunc is np.ldexp else _points(rule.domain[1], (2,), 5))
        out = ufunc(*args)
        assert type(out) is DualArray, ufunc.__name__
        expected = rule.function(*args)
        np.testing.assert_array_equal(out.value, expected.value)
        np.testing.assert_array_equal(out.tangent, expected.tangent)


def test_value_ufuncs_give_plain_results():
    x = DualArray([1.0, np.inf, -2.0], [1.0, 1.0, 1.0])
    for ufunc, expected in ((np.isfinite, [True, False, True]), (np.signbit, [False, False, True])):
        got = ufunc(x)
        assert type(got) is np.ndarray and got.tolist() == expected
    assert np.greater(x, 0.0).tolist() == [True, True, False]
    assert np.logical_and(x > 0, True).tolist() == [True, True, False]


def test_multiple_output_ufuncs():
    x = np.array([[0.1, 1.45, -2.2], [3.3, -0.7, 0.6]])  # 3x and x/0.25 away from integers
    check(lambda a: np.modf(3.0 * a)[0] + np.divmod(a, 0.25)[1] + np.divmod(a, 0.25)[0], x)
    mantissa, exponent = np.frexp(DualArray(4.0 * X, T[0]))
    expected_mantissa, expected_exponent = np.frexp(4.0 * X)
    np.testing.assert_array_equal(mantissa.value, expected_mantissa)
    np.testing.assert_array_equal(exponent, expected_exponent)
    np.testing.assert_allclose(mantissa.tangent, T[0] / 2.0**expected_exponent, rtol=1e-15)


def test_ufunc_out_argument():
    def f(a):
        out = np.zeros_like(a)
        result = np.sin(a, out=out)
        assert result is out
        second = np.zeros((4,), like=a)
        np.multiply(a[0], a[1], out=(second,))
        whole, frac = np.zeros_like(a), np.zeros_like(a)
        np.modf(2.0 * a, out=(frac, whole))
        np.exp(out, out=out)  # out aliasing the input
        return out * second + frac

    check(f, X)


def test_ufunc_plain_out_with_dual_input_raises():
    x = DualArray(X)
    with pytest.raises(TypeError, match="zeros_like"):
        np.sin(x, out=np.empty((3, 4)))
    with pytest.raises(TypeError, match="zeros_like"):
        np.add.reduce(x, axis=0, out=np.empty(4))
    out = np.empty(4)
    np.isnan(x[0], out=np.empty(4, bool))  # a plain result may go to a plain out
    np.add(X[0], 1.0, out=out)


@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.maximum, np.minimum])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_ufunc_reduce_and_accumulate(ufunc, axis):
    x = normal(3, 4, seed=8) + 0.1
    check(lambda a: ufunc.reduce(a, axis=axis), x)
    check(lambda a: ufunc.reduce(a, axis=axis, keepdims=True), x)
    check(lambda a: ufunc.accumulate(a, axis=axis), x)


def test_ufunc_reduce_defaults_and_all_axes():
    x = normal(3, 4, seed=9)
    check(lambda a: np.add.reduce(a), x)
    check(lambda a: np.add.reduce(a, axis=None), x)
    check(lambda a: np.multiply.reduce(a, axis=(0, 1)), x)
    check(lambda a: np.maximum.reduce(a, axis=None), x)
    check(lambda a: np.add.accumulate(a), x)


def test_running_extremes_share_ties_evenly():
    x = np.array([1.0, 3.0, 3.0, 2.0, 4.0])
    expected = np.array(
        [
            [1, 0, 0, 0, 0],
            [0, 1, 0, 0, 0],
            [0, 0.5, 0.5, 0, 0],
            [0, 0.5, 0.5, 0, 0],
            [0, 0, 0, 0, 1],
        ]
    )
    np.testing.assert_array_equal(dd.jacobian(np.maximum.accumulate, x), expected)
    np.testing.assert_array_equal(dd.jacobian(np.minimum.accumulate, -x), expected)
    np.testing.assert_array_equal(dd.jacobian(np.maximum.reduce, x), [0, 0, 0, 0, 1.0])


@pytest.mark.parametrize(
    "ufunc", [np.add, np.subtract, np.multiply, np.divide, np.power, np.arctan2, np.maximum]
)
def test_ufunc_outer(ufunc):
    x = normal(3, 4, seed=10)
    check(lambda a: ufunc.outer(a[0] ** 2 + 0.5, a[1:]), x, 1e-6)
    check(lambda a: ufunc.outer(a[:, 0] ** 2 + 0.5, 1.5 + a[0, :2] ** 2), x, 1e-6)
    check(lambda a: ufunc.outer(np.arange(1.0, 4.0), a), normal(2, seed=11) ** 2 + 0.5, 1e-6)


def test_unsupported_ufunc_uses_raise():
    x = DualArray(X)
    with pytest.raises(TypeError, match=r"where=...\) without out="):
        np.sin(x, where=X > 0)
    with pytest.raises(TypeError, match="numpy.nextafter"):
        np.nextafter(x, 1.0)
    with pytest.raises(TypeError, match="numpy.subtract.reduceat"):
        np.subtract.reduceat(x, [0, 2])

    with pytest.raises(TypeError, match="numpy.arctan2.reduce"):
        np.arctan2.reduce(x)


# -- nesting: duals of different tags inside DualArrays ---------------------------------------


def test_derivative_of_a_jacobian():
    x0 = np.array([0.5, -1.2, 2.0])
    got = dd.derivative(lambda t: dd.jacobian(lambda x: np.sin(t * x), x0), 0.3)
    expected = directional(lambda t: numeric_jacobian(lambda x: np.sin(t * x), x0), 0.3, 1.0)
    assert_close(got, expected, 1e-6)


def test_jacobian_of_a_jacobian():
    def f(x):
        return np.sum(np.sin(x) * x[::-1]) + np.prod(x[:2]) * np.max(x)

    x0 = np.array([0.4, -1.1, 1.7])
    hessian = dd.jacobian(lambda x: dd.jacobian(f, x), x0)
    assert_close(hessian, numeric_jacobian(lambda x: numeric_jacobian(f, x), x0), 1e-5)


def test_derivative_through_matrix_functions_of_a_jacobian():
    x0 = np.array([0.5, -0.7, 1.1])

    def g(t, x):
        return np.sort(np.cumprod(x * t))[::-1] + np.outer(x, np.exp(t * x)) @ x

    got = dd.derivative(lambda t: dd.jacobian(lambda x: g(t, x), x0), 0.4)
    expected = directional(lambda t: numeric_jacobian(lambda x: g(t, x), x0), 0.4, 1.0)
    assert_close(got, expected, 1e-6)


def _mixed_partial(g, t0, s0):
    """d/dt d/ds g by nested numeric differences."""
    return directional(lambda t: directional(lambda s: g(t, s), s0, 1.0), t0, 1.0)


def test_assigning_a_dual_of_a_newer_tag_promotes_the_array():
    def g(t, s):
        b = np.ones(3) * t  # an array of the outer tag
        b[1] = s * t  # an entry of the inner (newer) tag
        b[2] *= s
        b[0] = 2.0
        return np.sum(b**2)

    got = dd.derivative(lambda t: dd.derivative(lambda s: g(t, s), 0.8), 0.6)
    assert_close(got, _mixed_partial(g, 0.6, 0.8), 1e-6)


def test_assigning_a_dual_of_an_older_tag_goes_into_the_value_layer():
    def g(t, s):
        b = np.zeros(3) * s  # an array of the inner tag
        b[0] = t * t  # depends on the outer tag only
        b[1:] = s * t
        return b.sum() * s

    got = dd.derivative(lambda t: dd.derivative(lambda s: g(t, s), 2.0), 0.7)
    assert_close(got, _mixed_partial(g, 0.7, 2.0), 1e-6)


def test_three_nested_tags_meeting_in_one_array():
    # jvp inside two derivatives: the array's tangent itself gains a layer
    x0, v0 = np.array([1.0, 2.0]), np.array([1.0, 1.0])

    def jvp_in_x(t, s):
        def inner(x):
            b = np.zeros_like(x)
            b[0] = x[0] * t
            b[1] = x[1] * s
            return b.sum() * x[0]

        return dd.jvp(inner, x0, v0)[1]

    # jvp = 2 t + 3 s, so d/ds d/dt [jvp * s * t] = d/ds (4 t s + 3 s^2) = 4 t + 6 s
    got = dd.derivative(lambda s: dd.derivative(lambda t: jvp_in_x(t, s) * s * t, 0.5), 0.7)
    assert got == pytest.approx(4 * 0.5 + 6 * 0.7, rel=1e-14)


def test_newer_tag_into_a_view_raises_instead_of_losing_the_derivative():
    def g(t, s):
        b = np.ones((2, 2)) * t
        b[0][1] = s * t  # b[0] is a view: b would never see the inner tag
        return b.sum()

    with pytest.raises(TypeError, match="view"):
        dd.derivative(lambda t: dd.derivative(lambda s: g(t, s), 0.8), 0.6)


# -- batched tangents: k directions in one pass ------------------------------------------------


def _composite(a):
    m = np.arange(12.0).reshape(4, 3) / 10.0
    b = np.sin(a) @ m + np.exp(a[:, :3] / 3.0)
    c = np.sort(b, axis=1) * np.where(b > 0.5, b, 1.0)
    return np.concatenate([np.cumsum(c, axis=0), np.max(a, axis=1, keepdims=True) ** 2], axis=1)


def test_batched_tangents_give_every_directional_derivative():
    k = 5
    directions = normal(k, 3, 4, seed=12)
    out = _composite(DualArray(X, directions, batched=True))
    assert out.batched and out.directions == k and out.tangent.shape == (k,) + out.shape
    for j in range(k):
        assert_close(out.tangent[j], directional(_composite, X, directions[j]), RTOL)
    assert_close(out.value, _composite(X), 1e-14)


def test_batched_and_single_direction_meet_dual_scalars():
    x = DualArray(np.array([1.5, 2.0]), np.arange(6.0).reshape(3, 2), batched=True)
    d = x[1]  # a Dual carrying 3 directions
    for result in (x * d, d * x, d + np.ones(2), np.ones(2) / d, x**d):
        assert type(result) is DualArray and result.batched and result.directions == 3
    # product rule per direction: d(x d) = dx * d.value + x.value * dd, with dd = dx[1]
    expected = x.tangent * 2.0 + x.value[None, :] * x.tangent[:, 1:2]
    np.testing.assert_allclose((x * d).tangent, expected, rtol=1e-15)


CALLS_OF_A_0D_ARRAY = {  # (np.select and np.tensordot give a 0-d array, np.kron a scalar)
    "select": lambda a: np.select([True], [a]),
    "tensordot": lambda a: np.tensordot(a, a, 0),
    "kron": lambda a: np.kron(a, a),
    "reshape": lambda a: np.reshape(a, ()),
}


def _result_kind(result):
    if isinstance(result, (tuple, list)):
        return tuple(_result_kind(item) for item in result)
    return "0-d array" if isinstance(result, (np.ndarray, DualArray)) else "scalar"


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("value", [np.array(1.5), np.array(1.5 - 0.5j)])
def test_numpy_functions_of_a_0d_dual_array_give_a_scalar_where_numpy_does(value):
    # np.flip of a 0-d DualArray gave a 0-d array (a view of it wrote into it), np.block a Dual
    # where NumPy gives a 0-d array (a view of it did not), np.clip(a) without bounds a itself
    # (NumPy: a copy); np.fft.fftn/ifftn a new complex scalar (NumPy: the array itself).
    def kinds(z):
        found = {}
        for function in {**DERIVED_FUNCTIONS, **HANDLED_FUNCTIONS}:
            try:
                result = function(z)
            except Exception:
                continue
            found[function.__name__] = _result_kind(result)
        for name, call in CALLS_OF_A_0D_ARRAY.items():
            found[name] = _result_kind(call(z))
        return found

    plain = kinds(value.copy())
    for name, call in CALLS_OF_A_0D_ARRAY.items():
        plain[name] = _result_kind(call(value.copy()))
    seen = {}
    dd.jvp(lambda z: seen.update(kinds(z)) or z, value, np.ones_like(value))
    wrong = {name: (got, plain[name]) for name, got in seen.items() if plain.get(name, got) != got}
    assert not wrong


@pytest.mark.parametrize(
    "g", [np.flip, np.block, np.clip, lambda a: np.clip(a, 0, 9), np.real, np.fft.fftn]
)
def test_a_write_through_a_view_of_a_function_of_a_0d_array_lands_as_in_numpy(g):
    def h(z):
        r = g(z)
        view = np.expand_dims(r, 0)
        view += 1.0  # reaches r where NumPy's r is a 0-d array, z where it is z
        return r * z

    x = np.array(1.5)
    value, tangent = dd.jvp(h, x, np.array(1.0))
    assert value == pytest.approx(np.real(h(x.copy())))
    assert tangent == pytest.approx(np.real(directional(lambda t: h(np.array(t)), 1.5, 1.0)))


def _running_extreme_reference(x, t, ufunc):
    """y_j takes the mean tangent of the entries i <= j equal to it (every pair compared)."""
    y = ufunc.accumulate(x)
    out = np.empty(len(x))
    for j in range(len(x)):
        equal = [i for i in range(j + 1) if x[i] == y[j]]
        out[j] = np.mean(t[equal]) if equal else np.nan
    return out


@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum])
@pytest.mark.parametrize("seed", range(6))
def test_running_extremes_with_ties_match_every_pair_compared(ufunc, seed):
    # the rule compared every pair (n x n memory: 1.7 GB at n = 10 000); the run-by-run prefix
    # sums must give the same shares, exactly where there is no tie
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    x = rng.integers(-3, 4, n).astype(float)  # many ties
    if seed == 5:
        x[n // 2] = np.nan
    t = rng.standard_normal(n) * 10.0 ** rng.integers(-20, 21, n)  # no cancellation across runs
    expected = _running_extreme_reference(x, t, ufunc)
    with np.errstate(invalid="ignore"):
        _, eager = dd.jvp(ufunc.accumulate, x, t)
        _, compiled = dd.jit_jvp(ufunc.accumulate)(x, t)
        line = dd.taylor(lambda s: ufunc.accumulate(x + s * t), 0.0, 1)[:, 1]
    for got in (eager, compiled, line):
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)


def test_running_extreme_of_a_long_array():
    x = np.repeat(np.random.default_rng(1).standard_normal(50_000), 2)  # ties in pairs
    _, tangent = dd.jvp(np.maximum.accumulate, x, np.arange(x.size, dtype=float))
    y = np.maximum.accumulate(x)
    new = np.concatenate([[True], y[1:] != y[:-1]])
    record = np.maximum.accumulate(np.where(new, np.arange(x.size), 0))
    # each record is followed by its tie: from then on the run shares the two tangents
    expected = np.where(np.arange(x.size) > record, record + 0.5, record)
    np.testing.assert_array_equal(tangent, expected)
