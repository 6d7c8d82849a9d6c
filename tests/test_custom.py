"""custom_jvp: user-supplied derivative rules, scalar and array, nesting-safe."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dualdiff as dd


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
