"""SymbolicDual duals of a compiled JVP or Jacobian (``dualdiff.engine.jit``): the chain rule on
symbols.

A ``SymbolicDual`` holds a value symbol and its tangent (a symbol, a constant block of the seed, or
None for zero). Elementwise functions take their derivatives from the rule table (the partials
are called on symbols, so they are recorded too). A NumPy function goes to the compiler's own
handler if it has one (``_FUNCTIONS``: linear functions with the direction axis of a Jacobian
moved past their axis arguments, products), else to the handler its kind in the function table
gives (``derived``), else to the eager rule run as one instruction (``eager_rule``). Writes are
functionalised (``functional_write``). Anything else raises TypeError naming it.
"""

from __future__ import annotations

import functools
import inspect
import math
import operator
import sys
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..arrays.dualarray import DualArray, _make_array, box, strip
from ..core import errors
from ..core.errors import function_name
from ..core.methods import (
    EXTREME_UFUNCS,
    ArrayMethods,
    at_rounds,
    extreme_at,
    refused_shape_setter,
    variance,
)
from ..core.tags import NEWEST_TAG, new_tag
from ..dual.dual import Dual
from ..dual.objects import (
    add_element_methods,
    array_like,
    dtype_hidden,
    lift_arguments,
    lift_inputs,
    lift_operand,
    lift_operands,
    object_array,
    refuse_or_warn,
    scalar_object_array,
)
from ..rules import functions as table
from ..rules.calls import Call
from ..rules.compositions import COMPOSITIONS, kept_where
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
    register_lift,
    scale,
    select,
    tangent_in,
)
from .program import (
    CONVERSIONS,
    DUAL_TYPES,
    FRESH_FUNCTIONS,
    STATIC_SHAPE,
    Retrace,
    Sym,
    TangentBlock,
    ValueBound,
    _cast,
    _has_dual,
    _replaced,
    _shape,
    _symbols,
    float_refused,
    guard_shapes,
    specialise,
    static_index,
    static_parameters,
    user_code,
)
from .program import (
    _leaves as _all_leaves,
)

_SQUARE = RULES["square"]
_POWER = RULES["power"]


# ---------------------------------------------------------------------------------------------
# SymbolicDual: a dual of two symbols (value, tangent); None is an exactly zero tangent
# ---------------------------------------------------------------------------------------------


def _dtype(value: Any) -> Any:
    if dtype_hidden(3):  # asked by NumPy's mean (see dualdiff.dual.objects.dtype_hidden)
        raise AttributeError("dtype")
    return value.dtype


class SymbolicDual(ValueBound, NDArrayOperatorsMixin, ArrayMethods):
    """What ``f`` receives while being traced: a value symbol and its tangent symbol."""

    __slots__ = ("value", "tangent", "storage", "path", "__weakref__")
    tag = NEWEST_TAG  # newer than any eager dual: dualdiff's own functions defer to NumPy dispatch
    kind = "dual"
    # an eager differentiation inside a compiled function, at a point computed from x: its
    # rules read values (finiteness checks, lazy seeds), which a trace does not have
    nesting_refused = (
        "its point is a traced array of dualdiff.jit (computed from the compiled function's "
        "input), and an eager differentiation cannot run inside a compiled function; "
        "differentiate the whole function with jit_jacobian/jit_jvp (or the eager functions)"
    )

    # Python conversions as an eager dual's: the piecewise-constant ones read the value (and
    # are guarded, see ``specialise``); float(), int() and the like would drop the derivative
    _VALUE_CONVERSIONS = frozenset(("bool", "round", "floor", "ceil", "trunc", "format"))

    def _convert(self, kind: str, what: str, caller: Any, *extra: Any) -> Any:
        if kind in self._VALUE_CONVERSIONS:
            value = self.value
            if type(value) is Sym:
                return specialise(value, kind, what, caller, *extra)
            return CONVERSIONS[kind](value, *extra)
        if kind == "float":
            raise float_refused(self.kind)
        raise errors.lost_tangent(
            f"dualdiff.jit: {kind}() of a traced dual",
            "Use the dual itself (x[i] for an element, np.round(x) or np.floor(x) for a "
            "piecewise-constant number), or its .value where no derivative is wanted.",
        )

    def __init__(self, value: Any, tangent: Any) -> None:
        self.value, self.tangent = value, tangent
        # the array this one is a view of and how (see ``_Storage``), once a view or a write
        # made it matter
        self.storage: _Storage | None = None
        self.path: tuple | None = None

    shape = property(
        lambda self: np.shape(self.value.value),
        refused_shape_setter("a traced array (dualdiff.jit)"),
    )
    dtype = property(lambda self: _dtype(self.value.value))  # (none for np.mean of objects)
    ndim = property(lambda self: np.ndim(self.value.value))
    size = property(lambda self: np.size(self.value.value))
    real = property(lambda self: np.real(self))
    imag = property(lambda self: np.imag(self))

    # y.real = v and y.imag = v write into y's memory, as ndarray's setters do
    @real.setter
    def real(self, value: Any) -> None:
        self.real[...] = value

    @imag.setter
    def imag(self, value: Any) -> None:
        if np.dtype(self.dtype).kind != "c":
            raise TypeError("array does not have imaginary part to set")
        self.imag[...] = value

    def __len__(self) -> int:
        return len(self.value.value)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def conjugate(self) -> Any:
        return np.conjugate(self)

    def conj(self) -> Any:
        return np.conjugate(self)

    # one element (a traced 0-d dual) or nested lists of them, as eager mode gives duals with
    # their tangents kept: no value of x is read (ValueBound's refusal is for plain arrays)
    item = ArrayMethods.item
    tolist = ArrayMethods.tolist

    def copy(self, order: str = "C") -> SymbolicDual:
        # ndarray.copy is in C order (np.copy keeps the layout): a reshape of the copy of a
        # Fortran-ordered array views it or copies it as NumPy's does
        return np.copy(self, order=order)

    def view(self) -> SymbolicDual:
        result = SymbolicDual(self.value, self.tangent)
        _track_view(self, result, None)  # writes through either reach the other
        return result

    def __reduce_ex__(self, protocol: Any) -> Any:
        # pickle would copy the whole program, and the copy's instructions are not this one's:
        # the compiled function then failed with an IndexError
        raise TypeError(
            "dualdiff.jit: a traced array cannot be pickled (it stands for values computed at "
            "each call); use x.copy() for a copy inside f, or pickle what the compiled function "
            "returns"
        )

    @property
    def batched(self) -> bool:
        # asked by eager code that met a traced dual (a custom_jvp function): not traceable
        raise TypeError(
            "dualdiff.jit: eager dualdiff code (a custom_jvp function, ...) met a traced dual; "
            "it cannot be compiled: use the eager dualdiff.jvp/jacobian"
        )

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        if np.dtype(dtype).kind not in "fc":
            raise errors.lost_tangent(f"astype({dtype}) of a traced dual", "Keep a float dtype.")
        if not copy and np.dtype(dtype) == self.dtype:
            return self  # NumPy's astype(copy=False) returns the array itself: writes reach it
        tangent = None if self.tangent is None else _astype(_tangent(self), dtype)
        return SymbolicDual(_astype(self.value, dtype), tangent)

    def __pow__(self, other: Any) -> Any:
        if type(other) is int and other == 2:
            return apply_rule(_SQUARE, (self,))
        if type(other) is list or type(other) is tuple:  # x ** [d, 2.0]: as np.power's inputs
            return np.power(self, other)
        return apply_rule(_POWER, (self, other))

    def __getitem__(self, index: Any) -> SymbolicDual:
        if _has_dual(index):
            raise TypeError("dualdiff.jit: an index cannot carry a derivative")
        index = static_index(index, sys._getframe(1))
        return _linear_one(operator.getitem, self, (index,), {})

    def __setitem__(self, index: Any, item: Any) -> None:
        if _has_dual(index):
            raise TypeError("dualdiff.jit: an index cannot carry a derivative")
        if type(item) is list or type(item) is tuple:  # y[:2] = [d, 1.0]: the array it stands for
            item = array_like(item)
        functional_write(self, "item assignment (x[i] = ...)", operator.setitem, (index, _ITEM),
                         {}, item)  # fmt: skip

    # ndarray's methods that write in place: a functional copy-and-set (``functional_write``)
    def fill(self, value: Any) -> None:
        functional_write(self, "x.fill(...)", operator.setitem, (Ellipsis, _ITEM), {}, value)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self[...] = np.sort(self, *args, **kwargs)

    def partition(self, *args: Any, **kwargs: Any) -> None:
        self[...] = np.partition(self, *args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> None:
        np.put(self, *args, **kwargs)

    def resize(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.resize(...)")

    def setfield(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.setfield(...)")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None:
            out = kwargs["out"]
            out = out if type(out) is tuple else (out,)
            if (
                ufunc.nout == 1
                and len(out) == 1
                and type(out[0]) is SymbolicDual
                and (
                    set(kwargs) <= {"out", "where"}
                    if method == "__call__"
                    else method in ("reduce", "accumulate", "reduceat")
                )
            ):  # x += v: x[...] = x + v, functionally (np.add.reduce(y, out=s): s[...] = ...)
                options = {k: v for k, v in kwargs.items() if k not in ("out", "where")}
                if method != "__call__":
                    result = getattr(ufunc, method)(*inputs, **{**kwargs, "out": None})
                    errors.check_out_shape(ufunc, out[0], result)
                else:
                    result = ufunc(*inputs, **options)
                if method == "__call__" and kwargs.get("where", True) is not True:
                    result = kept_where(ufunc, kwargs["where"], out[0], result)
                what = f"{function_name(ufunc)}(..., out=x) or an in-place operator (x += ...)"
                functional_write(out[0], what, operator.setitem, (Ellipsis, _ITEM), {}, result)
                return out[0]
            if (
                method == "__call__"
                and ufunc.nout == len(out) > 1
                and all(o is None or type(o) is SymbolicDual for o in out)
                and any(o is not None for o in out)
                and set(kwargs) == {"out"}
            ):  # np.divmod(a, b, out=(q, r)): each result written into its out, functionally
                results = ufunc(*inputs)
                what = f"{function_name(ufunc)}(..., out=(...))"
                for o, r in zip(out, results):
                    if o is not None:
                        functional_write(o, what, operator.setitem, (Ellipsis, _ITEM), {}, r)
                return tuple(r if o is None else o for o, r in zip(out, results))
            raise write_refused(
                f"{function_name(ufunc)}(..., out=...) or an in-place operator (x += ..., x *= ...)"
            )
        if method == "at":
            inputs = (*inputs[:2], *lift_inputs(inputs[2:]))  # np.add.at(y, i, [d, 1.0])
            if (
                ufunc in (np.add, np.subtract)
                and len(inputs) == 3
                and type(inputs[0]) is SymbolicDual
            ):
                return _accumulate_write(ufunc, *inputs)
            if type(inputs[0]) is SymbolicDual and len(inputs) == 1 + ufunc.nin and not kwargs:
                return _rounds_write(ufunc, *inputs)
            raise write_refused(f"{function_name(ufunc)}.at")
        inputs = lift_inputs(inputs)  # object arrays of traced duals, lists holding them
        if method == "__call__" and not kwargs:
            rule = UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc)
            if rule is not None:
                return apply_rule(rule, inputs)
            if ufunc in VALUE_UFUNCS:  # comparisons and tests: no derivative
                return ufunc(*(_value(a) for a in inputs))
            if ufunc is np.matmul:
                try:
                    return _bilinear(np.matmul, inputs[0], inputs[1], (), {})
                except _Unsupported:
                    return eager_rule(np.matmul, inputs, {})
            if ufunc in table.FUNCTIONS:  # the gufunc products of the table (vecdot, matvec)
                return _dispatch(ufunc, inputs, {})
            if ufunc is np.divmod or ufunc is np.modf:  # two outputs, each a rule of the table
                return MULTI_OUTPUT_UFUNCS[ufunc](*inputs)  # (frexp's exponent reads values)
        if ufunc is np.add and method in ("reduce", "accumulate") and len(inputs) == 1:
            # (axis=None is every axis, not the default axis 0)
            options = {k: v for k, v in kwargs.items() if v is not None or k == "axis"}
            axis = options.pop("axis", 0)
            if method == "reduce" and set(options) <= {"keepdims"}:
                return np.sum(inputs[0], axis=axis, keepdims=bool(options.get("keepdims")))
            if method == "accumulate" and not options and axis is not None:
                return np.cumsum(inputs[0], axis=axis)
        if method in ("__call__", "reduce", "accumulate", "reduceat", "outer"):
            fn = ufunc if method == "__call__" else getattr(ufunc, method)
            if UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc) or ufunc in _EAGER_UFUNCS:
                return eager_rule(fn, inputs, kwargs)
        raise errors.no_rule(
            f"{function_name(ufunc)}"
            + ("" if method == "__call__" else f".{method}")
            + " under dualdiff.jit"
        )

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in table.LIKE_CONSTRUCTORS and not _has_dual((args, tuple(kwargs.values()))):
            return _construct_like(func, self, args, kwargs)  # np.zeros(n, like=x)
        if func in _WRITING_FUNCTIONS:
            return _writing_function(func, args, kwargs)
        if "out" in kwargs or len(args) > errors.out_position(func):
            target, rest, options = errors.take_out(func, args, kwargs)
            if type(target) is SymbolicDual:  # np.cumsum(x, out=y): y[...] = np.cumsum(x)
                result = func(*rest, **options)
                errors.check_out_shape(func, target, result)
                what = f"{function_name(func)}(..., out=y)"
                functional_write(target, what, operator.setitem, (Ellipsis, _ITEM), {}, result)
                return target
        args, kwargs = lift_operands(func, args, kwargs)  # operands: lists holding traced duals
        result = _dispatch(func, lift_arguments(args), kwargs)
        _note_aliases((args, kwargs), result, func)
        return result

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # np.array([...]) of traced duals, np.asarray(x): an object array of traced elements
        # (each read is an instruction), lifted back into a stacking instruction where it meets
        # a traced dual or is returned (dualdiff.dual.objects)
        if dtype is not None and np.dtype(dtype) != object:
            raise TypeError(
                "dualdiff.jit: writing a traced dual into a plain array (y[i] = x, y[i:j] = x, "
                "y[i] += x; np.zeros_like(x) is a plain array while tracing) or converting it to "
                f"{np.dtype(dtype)} (np.asarray(x, dtype=float), x.astype(float)) would drop its "
                "tangent and cannot be compiled; build the result without writing (np.where, "
                "np.concatenate, np.stack), or use the eager dualdiff.jvp or dualdiff.jacobian"
            )
        refuse_or_warn(
            "numpy.asarray(x)/numpy.array([...]) of traced duals",
            "For full speed pass the traced array on and build arrays with np.stack([...]).",
            dtype,
            copy,
        )
        if not self.shape:
            out = scalar_object_array(self)
            if type(_concrete_value(self)) is np.ndarray and copy is not True:
                # NumPy's np.asarray of a 0-d array is the array: a write into this copy would
                # be lost, so it fails loudly, as for larger arrays (a scalar's is a new array)
                out.flags.writeable = False
            return out
        items = [self[index] for index in np.ndindex(*self.shape)]
        like = _concrete_value(self)
        return object_array(items, self.shape, writable=copy is True, like=like)


def _dispatch(func: Any, args: Any, kwargs: Any) -> Any:
    """The compiler's own handler first (faster, or with the direction axis handled), then the
    one the function table's kind gives, then the eager rule run as one instruction."""
    handler = _FUNCTIONS.get(func)
    if handler is not None:
        try:
            return handler(func, args, kwargs)
        except _Unsupported:
            pass
    entry = table.entry(func)
    if entry is not None:
        try:
            return derived(entry, args, kwargs)
        except _Unsupported:
            pass
    return eager_rule(func, args, kwargs)


def write_refused(what: str) -> TypeError:
    """The error for a write into an array while tracing. The compiler records operations that
    make new arrays; a write into an array (through a view, into ``out=``, in place) would not
    reach the arrays that alias it, and the compiled program would silently return the
    un-updated result, so it refuses."""
    return TypeError(
        f"dualdiff.jit: {what} writes into an array in place, which the compiler cannot trace "
        "(the write would not reach the arrays that share its memory); build the result "
        "without writing (np.where, np.concatenate, np.stack), or use the eager dualdiff.jvp "
        "or dualdiff.jacobian, which honour in-place updates and writes through views"
    )


_WRITING_FUNCTIONS = frozenset(
    (np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis)
)
"""NumPy functions that write into their first argument."""


def _refuse_out(func: Any, args: Any, kwargs: Any) -> dict:
    """``kwargs`` without ``out``; an ``out`` array given by keyword or by position refuses."""
    out = kwargs.get("out")
    if out is None and "out" in _parameters_of(func):
        out = errors.bound_arguments(func, args, kwargs).get("out")
    if out is not None:
        raise write_refused(f"{function_name(func)}(..., out=...)")
    return {k: v for k, v in kwargs.items() if k != "out"}


@functools.cache
def _parameters_of(func: Any) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return ()


def _astype(a: Any, dtype: Any) -> Any:
    """``a.astype(dtype)`` for a symbol (recorded) or a constant."""
    if type(a) is Sym:
        return a.program.record(_cast, (a, np.dtype(dtype)), {})
    return a.astype(dtype)


def _mark(result: Any, *sources: Any) -> Any:
    """A constant tangent made from tangent blocks by a NumPy function that returns a plain
    array (concatenate, where, broadcast_to): marked as a block again."""
    if type(result) is np.ndarray and any(type(a) is TangentBlock for a in _leaves(sources)):
        return result.view(TangentBlock)
    return result


def _leaves(items: Any) -> Any:
    for item in items:
        if type(item) in (list, tuple):
            yield from _leaves(item)
        else:
            yield item


def _flag(option: Any) -> bool:
    """A NumPy boolean option (``keepdims=1`` counts), absent when ``np._NoValue``."""
    return option is not np._NoValue and bool(option)


def _plain_operand(a: Any) -> Any:
    """A list or tuple operand as the array NumPy would make of it (so that it broadcasts
    against the direction axis of a Jacobian like an array)."""
    return np.asarray(a) if type(a) in (list, tuple) else a


def _value(a: Any) -> Any:
    return a.value if type(a) is SymbolicDual else a


def _tangent(a: Any) -> Any:
    """The tangent of ``a`` as an array (a scaled block is multiplied out, once)."""
    if type(a) is not SymbolicDual:
        return None
    if type(a.tangent) is _Scaled:
        a.tangent = _fit(a.tangent.array(), a.value)
    return a.tangent


class _Scaled:
    """A Jacobian's tangent ``coefficient * block``: a traced array of the value's shape (with a
    length-1 direction axis) times a constant block of the seed. Products with partials and sums
    over the same block stay on the coefficient, so ``v * (u + u) * du`` costs one pass over the
    ``k`` directions, when the tangent is finally needed, instead of three."""

    __slots__ = ("coefficient", "block")

    def __init__(self, coefficient: Sym, block: np.ndarray) -> None:
        self.coefficient, self.block = coefficient, block

    def array(self) -> Any:
        coefficient, block = self.coefficient, self.block
        program = coefficient.program
        if np.shape(coefficient.value) == block.shape[:-1] + (1,) and block.size:
            positions = np.flatnonzero(block)
            # a sparse block (slices of the identity seed): scattering its few non-zeros beats
            # a product over every entry once under 1 in 8 is non-zero (measured: 0.7-0.86 of
            # the time at 10%-0.1%, but 1.5 times it at 25%, the 4 colours of a sparse pass)
            if 8 * positions.size <= block.size:
                rows = positions // block.shape[-1]
                values = block.reshape(-1)[positions]
                args = (coefficient, rows, positions, np.asarray(values), block.shape)
                return program.record(_scatter_times_block, args, {})
        return program.record(_times_block, (coefficient, block), {})

    def times(self, p: Any) -> _Scaled:
        return _Scaled(p * self.coefficient, self.block)


def _times_block(coefficient: np.ndarray, block: np.ndarray) -> np.ndarray:
    """``coefficient * block``; where an infinite coefficient meets a zero of the block the
    product is 0, as multiplying the partials into the tangent one at a time would give."""
    if all_finite(coefficient):
        return coefficient * block
    with np.errstate(invalid="ignore"):  # inf * 0, replaced just below
        out = coefficient * block
    out[np.broadcast_to(block == 0, out.shape)] = 0.0
    return out


def _scatter_times_block(
    coefficient: np.ndarray, rows: np.ndarray, positions: np.ndarray, values: np.ndarray, shape: Any
) -> np.ndarray:
    """``coefficient * block`` for a block given by its non-zeros (flat ``positions``, their
    ``values`` and the ``rows`` of the coefficient they scale): zeros written once and the
    non-zeros placed, instead of a product over every entry. Zeros of the block stay exactly
    zero, as in ``_times_block``."""
    out = np.zeros(shape, np.result_type(coefficient, values))
    out.reshape(-1)[positions] = coefficient.reshape(-1)[rows] * values
    return out


def _scaled(p: Any, t: Any) -> Any:
    """``p * t`` for a partial ``p``, kept as a scaled block where that saves passes."""
    if type(t) is _Scaled:
        return t.times(p)
    if type(p) is Sym and isinstance(t, np.ndarray) and np.shape(p.value)[-1:] == (1,):
        return _Scaled(p, t)
    return p * t


def _multiplied(t: Any) -> Any:
    return t.array() if type(t) is _Scaled else t


def _directions(value: Any) -> int | None:
    return value.program.directions if type(value) is Sym else None


def _fit(tangent: Any, value: Any) -> Any:
    """A tangent broadcast to its value's shape (``x + y`` with ``x`` smaller than ``y``), with
    the direction axis last in a Jacobian."""
    if tangent is None:
        return None
    k = _directions(value)
    target = _shape(value) + (() if k is None else (k,))
    if _shape(tangent) == target:
        return tangent
    return _mark(np.broadcast_to(tangent, target), tangent)


def _expand(a: Any) -> Any:
    """A value with a length-1 direction axis appended, so that it broadcasts against tangents
    of a Jacobian (direction axis last)."""
    if type(a) is Sym or type(a) is np.ndarray:
        return a[..., None]
    return a


def _add(terms: list[Any]) -> Any:
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    if len(terms) > 1 and all(type(t) is _Scaled for t in terms):
        if all(t.block is terms[0].block for t in terms):  # one block: add the coefficients
            return _Scaled(_add([t.coefficient for t in terms]), terms[0].block)
    terms = [_multiplied(t) for t in terms]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def apply_rule(rule: Rule, inputs: tuple[Any, ...]) -> Any:
    """One rule of the table on traced arguments: the value through the rule, the tangent from
    its partials (or its jvp form), the same maths eager mode does."""
    for a in inputs:
        if type(a) is not SymbolicDual and is_dual(a):
            raise TypeError(
                f"dualdiff.jit: {errors.type_name(a)} met a traced array: differentiating inside "
                "a compiled function is not supported; use the eager dualdiff functions"
            )
    values = tuple(_plain_operand(_value(a)) for a in inputs)
    tangents = tuple(a.tangent if type(a) is SymbolicDual else None for a in inputs)
    if rule.jvp is not None or rule.safe:
        tangents = tuple(_tangent(a) for a in inputs)
    if isinstance(rule.array, np.ufunc):
        result = ans = rule.array(*values)
    else:  # a function written in NumPy (sigmoid, xlogy, ...): one instruction, run as it is
        program = next(v.program for v in values if type(v) is Sym)
        result = ans = program.record(rule.array, values, {})
    if type(ans) is not Sym or all(t is None for t in tangents) or rule.zero:
        return ans if type(ans) is not Sym else SymbolicDual(ans, None)
    dtype = ans.value.dtype
    if any(getattr(v, "dtype", dtype) != dtype for v in values):
        # partials in the result's dtype, as NumPy computes the value (a float32 operand of a
        # float64 result, a float_power of float32): recorded casts, at trace time only
        values = tuple(_operand_in(v, dtype) for v in values)
    if ans.program.directions is not None:  # partials broadcast over the direction axis
        values, ans = tuple(_expand(v) for v in values), _expand(ans)
    if rule.jvp is not None:
        tangent = _numpy_semantics(rule.jvp, (*values, *tangents, ans))
    else:
        terms = []
        for partial, t in zip(rule.partials, tangents):
            if t is None or partial is None:
                continue
            if type(partial) is float:
                if type(t) is _Scaled:
                    terms.append(t if partial == 1.0 else t.times(partial))
                else:
                    terms.append(t if partial == 1.0 else (-t if partial == -1.0 else partial * t))
            else:
                p = _numpy_semantics(partial, (*values, ans))
                if rule.select:  # an unselected argument's inf or NaN tangent gives nothing
                    terms.append(ans.program.record(select, (p, _multiplied(t)), {}))
                    continue
                if not rule.safe:
                    terms.append(_scaled(p, t))
                    continue
                g = _denominator(p)
                fn, args = (_quotient, (t, g)) if g is not None else (scale, (p, t))
                terms.append(ans.program.record(fn, args, {}))
        tangent = _add(terms)
    tangent_dtype = _dtype_of(tangent)
    if tangent_dtype is not None and tangent_dtype != dtype:  # the value's dtype, as eager
        cast = tangent_in(np.zeros((), tangent_dtype), dtype).dtype
        if cast != tangent_dtype:
            tangent = _astype(_multiplied(tangent), cast)
    if type(tangent) is _Scaled:
        return SymbolicDual(result, tangent)
    return SymbolicDual(result, _fit(tangent, result))


def _operand_in(v: Any, dtype: Any) -> Any:
    """A rule's operand in the result's float ``dtype`` when it holds fewer bits."""
    if type(v) is Sym:
        d = v.value.dtype
        if d.kind in "fc" and dtype.kind in "fc" and d != dtype and np.can_cast(d, dtype):
            return _astype(v, dtype)
        return v
    return in_dtype(v, dtype)


def _dtype_of(t: Any) -> Any:
    """The dtype of a traced tangent (None for a Python number)."""
    if type(t) is _Scaled:
        return np.result_type(_dtype_of(t.coefficient), t.block.dtype)
    return getattr(t, "dtype", None)


_PYTHON_ERRORS = (ZeroDivisionError, OverflowError, ValueError)


def _numpy_semantics(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``fn(*args)``, where a partial evaluated on constants follows NumPy, as eager mode does:
    a Python float divided by zero (or overflowing, or out of a ``math`` domain) raises, a NumPy
    float gives inf or nan with NumPy's warning. The rare call that raised is redone on NumPy
    scalars; a scalar result becomes a Python number again, so that it promotes as weakly as the
    constant it came from (a float32 tangent stays float32)."""
    try:
        return fn(*args)
    except _PYTHON_ERRORS:
        python = tuple(type(a) in (int, float, complex) for a in args)
        if not any(python):
            raise
        result = fn(*(np.asarray(a)[()] if p else a for a, p in zip(args, python)))
        return result.item() if type(result) in (np.float64, np.complex128) else result


def _denominator(p: Any) -> Any:
    """``g`` when the partial ``p`` was recorded as ``1 / g`` (log, log1p, ...), else None."""
    if type(p) is not Sym:
        return None
    instruction = p.program.instructions[p.index]
    if instruction.fn is not np.divide or instruction.kwargs:
        return None
    one, g = instruction.args
    return g if type(one) in (int, float) and one == 1 and type(g) is Sym else None


def _quotient(t: Any, g: Any) -> Any:
    """``t / g``: the tangent of a rule whose partial is ``1 / g``, in one pass instead of two.
    Where ``g`` is 0 (an infinite partial), a zero tangent stays zero, as ``scale`` keeps it."""
    if all_finite(g) and (g.all() if type(g) is np.ndarray else g != 0):
        return t / g
    return scale(1.0 / g, t)


# Runtime helpers that return new arrays and keep no view of their arguments.
FRESH_FUNCTIONS.update((scale, _quotient, _times_block, _scatter_times_block))


def _register_lift() -> None:
    def unary(rule: Rule, a: SymbolicDual) -> Any:
        return apply_rule(rule, (a,))

    def binary(rule: Rule, a: Any, b: Any) -> Any:
        # an np.array([...]) of traced elements (an object array) as the traced array it holds,
        # as eager mode lifts it: left as it is, its values and partials were object arrays
        return apply_rule(rule, (lift_operand(a), lift_operand(b)))

    register_lift(SymbolicDual, 50, unary, binary)
    DUAL_TYPES.add(SymbolicDual)


_register_lift()
add_element_methods(SymbolicDual)  # np.sin(a) of an object array of traced duals calls e.sin()


# ---------------------------------------------------------------------------------------------
# NumPy functions under tracing
# ---------------------------------------------------------------------------------------------

_FUNCTIONS: dict[Any, Callable[..., Any]] = {}


class _Unsupported(TypeError):
    """A handler cannot compile this call as it was made: the next in line is tried (the one the
    function table's kind gives, then the eager rule as one instruction, see ``eager_rule``)."""


def _check_plain(name: str, items: Any) -> None:
    if _has_dual(items):
        raise _Unsupported(
            f"dualdiff.jit: {name} differentiates with respect to its array argument only"
        )


def _linear_one(
    func: Any, a: Any, rest: tuple[Any, ...], kwargs: dict[str, Any], track: bool = True
) -> Any:
    """A function linear in its first argument: the same call on the value and the tangent."""
    _check_plain(function_name(func), (rest, tuple(kwargs.values())))
    if type(a) is not SymbolicDual:
        return func(a, *rest, **kwargs)
    if func is not operator.getitem:  # (its index: ``static_index``)
        rest, kwargs = static_parameters(func, (a, *rest), kwargs, True)
        rest = rest[1:]
    value = func(a.value, *rest, **kwargs)
    t = _tangent(a)
    if t is None:
        tangent = None
    elif _directions(a.value) is None:
        tangent = func(t, *rest, **kwargs)
    else:
        tangent = _batched_linear(func, t, a.value, value, rest, kwargs)
    if type(value) in (tuple, list):
        tangents = [None] * len(value) if tangent is None else tangent
        return type(value)(SymbolicDual(v, t) for v, t in zip(value, tangents))
    result = SymbolicDual(value, tangent)
    if track:
        _track_view(a, result, (func, rest, tuple(kwargs.items())))
    return result


def _linear_sequence(func: Any, arrays: Any, rest: tuple[Any, ...], kwargs: dict) -> Any:
    """A function linear in a sequence of arrays (concatenate, stack): missing tangents are
    zeros of their value's shape."""
    _check_plain(function_name(func), (rest, tuple(kwargs.values())))
    arrays = list(arrays)
    value = func([_value(a) for a in arrays], *rest, **kwargs)
    if all(_tangent(a) is None for a in arrays):
        return SymbolicDual(value, None) if type(value) is Sym else value
    k = _directions(value)
    tail = () if k is None else (k,)
    tangents = [
        _tangent(a) if _tangent(a) is not None else np.zeros(_shape(_value(a)) + tail)
        for a in arrays
    ]
    if k is None:
        return SymbolicDual(value, func(tangents, *rest, **kwargs))
    return SymbolicDual(value, _batched_sequence(func, tangents, arrays, value, rest, kwargs))


def _bilinear(func: Any, a: Any, b: Any, rest: tuple[Any, ...], kwargs: dict) -> Any:
    """A product: ``d(a·b) = da·b + a·db``."""
    _check_plain(function_name(func), (rest, tuple(kwargs.values())))
    value = func(_value(a), _value(b), *rest, **kwargs)
    if _directions(value) is not None:
        return SymbolicDual(value, _fit(_batched_product(func, a, b, value, rest, kwargs), value))
    terms = []
    if _tangent(a) is not None:
        terms.append(func(_tangent(a), _value(b), *rest, **kwargs))
    if _tangent(b) is not None:
        terms.append(func(_value(a), _tangent(b), *rest, **kwargs))
    return SymbolicDual(value, _fit(_add(terms), value))


# -- Jacobians: tangents with the direction axis last ------------------------------------------


def _not_batched(func: Any) -> TypeError:
    return _Unsupported(
        f"dualdiff.jit_jacobian has no compiled rule for {function_name(func)} with these "
        "arguments; the eager dualdiff.jacobian(f, x) differentiates it if dualdiff has a "
        "derivative rule for it"
    )


def _axes(axis: Any, ndim: int, func: Any) -> tuple[int, ...]:
    """``axis`` (None: all) as non-negative axes of an ``ndim``-dimensional value."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    if not all(isinstance(i, (int, np.integer)) for i in items):
        raise _not_batched(func)
    return tuple(int(i) % max(ndim, 1) for i in items)


def _one_axis(axis: Any, ndim: int, func: Any) -> int:
    if not isinstance(axis, (int, np.integer)):
        raise _not_batched(func)
    return int(axis) % max(ndim, 1)


def _batched_linear(func: Any, t: Any, a: Any, value: Any, rest: tuple, kwargs: dict) -> Any:
    return _mark(_batched_linear_call(func, t, a, value, rest, kwargs), t)


def _batched_linear_call(func: Any, t: Any, a: Any, value: Any, rest: tuple, kwargs: dict) -> Any:
    """The tangent of ``func(a, *rest, **kwargs)`` (linear in ``a``) for tangents ``t`` of shape
    ``a.shape + (k,)``: the same call with the axes arguments moved past the direction axis."""
    nd = len(_shape(a))
    if func is operator.getitem:
        index = rest[0]
        if index is Ellipsis or (type(index) is tuple and any(i is Ellipsis for i in index)):
            index = (index if type(index) is tuple else (index,)) + (slice(None),)
        if isinstance(t, np.ndarray) and _symbols(index):  # a constant indexed by traced ints
            return a.program.record(operator.getitem, (t, index), {})
        return t[index]
    try:
        options = errors.bound_arguments(func, (a,) + tuple(rest), kwargs)
    except (TypeError, ValueError):
        raise _not_batched(func) from None
    options.pop(next(iter(options)))  # the array itself
    if func in (np.reshape, np.ravel, np.real, np.imag, np.copy):
        if func in (np.reshape, np.ravel) and options.get("order", "C") != "C":
            raise _not_batched(func)
        if func in (np.real, np.imag, np.copy):
            return func(t)
        return np.reshape(t, _shape(value) + (t.shape[-1],))
    if func is np.transpose or func is np.matrix_transpose:
        if func is np.matrix_transpose:
            axes = tuple(range(nd - 2)) + (nd - 1, nd - 2)
        else:
            given = options.get("axes")
            axes = tuple(reversed(range(nd))) if given is None else _axes(given, nd, func)
        return np.transpose(t, axes + (nd,))
    if func is np.swapaxes:
        first, second = (_one_axis(options[n], nd, func) for n in ("axis1", "axis2"))
        return np.swapaxes(t, first, second)
    if func is np.moveaxis:
        source = _axes(options["source"], nd, func)
        destination = _axes(options["destination"], nd, func)
        return np.moveaxis(t, source, destination)
    if func is np.squeeze:
        axis = options.get("axis")
        if axis is None:
            axis = tuple(i for i, n in enumerate(_shape(a)) if n == 1)
        return np.squeeze(t, _axes(axis, nd, func))
    if func is np.expand_dims:
        return np.expand_dims(t, _axes(options["axis"], len(_shape(value)), func))
    if func in (np.flip, np.fliplr, np.flipud):
        axis = {np.fliplr: 1, np.flipud: 0}.get(func, options.get("axis"))
        return np.flip(t, _axes(axis, nd, func))
    if func is np.broadcast_to:
        return np.broadcast_to(t, _shape(value) + (t.shape[-1],))
    if func in (np.sum, np.mean):
        extra = {k: v for k, v in options.items() if k not in ("axis", "keepdims")}
        if any(v is not None and v is not np._NoValue for v in extra.values()):
            raise _not_batched(func)
        axes = _axes(options.get("axis"), nd, func)
        return func(t, axis=axes, keepdims=_flag(options.get("keepdims")))
    if func is np.cumsum:
        if options.get("dtype") is not None:
            raise _not_batched(func)
        axis = options.get("axis")
        if axis is None:
            return np.cumsum(np.reshape(t, (math.prod(_shape(a)), t.shape[-1])), axis=0)
        return np.cumsum(t, axis=_one_axis(axis, nd, func))
    if func is np.diff:
        if options.get("prepend", np._NoValue) is not np._NoValue or (
            options.get("append", np._NoValue) is not np._NoValue
        ):
            raise _not_batched(func)
        axis = _one_axis(options.get("axis", -1), nd, func)
        return np.diff(t, n=options.get("n", 1), axis=axis)
    if func is np.roll and options.get("axis") is not None:
        return np.roll(t, options["shift"], axis=_axes(options["axis"], nd, func))
    if func is np.take and options.get("axis") is not None and options.get("mode") is None:
        return np.take(t, options["indices"], axis=_one_axis(options["axis"], nd, func))
    if func is np.atleast_1d and nd >= 1:
        return t
    raise _not_batched(func)


def _batched_sequence(
    func: Any, tangents: list[Any], arrays: list[Any], value: Any, rest: tuple, kwargs: dict
) -> Any:
    return _mark(_batched_sequence_call(func, tangents, arrays, value, rest, kwargs), tangents)


def _batched_sequence_call(
    func: Any, tangents: list[Any], arrays: list[Any], value: Any, rest: tuple, kwargs: dict
) -> Any:
    """``concatenate``/``stack`` (and ``hstack``/``vstack`` through them) of tangents with the
    direction axis last."""
    options = errors.bound_arguments(func, ([None],) + tuple(rest), kwargs)
    nd = len(_shape(_value(arrays[0])))
    extra = {k: v for k, v in options.items() if k not in ("arrays", "tup", "axis")}
    if any(v is not None and v != "same_kind" for v in extra.values()):
        raise _not_batched(func)
    if func is np.concatenate:
        axis = options.get("axis", 0)
        if axis is None:
            # sizes spelled out: -1 is ambiguous for an empty array
            flat = [np.reshape(t, (math.prod(_shape(t)[:-1]), t.shape[-1])) for t in tangents]
            return np.concatenate(flat)
        return np.concatenate(tangents, axis=_one_axis(axis, nd, func))
    if func is np.stack:
        return np.stack(tangents, axis=_one_axis(options.get("axis", 0), nd + 1, func))
    if func is np.hstack:
        return np.concatenate(tangents, axis=0 if nd == 1 else 1)
    if func is np.vstack:
        if nd == 1:
            return np.stack(tangents, axis=0)
        return np.concatenate(tangents, axis=0)
    raise _not_batched(func)


def _batched_product(func: Any, a: Any, b: Any, value: Any, rest: tuple, kwargs: dict) -> Any:
    """``d(a·b) = da·b + a·db`` for matmul (and dot, outer, einsum) with the direction axis
    last: the directions move to the front as a batch axis and back."""
    ta, tb = _tangent(a), _tangent(b)
    va, vb = _value(a), _value(b)
    na, nb = len(_shape(va)), len(_shape(vb))
    if func is np.outer:
        va, vb = np.ravel(va), np.ravel(vb)
        terms = []
        # sizes spelled out: -1 is ambiguous for an empty array
        if ta is not None:
            size = math.prod(_shape(ta)[:-1])
            terms.append(np.reshape(ta, (size, 1, ta.shape[-1])) * _expand(vb)[None])
        if tb is not None:
            size = math.prod(_shape(tb)[:-1])
            terms.append(_expand(_expand(va)) * np.reshape(tb, (1, size, tb.shape[-1])))
        return _add(terms)
    if func is np.dot and (na > 2 or nb > 2):
        raise _not_batched(func)
    if func not in (np.matmul, np.dot) or rest or kwargs or na == 0 or nb == 0:
        raise _not_batched(func)
    batch = max(na, nb) - 2
    terms = []
    if ta is not None:
        if na == 1:
            if nb >= 3:
                raise _not_batched(func)
            terms.append(np.moveaxis(np.matmul(np.moveaxis(ta, -1, 0), vb), 0, -1))
        else:
            lead = np.moveaxis(ta, -1, 0)
            lead = np.reshape(lead, lead.shape[:1] + (1,) * (batch - (na - 2)) + lead.shape[1:])
            terms.append(np.moveaxis(np.matmul(lead, vb), 0, -1))
    if tb is not None:
        if nb == 1:
            terms.append(np.matmul(va, tb))
        else:
            lead = np.moveaxis(tb, -1, 0)
            lead = np.reshape(lead, lead.shape[:1] + (1,) * (batch - (nb - 2)) + lead.shape[1:])
            terms.append(np.moveaxis(np.matmul(va, lead), 0, -1))
    return _add(terms)


# Options that add a constant (``initial`` of a sum, values ``diff`` prepends): the tangent
# gets zero in their place.
_AFFINE_OPTIONS = {np.sum: ("initial",), np.diff: ("prepend", "append")}


def _keeps_tangent(func: Any, kwargs: Any) -> None:
    """Refuse ``dtype=`` of a kind without derivatives (int, bool), which drops the tangent."""
    dtype = kwargs.get("dtype")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise errors.lost_tangent(
            f"{function_name(func)}(..., dtype={dtype}) of a traced dual",
            "Keep a float dtype.",
        )


def _first_linear(func: Any, args: Any, kwargs: Any) -> Any:
    kwargs = _refuse_out(func, args, kwargs)
    _keeps_tangent(func, kwargs)
    if func is np.reshape or func is np.ravel:
        order = errors.bound_arguments(func, args, kwargs).get("order", "C")
        reason = table.layout_refusal(func.__name__, order, _shape(_value(args[0])))
        if reason is not None:
            raise TypeError(f"dualdiff.jit: {reason}")
    if func in _AFFINE_OPTIONS and type(args[0]) is SymbolicDual:
        options = errors.bound_arguments(func, args, kwargs)
        unset = np._NoValue
        affine = [k for k in _AFFINE_OPTIONS[func] if options.get(k, unset) is not unset]
        if affine:
            a = options.pop(next(iter(options)))
            if _has_dual(tuple(options.values())):  # a traced prepend: the table's linear kind
                raise _Unsupported(function_name(func))
            value = func(a.value, **options)
            t = _tangent(a)
            if t is None:
                return SymbolicDual(value, None)
            if _directions(a.value) is not None:
                raise _not_batched(func)
            return SymbolicDual(value, func(t, **{**options, **{k: 0.0 for k in affine}}))
    return _linear_one(func, args[0], tuple(args[1:]), kwargs)


def _sequence_linear(func: Any, args: Any, kwargs: Any) -> Any:
    kwargs = _refuse_out(func, args, kwargs)
    _keeps_tangent(func, kwargs)
    return _linear_sequence(func, args[0], tuple(args[1:]), kwargs)


def _product(func: Any, args: Any, kwargs: Any) -> Any:
    kwargs = _refuse_out(func, args, kwargs)
    return _bilinear(func, args[0], args[1], tuple(args[2:]), kwargs)


def _einsum(func: Any, args: Any, kwargs: Any) -> Any:
    if kwargs.get("out") is not None:
        raise write_refused("numpy.einsum(..., out=...)")
    _keeps_tangent(func, kwargs)
    if not isinstance(args[0], str):
        raise TypeError("dualdiff.jit: numpy.einsum needs the subscripts string form")
    subscripts, operands = args[0], list(args[1:])
    value = func(subscripts, *[_value(o) for o in operands], **kwargs)
    batched = _directions(value) is not None
    if batched:  # the direction axis gets a label of its own, last in the output
        if "->" not in subscripts or "." in subscripts:
            raise _not_batched(func)
        label = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in subscripts)
        inputs, output = subscripts.replace(" ", "").split("->")
        inputs = inputs.split(",")
    terms = []
    for i, operand in enumerate(operands):
        if _tangent(operand) is not None:
            swapped = [_value(o) for o in operands]
            swapped[i] = _tangent(operand)
            spec = subscripts
            if batched:
                marked = [term + label if j == i else term for j, term in enumerate(inputs)]
                spec = ",".join(marked) + "->" + output + label
            terms.append(func(spec, *swapped, **kwargs))
    if not terms:
        return SymbolicDual(value, None)
    return SymbolicDual(value, _fit(_add(terms), value))


def _where(func: Any, args: Any, kwargs: Any) -> Any:
    bound = errors.bound_arguments(func, args, kwargs)
    if "x" not in bound:
        raise TypeError(
            "dualdiff.jit: numpy.where(condition) alone gives indices; use it on plain arrays"
        )
    cond, a, b = _plain_operand(_value(bound["condition"])), bound["x"], bound["y"]
    value = np.where(cond, _value(a), _value(b))
    ta, tb = _tangent(a), _tangent(b)
    if ta is None and tb is None:
        return SymbolicDual(value, None)
    if _directions(value) is not None:
        cond = _expand(cond)
    tangent = _mark(np.where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb), ta, tb)
    return SymbolicDual(value, _fit(_in_dtype_of(tangent, value), value))


def _in_dtype_of(tangent: Any, value: Any) -> Any:
    """``tangent`` cast to ``value``'s float dtype where it differs (a float64 or complex
    constant beside a float32 dual: the tangent takes the result's dtype, as eager mode's)."""
    dtype = getattr(value, "dtype", None)
    tangent_dtype = _dtype_of(tangent)
    if dtype is None or tangent_dtype is None or tangent_dtype == dtype:
        return tangent
    cast = tangent_in(np.zeros((), tangent_dtype), np.dtype(dtype)).dtype
    return tangent if cast == tangent_dtype else _astype(_multiplied(tangent), cast)


def _var(func: Any, args: Any, kwargs: Any) -> Any:
    options = errors.bound_arguments(func, args, kwargs)
    if options.get("where", np._NoValue) is not np._NoValue:
        raise _Unsupported(function_name(func))  # the composition takes where=
    for name in ("out", "mean", "correction"):
        given = options.get(name)
        if given is not None and given is not np._NoValue:  # (not ==: where= is an array)
            raise TypeError(f"dualdiff.jit: {function_name(func)}({name}=...) unsupported")
    dtype = options.get("dtype")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise errors.lost_tangent(
            f"{function_name(func)}(..., dtype={dtype}) of a traced dual", "Keep a float dtype."
        )
    a = options["a"]
    complex_values = np.iscomplexobj(_value(a).value)
    result = variance(
        a, options.get("axis"), options.get("ddof", 0), _flag(options.get("keepdims", False)),
        complex_values, dtype,
    )  # fmt: skip
    return np.sqrt(result) if func is np.std else result


def _zeros_like(func: Any, args: Any, kwargs: Any) -> Any:
    if _has_dual((args[1:], tuple(kwargs.values()))):  # a traced fill value: the eager rule
        raise _Unsupported(function_name(func))
    if type(args[0]) is not SymbolicDual:
        return func(*args, **kwargs)
    value = args[0].value
    result = func(value.value, *args[1:], **kwargs)
    if result.dtype.kind not in "fc":
        return result  # an integer or boolean array: a constant, no derivative to write in
    # a traced array without a derivative, recorded, so that writes into it are traced
    return SymbolicDual(value.program.record(func, (value,) + tuple(args[1:]), kwargs), None)


def _construct_like(func: Any, like: SymbolicDual, args: Any, kwargs: Any) -> Any:
    """``np.zeros(n, like=x)`` and its kin: a dual array in eager mode, so here a traced array
    without a derivative, as ``np.zeros_like(x)`` is, which writes of traced duals go into (a
    plain array would refuse them). An integer or boolean array stays a constant."""
    result = func(*args, **kwargs)
    if result.dtype.kind not in "fc":
        return result
    return SymbolicDual(like.value.program.record(func, args, kwargs), None)


def _static_shape(func: Any, args: Any, kwargs: Any) -> Any:
    """``np.shape``, ``np.ndim`` and ``np.size`` of a traced array: known while tracing, so
    plain Python numbers (constants of the program), as NumPy gives them, not instructions."""
    options = errors.bound_arguments(func, args, kwargs)
    shape = _shape(_value(options.pop("a")))
    if func is np.shape:
        return shape
    if func is np.ndim:
        return len(shape)
    axis = options.get("axis")
    return math.prod(shape) if axis is None else shape[axis]


def _traced_args(func: Any, args: Any, kwargs: Any) -> Any:
    """Functions of values only (argmax, argsort, shape): they carry no derivative."""
    plain = [_value(a) for a in args]
    return func(*plain, **{k: _value(v) for k, v in kwargs.items()})


def _at_least(func: Any, a: Any) -> Any:
    """``func(a)`` for one of ``np.atleast_1d/2d/3d``: a reshape to the shape NumPy gives (found
    by applying ``func`` to an empty stand-in), so any traced ``a`` works, 0-d included."""
    if type(a) is not SymbolicDual and type(a) is not Sym:
        return func(a)
    shape = _shape(_value(a))
    target = func(np.empty(shape, dtype=bool)).shape
    return a if target == shape else np.reshape(a, target)


def _atleast(func: Any, args: Any, kwargs: Any) -> Any:
    if kwargs:
        raise TypeError(f"{function_name(func)}() got unexpected keyword arguments")
    results = tuple(_at_least(func, a) for a in args)
    return results[0] if len(results) == 1 else results


def _column(a: Any) -> Any:
    """An argument of ``np.column_stack``: arrays under 2-d become columns ``(size, 1)``."""
    if type(a) is not SymbolicDual and type(a) is not Sym:
        a = np.asanyarray(a)
    shape = _shape(_value(a))
    return np.reshape(a, (math.prod(shape), 1)) if len(shape) < 2 else a


def _stack_by_definition(func: Any, args: Any, kwargs: Any) -> Any:
    """``hstack``, ``vstack``, ``dstack`` and ``column_stack`` as NumPy defines them: each array
    brought to the needed number of dimensions, then one ``concatenate`` (which differentiates
    every mix of 0-d, 1-d and n-d traced and constant arrays)."""
    options = errors.bound_arguments(func, args, kwargs)
    arrays = list(options.pop("tup"))
    if func is np.column_stack:
        parts, axis = [_column(a) for a in arrays], 1
    else:
        at_least = {np.hstack: np.atleast_1d, np.vstack: np.atleast_2d}.get(func, np.atleast_3d)
        parts = [_at_least(at_least, a) for a in arrays]
        axis = {np.vstack: 0, np.dstack: 2}.get(func, 1)
        if func is np.hstack and parts and len(_shape(_value(parts[0]))) == 1:
            axis = 0
    return np.concatenate(parts, axis=axis, **options)


def _implements(handler: Callable[..., Any], *names: str) -> None:
    for name in names:
        target: Any = np
        for part in name.split("."):
            target = getattr(target, part, None)
            if target is None:
                break
        if target is not None:
            _FUNCTIONS[target] = handler


_implements(
    _first_linear,
    *(
        "reshape ravel transpose swapaxes moveaxis rollaxis squeeze expand_dims flip fliplr flipud "
        "roll rot90 broadcast_to sum mean cumsum diff trace diagonal real imag copy atleast_1d "
        "atleast_2d atleast_3d tile repeat take gradient trapezoid matrix_transpose".split()
    ),
)
_implements(_sequence_linear, *"concatenate stack hstack vstack dstack column_stack".split())
_implements(_product, *"dot vdot inner outer tensordot kron cross matmul".split())
_implements(_einsum, "einsum")
_implements(_where, "where")
_implements(_var, "var", "std")
_implements(_zeros_like, "zeros_like", "ones_like", "empty_like", "full_like")
_implements(_traced_args, *"argmax argmin argsort".split())
_implements(_static_shape, "shape", "ndim", "size")
_implements(_atleast, "atleast_1d", "atleast_2d", "atleast_3d")
_implements(_stack_by_definition, "hstack", "vstack", "dstack", "column_stack")


# ---------------------------------------------------------------------------------------------
# Handlers derived from the function table's kinds (``dualdiff.rules.functions``)
# ---------------------------------------------------------------------------------------------


def _is_traced(a: Any) -> bool:
    return type(a) is SymbolicDual


def _plain(a: Any) -> Any:
    """``a`` with every traced dual replaced by its value symbol, inside lists and tuples too."""
    if type(a) is SymbolicDual:
        return a.value
    if type(a) in (list, tuple):
        return type(a)(_plain(i) for i in a)
    return a


def _program_of(items: Any) -> Any:
    return next((s.program for s in _symbols(items)), None)


def _wrap(value: Any, tangent: Any) -> Any:
    """SymbolicDual results of ``value`` (a symbol, or a list/tuple of them) and their tangents."""
    if type(value) in (list, tuple):
        tangents = [None] * len(value) if tangent is None else tangent
        return type(value)(_wrap(v, t) for v, t in zip(value, tangents))
    if type(value) is not Sym:
        return value
    return SymbolicDual(value, _fit(tangent, value))


def _table_call(entry: table.Entry, args: Any, kwargs: Any) -> Call:
    """The call taken apart by its table entry; a call the entry's kind does not describe (a
    derivative through a parameter the table does not list, np.pad's computing modes) is left
    to the eager rule."""
    try:
        call = Call(entry, args, kwargs, _value, _is_traced)
    except TypeError as error:
        raise _Unsupported(str(error)) from None
    if entry.guard is not None and entry.guard(call.option) is not None:
        raise _Unsupported(entry.guard(call.option))
    dtype = call.option("dtype")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise errors.lost_tangent(
            f"numpy.{entry.name}(..., dtype={dtype}) of a traced dual", "Keep a float dtype."
        )
    return call


def derived(entry: table.Entry, args: Any, kwargs: Any) -> Any:
    """``entry``'s function on traced arguments, by the kind the function table declares."""
    func = entry.function
    kwargs = _refuse_out(func, args, kwargs)
    body = COMPOSITIONS.get(func)
    if body is not None:  # plain NumPy code: each of its operations is traced in turn
        program = _program_of((args, kwargs)) or _program_of(
            [a.value for a in _all_leaves((args, kwargs)) if type(a) is SymbolicDual]
        )
        if program is not None:  # its readings of values are refused, not guarded
            program.internal += 1
        try:
            return body(*args, **kwargs)
        except TypeError as error:
            # a part that decides on values (interp's searchsorted of x): the eager rule, as one
            # instruction computed afresh at every replay
            raise _Unsupported(str(error)) from None
        finally:
            if program is not None:
                program.internal -= 1
    kind = entry.kind
    if kind == "value":
        return _values_only(func, args, kwargs)
    if kind == "construction":
        if _has_dual(tuple(kwargs.get(k) for k in ("fill_value",)) + tuple(args[1:])):
            raise _Unsupported(entry.name)  # a traced fill value: the eager rule
        return func(*args, **{k: v for k, v in kwargs.items() if k != "like"})
    handler = _BY_KIND.get(kind)
    if handler is None:  # special, and compositions without a body: the eager rule
        raise _Unsupported(entry.name)
    return handler(entry, _table_call(entry, args, kwargs))


# Structural functions whose result's shape does not depend on the values of an index argument:
# an index computed from x (argsort, argmax) is recomputed at every replay, and the gather too.
_DYNAMIC_INDEX = frozenset((np.take, np.take_along_axis, np.roll))


def _structural(entry: table.Entry, call: Call) -> Any:
    """``d f(x) = f(dx)`` for a function that only moves elements: the value by NumPy, the
    tangent a gather from the operands' tangents at indices found by the same call on arrays of
    element numbers (0: an element of no traced operand), constants of the program."""
    func = entry.function
    values = [_value(o) for o in call.operands]
    program = _program_of(values)
    args, kwargs = call.arguments(values)
    others = _symbols(call.arguments([None] * len(values)))
    if others and not (
        func in _DYNAMIC_INDEX or (func is np.delete and all(s.value.ndim == 0 for s in others))
    ):
        what = (
            f"numpy.{entry.name} with an argument computed from x (an index, a condition) "
            "selects elements by the values at the tracing point, and the shape of its result "
            "may depend on them"
        )
        if not user_code(True, program):
            raise TypeError(
                f"dualdiff.jit: {what}, which a compiled function cannot replay; pass that "
                "argument as a constant, or use the eager dualdiff.jvp/jacobian"
            )
        # read at the tracing point, and guarded: the program holds where they are the same
        fixed = {id(s): specialise(s, "array", what, True) for s in others}
        call.args = _replaced(call.args, fixed)
        call.kwargs = _replaced(call.kwargs, fixed)
        args, kwargs = call.arguments(values)
        others = []
    value = program.record(func, tuple(args), kwargs)
    tangents = [_tangent(o) for o in call.operands]
    if all(t is None for t in tangents):
        return _wrap(value, None)
    k = program.directions
    numbers, parts, start = [], [], 1
    for v, t in zip(values, tangents):
        shape = _shape(v)
        if t is None:
            numbers.append(np.zeros(shape, np.intp))
            continue
        size = math.prod(shape)
        numbers.append(np.arange(start, start + size, dtype=np.intp).reshape(shape))
        parts.append(np.reshape(t, (size,) if k is None else (size, k)))
        start += size
    index_args, index_kwargs = call.arguments(numbers)
    # dtype= casts the value (the tangent follows below); element numbers stay integers
    index_kwargs = {key: v for key, v in index_kwargs.items() if key not in ("dtype", "casting")}
    if others:  # an index computed from x: the element numbers are gathered again at replay
        index = program.record(func, tuple(index_args), index_kwargs)
    else:
        index = func(*index_args, **index_kwargs)
    dtype = np.result_type(*(p.dtype for p in parts))

    def gather(index: Any) -> Any:
        if type(index) is Sym:
            pool = np.concatenate([np.zeros((1,) if k is None else (1, k), dtype), *parts])
            return program.record(operator.getitem, (pool, index), {})
        index = np.asarray(index)
        # np.pad(mode='empty') leaves its new entries uninitialised: they come from no operand
        index = np.where((index >= 0) & (index < start), index, 0)
        if len(parts) == 1 and (index.size == 0 or index.min() >= 1):
            pool, index = parts[0], index - 1
        else:
            pool = np.concatenate([np.zeros((1,) if k is None else (1, k), dtype), *parts])
        if type(pool) is Sym:
            return program.record(operator.getitem, (pool, index), {})
        return _mark(np.asarray(pool)[index], pool)

    if type(value) in (list, tuple):
        return type(value)(_wrap(v, gather(i)) for v, i in zip(value, index))
    return _wrap(value, _in_dtype_of(gather(index), value))


def _zeros_for(v: Any, k: int | None) -> Any:
    """The zero tangent of a constant operand ``v`` (sum's initial, diff's prepend)."""
    if k is None and type(v) in (int, float, complex):
        return 0.0
    dtype = np.result_type(np.asarray(_concrete_of(_value(v))), 0.0)
    return np.zeros(_shape(v) + (() if k is None else (k,)), dtype)


def _linear(entry: table.Entry, call: Call) -> Any:
    """``d f(x) = f(dx)``: the same call on the tangents (constant operands' tangents zero);
    for a Jacobian with the direction axis moved first and the axis arguments past it."""
    func = entry.function
    values = [_value(o) for o in call.operands]
    program = _program_of(values)
    args, kwargs = call.arguments(values)
    value = program.record(func, tuple(args), kwargs)
    tangents = [_tangent(o) for o in call.operands]
    if all(t is None for t in tangents):
        return _wrap(value, None)
    k = program.directions
    tangents = [_zeros_for(v, k) if t is None else t for v, t in zip(values, tangents)]
    if k is None:
        tangent_args, tangent_kwargs = call.arguments(tangents)
        return _wrap(value, program.record(func, tuple(tangent_args), tangent_kwargs))
    try:
        tangent = _shifted(entry, call, values, tangents, program)
    except Exception:  # noqa: BLE001 - any call the shift does not describe: one per direction
        tangent = _per_direction(func, call, tangents, range(len(tangents)), program)
    return _wrap(value, tangent)


def _shifted(entry: table.Entry, call: Call, values: list, tangents: list, program: Any) -> Any:
    """The tangents of a linear call for a Jacobian: the direction axis moved in front, the
    axis arguments (``entry.axes``) moved past it, one call. Checked at tracing on random
    tangents against the call on single directions; raises if the shift does not describe the
    call (the caller then makes one call per direction)."""
    func = entry.function
    concrete_values = _concrete_of(values)
    # random tangents (not the seed's, whose directions may be zero here and hide a wrong axis)
    rng = np.random.default_rng(0)
    probes = [rng.standard_normal(np.shape(_concrete_of(t))) for t in tangents]
    result = _shifted_call(entry, call, concrete_values, probes, None)
    k = probes[0].shape[-1]
    for d in {0, k - 1} if k else ():  # (no direction, as for an empty x: nothing to check)
        args, kwargs = call.arguments([p[..., d] for p in probes])
        expected = func(*_concrete_of(args), **_concrete_of(kwargs))
        pairs = zip(expected, result) if type(expected) in (list, tuple) else [(expected, result)]
        for e, g in pairs:
            g = np.asarray(g)[..., d]
            if np.shape(e) != g.shape or not np.allclose(g, e, rtol=1e-9, atol=1e-9):
                raise ValueError("the shifted call does not match the call per direction")
    tangent = _shifted_call(entry, call, values, tangents, program)
    if type(tangent) in (list, tuple):
        return type(tangent)(t if type(t) is Sym else _mark(t, *tangents) for t in tangent)
    return tangent if type(tangent) is Sym else _mark(tangent, *tangents)


def _shifted_call(
    entry: table.Entry, call: Call, values: list, tangents: list, program: Any
) -> Any:
    """``_shifted``'s call on ``tangents`` (symbols, recorded in ``program``, or arrays)."""
    func = entry.function
    nd = len(_shape(values[0]))
    moved = [np.moveaxis(t, -1, 0) for t in tangents]
    args, kwargs = call.arguments(moved)
    signature = errors.signature(func)
    bound = signature.bind(*args, **kwargs)
    for name in entry.axes:
        parameter = signature.parameters.get(name)
        if parameter is None:
            continue
        axis = bound.arguments.get(name, parameter.default)
        if axis is inspect.Parameter.empty:
            continue
        if axis is None:
            if func in (np.cumsum, np.nancumsum):  # axis=None: over the flattened array
                size = math.prod(_shape(values[0]))
                bound.arguments[entry.operands[0]] = np.reshape(moved[0], (moved[0].shape[0], size))
                axis = 1
            else:
                axis = tuple(range(1, nd + 1))
        elif isinstance(axis, (tuple, list)):
            axis = tuple(_shift(a, nd) for a in axis)
        else:
            axis = _shift(axis, nd)
        bound.arguments[name] = axis
    if program is None:
        result = func(*bound.args, **bound.kwargs)
    else:
        result = program.record(func, tuple(bound.args), bound.kwargs)
    if type(result) in (list, tuple):
        return type(result)(np.moveaxis(r, 0, -1) for r in result)
    return np.moveaxis(result, 0, -1)


def _shift(axis: Any, nd: int) -> int:
    axis = operator.index(axis)
    if not -nd <= axis < max(nd, 1):
        raise np.exceptions.AxisError(axis, nd)
    return axis % max(nd, 1) + 1


def _concrete_of(a: Any) -> Any:
    """The tracing point's numbers in place of symbols (inside lists, tuples and dicts)."""
    if type(a) is Sym:
        return a.value
    if type(a) in (list, tuple):
        return type(a)(_concrete_of(i) for i in a)
    if type(a) is dict:
        return {k: _concrete_of(v) for k, v in a.items()}
    return a


def _per_direction(func: Any, call: Call, arrays: list, which: Any, program: Any) -> Any:
    """``func`` once per direction with the operands ``which`` replaced by the direction's slice
    of ``arrays`` (direction axis last), the results stacked on a last axis: one instruction."""
    args, kwargs = call.arguments(arrays)
    places = tuple((place, path) for j, (place, path) in enumerate(call.places) if j in which)
    return program.record(
        _each_direction, (func, program.directions, places, tuple(args), tuple(kwargs.items())), {}
    )


def _each_direction(func: Any, k: int, places: Any, args: Any, items: Any) -> Any:
    """Run time of ``_per_direction``."""
    results = []
    for d in range(k):
        a, kw = list(args), dict(items)
        for (kind, key), path in places:
            container = a if kind == "a" else kw
            container[key] = _slice_at(container[key], path, d)
        results.append(func(*a, **kw))
    if type(results[0]) in (list, tuple):
        return type(results[0])(np.stack(r, axis=-1) for r in zip(*results))
    return np.stack(results, axis=-1)


def _slice_at(a: Any, path: tuple, d: int) -> Any:
    if not path:
        return a[..., d]
    items = list(a)
    items[path[0]] = _slice_at(items[path[0]], path[1:], d)
    return items


def _multilinear(entry: table.Entry, call: Call) -> Any:
    """The product rule: ``d f(a, b) = f(da, b) + f(a, db)``, one call per traced operand (per
    direction too for a Jacobian, in one instruction)."""
    func = entry.function
    values = [_value(o) for o in call.operands]
    program = _program_of(values)
    args, kwargs = call.arguments(values)
    value = program.record(func, tuple(args), kwargs)
    k = program.directions
    terms = []
    for j, operand in enumerate(call.operands):
        t = _tangent(operand)
        if t is None:
            continue
        replaced = [t if i == j else v for i, v in enumerate(values)]
        if k is None:
            term_args, term_kwargs = call.arguments(replaced)
            terms.append(program.record(func, tuple(term_args), term_kwargs))
        else:
            terms.append(_per_direction(func, call, replaced, (j,), program))
    return _wrap(value, _add(terms))


_BY_KIND = {"structural": _structural, "linear": _linear, "multilinear": _multilinear}

# Functions of values whose result is fixed by shapes and dtypes alone: constants of the program,
# as NumPy gives them (a Python bool, a dtype), so ``if np.iscomplexobj(x)`` traces.
_STATIC_VALUES = frozenset(
    getattr(np, name)
    for name in "shape ndim size result_type iscomplexobj isrealobj may_share_memory "
    "shares_memory".split()
)
_VALUE_SHAPED = frozenset((np.nonzero, np.argwhere, np.flatnonzero))


def _values_only(func: Any, args: Any, kwargs: Any) -> Any:
    """A function of the values: recorded on them (no derivative flows through it)."""
    if func in (np.shares_memory, np.may_share_memory):
        return _sharing(func, args, kwargs)
    args, kwargs = _plain(tuple(args)), {k: _plain(v) for k, v in kwargs.items()}
    if func in _STATIC_VALUES:
        return func(*_concrete_of(args), **_concrete_of(kwargs))
    program = _program_of((args, kwargs))
    if func in _VALUE_SHAPED:
        if program is not None and not user_code(True, program):
            raise TypeError(
                f"dualdiff.jit: {function_name(func)} of traced values gives a result whose "
                "shape depends on the values, which a compiled function cannot replay; use "
                "np.where, or the eager dualdiff.jvp/jacobian"
            )
        if program is not None:  # its shape guarded (see ``specialise``)
            return guard_shapes(program.record(func, args, kwargs))
    if program is None:
        return func(*args, **kwargs)
    return program.record(func, args, kwargs)


# ---------------------------------------------------------------------------------------------
# The eager rule as one instruction: special functions (linalg, prod) and calls no kind describes
# ---------------------------------------------------------------------------------------------


def _sharing(func: Any, args: Any, kwargs: Any) -> bool:
    """``np.shares_memory(a, b)`` as NumPy would answer it for the arrays ``f`` made: traced
    arrays share memory when one is a view of the other (the same storage, see ``_Storage``);
    their values at the tracing point may share memory for other reasons (``x * 1`` is ``x``
    there), and a constant is never one of f's own arrays."""
    options = errors.bound_arguments(func, args, kwargs)
    a, b = (options.pop(name) for name in list(options)[:2])
    if type(a) is not SymbolicDual or type(b) is not SymbolicDual:
        return False  # a constant, or a new array computed from values (x > 0)
    if a is b:
        return True
    if a.storage is None or a.storage is not b.storage:
        return False
    return func(_concrete_value(a), _concrete_value(b), **options)


class _Slot:
    """Where a traced argument goes in a call replayed by ``_run_eager``."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i


class _Outputs:
    """What the eager rule returned when traced: its structure, each leaf's shape and dtype and
    whether it carries a derivative. Filled by the traced run, checked at every replay."""

    __slots__ = ("structure", "shapes", "dtypes", "derived", "name", "viewed")

    def __init__(self, name: str) -> None:
        self.structure: Any = None
        self.shapes: list = []
        self.dtypes: list = []
        self.derived: list = []
        self.name = name
        self.viewed = False  # the rule returned a view of an argument (copied: see _own)


_EAGER_UFUNCS = VALUE_UFUNCS | {np.matmul, np.divmod, np.modf}


class KindChanged(Retrace):
    """Raised at replay when an eager rule's results have other dtypes than when traced
    (``np.linalg.eigvals`` of a real matrix is real at one point, complex at another): the
    instructions after it were traced for the old dtypes (the real rule of ``abs``), so the
    compiled function traces ``f`` again at this point (``dualdiff.engine.jit``)."""


def eager_rule(func: Any, args: Any, kwargs: Any) -> Any:
    """``func`` on traced arguments as one instruction that runs dualdiff's eager rule (the
    DualArray handler: the same NumPy expressions ``jacobian`` evaluates) on the values and
    tangents at hand. The result's shapes are checked at every replay against the traced ones,
    so a shape that depends on the values fails loudly instead of being reused."""
    traced: list[SymbolicDual] = []

    def hole(a: Any) -> Any:
        if type(a) is SymbolicDual:
            traced.append(a)
            return _Slot(len(traced) - 1)
        if type(a) in (list, tuple):
            return type(a)(hole(i) for i in a)
        return a

    template = hole(tuple(args))
    items = tuple((k, hole(v)) for k, v in kwargs.items())
    if not traced:
        return func(*args, **kwargs)
    program = next(t.value.program for t in traced if type(t.value) is Sym)
    outputs = _Outputs(function_name(func))
    values = tuple(t.value for t in traced)
    tangents = tuple(_tangent(t) for t in traced)
    flat = program.record(
        _run_eager,
        (func, program.directions, template, items, values, tangents, outputs),
        {},
    )
    result = _rebuild_outputs(outputs.structure, _pairs(flat, outputs))
    if outputs.viewed:  # NumPy shares memory there: a later write would have to reach it
        for t in traced:
            _storage_of(t).untracked = outputs.name
        # the results are copies here, so writes into them refuse too (matrix_power(a, 1) is a)
        leaves = _traced_leaves(tuple(result) if isinstance(result, tuple) else result)
        for out in leaves:
            if out.storage is None:
                out.storage, out.path = _storage_of(traced[0]), None
    return result


def _pairs(flat: Any, outputs: _Outputs) -> Any:
    flat = list(flat)
    n = len(outputs.shapes)
    values, tangents = flat[:n], flat[n:]
    tangents_iter = iter(tangents)
    for v, has in zip(values, outputs.derived):
        yield SymbolicDual(v, _fit(next(tangents_iter), v)) if has else SymbolicDual(v, None)


def _rebuild_outputs(structure: Any, leaves: Any) -> Any:
    if structure is None:
        return next(leaves)
    kind, parts = structure
    rebuilt = [_rebuild_outputs(p, leaves) for p in parts]
    return kind(*rebuilt) if hasattr(kind, "_fields") else kind(rebuilt)


def _run_eager(
    func: Any, k: Any, template: Any, items: Any, values: Any, tangents: Any, outputs: _Outputs
) -> tuple:
    """Run time of ``eager_rule``: dual arrays of a fresh tag from the values and tangents (the
    direction axis moved in front), the eager rule, its leaves taken apart again."""
    tag = new_tag()
    duals = []
    for v, t in zip(values, tangents):
        if t is None:
            duals.append(v)
            continue
        v = np.asarray(v)
        t = np.asarray(t)
        t = t[None] if k is None else np.moveaxis(t, -1, 0)
        duals.append(box(_make_array(v, t, tag, k is not None)))

    def fill(a: Any) -> Any:
        if type(a) is _Slot:
            return duals[a.i]
        if type(a) in (list, tuple):
            return type(a)(fill(i) for i in a)
        return a

    out = func(*fill(template), **{key: fill(v) for key, v in items})
    leaves: list = []
    structure = _take_apart(out, leaves)
    inputs = [np.asarray(v) for v in values] + [np.asarray(t) for t in tangents if t is not None]
    flat_values, flat_tangents, shapes, dtypes, derived = [], [], [], [], []
    for leaf in leaves:
        ours = type(leaf) in (DualArray, Dual) and leaf.tag == tag
        raw = leaf.value if ours else leaf
        value = np.asarray(raw)
        if type(leaf) is Dual or isinstance(raw, np.generic):
            # NumPy's result is a scalar there: kept one, nothing made of it views it
            # (np.expand_dims(np.prod(x), 0) is a new array, not a view a write goes through)
            value = value[()]
        shapes.append(value.shape)
        dtypes.append(value.dtype)
        derived.append(ours)
        owned = _own(value, inputs)
        outputs.viewed |= owned is not value
        flat_values.append(owned)
        if ours:
            t = np.asarray(leaf.tangent_ if type(leaf) is DualArray else leaf.tangent)
            if k is None:
                t = t.reshape(value.shape)[()] if type(leaf) is Dual else t[0]  # (a scalar's)
            elif type(leaf) is DualArray:
                t = np.moveaxis(np.broadcast_to(t, (t.shape[0],) + value.shape), 0, -1)
            flat_tangents.append(_own(t, inputs))
    if outputs.structure is None and not outputs.shapes:  # the traced run
        outputs.structure, outputs.shapes, outputs.derived = structure, shapes, derived
        outputs.dtypes = dtypes
    elif shapes != outputs.shapes or derived != outputs.derived:
        raise Retrace(
            f"dualdiff.jit: {outputs.name} gave results of shapes {shapes} here but "
            f"{outputs.shapes} when traced (they depend on the values): tracing f again at "
            "this point"
        )
    elif dtypes != outputs.dtypes:
        raise KindChanged(
            f"dualdiff.jit: {outputs.name} gave results of dtypes "
            f"{[str(d) for d in dtypes]} here but {[str(d) for d in outputs.dtypes]} when traced "
            "(they depend on the values): the program must be traced again at this point"
        )
    return tuple(flat_values + flat_tangents)


_run_eager.checks = True  # type: ignore[attr-defined]  # (its shape check: kept live, see _live)


def _own(a: np.ndarray, inputs: list) -> np.ndarray:
    """``a``, copied if it shares memory with an input (the compiled code may reuse inputs'
    buffers once they are dead)."""
    if any(np.may_share_memory(a, i) for i in inputs):
        return a.copy()
    return a


def _take_apart(out: Any, leaves: list) -> Any:
    if isinstance(out, (tuple, list)):
        return (type(out), [_take_apart(item, leaves) for item in out])
    leaves.append(out)
    return None


FRESH_FUNCTIONS.update((_each_direction,))


# ---------------------------------------------------------------------------------------------
# Writes, functionalised: views tracked, a write a copy-and-set of the array viewed
# ---------------------------------------------------------------------------------------------
#
# As PyTorch does before compiling, a write into a traced array becomes a pure instruction: the
# array it lands in (the *base* of the views) is replaced by a copy with the written elements
# set, and every traced view of that base is made again from the new one. Which elements a
# write sets is found by running the same write on an array of element numbers laid out as
# the base (through the same chain of views): the new base is then a gather from the old base
# and the written item, exact for values and tangents alike, whatever NumPy's indexing rules
# (broadcasting, repeated indices, masks). An index computed from x is gathered again at replay.
# A view the compiler does not track (made by a function that returns views of its argument
# other than indexing and the reshapes) makes writes into the arrays sharing memory refuse.


class _Storage:
    """The base array a group of traced views share, its views and how each is made."""

    __slots__ = ("base", "members", "untracked")

    def __init__(self, base: SymbolicDual) -> None:
        self.base = base
        self.members: list[Any] = []  # weak references to the traced views (the base too)
        self.untracked: str | None = None  # a function that made a view not tracked


def _storage_of(a: SymbolicDual) -> _Storage:
    if a.storage is None:
        a.storage, a.path = _Storage(a), ()
        a.storage.members.append(weakref.ref(a))
    return a.storage


def _concrete_value(a: SymbolicDual) -> Any:
    return a.value.value if type(a.value) is Sym else a.value


def _shares(a: Any, b: Any) -> bool:
    return (
        isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and a.size > 0
        and np.may_share_memory(a, b)
    )


def _track_view(parent: Any, child: SymbolicDual, step: Any) -> None:
    """Record ``child`` as a view of ``parent`` made by ``step`` (``(func, rest, kwargs)``, None
    for the same array) when NumPy made a view there. The imaginary part of a real array is
    NumPy's read-only array of zeros: tracked as its view too, so that a write into it raises
    NumPy's error (on the path's trial copy) instead of landing in a copy of the zeros."""
    if type(parent) is not SymbolicDual:
        return
    zeros = step is not None and step[0] is np.imag and _dtype(parent.value.value).kind != "c"
    if not zeros and not _shares(_concrete_value(child), _concrete_value(parent)):
        return
    storage = _storage_of(parent)
    child.storage = storage
    if parent.path is None:  # a view of an untracked view: writes into it refuse
        child.path = None
    else:
        child.path = parent.path if step is None else parent.path + (step,)
    storage.members.append(weakref.ref(child))


def _traced_leaves(items: Any) -> list[SymbolicDual]:
    if type(items) is SymbolicDual:
        return [items]
    if type(items) in (list, tuple):
        return [t for i in items for t in _traced_leaves(i)]
    if type(items) is dict:
        return [t for i in items.values() for t in _traced_leaves(i)]
    return []


def _note_aliases(inputs: Any, result: Any, func: Any) -> None:
    """A result of ``func`` that NumPy made a view of a traced argument, not tracked as one:
    writes into either would not reach the other, so they refuse from now on."""
    sources = _traced_leaves(inputs)
    if not sources:
        return
    for out in _traced_leaves(result):
        if out.storage is not None:
            continue
        for a in sources:
            if out is not a and _shares(_concrete_value(out), _concrete_value(a)):
                storage = _storage_of(a)
                storage.untracked = function_name(func)
                out.storage, out.path = storage, None


class _ItemSlot:
    """Where the written item goes in a write's arguments."""

    def __repr__(self) -> str:
        return "ITEM"


_ITEM = _ItemSlot()


def _apply_path(a: Any, path: tuple) -> Any:
    for func, rest, items in path:
        a = func(a, *rest, **dict(items))
    return a


def _written(
    fn: Any, numbers: np.ndarray, order: str, path: tuple, args: Any, items: Any
) -> np.ndarray:
    """The element numbers of a base after ``fn`` wrote into its view ``path`` (run at replay
    when the write's index is computed from x), in the base's memory ``order`` (C or F) so
    that the views of the path are views here too."""
    numbers = np.array(numbers, order=order)
    view = _apply_path(numbers, path)
    if not (view is numbers or np.shares_memory(view, numbers)):  # checked at tracing
        raise ValueError("dualdiff.jit: a traced view became a copy at replay")
    fn(view, *args, **dict(items))
    if numbers.dtype.kind == "c":  # numbered by parts (see ``_through_part``)
        return np.stack([numbers.real, numbers.imag]).astype(np.intp)
    return numbers


def _through_part(base: np.ndarray, path: tuple) -> bool:
    """Whether a write into the view ``path`` of ``base`` lands in one part of complex numbers
    (``z.real[...] = w``, ``z.imag += w``): the element numbers of such a base are complex too,
    numbering its real and imaginary parts separately, since a whole-element number written
    through ``.real`` would carry the old imaginary part away."""
    return base.dtype.kind == "c" and any(step[0] in (np.real, np.imag) for step in path)


def _from_parts(base: Any, item: Any, index: np.ndarray) -> np.ndarray:
    """A complex base (flat, a direction axis last in a Jacobian) after a write into one part:
    ``index[0]`` numbers where each real part comes from, ``index[1]`` each imaginary part, in
    the pool of the base's parts followed by the (real) item."""
    base, item = np.asarray(base), np.asarray(item)
    item = item.real
    real = np.concatenate([base.real, item])[index[0]]
    imag = np.concatenate([base.imag, item])[index[1]]
    out = np.empty(real.shape, np.result_type(base.dtype, np.complex64))
    out.real, out.imag = real, imag
    return out


def _put_item(a: Any, item: Any) -> Any:
    if a is _ITEM:
        return item
    if type(a) in (list, tuple):
        return type(a)(_put_item(i, item) for i in a)
    if type(a) is dict:
        return {k: _put_item(v, item) for k, v in a.items()}
    return a


def _trial_write(base: Any, path: tuple, fn: Any, args: Any, items: Any) -> None:
    """``fn(view, *args, **dict(items))`` into a copy of ``base`` through its view ``path``:
    NumPy's own checks of a write. Replayed as the guard of a write whose index, computed from
    x, raised while traced (out of range) and ``f`` went on (``_Program.raised``)."""
    view = _apply_path(np.asarray(base).copy(order="K"), path)
    fn(view, *args, **dict(items))


def _trial_raised(program: Any, error: Exception, base: Any, path: tuple, call: tuple) -> None:
    """A write's check raised ``error`` while traced: where its index is computed from x
    (``call``, the write's arguments, holds symbols), ``f`` may catch it and go on, so the
    program holds only where it raises again (``_Program.raised``)."""
    if _symbols(call):
        program.raised(_trial_write, error, (base.value, path, *call), {})


def functional_write(
    target: SymbolicDual, what: str, fn: Any, args: tuple, kwargs: dict, item: Any
) -> None:
    """``fn(target, *args, **kwargs)`` with ``_ITEM`` in ``args``/``kwargs`` standing for
    ``item``: a write into ``target``, recorded as a new value of the array it is a view of."""
    if _has_dual((args, kwargs)):
        raise TypeError(f"dualdiff.jit: {what}: only the written values can carry a derivative")
    if type(item) in (list, tuple) and _has_dual(item):
        # a list of traced values of one shape is the array NumPy would make of it
        if (
            any(type(i) in (list, tuple) for i in item)
            or len({_shape(_value(i)) for i in item}) > 1
        ):
            raise TypeError(
                f"dualdiff.jit: {what} of a nested or ragged list of traced values; write "
                "np.stack(...) of them"
            )
        item = np.stack(item)
    if type(item) in (list, tuple):  # constant values, as the array NumPy makes of them
        item = np.asarray(item)
    storage = _storage_of(target)
    if storage.untracked is not None or target.path is None:
        raise write_refused(
            f"{what} into an array that {storage.untracked} returned a view of (or into that view)"
        )
    base = storage.base
    program = base.value.program
    concrete_base = np.asarray(_concrete_value(base))
    plain_args, plain_kwargs = _plain(args), {k: _plain(v) for k, v in kwargs.items()}
    # NumPy's own checks (shapes, casting, a read-only view such as broadcast_to's) on a copy
    # of the traced numbers
    trial = concrete_base.copy(order="K")
    view = _apply_path(trial, target.path)
    if type(view) is np.ndarray and not view.flags.writeable:  # (.imag of a real array)
        raise ValueError("assignment destination is read-only")
    if not (view is trial or np.shares_memory(view, trial)):
        raise write_refused(f"{what} into a view whose layout NumPy would copy here")
    concrete_item = _concrete_of(_value(item))
    try:
        fn(view, *_put_item(_concrete_of(plain_args), concrete_item),
           **_put_item(_concrete_of(plain_kwargs), concrete_item))  # fmt: skip
    except Exception as error:
        call = (_put_item(plain_args, _value(item)), _put_item(plain_kwargs, _value(item)))
        _trial_raised(program, error, base, target.path, (fn, call[0], tuple(call[1].items())))
        raise
    # which element each entry of the base holds after the write: ``n + j`` for item entry j
    n = concrete_base.size
    item_value = _value(item)
    item_shape = _shape(item_value)
    split = _through_part(concrete_base, target.path)
    numbers = np.empty_like(concrete_base, dtype=concrete_base.dtype if split else np.intp)
    numbers[...] = np.arange(n, dtype=np.intp).reshape(concrete_base.shape)
    if split:
        numbers.imag = numbers.real
    item_numbers = np.arange(n, n + math.prod(item_shape), dtype=np.intp).reshape(item_shape)
    write_args = _put_item(plain_args, item_numbers)
    items = tuple(_put_item(plain_kwargs, item_numbers).items())
    order = "C" if concrete_base.flags.c_contiguous else "F"
    if _symbols((write_args, items)):  # an index or mask computed from x: again at replay
        if not (concrete_base.flags.c_contiguous or concrete_base.flags.f_contiguous):
            raise write_refused(f"{what} at an index computed from x into a strided array")
        args_ = (fn, numbers, order, target.path, write_args, items)
        index = program.record(_written, args_, {})
    else:  # ``numbers`` has the base's own memory layout (empty_like), which "K" keeps
        index = _written(fn, numbers, "K", target.path, write_args, items)
    dtype = concrete_base.dtype
    item_dtype = np.asarray(concrete_item).dtype
    if item_dtype != dtype:
        if not np.can_cast(item_dtype, dtype, "same_kind"):
            raise TypeError(f"dualdiff.jit: {what} of {item_dtype} values into a {dtype} array")
        item_value = _astype(item_value, dtype) if type(item_value) is Sym else (
            np.asarray(item_value).astype(dtype))  # fmt: skip
    k = program.directions
    flat = (-1,) if k is None else (-1, k)
    if split:
        args_ = (np.reshape(base.value, (-1,)), np.reshape(item_value, (-1,)), index)
        value = program.record(_from_parts, args_, {})
    else:
        values = np.concatenate([np.reshape(base.value, (-1,)), np.reshape(item_value, (-1,))])
        value = program.record(operator.getitem, (values, index), {})
    bt, it = _tangent(base), _tangent(item)
    if bt is None and it is None:
        tangent = None
    else:
        bt = _zeros_for(base.value, k) if bt is None else bt
        # (a float64 item written into a float32 array: its tangent in float32, as its value)
        it = (
            _zeros_for(item_value, k)
            if it is None
            else _in_dtype_of(_fit(it, item_value), item_value)
        )
        if split:
            args_ = (np.reshape(bt, flat), np.reshape(it, flat), index)
            tangent = program.record(_from_parts, args_, {})
        else:
            pool = np.concatenate([np.reshape(bt, flat), np.reshape(it, flat)])
            if type(pool) is Sym or type(index) is Sym:
                tangent = program.record(operator.getitem, (pool, index), {})
            else:
                tangent = _mark(np.asarray(pool)[index], pool)
    _replace_base(storage, _in_layout_of(value, concrete_base), tangent)


def _in_layout_of(value: Any, concrete_base: np.ndarray) -> Any:
    """A base's value after a write, in the base's memory order: NumPy writes in place, so a
    Fortran-ordered array stays one, and the view-or-copy decisions of its later reshapes
    (``y.T.reshape(-1)``, a view) depend on that (the value recorded for the write was in C
    order, and a write through such a view was lost)."""
    if not (concrete_base.ndim > 1 and concrete_base.flags.f_contiguous):
        return value
    concrete = value.value if type(value) is Sym else value
    if np.asarray(concrete).flags.f_contiguous:
        return value
    if type(value) is Sym:
        return value.program.record(np.asfortranarray, (value,), {})
    return np.asfortranarray(value)


def _replace_base(storage: _Storage, value: Sym, tangent: Any) -> None:
    """The base of ``storage`` takes its new value and tangent; its traced views are made
    again from it."""
    base = storage.base
    base.value, base.tangent = value, _fit(tangent, value) if tangent is not None else None
    alive = []
    for ref in storage.members:
        member = ref()
        if member is None:
            continue
        alive.append(ref)
        if member is base or member.path is None:
            continue
        remade = base
        for func, rest, items_ in member.path:
            remade = _linear_one(func, remade, rest, dict(items_), track=False)
        member.value, member.tangent = remade.value, remade.tangent
    storage.members = alive


def _accumulate_write(ufunc: np.ufunc, target: SymbolicDual, index: Any, item: Any) -> None:
    """``np.add.at(target, index, item)`` (or ``subtract``): unbuffered, so repeated indices
    accumulate; linear in the array and the item, recorded as a scatter-add into a copy of the
    base for the value and the tangent alike."""
    what = f"{function_name(ufunc)}.at"
    if _has_dual(index):
        raise TypeError(f"dualdiff.jit: {what}: an index cannot carry a derivative")
    if type(item) in (list, tuple) and not _has_dual(item):
        item = np.asarray(item)
    storage = _storage_of(target)
    if storage.untracked is not None or target.path is None:
        raise write_refused(f"{what} into an array that {storage.untracked} returned a view of")
    base = storage.base
    program = base.value.program
    concrete_base = np.asarray(_concrete_value(base))
    plain_index = _plain(index)
    item_value = _value(item)
    # NumPy's own checks (shapes, casting) on a copy of the traced numbers
    trial = concrete_base.copy(order="K")
    view = _apply_path(trial, target.path)
    if type(view) is np.ndarray and not view.flags.writeable:  # (.imag of a real array)
        raise ValueError("assignment destination is read-only")
    if not (view is trial or np.shares_memory(view, trial)):
        raise write_refused(f"{what} into a view whose layout NumPy would copy here")
    try:
        ufunc.at(view, _concrete_of(plain_index), _concrete_of(item_value))
    except Exception as error:
        _trial_raised(program, error, base, target.path, (ufunc.at, (plain_index, item_value), ()))
        raise
    dtype = concrete_base.dtype
    if np.asarray(_concrete_of(item_value)).dtype != dtype:
        item_value = _astype(item_value, dtype) if type(item_value) is Sym else (
            np.asarray(item_value).astype(dtype))  # fmt: skip
    n = concrete_base.size
    numbers = np.empty_like(concrete_base, dtype=np.intp)
    numbers[...] = np.arange(n, dtype=np.intp).reshape(concrete_base.shape)
    item_shape = _shape(item_value)
    item_numbers = np.arange(math.prod(item_shape), dtype=np.intp).reshape(item_shape)
    path, part = target.path, None
    if _through_part(concrete_base, path):
        # z.real or z.imag has z's elements in z's layout: the path without that step finds
        # the elements, and the terms land in that part of them
        part = next(step[0] for step in path if step[0] in (np.real, np.imag))
        path = tuple(step for step in path if step[0] not in (np.real, np.imag))
    if _symbols(plain_index):  # an index computed from x: the pairs found again at replay
        order = "C" if concrete_base.flags.c_contiguous else "F"
        if not (concrete_base.flags.c_contiguous or concrete_base.flags.f_contiguous):
            raise write_refused(f"{what} at an index computed from x into a strided array")
        args = (numbers, order, path, plain_index, item_numbers)
        pairs = program.record(_at_pairs, args, {})
    else:
        pairs = _at_pairs(numbers, "K", path, plain_index, item_numbers)
    sign = -1.0 if ufunc is np.subtract else 1.0
    k = program.directions
    flat = (-1,) if k is None else (-1, k)
    values = program.record(
        _scatter_add,
        (np.reshape(base.value, (-1,)), pairs, np.reshape(item_value, (-1,)), sign, part),
        {},
    )
    value = np.reshape(values, _shape(base.value))
    bt, it = _tangent(base), _tangent(item)
    tangent = None
    if bt is not None or it is not None:
        bt = _zeros_for(base.value, k) if bt is None else bt
        it = _zeros_for(item_value, k) if it is None else _fit(it, item_value)
        args = (np.reshape(bt, flat), pairs, np.reshape(it, flat), sign, part)
        tangent = np.reshape(program.record(_scatter_add, args, {}), _shape(value) + flat[1:])
    _replace_base(storage, _in_layout_of(value, concrete_base), tangent)


def _rounds_write(ufunc: np.ufunc, target: SymbolicDual, index: Any, *item: Any) -> None:
    """``ufunc.at(target, index[, item])`` for a ufunc other than ``add``/``subtract``: the
    visits in rounds of distinct elements (``at_rounds``), each round traced as the item
    assignment ``target[where] = ufunc(target[where], item[chosen])``, as the eager carriers
    apply it. The rounds are fixed by the index, so an index computed from x is read at the
    tracing point and guarded (``specialise``): a point where it differs is traced again."""
    what = f"{function_name(ufunc)}.at"
    if _has_dual(index):
        raise TypeError(f"dualdiff.jit: {what}: an index cannot carry a derivative")
    index = _plain(index)
    traced = _symbols(index)
    if traced:
        program = traced[0].program
        if not user_code(True, program):
            raise TypeError(
                f"dualdiff.jit: {what} at an index computed from x: which elements it visits, "
                "and how often, depends on x's values, which a compiled function cannot "
                "replay; use np.add.at, or the eager dualdiff.jvp/jacobian"
            )
        reading = f"{what} at an index computed from x"
        index = _replaced(index, {id(t): specialise(t, "array", reading, True) for t in traced})
    if isinstance(index, list):
        index = np.asarray(index)
        if index.size == 0:  # [] is float64 to np.asarray, an empty index to NumPy
            index = index.astype(np.intp)
    shape = _shape(target.value)
    positions = np.arange(math.prod(shape), dtype=np.intp).reshape(shape)[index]
    if item:
        b = item[0]
        if type(b) in (list, tuple) and not _has_dual(b):
            b = np.asarray(b)
        # the operands as they are before the call, as NumPy reads them: a b that views the
        # target (np.multiply.at(y, i, y)) must not see the rounds' writes
        b = np.copy(b) if type(b) is SymbolicDual else b
        b = np.reshape(np.broadcast_to(b, positions.shape), (-1,))
        if ufunc in EXTREME_UFUNCS and positions.size:
            # every visit of an element at once, the eager rule as one instruction (a round of
            # instructions per repeat of an index made 40 s of tracing at 8 000 repeats)
            flat = np.ravel(positions)
            where = np.unravel_index(np.unique(flat), shape)
            target[where] = eager_rule(_extreme_at, (ufunc, target[where], b, flat), {})
            return None
    for where, chosen in at_rounds(np.ravel(positions), shape):
        current = target[where]
        target[where] = ufunc(current, b[chosen]) if item else ufunc(current)
    return None


def _extreme_at(ufunc: np.ufunc, current: Any, b: Any, flat: np.ndarray) -> Any:
    """The new values of ``ufunc.at``'s elements (``extreme_at``) on eager dual arrays."""
    return extreme_at(ufunc, current, b, flat, strip)


def _at_pairs(
    numbers: np.ndarray, order: str, path: tuple, index: Any, item_numbers: np.ndarray
) -> np.ndarray:
    """``ufunc.at``'s (base element, item element) pairs, one per accumulated term, in order."""
    view = _apply_path(np.array(numbers, order=order), path)
    positions = view[index]
    items = np.broadcast_to(item_numbers, positions.shape)
    return np.stack([positions.reshape(-1), items.reshape(-1)])


def _scatter_add(
    base: np.ndarray, pairs: np.ndarray, item: np.ndarray, sign: float, part: Any = None
) -> Any:
    """A copy of ``base`` (flat, a direction axis last in a Jacobian) with ``sign * item[j]``
    added at ``i`` for every pair ``(i, j)``; repeated ``i`` accumulate. ``part``: ``np.real``
    or ``np.imag`` adds the (real) item to that part of complex elements only."""
    out = np.array(base, dtype=np.result_type(base, np.complex64)) if part else base.copy()
    terms = item[pairs[1]] if sign > 0 else -item[pairs[1]]
    if part is None:
        np.add.at(out, pairs[0], terms)
    else:
        np.add.at(part(out), pairs[0], np.real(terms))
    return out


FRESH_FUNCTIONS.update((_scatter_add, _from_parts))


# Each NumPy function that writes into an argument: (the array written into, the item written).
_WRITES = {
    np.copyto: ("dst", "src"),
    np.put: ("a", "v"),
    np.place: ("arr", "vals"),
    np.putmask: ("a", "values"),
    np.fill_diagonal: ("a", "val"),
    np.put_along_axis: ("arr", "values"),
}


def _writing_function(func: Any, args: Any, kwargs: Any) -> Any:
    """``np.copyto``, ``np.put``, ...: a functional write when the array written into is traced
    (a plain array cannot take a traced value)."""
    dst_name, item_name = _WRITES[func]
    options = errors.bound_arguments(func, args, kwargs)
    dst = options.pop(dst_name)
    if type(dst) is not SymbolicDual:
        raise write_refused(f"{function_name(func)} into an array that is not traced")
    item = options.pop(item_name)
    options[item_name] = _ITEM
    functional_write(dst, function_name(func), _call_by_keywords(func), (), options, item)
    return None


@functools.cache
def _call_by_keywords(func: Any) -> Any:
    """``func(a, **options)`` (np.putmask takes its array by position only)."""

    def call(a: Any, **options: Any) -> Any:
        return func(a, **options)

    call.__name__ = getattr(func, "__name__", "write")
    return call


STATIC_SHAPE.update(_FUNCTIONS)  # the traced duals' functions apply to plain symbols too
