"""Dense Jacobians of two vector functions written in plain NumPy, at n = 10, 100, 1000.

``tanh(W x + b)`` (a matrix product feeding an elementwise function) and the residual of a 1-D
Brusselator reaction-diffusion system (slicing, concatenation, ``u*u*v``), the kind of function
handed to an implicit ODE solver. The analytic Jacobian written by hand is the limit.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .common import Config, relative_error
from .systems import load
from .timing import Case, Group

NAME = "jacobian"
TITLE = "Dense Jacobian"
DESCRIPTION = (
    "`jacobian(F, x)` (shape `F(x).shape + x.shape`) for `F(x) = tanh(W x + b)` and for the "
    "residual of a 1-D Brusselator (`n/2` grid points of `u` and of `v`, Dirichlet boundaries; "
    "slicing, `np.concatenate`, `u*u*v`). `× f` is the paired ratio to one plain NumPy "
    "evaluation of `F`, `× hand` to the analytic Jacobian written by hand in NumPy (the limit). "
    "numdifftools runs for n ≤ 100 only."
)

# Brusselator: u' = A + u²v - (B+1)u + α u_zz, v' = Bu - u²v + α v_zz on (0, 1), u = A and
# v = B/A at both ends.
A, B, ALPHA = 1.0, 3.0, 0.02
NUMDIFFTOOLS_MAX_N = 100


# -- tanh(W x + b) -------------------------------------------------------------------------------


def tanh_problem(n: int):
    """``F``, the point ``x`` and the parameters ``(W, b)`` of the tanh layer of size ``n``."""
    rng = np.random.default_rng(n)
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    b = rng.standard_normal(n)
    x = rng.standard_normal(n)

    def F(x):
        return np.tanh(W @ x + b)

    return F, x, (W, b)


def tanh_jacobian(x, W, b):
    """``diag(1 - tanh²(W x + b)) W`` (in the precision of the inputs)."""
    y = np.tanh(W @ x + b)
    return (1 - y * y)[:, None] * W


# -- Brusselator ---------------------------------------------------------------------------------


def make_brusselator(concatenate, u_end, v_end):
    """The residual, written once for any array library with slicing and ``concatenate``."""

    def F(x):
        m = x.shape[0] // 2
        u, v = x[:m], x[m:]
        c = ALPHA * (m + 1) ** 2
        uu = concatenate((u_end, u, u_end))
        vv = concatenate((v_end, v, v_end))
        uuv = u * u * v
        fu = A + uuv - (B + 1) * u + c * (uu[:-2] - 2 * u + uu[2:])
        fv = B * u - uuv + c * (vv[:-2] - 2 * v + vv[2:])
        return concatenate((fu, fv))

    return F


brusselator = make_brusselator(np.concatenate, np.array([A]), np.array([B / A]))


def brusselator_point(n: int) -> np.ndarray:
    """A smooth state near the steady state ``u = A, v = B/A``."""
    m = n // 2
    z = np.linspace(0.0, 1.0, m + 2)[1:-1]
    return np.concatenate((A + 0.5 * np.sin(np.pi * z), B / A - 0.5 * np.sin(2 * np.pi * z)))


def brusselator_jacobian(x):
    """The analytic Jacobian: diagonal reaction blocks plus the tridiagonal diffusion stencil."""
    m = x.shape[0] // 2
    u, v = x[:m], x[m:]
    c = ALPHA * (m + 1) ** 2
    J = np.zeros((2 * m, 2 * m), dtype=x.dtype)
    i = np.arange(m)
    J[i, i] = 2 * u * v - (B + 1) - 2 * c
    J[i, m + i] = u * u
    J[m + i, i] = B - 2 * u * v
    J[m + i, m + i] = -u * u - 2 * c
    for offset in (0, m):
        J[offset + i[:-1], offset + i[1:]] = c
        J[offset + i[1:], offset + i[:-1]] = c
    return J


# -- groups --------------------------------------------------------------------------------------


def groups(config: Config) -> list[Group]:
    out = []
    for n in config.sizes([10, 100, 1000], [10, 100]):
        F, x, (W, b) = tanh_problem(n)
        long = (x.astype(np.longdouble), W.astype(np.longdouble), b.astype(np.longdouble))
        reference = tanh_jacobian(*long)
        hand = partial(tanh_jacobian, x, W, b)
        builders = {
            "jax": partial(_jax_tanh, x, W, b),
            "torch": partial(_torch_tanh, x, W, b),
            "autograd": partial(_autograd_tanh, x, W, b),
        }
        out.append(_group(config, f"tanh(W x + b), n = {n:,}", F, x, hand, reference, builders))

        x = brusselator_point(n)
        reference = brusselator_jacobian(x.astype(np.longdouble))
        hand = partial(brusselator_jacobian, x)
        builders = {
            "jax": partial(_jax_brusselator, x),
            "torch": partial(_torch_brusselator, x),
            "autograd": partial(_autograd_brusselator, x),
        }
        title = f"Brusselator, n = {n:,}"
        out.append(_group(config, title, brusselator, x, hand, reference, builders))
    return out


def _group(config, title, F, x, hand, reference, builders) -> Group:
    def error(result):
        return relative_error(result, reference)

    n = x.shape[0]
    cases = [
        Case("f", "numpy", "F(x)", lambda: partial(F, x)),
        Case("hand", "numpy", "analytic Jacobian by hand", lambda: hand, error),
    ]
    if config.use("dualdiff"):
        cases.append(
            Case(
                "dualdiff",
                "dualdiff",
                "jacobian(F, x)",
                partial(_dualdiff, F, x),
                error,
                baseline="hand",
            )
        )
        cases.append(
            Case(
                "dualdiff-jit",
                "dualdiff",
                "jit_jacobian(F)(x), compiled",
                partial(_dualdiff_jit, F, x),
                error,
                baseline="hand",
            )
        )
    methods = {
        "jax": "jax.jit(jax.jacfwd(F))",
        "torch": "torch.func.jacfwd(F)",
        "autograd": "autograd.jacobian(F) (reverse)",
    }
    for system, method in methods.items():
        if config.use(system):
            cases.append(Case(system, system, method, builders[system], error))
    if config.use("numdifftools") and n <= NUMDIFFTOOLS_MAX_N:
        cases.append(
            Case(
                "numdifftools",
                "numdifftools",
                "numdifftools.Jacobian(F)",
                partial(_numdifftools, F, x),
                error,
            )
        )
    return Group(NAME, title, cases, [("× f", "f"), ("× hand", "hand")])


def _dualdiff(F, x):
    dd = load("dualdiff")
    return partial(dd.jacobian, F, x)


def _dualdiff_jit(F, x):
    dd = load("dualdiff")
    return partial(dd.jit_jacobian(F), x)


def _numdifftools(F, x):
    nd = load("numdifftools")
    return partial(nd.Jacobian(F), x)


def _jax_tanh(x, W, b):
    jax = load("jax")
    jnp = jax.numpy
    jac = jax.jit(jax.jacfwd(lambda x, W, b: jnp.tanh(W @ x + b)))
    args = (jnp.asarray(x), jnp.asarray(W), jnp.asarray(b))
    return lambda: jac(*args).block_until_ready()


def _jax_brusselator(x):
    jax = load("jax")
    jnp = jax.numpy
    F = make_brusselator(jnp.concatenate, jnp.array([A]), jnp.array([B / A]))
    jac = jax.jit(jax.jacfwd(F))
    xj = jnp.asarray(x)
    return lambda: jac(xj).block_until_ready()


def _torch_tanh(x, W, b):
    torch = load("torch")
    from torch.func import jacfwd

    Wt, bt = torch.from_numpy(W), torch.from_numpy(b)
    jac = jacfwd(lambda x: torch.tanh(Wt @ x + bt))
    xt = torch.from_numpy(x)
    return lambda: jac(xt)


def _torch_brusselator(x):
    torch = load("torch")
    from torch.func import jacfwd

    def const(value):
        return torch.tensor([value], dtype=torch.float64)

    jac = jacfwd(make_brusselator(torch.cat, const(A), const(B / A)))
    xt = torch.from_numpy(x)
    return lambda: jac(xt)


def _autograd_tanh(x, W, b):
    autograd = load("autograd")
    anp = autograd.numpy
    return partial(autograd.jacobian(lambda x: anp.tanh(anp.dot(W, x) + b)), x)


def _autograd_brusselator(x):
    autograd = load("autograd")
    anp = autograd.numpy
    F = make_brusselator(anp.concatenate, np.array([A]), np.array([B / A]))
    return partial(autograd.jacobian(F), x)
