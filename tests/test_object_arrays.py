"""Object arrays of duals: ``np.array([...])`` of Duals and ``np.asarray(x)`` of a DualArray keep
every derivative, in every helper and mode, or refuse where a derivative cannot survive.

References are numeric differences (``tests/reference.py``, ``dualdiff.numeric``) or closed forms.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import assert_close, directional, second
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff import Dual, DualArray

pytestmark = pytest.mark.filterwarnings("ignore::dualdiff.ObjectArrayWarning")

X = np.array([0.7, -1.3, 0.4])


# -- the idioms, as people write them -----------------------------------------------------------


def lotka(u):  # an ODE right-hand side: a list of expressions made into an array
    return np.array([1.5 * u[0] - u[0] * u[1], u[0] * u[1] - 3.0 * u[1], np.sin(u[2]) * u[0]])


def mixed_2d(u):  # nested lists, a plain number and an int among the duals
    return np.array([[u[0] * u[1], 2.0], [1, np.exp(u[2])]])


def library_style(u):  # what library code does first (scipy.optimize.rosen, ...)
    u = np.asarray(u)
    return np.sum(100.0 * (u[1:] - u[:-1] ** 2.0) ** 2.0 + (1 - u[:-1]) ** 2.0, axis=0)


def object_math(u):  # the object loops: ufunc methods, operators, @, reductions
    a = np.array([u[0], u[1], u[2]])
    b = np.sin(a) * np.exp(a / 3) + np.arctan2(a, 2.0) - np.sqrt(a * a + 1.0)
    m = np.array([[u[0], 1.0], [u[1], u[2]]])
    return np.concatenate([b, m @ np.array([u[2], u[0]]), [np.prod(a) + np.mean(a)]])


def converters(u):  # np.array / np.asanyarray / np.atleast_1d of a DualArray
    return np.array(u) * np.asanyarray(u) ** 2 + np.atleast_1d(u)


IDIOMS = [lotka, mixed_2d, library_style, object_math, converters]


@pytest.mark.parametrize("f", IDIOMS, ids=lambda f: f.__name__)
def test_jacobian_of_each_idiom_matches_numeric_differences(f):
    assert_close(dd.jacobian(f, X), numeric_jacobian(f, X))


@pytest.mark.parametrize("f", IDIOMS, ids=lambda f: f.__name__)
def test_jvp_of_each_idiom_matches_numeric_differences(f):
    v = np.array([0.3, -0.8, 1.1])
    value, tangent = dd.jvp(f, X, v)
    assert_close(value, f(X))
    assert_close(tangent, directional(f, X, v))
    assert np.result_type(tangent) == np.float64


@pytest.mark.parametrize("f", [library_style, lambda u: np.sum(object_math(u) ** 2)])
def test_gradient_and_hessian_of_object_array_code(f):
    assert_close(dd.gradient(f, X), numeric_jacobian(f, X))
    expected = numeric_jacobian(lambda x: numeric_jacobian(f, x), X)
    assert_close(dd.hessian(f, X), expected, rtol=1e-5, atol=1e-6)


def test_rosen_gradient_and_hessian_agree_with_scipys_own():
    optimize = pytest.importorskip("scipy.optimize")
    x = np.linspace(-1.0, 1.5, 6)
    assert_close(dd.gradient(optimize.rosen, x), optimize.rosen_der(x))
    assert_close(dd.hessian(optimize.rosen, x), optimize.rosen_hess(x))


def test_derivative_of_a_list_made_array_first_and_second_order():
    def f(t):
        return np.array([t * t, np.sin(t), 2.0, [t][0] ** 3])

    t = 0.8
    assert_close(dd.derivative(f, t), [2 * t, np.cos(t), 0.0, 3 * t * t])
    assert_close(dd.derivative(f, t, n=2), [2.0, -np.sin(t), 0.0, 6 * t])  # Taylor mode
    assert_close(dd.derivative(f, t, n=3), [0.0, -np.cos(t), 0.0, 6.0])
    coefficients = dd.taylor(f, t, 2)
    assert coefficients.shape == (4, 3)
    assert_close(coefficients[:, 2], [1.0, -np.sin(t) / 2, 0.0, 3 * t])


def test_elementwise_derivative_through_asarray_in_taylor_mode():
    x = np.array([0.3, 0.9])
    f = lambda x: np.exp(np.asarray(x)) * np.asarray(x)  # noqa: E731
    assert_close(dd.derivative(f, x), np.exp(x) * (1 + x))
    assert_close(dd.derivative(f, x, n=2), np.exp(x) * (2 + x))
    assert_close(dd.derivative(f, x, n=2), [second(lambda t: np.exp(t) * t, xi) for xi in x])


def test_object_arrays_of_taylor_series_meet_series_in_operations():
    # obj * series, series + obj, np.stack and np.sum of an object array of series
    def f(t):
        a = np.array([t, t * t])
        return np.sum(a * t + np.stack([t, 1.0]) * a)

    t = 1.7  # f = 3t^2 + t^3  ->  f'' = 6 + 6t
    assert_close(dd.derivative(f, t, n=2), 6 + 6 * t)


@pytest.mark.parametrize("f", [lotka, mixed_2d, object_math, converters], ids=lambda f: f.__name__)
def test_sparsity_pattern_and_sparse_jacobian(f):
    pattern = dd.jacobian_sparsity(f, X)
    dense = numeric_jacobian(f, X).reshape(pattern.shape)
    assert not np.any((np.abs(dense) > 1e-9) & ~pattern)  # no nonzero missed
    J = dd.SparseJacobian(f, X)(X)
    J = J.toarray() if hasattr(J, "toarray") else J
    assert_close(np.reshape(J, dense.shape), dense)


def test_sparsity_pattern_is_exact_for_the_ode():
    expected = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1]], bool)
    np.testing.assert_array_equal(dd.jacobian_sparsity(lotka, X), expected)


def test_compare_and_check_accept_object_array_outputs():
    assert dd.compare(lotka, X).ok
    dd.check(mixed_2d, X)


@pytest.mark.parametrize("f", [lotka, mixed_2d, library_style, object_math, converters])
def test_compiled_jvp_and_jacobian_lift_object_arrays(f):
    v = np.array([1.0, 0.5, -2.0])
    compiled = dd.jit_jacobian(f)
    assert_close(compiled(X), numeric_jacobian(f, X))
    other = X + np.array([0.2, 0.1, -0.3])  # the compiled program replays at a new point
    assert_close(compiled(other), numeric_jacobian(f, other))
    value, tangent = dd.jit_jvp(f)(X, v)
    assert_close(value, f(X))
    assert_close(tangent, directional(f, X, v))


# -- what an object array made from a dual array carries ----------------------------------------


def test_asarray_of_a_batched_dual_array_carries_all_directions():
    k = 4
    rng = np.random.default_rng(0)
    value, tangent = rng.normal(size=(2, 3)), rng.normal(size=(k, 2, 3))
    a = np.asarray(DualArray(value, tangent, batched=True))
    assert a.dtype == object and a.shape == (2, 3)
    for index in np.ndindex(2, 3):
        assert a[index].value == value[index]
        np.testing.assert_array_equal(a[index].tangent, tangent[(slice(None),) + index])
    lifted = dd.stack(list(a.ravel())).reshape(2, 3)  # and back
    np.testing.assert_array_equal(lifted.tangent, tangent)


def test_asarray_keeps_nested_tags():
    def f(x):  # the inner derivative's duals are made into an object array and reduced
        return dd.derivative(lambda y: np.sum(np.asarray(x * y) ** 2), 0.5)

    x = np.array([0.3, -1.1])  # f = 2 * 0.5 * sum(x^2) -> grad = 2x
    assert_close(dd.gradient(f, x), 2 * x)


def test_duals_of_different_tags_are_lifted_by_the_newest():
    def outer(x):
        def inner(y):  # x (older tag) and y (newer) in one object array, with a plain number
            return np.array([x * y, y, x, 3.0])

        return dd.derivative(inner, 2.0)  # [x, 1, 0, 0]

    assert_close(dd.derivative(outer, 1.5), [1.0, 0.0, 0.0, 0.0])
    assert_close(
        dd.derivative(lambda x: dd.derivative(lambda y: np.array([x * y, y]), 2.0)[0], 1.5), 1.0
    )


def test_plain_numbers_in_an_object_array_are_constants():
    def f(x):
        return np.array([x[0], 5.0, np.float32(2.0), 7, True]) * x[1]

    J = dd.jacobian(f, np.array([2.0, 3.0]))
    assert_close(J, [[3.0, 2.0], [0.0, 5.0], [0.0, 2.0], [0.0, 7.0], [0.0, 1.0]])


def test_float32_and_complex_values_keep_their_dtype():
    x32 = np.array([0.5, 1.5], np.float32)
    J = dd.jacobian(lambda x: np.array([x[0] * x[1], x[1]]), x32)
    assert J.dtype == np.float32
    z = np.array([1.0 + 2.0j, -0.5j])
    _, t = dd.jvp(lambda x: np.array([x[0] * x[1], x[0] ** 2]), z, np.ones(2, complex))
    assert_close(t, [z[0] + z[1], 2 * z[0]])


def test_dual_array_operations_lift_an_object_array_operand():
    x = DualArray(X, np.array([1.0, 2.0, 3.0]))
    obj = np.array([x[0], 2.0, x[2]])
    for got, expected in [
        (x * obj, x * dd.stack([x[0], 2.0, x[2]])),
        (obj - x, dd.stack([x[0], 2.0, x[2]]) - x),
        (obj @ np.outer(x, x), dd.stack([x[0], 2.0, x[2]]) @ np.outer(x, x)),
        (np.concatenate([x, obj]), np.concatenate([x, dd.stack([x[0], 2.0, x[2]])])),
        (np.maximum(x, obj), np.maximum(x, dd.stack([x[0], 2.0, x[2]]))),
        (x[1] * obj, x[1] * dd.stack([x[0], 2.0, x[2]])),  # a Dual meets the object array
    ]:
        assert type(got) is DualArray  # vectorised again
        np.testing.assert_array_equal(got.value, expected.value)
        np.testing.assert_array_equal(got.tangent, expected.tangent)


def test_comparisons_on_object_arrays_compare_values():
    def f(x):
        a = np.array([x[0], x[1], x[2]])
        mask = a > 0.0
        assert mask.dtype == bool or all(type(m) is bool for m in mask)
        return np.where(mask.astype(bool), np.stack(list(a)), 0.0)

    assert_close(dd.jacobian(f, X), np.diag((X > 0).astype(float)))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.sampled_from("+*sc")), min_size=1,
             max_size=5),
)  # fmt: skip
def test_random_list_built_outputs_match_numeric_differences(point, terms):
    def f(x):
        entries = []
        for i, j, op in terms:
            if op == "+":
                entries.append(x[i] + 2.0 * x[j])
            elif op == "*":
                entries.append(x[i] * x[j])
            elif op == "s":
                entries.append(np.sin(x[i]) * x[j])
            else:
                entries.append(1.5)  # a plain constant among the duals
        return np.array(entries)

    x = np.array(point)
    assert_close(dd.jacobian(f, x), numeric_jacobian(f, x), rtol=1e-7, atol=1e-8)


# -- views and writes ---------------------------------------------------------------------------


def test_asarray_is_a_read_only_copy_so_a_write_meant_for_x_fails_loudly():
    def f(x):
        y = np.asarray(x)  # for an ndarray x this would be x itself
        y[0] = 5.0  # ... so this would change x: here it cannot, and refuses
        return x

    with pytest.raises(ValueError, match="read-only"):
        dd.jacobian(f, X)


def test_array_copy_is_writable_and_leaves_x_alone_as_numpy_does():
    def f(x):
        y = np.array(x)  # a copy in NumPy as well
        y[0] = 5.0
        y[1] = x[1] * x[2]
        return np.stack([np.sum(y), x[0]])

    J = dd.jacobian(f, X)
    assert_close(J, [[0.0, X[2], 1.0 + X[1]], [1.0, 0.0, 0.0]])


def test_copy_false_raises_as_numpy_does_when_a_copy_is_needed():
    with pytest.raises(ValueError, match="copy"):
        dd.jacobian(lambda x: np.array(x, copy=False), X)


# -- the warning and the strict switch ------------------------------------------------------------


@pytest.mark.filterwarnings("default::dualdiff.ObjectArrayWarning")
def test_warns_once_per_call_site_naming_the_fast_idiom():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            dd.jacobian(lotka, X)  # one line of f makes the object array
    messages = [w for w in caught if issubclass(w.category, dd.ObjectArrayWarning)]
    assert len(messages) == 1
    assert "np.stack" in str(messages[0].message)
    assert messages[0].filename == __file__  # the user's line, not dualdiff's
    assert issubclass(dd.ObjectArrayWarning, RuntimeWarning)


def test_strict_arrays_restores_the_type_error_and_nests():
    with dd.strict_arrays():
        with pytest.raises(TypeError, match="stack"):
            dd.jacobian(lotka, X)
        with pytest.raises(TypeError, match="strict_arrays"):
            dd.gradient(library_style, X)
        with pytest.raises(TypeError, match="strict_arrays"):
            dd.derivative(lambda t: np.array([t, t]), 1.0, n=2)
        with dd.strict_arrays(False):
            assert_close(dd.jacobian(lotka, X), numeric_jacobian(lotka, X))
        with pytest.raises(TypeError):
            dd.jacobian(lotka, X)
    assert_close(dd.jacobian(lotka, X), numeric_jacobian(lotka, X))


def test_warning_as_error_is_a_strict_mode_too():
    with warnings.catch_warnings():
        warnings.simplefilter("error", dd.ObjectArrayWarning)
        with pytest.raises(dd.ObjectArrayWarning):
            dd.jacobian(lotka, X)


# -- what truly loses a derivative still raises, naming the user's operation --------------------


@pytest.mark.parametrize(
    "f, fragment",
    [
        (lambda x: np.array([x[0], x[1]], dtype=float), "dtype=float"),
        (lambda x: np.asarray(x, dtype=float), "dtype=float"),
        (lambda x: np.array([x[0], x[1]]).astype(float), "astype"),
        (lambda x: math.sin(x[0]), "math"),
        (lambda x: float(x[0]) * x, "float"),
    ],
)
def test_conversions_to_float_raise(f, fragment):
    with pytest.raises((TypeError, ValueError)) as info:
        dd.jacobian(f, X)
    error = info.value if isinstance(info.value, TypeError) else info.value.__cause__
    assert isinstance(error, TypeError) and fragment in str(error)
    assert "tangent" in str(error)


def test_writing_a_dual_into_a_float_array_raises():
    def f(x):
        out = np.empty(3)
        out[0] = x[0]
        return out

    with pytest.raises(TypeError) as info:  # a TypeError naming the write, not NumPy's ValueError
        dd.jacobian(f, X)
    assert "out[i] = x" in str(info.value) and "zeros_like" in str(info.value)


def test_in_place_assembly_into_a_float_matrix_names_the_operator_not_out():
    def assemble(x):
        K = np.zeros((4, 4))
        for e in range(2):
            ke = x[e] * np.array([[1.0, -1.0], [-1.0, 1.0]])
            K[e : e + 2, e : e + 2] += ke
        return K

    with pytest.raises(TypeError) as info:
        dd.jacobian(assemble, X)
    message = str(info.value)
    assert "+=" in message and "like=x" in message and "out=" not in message


def test_assembly_into_a_dual_matrix_works():
    def assemble(x):
        K = np.zeros((4, 4), like=x)
        for e in range(3):
            K[e : e + 2, e : e + 2] += x[e] * np.array([[1.0, -1.0], [-1.0, 1.0]])
        return K

    assert_close(dd.jacobian(assemble, X), numeric_jacobian(assemble, X))


def test_scalar_dual_like_constructor():
    d = Dual(2.0, 1.0)
    z = np.zeros(3, like=d)
    assert type(z) is DualArray and z.shape == (3,)


def test_a_ufunc_without_object_loop_names_itself():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(TypeError, match="erf"):
        dd.jacobian(lambda x: special.erf(np.array([x[0], x[1]])), X)


def test_object_array_of_non_numbers_is_refused():
    with pytest.raises(TypeError, match="str"):
        dd.jacobian(lambda x: np.array([x[0], "a"], dtype=object), X)


@pytest.mark.parametrize("reduction", [np.mean, np.std, np.var, np.sum, np.prod, np.max])
def test_reductions_of_object_arrays(reduction):
    def f(x):
        return reduction(np.array([x[0] * x[1], np.exp(x[2]), x[1] ** 2, 0.5]))

    assert_close(dd.gradient(f, X), numeric_jacobian(f, X), rtol=1e-7)
    assert_close(
        dd.derivative(lambda t: f(X + t), 0.0, n=2), second(lambda t: f(X + t), 0.0), rtol=1e-6
    )


def test_compiled_sparse_jacobian_lifts_object_arrays():
    S = dd.SparseJacobian(lotka, X, jit=True)
    for point in (X, X + 0.25):
        J = S(point)
        J = J.toarray() if hasattr(J, "toarray") else J
        assert_close(J, numeric_jacobian(lotka, point))


def test_in_place_updates_of_object_arrays_keep_the_derivatives():
    def f(x):
        a = np.array([x[0], x[1], 5.0])
        a *= x  # a DualArray result written into the object array: Duals again
        a[2] += x[2]
        a[0:2] = a[0:2] + x[1:]  # a DualArray written into a slice of it
        return a

    assert_close(dd.jacobian(f, X), numeric_jacobian(f, X))


# -- an object array meeting a dual array in an operation, in every mode --------------------------

M = np.arange(16.0).reshape(4, 4) + 1.0
X4 = np.array([0.3, -0.7, 1.1, 0.5])


def _shuffled(x):
    return np.array([x[1], x[0], 2.0, x[2]])


MIXED = {
    "concatenate": lambda x: np.concatenate([x[:2], np.array([x[2] * x[3], x[0]])]),
    "where": lambda x: np.where(x > 0, np.array([x[1], x[2], x[3], x[0]]), x),
    "dot": lambda x: np.dot(M, _shuffled(x)) * x,
    "matmul": lambda x: _shuffled(x) @ M * x[2],
    "sum": lambda x: x * np.sum(np.array([x[1], x[0]])),
    "maximum": lambda x: np.maximum(x, _shuffled(x)),
    "object minus dual": lambda x: _shuffled(x) - x,
    "dual times object": lambda x: x * _shuffled(x),
    "stack": lambda x: np.stack([x, _shuffled(x)]),
    "transposed 2-d": lambda x: np.array([[x[0], x[1]], [x[2], x[3]]]).T.ravel() * x,
    "asarray of 2-d": lambda x: np.asarray(x.reshape(2, 2)).T @ np.array([1.0, 2.0]),
}


@pytest.mark.parametrize("name", MIXED)
def test_object_array_operand_in_every_mode(name):
    f = MIXED[name]
    expected = numeric_jacobian(f, X4)
    assert_close(dd.jacobian(f, X4), expected, rtol=1e-7)
    assert_close(dd.jit_jacobian(f)(X4), expected, rtol=1e-7)
    pattern = dd.jacobian_sparsity(f, X4)  # a missed dependency would be a wrong sparse Jacobian
    assert not np.any((np.abs(expected.reshape(pattern.shape)) > 1e-9) & ~pattern)
    J = dd.SparseJacobian(f, X4)(X4)
    J = J.toarray() if hasattr(J, "toarray") else J
    assert_close(np.reshape(J, expected.shape), expected, rtol=1e-7)
    v = np.array([0.5, -1.0, 0.25, 2.0])  # second directional derivative by Taylor mode
    taylor2 = dd.derivative(lambda t: f(X4 + t * v), 0.0, n=2)
    assert_close(taylor2, second(lambda t: f(X4 + t * v), 0.0), rtol=1e-5, atol=1e-6)


def test_trace_records_through_an_object_array():
    t = dd.trace(lambda x: np.sum(np.sin(np.array([x, x * 2]))), 1.0)
    assert [step.op for step in t][-3:] == ["sin", "sin", "add"]
    assert_close(t.tangent, np.cos(1.0) + 2 * np.cos(2.0))
