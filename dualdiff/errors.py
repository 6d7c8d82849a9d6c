"""Builders for the error messages dualdiff raises: each names what failed and suggests the fix."""

from __future__ import annotations

from typing import Any


def type_name(obj: Any) -> str:
    """A short readable name for the type of ``obj`` (``numpy.ndarray``, ``str``, ...)."""
    t = type(obj)
    module = t.__module__
    if module in ("builtins", None):
        return t.__name__
    return f"{module.split('.')[0]}.{t.__name__}"


def lost_tangent(what: str, fix: str) -> TypeError:
    """The error for a conversion that would silently drop a tangent."""
    return TypeError(f"{what} would drop its tangent (the derivative). {fix}")


def no_rule(function: str, hint: str = "") -> TypeError:
    """The error for a NumPy function or ufunc that has no derivative rule."""
    message = f"dualdiff has no derivative rule for {function}"
    if hint:
        message += f"; {hint}"
    else:
        message += (
            "; apply it to .value if the result does not depend on the tangent, or define the "
            "derivative with dualdiff.custom_jvp"
        )
    return TypeError(message)


def check_callable(f: Any, api: str) -> None:
    """Raise TypeError unless ``f`` can be called."""
    if not callable(f):
        raise TypeError(f"{api} expects a callable f as its first argument, got {type_name(f)}")


def check_order(n: Any, api: str) -> int:
    """Validate a derivative order: an integer (TypeError otherwise) that is >= 0 (ValueError)."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"{api}: the order n must be an integer, got {type_name(n)} {n!r}")
    n = n.__index__()
    if n < 0:
        raise ValueError(f"{api}: the order n must be >= 0, got {n}")
    return n
