"""Nothing the caller passes is changed or aliased, and nothing cached is handed out writable.

Every verb is called with an ``f`` that returns its argument (or a view of it) and with an ``f``
that updates its argument in place (which the README allows); afterwards the caller's arrays
must be unchanged, every returned array must own its memory (no ``np.shares_memory`` with an
input) and be writable, and a prepared object must give the same answer on every call.
References: numeric differences (``tests/reference.py``) and closed forms.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import jacobian as numeric_jacobian

import dualdiff as dd


def _identity(x):
    return x


def _view(x):
    return x[1:]


def _doubles_in_place(u):
    u *= 2
    return u[1:] * u[:-1]


def _doubled(u):  # the same function without the in-place update: the numeric reference
    return (2 * u)[1:] * (2 * u)[:-1]


def _leaves(out):
    if isinstance(out, (tuple, list)):
        for item in out:
            yield from _leaves(item)
    elif isinstance(out, np.ndarray):
        yield out


def _own_results(out, *inputs):
    for leaf in _leaves(out):
        assert leaf.flags.writeable, "a result is read-only (a view of an input or a cache)"
        for a in inputs:
            assert not np.shares_memory(leaf, a), "a result shares memory with an input"


VERBS = {
    "jvp": lambda f, x, v, s: dd.jvp(f, x, v),
    "derivative": lambda f, x, v, s: dd.derivative(f, x),
    "derivative n=0": lambda f, x, v, s: dd.derivative(f, x, n=0),
    "derivative n=2": lambda f, x, v, s: dd.derivative(f, x, n=2),
    "taylor": lambda f, x, v, s: dd.taylor(f, x, 2),
    "jacobian": lambda f, x, v, s: dd.value_and_jacobian(f, x),
    "jacobian chunk=1": lambda f, x, v, s: dd.value_and_jacobian(f, x, chunk=1),
    "jacobian workers": lambda f, x, v, s: dd.value_and_jacobian(
        f, x, workers=lambda fn, tasks: list(map(fn, tasks))
    ),
    "jacobian sparsity=auto": lambda f, x, v, s: dd.value_and_jacobian(f, x, sparsity="auto"),
    "push_forward": lambda f, x, v, s: dd.push_forward(f, x, s),
    "SparseJacobian": lambda f, x, v, s: [
        dd.SparseJacobian(f, x).value_and_jacobian(x) for _ in range(2)
    ],
}


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("f", [_identity, _view, _doubles_in_place])
@pytest.mark.parametrize("verb", list(VERBS))
def test_inputs_unchanged_and_results_owned(verb, f, read_only):
    x = np.linspace(1.0, 2.0, 4)
    v = np.arange(1.0, 5.0)
    seeds = np.eye(4)[:2].copy()
    if read_only:
        for a in (x, v, seeds):
            a.flags.writeable = False
    before = [a.copy() for a in (x, v, seeds)]
    out = VERBS[verb](f, x, v, seeds)
    for a, b in zip((x, v, seeds), before):
        np.testing.assert_array_equal(a, b)
    _own_results(out, x, v, seeds)


def test_jvp_of_identity_does_not_alias_x_or_v():
    x, v = np.ones(3), np.full(3, 2.0)
    value, tangent = dd.jvp(lambda x: x, x, v)
    assert not np.shares_memory(value, x) and not np.shares_memory(tangent, v)
    tangent[0] = 99.0  # a result is the caller's to change
    value[0] = 99.0
    assert v[0] == 2.0 and x[0] == 1.0
    # tuples of arguments too
    (a, b), (ta, tb) = dd.jvp(lambda p, q: (p, q), (x, v), (v, x))
    for leaf in (a, b, ta, tb):
        assert not any(np.shares_memory(leaf, i) for i in (x, v))


def test_push_forward_leaves_the_seeds_alone():
    x = np.linspace(1.0, 2.0, 5)
    seeds = np.eye(5)
    value, tangents = dd.push_forward(_doubles_in_place, x, seeds)
    np.testing.assert_array_equal(seeds, np.eye(5))
    np.testing.assert_allclose(tangents.T, numeric_jacobian(_doubled, x), rtol=1e-8)


def test_prepared_sparse_jacobian_does_not_drift_when_f_updates_its_argument():
    # the colour seeds are computed once: f's ``u *= 2`` used to scale them on every call
    x0 = np.linspace(1.0, 2.0, 6)
    jac = dd.SparseJacobian(_doubles_in_place, x0)
    expected = numeric_jacobian(_doubled, x0)
    for _ in range(4):
        np.testing.assert_allclose(jac(x0), expected, rtol=1e-8)
    x1 = x0[::-1].copy()
    for _ in range(2):
        np.testing.assert_allclose(jac(x1), numeric_jacobian(_doubled, x1), rtol=1e-8)
    np.testing.assert_array_equal(x1, x0[::-1])


def test_prepared_sparse_jacobian_caches_are_read_only():
    jac = dd.SparseJacobian(_doubles_in_place, np.linspace(1.0, 2.0, 6))
    assert not jac.colors.flags.writeable
    assert not jac.pattern.indices.flags.writeable and not jac.pattern.indptr.flags.writeable


def test_sparse_output_and_pattern_do_not_share_the_cached_index_arrays():
    pytest.importorskip("scipy")
    x0 = np.linspace(1.0, 2.0, 6)
    jac = dd.SparseJacobian(_doubles_in_place, x0, output="sparse")
    first = jac(x0)
    assert not np.shares_memory(first.indices, jac.pattern.indices)
    first.indices[:] = 0  # the caller's matrix: changing it changes nothing prepared
    np.testing.assert_allclose(jac(x0).toarray(), numeric_jacobian(_doubled, x0))
    scipy_pattern = jac.pattern.to_scipy()
    assert not np.shares_memory(scipy_pattern.indices, jac.pattern.indices)


def test_a_given_scipy_pattern_is_neither_changed_nor_followed():
    sparse = pytest.importorskip("scipy.sparse")
    dense = np.eye(4, dtype=bool)
    dense[0, 1] = True
    given = sparse.csr_array(
        (np.ones(5, bool), np.array([1, 0, 1, 2, 3]), np.array([0, 2, 3, 4, 5])), shape=(4, 4)
    )  # unsorted indices in row 0: coercing used to sort them in the caller's matrix
    indices = given.indices.copy()
    jac = dd.SparseJacobian(lambda x: x * x + x[1] * (np.arange(4) == 0), np.ones(4), given)
    np.testing.assert_array_equal(given.indices, indices)
    given.indices[:] = 0
    x = np.arange(1.0, 5.0)
    np.testing.assert_allclose(jac(x), numeric_jacobian(jac.f, x), atol=1e-8)


def test_order_zero_lets_f_update_its_argument():
    x = np.arange(1.0, 4.0)
    x.flags.writeable = False
    out = dd.derivative(lambda u: u.__imul__(2), x, n=0)
    np.testing.assert_array_equal(out, [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    value, jac = dd.value_and_jacobian(lambda u: u.__imul__(2), np.zeros(0))
    assert value.shape == (0,) and jac.shape == (0, 0)


def test_a_jacobian_of_a_product_with_a_constant_matrix_is_writable():
    # the columns of A are a private read-only block of the pass: the caller gets a copy
    a = np.arange(12.0).reshape(3, 4)
    jac = dd.jacobian(lambda x: a @ x, np.ones(4))
    assert jac.flags.writeable and not np.shares_memory(jac, a)
    np.testing.assert_array_equal(jac, a)


# -- the compiler reuses only buffers that NumPy really allocated ------------------------------

COMPILED = {
    "diff n=0": lambda x: np.sin(np.diff(x, n=0)) * 2 + x,
    "diff n=0 of an intermediate": lambda x: (
        np.cos(np.sin(x)) + np.diff(np.sin(x), n=0) * np.exp(np.sin(x))
    ),
    "ravel": lambda x: np.sin(np.ravel(x)) * 2 + np.cos(np.ravel(np.sin(x))),
    "reshape": lambda x: np.sin(np.reshape(np.exp(x), (-1,))) * 2 + np.exp(x),
    "astype": lambda x: np.sin(x.astype(float)) * 2 + x,
    "squeeze": lambda x: np.sin(np.squeeze(np.exp(x))) * 2 + np.exp(x),
    "real of a real array": lambda x: np.sin(np.real(np.exp(x))) * 2 + np.exp(x),
    "conj of a real array": lambda x: np.sin(np.conj(x)) * 2 + x,
    "broadcast_to": lambda x: np.sin(np.broadcast_to(np.exp(x), x.shape)) * 2 + np.exp(x),
    "atleast_1d": lambda x: np.sin(np.atleast_1d(np.exp(x))) * 2 + np.exp(x),
    "copy": lambda x: np.sin(np.copy(np.exp(x))) * 2 + np.exp(x),
    "concatenate of one": lambda x: np.sin(np.concatenate([np.exp(x)])) * 2 + np.exp(x),
    "mean": lambda x: np.sin(np.mean(np.exp(x)[None], axis=0)) * 2 + np.exp(x),
    "sum": lambda x: np.sin(np.sum(np.exp(x)[None], axis=0)) * 2 + np.exp(x),
    "flip": lambda x: np.sin(np.flip(np.exp(x))) * 2 + np.exp(x),
    "transpose": lambda x: np.sin(np.transpose(np.exp(x))) * 2 + np.exp(x),
    "stack": lambda x: np.sin(np.stack([np.exp(x)])[0]) * 2 + np.exp(x),
}


@pytest.mark.parametrize("name", list(COMPILED))
def test_compiled_replays_match_eager_and_leave_x_alone(name):
    f = COMPILED[name]
    jvp, jac = dd.jit_jvp(f), dd.jit_jacobian(f)
    v = np.arange(1.0, 5.0)
    for k in range(3):  # the first call traces, the others replay
        x = np.linspace(0.1, 1.0, 4) + k
        x_before, v_before = x.copy(), v.copy()
        value, tangent = jvp(x, v)
        expected_value, expected_tangent = dd.jvp(f, x_before, v_before)
        np.testing.assert_allclose(value, expected_value, rtol=1e-13)
        np.testing.assert_allclose(tangent, expected_tangent, rtol=1e-13)
        np.testing.assert_allclose(tangent, numeric_jacobian(f, x_before) @ v, rtol=1e-7)
        value2, jacobian = jac.value_and_jacobian(x)
        np.testing.assert_allclose(value2, expected_value, rtol=1e-13)
        np.testing.assert_allclose(jacobian, dd.jacobian(f, x_before), rtol=1e-13)
        np.testing.assert_array_equal(x, x_before)
        np.testing.assert_array_equal(v, v_before)
        _own_results((value, tangent, value2, jacobian), x, v)


@pytest.mark.parametrize("verb", ["jvp", "derivative", "jacobian", "push_forward"])
def test_a_dual_array_input_is_not_changed_by_an_f_that_updates_its_argument(verb):
    def f(u):
        u *= 2
        return u

    x = dd.DualArray(np.arange(1.0, 4.0), np.ones(3))
    value, tangent = x.value.copy(), x.tangent.copy()
    calls = {
        "jvp": lambda: dd.jvp(f, x, np.ones(3)),
        "derivative": lambda: dd.derivative(f, x),
        "jacobian": lambda: dd.jacobian(f, x),
        "push_forward": lambda: dd.push_forward(f, x, np.eye(3)),
    }
    calls[verb]()
    np.testing.assert_array_equal(x.value, value)
    np.testing.assert_array_equal(x.tangent, tangent)
