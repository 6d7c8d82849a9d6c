"""Errors raised inside ``f`` by code that cannot take duals say what happened.

NumPy's object loops and compiled libraries raise their own errors on an object array of duals
("ufunc 'isnan' not supported for the input types", "Cannot cast ufunc 'solve1' input 1 from
dtype('O')"), which name neither the line that made the object array nor the fix: dualdiff adds
a note that does. Compiled code that calls ``f`` again after ``float(x)`` of a dual failed
(``scipy.optimize.brentq``) shows a SystemError; the TypeError that names the lost derivative
replaces it.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import dualdiff as dd

scipy_stats = pytest.importorskip("scipy.stats")
scipy_optimize = pytest.importorskip("scipy.optimize")

needs_notes = pytest.mark.skipif(sys.version_info < (3, 11), reason="add_note: Python 3.11+")


def notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


def quietly(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dd.ObjectArrayWarning)
        return call()


def solve_list(x):  # np.linalg.solve converts the list of duals to an object array, then fails
    return np.linalg.solve(np.eye(2), [x[0], 2 * x[1]])


NOTED = {
    "derivative": lambda: dd.derivative(scipy_stats.norm.pdf, 0.5),
    "derivative n=2": lambda: dd.derivative(scipy_stats.norm.pdf, 0.5, n=2),
    "derivative array": lambda: dd.derivative(scipy_stats.norm.pdf, np.array([0.5, 1.0])),
    "jvp": lambda: dd.jvp(scipy_stats.norm.pdf, 0.5, 1.0),
    "jacobian": lambda: dd.jacobian(solve_list, np.array([1.0, 2.0])),
    "jacobian chunked": lambda: dd.jacobian(solve_list, np.array([1.0, 2.0]), chunk=1),
    "taylor": lambda: dd.taylor(scipy_stats.norm.pdf, 0.5, 3),
    "hessian": lambda: dd.hessian(lambda x: solve_list(x).sum(), np.array([1.0, 2.0])),
    "nested derivative": lambda: dd.derivative(
        lambda y: dd.derivative(lambda x: scipy_stats.norm.pdf(x * y), 0.5), 0.3
    ),
}


@needs_notes
@pytest.mark.parametrize("name", NOTED)
def test_an_error_on_an_object_array_names_where_it_was_made(name):
    with pytest.raises((TypeError, ValueError)) as caught:
        quietly(NOTED[name])
    note = notes(caught.value)
    assert note.count("made an object array of duals at") == 1, note  # (once when nested too)
    assert "np.stack([...])" in note and "dualdiff.special" in note


@needs_notes
def test_the_note_names_the_frame_that_made_the_array():
    def f(x):
        a = np.exp([x, 1.0])  # a Python float in the object array has no .exp()
        return a

    with pytest.raises(TypeError) as caught:
        quietly(lambda: dd.derivative(f, 0.3))
    line = f.__code__.co_firstlineno + 1
    assert f"{__file__}:{line}" in notes(caught.value)


@needs_notes
def test_no_note_for_an_error_unrelated_to_an_object_array_of_an_earlier_call():
    # the first call makes an object array and succeeds; the second raises on its own
    assert quietly(lambda: dd.derivative(lambda x: np.array([x, x * x]), 2.0)).tolist() == [1, 4]

    def broken(x):
        return {}["missing"]

    with pytest.raises(KeyError) as caught:
        dd.derivative(broken, 2.0)
    assert notes(caught.value) == ""
    with pytest.raises(KeyError) as caught:
        dd.jacobian(broken, np.ones(2))
    assert notes(caught.value) == ""


@pytest.mark.parametrize(
    "call",
    [
        lambda f: dd.derivative(f, 1.0),
        lambda f: dd.derivative(f, 1.0, n=2),
        lambda f: dd.jvp(f, 1.0, 1.0),
    ],
    ids=["derivative", "derivative n=2", "jvp"],
)
def test_compiled_code_calling_on_after_a_lost_derivative_raises_the_type_error(call):
    def root(a):  # brentq converts f's dual to a C double, which fails, then calls f again
        return scipy_optimize.brentq(lambda x: x**3 - a, 0.0, 2.0)

    with pytest.raises(TypeError, match="would drop its tangent"):
        call(root)
