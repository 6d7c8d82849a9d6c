"""Taylor mode: every rule against independent references, accuracy to order 30, the API, nesting.

References: stored mpmath values (tests/taylor_reference.py to order 22, and
tests/taylor_accuracy_reference.py to order 31, written by tests/make_taylor_accuracy_reference.py),
central differences of the plain NumPy function (order 1), nested first-order ``derivative`` calls
(orders 1-4, the Dual machinery), and closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import taylor_accuracy
from hypothesis import given, settings
from hypothesis import strategies as st
from taylor_reference import REFERENCE

import dualdiff as dd
from dualdiff.rules.elementwise import RULES
from dualdiff.series.taylor import TAYLOR_RULES, Taylor, fallback_rule, higher_derivative, taylor

FACTORIALS = np.array([math.factorial(k) for k in range(31)], dtype=float)


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
# Accuracy to order 30 (the README's table): tests/taylor_accuracy.py against 50-digit references
# ---------------------------------------------------------------------------------------------

ACCURACY_CASES = sorted(taylor_accuracy.REFERENCE)
WELL_CONDITIONED = [c for c in ACCURACY_CASES if c[0] not in taylor_accuracy.CONDITION]
ILL_CONDITIONED = [c for c in ACCURACY_CASES if c[0] in taylor_accuracy.CONDITION]


@pytest.mark.parametrize("name, x", WELL_CONDITIONED)
def test_well_conditioned_compositions_to_order_30(name, x):
    # Measured (README): at most 6e-14 at any order to 30 (hypot's square-root recurrence lost
    # 5e-13 at 5 and 2e-11 at hypot(x, 0.001), its polar recurrence 5e-15)
    e = taylor_accuracy.errors(name, x)
    assert max(e[:21]) <= 1e-12
    assert max(e) <= 3e-13, e.index(max(e))


@pytest.mark.parametrize("name, x", ILL_CONDITIONED)
def test_ill_conditioned_compositions_lose_what_the_readme_says(name, x):
    # The rounding of the intermediate coefficients, amplified by the composition's condition
    # at order k (3^k for 1/exp(x), 5^k for exp(x)/exp(2x), ...): measured within 0.7 of it.
    condition = taylor_accuracy.CONDITION[name]
    eps = taylor_accuracy.EPS
    for k, error in enumerate(taylor_accuracy.errors(name, x)):
        assert error <= 4 * eps * condition(x, k), k


@pytest.mark.parametrize(
    "f, x, n, exact",
    [
        # f⁽ⁿ⁾/n! is subnormal or 0 here while f⁽ⁿ⁾ is an ordinary float: 2**x gave 0.0 and
        # sin at 1e-14 lost 4 digits when the n-th derivative was read from it
        (lambda x: 2**x, 1.0, 170, 2 * math.log(2) ** 170),
        (np.sin, 1e-14, 170, -math.sin(1e-14)),
        (np.sin, 1e-10, 166, -math.sin(1e-10)),
        (lambda x: np.exp(-x / 2), 0.0, 120, 0.5**120),
        # and the top of the range still holds (a larger seed overflows there)
        (np.exp, 700.0, 170, math.exp(700.0)),
        (lambda x: np.exp(50 * x), 0.0, 170, 50.0**170),
        (lambda x: x**3, 2.0, 170, 0.0),
    ],
)
def test_high_orders_keep_the_digits_of_the_derivative(f, x, n, exact):
    got = dd.derivative(f, x, n=n)
    assert got == pytest.approx(exact, rel=1e-13, abs=0.0)
    arrays = dd.derivative(f, np.array([x, x]), n=n)  # the array path reads it the same way
    np.testing.assert_allclose(arrays, [exact, exact], rtol=1e-13, atol=0.0)


def test_reproductions_of_issue_11_and_their_well_conditioned_forms():
    exact = math.exp(-0.3)  # every derivative of exp(-x) at 0.3, up to its sign
    got = dd.derivative(lambda x: 1 / np.exp(x), 0.3, n=20)
    assert abs(got - exact) <= 4 * 2.2e-16 * 3.0**20 * exact  # 1.5e-6 relative; 7.8e-8 measured
    got = dd.derivative(lambda x: np.exp(x) / np.exp(2 * x), 0.3, n=30)
    assert abs(got - exact) <= 4 * 2.2e-16 * 5.0**30 * exact  # the README's warning: 6e3 measured
    for n in (20, 30):
        assert dd.derivative(lambda x: np.exp(-x), 0.3, n=n) == pytest.approx(exact, rel=1e-15)
    # sin(x)/x written as np.sinc(x/pi) (quadrature near 0, no pole left by rounding)
    for x in (0.7, 3.0):
        reference = taylor_accuracy.REFERENCE[("sin_over_x", x)]
        got = derivatives(lambda t: np.sinc(t / np.pi), x, 30)
        for k in range(31):
            assert abs(got[k] - reference[k]) <= 1e-12 * taylor_accuracy.size_at(reference, k)


@pytest.mark.parametrize("x, n", [(12.7, 20), (14.3, 30)])
def test_sinc_uses_the_quotient_where_it_is_the_more_accurate(x, n):
    # |πx| between 1.25n + 3 and 2n + 2: the quadrature of the oscillating integrand lost 1e-13
    # here (1.1e-13 and 9.2e-14 measured), the quotient recurrence keeps 2e-15.
    reference = taylor_accuracy.REFERENCE[("sinc", x)]
    got = derivatives(np.sinc, x, n)
    for k in range(n + 1):
        assert abs(got[k] - reference[k]) <= 2e-14 * taylor_accuracy.size_at(reference, k), k


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
        # the operator divides as NumPy does (inf, not Python's ZeroDivisionError), as for a Dual
        np.testing.assert_array_equal(
            taylor(lambda x: 1.0 / (x - x), 1.0, 2),
            taylor(lambda x: np.divide(1.0, x - x), 1.0, 2),
        )
        assert math.isinf(taylor(lambda x: 1.0 / (x - x), 1.0, 2)[0])


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
    for convert in (float, int, complex, math.sin, lambda t: [0, 1][t]):
        with pytest.raises(TypeError, match="Taylor series"):
            convert(t)
    with pytest.raises(TypeError, match="Taylor series"):  # np.asarray: object arrays unless
        with dd.strict_arrays():
            np.asarray(t)
    with pytest.raises(TypeError, match="Taylor series to float64"):
        np.asarray(t, dtype=float)
    with pytest.raises(TypeError, match="no single tangent"):
        t.tangent  # noqa: B018
    with pytest.raises(TypeError, match="numpy.logaddexp.reduce"):
        np.logaddexp.reduce(Taylor([np.ones(2), np.ones(2)]))
    with pytest.raises(TypeError, match="no derivative rule for numpy.spacing"):
        np.spacing(t)


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


# ---------------------------------------------------------------------------------------------
# NumPy functions: linear, multilinear, products, selections, linear algebra. Each is checked at
# orders 0-5 along x0 + t (the all-ones direction) against plain NumPy: the discrete Cauchy
# integral for analytic functions, polynomial interpolation for piecewise-polynomial ones.
# ---------------------------------------------------------------------------------------------

ORDER = 5


def cauchy_coefficients(g, order, radius=0.5, points=64):
    """The Taylor coefficients at 0 of an analytic ``g`` from ``g`` on the circle ``|t| = radius``
    (plain NumPy in complex numbers, then an FFT), and the size of ``g`` there. The aliasing
    error is of order ``(radius / R)**points`` for the convergence radius ``R``."""
    t = radius * np.exp(2j * np.pi * np.arange(points) / points)
    values = np.stack([np.asarray(g(s), dtype=complex) for s in t])
    c = np.fft.fft(values, axis=0)[: order + 1] / points
    c /= (radius ** np.arange(order + 1)).reshape((-1,) + (1,) * (values.ndim - 1))
    return np.moveaxis(c, 0, -1), np.max(np.abs(values), initial=1.0)


def polynomial_coefficients(g, degree, order, radius=0.25):
    """The coefficients of ``g``, a polynomial of at most ``degree`` on ``[-radius, radius]``,
    from its values at ``degree + 1`` Chebyshev points (interpolation: exact up to rounding)."""
    s = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
    values = np.stack([np.asarray(g(radius * si), dtype=float) for si in s])
    vander = np.polynomial.polynomial.polyvander(s, degree)
    c = np.linalg.solve(vander, values.reshape(degree + 1, -1))
    c /= (radius ** np.arange(degree + 1))[:, None]
    c = np.concatenate([c, np.zeros((max(order - degree, 0), c.shape[1]))])[: order + 1]
    return np.moveaxis(c.reshape((order + 1,) + values.shape[1:]), 0, -1), np.max(np.abs(values))


def _setitem_case(x):
    out = np.zeros_like(x)
    out[0] = np.sin(x[-1])
    out[1:, 1] = np.exp(x[1:, 0]) * np.ones_like(x[1:, 0])
    return out


def analytic_cases(rng, m, n):
    """Functions of an ``(m, n)`` array through the NumPy functions, analytic in x (constant
    masks and indices are drawn once)."""
    B = rng.normal(size=(n, 3))
    C = rng.normal(size=(2, n))
    A = rng.normal(size=(n, n)) + (n + 3) * np.eye(n)
    mask = rng.random((m, n)) < 0.5
    idx = rng.integers(0, n, size=4)
    order = rng.permuted(np.tile(np.arange(m)[:, None], (1, n)), axis=0)
    shift = np.where(rng.random((m, n)) < 0.3, 0.0, 1.0)  # zero factors at t = 0

    def both(x):
        return np.sin(x), np.exp(x)

    return {
        "matmul_constant_right": lambda x: np.sin(x) @ B,
        "matmul_constant_left": lambda x: np.matmul(C, np.exp(x.T)),
        "matmul_both": lambda x: np.sin(x) @ np.exp(x).T,
        "matmul_vector": lambda x: np.matmul(np.sin(x), np.exp(x[0])),
        "dot": lambda x: np.dot(np.sin(x), np.exp(x).T) + np.dot(np.sin(x[0]), np.cos(x[1])),
        "tensordot": lambda x: np.tensordot(*both(x), axes=([1], [1])),
        "einsum": lambda x: np.einsum("ij,jk,ik->i", np.sin(x), B, np.exp(x)[:, :3]),
        "einsum_three_series": lambda x: np.einsum("ij,ij,ij->j", np.sin(x), np.cos(x), x),
        "inner": lambda x: np.inner(*both(x)),
        "outer": lambda x: np.outer(np.sin(x), np.exp(x[0])),
        "trace": lambda x: np.trace(np.sin(x) @ np.exp(x).T),
        "kron": lambda x: np.kron(np.sin(x), np.exp(x[:2, :2])),
        "cross": lambda x: np.cross(np.sin(np.stack([x, 2 * x, x * x], -1)), np.exp(C[0, :3])),
        "cross_both": lambda x: np.cross(
            np.stack([np.sin(x), x, x * x], -1), np.exp(np.stack([x, -x, 2 * x], -1))
        ),
        "multi_dot": lambda x: np.linalg.multi_dot([np.sin(x), B, B.T, np.exp(x).T]),
        "convolve": lambda x: np.convolve(np.sin(x[0]), np.exp(x[1])),
        "prod": lambda x: np.prod(np.sin(x) + 1.5),
        "prod_axis_with_zeros": lambda x: np.prod((x - x0_of(x) - shift) * np.exp(x), axis=1),
        "prod_keepdims": lambda x: np.prod(np.cos(x), axis=0, keepdims=True, initial=2.0),
        "cumprod": lambda x: np.cumprod(np.cos(x) * 1.2, axis=0),
        "cumprod_with_zeros": lambda x: np.cumprod((x - x0_of(x) - shift) * np.exp(x)),
        "cumsum": lambda x: np.cumsum(np.sin(x), axis=0),
        "diff": lambda x: np.diff(np.exp(x), axis=1, prepend=1.0),
        "sum_mean": lambda x: np.sum(np.sin(x), axis=0, initial=2.0) + np.mean(np.exp(x)),
        "concatenate": lambda x: np.concatenate([np.sin(x), C, np.exp(x)], axis=0),
        "stack": lambda x: np.stack([np.sin(x), np.zeros((m, n)) + 3.0, np.cos(x)], axis=1),
        "hstack_vstack": lambda x: np.vstack([np.hstack([np.sin(x), x]), np.hstack(both(x))]),
        "column_stack": lambda x: np.column_stack([np.sin(x[0]), np.exp(x[-1]), C[0]]),
        "split": lambda x: np.split(np.sin(x), [1], axis=0)[1] * np.exp(x[1:]),
        "take": lambda x: np.take(np.sin(x), idx, axis=1),
        "take_along_axis": lambda x: np.take_along_axis(np.exp(x), order, axis=0),
        "flip_roll": lambda x: np.flip(np.roll(np.sin(x), 1, axis=0), axis=1),
        "tile_repeat": lambda x: np.tile(np.repeat(np.sin(x), 2, axis=1), (2, 1)),
        "pad_constant": lambda x: np.pad(np.sin(x), ((1, 0), (0, 2)), constant_values=3.0),
        "pad_reflect": lambda x: np.pad(np.exp(x), 1, mode="reflect"),
        "where_fixed_mask": lambda x: np.where(mask, np.sin(x), np.exp(x)) + np.where(mask, x, 2),
        "select": lambda x: np.select([mask, ~mask], [np.sin(x), 2.0], default=np.exp(x)),
        "polyval": lambda x: np.polyval([2.0, -1.0, 0.5, 3.0], np.sin(x)),
        "polyval_series_coefficients": lambda x: np.polyval(np.sin(x[:, 0]), np.cos(x)),
        "det": lambda x: np.linalg.det(A + np.diag(np.sin(x[0]))),
        "det_stacked": lambda x: np.linalg.det(A + np.sin(x)[:, :, None] * np.eye(n)),
        "solve_matrix": lambda x: np.linalg.solve(A + np.diag(np.sin(x[0])), np.exp(x).T),
        "solve_vector": lambda x: np.linalg.solve(A + np.diag(np.sin(x[0])), np.exp(x[-1])),
        "solve_constant_matrix": lambda x: np.linalg.solve(A, np.exp(x).T),
        "solve_constant_vector": lambda x: np.linalg.solve(A + np.diag(np.sin(x[0])), C[0]),
        "inv": lambda x: np.linalg.inv(A + np.diag(np.sin(x[0]))),
        "zeros_like_setitem": _setitem_case,
        "methods": lambda x: (np.sin(x).T @ np.exp(x)).sum(axis=0) + x.prod() + x.T.trace(),
        "layout": lambda x: np.squeeze(np.expand_dims(np.moveaxis(np.sin(x), 0, 1), 0)).ravel(),
    }


X0_OF = {}


def x0_of(x):
    """The point the current case is expanded at (for factors that vanish there)."""
    return X0_OF["x0"]


def _random_point(seed):
    rng = np.random.default_rng(seed)
    m, n = rng.integers(2, 5, size=2)
    return rng, int(m), int(max(n, 3)), rng.normal(size=(m, max(n, 3)))


ANALYTIC = sorted(analytic_cases(np.random.default_rng(0), 2, 3))


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", ANALYTIC)
def test_numpy_functions_against_the_cauchy_integral(name, seed):
    rng, m, n, x0 = _random_point(seed)
    f = analytic_cases(rng, m, n)[name]
    X0_OF["x0"] = x0
    got = taylor(f, x0, ORDER)
    expected, size = cauchy_coefficients(lambda t: f(x0 + t), ORDER)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected.real, rtol=0, atol=1e-12 * size)
    assert np.max(np.abs(expected.imag)) <= 1e-12 * size  # the reference itself is real


def _cubic(rng, x0):
    """An elementwise cubic ``x + a(x - x0)² + b(x - x0)³`` with random ``a``, ``b`` per entry:
    over ``|t| <= 0.25`` its entries move by less than 0.4, well under their spacing."""
    a, b = rng.uniform(-1, 1, size=(2,) + x0.shape)
    return lambda x: x + a * (x - x0) ** 2 + b * (x - x0) ** 3


def piecewise_cases(rng, x0):
    """Functions that are polynomials of degree ``d`` near ``x0`` (kinks and selections away
    from it): ``name -> (f, d)``."""
    p, q = _cubic(rng, x0), _cubic(rng, x0)
    v = np.sort(x0, axis=None)
    lo, hi = (v[1] + v[2]) / 2, (v[-3] + v[-2]) / 2  # at least 0.5 from every entry
    return {
        "sort": (lambda x: np.sort(p(x), axis=1), 3),
        "sort_flat": (lambda x: np.sort(p(x), axis=None), 3),
        "argsort_take": (lambda x: np.take_along_axis(p(x), np.argsort(p(x), axis=0), 0), 3),
        "max": (lambda x: np.max(p(x), axis=0) + np.max(q(x)), 3),
        "min_keepdims": (lambda x: np.min(p(x), axis=1, keepdims=True), 3),
        "ptp": (lambda x: np.ptp(p(x), axis=1), 3),
        "where": (lambda x: np.where(x > hi, p(x), q(x)), 3),
        "clip": (lambda x: np.clip(p(x), lo, hi), 3),
        "vdot": (lambda x: np.vdot(p(x), q(x)), 6),
        "vecdot": (lambda x: np.vecdot(p(x), q(x)), 6),
        "correlate": (lambda x: np.correlate(p(x)[0], q(x)[-1], "full"), 6),
        "var": (lambda x: np.var(p(x), axis=0), 6),
        "std_squared": (lambda x: np.std(p(x), ddof=1) ** 2, 6),
        "argmax_index": (lambda x: p(x)[np.argmax(p(x), axis=0), np.arange(x.shape[1])], 3),
    }


PIECEWISE = sorted(piecewise_cases(np.random.default_rng(0), np.zeros((2, 3))))


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", PIECEWISE)
def test_selections_against_interpolation(name, seed):
    rng = np.random.default_rng(seed)
    m, n = rng.integers(2, 5, size=2)
    # entries at least 1 apart and at least 0.5 from 0, in random order
    x0 = (rng.permutation(m * n) + 0.5 - m * n / 2).reshape(m, n) + rng.uniform(-0.1, 0.1)
    f, degree = piecewise_cases(rng, x0)[name]
    got = taylor(f, x0, ORDER)
    expected, size = polynomial_coefficients(lambda t: f(x0 + t), degree, ORDER)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10 * size)


def test_matmul_of_series_in_closed_form():
    # (X0 + tJ)² = X0² + t(X0 J + J X0) + t² J² with J the matrix of ones.
    x0 = np.random.default_rng(3).normal(size=(4, 4))
    j = np.ones((4, 4))
    got = taylor(lambda x: x @ x, x0, 3)
    expected = np.stack([x0 @ x0, x0 @ j + j @ x0, j @ j, np.zeros((4, 4))], axis=-1)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)


def test_products_are_exact_at_zeros():
    # prod_i (a_i + b_i t) with some a_i = 0, against numpy.polynomial's product of the factors.
    rng = np.random.default_rng(4)
    a = np.where(rng.random(7) < 0.4, 0.0, rng.normal(size=7))
    a[2] = 0.0
    b = rng.normal(size=7)

    def f(t):
        return a + b * (t - 1.0)

    expected = [1.0]
    prefixes = []
    for ai, bi in zip(a, b):
        expected = np.polynomial.polynomial.polymul(expected, [ai, bi])
        prefixes.append(np.pad(expected, (0, 8 - len(expected)))[:6])
    np.testing.assert_allclose(taylor(lambda t: np.prod(f(t)), 1.0, 5), expected[:6], atol=1e-14)
    np.testing.assert_allclose(taylor(lambda t: np.cumprod(f(t)), 1.0, 5), prefixes, atol=1e-14)


def test_max_min_ties_share_the_coefficients_evenly():
    # values tie at entries 0 and 1 (both 2); the result carries the mean of their series,
    # the convention of dualdiff.arrays.functions and the maximum rule (DualArray agrees).
    w = np.array([2.0, 1.0, 1.0])
    x0 = np.array([1.0, 2.0, 0.0])

    def f(x):
        return np.max(w * x + (x - x0) ** 2 * np.array([1.0, 3.0, 0.0]))

    np.testing.assert_array_equal(taylor(f, x0, 3), [2.0, 1.5, 2.0, 0.0])
    assert dd.derivative(lambda s: f(x0 + s), 0.0) == 1.5
    np.testing.assert_array_equal(taylor(lambda x: np.min(-w * x), x0, 2), [-2.0, -1.5, 0.0])


def test_sort_coefficients_follow_the_values():
    x0 = np.array([3.0, 1.0, 2.0])
    got = taylor(lambda x: np.sort(x * np.array([1.0, 2.0, 3.0]) + (x - x0) ** 2), x0, 2)
    # values 3, 2, 6 with slopes 1, 2, 3: sorted, entry 1 (2 + 2t + t²) comes first
    np.testing.assert_array_equal(got, [[2.0, 2.0, 1.0], [3.0, 1.0, 1.0], [6.0, 3.0, 1.0]])


def test_values_only_functions_and_item_assignment():
    x = Taylor([np.array([0.5, -1.0, 2.0]), 1.0, np.array([0.0, 1.0, 0.0])])
    assert np.argmax(x) == 2 and list(np.argsort(x)) == [1, 0, 2]
    assert np.shape(x) == (3,) and np.ndim(x) == 1 and np.size(x) == 3 and x.size == 3
    assert np.nonzero(x > 0)[0].tolist() == [0, 2]
    y = np.sin(x)
    z = y + 1.0  # shares y's higher coefficients
    before = [c.copy() for c in z.coefficients]
    y[1:] = x[:2] * 2.0
    for c, d in zip(z.coefficients, before):
        np.testing.assert_array_equal(c, d)
    np.testing.assert_array_equal(y.coefficients[1][1:], [2.0, 2.0])
    np.testing.assert_array_equal(y.coefficients[2][1:], [0.0, 2.0])
    with pytest.raises(TypeError, match="newer differentiation"):
        dd.jacobian(lambda v: x.__setitem__(0, v[0]), np.ones(2))
    s = Taylor([1.0, 2.0])
    assert s[()] is s  # as for a 0-d array
    assert np.full_like(s, 3.0).coefficients == [3.0]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda t: np.spacing(t), TypeError, "no derivative rule for numpy.spacing"),
        (lambda t: np.subtract.reduceat(t, [0, 1]), TypeError, "numpy.subtract.reduceat"),
        (lambda t: np.matmul(t, t, out=np.empty((2, 2))), TypeError, r"numpy.matmul\(..., out="),
        (lambda t: np.sum(t, out=np.empty(())), TypeError, "out="),
        (lambda t: np.cumsum(t, dtype=int), TypeError, "dtype"),
        (lambda t: np.exp(t, where=t > 0), TypeError, r"numpy.exp\(..., where=...\) without out="),
        (lambda t: np.pad(t, 1, mode="maximum"), TypeError, "numpy.pad"),
        (lambda t: np.gradient(t[0], t[1]), TypeError, "must not carry a derivative"),
        (
            lambda t: np.concatenate([t, dd.DualArray(np.ones((2, 2)))]),
            TypeError,
            "share the tag",
        ),
    ],
)
def test_unsupported_numpy_calls_raise_naming_the_function(call, error, match):
    t = Taylor([np.eye(2) + 1.0, np.ones((2, 2))])
    with pytest.raises(error, match=match):
        call(t)


def test_taylor_of_matmul_inside_jacobian():
    # d/dx of the series of A sin(x(1/2 + t)): coefficient k is A (x^k sin⁽ᵏ⁾(x/2) / k!).
    rng = np.random.default_rng(5)
    x0, A = rng.normal(size=3), rng.normal(size=(2, 3))
    got = dd.jacobian(lambda x: taylor(lambda s: A @ np.sin(x * s), 0.5, ORDER), x0)
    expected = np.stack(
        [
            A
            * (
                k * x0 ** max(k - 1, 0) * np.sin(x0 / 2 + k * np.pi / 2)
                + x0**k / 2 * np.sin(x0 / 2 + (k + 1) * np.pi / 2)
            )
            / math.factorial(k)
            for k in range(ORDER + 1)
        ],
        axis=1,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-14)


def test_jacobian_of_matmul_inside_taylor():
    # The Jacobian of tanh(M(s) x) is diag(1 - tanh²(M(s) x)) M(s), M(s) = A + sB; its series
    # in s against the Cauchy integral of that closed form.
    rng = np.random.default_rng(6)
    x0, A, B = rng.normal(size=3), rng.normal(size=(2, 3)), 0.3 * rng.normal(size=(2, 3))
    got = taylor(lambda s: dd.jacobian(lambda x: np.tanh((A + s * B) @ x), x0), 0.3, ORDER)

    def jacobian(s):
        m = A + s * B
        return (1 - np.tanh(m @ x0) ** 2)[:, None] * m

    expected, size = cauchy_coefficients(lambda t: jacobian(0.3 + t), ORDER, radius=0.2)
    np.testing.assert_allclose(got, expected.real, rtol=0, atol=1e-12 * size)


@pytest.mark.parametrize(
    "op",
    [
        lambda t, c: t * c,
        lambda t, c: c * t,
        lambda t, c: t + c,
        lambda t, c: c - t,
        lambda t, c: t / c,
        lambda t, c: c / t,
        lambda t, c: t**c,
    ],  # fmt: skip
)
def test_a_list_operand_is_the_array_numpy_makes_of_it(op):
    # as for an ndarray x, x * [1, 2, 3] is x * np.array([1, 2, 3]) (a list used to repeat itself
    # and ask the series for __index__)
    c = [1.5, 2.0, 3.0]
    t = Taylor([np.array([0.5, 1.0, 2.0]), np.ones(3), np.array([0.0, 1.0, -1.0])])
    with_list = op(t, c)
    with_array = op(t, np.array(c))
    for a, b in zip(with_list.coefficients, with_array.coefficients):
        np.testing.assert_array_equal(a, b)


def test_a_zero_base_with_a_moving_exponent_has_no_taylor_expansion():
    # 0**y jumps at y = 0: the first coefficient is the first-order modes' (-inf), every later
    # one NaN (exp(y log 0) gave alternating infinities), 0 while y has not moved
    with np.errstate(all="ignore"):
        c = dd.taylor(lambda x: 0.0**x, 0.0, 3)
        assert c[0] == 1.0 and c[1] == -np.inf and np.all(np.isnan(c[2:]))
        np.testing.assert_array_equal(dd.taylor(lambda x: 0.0**x, 1.0, 3), 0.0)  # 0 around y > 0
        c = dd.taylor(lambda x: 0.0 ** (x * x), 0.0, 2)  # a zero tangent: c1 is 0 (it was NaN)
        assert c[0] == 1.0 and c[1] == 0.0 and np.isnan(c[2])
        # x**x at 0 has no expansion either; its one-sided limits: x**x (log x + 1) -> -inf,
        # x**x ((log x + 1)**2 + 1/x) -> +inf, entry by entry in an array
        c = dd.taylor(lambda x: x**x, np.array([0.0, 1.0]), 2)
        assert c[0, 1] == -np.inf and c[0, 2] == np.inf
        np.testing.assert_allclose(c[1], [1.0, 1.0, 1.0], rtol=1e-15)  # x**x at 1: 1 + t + t²


def _write_through_asarray(z):
    r = np.asarray(z)  # NumPy: z itself for an array, a new 0-d array for a scalar
    np.expand_dims(r, 0)[...] += 1.0
    return r * z


def test_asarray_of_a_0d_series_refuses_a_write_as_eager_mode_does():
    # the 0-d object array was writable: the write was lost, where NumPy's lands in z (3.75 and
    # slope 4 for NumPy's 6.25 and 5); eager mode's is read-only, so the write fails loudly
    with pytest.raises(ValueError, match="read-only"):
        dd.taylor(_write_through_asarray, np.array(1.5), 1)
    with pytest.raises(ValueError, match="read-only"):
        dd.jvp(_write_through_asarray, np.array(1.5), np.array(1.0))
    # a scalar's np.asarray is a new array in NumPy: the write stays there
    assert list(dd.taylor(_write_through_asarray, 1.5, 1)) == [3.75, 4.0]


@pytest.mark.parametrize("dtype, limit", [(np.float16, 8), (np.float32, 53), (np.complex64, 53)])
def test_an_order_whose_factorial_overflows_the_dtype_raises(dtype, limit):
    # the coefficient times n! overflowed: exp's 9th derivative at 0.5 in float16 was inf, its
    # 12th nan (the coefficient had underflowed to 0), where the derivative is e**0.5. From
    # order 21 the factor is n!/4**n (the seed is 4t), which float32 holds up to n = 53
    for x in (dtype(0.5), np.array([0.5, 0.5], dtype)):
        assert np.allclose(dd.derivative(np.exp, x, n=limit), np.exp(0.5), rtol=1e-2)
        for n in (limit + 1, limit + 4):
            with pytest.raises(ValueError, match=rf"^derivative of order {n}: Taylor mode"):
                dd.derivative(np.exp, x, n=n)
    # the coefficients themselves stay in range
    assert np.isfinite(dd.taylor(np.exp, dtype(0.5), limit + 1)).all()


@pytest.mark.xfail(
    strict=True,
    reason="documented gap (sharp bits, Dtypes): in float32 a Taylor coefficient "
    "f^(n)(x) 4^n/n! below the smallest normal number loses digits, then underflows to 0",
)
def test_float32_high_order_coefficients_underflow():
    assert dd.derivative(np.exp, np.float32(-20.0), n=53) == pytest.approx(np.exp(-20.0), rel=1e-3)


def test_float32_high_orders_keep_the_digits_the_seed_scale_saves():
    # with the seed t, the coefficient e**-20/33! was 0.0 in float32; with 4t it is normal
    got = dd.derivative(np.exp, np.float32(-20.0), n=33)
    assert got.dtype == np.float32
    assert got == pytest.approx(np.exp(-20.0), rel=1e-6)
