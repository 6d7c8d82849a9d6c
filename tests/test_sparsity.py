"""Sparsity detection: traced patterns against patterns known by construction and against the
non-zeros of numeric-difference Jacobians at random points."""

import zlib

import numpy as np
import pytest

import dualdiff
from dualdiff.rules import RULES
from dualdiff.sparsity import Pattern, SparsityTracer, jacobian_sparsity, trace_pattern

RNG = np.random.default_rng(1)


def rng_for(name):
    """A generator seeded by the test's name, so each test's points do not depend on the order."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def numeric_jacobian(f, x, h=1e-6):
    """Central differences with a tiny step, shape (f(x).size, x.size). Not reference.jacobian:
    its wider high-order stencil can straddle the jumps of floor, trunc or heaviside."""
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        e = e.reshape(x.shape)
        cols.append((np.ravel(f(x + e)) - np.ravel(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def numeric_pattern(f, shape, points=3, low=-1.0, high=1.0, rng=RNG):
    """The union of the non-zeros of numeric Jacobians at a few random points."""
    out = None
    for _ in range(points):
        x = rng.uniform(low, high, shape)
        nz = np.abs(numeric_jacobian(f, x)) > 1e-6
        out = nz if out is None else out | nz
    return out


def assert_exact(f, shape, low=-1.0, high=1.0, points=3, rng=RNG):
    """The traced pattern equals the union of numeric ones (so it is conservative and exact).

    Functions that select by value (max, sort) need points on every side of their choices.
    """
    x = rng.uniform(low, high, shape)
    traced = jacobian_sparsity(f, x)
    expected = numeric_pattern(f, shape, points, low, high, rng)
    np.testing.assert_array_equal(traced, expected)


# -- the three families of the brief ----------------------------------------------------------


def banded(x):
    """A nonlinear tridiagonal stencil with one-sided ends."""
    y = np.empty_like(x)
    y[1:-1] = x[:-2] * x[1:-1] - 2.0 * np.sin(x[1:-1]) + np.exp(x[2:])
    y[0] = x[0] ** 2 + x[1]
    y[-1] = np.tanh(x[-1]) * x[-2]
    return y


def test_banded_pattern_known_by_construction():
    n = 12
    expected = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1
    np.testing.assert_array_equal(jacobian_sparsity(banded, np.ones(n)), expected)
    assert_exact(banded, (n,))


def block(x):
    """Four independent 3-blocks: each block of the output depends on its own block of x."""
    b = x.reshape(4, 3)
    mixed = np.sum(b**2, axis=1, keepdims=True) * b[:, ::-1] + np.cumprod(b, axis=1)
    return mixed.ravel()


def test_block_pattern_known_by_construction():
    expected = np.kron(np.eye(4, dtype=bool), np.ones((3, 3), dtype=bool))
    np.testing.assert_array_equal(jacobian_sparsity(block, np.ones(12)), expected)
    assert_exact(block, (12,))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_sparse_matrix_respects_its_zeros(seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((9, 7)) * (rng.random((9, 7)) < 0.3)
    f = lambda x: np.tanh(a @ x) + np.concatenate([x**3, x[:2]])
    expected = (a != 0) | np.vstack([np.eye(7, dtype=bool), np.eye(7, dtype=bool)[:2]])
    np.testing.assert_array_equal(jacobian_sparsity(f, np.ones(7)), expected)
    assert_exact(f, (7,))


# -- supported functions, each checked against numeric differences -----------------------------

C = RNG.standard_normal((4, 4)) * (RNG.random((4, 4)) < 0.5)

CASES = {
    "slices and ufuncs": lambda x: x[1:] * x[:-1] + np.arctan2(x[:-1], 2.0),
    "fancy index": lambda x: x[[3, 0, 0, 5]] ** 2,
    "boolean index": lambda x: x[np.arange(6) % 2 == 0] * 3.0,
    "reshape transpose": lambda x: (x.reshape(2, 3).T * np.arange(1.0, 3.0)).ravel(),
    "concatenate stack": lambda x: np.stack([np.concatenate([x[:2], x[4:]]), x[1:5] ** 2]),
    "hstack vstack": lambda x: np.vstack([np.hstack([x[:1], x[2:4]]), x[3:]]).sum(axis=0),
    "roll flip": lambda x: np.roll(x, 2) * np.flip(x),
    "pad wrap": lambda x: np.pad(np.sin(x), 2, mode="wrap")[1:-1],
    "pad constant": lambda x: np.pad(x**2, (1, 2), constant_values=3.0),
    "clip maximum": lambda x: np.clip(x, -0.5, 0.5) + np.maximum(x, x[::-1]),
    "reductions": lambda x: np.stack(
        [np.sum(x[:3]), np.prod(x[2:4]), np.mean(x[4:]), np.max(x[:2]), np.linalg.norm(x[1:3])]
    ),
    "axis reductions": lambda x: np.concatenate(
        [x.reshape(2, 3).sum(axis=0), x.reshape(2, 3).std(axis=1)]
    ),
    "cumsum": lambda x: np.cumsum(x[::-1] ** 2),
    "diff": lambda x: np.diff(np.exp(x), n=2),
    "matmul constant": lambda x: C @ x[:4] + x[2:] @ C,
    "matmul traced": lambda x: x[:2].reshape(2, 1) @ x[4:].reshape(1, 2),
    "dot tensordot": lambda x: np.concatenate(
        [np.atleast_1d(np.dot(x[:3], x[3:])), np.tensordot(C, x[:4], axes=1)]
    ),
    "outer": lambda x: np.outer(x[:3], np.array([1.0, 0.0, 2.0])),
    "triu diag": lambda x: np.triu(np.outer(x[:3], x[3:])) + np.diag(x[:3]),
    "zeros_like assignment": lambda x: _assign(x),
    "in-place through a view": lambda x: _view_assign(x),
    "dualdiff functions": lambda x: dualdiff.sigmoid(x) * dualdiff.xlogy(x[::-1] ** 2 + 1, 2.0),
    "piecewise constant": lambda x: np.floor(x) * 2 + np.sign(x) + x[0],
    "sort": lambda x: np.sort(x.reshape(2, 3), axis=1).ravel(),
    "interp": lambda x: np.interp(x, [-1.0, 0.0, 1.0], [0.0, 2.0, -1.0]),
    "polyval trapezoid": lambda x: np.concatenate(
        [np.polyval(x[:2], x[2:]), [np.trapezoid(x.reshape(2, 3)[:, 1] ** 2)]]
    ),
    "cross": lambda x: np.concatenate(
        [np.cross(x[:3], np.array([0.5, 1.0, 2.0])), np.cross(x[:3], x[3:] ** 2)]
    ),
    "zeros like=": lambda x: _assign_like(x),
    "put": lambda x: _put(x),
}


def _assign_like(x):
    y = np.zeros(4, like=x)
    y[1:] = x[3:] * x[:3]
    return y


def _put(x):
    y = np.ones_like(x)
    np.put(y, [0, 2], np.exp(x[4:]))
    return y


def _assign(x):
    y = np.zeros_like(x)
    y[::2] = x[1::2] ** 2
    y[1] += x[5]
    return y


def _view_assign(x):
    y = np.zeros_like(x)
    inner = y[1:-1]
    inner[:] = x[2:] * x[:-2]
    inner += x[3]
    return y


SELECTIONS = {"clip maximum", "sort"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_supported_functions_exact(name):
    points = 40 if name in SELECTIONS else 3
    assert_exact(CASES[name], (6,), points=points, rng=rng_for(name))


def test_where_takes_both_branches():
    # Whatever the condition, the pattern holds at every x: the union of both branches.
    f = lambda x: np.where(x > 0, x**2, np.cos(x[::-1]))
    expected = np.eye(5, dtype=bool) | np.eye(5, dtype=bool)[::-1]
    np.testing.assert_array_equal(jacobian_sparsity(f, np.ones(5)), expected)
    x = rng_for("where").uniform(-1, 1, 5)
    assert not (numeric_pattern(f, (5,)) & ~jacobian_sparsity(f, x)).any()


def test_sort_is_conservative_over_the_line():
    # sort picks elements by value, so each output may depend on the whole line.
    p = jacobian_sparsity(lambda x: np.sort(x), np.array([3.0, 1.0, 2.0]))
    assert p.all()


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_in_the_table(name):
    rule = RULES[name]
    lo, hi = rule.domain[0]
    if rule.nin == 1:
        f = lambda x: rule.function(x)
    elif name == "ldexp":
        f = lambda x: rule.function(x, 3)  # the exponent is an integer: no derivative
    else:
        lo2, hi2 = rule.domain[1]
        mid = 0.5 * (lo2 + hi2)
        # argument 1 is x reversed and shifted into its domain
        f = lambda x: rule.function(x, mid + 0.4 * (x[::-1] - 0.5 * (lo + hi)))
    assert_exact(f, (4,), lo, hi, points=12, rng=rng_for(name))


def test_n_dimensional_shape_rule():
    # a (2, 3) -> (3, 2) function: the pattern is the Jacobian (3, 2, 2, 3) reshaped to (6, 6).
    f = lambda x: np.exp(x.T) * x.T[:, ::-1]
    x = RNG.uniform(-1, 1, (2, 3))
    p = jacobian_sparsity(f, x)
    assert p.shape == (6, 6)
    np.testing.assert_array_equal(p, numeric_pattern(f, (2, 3)))


def test_scalar_input_and_output():
    assert jacobian_sparsity(lambda x: np.sin(x) * 2, 1.5).tolist() == [[True]]
    assert jacobian_sparsity(lambda x: np.sum(x**2), np.ones(3)).shape == (1, 3)


def test_constant_output_has_no_dependencies():
    assert not jacobian_sparsity(lambda x: np.ones(4), np.ones(3)).any()


def test_scipy_output():
    sparse = pytest.importorskip("scipy.sparse")
    p = jacobian_sparsity(banded, np.ones(8), sparse=True)
    assert isinstance(p, sparse.csr_array)
    np.testing.assert_array_equal(p.toarray(), jacobian_sparsity(banded, np.ones(8)))


def test_large_banded_pattern_stays_small():
    # 20 000 inputs: a dense boolean pattern would be 400 MB; the traced one is CSR.
    n = 20_000
    pattern, out_shape = trace_pattern(banded, np.ones(n))
    assert out_shape == (n,)
    assert pattern.nnz == 3 * n - 2
    assert pattern.indices.nbytes < 1e6


def test_pattern_coerce_round_trip():
    dense = RNG.random((5, 4)) < 0.4
    p = Pattern.coerce(dense)
    np.testing.assert_array_equal(p.toarray(), dense)
    np.testing.assert_array_equal(p.transpose().toarray(), dense.T)
    with pytest.raises(ValueError, match="columns"):
        Pattern.coerce(dense, n=3)
    with pytest.raises(TypeError, match="boolean array"):
        Pattern.coerce("pattern")


# -- errors -------------------------------------------------------------------------------------


def test_function_without_rule_is_named():
    with pytest.raises(TypeError, match=r"numpy\.fft\.fft"):
        jacobian_sparsity(lambda x: np.fft.fft(x).real, np.ones(4))
    with pytest.raises(TypeError, match=r"numpy\.divmod"):
        jacobian_sparsity(lambda x: np.divmod(x, 2.0)[0], np.ones(4))


def test_conversions_that_would_drop_dependencies_raise():
    with pytest.raises(TypeError, match="np.stack"):
        jacobian_sparsity(lambda x: np.array([x[0], x[1]]), np.ones(3))
    with pytest.raises(TypeError, match="float"):
        jacobian_sparsity(lambda x: float(x[0]) * x, np.ones(3))
    # nothing depends on x here, so the conversion is harmless
    assert not jacobian_sparsity(lambda x: np.ones(2) * float(np.floor(x[0])), np.ones(3)).any()


def test_bad_outputs_and_inputs():
    with pytest.raises(TypeError, match="return statement"):
        jacobian_sparsity(lambda x: None, np.ones(3))
    with pytest.raises(TypeError, match="one array"):
        jacobian_sparsity(lambda x: (x, x), np.ones(3))
    with pytest.raises(TypeError, match="dtype"):
        jacobian_sparsity(lambda x: x, np.array(["a"]))
    with pytest.raises(TypeError, match="callable"):
        jacobian_sparsity(3, np.ones(2))


def test_tracer_behaves_like_an_array():
    pattern, _ = trace_pattern(lambda x: _tracer_checks(x), np.arange(6.0))
    assert pattern.shape == (1, 6)


def _tracer_checks(x):
    assert isinstance(x, SparsityTracer)
    assert x.shape == (6,) and x.ndim == 1 and x.size == 6 and len(x) == 6
    assert (x > 2).sum() == 3  # comparisons give plain booleans of the values
    assert x.reshape(2, 3).T.shape == (3, 2)
    assert sum(1 for _ in x) == 6
    if x[4] > x[3]:  # Python control flow follows the traced point
        return np.sum(x)
    return x[0]
