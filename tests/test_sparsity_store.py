"""The tracer's dependency store: its vectorised unions against Python sets (the tracer's former
representation), and the dense shortcuts against the Jacobians they stand for."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.sparsity import tracer as sparsity
from dualdiff.sparsity.tracer import _EMPTY, _FULL, _Store, jacobian_sparsity, run_dependencies

# -- the store's unions against frozensets --------------------------------------------------------


@st.composite
def stores(draw):
    """A store for an ``x`` of ``n`` entries with some extra sets, and the sets of every id."""
    n = draw(st.integers(1, 12))
    store = _Store(n)
    extra = draw(st.lists(st.frozensets(st.integers(0, n - 1)), max_size=6))
    if extra:
        store.from_sets(np.array(extra + [None], dtype=object)[:-1])
    sets = [frozenset(), frozenset(range(n))] + [frozenset((j,)) for j in range(n)] + extra
    assert store.count == len(sets)
    return store, sets


@st.composite
def id_arrays(draw, count, shape=None):
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    size = int(np.prod(shape))
    ids = draw(st.lists(st.integers(0, count - 1), min_size=size, max_size=size))
    return np.array(ids, dtype=np.intp).reshape(shape)


def as_sets(store, sets, ids):
    """The sets ids stand for, read back from the store (and checked against ``sets`` when the
    id is one the test made)."""
    out = np.empty(np.shape(ids), dtype=object)
    for index, i in np.ndenumerate(np.asarray(ids)):
        lengths, cols = store.contents(np.array([i]))
        got = frozenset(cols.tolist())
        assert len(got) == lengths[0], "a stored set holds a duplicate"
        assert cols.tolist() == sorted(got), "a stored set is not sorted"
        if i < len(sets):
            assert got == sets[i]
        out[index] = got
    return out


def objects(r):
    """An object array of sets (NumPy returns a bare set for a 0-d result)."""
    if type(r) is np.ndarray:
        return r
    out = np.empty((), dtype=object)
    out[()] = r
    return out


def reference_or(a, b):
    return objects(np.frompyfunc(lambda s, t: s | t, 2, 1)(a, b))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_elementwise_union_is_the_union_of_sets(data):
    store, sets = data.draw(stores())
    a = data.draw(id_arrays(store.count))
    b_shape = data.draw(st.sampled_from([a.shape, a.shape[1:], (1,) + a.shape[1:], ()]))
    b = data.draw(id_arrays(store.count, b_shape))
    before = (as_sets(store, sets, a), as_sets(store, sets, b))
    got = store.union2(a, b)
    want = reference_or(*before)
    assert got.shape == np.broadcast_shapes(a.shape, b.shape)
    assert (as_sets(store, sets, got) == want).all()


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_reductions_are_unions_along_axes(data):
    store, sets = data.draw(stores())
    d = data.draw(id_arrays(store.count))
    ref = as_sets(store, sets, d)
    axes = data.draw(st.sets(st.integers(0, max(d.ndim - 1, 0)), max_size=d.ndim))
    axis = None if data.draw(st.booleans()) or not d.ndim else tuple(axes)
    keepdims = data.draw(st.booleans())
    got = store.reduce(d, axis, keepdims)
    want = objects(np.bitwise_or.reduce(ref, axis=axis, keepdims=keepdims, initial=frozenset()))
    assert got.shape == np.shape(want)
    assert (as_sets(store, sets, got) == want).all()
    if d.ndim:
        ax = data.draw(st.integers(0, d.ndim - 1))
        got = store.accumulate(d, ax)
        if d.shape[ax]:
            want = np.bitwise_or.accumulate(ref, axis=ax)
            assert (as_sets(store, sets, got) == want).all()
        if d.shape[ax]:
            indices = data.draw(st.lists(st.integers(0, d.shape[ax] - 1), min_size=1, max_size=5))
            got = store.reduceat(d, indices, ax)
            want = np.bitwise_or.reduceat(ref, indices, axis=ax)
            assert (as_sets(store, sets, got) == want).all()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_rounding_up_dense_unions_keeps_a_superset(data):
    # with no work budget every union whose parts hold half of x is taken as all of x: never
    # fewer positions than the union itself
    store, sets = data.draw(stores())
    a = data.draw(id_arrays(store.count))
    b = data.draw(id_arrays(store.count, a.shape))
    budget, low = sparsity._WORK_BUDGET, sparsity._ROUND_MIN
    sparsity._WORK_BUDGET, sparsity._ROUND_MIN = 0, 1
    try:
        want = reference_or(as_sets(store, sets, a), as_sets(store, sets, b))
        got = as_sets(store, sets, store.union2(a, b))
        reduced = as_sets(store, sets, store.reduce(a, None))
    finally:
        sparsity._WORK_BUDGET, sparsity._ROUND_MIN = budget, low
    assert all(g >= w for g, w in zip(got.ravel(), want.ravel()))
    assert reduced[()] >= frozenset().union(*as_sets(store, sets, a).ravel())


def test_a_union_equal_to_a_part_reuses_its_id():
    store = _Store(5)
    pair = store.from_sets(np.array([{1, 2}, None], dtype=object)[:1])
    seed = store.seeds()
    count = store.count
    got = store.union2(np.array([pair[0], pair[0], _EMPTY]), np.array([seed[1], _EMPTY, seed[4]]))
    assert got.tolist() == [pair[0], pair[0], seed[4]]
    assert store.count == count  # nothing new stored
    assert store.union2(np.array([seed[0]]), np.array([_FULL]))[0] == _FULL


def test_tracers_of_an_earlier_trace_keep_their_sets():
    kept = []
    jacobian_sparsity(lambda x: kept.append(x[1:] * x[:-1]) or x, np.ones(4))
    pattern = jacobian_sparsity(lambda x: x[:3] + kept[0], np.ones(5))
    # the kept tracer's sets ({0, 1}, {1, 2}, {2, 3}) in the new trace: columns of the new x
    np.testing.assert_array_equal(
        pattern[:, :4], np.eye(3, 4, dtype=bool) | np.eye(3, 4, k=1, dtype=bool)
    )


# -- dense patterns --------------------------------------------------------------------------------

N = 300
W = np.random.default_rng(0).standard_normal((N, N))
X = np.random.default_rng(1).standard_normal(N)


def test_a_dense_product_is_all_of_x():
    traced = run_dependencies(lambda x: np.tanh(W @ x + 1.0), X)
    assert traced.dense and (traced.ids == _FULL).all()
    assert jacobian_sparsity(lambda x: np.tanh(W @ x + 1.0), X).all()


def test_what_drops_a_dense_dependency_stays_exact():
    eye = np.eye(N, dtype=bool)
    np.testing.assert_array_equal(jacobian_sparsity(lambda x: x * np.sign(W @ x), X), eye)
    np.testing.assert_array_equal(jacobian_sparsity(lambda x: np.where(W @ x > 0, x, -x), X), eye)


def test_a_dense_part_in_a_sparse_product_is_exact():
    w = W.copy()
    w[:, 5:] = 0.0  # only the first five columns of W are non-zero
    pattern = jacobian_sparsity(lambda x: w @ x, X)
    np.testing.assert_array_equal(pattern, w != 0)


def test_rounded_up_unions_cover_the_jacobian():
    x = np.random.default_rng(2).standard_normal(2000)

    def f(x):
        return x - np.mean(x[1:]) * x[0]

    pattern = jacobian_sparsity(f, x)
    jac = dd.jacobian(f, x)
    assert not ((jac != 0) & ~pattern).any()


@pytest.mark.parametrize("output", ["dense", "sparse"])
def test_auto_on_a_dense_pattern_is_the_dense_jacobian(output):
    def f(x):
        return np.tanh(W[:, :200] @ x[:200]) * x[0]

    want = dd.jacobian(f, X)
    got = dd.jacobian(f, X, sparsity="auto", output=output)
    if output == "sparse":
        assert got.shape == (N, N)
        np.testing.assert_array_equal(got.toarray() != 0, want != 0)
        got = got.toarray()
    np.testing.assert_allclose(got, want, rtol=0, atol=0)


def test_auto_on_a_dense_pattern_still_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dd.jacobian(lambda x: W @ x if x[0] > 0 else -(W @ x), X, sparsity="auto")


def test_no_set_operations_on_ids():
    """Dependencies are integer ids: a NumPy bitwise or of two id arrays (the union of the
    former frozensets) is a silently wrong id, so unions must go through the store."""
    source = Path(sparsity.__file__).read_text()
    for banned in (r"bitwise_or(\.\w+)?\(", r"frozenset\(\)", r"\.deps \| "):
        found = re.search(banned, source)
        assert found is None, f"{found.group()} on dependency ids: use _or/_reduce/_store()"
