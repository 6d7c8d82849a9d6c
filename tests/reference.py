"""Independent references for derivative tests: high-order central differences of plain functions.

These never call dualdiff's derivative machinery, so a rule is checked against the function itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# 6th-order central difference for the first derivative (error ~ h**6 f^(7) / 140)
_FIRST = ((1, 45.0), (2, -9.0), (3, 1.0))
# 4th-order central difference for the second derivative (error ~ h**4 f^(6) / 90)
_SECOND = ((0, -30.0), (1, 16.0), (2, -1.0))


def directional(f: Callable[[Any], Any], x: Any, v: Any, h: float | None = None) -> Any:
    """d/dt f(x + t v) at t = 0, by a 6th-order central difference (x, v scalars or arrays)."""
    if h is None:
        h = 1e-3 * max(1.0, float(np.max(np.abs(x))))
    total = 0.0
    for j, c in _FIRST:
        total = total + c * (np.asarray(f(x + j * h * v)) - np.asarray(f(x - j * h * v)))
    return total / (60.0 * h)


def second(f: Callable[[Any], Any], x: Any, h: float | None = None) -> Any:
    """f''(x) by a 4th-order central difference."""
    if h is None:
        h = 2e-3 * max(1.0, abs(x))
    total = -30.0 * np.asarray(f(x))
    for j, c in _SECOND[1:]:
        total = total + c * (np.asarray(f(x + j * h)) + np.asarray(f(x - j * h)))
    return total / (12.0 * h * h)


def jacobian(f: Callable[[Any], Any], x: Any) -> np.ndarray:
    """The Jacobian of f at x column by column, shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(f(x))
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        columns.append(directional(f, x, e.reshape(x.shape)))
    jac = np.stack(columns, axis=-1) if columns else np.zeros(y.shape + (0,))
    return jac.reshape(y.shape + x.shape)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-8, atol: float = 1e-10) -> None:
    """Relative agreement scaled by the size of the expected values."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)
