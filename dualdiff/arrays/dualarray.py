"""``DualArray``: a value array and a tangent array carried together through NumPy code.

Layout: the tangent always has a leading *direction* axis, ``tangent.shape == (k,) + value.shape``,
so one forward pass carries ``k`` directional derivatives (``k = 1`` for a plain JVP, ``k = n`` for
a whole Jacobian). Elementwise rules need nothing special for it: a partial of shape ``value.shape``
broadcasts against the tangent. Functions that move axes shift their axis arguments by one; the
helpers for that live here (``tangent_axis``, ``fit_tangent``, ``lift_tangent``).

The value may itself be a ``DualArray`` (or the tangent may be), for nested differentiation; the
outer layer always has the newest tag (see ``dualdiff.core.tags``).
"""

from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..core import errors
from ..core.methods import (
    EXTREME_UFUNCS,
    ArrayMethods,
    InPlaceOperators,
    at_rounds,
    extreme_at,
    is_basic_index,
)
from ..core.tags import USER_TAG, restore_state
from ..dual import objects
from ..dual import seed as _seed
from ..dual.dual import SCALAR_TYPES, Dual, _make, array_hooks
from ..dual.seed import IdentitySeed, tangent_of, value_of
from ..rules import functions as table
from ..rules.compositions import kept_where
from ..rules.elementwise import (
    MULTI_OUTPUT_UFUNCS,
    RULES,
    UFUNC_RULES,
    VALUE_UFUNCS,
    Rule,
    all_finite,
    extra_ufunc_rule,
    in_dtype,
    is_dual,
    lift_of,
    register_lift,
    safe_partial,
    scale,
    tangent_in,
    times,
)

__all__ = ["DualArray", "HANDLED_FUNCTIONS", "implements", "view_of"]

HANDLED_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""NumPy functions with a DualArray implementation of their own (filled by ``implements``, in
``dualdiff.arrays.functions`` and ``dualdiff.arrays.linalg``)."""

DERIVED_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""The handlers the function table's kinds give for the table's other functions (filled by
``dualdiff.arrays.functions`` when it is imported, with the package)."""

UFUNC_METHODS: dict[str, Callable[..., Any]] = {}
"""``ufunc.reduce`` and ``ufunc.accumulate`` on DualArrays (filled by
``dualdiff.arrays.functions``)."""

_new = object.__new__


def implements(*numpy_functions: Callable[..., Any]) -> Callable[..., Any]:
    """Register the decorated function as the DualArray version of the given NumPy functions."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        for function in numpy_functions:
            HANDLED_FUNCTIONS[function] = impl
        return impl

    return register


_NDARRAY = np.ndarray  # a module global: cheaper than np.ndarray's attribute lookup
_OBJECT = np.dtype(object)


def _make_array(value: Any, tangent: Any, tag: int, batched: bool) -> DualArray:
    """Build a DualArray without validation. A plain tangent array takes the value's dtype,
    NumPy's for the result (a partial from booleans is float64 in a float32 program, a float32
    seed meets a float64 constant ...)."""
    tt = type(tangent)
    if tt is _NDARRAY or tt is IdentitySeed:
        # an ndarray, a NumPy scalar or a nested dual
        dtype = value.dtype if type(value) is _NDARRAY else getattr(value, "dtype", None)
        if tangent.dtype is not dtype and dtype is not None and tangent.dtype != dtype:
            tangent = tangent_in(tangent, dtype)
    return _new_array(value, tangent, tag, batched)


def _new_array(value: Any, tangent: Any, tag: int, batched: bool) -> DualArray:
    """``_make_array`` for a tangent known to have the value's dtype (the hot path)."""
    d = _new(DualArray)
    d.value = value
    d.tangent_ = tangent
    d.tag = tag
    d.batched = batched
    d.base_ = d.views_ = None
    return d


def _float_array(a: Any, what: str) -> Any:
    """``a`` as a float or complex ndarray (integers and booleans promoted), or a DualArray."""
    if type(a) is DualArray:
        return a
    if type(a) is Dual:
        raise TypeError(f"DualArray {what} must be an array; use dualdiff.stack for Duals")
    arr = np.asarray(a)
    if arr.dtype.kind in "biu":
        arr = arr.astype(float)
    elif arr.dtype.kind not in "fc":
        raise TypeError(
            f"DualArray {what} must hold real or complex numbers, got dtype {arr.dtype}"
        )
    return arr


class DualArray(InPlaceOperators, ArrayMethods):
    """An array of dual numbers stored as a value array and a tangent array.

    It behaves like an ndarray: operators, indexing and item assignment, NumPy ufuncs and
    functions (``np.sin(x)``, ``np.linalg.solve(A, x)``), methods such as ``sum`` and ``reshape``.
    Comparisons give plain boolean arrays of the values. Indexing down to one element gives a
    :class:`Dual`. Views (basic slicing, ``reshape``, ``.T`` ...) share value and tangent memory as
    NumPy's views do.

    Parameters
    ----------
    value : array_like
        The values.
    tangent : array_like, optional
        The tangent: of the shape of ``value`` (one direction), or ``(k,) + value.shape`` with
        ``batched=True`` for ``k`` directions at once. Default zeros.
    tag : int, optional
        The perturbation's tag, as for :class:`Dual`.
    batched : bool, optional
        Whether ``tangent`` has a leading axis of directions.

    Raises
    ------
    TypeError
        ``np.asarray(x)``, ``float(x)`` or writing ``x`` into a float array: each would drop the
        tangent (use ``x.value``).

    See Also
    --------
    Dual, jacobian, push_forward

    Examples
    --------
    >>> x = dd.DualArray(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    >>> y = np.sin(x) * x
    >>> y.value, y.tangent  # x sin x, and sin x + x cos x
    (array([0.84147098, 1.81859485]), array([1.38177329, 0.07700375]))
    >>> y[1]  # one element is a Dual
    Dual(np.float64(1.8185948536513634), np.float64(0.07700375...))
    >>> both = dd.DualArray(np.array([1.0, 2.0]), np.eye(2), batched=True)  # 2 directions
    >>> (both**2).tangent  # the Jacobian of x**2, one direction per row
    array([[2., 0.],
           [0., 4.]])
    """

    # ``base_`` and ``views_`` (None on almost every array) link views of an array whose arrays
    # are copied on the first write (see ``view_of``). ``readonly_``, set only on the views
    # NumPy hands out read-only (np.diagonal, np.broadcast_to, ...; see ``read_only``), is
    # unset on every other array: read by ``getattr`` on the write paths alone.
    __slots__ = (
        "value",
        "tangent_",
        "tag",
        "batched",
        "base_",
        "views_",
        "readonly_",
        "__weakref__",
    )
    # unpickled in another process: that process's tag clock moves past this tag
    __setstate__ = restore_state

    __array_priority__ = 20.0

    def __init__(
        self, value: Any, tangent: Any = None, tag: int = USER_TAG, batched: bool = False
    ) -> None:
        value = _float_array(value, "value")
        shape = value.shape
        if tangent is None:
            if batched:
                raise ValueError("a batched DualArray needs its tangent array")
            t = np.zeros((1,) + shape, dtype=value.dtype if type(value) is np.ndarray else float)
        else:
            t = _float_array(tangent, "tangent")
            if type(t) is np.ndarray and type(value) is np.ndarray and t.dtype != value.dtype:
                t = tangent_in(t, value.dtype)  # the value's dtype, as every result's tangent
            expected = t.shape[1:] if batched else t.shape
            if expected != shape:
                kind = "(k,) + value.shape" if batched else "value.shape"
                raise ValueError(
                    f"DualArray tangent must have shape {kind}: value {shape}, tangent {t.shape}"
                )
            if not batched:
                t = t.reshape((1,) + shape)
        if type(tag) is not int:
            raise TypeError(f"DualArray tag must be an int, got {errors.type_name(tag)}")
        self.value = value
        self.tangent_ = t
        self.tag = tag
        self.batched = batched
        self.base_ = self.views_ = None

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        # pickled and deep-copied as an array of its own (the links to views stay behind)
        state = {"value": self.value, "tangent_": self.tangent_, "tag": self.tag}
        return None, {**state, "batched": self.batched, "base_": None, "views_": None}

    # -- the tangent as the user sees it ------------------------------------------------------

    @property
    def tangent(self) -> Any:
        """The tangent: shape ``value.shape``, or ``(k,) + value.shape`` when batched."""
        return self.tangent_ if self.batched else self.tangent_[0]

    @property
    def directions(self) -> int:
        """How many tangent directions this array carries (``k``)."""
        return self.tangent_.shape[0]

    # -- ndarray-like attributes -----------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @shape.setter
    def shape(self, shape: Any) -> None:
        # As ndarray's: in place, only where no copy is needed (a view of the same memory,
        # which the tangent must be as well, or the views taken before would part from it)
        if self.base_ is not None or self.views_:
            raise TypeError(
                "setting .shape of a DualArray that is linked to views of it (an array viewing "
                "the argument, or a view of such an array) is not supported; use "
                "x = x.reshape(shape)"
            )
        _writable(self)
        result = np.reshape(self, shape)
        if type(result) is not DualArray or result.base_ is not None:
            raise TypeError(
                "setting .shape of this DualArray is not supported (its value and tangent "
                "cannot both be viewed in the new shape); use x = x.reshape(shape)"
            )
        if self.size and not (
            same_memory(strip(result.value), strip(self.value))
            and same_memory(strip(result.tangent_), strip(self.tangent_))
        ):
            raise AttributeError(  # NumPy's error for an ndarray
                "Incompatible shape for in-place modification. Use `.reshape()` to make a copy "
                "with the desired shape."
            )
        self.value, self.tangent_ = result.value, result.tangent_

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def __len__(self) -> int:
        if self.value.ndim == 0:
            raise TypeError("len() of a 0-d DualArray")
        return self.value.shape[0]

    def __iter__(self) -> Iterator[Any]:
        if self.value.ndim == 0:
            raise TypeError("iteration over a 0-d DualArray")
        for i in range(self.value.shape[0]):
            yield self[i]

    def __repr__(self) -> str:
        value = np.array2string(strip(self.value), separator=", ", prefix="DualArray(")
        tangent = np.array2string(strip(self.tangent), separator=", ", prefix="DualArray(")
        extra = (f", tag={self.tag}" if self.tag != USER_TAG else "") + (
            ", batched=True" if self.batched else ""
        )
        return f"DualArray({value},\n          tangent={tangent}{extra})"

    def __bool__(self) -> bool:
        return bool(self.value)

    # -- conversions that would drop the tangent raise -----------------------------------------

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        # An object array of Duals, one per element, each with all k tangent directions (see
        # dualdiff.dual.objects). It is a copy: np.asarray(x), which NumPy would give as x itself,
        # is made read-only, so that a write meant for x fails loudly instead of being lost;
        # np.array(x) (copy=True) is a copy in NumPy too, and writable.
        objects.refuse_or_warn(
            "numpy.asarray(x)/numpy.array(x) of a DualArray",
            "For full speed pass the DualArray on (NumPy functions accept it directly) and "
            "build arrays with np.stack([...]); x.value is the plain values.",
            dtype,
            copy,
            self.tag,
        )
        return object_elements(self, writable=copy is True)

    def __float__(self) -> float:
        raise errors.lost_tangent("Converting a DualArray to float", "Use x.value.")

    def __complex__(self) -> complex:
        raise errors.lost_tangent("Converting a DualArray to complex", "Use x.value.")

    def __int__(self) -> int:
        raise errors.lost_tangent("Converting a DualArray to int", "Use x.value.")

    def __index__(self) -> int:
        raise errors.lost_tangent("Using a DualArray as an index", "Index with integers.")

    # -- NumPy protocols -----------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:  # the common case straight to the rule
            rule = UFUNC_RULES.get(ufunc)
            if rule is not None:
                if len(inputs) == 1:
                    return apply_unary(rule, self)
                return apply_binary(rule, inputs[0], inputs[1])
            if ufunc is np.matmul:
                return matmul(inputs[0], inputs[1])
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in table.LIKE_CONSTRUCTORS:  # np.zeros(n, like=x): NumPy does not pass ``like`` on
            kwargs = {**kwargs, "like": self}
        if len(types) > 1:
            errors.check_plain_types(types, errors.function_name(func))
        if len(types) > 1 and type(_foreign_leader(args, kwargs)) in types:
            return NotImplemented  # its __array_function__ is called next, as for the operators
        result = array_function(func, types, args, kwargs)
        if result is NotImplemented:  # a newer carrier NumPy does not dispatch to leads
            leader = _foreign_leader(args, kwargs)  # (np.select's default=: asked directly)
            if leader is not None:
                return type(leader).__array_function__(
                    leader, func, (*types, type(leader)), args, kwargs
                )
        return result

    # -- indexing ------------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> Any:
        if type(index) is slice or type(index) is int:
            # the most common index (a stencil's slices), with the general path's steps inlined:
            # one path for both, with a flag for the simple index, measured 10% slower per slice
            v, t = self.value, self.tangent_
            if type(v) is _NDARRAY and type(t) is _NDARRAY and v.ndim:
                v_owned, t_owned = v.flags.writeable, t.flags.writeable
                if v_owned and not t_owned:
                    t = self.tangent_ = t.copy()  # a read-only broadcast: views write through
                    t_owned = True
                value = v[index]
                result = _make_array(value, t[:, index], self.tag, self.batched)
                if type(value) is _NDARRAY:
                    if not (v_owned and t_owned and self.base_ is None):
                        _link(result, self, _IndexView(index))
                    return result
                return box(result)
        index = _check_index(index)
        v, t = self.value, self.tangent_
        # own_tangent and _owns inlined (this is the path of every slice): each flag read once
        v_owned = type(v) is DualArray or (type(v) is np.ndarray and v.flags.writeable)
        t_owned = type(t) is DualArray or (type(t) is np.ndarray and t.flags.writeable)
        if not t_owned and v_owned and type(t) is np.ndarray and type(v) is np.ndarray:
            t = self.tangent_ = t.copy()  # a read-only broadcast: views must write through
            t_owned = True
        value = v[index]
        result = _make_array(value, _index_tangent(t, index), self.tag, self.batched)
        if type(value) is np.ndarray or type(value) is DualArray:  # NumPy gave an array (a[...])
            layered = (type(v) is DualArray) is not (type(t) is DualArray)
            owned = v_owned and t_owned and self.base_ is None and not layered
            if not owned and is_basic_index(index):
                _link(result, self, _IndexView(index))  # NumPy's view of arrays copied on write
            return result
        return box(result)

    def __setitem__(self, index: Any, item: Any) -> None:
        if type(item) is list or type(item) is tuple:  # y[:2] = [d, 1.0]: the array it stands for
            item = objects.array_like(item)
        set_item(self, _check_index(index), item)

    # -- operators (each a rule of the table) --------------------------------------------------

    # + - * first try _plain_arithmetic, apply_binary's common cases without its conversions

    def __add__(self, other: Any) -> Any:
        result = _plain_arithmetic(_PLUS, self, other)
        return apply_binary(_ADD, self, other) if result is None else result

    def __radd__(self, other: Any) -> Any:
        result = _plain_arithmetic(_PLUS, self, other)  # (x + y == y + x exactly in IEEE)
        return apply_binary(_ADD, other, self) if result is None else result

    def __sub__(self, other: Any) -> Any:
        result = _plain_arithmetic(_MINUS, self, other)
        return apply_binary(_SUBTRACT, self, other) if result is None else result

    def __rsub__(self, other: Any) -> Any:
        result = _plain_arithmetic(_MINUS_REVERSED, self, other)
        return apply_binary(_SUBTRACT, other, self) if result is None else result

    def __mul__(self, other: Any) -> Any:
        result = _plain_arithmetic(_TIMES, self, other)
        return apply_binary(_MULTIPLY, self, other) if result is None else result

    def __rmul__(self, other: Any) -> Any:
        result = _plain_arithmetic(_TIMES, self, other)
        return apply_binary(_MULTIPLY, other, self) if result is None else result

    def __truediv__(self, other: Any) -> Any:
        return apply_binary(_DIVIDE, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return apply_binary(_DIVIDE, other, self)

    def __floordiv__(self, other: Any) -> Any:
        return RULES["floor_divide"].function(self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return RULES["floor_divide"].function(other, self)

    def __mod__(self, other: Any) -> Any:
        return RULES["remainder"].function(self, other)

    def __rmod__(self, other: Any) -> Any:
        return RULES["remainder"].function(other, self)

    def __divmod__(self, other: Any) -> Any:
        return self.__floordiv__(other), self.__mod__(other)

    def __rdivmod__(self, other: Any) -> Any:
        return self.__rfloordiv__(other), self.__rmod__(other)

    def __pow__(self, other: Any) -> Any:
        if type(other) is int and other == 2:
            return apply_unary(_SQUARE, self)
        return apply_binary(_POWER, self, other)

    def __rpow__(self, other: Any) -> Any:
        return apply_binary(_POWER, other, self)

    def __matmul__(self, other: Any) -> Any:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return matmul(other, self)

    def __neg__(self) -> Any:
        value = -self.value
        result = _make_array(value, -self.tangent_, self.tag, self.batched)
        return result if type(value) is np.ndarray or type(value) is DualArray else box(result)

    def __pos__(self) -> DualArray:
        # +x is a new array, as for ndarray (a scalar for a 0-d array, as NumPy's)
        return self.copy() if self.value.ndim else box(self.copy())

    def __abs__(self) -> Any:
        return RULES["absolute"].function(self)

    def _inplace(self, result: Any) -> DualArray:
        check_writeable(self, "output array is read-only")
        set_item(self, Ellipsis, result)
        return self

    # comparisons act on the values and give plain boolean arrays
    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return strip(self) == strip(other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return strip(self) != strip(other)

    def __lt__(self, other: Any) -> Any:
        return strip(self) < strip(other)

    def __le__(self, other: Any) -> Any:
        return strip(self) <= strip(other)

    def __gt__(self, other: Any) -> Any:
        return strip(self) > strip(other)

    def __ge__(self, other: Any) -> Any:
        return strip(self) >= strip(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like ndarray

    # -- complex parts ---------------------------------------------------------------------------

    @property
    def real(self) -> DualArray:
        return view_of(self, _real_part)  # a view, as in NumPy (of a real array: the array)

    @property
    def imag(self) -> DualArray:
        if strip(self.value).dtype.kind == "c":  # a view for complex arrays, as in NumPy
            return view_of(self, _imaginary_part)
        # a new array of zeros, read-only in NumPy: a write into it must not be lost silently
        return read_only(
            _make_array(self.value.imag, own_tangent(self).imag, self.tag, self.batched)
        )

    # y.real = v and y.imag = v write into y's memory, as ndarray's setters do
    @real.setter
    def real(self, value: Any) -> None:
        self.real[...] = value

    @imag.setter
    def imag(self, value: Any) -> None:
        if strip(self.value).dtype.kind != "c":
            raise TypeError("array does not have imaginary part to set")
        self.imag[...] = value

    def conjugate(self) -> DualArray:
        return _make_array(
            self.value.conjugate(), own_tangent(self).conjugate(), self.tag, self.batched
        )

    conj = conjugate

    # -- methods that mirror ndarray's (implemented by the NumPy functions' rules) -------------

    def copy(self, order: str = "C") -> DualArray:
        if order != "C":  # ndarray.copy(order='F'): np.copy lays the tangent out as the value
            return np.copy(self, order=order)
        return _make_array(_copy(self.value), _copy(self.tangent_), self.tag, self.batched)

    def astype(self, dtype: Any, copy: bool = True) -> DualArray:
        kind = np.dtype(dtype).kind
        if kind not in "fc":
            raise TypeError(
                f"DualArray.astype({np.dtype(dtype)}) would drop the tangent; only float and "
                "complex dtypes carry derivatives (use x.value.astype for plain values)"
            )
        if not copy and np.dtype(dtype) == self.dtype:
            return self  # NumPy's astype(copy=False) returns the array itself: writes reach it
        return _make_array(
            _astype(self.value, dtype), _astype(self.tangent_, dtype), self.tag, self.batched
        )

    def view(self, dtype: Any = None, type: Any = None) -> DualArray:
        """A new DualArray sharing this one's value and tangent (writes show in both)."""
        if type is not None or (dtype is not None and np.dtype(dtype) != self.dtype):
            raise TypeError(
                "DualArray.view(dtype/type) reinterprets the bytes of the values, which has no "
                "derivative; use x.astype(dtype) to convert, or x.value.view(...) for the values"
            )
        return view_of(self, _whole)

    def resize(self, *new_shape: Any, refcheck: bool = True) -> None:
        """Resize in place as ``ndarray.resize`` does (C order, zero-padded, no views allowed):
        the values by NumPy itself, which refuses as it would for an ndarray, and each
        direction of the tangent alike (the padding is a constant: zero tangent)."""
        if len(new_shape) == 1 and not isinstance(new_shape[0], (int, np.integer)):
            new_shape = () if new_shape[0] is None else tuple(new_shape[0])
        if type(self.value) is not np.ndarray:
            raise TypeError("DualArray.resize of a nested dual array is not supported: np.resize")
        t = self.tangent_
        self.value.resize(new_shape, refcheck=refcheck)
        k, shape = t.shape[0], self.value.shape
        tangent = np.zeros((k,) + shape, t.dtype)
        kept = min(self.value.size, math.prod(t.shape[1:]))
        tangent.reshape(k, -1)[:, :kept] = np.reshape(t, (k, -1))[:, :kept]
        self.tangent_ = tangent

    def tolist(self) -> list[Any]:
        """A (nested) list of ``Dual``s."""
        if self.ndim == 0:
            return box(self)
        return [item.tolist() if type(item) is DualArray else item for item in self]


# ---------------------------------------------------------------------------------------------
# Layout helpers
# ---------------------------------------------------------------------------------------------


def own_tangent(a: DualArray) -> Any:
    """``a``'s tangent, made writable first if it is a read-only broadcast while the value is
    writable, so that views of ``a`` write through to both, as views of an ndarray do."""
    t = a.tangent_
    if type(t) is np.ndarray and not t.flags.writeable:
        v = a.value
        if type(v) is np.ndarray and v.flags.writeable:
            t = a.tangent_ = t.copy()
    return t


# ---------------------------------------------------------------------------------------------
# Views: a tangent aliases exactly where its value aliases
# ---------------------------------------------------------------------------------------------
#
# A DualArray's arrays are copied on the first write when they are not its own to write: the
# caller's argument (a read-only view), the lazy identity seed of a Jacobian pass, a read-only
# private buffer. A view taken of such an array (``x[1:3]``, ``x.T``, ``x.reshape(...)``) cannot
# simply view arrays that a write will replace, so it is *linked* to the array it views
# (``base_``: the parent and how to derive the view from it; the parent keeps weak references
# in ``views_``). A write anywhere in such a family first gives its root arrays of its own and
# then derives every live view again from them, so that from then on they alias as NumPy's do.
# Arrays that own their arrays (the common case) give plain views and are never linked.


def _owned(arr: Any) -> bool:
    """Whether ``arr`` can be written in place (an inner DualArray looks after itself)."""
    return type(arr) is DualArray or (type(arr) is np.ndarray and arr.flags.writeable)


def _owns(a: DualArray) -> bool:
    """Whether a view of ``a`` may simply view its arrays: they are written in place, and a
    write cannot need to add a dual layer (of a nested differentiation) to one of them — which
    only the array itself can do, not a view — as when the value has that layer but the
    tangent has not (or the reverse)."""
    v, t = a.value, a.tangent_
    tv, tt = type(v), type(t)
    return (
        a.base_ is None
        and (tv is DualArray) is (tt is DualArray)
        and (tv is DualArray or (tv is np.ndarray and v.flags.writeable))
        and (tt is DualArray or (tt is np.ndarray and t.flags.writeable))
    )


class _IndexView:
    """Derives ``parent[index]`` (basic indexing) from the parent's current arrays."""

    __slots__ = ("index",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def __call__(self, parent: DualArray) -> tuple[Any, Any]:
        index = self.index
        return parent.value[index], _index_tangent(own_tangent(parent), index)


def _whole(parent: DualArray) -> tuple[Any, Any]:
    return parent.value.view(), own_tangent(parent).view()


def _real_part(parent: DualArray) -> tuple[Any, Any]:
    return parent.value.real, own_tangent(parent).real


def _imaginary_part(parent: DualArray) -> tuple[Any, Any]:
    return parent.value.imag, own_tangent(parent).imag


def view_of(a: DualArray, derive: Callable[[DualArray], tuple[Any, Any]], parts: Any = None) -> Any:
    """The DualArray NumPy would hand out as a view of ``a``: ``derive(a)`` gives its value and
    tangent as views of ``a``'s (the tangent's direction axis first). When ``a``'s arrays are
    copied on the first write, the result is linked to ``a`` so that a write through either
    reaches both (see the notes above). A 0-d view of an array stays a 0-d DualArray, as
    NumPy's 0-d view (``np.squeeze`` of one element) stays an array.
    ``parts``: ``derive(a)`` when the caller has computed it already."""
    value, tangent = derive(a) if parts is None else parts
    result = _make_array(value, tangent, a.tag, a.batched)
    if not _owns(a):
        _link(result, a, derive)
    # a 0-d view (np.squeeze of one element, x.T of a 0-d x) writes through, as NumPy's does
    return result


def read_only(a: Any, reason: str | None = None) -> Any:
    """``a`` (a DualArray) marked read-only, as NumPy hands out the array it stands for
    (``np.diagonal``, ``np.broadcast_to``, ...): a write into it or into a view of it raises
    NumPy's ValueError instead of landing in a private copy. Such a view's tangent is a
    read-only ndarray, so its own views are linked to it (``_link``), which passes the mark on.
    ``reason``: the error's message where it is not NumPy's read-only one."""
    if type(a) is DualArray:
        a.readonly_ = reason or True
    return a


def check_writeable(a: DualArray, message: str = "assignment destination is read-only") -> None:
    """Raise NumPy's ValueError when ``a`` is read-only in NumPy (see ``read_only``), the
    TypeError of its ``reason`` where it is a write that dualdiff refuses."""
    mark = getattr(a, "readonly_", False)
    if mark:
        raise TypeError(mark) if type(mark) is str else ValueError(message)


def _link(view: DualArray, parent: DualArray, derive: Callable[..., Any]) -> None:
    mark = getattr(parent, "readonly_", False)
    if mark:  # a view of a read-only array is read-only
        view.readonly_ = mark
    view.base_ = (parent, derive)
    views = parent.views_
    if views is None:
        parent.views_ = views = []
    elif len(views) >= 16 and len(views) & (len(views) - 1) == 0:
        views[:] = [ref for ref in views if ref() is not None]  # drop views that died
    views.append(weakref.ref(view))


def _derive_views(parent: DualArray) -> None:
    """Give every live view linked to ``parent`` (and theirs) arrays viewing ``parent``'s."""
    pending = [parent]  # parents before their views; a loop, as chains of views can be long
    while pending:
        parent = pending.pop()
        views = parent.views_
        if not views:
            continue
        # while a later write may still add a layer to the parent's tangent (or value), its
        # views stay linked, to be derived again then
        keep = (type(parent.value) is DualArray) is not (type(parent.tangent_) is DualArray)
        for ref in views:
            view = ref()
            if view is not None and view.base_ is not None:
                view.value, view.tangent_ = view.base_[1](parent)
                view.tag, view.batched = parent.tag, parent.batched  # (a newer layer added)
                if not keep:
                    view.base_ = None
                pending.append(view)
        if not keep:
            parent.views_ = None  # (after the loop: a view that refuses to derive refuses again)


def same_memory(a: Any, b: Any) -> bool:
    """Whether ndarrays ``a`` and ``b`` view the memory of the same array (cheaper than
    ``np.shares_memory``; for telling a view from a fresh copy)."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return False
    if (a if a.base is None else a.base) is (b if b.base is None else b.base):
        return True
    return np.may_share_memory(a, b)  # (memory an ndarray does not own: a buffer, a mmap)


def refuse_write(parent: DualArray) -> Any:
    """The derivation of a view whose tangent could not be made to alias its value's."""
    raise TypeError(
        "writing into this array or a view of it would not reach the derivative: a reshape "
        "viewed the value but had to copy the tangent (their memory layouts differ). Write into "
        "a copy instead (y = x.reshape(...).copy()), or use x[...] = ... on the original array."
    )


def strip(x: Any) -> Any:
    """The plain values under every dual layer (Dual and DualArray)."""
    while is_dual(x):
        x = x.value
    return x


def _copy(a: Any) -> Any:
    return a.copy()


def _astype(a: Any, dtype: Any) -> Any:
    return a.astype(dtype)


def box(a: DualArray) -> Any:
    """A 0-d DualArray as a ``Dual`` (its tangent a scalar, or a ``(k,)`` array when batched)."""
    if a.value.ndim != 0:
        return a
    value = a.value
    value = (
        box(value) if type(value) is DualArray else (value if type(value) is Dual else value[()])
    )
    t = a.tangent_
    if a.batched:
        # shape (k,), copied: NumPy's scalar read never aliases the array it was read from, so
        # neither may the scalar's tangent (``s = a[0]; a *= 0.5`` must leave ``s`` alone)
        tangent = t.copy()
    else:
        tangent = t[0]
        if type(tangent) is DualArray:
            tangent = box(tangent)
        elif type(tangent) is not Dual:
            tangent = tangent[()]
    return _make(value, tangent, a.tag)


def object_elements(a: DualArray, writable: bool = True) -> np.ndarray:
    """``a`` as an object array of Duals (in ``a``'s memory order), each holding its element's
    value and tangent: a scalar, or all ``k`` directions as a ``(k,)`` array when ``a`` is
    batched (as ``a[i]`` gives). Float64 and complex128 values become Python numbers, as
    ``ndarray.astype(object)`` makes them (the scalar hot path of Dual); other dtypes stay
    NumPy scalars, keeping their precision."""
    v, t = a.value, a.tangent_
    shape = np.shape(strip(v))
    n = math.prod(shape)
    if type(v) is np.ndarray and (type(t) is np.ndarray or type(t) is IdentitySeed):
        t = np.asarray(t)
        k = t.shape[0]
        flat = v.reshape(n)
        values = flat.tolist() if v.dtype.char in "dD" else list(flat)
        if a.batched:
            # rows of one private (n, k) buffer: no Dual's tangent aliases the array's
            tangents = list(np.ascontiguousarray(np.moveaxis(t.reshape(k, n), 0, 1)))
        else:
            flat_t = t.reshape(n)
            tangents = flat_t.tolist() if t.dtype.char in "dD" else list(flat_t)
        tag = a.tag
        items = [_make(x, dx, tag) for x, dx in zip(values, tangents)]
    else:  # nested duals: each element boxed as a[i] boxes it
        flat = a.reshape(n)
        items = [flat[i] for i in range(n)]
    return objects.object_array(items, shape, writable, like=a.value)


def from_dual(d: Dual, copy: bool = True) -> DualArray:
    """A ``Dual`` as a 0-d DualArray (a tangent of shape ``(k,)`` is a batch of ``k``).

    A batched tangent is copied: the result may be handed out as an array (``d[...]``,
    ``np.expand_dims(d, 0)``) and written in place, which must not change the Dual.
    ``copy=False`` shares it, for an operand that is only read."""
    value = d.value
    value = from_dual(value, copy) if type(value) is Dual else _asarray(value)
    t = d.tangent
    if type(t) is Dual:
        return _make_array(value, from_dual(t, copy).reshape((1,)), d.tag, False)
    if type(t) is DualArray:
        return _make_array(value, t.copy() if copy else t, d.tag, True)
    t = _asarray(t)
    if t.ndim == 1:
        return _make_array(value, t.copy() if copy else t, d.tag, True)
    return _make_array(value, t.reshape(1), d.tag, False)


def _asarray(a: Any) -> Any:
    """``a`` as an array; another dual type (an older Taylor series) is kept as it is."""
    return a if is_dual(a) else np.asarray(a)


def tangent_axis(axis: Any, ndim: int) -> Any:
    """Map a value axis argument (int, tuple or None) to the tangent's axes (shifted by one)."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, tuple):
        return tuple(_normalize(a, ndim) + 1 for a in axis)
    return _normalize(axis, ndim) + 1


def _normalize(axis: Any, ndim: int) -> int:
    axis = axis.__index__()
    if not -ndim <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim if ndim else 0


def lift_tangent(a: DualArray, ndim: int) -> Any:
    """``a``'s tangent shaped to broadcast against a result of ``ndim`` value dimensions."""
    t = a.tangent_
    extra = ndim - a.value.ndim
    if extra <= 0:
        return t
    return t.reshape((t.shape[0],) + (1,) * extra + a.value.shape)


def fit_tangent(t: Any, k: int, shape: tuple[int, ...]) -> Any:
    """Broadcast tangent ``t`` to ``(k,) + shape`` (a view when it already has fewer entries)."""
    target = (k,) + shape
    if t.shape == target:
        return t
    if t.ndim < len(target):
        t = t.reshape(t.shape[:1] + (1,) * (len(target) - t.ndim) + t.shape[1:])
    return np.broadcast_to(t, target)


def zeros_tangent(k: int, value: Any) -> Any:
    """A zero tangent with ``k`` directions for ``value`` (plain zeros even for a dual value)."""
    plain = strip(value)
    return np.zeros((k,) + np.shape(plain), np.result_type(plain, 0.0))


def _check_index(index: Any) -> Any:
    items = index if type(index) is tuple else (index,)
    for item in items:
        if is_dual(item):
            raise TypeError("a DualArray cannot be indexed by a dual number; index with integers")
        if isinstance(item, np.ndarray) and item.dtype.kind == "f":
            raise IndexError("arrays used as indices must be of integer or boolean type")
    return index


def _index_tangent(t: Any, index: Any) -> Any:
    """Apply a value index to a tangent whose direction axis comes first."""
    items = index if type(index) is tuple else (index,)
    simple = all(type(i) is int or type(i) is slice or i is None or i is Ellipsis for i in items)
    if simple:
        return t[(slice(None),) + items]
    # Advanced indexing may move axes; with the direction axis last it stays out of the way.
    tail = (slice(None),) if any(i is Ellipsis for i in items) else (Ellipsis, slice(None))
    moved = np.moveaxis(t, 0, -1)[items + tail]
    return np.moveaxis(moved, -1, 0)


def set_item(target: DualArray, index: Any, item: Any, owner: DualArray | None = None) -> None:
    """``target[index] = item`` in place.

    An item of a newer tag turns ``target`` into an array of that tag (its old contents become
    the value, with zero tangent); an item of an older tag is written into the value layer.
    ``owner`` is the array the user assigns into, when ``target`` is one of its layers.
    """
    owner = target if owner is None else owner
    check_writeable(owner)
    check_writeable(target)
    tag = item.tag if is_dual(item) else -1
    if tag > target.tag:
        _check_not_view(owner)
        _check_no_plain_views(target)
        inner = _make_array(target.value, target.tangent_, target.tag, target.batched)
        k, batched = _directions_of(item)
        target.value, target.tangent_ = inner, zeros_tangent(k, inner)
        target.tag, target.batched = tag, batched
    if tag == target.tag and (target.base_ is not None or target.views_):
        # a layer the item carries (a nested tag) must be added where the family's memory
        # lives, at its root, before the views are derived again (a view cannot add it alone)
        root = target
        while root.base_ is not None:
            root = root.base_[0]
        _add_layers(root, item if type(item) is DualArray else from_dual(item, False))
    _writable(target)
    if tag == target.tag:
        parts = item if type(item) is DualArray else from_dual(item, False)
        value, tangent = parts.value, parts.tangent_
    else:
        value, tangent = item, None
    target.value = _assign(target.value, index, value, owner)
    items = index if type(index) is tuple else (index,)
    tail = (slice(None),) if any(i is Ellipsis for i in items) else (Ellipsis, slice(None))
    k = target.tangent_.shape[0]
    if tangent is None:
        src: Any = 0.0
    else:
        if tangent.shape[0] not in (1, k):
            raise ValueError(
                f"cannot assign a dual with {tangent.shape[0]} tangent directions into an array "
                f"with {k}"
            )
        src = np.moveaxis(tangent, 0, -1)
    moved = _assign(np.moveaxis(target.tangent_, 0, -1), items + tail, src, owner)
    if type(moved) is DualArray:
        # a layer added to the tangent (nested tags) lives on the moved view: keep that view
        target.tangent_ = np.moveaxis(moved, -1, 0)


def _dense_seed(seed: IdentitySeed, value: Any) -> np.ndarray:
    """The seed as an array whose blocks (one per direction) have the memory order of a
    Fortran-ordered ``value``, so that what views the value (``x.T.reshape(-1)``) also views
    the tangent; C order otherwise."""
    dense = np.array(seed)
    if type(value) is np.ndarray and value.ndim > 1 and value.flags.f_contiguous:
        n = value.ndim
        flipped = (0,) + tuple(range(n, 0, -1))
        dense = np.ascontiguousarray(dense.transpose(flipped)).transpose(flipped)
    return dense


def _add_layers(a: DualArray, item: DualArray) -> None:
    """Give ``a``'s value and tangent the dual layers of ``item``'s (of the same tag) that they
    lack, with zero tangents, as ``_promote`` would give the written part alone."""
    for name in ("value", "tangent_"):
        mine, theirs = getattr(a, name), getattr(item, name)
        if type(theirs) is not DualArray:
            continue
        if type(mine) is DualArray and mine.tag >= theirs.tag:
            if mine.tag == theirs.tag:
                _add_layers(mine, theirs)
            continue
        if type(mine) is IdentitySeed:
            mine = np.array(mine)
        layer = _make_array(
            mine, zeros_tangent(theirs.directions, mine), theirs.tag, theirs.batched
        )
        setattr(a, name, layer)


def _directions_of(item: Any) -> tuple[int, bool]:
    """``(k, batched)`` of a Dual or DualArray; TypeError for another carrier, which a plain
    array cannot be made to hold here."""
    if type(item) is DualArray:
        return item.directions, item.batched
    if type(item) is not Dual:
        raise TypeError(
            f"writing a {errors.type_name(item)} (of an enclosing differentiation) into an array "
            "that holds none is not supported inside a nested jvp/jacobian; build the array "
            "without writing into it (np.where, np.concatenate), or nest the other way round"
        )
    t = np.ndim(item.tangent) if type(item.tangent) is not Dual else 0
    return (np.shape(item.tangent)[0], True) if t == 1 else (1, False)


def _promote(container: Any, item: Any, owner: DualArray) -> Any:
    """A plain array, or a DualArray of an older tag, that must receive a dual becomes a
    DualArray of the dual's tag (zero tangent)."""
    if is_dual(item) and (
        type(container) is np.ndarray or (type(container) is DualArray and container.tag < item.tag)
    ):
        _check_not_view(owner)
        k, batched = _directions_of(item)
        return _make_array(container, zeros_tangent(k, container), item.tag, batched)
    return container


def _check_no_plain_views(a: DualArray) -> None:
    """Raise TypeError if something besides ``a`` holds ``a``'s value memory (a plain view
    ``v = a[0:2]`` taken while ``a`` owned its arrays): a new layer (a dual of a newer tag)
    given to ``a`` would not reach it, and ``v`` would miss the derivative. Views of an array
    that own their memory are not tracked (that would cost every slice), but each holds a
    reference to the array whose memory it views, which the reference count shows."""
    if a.views_:
        return  # linked views are given the new layer (see ``_writable``)
    v = strip(a.value)
    # three references: ``a``'s slot (or its inner layer's), ``v`` and getrefcount's argument
    if type(v) is np.ndarray and v.base is None and sys.getrefcount(v) > 3:
        raise TypeError(
            "cannot store a dual of a newer tag (from a nested differentiation) into an array "
            "whose memory is also held elsewhere (a view such as v = y[0:2], or y.value): the "
            "view would not receive the derivative. Take views after the write, or write into "
            "a copy (y = y.copy()) made before the views."
        )


def _check_not_view(a: DualArray) -> None:
    """Raise TypeError if ``a`` views another array's memory: a new layer (a dual of a newer
    tag) given to ``a`` would not reach the array it views, whose derivative would be lost."""
    # (the tangent's base is not counted: set_item holds a transient moveaxis view of it)
    if a.base_ is not None or (
        _views_shared_memory(a.value) and strip(a.tangent_).base is not None
    ):
        raise TypeError(
            "cannot store a dual of a newer tag (from a nested differentiation) into a view of "
            "another array: that array would not receive the derivative. Assign into the "
            "original array (x[i, j] = d rather than x[i][j] = d), or .copy() the view first."
        )


def _views_shared_memory(arr: Any) -> bool:
    """Whether the plain array under ``arr``'s dual layers views memory that something else
    holds too (another array: a view of it or the array owning it). A view whose base only it
    holds views a private temporary (``np.tile``, a reshape that copied), which no one else
    sees: writing a new layer there loses nothing."""
    base = strip(arr).base
    # three references: the view's ``.base``, ``base`` here, and getrefcount's argument
    return base is not None and sys.getrefcount(base) > 3


def _assign(container: Any, index: Any, value: Any, owner: DualArray) -> Any:
    """``container[index] = value``, promoting a plain container first; returns the container."""
    container = _promote(container, value, owner)
    if type(container) is DualArray:
        set_item(container, index, value, owner)
    else:
        container[index] = value
    return container


def _writable(a: DualArray) -> None:
    """Make ``a``'s arrays safe to write (broadcast views and shared seeds are copied); in a
    family of linked views the root gets arrays of its own first and every view is derived
    from them again, so that the write reaches all of them."""
    if a.base_ is not None or a.views_:
        root = a
        while root.base_ is not None:
            root = root.base_[0]
        _own_arrays(root)
        _derive_views(root)
    _own_arrays(a)


def _own_arrays(a: DualArray) -> None:
    for name in ("value", "tangent_"):
        arr = getattr(a, name)
        if type(arr) is IdentitySeed:
            setattr(a, name, _dense_seed(arr, a.value))
        elif type(arr) is np.ndarray and not arr.flags.writeable:
            # in its own memory order: the caller's array keeps the layout NumPy would see, on
            # which whether a later reshape is a view depends
            setattr(a, name, arr.copy(order="K"))


# ---------------------------------------------------------------------------------------------
# Applying rules of the table (the DualArray lift)
# ---------------------------------------------------------------------------------------------


def _operand(a: Any, tag: int) -> tuple[Any, Any]:
    """``(value, tangent or None)`` of an operand at ``tag``; plain lists become arrays."""
    t = type(a)
    if t is DualArray:
        if a.tag == tag:
            return a.value, a
        return a, None
    if t is Dual:
        if a.tag == tag:
            d = from_dual(a, False)  # (only read)
            value = a.value
            # a Python number stays one: it is weak in NumPy (0.5 * a float32 array is float32),
            # a 0-d float64 array is not
            return (value if type(value) in _WEAK_NUMBERS else d.value), d
        return a, None
    if t in SCALAR_TYPES or t is np.ndarray:
        return a, None
    if t is IdentitySeed:
        return np.asarray(a), None
    if isinstance(a, (list, tuple)):
        return _as_array_operand(a), None
    if is_dual(a) and a.tag < tag:  # an older dual of another type (a Taylor series): a constant
        return a, None
    raise TypeError(f"cannot combine a DualArray with {errors.type_name(a)}")


_WEAK_NUMBERS = frozenset((float, int, complex))


def _as_array_operand(a: Any) -> Any:
    """A list/tuple operand as an array; a list holding duals is stacked (keeping tangents)."""
    if any(is_dual(item) or isinstance(item, (list, tuple)) for item in a):
        return np.stack([_as_array_operand(i) if isinstance(i, (list, tuple)) else i for i in a])
    return np.asarray(a)


def apply_unary(rule: Rule, a: DualArray) -> Any:
    """``rule(a)`` elementwise: the value through the rule, the tangent by the chain rule.
    A scalar value (a ufunc of a 0-d array is a NumPy scalar) gives a Dual, as NumPy's scalar
    result does not alias (a view of it must not write into it)."""
    x, t = a.value, a.tangent_
    if type(x) is np.ndarray:
        ans = rule.array(x)
        partial = rule.plain_partial
        if partial is not None and type(t) is np.ndarray:  # the common case, without detours
            p = safe_partial(partial, x, ans) if rule.safe else partial(x, ans)
            if rule.safe and not all_finite(p):
                result = _make_array(ans, scale(p, t), a.tag, a.batched)
            else:
                tangent = times(p, t, (x, ans))
                if type(tangent) is _NDARRAY and tangent.dtype is ans.dtype:
                    result = _new_array(ans, tangent, a.tag, a.batched)
                else:
                    result = _make_array(ans, tangent, a.tag, a.batched)
            return result if type(ans) is _NDARRAY else box(result)
    else:
        ans = rule.function(x)
    tangent = rule.tangent1(x, t, ans)
    if tangent is t:  # d(+x) = dx: the result gets its own copy
        tangent = _own(tangent)
    result = _make_array(ans, tangent, a.tag, a.batched)
    return result if type(ans) is np.ndarray or type(ans) is DualArray else box(result)


_PLAIN_OPERANDS = SCALAR_TYPES | {np.ndarray}


def apply_binary(rule: Rule, a: Any, b: Any) -> Any:
    """``rule(a, b)`` with broadcasting; the operands' newest tag becomes the outer layer."""
    ta, tb = type(a), type(b)
    if (ta is _NDARRAY and a.dtype is _OBJECT) or (tb is _NDARRAY and b.dtype is _OBJECT):
        # an object array of duals meets a dual: lifted, so the arithmetic is vectorised
        return rule.function(objects.lift_operand(a), objects.lift_operand(b))
    weak = False
    if ta is DualArray and (tb in _PLAIN_OPERANDS or (tb is DualArray and b.tag == a.tag)):
        tag, x, da = a.tag, a.value, a  # the common cases: no conversion of operands needed
        y, db = (b.value, b) if tb is DualArray else (b, None)
    elif tb is DualArray and ta in _PLAIN_OPERANDS:
        tag, x, da, y, db = b.tag, a, None, b.value, b
    else:
        if ta is list or ta is tuple or tb is list or tb is tuple:
            a, b = objects.lift_inputs((a, b))  # x + [d, 1.0]: the list's duals keep tangents
        lift = lift_of(a, b)
        tag = max(a.tag if is_dual(a) else -1, b.tag if is_dual(b) else -1)
        # a Dual's value may be a Python number (weak) whose tangent is a float64 array: the
        # tangents are cast to the result's dtype (_make_array), not assumed in it
        weak = type(a) is Dual or type(b) is Dual
        if lift is not None and lift.rank > _RANK and not _leads(a, tag) and not _leads(b, tag):
            return lift.binary(rule, a, b)  # a newer dual of a higher-ranked type (Taylor) leads
        x, da = _operand(a, tag)
        y, db = _operand(b, tag)
    plain = type(x) in _PLAIN_OPERANDS and type(y) in _PLAIN_OPERANDS
    ans = rule.array(x, y) if plain else rule.function(x, y)
    if plain:
        # partials in the result's dtype (a float32 operand of a float64 result is cast): one
        # identity check per array operand on the common path, where the dtypes agree; a Python
        # number is weak and never the reason for a cast
        dtype = ans.dtype if type(ans) is _NDARRAY else getattr(ans, "dtype", None)
        same = True  # every operand in the result's dtype: + - * / keep the tangents' dtype
        if type(x) is _NDARRAY:
            if x.dtype is not dtype:
                x, same = in_dtype(x, dtype), False
        elif type(x) is not float and type(x) is not int:
            x, same = in_dtype(x, dtype), False
        if type(y) is _NDARRAY:
            if y.dtype is not dtype:
                y, same = in_dtype(y, dtype), False
        elif type(y) is not float and type(y) is not int:
            y, same = in_dtype(y, dtype), False
    if type(ans) is np.ndarray:
        ndim, shape = ans.ndim, ans.shape
    else:
        shape = np.shape(ans)
        ndim = len(shape)
    tx = None if da is None else (da.tangent_ if da.value.ndim == ndim else lift_tangent(da, ndim))
    ty = None if db is None else (db.tangent_ if db.value.ndim == ndim else lift_tangent(db, ndim))
    arithmetic = _ARITHMETIC.get(rule) if plain else None
    if arithmetic is not None and type(ty if tx is None else tx) is np.ndarray:
        tangent = arithmetic(x, y, tx, ty, ans)  # + - * / written out: the most common rules
        checked = same and not weak
    else:
        checked = False
        try:
            tangent = rule.tangent2(x, y, tx, ty, ans)
        except ZeroDivisionError:  # a Python 0 in a partial (x / 0.0): inf/nan, as for arrays
            tangent = rule.tangent2(_numpy_number(x), _numpy_number(y), tx, ty, ans)
    if tangent is tx or tangent is ty:  # d(x + c) = dx: as in apply_unary
        tangent = _own(tangent)
    if tx is None:
        k = ty.shape[0]
    else:
        k = tx.shape[0] if ty is None or tx.shape[0] >= ty.shape[0] else ty.shape[0]
    batched = (da is not None and da.batched) or (db is not None and db.batched)
    if tangent.shape[1:] != shape or tangent.shape[0] != k:
        tangent = fit_tangent(tangent, k, shape)
    if checked:  # tangents of values in the result's dtype, combined with those values
        result = _new_array(ans, tangent, tag, batched)
    else:
        result = _make_array(ans, tangent, tag, batched)
    return result if ndim else box(result)


# The tangents of + - * / on plain values, written out (the rules in the table say the same).
def _add_tangent(x: Any, y: Any, tx: Any, ty: Any, ans: Any) -> Any:
    return tx if ty is None else (ty if tx is None else tx + ty)


def _subtract_tangent(x: Any, y: Any, tx: Any, ty: Any, ans: Any) -> Any:
    return tx if ty is None else (-ty if tx is None else tx - ty)


def _multiply_tangent(x: Any, y: Any, tx: Any, ty: Any, ans: Any) -> Any:
    if ty is None:
        return y * tx
    if tx is None:
        return x * ty
    out, term = y * tx, x * ty
    if type(out) is np.ndarray and out.shape == term.shape and out.dtype == term.dtype:
        out += term
        return out
    return out + term


def _divide_tangent(x: Any, y: Any, tx: Any, ty: Any, ans: Any) -> Any:
    # Written out while the partials 1/y and x/y**2 are finite; where one is infinite (y = 0, an
    # infinite quotient) the table's safe rule decides, so that a zero tangent stays zero exactly
    # as for np.reciprocal. One check, over the values (not the k tangents): a finite x/y means
    # y has no zero, as x/0 is never finite.
    if tx is None:
        p = -ans / y
        return ty * p if all_finite(p) else scale(p, ty)
    if all_finite(ans):
        return tx / y if ty is None else (tx - ans * ty) / y
    with np.errstate(divide="ignore", invalid="ignore"):
        return _DIVIDE.tangent2(_numpy_number(x), _numpy_number(y), tx, ty, ans)


_PLUS, _MINUS, _MINUS_REVERSED, _TIMES = range(4)


def _plain_arithmetic(operation: int, a: DualArray, other: Any) -> DualArray | None:
    """``a + other``, ``a - other``, ``other - a`` or ``a * other`` in the two most common cases,
    with exactly the arithmetic of ``apply_binary`` and its ``_*_tangent`` functions: ``other`` a
    Python float or int, or a DualArray of ``a``'s tag, shape and dtype. Both hold ndarrays (not
    0-d: NumPy gives a scalar there) and the result keeps their dtype. None otherwise: the
    caller takes the general path.

    The tangents are ``_add_tangent``, ``_subtract_tangent`` and ``_multiply_tangent`` written
    out. Reaching those through ``apply_binary`` and ``rule.array`` instead cost 1-2 us more per
    operation (``d * e`` at n = 1000 with 4 directions: 16.0-16.7 us against 18.4-19.6 us),
    which a stencil's two dozen operations pay on every call."""
    v, tv = a.value, a.tangent_
    if type(v) is not _NDARRAY or type(tv) is not _NDARRAY or not v.ndim:
        return None
    t_other = type(other)
    if t_other is float or t_other is int:
        if operation == _TIMES:
            ans, tangent = v * other, tv * other
        elif operation == _PLUS:
            ans, tangent = v + other, _own(tv)
        elif operation == _MINUS:
            ans, tangent = v - other, _own(tv)
        else:
            ans, tangent = other - v, -tv
        batched = a.batched
    elif t_other is DualArray:
        w, tw = other.value, other.tangent_
        if (
            other.tag != a.tag
            or type(w) is not _NDARRAY
            or type(tw) is not _NDARRAY
            or w.dtype is not v.dtype
            or w.shape != v.shape
            or tw.shape != tv.shape
        ):
            return None
        if operation == _TIMES:
            if other is a:  # a * a: the tangent 2a·da in one pass over the tangents, not three
                ans, tangent = v * v, tv * (v + v)
            else:
                ans, tangent = v * w, w * tv
                tangent += v * tw
        elif operation == _PLUS:
            ans, tangent = v + w, tv + tw
        elif operation == _MINUS:
            ans, tangent = v - w, tv - tw
        else:
            ans, tangent = w - v, tw - tv
        batched = a.batched or other.batched
    else:
        return None
    if ans.dtype is not v.dtype or tangent.shape[1:] != ans.shape:
        return None  # a cast, or a broadcast tangent: apply_binary's business
    return _new_array(ans, tangent, a.tag, batched)


def _leads(a: Any, tag: int) -> bool:
    """Whether ``a`` is one of ours (``Dual``, ``DualArray``) with the newest ``tag``."""
    return (type(a) is DualArray or type(a) is Dual) and a.tag == tag


def _numpy_number(a: Any) -> Any:
    return np.asarray(a)[()] if type(a) in (int, float, complex) else a


def _own(t: Any) -> Any:
    """A copy of an input's tangent that a result reuses (``d(x + c) = dx``), so that writing into
    either array later (``y[i] = ...``, ``x += ...``) cannot change the other's derivative. A lazy
    seed is never written into and is kept; so is an array nobody can write into (a private,
    read-only buffer: writes to either dual copy it first)."""
    if type(t) is np.ndarray:
        base = t
        while type(base.base) is np.ndarray:
            base = base.base
        if base.base is None and not base.flags.writeable:
            return t
        return t.copy()
    if type(t) is DualArray:
        return t.copy()
    return t


_RANK = 2
register_lift(DualArray, _RANK, apply_unary, apply_binary)
array_hooks["binary"] = apply_binary  # a Dual met an array or a list

_ADD = RULES["add"]
_SUBTRACT = RULES["subtract"]
_MULTIPLY = RULES["multiply"]
_DIVIDE = RULES["divide"]
_POWER = RULES["power"]
_SQUARE = RULES["square"]
_ARITHMETIC = {
    _ADD: _add_tangent,
    _SUBTRACT: _subtract_tangent,
    _MULTIPLY: _multiply_tangent,
    _DIVIDE: _divide_tangent,
}


# ---------------------------------------------------------------------------------------------
# __array_ufunc__ and __array_function__
# ---------------------------------------------------------------------------------------------


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict) -> Any:
    """NumPy ufunc dispatch for duals: rules by ufunc, plus reduce/accumulate/outer and out=."""
    out = kwargs.pop("out", None)
    written = inputs  # as the user wrote them, for naming an in-place operator
    inputs = objects.lift_inputs(inputs)
    where = kwargs.pop("where", True) if method == "__call__" else True
    if kwargs and method not in ("reduce", "accumulate", "reduceat"):
        unsupported = ", ".join(sorted(kwargs))
        raise TypeError(
            f"{errors.function_name(ufunc)} on duals does not support the argument(s) {unsupported}"
        )
    if method == "__call__":
        result = _call_ufunc(ufunc, inputs)
    elif method in ("reduce", "accumulate", "reduceat"):
        result = UFUNC_METHODS[method](ufunc, *inputs, **kwargs)
    elif method == "at":
        return ufunc_at(ufunc, *inputs)
    elif method == "outer" and ufunc.nin == 2:
        a, b = inputs
        b_ndim = np.ndim(strip(b))
        a_expanded = np.reshape(a, np.shape(strip(a)) + (1,) * b_ndim)
        result = _call_ufunc(ufunc, (a_expanded, b))
    else:
        raise errors.no_rule(f"{errors.function_name(ufunc)}.{method}")
    if where is not True:
        result = kept_where(ufunc, where, out, result)
    if out is None:
        return result
    return _write_out(ufunc, out, result, written)


def ufunc_at(ufunc: np.ufunc, a: Any, indices: Any, b: Any = None) -> None:
    """``ufunc.at(a, indices, b)``: ``a[i] = ufunc(a[i], b_j)`` for each index in turn,
    unbuffered, so a repeated index applies the ufunc once per occurrence (assembly).

    The occurrences are applied in rounds (``at_rounds``): round ``r`` holds the ``r``-th
    occurrence of each element, so every element sees its operands in NumPy's order, and each
    round is an item assignment of ``a`` (writes through views reach the array viewed, tags are
    promoted).
    """
    name = f"{errors.function_name(ufunc)}.at"
    if type(a) is not DualArray:
        raise errors.lost_tangent(
            f"{name}(a, indices, values) with dual values into a plain {errors.type_name(a)} a",
            "Make a a DualArray (np.zeros_like(x) makes one) so it can hold the derivative.",
        )
    if (b is None) != (ufunc.nin == 1):
        raise TypeError(f"{name} takes {'no' if ufunc.nin == 1 else 'a'} second operand")
    check_writeable(a)
    index = _check_index(indices if type(indices) is tuple else indices)
    if isinstance(indices, list):
        index = np.asarray(indices)
        if index.size == 0:  # [] is float64 to np.asarray, an empty index to NumPy
            index = index.astype(np.intp)
    # the flat position of every element the index selects, in NumPy's order
    positions = np.arange(a.size).reshape(a.shape)[index]
    flat = np.ravel(positions)
    if flat.size == 0:
        return None
    if b is not None:
        if isinstance(b, (list, tuple)):
            b = _as_array_operand(b)
        b = np.reshape(np.broadcast_to(b, positions.shape), (-1,))
        if is_dual(b) and np.may_share_memory(strip(b), strip(a)):
            # NumPy reads the operands as they were before the call (np.multiply.at(a, i, a)):
            # the rounds below write into a, which a view b would see
            b = b.copy()
    if ufunc in (np.add, np.subtract) and _sum_at(ufunc, a, flat, b):
        return None
    if ufunc in EXTREME_UFUNCS:  # every visit of an element at once (an index repeated n times
        # cost n rounds)
        elements = np.unique(flat)
        where = np.unravel_index(elements, a.shape)
        a[where] = extreme_at(ufunc, a[where], b, flat, strip)
        return None
    for where, chosen in at_rounds(flat, a.shape):
        current = a[where]
        a[where] = ufunc(current) if b is None else ufunc(current, b[chosen])
    return None


def _sum_at(ufunc: np.ufunc, a: DualArray, flat: Any, b: Any) -> bool:
    """``add.at``/``subtract.at`` in one write (histograms repeat an index thousands of times):
    the values by NumPy's own ``ufunc.at`` on the selected values (the same order of additions,
    so the same rounding), the tangents by ``ufunc.at`` on the tangents. False when a dual layer
    (nested tags, a newer tag in ``b``) needs the general path."""
    if type(a.value) is not np.ndarray:
        return False
    if is_dual(b):
        if type(b) is not DualArray or b.tag != a.tag or type(b.value) is not np.ndarray:
            return False
        if is_dual(b.tangent_):
            return False
        b_value, batched = b.value, a.batched or b.batched
        b_tangent = fit_tangent(np.asarray(b.tangent_), b.directions, b_value.shape)
    elif type(b) is np.ndarray or type(b) in SCALAR_TYPES:
        b_value, b_tangent, batched = b, None, a.batched
    else:
        return False
    unique, inverse = np.unique(flat, return_inverse=True)
    where = np.unravel_index(unique, a.shape)
    current = a[where]
    if is_dual(current.tangent_) or type(current.value) is not np.ndarray:
        return False
    value = np.array(current.value)
    tangent = np.array(fit_tangent(np.asarray(current.tangent_), current.directions, value.shape))
    if b_tangent is not None:
        k = max(tangent.shape[0], b_tangent.shape[0])
        if {tangent.shape[0], b_tangent.shape[0]} - {1, k}:
            return False
        tangent = np.array(np.broadcast_to(tangent, (k,) + tangent.shape[1:]))
        b_tangent = np.broadcast_to(b_tangent, (k,) + b_tangent.shape[1:])
        tangent = tangent.astype(np.result_type(tangent, b_tangent), copy=False)
    ufunc.at(value, inverse, b_value)
    if b_tangent is not None:
        ufunc.at(tangent, (slice(None), inverse), b_tangent)
    a[where] = _make_array(value, tangent, a.tag, batched)
    return True


def _call_ufunc(ufunc: np.ufunc, inputs: tuple[Any, ...]) -> Any:
    rule = UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc)
    if rule is not None:
        return rule.function(*inputs)
    if ufunc is np.matmul:
        return matmul(*inputs)
    if ufunc in VALUE_UFUNCS:
        return ufunc(*(strip(a) for a in inputs))
    derived = DERIVED_FUNCTIONS.get(ufunc)  # the gufunc products of the table (vecdot, matvec)
    if derived is not None:
        return derived(*inputs)
    multi = MULTI_OUTPUT_UFUNCS.get(ufunc)
    if multi is not None:
        return multi(*inputs)
    raise errors.no_rule(f"{errors.function_name(ufunc)}")


def _write_out(ufunc: np.ufunc, out: Any, result: Any, inputs: tuple[Any, ...] = ()) -> Any:
    outs = out if type(out) is tuple else (out,)
    results = result if type(result) is tuple else (result,)
    for target, value in zip(outs, results):
        if target is None:  # np.modf(x, out=(None, y)): that result is returned as computed
            continue
        if type(target) is not DualArray:
            if is_dual(value) and not objects.is_object_array(target):
                # (an object array holds duals: ``a *= x`` on one writes Duals into it)
                raise _lost_in_out(ufunc, target, inputs)
            target[...] = value
        else:
            check_writeable(target, "output array is read-only")
            set_item(target, Ellipsis, value)
    if type(out) is tuple and len(out) > 1:
        return tuple(r if o is None else o for r, o in zip(results, out))
    return outs[0]


def _lost_in_out(ufunc: np.ufunc, target: Any, inputs: tuple[Any, ...]) -> TypeError:
    """The error for a dual result written into a plain array. Python turns ``K[i:j] += x`` and
    ``K *= x`` into the ufunc with ``out=`` its first operand: named as the user wrote it."""
    operator = _IN_PLACE.get(ufunc)
    if operator is not None and inputs and inputs[0] is target:
        kind = errors.type_name(target)
        dtype = getattr(target, "dtype", "")
        return errors.lost_tangent(
            f"An in-place operator on a plain {kind} ({dtype}) with a dual operand (K {operator} x "
            f"or K[i:j] {operator} x, where K is not a dual array) writes the result into K, which",
            "Make K a dual array from the start, K = np.zeros(shape, like=x) instead of "
            "np.zeros(shape), so that its entries carry derivatives; or build K with "
            "np.stack([...]).",
        )
    return errors.lost_tangent(
        f"{errors.function_name(ufunc)}(..., out=<{errors.type_name(target)}>) on duals",
        "Pass a DualArray as out (np.zeros_like(x) makes one), or drop out=.",
    )


_IN_PLACE = {
    np.add: "+=", np.subtract: "-=", np.multiply: "*=", np.divide: "/=", np.true_divide: "/=",
    np.power: "**=", np.floor_divide: "//=", np.remainder: "%=", np.matmul: "@=",
}  # fmt: skip


def _foreign_leader(args: Any, kwargs: dict) -> Any:
    """The newest dual among the arguments (and the items of lists and tuples) when it is of
    another carrier, else None: a Taylor series of a derivative taken inside ``dd.jacobian``
    leads there, with this array a constant (handled here, ``np.dot(x, s)`` called itself on
    the series until the recursion limit)."""
    tag, leader = -1, None
    stack = [*args, *kwargs.values()]
    while stack:
        a = stack.pop()
        if type(a) is list or type(a) is tuple:
            stack.extend(a)
        elif is_dual(a) and (a.tag > tag or (a.tag == tag and type(leader) in _OWN)):
            tag, leader = a.tag, a
    return leader if type(leader) not in _OWN else None


_OWN = (DualArray, Dual)


def array_function(func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    """NumPy function dispatch: DualArray's own handler of ``func``, else the one its kind in the
    function table gives (``DERIVED_FUNCTIONS``), else a TypeError naming the function."""
    impl = HANDLED_FUNCTIONS.get(func) or DERIVED_FUNCTIONS.get(func)
    if impl is None:
        raise errors.no_rule(errors.function_name(func))
    args, kwargs = objects.lift_operands(func, args, kwargs)  # (lists holding duals)
    if "out" in kwargs or len(args) > errors.out_position(func):
        out, args, kwargs = errors.take_out(func, args, kwargs)
        if out is not None:  # computed, then written into out (all read before any is written)
            result = func(*args, **kwargs)
            errors.check_out_shape(func, out, result)
            return into_out(result, out, errors.function_name(func))
    result = impl(*objects.lift_arguments(args), **kwargs)
    if func in table.READ_ONLY_VIEWS and table.read_only_view(func, args, kwargs):
        read_only(result)
    scalar = _SCALAR_OF_0D.get(func)
    if scalar is not None and not any(result is a for a in args):  # (not out=, returned)
        if scalar and type(result) is DualArray and result.ndim == 0:
            return box(result)
        if not scalar and type(result) is Dual:
            return from_dual(result)
    return result


def into_out(
    result: Any, out: Any, name: str, carrier: type = DualArray, what: str = "a DualArray"
) -> Any:
    """``result`` written into ``out`` (a ``carrier``, or a tuple of one), which is returned, as
    NumPy returns its ``out=`` (Taylor mode's too). A plain array can hold a result without
    derivatives only. A tuple of several (``np.divmod(a, b, out=(q, r))``) takes one result
    each; a None among them leaves that result as computed."""
    if type(out) is tuple and len(out) > 1 and type(result) is tuple and len(result) == len(out):
        return tuple(
            r if o is None else into_out(r, o, name, carrier, what) for r, o in zip(result, out)
        )
    target = out[0] if type(out) is tuple and len(out) == 1 else out
    if type(target) is carrier:
        target[...] = result
        return target
    if holds_dual(result):
        raise errors.lost_tangent(
            f"{name}(..., out=<{errors.type_name(target)}>) on {what}",
            f"Pass {what} as out (np.zeros_like(x) makes one), or drop out=.",
        )
    np.copyto(target, result, casting="same_kind")
    return target


def holds_dual(a: Any) -> bool:
    """Whether ``a`` is a dual or a tuple/list holding one (at any depth)."""
    if type(a) is tuple or type(a) is list:
        return any(holds_dual(item) for item in a)
    return is_dual(a)


# NumPy functions whose result for a 0-d array is not what their handler gives: a scalar (True)
# or a 0-d array (False). A view of the result aliases it only where NumPy's does: into
# np.flip(a) of a 0-d a, np.expand_dims(r, 0) += 1 wrote (NumPy's r is a scalar), into
# np.block(a) it did not (NumPy's is a new 0-d array).
_SCALAR_OF_0D: dict[Any, bool] = {
    np.flip: True,
    np.kron: True,
    np.block: False,
    np.select: False,
    np.tensordot: False,
}


def _dual_ufunc_hook(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    return array_ufunc(ufunc, method, inputs, dict(kwargs))


array_hooks["ufunc"] = _dual_ufunc_hook
array_hooks["as_array"] = from_dual  # (copies a batched tangent: the Dual stays unchanged)
array_hooks["box"] = box
array_hooks["function"] = array_function


# ---------------------------------------------------------------------------------------------
# matmul: the product rule with the direction axis kept in front
# ---------------------------------------------------------------------------------------------


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` for duals: ``d(ab) = da b + a db``, for every combination of 1-d and n-d."""
    a, b = objects.lift_inputs((a, b))
    ta, tb = type(a), type(b)
    if ta is np.ndarray and tb is DualArray:  # the common cases, without conversions
        tag, x, da, y, db = b.tag, a, None, b.value, b
    elif ta is DualArray and tb is np.ndarray:
        tag, x, da, y, db = a.tag, a.value, a, b, None
    else:
        tag = max(a.tag if is_dual(a) else -1, b.tag if is_dual(b) else -1)
        if not ((ta in _OWN and a.tag == tag) or (tb in _OWN and b.tag == tag)):
            return NotImplemented  # a newer series leads (x @ s inside a derivative): its @
        x, da = _operand(a, tag)
        y, db = _operand(b, tag)
    x_ndim = x.ndim if type(x) is np.ndarray else np.ndim(x)
    y_ndim = y.ndim if type(y) is np.ndarray else np.ndim(y)
    if x_ndim == 0 or y_ndim == 0:
        raise ValueError("matmul: input operand does not have enough dimensions")
    ans = np.matmul(x, y)
    shape = ans.shape if type(ans) is np.ndarray else np.shape(ans)
    ndim = len(shape)
    out = None
    if da is not None:
        out = _matmul_left(da.tangent_, x_ndim, y, ndim)
    if db is not None:
        term = _matmul_right(x, db.tangent_, y_ndim, ndim)
        out = term if out is None else out + term
    if out.shape[1:] != shape:
        out = fit_tangent(out, out.shape[0], shape)
    batched = (da is not None and da.batched) or (db is not None and db.batched)
    result = _make_array(ans, out, tag, batched)
    return result if ndim else box(result)


def _matmul_left(ta: Any, a_ndim: int, b: Any, ndim: int) -> Any:
    """The tangent term ``da @ b`` with ``da`` of shape ``(k,) + a.shape``."""
    k = ta.shape[0]
    if a_ndim == 1:
        if np.ndim(b) == 1:
            return np.matmul(ta, b)
        lifted = ta.reshape((k,) + (1,) * (np.ndim(b) - 2) + (1, ta.shape[-1]))
        return np.matmul(lifted, b)[..., 0, :]
    if np.ndim(b) <= 2 and type(ta) is np.ndarray:
        # stack the k directions into the rows of one matrix product (a single GEMM)
        rows = np.matmul(ta.reshape(math.prod(ta.shape[:-1]), ta.shape[-1]), b)
        return rows.reshape(ta.shape[:-1] + np.shape(b)[1:])
    lifted = ta.reshape((k,) + (1,) * (ndim - a_ndim + (np.ndim(b) == 1)) + ta.shape[1:])
    return np.matmul(lifted, b)


def _matmul_right(a: Any, tb: Any, b_ndim: int, ndim: int) -> Any:
    """The tangent term ``a @ db`` with ``db`` of shape ``(k,) + b.shape``."""
    if b_ndim == 1:
        if type(tb) is IdentitySeed and type(a) is np.ndarray and a.ndim > 1:
            # a @ e_j is a column of a: no product needed; copied, as a may change later
            return tb.columns_of(a)
        if np.ndim(a) == 1:
            return np.matmul(tb, a)
        # (k, n) directions against a (..., m, n): one product a @ db.T, directions moved first
        return np.moveaxis(np.matmul(a, np.swapaxes(tb, 0, 1)), -1, 0)
    k = tb.shape[0]
    lifted = tb.reshape((k,) + (1,) * (ndim - b_ndim + (np.ndim(a) == 1)) + tb.shape[1:])
    return np.matmul(a, lifted)


# ---------------------------------------------------------------------------------------------
# Seeding and extraction support for arrays (used by ``seed`` and ``api``)
# ---------------------------------------------------------------------------------------------


def tangents_at(y: Any, tag: int, k: int) -> Any:
    """All ``k`` tangents of output ``y`` at ``tag``: shape ``(k,) + shape(y)``."""
    t = type(y)
    if t is Dual:
        y = from_dual(y)
        t = DualArray
    if t is DualArray:
        if y.tag == tag:
            return fit_tangent(y.tangent_, k, y.value.shape)
        if y.tag > tag:
            inner = _make_array(tangents_at(y.value, tag, k), None, y.tag, y.batched)
            inner.tangent_ = np.moveaxis(tangents_at(y.tangent_, tag, k), 0, 1)
            return box(inner) if inner.value.ndim == 0 else inner
        return np.zeros((k,) + y.value.shape, np.result_type(strip(y.value), 0.0))
    if t in SCALAR_TYPES or t is np.ndarray:
        return np.zeros((k,) + np.shape(y), np.result_type(y, 0.0))
    raise TypeError(f"cannot take the tangent of {errors.type_name(y)}")


def _tangent_of(y: DualArray, tag: int) -> Any:
    if y.tag == tag:
        return y.tangent
    if y.tag < tag:
        return _zeros_like(y)
    return box(_make_array(tangent_of(y.value, tag), tangent_of(y.tangent_, tag), y.tag, y.batched))


def _value_of(y: DualArray, tag: int) -> Any:
    if y.tag == tag:
        return y.value
    if y.tag < tag:
        return y
    return box(_make_array(value_of(y.value, tag), value_of(y.tangent_, tag), y.tag, y.batched))


def _zeros_like(a: Any) -> Any:
    plain = strip(a)
    return np.zeros(np.shape(plain), np.result_type(plain, 0.0))


def _join(value: Any, tangent: Any, tag: int, batched: bool = False) -> Any:
    """A dual of ``tag`` from a value and a tangent of its shape (``(k,) + shape`` if batched)."""
    if type(value) is Dual or type(value) in SCALAR_TYPES:
        value = from_dual(value) if type(value) is Dual else np.asarray(value)
    elif type(value) is not DualArray:
        value = _float_array(value, "value")
    shape = np.shape(strip(value))
    if type(tangent) is Dual:
        tangent = from_dual(tangent)
    elif type(tangent) is not DualArray:
        tangent = np.asarray(tangent)
    if not batched:
        tangent = np.reshape(tangent, (1,) + np.shape(strip(tangent)))
    got = np.shape(strip(tangent))
    if not _seed._broadcasts_into(got[1:], shape):  # (NumPy's error named neither of them)
        raise ValueError(
            f"the tangent output has shape {got[1:]}, which does not fit the value output's "
            f"shape {shape}"
        )
    tangent = fit_tangent(tangent, got[0], shape)
    return box(_make_array(value, tangent, tag, batched))


_seed.array_support.update(
    tangent_of=_tangent_of, value_of=_value_of, zeros_like=_zeros_like, join=_join
)
