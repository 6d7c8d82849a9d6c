"""Column colouring: every colouring is checked directly on the dense pattern (no two columns of
one colour share a row), and colour counts against known optima."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualdiff.sparsity import coloring
from dualdiff.sparsity.coloring import ORDERS, color_columns, column_graph, is_valid_coloring
from dualdiff.sparsity.tracer import Pattern


def valid(dense, colors):
    """Independent check: in each row, the colours of the non-zero columns are distinct."""
    for row in dense:
        used = colors[np.nonzero(row)[0]]
        if len(set(used.tolist())) != used.size:
            return False
    return colors.shape == (dense.shape[1],) and (colors >= 0).all()


def banded(n, lower, upper):
    offsets = np.subtract.outer(np.arange(n), np.arange(n))
    return (offsets <= lower) & (offsets >= -upper)


def brusselator_pattern(n):
    """Two species on a line: tridiagonal blocks on the diagonal, diagonal coupling blocks."""
    tri = banded(n, 1, 1)
    eye = np.eye(n, dtype=bool)
    return np.block([[tri, eye], [eye, tri]])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("lower, upper", [(1, 1), (2, 0), (2, 3)])
def test_banded_colourings_are_valid_and_optimal(order, lower, upper):
    dense = banded(30, lower, upper)
    colors = color_columns(dense, order)
    assert valid(dense, colors)
    # a band of width w needs w colours (its rows have w non-zeros) and w suffice
    assert colors.max() + 1 == lower + upper + 1


def test_smallest_last_finds_the_optimum_for_two_coupled_species():
    dense = brusselator_pattern(50)
    colors = color_columns(dense, "smallest_last")
    assert valid(dense, colors)
    assert colors.max() + 1 == dense.sum(axis=1).max() == 4


@pytest.mark.parametrize("order", ORDERS)
def test_random_sparse_colourings_are_valid(order):
    rng = np.random.default_rng(3)
    dense = rng.random((60, 40)) < 0.08
    colors = color_columns(dense, order)
    assert valid(dense, colors)
    assert colors.max() + 1 >= dense.sum(axis=1).max()
    assert colors.max() + 1 < 40  # fewer passes than columns


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda m: st.integers(1, 12).flatmap(
            lambda n: st.lists(st.booleans(), min_size=m * n, max_size=m * n).map(
                lambda cells: np.array(cells).reshape(m, n)
            )
        )
    ),
    st.sampled_from(ORDERS),
)
def test_any_pattern_gets_a_valid_colouring(dense, order):
    colors = color_columns(dense, order)
    assert valid(dense, colors)
    assert is_valid_coloring(dense, colors)


def test_colouring_without_the_graph_in_memory(monkeypatch):
    monkeypatch.setattr(coloring, "_GRAPH_LIMIT", 0)
    dense = brusselator_pattern(20)
    for order in ORDERS:
        assert valid(dense, color_columns(dense, order))


def test_dense_row_needs_one_colour_per_column():
    dense = np.zeros((3, 5), dtype=bool)
    dense[1] = True
    assert sorted(color_columns(dense).tolist()) == [0, 1, 2, 3, 4]


def test_empty_columns_share_colour_zero():
    dense = np.zeros((3, 4), dtype=bool)
    dense[0, 0] = True
    assert color_columns(dense).tolist() == [0, 0, 0, 0]


def test_column_graph_matches_dense_products():
    rng = np.random.default_rng(5)
    dense = rng.random((15, 10)) < 0.2
    indptr, neighbours = column_graph(Pattern.coerce(dense))
    shared = (dense.T.astype(int) @ dense.astype(int)) > 0
    np.fill_diagonal(shared, False)
    for j in range(10):
        assert (
            sorted(neighbours[indptr[j] : indptr[j + 1]].tolist())
            == np.nonzero(shared[j])[0].tolist()
        )


def test_accepts_scipy_patterns():
    sparse = pytest.importorskip("scipy.sparse")
    dense = brusselator_pattern(10)
    colors = color_columns(sparse.csr_array(dense))
    assert valid(dense, colors)


def test_is_valid_coloring_rejects_clashes():
    dense = banded(5, 1, 1)
    assert not is_valid_coloring(dense, np.zeros(5, dtype=int))
    assert not is_valid_coloring(dense, np.arange(4))
    assert is_valid_coloring(dense, np.arange(5) % 3)


def test_bad_order():
    with pytest.raises(ValueError, match="order"):
        color_columns(np.eye(3, dtype=bool), "random")


@pytest.mark.parametrize("order", ORDERS)
def test_a_full_row_gives_every_column_its_own_colour(order, monkeypatch):
    monkeypatch.setattr(coloring, "column_graph", None)  # found without the graph
    rng = np.random.default_rng(7)
    dense = rng.random((30, 500)) < 0.3
    dense[11] = True
    colors = color_columns(dense, order)
    assert valid(dense, colors)
    assert colors.max() + 1 == 500
