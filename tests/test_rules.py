"""Every entry of the rule table, tested from the table itself against numeric differences.

Each rule carries its test domain; points are spread over it (away from the jumps of the
piecewise-constant functions). The reference is a 6th-order central difference of the rule's plain
NumPy implementation, which never touches the derivative code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import assert_close, directional, second

import dualdiff as dd
from dualdiff.dual.dual import Dual
from dualdiff.rules.elementwise import RULES, UFUNC_RULES

FRACTIONS = (0.13, 0.37, 0.61, 0.89)
UNARY = sorted(name for name, rule in RULES.items() if rule.nin == 1)
BINARY = sorted(name for name, rule in RULES.items() if rule.nin == 2)
COMPLEX = sorted(name for name, rule in RULES.items() if rule.complex)


def points(interval):
    lo, hi = interval
    return [lo + (hi - lo) * f for f in FRACTIONS]


# ldexp's second argument is an integer exponent (NumPy refuses floats there)
INTEGER_SECOND = {"ldexp"}


def moved(y, t, v):
    """``y + t v``, leaving an integer argument (with no tangent) untouched."""
    return y if not np.any(v) else y + t * v


def pairs(rule):
    xs, ys = points(rule.domain[0]), points(rule.domain[1])
    if rule.name in INTEGER_SECOND:
        ys = [-2, 0, 1, 3]
    return list(zip(xs, reversed(ys))) + list(zip(xs, ys))


@pytest.mark.parametrize("name", UNARY)
def test_unary_first_derivative_matches_differences(name):
    rule = RULES[name]
    for x in points(rule.domain[0]):
        out = rule.function(Dual(x, 1.0))
        assert_close(out.value, rule.array(x), rtol=1e-14, atol=1e-15)
        assert_close(out.tangent, directional(rule.array, x, 1.0), rtol=1e-8)


@pytest.mark.parametrize("name", UNARY)
def test_unary_second_derivative_by_nesting(name):
    rule = RULES[name]
    for x in points(rule.domain[0]):
        nested = dd.derivative(lambda u: dd.derivative(rule.function, u), x)
        assert_close(nested, second(rule.array, x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", BINARY)
def test_binary_partials_match_differences(name):
    rule = RULES[name]
    for x, y in pairs(rule):
        for vx, vy in ((1.0, 0.0), (0.0, 1.0), (0.7, -1.3)):
            if rule.name in INTEGER_SECOND:
                vy = 0
            args = (Dual(x, vx), Dual(y, vy) if vy else y)
            out = rule.function(*args)
            expected = directional(lambda t: rule.array(x + t * vx, moved(y, t, vy)), 0.0, 1.0)
            assert_close(out.value, rule.array(x, y), rtol=1e-14, atol=1e-15)
            assert_close(out.tangent, expected, rtol=1e-8)
        # one operand constant: only the other's partial contributes
        assert_close(
            rule.function(Dual(x, 1.0), y).tangent, directional(lambda t: rule.array(t, y), x, 1.0)
        )
        if rule.name not in INTEGER_SECOND:
            assert_close(
                rule.function(x, Dual(y, 1.0)).tangent,
                directional(lambda t: rule.array(x, t), y, 1.0),
            )


@pytest.mark.parametrize("name", COMPLEX)
def test_complex_directional_derivatives(name):
    """Along 1 and along 1j: holomorphic rules and the non-analytic ones (abs, conj) alike."""
    rule = RULES[name]
    if rule.nin == 1:
        for x in points(rule.domain[0]):
            z = complex(x, 0.3)
            for v in (1.0, 1j):
                out = rule.function(Dual(z, v))
                assert_close(out.value, rule.array(z), rtol=1e-13, atol=1e-15)
                assert_close(out.tangent, directional(rule.array, z, v), rtol=1e-8)
    else:
        for x, y in pairs(rule):
            zx, zy = complex(x, 0.3), complex(y, -0.2)
            for vx, vy in ((1.0, 0.0), (0.0, 1j), (1j, 0.5)):
                out = rule.function(Dual(zx, vx), Dual(zy, vy))
                expected = directional(lambda t: rule.array(zx + t * vx, zy + t * vy), 0.0, 1.0)
                assert_close(out.tangent, expected, rtol=1e-8)


@pytest.mark.parametrize("name", sorted(RULES))
def test_float_fast_path_agrees_with_numpy(name):
    rule = RULES[name]
    if rule.nin == 1:
        for x in points(rule.domain[0]):
            assert_close(rule.function(x), rule.array(x), rtol=1e-14, atol=1e-15)
    else:
        for x, y in pairs(rule):
            assert_close(rule.function(x, y), rule.array(x, y), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(RULES))
def test_array_rule_with_several_directions(name):
    """The same rule on a DualArray with two tangent directions at once."""
    rule = RULES[name]
    if rule.nin == 1:
        x = np.array(points(rule.domain[0]))
        v = np.stack([np.ones_like(x), np.linspace(-1.0, 2.0, x.size)])
        out = rule.function(dd.DualArray(x, v, batched=True))
        assert_close(out.value, rule.array(x), rtol=1e-14, atol=1e-15)
        for direction in range(2):
            assert_close(out.tangent[direction], directional(rule.array, x, v[direction]))
    else:
        xy = pairs(rule)
        x, y = np.array([p[0] for p in xy]), np.array([p[1] for p in xy])
        vx = np.stack([np.ones_like(x), np.zeros_like(x)])
        vy = np.stack([np.zeros_like(x), np.linspace(0.5, 1.5, y.size)])
        if rule.name in INTEGER_SECOND:
            vy = np.zeros_like(vy)
            out = rule.function(dd.DualArray(x, vx, batched=True), y)
        else:
            out = rule.function(
                dd.DualArray(x, vx, batched=True), dd.DualArray(y, vy, batched=True)
            )
        for direction in range(2):
            expected = directional(
                lambda t, d=direction: rule.array(x + t * vx[d], moved(y, t, vy[d])), 0.0, 1.0
            )
            assert_close(out.tangent[direction], expected)


@pytest.mark.parametrize("ufunc", sorted(UFUNC_RULES, key=lambda u: u.__name__))
def test_numpy_ufunc_dispatches_to_the_rule(ufunc):
    rule = UFUNC_RULES[ufunc]
    xs = points(rule.domain[0])
    if rule.nin == 1:
        d = ufunc(Dual(xs[1], 1.0))
        assert_close(d.tangent, directional(rule.array, xs[1], 1.0))
    else:
        y = 2 if rule.name in INTEGER_SECOND else points(rule.domain[1])[2]
        d = ufunc(Dual(xs[1], 1.0), y)
        assert_close(d.tangent, directional(lambda t: rule.array(t, y), xs[1], 1.0))


DIFFERENTIABLE_UFUNCS = (
    "add subtract multiply divide true_divide power float_power negative positive square "
    "reciprocal floor_divide remainder mod fmod exp exp2 expm1 log log2 log10 log1p logaddexp "
    "logaddexp2 sqrt cbrt sin cos tan arcsin arccos arctan arctan2 hypot sinh cosh tanh arcsinh "
    "arccosh arctanh deg2rad rad2deg degrees radians absolute fabs sign conjugate conj maximum "
    "minimum fmax fmin copysign floor ceil trunc rint heaviside ldexp"
).split()


def test_every_differentiable_numpy_ufunc_has_a_rule():
    missing = [n for n in DIFFERENTIABLE_UFUNCS if getattr(np, n) not in UFUNC_RULES]
    assert not missing


def test_public_functions_return_plain_numbers_for_plain_input():
    assert type(dd.sin(0.5)) is float
    assert dd.sin(0.5) == math.sin(0.5)
    assert isinstance(dd.exp(np.array([0.0, 1.0])), np.ndarray)
    assert dd.hypot(3.0, 4.0) == 5.0
    assert dd.sigmoid(0.0) == 0.5


def test_domain_edges_follow_numpy_not_math():
    with np.errstate(all="ignore"):
        assert math.isnan(dd.log(-1.0))
        assert dd.log(0.0) == -math.inf
        assert dd.exp(1000.0) == math.inf
        assert math.isnan(dd.sqrt(-1.0))


# -- conventions at kinks (each documented in the rules module) -------------------------------


def test_abs_at_zero_has_derivative_zero():
    assert dd.derivative(abs, 0.0) == 0.0
    assert dd.derivative(np.abs, 0.0) == 0.0
    assert dd.derivative(abs, -2.0) == -1.0


def test_maximum_and_minimum_split_ties_evenly():
    assert dd.derivative(lambda x: np.maximum(x, 1.0), 1.0) == 0.5
    assert dd.derivative(lambda x: np.minimum(x, 1.0), 1.0) == 0.5
    assert dd.derivative(lambda x: np.maximum(x, x), 1.0) == 1.0
    assert dd.derivative(lambda x: dd.fmax(x, np.nan), 1.0) == 1.0
    assert dd.derivative(lambda x: dd.fmin(np.nan, x), 1.0) == 1.0


def test_sqrt_at_zero_is_infinite_but_a_zero_tangent_stays_zero():
    with np.errstate(all="ignore"):
        assert dd.derivative(np.sqrt, 0.0) == math.inf
        assert np.sqrt(Dual(0.0, 0.0)).tangent == 0.0
        grad = dd.jacobian(np.sqrt, np.array([0.0, 4.0]))
    assert grad[0, 0] == math.inf
    assert grad[0, 1] == 0.0 and grad[1, 0] == 0.0  # no 0 * inf = nan off the diagonal
    assert grad[1, 1] == 0.25


def test_power_conventions_at_zero():
    assert dd.derivative(lambda x: x**0, 0.0) == 0.0
    assert dd.derivative(lambda x: x**1, 0.0) == 1.0
    assert dd.derivative(lambda x: x**2.0, 0.0) == 0.0
    assert dd.derivative(lambda y: 0.0**y, 2.0) == 0.0  # d/dy 0**y taken as 0
    assert dd.derivative(lambda x: x**3, -2.0) == 12.0  # negative base, integer exponent
    with np.errstate(all="ignore"):
        assert math.isnan((Dual(-8.0, 1.0) ** (1.0 / 3.0)).value)  # as NumPy: nan, not complex


def test_hypot_and_complex_abs_at_the_origin():
    assert dd.hypot(Dual(0.0, 1.0), Dual(0.0, 1.0)).tangent == 0.0
    assert abs(Dual(0j, 1.0)).tangent == 0.0


def test_piecewise_constant_functions_have_zero_derivative():
    for name in ("floor", "ceil", "trunc", "rint", "sign"):
        assert RULES[name].function(Dual(1.3, 1.0)).tangent == 0.0
    assert dd.heaviside(Dual(0.5, 1.0), 0.5).tangent == 0.0
    assert (Dual(7.5, 1.0) // 2.0).tangent == 0.0


def test_sinc_near_zero_uses_the_series():
    for x in (0.0, 1e-9, -3e-4, 2e-3):
        d = dd.derivative(dd.sinc, x)
        exact = (
            -(math.pi**2) * x / 3.0
            if abs(x) < 1e-6
            else (math.cos(math.pi * x) / x - math.sin(math.pi * x) / (math.pi * x * x))
        )
        assert abs(d - exact) <= 1e-12


@pytest.mark.parametrize("a", [1e-300, 1e-160, 1e160, 1e200])
def test_arctan2_far_out_keeps_its_derivative(a):
    # x / (x² + y²) underflowed to 0.0 at 1e-300 (the derivative is 5e299) and overflowed to
    # 0.0 at 1e200 (it is 5e-201), in every mode; at y = x = a it is ±1/(2a)
    expected = 0.5 / a
    point = np.array([a, a])
    jac = dd.jacobian(lambda v: np.arctan2(v[0], v[1]), point)
    np.testing.assert_allclose(jac, [expected, -expected], rtol=1e-15)
    assert dd.derivative(lambda y: np.arctan2(y, a), a) == pytest.approx(expected, rel=1e-15)
    line = dd.taylor(lambda t: np.arctan2(a + t * a, a), 0.0, 1)
    assert line[1] == pytest.approx(0.5, rel=1e-15)
    compiled = dd.jit_jacobian(lambda v: np.arctan2(v[0], v[1]))(point)
    np.testing.assert_allclose(compiled, [expected, -expected], rtol=1e-15)


@pytest.mark.parametrize(
    "x, y", [(1e8, 1.0), (-1e8, 3.0), (1e100, -1e95), (1e200, 1e195), (3.0, -4.0), (0.5, 1e-8)]
)
def test_hypot_higher_derivatives_where_one_argument_dominates(x, y):
    # d/dx (x/h) = (1 - (x/h)²)/h cancelled where |x| >> |y|: hypot(x, 1)'' came out 0.0 at 1e8
    # (nested and in Taylor mode; it is 1e-24), and Taylor mode's u² + v² overflowed at 1e200.
    # Closed forms in the unit vector (c, s) = (x, y)/h: f_xx = s²/h, f_xy = -cs/h, f_xxx = -3cs²/h²
    h = math.hypot(x, y)
    c, s = x / h, y / h
    second, third = s * s / h, -3.0 * c * s * s / h / h
    f = lambda t: np.hypot(t, y)  # noqa: E731
    assert dd.derivative(lambda t: dd.derivative(f, t), x) == pytest.approx(second, rel=1e-14)
    assert dd.derivative(f, x, n=2) == pytest.approx(second, rel=1e-14)
    assert dd.derivative(f, x, n=3) == pytest.approx(third, rel=1e-14, abs=1e-300)
    hessian = dd.hessian(lambda v: np.hypot(v[0], v[1]), np.array([x, y]))
    expected = np.array([[s * s, -c * s], [-c * s, c * c]]) / h
    np.testing.assert_allclose(hessian, expected, rtol=1e-14, atol=0.0)
    # dual arrays: one entry per point, beside an ordinary one and the origin (0 by convention)
    points, others = np.array([x, 2.0, 0.0]), np.array([y, 1.5, 0.0])
    diagonal = dd.hessian(lambda v: np.sum(np.hypot(v, others)), points).diagonal()
    np.testing.assert_allclose(diagonal, [second, 1.5**2 / 2.5**3, 0.0], rtol=1e-14, atol=0.0)


CUT_POINTS = [complex(x, s * 0.0) for x in (1.5, -1.5, -2.0, 3.0) for s in (1.0, -1.0)]


@pytest.mark.parametrize("name", ["arcsin", "arccos", "arccosh"])
@pytest.mark.parametrize("z", CUT_POINTS, ids=str)
def test_inverse_functions_on_their_cut_take_numpys_side(name, z):
    # on the real cut NumPy's value is the side the zero's sign names (arcsin(1.5 + 0j) is the
    # upper side's pi/2 + 0.96j); the principal root 1/sqrt(1 - z²) gave the other side's
    # derivative (-0.89j for +0.89j), and arccosh's x + 1 lost the sign of -0j. The reference:
    # central differences of NumPy's own values along the cut
    f = getattr(np, name)
    h = 1e-6
    expected = (f(complex(z.real + h, z.imag)) - f(complex(z.real - h, z.imag))) / (2 * h)
    got = {
        "eager": dd.derivative(f, z),
        "array": dd.jvp(f, np.array([z, 0.3 + 0.2j]), np.array([1.0 + 0j, 0.0]))[1][0],
        "taylor": dd.taylor(f, z, 2)[1],
        "jit": dd.jit_jvp(f)(np.complex128(z), np.complex128(1.0))[1],
    }
    for mode, value in got.items():
        assert abs(value - expected) < 1e-6 * abs(expected), mode


@pytest.mark.parametrize(
    "f",
    [
        np.emath.sqrt, np.emath.log, np.emath.log2, np.emath.log10, np.emath.arcsin,
        np.emath.arccos, np.emath.arctanh, lambda x: np.emath.logn(3.0, x),
        lambda x: np.emath.power(x, 1.5), lambda x: np.emath.power(np.array([-2.0, 3.0]), x),
    ],
)  # fmt: skip
@pytest.mark.parametrize("x", [np.array([0.5, 0.25]), np.array([-1.5, 0.25])], ids=["in", "out"])
def test_numpy_emath_in_every_mode(f, x):
    # numpy.emath had no rule (and was refused as "numpy.sqrt"); its value is complex where an
    # entry is outside the real domain, real where none is, as NumPy's
    value = f(x)
    h = 1e-6
    e = np.eye(2)
    expected = np.stack([(f(x + h * e[i]) - f(x - h * e[i])) / (2 * h) for i in range(2)], -1)
    got_value, _ = dd.jvp(f, x, np.ones(2))
    assert np.asarray(got_value).dtype == value.dtype
    np.testing.assert_array_equal(got_value, value)
    np.testing.assert_allclose(dd.jacobian(f, x), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), expected, rtol=1e-6, atol=1e-8)
    line = dd.taylor(lambda t: f(x + t * np.array([1.0, 0.5])), 0.0, 1)[:, 1]
    np.testing.assert_allclose(line, expected @ np.array([1.0, 0.5]), rtol=1e-6, atol=1e-8)
    pattern = dd.jacobian_sparsity(f, x)
    dense = pattern.toarray() if hasattr(pattern, "toarray") else np.asarray(pattern)
    assert (dense.astype(bool) | (expected == 0)).all()
