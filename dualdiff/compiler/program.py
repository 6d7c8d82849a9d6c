"""The recorded program of a compiled JVP or Jacobian (``dualdiff.engine.jit``) and its code.

``Sym`` is a traced plain array: every NumPy operation on it runs on the values at the tracing
point and is recorded as an instruction of a ``_Program``, which merges repeated calls, keeps
constants as they were when first used, and simplifies a few patterns the chain rule writes
(``x * 1``, ``a + (-b)``, sums of constant tangent blocks). ``_generate`` turns the instructions
an output needs into the source of one Python function of plain NumPy calls, writing
temporaries into the buffers of dead ones (``out=``).
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..core.errors import (
    FLOAT_WRITE,
    FLOAT_WRITE_FIX,
    bound_arguments,
    drops_tangent,
    function_name,
)
from ..core.methods import ArrayMethods
from ..rules.elementwise import SYMBOLIC_TYPES, Rule


class TangentBlock(np.ndarray):
    """A constant tangent of a Jacobian (the seed and what the linear parts of ``f`` make of it
    while tracing), marked so that the program may sum such blocks ahead of time. Only ever seen
    while tracing: the program keeps plain copies."""


DUAL_TYPES: set[type] = set()
"""The traced dual type (``dualdiff.compiler.symbolic``): a plain symbol defers to it in NumPy
dispatch."""

FRESH_FUNCTIONS: set[Callable[..., Any]] = {
    getattr(np, name)
    for name in (
        "concatenate stack hstack vstack where dot outer kron cross inner cumsum diff copy take "
        "repeat tile sum mean"
    ).split()
}
"""Functions besides ufuncs that usually return new arrays and keep no view of their arguments.
Only a candidate list: whether a result is new is decided per call at tracing, from what NumPy
did with the arguments at hand (``np.diff(a, n=0)`` returns ``a`` itself); see ``_owns``."""


def _has_dual(a: Any) -> bool:
    if type(a) in DUAL_TYPES:
        return True
    if type(a) in (tuple, list):
        return any(_has_dual(i) for i in a)
    return False


def _shape(a: Any) -> tuple[int, ...]:
    return np.shape(a.value) if type(a) is Sym else np.shape(a)


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
        self.tangent_blocks: dict[int, np.ndarray] = {}  # copies of constant tangent blocks
        # > 0 while dualdiff's own code (a composition's body) runs on traced values: its
        # readings of values are refused, not guarded (see ``specialise``)
        self.internal = 0

    def record(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``fn(*args, **kwargs)`` on the traced values and record it; an identical earlier
        call is reused instead."""
        args, kwargs = self.freeze(args), self.freeze(kwargs)
        if not kwargs and (fn is np.add or fn is np.subtract) and len(args) == 2:
            fn, args = self.absorb_negation(fn, args)
            folded = self.fold(fn, args)
            if folded is not None:
                sign, symbol, block = folded
                fn, args = (np.add, (symbol, block)) if sign > 0 else (np.subtract, (block, symbol))
        # A ufunc on float arrays gives the same for a Python 1 and 1.0: one key for both.
        loose = isinstance(fn, np.ufunc) and all(
            getattr(s.value, "dtype", None) in _FLOATS for s in _symbols(args)
        )
        key = (id(fn), _key(args, loose), _key(tuple(sorted(kwargs.items()))))
        hit = self.seen.get(key)
        if hit is not None:
            return hit
        values = _concrete(args)
        try:
            value = fn(*values, **_concrete(kwargs))
        except Exception as error:
            self.raised(fn, error, args, kwargs)
            raise
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

    def raised(self, fn: Any, error: Exception, args: tuple[Any, ...], kwargs: Any) -> None:
        """A guard that ``fn(*args, **kwargs)`` raises ``error``'s type at every replay: it did
        while traced, and ``f`` may catch it and go on (a singular matrix, an index computed
        from x out of range, a FloatingPointError under its np.errstate), so the program holds
        only where it raises so again (``still_raises``)."""
        self._add(still_raises, (fn, type(error), *args), kwargs, np.asarray(None))

    def absorb_negation(self, fn: Any, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, Any]]:
        """``a + (-b)`` as ``a - b`` and ``a - (-b)`` as ``a + b`` for floating ``b`` (the same
        result to the bit, one pass less): the chain rule of a difference writes its tangent
        that way."""
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
            if (
                type(inner) is Sym
                and np.shape(inner.value) == np.shape(a.value)
                and getattr(inner.value, "dtype", None) in _FLOATS  # -u wraps for unsigned u
            ):
                return inner
        return None

    def fold(self, fn: Any, args: tuple[Any, ...]) -> tuple[int, Sym, np.ndarray] | None:
        """``(±s + c1) + c2`` as ``±s + (c1 + c2)`` when both ``c`` are constant tangent blocks
        (the linear parts of ``f`` in a Jacobian, folded while tracing): one pass less at run
        time, only tangents rounded in another order (never values: those meet no blocks)."""
        outer = self._block_sum(fn, args)
        if outer is None or outer[0] < 0:
            return None
        _, s, c2 = outer
        inner = self.instructions[s.index]
        inner_sum = None if inner.kwargs else self._block_sum(inner.fn, inner.args)
        if inner_sum is None:
            return None
        sign, s0, c1 = inner_sum
        return sign, s0, self.freeze((c1 + c2).view(TangentBlock))

    def _block_sum(self, fn: Any, args: tuple[Any, ...]) -> tuple[int, Sym, np.ndarray] | None:
        """``args`` of ``fn`` as ``±symbol + tangent block``, or None."""
        if fn not in (np.add, np.subtract) or len(args) != 2:
            return None
        a, b = args
        s, c = (a, b) if type(a) is Sym else (b, a)
        if type(s) is not Sym or s.index < 0 or id(c) not in self.tangent_blocks:
            return None
        if fn is np.subtract and s is b:
            return -1, s, c  # c - s
        return 1, s, (-c if fn is np.subtract else c)

    def freeze(self, a: Any) -> Any:
        """Constant arrays as read-only copies taken when they are first used (a new copy if
        ``f`` changed one in between): the program replays what ``f`` computed then."""
        t = type(a)
        if t is TangentBlock:  # ours, never changed: one plain copy, known as a block
            kept = self.frozen.get(id(a))
            if kept is not None and kept[0] is a:
                return kept[1]
            copy = np.array(a)
            copy.flags.writeable = False
            self.frozen[id(a)] = (a, copy)
            self.owned.add(id(copy))
            self.tangent_blocks[id(copy)] = copy
            return copy
        if t is not np.ndarray and isinstance(a, np.ndarray):
            raise TypeError(
                f"dualdiff.jit: a constant {t.__name__} (an ndarray subclass) cannot be traced; "
                "pass a plain array (np.asarray)"
            )
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
        instruction = _Instruction(sym, fn, args, kwargs, None if state == self.errstate else state)
        instruction.owns = _owns(fn, args, kwargs, value)
        self.instructions.append(instruction)
        return sym


def _owns(fn: Any, args: Any, kwargs: Any, value: Any) -> bool:
    """Whether ``value``, the result of ``fn`` on the traced ``args``, is a new array that shares
    no memory with any argument (a symbol's value or a constant): only such a buffer may be
    written into by later instructions, or handed out without a copy.

    Decided on the concrete call, not by the function's name alone: NumPy returns an argument
    itself or a view of it for some arguments (``np.diff(a, n=0)``). The program replays the
    same call with the same constants on arrays of the same shapes and dtypes, and the
    candidates' aliasing depends only on those."""
    if fn is None or type(value) is not np.ndarray:
        return False
    if not (isinstance(fn, np.ufunc) or fn in FRESH_FUNCTIONS):
        return False
    arrays = (a.value if type(a) is Sym else a for a in _leaves((args, kwargs)))
    return not any(np.may_share_memory(value, a) for a in arrays if isinstance(a, np.ndarray))


class _Instruction:
    __slots__ = ("out", "fn", "args", "kwargs", "errstate", "owns")

    def __init__(self, out: Sym, fn: Any, args: Any, kwargs: Any, errstate: Any) -> None:
        self.out, self.fn, self.args, self.kwargs, self.errstate = out, fn, args, kwargs, errstate
        self.owns = False  # set by _Program._add: the result is a new array (see _owns)


_FLOATS = frozenset(np.dtype(c) for c in "efdgFDG")
_REALS = frozenset(np.dtype(c) for c in "efdg")


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
        return ("number", repr(float(a)))  # -0.0 stays apart from 0.0
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
    """``x * 1``, ``x - 0``, ``x ** 1``: the operand itself when it is a real float array of the
    result's shape and dtype (no instruction needed). Not ``x + 0``, which turns -0.0 into 0.0,
    nor a complex ``z * 1``, which can flip the sign of a zero imaginary part."""
    if len(args) != 2 or fn not in (np.multiply, np.subtract, np.power):
        return None
    a, b = args
    pairs = [(a, b), (b, a)] if fn is np.multiply else [(a, b)]
    neutral = 0 if fn is np.subtract else 1
    for keep, other in pairs:
        if (
            type(keep) is Sym
            and type(other) in (int, float)
            and other == neutral
            and getattr(keep.value, "dtype", None) in _REALS
            and np.shape(keep.value) == np.shape(value)
            and keep.value.dtype == value.dtype
        ):
            return keep
    return None


# ---------------------------------------------------------------------------------------------
# Sym: a traced plain array (what the rules' partials compute with)
# ---------------------------------------------------------------------------------------------


def _cast(a: np.ndarray, dtype: Any) -> np.ndarray:
    return a.astype(dtype)


class Retrace(ValueError):
    """Raised at replay by a guard of the program (``specialise``): something ``f`` read from
    the values while traced (a branch, a number, a shape) is another here, so the program does
    not hold at this point and the compiled function traces ``f`` again
    (``dualdiff.engine.jit``)."""


def _item(a: Any) -> Any:
    return a.item()


def _tolist(a: Any) -> Any:
    return a.tolist()


def _array(a: Any) -> np.ndarray:
    return np.array(a)  # a copy: the user may write into it; the program's value stays


def _format(a: Any, spec: str) -> str:
    return format(a[()] if type(a) is np.ndarray else a, spec)


CONVERSIONS: dict[str, Callable[..., Any]] = {  # a reading of a traced value, by kind
    "bool": bool,
    "int": int,
    "float": float,
    "complex": complex,
    "index": operator.index,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "trunc": math.trunc,
    "item": _item,
    "tolist": _tolist,
    "array": _array,
    "shape": np.shape,
    "format": _format,
}


def _same(a: Any, b: Any) -> bool:
    """Whether a guarded reading equals the traced one (NaN equal to NaN, so that a program
    traced at a point holds there)."""
    if type(a) is not type(b):
        return False
    if type(a) in (bool, int, tuple):  # (a truth value, an index, a shape)
        return bool(a == b)
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    try:
        equal = bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:  # (a dtype without NaN)
        return bool(np.array_equal(a, b))
    if equal and a.dtype.kind in "fc":
        # -0.0 == 0.0, but a number read from it tells them apart (1 / c, math.copysign)
        for p, q in ((a.real, b.real), (a.imag, b.imag)) if a.dtype.kind == "c" else ((a, b),):
            if not np.array_equal(np.signbit(p[p == 0]), np.signbit(q[q == 0])):
                return False
    return equal


def unchanged(value: Any, kind: str, traced: Any, *extra: Any) -> None:
    """The guard ``specialise`` records: ``kind`` of ``value`` (``bool(value)``, its shape,
    ...) must be what it was when traced, else ``Retrace``."""
    if kind == "round" and type(value) is np.ndarray:
        # traced as a NumPy scalar (a 0-d array has no round()); a scalar argument of f is a
        # 0-d array here, and so is what is computed from it
        value = value[()]
    now = CONVERSIONS[kind](value, *extra)
    if not _same(now, traced):
        raise Retrace(
            f"dualdiff.jit: f read {kind}() of a traced value as {traced!r}, which is {now!r} "
            "here: tracing f again at this point"
        )


unchanged.checks = True  # type: ignore[attr-defined]  # (kept live: see _generate)


def still_raises(fn: Any, error: type, /, *args: Any, **kwargs: Any) -> None:
    """The guard ``_Program.raised`` records: ``fn(*args, **kwargs)`` raised ``error`` when
    traced, and must raise it here, else ``Retrace``."""
    try:
        fn(*args, **kwargs)
    except Exception as now:  # noqa: BLE001 - whatever it raised when traced
        if type(now) is error:
            return
        raise Retrace(
            f"dualdiff.jit: {function_name(fn)} raised {error.__name__} when f was traced (and "
            f"f went on), but {type(now).__name__} here: tracing f again at this point"
        ) from now
    raise Retrace(
        f"dualdiff.jit: {function_name(fn)} raised {error.__name__} when f was traced (and f "
        "went on), but not here: tracing f again at this point"
    )


still_raises.checks = True  # type: ignore[attr-defined]


def specialise(sym: Sym, kind: str, what: str, caller: Any, *extra: Any) -> Any:
    """``kind`` of a traced value (``bool(sym)`` for ``if``, ``int(sym)``, ``np.asarray(sym)``,
    its shape), read at the tracing point, with a guard recorded that checks at every replay
    that it is the same there (``unchanged``): the program then holds wherever it replays, and
    a point where it differs is traced again. As ``jax.jit`` does not, this accepts ``f``'s own
    branches on values, numbers read from them and value-dependent shapes.

    Only for the user's code (``caller``, the frame that asked): dualdiff's own rules and
    composition bodies refuse (``_value_dependent``), because they fall back to an eager rule
    that holds at every point, and a guard would trace again wherever their reading changes."""
    if not user_code(caller, sym.program):
        raise _value_dependent(what)
    try:
        result = CONVERSIONS[kind](sym.value, *extra)
    except Exception as error:  # (int(nan), round(inf)): f may catch it and go on
        sym.program.raised(CONVERSIONS[kind], error, (sym, *extra), {})
        raise
    traced = result
    if type(result) is np.ndarray:
        traced = result.copy()  # (the user's copy may be written into)
    sym.program.record(unchanged, (sym, kind, traced, *extra), {})
    return result


class ValueBound:
    """Python conversions of a traced value (``if x``, ``int(x)``, ``x.item()``): a plain
    traced array (``Sym``) reads them at the tracing point and guards them (``specialise``);
    a traced dual does as an eager dual does (``SymbolicDual._convert``)."""

    __slots__ = ()
    kind = "array"

    def _convert(self, kind: str, what: str, caller: Any, *extra: Any) -> Any:
        raise _value_dependent(what)

    def __bool__(self) -> bool:
        what = f"Using a traced {self.kind} as a truth value (if, and, while)"
        return self._convert("bool", what, sys._getframe(1))

    def __float__(self) -> float:
        return self._convert("float", "", sys._getframe(1))

    def __int__(self) -> int:
        return self._convert("int", f"int() of a traced {self.kind}", sys._getframe(1))

    def __index__(self) -> int:
        what = f"Using a traced {self.kind} as a Python integer"
        return self._convert("index", what, sys._getframe(1))

    def __complex__(self) -> complex:
        return self._convert("complex", f"complex() of a traced {self.kind}", sys._getframe(1))

    # piecewise constant in eager mode (a plain number)
    def __round__(self, ndigits: Any = None) -> Any:
        what = f"round() of a traced {self.kind}"
        if ndigits is None:
            return self._convert("round", what, sys._getframe(1))
        return self._convert("round", what, sys._getframe(1), ndigits)

    def __floor__(self) -> Any:
        return self._convert("floor", f"math.floor() of a traced {self.kind}", sys._getframe(1))

    def __ceil__(self) -> Any:
        return self._convert("ceil", f"math.ceil() of a traced {self.kind}", sys._getframe(1))

    def __trunc__(self) -> Any:
        return self._convert("trunc", f"math.trunc() of a traced {self.kind}", sys._getframe(1))

    def tolist(self) -> Any:
        return self._convert("tolist", f"tolist() of a traced {self.kind}", sys._getframe(1))

    def __format__(self, spec: str) -> str:
        # a format spec formats a 0-d array's value (as ndarray's): a reading, guarded
        if not spec or self.ndim != 0:
            return super().__format__(spec)
        what = f"format() of a traced {self.kind}"
        return self._convert("format", what, sys._getframe(1), spec)

    def item(self, *args: Any) -> Any:
        what, caller = f"item() of a traced {self.kind}", sys._getframe(1)
        if args:  # (item(i): the element, read and guarded as the element)
            return self[args[0] if len(args) == 1 else args]._convert("item", what, caller)
        return self._convert("item", what, caller)


def float_refused(kind: str) -> TypeError:
    """``float()`` of a traced dual: it would drop the derivative, as eager mode says."""
    return drops_tangent(
        TypeError(
            f"dualdiff.jit: float() of a traced {kind} (float(x), math.sin(x) or "
            f"{FLOAT_WRITE}) would fix it at its traced value and drop its derivative; use "
            f"numpy.sin(x) or dualdiff.sin(x); {FLOAT_WRITE_FIX}"
        )
    )


class Sym(ValueBound, NDArrayOperatorsMixin, ArrayMethods):
    """A recorded array: its value at the tracing point and the instruction that makes it.

    ndarray's methods (``mask.astype(float)``, ``s.sum()``, ``s.reshape(...)``) go through the
    NumPy functions, which record what may be compiled and refuse the rest with a TypeError."""

    __slots__ = ("program", "value", "index")

    def __init__(self, program: _Program, value: Any, index: int) -> None:
        self.program, self.value, self.index = program, value, index

    def _convert(self, kind: str, what: str, caller: Any, *extra: Any) -> Any:
        return specialise(self, kind, what or f"{kind}() of a traced array", caller, *extra)

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

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        # a symbol carries no derivative: any dtype (a boolean mask made float, ...)
        return self.program.record(_cast, (self, np.dtype(dtype)), {})

    def copy(self) -> Any:
        return np.copy(self)

    def __setitem__(self, index: Any, item: Any) -> None:
        raise TypeError(
            "dualdiff.jit: an assignment into a traced array (a[i] = ...) writes in place, which "
            "the compiler cannot trace; build the result without writing (np.where, "
            "np.concatenate), or use the eager dualdiff.jvp/jacobian"
        )

    def __getitem__(self, index: Any) -> Any:
        index = static_index(index, sys._getframe(1))
        return self.program.record(operator.getitem, (self, index), {})

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if _has_dual(inputs):
            return NotImplemented  # a traced dual takes it, with its derivative
        if "out" in kwargs:
            raise TypeError(f"dualdiff.jit: {function_name(ufunc)}(out=...) is not supported")
        if method == "at":
            raise TypeError(
                f"dualdiff.jit: {function_name(ufunc)}.at changes an array in place, which "
                "cannot be traced; use np.where or the eager functions"
            )
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return self.program.record(fn, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if not DUAL_TYPES.isdisjoint(types):
            return NotImplemented
        static = func in STATIC_SHAPE
        if "out" in kwargs and kwargs["out"] is not None:
            raise TypeError(f"dualdiff.jit: {function_name(func)}(out=...) is not supported")
        if static and not (func is np.where and len(args) + len(kwargs) < 3):
            args, kwargs = static_parameters(func, args, kwargs, sys._getframe(1))
            return self.program.record(func, args, kwargs)
        # a result whose shape may depend on the values (np.nonzero, np.unique): recorded, with
        # its shape guarded (see ``specialise``)
        if not user_code(sys._getframe(1), self.program):
            raise TypeError(
                f"dualdiff.jit: {function_name(func)} of traced values cannot be compiled (only "
                "functions whose result's shape does not depend on the values can); use the "
                "eager dualdiff.jvp/jacobian"
            )
        return guard_shapes(self.program.record(func, args, kwargs))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        what = "Converting a traced array to a NumPy array"
        a = specialise(self, "array", what, sys._getframe(1))
        return a if dtype is None else a.astype(dtype, copy=False)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))


# NumPy functions whose result's shape follows from the arguments' shapes alone: the only ones
# a compiled program may apply to traced values (np.nonzero, np.unique, a boolean mask... would
# give arrays of another size at another point).
STATIC_SHAPE = set(
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


def static_index(index: Any, caller: Any) -> Any:
    """``index`` with each traced boolean mask in it as the integer indices it selects, as
    NumPy defines a mask (``x[mask]`` is ``x[mask.nonzero()]``), their number guarded: the
    traced integer indices are gathered again at every replay, and a point where the mask
    selects another number of elements is traced again (see ``specialise``). A 0-d mask
    (``x[m]`` for a traced scalar condition ``m``) is read as the bool it is, and guarded, and
    so is a slice's bound computed from x (``x[: np.argmax(x) + 1]``), as the int it is."""
    items = index if type(index) is tuple else (index,)
    traced = [
        i
        for i in items
        if (type(i) is Sym and i.value.dtype == bool) or (type(i) is slice and _symbols(i))
    ]
    if not traced:
        return index
    if not user_code(caller, _symbols(traced)[0].program):
        raise TypeError(
            "dualdiff.jit: indexing with a traced boolean mask (or a slice bound computed from "
            "x) gives a shape that depends on the values; use np.where(mask, x, 0), or the "
            "eager dualdiff.jvp/jacobian"
        )
    out: list[Any] = []
    for item in items:
        if type(item) is slice and _symbols(item):
            # (replayed as it was traced, a new bound gave a slice of another length, and
            # the instructions after it, traced for the old length, went on without a word)
            what = "a slice bound computed from x"
            bounds = (item.start, item.stop, item.step)
            out.append(
                slice(
                    *(specialise(b, "index", what, caller) if type(b) is Sym else b for b in bounds)
                )
            )
        elif type(item) is not Sym or item.value.dtype != bool:
            out.append(item)
        elif item.value.ndim == 0:
            out.append(specialise(item, "bool", "a traced boolean index", caller))
        else:
            out.extend(guard_shapes(item.program.record(np.nonzero, (item,), {})))
    return tuple(out) if type(index) is tuple or len(out) != 1 else out[0]


# parameters that set the shape of a structural function's result (np.reshape's shape,
# np.broadcast_to's, an axis, np.diagonal's offset, np.diff's n)
_SHAPE_PARAMETERS = frozenset(
    "shape newshape axis axes axis1 axis2 source destination offset n".split()
)


def static_parameters(func: Any, args: Any, kwargs: Any, caller: Any) -> tuple[Any, Any]:
    """``args`` and ``kwargs`` with each symbol in ``func``'s shape parameters (a shape, an
    axis computed from x) read as the int (or list) it is and guarded, as ``static_index`` does
    for a slice bound: replayed as traced, the result's shape changed with it while what
    followed was traced for the old one."""
    traced = _symbols((args, kwargs))
    if not traced:
        return args, kwargs
    try:
        bound = bound_arguments(func, args, kwargs)
    except (TypeError, ValueError):
        return args, kwargs
    fixed: dict[int, Any] = {}
    for name, value in bound.items():
        if name not in _SHAPE_PARAMETERS:
            continue
        for sym in _symbols(value):
            what = f"{function_name(func)}'s {name} computed from x"
            if not user_code(caller, sym.program):
                raise _value_dependent(what)
            kind = "index" if np.ndim(sym.value) == 0 else "tolist"
            fixed[id(sym)] = specialise(sym, kind, what, caller)
    if not fixed:
        return args, kwargs
    return _replaced(args, fixed), _replaced(kwargs, fixed)


def _replaced(a: Any, fixed: dict[int, Any]) -> Any:
    """``a`` with the symbols in ``fixed`` (by id) replaced by what ``fixed`` holds for them."""
    t = type(a)
    if t is Sym:
        return fixed.get(id(a), a)
    if t is tuple or t is list:
        return t(_replaced(i, fixed) for i in a)
    if t is dict:
        return {k: _replaced(v, fixed) for k, v in a.items()}
    if t is slice:
        return slice(*(_replaced(i, fixed) for i in (a.start, a.stop, a.step)))
    return a


def user_code(caller: Any, program: _Program) -> bool:
    """Whether the frame ``caller`` is the user's code, whose readings of traced values are
    guarded (``specialise``), rather than dualdiff's own (a rule, a composition's body)."""
    if program.internal:
        return False
    if caller is True:  # (the caller knows it acts for the user's own call)
        return True
    module = caller.f_globals.get("__name__", "") if caller is not None else "dualdiff"
    if module == "dualdiff.core.methods":  # an ndarray method (mask.nonzero()) calling for
        return user_code(caller.f_back, program)  # whoever called it
    return not (module == "dualdiff" or module.startswith("dualdiff."))


def guard_shapes(result: Any) -> Any:
    """``result`` (a symbol or a tuple/list of them), each array's shape guarded."""
    for s in result if type(result) in (tuple, list) else (result,):
        if type(s) is Sym and type(s.value) is np.ndarray:
            s.program.record(unchanged, (s, "shape", s.value.shape), {})
    return result


def _record_rule(rule: Rule, *args: Any) -> Any:
    """A rule called on plain traced arrays (inside another rule's partials): one instruction."""
    program = next(a.program for a in args if type(a) is Sym)
    return program.record(rule.array, args, {})


SYMBOLIC_TYPES[Sym] = _record_rule


def _value_dependent(what: str) -> TypeError:
    return TypeError(
        f"dualdiff.jit: {what} depends on the input's values, which a compiled function cannot "
        "replay; use the eager dualdiff.jvp/jacobian, or write it with np.where"
    )


def _generate(
    program: _Program, leaves: list[tuple[Any, Any]], directions: int | None
) -> tuple[str, Any]:
    """Python source for the recorded program, cleaned up, and the compiled function.

    In phases: keep the instructions the outputs need (``_live``), find when each value is last
    used and which results are fresh arrays (``_Lifetimes``), write one line per instruction,
    reusing the buffers of temporaries that died (``_Writer.body``), then return every output
    in memory of its own and compile (``_Writer.function``)."""
    results = [value for value, _ in leaves]
    tangents = [tangent for _, tangent in leaves]
    roots = [r.index for r in results + tangents if type(r) is Sym]
    # an instruction that checks its shapes at every replay runs even when only a static
    # attribute of its result was used (``np.unique(x).size``): its check is what refuses a
    # replay where the shapes depend on the values
    checks = [i for i, ins in enumerate(program.instructions) if getattr(ins.fn, "checks", 0)]
    order = _live(program.instructions, roots + checks)
    lifetimes = _Lifetimes(program.instructions, order, set(roots))
    writer = _Writer(program, directions)
    lines = writer.body(order, lifetimes)
    return writer.function(lines, results, tangents, lifetimes.owners)


def _live(instructions: list[_Instruction], roots: list[int]) -> list[int]:
    """The instructions the outputs depend on, in program order (dead code dropped)."""
    needed: set[int] = set()
    stack = list(roots)
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        instruction = instructions[i]
        if instruction.fn is not None:
            stack.extend(s.index for s in _symbols((instruction.args, instruction.kwargs)))
    return sorted(needed)


class _Lifetimes:
    """When each value is last used (``last_use``: its position in ``order``), which values a
    result may view (``viewed``: their buffers must stay), which results are new arrays
    (``owners``) and which of those are arrays whose buffers may be reused (``fresh``)."""

    def __init__(self, instructions: list[_Instruction], order: list[int], returned: set[int]):
        self.instructions = instructions
        self.returned = returned
        self.last_use: dict[int, int] = {}
        self.viewed: set[int] = set()
        for position, i in enumerate(order):
            instruction = instructions[i]
            if instruction.fn is None:
                continue
            for s in _symbols((instruction.args, instruction.kwargs)):
                self.last_use[s.index] = position
                if not instruction.owns and isinstance(instruction.out.value, np.ndarray):
                    # its result may be this operand or a view of it: the buffer stays
                    self.viewed.add(s.index)
        self.owners = {i for i in order if instructions[i].owns}
        self.fresh = {i for i in self.owners if instructions[i].out.value.ndim > 0}

    def dying(self, args: Any, kwargs: Any, position: int) -> list[Sym]:
        """The fresh temporaries used for the last time at ``position``."""
        return [
            a
            for a in _symbols((args, kwargs))
            if a.index in self.fresh
            and a.index not in self.viewed
            and a.index not in self.returned
            and self.last_use.get(a.index) == position
        ]


class _Writer:
    """Writes the generated function: names for values and constants, lines, outputs."""

    def __init__(self, program: _Program, directions: int | None) -> None:
        self.program = program
        self.directions = directions
        self.env: dict[str, Any] = {}
        self.names: dict[int, str] = {}
        self.variable: dict[int, str] = {}
        self.parameters: list[str] = []

    def constant(self, obj: Any) -> str:
        if type(obj) is TangentBlock:
            obj = self.program.freeze(obj)
        name = self.names.get(id(obj))
        if name is None:
            name = self.names[id(obj)] = _readable_name(obj, self.env) or f"c{len(self.names)}"
            self.env[name] = obj
            self.program.constants[id(obj)] = obj
        return name

    def expr(self, a: Any) -> str:
        t = type(a)
        if t is Sym:
            return self.variable[a.index]
        if t is tuple:
            inner = ", ".join(self.expr(i) for i in a)
            return f"({inner},)" if len(a) == 1 else f"({inner})"
        if t is list:
            return "[" + ", ".join(self.expr(i) for i in a) + "]"
        if t is slice:
            return f"slice({self.expr(a.start)}, {self.expr(a.stop)}, {self.expr(a.step)})"
        if a is None or a is Ellipsis:
            return "None" if a is None else "..."
        if t in (bool, int, str) or (t is float and math.isfinite(a)):
            return repr(a)
        return self.constant(a)

    def body(self, order: list[int], lifetimes: _Lifetimes) -> list[str]:
        """One line per instruction; a ufunc writes into the buffer of an operand that dies
        there, or of a temporary that died before, so the program allocates about as much as it
        keeps alive."""
        instructions = self.program.instructions
        fresh = lifetimes.fresh
        free: dict[Any, list[Sym]] = {}  # buffers of dead temporaries, by (shape, dtype)
        inputs = [i.args for i in instructions if i.fn is None]
        self.parameters = [
            f"{kind}{k}" for kind, k in sorted(inputs, key=lambda a: (a[0] != "x", a[1]))
        ]
        lines = []
        for position, i in enumerate(order):
            instruction = instructions[i]
            if instruction.fn is None:
                kind, k = instruction.args
                self.variable[i] = f"{kind}{k}"
                continue
            name = self.variable[i] = f"v{i}"
            fn, args, kwargs = instruction.fn, instruction.args, dict(instruction.kwargs)
            out_value = instruction.out.value
            dying = lifetimes.dying(args, kwargs, position)
            if isinstance(fn, np.ufunc) and fn.nout == 1 and not kwargs and i in fresh:
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
                line = f"{name} = {self.expr(args[0])}[{self.expr(args[1])}]"
            else:
                call = [self.expr(a) for a in args]
                call += [f"{k}={self.expr(v)}" for k, v in kwargs.items()]
                line = f"{name} = {self.constant(fn)}({', '.join(call)})"
                if fn is unchanged:  # a guard: its result is nothing
                    line = line.split(" = ", 1)[1]
            if instruction.errstate is not None:
                state = ", ".join(f"{k}={v!r}" for k, v in sorted(instruction.errstate.items()))
                lines.append(f"with {self.constant(np.errstate)}({state}):")
                line = "    " + line
            lines.append(line)
        return lines

    def function(
        self, lines: list[str], results: list[Any], tangents: list[Any], owners: set[int]
    ) -> tuple[str, Any]:
        """The source returning every result and tangent in memory of its own (a zero tangent
        is a fresh array per call), and the function compiled from it."""
        handed_out: set[int] = set()

        def zeros(value: Any) -> str:
            dtype = np.result_type(value.value if type(value) is Sym else value, 0.0)
            shape = _shape(value) + (() if self.directions is None else (self.directions,))
            return f"{self.constant(np.zeros)}({self.expr(shape)}, {self.constant(dtype)})"

        def output(a: Any) -> str:
            # as eager results do: a constant (a Jacobian that does not depend on x), a view (of
            # x, or of another result) and a repeat are copied
            if type(a) is Sym:
                own = a.index in owners and a.index not in handed_out
                handed_out.add(a.index)
                if own or type(a.value) is not np.ndarray:
                    return self.expr(a)
            elif not isinstance(a, np.ndarray):
                return self.expr(a)
            return f"{self.expr(a)}.copy()"

        out = [output(r) for r in results]
        out += [output(t) if t is not None else zeros(r) for r, t in zip(results, tangents)]
        body = "\n".join("    " + line for line in lines) or "    pass"
        name = "jvp" if self.directions is None else "value_and_jacobian"
        returned_tuple = f"({', '.join(out)},)" if out else "()"  # f may return an empty tuple
        source = f"def {name}({', '.join(self.parameters)}):\n{body}\n    return {returned_tuple}\n"
        namespace = dict(self.env)
        exec(compile(source, f"<dualdiff.jit {name}>", "exec"), namespace)
        return source, namespace[name]


def _readable_name(obj: Any, taken: dict[str, Any]) -> str | None:
    """``np_multiply``, ``scale``: the name a function goes by in the generated code (None for
    arrays and other constants, which are numbered)."""
    name = getattr(obj, "__name__", None)
    if not callable(obj) or not isinstance(name, str) or not name.strip("_").isidentifier():
        return None
    module = getattr(obj, "__module__", None) or ""
    name = ("np_" if module.startswith("numpy") or isinstance(obj, np.ufunc) else "") + name.strip(
        "_"
    )
    if name[:1] in "vxtc" and name[1:].isdigit():
        return None  # the generated code's own variable names
    candidate, suffix = name, 2
    while candidate in taken:
        candidate, suffix = f"{name}_{suffix}", suffix + 1
    return candidate


def _symbols(a: Any) -> list[Sym]:
    return [leaf for leaf in _leaves(a) if type(leaf) is Sym]


def _leaves(a: Any) -> Any:
    """The items of ``a`` below its tuples, lists, dicts and slices, depth first."""
    t = type(a)
    if t is tuple or t is list:
        for i in a:
            yield from _leaves(i)
    elif t is dict:
        for i in a.values():
            yield from _leaves(i)
    elif t is slice:
        yield from _leaves((a.start, a.stop, a.step))
    else:
        yield a
