"""Jacobian columns on workers: a local process pool, executors, map-like callables and a Dask
cluster give the same Jacobian as dualdiff.jacobian; worker failures surface unchanged."""

import concurrent.futures
import multiprocessing
import sys
import threading

import numpy as np
import pytest

import dualdiff
from dualdiff.engine.parallel import Progress, WorkerError, dask_map, jacobian_columns
from dualdiff.engine.sparse import SparseJacobian
from dualdiff.numeric import jacobian as numeric_jacobian

RNG = np.random.default_rng(11)
X = RNG.uniform(0.5, 1.5, 12)


def coupled(x):
    return np.sin(x) * x[::-1] + np.cumsum(x) ** 2


def tridiagonal(x):
    y = np.exp(x) * 2.0
    return np.concatenate([y[:1], y[1:-1] + x[:-2] * x[2:], y[-1:]])


def failing(x):
    raise ZeroDivisionError("boom in the worker")


@pytest.fixture(scope="module")
def pool():
    with concurrent.futures.ProcessPoolExecutor(2) as executor:
        yield executor


def test_process_pool_by_count():
    pytest.importorskip("cloudpickle")  # a lambda travels to the workers
    value, jac = jacobian_columns(lambda x: coupled(x) + 1.0, X, workers=2, chunk=3)
    np.testing.assert_allclose(jac, dualdiff.jacobian(coupled, X), rtol=1e-14)
    np.testing.assert_allclose(value, coupled(X) + 1.0)


def test_executor_and_map_like(pool):
    expected = dualdiff.jacobian(coupled, X)
    _, jac = jacobian_columns(coupled, X, workers=pool, chunk=5)
    np.testing.assert_allclose(jac, expected, rtol=1e-14)
    _, jac = jacobian_columns(coupled, X, workers=pool.map)
    np.testing.assert_allclose(jac, expected, rtol=1e-14)


def test_serial_chunks_and_nd_shapes():
    x = X.reshape(3, 4)
    f = lambda x: np.tanh(x.T) * x[:, 0]
    value, jac = jacobian_columns(f, x, chunk=5)
    assert jac.shape == (4, 3, 3, 4)
    np.testing.assert_allclose(jac, dualdiff.jacobian(f, x), rtol=1e-14)


def test_scalar_input():
    pytest.importorskip("cloudpickle")  # a lambda travels to the workers
    value, jac = jacobian_columns(lambda x: x**3, 2.0, workers=2)
    assert value == 8.0 and jac == 12.0 and np.ndim(jac) == 0


def test_sparse_jacobian_on_workers_reuses_its_pool():
    with SparseJacobian(tridiagonal, X, workers=2, chunk=1) as jac:
        for x in (X, X[::-1].copy()):
            np.testing.assert_allclose(jac(x), dualdiff.jacobian(tridiagonal, x), rtol=1e-14)
        assert jac._pool is not None
    assert jac._pool is None


def test_worker_exception_surfaces(pool):
    for workers in (2, pool, pool.map):
        with pytest.raises(ZeroDivisionError, match="boom in the worker"):
            jacobian_columns(failing, X, workers=workers)


def test_unpicklable_f_is_reported():
    lock = threading.Lock()
    with pytest.raises(TypeError, match="cannot be sent"):
        jacobian_columns(lambda x: x * (1.0 if lock else 2.0), X, workers=2)


def test_bad_workers_and_chunk():
    with pytest.raises(ValueError, match="workers"):
        jacobian_columns(coupled, X, workers=0)
    with pytest.raises(TypeError, match="workers"):
        jacobian_columns(coupled, X, workers="two")
    with pytest.raises(TypeError, match="workers"):
        jacobian_columns(coupled, X, workers=True)
    with pytest.raises(ValueError, match="chunk"):
        jacobian_columns(coupled, X, chunk=0)


def test_map_like_must_return_every_result():
    with pytest.raises(ValueError, match="results"):
        jacobian_columns(coupled, X, workers=lambda fn, tasks: [], chunk=4)


# -- progress ------------------------------------------------------------------------------------


def test_plain_progress_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    _, jac = jacobian_columns(coupled, X, progress=True)
    np.testing.assert_allclose(jac, dualdiff.jacobian(coupled, X), rtol=1e-14)
    err = capsys.readouterr().err
    assert "jacobian: 12/12 directions (100%)" in err


def test_plain_progress_is_periodic(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    bar = Progress(10, "columns", interval=3600.0)
    for _ in range(10):
        bar.update(1)
    bar.close()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [lines[-1]] and lines[-1].startswith("columns: 10/10")


def test_tqdm_progress(capsys):
    pytest.importorskip("tqdm")
    SparseJacobian(tridiagonal, X, progress=True, chunk=1)(X)
    assert "100%" in capsys.readouterr().err


def test_no_progress_is_silent(capsys):
    jacobian_columns(coupled, X)
    assert capsys.readouterr().err == ""


# -- Dask ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def test_dask_cluster(dask_client):
    expected = dualdiff.jacobian(coupled, X)
    _, jac = jacobian_columns(lambda x: coupled(x), X, workers=dask_client, chunk=4)
    np.testing.assert_allclose(jac, expected, rtol=1e-14)
    _, jac = jacobian_columns(coupled, X, workers=dask_map(dask_client), chunk=4)
    np.testing.assert_allclose(jac, expected, rtol=1e-14)
    with SparseJacobian(tridiagonal, X, workers=dask_client, chunk=1) as sparse:
        np.testing.assert_allclose(sparse(X), dualdiff.jacobian(tridiagonal, X), rtol=1e-14)


def test_dask_worker_exception_surfaces(dask_client):
    with pytest.raises(ZeroDivisionError, match="boom in the worker"):
        jacobian_columns(lambda x: failing(x), X, workers=dask_client, chunk=6)
    with pytest.raises(TwoArgumentError) as info:
        jacobian_columns(raises_two_argument_error, X, workers=dask_client, chunk=6)
    assert info.value.code == 42


def test_dask_worker_environ_sets_both_malloc_thresholds():
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")  # loads the defaults the settings amend
    from dualdiff.engine.parallel import DASK_WORKER_ENVIRON

    with dask.config.set(DASK_WORKER_ENVIRON):
        environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))  # a copy
    # setting the trim threshold alone disables glibc's adaptive mmap threshold: both are needed
    assert environ["MALLOC_TRIM_THRESHOLD_"] >= 2**20
    assert environ["MALLOC_MMAP_THRESHOLD_"] >= 2**20


# -- results exactly as in this process ------------------------------------------------------------


class TwoArgumentError(Exception):
    """pickle rebuilds an exception as cls(*args): this __init__ cannot take its args back."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class Unpicklable(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def raises_two_argument_error(x):
    raise TwoArgumentError("two arguments", 42)


def raises_unpicklable(x):
    raise Unpicklable("holds a lock")


@pytest.fixture(scope="module")
def mp_pool():
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with context.Pool(2) as mp_pool:
        yield mp_pool


def test_worker_exception_whose_init_takes_two_arguments(pool, mp_pool):
    # the pool could not unpickle it and broke: BrokenProcessPool instead of the exception
    for workers in (pool, pool.map, 2, mp_pool.map):
        with pytest.raises(TwoArgumentError, match="two arguments") as info:
            dualdiff.jacobian(raises_two_argument_error, X, workers=workers)
        assert info.value.args == ("two arguments",) and info.value.code == 42
        assert "raises_two_argument_error" in str(info.value.__cause__)  # the worker's traceback
    # the pool survives
    np.testing.assert_allclose(
        dualdiff.jacobian(coupled, X, workers=pool), dualdiff.jacobian(coupled, X), rtol=1e-14
    )


def test_worker_exception_of_a_local_class(pool):
    pytest.importorskip("cloudpickle")

    class Local(ValueError):
        def __init__(self, a, b):
            super().__init__(a, b)

    def f(x):
        raise Local("first", 2)

    with pytest.raises(ValueError) as info:
        dualdiff.jacobian(f, X, workers=pool)
    assert type(info.value).__name__ == "Local" and info.value.args == ("first", 2)


def test_worker_exception_that_cannot_come_back(pool):
    for workers in (pool, pool.map):
        with pytest.raises(WorkerError, match="Unpicklable: holds a lock") as info:
            dualdiff.jacobian(raises_unpicklable, X, workers=workers)
        assert info.value.type_name.endswith("Unpicklable")
        assert "raises_unpicklable" in info.value.traceback
        assert "raises_unpicklable" in str(info.value)


def test_worker_threads_raise_the_exception_itself():
    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        for f, error in ((raises_unpicklable, Unpicklable), (failing, ZeroDivisionError)):
            with pytest.raises(error) as info:
                dualdiff.jacobian(f, X, workers=threads)
            assert info.value.__cause__ is None  # not a copy: the very exception object
        np.testing.assert_allclose(
            dualdiff.jacobian(coupled, X, workers=threads, chunk=5),
            dualdiff.jacobian(coupled, X),
            rtol=1e-14,
        )


@pytest.mark.parametrize(
    ("f", "x", "shape"),
    [
        (lambda x: x * 2.0, np.ones(0), (0, 0)),
        (lambda x: np.concatenate([np.sum(x, keepdims=True), [1.0]]), np.ones(0), (2, 0)),
        (lambda x: np.sum(x), np.ones((2, 0)), (2, 0)),
        (lambda x: x[:0] * 2.0, X, (0, 12)),
        (lambda x: (x * 2.0).reshape(3, 4)[:, :0], X, (3, 0, 12)),
    ],
    ids=["empty-x", "empty-x-2-outputs", "empty-2d-x", "empty-output", "empty-2d-output"],
)
def test_empty_inputs_and_outputs(pool, f, x, shape):
    pytest.importorskip("cloudpickle")
    for options in ({"workers": pool}, {"workers": pool.map}, {"progress": True}):
        value, jac = dualdiff.value_and_jacobian(f, x, **options)
        assert jac.shape == shape and not jac.any()
        assert jac.dtype == dualdiff.jacobian(f, x).dtype
        np.testing.assert_array_equal(value, f(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_dtype_as_in_this_process(pool, dtype):
    x = (X[:5] + (0.5j if np.dtype(dtype).kind == "c" else 0)).astype(dtype)
    for f in (np.sin, lambda x: x * 2, lambda x: 2.0 * x + x[::-1] / 3):
        expected = f(x).dtype  # NumPy's dtype of f(x): a Python scalar does not promote
        derivative = dualdiff.jvp(f, x, np.ones_like(x))[1]
        assert derivative.dtype == expected
        for options in ({}, {"chunk": 2}, {"workers": pool}, {"workers": pool.map}):
            jac = dualdiff.jacobian(f, x, **options)
            assert jac.dtype == expected, options
            np.testing.assert_allclose(jac @ np.ones_like(x), derivative, rtol=1e-6)


def reversed_map(executor):
    """A map-like that returns the results in another order, as imap_unordered may."""
    return lambda fn, tasks: list(executor.map(fn, tasks))[::-1]


def test_results_in_any_order_are_placed_by_chunk(pool, mp_pool):
    expected = dualdiff.jacobian(coupled, X)
    for chunk in (1, 5):
        _, jac = jacobian_columns(coupled, X, workers=reversed_map(pool), chunk=chunk)
        np.testing.assert_allclose(jac, expected, rtol=1e-14)
    unordered = lambda fn, tasks: list(mp_pool.imap_unordered(fn, tasks))
    _, jac = jacobian_columns(coupled, X, workers=unordered, chunk=1)
    np.testing.assert_allclose(jac, expected, rtol=1e-14)


def test_a_missing_or_repeated_chunk_raises(pool):
    repeated = lambda fn, tasks: [fn(t) for t in list(tasks)[:1] * len(list(tasks))]

    def one_short(fn, tasks):
        return [fn(t) for t in list(tasks)[:-1]]

    def one_more(fn, tasks):
        tasks = list(tasks)
        return [fn(t) for t in tasks + tasks[:1]]

    with pytest.raises(ValueError, match="chunk 0 twice"):
        jacobian_columns(coupled, X, workers=repeated, chunk=4)
    with pytest.raises(ValueError, match=r"2 results for 3 tasks \(chunks \[2\] missing\)"):
        jacobian_columns(coupled, X, workers=one_short, chunk=4)
    with pytest.raises(ValueError, match="twice"):
        jacobian_columns(coupled, X, workers=one_more, chunk=4)
    with pytest.raises(ValueError, match="not the result of a task"):
        jacobian_columns(coupled, X, workers=lambda fn, tasks: [None for _ in tasks], chunk=4)


def two_outputs(x):
    return np.sin(x) * x[0], np.sum(x**2)


@pytest.mark.parametrize(
    "x", [X, X.reshape(3, 4), 1.3, np.array(1.3)], ids=["1d", "2d", "scalar", "0d"]
)
def test_tuple_scalar_and_nd_outputs_as_in_this_process(pool, x):
    for f in (two_outputs if np.ndim(x) else lambda x: (np.sin(x), x**2), np.sum, np.sin):
        ref_value, ref_jac = dualdiff.value_and_jacobian(f, x)
        for options in ({"workers": pool, "chunk": 5}, {"workers": pool.map}, {"progress": True}):
            value, jac = dualdiff.value_and_jacobian(f, x, **options)
            assert type(jac) is type(ref_jac) and type(value) is type(ref_value)
            for got, want in zip(
                jac if type(jac) is tuple else [jac],
                ref_jac if type(ref_jac) is tuple else [ref_jac],
            ):
                assert np.shape(got) == np.shape(want)
                np.testing.assert_allclose(got, want, rtol=1e-14)
    # independent reference for the tuple: closed forms
    if np.ndim(x) == 1:
        jac_sin, grad = dualdiff.jacobian(two_outputs, x, workers=pool)
        expected = np.diag(np.cos(x) * x[0])
        expected[:, 0] += np.sin(x)
        np.testing.assert_allclose(jac_sin, expected, rtol=1e-14)
        np.testing.assert_allclose(grad, 2 * x, rtol=1e-14)


def test_jacobian_on_workers_nested_in_a_derivative(pool):
    pytest.importorskip("cloudpickle")
    x0 = X[:4]
    # d/ds of J(s * x0) for f = sin: J = diag(cos(s x0)), d/ds = diag(-x0 sin(s x0))
    for workers in (pool, pool.map):
        got = dualdiff.derivative(lambda s: dualdiff.jacobian(np.sin, s * x0, workers=workers), 0.7)
        np.testing.assert_allclose(got, np.diag(-x0 * np.sin(0.7 * x0)), rtol=1e-14)
    # a Hessian: the Jacobian (on workers) of a gradient computed in each worker
    hess = dualdiff.jacobian(
        lambda x: dualdiff.gradient(lambda z: np.sum(z**3), x), x0, workers=pool
    )
    np.testing.assert_allclose(hess, np.diag(6 * x0), rtol=1e-14)


MATRIX_FUNCTIONS = {
    "elementwise": lambda x: np.sin(x) * 2 + x**2,
    "reduction": lambda x: np.sum(np.exp(x) * np.reshape(x, -1)[0]),
    "reshape": lambda x: np.reshape(x, -1)[::-1] * np.cumsum(np.reshape(x, -1)),
    "outer": lambda x: np.multiply.outer(np.reshape(x, -1), np.reshape(x, -1)[:2]),
    "where": lambda x: np.where(x > 1.0, x**3, np.cos(x)),
}
MATRIX_POINTS = {
    "0d": np.array(1.3),
    "scalar": 1.3,
    "1d": np.array([0.5, 0.8, 1.2, 1.4, 0.7]),  # away from the kink of "where" at 1
    "2d": np.linspace(0.5, 1.5, 6).reshape(2, 3),
    "f32": np.linspace(0.5, 1.5, 4).astype(np.float32),
}


@pytest.mark.parametrize("x_name", MATRIX_POINTS)
def test_workers_match_serial_and_numeric_differences(pool, x_name):
    # every combination of output kind, input shape, dtype, chunk size and kind of workers
    x = MATRIX_POINTS[x_name]
    for name, f in MATRIX_FUNCTIONS.items():
        ref_value, ref = dualdiff.value_and_jacobian(f, x)
        expected = numeric_jacobian(f, np.asarray(x, float))
        np.testing.assert_allclose(ref, expected, rtol=1e-3 if x_name == "f32" else 1e-7)
        for chunk, workers in ((1, pool), (2, pool.map), (None, reversed_map(pool))):
            value, jac = dualdiff.value_and_jacobian(f, x, chunk, workers=workers)
            assert type(jac) is type(ref) and np.shape(jac) == np.shape(ref), name
            assert np.asarray(jac).dtype == np.asarray(ref).dtype, name
            np.testing.assert_array_equal(jac, ref)
            np.testing.assert_array_equal(value, ref_value)


@pytest.mark.parametrize(
    "options", [{"workers": 1}, {"workers": 1, "chunk": 1}, {"progress": True}]
)
def test_errors_in_a_pass_name_jacobian(options, capsys):
    # a pass in run_passes went through push_forward, and its errors said "push_forward:"
    with pytest.raises(TypeError, match=r"^jacobian: f must return a number"):
        dualdiff.jacobian(lambda z: {"a": z}, np.ones(2), **options)
