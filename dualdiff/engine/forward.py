"""The forward engine: seed an input with a fresh tag, push it through ``f``, extract the tangents.

What every verb of ``dualdiff.api`` and every driver of passes (``parallel``, ``sparse``, ``jit``)
shares: input checks, seeding, one forward pass with ``k`` directions (``push_forward``), the
dense Jacobian pass by pass, and the memory budget that sizes those passes. It imports no verb,
so the drivers and the verbs all import downward from here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..arrays.dualarray import DualArray, _make_array, fit_tangent, strip, tangents_at
from ..core import errors, tags
from ..core.methods import same_strides
from ..core.tags import new_tag
from ..dual.dual import SCALAR_TYPES, Dual, _make
from ..dual.objects import lift_operand
from ..dual.seed import IdentitySeed, check_output, is_sequence, rebuild, tangent_of, value_of
from ..rules.elementwise import is_dual

__all__ = ["MEMORY_BUDGET", "ONE_PASS_BYTES", "push_forward", "push_along", "dense_jacobian"]

MEMORY_BUDGET = 64 * 2**20
"""Bytes of tangent storage per intermediate array that ``jacobian(chunk=None)`` aims for."""

ONE_PASS_BYTES = 32 * 2**20
"""``jacobian(chunk=None)`` takes all columns in one pass when the Jacobian (estimated as
``x.size`` squared entries) is at most this large. The pass's tangents become the result, but a
pass holds about two arrays of that size at once (an operation's input and output tangents), so
beyond this size the columns are split into ``_PIECES`` passes or more and written into the
preallocated result: the peak is then at most about ``1 + 2 / _PIECES`` times the result.
Measured with ``tanh(W @ x + b)`` (one thread): one pass peaks at 2.0x the result; five passes
were as fast at n = 1000 (the blocks stay in cache) but 1.35x slower at n = 2000 (each pass
recomputes ``W @ x``), so the split starts where the memory matters more than that: above
32 MiB (n = 2048 in float64)."""

_PIECES = 5


# ---------------------------------------------------------------------------------------------
# Input validation and seeding
# ---------------------------------------------------------------------------------------------


def _is_array_input(x: Any) -> bool:
    """Whether ``x`` is an array point: an ndarray or a list, or an array of any dual carrier
    (a DualArray, a Taylor series or a traced array of an enclosing differentiation, which the
    new differentiation's layer goes over). A Dual or a 0-d carrier is a scalar point."""
    t = type(x)
    if t is np.ndarray or t is DualArray or isinstance(x, list):
        return True
    return t is not Dual and is_dual(x) and getattr(x, "ndim", 0) > 0


def _point_shape(x: Any) -> tuple[int, ...]:
    """The shape of an input point: an array carrier's own (the plain value under a traced array
    is a symbol of the compiler), else that of the plain values under the Dual layers."""
    return tuple(x.shape) if type(x) is not Dual and is_dual(x) else np.shape(strip(x))


def _scalar_input(x: Any, api: str, what: str = "x") -> Any:
    """Validate a scalar input point: integers become floats, non-numbers raise TypeError."""
    t = type(x)
    if t is float or t is complex:
        return x
    if t is Dual or is_dual(x):  # dual types of any kind nest, where their carrier allows it
        errors.check_nestable(x, api)
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Number):
        raise TypeError(
            f"{api}: {what} must be a real or complex number or an array, got {errors.type_name(x)}"
        )
    if isinstance(x, numbers.Integral):
        return float(x)
    return x


def _array_input(x: Any, api: str, what: str = "x") -> Any:
    """Validate an array input point: a float/complex array, or a DualArray.

    A plain array comes back as a read-only view: ``f`` may still update its argument in place
    (``x += 1``), which then works on a copy, so the caller's array is never changed.
    """
    if type(x) is DualArray:
        return x
    if is_dual(x):  # (_is_array_input: an array of a dual carrier)
        errors.check_nestable(x, api)
        return x
    errors.check_plain_array(x, api, what)
    arr = np.asarray(x)
    if arr.dtype.kind == "O":  # an object array (or a list) of duals: the dual array it stands for
        try:
            arr = lift_operand(arr)
        except TypeError as error:  # None, or an array of other objects
            raise TypeError(
                f"{api}: {what} must hold real or complex numbers, got {errors.type_name(x)} "
                f"({error})"
            ) from None
        if is_dual(arr):
            errors.check_nestable(arr, api)
            return arr
    if arr.dtype.kind in "biu":
        arr = arr.astype(float)
    elif arr.dtype.kind not in "fc":
        raise TypeError(f"{api}: {what} must hold real or complex numbers, got dtype {arr.dtype}")
    return _read_only(arr)


def _read_only(x: Any) -> Any:
    """A read-only view of an ndarray (a DualArray is copied): writes go to a copy first."""
    if type(x) is not np.ndarray:
        # np.copy keeps a Fortran-ordered DualArray's layout (x.copy() is C-ordered): the
        # view-or-copy decisions of f's reshapes are then NumPy's at a nested point too
        return np.copy(x) if type(x) is DualArray else x.copy()
    view = x.view()
    view.flags.writeable = False
    return view


def _seed(x: Any, tangent: Any, tag: int, api: str) -> Any:
    """A dual of ``tag`` at ``x`` with the given tangent (a scalar or an array of x's shape)."""
    if _is_array_input(x):
        x = _array_input(x, api)
        t = _array_input(tangent, api, "the tangent")
        # f may update its argument in place: it gets arrays of its own, never the caller's.
        # Owned (writable) arrays rather than read-only views, so that its slices are plain
        # NumPy views, not views linked to arrays copied on the first write (cheaper per slice)
        # (np.copy of a DualArray keeps a Fortran-ordered value's layout, as order="K" here)
        x = same_strides(x) if type(x) is np.ndarray else np.copy(x)
        t = t.copy(order="K") if type(t) is np.ndarray else t.copy()
        shape = _point_shape(x)
        if type(t) is not DualArray and t.shape != shape:
            raise ValueError(f"{api}: tangent shape {t.shape} does not match x's shape {shape}")
        return _make_array(x, np.reshape(t, (1,) + shape), tag, False)
    x = _scalar_input(x, api)
    if type(tangent) is np.ndarray:  # a 0-d array has a scalar's shape, as jit_jvp takes it
        if tangent.ndim:
            raise ValueError(f"{api}: tangent shape {tangent.shape} does not match x's shape ()")
        tangent = tangent[()]
    if type(tangent) not in SCALAR_TYPES and not is_dual(tangent):
        raise TypeError(f"{api}: the tangent must be a number, got {errors.type_name(tangent)}")
    if isinstance(tangent, (np.integer, np.bool_)):
        # a direction, not an integer: -np.uint8(2) would wrap around to 254
        tangent = x.dtype.type(tangent) if isinstance(x, np.inexact) else float(tangent)
    elif isinstance(x, np.inexact) and type(tangent) in (int, float, bool):
        # a Python number is weak in NumPy: as the tangent of a NumPy scalar it would take the
        # dtype of any NumPy constant it meets (1.0 / np.float32(c) is float32 in a float64 program)
        tangent = x.dtype.type(tangent)
    elif (type(tangent) is int or type(tangent) is bool) and (
        type(x) is float or type(x) is complex
    ):
        tangent = type(x)(tangent)  # a direction, not an integer (jvp(f, 2.0, True) gave True)
    elif isinstance(tangent, np.floating) or (
        isinstance(tangent, np.complexfloating) and _kind(x) == "c"
    ):
        # the tangent in the value's dtype, as at an array point: a float32 x with a float64 v
        # gave a float64 tangent under a float32 value, and a NumPy v a strong dtype under the
        # weak Python float x (the value and the tangent of x * np.float32(c) then differed)
        if isinstance(x, np.inexact):
            tangent = x.dtype.type(tangent)
        elif type(x) is float or type(x) is complex:
            tangent = type(x)(tangent)
    return _make(x, tangent, tag)


def _kind(a: Any) -> str:
    """The dtype kind of a plain number, list or array (``""`` for a dual or anything else)."""
    t = type(a)
    if t is float or t is int:
        return "f"
    if t is complex:
        return "c"
    if t is list:
        a = np.asarray(a)
    return a.dtype.kind if isinstance(a, (np.ndarray, np.generic)) else ""


def _zero(v: Any) -> Any:
    """A zero direction of ``v``'s shape and type."""
    return type(v)(0) if np.ndim(v) == 0 and type(v) is not np.ndarray else np.zeros_like(v)


def real_directions(x: Any, v: Any) -> tuple[Any, Any] | None:
    """For a complex direction ``v`` at a real point ``x`` (or at some real arguments of a
    tuple ``x``), two directions ``(v1, v2)`` of the real ones' types, whose tangents give
    ``J·v = t1 + 1j·t2``; ``None`` where there is no such argument.

    ``J·v`` of a real ``x`` is the real Jacobian applied to ``v``. One pass with the complex
    tangent beside the real value cannot give it: the rules of the functions that read a
    value's real part (``np.real``, ``np.conj``, ``np.angle``, ``np.vdot``, ``eigvalsh``) treat
    it as the rate along ``v`` at a complex point, and ``jvp(np.real, 1.0, 1j)`` was 0, not
    ``1j``. So the real and imaginary parts of ``v`` go through separate passes, and an
    argument that is complex itself takes its direction in the first."""
    if type(x) is tuple:
        if type(v) is not tuple or len(v) != len(x):
            return None  # (push_along says what is wrong)
        parts = [real_directions(xi, vi) for xi, vi in zip(x, v)]
        if all(p is None for p in parts):
            return None
        first = tuple(vi if p is None else p[0] for p, vi in zip(parts, v))
        return first, tuple(_zero(vi) if p is None else p[1] for p, vi in zip(parts, v))
    if _kind(v) == "c" and _kind(x) in ("f", "i", "u"):
        return np.real(v), np.imag(v)
    return None


def complex_tangent(t1: Any, t2: Any) -> Any:
    """``t1 + 1j·t2``, output by output (see ``real_directions``)."""
    if is_sequence(t1):
        return rebuild(t1, [complex_tangent(a, b) for a, b in zip(t1, t2)])
    return t1 + 1j * t2


def _call(f: Callable[..., Any], args: tuple[Any, ...], api: str) -> Any:
    return check_output(errors.call_user(f, *args), api)


def _owned(y: Any) -> Any:
    """Whether ``arr`` can be written in place (an inner DualArray looks after itself)."""
    t = type(y)
    if t is np.ndarray:
        return y if y.flags.writeable else y.copy()
    if t is tuple or t is list or is_sequence(y):
        return rebuild(y, [_owned(item) for item in y])
    return y


def _writable_copy(x: Any) -> Any:
    """A private copy of an array input for an ``f`` that receives it undifferentiated (order
    0): ``f`` may update its argument in place, as it may in every other mode."""
    if type(x) is np.ndarray:  # in x's own layout: f's result may depend on it (ravel('K'))
        return same_strides(x)
    return x.copy() if type(x) is DualArray else x


# ---------------------------------------------------------------------------------------------
# One pass
# ---------------------------------------------------------------------------------------------


def push_along(f: Callable[..., Any], x: Any, v: Any, api: str) -> tuple[Any, Any]:
    """``(f(x), J(x)·v)`` in one pass (the body of ``jvp``): ``x`` and ``v`` are scalars or
    arrays of the same shape, or tuples of them for an ``f`` of several arguments."""
    if (
        type(x) is np.ndarray
        and type(v) is np.ndarray
        and x.dtype is v.dtype
        and x.shape == v.shape
        and x.ndim
        and (x.dtype.kind == "f" or x.dtype.kind == "c")
    ):
        return _push_array(f, x, v, api)
    parts = real_directions(x, v)
    if parts is not None:  # a complex direction at a real point: J·Re v + 1j·J·Im v
        value, t1 = push_along(f, x, parts[0], api)
        return value, complex_tangent(t1, push_along(f, x, parts[1], api)[1])
    tag = new_tag()
    if type(x) is tuple:
        if type(v) is not tuple or len(v) != len(x):
            raise ValueError(
                f"{api}: x has {len(x)} arguments, so v must be a tuple of {len(x)} tangents"
            )
        args = tuple(_seed(xi, vi, tag, api) for xi, vi in zip(x, v))
    else:
        args = (_seed(x, v, tag, api),)
    y = _call(f, args, api)
    return _owned(value_of(y, tag)), _owned(tangent_of(y, tag))


_COPY_BELOW = 1 << 15
"""``jvp`` copies an argument of fewer elements for ``f`` (its slices are then plain views) and
gives larger ones as read-only views (no pass over memory unless ``f`` writes into them)."""


def _push_array(f: Callable[..., Any], x: np.ndarray, v: np.ndarray, api: str) -> Any:
    """``push_along`` for the common case, a float or complex array ``x`` and a tangent of its
    shape and dtype, without the general path's checks and conversions (what ``_seed`` would do
    to them is only the copies)."""
    tag = new_tag()
    # f may update its argument in place: it gets arrays of its own (see _seed), or, for large
    # ones, read-only views, which a write copies first: two passes over memory fewer, for a
    # cost per slice (a view linked to the array copied on write) that is small beside them
    if x.size < _COPY_BELOW:
        x, v = same_strides(x), v.copy(order="K")  # (x's strides: NumPy's views of it)
    else:
        x, v = _read_only(x), _read_only(v)
    y = errors.call_user(f, _make_array(x, v.reshape((1,) + x.shape), tag, False))
    if type(y) is DualArray and y.tag == tag:
        value, tangent = y.value, y.tangent_
        if type(value) is np.ndarray and type(tangent) is np.ndarray:
            if tangent.shape == (1,) + value.shape:  # (not broadcast: fit_tangent's case)
                tangent = tangent.reshape(value.shape)
                if not tangent.flags.writeable:
                    tangent = tangent.copy()
                return value if value.flags.writeable else value.copy(), tangent
    y = check_output(y, api)
    return _owned(value_of(y, tag)), _owned(tangent_of(y, tag))


def push_forward(f: Callable[..., Any], x: Any, seeds: Any) -> tuple[Any, Any]:
    """One forward pass with ``k`` tangent directions: ``(f(x), tangents)``.

    This is the building block of :func:`jacobian`: with the identity as ``seeds`` the tangents are
    the Jacobian's columns.

    Parameters
    ----------
    f : callable
        ``f(x)``.
    x : array_like
        The point.
    seeds : array_like
        The directions, shape ``(k,) + x.shape``.

    Returns
    -------
    value : array or tuple
        ``f(x)``.
    tangents : array or tuple
        Shape ``(k,) + f(x).shape`` (a tuple of such arrays when ``f`` returns a tuple): row ``i``
        is ``J(x)·seeds[i]``.

    See Also
    --------
    jvp : one direction.

    Examples
    --------
    >>> seeds = np.array([[1.0, 0.0], [1.0, 1.0]])  # two directions
    >>> dd.push_forward(lambda x: x**2, np.array([1.0, 3.0]), seeds)
    (array([1., 9.]), array([[2., 0.],
           [2., 6.]]))
    """
    return seeded_pass(f, x, seeds, "push_forward")


def seeded_pass(f: Callable[..., Any], x: Any, seeds: Any, api: str) -> tuple[Any, Any]:
    """``push_forward`` for ``api`` (a chunk of ``jacobian``'s directions on workers): its
    errors name the function the user called."""
    errors.check_callable(f, api)
    x = _array_input(x, api)
    errors.check_plain_array(seeds, api, "seeds")
    seeds = _read_only(np.asarray(seeds))  # f may update its argument in place: not the seeds
    shape = _point_shape(x)
    if seeds.ndim != len(shape) + 1 or seeds.shape[1:] != shape:
        raise ValueError(
            f"{api}: seeds must have shape (k,) + x.shape = (k,) + {shape}, got {seeds.shape}"
        )
    if seeds.dtype.kind == "c" and _kind(strip(x)) == "f":  # J·Re s + 1j·J·Im s: as jvp
        value, t1 = _push(f, x, seeds.real, seeds.shape[0], api)
        t2 = _push(f, x, seeds.imag, seeds.shape[0], api)[1]
        return _owned(value), complex_tangent(t1, t2)
    value, tangents = _push(f, x, seeds, seeds.shape[0], api)
    return _owned(value), _owned(tangents)


def _push(f: Callable[..., Any], x: Any, seeds: Any, k: int, api: str) -> tuple[Any, Any]:
    """``f(x)`` with tangent ``seeds`` (k directions): the value and ``(k,) + shape`` tangents."""
    tag = new_tag()
    y = _call(f, (_make_array(_read_only(x), seeds, tag, True),), api)
    return _map(lambda out: value_of(out, tag), y), _map(lambda out: tangents_at(out, tag, k), y)


def _map(fn: Callable[[Any], Any], y: Any) -> Any:
    if is_sequence(y):
        return rebuild(y, [_map(fn, item) for item in y])
    return fn(y)


def _default_chunk(n: int, itemsize: int) -> int:
    """Columns per pass: all of them for a small Jacobian (see ``ONE_PASS_BYTES``), else a fifth
    of them at most, and no more than keep an n-sized intermediate's tangents within the budget.
    """
    column = max(1, itemsize * n)  # the tangent bytes of one direction of an n-sized array
    if column * n <= ONE_PASS_BYTES:
        return max(1, n)
    return int(max(1, min(-(-n // _PIECES), MEMORY_BUDGET // column)))


def _check_chunk(chunk: Any, api: str = "jacobian") -> int | None:
    if chunk is None:
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral):
        raise TypeError(f"{api}: chunk must be a positive integer or None, got {chunk!r}")
    if chunk < 1:
        raise ValueError(f"{api}: chunk must be >= 1, got {chunk}")
    return int(chunk)


# ---------------------------------------------------------------------------------------------
# Dense Jacobians: a jvp over the standard basis, several columns per pass
# ---------------------------------------------------------------------------------------------


def dense_jacobian(f: Callable[..., Any], x: Any, chunk: int | None = None) -> tuple[Any, Any]:
    """``(f(x), J)`` in this process, ``chunk`` columns per pass (see ``value_and_jacobian``)."""
    if (
        type(x) is np.ndarray
        and chunk is None
        and x.ndim
        and x.size
        and x.dtype.kind in "fc"
        and x.size * x.size * x.itemsize <= ONE_PASS_BYTES
        and callable(f)
    ):
        return _one_pass_jacobian(f, x)
    errors.check_callable(f, "jacobian")
    chunk = _check_chunk(chunk)
    scalar = not _is_array_input(x)
    if scalar and (
        (isinstance(x, numbers.Number) and not isinstance(x, (bool, np.bool_))) or is_dual(x)
    ):
        x = _scalar_input(x, "jacobian")  # (an integer becomes a float)
        # f gets a scalar dual, as from jvp: to NumPy a scalar's views (np.expand_dims(x, 0))
        # are new arrays, so a write through one must not reach x, as it would through a 0-d
        # array's; the derivative along 1 is the Jacobian. A scalar dual point of an enclosing
        # differentiation goes the same way: as a 0-d object array it would reach f's functions
        # through NumPy's object loops (np.sign of it gives ints, np.maximum picks an element)
        one = np.ones((), np.result_type(x, 0.0))[()] if isinstance(x, np.generic) else 1.0
        value, tangent = push_along(f, x, one, "jacobian")
        return _map(_numpy_scalar, value), _map(_numpy_scalar, tangent)
    x = np.asarray(_scalar_input(x, "jacobian")) if scalar else _array_input(x, "jacobian")
    shape = _point_shape(x)
    n = math.prod(shape)
    dtype = strip(x).dtype
    if chunk is None:
        chunk = _default_chunk(n, dtype.itemsize)
    if n == 0:
        value = _owned(_call(f, (_writable_copy(x),), "jacobian"))
        return value, _map(lambda out: np.zeros(np.shape(strip(out)) + shape, dtype), value)
    if chunk >= n:  # one pass: its tangents, transposed as a view, are the Jacobian
        seeds = np.ones((1,), dtype) if scalar else IdentitySeed(n, 0, shape, dtype)
        value, tangents = _push(f, x, seeds, n, "jacobian")
        return _owned(value), _owned(_map_blocks([tangents], shape))
    value, assembly = None, _Assembly(shape)
    for start in range(0, n, chunk):
        k = min(n, start + chunk) - start
        out, tangents = _push(f, x, IdentitySeed(k, start, shape, dtype), k, "jacobian")
        if value is None:
            value = out
        assembly.add(start, tangents)
        del out, tangents  # the next pass starts with none of this one's arrays alive
    return _owned(value), _owned(assembly.result())


def _numpy_scalar(t: Any) -> Any:
    """A scalar result as a NumPy scalar (as a 0-d pass gives it, and the parallel one)."""
    return t if isinstance(t, (np.ndarray, np.generic)) or is_dual(t) else np.asarray(t)[()]


def _one_pass_jacobian(f: Callable[..., Any], x: np.ndarray) -> tuple[Any, Any]:
    """The whole Jacobian in one pass (the default when its tangents fit the memory budget),
    with the common case, a single array output of the same tag, taken without detours."""
    n = x.size
    tag = tags._next_tag()  # the module's: a fork or observe() replaces it
    view = x.view()
    view.flags.writeable = False  # f may update its argument in place: that copies first
    y = errors.call_user(f, _make_array(view, IdentitySeed(n, 0, x.shape, x.dtype), tag, True))
    if type(y) is DualArray and y.tag == tag and type(y.tangent_) is np.ndarray:
        value = y.value
        if type(value) is np.ndarray:
            tangents = fit_tangent(y.tangent_, n, value.shape)
            jac = tangents.reshape(n, value.size).T.reshape(value.shape + x.shape)
            # read-only: a view of x or of a private block of the pass (copied for the caller)
            value = value if value.flags.writeable else value.copy()
            return value, jac if jac.flags.writeable else jac.copy()
    y = check_output(y, "jacobian")
    value = _map(lambda out: value_of(out, tag), y)
    jac = _map_blocks([_map(lambda out: tangents_at(out, tag, n), y)], x.shape)
    return _owned(value), _owned(jac)


def _map_blocks(blocks: list[Any], in_shape: tuple[int, ...]) -> Any:
    """Assemble per-pass tangents ``(k_i,) + out_shape`` into ``out_shape + in_shape``."""
    first = blocks[0]
    if is_sequence(first):  # named tuples too (np.linalg.eigh's EighResult)
        return rebuild(
            first, [_map_blocks([b[i] for b in blocks], in_shape) for i in range(len(first))]
        )
    tangents = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    out_shape = np.shape(strip(tangents))[1:]
    flat = np.reshape(tangents, (np.shape(strip(tangents))[0], -1))
    jac = np.transpose(flat)
    jac = np.reshape(jac, out_shape + in_shape)
    return jac[()] if type(jac) is np.ndarray and jac.ndim == 0 else jac


class _Assembly:
    """A Jacobian filled pass by pass: each pass's tangents ``(k,) + out_shape`` are written
    into a preallocated ``out_shape + in_shape`` array as they arrive, so that no more than one
    pass's blocks are alive beside the result (collecting and concatenating them held the
    Jacobian two or three times over). The dtype is the one ``np.concatenate`` would give; an
    output whose tangents are not plain arrays (a Jacobian nested in another derivative has
    dual tangents) keeps its blocks and is assembled by ``_map_blocks`` at the end."""

    def __init__(self, in_shape: tuple[int, ...]) -> None:
        self.in_shape = in_shape
        self.n = math.prod(in_shape)
        self.tree: Any = None  # per output: [out array or None, blocks list, out_shape]
        self.filled = 0  # columns written so far

    def add(self, start: int, tangents: Any) -> None:
        if start != self.filled:
            raise ValueError(f"jacobian: columns {self.filled}.. expected, got {start}..")
        if self.tree is None:
            self.tree = self._plant(tangents)
        k = self._fill(self.tree, tangents, start)
        self.filled = start + k

    def _plant(self, tangents: Any) -> Any:
        if is_sequence(tangents):  # the type only: the pass's arrays must not stay alive
            return (rebuild(tangents, [None] * len(tangents)), [self._plant(t) for t in tangents])
        return [None, [], np.shape(strip(tangents))[1:]]

    def _fill(self, node: Any, tangents: Any, start: int) -> int:
        if type(node) is tuple:
            template, children = node
            if not is_sequence(tangents) or len(tangents) != len(children):
                raise ValueError(
                    "jacobian: f returned outputs of another structure in a later pass"
                )
            ks = {self._fill(c, t, start) for c, t in zip(children, tangents)}
            if len(ks) != 1:
                raise ValueError("jacobian: the outputs of one pass have different lengths")
            return ks.pop()
        out, blocks, out_shape = node
        shape = np.shape(strip(tangents))
        if shape[1:] != out_shape:
            raise ValueError(
                f"jacobian: f returned shape {shape[1:]} in a later pass, {out_shape} before"
            )
        k = shape[0]
        if type(tangents) is not np.ndarray or blocks:
            if out is not None:  # dual tangents after plain ones: the columns so far as a block
                m = math.prod(out_shape)
                blocks.append(out.reshape(m, self.n)[:, :start].T.reshape((start,) + out_shape))
                node[0] = None
            blocks.append(tangents)
            return k
        if out is None:
            out = node[0] = np.empty(out_shape + self.in_shape, tangents.dtype)
        elif np.result_type(out, tangents) != out.dtype:  # as np.concatenate promotes
            out = node[0] = out.astype(np.result_type(out, tangents))
        m = math.prod(out_shape)
        out.reshape(m, self.n)[:, start : start + k] = tangents.reshape(k, m).T
        return k

    def result(self) -> Any:
        return self._result(self.tree)

    def _result(self, node: Any) -> Any:
        if type(node) is tuple:
            template, children = node
            return rebuild(template, [self._result(c) for c in children])
        out, blocks, _ = node
        jac = out if out is not None else _map_blocks(blocks, self.in_shape)
        return jac[()] if type(jac) is np.ndarray and jac.ndim == 0 else jac
