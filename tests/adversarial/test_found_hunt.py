"""Minimal reproductions of what the hunt of issue 11's last round found (in-place updates,
keywords, ties, dtypes, Python-level constructs), one test each.

Each says what was observed and what is expected; the references are closed forms, plain NumPy
or numeric differences, never dualdiff itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd

XC = np.array([0.3 + 0.2j, -0.7 + 0.1j, 1.1 - 0.5j])
VC = np.array([1.0 + 0.5j, 0.2, -1j])


def _line_derivative(f, x, v, h=1e-6):
    """d/dt f(x + t v) at t = 0 (real t) by central differences of plain NumPy."""
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


def _written(write):
    def f(x):
        y = x * 1.0
        write(y, x)
        return y

    return f


# writes into one part of complex memory; the compiler numbered whole elements, so a write
# through .real replaced the imaginary part too (a silently wrong value and tangent), and one
# through .imag refused at replay with "a traced view became a copy"
PART_WRITES = {
    "y.real[:] = x.imag**2": lambda y, x: y.real.__setitem__(slice(None), x.imag**2),
    "y.real[1:] = 0": lambda y, x: y.real.__setitem__(slice(1, None), 0.0),
    "r = y.real; r *= 2": lambda y, x: y.real.__imul__(2.0),
    "y.imag += x.real": lambda y, x: y.imag.__iadd__(x.real),
    "y.real[[0, 0, 2]] = 3 x.imag": lambda y, x: y.real.__setitem__([0, 0, 2], 3 * x.imag),
    "y.real[argmax(x.real)] = 0": lambda y, x: y.real.__setitem__(np.argmax(x.real), 0.0),
    "np.sin(x.real, out=y.imag)": lambda y, x: np.sin(x.real, out=y.imag),
    "np.copyto(y.imag, x.real)": lambda y, x: np.copyto(y.imag, x.real),
    "y[1:].real += y[:-1].imag": lambda y, x: y[1:].real.__iadd__(y[:-1].imag),
    "np.put(y.real, [0, 2], x.imag[:2])": lambda y, x: np.put(y.real, [0, 2], x.imag[:2]),
    "np.add.at(y.real, [0, 0, 2], x.imag)": lambda y, x: np.add.at(y.real, [0, 0, 2], x.imag),
    "np.subtract.at(y.imag, [1, 1], x.real[0])": (
        lambda y, x: np.subtract.at(y.imag, [1, 1], x.real[0])
    ),
}


@pytest.mark.parametrize("name", sorted(PART_WRITES))
def test_jit_write_into_one_part_of_complex_memory(name):
    f = _written(PART_WRITES[name])
    compiled = dd.jit_jvp(f)
    for x in (XC, XC[::-1] * 1.5):  # traced at the first point, replayed at the second
        value, tangent = compiled(x, VC)
        np.testing.assert_allclose(value, f(x.copy()), rtol=1e-13, err_msg=name)
        np.testing.assert_allclose(tangent, _line_derivative(f, x, VC), atol=1e-6, err_msg=name)


def test_jit_jacobian_write_into_one_part_of_complex_memory():
    f = _written(PART_WRITES["y.imag += x.real"])  # y_j = x_j + i re(x_j)
    jac = dd.jit_jacobian(f)(XC)
    # along a real direction e_j: d y_j = 1 + i
    np.testing.assert_allclose(jac, np.eye(3) * (1 + 1j), atol=1e-12)
    f = _written(PART_WRITES["y.real[:] = x.imag**2"])  # y_j = im(x_j)**2 + i im(x_j)
    np.testing.assert_allclose(dd.jit_jacobian(f)(XC), np.zeros((3, 3)), atol=1e-12)


@pytest.mark.parametrize("mode", ["jacobian", "jvp", "taylor"])
def test_put_a_shorter_plain_array_into_a_dual_array(mode):
    """np.put(a, [0, 1, 0], [0.55, 0.1]) repeats the values ([0.55, 0.1, 0.55]); with a plain
    array of values into a DualArray it raised AttributeError ('numpy.ndarray' object has no
    attribute 'value') from inside dualdiff."""

    def f(x):
        a = np.sin(x)
        np.put(a, [0, 1, 0], np.array([0.55, 0.1]))
        return a

    x = np.array([0.4, 0.2, 0.3])
    expected = np.diag([0.0, 0.0, np.cos(0.3)])
    if mode == "jacobian":
        np.testing.assert_allclose(dd.jacobian(f, x), expected, atol=1e-15)
    elif mode == "jvp":
        value, tangent = dd.jvp(f, x, np.ones(3))
        np.testing.assert_allclose(value, [0.55, 0.1, np.sin(0.3)])
        np.testing.assert_allclose(tangent, expected.sum(1), atol=1e-15)
    else:
        np.testing.assert_allclose(
            dd.derivative(lambda t: f(x + t), 0.0, n=2), [0.0, 0.0, -np.sin(0.3)], atol=1e-15
        )
