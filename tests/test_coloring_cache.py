"""Colour once per pattern: ``jacobian(f, x, sparsity=P)`` and ``SparseJacobian`` reuse the
colouring of a pattern seen before (the same object or an equal one), matched by content."""

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.engine import sparse
from dualdiff.sparsity.tracer import Pattern


def chain(x):
    return np.concatenate([x[:1] ** 2, x[1:] * x[:-1], np.sin(x[-1:])])


N = 8


def chain_pattern():
    pattern = np.zeros((N + 1, N), dtype=bool)
    pattern[0, 0] = True
    for i in range(1, N):
        pattern[i, i - 1 : i + 1] = True
    pattern[N, N - 1] = True
    return pattern


@pytest.fixture
def colorings(monkeypatch):
    """Count the colourings computed, from an empty cache."""
    monkeypatch.setattr(sparse, "_colorings", sparse._ColoringCache())
    calls = []
    best = sparse._best_coloring

    def counting(pattern, order):
        calls.append(pattern.shape)
        return best(pattern, order)

    monkeypatch.setattr(sparse, "_best_coloring", counting)
    return calls


X = np.linspace(0.5, 2.0, N)


def test_the_same_and_equal_patterns_are_coloured_once(colorings):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    dense = chain_pattern()
    expected = numeric_jacobian(chain, X)
    for pattern in (
        dense,
        dense,
        dense.copy(),
        scipy_sparse.csr_array(dense),
        Pattern.coerce(dense),
    ):
        np.testing.assert_allclose(dd.jacobian(chain, X, sparsity=pattern), expected, atol=1e-8)
    assert len(colorings) == 1
    jac = dd.SparseJacobian(chain, X, sparsity=dense)
    np.testing.assert_allclose(jac(X + 0.1), numeric_jacobian(chain, X + 0.1), atol=1e-8)
    assert len(colorings) == 1
    dd.jacobian(chain, X, sparsity="auto")  # traced: the same pattern again
    assert len(colorings) == 1


def test_a_pattern_changed_by_its_owner_is_coloured_again(colorings):
    pattern = chain_pattern()
    pattern[1:N, :] = False  # rows 1..N-1 left out: not computed
    first = dd.jacobian(chain, X, sparsity=pattern)
    assert not first[1:N].any()
    pattern[:] = chain_pattern()  # the same array, now the whole pattern
    second = dd.jacobian(chain, X, sparsity=pattern)
    np.testing.assert_allclose(second, numeric_jacobian(chain, X), atol=1e-8)
    assert len(colorings) == 2


def test_the_order_is_part_of_the_key(colorings):
    dense = chain_pattern()
    dd.SparseJacobian(chain, X, sparsity=dense, order="natural")
    dd.SparseJacobian(chain, X, sparsity=dense, order="largest_first")
    dd.SparseJacobian(chain, X, sparsity=dense, order="natural")
    assert len(colorings) == 2


def test_the_cache_is_bounded(colorings, monkeypatch):
    cache = sparse._ColoringCache(size=3)
    monkeypatch.setattr(sparse, "_colorings", cache)
    patterns = [np.eye(k + 2, dtype=bool) for k in range(5)]
    for p in patterns:
        dd.jacobian(np.sin, np.ones(p.shape[0]), sparsity=p)
    assert len(cache.entries) == 3
    dd.jacobian(np.sin, np.ones(6), sparsity=patterns[-1])  # still cached
    assert len(colorings) == 5
    dd.jacobian(np.sin, np.ones(2), sparsity=patterns[0])  # dropped: coloured again
    assert len(colorings) == 6
    big = sparse._ColoringCache(size=8, nnz_limit=5)
    for p in patterns:
        big.get(Pattern.coerce(p), "best")
    assert [e[0].shape[0] for e in big.entries] == [6]  # the newest is kept, even alone


def test_nothing_cached_is_handed_out_writable(colorings):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    dense = chain_pattern()
    a = dd.SparseJacobian(chain, X, sparsity=dense, output="sparse")
    b = dd.SparseJacobian(chain, X, sparsity=scipy_sparse.csr_array(dense), output="sparse")
    assert len(colorings) == 1
    assert not a.colors.flags.writeable and not b.colors.flags.writeable
    with pytest.raises(ValueError):
        a.colors[0] = 5
    j1 = a(X)
    assert j1.indices.flags.writeable and j1.data.flags.writeable
    j1.indices[:] = 0  # the caller's matrix: the next one is not affected
    j1.indptr[:] = 0
    j1.data[:] = 0.0
    np.testing.assert_allclose(b(X).toarray(), numeric_jacobian(chain, X), atol=1e-8)
    dense_out = dd.jacobian(chain, X, sparsity=dense)
    dense_out[:] = 1.0
    np.testing.assert_allclose(dd.jacobian(chain, X, sparsity=dense), numeric_jacobian(chain, X),
                               atol=1e-8)  # fmt: skip


def test_prepared_jacobian_value_is_the_callers_and_x_is_not_changed():
    jac = dd.SparseJacobian(lambda x: x, X, sparsity=np.eye(N, dtype=bool))
    x = X.copy()
    value, j = jac.value_and_jacobian(x)
    assert value.flags.writeable and not np.shares_memory(value, x)
    value[:] = 0.0
    np.testing.assert_array_equal(x, X)

    def updates_in_place(x):
        x *= 2.0
        return x**2

    jac = dd.SparseJacobian(updates_in_place, X, sparsity=np.eye(N, dtype=bool))
    x = X.copy()
    np.testing.assert_allclose(jac(x), np.diag(8.0 * X))
    np.testing.assert_array_equal(x, X)


def test_prepared_jacobian_of_a_tuple_output_raises():
    jac = dd.SparseJacobian(lambda x: x * 2.0, X, sparsity=np.eye(N, dtype=bool))
    jac.f = lambda x: (x, x)
    with pytest.raises(TypeError, match="single array"):
        jac(X)


def test_an_equal_csr_matrix_is_found_without_copying_it(colorings, monkeypatch):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    dense = chain_pattern()
    matrix = scipy_sparse.csr_array(dense)
    dd.jacobian(chain, X, sparsity=matrix)
    coerced = []
    original = Pattern.coerce.__func__

    def counting(cls, *args, **kwargs):
        coerced.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Pattern, "coerce", classmethod(counting))
    np.testing.assert_allclose(dd.jacobian(chain, X, sparsity=matrix), numeric_jacobian(chain, X),
                               atol=1e-8)  # fmt: skip
    assert not coerced and len(colorings) == 1
    # an explicit zero is no non-zero: the structure alone must not match
    with_zero = scipy_sparse.csr_array(dense.astype(float))
    with_zero.data[0] = 0.0
    jac = dd.jacobian(chain, X, sparsity=with_zero)
    assert coerced and jac[0, 0] == 0.0
    np.testing.assert_allclose(jac[1:], numeric_jacobian(chain, X)[1:], atol=1e-8)
    # wrong number of columns: the error of a pattern that does not fit
    with pytest.raises(ValueError, match="columns"):
        dd.jacobian(lambda x: x, np.ones(N - 1), sparsity=matrix)  # cached, N columns


@pytest.fixture
def coerced(monkeypatch):
    calls = []
    original = Pattern.coerce.__func__

    def counting(cls, pattern, *args, **kwargs):
        if not isinstance(pattern, Pattern):  # built from the user's array or matrix
            calls.append(1)
        return original(cls, pattern, *args, **kwargs)

    monkeypatch.setattr(Pattern, "coerce", classmethod(counting))
    return calls


def test_an_equal_dense_pattern_is_found_without_building_a_pattern(colorings, coerced):
    dense = chain_pattern()
    expected = numeric_jacobian(chain, X)
    dd.jacobian(chain, X, sparsity=dense)
    assert len(coerced) == 1
    for pattern in (dense, dense.copy(), dense.astype(float), dense.reshape(N + 1, 2, N // 2)):
        jac = dd.jacobian(lambda z: chain(z.ravel()), X.reshape(2, N // 2), sparsity=pattern)
        np.testing.assert_allclose(jac.reshape(N + 1, N), expected, atol=1e-8)
    assert len(coerced) == 1 and len(colorings) == 1
    # one entry moved: as many non-zeros, not the same ones
    moved = dense.copy()
    moved[0, 0], moved[0, 3] = False, True
    jac = dd.jacobian(chain, X, sparsity=moved)
    assert len(coerced) == 2 and jac[0, 0] == 0.0
    # one entry more: a superset
    more = dense.copy()
    more[0, 5] = True
    np.testing.assert_allclose(dd.jacobian(chain, X, sparsity=more), expected, atol=1e-8)
    assert len(coerced) == 3
