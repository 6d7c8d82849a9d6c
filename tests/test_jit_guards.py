"""The compiler guards what ``f`` reads from the values while traced.

A compiled program is a fixed sequence of array operations. What ``f`` reads from the values at
the tracing point (the way a branch went, a number such as ``int(np.argmax(x))``, how many
elements a mask or ``np.nonzero`` selects, a shape) is recorded with a guard that checks at every
call that it reads the same there; where it does not, another program of the same shapes or a
new trace at that point is used. So every call must give what eager ``jvp``/``jacobian`` give at
that point: the reference here, with central differences as the independent check of eager mode
at one point per function.
"""

from __future__ import annotations

import concurrent.futures
import math
import warnings

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.core.errors import ValueDependentPatternWarning


def branch(x):
    if x[0] > 0:
        return np.sin(x) * x[1]
    return np.cos(x) * x


def halving_loop(x):
    y = x * 1.0
    while np.max(np.abs(y)) > 0.5:  # the count of halvings depends on the point
        y = y / 2
    return y * x


def python_max_sorted(x):
    return np.stack([max(x[0], x[1]), min(x[1], x[2])] + sorted([x[0], x[2]]))


def int_of_argmax(x):
    k = int(np.argmax(x))
    return x[k] * x + x[k - 1]


def rounded(x):
    return round(x[0] * 3) * x + math.floor(x[1]) * x**2


def read_items(x):
    plain = getattr(x, "value", x)  # the values alone (numeric differences pass an ndarray)
    first = plain[0].item()  # a plain number read from them
    signs = (plain > 0).tolist()
    return x * first + x**2 * signs.count(True)


def masked(x):
    return np.sum(x[x > 0] ** 2) * x


def nonzero_gather(x):
    (i,) = np.nonzero(x > 0)
    return np.concatenate(
        [x[i] * 3.0, np.argwhere(x < 0).sum() * x, np.flatnonzero(x > 1).sum() * x]
    )


def split_at_argmax(x):
    a, b = np.split(x, [int(np.argmax(x))])
    return np.concatenate([b, a * 2])


def close_to_one(x):
    return x * 2 if np.allclose(x, 1.0) else x**2


def unique_size(x):
    return x * np.unique(np.round(x)).size


def multiply_at_argmax(x):
    y = x * 1.0
    np.multiply.at(y, np.argmax(x), 2.0)
    return y


def asarray_of_mask(x):
    mask = np.asarray(x > 0)  # a plain array read from the values
    return np.where(mask, x, -(x**2)) * mask.sum()


FUNCTIONS = [
    branch,
    halving_loop,
    python_max_sorted,
    int_of_argmax,
    rounded,
    read_items,
    masked,
    nonzero_gather,
    split_at_argmax,
    close_to_one,
    unique_size,
    multiply_at_argmax,
    asarray_of_mask,
]

# points where the readings differ, and the first again (a program kept, not traced anew)
POINTS = [
    np.array([0.7, 1.4, -0.3, 2.2]),
    np.array([-0.6, 0.2, 1.7, -1.1]),
    np.ones(4),
    np.array([2.6, -1.3, 0.4, 0.9]),
    np.array([0.7, 1.4, -0.3, 2.2]),
]
DIRECTION = np.array([0.3, -1.2, 0.7, 0.5])


# (read_items takes numbers from the plain values on purpose: constants to every mode, not to
# numeric differences)
@pytest.mark.parametrize(
    "f", [f for f in FUNCTIONS if f is not read_items], ids=lambda f: f.__name__
)
def test_eager_mode_is_right_where_the_readings_hold(f):
    x = POINTS[0]
    np.testing.assert_allclose(dd.jacobian(f, x), numeric_jacobian(f, x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_compiled_calls_follow_the_readings_at_each_point(f):
    jvp, jac = dd.jit_jvp(f), dd.jit_jacobian(f)
    for x in POINTS:
        value, tangent = jvp(x, DIRECTION)
        want_value, want_tangent = dd.jvp(f, x, DIRECTION)
        assert value.shape == want_value.shape and tangent.shape == want_tangent.shape
        np.testing.assert_allclose(value, want_value, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(tangent, want_tangent, rtol=1e-13, atol=1e-14)
        got, want = jac(x), dd.jacobian(f, x)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


@pytest.mark.filterwarnings("ignore::dualdiff.core.errors.ValueDependentPatternWarning")
@pytest.mark.parametrize("f", [branch, int_of_argmax, split_at_argmax], ids=lambda f: f.__name__)
def test_a_compiled_sparse_jacobian_follows_them_too(f):
    prepared = dd.SparseJacobian(f, POINTS[0], jit=True)
    for x in POINTS:
        np.testing.assert_allclose(prepared(x), dd.jacobian(f, x), rtol=1e-13, atol=1e-14)


def test_a_guard_shows_in_the_source_and_programs_are_kept():
    compiled = dd.jit_jvp(branch)
    positive, negative = np.array([1.0, 2.0]), np.array([-1.0, 2.0])
    compiled(positive, np.ones(2))
    assert "unchanged(" in compiled.source and "'bool', True" in compiled.source
    for _ in range(3):  # both branches alternate: two traces, then programs reused
        for x in (negative, positive):
            np.testing.assert_allclose(compiled(x, np.ones(2))[1], dd.jvp(branch, x, np.ones(2))[1])
    assert compiled._last.traces == 2


def test_many_traces_warn_that_eager_mode_fits_better():
    compiled = dd.jit_jvp(halving_loop)
    with pytest.warns(RuntimeWarning, match="traced 20 times"):
        for k in range(21):  # each point needs one more halving
            x = np.array([0.4 * 2**k, 0.1])
            compiled(x, np.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled(np.array([0.4, 0.1]), np.ones(2))  # (once only)


def test_a_nan_reading_holds_where_it_was_traced():
    def f(x):
        c = float(getattr(x, "value", x)[0])
        return x * (2.0 if c != c else c)

    compiled = dd.jit_jacobian(f)
    x = np.array([np.nan, 1.0])
    np.testing.assert_array_equal(compiled(x), dd.jacobian(f, x))
    np.testing.assert_array_equal(compiled(x), dd.jacobian(f, x))
    assert compiled._last.traces == 1


def test_readings_that_drop_a_derivative_are_still_refused():
    # as in eager mode: a dual made a Python number loses its tangent
    for f, match in [
        (lambda x: float(x[0]) * x, "float"),
        (lambda x: int(x[0]) * x, "int"),
        (lambda x: x[: x[0]], "index"),
    ]:
        with pytest.raises(TypeError, match=match):
            dd.jit_jvp(f)(np.array([1.0, 2.0, 3.0]), np.ones(3))
        with pytest.raises(TypeError):
            dd.jvp(f, np.array([1.0, 2.0, 3.0]), np.ones(3))


def two_or_one(x):
    if x[0] > 0:  # the output structure itself depends on the branch
        return np.sin(x), x**2
    return np.cos(x)


def test_branches_with_other_outputs_from_several_threads():
    compiled = dd.jit_jvp(two_or_one)
    points = [np.array([0.5, 1.0]), np.array([-0.5, 1.0])]
    direction = np.array([1.0, -2.0])
    want = [dd.jvp(two_or_one, x, direction) for x in points]

    def work(k):
        for i in range(40):
            j = (i + k) % 2
            got = compiled(points[j], direction)
            assert type(got[0]) is type(want[j][0])
            for a, b in zip(np.broadcast_arrays(*got), np.broadcast_arrays(*want[j])):
                np.testing.assert_allclose(a, b, rtol=1e-14)
        return True

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(4)))
    assert compiled._last.traces <= 4  # (two programs; a race may trace one again)


def formatted(x):
    # a number read through a format spec (of the value, and of the dual as eager mode allows)
    return x * float(f"{x[0]:.1f}") + x**2 * len(f"{getattr(x, 'value', x)[1]:.3e}")


def signed_zero(x):
    # -0.0 == 0.0, but the constant read from it is not the same number
    c = np.asarray(getattr(x, "value", x)[0])
    return x * np.copysign(2.0, c) + x**2 / np.complex128(complex(0.0, np.copysign(1.0, c))).imag


def nonzero_method(x):
    return x[(x > 0).nonzero()] * 2.0 + x.nonzero()[0].size


@pytest.mark.parametrize("f", [formatted, nonzero_method], ids=lambda f: f.__name__)
def test_format_specs_and_the_nonzero_method_are_guarded_readings(f):
    # a format spec read the traced value unguarded (the next point got the first's number);
    # mask.nonzero() was refused as dualdiff's own reading where np.nonzero(mask) is guarded
    compiled = dd.jit_jacobian(f)
    for x in POINTS:
        got, want = compiled(x), dd.jacobian(f, x)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_a_reading_of_minus_zero_is_not_that_of_zero():
    for f in (signed_zero, lambda x: x * (2.0 if math.copysign(1.0, x.value[0]) > 0 else 3.0)):
        compiled = dd.jit_jacobian(f)
        for x in (np.array([0.0, 1.0]), np.array([-0.0, 1.0]), np.array([0.0, 1.0])):
            np.testing.assert_array_equal(compiled(x), dd.jacobian(f, x))


def test_round_of_a_scalar_argument():
    # traced as a NumPy scalar, replayed as a 0-d array, which has no round(): the guard raised
    # TypeError at every call
    def f(x):
        return x * round(x) + np.sin(x) * round(x, 1)

    jvp, jac = dd.jit_jvp(f), dd.jit_jacobian(f)
    for x in (1.4, -2.6, 1.4, np.float32(0.3)):
        np.testing.assert_allclose(jvp(x, 1.0), dd.jvp(f, x, 1.0), rtol=1e-14)
        np.testing.assert_allclose(jac(x), dd.jacobian(f, x), rtol=1e-14)


def solve_or_zero(x):
    try:
        return np.linalg.solve(np.reshape(x, (2, 2)), np.ones(2))
    except np.linalg.LinAlgError:  # a singular matrix: no instruction reads a value
        return x[:2] * 0.0


def gather_or_negate(x):
    try:
        return x[np.argmax(x) + 2] * x  # an index computed from x, out of range at some points
    except IndexError:
        return -x


def divide_or_scale(x):
    with np.errstate(divide="raise"):
        try:
            return 1.0 / x
        except FloatingPointError:
            return x * 5.0


def int_or_seven(x):
    try:
        k = int(x.value[0]) if hasattr(x, "value") else int(x[0])
    except ValueError:  # int(nan)
        k = 7
    return x * k


def write_or_negate(x):
    y = x * 1.0
    k = np.argmax(x) + 2  # an index computed from x, out of range at some points
    try:
        y[k - 2] = x[0]
        np.put(y, k - 1, x[1])
        np.add.at(y, k, x[2])
    except IndexError:
        y = -y
    return y


@pytest.mark.parametrize(
    "f, points",
    [
        (solve_or_zero, [[1.0, 2.0, 2.0, 4.0], [1.0, 2.0, 3.0, 4.0]]),
        (write_or_negate, [[0.0, 0.0, 1.0, 3.0], [3.0, 0.0, 1.0, 0.0], [0.0, 0.0, 3.0, 1.0]]),
        (gather_or_negate, [[3.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 3.0]]),
        (divide_or_scale, [[0.0, 1.0], [2.0, 1.0]]),
        (int_or_seven, [[np.nan, 1.0], [2.5, 1.0]]),
    ],
    ids=lambda a: getattr(a, "__name__", ""),
)
def test_an_error_that_f_catches_is_guarded(f, points):
    # traced where a call raised and f went on, the program held everywhere (the derivative of
    # f's except branch where eager mode takes the other); traced at the other point, the
    # program raised where eager f catches
    for order in (points, points[::-1]):
        jvp, jac = dd.jit_jvp(f), dd.jit_jacobian(f)
        for x in map(np.array, order + order):
            direction = np.linspace(0.5, 1.5, x.size)
            np.testing.assert_array_equal(jac(x), dd.jacobian(f, x))
            np.testing.assert_array_equal(jvp(x, direction), dd.jvp(f, x, direction))


def test_an_error_that_f_does_not_catch_is_raised_as_eager_mode_raises_it():
    def f(x):
        return np.linalg.inv(np.reshape(x, (2, 2)))

    compiled = dd.jit_jacobian(f)
    compiled(np.array([1.0, 2.0, 3.0, 4.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no warning of many traces: f raised each time)
        for _ in range(compiled._last.WARN_AFTER + 1):
            with pytest.raises(np.linalg.LinAlgError):
                compiled(np.array([1.0, 2.0, 2.0, 4.0]))
    assert compiled._last.traces == 1
    np.testing.assert_allclose(
        compiled(np.array([1.0, 2.0, 3.0, 4.0])), dd.jacobian(f, [1.0, 2, 3, 4])
    )


def test_a_warning_that_f_makes_an_error_and_catches_is_refused():
    def f(x):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                return np.log(x)
            except RuntimeWarning:
                return x * 3.0

    with pytest.raises(ValueError, match="warning made an error"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dd.jit_jacobian(f)(np.array([0.0, 1.0]))


@pytest.mark.filterwarnings("ignore::dualdiff.core.errors.ValueDependentPatternWarning")
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize(
    "f, points",
    [
        (solve_or_zero, [[1.0, 2.0, 2.0, 4.0], [1.0, 2.0, 3.0, 4.0]]),
        (gather_or_negate, [[0.0, 0.0, 1.0, 3.0], [3.0, 0.0, 1.0, 0.0]]),
    ],
    ids=lambda a: getattr(a, "__name__", ""),
)
def test_a_sparsity_pattern_traced_where_f_caught_an_error_is_traced_again(f, points, jit):
    # the tracer's pattern of f's except branch (no entry, a diagonal) was the pattern at
    # every point: the solve's Jacobian came back zero
    with pytest.warns(ValueDependentPatternWarning, match="which f may catch"):
        prepared = dd.SparseJacobian(f, np.array(points[0]), jit=jit, sparsity="auto")
    for x in map(np.array, points + points):
        np.testing.assert_array_equal(prepared(x), dd.jacobian(f, x))


def slice_to_argmax(x):
    head = x[: np.argmax(x) + 1]  # a slice bound computed from x, not made an int by f
    return sum(head) * x + np.polyval(head, x[0])  # Python loops over the traced length


def test_a_slice_bound_computed_from_x_is_guarded():
    # the slice was replayed with the new bound, and what followed it (unrolled for the traced
    # length) went on without a word: the program of another point gave its Jacobian
    compiled = dd.jit_jacobian(slice_to_argmax)
    for x in POINTS + POINTS[:2]:
        np.testing.assert_allclose(
            compiled(x), dd.jacobian(slice_to_argmax, x), rtol=1e-14, atol=1e-15
        )


def broadcast_to_argmax(x):
    k = np.argmax(x) % 2 + 1  # a shape computed from x, not made an int by f
    plain = np.broadcast_to(getattr(x, "value", x), (k, 4))
    return sum(np.broadcast_to(x, (k, 4))) + np.sum(sum(plain)) * x


def reshape_to_argmax(x):
    return np.sum(sum(np.reshape(x, (np.argmax(x) % 2 + 1, -1)))) * x


@pytest.mark.parametrize("f", [broadcast_to_argmax, reshape_to_argmax], ids=lambda f: f.__name__)
def test_a_shape_parameter_computed_from_x_is_guarded(f):
    # broadcast or reshaped to the new shape at replay while what followed (a Python loop over
    # the rows) was traced for the old one: a wrong Jacobian, or NumPy's error on the tangent
    jvp, jac = dd.jit_jvp(f), dd.jit_jacobian(f)
    for x in POINTS + POINTS[:2]:
        want = dd.jacobian(f, x)
        np.testing.assert_allclose(jac(x), want, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(jvp(x, DIRECTION)[1], want @ DIRECTION, rtol=1e-13, atol=1e-13)
