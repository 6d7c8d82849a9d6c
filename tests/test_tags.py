"""Perturbation tags: nested derivatives never confuse their perturbations, also across threads."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import Dual
from dualdiff.tags import new_tag


def confusion() -> float:
    # Siskind & Pearlmutter: d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (untagged duals give 2)
    return dd.derivative(lambda x: x * dd.derivative(lambda y: x + y, 1.0), 1.0)


def test_perturbation_confusion_example():
    assert confusion() == 1.0


def test_inner_derivative_closing_over_outer_variable():
    # d/dx d/dy (x*y)**2 at (2, 3) = d/dx 2 x² y = 4 x y = 24
    result = dd.derivative(lambda x: dd.derivative(lambda y: (x * y) ** 2, 3.0), 2.0)
    assert result == pytest.approx(24.0)


def test_second_derivative_by_nesting():
    d2 = dd.derivative(lambda x: dd.derivative(lambda u: np.exp(np.sin(u)), x), 0.7)
    s, c = math.sin(0.7), math.cos(0.7)
    assert d2 == pytest.approx(math.exp(s) * (c * c - s), rel=1e-14)


def test_third_derivative_by_nesting():
    def d(f):
        return lambda x: dd.derivative(f, x)

    assert d(d(d(lambda x: x**4)))(2.0) == pytest.approx(48.0)


def test_duals_of_different_tags_combine_in_either_order():
    a, b = new_tag(), new_tag()
    outer = Dual(2.0, 1.0, a)
    inner = Dual(3.0, 1.0, b)
    for product in (outer * inner, inner * outer):
        assert product.tag == b  # the newer tag is the outer layer
        assert product.value.tag == a
        assert product.value.value == 6.0
        assert product.tangent.value == 2.0  # d/db = outer's value (as a dual in a)
        assert product.value.tangent == 3.0  # d/da = inner's value


def test_tags_are_unique_and_increasing():
    tags = [new_tag() for _ in range(100)]
    assert tags == sorted(set(tags))


def test_same_results_from_eight_threads():
    def work(i: int) -> tuple[float, float, float]:
        x = 0.5 + 0.1 * i
        second = dd.derivative(lambda u: dd.derivative(lambda v: v**3, u), x)
        hess = dd.jacobian(lambda z: dd.gradient(lambda w: np.sum(w**3), z), np.array([x, 1.0]))
        return confusion(), second, hess[0, 0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            results = list(pool.map(work, range(8)))
            for i, (conf, second, hess) in enumerate(results):
                x = 0.5 + 0.1 * i
                assert conf == 1.0
                assert second == pytest.approx(6 * x)
                assert hess == pytest.approx(6 * x)


def test_gradient_inside_derivative_and_jacobian_of_derivative():
    # d/dt of the gradient of sum(t * x**2) at x: 2x, and the Jacobian of x -> d/ds sin(s x)
    g = dd.derivative(lambda t: dd.gradient(lambda x: np.sum(t * x**2), np.array([1.0, 2.0])), 3.0)
    np.testing.assert_allclose(g, [2.0, 4.0])
    jac = dd.jacobian(lambda x: dd.derivative(lambda s: np.sin(s * x), 0.5), np.array([0.3, 1.1]))
    x = np.array([0.3, 1.1])
    expected = np.diag(np.cos(0.5 * x) - 0.5 * x * np.sin(0.5 * x))
    np.testing.assert_allclose(jac, expected, rtol=1e-13)


def test_jvp_inside_derivative():
    f = lambda t: dd.jvp(lambda x: np.sin(t * x), 2.0, 1.0)[1]  # t cos(t x) at x = 2
    assert dd.derivative(f, 0.4) == pytest.approx(math.cos(0.8) - 0.8 * math.sin(0.8))
