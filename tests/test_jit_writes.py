"""Writes under the compiler: item assignment, in-place operators and NumPy's writing functions
become functional copy-and-set instructions, through views too, and the function table drives
the compiler's handlers.

Every compiled result is compared, at the tracing point and at a second point (replay), with
eager ``jacobian``/``jvp`` and with numeric differences of the plain NumPy function (run on a
copy of x, since some of these functions write into their argument).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.rules import functions as table

RNG = np.random.default_rng(5)
POINTS = [RNG.standard_normal((3, 4)) for _ in range(2)]
# distinct values apart from each other, in another order at the second point (argmax moves)
SEPARATED = [np.array([[0.3, -1.2, 2.1, 0.9], [1.5, -0.4, -2.0, 0.1], [0.7, 1.1, -0.9, 2.6]])]
SEPARATED.append(SEPARATED[0][::-1, ::-1].copy())


def on_copy(f):
    return lambda x: f(np.array(x, dtype=float))


def check(f, points=POINTS, rtol=1e-7, eager=True):
    """``jit_jacobian`` and ``jit_jvp`` of ``f`` at each point (one compiled program replayed)
    against numeric differences and eager ``jacobian`` (where eager mode has the functions)."""
    jac = dd.jit_jacobian(f)
    jvp = dd.jit_jvp(f)
    for x in points:
        expected = numeric_jacobian(on_copy(f), x)
        got = jac(x.copy())
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
        if eager:
            np.testing.assert_allclose(dd.jacobian(f, x.copy()), got, rtol=1e-12, atol=1e-12)
        v = np.cos(np.arange(x.size)).reshape(x.shape)
        value, tangent = jvp(x.copy(), v)
        np.testing.assert_allclose(value, f(x.copy()), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(tangent, np.tensordot(got, v, v.ndim), rtol=1e-9, atol=1e-9)


def read_view_made_before(a):
    y = a * 2.0
    rows = y[1:]
    column = y[:, 2]
    rows[0, 2] = a[0, 0] ** 2  # lands in y, so in column too
    return column * 3.0 + rows.sum()


def view_of_a_view(a):
    y = np.zeros_like(a)
    y.T[1:][0] = np.sin(a[0, :3])  # y[:, 1]
    y[2][::2] += a[1, :2] ** 2
    return y


def write_into_x(a):
    a[0] = a[1] ** 2
    a[:, -1] *= a[2, 0]
    return a * 3.0


def repeated_fancy_index(a):
    y = np.ones_like(a)
    y[[0, 0, 2], [1, 1, 3]] = a[1, :3] ** 2  # the last of the repeated ones wins
    return y


def mask_from_x(a):
    y = a * 1.0
    y[a > 0.2] = a[0, 0] ** 3
    return y


def argmax_index(a):
    y = a**2
    y.reshape(-1)[np.argmax(a)] = a[0, 1]
    return y


def reshaped_in_place(a):
    y = a**2
    flat = y.reshape(-1)
    flat[::2] *= np.exp(a.reshape(-1)[1::2])
    return y


def scalar_read_then_write(a):
    y = a[0] * 1.0
    s = y[1]  # a scalar copy in NumPy, not a view
    r = y[1:]  # a view
    y[1] = 5.0 * a[1, 0]
    return s * r


def method_writes(a):
    y = a * 1.0
    y[0].sort()
    y[1].fill(a[2, 2])
    y.put([0, 5], a[2, :2] ** 2)
    return y


def copyto_put(a):
    y = a * 1.0
    np.copyto(y[0], a[1] ** 2, where=a[2] > 0)
    np.put(y[1:], [0, 6, 6], a[0, :3])
    return y


def writing_functions(a):
    y = a * 1.0
    np.putmask(y[1], a[1] < 0, a[0])
    z = np.zeros((3, 3))
    z = z + 0 * a[0, 0]
    np.fill_diagonal(z, a[1, :3])
    np.put_along_axis(y, np.array([[1], [0], [3]]), a[:, :1] ** 3, axis=1)
    np.place(y[2], a[2] > -0.5, a[0, 1:3])
    return y.sum(axis=0)[:3] * z


def in_place_operators(a):
    y = np.ones_like(a)
    y += a
    y[1:] *= a[:-1]
    y[:, 0] -= np.sin(a[:, 3])
    y /= 2.0
    return y


@pytest.mark.parametrize(
    "f, points",
    [
        (read_view_made_before, POINTS),
        (view_of_a_view, POINTS),
        (write_into_x, POINTS),
        (repeated_fancy_index, POINTS),
        (mask_from_x, SEPARATED),
        (argmax_index, SEPARATED),
        (reshaped_in_place, POINTS),
        (scalar_read_then_write, POINTS),
        (method_writes, SEPARATED),
        (copyto_put, SEPARATED),
        (in_place_operators, POINTS),
    ],
    ids=lambda f: getattr(f, "__name__", ""),
)
def test_writes_are_functionalised(f, points):
    check(f, points)


def accumulate_at(a):
    y = a * 1.0
    np.add.at(y, ([0, 0, 2], [1, 1, 3]), a[1, :3] ** 2)  # repeated (0, 1) accumulates
    np.subtract.at(y[1:].T, [3, 3], np.sin(a[0, :2]))  # through a view, a broadcast item
    np.add.at(y.reshape(-1), np.argsort(a[2]), a[0])  # an index computed from x
    return y


def test_ufunc_at_accumulates():
    check(accumulate_at, SEPARATED, eager=False)  # eager mode has no rule for add.at


def test_writing_functions_eager_mode_lacks():
    # np.putmask, np.fill_diagonal, np.put_along_axis, np.place: against numeric differences
    check(writing_functions, SEPARATED, eager=False)


def test_writes_do_not_reach_the_callers_array():
    x = POINTS[0].copy()
    dd.jit_jacobian(write_into_x)(x)
    np.testing.assert_array_equal(x, POINTS[0])


def split_then_write(a):
    y = a * 1.0
    first, _ = np.split(y, [1])  # a view the compiler does not track
    first[0, 0] = a[1, 1]
    return y


def broadcast_then_write(a):
    y = np.broadcast_to(a[0], (3, 4))
    y[0, 0] = 1.0
    return y


@pytest.mark.parametrize(
    "jit, eager",
    [
        (dd.jit_jacobian, dd.jacobian),
        (lambda f: lambda x: dd.jit_jvp(f)(x, x), lambda f, x: dd.jvp(f, x, x)),
    ],
    ids=["jit_jacobian", "jit_jvp"],
)
def test_writes_that_cannot_be_functionalised_refuse(jit, eager):
    x = POINTS[0]
    with pytest.raises(TypeError, match="numpy.split returned a view"):
        jit(split_then_write)(x)
    with pytest.raises(ValueError, match="read-only"):  # as NumPy
        jit(broadcast_then_write)(x)
    # (which elements multiply.at visits depends on x: read at the tracing point and guarded)
    for point in (x, x[::-1].copy(), x):
        np.testing.assert_allclose(jit(multiply_at_argmax)(point), eager(multiply_at_argmax, point))


def multiply_at_argmax(a):
    y = a * 1.0
    np.multiply.at(y.reshape(-1), np.argmax(a), 2.0)  # (through a view: a flat index)
    return y


def multiply_at_view(a):
    y = a * 1.0
    np.multiply.at(y[1:, ::2], (0, [1, 1, 0]), a[2, :3] ** 2)  # y[1, 2] twice, into a view
    return y


def divide_at_repeated(a):
    y = np.exp(a)
    np.divide.at(y.T, ([0, 0, 3], [2, 2, 1]), np.cos(a[0, :3]) + 2.0)
    return y


def minimum_at_constant(a):
    y = a * 1.0
    np.minimum.at(y, ([0, 2, 0], [1, 3, 1]), np.array([0.5, -0.3, 0.2]))
    return y


def power_at_dual_exponent(a):
    y = np.exp(a[:2])
    np.power.at(y, ([0, 0, 1], [1, 1, 3]), a[2, :3])
    return y


def multiply_at_itself(a):
    y = a * 1.0
    np.multiply.at(y[0], [0, 0, 0, 1], y[0])  # NumPy reads the operand before any write
    return y


def sin_at_twice(a):
    y = a * 2.0
    np.sin.at(y, [[1, 1], [2, 1]])  # row 1 three times, row 2 once
    return y


@pytest.mark.parametrize(
    "f",
    [
        multiply_at_view,
        divide_at_repeated,
        minimum_at_constant,
        power_at_dual_exponent,
        sin_at_twice,
        multiply_at_itself,
    ],
)
def test_ufunc_at_beyond_add_replays_eager(f):
    """``ufunc.at`` of every ufunc, repeated indices and views included, compiles to the rounds
    eager mode applies: the same numbers at the tracing point and at another one."""
    check(f)


def test_a_view_copied_at_replay_is_caught():
    # x is traced C-ordered; a Fortran-ordered x at replay gives the same numbers (the compiled
    # program never relies on aliasing: every write is a gather)
    check(reshaped_in_place, [POINTS[0], np.asfortranarray(POINTS[1])])


# -- the function table drives the compiler --------------------------------------------------


def test_every_table_function_has_a_compiler_handler_or_refuses_clearly():
    from dualdiff.compiler import symbolic as traced

    for func, entry in table.FUNCTIONS.items():
        if entry.kind in ("special", "composition") or func in traced._FUNCTIONS:
            continue
        assert entry.kind in ("structural", "linear", "multilinear", "value", "construction")


@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.linalg.solve(a[:, :3] + 3 * np.eye(3), a[:, 3]),
        lambda a: np.linalg.slogdet(a[:, :3] + 3 * np.eye(3))[1],
        lambda a: np.linalg.eigh(a[:, :3] @ a[:, :3].T)[0],
        lambda a: np.max(a, axis=0) + np.min(a),
        lambda a: np.clip(a, -0.5, 0.5) * np.sort(a, axis=1),
        lambda a: np.prod(a, axis=1),
        lambda a: np.pad(a, ((1, 0), (2, 1)), mode="reflect"),
        lambda a: np.cumsum(a, axis=None)[::3] + np.trapezoid(a, axis=0).sum(),
        lambda a: np.kron(a[:2, :2], a[1:, 2:]),
    ],
)
def test_table_kinds_and_special_functions(f):
    check(f, SEPARATED)


def test_a_max_tie_splits_evenly_as_eager():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    f = lambda a: np.max(a, axis=1)  # noqa: E731
    np.testing.assert_array_equal(dd.jit_jacobian(f)(x), dd.jacobian(f, x))
    assert dd.jit_jacobian(f)(x)[0, 0, 1] == 0.5


def test_replay_shape_change_of_an_eager_rule_raises():
    # np.linalg.lstsq's rank is a value; a result shape that changed would raise, never reuse
    f = dd.jit_jacobian(lambda a: np.linalg.lstsq(a[:, :2], a[:, 3], rcond=None)[0])
    for x in SEPARATED:
        np.testing.assert_allclose(
            f(x),
            numeric_jacobian(lambda a: np.linalg.lstsq(a[:, :2], a[:, 3], rcond=None)[0], x),
            rtol=1e-7,
            atol=1e-7,
        )


def test_a_list_of_traced_values_written():
    def f(a):
        y = np.zeros(4)
        y = y + 0 * a[0, 0]
        y[1:3] = [a[0, 1] ** 2, np.sin(a[2, 2])]
        return y

    check(f, eager=False)  # eager mode refuses a list of duals written into an array
    with pytest.raises(TypeError, match="nested or ragged list"):
        dd.jit_jacobian(lambda a: (a * 1.0).__setitem__(slice(0, 2), [a[0], [a[1, 0]]]))(POINTS[0])


def test_views_the_compiler_does_not_track_make_writes_refuse():
    from dualdiff.compiler.symbolic import eager_rule

    def through_table(a):
        y = a * 1.0
        t = np.linalg.matrix_transpose(y)  # a view NumPy returns, made by the table's kind
        y[0, 0] = a[1, 1] ** 2
        return t

    def through_eager_rule(a):
        y = a * 1.0
        r = eager_rule(np.reshape, (y, (12,)), {})  # the eager rule's view, copied
        y[0, 0] = a[1, 1] ** 2
        return r

    for f, name in ((through_table, "linalg.matrix_transpose"), (through_eager_rule, "reshape")):
        with pytest.raises(TypeError, match=f"numpy.{name} returned a view"):
            dd.jit_jacobian(f)(POINTS[0])


# -- random sequences of views and writes against numeric differences -------------------------

VIEWS = [
    lambda y: y,
    lambda y: y[1:],
    lambda y: y[:, ::2],
    lambda y: y.T,
    lambda y: y.reshape(-1)[2:9],
    lambda y: y[::-1, 1:3],
    lambda y: y[1],
    lambda y: np.swapaxes(y, 0, 1)[1:],
]


def _write(kind, target, a):
    if kind == 0:
        target[...] = np.sin(target) * a[0, 0]
    elif kind == 1:
        target *= a[1, 1]
    elif kind == 2:
        target += a[2, 3] ** 2
    elif kind == 3:
        target.reshape(-1)[:1] = a[0, 2] ** 3
    else:
        np.copyto(target, np.cos(target))


@given(
    st.lists(
        st.tuples(st.integers(0, len(VIEWS) - 1), st.integers(0, 4), st.booleans()),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=20, deadline=None)
def test_random_views_and_writes(steps):
    def f(a):
        y = a * 1.0
        kept = []
        for view, kind, keep in steps:
            target = VIEWS[view](y)
            if np.ndim(target) == 0:
                continue
            if keep:
                kept.append(target)  # read after later writes: must see them
            if kind == 3 and not np.shares_memory(target.reshape(-1), target):
                continue  # a reshape NumPy copies: the write would not land in y
            _write(kind, target, a)
        return y.sum() + sum(k.sum() * (i + 2) for i, k in enumerate(kept))

    check(f, eager=False)


def test_shares_memory_as_numpy_answers_it():
    def f(a):
        y = a * 1.0  # the same numbers as a while tracing, but a new array in NumPy
        v = y[1:].T
        flags = [np.shares_memory(a, y), np.may_share_memory(y, v), np.shares_memory(v, y[:1])]
        flags.append(np.shares_memory(y, np.ones(3)))
        return y * sum(2.0**i for i, flag in enumerate(flags) if flag)

    x = POINTS[0]
    np.testing.assert_array_equal(dd.jit_jacobian(f)(x), dd.jacobian(f, x))
    np.testing.assert_array_equal(dd.jit_jvp(f)(x, x)[0], f(x.copy()))


def _set(y, index, item):
    y[index] = item
    return y


FLOAT64_INTO_FLOAT32 = {
    "y[i:j] = ...": lambda u: _set(u * 1, slice(0, 2), u[:2] * np.float64(2)),
    "y[[i, j]] = ...": lambda u: _set(u * 1, [0, 1], u[:2] * np.float64(2)),
    "y[argsort] = ...": lambda u: _set(np.zeros_like(u), np.argsort(u), u * np.arange(1.0, 5.0)),
    "y += ...": lambda u: _set(u * 1, Ellipsis, u + u * np.float64(2)),
    "y.fill(...)": lambda u: (lambda y: (y.fill(u[0] * np.float64(2)), y)[1])(u * 1),
    "np.copyto": lambda u: (lambda y: (np.copyto(y, u * np.float64(2)), y)[1])(u * 1),
}


@pytest.mark.parametrize("name", list(FLOAT64_INTO_FLOAT32))
def test_a_float64_dual_written_into_a_float32_array_has_a_float32_tangent(name):
    # the write casts the value to float32, as NumPy does; the compiled tangent stayed float64
    # (a float64 Jacobian of a float32 value), where eager mode's is float32
    f = FLOAT64_INTO_FLOAT32[name]
    x = np.array([0.3, -1.2, 0.7, 1.9], np.float32)
    eager = dd.jacobian(f, x)
    assert f(x).dtype == eager.dtype == np.float32
    compiled = dd.jit_jacobian(f)(x)
    assert compiled.dtype == np.float32
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)
    value, tangent = dd.jit_jvp(f)(x, np.ones_like(x))
    assert value.dtype == tangent.dtype == np.float32


def _fortran_intermediate(u):
    y = u.T * 1.0  # Fortran-ordered in NumPy (the K order of a transposed C array)
    y[...] = np.sin(y)  # written in place: y stays Fortran-ordered
    r = y.reshape(-1)  # a copy of a Fortran-ordered y: the write below does not reach y
    r[0] = 5.0
    return y


def _written_then_viewed(u):
    y = np.sin(u)  # in u's layout
    y[...] = u * u
    r = y.T.reshape(-1)  # a view of a Fortran-ordered y: the write reaches y
    r[0] = r[1] ** 2
    return y * 1.0


def _method_copy(u):
    y = u.copy()  # ndarray.copy is C-ordered, np.copy keeps the layout
    r = y.T.reshape(-1)
    r[0] = r[1] ** 2
    return y


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("f", [_fortran_intermediate, _written_then_viewed, _method_copy])
def test_a_write_keeps_the_layout_that_later_views_depend_on(f, order):
    # the compiler recorded a written array in C order: y.reshape(-1) of a Fortran-ordered y
    # became a view, and the compiled value was 5.1 off, silently (a C-ordered x too)
    x = np.array(np.arange(1.0, 7.0).reshape(2, 3) * 0.3 - 0.4, order=order)
    expected = numeric_jacobian(lambda z: f(np.array(z, order=order)), x)
    value, jac = dd.jit_jacobian(f).value_and_jacobian(x)
    np.testing.assert_allclose(value, f(x.copy(order="K")), rtol=1e-15)
    np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-6)
    v = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    value, tangent = dd.jit_jvp(f)(x, v)
    np.testing.assert_allclose(tangent, np.tensordot(expected, v, 2), rtol=1e-6, atol=1e-6)
