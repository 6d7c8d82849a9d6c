"""Seeding inputs with a tag and extracting values and tangents of that tag from outputs.

Outputs may be numbers, Duals, arrays, DualArrays, or tuples and lists of them. A dual whose tag
is older than the one asked for does not depend on that perturbation: its tangent is zero. A dual
with a newer tag (one that escaped an inner differentiation) is unwrapped layer by layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import errors
from ..rules.elementwise import PLAIN_TANGENTS, is_dual
from .dual import SCALAR_TYPES, Dual, _make
from .objects import lift


def is_sequence(y: Any) -> bool:
    """Tuples (named ones included, such as NumPy's ``EighResult``) and lists of outputs."""
    return isinstance(y, (tuple, list))


def rebuild(like: Any, items: Any) -> Any:
    """A sequence of the same type as ``like`` (a named tuple, tuple or list) from ``items``."""
    if hasattr(like, "_fields"):
        return type(like)(*items)
    return type(like)(items)


# The array module registers how DualArrays are built and zeroed (it imports this module).
array_support: dict[str, Callable[..., Any]] = {}


def check_output(y: Any, api: str) -> Any:
    """Raise TypeError for outputs that cannot carry a derivative (None, strings, objects);
    object arrays of duals are lifted to the dual arrays they stand for."""
    t = type(y)
    if t is np.ndarray and y.dtype.kind == "O":
        # an object array of duals (np.array([...]) of Duals, np.asarray of a DualArray): the
        # dual array it stands for
        return lift(y)
    if t in SCALAR_TYPES or is_dual(y) or t is np.ndarray:
        return y
    if is_sequence(y):
        items = [check_output(item, api) for item in y]
        if any(new is not old for new, old in zip(items, y)):
            return rebuild(y, items)
        return y
    raise TypeError(
        f"{api}: f must return a number, an array, or a tuple/list of them; it returned "
        f"{errors.type_name(y)}" + (" (did f forget a return statement?)" if y is None else "")
    )


def tangent_of(y: Any, tag: int) -> Any:
    """The tangent of output ``y`` with respect to the perturbation ``tag``."""
    t = type(y)
    if t is Dual:
        if y.tag == tag:
            return y.tangent
        if y.tag < tag:
            return _zero_of(y)
        return _make(tangent_of(y.value, tag), tangent_of(y.tangent, tag), y.tag)
    if t in SCALAR_TYPES:
        return zero_scalar(y)
    if is_sequence(y):
        return rebuild(y, [tangent_of(item, tag) for item in y])
    if t is np.ndarray:
        return np.zeros_like(y, dtype=np.result_type(y.dtype, 0.0))
    return array_support["tangent_of"](y, tag)


def value_of(y: Any, tag: int) -> Any:
    """The value of output ``y`` with the perturbation ``tag`` removed."""
    t = type(y)
    if t is Dual:
        if y.tag == tag:
            return y.value
        if y.tag < tag:
            return y
        return _make(value_of(y.value, tag), value_of(y.tangent, tag), y.tag)
    if is_sequence(y):
        return rebuild(y, [value_of(item, tag) for item in y])
    if t in SCALAR_TYPES or t is np.ndarray:
        return y
    return array_support["value_of"](y, tag)


def _zero_of(y: Any) -> Any:
    """A plain zero of the same kind (real or complex) as the innermost value of ``y``."""
    while type(y) is Dual:
        y = y.value
    return zero_scalar(y) if type(y) in SCALAR_TYPES else 0.0


def zero_scalar(y: Any) -> Any:
    """The derivative of a constant number ``y``: a zero of ``y``'s float or complex type.

    Not ``0.0 * y``, which is NaN for an infinite or NaN constant: a constant has derivative 0
    whatever its value, as on every other path.
    """
    t = type(y)
    if t is float or t is int or t is bool:
        return 0.0
    if t is complex:
        return 0j
    return np.zeros((), np.result_type(y, 0.0))[()]


def newest_tag(args: Any) -> int:
    """The largest tag among the duals in ``args`` (nested in tuples/lists), or -1 for none."""
    best = -1
    for a in args:
        if is_dual(a):
            if a.tag > best:
                best = a.tag
        elif is_sequence(a):
            best = max(best, newest_tag(a))
    return best


def split(a: Any, tag: int) -> tuple[Any, Any]:
    """``(value, tangent)`` of an argument at ``tag``; a constant gets a zero tangent.

    Arguments that are not numbers (flags, callables, strings) get ``None`` as their tangent.
    """
    if is_dual(a):
        if a.tag == tag:
            return a.value, a.tangent
        return a, 0.0 if type(a) is Dual else array_support["zeros_like"](a)
    t = type(a)
    if is_sequence(a):
        pairs = [split(item, tag) for item in a]
        return rebuild(a, [p[0] for p in pairs]), rebuild(a, [p[1] for p in pairs])
    if t in SCALAR_TYPES:
        return a, zero_scalar(a)
    if t is np.ndarray:
        return a, np.zeros(a.shape, np.result_type(a.dtype, 0.0))
    return a, None


def directions(a: Any, tag: int) -> int:
    """How many tangent directions argument ``a`` carries at ``tag`` (1 unless batched)."""
    if is_sequence(a):
        return max((directions(item, tag) for item in a), default=1)
    if not is_dual(a) or a.tag != tag:
        return 1
    if type(a) is Dual:
        t = a.tangent
        return len(t) if type(t) is np.ndarray and t.ndim == 1 else 1
    return a.directions if a.batched else 1


def join(value: Any, tangent: Any, tag: int, batched: bool = False) -> Any:
    """A dual of ``tag`` from a value and tangent (mapped over tuples and lists).

    With ``batched`` the tangent has a leading axis of directions.
    """
    t = type(value)
    if is_sequence(value):
        if not is_sequence(tangent) or len(tangent) != len(value):
            raise ValueError(
                "the tangent output must have the same tuple structure as the value output"
            )
        return rebuild(value, [join(v, tt, tag, batched) for v, tt in zip(value, tangent)])
    if (t in SCALAR_TYPES or t is Dual) and (
        type(tangent) in SCALAR_TYPES or type(tangent) is Dual
    ):
        return _make(value, tangent, tag)
    return array_support["join"](value, tangent, tag, batched)


def _broadcasts_into(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without enlarging it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class IdentitySeed(np.lib.mixins.NDArrayOperatorsMixin):
    """The tangent of a Jacobian pass: ``k`` columns of the identity starting at ``start``.

    ``seed[j]`` is the unit vector ``e_(start+j)`` shaped like ``x``. It behaves as that dense
    ``(k,) + x.shape`` array wherever NumPy meets it (it materialises on demand), but the
    operations that usually come first know its structure and skip the work: ``A @ x`` takes
    columns of ``A`` instead of multiplying by the identity, and an elementwise scaling ``p * x``
    only writes the ``k`` nonzero entries.
    """

    __slots__ = ("k", "start", "value_shape", "dtype")

    def __init__(self, k: int, start: int, value_shape: tuple[int, ...], dtype: Any) -> None:
        self.k = k
        self.start = start
        self.value_shape = value_shape
        self.dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.k,) + self.value_shape

    @property
    def ndim(self) -> int:
        return 1 + len(self.value_shape)

    def _diagonal(self, values: Any, dtype: Any = None) -> np.ndarray:
        """The dense seed with its nonzero entries replaced by ``values`` (flat, length k)."""
        n = int(np.prod(self.value_shape))
        out = np.zeros((self.k, n), np.result_type(self.dtype, values) if dtype is None else dtype)
        out[np.arange(self.k), np.arange(self.start, self.start + self.k)] = values
        return out.reshape(self.shape)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = self._diagonal(1.0).astype(self.dtype, copy=False)
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc is np.multiply and method == "__call__" and not kwargs and len(inputs) == 2:
            other = inputs[1] if inputs[0] is self else inputs[0]
            if type(other) is not IdentitySeed and not is_dual(other):
                p = np.asarray(other)
                if _broadcasts_into(p.shape, self.value_shape):  # a scaling per entry of x
                    flat = np.broadcast_to(p, self.value_shape).reshape(-1)
                    # the dtype NumPy gives the product: a Python scalar is weak (float32
                    # seed * 2 stays float32), which np.asarray(other) would forget
                    dtype = np.result_type(self.dtype, other)
                    return self._diagonal(flat[self.start : self.start + self.k], dtype)
        dense = tuple(np.asarray(a) if type(a) is IdentitySeed else a for a in inputs)
        return getattr(ufunc, method)(*dense, **kwargs)

    def __getitem__(self, index: Any) -> Any:
        # a slice of a 1-d x (``x[1:-1]``) picks columns of the seed: build only those
        if (
            len(self.value_shape) == 1
            and type(index) is tuple
            and len(index) == 2
            and type(index[0]) is slice
            and type(index[1]) is slice
            and index[0] == slice(None)
        ):
            picked = np.arange(self.value_shape[0])[index[1]] - self.start
            out = np.zeros((self.k, picked.size), self.dtype)
            inside = np.flatnonzero((picked >= 0) & (picked < self.k))
            out[picked[inside], inside] = 1.0
            return out
        return np.asarray(self)[index]

    def __getattr__(self, name: str) -> Any:
        # everything else (copy, astype, real, T, ...) as the dense array would answer it
        if name.startswith("__"):
            raise AttributeError(name)  # protocol probes (__array_interface__, ...) must fail
        return getattr(np.asarray(self), name)

    def __len__(self) -> int:
        return self.k

    def reshape(self, *shape: Any, **kwargs: Any) -> np.ndarray:
        return np.asarray(self).reshape(*shape, **kwargs)

    def columns_of(self, a: np.ndarray) -> np.ndarray:
        """``a @ seed[j]`` for every j, shape ``(k,) + a.shape[:-1]``: a private read-only copy.

        The columns are copied in ``a``'s own memory order (a plain copy, not a transposing one)
        and the direction axis is moved to the front as a view; later elementwise operations
        follow that layout. Copied, so changing ``a`` later cannot change the derivative.
        """
        start = self.start
        if a.ndim == 2:
            block = a[:, start : start + self.k].copy()
            block.flags.writeable = False
            return block.T
        block = a[..., start : start + self.k].copy()
        block.flags.writeable = False
        return np.moveaxis(block, -1, 0)


PLAIN_TANGENTS.add(IdentitySeed)
