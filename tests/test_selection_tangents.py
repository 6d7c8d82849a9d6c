"""A selection (maximum, minimum, fmax, fmin, clip, np.max, np.min) passes on the tangent of the
argument it selects and nothing of the other: not ``0 * inf = nan`` where the other's derivative
is infinite (``np.maximum(0.5, np.cbrt(t))`` at 0), nor ``0 * nan`` beside a NaN that fmax/fmin
ignore (``np.fmax(t, np.sqrt(-t))``). Every mode gave nan for these; the reference is central
differences of plain NumPy (the functions are smooth around the points)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric

PROGRAMS = {
    "maximum beside an infinite slope": (lambda t: np.maximum(0.5, np.cbrt(t)), 0.0),
    "minimum beside an infinite slope": (lambda t: np.minimum(np.cbrt(t), -0.5), 0.0),
    "clip of an infinite slope": (lambda t: np.clip(np.cbrt(t), 0.5, 1.0), 0.0),
    "fmax beside an infinite slope": (lambda t: np.fmax(np.cbrt(t), 0.5) * t + t, 0.0),
    "fmax beside a NaN": (lambda t: np.fmax(t, np.sqrt(-t)) ** 2, 0.7),
    "fmin beside a NaN": (lambda t: np.fmin(np.log(-t), t * t), 0.7),
    "max of a stack": (lambda t: np.max(np.stack([np.cbrt(t), 0.5 + t]), axis=0), 0.0),
    "min of a stack": (lambda t: np.min(np.stack([np.cbrt(t) + 2.0, t * t]), axis=0), 0.0),
    "relu of a root": (lambda t: np.maximum(np.cbrt(t) - 1.0, 0.0) + np.sin(t), 0.0),
}

MODES = {
    "derivative": lambda f, t: dd.derivative(f, t),
    "jvp": lambda f, t: dd.jvp(lambda a: f(a[0]), np.array([t]), np.array([1.0]))[1],
    "jacobian": lambda f, t: dd.jacobian(lambda a: f(a), np.array([t, t])).diagonal(),
    "taylor": lambda f, t: dd.taylor(f, t, 2)[1],
    "jit_jvp": lambda f, t: dd.jit_jvp(lambda a: f(a[0]))(np.array([t]), np.array([1.0]))[1],
    "jit_jacobian": lambda f, t: dd.jit_jacobian(lambda a: f(a))(np.array([t, t])).diagonal(),
    "second derivative": lambda f, t: dd.derivative(f, t, n=2),
    "nested": lambda f, t: dd.derivative(lambda u: dd.derivative(f, u), t),
    "hessian": lambda f, t: dd.hessian(lambda a: f(a[0]), np.array([t]))[0, 0],
}
SECOND = {"second derivative", "nested", "hessian"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PROGRAMS)
def test_an_unselected_argument_gives_nothing(name, mode):
    f, t = PROGRAMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if mode in SECOND:
            expected = numeric.derivative(lambda u: numeric.derivative(f, u), t)
        else:
            expected = numeric.derivative(f, t)
        got = np.asarray(MODES[mode](f, t))
    assert np.isfinite(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_selection_still_propagates_what_it_selects():
    """The selected argument's own infinite or NaN tangent is kept (it is the derivative)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert dd.derivative(lambda t: np.maximum(np.cbrt(t), -0.5), 0.0) == np.inf
        assert np.isnan(dd.derivative(lambda t: np.maximum(t, np.nan), 1.0) * np.nan)
        x = np.array([0.0, 0.0])
        tangent = dd.jvp(lambda a: np.maximum(np.cbrt(a), [-1.0, 1.0]), x, np.ones(2))[1]
    assert tangent[0] == np.inf and tangent[1] == 0.0
