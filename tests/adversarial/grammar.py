"""A grammar of small NumPy programs, drawn with hypothesis, for the adversarial suite.

A program is a short list of steps on a working set of arrays ``a0 = x, a1, a2, ...``: every step
reads earlier entries and appends one new entry (an in-place step updates an entry, possibly
through a view, and appends the array that owns the updated memory, so the write is visible in
the result). The result is the last entry. Programs are plain Python closures, never ``eval``;
each carries the source it would have, for failure reports and regression tests.

Programs are valid NumPy programs by construction: each step is tried on a sample point while it
is drawn (under ``np.errstate(all="raise")`` with warnings as errors) and dropped when plain NumPy
refuses it or warns. Elementwise functions of the rule table get arguments inside the rule's test
domain (``Rule.domain``): raw when the sample lies well inside it, else squashed into it with
``tanh``. In-place updates never target memory shared with the input ``x`` (in NumPy that would
mutate the caller's array, which no differentiation mode can be asked to mirror).

Features can be switched off by name (``FEATURES``); ``KNOWN_BROKEN`` in ``test_properties``
switches off the ones that fail on the current code for a known class of issue 11.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.rules.elementwise import RULES

HUNT = int(os.environ.get("DUALDIFF_ADVERSARIAL_EXAMPLES", "0") or 0)


def examples(ci: int) -> int:
    """The example count of one property: ``ci`` in CI, the hunt's count when one is asked for."""
    return HUNT if HUNT else ci


# longer programs in a hunt: DUALDIFF_ADVERSARIAL_STEPS=8
MAX_STEPS = int(os.environ.get("DUALDIFF_ADVERSARIAL_STEPS", "5") or 5)

SHAPES = [(), (3,), (2, 3), (4,)]

# Elementwise functions of the rule table (by name), one and two arguments. ldexp takes an integer
# exponent (NumPy refuses floats there) and gets an integer constant.
UNARY = sorted(name for name, rule in RULES.items() if rule.nin == 1)
BINARY = sorted(name for name, rule in RULES.items() if rule.nin == 2)

FEATURES = (
    "unary",  # a rule of the table on one argument
    "binary",  # a two-argument rule (entry or constant operands, broadcasting)
    "arith",  # + - * / ** with constants and other entries
    "view",  # basic slicing (steps, negative steps), reshape, .T, transpose, swapaxes, ravel ...
    "copy_shape",  # flatten, broadcast_to, tile, repeat, flip, roll, pad
    "inplace",  # t op= w on a whole entry (not a view)
    "inplace_view",  # t[idx] op= w, and op= on an entry that is a view of another
    "setitem",  # t[idx] = expr
    "out",  # ufunc(..., out=t) and out=t[view], with and without where=
    "reduce",  # sum mean prod max min std var (axis, keepdims), functions and methods
    "join",  # concatenate stack hstack where
    "cumulative",  # cumsum cumprod diff
    "diff_n0",  # np.diff(a, n=0): returns its argument itself
    "product",  # @ dot outer einsum inner
    "sort_index",  # sort, a[argmax], take, fancy indexing, argsort gather
    "linalg",  # solve, det, inv, norm
    "misc",  # clip, median, trace, tril, interp, maximum with self
    "value_index",  # indices from values: a[argmax(a)], a[argsort(a)], argmin gathers, a[a > c]
    "methods_0d",  # ndarray methods (.flatten .reshape .T ...) and a[..., None] on a scalar entry
    "sort_method",  # c = a.copy(); c.sort()
    "std_degenerate",  # std/var over one element or equal elements (a zero spread)
    "astype_method",  # a.astype(np.float64)
    "float32_constants",  # np.float32 scalar constants in float64 programs
    "scalar_then_inplace",  # s = a[0] (a NumPy scalar, a copy), then a updated in place
    "reduce_dtype",  # np.sum(a, dtype=np.float32)
    "reshape_copy",  # reshape/ravel where NumPy copies (a's memory layout) rather than views
    "zero_d_write",  # e = np.expand_dims(s, 0); e += e where s is a 0-d array (np.where's result)
    "arg_write",  # in-place updates of the argument a0 itself and of views (of views) of it
    "writes",  # t[1:] += t[:-1] (overlap), t[[0, 0]] += w, np.add.at, np.put, np.copyto(where=)
    "reduce_kw",  # reductions with where=/initial=, ufunc.accumulate, products through zeros
    "table_kw",  # NumPy's other functions with the keywords people pass (axis, dx, method ...)
    "pyops",  # // % ** with array/entry exponents, comparisons feeding np.where, abs, max/min
    "loops",  # Python loops over elements: accumulations, recurrences, stacked lists, if
    "gather",  # put_along_axis, take(mode=), argmax along an axis, 2-d/mixed fancy indices
    "extrema",  # maximum/minimum/fmax/fmin of entries, clip with entry bounds, interp fp, norm
)

# Features without a builder in BUILDERS (methods_0d ... reshape_copy) are never drawn as a step:
# they change how other steps are drawn.

INPLACE = ("inplace", "inplace_view", "setitem", "out", "writes")


class Program:
    """A generated program: ``program(x)`` runs it; ``repr`` is its source."""

    def __init__(self, steps: list[Callable[[list[Any]], Any]], lines: list[str]) -> None:
        self.steps = steps
        self.lines = lines

    def __call__(self, x: Any) -> Any:
        env = [x]
        for step in self.steps:
            env.append(step(env))
        return env[-1]

    def source(self) -> str:
        body = "".join(f"    {line}\n" for line in self.lines)
        return f"def f(a0):\n{body}    return a{len(self.steps)}\n"

    def __repr__(self) -> str:
        return "\n" + self.source()


class Case:
    """A program with the points it is checked at: ``x0`` (where it was drawn), ``x1`` (a second
    point of the same shape), a direction ``v`` and the features it uses."""

    def __init__(self, program: Program, x0: np.ndarray, x1: np.ndarray, v: np.ndarray, used: set):
        self.program = program
        self.x0, self.x1, self.v = x0, x1, v
        self.used = used

    def __repr__(self) -> str:
        return (
            f"{self.program.source()}x0 = np.array({self.x0.tolist()!r}, dtype={self.x0.dtype})"
            f"  # strides {np.asarray(self.x0).strides}\n"
            f"x1 = np.array({self.x1.tolist()!r})\nv = np.array({self.v.tolist()!r})\n"
            f"features = {sorted(self.used)}"
        )


def quiet(fn: Callable[[], Any]) -> Any:
    """``fn()`` with every floating-point warning an error."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


def fmt(value: Any) -> str:
    """Source text of a constant."""
    if isinstance(value, np.ndarray):
        dtype = "" if value.dtype == np.float64 else f", dtype=np.{value.dtype}"
        shown = value if value.dtype.kind in "bi" else np.round(value, 4)
        return f"np.array({shown.tolist()!r}{dtype})"
    if isinstance(value, np.generic):
        return f"np.{type(value).__name__}({value.item()!r})"
    return repr(value)


class Ctx:
    """What a step builder sees: the sample entries, the draw function and a fixed rng."""

    def __init__(self, draw: Any, sample: list[Any], enabled: set[str] | None = None) -> None:
        self.draw = draw
        self.sample = sample
        self.enabled = set(FEATURES) if enabled is None else enabled
        self.scalar_sources: set[int] = set()  # entries a NumPy scalar was read from by indexing

    def method_ok(self, i: int) -> bool:
        """Whether an ndarray method may be called on entry ``i`` (a 0-d entry only when the
        ``methods_0d`` feature is on)."""
        return np.ndim(self.sample[i]) > 0 or "methods_0d" in self.enabled

    def pick(self, predicate: Callable[[Any], bool] = lambda a: True) -> int | None:
        candidates = [i for i, a in enumerate(self.sample) if predicate(a)]
        if not candidates:
            return None
        if candidates[-1] == len(self.sample) - 1 and self.draw(st.booleans()):
            return candidates[-1]  # the latest entry half the time: programs compose
        # recent entries more often: the program then composes instead of restarting from x
        return self.draw(st.sampled_from(candidates[::-1]))

    def const(self, shape: tuple[int, ...] | None = None, positive: bool = False) -> Any:
        """A constant that broadcasts against ``shape``: Python and NumPy scalars of several
        kinds, or an array of a broadcast-compatible shape."""
        kinds = ["float", "int", "np.float64", "np.int64", "np.float32", "array"]
        if "float32_constants" not in self.enabled:
            kinds.remove("np.float32")
        kind = self.draw(st.sampled_from(kinds))
        value = self.draw(
            st.sampled_from(
                [0.5, 1.5, 2.0, 3.0, 0.75] if positive else [0.5, -1.5, 2.0, 3.0, -0.75, 1.0]
            )
        )
        if kind == "float":
            return value
        if kind == "int":
            return int(math.ceil(abs(value))) * (1 if value > 0 or positive else -1)
        if kind == "np.float64":
            return np.float64(value)
        if kind == "np.int64":
            return np.int64(int(math.ceil(abs(value))))
        if kind == "np.float32":
            return np.float32(value)
        shape = shape or ()
        options = [shape[i:] for i in range(len(shape) + 1)]
        options += [
            tuple(1 if j == k else n for j, n in enumerate(shape)) for k in range(len(shape))
        ]
        cshape = self.draw(st.sampled_from(options))
        seed = self.draw(st.integers(0, 50))
        rng = np.random.default_rng(seed)
        arr = np.round(rng.uniform(0.5, 2.0, cshape), 2)
        if not positive:
            arr = arr * rng.choice([-1.0, 1.0], cshape)
        if "float32_constants" in self.enabled and self.draw(st.booleans()):
            arr = arr.astype(np.float32)
        return np.array(arr) if cshape == () and self.draw(st.booleans()) else arr


def is_float(a: Any) -> bool:
    return isinstance(a, (np.ndarray, np.generic)) and np.asarray(a).dtype.kind in "fc"


def arr_float(a: Any) -> bool:
    return is_float(a) and np.ndim(a) >= 1 and np.size(a) > 0


def inside(a: Any, lo: float, hi: float) -> bool:
    a = np.asarray(a)
    margin = 0.05 * (hi - lo)
    return a.dtype.kind == "f" and bool(np.all((a > lo + margin) & (a < hi - margin)))


def squash(ctx: Ctx, i: int, lo: float, hi: float) -> tuple[Callable[[list[Any]], Any], str]:
    """Entry ``i`` as an argument inside ``(lo, hi)``: raw when the sample is inside, else through
    ``tanh`` (always inside)."""
    if inside(ctx.sample[i], lo, hi) and ctx.draw(st.booleans()):
        return (lambda env: env[i]), f"a{i}"
    mid, half = (lo + hi) / 2, 0.45 * (hi - lo)
    return (lambda env: mid + half * np.tanh(env[i])), f"({mid!r} + {half!r} * np.tanh(a{i}))"


# ---------------------------------------------------------------------------------------------
# Step builders: each returns (step, line, result-is-inplace-root) or None
# ---------------------------------------------------------------------------------------------


def b_unary(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None or np.asarray(ctx.sample[i]).dtype.kind == "c":
        return None
    name = ctx.draw(st.sampled_from(UNARY))
    rule = RULES[name]
    fn = rule.ufunc if rule.ufunc is not None else getattr(dd, name)
    prefix = "np" if rule.ufunc is not None else "dd"
    arg, text = squash(ctx, i, *rule.domain[0])
    return (lambda env: fn(arg(env))), f"{prefix}.{fn.__name__ if prefix == 'np' else name}({text})"


def b_binary(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    name = ctx.draw(st.sampled_from(BINARY))
    rule = RULES[name]
    fn = rule.ufunc if rule.ufunc is not None else getattr(dd, name)
    prefix = "np" if rule.ufunc is not None else "dd"
    fname = f"{prefix}.{fn.__name__ if prefix == 'np' else name}"
    first, t1 = squash(ctx, i, *rule.domain[0])
    if name == "ldexp":
        c = ctx.draw(st.sampled_from([np.array([1, -2, 0]), 2, np.int64(-1)]))
        return (lambda env: fn(first(env), c)), f"{fname}({t1}, {fmt(c)})"
    if ctx.draw(st.booleans()):
        j = ctx.pick(is_float)
        second, t2 = squash(ctx, j, *rule.domain[1])
    else:
        lo, hi = rule.domain[1]
        c = ctx.const(np.shape(ctx.sample[i]))
        c = np.clip(c, lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo))
        c = c if isinstance(c, np.ndarray) else type(c)(c) if not isinstance(c, np.generic) else c
        second, t2 = (lambda env: c), fmt(c)
    if ctx.draw(st.booleans()) and name not in ("ldexp",):
        lo0, hi0 = rule.domain[0]
        lo1, hi1 = rule.domain[1]
        if lo0 <= lo1 and hi1 <= hi0:  # the second operand also fits the first slot: swap
            return (lambda env: fn(second(env), first(env))), f"{fname}({t2}, {t1})"
    return (lambda env: fn(first(env), second(env))), f"{fname}({t1}, {t2})"


def b_arith(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    op = ctx.draw(st.sampled_from(["+", "-", "*", "/", "r/", "**", "r**", "neg", "abs"]))
    if op == "neg":
        return (lambda env: -env[i]), f"-a{i}"
    if op == "abs":
        return (lambda env: abs(env[i])), f"abs(a{i})"
    if op == "**":
        powers = [2, 3, 2.0, 0.5, -1, -1.5, np.int64(2), 1]
        if "float32_constants" in ctx.enabled:
            powers += [np.float32(2.0), np.float32(0.1)]
        c = ctx.draw(st.sampled_from(powers))
        if isinstance(c, int | np.integer) and c >= 0:
            return (lambda env: env[i] ** c), f"a{i} ** {fmt(c)}"
        return (lambda env: (0.5 + env[i] * env[i]) ** c), f"(0.5 + a{i} * a{i}) ** {fmt(c)}"
    if op == "r**":
        c = ctx.draw(st.sampled_from([2.0, 0.5, np.float64(3.0), 2]))
        return (lambda env: c ** np.tanh(env[i])), f"{fmt(c)} ** np.tanh(a{i})"
    use_entry = ctx.draw(st.booleans())
    if use_entry:
        j = ctx.pick(is_float)
        other, text = (lambda env: env[j]), f"a{j}"
        if op in ("/", "r/"):
            other, text = (lambda env: 1.0 + env[j] * env[j]), f"(1.0 + a{j} * a{j})"
    else:
        c = ctx.const(np.shape(ctx.sample[i]), positive=op in ("/", "r/"))
        other, text = (lambda env: c), fmt(c)
    if op == "r/":
        return (lambda env: other(env) / (1.0 + env[i] * env[i])), f"{text} / (1.0 + a{i} * a{i})"
    fns = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "/": lambda a, b: a / b}  # fmt: skip
    f = fns[op]
    if op != "/" and ctx.draw(st.booleans()):  # the constant or entry first: reflected operators
        return (lambda env: f(other(env), env[i])), f"{text} {op} a{i}"
    return (lambda env: f(env[i], other(env))), f"a{i} {op} {text}"


def slice_text(s: Any) -> str:
    if isinstance(s, slice):
        parts = ["" if s.start is None else str(s.start), "" if s.stop is None else str(s.stop)]
        text = ":".join(parts)
        return text + (f":{s.step}" if s.step is not None else "")
    if s is None:
        return "None"
    if s is Ellipsis:
        return "..."
    return repr(s)


def index_text(idx: tuple) -> str:
    return ", ".join(slice_text(s) for s in idx) if idx else "()"


def draw_basic_index(ctx: Ctx, shape: tuple[int, ...], allow_int: bool = True) -> tuple:
    idx = []
    for n in shape:
        ints = allow_int and n > 0  # an empty axis takes no integer index
        kind = ctx.draw(st.sampled_from(["all", "slice", "int"] if ints else ["all", "slice"]))
        if kind == "all":
            idx.append(slice(None))
        elif kind == "int":
            idx.append(ctx.draw(st.integers(-n, n - 1)))
        else:
            step = ctx.draw(st.sampled_from([None, 2, -1, -2, 1]))
            start = ctx.draw(st.sampled_from([None, 0, 1, -1, -2]))
            stop = ctx.draw(st.sampled_from([None, n, -1, 2, 0]))
            idx.append(slice(start, stop, step))
    if shape and ctx.draw(st.booleans()):
        pos = ctx.draw(st.integers(0, len(idx)))
        idx.insert(pos, None)  # a new axis inside the index
    return tuple(idx)


def b_view(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    kind = ctx.draw(st.sampled_from(
        ["slice", "reshape", "T", "transpose", "swapaxes", "ravel", "newaxis", "squeeze",
         "expand_dims", "moveaxis", "diagonal", "real"]))  # fmt: skip
    if kind == "slice" and shape:
        idx = draw_basic_index(ctx, shape)
        return (lambda env: env[i][idx]), f"a{i}[{index_text(idx)}]"
    if kind in ("reshape", "T", "ravel", "newaxis") and not ctx.method_ok(i):
        kind = "transpose"
    if kind == "reshape":
        size = int(np.prod(shape))
        options = [(size,), (1, size), (size, 1), (-1,)]
        options += [(p, size // p) for p in range(2, size) if size % p == 0]
        options += [(1, -1, 1)] if size else []
        new = ctx.draw(st.sampled_from(options))
        order = ctx.draw(st.sampled_from(["C", "F"]))
        copied = isinstance(a, np.ndarray) and not np.shares_memory(
            np.reshape(a, new, order=order), a
        )
        if copied and "reshape_copy" not in ctx.enabled:
            # NumPy copies here (a's layout): spelled out, see KNOWN_BROKEN
            return (lambda env: np.reshape(env[i], new, order=order).copy()), (
                f"np.reshape(a{i}, {new!r}, order={order!r}).copy()"
            )
        if order == "C" and ctx.draw(st.booleans()):
            return (lambda env: env[i].reshape(new)), f"a{i}.reshape({new!r})"
        return (lambda env: np.reshape(env[i], new, order=order)), (
            f"np.reshape(a{i}, {new!r}, order={order!r})"
        )
    if kind == "T":
        return (lambda env: env[i].T), f"a{i}.T"
    if kind == "transpose":
        return (lambda env: np.transpose(env[i])), f"np.transpose(a{i})"
    if kind == "swapaxes" and len(shape) >= 2:
        return (lambda env: np.swapaxes(env[i], 0, -1)), f"np.swapaxes(a{i}, 0, -1)"
    if kind == "ravel":
        copied = isinstance(a, np.ndarray) and not np.shares_memory(np.ravel(a), a)
        if copied and "reshape_copy" not in ctx.enabled:
            return (lambda env: np.ravel(env[i]).copy()), f"np.ravel(a{i}).copy()"
        if ctx.draw(st.booleans()):
            return (lambda env: env[i].ravel()), f"a{i}.ravel()"
        return (lambda env: np.ravel(env[i])), f"np.ravel(a{i})"
    if kind == "newaxis":
        return (lambda env: env[i][..., None]), f"a{i}[..., None]"
    if kind == "squeeze":
        return (lambda env: np.squeeze(env[i])), f"np.squeeze(a{i})"
    if kind == "expand_dims":
        return (lambda env: np.expand_dims(env[i], 0)), f"np.expand_dims(a{i}, 0)"
    if kind == "moveaxis" and len(shape) >= 2:
        return (lambda env: np.moveaxis(env[i], 0, -1)), f"np.moveaxis(a{i}, 0, -1)"
    if kind == "diagonal" and len(shape) >= 2:
        return (lambda env: np.diagonal(env[i])), f"np.diagonal(a{i})"
    if kind == "real":
        return (lambda env: np.real(env[i])), f"np.real(a{i})"
    return None


def b_copy_shape(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    shape = np.shape(ctx.sample[i])
    kind = ctx.draw(
        st.sampled_from(
            ["flatten", "broadcast_to", "tile", "repeat", "flip", "roll", "pad", "copy", "astype"]
        )
    )
    if kind == "astype" and "astype_method" not in ctx.enabled:
        kind = "copy"
    if kind in ("flatten", "astype") and not ctx.method_ok(i):
        kind = "copy"
    if kind == "flatten":
        return (lambda env: env[i].flatten()), f"a{i}.flatten()"
    if kind == "broadcast_to":
        new = (2,) + shape
        return (lambda env: np.broadcast_to(env[i], new)), f"np.broadcast_to(a{i}, {new!r})"
    if kind == "tile":
        return (lambda env: np.tile(env[i], 2)), f"np.tile(a{i}, 2)"
    if kind == "repeat":
        return (lambda env: np.repeat(env[i], 2, axis=-1 if shape else None)), (
            f"np.repeat(a{i}, 2, axis={-1 if shape else None})"
        )
    if kind == "flip":
        return (lambda env: np.flip(env[i])), f"np.flip(a{i})"
    if kind == "roll":
        return (lambda env: np.roll(env[i], 1)), f"np.roll(a{i}, 1)"
    if kind == "pad" and shape:
        return (lambda env: np.pad(env[i], 1)), f"np.pad(a{i}, 1)"
    if kind == "copy":
        return (lambda env: np.copy(env[i])), f"np.copy(a{i})"
    if kind == "astype":
        return (lambda env: env[i].astype(np.float64)), f"a{i}.astype(np.float64)"
    return None


def writable_target(ctx: Ctx, whole: bool) -> int | None:
    """An entry that may be updated in place: a writeable float ndarray of size > 0 sharing no
    memory with the input; ``whole``: not a view of another entry."""
    x = ctx.sample[0]

    def ok(a: Any) -> bool:
        if not (isinstance(a, np.ndarray) and a.dtype.kind in "fc" and a.ndim and a.size):
            return False
        if not a.flags.writeable:
            return False
        if np.shares_memory(a, x) and ("arg_write" not in ctx.enabled or not arr_float(x)):
            return False
        if "scalar_then_inplace" not in ctx.enabled and any(
            isinstance(ctx.sample[j], np.ndarray) and np.shares_memory(a, ctx.sample[j])
            for j in ctx.scalar_sources
        ):
            return False  # see KNOWN_BROKEN: a scalar read from this memory earlier
        if "zero_d_write" not in ctx.enabled and any(
            isinstance(b, np.ndarray) and b.ndim == 0 and np.shares_memory(a, b) for b in ctx.sample
        ):
            return False  # see KNOWN_BROKEN: a write into a 0-d array through a view
        return not whole or a.base is None

    return ctx.pick(ok)


def owner(ctx: Ctx, t: int) -> int:
    """The entry owning the memory of entry ``t`` (the largest entry that shares it)."""
    sharing = [j for j, a in enumerate(ctx.sample) if isinstance(a, np.ndarray)
               and np.shares_memory(a, ctx.sample[t])]  # fmt: skip
    return max(sharing, key=lambda j: (ctx.sample[j].size, -j))


def operand_for(ctx: Ctx, shape: tuple[int, ...]):
    """An entry or constant broadcasting to ``shape``."""
    if ctx.draw(st.booleans()):
        j = ctx.pick(lambda a: is_float(a) and _broadcasts(np.shape(a), shape))
        if j is not None:
            return (lambda env: env[j]), f"a{j}"
    c = ctx.const(shape)
    return (lambda env: c), fmt(c)


def _broadcasts(src: tuple[int, ...], dst: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(src, dst) == dst
    except ValueError:
        return False


def _augment(t: Any, op: str, w: Any) -> Any:
    """``t op= w`` with Python's semantics (falls back to ``t = t op w`` when ``__iop__`` is
    missing or NotImplemented)."""
    if op == "+=":
        t += w
    elif op == "-=":
        t -= w
    elif op == "*=":
        t *= w
    elif op == "%=":
        t %= w
    else:
        t /= w
    return t


def b_inplace(ctx: Ctx, view: bool):
    t = writable_target(ctx, whole=not view)
    if t is None:
        return None
    root = owner(ctx, t)
    a = ctx.sample[t]
    op = ctx.draw(st.sampled_from(["+=", "-=", "*=", "/=", "%="]))
    if view and ctx.draw(st.booleans()):
        idx = draw_basic_index(ctx, a.shape)
        sub_shape = a[idx].shape
        w, wt = operand_for(ctx, sub_shape)
        if op in ("/=", "%="):
            w0 = w
            w, wt = (lambda env: 1.0 + w0(env) * w0(env)), f"(1.0 + {wt} * {wt})"

        def step(env: list[Any]) -> Any:
            target = env[t]
            v = target[idx]
            v = _augment(v, op, w(env))
            target[idx] = v  # Python's semantics of `target[idx] op= w`
            return env[root]

        return step, f"a{t}[{index_text(idx)}] {op} {wt}; a{len(ctx.sample)} = a{root}"
    w, wt = operand_for(ctx, a.shape)
    if op in ("/=", "%="):
        w0 = w
        w, wt = (lambda env: 1.0 + w0(env) * w0(env)), f"(1.0 + {wt} * {wt})"

    def step(env: list[Any]) -> Any:
        env[t] = _augment(env[t], op, w(env))
        return env[root]

    return step, f"a{t} {op} {wt}; a{len(ctx.sample)} = a{root}"


def b_setitem(ctx: Ctx):
    t = writable_target(ctx, whole=False)
    if t is None:
        return None
    root = owner(ctx, t)
    a = ctx.sample[t]
    kind = ctx.draw(st.sampled_from(["basic", "fancy", "mask"]))
    if kind == "basic":
        idx: Any = draw_basic_index(ctx, a.shape)
        text = index_text(idx)
    elif kind == "fancy" and a.shape[0]:
        n = a.shape[0]
        idx = ctx.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))
        text = repr(idx)
    else:
        rng = np.random.default_rng(ctx.draw(st.integers(0, 20)))
        idx = rng.random(a.shape) < 0.5
        text = fmt(idx).replace("np.array(", "np.array(")
    sub_shape = a[idx].shape
    w, wt = operand_for(ctx, sub_shape)
    if ctx.draw(st.booleans()):
        j = ctx.pick(lambda s: is_float(s) and _broadcasts(np.shape(s), sub_shape))
        if j is not None:
            w, wt = (lambda env: np.sin(env[j]) * 2.0), f"np.sin(a{j}) * 2.0"

    def step(env: list[Any]) -> Any:
        env[t][idx] = w(env)
        return env[root]

    return step, f"a{t}[{text}] = {wt}; a{len(ctx.sample)} = a{root}"


def b_out(ctx: Ctx):
    t = writable_target(ctx, whole=False)
    if t is None:
        return None
    root = owner(ctx, t)
    a = ctx.sample[t]
    if ctx.draw(st.booleans()):
        idx = draw_basic_index(ctx, a.shape, allow_int=False)
        out_view, vt = (lambda env: env[t][idx]), f"a{t}[{index_text(idx)}]"
        shape = a[idx].shape
    else:
        out_view, vt = (lambda env: env[t]), f"a{t}"
        shape = a.shape
    if 0 in shape:
        return None
    j = ctx.pick(lambda s: is_float(s) and _broadcasts(np.shape(s), shape))
    if j is None:
        return None
    uf = ctx.draw(st.sampled_from(["sin", "exp", "add", "multiply", "subtract", "tanh", "square"]))
    fn = getattr(np, uf)
    where = None
    if ctx.draw(st.booleans()):
        rng = np.random.default_rng(ctx.draw(st.integers(0, 20)))
        where = rng.random(shape) < 0.5
    wtext = "" if where is None else f", where={fmt(where)}"
    if fn.nin == 1:

        def step(env):
            kw = {} if where is None else {"where": where}
            fn(env[j], out=out_view(env), **kw)
            return env[root]

        return step, f"np.{uf}(a{j}, out={vt}{wtext}); a{len(ctx.sample)} = a{root}"
    w, wt = operand_for(ctx, shape)

    def step2(env):
        kw = {} if where is None else {"where": where}
        fn(env[j], w(env), out=out_view(env), **kw)
        return env[root]

    return step2, f"np.{uf}(a{j}, {wt}, out={vt}{wtext}); a{len(ctx.sample)} = a{root}"


def _flat_operand(ctx: Ctx, k: int) -> tuple[Callable[[list[Any]], Any], str]:
    """``k`` values to write (np.put): an entry's first ``k`` elements or a constant."""
    j = ctx.pick(lambda s: is_float(s) and np.size(s) >= k)
    if j is not None and ctx.draw(st.booleans()):
        return (lambda env: np.sin(np.ravel(env[j])[:k])), f"np.sin(np.ravel(a{j})[:{k}])"
    c = np.round(np.random.default_rng(ctx.draw(st.integers(0, 20))).uniform(-2, 2, k), 2)
    return (lambda env: c), fmt(c)


def b_writes(ctx: Ctx):
    """Writes NumPy resolves in ways of its own: overlapping operands of an augmented assignment
    (NumPy buffers them), repeated fancy indices (``t[[0, 0]] += w`` adds once, the last write
    wins), ``ufunc.at`` (repeated indices accumulate), ``np.put`` (its index modes, a shorter
    ``v`` repeated) and ``np.copyto(where=)``."""
    t = writable_target(ctx, whole=False)
    if t is None:
        return None
    root = owner(ctx, t)
    a = ctx.sample[t]
    n = a.shape[0]
    kinds = ["overlap", "fancy_aug", "at", "put", "copyto"]
    kind = ctx.draw(st.sampled_from(kinds + ["part"] * 3 if a.dtype.kind == "c" else kinds))
    op = ctx.draw(st.sampled_from(["+=", "-=", "*="]))
    tail = f"; a{len(ctx.sample)} = a{root}"
    if kind == "part":  # one part of complex memory: the other part must keep its values
        part = ctx.draw(st.sampled_from(["real", "imag"]))
        idx = draw_basic_index(ctx, a.shape)
        w, wt = operand_for(ctx, a[idx].shape)
        w0 = w
        w, wt = (lambda env: np.real(w0(env))), f"np.real({wt})"
        if ctx.draw(st.booleans()):

            def step(env):
                view = getattr(env[t], part)
                view[idx] = _augment(view[idx], op, w(env))
                return env[root]

            return step, f"a{t}.{part}[{index_text(idx)}] {op} {wt}{tail}"

        def step(env):
            getattr(env[t], part)[idx] = w(env)
            return env[root]

        return step, f"a{t}.{part}[{index_text(idx)}] = {wt}{tail}"
    if kind == "overlap" and n >= 2:
        pair = ctx.draw(st.sampled_from([
            (slice(1, None), slice(None, -1)), (slice(None, -1), slice(1, None)),
            (slice(None, None, -1), slice(None)), (slice(None, None, 2), slice(None, None, -2)),
        ]))  # fmt: skip
        dst, src = pair
        if a[dst].shape != a[src].shape:
            return None

        def step(env):
            target = env[t]
            target[dst] = _augment(target[dst], op, target[src])
            return env[root]

        return step, f"a{t}[{slice_text(dst)}] {op} a{t}[{slice_text(src)}]{tail}"
    if kind in ("fancy_aug", "at"):
        idx = ctx.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
        w, wt = operand_for(ctx, (len(idx),) + a.shape[1:])
        if kind == "fancy_aug":

            def step(env):
                target = env[t]
                target[idx] = _augment(target[idx], op, w(env))
                return env[root]

            return step, f"a{t}[{idx!r}] {op} {wt}{tail}"
        uf = {"+=": np.add, "-=": np.subtract, "*=": np.multiply}[op]

        def step(env):
            uf.at(env[t], idx, w(env))
            return env[root]

        return step, f"np.{uf.__name__}.at(a{t}, {idx!r}, {wt}){tail}"
    if kind == "put":
        size = a.size
        mode = ctx.draw(st.sampled_from(["raise", "wrap", "clip"]))
        span = (-size, size - 1) if mode == "raise" else (-size - 2, size + 2)
        ind = ctx.draw(st.lists(st.integers(*span), min_size=1, max_size=4))
        w, wt = _flat_operand(ctx, ctx.draw(st.integers(1, len(ind))))

        def step(env):
            np.put(env[t], ind, w(env), mode=mode)
            return env[root]

        return step, f"np.put(a{t}, {ind!r}, {wt}, mode={mode!r}){tail}"
    if kind == "copyto":
        w, wt = operand_for(ctx, a.shape)
        mask = np.random.default_rng(ctx.draw(st.integers(0, 20))).random(a.shape) < 0.5

        def step(env):
            np.copyto(env[t], w(env), where=mask)
            return env[root]

        return step, f"np.copyto(a{t}, {wt}, where={fmt(mask)}){tail}"
    return None


def b_reduce_kw(ctx: Ctx):
    """Reductions with ``where=``/``initial=``, ``ufunc.accumulate`` and products through
    exact zeros."""
    i = ctx.pick(arr_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    kind = ctx.draw(st.sampled_from(["where", "initial", "accumulate", "zeros"]))
    axis = ctx.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    if kind == "where":
        name = ctx.draw(st.sampled_from(["sum", "mean", "prod", "max", "min"]))
        mask = np.random.default_rng(ctx.draw(st.integers(0, 20))).random(shape) < 0.6
        kw: dict[str, Any] = {"axis": axis, "where": mask}
        if name in ("max", "min"):
            kw["initial"] = 5.0 if name == "min" else -5.0
        fn = getattr(np, name)
        kwt = ", ".join(f"{k}={fmt(v)}" for k, v in kw.items())
        return (lambda env: fn(env[i], **kw)), f"np.{name}(a{i}, {kwt})"
    if kind == "initial":
        name = ctx.draw(st.sampled_from(["sum", "prod", "max", "min"]))
        init = ctx.draw(st.sampled_from([0.5, -0.5, 3.0]))
        keep = ctx.draw(st.booleans())
        fn = getattr(np, name)
        return (lambda env: fn(env[i], axis=axis, initial=init, keepdims=keep)), (
            f"np.{name}(a{i}, axis={axis}, initial={init}, keepdims={keep})"
        )
    if kind == "accumulate":
        uf = ctx.draw(st.sampled_from([np.add, np.multiply, np.maximum, np.minimum]))
        ax = 0 if axis is None else axis
        return (lambda env: uf.accumulate(env[i], axis=ax)), (
            f"np.{uf.__name__}.accumulate(a{i}, axis={ax})"
        )
    zero = np.random.default_rng(ctx.draw(st.integers(0, 20))).random(shape) < 0.3
    factor = np.where(zero, 0.0, 1.0)
    name = ctx.draw(st.sampled_from(["prod", "cumprod"]))
    fn = getattr(np, name)
    return (lambda env: fn(env[i] * factor, axis=axis)), (
        f"np.{name}(a{i} * {fmt(factor)}, axis={axis})"
    )


def draw_axis(ctx: Ctx, ndim: int, allow_tuple: bool = True) -> Any:
    options: list[Any] = [None] + list(range(-ndim, ndim))
    if allow_tuple and ndim >= 2:
        options.append((0, 1))
        options.append((-1, 0))
    return ctx.draw(st.sampled_from(options))


def b_reduce(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    a = ctx.sample[i]
    name = ctx.draw(st.sampled_from(["sum", "mean", "prod", "max", "min", "std", "var", "ptp"]))
    axis = draw_axis(ctx, np.ndim(a), allow_tuple=name != "ptp")
    keepdims = ctx.draw(st.booleans())
    kw: dict[str, Any] = {"axis": axis, "keepdims": keepdims}
    if name in ("std", "var") and "std_degenerate" not in ctx.enabled:
        reduced = np.ones(np.shape(a)).sum(axis=axis)
        counts = np.size(a) // max(1, np.size(reduced))
        flat = np.std(np.asarray(a), axis=axis) if counts > 1 else 0.0
        if counts <= 1 or np.any(flat == 0):
            name = "mean"  # std/var of one element or of equal ones: see KNOWN_BROKEN
    if name in ("std", "var") and ctx.draw(st.booleans()):
        kw["ddof"] = 1
    if (
        name in ("sum", "mean", "prod")
        and "reduce_dtype" in ctx.enabled
        and ctx.draw(st.booleans())
    ):
        kw["dtype"] = ctx.draw(st.sampled_from([np.float32, np.float64]))
    kwt = ", ".join(
        f"{k}={'np.' + v.__name__ if isinstance(v, type) else repr(v)}" for k, v in kw.items()
    )
    if name != "ptp" and ctx.method_ok(i) and isinstance(a, np.ndarray) and ctx.draw(st.booleans()):
        return (lambda env: getattr(env[i], name)(**kw)), f"a{i}.{name}({kwt})"
    fn = getattr(np, name)
    return (lambda env: fn(env[i], **kw)), f"np.{name}(a{i}, {kwt})"


def b_join(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    kind = ctx.draw(st.sampled_from(["concatenate", "stack", "hstack", "where", "vstack"]))
    if kind == "where":
        j = ctx.pick(lambda s: is_float(s) and _try_broadcast(np.shape(s), shape))
        c = ctx.draw(st.sampled_from([0.0, 0.3, -0.5]))
        if ctx.draw(st.booleans()):
            return (lambda env: np.where(env[i] > c, env[i], env[j])), (
                f"np.where(a{i} > {c}, a{i}, a{j})"
            )
        k = ctx.const(shape)
        return (
            lambda env: np.where(env[j] < c, k, env[i])
        ), f"np.where(a{j} < {c}, {fmt(k)}, a{i})"
    if not shape and kind != "stack":
        return None
    if kind == "stack":
        j = ctx.pick(lambda s: is_float(s) and np.shape(s) == shape)
        axis = ctx.draw(st.integers(-len(shape) - 1, len(shape)))
        return (lambda env: np.stack([env[i], env[j]], axis=axis)), (
            f"np.stack([a{i}, a{j}], axis={axis})"
        )
    axis = ctx.draw(st.integers(-len(shape), len(shape) - 1))

    def fits(s: Any) -> bool:
        sh = np.shape(s)
        return (
            is_float(s)
            and len(sh) == len(shape)
            and all(p == q for k, (p, q) in enumerate(zip(sh, shape)) if k != axis % len(shape))
        )

    j = ctx.pick(fits)
    if kind == "concatenate":
        if ctx.draw(st.booleans()):
            k = ctx.const(shape)
            k = np.broadcast_to(k, shape).copy()
            return (lambda env: np.concatenate([env[i], k, env[j]], axis=axis)), (
                f"np.concatenate([a{i}, {fmt(k)}, a{j}], axis={axis})"
            )
        return (lambda env: np.concatenate((env[i], env[j]), axis=axis)), (
            f"np.concatenate((a{i}, a{j}), axis={axis})"
        )
    if kind == "hstack":
        return (lambda env: np.hstack([env[i], env[j]])), f"np.hstack([a{i}, a{j}])"
    return (lambda env: np.vstack([env[i], env[j]])), f"np.vstack([a{i}, a{j}])"


def _try_broadcast(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def b_cumulative(ctx: Ctx, n0: bool = False):
    i = ctx.pick(arr_float)
    if i is None:
        return None
    ndim = np.ndim(ctx.sample[i])
    name = ctx.draw(st.sampled_from(["cumsum", "cumprod", "diff"]))
    axis = ctx.draw(
        st.sampled_from([None, *range(-ndim, ndim)] if name != "diff" else list(range(-ndim, ndim)))
    )
    if n0:
        return (lambda env: np.diff(env[i], n=0, axis=axis)), f"np.diff(a{i}, n=0, axis={axis})"
    if name == "diff":
        n = ctx.draw(st.sampled_from([1, 2]))
        return (lambda env: np.diff(env[i], n=n, axis=axis)), f"np.diff(a{i}, n={n}, axis={axis})"
    fn = getattr(np, name)
    if ctx.draw(st.booleans()):
        return (lambda env: getattr(env[i], name)(axis=axis)), f"a{i}.{name}(axis={axis})"
    return (lambda env: fn(env[i], axis=axis)), f"np.{name}(a{i}, axis={axis})"


def b_product(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    kind = ctx.draw(st.sampled_from(["matmul", "dot", "outer", "einsum", "inner", "const_matmul"]))
    if kind == "outer":
        j = ctx.pick(is_float)
        return (lambda env: np.outer(env[i], env[j])), f"np.outer(a{i}, a{j})"
    if kind == "const_matmul" and shape:
        rng = np.random.default_rng(ctx.draw(st.integers(0, 20)))
        W = np.round(rng.uniform(-1, 1, (2, shape[0])), 2)
        if ctx.draw(st.booleans()) or len(shape) == 1:
            return (lambda env: W @ env[i]), f"{fmt(W)} @ a{i}"
        W2 = np.round(rng.uniform(-1, 1, (shape[-1], 2)), 2)
        return (lambda env: env[i] @ W2), f"a{i} @ {fmt(W2)}"
    if kind in ("matmul", "dot", "inner") and shape:
        if kind == "inner":
            j = ctx.pick(lambda s: is_float(s) and np.ndim(s) >= 1 and np.shape(s)[-1] == shape[-1])
            return (lambda env: np.inner(env[i], env[j])), f"np.inner(a{i}, a{j})"
        j = ctx.pick(
            lambda s: (
                is_float(s)
                and np.ndim(s) >= 1
                and (
                    np.shape(s)[0] == shape[-1] if np.ndim(s) == 1 else np.shape(s)[-2] == shape[-1]
                )
            )
        )
        if j is None:
            return None
        if kind == "matmul":
            return (lambda env: env[i] @ env[j]), f"a{i} @ a{j}"
        return (lambda env: np.dot(env[i], env[j])), f"np.dot(a{i}, a{j})"
    if kind == "einsum":
        if len(shape) == 1:
            j = ctx.pick(lambda s: is_float(s) and np.shape(s) == shape)
            spec = ctx.draw(st.sampled_from(["i,i->", "i,j->ij", "i,i->i", "i->"]))
            if spec == "i->":
                return (lambda env: np.einsum(spec, env[i])), f"np.einsum({spec!r}, a{i})"
            return (lambda env: np.einsum(spec, env[i], env[j])), f"np.einsum({spec!r}, a{i}, a{j})"
        if len(shape) == 2:
            spec = ctx.draw(st.sampled_from(["ij->ji", "ij->i", "ij,ij->j", "ij,kj->ik"]))
            if "," not in spec:
                return (lambda env: np.einsum(spec, env[i])), f"np.einsum({spec!r}, a{i})"
            j = ctx.pick(lambda s: is_float(s) and np.shape(s) == shape)
            return (lambda env: np.einsum(spec, env[i], env[j])), f"np.einsum({spec!r}, a{i}, a{j})"
    return None


def b_sort_index(ctx: Ctx, value_index: bool = False):
    i = ctx.pick(arr_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    kinds = ["sort", "take", "fancy"]
    if value_index:
        kinds = ["argmax", "argsort", "argmin_axis", "mask"]
    kind = ctx.draw(st.sampled_from(kinds + ["method_sort_copy"] * ("sort_method" in ctx.enabled)))
    if kind == "sort":
        axis = ctx.draw(st.sampled_from([-1, 0, None]))
        return (lambda env: np.sort(env[i], axis=axis)), f"np.sort(a{i}, axis={axis})"
    if kind == "argmax":
        return (lambda env: env[i].ravel()[np.argmax(env[i])]), f"a{i}.ravel()[np.argmax(a{i})]"
    if kind == "argmin_axis":
        return (
            lambda env: np.take_along_axis(
                env[i], np.expand_dims(np.argmin(env[i], axis=-1), -1), axis=-1
            )
        ), (f"np.take_along_axis(a{i}, np.expand_dims(np.argmin(a{i}, axis=-1), -1), axis=-1)")
    if kind in ("take", "fancy") and 0 in shape:
        return None
    if kind == "take":
        n = shape[0]
        idx = ctx.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
        return (lambda env: np.take(env[i], idx, axis=0)), f"np.take(a{i}, {idx!r}, axis=0)"
    if kind == "fancy":
        n = shape[-1]
        idx = ctx.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))
        return (lambda env: env[i][..., idx]), f"a{i}[..., {idx!r}]"
    if kind == "argsort" and len(shape) == 1:
        return (lambda env: env[i][np.argsort(env[i])]), f"a{i}[np.argsort(a{i})]"
    if kind == "mask":
        c = ctx.draw(st.sampled_from([0.0, -0.5, 0.5]))
        return (lambda env: env[i][env[i] > c]), f"a{i}[a{i} > {c}]"
    if kind == "method_sort_copy":

        def step(env):
            c = env[i].copy()
            c.sort(axis=-1)
            return c

        return step, f"a{len(ctx.sample)} = a{i}.copy(); a{len(ctx.sample)}.sort(axis=-1)"
    return None


_MATS = {n: np.eye(n) * 2.0 + np.round(np.random.default_rng(n).uniform(-0.3, 0.3, (n, n)), 2)
         for n in (1, 2, 3, 4, 6)}  # fmt: skip


def b_linalg(ctx: Ctx):
    i = ctx.pick(arr_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    kind = ctx.draw(st.sampled_from(["solve", "det", "inv", "norm", "solve_rhs"]))
    if kind == "norm":
        ords: list[Any] = [None, 1, 2, np.inf] if len(shape) == 1 else [None, "fro", 1, np.inf]
        if len(shape) > 2:
            ords = [None]
        o = ctx.draw(st.sampled_from(ords))
        return (lambda env: np.linalg.norm(env[i], ord=o)), f"np.linalg.norm(a{i}, ord={o!r})"
    if len(shape) == 1 and shape[0] in _MATS:
        n = shape[0]
        C = _MATS[n]
        E = np.round(np.random.default_rng(n + 7).uniform(-1, 1, (n, n)), 2)

        def mat(env):
            return C + 0.1 * np.tanh(env[i])[:, None] * E

        mt = f"({fmt(C)} + 0.1 * np.tanh(a{i})[:, None] * {fmt(E)})"
    elif len(shape) == 2 and shape[0] == shape[1] and shape[0] in _MATS:
        C = _MATS[shape[0]]

        def mat(env):
            return C + 0.1 * np.tanh(env[i])

        mt = f"({fmt(C)} + 0.1 * np.tanh(a{i}))"
    else:
        return None
    n = C.shape[0]
    if kind == "det":
        return (lambda env: np.linalg.det(mat(env))), f"np.linalg.det({mt})"
    if kind == "inv":
        return (lambda env: np.linalg.inv(mat(env))), f"np.linalg.inv({mt})"
    j = ctx.pick(lambda s: is_float(s) and np.shape(s) in ((n,), (n, 1), (n, 2)))
    if j is None or kind == "solve":
        b = np.arange(1.0, n + 1)
        return (lambda env: np.linalg.solve(mat(env), b)), f"np.linalg.solve({mt}, {fmt(b)})"
    return (lambda env: np.linalg.solve(mat(env), env[j])), f"np.linalg.solve({mt}, a{j})"


def b_misc(ctx: Ctx):
    i = ctx.pick(is_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    kind = ctx.draw(
        st.sampled_from(
            [
                "clip",
                "median",
                "trace",
                "tril",
                "interp",
                "max_self",
                "clip_method",
                "sum_where",
                "mask_float",
            ]
        )
    )
    if kind == "mask_float" and isinstance(a, np.ndarray) and ctx.method_ok(i):
        # a mask as a float factor: piecewise constant (the compiler replays the comparison)
        return (lambda env: (env[i] > 0.1).astype(env[i].dtype) * env[i]), (
            f"(a{i} > 0.1).astype(a{i}.dtype) * a{i}"
        )
    if kind == "clip":
        return (lambda env: np.clip(env[i], -0.5, 0.7)), f"np.clip(a{i}, -0.5, 0.7)"
    if kind == "clip_method" and isinstance(a, np.ndarray) and ctx.method_ok(i):
        return (lambda env: env[i].clip(min=-0.2)), f"a{i}.clip(min=-0.2)"
    if kind == "median" and np.size(a):
        return (lambda env: np.median(env[i])), f"np.median(a{i})"
    if kind == "trace" and len(shape) == 2:
        return (lambda env: np.trace(env[i])), f"np.trace(a{i})"
    if kind == "tril" and len(shape) == 2:
        return (lambda env: np.tril(env[i])), f"np.tril(a{i})"
    if kind == "interp":
        xp, fp = np.array([-3.0, -1.0, 0.5, 3.0]), np.array([1.0, -1.0, 2.0, 0.0])
        return (lambda env: np.interp(env[i], xp, fp)), f"np.interp(a{i}, {fmt(xp)}, {fmt(fp)})"
    if kind == "max_self":
        return (lambda env: np.maximum(env[i], 0.5 * env[i])), f"np.maximum(a{i}, 0.5 * a{i})"
    if kind == "sum_where" and shape:
        rng = np.random.default_rng(ctx.draw(st.integers(0, 20)))
        mask = rng.random(shape) < 0.6
        return (lambda env: np.sum(env[i], where=mask)), f"np.sum(a{i}, where={fmt(mask)})"
    return None


def b_table_kw(ctx: Ctx):
    """A function of the function table with keywords: negative axes, keepdims, ddof, spacings
    and pad widths, methods, masks computed from the values, weak Python constants."""
    i = ctx.pick(arr_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    if not shape or not np.size(a):
        return None
    n = shape[-1]
    j = ctx.pick(is_float)  # a second entry (a spacing, a scale) that may depend on x too
    kind = ctx.draw(
        st.sampled_from(
            ["cumsum", "diff", "trapezoid", "gradient", "percentile", "norm", "var", "mean",
             "roll", "pad", "repeat", "copyto_where", "select", "where", "einsum", "join_dtype"]
        )
    )  # fmt: skip
    if kind == "cumsum":
        f = ctx.draw(st.sampled_from(["cumsum", "cumprod"]))
        fn = getattr(np, f)
        return (lambda env: fn(env[i], axis=-1)), f"np.{f}(a{i}, axis=-1)"
    if kind == "diff" and n > 1:
        return (lambda env: np.diff(env[i], axis=-1, prepend=env[i][..., :1] * 2.0)), (
            f"np.diff(a{i}, axis=-1, prepend=a{i}[..., :1] * 2.0)"
        )
    if kind == "trapezoid" and n > 1 and j is not None and np.ndim(ctx.sample[j]) == 0:
        return (lambda env: np.trapezoid(env[i], dx=1.0 + 0.1 * env[j] ** 2, axis=-1)), (
            f"np.trapezoid(a{i}, dx=1.0 + 0.1 * a{j} ** 2, axis=-1)"
        )
    if kind == "gradient" and n > 2:
        order = ctx.draw(st.sampled_from([1, 2]))
        return (lambda env: np.gradient(env[i], 0.5, axis=-1, edge_order=order)), (
            f"np.gradient(a{i}, 0.5, axis=-1, edge_order={order})"
        )
    if kind == "percentile":
        method = ctx.draw(st.sampled_from(["linear", "lower", "nearest", "midpoint", "hazen"]))
        q = ctx.draw(st.sampled_from([30.0, 50.0, 85.0]))
        keep = ctx.draw(st.booleans())
        return (lambda env: np.percentile(env[i], q, axis=-1, method=method, keepdims=keep)), (
            f"np.percentile(a{i}, {q}, axis=-1, method={method!r}, keepdims={keep})"
        )
    if kind == "norm":
        ord_ = ctx.draw(st.sampled_from([None, 1, 3, np.inf]))
        return (lambda env: np.linalg.norm(env[i], ord_, axis=-1, keepdims=True)), (
            f"np.linalg.norm(a{i}, {'np.inf' if ord_ == np.inf else ord_}, axis=-1, keepdims=True)"
        )
    if kind == "var" and n > 1:
        f = ctx.draw(st.sampled_from(["var", "std"]))
        fn = getattr(np, f)
        return (lambda env: fn(env[i], axis=-1, ddof=1)), f"np.{f}(a{i}, axis=-1, ddof=1)"
    if kind == "mean":
        axes = tuple(range(-len(shape), 0))
        return (lambda env: np.mean(env[i], axis=axes, keepdims=True)), (
            f"np.mean(a{i}, axis={axes}, keepdims=True)"
        )
    if kind == "roll":
        shift = ctx.draw(st.integers(-3, 3))
        return (lambda env: np.roll(env[i], shift, axis=-1)), f"np.roll(a{i}, {shift}, axis=-1)"
    if kind == "pad":
        mode = ctx.draw(st.sampled_from(["edge", "reflect", "symmetric", "wrap", "constant"]))
        width = ctx.draw(st.integers(1, 4))
        if mode == "reflect" and n < 2:
            return None
        return (lambda env: np.pad(env[i], width, mode=mode)), (
            f"np.pad(a{i}, {width}, mode={mode!r})"
        )
    if kind == "repeat":
        reps = np.arange(n) % 3
        return (lambda env: np.repeat(env[i], reps, axis=-1)), (
            f"np.repeat(a{i}, {fmt(reps)}, axis=-1)"
        )
    if kind == "copyto_where":
        return (
            lambda env: (lambda c: (np.copyto(c, np.flip(env[i]), where=env[i] > 0), c)[1])(
                env[i].copy()
            )
        ), f"c = a{i}.copy(); np.copyto(c, np.flip(a{i}), where=a{i} > 0); a{len(ctx.sample)} = c"
    if kind == "select":
        return (lambda env: np.select([env[i] > 0.5, env[i] < -0.5], [env[i], 2.0], 0.5)), (
            f"np.select([a{i} > 0.5, a{i} < -0.5], [a{i}, 2.0], 0.5)"
        )
    if kind == "where":
        return (lambda env: np.where(env[i] > 0, env[i], 0.0)), f"np.where(a{i} > 0, a{i}, 0.0)"
    if kind == "einsum":
        return (lambda env: np.einsum("...i,...i->...", env[i], env[i], optimize=True)), (
            f"np.einsum('...i,...i->...', a{i}, a{i}, optimize=True)"
        )
    if kind == "join_dtype" and a.dtype == np.float64:
        return (lambda env: np.concatenate([env[i], env[i] * 2.0], axis=-1, dtype=np.float64)), (
            f"np.concatenate([a{i}, a{i} * 2.0], axis=-1, dtype=np.float64)"
        )
    return None


# ---------------------------------------------------------------------------------------------
# What people write around the table: Python operators with array and entry operands, masks
# feeding np.where, Python loops over elements, gathers and scatters by computed indices,
# elementwise extrema of two entries
# ---------------------------------------------------------------------------------------------


def _pick_broadcasting(ctx: Ctx, shape: tuple[int, ...]) -> int | None:
    return ctx.pick(lambda s: is_float(s) and _try_broadcast(np.shape(s), shape))


def b_pyops(ctx: Ctx):
    """``//``, ``%``, ``**`` with integer/float array and entry exponents, comparisons feeding
    ``np.where`` and products with masks, ``abs``/``np.sign``, Python's ``max``/``min``."""
    i = ctx.pick(is_float)
    if i is None:
        return None
    shape = np.shape(ctx.sample[i])
    kind = ctx.draw(st.sampled_from(
        ["floordiv", "mod", "rmod", "mod_entry", "pow_int_array", "pow_float_array",
         "pow_entry", "pow_negative_base", "pow_zero_base", "exact_zeros", "where_cmp", "leaky",
         "huber", "mask_product", "sign", "builtin_minmax", "divmod", "linspace"]))  # fmt: skip
    # divisors away from the sample's multiples: a jump of // or % sits at an exact multiple
    c = ctx.draw(st.sampled_from([0.37, 0.73, 1.3, np.float64(0.59)]))
    if kind == "floordiv":
        if ctx.draw(st.booleans()):
            return (lambda env: env[i] // c * env[i]), f"a{i} // {fmt(c)} * a{i}"
        return (lambda env: 2.1 // (1.0 + env[i] * env[i])), f"2.1 // (1.0 + a{i} * a{i})"
    if kind == "mod":
        return (lambda env: env[i] % c), f"a{i} % {fmt(c)}"
    if kind == "divmod":
        k = ctx.draw(st.sampled_from([0, 1]))
        if ctx.draw(st.booleans()):
            return (lambda env: np.divmod(env[i], c)[k] * env[i]), (
                f"np.divmod(a{i}, {fmt(c)})[{k}] * a{i}"
            )
        return (lambda env: np.modf(3.0 * env[i])[k] + env[i]), f"np.modf(3.0 * a{i})[{k}] + a{i}"
    if kind == "linspace":
        # a grid between values computed from x (a 0-d or 1-d entry: its samples on a new axis)
        return (lambda env: np.linspace(env[i], 2.0 * env[i] + 1.0, 3, axis=-1)), (
            f"np.linspace(a{i}, 2.0 * a{i} + 1.0, 3, axis=-1)"
        )
    if kind == "rmod":
        return (lambda env: 2.1 % (1.0 + env[i] * env[i])), f"2.1 % (1.0 + a{i} * a{i})"
    if kind == "mod_entry":
        j = _pick_broadcasting(ctx, shape)
        return (lambda env: env[i] % (0.5 + env[j] * env[j])), f"a{i} % (0.5 + a{j} * a{j})"
    if kind in ("pow_int_array", "pow_float_array") and shape:
        rng = np.random.default_rng(ctx.draw(st.integers(0, 20)))
        eshape = shape[ctx.draw(st.integers(0, len(shape) - 1)) :]
        if kind == "pow_int_array":
            e = rng.integers(0, 4, eshape)  # a negative base too: integer powers are smooth
            return (lambda env: env[i] ** e), f"a{i} ** {fmt(e)}"
        e = np.round(rng.choice([-1.5, -1.0, 0.5, 2.0, 3.0, 0.0], eshape), 2)
        return (lambda env: (0.5 + env[i] * env[i]) ** e), f"(0.5 + a{i} * a{i}) ** {fmt(e)}"
    if kind == "pow_entry":
        j = _pick_broadcasting(ctx, shape)
        if ctx.draw(st.booleans()):
            return (lambda env: (0.5 + env[i] * env[i]) ** np.tanh(env[j])), (
                f"(0.5 + a{i} * a{i}) ** np.tanh(a{j})"
            )
        return (lambda env: np.power(1.5 + np.tanh(env[j]), env[i])), (
            f"np.power(1.5 + np.tanh(a{j}), a{i})"
        )
    if kind == "pow_negative_base":
        e = ctx.draw(st.sampled_from([3.0, 2.0, np.float64(4.0), 1.0, 0.0]))
        return (lambda env: env[i] ** e), f"a{i} ** {fmt(e)}"
    if kind == "pow_zero_base" and shape:
        # np.pad's exact zeros raised to a constant or computed exponent: constant zeros, whose
        # partials (y·x**(y-1), x**y·log x) are infinite or nan there
        if ctx.draw(st.booleans()):
            e = ctx.draw(st.sampled_from([1.5, 0.5, 2.0, np.float64(3.0)]))
            return (lambda env: np.pad(env[i], 1) ** e), f"np.pad(a{i}, 1) ** {fmt(e)}"
        return (lambda env: np.pad(env[i], 1) ** (1.5 + 0.3 * np.tanh(np.sum(env[i])))), (
            f"np.pad(a{i}, 1) ** (1.5 + 0.3 * np.tanh(np.sum(a{i})))"
        )
    if kind == "exact_zeros":
        # relu's exact zeros (constant there: a zero tangent) into a function that is singular
        # or has a kink at 0 (an infinite or undefined partial times that zero tangent)
        j = _pick_broadcasting(ctx, shape)
        fns = {
            "np.sqrt({z})": lambda z, b: np.sqrt(z),
            "np.cbrt({z})": lambda z, b: np.cbrt(z),
            "{z} ** 0.5": lambda z, b: z**0.5,
            "{z} ** (1.5 + 0.3 * np.tanh({b}))": lambda z, b: z ** (1.5 + 0.3 * np.tanh(b)),
            "np.abs({z}) * {b}": lambda z, b: np.abs(z) * b,
            "dd.xlogy({z}, 1.5 + np.tanh({b}))": lambda z, b: dd.xlogy(z, 1.5 + np.tanh(b)),
            "np.arctan2({z}, {z} * {b})": lambda z, b: np.arctan2(z, z * b),
            "np.hypot({z}, 0.5 * {z})": lambda z, b: np.hypot(z, 0.5 * z),
            "{z} ** {z}": lambda z, b: z**z,
        }
        text = ctx.draw(st.sampled_from(sorted(fns)))
        fn = fns[text]
        return (lambda env: fn(np.maximum(env[i], 0.0), env[j])), text.format(
            z=f"np.maximum(a{i}, 0.0)", b=f"a{j}"
        )
    if kind == "where_cmp":
        j = _pick_broadcasting(ctx, shape)
        op = ctx.draw(st.sampled_from([">", "<=", ">=", "<"]))
        cmp = {">": np.greater, "<=": np.less_equal, ">=": np.greater_equal, "<": np.less}[op]
        return (lambda env: np.where(cmp(env[i], env[j]), env[i] * env[j], env[i] - env[j])), (
            f"np.where(a{i} {op} a{j}, a{i} * a{j}, a{i} - a{j})"
        )
    if kind == "leaky":
        return (lambda env: np.where(env[i] >= 0, env[i], 0.1 * env[i])), (
            f"np.where(a{i} >= 0, a{i}, 0.1 * a{i})"
        )
    if kind == "huber":
        return (
            lambda env: np.where(
                np.abs(env[i]) < 0.8, 0.5 * env[i] ** 2, 0.8 * np.abs(env[i]) - 0.32
            )
        ), f"np.where(np.abs(a{i}) < 0.8, 0.5 * a{i} ** 2, 0.8 * np.abs(a{i}) - 0.32)"
    if kind == "mask_product":
        j = _pick_broadcasting(ctx, shape)
        return (lambda env: (env[i] > env[j]) * env[i] + (env[i] <= env[j]) * env[j]), (
            f"(a{i} > a{j}) * a{i} + (a{i} <= a{j}) * a{j}"
        )
    if kind == "sign":
        return (lambda env: np.sign(env[i]) * env[i] ** 2 + abs(env[i] - 0.2)), (
            f"np.sign(a{i}) * a{i} ** 2 + abs(a{i} - 0.2)"
        )
    if kind == "builtin_minmax" and not shape:
        j = ctx.pick(lambda s: is_float(s) and np.ndim(s) == 0)
        return (lambda env: max(env[i], 0.1) * min(env[j], env[i] + 0.5)), (
            f"max(a{i}, 0.1) * min(a{j}, a{i} + 0.5)"
        )
    return None


def b_loops(ctx: Ctx):
    """Python loops over elements: accumulations into a scalar, recurrences written in place,
    a np.zeros_like buffer filled element by element, lists of rows or elements stacked, a
    running maximum with ``if``."""
    i = ctx.pick(arr_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    if shape[0] > 4:
        return None
    n = shape[0]
    kind = ctx.draw(st.sampled_from(
        ["accumulate", "recurrence", "zeros_like", "stack_rows", "array_of_scalars",
         "running_max", "builtin_sum", "ndindex"]))  # fmt: skip
    if kind == "accumulate":

        def step(env):
            total = 0.0
            for value in env[i].ravel():
                total = total + value * value
            return total

        k = len(ctx.sample)
        return step, f"a{k} = 0.0\n    for v in a{i}.ravel(): a{k} = a{k} + v * v"
    if kind == "recurrence" and n > 1:

        def step(env):
            y = env[i].copy()
            for k in range(1, n):
                y[k] = 0.5 * y[k - 1] + y[k]
            return y

        k = len(ctx.sample)
        return step, (
            f"a{k} = a{i}.copy()\n    for k in range(1, {n}): a{k}[k] = 0.5 * a{k}[k - 1] + a{k}[k]"
        )
    if kind == "zeros_like":

        def step(env):
            y = np.zeros_like(env[i])
            for k in range(n):
                y[k] = env[i][k] * env[i][k - 1]
            return y

        k = len(ctx.sample)
        return (
            step,
            f"a{k} = np.zeros_like(a{i})\n    for k in range({n}): a{k}[k] = a{i}[k] * a{i}[k - 1]",
        )
    if kind == "stack_rows":
        return (lambda env: np.stack([np.sin(r) * r.sum() for r in env[i]])), (
            f"np.stack([np.sin(r) * r.sum() for r in a{i}])"
        )
    if kind == "array_of_scalars" and len(shape) == 1:

        def step(env):
            with warnings.catch_warnings():  # an object array of duals, as documented
                warnings.simplefilter("ignore", dd.ObjectArrayWarning)
                return np.array([env[i][k] * env[i][-1 - k] for k in range(n)])

        return step, f"np.array([a{i}[k] * a{i}[-1 - k] for k in range({n})])"
    if kind == "running_max" and len(shape) == 1:

        def step(env):
            best = env[i][0]
            for value in env[i][1:]:
                if value > best:
                    best = value
            return best

        k = len(ctx.sample)
        return step, f"a{k} = a{i}[0]\n    for v in a{i}[1:]:\n        if v > a{k}: a{k} = v"
    if kind == "builtin_sum":
        return (lambda env: sum(env[i]) * 0.5), f"sum(a{i}) * 0.5"
    if kind == "ndindex":

        def step(env):
            y = env[i] * 1.0
            for idx in np.ndindex(*shape):
                y[idx] = y[idx] ** 2 + 0.1 * env[i].flat[0]
            return y

        k = len(ctx.sample)
        return step, (
            f"a{k} = a{i} * 1.0\n    for idx in np.ndindex(*{shape!r}): "
            f"a{k}[idx] = a{k}[idx] ** 2 + 0.1 * a{i}.flat[0]"
        )
    return None


def b_gather(ctx: Ctx):
    """Gathers and scatters: np.put_along_axis at argsort positions, np.take with mode=, indices
    from argmax along an axis, 2-d integer and mixed indices, masks along one axis."""
    i = ctx.pick(arr_float)
    if i is None:
        return None
    a = ctx.sample[i]
    shape = np.shape(a)
    if 0 in shape:
        return None
    kind = ctx.draw(st.sampled_from(
        ["put_along", "put_along_const", "take_mode", "argmax_axis", "sort_along",
         "fancy_2d", "mixed", "mask_axis", "flip_axis", "roll_axes"]))  # fmt: skip
    rng = np.random.default_rng(ctx.draw(st.integers(0, 20)))
    if kind in ("put_along", "put_along_const") and isinstance(a, np.ndarray):
        keep = ctx.draw(st.integers(1, shape[-1]))
        if kind == "put_along":

            def step(env):
                c = env[i].copy()
                idx = np.argsort(env[i], axis=-1)[..., :keep]
                np.put_along_axis(c, idx, np.take_along_axis(env[i], idx, axis=-1) * 3.0, -1)
                return c

            k = len(ctx.sample)
            return step, (
                f"a{k} = a{i}.copy(); idx = np.argsort(a{i}, axis=-1)[..., :{keep}]\n    "
                f"np.put_along_axis(a{k}, idx, np.take_along_axis(a{i}, idx, axis=-1) * 3.0, -1)"
            )
        idx = rng.integers(0, shape[-1], shape[:-1] + (keep,))
        j = _pick_broadcasting(ctx, idx.shape)

        def step2(env):
            c = env[i] * 1.0
            np.put_along_axis(c, idx, np.cos(env[j]), axis=-1)
            return c

        k = len(ctx.sample)
        return step2, (
            f"a{k} = a{i} * 1.0; np.put_along_axis(a{k}, {fmt(idx)}, np.cos(a{j}), axis=-1)"
        )
    if kind == "take_mode":
        mode = ctx.draw(st.sampled_from(["wrap", "clip"]))
        ind = rng.integers(-2 * shape[-1], 2 * shape[-1], ctx.draw(st.integers(1, 4))).tolist()
        axis = ctx.draw(st.sampled_from([None, -1]))
        return (lambda env: np.take(env[i], ind, axis=axis, mode=mode)), (
            f"np.take(a{i}, {ind!r}, axis={axis}, mode={mode!r})"
        )
    if kind == "argmax_axis" and len(shape) == 2:
        name = ctx.draw(st.sampled_from(["argmax", "argmin"]))
        fn = getattr(np, name)
        return (lambda env: env[i][fn(env[i], axis=0), np.arange(shape[1])]), (
            f"a{i}[np.{name}(a{i}, axis=0), np.arange({shape[1]})]"
        )
    if kind == "sort_along":
        axis = ctx.draw(st.integers(-len(shape), len(shape) - 1))
        return (lambda env: np.take_along_axis(env[i], np.argsort(env[i], axis=axis), axis)), (
            f"np.take_along_axis(a{i}, np.argsort(a{i}, axis={axis}), {axis})"
        )
    if kind == "fancy_2d":
        idx = rng.integers(-shape[0], shape[0], (2, 2))
        return (lambda env: env[i][idx]), f"a{i}[{fmt(idx)}]"
    if kind == "mixed" and len(shape) == 2:
        rows = rng.integers(-shape[0], shape[0], 2).tolist()
        cols = rng.integers(-shape[1], shape[1], 2).tolist()
        if ctx.draw(st.booleans()):
            return (lambda env: env[i][rows, cols]), f"a{i}[{rows!r}, {cols!r}]"
        return (lambda env: env[i][rows, ::-1]), f"a{i}[{rows!r}, ::-1]"
    if kind == "mask_axis" and len(shape) == 2:
        mask = rng.random(shape[1]) < 0.6
        return (lambda env: env[i][:, mask]), f"a{i}[:, {fmt(mask)}]"
    if kind == "flip_axis":
        axis = ctx.draw(st.integers(-len(shape), len(shape) - 1))
        return (lambda env: np.flip(env[i], axis=axis)), f"np.flip(a{i}, axis={axis})"
    if kind == "roll_axes" and len(shape) == 2:
        return (lambda env: np.roll(env[i], (1, -1), axis=(0, 1))), (
            f"np.roll(a{i}, (1, -1), axis=(0, 1))"
        )
    return None


def b_extrema(ctx: Ctx):
    """Elementwise extrema of two entries (np.maximum/minimum/fmax/fmin), np.clip with bounds
    that are entries, np.interp with values fp computed from x, np.linalg.norm along axes."""
    i = ctx.pick(is_float)
    if i is None:
        return None
    shape = np.shape(ctx.sample[i])
    kind = ctx.draw(st.sampled_from(["two", "clip_entries", "clip_one", "interp_fp", "norm_axis"]))
    if kind == "two":
        name = ctx.draw(st.sampled_from(["maximum", "minimum", "fmax", "fmin"]))
        fn = getattr(np, name)
        j = _pick_broadcasting(ctx, shape)
        if ctx.draw(st.booleans()):
            return (lambda env: fn(env[i], env[j])), f"np.{name}(a{i}, a{j})"
        c = ctx.const(shape)
        return (lambda env: fn(c, env[i])), f"np.{name}({fmt(c)}, a{i})"
    if kind == "clip_entries":
        j = _pick_broadcasting(ctx, shape)
        return (lambda env: np.clip(env[i], env[j] - 0.6, np.abs(env[j]) + 0.1)), (
            f"np.clip(a{i}, a{j} - 0.6, np.abs(a{j}) + 0.1)"
        )
    if kind == "clip_one":
        if ctx.draw(st.booleans()):
            return (lambda env: np.clip(env[i], None, 0.3)), f"np.clip(a{i}, None, 0.3)"
        return (lambda env: np.clip(env[i], -0.4, None)), f"np.clip(a{i}, -0.4, None)"
    if kind == "interp_fp":
        j = ctx.pick(lambda s: is_float(s) and np.ndim(s) == 1 and np.size(s) >= 2)
        if j is None:
            return None
        m = np.size(ctx.sample[j])
        xp = np.linspace(-1.2, 1.3, m)
        return (lambda env: np.interp(env[i], xp, env[j], left=0.2)), (
            f"np.interp(a{i}, {fmt(xp)}, a{j}, left=0.2)"
        )
    if kind == "norm_axis" and len(shape) >= 1:
        axis = ctx.draw(st.sampled_from([-1, 0] + ([(0, 1)] if len(shape) == 2 else [])))
        if isinstance(axis, tuple):
            o = ctx.draw(st.sampled_from([None, "fro", 1, -1, np.inf]))
        else:
            o = ctx.draw(st.sampled_from([None, 1, 2, 3, np.inf, -np.inf]))
        keep = ctx.draw(st.booleans())
        ot = {np.inf: "np.inf", -np.inf: "-np.inf"}.get(o, repr(o))
        return (lambda env: np.linalg.norm(env[i], ord=o, axis=axis, keepdims=keep)), (
            f"np.linalg.norm(a{i}, ord={ot}, axis={axis!r}, keepdims={keep})"
        )
    return None


BUILDERS: dict[str, Callable[[Ctx], Any]] = {
    "unary": b_unary,
    "binary": b_binary,
    "arith": b_arith,
    "view": b_view,
    "copy_shape": b_copy_shape,
    "inplace": lambda ctx: b_inplace(ctx, view=False),
    "inplace_view": lambda ctx: b_inplace(ctx, view=True),
    "setitem": b_setitem,
    "out": b_out,
    "reduce": b_reduce,
    "join": b_join,
    "cumulative": b_cumulative,
    "diff_n0": lambda ctx: b_cumulative(ctx, n0=True),
    "product": b_product,
    "sort_index": b_sort_index,
    "linalg": b_linalg,
    "misc": b_misc,
    "value_index": lambda ctx: b_sort_index(ctx, value_index=True),
    "writes": b_writes,
    "reduce_kw": b_reduce_kw,
    "table_kw": b_table_kw,
    "pyops": b_pyops,
    "loops": b_loops,
    "gather": b_gather,
    "extrema": b_extrema,
}


@st.composite
def cases(
    draw: Any,
    disabled: frozenset[str] = frozenset(),
    max_steps: int = MAX_STEPS,
    dtype: Any = np.float64,
    shapes: list[tuple[int, ...]] | None = None,
    ties: bool = False,
) -> Case:
    """A program and the points to check it at (see the module notes). ``ties``: points with
    repeated entries, exact zeros and round values (max, sort, maximum, abs, clip and the
    comparisons at their kinks: the modes must agree there, whatever the convention)."""
    shape = draw(st.sampled_from(shapes or SHAPES))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    x0 = np.round(rng.uniform(-1.5, 1.5, shape), 3).astype(dtype)
    # the second point: near x0 (the same branches) or anywhere
    if draw(st.booleans()):
        x1 = x0 + rng.uniform(-0.05, 0.05, shape).astype(dtype)
    else:
        x1 = np.round(rng.uniform(-1.5, 1.5, shape), 3).astype(dtype)
    v = np.round(rng.uniform(-1.0, 1.0, shape), 3).astype(dtype)
    if ties:
        x0 = rng.choice(np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), shape).astype(dtype)
        x1 = rng.choice(np.array([-0.5, 0.0, 0.3, 0.5, 0.7]), shape).astype(dtype)
    else:
        # no exact ties between entries (rounding makes them now and then): at a tie np.argmax
        # or np.sort picks one entry, a kink whose two sides central differences average
        x0, x1 = _untie(x0), _untie(x1)
    if shape == () and draw(st.booleans()):  # a 0-d array rather than a NumPy scalar
        x0, x1, v = np.asarray(x0), np.asarray(x1), np.asarray(v)
    # the in-place features twice: they are what breaks most often
    enabled = [name for name in FEATURES + INPLACE if name not in disabled and name in BUILDERS]
    on = {name for name in FEATURES if name not in disabled}
    nsteps = draw(st.integers(1, max_steps))
    sample: list[Any] = [x0.copy()]
    scalar_sources: set[int] = set()
    steps, lines, used = [], [], set()
    attempts = 0
    while len(steps) < nsteps and attempts < 4 * nsteps:
        attempts += 1
        feature = draw(st.sampled_from(enabled))
        ctx = Ctx(draw, sample, on)
        ctx.scalar_sources = scalar_sources
        built = BUILDERS[feature](ctx)
        if built is None:
            continue
        step, line = built
        trial = Program(steps + [step], lines + [line])
        try:
            out = quiet(lambda: trial(x0.copy()))
        except Exception:
            continue
        if not is_float(out) and not isinstance(out, float):
            continue
        if isinstance(out, np.ndarray) and out.ndim > 3:
            continue
        if not np.all(np.isfinite(out)) or np.max(np.abs(out), initial=0.0) > 1e6:
            continue
        steps.append(step)
        # the sample entries: replay the accepted program to keep the entries' aliasing exact
        sample = _replay(Program(steps, lines + [line]), x0)
        if isinstance(sample[-1], np.generic):  # a scalar: which entries did it index?
            scalar_sources.update(int(j) for j in re.findall(r"a(\d+)(?:\.ravel\(\))?\[", line))
        own = "; a" in line or line.startswith(f"a{len(steps)} = ")  # a statement of its own
        lines.append(line if own else f"a{len(steps)} = {line}")
        used.add(feature)
        if "dtype=np.float32" in line:  # a float32 intermediate: its tangents are float32 too
            used.add("float32_intermediate")
    if not steps:
        steps, lines = [lambda env: np.sin(env[0])], ["a1 = np.sin(a0)"]
        sample = _replay(Program(steps, lines), x0)
    # the points in another memory layout (Fortran order, negative strides) now and then: the
    # program and its aliasing are the same, dualdiff must not depend on the layout
    layout = draw(st.sampled_from(["C", "C", "F", "reversed"]))
    if not np.array_equal(sample[0], x0):
        # the program writes into its argument (arg_write): whether np.ravel(a0) or a0.reshape
        # is a view of a0 (so the write reaches a0) depends on a0's layout in NumPy, and the
        # references (x + t * v, copies) are C-ordered: keep the layout the program was drawn in
        layout = "C"
    if layout == "F" and np.ndim(x0):  # (np.asfortranarray makes a scalar 1-d)
        x0, x1 = np.asfortranarray(x0), np.asfortranarray(x1)
    elif layout == "reversed" and x0.ndim:
        flip = (slice(None, None, -1),) * x0.ndim
        x0, x1 = x0[flip].copy()[flip], x1[flip].copy()[flip]
    return Case(Program(steps, lines), x0, x1, v, used)


def _untie(a: np.ndarray) -> np.ndarray:
    if np.unique(a).size == np.size(a):
        return a
    return (a + np.arange(np.size(a)).reshape(np.shape(a)) * 1e-3).astype(a.dtype)


def _replay(program: Program, x: np.ndarray) -> list[Any]:
    env = [x.copy()]
    quiet(lambda: [env.append(step(env)) for step in program.steps])
    return env


__all__ = ["FEATURES", "Program", "Case", "cases", "quiet", "examples"]
