"""An eager differentiation inside another mode, at an array point computed from that mode's
input: Taylor mode and the sparsity tracer carry it (the inner ``jvp``/``jacobian`` layers its
dual array over their series or tracers); the compiler refuses it, naming the construct.

The inner call once took such a point (neither an ndarray nor a DualArray) for a scalar and
seeded every element with the same direction: ``taylor`` of ``jacobian(g, x + t) @ (x + t)``
summed was n times the truth, and ``jit_jacobian`` of it was wrong by 1.9, both silently.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd

X = np.array([0.3, -0.7, 1.1])
V = np.array([1.0, 2.0, -1.0])


def inner(z):
    return np.sin(z) * z


def inner_derivative(z):  # d/dz (sin z · z), elementwise
    return np.cos(z) * z + np.sin(z)


def through_jacobian(x):
    return dd.jacobian(inner, x) @ x


def through_jvp(x):
    return dd.jvp(inner, x, V)[1] * x


CLOSED_FORMS = {
    through_jacobian: lambda x: inner_derivative(x) * x,
    through_jvp: lambda x: inner_derivative(x) * V * x,
}


@pytest.mark.parametrize("f", [through_jacobian, through_jvp])
def test_taylor_mode_of_an_inner_differentiation(f):
    closed = CLOSED_FORMS[f]
    for direction in (np.ones(3), np.array([0.5, -1.0, 2.0])):
        got = dd.taylor(lambda t: f(X + t * direction).sum(), 0.0, 3)
        expected = dd.taylor(lambda t: closed(X + t * direction).sum(), 0.0, 3)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    second = dd.derivative(lambda t: f(X + t).sum(), 0.0, n=2)
    h = 1e-3
    g = lambda t: closed(X + t).sum()  # noqa: E731
    assert abs(second - (g(h) - 2 * g(0.0) + g(-h)) / h**2) < 1e-5


@pytest.mark.parametrize("f", [through_jacobian, through_jvp])
def test_sparsity_and_sparse_jacobian_of_an_inner_differentiation(f):
    expected = numeric_jacobian(CLOSED_FORMS[f], X)
    pattern = dd.jacobian_sparsity(f, X)
    assert np.all(pattern | (np.abs(expected) < 1e-12)), "the pattern misses a non-zero"
    if f is through_jvp:  # elementwise inside: the tracer sees the diagonal
        np.testing.assert_array_equal(pattern, np.eye(3, dtype=bool))
    got = dd.SparseJacobian(f, X)(X)
    got = got.toarray() if hasattr(got, "toarray") else got
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(dd.jacobian(f, X), expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(
    "f",
    [
        through_jacobian,
        through_jvp,
        lambda x: dd.derivative(lambda s: np.sin(s) * s, x[0]) * x,
        lambda x: dd.derivative(lambda s: np.sin(s) * s, x[0], n=2) * x,
        lambda x: dd.hessian(lambda z: np.sum(z**3), x) @ x,
    ],
)
def test_the_compiler_refuses_an_inner_differentiation_at_a_traced_point(f):
    for compiled in (lambda: dd.jit_jacobian(f)(X), lambda: dd.jit_jvp(f)(X, V)):
        with pytest.raises(TypeError, match="traced array of dualdiff.jit"):
            compiled()


def test_a_write_of_a_tracer_into_a_nested_plain_tangent_refuses():
    def written(z):
        y = z * 1.0
        y[0] = z[2] ** 2
        return y

    def f(x):
        return dd.jvp(written, x, V)[1]

    np.testing.assert_allclose(dd.jacobian(f, X), numeric_jacobian(f, X), rtol=1e-8, atol=1e-8)
    with pytest.raises(TypeError, match="SparsityTracer .* nested jvp/jacobian"):
        dd.jacobian_sparsity(f, X)


# an inner differentiation at a plain point whose function closes over the outer input
CLOSURES = {
    "derivative": (
        lambda x: dd.derivative(lambda s: np.sin(s * x), 1.0),
        lambda x: np.cos(x) * x,
    ),
    "jvp": (
        lambda x: dd.jvp(lambda z: np.sin(z * x), np.ones(3), V)[1],
        lambda x: np.cos(x) * x * V,
    ),
    "jacobian": (lambda x: dd.jacobian(lambda z: z**2 * x, np.ones(3)) @ V, lambda x: 2 * x * V),
    "derivative n=2": (
        lambda x: dd.derivative(lambda s: np.sin(s * x), 1.0, n=2),
        lambda x: -np.sin(x) * x**2,
    ),
    "hessian": (
        lambda x: dd.hessian(lambda z: np.sum(z**3 * x), np.ones(3)) @ V,
        lambda x: 6 * x * V,
    ),
}


@pytest.mark.parametrize("name", list(CLOSURES))
def test_an_inner_differentiation_closing_over_the_outer_input(name):
    """Eager and Taylor mode nest it exactly; the compiler and the sparsity tracer refuse it with
    a TypeError that names the mix (the tracer once raised AttributeError: no attribute 'tag')."""
    f, closed = CLOSURES[name]
    expected = numeric_jacobian(closed, X)
    np.testing.assert_allclose(dd.jacobian(f, X), expected, rtol=1e-8, atol=1e-8)
    by_taylor = np.stack([dd.derivative(lambda t: f(X + t * e), 0.0) for e in np.eye(3)], -1)
    np.testing.assert_allclose(by_taylor, expected, rtol=1e-8, atol=1e-8)
    with pytest.raises(TypeError, match="dualdiff.jit: .* met a traced array"):
        dd.jit_jacobian(f)(X)
    with pytest.raises(TypeError, match="cannot mix a sparsity tracer with dualdiff"):
        dd.jacobian_sparsity(f, X)


@pytest.mark.parametrize(
    "inner_jacobian",
    [
        lambda g, x: dd.jacobian(g, x, chunk=1),
        lambda g, x: dd.jacobian(g, x, chunk=2),
        lambda g, x: dd.jacobian(g, x, sparsity="auto"),
        lambda g, x: dd.jacobian(g, x, sparsity=np.eye(3, dtype=bool)),
    ],
)
def test_chunked_and_sparse_inner_jacobians_nest(inner_jacobian):
    """A chunked inner Jacobian nests in eager and Taylor mode; a sparse one (its pattern and
    colouring are for plain numbers) takes the dense pass when its point carries an outer
    derivative and the result is dense, the same Jacobian."""

    def f(x):
        return inner_jacobian(inner, x).sum(axis=0) * x

    expected = numeric_jacobian(lambda x: inner_derivative(x) * x, X)
    np.testing.assert_allclose(dd.jacobian(f, X), expected, rtol=1e-8, atol=1e-8)
    by_taylor = np.stack([dd.derivative(lambda t: f(X + t * e), 0.0) for e in np.eye(3)], -1)
    np.testing.assert_allclose(by_taylor, expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(
    "inner_call",
    [
        lambda x: dd.SparseJacobian(inner, x)(x),
        lambda x: dd.jacobian(inner, x, sparsity="auto", output="sparse"),
    ],
)
def test_a_sparse_or_parallel_jacobian_at_a_dual_point_refuses_by_name(inner_call):
    with pytest.raises(TypeError, match="DualArray of an enclosing differentiation"):
        dd.jacobian(inner_call, X)
    # workers= nests at a DualArray (eager), not at a Taylor series
    np.testing.assert_allclose(
        dd.jacobian(lambda x: dd.jacobian(inner, x, workers=1), X),
        dd.jacobian(lambda x: dd.jacobian(inner, x), X),
        rtol=1e-14,
    )
    with pytest.raises(TypeError, match="Taylor of an enclosing differentiation"):
        dd.derivative(lambda t: dd.jacobian(inner, X + t, workers=1).sum(), 0.0, n=2)


@pytest.mark.parametrize("build", [np.array, np.stack, list])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_an_inner_jvp_at_an_array_built_from_outer_duals(build, order):
    """``jvp(g, np.array([t, 2t]), v)`` inside ``derivative``: an object array (or a list) of
    duals is the dual array it stands for, as ``np.stack`` builds it (it was refused: 'dtype
    object'; the stacked Taylor series were taken for a scalar)."""

    def h(t):
        return dd.jvp(inner, build([t, 2 * t]), np.ones(2))[1].sum()

    def closed(t):
        return inner_derivative(t) + inner_derivative(2 * t)

    got = dd.derivative(h, 0.4, n=order)
    assert abs(got - dd.derivative(closed, 0.4, n=order)) < 1e-12 * max(1.0, abs(got))


@pytest.mark.parametrize(
    "sparsity, error",
    [
        ("bogus", "must be 'auto' or a pattern"),
        (np.eye(2, dtype=bool), "does not end in x's size|columns|shape"),
        (np.ones((4, 3), dtype=bool), "f\\(x\\) has 3 entries but the sparsity pattern has 4 rows"),
    ],
)
def test_a_sparse_inner_jacobian_at_a_dual_point_checks_its_pattern(sparsity, error):
    """The dense pass taken at a dual point checks ``sparsity=`` as the sparse path does at a
    plain point, rather than ignoring a wrong one."""
    with pytest.raises(ValueError, match=error):
        dd.jacobian(lambda x: dd.jacobian(inner, x, sparsity=sparsity), X)
    with pytest.raises(ValueError):
        dd.jacobian(inner, X, sparsity=sparsity)  # the same argument at a plain point


# A higher derivative in s (Taylor mode) and a Jacobian in x, nested both ways, of programs that
# mix an element of x (a scalar dual) or all of x with an array series in s.
S0 = np.array([0.5, 1.1, -0.4, 0.9])
S_DIRECTION = np.array([1.0, -0.5, 2.0, 0.3])
X4 = np.array([0.3, -1.2, 0.7, 0.2])
MIXED = {
    "x[0] * s**2": lambda x, s: x[0] * s**2,
    "sin(x[0]) * s**2": lambda x, s: np.sin(x[0]) * s**2,
    "x[0] / s": lambda x, s: x[0] / s,
    "hypot(x[0], s)": lambda x, s: np.hypot(x[0], s),
    "arctan2(s, x[0])": lambda x, s: np.arctan2(s, x[0]),
    "x[0] * sum(s**3) + x": lambda x, s: x[0] * np.sum(s**3) + x,
    "sum(s**3) + x": lambda x, s: np.sum(s**3) + x,
    "dot(x, s**2) * s": lambda x, s: np.dot(x, s**2) * s,
    "einsum(x, s**3) * s": lambda x, s: np.einsum("i,i->", x, s**3) * s,
    "tensordot(x, s**2)": lambda x, s: np.tensordot(x, s**2, 1) * s,
    "solve(M + diag(x), s**2)": lambda x, s: np.linalg.solve(np.eye(4) + np.diag(x), s**2),
    "x @ s**2 * s": lambda x, s: (x @ s**2) * s,
    "matmul(x, s**2) * s": lambda x, s: np.matmul(x, s**2) * s,
    "hstack([x, s**2])": lambda x, s: np.hstack([x, s**2]),
    "vstack([x, s**2])": lambda x, s: np.vstack([x, s**2]),
    "column_stack([x, s**2])": lambda x, s: np.column_stack([x, s**2]),
    "select([c], [x], s**2)": lambda x, s: np.select([S0 > 0], [x], s**2),
}


def _second_in_s_of_jacobian_in_x(g):
    """Second differences in s of the numeric Jacobian in x (plain NumPy only)."""
    h = 2e-3
    jac = [numeric_jacobian(lambda x: g(x, S0 + j * h * S_DIRECTION), X4) for j in range(-2, 3)]
    return (-jac[0] + 16 * jac[1] - 30 * jac[2] + 16 * jac[3] - jac[4]) / (12 * h * h)


@pytest.mark.filterwarnings("ignore::dualdiff.ObjectArrayWarning")  # (select's series default)
@pytest.mark.parametrize("name", list(MIXED))
def test_a_higher_derivative_and_a_jacobian_nest_both_ways(name):
    """Taylor mode outside: a scalar dual x[0] (its tangent holds the Jacobian's directions)
    times an array series paired the series' elements with the directions (x[0] * s**2 gave
    2·v[0]² in every row; shape errors where the sizes differ). Taylor mode inside: the second
    derivative of x[0] * sum(s**3) + x came back as a scalar (shape (4,) for a (4, 4)
    Jacobian), np.dot/einsum/tensordot of x with a series recursed without end, x @ s and
    np.select with a series default raised TypeErrors, np.hstack/vstack/column_stack of a series
    with x AttributeErrors."""
    g = MIXED[name]
    expected = _second_in_s_of_jacobian_in_x(g)

    def outside(t):
        return dd.jacobian(lambda x: g(x, S0 + t * S_DIRECTION), X4)

    def inside(x):
        return dd.derivative(lambda t: g(x, S0 + t * S_DIRECTION), 0.0, n=2)

    for got in (dd.derivative(outside, 0.0, n=2), dd.jacobian(inside, X4)):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_sparse_inner_jacobian_closing_over_the_outer_input():
    """jacobian(g, y, sparsity=pattern) at a plain point, g closing over the outer dual x: the
    colouring's recovery wrote the dual results into a float array and raised a float
    conversion error; the dense pass gives the same Jacobian, carrying the outer derivative."""
    pattern = np.eye(3, dtype=bool)

    def f(x):
        return dd.jacobian(lambda z: np.sin(z * x), np.ones(3), sparsity=pattern) @ V

    expected = numeric_jacobian(lambda x: np.cos(x) * x * V, X)
    np.testing.assert_allclose(dd.jacobian(f, X), expected, rtol=1e-8, atol=1e-8)
    by_taylor = np.stack([dd.derivative(lambda t: f(X + t * e), 0.0, n=1) for e in np.eye(3)], -1)
    np.testing.assert_allclose(by_taylor, expected, rtol=1e-8, atol=1e-8)
    second = dd.derivative(lambda t: f(X + t * V), 0.0, n=2)
    np.testing.assert_allclose(
        second, dd.derivative(lambda t: np.cos(X + t * V) * (X + t * V) * V, 0.0, n=2), rtol=1e-12
    )
    with pytest.raises(TypeError, match="output='sparse' cannot hold the derivative"):
        dd.jacobian(
            lambda x: dd.jacobian(lambda z: z * x, np.ones(3), sparsity=pattern, output="sparse"),
            X,
        )
