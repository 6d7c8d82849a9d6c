"""ndarray's methods for dualdiff's array-like types (DualArray, Taylor, the sparsity tracer).

Each method calls the NumPy function of the same name, which dispatches through the type's
``__array_function__`` to its rule: the methods hold no maths of their own, so a type gets them
all by inheriting this mixin and registering the functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def variance(a: Any, axis: Any, ddof: Any, keepdims: bool, complex_values: bool) -> Any:
    """``Σ |a - mean(a)|² / (N - ddof)`` along ``axis``, written with NumPy functions so that a
    dual type's own rules for ``mean``, ``sum`` and arithmetic differentiate it: the ``var``
    (and, through ``sqrt``, the ``std``) of DualArray, Taylor series and traced duals alike."""
    centred = a - np.mean(a, axis=axis, keepdims=True)
    squares = (centred * np.conjugate(centred)).real if complex_values else centred**2
    if axis is None:
        count = math.prod(a.shape)
    else:
        count = math.prod(a.shape[i] for i in (axis if isinstance(axis, tuple) else (axis,)))
    return np.sum(squares, axis=axis, keepdims=keepdims) / (count - ddof)


def _shape_argument(shape: tuple[Any, ...]) -> Any:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    return shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape


class ArrayMethods:
    """``x.sum()``, ``x.reshape(...)``, ``x.T`` ... through ``numpy.<name>(x, ...)``."""

    __slots__ = ()

    @property
    def T(self) -> Any:
        return np.transpose(self)

    @property
    def mT(self) -> Any:
        return np.swapaxes(self, -1, -2)

    def reshape(self, *shape: Any, order: str = "C") -> Any:
        return np.reshape(self, _shape_argument(shape), order=order)

    def ravel(self, order: str = "C") -> Any:
        return np.ravel(self, order=order)

    def flatten(self, order: str = "C") -> Any:
        return np.copy(np.ravel(self, order=order))

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        return np.swapaxes(self, axis1, axis2)

    def squeeze(self, axis: Any = None) -> Any:
        return np.squeeze(self, axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        return np.diagonal(self, offset, axis1, axis2)

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return np.sum(self, *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return np.mean(self, *args, **kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return np.prod(self, *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return np.min(self, *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return np.max(self, *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return np.cumsum(self, *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Any:
        return np.cumprod(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return np.std(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return np.var(self, *args, **kwargs)

    def dot(self, other: Any) -> Any:
        return np.dot(self, other)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        return np.trace(self, offset, axis1, axis2)

    def clip(self, *args: Any, **kwargs: Any) -> Any:
        return np.clip(self, *args, **kwargs)

    def round(self, decimals: int = 0) -> Any:
        return np.round(self, decimals)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return np.argmax(self, *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return np.argmin(self, *args, **kwargs)

    def argsort(self, *args: Any, **kwargs: Any) -> Any:
        return np.argsort(self, *args, **kwargs)

    def nonzero(self) -> Any:
        return np.nonzero(self)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return np.any(self, *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return np.all(self, *args, **kwargs)
