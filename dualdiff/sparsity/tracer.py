"""Jacobian sparsity patterns of plain NumPy code, found by tracing dependencies.

``jacobian_sparsity(f, x)`` runs ``f`` once on a ``SparsityTracer``: an array whose every element
carries, beside its value, the set of input positions it depends on. Operations combine the sets
by the rule table the derivatives use (``dualdiff.rules.elementwise``): an elementwise function
unions the sets of the arguments it has a partial for, a piecewise-constant one (``Rule.zero``)
depends on nothing, a reduction unions along its axes, slicing, stacking and reshaping move sets
around, and a product with a constant matrix follows that matrix's non-zeros.

NumPy's other functions take their handler from the function table (``dualdiff.rules.functions``) by
kind (``derived_handler``): a structural function applies to the id arrays as they are, a function
of the values gives ``ValueDerived`` results, a composition runs its body, and a linear or
multilinear one unions its operands' sets along its declared axes (over everything where the
places cannot be matched: always a superset of the true pattern). The handlers written here
(``_FUNCTIONS``) override that where they are tighter (``np.where``, ``@``, ``einsum``, the
gradient stencil ...); the tests check each against the derived one.

The sets are integer ids into one store per trace (``_Store``: sorted index slices), so an element
costs one integer and structural functions apply to the id array as they are; unions are
vectorised over all the elements of an operation (sorting their entries), and a union equal to
one of its parts keeps that part's id. The sets no living tracer holds are freed between
operations (``_Store.collect``), so memory follows what the living arrays depend on, not every
set the trace made. Time and memory follow the non-zeros. Past a work budget a
union whose parts hold most of ``x`` is taken as all of ``x`` (conservative: ``W @ x`` with a
dense ``W`` costs ``W != 0``, not ``size * n`` set entries); see ``DENSE_FRACTION``.

The pattern is structural: it does not look at values, so it holds at every input point
(``np.where`` takes both branches; elementwise products keep a dependency even where a constant
factor is zero; ``numpy.linalg`` results depend on the whole matrix, less only an unread
triangle or a triangular factor's zeros). Values computed from ``x`` without a derivative
(indices from ``np.argmax``/``argsort``/``searchsorted``/``nonzero``..., masks such as
``x > 0``) are ``ValueDerived`` arrays, not constants: a gather, ``take``, ``roll`` or scatter
through one depends on every element it could pick along the axes it indexes, and their zeros
are not trusted in ``@``/``dot``/``einsum``/``kron``/``outer``. What cannot be followed is a
decision in Python (``if x[0] > 0``, ``max(x)``, ``int(np.argmax(x))``, a shape from
``np.nonzero``, such a value used to index a plain array or as a parameter such as
``np.gradient``'s spacings): it is logged while tracing, and the pattern then holds at the
traced point only (``jacobian_sparsity`` warns ``ValueDependentPatternWarning``;
``SparseJacobian`` traces again at each new point). A NumPy function without a rule raises
TypeError naming it.
"""

from __future__ import annotations

import functools
import itertools
import math
import string
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..core import errors
from ..core.errors import function_name
from ..core.methods import ArrayMethods, same_strides
from ..core.tags import NEWEST_TAG
from ..dual.objects import (
    add_element_methods,
    dtype_hidden,
    lift,
    lift_arguments,
    lift_inputs,
    lift_operands,
    object_array,
    plain_numbers,
    refuse_or_warn,
)
from ..rules import functions as table
from ..rules.calls import Call
from ..rules.compositions import COMPOSITIONS, call_body, kept_where
from ..rules.elementwise import (
    MULTI_OUTPUT_UFUNCS,
    RULES,
    UFUNC_RULES,
    VALUE_UFUNCS,
    Rule,
    extra_ufunc_rule,
    is_dual,
    register_lift,
)

__all__ = ["jacobian_sparsity", "Pattern", "SparsityTracer", "trace_pattern"]

_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}


# ---------------------------------------------------------------------------------------------
# The pattern: compressed sparse rows of booleans (rows: outputs, columns: inputs)
# ---------------------------------------------------------------------------------------------


class Pattern:
    """A Jacobian's non-zero pattern in compressed sparse row form, without SciPy.

    Row ``i`` (an output, flattened in C order) has non-zeros in the columns (inputs, flattened)
    ``indices[indptr[i]:indptr[i + 1]]``, sorted. Memory is proportional to the non-zeros.
    """

    __slots__ = ("indptr", "indices", "shape")

    def __init__(self, indptr: Any, indices: Any, shape: tuple[int, int]) -> None:
        # read-only copies: a pattern is shared by the objects prepared from it, and must not
        # follow later changes of the arrays (or scipy matrix) it was built from
        self.indptr = _frozen(np.array(indptr, dtype=np.intp))
        self.indices = _frozen(np.array(indices, dtype=np.intp))
        self.shape = (int(shape[0]), int(shape[1]))

    def __repr__(self) -> str:
        return f"<Pattern {self.shape[0]}x{self.shape[1]}, {self.nnz} non-zeros>"

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def rows(self) -> np.ndarray:
        """The row index of every stored entry (aligned with ``indices``)."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def transpose(self) -> Pattern:
        """The pattern of the transpose (the columns of this one as rows, i.e. CSC form)."""
        order = np.argsort(self.indices, kind="stable")
        counts = np.bincount(self.indices, minlength=self.shape[1])
        indptr = np.concatenate(([0], np.cumsum(counts)))
        return Pattern(indptr, self.rows()[order], (self.shape[1], self.shape[0]))

    def toarray(self) -> np.ndarray:
        """The dense boolean matrix of shape ``(m, n)``."""
        out = np.zeros(self.shape, dtype=bool)
        out[self.rows(), self.indices] = True
        return out

    def to_scipy(self) -> Any:
        """The pattern as a boolean ``scipy.sparse.csr_array`` (needs SciPy)."""
        sparse = _scipy_sparse("the sparse pattern")
        data = np.ones(self.nnz, dtype=bool)
        indices, indptr = self.indices.copy(), self.indptr.copy()  # the matrix's own
        return sparse.csr_array((data, indices, indptr), shape=self.shape)

    @classmethod
    def from_sets(cls, sets: Any, n: int) -> Pattern:
        """The pattern whose row ``i`` holds the indices in ``sets[i]`` (an iterable of sets)."""
        sets = list(sets)
        lengths = np.fromiter(map(len, sets), dtype=np.intp, count=len(sets))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        flat = itertools.chain.from_iterable(map(sorted, sets))
        indices = np.fromiter(flat, dtype=np.intp, count=int(indptr[-1]))
        return cls(indptr, indices, (len(sets), n))

    @classmethod
    def coerce(cls, pattern: Any, n: int | None = None, what: str = "sparsity") -> Pattern:
        """A Pattern from a Pattern, a boolean array (2-D, or ``f(x).shape + x.shape`` when ``n``
        is given) or a ``scipy.sparse`` matrix; TypeError/ValueError for anything else."""
        if isinstance(pattern, Pattern):
            out = pattern
        elif hasattr(pattern, "tocsr") and hasattr(pattern, "nnz"):
            csr = pattern.tocsr(copy=True)  # the clean-up below works in place
            csr.sum_duplicates()
            csr.eliminate_zeros()
            csr.sort_indices()
            out = cls(csr.indptr, csr.indices, csr.shape)
        elif isinstance(pattern, (np.ndarray, list, tuple)) and not is_dual(pattern):
            dense = np.asarray(pattern)
            if dense.dtype == object or dense.dtype.kind not in "biufc":
                raise TypeError(
                    f"{what}: a pattern must be a boolean array, got dtype {dense.dtype}"
                )
            if n is not None and dense.ndim != 2:
                if dense.size % max(n, 1) or (n == 0 and dense.size):
                    raise ValueError(
                        f"{what}: a pattern of shape {dense.shape} does not end in x's size {n}"
                    )
                dense = dense.reshape(-1, n) if n else dense.reshape(0, 0)
            if dense.ndim != 2:
                raise ValueError(f"{what}: a dense pattern must be 2-D, got shape {dense.shape}")
            rows, cols = np.nonzero(dense)
            counts = np.bincount(rows, minlength=dense.shape[0])
            out = cls(np.concatenate(([0], np.cumsum(counts))), cols, dense.shape)
        else:
            raise TypeError(
                f"{what} must be 'auto', a boolean array or a scipy.sparse matrix, got "
                f"{errors.type_name(pattern)}"
            )
        if n is not None and out.shape[1] != n:
            raise ValueError(
                f"{what}: the pattern has {out.shape[1]} columns but x has {n} entries"
            )
        return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _scipy_sparse(what: str) -> Any:
    try:
        import scipy.sparse as sparse
    except ImportError as e:
        raise ImportError(
            f"{what} needs SciPy: pip install scipy (or ask for a dense result)"
        ) from e
    return sparse


# ---------------------------------------------------------------------------------------------
# The tracer
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Dependency sets: integer ids into a store of index lists
# ---------------------------------------------------------------------------------------------
# A tracer's ``deps`` is an integer array of the value's shape (and memory order): each element
# holds the id of the set of input positions it depends on. The sets live in a ``_Store`` shared
# by the whole trace, as slices of one index array. Moving elements (slicing, reshaping,
# concatenating, every structural function) moves ids, so views alias as NumPy's do and such
# functions apply to the ids unchanged; only unions build sets, vectorised over all the
# elements of an operation, and a union equal to one of its parts reuses that part's id.

_EMPTY = 0  # the id of the empty set
_FULL = 1  # the id of the set of every input position

DENSE_FRACTION = 0.5
"""A union whose parts hold at least this fraction of ``x``'s positions in all (and at least
``_ROUND_MIN``) is taken as all of ``x`` once an operation's sets exceed ``_WORK_BUDGET``
entries: conservative, and what keeps a dense ``W @ x`` from costing ``size * n`` set entries.
A traced Jacobian with more than this fraction of non-zeros is dense (``jacobian(...,
sparsity="auto")`` then computes it densely, without colouring)."""
_ROUND_MIN = 64
_WORK_BUDGET = 1 << 16
_DENSE_MIN = 1024  # a Jacobian with fewer entries is never called dense


_COLLECT_MIN = 1 << 16  # words a store may grow by before ``collect`` runs at all


def _grown(a: np.ndarray, size: int, used: int) -> np.ndarray:
    """``a`` in a larger array, its first ``used`` entries copied (the rest left unset)."""
    out = np.empty(size, dtype=a.dtype)
    out[:used] = a[:used]
    return out


def _unique(a: np.ndarray, own: bool = False, runs: bool = False) -> np.ndarray:
    """The sorted distinct values of ``a`` (by a sort: NumPy 2.3's hash-based ``np.unique`` is
    up to 50 times slower on large integer arrays). ``own``: ``a`` is a 1-D temporary of the
    caller's, sorted in place (one copy fewer). ``runs``: ``a`` is a few sorted runs per
    stretch of values (a merge sort takes them as they are: 4 times faster than quicksort on
    unions of two to four sets each, 5 times slower on random values)."""
    if own:
        a.sort(kind="stable" if runs else None)
    else:
        a = np.sort(a, axis=None)
    if a.size > 1:
        first = np.empty(a.size, dtype=bool)
        first[0] = True
        np.not_equal(a[1:], a[:-1], out=first[1:])
        a = a[first]
    return a


def _unique_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, inverse)``: the sorted distinct values of a 1-D ``a`` and ``a``'s positions
    among them."""
    order = np.argsort(a)
    ordered = a[order]
    first = np.ones(a.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(a.size, dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


class _Store:
    """Append-only sets of input positions, each a slice ``indices[start:start + size]``
    (sorted, no duplicates); ids 0 (empty) and 1 (all of ``0..n-1``) are fixed, and a trace's
    seeds ``{j}`` are the slices of the full set. ``n`` is None outside a trace (no full set)."""

    def __init__(self, n: int | None) -> None:
        self.n = n
        k = n or 0
        # input positions in 32 bits where they fit: the entries are most of a store's memory
        self.indices = np.arange(max(k, 16), dtype=np.int32 if k < 2**31 else np.intp)
        self.used = k
        self.starts = np.zeros(max(2 + k, 16), dtype=np.intp)
        self.sizes = np.zeros_like(self.starts)
        self.sizes[_FULL] = k
        self.starts[2 : 2 + k] = np.arange(k)
        self.sizes[2 : 2 + k] = 1
        self.count = 2 + k
        # ids of sets no tracer holds any more, handed out again by ``add`` (see ``collect``)
        self.free = np.zeros(0, dtype=np.intp)
        # the tracers holding ids of this store (weak): what ``collect`` keeps
        self.tracers: list[weakref.ref[Any]] = []
        self.tracing = False  # collect only while the trace runs (its result's ids are held)
        self.kept = self.words()

    def seeds(self) -> np.ndarray:
        return np.arange(2, 2 + (self.n or 0), dtype=np.intp)

    @property
    def threshold(self) -> float:
        """The size from which a set may be rounded up to all of ``x``."""
        return max(DENSE_FRACTION * (self.n or 0), _ROUND_MIN)

    def words(self) -> int:
        """The store's size in machine words: set entries, two per id in use, and the weak
        references to tracers (about eight words each)."""
        return self.used + 2 * (self.count - self.free.size) + 8 * len(self.tracers)

    def add(self, lengths: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """New sets (consecutive slices of ``cols`` of ``lengths``); their ids (a new array)."""
        k = lengths.size
        reuse = min(k, self.free.size)
        fresh = k - reuse
        if self.count + fresh > self.starts.size:
            size = max(2 * self.starts.size, self.count + fresh)
            self.starts = _grown(self.starts, size, self.count)
            self.sizes = _grown(self.sizes, size, self.count)
        if self.used + cols.size > self.indices.size:
            size = max(2 * self.indices.size, self.used + cols.size)
            self.indices = _grown(self.indices, size, self.used)
        self.indices[self.used : self.used + cols.size] = cols
        ends = np.cumsum(lengths)
        if reuse:
            ids = np.empty(k, dtype=np.intp)
            ids[:reuse] = self.free[:reuse]
            ids[reuse:] = np.arange(self.count, self.count + fresh)
            self.free = self.free[reuse:]
            self.starts[ids] = self.used + ends - lengths
            self.sizes[ids] = lengths
        else:
            ids = np.arange(self.count, self.count + k, dtype=np.intp)
            self.starts[self.count : self.count + k] = self.used + ends - lengths
            self.sizes[self.count : self.count + k] = lengths
        self.used += cols.size
        self.count += fresh
        return ids

    def register(self, tracer: Any) -> None:
        self.tracers.append(weakref.ref(tracer))

    def due(self) -> bool:
        """Whether the store has grown enough since the last ``collect`` to run it again."""
        grown = self.words() - self.kept
        return grown > self.kept and grown > _COLLECT_MIN

    def collect(self) -> None:
        """Free the sets no living tracer of this store holds, and pack the others.

        Run only between operations (``_operation``), when every id in use is in a tracer's
        ``deps`` (an operation holds ids in local arrays too). Ids stay as they are, so the
        arrays holding them need no change: a freed id goes to ``free``, and the entries of the
        sets kept move to the front of ``indices``. Memory then follows what the living tracers
        depend on, not every set the trace has made."""
        n = self.n or 0
        base = 2 + n
        live = np.zeros(self.count, dtype=bool)
        live[:base] = True
        refs, seen = [], set()
        for ref in self.tracers:
            t = ref()
            if t is None or t.store is not self:
                continue
            refs.append(ref)
            deps = t.deps
            # the whole memory a view looks into: each array once, however many views share it
            while type(deps.base) is np.ndarray and deps.base.dtype == deps.dtype:
                deps = deps.base
            if id(deps) not in seen:
                seen.add(id(deps))
                live[deps] = True
        self.tracers = refs
        kept = np.flatnonzero(live[base:]) + base
        lengths, cols = self.contents(kept)
        indices = np.empty(max(n + cols.size, 16), dtype=self.indices.dtype)
        indices[:n] = self.indices[:n]  # all of x, whose slices are the seeds
        indices[n : n + cols.size] = cols
        self.indices, self.used = indices, n + cols.size
        self.starts[kept] = n + np.cumsum(lengths) - lengths
        top = int(kept[-1]) + 1 if kept.size else base
        self.count = top
        self.free = np.flatnonzero(~live[:top])
        if self.starts.size > 2 * top + 16:
            self.starts = self.starts[: top + top // 2 + 16].copy()
            self.sizes = self.sizes[: self.starts.size].copy()
        self.kept = self.words()

    def contents(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(lengths, cols)``: the sizes of the sets ``ids`` and their elements, concatenated."""
        lengths = self.sizes[ids]
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if ends.size else 0
        ends -= lengths  # where each set begins in the result
        offsets = np.repeat(self.starts[ids] - ends, lengths)
        del ends
        offsets += np.arange(total)
        return lengths, self.indices[offsets]

    def from_sets(self, sets: Any) -> np.ndarray:
        """Ids for an array of Python sets (``SparsityTracer(value, deps)``)."""
        items = np.asarray(sets, dtype=object)
        lists = [sorted(int(i) for i in s) for s in items.ravel()]
        lengths = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
        cols = np.fromiter(itertools.chain.from_iterable(lists), np.intp, int(lengths.sum()))
        ids = self.add(lengths, cols) if lengths.size else np.zeros(0, dtype=np.intp)
        ids[lengths == 0] = _EMPTY
        return ids.reshape(items.shape)

    def take(self, other: _Store, ids: np.ndarray) -> np.ndarray:
        """The sets ``ids`` of another store (a tracer of an earlier trace) as ids of this one."""
        flat = np.ravel(ids)
        present, inverse = _unique_inverse(flat)
        lengths, cols = other.contents(present)
        new = self.add(lengths, cols)
        new[present == _EMPTY] = _EMPTY
        return new[inverse].reshape(np.shape(ids))

    def union_groups(
        self, groups: np.ndarray, ids: np.ndarray, ngroups: int, distinct: bool = False
    ) -> np.ndarray:
        """The id of the union of the sets ``ids[k]`` with ``groups[k] == g``, for each group.

        ``distinct``: the caller knows ``groups`` is sorted and each group holds at least two
        distinct sets, none of them empty."""
        # (temporaries are deleted as soon as they are used: a union's peak memory is a few
        # times its entries, not the sum of every step's arrays)
        out = np.zeros(ngroups, dtype=np.intp)
        keep = ids != _EMPTY
        g, s = (groups, ids) if keep.all() else (groups[keep], ids[keep])
        del keep
        if not g.size:
            return out
        n = self.n
        if n:
            whole = np.zeros(ngroups, dtype=bool)
            whole[g[s == _FULL]] = True
            upper = np.bincount(g, weights=self.sizes[s], minlength=ngroups)
            if upper.sum() > _WORK_BUDGET:
                # too many entries to sort: a group whose parts hold most of x is all of x
                # (when the distinct sets hold that many positions at all)
                seen = np.zeros(self.count, dtype=bool)
                seen[s] = True
                if self.sizes[: self.count][seen].sum() >= self.threshold:
                    whole |= upper >= self.threshold
                del seen
            del upper
            if whole.any():
                out[whole] = _FULL
                keep = ~whole[g]
                g, s = g[keep], s[keep]
                if not g.size:
                    return out
        if not distinct:
            # distinct (group, set) pairs, by group; a group of one set is that set
            keys = g.astype(np.int64) * self.count
            keys += s
            g, s = np.divmod(_unique(keys, own=True), self.count)
            del keys
            first = np.ones(g.size, dtype=bool)
            first[1:] = g[1:] != g[:-1]
            starts = np.flatnonzero(first)
            single = np.diff(np.append(starts, g.size)) == 1
            out[g[starts[single]]] = s[starts[single]]
            many = ~single[np.cumsum(first) - 1]
            if not many.any():
                return out
            g, s = g[many], s[many]
        first = np.ones(g.size, dtype=bool)
        first[1:] = g[1:] != g[:-1]
        start = np.flatnonzero(first)
        del first
        groups_here = g[start]
        lengths, cols = self.contents(s)
        width = n if n else int(cols.max()) + 1
        keys = np.repeat(g.astype(np.int64), lengths)
        del lengths
        keys *= width
        keys += cols
        del cols
        # each group's keys are its sets' sorted entries one after the other
        ug, uc = np.divmod(_unique(keys, own=True, runs=s.size <= 4 * start.size), width)
        del keys
        counts = np.bincount(ug, minlength=ngroups)[groups_here]
        # a union as large as its largest part is that part: reuse its id
        sizes = self.sizes[s]
        largest = np.maximum.reduceat(sizes, start)
        at = np.flatnonzero(sizes == np.repeat(largest, np.diff(np.append(start, g.size))))
        # the first part of each group that is as large as the largest (every group has one)
        owner = g[at]
        first_at = np.concatenate(([True], owner[1:] != owner[:-1]))
        best = s[at[first_at]]
        same = counts == largest
        out[groups_here[same]] = best[same]
        fresh = ~same
        if n:
            full = fresh & (counts == n)
            out[groups_here[full]] = _FULL
            fresh &= ~full
        if fresh.any():
            wanted = np.zeros(ngroups, dtype=bool)
            wanted[groups_here[fresh]] = True
            mask = wanted[ug]
            del ug, wanted
            cols = uc[mask]
            del uc, mask
            out[groups_here[fresh]] = self.add(counts[fresh], cols)
        return out

    def union2(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The elementwise union of two broadcastable id arrays (a new array)."""
        a, b = np.broadcast_arrays(a, b)
        shape = a.shape
        a, b = a.ravel(), b.ravel()
        out = np.where((a == _EMPTY) | (b == _FULL), b, a)
        mixed = np.flatnonzero((a != b) & (a > _FULL) & (b > _FULL))
        if mixed.size:
            keys = a[mixed].astype(np.int64) * self.count
            keys += b[mixed]
            del a, b
            pairs, inverse = _unique_inverse(keys)
            del keys
            k = pairs.size
            groups = np.repeat(np.arange(k), 2)
            ids = np.empty(2 * k, dtype=np.intp)
            ids[0::2], ids[1::2] = np.divmod(pairs, self.count)
            del pairs
            united = self.union_groups(groups, ids, k, distinct=True)
            del groups, ids
            out[mixed] = united[inverse]
        return out.reshape(shape)

    def reduce(self, deps: np.ndarray, axis: Any, keepdims: bool = False) -> np.ndarray:
        """Union along ``axis`` (an int, a tuple, or None for all axes)."""
        ndim = deps.ndim
        if axis is None:
            axes = tuple(range(ndim))
        else:
            axes = (
                tuple(
                    sorted({int(a) % ndim for a in (axis if isinstance(axis, tuple) else (axis,))})
                )
                if ndim
                else ()
            )
        kept = [i for i in range(ndim) if i not in axes]
        out_shape = tuple(deps.shape[i] for i in kept)
        m = math.prod(out_shape)
        r = math.prod(deps.shape[i] for i in axes)
        if r == 0 or m == 0:
            out = np.zeros(m, dtype=np.intp)
        else:
            moved = np.transpose(deps, kept + list(axes)).reshape(m, r)
            if r == 1:
                out = moved[:, 0].copy()
            else:
                out = self.union_groups(np.repeat(np.arange(m), r), moved.ravel(), m)
        out = out.reshape(out_shape)
        if keepdims:
            out = out.reshape(tuple(1 if i in axes else deps.shape[i] for i in range(ndim)))
        return out

    def accumulate(self, deps: np.ndarray, axis: int) -> np.ndarray:
        """Prefix unions along ``axis`` (log2 of its length vectorised steps)."""
        out = np.moveaxis(np.array(deps, dtype=np.intp), axis, 0).copy()
        step = 1
        while step < out.shape[0]:
            out[step:] = self.union2(out[step:], out[:-step])
            step *= 2
        return np.moveaxis(out, 0, axis)

    def reduceat(self, deps: np.ndarray, indices: Any, axis: int) -> np.ndarray:
        """``np.bitwise_or.reduceat`` of sets."""
        d = np.moveaxis(deps, axis, 0)
        length, trailing = d.shape[0], d.shape[1:]
        indices = np.asarray(indices, dtype=np.intp).ravel()
        stops = np.append(indices[1:], length)
        stops = np.where(stops > indices, stops, indices + 1)
        lengths = stops - indices
        ends = np.cumsum(lengths)
        positions = np.repeat(indices - ends + lengths, lengths) + np.arange(
            int(ends[-1]) if ends.size else 0
        )
        segment = np.repeat(np.arange(indices.size), lengths)
        mm = math.prod(trailing)
        flat = d.reshape(length, mm)
        groups = (segment[:, None] * mm + np.arange(mm)).ravel()
        out = self.union_groups(groups, flat[positions].ravel(), indices.size * mm)
        return np.moveaxis(out.reshape((indices.size,) + trailing), 0, axis)

    def total(self, deps: np.ndarray) -> int:
        return int(self.sizes[deps].sum())


def _store() -> _Store:
    """The store of the trace running in this thread (a store without ``n`` outside one)."""
    store = getattr(_STATE, "store", None)
    if store is None:
        store = _STATE.store = _Store(None)
    return store


def _empty_deps(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape, dtype=np.intp)


def _as_deps(d: Any) -> np.ndarray:
    """An id array (NumPy returns a bare integer for 0-d results)."""
    return d if type(d) is np.ndarray else np.asarray(d, dtype=np.intp)


def _part_of_complex(value: np.ndarray) -> bool:
    """Whether ``value`` is the real or imaginary part of complex memory (``y.real``, a slice of
    ``np.imag(y)``): dependencies are per element, shared by both parts, so a write into one
    part must keep what the element depended on (the other part still does)."""
    base = value.base
    return (
        base is not None
        and value.dtype.kind != "c"
        and getattr(base, "dtype", None) is not None
        and base.dtype.kind == "c"
    )


def _numpy_result(value: Any) -> Any:
    """NumPy's result as an array, but a NumPy scalar kept (``_make`` marks its tracer: NumPy's
    scalars are immutable, and nothing made of one shares its memory)."""
    return value if isinstance(value, np.generic) else np.asarray(value)


def _make(value: Any, deps: Any, store: _Store | None = None) -> SparsityTracer:
    t = object.__new__(SparsityTracer)
    # NumPy's scalar results (a ufunc or a reduction of 0-d arrays) are immutable: a view of
    # one (np.expand_dims, reshape) is a new array, which _split hands out for it
    t.scalar = isinstance(value, np.generic)
    value = t.value = np.asarray(value)
    deps = _as_deps(deps)
    if (
        value.ndim > 1
        and deps.base is None
        and value.flags.f_contiguous
        and not value.flags.c_contiguous
        and not deps.flags.f_contiguous
    ):
        # fresh dependencies in the value's memory order, so that a later reshape views or
        # copies both alike (as NumPy decides for the value): a view of one and a copy of the
        # other would let a write reach one of them only
        deps = np.asfortranarray(deps)
    t.deps = deps
    store = t.store = store if store is not None else _store()
    store.register(t)
    return t


def _operation(method: Callable[..., Any]) -> Callable[..., Any]:
    """A tracer operation that may free the sets no tracer holds any more before it starts.

    Only an operation called from ``f`` itself does (not one nested in another, whose locals
    may hold ids no tracer holds yet): then every id in use is in a living tracer."""

    @functools.wraps(method)
    def operation(*args: Any, **kwargs: Any) -> Any:
        state = _STATE
        depth = getattr(state, "depth", 0)
        if not depth:
            store = getattr(state, "store", None)
            if store is not None and store.tracing and store.due():
                store.collect()
        state.depth = depth + 1
        try:
            return method(*args, **kwargs)
        except Exception as error:
            if not depth:  # f may catch it and go on, from a branch taken by values of x
                _decide(
                    f"{type(error).__name__} raised on values of x (a singular matrix, an index "
                    "computed from x out of range), which f may catch"
                )
            raise
        finally:
            state.depth = depth

    return operation


class _InStore:
    """Run unions in ``store`` (a write into a tracer kept from an earlier trace)."""

    def __init__(self, store: _Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        self.outer = getattr(_STATE, "store", None)
        _STATE.store = self.store

    def __exit__(self, *exc: Any) -> None:
        _STATE.store = self.outer


def _or(a: Any, b: Any) -> np.ndarray:
    """The elementwise union of two broadcastable dependency arrays."""
    return _store().union2(np.asarray(a), np.asarray(b))


def _union(deps: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """The elementwise union of broadcastable dependency arrays, as a new array of ``shape``."""
    if not deps:
        return _empty_deps(shape)
    out = deps[0]
    for d in deps[1:]:
        out = _or(out, d)
    if len(deps) == 1 or out.shape != shape:
        out = np.broadcast_to(out, shape).copy()
    return out


def _reduce(deps: np.ndarray, axis: Any, keepdims: bool = False) -> np.ndarray:
    """Union along ``axis`` (an int, a tuple, or None for all axes)."""
    if isinstance(axis, list):
        axis = tuple(axis)
    return _store().reduce(np.asarray(deps), axis, keepdims)


def _has_deps(deps: np.ndarray) -> bool:
    return bool(np.any(deps != _EMPTY))


def _deps_of(t: SparsityTracer) -> np.ndarray:
    """A tracer's dependency ids in the store of the running trace."""
    store = _store()
    if t.store is store:
        return t.deps
    return store.take(t.store, t.deps)


def _split(a: Any, what: str = "argument") -> tuple[Any, np.ndarray]:
    """``(value, deps)`` of a tracer, a constant, or a list mixing tracers and constants."""
    if type(a) is SparsityTracer:
        if a.scalar:  # NumPy's scalar: nothing made of it shares its memory
            return a.value.copy(), _deps_of(a).copy()
        return a.value, _deps_of(a)
    if type(a) is ValueDerived:  # a constant here (its zeros are not trusted: _has_derived)
        return a.array, _empty_deps(a.shape)
    if is_dual(a):
        raise TypeError(
            f"jacobian_sparsity: cannot mix a sparsity tracer with {errors.type_name(a)} in one "
            f"{what}; trace plain NumPy code"
        )
    if type(a) is np.ndarray and a.dtype.kind == "O" and any(is_dual(i) for i in a.flat):
        return _split(lift(a), what)  # an object array of traced elements (np.array([...]))
    if type(a) in (list, tuple) and _contains_tracer(a):
        parts = [_split(item, what) for item in a]
        return np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts])
    value = np.asarray(a)
    return value, _empty_deps(value.shape)


def _contains_tracer(a: Any) -> bool:
    if type(a) is SparsityTracer:
        return True
    if type(a) in (list, tuple):
        return any(_contains_tracer(item) for item in a)
    return False


def _values(a: Any) -> Any:
    """``a`` with every tracer replaced by its value (through lists and tuples)."""
    if type(a) is SparsityTracer:
        return a.value
    if type(a) is ValueDerived:
        return a.array
    if type(a) in (list, tuple):
        return type(a)(_values(item) for item in a)
    return a


def _plain_key(key: Any) -> Any:
    if _contains_tracer(key if type(key) is tuple else (key,)):
        raise TypeError(
            "jacobian_sparsity: index with plain integers, slices or arrays, not with traced "
            "values (an index has no derivative; use x.value if it must come from x)"
        )
    return key


def _drop_error(what: str) -> TypeError:
    return errors.drops_tangent(
        TypeError(
            f"{what} would drop the dependency on x that jacobian_sparsity is tracing. Build "
            "arrays with np.stack/np.concatenate or np.zeros_like(x), not "
            "np.array/np.asarray/float()"
        )
    )


# ---------------------------------------------------------------------------------------------
# Values computed from x's values: indices, masks, truth values
# ---------------------------------------------------------------------------------------------

_STATE = threading.local()  # ``decisions``: the log of the trace running in this thread


def _decide(what: str) -> None:
    """Note that ``f`` used a value computed from ``x`` where the pattern cannot follow it (a
    Python branch, a Python number, a shape): the pattern then holds at the traced point only."""
    log = getattr(_STATE, "decisions", None)
    if log is not None:
        log.append(what)


class ValueDerived(NDArrayOperatorsMixin):
    """A plain array computed from a traced array's values: an index (``np.argmax``,
    ``np.argsort``, ``np.searchsorted``, ``np.nonzero``...), a mask (``x > 0``), a truth value.

    It has no derivative, but it is not a constant: at another point it holds other values. So
    a gather through it may pick any element along the axes it indexes (the tracer unions them),
    and a Python decision on it (``if``, ``int()``, a shape that depends on its values, or a
    conversion to a plain array, as when it indexes a plain array) holds at the traced point
    only (it is logged, see ``trace_decisions``). Arithmetic, methods and NumPy functions on it
    give ``ValueDerived`` results again. Deliberately not an ndarray subclass: NumPy would use
    an ndarray as an index without asking, and the dependency would be lost without a word.
    """

    __slots__ = ("array",)
    __array_priority__ = 50.0  # below the tracer's: a tracer takes mixed operations

    def __init__(self, array: Any) -> None:
        self.array = np.asarray(array)

    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)
    T = property(lambda self: ValueDerived(self.array.T))

    def __repr__(self) -> str:
        return f"ValueDerived({self.array!r})"

    def __len__(self) -> int:
        return len(self.array)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(type(a) is SparsityTracer for a in inputs):
            return NotImplemented
        # every keyword plain too (out=, where=): NumPy would hand a ValueDerived back here
        return _derived(getattr(ufunc, method)(*_plain_all(inputs), **_plain_all(kwargs)))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if SparsityTracer in types:
            return NotImplemented
        result = func(*_plain_all(args), **_plain_all(kwargs))
        if func in _STRUCTURE_ONLY:
            return result
        if func in _SHAPE_FROM_VALUES or (func is np.where and len(args) + len(kwargs) == 1):
            _decide(f"{function_name(func)} of values of x (its shape depends on them)")
        return _derived(result)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # reached when NumPy needs a plain array: indexing a plain array with it, np.asarray
        _decide("a value computed from x used as a plain array (to index a plain array?)")
        return np.array(self.array, dtype=dtype, copy=True if copy else None)

    def __getitem__(self, key: Any) -> Any:
        if any(_is_mask(k) for k in (key if type(key) is tuple else (key,))):
            _decide("a boolean mask computed from x (the shape depends on its values)")
        return _derived(self.array[_plain_all(key)])

    def __setitem__(self, key: Any, item: Any) -> None:
        self.array[_plain_all(key)] = _plain_all(item)

    def __getattr__(self, name: str) -> Any:
        # ndarray methods and attributes (astype, sum, reshape, argmax, real...), results derived
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self.array, name)
        if not callable(attribute):
            return _derived(attribute)
        if name in ("nonzero", "compress"):
            _decide(f"ndarray.{name} of values of x (its shape depends on them)")
        return lambda *args, **kwargs: _derived(attribute(*_plain_all(args), **_plain_all(kwargs)))

    def _python(self, what: str) -> np.ndarray:
        _decide(what)
        return self.array

    def __bool__(self) -> bool:
        return bool(self._python("the truth value of a result computed from x (if, while)"))

    def __int__(self) -> int:
        return int(self._python("int() of a value computed from x"))

    def __float__(self) -> float:
        return float(self._python("float() of a value computed from x"))

    def __complex__(self) -> complex:
        return complex(self._python("complex() of a value computed from x"))

    def __index__(self) -> int:
        return self._python("a value computed from x used as a Python integer").__index__()

    def item(self, *args: Any) -> Any:
        return self._python("item() of a value computed from x").item(*args)

    def tolist(self) -> Any:
        return self._python("tolist() of a value computed from x").tolist()


# Functions of an array's structure, not its values: their results are not derived from x.
_STRUCTURE_ONLY = frozenset(
    _np_function
    for _name in (
        "shape ndim size result_type may_share_memory shares_memory iscomplexobj isrealobj "
        "min_scalar_type"
    ).split()
    if (_np_function := getattr(np, _name, None)) is not None
)
# Functions whose result's shape depends on the values of their argument.
_SHAPE_FROM_VALUES = frozenset(
    _np_function
    for _name in (
        "nonzero argwhere flatnonzero unique unique_values unique_counts unique_inverse "
        "unique_all extract compress trim_zeros setdiff1d setxor1d intersect1d union1d"
    ).split()
    if (_np_function := getattr(np, _name, None)) is not None
)


def _plain_all(a: Any) -> Any:
    """``a`` with every ``ValueDerived`` array as a plain ndarray (through tuples, lists, dicts)."""
    t = type(a)
    if t is ValueDerived:
        return a.array
    if t is tuple or t is list:
        return t(_plain_all(i) for i in a)
    if t is dict:
        return {k: _plain_all(v) for k, v in a.items()}
    return a


def _derived(r: Any) -> Any:
    """A result computed from x's values, as ``ValueDerived`` (numbers as 0-d arrays)."""
    t = type(r)
    if t is ValueDerived:
        return r
    if isinstance(r, (np.ndarray, np.generic, bool, int, float, complex)):
        return ValueDerived(r)
    if t is tuple or t is list or hasattr(r, "_fields"):
        items = [_derived(i) for i in r]
        return type(r)(*items) if hasattr(r, "_fields") else t(items)
    return r


def _has_derived(a: Any) -> bool:
    t = type(a)
    if t is ValueDerived:
        return True
    if t is tuple or t is list:
        return any(_has_derived(i) for i in a)
    if t is slice:
        return _has_derived((a.start, a.stop, a.step))
    return False


def _is_mask(k: Any) -> bool:
    k = _plain_all(k)
    return isinstance(k, (np.ndarray, bool, np.bool_)) and np.asarray(k).dtype == bool


def _smear(deps: np.ndarray, axes: Any) -> np.ndarray:
    """Every element depends on the union along ``axes`` (None: all): what an element selected
    by an index computed from x's values may be, at another point."""
    if axes is None:
        axes = tuple(range(deps.ndim))
    axes = tuple(sorted({a % deps.ndim for a in axes})) if deps.ndim else ()
    if not axes or not deps.size:
        return deps
    return np.broadcast_to(_reduce(deps, axes, keepdims=True), deps.shape).copy()


def _split_key(key: Any, ndim: int) -> tuple[Any, tuple[int, ...]]:
    """``(key, axes)``: the index with value-derived parts as plain arrays, and the axes of the
    indexed array those parts select along (a gather through them may pick any element there)."""
    items = key if type(key) is tuple else (key,)
    if not any(type(i) is ValueDerived for i in items):
        return key, ()

    def width(item: Any) -> int:
        item = _plain_all(item)
        if item is None or isinstance(item, (bool, np.bool_)):
            return 0
        if isinstance(item, np.ndarray) or type(item) is list:
            arr = np.asarray(item)
            return arr.ndim if arr.dtype == bool else 1
        return 1

    fixed = sum(width(i) for i in items if i is not Ellipsis)
    axes: list[int] = []
    position = 0
    for item in items:
        w = ndim - fixed if item is Ellipsis else width(item)
        if type(item) is ValueDerived:
            if _is_mask(item):
                _decide("a boolean mask computed from x (the shape depends on its values)")
            axes.extend(range(position, position + w))
        position += w
    plain = _plain_all(items)
    return (plain if type(key) is tuple else plain[0]), tuple(axes)


def _dtype(value: Any) -> Any:
    if dtype_hidden(3):  # asked by NumPy's mean (see dualdiff.dual.objects.dtype_hidden)
        raise AttributeError("dtype")
    return value.dtype


class SparsityTracer(NDArrayOperatorsMixin, ArrayMethods):
    """An array whose elements carry the set of input positions they depend on.

    ``value`` is the ndarray of values at the traced point; ``deps`` an object array of the same
    shape holding, per element, the id of the set of flat input indices it depends on (in
    ``store``, the trace's sets). Indexing returns views of
    both (as NumPy does), so assignment through a slice reaches the base array. Comparisons give
    plain boolean arrays of the values. Converting to a plain array or number raises TypeError
    unless nothing depends on ``x``.
    """

    __slots__ = ("value", "deps", "store", "scalar", "__weakref__")
    __array_priority__ = 1000
    # newer than any eager dual, as the compiler's traced arrays: a DualArray of an inner jvp
    # that meets a tracer hands the operation to the tracer, which refuses the mix by name
    tag = NEWEST_TAG
    # it carries which inputs each element depends on, not tangents (dualdiff.custom_jvp asks)
    carries_dependencies = True

    def __reduce_ex__(self, protocol: Any) -> Any:
        # (pickle raised "cannot pickle 'weakref.ReferenceType' object", naming none of this)
        raise TypeError(
            "jacobian_sparsity: a traced array cannot be pickled (it stands for the dependencies "
            "of one run of f); use x.copy() for a copy inside f"
        )

    @staticmethod
    def rule_primal(a: Any) -> Any:
        """A traced argument of a function with a derivative rule of its own
        (``dualdiff.custom_jvp``) as its rule's primal: its values, computed from x
        (``ValueDerived``), so that the rule's branches on them are noted and its masks and
        indices are not trusted as constants, and so that the rule can call the function on it
        (the body sees no tracer; it may be code the tracer cannot follow). Mapped over tuples
        and lists."""
        if type(a) in (tuple, list):
            return type(a)(SparsityTracer.rule_primal(item) for item in a)
        return ValueDerived(a.value) if type(a) is SparsityTracer else a

    @staticmethod
    def rule_result(out: Any, tangent: Any) -> Any:
        """The result of a function with a derivative rule of its own (``dualdiff.custom_jvp``),
        traced through that rule with the traced inputs as tangents (``rule_primal`` gives the
        primals): ``out``'s values, depending on what its tangent depends on. The rule decides,
        not the body: a straight-through rule (the identity for ``np.round``) has a derivative
        where the body has none. Mapped over tuples and lists."""
        if type(out) in (tuple, list):
            if type(tangent) not in (tuple, list) or len(tangent) != len(out):
                raise ValueError(
                    "the tangent output must have the same tuple structure as the value output"
                )
            return type(out)(SparsityTracer.rule_result(o, t) for o, t in zip(out, tangent))
        value, deps = _split(out, "custom_jvp output")
        _, tangent_deps = _split(tangent, "custom_jvp tangent")
        shape = np.shape(value)
        return _make(np.array(value), _union([deps, tangent_deps], shape))

    def __init__(self, value: Any, deps: Any = None) -> None:
        # ``deps``: an array of sets (or iterables) of flat input indices, one per element
        value = np.asarray(value)
        store = _store()
        if deps is None:
            ids = _empty_deps(value.shape)
        elif isinstance(deps, (set, frozenset)):
            ids = store.from_sets(np.array([deps, None], dtype=object)[:1]).reshape(())
        else:
            ids = store.from_sets(deps)
        if ids.shape != value.shape:
            raise ValueError(
                f"SparsityTracer: deps of shape {ids.shape} do not match value shape {value.shape}"
            )
        self.value = value
        self.deps = ids
        self.store = store
        self.scalar = False
        store.register(self)

    # -- array attributes ---------------------------------------------------------------------

    def _set_shape(self, shape: Any) -> None:
        # as ndarray's: in place where NumPy can do it without a copy (its AttributeError
        # otherwise), the dependency ids along with the values, so views taken before still
        # share both
        value, deps = self.value.view(), self.deps.view()
        value.shape = shape
        deps.shape = shape
        self.value, self.deps = value, deps

    shape = property(lambda self: self.value.shape, _set_shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: _dtype(self.value))  # (none for np.mean of an object array)
    T = property(lambda self: _make(self.value.T, self.deps.T, self.store))
    mT = property(lambda self: np.matrix_transpose(self))
    # a view, as NumPy's (of a real array: the array itself); the parts share the dependencies
    real = property(lambda self: _make(self.value.real, self.deps.view(), self.store))
    imag = property(
        lambda self: (
            _make(self.value.imag, self.deps.view(), self.store)
            if self.value.dtype.kind == "c"
            else np.imag(self)
        )
    )

    # y.real = v and y.imag = v write into y's memory, as ndarray's setters do
    @real.setter
    def real(self, value: Any) -> None:
        self.real[...] = value

    @imag.setter
    def imag(self, value: Any) -> None:
        if self.value.dtype.kind != "c":
            raise TypeError("array does not have imaginary part to set")
        self.imag[...] = value

    def __repr__(self) -> str:
        nnz = self.store.total(self.deps)
        return f"SparsityTracer(shape={self.shape}, {nnz} dependencies, value={self.value!r})"

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        _decide("the truth value of a traced array (if, while, and, or)")
        return bool(self.value)

    def _check_plain(self, what: str) -> None:
        if _has_deps(self.deps):
            raise _drop_error(what)
        _decide(what)  # a piecewise-constant value of x (np.floor(x)) is still x's value

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if (dtype is None or np.dtype(dtype) == object) and _has_deps(self.deps):
            # as a DualArray's: an object array of 0-d tracers (dualdiff.dual.objects)
            refuse_or_warn(
                "numpy.asarray(x)/numpy.array([...]) of traced values",
                "For full speed pass the traced array on and build arrays with np.stack([...]).",
                None,
                copy,
            )
            items = [self[index] for index in np.ndindex(*self.shape)]
            return object_array(items, self.shape, writable=copy is True, like=self.value)
        self._check_plain("np.asarray(...) of a traced array")
        return np.asarray(self.value, dtype=dtype)

    # piecewise-constant conversions give plain numbers, as a Dual's do (their derivative is
    # 0); the number is x's value, so the pattern holds at the traced point only
    def _number(self, what: str) -> Any:
        _decide(what)
        return self.value[()] if self.value.ndim == 0 else self.value  # (a NumPy scalar)

    def __round__(self, ndigits: int | None = None) -> Any:
        return round(self._number("round() of a traced value"), ndigits)

    def __floor__(self) -> Any:
        return math.floor(self._number("math.floor() of a traced value"))

    def __ceil__(self) -> Any:
        return math.ceil(self._number("math.ceil() of a traced value"))

    def __trunc__(self) -> Any:
        return math.trunc(self._number("math.trunc() of a traced value"))

    def __float__(self) -> float:
        self._check_plain(
            f"float(...) of a traced value (float(x), math.sin(x), {errors.FLOAT_WRITE})"
        )
        return float(self.value)

    def __int__(self) -> int:
        self._check_plain("int(...) of a traced value")
        return int(self.value)

    def __complex__(self) -> complex:
        self._check_plain("complex(...) of a traced value")
        return complex(self.value)

    def __index__(self) -> int:
        self._check_plain("using a traced value as an index")
        return self.value.__index__()

    # elements that depend on x stay traced, as a DualArray's stay duals (their tangents kept)
    def tolist(self) -> Any:
        if _has_deps(self.deps):
            return ArrayMethods.tolist(self)
        self._check_plain("tolist() of a traced array")
        return self.value.tolist()

    def item(self, *args: Any) -> Any:
        if _has_deps(self.deps):
            return ArrayMethods.item(self, *args)
        self._check_plain("item() of a traced array")
        return self.value.item(*args)

    # -- indexing -----------------------------------------------------------------------------

    @_operation
    def __getitem__(self, key: Any) -> SparsityTracer:
        key, axes = _split_key(_plain_key(key), self.value.ndim)
        if axes:
            with _InStore(self.store):
                return _make(self.value[key], _smear(self.deps, axes)[key], self.store)
        return _make(self.value[key], self.deps[key], self.store)

    @_operation
    def __setitem__(self, key: Any, item: Any) -> None:
        key, axes = _split_key(_plain_key(key), self.value.ndim)
        with _InStore(self.store):  # the item's sets join this array's store
            value, deps = _split(item, "assignment")
            self.value[key] = value
            if _part_of_complex(self.value):
                deps = _or(self.deps[key], deps)
            before = _reduce(self.deps, axes, keepdims=True) if axes else None
            self.deps[key] = deps
            if before is not None:
                # the elements written at another point are others along these axes: each may
                # hold what it held before or what was written
                after = _reduce(self.deps, axes, keepdims=True)
                self.deps[...] = np.broadcast_to(_or(before, after), self.shape)

    # -- NumPy protocols ----------------------------------------------------------------------

    @_operation
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.pop("out", None)
        if method == "__call__" and kwargs.get("where", True) is not True:
            # computed everywhere, out's entries (and dependencies) kept outside where, as
            # eager and Taylor mode do it
            where = kwargs.pop("where")
            result = self.__array_ufunc__(ufunc, method, *inputs, **kwargs)
            return _write_out(out, kept_where(ufunc, where, out, result), function_name(ufunc))
        if out is not None:
            result = self.__array_ufunc__(ufunc, method, *inputs, **kwargs)
            return _write_out(out, result, f"{function_name(ufunc)}")
        errors.check_plain_types(map(type, inputs), f"jacobian_sparsity: {function_name(ufunc)}")
        inputs = lift_inputs(inputs)  # object arrays of tracers, lists holding them
        for a in inputs:
            if is_dual(a) and type(a) is not SparsityTracer:
                _split(a, f"{function_name(ufunc)}")
        if method == "at":
            return _ufunc_at(ufunc, *inputs, **kwargs)
        if ufunc in VALUE_UFUNCS:
            return _derived(getattr(ufunc, method)(*_values(inputs), **kwargs))
        if ufunc in table.FUNCTIONS and method == "__call__" and not kwargs:
            # np.matmul, a ufunc declared in the function table: its handler, as a function's
            return (_FUNCTIONS.get(ufunc) or _DERIVED[ufunc])(ufunc, *inputs)
        multi = MULTI_OUTPUT_UFUNCS.get(ufunc)
        if multi is not None and method == "__call__" and not kwargs:
            return multi(*inputs)  # np.divmod, np.modf, np.frexp: each output a rule's
        rule = UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc)
        if rule is None:
            raise _no_rule(f"{function_name(ufunc)}")
        if method == "__call__":
            return _apply(rule, inputs, lambda *v: ufunc(*v, **kwargs))
        if rule.nin == 2 and method in ("reduce", "accumulate", "reduceat", "outer"):
            return _ufunc_method(rule, ufunc, method, inputs, kwargs)
        raise _no_rule(f"{function_name(ufunc)}.{method}")

    @_operation
    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        handler = _FUNCTIONS.get(func) or _DERIVED.get(func)
        if handler is None:
            raise _no_rule(function_name(func))
        errors.check_plain_types(types, f"jacobian_sparsity: {function_name(func)}")
        for t in types:
            if t is not SparsityTracer and t is not ValueDerived and not issubclass(t, np.ndarray):
                if t.__module__.startswith("dualdiff."):
                    raise TypeError(
                        f"jacobian_sparsity: cannot mix a sparsity tracer with {t.__name__} in "
                        f"{function_name(func)}"
                    )
                return NotImplemented
        args, kwargs = lift_operands(func, args, kwargs)  # operands: lists holding tracers
        if "out" in kwargs or len(args) > errors.out_position(func):
            # computed without out=, then written into it (np.copyto: a plain out= cannot take
            # dependencies), as the eager and Taylor modes do; all read before any is written
            out, args, kwargs = errors.take_out(func, args, kwargs)
            if out is not None:
                result = func(*args, **kwargs)
                errors.check_out_shape(func, out, result)
                if type(out) is not SparsityTracer and _has_deps(_split(result)[1]):
                    raise _drop_error(f"{function_name(func)}(..., out=<a plain array>)")
                np.copyto(out, result)
                return out
        return handler(func, *lift_arguments(args), **kwargs)  # (object arrays of tracers)

    # -- methods (each defers to the NumPy function of the same name) ---------------------------

    def copy(self, order: str = "C") -> SparsityTracer:
        return _make(self.value.copy(order), self.deps.copy(order), self.store)

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        if not copy and np.dtype(dtype) == self.value.dtype:
            return self  # NumPy's astype(copy=False) returns the array itself
        value = self.value.astype(dtype, copy=copy)
        if value.dtype.kind not in "fc":
            # refused as every other mode refuses it (its pattern, no dependency, was one that
            # no mode could then compute the Jacobian of)
            raise errors.drops_tangent(
                TypeError(
                    f"x.astype({value.dtype}) of a traced value would drop the dependency on x "
                    "that jacobian_sparsity is tracing (and the derivative, in every mode); keep "
                    "a float or complex dtype (np.trunc(x) rounds to whole numbers)"
                )
            )
        # a new dtype is a new array, copy=False or not: its dependencies are its own (shared,
        # a write into the float32 copy reached the float64 array's pattern)
        return _make(value, self.deps.copy(), self.store)

    def conjugate(self) -> SparsityTracer:
        return np.conjugate(self)

    conj = conjugate

    def fill(self, value: Any) -> None:
        self[...] = value

    def view(self) -> SparsityTracer:
        return _make(self.value.view(), self.deps.view(), self.store)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return _derived(np.any(self.value, *args, **kwargs))

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return _derived(np.all(self.value, *args, **kwargs))


def _no_rule(name: str) -> TypeError:
    return TypeError(
        f"jacobian_sparsity has no dependency rule for {name}; pass the pattern yourself "
        "(sparsity=<boolean array>) or write f with supported functions"
    )


def _not_of_kind(entry: table.Entry, reason: str) -> TypeError:
    """A call the function table's guard refuses (it is not of the entry's kind)."""
    return TypeError(
        f"jacobian_sparsity has no dependency rule for this call: {reason} (numpy.{entry.name} "
        f"is {entry.kind} otherwise); pass the pattern yourself (sparsity=<boolean array>)"
    )


def _write_out(out: Any, result: Any, name: str) -> Any:
    if type(out) is tuple and len(out) > 1 and type(result) is tuple and len(result) == len(out):
        # np.divmod(a, b, out=(q, r)): one result into each (None: left as computed)
        return tuple(r if o is None else _write_out(o, r, name) for r, o in zip(result, out))
    target = out[0] if type(out) is tuple else out
    if type(out) is tuple and len(out) != 1:
        raise _no_rule(f"{name} with several outputs")
    if type(target) is SparsityTracer:
        target[...] = result
        return target
    if type(result) is SparsityTracer:
        if _has_deps(result.deps):
            raise _drop_error(f"{name}(..., out=<plain array>)")
        result = result.value
    np.copyto(target, result)
    return target


# ---------------------------------------------------------------------------------------------
# Rules: elementwise functions and ufunc methods
# ---------------------------------------------------------------------------------------------


def _depends(rule: Rule, i: int, complex_input: bool) -> bool:
    """Whether the output of ``rule`` can depend on argument ``i``."""
    if rule.zero:
        return False
    if rule.name == "sign":
        return complex_input  # real sign is piecewise constant; complex z/|z| is not
    if rule.jvp is not None:
        return True
    return i < len(rule.partials) and rule.partials[i] is not None


@_operation
def _apply(rule: Rule, inputs: Any, compute: Callable[..., Any]) -> SparsityTracer:
    inputs = lift_arguments(inputs)  # object arrays of tracers: tracers, whose deps count
    pairs = [_split(a, rule.name) for a in inputs]
    value = _numpy_result(compute(*(p[0] for p in pairs)))
    complex_input = any(np.iscomplexobj(p[0]) for p in pairs)
    deps = [
        p[1]
        for i, (a, p) in enumerate(zip(inputs, pairs))
        if type(a) is SparsityTracer and _depends(rule, i, complex_input)
    ]
    return _make(value, _union(deps, value.shape))


def _lift_unary(rule: Rule, x: Any) -> SparsityTracer:
    return _apply(rule, (x,), rule.array)


def _lift_binary(rule: Rule, x: Any, y: Any) -> SparsityTracer:
    return _apply(rule, (x, y), rule.array)


def _ufunc_method(rule: Rule, ufunc: np.ufunc, method: str, inputs: Any, kwargs: Any) -> Any:
    name = f"{function_name(ufunc)}.{method}"
    if method == "reduceat":  # the indices as given: NumPy converts a list ([] too) itself
        if _contains_tracer(inputs[1:]):
            raise TypeError(f"jacobian_sparsity: the indices of {name} must not depend on x")
        pairs = [_split(inputs[0], name), (_plain_all(inputs[1]), None)]
    else:
        pairs = [_split(a, name) for a in inputs]
    # (where= computed from x: the union along the axis holds whichever elements it keeps)
    value = _numpy_result(getattr(ufunc, method)(*(p[0] for p in pairs), **_plain_all(kwargs)))
    if not (_depends(rule, 0, False) or _depends(rule, 1, False)):
        return _make(value, _empty_deps(value.shape))
    deps = pairs[0][1]
    if method == "outer":
        a, b = (
            p[1] if _depends(rule, i, False) else _empty_deps(p[1].shape)
            for i, p in enumerate(pairs)
        )
        return _make(value, _or(a.reshape(a.shape + (1,) * b.ndim), b))
    axis = kwargs.get("axis", 0)
    if method == "reduce":
        out = _reduce(deps, axis, kwargs.get("keepdims", False))
    elif method == "accumulate":
        out = _store().accumulate(deps, axis)
    else:
        out = _store().reduceat(deps, np.asarray(pairs[1][0]).astype(np.intp), axis)
    return _make(value, np.broadcast_to(out, value.shape).copy())


def _ufunc_at(ufunc: np.ufunc, a: Any, indices: Any, *b: Any, **kwargs: Any) -> None:
    """``ufunc.at(a, indices[, b])``: unbuffered in place, so an element indexed several times
    takes every ``b`` written to it. An element keeps its set and gains those of the ``b``
    entries that reach it (by the same index on an array of element numbers); indices computed
    from x's values may reach any element."""
    name = f"{function_name(ufunc)}.at"
    rule = UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc)
    if rule is None or kwargs or ufunc.nin != 1 + len(b):
        raise _no_rule(name)
    if _contains_tracer(indices if type(indices) is tuple else (indices,)):
        raise TypeError(f"jacobian_sparsity: the indices of {name} must not depend on x")
    index = _plain_all(indices)
    if type(a) is not SparsityTracer:
        values = [_split(item, name) for item in b]
        if any(_has_deps(d) for _, d in values):
            raise _drop_error(f"{name} into a plain array")
        ufunc.at(a, index, *(v for v, _ in values))
        return None
    with _InStore(a.store):
        values = [_split(item, name) for item in b]
        ufunc.at(a.value, index, *(v for v, _ in values))
        old = np.ravel(a.deps)
        if not values or not _depends(rule, 1, np.iscomplexobj(a.value)):
            return None  # each element keeps its set (a superset when the rule drops it)
        b_deps = values[0][1]
        if _has_derived(indices):  # any element may be reached, at another point
            new = _or(old, _reduce(b_deps, None))
        else:
            positions = np.arange(a.size).reshape(a.shape)[index]
            reached = np.broadcast_to(b_deps, positions.shape)
            groups = np.concatenate([np.arange(a.size), np.ravel(positions)])
            ids = np.concatenate([old, np.ravel(reached)])
            new = _store().union_groups(groups, ids, a.size)
        a.deps[...] = new.reshape(a.shape)
    return None


register_lift(SparsityTracer, 100, _lift_unary, _lift_binary)
add_element_methods(SparsityTracer)  # np.sin(a) of an object array of tracers calls e.sin()


# ---------------------------------------------------------------------------------------------
# NumPy functions
# ---------------------------------------------------------------------------------------------


def _implements(*funcs: Any) -> Callable[..., Any]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        for func in funcs:
            if func is not None:
                _FUNCTIONS[func] = handler
        return handler

    return register


def _np(*names: str) -> list[Any]:
    """The NumPy functions of these names that exist in this NumPy version."""
    out = []
    for name in names:
        obj: Any = np
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if obj is not None:
            out.append(obj)
    return out


def _wrap(value: Any, deps: Any) -> Any:
    if type(value) in (list, tuple):
        return type(value)(_wrap(v, d) for v, d in zip(value, deps))
    return _make(value, deps)


def _kinds(entry: table.Entry) -> dict[str, str]:
    """The parameters of a function that carry dependencies, by the table's ``operands``: "leaf"
    (one array), "seq" (``*name``, a sequence of arrays) or "nested" (``**name``, np.block's
    nested lists)."""
    out = {}
    for name in entry.operands:
        depth = len(name) - len(name.lstrip("*"))
        out[name.lstrip("*")] = ("leaf", "seq", "nested")[depth]
    return out


def _structural(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Functions that only move, copy or select elements: apply them to values and deps alike."""
    entry = table.FUNCTIONS[func]
    kinds = _kinds(entry)
    bound = errors.bound_arguments(func, args, kwargs)
    extra = dict(bound.pop("kwargs", {})) if func is np.pad else {}  # pad's **kwargs options
    if bound.get("out") is not None:
        raise TypeError(f"jacobian_sparsity: {function_name(func)}(out=...) is not supported")
    dtype = bound.get("dtype")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(
            f"jacobian_sparsity: {function_name(func)}(..., dtype={dtype!r}) would drop the "
            "dependencies (only float and complex dtypes carry derivatives)"
        )
    if entry.guard is not None:
        reason = entry.guard(lambda name, default=None: bound.get(name, extra.get(name, default)))
        if reason is not None:
            raise _not_of_kind(entry, reason)
    value_args, deps_args = dict(bound), dict(bound)
    if dtype is not None:  # np.concatenate(..., dtype=np.float32): the values' dtype, not the ids'
        deps_args["dtype"] = None
    value_extra, deps_extra = dict(extra), dict(extra)
    for name, kind in kinds.items():
        if name in bound:
            value_args[name], deps_args[name] = _split_kind(bound[name], kind)
        elif name in extra:
            value_extra[name], deps_extra[name] = _split_kind(extra[name], kind)
    for name, argument in {**bound, **extra}.items():
        # an option computed from x (a compress condition, split indices) would dispatch back
        # here without end, and would make the pattern hold at this point only
        if name not in kinds and _has_tracer(argument):
            raise TypeError(
                f"jacobian_sparsity: the argument {name!r} of {function_name(func)} must not "
                "depend on x; pass the pattern yourself (sparsity=<bool array>)"
            )
    if func is np.pad:
        if bound.get("mode", "constant") == "empty":
            # NumPy leaves the new elements undefined: they depend on nothing (the ids of an
            # uninitialised integer array would name arbitrary sets)
            deps_args["mode"], deps_extra = "constant", {"constant_values": _EMPTY}
        deps_extra.pop("reflect_type", None)  # "even" only (the guard): the default
        value_args["kwargs"], deps_args["kwargs"] = value_extra, deps_extra
    derived = [k for k, v in {**bound, **extra}.items() if k not in kinds and _has_derived(v)]
    if derived:
        return _structural_through_values(func, bound, kinds, value_args, deps_args)
    value = _call(func, value_args)
    deps = _call(func, deps_args)
    return _wrap(value, deps)


def _structural_through_values(
    func: Any, bound: dict[str, Any], kinds: dict[str, str], value_args: Any, deps_args: Any
) -> Any:
    """A structural function whose indices, shifts, counts or conditions were computed from x's
    values: an element it moves may come from anywhere along the axis it works on (everywhere
    when it flattens), at another point. The union along that axis, before and after."""
    axis = bound.get("axis")
    axis = axis if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) else None
    if func not in (np.take, np.take_along_axis, np.roll):  # a shape that follows the values
        _decide(f"{function_name(func)} with arguments computed from x")
    value_args = _plain_all(value_args)
    deps_args = dict(_plain_all(deps_args))
    first = True
    for name, kind in kinds.items():
        if name not in deps_args:
            continue
        d = deps_args[name]
        if kind == "leaf":
            deps_args[name] = _smear(d, (axis,) if first and axis is not None else None)
            first = False
    value = _call(func, value_args)
    deps = _call(func, deps_args)
    if type(deps) in (list, tuple):
        return _wrap(value, type(deps)(_smear(d, None if axis is None else (axis,)) for d in deps))
    return _wrap(value, _smear(deps, None if axis is None or deps.ndim <= axis else (axis,)))


def _split_kind(a: Any, kind: str) -> tuple[Any, Any]:
    if kind == "leaf":
        return _split(a, "argument")
    if kind == "seq":
        pairs = [_split(item, "argument") for item in a]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if type(a) in (list, tuple):
        pairs = [_split_kind(item, "nested") for item in a]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return _split(a, "argument")


def _has_tracer(a: Any) -> bool:
    if type(a) is SparsityTracer:
        return True
    if isinstance(a, (list, tuple)):
        return any(_has_tracer(item) for item in a)
    if isinstance(a, dict):
        return any(_has_tracer(item) for item in a.values())
    return False


def _call(func: Any, arguments: dict[str, Any]) -> Any:
    """Call ``func`` with bound arguments (positional-only and variadic ones included)."""
    args, kwargs = [], {}
    positional = True  # until a parameter is skipped; later ones then go by keyword
    for p in errors.signature(func).parameters.values():
        if p.name not in arguments:
            positional = positional and p.kind is p.POSITIONAL_ONLY
            continue
        a = arguments[p.name]
        if p.kind is p.VAR_POSITIONAL:
            args.extend(a)
        elif p.kind is p.VAR_KEYWORD:
            kwargs.update(a)
        elif p.kind is p.POSITIONAL_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and positional):
            args.append(a)
        else:
            kwargs[p.name] = a
    return func(*args, **kwargs)


_PAD_STATISTICS = ("maximum", "mean", "median", "minimum")


@_implements(np.pad)
def _pad(func: Any, array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """np.pad: its copying modes are structural (``_structural``); the computing ones pad each
    axis in turn, as NumPy does, a new element depending on the edge element it ramps from
    (``linear_ramp``) or on its whole line along that axis (the statistics, ``stat_length``
    or not, and odd reflections: a superset)."""
    odd = mode in ("reflect", "symmetric") and kwargs.get("reflect_type", "even") != "even"
    if mode != "linear_ramp" and mode not in _PAD_STATISTICS and not odd:
        return _structural(func, array, pad_width, mode, **kwargs)
    if _has_tracer(pad_width) or _has_tracer(kwargs):
        raise TypeError(
            f"jacobian_sparsity: numpy.pad(mode={mode!r}) options must not depend on x (only the "
            "array carries dependencies)"
        )
    if _has_derived(pad_width):
        _decide("numpy.pad with pad widths computed from x (the shape depends on them)")
    value, deps = _split(array, "numpy.pad")
    out = np.pad(value, _plain_all(pad_width), mode, **_plain_all(kwargs))
    widths = np.broadcast_to(np.asarray(_plain_all(pad_width), dtype=np.intp), (deps.ndim, 2))
    for axis in range(deps.ndim):
        width = [(0, 0)] * deps.ndim
        width[axis] = tuple(widths[axis])
        if mode == "linear_ramp":
            source = deps
        else:
            source = np.broadcast_to(_reduce(deps, axis, keepdims=True), deps.shape)
        inner = np.zeros(deps.shape[axis], dtype=bool)
        inside = np.pad(np.ones_like(inner), width[axis]).reshape(
            [-1 if k == axis else 1 for k in range(deps.ndim)]
        )
        deps = np.where(
            inside,
            np.pad(deps, width, mode="constant", constant_values=_EMPTY),
            np.pad(source, width, mode="edge") if deps.shape[axis] else _EMPTY,
        )
    return _make(out, deps)


@_implements(*_np("triu", "tril"))
def _triangle(func: Any, m: Any, k: int = 0) -> SparsityTracer:
    value, deps = _split(m)
    out = func(value, k)
    keep = func(np.ones(out.shape[-2:], dtype=bool), k)
    return _make(out, np.where(keep, np.broadcast_to(deps, out.shape), _EMPTY))


@_implements(np.diag)
def _diag(func: Any, v: Any, k: int = 0) -> SparsityTracer:
    value, deps = _split(v)
    out = np.diag(value, k)
    if value.ndim == 2:
        return _make(out, np.diagonal(deps, k).copy())
    mask = np.diag(np.ones(value.shape, dtype=bool), k)
    full = _empty_deps(out.shape)
    full[mask] = deps
    return _make(out, full)


@_implements(*_np("zeros_like", "ones_like", "empty_like", "full_like"))
def _like(func: Any, *args: Any, **kwargs: Any) -> Any:
    bound = errors.bound_arguments(func, args, kwargs)
    name = "prototype" if "prototype" in bound else "a"
    bound[name] = _split(bound[name])[0]
    fill = _empty_deps(())
    if "fill_value" in bound:  # the table's operand of full_like: every element is a copy of it
        bound["fill_value"], fill = _split(bound["fill_value"], "numpy.full_like")
    value = _call(func, bound)
    if func is np.empty_like:
        value[...] = 0  # a defined value: the tracer's values may be printed or compared
    if value.dtype.kind not in "fc":
        return value
    # a tracer, so that f can assign into it
    return _make(value, np.broadcast_to(fill, value.shape).copy())


@_implements(np.copyto)
def _copyto(func: Any, dst: Any, src: Any, casting: str = "same_kind", where: Any = True) -> None:
    src_value, src_deps = _split(src)
    if type(dst) is not SparsityTracer:
        if _has_deps(src_deps):
            raise _drop_error("numpy.copyto into a plain array")
        np.copyto(dst, src_value, casting=casting, where=where)
        return
    with _InStore(dst.store):
        src_deps = _split(src)[1]
        mask = _plain_all(_split(where)[0])
        np.copyto(dst.value, src_value, casting=casting, where=mask)
        if _part_of_complex(dst.value):
            src_deps = _or(dst.deps, src_deps)
        if type(where) is not ValueDerived and type(where) is not SparsityTracer:
            np.copyto(dst.deps, src_deps, casting="unsafe", where=mask)
            return
        # a mask computed from x picks other elements at another point: each element it reaches
        # may keep its own dependencies or take the source's
        np.copyto(dst.deps, _or(dst.deps, src_deps), casting="unsafe")


def _elementwise(func: Any, deps_of: Callable[..., list[Any]]) -> Callable[..., Any]:
    def handler(func: Any, *args: Any, **kwargs: Any) -> SparsityTracer:
        bound = errors.bound_arguments(func, args, kwargs)
        if bound.get("out") is not None:
            raise TypeError(f"jacobian_sparsity: {function_name(func)}(out=...) is not supported")
        split = {k: _split(v) for k, v in bound.items() if _is_array_arg(v)}
        value = _numpy_result(_call(func, {**bound, **{k: v[0] for k, v in split.items()}}))
        deps = _union(deps_of(value, split), value.shape)
        if value.ndim > 1 and value.flags.f_contiguous and not deps.flags.f_contiguous:
            # in the value's memory order (NumPy's np.where of a Fortran-ordered x is one):
            # its reshapes view it or copy it as the value's do (a write through
            # y.T.reshape(-1) was lost and the pattern missed what it wrote)
            deps = np.asfortranarray(deps)
        return _make(value, deps)

    return handler


def _is_array_arg(a: Any) -> bool:
    return type(a) in (SparsityTracer, ValueDerived, list, tuple) or isinstance(a, np.ndarray)


def _deps_args(*names: str) -> Callable[..., list[Any]]:
    return lambda value, split: [split[n][1] for n in names if n in split]


# np.where takes both branches: the pattern holds whichever way the condition goes.
_FUNCTIONS[np.where] = lambda func, condition, *xy: (
    _value_function(np.nonzero, condition)
    if not xy
    else _elementwise(np.where, lambda v, s: [_split(a)[1] for a in xy])(func, condition, *xy)
)
_implements(np.clip)(_elementwise(np.clip, _deps_args("a", "a_min", "a_max", "min", "max")))
_implements(np.real)(lambda func, val: val.real if type(val) is SparsityTracer else np.real(val))
_nan_to_num_copy = _elementwise(np.nan_to_num, _deps_args("x"))


@_implements(np.nan_to_num)
def _nan_to_num(func: Any, x: Any, copy: bool = True, **kwargs: Any) -> Any:
    result = _nan_to_num_copy(func, x, copy=True, **kwargs)
    if copy or type(x) is not SparsityTracer:
        return result
    # copy=False replaces in x itself and returns x (x[()] when 0-d): a write through the
    # result, or x read later, must see the same array
    x[...] = result
    return x[()] if x.ndim == 0 else x


_implements(*_np("angle"))(_elementwise(np.angle, _deps_args("z")))
_implements(*_np("round", "around", "fix"))(_elementwise(np.round, lambda v, s: []))


@_implements(np.imag)
def _imag(func: Any, val: Any) -> SparsityTracer:
    value, deps = _split(val)
    if not np.iscomplexobj(value):
        return _make(np.imag(value), _empty_deps(value.shape))  # the zero of a real array
    return _make(np.imag(value), deps.copy())


@_implements(np.interp)
def _interp(func: Any, x: Any, xp: Any, fp: Any, *args: Any, **kwargs: Any) -> SparsityTracer:
    (xv, xd), (xpv, xpd), (fpv, fpd) = _split(x), _split(xp), _split(fp)
    value = _numpy_result(np.interp(xv, xpv, fpv, *_values(args), **_values(kwargs)))
    grid = _or(_reduce(xpd, None), _reduce(fpd, None))
    return _make(value, _union([xd, grid], value.shape))


@_implements(*_np("zeros", "ones", "empty", "full"))
def _creation(func: Any, *args: Any, **kwargs: Any) -> Any:
    # np.zeros(n, like=x): a tracer with no dependencies, so that f can assign into it.
    value = func(*args, **kwargs)
    if func is np.empty:
        value[...] = 0
    if value.dtype.kind not in "fc":
        return value
    return _make(value, _empty_deps(value.shape))


@_implements(np.put)
def _put(func: Any, a: Any, ind: Any, v: Any, mode: str = "raise") -> None:
    value, deps = _split(v)
    if type(a) is not SparsityTracer:
        if _has_deps(deps):
            raise _drop_error("numpy.put into a plain array")
        np.put(a, ind, value, mode)
        return
    derived = _has_derived(ind)
    ind = _plain_all(ind)
    with _InStore(a.store):
        deps = _split(v)[1]
        before = _reduce(a.deps, None) if derived else None
        kept = a.deps.copy() if _part_of_complex(a.value) else None
        np.put(a.value, ind, value, mode)
        np.put(a.deps, ind, deps, mode)
        if kept is not None:  # one part of complex elements: the other part keeps its deps
            a.deps[...] = _or(kept, a.deps)
        if before is not None:  # positions from x's values: any element may be written
            a.deps[...] = _or(before, _reduce(a.deps, None))


@_implements(np.select)
def _select(func: Any, condlist: Any, choicelist: Any, default: Any = 0) -> SparsityTracer:
    # As np.where: every choice counts, whichever condition holds at this point.
    value = _numpy_result(np.select(_values(condlist), _values(choicelist), _values(default)))
    deps = [_split(c)[1] for c in list(choicelist) + [default]]
    return _make(value, _union(deps, value.shape))


@_implements(np.polyval)
def _polyval(func: Any, p: Any, x: Any) -> SparsityTracer:
    (pv, pd), (xv, xd) = _split(p), _split(x)
    value = _numpy_result(np.polyval(pv, xv))
    return _make(value, _union([xd, _reduce(pd, None)], value.shape))


@_implements(*_np("trapezoid"))
def _trapezoid(func: Any, y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    (yv, yd), (xv, xd) = _split(y), _split(x if x is not None else 0.0)
    dxv, dxd = _split(dx)  # a spacing computed from x scales every output
    value = _numpy_result(func(yv, None if x is None else xv, dxv, axis))
    along = _reduce(yd, axis)
    return _make(value, _union([along, _reduce(xd, None), _reduce(dxd, None)], value.shape))


@_implements(np.bincount)
def _bincount(func: Any, x: Any, weights: Any = None, minlength: Any = 0) -> Any:
    # bin k sums the weights whose bin number is k; bin numbers computed from x's values may
    # put any weight in any bin (and set the number of bins: the pattern holds here only)
    derived = _has_derived(x) or _contains_tracer(x if type(x) in (list, tuple) else [x])
    if derived:
        _decide("numpy.bincount with bin numbers computed from x (the shape depends on them)")
    bins = np.asarray(_plain_all(_values(x)))
    if weights is None:
        counts = np.bincount(bins, None, minlength)
        return _derived(counts) if derived else counts
    wv, wd = _split(weights, "numpy.bincount")
    value = np.bincount(bins, wv, minlength)
    if derived:
        return _make(value, _union([_reduce(wd, None)], value.shape))
    rows = bins.ravel().astype(np.intp)
    return _make(value, _gather_rows(rows, np.arange(rows.size), value.size, wd.ravel()))


@_implements(np.convolve, np.correlate)
def _convolution(func: Any, a: Any, v: Any, mode: str = "") -> SparsityTracer:
    # full[k] = sum_i a[i] w[k - i], with w = v (convolve) or conj(v[::-1]) (correlate): a traced
    # factor's set reaches the outputs where the other factor is present (traced, computed from
    # x's values, or a constant's non-zero); NumPy's modes are slices of the full result.
    mode = mode or ("full" if func is np.convolve else "valid")
    (av, ad), (wv, wd) = _split(a, function_name(func)), _split(v, function_name(func))
    value = _numpy_result(func(av, wv, mode))
    if av.ndim != 1 or wv.ndim != 1 or not av.size or not wv.size:
        return _make(value, _union([_reduce(ad, None), _reduce(wd, None)], value.shape))
    if func is np.correlate:
        wv, wd = wv[::-1], wd[::-1]
    length = av.size + wv.size - 1

    def reach(deps: np.ndarray, traced: Any, other: Any, other_value: np.ndarray) -> Any:
        """The sets of ``traced``'s elements where they meet a present element of ``other``."""
        if not _contains_tracer([traced]):
            return None
        present = np.ones(other_value.size, dtype=bool)
        if not _contains_tracer([other]) and not _has_derived(other):
            present = other_value != 0  # a constant's zeros hold at every point
        shifts = np.flatnonzero(present)
        cols = np.repeat(np.arange(deps.size), shifts.size)
        rows = cols + np.tile(shifts, deps.size)
        return _gather_rows(rows, cols, length, deps)

    parts = [reach(ad, a, v, wv), reach(wd, v, a, av)]
    full = _union([p for p in parts if p is not None], (length,))
    # where NumPy's mode starts in the full result: found on positive probes (no cancellation)
    rng = np.random.default_rng(0)
    pa, pw = rng.uniform(1.0, 2.0, av.size), rng.uniform(1.0, 2.0, wv.size)
    whole, part = func(pa, pw, "full"), func(pa, pw, mode)
    for start in range(length - value.size + 1):
        if np.allclose(whole[start : start + value.size], part, rtol=1e-12, atol=0.0):
            return _make(value, full[start : start + value.size].copy())
    return _make(value, _union([_reduce(full, None)], value.shape))  # conservative


@_implements(np.cross)
def _cross(func: Any, a: Any, b: Any, axisa=-1, axisb=-1, axisc=-1, axis=None) -> Any:
    # Component i of a x b involves the other two components of a and of b.
    (av, ad), (bv, bd) = _split(a), _split(b)
    value = _numpy_result(np.cross(av, bv, axisa, axisb, axisc, axis))
    if axis is not None:
        axisa = axisb = axisc = axis
    ad, bd = np.moveaxis(ad, axisa, -1), np.moveaxis(bd, axisb, -1)
    planar = ad.shape[-1] == 2 and bd.shape[-1] == 2
    ad, bd = (_pad3(d) for d in (ad, bd))
    # the vectors of a and b broadcast against each other (a (3,) with a (2, 2) gives (2, 3))
    batch = np.broadcast_shapes(ad.shape[:-1], bd.shape[:-1])
    parts = []
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        parts.append(_union([ad[..., j], ad[..., k], bd[..., j], bd[..., k]], batch))
    if planar:
        return _make(value, np.broadcast_to(parts[2], value.shape).copy())
    deps = np.stack(np.broadcast_arrays(*parts), axis=-1)
    return _make(value, np.moveaxis(deps, -1, axisc).copy())


def _pad3(d: np.ndarray) -> np.ndarray:
    if d.shape[-1] == 3:
        return d
    return np.concatenate([d, _empty_deps(d.shape[:-1] + (1,))], axis=-1)


# -- reductions ----------------------------------------------------------------------------------

_REDUCTIONS = (
    "sum prod mean max min amax amin nansum nanprod nanmean nanmax nanmin std var nanstd nanvar "
    "ptp median nanmedian average"
)


@_implements(*_np(*_REDUCTIONS.split()))
def _reduction(func: Any, *args: Any, **kwargs: Any) -> Any:
    bound = errors.bound_arguments(func, args, kwargs)
    if bound.get("out") is not None:
        raise TypeError(f"jacobian_sparsity: {function_name(func)}(out=...) is not supported")
    name = "x" if "x" in bound else "a"
    value_args = {k: _values(v) for k, v in bound.items()}
    value = _call(func, value_args)
    deps = _split(bound[name])[1]
    extra = [_split(v)[1] for k, v in bound.items() if k in ("weights", "initial", "mean")]
    keepdims = bound.get("keepdims", False) is True
    out = _reduce(deps, bound.get("axis"), keepdims)
    if type(value) is tuple:  # average(..., returned=True): (average, sum of weights)
        weights = [_reduce(d, bound.get("axis"), keepdims) for d in extra]
        return _wrap(value, (_union([out, *weights], np.shape(value[0])),) * 2)
    extra = [_reduce(d, None) for d in extra]
    return _make(value, _union([out, *extra], np.shape(value)))


@_implements(*_np("cumsum", "cumprod", "nancumsum", "nancumprod"))
def _accumulation(func: Any, a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    if out is not None:
        raise TypeError(f"jacobian_sparsity: {function_name(func)}(out=...) is not supported")
    value, deps = _split(a)
    if axis is None:
        value, deps, axis = value.ravel(), deps.ravel(), 0
    return _make(func(value, axis=axis, dtype=dtype), _store().accumulate(deps, axis))


@_implements(*_np("sort", "partition"))
def _sort(func: Any, a: Any, *args: Any, **kwargs: Any) -> SparsityTracer:
    # A sorted element can be any element of its line: the union along the axis.
    value, deps = _split(a)
    bound = errors.bound_arguments(func, (value, *args), kwargs)
    axis = bound.get("axis", -1)
    out = func(value, *args, **kwargs)
    if axis is None:
        return _make(out, _union([_reduce(deps, None)], out.shape))
    return _make(out, _union([_reduce(deps, axis, keepdims=True)], out.shape))


@_implements(np.diff)
def _diff(func: Any, a: Any, n: int = 1, axis: int = -1, **kwargs: Any) -> Any:
    axis = errors.diff_axis(n, axis, np.ndim(_values(a)))
    if n == 0:  # NumPy returns a itself, without prepend or append
        return a if type(a) is SparsityTracer else _make(*_split(a))
    parts = []
    if "prepend" in kwargs:
        parts.append(kwargs["prepend"])
    parts.append(a)
    if "append" in kwargs:
        parts.append(kwargs["append"])
    if len(parts) > 1:
        value = _split(a)[0]
        parts = [p if np.ndim(_values(p)) else _broadcast_end(p, value.shape, axis) for p in parts]
        a = np.concatenate(parts, axis=axis)
    else:
        a = _make(*_split(a))
    for _ in range(n):
        lo = [slice(None)] * a.ndim
        hi = [slice(None)] * a.ndim
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        a = a[tuple(hi)] - a[tuple(lo)]
    return a


def _broadcast_end(p: Any, shape: tuple[int, ...], axis: int) -> Any:
    shape = list(shape)
    shape[axis] = 1
    return np.broadcast_to(p, shape)


@_implements(np.trace)
def _trace(func: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, **kwargs: Any):
    return np.sum(np.diagonal(a, offset, axis1, axis2), axis=-1, **kwargs)


# -- products with the zero pattern of a constant factor ---------------------------------------


def _const_times(nz: np.ndarray, deps: np.ndarray) -> np.ndarray:
    """``out[i] = union of deps[j] over j with nz[i, j]`` (``deps`` may have trailing axes)."""
    store = _store()
    flat = deps.reshape(deps.shape[0], math.prod(deps.shape[1:]))
    full = None
    if store.n and nz.size and flat.size:
        # the sizes of the parts each union would gather, by a product: a dense constant
        # factor (W @ x) gives unions of most of x, known to be all of x without building them
        upper = nz.astype(np.float64) @ store.sizes[flat].astype(np.float64)
        if upper.sum() > _WORK_BUDGET and store.total(_unique(flat)) >= store.threshold:
            full = upper >= store.threshold
            whole = full.all(axis=1)
            if whole.all():
                return np.full((nz.shape[0],) + deps.shape[1:], _FULL, dtype=np.intp)
            if whole.any():
                nz = nz & ~whole[:, None]  # those rows need no entries
    rows, cols = np.nonzero(nz)
    out = _gather_rows(rows, cols, nz.shape[0], deps)
    if full is not None:
        out.reshape(full.shape)[full] = _FULL
    return out


def _gather_rows(rows: np.ndarray, cols: np.ndarray, m: int, deps: np.ndarray) -> np.ndarray:
    """``out[i] = union of deps[cols[k]] over k with rows[k] == i`` for ``i < m``."""
    flat = deps.reshape(deps.shape[0], math.prod(deps.shape[1:]))
    width = flat.shape[1]
    groups = (rows[:, None] * width + np.arange(width)).ravel()
    out = _store().union_groups(groups, flat[cols].ravel(), m * width)
    return out.reshape((m,) + deps.shape[1:])


def _batched_product(
    av: Any, ad: Any, bv: Any, bd: Any, batch: tuple, b_traced: bool, a_any: Any, b_any: Any
) -> np.ndarray | None:
    """``_const_times`` for every matrix of a stack (a constant times a traced stack) in one
    union, as a block-diagonal product, where a Python loop over the stack cost ~0.3 ms a
    matrix; None where a matrix's work would pass ``_WORK_BUDGET`` (its dense shortcut)."""
    count = math.prod(batch)
    if count < 2:
        return None
    if b_traced:  # out = union over j of bd[j, :] where av[i, j] != 0
        nz = (np.broadcast_to(av, batch + av.shape[-2:]) != 0) | a_any
        deps = np.broadcast_to(bd, batch + bd.shape[-2:])
    else:  # the transposed product: out.T = union over j of ad.T[j, :] where bv.T[i, j] != 0
        nz = np.swapaxes((np.broadcast_to(bv, batch + bv.shape[-2:]) != 0) | b_any, -1, -2)
        deps = np.swapaxes(np.broadcast_to(ad, batch + ad.shape[-2:]), -1, -2)
    rows, inner, width = nz.shape[-2], nz.shape[-1], deps.shape[-1]
    nz = nz.reshape(count, rows, inner)
    deps = deps.reshape(count * inner, width)
    store = _store()
    if store.n and nz.size and deps.size:
        sizes = store.sizes[deps].astype(np.float64).reshape(count, inner, width)
        if np.einsum("bij,bjk->b", nz.astype(np.float64), sizes).max() > _WORK_BUDGET:
            return None
    stack, i, j = np.nonzero(nz)
    out = _gather_rows(stack * rows + i, stack * inner + j, count * rows, deps)
    out = out.reshape(count, rows, width)
    if not b_traced:
        out = np.swapaxes(out, -1, -2)
    return out.reshape(batch + out.shape[-2:])


def _matmul_deps(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(value, deps)`` of ``a @ b`` with NumPy's broadcasting and 1-D promotion rules."""
    (av, ad), (bv, bd) = _split(a, "matmul"), _split(b, "matmul")
    value = _numpy_result(np.matmul(av, bv))
    a_vector, b_vector = av.ndim == 1, bv.ndim == 1
    if av.ndim == 1:
        av, ad = av[None, :], ad[None, :]
    if bv.ndim == 1:
        bv, bd = bv[:, None], bd[:, None]
    a_traced, b_traced = type(a) is SparsityTracer, type(b) is SparsityTracer
    # a constant computed from x's values has other zeros at another point: none is trusted
    a_any, b_any = _has_derived(a), _has_derived(b)
    batch = np.broadcast_shapes(av.shape[:-2], bv.shape[:-2])
    m, q = av.shape[-2], bv.shape[-1]
    out = _empty_deps(batch + (m, q))
    if a_traced and b_traced:
        rows = _reduce(ad, -1)[..., :, None]
        cols = _reduce(bd, -2)[..., None, :]
        out[...] = _or(rows, cols)
    elif (batched := _batched_product(av, ad, bv, bd, batch, b_traced, a_any, b_any)) is not None:
        out[...] = batched
    else:
        for index in np.ndindex(*batch):
            if b_traced:
                nz = (np.broadcast_to(av, batch + av.shape[-2:])[index] != 0) | a_any
                out[index] = _const_times(nz, np.broadcast_to(bd, batch + bd.shape[-2:])[index])
            else:
                nz = (np.broadcast_to(bv, batch + bv.shape[-2:])[index] != 0) | b_any
                ad_i = np.broadcast_to(ad, batch + ad.shape[-2:])[index]
                out[index] = _const_times(nz.T, ad_i.T).T
    if a_vector:
        out = out[..., 0, :]
    if b_vector:
        out = out[..., 0]
    return value, out


def _matmul(a: Any, b: Any) -> SparsityTracer:
    value, deps = _matmul_deps(a, b)
    return _make(value, deps)


_implements(np.matmul)(lambda func, a, b, **kwargs: _matmul(a, b))


@_implements(np.tensordot)
def _tensordot(func: Any, a: Any, b: Any, axes: Any = 2) -> SparsityTracer:
    a = a if type(a) in (SparsityTracer, ValueDerived) else np.asarray(a)
    b = b if type(b) in (SparsityTracer, ValueDerived) else np.asarray(b)
    if isinstance(axes, int):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = ([x] if isinstance(x, int) else list(x) for x in axes)
    axes_a = [x % a.ndim for x in axes_a]
    axes_b = [x % b.ndim for x in axes_b]
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a]))
    # the sizes spelled out: -1 is ambiguous when a contracted axis is empty
    rows = int(np.prod([a.shape[i] for i in free_a]))
    columns = int(np.prod([b.shape[i] for i in free_b]))
    a2 = np.reshape(np.transpose(a, free_a + axes_a), (rows, k))
    b2 = np.reshape(np.transpose(b, axes_b + free_b), (k, columns))
    out = _matmul(a2, b2)
    shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b)
    return np.reshape(out, shape)


@_implements(np.dot)
def _dot(func: Any, a: Any, b: Any, out: Any = None) -> SparsityTracer:
    if out is not None:
        raise TypeError("jacobian_sparsity: numpy.dot(out=...) is not supported")
    if np.ndim(_values(a)) == 0 or np.ndim(_values(b)) == 0:
        return np.multiply(a, b)
    return np.tensordot(a, b, axes=([-1], [0 if np.ndim(_values(b)) == 1 else -2]))


@_implements(np.inner)
def _inner(func: Any, a: Any, b: Any) -> SparsityTracer:
    if np.ndim(_values(a)) == 0 or np.ndim(_values(b)) == 0:
        return np.multiply(a, b)
    return np.tensordot(a, b, axes=([-1], [-1]))


@_implements(np.vdot)
def _vdot(func: Any, a: Any, b: Any) -> SparsityTracer:
    return np.tensordot(np.conjugate(np.ravel(a)), np.ravel(b), axes=1)


@_implements(np.outer)
def _outer(func: Any, a: Any, b: Any, out: Any = None) -> SparsityTracer:
    if out is not None:
        raise TypeError("jacobian_sparsity: numpy.outer(out=...) is not supported")
    return _matmul(np.reshape(np.ravel(a), (-1, 1)), np.reshape(np.ravel(b), (1, -1)))


# -- einsum and kron: index structure, trusting the zeros of constant operands ------------------


def _einsum_parse(operands: tuple[Any, ...]) -> tuple[list[Any], list[list[Any]], Any]:
    """``(arrays, labels per array, output labels or None)`` from either calling form of einsum;
    a label is a character or an integer, and ``Ellipsis`` stands for ``...``."""
    if isinstance(operands[0], str):
        left, arrow, right = operands[0].replace(" ", "").partition("->")
        inputs = [_einsum_term(term) for term in left.split(",")]
        return list(operands[1:]), inputs, _einsum_term(right) if arrow else None
    output = None
    if len(operands) % 2:
        output, operands = list(operands[-1]), operands[:-1]
    return list(operands[0::2]), [list(s) for s in operands[1::2]], output


def _einsum_term(term: str) -> list[Any]:
    first, *rest = term.split("...")
    labels: list[Any] = list(first)
    for part in rest:
        labels += [Ellipsis, *part]
    return labels


def _einsum_labels(
    shapes: list[tuple[int, ...]], inputs: list[list[Any]], output: Any
) -> tuple[list[list[Any]], list[Any]]:
    """Labels with ``...`` expanded (its axes aligned from the right, as they broadcast) and the
    output made explicit (NumPy's implicit rule: the ellipsis axes, then the labels used once,
    sorted)."""
    expanded, most = [], 0
    for shape, labels in zip(shapes, inputs):
        if Ellipsis in labels:
            at = labels.index(Ellipsis)
            count = len(shape) - len(labels) + 1
            most = max(most, count)
            labels = labels[:at] + [("...", count - e) for e in range(count)] + labels[at + 1 :]
        expanded.append(labels)
    ellipsis: list[Any] = [("...", most - e) for e in range(most)]
    if output is None:
        used = [label for labels in inputs for label in labels if label is not Ellipsis]
        return expanded, ellipsis + sorted(x for x in set(used) if used.count(x) == 1)
    if Ellipsis not in output:
        return expanded, output
    at = output.index(Ellipsis)
    return expanded, output[:at] + ellipsis + output[at + 1 :]


def _on_labels(a: np.ndarray, labels: list[Any], unique: list[Any], size: dict) -> np.ndarray:
    """``a`` as an array over its distinct labels at full size: a repeated label takes the
    diagonal and a broadcast axis (length 1) repeats."""
    if not labels:
        return a
    index = []
    for axis, label in enumerate(labels):
        n = size[label]
        coordinate = np.arange(n) if a.shape[axis] == n else np.zeros(n, dtype=np.intp)
        shape = [1] * len(unique)
        shape[unique.index(label)] = n
        index.append(coordinate.reshape(shape))
    return a[tuple(index)]


@_implements(np.einsum)
def _einsum(func: Any, *operands: Any, out: Any = None, **kwargs: Any) -> SparsityTracer:
    # An output element depends on the elements of each traced operand that meet it in a term
    # of its sum, unless a constant operand's factor in that term is zero (as with ``@``).
    if out is not None:
        raise TypeError("jacobian_sparsity: numpy.einsum(out=...) is not supported")
    value = _numpy_result(np.einsum(*_values(operands), **kwargs))
    if len(operands) == 2 and type(operands[1]) is SparsityTracer:
        a = operands[1]
        if a.value.size and np.shares_memory(value, a.value):
            # a transposition or a diagonal ('ij->ji', 'ii->i'): NumPy's result is a view, and
            # the same call on the ids views them, so writes through it reach ``a``
            return _make(value, np.einsum(operands[0], a.deps), a.store)
    arrays, inputs, output = _einsum_parse(operands)
    pairs = [_split(a, "numpy.einsum") for a in arrays]
    inputs, output = _einsum_labels([p[0].shape for p in pairs], inputs, output)
    size: dict[Any, int] = {}
    for (v, _), labels in zip(pairs, inputs):
        for label, n in zip(labels, v.shape):
            if size.get(label, 1) == 1:
                size[label] = n
    if tuple(size.get(label, 1) for label in output) != value.shape:
        raise _no_rule(f"numpy.einsum({operands[0]!r}) (labels not understood)")
    if len(size) > len(string.ascii_letters):
        raise _no_rule("numpy.einsum with more than 52 distinct axes")
    if 0 in size.values():
        return _make(value, _empty_deps(value.shape))
    letter = dict(zip(size, string.ascii_letters))
    traced = [_contains_tracer(a) for a in arrays]
    masks, mask_labels = [], []
    for a, (v, _), labels, t in zip(arrays, pairs, inputs, traced):
        if not t:
            unique = list(dict.fromkeys(labels))
            present = np.asarray(v != 0) | _has_derived(a)  # zeros from x's values: not trusted
            masks.append(_on_labels(present, labels, unique, size))
            mask_labels.append(unique)
    constant_labels = {label for labels in mask_labels for label in labels}
    parts = []
    for (_, deps), labels, t in zip(pairs, inputs, traced):
        if not t:
            continue
        unique = list(dict.fromkeys(labels))
        summed = [label for label in unique if label not in output]
        axes = output + summed
        d = _on_labels(deps, labels, unique, size)
        d = np.transpose(d, [unique.index(x) for x in axes if x in unique])
        d = d.reshape([size[x] if x in unique else 1 for x in axes])
        if masks:
            kept = [x for x in axes if x in constant_labels]
            spec = ",".join("".join(letter[x] for x in m) for m in mask_labels)
            spec += "->" + "".join(letter[x] for x in kept)
            connected = np.einsum(spec, *masks).reshape(
                [size[x] if x in constant_labels else 1 for x in axes]
            )
            d = np.where(connected, d, _EMPTY)
        if summed:
            d = _reduce(d, tuple(range(len(output), len(axes))))
        parts.append(d)
    return _make(value, _union(parts, value.shape))


@_implements(np.kron)
def _kron(func: Any, a: Any, b: Any) -> SparsityTracer:
    # Block (i, j) is a[i] * b: a traced factor keeps its set where the other (traced, or a
    # constant's non-zero) factor is present, as ``outer`` does.
    (av, ad), (bv, bd) = _split(a, "numpy.kron"), _split(b, "numpy.kron")
    value = _numpy_result(np.kron(av, bv))
    nd = max(av.ndim, bv.ndim)
    sa = (1,) * (nd - av.ndim) + av.shape
    sb = (1,) * (nd - bv.ndim) + bv.shape
    a_shape = tuple(s for pair in zip(sa, (1,) * nd) for s in pair)
    b_shape = tuple(s for pair in zip((1,) * nd, sb) for s in pair)
    ad, bd = ad.reshape(a_shape), bd.reshape(b_shape)
    a_traced, b_traced = _contains_tracer(a), _contains_tracer(b)
    if a_traced and b_traced:
        deps = _or(ad, bd)
    elif a_traced:
        deps = np.where((bv.reshape(b_shape) != 0) | _has_derived(b), ad, _EMPTY)
    elif b_traced:
        deps = np.where((av.reshape(a_shape) != 0) | _has_derived(a), bd, _EMPTY)
    else:
        return _make(value, _empty_deps(value.shape))
    full = tuple(x * y for x, y in zip(a_shape, b_shape))
    return _make(value, _union([deps], full).reshape(value.shape))


# -- gradient: its finite-difference stencil -----------------------------------------------------


def _stencil(n: int, spacing: Any, edge_order: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cols)`` of the non-zero coefficients of ``np.gradient`` along an axis of length
    ``n``, sorted. A row reaches at most two places away, so each probe ``[j % 5 == r]`` meets one
    column per row and ``np.gradient`` of it is that coefficient exactly (the interior centre of
    a uniform grid is an exact zero; of a non-uniform one it is not)."""
    position = np.arange(n)
    rows, cols = [], []
    for r in range(min(n, 5)):
        probe = (position % 5 == r).astype(float)
        hit = np.nonzero(np.gradient(probe, spacing, edge_order=edge_order) != 0)[0]
        rows.append(hit)
        cols.append(hit + (r - hit + 2) % 5 - 2)
    rows_, cols_ = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((cols_, rows_))
    return rows_[order], cols_[order]


@_implements(np.gradient)
def _gradient(func: Any, f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    varargs = _plain("numpy.gradient", spacing=varargs)["spacing"]
    value, deps = _split(f, "numpy.gradient")
    result = np.gradient(value, *varargs, axis=axis, edge_order=edge_order)
    if axis is None:
        axes = tuple(range(value.ndim))
    else:
        axes = tuple(a % value.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    else:
        spacings = list(varargs)
    outs = []
    for ax, spacing in zip(axes, spacings):
        n = value.shape[ax]
        rows, cols = _stencil(n, spacing, edge_order)
        along = _gather_rows(rows, cols, n, np.moveaxis(deps, ax, 0))
        outs.append(np.moveaxis(along, 0, ax).copy())
    if type(result) in (list, tuple):
        return type(result)(_make(v, d) for v, d in zip(result, outs))
    return _make(result, outs[0])


# -- numpy.linalg ----------------------------------------------------------------------------------
# A matrix function's outputs depend on the whole matrix of their stack entry, except where the
# function reads one triangle (cholesky, eigh, the hermitian= options) or its factors are
# triangular in a known way (cholesky, qr).


def _plain(name: str, **arguments: Any) -> dict[str, Any]:
    """The arguments' values, or TypeError if one depends on ``x`` (it has no derivative)."""
    for argument, a in arguments.items():
        if _depends_on_x(a):
            raise TypeError(
                f"jacobian_sparsity: {name}: {argument} must not depend on x (it has no derivative)"
            )
        if _has_derived(a):  # a parameter the pattern is computed for (spacings, a power)
            _decide(f"{name}: {argument} computed from x's values")
    return {argument: _values(a) for argument, a in arguments.items()}


def _depends_on_x(a: Any) -> bool:
    if type(a) is SparsityTracer:
        return _has_deps(_deps_of(a))
    return type(a) in (list, tuple) and any(map(_depends_on_x, a))


def _whole(deps: np.ndarray, shape: tuple[int, ...], trailing: int) -> np.ndarray:
    """The union over each matrix of the stack ``deps`` (``(..., m, n)``), spread over a result
    of ``shape`` whose last ``trailing`` axes belong to one matrix."""
    whole = _reduce(deps, (-2, -1))
    return np.broadcast_to(whole.reshape(whole.shape + (1,) * trailing), shape).copy()


def _read_triangle(deps: np.ndarray, lower: bool) -> np.ndarray:
    """The sets of the triangle (diagonal included) a routine reads; the other has no effect."""
    keep = np.tri(deps.shape[-1], dtype=bool)
    return np.where(keep if lower else keep.T, deps, _EMPTY)


def _linalg(name: str, *arrays: Any) -> list[tuple[Any, np.ndarray]]:
    return [_split(a, f"numpy.linalg.{name}") for a in arrays]


@_implements(*_np("linalg.inv"))
def _inv(func: Any, a: Any) -> SparsityTracer:
    ((av, ad),) = _linalg("inv", a)
    value = np.linalg.inv(av)
    return _make(value, _whole(ad, value.shape, 2))


@_implements(*_np("linalg.det"))
def _det(func: Any, a: Any) -> SparsityTracer:
    ((av, ad),) = _linalg("det", a)
    value = _numpy_result(np.linalg.det(av))
    return _make(value, _whole(ad, value.shape, 0))


@_implements(*_np("linalg.slogdet"))
def _slogdet(func: Any, a: Any) -> Any:
    # A real determinant's sign is piecewise constant; a complex one's phase is not.
    ((av, ad),) = _linalg("slogdet", a)
    sign, logabsdet = result = np.linalg.slogdet(av)
    whole = _whole(ad, np.shape(logabsdet), 0)
    sign_deps = whole.copy() if np.iscomplexobj(av) else _empty_deps(np.shape(sign))
    return type(result)(_make(sign, sign_deps), _make(logabsdet, whole))


@_implements(*_np("linalg.cond"))
def _cond(func: Any, x: Any, p: Any = None) -> SparsityTracer:
    p = _plain("numpy.linalg.cond", p=p)["p"]
    ((xv, xd),) = _linalg("cond", x)
    value = _numpy_result(np.linalg.cond(xv, p))
    return _make(value, _whole(xd, value.shape, 0))


@_implements(*_np("linalg.solve"))
def _solve(func: Any, a: Any, b: Any) -> SparsityTracer:
    # Column j of a^-1 b depends on all of a and on column j of b (b is a vector only when 1-d).
    (av, ad), (bv, bd) = _linalg("solve", a, b)
    value = _numpy_result(np.linalg.solve(av, bv))
    return _make(value, _solve_deps(ad, bd, bv.ndim == 1, value.shape))


def _solve_deps(ad: np.ndarray, bd: np.ndarray, vector: bool, shape: tuple[int, ...]) -> Any:
    whole = _reduce(ad, (-2, -1))
    if vector:
        return _union([whole[..., None], _reduce(bd, None)], shape)
    return _union([whole[..., None, None], _reduce(bd, -2)[..., None, :]], shape)


@_implements(*_np("linalg.lstsq"))
def _lstsq(func: Any, a: Any, b: Any, rcond: Any = None) -> tuple[Any, ...]:
    rcond = _plain("numpy.linalg.lstsq", rcond=rcond)["rcond"]
    (av, ad), (bv, bd) = _linalg("lstsq", a, b)
    x, residuals, rank, s = np.linalg.lstsq(av, bv, rcond)
    vector = bv.ndim == 1
    x_deps = _solve_deps(ad, bd, vector, x.shape)
    res_deps = _empty_deps(residuals.shape)
    if residuals.size:  # residual j: the squared norm of column j of b - a x
        columns = _reduce(bd, None if vector else 0)
        res_deps = _union([_reduce(ad, None), columns], residuals.shape)
    return (_make(x, x_deps), _make(residuals, res_deps), rank, _make(s, _whole(ad, s.shape, 1)))


@_implements(*_np("linalg.pinv"))
def _pinv(func: Any, a: Any, rcond: Any = None, hermitian: bool = False, **kwargs: Any) -> Any:
    options = _plain("numpy.linalg.pinv", rcond=rcond, **kwargs)
    ((av, ad),) = _linalg("pinv", a)
    value = np.linalg.pinv(av, hermitian=hermitian, **options)
    return _make(value, _whole(_read_triangle(ad, True) if hermitian else ad, value.shape, 2))


@_implements(*_np("linalg.matrix_power"))
def _matrix_power(func: Any, a: Any, n: Any) -> SparsityTracer:
    # Repeated squaring with traced products: a @ a keeps row i and column k of a, higher powers
    # (and inverses) fill the matrix, which is conservative and what the derivative has.
    n = _plain("numpy.linalg.matrix_power", n=n)["n"]
    ((av, ad),) = _linalg("matrix_power", a)
    value = np.linalg.matrix_power(av, n)
    n = int(n)
    if n == 0:
        return _make(value, _empty_deps(value.shape))
    if n == 1 and type(a) is SparsityTracer:
        return a  # NumPy's matrix_power(a, 1) is a itself: a write into one reaches the other
    power = _make(av, ad)
    if n < 0:
        power, n = np.linalg.inv(power), -n
    result = None
    while True:
        if n & 1:
            result = power if result is None else _matmul(result, power)
        n >>= 1
        if not n:
            return _make(value, _split(result)[1].copy())
        power = _matmul(power, power)


@_implements(*_np("linalg.multi_dot"))
def _multi_dot(func: Any, arrays: Any, *, out: Any = None) -> SparsityTracer:
    if out is not None:
        raise TypeError("jacobian_sparsity: numpy.linalg.multi_dot(out=...) is not supported")
    value = _numpy_result(np.linalg.multi_dot(_values(list(arrays))))
    items = [_make(*_split(x)) if _contains_tracer(x) else np.asarray(x) for x in arrays]
    product = items[0]
    for item in items[1:]:
        product = _matmul(product, item)
    return _make(value, _union([_split(product)[1]], value.shape))


@_implements(*_np("linalg.tensorsolve"))
def _tensorsolve(func: Any, a: Any, b: Any, axes: Any = None) -> SparsityTracer:
    # NumPy solves one square system: every entry of x depends on all of a and b.
    (av, ad), (bv, bd) = _linalg("tensorsolve", a, b)
    value = _numpy_result(np.linalg.tensorsolve(av, bv, axes))
    return _make(value, _union([_reduce(ad, None), _reduce(bd, None)], value.shape))


@_implements(*_np("linalg.tensorinv"))
def _tensorinv(func: Any, a: Any, ind: int = 2) -> SparsityTracer:
    ((av, ad),) = _linalg("tensorinv", a)
    value = _numpy_result(np.linalg.tensorinv(av, ind))
    return _make(value, _union([_reduce(ad, None)], value.shape))


@_implements(*_np("linalg.cholesky"))
def _cholesky(func: Any, a: Any, /, *, upper: bool = False) -> SparsityTracer:
    # L[i, j] (i >= j) depends on the read triangle's entries in rows 0..j and i, columns 0..j;
    # upper=True reads the upper triangle and returns L^H.
    ((av, ad),) = _linalg("cholesky", a)
    value = np.linalg.cholesky(av, upper=upper)
    low = _read_triangle(np.swapaxes(ad, -1, -2) if upper else ad, True)
    rows = _store().accumulate(low, -1)  # rows[i, j]: a[i, :j + 1]
    lead = _store().accumulate(np.diagonal(rows, axis1=-2, axis2=-1), -1)
    deps = _read_triangle(_or(rows, lead[..., None, :]), True)
    return _make(value, np.swapaxes(deps, -1, -2).copy() if upper else deps)


@_implements(*_np("linalg.qr"))
def _qr(func: Any, a: Any, mode: str = "reduced") -> Any:
    # Gram-Schmidt: column j of Q depends on columns 0..j of a, and R[i, j] = q_i^H a_j (i <= j).
    # The last column of a square or wide real Q is fixed by the others up to a sign.
    ((av, ad),) = _linalg("qr", a)
    result = np.linalg.qr(av, mode)
    m, n = av.shape[-2:]
    if mode not in ("reduced", "complete", "r") or (mode == "complete" and m > n):
        # 'raw' and a tall 'complete' (whose extra columns are not unique): dense, conservative
        parts = [_make(p, _whole(ad, p.shape, p.ndim - av.ndim + 2)) for p in result]
        return type(result)(*parts) if hasattr(result, "_fields") else tuple(parts)
    k = min(m, n)
    columns = _reduce(ad, -2)
    q_deps = _store().accumulate(columns, -1)[..., :k].copy()
    if 0 < m <= n and not np.iscomplexobj(av):
        q_deps[..., k - 1] = q_deps[..., k - 2] if k > 1 else _empty_deps(q_deps.shape[:-1])
    r_value = result if mode == "r" else result[1]
    upper = np.triu(np.ones(r_value.shape[-2:], dtype=bool))
    r_deps = np.where(upper, _or(q_deps[..., :, None], columns[..., None, :]), _EMPTY)
    r = _make(r_value, r_deps)
    if mode == "r":
        return r
    q_value = result[0]
    return type(result)(_make(q_value, _union([q_deps[..., None, :]], q_value.shape)), r)


@_implements(*_np("linalg.eigh"))
def _eigh(func: Any, a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's name
    ((av, ad),) = _linalg("eigh", a)
    w, v = result = np.linalg.eigh(av, UPLO)
    read = _read_triangle(ad, str(UPLO).upper() == "L")
    return type(result)(_make(w, _whole(read, w.shape, 1)), _make(v, _whole(read, v.shape, 2)))


@_implements(np.sinc)  # an elementwise rule NumPy exposes as a function, not a ufunc
def _sinc(func: Any, x: Any) -> SparsityTracer:
    return _apply(RULES["sinc"], (x,), np.sinc)


@_implements(*_np("linalg.eig", "linalg.eigvals"))
def _eig(func: Any, a: Any) -> Any:
    ((av, ad),) = _linalg(func.__name__, a)
    result = func(av)
    parts = result if type(result) is not np.ndarray else (result,)
    made = [_make(p, _whole(ad, p.shape, p.ndim - (av.ndim - 2))) for p in parts]
    return made[0] if type(result) is np.ndarray else type(result)(*made)


@_implements(*_np("linalg.eigvalsh"))
def _eigvalsh(func: Any, a: Any, UPLO: str = "L") -> SparsityTracer:  # noqa: N803
    ((av, ad),) = _linalg("eigvalsh", a)
    w = np.linalg.eigvalsh(av, UPLO)
    return _make(w, _whole(_read_triangle(ad, str(UPLO).upper() == "L"), w.shape, 1))


@_implements(*_np("linalg.svd"))
def _svd(func: Any, a: Any, full_matrices=True, compute_uv=True, hermitian=False) -> Any:
    ((av, ad),) = _linalg("svd", a)
    result = np.linalg.svd(av, full_matrices, compute_uv, hermitian)
    read = _read_triangle(ad, True) if hermitian else ad  # hermitian: NumPy's eigh reads "L"
    if not compute_uv:
        return _make(result, _whole(read, result.shape, 1))
    return type(result)(*(_make(p, _whole(read, p.shape, p.ndim - av.ndim + 2)) for p in result))


@_implements(*_np("linalg.svdvals"))
def _svdvals(func: Any, x: Any, /) -> SparsityTracer:
    ((xv, xd),) = _linalg("svdvals", x)
    value = np.linalg.svdvals(xv)
    return _make(value, _whole(xd, value.shape, 1))


# Norms reduce over their axes (a matrix norm over both); the 0-"norm" counts non-zeros.


def _norm_deps(value: Any, deps: np.ndarray, axis: Any, keepdims: bool, count: bool) -> Any:
    if count:
        return _make(value, _empty_deps(np.shape(value)))
    return _make(value, _union([_reduce(deps, axis, keepdims)], np.shape(value)))


def _zero_order(ord: Any) -> bool:
    return not isinstance(ord, str) and ord is not None and ord == 0


@_implements(*_np("linalg.norm"))
def _norm(func: Any, x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    ord = _plain("numpy.linalg.norm", ord=ord)["ord"]
    ((xv, xd),) = _linalg("norm", x)
    value = _numpy_result(np.linalg.norm(xv, ord, axis, keepdims))
    vector = xv.ndim == 1 if axis is None else np.ndim(axis) == 0 or len(axis) == 1
    return _norm_deps(value, xd, axis, keepdims, vector and _zero_order(ord))


@_implements(*_np("linalg.vector_norm"))
def _vector_norm(func: Any, x: Any, /, *, axis: Any = None, keepdims=False, ord: Any = 2) -> Any:
    ord = _plain("numpy.linalg.vector_norm", ord=ord)["ord"]
    ((xv, xd),) = _linalg("vector_norm", x)
    value = _numpy_result(np.linalg.vector_norm(xv, axis=axis, keepdims=keepdims, ord=ord))
    return _norm_deps(value, xd, axis, keepdims, _zero_order(ord))


@_implements(*_np("linalg.matrix_norm"))
def _matrix_norm(func: Any, x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    ord = _plain("numpy.linalg.matrix_norm", ord=ord)["ord"]
    ((xv, xd),) = _linalg("matrix_norm", x)
    value = _numpy_result(np.linalg.matrix_norm(xv, keepdims=keepdims, ord=ord))
    return _norm_deps(value, xd, (-2, -1), keepdims, False)


# The array-API names in numpy.linalg, by the NumPy functions they stand for.


def _linalg_vectors(name: str, *arrays: Any, length: int | None = None, axis: int = -1) -> None:
    for a in arrays:
        shape = np.shape(_split(a, f"numpy.linalg.{name}")[0])
        if length is None and len(shape) != 1:
            raise ValueError(f"numpy.linalg.{name}: the arrays must be one-dimensional")
        if length is not None and shape[axis] != length:
            raise ValueError(f"numpy.linalg.{name}: the vectors must have {length} components")


def _linalg_outer(func: Any, x1: Any, x2: Any, /) -> Any:
    _linalg_vectors("outer", x1, x2)
    return np.outer(x1, x2)


def _linalg_cross(func: Any, x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    _linalg_vectors("cross", x1, x2, length=3, axis=axis)
    return np.cross(x1, x2, axis=axis)


_LINALG_ALIASES = {
    "matmul": lambda func, x1, x2, /: np.matmul(x1, x2),
    "matrix_transpose": lambda func, x, /: np.matrix_transpose(x),
    "tensordot": lambda func, x1, x2, /, *, axes=2: np.tensordot(x1, x2, axes=axes),
    "trace": lambda func, x, /, *, offset=0, dtype=None: np.trace(x, offset, -2, -1, dtype=dtype),
    "diagonal": lambda func, x, /, *, offset=0: np.diagonal(x, offset, -2, -1),
    "vecdot": lambda func, x1, x2, /, *, axis=-1: np.sum(np.conjugate(x1) * x2, axis=axis),
    "outer": _linalg_outer,
    "cross": _linalg_cross,
}
for _name, _handler in _LINALG_ALIASES.items():
    _implements(*_np(f"linalg.{_name}"))(_handler)


# -- functions of the values only (their results carry no derivative) -----------------------


def _value_function(func: Any, *args: Any, **kwargs: Any) -> Any:
    result = func(*_values(args), **_values(kwargs))
    if func in _STRUCTURE_ONLY:
        return result
    if func in _SHAPE_FROM_VALUES:
        _decide(f"{function_name(func)} of values of x (its shape depends on them)")
    return _derived(result)  # no derivative, but not a constant either (see ValueDerived)


# ---------------------------------------------------------------------------------------------
# Handlers derived from the function table, by kind (for functions without one of their own)
# ---------------------------------------------------------------------------------------------


def _is_carrier(a: Any) -> bool:
    return type(a) is SparsityTracer or is_dual(a)


def _table_call(entry: table.Entry, args: Any, kwargs: Any) -> Call:
    """The call taken apart by its entry; refused when the entry's guard says the call is not
    of the declared kind, or when it writes into ``out=``."""
    read: list[Any] = []

    def plain(a: Any) -> Any:
        if type(a) in (SparsityTracer, ValueDerived):
            read.append(a)
        return _plain_all(_values(a))

    call = Call(entry, args, kwargs, plain, _is_carrier)
    if read:  # where's condition, bincount's bins: they may change what mixes (or the shape)
        _decide(f"numpy.{entry.name} with {', '.join(entry.values)} computed from x")
    if entry.guard is not None:
        reason = entry.guard(call.option)
        if reason is not None:
            raise _not_of_kind(entry, reason)
    if call.option("out", None) is not None:
        raise TypeError(f"jacobian_sparsity: numpy.{entry.name}(out=...) is not supported")
    return call


def _mixing_axes(entry: table.Entry, call: Call, ndim: int) -> tuple[int, ...] | None:
    """The axes of the first operand along which ``entry``'s function mixes elements, by its
    axis arguments (their defaults when not given); None for all of them (no axes declared, an
    axis of None, or one that is not a plain integer)."""
    if not entry.axes or ndim == 0:
        return None
    parameters = errors.signature(entry.function).parameters
    axes: set[int] = set()
    for name in entry.axes:
        if name not in parameters:  # numpy.linalg.trace: its axes are fixed, not parameters
            return None
        given = call.option(name, parameters[name].default)
        items = given if isinstance(given, (tuple, list)) else (given,)
        for a in items:
            if not isinstance(a, (int, np.integer)) or isinstance(a, (bool, np.bool_)):
                return None
            axes.add(int(a) % ndim)
    return tuple(sorted(axes))


def _mixed(deps: list[np.ndarray], axes: tuple[int, ...] | None, shape: tuple[int, ...]) -> Any:
    """The dependencies of an output of ``shape`` of a function linear (or multilinear) in
    operands with dependencies ``deps`` that mixes elements along ``axes`` of the first operand
    only: each output element depends on the union of the operands along those axes at its
    place. Conservative wherever the places cannot be matched: an output length differing
    along a mixed axis takes the union over the whole axis, and anything else (another number
    of axes, an operand of another rank, no axes) the union of everything."""
    if not deps:
        return _empty_deps(shape)
    everything = np.broadcast_to(_union([_reduce(d, None) for d in deps], ()), shape).copy()
    n = deps[0].ndim
    if axes is None or len(axes) == n:
        return everything
    # an operand of another rank (sum's initial, a scalar prepend, trapezoid's 1-D x) is not
    # aligned axis by axis with the first: it counts for every output element
    parts = [_reduce(d, axes, keepdims=True) if d.ndim == n else _reduce(d, None) for d in deps]
    try:
        lines = _union(parts, np.broadcast_shapes(*(p.shape for p in parts)))
    except ValueError:
        return everything
    kept = [k for k in range(n) if k not in axes]
    if len(shape) == n and all(shape[k] == lines.shape[k] for k in kept):
        return np.broadcast_to(lines, shape).copy()  # the mixed axes kept, of any length
    dropped = lines.reshape([lines.shape[k] for k in kept])
    if dropped.shape == tuple(shape):  # the mixed axes reduced away (sum, trace, trapezoid)
        return dropped.copy()
    return everything


def _mixing(entry: table.Entry, func: Any, *args: Any, **kwargs: Any) -> Any:
    """A linear or multilinear function without a rule of its own: ``d f(x) = f(dx)`` (or the
    product rule) mixes the elements of its operands only along its declared axes, so an output
    element depends on the union of the operands' sets along those axes (see ``_mixed``): a
    superset of the true pattern, never missing a dependency."""
    call = _table_call(entry, args, kwargs)
    # (einsum's subscripts come first among its ``*operands``: a string, no dependencies)
    pairs = [
        (o, None) if type(o) is str else _split(o, f"numpy.{entry.name}") for o in call.operands
    ]
    value = call.call([p[0] for p in pairs])
    if pairs and value is pairs[0][0] and type(call.operands[0]) is SparsityTracer:
        # NumPy returned its argument itself (np.fft.fftn(a, axes=()), np.diff(a, n=0)): so
        # does this, and a write into the result reaches the argument, as in NumPy
        return call.operands[0]
    deps = [p[1] for p in pairs if p[1] is not None]
    axes = _mixing_axes(entry, call, deps[0].ndim if deps else 0)
    if type(value) in (list, tuple):  # gradient along several axes, average(returned=True)
        return type(value)(_make(v, _mixed(deps, axes, np.shape(v))) for v in value)
    return _make(value, _mixed(deps, axes, np.shape(value)))


def _composition(func: Any, *args: Any, **kwargs: Any) -> Any:
    """A composition: its body on the tracers, each of its operations traced in turn."""
    name = function_name(func)
    return call_body(func, args, kwargs, lambda why: TypeError(f"{_no_rule(name)} ({why})"))


def _refuse(entry: table.Entry, why: str, func: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(
        f"jacobian_sparsity has no dependency rule for numpy.{entry.name}: {why}; pass the "
        "pattern yourself (sparsity=<boolean array>)"
    )


def derived_handler(entry: table.Entry) -> Callable[..., Any]:
    """The sparsity tracer's handler of ``entry``'s function derived from its kind in the
    function table: structural functions apply to the id arrays, functions of the values give
    ``ValueDerived`` results, compositions run their body, linear and multilinear functions
    union along their axes (``_mixing``); a special function without code here is refused
    naming the carriers that have it."""
    kind = entry.kind
    if kind == "structural":
        return _structural
    if kind == "value":
        return _value_function
    if kind in ("linear", "multilinear"):
        return functools.partial(_mixing, entry)
    if kind == "composition" and entry.function in COMPOSITIONS:
        return _composition
    if kind == "composition":
        why = "it is declared a composition, and dualdiff.compositions has no body for it yet"
    elif kind == "special":
        have = ", ".join(sorted(entry.carriers)) or "none"
        why = f"it needs code of its own in each carrier, and the carriers with it are: {have}"
    else:
        why = f"the sparsity tracer has no handler for {kind} functions"
    return functools.partial(_refuse, entry, why)


# the handler each of the table's functions has by its kind; an own handler in ``_FUNCTIONS`` is
# an override, looked up first (each is checked against the derived one by the tests)
_DERIVED: dict[Callable[..., Any], Callable[..., Any]] = {
    function: derived_handler(entry) for function, entry in table.FUNCTIONS.items()
}


# ---------------------------------------------------------------------------------------------
# The entry points
# ---------------------------------------------------------------------------------------------


def _input_array(x: Any, api: str) -> np.ndarray:
    if is_dual(x):
        raise TypeError(f"{api}: x must be a plain number or array, got {errors.type_name(x)}")
    errors.check_plain_array(x, api)  # (np.matrix's x * x, traced as an array's, is x @ x)
    try:
        arr = np.asarray(x)
    except TypeError as e:
        raise TypeError(f"{api}: x must be a number or an array of numbers") from e
    if arr.dtype.kind == "O":  # plain numbers in an object array: as jacobian() takes them
        arr = plain_numbers(arr)
    if arr.dtype.kind in "biu":
        arr = arr.astype(float)
    elif arr.dtype.kind not in "fc":
        raise TypeError(f"{api}: x must hold real or complex numbers, got dtype {arr.dtype}")
    return arr


class DependencyRun:
    """What one run of ``f`` on a dependency tracer found (``run_dependencies``): the set id of
    every output element in the run's store.

    ``shape`` is ``f(x).shape``, ``n`` the size of ``x``, ``decisions`` where ``f`` used values
    computed from ``x`` in Python. ``pattern()`` and ``toarray()`` build the pattern;
    ``dense`` tells, without building it, whether the pattern is dense (see
    ``DENSE_FRACTION``)."""

    def __init__(self, ids: np.ndarray, store: _Store, n: int, decisions: list[str]) -> None:
        self.ids = ids.reshape(-1)
        self.store = store
        self.n = n
        self.shape = ids.shape
        self.decisions = decisions

    @property
    def nnz(self) -> int:
        return self.store.total(self.ids)

    @property
    def dense(self) -> bool:
        entries = self.ids.size * self.n
        return entries >= _DENSE_MIN and self.nnz > DENSE_FRACTION * entries

    def pattern(self) -> Pattern:
        lengths, cols = self.store.contents(self.ids)
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        return Pattern(indptr, cols, (self.ids.size, self.n))

    def toarray(self) -> np.ndarray:
        out = np.zeros((self.ids.size, self.n), dtype=bool)
        full = self.ids == _FULL
        out[full] = True
        rest = np.flatnonzero(~full)
        lengths, cols = self.store.contents(self.ids[rest])
        out[np.repeat(rest, lengths), cols] = True
        return out


def run_dependencies(f: Callable[..., Any], x: Any) -> DependencyRun:
    """Run ``f`` once on a dependency tracer of ``x``: the dependencies of its result (not to be
    confused with ``dualdiff.trace``, the evaluation-trace printer)."""
    errors.check_callable(f, "jacobian_sparsity")
    x = _input_array(x, "jacobian_sparsity")
    store = _Store(x.size)
    # the value and its dependencies in x's memory order: NumPy's view-or-copy decisions
    # (x.reshape(-1) of a Fortran-ordered x copies) are then the same for both and for x
    seeds = same_strides(x, np.intp)
    seeds[...] = store.seeds().reshape(x.shape)
    outer = getattr(_STATE, "decisions", None), getattr(_STATE, "store", None)
    _STATE.decisions = decisions = []
    _STATE.store = store
    store.tracing = True
    try:
        y = errors.call_user(f, _make(same_strides(x), seeds))
        if type(y) is np.ndarray and y.dtype.kind == "O":
            y = lift(y)  # an object array of traced elements: the traced array it stands for
        if type(y) is SparsityTracer:
            ids = _deps_of(y)
        elif (
            is_dual(y)
            or isinstance(y, (list, tuple, dict, set, str, bytes))
            or y is None
            or (isinstance(y, np.ndarray) and type(y) is not np.ndarray)  # (a masked array)
        ):
            raise TypeError(
                "jacobian_sparsity: f must return one array or number, got "
                f"{errors.type_name(y)}"
                + (" (did f forget a return statement?)" if y is None else "")
            )
        else:
            ids = _empty_deps(np.shape(y))
    finally:
        store.tracing = False
        _STATE.decisions, _STATE.store = outer
    return DependencyRun(np.asarray(ids), store, x.size, decisions)


def trace_pattern(f: Callable[..., Any], x: Any) -> tuple[Pattern, tuple[int, ...]]:
    """``(pattern, f(x).shape)``: the Jacobian pattern as a ``Pattern`` of shape ``(m, n)``.

    Warns ``ValueDependentPatternWarning`` when the pattern holds at this ``x`` only."""
    pattern, shape, decisions = trace_decisions(f, x)
    if decisions:
        warn_value_dependent(decisions, "jacobian_sparsity")
    return pattern, shape


def warn_value_dependent(decisions: list[str], api: str, stacklevel: int = 4) -> None:
    more = f" (and {len(decisions) - 1} more such uses)" if len(decisions) > 1 else ""
    warnings.warn(
        f"{api}: f used values of x in Python: {decisions[0]}{more}. The traced sparsity "
        "pattern holds at this x only (a prepared SparseJacobian traces it again at every new "
        "point); pass sparsity=<a pattern valid everywhere> to avoid that, or use np.where "
        "instead of if on values",
        errors.ValueDependentPatternWarning,
        stacklevel=stacklevel,
    )


def trace_decisions(f: Callable[..., Any], x: Any) -> tuple[Pattern, tuple[int, ...], list[str]]:
    """``(pattern, f(x).shape, decisions)``: ``decisions`` lists where ``f`` used values
    computed from ``x`` in Python (empty: the pattern holds at every point)."""
    run = run_dependencies(f, x)
    return run.pattern(), run.shape, run.decisions


def jacobian_sparsity(f: Callable[..., Any], x: Any, *, sparse: bool = False) -> Any:
    """The non-zero pattern of the Jacobian of ``f`` at ``x``, found without differentiating.

    ``f`` runs once on a dependency tracer. The pattern is conservative (it never misses a
    non-zero) and structural: it holds at every ``x`` unless ``f`` branches on values in Python
    (``if x[0] > 0``, ``int(np.argmax(x))``); then it holds at ``x`` only and a
    ``ValueDependentPatternWarning`` says so. ``np.where`` counts both branches.

    Parameters
    ----------
    f : callable
        ``f(x)``.
    x : array_like
        The point.
    sparse : bool, optional
        Return a ``scipy.sparse.csr_array`` (needs SciPy), which stays small when ``x`` is large.

    Returns
    -------
    ndarray of bool or scipy.sparse.csr_array
        Shape ``(f(x).size, x.size)``: entry ``[i, j]`` is True when output ``i`` can depend on
        input ``j``, both flattened in C order (the Jacobian reshaped to 2-D).

    See Also
    --------
    SparseJacobian : colours the pattern and evaluates the Jacobian from it.

    Examples
    --------
    >>> dd.jacobian_sparsity(lambda x: x[1:] - x[:-1], np.ones(4))
    array([[ True,  True, False, False],
           [False,  True,  True, False],
           [False, False,  True,  True]])
    """
    run = run_dependencies(f, x)
    if run.decisions:
        warn_value_dependent(run.decisions, "jacobian_sparsity", stacklevel=3)
    if sparse:
        return run.pattern().to_scipy()
    return run.toarray()
