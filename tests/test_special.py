"""scipy.special's functions through the rule table, tested from the table
(dualdiff.rules.scipy_special).

Every entry is called as user code calls it, through the SciPy ufunc on duals; the reference is a
6th-order central difference of the plain SciPy function, which never touches the derivative code.
Parameters without a derivative rule (an order, ``gammainc``'s ``a``) are held at plain values.
"""

from __future__ import annotations

import cmath
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from reference import assert_close, directional
from special_reference import DERIVATIVES

import dualdiff as dd
from dualdiff.arrays.dualarray import DualArray
from dualdiff.dual.dual import Dual

sc = pytest.importorskip("scipy.special")
special = pytest.importorskip("dualdiff.rules.scipy_special")

FRACTIONS = (0.13, 0.37, 0.61, 0.89)
OWN = sorted(name for name, rule in special.SPECIAL_RULES.items() if rule.name == name)
ALIASES = sorted(name for name, rule in special.SPECIAL_RULES.items() if rule.name != name)
COMPLEX = [name for name in OWN if special.SPECIAL_RULES[name].complex]
# polygamma's order is an integer; the other parameters take the points of their domain
PARAMETER_VALUES = {"polygamma": [1, 2, 0, 3], "expn": [1, 0, 3, 2]}


def points(interval):
    lo, hi = interval
    return [lo + (hi - lo) * f for f in FRACTIONS]


def call(name):
    """The function as user code calls it: SciPy's ufunc (so NumPy dispatches), or the rule."""
    rule = special.SPECIAL_RULES[name]
    return rule.ufunc if rule.ufunc is not None else rule.function


def cases(name):
    """(arguments, index of the differentiable argument) at points of the domain."""
    rule = special.SPECIAL_RULES[name]
    parameters = special.PARAMETERS[name]
    columns = [
        PARAMETER_VALUES.get(name, points(interval)) if i in parameters else points(interval)
        for i, interval in enumerate(rule.domain)
    ]
    rows = list(zip(*columns)) + (
        list(zip(columns[0], reversed(columns[1]))) if rule.nin == 2 else []
    )
    free = [i for i in range(rule.nin) if i not in parameters]
    return [(row, i) for row in rows for i in free]


def plain(name, args, i):
    """The SciPy function of argument ``i`` alone, the others fixed."""
    rule = special.SPECIAL_RULES[name]

    def f(u):
        return rule.array(*(u if j == i else a for j, a in enumerate(args)))

    return f


def on(name, args, i):
    """The ufunc of argument ``i`` alone, the others fixed, for dualdiff."""
    fn = call(name)
    return lambda u: fn(*(u if j == i else a for j, a in enumerate(args)))


def test_the_table_holds_what_the_issue_lists():
    listed = (
        "erf erfc erfcx erfinv erfcinv expit logit log_expit ndtr log_ndtr ndtri gamma gammaln "
        "loggamma digamma psi polygamma beta betaln gammainc gammaincc xlogy xlog1py entr rel_entr "
        "kl_div i0 i0e i1 i1e j0 j1 y0 y1 jv iv kv zeta expm1 log1p exprel cbrt dawsn spence "
        "ellipk ellipe"
    ).split()
    assert [n for n in listed if n not in special.SPECIAL_RULES] == []


@pytest.mark.parametrize("name", OWN)
def test_first_derivative_matches_differences(name):
    for args, i in cases(name):
        f = on(name, args, i)
        out = f(Dual(float(args[i]), 1.0))
        assert type(out) is Dual
        assert_close(out.value, plain(name, args, i)(args[i]), rtol=1e-14, atol=1e-15)
        assert_close(out.tangent, directional(plain(name, args, i), args[i], 1.0), rtol=1e-8)


@pytest.mark.parametrize("name", OWN)
def test_array_with_several_directions(name):
    for args, i in cases(name)[:1]:
        x = np.array([a[i] for a, j in cases(name) if j == i], dtype=float)
        row = [np.full_like(x, a) for a in args]
        d = DualArray(x, np.stack([np.ones_like(x), np.linspace(0.5, -1.0, x.size)]), batched=True)
        out = call(name)(*(d if j == i else r for j, r in enumerate(row)))
        assert type(out) is DualArray
        f = lambda u: special.SPECIAL_RULES[name].array(
            *(u if j == i else r for j, r in enumerate(row))
        )  # noqa: E501, E731
        for k in range(2):
            assert_close(out.tangent[k], directional(f, x, d.tangent[k]), rtol=1e-8)


@pytest.mark.parametrize("name", OWN)
def test_second_derivative_by_nesting_and_taylor_mode(name):
    for args, i in cases(name)[:3]:
        f = on(name, args, i)
        first = lambda u: dd.derivative(f, u)  # noqa: E731
        expected = directional(first, args[i], 1.0)
        assert_close(dd.derivative(first, args[i]), expected, rtol=1e-6, atol=1e-8)
        assert_close(dd.derivative(f, args[i], n=2), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["erf", "gammaln", "digamma", "jv", "ellipk", "exprel"])
def test_third_derivative_in_taylor_mode_matches_nesting(name):
    for args, i in cases(name)[:2]:
        f = on(name, args, i)
        nested = dd.derivative(lambda u: dd.derivative(lambda w: dd.derivative(f, w), u), args[i])
        assert_close(dd.derivative(f, args[i], n=3), nested, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", COMPLEX)
def test_complex_directional_derivatives(name):
    for args, i in cases(name):
        z = complex(args[i], 0.3)
        g = plain(name, args, i)
        for v in (1.0, 1j):
            out = on(name, args, i)(Dual(z, v))
            assert_close(out.value, g(z), rtol=1e-13, atol=1e-15)
            assert_close(out.tangent, directional(g, z, v), rtol=1e-7)


@pytest.mark.parametrize("name", ALIASES)
def test_scipy_functions_dualdiff_has_are_its_own_entries(name):
    rule = special.SPECIAL_RULES[name]
    for x in points(rule.domain[0]):
        args = (Dual(x, 1.0),) if rule.nin == 1 else (Dual(x, 1.0), points(rule.domain[1])[1])
        out = getattr(sc, name)(*args)
        reference = getattr(sc, name)(*(a.value if type(a) is Dual else a for a in args))
        assert_close(out.value, reference, rtol=1e-14, atol=1e-15)
        g = lambda t: getattr(sc, name)(t, *args[1:])  # noqa: E731
        assert_close(out.tangent, directional(g, x, 1.0), rtol=1e-8)


def test_zeta_and_polygamma_as_scipy_defines_them():
    # scipy.special.zeta is a Python function calling the private ufuncs _zeta/_riemann_zeta
    q = 1.7
    assert_close(dd.derivative(lambda u: sc.zeta(3.0, u), q), -3.0 * sc.zeta(4.0, q))
    assert_close(dd.derivative(lambda u: special.polygamma(2, u), 2.5), sc.polygamma(3, 2.5))
    assert_close(dd.derivative(sc.psi, 2.5, n=4), sc.polygamma(4, 2.5), rtol=1e-10)


@pytest.mark.parametrize(
    "f, function, argument",
    [
        (lambda v: sc.jv(v, 2.0), "scipy.special.jv", "the order v"),
        (lambda v: sc.kv(v, np.array([1.0, 2.0])), "scipy.special.kv", "the order v"),
        (lambda a: sc.gammainc(a, 1.5), "scipy.special.gammainc", "the parameter a"),
        (lambda a: sc.gammaincc(a, a), "scipy.special.gammaincc", "the parameter a"),
        (lambda x: sc.zeta(x, 2.0), "scipy.special.zeta", "the exponent x"),
        (lambda x: sc.zeta(x), "scipy.special.riemann_zeta", "the exponent x"),
        (lambda n: special.polygamma(n, 2.0), "scipy.special.polygamma", "the order n"),
        (lambda a: sc.hyp2f1(a, 1.0, 2.5, 0.3), "scipy.special.hyp2f1", "the parameter a"),
        (lambda b: sc.hyp2f1(0.5, b, 2.5, 0.3), "scipy.special.hyp2f1", "the parameter b"),
        (lambda c: sc.hyp2f1(0.5, 1.0, c + 1, 0.3), "scipy.special.hyp2f1", "the parameter c"),
        (lambda b: sc.betainc(0.5, b, 0.3), "scipy.special.betainc", "the parameter b"),
        (lambda n: sc.stdtr(n + 2, 0.3), "scipy.special.stdtr", "the degrees of freedom df"),
    ],
)
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_parameter_without_a_rule_raises_naming_it(f, function, argument):
    for mode in (lambda: dd.derivative(f, 1.5), lambda: dd.derivative(f, 1.5, n=2)):
        with pytest.raises(
            TypeError, match=f"{function}: the derivative with respect to {argument}"
        ):
            mode()
    with pytest.raises(TypeError, match=function):
        dd.gradient(lambda x: np.sum(f(x)), np.array([1.5, 2.5]))


def test_in_the_compiler_too_a_parameter_raises_and_the_argument_differentiates():
    x = np.array([0.1, 0.4, -0.5])
    a = np.array([0.5, 0.6, 0.7])
    f = lambda z: sc.hyp2f1(a, 1.3, 2.1, z) + sc.jv(1.5, z + 1.0)  # noqa: E731
    assert_close(dd.jit_jacobian(f)(x), dd.jacobian(f, x), rtol=1e-13)
    assert_close(
        np.diag(dd.jacobian(f, x)), [directional(f, x, e)[i] for i, e in enumerate(np.eye(3))]
    )
    with pytest.raises(
        TypeError, match="scipy.special.hyp2f1: the derivative with respect to the parameter a"
    ):
        dd.jit_jacobian(lambda p: sc.hyp2f1(p, 1.3, 2.1, 0.3))(x)
    # parameters broadcasting against a scalar z: the result and its tangent take their shape
    jac = dd.jacobian(lambda z: sc.hyp2f1(a, 1.3, 2.1, z), 0.3)
    assert_close(jac, directional(lambda z: sc.hyp2f1(a, 1.3, 2.1, z), 0.3, 1.0))


SOFTMAX = ["logsumexp", "softmax", "log_softmax"]


@pytest.mark.parametrize("name", SOFTMAX)
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_logsumexp_softmax_log_softmax_are_exact(name, axis):
    from reference import jacobian

    X = np.array([[0.1, 2.0, -1.0], [3.0, 0.5, 0.2]])
    mine, scipy_own = getattr(special, name), getattr(sc, name)
    value, jac = dd.value_and_jacobian(lambda u: mine(u, axis=axis), X)
    assert_close(value, scipy_own(X, axis=axis), rtol=1e-14, atol=1e-15)
    assert_close(jac, jacobian(lambda u: scipy_own(u, axis=axis), X), rtol=1e-8)
    # large entries: the shift keeps it finite, as SciPy's
    big = X * 400.0
    assert_close(mine(big, axis=axis), scipy_own(big, axis=axis), rtol=1e-14, atol=1e-15)
    assert np.all(np.isfinite(dd.jacobian(lambda u: mine(u, axis=axis), big)))


def test_logsumexp_weights_sign_keepdims_and_higher_derivatives():
    from reference import jacobian

    X = np.array([[0.1, 2.0, -1.0], [3.0, 0.5, 0.2]])
    B = np.array([[1.0, -2.0, 0.5], [0.3, 0.3, 0.3]])
    g = lambda u: special.logsumexp(u, axis=1, b=B, return_sign=True)  # noqa: E731
    r = lambda u: sc.logsumexp(u, axis=1, b=B, return_sign=True)  # noqa: E731
    assert_close(g(X)[0], r(X)[0], rtol=1e-14)
    assert np.array_equal(g(X)[1], r(X)[1])
    assert_close(dd.jacobian(lambda u: g(u)[0], X), jacobian(lambda u: r(u)[0], X), rtol=1e-8)
    Bp = np.abs(B)
    assert_close(
        dd.jacobian(lambda b: special.logsumexp(X, axis=1, b=b), Bp),
        jacobian(lambda b: sc.logsumexp(X, axis=1, b=b), Bp),
        rtol=1e-8,
    )
    assert special.logsumexp(X, axis=1, keepdims=True).shape == (2, 1)
    assert_close(
        dd.hessian(special.logsumexp, X[0]),
        jacobian(lambda u: dd.gradient(special.logsumexp, u), X[0]),
        rtol=1e-7,
    )
    line = lambda t: special.logsumexp(X[0] + t * X[1])  # noqa: E731
    assert_close(
        dd.derivative(line, 0.2, n=3),
        directional(lambda t: dd.derivative(line, t, n=2), 0.2, 1.0),
        rtol=1e-7,
    )


def test_scipys_own_logsumexp_gives_the_exact_gradient_or_refuses():
    # it calls np.asarray on its argument first, which NumPy lets no one intercept: whatever
    # dualdiff does there, never a wrong number
    x = np.array([0.1, 0.2, -0.4])
    try:
        grad = dd.gradient(sc.logsumexp, x)
    except TypeError:
        return
    assert_close(grad, sc.softmax(x), rtol=1e-12)


def test_the_other_argument_still_differentiates_with_a_plain_parameter():
    x = np.array([0.5, 1.5, 3.0])
    jac = dd.jacobian(lambda u: sc.gammainc(np.array([0.7, 1.0, 2.5]), u), x)
    a = np.array([0.7, 1.0, 2.5])
    expected = np.exp((a - 1.0) * np.log(x) - x - sc.gammaln(a))
    assert_close(np.diag(jac), expected, rtol=1e-13)
    assert_close(
        dd.derivative(lambda u: sc.jv(1.5, u), 2.0), (sc.jv(0.5, 2.0) - sc.jv(2.5, 2.0)) / 2
    )


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_conventions_at_singular_points():
    assert dd.derivative(sc.exprel, 0.0) == pytest.approx(0.5, rel=1e-15)
    assert dd.derivative(sc.exprel, 1e-9) == pytest.approx(0.5 + 1e-9 / 3, rel=1e-15)
    assert dd.derivative(sc.ellipk, 0.0) == pytest.approx(math.pi / 8, rel=1e-15)
    assert dd.derivative(sc.ellipe, 0.0) == pytest.approx(-math.pi / 8, rel=1e-15)
    assert dd.derivative(sc.ellipk, 1e-7) == pytest.approx(
        directional(sc.ellipk, 1e-7, 1.0, 1e-3), rel=1e-11
    )
    assert dd.derivative(sc.spence, 1.0) == -1.0
    assert dd.derivative(sc.i0e, 0.0) == 0.0  # the kink of exp(-|x|): sign(0) = 0
    assert dd.derivative(sc.i1e, 0.0) == pytest.approx(0.5)
    assert dd.derivative(sc.entr, 0.0) == math.inf  # the one-sided limit
    out = sc.entr(Dual(0.0, 0.0))
    assert (out.value, out.tangent) == (0.0, 0.0)  # a zero tangent stays zero
    assert dd.derivative(lambda x: sc.kl_div(x, 2.0), 0.0) == -math.inf
    assert dd.derivative(lambda x: sc.gammainc(1.0, x), 0.0) == 1.0
    assert dd.derivative(lambda x: sc.gammainc(2.0, x), 0.0) == 0.0
    assert dd.derivative(lambda x: sc.gammainc(0.5, x), 0.0) == math.inf
    assert dd.derivative(lambda x: sc.betainc(1.0, 3.0, x), 0.0) == pytest.approx(3.0)
    assert dd.derivative(lambda x: sc.betainc(2.0, 3.0, x), 0.0) == 0.0
    assert dd.derivative(lambda x: sc.betainc(2.0, 0.5, x), 1.0) == math.inf
    assert dd.derivative(lambda x: sc.chdtr(2.0, x), 0.0) == pytest.approx(0.5)


@pytest.mark.parametrize("n", [2, 3, 12, 23, 40])
def test_high_derivatives_at_removable_singularities_are_exact(n):
    """The closed forms' limits at exprel's 0, ellipk's and ellipe's 0 and spence's 1 came from
    series of fixed length: the derivatives above their degree were 0.0 (exprel's 23rd at 0,
    ellipk's 18th), and spence's 0/0 at 1 was taken as its limit at first order only (its
    second derivative there came out 0, where it is 1/2)."""
    a = [1.0]  # K(m) = pi/2 sum a_j m**j, E(m) = pi/2 (1 - sum a_j m**j / (2j - 1))
    for j in range(1, n + 1):
        a.append(a[-1] * ((2 * j - 1) / (2 * j)) ** 2)
    closed = {
        (sc.exprel, 0.0): 1.0 / (n + 1),  # exprel = sum x**j / (j + 1)!
        (sc.ellipk, 0.0): math.pi / 2 * math.factorial(n) * a[n],
        (sc.ellipe, 0.0): -math.pi / 2 * math.factorial(n) * a[n] / (2 * n - 1),
        (sc.spence, 1.0): (-1) ** n * math.factorial(n - 1) / n,  # spence' = log(z)/(1 - z)
    }
    for (f, x), expected in closed.items():
        assert dd.derivative(f, x, n=n) == pytest.approx(expected, rel=1e-13, abs=0.0), f
    if n <= 3:  # nested derivatives agree with Taylor mode
        assert dd.derivative(lambda y: dd.derivative(sc.spence, y), 1.0) == 0.5
        nested = dd.derivative(lambda y: dd.derivative(sc.exprel, y, n=2), 0.0)
        assert nested == pytest.approx(0.25, rel=1e-13)


@pytest.mark.parametrize("x", [0.3, 0.6, 2.0, -3.0, -25.0, 40.0])
def test_exprel_high_derivatives_keep_their_digits(x):
    """exprel's Taylor coefficients away from 0 came from (e**x - exprel(x))/x solved order by
    order, which loses a factor |1/x| per order and ran the rule again inside itself: at 0.6
    the 12th derivative was off by 1e-4, the 20th by a factor 5e7, in time doubling per order.
    References: tests/special_reference.py (1F1(n+1; n+2; x)/(n+1) at 40 digits)."""
    for n in (2, 12, 20, 40):
        expected = DERIVATIVES["exprel", x, n]
        assert dd.derivative(sc.exprel, x, n=n) == pytest.approx(expected, rel=1e-12), n
    points = np.array([x, 0.0, -x])
    expected = [DERIVATIVES["exprel", float(p), 5] for p in points]
    np.testing.assert_allclose(dd.derivative(sc.exprel, points, n=5), expected, rtol=1e-13)


HIGH_ORDER = {
    "jv": (lambda x: sc.jv(1.5, x), 2.5),
    "kv": (lambda x: sc.kv(0.5, x), 2.5),
    "i0": (sc.i0, 2.5),
    "j0": (sc.j0, 2.5),
    "ellipk": (sc.ellipk, 0.3),
    "ellipe": (sc.ellipe, 0.3),
    "ellipk near 1": (sc.ellipk, 0.95),
    "ellipe below 0": (sc.ellipe, -0.7),
    "spence": (sc.spence, 1.2),
    "spence far out": (sc.spence, 10.0),
    "spence near 0": (sc.spence, 0.3),
    "erfcx": (sc.erfcx, 3.0),
    "erfcx far out": (sc.erfcx, 10.0),
    "erfcx near 0": (sc.erfcx, 0.2),
    "erfcx at the switch": (sc.erfcx, 0.5),
    "erfcx below 0": (sc.erfcx, -2.0),
    "log_ndtr": (sc.log_ndtr, -3.0),
    "log_ndtr far out": (sc.log_ndtr, -8.0),
    "log_ndtr near 0": (sc.log_ndtr, -0.3),
    "log_ndtr right": (sc.log_ndtr, 0.5),
}


@pytest.mark.parametrize("name", sorted(HIGH_ORDER))
def test_functions_defined_by_each_other_reach_high_orders_exactly(name):
    """Taylor mode ran the rule of every special function called in a partial once per order,
    and theirs again (jv's partial calls jv(v - 1) and jv(v + 1), ellipk's ellipe and back): at
    order 12 jv took 17 s, and the time grew exponentially. Where the closed form divides by
    a value (ellipk, ellipe, spence) or follows a growing solution (erfcx) the derivatives also
    lost digits with each order (4e-7 of ellipk's 24th at 0.3, 1e-2 of spence's 20th at 1.2,
    2e-4 of erfcx's 20th at 3, 4e-4 of log_ndtr's at -3). References:
    tests/special_reference.py (mpmath at 40 and 60 digits)."""
    f, x = HIGH_ORDER[name]
    expected = DERIVATIVES[name.split()[0], x, 20]
    assert dd.derivative(f, x, n=20) == pytest.approx(expected, rel=1e-12)


def _first_derivative_in_every_mode(f, x, expected, rel=1e-14):
    """derivative, a jacobian entry and a compiled jvp entry of f at x, against ``expected``
    (relative error only: pytest.approx's default absolute 1e-12 passed a derivative of 1e-17
    computed as 0.0)."""
    assert dd.derivative(f, x) == pytest.approx(expected, rel=rel, abs=0.0)
    points = np.array([x, 0.5])
    assert dd.jacobian(f, points)[0, 0] == pytest.approx(expected, rel=rel, abs=0.0)
    tangent = dd.jit_jvp(f)(points, np.array([1.0, 0.0]))[1][0]
    assert tangent == pytest.approx(expected, rel=rel, abs=0.0)


@pytest.mark.parametrize("x", [30.0, 1e3, 1e5, 1e8])
def test_erfcx_first_derivative_far_out(x):
    """erfcx' = 2x erfcx(x) - 2/sqrt(pi) cancels as x grows: 2e-6 of it was left at 1e5, and at
    1e8 it came out 0.0 (the derivative is -5.6e-17), in every mode."""
    _first_derivative_in_every_mode(sc.erfcx, x, DERIVATIVES["erfcx large", x, 1])
    second = DERIVATIVES["erfcx large", x, 2]
    assert dd.derivative(lambda y: dd.derivative(sc.erfcx, y), x) == pytest.approx(
        second, rel=1e-12, abs=0.0
    )


@pytest.mark.parametrize(
    "name, f, x",
    [
        ("dawsn large", sc.dawsn, 20.0),
        ("dawsn large", sc.dawsn, 1e3),
        ("dawsn large", sc.dawsn, 1e5),
        ("dawsn large", sc.dawsn, 1e8),
        ("dawsn large", sc.dawsn, -1e5),
        ("log_ndtr large", sc.log_ndtr, -20.0),
        ("log_ndtr large", sc.log_ndtr, -1e3),
        ("log_ndtr large", sc.log_ndtr, -1e5),
    ],
)
def test_first_derivatives_that_cancelled_far_out(name, f, x):
    """dawsn' = 1 - 2x dawsn(x) left 8e-8 at 1e5 and 0.0 at 1e8 (it is -5e-17); log_ndtr' as
    exp(-x²/2 - log_ndtr(x))/sqrt(2 pi) left 7e-7 at -1e5. In every mode."""
    _first_derivative_in_every_mode(f, x, DERIVATIVES[name, x, 1])


@pytest.mark.parametrize("x", [20.0, 40.0, 100.0, -40.0])
def test_sigmoid_derivative_far_out(x):
    """sigmoid' = s (1 - s) lost 1 - s where s is near 1: 1e-7 of it at 20, and 0.0 from 37 on,
    where it is e**-x/(1 + e**-x)**2 (scipy's expit is the same rule)."""
    e = math.exp(-abs(x))
    expected = e / (1.0 + e) ** 2
    for f in (dd.sigmoid, sc.expit):
        _first_derivative_in_every_mode(f, x, expected)


BESSEL_FAR = {
    "i0e large": sc.i0e,
    "i1e large": sc.i1e,
    "ive(1.5) large": lambda x: sc.ive(1.5, x),
    "ive(2) large": lambda x: sc.ive(2.0, x),
    "ive(20) large": lambda x: sc.ive(20.0, x),
    "kve(0.5) large": lambda x: sc.kve(0.5, x),
    "kve(1.5) large": lambda x: sc.kve(1.5, x),
}


@pytest.mark.parametrize(
    "name, x, n", sorted(k for k in DERIVATIVES if k[0] in BESSEL_FAR and type(k[1]) is float)
)
def test_scaled_bessel_derivatives_far_out(name, x, n):
    """The scaled Bessel functions' derivatives by recurrence, i1e - sign(x) i0e and
    (kve(v-1) + kve(v+1))/2 - kve, cancel to O(1/x) of their terms: 1e-8 of i0e' was left at
    1e8 (its second derivative had no digit left), 3e-12 at 1e4, 26 ulps at 30. Now within
    5 ulps of 40-digit references (the asymptotic series beyond 22 and v²/2), in every mode."""
    f = BESSEL_FAR[name]
    expected = DERIVATIVES[name, x, n]
    if n == 1:
        _first_derivative_in_every_mode(f, x, expected, rel=2e-15)
        return
    assert dd.derivative(f, x, n=2) == pytest.approx(expected, rel=2e-15, abs=0.0)
    nested = dd.derivative(lambda y: dd.derivative(f, y), x)
    assert nested == pytest.approx(expected, rel=2e-15, abs=0.0)


def test_kve_derivatives_far_out_at_a_complex_point():
    z = 1e4 + 1e3j
    f = BESSEL_FAR["kve(1.5) large"]
    for n in (1, 2):
        expected = DERIVATIVES["kve(1.5) large", z, n]
        assert dd.derivative(f, z, n=n) == pytest.approx(expected, rel=2e-15, abs=0.0)
    jvp = dd.jvp(f, np.array([z, 2.0 + 1j]), np.array([1.0, 0.0]))[1][0]
    assert jvp == pytest.approx(DERIVATIVES["kve(1.5) large", z, 1], rel=2e-15, abs=0.0)


@pytest.mark.parametrize("x", [1e-9, 0.5, 3.7, 20.0, -40.0, 300.0, 800.0])
def test_tanh_derivative_far_out(x):
    """tanh' = 1 - tanh² lost 1 - |tanh| where it is near 1: 118 ulps at 3.7, and 0.0 from 19.1
    on, where it is 4e**-2|x|/(1 + e**-2|x|)² (a rounds to ±1). In every mode."""
    e = math.exp(-2.0 * abs(x))
    expected = 4.0 * e / (1.0 + e) ** 2
    _first_derivative_in_every_mode(np.tanh, x, expected)
    second = -2.0 * math.tanh(x) * expected
    assert dd.derivative(np.tanh, x, n=2) == pytest.approx(second, rel=1e-14, abs=0.0)
    nested = dd.derivative(lambda y: dd.derivative(np.tanh, y), x)
    assert nested == pytest.approx(second, rel=1e-14, abs=0.0)


MOSTLY_FAR = [*np.linspace(3.0, 350.0, 40), 800.0, -900.0]


@pytest.mark.parametrize("far", [[4.0], [3.7, -20.0, 800.0], MOSTLY_FAR])
def test_tanh_derivative_on_arrays_mostly_near_or_mostly_far(far):
    """An array's far entries take sech² x either on their own (a few among many near ones) or
    with the rest (most of them far); both agree with 4e/(1 + e)², entry by entry, in every
    mode, without an overflow warning where cosh is inf."""
    x = np.concatenate([np.linspace(-2.9, 2.9, 7), far])
    e = np.exp(-2.0 * np.abs(x))
    expected = 4.0 * e / (1.0 + e) ** 2
    v = np.ones_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for tangent in (dd.jvp(np.tanh, x, v)[1], dd.jit_jvp(np.tanh)(x, v)[1]):
            # (1 - tanh² keeps ~60 ulps inside |x| < 3; sech² is within a few beyond)
            np.testing.assert_allclose(tangent, expected, rtol=1e-13, atol=0.0)
            np.testing.assert_allclose(tangent[7:], expected[7:], rtol=4e-15, atol=0.0)
        x32 = x.astype(np.float32)
        single = dd.jvp(np.tanh, x32, v.astype(np.float32))[1]
        assert single.dtype == np.float32
        e = np.exp(-2.0 * np.abs(x32.astype(np.float64)))
        np.testing.assert_allclose(single, 4.0 * e / (1.0 + e) ** 2, rtol=2e-6, atol=1e-44)


@pytest.mark.parametrize("f, z", [(np.tanh, 20 + 5j), (np.tan, 5 + 40j), (np.tan, -3 - 20j)])
def test_tan_and_tanh_derivatives_at_complex_points_near_their_limits(f, z):
    """1 + tan² and 1 - tanh² cancel where the function is near ±i or ±1: 1e-12 of tanh' was
    left at 20+5j, and tan' at 5+40j came out 0 (it is 7e-35)."""
    c = cmath.cosh(z) if f is np.tanh else cmath.cos(z)
    expected = 1.0 / (c * c)
    second = (-2.0 if f is np.tanh else 2.0) * (cmath.tanh(z) if f is np.tanh else cmath.tan(z))
    for got in (dd.derivative(f, z), dd.jvp(f, np.array([z, 1j]), np.array([1.0, 0.0]))[1][0]):
        assert got == pytest.approx(expected, rel=1e-14, abs=0.0)
    assert dd.derivative(f, z, n=2) == pytest.approx(second * expected, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("x", [1e-3, 1.1e-3, 0.05, -0.05])
def test_sinc_derivatives_near_zero(x):
    """sinc' = (cos(pi x) - sinc(x))/x cancels near 0: 3e4 ulps lost at 1.1e-3, 120 at 0.05,
    and the two-term series that took over below 1e-3 had lost 1e4 at its edge (the nested
    second derivative twice that). Now a series up to 1/2, in every mode."""
    _first_derivative_in_every_mode(dd.sinc, x, DERIVATIVES["sinc small", x, 1], rel=2e-15)
    second = DERIVATIVES["sinc small", x, 2]
    nested = dd.derivative(lambda y: dd.derivative(dd.sinc, y), x)
    assert nested == pytest.approx(second, rel=2e-15, abs=0.0)
    assert dd.derivative(dd.sinc, x, n=2) == pytest.approx(second, rel=2e-15, abs=0.0)


@pytest.mark.parametrize("x", [700.0, 1e8, 1e15])
def test_betaln_derivatives_at_a_large_argument(x):
    """psi(x) - psi(x + y), the partial of betaln (and of beta, times beta), cancels where y is
    small beside x: 733 ulps lost at x = 700, y = 2.5, 1e-8 at 1e8, all of it at 1e15. Both
    arguments, in every mode; the second derivative (trigamma's difference cancelled too) in
    Taylor mode and nested."""
    expected = DERIVATIVES["betaln large", x, 1]
    _first_derivative_in_every_mode(lambda u: sc.betaln(u, 2.5), x, expected, rel=4e-15)
    _first_derivative_in_every_mode(lambda u: sc.betaln(2.5, u), x, expected, rel=4e-15)
    second = DERIVATIVES["betaln large'", x, 2]
    g = lambda u: sc.betaln(u, 2.5)  # noqa: E731
    assert dd.derivative(g, x, n=2) == pytest.approx(second, rel=4e-15, abs=0.0)
    nested = dd.derivative(lambda y: dd.derivative(g, y), x)
    assert nested == pytest.approx(second, rel=4e-15, abs=0.0)


def test_beta_derivative_at_a_large_argument_is_its_value_times_betalns():
    """beta' = beta (psi(x) - psi(x + y)) lost 4e3 ulps at x = 700, y = 2.5 to the difference;
    SciPy's beta value is itself up to 1e-11 off further out: the check is against that value."""
    for x in (700.0, 1e8):
        expected = sc.beta(x, 2.5) * DERIVATIVES["betaln large", x, 1]
        _first_derivative_in_every_mode(lambda u: sc.beta(u, 2.5), x, expected, rel=4e-15)


@pytest.mark.parametrize("x", [1e-20, 1e-8, -1e-8])
def test_sigmoid_second_derivative(x):
    """sigmoid'' = sigmoid'·(1 - 2 sigmoid) = -tanh(x/2) sigmoid': y(1 - y) differentiated
    (Taylor mode's y' = y(1 - y)·d', the partial a(1 - a) nested) cancels in 1 - 2y near 0:
    6e-9 of it was left at 1e-8, nothing at 1e-20. The third derivatives of softplus and
    logaddexp are the same series."""
    e = math.exp(-abs(x))
    expected = -math.tanh(0.5 * x) * e / (1.0 + e) ** 2
    for f in (dd.sigmoid, sc.expit):
        assert dd.derivative(f, x, n=2) == pytest.approx(expected, rel=1e-14, abs=0.0)
        nested = dd.derivative(lambda y: dd.derivative(f, y), x)
        assert nested == pytest.approx(expected, rel=1e-14, abs=0.0)
    assert dd.derivative(dd.softplus, x, n=3) == pytest.approx(expected, rel=1e-14, abs=0.0)
    logaddexp = dd.derivative(lambda u: np.logaddexp(u, 0.0), x, n=3)
    assert logaddexp == pytest.approx(expected, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("x", [1e-8, 3.7, 1e8])
def test_taylor_mode_power_with_a_small_exponent(x):
    """Taylor mode's power recurrence took (a + 1)j - k, which loses a small exponent a to the
    rounding of a + 1: 6e-9 of the second derivative of x**1e-8."""
    a = 1e-8
    for n in (2, 3):
        expected = math.prod(a - j for j in range(n)) * x ** (a - n)
        for f in (lambda u: u**a, lambda u: np.float_power(u, a)):
            got = dd.derivative(f, x, n=n)
            assert got == pytest.approx(expected, rel=1e-14, abs=0.0)
            on_array = dd.derivative(f, np.array([x, 2.0]), n=n)[0]
            assert on_array == pytest.approx(expected, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("p", [1e-300, 1e-100])
def test_ndtri_derivative_in_its_tail(p):
    """ndtri' = sqrt(2 pi) e**(a²/2) magnifies the rounding of a = ndtri(p) by a²: 460 ulps
    lost at 1e-300 (a = -37). The right tail (1 - p) is its mirror image."""
    _first_derivative_in_every_mode(sc.ndtri, p, DERIVATIVES["ndtri tail", p, 1], rel=4e-15)


@pytest.mark.parametrize("z", [20 + 5j, 20 + 40j, 40j, 10 - 7j])
def test_erfcx_derivatives_far_out_at_complex_points(z):
    """erfcx' = 2z erfcx(z) - 2/sqrt(pi) cancels at complex z as at real: 255 ulps lost at
    20+5j, 1e-12 of it at 40j (the nested second derivative 1e-11). The continued fraction of
    the real axis holds in the right half plane, beyond |z| = 10."""
    expected = DERIVATIVES["erfcx complex", z, 1]
    assert dd.derivative(sc.erfcx, z) == pytest.approx(expected, rel=4e-15, abs=0.0)
    jvp = dd.jvp(sc.erfcx, np.array([z, 1.0 + 1j]), np.array([1.0, 0.0]))[1][0]
    assert jvp == pytest.approx(expected, rel=4e-15, abs=0.0)
    second = DERIVATIVES["erfcx complex", z, 2]
    nested = dd.derivative(lambda y: dd.derivative(sc.erfcx, y), z)
    assert nested == pytest.approx(second, rel=4e-15, abs=0.0)


def test_elliptic_integrals_at_their_pole():
    """K has a pole at m = 1 (E's derivatives too), nan beyond as in SciPy: ellipk's first
    derivative there was nan from (1 - 0·inf)/0."""
    assert dd.derivative(sc.ellipk, 1.0) == math.inf
    assert dd.derivative(sc.ellipk, 1.0, n=2) == math.inf
    assert dd.derivative(sc.ellipe, 1.0, n=3) == -math.inf
    assert np.isnan(dd.derivative(sc.ellipk, 1.5, n=2))
    got = dd.derivative(sc.ellipk, np.array([1.0, 0.5, 2.0]), n=2)
    assert got[0] == math.inf and np.isnan(got[2])


ELLIPTIC = [
    (name, m)
    for name in ("ellipk", "ellipe")
    for m in (0.999999, 0.999, 0.6, 0.59, -1e6, -30.0, -7.0, -6.0, -1.5)
]


@pytest.mark.parametrize("name, m", ELLIPTIC)
def test_elliptic_integrals_near_one_and_far_left_at_every_order(name, m):
    """K's and E's derivatives were power series in m (or in m/(m - 1) left of 0) of about
    (n + 40)/(1 - m) terms per order: ellipk's 12th at 0.999 took 18 s, and from 0.99999 (and
    -1e5) on the first derivative raised (a million terms). Near 1 and far left they are now the
    expansions around 1 with log(1 - m); every order, eager (1, 2) and Taylor mode (to 30), at
    both sides of each switch (0.6; -n/3 left of -1), against 40-digit references."""
    f = getattr(sc, name)
    expected = {n: DERIVATIVES[name, m, n] for n in (1, 2, 6, 20, 30)}
    assert dd.derivative(f, m) == pytest.approx(expected[1], rel=1e-14)
    assert dd.derivative(lambda y: dd.derivative(f, y), m) == pytest.approx(expected[2], rel=1e-13)
    for n in (1, 2, 6, 20, 30):
        assert dd.derivative(f, m, n=n) == pytest.approx(expected[n], rel=5e-14), n
    got = dd.derivative(f, np.array([m, 0.3, 0.999, -100.0]), n=20)
    assert got[0] == pytest.approx(expected[20], rel=5e-14)
    assert got[2] == pytest.approx(DERIVATIVES[name, 0.999, 20], rel=5e-14)


RGAMMA = (0.7, 0.3, 5.0, 20.0, -0.5, -2.3, -3.0001, -20.5, -1.0, 0.0)


@pytest.mark.parametrize("x", RGAMMA)
def test_rgamma_high_derivatives_keep_their_digits(x):
    """1/Γ's Taylor coefficients came from -ψ/Γ solved order by order: ψ's coefficients grow as
    1/|x - pole|ᵏ while 1/Γ's (entire) fall, so at 0.7 the 12th derivative lost 2e-10 and the
    20th 1e-3, beside the poles of Γ nearly everything from order 6 on, and on them (-1, 0)
    even the first derivative was nan (-ψ·0). Now from Hankel's integral (Taylor mode) and,
    at the poles, the reflection formula's form of the partial (eager, compiled).
    References: tests/special_reference.py (mpmath at 40 and 60 digits)."""
    expected = {n: DERIVATIVES["rgamma", x, n] for n in (1, 2, 6, 12, 20, 30)}
    assert dd.derivative(sc.rgamma, x) == pytest.approx(expected[1], rel=1e-14)
    second = dd.derivative(lambda y: dd.derivative(sc.rgamma, y), x)
    assert second == pytest.approx(expected[2], rel=1e-13)
    points = np.array([x, 0.5])
    assert dd.jit_jvp(sc.rgamma)(points, np.array([1.0, 0.0]))[1][0] == pytest.approx(
        expected[1], rel=1e-14
    )
    for n in (1, 2, 6, 12, 20, 30):
        assert dd.derivative(sc.rgamma, x, n=n) == pytest.approx(expected[n], rel=1e-13), n
    got = dd.derivative(sc.rgamma, np.array([x, 0.7, -2.3]), n=12)
    assert got[0] == pytest.approx(expected[12], rel=1e-13)
    # nesting: the tangents of the coefficients are the next ones
    nested = dd.derivative(lambda y: dd.derivative(sc.rgamma, y, n=5), x)
    assert nested == pytest.approx(DERIVATIVES["rgamma", x, 6], rel=1e-13)


def test_ive_of_a_complex_dual_raises():
    with pytest.raises(TypeError, match="scipy.special.ive of a complex dual"):
        sc.ive(1.0, Dual(1.0 + 0.5j, 1.0))


def test_functions_without_a_rule_are_named_by_their_real_module():
    x = DualArray(np.array([0.2, 0.3]), np.ones(2))
    with pytest.raises(TypeError, match=r"no derivative rule for scipy\.special\.struve"):
        sc.struve(1.0, x)
    with pytest.raises(
        TypeError, match=r"no derivative rule for scipy\.special\.expit.*dualdiff\.expit"
    ):
        dd.derivative(lambda u: sc.expit(u, dtype=np.float64), 0.3, n=2)


@pytest.mark.parametrize(
    "mode",
    [
        lambda f: dd.derivative(f, 0.3),
        lambda f: dd.derivative(f, 0.3, n=2),
        lambda f: dd.jacobian(f, np.array([0.3, 0.7])),
        lambda f: dd.jacobian_sparsity(f, np.array([0.3, 0.7])),
        lambda f: dd.jit_jacobian(f)(np.array([0.3, 0.7])),
        lambda f: dd.trace(f, 0.3),
    ],
    ids=["dual", "taylor", "dualarray", "sparsity", "jit", "trace"],
)
def test_every_mode_names_a_scipy_function_without_a_rule_by_its_module(mode):
    with pytest.raises(TypeError, match=r"rule for scipy\.special\.struve"):
        mode(lambda u: sc.struve(1.0, u))


def test_out_arguments_and_their_messages_name_scipy():
    x = DualArray(np.array([0.3, 0.7]), np.ones(2))
    out = np.zeros_like(x)
    assert sc.erf(x, out=out) is out
    assert_close(out.tangent, 2 / np.sqrt(np.pi) * np.exp(-(x.value**2)))
    with pytest.raises(TypeError, match=r"scipy\.special\.erf\(\.\.\., out=<numpy\.ndarray>\)"):
        sc.erf(x, out=np.empty(2))


def test_jacobian_of_statistics_code():
    # a probit log-likelihood, its gradient against differences of the plain function
    X = np.array([[1.0, 0.3], [1.0, -1.2], [1.0, 2.0], [1.0, 0.1]])
    y = np.array([1.0, 0.0, 1.0, 0.0])

    def loglik(b):
        z = X @ b
        return np.sum(y * sc.log_ndtr(z) + (1 - y) * sc.log_ndtr(-z)) - np.sum(
            sc.gammaln(b * b + 1)
        )

    b = np.array([0.2, -0.4])
    fd = np.array([directional(loglik, b, e) for e in np.eye(2)])
    assert_close(dd.gradient(loglik, b), fd, rtol=1e-8)
    assert_close(
        dd.hessian(loglik, b)[0],
        [directional(lambda u: dd.gradient(loglik, u)[0], b, e) for e in np.eye(2)],
        rtol=1e-6,
    )  # noqa: E501


def test_sparsity_and_compiler_see_the_entries():
    f = lambda x: sc.erf(x) * sc.gammaln(x + 1.0)  # noqa: E731
    x = np.array([0.3, 1.2, 2.0])
    assert np.array_equal(dd.jacobian_sparsity(f, x), np.eye(3, dtype=bool))
    assert_close(dd.jit_jacobian(f)(x), dd.jacobian(f, x), rtol=1e-14)


def test_import_dualdiff_does_not_import_scipy():
    code = "import sys, dualdiff; print(any(m.split('.')[0] == 'scipy' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["gamma", "digamma", "gammaln", "beta", "ellipk", "spence"])
def test_taylor_mode_keeps_float32(name):
    # the partials (scipy's polygamma, ...) compute a float32 argument in float64: the series
    # keeps the value's float32, as NumPy's result and eager mode's tangent do
    rule = special.SPECIAL_RULES[name]
    args, i = cases(name)[0]
    x = np.array([args[i]], np.float32)
    f = on(name, tuple(np.float32(a) for a in args), i)
    series = dd.taylor(lambda t: f(x + t), np.float32(0.0), 3)
    assert series.dtype == np.float32 == f(x).dtype, rule.name
    exact = dd.taylor(lambda t: on(name, args, i)(x.astype(float) + t), 0.0, 3)
    assert_close(series, exact, rtol=1e-4, atol=1e-5)


DENSITY_FUNCTIONS = {
    "gammainc(100)": lambda x: sc.gammainc(100.0, x),
    "gammainc(1e4)": lambda x: sc.gammainc(1e4, x),
    "gammainc(1e6)": lambda x: sc.gammainc(1e6, x),
    "betainc(1000, 2000)": lambda x: sc.betainc(1000.0, 2000.0, x),
    "betainc(1e5, 1e5)": lambda x: sc.betainc(1e5, 1e5, x),
    "betainc(1e6, 30)": lambda x: sc.betainc(1e6, 30.0, x),
    "betainc(5, 1e6)": lambda x: sc.betainc(5.0, 1e6, x),
    "betainc(12, 40)": lambda x: sc.betainc(12.0, 40.0, x),
    "stdtr(1e6)": lambda t: sc.stdtr(1e6, t),
    "stdtr(1e15)": lambda t: sc.stdtr(1e15, t),
    "beta small y": lambda x: sc.beta(x, 1e-8),
    "betaln small y": lambda x: sc.betaln(x, 1e-8),
}


@pytest.mark.parametrize("name", sorted(DENSITY_FUNCTIONS))
def test_derivatives_whose_logarithms_cancelled(name):
    """The densities x**(a-1) e**-x/gamma(a), x**(a-1) (1-x)**(b-1)/B(a, b) and Student's, the
    partials of gammainc, betainc and stdtr, in logs cancelled for large parameters: 200 ulps
    lost at gammainc(100, 100), 3e6 at 1e6; 1.4e4 at betainc(1000, 2000, .), 7e8 at (1e6, 30,
    1 - 1e-8), 5e6 at (5, 1e6, .) (SciPy's betaln); 1.7e6 at stdtr(1e6, .); and beta'(x, y) =
    beta (psi(x) - psi(x + y)) lost 5.6e6 ulps at y = 1e-8. Orders 1 and 2 in every mode,
    against 40-digit references (closed forms; tests/special_reference.py), within 16 ulps and
    twice the density's logarithm (its terms' rounding: 900 at stdtr(1e6, 30) = 1.8e-196)."""
    f = DENSITY_FUNCTIONS[name]
    points = sorted({k[1] for k in DERIVATIVES if k[0] == name})
    for x in points:
        first, second = DERIVATIVES[name, x, 1], DERIVATIVES[name, x, 2]
        rel = (16.0 + 2.0 * abs(math.log(abs(first)))) * 2.2e-16
        _first_derivative_in_every_mode(f, x, first, rel=rel)
        assert dd.derivative(f, x, n=2) == pytest.approx(second, rel=rel, abs=0.0)
        nested = dd.derivative(lambda y: dd.derivative(f, y), x)
        assert nested == pytest.approx(second, rel=rel, abs=0.0)


def test_log_ndtr_far_left_in_taylor_mode():
    """log_ndtr'' in Taylor mode was nan at -1e15 (x²/2 + log Phi(x), erfcx's scale, was inf -
    inf), and an entry so far out made its neighbours' nan (erfcx's moments shared one scale);
    erfcx''(3) beside erfcx at 1e15 likewise."""
    for x in (-1e15, -1e8):
        for n in (2, 3):
            expected = DERIVATIVES["log_ndtr far", x, n]
            assert dd.derivative(sc.log_ndtr, x, n=n) == pytest.approx(expected, rel=1e-14)
    points = np.array([-1e15, -3.0, -0.2, 0.5])
    together = dd.derivative(sc.log_ndtr, points, n=2)
    alone = [dd.derivative(sc.log_ndtr, x, n=2) for x in points]
    np.testing.assert_allclose(together, alone, rtol=1e-15)
    assert together[0] == -1.0
    both = dd.derivative(sc.erfcx, np.array([1e15, 3.0]), n=2)
    np.testing.assert_allclose(both, [dd.derivative(sc.erfcx, x, n=2) for x in (1e15, 3.0)])
    assert np.all(np.isfinite(both))


@pytest.mark.parametrize(
    "z", sorted({k[1] for k in DERIVATIVES if k[0] == "dawsn complex"}, key=str), ids=str
)
def test_dawsn_derivatives_far_out_at_complex_points(z):
    """dawsn' = 1 - 2z dawsn(z) lost 2|z|² ulps at complex points (2e8 at 1e4 + 2e3j, every
    digit at 1e6 + 2e5j); beyond |z| = 7.5 it is the real axis's asymptotic series less
    i sqrt(pi) z e**-z² (Im z >= 0; dawsn' is even), the latter the whole derivative near the
    diagonals (7.6 + 7.5j)."""
    for n in (1, 2):
        expected = DERIVATIVES["dawsn complex", z, n]
        assert dd.derivative(sc.dawsn, z, n=n) == pytest.approx(expected, rel=1e-14, abs=0.0)
    nested = dd.derivative(lambda y: dd.derivative(sc.dawsn, y), z)
    assert nested == pytest.approx(DERIVATIVES["dawsn complex", z, 2], rel=1e-14, abs=0.0)
    first = DERIVATIVES["dawsn complex", z, 1]
    tangent = dd.jvp(sc.dawsn, np.array([z, 2.0 + 1j]), np.array([1.0, 0.0]))[1][0]
    assert tangent == pytest.approx(first, rel=1e-14, abs=0.0)
    compiled = dd.jit_jvp(sc.dawsn)(np.array([z, 2.0 + 1j]), np.array([1.0, 0.0]))[1][0]
    assert compiled == pytest.approx(first, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("x", [1e-100, 1e-20, 2 - 1e-15])
def test_erfcinv_derivative_in_its_tails(x):
    """erfcinv' = -sqrt(pi)/2 e**(y²) magnified y's rounding by 2y² (150 ulps at 1e-100, y = 15;
    1370 at 1e-300): beyond |y| = 1 it is -sqrt(pi)/2 erfcx(y)/x (erfcx(-y)/(2 - x) above 1)."""
    first, second = DERIVATIVES["erfcinv tail", x, 1], DERIVATIVES["erfcinv tail", x, 2]
    _first_derivative_in_every_mode(sc.erfcinv, x, first, rel=2e-15)
    assert dd.derivative(sc.erfcinv, x, n=2) == pytest.approx(second, rel=4e-15, abs=0.0)


@pytest.mark.parametrize(
    "name, f", [("entr", sc.entr), ("kl_div(., 3)", lambda x: sc.kl_div(x, 3.0)),
                ("kl_div(1, .)", lambda y: sc.kl_div(1.0, y)),
                ("rel_entr(., 3)", lambda x: sc.rel_entr(x, 3.0))]
)  # fmt: skip
def test_first_derivatives_near_their_zeros(name, f):
    """entr' = -(log x + 1) came out 0.0 at the float nearest 1/e (it is -3.4e-17), rel_entr's
    log(x/y) + 1 likewise at y/e; kl_div's
    log(x/y) and 1 - x/y lost x/y - 1's digits where x is near y (5e6 ulps at y = 1 + 1e-8)."""
    for x in sorted(k[1] for k in DERIVATIVES if k[0] == name):
        _first_derivative_in_every_mode(f, x, DERIVATIVES[name, x, 1], rel=4e-16)


@pytest.mark.parametrize("name, f", [("j0 large", sc.j0), ("j1 large", sc.j1),
                                     ("y0 large", sc.y0), ("y1 large", sc.y1)])  # fmt: skip
def test_integer_bessel_derivatives_far_out(name, f):
    """j0' = -j1 and the like took SciPy's j1, j0, y1 and y0, which lose digits to their
    argument reduction beyond 25 (1.2e7 ulps of j1 at 1e8, 480 at 1000); jv and yv keep them."""
    for x in sorted({k[1] for k in DERIVATIVES if k[0] == name}):
        _first_derivative_in_every_mode(f, x, DERIVATIVES[name, x, 1], rel=2e-15)
        second = DERIVATIVES[name, x, 2]
        assert dd.derivative(f, x, n=2) == pytest.approx(second, rel=2e-15, abs=0.0)
        nested = dd.derivative(lambda y: dd.derivative(f, y), x)
        assert nested == pytest.approx(second, rel=2e-15, abs=0.0)
