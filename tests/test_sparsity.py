"""Sparsity detection: traced patterns against patterns known by construction and against the
non-zeros of numeric-difference Jacobians at random points."""

import zlib

import numpy as np
import pytest

import dualdiff
from dualdiff.core.errors import ValueDependentPatternWarning
from dualdiff.rules.elementwise import RULES
from dualdiff.sparsity.tracer import Pattern, SparsityTracer, jacobian_sparsity, trace_pattern

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
    if name == "heaviside":
        # h where x = 0, which random points never meet: the pattern keeps h (conservative)
        expected = np.eye(4, dtype=bool)[::-1]
        np.testing.assert_array_equal(jacobian_sparsity(f, np.array([0.0, 1, 2, 0])), expected)
        np.testing.assert_array_equal(jacobian_sparsity(f, np.array([1.0, 2, 3, 4])), expected)
        return
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
    with pytest.raises(TypeError, match=r"numpy\.spacing"):
        jacobian_sparsity(lambda x: np.spacing(x), np.ones(4))
    with pytest.raises(TypeError, match=r"numpy\.nextafter"):
        jacobian_sparsity(lambda x: np.nextafter(x, 2.0), np.ones(4))


def test_conversions_that_would_drop_dependencies_raise():
    with dualdiff.strict_arrays(), pytest.raises(TypeError, match="np.stack"):
        jacobian_sparsity(lambda x: np.array([x[0], x[1]]), np.ones(3))
    with pytest.warns(dualdiff.ObjectArrayWarning):  # the fallback: an object array, lifted
        pattern = jacobian_sparsity(lambda x: np.array([x[0], x[1]]), np.ones(3))
    np.testing.assert_array_equal(pattern, np.eye(2, 3, dtype=bool))
    with pytest.raises(TypeError, match="float"):
        jacobian_sparsity(lambda x: np.array([x[0], x[1]], dtype=float), np.ones(3))
    with pytest.raises(TypeError, match="float"):
        jacobian_sparsity(lambda x: float(x[0]) * x, np.ones(3))
    # no derivative flows through here, but the number is x's value: the pattern holds here only
    with pytest.warns(ValueDependentPatternWarning, match="float"):
        pattern = jacobian_sparsity(lambda x: np.ones(2) * float(np.floor(x[0])), np.ones(3))
    assert not pattern.any()


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
    with pytest.warns(ValueDependentPatternWarning, match="truth value"):
        pattern, _ = trace_pattern(lambda x: _tracer_checks(x), np.arange(6.0))
    assert pattern.shape == (1, 6)


def _tracer_checks(x):
    assert isinstance(x, SparsityTracer)
    assert x.shape == (6,) and x.ndim == 1 and x.size == 6 and len(x) == 6
    assert (x > 2).sum() == 3  # comparisons give booleans of the values (noted as such)
    assert x.reshape(2, 3).T.shape == (3, 2)
    assert sum(1 for _ in x) == 6
    if x[4] > x[3]:  # Python control flow follows the traced point
        return np.sum(x)
    return x[0]


# -- einsum, kron, gradient and numpy.linalg, against dualdiff.jacobian --------------------------


def jacobian_pattern(f, shape, points=3, rng=RNG, tol=1e-9):
    """The union of the non-zeros of dualdiff.jacobian at a few random points, shape (m, n)."""
    out = None
    for _ in range(points):
        x = rng.uniform(-1.0, 1.0, shape)
        jac = np.asarray(dualdiff.jacobian(f, x)).reshape(-1, x.size)
        nz = np.abs(jac) > tol
        out = nz if out is None else out | nz
    return out


def assert_pattern(f, shape, exact=True, rng=RNG):
    """The traced pattern contains the Jacobian's non-zeros, and (exact) equals them."""
    traced = jacobian_sparsity(f, rng.uniform(-1.0, 1.0, shape))
    expected = jacobian_pattern(f, shape, rng=rng)
    assert not (expected & ~traced).any(), "the traced pattern misses a non-zero"
    if exact:
        np.testing.assert_array_equal(traced, expected)


def flat(parts):
    return np.concatenate([np.ravel(p) for p in parts])


# a constant with a zero row and scattered zeros: its zeros are trusted, as with @
D = np.array([[1.5, 0.0, -0.5], [0.0, -2.0, 0.0], [0.0, 0.0, 0.0]])

EINSUM = {
    "matrix product": (
        lambda x: np.einsum("ij,jk->ik", x[:6].reshape(2, 3), x[6:].reshape(3, 2)),
        12,
    ),
    "trace": (lambda x: np.einsum("ii", x.reshape(3, 3)), 9),
    "diagonal": (lambda x: np.einsum("ii->i", x.reshape(3, 3)) ** 2, 9),
    "outer": (lambda x: np.einsum("i,j->ij", x[:2], x[2:]), 5),
    "batched": (
        lambda x: np.einsum("bij,bjk->bik", x[:12].reshape(2, 2, 3), x[12:].reshape(2, 3, 2)),
        24,
    ),
    "implicit output": (lambda x: np.einsum("ji,kj", x[:6].reshape(3, 2), x[6:].reshape(2, 3)), 12),
    "ellipsis": (
        lambda x: np.einsum("...ij,...j->...i", x[:12].reshape(2, 2, 3), x[12:].reshape(2, 3)),
        18,
    ),
    "ellipsis diagonal": (lambda x: np.einsum("...ii->...i", x.reshape(2, 2, 2)), 8),
    "repeated operand": (lambda x: np.einsum("i,i,j->j", x, x, np.cos(x)), 4),
    "constant with zeros": (lambda x: np.einsum("ij,jk->ik", D, x.reshape(3, 2)), 6),
    "constant in a chain": (lambda x: np.einsum("ij,j,jk", D, x[:3], x[3:].reshape(3, 2)), 9),
    "broadcast axis": (
        lambda x: np.einsum("ij,ij->i", x[:3].reshape(3, 1), x[3:].reshape(3, 2)),
        9,
    ),
}


@pytest.mark.parametrize("name", sorted(EINSUM))
def test_einsum_follows_the_index_structure(name):
    f, n = EINSUM[name]
    assert_pattern(f, (n,), rng=rng_for(name))


def test_einsum_sublist_form():
    # einsum(op, [0, 1], op, [1, 2], [2, 0]) is "ab,bc->ca"; DualArray takes strings only, so
    # compare with numeric differences and with the string form.
    f = lambda x: np.einsum(x.reshape(3, 3), [0, 1], D, [1, 2], [2, 0])
    g = lambda x: np.einsum(np.sin(x.reshape(3, 3)), [1, 0], x[:3], [1])
    assert_exact(f, (9,), rng=rng_for("sublist"))
    assert_exact(g, (9,), rng=rng_for("sublist implicit"))
    x = RNG.uniform(-1, 1, 9)
    expected = jacobian_sparsity(lambda x: np.einsum("ab,bc->ca", x.reshape(3, 3), D), x)
    np.testing.assert_array_equal(jacobian_sparsity(f, x), expected)


KRON = {
    "tracer, constant": (lambda x: np.kron(x.reshape(2, 2), D), 4),
    "constant, tracer": (lambda x: np.kron(D, np.sin(x)), 3),
    "tracer, tracer": (lambda x: np.kron(x[:2], x[2:].reshape(2, 2)), 6),
    "different ndim": (lambda x: np.kron(x[:4].reshape(2, 1, 2), x[4:].reshape(2, 1) ** 2), 6),
}


@pytest.mark.parametrize("name", sorted(KRON))
def test_kron_block_structure(name):
    f, n = KRON[name]
    assert_pattern(f, (n,), rng=rng_for(name))
    assert_exact(f, (n,), rng=rng_for(name))


XS = np.array([0.0, 0.1, 0.3, 0.35, 0.9, 1.0])  # non-uniform: the centre coefficient is non-zero

GRADIENT = {
    "1-d": (lambda x: np.gradient(x**2), (6,)),
    "1-d spacing, edge order 2": (lambda x: np.gradient(x, 0.3, edge_order=2), (6,)),
    "1-d coordinates": (lambda x: np.gradient(x, XS), (6,)),
    "1-d coordinates, edge order 2": (lambda x: np.gradient(x, XS, edge_order=2), (6,)),
    "1-d uniform coordinates": (lambda x: np.gradient(x, 0.5 * np.arange(6.0)), (6,)),
    "2-d axis 0": (lambda x: np.gradient(np.exp(x), axis=0), (4, 5)),
    "2-d axis -1, edge order 2": (lambda x: np.gradient(x, 2.0, axis=-1, edge_order=2), (4, 5)),
    "2-d both axes": (lambda x: np.stack(np.gradient(x, 0.5, XS[:5], edge_order=2)), (4, 5)),
}


@pytest.mark.parametrize("name", sorted(GRADIENT))
def test_gradient_stencil(name):
    f, shape = GRADIENT[name]
    assert_pattern(f, shape, rng=rng_for(name))
    assert_exact(f, shape, rng=rng_for(name))


def test_gradient_stencil_known_by_construction():
    # Central differences skip the centre; the ends take one-sided differences over 2 points
    # (edge_order=1) or 3 (edge_order=2).
    n = 6
    offsets = np.subtract.outer(np.arange(n), np.arange(n))
    first = np.abs(offsets) == 1
    first[0, :2] = first[-1, -2:] = True
    second = first.copy()
    second[0, :3] = second[-1, -3:] = True
    np.testing.assert_array_equal(jacobian_sparsity(np.gradient, np.ones(n)), first)
    p = jacobian_sparsity(lambda x: np.gradient(x, edge_order=2), np.ones(n))
    np.testing.assert_array_equal(p, second)


def _complex3(x):
    return (x[:9] + 1j * x[9:]).reshape(3, 3) + 3 * np.eye(3)


def _slogdet_complex(x):
    sign, logabsdet = np.linalg.slogdet(_complex3(x))
    return np.stack([np.real(sign), np.imag(sign), logabsdet])


EYE3 = 3 * np.eye(3)

LINALG = {
    "inv batched": (lambda x: np.linalg.inv(x.reshape(2, 3, 3) + EYE3), 18),
    "det batched": (lambda x: np.linalg.det(x.reshape(2, 3, 3)), 18),
    "slogdet": (lambda x: flat(np.linalg.slogdet(x.reshape(2, 3, 3) + EYE3)), 18),
    "slogdet complex": (_slogdet_complex, 18),
    "solve vector": (lambda x: np.linalg.solve(x[:9].reshape(3, 3) + EYE3, x[9:]), 12),
    "solve columns": (
        lambda x: np.linalg.solve(x[:9].reshape(3, 3) + EYE3, x[9:].reshape(3, 2)),
        15,
    ),
    "solve batched": (
        lambda x: np.linalg.solve(x[:18].reshape(2, 3, 3) + EYE3, x[18:].reshape(2, 3, 1)),
        24,
    ),
    "solve constant matrix": (lambda x: np.linalg.solve(D + EYE3, x.reshape(3, 2)), 6),
    "lstsq": (
        lambda x: flat(
            np.linalg.lstsq(x[:8].reshape(4, 2), x[8:].reshape(4, 2))[i] for i in (0, 1, 3)
        ),
        16,
    ),
    "lstsq vector": (
        lambda x: flat(np.linalg.lstsq(x[:8].reshape(4, 2), x[8:])[i] for i in (0, 1)),
        12,
    ),
    "pinv": (lambda x: np.linalg.pinv(x.reshape(3, 2)), 6),
    "pinv hermitian": (lambda x: np.linalg.pinv(x.reshape(3, 3) + EYE3, hermitian=True), 9),
    "cholesky": (lambda x: np.linalg.cholesky(x.reshape(4, 4) + 5 * np.eye(4)), 16),
    "cholesky upper": (
        lambda x: np.linalg.cholesky(x.reshape(4, 4) + 5 * np.eye(4), upper=True),
        16,
    ),
    "cholesky batched": (lambda x: np.linalg.cholesky(x.reshape(2, 3, 3) + EYE3), 18),
    "qr square": (lambda x: flat(np.linalg.qr(x.reshape(3, 3))), 9),
    "qr tall": (lambda x: flat(np.linalg.qr(x.reshape(4, 3))), 12),
    "qr wide": (lambda x: flat(np.linalg.qr(x.reshape(3, 5))), 15),
    "qr mode r": (lambda x: np.linalg.qr(x.reshape(2, 4, 3), mode="r"), 24),
    "qr complex": (lambda x: np.real(flat(np.linalg.qr(_complex3(x)))), 18),
    "eigh": (lambda x: flat(np.linalg.eigh(x.reshape(3, 3))), 9),
    "eigvalsh upper": (lambda x: np.linalg.eigvalsh(x.reshape(2, 3, 3), "U"), 18),
    "svd": (lambda x: flat(np.linalg.svd(x.reshape(3, 3))), 9),
    "svd thin": (lambda x: flat(np.linalg.svd(x.reshape(4, 2), full_matrices=False)), 8),
    "svd hermitian values": (
        lambda x: np.linalg.svd(x.reshape(3, 3), compute_uv=False, hermitian=True),
        9,
    ),
    "svdvals": (lambda x: np.linalg.svdvals(x.reshape(2, 4)), 8),
    "matrix_power 0": (lambda x: np.linalg.matrix_power(x.reshape(3, 3), 0) + x[0], 9),
    "matrix_power 2": (lambda x: np.linalg.matrix_power(x.reshape(3, 3), 2), 9),
    "matrix_power 3": (lambda x: np.linalg.matrix_power(x.reshape(3, 3), 3), 9),
    "matrix_power -1": (lambda x: np.linalg.matrix_power(x.reshape(3, 3) + EYE3, -1), 9),
    "multi_dot": (lambda x: np.linalg.multi_dot([x[:3], D, x[3:].reshape(3, 2)]), 9),
    "tensorsolve": (
        lambda x: np.linalg.tensorsolve(
            x[:16].reshape(2, 2, 2, 2) + np.eye(4).reshape(2, 2, 2, 2), x[16:].reshape(2, 2)
        ),
        20,
    ),
    "tensorinv": (
        lambda x: np.linalg.tensorinv(x.reshape(2, 2, 4) + np.eye(4).reshape(2, 2, 4)),
        16,
    ),
    "cond": (lambda x: np.linalg.cond(x.reshape(3, 3)), 9),
    "cond 1": (lambda x: np.linalg.cond(x.reshape(3, 3) + EYE3, 1), 9),
    "matrix_rank": (lambda x: x * np.linalg.matrix_rank(x.reshape(2, 2)), 4),
    "norm along an axis": (lambda x: np.linalg.norm(x.reshape(2, 3), axis=1), 6),
    "norm ord 1 keepdims": (lambda x: np.linalg.norm(x.reshape(2, 3), 1, axis=0, keepdims=True), 6),
    "norm nuclear": (lambda x: np.linalg.norm(x.reshape(2, 2, 2), "nuc", axis=(1, 2)), 8),
    "norm fro": (lambda x: np.linalg.norm(x.reshape(2, 3), "fro"), 6),
    "norm counts": (lambda x: np.linalg.norm(x, 0) + x, 4),
    "vector_norm": (lambda x: np.linalg.vector_norm(x.reshape(2, 3, 2), axis=(0, 2), ord=3), 12),
    "matrix_norm": (lambda x: np.linalg.matrix_norm(x.reshape(3, 2, 2), ord=-2), 12),
    "matrix_norm inf": (lambda x: np.linalg.matrix_norm(x.reshape(3, 2, 2), ord=np.inf), 12),
    "vecdot": (lambda x: np.linalg.vecdot(x[:6].reshape(2, 3), x[6:]), 9),
    "trace diagonal": (
        lambda x: np.concatenate(
            [np.linalg.trace(x.reshape(1, 3, 3)), np.linalg.diagonal(x.reshape(3, 3))]
        ),
        9,
    ),
    "cross outer": (
        lambda x: np.concatenate(
            [np.linalg.cross(x[:3], x[3:]), np.linalg.outer(x[:3], x[3:]).ravel()]
        ),
        6,
    ),
    "matmul tensordot matrix_transpose": (
        lambda x: flat(
            [
                np.linalg.matmul(x[:6].reshape(2, 3), D),
                np.linalg.tensordot(x[:4].reshape(2, 2), x[4:].reshape(2, 1), axes=1),
                np.linalg.matrix_transpose(x[:6].reshape(2, 3)),
            ]
        ),
        6,
    ),
}

# Conservative only: solve trusts no zeros of a constant inverse, and an inf-norm, like max,
# depends on every row it could pick.
LINALG_CONSERVATIVE = {"solve constant matrix", "matrix_norm inf"}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_patterns(name):
    f, n = LINALG[name]
    assert_pattern(f, (n,), exact=name not in LINALG_CONSERVATIVE, rng=rng_for(name))


def test_linalg_dense_within_each_matrix_and_triangles():
    x = RNG.uniform(-1, 1, 18)
    blocks = np.kron(np.eye(2, dtype=bool), np.ones((9, 9), dtype=bool))
    inv = lambda x: np.linalg.inv(x.reshape(2, 3, 3) + EYE3)
    np.testing.assert_array_equal(jacobian_sparsity(inv, x), blocks)
    # eigvalsh reads the lower triangle only (diagonal included)
    p = jacobian_sparsity(lambda x: np.linalg.eigvalsh(x.reshape(3, 3)), x[:9])
    np.testing.assert_array_equal(p, np.tile(np.tril(np.ones((3, 3), dtype=bool)).ravel(), (3, 1)))
    # a real determinant's sign is piecewise constant
    assert not jacobian_sparsity(lambda x: np.linalg.slogdet(x.reshape(3, 3)).sign, x[:9]).any()


def test_auto_sparsity_with_einsum_and_solve():
    rng = rng_for("auto einsum solve")
    a = np.diag(np.arange(2.0, 8.0)) + np.diag(np.ones(5), 1)
    f = lambda x: np.einsum("ij,j->i", D, x[:3] ** 2) + np.einsum("i,i->i", x[3:], np.sin(x[:3]))
    g = lambda x: (
        np.linalg.solve(a + np.diag(x), np.cos(x))
        + np.linalg.solve(x[:4].reshape(2, 2) + 3 * np.eye(2), x[4:]).sum()
    )
    for fn, n in ((f, 6), (g, 6)):
        x = rng.uniform(-1, 1, n)
        dense = dualdiff.jacobian(fn, x)
        np.testing.assert_allclose(dualdiff.jacobian(fn, x, sparsity="auto"), dense, atol=1e-12)


def test_every_dual_array_function_has_a_tracer_rule():
    # A function DualArray differentiates should not stop jacobian_sparsity.
    import dualdiff.arrays.linalg  # noqa: F401 - registers the linalg rules
    from dualdiff.arrays.dualarray import HANDLED_FUNCTIONS
    from dualdiff.core.errors import function_name
    from dualdiff.sparsity.tracer import _DERIVED, _FUNCTIONS, _refuse

    def handled(f):  # a rule of its own, or one derived from the function table (not a refusal)
        derived = _DERIVED.get(f)
        return f in _FUNCTIONS or (
            derived is not None and getattr(derived, "func", 0) is not _refuse
        )

    missing = sorted(function_name(f) for f in HANDLED_FUNCTIONS if not handled(f))
    assert not missing


def test_new_rules_reject_what_they_cannot_trace():
    with pytest.raises(TypeError, match="spacing must not depend on x"):
        jacobian_sparsity(lambda x: np.gradient(x, x), np.arange(4.0))
    with pytest.raises(TypeError, match=r"einsum\(\.\.\., out=<a plain array>\)"):
        jacobian_sparsity(lambda x: np.einsum("i->i", x, out=np.zeros(3)), np.ones(3))
    with pytest.raises(TypeError, match="n must not depend on x"):
        jacobian_sparsity(lambda x: np.linalg.matrix_power(x.reshape(2, 2), x[0]), np.ones(4))
