"""Sparse Jacobians by colouring: one forward pass per colour instead of one per column.

With a colouring of the columns (``dualdiff.sparsity.coloring``), seed ``s_c`` sums the unit vectors
of colour ``c`` and the compressed Jacobian ``B = J S`` has one column per colour. Each non-zero is
read back directly: ``J[i, j] = B[i, colour[j]]``, since no other column of that colour has a
non-zero in row ``i``. A banded Jacobian thus costs a handful of directions at any size.

``SparseJacobian(f, x_example)`` detects the pattern and colours once; calling it at new points
(Newton iterations) only runs the compressed passes and the recovery.
"""

from __future__ import annotations

import concurrent.futures
import math
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import errors
from ..dual.seed import is_sequence
from ..rules.elementwise import is_dual
from ..sparsity.coloring import ORDERS, color_candidates, color_columns
from ..sparsity.tracer import (
    Pattern,
    _scipy_sparse,
    run_dependencies,
    trace_decisions,
    warn_value_dependent,
)
from .forward import _check_chunk, _owned, _push, dense_jacobian
from .jit import _layout, compiled_push_forward
from .parallel import (
    ColorSeeds,
    _check_workers,
    _input,
    fortran_blocks,
    is_fortran,
    jacobian_columns,
    run_passes,
)

__all__ = ["SparseJacobian", "sparse_jacobian", "compressed_jacobian", "recover"]

_OUTPUTS = ("dense", "sparse")


def compressed_jacobian(
    f: Callable[..., Any],
    x: Any,
    colors: Any,
    *,
    workers: Any = None,
    chunk: int | None = None,
    progress: bool = False,
) -> tuple[Any, np.ndarray]:
    """``(f(x), B)`` with ``B[c] = J @ s_c`` of shape ``(ncolors,) + f(x).shape``, where ``s_c``
    is 1 on the columns of colour ``c`` (``colors`` has one integer per entry of ``x``)."""
    x = _input(x, "compressed_jacobian")
    colors = np.asarray(colors).ravel()
    if colors.size != x.size:
        raise ValueError(
            f"compressed_jacobian: {colors.size} colours given for an x of size {x.size}"
        )
    count = int(colors.max()) + 1 if colors.size else 0
    seeds = ColorSeeds(colors, x.shape, x.dtype, is_fortran(x))
    return run_passes(
        f, x, seeds, count, workers=workers, chunk=chunk, progress=progress, api="jacobian"
    )


def recover(
    compressed: np.ndarray,
    pattern: Pattern,
    colors: np.ndarray,
    out_shape: tuple[int, ...] | None = None,
    in_shape: tuple[int, ...] | None = None,
    output: str = "dense",
) -> Any:
    """The Jacobian from its compressed form: ``J[i, j] = B[colour[j], i]`` on the pattern.

    ``output="dense"`` gives an ndarray of shape ``out_shape + in_shape`` (zeros off the
    pattern); ``"sparse"`` a ``scipy.sparse.csr_array`` of shape ``(m, n)``. A row that a
    colour without its entries shows NaN (or inf) has that value off the pattern, as a dense
    pass gives it; a row with entries in every colour keeps its entries only (``SparseJacobian``
    asks a pass with a zero seed there).
    """
    return _Recovery(pattern, colors)(compressed, out_shape, in_shape, output)


class _Recovery:
    """The index arithmetic of ``recover``, done once for a pattern and colouring."""

    def __init__(self, pattern: Pattern, colors: np.ndarray) -> None:
        m, n = pattern.shape
        rows = pattern.rows()
        self.pattern = pattern
        self.rows = rows  # the row of every stored entry
        self.take = colors[pattern.indices] * m + rows  # where J[i, j] sits in B.ravel()
        self.place = rows * n + pattern.indices  # where it sits in J.ravel()
        # ... and in B with the colours last (the layout of a compiled pass)
        self.take_last = rows * (int(colors.max(initial=-1)) + 1) + colors[pattern.indices]
        for index in (self.take, self.place, self.take_last, self.rows):
            index.flags.writeable = False  # shared by every object prepared from the pattern
        self.colors = colors
        self._seeds: dict[Any, _Block] = {}

    def seeds(self, shape: tuple[int, ...], dtype: np.dtype, fortran: bool = False) -> _Block:
        """The colour seeds for an ``x`` of this shape and dtype (built once, read-only); each
        direction's block in Fortran order for a Fortran-ordered ``x``, so that what views the
        value (``x.T.reshape(-1)``) views the tangent too, as the dense pass's seeds do."""
        key = (shape, dtype.str, fortran)
        block = self._seeds.get(key)
        if block is None:
            count = int(self.colors.max()) + 1 if self.colors.size else 0
            seeds = ColorSeeds(self.colors, shape, dtype, fortran)(0, count)
            block = self._seeds[key] = _Block(seeds, fortran)
        return block

    def __call__(
        self,
        compressed: np.ndarray,
        out_shape: tuple[int, ...] | None = None,
        in_shape: tuple[int, ...] | None = None,
        output: str = "dense",
        colors_last: bool = False,
        zero: Callable[[], np.ndarray] | None = None,
    ) -> Any:
        m, n = self.pattern.shape
        flat = np.reshape(compressed, -1)
        take = self.take_last if colors_last else self.take
        data = flat[take] if take.size else np.zeros(0, flat.dtype)
        fill = self._off_pattern(flat, data, colors_last, zero) if flat.size else None
        if output == "sparse":
            sparse = _scipy_sparse("output='sparse'")
            if fill is not None:
                return sparse.csr_array(_rows_filled(self.pattern, data, fill), (m, n))
            # the matrix gets index arrays of its own: the pattern's are shared by every call
            indices, indptr = self.pattern.indices.copy(), self.pattern.indptr.copy()
            return sparse.csr_array((data, indices, indptr), shape=(m, n))
        jac = np.zeros(m * n, dtype=flat.dtype)
        if fill is not None:
            rows = np.flatnonzero(fill[1])
            jac.reshape(m, n)[rows] = fill[0][rows, None]
        jac[self.place] = data
        out_shape = (m,) if out_shape is None else out_shape
        in_shape = (n,) if in_shape is None else in_shape
        jac = jac.reshape(tuple(out_shape) + tuple(in_shape))
        return jac if jac.ndim else jac[()]  # a NumPy scalar, as jacobian gives it

    def _off_pattern(
        self,
        flat: np.ndarray,
        data: np.ndarray,
        colors_last: bool,
        zero: Callable[[], np.ndarray] | None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """What the dense pass gives off the pattern, where that is not zero: ``(values,
        rows)``, a row's value and whether it is taken, or None when every row's is zero.

        A dense pass's direction off row ``i``'s pattern gives row ``i`` the tangent it has
        when every input tangent it depends on is zero: zero, or NaN where that row's
        computation multiplies a NaN or infinite value by a zero tangent (np.mean of an empty
        slice, 0/0; sqrt(x0) * x1 at x0 < 0). A NaN or infinite partial on the pattern (sqrt'
        at 0, log' at -1 of log1p) is that entry's alone. A colour with none of row ``i``'s
        entries is such a direction; a row with entries in every colour, all of them not
        finite, cannot tell them apart: ``zero()`` (a pass with a zero seed) tells, or,
        without it, the row keeps its entries only."""
        if np.isfinite(flat.sum()):  # one sum finds whether anything is NaN or infinite
            return None
        m = self.pattern.shape[0]
        block = flat.reshape(m, -1).T if colors_last else flat.reshape(-1, m)
        bad = ~np.isfinite(block)  # (colours, rows)
        held = np.zeros(bad.shape, dtype=bool)  # whether colour c holds one of row i's entries
        held[self.colors[self.pattern.indices], self.rows] = True
        free = bad & ~held
        taken = free.any(axis=0)
        values = block[free.argmax(axis=0), np.arange(m)]
        unsure = np.flatnonzero(held.all(axis=0) & bad.all(axis=0))
        if unsure.size and zero is not None:
            tangent = np.reshape(zero(), -1)
            unsure = unsure[~np.isfinite(tangent[unsure])]
            values[unsure] = tangent[unsure]
            taken[unsure] = True
        if not taken.any():
            return None
        return values, taken


def _rows_filled(
    pattern: Pattern, data: np.ndarray, fill: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(data, indices, indptr)`` of a CSR matrix: the pattern's entries, with the rows taken
    in ``fill`` (see ``_Recovery._off_pattern``) stored whole, their value off the pattern."""
    values, taken = fill
    m, n = pattern.shape
    rows = pattern.rows()
    kept = ~taken[rows]
    bad = np.flatnonzero(taken)
    full = np.repeat(values[bad, None], n, axis=1)
    rank = np.cumsum(taken) - 1  # a filled row's place among the filled rows
    full[rank[rows[~kept]], pattern.indices[~kept]] = data[~kept]
    all_rows = np.concatenate((rows[kept], np.repeat(bad, n)))
    all_cols = np.concatenate((pattern.indices[kept], np.tile(np.arange(n), bad.size)))
    order = np.lexsort((all_cols, all_rows))
    indptr = np.concatenate(([0], np.cumsum(np.bincount(all_rows, minlength=m))))
    merged = np.concatenate((data[kept], full.ravel()))[order]
    indices = all_cols[order].astype(pattern.indices.dtype)
    return merged, indices, indptr.astype(pattern.indptr.dtype)


class SparseJacobian:
    """A Jacobian of ``f`` prepared for repeated evaluation: pattern and colouring found once.

    ``J = SparseJacobian(f, x0)`` traces the non-zero pattern of ``f``'s Jacobian at ``x0``,
    colours its columns (no two columns of one colour share a row) and then computes the whole
    Jacobian at any point of ``x0``'s shape with one forward pass per colour: ``J(x)``, or
    ``J.value_and_jacobian(x)`` for ``f(x)`` too.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning an array.
    x_example : array_like
        A point of the shape (and dtype) of the later ones; the pattern is traced here.
    sparsity : "auto", array_like or scipy.sparse matrix, optional
        ``"auto"`` (traced by :func:`jacobian_sparsity`), or the pattern as a boolean array (2-D
        ``(f(x).size, x.size)`` or ``f(x).shape + x.shape``) or a ``scipy.sparse`` matrix. A given
        pattern must cover every non-zero: entries outside it are not computed.
    order : str, optional
        The column ordering of the greedy colouring (default ``"best"``: the fewest colours of
        several orderings).
    output : {"dense", "sparse"}, optional
        ``"dense"``: an ndarray of shape ``f(x).shape + x.shape``; ``"sparse"``: a
        ``scipy.sparse.csr_array`` of shape ``(f(x).size, x.size)``.
    workers, chunk, progress
        As in :func:`value_and_jacobian`; an integer ``workers`` keeps its process pool until
        ``close()``.
    jit : bool, optional
        Compile the compressed pass to straight-line NumPy, as :func:`jit_jacobian` does.

    Attributes
    ----------
    pattern
        The non-zero pattern (compressed rows; ``pattern.nnz`` non-zeros).
    colors : ndarray of int
        The colour of each column (input).
    ncolors : int
        The number of colours: forward directions per Jacobian.

    Warns
    -----
    ValueDependentPatternWarning
        When the traced pattern holds at ``x_example`` only (``f`` decided in Python on the values
        of ``x``); the pattern is then traced again at every new point (the colouring is redone when
        a new non-zero appears).

    See Also
    --------
    jacobian_sparsity : the pattern alone.
    jacobian : with ``sparsity=`` for a single point.

    Examples
    --------
    >>> J = dd.SparseJacobian(lambda x: x[1:] * x[:-1], np.ones(4))
    >>> J.ncolors  # 2 forward passes, whatever the size of x
    2
    >>> value, jac = J.value_and_jacobian(np.array([0.0, 1.0, 2.0, 3.0]))
    >>> jac
    array([[1., 0., 0., 0.],
           [0., 2., 1., 0.],
           [0., 0., 3., 2.]])
    """

    def __init__(
        self,
        f: Callable[..., Any],
        x_example: Any,
        sparsity: Any = "auto",
        *,
        order: str = "best",
        output: str = "dense",
        workers: Any = None,
        chunk: int | None = None,
        progress: bool = False,
        jit: bool = False,
    ) -> None:
        errors.check_callable(f, "SparseJacobian")
        if jit and (workers is not None or progress):
            raise ValueError(
                "SparseJacobian: jit=True runs one compiled pass; it takes no workers or progress"
            )
        if output not in _OUTPUTS:
            raise ValueError(f"SparseJacobian: output must be one of {_OUTPUTS}, got {output!r}")
        if order != "best" and order not in ORDERS:
            raise ValueError(
                f"SparseJacobian: order must be 'best' or one of {ORDERS}, got {order!r}"
            )
        if output == "sparse":
            _scipy_sparse("output='sparse'")
        x = _input(x_example, "SparseJacobian")
        self._traced_at: np.ndarray | None = None  # set when the pattern holds there only
        # the memory layouts of x the pattern was traced at ("auto" only): NumPy's view-or-copy
        # decisions depend on the layout (x.T.reshape(-1) of a Fortran-ordered x is a view, and
        # a write through it reaches x), so another layout may have other non-zeros
        self._layouts: set[Any] | None = None
        self.f = f
        self.in_shape = x.shape
        self.out_shape: tuple[int, ...] | None = None
        if isinstance(sparsity, str):
            if sparsity != "auto":
                raise ValueError(
                    f"SparseJacobian: sparsity must be 'auto' or a pattern, got {sparsity!r}"
                )
            traced = run_dependencies(f, x)
            self.out_shape, decisions = traced.shape, traced.decisions
            self._layouts = {_layout(x)}
            if self._dense_fallback and traced.dense:
                # most of the Jacobian is non-zero: colouring would cost more than it saves
                self._dense, self._traced = True, traced
            else:
                self.pattern = traced.pattern()
            if decisions:
                # f branched on x's values (or used one as a number or a shape): the pattern
                # holds here only, so every other point is traced again (see _retrace)
                self._traced_at = x.copy()
                if self._warn_value_dependent:
                    warn_value_dependent(decisions, "SparseJacobian", stacklevel=3)
        else:
            pattern_shape = getattr(sparsity, "shape", None)
            known = _colorings.find(sparsity, x.size)
            if known is not None and known.shape[1] == x.size:
                self.pattern = known  # frozen, so shared: no copy of the user's matrix
            else:
                self.pattern = Pattern.coerce(sparsity, x.size, "SparseJacobian: sparsity")
            if pattern_shape is not None and len(pattern_shape) > 2:
                self.out_shape = tuple(pattern_shape[: len(pattern_shape) - x.ndim])
        self._order = order
        if not self._dense:
            self._color()
        self.output = output
        self.chunk = _check_chunk(chunk, "SparseJacobian")
        self.progress = progress
        self._workers = _check_workers(workers, "SparseJacobian")
        self._pool: Any = None
        self.jit = bool(jit)

    _warn_value_dependent = True
    _dense_fallback = False  # a dense traced pattern is computed densely (jacobian only)
    _dense = False

    def _color(self) -> None:
        """Colour the pattern's columns (once per pattern: see ``_colorings``); the recovery
        and the seeds follow the colouring."""
        self.colors, self._recovery = _colorings.get(self.pattern, self._order)
        self._ncolors = int(self.colors.max()) + 1 if self.colors.size else 0
        self._seeds: _Block | None = None
        self._compiled: dict[Any, Any] = {}

    def _retrace(self, x: np.ndarray) -> None:
        """The pattern at ``x`` for an ``f`` that branched on values while traced."""
        if np.array_equal(x, self._traced_at):
            return
        pattern, _, _ = trace_decisions(self.f, x)
        self._traced_at = x.copy()
        self._merge(pattern)

    def _new_layout(self, x: np.ndarray, layout: Any) -> None:
        """The pattern at an ``x`` of a memory layout not traced yet, joined to the pattern."""
        self._merge(run_dependencies(self.f, x).pattern())
        self._layouts.add(layout)  # type: ignore[union-attr]

    def _merge(self, pattern: Pattern) -> None:
        """Join a pattern found at another point to this one: a colouring of a pattern holds
        for every sub-pattern, so only a new non-zero (one outside the pattern) needs a new
        colouring, of the union of both."""
        old = self.pattern
        if pattern.shape != old.shape:
            return  # f(x) has another size: value_and_jacobian says so
        m, n = old.shape
        new_keys = pattern.rows() * n + pattern.indices  # entries as flat positions, sorted
        old_keys = old.rows() * n + old.indices
        if not np.isin(new_keys, old_keys, assume_unique=True).all():
            keys = np.union1d(new_keys, old_keys)
            indptr = np.concatenate(([0], np.cumsum(np.bincount(keys // n, minlength=m))))
            self.pattern = Pattern(indptr, keys % n, (m, n))
            self._color()

    @property
    def ncolors(self) -> int:
        """The number of forward-pass directions per evaluation."""
        return self._ncolors

    def __repr__(self) -> str:
        m, n = self.pattern.shape
        return (
            f"<SparseJacobian {m}x{n}, {self.pattern.nnz} non-zeros, {self.ncolors} colours, "
            f"output={self.output!r}>"
        )

    def _workers_for_call(self) -> Any:
        if isinstance(self._workers, int) and self._workers > 1:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=self._workers)
                weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
            return self._pool
        return self._workers

    def value_and_jacobian(self, x: Any) -> tuple[Any, Any]:
        """``(f(x), J(x))`` from ``ncolors`` directions of forward passes."""
        # no defensive copy of a float or complex array: a compiled pass never writes into x,
        # and an eager one (here or in a worker) gets it as a read-only view
        if not (type(x) is np.ndarray and x.dtype.kind in "fc"):
            x = _input(x, "SparseJacobian")
        if x.shape != self.in_shape:
            raise ValueError(
                f"SparseJacobian: x has shape {x.shape}, but this Jacobian was prepared for "
                f"shape {self.in_shape}"
            )
        if self._dense:
            return self._dense_jacobian(x)
        if self._layouts is not None and not (x.flags.c_contiguous and "C" in self._layouts):
            layout = _layout(x)
            if layout not in self._layouts:
                self._new_layout(x, layout)
        if self._traced_at is not None:
            self._retrace(x)
        fortran = is_fortran(x)
        if self._seeds is None or self._seeds.dtype != x.dtype or self._seeds.fortran != fortran:
            self._seeds = self._recovery.seeds(x.shape, x.dtype, fortran)
        colors_last = self.jit
        if self.jit:
            value, compressed = self._compiled_pass(x)
        elif (
            (self._workers is None or self._workers == 1)
            and not self.progress
            and (self.chunk is None or self.chunk >= self._ncolors)
        ):
            # one pass in this process: what run_passes would do, without its checks and
            # without copying the compressed tangents, which only the recovery reads
            value, compressed = _push(self.f, x, self._seeds.seeds, self._ncolors, "jacobian")
            if is_sequence(value):
                raise TypeError(
                    f"jacobian: f must return a single array, not a {type(value).__name__}"
                )
            value = _owned(value)
        else:
            value, compressed = run_passes(
                self.f,
                x,
                self._seeds,
                self.ncolors,
                workers=self._workers_for_call(),
                chunk=self.chunk,
                progress=self.progress,
            )
        out_shape = np.shape(value)
        if math.prod(out_shape) != self.pattern.shape[0]:
            raise ValueError(
                f"SparseJacobian: f(x) has {math.prod(out_shape)} entries but the sparsity "
                f"pattern has {self.pattern.shape[0]} rows"
            )
        if is_dual(value) or is_dual(compressed):
            # f closes over the dual numbers of an enclosing differentiation: the recovery
            # writes plain numbers (it raised a float conversion error); the dense passes give
            # the same Jacobian, carrying the outer derivative, as at a dual point
            if self.output != "dense":
                raise TypeError(
                    f"SparseJacobian: output={self.output!r} cannot hold the derivative of an "
                    "enclosing differentiation that f's result carries; use output='dense'"
                )
            return dense_jacobian(self.f, x, self.chunk)
        if self.out_shape is not None and out_shape != self.out_shape:
            raise ValueError(
                f"SparseJacobian: f(x) has shape {out_shape}, expected {self.out_shape}"
            )
        self.out_shape = out_shape
        jac = self._recovery(
            compressed, out_shape, x.shape, self.output, colors_last, lambda: self._zero_pass(x)
        )
        return value, jac

    def _zero_pass(self, x: np.ndarray) -> np.ndarray:
        """The tangents of ``f(x)`` from a zero seed, in the mode of the compressed passes
        (compiled, its zero tangents folded away, or eager); see ``_Recovery._off_pattern``."""
        seed = np.zeros((1,) + x.shape, dtype=x.dtype)
        if self.jit:
            return compiled_push_forward(self.f, x, np.moveaxis(seed, 0, -1))(x)[1]
        return _push(self.f, x, seed, 1, "jacobian")[1]

    def _dense_jacobian(self, x: np.ndarray) -> tuple[Any, Any]:
        """The Jacobian without colouring, for a pattern found dense when traced."""
        # as value_and_jacobian does it without a pattern: in this process, or on the workers
        workers = self._workers_for_call()
        if workers is None and not self.progress:
            value, jac = dense_jacobian(self.f, x, self.chunk)
        else:
            chunk = _check_chunk(self.chunk)
            value, jac = jacobian_columns(
                self.f, x, workers=workers, chunk=chunk, progress=self.progress
            )
        if self.output == "sparse":  # the traced pattern's entries, as the coloured path gives
            pattern = self._traced.pattern()
            data = jac.reshape(pattern.shape)[pattern.rows(), pattern.indices]
            indices, indptr = pattern.indices.copy(), pattern.indptr.copy()
            jac = _scipy_sparse("output='sparse'").csr_array(
                (data, indices, indptr), shape=pattern.shape
            )
        return value, jac

    def _compiled_pass(self, x: np.ndarray) -> tuple[Any, Any]:
        """The compressed passes as one compiled program (``dualdiff.engine.jit``): the colour seeds
        are constants of it, so the linear parts of ``f`` fold away. The compressed Jacobian
        comes back with the colours on the last axis."""
        # (a program per layout: it replays the view-or-copy decisions of its trace)
        key = (x.dtype.str, "C" if x.flags.c_contiguous else _layout(x))
        function = self._compiled.get(key)
        if function is None:
            seed = np.moveaxis(self._seeds(0, self.ncolors), 0, -1)
            function = self._compiled[key] = compiled_push_forward(self.f, x, seed)
        return function(x)  # the tangents have the colours last

    def __call__(self, x: Any) -> Any:
        return self.value_and_jacobian(x)[1]

    def close(self) -> None:
        """Shut down the process pool, if this object started one."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> SparseJacobian:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Block:
    """Seeds computed once; a chunk is a slice of them (picklable, for workers)."""

    def __init__(self, seeds: np.ndarray, fortran: bool = False) -> None:
        # read-only: every pass gets a slice of the same seeds, and f may update its argument
        # in place (the dual then copies before writing)
        seeds.flags.writeable = False
        self.seeds = seeds
        self.dtype = seeds.dtype
        self.fortran = fortran

    def __call__(self, start: int, stop: int) -> np.ndarray:
        seeds = self.seeds[start:stop]
        if self.fortran and seeds.size and not seeds[0].flags.f_contiguous:
            seeds = fortran_blocks(seeds)  # (pickled for a worker, the blocks came in C order)
        return seeds


class _ColoringCache:
    """The colourings (and recoveries) of the patterns used last, found by content.

    ``jacobian(f, x, sparsity=P)`` prepares a ``SparseJacobian`` on every call, and colouring
    costs far more than the passes (65 ms against 0.6 ms for the 1-D Brusselator at 2 000
    unknowns). A pattern given again, as the same object or an equal one, reuses its colouring.
    Entries are matched by their index arrays, not by identity or a hash alone: a boolean array
    or a scipy matrix can be changed by its owner between calls (a Pattern is a frozen copy of
    it). At most ``size`` entries and, beyond the newest, ``nnz_limit`` non-zeros in all are
    kept, the least recently used dropped first. The colours and index arrays are read-only:
    every object prepared from the same pattern shares them.
    """

    def __init__(self, size: int = 8, nnz_limit: int = 4_000_000) -> None:
        self.size = size
        self.nnz_limit = nnz_limit
        self.entries: list[tuple[Pattern, str, np.ndarray, _Recovery]] = []  # newest first

    def find(self, given: Any, n: int) -> Pattern | None:
        """The cached Pattern equal to a pattern given as a ``scipy.sparse`` CSR matrix or an
        array, if there is one, found without building a Pattern from it as ``Pattern.coerce``
        does (11.8 ms for a 2000 x 2000 boolean array, against 0.4 ms to compare it)."""
        if not self.entries:
            return None
        if getattr(given, "format", None) == "csr" and given.ndim == 2:
            # index arrays equal to a Pattern's are sorted and free of duplicates; explicit
            # zeros, which are not part of the pattern, are ruled out from the data
            data = given.data
            if data.size and not data.all():
                return None
            for cached, *_ in self.entries:
                if _same(cached, given.shape, given.indptr, given.indices):
                    return cached
            return None
        if type(given) is not np.ndarray or given.dtype.kind not in "biufc" or given.ndim < 2:
            return None
        dense = given
        if dense.ndim > 2:  # f(x).shape + x.shape
            if not n or dense.size % n:
                return None
            dense = dense.reshape(-1, n)
        count = None
        for cached, _, _, recovery in self.entries:
            if cached.shape != dense.shape:
                continue
            if count is None:
                count = np.count_nonzero(dense)
            # as many non-zeros as the pattern, all of them on it: the same pattern
            if count == cached.nnz and dense[recovery.rows, cached.indices].all():
                return cached
        return None

    def get(self, pattern: Pattern, order: str) -> tuple[np.ndarray, _Recovery]:
        for i, entry in enumerate(self.entries):
            cached, cached_order = entry[0], entry[1]
            # the same Pattern object (frozen) is the same content: no need to compare it
            if cached_order == order and (
                cached is pattern or _same(cached, pattern.shape, pattern.indptr, pattern.indices)
            ):
                if i:
                    self.entries.insert(0, self.entries.pop(i))
                return entry[2], entry[3]
        colors = _best_coloring(pattern, order)
        colors.flags.writeable = False  # shared with the recovery, the seeds and the cache
        recovery = _Recovery(pattern, colors)
        self.entries.insert(0, (pattern, order, colors, recovery))
        total = 0
        for i, entry in enumerate(self.entries):
            total += entry[0].nnz
            if i and (i >= self.size or total > self.nnz_limit):
                del self.entries[i:]
                break
        return colors, recovery

    def clear(self) -> None:
        self.entries.clear()


def _same(pattern: Pattern, shape: Any, indptr: np.ndarray, indices: np.ndarray) -> bool:
    return (
        pattern.shape == tuple(shape)
        and pattern.indices.size == indices.size
        and np.array_equal(pattern.indptr, indptr)
        and np.array_equal(pattern.indices, indices)
    )


def _best_coloring(pattern: Pattern, order: str) -> np.ndarray:
    if order != "best":
        return color_columns(pattern, order)
    # no colouring has fewer colours than the largest row has non-zeros
    bound = int(np.diff(pattern.indptr).max(initial=0))
    candidates = color_candidates(pattern, ("smallest_last", "largest_first"), bound)
    return min(candidates, key=lambda c: int(c.max(initial=-1)))


_colorings = _ColoringCache()


def sparse_jacobian(
    f: Callable[..., Any],
    x: Any,
    sparsity: Any = "auto",
    *,
    output: str = "dense",
    workers: Any = None,
    chunk: int | None = None,
    progress: bool = False,
) -> tuple[Any, Any]:
    """``(f(x), J)`` through colouring, for one point (the entry point of
    ``dualdiff.jacobian(f, x, sparsity=...)``); for repeated points use ``SparseJacobian``."""
    if is_dual(x) and output == "dense" and workers is None and not progress:
        return _at_a_dual_point(f, x, sparsity, chunk)
    with _OnePoint(
        f, x, sparsity, output=output, workers=workers, chunk=chunk, progress=progress
    ) as jac:
        return jac.value_and_jacobian(x)


def _at_a_dual_point(f: Callable[..., Any], x: Any, sparsity: Any, chunk: Any) -> Any:
    """``sparse_jacobian`` at a point of an enclosing differentiation: colouring and recovery
    work on plain numbers, and the dense pass gives the same Jacobian, carrying the outer
    derivative. ``sparsity`` is checked as at a plain point (its kind, its columns, its rows)."""
    what = "jacobian: sparsity"
    if isinstance(sparsity, str):
        if sparsity != "auto":
            raise ValueError(f"{what} must be 'auto' or a pattern, got {sparsity!r}")
        return dense_jacobian(f, x, chunk)
    pattern = Pattern.coerce(sparsity, math.prod(np.shape(x)), what)
    value, jac = dense_jacobian(f, x, chunk)
    rows = sum(math.prod(np.shape(v)) for v in value) if is_sequence(value) else np.size(value)
    if pattern.shape[0] != rows:
        raise ValueError(
            f"{what}: f(x) has {rows} entries but the sparsity pattern has {pattern.shape[0]} rows"
        )
    return value, jac


class _OnePoint(SparseJacobian):
    """A SparseJacobian used at the point it was traced at only: a pattern that depends on the
    values is right there, and needs no warning."""

    _warn_value_dependent = False
    _dense_fallback = True
