"""NumPy's dtype rules in every mode, over the whole rule table.

For each rule, float32 and float64 inputs, and constants of each kind (a Python float, which is
weak under NEP 50 and never promotes; a NumPy float32 or float64 scalar, which is strong), every
mode must give the value NumPy gives, in NumPy's dtype, a tangent in that same dtype, and the
derivative of the program NumPy evaluates: in float64 when the result is float64, even where a
constant is a float32 (its partials are then taken in float64, not in the constant's precision).

The reference derivative is a Richardson-extrapolated central difference of the same program in
float64 (the constant as NumPy promotes it), accurate to ~1e-11 relative on these points.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualdiff as dd
from dualdiff.rules.elementwise import RULES

UNARY = sorted(name for name, rule in RULES.items() if rule.nin == 1)
BINARY = sorted(name for name, rule in RULES.items() if rule.nin == 2)
DTYPES = [np.float32, np.float64]
CONSTANTS = ["python", "float32", "float64"]


def _points(rule, arg: int, dtype) -> np.ndarray:
    """Three points inside the rule's domain for argument ``arg``, off kinks and integers."""
    lo, hi = rule.domain[arg]
    return (lo + (hi - lo) * np.array([0.137, 0.561, 0.853])).astype(dtype)


def _constant(rule, arg: int, kind: str):
    lo, hi = rule.domain[arg]
    c = lo + (hi - lo) * 0.3187
    if rule.name == "ldexp" and arg == 1:
        return 2  # an integer exponent
    return {"python": float(c), "float32": np.float32(c), "float64": np.float64(c)}[kind]


def _call(rule, *args):
    """The rule as a user calls it: the NumPy ufunc where there is one (``__array_ufunc__``)."""
    return (rule.ufunc or rule.function)(*args)


def _programs(name: str, dtype, kind: str | None, position: int):
    """``(f, x, float64 program, float64 x)``: f of the dual argument at ``position``."""
    rule = RULES[name]
    x = _points(rule, position, dtype)
    x64 = x.astype(np.float64)
    if rule.nin == 1:
        return (lambda u: _call(rule, u)), x, (lambda u: _call(rule, u)), x64
    c = _constant(rule, 1 - position, kind)
    # the constant NumPy computes with in a float64 program: a float32 is promoted exactly
    c64 = c if type(c) in (int, float) else np.float64(c)
    if position == 0:
        return (lambda u: _call(rule, u, c)), x, (lambda u: _call(rule, u, c64)), x64
    return (lambda u: _call(rule, c, u)), x, (lambda u: _call(rule, c64, u)), x64


def _reference(g, x64: np.ndarray) -> np.ndarray:
    """d g(x)/dx elementwise: Richardson's extrapolation of central differences, in float64."""
    h = 1e-3 * np.maximum(1.0, np.abs(x64))

    def central(h):
        return (g(x64 + h) - g(x64 - h)) / (2 * h)

    return (4 * central(h / 2) - central(h)) / 3


def _cases():
    for name in UNARY:
        for dtype in DTYPES:
            yield pytest.param(name, dtype, None, 0, id=f"{name}-{np.dtype(dtype)}")
    for name in BINARY:
        for dtype in DTYPES:
            for kind in CONSTANTS:
                for position in (0, 1):
                    if name == "ldexp" and (position == 1 or kind != "python"):
                        continue  # the exponent is an integer: no derivative, one constant
                    yield pytest.param(
                        name, dtype, kind, position,
                        id=f"{name}-{np.dtype(dtype)}-{kind}-arg{position}",
                    )  # fmt: skip


MODES = ["jacobian", "jvp", "derivative", "dual", "taylor", "jit_jvp"]


def _run(mode: str, f, x: np.ndarray):
    """``(value or None, derivative)`` of f at x in ``mode`` (elementwise: J's diagonal)."""
    if mode == "jacobian":
        return None, dd.jacobian(f, x)
    if mode == "jvp":
        return dd.jvp(f, x, np.ones_like(x))
    if mode == "derivative":
        return None, dd.derivative(f, x)
    if mode == "taylor":
        return None, dd.taylor(f, x, 1)[..., 1]
    if mode == "jit_jvp":
        return dd.jit_jvp(f)(x, np.ones_like(x))
    raise AssertionError(mode)


@pytest.mark.parametrize("name, dtype, kind, position", list(_cases()))
def test_dtypes_and_derivatives_follow_numpy(name, dtype, kind, position):
    f, x, g, x64 = _programs(name, dtype, kind, position)
    want_value = f(x)
    vdt = np.asarray(want_value).dtype
    assert vdt.kind == "f"
    ref = _reference(g, x64)
    # float32 results: float32's accuracy; float64 ones: the float64 program's (a float32
    # constant's partials in float32 would be off by ~1e-8 relative)
    rtol = 2e-4 if vdt == np.float32 else 1e-9
    atol = rtol * max(1.0, float(np.max(np.abs(ref))))
    for mode in MODES:
        if mode == "dual":
            for i in range(len(x)):  # a NumPy scalar: seeded as a Dual
                d = dd.derivative(f, x[i])
                assert np.asarray(d).dtype == np.asarray(f(x[i])).dtype, f"{mode} dtype"
                np.testing.assert_allclose(d, ref[i], rtol=rtol, atol=atol, err_msg=mode)
            continue
        value, d = _run(mode, f, x)
        if value is not None:
            assert np.asarray(value).dtype == vdt, f"{mode}: value dtype"
            np.testing.assert_array_equal(value, want_value, err_msg=f"{mode}: value")
        assert np.asarray(d).dtype == vdt, f"{mode}: derivative dtype"
        if mode == "jacobian":
            d = np.diag(d)
        np.testing.assert_allclose(d, ref, rtol=rtol, atol=atol, err_msg=mode)


@pytest.mark.parametrize("name", BINARY)
def test_a_float32_constant_in_a_float64_program_is_exact(name):
    """The derivative with constant ``np.float32(c)`` is the one with ``np.float64(c)`` (the value
    NumPy computes with) to the last bits: partials in float64, in every mode."""
    if name == "ldexp":
        return
    rule = RULES[name]
    for position in (0, 1):
        f, x, g, x64 = _programs(name, np.float64, "float32", position)
        for mode in MODES:
            if mode == "dual":
                got = np.array([dd.derivative(f, xi) for xi in x])
                want = np.array([dd.derivative(g, xi) for xi in x])
            else:
                got, want = _run(mode, f, x)[1], _run(mode, g, x)[1]
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300, err_msg=f"{mode}")
        assert rule.nin == 2


# --- reductions and joins with dtype= ---------------------------------------------------------

X = np.array([0.3, -0.7, 1.1, 0.25])
REDUCTIONS = {
    "sum": lambda x, dt: np.sum(x, dtype=dt),
    "sum_method": lambda x, dt: x.sum(axis=0, dtype=dt),
    "mean": lambda x, dt: np.mean(x, dtype=dt),
    "cumsum": lambda x, dt: np.cumsum(x, dtype=dt),
    "prod": lambda x, dt: np.prod(x, dtype=dt),
    "cumprod": lambda x, dt: np.cumprod(x, dtype=dt),
    "nansum": lambda x, dt: np.nansum(x, dtype=dt),
    "nanmean": lambda x, dt: np.nanmean(x, dtype=dt),
    "var": lambda x, dt: np.var(x, dtype=dt),
    "std": lambda x, dt: np.std(x, ddof=1, dtype=dt),
    "var_method": lambda x, dt: x.var(dtype=dt),
    "trace": lambda x, dt: np.trace(np.outer(x, x), dtype=dt),
    "concatenate": lambda x, dt: np.concatenate([x, 2 * x], dtype=dt),
    "stack": lambda x, dt: np.stack([x, 2 * x], dtype=dt),
}
# modes without a rule for a function refuse it with a TypeError (never ignore dtype=)
REFUSED: dict[str, set[str]] = {}


def _along(jac: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J v, in J's own dtype (the tangents' dtype is what is checked)."""
    return np.tensordot(jac, v.astype(jac.dtype), 1)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("x_dtype", DTYPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, None])
def test_reduction_dtype_is_numpys(name, x_dtype, dtype):
    reduce = REDUCTIONS[name]
    x = X.astype(x_dtype)
    f = lambda u: reduce(u, dtype)  # noqa: E731
    want = f(x)
    vdt = np.asarray(want).dtype
    v = np.ones_like(x)
    # the float64 program's directional derivative, to the precision of NumPy's dtype
    g = lambda s: reduce(x.astype(np.float64) + s, np.float64)  # noqa: E731
    ref = (4 * (g(0.5e-3) - g(-0.5e-3)) / 1e-3 - (g(1e-3) - g(-1e-3)) / 2e-3) / 3
    rtol = 1e-5 if vdt == np.float32 else 1e-9
    runs = {
        "jvp": lambda: dd.jvp(f, x, v),
        "jacobian": lambda: (f(x), _along(dd.jacobian(f, x), v)),
        "taylor": lambda: tuple(np.moveaxis(dd.taylor(lambda s: f(x + s * v), 0.0, 1), -1, 0)),
        "jit_jvp": lambda: dd.jit_jvp(f)(x, v),
    }
    for mode, run in runs.items():
        if name in REFUSED.get(mode, ()):
            with pytest.raises(TypeError):
                run()
            continue
        value, tangent = run()
        assert np.asarray(value).dtype == vdt, f"{mode}: value dtype"
        if mode == "taylor" and name in ("prod", "cumprod"):
            # Taylor multiplies pairwise (series products by halving): the last bit may differ
            eps = np.finfo(vdt).eps
            np.testing.assert_allclose(value, want, rtol=4 * eps, err_msg=f"{mode}: value")
        else:
            np.testing.assert_array_equal(value, want, err_msg=f"{mode}: value")
        assert np.asarray(tangent).dtype == vdt, f"{mode}: tangent dtype"
        np.testing.assert_allclose(tangent, ref, rtol=rtol, atol=rtol, err_msg=mode)


def test_einsum_dtype_is_refused_not_ignored():
    with pytest.raises(TypeError, match="dtype"):
        dd.jacobian(lambda x: np.einsum("i,i->", x, x, dtype=np.float32), X)


def test_where_with_python_scalars_keeps_float32():
    x = X.astype(np.float32)
    for f in (lambda u: np.where(u < 0, 0.5, u), lambda u: np.where(u < 0, u, 2)):
        value, tangent = dd.jvp(f, x, np.ones_like(x))
        assert value.dtype == tangent.dtype == f(x).dtype == np.float32
        np.testing.assert_array_equal(value, f(x))
        assert dd.jacobian(f, x).dtype == np.float32


def test_polyval_takes_python_coefficients_as_numpy_does():
    # NumPy converts the coefficients to an array (float64, not weak): a float32 x gives float64
    x = X.astype(np.float32)
    f = lambda u: np.polyval([1.0, 2.0, 3.0], u)  # noqa: E731
    assert f(x).dtype == np.float64
    value, tangent = dd.jvp(f, x, np.ones_like(x))
    assert value.dtype == tangent.dtype == np.float64
    np.testing.assert_array_equal(value, f(x))
    np.testing.assert_allclose(tangent, 2.0 * x.astype(np.float64) + 2.0, rtol=1e-15)
    assert dd.jacobian(f, x).dtype == np.float64
    coefficients = dd.taylor(f, x, 1)
    assert coefficients.dtype == np.float64
    np.testing.assert_array_equal(coefficients[..., 0], f(x))


_DIRECTIONAL = {
    "derivative": lambda g, t: dd.derivative(g, t),
    "derivative n=2": lambda g, t: dd.derivative(g, t, n=2),
    "jvp": lambda g, t: dd.jvp(g, t, 1.0)[1],
    "jacobian": lambda g, t: dd.jacobian(g, t),
    "taylor": lambda g, t: dd.taylor(g, t, 2)[..., 1],
}


@pytest.mark.parametrize("mode", sorted(_DIRECTIONAL))
def test_a_python_float_point_is_weak_as_numpy_makes_it(mode):
    # derivative(lambda t: f(x + t * v), 0.3), the directional derivative as people write it:
    # the point is a Python float, weak in NumPy, so f runs in float32 as f(x + 0.3 * v) does.
    # The seed's value must stay a Python number (a 0-d float64 array is not weak).
    x = X.astype(np.float32)
    v = np.linspace(-1.0, 1.0, X.size, dtype=np.float32).reshape(X.shape)

    def g(t):
        return np.sin(x + t * v) * x

    assert g(0.3).dtype == np.float32
    result = _DIRECTIONAL[mode](g, 0.3)
    assert np.asarray(result).dtype == np.float32
    x64, v64 = x.astype(np.float64), v.astype(np.float64)
    u = x64 + 0.3 * v64
    closed = -np.sin(u) * v64 * v64 * x64 if mode == "derivative n=2" else np.cos(u) * v64 * x64
    np.testing.assert_allclose(result, closed, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.sum(a * a),
        np.linalg.norm,
        lambda a: np.linalg.svd(a)[1],
        lambda a: np.linalg.qr(a)[1],
        np.linalg.det,
    ],
    ids=["sum of squares", "norm", "svd", "qr", "det"],
)
@pytest.mark.parametrize("t0", [0.0, np.float32(0.0)], ids=["python", "float32"])
def test_taylor_mode_of_a_float32_array_plus_the_seed_stays_float32(f, t0):
    # f(x + t): the seed's coefficient 1.0 is weak, as NumPy keeps it; broadcast to x's shape
    # it was a float64 array, so np.sum (and every linalg function) went float64 past order 1
    x = X.astype(np.float32).reshape(2, 2) + 2 * np.eye(2, dtype=np.float32)
    coefficients = dd.taylor(lambda t: f(x + t), t0, 3)
    assert coefficients.dtype == np.float32 == f(x).dtype
    exact = dd.taylor(lambda t: f(x.astype(np.float64) + t), 0.0, 3)
    np.testing.assert_allclose(coefficients, exact, rtol=1e-4, atol=1e-4)


def test_the_declared_dtype_differences_at_a_python_float_point():
    # docs/guide/sharp_bits.rst, "Dtypes": the dtype differs from NumPy's, the number does not
    x = X.astype(np.float32).ravel()
    v = np.ones_like(x)

    def along(t):
        return x + t * v

    value, tangent = dd.jit_jvp(along)(0.3, 1.0)  # the compiler: a Python float is traced strong
    assert along(0.3).dtype == np.float32 and value.dtype == tangent.dtype == np.float64
    np.testing.assert_allclose(value, x.astype(np.float64) + 0.3, rtol=1e-15)
    np.testing.assert_array_equal(tangent, np.ones(x.size))

    def sine(t):
        return np.sin(t) * x

    d = dd.derivative(sine, 0.3)  # eager: np.sin of a Python-float dual stays weak
    assert sine(0.3).dtype == np.float64 and d.dtype == np.float32
    np.testing.assert_allclose(d, np.cos(0.3) * x, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "exponent",
    [np.array([1, -2, 3]), np.array([1, -2, 3], np.int32), np.int32(2), np.int64(-1)],
    ids=["int64 array", "int32 array", "int32 scalar", "int64 scalar"],
)
def test_ldexp_with_a_numpy_integer_exponent(dtype, exponent):
    """ldexp's exponent as a NumPy integer (array or scalar), not a Python int: Taylor mode
    promoted it to the series' float dtype, and NumPy has no ldexp loop for two floats (it raised
    'ufunc ldexp not supported'); its partial 2**i, float64, turned a float32 series float64."""
    x = _points(RULES["ldexp"], 0, dtype)

    def f(u):
        return np.ldexp(u, exponent)

    want = f(x)
    slope = np.broadcast_to(np.ldexp(1.0, exponent), x.shape)
    for mode in MODES[:3] + MODES[4:]:
        if mode == "dual":
            continue
        d = _run(mode, f, x)[1]
        if mode == "jacobian":
            d = np.diag(d)
        assert np.asarray(d).dtype == want.dtype, mode
        np.testing.assert_array_equal(d, slope, err_msg=mode)
    series = dd.taylor(f, x, 3)
    assert series.dtype == want.dtype
    np.testing.assert_array_equal(series[..., 0], want)
    np.testing.assert_array_equal(series[..., 1], slope)
    np.testing.assert_array_equal(series[..., 2:], 0.0)
    assert dd.derivative(f, x, n=2).dtype == want.dtype


NUMPY_DTYPE_PROGRAMS = {
    # like= picks the array type, not the dtype: float64 zeros (eager made float32 ones)
    "zeros like=": lambda u: np.zeros(u.shape, like=u) + u,
    "ones like=": lambda u: np.ones(u.shape, like=u) * u,
    "full like=": lambda u: np.full(u.shape, 0.5, like=u) * u,
    "zeros like= written": lambda u: _written(np.zeros(u.shape, like=u), u),
    # dot, inner and polyval make a 0-d float64 array of a Python number: not weak
    "dot(2.5, x)": lambda u: np.dot(2.5, u),
    "dot(x, 2)": lambda u: np.dot(u, 2),
    "inner(2.0, x)": lambda u: np.inner(2.0, u),
    "polyval(x, 0.7)": lambda u: np.polyval(u, 0.7),
}


def _written(out, u):
    out[0] = u[1] ** 2
    out[1:] = np.sin(u[1:])
    return out


@pytest.mark.parametrize("name", list(NUMPY_DTYPE_PROGRAMS))
def test_numpy_functions_of_a_float32_x_have_numpys_dtype_in_every_mode(name):
    f = NUMPY_DTYPE_PROGRAMS[name]
    x = X.astype(np.float32)
    v = np.ones_like(x)
    want = f(x)
    assert want.dtype == np.float64
    ref = _along(dd.jacobian(f, x.astype(np.float64)), v)  # the float64 program's
    runs = {
        "jacobian": lambda: (f(x), _along(dd.jacobian(f, x), v)),
        "jvp": lambda: dd.jvp(f, x, v),
        "taylor": lambda: tuple(np.moveaxis(dd.taylor(lambda s: f(x + s * v), 0.0, 1), -1, 0)),
        "jit_jvp": lambda: dd.jit_jvp(f)(x, v),
        "SparseJacobian": lambda: (f(x), _along(dd.SparseJacobian(f, x)(x), v)),
    }
    for mode, run in runs.items():
        value, tangent = run()
        assert np.asarray(value).dtype == np.float64, f"{mode}: value dtype"
        assert np.asarray(tangent).dtype == np.float64, f"{mode}: tangent dtype"
        np.testing.assert_allclose(value, want, rtol=1e-15, err_msg=mode)
        np.testing.assert_allclose(tangent, ref, rtol=1e-6, atol=1e-6, err_msg=mode)
