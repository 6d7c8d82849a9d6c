"""Compiled Jacobians (``dualdiff.jit_jacobian``, ``SparseJacobian(jit=True)``): every result is
checked against eager ``dualdiff.jacobian`` (itself tested against numeric differences) and, for
the benchmark functions, against their analytic Jacobians."""

import numpy as np
import pytest

import dualdiff as dd
from benchmarks.bench_jacobian import (
    brusselator,
    brusselator_jacobian,
    brusselator_point,
    tanh_jacobian,
    tanh_problem,
)
from dualdiff.engine.sparse import SparseJacobian

RNG = np.random.default_rng(7)


def check(f, x, rtol=1e-13, second=None):
    """The compiled Jacobian and value equal the eager ones, on two calls at different points."""
    compiled = dd.jit_jacobian(f)
    if second is None:
        second = x + 0.1 * RNG.standard_normal(np.shape(x))
    for point in (x, second):
        value, jac = compiled.value_and_jacobian(point)
        expected_value, expected = dd.value_and_jacobian(f, point)
        for got, want in zip(_leaves(jac), _leaves(expected)):
            assert np.shape(got) == np.shape(want)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-14)
        for got, want in zip(_leaves(value), _leaves(expected_value)):
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-14)
    return compiled


def _leaves(a):
    return list(a) if isinstance(a, (tuple, list)) else [a]


@pytest.mark.parametrize("n", [3, 10, 40])
def test_tanh_layer_matches_the_analytic_jacobian(n):
    F, x, (W, b) = tanh_problem(n)
    compiled = check(F, x)
    np.testing.assert_allclose(compiled(x), tanh_jacobian(x, W, b), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("n", [4, 10, 60])
def test_brusselator_matches_the_analytic_jacobian(n):
    x = brusselator_point(n)
    compiled = check(brusselator, x)
    np.testing.assert_allclose(compiled(x), brusselator_jacobian(x), rtol=1e-13, atol=1e-12)


def test_the_identity_seed_folds_linear_parts_into_constants():
    W = RNG.standard_normal((5, 4))
    compiled = dd.jit_jacobian(lambda x: W @ x)
    jac = compiled(np.ones(4))
    np.testing.assert_array_equal(jac, W)
    # one product at run time, for the value; the tangent W @ I was folded while tracing
    assert compiled.source.count("np_matmul(") == 1
    jac[0, 0] = 100.0  # a constant Jacobian is handed out as a copy
    np.testing.assert_array_equal(compiled(np.ones(4)), W)


@pytest.mark.parametrize("name", sorted(dd.RULES))
def test_every_rule(name):
    rule = dd.RULES[name]
    if name == "ldexp":  # the exponent is an integer: a constant
        check(lambda v: rule.function(v, np.array([1, -2, 3])), RNG.uniform(-3, 3, (2, 3)))
    elif rule.nin == 1:
        low, high = rule.domain[0]
        x, second = RNG.uniform(low, high, (2, 2, 3))
        check(rule.function, x, rtol=1e-12, second=second)
    else:
        (lx, hx), (ly, hy) = rule.domain
        points = [
            np.concatenate([RNG.uniform(lx, hx, 6), RNG.uniform(ly, hy, 3)]) for _ in range(2)
        ]
        check(lambda v: rule.function(v[:6].reshape(2, 3), v[6:]), points[0], rtol=1e-12,
              second=points[1])  # fmt: skip


# NumPy functions, indexing and methods: one case each in the shared list (cases.py), run
# through jit_jacobian (at two points) by test_every_mode.py.


def test_several_outputs_and_an_input_returned_as_is():
    x = RNG.standard_normal(4)
    compiled = check(lambda x: (np.sin(x), x, 2.0, [x.sum()]), x)
    value, jac = compiled.value_and_jacobian(x)
    np.testing.assert_array_equal(jac[1], np.eye(4))
    np.testing.assert_array_equal(jac[2], np.zeros(4))


def test_results_of_earlier_calls_are_not_overwritten():
    F, x, _ = tanh_problem(6)
    compiled = dd.jit_jacobian(F)
    first = compiled(x)
    kept = first.copy()
    compiled(x + 1.0)
    np.testing.assert_array_equal(first, kept)


def test_compiles_once_per_shape_and_dtype():
    compiled = dd.jit_jacobian(lambda x: np.sin(x) * x)
    compiled(np.ones(3))
    compiled(np.zeros(3))
    assert len(compiled._compiled) == 1
    compiled(np.ones(4))
    compiled(np.ones(3, dtype=np.float32))
    assert len(compiled._compiled) == 3
    assert compiled.source.startswith("def value_and_jacobian(x0):")


def test_integers_are_promoted_and_dual_inputs_run_eagerly():
    compiled = dd.jit_jacobian(lambda x: x**3)
    np.testing.assert_allclose(compiled([1, 2]), np.diag([3.0, 12.0]))
    # d/ds of the trace of J(s x) = 6 s x_i summed, through the eager fallback
    x = np.array([1.0, 2.0])
    got = dd.derivative(lambda s: np.trace(compiled(s * x)), 1.0)
    assert got == pytest.approx(6 * (1.0**2 + 2.0**2) / 1.0)


def test_errors():
    with pytest.raises(TypeError, match="no derivative rule for numpy.spacing"):
        dd.jit_jacobian(lambda x: np.spacing(x))(np.ones(3))
    with pytest.raises(TypeError, match="assignment into a traced array"):  # a mask of x
        dd.jit_jacobian(lambda x: (x > 0).__setitem__(0, True))(np.ones(3))
    with pytest.raises(TypeError, match="real or complex"):
        dd.jit_jacobian(np.sin)(np.array(["a"]))
    with pytest.raises(ValueError, match="nothing has been compiled"):
        _ = dd.jit_jacobian(np.sin).source
    with pytest.raises(ValueError, match="memory budget"):
        dd.jit_jacobian(np.sin)(np.ones(5000))


def test_sparse_jacobian_compiled():
    x = brusselator_point(40)
    for output in ("dense", "sparse"):
        if output == "sparse":
            pytest.importorskip("scipy")
        eager = SparseJacobian(brusselator, x, output=output)
        compiled = SparseJacobian(brusselator, x, sparsity=eager.pattern, output=output, jit=True)
        for point in (x, x * 1.1):
            got, want = compiled(point), eager(point)
            if output == "sparse":
                got, want = got.toarray(), want.toarray()
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(got, brusselator_jacobian(point), rtol=1e-13, atol=1e-12)
    with pytest.raises(ValueError, match="jit=True"):
        SparseJacobian(brusselator, x, jit=True, workers=2)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x[x > 0],
        lambda x: x[np.nonzero(x > 0)],
        lambda x: x * np.unique(x > 0).size,
        lambda x: x if x[0] > 0 else -x,
    ],
    ids=["mask", "nonzero", "unique size", "branch"],
)
def test_shapes_and_branches_that_depend_on_values_are_guarded(f):
    # a compiled program has the shapes and branches of its trace, guarded at every replay: a
    # point where they differ is traced again, and each point gets eager mode's Jacobian
    compiled = dd.jit_jacobian(f)
    points = [np.ones(3), np.array([1.0, -2.0, 3.0]), np.array([-1.0, -2.0, 3.0]), np.ones(3)]
    for x in points:
        got, want = compiled(x), dd.jacobian(f, x)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_astype_keeps_the_derivative():
    x = np.linspace(0.1, 1.0, 4)
    check(lambda x: np.sin(x.astype(np.float32)).astype(float) * x, x, rtol=1e-6)
    with pytest.raises(TypeError, match="astype"):
        dd.jit_jacobian(lambda x: x.astype(int))(x)


def test_closure_arrays_are_fixed_when_traced():
    # as documented (and as jax.jit does): the program replays what f computed when traced
    W = np.eye(2)
    compiled = dd.jit_jacobian(lambda x: W @ np.sin(x))
    x = np.zeros(2)
    np.testing.assert_array_equal(compiled(x), np.eye(2))
    W[0, 0] = 3.0
    np.testing.assert_array_equal(compiled(x), np.eye(2))
    np.testing.assert_array_equal(dd.jit_jacobian(lambda x: W @ np.sin(x))(x), W)


def test_eager_duals_inside_a_compiled_function_are_refused():
    outer = dd.Dual(2.0, 1.0)
    with pytest.raises(TypeError, match="differentiating inside a compiled function"):
        dd.jit_jacobian(lambda x: np.sin(x) * outer)(np.ones(2))


def test_threads_share_a_compiled_function():
    from concurrent.futures import ThreadPoolExecutor

    F, x, (W, b) = tanh_problem(8)
    compiled = dd.jit_jacobian(F)  # traced by whichever thread comes first
    points = [x + 0.1 * i for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(compiled, points))
    for point, jac in zip(points, results):
        np.testing.assert_allclose(jac, tanh_jacobian(point, W, b), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("n", [3, 20])  # a dense product with the seed, and a scattered one
def test_infinite_partials_keep_the_seed_zeros(n):
    x = np.linspace(1.0, 1.5, n)  # 2x * 1e308 overflows
    with np.errstate(over="ignore"):
        jac = dd.jit_jacobian(lambda x: (x * x) * 1e308)(x)
    assert np.all(jac[~np.eye(n, dtype=bool)] == 0.0)
    assert np.all(np.isinf(np.diag(jac)))


def test_scattered_seed_blocks_match_eager():
    # slices of a 40-column identity are sparse enough to be scattered, not multiplied
    x = brusselator_point(40)
    compiled = dd.jit_jacobian(brusselator)
    assert "scatter_times_block" in (compiled(x), compiled.source)[1]
    np.testing.assert_allclose(
        compiled(x * 1.1), dd.jacobian(brusselator, x * 1.1), rtol=1e-13, atol=1e-12
    )


def test_positional_prepend_gives_a_zero_tangent():
    x, v = np.array([1.0, 2.0, 4.0]), np.ones(3)
    got = dd.jit_jvp(lambda x: np.diff(x, 1, -1, 5.0))(x, v)
    want = dd.jvp(lambda x: np.diff(x, 1, -1, 5.0), x, v)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("x", [1.5, np.float32(1.5), np.array(1.5)])
def test_a_0d_jacobian_is_a_numpy_scalar_as_jacobian_gives_it(x):
    # jit_jacobian returned 0-d arrays where jacobian returns NumPy scalars
    f = lambda z: (z**2, np.stack([z, 2 * z]))  # noqa: E731
    compiled = dd.jit_jacobian(f)
    for _ in range(2):  # traced, then the compiled signature's fast path
        jac = compiled(x)
        expected = dd.jacobian(f, x)
        assert type(jac[0]) is type(expected[0]) and jac[0] == expected[0] == 3.0
    g = dd.jit_jacobian(lambda z: z**2)
    assert [type(g(x)) for _ in range(2)] == [type(dd.jacobian(lambda z: z**2, x))] * 2
