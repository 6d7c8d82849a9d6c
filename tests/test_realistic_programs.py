"""Hand-written numerical programs, the way scientists and students write them, through every mode.

The generated programs of the adversarial suite combine entries of the function tables; these are
written the way people write NumPy: right-hand sides of ODEs filled into preallocated arrays,
stencils with slices and ``np.roll``, losses with max-subtraction and masks, pairwise distances
with their zero diagonal, Gaussian likelihoods, Python loops and builtins, in-place updates through
views, lists of scalars built in Python and handed to NumPy.

Every program runs through eager ``jacobian`` (all directions at once and one per pass), ``jvp``,
``hessian`` (scalar programs), Taylor mode (order 2 along a direction), ``jit_jvp`` and
``jit_jacobian`` (each traced at one point and replayed at another), ``jacobian_sparsity`` (its
pattern covers every non-zero) and ``jacobian(..., sparsity="auto")``. The references are plain
NumPy (values) and central differences of the plain program (``reference.py``); every mode also
checks that the caller's array is left as it was. A mode that refuses a program is a declared
gap (``GAPS``): a strict xfail expecting the TypeError that names the construct.
"""

from __future__ import annotations

import copy
import functools
import warnings

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian
from reference import second

import dualdiff as dd

PROGRAMS: dict[str, tuple] = {}

X6 = np.array([0.55, 0.8, 0.95, 1.1, 1.3, 1.45])  # entries apart by more than the FD stencil
X4 = np.array([0.55, 0.8, 1.1, 1.45])


def program(x):
    def register(f):
        PROGRAMS[f.__name__] = (f, np.asarray(x))
        return f

    return register


# -- ODE right-hand sides and residuals --------------------------------------------------------


@program([1.2, 0.7])
def lotka_volterra(u):
    out = np.empty_like(u)
    out[0] = 1.1 * u[0] - 0.4 * u[0] * u[1]
    out[1] = 0.1 * u[0] * u[1] - 0.4 * u[1]
    return out


@program(X6)
def heat_dirichlet(u):
    out = np.zeros_like(u)
    out[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:]
    out[0] = u[1] - 2 * u[0]
    out[-1] = u[-2] - 2 * u[-1]
    return out / 0.1**2


@program(X6)
def burgers_periodic(u):
    dx = 0.1
    up, um = np.roll(u, -1), np.roll(u, 1)
    return -u * (up - um) / (2 * dx) + (up - 2 * u + um) / dx**2


@program(X6)
def residual_fancy_index(u):
    r = u.copy()
    i = np.arange(1, 5)
    r[i] = u[i - 1] - 2 * u[i] + u[i + 1] - 0.1 * u[i] ** 3
    r[[0, -1]] = u[[0, -1]] - 1.0
    return r


@program(X6)
def masked_fill(u):
    out = np.zeros(u.shape[0], like=u)
    even = np.arange(u.size) % 2 == 0
    out[even] = np.sin(u[even])
    out[~even] = u[~even] ** 2
    return out


@program(X6)
def scatter_add(u):
    out = np.zeros_like(u)
    np.add.at(out, np.array([0, 1, 1, 3, 3, 3]), u * u)
    out[np.array([2, 2, 4])] += u[:3]  # buffered: one write per repeated index, as NumPy
    return out


@program(X6)
def laplace_2d_edge(u):
    grid = u.reshape(2, 3)
    p = np.pad(grid, 1, mode="edge")
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * grid
    return lap.ravel()


@program([1.5, 0.2])
def rk4_pendulum(p):
    def rhs(y):
        return np.array([y[1], -p[0] * np.sin(y[0]) - p[1] * y[1]])

    y, h = np.array([1.0, 0.0]), 0.1
    for _ in range(3):
        k1 = rhs(y)
        k2 = rhs(y + h / 2 * k1)
        k3 = rhs(y + h / 2 * k2)
        k4 = rhs(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


@program(X6)
def integrators(x):
    v = np.cumsum(x) * 0.1
    position = np.cumsum(v) * 0.1
    return np.concatenate([position, [np.trapezoid(v, dx=0.1)], np.gradient(x**2, 0.1)])


@program(X6)
def ghost_cells(u):
    # Neumann ghost cells as one often writes them: the compiler returned the ghost entries as
    # constants (Jacobian off by 0.5) and leaked traced duals into the value
    padded = np.concatenate(([u[0]], u, [u[-1]]))
    periodic = np.r_[u[-1], u, u[0]]
    return padded[2:] - 2 * padded[1:-1] + padded[:-2] + periodic[2:] - periodic[:-2]


@program(X6 * np.array([1, -1, 1, 1, -1, 1]))
def minmod_limiter(u):
    a, b = np.diff(u)[1:], np.diff(u)[:-1]
    return np.where(a * b > 0, np.sign(a) * np.minimum(np.abs(a), np.abs(b)), 0.0) * u[1:-1]


@program(X6)
def diff_stencil(u):
    return np.diff(u, n=2) / 0.01 + np.diff(u**2, prepend=0.0, append=u[-1])[1:-2]


# -- losses ------------------------------------------------------------------------------------


@program(X6)
def softmax_cross_entropy(z):
    z = z.reshape(2, 3)
    m = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
    return np.mean(lse - z[np.arange(2), [0, 2]])


@program([0.3, -0.2, 0.5, 0.1, 0.2, 0.05])
def relu_mlp(w):
    inputs = np.array([[1.0, -2.0], [0.5, 0.3], [-1.0, 1.0]])
    hidden = np.maximum(inputs @ w[:4].reshape(2, 2) + w[4:], 0)
    return np.sum(hidden**2)


@program([0.3, -2.0, 1.5, -0.2])
def huber(r, d=1.0):
    a = np.abs(r)
    return np.sum(np.where(a <= d, 0.5 * r**2, d * (a - 0.5 * d)))


@program(X6)
def statistics_ddof(x):
    x = x.reshape(2, 3)
    var = x.var(axis=1, ddof=1)
    std = x.std(axis=0, ddof=1, keepdims=True).ravel()
    return np.concatenate([var, std, [x.mean()]])  # a dual scalar in a list of its own


@program(X6)
def normalise_rows(x):
    rows = x.reshape(3, 2)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return np.concatenate([unit.ravel(), [np.linalg.norm(x, 1), np.linalg.norm(x, np.inf)]])


@program(X6)
def masked_reductions(x):
    m = np.array([True, False, True, True, False, True])
    return np.array(
        [np.mean(x, where=m), np.sum(x**2, where=m), np.nanmean(np.where(m, x, np.nan))]
    )


@program(X6)
def variance_where(x):
    # var and std with where= were refused by every mode but the sparsity tracer
    m = np.array([[True, False, True], [True, True, True]])
    grid = x.reshape(2, 3)
    return np.concatenate([np.var(grid, axis=1, where=m, ddof=1), [np.std(x, where=x > 0.9)]])


@program(X6)
def stable_log_sigmoid(x):
    return np.sum(-np.logaddexp(0, -x)) + np.sum(np.where(x > 1.0, x, np.log1p(np.exp(x))))


# -- physics and statistics --------------------------------------------------------------------


@program(X6)
def pairwise_kernel(x):
    points = x.reshape(3, 2)
    d = points[:, None, :] - points[None, :, :]  # zero on the diagonal, with a zero tangent
    r = np.sqrt(np.sum(d**2, axis=-1))
    return np.sum(np.exp(-r)) + np.sum(np.exp(-np.einsum("ijk,ijk->ij", d, d)))


@program(X6)
def coulomb(x):
    points = x.reshape(3, 2)
    r = np.linalg.norm(points[:, None] - points[None, :], axis=-1)
    np.fill_diagonal(r, np.inf)
    return 0.5 * np.sum(1.0 / r) + np.sum(1.0 / r[np.triu_indices(3, 1)])


@program(X6)
def lennard_jones(x):
    points = x.reshape(3, 2) * 1.5
    r2 = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)
    off = ~np.eye(3, dtype=bool)
    inv6 = np.where(off, 1.0 / np.where(off, r2, 1.0) ** 3, 0.0)
    return 0.5 * np.sum(4 * (inv6**2 - inv6))


@program(X6)
def spring_forces(x):
    points = x.reshape(3, 2)
    edges = np.array([[0, 1], [1, 2], [0, 2]])
    d = points[edges[:, 0]] - points[edges[:, 1]]
    length = np.linalg.norm(d, axis=1)
    f = ((length - 0.5) / length)[:, None] * d
    forces = np.zeros_like(points)
    np.add.at(forces, edges[:, 0], -f)
    np.add.at(forces, edges[:, 1], f)
    return forces.ravel()


@program(X6)
def leapfrog_in_place(state):
    q, p, h = state[:3].copy(), state[3:].copy(), 0.05
    for _ in range(5):
        p -= 0.5 * h * (q + 0.1 * q**3)
        q += h * p
        p -= 0.5 * h * (q + 0.1 * q**3)
    return np.concatenate([q, p])


@program(X6)
def attention(x):
    q = x.reshape(2, 3)
    k, v = q[::-1] * 0.5, q**2
    s = np.einsum("id,jd->ij", q, k) / np.sqrt(3)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return (w @ v).ravel()


@program([0.3, 1.5, -0.5, -0.2, 0.1, -0.1])
def mixture_log_likelihood(x):
    data = np.array([0.1, 0.5, 1.2, 2.0])
    mu, log_s, log_w = x[:2], x[2:4], x[4:]
    w = np.exp(log_w) / np.exp(log_w).sum()
    ll = -0.5 * ((data[:, None] - mu) / np.exp(log_s)) ** 2 - log_s - 0.5 * np.log(2 * np.pi)
    ll = ll + np.log(w)
    m = ll.max(axis=1, keepdims=True)
    return np.sum(m[:, 0] + np.log(np.exp(ll - m).sum(axis=1)))


@program([1.1, 0.6])
def gp_log_likelihood(theta):
    t = np.array([0.1, 0.5, 0.9, 1.4])
    y = np.array([0.2, 0.4, -0.1, 0.3])
    k = theta[0] ** 2 * np.exp(-((t[:, None] - t[None, :]) ** 2) / (2 * theta[1] ** 2))
    k = k + 0.1 * np.eye(4)
    chol = np.linalg.cholesky(k)
    alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, y))
    _, logdet = np.linalg.slogdet(k)
    return -0.5 * y @ alpha - np.log(np.diag(chol)).sum() + 0.0 * logdet


@program([0.3, 0.2])
def kalman_log_likelihood(x):
    f, h = np.array([[1.0, 0.1], [0.0, 1.0]]), np.array([[1.0, 0.0]])
    q, r = np.eye(2) * x[0] ** 2, np.array([[x[1] ** 2]])
    m, p, ll = np.zeros(2), np.eye(2), 0.0
    for y in (0.3, 0.5, 0.4):
        m, p = f @ m, f @ p @ f.T + q
        s = h @ p @ h.T + r
        k = p @ h.T @ np.linalg.inv(s)
        e = y - h @ m
        ll = ll - 0.5 * (np.log(np.linalg.det(s)) + e @ np.linalg.solve(s, e))
        m, p = m + k @ e, (np.eye(2) - k @ h) @ p
    return ll


@program(X4)
def tridiagonal_solve(x):
    a = np.diag(2 + x**2) + np.diag(-np.ones(3), 1) + np.diag(-np.ones(3), -1)
    return np.linalg.solve(a, np.ones(4))


@program(X6)
def covariance(x):
    data = x.reshape(3, 2)
    centred = data - data.mean(axis=0)
    c = centred.T @ centred / (data.shape[0] - 1)
    return np.concatenate([c.ravel(), np.cov(data.T).ravel(), [np.corrcoef(x[:3], x[3:])[0, 1]]])


@program(X6)
def polynomial_and_interp(x):
    fit = np.polyval(x[:3], x[3:])
    table = np.interp(x[3:] ** 2, [0.0, 1.0, 2.0, 3.0], np.sin([0.0, 1.0, 2.0, 3.0]))
    return np.concatenate([fit, table, np.interp([0.3, 1.7], [0.0, 1.0, 2.0], x[:3])])


@program(X4)
def eigen_loss(x):
    a = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]]) + np.diag(x[:3])
    w, v = np.linalg.eigh(a)
    return w[0] + np.sum(v[:, 0] ** 4)


@program(X4)
def matrix_exponential_series(x):
    a = x.reshape(2, 2) * 0.3
    e, term = np.eye(2), np.eye(2)
    for k in range(1, 8):
        term = term @ a / k
        e = e + term
    return e.ravel()


@program(X6)
def complex_phasors(x):
    z = x[:3] + 1j * x[3:]
    w = z * z.conj() + z**2
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    return np.concatenate([w.real, w.imag, [np.angle(z[0])], np.exp(1j * x).real, spectrum])


@program(X6.astype(np.float32))
def float32_input(x):
    return np.sin(x) * x**2 + np.sum(x)


@program(X6)
def sorted_weights(x):
    return np.sort(x**2)[::-1] * np.arange(6) + x[np.argsort(x)] * np.arange(6)


@program(X6)
def piecewise_select(x):
    a = np.piecewise(x, [x < 1.0, x >= 1.0], [lambda t: t**2, lambda t: 2 * t - 1])
    b = np.select([x < 0.75, x < 1.2], [x**2, np.sin(x)], default=x**3)
    return a + b + np.vectorize(lambda t: t**2 + np.sin(t))(x)


# -- Python-level code -------------------------------------------------------------------------


@program(X6)
def python_loops(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            s = s + 1.0 / abs(x[i] - x[j] + 3.0)
    total = 0
    for v in x.reshape(2, 3).flat:
        total = total + v**2
    return s + total + (x[2] ** 2 + x[3] ** 2) ** 0.5


@program(X6)
def python_builtins(x):
    return sum(x**2) + max(x) * min(x) + sum([abs(v) for v in x]) + max(x[0], x[1])


@program(X6)
def lists_of_duals(x):
    # lists holding dual scalars as operands of operators, ufuncs and NumPy functions
    pair = [x[0] ** 2, x[1]]
    a = x[:2] ** 2 * pair + np.maximum(x[1:3], pair) - [1.0, x[5]]
    b = np.hstack([x[:2] ** 2, [x[2] ** 2]])
    c = np.dot(pair, x[4:] ** 2)
    d = np.where([True, False], pair, x[4:])
    return np.concatenate([a, b, [c], d, np.append(x[3:5], [x[0] ** 3, x[1]])])


@program(X6)
def array_from_list(x):
    rows = [x[i + 1] - x[i] ** 2 for i in range(len(x) - 1)]
    return np.array(rows) + np.asarray([x[i] * x[i - 1] for i in range(len(x) - 1)])


@program(X6)
def inplace_views(x):
    y = x.copy()
    v = y[::2]
    v *= 2
    v += y[1::2] ** 2
    w = y[1:4]
    w **= 2
    w /= y[0]
    out = np.empty_like(y)
    out[...] = y**2
    np.sin(0.1 * out[:3], out=out[3:])
    np.copyto(out[:2], np.cos(x[:2]))
    return out


@program(X6)
def copyto_where_and_out(x):
    y = np.ones_like(x)
    np.copyto(y, x**2, where=np.arange(6) % 2 == 0)
    z = np.empty_like(x)
    np.multiply(x, y, out=z)
    return z


@program(X4)
def matrix_assembly(x):
    a = np.zeros((4, 4), like=x)
    a[np.arange(4), np.arange(4)] = x + 3.0
    a[0, 1:] = x[1:] * 0.1
    a[np.diag_indices(4)] += x**2
    return np.linalg.inv(a).ravel()


@program(X6)
def unpacking_and_splits(x):
    a, b, *rest = x
    p, q, r = np.split(x, 3)
    return np.concatenate([np.array(rest) * a + b, p * q + r**2])


# -- what this hunt found, one small program each ---------------------------------------------
#
# A list holding dual scalars as an operand was taken as a constant: NumPy hands the list itself
# to the carrier, which made an object array of it (eager jacobian of x**2 + [x[0]**2, 1, x[1]]
# lost the list's derivatives; np.hstack([x[:2], [x[2]**2]]) returned an object array whose
# tangent row was 0; Taylor mode, the compiler and the sparsity pattern likewise). Now the list is
# stacked into the carrier's array wherever NumPy would make an array of it.

X3 = np.array([0.7, 1.2, 0.9])


@program(X3)
def found_list_operand_of_operators(x):
    a = x**2 * [x[0] ** 2, 1.0, x[1]] + ([x[1], x[2], 1.0] - x) + [x[0], x[1], 0.5] @ x
    return a + x ** [x[2], 2.0, 0.5] + [[x[1], 1.0, 2.0]] / x  # (x ** list: the compiler)


@program(X3)
def found_list_operand_of_ufuncs(x):
    a = np.maximum(x**2, [x[0] ** 2, 1.0, x[1]]) + np.hypot([x[0], x[1], 0.5], x)
    b = np.add(x, (x[2] ** 3, 0.0, x[0]))
    return a + b + np.clip(x, [x[1] - 0.6, 0.5, 1.0], 2.0) * x  # (clip: Taylor mode refused)


@program(X3)
def found_list_in_a_sequence(x):
    return np.concatenate(
        [
            np.concatenate([x[:2] ** 2, [x[2] ** 2]]),
            np.hstack([x[:2] ** 2, (x[2] ** 2, 1.0)]),
            np.vstack([x[:2], [x[2] ** 2, x[0] * x[1]]]).ravel(),
            np.column_stack([x, [x[0] ** 2, 1.0, 2.0]]).ravel(),
            np.append(x**2, [x[0] ** 3, x[1]]),
            np.stack([x[:2], [x[2] ** 2, 1.0]]).ravel(),
        ]
    )


@program(X3)
def found_list_as_an_array_operand(x):
    pair = [x[0] ** 2, x[1]]
    return np.concatenate(
        [
            [np.dot(pair, x[1:] ** 2), np.einsum("i,i->", pair, x[1:])],
            np.outer(pair, x).ravel(),
            np.where([True, False], pair, x[1:] ** 2),
            np.dot([x[:2], x[1:] ** 2], x[:2]),  # a list of arrays: a matrix
            np.linalg.solve([x[:2] + 2, x[1:]], x[:2]),
        ]
    )


@program(X3)
def found_list_written_into_an_array(x):
    out = np.zeros_like(x)
    out[:2] = [x[0] ** 2, x[1] * x[2]]  # refused by eager and Taylor mode as "a float array"
    grid = np.zeros_like(x, shape=(2, 2))
    grid[...] = [[x[0], x[1] ** 2], [1.0, x[2]]]
    part = np.zeros_like(x[:2])
    np.copyto(part, [x[2] ** 2, x[0]])
    np.add.at(part, [0, 1, 1], [x[0] ** 2, x[1], x[2] * x[0]])  # the compiler: a ValueError
    return np.concatenate([out, grid.ravel(), part])


@program(X3)
def found_lists_in_a_scalar_loss(x):
    # the same lists inside a loss, so the Hessian (forward over forward) meets them too
    loss = np.sum(x**2 * [x[0], 1.0, x[1]]) + np.dot([x[0] ** 2, x[1]], x[1:])
    loss = loss + np.sum(np.concatenate([x, [x[0] * x[2]]]) ** 2)
    return loss + np.sum(np.pad(x, 1, constant_values=x[0] * x[1]) ** 3)


@program(X3)
def found_pad_with_a_dual_constant(x):
    # eager refused constant_values= holding a dual, which the other modes take
    return np.concatenate(
        [np.pad(x**2, 1, constant_values=x[2] ** 2), np.pad(x, (1, 0), constant_values=[x[1]])]
    )


@program(X6)
def found_copy_module(x):
    # copy.copy(x) of a carrier was Python's shallow copy sharing the value: a write into the
    # copy reached x (eager jacobian and the sparsity pattern silently wrong; the compiler raised
    # an IndexError for copy.deepcopy, which copied its whole program)
    y = copy.copy(x)
    y[0] = 0.0
    w = copy.copy(x[1:])
    w[0] = 0.0
    z = copy.deepcopy(x)
    z[1] = 5.0
    return y * z + x + w.sum()


@program(X6)
def found_function_out_into_a_dual_array(x):
    # out= of a NumPy function holding the carrier: Taylor mode said "out= must not carry a
    # derivative (pass its .value)", the compiler and the sparsity tracer refused, and eager
    # mode refused it for compositions (np.clip, np.median)
    running = np.zeros_like(x)
    np.cumsum(x**2, out=running)
    rows = np.zeros_like(x[:2])
    np.matmul(x.reshape(2, 3), x[3:], out=rows)
    m = np.zeros_like(x[:1]).reshape(())
    np.mean(x, out=m)
    y = x.copy()
    np.clip(y, 0.7, 1.2, out=y)
    return np.concatenate([running, rows, [m], y * x])


@program(X6)
def found_clip_method_with_one_bound(x):
    # x.clip(0.9) (ndarray's method takes one bound): the sparsity tracer raised np.clip's
    # "missing 1 required positional argument: 'a_max'"
    return x.clip(0.9) * x + x.clip(max=1.2)


# ------------------------------------------------------------------------------------------------

# (program, mode) -> the start of the TypeError the mode raises: a construct it cannot honour.
# None left: the compiler took the last ones (max(x) comparing elements in Python) by guarding
# what it reads from the values.
GAPS: dict[tuple[str, str], str] = {}

MODES = (
    "jacobian",
    "jacobian1",
    "jvp",
    "hessian",
    "taylor2",
    "jit_jvp",
    "jit_jacobian",
    "sparsity",
    "sparse_auto",
)


def _direction(x):
    return np.random.default_rng(x.size).standard_normal(x.shape)


def _second_point(x):
    return (x + 0.03 * np.random.default_rng(1).standard_normal(x.shape)).astype(x.dtype)


@functools.cache
def _reference(name: str, which: int) -> np.ndarray:
    f, x = PROGRAMS[name]
    return numeric_jacobian(f, (x if which == 0 else _second_point(x)).astype(float))


def _hessian_reference(f, x, h=1e-4):
    n = x.size
    flat = x.astype(float).ravel()
    out = np.empty((n, n))
    e = np.eye(n) * h
    for i in range(n):
        for j in range(n):

            def g(z):
                return float(f(z.reshape(x.shape)))

            out[i, j] = (
                g(flat + e[i] + e[j])
                - g(flat + e[i] - e[j])
                - g(flat - e[i] + e[j])
                + g(flat - e[i] - e[j])
            ) / (4 * h * h)
    return out.reshape(x.shape + x.shape)


def _tol(x):
    return 2e-3 if x.dtype == np.float32 else 1e-6


def assert_close(actual, expected, rtol):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype != object, "an object array came back"
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def _value_close(value, f, x):
    plain = np.asarray(f(x.copy()))
    assert_close(value, plain, 1e-6 if x.dtype == np.float32 else 1e-12)
    assert np.asarray(value).dtype == plain.dtype


def check(name: str, mode: str) -> None:
    f, x = PROGRAMS[name]
    x = x.copy()
    before = x.copy()
    jac, rtol = _reference(name, 0), _tol(x)
    v = _direction(x)
    if mode in ("jacobian", "jacobian1"):
        assert_close(dd.jacobian(f, x, chunk=1 if mode == "jacobian1" else None), jac, rtol)
    elif mode == "jvp":
        value, tangent = dd.jvp(f, x, v)
        _value_close(value, f, x)
        assert_close(tangent, np.tensordot(jac, v, axes=x.ndim), rtol)
    elif mode == "hessian":
        assert_close(dd.hessian(f, x), _hessian_reference(f, x), 1e-4)
    elif mode == "taylor2":

        def along(t):
            return f(x + t * v)

        assert_close(dd.derivative(along, 0.0, n=2), second(along, 0.0), 1e-4)
    elif mode == "jit_jvp":
        compiled = dd.jit_jvp(f)
        for which, point in enumerate((x, _second_point(x))):  # traced, then replayed
            value, tangent = compiled(point, v)
            _value_close(value, f, point)
            assert_close(tangent, np.tensordot(_reference(name, which), v, axes=x.ndim), rtol)
    elif mode == "jit_jacobian":
        compiled = dd.jit_jacobian(f)
        for which, point in enumerate((x, _second_point(x))):
            assert_close(compiled(point), _reference(name, which), rtol)
    elif mode == "sparsity":
        pattern = np.asarray(dd.jacobian_sparsity(f, x))
        flat = jac.reshape(-1, x.size)
        scale = max(1.0, float(np.max(np.abs(flat), initial=0.0)))
        missed = (np.abs(flat) > 1e-6 * scale) & ~pattern
        assert not missed.any(), np.argwhere(missed)[:5].tolist()
    elif mode == "sparse_auto":
        assert_close(dd.jacobian(f, x, sparsity="auto"), jac, rtol)
    np.testing.assert_array_equal(x, before)  # the caller's array is left alone


def _params():
    for name, (f, x) in PROGRAMS.items():
        scalar = np.ndim(f(x.copy())) == 0
        for mode in MODES:
            if mode == "hessian" and not scalar:
                continue
            marks = []
            if (name, mode) in GAPS:
                marks.append(
                    pytest.mark.xfail(strict=True, raises=TypeError, reason=GAPS[name, mode])
                )
            yield pytest.param(name, mode, marks=marks, id=f"{name}-{mode}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::dualdiff.ObjectArrayWarning")
@pytest.mark.filterwarnings("ignore::dualdiff.core.errors.ValueDependentPatternWarning")
@pytest.mark.parametrize("name, mode", list(_params()))
def test_program_in_mode(name, mode):
    if (name, mode) not in GAPS:
        check(name, mode)
        return
    try:
        check(name, mode)
    except TypeError as error:
        message = " ".join(str(error).split())
        assert message.startswith(GAPS[name, mode]), message
        raise


def test_programs_are_not_vacuous():
    for name in PROGRAMS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert np.any(np.abs(_reference(name, 0)) > 1e-8), name
