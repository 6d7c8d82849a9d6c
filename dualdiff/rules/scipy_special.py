"""``scipy.special``'s functions as entries of the rule table.

Imported lazily (by ``dualdiff.rules.elementwise.extra_ufunc_rule``) the first time a ufunc dualdiff
does not know meets a dual while SciPy is loaded, so ``import dualdiff`` never imports SciPy. Every
entry is a ``dualdiff.rules.elementwise.Rule`` like NumPy's: one partial per argument written with
generic calls (``exp(x)``, ``digamma(x)``: each itself an entry with a rule), so nesting (second
derivatives), Taylor mode (through ``dualdiff.series.taylor.fallback_rule``), the sparsity tracer
and the compiler apply them as they apply ``np.sin``. ``expit``, ``logit``, ``xlogy``, ``xlog1py``,
``expm1``, ``log1p`` and ``cbrt`` map to dualdiff's own entries of the same name.

A parameter whose derivative has no closed form (``jv``'s order ``v``, ``gammainc``'s ``a``,
``polygamma``'s order ``n``, ``zeta``'s exponent ``x``, ``hyp2f1``'s ``a, b, c``) has a partial
that raises ``TypeError`` naming the function and the argument; it is only called when that
argument carries a tangent. The table's rules take one or two arguments: ``hyp2f1`` and
``betainc`` (differentiable in their last argument only) become a one-argument rule per call.
``logsumexp``, ``softmax``, ``log_softmax`` and ``polygamma`` are not ufuncs and convert their
argument with ``np.asarray`` first, which no dual survives: this module has versions for duals.

Conventions at singular points:

* ``betainc`` at ``x = 0, 1`` and ``chdtr`` at 0: the closed form's value (``inf`` where the
  density is unbounded; a zero tangent stays zero).
* ``i0e``, ``ive``: ``exp(-|x|)`` has a kink at 0; the derivative there takes ``sign(0) = 0`` (the
  midpoint of the one-sided derivatives, as ``absolute``).
* ``entr``, ``rel_entr``, ``kl_div`` at ``x = 0``: the value is 0 (SciPy's); the derivative in ``x``
  is the one-sided limit (``+inf`` for ``entr``, ``-inf`` for the others), a zero tangent stays 0.
* ``gammainc``/``gammaincc`` at ``x = 0``: ``x**(a-1) e**-x / gamma(a)`` (``inf`` for ``a < 1``).
* ``spence`` at 1, ``exprel`` at 0, ``ellipk``/``ellipe`` at 0: the removable singularities of the
  closed forms take their limits (-1, 1/2, pi/8, -pi/8), from a power series near the point,
  summed to as many terms as the derivative's order needs (Taylor mode: every order exact).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sc
from scipy.special import _ufuncs

from .elementwise import (
    EXTRA_UFUNC_RULES,
    RULES,
    SYMBOLIC_TYPES,
    Rule,
    _is_array,
    exp,
    expm1,
    is_complex,
    is_dual,
    log,
    log1p,
    sigmoid,
    sign,
    specialise,
    where,
    xlog1py,
    xlogy,
)

__all__ = [
    "SPECIAL_RULES",
    "PARAMETERS",
    "hyp2f1",
    "log_softmax",
    "logsumexp",
    "polygamma",
    "softmax",
]

SPECIAL_RULES: dict[str, Rule] = {}
"""Every entry of this module by its name in ``scipy.special``."""

PARAMETERS: dict[str, dict[int, str]] = {}
"""For each entry, its arguments without a derivative rule (by position): their names."""

_2_SQRTPI = 2.0 / math.sqrt(math.pi)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _no_closed_form(name: str, argument: str) -> Callable[..., Any]:
    def partial(*args: Any) -> Any:
        raise TypeError(
            f"scipy.special.{name}: the derivative with respect to {argument} has no closed form, "
            f"so dualdiff has no rule for it; pass {argument.split()[-1]} as a plain number or "
            f"array (not a dual); the other argument differentiates"
        )

    return partial


def _scalar(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` on Python floats, giving a Python float (the fast path of ``Dual``)."""
    return lambda *args: float(f(*args))


def _entry(
    name: str,
    ufunc: Any,
    partials: tuple[Any, ...],
    *,
    array: Callable[..., Any] | None = None,
    domain: tuple[tuple[float, float], ...] = ((-3.0, 3.0),),
    complex: bool = False,
    safe: bool = False,
    formula: str = "",
    parameters: dict[int, str] | None = None,
) -> Callable[..., Any]:
    array = array if array is not None else ufunc
    partials = tuple(
        _no_closed_form(name, parameters[i]) if parameters and i in parameters else p
        for i, p in enumerate(partials)
    )
    rule = Rule(name, len(partials), None, _scalar(array), array, partials, safe=safe,
                domain=domain, complex=complex, formula=formula)  # fmt: skip
    rule.ufunc = ufunc  # not in UFUNC_RULES (NumPy's ufuncs only): in EXTRA_UFUNC_RULES
    specialise(rule)
    SPECIAL_RULES[name] = rule
    PARAMETERS[name] = dict(parameters or {})
    if isinstance(ufunc, np.ufunc):
        EXTRA_UFUNC_RULES[ufunc] = rule
    return rule.function


def _alias(name: str, own: str) -> None:
    """scipy.special's ``name`` is dualdiff's entry ``own`` (the same function)."""
    ufunc = getattr(sc, name, None)
    if isinstance(ufunc, np.ufunc):
        EXTRA_UFUNC_RULES[ufunc] = RULES[own]
        SPECIAL_RULES[name] = RULES[own]
        PARAMETERS[name] = {}


def _horner(coefficients: tuple[float, ...], x: Any) -> Any:
    out = coefficients[-1]
    for c in coefficients[-2::-1]:
        out = out * x + c
    return out


def _orders(x: Any) -> int:
    """How many orders of derivatives ``x`` carries: one per Dual layer, ``order`` per Taylor
    series (0 for a plain number or array)."""
    n = 0
    while is_dual(x):
        order = getattr(x, "order", None)
        if order is None:
            n, x = n + 1, x.value
        else:
            n, x = n + order, x.coefficients[0]
    return n


class _PowerSeries:
    """The power series ``Σ_j c_j u**j`` of a partial near a removable singularity, with
    ``c_j = term(j)``, summed to as many terms as its argument needs.

    A fixed polynomial of degree ``D`` has derivatives of order above ``D`` equal to 0, and
    loses digits in its derivatives well before that (a 22-term series gave exprel's 23rd
    derivative at 0 as 0.0 and its 20th at 0.3 with 3 digits). The ``k``-th derivative of the
    series needs the terms ``j = k .. k + J``, with ``J`` set by how fast ``|c_j| radius**j``
    falls: ``terms(k) = base + slope * k`` terms."""

    def __init__(self, term: Callable[[int], float], base: int, slope: int) -> None:
        self.term, self.base, self.slope = term, base, slope
        self.cache: dict[int, tuple[float, ...]] = {}

    def __call__(self, u: Any) -> Any:
        count = self.base + self.slope * _orders(u)
        coefficients = self.cache.get(count)
        if coefficients is None:
            coefficients = self.cache[count] = tuple(self.term(j) for j in range(count))
        return _horner(coefficients, u)


def _near(x: Any, radius: float, series: Callable[[Any], Any], formula: Callable[[Any], Any]):
    """``series(x)`` where ``|x| < radius``, else ``formula(x)`` (evaluated away from 0 only)."""
    if not _is_array(x):
        return series(x) if abs(x) < radius else formula(x)
    small = abs(x) < radius
    return where(small, series(x), formula(where(small, 2.0 * radius, x)))


# exprel'(x) = sum_j (j+1)/(j+2)! x**j; the closed form (e**x - exprel(x))/x cancels near 0. The
# terms fall factorially: 22 beyond the derivative's order leave < 1e-17 of it at |x| < 0.5.
_EXPREL_SERIES = _PowerSeries(lambda j: (j + 1) / math.factorial(j + 2), 22, 1)


def _exprel_partial(x: Any, ans: Any) -> Any:
    # ans, not exprel(u): on a Taylor series exprel(u) would run the whole rule again, once per
    # order, in every call (time doubling with each order, and digits lost: 1e-4 at order 12)
    return _near(x, 0.5, _EXPREL_SERIES, lambda u: (exp(u) - ans) / u)


# K(m) = pi/2 sum a_n m**n, E(m) = pi/2 (1 - sum a_n m**n / (2n - 1)), a_n = ((2n-1)!!/(2n)!!)**2;
# their derivatives' closed forms divide by m. Their terms fall as 0.05**j only (radius 1), and
# the k-th derivative multiplies term k + j by binomial(k + j, j): 17 + 2k terms leave < 1e-17.
def _a(n: int) -> float:
    return math.prod(((2 * i - 1) / (2 * i)) ** 2 for i in range(1, n + 1))


_K_SERIES = _PowerSeries(lambda n: math.pi / 2 * (n + 1) * _a(n + 1), 17, 2)
_E_SERIES = _PowerSeries(lambda n: -math.pi / 2 * (n + 1) * _a(n + 1) / (2 * n + 1), 17, 2)


def _ellipk_partial(m: Any, ans: Any) -> Any:
    # at m = 1 the closed form is (1 - 0·inf)/0, nan, without a warning; its limit is +inf
    with np.errstate(invalid="ignore", divide="ignore"):
        d = _near(
            m,
            0.05,
            _K_SERIES,
            lambda u: (ellipe(u) - (1.0 - u) * ellipk(u)) / (2.0 * u * (1.0 - u)),
        )
    return where(m == 1, np.inf, d)


def _ellipe_partial(m: Any, ans: Any) -> Any:
    return _near(m, 0.05, _E_SERIES, lambda u: (ellipe(u) - ellipk(u)) / (2.0 * u))


def _rgamma_partial(x: Any, ans: Any) -> Any:
    # -digamma(x)/gamma(x) is -nan·0 at the poles of gamma (x = 0, -1, ...), where 1/gamma
    # crosses 0 with slope (-1)**n n!, and its own derivative (nesting) cancels beside them
    # (digamma' and digamma² grow as 1/(x + n)²: 2e-12 of the second derivative lost at
    # -3.0001). Left of 0 the reflection formula's form, cos(pi x) gamma(1 - x) -
    # digamma(1 - x)/gamma(x), has no singular factor.
    plain = _strip(x)
    if is_complex(plain):
        return -ans * digamma(x)
    left = plain <= 0
    if not _is_array(plain):
        if not left:
            return -ans * digamma(x)
        return cosdg(180.0 * x) * gamma(1.0 - x) - digamma(1.0 - x) * ans
    if type(plain) not in SYMBOLIC_TYPES and not np.any(left):
        return -ans * digamma(x)
    at = where(left, x, -0.5)
    reflected = cosdg(180.0 * at) * gamma(1.0 - at) - digamma(1.0 - at) * ans
    return where(left, reflected, -ans * digamma(where(left, 0.5, x)))


# log(z)/(1 - z) = -sum_j (-w)**j / (j + 1) with w = z - 1: its limit -1 at z = 1, and every
# derivative there (at z = 1 the closed form's 0/0 was taken as its limit at first order only:
# the second derivative of spence at 1 came out 0, where it is 1/2).
_SPENCE_SERIES = _PowerSeries(lambda j: -((-1.0) ** j) / (j + 1), 17, 2)


def _spence_partial(z: Any, ans: Any) -> Any:
    w = z - 1.0
    if not _is_array(w):
        return _SPENCE_SERIES(w) if abs(w) < 0.05 else log(z) / (1.0 - z)
    small = abs(w) < 0.05
    away = where(small, 2.0, z)  # the closed form away from 1 only (no 0/0 warning)
    return where(small, _SPENCE_SERIES(w), log(away) / (1.0 - away))


def _erfcx_partial(x: Any, ans: Any) -> Any:
    # 2x erfcx(x) - 2/sqrt(pi) cancels as x grows (a relative error of about 2x² eps: 2e-6 at
    # 1e5, and 0.0 at 1e8, where the derivative is -5.6e-17). Beyond 5 the derivative is
    # -2 erfcx(x) r, with r = I_1/I_0 the ratio of the moments of erfcx's integral
    # (series/taylor.py): r = 1/(2x + 2·2/(2x + 2·3/(2x + ...))), whose 40 levels leave less
    # than 1e-30 there.
    if is_complex(x):
        # the fraction holds in the right half plane too; beyond |x| = 10 its 40 levels keep the
        # digits the closed form lost (1e-13 at 20+5j, 4e-12 at 20+40j)
        if not _is_array(x):
            if abs(x) > 10.0 and x.real >= 0.0:
                return _erfcx_far(x, ans)
            return 2.0 * x * ans - _2_SQRTPI
        far = (abs(x) > 10.0) & (x.real >= 0.0)
        return where(far, _erfcx_far(where(far, x, 20.0), ans), 2.0 * x * ans - _2_SQRTPI)
    if not _is_array(x):
        return _erfcx_far(x, ans) if x > 5.0 else 2.0 * x * ans - _2_SQRTPI
    far = x > 5.0  # (no test of any(far): the compiler traces this, and cannot branch on it)
    return where(far, _erfcx_far(where(far, x, 6.0), ans), 2.0 * x * ans - _2_SQRTPI)


def _erfcx_far(x: Any, ans: Any) -> Any:
    ratio = 0.0
    for k in range(40, 0, -1):
        ratio = k / (2.0 * x + 2.0 * ratio)
    return -2.0 * ans * ratio


def _log_ndtr_partial(x: Any, ans: Any) -> Any:
    # phi(x)/Phi(x) as exp(-x²/2 - log Phi(x)) cancels in the exponent left of 0 (7e-7 of it
    # left at -1e5); there Phi(x) = e**(-x²/2) erfcx(-x/sqrt 2)/2 gives sqrt(2/pi)/erfcx(-x/sqrt 2)
    if is_complex(x):
        return exp(-0.5 * (x * x) - ans) / _SQRT2PI
    if not _is_array(x):
        return (
            _SQRT_2_PI / erfcx(x * -_SQRT_HALF) if x < 0 else exp(-0.5 * (x * x) - ans) / _SQRT2PI
        )
    left = x < 0  # (both sides computed: the compiler traces this, and cannot branch on it)
    right = exp(-0.5 * (x * x) - where(left, 0.0, ans)) / _SQRT2PI
    return where(left, _SQRT_2_PI / erfcx(where(left, x, -1.0) * -_SQRT_HALF), right)


_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)

# dawsn' = 1 - 2x dawsn(x) cancels as |x| grows (8e-8 of it left at 1e5, 0.0 at 1e8); beyond
# 10 its asymptotic series -sum_k (2k-1)!!/(2x²)**k, 20 terms (the 20th is 1e-20 of the first)
_DAWSN_TERMS = tuple(-math.prod(range(1, 2 * k, 2)) / 2.0**k for k in range(1, 21))


def _dawsn_partial(x: Any, ans: Any) -> Any:
    if is_complex(x):
        if not _is_array(x):
            return _dawsn_far_complex(x) if abs(x) > 7.5 else 1.0 - 2.0 * x * ans
        far = abs(x) > 7.5  # (no test of any(far): the compiler traces this)
        with np.errstate(over="ignore", invalid="ignore"):
            return where(far, _dawsn_far_complex(where(far, x, 20.0)), 1.0 - 2.0 * x * ans)
    if not _is_array(x):
        return _dawsn_far(x) if abs(x) > 10.0 else 1.0 - 2.0 * x * ans
    far = abs(x) > 10.0  # (no test of any(far): the compiler traces this)
    return where(far, _dawsn_far(where(far, x, 20.0)), 1.0 - 2.0 * x * ans)


def _dawsn_far_complex(z: Any) -> Any:
    # dawsn(z) = (i sqrt(pi)/2) (e**-z² - w(z)) (w: Faddeeva's function), whose part in w has
    # the real axis's asymptotic series for Im z >= 0: there dawsn' is that series less
    # i sqrt(pi) z e**-z², which is not small off the real axis (near the diagonals). dawsn' is
    # even: -z below. 1 - 2z dawsn(z) lost 2|z|² ulps (2e8 at 1e4 + 2e3j, all at 1e8 + 2e7j);
    # beyond |z| = 7.5 the series' 20 terms leave < 1e-18 (the 21st is 41!!/(2|z|²)**21)
    zeta = where(_strip(z).imag >= 0.0, z, -z)
    return _dawsn_far(zeta) - (1j * math.sqrt(math.pi)) * zeta * exp(-(zeta * zeta))


def _dawsn_far(x: Any) -> Any:
    w = 1.0 / (x * x)
    return _horner((0.0,) + _DAWSN_TERMS, w)


# i0e, i1e, ive and kve: the scaled Bessel functions' derivatives by recurrence (i1e - i0e,
# (kve(v-1) + kve(v+1))/2 - kve) cancel to O(1/x) of their terms as x grows (1e-8 of them left
# at 1e8, all at 1e15, the second derivative twice as badly). Where |x| > 22 and |x| > v²/2 the
# derivative is the value times d/dx log of the asymptotic series of I_v(x) e**-|x| and
# K_v(x) e**x (DLMF 10.40.1-2), S(x)/sqrt(x) with S(x) = sum_k (-+1)**k a_k(v) / x**k and
# a_k(v) = prod_(j<=k) (4v² - (2j-1)²) / (k! 8**k): d/dx log = -sum_k (k + 1/2) a_k x**(-k-1) / S.
# There 30 terms leave < 5e-18 (their magnitudes never grow: at most 1), and the exponentially
# small part of I_v (e**-2|x| of it) is below 1e-19. A function of x like any other, so nested
# derivatives and Taylor mode differentiate the series term by term.
_BESSEL_TERMS = 30


def _bessel_far_bound(v: Any) -> Any:
    return where(v * v > 44.0, 0.5 * (v * v), 22.0)


def _bessel_log_slope(v: Any, z: Any, kind: float) -> Any:
    """d/dz log(ive(v, z)) (``kind = -1``, ``z > 0``) or log(kve(v, z)) (``kind = 1``), for
    ``|z|`` beyond ``_bessel_far_bound(v)``."""
    mu = 4.0 * (v * v)
    step = kind / (8.0 * z)
    term = total = 1.0
    weighted = 0.5
    for k in range(1, _BESSEL_TERMS + 1):
        term = term * ((mu - (2 * k - 1) ** 2) * (step / k))
        total = total + term
        weighted = weighted + (k + 0.5) * term
    return -weighted / (total * z)


def _bessel_far(v: Any, x: Any, ans: Any, kind: float) -> Any:
    # I_v: even or odd in x (integer v), so the slope at -x is -(slope at x); K_v: x itself
    # (complex too: the series holds for |arg z| < pi/2 with the same bound on its terms)
    if kind < 0:
        return ans * (sign(x) * _bessel_log_slope(v, abs(x), kind))
    return ans * _bessel_log_slope(v, x, kind)


def _bessel_far_mask(v: Any, x: Any, kind: float) -> Any:
    if kind > 0 and is_complex(x):
        inside = abs(x) > _bessel_far_bound(v)
        right = x.real > 0.0
        return (inside and right) if not _is_array(inside) else inside & right
    return (abs(x) if kind < 0 else x) > _bessel_far_bound(v)


def _bessel_scaled_partial(v: Any, x: Any, ans: Any, near: Callable[..., Any], kind: float):
    """The partial in ``x`` of a scaled Bessel function: ``near(v, x, ans)`` (the recurrence),
    the asymptotic series far out (``_bessel_far``)."""
    if not _is_array(x) and not _is_array(v):
        return _bessel_far(v, x, ans, kind) if _bessel_far_mask(v, x, kind) else near(v, x, ans)
    out = near(v, x, ans)
    if type(x) is np.ndarray and not is_dual(v) and type(v) not in SYMBOLIC_TYPES:
        # plain values (a first derivative): the series on the far entries only
        far = _bessel_far_mask(v, x, kind)
        if not far.any():
            return out
        shape = np.shape(out)
        vs, xs, a = (np.broadcast_to(u, shape)[far] for u in (v, x, ans))
        out = np.array(out, dtype=np.result_type(out, xs))
        out[far] = _bessel_far(vs, xs, a, kind)
        return out
    # duals and traced arrays: both forms, the series evaluated far out only
    far = _bessel_far_mask(v, x, kind)
    return where(far, _bessel_far(v, where(far, x, 50.0 + v * v), ans, kind), out)


def _i0e_partial(x: Any, ans: Any) -> Any:
    return _bessel_scaled_partial(0.0, x, ans, lambda v, u, a: i1e(u) - sign(u) * a, -1.0)


def _i1e_partial(x: Any, ans: Any) -> Any:
    return _bessel_scaled_partial(
        1.0, x, ans, lambda v, u, a: 0.5 * (i0e(u) + ive(2.0, u)) - sign(u) * a, -1.0
    )


def _ive_partial(v: Any, x: Any, ans: Any) -> Any:
    return _bessel_scaled_partial(
        v, x, ans, lambda v, u, a: 0.5 * (ive(v - 1.0, u) + ive(v + 1.0, u)) - sign(u) * a, -1.0
    )


def _kve_partial(v: Any, x: Any, ans: Any) -> Any:
    return _bessel_scaled_partial(
        v, x, ans, lambda v, u, a: a - 0.5 * (kve(v - 1.0, u) + kve(v + 1.0, u)), 1.0
    )


# psi(x) - psi(x + y), beta's and betaln's partial, cancels where y is small beside x (1e-8 of
# it left at x = 1e8, y = 2.5: the two are 18.4, the difference 2.5e-8). Where x and x + y are
# both beyond 15 it is the difference of psi's asymptotic series, log z - 1/(2z) -
# sum_k B_2k/(2k z**2k), term by term: -log1p(t) - t/(2(x + y)) + sum_k B_2k/(2k x**2k)
# expm1(-2k log1p(t)), t = y/x, each without cancellation; 8 terms leave < 1e-19 there.
_PSI_TERMS = tuple(
    b / (2 * k)
    for k, b in enumerate(
        (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510), start=1
    )
)


def _psi_difference(x: Any, y: Any) -> Any:
    """``digamma(x) - digamma(x + y)``."""
    if not _is_array(x) and not _is_array(y):
        if x > 15.0 and x + y > 15.0:
            return _psi_difference_far(x, y)
        if 0.0 < 32.0 * abs(y) <= x:
            return _psi_difference_small(x, y)
        return digamma(x) - digamma(x + y)
    far = (x > 15.0) & (x + y > 15.0)
    small = (0.0 < 32.0 * abs(y)) & (32.0 * abs(y) <= x) & ~far
    if type(x) is np.ndarray and type(y) is np.ndarray or (
        type(far) is np.ndarray and not is_dual(x) and not is_dual(y)
        and type(x) not in SYMBOLIC_TYPES and type(y) not in SYMBOLIC_TYPES
    ):  # fmt: skip
        # plain values (a first derivative): each series on its entries only
        out = digamma(x) - digamma(x + y)
        for mask, series in ((far, _psi_difference_far), (small, _psi_difference_small)):
            if mask.any():
                shape = np.shape(out)
                xs, ys = (np.broadcast_to(u, shape)[mask] for u in (x, y))
                out = np.array(out, dtype=np.result_type(out, xs, ys))
                out[mask] = series(xs, ys)
        return out
    near = digamma(x) - digamma(x + y)
    out = where(far, _psi_difference_far(where(far, x, 20.0), where(far, y, 1.0)), near)
    # (a traced mask has no values: the compiler takes every form)
    if type(small) in SYMBOLIC_TYPES or np.any(_strip(small)):
        out = where(small, _psi_difference_small(where(small, x, 1.0), where(small, y, 0.0)), out)
    return out


# Where |y| is small beside x > 0 the difference cancels too (5.6e6 ulps of beta'(0.5, 1e-8)
# lost: psi(0.5) = -1.96, the difference -4.9e-8): there it is -sum_k psi^(k)(x) y**k/k!, whose
# terms fall at least as (y/x)**k <= 32**-k (12 terms leave < 1e-18)
_PSI_SMALL_TERMS = 12


def _psi_difference_small(x: Any, y: Any) -> Any:
    out = 0.0
    for k in range(_PSI_SMALL_TERMS, 0, -1):
        out = (out - polygamma(k, x) / math.factorial(k)) * y
    return out


def _psi_difference_far(x: Any, y: Any) -> Any:
    lt = log1p(y / x)
    out = -lt - y / (2.0 * x * (x + y))
    inverse = 1.0 / (x * x)
    power = inverse
    for k, c in enumerate(_PSI_TERMS, start=1):
        out = out + c * power * expm1(-2.0 * k * lt)
        power = power * inverse
    return out


# Stirling's remainder lgamma(z) - (z - 1/2) log z + z - log(2 pi)/2 = sum_k B_2k/(2k(2k - 1)
# z**(2k-1)), at plain z >= 10 (8 terms leave < 2e-18 there)
_STIRLING_TERMS = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
                   -3617 / 122400)  # fmt: skip


def _stirling(z: Any) -> Any:
    return _horner(_STIRLING_TERMS, 1.0 / (z * z)) / z


# log(1 + t) - t cancels near 0. There, with u = t/(2 + t), log(1 + t) = 2 artanh(u) gives
# -t u + 2 u³ sum_k u**2k/(2k + 3), whose terms fall by u² <= 1/9 for |t| <= 1/2 (18 terms)
_LOG1PMX_TERMS = tuple(1.0 / (2 * k + 3) for k in range(18))


def _log1pmx(t: Any, ratio: Any) -> Any:
    """``log(1 + t) - t`` (a function of a dual like any other), with ``ratio = 1 + t`` from the
    caller: where ``t`` nears -1, ``1 + t`` computed from ``t`` has lost its digits."""
    plain = _strip(t)
    if not _is_array(plain):
        return _log1pmx_near(t) if abs(plain) <= 0.5 else log(ratio) - t
    near = abs(plain) <= 0.5
    return where(near, _log1pmx_near(where(near, t, 0.0)), log(where(near, 1.0, ratio)) - t)


def _log1pmx_near(t: Any) -> Any:
    u = t / (2.0 + t)
    w = u * u
    return u * (2.0 * w * _horner(_LOG1PMX_TERMS, w) - t)


def _parameter(p: Any) -> Any:
    """The plain value of a parameter that carries no derivative (a plain number or array, or a
    dual or Taylor series whose tangents are exact zeros, as Taylor mode passes it), else None
    (then a partial keeps the form that differentiates in it: a mixed derivative)."""
    while is_dual(p):
        coefficients = getattr(p, "coefficients", None)
        rest = coefficients[1:] if coefficients is not None else [p.tangent]
        for c in rest:
            if type(c) is not np.ndarray and type(c) not in _EXACT_SCALARS or np.any(c != 0):
                return None
        p = coefficients[0] if coefficients is not None else p.value
    return None if type(p) in SYMBOLIC_TYPES else p


_EXACT_SCALARS = (float, int, np.float64, np.float32)


def _gamma_density(s: Any, x: Any) -> Any:
    """``x**(s-1) e**-x / gamma(s)``, the partial of gammainc (chdtr's too), differentiable in
    ``x``. In logs, ``(s - 1) log x - x - gammaln(s)`` cancels for a large ``s`` (terms of 456
    for a sum of -3 at s = x = 100: 200 ulps lost, 1e3 at s = 1000); from ``s = 11`` on it is
    ``exp((s - 1) (log(1 + t) - t)) / (sqrt(2 pi (s - 1)) e**mu(s - 1))``, ``t = x/(s - 1) - 1``,
    with ``mu`` Stirling's remainder: no term larger than the result's logarithm."""
    plain = _parameter(s)
    if plain is None:
        return exp(xlogy(s - 1.0, x) - x - gammaln(s))
    s = plain
    large = s >= 11.0
    if not _is_array(large):
        return _gamma_density_large(s, x) if large else exp(xlogy(s - 1.0, x) - x - gammaln(s))
    if not large.any():
        return exp(xlogy(s - 1.0, x) - x - gammaln(s))
    with np.errstate(all="ignore"):
        far = _gamma_density_large(np.where(large, s, 11.0), x)
        near = exp(xlogy(s - 1.0, x) - x - gammaln(s))
    return where(large, far, near)


def _gamma_density_large(s: Any, x: Any) -> Any:
    a = s - 1.0
    scale = 1.0 / (np.sqrt(2.0 * math.pi * a) * np.exp(_stirling(a)))
    if not _is_array(scale):
        scale = float(scale)
    return scale * exp(a * _log1pmx((x - a) / a, x / a))


def _student_density(v: Any, t: Any) -> Any:
    """The Student t density with ``v`` degrees of freedom at ``t``, stdtr's partial.
    ``gammaln((v + 1)/2) - gammaln(v/2)`` cancels as ``v`` grows (1.7e6 ulps lost at 1e6): the
    constant is ``R(v/2)/sqrt(2 pi)``, ``R(z) = gamma(z + 1/2)/(gamma(z) sqrt z)``, from
    ``z (log1p(1/2z) - 1/2z) + mu(z + 1/2) - mu(z)`` beyond ``z = 10``."""
    plain = _parameter(v)
    if plain is None:
        return exp(gammaln(0.5 * (v + 1.0)) - gammaln(0.5 * v) - 0.5 * log(v * math.pi)
                   - 0.5 * (v + 1.0) * log1p(t * t / v))  # fmt: skip
    v = plain
    if (type(v) is float or type(v) is int) and 0.0 < v < 20.0:  # (no NumPy call)
        z = 0.5 * v
        ratio = math.gamma(z + 0.5) / (math.gamma(z) * math.sqrt(z)) / _SQRT2PI
        return ratio * exp(-0.5 * (v + 1.0) * log1p(t * t / v))
    z = 0.5 * np.asarray(v, dtype=float)
    with np.errstate(all="ignore"):
        far = np.maximum(z, 10.0)
        h = 0.5 / far
        ratio = (
            np.where(
                z >= 10.0,
                np.exp(far * (np.log1p(h) - h) + _stirling(far + 0.5) - _stirling(far)),
                sc.gamma(z + 0.5) / (sc.gamma(z) * np.sqrt(z)),
            )
            / _SQRT2PI
        )
    ratio = float(ratio) if ratio.ndim == 0 else ratio
    return ratio * exp(-0.5 * (v + 1.0) * log1p(t * t / v))


def _beta_density(a: Any, b: Any, x: Any) -> Any:
    """``x**(a-1) (1-x)**(b-1) / B(a, b)``, betainc's partial, differentiable in ``x``. In logs,
    ``(a - 1) log x + (b - 1) log1p(-x) - betaln(a, b)`` cancels for a large ``a`` or ``b``
    (1.4e4 ulps lost at a = 1000, b = 2000, 2.8e6 at a = b = 1e5), and SciPy's betaln loses
    digits of its own where one is small (5e6 ulps of the result at a = 5, b = 1e6). From 11
    on both: the terms around the mode ``m = (a-1)/(a+b-2)``, ``(a-1) (log(1 + t) - t) +
    (b-1) (log(1 - s) + s)`` with ``t = d/(a-1)``, ``s = d/(b-1)``, ``d = (a+b-2) x - (a-1)``
    (their linear parts cancel exactly), and the constant from Stirling's remainder; one large
    (``b``, say): ``log B = gammaln(a) - a log(a+b) - (b - 1/2) log1p(a/b) + a + mu(b) -
    mu(a+b)``, with ``(a - 1) log x + a log(a+b)`` as ``(a - 1) log(x (a+b)) + log(a+b)``."""
    plain_a, plain_b = _parameter(a), _parameter(b)
    if plain_a is None or plain_b is None:
        return exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))
    a, b = plain_a, plain_b
    if type(a) is float and type(b) is float and a < 11.0 and b < 11.0:
        return exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))
    big_a, big_b = np.asarray(a) >= 11.0, np.asarray(b) >= 11.0
    if not (big_a | big_b).any():
        return exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))
    if not _is_array(big_a) and not _is_array(big_b):
        if big_a and big_b:
            return _beta_density_centred(a, b, x)
        return _beta_density_one_large(a, b, x, bool(big_b))
    both = big_a & big_b
    one = (big_a | big_b) & ~both
    with np.errstate(all="ignore"):
        centred = _beta_density_centred(np.where(both, a, 20.0), np.where(both, b, 20.0), x)
        right = big_b & one  # b the large one
        left = big_a & one
        by_b = _beta_density_one_large(np.where(right, a, 2.0), np.where(right, b, 20.0), x, True)
        by_a = _beta_density_one_large(np.where(left, a, 20.0), np.where(left, b, 2.0), x, False)
        near = exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))
    return where(both, centred, where(right, by_b, where(left, by_a, near)))


def _beta_density_centred(a: Any, b: Any, x: Any) -> Any:
    a1, b1 = a - 1.0, b - 1.0
    n = a1 + b1
    scale = (n + 1.0) * np.sqrt(n / (2.0 * math.pi * a1 * b1))
    scale = scale * np.exp(_stirling(n) - _stirling(a1) - _stirling(b1))
    if not _is_array(scale):
        scale = float(scale)
    # d = n x - (a - 1) to its last digits (the product's rounding error added back): the terms
    # take log(1 + t) of the ratios n x/(a - 1) and n (1 - x)/(b - 1) beside -t = -d/(a - 1),
    # whose sum only cancels for an exact d (2e5 ulps lost at a = 1e6, b = 30, x = 1 - 1e-8)
    d = n * x - a1 + _product_error(n, _strip(x))
    left = a1 * _log1pmx(d / a1, (n / a1) * x)
    return scale * exp(left + b1 * _log1pmx(-d / b1, (n / b1) * (1.0 - x)))


def _product_error(a: Any, b: Any) -> Any:
    """``a b - fl(a b)`` exactly (Dekker's product by Veltkamp's splitting), for plain values."""
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    return ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low


def _split(a: Any) -> tuple[Any, Any]:
    c = 134217729.0 * a  # 2**27 + 1
    high = c - (c - a)
    return high, a - high


def _beta_density_one_large(a: Any, b: Any, x: Any, large_b: bool) -> Any:
    p, big = (a, b) if large_b else (b, a)
    total = a + b
    constant = (np.log(total) - sc.gammaln(p) + ((big - 0.5) * np.log1p(p / big) - p)
                - _stirling(big) + _stirling(total))  # fmt: skip
    if not _is_array(constant):
        constant = float(constant)
    if large_b:
        return exp(xlogy(a - 1.0, x * total) + xlog1py(b - 1.0, -x) + constant)
    return exp(xlogy(b - 1.0, (1.0 - x) * total) + xlogy(a - 1.0, x) + constant)


def _ndtri_partial(p: Any, a: Any) -> Any:
    # sqrt(2 pi) e**(a²/2) magnifies the rounding of a = ndtri(p) by a² in the tails (460 ulps
    # lost at p = 1e-300, a = -37). There, beyond |a| = 1, 1/phi(a) = sqrt(pi/2)
    # erfcx(-a/sqrt 2)/p, as Phi(a) = p, and on the right sqrt(pi/2) erfcx(a/sqrt 2)/(1 - p)
    # (1 - p exact there): erfcx hardly moves with its argument. At 0 and 1 the exponential's
    # inf; inside |a| < 1 it loses less than an ulp (and gives ndtri'' = 0 at 1/2 exactly).
    if not _is_array(p):
        if not 0.0 < p < 1.0 or abs(a) < 1.0:
            return _SQRT2PI * exp(0.5 * (a * a))
        if p < 0.5:
            return _SQRT_PI_2 * erfcx(a * -_SQRT_HALF) / p
        return _SQRT_PI_2 * erfcx(a * _SQRT_HALF) / (1.0 - p)
    with np.errstate(over="ignore"):
        near = _SQRT2PI * exp(0.5 * (a * a))
    far = (p > 0.0) & (p < 1.0) & (abs(a) >= 1.0)
    left = p < 0.5
    q = where(far, p, 0.1)
    b = where(far, a, -1.5)
    tail = _SQRT_PI_2 * erfcx(where(left, -b, b) * _SQRT_HALF) / where(left, q, 1.0 - q)
    return where(far, tail, near)


_SQRT_PI_2 = math.sqrt(math.pi / 2.0)

# entr' = -(log x + 1) vanishes at 1/e, where log x + 1 cancelled to 0.0 (the derivative at the
# float nearest 1/e, C, is -3.4e-17): near C it is -(log1p((x - C)/C) + (log C + 1)), x - C exact
_INV_E = 0.36787944117144233
_LOG_INV_E_PLUS_1 = 3.3784855259134224e-17  # log(_INV_E) + 1, from mpmath


def _entr_partial(x: Any, a: Any) -> Any:
    if not _is_array(x):
        if abs(x - _INV_E) <= 0.5 * _INV_E:
            return -(log1p((x - _INV_E) / _INV_E) + _LOG_INV_E_PLUS_1)
        return -(log(x) + 1.0)
    near = abs(x - _INV_E) <= 0.5 * _INV_E
    close = -(log1p((where(near, x, _INV_E) - _INV_E) / _INV_E) + _LOG_INV_E_PLUS_1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return where(near, close, -(log(where(near, 1.0, x)) + 1.0))


def _rel_entr_dx(x: Any, y: Any, a: Any) -> Any:
    # log(x/y) + 1 vanishes at x = y/e (0.0 at y C for -3.4e-17): there log1p(d/(C y)) +
    # (log C + 1), d = x - C y to its last digits
    scale = _INV_E * y
    if not _is_array(x) and not _is_array(y):
        if abs(x - scale) <= 0.5 * scale:
            d = (x - scale) - _product_error(_INV_E, _strip(y))
            return log1p(d / scale) + _LOG_INV_E_PLUS_1
        return log(x / y) + 1.0
    near = abs(x - scale) <= 0.5 * scale
    u, v = where(near, x, _INV_E), where(near, y, 1.0)
    d = (u - _INV_E * v) - _product_error(_INV_E, _strip(v))
    with np.errstate(divide="ignore", invalid="ignore"):
        return where(near, log1p(d / (_INV_E * v)) + _LOG_INV_E_PLUS_1, log(x / y) + 1.0)


def _log_ratio(x: Any, y: Any, a: Any) -> Any:
    # log(x/y) lost the digits of x/y - 1 where x is near y (5e6 ulps at 1 + 1e-8 times y);
    # there log1p((x - y)/y), x - y exact
    r = x / y
    if not _is_array(r):
        return log1p((x - y) / y) if 0.5 <= r <= 2.0 else log(r)
    near = (r >= 0.5) & (r <= 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return where(near, log1p((x - y) / y), log(where(near, 1.0, r)))


def _erfcinv_partial(x: Any, a: Any) -> Any:
    # -sqrt(pi)/2 e**(a²) magnifies the rounding of a = erfcinv(x) by 2a² in the tails (150 ulps
    # lost at x = 1e-100, a = 15). Beyond |a| = 1, as erfc(a) = x, e**(a²) = erfcx(a)/x, and on
    # the other side erfcx(-a)/(2 - x) (2 - x exact there): erfcx hardly moves with a.
    if not _is_array(x):
        if not 0.0 < x < 2.0 or abs(a) < 1.0:
            return -_SQRT_PI_HALF * exp(a * a)
        if x < 1.0:
            return -_SQRT_PI_HALF * erfcx(a) / x
        return -_SQRT_PI_HALF * erfcx(-a) / (2.0 - x)
    with np.errstate(over="ignore"):
        near = -_SQRT_PI_HALF * exp(a * a)
    far = (x > 0.0) & (x < 2.0) & (abs(a) >= 1.0)
    left = x < 1.0
    q = where(far, x, 0.1)
    b = where(far, a, 1.5)
    tail = -_SQRT_PI_HALF * erfcx(where(left, b, -b)) / where(left, q, 2.0 - q)
    return where(far, tail, near)


_SQRT_PI_HALF = 0.5 * math.sqrt(math.pi)


def _real_only(name: str, partial: Callable[..., Any]) -> Callable[..., Any]:
    """A partial valid for real ``x`` only (``exp(-|x|)`` is not complex-analytic)."""

    def checked(*args: Any) -> Any:
        if is_complex(args[-2]):
            raise TypeError(f"scipy.special.{name} of a complex dual: exp(-|Re z|) is not "
                            "complex-analytic, dualdiff has no rule for it")  # fmt: skip
        return partial(*args)

    return checked


def _by_order(near: Callable[[Any], Any], far: Callable[[Any], Any]) -> Callable[..., Any]:
    """The partial ``near(x)`` up to ``|x| = 25``, ``far(x)`` beyond: SciPy's j0, j1, y0 and y1
    lose digits to their argument reduction there (1.2e7 ulps of j1 at 1e8, 5e4 at 1e6, 480 at
    1000), where its jv and yv keep them (1 ulp): j0' = -j1 took them all."""

    def partial(x: Any, ans: Any) -> Any:
        if not _is_array(x):
            return far(x) if abs(x) > 25.0 else near(x)
        if type(x) is np.ndarray:  # plain values: the far form on the far entries only
            out = near(x)
            beyond = abs(x) > 25.0
            if beyond.any():
                out = np.array(out, dtype=np.result_type(out, x))
                out[beyond] = far(x[beyond])
            return out
        beyond = abs(x) > 25.0  # (duals and traced arrays: both forms)
        return where(beyond, far(where(beyond, x, 30.0)), near(x))

    return partial


def _polygamma_array(n: Any, x: Any) -> Any:
    out = sc.polygamma(n, x)
    return out[()] if type(out) is np.ndarray and out.ndim == 0 else out


# fmt: off
_alias("expit", "sigmoid")
_alias("logit", "logit")
_alias("xlogy", "xlogy")
_alias("xlog1py", "xlog1py")
_alias("expm1", "expm1")
_alias("log1p", "log1p")
_alias("cbrt", "cbrt")

erf = _entry("erf", sc.erf, (lambda x, a: _2_SQRTPI * exp(-(x * x)),), complex=True,
             formula="d erf(x) = 2/sqrt(pi) exp(-x**2) dx")
erfc = _entry("erfc", sc.erfc, (lambda x, a: -_2_SQRTPI * exp(-(x * x)),), complex=True,
              formula="d erfc(x) = -2/sqrt(pi) exp(-x**2) dx")
erfcx = _entry("erfcx", sc.erfcx, (_erfcx_partial,), domain=((-2.0, 4.0),), complex=True,
               formula="d erfcx(x) = (2x erfcx(x) - 2/sqrt(pi)) dx")
erfinv = _entry("erfinv", sc.erfinv, (lambda x, a: (0.5 * math.sqrt(math.pi)) * exp(a * a),),
                domain=((-0.9, 0.9),), safe=True,
                formula="d erfinv(x) = sqrt(pi)/2 exp(erfinv(x)**2) dx; inf at +-1")
erfcinv = _entry("erfcinv", sc.erfcinv, (_erfcinv_partial,),
                 domain=((0.1, 1.9),), safe=True,
                 formula="d erfcinv(x) = -sqrt(pi)/2 exp(erfcinv(x)**2) dx; inf at 0 and 2")
log_expit = _entry("log_expit", sc.log_expit, (lambda x, a: sigmoid(-x),), domain=((-8.0, 8.0),),
                   formula="d log(expit(x)) = expit(-x) dx")
ndtr = _entry("ndtr", sc.ndtr, (lambda x, a: exp(-0.5 * (x * x)) / _SQRT2PI,), complex=True,
              formula="d ndtr(x) = exp(-x**2/2)/sqrt(2 pi) dx")
log_ndtr = _entry("log_ndtr", sc.log_ndtr, (_log_ndtr_partial,),
                  domain=((-6.0, 4.0),), complex=True,
                  formula="d log(ndtr(x)) = exp(-x**2/2 - log_ndtr(x))/sqrt(2 pi) dx")
ndtri = _entry("ndtri", sc.ndtri, (_ndtri_partial,),
               domain=((0.05, 0.95),), safe=True,
               formula="d ndtri(p) = sqrt(2 pi) exp(ndtri(p)**2/2) dp; inf at 0 and 1")
gamma = _entry("gamma", sc.gamma, (lambda x, a: a * digamma(x),), domain=((0.3, 4.0),),
               complex=True, formula="d gamma(x) = gamma(x) digamma(x) dx")
gammaln = _entry("gammaln", sc.gammaln, (lambda x, a: digamma(x),), domain=((0.3, 5.0),),
                 formula="d log|gamma(x)| = digamma(x) dx")
loggamma = _entry("loggamma", sc.loggamma, (lambda x, a: digamma(x),), domain=((0.3, 5.0),),
                  complex=True, formula="d loggamma(x) = digamma(x) dx")
polygamma = _entry("polygamma", None, (None, lambda n, x, a: polygamma(n + 1, x)),
                   array=_polygamma_array, domain=((1.0, 3.0), (0.3, 5.0)),
                   parameters={0: "the order n"},
                   formula="d polygamma(n, x) = polygamma(n + 1, x) dx (n an integer)")
digamma = _entry("digamma", sc.digamma, (lambda x, a: polygamma(1, x),), domain=((0.3, 5.0),),
                 formula="d digamma(x) = polygamma(1, x) dx")
beta = _entry("beta", sc.beta, (lambda x, y, a: a * _psi_difference(x, y),
                                lambda x, y, a: a * _psi_difference(y, x)),
              domain=((0.5, 3.0), (0.5, 3.0)),
              formula="d beta(a, b) = beta(a, b) ((psi(a) - psi(a+b)) da + (psi(b) - psi(a+b)) db)")
betaln = _entry("betaln", sc.betaln, (lambda x, y, a: _psi_difference(x, y),
                                      lambda x, y, a: _psi_difference(y, x)),
                domain=((0.5, 3.0), (0.5, 3.0)),
                formula="d betaln(a, b) = (psi(a) - psi(a+b)) da + (psi(b) - psi(a+b)) db")
gammainc = _entry("gammainc", sc.gammainc,
                  (None, lambda s, x, a: _gamma_density(s, x)),
                  domain=((0.5, 3.0), (0.1, 4.0)), safe=True, parameters={0: "the parameter a"},
                  formula="d P(a, x) = x**(a-1) e**-x / gamma(a) dx")
gammaincc = _entry("gammaincc", sc.gammaincc,
                   (None, lambda s, x, a: -_gamma_density(s, x)),
                   domain=((0.5, 3.0), (0.1, 4.0)), safe=True, parameters={0: "the parameter a"},
                   formula="d Q(a, x) = -x**(a-1) e**-x / gamma(a) dx")
entr = _entry("entr", sc.entr, (_entr_partial,), domain=((0.1, 3.0),), safe=True,
              formula="d(-x log x) = -(log(x) + 1) dx; +inf at 0")
rel_entr = _entry("rel_entr", sc.rel_entr, (_rel_entr_dx,
                                            lambda x, y, a: -x / y),
                  domain=((0.1, 3.0), (0.1, 3.0)), safe=True,
                  formula="d x log(x/y) = (log(x/y) + 1) dx - x/y dy")
kl_div = _entry("kl_div", sc.kl_div, (_log_ratio, lambda x, y, a: (y - x) / y),
                domain=((0.1, 3.0), (0.1, 3.0)), safe=True,
                formula="d(x log(x/y) - x + y) = log(x/y) dx + (1 - x/y) dy")
i0 = _entry("i0", sc.i0, (lambda x, a: i1(x),), formula="d i0(x) = i1(x) dx")
i0e = _entry("i0e", sc.i0e, (_i0e_partial,),
             formula="d i0e(x) = (i1e(x) - sign(x) i0e(x)) dx; sign(0) = 0")
i1 = _entry("i1", sc.i1, (lambda x, a: 0.5 * (i0(x) + iv(2.0, x)),),
            formula="d i1(x) = (i0(x) + iv(2, x))/2 dx")
i1e = _entry("i1e", sc.i1e, (_i1e_partial,),
             formula="d i1e(x) = ((i0e(x) + ive(2, x))/2 - sign(x) i1e(x)) dx")
j0 = _entry("j0", sc.j0, (_by_order(lambda u: -j1(u), lambda u: -jv(1.0, u)),),
            domain=((0.2, 6.0),),
            formula="d j0(x) = -j1(x) dx")
j1 = _entry("j1", sc.j1, (_by_order(lambda u: 0.5 * (j0(u) - jv(2.0, u)),
                                     lambda u: 0.5 * (jv(0.0, u) - jv(2.0, u))),),
            domain=((0.2, 6.0),),
            formula="d j1(x) = (j0(x) - jv(2, x))/2 dx")
y0 = _entry("y0", sc.y0, (_by_order(lambda u: -y1(u), lambda u: -yv(1.0, u)),),
            domain=((0.5, 6.0),),
            formula="d y0(x) = -y1(x) dx")
y1 = _entry("y1", sc.y1, (_by_order(lambda u: 0.5 * (y0(u) - yv(2.0, u)),
                                     lambda u: 0.5 * (yv(0.0, u) - yv(2.0, u))),),
            domain=((0.5, 6.0),),
            formula="d y1(x) = (y0(x) - yv(2, x))/2 dx")
jv = _entry("jv", sc.jv, (None, lambda v, x, a: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x))),
            domain=((0.0, 2.5), (0.5, 6.0)), complex=True, parameters={0: "the order v"},
            formula="d jv(v, x) = (jv(v-1, x) - jv(v+1, x))/2 dx")
yv = _entry("yv", sc.yv, (None, lambda v, x, a: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x))),
            domain=((0.0, 2.5), (0.5, 6.0)), complex=True, parameters={0: "the order v"},
            formula="d yv(v, x) = (yv(v-1, x) - yv(v+1, x))/2 dx")
iv = _entry("iv", sc.iv, (None, lambda v, x, a: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x))),
            domain=((0.0, 2.5), (0.3, 4.0)), complex=True, parameters={0: "the order v"},
            formula="d iv(v, x) = (iv(v-1, x) + iv(v+1, x))/2 dx")
ive = _entry("ive", sc.ive,
             (None, _real_only("ive", _ive_partial)),
             domain=((0.0, 2.5), (0.3, 4.0)), parameters={0: "the order v"},
             formula="d ive(v, x) = ((ive(v-1, x) + ive(v+1, x))/2 - sign(x) ive(v, x)) dx")
kv = _entry("kv", sc.kv, (None, lambda v, x, a: -0.5 * (kv(v - 1.0, x) + kv(v + 1.0, x))),
            domain=((0.0, 2.5), (0.3, 4.0)), complex=True, parameters={0: "the order v"},
            formula="d kv(v, x) = -(kv(v-1, x) + kv(v+1, x))/2 dx")
kve = _entry("kve", sc.kve, (None, _kve_partial),
             domain=((0.0, 2.5), (0.3, 4.0)), complex=True, parameters={0: "the order v"},
             formula="d kve(v, x) = (kve(v, x) - (kve(v-1, x) + kve(v+1, x))/2) dx")
# scipy.special.zeta(x, q) calls these two ufuncs: the Hurwitz zeta and the Riemann zeta.
_ZETA = getattr(_ufuncs, "_zeta", None)
_RIEMANN_ZETA = getattr(_ufuncs, "_riemann_zeta", None)
zeta = _entry("zeta", _ZETA, (None, lambda x, q, a: -x * zeta(x + 1.0, q)),
              array=_ZETA or (lambda x, q: sc.zeta(x, q)),
              domain=((1.5, 4.0), (0.5, 3.0)), parameters={0: "the exponent x"},
              formula="d zeta(x, q) = -x zeta(x + 1, q) dq")
riemann_zeta = _entry("riemann_zeta", _RIEMANN_ZETA, (None,), array=_RIEMANN_ZETA or sc.zeta,
                      domain=((1.5, 4.0),), parameters={0: "the exponent x"},
                      formula="no rule in x")
exprel = _entry("exprel", sc.exprel, (_exprel_partial,),
                formula="d (e**x - 1)/x = (e**x - exprel(x))/x dx; 1/2 at 0")
dawsn = _entry("dawsn", sc.dawsn, (_dawsn_partial,), complex=True,
               formula="d dawsn(x) = (1 - 2x dawsn(x)) dx")
spence = _entry("spence", sc.spence, (_spence_partial,), domain=((0.2, 3.0),), complex=True,
                safe=True, formula="d spence(z) = log(z)/(1 - z) dz; -1 at z = 1")
ellipk = _entry("ellipk", sc.ellipk, (_ellipk_partial,), domain=((-1.0, 0.9),), safe=True,
                formula="d K(m) = (E(m) - (1-m) K(m)) / (2m(1-m)) dm; pi/8 at 0, inf at 1")
ellipe = _entry("ellipe", sc.ellipe, (_ellipe_partial,), domain=((-1.0, 0.9),), safe=True,
                formula="d E(m) = (E(m) - K(m)) / (2m) dm; -pi/8 at 0, -inf at 1")
exp1 = _entry("exp1", sc.exp1, (lambda x, a: -exp(-x) / x,), domain=((0.2, 4.0),), complex=True,
              formula="d E1(x) = -e**-x / x dx")
expi = _entry("expi", sc.expi, (lambda x, a: exp(x) / x,), domain=((0.2, 4.0),), complex=True,
              formula="d Ei(x) = e**x / x dx")
def _expn_dx(n: Any, x: Any, ans: Any) -> Any:
    # d E_n = -E_(n-1) dx; SciPy's E_n stops at n = 0, E_0(x) = e**-x / x, differentiated directly
    e0 = -exp(-x) * (1.0 + x) / (x * x)
    if not _is_array(n):
        return -expn(n - 1, x) if n >= 1 else e0
    return where(n >= 1, -expn(np.maximum(n - 1, 0), x), e0)


expn = _entry("expn", sc.expn, (None, _expn_dx),
              domain=((1.0, 4.0), (0.2, 4.0)), parameters={0: "the order n"},
              formula="d E_n(x) = -E_(n-1)(x) dx (E_0(x) = e**-x / x)")
rgamma = _entry("rgamma", sc.rgamma, (_rgamma_partial,), domain=((0.3, 4.0),),
                complex=True, formula="d 1/gamma(x) = -digamma(x)/gamma(x) dx; (-1)**n n! at -n")
exp10 = _entry("exp10", sc.exp10, (lambda x, a: a * math.log(10.0),),
               formula="d 10**x = 10**x log(10) dx")
exp2 = _entry("exp2", sc.exp2, (lambda x, a: a * math.log(2.0),), formula="d 2**x = 2**x log(2) dx")
sindg = _entry("sindg", sc.sindg, (lambda x, a: (math.pi / 180.0) * cosdg(x),),
               domain=((-300.0, 300.0),), formula="d sin(x degrees) = pi/180 cosdg(x) dx")
cosdg = _entry("cosdg", sc.cosdg, (lambda x, a: (-math.pi / 180.0) * sindg(x),),
               domain=((-300.0, 300.0),), formula="d cos(x degrees) = -pi/180 sindg(x) dx")
stdtr = _entry("stdtr", sc.stdtr,
               (None, lambda v, t, a: _student_density(v, t)),
               domain=((1.0, 10.0), (-3.0, 3.0)), parameters={0: "the degrees of freedom df"},
               formula="d stdtr(df, t) = the Student t density at t dt")
chdtr = _entry("chdtr", sc.chdtr,
               (None, lambda v, x, a: 0.5 * _gamma_density(0.5 * v, 0.5 * x)),
               domain=((1.0, 6.0), (0.2, 6.0)), safe=True,
               parameters={0: "the degrees of freedom v"},
               formula="d chdtr(v, x) = the chi-square density at x dx")
chdtrc = _entry("chdtrc", sc.chdtrc,
                (None, lambda v, x, a: -0.5 * _gamma_density(0.5 * v, 0.5 * x)),
                domain=((1.0, 6.0), (0.2, 6.0)), safe=True,
                parameters={0: "the degrees of freedom v"},
                formula="d chdtrc(v, x) = -the chi-square density at x dx")
# fmt: on

EXTRA_UFUNC_RULES[sc.psi] = SPECIAL_RULES["psi"] = SPECIAL_RULES["digamma"]
PARAMETERS["psi"] = {}


# ---------------------------------------------------------------------------------------------
# Functions of three or four arguments, differentiable in the last one only (hyp2f1, betainc)
# ---------------------------------------------------------------------------------------------


def _strip(x: Any) -> Any:
    while is_dual(x):
        x = x.value
    return x


def _in_last(
    name: str,
    ufunc: Any,
    parameters: tuple[str, ...],
    partial: Callable[..., Any],
    *,
    domain: tuple[tuple[float, float], ...],
    complex: bool = False,
    safe: bool = False,
    formula: str = "",
) -> Callable[..., Any]:
    """An entry whose arguments but the last are parameters without a rule. The table's rules take
    one or two arguments; with the parameters plain, this is a one-argument rule in the last,
    built per call. The entry itself (all arguments) serves the compiler and the sparsity
    tracer, which apply its partials directly."""

    def function(*args: Any) -> Any:
        *params, z = args
        for i, p in enumerate(params):
            if is_dual(p):
                _no_closed_form(name, parameters[i])()
        if not is_dual(z) and type(z) not in SYMBOLIC_TYPES:
            return ufunc(*args)
        if is_dual(z):
            shape = np.broadcast_shapes(*(np.shape(p) for p in params), np.shape(_strip(z)))
            if shape != np.shape(_strip(z)):  # the result has the parameters' shape: so has z
                z = np.broadcast_to(z, shape)
        array = lambda u: ufunc(*params, u)  # noqa: E731
        scalar = all(np.ndim(p) == 0 for p in params)
        rule = Rule(name, 1, None, _scalar(array) if scalar else array, array,
                    (lambda u, ans: partial(*params, u, ans),), safe=safe,
                    complex=complex)  # fmt: skip
        return specialise(rule).function(z)

    function.__name__ = function.__qualname__ = name
    entry = Rule(name, len(parameters) + 1, None, None, ufunc,
                 tuple(_no_closed_form(name, p) for p in parameters) + (partial,), safe=safe,
                 domain=domain, complex=complex, formula=formula)  # fmt: skip
    entry.ufunc = ufunc
    entry.function = function
    SPECIAL_RULES[name] = entry
    PARAMETERS[name] = dict(enumerate(parameters))
    EXTRA_UFUNC_RULES[ufunc] = entry
    return function


def _betainc_dx(a: Any, b: Any, x: Any, ans: Any) -> Any:
    # x**(a-1) (1-x)**(b-1) / B(a, b), in logs (and right at x = 0 or 1 through xlogy's convention)
    return _beta_density(a, b, x)


# fmt: off
hyp2f1 = _in_last("hyp2f1", sc.hyp2f1, ("the parameter a", "the parameter b", "the parameter c"),
                  lambda a, b, c, z, ans: (a * b / c) * hyp2f1(a + 1.0, b + 1.0, c + 1.0, z),
                  domain=((0.2, 1.5), (0.3, 2.0), (1.2, 3.0), (-0.8, 0.8)), complex=True,
                  formula="d 2F1(a, b; c; z) = a b / c 2F1(a+1, b+1; c+1; z) dz")
betainc = _in_last("betainc", sc.betainc, ("the parameter a", "the parameter b"), _betainc_dx,
                   domain=((0.5, 3.0), (0.5, 3.0), (0.05, 0.95)), safe=True,
                   formula="d I_x(a, b) = x**(a-1) (1-x)**(b-1) / B(a, b) dx")
betaincc = _in_last("betaincc", sc.betaincc, ("the parameter a", "the parameter b"),
                    lambda a, b, x, ans: -_betainc_dx(a, b, x, ans),
                    domain=((0.5, 3.0), (0.5, 3.0), (0.05, 0.95)), safe=True,
                    formula="d (1 - I_x(a, b)) = -x**(a-1) (1-x)**(b-1) / B(a, b) dx")
# fmt: on


# ---------------------------------------------------------------------------------------------
# logsumexp, softmax, log_softmax: SciPy's call np.asarray first, these take duals
# ---------------------------------------------------------------------------------------------


def _shift(a: Any, axis: Any) -> Any:
    """A plain maximum of ``a`` along ``axis`` (kept dims): ``log Σ e**a = m + log Σ e**(a-m)``
    holds for any constant ``m``, so the shift carries no tangent and the result stays exact."""
    v = np.real(_strip(a))
    m = np.max(v, axis=axis, keepdims=True) if np.size(v) else np.zeros_like(v)
    return np.where(np.isfinite(m), m, 0.0)


def logsumexp(
    a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False
) -> Any:
    """``scipy.special.logsumexp`` for duals (same arguments): ``log Σ b e**a``, computed stably,
    with exact derivatives in ``a`` and ``b``."""
    if not is_dual(a):
        a = np.asarray(a)
    m = _shift(a, axis)
    e = np.exp(a - m)
    if b is not None:
        e = b * e
    s = np.sum(e, axis=axis, keepdims=True)
    sign = None
    if return_sign:
        sign = np.sign(_strip(s))
        s = s * np.where(sign == 0, 1.0, sign)  # |s| for real s, with the tangent of |s|
    with np.errstate(divide="ignore"):
        out = np.log(s) + m
    if not keepdims:
        shape = np.shape(np.sum(np.zeros(np.shape(_strip(e))), axis=axis))
        out = np.reshape(out, shape)
        sign = None if sign is None else np.reshape(sign, shape)
    return (out, sign) if return_sign else out


def softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.softmax`` for duals: ``e**x / Σ e**x`` along ``axis``, computed stably."""
    if not is_dual(x):
        x = np.asarray(x)
    e = np.exp(x - _shift(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.log_softmax`` for duals: ``x - logsumexp(x)`` along ``axis``."""
    if not is_dual(x):
        x = np.asarray(x)
    shifted = x - _shift(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
