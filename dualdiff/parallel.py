"""Forward passes over many tangent directions, in chunks, serially or on workers, with progress.

A Jacobian (dense, or compressed by colours) is a stack of forward passes ``push_forward(f, x,
seeds)``. ``run_passes`` splits the directions into chunks and evaluates each chunk in one pass,
on the workers given, then assembles the tangents in order. ``workers`` follows SciPy's
convention:

* ``None`` or ``1``: in this process;
* an int ``w > 1``: a local process pool of ``w`` processes (``-1``: one per CPU);
* a map-like callable, ``workers(function, tasks) -> results`` (``multiprocessing.Pool.map``,
  ``concurrent.futures.Executor.map``, or ``dask_map(client)`` for a Dask cluster);
* a ``concurrent.futures.Executor`` or a ``dask.distributed.Client`` (with live progress).

``f`` travels to the workers pickled by cloudpickle when it is installed (as Dask does), so
lambdas and closures work. An exception in a worker is raised here as the original exception,
and nothing is returned half-filled.

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also switches off glibc's
adaptive mmap threshold: every temporary array over 128 KiB is then mapped and unmapped afresh,
and a forward pass with several directions ran 3× slower in a worker than here (0.17 s against
0.05 s). Start the cluster under ``dask.config.set(DASK_WORKER_ENVIRON)`` to avoid that.
"""

from __future__ import annotations

import concurrent.futures
import numbers
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import errors

DASK_WORKER_ENVIRON = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 64 * 2**20,
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 32 * 2**20,
}
"""Dask settings for worker processes that keep large temporary arrays cheap: pass to
``dask.config.set`` around ``LocalCluster(...)`` (measured: 0.06 s per pass instead of 0.17 s)."""

__all__ = [
    "DASK_WORKER_ENVIRON",
    "run_passes",
    "jacobian_columns",
    "IdentitySeeds",
    "ColorSeeds",
    "Progress",
    "dask_map",
]


# ---------------------------------------------------------------------------------------------
# Seeds: small picklable recipes, so a worker builds its own block instead of receiving it
# ---------------------------------------------------------------------------------------------


class IdentitySeeds:
    """Rows ``start:stop`` of the identity, shaped ``(stop - start,) + shape``: Jacobian columns."""

    def __init__(self, shape: tuple[int, ...], dtype: Any = float) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __call__(self, start: int, stop: int) -> np.ndarray:
        n = int(np.prod(self.shape))
        seeds = np.zeros((stop - start, n), self.dtype)
        seeds[np.arange(stop - start), np.arange(start, stop)] = 1.0
        return seeds.reshape((stop - start,) + self.shape)


class ColorSeeds:
    """For colours ``c`` in ``start:stop``, the sum of the unit vectors of the columns of colour
    ``c``: ``seeds[c - start].flat[j] = 1`` where ``colors[j] == c``."""

    def __init__(self, colors: np.ndarray, shape: tuple[int, ...], dtype: Any = float) -> None:
        self.colors = np.asarray(colors)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __call__(self, start: int, stop: int) -> np.ndarray:
        block = self.colors[None, :] == np.arange(start, stop)[:, None]
        return block.astype(self.dtype).reshape((stop - start,) + self.shape)


# ---------------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------------


class Progress:
    """A progress report over ``total`` directions: a tqdm bar when tqdm is installed, else a
    plain line on stderr at most every ``interval`` seconds (and at the end)."""

    def __init__(self, total: int, desc: str = "jacobian", interval: float = 1.0) -> None:
        self.total = total
        self.desc = desc
        self.done = 0
        self.interval = interval
        self._last = time.monotonic()
        self._start = self._last
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
        else:
            self._bar = tqdm(total=total, desc=desc, unit="dir")

    def update(self, k: int) -> None:
        self.done += k
        if self._bar is not None:
            self._bar.update(k)
            return
        now = time.monotonic()
        if now - self._last >= self.interval or self.done >= self.total:
            self._last = now
            percent = 100.0 * self.done / max(self.total, 1)
            print(
                f"{self.desc}: {self.done}/{self.total} directions ({percent:.0f}%), "
                f"{now - self._start:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _NoProgress:
    def update(self, k: int) -> None:
        pass

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------------


def dask_map(client: Any) -> Callable[[Callable[..., Any], Iterable[Any]], list[Any]]:
    """A map-like callable that runs tasks on a ``dask.distributed.Client`` and gathers them.

    ``workers=dask_map(client)`` and ``workers=client`` do the same, except that passing the
    client itself lets ``progress=True`` follow the tasks as they finish.
    """

    def map_on_cluster(function: Callable[..., Any], tasks: Iterable[Any]) -> list[Any]:
        return client.gather(client.map(function, list(tasks), pure=False))

    return map_on_cluster


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__name__ == "Client" and hasattr(obj, "gather") and hasattr(obj, "submit")


def _check_workers(workers: Any, api: str) -> Any:
    if workers is None or callable(workers) or _is_dask_client(workers):
        return workers
    if isinstance(workers, concurrent.futures.Executor):
        return workers
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(
            f"{api}: workers must be an int, a map-like callable, an Executor or a Dask Client, "
            f"got {errors.type_name(workers)}"
        )
    workers = int(workers)
    if workers == -1:
        return os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"{api}: workers must be >= 1 or -1 (one per CPU), got {workers}")
    return workers


def _dumps(f: Callable[..., Any], api: str) -> bytes:
    """``f`` pickled for another process: by cloudpickle when installed (lambdas, closures)."""
    try:
        import cloudpickle
    except ImportError:
        dumps = pickle.dumps
        hint = "install cloudpickle, or define f at module level"
    else:
        dumps = cloudpickle.dumps
        hint = "f must not hold open files, locks or similar unpicklable objects"
    try:
        return dumps(f)
    except Exception as e:
        raise TypeError(f"{api}: f cannot be sent to the worker processes ({e}); {hint}") from e


def _run_task(task: tuple[bytes, np.ndarray, Callable[..., Any], int, int]) -> tuple[Any, Any]:
    """One chunk in a worker: ``push_forward`` with the seeds of directions ``start:stop``."""
    from .api import push_forward

    f_bytes, x, seeds, start, stop = task
    return push_forward(pickle.loads(f_bytes), x, seeds(start, stop))


def _chunks(count: int, chunk: int) -> list[tuple[int, int]]:
    return [(start, min(count, start + chunk)) for start in range(0, count, chunk)] or [(0, 0)]


def _default_chunk(count: int, workers: Any, progress: bool) -> int:
    if workers is None or workers == 1:
        pieces = min(count, 20) if progress else 1
    elif isinstance(workers, int):
        pieces = 2 * workers  # two chunks per process evens out uneven finishing times
    else:
        pieces = 16
    return max(1, -(-count // max(pieces, 1)))


def run_passes(
    f: Callable[..., Any],
    x: np.ndarray,
    seeds: Callable[[int, int], np.ndarray],
    count: int,
    *,
    workers: Any = None,
    chunk: int | None = None,
    progress: bool = False,
    api: str = "jacobian",
) -> tuple[Any, np.ndarray]:
    """``(f(x), tangents)`` for ``count`` directions, ``tangents.shape == (count,) + f(x).shape``.

    ``seeds(start, stop)`` builds the seeds of directions ``start:stop`` (shape ``(stop - start,)
    + x.shape``); each chunk of ``chunk`` directions is one ``push_forward`` pass, run on
    ``workers`` (see the module notes). ``f`` must return a single array.
    """
    errors.check_callable(f, api)
    workers = _check_workers(workers, api)
    if chunk is None:
        chunk = _default_chunk(count, workers, progress)
    elif isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1:
        raise ValueError(f"{api}: chunk must be a positive integer or None, got {chunk!r}")
    ranges = _chunks(count, int(chunk))
    bar = Progress(count, api) if progress else _NoProgress()
    try:
        if workers is None or workers == 1:
            from .api import push_forward

            results = []
            for start, stop in ranges:
                results.append(push_forward(f, x, seeds(start, stop)))
                bar.update(stop - start)
        else:
            tasks = [(_dumps(f, api), x, seeds, start, stop) for start, stop in ranges]
            results = _run_on_workers(workers, tasks, ranges, bar)
    finally:
        bar.close()
    value = results[0][0]
    blocks = [r[1] for r in results]
    for block in blocks:
        if type(block) in (tuple, list):
            raise TypeError(f"{api}: f must return a single array, not a {type(block).__name__}")
    tangents = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    return value, tangents


def _run_on_workers(workers: Any, tasks: list[Any], ranges: list[Any], bar: Any) -> list[Any]:
    """The results of ``_run_task`` over ``tasks``, in order; the first failure is raised."""
    if isinstance(workers, int):
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            return _run_futures(pool.submit, tasks, ranges, bar, concurrent.futures.as_completed)
    if isinstance(workers, concurrent.futures.Executor):
        return _run_futures(workers.submit, tasks, ranges, bar, concurrent.futures.as_completed)
    if _is_dask_client(workers):
        from distributed import as_completed

        futures = workers.map(_run_task, tasks, pure=False)
        try:
            for future in as_completed(futures):
                future.result()  # raises the worker's exception
                bar.update(_span(ranges[futures.index(future)]))
            return workers.gather(futures)
        finally:
            workers.cancel([fut for fut in futures if not fut.done()])
    results = list(workers(_run_task, tasks))
    if len(results) != len(tasks):
        raise ValueError(f"workers returned {len(results)} results for {len(tasks)} tasks")
    bar.update(sum(_span(r) for r in ranges))
    return results


def _run_futures(submit: Any, tasks: Any, ranges: Any, bar: Any, as_completed: Any) -> list[Any]:
    futures = [submit(_run_task, task) for task in tasks]
    index = {future: i for i, future in enumerate(futures)}
    try:
        for future in as_completed(futures):
            future.result()
            bar.update(_span(ranges[index[future]]))
    finally:
        for future in futures:
            future.cancel()
    return [future.result() for future in futures]


def _span(r: tuple[int, int]) -> int:
    return r[1] - r[0]


# ---------------------------------------------------------------------------------------------
# Dense Jacobian columns
# ---------------------------------------------------------------------------------------------


def jacobian_columns(
    f: Callable[..., Any],
    x: Any,
    *,
    workers: Any = None,
    chunk: int | None = None,
    progress: bool = False,
) -> tuple[Any, np.ndarray]:
    """``(f(x), J)`` with ``J.shape == f(x).shape + x.shape``, columns evaluated on ``workers``.

    Each chunk of ``chunk`` Jacobian columns is one forward pass seeded with rows of the
    identity; the chunks run in parallel and are assembled in order.
    """
    x = _input(x, "jacobian")
    dtype = np.result_type(x, float)
    value, tangents = run_passes(
        f, x, IdentitySeeds(x.shape, dtype), x.size, workers=workers, chunk=chunk, progress=progress
    )
    out_shape = np.shape(value)
    jac = np.reshape(tangents, (x.size, -1)).T.reshape(out_shape + x.shape).copy()
    return value, jac[()] if jac.ndim == 0 else jac


def _input(x: Any, api: str) -> np.ndarray:
    arr = np.array(x)
    if arr.dtype.kind in "biu":
        arr = arr.astype(float)
    elif arr.dtype.kind not in "fc":
        raise TypeError(f"{api}: x must hold real or complex numbers, got dtype {arr.dtype}")
    return arr
