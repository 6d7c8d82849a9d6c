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

What ``f`` reads from the values while traced (the way ``if x[0] > 0`` goes, ``int(np.argmax(x))``,
the number of elements a boolean mask of ``x`` or ``np.nonzero`` selects) is read at the tracing
point and guarded: the program checks at every call that it reads the same there, and where it
does not, ``f`` is traced again at that point (``jax.jit`` refuses these). Whatever ``f``
computes without ``x`` (arrays of its closure and what is made from them, random draws) is fixed
when it is traced. Elementwise functions of the rule table,
arithmetic and comparisons, indexing, and every NumPy function of the function table
(``dualdiff.rules.functions``) by its kind are supported: structural functions gather the tangent at
constant indices, linear and multilinear ones repeat the call on the tangents, compositions are
traced through their bodies, and special functions (linear algebra, ``prod``, ``max``/``min``)
run dualdiff's eager rule as one instruction. Writes (``y[i] = v``, ``y += v``, ``np.copyto``,
``np.put``, ... through views too) become functional copy-and-set instructions (see
``dualdiff.compiler.symbolic.functional_write``). Anything else raises TypeError naming it: what
drops a derivative (``float(x)`` of a dual, a dual written into a plain array), or a function with
no derivative rule (which the eager functions refuse too). ``source`` shows the generated code.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..compiler.program import Retrace, Sym, TangentBlock, _generate, _Program
from ..compiler.symbolic import SymbolicDual, _tangent
from ..core import errors
from ..core.methods import same_strides
from ..dual.objects import lift
from ..rules.elementwise import is_dual
from .forward import (
    MEMORY_BUDGET,
    _array_input,
    complex_tangent,
    dense_jacobian,
    push_along,
    real_directions,
)

__all__ = ["jit_jvp", "CompiledJVP", "jit_jacobian", "CompiledJacobian"]


# ---------------------------------------------------------------------------------------------
# Tracing, clean-up and code generation
# ---------------------------------------------------------------------------------------------


class _CompiledFunction:
    """What the compiled JVP and Jacobian share: ``f``, its programs by input signature, and the
    source of the latest one."""

    api = "jit"

    def __init__(self, f: Callable[..., Any]) -> None:
        errors.check_callable(f, self.api)
        self.f = f
        self._compiled: dict[Any, _Compiled] = {}
        self._last: _Compiled | None = None
        self.__doc__ = getattr(f, "__doc__", None)
        self.__name__ = getattr(f, "__name__", "f")

    @property
    def source(self) -> str:
        """The Python source generated for the most recent input signature."""
        if self._last is None:
            raise ValueError(f"{self.api}: nothing has been compiled yet; call it first")
        return self._last.source


class CompiledJVP(_CompiledFunction):
    """``(x, v) -> (f(x), J(x)·v)`` compiled per input shapes and dtypes; made by :func:`jit_jvp`.

    ``x`` and ``v`` are arrays of the same shape, or tuples of them for an ``f`` of several
    arguments, as in :func:`jvp`. Dual inputs (a compiled JVP inside another differentiation) run
    eagerly.

    Parameters
    ----------
    f : callable
        The function.

    Attributes
    ----------
    source : str
        The generated NumPy code of the program compiled last.

    Examples
    --------
    >>> f = dd.jit_jvp(lambda x, y: x * y)
    >>> f((np.array([2.0]), np.array([3.0])), (np.array([1.0]), np.array([0.0])))
    (array([6.]), array([3.]))
    """

    api = "jit_jvp"

    def __call__(self, x: Any, v: Any) -> tuple[Any, Any]:
        if (
            type(x) is np.ndarray
            and type(v) is np.ndarray
            and x.flags.c_contiguous
            and v.flags.c_contiguous
        ):  # a compiled signature, at once
            compiled = self._compiled.get(
                ((x.shape, x.dtype.str, "C"), (v.shape, v.dtype.str, "C"))
            )
            if compiled is not None and compiled.latest.single:
                self._last = compiled
                flat, program = compiled.run(x, v)
                # (a guard may have switched programs: one of another output structure)
                return flat if program.single else program.rebuild(flat)
        several = type(x) is tuple
        xs, vs = (x, v) if several else ((x,), (v,))
        if several and (type(v) is not tuple or len(v) != len(x)):
            raise ValueError(
                f"jit_jvp: x has {len(x)} arguments, so v must be a tuple of {len(x)} tangents"
            )
        if any(is_dual(a) for a in xs + vs):
            return push_along(self.f, x, v, "jvp")
        parts = real_directions(x, v)
        if parts is not None:  # a complex direction at a real point: as jvp does it
            value, t1 = self(x, parts[0])
            return value, complex_tangent(t1, self(x, parts[1])[1])
        scalars = tuple(type(a) is not np.ndarray and np.ndim(a) == 0 for a in xs)
        xs = tuple(_c_order(_array(a, "jit_jvp")) for a in xs)
        vs = tuple(_c_order(_array(a, "jit_jvp", "the tangent")) for a in vs)
        for a, t in zip(xs, vs):
            if a.shape != t.shape:
                raise ValueError(f"jit_jvp: tangent shape {t.shape} does not match x's {a.shape}")
        # the tangent in x's dtype, as jvp seeds it: a float64 v at a float32 x gave float64
        # tangents after np.matmul, np.cumsum or a write (float32 after the elementwise rules)
        vs = tuple(t if t.dtype == a.dtype else t.astype(a.dtype) for a, t in zip(xs, vs))
        key = tuple((a.shape, a.dtype.str, _layout(a)) for a in xs + vs)
        if any(scalars):  # traced as NumPy scalars: another program than for 0-d arrays
            key += (scalars,)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.f, xs, vs, scalars=scalars)
        self._last = compiled
        return compiled(xs, vs)


def jit_jvp(f: Callable[..., Any]) -> CompiledJVP:
    """``f``'s JVP compiled to straight-line NumPy: ``jit_jvp(f)(x, v)`` equals ``jvp(f, x, v)``.

    ``f`` is traced once per input shape and dtype; later calls run only the generated code (the
    chain rule from the rule table, repeated subexpressions computed once, dead code dropped and
    temporaries reused as ``out=`` buffers), at the cost of a derivative written out by hand.
    Branches on values, numbers read from them and value-dependent shapes are guarded: a call
    where they differ from the trace's traces ``f`` again (the latest 8 programs per shape are
    kept; a ``RuntimeWarning`` after 20 traces says ``f`` is better differentiated eagerly).

    Parameters
    ----------
    f : callable
        ``f(x)`` or ``f(x, y, ...)``. What would drop the derivative (``float(x)``, a dual
        written into a plain array) raises ``TypeError`` while tracing, as in :func:`jvp`.

    Returns
    -------
    CompiledJVP
        Call it as ``(x, v) -> (f(x), J(x)·v)``; ``.source`` is the generated code.

    See Also
    --------
    jvp, jit_jacobian

    Examples
    --------
    >>> f = dd.jit_jvp(lambda x: np.sin(x) * x)
    >>> f(np.array([0.0, 1.0]), np.ones(2))
    (array([0.        , 0.84147098]), array([0.        , 1.38177329]))
    >>> print(f.source)  # doctest: +ELLIPSIS
    def jvp(x0, t0):
        v2 = np_sin(x0)
        ...
    """
    return CompiledJVP(f)


def _c_order(a: np.ndarray) -> np.ndarray:
    """``a`` in C order, or in Fortran order when it is so laid out: NumPy's view-or-copy
    decisions depend on it (``x.T.reshape(-1)`` of a Fortran-ordered x is a view, and a write
    through it reaches x; copied to C order, that write was lost, and the value and derivative
    differed from NumPy's), and a program replays the decisions of its trace, so the layout is
    part of its signature (``_layout``). Another layout (rows of a matrix, ``a[::2]``) is
    copied with its own strides, for the same reason."""
    return a if a.flags.c_contiguous or a.flags.f_contiguous else same_strides(a)


def _layout(a: np.ndarray) -> Any:
    """The layout of a traced input after ``_c_order``: ``"C"``, ``"F"`` or its strides."""
    if a.flags.c_contiguous:
        return "C"
    return "F" if a.flags.f_contiguous else a.strides


def _array(a: Any, api: str, what: str = "x") -> np.ndarray:
    if isinstance(a, (bool, np.bool_)):
        raise TypeError(f"{api}: {what} must be a real or complex number or array, got a bool")
    if type(a) is tuple:  # (jit_jvp takes a tuple apart into arguments before this)
        raise TypeError(f"{api}: {what} must be a real or complex number or array, got a tuple")
    return _array_input(a, api, what)


class _Variant:
    """One program of a signature: its function, its source and how to rebuild ``f``'s output
    from the function's flat outputs (``single``: one output, returned as (value, tangent))."""

    __slots__ = ("function", "source", "structure", "single", "scalar_leaves")

    def __init__(
        self, function: Any, source: str, structure: Any, scalar_leaves: list[bool]
    ) -> None:
        self.function, self.source, self.structure = function, source, structure
        self.single, self.scalar_leaves = structure is None, scalar_leaves

    def rebuild(self, flat: Any) -> tuple[Any, Any]:
        """``(values, tangents)`` in ``f``'s output structure from the flat outputs."""
        if any(self.scalar_leaves):
            flags = self.scalar_leaves * 2
            flat = [a[()] if s and type(a) is np.ndarray else a for a, s in zip(flat, flags)]
        half = len(flat) // 2
        values = _rebuild(self.structure, iter(flat[:half]))
        tangents = _rebuild(self.structure, iter(flat[half:]))
        return values, tangents


class _Compiled:
    """One traced signature: its programs (``_Variant``), the one tried first in ``latest``.

    A program holds where its guards pass (``dualdiff.compiler.program.specialise``): the
    branches ``f`` took, the numbers it read from values and the value-dependent shapes it made
    are those of its trace. A few eager rules give results whose dtype depends on the values
    (``np.linalg.eigvals`` of a real matrix: real or complex), and the instructions after them
    hold only for the dtypes traced (``KindChanged``). Where a guard fails, ``run`` tries the
    other programs of this signature, most recently used first, and traces ``f`` again at the
    point if none holds; the latest ``MAX_PROGRAMS`` are kept. ``run`` returns the program that
    ran with its outputs: another thread may make another program the first meanwhile."""

    MAX_PROGRAMS = 8
    WARN_AFTER = 20  # traces of one signature: then a warning that f is a poor fit for jit

    def __init__(
        self,
        f: Callable[..., Any],
        xs: tuple[Any, ...],
        vs: tuple[Any, ...] | None,
        seed: np.ndarray | None = None,
        scalars: tuple[bool, ...] = (),
        single: bool = False,
    ) -> None:
        self.f, self.seed, self.scalars, self.jvp = f, seed, scalars, vs is not None
        self.require_single = single
        self.programs: list[_Variant] = []
        self.traces = 0
        self._lock = threading.RLock()  # (f may call this compiled function itself)
        self.latest = self._trace(xs, vs)

    @property
    def source(self) -> str:
        return self.latest.source

    def run(self, *args: Any) -> tuple[Any, _Variant]:
        """The program's flat outputs on ``args`` (the inputs, then the tangents of a JVP), and
        the program that gave them."""
        latest = self.latest
        try:
            return latest.function(*args), latest
        except Exception:  # noqa: BLE001 - Retrace, or an error f may catch (below)
            pass
        # An error a program raises (a singular matrix here, an index computed from x out of
        # range) is one f may catch and go on from: f is traced again at this point, where it
        # raises the error as eager f does, or goes on past it (``_Program.raised``).
        with self._lock:  # (the list of programs changes: one thread at a time)
            for program in list(self.programs):
                if program is latest:
                    continue
                try:
                    out = program.function(*args)
                except Exception:  # noqa: BLE001
                    continue
                self._first(program)
                return out, program
            n = len(args) // 2 if self.jvp else len(args)
            program = self._trace(args[:n], args[n:] if self.jvp else None)
        try:
            return program.function(*args), program
        except Retrace as error:
            raise ValueError(
                "dualdiff.jit: f read other values at the point it was just traced at (random "
                "draws, a global that changes, an error f caught that its program does not "
                "raise, such as a warning made an error inside f?), so no compiled program "
                f"holds there; use the eager dualdiff.jvp/jacobian ({error})"
            ) from error

    def _first(self, program: _Variant) -> None:
        """Make ``program`` the one tried first (and drop the oldest beyond the limit)."""
        if program in self.programs:
            self.programs.remove(program)
        self.programs.insert(0, program)
        del self.programs[self.MAX_PROGRAMS :]
        self.latest = program

    def _trace(self, xs: tuple[Any, ...], vs: tuple[Any, ...] | None) -> _Variant:
        f, seed, scalars = self.f, self.seed, self.scalars
        program = _Program()
        inputs = []
        # a scalar argument is traced as the NumPy scalar it is: its views (np.expand_dims,
        # np.reshape) are new arrays, so writes through them do not reach it, as in NumPy
        xs = tuple(x[()] if i < len(scalars) and scalars[i] else x for i, x in enumerate(xs))
        if vs is None:  # directions given by a seed, a constant of the program (the identity)
            (x,) = xs
            if seed is None:
                n = x.size
                seed = np.eye(n, dtype=x.dtype).reshape(x.shape + (n,))  # x is float/complex
            seed = np.asarray(seed).view(TangentBlock)
            program.directions = seed.shape[-1]
            inputs.append(SymbolicDual(program._add(None, ("x", 0), {}, x), seed))
        else:
            for i, (x, v) in enumerate(zip(xs, vs)):
                sx, sv = program._add(None, ("x", i), {}, x), program._add(None, ("t", i), {}, v)
                inputs.append(SymbolicDual(sx, sv))
        out = errors.call_user(f, *inputs)
        # (counted once f went through: a point where f raises, traced again at every call
        # there, is no sign of branches that keep changing)
        self.traces += 1
        if self.traces == self.WARN_AFTER:
            warnings.warn(
                f"dualdiff.jit: f has been traced {self.traces} times for inputs of one shape, "
                "because values it branches on (or reads as numbers or shapes) keep changing; "
                "each trace costs more than an eager call: use dualdiff.jvp/jacobian for this f",
                RuntimeWarning,
                stacklevel=5,
            )
        leaves: list[tuple[Any, Any]] = []
        structure = _flatten(out, leaves)
        if self.require_single and structure is not None:
            raise TypeError("jit: f must return a single array for a compressed Jacobian")
        source, function = _generate(program, leaves, program.directions)
        # outputs traced as NumPy scalars: a scalar argument reaches the generated function as
        # a 0-d array, which f = lambda z: z would return as it is
        scalar_leaves = [
            any(scalars) and not isinstance(getattr(v, "value", v), np.ndarray) for v, _ in leaves
        ]
        variant = _Variant(function, source, structure, scalar_leaves)
        self._first(variant)
        return variant

    def __call__(self, xs: tuple[Any, ...], vs: tuple[Any, ...]) -> tuple[Any, Any]:
        flat, program = self.run(*xs, *vs)
        return program.rebuild(flat)


def _flatten(out: Any, leaves: list[tuple[Any, Any]]) -> Any:
    """``f``'s output as (value, tangent) leaves; the structure to rebuild it."""
    if type(out) is np.ndarray and out.dtype.kind == "O":
        out = lift(out)  # an object array of traced duals: one stacking instruction
    t = type(out)
    if isinstance(out, (tuple, list)):  # named tuples too, rebuilt as they came
        return (t, [_flatten(item, leaves) for item in out])
    if t is SymbolicDual:
        leaves.append((out.value, _tangent(out)))
    elif t is Sym:
        leaves.append((out, None))
    elif t is np.ndarray or (
        # (not a subclass of ndarray: a masked array of traced elements was taken for a constant)
        isinstance(out, (int, float, complex, np.generic)) and not isinstance(out, bool)
    ):
        leaves.append((np.asarray(out) if t is np.ndarray else out, None))
    else:
        raise TypeError(
            "dualdiff.jit: f must return a number, an array, or a tuple/list of them; it returned "
            f"{errors.type_name(out)}"
        )
    return None


def _rebuild(structure: Any, items: Any) -> Any:
    if structure is None:
        return next(items)
    kind, parts = structure
    rebuilt = [_rebuild(p, items) for p in parts]
    return kind(*rebuilt) if hasattr(kind, "_fields") else kind(rebuilt)


class CompiledJacobian(_CompiledFunction):
    """``x -> df/dx`` (shape ``f(x).shape + x.shape``) compiled per input shape and dtype.

    Made by :func:`jit_jacobian`. The whole Jacobian comes from one pass whose tangents carry every
    direction. Dual inputs run eagerly.

    Parameters
    ----------
    f : callable
        The function.

    Attributes
    ----------
    source : str
        The generated NumPy code of the program compiled last.

    Examples
    --------
    >>> J = dd.jit_jacobian(lambda x: x[1:] * x[:-1])
    >>> value, jac = J.value_and_jacobian(np.array([1.0, 2.0, 3.0]))
    >>> value
    array([2., 6.])
    >>> jac
    array([[2., 1., 0.],
           [0., 3., 2.]])
    """

    api = "jit_jacobian"

    def value_and_jacobian(self, x: Any) -> tuple[Any, Any]:
        """``(f(x), df/dx)`` from the compiled pass."""
        if type(x) is np.ndarray and x.flags.c_contiguous:
            compiled = self._compiled.get((x.shape, x.dtype.str, "C"))
            if compiled is not None and compiled.latest.single:
                self._last = compiled
                flat, program = compiled.run(x)
                if program.single:  # (a guard may have switched programs)
                    value, tangent = flat
                    return value, _jacobian_block(tangent, value, x)
                return self._blocks(program, flat, x)
        if is_dual(x):
            return dense_jacobian(self.f, x)
        scalar = type(x) is not np.ndarray and np.ndim(x) == 0
        x = _c_order(_array(x, "jit_jacobian"))
        if x.size * x.size * x.itemsize > MEMORY_BUDGET:
            raise ValueError(
                f"jit_jacobian: a dense Jacobian seed for {x.size} inputs would exceed the "
                "memory budget; use dualdiff.jacobian(f, x, chunk=...) or sparsity="
            )
        key = (x.shape, x.dtype.str, _layout(x)) + (("scalar",) if scalar else ())
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.f, (x,), None, scalars=(scalar,))
        self._last = compiled
        flat, program = compiled.run(x)
        return self._blocks(program, flat, x)

    @staticmethod
    def _blocks(program: _Variant, flat: Any, x: np.ndarray) -> tuple[Any, Any]:
        """``f``'s values and their Jacobians from the program's flat outputs."""
        half = len(flat) // 2
        values = _rebuild(program.structure, iter(flat[:half]))
        tangents = [_jacobian_block(t, v, x) for v, t in zip(flat[:half], flat[half:])]
        return values, _rebuild(program.structure, iter(tangents))

    def __call__(self, x: Any) -> Any:
        return self.value_and_jacobian(x)[1]


def _jacobian_block(tangent: np.ndarray, value: Any, x: np.ndarray) -> Any:
    """An output's tangents as its Jacobian, ``value.shape + x.shape``: a NumPy scalar where
    that is ``()``, as ``jacobian`` gives it."""
    jac = tangent.reshape(np.shape(value) + x.shape)
    return jac if jac.ndim else jac[()]


def jit_jacobian(f: Callable[..., Any]) -> CompiledJacobian:
    """``f``'s Jacobian compiled to straight-line NumPy: ``jit_jacobian(f)(x) == jacobian(f, x)``.

    All directions go through one pass whose seed, the identity, is a constant of the program, so
    the linear parts of ``f`` (``W @ x``, slicing, stencils) cost nothing at run time.

    Parameters
    ----------
    f : callable
        ``f(x)``, with the restrictions of :func:`jit_jvp`.

    Returns
    -------
    CompiledJacobian
        Call it as ``x -> df/dx``; ``value_and_jacobian(x)`` also returns ``f(x)``.

    See Also
    --------
    jacobian, jit_jvp, SparseJacobian

    Examples
    --------
    >>> W = np.array([[1.0, 2.0], [0.0, 1.0]])
    >>> layer = dd.jit_jacobian(lambda x: np.tanh(W @ x))
    >>> layer(np.zeros(2))  # (1 - tanh²) W = W at 0
    array([[1., 2.],
           [0., 1.]])
    """
    return CompiledJacobian(f)


def compiled_push_forward(f: Callable[..., Any], x: np.ndarray, seed: np.ndarray) -> Any:
    """A compiled pass of ``f`` at points shaped and laid out like ``x`` along the ``k`` fixed
    directions ``seed`` (shape ``x.shape + (k,)``): a function ``x -> (f(x), tangents)`` with
    tangents of shape ``f(x).shape + (k,)`` (used by ``SparseJacobian(..., jit=True)``, which
    keeps one per layout)."""
    # traced in x's own layout, strides included (the caller keeps a program per layout):
    # the program replays the view-or-copy decisions of its trace
    compiled = _Compiled(f, (_c_order(x),), None, seed, single=True)
    return lambda x: compiled.run(x)[0]
