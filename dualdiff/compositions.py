"""NumPy functions written in terms of other functions of the tables, once for every carrier.

Each body below is plain NumPy code: called with a ``DualArray``, a ``Taylor`` series, a compiler
``Traced`` or a ``SparsityTracer``, every operation in it dispatches to that carrier, so the
function works wherever its parts do and its derivative is the chain rule through them. A body
must give NumPy's value exactly (dtype and shape included) and follow the conventions of the rule
table at ties and kinks (``maximum`` splits a tie evenly, so ``clip`` does too).

The function table (``dualdiff.table``) declares these functions as ``composition``; a carrier with
a faster version of one registers it as an override, tested against the body here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .rules import RULES

__all__ = ["COMPOSITIONS", "composition"]

COMPOSITIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""The body of each composition, keyed by the NumPy function it stands for."""

_NO_VALUE = np._NoValue


def composition(*functions: Callable[..., Any]) -> Callable[..., Any]:
    """Register the decorated body as the composition of the given NumPy functions."""

    def register(body: Callable[..., Any]) -> Callable[..., Any]:
        for function in functions:
            COMPOSITIONS[function] = body
        return body

    return register


def _refuse(name: str, **options: Any) -> None:
    for option, given in options.items():
        if given is not None and given is not _NO_VALUE:
            raise TypeError(f"numpy.{name}({option}=...) is not supported on dual numbers")


@composition(np.clip)
def clip(
    a: Any,
    a_min: Any = _NO_VALUE,
    a_max: Any = _NO_VALUE,
    out: Any = None,
    *,
    min: Any = _NO_VALUE,
    max: Any = _NO_VALUE,
    **kwargs: Any,
) -> Any:
    """``minimum(maximum(a, lo), hi)``: at a bound the derivative is shared as ``maximum`` does."""
    _refuse("clip", out=out, **kwargs)
    lo = a_min if min is _NO_VALUE else min
    hi = a_max if max is _NO_VALUE else max
    if lo is not _NO_VALUE and lo is not None:
        a = RULES["maximum"].function(a, lo)
    if hi is not _NO_VALUE and hi is not None:
        a = RULES["minimum"].function(a, hi)
    return a


@composition(np.ptp)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Any:
    """``max - min`` (a tie shares the derivative evenly, as in ``max``)."""
    _refuse("ptp", out=out)
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


@composition(np.sort)
def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
    """The elements taken in the order ``argsort`` gives (stable at ties, so equal values keep
    their own derivatives in order)."""
    _refuse("sort", order=order)
    if axis is None:
        a, axis = np.ravel(a), -1
    index = np.argsort(a, axis=axis, kind=kind, stable=True if stable is None else stable)
    return np.take_along_axis(a, index, axis=axis)


@composition(np.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """Nested ``where``: the first true condition picks its choice."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = np.where(condition, choice, result)
    return result


@composition(np.polyval)
def polyval(p: Any, x: Any) -> Any:
    """Horner's scheme, as NumPy evaluates it (``y = y * x + p[i]``)."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    y = np.zeros_like(x) if np.ndim(x) else x * 0
    for i in range(len(p)):
        y = y * x + p[i]
    return y


@composition(np.angle)
def angle(z: Any, deg: bool = False) -> Any:
    """``arctan2(imag z, real z)``, in degrees when asked."""
    a = RULES["arctan2"].function(np.imag(z), np.real(z))
    return a * (180.0 / np.pi) if deg else a
