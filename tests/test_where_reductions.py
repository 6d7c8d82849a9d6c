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
