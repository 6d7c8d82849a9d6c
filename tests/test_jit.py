"""Compiled JVPs (``dualdiff.jit_jvp``): every rule of the table, the supported NumPy functions,
compilation and buffer reuse, errors and nesting.

The main reference is eager ``dualdiff.jvp``, itself tested against numeric differences; since
both run the same rule table, they must agree to rounding. Central differences (``reference``),
closed forms and the hand-written benchmark JVP check the compiled code independently, so a
mistake shared by both modes cannot hide.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cases import CASES
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst
from reference import assert_close, directional
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff import RULES

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the benchmarks package lives beside the tests, not in dualdiff
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_jvp import exact_tangent, f_numpy, hand_jvp  # noqa: E402

RTOL = 1e-14  # compiled and eager run the same maths: only rounding may differ


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def points(interval, shape, seed):
    """Random points inside ``interval``, kept off its ends."""
    lo, hi = interval
    return lo + (hi - lo) * np.random.default_rng(seed).uniform(0.05, 0.95, shape)


def agree(got, expected, rtol=RTOL):
    """Same structure, shapes and dtypes, and values equal to ``rtol`` (relative to the size of
    the expected values)."""
    if type(expected) in (tuple, list):
        assert type(got) is type(expected)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            agree(g, e, rtol)
        return
    g, e = np.asarray(got), np.asarray(expected)
    assert g.shape == e.shape, (g.shape, e.shape)
    assert g.dtype == e.dtype, (g.dtype, e.dtype)
    scale = float(np.max(np.abs(e[np.isfinite(e)]), initial=1.0))
    np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * scale, equal_nan=True)


def check(f, x, v, cf=None, rtol=RTOL):
    """``jit_jvp(f)(x, v)`` against eager ``jvp(f, x, v)``; returns the compiled function."""
    cf = dd.jit_jvp(f) if cf is None else cf
    got = cf(x, v)
    assert type(got) is tuple and len(got) == 2
    agree(got, dd.jvp(f, x, v), rtol)
    return cf


def count_calls_on_x(cf):
    """How many lines of the generated code call a function on the input ``x`` alone."""
    return sum(line.rstrip().endswith("(x0)") for line in cf.source.splitlines())


# -- every rule of the table -------------------------------------------------------------------

UNARY = sorted(name for name, rule in RULES.items() if rule.nin == 1)
BINARY = sorted(name for name, rule in RULES.items() if rule.nin == 2)
SMOOTH_UNARY = sorted(name for name in UNARY if not RULES[name].zero)


def callables(rule):
    """The rule's public function and, when it has one, its NumPy ufunc (through dispatch)."""
    return [rule.function] + ([rule.ufunc] if rule.ufunc is not None else [])


@pytest.mark.parametrize("name", UNARY)
def test_unary_rule_matches_eager(name):
    rule = RULES[name]
    kinds = (False, True) if rule.complex else (False,)
    for fn in callables(rule):
        for shape in ((), (7,), (2, 3)):
            for complex_ in kinds:
                x1, x2 = (points(rule.domain[0], shape, seed) for seed in (1, 2))
                v1, v2 = normal(*shape, seed=3), normal(*shape, seed=4)
                if complex_:
                    x1, x2 = x1 * (1.0 + 0.3j), x2 * (1.0 - 0.2j)
                    v1, v2 = v1 * (0.5 + 1.0j), v2 * (1.0 - 0.5j)
                if shape == ():  # Python numbers
                    x1, x2, v1, v2 = (np.asarray(a).item() for a in (x1, x2, v1, v2))

                def f(a, fn=fn):
                    return fn(a)

                cf = check(f, x1, v1)
                check(f, x2, v2, cf)  # the same code at another point
                assert len(cf._compiled) == 1


def binary_cases(rule):
    """``(shape of x, shape of y)`` pairs: equal, broadcast both ways, a 2-d against a 1-d."""
    for sx, sy in (((5,), (5,)), ((3, 1), (4,)), ((2, 3), (3,))):
        x = points(rule.domain[0], sx, 1)
        if rule.name == "ldexp":  # an integer exponent (NumPy refuses floats there)
            y = np.array([-2, 0, 1, 3, 2])[: sy[-1]].reshape(sy)
        else:
            y = points(rule.domain[1], sy, 2)
        yield x, y, normal(*sx, seed=5), normal(*sy, seed=6)


@pytest.mark.parametrize("name", BINARY)
def test_binary_rule_matches_eager(name):
    rule = RULES[name]
    kinds = (False, True) if rule.complex else (False,)
    for fn in callables(rule):
        for x, y, vx, vy in binary_cases(rule):
            for complex_ in kinds:
                if complex_:
                    x, vx = x * (1.0 + 0.3j), vx * (1.0 + 0.5j)
                ys, xs = y.ravel()[0].item(), x.ravel()[0].item()
                check(lambda a, fn=fn, y=y: fn(a, y), x, vx)  # y a constant array
                check(lambda a, fn=fn, ys=ys: fn(a, ys), x, vx)  # y a Python scalar
                if name == "ldexp":
                    continue
                check(lambda a, b, fn=fn: fn(a, b), (x, y), (vx, vy))  # both traced
                check(lambda b, fn=fn, x=x: fn(x, b), y, vy)  # x a constant array
                check(lambda b, fn=fn, xs=xs: fn(xs, b), y, vy)  # x a Python scalar


@pytest.mark.parametrize("name", SMOOTH_UNARY)
def test_unary_rule_against_differences(name):
    rule = RULES[name]
    x, v = points(rule.domain[0], (2, 3), 8), normal(2, 3, seed=9)
    value, tangent = dd.jit_jvp(rule.function)(x, v)
    assert_close(value, rule.array(x), 1e-14, 1e-15)
    assert_close(tangent, directional(rule.array, x, v), 1e-7)
    if rule.complex:
        xc, vc = x * (1.0 + 0.3j), v * (0.5 - 1.0j)
        value, tangent = dd.jit_jvp(rule.function)(xc, vc)
        assert_close(tangent, directional(rule.array, xc, vc), 1e-7)


@pytest.mark.parametrize("name", sorted(n for n in BINARY if not RULES[n].zero and n != "ldexp"))
def test_binary_rule_against_differences(name):
    rule = RULES[name]
    y = points(rule.domain[1], (4,), 11)
    if name == "copysign":  # y away from its sign change
        y = np.array([-2.0, -0.7, 0.9, 2.5])
    if name in ("remainder", "fmod"):  # x / y halfway between integers, away from the jumps
        x = y * np.array([-1.5, -0.5, 0.5, 1.5])
    else:
        x = points(rule.domain[0], (4,), 10)
    vx, vy = normal(4, seed=12), normal(4, seed=13)
    value, tangent = dd.jit_jvp(rule.function)((x, y), (vx, vy))
    assert_close(value, rule.array(x, y), 1e-14, 1e-15)
    reference = directional(lambda z: rule.array(z[0], z[1]), np.stack([x, y]), np.stack([vx, vy]))
    assert_close(tangent, reference, 1e-7)


def test_ldexp_against_closed_form():
    x, i, v = points((-3.0, 3.0), (4,), 14), np.array([-2, 0, 1, 3]), normal(4, seed=15)
    value, tangent = dd.jit_jvp(lambda a: np.ldexp(a, i))(x, v)
    np.testing.assert_array_equal(value, x * 2.0**i)
    np.testing.assert_allclose(tangent, v * 2.0**i, rtol=1e-15)


@pytest.mark.parametrize("name", sorted(n for n in RULES if RULES[n].zero))
def test_piecewise_constant_rules_have_zero_tangent(name):
    rule = RULES[name]
    x = np.array([[-2.3, -0.6, 0.4], [1.7, 2.2, 0.0]])
    args = (x,) if rule.nin == 1 else (x, np.array([0.7, 1.3, 0.9]))
    value, tangent = dd.jit_jvp(lambda a: rule.function(a, *args[1:]))(x, normal(2, 3, seed=16))
    np.testing.assert_array_equal(value, rule.array(*args))
    np.testing.assert_array_equal(tangent, np.zeros((2, 3)))
    assert tangent.dtype == np.float64


# -- kinks and conventions ---------------------------------------------------------------------


def test_absolute_at_zero_has_zero_derivative():
    x, v = np.array([-1.5, 0.0, 2.0]), np.array([2.0, 3.0, 5.0])
    for fn in (np.abs, abs, dd.absolute, np.fabs):
        value, tangent = dd.jit_jvp(fn)(x, v)
        np.testing.assert_array_equal(value, [1.5, 0.0, 2.0])
        np.testing.assert_array_equal(tangent, [-2.0, 0.0, 5.0])
    z = np.array([0.0 + 0.0j, 3.0 + 4.0j])
    value, tangent = dd.jit_jvp(np.abs)(z, np.array([1.0 + 1.0j, 1.0 + 2.0j]))
    np.testing.assert_allclose(tangent, [0.0, (3.0 * 1.0 + 4.0 * 2.0) / 5.0], rtol=1e-15)


def test_maximum_and_minimum_split_ties_evenly():
    x = np.array([-1.0, 0.0, 2.0])
    vx, vy = np.array([1.0, 2.0, 4.0]), np.array([3.0, 6.0, 8.0])
    _, tangent = dd.jit_jvp(np.maximum)((x, x.copy()), (vx, vy))
    np.testing.assert_array_equal(tangent, (vx + vy) / 2)
    _, tangent = dd.jit_jvp(np.minimum)((x, np.array([0.0, 0.0, 0.0])), (vx, vy))
    np.testing.assert_array_equal(tangent, [1.0, 4.0, 8.0])
    _, tangent = dd.jit_jvp(lambda a: np.maximum(a, a))(x, vx)
    np.testing.assert_array_equal(tangent, vx)
    _, tangent = dd.jit_jvp(lambda a: np.maximum(a, 0.0))(x, vx)  # relu: 1/2 at 0
    np.testing.assert_array_equal(tangent, [0.0, 1.0, 4.0])


def test_sqrt_at_zero_keeps_a_zero_tangent_exactly_zero():
    cf = dd.jit_jvp(np.sqrt)
    cf(np.array([1.0, 4.0, 9.0]), np.ones(3))  # compiled away from 0
    with np.errstate(divide="ignore"):
        value, tangent = cf(np.array([0.0, 4.0, 0.0]), np.array([0.0, 1.0, 2.0]))
    np.testing.assert_array_equal(value, [0.0, 2.0, 0.0])
    assert tangent[0] == 0.0 and tangent[1] == 0.25 and tangent[2] == np.inf
    with np.errstate(divide="ignore"):  # the same through a composite
        _, tangent = dd.jit_jvp(lambda a: np.sqrt(a * a) + np.log1p(a))(
            np.zeros(2), np.array([0.0, 1.0])
        )
    np.testing.assert_array_equal(tangent[0], 0.0)


def test_power_conventions():
    x = np.array([0.0, 1.0, 4.0])
    v = np.array([1.0, 2.0, 3.0])
    for f in (lambda a: a**0.0, lambda a: np.power(a, 0), lambda a: a**0):
        value, tangent = dd.jit_jvp(f)(x, v)
        np.testing.assert_array_equal(value, [1.0, 1.0, 1.0])
        np.testing.assert_array_equal(tangent, [0.0, 0.0, 0.0])
    y = np.array([0.0, 0.0, 2.0])
    vy = np.array([1.0, 1.0, 1.0])
    value, tangent = dd.jit_jvp(lambda a, b: a**b)((x, y), (v, vy))
    np.testing.assert_array_equal(value, [1.0, 1.0, 16.0])
    # d(x**y) = y x**(y-1) dx + x**y log(x) dy: 0 at (1, 0); at (0, 0) the dy term is -inf
    # (0**y jumps from 1 to 0 at y = 0; along (t, t), t**t has slope -inf at 0+)
    np.testing.assert_allclose(
        tangent, [-np.inf, 0.0, 2 * 4.0 * 3.0 + 16 * np.log(4.0)], rtol=1e-15
    )
    _, tangent = dd.jit_jvp(lambda a, b: a**b)((x, y), (v, np.zeros(3)))
    np.testing.assert_array_equal(tangent[:2], [0.0, 0.0])  # y held fixed: x**0 is constant
    _, tangent = dd.jit_jvp(lambda a: a**3)(x, v)
    np.testing.assert_allclose(tangent, 3 * x**2 * v, rtol=1e-15)
    _, tangent = dd.jit_jvp(lambda a: 2.0**a)(x, v)
    np.testing.assert_allclose(tangent, np.log(2.0) * 2.0**x * v, rtol=1e-15)


def test_square_through_the_power_operator():
    x, v = normal(5, seed=17), normal(5, seed=18)
    cf = dd.jit_jvp(lambda a: a**2)
    value, tangent = cf(x, v)
    np.testing.assert_array_equal(value, x * x)
    np.testing.assert_allclose(tangent, 2 * x * v, rtol=1e-15)
    agree((value, tangent), dd.jvp(lambda a: a**2, x, v))


# -- supported NumPy functions, methods and indexing -------------------------------------------

X = normal(3, 4, seed=1)
V = normal(3, 4, seed=2)
X2 = normal(3, 4, seed=3)
V2 = normal(3, 4, seed=4)
MASK = X > 0
C = normal(3, 4, seed=5)  # a constant read from the closure

# One case per NumPy function, argument kind and option lives in the shared list (cases.py) and
# runs through jit_jvp there, against numeric differences at two points. Here: what that list
# does not say.

# Outputs of every structure: the compiled result has eager's structure, shapes and dtypes.
OUTPUTS = {
    "tuple output": lambda a: (a.sum(), np.sin(a), a),
    "list output": lambda a: [a, np.cos(a) * a],
    "nested output": lambda a: (a[0], [np.tanh(a), (a.sum(), 2.0)]),
    "constant output": lambda a: np.ones(3),
    "integer constant output": lambda a: np.arange(3),
    "scalar output": lambda a: 1.5,
    "closure output": lambda a: (a * 2, C),
    "closure constant": lambda a: a * C + np.sin(C),
    "python scalars": lambda a: 2.5 + 3 * a**2 - 1 / (1 + a * a),
    "dualdiff function": lambda a: dd.sin(a) * dd.exp(-a),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_output_matches_eager(name):
    f = OUTPUTS[name]
    cf = check(f, X, V)
    check(f, X2, V2, cf)
    check(f, X * (1 + 0.5j), V * (1 - 2j))  # complex input, a second signature


@pytest.mark.parametrize("f", [np.linalg.det, np.linalg.norm, np.prod], ids=lambda f: f.__name__)
def test_scalar_results_of_eager_rules_have_numpy_scalar_tangents(f):
    # as eager jvp's (a rule replayed as one instruction gave a 0-d array)
    x, v = np.eye(3) + 0.1, np.ones((3, 3))
    value, tangent = dd.jit_jvp(f)(x, v)
    assert type(value) is type(tangent) is type(dd.jvp(f, x, v)[1]) is np.float64


# Complex inputs (the shared list is real): shared cases whose functions take complex arrays.
COMPLEX_CASES = [
    "var",
    "var all",
    "std",
    "std keepdims",
    "ndarray.var",
    "dot matrix",
    "matmul",
    "matmul constant",
    "outer",
    "inner",
    "tensordot",
    "einsum",
    "einsum sum",
    "kron",
    "cross",
    "where constant condition",
    "sum tuple keepdims",
    "cumsum",
    "diff",
    "take axis",
    "concatenate",
    "getitem constant row mask",
]


@pytest.mark.parametrize("name", COMPLEX_CASES)
def test_complex_input_matches_eager(name):
    case = CASES[name]
    x = case.point(0) * (1 + 0.5j)
    v = np.random.default_rng(3).standard_normal(case.shape) * (1 - 2j)
    cf = check(case.f, x, v)
    check(case.f, case.point(1) * (0.5 - 1j), v, cf)


def test_several_arguments_with_broadcasting():
    def f(a, b, c):
        return np.sin(a) * b + c**2 / (1 + b * b), np.sum(a * c)

    x = (normal(3, 1, seed=1), normal(4, seed=2), normal(3, 4, seed=3))
    v = (normal(3, 1, seed=4), normal(4, seed=5), normal(3, 4, seed=6))
    cf = check(f, x, v)
    check(f, tuple(2 * a for a in x), tuple(-a for a in v), cf)
    assert len(cf._compiled) == 1


def test_integer_inputs_are_promoted_like_eager():
    f = lambda a: np.sin(a) * a  # noqa: E731
    check(f, np.arange(4), np.ones(4, dtype=int))
    check(f, [1, 2, 3], [1.0, 0.0, 2.0])
    check(f, 2.0, 1.0)


def test_real_input_with_complex_tangent():
    check(lambda a: np.exp(a) * a, X, V * (1 + 1j))
    # J·v, the real Jacobian applied to v, for functions that read a value's real part too
    # (traced with the complex tangent, np.real gave J·Re v and np.conj J·conj(v))
    v = V * (0.5 - 1j)
    for f in (np.real, np.conj, lambda a: np.vdot(a, a) + a.real * a):
        jac = numeric_jacobian(f, X)
        value, tangent = dd.jit_jvp(f)(X, v)
        assert_close(tangent, np.tensordot(jac, v.real, 2) + 1j * np.tensordot(jac, v.imag, 2))


def test_float32_keeps_its_precision():
    x, v = X.astype(np.float32), V.astype(np.float32)
    value, tangent = check(f_numpy, x, v, rtol=1e-6)(x, v)
    assert value.dtype == tangent.dtype == np.float32


# Comparisons of a traced argument carry no derivative; the condition is re-evaluated per call.
COMPARISONS = {
    "where": lambda a: np.where(a > 0, a**2, -a),
    "mask product": lambda a: (a > 0) * a,
    "isfinite": lambda a: np.where(np.isfinite(a), a, 0.0),
    "equal": lambda a: np.where(a == a, a, 0.0),
    "comparison output": lambda a: (a < 0.5, np.sin(a)),
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_of_traced_values(name):
    f = COMPARISONS[name]
    cf = check(f, X, V)
    check(f, X2, V2, cf)


def value_dependent_mask(a):
    return np.sin(a[a > 0]) * np.exp(a[a > 0])


def mask_after_full_temporaries(a):
    full = np.sin(a) * np.cos(a)  # temporaries of x's shape, dead before the mask is taken
    y = a[a > 0]
    return np.exp(y) * np.sin(y) + full.sum()


@pytest.mark.parametrize("f", [value_dependent_mask, mask_after_full_temporaries])
def test_traced_boolean_mask_is_refused_or_right_at_every_call(f):
    """Compiled where every entry is selected, then called where fewer are: a shape that depends
    on the values is refused with a TypeError saying so, or every result agrees with eager."""
    cf = dd.jit_jvp(f)
    v = np.array([1.0, 2.0, 3.0, 4.0])
    try:
        cf(np.array([1.0, 2.0, 3.0, 4.0]), v)
    except TypeError as error:
        assert "values" in str(error)
        return
    for x in ([1.0, 2.0, 3.0, 4.0], [1.0, -2.0, 3.0, 0.5], [-1.0, -2.0, 3.0, -0.5]):
        check(f, np.array(x), v, cf)


def test_astype_to_a_float_dtype():
    check(lambda a: a.astype(np.float64) * 2, X, V)
    check(lambda a: np.sin(a).astype(np.complex128), X, V)


@pytest.mark.parametrize("name", ["concatenate", "stack", "where", "where traced condition"])
def test_dualdiff_array_functions(name):
    f = {
        "concatenate": lambda a: dd.concatenate([a, np.sin(a)]),
        "stack": lambda a: dd.stack([a, a * a]),
        "where": lambda a: dd.where(MASK, a, np.cos(a)),
        "where traced condition": lambda a: dd.where(a < 0.5, np.sin(a), a),
    }[name]
    check(f, X, V)


def test_local_array_changed_between_uses():
    def f(a):
        k = np.ones(4)
        first = a * k
        k[0] = 5.0
        return first + a * k

    check(f, X[0], V[0])


# -- compilation: caching, buffer reuse, generated code ----------------------------------------


def test_same_signature_reuses_the_compiled_code():
    traced = []

    def f(a):
        traced.append(1)
        return np.sin(a) * a

    cf = dd.jit_jvp(f)
    first = cf(X, V)
    second = cf(X2, V2)
    assert len(traced) == 1 and len(cf._compiled) == 1
    agree(first, dd.jvp(f, X, V))
    agree(second, dd.jvp(f, X2, V2))
    check(f, X[0], V[0], cf)  # a new shape compiles again
    check(f, X.astype(np.float32), V.astype(np.float32), cf, rtol=1e-6)  # so does a new dtype
    check(f, X + 0j, V + 0j, cf)
    assert len(cf._compiled) == 4
    check(f, X2, V2, cf)
    assert len(cf._compiled) == 4


def test_repeated_calls_do_not_corrupt_earlier_results():
    def f(a):  # many temporaries of one shape, so buffers are reused inside the code
        b = np.sin(a) * np.exp(-a * a)
        c = np.tanh(3 * a) * np.sqrt(1 + a * a)
        return b + c + np.log1p(a * a), (b * c).sum(axis=0)

    cf = dd.jit_jvp(f)
    cf(X, V)
    assert "out=" in cf.source
    kept = []
    for seed in range(6):
        x, v = normal(3, 4, seed=20 + seed), normal(3, 4, seed=40 + seed)
        result = cf(x, v)
        agree(result, dd.jvp(f, x, v))
        kept.append((x, v, result, [np.copy(a) for a in (result[0][0], result[0][1])]))
    for x, v, result, copies in kept:
        np.testing.assert_array_equal(result[0][0], copies[0])
        np.testing.assert_array_equal(result[0][1], copies[1])
        agree(result, dd.jvp(f, x, v))


def test_inputs_are_never_modified():
    fs = [f_numpy, OUTPUTS["python scalars"], lambda a: a, OUTPUTS["tuple output"]]
    for f in fs:
        x, v = X.copy(), V.copy()
        x.flags.writeable = v.flags.writeable = False  # writing would raise
        cf = dd.jit_jvp(f)
        for _ in range(2):
            check(f, x, v, cf)
        np.testing.assert_array_equal(x, X)
        np.testing.assert_array_equal(v, V)
    x, y, v = X.copy(), X2.copy(), V.copy()
    dd.jit_jvp(lambda a, b: np.sin(a) * b)((x, y), (v, v))
    np.testing.assert_array_equal(y, X2)


def test_returning_x_itself():
    value, tangent = dd.jit_jvp(lambda a: a)(X, V)
    np.testing.assert_array_equal(value, X)
    np.testing.assert_array_equal(tangent, V)
    value, tangent = dd.jit_jvp(lambda a: a * 1)(X, V)
    np.testing.assert_array_equal(value, X)
    np.testing.assert_array_equal(tangent, V)


def test_output_without_dependence_has_zero_tangent_of_its_shape():
    f = lambda a: (np.ones((2, 5)), np.arange(3), 1.5, a.sum())  # noqa: E731
    cf = dd.jit_jvp(f)
    for x, v in ((X, V), (X + 1j, V * (1 - 1j))):
        values, tangents = cf(x, v)
        agree((values, tangents), dd.jvp(f, x, v))
        assert [np.shape(t) for t in tangents] == [(2, 5), (3,), (), ()]
        for t in tangents[:3]:
            np.testing.assert_array_equal(t, 0.0)
            assert np.asarray(t).dtype == np.float64
    again = cf(X, V)[1]
    assert again[0] is not cf(X, V)[1][0]  # a fresh zero array per call


def test_source_is_generated_code():
    cf = dd.jit_jvp(np.sin)
    with pytest.raises(ValueError, match="compiled"):
        cf.source  # noqa: B018
    cf(X, V)
    assert isinstance(cf.source, str) and "def jvp(" in cf.source
    compile(cf.source, "<test>", "exec")


def test_common_subexpressions_are_merged_and_dead_code_dropped():
    single = dd.jit_jvp(np.sin)
    single(X, V)
    assert count_calls_on_x(single) == 2  # sin(x) and cos(x)
    twice = dd.jit_jvp(lambda a: np.sin(a) + np.sin(a))
    check(twice.f, X, V, twice)
    assert count_calls_on_x(twice) == 2
    unused = dd.jit_jvp(lambda a: (np.exp(a), np.tanh(a) ** 3, np.sin(a))[2])
    check(unused.f, X, V, unused)
    assert count_calls_on_x(unused) == 2
    assert len(unused.source.splitlines()) == len(single.source.splitlines())


def test_errstate_inside_f_is_replayed():
    def f(a):
        with np.errstate(divide="ignore"):
            return np.log(a)

    cf = dd.jit_jvp(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cf(np.array([1.0, 2.0]), np.ones(2))
        value, tangent = cf(np.array([0.0, 2.0]), np.array([0.0, 1.0]))
    assert value[0] == -np.inf and tangent[0] == 0.0 and tangent[1] == 0.5


def test_a_failed_trace_leaves_nothing_compiled():
    calls = []

    def f(a):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return a * 2

    cf = dd.jit_jvp(f)
    with pytest.raises(RuntimeError, match="first call"):
        cf(X, V)
    with pytest.raises(ValueError):
        cf.source  # noqa: B018
    np.testing.assert_array_equal(cf(X, V)[1], 2 * V)


# -- errors ------------------------------------------------------------------------------------


def if_positive(a):
    if a[0] > 0:
        return a
    return -a


def if_sum(a):
    if a.sum():
        return a
    return -a


def assign(a):
    a[0] = 1.0
    return a


@pytest.mark.parametrize(
    "f, match",
    [
        (lambda a: float(a.sum()) * a, "float"),
        (lambda a: int(a[0]) * a, "int"),  # (of a dual: drops its derivative, as eagerly)
        (lambda a: a[: a[0]], "index"),
        (lambda a: np.spacing(a), "numpy.spacing"),
        (lambda a: np.tril_indices_from(a.reshape(1, 3)), "numpy.tril_indices_from"),
        (lambda a: np.sin(a, out=np.empty(3)), "out="),
        (lambda a: np.asarray(a, dtype=float), "converting it to float64"),
        (lambda a: np.array([a[0], a[1]], dtype=float), "converting it to float64"),
        (lambda a: None, "NoneType"),
        (lambda a: "text", "str"),
        (lambda a: (a, None), "NoneType"),
        (lambda a: {"a": a}, "dict"),
    ],
)
def test_untraceable_functions_raise_type_error(f, match):
    with pytest.raises(TypeError, match=match):
        dd.jit_jvp(f)(np.array([1.0, 2.0, 3.0]), np.ones(3))


@pytest.mark.parametrize(
    "x, v, error",
    [
        (np.ones(3), np.ones(4), ValueError),
        (np.ones((2, 3)), np.ones((3, 2)), ValueError),
        (np.array(["a", "b"]), np.ones(2), TypeError),
        (np.array([object()]), np.ones(1), TypeError),
        (np.ones(2), np.array(["a", "b"]), TypeError),
        ((np.ones(2), np.ones(2)), np.ones(2), ValueError),
        ((np.ones(2), np.ones(2)), (np.ones(2),), ValueError),
        ((np.ones(2), np.ones(2)), (np.ones(2), np.ones(3)), ValueError),
    ],
)
def test_bad_inputs(x, v, error):
    f = (lambda a, b: a * b) if type(x) is tuple else np.sin
    with pytest.raises(error):
        dd.jit_jvp(f)(x, v)


def test_not_callable():
    with pytest.raises(TypeError, match="callable"):
        dd.jit_jvp(3.0)


# -- nesting: dual inputs run eagerly ----------------------------------------------------------


def test_nested_inside_derivative():
    f = lambda a: np.sin(a) * a + np.sum(a * a * a)  # noqa: E731
    x, v = X[0], V[0]
    cf = dd.jit_jvp(f)
    cf(x, v)  # compiled for plain arrays first
    got = dd.derivative(lambda s: cf(x * s, v)[1].sum(), 1.0)
    expected = dd.derivative(lambda s: dd.jvp(f, x * s, v)[1].sum(), 1.0)
    assert_close(got, expected, 1e-14)
    # d/ds sum(J(s x) v), checked by differences of the compiled JVP
    assert_close(got, directional(lambda s: cf(x * s, v)[1].sum(), 1.0, 1.0), 1e-7)
    got = dd.derivative(lambda s: cf(x, v * s)[1].sum(), 2.0)
    assert_close(got, dd.jvp(f, x, v)[1].sum(), 1e-14)  # linear in v
    assert len(cf._compiled) == 1  # dual inputs did not compile anything


def test_nested_inside_derivative_through_a_safe_rule():
    cf = dd.jit_jvp(np.sqrt)
    x, v = np.array([1.0, 4.0]), np.ones(2)
    got = dd.derivative(lambda s: cf(x * s, v)[1].sum(), 1.0)
    assert_close(got, directional(lambda s: cf(x * s, v)[1].sum(), 1.0, 1.0), 1e-7)


def test_jacobian_of_a_compiled_value():
    f = lambda a: np.tanh(a) * a[::-1]  # noqa: E731
    cf = dd.jit_jvp(f)
    x = X[0]
    jac = dd.jacobian(lambda z: cf(z, np.ones(4))[0], x)
    assert_close(jac, dd.jacobian(f, x), 1e-14)
    assert_close(jac, numeric_jacobian(f, x), 1e-7)


# -- the benchmark function --------------------------------------------------------------------


def test_benchmark_matches_hand_written_jvp_and_exact_tangent():
    rng = np.random.default_rng(0)
    x = np.linspace(-3.0, 3.0, 1001) + rng.uniform(-1e-3, 1e-3, 1001)
    v = rng.standard_normal(1001)
    cf = dd.jit_jvp(f_numpy)
    for _ in range(2):
        value, tangent = cf(x, v)
        hand_value, hand_tangent = hand_jvp(x, v)
        assert_close(value, hand_value, 1e-13, 1e-13)
        assert_close(tangent, hand_tangent, 1e-13, 1e-13)
        assert_close(tangent, exact_tangent(x, v).astype(float), 1e-13, 1e-13)


BENCHMARK = dd.jit_jvp(f_numpy)  # shared across examples: shapes repeat, code is reused


@settings(max_examples=30, deadline=None)
@given(
    npst.arrays(
        np.float64,
        npst.array_shapes(min_dims=0, max_dims=2, max_side=5),
        elements=st.floats(-3.0, 3.0),
    ),
    st.integers(0, 2**32 - 1),
)
def test_benchmark_on_random_arrays(x, seed):
    v = np.random.default_rng(seed).standard_normal(x.shape)
    value, tangent = BENCHMARK(x, v)
    agree((value, tangent), dd.jvp(f_numpy, x, v))
    assert_close(tangent, hand_jvp(x, v)[1], 1e-13, 1e-13)


def test_a_function_without_a_rule_is_refused_as_in_eager_mode():
    """``np.ravel_multi_index`` has no derivative rule at all: compiled mode must not send the user
    to the eager functions as if they differentiated it; it raises the eager error, word for
    word."""
    x = np.array([1.0, 2.0, 3.0])

    def f(a):
        return np.ravel_multi_index(a, (3,)) * a

    with pytest.raises(TypeError) as eager:
        dd.jvp(f, x, np.ones(3))
    assert "no derivative rule for numpy.ravel_multi_index" in str(eager.value)
    with pytest.raises(TypeError) as jvp:
        dd.jit_jvp(f)(x, np.ones(3))
    with pytest.raises(TypeError) as jacobian:
        dd.jit_jacobian(f)(x)
    assert str(jvp.value) == str(jacobian.value) == str(eager.value)


def test_asarray_of_a_0d_traced_array_refuses_a_write_as_eager_mode_does():
    # the 0-d object array was writable: the write was lost, where NumPy's np.asarray(z) is z
    # and the write lands in it (3.75 and slope 4 for NumPy's 6.25 and 5)
    def f(z):
        r = np.asarray(z)
        np.expand_dims(r, 0)[...] += 1.0
        return r * z

    with pytest.raises(ValueError, match="read-only"):
        dd.jit_jvp(f)(np.array(1.5), np.array(1.0))
    with pytest.raises(ValueError, match="read-only"):
        dd.jit_jacobian(f)(np.array(1.5))
    value, tangent = dd.jit_jvp(f)(1.5, 1.0)  # a scalar's np.asarray is a new array
    assert (value, tangent) == (3.75, 4.0)


@pytest.mark.parametrize("f", [lambda z: z, lambda z: (z, 2 * z), lambda z: z + 0])
def test_a_python_scalar_point_gives_scalars_as_eager_mode(f):
    # f = lambda z: z returned the 0-d array the scalar argument is passed to the generated
    # function as, where eager mode and NumPy give a scalar
    def leaves(out):
        return [b for a in out for b in (a if isinstance(a, tuple) else (a,))]

    compiled = leaves(dd.jit_jvp(f)(1.5, 1.0))
    eager = leaves(dd.jvp(f, 1.5, 1.0))
    assert len(compiled) == len(eager)
    for got, expected in zip(compiled, eager):
        assert not isinstance(got, np.ndarray)
        assert got == expected
    # a 0-d array argument is an array, and comes back as one
    value, tangent = dd.jit_jvp(lambda z: z)(np.array(1.5), np.array(1.0))
    assert type(value) is np.ndarray and type(tangent) is np.ndarray
