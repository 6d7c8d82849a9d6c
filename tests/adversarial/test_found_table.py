"""Minimal reproductions of what the hunt of the function table and the sparsity tracer found
(keyword arguments, masks and indices computed from x, patterns reused at another point).

Each says what was observed and what is expected; the references are closed forms, plain NumPy
or numeric differences, never dualdiff itself.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric


def _copyto_where_from_x(x):
    y = x.copy()
    np.copyto(y, x[::-1], where=x > 0)
    return y


def test_sparsity_of_copyto_with_a_mask_computed_from_x():
    """np.copyto(y, x[::-1], where=x > 0): the tracer took the mask as a constant (no warning),
    so the pattern at one point missed what the other branch reads, and a SparseJacobian
    prepared there returned the first point's Jacobian at the second (1 where 0 belongs)."""
    x0 = np.array([1.0, -1.0, 2.0, -2.0])
    x1 = -x0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pattern valid everywhere: no warning, no re-trace
        pattern = dd.jacobian_sparsity(_copyto_where_from_x, x0)
        sparse = dd.SparseJacobian(_copyto_where_from_x, x0)
    for x in (x0, x1):
        expected = numeric.jacobian(_copyto_where_from_x, x)
        assert not (np.abs(expected) > 1e-8)[~pattern].any()
        np.testing.assert_allclose(sparse(x), expected, atol=1e-8)
        np.testing.assert_allclose(
            dd.jacobian(_copyto_where_from_x, x, sparsity="auto"), expected, atol=1e-8
        )


X32 = np.array([0.3, -0.7, 1.1, 0.4], dtype=np.float32)
V32 = np.array([1.0, -0.5, 0.25, 2.0], dtype=np.float32)


def _dtypes(f, x, v):
    """The dtypes of value and tangent in every mode, against NumPy's dtype of f(x)."""
    found = {}
    found["jvp"] = [a.dtype for a in dd.jvp(f, x, v)]
    found["jit_jvp"] = [a.dtype for a in dd.jit_jvp(f)(x, v)]
    series = np.asarray(dd.taylor(lambda t: f(x + t * v), 0.0, 2))  # orders on the last axis
    found["taylor"] = [series[..., 0].dtype, series[..., 1].dtype]
    return found


@pytest.mark.parametrize("name", ["max", "min", "ptp", "amax(axis=0)"])
def test_max_of_float32_keeps_float32(name):
    """np.max of a float32 array: the compiler and Taylor mode came out float64 (value and
    tangent; the weights that share a tie's derivative were float64)."""
    f = {
        "max": np.max,
        "min": np.min,
        "ptp": np.ptp,
        "amax(axis=0)": lambda a: np.amax(a.reshape(2, 2), axis=0),
    }[name]
    expected = np.asarray(f(X32)).dtype
    assert expected == np.float32
    for mode, dtypes in _dtypes(f, X32, V32).items():
        assert dtypes == [expected, expected], (mode, dtypes)


@pytest.mark.parametrize(
    "name",
    ["where 0.0", "where 1", "where 1j", "where float64", "select", "select two scalars"],
)
def test_where_and_select_keep_numpy_dtype(name):
    """np.where(c, x32, 0.0) is float32 in NumPy (a Python number is weak): Taylor mode's
    coefficients came out float64 (complex128 beside 1j); the compiler left the tangent float32
    under a float64 or complex64 value; np.select([..], [x32, 2.0]) came out float64 in the
    compiler (two Python numbers met in a nested where)."""
    c = X32 > 0
    f = {
        "where 0.0": lambda y: np.where(c, y, 0.0),
        "where 1": lambda y: np.where(c, 1, y),
        "where 1j": lambda y: np.where(c, y, 1j),
        "where float64": lambda y: np.where(c, y, np.float64(2.0)),
        "select": lambda y: np.select([c], [y], 0.0),
        "select two scalars": lambda y: np.select([c, ~c], [y, 2.0]),
    }[name]
    expected = np.asarray(f(X32)).dtype
    for mode, dtypes in _dtypes(f, X32, V32).items():
        assert dtypes == [expected, expected], (mode, dtypes)
    # and the numbers: the tangent is v where y is taken
    _, tangent = dd.jit_jvp(f)(X32, V32)
    np.testing.assert_allclose(tangent, np.where(f(X32) == X32, V32, 0), rtol=1e-6)


X4 = np.array([0.3, -0.7, 1.1, 0.4])
V4 = np.array([1.0, 0.5, -0.3, 2.0])

INT_DTYPE_CALLS = {
    "concatenate": lambda y: np.concatenate([y, y], dtype=int, casting="unsafe"),
    "stack": lambda y: np.stack([y, y], dtype=int, casting="unsafe"),
    "hstack": lambda y: np.hstack([y, y], dtype=int, casting="unsafe"),
    "vstack": lambda y: np.vstack([y, y], dtype=int, casting="unsafe"),
    "einsum i,i": lambda y: np.einsum("i,i", y, y, dtype=int, casting="unsafe"),
    "einsum ij->i": lambda y: np.einsum("ij->i", y.reshape(2, 2), dtype=int, casting="unsafe"),
}


@pytest.mark.parametrize("name", sorted(INT_DTYPE_CALLS))
@pytest.mark.parametrize("mode", ["jvp", "jit_jvp", "jit_jacobian", "taylor"])
def test_an_integer_dtype_drops_the_tangent_in_every_mode(name, mode):
    """np.concatenate(..., dtype=int, casting='unsafe') and friends: jit_jvp returned an integer
    tangent (the float tangent truncated: [1, 0, 0, 2] for v = [1, .5, -.3, 2]), and eager
    hstack/vstack returned float values with a float tangent (dtype= ignored)."""
    f = INT_DTYPE_CALLS[name]
    call = {
        "jvp": lambda: dd.jvp(f, X4, V4),
        "jit_jvp": lambda: dd.jit_jvp(f)(X4, V4),
        "jit_jacobian": lambda: dd.jit_jacobian(f)(X4),
        "taylor": lambda: dd.derivative(lambda t: f(X4 + t * V4), 0.0),
    }[mode]
    with pytest.raises(TypeError, match="dtype"):
        call()


@pytest.mark.parametrize(
    "name, dtype",
    [("vstack", np.float32), ("hstack", np.complex64), ("concatenate", np.float32),
     ("stack", np.complex128)],
)  # fmt: skip
def test_a_float_dtype_of_a_join_is_honoured(name, dtype):
    """np.vstack([y, y], dtype=float32): eager mode and Taylor mode ignored dtype= (float64 value
    and tangent); jit_jacobian gathered with the element numbers cast to the dtype (a
    ComplexWarning for complex64; float32 numbers are inexact past 2**24 elements) and kept a
    float64 Jacobian."""
    join = getattr(np, name)

    def f(y):
        return join([y, y * 2.0], dtype=dtype)

    expected_dtype = f(X4).dtype
    stacked = np.concatenate([V4, 2 * V4]).reshape(f(X4).shape)  # the tangent, by linearity
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for mode, (value, tangent) in {
            "jvp": dd.jvp(f, X4, V4),
            "jit_jvp": dd.jit_jvp(f)(X4, V4),
        }.items():
            assert value.dtype == expected_dtype and tangent.dtype == expected_dtype, mode
            np.testing.assert_allclose(tangent, stacked, rtol=1e-6, err_msg=mode)
        jac = dd.jit_jacobian(f)(X4)
        assert jac.dtype == expected_dtype
        np.testing.assert_allclose(jac @ V4, stacked, rtol=1e-6)
        series = np.asarray(dd.taylor(lambda t: f(X4 + t * V4), 0.0, 1))
        assert series.dtype == expected_dtype
        np.testing.assert_allclose(series[..., 1], stacked, rtol=1e-6)


@pytest.mark.parametrize("mode", ["jacobian", "taylor"])
def test_trapezoid_with_nested_list_sample_points(mode):
    """np.trapezoid(y, x=[[0, 1], [0, 2]], axis=1): eager and Taylor mode raised AttributeError
    ('list' object has no attribute 'ndim') from inside dualdiff; NumPy takes the list."""

    def f(y):
        return np.trapezoid(y, x=[[0.0, 1.0], [0.0, 2.0]], axis=1)

    x = np.array([[0.3, -0.7], [1.1, 0.4]])
    expected = numeric.jacobian(f, x)
    if mode == "jacobian":
        np.testing.assert_allclose(dd.jacobian(f, x), expected, atol=1e-8)
    else:
        ones = np.ones_like(x)
        got = dd.derivative(lambda t: f(x + t * ones), 0.0)
        np.testing.assert_allclose(got, expected.reshape(2, -1).sum(1), atol=1e-8)


@pytest.mark.parametrize(
    "name", ["dx scalar, axis 0", "dx per interval", "dx scalar, 1-d"]
)  # fmt: skip
def test_sparsity_of_trapezoid_with_a_spacing_computed_from_x(name):
    """np.trapezoid(A, dx=y[0], axis=0): the tracer dropped dx's dependencies, so the pattern
    missed d out_j / d y_0 and jacobian(sparsity='auto') and SparseJacobian returned a
    Jacobian without them (no warning)."""
    f = {
        "dx scalar, axis 0": lambda y: np.trapezoid(y.reshape(3, 4), dx=y[0], axis=0),
        "dx per interval": lambda y: np.trapezoid(y[:4], dx=y[4:7] ** 2),
        "dx scalar, 1-d": lambda y: np.trapezoid(y[1:] ** 2, dx=np.exp(y[0])),
    }[name]
    x = np.random.default_rng(3).standard_normal(12)
    expected = numeric.jacobian(f, x).reshape(-1, x.size)
    pattern = dd.jacobian_sparsity(f, x)
    assert not (np.abs(expected) > 1e-8)[~pattern].any()
    np.testing.assert_allclose(
        np.reshape(dd.jacobian(f, x, sparsity="auto"), expected.shape), expected, atol=1e-7
    )
    np.testing.assert_allclose(
        np.reshape(dd.SparseJacobian(f, x)(x), expected.shape), expected, atol=1e-7
    )


LAYOUT_CALLS = {
    "x.T.ravel('K')": lambda y: y.reshape(2, 3).T.ravel("K"),
    "np.ravel(x.T, order='A')": lambda y: np.ravel(y.reshape(2, 3).T, order="A"),
    "x.T.flatten('K')": lambda y: y.reshape(2, 3).T.flatten("K"),
    "np.reshape(x.T, 6, order='A')": lambda y: np.reshape(y.reshape(2, 3).T, 6, order="A"),
    "np.sort(x.T, axis=0).ravel('K')": lambda y: np.sort(y.reshape(2, 3).T, axis=0).ravel("K"),
    "np.sin(x.T).ravel('K')": lambda y: np.sin(y.reshape(2, 3).T).ravel("K"),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_CALLS))
@pytest.mark.parametrize(
    "mode", ["jacobian", "jvp", "taylor", "jit_jvp", "jit_jacobian", "sparsity"]
)
def test_an_order_that_reads_the_memory_layout_is_refused(name, mode):
    """x.reshape(2, 3).T.ravel('K') is x itself in NumPy (the transpose's memory order): eager
    mode, Taylor mode, jit_jacobian and the sparsity tracer read it in C order (a permuted
    Jacobian, no error), jit_jvp got np.sort(x.T).ravel('K') wrong (its sort's layout is not
    NumPy's). No carrier mirrors NumPy's memory layouts, so order='K'/'A' is refused."""
    f = LAYOUT_CALLS[name]
    x = np.array([0.3, -0.7, 1.1, 0.4, 2.0, -1.3])
    call = {
        "jacobian": lambda: dd.jacobian(f, x),
        "jvp": lambda: dd.jvp(f, x, x),
        "taylor": lambda: dd.derivative(lambda t: f(x + t * x), 0.0),
        "jit_jvp": lambda: dd.jit_jvp(f)(x, x),
        "jit_jacobian": lambda: dd.jit_jacobian(f)(x),
        "sparsity": lambda: dd.jacobian_sparsity(f, x),
    }[mode]
    with pytest.raises(TypeError, match="memory layout"):
        call()


@pytest.mark.parametrize("order", ["K", "A"])
def test_an_order_that_reads_the_memory_layout_of_one_axis(order):
    """With at most one axis longer than 1 every order reads the same elements: accepted."""

    def f(y):
        return np.sin(y[::-1].reshape(1, 6).T).ravel(order) * y

    x = np.array([0.3, -0.7, 1.1, 0.4, 2.0, -1.3])
    expected = numeric.jacobian(f, x)
    np.testing.assert_allclose(dd.jacobian(f, x), expected, atol=1e-8)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), expected, atol=1e-8)
    assert not (np.abs(expected) > 1e-8)[~dd.jacobian_sparsity(f, x)].any()


@pytest.mark.parametrize("name", ["sigmoid", "xlogy", "xlog1py"])
@pytest.mark.parametrize("mode", ["jvp", "jit_jvp", "derivative"])
def test_a_rule_without_a_ufunc_returns_a_scalar_for_0d_input(name, mode):
    """dd.xlog1py(s, 0.5) of a 0-d array s returned a 0-d array (np.where's), where a ufunc
    returns a scalar; e = np.expand_dims(r, 0); e += e then doubled r in plain NumPy and in the
    value of eager mode but not its tangent (0.405 where the program's derivative is 0.811),
    and jit_jvp doubled both. As a ufunc's, the result is a scalar: nothing aliases it."""
    rule = getattr(dd, name)

    def f(a0):
        r = rule(a0, 0.5) if name != "sigmoid" else rule(a0)
        e = np.expand_dims(r, 0)
        e += e
        return r

    x = np.array(0.411)
    assert np.ndim(f(x)) == 0 and not isinstance(f(x), np.ndarray)
    h = 1e-6
    expected = (f(x + h) - f(x - h)) / (2 * h)
    got = {
        "jvp": lambda: dd.jvp(f, x, np.array(1.0))[1],
        "jit_jvp": lambda: dd.jit_jvp(f)(x, np.array(1.0))[1],
        "derivative": lambda: dd.derivative(f, 0.411),
    }[mode]()
    np.testing.assert_allclose(got, expected, rtol=1e-7)


def test_jit_add_reduce_over_every_axis():
    """np.add.reduce(a, axis=None) sums over every axis (the default axis is 0): the compiler
    dropped axis=None with the other None options and summed over axis 0 (shape (3,) rather
    than (), and jit_jacobian a (3, 2, 3) Jacobian of the wrong function)."""
    x = np.arange(6.0).reshape(2, 3)
    for keepdims in (False, True):

        def f(y):
            return np.add.reduce(y, axis=None, keepdims=keepdims) * y[0, 1]

        expected = numeric.jacobian(f, x)
        value, tangent = dd.jit_jvp(f)(x, x)
        np.testing.assert_allclose(value, f(x))
        np.testing.assert_allclose(tangent, np.tensordot(expected, x, x.ndim), rtol=1e-7)
        np.testing.assert_allclose(dd.jit_jacobian(f)(x), expected, atol=1e-7)


@pytest.mark.parametrize("mode", ["jvp", "jit_jvp", "taylor"])
def test_accumulate_over_every_axis_is_refused_as_numpy_does(mode):
    """np.add.accumulate(a, axis=None) raises ValueError in NumPy; eager mode and the compiler
    returned the cumulative sum of the flattened array."""

    def f(y):
        return np.add.accumulate(y, axis=None)

    x = np.arange(6.0).reshape(2, 3)
    call = {
        "jvp": lambda: dd.jvp(f, x, x),
        "jit_jvp": lambda: dd.jit_jvp(f)(x, x),
        "taylor": lambda: dd.derivative(lambda t: f(x + t), 0.0),
    }[mode]
    with pytest.raises(ValueError, match="multiple axes"):
        call()


def test_sparsity_of_a_ufunc_reduce_with_a_mask_computed_from_x():
    """np.add.reduce(A, axis=1, where=np.flip(A) > 0): the tracer passed the mask (a value
    computed from x) on to NumPy, which handed it back to it: RecursionError from inside
    dualdiff."""

    def f(y):
        a = y.reshape(2, 3)
        return np.add.reduce(a, axis=1, where=np.flip(a) > 0)

    x0 = np.array([0.5, -1.0, 2.0, -0.3, 1.2, 0.7])
    pattern = dd.jacobian_sparsity(f, x0)
    sparse = dd.SparseJacobian(f, x0)
    for x in (x0, -x0, x0[::-1].copy()):
        expected = numeric.jacobian(f, x).reshape(2, 6)
        assert not (np.abs(expected) > 1e-8)[~pattern].any()
        np.testing.assert_allclose(sparse(x), expected, atol=1e-8)


_LINALG_NAMES = (
    "cholesky",
    "cholesky upper",
    "eigvalsh",
    "eigh vectors",
    "svdvals",
    "svd hermitian",
    "svd vectors",
    "pinv",
    "qr",
    "lstsq",
    "norm 2",
    "norm nuc",
    "cond",
)


@pytest.mark.parametrize("order", [1, 3])
@pytest.mark.parametrize("name", _LINALG_NAMES)
def test_taylor_linalg_of_float32_keeps_float32(name, order):
    """Taylor mode's linalg rules computed a float32 matrix in float64 (a float64 identity in
    the rules of cholesky and eigh; the fallback of pinv, qr, lstsq, svd by nested duals of
    float64 from order 2): coefficients float64, unlike NumPy's float32 and eager mode's."""
    spd = 3 * np.eye(2, dtype=np.float32)
    f = {
        "cholesky": lambda m: np.linalg.cholesky(m @ m.T + spd),
        "cholesky upper": lambda m: np.linalg.cholesky(m @ m.T + spd, upper=True),
        "eigvalsh": lambda m: np.linalg.eigvalsh(m + m.T),
        "eigh vectors": lambda m: np.linalg.eigh(m + m.T)[1],
        "svdvals": lambda m: np.linalg.svd(m, compute_uv=False),
        "svd hermitian": lambda m: np.linalg.svd(m + m.T, compute_uv=False, hermitian=True),
        "svd vectors": lambda m: np.linalg.svd(m)[0],
        "pinv": np.linalg.pinv,
        "qr": lambda m: np.linalg.qr(m)[1],
        "lstsq": lambda m: np.linalg.lstsq(m, v)[0],
        "norm 2": lambda m: np.linalg.norm(m, 2),
        "norm nuc": lambda m: np.linalg.norm(m, "nuc"),
        "cond": np.linalg.cond,
    }[name]
    x, v = X32.reshape(2, 2), V32.reshape(2, 2)
    series = np.asarray(dd.taylor(lambda t: f(x + t * v), 0.0, order))
    assert np.asarray(f(x)).dtype == np.float32
    assert series.dtype == np.float32
    np.testing.assert_array_equal(series[..., 0], f(x))  # NumPy's own float32 value
    x64, v64 = x.astype(np.float64), v.astype(np.float64)
    slope = numeric.derivative(lambda t: f(x64 + t * v64), 0.0)
    np.testing.assert_allclose(series[..., 1], slope, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
@pytest.mark.parametrize("name", ["svd vectors", "eigh vectors", "qr", "where"])
def test_third_nested_derivative_of_float32_linalg_keeps_its_dtype(name, dtype):
    """Derivatives nested three deep: np.where(c, 0.0, x) gave a float64 zero tangent to the
    weak 0.0 (svd's and eigh's rules use it), and qr's complex rule a float64 identity: a
    float32 (complex64) matrix's result came out float64 (complex128)."""
    f = {
        "svd vectors": lambda m: np.linalg.svd(m)[0],
        "eigh vectors": lambda m: np.linalg.eigh(m + m.T)[1],
        "qr": lambda m: np.linalg.qr(m)[0],
        "where": lambda m: np.where(np.eye(2, dtype=bool), 0.0, 1 / m),
    }[name]
    x, v = X32.reshape(2, 2).astype(dtype), V32.reshape(2, 2).astype(dtype)

    def third(x, v):
        def g(r, s, t):
            # not (r + s + t) * v: a scalar Dual nested of Python floats times a float32
            # array is float64 (the scalar Dual's, a separate gap)
            return f(x + r * v + s * v + t * v)

        return dd.derivative(
            lambda r: dd.derivative(lambda s: dd.derivative(lambda t: g(r, s, t), 0.0), 0.0), 0.0
        )

    assert np.asarray(f(x)).dtype == dtype
    result = np.asarray(third(x, v))
    assert result.dtype == dtype
    wide = np.complex128 if dtype == np.complex64 else np.float64
    expected = np.asarray(third(x.astype(wide), v.astype(wide)))
    np.testing.assert_allclose(result, expected, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_sparse_jacobian_of_a_nan_output(dtype):
    """An output that is NaN (np.mean(where=) of a slice with nothing kept) has NaN derivatives
    in every direction (the dense pass, numeric differences): the sparse Jacobian gave zeros
    off the pattern, as if they were structural."""

    def f(y):
        return np.mean(y.reshape(3, 4), axis=0, where=np.eye(3, 4, dtype=bool))

    x = np.arange(1.0, 13.0).astype(dtype)
    if dtype == np.float64:
        assert np.isnan(numeric.jacobian(f, x)[3]).all()
    dense = dd.jacobian(f, x)
    assert np.isnan(dense[3]).all()
    np.testing.assert_array_equal(dd.jacobian(f, x, sparsity="auto"), dense)
    csr = dd.jacobian(f, x, sparsity="auto", output="sparse")
    csr.check_format(full_check=True)
    np.testing.assert_array_equal(csr.toarray(), dense)
    np.testing.assert_array_equal(dd.SparseJacobian(f, x, jit=True)(x), dense)
    # the other rows keep their pattern: only the NaN row is stored whole
    assert np.diff(csr.indptr).tolist() == [3, 3, 3, 12]


SCALAR_REDUCTIONS = {
    "np.prod(a, keepdims=True) of 0-d": (lambda a: np.prod(a, keepdims=True), np.array(0.411)),
    "np.prod(a, axis=())": (lambda a: np.prod(a, axis=()), np.array(0.411)),
    "np.median(a)": (np.median, np.array([0.411, -0.3, 0.2])),
    "np.percentile(a, 30)": (lambda a: np.percentile(a, 30), np.array([0.411, -0.3, 0.2])),
    "np.max(a)": (np.max, np.array([0.411, -0.3, 0.2])),
    "np.interp of 0-d": (lambda a: np.interp(a, [0.0, 1.0], [1.0, 3.0]), np.array(0.411)),
    "np.prod(a)": (np.prod, np.array([0.411, -0.3, 0.2])),
    "np.linalg.norm(a)": (np.linalg.norm, np.array([0.411, -0.3, 0.2])),
}


def _written_through_a_view(reduction):
    def f(a0):
        z = a0 * 1.0
        s = reduction(z)
        e = np.expand_dims(s, 0)  # a view of s if s is an array, a new array if a scalar
        e += 0.5
        return s * z

    return f


@pytest.mark.parametrize(
    "name, mode",
    # the compiler kept these scalars 0-d arrays (an eager rule replayed as one instruction
    # returned its Dual's value as a 0-d array): a view of one aliased it
    [(name, mode) for name in sorted(SCALAR_REDUCTIONS) for mode in ("jvp", "jit_jvp")],
)
def test_a_reduction_that_numpy_returns_as_a_scalar(name, mode):
    """NumPy returns these as scalars; eager mode (prod of a 0-d array with keepdims=True or
    axis=(); median and percentile compositions: np.where's 0-d array) or the compiler (max)
    returned 0-d arrays, so e = np.expand_dims(s, 0); e += 0.5 wrote into s: a wrong value
    and derivative. (np.prod(a, axis=()) even returned a itself.)"""
    reduction, x = SCALAR_REDUCTIONS[name]
    f = _written_through_a_view(reduction)
    v = np.ones_like(x)
    h = 1e-6
    expected = (f(x + h * v) - f(x - h * v)) / (2 * h)
    value, tangent = dd.jvp(f, x, v) if mode == "jvp" else dd.jit_jvp(f)(x, v)
    np.testing.assert_allclose(value, f(x.copy()), rtol=1e-12)
    np.testing.assert_allclose(tangent, expected, atol=1e-7)


def test_prod_over_no_axes_is_a_new_array():
    """np.prod(z, axis=()) is a new array in NumPy: eager mode returned z itself, so a write
    into the result wrote into z."""

    def f(y):
        z = y * 1.0
        p = np.prod(z, axis=())
        p += 1.0
        return z * p

    x = np.array([0.4, -0.3])
    np.testing.assert_allclose(dd.jacobian(f, x), numeric.jacobian(f, x), atol=1e-8)


def test_sparsity_of_a_write_into_a_view_of_a_ufunc_scalar():
    # a ufunc of a 0-d array is NumPy's scalar: a view of it (np.expand_dims) is a new array, so
    # a write through it leaves the scalar's dependencies alone (the tracer linked them, so
    # SparseJacobian left the derivative out)
    def f(a0):
        a1 = np.abs(2.7 * np.tanh(a0))
        a2 = np.expand_dims(a1, 0)
        a2[:] = 0.5
        return np.arccos(0.855 * np.tanh(a1))

    x = np.array(0.411)
    assert dd.jacobian_sparsity(f, x).all()


def test_taylor_write_through_a_view_of_a_0d_array():
    # np.ravel of np.where's 0-d array is a view of it in Taylor mode too (hunt-taylor linked
    # the views of a 0-d series): a write through it reaches it
    def f(a0):
        a2 = np.where(a0 > 0.0, a0 * 2.0, a0)  # a 0-d array (np.where never gives a scalar)
        a3 = np.ravel(a2)  # a view of it
        a3 += 0.5
        return np.tanh(a2) * a0

    x = np.array(0.411)
    h = 1e-6
    expected = (f(np.array(x + h)) - f(np.array(x - h))) / (2 * h)
    np.testing.assert_allclose(dd.taylor(f, x, 1)[..., 1], expected, atol=1e-7)


_SCALAR_RESULTS = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "prod": np.prod,
    "matmul": lambda x: x @ x,
    "norm": np.linalg.norm,
    "add.reduce": np.add.reduce,
    "einsum": lambda x: np.einsum("i,i->", x, x),
    "median": np.median,
    "item": lambda x: x[0],
    "std": np.std,
}


@pytest.mark.parametrize("name", sorted(_SCALAR_RESULTS))
def test_sparsity_of_writes_into_views_of_a_scalar_result(name):
    # NumPy's scalar results are immutable: np.expand_dims / np.reshape of one is a new array,
    # so writing into it leaves s alone. The tracer held s as a 0-d array whose views were
    # linked to it: the write emptied s's dependencies, and the pattern missed d(s * x)/dx
    # (x @ x, norm, add.reduce, einsum: jacobian(sparsity="auto") silently wrong)
    reduce = _SCALAR_RESULTS[name]

    def f(x):
        s = reduce(x)
        e = np.expand_dims(s, 0)
        e[:] = 0.5
        r = np.reshape(s, (1,))
        r *= 0.0
        return s * x

    x = np.array([0.3, -0.5, 0.8])
    expected = numeric.jacobian(f, x)
    pattern = np.asarray(dd.jacobian_sparsity(f, x))
    assert not (np.abs(expected) > 1e-8)[~pattern].any()
    np.testing.assert_allclose(dd.jacobian(f, x, sparsity="auto"), expected, atol=1e-7)
    np.testing.assert_allclose(dd.jacobian(f, x), expected, atol=1e-7)
    np.testing.assert_allclose(dd.jit_jacobian(f)(x), expected, atol=1e-7)  # prod, norm, median
