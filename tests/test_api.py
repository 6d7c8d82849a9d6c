"""derivative, jvp, jacobian, gradient: results, shapes, errors and algebraic properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import assert_close, directional
from reference import jacobian as numeric_jacobian

import dualdiff as dd

# -- the seed texts' worked examples ----------------------------------------------------------


def test_chain_rule_example():
    # y = 2x² + 4 with x = 3w: dy/dw = 36 w
    for w in (-1.0, 0.5, 2.0):
        assert dd.derivative(lambda w: 2 * (3 * w) ** 2 + 4, w) == pytest.approx(36 * w)


def test_two_forward_passes_give_the_gradient():
    f = lambda x, y: (x + y) * (x - y)
    x, y = 3.0, 2.0
    assert dd.jvp(f, (x, y), (1.0, 0.0)) == (5.0, 2 * x)
    assert dd.jvp(f, (x, y), (0.0, 1.0)) == (5.0, -2 * y)


def test_sigmoid_example():
    x = 1.7
    for w in (-0.4, 0.3, 1.2):
        s = 1.0 / (1.0 + math.exp(-w * x))
        got = dd.derivative(lambda w: 1.0 / (1.0 + np.exp(-w * x)), w)
        assert got == pytest.approx(s * (1 - s) * x, rel=1e-14)
        assert dd.derivative(lambda w: dd.sigmoid(w * x), w) == pytest.approx(s * (1 - s) * x)


# -- derivative --------------------------------------------------------------------------------


def test_derivative_of_tuple_and_list_outputs():
    out = dd.derivative(lambda x: (x**2, [np.sin(x), 3.0]), 2.0)
    assert out[0] == 4.0
    assert out[1][0] == pytest.approx(math.cos(2.0)) and out[1][1] == 0.0


def test_derivative_of_constant_function_is_zero():
    assert dd.derivative(lambda x: 5.0, 1.0) == 0.0
    np.testing.assert_array_equal(dd.derivative(lambda x: np.ones(3), np.zeros(3)), 0.0)


def test_derivative_at_complex_point():
    assert dd.derivative(np.exp, 1j) == pytest.approx(np.exp(1j))


def test_derivative_integer_point_is_promoted():
    assert dd.derivative(lambda x: x / 2, 3) == 0.5


def test_derivative_order_zero_returns_value():
    assert dd.derivative(np.sin, 0.5, n=0) == math.sin(0.5)


def test_derivative_order_zero_keeps_the_layout_of_x():
    # f got a C-ordered copy of an F-ordered x: np.ravel(x, order="K") read it in another order
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    f = lambda z: np.ravel(z, order="K") + z.flags.f_contiguous  # noqa: E731
    np.testing.assert_array_equal(dd.derivative(f, x, n=0), f(x))
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))


def test_derivative_elementwise_over_arrays():
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(dd.derivative(np.tanh, x), 1 - np.tanh(x) ** 2, rtol=1e-14)
    x2 = x.reshape(7, 1) * np.ones((1, 3))
    assert dd.derivative(np.sin, x2).shape == (7, 3)


@pytest.mark.parametrize(
    "bad, error",
    [("1.0", TypeError), (None, TypeError), (object(), TypeError), (True, TypeError)],
)
def test_derivative_bad_point(bad, error):
    with pytest.raises(error):
        dd.derivative(np.sin, bad)


@pytest.mark.parametrize("x", [(1.0, 2.0), True, np.True_])
def test_a_tuple_or_bool_point_is_refused_by_every_verb_and_option(x):
    # jacobian refused them, but workers=, sparsity= and jit_jacobian took them as an array and
    # derivative(n >= 2) a tuple, or refused a bool in higher_derivative's name
    calls = [
        ("derivative", lambda: dd.derivative(np.sin, x)),
        ("derivative", lambda: dd.derivative(np.sin, x, n=2)),
        ("jacobian", lambda: dd.jacobian(np.sin, x)),
        ("jacobian", lambda: dd.jacobian(np.sin, x, workers=1)),
        ("SparseJacobian", lambda: dd.jacobian(np.sin, x, sparsity="auto")),
        ("jit_jacobian", lambda: dd.jit_jacobian(np.sin)(x)),
        ("hessian", lambda: dd.hessian(np.sin, x)),
    ]
    for name, call in calls:
        with pytest.raises(TypeError, match=rf"^{name}: x must be a real or complex number or"):
            call()


def test_a_masked_array_is_refused_by_every_mode():
    # jacobian refused it, but workers=, sparsity=, SparseJacobian, jit_jacobian and jit_jvp
    # took its data with the masked entries: [2, 4, 6] for NumPy's sum(m * m) over [1, --, 3],
    # whose derivative is [2, 0, 6]; jvp's direction dropped its mask too
    m = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])
    f = lambda z: np.sum(z * z)  # noqa: E731
    for call in (
        lambda: dd.jacobian(f, m),
        lambda: dd.jacobian(f, m, workers=1),
        lambda: dd.jacobian(f, m, sparsity="auto"),
        lambda: dd.SparseJacobian(f, np.ones(3))(m),
        lambda: dd.jit_jacobian(f)(m),
        lambda: dd.jit_jvp(f)(m, np.ones(3)),
        lambda: dd.jvp(f, np.ones(3), m),
        lambda: dd.push_forward(f, np.ones(3), np.ma.array(np.eye(3))),
        lambda: dd.numeric.jacobian(f, m),
        lambda: dd.compare(f, m),
        lambda: dd.jacobian_sparsity(f, m),
        lambda: dd.derivative(f, m, n=2),
        lambda: dd.taylor(f, m, 2),
    ):
        with pytest.raises(TypeError, match="MaskedArray"):
            call()


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (np.matrix's)
def test_jacobian_sparsity_refuses_an_ndarray_subclass():
    # it traced np.matrix as a plain array: the pattern of x * x (x @ x for a matrix) came out
    # diagonal, where row 0 of x @ x depends on x[0, 0], x[0, 1] and x[1, 0]
    x = np.matrix([[0.3, -1.2], [0.7, 0.2]])
    with pytest.raises(TypeError, match=r"^jacobian_sparsity: x must be .*numpy\.matrix"):
        dd.jacobian_sparsity(lambda z: z * z, x)


def test_derivative_bad_function_and_order():
    with pytest.raises(TypeError, match="callable"):
        dd.derivative(3.0, 1.0)
    with pytest.raises(ValueError):
        dd.derivative(np.sin, 1.0, n=-1)
    with pytest.raises(TypeError):
        dd.derivative(np.sin, 1.0, n=1.5)
    with pytest.raises(TypeError):
        dd.derivative(np.sin, 1.0, n="2")
    # the public name in the message, not the internal function's
    with pytest.raises(ValueError, match=r"^derivative: the order must be at most"):
        dd.derivative(np.sin, 1.0, n=1000)
    with pytest.raises(ValueError, match=r"^hessian: f must return a scalar"):
        dd.hessian(np.sin, np.ones(2))


def test_derivative_of_function_returning_nothing_or_text():
    with pytest.raises(TypeError, match="return statement"):
        dd.derivative(lambda x: None, 1.0)
    with pytest.raises(TypeError, match="str"):
        dd.derivative(lambda x: "x", 1.0)


# -- jvp ----------------------------------------------------------------------------------------


def test_jvp_over_arrays_and_tuples():
    x = np.array([0.5, 1.0, 2.0])
    v = np.array([1.0, -1.0, 0.5])
    f = lambda x: np.sin(x) * x.sum()
    value, tangent = dd.jvp(f, x, v)
    np.testing.assert_allclose(value, f(x))
    assert_close(tangent, directional(f, x, v))
    g = lambda a, b: (a * b, np.sum(a))
    (p, s), (dp, ds) = dd.jvp(g, (x, 2.0), (v, 1.0))
    np.testing.assert_allclose(dp, v * 2.0 + x)
    assert ds == pytest.approx(v.sum())


def test_jvp_errors():
    with pytest.raises(ValueError, match="tangents"):
        dd.jvp(lambda a, b: a, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="shape"):
        dd.jvp(np.sin, np.ones(3), np.ones(2))
    with pytest.raises(TypeError):
        dd.jvp(np.sin, 1.0, "a")
    with pytest.raises(TypeError, match=r"^jvp: the tangent must hold .* got NoneType"):
        dd.jvp(np.sin, np.ones(2), None)


# A complex direction v at a real point x: the tangent is J(x)·v, the real Jacobian applied to v
# (J·Re v + 1j·J·Im v). One pass with a complex tangent beside real values gave neither this nor
# the rate along v at a complex point, but a mix: np.real and np.imag took the parts of v
# (jvp(np.real, 1.0, 1j) was 0), np.conj conjugated it, np.angle and np.vdot read the rate at a
# complex point, while np.abs applied J; x * x.real raised NumPy's casting error.
REAL_PART_FUNCTIONS = {
    "real": np.real,
    "imag": np.imag,
    "conj": np.conj,
    ".real * x": lambda z: z.real * z,
    "angle": np.angle,
    "vdot": lambda z: np.vdot(z, z),
    "astype": lambda z: z.astype(float) * z,
    "abs": np.abs,
}


@pytest.mark.parametrize("name", list(REAL_PART_FUNCTIONS))
def test_jvp_along_a_complex_direction_at_a_real_point(name):
    f = REAL_PART_FUNCTIONS[name]
    x = np.array([0.5, -1.2, 2.0])
    v = np.array([0.3 + 1.0j, -0.7 + 0.2j, 1.1 - 0.5j])
    jac = numeric_jacobian(f, x)  # the real Jacobian
    expected = jac @ v.real + 1j * (jac @ v.imag)
    value, tangent = dd.jvp(f, x, v)
    np.testing.assert_allclose(value, f(x))
    assert_close(tangent, expected)
    assert_close(dd.push_forward(f, x, v[None])[1][0], expected)
    # a scalar point, and a complex argument beside a real one (its own direction is kept)
    assert_close(dd.jvp(f, 0.5, 1j)[1], 1j * numeric_jacobian(f, 0.5))
    _, tangent = dd.jvp(lambda a, b: np.real(a) * b, (1.5, 2.0j), (1j, 1.0 + 1j))
    assert tangent == pytest.approx(2.0j * 1j + 1.5 * (1.0 + 1j))


@pytest.mark.parametrize("x", [2.0, np.float32(2.0), np.float16(2.0), np.complex64(1 + 1j)])
@pytest.mark.parametrize("v", [np.array(1.0), np.float64(1.0), np.float32(1.0), np.array(1.0j)])
def test_jvp_at_a_scalar_takes_a_0d_direction_in_the_values_dtype(x, v):
    # a 0-d array v raised "the tangent must be a number" (jit_jvp takes it), and a NumPy float
    # v kept its own dtype: np.float32 x with np.float64 v gave a float64 tangent under a float32
    # value, Python float x with np.float32 v a float32 tangent under a float64 value
    f = lambda z: np.sin(z) * z  # noqa: E731
    value, tangent = dd.jvp(f, x, v)
    expected = (np.cos(x) * x + np.sin(x)) * v[()]
    assert tangent == pytest.approx(expected, rel=1e-3)
    value_dtype = np.asarray(value).dtype
    complex_v = np.iscomplexobj(v)  # the value's precision, complex
    assert np.asarray(tangent).dtype == (
        np.result_type(value_dtype, 1j) if complex_v else value_dtype
    )
    assert value == dd.jvp(f, x, 1.0)[0]
    with pytest.raises(ValueError, match=r"^jvp: tangent shape \(1,\) does not match"):
        dd.jvp(f, x, np.ones(1))


def test_jvp_at_a_python_number_takes_an_int_or_bool_direction_as_a_number_of_its_type():
    # the direction came back as given: jvp(lambda z: z, 2.0, True) was (2.0, True), and an int
    # direction stayed an int under a float value
    for x, v in ((2.0, True), (2.0, 3), (2, 3), (2.0 + 0j, 3)):
        value, tangent = dd.jvp(lambda z: z, x, v)
        assert type(tangent) is type(value) and tangent == v


# -- jacobian and gradient -----------------------------------------------------------------------

W = np.array([[0.5, -1.0, 0.2], [0.3, 0.8, -0.6]])


def dense_layer(x):
    return np.tanh(W @ x + 0.1)


@pytest.mark.parametrize("chunk", [None, 1, 2, 3, 10])
def test_jacobian_matches_numeric_for_every_chunk(chunk):
    x = np.array([0.1, -0.4, 0.7])
    assert_close(dd.jacobian(dense_layer, x, chunk=chunk), numeric_jacobian(dense_layer, x))


def test_jacobian_shape_rule():
    x = np.ones((2, 3))
    f = lambda x: np.stack([x.sum(axis=0), (x**2).sum(axis=0)])  # shape (2, 3)
    jac = dd.jacobian(f, x)
    assert jac.shape == (2, 3, 2, 3)
    assert_close(jac, numeric_jacobian(f, x))
    assert dd.jacobian(np.sin, 0.5) == pytest.approx(math.cos(0.5))  # scalar x, scalar f
    assert dd.jacobian(lambda x: np.sum(x**2), np.ones(3)).shape == (3,)


def test_value_and_jacobian_returns_the_value_of_the_same_pass():
    x = np.array([0.1, -0.4, 0.7])
    value, jac = dd.value_and_jacobian(dense_layer, x)
    np.testing.assert_allclose(value, dense_layer(x))
    assert jac.shape == (2, 3)


def test_jacobian_of_tuple_output():
    j1, j2 = dd.jacobian(lambda x: (x**2, np.sum(x)), np.array([1.0, 2.0]))
    np.testing.assert_allclose(j1, np.diag([2.0, 4.0]))
    np.testing.assert_allclose(j2, [1.0, 1.0])


def test_jacobian_chunk_errors():
    with pytest.raises(ValueError, match=">= 1"):
        dd.jacobian(np.sin, np.ones(3), chunk=0)
    with pytest.raises(TypeError):
        dd.jacobian(np.sin, np.ones(3), chunk=1.5)


def test_jacobian_does_not_let_f_modify_the_input():
    x = np.array([1.0, 2.0])

    def f(v):
        v *= 2.0
        return v**2

    np.testing.assert_allclose(dd.jacobian(f, x, chunk=1), np.diag([8.0, 16.0]))  # (2x)² -> 8x
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_gradient_and_value_and_gradient():
    x = np.array([0.3, -1.2, 2.0])
    f = lambda x: np.sum(np.exp(x) * x)
    value, grad = dd.value_and_gradient(f, x)
    assert value == pytest.approx(f(x))
    np.testing.assert_allclose(grad, np.exp(x) * (1 + x), rtol=1e-14)
    with pytest.raises(ValueError, match="scalar"):
        dd.gradient(np.sin, x)


def test_hessian_by_jacobian_of_gradient_matches_differences():
    f = lambda x: np.sum(np.sin(x[0] * x) * x[1])
    x = np.array([0.4, 1.3, -0.2])
    hess = dd.jacobian(lambda z: dd.gradient(f, z), x)
    numeric = numeric_jacobian(lambda z: dd.gradient(f, z), x)
    assert_close(hess, numeric)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-13)


def test_push_forward_with_several_seeds():
    x = np.array([0.1, -0.4, 0.7])
    seeds = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, -1.0]])
    value, tangents = dd.push_forward(dense_layer, x, seeds)
    assert tangents.shape == (2, 2)
    for i in range(2):
        assert_close(tangents[i], directional(dense_layer, x, seeds[i]))
    with pytest.raises(ValueError, match="seeds"):
        dd.push_forward(dense_layer, x, np.ones((2, 4)))


# -- properties ---------------------------------------------------------------------------------

# bounded-growth functions: a chain of them keeps the numeric reference meaningful
UNARY = ["sin", "cos", "tanh", "arctan", "sigmoid", "softplus", "square", "arcsinh"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(UNARY), min_size=1, max_size=4),
    st.floats(min_value=-1.5, max_value=1.5),
)
def test_chain_rule_for_random_compositions(names, x):
    functions = [getattr(dd, name) for name in names]

    def composed(u):
        for fn in functions:
            u = fn(u)
        return u

    # product of the derivatives along the chain, each from the rule table at its own point
    expected, u = 1.0, x
    for fn in functions:
        expected *= dd.derivative(fn, u)
        u = fn(u)
    assert dd.derivative(composed, x) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert dd.derivative(composed, x) == pytest.approx(
        float(directional(composed, x, 1.0)), rel=1e-6, abs=1e-8
    )


@settings(max_examples=40, deadline=None)
@given(
    st.floats(min_value=-3, max_value=3),
    st.floats(min_value=-3, max_value=3),
    st.floats(min_value=-2, max_value=2),
)
def test_tangent_is_linear_in_the_direction(a, b, x0):
    f = lambda x: np.sin(x[0]) * np.exp(x[1]) + x[0] * x[1] ** 2
    x = np.array([x0, 0.3])
    u, v = np.array([1.0, -0.5]), np.array([0.2, 2.0])
    _, tu = dd.jvp(f, x, u)
    _, tv = dd.jvp(f, x, v)
    _, tw = dd.jvp(f, x, a * u + b * v)
    assert tw == pytest.approx(a * tu + b * tv, rel=1e-12, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=0.2, max_value=2.0))
def test_nested_derivative_equals_second_difference(x):
    f = lambda u: u**3 * np.log(u)
    nested = dd.derivative(lambda u: dd.derivative(f, u), x)
    assert nested == pytest.approx(6 * x * math.log(x) + 5 * x, rel=1e-12)


# -- hessian -------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_hessian_matches_differences_of_the_gradient(chunk):
    f = lambda x: np.sum(np.sin(x[0] * x) * x[1]) + np.prod(x) + np.log1p(x @ x)
    x = np.array([0.4, 1.3, -0.2])
    hess = dd.hessian(f, x, chunk=chunk)
    assert_close(hess, numeric_jacobian(lambda z: dd.gradient(f, z), x), rtol=1e-7)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12, atol=1e-14)


def test_hessian_shapes_and_closed_form():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    hess = dd.hessian(lambda x: 0.5 * x @ A @ x, np.array([0.3, -0.7]))
    np.testing.assert_allclose(hess, A, rtol=1e-14)
    x = np.arange(1.0, 7.0).reshape(2, 3)
    assert dd.hessian(lambda x: np.sum(x**3), x).shape == (2, 3, 2, 3)
    assert dd.hessian(lambda x: x**3, 2.0) == 12.0
    with pytest.raises(ValueError, match="scalar"):
        dd.hessian(np.sin, np.ones(2))


@pytest.mark.parametrize("x", [2.0, 2, np.float32(2.0), 1.0 + 1.0j, np.array(2.0), np.ones(2)])
@pytest.mark.parametrize(
    "f",
    [
        lambda z: np.stack([z**2, z**3]),
        lambda z: (z**2, z**3),
        lambda z: [z**3],
        lambda z: np.reshape(np.sum(z**3), (1,)),
    ],
)
def test_hessian_of_a_vector_function_raises_at_every_point(f, x):
    # at a scalar x the hessian returned the second derivatives of every output (of f's shape),
    # where an array x raised
    with pytest.raises(ValueError, match=r"^hessian: f must return a scalar"):
        dd.hessian(f, x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log1p(-1), sqrt'(0): on purpose
def test_safe_rule_of_an_array_under_an_outer_derivative():
    # the partial of sqrt/log1p is then a dual array; its values decide the 0·inf convention
    x = np.array([0.0, 4.0])
    got = dd.derivative(
        lambda s: dd.jvp(np.sqrt, x * s + [0.0, 0.0], np.array([0.0, 1.0]))[1][1], 1.0
    )
    assert got == pytest.approx(-0.25 * 4.0 * 4.0**-1.5)
    got = dd.derivative(
        lambda s: dd.jvp(np.log1p, s * np.array([-1.0, 4.0]), np.array([0.0, 1.0]))[1].sum(), 1.0
    )
    assert got == pytest.approx(-4.0 / 25.0)


@pytest.mark.filterwarnings("ignore::dualdiff.ObjectArrayWarning")  # (np.ma's np.asarray)
def test_a_masked_array_returned_by_f_is_refused_by_every_mode():
    # M * z with a masked constant M first is NumPy's masked multiply: a masked array of the
    # traced elements, which the compiler took for a constant (a zero Jacobian of integer dtype)
    # and the sparsity tracer for an output depending on nothing; eager modes refused it
    m = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])
    f = lambda z: m * z  # noqa: E731
    x = np.array([0.3, -1.2, 0.7])
    for call in (
        lambda: dd.jacobian(f, x),
        lambda: dd.derivative(f, x, n=2),
        lambda: dd.jit_jacobian(f)(x),
        lambda: dd.jit_jvp(f)(x, np.ones(3)),
        lambda: dd.jacobian_sparsity(f, x),
        lambda: dd.SparseJacobian(f, x, jit=True)(x),
    ):
        with pytest.raises(TypeError, match="MaskedArray"):
            call()


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (np.matrix's)
@pytest.mark.parametrize(
    "f",
    [lambda m, z: np.dot(m, z), lambda m, z: m @ z, lambda m, z: np.concatenate([m[0], z])],
    ids=["np.dot(M, x)", "M @ x", "np.concatenate([M[0], x])"],
)
def test_an_np_matrix_constant_is_refused_by_every_mode(f):
    # NumPy's np.dot(M, x) and M @ x are 1x1 matrices; eager np.dot gave the Jacobian of a
    # (1,) array and Taylor mode a float for M @ x, where the operators were refused already
    m = np.matrix([[1.0, 2.0, 0.5]])
    x = np.array([0.3, -1.2, 0.7])
    g = lambda z: f(m, z)  # noqa: E731
    for call in (
        lambda: dd.jacobian(g, x),
        lambda: dd.derivative(lambda t: g(x + t), 0.0, n=2),
        lambda: dd.taylor(g, x, 2),
        lambda: dd.jit_jacobian(g)(x),
        lambda: dd.jacobian_sparsity(g, x),
    ):
        with pytest.raises(TypeError, match="matrix"):
            call()


def test_messages_name_functions_by_their_public_namespace():
    # np.emath.sqrt was refused as "numpy.sqrt", which has a rule: the message sent users to
    # the wrong function (and sliding_window_view was "numpy.sliding_window_view")
    from dualdiff.core.errors import function_name

    assert function_name(np.emath.sqrt) == "numpy.emath.sqrt"
    assert function_name(np.lib.stride_tricks.sliding_window_view) == (
        "numpy.lib.stride_tricks.sliding_window_view"
    )
    assert function_name(np.ma.sum) == "numpy.ma.sum"
    assert function_name(np.linalg.norm) == "numpy.linalg.norm"
    assert function_name(np.sum) == "numpy.sum"
