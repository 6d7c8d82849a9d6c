"""Reductions of nothing and reductions with where=: NumPy's values, and derivatives against
numeric differences, in every mode."""

import warnings

import numpy as np
import pytest

import dualdiff as dd


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_var_with_more_ddof_than_entries_is_numpys_in_every_mode():
    """NumPy divides by max(n - ddof, 0): inf of a spread, NaN of none. The compiled var divided
    by n - ddof itself (-2.33 for var([1, 2, 4], ddof=5)), and every mode's derivative of the
    NaN was 0, where numeric differences give NaN."""
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    v = np.array([[1.0, -2.0, 0.5], [1.0, 1.0, 1.0]])

    def f(y):
        return np.var(y, axis=1, ddof=5)

    expected = f(x)
    assert expected[0] == np.inf and np.isnan(expected[1])
    for value, tangent in (dd.jvp(f, x, v), dd.jit_jvp(f)(x, v)):
        np.testing.assert_array_equal(value, expected)
        assert np.isnan(tangent[1])  # (and not finite beside the inf: an inf's derivative)
        assert not np.isfinite(tangent[0])
    series = dd.taylor(lambda t: f(x + t * v), 0.0, 2)
    np.testing.assert_array_equal(series[:, 0], expected)
    assert np.isnan(series[1, 1:]).all()


def test_nansum_and_nanmean_take_where_and_initial():
    """Eager mode's nansum and nanmean dropped where= and initial= silently (np.nansum(x,
    where=m) gave the sum of every entry, its value and its derivative)."""
    m = np.array([True, False, True])
    x = np.array([1.0, 2.0, 4.0])
    v = np.array([1.0, 10.0, 100.0])
    for f, value, tangent in (
        (lambda y: np.nansum(y, where=m), 5.0, 101.0),
        (lambda y: np.nansum(y, initial=5.0), 12.0, 111.0),
        (lambda y: np.nanmean(y, where=m), 2.5, 50.5),
    ):
        assert f(x) == value
        for got in (dd.jvp(f, x, v), dd.jit_jvp(f)(x, v)):
            np.testing.assert_allclose(got, (value, tangent), rtol=1e-15)
        np.testing.assert_allclose(dd.taylor(lambda t: f(x + t * v), 0.0, 1), [value, tangent])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="Mean of empty slice"):
            np.nanmean(np.array([1.0]), where=np.array([False]))
        with pytest.raises(RuntimeWarning, match="Mean of empty slice"):
            dd.jvp(lambda y: np.nanmean(y, where=np.array([False])), [1.0], [1.0])


def _modes(f, x, v):
    """The derivative of f at x along v in each mode (eager, Taylor, compiled, sparse)."""
    yield "jvp", dd.jvp(f, x, v)[1]
    yield "taylor", np.moveaxis(dd.taylor(lambda t: f(x + t * v), 0.0, 1), -1, 0)[1]
    yield "jit_jvp", dd.jit_jvp(f)(x, v)[1]
    jac = dd.jacobian(f, x, sparsity="auto")
    yield "sparse", np.tensordot(jac, v, axes=v.ndim)


def test_max_with_where_shares_ties_among_the_kept_entries_only():
    """np.max(where=) passes on the kept maximum's derivative, ties shared evenly as np.max
    without where= shares them: an entry left out, equal to the maximum, takes no share."""
    keep = np.array([True, False, True, True])
    x = np.array([2.0, 2.0, 2.0, -1.0])
    v = np.array([1.0, 100.0, 3.0, 7.0])
    reference = dd.jvp(lambda y: np.max(y[keep]), x, v)[1]
    assert reference == 2.0  # (1 + 3) / 2: the tie of the kept entries
    for mode, got in _modes(lambda y: np.max(y, where=keep, initial=-5.0), x, v):
        np.testing.assert_allclose(got, reference, err_msg=mode)
    for mode, got in _modes(lambda y: np.min(-y, where=keep, initial=5.0), x, v):
        np.testing.assert_allclose(got, -reference, err_msg=mode)


def test_max_with_where_needs_initial_as_in_numpy():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="identity"):
        np.max(x, where=[True, False])
    for call in (
        lambda f: dd.jvp(f, x, x),
        lambda f: dd.jit_jvp(f)(x, x),
        lambda f: dd.taylor(lambda t: f(x + t), 0.0, 1),
    ):
        with pytest.raises(ValueError, match="to use a where mask one has to specify 'initial'"):
            call(lambda y: np.max(y, where=[True, False]))


def test_ufunc_with_where_keeps_out_where_it_does_not_hold():
    """np.exp(x, out=o, where=m): exp where m holds, o's value and derivative elsewhere (in a
    float32 o as well, NumPy's dtype); refused in every mode: without out= (NumPy leaves those
    entries uninitialised) and into a float out (the derivative would be lost)."""
    keep = np.array([True, False, True, False])
    x = np.array([0.5, -1.0, 0.25, 2.0])
    v = np.array([1.0, 2.0, -1.0, 3.0])

    def f(y, dtype=np.float64):
        out = (y[::-1] * 3.0).astype(dtype)
        result = np.exp(y, out=out, where=keep)
        assert result is out
        return out

    expected = np.where(keep, np.exp(x) * v, 3.0 * v[::-1])
    for mode, got in _modes(f, x, v):
        np.testing.assert_allclose(got, expected, rtol=1e-14, err_msg=mode)
    value, tangent = dd.jvp(lambda y: f(y, np.float32), x, v)
    assert value.dtype == tangent.dtype == np.float32
    np.testing.assert_allclose(tangent, expected, rtol=1e-6)
    for g, match in (
        (lambda y: np.exp(y, where=keep), r"numpy.exp\(..., where=...\) without out="),
        (lambda y: np.exp(y, out=np.ones(4), where=keep), "drop"),
    ):
        for mode in ("jvp", "taylor", "sparsity"):
            with pytest.raises(TypeError, match=match):
                if mode == "jvp":
                    dd.jvp(g, x, v)
                elif mode == "taylor":
                    dd.taylor(lambda t: g(x + t * v), 0.0, 1)
                else:
                    dd.jacobian_sparsity(g, x)
    with pytest.raises(TypeError, match="without out="):
        dd.jit_jvp(lambda y: np.exp(y, where=keep))(x, v)
    # the compiler writes into a traced out= only: into a plain array it refuses the write
    with pytest.raises(TypeError, match=r"numpy.exp\(..., out=...\)"):
        dd.jit_jvp(lambda y: np.exp(y, out=np.ones(4), where=keep))(x, v)


def test_reduceat_in_every_mode():
    """ufunc.reduceat (refused by every mode): NumPy's slices, an index not below the next
    giving that entry alone, ties of maximum shared as np.max shares them, against numeric
    differences; out=, empty indices and NumPy's errors; the ufuncs without a rule refused
    by name."""
    from dualdiff import numeric

    x = np.array([0.5, -1.0, 0.25, 2.0, 2.0, -0.7, 1.5])
    v = np.array([1.0, 2.0, -1.0, 3.0, 5.0, 0.5, 4.0])
    index = [0, 3, 2, 5, 5, 6]
    for ufunc in (np.add, np.multiply, np.maximum, np.minimum):

        def f(y, ufunc=ufunc):
            return ufunc.reduceat(y, index)

        if ufunc is np.maximum:  # x[3] = x[4]: a tie, shared evenly as np.max shares it
            expected = dd.jvp(
                lambda y: np.stack([np.max(y[i:j]) for i, j in _slices(index, 7)]), x, v
            )[1]
            assert expected[2] == 4.0  # x[2:5]: (3 + 5) / 2
        else:
            expected = numeric.jacobian(f, x) @ v
        for mode, got in _modes(f, x, v):
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=mode)
        np.testing.assert_array_equal(dd.jvp(f, x, v)[0], f(x))

    # nested: the second derivative along v, against differences of the analytic first one
    def g(y):
        return np.sum(np.multiply.reduceat(y, index) ** 2)

    second = dd.derivative(lambda t: dd.jvp(g, x + t * v, v)[1], 0.0)
    first = numeric.derivative(
        lambda t: np.sum(_grad_of_squared_products(x + t * v, index) * v), 0.0
    )
    np.testing.assert_allclose(second, first, rtol=1e-6)

    def into(y):
        out = np.zeros_like(y[:3])
        assert np.add.reduceat(y, [0, 2, 4], out=out) is out
        return out * np.add.reduceat(y, [], axis=0).sum()  # (an empty result)

    assert np.add.reduceat(x, []).shape == (0,)
    for mode, got in _modes(lambda y: into(y) + np.add.reduceat(y, [0, 2, 4]), x, v):
        np.testing.assert_allclose(
            got, numeric.jacobian(lambda y: np.add.reduceat(y, [0, 2, 4]), x) @ v, err_msg=mode
        )
    for mode in ("jvp", "taylor"):
        for g, error, match in (
            (
                lambda y: np.add.reduceat(y, [0, 7]),
                IndexError,
                r"index 7 out-of-bounds in add.reduceat \[0, 7\)",
            ),
            (lambda y: np.subtract.reduceat(y, [0, 2]), TypeError, "numpy.subtract.reduceat"),
        ):
            with pytest.raises(error, match=match):
                if mode == "jvp":
                    dd.jvp(g, x, v)
                else:
                    dd.taylor(lambda t: g(x + t * v), 0.0, 1)


def _grad_of_squared_products(y, index):
    """The gradient of sum(multiply.reduceat(y, index)**2), by hand: 2 p_s p_s / y_i over the
    entries i of slice s (no zeros among them here)."""
    grad = np.zeros_like(y)
    for start, stop in _slices(index, y.size):
        p = np.prod(y[start:stop])
        grad[start:stop] += 2 * p * p / y[start:stop]
    return grad


def _slices(index, n):
    for i, start in enumerate(index):
        stop = index[i + 1] if i + 1 < len(index) else n
        yield (start, stop) if start < stop else (start, start + 1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.xfail(
    strict=True,
    reason="nested derivative of the NaN derivative of a mean of nothing: the inner derivative "
    "is a constant NaN (no outer tangent), so its derivative is 0; Taylor mode gives NaN",
)
def test_nested_second_derivative_of_a_mean_of_nothing_is_nan():
    x = np.array([1.0, 2.0])

    def g(t):
        return np.mean((x + t)[:0])

    assert np.isnan(dd.taylor(g, 0.0, 2)).all()
    assert np.isnan(dd.derivative(lambda s: dd.derivative(g, s), 0.0))
