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

import numpy as np

from .core import errors
from .core.tags import NEWEST_TAG
from .dual.dual import Dual
from .dual.seed import directions, is_sequence, join, newest_tag, rebuild, split
from .rules.elementwise import is_dual

__all__ = ["custom_jvp"]


class custom_jvp:  # noqa: N801 - lower case as a decorator, like jax.custom_jvp
    """A function with a derivative rule of your own: decorate ``f``, then declare the rule.

    ``@f.defjvp`` registers ``rule(primals, tangents) -> (output, output_tangent)``; every
    differentiation (``derivative``, ``jvp``, ``jacobian``, nesting) then uses the rule instead of
    differentiating ``f``'s body. Use it for a function whose body is not differentiable by
    dualdiff (a call into compiled code, an iterative solver) or whose derivative has a better
    formula than the chain rule through its body.

    Parameters
    ----------
    fun : callable
        The function, of one or more arguments.

    See Also
    --------
    jvp

    Notes
    -----
    When the arguments carry several tangent directions at once (inside ``jacobian``), the rule is
    called once per direction, so it may be written for a single tangent. A rule that handles a
    leading direction axis itself can say so with ``f.defjvp(rule, batched=True)``: it is then
    called once with tangents of shape ``(k,) + x.shape``.

    Examples
    --------
    >>> @dd.custom_jvp
    ... def softplus(x):
    ...     return np.log1p(np.exp(x))
    >>> @softplus.defjvp
    ... def softplus_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return softplus(x), t / (1 + np.exp(-x))
    >>> print(dd.derivative(softplus, 0.0))  # the logistic sigmoid at 0
    0.5
    >>> dd.jacobian(softplus, np.zeros(2))
    array([[0.5, 0. ],
           [0. , 0.5]])
    """

    def __init__(self, fun: Callable[..., Any]) -> None:
        errors.check_callable(fun, "custom_jvp")
        self.fun = fun
        self.jvp: Callable[..., Any] | None = None
        self.batched = False
        functools.update_wrapper(self, fun)

    def defjvp(self, rule: Callable[..., Any], batched: bool = False) -> Callable[..., Any]:
        """Register ``rule(primals, tangents) -> (output, output_tangent)`` for this function."""
        errors.check_callable(rule, "defjvp")
        self.jvp = rule
        self.batched = batched
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
        carrier = _dependency_carrier(args) if tag == NEWEST_TAG else None
        if carrier is not None:
            # the sparsity tracer: the rule's output tangent, with the traced inputs as their
            # own tangents, depends on every input the derivative can (and maybe on more)
            primals = tuple(carrier.rule_primal(a) for a in args)
            tangents = tuple(a if _dependency_carrier(a) else split(a, tag)[1] for a in args)
            out, tangent = self._rule(primals, tangents)
            return carrier.rule_result(out, tangent)
        pairs = [split(a, tag) for a in args]
        primals = tuple(p[0] for p in pairs)
        tangents = tuple(p[1] for p in pairs)
        batched = any(_batched(a, tag) for a in args)
        if not batched or self.batched:
            out, tangent = self._rule(primals, tangents)
            return self._join(out, tangent, tag, batched)
        # a leading axis of directions (inside jacobian, even a chunk of one): the rule is
        # written for one direction, so it is called once per direction
        results = [
            self._rule(primals, tuple(_pick(t, j, a, tag) for t, a in zip(tangents, args)))
            for j in range(directions(args, tag))
        ]
        out = results[0][0]
        return self._join(out, _stack_tangents([r[1] for r in results]), tag, True)

    def _join(self, out: Any, tangent: Any, tag: int, batched: bool) -> Any:
        try:
            return join(out, tangent, tag, batched=batched)
        except ValueError as error:  # a tangent that does not fit the output: say whose rule
            raise ValueError(f"the jvp rule of {self.fun.__name__!r}: {error}") from None

    def _rule(self, primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
        result = self.jvp(primals, tangents)  # type: ignore[misc]
        if type(result) not in (tuple, list) or len(result) != 2:
            raise TypeError(
                f"the jvp rule of {self.fun.__name__!r} must return (output, output_tangent)"
            )
        return result[0], result[1]


def _dependency_carrier(a: Any) -> Any:
    """The type of a carrier of dependencies (the sparsity tracer), not of tangents, that ``a``
    holds, or None."""
    if is_sequence(a):
        return next(filter(None, map(_dependency_carrier, a)), None)
    return type(a) if getattr(type(a), "carries_dependencies", False) else None


def _batched(a: Any, tag: int) -> bool:
    """Whether argument ``a`` (or an item of it) carries a leading axis of directions at ``tag``."""
    if is_sequence(a):
        return any(_batched(item, tag) for item in a)
    if not is_dual(a) or a.tag != tag:
        return False
    if type(a) is Dual:
        t = a.tangent
        return type(t) is np.ndarray and t.ndim == 1
    return a.batched


def _pick(tangent: Any, j: int, a: Any, tag: int) -> Any:
    """Direction ``j`` of argument ``a``'s tangent (one without a direction axis is shared)."""
    if tangent is None:
        return None
    if is_sequence(a):
        return rebuild(tangent, [_pick(t, j, item, tag) for t, item in zip(tangent, a)])
    return tangent[j] if _batched(a, tag) else tangent


def _stack_tangents(tangents: list[Any]) -> Any:
    first = tangents[0]
    if is_sequence(first):
        return rebuild(
            first, [_stack_tangents([t[i] for t in tangents]) for i in range(len(first))]
        )
    return np.stack([np.asarray(t) if not is_dual(t) else t for t in tangents])
