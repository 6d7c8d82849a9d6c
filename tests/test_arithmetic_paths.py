"""The operators' common-case paths (+ - * / of a DualArray with a Python number or a DualArray of
its tag, a slice, a concatenation of one tag) against NumPy's values and dtypes and the closed
form of the tangent, over dtypes, shapes, batched tangents and read-only inputs; and no result
shares a tangent with an operand (writing into one leaves the other alone)."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.arrays.dualarray import DualArray

DTYPES = [np.float32, np.float64, np.complex128]
OPERATIONS = {
    "add": (operator.add, lambda x, y, tx, ty: tx + ty),
    "sub": (operator.sub, lambda x, y, tx, ty: tx - ty),
    "mul": (operator.mul, lambda x, y, tx, ty: tx * y + x * ty),
    "div": (operator.truediv, lambda x, y, tx, ty: tx / y - (x / y) * ty / y),
}


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    dtype=st.sampled_from(DTYPES),
    shape=st.sampled_from([(3,), (2, 3), (1,), (4, 1)]),
    k=st.sampled_from([1, 3]),
    number=st.sampled_from([2, -1, 0, 0.5, -3.25, 1e300]),
    name=st.sampled_from(sorted(OPERATIONS)),
    reverse=st.booleans(),
    read_only=st.booleans(),
)
def test_with_a_number(dtype, shape, k, number, name, reverse, read_only):
    assume(not (name == "div" and number == 0))  # (x / 0: the safe rule's, tested elsewhere)
    rng = np.random.default_rng(abs(hash((str(dtype), shape, k, name))) % 2**32)
    value = rng.standard_normal(shape).astype(dtype)
    tangent = rng.standard_normal((k,) + shape).astype(dtype)
    x = np.array(value)
    if read_only:
        x.flags.writeable = False
    op, _ = OPERATIONS[name]

    def f(d):
        return op(number, d) if reverse else op(d, number)

    with np.errstate(over="ignore", invalid="ignore"):
        expected_value = f(value)
        expected_tangent = np.stack(
            [
                OPERATIONS[name][1](*((number, value, 0, t) if reverse else (value, number, t, 0)))
                for t in tangent
            ]
        )
        if k == 1:
            out, jvp = dd.jvp(f, x, tangent[0])
            jvp = jvp[None]
        else:
            out, jvp = dd.push_forward(f, x, tangent)
    assert out.dtype == expected_value.dtype
    np.testing.assert_array_equal(out, expected_value)
    assert jvp.dtype == expected_value.dtype
    np.testing.assert_allclose(jvp, expected_tangent.astype(jvp.dtype), rtol=1e-6, atol=0)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    dtypes=st.sampled_from(
        [(a, b) for a in DTYPES[:2] for b in DTYPES[:2]] + [(np.complex128, np.complex128)]
    ),
    shapes=st.sampled_from([((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3))]),
    name=st.sampled_from(sorted(OPERATIONS)),
    same=st.booleans(),
)
def test_two_arrays_of_one_tag(dtypes, shapes, name, same):
    rng = np.random.default_rng(7)
    a = rng.standard_normal(shapes[0]).astype(dtypes[0])
    b = a.copy() if same and shapes[0] == shapes[1] else rng.standard_normal(shapes[1])
    b = b.astype(dtypes[1])
    ta = rng.standard_normal((2,) + a.shape).astype(a.dtype)
    tb = rng.standard_normal((2,) + b.shape).astype(b.dtype)
    op, rule = OPERATIONS[name]
    n = a.size

    def f(z):  # both operands depend on the one input z = (a, b) flattened
        za = z[:n].reshape(a.shape).astype(a.dtype)
        zb = z[n:].reshape(b.shape).astype(b.dtype)
        return op(za, zb)

    z = np.concatenate([a.ravel(), b.ravel()]).astype(np.result_type(a, b))
    seeds = np.concatenate([ta.reshape(2, -1), tb.reshape(2, -1)], axis=1).astype(z.dtype)
    out, tangents = dd.push_forward(f, z, seeds)
    expected = op(a, b)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
    closed = np.stack([rule(a, b, ta[i], tb[i]) for i in range(2)])
    np.testing.assert_allclose(tangents, closed, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_square_written_as_a_product(dtype):
    # u * u takes one pass over the tangents (2u du): the same numbers as u du + u du, to the bit
    rng = np.random.default_rng(3)
    value = rng.standard_normal((2, 3)).astype(dtype)
    seeds = rng.standard_normal((3, 6)).astype(dtype)
    for special in (np.inf, np.nan, 0.0):  # an infinite value times a zero tangent is NaN
        value[0, 0] = special
        out, tangents = dd.push_forward(lambda z: z * z, value.reshape(-1), seeds)
        np.testing.assert_array_equal(out, value.reshape(-1) * value.reshape(-1))
        u = value.reshape(-1)
        with np.errstate(invalid="ignore"):
            closed = u * seeds + seeds * u
        np.testing.assert_array_equal(tangents, closed)
        assert tangents.dtype == closed.dtype


@pytest.mark.parametrize("operation", ["add", "radd", "sub", "rsub", "mul", "rmul", "pair"])
def test_results_own_their_tangents(operation):
    x = DualArray(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    y = DualArray(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0]), tag=x.tag)
    result = {
        "add": lambda: x + 1.0,
        "radd": lambda: 1 + x,
        "sub": lambda: x - 2,
        "rsub": lambda: 2.0 - x,
        "mul": lambda: x * 1,
        "rmul": lambda: 1.0 * x,
        "pair": lambda: x + y * 0,
    }[operation]()
    result[:] = 0.0 * result + 7.0  # a write into the result (its tangent becomes 0)
    np.testing.assert_array_equal(x.tangent, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.value, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(y.tangent, [0.0, 1.0, 0.0])


def test_slices_and_concatenation_of_a_read_only_input():
    """A stencil through slices and np.concatenate: the Jacobian against the closed form, and
    a write into a slice of the argument lands in the argument (and in its other views)."""
    x = np.linspace(0.0, 1.0, 6)

    def f(u):
        lap = np.concatenate([u[1:2] - u[:1], u[:-2] - 2 * u[1:-1] + u[2:], u[-2:-1] - u[-1:]])
        return lap * u

    jac = dd.jacobian(f, x)
    h = np.diag(np.full(6, -2.0)) + np.diag(np.ones(5), 1) + np.diag(np.ones(5), -1)
    h[0, 0] = h[-1, -1] = -1.0
    np.testing.assert_allclose(jac, np.diag(h @ x) + h * x[:, None], atol=1e-12)

    def g(u):
        head = u[:3]
        u[1:4] = u[1:4] * 2.0  # lands in u, and so in head
        return head + u[3]

    np.testing.assert_allclose(
        dd.jacobian(g, x),
        [[1, 0, 0, 2, 0, 0], [0, 2, 0, 2, 0, 0], [0, 0, 2, 2, 0, 0]],
    )


@pytest.mark.parametrize("n", [10, 1 << 16])  # below and above the size jvp stops copying at
def test_jvp_argument_written_in_place(n):
    """f updates its argument in place (and through a slice): the caller's x and v stay as they
    were, and the derivative sees the update: y = (x + x**2)[::2] * 3 after x[:2] *= 5."""
    rng = np.random.default_rng(n)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    x0, v0 = x.copy(), v.copy()

    def f(u):
        head = u[:2]
        u += u**2
        head *= 5.0  # through a view of the updated argument
        return u[::2] * 3.0

    value, tangent = dd.jvp(f, x, v)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(v, v0)
    scale = np.ones(n)
    scale[:2] = 5.0
    np.testing.assert_allclose(value, (3.0 * scale * (x0 + x0**2))[::2], rtol=1e-14)
    np.testing.assert_allclose(
        tangent, (3.0 * scale * (1 + 2 * x0) * v0)[::2], rtol=1e-13, atol=1e-13
    )
    assert value.flags.writeable and tangent.flags.writeable


@pytest.mark.parametrize("name", sorted(OPERATIONS))
@pytest.mark.parametrize("batched", [False, True])
def test_results_keep_the_directions(name, batched):
    """A batched operand's directions stay visible in the result (``.tangent`` has them all)."""
    op, rule = OPERATIONS[name]
    value, other = np.array([1.0, 2.0, 3.0]), np.array([0.5, 4.0, -2.0])
    tangent = np.arange(6.0).reshape(2, 3) if batched else np.ones(3)
    x = DualArray(value, tangent, batched=batched)
    y = DualArray(other, tangent[::-1] if batched else 2 * tangent, tag=x.tag, batched=batched)
    for result, parts in (
        (op(x, 2.0), (value, 2.0, x.tangent, 0.0)),
        (op(3, x), (3.0, value, 0.0, x.tangent)),
        (op(x, y), (value, other, x.tangent, y.tangent)),
    ):
        assert result.batched is batched
        np.testing.assert_allclose(result.tangent, rule(*parts))
