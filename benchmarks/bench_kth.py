"""The k-th derivative of ``exp(sin x)`` at ``x = 0.7`` for k = 1..8.

Higher derivatives of a scalar function: Taylor mode (dualdiff, jax.experimental.jet) against
nesting first-order forward mode (nested ``jax.jvp``) and numerical differences (numdifftools),
whose accuracy degrades quickly with k (k = 20 too, except in --quick runs). The Faà di Bruno
recurrence written by hand is the limit.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from .common import Config, relative_error
from .systems import load
from .timing import Case, Group

NAME = "kth"
TITLE = "k-th derivative"
DESCRIPTION = (
    "`derivative(f, x, n=k)` for `f(x) = exp(sin x)` at `x = 0.7`. `× f` is the paired ratio to "
    "one plain evaluation of `f` on a float; `× hand` to the recurrence "
    "`g⁽ᵐ⁺¹⁾ = Σⱼ C(m, j) sin⁽ʲ⁺¹⁾(x) g⁽ᵐ⁻ʲ⁾` for `g = exp(sin x)` written by hand (the limit). "
    "The error column shows how numerical differences lose accuracy as k grows. `× jet` is the "
    "ratio to `jax.jit` of `jax.experimental.jet` after its compilation; target (issue #14): "
    "below 1× for k = 1..8 and 20."
)

X0 = 0.7


def f_numpy(x):
    return np.exp(np.sin(x))


PASCAL = [[math.comb(m, j) for j in range(m + 1)] for m in range(21)]


def hand_derivatives(x, k: int) -> list:
    """``[g(x), g'(x), ..., g⁽ᵏ⁾(x)]`` for ``g = exp(sin x)``, from ``g' = sin'·g`` and Leibniz's
    rule; works in the precision of ``x`` (float, or ``np.longdouble`` for the reference)."""
    lib = math if type(x) is float else np
    s, c = lib.sin(x), lib.cos(x)
    sin_derivatives = (c, -s, -c, s)  # sin⁽ʲ⁺¹⁾(x) repeats with period 4
    g = [lib.exp(s)]
    for m in range(k):
        row = PASCAL[m]
        total = 0.0
        for j in range(m + 1):
            total += row[j] * sin_derivatives[j & 3] * g[m - j]
        g.append(total)
    return g


def hand_kth(x: float, k: int) -> float:
    return hand_derivatives(x, k)[k]


def taylor_mode_missing() -> str:
    """Why dualdiff's higher-order rows are skipped ('' once ``derivative(f, x, n=2)`` works)."""
    dd = load("dualdiff")
    try:
        dd.derivative(f_numpy, X0, n=2)
    except NotImplementedError:
        return "skipped until Taylor mode lands: n=2 raises NotImplementedError"
    except Exception:  # any other failure is reported by the row itself, as an error
        return ""
    return ""


def groups(config: Config) -> list[Group]:
    orders = [1, 2, 4, 8] if config.quick else [*range(1, 9), 20]
    reference = hand_derivatives(np.longdouble(X0), max(orders))
    missing = taylor_mode_missing() if config.use("dualdiff") else ""
    out = []
    for k in orders:

        def error(result, k=k):
            return relative_error(result, reference[k])

        def f_error(result):
            return relative_error(result, reference[0])

        cases = [
            Case("f", "numpy", "f(x) on a float", lambda: partial(f_numpy, X0), f_error),
            Case(
                "hand", "numpy", "recurrence by hand", lambda k=k: partial(hand_kth, X0, k), error
            ),
        ]
        if config.use("dualdiff"):
            skip = missing if k > 1 else ""
            cases.append(
                Case(
                    "dualdiff",
                    "dualdiff",
                    "derivative(f, x, n=k)",
                    partial(_dualdiff, k),
                    error,
                    # the target: below 1x jitted jet for k = 1..8 and 20
                    baseline="jax.jet" if config.use("jax") else "hand",
                    target=1.0 if config.use("jax") else None,
                    skip=skip,
                )
            )
        if config.use("jax"):
            cases.append(Case("jax.jet", "jax", "jax.jit(jet(f))", partial(_jax_jet, k), error))
            if k <= 8:  # nesting k first-order passes: 2**k terms, its compile time explodes
                cases.append(
                    Case(
                        "jax.jvp", "jax", "jax.jit(nested jax.jvp)", partial(_jax_nested, k), error
                    )
                )
        if config.use("numdifftools") and k <= 8:
            cases.append(
                Case(
                    "numdifftools",
                    "numdifftools",
                    "numdifftools.Derivative(f, n=k)",
                    partial(_numdifftools, k),
                    error,
                )
            )
        ratios = [("× f", "f"), ("× hand", "hand")]
        if config.use("jax"):  # the target: below 1× jitted jet for k = 1..8 and 20
            ratios.append(("× jet", "jax.jet"))
        out.append(Group(NAME, f"k = {k}", cases, ratios))
    return out


def _dualdiff(k: int):
    dd = load("dualdiff")
    return partial(dd.derivative, f_numpy, X0, n=k)


def _jax_jet(k: int):
    jax = load("jax")
    from jax.experimental import jet

    jnp = jax.numpy

    def kth(x):
        # jet's series are derivatives along the input path x + t: the k-th term is f⁽ᵏ⁾(x).
        _, series = jet.jet(lambda x: jnp.exp(jnp.sin(x)), (x,), ([1.0] + [0.0] * (k - 1),))
        return series[k - 1]

    compiled = jax.jit(kth)
    return lambda: float(compiled(X0))


def _jax_nested(k: int):
    jax = load("jax")
    jnp = jax.numpy

    def f(x):
        return jnp.exp(jnp.sin(x))

    for _ in range(k):
        f = partial(lambda x, g: jax.jvp(g, (x,), (1.0,))[1], g=f)
    compiled = jax.jit(f)
    return lambda: float(compiled(X0))


def _numdifftools(k: int):
    nd = load("numdifftools")
    return partial(nd.Derivative(f_numpy, n=k), X0)
