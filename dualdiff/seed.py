"""Seeding inputs with a tag and extracting values and tangents of that tag from outputs.

Outputs may be numbers, Duals, arrays, DualArrays, or tuples and lists of them. A dual whose tag
is older than the one asked for does not depend on that perturbation: its tangent is zero. A dual
with a newer tag (one that escaped an inner differentiation) is unwrapped layer by layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import errors
from .dual import SCALAR_TYPES, Dual, _make
from .rules import is_dual

# The array module registers how DualArrays are built and zeroed (it imports this module).
array_support: dict[str, Callable[..., Any]] = {}


def check_output(y: Any, api: str) -> Any:
    """Raise TypeError for outputs that cannot carry a derivative (None, strings, objects)."""
    t = type(y)
    if t in SCALAR_TYPES or is_dual(y) or t is np.ndarray:
        return y
    if t is tuple or t is list:
        for item in y:
            check_output(item, api)
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
            return 0.0 * _zero_of(y)
        return _make(tangent_of(y.value, tag), tangent_of(y.tangent, tag), y.tag)
    if t in SCALAR_TYPES:
        return 0.0 * y
    if t is tuple or t is list:
        return t(tangent_of(item, tag) for item in y)
    if t is np.ndarray:
        return np.zeros_like(y, dtype=np.result_type(y.dtype, float))
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
    if t is tuple or t is list:
        return t(value_of(item, tag) for item in y)
    if t in SCALAR_TYPES or t is np.ndarray:
        return y
    return array_support["value_of"](y, tag)


def _zero_of(y: Any) -> Any:
    """A plain zero of the same kind (real or complex) as the innermost value of ``y``."""
    while type(y) is Dual:
        y = y.value
    return y * 0 if type(y) in SCALAR_TYPES else 0.0


def newest_tag(args: Any) -> int:
    """The largest tag among the duals in ``args`` (nested in tuples/lists), or -1 for none."""
    best = -1
    for a in args:
        if is_dual(a):
            if a.tag > best:
                best = a.tag
        elif type(a) is tuple or type(a) is list:
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
    if t is tuple or t is list:
        pairs = [split(item, tag) for item in a]
        return t(p[0] for p in pairs), t(p[1] for p in pairs)
    if t in SCALAR_TYPES:
        return a, 0.0 * a
    if t is np.ndarray:
        return a, np.zeros(a.shape, np.result_type(a.dtype, float))
    return a, None


def directions(a: Any, tag: int) -> int:
    """How many tangent directions argument ``a`` carries at ``tag`` (1 unless batched)."""
    if type(a) is tuple or type(a) is list:
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
    if t is tuple or t is list:
        if type(tangent) not in (tuple, list) or len(tangent) != len(value):
            raise ValueError(
                "the tangent output must have the same tuple structure as the value output"
            )
        return t(join(v, tt, tag, batched) for v, tt in zip(value, tangent))
    if (t in SCALAR_TYPES or t is Dual) and (
        type(tangent) in SCALAR_TYPES or type(tangent) is Dual
    ):
        return _make(value, tangent, tag)
    return array_support["join"](value, tangent, tag, batched)
