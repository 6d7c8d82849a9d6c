"""NumPy's n-d FFTs over no axes (a 0-d array, or ``axes=()``) return their argument itself.

``np.fft.fftn(a, axes=())`` (and ``fftn`` of a 0-d array, ``ifftn``, ``fft2``/``ifft2`` with
``axes=()``) transforms along no axis: NumPy returns ``a`` itself, so a write into the result
lands in ``a``. Eager mode and the sparsity tracer returned a new array (the write was lost:
a wrong value and derivative, a pattern missing the dependency the write makes), and a 0-d
point gave a Dual scalar that refused the write. The reference is numeric differences of the
same function on plain NumPy.
"""

import numpy as np
import pytest

import dualdiff as dd

TRANSFORMS = [
    ("fftn", {}),
    ("ifftn", {}),
    ("fftn", {"axes": ()}),
    ("ifftn", {"axes": (), "norm": "ortho"}),
    ("fft2", {"axes": ()}),
    ("ifft2", {"axes": (), "s": ()}),
]


def differences(f, x, h=1e-6):
    """Central differences with every point an array of x's shape (numeric.jacobian hands a
    0-d point to f as a Python float, whose transform is a new array)."""
    columns = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        e = e.reshape(x.shape)
        columns.append((f(np.array(x + e)) - f(np.array(x - e))) / (2 * h))
    return np.stack(columns, -1).reshape(np.shape(columns[0]) + x.shape)


def writer(name, options):
    transform = getattr(np.fft, name)

    def f(a):
        y = transform(a, **options)
        if np.ndim(a):
            y[0] = a[1] ** 2  # lands in a where y is a itself
        else:
            y[...] = y**2
        return a * 1.0

    return f


# a 0-d array has no axes; a 1-d one has none only where axes=() says so
NO_AXES = [
    pytest.param(name, options, x, id=f"{name}-{options}-{x.ndim}d")
    for name, options in TRANSFORMS
    for x in (np.array(1.5), np.array([1.5, 0.5, -1.0]))
    if options or not x.ndim
]


@pytest.mark.parametrize("name, options, x", NO_AXES)
def test_a_transform_over_no_axes_is_its_argument(name, options, x):
    f = writer(name, options)
    plain = x.copy()
    assert getattr(np.fft, name)(plain, **options) is plain  # NumPy's own behaviour
    expected = differences(f, x)
    value, jac = dd.value_and_jacobian(f, x)
    np.testing.assert_allclose(value, f(x.copy()), rtol=1e-15)
    np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dd.jacobian(f, x, sparsity="auto"), expected, rtol=1e-6, atol=1e-9)
    pattern = np.reshape(dd.jacobian_sparsity(f, x), np.shape(expected))
    assert pattern[expected != 0].all()
    # Taylor mode at x along ones: the value and first coefficient
    coefficients = dd.taylor(f, x, 1)
    np.testing.assert_allclose(coefficients[..., 0], f(x.copy()), rtol=1e-15)
    along_ones = np.reshape(expected, (x.size, x.size)).sum(-1).reshape(x.shape)
    np.testing.assert_allclose(coefficients[..., 1], along_ones, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["fftn", "ifftn", "fft2", "ifft2"])
def test_a_transform_of_a_scalar_is_a_new_0d_array(name):
    options = {"axes": ()} if name.endswith("2") else {}

    def f(a):
        y = getattr(np.fft, name)(a, **options)  # of a scalar: a new, writable 0-d array
        y[...] = np.sin(y)
        return y

    assert type(f(np.float64(1.5))) is np.ndarray
    np.testing.assert_allclose(dd.derivative(f, 1.5), np.cos(1.5), rtol=1e-15)
    np.testing.assert_allclose(dd.jacobian(f, 1.5), np.cos(1.5), rtol=1e-15)


@pytest.mark.parametrize("name", ["rfftn", "irfftn", "fft", "rfft", "hfft"])
def test_transforms_numpy_refuses_on_a_0d_array_are_refused_alike(name):
    transform = getattr(np.fft, name)
    x = np.array(1.5)
    with pytest.raises(Exception) as numpy_error:
        transform(x)
    for run in (
        lambda: dd.jacobian(transform, x),
        lambda: dd.taylor(lambda t: transform(x * (1 + t)), 0.0, 1),
        lambda: dd.jacobian_sparsity(transform, x),
        lambda: dd.jit_jacobian(transform)(x),
    ):
        with pytest.raises(type(numpy_error.value)):
            run()
