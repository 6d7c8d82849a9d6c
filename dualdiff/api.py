"""The user's verbs of forward accumulation: seed the input with a fresh tag, run, extract."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from . import errors
from .dual import SCALAR_TYPES, Dual, _make
from .rules import is_dual
from .seed import check_output, tangent_of, value_of
from .tags import new_tag

__all__ = ["derivative", "jvp"]


def _scalar_input(x: Any, api: str, what: str = "x") -> Any:
    """Validate a scalar input point: integers become floats, non-numbers raise TypeError."""
    t = type(x)
    if t is float or t is complex or t is Dual:
        return x
    if isinstance(x, bool) or not isinstance(x, (numbers.Number, Dual)):
        raise TypeError(f"{api}: {what} must be a real or complex number, got {errors.type_name(x)}")
    if isinstance(x, numbers.Integral):
        return float(x)
    return x


def derivative(f: Callable[..., Any], x: Any, n: int = 1) -> Any:
    """The exact ``n``-th derivative of ``f`` at the scalar ``x`` (real or complex).

    ``f`` may return a number or a tuple/list of numbers (the derivative has the same structure).
    ``n = 0`` returns ``f(x)``. Calls nest safely: ``derivative(lambda x: x * derivative(lambda
    y: x + y, 1.0), 1.0) == 1.0``, because each call seeds its own tag.
    """
    errors.check_callable(f, "derivative")
    n = errors.check_order(n, "derivative")
    x = _scalar_input(x, "derivative")
    if n == 0:
        return check_output(f(x), "derivative")
    if n != 1:
        raise NotImplementedError(
            "derivative: orders above 1 need Taylor mode, which has not landed yet; nest "
            "derivative calls for a second derivative"
        )
    tag = new_tag()
    y = check_output(f(_make(x, 1.0, tag)), "derivative")
    return tangent_of(y, tag)


def jvp(f: Callable[..., Any], x: Any, v: Any) -> tuple[Any, Any]:
    """``(f(x), f'(x)·v)``: the value and the directional derivative along ``v``, in one pass.

    For several arguments pass tuples: ``jvp(f, (x, y), (vx, vy))`` calls ``f(x, y)`` and
    returns the derivative along ``(vx, vy)``.
    """
    errors.check_callable(f, "jvp")
    tag = new_tag()
    if type(x) is tuple or type(x) is list:
        if type(v) not in (tuple, list) or len(v) != len(x):
            raise ValueError(
                f"jvp: x has {len(x)} arguments, so v must be a tuple of {len(x)} tangents"
            )
        seeds = [_seed(xi, vi, tag) for xi, vi in zip(x, v)]
        y = f(*seeds)
    else:
        y = f(_seed(x, v, tag))
    y = check_output(y, "jvp")
    return value_of(y, tag), tangent_of(y, tag)


def _seed(x: Any, v: Any, tag: int) -> Any:
    """A dual of ``tag`` at ``x`` with tangent ``v``."""
    if type(x) is np.ndarray or is_dual(x) and type(x) is not Dual or isinstance(x, list):
        raise TypeError("jvp: array inputs need dualdiff.DualArray, which has not landed yet")
    x = _scalar_input(x, "jvp")
    if type(v) not in SCALAR_TYPES and type(v) is not Dual:
        raise TypeError(f"jvp: the tangent v must be a number, got {errors.type_name(v)}")
    return _make(x, v, tag)
