"""Numeric derivatives: every method against closed forms, shapes, error estimates, bad input."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualdiff import numeric
from dualdiff.tools.comparison import error_curve

EPS = np.finfo(float).eps

# (name, f, f', points): smooth functions, at points where f' is not near zero.
SMOOTH = [
    ("sin", np.sin, np.cos, (0.3, 1.1, -2.5)),
    ("exp", np.exp, np.exp, (-1.0, 0.3, 2.0)),
    ("log", np.log, lambda x: 1 / x, (0.5, 1.7, 3.0)),
    ("cubic", lambda x: x**3 - 2 * x, lambda x: 3 * x**2 - 2, (-1.5, 1.2, 2.5)),
    (
        "exp_sin",
        lambda x: np.exp(np.sin(x)),
        lambda x: np.cos(x) * np.exp(np.sin(x)),
        (0.3, 2.9, -1.0),
    ),
    ("runge", lambda x: 1 / (1 + x * x), lambda x: -2 * x / (1 + x * x) ** 2, (0.4, -1.3, 2.5)),
    ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2, (0.3, -1.3, 2.0)),
    ("sqrt", np.sqrt, lambda x: 0.5 / np.sqrt(x), (0.5, 1.3, 3.0)),
    ("arctan", np.arctan, lambda x: 1 / (1 + x * x), (0.3, -1.7, 3.0)),
]
CASES = [(name, f, df, x) for name, f, df, points in SMOOTH for x in points]
IDS = [f"{name}@{x}" for name, _, _, x in CASES]

# Relative accuracy each method reaches with its default step on the functions above.
ACCURACY = {
    "forward": 1e-7,
    "backward": 1e-7,
    "central": 1e-9,
    "complex": 1e-14,
    "richardson": 1e-12,
}


# -- stencils -------------------------------------------------------------------------------


def test_stencils_match_the_textbook_coefficients():
    assert numeric.stencil("forward", 1) == ((0, -1.0), (1, 1.0))
    assert numeric.stencil("backward", 1) == ((-1, -1.0), (0, 1.0))
    assert numeric.stencil("central", 1) == ((-1, -0.5), (1, 0.5))
    assert numeric.stencil("central", 2) == ((-1, 1.0), (0, -2.0), (1, 1.0))
    assert numeric.stencil("central", 4) == ((-2, 1.0), (-1, -4.0), (0, 6.0), (1, -4.0), (2, 1.0))
    assert numeric.stencil("forward", 2) == ((0, 1.0), (1, -2.0), (2, 1.0))


@pytest.mark.parametrize("method", ["forward", "backward", "central"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_stencils_differentiate_polynomials_exactly(method, n):
    # Σ w_k k^m must be n! for m = n and 0 for every lower power (exact rational arithmetic).
    weights = numeric.stencil(method, n)
    for m in range(n + 1):
        total = sum(Fraction(w) * Fraction(k) ** m for k, w in weights)
        assert total == (math.factorial(n) if m == n else 0)


# -- accuracy against closed forms ----------------------------------------------------------


@pytest.mark.parametrize("method", numeric.METHODS)
@pytest.mark.parametrize("name, f, df, x", CASES, ids=IDS)
def test_first_derivative_accuracy(method, name, f, df, x):
    exact = df(x)
    assert abs(numeric.derivative(f, x, method=method) - exact) <= ACCURACY[method] * abs(exact)


# The derivatives of sin cycle: sin, cos, -sin, -cos.
SIN_DERIVATIVES = [np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), np.sin]
HIGHER = {
    ("central", 2): 1e-7,
    ("central", 3): 1e-5,
    ("central", 4): 1e-4,
    ("forward", 2): 1e-4,
    ("backward", 2): 1e-4,
    ("forward", 3): 1e-2,
    ("richardson", 2): 1e-10,
    ("richardson", 3): 1e-9,
    ("richardson", 4): 1e-7,
}


@pytest.mark.parametrize("method, n", sorted(HIGHER))
@pytest.mark.parametrize("x", [0.3, 1.1, -2.0])
def test_higher_orders(method, n, x):
    tol = HIGHER[(method, n)]
    assert abs(numeric.derivative(np.sin, x, n=n, method=method) - SIN_DERIVATIVES[n](x)) <= tol
    exp_n = numeric.derivative(np.exp, x, n=n, method=method)
    assert abs(exp_n - np.exp(x)) <= tol * np.exp(x)


def test_order_zero_is_the_value():
    assert numeric.derivative(np.sin, 0.7, n=0) == np.sin(0.7)


def test_complex_step_has_no_cancellation():
    # Any tiny step works: nothing is subtracted, so there is no round-off to balance.
    for h in (1e-10, 1e-20, 1e-100):
        value = numeric.derivative(np.exp, 1.3, method="complex", step=h)
        assert abs(value - np.exp(1.3)) <= 1e-15 * np.exp(1.3)


def test_default_step_is_relative_to_x():
    # An absolute step of eps^(1/3) would not even change x = 1e12 (its ulp is 1.2e-4).
    assert 1e12 + EPS ** (1 / 3) == 1e12
    for method in ("forward", "central", "richardson"):
        value = numeric.derivative(np.log, 1e12, method=method)
        assert abs(value - 1e-12) <= 1e-7 * 1e-12
    estimate = numeric.derivative(np.log, 1e6, full_output=True)
    assert estimate.step == pytest.approx(EPS ** (1 / 3) * 1e6, rel=1e-8)
    estimate = numeric.derivative(np.log, 0.25, method="forward", full_output=True)
    assert estimate.step == pytest.approx(EPS**0.5, rel=1e-8)


def test_integer_input_is_promoted():
    assert abs(numeric.derivative(lambda x: x**3, 2) - 12.0) <= 1e-8
    assert isinstance(numeric.derivative(np.sin, 1.0), float)


def test_scalar_functions_from_math_work():
    assert abs(numeric.derivative(math.sin, 0.4) - math.cos(0.4)) <= 1e-9


def test_complex_point_for_analytic_functions():
    z = 1.0 + 2.0j
    assert abs(numeric.derivative(lambda z: z**2, z) - 2 * z) <= 1e-9
    assert abs(numeric.derivative(np.exp, z, method="richardson") - np.exp(z)) <= 1e-12
    jac = numeric.jacobian(lambda z: z**3, np.array([1j, 2.0 - 1j]))
    np.testing.assert_allclose(jac, np.diag(3 * np.array([1j, 2.0 - 1j]) ** 2), rtol=1e-9)


# -- elementwise arrays and Jacobians --------------------------------------------------------


@pytest.mark.parametrize("method", numeric.METHODS)
def test_elementwise_derivative_over_an_array(method):
    x = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
    value = numeric.derivative(lambda x: np.exp(np.sin(x)), x, method=method)
    assert value.shape == x.shape
    exact = np.cos(x) * np.exp(np.sin(x))
    np.testing.assert_allclose(
        value, exact, rtol=0, atol=3 * ACCURACY[method] * np.abs(exact).max()
    )


def test_elementwise_derivative_agrees_with_scipy():
    differentiate = pytest.importorskip("scipy.differentiate")
    x = np.array([0.2, 0.9, 1.7, 2.4])
    f = lambda x: np.log1p(x**2) * np.cos(x)
    reference = differentiate.derivative(f, x)
    for method in ("central", "richardson"):
        difference = np.abs(numeric.derivative(f, x, method=method) - reference.df)
        assert (difference <= reference.error + ACCURACY[method]).all()


def test_elementwise_higher_order_over_an_array():
    x = np.array([0.1, 0.5, 1.5])
    np.testing.assert_allclose(numeric.derivative(np.sin, x, n=2), -np.sin(x), atol=1e-7)


def test_elementwise_step_array():
    x = np.array([1.0, 2.0])
    estimate = numeric.derivative(np.exp, x, step=np.array([1e-5, 2e-5]), full_output=True)
    np.testing.assert_allclose(estimate.step, [1e-5, 2e-5], rtol=1e-10)
    np.testing.assert_allclose(estimate.value, np.exp(x), rtol=1e-9)


def _f3(x):
    return np.stack([np.sin(x[0]) * x[1], np.exp(x[2]) * x[0], x[1] ** 2])


def _j3(x):
    return np.array(
        [
            [np.cos(x[0]) * x[1], np.sin(x[0]), 0.0],
            [np.exp(x[2]), 0.0, np.exp(x[2]) * x[0]],
            [0.0, 2 * x[1], 0.0],
        ]
    )


@pytest.mark.parametrize("method", numeric.METHODS)
def test_jacobian_against_closed_form(method):
    x = np.array([0.3, 1.2, -0.5])
    scale = np.abs(_j3(x)).max()
    np.testing.assert_allclose(
        numeric.jacobian(_f3, x, method=method), _j3(x), rtol=0, atol=ACCURACY[method] * scale
    )


def test_jacobian_shape_is_output_shape_plus_input_shape():
    a = np.arange(12.0).reshape(4, 3)
    x = np.arange(6.0).reshape(2, 3)
    jac = numeric.jacobian(lambda x: np.tanh(x @ a.T), x / 10)
    assert jac.shape == (2, 4, 2, 3)
    # For row i of x only row i of the output depends on it: d tanh(x a^T)[i,k] / d x[i,j].
    inner = 1 - np.tanh(x / 10 @ a.T) ** 2
    expected = np.zeros((2, 4, 2, 3))
    for i in range(2):
        expected[i, :, i, :] = inner[i][:, None] * a
    np.testing.assert_allclose(jac, expected, atol=1e-9)
    assert numeric.jacobian(lambda x: x.sum(), np.ones((2, 2))).shape == (2, 2)
    assert numeric.jacobian(lambda x: np.array([x, x**2]), 2.0).shape == (2,)
    assert isinstance(numeric.jacobian(np.sin, 0.5), float)


def test_jacobian_of_a_linear_map_is_the_matrix():
    a = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, 4.0]])
    jac = numeric.jacobian(lambda x: a @ x, np.array([0.1, 2.0, -3.0]))
    np.testing.assert_allclose(jac, a, atol=1e-9)


def test_jacobian_accepts_tuple_output():
    jac = numeric.jacobian(lambda x: (np.sin(x), x**2), 0.5)
    np.testing.assert_allclose(jac, [np.cos(0.5), 1.0], rtol=1e-9)


# -- Richardson's error estimate --------------------------------------------------------------

RICHARDSON_FUNCTIONS = [
    (np.sin, np.cos),
    (np.exp, np.exp),
    (lambda x: np.exp(np.sin(x)), lambda x: np.cos(x) * np.exp(np.sin(x))),
    (lambda x: 1 / (1 + x * x), lambda x: -2 * x / (1 + x * x) ** 2),
    (np.arctan, lambda x: 1 / (1 + x * x)),
    (lambda x: np.sin(x) * x**2, lambda x: np.cos(x) * x**2 + 2 * x * np.sin(x)),
    (lambda x: np.sin(3 * x) ** 3, lambda x: 9 * np.sin(3 * x) ** 2 * np.cos(3 * x)),
]


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, len(RICHARDSON_FUNCTIONS) - 1),
    x=st.floats(-4.0, 4.0, allow_nan=False),
)
def test_richardson_error_estimate_is_honest(index, x):
    f, df = RICHARDSON_FUNCTIONS[index]
    estimate = numeric.derivative(f, x, method="richardson", full_output=True)
    true_error = abs(estimate.value - df(x))
    assert true_error <= 2.0 * estimate.error
    # ... and useful: not honest merely by being large.
    assert estimate.error <= 1e-10 * max(1.0, abs(df(x)), abs(f(x)))


def test_richardson_error_estimate_over_arrays_and_orders():
    x = np.random.default_rng(1).uniform(-3.0, 3.0, 500)
    estimate = numeric.derivative(np.sin, x, method="richardson", full_output=True)
    assert estimate.error.shape == x.shape
    assert (np.abs(estimate.value - np.cos(x)) <= 2.0 * estimate.error).all()
    second = numeric.derivative(np.sin, x, n=2, method="richardson", full_output=True)
    assert (np.abs(second.value + np.sin(x)) <= 2.0 * second.error).all()
    assert np.median(second.error) <= 1e-9


def test_richardson_jacobian_carries_its_error_estimate():
    x = np.array([0.3, 1.2, -0.5])
    estimate = numeric.jacobian(_f3, x, method="richardson", full_output=True)
    assert estimate.error.shape == (3, 3)
    assert (np.abs(estimate.value - _j3(x)) <= 2.0 * estimate.error).all()
    assert estimate.method == "richardson" and estimate.step.shape == (3,)


def test_full_output_for_other_methods_has_no_error_estimate():
    estimate = numeric.derivative(np.sin, 0.5, method="central", full_output=True)
    assert estimate.error is None and estimate.method == "central" and estimate.n == 1


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "secant"}, ValueError, "unknown method 'secant'; choose one of forward"),
        ({"method": 3}, TypeError, "method must be a string"),
        ({"n": -1}, ValueError, "order n must be >= 0"),
        ({"n": 1.5}, TypeError, "order n must be an integer"),
        ({"n": 2, "method": "complex"}, ValueError, "first derivatives only"),
        ({"step": 0.0}, ValueError, "step must be positive and finite"),
        ({"step": -1e-3}, ValueError, "step must be positive and finite"),
        ({"step": float("nan")}, ValueError, "step must be positive and finite"),
        ({"step": "small"}, TypeError, "step must be a positive number"),
        ({"step": 1e-30}, ValueError, "too small to change x"),
        ({"step": [1e-3, 1e-3]}, ValueError, "does not broadcast"),
    ],
)
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        numeric.derivative(np.sin, 1.0, **kwargs)


@pytest.mark.parametrize("method", ["central", "forward", "richardson"])
@pytest.mark.parametrize("x", [1e300, np.array([1e300]), np.array([1.0, 1e300])])
def test_step_whose_power_overflows_is_refused(method, x):
    # the 9th power of the step 1.25e299 overflows float64: a scalar x raised a bare
    # OverflowError, an array x gave -0.0 with a Richardson error estimate of 0
    quarter = lambda x: x / 4  # noqa: E731
    with pytest.raises(OverflowError, match=r"raised to the order n = 9 overflows float64"):
        numeric.derivative(quarter, x, n=9, method=method)
    assert np.all(numeric.derivative(quarter, x, n=1, method=method) == pytest.approx(0.25))


def test_step_whose_power_underflows_is_refused():
    with pytest.raises(OverflowError, match=r"underflows float64; .* need a larger step"):
        numeric.derivative(np.sin, 1e-100, n=4, method="central", step=1e-100)


@pytest.mark.parametrize(
    "x, error, match",
    [
        ("1.0", TypeError, "x must be a number"),
        (None, TypeError, "x must be a number"),
        (True, TypeError, "x must be a number"),
        ([object()], TypeError, "x must be a number"),
        (float("inf"), ValueError, "x must be finite"),
        (np.array([1.0, np.nan]), ValueError, "x must be finite"),
    ],
)
def test_bad_points(x, error, match):
    with pytest.raises(error, match=match):
        numeric.derivative(np.sin, x)
    with pytest.raises(error, match=match):
        numeric.jacobian(np.sin, x)


def test_bad_functions():
    with pytest.raises(TypeError, match="expects a callable"):
        numeric.derivative(3.0, 1.0)
    with pytest.raises(TypeError, match="forget a return"):
        numeric.derivative(lambda x: None, 1.0)
    with pytest.raises(TypeError, match="must return a number"):
        numeric.jacobian(lambda x: "text", 1.0)
    with pytest.raises(ValueError, match="use numeric.jacobian"):
        numeric.derivative(lambda x: x.sum(), np.ones(3))
    with pytest.raises(ValueError, match="must not depend on x"):
        numeric.jacobian(lambda x: np.ones(3) if x[0] == 1.0 else np.ones(2), np.ones(2))
    # NumPy's "setting an array element with a sequence ... inhomogeneous shape" named neither
    with pytest.raises(ValueError, match=r"^numeric.jacobian: f returned a tuple of outputs of "):
        numeric.jacobian(lambda x: (x, x[0]), np.ones(2))


def test_complex_step_refuses_what_it_cannot_differentiate():
    with pytest.raises(ValueError, match="needs a real x"):
        numeric.derivative(np.exp, 1.0 + 1.0j, method="complex")
    with pytest.raises(ValueError, match="not analytic"):
        numeric.derivative(lambda x: np.abs(x) ** 2, 1.0, method="complex")
    with pytest.raises(ValueError, match="f\\(x\\) is complex"):
        numeric.derivative(lambda x: np.exp(1j * x), 1.0, method="complex")
    with pytest.raises(ValueError, match="f\\(x\\) is complex"):
        numeric.jacobian(lambda x: np.exp(1j * x), np.ones(2), method="complex")
    with pytest.raises(TypeError, match="complex input of the complex step"):
        numeric.derivative(math.sin, 1.0, method="complex")


# -- the error curve -------------------------------------------------------------------------


def test_error_curve_has_the_classic_shape():
    f = lambda x: np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)
    curve = error_curve(f, 1.5, methods=("forward", "central", "complex"))
    steps, rel = curve.steps, curve.relative
    assert steps.shape == (65,) and set(rel) == {"forward", "central", "complex"}
    for method, low, high, floor in (
        ("forward", 1e-10, 1e-6, 1e-6),
        ("central", 1e-7, 1e-4, 1e-9),
    ):
        best = curve.best_step(method)
        assert low <= best <= high
        best_error = np.nanmin(rel[method])
        assert best_error <= floor
        # Round-off on the left of the V, truncation on the right, both far above the bottom.
        assert rel[method][steps < 1e-13].min() > 100 * best_error
        assert rel[method][(steps > 1e-2) & (steps < 0.5)].min() > 100 * best_error
    # The complex step does not subtract: tiny steps stay at machine precision.
    assert (rel["complex"][steps < 1e-9] <= 4 * EPS).all()
    assert np.nanmin(rel["central"]) < np.nanmin(rel["forward"])
    assert "step" in str(curve) and "central" in str(curve)


def test_error_curve_for_an_array_point():
    x = np.array([0.3, 1.2, -0.5])
    curve = error_curve(_f3, x, steps=[1e-3, 1e-5, 1e-12], methods="central")
    assert curve.reference.shape == (3, 3)
    np.testing.assert_allclose(curve.reference, _j3(x), rtol=1e-14)
    err = curve.errors["central"]
    assert err[1] < err[0] and err[1] < err[2]


def test_error_curve_bad_input():
    with pytest.raises(ValueError, match="positive finite"):
        error_curve(np.sin, 1.0, steps=[1e-3, -1.0])
    with pytest.raises(ValueError, match="unknown method"):
        error_curve(np.sin, 1.0, methods=("central", "spline"))
    # a complex x with the complex step raised numeric.jacobian's error after the other methods
    # had run; best_step of a curve without one finite error raised "All-NaN slice encountered"
    with pytest.raises(ValueError, match=r"^error_curve: the complex step needs a real x"):
        error_curve(np.sin, 1.0 + 1.0j)
    with pytest.raises(ValueError, match=r"^error_curve: no step gave a finite numeric"):
        error_curve(np.sqrt, -1.0, methods=("central",)).best_step("central")
