"""The ndarray methods shared by the array-like dual types give what the NumPy functions give."""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd

CALLS = [
    ("sum", (), {"axis": 0}),
    ("mean", (), {}),
    ("prod", (), {"axis": 1}),
    ("max", (), {}),
    ("min", (), {"axis": 0}),
    ("cumsum", (), {"axis": 1}),
    ("cumprod", (), {"axis": 0}),
    ("std", (), {}),
    ("var", (), {"axis": 1}),
    ("transpose", (), {}),
    ("swapaxes", (0, 1), {}),
    ("ravel", (), {}),
    ("trace", (), {}),
    ("clip", (0.5, 2.0), {}),
    ("diagonal", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_dualarray_methods_match_numpy_functions(name, args, kwargs):
    value = np.array([[0.3, 1.2, 2.5], [1.7, 0.9, 0.4]])
    tangent = np.arange(6.0).reshape(2, 3)
    x = dd.DualArray(value, tangent)
    method = getattr(x, name)(*args, **kwargs)
    function = getattr(np, name)(x, *args, **kwargs)
    np.testing.assert_array_equal(
        dd.arrays.dualarray.strip(method), dd.arrays.dualarray.strip(function)
    )
    np.testing.assert_array_equal(method.tangent, function.tangent)
    np.testing.assert_allclose(
        dd.arrays.dualarray.strip(method), getattr(value, name)(*args, **kwargs)
    )


def test_shape_methods_accept_both_spellings():
    x = dd.DualArray(np.arange(6.0), np.ones(6))
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == (2, 3)
    y = x.reshape(2, 3)
    assert y.T.shape == y.transpose().shape == y.transpose(1, 0).shape == (3, 2)
    assert y.mT.shape == (3, 2)
    assert x.flatten() is not x and x.flatten().shape == (6,)


def test_value_methods():
    x = dd.DualArray(np.array([0.0, 2.0, 1.0]), np.ones(3))
    assert x.argmax() == 1 and x.argmin() == 0
    np.testing.assert_array_equal(x.argsort(), [0, 2, 1])
    assert x.any() and not x.all()
    np.testing.assert_array_equal(x.nonzero()[0], [1, 2])


def test_taylor_series_have_the_same_methods():
    c = dd.taylor(lambda s: (s * np.array([[1.0, 2.0], [3.0, 4.0]])).sum(axis=0), 0.5, 2)
    np.testing.assert_allclose(c, [[2.0, 4.0, 0.0], [3.0, 6.0, 0.0]])
