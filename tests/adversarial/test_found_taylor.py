"""Minimal reproductions of what the hunt for silently wrong higher-order and nested derivatives
found (Taylor mode, jacobian of jacobian, derivative inside jacobian), one test each.

Each says what was observed and what is expected; the references are closed forms or numeric
differences, never dualdiff itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import dualdiff as dd


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# (function, its second derivative) at 0, where the stable forms of sigmoid and softplus switch
# branch on |x| and sign and maximum tie
SECOND = {
    "softplus": (dd.softplus, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "sigmoid": (dd.sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x))),
    "sin": (np.sin, lambda x: -math.sin(x)),
}


@pytest.mark.parametrize("name", sorted(SECOND))
@pytest.mark.parametrize("x", [0.0, 0.4])
def test_jacobian_of_jacobian_at_a_scalar_point(name, x):
    # the inner jacobian at the outer one's scalar Dual made a 0-d object array of it, so f ran
    # on NumPy's object loops: softplus''(0) came out 0.0 (0.25 expected)
    f, second = SECOND[name]
    assert dd.jacobian(lambda y: dd.jacobian(f, y), x) == pytest.approx(second(x), abs=1e-14)
    got = dd.derivative(lambda y: dd.jacobian(f, y), x)
    assert got == pytest.approx(second(x), abs=1e-14)


@pytest.mark.parametrize(
    "f",
    [
        np.sign,
        np.floor,
        lambda x: np.maximum(x, 0.0),
        lambda x: np.clip(x, 0.0, 1.0),
        lambda x: np.heaviside(x, 0.5),
        lambda x: np.fmod(1.0, x),
        lambda x: np.arctan2(1.0, x),
        lambda x: np.copysign(x, -1.0),
        lambda x: np.float_power(x, 2),
        lambda x: np.logaddexp(x, 0.0),
    ],
)
def test_jacobian_of_jacobian_of_numpy_functions(f):
    # the same object loops raised AttributeError ('int' object has no attribute 'ndim' after
    # np.sign, 'float' object has no attribute 'fmod') or "ufunc 'heaviside' not supported"
    x = 1.7
    h = 1e-5
    inner = dd.jacobian(f, x + h) - dd.jacobian(f, x - h)
    assert dd.jacobian(lambda y: dd.jacobian(f, y), x) == pytest.approx(inner / (2 * h), abs=1e-6)
