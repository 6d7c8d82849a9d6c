"""NumPy functions added to the function table as compositions (cov, the set operations, the
histograms, the polynomial helpers, ...): NumPy's values, dtypes and shapes on plain arrays, the
conventions at ties and kinks, and clear refusals. Their derivatives in every mode are checked by
``test_every_mode.py`` (the cases in ``cases.py``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.rules.compositions import COMPOSITIONS

rng = np.random.default_rng(0)
x = rng.standard_normal(6)
x32 = x.astype(np.float32)
X = rng.standard_normal((3, 5))
S = rng.standard_normal((30, 3))
W = rng.standard_normal(30)
s = rng.standard_normal(40)
w = rng.standard_normal(40)
# repeated values, NaNs and infinities (no signed zeros: which of 0.0 and -0.0 NumPy's unstable
# sort keeps where they merge is its sort's choice)
DUP = np.array([3.0, 1.0, 2.0, 1.0, np.nan, 3.0, np.nan, 0.0, np.inf, np.inf, 2.0])
OTHER = np.array([1.0, 3.0, 3.0, np.nan, 7.0, 0.0])

CALLS = [
    (np.vander, (x,), {}),
    (np.vander, (x32, 3), {"increasing": True}),
    (np.vander, (x, 0), {}),
    (np.vander, (x, 1), {}),
    (np.poly, (x,), {}),
    (np.poly, (np.array([1 + 2j, 1 - 2j, 3]),), {}),
    (np.poly, (np.array([1 + 2j, 3]),), {}),
    (np.poly, (X[:, :3],), {}),
    (np.poly, (np.array([]),), {}),
    (np.polymul, (x, x[:3]), {}),
    (np.polymul, (np.array([0.0, 0, 1, 2]), x[:2]), {}),
    (np.polymul, (np.zeros(2), x32[:2]), {}),
    (np.polydiv, (x, x[:3]), {}),
    (np.polydiv, (np.array([1.0, -3, 2]), np.array([1.0, -1])), {}),
    (np.polydiv, (x[:2], x[:4]), {}),
    (np.roots, (x,), {}),
    (np.roots, (np.array([0, 0, 1.0, -3, 2, 0, 0]),), {}),
    (np.roots, (np.array([2.0]),), {}),
    (np.roots, (x32,), {}),
    (np.logspace, (x[:2], 2.0), {"num": 4}),
    (np.logspace, (0.5, x[:3]), {"num": 4, "base": np.array([2.0, 3.0, 4.0])}),
    (np.logspace, (x32[:2], 1.0), {"num": 3, "axis": 1}),
    (np.geomspace, (np.abs(x[:2]) + 0.1, 5.0), {"num": 4}),
    (np.geomspace, (-2.0, -(x[:3] ** 2) - 1), {"num": 5, "endpoint": False}),
    (np.geomspace, (x32[:2] + 3, 7.0), {"num": 3, "axis": -1}),
    (np.geomspace, (1.0 + 1j, 8.0), {"num": 4}),
    (np.cumulative_prod, (x,), {}),
    (np.cumulative_prod, (X,), {"axis": 1, "include_initial": True}),
    (np.cumulative_prod, (x32,), {"include_initial": True}),
    (np.cov, (X,), {}),
    (np.cov, (x,), {}),
    (np.cov, (X,), {"rowvar": False, "ddof": 0}),
    (np.cov, (x, x * 2 + 1), {}),
    (np.cov, (X,), {"fweights": [1, 2, 1, 3, 1], "aweights": np.arange(1.0, 6)}),
    (np.cov, (X,), {"aweights": np.arange(1.0, 6), "bias": True}),
    (np.cov, (x32,), {}),
    (np.cov, (X + 1j * X[::-1],), {}),
    (np.cov, (X.astype(np.float32),), {"dtype": np.float32}),
    (np.corrcoef, (X,), {}),
    (np.corrcoef, (x, -(x**2)), {}),
    (np.corrcoef, (x,), {}),
    (np.unwrap, (np.cumsum(x) * 3,), {}),
    (np.unwrap, (X * 5,), {"axis": 0}),
    (np.unwrap, (np.array([0.0, np.pi, 0.0, -np.pi, 0.0]),), {}),
    (np.unwrap, (x32 * 4,), {"period": 6}),
    (np.unwrap, (X * 4,), {"discont": 4.0}),
    (np.apply_along_axis, (np.sum, 0, X), {}),
    (np.apply_along_axis, (lambda r: np.outer(r, r[:2]), 1, X), {}),
    (np.apply_along_axis, (lambda r: r[::2], -1, X[None]), {}),
    (np.apply_over_axes, (np.sum, X[None], [0, 2]), {}),
    (np.apply_over_axes, (np.mean, X, 1), {}),
    (np.choose, (np.array([0, 2, 1, 1]), [x[:4], x[1:5], 3.0]), {}),
    (np.choose, (np.array([0, 2, 1]), [x32[:3], x32[1:4], 3.0]), {}),
    (np.choose, (np.array([[0], [1]]), X[:2, :4]), {"mode": "wrap"}),
    (np.choose, (np.array([0, 5, -1]), [x[:3], x32[:3]]), {"mode": "clip"}),
    (np.i0, (X * 5,), {}),
    (np.i0, (x32,), {}),
    (np.i0, (np.array([0.0, 8.0, 20.0, -9.0]),), {}),
    (np.real_if_close, (x + 1e-17j,), {}),
    (np.real_if_close, (x + 1e-3j,), {}),
    (np.real_if_close, (x32 + 0j,), {"tol": 1e-3}),
    (np.sort_complex, (X,), {}),
    (np.sort_complex, (x32,), {}),
    (np.sort_complex, (X + 1j * X[::-1],), {}),
    (np.astype, (X, np.float32), {}),
    (np.astype, (X, np.complex128), {"copy": False}),
    (np.trim_zeros, (np.array([0, 0, 1.0, 2, 0]),), {}),
    (np.trim_zeros, (np.array([0, 0, 1.0, 2, 0]),), {"trim": "b"}),
    (np.trim_zeros, (np.zeros(3),), {}),
    (np.trim_zeros, (np.pad(X, 1),), {"axis": 0}),
    (np.trim_zeros, (np.pad(X, 1),), {}),
    (np.unique, (DUP,), {}),
    (np.unique, (DUP,), {"return_index": True, "return_inverse": True, "return_counts": True}),
    (np.unique, (DUP,), {"equal_nan": False, "return_counts": True}),
    (np.unique, (DUP.reshape(1, -1),), {"return_inverse": True}),
    (np.unique, (np.array([]),), {"return_counts": True}),
    (np.unique, (x32[[0, 1, 0]],), {}),
    (np.unique_values, (DUP,), {}),
    (np.unique_counts, (DUP,), {}),
    (np.unique_inverse, (DUP.reshape(1, -1),), {}),
    (np.unique_all, (DUP,), {}),
    (np.union1d, (DUP, x), {}),
    (np.intersect1d, (DUP, OTHER), {}),
    (np.intersect1d, (DUP, OTHER), {"return_indices": True}),
    (np.intersect1d, (x[:3], x[[4, 2, 0]]), {"assume_unique": True, "return_indices": True}),
    (np.intersect1d, (DUP, OTHER), {"assume_unique": True, "return_indices": True}),
    (np.intersect1d, (x32[[0, 1, 0]], x[:2]), {"assume_unique": True}),
    (np.vander, (np.array([-0.0, 2.0]),), {}),
    (np.poly, (np.array([1j, -1j, 0.0]),), {}),
    (np.setdiff1d, (DUP, OTHER), {}),
    (np.setdiff1d, (x, x[1:3]), {"assume_unique": True}),
    (np.setxor1d, (DUP, OTHER), {}),
    (np.setxor1d, (x[:4], x[2:]), {"assume_unique": True}),
    (np.histogram, (s,), {}),
    (np.histogram, (s,), {"bins": 5, "weights": w}),
    (np.histogram, (s,), {"bins": 5, "weights": w, "density": True}),
    (np.histogram, (s,), {"bins": [-1, 0, 0.5, 2], "weights": w}),
    (np.histogram, (s,), {"bins": [-1, 0, 0.5, 2]}),
    (np.histogram, (x32,), {"bins": 4, "range": (-1, 1), "weights": x32}),
    (np.histogram, (s,), {"bins": "auto"}),
    (np.histogram, (s, 3, (0.0, 0.0)), {}),
    (np.histogram, (np.ones(3),), {"bins": 2}),
    (np.histogram_bin_edges, (s,), {"bins": 7}),
    (np.histogram_bin_edges, (x32,), {"bins": 3, "range": (-1, 2)}),
    (np.histogram_bin_edges, (np.arange(5),), {"bins": 2}),
    (np.histogram_bin_edges, (s,), {"bins": [-1.0, 0.0, 2.0]}),
    (np.histogram_bin_edges, (np.array([]),), {"bins": 2}),
    (np.histogramdd, (S,), {"bins": (2, 3, 4)}),
    (np.histogramdd, (S,), {"bins": 3, "weights": W, "density": True}),
    (np.histogramdd, (S,), {"bins": [[-1, 0, 1], 2, 3], "range": [None, (-1, 1), None]}),
    (np.histogram2d, (S[:, 0], S[:, 1]), {}),
    (np.histogram2d, (S[:, 0], S[:, 1]), {"bins": [3, 4], "weights": W, "density": True}),
    (
        np.histogram2d,
        (S[:, 0].astype(np.float32), S[:, 1]),
        {"bins": 3, "range": [(-1, 1), (-2, 2)]},
    ),
]


def _same(want, got):
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for a, b in zip(want, got):
            _same(a, b)
        return
    assert type(got) is type(want), (type(want), type(got))
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    assert np.array_equal(got, want, equal_nan=True), (want, got)
    if np.asarray(want).dtype.kind in "fc":  # signed zeros too (-0.0 + 0.0 would lose them)
        assert np.array_equal(np.signbit(np.real(got)), np.signbit(np.real(want)))


@pytest.mark.parametrize(
    "function, args, kwargs", CALLS, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CALLS)]
)
def test_body_gives_numpys_value_dtype_and_shape(function, args, kwargs):
    # the composition's body on plain arrays is NumPy's function, to the last bit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(function(*args, **kwargs), COMPOSITIONS[function](*args, **kwargs))


# the value of a dual is NumPy's value exactly, through each carrier
EXACT = {
    "geomspace": lambda a: np.geomspace(a[:2] + 3, 7.0, 5),
    "logspace": lambda a: np.logspace(a[:2], 1.0, 4, base=a[2] + 3),
    "cov": lambda a: np.cov(a.reshape(2, 3), aweights=a[3:] ** 2 + 1),
    "corrcoef": lambda a: np.corrcoef(a.reshape(2, 3)),
    "histogram edges": lambda a: np.histogram(a, 4)[1],
    "unique": lambda a: np.unique(a[[0, 1, 0, 3, 1]]),
    "i0": lambda a: np.i0(4 * a),
    "roots": lambda a: np.roots(a[:4]),
}


@pytest.mark.parametrize("name", EXACT)
def test_dual_values_are_numpys(name):
    f, point = EXACT[name], np.array([0.3, -1.2, 0.7, 2.1, -0.4, 1.6])
    want = f(point)
    assert np.array_equal(dd.jvp(f, point, np.ones(6))[0], want)
    assert np.array_equal(dd.jit_jvp(f)(point, np.ones(6))[0], want)


# -- conventions at ties and kinks ---------------------------------------------------------------


def test_unique_shares_the_derivative_of_equal_entries_evenly():
    # as np.max shares a tie: each merged value moves with the mean of its entries
    a = np.array([2.0, 1.0, 2.0, 2.0])
    expected = np.array([[0.0, 1.0, 0.0, 0.0], [1 / 3, 0.0, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(dd.jacobian(np.unique, a), expected)
    np.testing.assert_allclose(dd.jit_jacobian(np.unique)(a), expected)
    np.testing.assert_allclose(dd.jvp(np.unique_values, a, np.array([0.0, 0.0, 3.0, 0.0]))[1],
                               [0.0, 1.0])  # fmt: skip
    # the same convention as np.max of the tied entries
    np.testing.assert_allclose(dd.jacobian(np.unique, a)[1], dd.jacobian(np.max, a))


def test_unique_in_float32_keeps_its_dtype_and_shares_ties():
    a = np.array([2.0, 1.0, 2.0], dtype=np.float32)
    value, tangent = dd.jvp(np.unique, a, np.array([1.0, 0.0, 0.0], dtype=np.float32))
    assert value.dtype == np.float32 and tangent.dtype == np.float32
    np.testing.assert_allclose(tangent, [0.0, 0.5])


def test_set_operations_share_a_value_over_every_entry_equal_to_it():
    a = np.array([2.0, 1.0, 2.0, 2.0, 5.0])  # ar1 = a[:3], ar2 = a[3:]
    third = [1 / 3, 0.0, 1 / 3, 1 / 3, 0.0]
    inter = dd.jacobian(lambda a: np.intersect1d(a[:3], a[3:]), a)
    np.testing.assert_allclose(inter, [third])
    union = dd.jacobian(lambda a: np.union1d(a[:3], a[3:]), a)
    np.testing.assert_allclose(union, [[0, 1, 0, 0, 0], third, [0, 0, 0, 0, 1]])
    pair = dd.jacobian(lambda a: np.intersect1d(a[:2], a[3:], assume_unique=True), a)
    np.testing.assert_allclose(pair, [[0.5, 0, 0, 0.5, 0]])
    # setdiff1d and setxor1d keep ar1's own merged entries
    diff = dd.jacobian(lambda a: np.setdiff1d(a[:3], a[4:]), a)
    np.testing.assert_allclose(diff, [[0, 1, 0, 0, 0], [0.5, 0, 0.5, 0, 0]])


def test_unwrap_at_a_step_of_exactly_pi_follows_its_input():
    # the corrections are multiples of the period, locally constant: on both sides of a jump
    # the derivative is the identity, so also where the step is exactly pi
    p = np.array([0.0, np.pi, 0.0, -np.pi, 0.5, 4.0])
    assert np.array_equal(dd.jvp(np.unwrap, p, np.ones(6))[0], np.unwrap(p))
    np.testing.assert_array_equal(dd.jacobian(np.unwrap, p), np.eye(6))
    np.testing.assert_array_equal(dd.jit_jacobian(np.unwrap)(p), np.eye(6))


def test_roots_at_a_repeated_root_raise_as_eig_does():
    p = np.array([1.0, -2.0, 1.0])  # (z - 1)^2
    with pytest.raises(ValueError, match="repeated eigenvalue"):
        dd.jacobian(np.roots, p)
    with pytest.raises(ValueError, match="repeated eigenvalue"):
        dd.jit_jacobian(np.roots)(p)
    with pytest.raises(ValueError, match="repeated eigenvalue"):
        dd.derivative(lambda t: np.roots(p * (1 + t)), 0.0, n=2)


def test_histogram_counts_are_constants_and_weights_are_linear():
    a = np.array([2.0, 1.0, 2.5, 2.0, 5.0])
    counts = dd.jacobian(lambda a: np.histogram(a, 3, range=(0, 6))[0] * a[0], a)
    expected = np.zeros((3, 5))
    expected[:, 0] = np.histogram(a, 3, range=(0, 6))[0]
    np.testing.assert_array_equal(counts, expected)
    weighted = dd.jacobian(lambda v: np.histogram(a, [0.0, 2.0, 6.0], weights=v)[0], a)
    np.testing.assert_array_equal(weighted, [[0, 1, 0, 0, 0], [1, 0, 1, 1, 1]])


def test_histogram_edges_move_with_the_extreme_samples():
    # equal bins over the samples' own range: the edges are linspace(min, max), differentiable;
    # a tie at the maximum shares its derivative as np.max does
    def edges(a):
        return np.histogram(a, 2)[1]

    a = np.array([5.0, 1.0, 2.0, 2.0, 4.5])
    np.testing.assert_allclose(dd.jacobian(edges, a), numeric_jacobian(edges, a), atol=1e-9)
    tied = np.array([5.0, 1.0, 2.0, 2.0, 5.0])
    expected = [[0, 1, 0, 0, 0], [0.25, 0.5, 0, 0, 0.25], [0.5, 0, 0, 0, 0.5]]
    np.testing.assert_allclose(dd.jacobian(edges, tied), expected)
    np.testing.assert_allclose(dd.jacobian(edges, tied)[-1], dd.jacobian(np.max, tied))
    bin_edges = dd.jacobian(lambda a: np.histogram_bin_edges(a, 2), tied)
    np.testing.assert_allclose(bin_edges, expected)
    fixed = dd.jacobian(lambda a: np.histogram_bin_edges(a, 2, range=(0.0, 6.0)) * a[0], tied)
    np.testing.assert_array_equal(fixed[:, 1:], 0.0)


def test_choose_takes_numpys_dtype_with_python_numbers_weak():
    a = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    value, tangent = dd.jvp(
        lambda a: np.choose([0, 1, 2], [a, a * 2, 3.0]), a, np.ones(3, np.float32)
    )
    assert value.dtype == np.float32 and tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent, [1.0, 2.0, 0.0])


def test_views_stay_views():
    # NumPy's real_if_close returns a.real and trim_zeros a slice: writes through them land
    def f(v):
        z = v * (1 + 0j)
        np.real_if_close(z)[0] = v[1] * 3
        y = v * 1.0
        np.trim_zeros(y)[1] = v[0] ** 2
        return np.real(z) + y

    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(dd.jacobian(f, v), numeric_jacobian(f, v))


# -- refusals: the option named, never a plausible number -----------------------------------------

REFUSED = [
    (lambda a: np.unique(a.reshape(2, 2), axis=0), "axis"),
    (lambda a: np.unique(a * 1j, sorted=False), "sorted=False"),
    (lambda a: np.corrcoef(a.reshape(2, 2) * (1 + 1j)), "complex"),
    (lambda a: np.histogram(a, 2, weights=a * 1j), "complex weights"),
    (lambda a: np.cumulative_prod(a, out=np.zeros(4)), "out="),
    (lambda a: np.astype(a, int), "astype"),
    (lambda a: np.choose(a, [a, a]), "indices"),
    (lambda a: np.polymul(np.poly1d([1.0, 2.0]), a), "poly1d"),
    (lambda a: np.polydiv(a, np.poly1d([1.0, 2.0])), "poly1d"),
    (lambda a: np.cov(a, dtype=int), "dtype"),
    (lambda a: np.histogram(a, "auto")[1], "bins='auto'"),
]


@pytest.mark.parametrize("f, named", REFUSED, ids=[r[1] for r in REFUSED])
def test_unsupported_options_are_refused_by_name(f, named):
    with pytest.raises(TypeError, match=named):
        dd.jacobian(f, np.array([0.5, 1.5, 2.5, 3.5]))


def test_sliding_window_view_is_a_view():
    # NumPy's windows view the array: a later write into it shows through them, and with
    # writeable=True a write through them lands in it
    from numpy.lib.stride_tricks import sliding_window_view

    def later_write(a):
        y = a * 1.0
        w = sliding_window_view(y, 2)
        y[1] = a[0] ** 3
        return w[:, 0] * w[:, 1]

    def write_through(a):
        y = a * 1.0
        sliding_window_view(y, (2,), axis=-1, writeable=True)[0, 1] = a[3] * 5
        return y**2

    v = np.array([1.0, 2.0, 3.0, 4.0])
    for f in (later_write, write_through):
        want = numeric_jacobian(f, v)
        np.testing.assert_allclose(dd.jacobian(f, v), want, atol=1e-8)
        np.testing.assert_allclose(dd.derivative(lambda t: f(v + t), 0.0), want.sum(1), atol=1e-8)
        assert not (np.abs(want) > 1e-8)[~np.asarray(dd.jacobian_sparsity(f, v))].any()
        with pytest.raises(TypeError, match="sliding_window_view returned a view"):
            dd.jit_jacobian(f)(v)  # the compiler cannot trace writes through views


def test_i0_derivative_is_i1():
    special = pytest.importorskip("scipy.special")
    t = np.array([0.0, 1.5, 8.0, 9.0, -20.0, 7.99])
    np.testing.assert_allclose(dd.jvp(np.i0, t, np.ones(6))[1], special.i1(t), rtol=1e-13)
    np.testing.assert_allclose(dd.derivative(np.i0, 2.5), special.i1(2.5), rtol=1e-13)  # a Dual
    assert dd.jvp(np.i0, t.astype(np.float32), np.ones(6, np.float32))[0].dtype == np.float32


def test_compiled_replays_check_shapes_read_only_through_size():
    # the eager rule's instruction checks its result's shapes at every replay (and traces f again
    # where they differ); when only its .size was used it was dropped as dead code, and the
    # traced size was replayed silently (np.linalg.lstsq's residuals too: x * 1 where x * 0 was
    # due)
    def unique_count(x):
        return x * np.unique(x).size

    def residual_count(x):
        a = np.stack([x[:3], x[3:]], axis=1)
        return x * np.linalg.lstsq(a, np.ones(3))[1].size

    for f, first, second in [
        (unique_count, [1.0, 2.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        (residual_count, [1.0, 2.0, 3.0, 1.0, 0.0, 1.0], [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]),
    ]:
        compiled = dd.jit_jvp(f)
        compiled(np.array(first), np.ones(6))
        for point in (second, first):  # (the shapes differ: traced again, then the first kept)
            x = np.array(point)
            got, want = compiled(x, np.ones(6)), dd.jvp(f, x, np.ones(6))
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
