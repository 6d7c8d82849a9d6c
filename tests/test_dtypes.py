"""NumPy's dtype rules in every mode, over the whole rule table.

For each rule, float32 and float64 inputs, and constants of each kind (a Python float, which is
weak under NEP 50 and never promotes; a NumPy float32 or float64 scalar, which is strong), every
mode must give the value NumPy gives, in NumPy's dtype, a tangent in that same dtype, and the
derivative of the program NumPy evaluates: in float64 when the result is float64, even where a
constant is a float32 (its partials are then taken in float64, not in the constant's precision).

The reference derivative is a Richardson-extrapolated central difference of the same program in
float64 (the constant as NumPy promotes it), accurate to ~1e-11 relative on these points.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd
from dualdiff.rules import RULES

UNARY = sorted(name for name, rule in RULES.items() if rule.nin == 1)
BINARY = sorted(name for name, rule in RULES.items() if rule.nin == 2)
DTYPES = [np.float32, np.float64]
CONSTANTS = ["python", "float32", "float64"]


def _points(rule, arg: int, dtype) -> np.ndarray:
    """Three points inside the rule's domain for argument ``arg``, off kinks and integers."""
    lo, hi = rule.domain[arg]
    return (lo + (hi - lo) * np.array([0.137, 0.561, 0.853])).astype(dtype)


def _constant(rule, arg: int, kind: str):
    lo, hi = rule.domain[arg]
    c = lo + (hi - lo) * 0.3187
    if rule.name == "ldexp" and arg == 1:
        return 2  # an integer exponent
    return {"python": float(c), "float32": np.float32(c), "float64": np.float64(c)}[kind]


def _call(rule, *args):
    """The rule as a user calls it: the NumPy ufunc where there is one (``__array_ufunc__``)."""
    return (rule.ufunc or rule.function)(*args)


def _programs(name: str, dtype, kind: str | None, position: int):
    """``(f, x, float64 program, float64 x)``: f of the dual argument at ``position``."""
    rule = RULES[name]
    x = _points(rule, position, dtype)
    x64 = x.astype(np.float64)
    if rule.nin == 1:
        return (lambda u: _call(rule, u)), x, (lambda u: _call(rule, u)), x64
    c = _constant(rule, 1 - position, kind)
    # the constant NumPy computes with in a float64 program: a float32 is promoted exactly
    c64 = c if type(c) in (int, float) else np.float64(c)
    if position == 0:
        return (lambda u: _call(rule, u, c)), x, (lambda u: _call(rule, u, c64)), x64
    return (lambda u: _call(rule, c, u)), x, (lambda u: _call(rule, c64, u)), x64


def _reference(g, x64: np.ndarray) -> np.ndarray:
    """d g(x)/dx elementwise: Richardson's extrapolation of central differences, in float64."""
    h = 1e-3 * np.maximum(1.0, np.abs(x64))

    def central(h):
        return (g(x64 + h) - g(x64 - h)) / (2 * h)

    return (4 * central(h / 2) - central(h)) / 3


def _cases():
    for name in UNARY:
        for dtype in DTYPES:
            yield pytest.param(name, dtype, None, 0, id=f"{name}-{np.dtype(dtype)}")
    for name in BINARY:
        for dtype in DTYPES:
            for kind in CONSTANTS:
                for position in (0, 1):
                    if name == "ldexp" and (position == 1 or kind != "python"):
                        continue  # the exponent is an integer: no derivative, one constant
                    yield pytest.param(
                        name, dtype, kind, position,
                        id=f"{name}-{np.dtype(dtype)}-{kind}-arg{position}",
                    )  # fmt: skip


MODES = ["jacobian", "jvp", "derivative", "dual", "taylor", "jit_jvp"]


def _run(mode: str, f, x: np.ndarray):
    """``(value or None, derivative)`` of f at x in ``mode`` (elementwise: J's diagonal)."""
    if mode == "jacobian":
        return None, dd.jacobian(f, x)
    if mode == "jvp":
        return dd.jvp(f, x, np.ones_like(x))
    if mode == "derivative":
        return None, dd.derivative(f, x)
    if mode == "taylor":
        return None, dd.taylor(f, x, 1)[..., 1]
    if mode == "jit_jvp":
        return dd.jit_jvp(f)(x, np.ones_like(x))
    raise AssertionError(mode)


@pytest.mark.parametrize("name, dtype, kind, position", list(_cases()))
def test_dtypes_and_derivatives_follow_numpy(name, dtype, kind, position):
    f, x, g, x64 = _programs(name, dtype, kind, position)
    want_value = f(x)
    vdt = np.asarray(want_value).dtype
    assert vdt.kind == "f"
    ref = _reference(g, x64)
    # float32 results: float32's accuracy; float64 ones: the float64 program's (a float32
    # constant's partials in float32 would be off by ~1e-8 relative)
    rtol = 2e-4 if vdt == np.float32 else 1e-9
    atol = rtol * max(1.0, float(np.max(np.abs(ref))))
    for mode in MODES:
        if mode == "dual":
            for i in range(len(x)):  # a NumPy scalar: seeded as a Dual
                d = dd.derivative(f, x[i])
                assert np.asarray(d).dtype == np.asarray(f(x[i])).dtype, f"{mode} dtype"
                np.testing.assert_allclose(d, ref[i], rtol=rtol, atol=atol, err_msg=mode)
            continue
        value, d = _run(mode, f, x)
        if value is not None:
            assert np.asarray(value).dtype == vdt, f"{mode}: value dtype"
            np.testing.assert_array_equal(value, want_value, err_msg=f"{mode}: value")
        assert np.asarray(d).dtype == vdt, f"{mode}: derivative dtype"
        if mode == "jacobian":
            d = np.diag(d)
        np.testing.assert_allclose(d, ref, rtol=rtol, atol=atol, err_msg=mode)


@pytest.mark.parametrize("name", BINARY)
def test_a_float32_constant_in_a_float64_program_is_exact(name):
    """The derivative with constant ``np.float32(c)`` is the one with ``np.float64(c)`` (the value
    NumPy computes with) to the last bits: partials in float64, in every mode."""
    if name == "ldexp":
        return
    rule = RULES[name]
    for position in (0, 1):
        f, x, g, x64 = _programs(name, np.float64, "float32", position)
        for mode in MODES:
            if mode == "dual":
                got = np.array([dd.derivative(f, xi) for xi in x])
                want = np.array([dd.derivative(g, xi) for xi in x])
            else:
                got, want = _run(mode, f, x)[1], _run(mode, g, x)[1]
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300, err_msg=f"{mode}")
        assert rule.nin == 2
