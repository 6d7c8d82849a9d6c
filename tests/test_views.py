"""Views and in-place updates mean what they mean in NumPy, in every mode (issue 11, class 1).

Each program takes a view of an array (``VIEWS``), updates the view in place (``UPDATES``) and
returns the array together with a second view taken before the write. Plain NumPy on the same
program gives the semantics; every mode is checked against numeric differences of it: eager
``jvp``, ``jacobian`` with 1, 2 and all directions per pass, ``hessian`` (nested tags), Taylor
mode, the sparsity tracer (pattern ⊇ non-zeros) and the compiler (the right numbers, or a
TypeError: never the un-updated result). A new view or update is one line in a table.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff import numeric

X = np.array([0.3, 1.1, -0.7, 2.0, 0.5, -1.3])
A = np.arange(36.0).reshape(6, 6) % 7 - 3.0


def _imul(v):
    v *= 3.0


def _iadd_sin(v):
    v += np.sin(v)


def _isub_square(v):
    v -= v**2


def _itruediv(v):
    v /= 2.0


def _assign_all(v):
    v[...] = v * v


def _assign_first(v):
    v[0] = v[-1] ** 2  # a dual assigned into one row or entry of the view


def _out_multiply(v):
    np.multiply(v, v, out=v)


def _out_sin(v):
    np.sin(v, out=v)


def _copyto(v):
    np.copyto(v, np.cos(v))


def _copyto_where(v):
    np.copyto(v, v * v, where=np.arange(v.size).reshape(v.shape) % 2 == 0)


VIEWS = {
    "slice": lambda y: y[1:4],
    "step": lambda y: y[::2],
    "negative step": lambda y: y[::-1],
    "negative step inside": lambda y: y[4:0:-2],
    "ellipsis": lambda y: y[...],
    "newaxis": lambda y: y[None, 2:],
    "reshape": lambda y: y.reshape(2, 3),
    "row of reshape": lambda y: y.reshape(2, 3)[1],
    "column of reshape": lambda y: y.reshape(2, 3)[:, 1],
    ".T": lambda y: y.reshape(2, 3).T,
    "np.transpose": lambda y: np.transpose(y.reshape(3, 2)),
    "np.swapaxes": lambda y: np.swapaxes(y.reshape(2, 3), 0, 1),
    "np.moveaxis": lambda y: np.moveaxis(y.reshape(1, 2, 3), 0, -1),
    "np.squeeze": lambda y: np.squeeze(y.reshape(1, 6)),
    "np.expand_dims": lambda y: np.expand_dims(y, 0),
    "ravel": lambda y: y.reshape(2, 3).ravel(),
    "np.reshape": lambda y: np.reshape(y, (3, 2)),
    ".view()": lambda y: y.view(),
    "view of a view": lambda y: y[1:][::2],
    "slice of a transpose": lambda y: y.reshape(2, 3).T[1:],
    "np.flip": lambda y: np.flip(y),
    "np.rot90": lambda y: np.rot90(y.reshape(2, 3)),
    "np.rot90 k=3": lambda y: np.rot90(y.reshape(3, 2), 3)[1:],
    "np.split": lambda y: np.split(y, 2)[1],
    "np.atleast_2d": lambda y: np.atleast_2d(y),
    ".real of a real array": lambda y: y.real,
}

COPIES = {  # copies in NumPy: a write into them must not reach y
    "ravel of a transpose": lambda y: y.reshape(2, 3).T.ravel(),
    "reshape of a transpose": lambda y: y.reshape(2, 3).T.reshape(6),
    "fancy index": lambda y: y[[0, 2, 3]],
    "boolean mask": lambda y: y[np.arange(6) % 2 == 0],
    "flatten": lambda y: y.reshape(2, 3).flatten(),
}

UPDATES = {
    "*= 3": _imul,
    "+= sin": _iadd_sin,
    "-= square": _isub_square,
    "/= 2": _itruediv,
    "[...] =": _assign_all,
    "[0] =": _assign_first,
    "out= multiply": _out_multiply,
    "out= sin": _out_sin,
    "np.copyto": _copyto,
    "np.copyto where=": _copyto_where,
}

BASES = {
    "the argument": lambda x: x,
    "x + 1": lambda x: x + 1.0,  # the tangent is the lazy identity seed itself
    "x * x": lambda x: x * x,
    "A @ x": lambda x: A @ x,  # a read-only private tangent (columns of A)
}


def program(base: str, view: str, update: str):
    make, take, write = BASES[base], {**VIEWS, **COPIES}[view], UPDATES[update]

    def f(x):
        y = make(x)
        before = y[::-1]  # a view taken before the write must see it too
        write(take(y))
        return np.concatenate([y, before])

    return f


def plain(f):
    """``f`` on a copy of its argument: what NumPy computes (without touching the caller's x)."""
    return lambda x: f(np.array(x, dtype=float))


def reference_jacobian(f):
    return numeric.jacobian(plain(f), X)


# every view with every update on one base, every base with a few updates: the eager modes

CASES = (
    [("x + 1", v, u) for v in VIEWS for u in UPDATES]
    + [(b, v, "-= square") for b in BASES if b != "x + 1" for v in VIEWS]
    + [(b, c, u) for b in ("the argument", "x + 1") for c in COPIES for u in ("*= 3", "[0] =")]
)


CHUNKED = ("*= 3", "-= square", "[0] =", "out= sin")


@pytest.mark.parametrize(("base", "view", "update"), CASES)
def test_eager_jvp_and_jacobian(base, view, update):
    f = program(base, view, update)
    x = X.copy()
    expected = reference_jacobian(f)
    np.testing.assert_allclose(dd.jacobian(f, x), expected, rtol=1e-6, atol=1e-7)
    if update in CHUNKED:  # 1 and 2 directions per pass (the seed sliced into blocks)
        for chunk in (1, 2):
            jac = dd.jacobian(f, x, chunk=chunk)
            np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-7)
    v = np.linspace(-1.0, 1.0, X.size)
    value, tangent = dd.jvp(f, x, v)
    np.testing.assert_allclose(value, plain(f)(X), rtol=1e-12)
    np.testing.assert_allclose(tangent, expected @ v, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(x, X)  # the caller's x is never written


NONLINEAR = [(b, v, "-= square") for b in ("the argument", "x + 1") for v in VIEWS] + [
    ("x + 1", "slice of a transpose", u) for u in UPDATES if u != "-= square"
]
NONLINEAR += [("x + 1", c, "-= square") for c in COPIES]
NESTED = NONLINEAR + [
    ("A @ x", v, "-= square") for v in ("slice", "step", ".T", "view of a view", "np.split")
]


@pytest.mark.parametrize(("base", "view", "update"), NESTED)
def test_hessian(base, view, update):
    f = program(base, view, update)
    weights = np.linspace(0.5, 2.0, 2 * X.size)

    def scalar(x):
        return np.sum(weights * f(x) ** 2)

    expected = numeric.jacobian(lambda x: dd.gradient(scalar, x), X)
    np.testing.assert_allclose(dd.hessian(scalar, X), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("base", "view", "update"), NONLINEAR)
def test_taylor_order_two(base, view, update):
    f = program(base, view, update)
    ones = np.ones_like(X)
    expected = numeric.derivative(lambda t: plain(f)(X + t * ones), 0.0, n=2)
    coefficients = dd.taylor(f, X, 2)
    np.testing.assert_allclose(coefficients[..., 0], plain(f)(X), rtol=1e-12)
    np.testing.assert_allclose(2 * coefficients[..., 2], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("base", "view", "update"), NONLINEAR)
def test_sparsity_covers_the_non_zeros(base, view, update):
    f = program(base, view, update)
    pattern = dd.jacobian_sparsity(f, X)
    non_zero = np.abs(reference_jacobian(f)) > 1e-8
    assert not np.any(non_zero & ~pattern), np.argwhere(non_zero & ~pattern)


@pytest.mark.parametrize(("base", "view", "update"), NONLINEAR)
def test_compiler_is_right_or_refuses(base, view, update):
    f = program(base, view, update)
    for compiled in (lambda: dd.jit_jacobian(f)(X), lambda: dd.jit_jvp(f)(X, np.ones(6))[1]):
        try:
            result = compiled()
        except TypeError as error:
            assert "dualdiff.jit" in str(error)
            continue
        expected = reference_jacobian(f)
        if result.ndim == 1:
            expected = expected @ np.ones(6)
        np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-7)


# a write into the array viewed reaches the view (the other direction)


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("base", ["the argument", "x + 1"])
def test_a_write_into_the_base_reaches_the_view(base, view):
    make, take = BASES[base], VIEWS[view]

    def f(x):
        y = make(x)
        v = take(y)
        y *= y
        return v.ravel()

    expected = reference_jacobian(f)
    np.testing.assert_allclose(dd.jacobian(f, X), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dd.jacobian(f, X, chunk=1), expected, rtol=1e-6, atol=1e-7)
    taylor = dd.taylor(f, X, 1)[..., 1]
    np.testing.assert_allclose(taylor, expected @ np.ones(6), rtol=1e-6, atol=1e-7)


# the reproductions of the issue


def f_issue(x):
    y = x + 1.0
    v = y[1:3]
    v *= 3
    return y


def g_issue(x):
    v = x[1:3]  # a view of the argument itself
    v *= 3
    return x


def h_issue(x):
    y = x + 1.0
    v = y.reshape(2, 2).T
    v[0] *= 3
    return y


@pytest.mark.parametrize(
    ("f", "diagonal"),
    [(f_issue, [1, 3, 3, 1]), (g_issue, [1, 3, 3, 1]), (h_issue, [3, 1, 3, 1])],
)
def test_issue_reproductions(f, diagonal):
    x = np.ones(4)
    expected = np.diag(np.array(diagonal, dtype=float))
    for chunk in (None, 1, 2, 4):
        np.testing.assert_array_equal(dd.jacobian(f, x, chunk=chunk), expected)
    v = np.arange(1.0, 5.0)
    v_before = v.copy()
    np.testing.assert_array_equal(dd.jvp(f, x, v)[1], expected @ v_before)
    np.testing.assert_array_equal(v, v_before)  # the caller's tangent is not written
    np.testing.assert_array_equal(x, np.ones(4))
    np.testing.assert_array_equal(dd.taylor(f, x, 2)[:, 1], expected @ np.ones(4))
    assert dd.jacobian_sparsity(f, x)[np.diag_indices(4)].all()
    np.testing.assert_array_equal(x, np.ones(4))  # no mode writes into the caller's x
    np.testing.assert_array_equal(dd.jit_jacobian(f)(x), expected)  # functionalised writes
    np.testing.assert_array_equal(dd.jit_jvp(f)(x, v)[1], expected @ v_before)
    np.testing.assert_array_equal(x, np.ones(4))


def test_hessian_through_a_view_of_the_argument():
    def f(x):
        v = x[1:3]
        v *= x[0]
        return np.sum(x**2)

    # f = x0² + (x1² + x2²)·x0² + x3²
    x = np.array([2.0, 3.0, 5.0, 7.0])
    expected = np.array(
        [
            [2 + 2 * (9 + 25), 4 * 2 * 3, 4 * 2 * 5, 0],
            [4 * 2 * 3, 2 * 4, 0, 0],
            [4 * 2 * 5, 0, 2 * 4, 0],
            [0, 0, 0, 2],
        ]
    )
    np.testing.assert_allclose(dd.hessian(f, x), expected, rtol=1e-12)
    np.testing.assert_allclose(dd.hessian(f, x, chunk=1), expected, rtol=1e-12)


# complex parts are views of complex arrays


@pytest.mark.parametrize("part", ["real", "imag"])
def test_complex_parts_are_views(part):
    def f(x):
        z = x * (1.0 + 2.0j)
        p = getattr(z, part)
        p *= p
        return z

    def numeric_jvp(v, h=1e-6):
        return (f(X + h * v) - f(X - h * v)) / (2 * h)

    v = np.linspace(-1.0, 1.0, 6)
    np.testing.assert_allclose(dd.jvp(f, X, v)[1], numeric_jvp(v), rtol=1e-6)
    np.testing.assert_allclose(dd.jacobian(f, X) @ v, numeric_jvp(v), rtol=1e-6)
    np.testing.assert_allclose(dd.taylor(f, X, 1)[..., 1], numeric_jvp(np.ones(6)), rtol=1e-6)


# the compiler functionalises every way of writing in place NumPy has, or refuses it, naming it


WRITES = {
    "in-place operator on a view": (lambda y, x: y[1:3].__imul__(3.0), "in-place operator"),
    "in-place operator on the argument": (lambda y, x: x.__iadd__(1.0), "in-place operator"),
    "item assignment": (lambda y, x: y.__setitem__(0, x[1]), "item assignment"),
    "out= keyword": (lambda y, x: np.multiply(x[:3], 3, out=y[::2]), "numpy.multiply"),
    "out= of sin": (lambda y, x: np.sin(x[:3], out=y[1:]), "numpy.sin"),
    "out= by position": (lambda y, x: np.cumsum(x, 0, None, np.empty(6)), "numpy.cumsum"),
    "np.copyto": (lambda y, x: np.copyto(y, x * 2), "numpy.copyto"),
    "ufunc.at": (lambda y, x: np.add.at(y, [0, 1, 1], x[:3]), "numpy.add.at"),
    "ufunc.at not linear": (lambda y, x: np.multiply.at(y, [0, 1, 0], x[:3]), "numpy.multiply.at"),
    "ufunc.at at an index computed from x": (
        lambda y, x: np.multiply.at(y, np.argmax(x), 2.0),
        "numpy.multiply.at",
    ),
    "np.put": (lambda y, x: np.put(y, [0], 2.0), "numpy.put"),
    "np.place": (lambda y, x: np.place(y, y > 1, [1.0]), "numpy.place"),
    "np.putmask": (lambda y, x: np.putmask(y, y > 1, 1.0), "numpy.putmask"),
    "x.fill": (lambda y, x: y.fill(2.0), "x.fill"),
    "x.sort": (lambda y, x: y.sort(), "x.sort"),
}


# writes into an array that is not traced (np.empty) stay refused (ufunc.at at an index computed
# from x compiles: the index is read at the tracing point and guarded)
REFUSED_WRITES = {"out= by position"}


@pytest.mark.parametrize("write", list(WRITES))
def test_compiler_writes_as_numpy_does(write):
    action, name = WRITES[write]

    def f(x):
        y = x * 1.0
        action(y, x)
        return y

    def compiled_jvp(x, v):
        return dd.jit_jvp(f)(x, v)[1]

    if write in REFUSED_WRITES:
        for compile_ in (lambda: dd.jit_jacobian(f)(X), lambda: compiled_jvp(X, np.ones(6))):
            with pytest.raises(TypeError, match="dualdiff.jit") as error:
                compile_()
            assert name in str(error.value) and "eager" in str(error.value)
        return
    if write == "out= of sin":  # shapes (3,) into (5,): NumPy raises, and so does the compiler
        with pytest.raises(ValueError):
            f(X.copy())
        with pytest.raises(ValueError):
            dd.jit_jacobian(f)(X)
        return
    expected = numeric.jacobian(lambda x: f(np.array(x)), X)
    np.testing.assert_allclose(dd.jit_jacobian(f)(X), expected, rtol=1e-6, atol=1e-6)
    v = np.linspace(-1.0, 1.0, 6)
    np.testing.assert_allclose(compiled_jvp(X, v), expected @ v, rtol=1e-6, atol=1e-6)


def test_a_view_sees_a_newer_dual_written_into_its_base():
    # an inner derivative writes its dual into an array the outer Jacobian seeded: the view
    # taken before must carry both derivatives: d = d/ds Σ v² = 2·s·y3²
    def f(x):
        y = x + 1.0
        v = y[0:2]

        def inner(s):
            y[0] = s * y[3]
            return np.sum(v * v)

        return dd.derivative(inner, 2.0)

    x = np.arange(1.0, 5.0)
    expected = np.array([0.0, 0.0, 0.0, 8.0 * (x[3] + 1.0)])  # d = 4·(x3 + 1)² at s = 2
    np.testing.assert_allclose(dd.gradient(f, x), expected, rtol=1e-12)
    np.testing.assert_allclose(dd.gradient(f, x, chunk=1), expected, rtol=1e-12)


def test_a_pickled_or_copied_view_is_an_array_of_its_own():
    import copy
    import pickle

    seen = {}

    def f(x):
        v = x[1:3]  # linked to the argument, whose arrays are copied on the first write
        seen["pickled"] = pickle.loads(pickle.dumps(v))
        seen["copied"] = copy.deepcopy(v)
        v *= 3
        return x

    np.testing.assert_array_equal(dd.jacobian(f, np.ones(4)), np.diag([1.0, 3.0, 3.0, 1.0]))
    for other in seen.values():
        np.testing.assert_array_equal(other.value, np.ones(2))  # the write did not reach it
        other *= 2  # and writing into it is allowed


# read-only views (NumPy refuses writes through them) still see writes into their base

READ_ONLY_VIEWS = {
    "np.diagonal": lambda y: np.diagonal(y.reshape(2, 3)),
    ".diagonal() with offset": lambda y: y.reshape(3, 2).diagonal(1),
    "np.broadcast_to": lambda y: np.broadcast_to(y, (2, 6)),
}


@pytest.mark.parametrize("view", list(READ_ONLY_VIEWS))
@pytest.mark.parametrize("base", ["the argument", "x + 1", "A @ x"])
def test_a_read_only_view_sees_writes_into_its_base(base, view):
    make, take = BASES[base], READ_ONLY_VIEWS[view]

    def f(x):
        y = make(x)
        v = take(y)
        y[1:] *= y[:-1]
        return v.ravel()

    expected = reference_jacobian(f)
    np.testing.assert_allclose(dd.jacobian(f, X), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dd.jacobian(f, X, chunk=2), expected, rtol=1e-6, atol=1e-7)
    taylor = dd.taylor(f, X, 1)[..., 1]
    np.testing.assert_allclose(taylor, expected @ np.ones(6), rtol=1e-6, atol=1e-7)
    pattern = dd.jacobian_sparsity(f, X)
    assert not np.any((np.abs(expected) > 1e-8) & ~pattern)


def test_jacobian_of_a_taylor_derivative_through_a_view():
    # g(x + t): y1 = (x1 + t)(x0 + t)², so d²/dt² y1 = 4·x0 + 2·x1 (and y2 likewise)
    def g(x):
        y = x * 1.0
        v = y[1:3]
        v *= x[0] ** 2
        return y

    x = np.array([0.5, 1.5, 2.0, -1.0])
    second = np.array([0.0, 4 * x[0] + 2 * x[1], 4 * x[0] + 2 * x[2], 0.0])
    np.testing.assert_allclose(dd.derivative(g, x, n=2), second, rtol=1e-12)
    expected = np.array([[0, 0, 0, 0], [4, 2, 0, 0], [4, 0, 2, 0], [0, 0, 0, 0]], dtype=float)
    for chunk in (None, 1):
        jac = dd.jacobian(lambda x: dd.derivative(g, x, n=2), x, chunk=chunk)
        np.testing.assert_allclose(jac, expected, rtol=1e-12)


def test_a_reshape_whose_tangent_cannot_alias_refuses_writes():
    # the tangent's last two axes in Fortran order: the value reshapes as a view, the tangent
    # only as a copy, so a write through the reshape (or into y while it lives) would be lost
    t = np.ones((3, 2, 3)).transpose(0, 2, 1).copy().transpose(0, 2, 1)
    y = dd.DualArray(np.arange(6.0).reshape(2, 3), t, batched=True)
    z = y.reshape(6)
    np.testing.assert_array_equal(z.tangent, np.ones((3, 6)))  # reading is fine
    with pytest.raises(TypeError, match="would not reach the derivative"):
        z[0] = 5.0
    with pytest.raises(TypeError, match="would not reach the derivative"):
        y[0, 0] = 5.0
    del z
    y[0, 0] = 5.0  # once the reshape is gone, y is an array like any other
    assert y.value[0, 0] == 5.0 and not y.tangent[:, 0, 0].any()


# chains of views, drawn at random: every mode against NumPy's semantics

CHAIN_STEPS = {
    "[::2]": lambda a: a[::2],
    "[::-1]": lambda a: a[::-1],
    "[1:]": lambda a: a[1:] if a.shape[0] > 1 else a,
    "[..., ::-2]": lambda a: a[..., ::-2],
    ".T": lambda a: a.T,
    "reshape(-1)": lambda a: a.reshape(-1),  # a view or a copy, as the layout allows
    "expand_dims": lambda a: np.expand_dims(a, 0),
    "squeeze": lambda a: np.squeeze(a),  # of one element: a 0-d view
    "swapaxes": lambda a: np.swapaxes(a, 0, -1),
    "flip": lambda a: np.flip(a, -1),
    "[None]": lambda a: a[None],
    "real": lambda a: a.real,
}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    base=st.sampled_from(list(BASES)),
    steps=st.lists(st.sampled_from(list(CHAIN_STEPS)), min_size=1, max_size=4),
    update=st.sampled_from(list(UPDATES)),
    before=st.sampled_from(list(CHAIN_STEPS)),
    write_base=st.booleans(),
)
def test_chains_of_views(base, steps, update, before, write_base):
    make, write = BASES[base], UPDATES[update]

    def f(x):
        y = make(x).reshape(2, 3)
        seen = CHAIN_STEPS[before](y)  # taken before the write: must see it when a view
        v = y
        for step in steps:
            v = CHAIN_STEPS[step](v)
        write(v)
        if write_base:
            y[:, ::2] *= y[:, 1:2]  # and a write into y must reach v
        return np.concatenate([y.ravel(), seen.ravel(), v.ravel()])

    try:
        plain(f)(X)
    except (IndexError, ValueError):  # NumPy refuses this program (v[0] = ... of a 0-d view)
        return
    expected = reference_jacobian(f)
    np.testing.assert_allclose(dd.jacobian(f, X), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dd.jacobian(f, X, chunk=4), expected, rtol=1e-6, atol=1e-7)
    direction = np.linspace(-1.0, 1.0, 6)
    np.testing.assert_allclose(dd.jvp(f, X, direction)[1], expected @ direction, atol=1e-7)
    np.testing.assert_allclose(dd.taylor(f, X, 1)[..., 1], expected.sum(1), atol=1e-6)
    assert not np.any((np.abs(expected) > 1e-8) & ~dd.jacobian_sparsity(f, X))
    if base in ("the argument", "x + 1"):  # nested tags: the Hessian of a scalar of f

        def scalar(x):
            y = f(x)
            return np.sum(np.linspace(0.5, 2.0, y.size) * y**2)

        hessian = numeric.jacobian(lambda x: dd.gradient(scalar, x), X)
        np.testing.assert_allclose(dd.hessian(scalar, X), hessian, rtol=1e-5, atol=1e-5)


def test_views_of_an_array_whose_tangent_lacks_the_inner_layer():
    # hessian: the argument's value carries the outer tag, its tangent (the seed) not yet; a
    # write through a view of a copy of it must add that layer where the memory lives
    def f(x):
        v = x.reshape(2, 3)[::-1].reshape(-1)[::2]  # a view of a copy (the reshape copies)
        v += np.sin(v)
        return np.sum(v**2) + np.sum(x**3)

    expected = numeric.jacobian(lambda x: dd.gradient(f, x), X)
    np.testing.assert_allclose(dd.hessian(f, X), expected, rtol=1e-6, atol=1e-6)


def test_a_fortran_ordered_argument_keeps_numpys_view_decisions():
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))

    def copy_then_write(x):
        v = x.reshape(-1)  # a copy in NumPy (Fortran order): x is not written
        v *= 2
        return x

    np.testing.assert_array_equal(dd.jacobian(copy_then_write, x).reshape(6, 6), np.eye(6))

    def write_into_a_copy(x):
        y = x + 1.0  # Fortran-ordered like x
        v = y.reshape(-1)  # a copy: y keeps its own entries
        v[0] = v[-1] ** 2
        return np.concatenate([y.ravel(), v])

    expected = np.abs(numeric.jacobian(lambda z: write_into_a_copy(np.asfortranarray(z)), x))
    pattern = dd.jacobian_sparsity(write_into_a_copy, x)
    assert not np.any((expected.reshape(12, 6) > 1e-8) & ~pattern)
    assert not pattern[0, 5]  # y[0, 0] depends on x[0, 0] only

    def view_then_write(x):
        v = x.T.reshape(-1)  # a view in NumPy (x.T is C-ordered): x is written
        v *= 2
        return x

    for chunk in (None, 1, 2):
        jac = dd.jacobian(view_then_write, x, chunk=chunk).reshape(6, 6)
        np.testing.assert_array_equal(jac, 2 * np.eye(6))
    np.testing.assert_array_equal(dd.jvp(view_then_write, x, x)[1], 2 * x)
    np.testing.assert_array_equal(dd.taylor(view_then_write, x, 1)[..., 1], np.full((2, 3), 2.0))


# -- a nested differentiation writing into an array that already has plain views ------------


def _writes_inner_dual(keep_view_before: bool):
    def g(x):
        y = x * 1.0  # owns its arrays: its views are plain NumPy views, not linked
        v = y[0:2] if keep_view_before else None

        def inner(s):
            y[0] = s * y[3]  # adds the inner tag's layer to y
            w = y[0:2] if v is None else v
            return np.sum(w * w)

        return dd.derivative(inner, 2.0)

    return g


def test_a_newer_layer_written_into_an_array_with_a_plain_view_refuses():
    # the view taken before the write would miss the inner layer (a gradient of 0 was returned)
    with pytest.raises(TypeError, match="newer tag"):
        dd.gradient(_writes_inner_dual(True), np.arange(1.0, 5.0))


def test_a_view_taken_after_the_newer_layer_sees_it():
    # d/ds sum((s*y3, y1)**2) at s=2 is 2*s*y3**2: its gradient in x is (0, 0, 0, 4*s*x3)
    x = np.arange(1.0, 5.0)
    np.testing.assert_allclose(dd.gradient(_writes_inner_dual(False), x), [0, 0, 0, 8 * x[3]])


@pytest.mark.parametrize(
    "make",
    [
        lambda x: np.tile(x, 2),  # a view of np.tile's private temporary
        lambda x: (x[:, None] * np.ones(2)).T.reshape(-1),  # a reshape that copied
    ],
)
def test_hessian_of_a_write_into_an_array_viewing_a_private_temporary(make):
    def f(x):
        a = make(x)
        a[0] = np.sin(a[0]) * x[1]  # a dual of the newer (inner) tag into a
        return np.sum(a)

    x = np.array([0.4, 0.5])
    expected = np.zeros((2, 2))  # d2/dx^2 of sin(x0) x1 (+ linear terms)
    expected[0, 0] = -np.sin(0.4) * 0.5
    expected[0, 1] = expected[1, 0] = np.cos(0.4)
    np.testing.assert_allclose(dd.hessian(f, x), expected, rtol=1e-14, atol=1e-15)


def test_hessian_of_a_write_of_a_newer_layer_into_a_view_of_a_live_array_refuses():
    def f(x):
        y = np.tile(x, 2)
        v = y[0:2]  # a view of y, which stays alive
        v[0] = np.sin(v[0]) * x[1]
        return np.sum(y)

    try:
        hess = dd.hessian(f, np.array([0.4, 0.5]))
    except TypeError as e:
        assert "view" in str(e)
    else:  # if ever accepted, it must be right
        expected = np.array([[-np.sin(0.4) * 0.5, np.cos(0.4)], [np.cos(0.4), 0.0]])
        np.testing.assert_allclose(hess, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "view",
    [
        lambda s: s[...],
        lambda s: np.reshape(s, ()),
        lambda s: np.transpose(s),
        lambda s: np.squeeze(s),
        lambda s: s.view(),
        lambda s: np.real(s),
    ],
)
@pytest.mark.parametrize("make", [lambda x: x.copy(), lambda x: np.where(x > 0, x, 0.0)])
def test_a_zero_d_view_of_a_zero_d_array_writes_through(view, make):
    def f(x):
        s = make(x)  # a 0-d array in NumPy
        e = np.expand_dims(view(s), 0)  # a view of s, as NumPy's is
        e *= 3.0
        return s

    x = np.array(0.7)
    assert f(x.copy()) == 3.0 * 0.7  # plain NumPy: the write reaches s
    assert dd.jacobian(f, x) == 3.0
    assert dd.jvp(f, x, np.array(1.0))[1] == 3.0
    assert dd.derivative(f, x) == 3.0


def test_taylor_zero_d_view_of_a_zero_d_array_writes_through():
    # a 0-d series whose leading coefficient is a 0-d array is one (np.where's result, a copy):
    # its views alias it, as NumPy's do; a scalar's (x * 2.0) are new arrays
    def f(x):
        s = x.copy()  # a 0-d array
        e = np.expand_dims(s, 0)  # a view of s
        e *= 3.0
        return s**2

    # observed 2 (the write was lost); expected d2/dx2 (3x)^2 = 18
    np.testing.assert_allclose(dd.derivative(f, np.array(0.7), n=2), 18.0, rtol=1e-14)

    def g(x):
        s = np.where(x > 0.0, np.tanh(x), x)  # NumPy: a 0-d array
        e = np.expand_dims(s, 0)
        e[:] = 0.5
        return s

    # observed the coefficients of tanh (value 0.411 not 0.5: the write was lost)
    for x in (0.411, np.array(0.411)):
        np.testing.assert_array_equal(dd.taylor(g, x, 2), [0.5, 0.0, 0.0])


def test_an_array_made_from_a_scalar_dual_does_not_alias_it():
    def f(x):
        s = np.sum(x)  # a scalar (a Dual: its k tangents in one array)
        e = np.expand_dims(s, 0)  # NumPy: a fresh array
        e *= 3.0
        return s * 1.0

    np.testing.assert_array_equal(dd.jacobian(f, np.array([0.4, 0.5])), [1.0, 1.0])


@pytest.mark.parametrize(
    "op",
    [np.sin, np.negative, lambda s: -s, lambda s: +s, lambda s: s * 2.0, np.conj, np.round],
)
def test_a_scalar_result_of_a_zero_d_array_is_not_written_through_a_view(op):
    def f(x):
        s = op(x)  # NumPy: a scalar (its view below is a fresh array)
        e = np.expand_dims(s, 0)
        e *= 3.0
        return s

    x = np.array(0.4)
    h = 1e-6
    expected = (f(x + h) - f(x - h)) / (2 * h)  # plain NumPy: the write does not reach s
    assert f(x.copy()) == op(x)
    np.testing.assert_allclose(dd.jacobian(f, x), expected, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(dd.jvp(f, x, np.array(1.0))[1], expected, rtol=1e-8, atol=1e-12)
    taylor = dd.taylor(f, x, 1)[1]
    np.testing.assert_allclose(taylor, expected, rtol=1e-8, atol=1e-12)


def _reshaped_by_shape_assignment(x):
    y = x * 2.0
    v = y[1:]  # a view taken before: it keeps sharing y's memory
    y.shape = (2, 3)  # NumPy's in-place reshape
    y[1, 0] = x[0] ** 3
    return np.concatenate([y.sum(axis=0), v])


def test_shape_assignment_in_eager_mode_and_the_tracer_and_refused_by_name_elsewhere():
    """``y.shape = ...`` reshapes in place in eager mode and the sparsity tracer (the pattern is
    the Jacobian's exactly); Taylor mode and the compiler refuse it with a TypeError naming the
    fix (they raised AttributeError: "property 'shape' ... has no setter")."""
    x = np.arange(1.0, 7.0)
    f = _reshaped_by_shape_assignment
    expected = numeric.jacobian(lambda z: f(np.array(z)), x)
    jac = dd.jacobian(f, x)
    np.testing.assert_allclose(jac, expected, rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(dd.jacobian_sparsity(f, x), np.abs(expected) > 1e-9)
    for refused in (lambda: dd.jit_jacobian(f)(x), lambda: dd.taylor(lambda t: f(x + t), 0.0, 1)):
        with pytest.raises(TypeError, match=r"setting \.shape of .* x = x\.reshape\(shape\)"):
            refused()


@pytest.mark.parametrize("ufunc", [np.add, np.multiply])
def test_ufunc_at_an_empty_list_of_indices_writes_nothing_in_every_mode(ufunc):
    # NumPy takes [] as an empty index; eager mode made np.asarray([]) of it, float64, and raised
    # IndexError, where Taylor mode, the compiler and the sparsity tracer wrote nothing
    def f(x):
        y = x * x
        ufunc.at(y, [], [])
        return y

    x = np.array([0.3, -1.2, 0.7])
    expected = np.diag(2 * x)
    np.testing.assert_array_equal(dd.jacobian(f, x), expected)
    np.testing.assert_array_equal(dd.jvp(f, x, np.ones(3))[1], 2 * x)
    np.testing.assert_array_equal(dd.derivative(f, x, n=2), np.full(3, 2.0))
    np.testing.assert_array_equal(dd.jit_jacobian(f)(x), expected)
    np.testing.assert_array_equal(dd.jacobian_sparsity(f, x), np.eye(3, dtype=bool))


def test_the_compiler_keeps_a_fortran_ordered_arguments_view_decisions():
    # x.T.reshape(-1) of a Fortran-ordered x is a view in NumPy: a write through it reaches x.
    # The compiler copied x to C order, where it is a copy: the value and Jacobian came out as
    # those of another function (value 0.74 off), and a C-ordered call must not reuse that trace
    x = np.asfortranarray(np.arange(1.0, 7.0).reshape(2, 3) * 0.3 - 0.4)

    def f(u):
        r = u.T.reshape(-1)
        r[0] = r[1] ** 2
        return u * 1.0

    def on(z, order):
        return f(np.array(z, order=order))

    compiled, jvp = dd.jit_jacobian(f), dd.jit_jvp(f)
    v = np.ones((2, 3))
    for point in (x, np.asfortranarray(x + 0.1), np.ascontiguousarray(x), x + 0.2):
        order = "F" if point.flags.f_contiguous else "C"
        expected = numeric.jacobian(lambda z: on(z, order), point)
        value, jac = compiled.value_and_jacobian(point)
        np.testing.assert_allclose(value, on(point, order), rtol=1e-15)
        np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(dd.jacobian(f, point), expected, rtol=1e-6, atol=1e-6)
        value, tangent = jvp(point, v)
        np.testing.assert_allclose(value, on(point, order), rtol=1e-15)
        np.testing.assert_allclose(tangent, np.tensordot(expected, v, 2), rtol=1e-6, atol=1e-6)
    point = np.asfortranarray(x + 0.1)  # (the pattern, traced at x, holds for its layout)
    expected = numeric.jacobian(lambda z: on(z, "F"), point)
    sparse = dd.SparseJacobian(f, x, jit=True)
    np.testing.assert_allclose(sparse(point), expected, rtol=1e-6, atol=1e-6)
    # eager: its colour seeds are laid out as a Fortran-ordered x is (they were C-ordered, and
    # the write through the view was refused)
    np.testing.assert_allclose(dd.SparseJacobian(f, x)(point), expected, rtol=1e-6, atol=1e-6)


FORTRAN_MAKERS = {
    "np.zeros_like": np.zeros_like,
    "np.empty_like": np.empty_like,
    "np.ones_like": np.ones_like,
    "np.full_like": lambda u: np.full_like(u, 2.0),
    "np.copy": np.copy,
    "np.where(True, u, 0.0)": lambda u: np.where(True, u, 0.0),
}


@pytest.mark.parametrize("make", list(FORTRAN_MAKERS))
def test_an_array_made_like_a_fortran_ordered_argument_is_fortran_ordered(make):
    # NumPy's *_like, np.copy (order="K") and np.where keep x's layout, so y.T.reshape(-1) is a
    # view of y and the write through it lands. Eager mode made C-ordered arrays (the write was
    # lost: value 0.74 off, silently); the sparsity tracer's np.where missed the entry written
    x = np.asfortranarray(np.arange(1.0, 7.0).reshape(2, 3) * 0.3 - 0.4)
    made = FORTRAN_MAKERS[make]

    def f(u):
        y = made(u)
        y[...] = u
        r = y.T.reshape(-1)
        r[0] = r[1] ** 2
        return y * 1.0

    def on_fortran(z):
        return f(np.asfortranarray(z))

    assert on_fortran(x)[0, 0] == pytest.approx(x[1, 0] ** 2)  # NumPy: the write lands
    expected = numeric.jacobian(on_fortran, x)
    pattern = dd.jacobian_sparsity(f, x)
    assert not np.any((np.abs(expected.reshape(6, 6)) > 1e-8) & ~pattern)
    if make.startswith("np.where"):  # eager: np.where's tangent is C-ordered, refused by name
        with pytest.raises(TypeError, match="memory layouts differ"):
            dd.jacobian(f, x)
        return
    np.testing.assert_allclose(dd.jacobian(f, x), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dd.jacobian(f, x, chunk=1), expected, rtol=1e-6, atol=1e-6)
    v = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    value, tangent = dd.jvp(f, x, v)
    np.testing.assert_allclose(value, on_fortran(x), rtol=1e-15)
    np.testing.assert_allclose(tangent, np.tensordot(expected, v, 2), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "nested",
    [
        lambda g, x, v: dd.jacobian(lambda u: dd.jvp(g, u, v)[1], x),
        lambda g, x, v: dd.jacobian(lambda u: dd.jacobian(g, u), x),
        lambda g, x, v: dd.hessian(lambda u: np.sum(g(u)), x),
    ],
    ids=["jacobian of jvp", "jacobian of jacobian", "hessian"],
)
def test_a_nested_differentiation_at_a_fortran_ordered_point_is_right_or_refused(nested):
    # the inner point, a DualArray, was copied in C order: y.T.reshape(-1) became a copy and
    # the write through it was lost, silently (the Jacobian of the JVP 2 off, the Hessian 2.6)
    x = np.asfortranarray(np.arange(1.0, 7.0).reshape(2, 3) * 0.3 - 0.4)
    v = np.linspace(-1.0, 1.0, 6).reshape(2, 3)

    def g(u):
        r = u.T.reshape(-1)
        r[0] = r[1] ** 2
        return u * u

    with pytest.raises(TypeError, match="memory layouts differ"):
        nested(g, x, v)
    # without such a write, the Fortran-ordered point nests as a C-ordered one does
    c = np.ascontiguousarray(x)
    np.testing.assert_allclose(nested(np.sin, x, v), nested(np.sin, c, v), rtol=1e-15)


def test_a_strided_argument_keeps_numpys_view_decisions_in_every_mode():
    # x = a[::2] (rows of a matrix): x.reshape(-1) is a copy in NumPy, so the write below does
    # not reach x. jvp, Taylor mode, the compiler and the sparsity tracer copied x contiguously,
    # where the reshape is a view: x[0, 0] came out 5.0 (and its derivative 0), silently
    a = np.arange(1.0, 25.0).reshape(4, 6) * 0.1 - 0.4
    x = a[::2]

    def f(u):
        r = u.reshape(-1)
        r[0] = 5.0
        return u * u

    expected_value = x * x
    np.testing.assert_allclose(f(a.copy()[::2]), expected_value)  # NumPy's, on a strided copy
    jac = np.diag((2 * x).ravel()).reshape(x.shape + x.shape)
    v = np.linspace(-1.0, 1.0, x.size).reshape(x.shape)
    value, tangent = dd.jvp(f, x, v)
    np.testing.assert_allclose(value, expected_value)
    np.testing.assert_allclose(tangent, 2 * x * v)
    np.testing.assert_allclose(dd.jacobian(f, x), jac)
    np.testing.assert_allclose(dd.taylor(f, x, 1)[..., 1], 2 * x)
    np.testing.assert_allclose(dd.derivative(f, x, n=2), np.full(x.shape, 2.0))
    value, compiled = dd.jit_jacobian(f).value_and_jacobian(x)
    np.testing.assert_allclose(value, expected_value)
    np.testing.assert_allclose(compiled, jac)
    np.testing.assert_allclose(dd.jit_jvp(f)(x, v)[1], 2 * x * v)
    np.testing.assert_array_equal(dd.jacobian_sparsity(f, x), np.eye(x.size, dtype=bool))


@pytest.mark.parametrize(
    "make",
    [
        lambda u: np.copy(u, order="F"),
        lambda u: _filled(np.zeros(u.shape, order="F", like=u), u),
        lambda u: _filled(np.empty(u.shape, order="F", like=u), u),
    ],
    ids=["np.copy(order='F')", "np.zeros(order='F', like=)", "np.empty(order='F', like=)"],
)
def test_an_array_made_fortran_ordered_by_order_f_is_fortran_ordered(make):
    # eager mode ignored order="F" there: y.T.reshape(-1) became a copy and the write through
    # it, which lands in NumPy, was lost (value 0.74 off, silently)
    x = np.arange(1.0, 7.0).reshape(2, 3) * 0.3 - 0.4

    def f(u):
        y = make(u)
        r = y.T.reshape(-1)
        r[0] = r[1] ** 2
        return y * 1.0

    expected = numeric.jacobian(f, x)
    np.testing.assert_allclose(dd.jacobian(f, x), expected, rtol=1e-6, atol=1e-6)
    value, tangent = dd.jvp(f, x, np.ones_like(x))
    np.testing.assert_allclose(value, f(x.copy()), rtol=1e-15)
    np.testing.assert_allclose(tangent, expected.sum(axis=(2, 3)), rtol=1e-6, atol=1e-6)


def _filled(y, u):
    y[...] = u
    return y


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(
    "copy", [lambda u: u.copy(), lambda u: u.T.copy().T], ids=["u.copy()", "u.T.copy().T"]
)
def test_taylor_mode_copies_in_c_order_as_ndarray_copy_does(copy, order):
    # ndarray.copy() is C-ordered: y = u.T.copy().T is Fortran-ordered, y.T.reshape(-1) a view
    # of it; Taylor mode's x.copy() kept the layout (np.copy's), so the write through that view
    # was lost for a C-ordered u (second derivative 0) and landed for a Fortran-ordered one
    x = np.array(np.arange(1.0, 7.0).reshape(2, 3) * 0.3 - 0.4, order=order)
    v = np.array(np.linspace(-1.0, 1.0, 6).reshape(2, 3), order=order)

    def f(u):
        y = copy(u)
        r = y.T.reshape(-1)
        r[0] = r[1] ** 2
        return y * 1.0

    def g(t):
        return f(x + t * v)

    expected = dd.derivative(lambda s: dd.derivative(g, s), 0.0)  # eager, nested
    np.testing.assert_allclose(dd.derivative(g, 0.0, n=2), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dd.taylor(g, 0.0, 2)[..., 0], g(0.0), rtol=1e-15)
