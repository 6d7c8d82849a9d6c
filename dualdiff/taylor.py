"""Taylor mode: truncated Taylor polynomials carried through every rule, for higher derivatives.

A ``Taylor`` holds ``coefficients[k] = u⁽ᵏ⁾(0)/k!`` of a function ``u(t)`` of one real variable,
up to ``t**order``. Every rule of ``dualdiff.rules`` has a Taylor rule in ``TAYLOR_RULES`` that
maps the coefficients of the arguments to those of the result. Most are the standard recurrences
(Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 13), read off an ODE the function
satisfies: ``y = exp(u)`` solves ``y' = y·u'``, so ``y_k = (1/k) Σ_{j=1..k} j·u_j·y_{k-j}``;
each costs O(order²) operations. ``higher_derivative(f, x, n)`` evaluates ``f(x + t)`` this way
and reads ``n!·coefficients[n]``.

Coefficient lists may stop before ``order``: the missing coefficients are exact zeros, so the
seed ``x + t`` costs O(order) in the first function it meets, and polynomials stay exact.
A coefficient is a float, a complex number, a NumPy array (an elementwise series), or a dual
number of an older tag (nesting); the recurrences only add, multiply and divide coefficients.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from operator import mul
from typing import Any

import numpy as np

from . import errors
from .dual import SCALAR_TYPES, Dual, _make
from .rules import (
    RULES,
    UFUNC_RULES,
    VALUE_UFUNCS,
    Rule,
    is_complex,
    is_dual,
    lift_of,
    register_lift,
    where,
)
from .seed import check_output
from .tags import USER_TAG, new_tag

__all__ = ["Taylor", "TAYLOR_RULES", "fallback_rule", "higher_derivative", "taylor"]

_FALLBACK_ERRORS = (ValueError, OverflowError, ZeroDivisionError)
_PLAIN_SCALARS = (float, int, complex)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_MAX_ORDER = 170  # 171! overflows a float64
_new = object.__new__


# ---------------------------------------------------------------------------------------------
# Series arithmetic on coefficient lists (a missing trailing coefficient is an exact zero).
# A convolution sum is sum(map(mul, a, b[k::-1])): map stops at the shorter list, which keeps
# exactly the terms of coefficient k.
# ---------------------------------------------------------------------------------------------


def _deriv(u: list) -> list:
    """The coefficients of ``u'``: ``[1·u_1, 2·u_2, ...]``."""
    return [u[j] * j for j in range(1, len(u))]


def _integrate(y0: Any, h: list, n: int) -> list:
    """The series ``y`` of order ``n`` with ``y(0) = y0`` and ``y' = h``."""
    return [y0] + [h[k - 1] / k for k in range(1, min(n, len(h)) + 1)]


def _add(a: list, b: list) -> list:
    if len(a) < len(b):
        a, b = b, a
    out = [x + y for x, y in zip(a, b)]
    out += a[len(b) :]
    return out


def _sub(a: list, b: list) -> list:
    out = [x - y for x, y in zip(a, b)]
    la, lb = len(a), len(b)
    if la > lb:
        out += a[lb:]
    else:
        out += [-y for y in b[la:]]
    return out


def _scale(a: list, s: Any) -> list:
    return [c * s for c in a]


def _product_coefficient(a: list, b: list, k: int) -> Any:
    """Coefficient ``k`` of ``a·b``."""
    lo = max(0, k - len(b) + 1)
    if lo > min(k, len(a) - 1):
        return 0.0
    return sum(map(mul, a[lo:], b[k - lo :: -1]))


def _mul(a: list, b: list, n: int) -> list:
    """The product ``a·b`` truncated after order ``n``: the Cauchy product."""
    if len(a) == 1:
        a0 = a[0]
        return [a0 * c for c in b[: n + 1]]
    if len(b) == 1:
        b0 = b[0]
        return [c * b0 for c in a[: n + 1]]
    la, lb = len(a), len(b)
    out = []
    for k in range(min(n + 1, la + lb - 1)):
        lo = k - lb + 1 if k >= lb else 0
        out.append(sum(map(mul, a[lo:] if lo else a, b[k - lo :: -1])))
    return out


def _div(a: list, b: list, n: int) -> list:
    """The quotient ``q = a/b`` to order ``n``, from ``q·b = a``:
    ``q_k = (a_k - Σ_{j=1..k} b_j q_{k-j}) / b_0``."""
    b0 = b[0]
    if len(b) == 1:
        return [c / b0 for c in a[: n + 1]]
    la = len(a)
    tail = b[1:]
    q: list = []
    for k in range(n + 1):
        s = a[k] if k < la else 0.0
        if k:
            s = s - sum(map(mul, tail, q[k - 1 :: -1]))
        q.append(s / b0)
    return q


def _sqrt_series(w: list, n: int, y0: Any) -> list:
    """``y = sqrt(w)`` with ``y_0 = y0`` given, from ``y² = w``:
    ``y_k = (w_k - Σ_{i=1..k-1} y_i y_{k-i}) / (2 y_0)``."""
    y = [y0]
    two = y0 * 2.0
    lw = len(w)
    for k in range(1, n + 1):
        s = w[k] if k < lw else 0.0
        if k > 1:
            s = s - sum(map(mul, y[1:k], y[k - 1 : 0 : -1]))
        y.append(s / two)
    return y


def _exp_series(y0: Any, du: list, n: int) -> list:
    """``y`` with ``y' = y·u'`` and ``y(0) = y0`` (``du`` holds the coefficients of ``u'``):
    ``y_k = (1/k) Σ_{j=1..k} j u_j y_{k-j}``."""
    y = [y0]
    if len(du) == 1:  # a linear argument (the seed): one term per coefficient
        d = du[0]
        c = y0
        for k in range(1, n + 1):
            c = c * d / k
            y.append(c)
        return y
    for k in range(1, n + 1):
        y.append(sum(map(mul, du, y[k - 1 :: -1])) / k)
    return y


def _sin_cos(u: list, n: int, s0: Any, c0: Any, hyperbolic: bool) -> tuple[list, list]:
    """``s = sin(u)``, ``c = cos(u)`` together from ``s' = c·u'``, ``c' = -s·u'`` (``sinh`` and
    ``cosh`` when ``hyperbolic``: ``c' = +s·u'``)."""
    du = _deriv(u)
    s, c = [s0], [c0]
    if len(du) == 1:
        d = du[0]
        for k in range(1, n + 1):
            dk = d / k
            s.append(dk * c[k - 1])
            c.append(dk * s[k - 1] if hyperbolic else -dk * s[k - 1])
        return s, c
    for k in range(1, n + 1):
        s.append(sum(map(mul, du, c[k - 1 :: -1])) / k)
        t = sum(map(mul, du, s[k - 1 :: -1])) / k
        c.append(t if hyperbolic else -t)
    return s, c


def _riccati(u: list, n: int, y0: Any, w0: Any, linear: bool, quadratic: float) -> list:
    """``y`` with ``y' = w·u'``, ``w = const + (y if linear) + quadratic·y²``: tan, tanh and
    sigmoid. ``w0 = w(y_0)`` is passed in, computed accurately (``1 - tanh²`` would cancel)."""
    du = _deriv(u)
    y, w = [y0], [w0]
    single = len(du) == 1
    for k in range(1, n + 1):
        if single:
            y.append(du[0] * w[k - 1] / k)
        else:
            y.append(sum(map(mul, du, w[k - 1 :: -1])) / k)
        if k < n:
            square = sum(map(mul, y[: k + 1], y[k::-1])) * quadratic
            w.append(y[k] + square if linear else square)
    return y


def _power_recurrence(u: list, a: Any, n: int, y0: Any) -> list:
    """``y = u**a`` for a constant ``a`` and ``u_0 != 0``, from ``u·y' = a·y·u'``:
    ``y_k = Σ_{j=1..k} ((a+1)j - k) u_j y_{k-j} / (k u_0)``."""
    u0 = u[0]
    m = len(u)
    y = [y0]
    if m == 2:
        ratio = u[1] / u0
        for k in range(1, n + 1):
            y.append(y[k - 1] * ratio * ((a + 1 - k) / k))
        return y
    a1 = a + 1
    for k in range(1, n + 1):
        s = 0.0
        for j in range(1, min(k, m - 1) + 1):
            s = s + (a1 * j - k) * u[j] * y[k - j]
        y.append(s / (u0 * k))
    return y


def _power_at_zero(u: list, a: Any, n: int, y0: Any) -> list:
    """``u**a`` where ``u_0 = 0``, from ``y' = a·u**(a-1)·u'`` (recursively, O(n³)): exact zeros
    below the order where the derivative blows up, then inf or nan, as nested duals give."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = _power_const(u[:n], a - 1, n - 1, POWER(u[0], a - 1))
    return _integrate(y0, _mul(_scale(p, a), _deriv(u), n - 1), n)


def _power_const(u: list, a: Any, n: int, y0: Any) -> list:
    """``u**a`` for a constant exponent ``a`` (a number or an array), ``y_0 = y0`` given."""
    if len(u) == 1 or n == 0:
        return [y0]
    if not _is_array(a):
        if a == 0:  # x**0 is the constant 1, even at x = 0 (the rule's convention)
            return [y0]
        if a == 1:
            return [y0] + u[1 : n + 1]
        if a == 2:
            return _mul(u, u, n)
    u0 = u[0]
    if not _is_array(u0) and not _is_array(a):
        if u0 != 0:
            return _power_recurrence(u, a, n, y0)
        return _power_at_zero(u, a, n, y0)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = _power_recurrence(u, a, n, y0)
        zero = u0 == 0
        if np.any(zero):
            y = _select(zero, _power_at_zero(u, a, n, y0), y)
        if _is_array(a):
            y = _select(a == 0, [y0], y)
    return y


def _log_tail(w: list, n: int) -> list:
    """Coefficients 1..n of ``log(w)``: ``∫ w'/w``."""
    return _integrate(0.0, _div(_deriv(w), w, n - 1), n)[1:]


def _sigmoid_series(d: list, n: int, y0: Any) -> list:
    """``sigmoid(d)`` from ``y' = y(1 - y)·d'``; ``y(1-y)`` at 0 is taken as
    ``sigmoid(d_0)·sigmoid(-d_0)``, accurate where ``y_0`` is close to 1."""
    if len(d) == 1 or n == 0:
        return [y0]
    return _riccati(d, n, y0, y0 * SIGMOID(-d[0]), True, -1.0)


def _compose(g: list, u: list, n: int) -> list:
    """``Σ_k g_k (u - u_0)**k``: the series of ``f(u)`` from ``f``'s Taylor coefficients ``g`` at
    ``u_0`` (Horner's scheme, O(n³); O(n) for the linear seed)."""
    if len(u) == 2:
        d = u[1]
        out = [g[0]]
        p = d
        for k in range(1, n + 1):
            out.append(g[k] * p)
            p = p * d
        return out
    w = [0.0] + u[1:]
    acc = [g[n]]
    for k in range(n - 1, -1, -1):
        acc = _mul(acc, w, n)
        acc[0] = g[k]
    return acc


def _select(cond: Any, a: list, b: list) -> list:
    """Coefficientwise ``where(cond, a, b)``."""
    la, lb = len(a), len(b)
    return [
        where(cond, a[k] if k < la else 0.0, b[k] if k < lb else 0.0) for k in range(max(la, lb))
    ]


def _constant_where(cond: Any, y0: Any, y: list) -> list:
    """``y``, but the constant ``y0`` where ``cond`` holds (a convention at a kink)."""
    if not _is_array(cond):
        return [y0] if cond else y
    if np.any(cond):
        return _select(cond, [y0], y)
    return y


def _is_array(a: Any) -> bool:
    return getattr(a, "ndim", 0) != 0


def _partial(p: Any, *args: Any) -> Any:
    """A partial derivative of a rule at the values: a float when the table says it is constant."""
    return p if type(p) is float else p(*args)


# ---------------------------------------------------------------------------------------------
# The Taylor rules, keyed by rule name: unary ``fn(rule, u, n)``, binary ``fn(rule, u, v, n)``
# with coefficient lists (a constant argument is a list of length 1, not both constant)
# ---------------------------------------------------------------------------------------------

TAYLOR_RULES: dict[str, Callable[..., list]] = {}
"""The Taylor rule of every rule of ``dualdiff.rules.RULES`` by name; a rule missing here falls
back to ``fallback_rule``."""


def _taylor_rule(*names: str) -> Callable[[Callable[..., list]], Callable[..., list]]:
    def register(fn: Callable[..., list]) -> Callable[..., list]:
        for name in names:
            TAYLOR_RULES[name] = fn
        return fn

    return register


# -- arithmetic --------------------------------------------------------------------------------


@_taylor_rule("add")
def _add_rule(rule: Rule, u: list, v: list, n: int) -> list:
    return _add(u, v)


@_taylor_rule("subtract")
def _subtract_rule(rule: Rule, u: list, v: list, n: int) -> list:
    return _sub(u, v)


@_taylor_rule("multiply")
def _multiply_rule(rule: Rule, u: list, v: list, n: int) -> list:
    return _mul(u, v, n)


@_taylor_rule("divide")
def _divide_rule(rule: Rule, u: list, v: list, n: int) -> list:
    return _div(u, v, n)


@_taylor_rule("reciprocal")
def _reciprocal_rule(rule: Rule, u: list, n: int) -> list:
    return _div([1.0], u, n)


@_taylor_rule("square")
def _square_rule(rule: Rule, u: list, n: int) -> list:
    return _mul(u, u, n)


@_taylor_rule("power", "float_power")
def _power_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # Constant exponent: the recurrence of u**a. Otherwise u**v = exp(v·log u), with the value
    # from the rule; a constant zero base gives the constant 0**v (the rule's convention).
    y0 = rule.function(u[0], v[0])
    if len(v) == 1:
        return _power_const(u, v[0], n, y0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if len(u) == 1:
            z = _scale(v, LOG(u[0]))
        else:
            z = _mul(v, [LOG(u[0])] + _log_tail(u, n), n)
        y = _exp_series(y0, _deriv(z), n)
    return _constant_where(u[0] == 0, y0, y) if len(u) == 1 else y


@_taylor_rule("negative", "positive", "deg2rad", "rad2deg")
def _linear_rule(rule: Rule, u: list, n: int) -> list:
    # The partial is a constant: every coefficient is scaled by it.
    y0 = rule.function(u[0])
    p = _partial(rule.partials[0], u[0], y0)
    return [y0] + [p * c for c in u[1:]]


@_taylor_rule("remainder", "fmod", "maximum", "minimum", "fmax", "fmin", "copysign", "ldexp")
def _piecewise_linear_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # Linear on each piece: the partials at the values hold for every coefficient (at a tie of
    # maximum/minimum each argument gets half, as for the first derivative).
    x, y = u[0], v[0]
    y0 = rule.function(x, y)
    out = [y0]
    for coefficients, p in zip((u, v), rule.partials):
        if p is None or len(coefficients) == 1:
            continue
        term = _scale(coefficients[1:], _partial(p, x, y, y0))
        out = [y0] + (_add(out[1:], term) if len(out) > 1 else term)
    return out


@_taylor_rule("floor", "ceil", "trunc", "rint", "heaviside", "floor_divide")
def _constant_rule(rule: Rule, *args: Any) -> list:
    return [rule.function(*(a[0] for a in args[:-1]))]


# -- exponentials and logarithms ---------------------------------------------------------------


@_taylor_rule("exp")
def _exp_rule(rule: Rule, u: list, n: int) -> list:
    return _exp_series(rule.function(u[0]), _deriv(u), n)


@_taylor_rule("exp2")
def _exp2_rule(rule: Rule, u: list, n: int) -> list:
    return _exp_series(rule.function(u[0]), _scale(_deriv(u), _LN2), n)


@_taylor_rule("expm1")
def _expm1_rule(rule: Rule, u: list, n: int) -> list:
    y = _exp_series(EXP(u[0]), _deriv(u), n)
    y[0] = rule.function(u[0])
    return y


@_taylor_rule("log", "log2", "log10")
def _log_rule(rule: Rule, u: list, n: int) -> list:
    tail = _log_tail(u, n)
    if rule.name != "log":
        tail = _scale(tail, 1.0 / (_LN2 if rule.name == "log2" else _LN10))
    return [rule.function(u[0])] + tail


@_taylor_rule("log1p")
def _log1p_rule(rule: Rule, u: list, n: int) -> list:
    return [rule.function(u[0])] + _log_tail([1.0 + u[0]] + u[1:], n)


@_taylor_rule("logaddexp", "logaddexp2")
def _logaddexp_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # y' = v' + s·(u' - v') with s = sigmoid(u - v) (scaled by log 2 for base 2): no overflow.
    d = _sub(u, v)
    if rule.name == "logaddexp2":
        d = _scale(d, _LN2)
    s = _sigmoid_series(d[:n], n - 1, SIGMOID(d[0]))
    du, dv = _deriv(u), _deriv(v)
    return _integrate(rule.function(u[0], v[0]), _add(dv, _mul(s, _sub(du, dv), n - 1)), n)


@_taylor_rule("sqrt")
def _sqrt_rule(rule: Rule, u: list, n: int) -> list:
    return _sqrt_series(u, n, rule.function(u[0]))


@_taylor_rule("cbrt")
def _cbrt_rule(rule: Rule, u: list, n: int) -> list:
    return _power_const(u, 1.0 / 3.0, n, rule.function(u[0]))


# -- trigonometric and hyperbolic --------------------------------------------------------------


@_taylor_rule("sin")
def _sin_rule(rule: Rule, u: list, n: int) -> list:
    return _sin_cos(u, n, rule.function(u[0]), COS(u[0]), False)[0]


@_taylor_rule("cos")
def _cos_rule(rule: Rule, u: list, n: int) -> list:
    return _sin_cos(u, n, SIN(u[0]), rule.function(u[0]), False)[1]


@_taylor_rule("sinh")
def _sinh_rule(rule: Rule, u: list, n: int) -> list:
    return _sin_cos(u, n, rule.function(u[0]), COSH(u[0]), True)[0]


@_taylor_rule("cosh")
def _cosh_rule(rule: Rule, u: list, n: int) -> list:
    return _sin_cos(u, n, SINH(u[0]), rule.function(u[0]), True)[1]


@_taylor_rule("tan")
def _tan_rule(rule: Rule, u: list, n: int) -> list:
    y0 = rule.function(u[0])
    return _riccati(u, n, y0, 1.0 + y0 * y0, False, 1.0)


@_taylor_rule("tanh")
def _tanh_rule(rule: Rule, u: list, n: int) -> list:
    c = COSH(u[0])
    return _riccati(u, n, rule.function(u[0]), 1.0 / (c * c), False, -1.0)


@_taylor_rule("sigmoid")
def _sigmoid_rule(rule: Rule, u: list, n: int) -> list:
    return _sigmoid_series(u, n, rule.function(u[0]))


def _one_minus_square(u: list, n: int) -> list:
    """``1 - u²``, its value as ``(1 - u_0)(1 + u_0)`` (no cancellation near ``|u_0| = 1``)."""
    u0 = u[0]
    return [(1.0 - u0) * (1.0 + u0)] + [-c for c in _mul(u, u, n)[1:]]


def _quotient_integral(y0: Any, u: list, g: list, n: int) -> list:
    """``y0 + ∫ u'/g``: the inverse functions, whose derivative is ``u'`` over a series ``g``."""
    return _integrate(y0, _div(_deriv(u), g, n - 1), n)


@_taylor_rule("arcsin", "arccos")
def _arcsin_rule(rule: Rule, u: list, n: int) -> list:
    w = _one_minus_square(u[:n], n - 1)
    g = _sqrt_series(w, n - 1, SQRT(w[0]))
    if rule.name == "arccos":
        g = [-c for c in g]
    return _quotient_integral(rule.function(u[0]), u, g, n)


@_taylor_rule("arctan")
def _arctan_rule(rule: Rule, u: list, n: int) -> list:
    g = _mul(u[:n], u[:n], n - 1)
    g[0] = g[0] + 1.0
    return _quotient_integral(rule.function(u[0]), u, g, n)


@_taylor_rule("arcsinh")
def _arcsinh_rule(rule: Rule, u: list, n: int) -> list:
    w = _mul(u[:n], u[:n], n - 1)
    w[0] = w[0] + 1.0
    return _quotient_integral(rule.function(u[0]), u, _sqrt_series(w, n - 1, SQRT(w[0])), n)


@_taylor_rule("arccosh")
def _arccosh_rule(rule: Rule, u: list, n: int) -> list:
    w = [-c for c in _one_minus_square(u[:n], n - 1)]
    return _quotient_integral(rule.function(u[0]), u, _sqrt_series(w, n - 1, SQRT(w[0])), n)


@_taylor_rule("arctanh")
def _arctanh_rule(rule: Rule, u: list, n: int) -> list:
    return _quotient_integral(rule.function(u[0]), u, _one_minus_square(u[:n], n - 1), n)


@_taylor_rule("arctan2")
def _arctan2_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # y' = (v u' - u v') / (u² + v²); the origin gives the constant value (the rule's convention).
    y0 = rule.function(u[0], v[0])
    u1, v1 = u[:n], v[:n]
    g = _add(_mul(u1, u1, n - 1), _mul(v1, v1, n - 1))
    h = _sub(_mul(v1, _deriv(u), n - 1), _mul(u1, _deriv(v), n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = _integrate(y0, _div(h, g, n - 1), n) if _nonzero(g[0]) else [y0]
    return _constant_where(g[0] == 0, y0, y)


@_taylor_rule("hypot")
def _hypot_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # sqrt(u² + v²) with the value from the rule; the origin gives the constant 0 (convention).
    y0 = rule.function(u[0], v[0])
    w = _add(_mul(u, u, n), _mul(v, v, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = _sqrt_series(w, n, y0) if _nonzero(y0) else [y0]
    return _constant_where(y0 == 0, y0, y)


def _nonzero(a: Any) -> bool:
    """False only for a scalar zero (arrays go through the recurrence, then ``_constant_where``)."""
    return _is_array(a) or a != 0


# -- kinks and piecewise-constant functions ----------------------------------------------------


def _modulus(u: list, n: int, y0: Any) -> list:
    """``|u|`` for complex ``u``: ``sqrt(u·conj(u))``, a real series; constant 0 at ``u_0 = 0``."""
    w = [c.real for c in _mul(u, [c.conjugate() for c in u], n)]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = _sqrt_series(w, n, y0) if _nonzero(y0) else [y0]
    return _constant_where(y0 == 0, y0, y)


def _is_complex_series(u: list) -> bool:
    return any(is_complex(c) for c in u)


@_taylor_rule("absolute", "fabs")
def _absolute_rule(rule: Rule, u: list, n: int) -> list:
    # Real: sign(u_0)·u, so 0 past the value at u_0 = 0 (the first-derivative convention).
    y0 = rule.function(u[0])
    if rule.name == "absolute" and _is_complex_series(u):
        return _modulus(u, n, y0)
    s = SIGN(u[0])
    return [y0] + [s * c for c in u[1:]]


@_taylor_rule("sign")
def _sign_rule(rule: Rule, u: list, n: int) -> list:
    # Real sign is piecewise constant; complex sign(z) = z/|z|, constant at z = 0.
    y0 = rule.function(u[0])
    if not _is_complex_series(u):
        return [y0]
    modulus = _modulus(u, n, ABSOLUTE(u[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = _div(u, modulus, n) if _nonzero(modulus[0]) else [y0]
    y[0] = y0
    return _constant_where(modulus[0] == 0, y0, y)


@_taylor_rule("conjugate")
def _conjugate_rule(rule: Rule, u: list, n: int) -> list:
    return [rule.function(c) for c in u]


# -- functions NumPy lacks as ufuncs -----------------------------------------------------------


@_taylor_rule("softplus")
def _softplus_rule(rule: Rule, u: list, n: int) -> list:
    s = _sigmoid_series(u[:n], n - 1, SIGMOID(u[0]))
    return _integrate(rule.function(u[0]), _mul(s, _deriv(u), n - 1), n)


@_taylor_rule("logit")
def _logit_rule(rule: Rule, u: list, n: int) -> list:
    u1 = u[:n]
    g = _mul(u1, [1.0 - u[0]] + [-c for c in u1[1:]], n - 1)
    return _quotient_integral(rule.function(u[0]), u, g, n)


@_taylor_rule("xlogy", "xlog1py")
def _xlogy_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # u·log(v) (or u·log1p(v)); the value comes from the rule (0 at u = 0).
    y0 = rule.function(u[0], v[0])
    w = v if rule.name == "xlogy" else [1.0 + v[0]] + v[1:]
    log_v = [(LOG if rule.name == "xlogy" else LOG1P)(v[0])]
    if len(v) > 1:
        log_v += _log_tail(w, n)
    y = _mul(u, log_v, n)
    y[0] = y0
    return y


@_taylor_rule("sinc")
def _sinc_rule(rule: Rule, u: list, n: int) -> list:
    g = _sinc_coefficients(u[0], n)
    g[0] = rule.function(u[0])
    return _compose(g, u, n)


@functools.lru_cache(maxsize=64)
def _gauss_legendre(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(count)
    return (nodes + 1.0) / 2.0, weights / 2.0


def _sinc_coefficients(a: Any, n: int) -> list:
    """``sinc⁽ᵏ⁾(a)/k!`` for ``k = 0..n``.

    ``sin(πx)/(πx)`` cancels near 0, and so does the quotient recurrence for ``|πa| < n``. There
    ``sinc(a + t) = ∫₀¹ cos(πs(a + t)) ds`` gives ``(π^k/k!) ∫₀¹ s^k cos(πas + kπ/2) ds``, whose
    smooth integrand Gauss–Legendre quadrature integrates to double precision. Far from 0 the
    recurrence is stable: its errors shrink by ``k/|πa|`` per order.
    """
    threshold = 2.0 * n + 2.0
    if not _is_array(a):
        if abs(a) * math.pi >= threshold:
            return _sinc_by_quotient(a, n)
        return _sinc_by_quadrature(a, n, abs(_strip(a)))
    near = np.abs(_strip(a)) * math.pi < threshold
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound = np.max(np.abs(_strip(a)), where=near, initial=0.0)
        inner = _sinc_by_quadrature(np.where(near, a, 0.0), n, bound)
        outer = _sinc_by_quotient(np.where(near, threshold, a), n)
    return _select(near, inner, outer)


def _sinc_by_quotient(a: Any, n: int) -> list:
    s, _ = _sin_cos([a * math.pi, math.pi], n, SIN(a * math.pi), COS(a * math.pi), False)
    return _div(s, [a * math.pi, math.pi], n)


def _sinc_by_quadrature(a: Any, n: int, bound: Any) -> list:
    count = int(math.ceil((n + math.pi * float(bound) + 42.0) / 2.0))
    s, w = _gauss_legendre(count)
    if type(a) in SCALAR_TYPES or type(a) is np.ndarray:
        phase = math.pi * np.multiply.outer(a, s)
        cos_part, sin_part = np.cos(phase), np.sin(phase)

        def integral(part: Any, weights: np.ndarray) -> Any:
            return part @ weights

    else:  # a dual number: one rule evaluation per node
        cos_part = [COS(a * (math.pi * float(node))) for node in s]
        sin_part = [SIN(a * (math.pi * float(node))) for node in s]

        def integral(part: Any, weights: np.ndarray) -> Any:
            return sum(map(mul, part, weights.tolist()))

    out = []
    power = w
    scale = 1.0
    for k in range(n + 1):
        # cos(θ + kπ/2) cycles through cos θ, -sin θ, -cos θ, sin θ.
        part = cos_part if k % 2 == 0 else sin_part
        sign = 1.0 if k % 4 in (0, 3) else -1.0
        out.append(integral(part, power) * (sign * scale))
        power = power * s
        scale = scale * math.pi / (k + 1)
    return out


# ---------------------------------------------------------------------------------------------
# The generic rule: any entry of the table with first-derivative partials
# ---------------------------------------------------------------------------------------------


def fallback_rule(rule: Rule) -> Callable[..., list]:
    """The Taylor rule built from ``rule``'s first-derivative partials, for rules without one.

    ``y' = Σᵢ ∂f/∂xᵢ(x, y)·xᵢ'`` is solved order by order: coefficient ``k`` of ``y`` needs the
    partials to order ``k - 1`` only, so they are evaluated ``order`` times, on the truncated
    series of growing order. Cost: ``order`` evaluations of the partials on series, O(order³)
    when those use recurrences, against O(order²) for the rules of ``TAYLOR_RULES``.
    """
    if rule.zero:
        return _constant_rule
    if rule.jvp is not None or not rule.partials:
        raise errors.no_rule(
            f"{rule.name} in Taylor mode",
            "its derivative is a jvp rule, not partials; add a Taylor rule to "
            "dualdiff.taylor.TAYLOR_RULES",
        )

    def generic(rule: Rule, *args: Any) -> list:
        *series, n = args
        values = [s[0] for s in series]
        y = [rule.function(*values)]
        derivatives = [_deriv(s) for s in series]
        tag = new_tag()
        for k in range(1, n + 1):
            xs = [_taylor(s[:k], k - 1, tag) for s in series]
            ans = _taylor(y[:k], k - 1, tag)
            total = 0.0
            for p, d in zip(rule.partials, derivatives):
                if p is None or not d:
                    continue
                value = p if type(p) is float else p(*xs, ans)
                own = type(value) is Taylor and value.tag == tag
                total = total + _product_coefficient(
                    d, value.coefficients if own else [value], k - 1
                )
            y.append(total / k)
        return y

    return generic


def _apply(rule: Rule, args: tuple[list, ...], n: int) -> list:
    """The coefficients of ``rule(*args)``; Python numbers retry as NumPy scalars on a float error
    (a division by zero gives inf or nan, as NumPy does, instead of raising)."""
    if all(len(a) == 1 for a in args):
        return [rule.function(*(a[0] for a in args))]
    fn = TAYLOR_RULES.get(rule.name)
    if fn is None:
        fn = fallback_rule(rule)
    try:
        return fn(rule, *args, n)
    except _FALLBACK_ERRORS as exc:
        return _retry(fn, rule, args, n, exc)


def _retry(fn: Callable[..., list], rule: Rule, args: tuple, n: int, exc: Exception) -> list:
    """Run ``fn`` again on NumPy scalars after a float error ``exc`` from Python numbers."""
    if not all(type(c) in _PLAIN_SCALARS for a in args for c in a):
        raise exc
    with np.errstate(all="ignore"):
        return fn(rule, *([np.asarray(c)[()] for c in a] for a in args), n)


# ---------------------------------------------------------------------------------------------
# The Taylor type
# ---------------------------------------------------------------------------------------------


def _taylor(coefficients: list, order: int, tag: int) -> Taylor:
    """Build a Taylor without validating (the hot path)."""
    t = _new(Taylor)
    t.coefficients = coefficients
    t.order = order
    t.tag = tag
    return t


def _check_coefficient(c: Any) -> Any:
    t = type(c)
    if t is float or t is complex or t is np.ndarray or is_dual(c):
        return c
    if t in SCALAR_TYPES and not isinstance(c, (bool, np.bool_)):
        return float(c) if isinstance(c, numbers.Integral) else c
    raise TypeError(
        f"Taylor coefficients must be numbers, arrays or dual numbers, got {errors.type_name(c)}"
    )


class Taylor:
    """A truncated Taylor polynomial ``Σ_k coefficients[k]·t**k`` (``k <= order``) in a real ``t``.

    ``coefficients[k]`` is the ``k``-th derivative along ``t`` over ``k!``; entries past the end
    of the list are exact zeros. Operators, NumPy ufuncs and the ``dualdiff`` functions propagate
    it; comparisons and ``bool()`` look at ``value`` (``coefficients[0]``). ``tag`` separates
    perturbations as for ``Dual`` (see ``dualdiff.tags``); hand-built series share ``USER_TAG``.
    Converting to ``float`` or an array raises: it would drop the higher coefficients.
    """

    __slots__ = ("coefficients", "order", "tag")

    def __init__(self, coefficients: Any, order: int | None = None, tag: int = USER_TAG) -> None:
        if type(coefficients) not in (list, tuple) or not coefficients:
            raise TypeError(
                "Taylor expects a non-empty list of coefficients, got "
                f"{errors.type_name(coefficients)}"
            )
        values = [_check_coefficient(c) for c in coefficients]
        order = len(values) - 1 if order is None else errors.check_order(order, "Taylor")
        if type(tag) is not int:
            raise TypeError(f"Taylor tag must be an int, got {errors.type_name(tag)}")
        self.coefficients = values[: order + 1]
        self.order = order
        self.tag = tag

    @property
    def value(self) -> Any:
        """The constant coefficient: the value at ``t = 0``."""
        return self.coefficients[0]

    @property
    def tangent(self) -> Any:
        """Raises: a series has no single tangent (this also stops ``custom_jvp`` functions,
        whose rules would silently drop every coefficient past the first)."""
        raise TypeError(
            "a Taylor series has no single tangent: read .coefficients. (custom_jvp functions "
            "give first derivatives only and cannot be evaluated on a Taylor series.)"
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return np.broadcast_shapes(*(np.shape(_strip(c)) for c in self.coefficients))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        tag = f", tag={self.tag}" if self.tag != USER_TAG else ""
        return f"Taylor({self.coefficients!r}, order={self.order}{tag})"

    # -- arithmetic ---------------------------------------------------------------------------

    def _same(self, other: Taylor) -> tuple[list, list, int]:
        n = min(self.order, other.order)
        return self.coefficients[: n + 1], other.coefficients[: n + 1], n

    def __add__(self, other: Any) -> Any:
        t = type(other)
        if t is Taylor and other.tag == self.tag:
            a, b, n = self._same(other)
            return _taylor(_add(a, b), n, self.tag)
        if t in SCALAR_TYPES or t is np.ndarray:
            c = self.coefficients.copy()
            c[0] = c[0] + other
            return _taylor(c, self.order, self.tag)
        return _ADD(self, other) if is_dual(other) else NotImplemented

    def __radd__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or type(other) is np.ndarray:
            c = self.coefficients.copy()
            c[0] = other + c[0]
            return _taylor(c, self.order, self.tag)
        return _ADD(other, self) if is_dual(other) else NotImplemented

    def __sub__(self, other: Any) -> Any:
        t = type(other)
        if t is Taylor and other.tag == self.tag:
            a, b, n = self._same(other)
            return _taylor(_sub(a, b), n, self.tag)
        if t in SCALAR_TYPES or t is np.ndarray:
            c = self.coefficients.copy()
            c[0] = c[0] - other
            return _taylor(c, self.order, self.tag)
        return _SUBTRACT(self, other) if is_dual(other) else NotImplemented

    def __rsub__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or type(other) is np.ndarray:
            c = [-x for x in self.coefficients]
            c[0] = other - self.coefficients[0]
            return _taylor(c, self.order, self.tag)
        return _SUBTRACT(other, self) if is_dual(other) else NotImplemented

    def __mul__(self, other: Any) -> Any:
        t = type(other)
        if t is Taylor and other.tag == self.tag:
            a, b, n = self._same(other)
            return _taylor(_mul(a, b, n), n, self.tag)
        if t in SCALAR_TYPES or t is np.ndarray:
            return _taylor([c * other for c in self.coefficients], self.order, self.tag)
        return _MULTIPLY(self, other) if is_dual(other) else NotImplemented

    def __rmul__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or type(other) is np.ndarray:
            return _taylor([other * c for c in self.coefficients], self.order, self.tag)
        return _MULTIPLY(other, self) if is_dual(other) else NotImplemented

    def __truediv__(self, other: Any) -> Any:
        # Division by a zero value raises for Python floats, as it does for a Dual.
        t = type(other)
        if t is Taylor and other.tag == self.tag:
            a, b, n = self._same(other)
            return _taylor(_div(a, b, n), n, self.tag)
        if t in SCALAR_TYPES or t is np.ndarray:
            return _taylor([c / other for c in self.coefficients], self.order, self.tag)
        return _DIVIDE(self, other) if is_dual(other) else NotImplemented

    def __rtruediv__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or type(other) is np.ndarray:
            return _taylor(_div([other], self.coefficients, self.order), self.order, self.tag)
        return _DIVIDE(other, self) if is_dual(other) else NotImplemented

    def __pow__(self, other: Any, modulo: Any = None) -> Any:
        if modulo is not None:
            raise TypeError("pow() with a modulus is not differentiable")
        if type(other) is int and other == 2:
            return _taylor(
                _mul(self.coefficients, self.coefficients, self.order), self.order, self.tag
            )
        if _operand_type(other):
            return _POWER(self, other)
        return NotImplemented

    def __rpow__(self, other: Any) -> Any:
        return _POWER(other, self) if _operand_type(other) else NotImplemented

    def __floordiv__(self, other: Any) -> Any:
        return (
            RULES["floor_divide"].function(self, other) if _operand_type(other) else NotImplemented
        )

    def __rfloordiv__(self, other: Any) -> Any:
        return (
            RULES["floor_divide"].function(other, self) if _operand_type(other) else NotImplemented
        )

    def __mod__(self, other: Any) -> Any:
        return RULES["remainder"].function(self, other) if _operand_type(other) else NotImplemented

    def __rmod__(self, other: Any) -> Any:
        return RULES["remainder"].function(other, self) if _operand_type(other) else NotImplemented

    def __divmod__(self, other: Any) -> Any:
        return self.__floordiv__(other), self.__mod__(other)

    def __rdivmod__(self, other: Any) -> Any:
        return self.__rfloordiv__(other), self.__rmod__(other)

    def __neg__(self) -> Taylor:
        return _taylor([-c for c in self.coefficients], self.order, self.tag)

    def __pos__(self) -> Taylor:
        return self

    def __abs__(self) -> Any:
        return ABSOLUTE(self)

    # -- complex parts ------------------------------------------------------------------------

    @property
    def real(self) -> Taylor:
        return _taylor([c.real for c in self.coefficients], self.order, self.tag)

    @property
    def imag(self) -> Taylor:
        return _taylor([c.imag for c in self.coefficients], self.order, self.tag)

    def conjugate(self) -> Taylor:
        return _taylor([c.conjugate() for c in self.coefficients], self.order, self.tag)

    # -- comparisons act on the value ---------------------------------------------------------

    def __eq__(self, other: Any) -> Any:
        return self.coefficients[0] == _value(other)

    def __ne__(self, other: Any) -> Any:
        return self.coefficients[0] != _value(other)

    def __lt__(self, other: Any) -> Any:
        return self.coefficients[0] < _value(other)

    def __le__(self, other: Any) -> Any:
        return self.coefficients[0] <= _value(other)

    def __gt__(self, other: Any) -> Any:
        return self.coefficients[0] > _value(other)

    def __ge__(self, other: Any) -> Any:
        return self.coefficients[0] >= _value(other)

    def __hash__(self) -> int:
        return hash(self.coefficients[0])

    def __bool__(self) -> bool:
        return bool(self.coefficients[0])

    # -- piecewise-constant conversions return plain numbers (their derivatives are 0) --------

    def __floor__(self) -> Any:
        return math.floor(self.coefficients[0])

    def __ceil__(self) -> Any:
        return math.ceil(self.coefficients[0])

    def __trunc__(self) -> Any:
        return math.trunc(self.coefficients[0])

    def __round__(self, ndigits: int | None = None) -> Any:
        return round(self.coefficients[0], ndigits)

    # -- conversions that would drop coefficients raise ---------------------------------------

    def __float__(self) -> float:
        raise errors.lost_tangent(
            "Converting a Taylor series to float (float(x) or a math function such as math.sin)",
            "Use numpy.sin(x) or dualdiff.sin(x); x.value is the plain value.",
        )

    def __complex__(self) -> complex:
        raise errors.lost_tangent("Converting a Taylor series to complex", "Use x.value.")

    def __int__(self) -> int:
        raise errors.lost_tangent("Converting a Taylor series to int", "Use x.value.")

    def __index__(self) -> int:
        raise errors.lost_tangent("Using a Taylor series as an index", "Index with integers.")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise errors.lost_tangent(
            "numpy.asarray(x) of a Taylor series",
            "NumPy ufuncs and numpy.where accept Taylor series directly; x.coefficients are "
            "the plain coefficients.",
        )

    # -- elements of an array-valued series ---------------------------------------------------

    def __getitem__(self, index: Any) -> Taylor:
        shape = self.shape
        if not shape:
            raise TypeError("a scalar Taylor series cannot be indexed")
        return _taylor(
            [_broadcast(c, shape)[index] for c in self.coefficients], self.order, self.tag
        )

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a scalar Taylor series")
        return shape[0]

    # -- NumPy protocols ----------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:
            rule = UFUNC_RULES.get(ufunc)
            if rule is not None:
                if len(inputs) == 1:
                    return _lift_unary(rule, self)
                if all(_operand_type(a) for a in inputs):
                    return rule.function(*inputs)
                return NotImplemented
            if ufunc in VALUE_UFUNCS:
                return ufunc(*(_strip(a) for a in inputs))
        what = f"numpy.{ufunc.__name__}" + (f".{method}" if method != "__call__" else "")
        if kwargs:
            what += f" with {', '.join(sorted(kwargs))}="
        raise errors.no_rule(f"{what} on a Taylor series")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.where and len(args) == 3 and not kwargs:
            return _where(*args)
        if func is np.clip and len(args) == 3 and not kwargs:
            a, lo, hi = args
            a = a if lo is None else RULES["maximum"].function(a, lo)
            return a if hi is None else RULES["minimum"].function(a, hi)
        if func in (np.shape, np.ndim, np.size) and len(args) == 1 and not kwargs:
            return func(np.broadcast_to(0.0, self.shape))
        if func in _LINEAR_FUNCTIONS and args and args[0] is self:
            if not any(isinstance(a, Taylor) for a in (*args[1:], *kwargs.values())):
                shape = self.shape
                return _taylor(
                    [func(_broadcast(c, shape), *args[1:], **kwargs) for c in self.coefficients],
                    self.order,
                    self.tag,
                )
        rule = _FUNCTION_RULES.get(func)
        if rule is not None and len(args) == rule.nin and not kwargs:
            return rule.function(*args)
        raise errors.no_rule(f"numpy.{func.__name__} on a Taylor series")


# NumPy functions linear in their first argument: applied to every coefficient.
_LINEAR_FUNCTIONS = frozenset(
    [np.sum, np.mean, np.cumsum, np.diff, np.trace, np.reshape, np.ravel, np.transpose]
    + [np.moveaxis, np.swapaxes, np.squeeze, np.expand_dims, np.broadcast_to, np.flip, np.roll]
)


def _broadcast(c: Any, shape: tuple[int, ...]) -> Any:
    """A coefficient at the series' full shape (a scalar coefficient may stand for an array)."""
    return c if np.shape(_strip(c)) == shape else np.broadcast_to(c, shape)


def _operand_type(a: Any) -> bool:
    return type(a) in SCALAR_TYPES or type(a) is np.ndarray or is_dual(a)


def _value(a: Any) -> Any:
    return a.value if is_dual(a) else a


def _strip(a: Any) -> Any:
    """The plain value under every layer of dual number."""
    while is_dual(a):
        a = a.value
    return a


def _where(cond: Any, a: Any, b: Any) -> Any:
    """``numpy.where`` with Taylor series: coefficientwise, the newest tag outermost."""
    cond = _strip(cond)
    tag = max(_tag_of(a), _tag_of(b))
    owner = a if _tag_of(a) == tag else b
    if type(owner) is not Taylor:
        raise errors.no_rule("numpy.where mixing a Taylor series with a newer dual number")
    n = min(x.order for x in (a, b) if type(x) is Taylor and x.tag == tag)
    u = a.coefficients if type(a) is Taylor and a.tag == tag else [a]
    v = b.coefficients if type(b) is Taylor and b.tag == tag else [b]
    return _taylor(_select(cond, u[: n + 1], v[: n + 1]), n, tag)


def _tag_of(a: Any) -> int:
    return a.tag if is_dual(a) else -1


# ---------------------------------------------------------------------------------------------
# The lift: how every rule of the table applies to Taylor series
# ---------------------------------------------------------------------------------------------


def _lift_unary(rule: Rule, t: Taylor) -> Taylor:
    u = t.coefficients
    if len(u) == 1:
        return _taylor([rule.function(u[0])], t.order, t.tag)
    fn = TAYLOR_RULES.get(rule.name)
    if fn is None:
        fn = fallback_rule(rule)
    try:
        return _taylor(fn(rule, u, t.order), t.order, t.tag)
    except _FALLBACK_ERRORS as exc:
        return _taylor(_retry(fn, rule, (u,), t.order, exc), t.order, t.tag)


def _lift_binary(rule: Rule, a: Any, b: Any) -> Any:
    """``rule(a, b)`` where one argument is a Taylor series; the newest tag is the outer layer."""
    ta, tb = _tag_of(a), _tag_of(b)
    tag = max(ta, tb)
    outer = a if ta == tag else b
    if type(outer) is not Taylor:
        if type(outer) is Dual:
            return _dual_outer(rule, a, b, tag)
        return lift_of(outer).binary(rule, a, b)
    if ta == tb and type(a) is not type(b):
        raise TypeError(
            f"{rule.name}: a Taylor series and a {errors.type_name(a if type(b) is Taylor else b)} "
            f"share the tag {tag}, so neither can be treated as a constant of the other; build "
            "them with different tags"
        )
    orders = [x.order for x in (a, b) if type(x) is Taylor and x.tag == tag]
    n = min(orders)
    u = _coefficients(a, tag, n, rule)
    v = _coefficients(b, tag, n, rule)
    return _taylor(_apply(rule, (u, v), n), n, tag)


def _coefficients(a: Any, tag: int, n: int, rule: Rule) -> list:
    if type(a) is Taylor and a.tag == tag:
        return a.coefficients[: n + 1]
    if type(a) in SCALAR_TYPES or type(a) is np.ndarray or is_dual(a):
        return [a]
    raise TypeError(f"{rule.name}: cannot combine a Taylor series with {errors.type_name(a)}")


def _dual_outer(rule: Rule, a: Any, b: Any, tag: int) -> Dual:
    """A Dual newer than the Taylor series: the series is a constant inside the Dual's layer."""
    x, tx = (a.value, a.tangent) if type(a) is Dual and a.tag == tag else (a, None)
    y, ty = (b.value, b.tangent) if type(b) is Dual and b.tag == tag else (b, None)
    ans = rule.function(x, y)
    return _make(ans, rule.tangent2(x, y, tx, ty, ans), tag)


register_lift(Taylor, 3, _lift_unary, _lift_binary)

EXP = RULES["exp"].function
LOG = RULES["log"].function
LOG1P = RULES["log1p"].function
SIN = RULES["sin"].function
COS = RULES["cos"].function
SINH = RULES["sinh"].function
COSH = RULES["cosh"].function
SQRT = RULES["sqrt"].function
SIGN = RULES["sign"].function
SIGMOID = RULES["sigmoid"].function
ABSOLUTE = RULES["absolute"].function
POWER = RULES["power"].function
_ADD = RULES["add"].function
_SUBTRACT = RULES["subtract"].function
_MULTIPLY = RULES["multiply"].function
_DIVIDE = RULES["divide"].function
_POWER = POWER

# NumPy functions that are rules but not ufuncs (numpy.sinc).
_FUNCTION_RULES = {rule.array: rule for rule in RULES.values() if rule.ufunc is None}


# ---------------------------------------------------------------------------------------------
# The API: seed x + t, run, read the coefficients
# ---------------------------------------------------------------------------------------------


def _point(x: Any, api: str) -> Any:
    """Validate the input point: a number, an array (a float or complex copy) or a dual number."""
    t = type(x)
    if t is float or t is complex or is_dual(x):
        return x
    if t is np.ndarray or t is list or t is tuple:
        arr = np.array(x)
        if arr.dtype.kind in "biu":
            return arr.astype(float)
        if arr.dtype.kind not in "fc":
            raise TypeError(f"{api}: x must hold real or complex numbers, got dtype {arr.dtype}")
        return arr
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Number):
        raise TypeError(
            f"{api}: x must be a real or complex number or an array, got {errors.type_name(x)}"
        )
    return float(x) if isinstance(x, numbers.Integral) else x


def _zero_like(y: Any) -> Any:
    y = _strip(y)
    if type(y) is np.ndarray:
        return np.zeros(y.shape, np.result_type(y.dtype, float))
    return 0j if is_complex(y) else 0.0


def _coefficient(y: Any, tag: int, k: int) -> Any:
    """Coefficient ``k`` of output ``y`` in the perturbation ``tag`` (0 for constants)."""
    t = type(y)
    if t is Taylor:
        if y.tag == tag:
            c = y.coefficients
            return c[k] if k < len(c) else _zero_like(c[0])
        if y.tag > tag:  # an inner series that escaped its computation
            return _taylor([_coefficient(c, tag, k) for c in y.coefficients], y.order, y.tag)
    elif t is Dual and y.tag > tag:
        return _make(_coefficient(y.value, tag, k), _coefficient(y.tangent, tag, k), y.tag)
    elif is_dual(y) and y.tag > tag:
        raise TypeError(
            f"f returned a {errors.type_name(y)} of a differentiation nested inside this Taylor "
            "computation; return its value or derivative instead"
        )
    return y if k == 0 else _zero_like(y)


def _leaves(y: Any, fn: Callable[[Any], Any]) -> Any:
    """``fn`` applied to every output in a (possibly nested, possibly named) tuple or list."""
    if isinstance(y, (tuple, list)):
        items = [_leaves(item, fn) for item in y]
        return type(y)(*items) if hasattr(y, "_fields") else type(y)(items)
    return fn(y)


def _stack(coefficients: list) -> Any:
    """The coefficients along a new last axis."""
    if all(type(c) in SCALAR_TYPES or type(c) is np.ndarray for c in coefficients):
        return np.stack(np.broadcast_arrays(*coefficients), axis=-1)
    return np.stack(coefficients, axis=-1)


_FACTORIALS = [float(math.factorial(k)) for k in range(_MAX_ORDER + 1)]


def _check_order(n: Any, api: str) -> int:
    if type(n) is int and 0 <= n <= _MAX_ORDER:
        return n
    n = errors.check_order(n, api)
    if n > _MAX_ORDER:
        raise ValueError(
            f"{api}: the order must be at most {_MAX_ORDER} (larger factorials overflow float64), "
            f"got {n}"
        )
    return n


def higher_derivative(f: Callable[..., Any], x: Any, n: int) -> Any:
    """The exact ``n``-th derivative ``f⁽ⁿ⁾(x)`` by Taylor mode (``n >= 0``).

    One evaluation of ``f`` on the series ``x + t`` truncated after ``t**n``, O(n²) work per
    elementary function. ``x`` is a real or complex number, or an array: then ``f`` is taken to
    act elementwise (every element moves with ``t``) and the result is elementwise. ``f`` may
    return a number, an array, or a tuple/list of them (the result has the same structure).
    """
    errors.check_callable(f, "higher_derivative")
    n = _check_order(n, "higher_derivative")
    x = _point(x, "higher_derivative")
    if n == 0:
        return check_output(f(x), "higher_derivative")
    tag = new_tag()
    y = f(_taylor([x, 1.0], n, tag))
    if type(y) is Taylor and y.tag == tag:  # the common case, kept cheap
        c = y.coefficients
        return (c[n] if n < len(c) else _zero_like(c[0])) * _FACTORIALS[n]
    check_output(y, "higher_derivative")
    return _leaves(y, lambda leaf: _coefficient(leaf, tag, n) * _FACTORIALS[n])


def taylor(f: Callable[..., Any], x: Any, order: int) -> Any:
    """The Taylor coefficients ``f⁽ᵏ⁾(x)/k!`` for ``k = 0..order``, in one evaluation of ``f``.

    Layout: for a scalar ``x`` and scalar output, an array of shape ``(order + 1,)``. For an
    array ``x`` (``f`` elementwise, as in ``higher_derivative``) or an array output, the
    coefficients run along one extra trailing axis: shape ``np.shape(f(x)) + (order + 1,)``.
    A tuple/list output gives a tuple/list of such arrays.
    """
    errors.check_callable(f, "taylor")
    order = _check_order(order, "taylor")
    x = _point(x, "taylor")
    tag = new_tag()
    y = check_output(f(_taylor([x, 1.0][: order + 1], order, tag)), "taylor")
    return _leaves(y, lambda leaf: _stack([_coefficient(leaf, tag, k) for k in range(order + 1)]))
