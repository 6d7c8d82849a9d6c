"""compare/check: AD against numeric differences, tolerances, kinks, the table, bad input."""

import re

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric
from dualdiff.tools.comparison import DEFAULT_RTOL, MAX_ROWS, Comparison, check, compare


def smooth(x):
    return np.exp(np.sin(x)) * x**2


def smooth_derivative(x):
    return np.exp(np.sin(x)) * (np.cos(x) * x**2 + 2 * x)


@dd.custom_jvp
def softplus(x):
    return np.log1p(np.exp(x))


@softplus.defjvp
def _softplus_wrong(values, tangents):
    (x,), (t,) = values, tangents
    return softplus(x), dd.sigmoid(-x) * t  # deliberately wrong: the rule is sigmoid(x)


@dd.custom_jvp
def softplus_right(x):
    return np.log1p(np.exp(x))


@softplus_right.defjvp
def _softplus_right(values, tangents):
    (x,), (t,) = values, tangents
    return softplus_right(x), dd.sigmoid(x) * t


def relu(x):
    return x if x > 0 else 0.0 * x  # at 0 AD follows the left branch: derivative 0


@dd.custom_jvp
def kinked(x):
    return np.abs(x)


@kinked.defjvp
def _kinked(values, tangents):
    (x,), (t,) = values, tangents
    return kinked(x), 5.0 * t if x == 0 else np.sign(x) * t  # 5 is no subgradient of |x|


def data_rows(text):
    return [line for line in text.splitlines() if re.match(r"^\[[\d, ]*\]\s", line)]


# -- agreement -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", numeric.METHODS)
def test_smooth_function_agrees_with_every_method(method):
    comparison = compare(smooth, 2.1, method=method)
    assert comparison.ok
    assert comparison.method == method and comparison.rtol == DEFAULT_RTOL[method]
    assert comparison.ad.shape == comparison.numeric.shape == ()
    # The AD side is exact: it matches the closed form to round-off.
    assert abs(comparison.ad - smooth_derivative(2.1)) <= 4e-16 * abs(smooth_derivative(2.1))
    assert comparison.max_abs_error <= 100 * DEFAULT_RTOL[method]
    assert comparison.max_rel_error == pytest.approx(
        comparison.max_abs_error / abs(comparison.ad), rel=1e-12
    )
    assert (comparison.error_estimate is not None) == (method == "richardson")


def test_step_is_reported_and_can_be_chosen():
    comparison = compare(smooth, 2.1)
    assert comparison.step == pytest.approx(np.finfo(float).eps ** (1 / 3) * 2.1, rel=1e-8)
    chosen = compare(smooth, 2.1, step=1e-4)
    assert chosen.step == pytest.approx(1e-4, rel=1e-9) and chosen.ok
    assert "step 0.0001" in str(chosen)


def test_check_returns_the_comparison_when_it_agrees():
    comparison = check(softplus_right, 0.7)
    assert isinstance(comparison, Comparison) and comparison.ok
    check(softplus_right, -3.0, method="complex")


def test_complex_point():
    comparison = compare(lambda z: z**3, 1.0 + 2.0j)
    assert comparison.ok and np.iscomplexobj(comparison.ad)
    assert "j" in str(comparison)


# -- catching a wrong derivative -------------------------------------------------------------


def test_compare_catches_a_wrong_custom_rule():
    comparison = compare(softplus, 0.7)
    assert not comparison.ok
    assert comparison.status[()] == "FAIL"
    # AD reports the wrong rule sigmoid(-x); numeric finds sigmoid(x).
    assert abs(comparison.ad - 1 / (1 + np.exp(0.7))) <= 1e-15
    assert abs(comparison.numeric - 1 / (1 + np.exp(-0.7))) <= 1e-9


@pytest.mark.parametrize("method", numeric.METHODS)
def test_check_raises_with_the_table(method):
    with pytest.raises(AssertionError) as info:
        check(softplus, 0.7, method=method)
    message = str(info.value)
    assert "disagree" in message and "FAILED, 1 of 1 entries outside tolerance" in message
    assert re.search(r"index\s+AD\s+numeric\s+abs err\s+rel err", message)
    row = data_rows(message)[0]
    assert row.startswith("[]") and row.endswith("FAIL")
    assert f"{1 / (1 + np.exp(0.7)):.12g}"[:12] in row  # the AD value
    assert f"method {method}" in message


def test_tolerance_overrides():
    # Forward differences are off by ~1e-8: exact tolerances reject them...
    assert not compare(np.exp, 1.3, method="forward", rtol=0, atol=0).ok
    # ... and loose ones accept even the wrong rule (off by 0.34).
    assert compare(softplus, 0.7, atol=0.5).ok
    assert not compare(softplus, 0.7, rtol=0.1).ok
    comparison = compare(np.exp, 1.3, rtol=1e-3)
    assert comparison.rtol == 1e-3 and comparison.atol == pytest.approx(1e-3 * np.exp(1.3) / 1.3)
    assert compare(np.exp, 1.3, atol=1e-6).atol == 1e-6


def test_absolute_tolerance_scales_with_f():
    # f' = 0 exactly while f is huge: round-off in the differences must not fail the check.
    comparison = compare(lambda x: 1e8 + (x - 2.0) ** 3, 2.0, method="forward")
    assert comparison.ok and comparison.ad == 0.0

    # A tiny function is judged at its own scale: a 50% error is caught.
    @dd.custom_jvp
    def tiny(x):
        return 1e-20 * np.sin(x)

    @tiny.defjvp
    def _(values, tangents):
        (x,), (t,) = values, tangents
        return tiny(x), 1.5e-20 * np.cos(x) * t

    assert not compare(tiny, 0.4).ok


# -- kinks -----------------------------------------------------------------------------------


def test_kink_is_recognised_and_accepted():
    comparison = compare(relu, 0.0)
    assert comparison.ok
    assert comparison.status[()] == "kink" and comparison.kinks == [()]
    assert comparison.ad == 0.0 and comparison.numeric == pytest.approx(0.5)
    backward, forward = comparison.one_sided
    assert backward == 0.0 and forward == 1.0
    text = str(comparison)
    assert "1 at a kink" in text
    assert "one-sided differences disagree (backward 0, forward 1)" in text
    assert "lies between them: accepted" in text
    check(relu, 0.0)


def test_kink_outside_the_one_sided_differences_fails():
    comparison = compare(kinked, 0.0)
    assert not comparison.ok and comparison.status[()] == "FAIL"
    assert "lies outside them" in str(comparison)
    with pytest.raises(AssertionError, match="kink at"):
        check(kinked, 0.0)
    check(kinked, 0.3)  # away from the kink the rule is right


def test_dualdiff_kink_conventions_pass():
    # |x|' = 0 at 0 and maximum's even split at a tie equal the central difference there.
    for f, x in ((np.abs, 0.0), (lambda x: np.maximum(x, 1.0), 1.0), (dd.absolute, 0.0)):
        comparison = check(f, x)
        assert comparison.kinks == []


def test_smooth_disagreement_is_not_called_a_kink():
    comparison = compare(softplus, 0.7)
    assert comparison.kinks == [] and comparison.one_sided is not None
    assert "kink" not in str(comparison)


@pytest.mark.parametrize(
    "f, x", [(np.sqrt, 0.0), (np.log, 0.0), (np.log, -1.0), (lambda x: x * x, 1e300)]
)
def test_numeric_derivative_that_is_not_finite_is_no_kink(f, x):
    # f is not finite within a step of x: nothing can be checked there, and one-sided
    # differences that are nan or inf tell nothing about a kink
    with np.errstate(all="ignore"):
        comparison = compare(f, x)
    assert not np.isfinite(comparison.numeric)
    assert not comparison.ok and comparison.kinks == []
    text = str(comparison)
    assert "kink" not in text
    assert "unchecked at []: the numeric derivative is" in text
    with pytest.raises(AssertionError, match="unchecked"), np.errstate(all="ignore"):
        check(f, x)


# -- the table -------------------------------------------------------------------------------


def many(x):
    return [np.sin(k * x / 20) + k * x for k in range(200)]


def test_big_tables_are_truncated_worst_first():
    comparison = compare(many, 0.3)
    assert comparison.ok and comparison.ad.shape == (200,)
    text = str(comparison)
    rows = data_rows(text)
    assert len(rows) == MAX_ROWS
    assert f"... {200 - MAX_ROWS} more entries with smaller errors" in text
    errors = [float(row.split()[-2 if row.endswith("FAIL") else -2]) for row in rows]
    shown = sorted(comparison.abs_error.ravel(), reverse=True)[:MAX_ROWS]
    assert errors == [float(f"{e:.2e}") for e in shown]
    assert len(data_rows(comparison.table(None))) == 200
    assert len(data_rows(comparison.table(5))) == 5


def test_failures_come_first_and_columns_align():
    @dd.custom_jvp
    def one_wrong(x):
        return x * 1.0

    @one_wrong.defjvp
    def _(values, tangents):
        (x,), (t,) = values, tangents
        return one_wrong(x), 1.001 * t

    comparison = compare(lambda x: [np.exp(k * x) for k in range(30)] + [one_wrong(x)], 0.5)
    assert not comparison.ok and int((comparison.status == "FAIL").sum()) == 1
    lines = str(comparison).splitlines()
    assert lines[0].startswith("compare: FAILED, 1 of 31 entries outside tolerance")
    rows = data_rows("\n".join(lines))
    assert rows[0].startswith("[30]") and rows[0].endswith("FAIL")
    header = next(line for line in lines if line.startswith("index"))
    # Right-aligned numeric columns end at the same place in the header and in every row.
    end = header.index("rel err") + len("rel err")
    assert all(row[end - 1] != " " and row[end : end + 1] in ("", " ") for row in rows)


def test_html_table():
    comparison = compare(many, 0.3)
    page = comparison._repr_html_()
    assert page.count("<tr") == MAX_ROWS + 1 and "<table>" in page
    assert f"{200 - MAX_ROWS} more entries" in page
    failing = compare(relu, 0.0)._repr_html_()
    assert "kink" in failing and "&lt;" not in failing  # text is escaped, no stray markup


def test_repr_is_short():
    text = repr(compare(smooth, 1.0))
    assert text.startswith("Comparison(ok=True, method='central'") and "\n" not in text


# -- arrays (needs dualdiff.api.jacobian) ------------------------------------------------------


def f3(x):
    return np.stack([np.sin(x[0]) * x[1], np.exp(x[2]) * x[0], x[1] ** 2])


def test_array_point_compares_the_jacobian():
    x = np.array([0.3, 1.2, -0.5])
    comparison = check(f3, x)
    assert comparison.ad.shape == (3, 3)
    expected = np.array(
        [
            [np.cos(0.3) * 1.2, np.sin(0.3), 0.0],
            [np.exp(-0.5), 0.0, np.exp(-0.5) * 0.3],
            [0.0, 2.4, 0.0],
        ]
    )
    np.testing.assert_allclose(comparison.ad, expected, rtol=1e-15, atol=1e-15)
    assert comparison.step.shape == (3,)
    assert data_rows(str(comparison))[0].startswith("[")


def test_array_shapes_follow_the_jacobian_rule():
    a = np.arange(12.0).reshape(4, 3) / 10
    comparison = check(lambda x: np.tanh(x @ a.T), np.arange(6.0).reshape(2, 3) / 10)
    assert comparison.ad.shape == (2, 4, 2, 3)
    assert len(data_rows(str(comparison))) == MAX_ROWS


def test_an_empty_point_prints_its_report():
    # str() raised "zero-size array to reduction operation minimum" (the range of no steps)
    for x in (np.zeros(0), np.zeros((2, 0))):
        comparison = dd.compare(np.sin, x)
        assert comparison.ok and comparison.ad.shape == x.shape + x.shape
        assert "step -," in str(comparison) and "over 0 entries" in str(comparison)
        assert "compare: OK" in comparison._repr_html_()


def test_array_point_catches_a_wrong_rule():
    x = np.array([0.1, 0.5, 0.9])
    comparison = compare(lambda x: softplus(x) * 2.0, x)
    assert not comparison.ok
    failing = [tuple(int(k) for k in i) for i in np.argwhere(comparison.status == "FAIL")]
    assert failing == [(0, 0), (1, 1), (2, 2)]  # the diagonal; the zeros off it agree
    with pytest.raises(AssertionError, match=r"FAILED, 3 of 9 entries") as info:
        check(lambda x: softplus(x) * 2.0, x)
    assert data_rows(str(info.value))[0].startswith("[2, 2]")  # the largest error first
    check(lambda x: softplus_right(x) * 2.0, x)


def test_kink_in_an_array():
    comparison = compare(lambda x: np.stack([relu(x[0]), x[1] ** 2]), np.array([0.0, 1.5]))
    assert comparison.ok and comparison.kinks == [(0, 0)]


# -- bad input -------------------------------------------------------------------------------


def test_bad_input():
    with pytest.raises(ValueError, match="rtol must be finite and >= 0"):
        compare(np.sin, 1.0, rtol=-1e-3)
    with pytest.raises(TypeError, match="atol must be a real number"):
        compare(np.sin, 1.0, atol="tiny")
    with pytest.raises(TypeError, match="unexpected keyword"):
        compare(np.sin, 1.0, tolerance=1e-3)
    with pytest.raises(ValueError, match="unknown method"):
        check(np.sin, 1.0, method="spline")
    with pytest.raises(TypeError, match="callable"):
        compare("sin", 1.0)
    with pytest.raises(TypeError, match="x must be a number"):
        compare(np.sin, "1.0")
