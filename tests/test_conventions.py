"""Each convention of the README's Conventions section, checked on every differentiation path.

One table of ``(convention, function, point, expected derivative)``: the expected value is the
closed form the convention prescribes, never another mode's answer. Every row runs on every path:
the scalar ``Dual`` (plain and nested inside another differentiation), ``DualArray`` with one
direction (``derivative``, ``jvp``) and with ``k`` (``jacobian`` in chunks of one and whole),
Taylor mode (``taylor``, ``derivative(..., n=2)``) and the compiler (``jit_jvp``, ``jit_jacobian``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import dualdiff as dd

INF = math.inf


def _zero(x):
    """A zero that still carries x's (zero) tangent: x - x."""
    return x - x


# (convention, function, point, f'(point) by the convention)
CONVENTIONS = [
    # a zero tangent stays exactly zero where the partial is infinite (no 0 * inf = nan)
    ("zero tangent: sqrt", lambda x: x + np.sqrt(_zero(x)), 0.7, 1.0),
    ("zero tangent: cbrt", lambda x: x + np.cbrt(_zero(x)), 0.7, 1.0),
    ("zero tangent: log", lambda x: x + np.log(_zero(x)), 0.7, 1.0),
    ("zero tangent: arcsin", lambda x: x + np.arcsin(_zero(x) + 1.0), 0.7, 1.0),
    ("zero tangent: reciprocal", lambda x: x + np.reciprocal(_zero(x)), 0.7, 1.0),
    ("zero tangent: 1/u", lambda x: x + np.divide(1.0, _zero(x)), 0.7, 1.0),
    # the operators' fast paths (a NumPy zero: a Python 0.0 raises ZeroDivisionError on a Dual)
    ("zero tangent: 1 / u", lambda x: x + 1.0 / (_zero(x) * np.float64(1.0)), 0.7, 1.0),
    (
        "zero tangent: u / u",
        lambda x: x + (_zero(x) + 1.0) / (_zero(x) * np.float64(1.0)),
        0.7,
        1.0,
    ),
    ("zero tangent: u / 0", lambda x: x + _zero(x) / np.float64(0.0), 0.7, 1.0),
    ("zero tangent: u/u", lambda x: x + np.divide(_zero(x) + 1.0, _zero(x)), 0.7, 1.0),
    ("zero tangent: u**0.5", lambda x: x + np.power(_zero(x), 0.5), 0.7, 1.0),
    ("zero tangent: std", lambda x: x + np.std(_zero(x)), 0.7, 1.0),
    ("zero tangent: var sqrt", lambda x: x + np.sqrt(np.var(_zero(x))), 0.7, 1.0),
    ("zero tangent: constant inf", lambda x: INF, 0.7, 0.0),
    ("zero tangent: constant nan", lambda x: np.float64(np.nan), 0.7, 0.0),
    ("zero tangent: log2", lambda x: x + np.log2(_zero(x)), 0.7, 1.0),
    ("zero tangent: log1p", lambda x: x + np.log1p(_zero(x) - 1.0), 0.7, 1.0),
    ("zero tangent: arccos", lambda x: x + np.arccos(_zero(x) + 1.0), 0.7, 1.0),
    ("zero tangent: arccosh", lambda x: x + np.arccosh(_zero(x) + 1.0), 0.7, 1.0),
    ("zero tangent: arctanh", lambda x: x + np.arctanh(_zero(x) + 1.0), 0.7, 1.0),
    ("zero tangent: logit", lambda x: x + dd.logit(_zero(x)), 0.7, 1.0),
    ("zero tangent: xlogy", lambda x: x + dd.xlogy(_zero(x) + 1.0, _zero(x)), 0.7, 1.0),
    ("zero tangent: u**-1", lambda x: x + _zero(x) ** -1.0, 0.7, 1.0),
    ("zero tangent: u**-2", lambda x: x + np.power(_zero(x), -2.0), 0.7, 1.0),
    ("zero tangent: norm", lambda x: x + np.linalg.norm(np.stack([_zero(x), _zero(x)])), 0.7, 1.0),
    ("zero tangent: floor after inf", lambda x: x + np.floor(np.sqrt(x - 0.7)), 0.7, 1.0),
    ("zero tangent: constant -inf array", lambda x: np.full(N, -INF), 0.7, 0.0),
    # sqrt'(0) = inf, from either side of zero
    ("sqrt'(0) = inf", np.sqrt, 0.0, INF),
    ("sqrt'(-0) = inf", np.sqrt, -0.0, INF),
    ("sqrt'(0) = inf: x**0.5", lambda x: x**0.5, 0.0, INF),
    ("cbrt'(0) = inf", np.cbrt, 0.0, INF),
    # d|x|/dx = 0 at 0
    ("|x|'(0) = 0", np.abs, 0.0, 0.0),
    ("|x|'(-0) = 0", np.abs, -0.0, 0.0),
    ("fabs'(0) = 0", np.fabs, 0.0, 0.0),
    ("hypot at the origin", lambda x: np.hypot(x, x), 0.0, 0.0),
    ("arctan2 at the origin", lambda x: np.arctan2(x, x), 0.0, 0.0),
    ("copysign at 0", lambda x: np.copysign(x, -1.0), 0.0, 0.0),
    ("complex |z| at 0", lambda x: np.abs(x * (1.0 + 1.0j)), 0.0, 0.0),
    # maximum / minimum split the derivative evenly at a tie
    ("max tie", lambda x: np.maximum(x, 1.0), 1.0, 0.5),
    ("min tie", lambda x: np.minimum(x, 1.0), 1.0, 0.5),
    ("max(x, x)", lambda x: np.maximum(x, x), 1.0, 1.0),
    ("fmax tie", lambda x: np.fmax(1.0, x), 1.0, 0.5),
    ("clip at a bound", lambda x: np.clip(x, 0.0, 1.0), 1.0, 0.5),
    # d/dx x**0 = 0 (even at 0), d/dy 0**y = 0
    ("x**0 at 0", lambda x: x**0.0, 0.0, 0.0),
    ("x**0 at 2", lambda x: np.power(x, 0.0), 2.0, 0.0),
    ("0**y at 1", lambda x: np.power(0.0, x), 1.0, 0.0),
    ("0**y at 2", lambda x: 0.0**x, 2.0, 0.0),
    # ... and -inf 0**y at y <= 0, the limit from the right: x**x' = x**x (log x + 1) -> -inf
    ("0**y at 0", lambda x: 0.0**x, 0.0, -INF),
    ("0**y at -1", lambda x: np.power(0.0, x), -1.0, -INF),
    ("x**x at 0", lambda x: x**x, 0.0, -INF),
    ("x**(x+1) at 0", lambda x: x ** (x + 1.0), 0.0, 1.0),
    # piecewise-constant functions have derivative 0 (at their jumps too)
    ("floor", np.floor, 1.5, 0.0),
    ("floor at a jump", np.floor, 2.0, 0.0),
    ("ceil at a jump", np.ceil, 2.0, 0.0),
    ("trunc", np.trunc, -1.5, 0.0),
    ("rint", np.rint, 0.5, 0.0),
    ("sign at 0", np.sign, 0.0, 0.0),
    ("round", np.round, 0.5, 0.0),
    ("round after an infinite tangent", lambda x: np.round(np.sqrt(x)), 0.0, 0.0),
    ("sign after an infinite tangent", lambda x: np.sign(np.cbrt(x)), 0.0, 0.0),
    ("floor_divide", lambda x: x // 1.0, 1.5, 0.0),
    ("interp outside its range", lambda x: np.interp(np.sqrt(x), [1.0, 2.0], [0.0, 3.0]), 0.0, 0.0),
    ("heaviside at 0", lambda x: np.heaviside(x, 0.5), 0.0, 0.0),
]

# Paths that refuse a row's function with a TypeError naming it (never a number).
REFUSED: dict[str, set[str]] = {}

N = 3  # length of the array points


def _array(x0):
    return np.full(N, x0)


def _elementwise(f):
    """f on arrays: its (broadcast) result as an array of shape (N,)."""
    return lambda x: x * 0.0 + f(x)


def _diagonal(jac):
    """The diagonal of an elementwise Jacobian, whose other entries must be exact zeros."""
    jac = np.asarray(jac)
    assert np.all(jac[~np.eye(N, dtype=bool)] == 0), jac
    return np.diagonal(jac)


PATHS = {
    "Dual": lambda f, x0: dd.derivative(f, x0),
    "Dual nested": lambda f, x0: dd.jvp(lambda s: dd.derivative(f, s), x0, 1.0)[0],
    "DualArray 1 direction": lambda f, x0: dd.derivative(f, _array(x0)),
    "jvp": lambda f, x0: dd.jvp(_elementwise(f), _array(x0), np.ones(N))[1],
    "jacobian chunk 1": lambda f, x0: _diagonal(dd.jacobian(_elementwise(f), _array(x0), chunk=1)),
    "jacobian": lambda f, x0: _diagonal(dd.jacobian(_elementwise(f), _array(x0))),
    "DualArray nested": lambda f, x0: dd.jvp(lambda s: dd.derivative(f, s), _array(x0), np.ones(N))[
        0
    ],
    "jacobian nested": lambda f, x0: _diagonal(
        dd.value_and_jacobian(lambda s: dd.jacobian(_elementwise(f), s), _array(x0))[0]
    ),
    "Taylor": lambda f, x0: dd.taylor(f, x0, 2)[..., 1],
    "Taylor array": lambda f, x0: dd.taylor(_elementwise(f), _array(x0), 2)[..., 1],
    "jit_jvp": lambda f, x0: dd.jit_jvp(_elementwise(f))(_array(x0), np.ones(N))[1],
    "jit_jacobian": lambda f, x0: _diagonal(dd.jit_jacobian(_elementwise(f))(_array(x0))),
}


@pytest.mark.parametrize(
    ("convention", "f", "x0", "expected"), CONVENTIONS, ids=[c[0] for c in CONVENTIONS]
)
def test_convention_on_every_path(convention, f, x0, expected):
    wrong = {}
    for path, run in PATHS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own, on the values
            if path in REFUSED.get(convention, ()):
                with pytest.raises(TypeError, match="no (derivative )?rule for numpy"):
                    run(f, x0)
                continue
            got = np.asarray(run(f, x0))
        want = np.broadcast_to(expected, got.shape)
        if got.dtype.kind != "f" or not np.array_equal(got, want, equal_nan=False):
            wrong[path] = got
    assert not wrong, f"{convention}: expected {expected}, got {wrong}"


def test_the_issue_reproductions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = np.array([1.0, -2.0, 0.5])
        value, tangent = dd.jvp(lambda x: np.std(x - x) + x, np.ones(3), v)
        np.testing.assert_array_equal(tangent, v)  # was NaN: a NumPy-scalar zero tangent

        def u(x):
            return x * np.array([1.0, 0.0])

        by_divide = dd.jacobian(lambda x: 1 / u(x), np.ones(2))
        by_reciprocal = dd.jacobian(lambda x: np.reciprocal(u(x)), np.ones(2))
        np.testing.assert_array_equal(by_divide, [[-1.0, 0.0], [0.0, 0.0]])
        np.testing.assert_array_equal(by_reciprocal, by_divide)
        assert dd.derivative(lambda x: math.inf, 1.0) == 0.0
        assert dd.derivative(lambda x: math.nan, 1.0) == 0.0
        assert dd.derivative(np.sqrt, -0.0) == INF


@pytest.mark.parametrize("zero", [np.float64(0.0), np.float32(0.0)])
def test_scalar_dual_division_by_a_numpy_zero(zero):
    # a Python zero raises ZeroDivisionError as it does for the value; a NumPy zero gives inf,
    # and the hand-written division keeps a zero tangent zero as the table's divide does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = dd.Dual(1.0, 0.0)
        assert (a / dd.Dual(zero, 0.0)).tangent == 0.0
        assert (a / zero).tangent == 0.0
        assert (1.0 / dd.Dual(zero, 0.0)).tangent == 0.0
        assert (dd.Dual(1.0, 2.0) / zero).tangent == INF
        assert (1.0 / dd.Dual(zero, 1.0)).tangent == -INF


def test_all_finite_sees_an_infinite_imaginary_part():
    from dualdiff.rules.elementwise import all_finite

    assert not all_finite(np.complex128(complex(1.0, INF)))
    assert not all_finite(np.array([1.0, complex(0.0, INF)]))
    assert not all_finite(np.float32(np.inf))
    assert all_finite(np.complex64(1.0)) and all_finite(2.0) and all_finite(np.ones(3))


MASK = np.array([1.0, 0.0, 1.0])
ARRAY_PATHS = [p for p in PATHS if p not in ("Dual", "Dual nested", "Taylor")]


@pytest.mark.parametrize("path", ARRAY_PATHS)
def test_zero_tangents_entry_by_entry(path):
    # only the middle entry has a zero tangent (and an infinite partial): it alone is kept zero
    functions = [
        (lambda x: np.sqrt(x * MASK), [0.5, 0.0, 0.5]),
        (lambda x: x + 1.0 / (x * MASK), [0.0, 1.0, 0.0]),
        (lambda x: x + np.log(x * MASK), [2.0, 1.0, 2.0]),
    ]
    for f, expected in functions:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = PATHS[path](f, 1.0)
        np.testing.assert_array_equal(got, expected)


def test_interp_at_infinity_mirrors_numpy():
    # the constant outside the range was below + 0*x: NaN at x = ±inf, where NumPy gives fp[0]
    x = np.array([-INF, 0.5, INF])
    value, tangent = dd.jvp(lambda u: np.interp(u, [0.0, 1.0], [0.0, 3.0]), x, np.ones(3))
    np.testing.assert_array_equal(value, np.interp(x, [0.0, 1.0], [0.0, 3.0]))
    np.testing.assert_array_equal(tangent, [0.0, 3.0, 0.0])


# (convention, function, point, f''(point) by the convention)
SECOND = [
    ("|x|'' at 0", np.abs, 0.0, 0.0),
    ("floor''", np.floor, 1.5, 0.0),
    ("x**0 at 0", lambda x: x**0.0, 0.0, 0.0),
    ("0**y at 1", lambda x: np.power(0.0, x), 1.0, 0.0),
    ("max tie", lambda x: np.maximum(x, 1.0), 1.0, 0.0),
    ("constant inf", lambda x: INF, 0.7, 0.0),
    ("zero tangent: sqrt", lambda x: x * x + np.sqrt(_zero(x)), 0.7, 2.0),
    ("zero tangent: 1/u", lambda x: x * x + np.divide(1.0, _zero(x)), 0.7, 2.0),
    ("zero tangent: std", lambda x: x * x + np.std(_zero(x)), 0.7, 2.0),
]

SECOND_PATHS = {
    "Taylor": lambda f, x0: dd.derivative(f, x0, n=2),
    "Taylor array": lambda f, x0: dd.derivative(_elementwise(f), _array(x0), n=2),
    "derivative of derivative": lambda f, x0: dd.derivative(lambda y: dd.derivative(f, y), x0),
    "hessian": lambda f, x0: _diagonal(
        dd.hessian(lambda x: np.sum(_elementwise(f)(x)), _array(x0))
    ),
}


@pytest.mark.parametrize(("convention", "f", "x0", "expected"), SECOND, ids=[c[0] for c in SECOND])
def test_second_derivative_conventions(convention, f, x0, expected):
    wrong = {}
    for path, run in SECOND_PATHS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = np.asarray(run(f, x0))
        if not np.array_equal(got, np.broadcast_to(expected, got.shape)):
            wrong[path] = got
    assert not wrong, f"{convention}: expected {expected}, got {wrong}"


@pytest.mark.xfail(
    strict=True,
    reason="known difference (docs: sharp bits): next to an infinite value IEEE's inf * 0 = nan "
    "makes an exact 0 nan on some paths only; jacobian's identity seed and the compiler's zero "
    "blocks skip different products",
)
@pytest.mark.parametrize(
    "f",
    [lambda z: z * np.array([np.inf, 1.0]), lambda z: np.exp(1000.0 * z)],
    ids=["times inf", "exp overflow"],
)
def test_a_zero_next_to_an_infinite_value_is_the_same_on_every_path(f):
    x = np.array([1.0, 2.0])
    with np.errstate(all="ignore"):
        eager = dd.jacobian(f, x)
        compiled = dd.jit_jacobian(f)(x)
        along = dd.jvp(f, x, np.array([0.0, 1.0]))[1]
    assert eager[0, 1] == 0.0  # f_0 does not depend on z_1
    np.testing.assert_array_equal(compiled, eager)
    np.testing.assert_array_equal(along, eager[:, 1])
