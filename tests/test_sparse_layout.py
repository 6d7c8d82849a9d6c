"""Sparse and compiled Jacobians at points of another memory layout than the one traced.

NumPy's view-or-copy decisions depend on the layout of x: ``x.T.reshape(-1)`` views a
Fortran-ordered x (a write through it reaches x) and copies a C-ordered one; ``x.reshape(-1)``
views a C-ordered x and copies the rows ``a[:, :3]``. A pattern or a program traced at one
layout held for that layout only: called at another, ``SparseJacobian`` returned zeros where
the Jacobian has non-zeros. The reference is central differences on plain NumPy at the very
layout called.
"""

import pickle

import numpy as np
import pytest

import dualdiff as dd
from dualdiff.engine.sparse import compressed_jacobian

POINT = np.arange(1.0, 7.0).reshape(2, 3) * 0.7


def at(layout, values):
    """``values`` (2 x 3) laid out as ``layout`` says: C, Fortran, every other column of a wider
    array (strides NumPy can still flatten as a view), the first columns of one (it cannot), or
    reversed along both axes."""
    if layout == "C":
        return values.copy()
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "every_other":
        wide = np.zeros((2, 6))
        wide[:, ::2] = values
        return wide[:, ::2]
    if layout == "reversed":  # negative strides: a worker must get what lies before x[0, 0]
        return values[::-1, ::-1].copy()[::-1, ::-1]
    wide = np.zeros((2, 5))
    wide[:, :3] = values
    return wide[:, :3]


LAYOUTS = ("C", "F", "every_other", "rows", "reversed")


def write_through_transpose(x):
    v = x.T.reshape(-1)  # a view of a Fortran-ordered x only
    v[0] = 0.0
    return x * 1.0


def write_through_reshape(x):
    v = x.reshape(-1)  # a view of a C-ordered x (or of every other column), a copy of rows
    v[1] = 0.0
    return x.T.reshape(-1)[:3] * x.T.reshape(-1)[3:]


FUNCTIONS = (write_through_transpose, write_through_reshape)


def numeric_jacobian(f, layout):
    """Central differences, every point laid out as ``layout`` (f is quadratic at most)."""
    h = 1e-3
    columns = []
    for j in range(POINT.size):
        e = np.zeros(POINT.size)
        e[j] = h
        e = e.reshape(POINT.shape)
        columns.append((f(at(layout, POINT + e)) - f(at(layout, POINT - e))) / (2 * h))
    return np.stack(columns, -1).reshape(np.shape(columns[0]) + POINT.shape)


def pickling_workers(function, tasks):
    """A map-like ``workers`` that sends every task through pickle, as a process pool does."""
    return [function(pickle.loads(pickle.dumps(task))) for task in tasks]


@pytest.mark.parametrize("f", FUNCTIONS)
@pytest.mark.parametrize("traced", LAYOUTS)
@pytest.mark.parametrize("jit", [False, True])
def test_sparse_jacobian_at_every_layout(f, traced, jit):
    jac = dd.SparseJacobian(f, at(traced, POINT), jit=jit)
    for called in LAYOUTS + (traced,):
        expected = numeric_jacobian(f, called)
        np.testing.assert_allclose(
            jac(at(called, POINT)), expected, atol=1e-9, err_msg=f"called at {called}"
        )
        np.testing.assert_allclose(dd.jacobian(f, at(called, POINT)), expected, atol=1e-9)


@pytest.mark.parametrize("f", FUNCTIONS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_jacobian_with_a_pattern_and_compiled_at_every_layout(f, layout):
    expected = numeric_jacobian(f, layout)
    x = at(layout, POINT)
    np.testing.assert_allclose(dd.jacobian(f, x, sparsity=expected != 0), expected, atol=1e-9)
    _, compressed = compressed_jacobian(f, x, np.zeros(x.size, dtype=int))  # one colour: J @ 1
    np.testing.assert_allclose(compressed[0], expected.sum(axis=(-2, -1)), atol=1e-9)
    compiled = dd.jit_jacobian(f)
    for other in LAYOUTS:
        compiled(at(other, POINT))  # a program compiled at another layout first
    np.testing.assert_allclose(compiled(x), expected, atol=1e-9)


@pytest.mark.parametrize("f", FUNCTIONS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_passes_sent_to_workers_keep_the_layout(f, layout):
    # pickled, an array comes back contiguous (C or Fortran): the rows' copy became a view
    expected = numeric_jacobian(f, layout)
    x = at(layout, POINT)
    np.testing.assert_allclose(dd.jacobian(f, x, workers=pickling_workers), expected, atol=1e-9)
    with dd.SparseJacobian(f, x, workers=pickling_workers, chunk=1) as jac:
        np.testing.assert_allclose(jac(x), expected, atol=1e-9)


def test_a_new_layout_traces_once_and_keeps_the_pattern_of_both():
    jac = dd.SparseJacobian(write_through_transpose, at("F", POINT))
    assert jac.pattern.nnz == 5  # x[0, 0] is overwritten through the transpose's view
    jac(at("C", POINT))
    assert jac.pattern.nnz == 6  # ... not at a C-ordered x: the union is coloured
    pattern = jac.pattern
    jac(at("C", POINT))
    jac(at("F", POINT))
    assert jac.pattern is pattern


def test_another_dtype_or_shape_than_traced():
    # the seeds and programs are kept per dtype; another shape is refused by name
    def f(x):
        return x[1:] * x[:-1] + np.real(x[:-1]) * 2.0

    for jit in (False, True):
        jac = dd.SparseJacobian(f, np.arange(1.0, 5.0), jit=jit)
        for x in (np.arange(1.0, 5.0, dtype=np.float32), np.arange(1.0, 5.0) + 0.5j):
            np.testing.assert_allclose(jac(x), dd.jacobian(f, x), rtol=1e-6)
            assert jac(x).dtype == dd.jacobian(f, x).dtype
        with pytest.raises(ValueError, match=r"shape \(5,\).*prepared for shape \(4,\)"):
            jac(np.ones(5))
