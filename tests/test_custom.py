"""custom_jvp: user-supplied derivative rules, scalar and array, nesting-safe."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dualdiff as dd
from dualdiff.core.errors import ValueDependentPatternWarning


@dd.custom_jvp
def log1pexp(x):
    return np.log1p(np.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return log1pexp(x), dd.sigmoid(x) * dx


def test_custom_rule_is_used_where_the_naive_one_overflows():
    # the naive derivative exp(x)/(1+exp(x)) is inf/inf = nan at x = 1000
    with np.errstate(all="ignore"):
        assert dd.derivative(log1pexp, 1000.0) == 1.0
    assert dd.derivative(log1pexp, 0.0) == 0.5


def test_plain_call_bypasses_the_rule():
    assert log1pexp(0.0) == pytest.approx(math.log(2.0))


def test_custom_rule_on_arrays_and_jacobian():
    x = np.array([-1.0, 0.0, 2.0])
    jac = dd.jacobian(log1pexp, x)
    np.testing.assert_allclose(jac, np.diag(1 / (1 + np.exp(-x))), rtol=1e-14)


def test_custom_rule_nests():
    # second derivative: the rule's own operations are differentiated by the outer pass
    second = dd.derivative(lambda u: dd.derivative(log1pexp, u), 0.3)
    s = 1 / (1 + math.exp(-0.3))
    assert second == pytest.approx(s * (1 - s), rel=1e-13)


@dd.custom_jvp
def scaled_product(x, y, scale):
    return scale * x * y


@scaled_product.defjvp
def _scaled_product_jvp(primals, tangents):
    x, y, scale = primals
    dx, dy, _ = tangents
    return scaled_product(x, y, scale), scale * (dx * y + x * dy)


def test_several_arguments_with_constants():
    assert dd.derivative(lambda x: scaled_product(x, 3.0, 2.0), 1.5) == 6.0
    assert dd.jvp(lambda x, y: scaled_product(x, y, 2.0), (1.0, 2.0), (1.0, 1.0))[1] == 6.0


def test_missing_or_malformed_rule():
    @dd.custom_jvp
    def f(x):
        return x

    with pytest.raises(TypeError, match="defjvp"):
        dd.derivative(f, 1.0)

    @f.defjvp
    def _bad(primals, tangents):
        return 1.0

    with pytest.raises(TypeError, match="output_tangent"):
        dd.derivative(f, 1.0)
    with pytest.raises(TypeError):
        dd.custom_jvp(3)


def test_a_tangent_that_does_not_fit_the_output_names_the_rule():
    # NumPy's "operands could not be broadcast together with remapped shapes" named neither
    @dd.custom_jvp
    def double(x):
        return 2 * x

    @double.defjvp
    def _wrong_shape(primals, tangents):
        return 2 * primals[0], np.ones(5)

    x = np.ones(3)
    message = r"^the jvp rule of 'double': the tangent output has shape \(5,\), which does not"
    for run in (
        lambda: dd.jvp(double, x, x),
        lambda: dd.jacobian(double, x),
        lambda: dd.jacobian(double, x, chunk=2),
        lambda: dd.derivative(double, x),
    ):
        with pytest.raises(ValueError, match=message):
            run()


# -- every chunking, and the sparsity tracer -------------------------------------------------------


@dd.custom_jvp
def softplus_times(x, y):
    return np.log1p(np.exp(x)) * y


@softplus_times.defjvp
def _softplus_times_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    return softplus_times(x, y), dd.sigmoid(x) * y * dx + np.log1p(np.exp(x)) * dy


def _mixed(x):
    return softplus_times(x, x[::-1] ** 2)


def _mixed_jacobian(x):
    y = x[::-1] ** 2
    dy = np.fliplr(np.diag(2 * x[::-1]))
    return np.diag(y / (1 + np.exp(-x))) + np.log1p(np.exp(x))[:, None] * dy


X3 = np.array([0.3, -0.7, 1.2])


@pytest.mark.parametrize(
    "call",
    [
        lambda f, x: dd.jacobian(f, x, chunk=1),  # one direction per pass, still batched
        lambda f, x: dd.jacobian(f, x, chunk=2),  # the last pass has one direction
        lambda f, x: dd.jacobian(f, x, workers=2),
        lambda f, x: dd.jacobian(f, x, sparsity="auto"),
        lambda f, x: dd.SparseJacobian(f, x)(x),
    ],
    ids=["chunk1", "chunk2", "workers", "sparse-auto", "SparseJacobian"],
)
def test_custom_rule_in_every_chunking_and_with_a_detected_pattern(call):
    # a chunk of one direction crashed ("more dimensions than allowed by the axis remapping"),
    # and the sparsity tracer raised AttributeError
    np.testing.assert_allclose(call(_mixed, X3), _mixed_jacobian(X3), rtol=1e-13)


def test_a_batched_rule_with_a_chunk_of_one():
    @dd.custom_jvp
    def cube(x):
        return x**3

    def rule(primals, tangents):
        (x,), (dx,) = primals, tangents  # dx: (k,) + x.shape
        return cube(x), 3 * x**2 * dx

    cube.defjvp(rule, batched=True)
    for chunk in (1, 2, None):
        np.testing.assert_allclose(dd.jacobian(cube, X3, chunk=chunk), np.diag(3 * X3**2))


@dd.custom_jvp
def straight_through(x):
    return np.round(x)


@straight_through.defjvp
def _straight_through_jvp(primals, tangents):
    return straight_through(primals[0]), tangents[0]  # the identity, where round has none


def test_the_pattern_is_the_rules_not_the_bodys():
    # np.round has no derivative, so tracing the body would give an empty pattern and a sparse
    # Jacobian of zeros where every other mode gives the rule's identity
    def f(x):
        return straight_through(2.0 * x[::-1]) + x

    expected = np.eye(3) + 2.0 * np.fliplr(np.eye(3))
    np.testing.assert_array_equal(dd.jacobian(f, X3), expected)
    np.testing.assert_array_equal(np.asarray(dd.jacobian_sparsity(f, X3)), expected != 0)
    np.testing.assert_array_equal(dd.jacobian(f, X3, sparsity="auto"), expected)


@dd.custom_jvp
def relu(x):
    return np.maximum(x, 0.0)


@relu.defjvp
def _relu_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return relu(x), np.where(x > 0, dx, 0.0)


def test_a_rule_that_branches_on_values_gives_a_pattern_for_every_point():
    # traced where every entry is negative, the rule's mask must not be taken for a constant:
    # the pattern reused at a positive point still has the diagonal
    prepared = dd.SparseJacobian(relu, -(X3**2) - 1.0)
    np.testing.assert_array_equal(prepared(X3**2 + 1.0), np.eye(3))
    np.testing.assert_array_equal(dd.jacobian(relu, X3**2 + 1.0), np.eye(3))


def test_the_tracer_runs_a_body_it_cannot_follow_on_plain_values():
    @dd.custom_jvp
    def opaque(x):
        return np.asarray(x, dtype=float) ** 3  # compiled code, say: no tracer gets in

    @opaque.defjvp
    def _opaque_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return opaque(x), 3 * x**2 * dx

    def f(x):
        return opaque(x[:2] * x[1:])

    x = np.array([1.0, 2.0, 3.0])
    expected = np.array([[12.0 * 2.0, 12.0 * 1.0, 0.0], [0.0, 108.0 * 3.0, 108.0 * 2.0]])
    np.testing.assert_allclose(dd.jacobian(f, x), expected)
    with pytest.warns(ValueDependentPatternWarning):  # the body used x's values in Python
        pattern = np.asarray(dd.jacobian_sparsity(f, x))
    np.testing.assert_array_equal(pattern, expected != 0)
