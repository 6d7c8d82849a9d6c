"""Compiled JVPs and Jacobians: trace ``f`` once, emit straight-line NumPy, replay.

``jit_jvp(f)`` returns a function ``(x, v) -> (f(x), J(x) v)`` that gives what
``dualdiff.jvp(f, x, v)`` gives, but runs as the derivative would be written by hand: on the
first call for given input shapes and dtypes, ``f`` runs once on tracers that record every NumPy
operation, the tangents are built from the same rule table eager mode uses, and the recorded
program is cleaned up (common subexpressions merged, dead code dropped, temporaries reused as
``out=`` buffers) and compiled to a Python function of plain NumPy calls. Later calls with the
same shapes and dtypes run only that function: no dual objects, no dispatch per operation.
``jit_jacobian(f)`` does the same for the whole Jacobian, its tangents carrying every direction
on a last axis; the identity seed is a constant of the program, so linear parts fold away.

What can be traced, like ``jax.jit``: ``f`` must not branch on values (``if x[0] > 0``,
``float(x)``), must not assign into arrays, and must not make shapes that depend on values
(a boolean mask of ``x``, ``np.nonzero``); whatever ``f`` computes without ``x`` (arrays of its
closure and what is made from them, random draws) is fixed when it is traced. Elementwise
functions of the rule table, arithmetic, comparisons, ``np.where``, indexing, reshaping and
joining, sums and means, ``var``/``std`` and products (``@``, ``dot``, ``einsum``, ...) are
supported; anything else raises TypeError naming the function, and the eager functions handle
it. ``source`` shows the generated code.
"""

from __future__ import annotations

import inspect
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from . import errors
from .methods import ArrayMethods
from .rules import (
    RULES,
    SYMBOLIC_TYPES,
    UFUNC_RULES,
    VALUE_UFUNCS,
    Rule,
    is_dual,
    register_lift,
    scale,
)

__all__ = ["jit_jvp", "CompiledJVP", "jit_jacobian", "CompiledJacobian"]

_SQUARE = RULES["square"]
_POWER = RULES["power"]


class _Program:
    """The instructions recorded while tracing, with a table of merged subexpressions."""

    def __init__(self) -> None:
        self.instructions: list[_Instruction] = []
        self.seen: dict[Any, Sym] = {}
        self.constants: dict[int, Any] = {}  # id -> object, kept alive for the generated code
        self.errstate = np.geterr()
        self.directions: int | None = None  # k: tangents carry a last axis of k directions
        self.frozen: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id -> (original, copy)
        self.owned: set[int] = set()  # the copies (kept alive by ``frozen``)

    def record(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``fn(*args, **kwargs)`` on the traced values and record it; an identical earlier
        call is reused instead."""
        args, kwargs = self.freeze(args), self.freeze(kwargs)
        if not kwargs and (fn is np.add or fn is np.subtract) and len(args) == 2:
            fn, args = self.absorb_negation(fn, args)
            if self.directions is not None:
                folded = self.fold(fn, args)
                if folded is not None:
                    sign, symbol, block = folded
                    fn, args = (
                        (np.add, (symbol, block)) if sign > 0 else (np.subtract, (block, symbol))
                    )
        # On float arrays a Python 1 and 1.0 give the same result: one key for both.
        loose = all(getattr(s.value, "dtype", None) in _FLOATS for s in _symbols(args))
        key = (id(fn), _key(args, loose), _key(tuple(sorted(kwargs.items()))))
        hit = self.seen.get(key)
        if hit is not None:
            return hit
        values = _concrete(args)
        value = fn(*values, **_concrete(kwargs))
        if type(value) in (tuple, list):  # several outputs: one instruction, then its items
            whole = self._add(fn, args, kwargs, value)
            items = [self.record(operator.getitem, (whole, i), {}) for i in range(len(value))]
            result: Any = type(value)(items)
            self.seen[key] = result
            return result
        if type(value) is not np.ndarray and not isinstance(value, np.generic):
            value = np.asarray(value)
        simple = _simplify(fn, args, value)
        if simple is not None:
            self.seen[key] = simple
            return simple
        sym = self._add(fn, args, kwargs, value)
        self.seen[key] = sym
        return sym

    def absorb_negation(self, fn: Any, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, Any]]:
        """``a + (-b)`` as ``a - b`` and ``a - (-b)`` as ``a + b`` (the same result to the bit,
        one pass less): the chain rule of a difference writes its tangent that way."""
        a, b = args
        negated = self._negated(b)
        if negated is not None:
            return (np.subtract if fn is np.add else np.add), (a, negated)
        negated = self._negated(a)
        if negated is not None and fn is np.add:
            return np.subtract, (b, negated)
        return fn, args

    def _negated(self, a: Any) -> Sym | None:
        if type(a) is not Sym or a.index < 0:
            return None
        instruction = self.instructions[a.index]
        if instruction.fn is np.negative and not instruction.kwargs:
            (inner,) = instruction.args
            if type(inner) is Sym and np.shape(inner.value) == np.shape(a.value):
                return inner
        return None

    def fold(self, fn: Any, args: tuple[Any, ...]) -> tuple[int, Sym, np.ndarray] | None:
        """In a Jacobian, ``(±s + c1) + c2`` becomes ``±s + (c1 + c2)`` when both ``c`` are
        constant tangent blocks (the linear parts of ``f``, folded while tracing): one pass
        less at run time, the sum rounded in another order."""
        outer = self._sum(fn, args)
        if outer is None or outer[0] == -1:
            return None
        _, s, c2 = outer
        inner = self.instructions[s.index]
        inner_sum = None if inner.kwargs else self._sum(inner.fn, inner.args)
        if inner_sum is None:
            return None
        sign, s0, c1 = inner_sum
        return sign, s0, self.freeze(c1 + c2)

    def _sum(self, fn: Any, args: tuple[Any, ...]) -> tuple[int, Sym, np.ndarray] | None:
        """``args`` of ``fn`` as ``±symbol + constant block``."""
        if fn not in (np.add, np.subtract) or len(args) != 2:
            return None
        a, b = args
        sign = -1 if fn is np.subtract and type(b) is Sym else 1
        s, c = (a, b) if type(a) is Sym else (b, a)
        k = self.directions
        if type(s) is not Sym or type(c) is not np.ndarray or c.ndim == 0 or c.shape[-1] != k:
            return None
        if np.shape(s.value)[-1:] != (k,):
            return None
        return sign, s, (-c if fn is np.subtract and sign == 1 else c)

    def freeze(self, a: Any) -> Any:
        """Constant arrays as read-only copies taken when they are first used (a new copy if
        ``f`` changed one in between): the program replays what ``f`` computed then."""
        t = type(a)
        if t is np.ndarray:
            if id(a) in self.owned:
                return a
            kept = self.frozen.get(id(a))
            if kept is not None and kept[0] is a and np.array_equal(kept[1], a, equal_nan=True):
                return kept[1]
            copy = a.copy()
            copy.flags.writeable = False
            self.frozen[id(a)] = (a, copy)
            self.owned.add(id(copy))
            return copy
        if t is tuple or t is list:
            return t(self.freeze(i) for i in a)
        if t is dict:
            return {k: self.freeze(v) for k, v in a.items()}
        return a

    def _add(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], value: Any) -> Sym:
        sym = Sym(self, value, len(self.instructions))
        state = np.geterr()
        self.instructions.append(
            _Instruction(sym, fn, args, kwargs, None if state == self.errstate else state)
        )
        return sym


class _Instruction:
    __slots__ = ("out", "fn", "args", "kwargs", "errstate")

    def __init__(self, out: Sym, fn: Any, args: Any, kwargs: Any, errstate: Any) -> None:
        self.out, self.fn, self.args, self.kwargs, self.errstate = out, fn, args, kwargs, errstate


_FLOATS = frozenset(np.dtype(c) for c in "efdgFDG")


def _key(a: Any, loose: bool = False) -> Any:
    """A hashable description of an argument: symbols and arrays by identity, numbers by value
    (``loose``: an int and the equal float alike)."""
    t = type(a)
    if t is Sym:
        return ("s", a.index)
    if t in (tuple, list):
        return (t.__name__,) + tuple(_key(i, loose) for i in a)
    if t is slice:
        return ("slice", _key(a.start), _key(a.stop), _key(a.step))
    if loose and (t is int or t is float) and math.isfinite(a):
        return ("number", float(a))
    if t in (int, float, complex, bool, str) or a is None or a is Ellipsis:
        return (t.__name__, repr(a))
    return ("id", id(a))


def _concrete(a: Any) -> Any:
    """The traced values in place of the symbols."""
    t = type(a)
    if t is Sym:
        return a.value
    if t is tuple or t is list:
        return t(_concrete(i) for i in a)
    if t is dict:
        return {k: _concrete(v) for k, v in a.items()}
    if t is slice:
        return slice(_concrete(a.start), _concrete(a.stop), _concrete(a.step))
    return a


def _simplify(fn: Any, args: tuple[Any, ...], value: Any) -> Sym | None:
    """``x * 1``, ``x + 0``, ``x ** 1``: the operand itself when it already has the result's
    shape and dtype (no instruction needed)."""
    if len(args) != 2:
        return None
    a, b = args
    identity = {np.multiply: 1, np.add: 0, np.subtract: None, np.power: None}
    if fn not in identity:
        return None
    candidates = []
    if fn is np.multiply:
        candidates = [(a, b), (b, a)]
    elif fn is np.add:
        candidates = [(a, b), (b, a)]
    else:  # x - 0, x ** 1
        candidates = [(a, b)]
    neutral = 1 if fn in (np.multiply, np.power) else 0
    for keep, other in candidates:
        if type(keep) is Sym and type(other) in (int, float) and other == neutral:
            if np.shape(keep.value) == np.shape(value) and keep.value.dtype == value.dtype:
                return keep
    return None


# ---------------------------------------------------------------------------------------------
# Sym: a traced plain array (what the rules' partials compute with)
# ---------------------------------------------------------------------------------------------


class Sym(NDArrayOperatorsMixin):
    """A recorded array: its value at the tracing point and the instruction that makes it."""

    __slots__ = ("program", "value", "index")

    def __init__(self, program: _Program, value: Any, index: int) -> None:
        self.program, self.value, self.index = program, value, index

    shape = property(lambda self: np.shape(self.value))
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: np.ndim(self.value))
    size = property(lambda self: np.size(self.value))
    T = property(lambda self: np.transpose(self))
    real = property(lambda self: np.real(self))
    imag = property(lambda self: np.imag(self))

    def __len__(self) -> int:
        return len(self.value)

    def conjugate(self) -> Any:
        return np.conjugate(self)

    def __getitem__(self, index: Any) -> Any:
        _check_static_index(index)
        return self.program.record(operator.getitem, (self, index), {})

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if _has_traced(inputs):
            return NotImplemented  # a traced dual takes it, with its derivative
        if "out" in kwargs:
            raise TypeError(f"dualdiff.jit_jvp: numpy.{ufunc.__name__}(out=...) is not supported")
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return self.program.record(fn, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if Traced in types:
            return NotImplemented
        static = func in _STATIC_SHAPE or func in _FUNCTIONS  # (the traced duals' functions)
        if not static or (func is np.where and len(args) + len(kwargs) < 3):
            raise TypeError(
                f"dualdiff.jit: {_name(func)} of traced values cannot be compiled (only "
                "functions whose result's shape does not depend on the values can); use the "
                "eager dualdiff.jvp/jacobian"
            )
        if "out" in kwargs and kwargs["out"] is not None:
            raise TypeError(f"dualdiff.jit_jvp: {_name(func)}(out=...) is not supported")
        return self.program.record(func, args, kwargs)

    def __bool__(self) -> bool:
        raise _value_dependent("Using a traced array as a truth value (if, and, while)")

    def __float__(self) -> float:
        raise _value_dependent("float() of a traced array")

    def __int__(self) -> int:
        raise _value_dependent("int() of a traced array")

    def __index__(self) -> int:
        raise _value_dependent("Using a traced array as a Python integer")

    def __complex__(self) -> complex:
        raise _value_dependent("complex() of a traced array")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise _value_dependent("Converting a traced array to a NumPy array")

    def tolist(self) -> Any:
        raise _value_dependent("tolist() of a traced array")

    def item(self, *args: Any) -> Any:
        raise _value_dependent("item() of a traced array")

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))


# NumPy functions whose result's shape follows from the arguments' shapes alone: the only ones
# a compiled program may apply to traced values (np.nonzero, np.unique, a boolean mask... would
# give arrays of another size at another point).
_STATIC_SHAPE = frozenset(
    getattr(np, name)
    for name in (
        "where sum mean prod max min amax amin any all cumsum cumprod argsort argmax argmin sort "
        "take take_along_axis reshape ravel transpose swapaxes moveaxis squeeze expand_dims "
        "broadcast_to broadcast_arrays concatenate stack hstack vstack flip roll clip round "
        "around copy real imag diff zeros_like ones_like full_like empty_like count_nonzero "
        "searchsorted isclose atleast_1d atleast_2d atleast_3d matmul dot outer einsum tensordot "
        "trace diagonal std var"
    ).split()
    if hasattr(np, name)
)


def _check_static_index(index: Any) -> None:
    """A traced boolean mask selects a number of elements that depends on the values."""
    for item in index if type(index) is tuple else (index,):
        if type(item) is Sym and item.value.dtype == bool:
            raise TypeError(
                "dualdiff.jit: indexing with a traced boolean mask gives a shape that depends "
                "on the values; use np.where(mask, x, 0), or the eager dualdiff.jvp/jacobian"
            )


def _record_rule(rule: Rule, *args: Any) -> Any:
    """A rule called on plain traced arrays (inside another rule's partials): one instruction."""
    program = next(a.program for a in args if type(a) is Sym)
    return program.record(rule.array, args, {})


SYMBOLIC_TYPES[Sym] = _record_rule


def _value_dependent(what: str) -> TypeError:
    return TypeError(
        f"dualdiff.jit_jvp: {what} depends on the input's values, which a compiled JVP cannot "
        "replay; use dualdiff.jvp(f, x, v) (eager), or write it with np.where"
    )


def _name(func: Any) -> str:
    """``numpy.sum``, ``numpy.linalg.norm``: the public name of a NumPy function."""
    module = getattr(func, "__module__", "numpy") or "numpy"
    if module.startswith("numpy"):
        module = "numpy.linalg" if module.startswith("numpy.linalg") else "numpy"
    return f"{module}.{getattr(func, '__name__', repr(func))}"


# ---------------------------------------------------------------------------------------------
# Traced: a dual of two symbols (value, tangent); None is an exactly zero tangent
# ---------------------------------------------------------------------------------------------


class Traced(NDArrayOperatorsMixin, ArrayMethods):
    """What ``f`` receives while being traced: a value symbol and its tangent symbol."""

    __slots__ = ("value", "tangent")
    tag = 1 << 62  # newer than any eager dual: dualdiff's own functions defer to NumPy dispatch

    def __init__(self, value: Any, tangent: Any) -> None:
        self.value, self.tangent = value, tangent

    shape = property(lambda self: np.shape(self.value.value))
    dtype = property(lambda self: self.value.value.dtype)
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
        return self

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
        if _has_traced(index):
            raise TypeError("dualdiff.jit_jvp: an index cannot carry a derivative")
        _check_static_index(index)
        return _linear_one(operator.getitem, self, (index,), {})

    def __setitem__(self, index: Any, item: Any) -> None:
        raise TypeError(
            "dualdiff.jit_jvp: item assignment cannot be traced; build the array with "
            "np.where, np.concatenate or np.stack, or use dualdiff.jvp (eager)"
        )

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None:
            raise TypeError(f"dualdiff.jit_jvp: numpy.{ufunc.__name__}(out=...) is not supported")
        if method == "__call__" and not kwargs:
            rule = UFUNC_RULES.get(ufunc)
            if rule is not None:
                return apply_rule(rule, inputs)
            if ufunc in VALUE_UFUNCS:  # comparisons and tests: no derivative
                return ufunc(*(_value(a) for a in inputs))
            if ufunc is np.matmul:
                return _bilinear(np.matmul, inputs[0], inputs[1], (), {})
        if ufunc is np.add and method in ("reduce", "accumulate") and len(inputs) == 1:
            options = {k: v for k, v in kwargs.items() if v is not None}
            axis = options.pop("axis", 0)
            if method == "reduce" and set(options) <= {"keepdims"}:
                return np.sum(inputs[0], axis=axis, keepdims=options.get("keepdims", False))
            if method == "accumulate" and not options:
                return np.cumsum(inputs[0], axis=axis)
        raise errors.no_rule(
            f"numpy.{ufunc.__name__}"
            + ("" if method == "__call__" else f".{method}")
            + " under jit_jvp"
        )

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        handler = _FUNCTIONS.get(func)
        if handler is None:
            raise TypeError(
                f"dualdiff.jit_jvp has no rule for {_name(func)}; use dualdiff.jvp(f, x, v) "
                "(eager), which differentiates it"
            )
        return handler(func, args, kwargs)

    def __bool__(self) -> bool:
        raise _value_dependent("Using a traced dual as a truth value (if, and, while)")

    def __float__(self) -> float:
        raise _value_dependent("float() of a traced dual")

    def __int__(self) -> int:
        raise _value_dependent("int() of a traced dual")

    def __index__(self) -> int:
        raise _value_dependent("Using a traced dual as a Python integer")

    def __complex__(self) -> complex:
        raise _value_dependent("complex() of a traced dual")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise errors.lost_tangent(
            "Converting a traced dual to a NumPy array", "Use NumPy functions on it instead."
        )

    def tolist(self) -> Any:
        raise _value_dependent("tolist() of a traced dual")

    def item(self, *args: Any) -> Any:
        raise _value_dependent("item() of a traced dual")


def _cast(a: np.ndarray, dtype: Any) -> np.ndarray:
    return a.astype(dtype)


def _astype(a: Any, dtype: Any) -> Any:
    """``a.astype(dtype)`` for a symbol (recorded) or a constant."""
    if type(a) is Sym:
        return a.program.record(_cast, (a, np.dtype(dtype)), {})
    return a.astype(dtype)


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
        return self.coefficient * self.block

    def times(self, p: Any) -> _Scaled:
        return _Scaled(p * self.coefficient, self.block)


def _scaled(p: Any, t: Any) -> Any:
    """``p * t`` for a partial ``p``, kept as a scaled block where that saves passes."""
    if type(t) is _Scaled:
        return t.times(p)
    if type(p) is Sym and type(t) is np.ndarray and np.shape(p.value)[-1:] == (1,):
        return _Scaled(p, t)
    return p * t


def _multiplied(t: Any) -> Any:
    return t.array() if type(t) is _Scaled else t


def _has_traced(a: Any) -> bool:
    if type(a) is Traced:
        return True
    if type(a) in (tuple, list):
        return any(_has_traced(i) for i in a)
    return False


def _shape(a: Any) -> tuple[int, ...]:
    return np.shape(a.value) if type(a) is Sym else np.shape(a)


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
    return np.broadcast_to(tangent, target)


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
    values = tuple(_value(a) for a in inputs)
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
    if ans.program.directions is not None:  # partials broadcast over the direction axis
        values, ans = tuple(_expand(v) for v in values), _expand(ans)
    if rule.jvp is not None:
        tangent = rule.jvp(*values, *tangents, ans)
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
                p = partial(*values, ans)
                if not rule.safe:
                    terms.append(_scaled(p, t))
                    continue
                g = _denominator(p)
                fn, args = (_quotient, (t, g)) if g is not None else (scale, (p, t))
                terms.append(ans.program.record(fn, args, {}))
        tangent = _add(terms)
    if type(tangent) is _Scaled:
        return Traced(result, tangent)
    return Traced(result, _fit(tangent, result))


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
    if g.all() if type(g) is np.ndarray else g != 0:
        return t / g
    return scale(1.0 / g, t)


# Runtime helpers that return new arrays and keep no view of their arguments.
_FRESH = (scale, _quotient)


def _register_lift() -> None:
    def unary(rule: Rule, a: Traced) -> Any:
        return apply_rule(rule, (a,))

    def binary(rule: Rule, a: Any, b: Any) -> Any:
        return apply_rule(rule, (a, b))

    register_lift(Traced, 50, unary, binary)


_register_lift()


# ---------------------------------------------------------------------------------------------
# NumPy functions under tracing
# ---------------------------------------------------------------------------------------------

_FUNCTIONS: dict[Any, Callable[..., Any]] = {}


def _check_plain(name: str, items: Any) -> None:
    if _has_traced(items):
        raise TypeError(
            f"dualdiff.jit_jvp: {name} differentiates with respect to its array argument only"
        )


def _linear_one(func: Any, a: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A function linear in its first argument: the same call on the value and the tangent."""
    _check_plain(_name(func), (rest, tuple(kwargs.values())))
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
    _check_plain(_name(func), (rest, tuple(kwargs.values())))
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
    _check_plain(_name(func), (rest, tuple(kwargs.values())))
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
        f"dualdiff.jit_jacobian has no rule for {_name(func)} with these arguments; use "
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
    """The tangent of ``func(a, *rest, **kwargs)`` (linear in ``a``) for tangents ``t`` of shape
    ``a.shape + (k,)``: the same call with the axes arguments moved past the direction axis."""
    nd = len(_shape(a))
    if func is operator.getitem:
        index = rest[0]
        if index is Ellipsis or (type(index) is tuple and any(i is Ellipsis for i in index)):
            index = (index if type(index) is tuple else (index,)) + (slice(None),)
        if type(t) is np.ndarray and _symbols(index):  # a constant indexed by traced integers
            return a.program.record(operator.getitem, (t, index), {})
        return t[index]
    try:
        options = _bind(func, (a,) + tuple(rest), kwargs).arguments
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
        return func(t, axis=axes, keepdims=options.get("keepdims") is True)
    if func is np.cumsum:
        if options.get("dtype") is not None:
            raise _not_batched(func)
        axis = options.get("axis")
        if axis is None:
            return np.cumsum(np.reshape(t, (-1, t.shape[-1])), axis=0)
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
    """``concatenate``/``stack`` (and ``hstack``/``vstack`` through them) of tangents with the
    direction axis last."""
    options = _bind(func, ([None],) + tuple(rest), kwargs).arguments
    nd = len(_shape(_value(arrays[0])))
    extra = {k: v for k, v in options.items() if k not in ("arrays", "tup", "axis")}
    if any(v is not None and v != "same_kind" for v in extra.values()):
        raise _not_batched(func)
    if func is np.concatenate:
        axis = options.get("axis", 0)
        if axis is None:
            return np.concatenate([np.reshape(t, (-1, t.shape[-1])) for t in tangents])
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
        if ta is not None:
            terms.append(np.reshape(ta, (-1, 1, ta.shape[-1])) * _expand(vb)[None])
        if tb is not None:
            terms.append(_expand(_expand(va)) * np.reshape(tb, (1, -1, tb.shape[-1])))
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


def _bind(func: Any, args: Any, kwargs: Any) -> inspect.BoundArguments:
    signature = errors.signature(func)
    bound = signature.bind(*args, **kwargs)
    return bound


def _first_linear(func: Any, args: Any, kwargs: Any) -> Any:
    if kwargs.get("out") is not None:
        raise TypeError(f"dualdiff.jit_jvp: {_name(func)}(out=...) is not supported")
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    return _linear_one(func, args[0], tuple(args[1:]), kwargs)


def _sequence_linear(func: Any, args: Any, kwargs: Any) -> Any:
    if kwargs.get("out") is not None:
        raise TypeError(f"dualdiff.jit_jvp: {_name(func)}(out=...) is not supported")
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    return _linear_sequence(func, args[0], tuple(args[1:]), kwargs)


def _product(func: Any, args: Any, kwargs: Any) -> Any:
    if kwargs.get("out") is not None:
        raise TypeError(f"dualdiff.jit_jvp: {_name(func)}(out=...) is not supported")
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    return _bilinear(func, args[0], args[1], tuple(args[2:]), kwargs)


def _einsum(func: Any, args: Any, kwargs: Any) -> Any:
    if kwargs.get("out") is not None:
        raise TypeError("dualdiff.jit_jvp: numpy.einsum(out=...) is not supported")
    if not isinstance(args[0], str):
        raise TypeError("dualdiff.jit_jvp: numpy.einsum needs the subscripts string form")
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
    bound = _bind(func, args, kwargs).arguments
    if "x" not in bound:
        raise TypeError(
            "dualdiff.jit_jvp: numpy.where(condition) alone gives indices; use it on plain arrays"
        )
    cond, a, b = _value(bound["condition"]), bound["x"], bound["y"]
    value = np.where(cond, _value(a), _value(b))
    ta, tb = _tangent(a), _tangent(b)
    if ta is None and tb is None:
        return Traced(value, None)
    if _directions(value) is not None:
        cond = _expand(cond)
    tangent = np.where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb)
    return Traced(value, _fit(tangent, value))


def _var(func: Any, args: Any, kwargs: Any) -> Any:
    # var = mean(|a - mean(a)|²) · n / (n - ddof), composed from traced operations.
    bound = _bind(func, args, kwargs)
    bound.apply_defaults()
    options = dict(bound.arguments)
    a = options.pop("a")
    axis, ddof, keepdims = options.pop("axis"), options.pop("ddof"), options.pop("keepdims")
    for name in ("dtype", "out", "mean", "correction", "where"):
        given = options.get(name, None)
        if given is not None and given is not np._NoValue:
            raise TypeError(f"dualdiff.jit_jvp: {_name(func)}({name}=...) is not supported")
    keep = keepdims is True
    centred = a - np.mean(a, axis=axis, keepdims=True)
    squares = centred * np.conjugate(centred) if np.iscomplexobj(_value(a).value) else centred**2
    count = (
        np.size(_value(a).value)
        if axis is None
        else math.prod(np.shape(_value(a).value)[i] for i in np.atleast_1d(axis))
    )
    result = np.sum(
        squares.real if np.iscomplexobj(_value(a).value) else squares, axis=axis, keepdims=keep
    ) / (count - ddof)
    return np.sqrt(result) if func is np.std else result


def _zeros_like(func: Any, args: Any, kwargs: Any) -> Any:
    args = (_value(args[0]).value if type(args[0]) is Traced else args[0],) + tuple(args[1:])
    return func(*args, **kwargs)


def _traced_args(func: Any, args: Any, kwargs: Any) -> Any:
    """Functions of values only (argmax, argsort, shape): they carry no derivative."""
    plain = [_value(a) for a in args]
    return func(*plain, **{k: _value(v) for k, v in kwargs.items()})


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
_implements(_traced_args, *"argmax argmin argsort shape ndim size".split())


# ---------------------------------------------------------------------------------------------
# Tracing, clean-up and code generation
# ---------------------------------------------------------------------------------------------


class CompiledJVP:
    """``(x, v) -> (f(x), J(x) v)`` compiled per input shapes and dtypes (see the module notes).

    ``x`` and ``v`` are arrays of the same shape, or tuples of them for an ``f`` of several
    arguments, as in ``dualdiff.jvp``. Dual inputs (a compiled JVP inside another
    differentiation) run eagerly.
    """

    def __init__(self, f: Callable[..., Any]) -> None:
        errors.check_callable(f, "jit_jvp")
        self.f = f
        self._compiled: dict[Any, _Compiled] = {}
        self._last: _Compiled | None = None
        self.__doc__ = getattr(f, "__doc__", None)
        self.__name__ = getattr(f, "__name__", "f")

    def __call__(self, x: Any, v: Any) -> tuple[Any, Any]:
        if type(x) is np.ndarray and type(v) is np.ndarray:  # a compiled signature, at once
            compiled = self._compiled.get(((x.shape, x.dtype.str), (v.shape, v.dtype.str)))
            if compiled is not None and compiled.single:
                self._last = compiled
                return compiled.function(x, v)
        several = type(x) is tuple
        xs, vs = (x, v) if several else ((x,), (v,))
        if several and (type(v) is not tuple or len(v) != len(x)):
            raise ValueError(
                f"jit_jvp: x has {len(x)} arguments, so v must be a tuple of {len(x)} tangents"
            )
        if any(is_dual(a) for a in xs + vs):
            from .api import jvp

            return jvp(self.f, x, v)
        xs = tuple(_array(a, "jit_jvp") for a in xs)
        vs = tuple(_array(a, "jit_jvp", "the tangent") for a in vs)
        for a, t in zip(xs, vs):
            if a.shape != t.shape:
                raise ValueError(f"jit_jvp: tangent shape {t.shape} does not match x's {a.shape}")
        key = tuple((a.shape, a.dtype.str) for a in xs + vs)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.f, xs, vs)
        self._last = compiled
        return compiled(xs, vs)

    @property
    def source(self) -> str:
        """The Python source generated for the most recent input signature."""
        if self._last is None:
            raise ValueError("jit_jvp: nothing has been compiled yet; call the function first")
        return self._last.source


def jit_jvp(f: Callable[..., Any]) -> CompiledJVP:
    """``f``'s JVP compiled to straight-line NumPy: ``jit_jvp(f)(x, v) == jvp(f, x, v)``, with
    the cost of a hand-written derivative once traced (see ``dualdiff.jit``)."""
    return CompiledJVP(f)


def _array(a: Any, api: str, what: str = "x") -> np.ndarray:
    from .api import _array_input

    if isinstance(a, (bool, np.bool_)):
        raise TypeError(f"{api}: {what} must be a real or complex number or array, got a bool")
    return _array_input(a, api, what)


class _Compiled:
    """One traced signature: the generated function and how to rebuild ``f``'s output."""

    def __init__(
        self,
        f: Callable[..., Any],
        xs: tuple[Any, ...],
        vs: tuple[Any, ...] | None,
        seed: np.ndarray | None = None,
    ) -> None:
        program = _Program()
        inputs = []
        if vs is None:  # directions given by a seed, a constant of the program (the identity)
            (x,) = xs
            if seed is None:
                n = x.size
                seed = np.eye(n, dtype=np.result_type(x, float)).reshape(x.shape + (n,))
            program.directions = seed.shape[-1]
            inputs.append(Traced(program._add(None, ("x", 0), {}, x), seed))
        else:
            for i, (x, v) in enumerate(zip(xs, vs)):
                sx, sv = program._add(None, ("x", i), {}, x), program._add(None, ("t", i), {}, v)
                inputs.append(Traced(sx, sv))
        out = f(*inputs)
        leaves: list[tuple[Any, Any]] = []
        self.structure = _flatten(out, leaves)
        self.source, self.function = _generate(program, leaves, program.directions)
        self.single = self.structure is None  # one output: the function returns (value, tangent)

    def __call__(self, xs: tuple[Any, ...], vs: tuple[Any, ...]) -> tuple[Any, Any]:
        flat = self.function(*xs, *vs)
        half = len(flat) // 2
        values = _rebuild(self.structure, iter(flat[:half]))
        tangents = _rebuild(self.structure, iter(flat[half:]))
        return values, tangents


def _flatten(out: Any, leaves: list[tuple[Any, Any]]) -> Any:
    """``f``'s output as (value, tangent) leaves; the structure to rebuild it."""
    t = type(out)
    if t is tuple or t is list:
        return (t, [_flatten(item, leaves) for item in out])
    if t is Traced:
        leaves.append((out.value, _tangent(out)))
    elif t is Sym:
        leaves.append((out, None))
    elif isinstance(out, (int, float, complex, np.ndarray, np.generic)) and not isinstance(
        out, bool
    ):
        leaves.append((np.asarray(out) if type(out) is np.ndarray else out, None))
    else:
        raise TypeError(
            "jit_jvp: f must return a number, an array, or a tuple/list of them; it returned "
            f"{errors.type_name(out)}"
        )
    return None


def _rebuild(structure: Any, items: Any) -> Any:
    if structure is None:
        return next(items)
    kind, parts = structure
    return kind(_rebuild(p, items) for p in parts)


def _generate(
    program: _Program, leaves: list[tuple[Any, Any]], directions: int | None
) -> tuple[str, Any]:
    """Python source for the recorded program, cleaned up, and the compiled function."""
    instructions = program.instructions
    env: dict[str, Any] = {}
    names: dict[int, str] = {}

    def constant(obj: Any) -> str:
        name = names.get(id(obj))
        if name is None:
            name = names[id(obj)] = f"c{len(names)}"
            env[name] = obj
            program.constants[id(obj)] = obj
        return name

    def expr(a: Any) -> str:
        t = type(a)
        if t is Sym:
            return variable[a.index]
        if t is tuple:
            inner = ", ".join(expr(i) for i in a)
            return f"({inner},)" if len(a) == 1 else f"({inner})"
        if t is list:
            return "[" + ", ".join(expr(i) for i in a) + "]"
        if t is slice:
            return f"slice({expr(a.start)}, {expr(a.stop)}, {expr(a.step)})"
        if a is None or a is Ellipsis:
            return "None" if a is None else "..."
        if t in (bool, int, str) or (t is float and math.isfinite(a)):
            return repr(a)
        return constant(a)

    # Outputs: a zero tangent is a fresh array per call.
    results: list[Any] = []
    tangents: list[Any] = []
    for value, tangent in leaves:
        results.append(value)
        tangents.append(tangent)

    needed = set()
    stack = [r.index for r in results + tangents if type(r) is Sym]
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        instruction = instructions[i]
        if instruction.fn is not None:
            stack.extend(s.index for s in _symbols((instruction.args, instruction.kwargs)))
    order = sorted(needed)

    returned = {r.index for r in results + tangents if type(r) is Sym}
    last_use: dict[int, int] = {}
    viewed: set[int] = set()
    for position, i in enumerate(order):
        instruction = instructions[i]
        if instruction.fn is None:
            continue
        ufunc_call = isinstance(instruction.fn, np.ufunc) or instruction.fn in _FRESH
        for s in _symbols((instruction.args, instruction.kwargs)):
            last_use[s.index] = position
            if not ufunc_call:
                viewed.add(s.index)
    fresh = {
        i
        for i in order
        if (isinstance(instructions[i].fn, np.ufunc) or instructions[i].fn in _FRESH)
        and type(instructions[i].out.value) is np.ndarray
        and instructions[i].out.value.ndim > 0
    }

    variable: dict[int, str] = {}
    free: dict[Any, list[Sym]] = {}  # buffers of dead temporaries, by (shape, dtype)
    lines = []
    inputs = [i.args for i in instructions if i.fn is None]
    parameters = [f"{kind}{k}" for kind, k in sorted(inputs, key=lambda a: (a[0] != "x", a[1]))]
    for position, i in enumerate(order):
        instruction = instructions[i]
        if instruction.fn is None:
            kind, k = instruction.args
            variable[i] = f"{kind}{k}"
            continue
        name = variable[i] = f"v{i}"
        fn, args, kwargs = instruction.fn, instruction.args, dict(instruction.kwargs)
        out_value = instruction.out.value
        dying = [
            a
            for a in _symbols((args, kwargs))
            if a.index in fresh
            and a.index not in viewed
            and a.index not in returned
            and last_use.get(a.index) == position
        ]
        if isinstance(fn, np.ufunc) and fn.nout == 1 and not kwargs and i in fresh:
            # Write the result into the buffer of an operand that dies here, or of a temporary
            # that died before: the program then allocates about as much as it keeps alive.
            slot = (out_value.shape, out_value.dtype.str)
            for a in dying:
                if (a.value.shape, a.value.dtype.str) == slot:
                    kwargs["out"] = a
                    fresh.discard(a.index)  # its buffer now belongs to the result
                    break
            else:
                if free.get(slot):
                    kwargs["out"] = free[slot].pop()
        for a in dying:
            if a.index in fresh:
                fresh.discard(a.index)
                free.setdefault((a.value.shape, a.value.dtype.str), []).append(a)
        if fn is operator.getitem:
            line = f"{name} = {expr(args[0])}[{expr(args[1])}]"
        else:
            call = [expr(a) for a in args] + [f"{k}={expr(v)}" for k, v in kwargs.items()]
            line = f"{name} = {constant(fn)}({', '.join(call)})"
        if instruction.errstate is not None:
            state = ", ".join(f"{k}={v!r}" for k, v in sorted(instruction.errstate.items()))
            lines.append(f"with {constant(np.errstate)}({state}):")
            line = "    " + line
        lines.append(line)

    def zeros(value: Any) -> str:
        dtype = np.result_type(value.value if type(value) is Sym else value, float)
        shape = _shape(value) + (() if directions is None else (directions,))
        return f"{constant(np.zeros)}({expr(shape)}, {constant(dtype)})"

    def output(a: Any) -> str:
        # a constant (a Jacobian that does not depend on x) is copied: callers may write to it
        return f"{expr(a)}.copy()" if type(a) is np.ndarray else expr(a)

    out = [output(r) for r in results]
    out += [output(t) if t is not None else zeros(r) for r, t in zip(results, tangents)]
    body = "\n".join("    " + line for line in lines) or "    pass"
    name = "jvp" if directions is None else "value_and_jacobian"
    source = f"def {name}({', '.join(parameters)}):\n{body}\n    return ({', '.join(out)},)\n"
    namespace = dict(env)
    exec(compile(source, f"<dualdiff.jit {name}>", "exec"), namespace)
    return source, namespace[name]


def _symbols(a: Any) -> list[Sym]:
    found: list[Sym] = []
    _collect(a, found)
    return found


def _collect(a: Any, found: list[Sym]) -> None:
    t = type(a)
    if t is Sym:
        found.append(a)
    elif t is tuple or t is list:
        for i in a:
            _collect(i, found)
    elif t is dict:
        for i in a.values():
            _collect(i, found)
    elif t is slice:
        _collect((a.start, a.stop, a.step), found)


class CompiledJacobian:
    """``x -> df/dx`` (shape ``f(x).shape + x.shape``) compiled per input shape and dtype.

    The whole Jacobian comes from one pass whose tangents carry every direction (the seed, the
    identity, is a constant of the program: ``W @ x`` costs no product). ``value_and_jacobian``
    also returns ``f(x)``. Dual inputs run eagerly.
    """

    def __init__(self, f: Callable[..., Any]) -> None:
        errors.check_callable(f, "jit_jacobian")
        self.f = f
        self._compiled: dict[Any, _Compiled] = {}
        self._last: _Compiled | None = None
        self.__doc__ = getattr(f, "__doc__", None)
        self.__name__ = getattr(f, "__name__", "f")

    def value_and_jacobian(self, x: Any) -> tuple[Any, Any]:
        """``(f(x), df/dx)`` from the compiled pass."""
        if type(x) is np.ndarray:
            compiled = self._compiled.get((x.shape, x.dtype.str))
            if compiled is not None and compiled.single:
                self._last = compiled
                value, tangent = compiled.function(x)
                return value, tangent.reshape(np.shape(value) + x.shape)
        if is_dual(x):
            from .api import value_and_jacobian

            return value_and_jacobian(self.f, x)
        x = _array(x, "jit_jacobian")
        from .api import MEMORY_BUDGET

        if x.size * x.size * x.itemsize > MEMORY_BUDGET:
            raise ValueError(
                f"jit_jacobian: a dense Jacobian seed for {x.size} inputs would exceed the "
                "memory budget; use dualdiff.jacobian(f, x, chunk=...) or sparsity="
            )
        key = (x.shape, x.dtype.str)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.f, (x,), None)
        self._last = compiled
        flat = compiled.function(x)
        half = len(flat) // 2
        values = _rebuild(compiled.structure, iter(flat[:half]))
        tangents = [t.reshape(np.shape(v) + x.shape) for v, t in zip(flat[:half], flat[half:])]
        return values, _rebuild(compiled.structure, iter(tangents))

    def __call__(self, x: Any) -> Any:
        return self.value_and_jacobian(x)[1]

    @property
    def source(self) -> str:
        """The Python source generated for the most recent input signature."""
        if self._last is None:
            raise ValueError("jit_jacobian: nothing has been compiled yet; call it first")
        return self._last.source


def jit_jacobian(f: Callable[..., Any]) -> CompiledJacobian:
    """``f``'s Jacobian compiled to straight-line NumPy: ``jit_jacobian(f)(x)`` equals
    ``jacobian(f, x)``, all directions in one pass (see ``dualdiff.jit``)."""
    return CompiledJacobian(f)


def compiled_push_forward(f: Callable[..., Any], x: np.ndarray, seed: np.ndarray) -> Any:
    """A compiled pass of ``f`` at points shaped like ``x`` along the ``k`` fixed directions
    ``seed`` (shape ``x.shape + (k,)``): a function ``x -> (f(x), tangents)`` with tangents of
    shape ``f(x).shape + (k,)`` (used by ``SparseJacobian(..., jit=True)``)."""
    compiled = _Compiled(f, (x,), None, seed)
    if not compiled.single:
        raise TypeError("jit: f must return a single array for a compressed Jacobian")
    return compiled.function
