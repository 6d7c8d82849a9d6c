"""What the adversarial hunt of the compiler found: a decision taken from the values at the
tracing point A and replayed, silently wrong, at another point B. One test each; every one
traces at A, calls at B and compares with plain NumPy and numeric differences at B (never the
compiler's own output), or expects a loud refusal naming the construct.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric


def _abs_eigvals(x):
    return np.sort(np.abs(np.linalg.eigvals(x.reshape(2, 2))))  # sorted: LAPACK's order jumps


# eigvals of a real matrix is real where its eigenvalues are, complex elsewhere: traced where
# they were real, the program then took |w|' = sign(w) w' (the real rule) of complex w and
# returned a complex tangent where |w| is real, without a word. Now a compiled function traces
# f again where an eager rule's result dtypes differ from the traced ones.
A_REAL = np.array([1.0, 1.0, 0.5, 1.0])  # eigenvalues 1 +- 0.707
B_COMPLEX = np.array([1.0, -2.0, 0.5, 1.0])  # eigenvalues 1 +- i
V = np.array([0.3, -1.0, 0.7, 0.2])


def _check_jvp(g, f, x):
    value, tangent = g(x, V)
    np.testing.assert_allclose(value, f(x), rtol=1e-12)
    expected = numeric.jacobian(f, x) @ V
    assert np.asarray(tangent).dtype == expected.dtype
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("points", [(A_REAL, B_COMPLEX), (B_COMPLEX, A_REAL)])
def test_eigvals_real_at_one_point_complex_at_the_other(points):
    a, b = points
    g, jac = dd.jit_jvp(_abs_eigvals), dd.jit_jacobian(_abs_eigvals)
    g(a, V), jac(a)
    for x in (b, a, b):  # back and forth: each call right
        _check_jvp(g, _abs_eigvals, x)
        np.testing.assert_allclose(jac(x), numeric.jacobian(_abs_eigvals, x), atol=1e-7)


def test_eig_real_at_one_point_complex_at_the_other():
    def f(x):
        return np.sort(np.abs(np.linalg.eig(x.reshape(2, 2))[0]))

    g = dd.jit_jvp(f)
    g(A_REAL, V)
    _check_jvp(g, f, B_COMPLEX)
    _check_jvp(g, f, A_REAL)


def test_eigvals_in_a_compiled_sparse_jacobian():
    def f(x):
        return np.concatenate([_abs_eigvals(x[:4]), np.sin(x[4:])])

    a, b = np.concatenate([A_REAL, [1.0, 2.0]]), np.concatenate([B_COMPLEX, [0.5, 0.1]])
    sj = dd.SparseJacobian(f, a, jit=True)
    sj(a)
    np.testing.assert_allclose(np.asarray(sj(b)), numeric.jacobian(f, b), atol=1e-7)


# An F-ordered x: the compiled program read x in its layout, v and the identity seed of a Jacobian
# in theirs, so a function that reads memory order (ravel('K')) paired x[1, 0] with the tangent
# of x[0, 1]. A compiled function now reads x and v in C order, as eager mode's seeding does, and
# order 'K'/'A' of an array with two axes longer than 1 is refused by name in every mode (it
# reads a layout that no carrier tracks: merged from hunt-table), so the layout never decides.
X_C = np.array([[2.0, 5.0, 1.0], [4.0, 3.0, 6.0]])
X_F = np.asfortranarray(X_C)
V_C = np.array([[0.3, 0.4, 0.5], [0.6, 0.7, 0.8]])
WEIGHTS = np.arange(1.0, 7.0)


def _c_order(x):
    return np.ravel(x) ** 2 * WEIGHTS + (x.T @ x).ravel()[:6]


def test_an_f_ordered_point_in_the_compiler():
    expected = numeric.jacobian(_c_order, X_C)
    for x, v in [(X_F, V_C), (X_C, np.asfortranarray(V_C)), (X_F, np.asfortranarray(V_C))]:
        value, tangent = dd.jit_jvp(_c_order)(x, v)
        np.testing.assert_allclose(value, _c_order(X_C), rtol=1e-15)
        np.testing.assert_allclose(tangent, expected.reshape(6, 6) @ V_C.ravel(), rtol=1e-7)
    jac = dd.jit_jacobian(_c_order)
    for x in (X_C, X_F, X_C):
        np.testing.assert_allclose(jac(x), expected, rtol=1e-7)
    sj = dd.SparseJacobian(_c_order, X_C, jit=True)
    jx = sj(X_F)
    jx = jx.toarray() if hasattr(jx, "toarray") else np.asarray(jx)
    np.testing.assert_allclose(jx.reshape(6, 2, 3), expected, rtol=1e-7)


_MODES = {
    "jvp": lambda f: dd.jvp(f, X_F, V_C),
    "jacobian": lambda f: dd.jacobian(f, X_C),
    "jit_jvp": lambda f: dd.jit_jvp(f)(X_F, V_C),
    "jit_jacobian": lambda f: dd.jit_jacobian(f)(X_C),
    "sparse_jit": lambda f: dd.SparseJacobian(f, X_C, jit=True)(X_F),
}


@pytest.mark.parametrize("mode", sorted(_MODES))
@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.ravel(x, order="K") ** 2,
        lambda x: x.flatten("A") ** 2,
        lambda x: x.T.ravel("K") ** 2,
        lambda x: x.reshape(-1, order="A") ** 2,
    ],
    ids=["ravel K", "flatten A", "transposed ravel K", "reshape A"],
)
def test_memory_order_is_refused_by_name_in_every_mode(f, mode):
    with pytest.raises(TypeError, match="memory layout"):
        _MODES[mode](f)


_X3 = np.array([0.411, -0.691, -1.377])


def _listed(a):
    """np.array of a list of elements: an object array of traced duals in the compiler."""
    return np.array([a[k] * 1.0 for k in range(a.shape[0])])


@pytest.mark.filterwarnings("ignore::dualdiff.ObjectArrayWarning")
def test_compiled_xlogy_of_a_listed_array_keeps_float64():
    """Found by a hunt: xlogy/xlog1py of an np.array([...]) of traced elements compiled to
    object-dtype values and Jacobian, where multiply of the same array was float64 (the
    compiler's rules did not lift an object array of traced duals, as eager mode does)."""

    def f(a):
        c = np.rint(a)
        return dd.xlog1py(c, _listed(c) + 1.1)

    assert dd.jacobian(f, _X3).dtype == np.float64
    assert dd.jit_jacobian(f)(_X3).dtype == np.float64


@pytest.mark.filterwarnings("ignore::dualdiff.ObjectArrayWarning")
def test_compiled_xlog1py_of_a_listed_array_matches_eager():
    """Found by a hunt: the compiler refused xlog1py(x, np.array([...])) of traced elements
    with 'a traced array as a truth value' (the safe rule's finiteness check on a partial
    computed from the object array), which eager mode differentiates."""

    def f(a):
        return dd.xlog1py(a, _listed(np.rint(a)) + 1.1)

    np.testing.assert_allclose(dd.jit_jacobian(f)(_X3), dd.jacobian(f, _X3))
    np.testing.assert_allclose(dd.jit_jacobian(f)(_X3 + 0.3), dd.jacobian(f, _X3 + 0.3))
