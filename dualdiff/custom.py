"""``custom_jvp``: supply the derivative of a function yourself (JAX style).

    @dualdiff.custom_jvp
    def f(x, y):
        return np.log1p(np.exp(x)) * y

    @f.defjvp
    def f_jvp(primals, tangents):
        x, y = primals
        dx, dy = tangents
        out = f(x, y)
        return out, dualdiff.sigmoid(x) * y * dx + np.log1p(np.exp(x)) * dy

The rule receives the arguments with the current perturbation removed and one tangent per
argument (zero for arguments that do not carry it), and returns ``(output, output_tangent)``.
Nesting is safe: the primals may still carry older perturbations, which flow through the rule's
own (differentiable) operations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import errors
from .seed import join, newest_tag, split

__all__ = ["custom_jvp"]


class custom_jvp:  # noqa: N801 - lower case as a decorator, like jax.custom_jvp
    """Decorate ``f``; then ``@f.defjvp`` declares its Jacobian-vector product rule."""

    def __init__(self, fun: Callable[..., Any]) -> None:
        errors.check_callable(fun, "custom_jvp")
        self.fun = fun
        self.jvp: Callable[..., Any] | None = None
        functools.update_wrapper(self, fun)

    def defjvp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``rule(primals, tangents) -> (output, output_tangent)`` for this function."""
        errors.check_callable(rule, "defjvp")
        self.jvp = rule
        return rule

    def __call__(self, *args: Any) -> Any:
        tag = newest_tag(args)
        if tag < 0:
            return self.fun(*args)
        if self.jvp is None:
            raise TypeError(
                f"custom_jvp function {self.fun.__name__!r} was called on a dual but has no rule: "
                "declare one with @f.defjvp"
            )
        pairs = [split(a, tag) for a in args]
        primals = tuple(p[0] for p in pairs)
        tangents = tuple(p[1] for p in pairs)
        result = self.jvp(primals, tangents)
        if type(result) not in (tuple, list) or len(result) != 2:
            raise TypeError(
                f"the jvp rule of {self.fun.__name__!r} must return (output, output_tangent)"
            )
        return join(result[0], result[1], tag)
