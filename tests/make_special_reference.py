"""Write tests/special_reference.py: 40-digit references for scipy.special at high orders.

Run from the repository root (needs mpmath, which the tests themselves do not):

    python tests/make_special_reference.py

Each entry is ``f⁽ⁿ⁾(x)`` for a scipy.special function ``f`` written with mpmath, computed by
``mpmath.diff`` (high-precision finite differences) at 40 significant digits and again at 60;
the two must agree to 25 digits before the value is rounded to float64 and stored. ``exprel``'s
come from the closed form ``exprel⁽ⁿ⁾(x) = ₁F₁(n+1; n+2; x)/(n+1)``, and spence's ``n``-th
derivative is the ``(n-1)``-th of ``spence' = log(z)/(1 - z)``; betaln's and beta's come from
digamma and trigamma (``psi(x) - psi(x + y)``, whose numerical derivative would need more digits
than the working precision holds at 1e15); ndtri's is 1/phi at the root of Phi(t) = p,
and erfcx's at complex points from 2z erfcx(z) - 2/sqrt(pi); ``ellipk``'s and ``ellipe``'s
near 1 and far left of 0 come from their closed form in ``₂F₁`` (see ``ELLIPTIC_POINTS``);
the partials of gammainc, betainc and stdtr at large parameters are their densities (see
``DENSITIES``), erfcinv's in its tails ``-sqrt(pi)/2 e**(y²)`` at the root of ``erfc(y) = x``,
and log_ndtr's far left is differentiated at 120 and 160 digits.
tests/test_special.py reads them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mpmath as mp

# name: (function of an mpmath number, derivatives already taken, points, orders)
FUNCTIONS = {
    "jv": (lambda x: mp.besselj(1.5, x), 0, (2.5,), (20,)),
    "kv": (lambda x: mp.besselk(0.5, x), 0, (2.5,), (20,)),
    "i0": (lambda x: mp.besseli(0, x), 0, (2.5,), (20,)),
    "j0": (lambda x: mp.besselj(0, x), 0, (2.5,), (20,)),
    "ellipk": (mp.ellipk, 0, (0.3, 0.95), (20,)),
    "ellipe": (mp.ellipe, 0, (0.3, -0.7), (20,)),
    "spence": (lambda z: mp.log(z) / (1 - z), 1, (0.3, 1.2, 10.0), (20,)),
    "erfcx": (lambda x: mp.exp(x * x) * mp.erfc(x), 0, (-2.0, 0.2, 0.5, 3.0, 10.0), (20,)),
    "log_ndtr": (lambda x: mp.log(mp.ncdf(x)), 0, (-3.0, -8.0, -0.3, 0.5), (20,)),
    "erfcx large": (lambda x: mp.exp(x * x) * mp.erfc(x), 0, (30.0, 1e3, 1e5, 1e8), (1, 2)),
    "dawsn large": (
        lambda x: mp.sqrt(mp.pi) / 2 * mp.exp(-x * x) * mp.erfi(x),
        0,
        (20.0, 1e3, 1e5, 1e8, -1e5),
        (1,),
    ),
    "log_ndtr large": (lambda x: mp.log(mp.ncdf(x)), 0, (-20.0, -1e3, -1e5), (1,)),
    "i0e large": (lambda x: mp.besseli(0, x) * mp.exp(-abs(x)), 0, (30.0, 1e4, 1e8, -1e8), (1, 2)),
    "i1e large": (lambda x: mp.besseli(1, x) * mp.exp(-abs(x)), 0, (700.0, 1e8, -1e4), (1, 2)),
    "ive(1.5) large": (lambda x: mp.besseli(1.5, x) * mp.exp(-x), 0, (100.0, 1e8), (1, 2)),
    "ive(2) large": (lambda x: mp.besseli(2, x) * mp.exp(-abs(x)), 0, (-1e4,), (1, 2)),
    "ive(20) large": (lambda x: mp.besseli(20, x) * mp.exp(-x), 0, (300.0,), (1,)),
    "kve(0.5) large": (lambda x: mp.besselk(0.5, x) * mp.exp(x), 0, (1e4, 1e8), (1, 2)),
    "kve(1.5) large": (
        lambda x: mp.besselk(1.5, x) * mp.exp(x),
        0,
        (50.0, 1e8, 1e4 + 1e3j),
        (1, 2),
    ),
    "sinc small": (mp.sincpi, 0, (1e-3, 1.1e-3, 0.05, -0.05), (1, 2)),
    "betaln large": (lambda x: mp.digamma(x) - mp.digamma(x + 2.5), 1, (700.0, 1e8, 1e15), (1,)),
    "betaln large'": (
        lambda x: mp.polygamma(1, x) - mp.polygamma(1, x + 2.5),
        2,
        (700.0, 1e8, 1e15),
        (2,),
    ),
    "beta large": (
        lambda x: mp.beta(x, 2.5) * (mp.digamma(x) - mp.digamma(x + 2.5)),
        1,
        (1e4, 1e8),
        (1,),
    ),
    "ndtri tail": (
        lambda p: mp.sqrt(2 * mp.pi) * mp.exp(_ndtri(p) ** 2 / 2),
        1,
        (1e-300, 1e-100),
        (1,),
    ),
    "dawsn complex": (
        lambda z: 1 - z * mp.sqrt(mp.pi) * mp.exp(-z * z) * mp.erfi(z),
        1,
        (1e4 + 2e3j, -1e4 - 2e3j, 20 + 19.5j, 20 - 19.5j, 7.6 + 7.5j, 9.8 + 1.98j, 1e6 + 2e5j),
        (1, 2),
    ),
    "j0 large": (lambda x: mp.besselj(0, x), 0, (1e3, 1e4, 1e8, -1e4), (1, 2)),
    "j1 large": (lambda x: mp.besselj(1, x), 0, (1e3, 1e4, 1e8, -1e4), (1, 2)),
    "y0 large": (lambda x: mp.bessely(0, x), 0, (1e3, 1e4, 1e8), (1, 2)),
    "y1 large": (lambda x: mp.bessely(1, x), 0, (1e3, 1e4, 1e8), (1, 2)),
    "beta small y": (lambda x: mp.beta(x, mp.mpf(1e-8)), 0, (0.5, 3.0), (1, 2)),
    "betaln small y": (lambda x: mp.log(mp.beta(x, mp.mpf(1e-8))), 0, (0.5,), (1, 2)),
    "erfcx complex": (
        lambda z: 2 * z * mp.exp(z * z) * mp.erfc(z) - 2 / mp.sqrt(mp.pi),
        1,
        (20 + 5j, 20 + 40j, 40j, 10 - 7j),
        (1, 2),
    ),
}
# K and E near m = 1, around the switch to the expansion there (0.6) and far left of 0; orders
# 1 and 2 are the eager rules'. From the closed form K⁽ⁿ⁾(m) = n! (π/2) (1/2)ₙ²/(n!)²
# ₂F₁(1/2+n, 1/2+n; 1+n; m), and E's with (-1/2)ₙ(1/2)ₙ and ₂F₁(-1/2+n, 1/2+n; 1+n; m).
ELLIPTIC_POINTS = (0.999999, 0.999, 0.6, 0.59, -1e6, -30.0, -7.0, -6.0, -1.5)
ELLIPTIC_ORDERS = (1, 2, 6, 20, 30)
# 1/Γ: away from the poles of Γ, beside them (where 1/Γ crosses 0) and on them
RGAMMA_POINTS = (0.7, 0.3, 5.0, 20.0, -0.5, -2.3, -3.0001, -20.5, -1.0, 0.0)
RGAMMA_ORDERS = (1, 2, 6, 12, 20, 30)
# Densities, the partials of the incomplete gamma and beta functions and of stdtr, where their
# logarithms' terms are large: order 1 is the density, order 2 the density times d/dx its log.
# Names carry the parameters (gammainc(a), betainc(a, b), stdtr(df)); x = 1 - 1e-8 is written
# as its float.
DENSITIES = {
    "gammainc(100)": (
        lambda x: x**99 * mp.exp(-x) / mp.gamma(100),
        lambda x: 99 / x - 1,
        (100.0, 110.0, 3.0),
    ),
    "gammainc(1e4)": (
        lambda x: x**9999 * mp.exp(-x) / mp.gamma(10000),
        lambda x: 9999 / x - 1,
        (10000.0, 10100.0, 9000.0),
    ),
    "gammainc(1e6)": (
        lambda x: x**999999 * mp.exp(-x) / mp.gamma(1000000),
        lambda x: 999999 / x - 1,
        (1000000.0, 1003000.0),
    ),
    "betainc(1000, 2000)": (
        lambda x: x**999 * (1 - x) ** 1999 / mp.beta(1000, 2000),
        lambda x: 999 / x - 1999 / (1 - x),
        (0.3, 1 / 3, 0.34),
    ),
    "betainc(1e5, 1e5)": (
        lambda x: x**99999 * (1 - x) ** 99999 / mp.beta(100000, 100000),
        lambda x: 99999 / x - 99999 / (1 - x),
        (0.5, 0.501),
    ),
    "betainc(1e6, 30)": (
        lambda x: x**999999 * (1 - x) ** 29 / mp.beta(1000000, 30),
        lambda x: 999999 / x - 29 / (1 - x),
        (0.99997, 0.9999, 1 - 1e-8),
    ),
    "betainc(5, 1e6)": (
        lambda x: x**4 * (1 - x) ** 999999 / mp.beta(5, 1000000),
        lambda x: 4 / x - 999999 / (1 - x),
        (5e-6, 1e-8),
    ),
    "betainc(12, 40)": (
        lambda x: x**11 * (1 - x) ** 39 / mp.beta(12, 40),
        lambda x: 11 / x - 39 / (1 - x),
        (1e-8, 0.2),
    ),
    "stdtr(1e6)": (
        lambda t: _student(1000000, t),
        lambda t: -1000001 * t / (1000000 + t * t),
        (0.5, -3.0, 30.0),
    ),
    "stdtr(1e15)": (
        lambda t: _student(10**15, t),
        lambda t: -(10**15 + 1) * t / (10**15 + t * t),
        (0.5, 2.0),
    ),
}
# first derivatives that vanish or nearly: entr' = -(log x + 1) at the float nearest 1/e (and
# rel_entr's log(x/3) + 1 at 3/e),
# d/dx kl_div(x, 3) = log(x/3) and d/dy kl_div(1, y) = 1 - 1/y beside 3 and 1
FIRST = {
    "entr": (lambda x: -(mp.log(x) + 1), (0.36787944117144233, 0.3678794411714424)),
    "rel_entr(., 3)": (lambda x: mp.log(x / 3) + 1, (1.1036383235143272, 1.10363832351433)),
    "kl_div(., 3)": (lambda x: mp.log(x / 3), (3.00000003, 2.9999999)),
    "kl_div(1, .)": (lambda y: 1 - 1 / y, (1.00000001, 0.9999999999)),
}
# erfcinv in its tails: -sqrt(pi)/2 e**(y²) at the root y of erfc(y) = x, and its derivative
ERFCINV_POINTS = (1e-100, 1e-20, 2 - 1e-15)
# log_ndtr far left: its third derivative is 1e-74 of its value at -1e15, so mpmath.diff works at
# 120 and 160 digits there
LOG_NDTR_FAR = ((-1e15, (2, 3)), (-1e8, (2, 3)))
EXPREL_POINTS = (0.3, 0.6, 2.0, -3.0, -25.0, 40.0, -0.3, -0.6, -2.0, 3.0, 25.0, -40.0, 0.0)
EXPREL_ORDERS = (2, 5, 12, 20, 40)


def _ndtri(p):
    """The normal quantile: the root of Phi(t) = p, from its asymptotic start."""
    return mp.findroot(lambda t: mp.log(mp.ncdf(t)) - mp.log(p), -mp.sqrt(-2 * mp.log(p)))


def _erfcinv(x):
    """The root of erfc(y) = x, from its asymptotic start (its negative above 1)."""
    if x > 1:
        return -_erfcinv(2 - x)
    return mp.findroot(lambda y: mp.log(mp.erfc(y)) - mp.log(x), mp.sqrt(-mp.log(x)))


def _student(v, t):
    """The Student t density with ``v`` degrees of freedom."""
    v = mp.mpf(v)
    return (
        mp.gamma((v + 1) / 2)
        / (mp.gamma(v / 2) * mp.sqrt(v * mp.pi))
        * (1 + t * t / v) ** (-(v + 1) / 2)
    )


def _diff(f, x: float | complex, n: int, precision: tuple[int, int] = (40, 60)) -> float | complex:
    values = []
    for digits in precision:
        mp.mp.dps = digits
        values.append(mp.diff(f, mp.mpmathify(x), n))
    mp.mp.dps = 40
    if abs(values[0] - values[1]) > abs(values[1]) * mp.mpf(10) ** -25:
        raise SystemExit(f"references disagree at {x}, order {n}: {values}")
    return complex(values[1]) if isinstance(x, complex) else float(values[1])


def main() -> None:
    lines = [
        '"""40-digit references for scipy.special at high orders, written by',
        'tests/make_special_reference.py (see there how): ``DERIVATIVES[(name, x, n)]``."""',
        "",
        "DERIVATIVES = {",
    ]
    for name, (f, taken, points, orders) in FUNCTIONS.items():
        for x in points:
            for n in orders:
                lines.append(f"    ({name!r}, {x!r}, {n}): {_diff(f, x, n - taken)!r},")
    mp.mp.dps = 40
    for x in EXPREL_POINTS:
        for n in EXPREL_ORDERS:
            value = mp.hyp1f1(n + 1, n + 2, mp.mpf(x)) / (n + 1)
            lines.append(f"    ('exprel', {x!r}, {n}): {float(value)!r},")
    for name, a in (("ellipk", mp.mpf(1) / 2), ("ellipe", -mp.mpf(1) / 2)):
        for m in ELLIPTIC_POINTS:
            for n in ELLIPTIC_ORDERS:
                mp.mp.dps = 40
                value = mp.rf(a, n) * mp.rf(mp.mpf(1) / 2, n) / mp.factorial(n) * mp.pi / 2
                value *= mp.hyp2f1(a + n, mp.mpf(1) / 2 + n, 1 + n, mp.mpf(m))
                lines.append(f"    ({name!r}, {m!r}, {n}): {float(value)!r},")
    for name, (density, slope, points) in DENSITIES.items():
        mp.mp.dps = 40
        for x in points:
            value = density(mp.mpf(x))
            lines.append(f"    ({name!r}, {x!r}, 1): {float(value)!r},")
            lines.append(f"    ({name!r}, {x!r}, 2): {float(value * slope(mp.mpf(x)))!r},")
    mp.mp.dps = 40
    for name, (first, points) in FIRST.items():
        for x in points:
            lines.append(f"    ({name!r}, {x!r}, 1): {float(first(mp.mpf(x)))!r},")
    for x in ERFCINV_POINTS:
        mp.mp.dps = 40
        y = _erfcinv(mp.mpf(x))
        first = -mp.sqrt(mp.pi) / 2 * mp.exp(y * y)
        lines.append(f"    ('erfcinv tail', {x!r}, 1): {float(first)!r},")
        lines.append(f"    ('erfcinv tail', {x!r}, 2): {float(2 * y * first * first)!r},")
    for x, orders in LOG_NDTR_FAR:
        for n in orders:
            value = _diff(lambda t: mp.log(mp.ncdf(t)), x, n, (120, 160))
            lines.append(f"    ('log_ndtr far', {x!r}, {n}): {value!r},")
    for x in RGAMMA_POINTS:
        for n in RGAMMA_ORDERS:
            lines.append(f"    ('rgamma', {x!r}, {n}): {_diff(mp.rgamma, x, n)!r},")
    lines.append("}")
    path = Path(__file__).with_name("special_reference.py")
    path.write_text("\n".join(lines) + "\n")
    sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
