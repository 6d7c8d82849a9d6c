"""Rules whose cost grew faster with the input than NumPy's own function does (super-linear
cliffs), each checked by the memory it allocates or the work it does, never by a timing: the
bounds are a small multiple of what a linear rule needs and far below the old quadratic cost."""

import sys
import tracemalloc

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.core import methods
from dualdiff.rules import elementwise
from dualdiff.sparsity import tracer


def peak_bytes(fn):
    """The peak of memory allocated while ``fn()`` runs (NumPy reports its arrays)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_cumprod_tangent_needs_no_square_table():
    # the rule built the products over l <= j, l != i for every pair (i, j): an (n, n) table
    # from a Python loop over j (72 MB and seconds at n = 3000); prefix doubling needs O(n)
    n = 3000
    rng = np.random.default_rng(0)
    x, v = rng.uniform(0.9, 1.1, n), rng.standard_normal(n)
    x[[5, 700]] = 0.0  # two zeros: past the second, every derivative is exactly 0
    value, tangent = dd.jvp(np.cumprod, x, v)
    assert peak_bytes(lambda: dd.jvp(np.cumprod, x, v)) < 40 * x.nbytes
    # d y_j = sum_{i <= j} prod_{l <= j, l != i} x_l v_i, directly
    expected = np.cumprod(x) * np.cumsum(np.where(x == 0, 0.0, v / np.where(x == 0, 1.0, x)))
    before = np.cumprod(np.where(np.arange(n) == 5, 1.0, x))  # the zero at 5 left out
    expected[5:700] = before[5:700] * v[5]
    expected[700:] = 0.0
    np.testing.assert_array_equal(value, np.cumprod(x))
    np.testing.assert_allclose(tangent, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(tangent[700:], 0.0)


def test_cumprod_along_an_axis_of_a_stack_matches_numeric_differences():
    x = np.random.default_rng(1).uniform(0.5, 1.5, (2, 7, 3))
    x[0, 2, 1] = x[1, 0, 2] = x[1, 4, 2] = 0.0
    for axis in (0, 1, 2, None):
        jac = dd.jacobian(lambda a: np.cumprod(a, axis=axis), x)
        reference = numeric_jacobian(lambda a: np.cumprod(a, axis=axis), x)
        np.testing.assert_allclose(jac, reference, rtol=1e-6, atol=1e-8)


def _rounds_by_loop(flat, shape):
    """``ufunc.at``'s rounds by a plain loop: round r holds every element's (r+1)-th visit."""
    seen, rounds = {}, []
    for j, e in enumerate(flat.tolist()):
        r = seen.get(e, 0)
        seen[e] = r + 1
        if r == len(rounds):
            rounds.append([])
        rounds[r].append(j)
    return [(np.unravel_index(flat[c], shape), np.array(c, dtype=np.intp)) for c in rounds]


def test_ufunc_at_rounds_scan_the_visits_once(monkeypatch):
    # the r-th visits were found by scanning every visit once per round: an index repeated
    # n times (a histogram's one bin) cost n² work; one sort groups them
    rng = np.random.default_rng(2)
    flat = np.concatenate([np.zeros(1000, np.intp), rng.integers(0, 12, 300)])
    rng.shuffle(flat)
    scanned = []
    flatnonzero = np.flatnonzero
    monkeypatch.setattr(np, "flatnonzero", lambda a: scanned.append(np.size(a)) or flatnonzero(a))
    rounds = methods.at_rounds(flat, (3, 4))
    monkeypatch.undo()
    assert sum(scanned) <= 2 * flat.size
    expected = _rounds_by_loop(flat, (3, 4))
    assert len(rounds) == len(expected) > 1000
    for (where, chosen), (where_ref, chosen_ref) in zip(rounds, expected):
        np.testing.assert_array_equal(chosen, chosen_ref)
        for got, want in zip(where, where_ref):
            np.testing.assert_array_equal(got, want)
    assert methods.at_rounds(np.zeros(0, np.intp), (3,)) == []


def test_maximum_at_with_a_repeated_index_matches_numeric_differences():
    x = np.random.default_rng(3).standard_normal(40)
    index = np.array([0, 1, 0, 0, 2, 1, 0, 3, 0, 0] * 3)

    def f(x):
        y = x[:10].copy()
        np.maximum.at(y, index, x[10:])
        np.multiply.at(y, index[::-1], x[10:] * 0.1 + 1)
        return y

    reference = numeric_jacobian(f, x)
    np.testing.assert_allclose(dd.jacobian(f, x), reference, rtol=1e-6, atol=1e-8)
    v = np.random.default_rng(4).standard_normal(40)
    np.testing.assert_allclose(
        dd.taylor(lambda t: f(x + t * v), 0.0, 1)[..., 1], reference @ v, rtol=1e-6
    )
    np.testing.assert_allclose(dd.jit_jvp(f)(x, v)[1], reference @ v, rtol=1e-6)


def test_all_finite_keeps_large_arrays_off_blas_threads(monkeypatch):
    # every elementwise rule with a careful path checked its partial with np.vdot, which
    # OpenBLAS splits over threads above 10 000 entries: ~20 ms a call (1000x) on busy cores
    sizes = []
    vdot = np.vdot
    monkeypatch.setattr(np, "vdot", lambda a, b: sizes.append(np.size(a)) or vdot(a, b))
    for n in (10, 5000, 100_000):
        for dtype in (np.float32, np.float64, np.complex128):
            p = np.linspace(-1e3, 1e3, n).astype(dtype)
            assert elementwise.all_finite(p)
            for bad in (np.inf, -np.inf, np.nan):
                q = p.copy()
                q[n // 2] = bad
                assert not elementwise.all_finite(q)
            q = p.copy()
            q[0], q[-1] = np.inf, -np.inf
            assert not elementwise.all_finite(q)
    assert sizes and max(sizes) <= 10_000  # (OpenBLAS splits a dot product above 10 000)


@pytest.mark.parametrize(
    "f",
    [lambda x: np.diff(x, n=3), np.diff, np.prod],
    ids=["diff n=3", "diff", "prod"],
)
def test_shifted_copies_are_slices_not_takes_of_a_range(f):
    # np.take(a, range(1, m)) had NumPy convert the range element by element (800x NumPy's time
    # for np.diff(x, n=3)) into index arrays, and gather copies: 11-13 arrays of x's size at
    # the peak, where views of the shifted slices need 4-6
    rng = np.random.default_rng(5)
    x, v = rng.uniform(0.5, 1.5, 20_000), rng.standard_normal(20_000)
    value, tangent = dd.jvp(f, x, v)
    assert peak_bytes(lambda: dd.jvp(f, x, v)) < 8 * x.nbytes
    np.testing.assert_array_equal(value, f(x))
    h = 1e-6
    np.testing.assert_allclose(
        tangent, (f(x + h * v) - f(x - h * v)) / (2 * h), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("traced", ["right", "left"])
def test_sparsity_of_a_constant_stack_times_a_traced_stack_in_one_union(traced, monkeypatch):
    # A @ x.reshape(-1, 3, 1) with a constant stack A ran one union per matrix in a Python loop
    # (3.3 s at 24 000 entries, NumPy 0.6 ms); the pattern is the stack's block diagonal
    rng = np.random.default_rng(6)
    count = 400
    a = rng.standard_normal((count, 3, 3)) * (rng.uniform(size=(count, 3, 3)) > 0.4)
    x = rng.standard_normal(count * 3)
    if traced == "right":
        f = lambda x: a @ x.reshape(count, 3, 1)  # noqa: E731
    else:
        f = lambda x: x.reshape(count, 1, 3) @ a  # noqa: E731
    calls = []
    const_times = tracer._const_times
    monkeypatch.setattr(tracer, "_const_times", lambda *args: calls.append(1) or const_times(*args))
    pattern = dd.jacobian_sparsity(f, x)
    assert len(calls) <= 1
    blocks = a != 0 if traced == "right" else np.swapaxes(a != 0, -1, -2)
    expected = np.zeros((count * 3, count * 3), bool)
    for k in range(count):
        expected[3 * k : 3 * k + 3, 3 * k : 3 * k + 3] = blocks[k]
    np.testing.assert_array_equal(pattern, expected)


def _python_calls(fn):
    """How many Python and C functions ``fn()`` calls (run once before, so that caches are
    warm): the work a rule does per operation, whatever the machine's speed."""
    fn()
    count = [0]

    def profile(frame, event, arg):
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count[0]


def _extreme_at_program(ufunc, n):
    def f(x):
        y = x[:2].copy()
        index = np.arange(n) % 2  # two elements, each visited n / 2 times
        ufunc.at(y, index, x[2:])
        return y

    return f


@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum, np.fmax])
def test_extreme_at_with_an_index_repeated_n_times_does_constant_work(ufunc):
    # applied round by round, an index repeated n times cost n rounds of dual operations (1 s
    # at n = 8 000 eagerly, 40 s to compile); every visit of an element is now taken at once
    def runs(n):
        x = np.random.default_rng(n).standard_normal(n + 2)
        f = _extreme_at_program(ufunc, n)
        v = np.ones(n + 2)
        return [
            lambda: dd.jvp(f, x, v),
            lambda: dd.taylor(lambda t: f(x + t * v), 0.0, 2),
            lambda: dd.jit_jvp(f)(x, v),  # the trace and compilation included
        ]

    for small, large in zip(runs(40), runs(4000)):
        assert _python_calls(large) <= _python_calls(small) + 200


@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum, np.fmax, np.fmin])
def test_extreme_at_matches_numeric_differences_in_every_mode(ufunc):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(32)
    index = rng.integers(0, 4, 24)  # repeated, in no order
    index[:4] = [0, 1, 2, 3]

    def f(x):
        y = x[:8].copy()
        ufunc.at(y, index * 2, np.sin(x[8:]))  # elements 0, 2, 4, 6; the others untouched
        return y * x[:8]

    reference = numeric_jacobian(f, x)
    v = rng.standard_normal(32)
    np.testing.assert_allclose(dd.jacobian(f, x), reference, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dd.jacobian(f, x, sparsity="auto"), reference, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), reference, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dd.jit_jvp(f)(x + 0.1, v)[0], f(x + 0.1), rtol=1e-15)  # replayed
    line = lambda t: f(x + t * v)  # noqa: E731
    coefficients = dd.taylor(line, 0.0, 2)
    np.testing.assert_array_equal(coefficients[..., 0], f(x))
    np.testing.assert_allclose(coefficients[..., 1], reference @ v, rtol=1e-6, atol=1e-8)
    second = numeric_jacobian(lambda t: dd.taylor(line, t[0], 1)[..., 1], np.zeros(1))[..., 0]
    np.testing.assert_allclose(coefficients[..., 2] * 2, second, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum])
def test_extreme_at_shares_ties_evenly_as_max_does(ufunc):
    # y = extreme(x0, x1, x2, x3) visited in turn; x0, x1 and x3 tie: a third each, as np.max
    # of the four shares it (applied pairwise, the rounds gave 1/4, 1/4, 0, 1/2)
    x = np.array([1.0, 1.0, 0.5 if ufunc is np.maximum else 1.5, 1.0])

    def f(x):
        y = x[:1].copy()
        ufunc.at(y, [0, 0, 0], x[1:])
        return y

    expected = np.array([[1 / 3, 1 / 3, 0.0, 1 / 3]])
    np.testing.assert_allclose(dd.jacobian(f, x), expected, rtol=1e-15)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), expected, rtol=1e-15)
    np.testing.assert_allclose(dd.taylor(f, x, 1)[0, 1], 1.0, rtol=1e-15)  # along ones
    reduced = dd.jacobian(lambda x: ufunc.reduce(x, keepdims=True), x)
    np.testing.assert_allclose(reduced, expected, rtol=1e-15)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_extreme_at_keeps_numpys_value_at_nan_and_signed_zero():
    def f(x, ufunc, index, b):
        y = x.copy()
        ufunc.at(y, index, b * x[0])
        return y

    x = np.array([-0.0, 2.0])
    for ufunc, b in ((np.maximum, [-0.0, -0.0, 1.0]), (np.minimum, [np.nan, 1.0, 3.0])):
        value, _ = dd.jvp(lambda x: f(x, ufunc, [0, 0, 1], np.array(b)), x, np.ones(2))
        expected = f(x, ufunc, [0, 0, 1], np.array(b))
        np.testing.assert_array_equal(value, expected)
        np.testing.assert_array_equal(np.signbit(value), np.signbit(expected))
    # fmax skips a NaN: the derivative is the larger number's
    x = np.array([1.0, 3.0])
    jac = dd.jacobian(lambda x: f(x, np.fmax, [0, 0], np.array([np.nan, 2.0])), x)
    np.testing.assert_array_equal(jac, [[2.0, 0.0], [0.0, 1.0]])


def test_extreme_at_compares_in_the_dtype_of_the_array_written():
    # float64 operands into a float32 array: NumPy rounds them there, so the result equals the
    # rounded operand (compared unrounded, it equalled nothing and the rule indexed past the end)
    x = np.array([1.0, 0.1, 0.3], dtype=np.float32)

    def f(x):
        y = x[:1].copy()
        np.maximum.at(y, [0, 0], x[1:].astype(np.float64) * 33.3)
        return y

    np.testing.assert_allclose(dd.jacobian(f, x), [[0.0, 0.0, 33.3]], rtol=1e-6)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), [[0.0, 0.0, 33.3]], rtol=1e-6)
    np.testing.assert_allclose(dd.taylor(f, x, 1), [[f(x)[0], 33.3]], rtol=1e-6)
