"""``ufunc.at`` on Taylor series for every ufunc with a series rule (``add.at`` and
``subtract.at`` have their own handler): NumPy's value exactly, NumPy's order where indices
repeat, and coefficients 1 to 3 against numeric differences."""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric

BASE = np.abs(np.random.default_rng(1).standard_normal((3, 4))) + 0.5

CASES = [
    # (ufunc, index, takes an operand b): repeated indices, tuples of indices, slices
    (np.multiply, [0, 2, 0, 0, 1], True),
    (np.maximum, (0, [0, 1, 1]), True),
    (np.negative, [2, 0, 2], False),
    (np.multiply, (slice(None), [1, 1]), True),
    (np.sin, ([0, 0, 0], [1, 1, 1]), False),
    (np.arctan2, ([1, 1, 2], [3, 3, 0]), True),  # not commutative: the order of visits shows
]


@pytest.mark.parametrize("ufunc, index, binary", CASES, ids=[c[0].__name__ for c in CASES])
def test_ufunc_at_on_series(ufunc, index, binary):
    shape = np.shape(BASE[index])
    b = np.random.default_rng(2).uniform(0.5, 2.0, shape)

    def f(t):
        y = BASE * (1 + t) + t * t
        if binary:
            ufunc.at(y, index, b * (1 - t))
        else:
            ufunc.at(y, index)
        return y

    coefficients = dd.taylor(f, 0.3, 3)
    np.testing.assert_array_equal(coefficients[..., 0], f(0.3))
    for k, factorial in ((1, 1), (2, 2), (3, 6)):
        expected = numeric.derivative(f, 0.3, n=k, method="richardson")
        np.testing.assert_allclose(coefficients[..., k] * factorial, expected, atol=1e-6)
