"""Taylor mode and the function table: handlers derived from each entry's kind, its own rules for
the special functions (linear algebra), and the series rules checked at orders 1-4.

References are independent of Taylor mode: numeric differences (``dualdiff.numeric``) of the
first-order rule's ``jvp`` (itself tested against numeric differences of plain NumPy), series
identities checked in plain NumPy, and NumPy's own values.
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff import numeric
from dualdiff.rules import functions as table
from dualdiff.series.taylor import Taylor

T = sys.modules["dualdiff.series.taylor"]  # the module (dualdiff.taylor the attribute is the verb)

ORDERS = 4
# the reference's error grows with the order of the numeric difference (orders 1..3 of the jvp)
RTOL = {1: 1e-10, 2: 1e-7, 3: 1e-5, 4: 1e-3}


def assert_orders(f, rtol=RTOL, t0=0.0):
    """``k!·taylor(f)_k`` against numeric derivatives of order ``k - 1`` of ``jvp(f)``."""
    got = np.asarray(dd.taylor(f, t0, ORDERS))
    first = lambda t: dd.jvp(f, t, 1.0)[1]  # noqa: E731
    np.testing.assert_array_equal(got[..., 0], f(t0))  # NumPy's own value
    for k in range(1, ORDERS + 1):
        expected = first(t0) if k == 1 else numeric.derivative(first, t0, n=k - 1)
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(
            got[..., k] * math.factorial(k), expected, rtol=0, atol=rtol[k] * scale, err_msg=k
        )


def _spd(rng, n, batch=()):
    a = rng.normal(size=(*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _path(a0, rng):
    """``A(t)``: a curve through ``a0`` with a non-symmetric, non-polynomial perturbation (the
    functions that read one triangle must read the right one)."""
    a1, a2 = rng.normal(size=(2, *a0.shape))
    return lambda t: a0 + t * a1 + np.sin(t) * t * a2


RNG = np.random.default_rng(12)
SPD = _spd(RNG, 4)
SPD_BATCH = _spd(RNG, 3, (2,))
GENERAL = RNG.normal(size=(4, 4)) + 3 * np.eye(4)
M = _path(SPD, np.random.default_rng(1))
MB = _path(SPD_BATCH, np.random.default_rng(2))
G = _path(GENERAL, np.random.default_rng(3))
B = np.random.default_rng(4).normal(size=(4, 2))

LINALG = {
    "det": lambda t: np.linalg.det(G(t)),
    "slogdet": lambda t: np.linalg.slogdet(G(t))[1],
    "slogdet sign": lambda t: np.linalg.slogdet(-G(t))[0] + 0.0 * t,
    "slogdet batch": lambda t: np.linalg.slogdet(MB(t)).logabsdet,
    "inv": lambda t: np.linalg.inv(G(t)),
    "solve": lambda t: np.linalg.solve(G(t), np.cos(t) * B),
    "cholesky": lambda t: np.linalg.cholesky(M(t)),
    "cholesky upper": lambda t: np.linalg.cholesky(M(t), upper=True),
    "cholesky batch": lambda t: np.linalg.cholesky(MB(t)),
    "eigvalsh": lambda t: np.linalg.eigvalsh(M(t)),
    "eigvalsh upper": lambda t: np.linalg.eigvalsh(M(t), UPLO="U"),
    "eigh values": lambda t: np.linalg.eigh(M(t)).eigenvalues,
    "eigh batch": lambda t: np.linalg.eigh(MB(t))[0],
    # eigenvectors up to sign: a function of the matrix that uses them (V f(Λ) Vᵀ)
    "eigh vectors": lambda t: _matrix_function(*np.linalg.eigh(M(t))),
    "eigh vectors upper": lambda t: _matrix_function(*np.linalg.eigh(M(t), "U")),
    "norm": lambda t: np.linalg.norm(G(t)),
    "norm vector": lambda t: np.linalg.norm(G(t)[0]),
    "norm axis": lambda t: np.linalg.norm(G(t), axis=1),
    "norm 3": lambda t: np.linalg.norm(G(t) + 5.0, 3, axis=0),
    "norm 1 matrix": lambda t: np.linalg.norm(G(t), 1),
    "norm inf matrix": lambda t: np.linalg.norm(G(t), np.inf, keepdims=True),
    "norm -inf vector": lambda t: np.linalg.norm(G(t)[1], -np.inf),
    "vector_norm": lambda t: np.linalg.vector_norm(G(t) + 6.0, ord=0.5, axis=(0, 1)),
    "matrix_norm fro": lambda t: np.linalg.matrix_norm(MB(t)),
    "matrix_norm -1": lambda t: np.linalg.matrix_norm(MB(t), ord=-1),
    "norm 2": lambda t: np.linalg.norm(G(t), 2),
    "norm -2 axes": lambda t: np.linalg.norm(MB(t), -2, axis=(2, 1)),
    "norm nuc": lambda t: np.linalg.norm(G(t), "nuc", keepdims=True),
    "svdvals": lambda t: np.linalg.svdvals(MB(t)),
    "svdvals wide": lambda t: np.linalg.svdvals(G(t)[:2]),
    "svdvals tall": lambda t: np.linalg.svdvals(G(t)[:, :3]),
    "svd values hermitian": lambda t: np.linalg.svd(M(t) - 12.0, compute_uv=False, hermitian=True),
    "cond": lambda t: np.linalg.cond(G(t)),
    "cond -2": lambda t: np.linalg.cond(MB(t), -2),
    "cond fro": lambda t: np.linalg.cond(G(t), "fro"),
    "cond 1": lambda t: np.linalg.cond(G(t), 1),
    "matrix_power 0": lambda t: np.linalg.matrix_power(G(t), 0) + 0 * t,
    "matrix_power 3": lambda t: np.linalg.matrix_power(G(t), 3),
    "matrix_power 6": lambda t: np.linalg.matrix_power(G(t) / 4, 6),
    "matrix_power -2": lambda t: np.linalg.matrix_power(MB(t), -2),
    "tensorinv": lambda t: np.linalg.tensorinv(np.reshape(G(t), (2, 2, 4)), ind=2),
    "tensorsolve": lambda t: np.linalg.tensorsolve(
        np.reshape(G(t), (4, 2, 2)), np.exp(t * B[:, 0])
    ),
    "tensorsolve axes": lambda t: np.linalg.tensorsolve(
        np.reshape(G(t), (2, 2, 2, 2)), np.cos(t * B[:2, :]), axes=(0,)
    ),
    "tensorsolve constant a": lambda t: np.linalg.tensorsolve(
        np.reshape(GENERAL, (4, 2, 2)), B[:, 0] * t
    ),
}


def _matrix_function(w, v):
    return v @ (np.sin(w)[..., None] * np.swapaxes(v, -1, -2))


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_orders_1_to_4_against_the_first_order_rule(name):
    assert_orders(LINALG[name])


NESTED = {
    "det": lambda t, p: np.linalg.det(G(t) * p[0] + p[1]),
    "slogdet": lambda t, p: np.linalg.slogdet(G(t) * p[0] + p[1]).logabsdet,
    "cholesky": lambda t, p: np.linalg.cholesky(M(t) * p[0] + p[1] * np.eye(4))[2],
    "eigvalsh": lambda t, p: np.linalg.eigvalsh(M(t) * p[0] + p[1] * SPD @ SPD),
    "eigh vectors": lambda t, p: _matrix_function(*np.linalg.eigh(M(t) * p[0] + p[1] * SPD))[1],
    "norm": lambda t, p: np.linalg.norm(G(t) * p[0] + p[1]),
    "svdvals": lambda t, p: np.linalg.svdvals(G(t) * p[0] + p[1] * SPD),
    "cond": lambda t, p: np.linalg.cond(G(t) * p[0] + p[1] * SPD),
    "matrix_power": lambda t, p: np.linalg.matrix_power(G(t) * p[0] + p[1], -3)[0],
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_linalg_second_derivative_inside_jacobian(name):
    # Taylor series whose coefficients are DualArrays: the Jacobian in p of d²/dt² f(t, p)
    # against numeric differences of the plain result
    f = NESTED[name]
    p0 = np.array([1.3, 0.4])
    second = lambda p: dd.derivative(lambda t: f(t, p), 0.0, n=2)  # noqa: E731
    expected = numeric_jacobian(second, p0)
    np.testing.assert_allclose(dd.jacobian(second, p0), expected, rtol=1e-7, atol=1e-7)


def _series_product(a, b, n):
    return [sum(a[j] @ b[k - j] for j in range(k + 1)) for k in range(n + 1)]


@pytest.mark.parametrize("complex_values", [False, True])
def test_eigh_and_cholesky_series_satisfy_their_equations(complex_values):
    # A V = V Λ, Vᴴ V = I, the first row of every V_k real (LAPACK's phase); L Lᴴ = A with L
    # lower triangular: each as an identity of the series, coefficient by coefficient in NumPy
    rng = np.random.default_rng(5)
    n, order = 4, 5
    coefficients = [rng.normal(size=(n, n)) for _ in range(3)]
    if complex_values:
        coefficients = [c + 1j * rng.normal(size=(n, n)) for c in coefficients]
    coefficients = [c + c.conj().T for c in coefficients]
    coefficients[0] = coefficients[0] @ coefficients[0].conj().T + n * np.eye(n)
    a = Taylor(coefficients, order)
    w, v = np.linalg.eigh(a)
    vs = [np.asarray(c) for c in v.coefficients]
    ws = [np.asarray(c) for c in w.coefficients]
    full = coefficients + [np.zeros((n, n))] * (order + 1 - len(coefficients))
    left = _series_product(full, vs, order)
    right = [sum(vs[j] * ws[k - j] for j in range(k + 1)) for k in range(order + 1)]
    np.testing.assert_allclose(left, right, atol=1e-10 * np.max(np.abs(left)))
    gram = _series_product([c.conj().T for c in vs], vs, order)
    np.testing.assert_allclose(gram, [np.eye(n)] + [np.zeros((n, n))] * order, atol=1e-11)
    for c in vs:
        np.testing.assert_allclose(c[0].imag, 0.0, atol=1e-12)
    np.testing.assert_array_equal(ws[0], np.linalg.eigh(coefficients[0])[0])
    np.testing.assert_array_equal(
        np.linalg.eigvalsh(a).coefficients[0], np.linalg.eigvalsh(full[0])
    )
    np.testing.assert_allclose(np.linalg.eigvalsh(a).coefficients, ws, rtol=1e-12, atol=1e-12)
    lower = [np.asarray(c) for c in np.linalg.cholesky(a).coefficients]
    assert all(np.array_equal(c, np.tril(c)) for c in lower)
    product = _series_product(lower, [c.conj().T for c in lower], order)
    np.testing.assert_allclose(product, full, atol=1e-11 * np.max(np.abs(full[0])))


def test_repeated_eigenvalues_raise_instead_of_returning_wrong_numbers():
    a = Taylor([np.diag([1.0, 1.0, 2.0]), np.ones((3, 3))], 3)
    for f in (np.linalg.eigh, np.linalg.eigvalsh):
        with pytest.raises(ValueError, match="distinct eigenvalues"):
            f(a)
    with pytest.raises(ValueError, match="invertible"):
        np.linalg.slogdet(Taylor([np.ones((2, 2)), np.eye(2)], 2))


@pytest.mark.parametrize("complex_values", [False, True])
def test_slogdet_of_complex_and_real_series_in_closed_form(complex_values):
    # det(D(t)) of a diagonal matrix is the product of the diagonal: its log and sign by hand
    d0 = np.array([2.0, -0.5, 1.5]) + (1j * np.array([0.3, 1.0, -0.2]) if complex_values else 0)
    d1 = np.array([0.7, 0.1, -0.4]) + (1j * np.array([-0.5, 0.2, 0.9]) if complex_values else 0)
    sign, logabsdet = dd.taylor(
        lambda t: tuple(np.linalg.slogdet(np.diag(d0 + t * d1)).__iter__()), 0.0, ORDERS
    )
    # log det = Σ log(d0 + t d1) = Σ log d0 + Σ Σ_k (-1)^(k+1) (d1/d0)^k t^k / k
    ratio = d1 / d0
    log_series = [np.sum(np.log(d0.astype(complex)))] + [
        np.sum((-1) ** (k + 1) * ratio**k / k) for k in range(1, ORDERS + 1)
    ]
    np.testing.assert_allclose(logabsdet, np.real(log_series), rtol=1e-13, atol=1e-14)
    # sign = exp(i Im log det): its series from the imaginary part alone
    phase = np.exp(1j * np.imag(log_series[0]))
    turn = np.imag(log_series[:0:-1])  # Im log det - Im log det(0), highest power first
    expected = dd.taylor(lambda t: phase * np.exp(1j * np.polyval(turn, t) * t), 0.0, ORDERS)
    if not complex_values:
        expected = [np.sign(np.prod(d0))] + [0.0] * ORDERS
    np.testing.assert_allclose(sign, expected, rtol=1e-13, atol=1e-14)


# -- the linear functions and compositions Taylor mode now has -----------------------------------

XP = np.array([-2.0, -0.5, 0.0, 1.0, 2.5])
FP = np.array([1.0, -1.0, 0.5, 2.0, -3.0])
X = np.linspace(-1.5, 2.0, 6)

LINEAR = {
    "interp": lambda t: np.interp(X + 0.1 * np.sin(t), XP, FP),
    "interp fp": lambda t: np.interp(X, XP, FP * np.exp(t)),
    "interp both": lambda t: np.interp(X * np.cos(t), XP, FP + t * t),
    "interp left right": lambda t: np.interp(3 * X + t + 0.05, XP, FP, left=-7.0, right=4.0),
    "gradient": lambda t: np.gradient(np.sin(X * (1 + t))),
    "gradient spacing axis": lambda t: np.gradient(np.outer(np.exp(t * X), X), 0.3, axis=1),
    "gradient edge order 2": lambda t: np.gradient(np.sin(X + t) * X, X, edge_order=2),
    "trapezoid dual x": lambda t: np.trapezoid(np.sin(X + t), x=np.cumsum(np.exp(t * X))),
    "trapezoid dual dx": lambda t: np.trapezoid(np.outer(X, np.cos(X * t)), dx=np.exp(t), axis=0),
    "nansum": lambda t: np.nansum(np.sin(X * t) * X, axis=0),
    "average": lambda t: np.average(np.exp(X * t), weights=X * X),
    "put": lambda t: _put(X * np.sin(t + X)),
    "block": lambda t: np.block([[np.sin(t * X[:2]), X[:1]], [np.cos(X[:3] * t)]]),
    "angle": lambda t: np.angle(np.exp(1j * t * X) * (2 + t)),
    "fft": lambda t: np.real(np.fft.fft(np.sin(X * t))) + np.imag(np.fft.ifft(np.exp(X * t))),
    "rfft2 irfft": lambda t: np.fft.irfft(np.fft.rfft2(np.outer(X, np.sin(X * t)), axes=(1, 0))),
    "hfft fftshift": lambda t: np.fft.fftshift(np.fft.hfft(np.exp(X * t) + 1j * X)),
    # ufunc methods (not in the table: the functions they are)
    "add.reduce accumulate": lambda t: (
        np.add.reduce(np.outer(np.sin(X * t), X), axis=1) + np.add.accumulate(np.exp(X * t))
    ),
    "multiply.reduce accumulate": lambda t: (
        np.multiply.reduce(np.outer(X, np.cos(X * t))) + np.multiply.accumulate(np.exp(X * t) - 2.0)
    ),
    "maximum minimum accumulate": lambda t: (
        np.maximum.accumulate(np.sin(3 * X + t))
        + np.minimum.reduce(np.outer(X, np.exp(X * t)), axis=1, keepdims=True)[:, 0]
    ),
    "multiply.outer": lambda t: np.multiply.outer(np.sin(X * t), np.exp(X[:3] * t)),
    # compositions (dualdiff.rules.compositions), with NaNs at fixed places
    "nanmax nanmin": lambda t: (
        np.nanmax(_with_nans(t), axis=1) + np.nanmin(_with_nans(t), axis=0, keepdims=True)[0, :1]
    ),
    "nanprod nancumprod": lambda t: (
        np.nanprod(_with_nans(t), axis=0) + np.nancumprod(_with_nans(t), axis=1)[:, -1]
    ),
    "nan_to_num": lambda t: np.nan_to_num(
        np.where(NAN_AT.T, -np.inf, _with_nans(t)), nan=2.0, neginf=-5.0
    ),
    "partition": lambda t: np.partition(np.sin(X * (1 + t)) + X, 2),
    "nanvar nanstd": lambda t: (
        np.nanvar(_with_nans(t), axis=0, ddof=1)
        + np.nanstd(_with_nans(t), axis=1, keepdims=True)[:, 0]
    ),
    "median": lambda t: (
        np.median(np.outer(np.sin(X * (1 + t)) + X, X), axis=0)
        + np.median(np.sin(X[:5] * (1 + t)) + X[:5])
    ),
}

NAN_AT = np.random.default_rng(9).random((6, 6)) < 0.3


def _with_nans(t):
    return np.where(NAN_AT, np.nan, np.outer(np.sin(X * t) + 2.0, X + 3.0))


def _add_at(a):
    out = a * 1.0
    np.add.at(out, [0, 2, 2, -1], np.exp(a[:4]))
    return out


def test_add_at_against_the_same_sums_written_out():
    # (the first-order rule has no add.at: the reference adds the repeated index by hand)
    def by_hand(t):
        a = np.sin(X * t)
        increments = np.exp(a[:4])
        out = a * 1.0
        out[0] = out[0] + increments[0]
        out[2] = out[2] + increments[1] + increments[2]
        out[-1] = out[-1] + increments[3]
        return out

    got = dd.taylor(lambda t: _add_at(np.sin(X * t)), 0.3, ORDERS)
    np.testing.assert_array_equal(got[..., 0], _add_at(np.sin(X * 0.3)))
    np.testing.assert_allclose(got, dd.taylor(by_hand, 0.3, ORDERS), rtol=1e-13, atol=1e-13)
    assert_orders(by_hand, t0=0.3)


def test_add_at_and_subtract_at_act_on_each_coefficient_as_numpy_does():
    a = Taylor([np.arange(4.0), np.ones(4), np.full(4, 2.0)], 3)
    b = Taylor([np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])], 3)
    index = [1, 1, 3]
    view = a[1:]  # a write through np.add.at reaches the series viewed, as in NumPy
    np.subtract.at(view, [0, 0, 2], b)
    np.add.at(a, index, 0.5)
    expected = [np.arange(4.0), np.ones(4), np.full(4, 2.0)]
    np.subtract.at(expected[0][1:], [0, 0, 2], [1.0, 2.0, 3.0])
    np.subtract.at(expected[1][1:], [0, 0, 2], [4.0, 5.0, 6.0])
    np.add.at(expected[0], index, 0.5)
    for got, want in zip(a.coefficients, expected):
        np.testing.assert_array_equal(got, want)


def _put(a):
    out = np.zeros_like(a)
    np.put(out, [0, -1, 7], a[:3], mode="wrap")
    return out


@pytest.mark.parametrize("name", sorted(LINEAR))
def test_linear_functions_orders_1_to_4_against_the_first_order_rule(name):
    assert_orders(LINEAR[name], t0=0.3)


def test_interp_gives_numpys_values_and_the_slope_of_the_segment():
    x = np.array([-3.0, -2.0, -0.5, -0.2, 0.0, 0.4, 1.0, 2.5, 3.0, np.inf, -np.inf, np.nan])
    series = np.interp(Taylor([x, np.ones_like(x)], 3), XP, FP, left=9.0)
    np.testing.assert_array_equal(series.coefficients[0], np.interp(x, XP, FP, left=9.0))
    j = np.clip(np.searchsorted(XP, x, side="right") - 1, 0, len(XP) - 2)
    slope = np.diff(FP)[j] / np.diff(XP)[j]
    inside = (x >= XP[0]) & (x < XP[-1])  # at a knot the segment to its right; at the end 0
    np.testing.assert_array_equal(series.coefficients[1][:-1], np.where(inside, slope, 0.0)[:-1])
    # the second derivative of a piecewise linear function is 0 inside a segment
    assert dd.derivative(lambda s: np.interp(s * s, XP, FP), 0.7, n=2) == pytest.approx(
        2 * (FP[3] - FP[2]) / (XP[3] - XP[2])
    )


def test_put_modes_follow_numpy():
    for mode in ("raise", "wrap", "clip"):
        for index in ([1, -2], [0, 9, -9] if mode != "raise" else [4, -5]):
            values = np.array([2.0, 3.0, 5.0])
            expected = np.arange(5.0)
            np.put(expected, index, values, mode=mode)
            series = Taylor([np.arange(5.0), np.ones(5)], 2)
            np.put(series, index, Taylor([values, np.full(3, 10.0)], 2), mode=mode)
            np.testing.assert_array_equal(series.coefficients[0], expected)
            hit = np.zeros(5, bool)
            np.put(hit, index, True, mode=mode)
            np.testing.assert_array_equal(series.coefficients[1][hit], 10.0)
            np.testing.assert_array_equal(series.coefficients[1][~hit], 1.0)
    with pytest.raises(IndexError):
        np.put(Taylor([np.zeros(3), np.ones(3)]), [3], 1.0)


def test_put_of_a_list_holding_series():
    # as eager mode takes it: the list is stacked (np.asarray of it raised NumPy's ValueError)
    def f(x):
        y = x * 1.0
        np.put(y, [1, 2, 3], [5.0, x[0, 2] ** 3])
        return y

    x = np.arange(6.0).reshape(2, 3) / 5

    def line(t):
        return f(x + t)

    second = dd.derivative(line, 0.0, n=2)
    np.testing.assert_allclose(second, numeric.derivative(line, 0.0, n=2), atol=1e-6)
    assert second[0, 2] == pytest.approx(6 * x[0, 2])  # (index 3 takes 5.0 again: v repeats)


# -- the table drives Taylor mode ------------------------------------------------------------------


def test_special_entries_name_taylor_exactly_when_it_has_code():
    for entry in table.by_kind("special"):
        # its own handler, or DualArray's rule nested once per order (the fallback)
        fallback = getattr(T._handler(entry.function), "func", None) is T._nested_fallback
        has_code = entry.function in T._FUNCTIONS or fallback
        assert ("Taylor" in entry.carriers) == has_code, entry.name


def test_every_entry_has_a_handler_or_one_clear_refusal():
    for function, entry in table.FUNCTIONS.items():
        handler = T._handler(function)
        assert handler is not None, entry.name
        if entry.kind == "special" and "Taylor" not in entry.carriers:
            x = Taylor([np.eye(3) + 1.0, np.ones((3, 3))])
            with pytest.raises(TypeError, match=f"numpy.{entry.name} on a Taylor series.*"):
                handler(function, (x,), {})


def test_taylor_handlers_cover_only_table_functions():
    # Taylor's own handlers are overrides or special rules of the table, or rules of the
    # elementwise table that are not ufuncs (sinc): nothing outside the tables
    from dualdiff.rules.elementwise import RULES

    elementwise = {rule.array for rule in RULES.values() if rule.ufunc is None}
    for function in T._FUNCTIONS:
        assert function in table.FUNCTIONS or function in elementwise, function


OVERRIDES = {
    # Taylor's own handler of a function the table's kind also covers, and calls of that kind
    np.pad: [
        lambda x: ((x, 2), {}),
        lambda x: ((x, ((1, 0), (2, 1))), {"mode": "reflect"}),
        lambda x: ((x, 1), {"mode": "wrap"}),
        lambda x: ((x, (0, 2)), {"mode": "constant", "constant_values": 3.0}),
    ],
    np.trapezoid: [lambda x: ((x,), {"axis": 0}), lambda x: ((x, [0.0, 1.0, 3.0]), {"axis": 0})],
    np.zeros_like: [lambda x: ((x,), {})],
    np.ones_like: [lambda x: ((x,), {"shape": (2, 2)})],
}


@pytest.mark.parametrize("function", list(OVERRIDES), ids=lambda f: f.__name__)
def test_overrides_agree_with_the_handler_the_kind_gives(function):
    derived = T.derived_handler(table.entry(function))
    x = Taylor([np.arange(9.0).reshape(3, 3), np.ones((3, 3)), np.eye(3)], 4)
    for make in OVERRIDES[function]:
        args, kwargs = make(x)
        mine, generic = (
            T._FUNCTIONS[function](function, args, kwargs),
            derived(function, args, kwargs),
        )
        mine = mine.coefficients if type(mine) is Taylor else [mine]
        generic = generic.coefficients if type(generic) is Taylor else [generic]
        for k, c in enumerate(generic):
            np.testing.assert_array_equal(np.broadcast_to(mine[k], np.shape(c)), c)
        assert all(not np.any(c) for c in mine[len(generic) :])


def test_writes_through_views_of_several_arguments_reach_each_argument():
    # NumPy: np.broadcast_arrays(a, b)[i] and np.atleast_1d(a, b)[i] view argument i
    for function in (np.broadcast_arrays, np.atleast_2d):
        a = Taylor([np.zeros((2, 3)), np.ones((2, 3))], 2)
        b = Taylor([np.zeros((1, 3)), np.full((1, 3), 2.0)], 2)
        plain = [np.zeros((2, 3)), np.zeros((1, 3))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # writing to a broadcast view
            pieces, views = list(function(a, b)), list(function(*plain))
            if function is np.broadcast_arrays:
                pieces[1] = pieces[1][:1]  # (a broadcast view of b is read-only in NumPy)
                views[1] = views[1][:1]
            for piece, view in zip(pieces, views):
                piece[0, 1] = 5.0
                view[0, 1] = 5.0
        np.testing.assert_array_equal(a.coefficients[0], plain[0])
        np.testing.assert_array_equal(b.coefficients[0], plain[1])
        assert a.coefficients[1][0, 1] == 0.0 and b.coefficients[1][0, 1] == 0.0


def test_rollaxis_and_unstack_return_views_as_numpy_does():
    x = Taylor([np.zeros((2, 3)), np.ones((2, 3))], 2)
    np.rollaxis(x, 1)[2, 0] = 7.0
    if hasattr(np, "unstack"):
        np.unstack(x)[1][0] = 4.0
        assert x.coefficients[0][1, 0] == 4.0 and x.coefficients[1][1, 0] == 0.0
    assert x.coefficients[0][0, 2] == 7.0 and x.coefficients[1][0, 2] == 0.0


def test_constructors_given_a_series_as_like_build_a_constant_series():
    x = Taylor([np.ones(3), np.arange(3.0)], 3)
    for function, args in ((np.zeros, (3,)), (np.ones, ((2, 3),)), (np.full, (3, 2.5))):
        made = function(*args, like=x)
        assert type(made) is Taylor and made.tag == x.tag and made.order == x.order
        np.testing.assert_array_equal(made.coefficients[0], function(*args))
        assert len(made.coefficients) == 1
    filled = np.full(3, x[1] * x[1], like=x)  # a series as the fill value
    np.testing.assert_array_equal(filled.coefficients, [[1.0] * 3, [2.0] * 3, [1.0] * 3])
    y = np.zeros(3, like=x)
    y[1:] = np.sin(x[:2])
    third = dd.taylor(_into_zeros, 0.2, 3)[..., 3]
    np.testing.assert_allclose(third, [0.0, -np.cos(0.2) / 6, 0.0], rtol=1e-14)
    with pytest.raises(TypeError, match="dtype"):
        np.zeros(3, dtype=int, like=x)


def _into_zeros(t):
    y = np.zeros(3, like=t * np.ones(3))
    y[1] = np.sin(t)
    return y


def test_a_composition_without_a_body_refuses_clearly():
    x = Taylor([np.eye(3) + 1.0, np.ones((3, 3))])
    with pytest.raises(ValueError, match="norm of a Taylor series needs distinct singular"):
        np.linalg.norm(x, "nuc")  # (eye + 1: singular values 4, 1, 1)
    with pytest.raises(ValueError, match="nonzero singular values"):
        np.linalg.svdvals(Taylor([np.diag([2.0, 1.0, 0.0]), np.ones((3, 3))]))
    # (cond there is NumPy's inf, without a derivative: see test_cond_singular.py)


def test_det_series_at_a_singular_member_is_exact():
    # rank 2: Jacobi's formula cancels catastrophically (it gave 20.0 for a second derivative of
    # 11.318, a cubic's exact value); nested first-order derivatives use the adjugate and stay exact
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [5.0, 7.0, 9.0]])
    w = np.random.default_rng(1).standard_normal((3, 3))

    def det_along(t):
        return np.linalg.det(a + t * w)

    series = [dd.derivative(det_along, 0.0, n=k) for k in (1, 2, 3)]
    # det(a + t w) is a cubic in t: its second derivative at 0 from its values at 4 points
    ts = np.array([-1.0, 0.0, 1.0, 2.0])
    cubic = np.polyfit(ts, [np.linalg.det(a + t * w) for t in ts], 3)
    nested = dd.derivative(lambda s: dd.derivative(det_along, s), 0.0)
    assert nested == pytest.approx(2 * cubic[1], rel=1e-9)  # (highest power first)
    np.testing.assert_allclose(series, [cubic[2], 2 * cubic[1], 6 * cubic[0]], rtol=1e-9)
