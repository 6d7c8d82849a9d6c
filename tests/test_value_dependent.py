"""A traced sparsity pattern must hold wherever it is reused.

Indices and masks computed from x's values (argmax, argsort, searchsorted, nonzero, x > 0, ...)
are not constants: a gather through one depends on every element it may pick at another point.
Python decisions on traced values (``if u[0] > 0``, ``max(u)``, ``int(np.argmax(u))``) make the
pattern valid at the traced point only: preparation warns, and a prepared ``SparseJacobian``
traces again at each new point. References: eager ``dualdiff.jacobian`` at the new point and
numeric differences (``tests/reference.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.core.errors import ValueDependentPatternWarning
from dualdiff.sparsity.tracer import ValueDerived, jacobian_sparsity

X0 = np.array([0.9, 0.1, 0.6, 0.3, 0.8, 0.2])
POINTS = [
    np.array([0.1, 0.9, 0.3, 0.6, 0.2, 0.8]),
    np.array([0.2, 0.3, 0.1, 0.9, 0.6, 0.8]),
    np.array([0.55, 0.45, 0.35, 0.25, 0.15, 0.65]),
]
RAMP = np.arange(1.0, 7.0)


def _assign_through_mask(x):
    y = x * 1.0
    y[x > 0.5] = x[0] ** 2
    return y


def _put_at_argmax(x):
    y = x * 1.0
    np.put(y, np.argmax(x), x[0] ** 2)
    return y


def _add_at_two_smallest(x):
    y = x * 1.0
    y[np.argsort(x)[:2]] += x[0] ** 2
    return y


def _scatter_by_permutation(x):
    y = np.zeros_like(x)
    y[np.argsort(x)] = x * RAMP
    return y


# Indices and masks from values, used without a Python decision: the pattern is structural.
GATHERS = {
    "argmax": lambda x: x * x[np.argmax(x)],
    "argmin": lambda x: x * x[np.argmin(x)],
    "argmax + 1": lambda x: x * x[(np.argmax(x) + 1) % x.size],
    "argsort": lambda x: x[np.argsort(x)] * RAMP,
    "argsort of argsort": lambda x: x[np.argsort(np.argsort(x))] * RAMP,
    "take": lambda x: np.take(x, np.argsort(x)) * RAMP,
    "take_along_axis": lambda x: (
        np.take_along_axis(x.reshape(2, 3), np.argsort(x.reshape(2, 3), axis=1), axis=1).ravel()
        * RAMP
    ),
    "roll": lambda x: np.roll(x, np.argmax(x)) * RAMP,
    "searchsorted": lambda x: x * x[np.searchsorted(np.array([0.0, 0.5, 1.0]), x[0])],
    "digitize": lambda x: x * x[np.digitize(x[0], [0.0, 0.5, 1.0])],
    "put": _put_at_argmax,
    "scatter": _scatter_by_permutation,
    "mask times @": lambda x: ((x > 0.5) * np.ones((6, 6))) @ x,
    "mask times dot": lambda x: np.dot((x > 0.5) * np.ones((6, 6)), x),
    "mask in einsum": lambda x: np.einsum("ij,j->i", (x > 0.5) * np.ones((6, 6)), x),
    "mask in kron": lambda x: np.kron((x[:2] > 0.5) * 1.0, x[2:6]),
    "mask in outer": lambda x: np.outer((x[:2] > 0.5) * 1.0, x).ravel(),
    "method argmax": lambda x: x * x[x.argmax()],
    "method argsort": lambda x: x[x.argsort()] * RAMP,
    "scatter-add": _add_at_two_smallest,
    "row of a matrix": lambda x: (
        x.reshape(2, 3)[np.argmax(x.reshape(2, 3)[:, 0])] * x.reshape(2, 3)
    ).ravel(),
    "take_along_axis 0": lambda x: (
        (
            np.take_along_axis(x.reshape(3, 2), np.argmax(x.reshape(3, 2), axis=0)[None], axis=0)
        ).ravel()
        * x[:2]
    ),
}

# Decisions in Python, or shapes that follow the values: the pattern holds at x0 only.
DECISIONS = {
    "if on a comparison": lambda x: x * 2 if x[0] > 0.5 else x * x[1],
    "max()": lambda x: x * max(x),
    "bool(any)": lambda x: x * 2 if bool((x > 0.85).any()) else x * x[2],
    "while": lambda x: _double_until(x),
    "int(argmax)": lambda x: x * x[int(np.argmax(x))],
    "slice from argmax": lambda x: np.sum(x[np.argmax(x) :]) * x,
    "count_nonzero": lambda x: x * (2.0 if np.count_nonzero(x > 0.5) > 2 else x[0]),
    "nonzero": lambda x: np.sum(x[np.nonzero(x > 0.5)]) * x,
    "flatnonzero": lambda x: np.sum(x[np.flatnonzero(x > 0.5)]) * x,
    "argwhere": lambda x: np.sum(x[np.argwhere(x > 0.5)[:, 0]]) * x,
    "where(condition)": lambda x: np.sum(x[np.where(x > 0.5)]) * x,
    "boolean mask": lambda x: np.sum(x[x > 0.5] ** 2) + x,
    "assignment through a mask": _assign_through_mask,
    "unique indices": lambda x: x * x[np.unique(np.argsort(x), return_index=True)[1][0]],
    # a plain array indexed by such an index cannot carry the dependency: noted, traced again
    "plain array indexed by values": lambda x: x[np.arange(6)[np.argsort(x)]] * RAMP,
    "sorted()": lambda x: np.stack(sorted(x)) * RAMP,
    "method nonzero": lambda x: np.sum(x[(x > 0.5).nonzero()]) * x,
    "repeat": lambda x: np.sum(np.repeat(x, (x > 0.5).astype(int))) * x,
    "delete": lambda x: np.sum(np.delete(x, np.argmax(x))) * x,
    "split": lambda x: np.split(x, [np.argmax(x)])[0].sum() * x,
    "gradient spacing": lambda x: np.gradient(x, np.cumsum(1.0 + (x > 0.5))),
}


def _double_until(x):
    y = x
    while y[0] < 1.0:
        y = y * 2
    return y * x[3]


def _check_at_new_points(f, jac):
    for x1 in POINTS:
        expected = dd.jacobian(f, x1)
        np.testing.assert_allclose(jac(x1), expected, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(jac(x1), numeric_jacobian(f, x1), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(GATHERS))
def test_a_gather_through_an_index_from_values_depends_on_all_it_may_pick(name):
    f = GATHERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValueDependentPatternWarning)  # no decision here
        jac = dd.SparseJacobian(f, X0)
        pattern = jacobian_sparsity(f, X0)
    _check_at_new_points(f, jac)
    for x1 in POINTS:  # one pattern holds everywhere: it covers every non-zero
        assert np.all(pattern | (dd.jacobian(f, x1).reshape(pattern.shape) == 0))


@pytest.mark.parametrize("name", list(DECISIONS))
def test_a_decision_on_values_warns_and_a_prepared_jacobian_traces_again(name):
    f = DECISIONS[name]
    with pytest.warns(ValueDependentPatternWarning):
        jac = dd.SparseJacobian(f, X0)
    _check_at_new_points(f, jac)
    with pytest.warns(ValueDependentPatternWarning):
        jacobian_sparsity(f, X0)


def test_the_issue_reproduction():
    f = lambda x: x * x[np.argmax(x)]  # noqa: E731
    jac = dd.SparseJacobian(f, np.array([3.0, 1.0, 2.0]))
    x1 = np.array([1.0, 5.0, 2.0])
    np.testing.assert_allclose(jac(x1), dd.jacobian(f, x1))
    np.testing.assert_allclose(jac(x1), [[5.0, 1.0, 0.0], [0.0, 10.0, 0.0], [0.0, 2.0, 5.0]])


def test_a_branch_that_adds_non_zeros_recolours_and_a_point_seen_before_still_works():
    def f(u):
        if u[0] > 0:
            return u * 2
        return u * u[1]

    with pytest.warns(ValueDependentPatternWarning, match="truth value"):
        jac = dd.SparseJacobian(f, np.array([1.0, 2.0, 3.0]))
    assert jac.ncolors == 1
    x1 = np.array([-1.0, 2.0, 3.0])
    np.testing.assert_allclose(jac(x1), [[2.0, -1.0, 0.0], [0.0, 4.0, 0.0], [0.0, 3.0, 2.0]])
    assert jac.ncolors == 2  # the union of both patterns
    np.testing.assert_allclose(jac(np.array([1.0, 2.0, 3.0])), 2 * np.eye(3))


def test_one_point_needs_no_warning():
    f = DECISIONS["if on a comparison"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValueDependentPatternWarning)
        got = dd.jacobian(f, X0, sparsity="auto")
    np.testing.assert_allclose(got, dd.jacobian(f, X0))


def test_value_derived_results_stay_derived():
    seen = {}

    def f(x):
        k = np.argmax(x)
        mask = x > 0.5
        seen["k"] = k
        seen["k+1"] = k + 1
        seen["mask"] = mask
        seen["~mask"] = ~mask
        seen["sum"] = mask.sum()
        seen["item"] = mask[0]
        seen["nonzero"] = np.nonzero(mask)
        seen["shape"] = np.shape(mask)
        return x

    with pytest.warns(ValueDependentPatternWarning, match="nonzero"):
        jacobian_sparsity(f, X0)  # a shape from values
    for name in ("k", "k+1", "mask", "~mask", "sum", "item"):
        assert type(seen[name]) is ValueDerived, name
    assert all(type(i) is ValueDerived for i in seen["nonzero"])
    assert seen["shape"] == (6,) and type(seen["shape"]) is tuple


# -- compositions: one prepared Jacobian, many points ------------------------------------------

STEPS = [
    lambda x: x[np.argsort(x)] * RAMP,
    lambda x: x * x[np.argmax(x)],
    lambda x: np.roll(x, np.argmin(x)) * RAMP,
    lambda x: np.where(x > 0.5, x**2, x),
    lambda x: np.take(x, (np.argsort(x) + 1) % x.size) * x,
    lambda x: x[np.clip(np.searchsorted(np.sort(x), x[::-1]), 0, x.size - 1)] + x,
    lambda x: np.cumsum(x) / 6.0,
    lambda x: x[::-1] * x,
    lambda x: np.sin(x) + 0.5,
]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    steps=st.lists(st.integers(0, len(STEPS) - 1), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_compositions_of_value_derived_gathers_hold_at_new_points(steps, seed):
    def f(x):
        for i in steps:
            x = STEPS[i](x)
        return x

    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValueDependentPatternWarning)
        jac = dd.SparseJacobian(f, rng.uniform(0.05, 0.95, 6))
    for _ in range(3):
        x1 = rng.uniform(0.05, 0.95, 6)
        np.testing.assert_allclose(jac(x1), dd.jacobian(f, x1), rtol=1e-12, atol=1e-14)
