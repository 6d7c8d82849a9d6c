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
