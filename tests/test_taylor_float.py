"""Taylor mode's fast path for a float value (``_FLOAT_RULES``, ``**`` with a constant exponent,
``derivative(f, x, n >= 2)`` on a float) against independent references.

References: closed forms of the k-th derivatives (exp, sin, cos, sinh, cosh, log, powers; the
derivative polynomials of tan and tanh in exact integer arithmetic), identities between functions
of a non-linear series, central differences (``dualdiff.numeric``), and the general path: the same
program on a NumPy float64 point, whose coefficients are NumPy scalars and whose values come from
NumPy's functions, so that none of the fast code runs.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.dual.dual import Dual
from dualdiff.rules.elementwise import RULES
from dualdiff.series import taylor as taylor_module
from dualdiff.series.taylor import TAYLOR_RULES, Taylor

ORDERS = [1, 2, 3, 4, 5, 6, 7, 8, 20]
FAST = sorted(taylor_module._FLOAT_RULES)


def close(a, b, k, rtol=1e-12):
    """Agreement to rounding at order ``k``: relative, with an absolute floor at the scale of the
    reference's order-k size (the coefficients of the series are rounded, and cancel)."""
    scale = max(1.0, abs(b)) * (2.0**k if k > 8 else 1.0)
    return abs(a - b) <= rtol * scale * (1 + k)


# ---------------------------------------------------------------------------------------------
# Closed forms: f(a·x + b) at x = 0.3, every fast rule, both the seed branch (a linear argument)
# and the branch of a general series (the same function of a·x + b + (x - x0)**2, whose higher
# derivatives at x0 are those of the linear argument plus the terms the square adds: compared
# against the general path below)
# ---------------------------------------------------------------------------------------------


def _falling(p, k):
    out = 1.0
    for j in range(k):
        out *= p - j
    return out


def _derivative_polynomial(k, sign):
    """Integer coefficients of ``P_k`` with ``tan⁽ᵏ⁾ = P_k(tan)`` (``sign = 1``) or
    ``tanh⁽ᵏ⁾ = P_k(tanh)`` (``sign = -1``): ``P_{k+1}(y) = (1 + sign·y²)·P_k'(y)``."""
    p = [0, 1]  # y
    for _ in range(k):
        d = [j * p[j] for j in range(1, len(p))] or [0]
        out = [0] * (len(d) + 2)
        for j, c in enumerate(d):
            out[j] += c
            out[j + 2] += sign * c
        p = out
    return p


def _polyval(p, y):
    return math.fsum(c * y**j for j, c in enumerate(p))


A, B, X0 = 1.3, -0.2, 0.3
T = A * X0 + B

CLOSED = {
    "exp": lambda k: A**k * math.exp(T),
    "expm1": lambda k: A**k * math.exp(T),
    "sin": lambda k: A**k * math.sin(T + k * math.pi / 2),
    "cos": lambda k: A**k * math.cos(T + k * math.pi / 2),
    "sinh": lambda k: A**k * (math.sinh(T) if k % 2 == 0 else math.cosh(T)),
    "cosh": lambda k: A**k * (math.cosh(T) if k % 2 == 0 else math.sinh(T)),
    "log": lambda k: (-1) ** (k - 1) * math.factorial(k - 1) * A**k / (T + 1.0) ** k,
    "sqrt": lambda k: A**k * _falling(0.5, k) * (T + 1.0) ** (0.5 - k),
    "tan": lambda k: A**k * _polyval(_derivative_polynomial(k, 1), math.tan(T)),
    "tanh": lambda k: A**k * _polyval(_derivative_polynomial(k, -1), math.tanh(T)),
}
SHIFT = {"log": 1.0, "sqrt": 1.0}  # log and sqrt of a·x + b + 1 (positive at x0)


def test_every_fast_rule_has_a_closed_form():
    assert set(CLOSED) == set(FAST)


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("k", ORDERS)
def test_fast_rule_against_closed_form(name, k):
    shift = SHIFT.get(name, 0.0)
    function = RULES[name].array
    got = dd.derivative(lambda x: function(A * x + (B + shift)), X0, n=k)
    assert type(got) is float
    assert close(got, CLOSED[name](k), k, rtol=1e-13), (got, CLOSED[name](k))


@pytest.mark.parametrize("k", ORDERS)
@pytest.mark.parametrize("p", [-1.5, 0.5, 3, 2.5, -2, 1, 0])
def test_power_against_closed_form(k, p):
    got = dd.derivative(lambda x: (A * x + 1.0) ** p, X0, n=k)
    polynomial = p >= 0 and p % 1 == 0
    want = 0.0 if polynomial and k > p else A**k * _falling(p, k) * (A * X0 + 1.0) ** (p - k)
    assert type(got) is float
    assert close(got, want, k, rtol=1e-13), (got, want)


# ---------------------------------------------------------------------------------------------
# Identities on a non-linear series (the general branch of each fast rule)
# ---------------------------------------------------------------------------------------------

IDENTITIES = {
    # f(x) that is constant (or x itself) in exact arithmetic, written with the fast rules
    "sin²+cos²": (lambda x: np.sin(np.exp(x)) ** 2 + np.cos(np.exp(x)) ** 2, 0.0),
    "cosh²-sinh²": (lambda x: np.cosh(np.sin(x)) ** 2 - np.sinh(np.sin(x)) ** 2, 0.0),
    "exp·exp(-)": (lambda x: np.exp(np.sin(x)) * np.exp(-np.sin(x)), 0.0),
    "expm1-exp": (lambda x: np.expm1(np.tanh(x)) - np.exp(np.tanh(x)), 0.0),
    "log(exp)": (lambda x: np.log(np.exp(np.cos(x) + x)) - np.cos(x), 1.0),
    "sqrt²": (lambda x: np.sqrt(np.exp(x) + x) ** 2 - np.exp(x), 1.0),
    "tan-sin/cos": (lambda x: np.tan(np.sinh(x)) - np.sin(np.sinh(x)) / np.cos(np.sinh(x)), 0.0),
    "tanh-sinh/cosh": (lambda x: np.tanh(x * x + x) - np.sinh(x * x + x) / np.cosh(x * x + x), 0.0),
    "pow": (lambda x: ((np.exp(x) + 1.0) ** 1.5) ** (1 / 1.5) - np.exp(x), 0.0),
}


@pytest.mark.parametrize("name", sorted(IDENTITIES))
@pytest.mark.parametrize("k", ORDERS)
def test_identities_on_a_general_series(name, k):
    f, first = IDENTITIES[name]
    got = dd.derivative(f, 0.4, n=k)
    want = first if k == 1 else 0.0
    assert abs(got - want) <= 1e-12 * 4.0**k * math.factorial(k), got


# ---------------------------------------------------------------------------------------------
# The fast path against the general path (a NumPy float64 point) and numeric differences
# ---------------------------------------------------------------------------------------------

UNARY = {
    "exp": np.exp,
    "expm1": np.expm1,
    "sin": np.sin,
    "cos": np.cos,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tan": np.tan,
    "tanh": np.tanh,
    "log": lambda x: np.log(x * x + 1.0),
    "sqrt": lambda x: np.sqrt(x * x + 0.5),
    "dd.exp": dd.exp,
    "dd.sin": dd.sin,
    # no fast rule: through the general path whatever the point
    "arctan": np.arctan,
    "sigmoid": dd.sigmoid,
    "cbrt": lambda x: np.cbrt(x + 3.0),
    "arcsinh": np.arcsinh,
    "sinc": np.sinc,
}
BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "pow": lambda a, b: (a * a + 1.0) ** 1.25 - b,
}


def _program(draw):
    """A small program: a list of steps, each a unary function of an earlier value or a binary
    one of two earlier values (value 0 is x)."""
    steps = []
    for i in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, i))))
        else:
            op = draw(st.sampled_from(sorted(BINARY)))
            steps.append(("b", op, draw(st.integers(0, i)), draw(st.integers(0, i))))
    return steps


def _run(steps, x):
    values = [x]
    for step in steps:
        if step[0] == "u":
            values.append(UNARY[step[1]](values[step[2]] * 0.5))  # * 0.5: stays in the domains
        else:
            values.append(BINARY[step[1]](values[step[2]], values[step[3]]))
    return values[-1]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data(), x=st.floats(-1.2, 1.2), k=st.sampled_from(ORDERS))
def test_programs_fast_path_against_general_path(data, x, k):
    steps = _program(data.draw)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = dd.derivative(lambda t: _run(steps, t), x, n=k)
        general = dd.derivative(lambda t: _run(steps, t), np.float64(x), n=k)
        series = dd.taylor(lambda t: _run(steps, t), np.float64(x), k)
    assert isinstance(fast, float)
    assert type(general) is np.float64
    if not np.isfinite(general):
        assert np.isnan(general) == np.isnan(fast) and (np.isnan(fast) or fast == general)
        return
    # the general path's own coefficients give the scale of the rounding at order k
    scale = float(np.max(np.abs(series)[np.isfinite(series)], initial=1.0)) * math.factorial(k)
    assert abs(fast - general) <= 1e-11 * max(scale, 1.0), (fast, general, steps)
    if k <= 2:
        numeric = dd.numeric.derivative(lambda t: _run(steps, t), x, n=k)
        assert abs(fast - numeric) <= 1e-4 * max(1.0, abs(numeric), scale), (fast, numeric)


def test_the_fast_path_runs(monkeypatch):
    calls = []
    for name, fn in list(taylor_module._FLOAT_RULES.items()):
        monkeypatch.setitem(
            taylor_module._FLOAT_RULES,
            name,
            lambda rule, u, n, fn=fn, name=name: calls.append(name) or fn(rule, u, n),
        )
    dd.derivative(lambda x: np.exp(np.sin(x)), 0.7, n=3)
    assert calls == ["sin", "exp"]
    calls.clear()
    dd.derivative(lambda x: np.exp(np.sin(x)), np.float64(0.7), n=3)  # NumPy coefficients
    dd.derivative(lambda x: np.exp(np.sin(x)), 0.7 + 0j, n=3)  # complex
    assert calls == []


# ---------------------------------------------------------------------------------------------
# Fallback: what the fast path does not finish, the general path computes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.exp(np.exp(x * 800.0)),  # math.exp overflows: NumPy's inf
        lambda x: np.log(x - 5.0),  # math.log(-4.3): NumPy's nan
        lambda x: np.sqrt(x - 5.0),
        lambda x: np.sqrt(x - x),  # sqrt'(0) = inf: the constant convention
        lambda x: (x - 0.7) ** -0.5,  # 0 ** -0.5: math.pow raises
        lambda x: (x - 5.0) ** 0.5,
        lambda x: np.sinh(x * 1000.0),
        lambda x: np.tan(np.exp(x * 1000.0)),
        lambda x: np.sin(x * math.inf),
        lambda x: np.exp(np.sin(x * math.nan)),
    ],
)
@pytest.mark.parametrize("k", [2, 5])
def test_float_errors_fall_back_as_the_general_path_computes(f, k):
    # (the warnings may differ: Python floats overflow to inf silently where NumPy's warn)
    with np.errstate(all="ignore"):
        fast, general = dd.derivative(f, 0.7, n=k), dd.derivative(f, np.float64(0.7), n=k)
    assert fast == general or (math.isnan(fast) and math.isnan(general))


def test_float_errors_raise_as_the_general_path_does():
    with np.errstate(all="raise"):
        for x in (0.7, np.float64(0.7)):
            with pytest.raises(FloatingPointError):
                dd.derivative(lambda x: np.log(x - 5.0), x, n=3)
        # sqrt of x - x: the recurrence's division is dualdiff's own, not raised
        assert dd.derivative(lambda x: np.sqrt(x - x) + x, 0.7, n=3) == 0.0


@pytest.mark.parametrize("k", ORDERS)
def test_rules_without_a_fast_version_still_work(k):
    # arcsinh(x) has no fast rule: the general path, checked against exp's closed form through
    # sinh(arcsinh(x)) = x and against the general path on a NumPy point
    assert "arcsinh" not in taylor_module._FLOAT_RULES
    got = dd.derivative(lambda x: np.sinh(np.arcsinh(x)), 0.6, n=k)
    assert abs(got - (1.0 if k == 1 else 0.0)) <= 1e-12 * 3.0**k * math.factorial(k)
    f = lambda x: np.exp(np.arcsinh(x) + dd.sigmoid(x))  # noqa: E731
    assert close(dd.derivative(f, 0.6, n=k), dd.derivative(f, np.float64(0.6), n=k), k, 1e-12)


# ---------------------------------------------------------------------------------------------
# The same numbers for any coefficient types, and the types of the result
# ---------------------------------------------------------------------------------------------


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, Dual):
        return a.tag == b.tag and _same(a.value, b.value) and _same(a.tangent, b.tangent)
    return np.array_equal(a, b, equal_nan=True)


COEFFICIENTS = [
    [0.4, 1.0],
    [0.4, -0.75, 0.3, 0.01, -2.0],
    [0.4, np.float32(1.5), np.float64(0.25)],
    [0.4, 0.5j, 1.0],
    [0.4, Dual(1.0, 2.0, 0), 0.5],
    [0.4, np.array([1.0, 2.0])],
    [-0.0, 0.0],
    [0.4, math.inf, 1.0],
]


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("u", COEFFICIENTS, ids=range(len(COEFFICIENTS)))
@pytest.mark.parametrize("order", [1, 3, 8])
def test_fast_rule_gives_the_general_rules_numbers(name, u, order):
    rule = RULES[name]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            general = TAYLOR_RULES[name](rule, list(u), order)
        except (ArithmeticError, ValueError):
            general = None
        try:
            fast = taylor_module._FLOAT_RULES[name](rule, list(u), order)
        except (ArithmeticError, ValueError):
            fast = None
    if fast is None:  # the general path takes over (tested above)
        return
    assert general is not None
    assert len(fast) == len(general)
    assert all(_same(a, b) for a, b in zip(fast, general)), (fast, general)


@pytest.mark.parametrize("x", [0.7, 2, np.float32(0.7), np.float64(0.7), 0.7 + 0.1j])
def test_result_types_are_kept(x):
    y = dd.derivative(lambda t: np.exp(np.sin(t)) + t**1.5, x, n=3)
    want = {float: float, int: float}.get(type(x), type(x))
    for result in (y, dd.higher_derivative(lambda t: np.tan(t), x, 3)):
        if type(x) is complex:  # a complex number (NumPy's, from np.power)
            assert isinstance(result, complex)
        else:
            assert type(result) is want


def test_a_taylor_of_float_value_keeps_its_type():
    y = np.sin(Taylor([0.5, 1.0], order=4))
    assert type(y) is Taylor and y.order == 4 and all(type(c) is float for c in y.coefficients)
    z = Taylor([0.5, 1.0], order=4) ** 2.5
    assert all(type(c) is float for c in z.coefficients)
    assert z.coefficients[2] == pytest.approx(2.5 * 1.5 / 2 * 0.5**0.5, rel=1e-15)


# ---------------------------------------------------------------------------------------------
# Every rule of the table on a float point (its fast rule, or the general path on Python floats)
# against the same rule on a NumPy float64 point (NumPy scalar coefficients, no fast code)
# ---------------------------------------------------------------------------------------------


def _inside(domain, fraction):
    lo, hi = domain
    return lo + fraction * (hi - lo)


def _rule_program(rule):
    """``f(x)`` applying ``rule`` to arguments inside its domain that move with ``x`` (near 0):
    a non-linear series for a unary rule, both arguments for a binary one."""
    fn = rule.function
    if rule.nin == 1:
        a = _inside(rule.domain[0], 0.37)
        return lambda x: fn(a + 0.5 * x + 0.25 * x * x)
    a, b = _inside(rule.domain[0], 0.37), _inside(rule.domain[1], 0.61)
    if rule.name == "ldexp":  # an integer exponent
        return lambda x: fn(a + 0.5 * x + 0.25 * x * x, 3)
    return lambda x: fn(a + 0.5 * x + 0.25 * x * x, b - 0.3 * x)


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("k", ORDERS)
def test_every_rule_on_a_float_as_on_numpy_scalars(name, k):
    f = _rule_program(RULES[name])
    x = 0.0625  # near 0, moved off it so that no argument sits on a kink
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = dd.derivative(f, x, n=k)
        want = dd.derivative(f, np.float64(x), n=k)
    if not np.isfinite(want):
        assert not np.isfinite(got)
        return
    scale = float(np.max(np.abs(dd.taylor(f, np.float64(x), k)))) * math.factorial(k)
    assert abs(got - want) <= 1e-12 * max(scale, 1.0), (got, want)
    if k == 1:  # and against numeric differences
        numeric = dd.numeric.derivative(f, x)
        assert abs(got - numeric) <= 1e-6 * max(1.0, abs(numeric)), (got, numeric)
