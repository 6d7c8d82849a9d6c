"""Minimal reproductions of what the hunt of the function table and the sparsity tracer found
(keyword arguments, masks and indices computed from x, patterns reused at another point).

Each says what was observed and what is expected; the references are closed forms, plain NumPy
or numeric differences, never dualdiff itself.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric


def _copyto_where_from_x(x):
    y = x.copy()
    np.copyto(y, x[::-1], where=x > 0)
    return y


def test_sparsity_of_copyto_with_a_mask_computed_from_x():
    """np.copyto(y, x[::-1], where=x > 0): the tracer took the mask as a constant (no warning),
    so the pattern at one point missed what the other branch reads, and a SparseJacobian
    prepared there returned the first point's Jacobian at the second (1 where 0 belongs)."""
    x0 = np.array([1.0, -1.0, 2.0, -2.0])
    x1 = -x0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pattern valid everywhere: no warning, no re-trace
        pattern = dd.jacobian_sparsity(_copyto_where_from_x, x0)
        sparse = dd.SparseJacobian(_copyto_where_from_x, x0)
    for x in (x0, x1):
        expected = numeric.jacobian(_copyto_where_from_x, x)
        assert not (np.abs(expected) > 1e-8)[~pattern].any()
        np.testing.assert_allclose(sparse(x), expected, atol=1e-8)
        np.testing.assert_allclose(
            dd.jacobian(_copyto_where_from_x, x, sparsity="auto"), expected, atol=1e-8
        )


X32 = np.array([0.3, -0.7, 1.1, 0.4], dtype=np.float32)
V32 = np.array([1.0, -0.5, 0.25, 2.0], dtype=np.float32)


def _dtypes(f, x, v):
    """The dtypes of value and tangent in every mode, against NumPy's dtype of f(x)."""
    found = {}
    found["jvp"] = [a.dtype for a in dd.jvp(f, x, v)]
    found["jit_jvp"] = [a.dtype for a in dd.jit_jvp(f)(x, v)]
    series = dd.taylor(lambda t: f(x + t * v), 0.0, 2)
    found["taylor"] = [np.asarray(series[0]).dtype, np.asarray(series[1]).dtype]
    return found


@pytest.mark.parametrize("name", ["max", "min", "ptp", "amax(axis=0)"])
def test_max_of_float32_keeps_float32(name):
    """np.max of a float32 array: the compiler and Taylor mode came out float64 (value and
    tangent; the weights that share a tie's derivative were float64)."""
    f = {
        "max": np.max,
        "min": np.min,
        "ptp": np.ptp,
        "amax(axis=0)": lambda a: np.amax(a.reshape(2, 2), axis=0),
    }[name]
    expected = np.asarray(f(X32)).dtype
    assert expected == np.float32
    for mode, dtypes in _dtypes(f, X32, V32).items():
        assert dtypes == [expected, expected], (mode, dtypes)


@pytest.mark.parametrize(
    "name",
    ["where 0.0", "where 1", "where 1j", "where float64", "select", "select two scalars"],
)
def test_where_and_select_keep_numpy_dtype(name):
    """np.where(c, x32, 0.0) is float32 in NumPy (a Python number is weak): Taylor mode's
    coefficients came out float64 (complex128 beside 1j); the compiler left the tangent float32
    under a float64 or complex64 value; np.select([..], [x32, 2.0]) came out float64 in the
    compiler (two Python numbers met in a nested where)."""
    c = X32 > 0
    f = {
        "where 0.0": lambda y: np.where(c, y, 0.0),
        "where 1": lambda y: np.where(c, 1, y),
        "where 1j": lambda y: np.where(c, y, 1j),
        "where float64": lambda y: np.where(c, y, np.float64(2.0)),
        "select": lambda y: np.select([c], [y], 0.0),
        "select two scalars": lambda y: np.select([c, ~c], [y, 2.0]),
    }[name]
    expected = np.asarray(f(X32)).dtype
    for mode, dtypes in _dtypes(f, X32, V32).items():
        assert dtypes == [expected, expected], (mode, dtypes)
    # and the numbers: the tangent is v where y is taken
    _, tangent = dd.jit_jvp(f)(X32, V32)
    np.testing.assert_allclose(tangent, np.where(f(X32) == X32, V32, 0), rtol=1e-6)
