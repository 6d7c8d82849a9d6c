"""Elementwise JVP: ``y = sin(x)·exp(-x²) + log1p(x²) + tanh(3x)·sqrt(1 + x²)`` on n points.

For large n the interpreter overhead vanishes and what is left is how many array passes each
system makes; the derivative written out by hand in NumPy is the limit for NumPy-based systems.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .common import Config, relative_error
from .systems import load
from .timing import Case, Group

NAME = "jvp"
TITLE = "Elementwise JVP"
DESCRIPTION = (
    "`jvp(f, x, v)` for `f(x) = sin(x)·exp(-x²) + log1p(x²) + tanh(3x)·sqrt(1 + x²)` "
    "elementwise on `n` points, returning `(f(x), f'(x)·v)`. `× f` is the paired ratio to the "
    "plain NumPy evaluation of `f`, `× hand` to the same JVP written out by hand in NumPy (the "
    "limit), `× exact` to the same with tanh's derivative as exact as dualdiff's (`1/cosh²` "
    "where `1 - tanh²` cancels: one more transcendental pass). Targets (issue #14): dualdiff "
    "≤ 1.1× hand at n = 1e5 and 1e6, ≤ 1.5× at n = 1e3. The "
    "compiled row traces `f` once (`dualdiff.jit_jvp`) and runs the generated NumPy code. The "
    "`rules` row makes the NumPy calls of dualdiff's eager rules with nothing between them: "
    "`× rules` is what the eager mode's dispatch costs, and `rules × hand` the least the eager "
    "mode could reach."
)


def f_numpy(x):
    return np.sin(x) * np.exp(-(x**2)) + np.log1p(x**2) + np.tanh(3 * x) * np.sqrt(1 + x**2)


def f_generic(x, lib):
    """The same ``f`` for an array library with NumPy's function names (jax.numpy, torch)."""
    return lib.sin(x) * lib.exp(-(x**2)) + lib.log1p(x**2) + lib.tanh(3 * x) * lib.sqrt(1 + x**2)


def hand_jvp(x, v):
    """``(f(x), f'(x)·v)`` written out by hand, sharing every subexpression."""
    x2 = x * x
    s = np.sin(x)
    e = np.exp(-x2)
    t = np.tanh(3 * x)
    r = np.sqrt(1 + x2)
    y = s * e + np.log1p(x2) + t * r
    dy = (np.cos(x) - 2 * x * s) * e + 2 * x / (1 + x2) + 3 * (1 - t * t) * r + t * x / r
    return y, dy * v


def hand_exact_jvp(x, v):
    """``hand_jvp`` with tanh's derivative as exact as dualdiff's: ``sech²(3x) = 1/cosh²(3x)``
    where ``1 - tanh²`` cancels (118 ulps at 3.7, nothing left from 19 on). The limit for an
    exact derivative: one more transcendental pass than ``hand_jvp``."""
    x2 = x * x
    s = np.sin(x)
    e = np.exp(-x2)
    t = np.tanh(3 * x)
    with np.errstate(over="ignore"):
        c = 1.0 / np.cosh(3 * x)
    r = np.sqrt(1 + x2)
    y = s * e + np.log1p(x2) + t * r
    dy = (np.cos(x) - 2 * x * s) * e + 2 * x / (1 + x2) + 3 * (c * c) * r + t * x / r
    return y, dy * v


def rules_jvp(x, v):
    """What dualdiff's eager ``jvp`` computes for ``f``, NumPy call for NumPy call (the rule
    table's partials, each product written into the partial where dualdiff writes it, the
    copies it makes), with no dispatch between them: the floor of the eager mode, and the
    measure of what dispatch costs (``× rules``)."""
    if x.size < 1 << 15:  # jvp's own copies of small arguments (large ones: read-only views)
        x, v = x.copy(), v.copy()
    t = v.reshape(1, -1)

    def unary(ans, p, t):  # (value, partial · t), the product written into the partial
        return ans, np.multiply(p.reshape(t.shape), t, out=p.reshape(t.shape))

    def safe(ans, p, t):  # a partial that may be infinite: its finiteness checked first
        np.vdot(p, p)
        return unary(ans, p, t)

    def times(a, da, b, db):
        tangent = b * da
        tangent += a * db
        return a * b, tangent

    # each intermediate dropped where f's expression drops it (at large n, the memory held
    # decides how much is fresh pages)
    x2, dx2 = unary(np.square(x), 2.0 * x, t)
    m, dm = -x2, -dx2
    del x2, dx2
    e = np.exp(m)
    de = e * dm  # exp's partial is its value, never written into
    del m, dm
    s, ds = unary(np.sin(x), np.cos(x), t)
    a, da = times(s, ds, e, de)
    del s, ds, e, de
    x2, dx2 = unary(np.square(x), 2.0 * x, t)
    lg, dlg = safe(np.log1p(x2), 1.0 / (1.0 + x2), dx2)
    del x2, dx2
    b, db = a + lg, da + dlg
    del a, da, lg, dlg
    x3, dx3 = 3 * x, t * 3
    th = np.tanh(x3)
    far = np.abs(x3) >= 3.0  # beyond 3 tanh's partial is sech², here on most entries
    if 2 * np.count_nonzero(far) >= far.size:
        with np.errstate(over="ignore"):
            p = np.cosh(x3)
        np.reciprocal(p, out=p)
        np.multiply(p, p, out=p)
    else:
        p = th * th
        np.subtract(1.0, p, out=p)
        with np.errstate(over="ignore"):
            s = 1.0 / np.cosh(x3[far])
        p[far] = s * s
    th, dth = unary(th, p, dx3)
    del x3, dx3
    x2, dx2 = unary(np.square(x), 2.0 * x, t)
    q, dq = 1 + x2, dx2.copy()  # d(1 + u) = du, in an array of its own
    del x2, dx2
    r = np.sqrt(q)
    r, dr = safe(r, 0.5 / (r + 0.0), dq)
    del q, dq
    c, dc = times(th, dth, r, dr)
    del th, dth, r, dr
    return b + c, (db + dc).reshape(x.shape)


def exact_tangent(x, v):
    """``f'(x)·v`` from the closed form, in extended precision."""
    x = np.asarray(x, dtype=np.longdouble)
    v = np.asarray(v, dtype=np.longdouble)
    sin, cos, exp, tanh, sqrt = np.sin, np.cos, np.exp, np.tanh, np.sqrt
    derivative = (
        cos(x) * exp(-x * x)
        - 2 * x * sin(x) * exp(-x * x)
        + 2 * x / (1 + x * x)
        + 3 * (1 - tanh(3 * x) ** 2) * sqrt(1 + x * x)
        + tanh(3 * x) * x / sqrt(1 + x * x)
    )
    return derivative * v


def point(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The input ``x`` (spread over [-3, 3]) and a random direction ``v``."""
    rng = np.random.default_rng(n)
    x = np.linspace(-3.0, 3.0, n) + rng.uniform(-1e-3, 1e-3, n)
    return x, rng.standard_normal(n)


def groups(config: Config) -> list[Group]:
    out = []
    for n in config.sizes([1_000, 100_000, 1_000_000], [1_000, 100_000]):
        x, v = point(n)
        reference = exact_tangent(x, v)

        def error(result, reference=reference):
            return relative_error(result[1], reference)

        def f_error(result, x=x):
            return relative_error(result, f_numpy(np.asarray(x, dtype=np.longdouble)))

        target = 1.5 if n < 10_000 else 1.1  # issue #14
        cases = [
            Case("f", "numpy", "f(x)", lambda x=x: partial(f_numpy, x), f_error),
            Case(
                "hand",
                "numpy",
                "f and f'·v by hand",
                lambda x=x, v=v: partial(hand_jvp, x, v),
                error,
            ),
            Case(
                "hand-exact",
                "numpy",
                "the same by hand, tanh' as sech² (exact)",
                lambda x=x, v=v: partial(hand_exact_jvp, x, v),
                error,
            ),
            Case(
                "rules",
                "numpy",
                "dualdiff's rules without dispatch (the eager floor)",
                lambda x=x, v=v: partial(rules_jvp, x, v),
                error,
            ),
        ]
        if config.use("dualdiff"):
            cases.append(
                Case(
                    "dualdiff",
                    "dualdiff",
                    "jvp(f, x, v), f with np.*",
                    partial(_dualdiff, x, v),
                    error,
                    baseline="hand",
                    target=target,
                )
            )
            cases.append(
                Case(
                    "dualdiff-jit",
                    "dualdiff",
                    "jit_jvp(f)(x, v), compiled",
                    partial(_dualdiff_jit, x, v),
                    error,
                    baseline="hand",
                    target=target,
                )
            )
        if config.use("jax"):
            cases.append(Case("jax", "jax", "jax.jit(jax.jvp)", partial(_jax, x, v), error))
        if config.use("torch"):
            cases.append(Case("torch", "torch", "torch.func.jvp", partial(_torch, x, v), error))
        ratios = [("× f", "f"), ("× hand", "hand"), ("× exact", "hand-exact"), ("× rules", "rules")]
        out.append(Group(NAME, f"n = {n:,}", cases, ratios))
    return out


def _dualdiff(x, v):
    dd = load("dualdiff")
    return partial(dd.jvp, f_numpy, x, v)


def _dualdiff_jit(x, v):
    dd = load("dualdiff")
    return partial(dd.jit_jvp(f_numpy), x, v)


def _jax(x, v):
    jax = load("jax")
    jnp = jax.numpy
    jvp = jax.jit(lambda x, v: jax.jvp(partial(f_generic, lib=jnp), (x,), (v,)))
    xj, vj = jnp.asarray(x), jnp.asarray(v)
    return lambda: jax.block_until_ready(jvp(xj, vj))


def _torch(x, v):
    torch = load("torch")
    from torch.func import jvp

    xt, vt = torch.from_numpy(x), torch.from_numpy(v)
    f = partial(f_generic, lib=torch)
    return lambda: jvp(f, (xt,), (vt,))
