"""NumPy functions written in terms of other functions of the tables, once for every carrier.

Each body below is plain NumPy code: called with a ``DualArray``, a ``Taylor`` series, a compiler
``SymbolicDual`` or a ``SparsityTracer``, every operation in it dispatches to that carrier, so the
function works wherever its parts do and its derivative is the chain rule through them. A body
must give NumPy's value exactly (dtype and shape included) and follow the conventions of the rule
table at ties and kinks (``maximum`` splits a tie evenly, so ``clip`` does too).

The function table (``dualdiff.rules.functions``) declares these functions as ``composition``; a
carrier with a faster version of one registers it as an override, tested against the body here.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .elementwise import RULES, as_scalar_result, is_dual

__all__ = ["COMPOSITIONS", "call_body", "composition"]

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


def call_body(
    function: Callable[..., Any],
    args: Any,
    kwargs: dict,
    refuse: Callable[[str], Exception],
) -> Any:
    """``function``'s composition body on a carrier's arguments. A TypeError inside it (a part
    the carrier has no rule for) is raised again by ``refuse(reason)``, an error that names the
    function the user called rather than the part."""
    try:
        return COMPOSITIONS[function](*args, **kwargs)
    except TypeError as error:
        raise refuse(f"it is a composition, and {' '.join(str(error).split())}") from error


def _dtype(a: Any) -> np.dtype:
    """``a``'s dtype, read from the carrier itself (not every carrier has ``np.result_type``)."""
    dtype = getattr(a, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.result_type(a)


def _array(a: Any) -> Any:
    """A list or tuple as an array (stacked, so that dual items keep their derivatives)."""
    if isinstance(a, (list, tuple)):
        return np.stack(a) if len(a) else np.asarray(a, dtype=np.float64)
    return a


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
    if (lo is _NO_VALUE or lo is None) and (hi is _NO_VALUE or hi is None):
        return np.positive(a)  # NumPy's copy (a scalar for 0-d): a write into it leaves a alone
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
    if kind is None and stable is None:
        stable = True  # (NumPy takes kind= or stable=, not both)
    index = np.argsort(a, axis=axis, kind=kind, stable=stable)
    return np.take_along_axis(a, index, axis=axis)


@composition(np.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """Nested ``where``: the first true condition picks its choice."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = np.where(condition, choice, result)
    # NumPy's dtype keeps Python numbers weak; nested wheres would make two of them float64
    weak = (int, float, complex)
    dtype = np.result_type(
        *(c if type(c) in weak else _dtype(np.asarray(c) if isinstance(c, (list, tuple)) else c)
          for c in (*choicelist, default))
    )  # fmt: skip
    return result if _dtype(result) == dtype else result.astype(dtype)


@composition(np.polyval)
def polyval(p: Any, x: Any) -> Any:
    """Horner's scheme, as NumPy evaluates it (``y = y * x + p[i]``)."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    if type(p) in (list, tuple) and all(isinstance(c, _PLAIN) for c in p):
        p = np.asarray(p)  # as NumPy does: Python floats become float64 scalars (not weak)
    if type(x) in (float, int, complex):
        x = np.asarray(x)  # so is a Python-number point (np.polyval(p32, 0.7) is float64)
    y = np.zeros_like(x) if np.ndim(x) else x * 0
    for i in range(len(p)):
        y = y * x + p[i]
    return y


@composition(np.angle)
def angle(z: Any, deg: bool = False) -> Any:
    """``arctan2(imag z, real z)``, in degrees when asked."""
    a = RULES["arctan2"].function(np.imag(z), np.real(z))
    return a * (180.0 / np.pi) if deg else a


def _reduction_axes(ndim: int, axis: Any) -> tuple[int, ...]:
    """The axes a reduction over ``axis`` (None, an int or a tuple) combines, normalised."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    normalised = tuple(int(normalize_axis_index(a, ndim)) for a in axes)
    if len(set(normalised)) != len(normalised):
        raise ValueError("duplicate value in 'axis'")
    return normalised


def _to_last(a: Any, axes: tuple[int, ...]) -> Any:
    """``a`` with the reduced ``axes`` moved to the end and merged into one (NumPy's
    ``_ureduce`` does the same before reducing along one axis)."""
    ndim = np.ndim(a)
    kept = [i for i in range(ndim) if i not in axes]
    moved = np.transpose(a, kept + list(axes))
    shape = np.shape(moved)
    return np.reshape(moved, shape[: len(kept)] + (-1,))


def _keep(result: Any, shape: tuple[int, ...], axes: tuple[int, ...], lead: int = 0) -> Any:
    """``result`` (the ``lead`` axes of ``q`` first, then the kept axes) with the reduced axes
    put back as length-one axes (``keepdims=True``)."""
    kept = tuple(1 if i in axes else s for i, s in enumerate(shape))
    return np.reshape(result, np.shape(result)[:lead] + kept)


# -- max and min: the chosen entry's derivative, ties shared evenly --------------------------


def _extreme(a: Any, axis: Any, keepdims: Any, initial: Any, where: Any, arg: Any, name: str):
    _refuse(name, where=where)
    shape = np.shape(a)
    axes = _reduction_axes(len(shape), axis)
    flat = _to_last(a, axes)
    if np.shape(flat)[-1] == 0:
        if initial is _NO_VALUE:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        m = np.zeros(np.shape(flat)[:-1], _dtype(a)) + initial
    else:
        index = np.expand_dims(arg(flat, axis=-1), -1)
        m = np.take_along_axis(flat, index, axis=-1)  # NumPy's value, one entry's tangent
        ties = flat == m
        finite = np.isfinite(m)
        weights = ties / np.sum(ties, axis=-1, keepdims=True)
        if _dtype(a).kind in "fc":  # float64 weights would promote a float32 result
            weights = weights.astype(np.finfo(_dtype(a)).dtype)
        # m - sum(w (m - a)) over the ties: the value stays m exactly (m - 0.0, -0.0 too),
        # the tangent becomes the ties' mean; at an infinite m the chosen entry's alone
        gap = np.where(ties & finite, m - flat, _zero(flat))
        m = (m - np.sum(gap * weights, axis=-1, keepdims=True))[..., 0]
        m = as_scalar_result(m)  # (NumPy's reduction over everything: a scalar)
        if initial is not _NO_VALUE:
            rule = "maximum" if arg is np.argmax else "minimum"
            m = RULES[rule].function(m, initial)
    if keepdims is True and shape:  # (of a 0-d array NumPy returns a scalar, keepdims or not)
        m = _keep(m, shape, axes)
    return m


@composition(np.max, np.amax)
def max_(a, axis=None, out=None, keepdims=False, initial=_NO_VALUE, where=_NO_VALUE):
    """The entry ``argmax`` picks, NumPy's value; ties share the derivative evenly."""
    _refuse("max", out=out)
    return _extreme(a, axis, keepdims, initial, where, np.argmax, "maximum")


@composition(np.min, np.amin)
def min_(a, axis=None, out=None, keepdims=False, initial=_NO_VALUE, where=_NO_VALUE):
    """The entry ``argmin`` picks, NumPy's value; ties share the derivative evenly."""
    _refuse("min", out=out)
    return _extreme(a, axis, keepdims, initial, where, np.argmin, "minimum")


def _all_nan(a: Any, axis: Any, keepdims: Any) -> Any:
    return np.all(np.isnan(a), axis=axis, keepdims=keepdims is True)


@composition(np.nanmax)
def nanmax(a, axis=None, out=None, keepdims=_NO_VALUE, initial=_NO_VALUE, where=_NO_VALUE):
    """``max`` with NaNs read as ``-inf``; an all-NaN slice gives NaN (and NumPy's warning)."""
    _refuse("nanmax", out=out)
    m = np.max(
        np.where(np.isnan(a), -np.inf, a), axis=axis, keepdims=keepdims is True, initial=initial,
        where=where,
    )  # fmt: skip
    return _nan_where_empty(m, _all_nan(a, axis, keepdims), initial)


@composition(np.nanmin)
def nanmin(a, axis=None, out=None, keepdims=_NO_VALUE, initial=_NO_VALUE, where=_NO_VALUE):
    """``min`` with NaNs read as ``inf``; an all-NaN slice gives NaN (and NumPy's warning)."""
    _refuse("nanmin", out=out)
    m = np.min(
        np.where(np.isnan(a), np.inf, a), axis=axis, keepdims=keepdims is True, initial=initial,
        where=where,
    )  # fmt: skip
    return _nan_where_empty(m, _all_nan(a, axis, keepdims), initial)


def _nan_where_empty(m: Any, empty: Any, initial: Any) -> Any:
    if initial is not _NO_VALUE or not np.any(empty):
        return m
    warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
    return np.where(empty, np.nan, m)


# -- variance and standard deviation ---------------------------------------------------------


def _dtype_ok(name: str, dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(f"numpy.{name}(..., dtype={dtype}) would drop the tangent")


def _squares(x: Any) -> Any:
    """``|x|^2`` as NumPy's var takes it (``x * conj(x)``, real part, for complex data)."""
    if _dtype(x).kind == "c":
        return np.real(x * RULES["conjugate"].function(x))
    return x * x


@composition(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NO_VALUE,
        mean=_NO_VALUE, correction=_NO_VALUE):  # fmt: skip
    """NumPy's two passes: ``sum(|a - mean|^2) / (n - ddof)``."""
    _refuse("var", out=out, where=where, mean=mean)
    _dtype_ok("var", dtype)
    if correction is not _NO_VALUE:
        ddof = correction
    if dtype is not None:
        a = a.astype(dtype)
    elif _dtype(a).kind in "iub":
        a = a.astype(np.float64)
    n = int(np.prod([np.shape(a)[i] for i in _reduction_axes(np.ndim(a), axis)]))
    centre = np.sum(a, axis=axis, keepdims=True) / n
    total = np.sum(_squares(a - centre), axis=axis, keepdims=keepdims is True)
    return total / max(n - ddof, 0)


@composition(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NO_VALUE,
        mean=_NO_VALUE, correction=_NO_VALUE):  # fmt: skip
    """``sqrt(var)``."""
    _refuse("std", out=out)
    v = var(a, axis, dtype, None, ddof, keepdims, where=where, mean=mean, correction=correction)
    return RULES["sqrt"].function(v)


@composition(np.nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NO_VALUE, *, where=_NO_VALUE,
           mean=_NO_VALUE, correction=_NO_VALUE):  # fmt: skip
    """NumPy's nanvar: NaNs replaced by 0 and left out of the count and the squares."""
    _refuse("nanvar", out=out, where=where, mean=mean)
    _dtype_ok("nanvar", dtype)
    if correction is not _NO_VALUE:
        ddof = correction
    if dtype is not None:
        a = a.astype(dtype)
    missing = np.isnan(a)
    b = np.where(missing, 0.0, a)
    count = np.sum(~missing, axis=axis, keepdims=True)
    # NumPy divides by the integer count into the sum's dtype (float32 stays float32)
    centre = _like(np.sum(b, axis=axis, keepdims=True) / count, b)
    squares = _squares(np.where(missing, 0.0, b - centre))
    total = np.sum(squares, axis=axis, keepdims=keepdims is True)
    dof = np.sum(~missing, axis=axis, keepdims=keepdims is True) - ddof
    if not np.any(dof <= 0):
        return _like(total / dof, total)
    warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _like(np.where(dof <= 0, np.nan, total / np.where(dof <= 0, 1, dof)), total)


def _like(x: Any, reference: Any) -> Any:
    """``x`` in ``reference``'s dtype (NumPy's ``out=`` of the same array casts so)."""
    dtype = _dtype(reference)
    return x if _dtype(x) == dtype else x.astype(dtype)


@composition(np.nanstd)
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NO_VALUE, *, where=_NO_VALUE,
           mean=_NO_VALUE, correction=_NO_VALUE):  # fmt: skip
    """``sqrt(nanvar)``."""
    _refuse("nanstd", out=out)
    v = nanvar(a, axis, dtype, None, ddof, keepdims, where=where, mean=mean, correction=correction)
    return RULES["sqrt"].function(v)


# -- sums with NaNs left out: not linear maps of the tangent (its entries at NaN values need not
# be NaN: x + nan carries dx), so the terms and the count follow the values -----------------------


def _zero(a: Any) -> np.ndarray:
    """A zero of ``a``'s dtype (``np.where(m, 0.0, a)`` of a float32 series would be float64)."""
    return np.zeros((), _dtype(a))


@composition(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=_NO_VALUE, initial=_NO_VALUE,
           where=_NO_VALUE):  # fmt: skip
    """``sum`` with NaNs read as 0."""
    _refuse("nansum", out=out)
    kwargs = {} if initial is _NO_VALUE else {"initial": initial}
    if where is not _NO_VALUE:
        kwargs["where"] = where
    b = np.where(np.isnan(a), _zero(a), a)
    return np.sum(b, axis=axis, dtype=dtype, keepdims=keepdims is True, **kwargs)


@composition(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    """``cumsum`` with NaNs read as 0."""
    _refuse("nancumsum", out=out)
    return np.cumsum(np.where(np.isnan(a), _zero(a), a), axis=axis, dtype=dtype)


@composition(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=_NO_VALUE, *, where=_NO_VALUE):
    """The sum of the entries that are not NaN over how many there are."""
    _refuse("nanmean", out=out, where=where)
    _dtype_ok("nanmean", dtype)
    if dtype is not None:
        a = a.astype(dtype)
    missing = np.isnan(a)
    total = np.sum(np.where(missing, _zero(a), a), axis=axis, keepdims=keepdims is True)
    count = np.sum(~missing, axis=axis, keepdims=keepdims is True)
    # NumPy divides by the integer count into the sum's dtype (float32 stays float32)
    return _like(total / count, total)


# -- products with NaNs left out -------------------------------------------------------------


@composition(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=_NO_VALUE, initial=_NO_VALUE,
            where=_NO_VALUE):  # fmt: skip
    """``prod`` with NaNs read as 1 (so exact at zeros, as ``prod`` is)."""
    _refuse("nanprod", out=out, where=where)
    kwargs = {} if initial is _NO_VALUE else {"initial": initial}
    b = np.where(np.isnan(a), 1.0, a)
    return np.prod(b, axis=axis, dtype=dtype, keepdims=keepdims is True, **kwargs)


@composition(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    """``cumprod`` with NaNs read as 1."""
    _refuse("nancumprod", out=out)
    return np.cumprod(np.where(np.isnan(a), 1.0, a), axis=axis, dtype=dtype)


# -- writes into the first argument, as np.put of the flat positions they write --------------------
# (each carrier's np.put writes through views and takes NumPy's order, so the last of repeated
# positions wins; the compiler keeps its own functional write)


@composition(np.fill_diagonal)
def fill_diagonal(a: Any, val: Any, wrap: bool = False) -> None:
    """NumPy's definition, ``a.flat[:end:step] = val``, as ``np.put``."""
    shape = np.shape(a)
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    end = None
    if len(shape) == 2:
        step = shape[1] + 1
        if not wrap:
            end = shape[1] * shape[1]
    else:
        if any(n != shape[0] for n in shape):
            raise ValueError("All dimensions of input must be of equal length")
        step = 1 + int(np.cumprod(shape[:-1]).sum())
    np.put(a, np.arange(int(np.prod(shape)))[:end:step], val)


@composition(np.place)
def place(arr: Any, mask: Any, vals: Any) -> None:
    """The positions where ``mask`` holds take ``vals`` in turn (repeated when shorter)."""
    positions = np.flatnonzero(np.asarray(mask))
    if positions.size and np.size(vals) == 0:
        raise ValueError("Cannot insert from an empty array!")
    np.put(arr, positions, vals)


@composition(np.putmask)
def putmask(a: Any, mask: Any, values: Any) -> None:
    """``a.flat[i] = values.flat[i % values.size]`` where ``mask.flat[i]`` holds."""
    if np.shape(mask) != np.shape(a):
        raise ValueError("putmask: mask and data must be the same size")
    positions = np.flatnonzero(np.asarray(mask))
    if positions.size == 0 or np.size(values) == 0:
        return
    np.put(a, positions, np.ravel(values)[positions % np.size(values)])


@composition(np.put_along_axis)
def put_along_axis(arr: Any, indices: Any, values: Any, axis: Any) -> None:
    """``arr[along(indices)] = values``: the flat positions ``take_along_axis`` reads, written
    with ``values`` broadcast to them."""
    numbers = np.arange(int(np.prod(np.shape(arr)))).reshape(np.shape(arr))
    if axis is None:
        numbers, axis = numbers.ravel(), 0
    positions = np.take_along_axis(numbers, np.asarray(indices), axis=axis)
    np.put(arr, positions.ravel(), np.ravel(np.broadcast_to(values, positions.shape)))


# -- median and quantiles through the sort ---------------------------------------------------

_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _quantiles(a: Any, q: Any, axis: Any, method: str, keepdims: Any, name: str,
               skip_nan: bool, weak: bool) -> Any:  # fmt: skip
    """The ``q``-quantiles of ``a`` over ``axis`` as NumPy computes them: the sorted entries
    at ``floor((n - 1) q)`` and the next, interpolated linearly (``method='linear'``) with
    NumPy's ``_lerp``; the derivative is the interpolation of the two entries' derivatives."""
    if method not in _QUANTILE_METHODS:
        raise TypeError(
            f"numpy.{name}(method={method!r}) on dual numbers: dualdiff follows the methods "
            f"{', '.join(_QUANTILE_METHODS)}"
        )
    if _dtype(a).kind == "c":
        raise TypeError("a must be an array of real numbers")
    if is_dual(q) or (isinstance(q, (list, tuple)) and any(is_dual(i) for i in q)):
        raise TypeError(
            f"numpy.{name}: dualdiff differentiates with respect to a only; q must not carry a "
            "derivative (pass its .value)"
        )
    q = np.asarray(q, dtype=np.float64) if weak else np.asarray(q)
    if name.endswith("percentile"):
        q = np.true_divide(q, 100)
    if not (np.all(q >= 0) and np.all(q <= 1)):
        raise ValueError(
            f"{'Percentiles' if 'percentile' in name else 'Quantiles'} must be in "
            "the range [0, " + ("100]" if "percentile" in name else "1]")
        )
    shape = np.shape(a)
    axes = _reduction_axes(len(shape), axis)
    flat = np.sort(_to_last(a, axes), axis=-1)  # NaNs last
    n = np.shape(flat)[-1]
    batch = np.shape(flat)[:-1]
    missing = np.isnan(flat)
    valid = n - np.sum(missing, axis=-1) if skip_nan else np.full(batch, n)
    qs = np.reshape(q, q.shape + (1,) * len(batch))
    virtual = (valid - 1) * qs  # q's axes first, then the batch
    if method == "lower":
        virtual = np.floor(virtual)
    elif method == "higher":
        virtual = np.ceil(virtual)
    elif method == "nearest":
        virtual = np.around(virtual)
    elif method == "midpoint":
        virtual = 0.5 * (np.floor(virtual) + np.ceil(virtual))
    last = np.maximum(valid - 1, 0)
    with np.errstate(invalid="ignore"):
        below = np.floor(virtual)
        gamma = virtual - below
    above = virtual >= valid - 1
    lo = np.where(above, last, np.maximum(below, 0)).astype(np.intp)
    hi = np.where(above, last, np.minimum(lo + 1, last)).astype(np.intp)
    gamma = np.where(above, 0.0, gamma)
    one_minus = 1 - gamma
    if weak:  # a Python float q is weak: NumPy's _lerp rounds t and 1 - t to the array's dtype
        dtype = np.result_type(_dtype(flat), 0.0)
        gamma, one_minus = gamma.astype(dtype), one_minus.astype(dtype)
    # gather: each of q's values is a column of the batch
    lead = q.ndim
    columns = int(np.prod(q.shape))

    def gather(index: Any) -> Any:
        index = np.reshape(np.moveaxis(np.reshape(index, (columns,) + batch), 0, -1),
                           batch + (columns,))  # fmt: skip
        picked = np.take_along_axis(flat, index, axis=-1)
        return np.reshape(np.moveaxis(picked, -1, 0), q.shape + batch)

    a_lo, a_hi = (
        gather(np.broadcast_to(lo, q.shape + batch)),
        gather(np.broadcast_to(hi, q.shape + batch)),
    )
    t = np.broadcast_to(gamma, q.shape + batch)
    difference = a_hi - a_lo
    result = np.where(t >= 0.5, a_hi - difference * one_minus, a_lo + difference * t)
    if skip_nan:
        empty = valid == 0
        if np.any(empty):
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
            result = np.where(empty, np.nan, result)
    else:
        nan_last = np.reshape(missing[..., -1], batch) if batch else missing[..., -1]
        if np.any(nan_last):  # NumPy gives the NaN itself
            result = np.where(nan_last, np.take(flat, [n - 1], axis=-1)[..., 0], result)
    if keepdims is True:
        return _keep(result, shape, axes, lead)
    return as_scalar_result(result)


@composition(np.quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
             *, weights=None, interpolation=None):  # fmt: skip
    """Sort, then interpolate between neighbours (NumPy's default method)."""
    _refuse("quantile", out=out, weights=weights, interpolation=interpolation)
    return _quantiles(a, q, axis, method, keepdims, "quantile", False, type(q) in (int, float))


@composition(np.percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):  # fmt: skip
    """``quantile(a, q / 100)``, as NumPy divides."""
    _refuse("percentile", out=out, weights=weights, interpolation=interpolation)
    return _quantiles(a, q, axis, method, keepdims, "percentile", False, type(q) in (int, float))


@composition(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=_NO_VALUE, *, weights=None, interpolation=None):  # fmt: skip
    """``quantile`` of the entries that are not NaN, slice by slice."""
    _refuse("nanquantile", out=out, weights=weights, interpolation=interpolation)
    weak = type(q) in (int, float)
    return _quantiles(a, q, axis, method, keepdims, "nanquantile", True, weak)


@composition(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=_NO_VALUE, *, weights=None, interpolation=None):  # fmt: skip
    """``nanquantile(a, q / 100)``."""
    _refuse("nanpercentile", out=out, weights=weights, interpolation=interpolation)
    weak = type(q) in (int, float)
    return _quantiles(a, q, axis, method, keepdims, "nanpercentile", True, weak)


def _medians(a: Any, axis: Any, keepdims: Any, skip_nan: bool) -> Any:
    """The middle sorted entry, or the mean of the middle two (``(a + b) / 2`` as NumPy's
    ``mean`` of two gives it)."""
    shape = np.shape(a)
    axes = _reduction_axes(len(shape), axis)
    flat = np.sort(_to_last(a, axes), axis=-1)
    n = np.shape(flat)[-1]
    batch = np.shape(flat)[:-1]
    missing = np.isnan(flat)
    valid = n - np.sum(missing, axis=-1) if skip_nan else np.full(batch, n, dtype=np.intp)
    lo = np.maximum((valid - 1) // 2, 0)
    hi = np.maximum(valid // 2, 0)
    take = lambda i: np.take_along_axis(flat, np.reshape(i, batch + (1,)), axis=-1)[..., 0]  # noqa: E731
    a_lo, a_hi = take(lo), take(hi)
    result = np.where(lo == hi, a_lo, (a_lo + a_hi) / 2)
    if _dtype(result) != _dtype(flat) and _dtype(flat).kind == "f":
        result = result.astype(_dtype(flat))
    if skip_nan:
        if np.any(valid == 0):
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
            result = np.where(valid == 0, np.nan, result)
    elif n and np.any(missing[..., -1]):
        result = np.where(missing[..., -1], flat[..., -1], result)
    if keepdims is True:
        return _keep(result, shape, axes)
    return as_scalar_result(result)


@composition(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle of the sorted entries (the two middle ones averaged)."""
    _refuse("median", out=out)
    return _medians(a, axis, keepdims, False)


@composition(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=_NO_VALUE):
    """``median`` of the entries that are not NaN, slice by slice."""
    _refuse("nanmedian", out=out)
    return _medians(a, axis, keepdims, True)


# -- piecewise, meshgrid, polynomial fits, interpolation, NaN replacement, partition --------


@composition(np.piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    """NumPy's loop: each function applied to the entries where its condition holds (the
    conditions are values; the last function is for "otherwise" when one is missing)."""
    n2 = len(funclist)
    # one condition given alone (not in a list) is one condition, as NumPy reads it; a
    # condition computed by a carrier (a comparison of duals) counts as an array
    if np.isscalar(condlist) or (np.ndim(condlist[0]) == 0 and np.ndim(x) != 0):
        condlist = [condlist]
    condlist = np.asarray(condlist, dtype=bool)
    n = len(condlist)
    if n == n2 - 1:
        otherwise = ~np.any(condlist, axis=0, keepdims=True)
        condlist = np.concatenate([condlist, otherwise], axis=0)
        n += 1
    elif n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")
    y = np.zeros_like(x)
    for condition, func in zip(condlist, funclist):
        if not callable(func):
            y[condition] = func
        else:
            values = x[condition]
            if np.size(values) > 0:
                y[condition] = func(values, *args, **kw)
    return y


@composition(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Reshapes and ``broadcast_arrays``, as NumPy builds it (views when ``copy=False``)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    shapes = [[1] * ndim for _ in xi]
    for i, shape in enumerate(shapes):
        shape[i] = -1
    if indexing == "xy" and ndim > 1:
        shapes[0][:2], shapes[1][:2] = [1, -1], [-1, 1]
    output: Any = [np.reshape(x, tuple(s)) for x, s in zip(xi, shapes)]
    if not sparse:
        output = tuple(np.broadcast_arrays(*output))
    if copy:
        output = tuple(np.copy(x) for x in output)
    return output  # a list when sparse without copy, as NumPy's


@composition(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """NumPy's algorithm: ``start + arange(num)·step``, ``step = (stop - start)/div``, with
    ``stop`` itself as the last sample (endpoint); the tangents are linear in start and stop.
    (NumPy multiplies by ``delta/div`` after dividing where the step underflows to 0: the
    same values but at subnormal steps.)"""
    _refuse("linspace", device=device)
    num = num.__index__()
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(
            f"numpy.linspace(..., dtype={np.dtype(dtype)}) would drop the tangent; only float "
            "and complex dtypes carry derivatives"
        )
    div = (num - 1) if endpoint else num
    # NumPy's dtype: the arguments' (Python numbers weak), at least float64 for integers
    strong = [_dtype(a) for a in (start, stop) if not isinstance(a, numbers.Number)]
    dt = np.result_type(*strong, 0.0) if strong else np.dtype(np.float64)
    delta = np.subtract(stop, start) + np.zeros((), dt)
    y = np.reshape(np.arange(0, num, dtype=dt), (-1,) + (1,) * np.ndim(delta))
    if div > 0:
        step = delta / div
        y = y * step
    else:
        step = np.nan
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = np.broadcast_to(stop + np.zeros((), y.dtype), np.shape(y)[1:])
        y = np.concatenate([y[:-1], np.expand_dims(last, 0)])
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        y = y.astype(dtype, copy=False)
    return (y, step) if retstep else y


def _vander(x: Any, columns: int) -> Any:
    """``np.vander(x, columns)``: powers by repeated multiplication, as NumPy's accumulate."""
    powers = [np.ones_like(x)]
    for _ in range(1, columns):
        powers.append(powers[-1] * x if len(powers) > 1 else x + 0.0)
    return np.stack(powers[::-1], axis=1)


@composition(np.polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """NumPy's algorithm: a column-scaled Vandermonde least-squares problem (``lstsq``)."""
    if cov:
        raise TypeError(
            "numpy.polyfit(cov=True) on dual numbers is not supported; fit with cov=False"
        )
    order = int(deg) + 1
    x = _array(x) + 0.0
    y = _array(y) + 0.0
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if np.ndim(x) != 1:
        raise TypeError("expected 1D vector for x")
    if np.size(x) == 0:
        raise TypeError("expected non-empty vector for x")
    if np.ndim(y) < 1 or np.ndim(y) > 2:
        raise TypeError("expected 1D or 2D array for y")
    if np.shape(x)[0] != np.shape(y)[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = len(x) * np.finfo(_dtype(x)).eps
    lhs = _vander(x, order)
    rhs = y
    if w is not None:
        w = _array(w) + 0.0
        if np.ndim(w) != 1:
            raise TypeError("expected a 1-d array for weights")
        if np.shape(w)[0] != np.shape(y)[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * w[:, np.newaxis]
        rhs = rhs * w[:, np.newaxis] if np.ndim(rhs) == 2 else rhs * w
    scale = RULES["sqrt"].function(np.sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, residuals, rank, s = np.linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if rank != order and not full:
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning, stacklevel=2)
    if full:
        return c, residuals, rank, s, rcond
    return c


@composition(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """NumPy's formula ``slope * (x - xp[j]) + fp[j]`` on the segment ``searchsorted`` finds
    (the one to the right at a knot; ``fp[-1]`` at the last knot); outside the range the end
    values, constants. Differentiable in ``x`` and ``fp``; ``xp`` is read for its values."""
    _refuse("interp", period=period)
    if is_dual(xp) or (isinstance(xp, (list, tuple)) and any(is_dual(i) for i in xp)):
        raise TypeError(
            "numpy.interp: dualdiff differentiates with respect to x and fp; xp must not carry "
            "a derivative (pass its .value)"
        )
    x, fp = _array(x), _array(fp)
    xp = np.asarray(xp, dtype=np.float64)
    if np.ndim(xp) != 1 or np.ndim(fp) != 1:
        raise ValueError("Data points must be 1D sequences")
    if len(xp) != np.shape(fp)[0]:
        raise ValueError("fp and xp are not of the same length")
    if _dtype(fp).kind == "c":
        fp = fp + 0j
    else:
        fp = fp + 0.0
    x = x + 0.0
    n = len(xp)
    below = fp[0] if left is None else left
    above = fp[n - 1] if right is None else right
    if n == 1:
        inside = np.zeros_like(x) + fp[0]
    else:
        j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 2)
        slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
        with np.errstate(invalid="ignore"):  # x = ±inf is answered by the end values
            inside = slope * (x - xp[j]) + fp[j]
        inside = np.where(x == xp[n - 1], fp[n - 1], inside)
    result = np.where(x < xp[0], below, np.where(x > xp[n - 1], above, inside))
    return as_scalar_result(result)  # NumPy's scalar for a 0-d x


@composition(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """The non-finite entries replaced by constants (zero derivative there); ``copy=False``
    replaces in ``x`` and returns it, as NumPy does."""
    if _dtype(x).kind == "c":
        parts = (np.real(x), np.imag(x))
        real, imag = (nan_to_num(p, True, nan, posinf, neginf) for p in parts)
        result = real + 1j * imag
    else:
        big = np.finfo(np.result_type(_dtype(x), 0.0)).max
        hi = big if posinf is None else posinf
        lo = -big if neginf is None else neginf
        result = np.where(
            np.isnan(x), nan, np.where(np.isposinf(x), hi, np.where(np.isneginf(x), lo, x))
        )
        if _dtype(result) != np.result_type(_dtype(x), 0.0):
            result = result.astype(np.result_type(_dtype(x), 0.0))
    if not copy:
        x[...] = result
        return x
    return result


@composition(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """The entries moved as ``argpartition`` orders them, each with its own derivative."""
    _refuse("partition", order=order)
    if axis is None:
        a, axis = np.ravel(a), -1
    index = np.argpartition(a, kth, axis=axis, kind=kind)
    return np.take_along_axis(a, index, axis=axis)
