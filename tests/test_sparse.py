"""Compressed Jacobians: recovery from a known Jacobian, then the whole path (detect, colour, push
forward, recover) against dualdiff's dense jacobian and against numeric differences."""

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff
from dualdiff.engine.sparse import SparseJacobian, compressed_jacobian, recover, sparse_jacobian
from dualdiff.sparsity.coloring import color_columns
from dualdiff.sparsity.tracer import Pattern

RNG = np.random.default_rng(7)


def brusselator(x):
    n = x.shape[0] // 2
    u, v = x[:n], x[n:]
    lap_u = np.concatenate([u[1:2] - u[:1], u[:-2] - 2 * u[1:-1] + u[2:], u[-2:-1] - u[-1:]])
    lap_v = np.concatenate([v[1:2] - v[:1], v[:-2] - 2 * v[1:-1] + v[2:], v[-2:-1] - v[-1:]])
    uuv = u * u * v
    return np.concatenate([1.0 + uuv - 4.0 * u + 0.3 * lap_u, 3.0 * u - uuv + 0.3 * lap_v])


def block(x):
    b = x.reshape(-1, 3)
    return (np.sum(b**2, axis=1, keepdims=True) * np.sin(b[:, ::-1])).ravel()


A = RNG.standard_normal((14, 10)) * (RNG.random((14, 10)) < 0.25)


def random_sparse(x):
    return np.tanh(A @ x) + np.concatenate([x**2, np.exp(x[:4])])


# -- recovery with a stand-in for the forward passes --------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_recovery_from_a_known_jacobian(seed):
    # B = J S computed here from a dense J with random values on a random pattern.
    rng = np.random.default_rng(seed)
    dense = rng.random((20, 15)) < 0.15
    jac = np.where(dense, rng.standard_normal(dense.shape), 0.0)
    colors = color_columns(dense)
    seeds = np.eye(colors.max() + 1)[colors]  # S[j, c] = 1 where colour[j] == c
    compressed = (jac @ seeds).T  # (colours, m), as push_forward returns it
    pattern = Pattern.coerce(dense)
    np.testing.assert_array_equal(recover(compressed, pattern, colors), jac)
    sparse = pytest.importorskip("scipy.sparse")
    out = recover(compressed, pattern, colors, output="sparse")
    assert isinstance(out, sparse.csr_array)
    np.testing.assert_array_equal(out.toarray(), jac)


# -- the real forward passes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "f, n", [(brusselator, 16), (block, 12), (random_sparse, 10)], ids=["banded", "block", "random"]
)
def test_sparse_equals_dense_jacobian(f, n):
    x = RNG.uniform(0.5, 1.5, n)
    jac = SparseJacobian(f, x)
    assert jac.ncolors < n
    np.testing.assert_allclose(jac(x), dualdiff.jacobian(f, x), rtol=1e-13, atol=1e-13)


def test_both_against_numeric_differences():
    x = RNG.uniform(0.5, 1.5, 20)
    expected = numeric_jacobian(brusselator, x)
    np.testing.assert_allclose(SparseJacobian(brusselator, x)(x), expected, atol=1e-7)
    np.testing.assert_allclose(dualdiff.jacobian(brusselator, x), expected, atol=1e-7)


def test_prepared_once_reused_at_new_points():
    x0 = RNG.uniform(0.5, 1.5, 16)
    jac = SparseJacobian(brusselator, x0)
    colors = jac.colors.copy()
    for _ in range(3):
        x = RNG.uniform(0.0, 2.0, 16)
        value, j = jac.value_and_jacobian(x)
        np.testing.assert_allclose(value, brusselator(x), rtol=1e-15)
        np.testing.assert_allclose(j, dualdiff.jacobian(brusselator, x), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(jac.colors, colors)


def test_sparse_output():
    sparse = pytest.importorskip("scipy.sparse")
    x = RNG.uniform(0.5, 1.5, 16)
    value, j = sparse_jacobian(brusselator, x, output="sparse")
    assert isinstance(j, sparse.csr_array) and j.shape == (16, 16)
    np.testing.assert_allclose(j.toarray(), dualdiff.jacobian(brusselator, x), atol=1e-13)
    np.testing.assert_allclose(value, brusselator(x))


def test_given_patterns_dense_nd_and_scipy():
    x = RNG.uniform(0.5, 1.5, (4, 3))
    f = lambda x: np.exp(x) * x[:, ::-1]  # (4, 3) -> (4, 3): J has shape (4, 3, 4, 3)
    expected = dualdiff.jacobian(f, x)
    assert expected.shape == (4, 3, 4, 3)
    nd_pattern = expected != 0
    np.testing.assert_allclose(SparseJacobian(f, x, nd_pattern)(x), expected, atol=1e-14)
    flat = nd_pattern.reshape(12, 12)
    np.testing.assert_allclose(SparseJacobian(f, x, flat)(x), expected, atol=1e-14)
    np.testing.assert_allclose(SparseJacobian(f, x)(x), expected, atol=1e-14)
    sparse = pytest.importorskip("scipy.sparse")
    np.testing.assert_allclose(
        SparseJacobian(f, x, sparse.csr_array(flat))(x), expected, atol=1e-14
    )


def test_compressed_jacobian_columns():
    x = RNG.uniform(0.5, 1.5, 10)
    colors = color_columns(dualdiff.jacobian(random_sparse, x) != 0)
    value, compressed = compressed_jacobian(random_sparse, x, colors)
    seeds = np.eye(colors.max() + 1)[colors]
    np.testing.assert_allclose(compressed, (dualdiff.jacobian(random_sparse, x) @ seeds).T)
    np.testing.assert_allclose(value, random_sparse(x))


def test_orders_give_the_same_jacobian():
    x = RNG.uniform(0.5, 1.5, 16)
    results = [SparseJacobian(brusselator, x, order=o)(x) for o in ("natural", "largest_first")]
    np.testing.assert_allclose(results[0], results[1], atol=1e-14)


def test_errors():
    x = np.ones(6)
    jac = SparseJacobian(brusselator, x)
    with pytest.raises(ValueError, match="shape"):
        jac(np.ones(8))
    with pytest.raises(ValueError, match="columns"):
        SparseJacobian(brusselator, x, np.ones((6, 5), dtype=bool))
    with pytest.raises(ValueError, match="rows"):
        SparseJacobian(brusselator, x, np.ones((4, 6), dtype=bool))(x)
    with pytest.raises(ValueError, match="sparsity"):
        SparseJacobian(brusselator, x, "dense")
    with pytest.raises(ValueError, match="output"):
        SparseJacobian(brusselator, x, output="csr")
    with pytest.raises(TypeError, match="sparsity"):
        SparseJacobian(brusselator, x, 3.0)
    with pytest.raises(TypeError, match="single array"):
        SparseJacobian(lambda x: (x, x), x, np.eye(6, dtype=bool))(x)


@pytest.mark.parametrize(
    "chunk, error",
    [
        (0, ValueError),
        (-2, ValueError),
        (1.5, TypeError),
        (2.0, TypeError),
        (True, TypeError),
        ("2", TypeError),
    ],
)
def test_bad_chunk_raises_as_in_the_dense_jacobian(chunk, error):
    # a sparse Jacobian took chunk=1.5, 2.0 or True without a word, and '2' raised
    # "'>=' not supported between instances of 'str' and 'int'"
    x = np.ones(6)
    with pytest.raises(error, match=r"^jacobian: chunk must be"):
        dualdiff.jacobian(brusselator, x, chunk=chunk)
    for sparsity in ("auto", np.ones((6, 6), dtype=bool)):
        with pytest.raises(error, match=r"^SparseJacobian: chunk must be"):
            dualdiff.jacobian(brusselator, x, chunk=chunk, sparsity=sparsity)
        with pytest.raises(error, match=r"^SparseJacobian: chunk must be"):
            SparseJacobian(brusselator, x, sparsity, chunk=chunk)
    with pytest.raises(error, match=r"^jacobian: chunk must be"):
        compressed_jacobian(brusselator, x, np.arange(6), chunk=chunk)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.float64])
def test_dtype_as_the_dense_jacobian(dtype):
    # the colour seeds took float64 (np.result_type(x, float)): a float32 x gave a float64 Jacobian
    x = np.linspace(1.0, 2.0, 6).astype(dtype)
    f = lambda x: np.sin(x) * 2 + np.concatenate([x[1:], x[:1]]) / 3
    expected = f(x).dtype
    dense = dualdiff.jacobian(f, x)
    assert dense.dtype == expected
    for jac in (
        dualdiff.jacobian(f, x, sparsity="auto"),
        SparseJacobian(f, x)(x),
        SparseJacobian(f, x, output="sparse")(x),
    ):
        assert jac.dtype == expected
        np.testing.assert_allclose(jac if isinstance(jac, np.ndarray) else jac.toarray(), dense)


@pytest.mark.parametrize("x", [1.5, np.float32(1.5), np.array(1.5)])
def test_a_0d_jacobian_is_a_numpy_scalar_as_the_dense_one(x):
    # the sparse Jacobian of a scalar x was a 0-d array where jacobian gives a NumPy scalar
    f = lambda z: z**3  # noqa: E731
    expected = dualdiff.jacobian(f, x)
    for jac in (
        dualdiff.jacobian(f, x, sparsity="auto"),
        SparseJacobian(f, x)(x),
        SparseJacobian(f, x, jit=True)(x),
    ):
        assert type(jac) is type(expected) and jac == expected == 6.75
