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
lambdas and closures work. An exception in a worker is raised here as the original exception
(rebuilt from its class, ``args`` and attributes when its ``__init__`` cannot take its ``args``
back, which plain pickling needs), with the worker's traceback as its ``__cause__``; one that
cannot be sent at all raises ``WorkerError`` with its type name, message and traceback. Nothing
is returned half-filled. Every result carries its chunk's index and is placed by it, so a
map-like ``workers`` may return results in any order (``imap_unordered``); a chunk missing or
repeated raises. Each task also carries this process's tag clock (``dualdiff.core.tags``): a
differentiation in the worker nests correctly inside one here.

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

from ..arrays.dualarray import DualArray, strip
from ..core import errors, tags
from ..core.methods import same_strides
from ..dual.objects import plain_numbers
from ..rules.elementwise import is_dual
from .forward import _Assembly, _check_chunk, _map_blocks, dense_jacobian, seeded_pass

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
    "WorkerError",
]


# ---------------------------------------------------------------------------------------------
# Seeds: small picklable recipes, so a worker builds its own block instead of receiving it
# ---------------------------------------------------------------------------------------------


def fortran_blocks(seeds: np.ndarray) -> np.ndarray:
    """``seeds`` (one direction per entry of the first axis) with each direction's block in
    Fortran order: the tangent of a Fortran-ordered ``x`` is then viewed where its value is
    (``x.T.reshape(-1)``), as the dense pass's seeds are."""
    flipped = (0,) + tuple(range(seeds.ndim - 1, 0, -1))
    return np.ascontiguousarray(seeds.transpose(flipped)).transpose(flipped)


def is_fortran(x: Any) -> bool:
    """Whether ``x`` is a Fortran-ordered array of more than one dimension, not C-ordered too."""
    return (
        type(x) is np.ndarray and x.ndim > 1 and x.flags.f_contiguous and not x.flags.c_contiguous
    )


class IdentitySeeds:
    """Rows ``start:stop`` of the identity, shaped ``(stop - start,) + shape``: Jacobian columns
    (each in Fortran order when ``fortran``)."""

    def __init__(self, shape: tuple[int, ...], dtype: Any = float, fortran: bool = False) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.fortran = fortran

    def __call__(self, start: int, stop: int) -> np.ndarray:
        n = int(np.prod(self.shape))
        seeds = np.zeros((stop - start, n), self.dtype)
        seeds[np.arange(stop - start), np.arange(start, stop)] = 1.0
        seeds = seeds.reshape((stop - start,) + self.shape)
        return fortran_blocks(seeds) if self.fortran else seeds


class ColorSeeds:
    """For colours ``c`` in ``start:stop``, the sum of the unit vectors of the columns of colour
    ``c``: ``seeds[c - start].flat[j] = 1`` where ``colors[j] == c`` (each block in Fortran order
    when ``fortran``)."""

    def __init__(
        self, colors: np.ndarray, shape: tuple[int, ...], dtype: Any = float, fortran: bool = False
    ) -> None:
        self.colors = np.asarray(colors)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.fortran = fortran

    def __call__(self, start: int, stop: int) -> np.ndarray:
        block = self.colors[None, :] == np.arange(start, stop)[:, None]
        seeds = block.astype(self.dtype).reshape((stop - start,) + self.shape)
        return fortran_blocks(seeds) if self.fortran else seeds


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
    dumps, hint = _pickler()
    try:
        return dumps(f)
    except Exception as e:
        raise TypeError(f"{api}: f cannot be sent to the worker processes ({e}); {hint}") from e


class WorkerError(RuntimeError):
    """A worker raised an exception that could not be sent back as itself (it, its class or an
    attribute cannot be pickled, or it cannot be rebuilt): its type name, message and traceback.
    """

    def __init__(self, type_name: str, message: str, traceback: str, reason: str) -> None:
        super().__init__(
            f"a worker raised {type_name}: {message}\n(it could not be sent back as itself: "
            f"{reason})\n\nWorker traceback:\n{traceback}"
        )
        self.type_name = type_name
        self.message = message
        self.traceback = traceback


class _RemoteTraceback(Exception):
    """The traceback of an exception in a worker, as its ``__cause__`` (as concurrent.futures
    does)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


class _Failure:
    """An exception in a worker, packed so that unpickling it can never fail (the executor's
    result thread would otherwise break the whole pool): the exception pickled twice, as itself
    and as ``(class, args, attributes)`` for exceptions whose ``__init__`` does not take their
    ``args`` back, plus its type name, message and traceback text."""

    def __init__(self, exc: BaseException) -> None:
        import traceback

        self.type_name = f"{type(exc).__module__}.{type(exc).__qualname__}"
        try:
            self.message = str(exc)
        except Exception:
            self.message = "<str() of the exception failed>"
        self.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.pickled: list[bytes] = []
        self.reasons: list[str] = []
        self.original: BaseException | None = exc  # never pickled: for workers that are threads
        dumps = _pickler()[0]
        parts: tuple[Any, ...] = (type(exc), exc.args, getattr(exc, "__dict__", {}))
        for payload in (exc, parts):
            try:
                self.pickled.append(dumps(payload))
            except Exception as e:
                self.reasons.append(f"{type(e).__name__}: {e}")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "original": None}

    def exception(self) -> BaseException:
        """The worker's exception, rebuilt here; a ``WorkerError`` if that is impossible."""
        if self.original is not None:  # a worker thread of this process: the exception itself
            return self.original
        reasons = list(self.reasons)
        for payload in self.pickled:
            try:
                exc = pickle.loads(payload)
                if type(exc) is tuple:
                    cls, args, attributes = exc
                    # BaseException.__new__ stores args without calling __init__, whose
                    # signature may differ from args (the case pickle cannot handle)
                    exc = cls.__new__(cls, *args)
                    exc.args = args
                    exc.__dict__.update(attributes)
            except Exception as e:
                reasons.append(f"{type(e).__name__}: {e}")
                continue
            if isinstance(exc, BaseException):
                exc.__cause__ = _RemoteTraceback(self.traceback)
                return exc
            reasons.append(f"unpickling gave {errors.type_name(exc)}")
        return WorkerError(self.type_name, self.message, self.traceback, "; ".join(reasons))


def _run_task(task: tuple[Any, ...]) -> Any:
    """One chunk in a worker: ``push_forward`` with the seeds of directions ``start:stop``.

    Returns ``(index, value, tangents)``, or a ``_Failure`` if anything raised: the pool then
    never has to carry (and fail to unpickle) the exception itself.
    """
    f_bytes, x, seeds, start, stop, index, clock, api = task
    try:
        # a differentiation here nests inside the caller's (f may close over its duals): its
        # tags must be newer than every tag of the sender, whatever this process did before
        tags.advance(clock)
        x = x.array() if type(x) is _Laid else x
        value, tangents = seeded_pass(pickle.loads(f_bytes), x, seeds(start, stop), api)
    except Exception as e:
        return _Failure(e)
    return index, value, tangents


class _Laid:
    """A strided array as a worker gets it: pickled, an ndarray comes back contiguous, and
    NumPy's view-or-copy decisions (``x.reshape(-1)`` of the rows ``a[:, :3]`` copies, of a
    contiguous copy of them views) would differ from the caller's."""

    def __init__(self, buffer: np.ndarray, shape: Any, strides: Any, offset: int) -> None:
        self.buffer, self.shape, self.strides, self.offset = buffer, shape, strides, offset

    @staticmethod
    def of(x: Any) -> Any:
        """``x`` itself, or wrapped when its strides are neither C's nor Fortran's."""
        if type(x) is not np.ndarray or x.flags.c_contiguous or x.flags.f_contiguous:
            return x
        itemsize, strides = x.itemsize, x.strides
        if any(s % itemsize for s in strides) or 0 in strides:
            return x  # (overlapping or odd strides: sent as they are, copied contiguous)
        low = sum(s * (n - 1) for s, n in zip(strides, x.shape) if s < 0) // itemsize
        high = sum(s * (n - 1) for s, n in zip(strides, x.shape) if s > 0) // itemsize
        # the whole buffer goes with the offset of x's first element: negative strides reach
        # before it (a slice from there on, pickled, would lose what lies before)
        laid = _Laid(np.zeros(high - low + 1, x.dtype), x.shape, strides, -low)
        laid.array()[...] = x
        return laid

    def array(self) -> np.ndarray:
        start = self.buffer[self.offset :]
        return np.lib.stride_tricks.as_strided(start, self.shape, self.strides)


def _pickler() -> tuple[Callable[[Any], bytes], str]:
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps, "install cloudpickle, or define f at module level"
    return cloudpickle.dumps, "f must not hold open files, locks or similar unpicklable objects"


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
    x: Any,
    seeds: Callable[[int, int], np.ndarray],
    count: int,
    *,
    workers: Any = None,
    chunk: int | None = None,
    progress: bool = False,
    api: str = "jacobian",
    sequences: bool = False,
) -> tuple[Any, Any]:
    """``(f(x), tangents)`` for ``count`` directions, ``tangents.shape == (count,) + f(x).shape``.

    ``seeds(start, stop)`` builds the seeds of directions ``start:stop`` (shape ``(stop - start,)
    + x.shape``); each chunk of ``chunk`` directions is one ``push_forward`` pass, run on
    ``workers`` (see the module notes). ``f`` must return a single array, unless ``sequences``:
    then ``f`` may return a tuple or list, and the tangents come back as a list of per-chunk
    blocks (``(stop - start,) + f(x).shape`` each, or tuples of them) in direction order.
    """
    errors.check_callable(f, api)
    workers = _check_workers(workers, api)
    chunk = _check_chunk(chunk, api)
    if chunk is None:
        chunk = _default_chunk(count, workers, progress)
    ranges = _chunks(count, chunk)
    bar = Progress(count, api) if progress else _NoProgress()
    try:
        if workers is None or workers == 1:
            results = []
            for start, stop in ranges:
                results.append(seeded_pass(f, x, seeds(start, stop), api))
                bar.update(stop - start)
        else:
            f_bytes, clock = _dumps(f, api), tags.clock()
            sent = _Laid.of(x)
            tasks = [
                (f_bytes, sent, seeds, start, stop, index, clock, api)
                for index, (start, stop) in enumerate(ranges)
            ]
            results = _run_on_workers(workers, tasks, ranges, bar, api)
    finally:
        bar.close()
    value = results[0][0]
    blocks = [r[1] for r in results]
    if sequences:
        return value, blocks
    for block in blocks:
        if type(block) in (tuple, list):
            raise TypeError(f"{api}: f must return a single array, not a {type(block).__name__}")
    tangents = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    return value, tangents


def _run_on_workers(
    workers: Any, tasks: list[Any], ranges: list[Any], bar: Any, api: str
) -> list[Any]:
    """``(value, tangents)`` of every task, in task order; the first failure is raised."""
    if isinstance(workers, int):
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            results = _run_futures(pool.submit, tasks, ranges, bar)
    elif isinstance(workers, concurrent.futures.Executor):
        results = _run_futures(workers.submit, tasks, ranges, bar)
    elif _is_dask_client(workers):
        from distributed import as_completed

        futures = workers.map(_run_task, tasks, pure=False)
        try:
            for future in as_completed(futures):
                _raise_failure(future.result())
                bar.update(_span(ranges[futures.index(future)]))
            results = workers.gather(futures)
        finally:
            workers.cancel([fut for fut in futures if not fut.done()])
    else:
        results = list(workers(_run_task, tasks))
        for result in results:
            _raise_failure(result)
        bar.update(sum(_span(r) for r in ranges))
    return _in_order(results, len(tasks), api)


def _raise_failure(result: Any) -> None:
    if isinstance(result, _Failure):
        raise result.exception()


def _in_order(results: list[Any], count: int, api: str) -> list[Any]:
    """Results placed by the chunk index each carries: a map-like ``workers`` may return them in
    any order (``imap_unordered``), but must return each chunk exactly once."""
    placed: list[Any] = [None] * count
    for result in results:
        _raise_failure(result)
        index = result[0] if type(result) is tuple and len(result) == 3 else None
        if type(index) is not int or not 0 <= index < count:
            raise ValueError(
                f"{api}: workers returned {errors.type_name(result)}, not the result of a task"
            )
        if placed[index] is not None:
            raise ValueError(f"{api}: workers returned the result of chunk {index} twice")
        placed[index] = result[1:]
    missing = [i for i, r in enumerate(placed) if r is None]
    if missing or len(results) != count:
        raise ValueError(
            f"{api}: workers returned {len(results)} results for {count} tasks"
            + (f" (chunks {missing[:10]} missing)" if missing else "")
        )
    return placed


def _run_futures(submit: Any, tasks: Any, ranges: Any, bar: Any) -> list[Any]:
    futures = [submit(_run_task, task) for task in tasks]
    index = {future: i for i, future in enumerate(futures)}
    try:
        for future in concurrent.futures.as_completed(futures):
            _raise_failure(future.result())
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
) -> tuple[Any, Any]:
    """``(f(x), J)`` with ``J.shape == f(x).shape + x.shape``, columns evaluated on ``workers``.

    Each chunk of ``chunk`` Jacobian columns is one forward pass seeded with rows of the
    identity; the chunks run in parallel and are assembled in order. The result is what
    ``jacobian(f, x)`` gives in this process: its shape, dtype, and tuples where ``f`` returns
    a tuple.
    """
    if isinstance(x, (float, complex, int, np.number)) and not isinstance(x, bool):
        # one column, and f must get a scalar (views of it are new arrays): as jacobian() does it
        errors.check_callable(f, "jacobian")
        _check_workers(workers, "jacobian")
        return dense_jacobian(f, x)
    if type(x) is not DualArray:  # a DualArray: a jacobian nested inside another derivative
        x = _input(x, "jacobian")
    if np.size(strip(x)) == 0:  # no columns, nothing to send: as jacobian() does it
        errors.check_callable(f, "jacobian")
        _check_workers(workers, "jacobian")
        return dense_jacobian(f, x)
    # the seeds have x's own dtype, as in jacobian(): float32 stays float32, complex64 complex64
    seeds = IdentitySeeds(np.shape(strip(x)), strip(x).dtype, is_fortran(x))
    size = int(np.size(strip(x)))
    value, blocks = run_passes(
        f, x, seeds, size, workers=workers, chunk=chunk, progress=progress, sequences=True
    )
    if len(blocks) == 1:  # one pass: its tangents, transposed as a view, are the Jacobian
        return value, _map_blocks(blocks, np.shape(strip(x)))
    # written into the preallocated result block by block, each dropped once written
    assembly, start = _Assembly(np.shape(strip(x))), 0
    for i in range(len(blocks)):
        block, blocks[i] = blocks[i], None
        assembly.add(start, block)
        start = assembly.filled
    return value, assembly.result()


def _input(x: Any, api: str) -> np.ndarray:
    if is_dual(x):
        raise TypeError(
            f"{api}: x is a {errors.type_name(x)} of an enclosing differentiation, which a "
            "sparse Jacobian (and a parallel one, but at a DualArray) does not take; nest it "
            "the other way round, or inside use dd.jacobian(f, x) (output='dense', no workers=)"
        )
    if type(x) is tuple or isinstance(x, (bool, np.bool_)):  # refused as jacobian() does
        raise TypeError(
            f"{api}: x must be a real or complex number or an array, got {errors.type_name(x)}"
        )
    errors.check_plain_array(x, api)
    # a copy in x's own layout, strides included: NumPy's view-or-copy decisions depend on it
    # (x.reshape(-1) of the rows a[:, :3] copies, of a contiguous copy of them views)
    arr = same_strides(x) if type(x) is np.ndarray else np.array(x)
    if arr.dtype.kind == "O":  # plain numbers in an object array: as jacobian() takes them
        arr = plain_numbers(arr)
    if arr.dtype.kind in "biu":
        arr = arr.astype(float)
    elif arr.dtype.kind not in "fc":
        raise TypeError(f"{api}: x must hold real or complex numbers, got dtype {arr.dtype}")
    return arr
