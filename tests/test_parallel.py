"""Jacobian columns on workers: a local process pool, executors, map-like callables and a Dask
cluster give the same Jacobian as dualdiff.jacobian; worker failures surface unchanged."""

import concurrent.futures
import sys
import threading

import numpy as np
import pytest

import dualdiff
from dualdiff.parallel import Progress, dask_map, jacobian_columns
from dualdiff.sparse import SparseJacobian

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


def test_dask_worker_environ_sets_both_malloc_thresholds():
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")  # loads the defaults the settings amend
    from dualdiff.parallel import DASK_WORKER_ENVIRON

    with dask.config.set(DASK_WORKER_ENVIRON):
        environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))  # a copy
    # setting the trim threshold alone disables glibc's adaptive mmap threshold: both are needed
    assert environ["MALLOC_TRIM_THRESHOLD_"] >= 2**20
    assert environ["MALLOC_MMAP_THRESHOLD_"] >= 2**20
