"""Attacks on the compiled JVP and Jacobian (``dualdiff.engine.jit``): replay at new points, buffer
reuse, merged subexpressions, constant snapshots, the Jacobian's direction axis, odd inputs.

Every compiled result is compared with eager ``dualdiff.jvp``/``jacobian`` (themselves tested
against numeric differences), with plain NumPy for values, or with a closed form, on the first
call and on later calls at other points. The first section holds the minimal reproducers of
bugs these attacks found (all fixed).
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from reference import assert_close, directional
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.engine.sparse import SparseJacobian

RNG = np.random.default_rng(11)
M34 = RNG.standard_normal((3, 4))
M44 = RNG.standard_normal((4, 4))
CUBE = RNG.standard_normal((2, 3, 4))
C23 = RNG.standard_normal((2, 3))
C31 = RNG.standard_normal((3, 1))
C33 = RNG.standard_normal((3, 3))


def leaves(a):
    if type(a) in (tuple, list):
        return [leaf for item in a for leaf in leaves(item)]
    return [a]


def close(got, expected, rtol=1e-12):
    got, expected = leaves(got), leaves(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g, e = np.asarray(g), np.asarray(e)
        assert g.shape == e.shape, (g.shape, e.shape)
        finite = np.abs(e[np.isfinite(e)])
        scale = float(np.max(finite, initial=1.0))
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * scale, equal_nan=True)


def jvp_matches_eager(f, points, rtol=1e-12):
    """One compiled JVP, called at every ``(x, v)`` in turn, agrees with eager ``jvp``."""
    compiled = dd.jit_jvp(f)
    for x, v in points:
        close(compiled(x, v), dd.jvp(f, x, v), rtol)
    return compiled


def jacobian_matches_eager(f, points, rtol=1e-12):
    """One compiled Jacobian, called at every point in turn, agrees with eager ``jacobian``."""
    compiled = dd.jit_jacobian(f)
    for x in points:
        close(compiled.value_and_jacobian(x), dd.value_and_jacobian(f, x), rtol)
    return compiled


def quiet(function):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return function()


X3 = np.array([0.3, -1.2, 2.0])
V3 = np.array([1.0, 2.0, -0.5])
LIST = [1.0, 2.0, 3.0]
MIXED = [0.5, 2.0, -1.5]
REVERSE = np.eye(3)[::-1]


# =============================================================================================
# Bugs these attacks found, each a minimal reproducer (fixed; kept as regression tests)
# =============================================================================================


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x[::-1] * LIST,
        lambda x: np.maximum(x[::-1], MIXED),
        lambda x: np.copysign(x[::-1], MIXED),
    ],
    ids=["multiply", "maximum", "copysign"],
)
def test_list_operand_in_a_jacobian(f):
    # the partial of x[::-1] * [1, 2, 3] is the list, which must scale the rows of the
    # reversal permutation, not its columns
    jac = dd.jit_jacobian(f)(X3)
    assert_close(jac, numeric_jacobian(f, X3), 1e-8)


def test_list_operand_closed_form():
    np.testing.assert_allclose(dd.jacobian(lambda x: x[::-1] * LIST, X3), np.diag(LIST) @ REVERSE)


def test_list_condition_of_where_in_a_jacobian():
    f = lambda x: np.where([True, True, False], x[::-1], 0.0)  # noqa: E731
    expected = np.diag([1.0, 1.0, 0.0]) @ REVERSE
    np.testing.assert_array_equal(dd.jit_jacobian(f)(X3), expected)


def test_fold_does_not_reassociate_values():
    big = np.full(3, 1.5 * 2.0**52)  # (t + big) - big rounds t to an integer, as NumPy does
    f = lambda x: (np.sin(x) * 4.0 + big) - big  # noqa: E731
    x = np.array([0.3, -1.2, 2.0])
    value, _ = dd.jit_jacobian(f).value_and_jacobian(x)
    np.testing.assert_array_equal(value, f(x))


ZERO_SIGN = {
    # x + 0.0 turns -0.0 into +0.0 (a common idiom); _simplify returns x itself
    "x + 0.0": (lambda x: np.arctan2(x + 0.0, -1.0), np.array([-0.0, 1.0])),
    # complex z * 1 turns an imaginary -0.0 into +0.0: a branch cut of sqrt then flips the sign
    "z * 1": (lambda z: np.sqrt(-(z * 1)), np.array([complex(4.0, -0.0)])),
    # the loose key merges the constants 0.0 and -0.0 (0.0 == -0.0)
    "x * -0.0 after x * 0.0": (lambda x: (x * 0.0, 1.0 / (x * -0.0)), np.array([1.0, 2.0])),
}


@pytest.mark.parametrize("name", sorted(ZERO_SIGN))
def test_signed_zeros_are_kept(name):
    f, x = ZERO_SIGN[name]
    value, _ = quiet(lambda: dd.jit_jvp(f)(x, np.ones_like(x)))
    for got, expected in zip(leaves(value), leaves(quiet(lambda: f(x)))):
        np.testing.assert_array_equal(np.signbit(np.real(got)), np.signbit(np.real(expected)))
        np.testing.assert_array_equal(np.signbit(np.imag(got)), np.signbit(np.imag(expected)))
        np.testing.assert_array_equal(got, expected)


def test_int_and_float_constants_of_where_are_not_merged():
    def f(x):
        on = np.where(x > 0, 1.0, 0.0)  # a float array used as a condition
        counts = np.where(on, 200, 0)  # int64
        scale = np.where(on, 200.0, 0.0)  # float64: merged with counts
        return x * counts, x * scale**9

    value, _ = dd.jit_jvp(f)(X3, V3)
    close(value, f(X3))


def test_negation_of_unsigned_integers_is_not_absorbed():
    def f(x):
        u = np.where(x > 0, np.uint8(1), np.uint8(0))
        return x * (1.0 + (-u))  # NumPy: -uint8(1) is 255

    value, tangent = dd.jit_jvp(f)(X3, V3)
    np.testing.assert_array_equal(value, f(X3))
    close(tangent, dd.jvp(f, X3, V3)[1])


KEEPDIMS = {
    "sum keepdims=1 (Jacobian)": ("jac", lambda x: x - x.sum(axis=1, keepdims=1)),
    "var keepdims=1 (value)": ("jvp", lambda x: x * np.var(x, axis=1, keepdims=1)),
}


@pytest.mark.parametrize("name", sorted(KEEPDIMS))
def test_truthy_keepdims(name):
    mode, f = KEEPDIMS[name]
    x = (np.arange(9.0).reshape(3, 3) / 7) ** 1.5  # square: a misplaced axis still broadcasts
    if mode == "jac":
        assert_close(dd.jit_jacobian(f)(x), numeric_jacobian(f, x), 1e-8)
    else:
        v = np.ones((3, 3))
        value, tangent = dd.jit_jvp(f)(x, v)
        np.testing.assert_allclose(value, f(x), rtol=1e-14)
        assert_close(tangent, directional(f, x, v), 1e-8)


AFFINE = {
    "diff prepend": lambda x: np.diff(x, prepend=1.0),
    "diff append": lambda x: np.diff(x, append=[1.0]),
    "sum initial": lambda x: np.sum(x, initial=5.0),
}


@pytest.mark.parametrize("name", sorted(AFFINE))
def test_affine_options_do_not_reach_the_tangent(name):
    f = AFFINE[name]
    # f(x) = L x + c, so J v = f(v) - f(0)
    _, tangent = dd.jit_jvp(f)(X3, V3)
    np.testing.assert_allclose(tangent, f(V3) - f(np.zeros(3)), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.sum(x, dtype=int),
        lambda x: np.cumsum(x, dtype=int),
        lambda x: np.trace(np.outer(x, x), dtype=int),
    ],
    ids=["sum", "cumsum", "trace"],
)
def test_integer_dtype_reductions_are_refused(f):
    with pytest.raises(TypeError):
        dd.jvp(f, X3, V3)
    with pytest.raises(TypeError):
        dd.jit_jvp(f)(X3, V3)


def test_overflowing_coefficient_keeps_structural_zeros():
    f = lambda x: (x * x) * 1e308  # noqa: E731
    x = np.array([1.2, 0.5, 0.7])  # f(x) is finite; df0/dx0 = 2.4e308 overflows
    jac = quiet(lambda: dd.jit_jacobian(f)(x))
    expected = quiet(lambda: np.diag(2 * x * 1e308))  # inf, 1e308, 1.4e308 on the diagonal
    np.testing.assert_array_equal(jac, expected)
    np.testing.assert_array_equal(quiet(lambda: dd.jacobian(f, x)), expected)  # eager agrees


@pytest.mark.parametrize(
    "f, x",
    [(np.log, [np.nan, 0.5, 0.25]), (np.log1p, [np.nan, 0.5, 0.25]), (np.arcsin, [4.0, 0.5, 0.25])],
    ids=["log at nan", "log1p at nan", "arcsin outside [-1, 1]"],
)
def test_zero_tangent_stays_zero_where_the_partial_is_nan(f, x):
    x = np.array(x)
    v = np.array([0.0, 1.0, 0.0])
    _, expected = quiet(lambda: dd.jvp(f, x, v))
    _, tangent = quiet(lambda: dd.jit_jvp(f)(x, v))
    assert expected[0] == 0.0
    np.testing.assert_array_equal(tangent, expected)


def test_in_place_ufunc_at_on_a_traced_array():
    def f(x):
        weights = np.where(x > 0, 1.0, 0.0)
        np.add.at(weights, [0], 5.0)
        return x * weights

    with pytest.raises(TypeError, match="in place"):  # was silently lost
        dd.jit_jvp(f)(X3, V3)


class _Subclass(np.ndarray):
    pass


def test_subclass_constant_changed_inside_f():
    def f(x):
        k = np.ones(3).view(_Subclass)
        first = x * k
        k[0] = 5.0
        return first + 10 * (x * k)

    with pytest.raises(TypeError, match="subclass"):  # was read live, not as traced
        dd.jit_jvp(f)(X3, V3)


ALIASED = {
    "value and its .copy()": lambda x: (np.sin(x), np.sin(x).copy()),
    "tangents of exp(x).T and exp(x) + 1": lambda x: (np.exp(x).T, np.exp(x) + 1.0),
}


@pytest.mark.parametrize("name", sorted(ALIASED))
def test_returned_arrays_do_not_share_memory(name):
    f = ALIASED[name]
    x = M34
    values, tangents = dd.jit_jvp(f)(x, np.ones_like(x))
    results = [a for a in leaves((values, tangents)) if isinstance(a, np.ndarray)]
    eager = [a for a in leaves(dd.jvp(f, x, np.ones_like(x))) if isinstance(a, np.ndarray)]
    for i in range(len(results)):
        for j in range(i + 1, len(results)):
            if not np.shares_memory(eager[i], eager[j]):
                assert not np.shares_memory(results[i], results[j]), (i, j)


def test_custom_jvp_under_jit():
    @dd.custom_jvp
    def g(x):
        return np.sin(x)

    g.defjvp(lambda p, t: (np.sin(p[0]), np.cos(p[0]) * t[0]))
    try:
        result = dd.jit_jvp(g)(X3, V3)
    except TypeError:
        return
    close(result, dd.jvp(g, X3, V3))


def test_float32_jacobian_keeps_its_dtype():
    x = M34.astype(np.float32)
    assert dd.jacobian(np.sin, x).dtype == np.float32
    assert dd.jit_jacobian(np.sin)(x).dtype == np.float32


# =============================================================================================
# Attacks the compiler survives: regression tests
# =============================================================================================

# -- merged and folded algebra ------------------------------------------------------------------
# (NumPy functions with negative and tuple axes, broadcasting conditions and stacks are cases of
# the shared list, cases.py, which replays every case at a second point in jit_jvp and
# jit_jacobian.)

FOLDED = {
    "x - x, x * 0 and constants": lambda x: (x - x, x * 0, np.sin(x) - np.sin(x), np.ones(2)),
    "negations absorbed": lambda x: (x + (-np.sin(x)), (-np.sin(x)) + x, x - (-np.cos(x))),
    "linear parts folded": lambda x: ((x + M34) - M34 * 2) + 3 * x - (M34 - x),
    "scaled blocks reused": lambda x: np.sin(x) * np.cos(x) + np.sin(x) * x + (x * x) * x,
}


@pytest.mark.parametrize("name", sorted(FOLDED))
def test_folded_algebra_replays(name):
    f = FOLDED[name]
    x0, x1 = RNG.standard_normal((2, 3, 4))
    jacobian_matches_eager(f, [x0, x1])
    jvp_matches_eager(f, [(x0, x1), (x1, x0)])


# x of shape (3,) has k = 3 directions: a misplaced direction axis would broadcast silently
BROADCAST = {
    "x * (2, 3)": lambda x: np.sin(x) * C23,
    "(2, 3) / f(x)": lambda x: C23 / np.cosh(x),
    "(2, 3) ** f(x)": lambda x: np.abs(C23) ** np.sin(x),
    "x * (3, 1)": lambda x: np.sin(x) * C31,
    "x * (3, 3)": lambda x: x * C33,
    "x[0] * x": lambda x: x[0] * x,
    "x[:, None] * x": lambda x: x[:, None] * x,
    "maximum with (2, 3)": lambda x: np.maximum(x, C23),
    "arctan2 with (3, 1)": lambda x: np.arctan2(C31, x),
    "where (3, 3) condition": lambda x: np.where(C33 > 0, x, x[:, None] ** 2),
    "matmul both sides": lambda x: C33 @ np.sin(x) + np.sin(x) @ C33,
    "outer": lambda x: np.outer(x, C33[0]) + np.outer(C33[1], x * x),
    "folded constants of length 3": lambda x: (x * x + C33[0]) + C33[1] - C33[2],
}


@pytest.mark.parametrize("name", sorted(BROADCAST))
def test_direction_axis_never_meets_a_value_axis(name):
    f = BROADCAST[name]
    x = RNG.standard_normal(3)
    compiled = jacobian_matches_eager(f, [x, 1.7 * x - 0.2])
    assert_close(compiled(x), numeric_jacobian(f, x), 1e-7)


# -- buffer reuse: later calls, views, outputs -------------------------------------------------

OUTPUTS = {
    "view of a temporary": lambda x: (np.sin(x)[1:], np.sin(x) * 2),
    "transpose of a temporary": lambda x: (np.exp(x).T, np.exp(x) + 1),
    "reshape of a temporary": lambda x: (np.reshape(x * x, -1), x * x + x),
    "broadcast of a temporary": lambda x: (np.broadcast_to(np.sin(x)[0], (5, 4)), np.cos(x)),
    "input and its views": lambda x: (x, x[0], x.T, np.sin(x)),
    "long chain": lambda x: np.tanh(np.exp(np.sin(x) * np.cos(x)) + x) * np.sqrt(1 + x * x),
    "reductions and rows": lambda x: (np.sin(x).sum(0), np.sin(x)[0] + np.cos(x)[1]),
    "squares and flips": lambda x: (x * x, (x * x) * (x * x), (x * x)[::-1]),
}


@pytest.mark.parametrize("mode", ["jvp", "jacobian"])
@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_later_calls_leave_earlier_results_and_inputs_alone(name, mode):
    f = OUTPUTS[name]
    compiled = dd.jit_jvp(f) if mode == "jvp" else dd.jit_jacobian(f)
    kept = []
    for seed in range(4):
        x, v = np.random.default_rng(seed).standard_normal((2, 3, 4))
        x.flags.writeable = v.flags.writeable = False  # writing into them would raise
        if mode == "jvp":
            result, expected = compiled(x, v), dd.jvp(f, x, v)
        else:
            result, expected = compiled.value_and_jacobian(x), dd.value_and_jacobian(f, x)
        close(result, expected)
        kept.append((result, [np.array(a, copy=True) for a in leaves(result)]))
    for result, copies in kept:
        for a, copy in zip(leaves(result), copies):
            np.testing.assert_array_equal(a, copy)


LAYOUTS = {
    "Fortran order": lambda a: np.asfortranarray(a),
    "non-contiguous": lambda a: np.repeat(a, 2, axis=1)[:, ::2],
    "big-endian": lambda a: a.astype(">f8"),
    "read-only": lambda a: np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_memory_layouts_share_one_program(name):
    f = lambda x: np.sin(x.T) @ x + np.exp(-x * x).sum(axis=0)  # noqa: E731
    layout = LAYOUTS[name]
    x0, x1, v = RNG.standard_normal((3, 3, 4))
    # compiled for a C-ordered array, then replayed on the other layout, and the other way round
    jvp_matches_eager(f, [(x0, v), (layout(x1), layout(v)), (x1, v)])
    jvp_matches_eager(f, [(layout(x1), layout(v)), (x0, v)])
    jacobian_matches_eager(f, [x0, layout(x1), x1])


# -- constants: snapshots of arrays changed while f runs ---------------------------------------


def scaled_twice(x):
    k = np.ones(3)
    first = x * k
    k *= 2.0
    second = x * k
    k[:] = 1.0
    return first + 10 * second + 100 * (x * k)


def view_changed(x):
    k = np.ones(3)
    view = k[:2]
    first = x[:2] * view
    k[0] = 5.0
    return first + 10 * (x[:2] * view)


def index_changed(x):
    index = np.array([0, 1])
    first = x[index]
    index[0] = 2
    return first * x[index]


def mask_changed(x):
    mask = np.array([True, False, True])
    first = np.where(mask, x, 0.0)
    mask[1] = True
    return first + 2 * np.where(mask, x, 0.0)


def matrix_changed(x):
    w = np.eye(3)
    first = w @ np.sin(x)
    w[0, 1] = 3.0
    return first * (w @ x)


def folded_constant_changed(x):
    c = np.ones(3)
    first = np.sin(x) + c
    c[0] = 100.0
    return first + c


def written_with_out(x):
    c = np.ones(3)
    first = x * c
    np.add(c, 1.0, out=c)
    return first - x * c


@pytest.mark.parametrize(
    "f",
    [
        scaled_twice,
        view_changed,
        index_changed,
        mask_changed,
        matrix_changed,
        folded_constant_changed,
        written_with_out,
    ],
)
def test_constants_changed_between_uses(f):
    jvp_matches_eager(f, [(X3, V3), (2 * X3, -V3)])
    jacobian_matches_eager(f, [X3, 2 * X3])


# -- safe rules at singular points: zero tangents stay zero on later calls ---------------------

SINGULAR = {
    "sqrt": (np.sqrt, [1.0, 2.0, 0.5], [0.0, 1.0, 0.0]),
    "log": (np.log, [1.0, 2.0, 0.5], [0.0, 1.0, 0.0]),
    "log1p": (np.log1p, [1.0, 2.0, 0.5], [-1.0, 1.0, 0.0]),
    "cbrt": (np.cbrt, [1.0, 2.0, 0.5], [0.0, 1.0, -1.0]),
    "arcsin": (np.arcsin, [0.1, 0.2, 0.5], [1.0, -1.0, 0.5]),
    "power 0.5": (lambda x: x**0.5, [1.0, 2.0, 0.5], [0.0, 1.0, 0.0]),
    "sqrt of a square": (lambda x: np.sqrt(x * x), [1.0, -2.0, 0.5], [0.0, 1.0, 0.0]),
    "log of sin": (lambda x: np.log(np.sin(x)), [1.0, 2.0, 0.5], [0.0, 1.0, 3.0]),
}


@pytest.mark.parametrize("name", sorted(SINGULAR))
def test_safe_rules_at_singular_points_on_a_later_call(name):
    f, regular, singular = SINGULAR[name]
    regular, singular = np.array(regular), np.array(singular)
    directions = [np.array([0.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0]), np.zeros(3)]
    points = [(regular, np.ones(3))] + [(singular, v) for v in directions]
    quiet(lambda: jvp_matches_eager(f, points))
    quiet(lambda: jacobian_matches_eager(f, [regular, singular]))


# -- inputs: shapes and dtypes -----------------------------------------------------------------


def test_size_zero_zero_d_and_python_scalars():
    f = lambda x: np.sin(x) * np.exp(-x * x)  # noqa: E731
    df = lambda x: (np.cos(x) - 2 * x * np.sin(x)) * np.exp(-x * x)  # noqa: E731
    compiled = dd.jit_jvp(f)
    for x, v in ((np.array(0.7), np.array(-1.3)), (0.7, -1.3), (np.array(-0.2), np.array(2.0))):
        value, tangent = compiled(x, v)
        np.testing.assert_allclose(value, f(np.asarray(x)), rtol=1e-15)
        np.testing.assert_allclose(tangent, df(np.asarray(x)) * v, rtol=1e-14)
    jac = dd.jit_jacobian(f)
    for x in (0.7, np.array(-0.2)):
        np.testing.assert_allclose(jac(x), df(np.asarray(x)), rtol=1e-14)
    for shape in ((0,), (0, 3)):
        value, tangent = compiled(np.zeros(shape), np.zeros(shape))
        assert value.shape == tangent.shape == shape
        assert dd.jit_jacobian(f)(np.zeros(shape)).shape == shape + shape


def test_float32_and_complex_inputs():
    f = lambda x: np.sin(x) * np.exp(-x * x) + np.sqrt(1 + x * x) * x.sum()  # noqa: E731
    x32, v32 = M34.astype(np.float32), M34[::-1].astype(np.float32)
    value, tangent = jvp_matches_eager(f, [(x32, v32), (2 * x32, v32)], rtol=1e-6)(x32, v32)
    assert value.dtype == tangent.dtype == np.float32
    z, w = M34 + 1j * M34[::-1], M34[::-1] - 0.5j
    jvp_matches_eager(f, [(z, w), (2 * z, w.conj())])
    jvp_matches_eager(f, [(M34, w), (2 * M34, 1j * w)])  # real x, complex tangent
    jacobian_matches_eager(f, [z, 1.5 * z])
    g = lambda x: np.abs(x * x) + np.conjugate(x) * x + np.var(x)  # noqa: E731
    jvp_matches_eager(g, [(z, w), (2 * z, w.conj()), (M34, w)])


@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_huge_and_tiny_values(scale):
    f = lambda x: np.sqrt(x * x + x[::-1] * x[::-1]) / (1 + np.abs(x))  # noqa: E731
    x0, x1, v = RNG.standard_normal((3, 3, 4))
    jvp_matches_eager(f, [(x0 * scale, v), (x1 * scale, v)])
    jacobian_matches_eager(f, [x0 * scale, x1 * scale])


# -- threads, sparse Jacobians, random programs ------------------------------------------------


def test_threads_tracing_and_replaying_at_once():
    def f(x):
        y = np.sin(x) * np.exp(-x * x)
        z = np.tanh(3 * x) * np.sqrt(1 + x * x)
        return y + z + np.log1p(x * x), (y * z).sum(axis=0)

    jvp, jac = dd.jit_jvp(f), dd.jit_jacobian(f)  # the threads race to compile each signature
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (5,), (2, 2), (4, 3)]
    jobs = [rng.standard_normal((2,) + shapes[i % 4]) for i in range(48)]

    def run(job):
        return jvp(job[0], job[1]), jac.value_and_jacobian(job[0])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, jobs))
    for (x, v), (pushed, full) in zip(jobs, results):
        close(pushed, dd.jvp(f, x, v))
        close(full, dd.value_and_jacobian(f, x))


def test_sparse_jacobian_compiled_replays():
    n = 8

    def f(x):
        inner = x[:-2] - 2 * np.sin(x[1:-1]) + x[2:] ** 3
        return np.concatenate([x[:1] ** 2, inner + np.ones(n - 2) - np.ones(n - 2), x[-1:] * 3])

    x = RNG.standard_normal(n)
    compiled = SparseJacobian(f, x, jit=True)
    for point in (x, 1.3 * x + 0.1, x[::-1].copy()):
        close(compiled(point), dd.jacobian(f, point))


UNARY = [
    np.sin,
    np.tanh,
    np.exp,
    lambda a: np.log1p(a * a),
    lambda a: np.sqrt(1 + a * a),
    lambda a: 1 / (2 + np.cos(a)),
]


def random_program(rng, depth):
    """A random composition of elementwise, broadcasting and structural operations on a
    (3, 4) array, written as nested tuples."""
    kind = int(rng.integers(0, 10)) if depth else 0
    below = lambda: random_program(rng, depth - 1)  # noqa: E731
    if kind == 0:
        return ("x",)
    if kind <= 3:
        return ("unary", int(rng.integers(len(UNARY))), below())
    if kind <= 6:
        other = below() if rng.random() < 0.6 else ("constant", int(rng.integers(3)))
        pair = (below(), other) if rng.random() < 0.5 else (other, below())
        return ("binary", int(rng.integers(4))) + pair
    return (("sum", "where", "flip")[kind - 7], below(), below())


CONSTANTS = [M34, M34[:1], M34[:, :1]]


def run(program, x):
    kind = program[0]
    if kind == "x":
        return x
    if kind == "constant":
        return CONSTANTS[program[1]]
    if kind == "unary":
        return UNARY[program[1]](run(program[2], x))
    if kind == "binary":
        a, b = run(program[2], x), run(program[3], x)
        return (a + b, a - b, a * b, a / (1.5 + np.cos(b)))[program[1]]
    a = run(program[1], x)
    if kind == "sum":
        return np.sum(a, axis=1, keepdims=True) * run(program[2], x)
    if kind == "where":
        return np.where(a > 0, a, run(program[2], x))
    return np.flip(a, axis=1)[::-1] @ M44


@pytest.mark.parametrize("seed", range(12))
def test_random_programs(seed):
    rng = np.random.default_rng(seed)
    program = random_program(rng, 5)
    f = lambda x: run(program, x)  # noqa: E731
    points = rng.standard_normal((3, 2, 3, 4))
    jvp_matches_eager(f, [(x, v) for x, v in points], rtol=1e-10)
    jacobian_matches_eager(f, [x for x, _ in points], rtol=1e-10)
