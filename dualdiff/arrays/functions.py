"""Derivative rules for NumPy's non-ufunc functions on DualArrays (``__array_function__``).

Three kinds, as in the rule table: functions *linear* in the array (reshape, sum, concatenate, ...)
apply themselves to the tangent with axis arguments shifted past the direction axis; *bilinear*
ones (dot, tensordot, einsum, ...) follow the product rule; *selections* (sort, max, where, ...)
move the tangent along with the value. The rest are compositions of differentiable operations,
and functions of the values only (argmax, nonzero, ...) pass through on the values.
"""

from __future__ import annotations

import functools
import math
import string
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core import errors
from ..core.methods import divided_or_undefined
from ..dual import objects
from ..dual.dual import Dual
from ..rules.calls import Call
from ..rules.compositions import COMPOSITIONS, kept_only, reduceat
from ..rules.elementwise import RULES, is_dual, select, zero_tangent
from ..rules.functions import FUNCTIONS, Entry, layout_refusal
from .dualarray import (
    DERIVED_FUNCTIONS,
    HANDLED_FUNCTIONS,
    UFUNC_METHODS,
    DualArray,
    _as_array_operand,
    _link,
    _make_array,
    _owns,
    box,
    fit_tangent,
    from_dual,
    implements,
    lift_tangent,
    own_tangent,
    read_only,
    refuse_write,
    same_memory,
    set_item,
    strip,
    tangent_axis,
    view_of,
    zeros_tangent,
)

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _as_dual_array(a: Any) -> Any:
    return from_dual(a) if type(a) is Dual else a


def _linear(a: Any, value_fn: Callable[[Any], Any], tangent_fn: Callable[[Any], Any]) -> Any:
    """A function linear in ``a``: the value through ``value_fn``, the tangent through
    ``tangent_fn`` (the same operation with axes shifted past the direction axis)."""
    a = _as_dual_array(a)
    return box(_make_array(value_fn(a.value), tangent_fn(own_tangent(a)), a.tag, a.batched))


def _view(a: Any, value_fn: Callable[[Any], Any], tangent_fn: Callable[[Any], Any]) -> Any:
    """As ``_linear`` for a function that returns a view in NumPy (transpose, swapaxes, ...):
    the result's value and tangent view ``a``'s, so that writes through it reach ``a``."""
    return view_of(_as_dual_array(a), lambda p: (value_fn(p.value), tangent_fn(own_tangent(p))))


def _foreign_leader(items: Sequence[Any]) -> str | None:
    """Whether the newest dual among ``items`` is of another dual type (a Taylor series, a
    sparsity tracer): ``"numpy"`` when none of ours is present (let NumPy dispatch to it),
    ``"defer"`` when ours are too (return NotImplemented so NumPy asks the other type)."""
    duals = [i for i in items if is_dual(i)]
    if not duals:
        return None
    leader = max(duals, key=lambda i: i.tag)
    if type(leader) in (Dual, DualArray):
        return None
    return "defer" if any(type(i) in (Dual, DualArray) for i in duals) else "numpy"


def _gather(items: Sequence[Any], zeros: bool = True) -> tuple[int, bool, list[Any], list[Any]]:
    """The newest tag among ``items`` and their values and tangents at it, all with the same
    number of directions; constants become arrays with zero tangents (``None`` with
    ``zeros=False``). Lists holding duals are stacked first. At least one item is ours."""
    items = [
        _as_array_operand(i) if isinstance(i, (list, tuple)) else _as_dual_array(i) for i in items
    ]
    tag, batched, values, tangents, k = _at_newest(items)
    for i, tangent in enumerate(tangents):
        if tangent is None:
            value = values[i]
            if not is_dual(value):
                values[i] = value = np.asarray(value)
            if zeros:
                tangents[i] = zeros_tangent(k, value)
    return tag, batched, values, tangents


def _plain_only(name: str, **arguments: Any) -> None:
    """Raise TypeError when an argument that is not differentiated here holds a dual."""
    for argument, value in arguments.items():
        if is_dual(value) or (isinstance(value, (list, tuple)) and any(is_dual(v) for v in value)):
            raise TypeError(
                f"numpy.{name}: dualdiff differentiates with respect to the array argument only; "
                f"{argument} must not carry a derivative {errors.NOT_DIFFERENTIATED}"
            )


def _unsupported(name: str, **arguments: Any) -> None:
    """Raise TypeError for options a rule does not implement (rather than ignoring them)."""
    for argument, value in arguments.items():
        if value is not None and value is not np._NoValue:
            raise TypeError(f"numpy.{name} on duals does not support {argument}=")


def _dtype_check(name: str, dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(f"numpy.{name}(..., dtype={dtype}) would drop the tangent")


def _in_dtype(a: Any, name: str, dtype: Any) -> Any:
    """Dual ``a`` in a reduction's ``dtype=``: NumPy casts every entry to it and accumulates in
    it, so the value (and with it the tangent) is computed in that dtype."""
    _dtype_check(name, dtype)
    a = _as_dual_array(a)
    if dtype is None or np.dtype(dtype) == a.dtype:
        return a
    return a.astype(dtype)


def _cast(a: Any, dtype: Any) -> Any:
    """Dual ``a`` (a ``Dual`` too) converted to ``dtype``, or as is when it has it already."""
    if dtype is None or np.dtype(dtype) == a.dtype:
        return a
    return box(_as_dual_array(a).astype(dtype))


def _finish(result: Any, out: Any, name: str) -> Any:
    if out is None:
        return result
    if type(out) is not DualArray:
        raise errors.lost_tangent(
            f"numpy.{name}(..., out=<{errors.type_name(out)}>) with dual input",
            "Pass a DualArray as out (np.zeros_like(x) makes one), or drop out=.",
        )
    set_item(out, Ellipsis, result)
    return out


# ---------------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------------


@implements(np.sum)
def sum_(
    a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue
):
    a = _in_dtype(a, "sum", dtype)
    if where is not np._NoValue:  # the entries left out add nothing (NumPy's where=)
        a = np.where(np.asarray(where, dtype=bool), a, 0)
    axes = tangent_axis(axis, a.ndim)
    result = _make_array(
        np.sum(a.value, axis=axis, keepdims=keepdims),
        np.sum(a.tangent_, axis=axes, keepdims=keepdims),
        a.tag,
        a.batched,
    )
    if initial is not np._NoValue:
        result = result + initial
    return _finish(box(result) if type(result) is DualArray else result, out, "sum")


def _count(shape: tuple[int, ...], axis: Any) -> int:
    """How many entries a reduction over ``axis`` combines into each result."""
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[i] for i in _tuple(axis)]))


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=np._NoValue):
    a = _in_dtype(a, "mean", dtype)
    if where is not np._NoValue:  # the sum of the entries kept over how many are kept
        mask = np.broadcast_to(np.asarray(where, dtype=bool), a.shape)
        total = sum_(a, axis=axis, keepdims=keepdims, where=mask)
        count = np.sum(mask, axis=axis, keepdims=keepdims).astype(np.result_type(strip(total)))
        result = total / count
        empty = count == 0
        if np.any(empty):
            # nothing kept: NumPy's NaN, and a NaN tangent, as every other mode and numeric
            # differences give it (the division rule would keep the zero tangent zero)
            result = total * np.nan if empty.ndim == 0 else np.where(empty, total * np.nan, result)
        return _finish(result, out, "mean")
    total = sum_(a, axis=axis, keepdims=keepdims)
    # of nothing: NumPy's NaN, and a NaN tangent (see divided_or_undefined)
    return _finish(divided_or_undefined(total, _count(a.shape, axis), np.nan), out, "mean")


def _exclusive_products(v: Any, axis: int) -> Any:
    """For each position along ``axis``, the product of all *other* entries (zeros allowed)."""
    ones_shape = list(np.shape(strip(v)))
    ones_shape[axis] = 1
    one = np.ones(ones_shape, np.result_type(strip(v), 0.0))  # float32 stays float32
    before = np.cumprod(np.concatenate([one, v], axis=axis), axis=axis)
    after = np.flip(
        np.cumprod(np.concatenate([one, np.flip(v, axis=axis)], axis=axis), axis=axis), axis=axis
    )
    n = np.shape(strip(v))[axis]
    return _cut(before, axis, 0, n) * _cut(after, axis, 1, n + 1)


def _cut(a: Any, axis: int, start: int, stop: int) -> Any:
    """``a[start:stop]`` along ``axis`` (a view; ``np.take`` of a ``range`` had NumPy convert
    the range element by element, ~60 ns each: 800x NumPy's time for ``np.diff(x, n=3)``)."""
    return a[(slice(None),) * (axis % np.ndim(strip(a))) + (slice(start, stop),)]


@implements(np.prod)
def prod(
    a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue
):
    """``d prod(x) = sum_i prod_{j != i} x_j dx_i`` (exact at zeros: no division by x_i)."""
    a = kept_only(_in_dtype(a, "prod", dtype), where, 1)
    if axis is None:
        flat = np.reshape(a, (-1,))
        result = prod(flat, axis=0)
        if keepdims and a.ndim:  # (of a 0-d array NumPy returns a scalar, keepdims or not)
            result = np.reshape(result, (1,) * a.ndim)
    elif isinstance(axis, tuple):
        result = a if axis else box(a.copy())  # (axis=(): a new array, as NumPy's, or a scalar)
        for ax in sorted((x % a.ndim for x in axis), reverse=True):
            result = prod(result, axis=ax, keepdims=keepdims)
    else:
        axis = axis % a.ndim
        others = _exclusive_products(a.value, axis)
        tangent = np.sum(lift_tangent(a, a.ndim) * others, axis=axis + 1, keepdims=keepdims)
        value = np.prod(a.value, axis=axis, keepdims=keepdims)
        result = box(_make_array(value, tangent, a.tag, a.batched))
    if initial is not np._NoValue:
        result = result * initial
    return _finish(result, out, "prod")


def _extreme(a: Any, axis: Any, keepdims: bool, pick: Callable[..., Any]) -> Any:
    """max or min: the tangent of the chosen entry; ties share it evenly (as ``maximum`` does)."""
    a = _as_dual_array(a)
    value = pick(a.value, axis=axis, keepdims=True)
    plain = strip(a.value)
    mask = plain == strip(value)
    count = np.sum(mask, axis=axis, keepdims=True)
    weights = mask / count
    if plain.dtype.kind in "fc":  # float64 weights would promote a float32 tangent that is a
        weights = weights.astype(np.finfo(plain.dtype).dtype)  # dual itself (nested)
    axes = tangent_axis(axis, a.ndim)
    # (an entry not chosen gives nothing, even where its tangent is infinite or NaN)
    tangent = np.sum(select(weights, a.tangent_), axis=axes, keepdims=keepdims)
    if not keepdims:
        value = np.squeeze(value, axis=axis) if axis is not None else np.reshape(value, ())
    return box(_make_array(value, tangent, a.tag, a.batched))


# max/min/sort/partition/polyval/nan_to_num keep overrides of the bodies in compositions.py
# (tests/test_numpy_functions.py checks each against its body): they read the values once and
# build the tangent directly, 1.1x (polyval) to 5x (max, min) faster than the composition.


@implements(np.max, np.amax)
def max_(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
    a = _as_dual_array(kept_only(a, where, -np.inf, "maximum", initial))
    if initial is not np._NoValue and _count(a.shape, axis) == 0:  # nothing but initial
        return _finish(sum_(a * 0, axis=axis, keepdims=keepdims) + initial, out, "max")
    result = _extreme(a, axis, keepdims, np.max)
    if initial is not np._NoValue:
        result = RULES["maximum"].function(result, initial)
    return _finish(result, out, "max")


@implements(np.min, np.amin)
def min_(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
    a = _as_dual_array(kept_only(a, where, np.inf, "minimum", initial))
    if initial is not np._NoValue and _count(a.shape, axis) == 0:  # nothing but initial
        return _finish(sum_(a * 0, axis=axis, keepdims=keepdims) + initial, out, "min")
    result = _extreme(a, axis, keepdims, np.min)
    if initial is not np._NoValue:
        result = RULES["minimum"].function(result, initial)
    return _finish(result, out, "min")


@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None):
    a = _in_dtype(a, "cumsum", dtype)
    if axis is None:
        a, axis = np.reshape(a, (-1,)), 0
    ax = tangent_axis(axis, a.ndim)
    return _finish(
        _linear(a, lambda v: np.cumsum(v, axis), lambda t: np.cumsum(t, ax)), out, "cumsum"
    )


@implements(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None):
    """``d y_j = sum_{i <= j} (prod_{l <= j, l != i} x_l) dx_i``, exact at zeros: prefix
    products by doubling (``y_i <- y_i y_{i-s}``, ``dy_i <- dy_i y_{i-s} + y_i dy_{i-s}`` for
    ``s = 1, 2, 4, ...``), no division; O(n log n), where a table of the products over every
    ``l != i`` was O(n²) (3 GB at n = 20 000)."""
    a = _in_dtype(a, "cumprod", dtype)
    if axis is None:
        a, axis = np.reshape(a, (-1,)), 0
    axis = axis % a.ndim
    value = np.cumprod(a.value, axis=axis)  # NumPy's own (its order of products)
    y = np.moveaxis(a.value, axis, -1)
    t = np.moveaxis(a.tangent_, axis + 1, -1)  # (k, ..., n)
    n, s = np.shape(strip(y))[-1], 1
    if n < 2:
        t = t.copy()  # (the result's own, not a view of a's)
    while s < n:
        # the products of the windows (i - 2s, i] from those of (i - s, i] and (i - 2s, i - s]
        # (the first s entries are whole prefixes already)
        tail = t[..., s:] * y[..., :-s] + y[..., s:] * t[..., :-s]
        t = np.concatenate([t[..., :s], tail], axis=-1)
        if 2 * s < n:
            y = np.concatenate([y[..., :s], y[..., s:] * y[..., :-s]], axis=-1)
        s *= 2
    tangent = np.moveaxis(t, -1, axis + 1)
    return _finish(box(_make_array(value, tangent, a.tag, a.batched)), out, "cumprod")


def ufunc_reduce(
    ufunc: np.ufunc,
    a: Any,
    axis: Any = 0,
    dtype: Any = None,
    out: Any = None,
    keepdims: bool = False,
    initial: Any = np._NoValue,
    where: Any = np._NoValue,
):
    """``ufunc.reduce`` for add, multiply, maximum, minimum (and fmax, fmin)."""
    reducer = {
        np.add: sum_,
        np.multiply: prod,
        np.maximum: max_,
        np.minimum: min_,
        np.fmax: max_,
        np.fmin: min_,
    }.get(ufunc)
    if reducer is None:
        raise errors.no_rule(f"{errors.function_name(ufunc)}.reduce")
    kwargs = {"keepdims": keepdims, "initial": initial, "where": where}
    if reducer in (sum_, prod):
        kwargs["dtype"] = dtype
    return _finish(reducer(a, axis, **kwargs), out, f"{ufunc.__name__}.reduce")


def ufunc_reduceat(
    ufunc: np.ufunc, a: Any, indices: Any, axis: Any = 0, dtype: Any = None, out: Any = None
):
    """``ufunc.reduceat``: NumPy's own of the values and the tangents for add (linear), the
    composition (a reduction per slice) for the others."""
    if ufunc is np.add and type(a) is DualArray and dtype is None and isinstance(axis, int):
        ufunc.reduceat(np.zeros(a.shape[axis] if a.ndim else 0), indices)  # NumPy's checks
        t_axis = tangent_axis(axis, a.ndim)
        result = _linear(
            a,
            lambda v: np.add.reduceat(v, indices, axis),
            lambda t: np.add.reduceat(t, indices, t_axis),
        )
    else:
        result = reduceat(ufunc, a, indices, axis, dtype)
    return _finish(result, out, f"{ufunc.__name__}.reduceat")


def ufunc_accumulate(ufunc: np.ufunc, a: Any, axis: int = 0, dtype: Any = None, out: Any = None):
    """``ufunc.accumulate`` for add, multiply, maximum and minimum."""
    if axis is None:  # (np.cumsum flattens; accumulate refuses)
        raise ValueError("accumulate does not allow multiple axes")
    if ufunc is np.add:
        return cumsum(a, axis, dtype, out)
    if ufunc is np.multiply:
        return cumprod(a, axis, dtype, out)
    if ufunc in (np.maximum, np.minimum):
        a = _as_dual_array(a)
        axis = axis % a.ndim
        value = ufunc.accumulate(a.value, axis=axis)
        x = np.moveaxis(strip(a.value), axis, -1)
        y = np.moveaxis(strip(value), axis, -1)
        t = np.moveaxis(a.tangent_, axis + 1, -1)  # (k, ..., n)
        tangent = np.moveaxis(running_extreme_tangent(x, y, t), -1, axis + 1)
        return _finish(box(_make_array(value, tangent, a.tag, a.batched)), out, "accumulate")
    raise errors.no_rule(f"{errors.function_name(ufunc)}.accumulate")


def running_extreme_tangent(x: np.ndarray, y: np.ndarray, t: Any) -> Any:
    """The tangent of ``y = maximum.accumulate(x)`` (or ``minimum``) along the last axis:
    ``y_j`` takes the mean of the tangents ``t_i`` of the entries ``i <= j`` equal to it (ties
    shared evenly, as ``np.max`` shares them), NaN where none is (a NaN matches nothing).

    ``t`` has ``x``'s shape, or more axes in front (directions, Taylor coefficients). In
    O(n log n) time and O(n) memory: an entry equal to ``y_j`` lies in ``y_j``'s run of equal
    running extremes, which starts at an entry equal to it, so ``y_j`` takes that entry's
    tangent unless a tie follows it in the run; then a segmented prefix sum over the runs
    (Hillis and Steele's, adding only within a run: no cancellation against other runs).
    Comparing every pair took n² memory (1.7 GB at n = 10 000)."""
    n = x.shape[-1]
    if n == 0:
        return t
    hit = x == y
    start = np.ones(x.shape, dtype=bool)
    start[..., 1:] = y[..., 1:] != y[..., :-1]  # NaN != NaN: each NaN a run of its own
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0), axis=-1)
    hits = np.cumsum(hit, axis=-1)
    count = hits - np.take_along_axis(hits, first, axis=-1) + np.take_along_axis(hit, first, -1)
    shape = np.broadcast_shapes(np.shape(t), x.shape)
    if (count == 1).all():  # no ties (the common case): the run's first entry, exactly
        return np.take_along_axis(t, np.broadcast_to(first, shape), axis=-1)
    total = np.where(hit, t, np.zeros((), dtype=np.result_type(strip(t))))
    run = np.cumsum(start, axis=-1)
    shift = 1
    while shift < n:
        same = run[..., shift:] == run[..., :-shift]
        earlier = np.where(same, total[..., :-shift], 0.0)
        total = np.concatenate([total[..., :shift], total[..., shift:] + earlier], axis=-1)
        shift *= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count.astype(np.result_type(strip(total), 0.0))


# ---------------------------------------------------------------------------------------------
# Differences, gradients, integrals, polynomials, interpolation (compositions)
# ---------------------------------------------------------------------------------------------


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    a = _as_dual_array(a)
    axis = errors.diff_axis(n, axis, a.ndim)
    if n == 0:  # NumPy returns a itself, without prepend or append
        return a
    parts = []
    if prepend is not np._NoValue:
        parts.append(
            np.broadcast_to(prepend, _with_axis(a.shape, axis, 1))
            if np.ndim(strip(prepend)) == 0
            else prepend
        )  # noqa: E501
    parts.append(a)
    if append is not np._NoValue:
        parts.append(
            np.broadcast_to(append, _with_axis(a.shape, axis, 1))
            if np.ndim(strip(append)) == 0
            else append
        )  # noqa: E501
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    for _ in range(n):
        m = a.shape[axis]
        a = _cut(a, axis, 1, m) - _cut(a, axis, 0, m - 1)
    return a


def _with_axis(shape: tuple[int, ...], axis: int, size: int) -> tuple[int, ...]:
    shape = list(shape)
    shape[axis] = size
    return tuple(shape)


@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """``np.gradient`` is linear in ``f``: the same differences act on the tangent."""
    _plain_only("gradient", varargs=varargs)
    f = _as_dual_array(f)
    axes = tuple(range(f.ndim)) if axis is None else axis
    single = not isinstance(axes, tuple)
    axes = (axes,) if single else axes
    values = np.gradient(f.value, *varargs, axis=axes, edge_order=edge_order)
    tangents = np.gradient(
        f.tangent_, *varargs, axis=tangent_axis(axes, f.ndim), edge_order=edge_order
    )
    if len(axes) == 1:
        values, tangents = [values], [tangents]
    results = [box(_make_array(v, t, f.tag, f.batched)) for v, t in zip(values, tangents)]
    return results[0] if len(results) == 1 else tuple(results)


@implements(np.trapezoid)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = np.moveaxis(y, axis, -1) if np.ndim(strip(y)) > 1 else y
    n = np.shape(strip(y))[-1]
    if x is not None and not is_dual(x):
        x = np.asanyarray(x)  # as NumPy does (a list of lists has no .ndim)
    step = dx if x is None else diff(x, axis=-1 if np.ndim(strip(x)) == 1 else axis)
    if x is not None and np.ndim(strip(x)) > 1:
        step = np.moveaxis(step, axis, -1)
    pairs = _cut(y, -1, 1, n) + _cut(y, -1, 0, n - 1)
    return sum_(step * pairs / 2.0, axis=-1)


# 1.1x faster than the composition, and it takes a list of dual coefficients directly
@implements(np.polyval)
def polyval(p, x):
    """Horner's scheme; differentiable in both the coefficients and ``x``."""
    if not is_dual(p) and not any(is_dual(c) for c in p):
        p = np.asarray(p)  # as NumPy does: Python floats become float64 scalars (not weak)
    coefficients = list(p) if not is_dual(p) else [p[i] for i in range(len(p))]
    x = _strong(x)  # so is a Python-number point (np.polyval(p32, 0.7) is float64)
    if not coefficients:  # the zero polynomial, as NumPy evaluates it: zeros like x
        return np.zeros_like(strip(x), dtype=np.result_type(strip(x), 0.0))
    result = coefficients[0] + 0.0 * x
    for c in coefficients[1:]:
        result = result * x + c
    return result


# ---------------------------------------------------------------------------------------------
# Products (the product rule; the direction axis is kept in front)
# ---------------------------------------------------------------------------------------------


def _bilinear(a: Any, b: Any, value_fn: Callable, left_fn: Callable, right_fn: Callable) -> Any:
    """``value_fn(x, y)`` with tangent ``left_fn(dx, y) + right_fn(x, dy)``."""
    a, b = _as_dual_array(a), _as_dual_array(b)
    tag = max(a.tag if is_dual(a) else -1, b.tag if is_dual(b) else -1)
    active_a = type(a) is DualArray and a.tag == tag
    active_b = type(b) is DualArray and b.tag == tag
    x = a.value if active_a else a
    y = b.value if active_b else b
    value = value_fn(x, y)
    tangent = None
    if active_a:
        tangent = left_fn(a.tangent_, y)
    if active_b:
        term = right_fn(x, b.tangent_)
        tangent = term if tangent is None else tangent + term
    batched = (active_a and a.batched) or (active_b and b.batched)
    return box(
        _make_array(
            value, fit_tangent(tangent, tangent.shape[0], np.shape(strip(value))), tag, batched
        )
    )


def _tensordot_axes(axes: Any, a_ndim: int, b_ndim: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return [i % a_ndim for i in a_axes], [i % b_ndim for i in b_axes]


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    a_axes, b_axes = _tensordot_axes(axes, np.ndim(strip(a)), np.ndim(strip(b)))
    a_free = np.ndim(strip(a)) - len(a_axes)
    return _bilinear(
        a,
        b,
        lambda x, y: np.tensordot(x, y, (a_axes, b_axes)),
        lambda dx, y: np.tensordot(dx, y, ([i + 1 for i in a_axes], b_axes)),
        lambda x, dy: np.moveaxis(
            np.tensordot(x, dy, (a_axes, [i + 1 for i in b_axes])), a_free, 0
        ),
    )


def _strong(a: Any) -> Any:
    """A Python number as the 0-d array NumPy's dot and inner make of it, which is not weak:
    ``np.dot(2.5, x32)`` is float64 where ``2.5 * x32`` is float32."""
    return np.asarray(a) if type(a) in (float, int, complex) else a


@implements(np.dot)
def dot(a, b, out=None):
    a, b = _strong(a), _strong(b)
    a_ndim, b_ndim = np.ndim(strip(a)), np.ndim(strip(b))
    if a_ndim == 0 or b_ndim == 0:
        result = a * b
    elif b_ndim == 1:
        result = tensordot(a, b, ([a_ndim - 1], [0]))
    else:
        result = tensordot(a, b, ([a_ndim - 1], [b_ndim - 2]))
    return _finish(result, out, "dot")


@implements(np.inner)
def inner(a, b):
    a, b = _strong(a), _strong(b)
    if np.ndim(strip(a)) == 0 or np.ndim(strip(b)) == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


@implements(np.vdot)
def vdot(a, b):
    return sum_(np.ravel(RULES["conjugate"].function(a)) * np.ravel(b))


@implements(np.outer)
def outer(a, b, out=None):
    return _finish(
        np.reshape(np.ravel(a), (-1, 1)) * np.reshape(np.ravel(b), (1, -1)), out, "outer"
    )


@implements(np.kron)
def kron(a, b):
    nd = max(np.ndim(strip(a)), np.ndim(strip(b)))
    sa = (1,) * (nd - np.ndim(strip(a))) + np.shape(strip(a))
    sb = (1,) * (nd - np.ndim(strip(b))) + np.shape(strip(b))
    a_interleaved = np.reshape(a, tuple(s for pair in zip(sa, (1,) * nd) for s in pair))
    b_interleaved = np.reshape(b, tuple(s for pair in zip((1,) * nd, sb) for s in pair))
    return np.reshape(a_interleaved * b_interleaved, tuple(x * y for x, y in zip(sa, sb)))


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    a = np.moveaxis(a, axisa, -1)
    b = np.moveaxis(b, axisb, -1)
    na, nb = np.shape(strip(a))[-1], np.shape(strip(b))[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    if na == 2 and nb == 2:
        return a0 * b1 - a1 * b0
    a2 = a[..., 2] if na == 3 else 0.0
    b2 = b[..., 2] if nb == 3 else 0.0
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return np.moveaxis(c, -1, axisc)


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    a = _in_dtype(a, "trace", dtype)
    t1, t2 = tangent_axis(axis1, a.ndim), tangent_axis(axis2, a.ndim)
    result = _linear(
        a, lambda v: np.trace(v, offset, axis1, axis2), lambda t: np.trace(t, offset, t1, t2)
    )
    return _finish(result, out, "trace")


@implements(np.einsum)
def einsum(subscripts, *operands, out=None, optimize=False, **kwargs):
    """The product rule over the operands: each dual operand's tangent gets a fresh index
    (the direction axis) that is carried to the front of the output."""
    _unsupported("einsum", dtype=kwargs.pop("dtype", None))
    if kwargs:
        raise TypeError(f"numpy.einsum on duals does not support {', '.join(kwargs)}")
    if not isinstance(subscripts, str):
        raise TypeError("numpy.einsum on duals needs the subscripts as a string")
    spec = subscripts.replace(" ", "")
    inputs, output = _einsum_explicit(spec)
    free = next(c for c in string.ascii_letters if c not in spec)
    operands = [_as_dual_array(op) for op in operands]
    tag = max((op.tag for op in operands if is_dual(op)), default=-1)
    values = [op.value if type(op) is DualArray and op.tag == tag else op for op in operands]
    value = np.einsum(f"{','.join(inputs)}->{output}", *values, optimize=optimize)
    if (
        len(operands) == 1
        and type(operands[0]) is DualArray
        and same_memory(strip(value), strip(values[0]))
    ):
        # a transposition or a diagonal ('ij->ji', 'ii->i'): NumPy hands out a view, which a
        # write through must reach, as for np.transpose or np.diagonal
        value_spec = f"{inputs[0]}->{output}"
        tangent_spec = f"{free}{inputs[0]}->{free}{output}"
        result = _view(
            operands[0],
            lambda v: np.einsum(value_spec, v),
            lambda t: np.einsum(tangent_spec, t),
        )
        return _finish(result, out, "einsum")
    tangent, batched = None, False
    for i, op in enumerate(operands):
        if not (type(op) is DualArray and op.tag == tag):
            continue
        terms = list(inputs)
        terms[i] = free + terms[i]
        args = list(values)
        args[i] = op.tangent_
        term = np.einsum(f"{','.join(terms)}->{free}{output}", *args, optimize=optimize)
        tangent = term if tangent is None else tangent + term
        batched = batched or op.batched
    result = box(_make_array(value, tangent, tag, batched))
    return _finish(result, out, "einsum")


def _einsum_explicit(spec: str) -> tuple[list[str], str]:
    """Split einsum subscripts into inputs and an explicit output (NumPy's implicit rule)."""
    if "->" in spec:
        left, output = spec.split("->")
        return left.split(","), output
    inputs = spec.split(",")
    letters = [c for c in "".join(inputs).replace(".", "")]
    once = sorted(c for c in set(letters) if letters.count(c) == 1)
    return inputs, ("..." if "..." in spec else "") + "".join(once)


# ---------------------------------------------------------------------------------------------
# Shape and layout (linear: the same operation on the tangent, axes shifted)
# ---------------------------------------------------------------------------------------------


@implements(np.reshape)
def reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    shape = newshape if shape is None else shape
    a = _as_dual_array(a)
    _refuse_layout("reshape", order, a)
    derive = _Reshape(shape, order)
    value, tangent = derive.parts(a)
    if copy or not same_memory(strip(value), strip(a.value)):  # NumPy copied: so does the tangent
        if copy is False:
            raise ValueError("Unable to avoid creating a copy while reshaping.")
        # arrays of their own (a reshape that copies hands out a view of its fresh buffer, which
        # would look like a view of another array to item assignment)
        if copy or strip(value).base is not None:
            value = value.copy()
        if copy or strip(tangent).base is not None:
            tangent = tangent.copy()
        return box(_make_array(value, tangent, a.tag, a.batched))
    if _owns(a) and _unaliased(value, tangent, a):
        # the value is a view but the tangent a copy (their layouts differ): reading is fine,
        # a write through either would reach only the value, so writes are refused (an array
        # whose arrays are copied on the first write is linked instead: the copy may align
        # them, and the derivation refuses if it does not)
        result = _make_array(value, tangent, a.tag, a.batched)
        _link(result, a, refuse_write)
        return box(result)
    return view_of(a, derive, (value, tangent))


class _Reshape:
    """Derives ``np.reshape(parent, shape)`` from the parent's current arrays."""

    __slots__ = ("shape", "order")

    def __init__(self, shape: Any, order: str) -> None:
        self.shape, self.order = shape, order

    def parts(self, p: DualArray) -> tuple[Any, Any]:
        value = np.reshape(p.value, self.shape, order=self.order)
        k = p.directions
        tangent = np.reshape(own_tangent(p), (k,) + np.shape(strip(value)), order=self.order)
        return value, tangent

    def __call__(self, p: DualArray) -> tuple[Any, Any]:
        # derived again after the parent got arrays of its own: still a view of both, or the
        # write that asked for it is refused (a layout that makes one of them a copy)
        value, tangent = self.parts(p)
        viewed = same_memory(strip(value), strip(p.value)) or not np.size(strip(value))
        if not viewed or _unaliased(value, tangent, p):
            refuse_write(p)
        return value, tangent


def _unaliased(value: Any, tangent: Any, a: DualArray) -> bool:
    """Whether a reshape viewed ``a``'s value but had to copy its (plain) tangent."""
    t = a.tangent_
    if type(t) is not np.ndarray or type(tangent) is not np.ndarray:
        t, tangent = strip(t), strip(tangent)
        if type(t) is not np.ndarray:
            return False
    return (
        tangent.size > 0
        and not same_memory(tangent, t)
        and same_memory(strip(value), strip(a.value))
    )


@implements(np.ravel)
def ravel(a, order="C"):
    a = _as_dual_array(a)
    _refuse_layout("ravel", order, a)
    order = "C" if order in ("K", "A") else order  # (the layout cannot matter here)
    return reshape(a, (-1,), order=order)


def _refuse_layout(name: str, order: Any, a: Any) -> None:
    reason = layout_refusal(name, order, np.shape(strip(a)))
    if reason is not None:
        raise TypeError(reason)


@implements(np.transpose)
def transpose(a, axes=None):
    a = _as_dual_array(a)
    axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(i % a.ndim for i in axes)
    return _view(
        a,
        lambda v: np.transpose(v, axes),
        lambda t: np.transpose(t, (0,) + tuple(i + 1 for i in axes)),
    )


@implements(np.permute_dims)
def permute_dims(a, axes=None):
    return transpose(a, axes)


@implements(np.matrix_transpose)
def matrix_transpose(x):
    return swapaxes(x, -1, -2)


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    a = _as_dual_array(a)
    return _view(
        a,
        lambda v: np.moveaxis(v, source, destination),
        lambda t: np.moveaxis(
            t, tangent_axis(_tuple(source), a.ndim), tangent_axis(_tuple(destination), a.ndim)
        ),
    )


@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    """NumPy's rollaxis as the transpose it is (a view, as NumPy's result)."""
    a = _as_dual_array(a)
    n = a.ndim
    axis = int(np.lib.array_utils.normalize_axis_index(axis, n))
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(
            f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in"
        )
    if axis < start:
        start -= 1
    if axis == start:
        return a[...]
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, axes)


@implements(np.unstack)
def unstack(x, /, *, axis=0):
    """The slices along ``axis``, each a view (as NumPy's are)."""
    moved = moveaxis(x, axis, 0)
    return tuple(moved[i] for i in range(moved.shape[0]))


def _tuple(axis: Any) -> tuple[int, ...]:
    return tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    a = _as_dual_array(a)
    t1, t2 = tangent_axis(axis1, a.ndim), tangent_axis(axis2, a.ndim)
    return _view(a, lambda v: np.swapaxes(v, axis1, axis2), lambda t: np.swapaxes(t, t1, t2))


@implements(np.expand_dims)
def expand_dims(a, axis):
    a = _as_dual_array(a)
    out_ndim = a.ndim + len(_tuple(axis))
    shifted = tangent_axis(tuple(_tuple(axis)), out_ndim)
    return _view(a, lambda v: np.expand_dims(v, axis), lambda t: np.expand_dims(t, shifted))


@implements(np.squeeze)
def squeeze(a, axis=None):
    a = _as_dual_array(a)
    if axis is None:
        axis = tuple(i for i, s in enumerate(a.shape) if s == 1)
    shifted = tangent_axis(_tuple(axis), a.ndim)
    return _view(a, lambda v: np.squeeze(v, axis), lambda t: np.squeeze(t, shifted))


@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    a = _as_dual_array(array)
    shape = _tuple(shape)
    lifted = (1,) * (len(shape) - a.ndim) + a.shape
    # a view in NumPy: it sees later writes into ``array`` (read-only: see table.READ_ONLY_VIEWS)
    return _view(
        a,
        lambda v: np.broadcast_to(v, shape),
        lambda t: np.broadcast_to(t.reshape(t.shape[:1] + lifted), t.shape[:1] + shape),
    )


@implements(np.lib.stride_tricks.sliding_window_view)
def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    a = _as_dual_array(x)
    if axis is None:  # every axis, so the tangent's direction axis is named out
        axis = tuple(range(a.ndim))
    shifted = tangent_axis(_tuple(axis), a.ndim)
    # a view in NumPy (read-only unless writeable=True: see table.READ_ONLY_VIEWS): it sees
    # later writes into ``x``
    return _view(
        a,
        lambda v: np.lib.stride_tricks.sliding_window_view(
            v, window_shape, axis, writeable=writeable
        ),
        lambda t: np.lib.stride_tricks.sliding_window_view(
            t, window_shape, shifted, writeable=writeable
        ),
    )


@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*(np.shape(strip(a)) for a in args))
    # an array that already has the broadcast shape is returned itself, as NumPy does (writes
    # into it reach the caller's array); a broadcast one refuses writes by name (NumPy writes
    # through it, with a warning that its future versions will not)
    return tuple(
        (
            a
            if type(a) is DualArray and a.shape == shape
            else read_only(broadcast_to(a, shape), _BROADCAST_WRITE)
        )
        if is_dual(a)
        else np.broadcast_to(a, shape)
        for a in args
    )


_BROADCAST_WRITE = (
    "writing into an array np.broadcast_arrays broadcast is not supported on dual arrays (NumPy "
    "deprecates it: its future versions make the array read-only); write into the array "
    "broadcast, or into np.broadcast_to(a, shape).copy()"
)


def _atleast(n: int, numpy_fn: Callable) -> Callable:
    def atleast(*arys):
        results = []
        for a in arys:
            if type(a) is DualArray or type(a) is Dual:  # (another carrier: its own handler)
                shape = np.shape(numpy_fn(np.empty(np.shape(strip(a)))))
                results.append(reshape(a, shape))
            else:
                results.append(numpy_fn(a))
        return results[0] if len(results) == 1 else tuple(results)

    atleast.__name__ = f"atleast_{n}d"
    return atleast


implements(np.atleast_1d)(_atleast(1, np.atleast_1d))
implements(np.atleast_2d)(_atleast(2, np.atleast_2d))
implements(np.atleast_3d)(_atleast(3, np.atleast_3d))


@implements(np.flip)
def flip(m, axis=None):
    a = _as_dual_array(m)
    return _view(a, lambda v: np.flip(v, axis), lambda t: np.flip(t, tangent_axis(axis, a.ndim)))


@implements(np.fliplr)
def fliplr(m):
    return flip(m, 1)


@implements(np.flipud)
def flipud(m):
    return flip(m, 0)


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """NumPy's composition of flips and a transpose: a view, as NumPy's result is."""
    a = _as_dual_array(m)
    if len(axes) != 2 or axes[0] % a.ndim == axes[1] % a.ndim:
        raise ValueError("Axes must be different and of length 2.")
    k %= 4
    if k == 0:
        return a[...]
    if k == 2:
        return flip(flip(a, axes[0]), axes[1])
    order = list(range(a.ndim))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return transpose(flip(a, axes[1]), order)
    return flip(transpose(a, order), axes[1])


@implements(np.roll)
def roll(a, shift, axis=None):
    a = _as_dual_array(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifted = tangent_axis(_tuple(axis), a.ndim)
    return _linear(a, lambda v: np.roll(v, shift, axis), lambda t: np.roll(t, shift, shifted))


@implements(np.tile)
def tile(A, reps):
    a = _as_dual_array(A)
    reps = _tuple(reps)
    d = max(len(reps), a.ndim)
    a = reshape(a, (1,) * (d - a.ndim) + a.shape) if d > a.ndim else a
    full = (1,) * (d - len(reps)) + reps
    return _linear(a, lambda v: np.tile(v, full), lambda t: np.tile(t, (1,) + full))


@implements(np.repeat)
def repeat(a, repeats, axis=None):
    a = _as_dual_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    ax = tangent_axis(axis, a.ndim)
    return _linear(a, lambda v: np.repeat(v, repeats, axis), lambda t: np.repeat(t, repeats, ax))


_LINEAR_PAD_MODES = (
    "constant",
    "edge",
    "reflect",
    "symmetric",
    "wrap",
    "linear_ramp",
    "mean",
    "empty",
)


@implements(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """Padding is linear in the array for these modes; padded constants have zero tangent."""
    if callable(mode) or mode not in _LINEAR_PAD_MODES:
        raise errors.no_rule(
            f"numpy.pad(mode={mode!r})", "supported modes: " + ", ".join(_LINEAR_PAD_MODES)
        )
    if mode == "constant" and is_dual(kwargs.get("constant_values")):
        # padded with duals: the handler the table's kind gives (as every other carrier)
        return _derived_pad(array, pad_width, mode, **kwargs)
    _plain_only(
        "pad", constant_values=kwargs.get("constant_values"), end_values=kwargs.get("end_values")
    )
    a = _as_dual_array(array)
    width = np.broadcast_to(np.asarray(pad_width, dtype=int), (a.ndim, 2))
    tangent_width = np.concatenate([[[0, 0]], width])
    tangent_kwargs = {k: v for k, v in kwargs.items() if k not in ("constant_values", "end_values")}
    if mode == "mean" and "stat_length" in kwargs:
        stat = np.broadcast_to(np.asarray(kwargs["stat_length"]), (a.ndim, 2))
        tangent_kwargs["stat_length"] = np.concatenate([[[1, 1]], stat])
    return _linear(
        a,
        lambda v: np.pad(v, width, mode, **kwargs),
        lambda t: np.pad(t, tangent_width, mode, **tangent_kwargs),
    )


# ---------------------------------------------------------------------------------------------
# Joining and splitting
# ---------------------------------------------------------------------------------------------


@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    """Join arrays along an axis, keeping tangents: ``numpy.concatenate`` for duals.

    ``np.concatenate`` on a :class:`DualArray` lands here; call it directly for a mix of
    :class:`Dual` scalars wrapped in lists and arrays.

    Parameters
    ----------
    arrays : sequence of array_like or DualArray
        Of one shape except along ``axis``.
    axis, out, dtype, casting
        As for ``numpy.concatenate``.

    Returns
    -------
    DualArray or ndarray
        A ``DualArray`` when any input carries a tangent (plain inputs get zero tangents).

    Examples
    --------
    >>> x = dd.DualArray(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    >>> dd.concatenate([x, np.zeros(1)])
    DualArray([1., 2., 0.],
              tangent=[1., 1., 0.])
    """
    if out is None and dtype is None and type(axis) is int and type(arrays) in (list, tuple):
        result = _join_same_tag(arrays, axis)
        if result is not None:
            return result
    _dtype_check("concatenate", dtype)
    arrays = list(arrays)
    foreign = _foreign_leader(arrays)
    if not any(is_dual(a) for a in arrays) or foreign == "numpy":
        return np.concatenate(arrays, axis=axis, out=out, dtype=dtype, casting=casting)
    if foreign == "defer":
        return NotImplemented
    if axis is None:
        arrays = [ravel(a) if is_dual(a) else np.ravel(a) for a in arrays]
        axis = 0
    tag, batched, values, tangents = _gather(arrays)
    value = np.concatenate(values, axis=axis)
    ndim = np.ndim(strip(value))
    tangent = np.concatenate(tangents, axis=tangent_axis(axis, ndim))
    result = _cast(_make_array(value, tangent, tag, batched), dtype)  # NumPy casts the result
    return _finish(result, out, "concatenate")


def _join_same_tag(arrays: Sequence[Any], axis: int) -> DualArray | None:
    """``concatenate``'s common case without ``_gather``'s conversions: DualArrays of one tag
    whose values and tangents are ndarrays (none to stack, cast or lift), the direction counts
    equal and no tangent broadcast. None when any of that fails (the general path decides)."""
    if not arrays:
        return None
    first = arrays[0]
    if type(first) is not DualArray:
        return None
    tag, k, batched = first.tag, first.tangent_.shape[0], False
    values, tangents = [], []
    for a in arrays:
        if type(a) is not DualArray or a.tag != tag:
            return None
        value, tangent = a.value, a.tangent_
        if (
            type(value) is not np.ndarray
            or type(tangent) is not np.ndarray
            or tangent.shape[0] != k
            or tangent.shape[1:] != value.shape
            or not value.ndim
        ):
            return None
        batched = batched or a.batched
        values.append(value)
        tangents.append(tangent)
    value = np.concatenate(values, axis=axis)  # NumPy's errors (axis, shapes) come from here
    # the tangents have one more (leading) axis; a negative axis counts from the end in both
    tangent = np.concatenate(tangents, axis=axis + 1 if axis >= 0 else axis)
    return _make_array(value, tangent, tag, batched)


@implements(np.stack)
def stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    """Stack arrays or scalars (:class:`Dual` values included) along a new axis, keeping tangents.

    ``np.array([d1, d2])`` cannot build an array of duals (NumPy lets no one intercept it):
    use ``np.stack`` for arrays, and this function for scalar duals.

    Parameters
    ----------
    arrays : sequence of array_like, Dual or DualArray
        Of one shape.
    axis, out, dtype, casting
        As for ``numpy.stack``.

    Returns
    -------
    DualArray or ndarray
        A ``DualArray`` when any input carries a tangent.

    Examples
    --------
    >>> dd.stack([dd.Dual(1.0, 1.0), dd.Dual(2.0, 0.0)])
    DualArray([1., 2.],
              tangent=[1., 0.])
    """
    _dtype_check("stack", dtype)
    arrays = list(arrays)
    foreign = _foreign_leader(arrays)
    if not any(is_dual(a) for a in arrays) or foreign == "numpy":
        return np.stack(arrays, axis=axis, out=out)
    if foreign == "defer":
        return NotImplemented
    tag, batched, values, tangents = _gather(arrays)
    value = np.stack(values, axis=axis)
    ndim = np.ndim(strip(value))
    tangent = np.stack(tangents, axis=tangent_axis(axis, ndim))
    return _finish(_cast(_make_array(value, tangent, tag, batched), dtype), out, "stack")


@implements(np.hstack)
def hstack(tup, dtype=None, casting="same_kind"):
    _dtype_check("hstack", dtype)
    arrays = np.atleast_1d(*tup) if len(tup) > 1 else [np.atleast_1d(tup[0])]
    axis = 0 if np.ndim(strip(arrays[0])) == 1 else 1
    return concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


@implements(np.vstack)
def vstack(tup, dtype=None, casting="same_kind"):
    _dtype_check("vstack", dtype)
    arrays = np.atleast_2d(*tup) if len(tup) > 1 else [np.atleast_2d(tup[0])]
    return concatenate(arrays, axis=0, dtype=dtype, casting=casting)


@implements(np.dstack)
def dstack(tup):
    arrays = np.atleast_3d(*tup) if len(tup) > 1 else [np.atleast_3d(tup[0])]
    return concatenate(arrays, axis=2)


@implements(np.column_stack)
def column_stack(tup):
    arrays = [
        reshape(a, (-1, 1))
        if np.ndim(strip(a)) < 2 and (type(a) is DualArray or type(a) is Dual)
        else (np.reshape(a, (-1, 1)) if np.ndim(strip(a)) < 2 else a)
        for a in tup
    ]
    return concatenate(arrays, axis=1)


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, strict=True)


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, strict=False)


def _split(ary: Any, sections: Any, axis: int, strict: bool) -> list[Any]:
    if is_dual(sections):
        raise TypeError("numpy.split: the split indices cannot be dual numbers; use integers")
    a = _as_dual_array(ary)
    splitter = np.split if strict else np.array_split
    t_axis = tangent_axis(axis, a.ndim)
    values = splitter(a.value, sections, axis)
    tangents = splitter(own_tangent(a), sections, t_axis)

    def piece(i: int) -> Callable[[DualArray], tuple[Any, Any]]:
        return lambda p: (
            splitter(p.value, sections, axis)[i],
            splitter(own_tangent(p), sections, t_axis)[i],
        )

    # views of ``a``, as NumPy's pieces are
    return [view_of(a, piece(i), parts) for i, parts in enumerate(zip(values, tangents))]


@implements(np.hsplit)
def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=1 if np.ndim(strip(ary)) > 1 else 0)


@implements(np.dsplit)
def dsplit(ary, indices_or_sections):
    if np.ndim(strip(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


@implements(np.vsplit)
def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=0)


@implements(np.append)
def append(arr, values, axis=None):
    if axis is None:
        return concatenate([np.ravel(arr), np.ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


@implements(np.delete)
def delete(arr, obj, axis=None):
    a = _as_dual_array(arr)
    if axis is None:
        a, axis = ravel(a), 0
    keep = np.delete(np.arange(a.shape[axis]), obj)
    return take(a, keep, axis=axis)


# ---------------------------------------------------------------------------------------------
# Selection: the tangent goes where the value goes
# ---------------------------------------------------------------------------------------------


@implements(np.where)
def where(condition, x=None, y=None):
    """``x`` where ``condition`` holds, else ``y``, with the tangent of the chosen one.

    ``np.where`` on a :class:`DualArray` lands here. The condition's tangent, if any, is ignored
    (a comparison has derivative 0); with only ``condition`` it returns ``np.nonzero`` of its value.

    Parameters
    ----------
    condition : array_like of bool
        Where to take ``x``.
    x, y : array_like, Dual or DualArray
        The alternatives, broadcast together.

    Returns
    -------
    DualArray or ndarray

    Examples
    --------
    >>> x = dd.DualArray(np.array([-1.0, 2.0]), np.array([1.0, 1.0]))
    >>> dd.where(x.value > 0, x, 0.0)  # a ReLU: derivative 0 where the constant is taken
    DualArray([0., 2.],
              tangent=[0., 1.])
    """
    if x is None and y is None:
        return np.where(strip(condition))
    condition = strip(condition)
    if not (is_dual(x) or is_dual(y)):  # only the condition was dual (np.select's default)
        return np.where(condition, x, y)
    foreign = _foreign_leader([x, y])
    if foreign is not None:
        return NotImplemented if foreign == "defer" else np.where(condition, x, y)
    tag, batched, values, tangents = _gather([x, y])
    # a Python number stays weak, as NumPy takes it (np.where(c, 0.5, x32) is float32); the
    # tangent then takes the value's dtype in _make_array
    weak = (int, float, complex)
    value = np.where(
        condition, x if type(x) in weak else values[0], y if type(y) in weak else values[1]
    )
    plain = strip(value)
    ndim = np.ndim(plain)
    for i, operand in enumerate((x, y)):
        if type(operand) in weak and tangents[i].dtype != plain.dtype:
            # the zero tangent of a weak number in the value's dtype: a float64 one turned
            # the tangents of a float32 array float64 where they are duals (nested three deep)
            tangents[i] = tangents[i].astype(plain.dtype)
    lifted = [t.reshape(t.shape[:1] + (1,) * (ndim - t.ndim + 1) + t.shape[1:]) for t in tangents]
    tangent = np.where(condition, lifted[0], lifted[1])
    k = tangent.shape[0]
    # an array, 0-d too (NumPy's np.where never returns a scalar: a view of it writes into it)
    return _make_array(value, fit_tangent(tangent, k, np.shape(strip(value))), tag, batched)


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    a = _as_dual_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    ax = tangent_axis(axis, a.ndim)
    result = _linear(
        a,
        lambda v: np.take(v, indices, axis=axis, mode=mode),
        lambda t: np.take(t, indices, axis=ax, mode=mode),
    )
    return _finish(result, out, "take")


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    a = _as_dual_array(arr)
    if axis is None:
        a, axis = ravel(a), 0
    ax = tangent_axis(axis, a.ndim)
    indices = np.asarray(indices)
    return _linear(
        a,
        lambda v: np.take_along_axis(v, indices, axis=axis),
        lambda t: np.take_along_axis(t, indices[None], axis=ax),
    )


@implements(np.put)
def put(a, ind, v, mode="raise"):
    """``a.flat[ind] = v`` in place for a DualArray ``a``."""
    if type(a) is not DualArray:
        raise errors.lost_tangent(
            "numpy.put of duals into a plain array",
            "Use np.zeros_like(x) to make a DualArray to put into.",
        )
    # NumPy's index modes on the flat positions ("raise" also takes negative indices)
    flat = np.take(np.arange(a.size), np.asarray(ind).ravel(), mode=mode)
    if flat.size == 0:
        return
    if is_dual(v):
        values = v
    elif isinstance(v, (list, tuple)):
        values = _as_array_operand(v)  # a list holding duals is stacked, keeping tangents
    else:
        values = np.asarray(v)
    if np.ndim(strip(values)) == 0:
        values = np.broadcast_to(values, flat.shape)
    values = np.ravel(values)
    count = np.shape(strip(values))[0]
    if count != flat.size:  # NumPy repeats a shorter v (and ignores a longer v's tail)
        if count == 0:
            return
        values = values[np.arange(flat.size) % count]  # a plain array or a DualArray
    if a.ndim == 0:  # every index is the one element: the last value wins, as in NumPy
        set_item(a, (), values[-1])
        return
    set_item(a, np.unravel_index(flat, a.shape), values)


@implements(np.copyto)
def copyto(dst, src, casting="same_kind", where=True):
    """``dst[...] = src`` (where ``where``) in place: through a view it reaches the array viewed."""
    src = objects.array_like(src)  # a list holding duals: the array it stands for
    if type(dst) is not DualArray:
        if is_dual(src):
            raise errors.lost_tangent(
                "numpy.copyto of duals into a plain array",
                "Use np.zeros_like(x) to make a DualArray to copy into.",
            )
        np.copyto(dst, src, casting=casting, where=strip(where))
        return
    if where is not True:
        src = np.where(strip(where), src, dst.copy())
    set_item(dst, Ellipsis, src)


# faster than the composition (argsort on the plain values, no dispatch): 83 vs 106 us at 50x40
@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    a = _as_dual_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    if kind is None and stable is None:
        stable = True  # as the composition: equal values keep their own derivatives in order
    idx = np.argsort(strip(a), axis=axis, kind=kind, stable=stable)
    return take_along_axis(a, idx, axis=axis)


# faster than the composition (argpartition on the plain values): 87 vs 107 us at 50x40
@implements(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """The values moved as ``np.argpartition`` orders them, each with its own tangent."""
    a = _as_dual_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    idx = np.argpartition(strip(a), kth, axis=axis, kind=kind, order=order)
    return take_along_axis(a, idx, axis=axis)


@implements(np.compress)
def compress(condition, a, axis=None, out=None):
    """The slices where ``condition`` holds: a ``take`` of those positions (linear)."""
    if is_dual(condition):
        raise TypeError("numpy.compress: the condition cannot be a dual number")
    positions = np.flatnonzero(np.asarray(condition))
    return _finish(take(a, positions, axis=axis), out, "compress")


# ---------------------------------------------------------------------------------------------
# Triangles and diagonals (linear)
# ---------------------------------------------------------------------------------------------


@implements(np.triu)
def triu(m, k=0):
    return _linear(m, lambda v: np.triu(v, k), lambda t: np.triu(t, k))


@implements(np.tril)
def tril(m, k=0):
    return _linear(m, lambda v: np.tril(v, k), lambda t: np.tril(t, k))


@implements(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    a = _as_dual_array(a)
    t1, t2 = tangent_axis(axis1, a.ndim), tangent_axis(axis2, a.ndim)
    # a view in NumPy: it sees later writes into ``a`` (read-only: see table.READ_ONLY_VIEWS)
    return _view(
        a,
        lambda v: np.diagonal(v, offset, axis1, axis2),
        lambda t: np.diagonal(t, offset, t1, t2),
    )


@implements(np.diag)
def diag(v, k=0):
    v = _as_dual_array(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = v.shape[0] + abs(k)
    rows = np.arange(v.shape[0]) + max(-k, 0)
    cols = np.arange(v.shape[0]) + max(k, 0)
    out = zeros_like(v, shape=(n, n))
    set_item(out, (rows, cols), v)
    return out


# ---------------------------------------------------------------------------------------------
# Construction with a dual's tag, copies, rounding, complex parts
# ---------------------------------------------------------------------------------------------


def _fortran(a: Any) -> bool:
    return (
        type(a) is np.ndarray and a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous
    )


def _zeros_in_layout(k: int, value: np.ndarray) -> np.ndarray:
    """Zero tangents of ``k`` directions whose blocks have ``value``'s memory order: Fortran
    order for a Fortran-ordered value, so that a reshape that views the value (``y.T.reshape(-1)``)
    views them too."""
    if _fortran(value):
        n = value.ndim
        blocks = np.zeros((k,) + value.shape[::-1], value.dtype)
        return blocks.transpose((0,) + tuple(range(n, 0, -1)))
    return np.zeros((k,) + value.shape, value.dtype)


@implements(np.zeros_like, np.empty_like)
def zeros_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    p = _as_dual_array(prototype)
    _dtype_check("zeros_like", dtype)
    shape = p.shape if shape is None else _tuple(shape)
    # in the prototype's memory order (order="K"), as NumPy's: a Fortran-ordered x gives a
    # Fortran-ordered array, whose y.T.reshape(-1) is a view (it was C-ordered, and a write
    # through that view was lost)
    plain = strip(p)
    dtype = dtype or np.result_type(plain, 0.0)
    if type(plain) is np.ndarray:
        value = np.zeros_like(plain, dtype=dtype, order=order, shape=shape)
    else:
        value = np.zeros(shape, dtype)
    return _make_array(value, _zeros_in_layout(p.directions, value), p.tag, p.batched)


@implements(np.ones_like)
def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    result = zeros_like(a, dtype=dtype, shape=shape)
    result.value[...] = 1.0
    return result


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    result = zeros_like(a, dtype=dtype, shape=shape)
    set_item(result, Ellipsis, fill_value)
    return result


def _like_constructor(numpy_fn: Callable, fill: float | None) -> Callable:
    def construct(shape, dtype=None, order="C", *, like=None, device=None, **kwargs):
        prototype = _as_dual_array(like)
        _dtype_check(numpy_fn.__name__, dtype)
        shape = _tuple(shape)
        # like= picks the array type only: the dtype is NumPy's default, float64 (a float32
        # like= gave float32, and a float32 program's value then differed from NumPy's)
        value = np.zeros(shape, dtype, order=order)  # (order="F": NumPy's layout)
        if fill is not None:
            value[...] = fill
        tangent = _zeros_in_layout(prototype.directions, value)
        result = _make_array(value, tangent, prototype.tag, prototype.batched)
        if "fill_value" in kwargs:
            set_item(result, Ellipsis, kwargs["fill_value"])
        return result

    construct.__name__ = numpy_fn.__name__
    return construct


implements(np.zeros)(_like_constructor(np.zeros, None))
implements(np.empty)(_like_constructor(np.empty, None))
implements(np.ones)(_like_constructor(np.ones, 1.0))


@implements(np.full)
def full(shape, fill_value, dtype=None, order="C", *, like=None, device=None):
    return _like_constructor(np.full, None)(shape, dtype, order, like=like, fill_value=fill_value)


@implements(np.copy)
def copy(a, order="K", subok=False):
    a = _as_dual_array(a)
    value, tangent = a.value, a.tangent_
    if type(value) is np.ndarray and not is_dual(tangent):
        # in NumPy's layout for order= (order="K" keeps a Fortran-ordered array's, where
        # ndarray.copy is C-ordered): its reshapes view it or copy it as NumPy's do
        new = np.copy(value, order=order)
        if _fortran(new):
            blocks = _zeros_in_layout(a.directions, new)
            blocks[...] = tangent
            return _make_array(new, blocks, a.tag, a.batched)
    elif type(value) is DualArray and order != "C" and _fortran(np.copy(strip(value), order)):
        # a nested layer (a Hessian): every layer in that layout, each tangent block too; a
        # C-ordered copy made a later y.T.reshape(-1) a copy, and a write through it was lost
        n = value.ndim
        flipped = (0,) + tuple(range(n, 0, -1))
        blocks = np.transpose(np.transpose(tangent, flipped).copy(), flipped)
        return _make_array(np.copy(value, order=order), blocks, a.tag, a.batched)
    return a.copy()


@implements(np.round, np.around)
def round_(a, decimals=0, out=None):
    a = _as_dual_array(a)
    value = np.round(a.value, decimals)
    result = _make_array(value, zero_tangent(a.tangent_), a.tag, a.batched)
    # NumPy's round of a 0-d array is a scalar: so is the result (a Dual)
    return _finish(result if np.ndim(value) else box(result), out, "round")


@implements(np.fix)
def fix(x, out=None):
    return _finish(RULES["trunc"].function(x), out, "fix")


@implements(np.real)
def real(val):
    return _as_dual_array(val).real if is_dual(val) else np.real(val)


@implements(np.imag)
def imag(val):
    return _as_dual_array(val).imag if is_dual(val) else np.imag(val)


# 3.6x faster than the composition (one np.nan_to_num of the values, one masked tangent)
@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    a = _as_dual_array(x)
    value = np.nan_to_num(a.value, copy=True, nan=nan, posinf=posinf, neginf=neginf)
    changed = ~np.isfinite(strip(a.value))
    tangent = np.where(changed, 0.0, a.tangent_)
    result = box(_make_array(value, tangent, a.tag, a.batched))
    if not copy and type(x) is DualArray:
        x[...] = result  # replaced in x itself, which is returned, as NumPy does
        return x
    return result


@implements(np.nansum)
def nansum(
    a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue
):
    b = np.where(np.isnan(strip(a)), 0.0, a)
    return sum_(b, axis, dtype, out, keepdims, initial, where)


@implements(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=np._NoValue):
    kept = ~np.isnan(strip(a))
    if where is not np._NoValue:
        kept = kept & np.asarray(where, dtype=bool)
    kept = np.broadcast_to(kept, np.shape(strip(a)))
    count = np.sum(kept, axis=axis, keepdims=keepdims)
    total = nansum(a, axis, dtype, None, keepdims, where=kept)
    if np.any(count == 0):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    # NumPy divides by the integer count into the sum's dtype (float32 stays float32); of
    # nothing NumPy's NaN, with a NaN tangent (see divided_or_undefined)
    mean = divided_or_undefined(total, count, np.nan)
    if mean.dtype != total.dtype:
        mean = _cast(mean, total.dtype)
    return _finish(mean, out, "nanmean")


# ---------------------------------------------------------------------------------------------
# Functions of the values only: the result carries no derivative
# ---------------------------------------------------------------------------------------------

_VALUE_FUNCTIONS = [
    "argmax",
    "argmin",
    "argsort",
    "argpartition",
    "argwhere",
    "nonzero",
    "flatnonzero",
    "searchsorted",
    "count_nonzero",
    "shape",
    "ndim",
    "size",
    "isclose",
    "allclose",
    "array_equal",
    "array_equiv",
    "iscomplexobj",
    "isrealobj",
    "isreal",
    "iscomplex",
    "lexsort",
    "digitize",
    "isneginf",
    "isposinf",
    "any",
    "all",
]


def _values_in(a: Any) -> Any:
    """``a`` with every dual in it replaced by its plain values, also inside lists and tuples
    (``np.lexsort((x, y))``): a dual left in a sequence would dispatch back to its own rule."""
    if is_dual(a):
        return strip(a)
    if type(a) is list or type(a) is tuple:
        return type(a)(_values_in(item) for item in a)
    return a


def _value_function(numpy_fn: Callable) -> Callable:
    def on_values(*args, **kwargs):
        out = kwargs.get("out")
        if out is None and len(args) > 1 and any(type(a) is DualArray for a in args[1:]):
            out = errors.bound_arguments(numpy_fn, args, kwargs).get("out")  # given by position
        if type(out) is DualArray:
            # The result has no derivative: written into a dual ``out`` it must reset the
            # tangent too (NumPy would write the values only, leaving a stale tangent).
            plain = np.empty_like(strip(out))
            args = [plain if a is out else a for a in args]
            kwargs = {k: plain if v is out else v for k, v in kwargs.items()}
            set_item(out, Ellipsis, on_values(*args, **kwargs))
            return out
        args = [_values_in(a) for a in args]
        kwargs = {k: _values_in(v) for k, v in kwargs.items()}
        return numpy_fn(*args, **kwargs)

    on_values.__name__ = numpy_fn.__name__
    return on_values


for _name in _VALUE_FUNCTIONS:
    _fn = getattr(np, _name, None)
    if _fn is not None and not isinstance(_fn, np.ufunc):
        implements(_fn)(_value_function(_fn))


# the elementwise rules that NumPy exposes as functions, not ufuncs (numpy.sinc)
for _rule in RULES.values():
    numpy_function = getattr(_rule.array, "__module__", "").startswith("numpy")
    if _rule.ufunc is None and numpy_function and _rule.array not in HANDLED_FUNCTIONS:
        implements(_rule.array)(_rule.function)


# ---------------------------------------------------------------------------------------------
# Handlers derived from the function table, by kind (for functions without one of their own)
# ---------------------------------------------------------------------------------------------


def _call(entry: Entry, args: Any, kwargs: dict) -> Call:
    call = Call(entry, args, kwargs, strip, is_dual)
    if entry.guard is not None:
        reason = entry.guard(call.option)
        if reason is not None:
            raise errors.no_rule(reason)
    return call


def _tangents_at_newest(operands: list) -> tuple[int, bool, list, list, int] | None:
    """The newest tag among the operands, their values and tangents at it (``None`` for a
    constant, kept as given), and the number of directions; None when no operand is ours at
    that tag."""
    return _at_newest([_as_dual_array(o) for o in operands])


def _at_newest(items: list) -> tuple[int, bool, list, list, int] | None:
    """``_tangents_at_newest`` of operands already converted: the one walk that both it and
    ``_gather`` make, which differ only in what they do with constants."""
    tag = max((o.tag for o in items if is_dual(o)), default=None)
    if tag is None:
        return None
    active = [o for o in items if type(o) is DualArray and o.tag == tag]
    if not active:
        return None
    k = max(o.directions for o in active)
    values, tangents = [], []
    for o in items:
        if type(o) is DualArray and o.tag == tag:
            values.append(o.value)
            tangents.append(fit_tangent(o.tangent_, k, o.value.shape))
        else:
            values.append(o)
            tangents.append(None)
    return tag, any(o.batched for o in active), values, tangents, k


def _array(value: Any) -> Any:
    """A result's value as an array; a dual of an older tag (nested differentiation) as is."""
    return value if is_dual(value) else np.asarray(value)


def _results(value: Any, tangent: Callable[[int], Any], tag: int, batched: bool) -> Any:
    """A result of ``value`` (an array, or a list/tuple of arrays) with tangents
    ``tangent(i)`` for the ``i``-th array."""
    if type(value) in (list, tuple):
        return type(value)(
            box(_make_array(_array(v), tangent(i), tag, batched)) for i, v in enumerate(value)
        )
    return box(_make_array(_array(value), tangent(0), tag, batched))


def structural_by_index(entry: Entry, *args: Any, **kwargs: Any) -> Any:
    """A structural function: NumPy computes the value, and the same call on arrays of element
    numbers (1, 2, ...; 0 for an element of no operand) says where each tangent entry comes from.
    Always a copy: functions that return views in NumPy have handlers of their own."""
    call = _call(entry, args, kwargs)
    found = _tangents_at_newest(call.operands)
    if found is None:
        return NotImplemented
    tag, batched, values, tangents, k = found
    value = call.call(values)
    numbers, columns, start = [], [zeros_tangent(k, np.zeros(1))], 1
    for v, t in zip(values, tangents):
        shape = np.shape(strip(v))
        if t is None:
            numbers.append(np.zeros(shape, np.intp))
            continue
        size = math.prod(shape)
        numbers.append(np.arange(start, start + size, dtype=np.intp).reshape(shape))
        columns.append(t.reshape((k, size)))
        start += size
    index = call.call(numbers)
    pool = concatenate(columns, axis=1) if len(columns) > 1 else columns[0]
    if type(index) in (list, tuple):
        return _results(value, lambda i: pool[:, np.asarray(index[i])], tag, batched)
    return _results(value, lambda i: pool[:, np.asarray(index)], tag, batched)


def linear_by_direction(entry: Entry, *args: Any, **kwargs: Any) -> Any:
    """A linear function: ``d f(x) = f(dx)``, one call per direction (functions with a faster
    handler of their own shift their axis arguments instead)."""
    call = _call(entry, args, kwargs)
    found = _tangents_at_newest(call.operands)
    if found is None:
        return NotImplemented
    tag, batched, values, tangents, k = found
    value = call.call(values)
    if value is values[0] and type(value) is np.ndarray and is_dual(call.operands[0]):
        # NumPy returned its argument itself (np.fft.fftn(a, axes=()), np.diff(a, n=0)): so
        # does this, and a write into the result reaches the argument, as in NumPy
        return call.operands[0]
    # affine parts (sum's initial, diff's prepend) are constants: their tangent is zero
    zero = [t if t is not None else zeros_tangent(k, v) for v, t in zip(values, tangents)]
    per_direction = [call.call([t[d] for t in zero]) for d in range(k)]
    return _stacked(value, per_direction, tag, batched)


def multilinear_by_direction(entry: Entry, *args: Any, **kwargs: Any) -> Any:
    """A multilinear function: the product rule ``d f(a, b) = f(da, b) + f(a, db)``, one call per
    direction and operand."""
    call = _call(entry, args, kwargs)
    found = _tangents_at_newest(call.operands)
    if found is None:
        return NotImplemented
    tag, batched, values, tangents, k = found
    value = call.call(values)
    per_direction = []
    for d in range(k):
        total = None
        for j, t in enumerate(tangents):
            if t is None:
                continue
            term = call.call([t[d] if i == j else v for i, v in enumerate(values)])
            total = term if total is None else total + term
        per_direction.append(total)
    return _stacked(value, per_direction, tag, batched)


def _stacked(value: Any, per_direction: list, tag: int, batched: bool) -> Any:
    if type(value) in (list, tuple):
        return type(value)(
            box(_make_array(_array(v), stack([p[i] for p in per_direction]), tag, batched))
            for i, v in enumerate(value)
        )
    return box(_make_array(_array(value), stack(per_direction), tag, batched))


def values_only(entry: Entry, *args: Any, **kwargs: Any) -> Any:
    """A function of the values: called on them (no derivative flows through it)."""
    plain = lambda a: [strip(i) for i in a] if type(a) in (list, tuple) else strip(a)  # noqa: E731
    return entry.function(*(plain(a) for a in args), **{k: plain(v) for k, v in kwargs.items()})


def _refuse_special(entry: Entry, *args: Any, **kwargs: Any) -> Any:
    have = ", ".join(sorted(entry.carriers)) or "none"
    raise errors.no_rule(f"numpy.{entry.name} on a DualArray", f"carriers with a rule: {have}")


def _refuse_view(entry: Entry, *args: Any, **kwargs: Any) -> Any:
    raise errors.no_rule(
        f"numpy.{entry.name} on a DualArray",
        "NumPy returns a view here, and dualdiff has no view-returning rule for it yet (a copy "
        "would miss writes through it); use an equivalent function (np.moveaxis for np.rollaxis, "
        "indexing for np.unstack)",
    )


def derived_handler(entry: Entry) -> Callable[..., Any]:
    """The handler of ``entry``'s function derived from its kind."""
    kind = entry.kind
    if entry.view:
        # a copy where NumPy gives a view would miss writes through it: refused, not guessed
        return functools.partial(_refuse_view, entry)
    if kind == "composition":
        body = COMPOSITIONS.get(entry.function)
        if body is not None:
            return body
    by_kind = {
        "structural": structural_by_index,
        "linear": linear_by_direction,
        "multilinear": multilinear_by_direction,
        "value": values_only,
    }.get(kind, _refuse_special)
    return functools.partial(by_kind, entry)


_derived_pad = derived_handler(FUNCTIONS[np.pad])

# what DualArray's dispatch finds: the table's functions without a handler of their own, and the
# ufunc methods written above
for _entry in FUNCTIONS.values():
    if _entry.function not in HANDLED_FUNCTIONS:
        DERIVED_FUNCTIONS[_entry.function] = derived_handler(_entry)
UFUNC_METHODS.update(reduce=ufunc_reduce, accumulate=ufunc_accumulate, reduceat=ufunc_reduceat)
