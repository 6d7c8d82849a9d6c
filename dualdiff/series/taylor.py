"""Taylor mode: truncated Taylor polynomials carried through every rule, for higher derivatives.

A ``Taylor`` holds ``coefficients[k] = u⁽ᵏ⁾(0)/k!`` of a function ``u(t)`` of one real variable,
up to ``t**order``. Every rule of ``dualdiff.rules.elementwise`` has a Taylor rule in
``TAYLOR_RULES`` that maps the coefficients of the arguments to those of the result. Most are the
standard recurrences (Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 13), read off an
ODE the function satisfies: ``y = exp(u)`` solves ``y' = y·u'``, so ``y_k = (1/k) Σ_{j=1..k}
j·u_j·y_{k-j}``; each costs O(order²) operations. ``higher_derivative(f, x, n)`` evaluates ``f(x +
t)`` this way and reads ``n!·coefficients[n]``.

Coefficient lists may stop before ``order``: the missing coefficients are exact zeros, so the
seed ``x + t`` costs O(order) in the first function it meets, and polynomials stay exact.
A coefficient is a float, a complex number, a NumPy array (an elementwise series), or a dual
number of an older tag (nesting); the recurrences only add, multiply and divide coefficients.
For a scalar the coefficients stay Python floats: measured on ``exp(sin x)``, plain Python
arithmetic on lists beats NumPy's per-call overhead at every order from 2 to 20 (NumPy scalar
coefficients cost 2.4×, ndarray coefficient vectors with one ``np.dot`` per order 2-3×). The
hottest rules have a copy for a float value with the steps inlined (``_FLOAT_RULES``).

NumPy's other functions go through ``__array_function__`` by their kind in the function table
(``dualdiff.rules.functions``): a structural or linear function (``sum``, ``reshape``,
``concatenate``, ``where`` ...) is applied to each coefficient; a multilinear one (``matmul``,
``dot``, ``einsum`` ...) to the terms of the Cauchy product ``y_k = Σ_{i+j=k} f(A_i, B_j)``;
compositions (``sort``, ``clip``, ``interp`` ...) run their body on series; ``max``/``min`` move the
coefficients with the values; ``prod``, ``cumprod`` and the linear algebra (``solve``, ``inv``,
``det``, ``slogdet``, ``cholesky``, ``eigh``, singular values) have series recurrences.

Accuracy (measured to order 30 in the README): a few units of rounding where the composition is
well-conditioned. Where the result's coefficients are far smaller than those of the series it is
computed from (``1/exp(x)``, ``exp(x)/exp(2x)``, ``sin(x)/x``), the rounding of those coefficients
is amplified (by ``3ᵏ``, ``5ᵏ``, ``~k!/|x|ᵏ`` at order ``k``) whatever the recurrence: exact
arithmetic on the same rounded coefficients gives the same errors, so the recurrences here are
the plain ones (compensated and double-double variants were no better overall, at 1.4-7× the cost).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import operator
import sys
import threading
import weakref
from collections.abc import Callable
from operator import mul
from typing import Any

import numpy as np

from ..arrays.dualarray import HANDLED_FUNCTIONS as _DUAL_ARRAY_FUNCTIONS
from ..arrays.dualarray import _lost_in_out, holds_dual, into_out
from ..arrays.dualarray import apply_binary as _dual_array_binary
from ..arrays.functions import running_extreme_tangent
from ..arrays.linalg import _largest, _real_row, _stacked_matrices, unbounded
from ..core import errors, tags
from ..core.errors import function_name
from ..core.methods import (
    EXTREME_UFUNCS,
    ArrayMethods,
    InPlaceOperators,
    at_rounds,
    extreme_at,
    is_basic_index,
    refused_shape_setter,
    same_strides,
)
from ..core.tags import USER_TAG, new_tag, restore_state
from ..dual.dual import SCALAR_TYPES, Dual, _make
from ..dual.objects import (
    add_element_methods,
    array_like,
    dtype_hidden,
    is_object_array,
    lift_arguments,
    lift_inputs,
    lift_operand,
    lift_operands,
    object_array,
    plain_numbers,
    refuse_or_warn,
    scalar_object_array,
)
from ..dual.seed import check_output
from ..rules import functions as table
from ..rules.calls import Call
from ..rules.compositions import COMPOSITIONS, call_body, kept_only, kept_where, reduceat
from ..rules.elementwise import (
    MULTI_OUTPUT_UFUNCS,
    RULES,
    UFUNC_RULES,
    VALUE_UFUNCS,
    Rule,
    all_finite,
    extra_ufunc_rule,
    in_dtype,
    integer_in_float64,
    is_complex,
    is_dual,
    lift_of,
    on_branch,
    register_lift,
    scale,
    select,
    tangent_in,
    where,
)
from ..rules.functions import STRUCTURAL_PAD_MODES, Entry

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


def _div(a: list, b: list, n: int, safe: bool = False) -> list:
    """The quotient ``q = a/b`` to order ``n``, from ``q·b = a``:
    ``q_k = (a_k - Σ_{j=1..k} b_j q_{k-j}) / b_0``. ``safe``: ``a`` is a tangent over the
    denominator of an infinite derivative, so an exactly zero numerator gives 0 where ``b_0`` is
    0, as the first-order modes keep a zero tangent zero beside an infinite partial."""
    b0 = b[0]
    if len(b) == 1 and not safe:
        return [c / b0 for c in a[: n + 1]]
    safe = safe and not is_dual(b0) and bool(np.any(b0 == 0))
    la = len(a)
    tail = b[1:]
    q: list = []
    for k in range(n + 1):
        s = a[k] if k < la else 0.0
        if k and tail:
            s = s - sum(map(mul, tail, q[k - 1 :: -1]))
        if safe and not is_dual(s):
            with np.errstate(divide="ignore", invalid="ignore"):
                q.append(where((s == 0) & (b0 == 0), 0.0 * s, s / b0))
        else:
            q.append(s / b0)
    return q


def _sqrt_series(w: list, n: int, y0: Any) -> list:
    """``y = sqrt(w)`` with ``y_0 = y0`` given, from ``y² = w``:
    ``y_k = (w_k - Σ_{i=1..k-1} y_i y_{k-i}) / (2 y_0)``."""
    y = [y0]
    two = (y0 + 0.0) * 2.0  # + 0.0: sqrt(-0.0) is -0.0, but sqrt'(0) = +inf (the convention)
    lw = len(w)
    # at w_0 = 0 an exactly zero numerator gives 0, as the first-order modes keep a zero tangent
    # zero beside the infinite sqrt'(0): sqrt(x**2) at 0 has derivative 0 there, not 0/0 = nan
    # (then inf for the second, as nested duals give)
    at_zero = not is_dual(two) and bool(np.any(two == 0))
    for k in range(1, n + 1):
        s = w[k] if k < lw else 0.0
        if k > 1:
            s = s - sum(map(mul, y[1:k], y[k - 1 : 0 : -1]))
        if at_zero and not is_dual(s):
            with np.errstate(divide="ignore", invalid="ignore"):
                y.append(where((s == 0) & (two == 0), 0.0 * s, s / two))
        else:
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
    ``y_k = Σ_{j=1..k} (aj + j - k) u_j y_{k-j} / (k u_0)`` (``(a+1)j - k`` lost the digits of a
    small ``a`` in ``a + 1``: 6e-9 of the second derivative of ``x**1e-8``)."""
    u0 = u[0]
    m = len(u)
    y = [y0]
    if m == 2:
        ratio = u[1] / u0
        for k in range(1, n + 1):  # a - (k - 1), not a + 1 - k: exact for a small a (1e-8)
            y.append(y[k - 1] * ratio * ((a - (k - 1)) / k))
        return y
    for k in range(1, n + 1):
        s = 0.0
        for j in range(1, min(k, m - 1) + 1):
            s = s + (a * j + (j - k)) * u[j] * y[k - j]
        y.append(s / (u0 * k))
    return y


def _power_at_zero(u: list, a: Any, n: int, y0: Any) -> list:
    """``u**a`` where ``u_0 = 0``, from ``y' = a·u**(a-1)·u'`` (recursively, O(n³)): exact zeros
    below the order where the derivative blows up, then inf or nan, as nested duals give."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = _power_const(u[:n], a - 1, n - 1, POWER(u[0], a - 1))
        return _integrate(y0, _mul_tangent(_scale(p, a), _deriv(u), n - 1), n)


def _mul_tangent(p: list, t: list, n: int) -> list:
    """The Cauchy product of partials ``p`` (infinite at a singular point) and a tangent series
    ``t``, each term with an exactly zero coefficient of ``t`` 0, as the first-order modes keep a
    zero tangent zero beside an infinite partial (``cbrt(x**3)`` at 0: 0, not ``inf * 0``)."""
    if any(is_dual(c) for c in (*p, *t)):
        return _mul(p, t, n)
    out = []
    for k in range(min(n + 1, len(p) + len(t) - 1)):
        total: Any = 0.0
        for i in range(max(0, k - len(t) + 1), min(k, len(p) - 1) + 1):
            c = t[k - i]
            total = total + where(c == 0, 0.0 * c, p[i] * c)
        out.append(total)
    return out


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
    """``sigmoid(d) = (1 + tanh(d/2))/2``, from tanh's ``t' = (1 - t²)·(d/2)'`` with ``1 - t_0²``
    from tanh's partial (exact at both ends). ``y' = y(1 - y)·d'`` lost its second coefficient
    near 0, ``y_1 (1 - 2y_0)`` (6e-9 of sigmoid'' at 1e-8, all of it at 1e-20)."""
    if len(d) == 1 or n == 0:
        return [y0]
    h = [0.5 * c for c in d]
    t0 = TANH(h[0])
    t = _riccati(h, n, t0, TANH_PARTIAL(h[0], t0), False, -1.0)
    return [y0] + [0.5 * c for c in t[1:]]


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
"""The Taylor rule of every rule of ``dualdiff.rules.elementwise.RULES`` by name; a rule missing
here falls back to ``fallback_rule``."""


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
    # from the rule; a constant zero base gives the constant 0**v where Re(v) > 0, and the series
    # elsewhere (0**v jumps at v = 0: its first coefficient is -inf, as the rule's partial gives).
    y0 = rule.function(u[0], v[0])
    dtype = getattr(y0, "dtype", None)
    if dtype is not None and not is_dual(y0):  # float_power is float64 even for float32 input
        u, v = [in_dtype(c, dtype) for c in u], [in_dtype(c, dtype) for c in v]
    if len(v) == 1:
        return _power_const(u, v[0], n, y0)
    y = _power_moving(rule, u, v, n, y0)
    if any(is_dual(c) for c in v):
        return y
    # where the exponent does not move (every higher coefficient exactly 0: x[0] ** x[1] along a
    # direction that leaves x[1]) u**v is u**v0, whose recurrence holds at a negative base as
    # well, where exp(v·log u) gave nan (the first-order modes drop the zero tangent's share)
    still = v[1] == 0
    for c in v[2:]:
        still = still & (c == 0)
    if not _is_array(still):
        return _power_const(u, v[0], n, y0) if still else y
    if np.any(still):
        return _select(still, _power_const(u, v[0], n, y0), y)
    return y


def _power_moving(rule: Rule, u: list, v: list, n: int, y0: Any) -> list:
    """``u**v`` for an exponent series ``v`` of more than one coefficient."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if len(u) == 1:
            z = _scale(v, LOG(u[0]))
        else:
            z = _mul(v, [LOG(u[0])] + _log_tail(u, n), n)
        y = _exp_series(y0, _deriv(z), n)
        if len(u) > 1:
            # at a zero base log u has no series: there the coefficients come from the rule's
            # partials, order by order (x**(x+1) has derivative 1 at 0, x**x -inf, as nested
            # duals give), where exp(v·log u) gave nan
            zero = u[0] == 0
            if _is_array(zero) and np.any(zero):
                return _select(zero, fallback_rule(rule)(rule, u, v, n), y)
            return fallback_rule(rule)(rule, u, v, n) if not _is_array(zero) and zero else y
    v0 = v[0]
    positive = (v0.real if is_complex(v0) else v0) > 0
    zero = u[0] == 0
    y = _constant_where(zero & positive, y0, y)
    jump = np.logical_and(zero, np.logical_not(positive))
    if np.any(jump):
        y = _select(jump, _zero_base_jump(rule, u[0], v, n, y0), y)
    return y


def _zero_base_jump(rule: Rule, u0: Any, v: list, n: int, y0: Any) -> list:
    """``0**v`` around ``v <= 0``, where it jumps (to 0 at ``v = 0``): no Taylor expansion. The
    first coefficient is the first-order modes' (the rule's partial, -inf, with a zero tangent
    kept zero: ``0**(x*x)`` has 0 at ``x = 0``), and every later one NaN once ``v`` has moved
    (0 before: exp(v log 0) gave 0 * -inf = NaN for the first, alternating infinities beyond)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dy = _partial(rule.partials[1], u0, v[0], y0)
    out = [y0, scale(dy, v[1])]
    moving = v[1] != 0
    for k in range(2, n + 1):
        if k < len(v):
            moving = moving | (v[k] != 0)
        out.append(where(moving, np.nan, 0.0))
    return out


@_taylor_rule("negative", "positive", "deg2rad", "rad2deg")
def _linear_rule(rule: Rule, u: list, n: int) -> list:
    # The partial is a constant: every coefficient is scaled by it.
    y0 = rule.function(u[0])
    p = _partial(rule.partials[0], u[0], y0)
    return [y0] + [p * c for c in u[1:]]


@_taylor_rule(
    "remainder", "fmod", "maximum", "minimum", "fmax", "fmin", "copysign", "ldexp", "heaviside"
)
def _piecewise_linear_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # Linear on each piece: the partials at the values hold for every coefficient (at a tie of
    # maximum/minimum each argument gets half, as for the first derivative).
    x, y = u[0], v[0]
    y0 = rule.function(x, y)
    out = [y0]
    for coefficients, p in zip((u, v), rule.partials):
        if p is None or len(coefficients) == 1:
            continue
        partial = _partial(p, x, y, y0)
        if (
            isinstance(partial, (np.ndarray, np.generic))
            and isinstance(y0, (np.ndarray, np.generic))
            and partial.dtype != y0.dtype
        ):
            # ldexp's 2**i of an integer i is float64: a float32 series stays float32, as NumPy
            partial = tangent_in(partial, y0.dtype)
        if rule.select:  # an unselected argument's inf or NaN coefficients give nothing
            term = [select(partial, c) for c in coefficients[1:]]
        else:
            term = _scale(coefficients[1:], partial)
        out = [y0] + (_add(out[1:], term) if len(out) > 1 else term)
    return out


@_taylor_rule("floor", "ceil", "trunc", "rint", "floor_divide")
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
    tail = _log_tail([u[0] + 0.0] + u[1:], n)  # + 0.0: log'(-0.0) = +inf, as the rule's partial
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
    y = _power_const(u, 1.0 / 3.0, n, rule.function(u[0]))
    if len(u) < 2 or n < 2 or any(is_dual(c) for c in (*u, *y)):
        return y
    # at u_0 = 0 with u_1 != 0, cbrt(u) ~ cbrt(u_1 t) is odd in t: an infinite even-order
    # coefficient is +inf on one side and -inf on the other, so NaN (the nested modes' value);
    # u**(1/3)'s recurrence took the right side's (cbrt''(0) was -inf)
    odd_root = (u[0] == 0) & (u[1] != 0)
    if not np.any(odd_root):
        return y
    for k in range(2, n + 1, 2):
        y[k] = where(odd_root & ~np.isfinite(y[k]), np.nan, y[k])
    return y


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
    # w_0 = 1 + y_0² and 1 - y_0² from the rule's partial, which does not cancel where y_0 is
    # near ±i (tan of complex x) or ±1 (tanh)
    y0 = rule.function(u[0])
    return _riccati(u, n, y0, rule.partials[0](u[0], y0), False, 1.0)


@_taylor_rule("tanh")
def _tanh_rule(rule: Rule, u: list, n: int) -> list:
    y0 = rule.function(u[0])
    return _riccati(u, n, y0, rule.partials[0](u[0], y0), False, -1.0)


@_taylor_rule("sigmoid")
def _sigmoid_rule(rule: Rule, u: list, n: int) -> list:
    return _sigmoid_series(u, n, rule.function(u[0]))


def _one_minus_square(u: list, n: int) -> list:
    """``1 - u²``, its value as ``(1 - u_0)(1 + u_0)`` (no cancellation near ``|u_0| = 1``)."""
    u0 = u[0]
    return [(1.0 - u0) * (1.0 + u0)] + [-c for c in _mul(u, u, n)[1:]]


def _quotient_integral(y0: Any, u: list, g: list, n: int) -> list:
    """``y0 + ∫ u'/g``: the inverse functions, whose derivative is ``u'`` over a series ``g``
    (infinite where ``g_0 = 0``: ``arcsin`` at 1, a zero ``u'`` gives 0 there)."""
    return _integrate(y0, _div(_deriv(u), g, n - 1, safe=True), n)


@_taylor_rule("arcsin", "arccos")
def _arcsin_rule(rule: Rule, u: list, n: int) -> list:
    w = _one_minus_square(u[:n], n - 1)
    y0 = rule.function(u[0])
    g0 = SQRT(w[0])
    if is_complex(u[0]):  # the root on NumPy's branch, as the first-order rule takes it
        g0 = on_branch(g0, np.cos(y0) if rule.name == "arcsin" else np.sin(y0))
    g = _sqrt_series(w, n - 1, g0)
    if rule.name == "arccos":
        g = [-c for c in g]
    return _quotient_integral(y0, u, g, n)


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
    # the root of u² - 1 as the rule's partial takes it, sqrt(u - 1) sqrt(u + 1): NumPy's branch
    # (sqrt(u² - 1) has the other sign for complex u with Re(u) < 0), +0.0 at u = 1 (the root of
    # -(1 - u)(1 + u) = -0.0 there was -0.0, which turned arccosh'(1) = +inf into -inf) and nan
    # at u = -1, where arccosh is nan
    u0 = u[0]
    y0 = rule.function(u0)
    g0 = SQRT(u0 - 1.0) * SQRT(u0 + 1.0)
    if is_complex(u0):  # the root on NumPy's branch, as the first-order rule takes it
        g0 = on_branch(g0, np.sinh(y0))
    return _quotient_integral(y0, u, _sqrt_series(w, n - 1, g0), n)


@_taylor_rule("arctanh")
def _arctanh_rule(rule: Rule, u: list, n: int) -> list:
    return _quotient_integral(rule.function(u[0]), u, _one_minus_square(u[:n], n - 1), n)


@_taylor_rule("arctan2")
def _arctan2_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # y' = (v u' - u v') / (u² + v²); the origin gives the constant value (the rule's convention).
    y0 = rule.function(u[0], v[0])
    # y' is homogeneous of degree 0 in (u, v): both scaled by the same power of two, exactly,
    # so that u² + v² neither underflows (at 1e-300) nor overflows (at 1e200)
    largest = np.maximum(abs(_strip(u[0])), abs(_strip(v[0])))  # (a Python float stays weak)
    if _is_array(largest):  # in the series' dtype (a float64 scale would promote float32)
        largest = np.asarray(largest)
        scale = np.ldexp(np.ones_like(largest), -np.frexp(largest)[1])
        u, v = [c * scale for c in u], [c * scale for c in v]
    elif 0.0 < largest < math.inf:
        scale = math.ldexp(1.0, -math.frexp(largest)[1])
        if scale != 1.0:
            u, v = [c * scale for c in u], [c * scale for c in v]
    u1, v1 = u[:n], v[:n]
    g = _add(_mul(u1, u1, n - 1), _mul(v1, v1, n - 1))
    h = _sub(_mul(v1, _deriv(u), n - 1), _mul(u1, _deriv(v), n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = _integrate(y0, _div(h, g, n - 1), n) if _nonzero(g[0]) else [y0]
    return _constant_where(g[0] == 0, y0, y)


@_taylor_rule("hypot")
def _hypot_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # The value from the rule; the origin gives the constant 0 (convention). sqrt(u² + v²)'s
    # recurrence cancels where |u| >> |v| (w_2 - y_1² = 1 - (u/h)²: hypot(x, 1)'' was 0.0 at
    # 1e8) and u² overflows at 1e200. In polar form, with the unit vector (c, s) = (u, v)/h and
    # its angle's rate w, h' = c u' + s v', h w = c v' - s u', c' = -s w, s' = c w: no term
    # cancels, and no square is taken.
    y0 = rule.function(u[0], v[0])
    if not _nonzero(y0):
        return [y0]
    with np.errstate(divide="ignore", invalid="ignore"):
        c, s = [u[0] / y0], [v[0] / y0]
        du, dv = _deriv(u), _deriv(v)
        h, w = [y0], []
        for k in range(1, n + 1):
            j = k - 1
            slope = _product_coefficient(c, du, j) + _product_coefficient(s, dv, j)
            turn = _product_coefficient(c, dv, j) - _product_coefficient(s, du, j)
            if j:
                turn = turn - _product_coefficient(h[1:], w, j - 1)
            h.append(slope / k)
            w.append(turn / y0)
            c.append(-_product_coefficient(s, w, j) / k)
            s.append(_product_coefficient(c, w, j) / k)
    return _constant_where(y0 == 0, y0, h)


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
    g = _mul([u[0] + 0.0] + u1[1:], [1.0 - u[0]] + [-c for c in u1[1:]], n - 1)  # (log's + 0.0)
    return _quotient_integral(rule.function(u[0]), u, g, n)


@_taylor_rule("xlogy", "xlog1py")
def _xlogy_rule(rule: Rule, u: list, v: list, n: int) -> list:
    # u·log(v) (or u·log1p(v)); the value comes from the rule (0 at u = 0). A NumPy integer v
    # is taken in float64, as scipy.special's xlogy does (its own log would be float16).
    y0 = rule.function(u[0], v[0])
    if len(v) == 1:
        v = [integer_in_float64(v[0])]
    w = v if rule.name == "xlogy" else [1.0 + v[0]] + v[1:]
    log_v = [(LOG if rule.name == "xlogy" else LOG1P)(v[0])]
    if len(v) > 1:
        log_v += _log_tail(w, n)
    # beside an infinite log(v_0) (v_0 = 0) an exactly zero coefficient of u gives 0, as the
    # first-order modes keep a zero tangent zero (xlogy(2 + 0t, t) was nan from the first order)
    y = _mul(u, log_v, n) if all_finite(log_v[0]) else _mul_tangent(log_v, u, n)
    y[0] = y0
    return y


def _compose_from_point(rule: Rule, g: list, u: list, n: int) -> list:
    """The series of ``rule(u)`` from the function's Taylor coefficients ``g`` at ``u_0`` (its
    coefficient 0 replaced by the rule's own value). ``g`` is computed in float64 (quadratures,
    series, recurrences): a float32 or complex64 value keeps its dtype."""
    g[0] = rule.function(u[0])
    dtype = getattr(g[0], "dtype", None)
    if dtype is not None and not is_dual(g[0]):
        g = [np.asarray(c).astype(dtype) if np.ndim(c) else dtype.type(c) for c in g]
    return _compose(g, u, n)


@_taylor_rule("sinc")
def _sinc_rule(rule: Rule, u: list, n: int) -> list:
    return _compose_from_point(rule, _sinc_coefficients(u[0], n), u, n)


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
    recurrence is stable: its errors shrink by ``k/|πa|`` per order. The switch is where the
    recurrence becomes the more accurate (measured against 60-digit references for n = 1..60: a
    few 1e-15 from ``|πa| = 1.25n + 3`` on, where the quadrature of the oscillating integrand
    loses up to 1e-12 as ``|πa|`` grows).
    """
    threshold = 1.25 * n + 3.0
    if not _is_array(a):
        if not abs(a) * math.pi < threshold:  # NaN too: the quotient propagates it
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


@_taylor_rule("exprel")
def _exprel_rule(rule: Rule, u: list, n: int) -> list:
    return _compose_from_point(rule, _exprel_coefficients(u[0], n), u, n)


def _exprel_coefficients(a: Any, n: int) -> list:
    """``exprel⁽ᵏ⁾(a)/k!`` for ``k = 0..n``, with ``exprel(x) = (eˣ - 1)/x``.

    ``exprel(a + t) = ∫₀¹ e^(s(a + t)) ds`` gives ``exprel⁽ᵏ⁾(a) = I_k = ∫₀¹ sᵏ e^(as) ds``.
    Integration by parts gives the recurrence ``I_k = (eᵃ - k I_(k-1)) / a``. Its errors grow
    by ``k/|a|`` per order, so it is stable for ``|a| > n``. Closer to 0, a series of positive
    terms is summed, with no cancellation: ``Σⱼ aʲ / (j! (j + k + 1))`` for ``a >= 0``, and
    ``eᵃ Σⱼ |a|ʲ k! / (k + j + 1)!`` for ``a < 0``. The rule from the first derivative,
    ``(eˣ - exprel(x))/x`` solved order by order, had the recurrence's instability at every
    point: at ``a = 0.6`` its 12th derivative was off by 1e-4 and its 20th by a factor 5e7.
    """
    if not _is_array(a):
        if not abs(a) <= n:  # NaN too: the recurrence propagates it
            return _exprel_by_recurrence(a, n)
        return _exprel_by_series(a, n, abs(_strip(a)))
    near = np.abs(_strip(a)) <= n
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound = np.max(np.abs(_strip(a)), where=near, initial=0.0)
        inner = _exprel_by_series(np.where(near, a, 0.0), n, bound)
        outer = _exprel_by_recurrence(np.where(near, n + 1.0, a), n)
    return _select(near, inner, outer)


def _exprel_by_recurrence(a: Any, n: int) -> list:
    e = EXP(a)
    g = [(e - 1.0) / a]
    for k in range(1, n + 1):
        e = e / k
        g.append((e - g[-1]) / a)
    return g


def _exprel_by_series(a: Any, n: int, bound: Any) -> list:
    # The terms fall once j > |a|: |a| + 10 sqrt|a| + 40 of them leave less than 1e-17.
    count = int(float(bound) + 10.0 * math.sqrt(float(bound))) + 40
    positive = a >= 0
    scalar = not _is_array(positive)
    up = a if scalar else where(positive, a, 0.0)  # each sum at its own points only
    down = -a if scalar else where(positive, -1.0, -a)
    # Σⱼ aʲ/j! / (j + k + 1), for a >= 0
    powers = [1.0]
    for j in range(1, count):
        powers.append(powers[-1] * up / j)
    # eᵃ Σⱼ |a|ʲ / (k + j + 1)!, for a < 0: the ratio of term j to term j - 1 is |a|/(k + j + 1)
    scale = EXP(-down)
    out = []
    factorial = 1.0  # k!
    for k in range(n + 1):
        if k:
            factorial = factorial * k
        if scalar and not positive:
            term, total = 1.0, 1.0
            for j in range(1, count):
                term = term * down / (k + j + 1)
                total = total + term
            out.append(scale * total / (factorial * (k + 1)))
            continue
        rising = sum(p / (j + k + 1) for j, p in enumerate(powers)) / factorial
        if scalar:
            out.append(rising)
            continue
        term, total = 1.0, 1.0
        for j in range(1, count):
            term = term * down / (k + j + 1)
            total = total + term
        out.append(where(positive, rising, scale * total / (factorial * (k + 1))))
    return out


@_taylor_rule("ellipk", "ellipe")
def _elliptic_rule(rule: Rule, u: list, n: int) -> list:
    return _compose_from_point(rule, _elliptic_coefficients(rule.name == "ellipe", u[0], n), u, n)


def _elliptic_coefficients(second: bool, m: Any, n: int) -> list:
    """``K⁽ᵏ⁾(m)/k!`` (or ``E⁽ᵏ⁾(m)/k!`` when ``second``) for ``k = 1..n`` (0: None).

    ``K(m) = (π/2) ₂F₁(1/2, 1/2; 1; m)`` and ``E(m) = (π/2) ₂F₁(-1/2, 1/2; 1; m)``, and
    ``dᵏ/dmᵏ ₂F₁(a, b; c; m) = (a)ₖ(b)ₖ/(c)ₖ ₂F₁(a+k, b+k; c+k; m)``. For ``-1 <= m < 0.6``
    each ``₂F₁`` is summed as its power series, whose terms are all positive for ``m >= 0``;
    for ``m < 0`` Pfaff's transformation ``₂F₁(a, b; c; m) = (1-m)^(-a) ₂F₁(a, c-b; c;
    m/(m-1))`` makes them positive again. Those series need about ``(n + 40)/(1 - z)`` terms at
    ``z = m`` or ``m/(m - 1)``: near ``m = 1`` (and far left, where ``m/(m - 1)`` nears 1) they
    are replaced by the expansions around ``z = 1`` (``_elliptic_near_one``,
    ``_elliptic_far_left``). The rule from the first derivatives, ``(E - (1-m) K)/(2m(1-m))``
    solved order by order, lost a factor of about 2 per order (at ``m = 0.3``: 4e-7 of ``K``'s
    24th derivative, 2e-5 of ``E``'s), and the two rules called each other at every order.
    """
    # The expansion around z = 1 in q = 1 - z is well-conditioned for q <= 0.4 (its log series
    # grows as (1 - q)^-k, the result as q^-k). Left of 0 the result only grows as
    # (1 - m)^-k: the log series in 1/(1 - m) then cancels by (1 + 1/|m|)^k, at most e³ here.
    left = -max(1.0, n / 3.0)
    plain = _strip(m)
    if not _is_array(plain):
        if 0.6 <= plain < 1:
            return [None] + _elliptic_near_one(second, 1.0 - m, n)
        if plain < left:
            return [None] + _elliptic_far_left(second, m, n)
        return _elliptic_by_series(second, m, n)
    near = (plain >= 0.6) & (plain < 1)
    far = plain < left
    out = _elliptic_by_series(second, where(near | far, 0.0, m), n)
    if near.any():
        inner = _elliptic_near_one(second, 1.0 - where(near, m, 0.8), n)
        out = [None] + _select(near, inner, out[1:])
    if far.any():
        outer = _elliptic_far_left(second, where(far, m, 2.0 * left), n)
        out = [None] + _select(far, outer, out[1:])
    return out


def _elliptic_by_series(second: bool, m: Any, n: int) -> list:
    a = -0.5 if second else 0.5
    out = [None]  # coefficient 0 is the rule's own value
    pochhammer = 1.0  # (a)ₖ (1/2)ₖ / (k!)², with (c)ₖ = (1)ₖ = k!
    for k in range(1, n + 1):
        pochhammer = pochhammer * ((a + k - 1) * (k - 0.5) / (k * k))
        out.append(_gauss_series(a + k, 0.5 + k, 1.0 + k, m) * (pochhammer * math.pi / 2))
    return out


def _elliptic_near_one(second: bool, q: Any, n: int) -> list:
    """The coefficients ``1..n`` at ``m = 1 - q``, ``0 < q <= 0.4``, from the expansion of
    ``₂F₁(a, b; a + b + M; z)`` around ``z = 1`` (DLMF 15.8.10, integer ``M >= 0``), a finite
    sum in ``q⁻ᵏ`` plus a series in ``qʲ`` and ``qʲ log q``.

    ``K``'s ``k``-th: ``₂F₁(1/2+k, 1/2+k; 1+k; m) = q⁻ᵏ ₂F₁(1/2, 1/2; 1+k; m)`` (Euler), with
    ``M = k``, which gives ``K⁽ᵏ⁾/k! = q⁻ᵏ/2 Σ_(i<k) (1/2)ᵢ² (k-i-1)!/(i! k!) (-q)ⁱ - (-1)ᵏ/2
    Σⱼ (1/2)_(k+j)²/(k! (k+j)! j!) qʲ (log q - ψ(j+1) - ψ(j+k+1) + 2ψ(1/2+k+j))``. ``E``'s:
    ``q^(1-k) ₂F₁(3/2, 1/2; 1+k; m)``, ``M = k - 1``. The first sum dominates and is
    alternating but falls at once (its terms shrink as ``q^i/binomial(k-1, i)``).
    """
    log_q = LOG(q)
    qmax = float(np.max(_strip(q)))
    inverse = 1.0 / q
    power = 1.0  # q⁻ᵏ
    pochhammer = 1.0  # (1/2)ₖ/k!
    previous = 1.0  # (1/2)_(k-1)/(k-1)!
    out = []
    for k in range(1, n + 1):
        previous, pochhammer = pochhammer, pochhammer * ((k - 0.5) / k)
        power = power * inverse
        if not second:
            # Σ_(i<k) cᵢ (-q)ⁱ, c₀ = 1/k, by Horner from the top
            c = [1.0 / k]
            for i in range(k - 1):
                c.append(c[-1] * ((i + 0.5) ** 2 / ((i + 1) * (k - i - 1))))
            finite = c[-1]
            for ci in reversed(c[:-1]):
                finite = ci - q * finite
            logs = _log_series(k + 0.5, k + 0.5, k, pochhammer * pochhammer, q, log_q, qmax)
            out.append(0.5 * finite * power + (0.5 if k % 2 else -0.5) * logs)
            continue
        start = -0.5 * previous * pochhammer  # k (-1/2)ₖ(1/2)ₖ/(k!)², (-1/2)ₖ = -(1/2)_(k-1)/2
        logs = _log_series(k + 0.5, k - 0.5, k - 1, start, q, log_q, qmax)
        value = logs if k % 2 == 0 else -logs
        if k >= 2:
            d = [1.0 / (k * (k - 1))]
            for i in range(k - 2):
                d.append(d[-1] * ((1.5 + i) * (0.5 + i) / ((i + 1) * (k - 2 - i))))
            finite = d[-1]
            for di in reversed(d[:-1]):
                finite = di - q * finite
            value = value - 0.25 * finite * (power * q)
        out.append(value)
    return out


def _elliptic_far_left(second: bool, m: Any, n: int) -> list:
    """The coefficients ``1..n`` at ``m < -1``: Pfaff's transformation to ``w = m/(m - 1)``,
    then the expansion around ``w = 1`` (DLMF 15.8.10) in ``p = 1 - w = 1/(1 - m)``:
    ``K⁽ᵏ⁾/k! = -p^(k+1/2) (1/2)ₖ/(2 k!) Σⱼ (1/2+k)ⱼ(1/2)ⱼ/(j!)² pʲ (log p - 2ψ(j+1) +
    ψ(1/2+k+j) + ψ(1/2+j))`` (``M = 0``), and ``E``'s with ``M = 1``. At ``m = -inf`` every
    derivative is 0 (the limit)."""
    p = 1.0 / (1.0 - m)
    log_p = LOG(where(p == 0, 1.0, p))
    pmax = float(np.max(_strip(p)))
    root = p**0.5
    lower = 1.0  # p^(k-1)
    pochhammer = 1.0  # (1/2)ₖ/k!
    previous = 1.0  # (1/2)_(k-1)/(k-1)!
    out = []
    for k in range(1, n + 1):
        previous, pochhammer = pochhammer, pochhammer * ((k - 0.5) / k)
        if not second:
            logs = _log_series(k + 0.5, 0.5, 0, 1.0, p, log_p, pmax)
            out.append(-0.5 * pochhammer * (lower * p * root) * logs)
        else:
            logs = _log_series(k + 0.5, 1.5, 1, 1.0, p, log_p, pmax)
            out.append((lower * root) * (-0.5 * previous / k - 0.25 * pochhammer * p * logs))
        lower = lower * p
    return out


def _digamma_plus_euler(x: float) -> float:
    """``ψ(x) + γ`` for an integer or half-integer ``x > 0``: ``ψ(1) = -γ``, ``ψ(1/2) = -γ -
    2 log 2``, ``ψ(x + 1) = ψ(x) + 1/x``."""
    base = 1.0 if x == int(x) else 0.5
    out = 0.0 if base == 1.0 else -2.0 * _LN2
    while base < x:
        out += 1.0 / base
        base += 1.0
    return out


def _log_series(a: float, b: float, M: int, start: float, q: Any, log_q: Any, qmax: float):
    """``Σⱼ Aⱼ qʲ (log q - ψ(j+1) - ψ(j+M+1) + ψ(a+j) + ψ(b+j))`` with ``A₀ = start`` and
    ``A_(j+1)/Aⱼ = (a+j)(b+j)/((j+1)(j+M+1))`` (``0 <= q <= qmax < 1``): the logarithmic
    part of DLMF 15.8.10, with ``a, b`` there ``a - M, b - M``. Its length is set by the
    worst point, ``qmax``: the terms there, bounded in size, until the rest is below 1e-17
    of their sum."""
    psi = [_digamma_plus_euler(x) for x in (1.0, M + 1.0, a, b)]
    bound = float(np.max(np.abs(_strip(log_q)), initial=0.0))  # -inf at q = 0 (not summed)
    count, size, total = 0, start, 0.0
    digammas = -psi[0] - psi[1] + psi[2] + psi[3]
    while True:
        j = count
        term = abs(size) * (bound + abs(digammas))
        total += term
        count += 1
        ratio = (a + j) * (b + j) / ((j + 1.0) * (j + M + 1.0)) * qmax
        if ratio < 0.9 and term <= 1e-17 * (1.0 - ratio) * total or not total < math.inf:
            break
        size *= ratio
        digammas += -1.0 / (j + 1.0) - 1.0 / (j + M + 1.0) + 1.0 / (a + j) + 1.0 / (b + j)
    coefficient, power = start, 1.0
    digammas = -psi[0] - psi[1] + psi[2] + psi[3]
    if type(q) is np.ndarray and q.dtype.kind == "f" and count * q.size <= 4_000_000:
        # every point at once: qʲ as a matrix
        weights, shifts = [], []
        for j in range(count):
            weights.append(coefficient)
            shifts.append(coefficient * digammas)
            coefficient *= (a + j) * (b + j) / ((j + 1.0) * (j + M + 1.0))
            digammas += -1.0 / (j + 1.0) - 1.0 / (j + M + 1.0) + 1.0 / (a + j) + 1.0 / (b + j)
        powers = np.ones((count,) + q.shape)
        if count > 1:
            powers[1:] = np.cumprod(np.broadcast_to(q, (count - 1,) + q.shape), axis=0)
        return np.tensordot(weights, powers, 1) * log_q + np.tensordot(shifts, powers, 1)
    out = 0.0
    for j in range(count):
        out = out + (coefficient * power) * (log_q + digammas)
        coefficient *= (a + j) * (b + j) / ((j + 1.0) * (j + M + 1.0))
        digammas += -1.0 / (j + 1.0) - 1.0 / (j + M + 1.0) + 1.0 / (a + j) + 1.0 / (b + j)
        power = power * q
    return out


def _gauss_series(a: float, b: float, c: float, z: Any) -> Any:
    """``₂F₁(a, b; c; z)`` for ``z < 1`` and ``b, c > 0``, ``a > -1`` (as the elliptic
    integrals' derivatives have them), summed until the terms no longer change the sum."""
    plain = _strip(z)
    if not _is_array(plain):
        if not plain < 1:  # the integrals' pole at 1 (nan beyond, as SciPy's, and for nan)
            return np.inf * z if plain == 1 else np.nan * z
    else:
        outside = ~(plain < 1)
        if outside.any():
            inside = _gauss_series(a, b, c, where(outside, 0.0, z))
            return where(outside, where(plain == 1, np.inf, np.nan), inside)
    negative = plain < 0
    if _is_array(negative) or negative:  # Pfaff: positive terms at m/(m - 1) in [0, 1/2)
        w = where(negative, z / (z - 1.0), z)
        factor = where(negative, (1.0 - z) ** -a, 1.0)
        b = where(negative, c - b, b)
    else:
        w, factor = z, 1.0
    term = total = 1.0
    j = 0
    scalar = not _is_array(plain)
    largest = _strip(w) if scalar else np.max(_strip(w), initial=0.0)
    b_largest = b if scalar else np.max(b)
    if type(w) is np.ndarray and w.dtype.kind == "f":
        fast = _gauss_series_array(a, b, c, w, largest, b_largest)
        if fast is not None:
            return fast * factor
    while True:
        term = term * ((a + j) * (b + j) / ((c + j) * (j + 1.0))) * w
        total = total + term
        j += 1
        if scalar:
            size = abs(_strip(term) / _strip(total))
        else:
            size = np.max(np.abs(_strip(term) / _strip(total)), initial=0.0)
        ratio = (a + j) * (b_largest + j) / ((c + j) * (j + 1.0)) * largest
        if not size > 1e-17 and ratio < 1:
            break  # the terms fall from here on (their ratio falls with j)
        if j > 1_000_000:
            raise ValueError(
                f"Taylor mode of an elliptic integral: the series of its derivatives at "
                f"m = {np.max(_strip(z))} has not converged in {j} terms at order "
                f"{round(a - 0.5)} (m too close to 1 for that order); ask for a lower order"
            )
    return total * factor


def _gauss_series_array(
    a: float, b: Any, c: float, w: np.ndarray, largest: float, b_largest: float
) -> Any:
    """``_gauss_series`` at every point of a float array at once (None if that is too large):
    the terms as a matrix, as many as the worst point needs for its terms to fall below 1e-17
    (every sum is at least 1, its first term; the terms are positive)."""
    term, j = 1.0, 0
    while True:
        term *= (a + j) * (b_largest + j) / ((c + j) * (j + 1.0)) * largest
        j += 1
        ratio = (a + j) * (b_largest + j) / ((c + j) * (j + 1.0)) * largest
        if not term > 1e-17 and ratio < 1 or j * w.size > 4_000_000:
            break
    if j * w.size > 4_000_000:
        return None
    steps = np.arange(float(j)).reshape((j,) + (1,) * w.ndim)
    ratios = (a + steps) * (b + steps) / ((c + steps) * (steps + 1.0)) * w
    return 1.0 + np.cumprod(ratios, axis=0).sum(axis=0)


@_taylor_rule("rgamma")
def _rgamma_rule(rule: Rule, u: list, n: int) -> list:
    return _compose_from_point(rule, _rgamma_coefficients(rule, u[0], n), u, n)


def _rgamma_coefficients(rule: Rule, z: Any, n: int) -> list:
    """``(1/Γ)⁽ᵏ⁾(z)/k!`` for ``k = 1..n`` (0: None), from Hankel's integral.

    ``1/Γ`` is entire, but the rule from its first derivative, ``-ψ(z)/Γ(z)`` solved order by
    order, forms its small coefficients from ``ψ``'s, which grow as ``1/|z - pole|ᵏ``: at 0.7
    the 12th derivative lost 2e-10, the 20th 1e-3, the 30th everything, and near the poles of
    ``Γ`` (where ``1/Γ`` crosses 0) nearly all digits from order 6 on. Hankel's integral
    ``1/Γ(z) = (1/2πi) ∫ eᵗ t⁻ᶻ dt``, on a contour around the negative axis, has no pole:
    its ``k``-th derivative brings ``(-log t)ᵏ``, and the trapezoid rule on the parabola
    ``t = μ(1 + iθ)²`` (through the saddle point ``t = z`` for ``z >= 1/2``) converges
    geometrically; it gives every coefficient to a few units of rounding times ``|z|`` (the
    condition of ``t⁻ᶻ``). A dual ``z`` (nesting) takes its tangents from the next
    coefficients, ``c_k(v + δ) = Σⱼ binomial(k+j, j) c_(k+j)(v) δʲ``, ``δ`` nilpotent.
    """
    v, layers = z, 0
    while is_dual(v):
        v, layers = v.value, layers + 1
    c = _rgamma_by_contour(rule, v, n + layers)
    if not layers:
        return [None] + c[1:]
    delta = z - v
    out = [None]
    for k in range(1, n + 1):
        total, power, binomial = c[k], 1.0, 1.0
        for j in range(1, layers + 1):
            power = power * delta
            binomial = binomial * (k + j) / j
            total = total + c[k + j] * binomial * power
        out.append(total)
    return out


def _rgamma_by_contour(rule: Rule, v: Any, n: int) -> list:
    """``c_0 .. c_n`` of ``1/Γ(v + t)`` at plain ``v`` (real or complex, scalar or array)."""
    if np.size(v) > 2048:  # the integrand is a matrix of points × nodes: a few MB at a time
        flat = np.ravel(v)
        parts = [_rgamma_by_contour(rule, flat[i : i + 2048], n) for i in range(0, flat.size, 2048)]
        return [np.concatenate([p[k] for p in parts]).reshape(np.shape(v)) for k in range(n + 1)]
    complex_values = np.iscomplexobj(v)
    z = np.asarray(v, dtype=complex if complex_values else float)
    finite = np.isfinite(z)
    z = np.where(finite, z, 1.0)
    x = z.real
    mu = np.maximum(x, 0.5)  # the saddle point of eᵗ t⁻ˣ for x >= 1/2
    # The step: the integrand is analytic for |Im θ| < 1 (t = 0 at θ = ±i), but for x > 0 it
    # grows towards t = 0 (t⁻ˣ), and near θ = 0 it is a Gaussian of width 1/(2√μ).
    largest = float(np.max(mu))
    h = min(0.05, 1.8 / (40.0 + 0.2 * largest), math.pi / math.sqrt(80.0 * largest))
    # The end: where the integrand (times |log t|ⁿ) has fallen 1e-18 below its peak.
    coarse = (
        np.linspace(0.0, 1.0, 257)[:, None]
        * np.sqrt(4.0 + (200.0 + 8.0 * n + 4.0 * np.abs(z) * np.log(2.0 + np.abs(z))) / mu).ravel()
    )
    mu_flat, x_flat, y_flat = mu.ravel(), x.ravel(), np.abs(z.imag).ravel()
    size = (
        mu_flat * (1.0 - coarse * coarse)
        - x_flat * np.log(mu_flat * (1.0 + coarse * coarse))
        + y_flat * 2.0 * np.arctan(coarse)
        + 0.5 * np.log1p(coarse * coarse)
        + n * np.log(np.maximum(1.0, np.abs(np.log(mu_flat)) + np.log1p(coarse * coarse) + 3.2))
    )
    keep = size >= size.max(axis=0) - 42.0
    last = coarse.shape[0] - 1 - np.argmax(keep[::-1], axis=0)
    beyond = np.minimum(last + 1, coarse.shape[0] - 1)
    end = float(np.max(coarse[beyond, np.arange(coarse.shape[1])]))
    theta = np.arange(0.0, end + h, h)
    if complex_values:
        theta = np.concatenate([-theta[:0:-1], theta])
    weights = np.full(theta.shape, h)
    if not complex_values:
        weights[0] = h / 2  # θ = 0 once; the other half of the contour is the conjugate
    s = 1.0 + 1j * theta
    log_s = np.log(s)
    zz = z[..., None]
    mu_e = mu[..., None]
    # eᵗ t⁻ᶻ dt/(2πi dθ) = e^(μ(s² - 1) - 2z log s) s μ/π · e^μ μ⁻ᶻ
    integrand = np.exp(mu_e * (s * s - 1.0) - 2.0 * zz * log_s) * (s * weights) * (mu_e / math.pi)
    scale = np.exp(mu - z * np.log(mu))
    minus_log_t = -(np.log(mu_e) + 2.0 * log_s)
    out = []
    for k in range(n + 1):
        total = integrand.sum(axis=-1) * scale
        out.append(total if complex_values else 2.0 * total.real)
        integrand = integrand * (minus_log_t / (k + 1))
    if not complex_values:
        # 1/Γ > 0 for x > 0: the rounding of the scale e^μ μ⁻ˣ (|x log μ| units, the same in
        # every coefficient) is removed by the value itself
        value = np.asarray(rule.array(np.where(finite, v, 1.0)), dtype=float)
        fix = (x > 0) & (out[0] > 0) & np.isfinite(value) & (value > 0)
        if fix.any():
            ratio = np.where(fix, value / np.where(fix, out[0], 1.0), 1.0)
            out = [c * ratio for c in out]
    if not finite.all():  # 1/Γ and its derivatives tend to 0 at +inf; nan elsewhere
        limit = np.where(np.asarray(v) == np.inf, 0.0, np.nan)
        out = [np.where(finite, c, limit) for c in out]
    if np.ndim(v) == 0:
        return [c[()] for c in out]
    return out


@_taylor_rule("spence")
def _spence_rule(rule: Rule, u: list, n: int) -> list:
    z = u[0]
    plain = _strip(z)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # J_k = ∫₀¹ sᵏ (1 + s w)^-(k+1) ds, w = z - 1, R = 1/z: J_k = (J_(k-1) - Rᵏ/k) / w
        w = z - 1.0
        ratio = np.abs(w / z) if _is_array(plain) else abs(w / z)
        backward = ratio < 1  # nearer to 1 than to 0: the recurrence is stable downwards
        if not _is_array(backward):
            J = _spence_backward(z, w, n, _strip(ratio)) if backward else _spence_forward(z, w, n)
        else:
            worst = np.max(_strip(ratio), where=backward, initial=0.0)
            down = _spence_backward(where(backward, z, 2.0), where(backward, w, 1.0), n, worst)
            up = _spence_forward(where(backward, 0.25, z), where(backward, -0.75, w), n)
            J = _select(backward, down, up)
    # spence' = log(z)/(1 - z) = -∫₀¹ ds/(1 + s w): its coefficient k is -(-1)ᵏ J_k
    g = [None] + [J[k] * ((-1.0 if k % 2 == 0 else 1.0) / (k + 1)) for k in range(n)]
    return _compose_from_point(rule, g, u, n)


def _spence_forward(z: Any, w: Any, n: int) -> list:
    """``J_0 .. J_(n-1)`` upwards: stable where ``|z| <= |z - 1|``, as its errors grow by
    ``|z/(z - 1)|`` per order. Carried as ``H_k = J_k zᵏ⁺¹``, which neither overflows nor
    underflows where ``J_k`` does not: ``H_k = (H_(k-1) - 1/k) z/w``."""
    H = z * LOG(z) / w
    step = z / w
    scale = 1.0 / z
    out = [H * scale]
    for k in range(1, n):
        H = (H - 1.0 / k) * step
        scale = scale / z
        out.append(H * scale)
    return out


def _spence_backward(z: Any, w: Any, n: int, ratio: float) -> list:
    """``J_0 .. J_(n-1)`` downwards, ``H_(k-1) = (w/z) H_k + 1/k`` with ``H_k = J_k zᵏ⁺¹``,
    from 0 far enough above that the start's error has shrunk by ``ratio**steps < 1e-17``
    (``ratio = |w/z| < 1``)."""
    steps = 40 if not ratio > 0 else int(min(-39.0 / math.log(max(ratio, 1e-300)), 1e6)) + 2
    step = w / z
    H = 0.0
    out = [0.0] * n
    for k in range(n + steps - 1, 0, -1):
        H = step * H + 1.0 / k  # H_(k-1)
        if k - 1 < n:
            out[k - 1] = H
    scale = 1.0 / z
    for k in range(n):
        out[k] = out[k] * scale
        scale = scale / z
    return out


@_taylor_rule("erfcx")
def _erfcx_rule(rule: Rule, u: list, n: int) -> list:
    x = u[0]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        moments = _erfcx_moments(x, rule.function(x), n)
    # erfcx(x + t) = (2/√π) ∫₀^∞ e^(-s² - 2(x+t)s) ds: g_k = (2/√π) (-2)ᵏ/k! I_k(x)
    g = [None]
    factor = _2_OVER_SQRT_PI
    for k in range(1, n + 1):
        factor = factor * (-2.0 / k)
        g.append(moments[k] * factor)
    return _compose_from_point(rule, g, u, n)


_2_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfcx_moments(x: Any, value: Any, n: int) -> list:
    """The moments ``I_0..I_n`` of ``_erfcx_forward``/``_erfcx_backward`` at ``x``, each where it
    is stable; ``value`` is ``erfcx(x)``."""
    real = _strip(x).real if is_complex(x) else _strip(x)
    if not _is_array(real):
        far = not real <= 0.25  # nan and inf too: their recurrence gives nan, as the value
        return _erfcx_backward(x, value, n) if far else _erfcx_forward(x, value, n)
    far = real > 0.25
    down = _erfcx_backward(where(far, x, 2.0), where(far, value, 1.0), n)
    up = _erfcx_forward(where(far, 0.0, x), where(far, 1.0, value), n)
    return _select(far, down, up)


def _erfcx_forward(x: Any, value: Any, n: int) -> list:
    """The moments ``I_k = ∫₀^∞ sᵏ e^(-s² - 2xs) ds``, ``k = 0..n``, upwards:
    ``2 I_k = (k - 1) I_(k-2) - 2x I_(k-1)``, from ``I_0 = (√π/2) erfcx(x)`` and
    ``2 I_1 = 1 - 2x I_0``. Used for ``Re x <= 1/4``, where the recurrence's other solution
    grows little faster than the moments (at most 1.06 per order at order 40)."""
    moments = [value / _2_OVER_SQRT_PI]
    if n:
        moments.append((1.0 - 2.0 * x * moments[0]) / 2.0)
    for k in range(2, n + 1):
        moments.append(((k - 1) * moments[k - 2] - 2.0 * x * moments[k - 1]) / 2.0)
    return moments


def _erfcx_backward(x: Any, value: Any, n: int) -> list:
    """The moments ``I_0..I_n`` downwards (Miller's algorithm), for ``Re x > 1/4``. There the
    moments are the recurrence's smaller solution: upwards, ``erfcx'``'s rule (the fallback)
    and the forward recurrence lose a factor ``|r-/r+|`` per order (the roots of
    ``2r² + 2xr = k - 1``), 2e-4 of erfcx's 20th derivative at 3. Downwards, from an arbitrary
    start far enough above ``n``, the error shrinks by that factor per step; the moments are
    then scaled to ``I_0``."""
    plain = _strip(x)
    low = float(np.min(plain.real)) if _is_array(plain) else float(plain.real)
    top, shrink = n, 1.0
    while shrink > 1e-17 and top < n + 100_000:
        top += 1
        root = math.sqrt(low * low + 2.0 * (top - 1))  # |r+/r-| of 2r² + 2xr - (k - 1) = 0
        shrink *= (root - low) / (root + low)
    later, current = 0.0, 1.0  # I_(k+1), I_k at k = top, up to a common scale
    out = [0.0] * (n + 1)
    for k in range(top, 0, -1):
        if k <= n:
            out[k] = current
        later, current = current, (2.0 * later + 2.0 * x * current) / k  # I_(k-1)
        # keep the scale in range (only ratios matter) by powers of two (exact), each entry its
        # own: one scale for all let an entry far out (z = 7e14) overflow the others' (erfcx''(3)
        # came out nan beside it); within float32's range, where a step grows by up to 2|z|
        size = np.abs(_strip(current))
        if not _is_array(size):
            if not (size > 1e15 or 0.0 < size < 1e-15):
                continue
            size = math.ldexp(1.0, math.frexp(float(size))[1])
        else:
            rescale = (size > 1e15) | ((size > 0.0) & (size < 1e-15))
            if not rescale.any():
                continue
            size = np.ldexp(1.0, np.frexp(np.where(rescale, size, 0.5))[1]).astype(size.dtype)
        later, current = later / size, current / size
        out[k:] = [c / size for c in out[k:]]
    out[0] = current
    scale = (value / _2_OVER_SQRT_PI) / current
    return [c * scale for c in out]


@_taylor_rule("log_ndtr")
def _log_ndtr_rule(rule: Rule, u: list, n: int) -> list:
    # In the left tail log Φ(x) = log(1/2) - x²/2 + log erfcx(-x/√2), whose terms are
    # well-conditioned there: the rule's own quotient φ/Φ, solved order by order, lost 4e-4 of
    # the 20th derivative at -3. The right half keeps the rule from the first derivative.
    x = u[0]
    plain = _strip(x)
    left = (plain.real if is_complex(x) else plain) < 0
    if not _is_array(left):
        if not left:
            return _apply_fallback(rule, (u,), n)
        return _compose_from_point(rule, _log_ndtr_left(x, rule.function(x), n), u, n)
    if not left.any():
        return _apply_fallback(rule, (u,), n)
    with np.errstate(all="ignore"):
        away = [where(left, 1.0, u[0])] + [where(left, 0.0, c) for c in u[1:]]
        right = _apply_fallback(rule, (away,), n)
        point = where(left, x, -1.0)
        inner = _compose_from_point(rule, _log_ndtr_left(point, rule.function(point), n), u, n)
    return _select(left, inner, right)


def _log_ndtr_left(x: Any, value: Any, n: int) -> list:
    """``log_ndtr⁽ᵏ⁾(x)/k!`` for ``k = 0..n`` (coefficient 0 left to the caller), ``Re x < 0``,
    from erfcx's moments at ``z = -x/√2`` (see ``_erfcx_backward``)."""
    z = x * -_SQRT_HALF
    # w = erfcx(z) from the rule's value, which only the forward recurrence (Re z <= 1/4) needs:
    # beyond, the moments are scaled to w, and the logarithm's series takes their ratios only.
    # There w = 1 (x²/2 + log Φ(x) cancels as x grows: inf - inf, a nan, at -1e15).
    real = _strip(x).real if is_complex(x) else _strip(x)
    far = real < -1.0
    if not _is_array(far):
        w = 1.0 if far else 2.0 * EXP(0.5 * (x * x) + value)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            w = where(far, 1.0, 2.0 * EXP(0.5 * (x * x) + where(far, 0.0, value)))
    moments = _erfcx_moments(z, w, n)
    # erfcx(z + s) at s = -h/√2: coefficient k is (2/√π) (-2)ᵏ/k! I_k (-1/√2)ᵏ = (2/√π) √2ᵏ/k! I_k
    series = [w]
    factor = _2_OVER_SQRT_PI
    for k in range(1, n + 1):
        factor = factor * (_SQRT_TWO / k)
        series.append(moments[k] * factor)
    g = [None] + _log_tail(series, n)
    if n >= 1:
        g[1] = g[1] - x
    if n >= 2:
        g[2] = g[2] - 0.5
    return g


_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO = math.sqrt(2.0)


# ---------------------------------------------------------------------------------------------
# The hot rules unrolled for a series whose value is a Python float (a scalar derivative).
# Each computes exactly what its rule above computes, in the same operations on the same
# operands (so any coefficient types give the same numbers), with the value taken straight from
# ``rule.real`` (``math``) and the steps inlined. A Python float error (``math.log(-1.0)``,
# overflow, a zero divisor) returns control to the general path, which retries on NumPy
# scalars: whatever the fast path does not finish, the general path computes from scratch.
# (``y[k - 1 :: -1]`` is kept as a reversed list ``r``, grown with ``insert(0, ...)``.)
# ---------------------------------------------------------------------------------------------

_EXP_REAL = RULES["exp"].real
_SIN_REAL = RULES["sin"].real
_COS_REAL = RULES["cos"].real
_SINH_REAL = RULES["sinh"].real
_COSH_REAL = RULES["cosh"].real
_POWER_REAL = RULES["power"].real

_FLOAT_RULES: dict[str, Callable[[Rule, list, int], list]] = {}
"""Rule name -> ``fn(rule, u, n)`` for a series ``u`` with a float value and ``len(u) > 1``."""


def _float_rule(*names: str) -> Callable[[Callable[..., list]], Callable[..., list]]:
    def register(fn: Callable[..., list]) -> Callable[..., list]:
        for name in names:
            _FLOAT_RULES[name] = fn
        return fn

    return register


def _float_exp_series(y0: Any, u: list, n: int) -> list:
    """``_exp_series(y0, _deriv(u), n)``."""
    if len(u) == 2:
        d = u[1] * 1
        c = y0
        y = [y0]
        for k in range(1, n + 1):
            c = c * d / k
            y.append(c)
        return y
    du = [u[j] * j for j in range(1, len(u))]
    r = [y0]
    for k in range(1, n + 1):
        r.insert(0, sum(map(mul, du, r)) / k)
    r.reverse()
    return r


@_float_rule("exp")
def _float_exp(rule: Rule, u: list, n: int) -> list:
    return _float_exp_series(rule.real(u[0]), u, n)


@_float_rule("expm1")
def _float_expm1(rule: Rule, u: list, n: int) -> list:
    y = _float_exp_series(_EXP_REAL(u[0]), u, n)
    y[0] = rule.real(u[0])
    return y


def _float_sin_cos(u: list, n: int, s0: Any, c0: Any, hyperbolic: bool, sine: bool) -> list:
    """``_sin_cos(u, n, s0, c0, hyperbolic)[0 if sine else 1]``."""
    if len(u) == 2:
        d = u[1] * 1
        s, c = [s0], [c0]
        sp, cp = s0, c0
        for k in range(1, n + 1):
            dk = d / k
            sk = dk * cp
            cp = dk * sp if hyperbolic else -dk * sp
            s.append(sk)
            c.append(cp)
            sp = sk
        return s if sine else c
    du = [u[j] * j for j in range(1, len(u))]
    rs, rc = [s0], [c0]  # reversed: s[k - 1 :: -1], c[k - 1 :: -1]
    for k in range(1, n + 1):
        sk = sum(map(mul, du, rc)) / k
        t = sum(map(mul, du, rs)) / k
        rs.insert(0, sk)
        rc.insert(0, t if hyperbolic else -t)
    r = rs if sine else rc
    r.reverse()
    return r


# sin, cos, sinh, cosh: the pair (sine, cosine) comes together; the rule's own value is one of
# them, its partner the other: (partner, hyperbolic, the rule is the sine)
_SIN_COS_PARTNERS = {
    "sin": (_COS_REAL, False, True),
    "cos": (_SIN_REAL, False, False),
    "sinh": (_COSH_REAL, True, True),
    "cosh": (_SINH_REAL, True, False),
}


@_float_rule(*_SIN_COS_PARTNERS)
def _float_sin_cos_rule(rule: Rule, u: list, n: int) -> list:
    partner, hyperbolic, sine = _SIN_COS_PARTNERS[rule.name]
    own, other = rule.real(u[0]), partner(u[0])
    s0, c0 = (own, other) if sine else (other, own)
    return _float_sin_cos(u, n, s0, c0, hyperbolic, sine)


def _float_riccati(u: list, n: int, y0: Any, w0: Any, linear: bool, quadratic: float) -> list:
    """``_riccati(u, n, y0, w0, linear, quadratic)``."""
    du = [u[j] * j for j in range(1, len(u))]
    y, ry, rw = [y0], [y0], [w0]  # ry, rw reversed: y[k::-1], w[k - 1 :: -1]
    single = len(du) == 1
    d = du[0]
    for k in range(1, n + 1):
        yk = d * rw[0] / k if single else sum(map(mul, du, rw)) / k
        y.append(yk)
        ry.insert(0, yk)
        if k < n:
            square = sum(map(mul, y, ry)) * quadratic
            rw.insert(0, yk + square if linear else square)
    return y


@_float_rule("log")
def _float_log(rule: Rule, u: list, n: int) -> list:
    tail = _log_tail(u, n)
    return [rule.real(u[0])] + tail


@_float_rule("sqrt")
def _float_sqrt(rule: Rule, u: list, n: int) -> list:
    return _sqrt_series(u, n, rule.real(u[0]))


def _float_power(u: list, a: float | int, n: int) -> list | None:
    """``u**a`` for a constant exponent, as ``_power_rule`` computes it for a float value
    (None where a float error stops it: the general path then redoes it)."""
    try:
        out = _power_const(u, a, n, _POWER_REAL(u[0], a))
    except (ArithmeticError, ValueError):
        return None
    return _keep_constant((u, [a]), out)


@_float_rule("tan")
def _float_tan(rule: Rule, u: list, n: int) -> list:
    y0 = rule.real(u[0])
    return _float_riccati(u, n, y0, 1.0 + y0 * y0, False, 1.0)


@_float_rule("tanh")
def _float_tanh(rule: Rule, u: list, n: int) -> list:
    y0 = rule.real(u[0])
    return _float_riccati(u, n, y0, rule.partials[0](u[0], y0), False, -1.0)


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
            "dualdiff.series.taylor.TAYLOR_RULES",
        )

    def generic(rule: Rule, *args: Any) -> list:
        *series, n = args
        values = [s[0] for s in series]
        y = [rule.function(*values)]
        # the value's dtype for every coefficient: partials such as scipy's polygamma compute a
        # float32 argument in float64, which made a float32 series float64
        dtype = None if is_dual(y[0]) else getattr(y[0], "dtype", None)
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
                term = _product_coefficient(d, value.coefficients if own else [value], k - 1)
                if rule.safe:
                    term = _zero_where_constant(d, term)
                total = total + term
            coefficient = total / k
            kind = getattr(coefficient, "dtype", dtype)
            if dtype is not None and kind != dtype and kind.kind == dtype.kind:
                coefficient = np.asarray(coefficient).astype(dtype)[()]
            y.append(coefficient)
        return y

    return generic


def _zero_where_constant(d: list, term: Any) -> Any:
    """``term``, a product of an argument's derivative series ``d`` with a partial that may be
    infinite (a ``safe`` rule), exactly zero where ``d`` is (that argument is constant there), as
    first order keeps a zero tangent zero: ``0**(t + 1.3)`` is the constant 0, where the partial
    ``y·x**(y-1)`` of its constant base is infinite. Checked only when ``term`` is not finite."""
    if (term * 0.0 == 0.0) if type(term) is float else all_finite(term):
        return term
    still: Any = True
    for c in d:
        if type(c) is np.ndarray or type(c) in SCALAR_TYPES:
            still = still & (c == 0)
        else:
            return term  # a dual coefficient (nesting): left as computed
    zero = np.zeros((), np.result_type(term))
    if type(still) is not np.ndarray:
        return (type(term)(0) if type(term) in (float, complex) else zero[()]) if still else term
    return np.where(still, zero, term) if still.any() else term


def _apply(rule: Rule, args: tuple[list, ...], n: int) -> list:
    """The coefficients of ``rule(*args)``; Python numbers retry as NumPy scalars on a float error
    (a division by zero gives inf or nan, as NumPy does, instead of raising)."""
    if all(len(a) == 1 for a in args):
        return [rule.function(*(a[0] for a in args))]
    fn = TAYLOR_RULES.get(rule.name)
    if fn is None:
        return _apply_fallback(rule, args, n)
    out = _evaluate(fn, rule, args, n)
    return _keep_constant(args, out) if rule.safe else out


class _FallbackMemo(threading.local):
    """The results of the fallback rule during one outermost evaluation of it, by rule and
    argument coefficients.

    The fallback evaluates a rule's partials once per order, on the argument truncated to that
    order. A partial that calls other special functions (``jv(v-1, x)`` and ``jv(v+1, x)`` in
    ``jv``'s, ``ellipe`` in ``ellipk``'s and back) then runs their fallbacks once per order
    too, and theirs again, so the time grew exponentially with the order (``jv`` at order 12:
    17 s). The calls overlap (``jv(v, x)`` is reached from ``jv(v-1)`` and ``jv(v+1)``, at
    the same truncation of the same ``x``), and a memo makes them polynomial. Coefficients
    are keyed by value for numbers and by identity otherwise; the memo holds the arguments,
    so no identity is reused while it lives, and it is dropped when the outermost call ends."""

    def __init__(self) -> None:
        self.depth = 0
        self.results: dict[tuple, tuple[tuple, list]] = {}


_FALLBACK_MEMO = _FallbackMemo()


def _coefficient_key(c: Any) -> Any:
    t = type(c)
    if t is float or t is int or t is complex or isinstance(c, np.number):
        return (t, c)
    return id(c)


def _apply_fallback(rule: Rule, args: tuple[list, ...], n: int) -> list:
    memo = _FALLBACK_MEMO
    key = (rule.name, n, tuple(tuple(_coefficient_key(c) for c in a) for a in args))
    found = memo.results.get(key)
    if found is not None:
        return list(found[1])
    memo.depth += 1
    try:
        out = _evaluate(fallback_rule(rule), rule, args, n)
        if rule.safe:
            out = _keep_constant(args, out)
        memo.results[key] = (args, list(out))
    finally:
        memo.depth -= 1
        if not memo.depth:
            memo.results.clear()
    return out


def _evaluate(fn: Callable[..., list], rule: Rule, args: tuple[list, ...], n: int) -> list:
    """``fn(rule, *args, n)``, retried where a float error stopped it."""
    try:
        return fn(rule, *args, n)
    except _FALLBACK_ERRORS as exc:
        return _retry(fn, rule, args, n, exc)
    except FloatingPointError:
        # The user's np.errstate(all="raise"): a recurrence of a rule with infinite partials
        # divided by a zero value (sqrt of x - x) where _keep_constant then restores the
        # constant; NumPy would not have raised, as the program's values are fine. The value
        # itself is evaluated under the user's state first, so that what NumPy raises still
        # raises.
        if not rule.safe:
            raise
        rule.function(*(a[0] for a in args))
        with np.errstate(divide="ignore", invalid="ignore"):
            return fn(rule, *args, n)


def _keep_constant(args: tuple[list, ...], out: list) -> list:
    """The zero-tangent convention in Taylor mode, for a rule with infinite partials (``safe``):
    where every argument is constant (its coefficients past the value are exact zeros), so is
    the result, even where a recurrence divided by zero (``sqrt`` of ``x - x``). Checked only
    when the result has a coefficient that is not finite."""
    for c in out[1:]:
        if not ((c * 0.0 == 0.0) if type(c) is float else all_finite(c)):
            break
    else:
        return out
    still: Any = True
    for a in args:
        for c in a[1:]:
            if type(c) is np.ndarray or type(c) in SCALAR_TYPES:
                still = still & (c == 0)
            else:
                return out  # a dual coefficient (nesting): left as computed
    if type(still) is not np.ndarray:
        return [out[0]] if still else out
    if not still.any():
        return out
    return [out[0]] + [np.where(still, np.zeros((), np.result_type(c)), c) for c in out[1:]]


def _retry(fn: Callable[..., list], rule: Rule, args: tuple, n: int, exc: Exception) -> list:
    """Run ``fn`` again on NumPy scalars after a float error ``exc`` from Python numbers."""
    if not any(type(c) in _PLAIN_SCALARS for a in args for c in a):
        raise exc
    with np.errstate(all="ignore"):  # arrays (and duals) among the coefficients are kept
        return fn(rule, *([_numpy_scalar(c) for c in a] for a in args), n)


def _numpy_scalar(c: Any) -> Any:
    return np.asarray(c)[()] if type(c) in _PLAIN_SCALARS else c


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


def _constant_array(a: Any) -> bool:
    """Whether ``a`` is an ndarray the operators take as a constant: not an object array (of
    series, say), which NumPy's dispatch brings to ``__array_ufunc__`` to be lifted."""
    return type(a) is np.ndarray and a.dtype.kind != "O"


def _check_index(index: Any) -> None:
    """An index holding a series (``x[x[0]]``): NumPy would raise an IndexError about index
    types; an index has no derivative, so say so."""
    for item in index if type(index) is tuple else (index,):
        if is_dual(item):
            raise TypeError(
                "a Taylor series cannot be indexed by a dual number (an index has no "
                "derivative); index with integers, e.g. int(x.value)"
            )


class Taylor(InPlaceOperators, ArrayMethods):
    """A truncated Taylor polynomial ``Σ_k coefficients[k]·t**k`` (``k <= order``) in a real ``t``.

    Operators, NumPy ufuncs and functions (``@``, ``np.sum``, ``np.linalg.solve`` ...), item
    assignment and the ``dualdiff`` functions propagate it, at ``O(order²)`` work per elementary
    function; comparisons and ``bool()`` look at ``value`` (``coefficients[0]``).

    Parameters
    ----------
    coefficients : sequence of numbers or arrays
        ``coefficients[k]`` is the ``k``-th derivative along ``t`` over ``k!``; entries past the
        end of the list are exact zeros.
    order : int, optional
        The truncation order (default: ``len(coefficients) - 1``).
    tag : int, optional
        Separates perturbations as for :class:`Dual`; hand-built series share one tag.

    Raises
    ------
    TypeError
        On conversion to ``float`` or an array: it would drop the higher coefficients.

    See Also
    --------
    taylor : builds the series of ``x + t`` for you and evaluates ``f`` on it.

    Examples
    --------
    The series of ``sin(0.5 + t)`` to order 3 (``sin, cos, -sin/2, -cos/6`` at 0.5):

    >>> y = np.sin(dd.Taylor([0.5, 1.0], order=3))
    >>> np.round(y.coefficients, 6)
    array([ 0.479426,  0.877583, -0.239713, -0.146264])
    >>> dd.Taylor([1.0, 1.0], order=2) ** 2  # (1 + t)² = 1 + 2t + t²
    Taylor([1.0, 2.0, 1.0], order=2)
    """

    # ``base_``/``views_`` (unset on most series) link views to the series they view;
    # ``readonly_`` (unset but on the views NumPy hands out read-only) makes writes raise
    __slots__ = ("coefficients", "order", "tag", "base_", "views_", "readonly_", "__weakref__")
    # unpickled in another process: that process's tag clock moves past this tag
    __setstate__ = restore_state

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

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        # pickled and deep-copied as a series of its own (the links to views stay behind)
        return None, {"coefficients": self.coefficients, "order": self.order, "tag": self.tag}

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
        shape: tuple[int, ...] = ()
        for c in self.coefficients:
            s = getattr(_strip(c), "shape", ())
            if s != shape and s:
                if shape:  # coefficients of different shapes: broadcast them
                    return np.broadcast_shapes(*(np.shape(_strip(c)) for c in self.coefficients))
                shape = s
        return shape

    shape = shape.setter(refused_shape_setter("a Taylor series"))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the coefficients together (float64, or complex128 for complex ones)."""
        if dtype_hidden():  # np.mean of an object array: none, as a Python float's element
            raise AttributeError("dtype")
        return np.result_type(*(_strip(c) for c in self.coefficients))

    def astype(self, dtype: Any, copy: bool = True) -> Taylor:
        """Every coefficient converted; only float and complex dtypes carry derivatives."""
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":
            raise errors.lost_tangent(
                f"Taylor.astype({dtype})", "Keep a float or complex dtype; use x.value for values."
            )
        if not copy and dtype == self.dtype:
            return self  # NumPy's astype(copy=False) returns the array itself: writes reach it
        if any(is_dual(c) for c in self.coefficients):
            raise TypeError("Taylor.astype of a nested series is not supported")
        coefficients = [np.asarray(c).astype(dtype) for c in self.coefficients]
        return _taylor([c if c.ndim else c[()] for c in coefficients], self.order, self.tag)

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
        if t in SCALAR_TYPES or _constant_array(other):
            c = self.coefficients.copy()
            c[0] = c[0] + other
            return _taylor(c, self.order, self.tag)
        return _ADD(self, other) if is_dual(other) else _with_list(operator.add, self, other)

    def __radd__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or _constant_array(other):
            c = self.coefficients.copy()
            c[0] = other + c[0]
            return _taylor(c, self.order, self.tag)
        return _ADD(other, self) if is_dual(other) else _with_list(operator.add, other, self)

    def __sub__(self, other: Any) -> Any:
        t = type(other)
        if t is Taylor and other.tag == self.tag:
            a, b, n = self._same(other)
            return _taylor(_sub(a, b), n, self.tag)
        if t in SCALAR_TYPES or _constant_array(other):
            c = self.coefficients.copy()
            c[0] = c[0] - other
            return _taylor(c, self.order, self.tag)
        return _SUBTRACT(self, other) if is_dual(other) else _with_list(operator.sub, self, other)

    def __rsub__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or _constant_array(other):
            c = [-x for x in self.coefficients]
            c[0] = other - self.coefficients[0]
            return _taylor(c, self.order, self.tag)
        return _SUBTRACT(other, self) if is_dual(other) else _with_list(operator.sub, other, self)

    def __mul__(self, other: Any) -> Any:
        t = type(other)
        if t is Taylor and other.tag == self.tag:
            a, b, n = self._same(other)
            return _taylor(_mul(a, b, n), n, self.tag)
        if t in SCALAR_TYPES or _constant_array(other):
            return _taylor([c * other for c in self.coefficients], self.order, self.tag)
        return _MULTIPLY(self, other) if is_dual(other) else _with_list(operator.mul, self, other)

    def __rmul__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or _constant_array(other):
            return _taylor([other * c for c in self.coefficients], self.order, self.tag)
        return _MULTIPLY(other, self) if is_dual(other) else _with_list(operator.mul, other, self)

    def __truediv__(self, other: Any) -> Any:
        # A zero divisor of Python floats raises ZeroDivisionError: the rule then redoes the
        # division on NumPy scalars (inf/nan, as NumPy gives), as for a Dual.
        t = type(other)
        try:
            # The quotient of constant series is constant (the convention at an infinite partial).
            if t is Taylor and other.tag == self.tag:
                a, b, n = self._same(other)
                return _taylor(_keep_constant((a, b), _div(a, b, n)), n, self.tag)
            if t in SCALAR_TYPES or _constant_array(other):
                a = self.coefficients
                return _taylor(_keep_constant((a,), [c / other for c in a]), self.order, self.tag)
        except ZeroDivisionError:
            return _DIVIDE(self, other)
        return _DIVIDE(self, other) if is_dual(other) else _with_list(operator.truediv, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        if type(other) in SCALAR_TYPES or _constant_array(other):
            b = self.coefficients
            try:
                return _taylor(
                    _keep_constant((b,), _div([other], b, self.order)), self.order, self.tag
                )
            except ZeroDivisionError:
                return _DIVIDE(other, self)
        return _DIVIDE(other, self) if is_dual(other) else _with_list(operator.truediv, other, self)

    def __pow__(self, other: Any, modulo: Any = None) -> Any:
        if modulo is not None:
            raise TypeError("pow() with a modulus is not differentiable")
        if type(other) is int and other == 2:
            return _taylor(
                _mul(self.coefficients, self.coefficients, self.order), self.order, self.tag
            )
        if type(other) is float or type(other) is int:
            u = self.coefficients
            if type(u[0]) is float and len(u) > 1:
                n = self.order
                out = _float_power(u[: n + 1], other, n)
                if out is not None:
                    return _taylor(out, n, self.tag)
        if _operand_type(other):
            return _POWER(self, other)
        return _with_list(operator.pow, self, other)

    def __rpow__(self, other: Any) -> Any:
        return (
            _POWER(other, self) if _operand_type(other) else _with_list(operator.pow, other, self)
        )

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
        # a new series, as NumPy's +a is a new array (a write into it must not reach self) and
        # a scalar for a 0-d array
        return _taylor([+c for c in self.coefficients], self.order, self.tag)

    def __abs__(self) -> Any:
        return ABSOLUTE(self)

    # -- complex parts ------------------------------------------------------------------------

    @property
    def real(self) -> Taylor:
        if self.shape:  # a view in NumPy (of a real array: the array itself)
            return _view_series(self, _real_parts)
        return _taylor([c.real for c in self.coefficients], self.order, self.tag)

    @property
    def imag(self) -> Taylor:
        if self.shape and np.iscomplexobj(_strip(self.coefficients[0])):
            return _view_series(self, _imaginary_parts)
        zeros = _taylor([c.imag for c in self.coefficients], self.order, self.tag)
        if self.shape:  # new zeros, read-only in NumPy: a write into them must not be lost
            zeros.readonly_ = True
        return zeros

    # y.real = v and y.imag = v write into y's coefficients, as ndarray's setters do (a scalar
    # series is immutable, as a NumPy scalar is)
    @real.setter
    def real(self, value: Any) -> None:
        if not self.shape:
            raise AttributeError("attribute 'real' of a scalar Taylor series is not writable")
        self.real[...] = value

    @imag.setter
    def imag(self, value: Any) -> None:
        if not self.shape:
            raise AttributeError("attribute 'imag' of a scalar Taylor series is not writable")
        if not np.iscomplexobj(_strip(self.coefficients[0])):
            raise TypeError("array does not have imaginary part to set")
        self.imag[...] = value

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
            "Converting a Taylor series to float (float(x), a math function such as math.sin(x) "
            f"or {errors.FLOAT_WRITE})",
            f"Use numpy.sin(x) or dualdiff.sin(x); {errors.FLOAT_WRITE_FIX}; x.value is the "
            "plain value.",
        )

    def __complex__(self) -> complex:
        raise errors.lost_tangent("Converting a Taylor series to complex", "Use x.value.")

    def __int__(self) -> int:
        raise errors.lost_tangent("Converting a Taylor series to int", "Use x.value.")

    def __index__(self) -> int:
        raise errors.lost_tangent("Using a Taylor series as an index", "Index with integers.")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        # as a Dual's and a DualArray's: an object array of scalar series (dualdiff.dual.objects);
        # read-only for np.asarray (a copy, whose writes could not reach this series)
        refuse_or_warn(
            "numpy.asarray(x)/numpy.array([...]) of Taylor series",
            "For full speed pass the series on (NumPy functions accept it directly) and build "
            "arrays with np.stack([...]); x.coefficients are the plain coefficients.",
            dtype,
            copy,
            self.tag,
        )
        shape = self.shape
        if not shape:
            out = scalar_object_array(self)
            if type(_strip(self.coefficients[0])) is np.ndarray and copy is not True:
                # NumPy's np.asarray of a 0-d array is the array: a write into this copy would
                # be lost, so it fails loudly, as for larger arrays (a scalar's is a new array)
                out.flags.writeable = False
            return out
        items = [self[index] for index in np.ndindex(*shape)]
        like = _strip(self.coefficients[0])
        return object_array(items, shape, writable=copy is True, like=like)

    # -- elements of an array-valued series ---------------------------------------------------

    def __getitem__(self, index: Any) -> Taylor:
        if type(index) is not int and type(index) is not slice:
            _check_index(index)
        shape = self.shape
        if not shape:
            if index is Ellipsis:  # as for a 0-d array: a view of it (and for ``box``)
                return self
            if index == ():  # NumPy's scalar: a view of it (np.expand_dims) must not alias self
                if type(_strip(self.coefficients[0])) is not np.ndarray:
                    return self
                return _taylor(
                    [c[()] if type(c) is np.ndarray else c for c in self.coefficients],
                    self.order,
                    self.tag,
                )
            raise TypeError("a scalar Taylor series cannot be indexed")
        result = _taylor(
            [_broadcast(c, shape, self.coefficients[0])[index] for c in self.coefficients],
            self.order,
            self.tag,
        )
        if is_basic_index(index) and np.ndim(_strip(result.coefficients[0])):  # a view, as in NumPy
            _link_series(result, self, _SeriesIndex(index))
        return result

    def __setitem__(self, index: Any, item: Any) -> None:
        """``x[index] = item``, coefficient by coefficient. The coefficients are written as fresh
        copies, so other series that share them do not change; views of ``x`` (``x[1:3]``,
        ``x.T``) and the series they view see the write, as NumPy's views do."""
        if type(index) is not int and type(index) is not slice:
            _check_index(index)
        if getattr(self, "readonly_", False):  # np.diagonal(y), np.broadcast_to(y, ...), ...
            raise ValueError("assignment destination is read-only")
        if type(item) is list or type(item) is tuple:  # y[:2] = [s, 1.0]: the array it stands for
            item = array_like(item)
        if getattr(self, "base_", None) is not None or getattr(self, "views_", None):
            _write_through(self, index, item)
            return
        shape = self.shape
        if type(item) is Taylor and item.tag == self.tag:
            order = min(self.order, item.order)
            theirs = item.coefficients[: order + 1]
        elif is_dual(item) and item.tag >= self.tag:
            raise errors.lost_tangent(
                f"Assigning a {errors.type_name(item)} of a newer differentiation into a Taylor "
                "series",
                "Build the array from the newer dual numbers instead (numpy.stack, or "
                "numpy.zeros_like of one of them).",
            )
        else:
            order, theirs = self.order, [item]
        mine = self.coefficients[: order + 1]
        coefficients = []
        for k in range(max(len(mine), len(theirs))):
            if k < len(mine):
                c = _broadcast(mine[k], shape, mine[0])
                c = c.copy() if is_dual(c) else np.array(c)
            else:
                c = np.zeros(shape, np.result_type(_strip(mine[0]), 0.0))
            v = theirs[k] if k < len(theirs) else 0.0
            if is_dual(v) and v.tag > _tag_of(c):  # an older dual number: c becomes one too
                c = np.zeros_like(v, shape=shape) + c
            c[index] = v
            coefficients.append(c)
        self.coefficients = coefficients
        self.order = order

    # in-place operators write into the array (and so through views), as ndarray's do; a
    # scalar series is immutable, as Python's and NumPy's scalars are
    def _inplace(self, result: Any) -> Any:
        if not self.shape and getattr(self, "base_", None) is None:
            return result
        if getattr(self, "readonly_", False):
            raise ValueError("output array is read-only")
        self[...] = result
        return self

    def view(self) -> Taylor:
        """A new series sharing this one's coefficients (writes show in both)."""
        if not self.shape:
            return self
        return _view_series(self, _SeriesIndex(Ellipsis))

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a scalar Taylor series")
        return shape[0]

    # -- array methods: the NumPy functions of the same name ----------------------------------

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def copy(self, order: str = "C") -> Taylor:
        # ndarray.copy is in C order (np.copy keeps the layout): a reshape of the copy of a
        # Fortran-ordered array views it or copies it as NumPy's does
        return np.copy(self, order=order)

    def __matmul__(self, other: Any) -> Any:
        return np.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return np.matmul(other, self)

    # -- NumPy protocols ----------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if len(inputs) == 1 and method == "__call__" and not kwargs:  # np.sin(x): the hot path
            rule = UFUNC_RULES.get(ufunc)
            if rule is not None:
                return _lift_unary(rule, self)
        errors.check_plain_types(map(type, inputs), function_name(ufunc))  # (np.matrix)
        inputs = lift_inputs(inputs)  # object arrays of series, lists holding series
        out = kwargs.get("out")
        where = kwargs.get("where", True) if method == "__call__" else True
        if (out is not None or where is not True) and method != "at":
            # np.sin(x, out=y[1:]), np.add.reduce(x, out=s): computed, then written into out
            # (through a view as well), as eager mode does it; all read before any is written.
            # With where=: computed everywhere, out's entries kept outside where
            dropped = ("out", "where") if method == "__call__" else ("out",)
            kwargs = {k: v for k, v in kwargs.items() if k not in dropped}
            what = function_name(ufunc) + (f".{method}" if method != "__call__" else "")
            result = getattr(ufunc, method)(*inputs, **kwargs)
            if where is not True:
                result = kept_where(ufunc, where, out, result)  # (refused without out=)
            target = out[0] if type(out) is tuple and len(out) == 1 else out
            if (
                type(target) is not Taylor
                and method == "__call__"
                and inputs
                and inputs[0] is target
                and holds_dual(result)
            ):
                raise _lost_in_out(ufunc, target, inputs)  # K += x, named as the user wrote it
            return into_out(result, out, what, Taylor, "a Taylor series")
        if method == "__call__" and not kwargs:
            rule = UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc)
            if rule is not None:
                if len(inputs) == 1:
                    return _lift_unary(rule, self)
                if all(_operand_type(a) for a in inputs):
                    return rule.function(*inputs)
                return NotImplemented
            if ufunc in VALUE_UFUNCS:
                return ufunc(*(_plain(a) for a in inputs))
            if ufunc in _MULTILINEAR_UFUNCS:
                if type(_leader(inputs, {})) is not Taylor:
                    return NotImplemented
                return _multilinear_kind(_Call(_MULTILINEAR_UFUNCS[ufunc], inputs, {}))
            if ufunc in MULTI_OUTPUT_UFUNCS and all(_operand_type(a) for a in inputs):
                return MULTI_OUTPUT_UFUNCS[ufunc](*inputs)
        if method != "__call__" and type(_leader(inputs, {})) is Taylor:
            result = _ufunc_method(ufunc, method, inputs, kwargs)
            if result is not NotImplemented:
                return result
        what = f"{function_name(ufunc)}" + (f".{method}" if method != "__call__" else "")
        if kwargs:
            what += f" with {', '.join(sorted(kwargs))}="
        raise errors.no_rule(f"{what} on a Taylor series")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        errors.check_plain_types(types, function_name(func))  # (np.dot(M, x), M an np.matrix)
        leader = _leader(args, kwargs)
        if type(leader) is not Taylor:
            if leader is None and func in table.LIKE_CONSTRUCTORS:  # np.zeros(n, like=x)
                return _construct(func, self, args, kwargs)
            return NotImplemented  # a newer dual number leads: its type does the work
        handler = _handler(func)
        if handler is None:
            raise errors.no_rule(f"{function_name(func)} on a Taylor series")
        args, kwargs = lift_operands(func, args, kwargs)  # operands: lists holding series
        if "out" in kwargs or len(args) > errors.out_position(func):
            out, args, kwargs = errors.take_out(func, args, kwargs)
            if out is not None:  # computed without out=, then written into it, as eager does
                result = func(*args, **kwargs)
                errors.check_out_shape(func, out, result)
                return into_out(result, out, function_name(func), Taylor, "a Taylor series")
        args = lift_arguments(args)  # object arrays of series among the arguments
        if func is np.diag and args and np.ndim(_plain(args[0])) == 2:
            # a matrix's diagonal: NumPy's read-only view, as np.diagonal's
            return np.diagonal(args[0], *args[1:], **kwargs)
        result = handler(func, args, kwargs)
        if func in _VIEW_FUNCTIONS:
            result = _argument_itself(result, args)
            _link_function_view(result, func, handler, args, kwargs)
            if type(result) is Taylor and table.read_only_view(func, args, kwargs):
                result.readonly_ = True
        elif func is np.einsum and len(args) == 2:
            _link_einsum_view(result, handler, args, kwargs)
        elif func in _LINEAR_FUNCTIONS and args:
            result = _argument_itself(result, args)
        return result


# ---------------------------------------------------------------------------------------------
# Views of a series: writes through them reach the series they view, as NumPy's views do
# ---------------------------------------------------------------------------------------------
#
# Series share coefficient arrays freely (``x + 1.0`` keeps ``x``'s higher coefficients), so a
# write never happens in shared memory: it copies. A view (``y[1:3]``, ``y.T``) is therefore
# linked to the series it views (``base_``: that series and how to derive the view; the viewed
# series keeps weak references in ``views_``). A write anywhere in such a family gives the root
# fresh coefficient arrays of its own, derives every live view from them again, and then writes
# in place, so that all of them see it.

_VIEW_FUNCTIONS = frozenset(e.function for e in table.FUNCTIONS.values() if e.view)
"""NumPy functions that return a view of an argument (reshape and ravel when the value's layout
allows, as for an ndarray): the table's ``view`` entries."""

_LINEAR_FUNCTIONS = frozenset(
    e.function for e in table.FUNCTIONS.values() if e.kind in ("structural", "linear")
)
"""The functions whose handler applies NumPy to each coefficient (see ``_argument_itself``)."""


class _SeriesIndex:
    __slots__ = ("index",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def __call__(self, parent: Taylor) -> list:
        shape = parent.shape
        value = parent.coefficients[0]
        return [_broadcast(c, shape, value)[self.index] for c in parent.coefficients]


def _real_parts(parent: Taylor) -> list:
    return [c.real for c in parent.coefficients]


def _imaginary_parts(parent: Taylor) -> list:
    return [c.imag for c in parent.coefficients]


def _view_series(parent: Taylor, derive: Callable[[Taylor], list]) -> Taylor:
    result = _taylor(derive(parent), parent.order, parent.tag)
    _link_series(result, parent, derive)
    return result


def _link_function_view(
    result: Any, func: Any, handler: Callable[..., Any], args: Any, kwargs: dict
) -> None:
    """Link ``func(series, ...)`` to the series it views where NumPy's result is a view of its
    argument: each piece of a list result (``np.split``) views the first argument, except for
    functions of a sequence of arrays (``np.broadcast_arrays``, ``np.atleast_1d``), whose
    ``i``-th result views the ``i``-th argument."""
    if type(result) in (list, tuple):
        sequence = table.entry(func).operands[0].startswith("*")
        for i, piece in enumerate(result):
            j = i if sequence else 0
            parent = args[j] if j < len(args) else None
            if type(piece) is not Taylor or type(parent) is not Taylor or piece is parent:
                continue
            if not piece.shape or not _has_memory(parent):
                continue

            def derive(p: Taylor, i: int = i, j: int = j) -> list:
                again = (*args[:j], p, *args[j + 1 :])
                return handler(func, again, kwargs)[i].coefficients

            _link_series(piece, parent, derive)
        return
    parent = args[0] if args else None
    if type(result) is not Taylor or type(parent) is not Taylor or result is parent:
        return
    if not _has_memory(parent):
        return  # (a 0-d view of an array, np.squeeze of one element, is linked as well)
    if func is np.reshape or func is np.ravel:
        mine, theirs = _strip(result.coefficients[0]), _strip(parent.coefficients[0])
        if np.shape(theirs) == parent.shape and not _same_memory(mine, theirs):
            return  # NumPy copies for this layout: so the series does
    rest = tuple(args[1:])

    def derive(p: Taylor) -> list:
        return handler(func, (p,) + rest, kwargs).coefficients

    _link_series(result, parent, derive)


def _has_memory(series: Taylor) -> bool:
    """Whether NumPy's views of ``series`` would alias it: those of an array do, 0-d ones
    included (``np.where``'s result), those of a scalar (``x * 2.0`` of a 0-d array) are new
    arrays. The leading coefficient tells."""
    return bool(series.shape) or type(_strip(series.coefficients[0])) is np.ndarray


def _link_einsum_view(result: Any, handler: Callable[..., Any], args: Any, kwargs: dict) -> None:
    """``np.einsum`` of one operand that NumPy answers with a view of it (``'ij->ji'``,
    ``'ii->i'``): linked as ``np.transpose``'s or ``np.diagonal``'s result is."""
    spec, parent = args
    if type(result) is not Taylor or type(parent) is not Taylor or not parent.shape:
        return
    mine, theirs = _strip(result.coefficients[0]), _strip(parent.coefficients[0])
    if type(mine) is not np.ndarray or type(theirs) is not np.ndarray:
        return
    if not np.may_share_memory(mine, theirs):
        return

    def derive(p: Taylor) -> list:
        return handler(np.einsum, (spec, p), kwargs).coefficients

    _link_series(result, parent, derive)


def _argument_itself(result: Any, args: tuple) -> Any:
    """The argument series itself where NumPy returned its argument (``np.diff(a, n=0)``,
    ``np.broadcast_arrays(a)`` of an array of the broadcast shape): a linear function's handler
    builds a new series from what NumPy returns for each coefficient, but NumPy's result is the
    argument's own memory, so a write through it must reach the argument. NumPy's decision on
    the values tells: the leading coefficient (an ndarray) came back as the very array it was
    given. (A NumPy or Python scalar coefficient has no memory to share.)"""
    if type(result) is Taylor:
        return args[0] if _same_leading(result, args[0]) else result
    if type(result) in (list, tuple) and len(result) == len(args):
        items = [a if _same_leading(r, a) else r for r, a in zip(result, args)]
        if any(i is not r for i, r in zip(items, result)):
            return type(result)(items)
    return result


def _same_leading(result: Any, argument: Any) -> bool:
    if type(result) is not Taylor or type(argument) is not Taylor:
        return False
    leading = argument.coefficients[0]
    return type(leading) is np.ndarray and result.coefficients[0] is leading


def _same_memory(a: Any, b: Any) -> bool:
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return True  # not plain memory (a nested dual): taken as the view NumPy would give
    if (a if a.base is None else a.base) is (b if b.base is None else b.base):
        return True
    return np.may_share_memory(a, b)  # (memory an ndarray does not own: a buffer, a mmap)


def _link_series(view: Taylor, parent: Taylor, derive: Callable[[Taylor], list]) -> None:
    if getattr(parent, "readonly_", False):  # a view of a read-only array is read-only
        view.readonly_ = True
    view.base_ = (parent, derive)
    views = getattr(parent, "views_", None)
    if views is None:
        parent.views_ = views = []
    elif len(views) >= 16 and len(views) & (len(views) - 1) == 0:
        views[:] = [ref for ref in views if ref() is not None]
    views.append(weakref.ref(view))


def _in_layout_of(like: np.ndarray, c: Any) -> np.ndarray:
    out = np.empty_like(like, dtype=np.result_type(like.dtype, getattr(c, "dtype", c)))
    out[...] = c
    return out


def _family(root: Taylor) -> list[Taylor]:
    """``root`` and every live view linked to it (views of views too), parents first."""
    out, i = [root], 0
    while i < len(out):
        for ref in getattr(out[i], "views_", None) or ():
            view = ref()
            if view is not None:
                out.append(view)
        i += 1
    return out


def _write_through(target: Taylor, index: Any, item: Any) -> None:
    """``target[index] = item`` where ``target`` belongs to a family of linked views."""
    root = target
    while getattr(root, "base_", None) is not None:
        root = root.base_[0]
    if type(item) is Taylor and item.tag == target.tag:
        order, theirs = min(target.order, item.order), item.coefficients
    elif is_dual(item) and item.tag >= target.tag:
        raise errors.lost_tangent(
            f"Assigning a {errors.type_name(item)} of a newer differentiation into a Taylor series",
            "Build the array from the newer dual numbers instead (numpy.stack, or "
            "numpy.zeros_like of one of them).",
        )
    else:
        order, theirs = target.order, [item]
    shape = root.shape
    fresh: list = []
    for k in range(root.order + 1):
        if k < len(root.coefficients):
            c = _broadcast(root.coefficients[k], shape, root.coefficients[0])
            if is_dual(c):
                c = c.copy()
            elif k and type(fresh[0]) is np.ndarray:
                # in the value's memory order: what views the value views every coefficient
                c = _in_layout_of(fresh[0], c)
            else:
                c = np.array(c, order="K")
        else:
            c = np.zeros(shape, np.result_type(_strip(root.coefficients[0]), 0.0))
            if type(fresh[0]) is np.ndarray:
                c = _in_layout_of(fresh[0], c)
        v = theirs[k] if k < len(theirs) else None
        if is_dual(v) and v.tag > _tag_of(c):  # an older dual number: the root's becomes one
            c = np.zeros_like(v, shape=shape) + c
        fresh.append(c)
    root.coefficients = fresh
    family = _family(root)
    for view in family[1:]:  # parents come first: each derives from its parent's new arrays
        parent, derive = view.base_
        view.coefficients = derive(parent)
        view.order = parent.order
        for mine, theirs_ in zip(view.coefficients, parent.coefficients):
            if type(mine) is np.ndarray and not _same_memory(mine, _strip(theirs_)):
                raise TypeError(
                    "writing through this view of a Taylor series would not reach the series "
                    "it views (NumPy gave a copy for this layout); write into the original "
                    "array, or .copy() the view first"
                )
    for k, c in enumerate(target.coefficients[: order + 1]):
        v = theirs[k] if k < len(theirs) else 0.0
        if is_dual(v) and v.tag > _tag_of(c):
            raise TypeError(
                "cannot assign a dual number of an older differentiation through a view of a "
                "Taylor series; assign into the original array"
            )
        c[index] = v
    if order < root.order:  # the unknown higher coefficients of the written entries: cut all
        for member in family:
            member.order = order
            member.coefficients = member.coefficients[: order + 1]


def _broadcast(c: Any, shape: tuple[int, ...], value: Any = None) -> Any:
    """A coefficient at the series' full shape (a scalar coefficient may stand for an array), as
    a read-only view. A Python number is weak, as in NumPy: it takes the dtype of the series'
    ``value`` (its first coefficient) when given, so the seed's 1.0 in a float32 series is a
    float32 array (a float64 one made ``np.sum`` of it, and all that followed, float64)."""
    if getattr(_strip(c), "shape", ()) == shape:
        return c
    if type(c) in _PLAIN_SCALARS:  # a zero-stride view, built directly (the seed's 1.0)
        base = np.asarray(c) if value is None else np.asarray(c, np.result_type(_strip(value), c))
        view = np.ndarray(shape, base.dtype, base, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(c, shape)


def _with_list(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """``op(a, b)`` with a list or tuple operand taken as the array NumPy would make of it (as
    ``x * [1, 2]`` is for an ndarray ``x``); NotImplemented for any other operand. Without this a
    list would try to repeat itself (``[1, 2] * t`` calls ``t.__index__``)."""
    if type(a) in (list, tuple):
        return op(np.stack(a) if any(map(is_dual, a)) else np.asarray(a), b)
    if type(b) in (list, tuple):
        return op(a, np.stack(b) if any(map(is_dual, b)) else np.asarray(b))
    return NotImplemented


def _operand_type(a: Any) -> bool:
    return type(a) in SCALAR_TYPES or type(a) is np.ndarray or is_dual(a)


def _value(a: Any) -> Any:
    return a.value if is_dual(a) else a


def _strip(a: Any) -> Any:
    """The plain value under every layer of dual number."""
    while is_dual(a):
        a = a.value
    return a


def _plain(a: Any) -> Any:
    """The plain values of ``a`` at its full shape (a series' value may be a broadcast scalar)."""
    if not is_dual(a):
        return a
    value = _strip(a)
    if type(a) is Taylor and np.shape(value) != a.shape:
        value = np.broadcast_to(value, a.shape)
    return value


def _tag_of(a: Any) -> int:
    return a.tag if is_dual(a) else -1


# ---------------------------------------------------------------------------------------------
# The lift: how every rule of the table applies to Taylor series
# ---------------------------------------------------------------------------------------------


def _lift_unary(rule: Rule, t: Taylor) -> Taylor:
    u = t.coefficients
    if len(u) == 1:
        return _taylor([rule.function(u[0])], t.order, t.tag)
    if type(u[0]) is float:
        fast = _FLOAT_RULES.get(rule.name)
        if fast is not None:
            try:
                out = fast(rule, u, t.order)
            except (ArithmeticError, ValueError):
                pass  # the general path below redoes it (NumPy's inf/nan, or its error)
            else:
                return _taylor(_keep_constant((u,), out) if rule.safe else out, t.order, t.tag)
    fn = TAYLOR_RULES.get(rule.name)
    if fn is None:
        return _taylor(_apply_fallback(rule, (u,), t.order), t.order, t.tag)
    out = _evaluate(fn, rule, (u,), t.order)
    return _taylor(_keep_constant((u,), out) if rule.safe else out, t.order, t.tag)


def _lift_binary(rule: Rule, a: Any, b: Any) -> Any:
    """``rule(a, b)`` where one argument is a Taylor series; the newest tag is the outer layer."""
    if is_object_array(a) or is_object_array(b):  # an object array of series: lifted first
        return rule.function(lift_operand(a), lift_operand(b))
    if type(a) in (list, tuple) or type(b) in (list, tuple):  # the arrays they stand for
        return rule.function(*(np.asarray(i) if type(i) in (list, tuple) else i
                               for i in lift_inputs((a, b))))  # fmt: skip
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
    du, dv = getattr(u[0], "dtype", None), getattr(v[0], "dtype", None)
    if du is not None and dv is not None and du != dv and not (is_dual(u[0]) or is_dual(v[0])):
        # a float32 series with a float64 constant (or the other way): NumPy computes in the
        # promoted dtype, so must every coefficient's recurrence and partial; an operand that
        # NumPy's loop takes as an integer (ldexp's exponent) stays one (in_dtype leaves it)
        dx, dy = _loop_dtypes(rule, du, dv)
        u, v = [in_dtype(c, dx) for c in u], [in_dtype(c, dy) for c in v]
    return _taylor(_apply(rule, (u, v), n), n, tag)


def _loop_dtypes(rule: Rule, du: Any, dv: Any) -> tuple[Any, Any]:
    """The dtypes NumPy's loop for ``rule`` takes its two operands in (``ldexp(float32,
    int64)`` runs as float32 and int64), or the promoted dtype for both without a ufunc."""
    if rule.ufunc is not None:
        try:
            dx, dy, _ = rule.ufunc.resolve_dtypes((du, dv, None))
            return dx, dy
        except (TypeError, ValueError):  # no loop for these dtypes: NumPy's own error follows
            pass
    dtype = np.result_type(du, dv)
    return dtype, dtype


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
    if np.shape(y if tx is not None else x):
        # an array series meets a scalar Dual (x[0] of jacobian's seeded array, whose tangent
        # holds k directions): the product rule p * t would pair the series' elements with the
        # directions, so the result is a DualArray, as a Dual with a plain array gives
        return _dual_array_binary(rule, a, b)
    ans = rule.function(x, y)
    return _make(ans, rule.tangent2(x, y, tx, ty, ans), tag)


register_lift(Taylor, 3, _lift_unary, _lift_binary)
add_element_methods(Taylor)  # np.sin(a) of an object array of series calls e.sin()

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
TANH = RULES["tanh"].function
TANH_PARTIAL = RULES["tanh"].partials[0]
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
# NumPy functions on Taylor series (``__array_function__``), derived from the function table's
# kind (``derived_handler``) unless Taylor mode has a handler of its own (``_FUNCTIONS``):
#
# * structural and linear (sum, reshape, concatenate, take, where, pad, fft ...): applied to
#   each coefficient; constant arguments enter coefficient 0 only (zeros after it). The table's
#   view entries are linked to the series they view (``_link_function_view``).
# * multilinear (matmul, dot, einsum, kron, cross, ...): the Cauchy product of the operands,
#   ``y_k = Σ_{i+j=k} f(A_i, B_j)``; constant operands stay as they are in every term.
# * functions of the values (argmax, shape, ...): applied to the plain values.
# * compositions (clip, sort, interp, nanmax ...): their body in ``dualdiff.rules.compositions``.
# * special, Taylor's own: products (prod, cumprod) and linear algebra (series recurrences);
#   where Taylor has none, DualArray's first-order rule nested once per order
#   (``_nested_fallback``: qr, lstsq, pinv, eig, svd's vectors); the others are refused naming
#   the carriers that have them.
# * overrides of the kind: pad (its linear computing modes too), trapezoid (series sample
#   points), max/min/var/std (compositions without a body yet), round, the *_like constructors.
# ---------------------------------------------------------------------------------------------

_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""Taylor mode's own handlers (overrides of the table's kind, and the special functions it has
code for), called as ``handler(func, args, kwargs)``."""

_DERIVED: dict[Callable[..., Any], Callable[..., Any]] = {}
"""The handlers derived from the function table (``derived_handler``), built on first use."""


def _handler(func: Any) -> Callable[..., Any] | None:
    """Taylor mode's handler of ``func``: its own, else the one the table's kind gives."""
    handler = _FUNCTIONS.get(func) or _DERIVED.get(func)
    if handler is None:
        entry = table.entry(func)
        if entry is not None:
            handler = _DERIVED[func] = derived_handler(entry)
    return handler


_NO_VALUE: Any = np._NoValue


def _leader(args: Any, kwargs: dict) -> Any:
    """The dual number with the newest tag among the arguments (and the items of list or tuple
    arguments); a Taylor series wins a tie. None when there is none."""
    best = None
    for a in (*args, *kwargs.values()):
        for item in a if type(a) in (list, tuple) else (a,):
            if type(item) in (list, tuple):  # nested lists (np.block)
                item = _leader(item, {})
            if is_dual(item) and (
                best is None
                or item.tag > best.tag
                or (item.tag == best.tag and type(item) is Taylor)
            ):
                best = item
    return best


@functools.cache
def _option_positions(func: Any) -> tuple[tuple[str, int], ...]:
    """Where ``out=`` and ``dtype=`` sit among ``func``'s parameters (a keyword-only one at a
    position no call reaches)."""
    found = []
    for i, parameter in enumerate(errors.signature(func).parameters.values()):
        if parameter.name in ("out", "dtype"):
            positional = parameter.kind in (
                parameter.POSITIONAL_ONLY,
                parameter.POSITIONAL_OR_KEYWORD,
            )
            found.append((parameter.name, i if positional else sys.maxsize))
    return tuple(found)


class _Call:
    """One NumPy call taken apart for a series rule: ``parts`` (a ``calls.Call``: where the
    entry's operands sit, value arguments made plain, dual numbers elsewhere refused), the
    coefficients of the operands that belong to the newest perturbation (``series``, None for a
    constant), their tag and order (None when the series were in value arguments only), and
    ``call(operands)`` to repeat the call with other operands."""

    __slots__ = ("parts", "func", "operands", "series", "tag", "order")

    def __init__(self, entry: Entry, args: Any, kwargs: dict) -> None:
        parts = self.parts = Call(entry, args, kwargs, _plain, is_dual)
        func = self.func = entry.function
        for name, position in _option_positions(func):  # by keyword or by position
            option = args[position] if position < len(args) else kwargs.get(name)
            if option is not None:
                _check_plain_options(function_name(func), **{name: option})
        if "out" in kwargs or "dtype" in kwargs:  # through **kwargs (einsum)
            _check_plain_options(function_name(func), kwargs.get("out"), kwargs.get("dtype"))
        operands = self.operands = parts.operands
        self.series: list[list | None] = [None] * len(operands)
        self.tag = self.order = None
        leader = _leader(operands, {})
        if type(leader) is not Taylor:  # the series were in value arguments only
            return
        tag = self.tag = leader.tag
        n = _MAX_ORDER
        for a in operands:
            if is_dual(a) and a.tag == tag:
                if type(a) is not Taylor:
                    raise TypeError(
                        f"{function_name(func)}: a Taylor series and a {errors.type_name(a)} share "
                        f"the tag {tag}, so neither can be treated as a constant of the other; "
                        "build them with different tags"
                    )
                n = min(n, a.order)
        self.order = n
        for i, a in enumerate(operands):
            if type(a) is Taylor and a.tag == tag:
                shape = a.shape
                value = a.coefficients[0]
                self.series[i] = [_broadcast(c, shape, value) for c in a.coefficients[: n + 1]]

    def lists(self) -> list[list]:
        """Every operand as a coefficient list (a constant is a list of length 1)."""
        return [[a] if s is None else s for a, s in zip(self.operands, self.series)]

    def call(self, operands: list) -> Any:
        """``func`` with the operands replaced, the other arguments as given."""
        args, kwargs = self.parts.arguments(operands)
        return self.func(*args, **kwargs)

    def plain(self) -> Any:
        """The call itself, on plain values (no operand is a series of the newest tag)."""
        return self.func(*self.parts.args, **self.parts.kwargs)

    def result(self, coefficients: list) -> Any:
        """The series of the results (a list or tuple of them when ``func`` returns several)."""
        first = coefficients[0]
        if type(first) in (list, tuple):
            return type(first)(
                _taylor([c[i] for c in coefficients], self.order, self.tag)
                for i in range(len(first))
            )
        return _taylor(coefficients, self.order, self.tag)


def _zeros_of(a: Any) -> Any:
    """Zeros of the shape of ``a`` (a constant's coefficients past the first)."""
    if type(a) in (int, float, complex):  # weak in NumPy: np.where(c, x32, 0.0) is float32
        return 0j if type(a) is complex else 0.0
    value = np.asarray(_plain(a))
    return np.zeros(value.shape, np.result_type(value.dtype, 0.0))


def _compositions(k: int, limits: list[int]) -> Any:
    """The tuples ``(j_1, ..., j_m)`` with ``Σ j_i = k`` and ``0 <= j_i < limits[i]``."""
    if len(limits) == 1:
        if k < limits[0]:
            yield (k,)
        return
    for j in range(min(k, limits[0] - 1) + 1):
        for rest in _compositions(k - j, limits[1:]):
            yield (j, *rest)


def _linear_kind(call: _Call) -> Any:
    """``y_k = f(A_k, B_k, ...)``: constants enter ``y_0`` only (``f(A_k, 0)`` after it)."""
    length = max(len(s) for s in call.series if s is not None)
    out = []
    for k in range(length):
        operands = []
        for a, s in zip(call.operands, call.series):
            if s is None:
                operands.append(a if k == 0 else _zeros_of(a))
            else:
                operands.append(s[k] if k < len(s) else _zero_like(s[0]))
        out.append(call.call(operands))
    if call.func is np.mean and len(out) <= call.order:
        out = _undefined_beyond(out, call.order)
    return call.result(out)


def _undefined_beyond(out: list, order: int) -> list:
    """The mean of nothing (NaN at every order up to ``order``): where every coefficient
    computed is NaN, the orders beyond them are not 0 (a series shorter than ``order`` stands
    for zeros after it) but NaN, as numeric differences and nested duals give it. (A mean of
    NaN values is NaN at order 0 only: ``x + nan`` carries ``dx``.)"""
    undefined = np.isnan(out[0])
    for c in out[1:]:
        undefined = undefined & np.isnan(c)
    if not np.any(undefined):
        return out
    nan = np.where(undefined, np.nan, 0.0).astype(_value_dtype(out[0]), copy=False)
    return out + [nan] * (order + 1 - len(out))


def _multilinear_kind(call: _Call) -> Any:
    """The Cauchy product ``y_k = Σ_{j_1+...+j_m=k} f(A_{j_1}, ..., M_{j_m})`` over the series
    operands; constant operands are passed unchanged to every term."""
    active = [i for i, s in enumerate(call.series) if s is not None]
    limits = [len(call.series[i]) for i in active]
    operands = list(call.operands)
    out = []
    for k in range(min(call.order, sum(limits) - len(limits)) + 1):
        total = None
        for js in _compositions(k, limits):
            for i, j in zip(active, js):
                operands[i] = call.series[i][j]
            term = call.call(operands)
            total = term if total is None else total + term
        out.append(total)
    return call.result(out)


def _series_kind(entry: Entry, apply: Callable[[_Call], Any]) -> Callable:
    """A handler that takes a call apart by ``entry`` and hands it to ``apply`` (refusing calls
    the entry's guard says are not of its kind)."""

    def handler(func: Any, args: Any, kwargs: dict) -> Any:
        call = _Call(entry, args, kwargs)
        if entry.guard is not None:
            reason = entry.guard(call.parts.option)
            if reason is not None:
                raise errors.no_rule(f"{reason} (on a Taylor series)")
        if call.tag is None:
            return call.plain()
        return apply(call)

    return handler


def _on_values(func: Any, args: Any, kwargs: dict) -> Any:
    """A function of the values only (indices, shapes, tests): no coefficients flow through."""
    args = [[_plain(i) for i in a] if type(a) in (list, tuple) else _plain(a) for a in args]
    return func(*args, **{key: _plain(v) for key, v in kwargs.items()})


def _refuse(entry: Entry, why: str, func: Any, args: Any, kwargs: dict) -> Any:
    raise errors.no_rule(f"numpy.{entry.name} on a Taylor series", why)


def _composition(body: Callable[..., Any]) -> Callable:
    """A composition's body on series; a part Taylor mode lacks is refused naming the function
    the user called (``dualdiff.rules.compositions.call_body``)."""

    def run(func: Any, args: Any, kwargs: dict) -> Any:
        what = f"{function_name(func)} on a Taylor series"
        result = call_body(func, args, kwargs, lambda why: errors.no_rule(what, why))
        if func in _STATISTICS and type(result) is Taylor:
            series = result.coefficients
            if len(series) <= result.order:
                return _taylor(_undefined_beyond(series, result.order), result.order, result.tag)
        return result

    return run


# the statistics that are NaN of nothing (a NaN derivative at every order: _undefined_beyond)
_STATISTICS = frozenset((np.var, np.std, np.nanvar, np.nanstd, np.nanmean, np.average))


def derived_handler(entry: Entry) -> Callable[..., Any]:
    """Taylor mode's handler of ``entry``'s function, derived from its kind in the function table:
    structural and linear functions apply to each coefficient, multilinear ones take the Cauchy
    product, functions of the values see plain values, compositions run their body on series,
    a special function without Taylor code of its own runs DualArray's rule nested once per
    order (``_nested_fallback``, when DualArray has one), and the others are refused naming the
    carriers that have them."""
    kind = entry.kind
    if kind in ("structural", "linear"):
        return _series_kind(entry, _linear_kind)
    if kind == "construction":
        return _construction(entry)
    if kind == "multilinear":
        return _series_kind(entry, _multilinear_kind)
    if kind == "value":
        return _on_values
    if kind == "composition":
        body = COMPOSITIONS.get(entry.function)
        if body is not None:
            return _composition(body)
        why = "it is declared a composition, and dualdiff.compositions has no body for it yet"
    else:
        if entry.function in _DUAL_ARRAY_FUNCTIONS:  # DualArray's rule, nested per order
            return functools.partial(_nested_fallback, entry)
        have = ", ".join(sorted(entry.carriers)) or "none"
        why = f"it needs a rule of its own, and the carriers with one are: {have}"
    return functools.partial(_refuse, entry, why)


# ---------------------------------------------------------------------------------------------
# The fallback for special functions: DualArray's first-order rule, nested once per order
# ---------------------------------------------------------------------------------------------

FALLBACK_MAX_ORDER = 6
"""The highest series order of the nested-dual fallback (``_nested_fallback``). Each order adds
a dual layer: ``2**order`` arrays per value, and a product of two such values costs ``3**order``
products of arrays. Measured (qr, svd, pinv of a 4x3 matrix, eig of 3x3): about 0.2-0.4 ms at
order 1, 1-3 ms at 2, 10-40 ms at 4 and 150-230 ms at 6, against 0.1-0.2 ms for DualArray's jvp;
order 7 would take most of a second."""


def _nested_parameter(order: int, dtype: Any = None) -> tuple[Any, list[int]]:
    """``t = ε₁ + ... + ε_order`` with nilpotent ``εⱼ`` (one dual layer of a fresh tag each, the
    newest outermost), and those tags, innermost first. ``dtype`` (a real float dtype) types its
    numbers: a float32 matrix times a Dual nested twice of Python floats comes out float64."""
    tags = [new_tag() for _ in range(order)]
    zero, one = (0.0, 1.0) if dtype is None else (dtype.type(0), dtype.type(1))
    t: Any = zero
    for tag in tags:
        t = Dual(t, one, tag)
    return t, tags


def _mixed_part(y: Any, tags: list[int], k: int) -> Any:
    """The part of ``y`` in ``ε₁⋯ε_k`` (the layers ``tags[:k]`` take their tangent, the others
    their value); zeros where ``y`` does not depend on one of ``ε₁..ε_k``."""
    for j in range(len(tags) - 1, -1, -1):
        if is_dual(y) and y.tag == tags[j]:
            y = y.tangent if j < k else y.value
        elif j < k:
            return _zero_like(y)
    return y


def _depends_on(y: Any, tags: list[int]) -> bool:
    return is_dual(y) and y.tag in tags


def _nested_fallback(entry: Entry, func: Any, args: Any, kwargs: dict) -> Any:
    """A special function Taylor mode has no series rule for, by DualArray's first-order rule.

    With ``a(t) = Σ a_k t^k`` for each series operand and ``t = ε₁ + ... + ε_n`` (``n`` the
    order; ``εⱼ² = 0``, one nested dual layer each), ``t^k = k! Σ_{|S|=k} Π_{j∈S} εⱼ``, so the
    part of ``f(a(t))`` in ``ε₁⋯ε_k`` is ``dᵏ/dtᵏ f(a(t))`` at ``t = 0``: ``k!`` times Taylor
    coefficient ``k``. DualArray's rule differentiates through every layer. Cost: up to
    ``3**n`` times an evaluation (see ``FALLBACK_MAX_ORDER``), so orders above it are refused;
    the series rules of Taylor mode cost ``O(n²)``. Coefficient 0 is DualArray's value, NumPy's own.
    Coefficients that are duals of an outer differentiation nest as they would in DualArray's
    rule: the fallback's layers have the newest tags, so they are unwrapped first.
    """
    leader = _leader(args, kwargs)
    tag, n = leader.tag, leader.order
    name = f"numpy.{entry.name}"
    dtype: Any = None  # the narrowest real dtype of the series' values

    def series_of(a: Any) -> Any:
        nonlocal n, dtype
        if type(a) in (list, tuple):
            return type(a)(series_of(item) for item in a)
        if is_dual(a) and a.tag == tag:
            if type(a) is not Taylor:
                raise TypeError(
                    f"{name}: a Taylor series and a {errors.type_name(a)} share the tag {tag}; "
                    "build them with different tags"
                )
            n = min(n, a.order)
            real = np.finfo(np.result_type(_strip(a.coefficients[0]), 0.0)).dtype
            if dtype is None or real.itemsize < dtype.itemsize:
                dtype = real
        return a

    args = series_of(tuple(args))
    kwargs = {key: series_of(v) for key, v in kwargs.items()}
    if n > FALLBACK_MAX_ORDER:
        raise errors.no_rule(
            f"{name} on a Taylor series of order {n}",
            "Taylor mode has no series rule for it, and its fallback (DualArray's rule nested "
            f"once per order, cost about 3**order) stops at order {FALLBACK_MAX_ORDER}; use a "
            "lower order, or nest first-order dualdiff.derivative calls",
        )
    t, tags = _nested_parameter(n, dtype)
    powers = [1.0, t]
    for _ in range(2, n + 1):
        powers.append(powers[-1] * t)

    def nested(a: Any) -> Any:
        if type(a) in (list, tuple):
            return type(a)(nested(item) for item in a)
        if type(a) is not Taylor or a.tag != tag:
            return a
        coefficients = a.coefficients[: n + 1]
        shape = a.shape
        out: Any = _broadcast(coefficients[0], shape)
        for k in range(1, len(coefficients)):
            out = out + _broadcast(coefficients[k], shape, coefficients[0]) * powers[k]
        return out

    y = func(*nested(args), **{key: nested(v) for key, v in kwargs.items()})

    def series(leaf: Any) -> Any:
        if not _depends_on(leaf, tags):  # an integer rank, an empty residual: NumPy's own
            return leaf
        c0 = _mixed_part(leaf, tags, 0)
        coefficients = [c0]
        for k in range(1, n + 1):
            c = _mixed_part(leaf, tags, k)
            coefficients.append(_like_value(c, c0) / _FACTORIALS[k])
        return _taylor(coefficients, n, tag)

    return _leaves(y, series)


def _construction(entry: Entry) -> Callable[..., Any]:
    """A constructor given a series (``np.zeros_like(x)``, ``np.full(n, v)`` with a series
    ``v``): linear in a series fill value, else NumPy's array as a constant series of the
    newest series' tag and order (to be filled by item assignment). A prototype array is read
    for its shape and dtype only."""
    parameters = list(errors.signature(entry.function).parameters)
    if entry.name.endswith("_like"):
        entry = dataclasses.replace(entry, values=(*entry.values, parameters[0]))
    linear = _series_kind(entry, _linear_kind)

    def handler(func: Any, args: Any, kwargs: dict) -> Any:
        result = linear(func, args, kwargs)
        if type(result) is Taylor:
            return result
        like = _leader(args, kwargs)
        if result.dtype.kind not in "fc":  # a series never fits an integer array
            _check_plain_options(function_name(func), dtype=result.dtype)
        return _taylor([result], like.order, like.tag)

    return handler


def _construct(func: Any, like: Taylor, args: Any, kwargs: dict) -> Taylor:
    """``np.zeros(n, like=x)`` and its kin for a series ``x`` (NumPy does not pass ``like`` on):
    NumPy's array as a constant series of ``x``'s tag and order, to be filled by item
    assignment."""
    _check_plain_options(function_name(func), **{"dtype": kwargs.get("dtype")})
    value = func(*args, **kwargs)
    if value.dtype.kind not in "fc":  # by position: a series never fits an integer array
        _check_plain_options(function_name(func), dtype=value.dtype)
    return _taylor([value], like.order, like.tag)


def _implements(*funcs: Any) -> Callable[[Callable], Callable]:
    """Register the decorated function, called with the NumPy call's arguments, as Taylor mode's
    own handler of ``funcs`` (one the table's kind does not give, or a faster one)."""

    def register(impl: Callable) -> Callable:
        for func in funcs:
            _FUNCTIONS[func] = lambda func, args, kwargs: impl(*args, **kwargs)
        return impl

    return register


@_implements(np.copyto)
def _copyto(dst: Any, src: Any, casting: str = "same_kind", where: Any = True) -> None:
    """``dst[...] = src`` in place (through a view it reaches the series viewed)."""
    if where is not True:
        src = np.where(_plain(where), src, dst.copy() if is_dual(dst) else np.array(dst))
    if type(dst) is np.ndarray and is_dual(src):
        raise errors.lost_tangent(
            "numpy.copyto of a Taylor series into a plain array",
            "Copy into a series (np.zeros_like(x) of a series is one).",
        )
    dst[...] = src


@_implements(np.put)
def _put(a: Any, ind: Any, v: Any, mode: Any = "raise") -> None:
    """``a.flat[ind] = v`` in place, with NumPy's index modes (``v`` repeated to fit ``ind``)."""
    if type(a) is not Taylor:
        raise errors.lost_tangent(
            "numpy.put of a Taylor series into a plain array",
            "Put into a series (np.zeros_like(x) of a series is one).",
        )
    size = math.prod(a.shape)
    index = np.ravel(np.asarray(_plain(ind)))
    if index.dtype.kind not in "iu":
        index = index.astype(np.intp, casting="safe")  # (an empty list; NumPy refuses floats too)
    if mode == "wrap" and size:
        index = index % size
    elif mode == "clip" and size:
        index = np.clip(index, 0, size - 1)
    elif mode in ("raise", "wrap", "clip"):
        if index.size and (index.max() >= size or index.min() < -size):
            raise IndexError(f"index {index.max()} is out of bounds for size {size}")
    else:
        raise ValueError(f"numpy.put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if not index.size:
        return
    if type(v) in (list, tuple) and any(map(is_dual, v)):
        v = np.stack(v)  # a list holding series, as eager mode takes it (not an object array)
    values = np.reshape(v, -1) if is_dual(v) else np.ravel(np.asarray(v))
    if values.shape[0] == 0:
        return
    values = values[np.arange(index.size) % values.shape[0]]
    a[np.unravel_index(index % size, a.shape)] = values


# -- structural and linear: NumPy on each coefficient ---------------------------------------------

_PAD_MODES = (*STRUCTURAL_PAD_MODES, "linear_ramp", "mean")
"""``np.pad``'s modes linear in the array (``linear_ramp`` and ``mean`` compute, but linearly)."""
_pad_linear = _series_kind(
    dataclasses.replace(
        table.entry(np.pad), operands=("array", "constant_values", "end_values"), guard=None
    ),
    _linear_kind,
)


@_implements(np.pad)
def _pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """Padding is linear in the array (and in the padded constants) for these modes: the
    table's structural ones and two that compute linearly."""
    if callable(mode) or mode not in _PAD_MODES:
        raise errors.no_rule(
            f"numpy.pad(mode={mode!r}) on a Taylor series",
            "supported modes: " + ", ".join(_PAD_MODES),
        )
    return _pad_linear(np.pad, (array, pad_width, mode), kwargs)


_trapezoid_linear = derived_handler(table.entry(np.trapezoid))


@_implements(np.trapezoid)
def _trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: Any = -1) -> Any:
    """Linear in ``y`` (the table's kind) for constant sample points; with series sample points
    (``x`` or ``dx``) NumPy's own formula ``Σ d·(y[1:] + y[:-1]) / 2`` in series arithmetic,
    bilinear in ``d`` and ``y``."""
    if not is_dual(x) and not is_dual(dx):
        return _trapezoid_linear(np.trapezoid, (y, x, dx, axis), {})
    if not is_dual(y):
        y = np.asarray(y)
    if x is None:
        d = dx
    else:
        if not is_dual(x):
            x = np.asarray(x)
        if x.ndim == 1:
            d = np.diff(x)
            shape = [1] * y.ndim
            shape[axis] = d.shape[0]
            d = np.reshape(d, shape)
        else:
            d = np.diff(x, axis=axis)
    upper = [slice(None)] * y.ndim
    lower = [slice(None)] * y.ndim
    upper[axis], lower[axis] = slice(1, None), slice(None, -1)
    return np.sum(d * (y[tuple(upper)] + y[tuple(lower)]) / 2.0, axis=axis)


# -- multilinear ----------------------------------------------------------------------------------


_MULTILINEAR_UFUNCS = {
    ufunc: table.entry(ufunc) or Entry(name, ufunc, "multilinear", operands=("x1", "x2"))
    for name in ("matmul", "vecdot", "matvec", "vecmat")
    if isinstance(ufunc := getattr(np, name, None), np.ufunc)
}
"""The products that NumPy implements as ufuncs (``__array_ufunc__`` hands them over)."""


# -- products ----------------------------------------------------------------------------------


def _in_dtype(a: Any, dtype: Any) -> Any:
    """Series ``a`` in a reduction's ``dtype=`` (NumPy casts the entries and accumulates in it)."""
    if dtype is None or type(a) is not Taylor or np.dtype(dtype) == a.dtype:
        return a
    return a.astype(dtype)


def _value_dtype(c: Any) -> Any:
    """The float or complex dtype of coefficient ``c`` (a float32 series stays float32)."""
    return np.result_type(_strip(c), 0.0)


def _own_series(a: Any) -> tuple[list, int, int]:
    """The coefficients of the series ``a`` at its full shape, its order and its tag."""
    shape = a.shape
    return [_broadcast(c, shape, a.coefficients[0]) for c in a.coefficients], a.order, a.tag


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None for all) as a tuple of non-negative axes."""
    return np.lib.array_utils.normalize_axis_tuple(
        tuple(range(ndim)) if axis is None else axis, ndim
    )


def _axes_last(coefficients: list, axis: Any, ndim: int) -> tuple[list, tuple[int, ...]]:
    """The coefficients with the ``axis`` axes moved to the end and merged into one."""
    axes = _axes(axis, ndim)
    moved = [np.moveaxis(c, axes, tuple(range(ndim - len(axes), ndim))) for c in coefficients]
    rest = np.shape(_strip(moved[0]))[: ndim - len(axes)]
    return [np.reshape(c, (*rest, -1)) for c in moved], axes


def _check_plain_options(name: str, out: Any = None, dtype: Any = None, **options: Any) -> None:
    """TypeError for ``out=``, an integer ``dtype`` and options these rules do not implement."""
    if out is not None:
        raise errors.lost_tangent(
            f"{name}(..., out=...) on a Taylor series",
            "Pass a Taylor series as out (np.zeros_like(x) makes one), or drop out=.",
        )
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(f"{name}(..., dtype={dtype}) would drop the Taylor coefficients")
    for option, value in options.items():
        if value is not _NO_VALUE and value is not None:
            raise TypeError(f"{name} on a Taylor series does not support {option}=")


@_implements(np.prod)
def _prod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = False,
    initial: Any = _NO_VALUE,
    where: Any = _NO_VALUE,
) -> Any:
    """Pairwise series products down the axis: O(order² log m), exact at zeros (no division)."""
    _check_plain_options("numpy.prod", out, dtype)
    a = kept_only(_in_dtype(a, dtype), where, 1)
    coefficients, n, tag = _own_series(a)
    u, axes = _axes_last(coefficients, axis, a.ndim)
    while np.shape(_strip(u[0]))[-1] > 1:
        m = np.shape(_strip(u[0]))[-1]
        if m % 2:  # one more factor: the constant series 1
            one = np.ones(np.shape(_strip(u[0]))[:-1] + (1,), _value_dtype(u[0]))
            u = [
                np.concatenate([c, one if k == 0 else 0.0 * one], axis=-1) for k, c in enumerate(u)
            ]
            m += 1
        u = _mul([c[..., : m // 2] for c in u], [c[..., m // 2 :] for c in u], n)
    if np.shape(_strip(u[0]))[-1] == 0:  # the empty product
        u = [np.ones(np.shape(_strip(u[0]))[:-1], _value_dtype(u[0]))]
    else:
        u = [c[..., 0] for c in u]
    if keepdims:
        kept = tuple(1 if i in axes else s for i, s in enumerate(a.shape))
        u = [np.reshape(c, kept) for c in u]
    result = _taylor(u, n, tag)
    if initial is not _NO_VALUE:
        result = result * initial
    if is_dual(initial):
        return result
    # the value as NumPy computes it (the pairwise products may differ in the last bit)
    options = {} if initial is _NO_VALUE else {"initial": initial}
    value = np.prod(coefficients[0], axis=axis, keepdims=bool(keepdims), **options)
    return _taylor([value, *result.coefficients[1:]], n, tag)


@_implements(np.cumprod)
def _cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Prefix products by doubling (``y_i ← y_i·y_{i-s}`` for ``s = 1, 2, 4, ...``): series
    products only, exact at zeros."""
    _check_plain_options("numpy.cumprod", out, dtype)
    a = _in_dtype(a, dtype)
    if axis is None:
        a, axis = np.ravel(a), 0
    coefficients, n, tag = _own_series(a)
    axis = np.lib.array_utils.normalize_axis_index(axis, a.ndim)
    y = [np.moveaxis(c, axis, -1) for c in coefficients]
    m, s = np.shape(_strip(y[0]))[-1], 1
    while s < m:
        head = [c[..., :s] for c in y]
        tail = _mul([c[..., s:] for c in y], [c[..., :-s] for c in y], n)
        y = [
            np.concatenate([head[k] if k < len(head) else _zero_like(head[0]), c], axis=-1)
            for k, c in enumerate(tail)
        ]
        s *= 2
    value = np.cumprod(coefficients[0], axis=axis)  # NumPy's own (its order of products)
    return _taylor([value] + [np.moveaxis(c, -1, axis) for c in y[1:]], n, tag)


# -- selections --------------------------------------------------------------------------------


@_implements(np.round, np.around)
def _round(a: Any, decimals: Any = 0, out: Any = None) -> Any:
    """Piecewise constant: the rounded value, with zero coefficients after it."""
    _check_plain_options("numpy.round", out)
    return _taylor([np.round(_broadcast(a.value, a.shape), decimals)], a.order, a.tag)


# -- linear algebra ----------------------------------------------------------------------------


def _product_coefficient_op(a: list, b: list, k: int, op: Callable) -> Any:
    """Coefficient ``k`` of the Cauchy product of ``a`` and ``b`` under the product ``op``."""
    lo = max(0, k - len(b) + 1)
    return functools.reduce(
        lambda s, t: s + t, (op(a[i], b[k - i]) for i in range(lo, min(k, len(a) - 1) + 1))
    )


def _inverse_series(a: list, n: int) -> list:
    """``W = A⁻¹`` from ``A·W = I``: ``W_0 = A_0⁻¹``, ``W_k = -W_0 Σ_{j=1..k} A_j W_{k-j}``."""
    w0 = np.linalg.inv(a[0])
    w = [w0]
    if len(a) == 1:
        return w
    for k in range(1, n + 1):
        s = _product_coefficient_op(a[1:], w, k - 1, np.matmul)
        w.append(-np.matmul(w0, s))
    return w


def _inv(call: _Call) -> Taylor:
    (a,) = call.lists()
    return _taylor(_inverse_series(a, call.order), call.order, call.tag)


def _solve(call: _Call) -> Taylor:
    """``A X = B`` order by order: ``A_0 X_k = B_k - Σ_{j=1..k} A_j X_{k-j}``."""
    a, b = call.lists()
    n = call.order
    vector = np.ndim(_plain(b[0])) == 1  # NumPy: only a 1-d b is a vector

    def product(m: Any, x: Any) -> Any:
        return np.matmul(m, x[..., None])[..., 0] if vector else np.matmul(m, x)

    x: list = []
    for k in range(n + 1 if len(a) > 1 else len(b)):
        rhs = b[k] if k < len(b) else _zero_like(b[0])
        if k and len(a) > 1:
            rhs = rhs - _product_coefficient_op(a[1:], x, k - 1, product)
        # a vector b stays a vector at every order: A_j X_{k-j} of a stack A is a stack of vectors,
        # which np.linalg.solve would read as one matrix (rows = the stack)
        x.append(
            np.linalg.solve(a[0], rhs[..., None])[..., 0] if vector else np.linalg.solve(a[0], rhs)
        )
    return _taylor(x, n, call.tag)


def _log_det_derivative(a: list, n: int, name: str) -> list:
    """The coefficients ``g_0 .. g_{n-1}`` of ``(log det A)' = tr(A⁻¹ A')`` (Jacobi's formula):
    needs ``A_0`` invertible."""
    try:
        w = _inverse_series(a[:n], n - 1)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            f"{name} of a Taylor series needs a matrix that is invertible at t = 0 (its value); "
            "this one is singular"
        ) from exc
    da = _deriv(a)
    return [
        np.trace(_product_coefficient_op(w, da, k, np.matmul), axis1=-2, axis2=-1) for k in range(n)
    ]


_DET_COND = 1e8
"""Above this condition number of ``A_0``, det's series comes from the nested first-order rule
(DualArray's rule switches to the adjugate at the same threshold)."""


def _det(call: _Call) -> Taylor:
    """``y = det A`` from ``y' = y·tr(A⁻¹A')`` (Jacobi's formula): needs ``A_0`` invertible."""
    (a,) = call.lists()
    n = call.order
    y0 = np.linalg.det(a[0])
    if len(a) == 1 or n == 0:
        return _taylor([y0], n, call.tag)
    # Jacobi's formula divides by det A_0 in effect: at a (nearly) singular A_0 its terms cancel
    # catastrophically (a rank-2 3x3 member gave 20 for a second derivative of 11.3); there the
    # series comes from DualArray's first-order rule, which uses the adjugate, nested
    if np.size(a[0]) and np.any(np.linalg.cond(a[0]) > _DET_COND):  # (0x0: det is 1)
        parts = call.parts
        return _nested_fallback(table.entry(np.linalg.det), np.linalg.det, parts.args, parts.kwargs)
    g = _log_det_derivative(a, n, "numpy.linalg.det")
    return _taylor(_exp_series(y0, g, n), n, call.tag)


_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))
_EighResult = type(np.linalg.eigh(np.eye(1)))


def _slogdet(call: _Call) -> Any:
    """``log|det A|' = Re tr(A⁻¹A')``, integrated; the sign of a real determinant is constant,
    a complex one turns as ``sign' = sign·i Im tr(A⁻¹A')``. Needs ``A_0`` invertible."""
    (a,) = call.lists()
    n, tag = call.order, call.tag
    sign, logabsdet = np.linalg.slogdet(a[0])
    if len(a) == 1 or n == 0:
        return _SlogdetResult(_taylor([sign], n, tag), _taylor([logabsdet], n, tag))
    g = _log_det_derivative(a, n, "numpy.linalg.slogdet")
    if _is_complex_series(a):
        sign_series = _exp_series(sign, [1j * np.imag(c) for c in g], n)
        g = [np.real(c) for c in g]
    else:
        sign_series = [sign]
    return _SlogdetResult(
        _taylor(sign_series, n, tag), _taylor(_integrate(logabsdet, g, n), n, tag)
    )


def _conjugate_transpose(c: Any, complex_values: bool) -> Any:
    c = np.swapaxes(c, -1, -2)
    return np.conjugate(c) if complex_values else c


def _eye(like: Any) -> np.ndarray:
    """The identity of ``like``'s last axis in the real dtype of its values: a float64 identity
    would turn a float32 matrix's series float64, which NumPy keeps float32."""
    plain = _strip(like)
    return np.eye(np.shape(plain)[-1], dtype=np.finfo(np.result_type(plain, 0.0)).dtype)


def _hermitian_part(c: Any, lower: bool, complex_values: bool) -> Any:
    """The Hermitian matrix LAPACK reads from one triangle of ``c`` (the real part of its
    diagonal), as ``eigh`` and ``cholesky`` do."""
    strict = np.tril(c, -1) if lower else np.triu(c, 1)
    diagonal = np.diagonal(c, axis1=-2, axis2=-1)
    if complex_values:
        diagonal = np.real(diagonal)
    eye = _eye(c)
    return strict + _conjugate_transpose(strict, complex_values) + diagonal[..., None] * eye


def _cholesky(call: _Call) -> Taylor:
    """``A = L Lᴴ`` order by order: ``L_0 L_kᴴ + L_k L_0ᴴ = C_k = A_k - Σ_{j=1..k-1} L_j L_{k-j}ᴴ``,
    so ``L_k = L_0 Φ(L_0⁻¹ C_k L_0⁻ᴴ)`` with ``Φ`` keeping the strict lower triangle and half the
    diagonal (the forward-mode rule at every order). Reads the lower triangle of ``A`` (the upper
    one with ``upper=True``, returning ``U = Lᴴ``), as NumPy does."""
    (a,) = call.lists()
    n, tag = call.order, call.tag
    upper = bool(call.parts.option("upper", False))
    first = np.linalg.cholesky(a[0], upper=upper)
    if len(a) == 1 or n == 0:
        return _taylor([first], n, tag)
    cplx = _is_complex_series(a)
    lower = _conjugate_transpose(first, cplx) if upper else first
    h = [_hermitian_part(c, not upper, cplx) for c in a[1:]]
    inverse = np.linalg.inv(lower)
    inverse_h = _conjugate_transpose(inverse, cplx)
    eye = _eye(first)
    factors = [lower]
    for k in range(1, n + 1):
        c = h[k - 1] if k - 1 < len(h) else _zero_like(h[0])
        for j in range(1, k):
            c = c - factors[j] @ _conjugate_transpose(factors[k - j], cplx)
        x = inverse @ c @ inverse_h
        diagonal = np.diagonal(x, axis1=-2, axis2=-1)
        phi = np.tril(x, -1) + 0.5 * (np.real(diagonal) if cplx else diagonal)[..., None] * eye
        factors.append(lower @ phi)
    if upper:
        factors = [first] + [_conjugate_transpose(f, cplx) for f in factors[1:]]
    return _taylor(factors, n, tag)


def _eigen_series(call: _Call, vectors: bool) -> Any:
    """The eigenvalues (and eigenvectors) of a Hermitian series ``A(t)``, assuming distinct
    eigenvalues at ``t = 0``. In the eigenbasis of ``A_0`` (``Ã_k = V_0ᴴ A_k V_0``) the rotation
    ``Q(t)`` with ``Ã Q = Q Λ``, ``Q_0 = I`` satisfies at order ``k``
    ``Λ_0 Q_k - Q_k Λ_0 - Λ_k = R_k = Σ_{j=1..k-1} Q_j Λ_{k-j} - Σ_{j=1..k} Ã_j Q_{k-j}``:
    ``Λ_k = -diag R_k``, ``(Q_k)_ij = (R_k)_ij / (λ_i - λ_j)`` off the diagonal, and the diagonal
    from ``QᴴQ = I`` (real: ``V_0ᴴ V_k`` has a real diagonal, as in the first-order rule). Then
    ``V_k = V_0 Q_k``, each column turned so that the row LAPACK leaves real stays real (its
    phase convention, as in the first-order rule). Repeated eigenvalues at ``t = 0`` raise
    ValueError: their eigenvectors, and the eigenvalues' series past the first order, are not
    determined by ``A_0``."""
    (a,) = call.lists()
    n, tag = call.order, call.tag
    uplo = call.parts.option("UPLO", "L")
    w0, v0 = np.linalg.eigh(a[0], uplo)
    if not vectors:
        w0 = np.linalg.eigvalsh(a[0], uplo)
    if len(a) == 1 or n == 0:
        w = _taylor([w0], n, tag)
        return _EighResult(w, _taylor([v0], n, tag)) if vectors else w
    name = f"numpy.linalg.{'eigh' if vectors else 'eigvalsh'}"
    gaps = _strip(w0)[..., :, None] - _strip(w0)[..., None, :]
    size = np.shape(gaps)[-1]
    scale = np.max(np.abs(_strip(w0)), axis=-1, initial=0.0)[..., None, None]
    tiny = 8 * size * np.finfo(np.result_type(gaps.dtype, 0.0)).eps * scale
    if np.any((np.abs(gaps) <= tiny) & ~np.eye(size, dtype=bool)):
        raise ValueError(
            f"{name} of a Taylor series needs distinct eigenvalues at t = 0 (its value); this "
            "matrix has a repeated eigenvalue, where the series of the eigenvectors (and of the "
            "eigenvalues past the first order) are not determined by the matrix"
        )
    cplx = _is_complex_series(a)
    lower = str(uplo).upper() == "L"
    v0h = _conjugate_transpose(v0, cplx)
    rotated = [v0h @ _hermitian_part(c, lower, cplx) @ v0 for c in a[1:]]
    eye = _eye(w0)
    # 1 / (λ_i - λ_j) off the diagonal, 0 on it (in dual arithmetic when the values are dual)
    inverse_gaps = (1.0 - eye) / (w0[..., :, None] - w0[..., None, :] + eye)
    q: list = [eye]
    w: list = [w0]
    for k in range(1, n + 1):
        r = None
        for j in range(1, k + 1):
            if j - 1 < len(rotated):
                term = rotated[j - 1] @ q[k - j]
                r = -term if r is None else r - term
        for j in range(1, k):
            r = r + q[j] * w[k - j][..., None, :]
        diagonal = np.diagonal(r, axis1=-2, axis2=-1)
        w.append(-(np.real(diagonal) if cplx else diagonal))
        if not vectors and k == n:
            break
        s = None
        for j in range(1, k):
            term = _conjugate_transpose(q[j], cplx) @ q[k - j]
            s = -term if s is None else s - term
        qk = r * inverse_gaps
        if s is not None:
            half = 0.5 * np.diagonal(s, axis1=-2, axis2=-1)
            qk = qk + (np.real(half) if cplx else half)[..., None] * eye
        q.append(qk)
    values = _taylor(w, n, tag)
    if not vectors:
        return values
    series = _taylor([v0] + [v0 @ c for c in q[1:]], n, tag)
    row = _real_row(v0, (0, size - 1) if lower else (size - 1, 0)) if cplx else None
    if row is not None:  # LAPACK's phase (as the first-order rule): that row stays real
        z = series[..., row, :]
        sign = np.sign(np.real(_strip(v0)[..., row, :]))
        zero = sign == 0  # (a zero entry: LAPACK's phase jumps there; no turn, as that rule)
        if np.any(zero):
            z, sign = np.where(zero, 1.0, z), np.where(zero, 1.0, sign)
        series = series * (np.conjugate(z) * sign / np.abs(z))[..., None, :]
    return _EighResult(values, series)


_FUNCTIONS[np.linalg.slogdet] = _series_kind(table.entry(np.linalg.slogdet), _slogdet)
_FUNCTIONS[np.linalg.cholesky] = _series_kind(table.entry(np.linalg.cholesky), _cholesky)
_FUNCTIONS[np.linalg.eigh] = _series_kind(
    table.entry(np.linalg.eigh), functools.partial(_eigen_series, vectors=True)
)
_FUNCTIONS[np.linalg.eigvalsh] = _series_kind(
    table.entry(np.linalg.eigvalsh), functools.partial(_eigen_series, vectors=False)
)
_FUNCTIONS[np.linalg.inv] = _series_kind(table.entry(np.linalg.inv), _inv)
_FUNCTIONS[np.linalg.solve] = _series_kind(table.entry(np.linalg.solve), _solve)
_FUNCTIONS[np.linalg.det] = _series_kind(table.entry(np.linalg.det), _det)


def _as_operand(a: Any) -> Any:
    return a if is_dual(a) else np.asarray(a)


@_implements(np.linalg.tensorsolve)
def _tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """NumPy's own reduction to ``solve``: ``a`` reshaped to a square matrix, ``b`` to a vector."""
    a, b = _as_operand(a), _as_operand(b)
    ndim = np.ndim(a)
    if axes is not None:
        order = list(range(ndim))
        for k in axes:
            order.remove(k)
            order.insert(ndim, k)
        a = np.transpose(a, order)
    shape = np.shape(a)[-(ndim - np.ndim(b)) :]
    size = math.prod(shape)
    if math.prod(np.shape(a)) != size**2:
        raise np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement prod(a.shape[b.ndim:]) == "
            "prod(a.shape[:b.ndim])"
        )
    return np.reshape(np.linalg.solve(np.reshape(a, (size, size)), np.ravel(b)), shape)


@_implements(np.linalg.tensorinv)
def _tensorinv(a: Any, ind: int = 2) -> Any:
    """NumPy's own reduction to ``inv``: ``a`` reshaped to a matrix and back."""
    shape = np.shape(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    size = math.prod(shape[ind:])
    return np.reshape(np.linalg.inv(np.reshape(a, (size, -1))), shape[ind:] + shape[:ind])


# -- norms: compositions of series arithmetic, sums and max/min -----------------------------------


def _norm_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError as error:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from error
    return np.lib.array_utils.normalize_axis_tuple(axis, ndim)


def _vector_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """``(Σ |x_i|^p)^(1/p)`` over ``axes`` in series arithmetic (``|x|`` has derivative 0 at 0,
    as in the first-order rules); ``inf``/``-inf`` are ``max``/``min`` of ``|x|`` and ``p = 0``
    counts (a constant)."""
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == 0:
        value = np.linalg.vector_norm(_plain(x), axis=axes, keepdims=keepdims, ord=0)
        return _taylor([value], x.order, x.tag)
    if ord == np.inf:
        return _largest(np.abs(x), axes, keepdims)
    if ord == -np.inf:
        return np.min(np.abs(x), axis=axes, keepdims=keepdims)
    if ord == 1:
        return np.sum(np.abs(x), axis=axes, keepdims=keepdims)
    if ord == 2:
        if math.prod(x.shape[axis] for axis in axes) == 1:  # |x|, with abs's conventions at 0
            return np.sum(np.abs(x), axis=axes, keepdims=keepdims)
        squares = (x * np.conjugate(x)).real if _is_complex_series(x.coefficients) else x * x
        return _level_at_zero(np.sqrt(np.sum(squares, axis=axes, keepdims=keepdims)))
    return np.sum(np.abs(x) ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def _level_at_zero(norm: Taylor) -> Taylor:
    """``norm`` with its first coefficient 0 where its value is 0: ``sqrt`` of the sum of
    squares gives ``0/0`` there, where the first-order rules give the 2-norm the derivative 0
    at 0 (``|x|``'s convention, the midpoint of ``±‖x_1‖``). The higher coefficients that
    blow up there are ``nan``, as the first-order rules' second derivative ``(I - uu^T)/‖x‖``
    is (``sqrt`` of the squares gives ``inf`` for the second, as for ``sqrt(x**2)``)."""
    c = norm.coefficients
    if len(c) > 1:
        zero = c[0] == 0
        if type(zero) is np.ndarray:
            if zero.any():
                c[1] = np.where(zero, 0.0, c[1])
                for k in range(2, len(c)):
                    if not is_dual(c[k]):
                        c[k] = np.where(zero & ~np.isfinite(c[k]), np.nan, c[k])
        elif zero:
            c[1] = 0.0 * c[0]
            for k in range(2, len(c)):
                if not is_dual(c[k]) and not np.isfinite(c[k]):
                    c[k] = np.nan * c[k]
    return norm


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Frobenius by ``_vector_norm``; the 1- and inf-norms by sums of ``|x|`` and max/min."""
    row, col = axes
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord in ("fro", "f"):
        return _vector_norm(x, 2, axes, keepdims)
    y = np.moveaxis(x, (row, col), (-2, -1))
    if ord in (2, -2, "nuc"):
        s = _singular_values(y, "numpy.linalg.norm")
        result = {2: _largest, -2: np.min, "nuc": np.sum}[ord](s, axis=-1)
    elif ord in (1, -1):
        result = (_largest if ord == 1 else np.min)(np.sum(np.abs(y), axis=-2), axis=-1)
    elif ord in (np.inf, -np.inf):
        result = (_largest if ord > 0 else np.min)(np.sum(np.abs(y), axis=-1), axis=-1)
    else:
        raise ValueError("Invalid norm order for matrices.")
    return np.expand_dims(result, tuple(sorted(axes))) if keepdims else result


def _series_operand(x: Any, name: str) -> Any:
    if type(x) is not Taylor:  # a constant of a newer Dual's layer is not this handler's
        raise TypeError(f"{name}: a Taylor series must be the matrix or vector itself here")
    return x


@_implements(np.linalg.norm)
def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """NumPy's vector and matrix norms by ``ord`` and ``axis``, in series arithmetic."""
    x = _series_operand(x, "numpy.linalg.norm")
    ndim = x.ndim
    if axis is None and (
        ord is None or (ord in ("f", "fro") and ndim == 2) or (ord == 2 and ndim == 1)
    ):
        return _vector_norm(x, 2, tuple(range(ndim)), keepdims)
    axes = _norm_axes(axis, ndim)
    if len(axes) == 1:
        return _vector_norm(x, 2 if ord is None else ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


@_implements(np.linalg.vector_norm)
def _vector_norm_function(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2):
    x = _series_operand(x, "numpy.linalg.vector_norm")
    axes = _norm_axes(axis, x.ndim)
    return _vector_norm(x, ord, axes, keepdims)


@_implements(np.linalg.matrix_norm)
def _matrix_norm_function(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    x = _series_operand(x, "numpy.linalg.matrix_norm")
    return _norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


# -- singular values, condition numbers and matrix powers: compositions of the rules above ---------


def _transposed(x: Any) -> Any:
    xt = np.swapaxes(x, -1, -2)
    return np.conjugate(xt) if _is_complex_series(x.coefficients) else xt


def _singular_values(x: Any, name: str) -> Taylor:
    """``σ(t)``, descending: the square roots of the eigenvalues of ``AᴴA`` (``AAᴴ`` for a wide
    ``A``) by ``eigvalsh``'s series, with NumPy's singular values as coefficient 0. Needs distinct,
    nonzero singular values at ``t = 0`` (elsewhere they are not analytic in ``t``)."""
    x = _series_operand(x, name)
    m, n = _stacked_matrices(x)
    value = np.linalg.svd(_broadcast(x.coefficients[0], x.shape), compute_uv=False)
    plain = _strip(value)
    tiny = 8 * max(m, n) * np.finfo(np.result_type(plain.dtype, 0.0)).eps * plain[..., :1]
    if np.any(plain[..., -1:] <= tiny):
        raise ValueError(
            f"{name} of a Taylor series needs nonzero singular values at t = 0 (its value); a "
            "zero singular value is not analytic in t"
        )
    gram = _transposed(x) @ x if m >= n else x @ _transposed(x)
    try:
        squares = np.linalg.eigvalsh(gram)
    except ValueError as exc:
        raise ValueError(
            f"{name} of a Taylor series needs distinct singular values at t = 0 (its value); "
            "this matrix has a repeated one"
        ) from exc
    series = np.sqrt(squares[..., ::-1])
    return _taylor([value, *series.coefficients[1:]], series.order, series.tag)


@_implements(np.linalg.svdvals)
def _svdvals(x: Any, /) -> Taylor:
    return _singular_values(x, "numpy.linalg.svdvals")


@_implements(np.linalg.svd)
def _svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    """The singular values by their series rule (``compute_uv=False``); the vectors too by the
    nested-dual fallback of DualArray's rule (``_nested_fallback``)."""
    if compute_uv:
        options = {"full_matrices": full_matrices, "hermitian": hermitian}
        return _nested_fallback(table.entry(np.linalg.svd), np.linalg.svd, (a,), options)
    if hermitian:  # NumPy: |eigenvalues|, descending
        return np.sort(np.abs(np.linalg.eigvalsh(a)))[..., ::-1]
    return _singular_values(a, "numpy.linalg.svd")


@_implements(np.linalg.cond)
def _cond(x: Any, p: Any = None) -> Any:
    """``σ_max/σ_min`` (``p`` None, 2, -2), else ``‖x‖_p ‖x⁻¹‖_p``, as NumPy defines it. A
    singular ``x`` gives NumPy's ``inf`` with ``nan`` coefficients where ``x`` moves along ``t``,
    as eager mode gives it (the condition number is unbounded near ``x``: no derivative)."""
    x = _series_operand(x, "numpy.linalg.cond")
    values = _broadcast(x.coefficients[0], x.shape)
    plain = _strip(values)
    value = np.linalg.cond(values, p)  # (the eager rule where the values are dual numbers)
    infinite = np.isinf(_strip(value)) & np.isfinite(plain).all(axis=(-2, -1))
    if np.any(infinite):  # the rules on the others (distinct singular values in place of a
        # singular matrix's: its series are not analytic)
        stand_in = np.diag(np.arange(1.0, plain.shape[-1] + 1)).astype(plain.dtype)
        y = np.where(infinite[..., None, None], stand_in, x)
    else:
        y = x
    if p is None or p == 2 or p == -2:
        s = _singular_values(y, "numpy.linalg.cond")
        r = s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    else:
        r = _norm(y, p, axis=(-2, -1)) * _norm(np.linalg.inv(y), p, axis=(-2, -1))
    if not np.any(infinite):
        return r
    # inf, with nan coefficients where the matrix moves along t (0 where it stays as it is)
    coefficients, n, tag = _own_series(r)
    coefficients += [0.0 * coefficients[0]] * (n + 1 - len(coefficients))
    moved = np.zeros(infinite.shape, dtype=bool)
    for c in x.coefficients[1:]:
        moved |= np.any(_plain(c) != 0, axis=(-2, -1))
    # (along t; their derivatives, in an enclosing differentiation, as eager mode gives them)
    higher = np.where(moved, unbounded(values, infinite.shape, np.nan), 0.0)
    return _taylor(
        [
            np.where(infinite, value, coefficients[0]),
            *(np.where(infinite, higher, c) for c in coefficients[1:]),
        ],
        n,
        tag,
    )


@_implements(np.linalg.matrix_power)
def _matrix_power(a: Any, n: Any) -> Any:
    """Products of series by NumPy's own binary decomposition of ``n`` (so the value is NumPy's);
    ``inv`` first for a negative ``n``, the identity for ``n = 0``."""
    a = _series_operand(a, "numpy.linalg.matrix_power")
    n = operator.index(n)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:
        value = np.empty_like(_plain(a), dtype=np.result_type(_strip(a.coefficients[0]), 0.0))
        value[...] = np.eye(a.shape[-2], dtype=value.dtype)
        return _taylor([value], a.order, a.tag)
    if n < 0:
        a, n = np.linalg.inv(a), -n
    if n == 1:
        return a
    if n == 2:
        return a @ a
    if n == 3:
        return (a @ a) @ a
    z = result = None
    while n > 0:
        z = a if z is None else z @ z
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else result @ z
    return result


# -- ufunc methods: reduce, accumulate, outer and at are functions of the table in other words ----

_REDUCERS = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min}
_ACCUMULATORS = {np.add: np.cumsum, np.multiply: np.cumprod}


def _ufunc_method(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``ufunc.reduce``/``accumulate``/``outer``/``at`` on series by the functions they are
    (``np.add.reduce`` is ``np.sum`` along axis 0 ...); NotImplemented for the others."""
    if method == "reduce" and ufunc in _REDUCERS and len(inputs) == 1:
        kwargs = {"axis": 0, **kwargs}
        if ufunc in (np.maximum, np.minimum):
            _check_plain_options(f"{function_name(ufunc)}.reduce", dtype=kwargs.pop("dtype", None))
        return _REDUCERS[ufunc](inputs[0], **kwargs)
    if method == "reduceat" and ufunc in _REDUCERS and len(inputs) == 2:
        return reduceat(ufunc, inputs[0], _plain(inputs[1]), **kwargs)
    if method == "accumulate" and len(inputs) == 1:
        if ufunc in _ACCUMULATORS:
            return _ACCUMULATORS[ufunc](inputs[0], **{"axis": 0, **kwargs})
        if ufunc in (np.maximum, np.minimum) and type(inputs[0]) is Taylor:
            return _running_extreme(ufunc, inputs[0], **kwargs)
    if method == "outer" and ufunc.nin == 2 and not kwargs:
        a, b = inputs
        return ufunc(np.reshape(a, np.shape(_plain(a)) + (1,) * np.ndim(_plain(b))), b)
    if method == "at" and ufunc in (np.add, np.subtract) and type(inputs[0]) is Taylor:
        if kwargs or len(inputs) != 3:
            return NotImplemented
        a, index, b = inputs
        return _add_at(a, _plain(index), b, ufunc is np.subtract)
    if method == "at" and type(inputs[0]) is Taylor and not kwargs and ufunc.nout == 1:
        if len(inputs) == ufunc.nin + 1 and ufunc.nin in (1, 2):
            return _ufunc_at(ufunc, *inputs)
    return NotImplemented


def _ufunc_at(ufunc: np.ufunc, a: Taylor, index: Any, b: Any = None) -> None:
    """``ufunc.at(a, index[, b])`` in place, NumPy's order kept where indices repeat: the
    ``r``-th visits of all the entries form one round of distinct entries, applied as
    ``a[i] = ufunc(a[i], b[j])`` with the series rules, rounds in order (an entry visited twice
    sees its first result, as in NumPy's unbuffered loop)."""
    positions = np.arange(a.size).reshape(a.shape)[_plain(index)]
    flat = positions.ravel()
    if b is not None:
        b = np.reshape(np.broadcast_to(b, positions.shape), -1)
        if type(b) is Taylor:  # NumPy reads b as it was before the call: b may be a view of a
            b = b.copy()
    if ufunc in EXTREME_UFUNCS and flat.size:  # every visit of an element at once
        where = np.unravel_index(np.unique(flat), a.shape)
        a[where] = extreme_at(ufunc, a[where], b, flat, _plain)
        return
    for visited, chosen in at_rounds(flat, a.shape):
        a[visited] = ufunc(a[visited]) if b is None else ufunc(a[visited], b[chosen])


def _running_extreme(
    ufunc: np.ufunc, a: Taylor, axis: Any = 0, dtype: Any = None, out: Any = None
) -> Taylor:
    """``maximum.accumulate``: ``y_j = max(x_0..x_j)`` takes the coefficients of the entries
    equal to it, ties shared evenly (as ``np.max`` and the first-order rule do)."""
    _check_plain_options(f"{function_name(ufunc)}.accumulate", out, dtype)
    coefficients, n, tag = _own_series(a)
    axis = np.lib.array_utils.normalize_axis_index(axis, a.ndim)
    value = ufunc.accumulate(coefficients[0], axis=axis)
    x = np.moveaxis(_strip(coefficients[0]), axis, -1)
    y = np.moveaxis(_strip(value), axis, -1)
    out = [value]
    if len(coefficients) > 1:
        higher = np.moveaxis(np.stack(coefficients[1:]), axis + 1, -1)
        out += list(np.moveaxis(running_extreme_tangent(x, y, higher), -1, axis + 1))
    return _taylor(out, n, tag)


def _add_at(a: Taylor, index: Any, b: Any, subtract: bool) -> None:
    """``np.add.at(a, index, b)`` in place: NumPy's ``add.at`` on each coefficient (repeated
    indices add up, in NumPy's order), then written into ``a`` (through a view, into what it
    views)."""
    coefficients = b.coefficients[: a.order + 1] if type(b) is Taylor and b.tag == a.tag else [b]
    if any(is_dual(c) for c in (*coefficients, *a.coefficients)):
        raise TypeError(
            f"numpy.{'subtract' if subtract else 'add'}.at on a Taylor series of dual numbers "
            "(or with increments of another differentiation) is not supported; use "
            "a[index] = a[index] + b where the indices do not repeat"
        )
    at = (np.subtract if subtract else np.add).at
    shape = a.shape
    new = []
    for k in range(max(len(a.coefficients), len(coefficients))):
        c = a.coefficients[k] if k < len(a.coefficients) else 0.0
        dtype = np.result_type(_strip(a.coefficients[0]), 0.0)
        c = np.array(np.broadcast_to(c, shape), dtype)
        if k < len(coefficients):
            at(c, index, coefficients[k])
        new.append(c)
    a[...] = _taylor(new, a.order, a.tag)


# -- constructors and functions of the values --------------------------------------------------


def _constant_like(a: Any, value: Any) -> Taylor:
    """A constant series with the tag and order of ``a``, to be filled by item assignment."""
    return _taylor([value], a.order, a.tag)


def _like_dtype(a: Any, dtype: Any, name: str) -> Any:
    _check_plain_options(name, dtype=dtype)
    return np.result_type(_plain(a), 0.0) if dtype is None else dtype


def _filled_like(fill: Callable[..., Any], name: str) -> Callable[..., Taylor]:
    """``numpy.zeros_like``/``ones_like`` for a series: a constant of its tag and order."""

    def filled_like(
        a: Any,
        dtype: Any = None,
        order: Any = "K",
        subok: Any = True,
        shape: Any = None,
        *,
        device: Any = None,
    ) -> Taylor:
        dtype = _like_dtype(a, dtype, name)
        return _constant_like(a, fill(_broadcast(a.value, a.shape), dtype, order, shape=shape))

    return filled_like


_zeros_like = _implements(np.zeros_like, np.empty_like)(
    _filled_like(np.zeros_like, "numpy.zeros_like")
)
_implements(np.ones_like)(_filled_like(np.ones_like, "numpy.ones_like"))


@_implements(np.full_like)
def _full_like(
    a: Any,
    fill_value: Any,
    dtype: Any = None,
    order: Any = "K",
    subok: Any = True,
    shape: Any = None,
    *,
    device: Any = None,
) -> Taylor:
    result = _zeros_like(a, dtype, order, shape=shape)
    result[...] = fill_value
    return result


# numpy.sinc and the other rules of the table that are not ufuncs
for _rule in _FUNCTION_RULES.values():
    _FUNCTIONS[_rule.array] = lambda func, args, kwargs, rule=_rule: rule.function(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# The API: seed x + t, run, read the coefficients
# ---------------------------------------------------------------------------------------------


def _point(x: Any, api: str) -> Any:
    """Validate the input point: a number, an array (a float or complex copy) or a dual number."""
    t = type(x)
    if t is float or t is complex or is_dual(x):
        errors.check_nestable(x, api)
        return x
    if t is np.ndarray or t is list or t is tuple:
        # (an array in its own strides: the view-or-copy decisions of f's reshapes are NumPy's)
        arr = same_strides(x) if t is np.ndarray else np.array(x)
        if arr.dtype.kind == "O":  # plain numbers in an object array: as jacobian() takes them
            arr = plain_numbers(arr)
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
        return np.zeros(y.shape, np.result_type(y.dtype, 0.0))  # float32 stays float32
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

# The n-th derivative is read from the series of f(x + s·t) as c_n · n!/s**n. With s = 1 the
# coefficient f⁽ⁿ⁾/n! leaves the float64 range long before f⁽ⁿ⁾ does: at n = 170 it is
# subnormal for every |f⁽ⁿ⁾| < 1.6, so that 2**x's 1.7e-27 came out 0 and sin's 170th
# derivative at 1e-14 lost 4 digits. s = 4 moves that bound to |f⁽ⁿ⁾| < n!·4⁻ⁿ·2e-308
# (2e-104 at n = 170), while no coefficient of degree k grows by more than 4^k/k! <= 10.7 over
# f⁽ᵏ⁾. A larger s underflows later but overflows sooner: with s ≈ (n!)^(1/n), 64 at n = 170,
# exp's 170th derivative at 700 overflowed. Every coefficient of degree k is a sum of products
# of total degree k, so a power-of-two s changes the run by exact powers of two only, unless it
# overflows or underflows. Up to order 20 n! < 2.5e18, nothing is gained, and s = 1.
_SEED_SCALES = [1.0 if k <= 20 else 4.0 for k in range(_MAX_ORDER + 1)]
_SCALED_FACTORIALS = [
    float(math.factorial(k) / _SEED_SCALES[k] ** k) for k in range(_MAX_ORDER + 1)
]


def check_order(n: Any, api: str) -> int:
    """``n`` as an order Taylor mode can reach, for ``api``'s messages: an integer from 0 to
    ``_MAX_ORDER`` (a TypeError or ValueError that names ``api`` otherwise)."""
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

    One evaluation of ``f`` on the series ``x + t`` truncated after ``t**n``, ``O(n²)`` work per
    elementary function (nested duals would need ``2ⁿ``). :func:`derivative` calls it for
    ``n >= 2``.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a number, an array, or a tuple/list of them (the result has the same
        structure).
    x : number or array_like
        A real or complex number, or an array: then ``f`` is taken to act elementwise (every
        element moves with ``t``) and the result is elementwise.
    n : int
        The order.

    Returns
    -------
    number, array, or tuple/list of them

    See Also
    --------
    taylor : all coefficients up to the order.

    Examples
    --------
    >>> dd.higher_derivative(np.sin, 0.0, 3)  # -cos(0)
    -1.0
    >>> dd.higher_derivative(np.exp, np.array([0.0, 1.0]), 2)
    array([1.        , 2.71828183])
    """
    if type(x) is float and type(n) is int and 0 < n <= _MAX_ORDER:
        return scalar_derivative(f, x, n, "higher_derivative")
    errors.check_callable(f, "higher_derivative")
    n = check_order(n, "higher_derivative")
    x = _point(x, "higher_derivative")
    if n == 0:
        return check_output(f(x), "higher_derivative")
    tag = new_tag()
    y = errors.call_user(f, _taylor([x, _SEED_SCALES[n]], n, tag))
    if type(y) is Taylor and y.tag == tag:  # the common case, kept cheap
        c = y.coefficients
        return _times_factorial(_like_value(c[n] if n < len(c) else _zero_like(c[0]), c[0]), n)
    y = check_output(y, "higher_derivative")
    shape = np.shape(_strip(x))
    return _leaves(y, lambda leaf: _times_factorial(_elementwise(leaf, tag, n, shape), n))


def scalar_derivative(f: Callable[..., Any], x: float, n: int, api: str) -> Any:
    """``higher_derivative(f, x, n)`` for a float ``x`` and an int ``n`` in ``1..170``: the seed
    and one call of ``f``, with no other set-up (``derivative``'s hot path for ``n >= 2``).
    ``api`` names the verb in the error raised when ``f`` cannot be called."""
    tag = tags._next_tag()  # the module's: a fork or observe() replaces it
    seed = _new(Taylor)
    seed.coefficients, seed.order, seed.tag = [x, _SEED_SCALES[n]], n, tag
    try:  # free unless raised: callable(f) is asked only then
        y = f(seed)
    except Exception as error:
        errors.check_callable(f, api)
        errors.explain(error, tag)
        raise
    factorial = _SCALED_FACTORIALS[n]
    if type(y) is Taylor and y.tag == tag:
        c = y.coefficients
        c0 = c[0]
        if type(c0) is float:  # a float value: the coefficient as it is (see _like_value)
            return (c[n] if n < len(c) else 0.0) * factorial
        return _times_factorial(_like_value(c[n] if n < len(c) else _zero_like(c0), c0), n)
    y = check_output(y, "higher_derivative")
    return _leaves(y, lambda leaf: _times_factorial(_elementwise(leaf, tag, n, ()), n))


_FITS_EVERY_DTYPE = 8  # 8! = 40320 fits float16, whose largest number is 65504


def _times_factorial(c: Any, n: int) -> Any:
    """Coefficient ``c`` of the series of ``f(x + s·t)`` times ``n!/sⁿ``: the ``n``-th
    derivative. Where that factor is beyond the range of ``c``'s dtype, a ValueError: the
    product overflowed to inf (or nan, the coefficient having underflowed to 0 first), where
    the derivative itself may be small (exp's 9th derivative in float16 was inf)."""
    factor = _SCALED_FACTORIALS[n]
    if n > _FITS_EVERY_DTYPE:
        dtype = getattr(_strip(c), "dtype", None)
        if dtype is not None and dtype.kind in "fc" and factor > np.finfo(dtype).max:
            raise ValueError(
                f"derivative of order {n}: Taylor mode multiplies its coefficient by "
                f"{n}!/{_SEED_SCALES[n]:g}**{n} = {factor:.3g}, beyond the range of {dtype} "
                f"({np.finfo(dtype).max:.3g}); pass x in a wider dtype (x.astype(np.float64)) "
                "or ask for a lower order"
            )
    return c * factor


def taylor(f: Callable[..., Any], x: Any, order: int) -> Any:
    """The Taylor coefficients ``f⁽ᵏ⁾(x)/k!`` for ``k = 0..order``, in one evaluation of ``f``.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a number, an array, or a tuple/list of them.
    x : number or array_like
        The point; for an array ``f`` is taken to act elementwise, as in :func:`higher_derivative`.
    order : int
        The highest order.

    Returns
    -------
    ndarray, or a tuple/list of them
        For a scalar ``x`` and scalar output, shape ``(order + 1,)``. For an array ``x`` or an
        array output the coefficients run along one extra trailing axis: shape
        ``np.shape(f(x)) + (order + 1,)``, where an output that does not depend on ``x`` is
        broadcast with ``x`` first.

    See Also
    --------
    higher_derivative, Taylor

    Examples
    --------
    >>> dd.taylor(lambda x: 1 / (1 - x), 0.0, 4)  # the geometric series
    array([1., 1., 1., 1., 1.])
    >>> dd.taylor(np.exp, np.array([0.0, 1.0]), 2)  # e**x (1, 1, 1/2)
    array([[1.        , 1.        , 0.5       ],
           [2.71828183, 2.71828183, 1.35914091]])
    """
    errors.check_callable(f, "taylor")
    order = check_order(order, "taylor")
    x = _point(x, "taylor")
    tag = new_tag()
    y = check_output(errors.call_user(f, _taylor([x, 1.0][: order + 1], order, tag)), "taylor")
    shape = np.shape(_strip(x))
    return _leaves(
        y, lambda leaf: _stack([_elementwise(leaf, tag, k, shape) for k in range(order + 1)])
    )


def _like_value(c: Any, c0: Any) -> Any:
    """Coefficient ``c`` of a series in the shape and dtype of its value ``c0``: a coefficient
    past the seed's can be a plain number where the value is an array or a NumPy scalar (the
    second of ``x*x`` is ``1.0*1.0``), yet the derivative has the value's shape and type."""
    if type(c0) is np.ndarray:
        if type(c) is np.ndarray and c.shape == c0.shape and c.dtype == c0.dtype:
            return c
        if is_dual(c):
            return c
        dtype = np.result_type(c0, c)
        return np.array(np.broadcast_to(c, np.broadcast_shapes(c0.shape, np.shape(c))), dtype)
    if type(c0) is complex:
        return complex(c) if type(c) is float or type(c) is int else c
    if is_dual(c0) and np.shape(c) != c0.shape:
        # the value is an outer differentiation's dual array (x[0] * sum(s**3) + x under
        # dd.jacobian: + x added to the value only): the coefficient in its shape, the
        # derivative of every element (a Dual coefficient would have stood for all of them)
        ones = np.ones(c0.shape, np.result_type(_strip(c0.value), _strip(c)))
        return c * ones if is_dual(c) else np.array(np.broadcast_to(c, c0.shape), ones.dtype)
    if type(c0) in SCALAR_TYPES and type(c0) is not float and type(c) in SCALAR_TYPES:
        return np.result_type(c0, c).type(c)
    return c


def _elementwise(leaf: Any, tag: int, k: int, x_shape: tuple[int, ...]) -> Any:
    """Coefficient ``k`` of output ``leaf`` as an elementwise result: for a series of ``tag``, in
    its value's shape and dtype; for a constant (an output that does not depend on ``x``), its
    value or zeros in the shape of the output broadcast with ``x``, as for one that does."""
    c = _coefficient(leaf, tag, k)
    if type(leaf) is Taylor and leaf.tag == tag:
        return _like_value(c, leaf.coefficients[0])
    if is_dual(c) or not x_shape:
        return c
    try:
        shape = np.broadcast_shapes(np.shape(c), x_shape)
    except ValueError:  # an output that cannot broadcast with x keeps its own shape
        return c
    return c if shape == np.shape(c) else np.array(np.broadcast_to(c, shape))
