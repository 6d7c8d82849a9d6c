"""Rules whose cost grew faster with the input than NumPy's own function does (super-linear
cliffs), each checked by the memory it allocates or the work it does, never by a timing: the
bounds are a small multiple of what a linear rule needs and far below the old quadratic cost."""

import tracemalloc

import numpy as np
from reference import jacobian as numeric_jacobian

import dualdiff as dd


def peak_bytes(fn):
    """The peak of memory allocated while ``fn()`` runs (NumPy reports its arrays)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_cumprod_tangent_needs_no_square_table():
    # the rule built the products over l <= j, l != i for every pair (i, j): an (n, n) table
    # from a Python loop over j (72 MB and seconds at n = 3000); prefix doubling needs O(n)
    n = 3000
    rng = np.random.default_rng(0)
    x, v = rng.uniform(0.9, 1.1, n), rng.standard_normal(n)
    x[[5, 700]] = 0.0  # two zeros: past the second, every derivative is exactly 0
    value, tangent = dd.jvp(np.cumprod, x, v)
    assert peak_bytes(lambda: dd.jvp(np.cumprod, x, v)) < 40 * x.nbytes
    # d y_j = sum_{i <= j} prod_{l <= j, l != i} x_l v_i, directly
    expected = np.cumprod(x) * np.cumsum(np.where(x == 0, 0.0, v / np.where(x == 0, 1.0, x)))
    before = np.cumprod(np.where(np.arange(n) == 5, 1.0, x))  # the zero at 5 left out
    expected[5:700] = before[5:700] * v[5]
    expected[700:] = 0.0
    np.testing.assert_array_equal(value, np.cumprod(x))
    np.testing.assert_allclose(tangent, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(tangent[700:], 0.0)


def test_cumprod_along_an_axis_of_a_stack_matches_numeric_differences():
    x = np.random.default_rng(1).uniform(0.5, 1.5, (2, 7, 3))
    x[0, 2, 1] = x[1, 0, 2] = x[1, 4, 2] = 0.0
    for axis in (0, 1, 2, None):
        jac = dd.jacobian(lambda a: np.cumprod(a, axis=axis), x)
        reference = numeric_jacobian(lambda a: np.cumprod(a, axis=axis), x)
        np.testing.assert_allclose(jac, reference, rtol=1e-6, atol=1e-8)
