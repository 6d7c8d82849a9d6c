"""Sparsity detection frees the sets no living tracer holds: its peak memory follows the
non-zeros, and freeing never changes a pattern (checked against numeric differences and the
exact forward-mode Jacobian, with the sets freed before every operation). The colouring loops
give the colourings of the linked-list implementation they replaced."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sparsity import CASES, SELECTIONS, assert_exact, rng_for

import dualdiff as dd
from dualdiff.sparsity import coloring
from dualdiff.sparsity import tracer as sparsity
from dualdiff.sparsity.coloring import color_columns
from dualdiff.sparsity.tracer import Pattern, jacobian_sparsity, run_dependencies


@pytest.fixture
def collect_always(monkeypatch):
    """Free the dead sets before every top-level operation (not only when the store doubled);
    yields the list of the stores collected, one entry per collection."""
    collected = []
    collect = sparsity._Store.collect

    def counted(store):
        collected.append(store)
        collect(store)

    monkeypatch.setattr(sparsity._Store, "due", lambda store: True)
    monkeypatch.setattr(sparsity._Store, "collect", counted)
    return collected


# -- memory ---------------------------------------------------------------------------------------


def steps(x, k=40):
    """A tridiagonal F whose every step makes new sets (``x[:-2] * x[2:]``) and drops them."""
    acc = x[1:-1] * 1.0
    for i in range(k):
        acc = acc + np.sin(x[:-2] * x[2:] + i)
    return acc


def peak_bytes(f, x):
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        run = run_dependencies(f, x)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    return peak, run


def test_detection_memory_follows_the_non_zeros():
    # measured 153 bytes per non-zero here (x, the values and the living sets included); the
    # store that kept every set it made measured 804, growing with the number of steps
    x = np.linspace(0.1, 1.0, 20_000)
    peak, run = peak_bytes(steps, x)
    assert run.nnz == 3 * (x.size - 2)
    assert peak < 300 * run.nnz


def test_detection_memory_of_the_brusselator():
    from benchmarks.bench_sparse import brusselator

    # measured 72 bytes per non-zero (the former store: 140)
    x = 1.0 + 0.1 * np.random.default_rng(0).standard_normal(40_000)
    peak, run = peak_bytes(brusselator, x)
    assert run.nnz == 4 * x.size - 4
    assert peak < 100 * run.nnz


def test_freed_ids_are_handed_out_again():
    x = np.linspace(0.1, 1.0, 5000)
    run = run_dependencies(lambda x: steps(x, k=200), x)
    # 200 steps of 5 000 new sets each: without freeing, a million ids
    assert run.store.count < 50_000
    np.testing.assert_array_equal(run.toarray(), jacobian_sparsity(steps, x[:5000]))


# -- patterns are unchanged when sets are freed ----------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_supported_functions_exact_with_sets_freed_before_every_operation(name, collect_always):
    points = 40 if name in SELECTIONS else 3
    assert_exact(CASES[name], (6,), points=points, rng=rng_for(name))


def test_brusselator_pattern_with_sets_freed_before_every_operation(collect_always):
    from benchmarks.bench_sparse import brusselator

    x = 1.0 + 0.1 * np.random.default_rng(1).standard_normal(40)
    traced = jacobian_sparsity(brusselator, x)
    assert collect_always
    np.testing.assert_array_equal(traced, dd.jacobian(brusselator, x) != 0)


STEP = st.one_of(
    st.tuples(st.just("roll"), st.integers(-3, 3)),
    st.tuples(st.just("times x"), st.integers(0, 0)),
    st.tuples(st.just("sin"), st.integers(0, 0)),
    st.tuples(st.just("keep"), st.integers(0, 0)),
    st.tuples(st.just("add kept"), st.integers(0, 5)),
    st.tuples(st.just("write view"), st.integers(1, 3)),
    st.tuples(st.just("shift in"), st.integers(1, 3)),
)


def program(ops):
    """An F of a random chain of stencils, products, views written through and intermediates
    kept for later (so freeing has living arrays, views and dead ones to tell apart)."""

    def f(x):
        y, kept = x * 1.0, []
        for op, k in ops:
            if op == "roll":
                y = y + 0.3 * np.roll(y, k)
            elif op == "times x":
                y = y * x
            elif op == "sin":
                y = np.sin(y)
            elif op == "keep":
                kept.append(y)
                y = y * 1.5
            elif op == "add kept" and kept:
                y = y + 0.7 * kept[k % len(kept)]
            elif op == "write view":
                y = y.copy()
                view = y[::k]
                view += np.cos(x[: view.shape[0]])
            elif op == "shift in":
                y = np.concatenate([y[k:], np.tanh(x[:k])])
        return y

    return f


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(STEP, max_size=12), st.integers(0, 2**32 - 1))
def test_random_programs_match_the_exact_jacobian_with_sets_freed(ops, seed):
    f = program(ops)
    x = np.random.default_rng(seed).uniform(0.2, 1.0, 12)
    collect = sparsity._Store.due
    sparsity._Store.due = lambda store: True  # (hypothesis: no function-scoped fixture)
    try:
        traced = jacobian_sparsity(f, x)
    finally:
        sparsity._Store.due = collect
    np.testing.assert_array_equal(traced, dd.jacobian(f, x) != 0)


# -- the colouring loops: the colourings of the implementation they replaced --------------------


def linked_list_smallest_last(indptr, neighbours):
    """The smallest-last order as computed before (a bucket queue of doubly linked lists)."""
    n = indptr.size - 1
    degree = np.diff(indptr).tolist()
    starts, nbrs = indptr.tolist(), neighbours.tolist()
    head = [-1] * (max(degree, default=0) + 1)
    after, before = [-1] * n, [-1] * n
    for v in range(n - 1, -1, -1):
        h = head[degree[v]]
        after[v] = h
        if h >= 0:
            before[h] = v
        head[degree[v]] = v
    removed, sequence, low = [False] * n, [], 0
    for _ in range(n):
        low = max(low - 1, 0)
        while head[low] < 0:
            low += 1
        v = head[low]
        h = head[low] = after[v]
        if h >= 0:
            before[h] = -1
        removed[v] = True
        sequence.append(v)
        for u in nbrs[starts[v] : starts[v + 1]]:
            if removed[u]:
                continue
            d = degree[u]
            p, q = before[u], after[u]
            if p >= 0:
                after[p] = q
            else:
                head[d] = q
            if q >= 0:
                before[q] = p
            d -= 1
            degree[u] = d
            h = head[d]
            after[u], before[u] = h, -1
            if h >= 0:
                before[h] = u
            head[d] = u
    return sequence[::-1]


def set_greedy(sequence, indptr, neighbours):
    colors = [-1] * (indptr.size - 1)
    starts, nbrs = indptr.tolist(), neighbours.tolist()
    for v in sequence:
        used = {colors[u] for u in nbrs[starts[v] : starts[v + 1]]}
        c = 0
        while c in used:
            c += 1
        colors[v] = c
    return np.asarray(colors)


def former_coloring(pattern, order):
    if pattern.shape[1] and np.diff(pattern.indptr).max() == pattern.shape[1]:
        return np.arange(pattern.shape[1])  # a full row: one colour per column, no graph
    indptr, neighbours = coloring.column_graph(pattern)
    if order == "smallest_last":
        sequence = linked_list_smallest_last(indptr, neighbours)
    elif order == "largest_first":
        sequence = np.argsort(-np.diff(indptr), kind="stable").tolist()
    else:
        sequence = range(indptr.size - 1)
    return set_greedy(sequence, indptr, neighbours)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.floats(0.02, 0.5),
    st.integers(0, 2**32 - 1),
    st.sampled_from(coloring.ORDERS),
)
def test_colourings_are_those_of_the_former_loops(m, n, density, seed, order):
    dense = np.random.default_rng(seed).random((m, n)) < density
    pattern = Pattern.coerce(dense)
    colors = color_columns(pattern, order)
    assert coloring.is_valid_coloring(pattern, colors)
    np.testing.assert_array_equal(colors, former_coloring(pattern, order))


def test_brusselator_colouring_is_the_former_one():
    from benchmarks.bench_sparse import brusselator

    x = 1.0 + 0.1 * np.random.default_rng(2).standard_normal(2000)
    pattern = run_dependencies(brusselator, x).pattern()
    for order in coloring.ORDERS:
        colors = color_columns(pattern, order)
        np.testing.assert_array_equal(colors, former_coloring(pattern, order))
    assert color_columns(pattern, "smallest_last").max() + 1 == 4


@pytest.mark.parametrize("pairs", [1, 7, 1 << 20])
def test_column_graph_built_in_blocks_of_rows_is_the_dense_one(pairs, monkeypatch):
    monkeypatch.setattr(coloring, "_PAIRS", pairs)
    dense = np.random.default_rng(pairs).random((40, 25)) < 0.2
    indptr, neighbours = coloring.column_graph(Pattern.coerce(dense))
    expected = (dense.T.astype(int) @ dense.astype(int)) > 0
    np.fill_diagonal(expected, False)
    got = np.zeros_like(expected)
    got[np.repeat(np.arange(25), np.diff(indptr)), neighbours] = True
    np.testing.assert_array_equal(got, expected)
    for j in range(25):  # each column's neighbours sorted (the smallest-last order relies on it)
        assert np.all(np.diff(neighbours[indptr[j] : indptr[j + 1]]) > 0)
