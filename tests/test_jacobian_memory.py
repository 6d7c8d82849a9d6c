"""Dense Jacobians in chunks: each pass's block is written into the preallocated result, so the
peak memory stays near the result's size, with the same values, dtypes and shapes as one pass."""

import collections
import tracemalloc

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.engine import forward

RNG = np.random.default_rng(3)


def tanh_layer(n, dtype=float):
    w = (RNG.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
    b = RNG.standard_normal(n).astype(dtype)
    return lambda x: np.tanh(w @ x + b)


def test_peak_memory_of_a_chunked_jacobian_is_near_the_result(monkeypatch):
    # a small Jacobian forced into the chunked path; before, the blocks were concatenated and
    # transposed: twice the result or more
    monkeypatch.setattr(forward, "ONE_PASS_BYTES", 0)
    n = 400
    f, x = tanh_layer(n), RNG.standard_normal(n)
    expected = dd.jacobian(f, x, chunk=n)
    tracemalloc.start()
    try:
        jac = dd.jacobian(f, x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 1.5 * jac.nbytes
    np.testing.assert_array_equal(jac, expected)


def test_default_chunk_splits_a_large_jacobian_and_keeps_small_ones_whole():
    assert forward._default_chunk(100, 8) == 100
    assert forward._default_chunk(1000, 8) == 1000  # 8 MB: one pass
    assert forward._default_chunk(3000, 8) == 600  # 72 MB: five passes
    assert forward._default_chunk(20_000, 8) == forward.MEMORY_BUDGET // (8 * 20_000)
    assert forward._default_chunk(1, 8) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_chunked_jacobian_equals_one_pass_in_value_and_dtype(dtype, chunk):
    f, x = tanh_layer(10, dtype), RNG.standard_normal(10).astype(dtype)
    whole = dd.jacobian(f, x, chunk=10)
    jac = dd.jacobian(f, x, chunk=chunk)
    assert jac.dtype == whole.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(jac, whole)
    assert jac.flags.writeable and not np.shares_memory(jac, x)
    # W and b are real: the Jacobian is real, in every dtype
    reference = numeric_jacobian(lambda z: f(z).real, x.real.astype(float))
    np.testing.assert_allclose(
        jac, reference, rtol=1e-3 if x.dtype in (np.float32, np.complex64) else 1e-7, atol=1e-6
    )


def test_chunked_jacobian_of_tuple_list_and_named_tuple_outputs():
    Pair = collections.namedtuple("Pair", "a b")
    x = RNG.standard_normal((2, 3))

    def f(x):
        return (np.sin(x), [np.sum(x**2), Pair(x[0] * x[1], 2.0)])

    whole = dd.jacobian(f, x, chunk=6)
    jac = dd.jacobian(f, x, chunk=4)
    assert type(jac) is tuple and type(jac[1]) is list and type(jac[1][1]) is Pair
    for got, want in zip(
        (jac[0], jac[1][0], jac[1][1].a, jac[1][1].b),
        (whole[0], whole[1][0], whole[1][1].a, whole[1][1].b),
    ):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert jac[1][1].b.shape == (2, 3) and not jac[1][1].b.any()  # a constant: zeros
    np.testing.assert_allclose(jac[1][0], 2 * x)


def test_chunked_jacobian_is_the_callers_and_shares_nothing():
    x = RNG.standard_normal(6)
    j1 = dd.jacobian(lambda x: x, x, chunk=4)  # the tangents are blocks of the seeds
    j2 = dd.jacobian(lambda x: x, x, chunk=4)
    np.testing.assert_array_equal(j1, np.eye(6))
    j1[0, 0] = 5.0
    np.testing.assert_array_equal(j2, np.eye(6))
    assert not np.shares_memory(j1, x)


def test_chunked_hessian_nested_tangents():
    # the inner gradient's tangents are duals of the outer pass: kept as blocks
    f = lambda x: np.sum(x**4) + x[0] * x[1]  # noqa: E731
    x = np.array([1.0, 2.0, -1.0, 0.5])
    expected = np.diag(12 * x**2)
    expected[0, 1] = expected[1, 0] = 1.0
    for chunk in (1, 3, None):
        np.testing.assert_allclose(dd.hessian(f, x, chunk=chunk), expected)
    for inner in (1, 3, None):  # inner passes in chunks: blocks of duals, assembled at the end
        hess = dd.jacobian(lambda z, inner=inner: dd.gradient(f, z, chunk=inner), x, chunk=3)
        np.testing.assert_allclose(hess, expected)


def test_an_output_whose_shape_changes_between_passes_raises():
    calls = []

    def f(x):
        calls.append(1)
        return x[: 2 + len(calls)] * 1.0

    with pytest.raises(ValueError, match="shape"):
        dd.jacobian(f, np.ones(6), chunk=2)


def test_workers_path_assembles_the_same_jacobian():
    f, x = tanh_layer(9), RNG.standard_normal(9)
    jac = dd.jacobian(f, x, workers=lambda fn, tasks: list(map(fn, tasks)), chunk=2)
    np.testing.assert_array_equal(jac, dd.jacobian(f, x, chunk=9))
    assert jac.flags.writeable


def test_assembly_switches_to_blocks_when_a_pass_is_not_a_plain_array():
    class Tagged(np.ndarray):
        pass

    jac = RNG.standard_normal((3, 7))
    assembly = forward._Assembly((7,))
    assembly.add(0, jac[:, :3].T.copy())
    assembly.add(3, jac[:, 3:5].T.copy().view(Tagged))  # kept as a block from here on
    assembly.add(5, jac[:, 5:].T.copy())
    np.testing.assert_array_equal(assembly.result(), jac)
    with pytest.raises(ValueError, match="columns"):
        forward._Assembly((7,)).add(2, jac[:, :2].T)
