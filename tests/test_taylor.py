"""Taylor mode: every rule against independent references, accuracy to order 20, the API, nesting.

References: stored mpmath values (tests/taylor_reference.py), central differences of the plain
NumPy function (order 1), nested first-order ``derivative`` calls (orders 1-4, the Dual machinery),
and closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from taylor_reference import REFERENCE

import dualdiff as dd
from dualdiff.rules import RULES
from dualdiff.taylor import TAYLOR_RULES, Taylor, fallback_rule, higher_derivative, taylor

FACTORIALS = np.array([math.factorial(k) for k in range(23)], dtype=float)


def derivatives(f, x, order):
    """``f⁽ᵏ⁾(x)`` for ``k = 0..order`` from Taylor mode."""
    return taylor(f, x, order) * FACTORIALS[: order + 1]


def nested(f, k):
    """The ``k``-th derivative of ``f`` by nesting first-order ``derivative`` (no Taylor mode)."""
    for _ in range(k):
        f = (lambda g: lambda x: dd.derivative(g, x))(f)
    return f


def central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


# ---------------------------------------------------------------------------------------------
# Accuracy to order 20 against high-precision references
# ---------------------------------------------------------------------------------------------

FUNCTIONS = {
    "exp_sin": lambda x: np.exp(np.sin(x)),
    "runge": lambda x: 1 / (1 + x * x),
    "sigmoid": dd.sigmoid,
    "log_1_plus_x2": lambda x: np.log(1 + x * x),
    "x2_sin": lambda x: x * x * np.sin(x),
    "tanh": np.tanh,
    "sqrt_1_plus_x": lambda x: np.sqrt(1 + x),
    "arctan": np.arctan,
    "cos_exp": lambda x: np.cos(x) * np.exp(-x),
    "sinc": np.sinc,
    "polynomial": lambda x: 3 * x**5 - 2 * x**3 + x - 7,
}


def size_at(reference, k):
    """The size of ``f⁽ᵏ⁾``: ``|f⁽ᵏ⁾|``, or the geometric mean of the neighbouring orders where
    ``f⁽ᵏ⁾`` happens to be near zero (derivatives grow like k!, so a fixed scale would not do)."""
    size = abs(reference[k])
    if 0 < k < len(reference) - 1:
        size = max(size, math.sqrt(abs(reference[k - 1] * reference[k + 1])))
    return size


def assert_close_to_reference(got, reference, rtol=1e-13):
    """``got[k]`` agrees with ``reference[k]`` to ``rtol`` relative to the size at order k."""
    for k in range(len(got)):
        assert abs(got[k] - reference[k]) <= rtol * size_at(reference, k), (k, got[k])


@pytest.mark.parametrize("name, x", sorted(REFERENCE))
def test_orders_up_to_20_match_high_precision_references(name, x):
    reference = REFERENCE[(name, x)]
    assert_close_to_reference(derivatives(FUNCTIONS[name], x, 20), reference)
    for k in (1, 2, 7, 20):
        got = higher_derivative(FUNCTIONS[name], x, k)
        assert abs(got - reference[k]) <= 1e-13 * size_at(reference, k), k


def test_derivative_with_n_routes_to_taylor_mode():
    reference = REFERENCE[("exp_sin", 0.7)]
    for n in (2, 5, 12):
        assert dd.derivative(FUNCTIONS["exp_sin"], 0.7, n) == pytest.approx(reference[n], 1e-13)


@settings(max_examples=40, deadline=None)
@given(x=st.floats(-3.0, 3.0), k=st.integers(1, 12))
def test_exp_sin_against_leibniz_recurrence(x, k):
    # g = exp(sin x) solves g' = cos(x) g, so g⁽ᵐ⁺¹⁾ = Σⱼ C(m, j) sin⁽ʲ⁺¹⁾(x) g⁽ᵐ⁻ʲ⁾.
    sin_derivatives = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)]
    g = [math.exp(math.sin(x))]
    for m in range(k):
        g.append(
            math.fsum(
                math.comb(m, j) * sin_derivatives[(j + 1) % 4] * g[m - j] for j in range(m + 1)
            )
        )
    scale = math.fsum(math.comb(k - 1, j) * abs(g[k - 1 - j]) for j in range(k))
    assert higher_derivative(FUNCTIONS["exp_sin"], x, k) == pytest.approx(g[k], abs=1e-13 * scale)


# ---------------------------------------------------------------------------------------------
# Every rule of the table, orders 1-4, against first-order AD and differences
# ---------------------------------------------------------------------------------------------


def _points(interval):
    lo, hi = interval
    return [lo + 0.3 * (hi - lo), lo + 0.65 * (hi - lo)]


# ldexp's second argument is an integer exponent: it cannot carry a series.
INTEGER_SECOND = {"ldexp"}


def _cases(rule):
    """``(label, g, x0)``: functions of one variable through the rule, at points of its domain."""
    f = rule.function
    if rule.nin == 1:
        cases = []
        for x in _points(rule.domain[0]):
            # the seed x + t (a sparse series), and x + t + t²/3 (the general recurrences)
            cases.append((f"{x:g}+t", f, x))
            cases.append((f"{x:g}+t+t²/3", lambda s, x=x: f(s + (s - x) ** 2 / 3), x))
        if rule.complex:
            x = complex(_points(rule.domain[0])[1], 0.2)
            cases.append((f"{x:g}+t+t²/3", lambda s, x=x: f(s + (s - x) ** 2 / 3), x))
        return cases
    cases = []
    for x, y in zip(_points(rule.domain[0]), _points(rule.domain[1])[::-1]):
        if rule.name in INTEGER_SECOND:
            i = round(y)
            cases.append((f"({x:g}+t, {i})", lambda s, i=i: f(s, i), x))
            continue
        cases += [
            (f"({x:g}+t, {y:g})", lambda s, y=y: f(s, y), x),
            (f"({x:g}, {y:g}+t)", lambda s, x=x: f(x, s), y),
            (
                f"({x:g}+t, {y:g}-t+t²/3)",
                lambda s, x=x, y=y: f(s, y - (s - x) + (s - x) ** 2 / 3),
                x,
            ),
        ]
    if rule.complex:
        x, y = complex(_points(rule.domain[0])[0], 0.2), _points(rule.domain[1])[1]
        cases.append((f"({x:g}+t, {y:g}+t²/3)", lambda s, x=x, y=y: f(s, y + (s - x) ** 2 / 3), x))
    return cases


def _check_orders(rule, coefficients_of):
    """Orders 1-4 of every case: order 1 against central differences of the plain function,
    orders 1-4 against nested first-order derivatives."""
    for label, g, x0 in _cases(rule):
        got = coefficients_of(g, x0) * FACTORIALS[:5]
        assert got[0] == pytest.approx(g(x0), rel=1e-14, abs=1e-14), label
        assert got[1] == pytest.approx(central(g, x0), rel=1e-6, abs=1e-7), label
        for k in range(1, 5):
            expected = nested(g, k)(x0)
            assert got[k] == pytest.approx(expected, rel=1e-10, abs=1e-10), (label, k)


def test_every_rule_has_a_taylor_rule_or_the_fallback():
    for name, rule in RULES.items():
        if name in TAYLOR_RULES:
            continue
        assert rule.zero or (rule.jvp is None and rule.partials), name
        fallback_rule(rule)  # raises for a rule it cannot handle


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_orders_1_to_4(name):
    _check_orders(RULES[name], lambda g, x0: taylor(g, x0, 4))


FALLBACK_RULES = sorted(
    name for name, rule in RULES.items() if not rule.zero and rule.jvp is None and rule.partials
)


@pytest.mark.parametrize("name", FALLBACK_RULES)
def test_fallback_from_partials_orders_1_to_4(name):
    # The generic method on its own, on every rule it can serve.
    rule = RULES[name]
    generic = fallback_rule(rule)
    original = TAYLOR_RULES.pop(name, None)
    try:
        _check_orders(rule, lambda g, x0: taylor(g, x0, 4))
        values = [_points(interval)[0] for interval in rule.domain]
        series = [[v, 1.0] for v in values]
        if name in INTEGER_SECOND:
            values[1] = round(values[1])
            series[1] = [values[1]]
        assert generic(rule, *series, 0) == [rule.function(*values)]
    finally:
        if original is not None:
            TAYLOR_RULES[name] = original


def test_fallback_refuses_a_rule_without_partials():
    with pytest.raises(TypeError, match="absolute in Taylor mode"):
        fallback_rule(RULES["absolute"])


# ---------------------------------------------------------------------------------------------
# Conventions and singular points
# ---------------------------------------------------------------------------------------------


def test_power_at_zero_matches_nested_derivatives():
    got = derivatives(lambda x: x**2.5, 0.0, 4)
    assert list(got[:3]) == [0.0, 0.0, 0.0]
    assert got[3] == math.inf
    for k in (1, 2):
        assert nested(lambda x: x**2.5, k)(0.0) == 0.0
    assert list(derivatives(lambda x: x**3, 0.0, 5)) == [0, 0, 0, 6, 0, 0]
    assert list(taylor(lambda x: x**0, 0.0, 3)) == [1, 0, 0, 0]
    cube = derivatives(lambda x: np.power(x, 3.0), np.array([0.0, 2.0]), 3)
    np.testing.assert_array_equal(cube, [[0, 0, 0, 6], [8, 12, 12, 6]])


def test_singular_points_give_inf_or_nan_not_errors():
    with np.errstate(all="ignore"):
        assert derivatives(np.sqrt, 0.0, 2)[1] == math.inf
        assert derivatives(np.log, 0.0, 1)[0] == -math.inf
        assert math.isinf(derivatives(np.cbrt, 0.0, 1)[1])
        assert math.isinf(derivatives(lambda x: np.divide(1.0, x - x), 1.0, 2)[0])
    with pytest.raises(ZeroDivisionError):  # the operator raises, as it does for a Dual
        taylor(lambda x: 1.0 / (x - x), 1.0, 2)


def test_kinks_follow_the_first_derivative_conventions():
    # hypot and arctan2 at the origin and abs at 0: derivative 0 at every order.
    assert list(taylor(lambda x: np.hypot(x, x), 0.0, 3)) == [0, 0, 0, 0]
    assert list(taylor(lambda x: np.arctan2(x, x), 0.0, 2)) == [0, 0, 0]
    assert list(taylor(np.abs, 0.0, 2)) == [0, 0, 0]
    # A tie of maximum splits the derivative evenly: (x + x²)/2 past the value at x = 1.
    assert list(derivatives(lambda x: np.maximum(x, x * x), 1.0, 3)) == [1.0, 1.5, 1.0, 0.0]


def test_sinc_near_zero_matches_its_maclaurin_series():
    # sinc⁽²ᵐ⁾(0) = (-1)ᵐ π²ᵐ / (2m + 1), odd orders 0; near 0 sum the shifted series.
    at_zero = [0.0 if k % 2 else (-1) ** (k // 2) * math.pi**k / (k + 1) for k in range(60)]
    assert_close_to_reference(derivatives(np.sinc, 0.0, 16), at_zero[:17])
    a = 1e-4
    shifted = [
        math.fsum(at_zero[k + j] * a**j / math.factorial(j) for j in range(40)) for k in range(18)
    ]
    assert_close_to_reference(derivatives(np.sinc, a, 16), shifted)


def test_complex_series_of_non_analytic_functions():
    # |z(t)| and sign(z(t)) along z = x0 + t for complex x0, against nested derivatives.
    x0 = complex(0.6, -0.8)
    for f in (np.abs, np.sign, np.conjugate):
        got = derivatives(f, x0, 3)
        for k in (1, 2, 3):
            assert got[k] == pytest.approx(nested(f, k)(x0), rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# API and layout
# ---------------------------------------------------------------------------------------------


def test_taylor_layout():
    assert taylor(np.sin, 0.5, 3).shape == (4,)
    x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    c = taylor(np.sin, x, 3)
    assert c.shape == (2, 3, 4)
    for k in range(4):
        expected = np.sin(x + k * np.pi / 2) / math.factorial(k)
        np.testing.assert_allclose(c[..., k], expected, rtol=1e-15, atol=1e-16)
    out = taylor(lambda s: s * np.arange(3.0), 2.0, 2)
    np.testing.assert_array_equal(out, [[0, 0, 0], [2, 1, 0], [4, 2, 0]])
    pair = taylor(lambda s: (s * s, [np.exp(s)]), 0.0, 2)
    assert type(pair) is tuple and type(pair[1]) is list
    np.testing.assert_array_equal(pair[0], [0, 0, 1])
    np.testing.assert_allclose(pair[1][0], [1, 1, 0.5])
    np.testing.assert_array_equal(taylor(lambda s: 3.0, 1.0, 2), [3, 0, 0])
    np.testing.assert_array_equal(taylor(np.exp, 0.0, 0), [1.0])


def test_higher_derivative_inputs_and_outputs():
    assert higher_derivative(np.exp, 1, 3) == pytest.approx(math.e, 1e-15)
    assert higher_derivative(np.sin, 0.5, 0) == np.sin(0.5)
    assert higher_derivative(lambda x: (x, 2.0), 0.5, 2) == (0.0, 0.0)
    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(higher_derivative(np.exp, x, 4), np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(higher_derivative(np.sin, [0.0, 1.0], 2), -np.sin([0.0, 1.0]))
    assert higher_derivative(np.exp, 0.5j, 2) == pytest.approx(np.exp(0.5j), 1e-15)
    assert higher_derivative(lambda x: x.conjugate() * x, 1 + 1j, 2) == 2.0


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: higher_derivative(3.0, 1.0, 2), TypeError, "callable"),
        (lambda: higher_derivative(np.sin, 1.0, -1), ValueError, ">= 0"),
        (lambda: higher_derivative(np.sin, 1.0, 2.0), TypeError, "integer"),
        (lambda: higher_derivative(np.sin, 1.0, True), TypeError, "integer"),
        (lambda: higher_derivative(np.sin, 1.0, 171), ValueError, "at most 170"),
        (lambda: higher_derivative(np.sin, "1", 2), TypeError, "x must be"),
        (lambda: higher_derivative(np.sin, True, 2), TypeError, "x must be"),
        (lambda: higher_derivative(np.sin, np.array(["a"]), 2), TypeError, "dtype"),
        (lambda: higher_derivative(lambda x: None, 1.0, 2), TypeError, "return statement"),
        (lambda: taylor(np.sin, None, 2), TypeError, "x must be"),
        (lambda: taylor(np.sin, 1.0, -2), ValueError, ">= 0"),
        (lambda: taylor(lambda x: "a", 1.0, 2), TypeError, "returned str"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------------------------
# The type: operators, NumPy dispatch, conversions
# ---------------------------------------------------------------------------------------------


def test_operators_against_nested_derivatives():
    def f(x):
        y = (2.0 - x) / (x + 1.0) * x**3 - 2.0**x + abs(x) * (x // 1.0) + x % 0.7 + (-x) ** 2
        return +y - 1.0 / x + 3 * x - x * 0.5 + np.float64(2.0) / (x * x)

    got = derivatives(f, 1.3, 4)
    for k in range(5):
        assert got[k] == pytest.approx(nested(f, k)(1.3), rel=1e-12)


def test_numpy_ufuncs_and_dualdiff_functions():
    t = Taylor([0.4, 1.0, 0.0, 0.0])
    expected = [math.exp(0.4) / math.factorial(k) for k in range(4)]
    for result in (np.exp(t), dd.exp(t)):
        np.testing.assert_allclose(result.coefficients, expected, rtol=1e-15)
    y = np.array([1.0, 2.0])
    s = np.arctan2(y, t)  # ndarray first: NumPy hands the call to Taylor.__array_ufunc__
    assert s.shape == (2,) and len(s.coefficients) == 4
    np.testing.assert_allclose(s.coefficients[1], -y / (0.16 + y * y), rtol=1e-15)
    assert (t > 0.3) is True and bool(t) and t == 0.4 and np.isfinite(t)


def test_where_and_linear_numpy_functions():
    x = np.array([-1.0, 0.5, 2.0])

    def f(x):
        return np.where(x > 0, x**2, -x) + np.sum(x) * np.mean(x)

    got = higher_derivative(f, x, 1)
    np.testing.assert_allclose(got, np.where(x > 0, 2 * x, -1.0) + 2 * 3 * x.mean(), rtol=1e-15)
    np.testing.assert_allclose(higher_derivative(lambda x: np.reshape(x, (3, 1)) ** 2, x, 2), 2.0)
    np.testing.assert_array_equal(
        higher_derivative(lambda x: np.clip(x, 0.0, 1.0), x, 1), [0, 1, 0]
    )
    assert higher_derivative(lambda x: np.sin(x)[1], x, 2) == pytest.approx(-np.sin(0.5))


def test_piecewise_constant_conversions_return_plain_numbers():
    t = Taylor([2.5, 1.0])
    assert (math.floor(t), math.ceil(t), math.trunc(t), round(t)) == (2, 3, 2, 2)
    quotient, remainder = divmod(t, 2.0)
    assert quotient.coefficients == [1.0] and remainder.coefficients == [0.5, 1.0]


def test_conversions_that_drop_coefficients_raise():
    t = Taylor([0.5, 1.0])
    for convert in (float, int, complex, np.asarray, math.sin, lambda t: [0, 1][t]):
        with pytest.raises(TypeError, match="Taylor series"):
            convert(t)
    with pytest.raises(TypeError, match="no single tangent"):
        t.tangent  # noqa: B018
    with pytest.raises(TypeError, match="numpy.add.reduce"):
        np.add.reduce(t)
    with pytest.raises(TypeError, match="no derivative rule for numpy.dot"):
        np.dot(t, t)


def test_custom_jvp_refuses_taylor_series():
    @dd.custom_jvp
    def f(x):
        return np.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        return f(primals[0]), np.cos(primals[0]) * tangents[0]

    with pytest.raises(TypeError, match="custom_jvp"):
        higher_derivative(f, 0.5, 2)


def test_constructor_validates():
    assert Taylor([1, 2.0, 3.0], order=1).coefficients == [1.0, 2.0]
    with pytest.raises(TypeError, match="non-empty list"):
        Taylor([])
    with pytest.raises(TypeError, match="coefficients must be numbers"):
        Taylor(["a"])
    with pytest.raises(TypeError, match="tag must be an int"):
        Taylor([1.0], tag=1.5)
    with pytest.raises(TypeError, match="share the tag"):
        Taylor([1.0, 1.0]) * dd.Dual(1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Nesting with first-order forward mode and with itself
# ---------------------------------------------------------------------------------------------


def test_derivative_inside_taylor():
    # d/dy sin(xy) at y = 1 is x cos x, and (x cos x)⁽ᵏ⁾ = x cos(x + kπ/2) + k cos(x + (k-1)π/2).
    x0 = 0.5
    expected = [
        x0 * math.cos(x0 + k * math.pi / 2) + k * math.cos(x0 + (k - 1) * math.pi / 2)
        for k in range(7)
    ]
    got = derivatives(lambda x: dd.derivative(lambda y: np.sin(x * y), 1.0), x0, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)
    # derivative at a Taylor point: the series of cos.
    got = derivatives(lambda x: dd.derivative(np.sin, x), x0, 6)
    np.testing.assert_allclose(got, [math.cos(x0 + k * math.pi / 2) for k in range(7)], rtol=1e-14)


def test_taylor_inside_derivative():
    # d/dx of d³/dy³ sin(xy) at y = 1, i.e. of -x³ cos x.
    x0 = 0.5
    got = dd.derivative(lambda x: higher_derivative(lambda y: np.sin(x * y), 1.0, 3), x0)
    assert got == pytest.approx(-3 * x0**2 * math.cos(x0) + x0**3 * math.sin(x0), 1e-14)


def test_taylor_inside_taylor_and_no_perturbation_confusion():
    # d²/dx² of d²/dy² exp(xy) at y = 1, i.e. of x² eˣ.
    got = higher_derivative(lambda x: higher_derivative(lambda y: np.exp(x * y), 1.0, 2), 0.3, 2)
    assert got == pytest.approx((2 + 4 * 0.3 + 0.09) * math.exp(0.3), 1e-14)
    assert (
        higher_derivative(lambda x: x * higher_derivative(lambda y: x + y, 1.0, 1), 2.0, 1) == 1.0
    )
    assert dd.derivative(lambda x: x * higher_derivative(lambda y: x * y, 1.0, 1), 2.0) == 4.0


def test_taylor_inside_jacobian():
    x0 = np.array([0.3, 0.8, 1.4])
    jac = dd.jacobian(lambda x: higher_derivative(lambda t: np.sin(x * t), 1.0, 2), x0)
    np.testing.assert_allclose(jac, np.diag(-2 * x0 * np.sin(x0) - x0**2 * np.cos(x0)), rtol=1e-14)


def test_benchmark_reference_and_cases():
    from benchmarks import bench_taylor
    from benchmarks.common import Config

    exact = bench_taylor.reference(np.longdouble(bench_taylor.X0), 20)
    assert_close_to_reference([float(v) for v in exact[:21]], REFERENCE[("exp_sin", 0.7)][:21])
    group = bench_taylor.groups(Config(quick=True, systems={"dualdiff"}))[-1]  # k = 20
    (case,) = [c for c in group.cases if c.system == "dualdiff"]
    assert case.error(case.build()()) < 1e-13
