"""NumPy functions written in terms of other functions of the tables, once for every carrier.

Each body below is plain NumPy code: called with a ``DualArray``, a ``Taylor`` series, a compiler
``Traced`` or a ``SparsityTracer``, every operation in it dispatches to that carrier, so the
function works wherever its parts do and its derivative is the chain rule through them. A body
must give NumPy's value exactly (dtype and shape included) and follow the conventions of the rule
table at ties and kinks (``maximum`` splits a tie evenly, so ``clip`` does too).

The function table (``dualdiff.table``) declares these functions as ``composition``; a carrier with
a faster version of one registers it as an override, tested against the body here.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .rules import RULES

__all__ = ["COMPOSITIONS", "composition"]

COMPOSITIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""The body of each composition, keyed by the NumPy function it stands for."""

_NO_VALUE = np._NoValue
_PLAIN = (numbers.Number, np.generic, np.ndarray)


def composition(*functions: Callable[..., Any]) -> Callable[..., Any]:
    """Register the decorated body as the composition of the given NumPy functions."""

    def register(body: Callable[..., Any]) -> Callable[..., Any]:
        for function in functions:
            COMPOSITIONS[function] = body
        return body

    return register


def _refuse(name: str, **options: Any) -> None:
    for option, given in options.items():
        if given is not None and given is not _NO_VALUE:
            raise TypeError(f"numpy.{name}({option}=...) is not supported on dual numbers")


@composition(np.clip)
def clip(
    a: Any,
    a_min: Any = _NO_VALUE,
    a_max: Any = _NO_VALUE,
    out: Any = None,
    *,
    min: Any = _NO_VALUE,
    max: Any = _NO_VALUE,
    **kwargs: Any,
) -> Any:
    """``minimum(maximum(a, lo), hi)``: at a bound the derivative is shared as ``maximum`` does."""
    _refuse("clip", out=out, **kwargs)
    lo = a_min if min is _NO_VALUE else min
    hi = a_max if max is _NO_VALUE else max
    if lo is not _NO_VALUE and lo is not None:
        a = RULES["maximum"].function(a, lo)
    if hi is not _NO_VALUE and hi is not None:
        a = RULES["minimum"].function(a, hi)
    return a


@composition(np.ptp)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Any:
    """``max - min`` (a tie shares the derivative evenly, as in ``max``)."""
    _refuse("ptp", out=out)
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


@composition(np.sort)
def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
    """The elements taken in the order ``argsort`` gives (stable at ties, so equal values keep
    their own derivatives in order)."""
    _refuse("sort", order=order)
    if axis is None:
        a, axis = np.ravel(a), -1
    index = np.argsort(a, axis=axis, kind=kind, stable=True if stable is None else stable)
    return np.take_along_axis(a, index, axis=axis)


@composition(np.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """Nested ``where``: the first true condition picks its choice."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = np.where(condition, choice, result)
    return result


@composition(np.polyval)
def polyval(p: Any, x: Any) -> Any:
    """Horner's scheme, as NumPy evaluates it (``y = y * x + p[i]``)."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    if type(p) in (list, tuple) and all(isinstance(c, _PLAIN) for c in p):
        p = np.asarray(p)  # as NumPy does: Python floats become float64 scalars (not weak)
    y = np.zeros_like(x) if np.ndim(x) else x * 0
    for i in range(len(p)):
        y = y * x + p[i]
    return y


@composition(np.angle)
def angle(z: Any, deg: bool = False) -> Any:
    """``arctan2(imag z, real z)``, in degrees when asked."""
    a = RULES["arctan2"].function(np.imag(z), np.real(z))
    return a * (180.0 / np.pi) if deg else a


@composition(np.interp)
def interp(
    x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None
) -> Any:
    """Piecewise linear, as NumPy computes it: on the segment ``xp[j] <= x < xp[j+1]`` that
    ``searchsorted`` finds, ``slope·(x - xp[j]) + fp[j]`` with ``slope = (fp[j+1] - fp[j]) /
    (xp[j+1] - xp[j])``, so the derivative in ``x`` is the segment's slope (at a knot, the slope
    of the segment to its right; at ``xp[-1]`` and outside the range, 0) and the result is linear
    in ``fp``. ``left``/``right`` (default ``fp[0]``/``fp[-1]``) outside the range."""
    _refuse("interp", period=period)
    n = np.shape(xp)[0]
    if n == 0:
        raise ValueError("array of sample points is empty")
    first, last = np.take(fp, 0), np.take(fp, n - 1)
    if n == 1:
        inside = first + 0 * x
    else:
        j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 2)
        x0, y0 = np.take(xp, j), np.take(fp, j)
        with np.errstate(invalid="ignore", divide="ignore"):  # x = ±inf: not taken there
            slope = (np.take(fp, j + 1) - y0) / (np.take(xp, j + 1) - x0)
            inside = slope * (x - x0) + y0
        inside = np.where(x == np.take(xp, n - 1), last, inside)
    below = first if left is None else left
    above = last if right is None else right
    return np.where(x < np.take(xp, 0), below, np.where(x > np.take(xp, n - 1), above, inside))


@composition(np.partition)
def partition(
    a: Any, kth: Any, axis: Any = -1, kind: Any = "introselect", order: Any = None
) -> Any:
    """The elements in the order ``argpartition`` gives (each keeps its own derivative)."""
    _refuse("partition", order=order)
    if axis is None:
        a, axis = np.ravel(a), -1
    return np.take_along_axis(a, np.argpartition(a, kth, axis=axis, kind=kind), axis=axis)


def _reduction_options(**options: Any) -> dict[str, Any]:
    """The options given (a carrier's reduction need not accept NumPy's ``_NoValue``)."""
    return {k: v for k, v in options.items() if v is not _NO_VALUE and v is not None}


@composition(np.nanprod)
def nanprod(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    keepdims: Any = False,
    initial: Any = _NO_VALUE,
    where: Any = _NO_VALUE,
) -> Any:
    """``prod`` with NaNs replaced by 1, as NumPy computes it."""
    _refuse("nanprod", out=out)
    options = _reduction_options(dtype=dtype, initial=initial, where=where)
    return np.prod(np.where(np.isnan(a), 1, a), axis=axis, keepdims=keepdims, **options)


@composition(np.nancumprod)
def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``cumprod`` with NaNs replaced by 1, as NumPy computes it."""
    _refuse("nancumprod", out=out)
    return np.cumprod(np.where(np.isnan(a), 1, a), axis=axis, **_reduction_options(dtype=dtype))


def _nan_extreme(
    pick: Any, fill: float, a: Any, axis: Any, keepdims: Any, initial: Any, where: Any
) -> Any:
    """``max``/``min`` of the non-NaN entries (NumPy's ``fmax.reduce``); NaN where a slice is all
    NaN (and no ``initial`` is given)."""
    missing = np.isnan(a)
    options = _reduction_options(initial=initial, where=where)
    result = pick(np.where(missing, fill, a), axis=axis, keepdims=keepdims, **options)
    if initial is not _NO_VALUE:
        return result
    return np.where(np.all(missing, axis=axis, keepdims=keepdims), np.nan, result)


@composition(np.nanmax)
def nanmax(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = False,
    initial: Any = _NO_VALUE,
    where: Any = _NO_VALUE,
) -> Any:
    """The largest non-NaN entry (ties share the derivative evenly, as in ``max``)."""
    _refuse("nanmax", out=out)
    return _nan_extreme(np.max, -np.inf, a, axis, keepdims, initial, where)


@composition(np.nanmin)
def nanmin(
    a: Any,
    axis: Any = None,
    out: Any = None,
    keepdims: Any = False,
    initial: Any = _NO_VALUE,
    where: Any = _NO_VALUE,
) -> Any:
    """The smallest non-NaN entry (ties share the derivative evenly, as in ``min``)."""
    _refuse("nanmin", out=out)
    return _nan_extreme(np.min, np.inf, a, axis, keepdims, initial, where)


@composition(np.nan_to_num)
def nan_to_num(x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None, neginf: Any = None):
    """NaN and infinities replaced by constants (derivative 0 there); with ``copy=False`` the
    replacement is written into ``x``, which is returned, as NumPy does."""
    if np.iscomplexobj(x):
        raise TypeError("numpy.nan_to_num of complex dual numbers is not supported")
    largest = np.finfo(np.result_type(x)).max
    y = np.where(np.isnan(x), nan, x)
    y = np.where(np.isposinf(x), largest if posinf is None else posinf, y)
    y = np.where(np.isneginf(x), -largest if neginf is None else neginf, y)
    if copy:
        return y
    x[...] = y
    return x


def _nan_variance(
    a: Any, axis: Any, dtype: Any, ddof: Any, keepdims: Any, correction: Any, name: str
) -> Any:
    """``nanvar`` in NumPy's steps: NaNs as 0, the mean over the non-NaN count, squared
    deviations (0 at the NaNs) summed and divided by ``count - ddof`` (NaN where that is not
    positive)."""
    ddof = ddof if correction is _NO_VALUE else correction
    mask = np.isnan(a)
    values = np.where(mask, 0, a)
    options = _reduction_options(dtype=dtype)
    count = np.sum(~mask, axis=axis, dtype=np.intp, keepdims=True)
    mean = np.sum(values, axis=axis, keepdims=True, **options) / count
    deviation = np.where(mask, 0, values - mean)
    if np.iscomplexobj(deviation):
        squares = np.real(deviation * np.conjugate(deviation))
    else:
        squares = deviation * deviation
    total = np.sum(squares, axis=axis, keepdims=keepdims, **options)
    dof = count - ddof
    if not keepdims:
        dof = np.reshape(dof, np.shape(total))
    return np.where(dof <= 0, np.nan, total / np.where(dof <= 0, 1, dof))


@composition(np.nanvar)
def nanvar(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = False,
    *,
    where: Any = _NO_VALUE,
    mean: Any = _NO_VALUE,
    correction: Any = _NO_VALUE,
) -> Any:
    """The variance of the non-NaN entries, as NumPy computes it."""
    _refuse("nanvar", out=out, where=where, mean=mean)
    return _nan_variance(a, axis, dtype, ddof, keepdims, correction, "nanvar")


@composition(np.nanstd)
def nanstd(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    out: Any = None,
    ddof: Any = 0,
    keepdims: Any = False,
    *,
    where: Any = _NO_VALUE,
    mean: Any = _NO_VALUE,
    correction: Any = _NO_VALUE,
) -> Any:
    """``sqrt(nanvar)``, as NumPy computes it."""
    _refuse("nanstd", out=out, where=where, mean=mean)
    return RULES["sqrt"].function(
        _nan_variance(a, axis, dtype, ddof, keepdims, correction, "nanstd")
    )


@composition(np.median)
def median(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False, keepdims: Any = False
) -> Any:
    """The middle element of the sorted slice, or the mean of the middle two (NaN for a slice
    with a NaN), as NumPy computes it."""
    _refuse("median", out=out)
    ndim = np.ndim(a)
    axes = tuple(range(ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(sorted(ax % ndim for ax in axes)) if ndim else ()
    kept = tuple(1 if i in axes else n for i, n in enumerate(np.shape(a)))
    rest = [n for i, n in enumerate(np.shape(a)) if i not in axes]
    a = np.reshape(np.moveaxis(a, axes, tuple(range(ndim - len(axes), ndim))), (*rest, -1))
    n = np.shape(a)[-1]
    ordered = np.sort(a, axis=-1)
    middle = ordered[..., n // 2 : n // 2 + 1] if n % 2 else ordered[..., n // 2 - 1 : n // 2 + 1]
    result = np.mean(middle, axis=-1)
    result = np.where(np.any(np.isnan(a), axis=-1), np.nan, result)
    return np.reshape(result, kept) if keepdims else result
