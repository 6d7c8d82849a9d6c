"""ndarray's methods for dualdiff's array-like types (DualArray, Taylor, the sparsity tracer).

Each method calls the NumPy function of the same name, which dispatches through the type's
``__array_function__`` to its rule: the methods hold no maths of their own, so a type gets them
all by inheriting this mixin and registering the functions.
"""

from __future__ import annotations

import math
import numbers
from builtins import type as builtins_type
from typing import Any

import numpy as np


def variance(
    a: Any, axis: Any, ddof: Any, keepdims: bool, complex_values: bool, dtype: Any = None
) -> Any:
    """``Σ |a - mean(a)|² / (N - ddof)`` along ``axis``, written with NumPy functions so that a
    dual type's own rules for ``mean``, ``sum`` and arithmetic differentiate it: the ``var``
    (and, through ``sqrt``, the ``std``) of DualArray, Taylor series and traced duals alike.
    ``dtype`` is NumPy's: the mean and the sum of squares accumulate in it."""
    centred = a - np.mean(a, axis=axis, keepdims=True, dtype=dtype)
    squares = (centred * np.conjugate(centred)).real if complex_values else centred**2
    if axis is None:
        count = math.prod(a.shape)
    else:
        count = math.prod(a.shape[i] for i in (axis if isinstance(axis, tuple) else (axis,)))
    total = np.sum(squares, axis=axis, keepdims=keepdims, dtype=dtype)
    return divided_or_undefined(total, count - ddof, np.inf)


def divided_or_undefined(total: Any, count: Any, undefined: float) -> Any:
    """``total / count`` for a plain ``count``, and where ``count <= 0`` NumPy's value of a
    statistic of nothing, with a derivative that is not a number (as numeric differences give
    it): ``total * undefined``, a zero tangent times NaN or inf. (``total / 0`` would keep a
    zero tangent zero: the rules take a zero tangent times an infinite partial as zero.)

    ``undefined`` is NaN where NumPy's value is NaN (``nanvar``, ``nanmean``, ``mean`` of
    nothing), inf where it is ``total / 0`` (``var``: NaN of a zero total, inf beyond)."""
    if type(count) is int and count > 0:  # the common case, without an array
        return total / count
    bad = np.asarray(count) <= 0
    if not bad.any():
        return total / count
    with np.errstate(invalid="ignore"):
        if bad.ndim == 0:
            return total * undefined
        return np.where(bad, total * undefined, total / np.where(bad, 1, count))


def _shape_argument(shape: tuple[Any, ...]) -> Any:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    return shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape


class InPlaceOperators:
    """``x += y`` and the other in-place operators as ``x[...] = x + y``: written into the array
    (and so through its views), as ndarray's are. ``_inplace(result)`` writes and returns what
    the name is bound to afterwards."""

    __slots__ = ()

    def _inplace(self, result: Any) -> Any:
        raise NotImplementedError

    def __iadd__(self, other: Any) -> Any:
        return self._inplace(self + other)

    def __isub__(self, other: Any) -> Any:
        return self._inplace(self - other)

    def __imul__(self, other: Any) -> Any:
        return self._inplace(self * other)

    def __itruediv__(self, other: Any) -> Any:
        return self._inplace(self / other)

    def __ipow__(self, other: Any) -> Any:
        return self._inplace(self**other)

    def __imatmul__(self, other: Any) -> Any:
        return self._inplace(self @ other)

    # without these Python falls back to ``x = x % c``: a view would not write into its base
    def __imod__(self, other: Any) -> Any:
        return self._inplace(self % other)

    def __ifloordiv__(self, other: Any) -> Any:
        return self._inplace(self // other)


class ArrayMethods:
    """``x.sum()``, ``x.reshape(...)``, ``x.T`` ... through ``numpy.<name>(x, ...)``."""

    __slots__ = ()

    @property
    def T(self) -> Any:
        return np.transpose(self)

    @property
    def mT(self) -> Any:
        if self.ndim < 2:
            raise ValueError("matrix transpose with ndim < 2 is undefined")
        return np.swapaxes(self, -1, -2)

    @property
    def itemsize(self) -> int:
        """Bytes per element of the values (as ``ndarray.itemsize``; the tangent is apart)."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of the values, ``size * itemsize`` as for an ndarray (tangents not counted)."""
        return self.size * self.dtype.itemsize

    @property
    def device(self) -> str:
        return "cpu"

    # copy.copy(x) and copy.deepcopy(x) are new arrays, as ndarray's are: Python's default
    # shallow copy shared the value (a write into the copy reached x, and its views)
    def __copy__(self) -> Any:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> Any:
        return self.copy()

    def to_device(self, device: Any, /, *, stream: Any = None) -> Any:
        if device != "cpu" or stream is not None:
            raise ValueError(f"unsupported device {device!r}: only 'cpu' (NumPy's own device)")
        return self

    def __format__(self, spec: str) -> str:
        # As an ndarray: a format spec applies to a 0-d array only, and formats its value.
        if not spec:
            return str(self)
        value = plain_value(self)
        if np.ndim(value) != 0:
            raise TypeError(
                f"unsupported format string {spec!r} for a {type(self).__name__} of shape "
                f"{np.shape(value)}: as for numpy.ndarray, a format spec applies to 0-d arrays "
                "only; format the elements, or np.array2string(x.value)"
            )
        return format(value[()] if type(value) is np.ndarray else value, spec)

    @property
    def flat(self) -> FlatView:
        """A flat view: ``x.flat[i]`` reads and ``x.flat[i] = v`` writes through to ``x``."""
        return FlatView(self)

    @flat.setter
    def flat(self, value: Any) -> None:
        # x.flat = v writes every element, v repeated as needed, as ndarray's setter does
        FlatView(self)[:] = value

    def item(self, *args: Any) -> Any:
        """One element as a scalar dual (its tangent kept), as ``ndarray.item`` gives a number."""
        if not args:
            if self.size != 1:
                raise ValueError("can only convert an array of size 1 to a Python scalar")
            return np.ravel(self)[0]
        if len(args) == 1 and isinstance(args[0], tuple):
            args = args[0]
        if len(args) == 1:
            return np.ravel(self)[args[0]]
        return self[args]

    def tolist(self) -> Any:
        """Nested lists of the scalar elements (each keeps its derivative)."""
        if self.ndim == 0:
            return self
        return [item.tolist() if getattr(item, "ndim", 0) else item for item in self]

    def conj(self) -> Any:
        return np.conjugate(self)

    def view(self, dtype: Any = None, type: Any = None) -> Any:
        # A view must write through to its base, values and derivatives alike; only DualArray
        # (which overrides this) guarantees that, so the others refuse rather than copy.
        raise TypeError(
            f"{builtins_type(self).__name__}.view() is not supported: a write through it might "
            "not reach the array it views (DualArray has view()); use x.copy() or x[...]"
        )

    def resize(self, *new_shape: Any, refcheck: bool = True) -> None:
        raise TypeError(
            f"{builtins_type(self).__name__}.resize() in place is not supported (DualArray has "
            "it); use np.resize(x, shape) or x.reshape(shape) for a new array"
        )

    def fill(self, value: Any) -> None:
        self[...] = value

    def sort(self, axis: int = -1, kind: Any = None, order: Any = None, **kwargs: Any) -> None:
        """Sort in place: values and tangents move together (a view of ``self`` sees both)."""
        self[...] = np.sort(self, axis=axis, kind=kind, order=order, **kwargs)

    def partition(self, kth: Any, axis: int = -1, kind: str = "introselect", order: Any = None):
        self[...] = np.partition(self, kth, axis=axis, kind=kind, order=order)

    def put(self, indices: Any, values: Any, mode: str = "raise") -> None:
        np.put(self, indices, values, mode=mode)

    def take(self, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        return np.repeat(self, repeats, axis=axis)

    def compress(self, condition: Any, axis: Any = None, out: Any = None) -> Any:
        return np.compress(condition, self, axis=axis, out=out)

    def searchsorted(self, v: Any, side: str = "left", sorter: Any = None) -> Any:
        return np.searchsorted(self, v, side=side, sorter=sorter)

    def argpartition(self, kth: Any, axis: int = -1, kind: str = "introselect", order=None):
        return np.argpartition(self, kth, axis=axis, kind=kind, order=order)

    def reshape(self, *shape: Any, order: str = "C", copy: Any = None) -> Any:
        if copy is None:
            return np.reshape(self, _shape_argument(shape), order=order)
        return np.reshape(self, _shape_argument(shape), order=order, copy=copy)

    def ravel(self, order: str = "C") -> Any:
        return np.ravel(self, order=order)

    def flatten(self, order: str = "C") -> Any:
        return np.copy(np.ravel(self, order=order))

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        return np.swapaxes(self, axis1, axis2)

    def squeeze(self, axis: Any = None) -> Any:
        return np.squeeze(self, axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        return np.diagonal(self, offset, axis1, axis2)

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return np.sum(self, *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return np.mean(self, *args, **kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return np.prod(self, *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return np.min(self, *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return np.max(self, *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return np.cumsum(self, *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Any:
        return np.cumprod(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return np.std(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return np.var(self, *args, **kwargs)

    def dot(self, other: Any, out: Any = None) -> Any:
        return np.dot(self, other) if out is None else np.dot(self, other, out=out)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        return np.trace(self, offset, axis1, axis2)

    def clip(self, min: Any = None, max: Any = None, out: Any = None, **kwargs: Any) -> Any:
        # ndarray.clip takes one bound (x.clip(0)); np.clip needs both, None for no bound
        return np.clip(self, min, max, out=out, **kwargs)

    def round(self, decimals: int = 0, out: Any = None) -> Any:
        return np.round(self, decimals, out=out)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return np.argmax(self, *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return np.argmin(self, *args, **kwargs)

    def argsort(self, *args: Any, **kwargs: Any) -> Any:
        return np.argsort(self, *args, **kwargs)

    def nonzero(self) -> Any:
        return np.nonzero(self)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return np.any(self, *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return np.all(self, *args, **kwargs)


def plain_value(a: Any) -> Any:
    """The plain values under every dual layer (``.value`` until a number or an ndarray)."""
    while not isinstance(a, (np.ndarray, numbers.Number)):
        a = a.value
    return a


class FlatView:
    """``x.flat`` of a dual array: a 1-d iterator over the elements with indexing that reads
    (``np.ravel(x)[i]``) and writes through to ``x`` (``np.put`` at the flat positions)."""

    __slots__ = ("base",)

    def __init__(self, base: Any) -> None:
        self.base = base

    def __len__(self) -> int:
        return self.base.size

    def __iter__(self) -> Any:
        return iter(np.ravel(self.base))

    def __getitem__(self, index: Any) -> Any:
        return np.ravel(self.base)[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        np.put(self.base, np.arange(self.base.size)[index], value)

    def copy(self) -> Any:
        return np.ravel(self.base).copy()


def _refused_method(name: str, reason: str) -> Any:
    def refused(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__}.{name}() is not supported: {reason}. Call it on x.value for "
            "the plain values."
        )

    refused.__name__ = name
    refused.__doc__ = f"Not supported: {reason}."
    return refused


def _refused_attribute(name: str, reason: str) -> Any:
    def refused(self: Any) -> Any:
        # AttributeError, so hasattr() and getattr(x, name, default) see an absent attribute
        raise AttributeError(
            f"{type(self).__name__}.{name} is not available: {reason}; use x.value.{name} for "
            "the plain values"
        )

    return property(refused, doc=f"Not available: {reason}.")


_MEMORY = "a dual array is two arrays (values and tangents, the tangents with a leading direction "
_MEMORY += "axis), so there is no single memory block"
REFUSED_METHODS = {
    "tobytes": "the bytes of the values would drop the tangent (the derivative)",
    "tofile": "writing the values to a file would drop the tangent (the derivative)",
    "dump": "pickling to a file through ndarray.dump would drop the tangent",
    "dumps": "pickling through ndarray.dumps would drop the tangent",
    "byteswap": "swapping the bytes of a float reinterprets it: the result has no derivative",
    "getfield": "a field of the bytes reinterprets them: the result has no derivative",
    "setfield": "writing a field of the bytes reinterprets them: the result has no derivative",
    "setflags": _MEMORY + " whose flags could be set",
    "choose": "a dual array cannot be the index array of choose; index with integers",
}
"""ndarray methods the dual array types refuse, each with the reason."""

REFUSED_ATTRIBUTES = {
    "base": _MEMORY + " to be a view of",
    "data": _MEMORY,
    "ctypes": _MEMORY,
    "flags": _MEMORY + " with one set of flags",
    "strides": _MEMORY + " with one set of strides",
}
"""ndarray attributes the dual array types refuse, each with the reason."""

for _name, _reason in REFUSED_METHODS.items():
    setattr(ArrayMethods, _name, _refused_method(_name, _reason))
for _name, _reason in REFUSED_ATTRIBUTES.items():
    setattr(ArrayMethods, _name, _refused_attribute(_name, _reason))


def refused_shape_setter(kind: str) -> Any:
    """A ``shape`` setter that refuses ``x.shape = ...`` on ``kind`` with a TypeError naming the
    fix (NumPy's in-place reshape; the carrier keeps no single array it could reshape)."""

    def setter(self: Any, shape: Any) -> None:
        raise TypeError(
            f"setting .shape of {kind} (NumPy's in-place reshape) is not supported; write "
            "x = x.reshape(shape)"
        )

    return setter


def is_basic_index(index: Any) -> bool:
    """Whether ``index`` is NumPy basic indexing (the result is a view)."""
    for i in index if type(index) is tuple else (index,):
        if not (
            i is None
            or i is Ellipsis
            or type(i) is slice
            or (isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)))
        ):
            return False
    return True


def at_rounds(flat: np.ndarray, shape: tuple[int, ...]) -> list[tuple[tuple[Any, ...], Any]]:
    """``ufunc.at``'s visits as rounds of distinct elements, in NumPy's order.

    ``flat`` holds the flat number of the element of an array of ``shape`` that each visit
    reaches, in the order ``ufunc.at`` makes them (``np.arange(size).reshape(shape)[index]``,
    raveled). Round ``r`` holds the ``r``-th visit of every element reached more than ``r``
    times: ``(where, chosen)``, ``where`` those elements' multi-index into the array and
    ``chosen`` the visits' positions in ``flat`` (where their operands are). Applying
    ``a[where] = ufunc(a[where], b[chosen])`` round after round gives every element its operands
    in NumPy's order, each seeing the result of the one before, as the unbuffered loop does. The
    rounds depend on the index alone, never on the values.
    """
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    starts = np.r_[True, ranked[1:] != ranked[:-1]] if flat.size else np.zeros(0, bool)
    group = np.cumsum(starts) - 1
    visit = np.empty_like(flat)
    visit[order] = np.arange(flat.size) - np.flatnonzero(starts)[group]
    # the visits grouped by round, in NumPy's order within each: one sort, where a scan of all
    # the visits per round cost O(visits * rounds) (an index repeated n times: n² work)
    by_round = np.argsort(visit, kind="stable")
    ends = np.cumsum(np.bincount(visit, minlength=1)).tolist() if flat.size else []
    rounds = []
    start = 0
    for end in ends:
        chosen = by_round[start:end]
        rounds.append((np.unravel_index(flat[chosen], shape), chosen))
        start = end
    return rounds


EXTREME_UFUNCS = (np.maximum, np.minimum, np.fmax, np.fmin)
"""The ufuncs whose ``at`` is the extreme of each element's visits (``extreme_at``)."""


def extreme_at(ufunc: np.ufunc, current: Any, b: Any, flat: np.ndarray, plain: Any) -> Any:
    """``ufunc.at(a, index, b)`` for ``ufunc`` in ``EXTREME_UFUNCS``, as one computation on any
    carrier: the new values of the elements the visits reach, to be written into ``a`` at once.

    ``flat`` is the flat element of each visit in NumPy's order, ``current`` (a carrier) the
    values before the call of the elements it reaches (``np.unique(flat)``, in that order) and
    ``b`` (a carrier or plain, shaped like ``flat``) the operands; ``plain(c)`` gives a carrier's
    plain values. The visits of an element leave it at the extreme of its old value and its
    operands: NumPy's own ``ufunc.at`` on the plain values gives it (the same NaN rules), and the
    tangent is the mean of the tangents of the entries equal to it, ties shared evenly as
    ``np.max`` and ``maximum.accumulate`` share them (a NaN result takes its first NaN's).
    Applied round by round (``at_rounds``), an index repeated n times cost n rounds of carrier
    operations: 2 s at n = 8 000 eagerly, and a compiled program of n rounds (40 s to compile).
    """
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    starts = np.r_[True, ranked[1:] != ranked[:-1]]
    g = int(np.count_nonzero(starts))
    # the sequence of each element: its old value, then its operands in NumPy's order
    seq = np.concatenate([current, b[order]])
    group = np.concatenate([np.arange(g), np.cumsum(starts) - 1])
    final = np.array(plain(current), copy=True)
    # compared in a's dtype, the one NumPy's ufunc.at casts the operands to (float64 operands
    # of a float32 a, rounded there, would equal nothing)
    values = np.asarray(plain(seq)).astype(final.dtype, copy=False)
    ufunc.at(final, group[g:], values[g:])  # NumPy's value, exactly
    hit = values == final[group]
    count = np.bincount(group, weights=hit, minlength=g)
    # the first entry equal to the result (NumPy's order within a group: the position), of its
    # sign where it is a zero (-0.0 == 0.0), else the first NaN (a NaN result equals nothing)
    chosen = (
        hit if values.dtype.kind == "c" else hit & (np.signbit(values) == np.signbit(final)[group])
    )
    candidates = np.flatnonzero(np.where((count > 0)[group], chosen, np.isnan(values)))
    first = np.full(g, seq.shape[0], dtype=np.intp)
    np.minimum.at(first, group[candidates], candidates)
    new = seq[first]
    ties = (count > 1) & np.isfinite(final)  # (equal infinities: inf - inf; the first's)
    if ties.any():
        # the mean of the tied tangents as t_first - mean(t_first - t_i): the correction's
        # value is +0.0 exactly, so the value stays NumPy's (-0.0 too)
        tied = hit & ties[group]
        spread = np.where(tied, new[group] - seq, 0.0)
        total = np.zeros_like(new)
        np.add.at(total, group, spread)
        new = new - total / np.where(ties, count, 1.0)
    return new


def same_strides(x: np.ndarray, dtype: Any = None) -> np.ndarray:
    """A new array with ``x``'s values (``dtype`` given: uninitialised, of that dtype) laid out
    as ``x`` is, its own strides included. NumPy's view-or-copy decisions depend on them: the
    rows ``x = a[::2]`` of a C-ordered ``a`` give ``x.reshape(-1)`` as a copy, a contiguous
    copy of ``x`` as a view, and a write through that view would reach ``x`` where NumPy's
    does not. A contiguous ``x`` is copied in its order (``order="K"``)."""
    strides, itemsize = x.strides, x.itemsize
    if (
        x.flags.c_contiguous
        or x.flags.f_contiguous
        or x.size == 0
        or any(s % itemsize for s in strides)
    ):
        return x.copy(order="K") if dtype is None else np.empty_like(x, dtype=dtype)
    kind = np.dtype(x.dtype if dtype is None else dtype)
    low = sum(s * (n - 1) for s, n in zip(strides, x.shape) if s < 0) // itemsize
    high = sum(s * (n - 1) for s, n in zip(strides, x.shape) if s > 0) // itemsize
    buffer = np.empty(high - low + 1, kind)
    scale = kind.itemsize // itemsize if kind.itemsize >= itemsize else None
    if scale is None or kind.itemsize % itemsize:  # strides in units another dtype cannot take
        return x.copy(order="K") if dtype is None else np.empty_like(x, dtype=dtype)
    out = np.lib.stride_tricks.as_strided(
        buffer[-low:], x.shape, tuple(s * scale for s in strides), writeable=True
    )
    if dtype is None:
        out[...] = x
    return out
