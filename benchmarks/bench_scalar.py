"""Scalar derivative latency: ``f(x) = 1 / (1 + exp(-2x))`` at ``x = 0.3``.

The cost of one derivative of a small scalar function, relative to evaluating the same function on
a float. This is the per-operation overhead of a dual number, which dominates scalar code.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from .common import Config, relative_error
from .systems import load
from .timing import Case, Group

NAME = "scalar"
TITLE = "Scalar derivative latency"
DESCRIPTION = (
    "`derivative` of `f(x) = 1/(1 + exp(-2x))` at `x = 0.3`. `× f` is the paired ratio to the "
    "plain-float evaluation of the same `f` (the dualdiff rows: written with the same `exp`; the "
    "anchors: the `np.exp` version); `× f(math.exp)` is the ratio to the fastest plain version. "
    "Targets (issue #14), both as `× f(math.exp)`: ≤ 8× with `dualdiff.exp`, ≤ 15× with "
    "`np.exp`. `× plain dual` is the ratio to a minimal pure-Python dual class (value and "
    "tangent in slots, only the operations `f` uses, no checks, tags or dispatch): the floor "
    "of any forward mode written in Python."
)

X0 = 0.3


def exact_derivative(x: float):
    """``f'(x) = 2 s (1 - s)`` with ``s = f(x)``, in extended precision."""
    s = 1 / (1 + np.exp(np.longdouble(-2) * np.longdouble(x)))
    return 2 * s * (1 - s)


def f_numpy(x):
    return 1 / (1 + np.exp(-2 * x))


def f_math(x):
    return 1 / (1 + math.exp(-2 * x))


def hand_derivative(x: float) -> float:
    """The derivative written out by hand: the limit for any scalar AD."""
    s = 1 / (1 + math.exp(-2 * x))
    return 2 * s * (1 - s)


class PlainDual:
    """The least a dual number in pure Python can be: a value and a tangent in slots, and only
    the operations ``f`` uses, with no checks, no tags (so no nesting), no NumPy dispatch and no
    domain handling. What a derivative costs with it is the floor of any pure-Python forward
    mode, dualdiff's included (reported as ``× plain dual``)."""

    __slots__ = ("value", "tangent")

    def __init__(self, value: float, tangent: float) -> None:
        self.value, self.tangent = value, tangent

    def __rmul__(self, c: float) -> PlainDual:
        return PlainDual(c * self.value, c * self.tangent)

    def __radd__(self, c: float) -> PlainDual:
        return PlainDual(c + self.value, self.tangent)

    def __rtruediv__(self, c: float) -> PlainDual:
        q = c / self.value
        return PlainDual(q, -q * self.tangent / self.value)

    def exp(self) -> PlainDual:
        e = math.exp(self.value)
        return PlainDual(e, e * self.tangent)


def plain_dual_derivative(x: float) -> float:
    """``f'(x)`` with ``PlainDual``: ``f`` written with its ``exp``."""
    return (1 / (1 + (-2 * PlainDual(x, 1.0)).exp())).tangent


def groups(config: Config) -> list[Group]:
    reference = exact_derivative(X0)

    def error(result):
        return relative_error(result, reference)

    def f_error(result):
        return relative_error(result, 1 / (1 + np.exp(np.longdouble(-2) * np.longdouble(X0))))

    cases = [
        Case("f", "numpy", "f(x) on a float, np.exp", lambda: partial(f_numpy, X0), f_error),
        Case("f(dualdiff.exp)", "numpy", "f(x) on a float, dualdiff.exp", _plain_dualdiff, f_error),
        Case(
            "f(math.exp)",
            "numpy",
            "f(x) on a float, math.exp",
            lambda: partial(f_math, X0),
            f_error,
        ),
        Case(
            "hand",
            "numpy",
            "2 s (1 - s) by hand, math.exp",
            lambda: partial(hand_derivative, X0),
            error,
        ),
        Case(
            "plain dual",
            "numpy",
            "a minimal pure-Python dual class (the floor of any)",
            lambda: partial(plain_dual_derivative, X0),
            error,
        ),
    ]
    if config.use("dualdiff"):
        cases += [
            Case(
                "dualdiff.exp",
                "dualdiff",
                "derivative(f, x), f with dualdiff.exp",
                _dualdiff_dd,
                error,
                baseline="f(math.exp)",
                target=8.0,
                reference="f(dualdiff.exp)",
            ),
            Case(
                "dualdiff.np",
                "dualdiff",
                "derivative(f, x), f with np.exp",
                _dualdiff_np,
                error,
                baseline="f(math.exp)",
                target=15.0,
                reference="f",
            ),
        ]
    anchors = [
        ("fastdual", "Dual(x); f(x).der(x), np.exp", _fastdual),
        ("jax", "jax.jit(jax.grad(f)), float()", _jax),
        ("uncertainties", "ufloat(x, 1); f(x).derivatives[x], umath.exp", _uncertainties),
        ("dualpy", "derivative(f)(x), np.exp", _dualpy),
        ("ad", "adnumber(x); f(x).d(x), admath.exp", _ad),
        ("torch", "torch.autograd.grad, float64 tensor, .item()", _torch),
        ("num-dual", "first_derivative(f, x), np.exp", _num_dual),
        ("autograd", "autograd.grad(f), autograd.numpy.exp", _autograd),
    ]
    for system, method, build in anchors:
        if config.use(system):
            cases.append(Case(system, system, method, build, error))
    title = "f(x) = 1/(1 + exp(-2x)) at x = 0.3"
    ratios = [("× f", None), ("× f(math.exp)", "f(math.exp)"), ("× plain dual", "plain dual")]
    return [Group(NAME, title, cases, ratios)]


# -- builders: each returns the zero-argument call that is timed -----------------------------


def _plain_dualdiff():
    dd = load("dualdiff")
    return partial(lambda x: 1 / (1 + dd.exp(-2 * x)), X0)


def _dualdiff_dd():
    dd = load("dualdiff")
    return partial(dd.derivative, lambda x: 1 / (1 + dd.exp(-2 * x)), X0)


def _dualdiff_np():
    dd = load("dualdiff")
    return partial(dd.derivative, f_numpy, X0)


def _fastdual():
    fd = load("fastdual")

    def call():
        x = fd.Dual(X0)
        return f_numpy(x).der(x)

    return call


def _jax():
    jax = load("jax")
    jnp = jax.numpy
    grad = jax.jit(jax.grad(lambda x: 1 / (1 + jnp.exp(-2 * x))))
    return lambda: float(grad(X0))


def _uncertainties():
    uncertainties = load("uncertainties")
    from uncertainties import umath

    def call():
        x = uncertainties.ufloat(X0, 1.0)
        return (1 / (1 + umath.exp(-2 * x))).derivatives[x]

    return call


def _dualpy():
    dualpy = load("dualpy")
    return partial(dualpy.derivative(f_numpy), X0)


def _ad():
    ad = load("ad")
    from ad import admath

    def call():
        x = ad.adnumber(X0)
        return (1 / (1 + admath.exp(-2 * x))).d(x)

    return call


def _torch():
    torch = load("torch")

    def call():
        x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad(1 / (1 + torch.exp(-2 * x)), x)
        return grad.item()

    return call


def _num_dual():
    num_dual = load("num-dual")
    return lambda: num_dual.first_derivative(f_numpy, X0)[1]


def _autograd():
    autograd = load("autograd")
    anp = autograd.numpy
    return partial(autograd.grad(lambda x: 1 / (1 + anp.exp(-2 * x))), X0)
