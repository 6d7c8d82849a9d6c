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


def _tridiagonal_with_poles(x):
    # row 0: sqrt' at a negative x0 (NaN); row 2: log1p' at x2 = -1 (infinite); row 3: a NaN
    # value (sqrt(x0)) times x3, NaN in every direction; the rest finite
    return np.stack(
        [
            np.sqrt(x[0]) + x[1],
            x[0] * x[1] + x[2],
            x[1] + np.log1p(x[2]) + x[3],
            np.sqrt(x[0]) * x[3] + x[4],
            x[3] + x[4] * x[5],
            x[4] / np.sqrt(x[5]),
        ]
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("jit", [False, True])
def test_sparse_jacobian_keeps_a_nan_or_inf_entry_to_itself(jit):
    """A NaN or infinite partial on the pattern is that entry's alone, as in the dense pass and
    numeric differences: the recovery made the whole row NaN (sqrt(x0) + x1 at x0 = -1 gave
    d/dx1 = NaN and NaN off the pattern). A row whose value multiplies a zero tangent by NaN
    (sqrt(x0) * x3) is NaN in every direction in the dense pass, and stays so; a row with
    entries in every colour, all of them NaN (x4 / sqrt(x5) at x5 < 0), gets the dense pass's
    answer too (a zero-seed pass tells)."""
    x = np.array([-1.0, 2.0, -1.0, 3.0, 0.5, -2.0])
    f = _tridiagonal_with_poles
    dense = dualdiff.jacobian(f, x)
    # the compiler folds a zero tangent away: sqrt(x0) * 0 is 0 there, NaN in eager mode
    compiled = dualdiff.jit_jacobian(f)(x)
    # the reference: numeric differences where they are finite, closed forms where not
    num = numeric_jacobian(f, x)
    assert dense[0, 1] == 1.0 and np.isnan(dense[0, 0]) and (dense[0, 2:] == 0).all()
    assert dense[2, 2] == np.inf and dense[2, 1] == 1.0 and dense[2, 3] == 1.0
    assert np.isnan(dense[3]).all()
    assert np.isnan(dense[5, 4:]).all() and (dense[5, :4] == 0).all()
    np.testing.assert_allclose(dense[[1, 4]], num[[1, 4]], rtol=1e-6, atol=1e-9)
    assert (compiled[3, [1, 2, 5]] == 0).all()
    np.testing.assert_array_equal(np.delete(compiled, 3, 0), np.delete(dense, 3, 0))
    if not jit:
        np.testing.assert_array_equal(dualdiff.jacobian(f, x, sparsity="auto"), dense)
        csr = dualdiff.jacobian(f, x, sparsity="auto", output="sparse")
        np.testing.assert_array_equal(csr.toarray(), dense)
    expected = compiled if jit else dense
    pattern = dualdiff.jacobian_sparsity(f, x)
    np.testing.assert_array_equal(dualdiff.SparseJacobian(f, x, jit=jit)(x), expected)
    np.testing.assert_array_equal(
        dualdiff.SparseJacobian(f, x, jit=jit, sparsity=pattern)(x), expected
    )
    csr = dualdiff.SparseJacobian(f, x, jit=jit, output="sparse")(x)
    csr.check_format(full_check=True)
    np.testing.assert_array_equal(csr.toarray(), expected)
    # only a row NaN off its pattern is stored whole
    assert np.diff(csr.indptr).tolist() == [2, 3, 3, 6 if not jit else 3, 3, 2]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("first", ["quotient", "product"])
def test_sparse_jacobian_of_a_row_with_every_colour_not_finite(first, jit):
    """A row with entries in every colour, all of them NaN, is NaN off the pattern or not as the
    dense pass says: x1 / sqrt(x0) at x0 < 0 has NaN partials and zeros beside them (the
    recovery gave NaN everywhere), sqrt(x0) * x1 is NaN in every direction in eager mode."""

    def f(x):
        head = x[1] / np.sqrt(x[0]) if first == "quotient" else np.sqrt(x[0]) * x[1]
        return np.stack([head, x[1] * x[2], x[2] + x[3], x[3] * x[4], x[4]])

    x = np.array([-1.0, 2.0, -3.0, 4.0, 5.0])
    dense = dualdiff.jit_jacobian(f)(x) if jit else dualdiff.jacobian(f, x)
    assert np.isnan(dense[0, :2]).all()
    if first == "quotient" or jit:
        assert (dense[0, 2:] == 0).all()
    else:
        assert np.isnan(dense[0]).all()
    np.testing.assert_allclose(dense[1:], numeric_jacobian(f, x)[1:], rtol=1e-6, atol=1e-9)
    prepared = dualdiff.SparseJacobian(f, x, jit=jit)
    assert prepared.ncolors == 2
    np.testing.assert_array_equal(prepared(x), dense)
    if not jit:
        np.testing.assert_array_equal(dualdiff.jacobian(f, x, sparsity="auto"), dense)
