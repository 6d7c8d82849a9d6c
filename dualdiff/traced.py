"""Traced duals of a compiled JVP or Jacobian (``dualdiff.jit``): the chain rule on symbols.

A ``Traced`` holds a value symbol and its tangent (a symbol, a constant block of the seed, or
None for zero). Elementwise functions take their derivatives from the rule table (the partials
are called on symbols, so they are recorded too); NumPy functions that are linear in an argument
apply themselves to the tangent, with the direction axis of a Jacobian moved past their axes
arguments; products apply the product rule. Anything else raises TypeError naming it.
"""

from __future__ import annotations

import functools
import inspect
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from . import errors
from .errors import function_name
from .methods import ArrayMethods, variance
from .objects import (
    add_element_methods,
    dtype_hidden,
    lift_arguments,
    object_array,
    refuse_or_warn,
    scalar_object_array,
)
from .program import (
    DUAL_TYPES,
    FRESH_FUNCTIONS,
    STATIC_SHAPE,
    Sym,
    TangentBlock,
    ValueBound,
    _cast,
    _check_static_index,
    _has_dual,
    _shape,
    _symbols,
)
from .rules import (
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
    tangent_in,
)
from .tags import NEWEST_TAG

_SQUARE = RULES["square"]
_POWER = RULES["power"]


# ---------------------------------------------------------------------------------------------
# Traced: a dual of two symbols (value, tangent); None is an exactly zero tangent
# ---------------------------------------------------------------------------------------------


def _dtype(value: Any) -> Any:
    if dtype_hidden(3):  # asked by NumPy's mean (see dualdiff.objects.dtype_hidden)
        raise AttributeError("dtype")
    return value.dtype


class Traced(ValueBound, NDArrayOperatorsMixin, ArrayMethods):
    """What ``f`` receives while being traced: a value symbol and its tangent symbol."""

    __slots__ = ("value", "tangent")
    tag = NEWEST_TAG  # newer than any eager dual: dualdiff's own functions defer to NumPy dispatch
    kind = "dual"

    def __init__(self, value: Any, tangent: Any) -> None:
        self.value, self.tangent = value, tangent

    shape = property(lambda self: np.shape(self.value.value))
    dtype = property(lambda self: _dtype(self.value.value))  # (none for np.mean of objects)
    ndim = property(lambda self: np.ndim(self.value.value))
    size = property(lambda self: np.size(self.value.value))
    real = property(lambda self: np.real(self))
    imag = property(lambda self: np.imag(self))

    def __len__(self) -> int:
        return len(self.value.value)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def conjugate(self) -> Any:
        return np.conjugate(self)

    def conj(self) -> Any:
        return np.conjugate(self)

    def copy(self) -> Traced:
        return np.copy(self)

    def view(self) -> Traced:
        return Traced(self.value, self.tangent)  # writes are refused: sharing needs no more

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
        tangent = None if self.tangent is None else _astype(_tangent(self), dtype)
        return Traced(_astype(self.value, dtype), tangent)

    def __pow__(self, other: Any) -> Any:
        if type(other) is int and other == 2:
            return apply_rule(_SQUARE, (self,))
        return apply_rule(_POWER, (self, other))

    def __getitem__(self, index: Any) -> Traced:
        if _has_dual(index):
            raise TypeError("dualdiff.jit: an index cannot carry a derivative")
        _check_static_index(index)
        return _linear_one(operator.getitem, self, (index,), {})

    def __setitem__(self, index: Any, item: Any) -> None:
        raise write_refused("item assignment (x[i] = ...)")

    # ndarray's methods that write in place: refused, as every write is (see ``write_refused``)
    def fill(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.fill(...)")

    def sort(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.sort() (in place; np.sort(x) returns a sorted copy)")

    def partition(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.partition(...)")

    def put(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.put(...)")

    def resize(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.resize(...)")

    def setfield(self, *args: Any, **kwargs: Any) -> None:
        raise write_refused("x.setfield(...)")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None:
            raise write_refused(
                f"{function_name(ufunc)}(..., out=...) or an in-place operator (x += ..., x *= ...)"
            )
        if method == "at":
            raise write_refused(f"{function_name(ufunc)}.at")
        inputs = lift_arguments(inputs)  # object arrays of traced duals among the inputs
        if method == "__call__" and not kwargs:
            rule = UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc)
            if rule is not None:
                return apply_rule(rule, inputs)
            if ufunc in VALUE_UFUNCS:  # comparisons and tests: no derivative
                return ufunc(*(_value(a) for a in inputs))
            if ufunc is np.matmul:
                return _bilinear(np.matmul, inputs[0], inputs[1], (), {})
            if ufunc is np.divmod:  # two outputs, each a rule of the table (as in eager mode)
                return np.floor_divide(*inputs), np.remainder(*inputs)
            if ufunc is np.modf:
                whole = np.trunc(inputs[0])
                return inputs[0] - whole, whole
        if ufunc is np.add and method in ("reduce", "accumulate") and len(inputs) == 1:
            options = {k: v for k, v in kwargs.items() if v is not None}
            axis = options.pop("axis", 0)
            if method == "reduce" and set(options) <= {"keepdims"}:
                return np.sum(inputs[0], axis=axis, keepdims=bool(options.get("keepdims")))
            if method == "accumulate" and not options:
                return np.cumsum(inputs[0], axis=axis)
        raise errors.no_rule(
            f"{function_name(ufunc)}"
            + ("" if method == "__call__" else f".{method}")
            + " under dualdiff.jit"
        )

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        handler = _FUNCTIONS.get(func)
        if func in _WRITING_FUNCTIONS:
            raise write_refused(function_name(func))
        if handler is None:
            raise TypeError(
                f"dualdiff.jit has no rule for {function_name(func)}; use the eager "
                "dualdiff.jvp or dualdiff.jacobian, which differentiate it"
            )
        return handler(func, lift_arguments(args), kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # np.array([...]) of traced duals, np.asarray(x): an object array of traced elements
        # (each read is an instruction), lifted back into a stacking instruction where it meets
        # a traced dual or is returned (dualdiff.objects)
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
            return scalar_object_array(self)
        items = [self[index] for index in np.ndindex(*self.shape)]
        return object_array(items, self.shape, writable=copy is True)


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
    return a.value if type(a) is Traced else a


def _tangent(a: Any) -> Any:
    """The tangent of ``a`` as an array (a scaled block is multiplied out, once)."""
    if type(a) is not Traced:
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
        if type(a) is not Traced and is_dual(a):
            raise TypeError(
                f"dualdiff.jit: {errors.type_name(a)} met a traced array: differentiating inside "
                "a compiled function is not supported; use the eager dualdiff functions"
            )
    values = tuple(_plain_operand(_value(a)) for a in inputs)
    tangents = tuple(a.tangent if type(a) is Traced else None for a in inputs)
    if rule.jvp is not None or rule.safe:
        tangents = tuple(_tangent(a) for a in inputs)
    if isinstance(rule.array, np.ufunc):
        result = ans = rule.array(*values)
    else:  # a function written in NumPy (sigmoid, xlogy, ...): one instruction, run as it is
        program = next(v.program for v in values if type(v) is Sym)
        result = ans = program.record(rule.array, values, {})
    if type(ans) is not Sym or all(t is None for t in tangents) or rule.zero:
        return ans if type(ans) is not Sym else Traced(ans, None)
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
        return Traced(result, tangent)
    return Traced(result, _fit(tangent, result))


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
    def unary(rule: Rule, a: Traced) -> Any:
        return apply_rule(rule, (a,))

    def binary(rule: Rule, a: Any, b: Any) -> Any:
        return apply_rule(rule, (a, b))

    register_lift(Traced, 50, unary, binary)
    DUAL_TYPES.add(Traced)


_register_lift()
add_element_methods(Traced)  # np.sin(a) of an object array of traced duals calls e.sin()


# ---------------------------------------------------------------------------------------------
# NumPy functions under tracing
# ---------------------------------------------------------------------------------------------

_FUNCTIONS: dict[Any, Callable[..., Any]] = {}


def _check_plain(name: str, items: Any) -> None:
    if _has_dual(items):
        raise TypeError(
            f"dualdiff.jit: {name} differentiates with respect to its array argument only"
        )


def _linear_one(func: Any, a: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A function linear in its first argument: the same call on the value and the tangent."""
    _check_plain(function_name(func), (rest, tuple(kwargs.values())))
    if type(a) is not Traced:
        return func(a, *rest, **kwargs)
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
        return type(value)(Traced(v, t) for v, t in zip(value, tangents))
    return Traced(value, tangent)


def _linear_sequence(func: Any, arrays: Any, rest: tuple[Any, ...], kwargs: dict) -> Any:
    """A function linear in a sequence of arrays (concatenate, stack): missing tangents are
    zeros of their value's shape."""
    _check_plain(function_name(func), (rest, tuple(kwargs.values())))
    arrays = list(arrays)
    value = func([_value(a) for a in arrays], *rest, **kwargs)
    if all(_tangent(a) is None for a in arrays):
        return Traced(value, None) if type(value) is Sym else value
    k = _directions(value)
    tail = () if k is None else (k,)
    tangents = [
        _tangent(a) if _tangent(a) is not None else np.zeros(_shape(_value(a)) + tail)
        for a in arrays
    ]
    if k is None:
        return Traced(value, func(tangents, *rest, **kwargs))
    return Traced(value, _batched_sequence(func, tangents, arrays, value, rest, kwargs))


def _bilinear(func: Any, a: Any, b: Any, rest: tuple[Any, ...], kwargs: dict) -> Any:
    """A product: ``d(a·b) = da·b + a·db``."""
    _check_plain(function_name(func), (rest, tuple(kwargs.values())))
    value = func(_value(a), _value(b), *rest, **kwargs)
    if _directions(value) is not None:
        return Traced(value, _fit(_batched_product(func, a, b, value, rest, kwargs), value))
    terms = []
    if _tangent(a) is not None:
        terms.append(func(_tangent(a), _value(b), *rest, **kwargs))
    if _tangent(b) is not None:
        terms.append(func(_value(a), _tangent(b), *rest, **kwargs))
    return Traced(value, _fit(_add(terms), value))


# -- Jacobians: tangents with the direction axis last ------------------------------------------


def _not_batched(func: Any) -> TypeError:
    return TypeError(
        f"dualdiff.jit_jacobian has no rule for {function_name(func)} with these arguments; use "
        "dualdiff.jacobian(f, x) (eager), which differentiates it"
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


def _first_linear(func: Any, args: Any, kwargs: Any) -> Any:
    kwargs = _refuse_out(func, args, kwargs)
    dtype = kwargs.get("dtype")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise errors.lost_tangent(
            f"{function_name(func)}(..., dtype={dtype}) of a traced dual",
            "Keep a float dtype.",
        )
    if func in _AFFINE_OPTIONS and type(args[0]) is Traced:
        options = errors.bound_arguments(func, args, kwargs)
        unset = np._NoValue
        affine = [k for k in _AFFINE_OPTIONS[func] if options.get(k, unset) is not unset]
        if affine:
            a = options.pop(next(iter(options)))
            value = func(a.value, **options)
            t = _tangent(a)
            if t is None:
                return Traced(value, None)
            if _directions(a.value) is not None:
                raise _not_batched(func)
            return Traced(value, func(t, **{**options, **{k: 0.0 for k in affine}}))
    return _linear_one(func, args[0], tuple(args[1:]), kwargs)


def _sequence_linear(func: Any, args: Any, kwargs: Any) -> Any:
    kwargs = _refuse_out(func, args, kwargs)
    return _linear_sequence(func, args[0], tuple(args[1:]), kwargs)


def _product(func: Any, args: Any, kwargs: Any) -> Any:
    kwargs = _refuse_out(func, args, kwargs)
    return _bilinear(func, args[0], args[1], tuple(args[2:]), kwargs)


def _einsum(func: Any, args: Any, kwargs: Any) -> Any:
    if kwargs.get("out") is not None:
        raise write_refused("numpy.einsum(..., out=...)")
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
        return Traced(value, None)
    return Traced(value, _fit(_add(terms), value))


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
        return Traced(value, None)
    if _directions(value) is not None:
        cond = _expand(cond)
    tangent = _mark(np.where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb), ta, tb)
    return Traced(value, _fit(tangent, value))


def _var(func: Any, args: Any, kwargs: Any) -> Any:
    options = errors.bound_arguments(func, args, kwargs)
    for name in ("out", "mean", "correction", "where"):
        if options.get(name, None) not in (None, np._NoValue):
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
    args = (_value(args[0]).value if type(args[0]) is Traced else args[0],) + tuple(args[1:])
    return func(*args, **kwargs)


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
    if type(a) is not Traced and type(a) is not Sym:
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
    if type(a) is not Traced and type(a) is not Sym:
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


STATIC_SHAPE.update(_FUNCTIONS)  # the traced duals' functions apply to plain symbols too
