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

import math
import numbers
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..core.errors import NOT_DIFFERENTIATED, function_name, no_rule
from ..core.methods import divided_or_undefined
from .elementwise import RULES, as_scalar_result, is_dual

__all__ = ["COMPOSITIONS", "call_body", "composition"]

COMPOSITIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""The body of each composition, keyed by the NumPy function it stands for."""

_NO_VALUE = np._NoValue
_PLAIN = (numbers.Number, np.generic, np.ndarray)


def composition(*functions: Callable[..., Any]) -> Callable[..., Any]:
    """Register the decorated body as the composition of the given NumPy functions (None: a
    function this NumPy does not have)."""

    def register(body: Callable[..., Any]) -> Callable[..., Any]:
        for function in functions:
            if function is not None:
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


def kept_only(a: Any, where: Any, fill: Any, name: str = "", initial: Any = _NO_VALUE) -> Any:
    """``a`` with the entries a reduction's ``where=`` leaves out replaced by ``fill``, a
    constant: 1 of a product, -inf of a max (so a left-out entry never ties with a kept one,
    and ``initial`` is taken as NumPy takes it, through ``maximum``). The reduction of it is
    NumPy's reduction with ``where=`` (broadcast against ``a``), value and derivative.
    ``name`` (``"maximum"``, ``"minimum"``): a reduction without an identity, for which NumPy
    refuses a ``where=`` without ``initial=``."""
    if where is _NO_VALUE or where is True:
        return a
    if name and initial is _NO_VALUE:
        raise ValueError(
            f"reduction operation '{name}' does not have an identity, so to use a where mask "
            "one has to specify 'initial'"
        )
    kept = np.broadcast_to(np.asarray(where, dtype=bool), np.shape(a))
    return np.where(kept, a, np.asarray(fill, _dtype(a)))


def kept_where(ufunc: np.ufunc, where: Any, out: Any, result: Any) -> Any:
    """A ufunc's ``result`` computed everywhere, as its call with ``where=`` leaves ``out``:
    ``result`` where ``where`` holds (broadcast against it, as NumPy does), ``out``'s entries
    (value and derivative) elsewhere, for each output. NumPy leaves the entries outside
    ``where`` uninitialised without ``out=``: that is refused, it has no derivative."""
    if out is None:
        raise TypeError(
            f"{function_name(ufunc)}(..., where=...) without out= leaves the entries "
            "outside where uninitialised (NumPy's values there are arbitrary, and have no "
            "derivative); pass out= (an array whose entries are kept there)"
        )
    outs = out if type(out) is tuple else (out,)
    results = result if type(result) is tuple else (result,)
    kept = [np.where(np.broadcast_to(where, np.shape(r)), r, o) for r, o in zip(results, outs)]
    return tuple(kept) if type(result) is tuple else kept[0]


def reduceat(ufunc: np.ufunc, array: Any, indices: Any, axis: Any = 0, dtype: Any = None) -> Any:
    """NumPy's ``ufunc.reduceat`` on a carrier: ``ufunc.reduce`` of each slice
    ``array[indices[i]:indices[i + 1]]`` along ``axis`` (the last to the end), or
    ``array[indices[i]]`` alone where ``indices[i] >= indices[i + 1]``, concatenated along
    ``axis``. Each slice's reduction is the carrier's own (ties of ``maximum`` shared as in
    ``np.max``, products exact at zeros); one per index. (``out=`` is the carrier's.)"""
    name = f"{function_name(ufunc)}.reduceat"
    if ufunc not in (np.add, np.multiply, np.maximum, np.minimum):
        raise no_rule(name)
    if axis is None or isinstance(axis, tuple):
        raise ValueError("reduceat does not allow multiple axes")
    shape = np.shape(array)
    axis = int(normalize_axis_index(axis, len(shape)))
    n = shape[axis]
    # NumPy's checks of the indices (bounds, one dimension) and its conversion of them, on a
    # plain stand-in of the axis
    ufunc.reduceat(np.zeros(n), indices)
    index = np.asarray(indices).astype(np.intp).ravel()
    if dtype is not None:
        if np.dtype(dtype).kind not in "fc":
            raise TypeError(f"{name}(..., dtype={dtype}) would drop the tangent")
        array = array.astype(dtype)
    before = (slice(None),) * axis
    parts = []
    for i, start in enumerate(index.tolist()):
        stop = int(index[i + 1]) if i + 1 < index.size else n
        if start < stop:
            part = array[before + (slice(start, stop),)]
            parts.append(ufunc.reduce(part, axis=axis, keepdims=True))
        else:
            parts.append(array[before + (slice(start, start + 1),)])
    if not parts:
        parts.append(array[before + (slice(0, 0),)])
    return np.concatenate(parts, axis=axis)


def _extreme(a: Any, axis: Any, keepdims: Any, initial: Any, where: Any, arg: Any, name: str):
    a = kept_only(a, where, -np.inf if arg is np.argmax else np.inf, name, initial)
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
    _refuse("var", out=out, mean=mean)
    _dtype_ok("var", dtype)
    if correction is not _NO_VALUE:
        ddof = correction
    if dtype is not None:
        a = a.astype(dtype)
    elif _dtype(a).kind in "iub":
        a = a.astype(np.float64)
    if where is not _NO_VALUE and where is not True:
        return _masked_var(a, axis, ddof, keepdims is True, np.broadcast_to(where, np.shape(a)))
    n = int(np.prod([np.shape(a)[i] for i in _reduction_axes(np.ndim(a), axis)]))
    centre = np.sum(a, axis=axis, keepdims=True) / n
    total = np.sum(_squares(a - centre), axis=axis, keepdims=keepdims is True)
    return divided_or_undefined(total, n - ddof, np.inf)


def _masked_var(a: Any, axis: Any, ddof: Any, keepdims: bool, where: np.ndarray) -> Any:
    """``var(a, where=...)`` as NumPy computes it: the mean and the squares over the chosen
    entries, divided by their count less ``ddof`` (at least 0), in ``a``'s dtype."""
    count = np.sum(where, axis=axis, keepdims=True)
    centre = _like(np.sum(a, axis=axis, keepdims=True, where=where) / count, a)
    total = np.sum(_squares(a - centre), axis=axis, keepdims=keepdims, where=where)
    dof = np.sum(where, axis=axis, keepdims=keepdims) - ddof
    return _like(divided_or_undefined(total, dof, np.inf), total)


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
    _refuse("nanvar", out=out, mean=mean)
    _dtype_ok("nanvar", dtype)
    if correction is not _NO_VALUE:
        ddof = correction
    if dtype is not None:
        a = a.astype(dtype)
    missing = _left_out(a, where)
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
    return _like(divided_or_undefined(total, dof, np.nan), total)


def _left_out(a: Any, where: Any) -> Any:
    """The entries the nan-statistics leave out: NaNs, and those ``where=`` does not keep."""
    missing = np.isnan(a)
    if where is _NO_VALUE or where is True:
        return missing
    return missing | ~np.broadcast_to(np.asarray(where, dtype=bool), np.shape(a))


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
    _refuse("nanmean", out=out)
    _dtype_ok("nanmean", dtype)
    if dtype is not None:
        a = a.astype(dtype)
    missing = _left_out(a, where)
    total = np.sum(np.where(missing, _zero(a), a), axis=axis, keepdims=keepdims is True)
    count = np.sum(~missing, axis=axis, keepdims=keepdims is True)
    if np.any(count == 0):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    # NumPy divides by the integer count into the sum's dtype (float32 stays float32)
    return _like(divided_or_undefined(total, count, np.nan), total)


# -- products with NaNs left out -------------------------------------------------------------


@composition(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=_NO_VALUE, initial=_NO_VALUE,
            where=_NO_VALUE):  # fmt: skip
    """``prod`` with NaNs read as 1 (so exact at zeros, as ``prod`` is)."""
    _refuse("nanprod", out=out)
    kwargs = {} if initial is _NO_VALUE else {"initial": initial}
    b = kept_only(np.where(np.isnan(a), 1.0, a), where, 1.0)
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
            f"derivative {NOT_DIFFERENTIATED}"
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
            f"a derivative {NOT_DIFFERENTIATED}"
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


# -- polynomials ------------------------------------------------------------------------------


@composition(np.vander)
def vander(x, N=None, increasing=False):
    """NumPy's powers by repeated multiplication (``multiply.accumulate``), highest first unless
    ``increasing``; ``x**0`` is the constant 1."""
    x = _array(x)
    if np.ndim(x) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = len(x) if N is None else N
    dtype = np.promote_types(_dtype(x), int)
    columns = [np.ones(np.shape(x), dtype)] if n > 0 else []
    if n > 1:
        power = x.astype(dtype)
        columns.append(power)
        for _ in range(2, n):
            power = power * x
            columns.append(power)
    if not columns:
        return np.zeros((len(x), 0), dtype)
    return np.stack(columns if increasing else columns[::-1], axis=1)


@composition(np.poly)
def poly(seq_of_zeros):
    """NumPy's product of the factors ``[1, -zero]`` by ``convolve``; a square matrix's
    characteristic polynomial through ``eigvals`` (no derivative at repeated eigenvalues, as
    ``eig``); real when the zeros come in conjugate pairs."""
    seq_of_zeros = np.atleast_1d(_array(seq_of_zeros))
    sh = np.shape(seq_of_zeros)
    if len(sh) == 2 and sh[0] == sh[1] and sh[0] != 0:
        seq_of_zeros = np.linalg.eigvals(seq_of_zeros)
    elif len(sh) == 1:
        seq_of_zeros = seq_of_zeros.astype(np.mintypecode(_dtype(seq_of_zeros).char))
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if len(seq_of_zeros) == 0:
        return 1.0
    dt = _dtype(seq_of_zeros)
    a = np.ones((1,), dt)
    for i in range(len(seq_of_zeros)):
        factor = np.concatenate([np.ones((1,), dt), -seq_of_zeros[i : i + 1]])
        a = np.convolve(a, factor, mode="full")
    if dt.kind == "c":
        roots = seq_of_zeros
        if np.all(np.sort(roots) == np.sort(RULES["conjugate"].function(roots))):
            a = np.copy(np.real(a))
    return a


def _poly1d_coefficients(c: Any) -> Any:
    """The coefficients as ``numpy.poly1d`` keeps them: leading zeros dropped (with their
    derivatives: the product's degree is read from the values), at least one."""
    c = np.atleast_1d(_array(c))
    if np.ndim(c) > 1:
        raise ValueError("Polynomial must be 1d only.")
    trimmed = trim_zeros(c, trim="f")
    return trimmed if np.shape(trimmed)[0] else np.zeros((1,), _dtype(c))


@composition(np.polymul)
def polymul(a1, a2):
    """``convolve`` of the coefficients, leading zeros dropped first as ``poly1d`` drops them."""
    if isinstance(a1, np.poly1d) or isinstance(a2, np.poly1d):
        raise TypeError("numpy.polymul of numpy.poly1d on dual numbers: pass the coefficients")
    return np.convolve(_poly1d_coefficients(a1), _poly1d_coefficients(a2))


@composition(np.polydiv)
def polydiv(u, v):
    """NumPy's long division; the remainder's leading entries that ``allclose`` finds zero (the
    ones each step cancels) are dropped with their derivatives."""
    if isinstance(u, np.poly1d) or isinstance(v, np.poly1d):
        raise TypeError("numpy.polydiv of numpy.poly1d on dual numbers: pass the coefficients")
    u = np.atleast_1d(_array(u)) + 0.0
    v = np.atleast_1d(_array(v)) + 0.0
    w = u[0] + v[0]
    dtype = _dtype(w)
    m, n = len(u) - 1, len(v) - 1
    scale = 1.0 / v[0]
    r = [u[i] + _zero(w) for i in range(m + 1)]
    q = []
    for k in range(m - n + 1):
        d = scale * r[k]
        q.append(d)
        for j in range(n + 1):
            r[k + j] = r[k + j] - d * v[j]
    q = np.stack(q) if q else np.zeros((1,), dtype)
    r = np.stack(r)
    while np.allclose(r[0], 0, rtol=1e-14) and np.shape(r)[-1] > 1:
        r = r[1:]
    return q, r


@composition(np.roots)
def roots(p):
    """The eigenvalues of NumPy's companion matrix (leading and trailing zeros stripped, the
    trailing ones giving roots at 0). A repeated root has no derivative: ``eigvals`` raises there,
    as ``eig`` does."""
    p = np.atleast_1d(_array(p))
    if np.ndim(p) != 1:
        raise ValueError("Input must be a rank-1 array.")
    non_zero = np.nonzero(np.ravel(p))[0]
    if len(non_zero) == 0:
        return np.array([])
    trailing_zeros = len(p) - int(non_zero[-1]) - 1
    p = p[int(non_zero[0]) : int(non_zero[-1]) + 1]
    if _dtype(p).kind not in "fc":
        p = p.astype(float)
    n = len(p)
    if n > 1:
        first = np.reshape(-p[1:] / p[0], (1, n - 1))
        below = np.diag(np.ones((n - 2,), _dtype(p)), -1)[1:]
        r = np.linalg.eigvals(np.concatenate([first, below + _zero(first)]))
    else:
        r = np.array([])
    return np.concatenate([r, np.zeros(trailing_zeros, _dtype(r))])


# -- sequences and statistics -----------------------------------------------------------------


@composition(np.logspace)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop)``, as NumPy computes it (``base`` may carry a derivative)."""
    if not isinstance(base, (float, int)) and np.ndim(base):
        ndmax = len(np.broadcast_shapes(np.shape(start), np.shape(base), np.shape(stop)))

        def lifted(a):
            a = _array(a) if is_dual(a) or isinstance(a, (list, tuple)) else np.asarray(a)
            return np.reshape(a, (1,) * (ndmax - np.ndim(a)) + np.shape(a))

        start, stop, base = lifted(start), lifted(stop), lifted(base)
        base = np.expand_dims(base, axis=axis)
    y = np.linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    if dtype is None:
        return np.power(base, y)
    return np.power(base, y).astype(dtype, copy=False)


@composition(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """NumPy's algorithm: ``logspace`` of the logarithms (start rotated onto the positive real
    axis by its sign), with ``start`` and ``stop`` themselves as the end samples."""
    start = _array(start) if is_dual(start) else np.asanyarray(start)
    stop = _array(stop) if is_dual(stop) else np.asanyarray(stop)
    if np.any(start == 0) or np.any(stop == 0):
        raise ValueError("Geometric sequence cannot include zero")
    dt = np.result_type(_dtype(start), _dtype(stop), float(num), np.zeros((), dtype))
    dtype = dt if dtype is None else np.dtype(dtype)
    start, stop = start.astype(dt), stop.astype(dt)
    out_sign = np.sign(start)
    start = start / out_sign
    stop = stop / out_sign
    result = logspace(np.log10(start), np.log10(stop), num=num, endpoint=endpoint, base=10.0,
                      dtype=dt)  # fmt: skip
    if num > 0:
        shape = np.shape(result)[1:]
        first = np.expand_dims(np.broadcast_to(start, shape), 0)
        if num > 1 and endpoint:
            last = np.expand_dims(np.broadcast_to(stop, shape), 0)
            result = np.concatenate([first, result[1:-1], last])
        else:
            result = np.concatenate([first, result[1:]])
    result = result * out_sign
    if axis != 0:
        result = np.moveaxis(result, 0, axis)
    return result.astype(dtype, copy=False)


@composition(getattr(np, "cumulative_prod", None))  # NumPy 2.1
def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """``cumprod`` (exact at zeros, as ``cumprod``), with a leading 1 when ``include_initial``."""
    _refuse("cumulative_prod", out=out)
    if axis is None:
        if np.ndim(x) != 1:
            raise ValueError("For arrays which have more than one dimension ``axis`` argument "
                             "is required.")  # fmt: skip
        axis = 0
    y = np.cumprod(x, axis=axis, dtype=dtype)
    if include_initial:
        axis = normalize_axis_index(axis, np.ndim(x))
        shape = list(np.shape(y))
        shape[axis] = 1
        y = np.concatenate([np.ones(tuple(shape), _dtype(y)), y], axis=axis)
    return y


def _cov_weights(w: Any, name: str, n: int, integer: bool) -> Any:
    w = _array(w) if is_dual(w) else np.asarray(w, dtype=float)
    if integer and not np.all(w == np.around(w)):
        raise TypeError("fweights must be integer")
    if np.ndim(w) > 1:
        raise RuntimeError(f"cannot handle multidimensional {name}")
    if np.shape(w)[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {name}")
    if np.any(w < 0):
        raise ValueError(f"{name} cannot be negative")
    return w


@composition(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=np._NoValue):
    """NumPy's algorithm: ``sum(a w) / sum(w)`` along ``axis`` (1-d weights laid along it), the
    mean without weights. The weights may carry derivatives too (``softmax(z)`` as weights)."""
    a = _plain(a)
    keep = {} if keepdims is np._NoValue else {"keepdims": keepdims}
    if weights is None:
        avg = np.mean(a, axis=axis, **keep)
        scale = np.size(a) / max(np.size(avg), 1)
        return (avg, np.full(np.shape(avg), scale, _dtype(avg))) if returned else avg
    w = _plain(weights)
    if np.shape(a) != np.shape(w):
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if np.ndim(w) != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        axis = normalize_axis_index(axis, np.ndim(a))
        if np.shape(w)[0] != np.shape(a)[axis]:
            raise ValueError(
                "Shape of weights must be consistent with shape of a along specified axis."
            )
        w = np.reshape(w, (-1,) + (1,) * (np.ndim(a) - axis - 1))  # (broadcast along axis)
    scale = np.sum(
        np.broadcast_to(w, np.broadcast_shapes(np.shape(a), np.shape(w))), axis=axis, **keep
    )
    if np.any(scale == 0.0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    avg = np.sum(a * w, axis=axis, **keep) / scale
    if returned:
        return avg, np.broadcast_to(scale, np.shape(avg)) * 1.0
    return avg


@composition(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):  # fmt: skip
    """NumPy's algorithm: rows centred on their (weighted) mean, ``dot(X, X^H) / fact``."""
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = _array(m) if is_dual(m) or isinstance(m, (list, tuple)) else np.asarray(m)
    if np.ndim(m) > 2:
        raise ValueError("m has more than 2 dimensions")
    if y is not None:
        y = _array(y) if is_dual(y) or isinstance(y, (list, tuple)) else np.asarray(y)
        if np.ndim(y) > 2:
            raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        kinds = [_dtype(m)] + ([] if y is None else [_dtype(y)])
        dtype = np.result_type(*kinds, np.float64)
    _dtype_ok("cov", dtype)
    X = np.atleast_2d(m).astype(dtype)
    if not rowvar and np.ndim(m) != 1:
        X = X.T
    if np.shape(X)[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        y = np.atleast_2d(y).astype(dtype)
        if not rowvar and np.shape(y)[0] != 1:
            y = y.T
        X = np.concatenate((X, y), axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    n = np.shape(X)[1]
    w = None
    if fweights is not None:
        w = fweights = _cov_weights(fweights, "fweights", n, True)
    if aweights is not None:
        aweights = _cov_weights(aweights, "aweights", n, False)
        w = aweights if w is None else w * aweights
    if w is None:  # NumPy's average: the mean
        avg = np.mean(X, axis=1)
        fact = n - ddof
    else:
        w_sum = np.sum(w, dtype=np.result_type(_dtype(X), _dtype(w)))
        avg = np.sum(X * w, axis=1) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * np.sum(w * aweights) / w_sum
    if fact <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    X = X - avg[:, None]
    X_T = X.T if w is None else (X * w).T
    if _dtype(X_T).kind == "c":
        X_T = RULES["conjugate"].function(X_T)
    c = np.dot(X, X_T)
    with np.errstate(divide="ignore"):
        c = _like(c * np.true_divide(1, fact), c)  # (NumPy's c *= keeps c's dtype)
    return np.squeeze(c)


@composition(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """``cov`` over the outer product of the standard deviations, clipped to [-1, 1] as NumPy
    does (at a bound the derivative is shared as ``clip`` shares it)."""
    c = cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return c / c
    d = np.diagonal(c)
    stddev = RULES["sqrt"].function(np.real(d))
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    if _dtype(c).kind == "c":
        raise TypeError("numpy.corrcoef of complex dual numbers is not supported (NumPy clips "
                        "the real and imaginary parts in place)")  # fmt: skip
    return np.clip(c, -1, 1)


@composition(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """NumPy's corrections: multiples of ``period`` added where a step exceeds ``discont``. They
    are locally constant, so the derivative is ``p``'s own on either side of a jump (also at a
    step of exactly ``period/2``, where only the value jumps)."""
    p = _array(p)
    dd = np.diff(p, axis=axis)
    if discont is None:
        discont = period / 2
    dtype = np.result_type(_dtype(dd), period)
    if dtype.kind in "iu":
        interval_high, rem = divmod(period, 2)
        boundary_ambiguous = rem == 0
    else:
        interval_high = period / 2
        boundary_ambiguous = True
    interval_low = -interval_high
    ddmod = np.mod(dd - interval_low, period) + interval_low
    if boundary_ambiguous:  # NumPy writes +period/2 there; plus period keeps the tangent
        ddmod = np.where((ddmod == interval_low) & (dd > 0), ddmod + period, ddmod)
    ph_correct = ddmod - dd
    ph_correct = np.where(abs(dd) < discont, np.zeros((), _dtype(ph_correct)), ph_correct)
    axis = normalize_axis_index(axis, np.ndim(p))
    head = [slice(None)] * np.ndim(p)
    tail = list(head)
    head[axis], tail[axis] = slice(None, 1), slice(1, None)
    rest = p[tuple(tail)] + np.cumsum(ph_correct, axis)
    return np.concatenate([p[tuple(head)].astype(dtype), rest.astype(dtype)], axis=axis)


# -- functions that call others ---------------------------------------------------------------


@composition(np.apply_along_axis)
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` on each 1-D slice, the results stacked where the axis was (in the first
    result's dtype, as NumPy's buffer)."""
    arr = _array(arr)
    nd = np.ndim(arr)
    axis = normalize_axis_index(axis, nd)
    inarr = np.moveaxis(arr, axis, -1)
    outer = np.shape(inarr)[:-1]
    if math.prod(outer) == 0:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [func1d(inarr[index], *args, **kwargs) for index in np.ndindex(outer)]
    first = results[0]
    dtype = _dtype(first) if is_dual(first) else np.asanyarray(first).dtype
    shape = np.shape(first)
    stacked = np.stack([r if is_dual(r) else np.asarray(r) for r in results])
    if _dtype(stacked) != dtype:
        stacked = stacked.astype(dtype)
    buff = np.reshape(stacked, outer + shape)
    rest = list(range(len(outer), len(outer) + len(shape)))
    order = list(range(axis)) + rest + list(range(axis, len(outer)))
    return np.transpose(buff, order)


@composition(np.apply_over_axes)
def apply_over_axes(func, a, axes):
    """``func(a, axis)`` over each axis in turn, a removed axis put back as length one."""
    val = _array(a)
    n = np.ndim(a)
    if np.ndim(axes) == 0:
        axes = (axes,)
    for axis in axes:
        if axis < 0:
            axis = n + axis
        res = func(val, axis)
        if np.ndim(res) == np.ndim(val):
            val = res
        else:
            res = np.expand_dims(res, axis)
            if np.ndim(res) == np.ndim(val):
                val = res
            else:
                raise ValueError("function is not returning an array of the correct shape")
    return val


@composition(np.choose)
def choose(a, choices, out=None, mode="raise"):
    """``choices[a]`` entry by entry (each entry keeps the derivative of the choice it took);
    ``a`` is read for its values."""
    _refuse("choose", out=out)
    if is_dual(a):
        raise TypeError("numpy.choose: a holds indices and must not carry a derivative")
    a = np.asarray(a)
    if a.dtype.kind not in "iub":
        raise TypeError("numpy.choose: a must be an array of integers")
    choices = list(choices) if isinstance(choices, (list, tuple)) else [
        choices[i] for i in range(np.shape(choices)[0])
    ]  # fmt: skip
    n = len(choices)
    if mode == "raise":
        if np.any((a < 0) | (a >= n)):
            raise ValueError("invalid entry in choice array")
    elif mode == "wrap":
        a = a % n
    elif mode == "clip":
        a = np.clip(a, 0, n - 1)
    else:
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    # NumPy's dtype: the choices' (Python numbers weak)
    dtype = np.result_type(*(c if type(c) in (int, float, complex) else _dtype(_plain(c))
                             for c in choices))  # fmt: skip
    choices = [_plain(c) for c in choices]
    shape = np.broadcast_shapes(np.shape(a), *[np.shape(c) for c in choices])
    stacked = np.stack([np.broadcast_to(c, shape) for c in choices])
    if _dtype(stacked) != dtype:
        stacked = stacked.astype(dtype)
    index = np.broadcast_to(a.astype(np.intp), (1,) + shape)
    return np.take_along_axis(stacked, index, axis=0)[0]


_I0_TABLE = np.lib._function_base_impl


@composition(np.i0)
def i0(x):
    """NumPy's Chebyshev expansions of ``I0(|x|)`` (``|x|``'s derivative 0 at 0: ``I0`` is
    even), each on its side of 8 (at 8 the first, as NumPy's)."""
    x = _array(x)
    if _dtype(x).kind == "c":
        raise TypeError("i0 not supported for complex values")
    if _dtype(x).kind != "f":
        x = x.astype(float)
    x = abs(x)

    def chbevl(t, vals):
        b0, b1, b2 = vals[0], 0.0, 0.0
        for value in vals[1:]:
            b2, b1 = b1, b0
            b0 = t * b1 - b2 + value
        return 0.5 * (b0 - b2)

    def near(t):
        return np.exp(t) * chbevl(t / 2.0 - 2, _I0_TABLE._i0A)

    def far(t):
        return np.exp(t) * chbevl(32.0 / t - 2.0, _I0_TABLE._i0B) / RULES["sqrt"].function(t)

    # NumPy's piecewise: each expansion on its side of 8 (the other side fed a harmless point),
    # written into an array of x's dtype
    small = x <= 8.0
    y = np.where(small, near(np.where(small, x, 0.0)), far(np.where(small, 32.0, x)))
    return y.astype(_dtype(x)) if _dtype(y) != _dtype(x) else y


# -- conversions and trimming -----------------------------------------------------------------


@composition(np.real_if_close)
def real_if_close(a, tol=100):
    """``a.real`` (a view, as NumPy's) when every imaginary part is below ``tol``, else ``a``
    (of a scalar: a 0-d array, as NumPy's)."""
    if np.ndim(a) == 0:  # (a scalar dual becomes a 0-d array; a 0-d array a view of itself)
        a = np.reshape(np.atleast_1d(a), ())
    dtype = _dtype(a)
    if dtype.kind != "c":
        return a
    if tol > 1:
        tol = np.finfo(dtype).eps * tol
    if np.all(abs(np.imag(a)) < tol):
        return np.real(a)
    return a


@composition(np.sort_complex)
def sort_complex(a):
    """Sorted along the last axis (real parts first, then imaginary), as complex numbers."""
    b = np.sort(_array(a))
    dtype = _dtype(b)
    if dtype.kind == "c":
        return b
    return b.astype("F" if dtype.char in "bhBH" else "G" if dtype.char == "g" else "D")


@composition(getattr(np, "astype", None))  # NumPy 2.1
def astype(x, dtype, /, *, copy=True, device=None):
    """``x.astype(dtype)`` (NumPy's function form)."""
    _refuse("astype", device=device)
    return x.astype(dtype, copy=copy)


@composition(np.trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    """``filt`` sliced to its non-zero entries' bounding box (a view, as NumPy's); the bounds are
    read from the values."""
    trim = trim.lower()
    if trim not in {"fb", "bf", "f", "b"}:
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    nd = np.ndim(filt)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(normalize_axis_index(a, nd) for a in (axis if np.ndim(axis) else (axis,)))
    if not axes:
        return filt
    nonzero = np.argwhere(filt != 0)
    if len(nonzero) == 0:
        start = stop = np.zeros(nd, np.intp)
    else:
        start, stop = nonzero.min(axis=0), nonzero.max(axis=0) + 1
        if "f" not in trim:
            start = (None,) * nd
        if "b" not in trim:
            stop = (None,) * nd
    sl = tuple(slice(start[i], stop[i]) if i in axes else slice(None) for i in range(nd))
    return filt[sl[0]] if len(sl) == 1 else filt[sl]


# -- unique values and set operations: equal entries merged, their derivative shared evenly -----


def _sorted_groups(a: Any, equal_nan: bool) -> tuple[Any, Any, Any]:
    """``a`` flattened and sorted (stably), the order, and where each run of equal entries
    starts (NumPy's ``mask``: NaNs one run when ``equal_nan``)."""
    flat = np.ravel(a)
    perm = np.argsort(flat, kind="stable")
    aux = np.take(flat, perm)
    n = np.shape(aux)[0]
    if n == 0:
        return aux, perm, np.zeros(0, bool)
    differs = aux[1:] != aux[:-1]
    mask = np.concatenate([np.ones(1, bool), differs])
    if equal_nan and _dtype(aux).kind in "fc":
        missing = np.isnan(aux)
        if missing[n - 1]:
            first_nan = int(np.argmax(missing))
            rest = np.zeros(n - first_nan - 1, bool)
            mask = np.concatenate([mask[:first_nan], np.ones(1, bool), rest])
    return aux, perm, mask


def _merged(aux: Any, mask: Any) -> Any:
    """One entry per run of equal sorted entries: its value NumPy's (the run's first), its
    derivative the mean of the run's (ties shared evenly, as ``max`` shares them)."""
    group = np.cumsum(mask) - 1
    first = aux[mask]
    counts = np.bincount(group)
    if np.all(counts == 1):
        return first
    m = np.take(first, group)
    dtype = _dtype(aux)
    weights = (1.0 / counts[group]).astype(np.finfo(dtype).dtype if dtype.kind in "fc" else float)
    # first - (the run's sum of w (m - a)): the value stays first exactly (each m - a is 0), the
    # tangent becomes the run's mean; an infinite or NaN run keeps its first entry's
    gap = np.where(np.isfinite(m), m - aux, _zero(aux)) * weights
    ends = np.cumsum(gap)[np.concatenate([np.flatnonzero(mask)[1:] - 1, [len(group) - 1]])]
    share = ends - np.concatenate([_zero(ends)[None], ends[:-1]])
    return first - share


_UNIQUE_ALL = type(np.unique_all(np.zeros(1)))
_UNIQUE_COUNTS = type(np.unique_counts(np.zeros(1)))
_UNIQUE_INVERSE = type(np.unique_inverse(np.zeros(1)))


@composition(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True):  # fmt: skip
    """The sorted distinct values, each with the mean derivative of the entries equal to it
    (NumPy merges them; ties share the derivative evenly, as ``max`` shares them). Where 0.0 and
    -0.0 merge, the first in the input is kept (NumPy's unstable sort keeps either)."""
    ar = _array(ar)
    if axis is not None:
        if np.ndim(ar) != 1:
            raise TypeError("numpy.unique(axis=...) of a multidimensional array on dual numbers "
                            "is not supported; use axis=None")  # fmt: skip
        normalize_axis_index(axis, 1)
    if not sorted and _dtype(ar).kind == "c" and not (return_index or return_inverse
                                                       or return_counts):  # fmt: skip
        raise TypeError("numpy.unique(sorted=False) of complex dual numbers is not supported "
                        "(NumPy's order is its hash table's); use sorted=True")  # fmt: skip
    aux, perm, mask = _sorted_groups(ar, equal_nan)
    ret = (_merged(aux, mask),)
    if return_index:
        ret += (perm[mask],)
    if return_inverse:
        inverse = np.empty(mask.shape, dtype=np.intp)
        inverse[perm] = np.cumsum(mask) - 1
        ret += (inverse.reshape(np.shape(ar)),)
    if return_counts:
        ret += (np.diff(np.concatenate(np.nonzero(mask) + ([mask.size],))),)
    return ret[0] if len(ret) == 1 else ret


@composition(np.unique_values)
def unique_values(x):
    """``unique(x, equal_nan=False)`` (NaNs stay distinct)."""
    return unique(x, equal_nan=False, sorted=False)


@composition(np.unique_counts)
def unique_counts(x):
    """``unique(x, return_counts=True, equal_nan=False)`` as NumPy's named tuple."""
    return _UNIQUE_COUNTS(*unique(x, return_counts=True, equal_nan=False))


@composition(np.unique_inverse)
def unique_inverse(x):
    """``unique(x, return_inverse=True, equal_nan=False)`` as NumPy's named tuple."""
    return _UNIQUE_INVERSE(*unique(x, return_inverse=True, equal_nan=False))


@composition(np.unique_all)
def unique_all(x):
    """``unique`` with every index and count, ``equal_nan=False``, as NumPy's named tuple."""
    return _UNIQUE_ALL(*unique(x, True, True, True, equal_nan=False))


def _flat(a: Any) -> Any:
    return np.ravel(_array(a) if is_dual(a) or isinstance(a, (list, tuple)) else np.asarray(a))


@composition(np.union1d)
def union1d(ar1, ar2):
    """``unique`` of both together: a value in both takes the mean derivative of all its
    entries."""
    return unique(np.concatenate((_flat(ar1), _flat(ar2))))


@composition(np.intersect1d)
def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    """The values in both, each with the mean derivative of all the entries equal to it (in
    either array: a tie shared evenly, as ``max`` shares it). With ``assume_unique`` NumPy's
    pairs of equal sorted neighbours, each value the mean of its pair's."""
    a1, a2 = _flat(ar1), _flat(ar2)
    n1 = np.shape(a1)[0]
    if assume_unique:  # NumPy's pairs of equal neighbours (each pair shares evenly)
        both = np.concatenate((a1, a2))
        perm = np.argsort(both, kind="stable")
        aux = np.take(both, perm)
        pair = aux[1:] == aux[:-1]
        lo, hi = aux[:-1][pair], aux[1:][pair]
        values = lo - np.where(np.isfinite(lo), lo - hi, _zero(lo)) * 0.5
        if return_indices:
            return values, perm[:-1][pair], perm[1:][pair] - n1
        return values
    aux, perm, mask = _sorted_groups(np.concatenate((a1, a2)), False)
    group = np.cumsum(mask) - 1
    groups = int(group[-1]) + 1 if len(group) else 0
    in1 = np.bincount(group[perm < n1], minlength=groups) > 0
    in2 = np.bincount(group[perm >= n1], minlength=groups) > 0
    both = in1 & in2
    values = _merged(aux, mask)[both]
    if not return_indices:
        return values
    # each run's first entry of either array (the sort is stable: ar1's come first)
    starts = np.flatnonzero(mask)
    first1 = perm[starts]
    first2 = np.minimum.reduceat(np.where(perm >= n1, np.arange(len(perm)), len(perm)), starts)
    return values, first1[both], perm[first2[both]] - n1


@composition(np.setdiff1d)
def setdiff1d(ar1, ar2, assume_unique=False):
    """The values of ``ar1`` not in ``ar2``, each with the mean derivative of its entries in
    ``ar1`` (``ar2`` is read for its values)."""
    if assume_unique:
        a1 = _flat(ar1)
        return a1[~np.isin(a1, ar2, assume_unique=True)]
    u1 = unique(ar1)
    return u1[~np.isin(u1, ar2)]


@composition(np.setxor1d)
def setxor1d(ar1, ar2, assume_unique=False):
    """The values in exactly one of the arrays, each with the mean derivative of its entries."""
    if not assume_unique:
        ar1, ar2 = unique(ar1), unique(ar2)
    aux = np.sort(np.concatenate((_flat(ar1), _flat(ar2))))
    if np.shape(aux)[0] == 0:
        return aux
    flag = np.concatenate(([True], aux[1:] != aux[:-1], [True]))
    return aux[flag[1:] & flag[:-1]]


# -- histograms: counts from the values, linear in the weights ----------------------------------

builtins_range = range  # (the histograms' parameter ``range`` hides it)
_BLOCK = 65536  # NumPy's block of samples (its sums are added block by block)


def _plain(a: Any) -> Any:
    return _array(a) if is_dual(a) or isinstance(a, (list, tuple)) else np.asarray(a)


def _outer_edges(a: Any, range: Any) -> tuple[Any, Any]:
    """NumPy's first and last edge: ``range``, or the smallest and largest sample (carrying
    their derivatives: a tie shares it as ``min`` and ``max`` do), widened by 0.5 if equal."""
    if range is not None:
        first, last = range
        if first > last:
            raise ValueError("max must be larger than min in range parameter.")
        if not (np.isfinite(first) and np.isfinite(last)):
            raise ValueError(f"supplied range of [{first}, {last}] is not finite")
    elif np.size(a) == 0:
        first, last = 0, 1
    else:
        first, last = np.min(a), np.max(a)
        if not (np.isfinite(first) and np.isfinite(last)):
            raise ValueError(f"autodetected range of [{first}, {last}] is not finite")
    if first == last:
        first, last = first - 0.5, last + 0.5
    return first, last


def _bin_edges(a: Any, bins: Any, range: Any, weights: Any, name: str) -> Any:
    """NumPy's edges of ``histogram`` (``a`` flat): equal bins over the samples' own range move
    with the extreme samples; given edges or a given range are constants."""
    if isinstance(bins, str):
        if is_dual(a):
            raise TypeError(
                f"numpy.{name}(bins={bins!r}) of dual samples is not supported (the number of "
                "bins is estimated from the values); pass the number of bins or the edges"
            )
        return np.histogram_bin_edges(a, bins, range, weights)  # plain samples: NumPy's own
    if np.ndim(bins) == 0:
        try:
            n = operator.index(bins)
        except TypeError as e:
            raise TypeError("`bins` must be an integer, a string, or an array") from e
        if n < 1:
            raise ValueError("`bins` must be positive, when an integer")
        first, last = _outer_edges(a, range)
        bin_type = np.result_type(*(_dtype(e) if is_dual(e) else e for e in (first, last)),
                                  _dtype(a))  # fmt: skip
        if bin_type.kind in "iub":
            bin_type = np.result_type(bin_type, float)
        edges = np.linspace(first, last, n + 1, endpoint=True, dtype=bin_type)
        if np.any(edges[:-1] >= edges[1:]):
            raise ValueError(f"Too many bins for data range. Cannot create {n} finite-sized bins.")
        return edges
    if np.ndim(bins) == 1:
        edges = np.asarray(bins)
        if np.any(edges[:-1] > edges[1:]):
            raise ValueError("`bins` must increase monotonically, when an array")
        return edges
    raise ValueError("`bins` must be 1d, when an array")


@composition(np.histogram_bin_edges)
def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """NumPy's edges: equal bins over the samples' own range are ``linspace(min, max)`` and
    move with the extreme samples (a tie shares as ``max`` does); given edges or a given
    ``range`` are constants."""
    a = np.ravel(_plain(a))
    if weights is not None and np.shape(_plain(weights)) != np.shape(a):
        raise ValueError("weights should have the same shape as a.")
    return _bin_edges(a, bins, range, weights, "histogram_bin_edges")


@composition(np.histogram)
def histogram(a, bins=10, range=None, density=None, weights=None):
    """NumPy's counts (or sums of ``weights``: linear in them) per bin; which bin a sample falls
    in is read from the values (piecewise constant). Equal bins over the samples' own range move
    with the smallest and largest sample (``histogram_bin_edges``), and so do ``density``'s
    widths."""
    a = _plain(a)
    shape = np.shape(a)
    a = np.ravel(a)
    if _dtype(a) == np.bool_:
        a = a.astype(np.uint8)
    if weights is not None:
        weights = _plain(weights)
        if np.shape(weights) != shape:
            raise ValueError("weights should have the same shape as a.")
        weights = np.ravel(weights)
        if _dtype(weights).kind == "c":
            raise TypeError("numpy.histogram with complex weights on dual numbers is not "
                            "supported; pass the real and imaginary parts separately")  # fmt: skip
    edges = _bin_edges(a, bins, range, weights, "histogram")
    uniform = isinstance(bins, str) or np.ndim(bins) == 0
    ntype = np.dtype(np.intp) if weights is None else _dtype(weights)
    nbins = len(edges) - 1
    if uniform:  # (which bin: read from the values, as the edges')
        n = np.zeros(nbins, ntype)
        for i in builtins_range(0, np.shape(a)[0], _BLOCK):
            tmp_a = a[i : i + _BLOCK]
            keep = (tmp_a >= edges[0]) & (tmp_a <= edges[-1])
            index = np.searchsorted(edges, tmp_a.astype(_dtype(edges)), side="right") - 1
            index = np.minimum(index, nbins - 1)[keep]
            tmp_w = None if weights is None else weights[i : i + _BLOCK][keep]
            n = n + np.bincount(index, weights=tmp_w, minlength=nbins).astype(ntype)
    else:
        cum_n = np.zeros(edges.shape, ntype)
        zero = np.zeros(1, dtype=ntype)
        for i in builtins_range(0, np.shape(a)[0], _BLOCK):
            tmp_a = a[i : i + _BLOCK]
            order = np.argsort(tmp_a)
            sa = np.take(tmp_a, order)
            at = np.concatenate((np.searchsorted(sa, edges[:-1], "left"),
                                 np.searchsorted(sa, edges[-1:], "right")))  # fmt: skip
            if weights is None:
                cum_n = cum_n + at
            else:
                sw = np.take(weights[i : i + _BLOCK], order)
                cum_n = cum_n + np.concatenate((zero, np.cumsum(sw)))[at]
        n = np.diff(cum_n)
    if density:
        db = np.diff(edges).astype(float)
        return n / db / np.sum(n), edges
    return n, edges


@composition(np.histogramdd)
def histogramdd(sample, bins=10, range=None, density=None, weights=None):
    """NumPy's counts (or sums of ``weights``, linear in them) per cell, the cells read from the
    values; a dimension's equal bins over its samples' own range move with its extreme samples
    (and so do ``density``'s widths)."""
    if isinstance(sample, (list, tuple)):
        sample = np.stack([_plain(s) for s in sample]).T
    elif np.ndim(sample) < 2:
        sample = np.atleast_2d(sample).T
    N, D = np.shape(sample)
    if weights is not None:
        weights = _plain(weights)
    try:
        if len(bins) != D:
            raise ValueError("The dimension of bins must be equal to the dimension of the "
                             "sample x.")  # fmt: skip
    except TypeError:
        bins = D * [bins]
    if range is None:
        range = (None,) * D
    elif len(range) != D:
        raise ValueError("range argument must have one entry per dimension")
    edges, nbin = [], []
    for i in builtins_range(D):
        if np.ndim(bins[i]) == 0:
            if bins[i] < 1:
                raise ValueError(f"`bins[{i}]` must be positive, when an integer")
            first, last = _outer_edges(sample[:, i], range[i])
            try:
                n = operator.index(bins[i])
            except TypeError as e:
                raise TypeError(f"`bins[{i}]` must be an integer, when a scalar") from e
            edges.append(np.linspace(first, last, n + 1))
        elif np.ndim(bins[i]) == 1:
            edges.append(np.asarray(bins[i]))
            if np.any(edges[i][:-1] > edges[i][1:]):
                raise ValueError(f"`bins[{i}]` must be monotonically increasing, when an array")
        else:
            raise ValueError(f"`bins[{i}]` must be a scalar or 1d array")
        nbin.append(len(edges[i]) + 1)
    count = []
    for i in builtins_range(D):  # (which cell: read from the values)
        index = np.searchsorted(edges[i], sample[:, i], side="right")
        count.append(index - (sample[:, i] == edges[i][-1]))
    xy = np.ravel_multi_index(tuple(count), nbin)
    hist = np.bincount(xy, weights, minlength=int(np.prod(nbin)))
    hist = np.reshape(hist, tuple(nbin)).astype(float)
    hist = hist[D * (slice(1, -1),)]
    if density:
        s = np.sum(hist)
        for i in builtins_range(D):
            shape = [1] * D
            shape[i] = nbin[i] - 2
            hist = hist / np.reshape(np.diff(edges[i]), shape)
        hist = hist / s
    return hist, edges


@composition(np.histogram2d)
def histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    """``histogramdd([x, y], ...)``, as NumPy computes it."""
    if len(x) != len(y):
        raise ValueError("x and y must have the same length.")
    try:
        N = len(bins)
    except TypeError:
        N = 1
    if N not in {1, 2}:
        bins = [np.asarray(bins), np.asarray(bins)]
    hist, edges = histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]


# -- numpy.emath: complex results where the real function has none -----------------------------

_SINGLE_COMPLEX = frozenset(np.dtype(t) for t in ("f4", "c8", "i1", "i2", "u1", "u2"))


def _to_complex_where(x: Any, outside: Any) -> Any:
    """``x`` cast to complex, as NumPy's ``emath`` casts it (complex64 from float32 and small
    integers, complex128 else), when some real entry is ``outside`` the real domain; else
    ``x``. The whole array is cast or none of it: its dtype depends on the values, as NumPy's."""
    x = _array(x)
    dtype = _dtype(x)
    if dtype.kind != "c" and np.any(outside(x)):
        return x.astype(np.complex64 if dtype in _SINGLE_COMPLEX else np.complex128)
    return x


def _negative(x: Any) -> Any:
    return x < 0


def _beyond_one(x: Any) -> Any:
    return abs(x) > 1


def _emath(ufunc: np.ufunc, outside: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def body(x: Any) -> Any:
        return ufunc(_to_complex_where(x, outside))

    body.__doc__ = (
        f"``np.{ufunc.__name__}`` of ``x``, complex where a real entry is outside its real domain."
    )
    return body


for _ufunc in (np.sqrt, np.log, np.log2, np.log10):
    composition(getattr(np.emath, _ufunc.__name__))(_emath(_ufunc, _negative))
for _ufunc in (np.arcsin, np.arccos, np.arctanh):
    composition(getattr(np.emath, _ufunc.__name__))(_emath(_ufunc, _beyond_one))


@composition(np.emath.logn)
def emath_logn(n: Any, x: Any) -> Any:
    """``log(x) / log(n)``, each complex where it has a negative entry (as NumPy's)."""
    return np.log(_to_complex_where(x, _negative)) / np.log(_to_complex_where(n, _negative))


@composition(np.emath.power)
def emath_power(x: Any, p: Any) -> Any:
    """``x**p`` with ``x`` complex where it has a negative entry, and an integer ``p`` with a
    negative entry made float (as NumPy's)."""
    x = _to_complex_where(x, _negative)
    p = _array(p)
    if _dtype(p).kind in "iu" and np.any(p < 0):
        p = p * 1.0
    return np.power(x, p)
