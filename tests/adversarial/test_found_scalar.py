"""Minimal reproductions of what the hunt of the scalar ``Dual`` and of object arrays of duals
found, one test each.

Each says what was observed and what is expected; the references are closed forms, plain NumPy
or numeric differences, never dualdiff itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import Dual


@pytest.mark.parametrize(
    "other", [np.array(2.5), np.array([2.5, -1.5])], ids=["0-d array", "1-d array"]
)
def test_divmod_of_a_dual_and_an_array(other):
    # divmod(d, array) returned (NotImplemented, NotImplemented): __divmod__ built a tuple of
    # the two operators' NotImplemented instead of deferring, and Python took it as the answer
    x = 1.7
    q, r = divmod(Dual(x, 1.0), other)
    np.testing.assert_array_equal(np.asarray(q.value), np.floor_divide(x, other))
    np.testing.assert_allclose(np.asarray(r.value), np.remainder(x, other))
    np.testing.assert_array_equal(np.asarray(q.tangent), np.zeros(np.shape(other)))  # d(x//c) = 0
    np.testing.assert_array_equal(np.asarray(r.tangent), np.ones(np.shape(other)))  # d(x%c) = 1


def test_divmod_of_a_dual_and_an_unsupported_type_raises():
    # the tuple of NotImplemented hid Python's TypeError too
    with pytest.raises(TypeError):
        divmod(Dual(1.7, 1.0), "a")
    with pytest.raises(TypeError):
        divmod("a", Dual(1.7, 1.0))
