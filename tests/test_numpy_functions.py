"""The NumPy functions real code calls (issue 13), each against numeric differences, and the
compositions of the function table against DualArray's own overrides.

The references are independent of dualdiff: central differences of the plain NumPy function
(``reference.jacobian``), NumPy's own values, and identities the derivative must satisfy.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from cases import CASES, by_function
from every_mode_gaps import GAPS
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import assert_close, second
from reference import jacobian as numeric_jacobian
from test_every_mode import CHECKS

import dualdiff as dd
from dualdiff.arrays.dualarray import HANDLED_FUNCTIONS
from dualdiff.rules import functions as table
from dualdiff.rules.compositions import COMPOSITIONS

RNG = np.random.default_rng(2026)


def check(f, x, rtol=1e-7):
    """f's Jacobian at x against numeric differences, and its value against NumPy's exactly."""
    value, _ = dd.jvp(f, x, np.ones_like(x))
    expected = f(x)
    value = np.asarray(value)
    assert value.shape == np.shape(expected)
    assert value.dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(value, expected)
    assert_close(dd.jacobian(f, x), numeric_jacobian(f, x), rtol=rtol, atol=rtol)


def distinct(shape, seed):
    """Values at least 0.2 apart (no ties in a sort, no kinks of a median crossed)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.2 - 0.1 * n + rng.uniform(-0.02, 0.02, n)).reshape(shape)


# -- compositions: one body per function, every carrier; DualArray's overrides agree -------------

# compositions whose DualArray handler is another: an override of its own, or (select, declared
# linear) the handler its kind gives
OVERRIDDEN = sorted(
    (f for f in COMPOSITIONS if f in HANDLED_FUNCTIONS or table.entry(f).kind != "composition"),
    key=lambda f: table.entry(f).name,
)


def _cases_of(function):
    name = table.entry(function).name
    return [case.name for case in by_function().get(name, [])]


def test_every_composition_is_declared_in_the_table():
    for function in COMPOSITIONS:
        assert table.entry(function) is not None, function
    for entry in table.by_kind("composition"):
        assert entry.function in COMPOSITIONS or entry.function in HANDLED_FUNCTIONS, entry.name


def test_every_overridden_composition_has_shared_cases():
    for function in OVERRIDDEN:
        assert _cases_of(function), table.entry(function).name


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "function, name",
    [(f, name) for f in OVERRIDDEN for name in _cases_of(f)],
    ids=lambda p: p if isinstance(p, str) else table.entry(p).name,
)
def test_composition_body_agrees_with_the_dualarray_override(function, name, monkeypatch):
    """The same case with DualArray's override and with the composition body in its place:
    the same value (exactly) and the same Jacobian."""
    case = CASES[name]
    x = case.point(0)
    with_override = dd.jacobian(case.f, x)
    value_override = np.asarray(dd.jvp(case.f, x, np.ones_like(x))[0])
    monkeypatch.setitem(HANDLED_FUNCTIONS, function, COMPOSITIONS[function])
    with_body = dd.jacobian(case.f, x)
    value_body = np.asarray(dd.jvp(case.f, x, np.ones_like(x))[0])
    np.testing.assert_array_equal(value_body, value_override)
    assert_close(with_body, with_override, rtol=1e-12, atol=1e-12)


def _carrier_registries():
    """Each other carrier's own rules, and the mode of test_every_mode that runs it."""
    return {
        "Taylor": (sys.modules["dualdiff.series.taylor"]._FUNCTIONS, "taylor2"),
        "jit": (sys.modules["dualdiff.compiler.symbolic"]._FUNCTIONS, "jit_jvp"),
        "sparsity": (sys.modules["dualdiff.sparsity.tracer"]._FUNCTIONS, "sparsity"),
    }


def _carrier_params():
    for carrier, (registry, mode) in _carrier_registries().items():
        for function in COMPOSITIONS:
            if function in registry:
                for name in _cases_of(function):
                    if (name, mode) not in GAPS:  # the carrier's own rule passes the case
                        yield pytest.param(carrier, function, name, id=f"{carrier}-{name}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::dualdiff.core.errors.ValueDependentPatternWarning")
@pytest.mark.parametrize("carrier, function, name", list(_carrier_params()))
def test_composition_body_works_where_each_carriers_own_rule_does(
    carrier, function, name, monkeypatch
):
    """With a carrier's own rule removed, its dispatch falls back to the composition body:
    that must pass the same shared case against numeric differences."""
    registry, mode = _carrier_registries()[carrier]
    monkeypatch.delitem(registry, function)
    CHECKS[mode](CASES[name])


@pytest.mark.parametrize("body", [False, True])
def test_max_and_min_split_ties_evenly_with_numpys_value(body, monkeypatch):
    if body:
        for function in (np.max, np.min):
            monkeypatch.setitem(HANDLED_FUNCTIONS, function, COMPOSITIONS[function])
    a = np.array([2.0, 5.0, 5.0, 5.0, -1.0])
    assert_close(dd.gradient(np.max, a), [0.0, 1 / 3, 1 / 3, 1 / 3, 0.0], rtol=1e-15)
    x = np.array([[1.0, 3.0, 0.5], [1.0, -2.0, 0.5]])
    expected = np.zeros((2, 2, 3))
    expected[0, :, 0] = 0.5  # a tie in column 0
    expected[1, 1, 1] = 1.0
    assert_close(dd.jacobian(lambda t: np.min(t, axis=0)[:2], x), expected, rtol=1e-15)
    third = a / 3  # the ties' mean would round: the value is NumPy's maximum itself
    assert np.asarray(dd.jvp(np.max, third, a)[0]) == np.max(third)
    zero = np.asarray(dd.jvp(np.max, np.array([-0.0, -0.0]), a[:2])[0])
    assert np.signbit(zero)  # -0.0 stays -0.0, as NumPy gives it


# -- median, percentile, quantile and their nan versions: through the sort ------------------------

QUANTILE_FUNCTIONS = [
    lambda a: np.median(a, axis=0),
    lambda a: np.median(a),
    lambda a: np.percentile(a, [10.0, 50.0, 99.0], axis=1),
    lambda a: np.quantile(a, 0.37, axis=(0, 1), keepdims=True),
    lambda a: np.quantile(a, np.array([[0.2], [0.8]]), axis=0, method="nearest"),
    lambda a: np.quantile(a, 0.6, axis=1, method="higher"),
]


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, len(QUANTILE_FUNCTIONS) - 1),
    st.tuples(st.integers(1, 4), st.integers(1, 5)),
    st.integers(0, 2**16),
)
def test_quantiles_against_numeric_differences(which, shape, seed):
    check(QUANTILE_FUNCTIONS[which], distinct(shape, seed))


def test_clip_without_bounds_is_a_copy_in_every_mode():
    # np.clip(a) (or with None bounds) returned a itself, so a write into the result changed a:
    # jvp and jit_jvp gave f = 9x**2 where NumPy's f is x**2
    def f(z):
        c = np.clip(z, None, None) if z.ndim else np.clip(z)
        c *= 3.0
        return z * z

    x, v = np.array([1.0, 2.0]), np.array([1.0, -0.5])
    for value, tangent in (dd.jvp(f, x, v), dd.jit_jvp(f)(x, v)):
        np.testing.assert_allclose(value, x * x)
        np.testing.assert_allclose(tangent, 2 * x * v)
    np.testing.assert_allclose(dd.taylor(f, x, 1)[:, 1], 2 * x)
    assert dd.derivative(f, np.array(1.5)) == pytest.approx(3.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.nanmedian(a, axis=1),
        lambda a: np.nanmedian(a),
        lambda a: np.nanquantile(a, [0.3, 0.9], axis=0),
        lambda a: np.nanpercentile(a, 42.0, axis=1, keepdims=True),
        lambda a: np.nanmax(a, axis=0),
        lambda a: np.nanmin(a, axis=1),
        lambda a: np.nanvar(a, axis=0, ddof=1),
        lambda a: np.nanstd(a),
        lambda a: np.nanprod(a, axis=1),
        lambda a: np.nancumprod(a, axis=0),
    ],
)
def test_nan_functions_leave_nans_out(f):
    x = distinct((4, 5), 3)
    nans = np.zeros((4, 5), bool)
    nans[[0, 1, 3, 3], [1, 0, 2, 4]] = True
    check(lambda a: f(np.where(nans, np.nan, a)), x)


def test_quantiles_in_float32_keep_numpys_dtype_and_value():
    x = distinct((3, 5), 1).astype(np.float32)
    for f in (
        lambda a: np.quantile(a, 0.3, axis=1),
        lambda a: np.percentile(a, 70),
        lambda a: np.median(a, axis=0),
        lambda a: np.nanvar(np.where(a > 1.0, np.nan, a), axis=1),
    ):
        value = np.asarray(dd.jvp(f, x, np.ones_like(x))[0])
        assert value.dtype == f(x).dtype
        np.testing.assert_array_equal(value, f(x))


def test_quantile_methods_without_a_rule_are_refused():
    with pytest.raises(TypeError, match="method='weibull'"):
        dd.jacobian(lambda a: np.quantile(a, 0.5, method="weibull"), np.arange(4.0))
    with pytest.raises(TypeError, match="q must not carry a derivative"):
        dd.jacobian(lambda a: np.percentile(a, a[0] * 10 + 50), np.arange(4.0))
    with pytest.raises(TypeError, match="weights"):
        dd.jacobian(
            lambda a: np.quantile(a, 0.5, method="inverted_cdf", weights=np.ones(4)),
            np.arange(4.0),
        )


def test_median_of_a_slice_with_a_nan_is_nan():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, tangent = dd.jvp(lambda a: np.median(a, axis=1), x, np.ones_like(x))
    np.testing.assert_array_equal(np.asarray(value), np.median(x, axis=1))
    assert tangent[1] == 1.0


# -- ufunc.at: assembly with repeated indices -----------------------------------------------------


def _assemble(stiffness, nodes, elements):
    k = np.zeros((nodes, nodes), like=stiffness)
    for e, (i, j) in enumerate(elements):
        local = stiffness[e] * np.array([[1.0, -1.0], [-1.0, 1.0]])
        np.add.at(k, np.ix_([i, j], [i, j]), local)
    return k


def test_add_at_assembles_a_stiffness_matrix():
    elements = [(0, 1), (1, 2), (2, 3), (1, 3), (0, 1)]  # a repeated element adds twice
    x = RNG.uniform(1.0, 2.0, len(elements))
    check(lambda s: _assemble(s, 4, elements), x)


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from([np.add, np.subtract, np.multiply, np.maximum, np.minimum]),
    st.lists(st.integers(0, 5), min_size=1, max_size=12),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_ufunc_at_with_repeated_indices(ufunc, index, dual_target, dual_values, seed):
    """Dual target and/or dual values, repeated indices, against NumPy's own ``at``."""
    x = distinct((6 + len(index),), seed)

    def f(a):
        target = a[:6] * 1.0 if dual_target else np.zeros(6, like=a) + x[:6]
        values = a[6:] if dual_values else x[6:]
        ufunc.at(target, index, values)
        return target

    def plain(a):
        target = a[:6].copy()
        ufunc.at(target, index, a[6:])
        return target

    value = np.asarray(dd.jvp(f, x, np.ones_like(x))[0])
    np.testing.assert_array_equal(value, plain(x))
    assert_close(dd.jacobian(f, x), numeric_jacobian(f, x))


@pytest.mark.parametrize("ufunc", [np.add, np.multiply])
def test_ufunc_at_second_derivatives_by_nesting(ufunc):
    """Nested duals take the general path (one item assignment per round of occurrences)."""
    index = [0, 2, 0, 0, 1]

    def f(a):
        k = a[:3] * 1.0
        ufunc.at(k, index, a[3:] ** 2)
        return np.sum(k**3)

    x = RNG.uniform(0.5, 1.5, 8)
    hessian = dd.hessian(f, x)
    for v in np.random.default_rng(9).standard_normal((3, 8)) * 0.1:
        assert_close(v @ hessian @ v, second(lambda t: f(x + t * v), 0.0), rtol=1e-5, atol=1e-5)


def test_add_at_writes_through_a_view():
    def f(a):
        y = a**2
        row = y.T[1]  # a view of column 1
        np.add.at(row, [0, 0, 2], a[:3, 0])
        return y

    check(f, RNG.standard_normal((3, 3)))


def test_ufunc_at_with_a_unary_ufunc_and_a_scalar_index():
    check(lambda a: _negated(a, 1), RNG.standard_normal(4))


def _negated(a, i):
    y = a * 1.0
    np.negative.at(y, i)
    np.square.at(y, [0, 0])
    return y


def test_add_at_into_a_plain_array_refuses_naming_the_fix():
    def f(a):
        k = np.zeros(3)
        np.add.at(k, [0, 0], a[:2])
        return k

    with pytest.raises(TypeError, match=r"numpy\.add\.at.*zeros_like"):
        dd.jacobian(f, np.ones(3))


# -- eig and eigvals: non-symmetric, complex -------------------------------------------------------


def _parts(*arrays):
    return np.concatenate(
        [np.ravel(np.real(a)) for a in arrays] + [np.ravel(np.imag(a)) for a in arrays]
    )


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_eig_of_a_nonsymmetric_matrix_against_numeric_differences(seed):
    # LAPACK fixes each eigenvector's phase (unit norm, largest component real); the
    # differences see that convention as long as no component's order changes nearby
    x = np.random.default_rng(seed).standard_normal((4, 4))
    assert np.iscomplexobj(np.linalg.eigvals(x))  # a complex pair: complex results
    check(lambda a: _parts(*np.linalg.eig(a)), x, rtol=1e-6)
    check(lambda a: _parts(np.linalg.eigvals(a)), x, rtol=1e-6)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.integers(2, 5), st.booleans())
def test_eig_satisfies_its_defining_identities(seed, n, complex_input):
    """``dA V + A dV = dV W + V dW``, unit norm kept (``Re(v^H dv) = 0``) and the largest
    component kept real, for any direction."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) + (1j * rng.standard_normal((n, n)) if complex_input else 0)
    da = rng.standard_normal((n, n))
    w = np.linalg.eigvals(a)
    gaps = np.abs(w[:, None] - w[None, :]) + np.eye(n)
    if gaps.min() < 1e-3:
        return
    (w, v), (dw, dv) = dd.jvp(np.linalg.eig, a, da)
    scale = 1.0 + np.abs(dv).max()
    np.testing.assert_allclose(da @ v + a @ dv, dv * w + v * dw, atol=1e-9 * scale)
    np.testing.assert_allclose(np.real(np.sum(np.conj(v) * dv, axis=0)), 0.0, atol=1e-9 * scale)
    largest = np.argmax(np.abs(v), axis=0)
    np.testing.assert_allclose(np.imag(dv[largest, np.arange(n)]), 0.0, atol=1e-9 * scale)
    _, dw_only = dd.jvp(np.linalg.eigvals, a, da)
    np.testing.assert_allclose(dw_only, dw, atol=1e-9 * scale)


def test_eig_of_complex_input_against_numeric_differences():
    a = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    e = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    check(lambda t: _parts(*np.linalg.eig(a + t[0] * e)), np.zeros(1), rtol=1e-6)


def test_second_derivatives_of_eigenvalues_by_nesting():
    x = np.random.default_rng(5).standard_normal((3, 3)) + np.diag([1.0, 3.0, 6.0])

    def f(a):
        return np.sum(np.real(np.linalg.eigvals(a)) ** 3)

    hessian = dd.hessian(f, x)
    for v in np.random.default_rng(10).standard_normal((3, 3, 3)) * 0.1:
        second_difference = second(lambda t: f(x + t * v), 0.0)
        assert_close(np.tensordot(np.tensordot(hessian, v, 2), v, 2), second_difference, 1e-5, 1e-5)


@pytest.mark.parametrize("function", [np.linalg.eig, np.linalg.eigvals])
def test_eig_at_a_repeated_eigenvalue_refuses(function):
    defective = np.array([[2.0, 1.0], [0.0, 2.0]])
    for a in (np.eye(3), defective):
        with pytest.raises(ValueError, match="repeated eigenvalue.*eigh"):
            dd.jacobian(lambda m: np.real(_first(function(m))), a)


def _first(result):
    return result[0] if isinstance(result, tuple) else result


# -- the fft family: linear, with NumPy's dtypes -----------------------------------------------

FFTS = [
    lambda a: np.fft.fft(a, axis=0),
    lambda a: np.fft.ifft(a, n=6),
    lambda a: np.fft.rfft(a, norm="ortho"),
    lambda a: np.fft.irfft(a * (1 + 1j), axis=0),
    lambda a: np.fft.hfft(a - 0.5j * a),
    lambda a: np.fft.ihfft(a),
    lambda a: np.fft.fft2(a, s=(3, 5)),
    lambda a: np.fft.ifft2(a),
    lambda a: np.fft.fftn(a, axes=(1,)),
    lambda a: np.fft.ifftn(a * 1j),
    lambda a: np.fft.rfft2(a),
    lambda a: np.fft.irfft2(a + 0j),
    lambda a: np.fft.rfftn(a, norm="forward"),
    lambda a: np.fft.irfftn(a + 2j * a, s=(4, 4)),
    lambda a: np.fft.fftshift(a),
    lambda a: np.fft.ifftshift(a, axes=0),
]


@pytest.mark.parametrize("which", range(len(FFTS)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fft_family(which, dtype):
    f = FFTS[which]
    x = RNG.standard_normal((4, 3)).astype(dtype)
    value = np.asarray(dd.jvp(f, x, np.ones_like(x))[0])
    assert value.dtype == f(x).dtype  # complex64 from float32, as NumPy 2
    np.testing.assert_array_equal(value, f(x))
    if dtype is np.float64:
        g = lambda a: _parts(f(a))  # noqa: E731
        assert_close(dd.jacobian(g, x), numeric_jacobian(g, x))


def test_fft_out_is_refused():
    with pytest.raises(TypeError, match="out="):
        dd.jacobian(lambda a: np.fft.fft(a, out=np.empty(3, complex)).real, np.ones(3))


# -- polyfit, lstsq and pinv with rank-deficient inputs ---------------------------------------


def test_polyfit_and_interp_take_lists():
    x = distinct((5,), 2)
    check(lambda y: np.polyfit([0.0, 1.0, 2.0, 3.0, 4.0], y, 2), x)
    check(lambda y: np.interp([0.5, 2.5], [0.0, 1.0, 3.0], np.stack([y[0], y[1] ** 2, 1.0])), x)
    with pytest.raises(TypeError, match="xp must not carry a derivative"):
        dd.jacobian(lambda a: np.interp(0.5, a[:2], [0.0, 1.0]), np.array([0.0, 1.0]))


def test_polyfit_cov_is_refused():
    with pytest.raises(TypeError, match="cov=True"):
        dd.jacobian(lambda y: np.polyfit(np.arange(5.0), y, 1, cov=True)[0], np.ones(5))


@settings(max_examples=12, deadline=None)
@given(
    st.integers(2, 5), st.integers(2, 5), st.integers(1, 2), st.integers(0, 2**16), st.booleans()
)
def test_pinv_and_lstsq_of_rank_deficient_matrices(m, n, rank, seed, use_lstsq):
    """``A = B C`` with ``rank < min(m, n)``: perturbing ``B`` and ``C`` keeps the rank, so the
    minimum-norm solution and the pseudo-inverse are differentiable along it."""
    rank = min(rank, min(m, n) - 1)
    if rank < 1:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(m * rank + rank * n + m)

    def f(t):
        b = t[: m * rank].reshape(m, rank)
        c = t[m * rank : m * rank + rank * n].reshape(rank, n)
        a = b @ c
        if use_lstsq:
            return np.linalg.lstsq(a, t[-m:])[0]
        return np.linalg.pinv(a)

    b, c = x[: m * rank].reshape(m, rank), x[m * rank : m * rank + rank * n].reshape(rank, n)
    assert np.linalg.matrix_rank(b @ c) == rank < min(m, n)
    singular = np.linalg.svd(b @ c, compute_uv=False)
    # the reference's step (about 1e-3) is too coarse where the pseudo-inverse bends sharply: a
    # smallest kept singular value 3% of the largest (seed 19) put its error at 4e-5; the
    # derivative itself agreed with finer steps to 5e-10
    assume(singular[rank - 1] > 0.1 * singular[0])
    assert_close(dd.jacobian(f, x), numeric_jacobian(f, x), rtol=1e-6, atol=1e-6)


# -- piecewise, bincount, convolve/correlate, meshgrid, sinc ----------------------------------


def test_piecewise_applies_each_function_on_its_mask():
    x = (distinct((3, 4), 7) + 0.1) / 2  # at least 0.04 from the conditions at +-0.5

    def f(a):
        return np.piecewise(
            a, [a < -0.5, (a >= -0.5) & (a < 0.5)], [lambda v: v**3, np.sin, lambda v: 2 * v]
        )

    check(f, x)
    check(lambda a: np.piecewise(a, [a > 0], [np.exp, 1.5]), x)
    check(lambda a: np.piecewise(a[0], a[0] > 0, [np.exp]), x)  # one condition, not in a list


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=15), st.integers(0, 9))
def test_bincount_is_linear_in_its_weights(bins, minlength):
    x = RNG.standard_normal(len(bins))
    check(lambda w: np.bincount(np.array(bins), weights=w, minlength=minlength), x)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("copy", [True, False])
def test_meshgrid(indexing, sparse, copy):
    def f(a):
        grids = np.meshgrid(a[:3], a[3:5] ** 2, a[5:], indexing=indexing, sparse=sparse, copy=copy)
        assert type(grids) is type(np.meshgrid(*([np.ones(2)] * 3), sparse=sparse, copy=copy))
        return np.concatenate([np.ravel(g * 1.0) for g in grids])

    check(f, RNG.standard_normal(7))


def test_meshgrid_without_copy_views_its_arguments():
    def f(a):
        x = a[:3] * 1.0
        gx, gy = np.meshgrid(x, a[3:], copy=False, sparse=True)
        x[0] = a[5] ** 2  # a sparse grid without copy views x: the write shows in gx
        return gx * gy

    check(f, RNG.standard_normal(6))


def test_sinc_is_an_elementwise_rule_on_arrays():
    x = RNG.standard_normal((2, 3))
    check(np.sinc, x)
    assert_close(dd.derivative(np.sinc, 0.0, n=2), -(np.pi**2) / 3)


# -- second derivatives by nesting: every new function takes duals of duals -------------------

NESTED = {
    "fft.rfft": lambda a: np.sum(np.abs(np.fft.rfft(a)) ** 3),
    "fft.irfftn": lambda a: np.sum(np.fft.irfftn(a[:4] + 1j * a[4:]) ** 3),
    "bincount": lambda a: np.sum(np.bincount([0, 1, 1, 2, 0, 2, 2, 1], weights=a**2) ** 2),
    "convolve": lambda a: np.sum(np.convolve(a[:4], a[4:] ** 2) ** 2),
    "meshgrid": lambda a: np.sum(np.stack(np.meshgrid(a[:3], a[3:] ** 2)) ** 3),
    "quantile": lambda a: np.sum(np.quantile(a**3, [0.2, 0.7])),
    "nanvar": lambda a: np.nanvar(a**2 + np.where(np.arange(8) % 3 == 0, np.nan, 0.0)),
    "piecewise": lambda a: np.sum(np.piecewise(a, [a < 0], [lambda v: v**3, np.sin])),
    "polyfit": lambda a: np.sum(np.polyfit(a, np.arange(8.0) ** 2, 2) ** 2),
    "interp": lambda a: np.sum(np.interp(a, [-2.0, 0.1, 1.3, 3.0], [1.0, -1.0, 2.0, 0.0]) * a**2),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", NESTED)
def test_hessians_by_nesting(name):
    """``v^T H v`` against the second difference of ``f(x + t v)``, in three directions."""
    f = NESTED[name]
    x = distinct((8,), 3) * 1.5
    hessian = dd.hessian(f, x)
    for v in np.random.default_rng(8).standard_normal((3, 8)) * 0.1:
        assert_close(v @ hessian @ v, second(lambda t: f(x + t * v), 0.0), rtol=1e-5, atol=1e-5)


# -- np.vectorize: a Python function run on duals element by element (an object array) ----------


def _piecewise_python(t):
    return t**2 + np.sin(t) if t > 0 else -t  # a Python branch per element


@pytest.mark.filterwarnings("ignore::dualdiff.ObjectArrayWarning")
def test_vectorize_runs_the_python_function_on_duals():
    g = np.vectorize(_piecewise_python)
    x = np.array([0.5, -1.0, 2.0])
    expected = numeric_jacobian(g, x)
    np.testing.assert_allclose(dd.jacobian(g, x), expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        dd.jacobian(g, x), np.diag([2 * 0.5 + np.cos(0.5), -1, 4 + np.cos(2)])
    )
    # second derivative through Taylor mode, and the pattern of the sparsity tracer
    assert dd.derivative(g, 0.3, n=2) == pytest.approx(2 - np.sin(0.3), rel=1e-14)
    np.testing.assert_array_equal(dd.jacobian_sparsity(g, x), np.eye(3, dtype=bool))


def test_vectorize_warns_that_it_runs_per_element():
    with pytest.warns(dd.ObjectArrayWarning):
        dd.jacobian(np.vectorize(_piecewise_python), np.array([0.5, 2.0]))


@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.percentile(a, a[0] * 10 + 50),
        lambda a: np.interp(0.5, a, np.arange(4.0)),
        lambda a: np.gradient(a, a),
    ],
    ids=["percentile q", "interp xp", "gradient spacing"],
)
def test_an_argument_without_a_derivative_is_refused_without_advice_that_drops_it(f):
    """The hint used to be '(pass its .value)': right for a constant, a silently lost derivative
    for an argument computed from x, which is what the user has here."""
    with pytest.raises(TypeError, match="must not carry a derivative") as info:
        dd.jacobian(f, np.arange(4.0))
    assert "only if it does not depend on what is differentiated" in str(info.value)
    assert "custom_jvp" in str(info.value)
