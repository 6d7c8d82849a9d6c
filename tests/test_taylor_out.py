"""``out=`` of NumPy's reductions, accumulations and ufunc methods on Taylor series.

Eager mode writes a result into a dual ``out=`` (``np.zeros_like(x)`` makes one) and returns it;
Taylor mode refused every ``out=`` with "Drop out=." (and a series ``out=`` with "pass its
.value", which would drop the derivative), the sparsity tracer with "not supported", and eager
mode the ``out=`` of the functions it derives from the function table (``np.fft.fft``, ``np.var``,
``np.clip``, ...). Every mode now computes the result, then writes it into a dual ``out=``; a
plain ``out=`` is refused with the fix that works. The reference is numeric differences of the
same function on plain NumPy, where ``out=`` is NumPy's own.
"""

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric

X0 = np.array([0.3, -0.5, 0.7, 0.2])
V = np.array([1.0, 0.5, -0.8, 0.3])


def sum_out(x):
    s = np.zeros_like(x[0])
    r = np.sum(np.sin(x), out=s)
    assert r is s
    return s * x[0]


def sum_out_by_position(x):
    s = np.zeros_like(x[0])
    np.sum(x * x, None, None, s)
    return s * x


def add_reduce_out(x):
    s = np.zeros_like(x[:1])
    np.add.reduce(x * x, out=s, keepdims=True)
    return np.exp(s)


def cumsum_into_itself(x):
    y = np.sin(x)
    r = np.cumsum(y, out=y)  # out aliases the operand: every entry read before written
    assert r is y
    return y * x


def cumprod_into_a_reversed_view(x):
    buf = np.zeros_like(x)
    np.cumprod(x + 1.5, out=buf[::-1])  # written through the view into buf
    return buf


def accumulate_out(x):
    buf = np.zeros_like(x)
    np.multiply.accumulate(np.cos(x), out=buf)
    return buf


def prod_max_mean_out(x):
    p, m, a = np.zeros_like(x[0]), np.zeros_like(x[0]), np.zeros_like(x[0])
    np.prod(x + 2.0, out=p)
    np.max(x * x, out=m)
    np.mean(np.exp(x), out=a)
    return np.stack([p, m, a])


def ufunc_into_a_slice(x):
    y = x * 1.0
    np.sin(y[1:], out=y[:-1])  # overlapping: NumPy reads y[1:] before writing
    return y


def argmax_into_a_plain_array(x):
    index = np.zeros((), dtype=np.intp)
    np.argmax(x * x, out=index)  # an index: a plain out= holds it
    return x[index] * x


FUNCTIONS = [
    sum_out,
    sum_out_by_position,
    add_reduce_out,
    cumsum_into_itself,
    cumprod_into_a_reversed_view,
    accumulate_out,
    prod_max_mean_out,
    ufunc_into_a_slice,
    argmax_into_a_plain_array,
]


@pytest.mark.parametrize("f", FUNCTIONS)
def test_out_in_taylor_mode_and_eager_mode(f):
    line = lambda t: f(X0 + t * V)  # noqa: E731
    for n in (1, 2):
        expected = numeric.derivative(line, 0.0, n=n)
        np.testing.assert_allclose(dd.derivative(line, 0.0, n=n), expected, rtol=1e-5, atol=1e-6)
    # the third derivative against the second's numeric derivative
    expected = numeric.derivative(lambda t: dd.derivative(line, t, n=2), 0.0)
    np.testing.assert_allclose(dd.derivative(line, 0.0, n=3), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dd.jvp(f, X0, V)[1], numeric.derivative(line, 0.0), rtol=1e-6)


@pytest.mark.parametrize("f", FUNCTIONS)
def test_out_in_the_sparsity_tracer(f):
    expected = numeric.jacobian(f, X0)
    jac = dd.jacobian(f, X0, sparsity="auto")  # the traced pattern, then coloured passes
    np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-8)
    assert not np.any(jac[~dd.jacobian_sparsity(f, X0).reshape(jac.shape)])


def test_out_holds_the_taylor_coefficients():
    line = lambda t: cumsum_into_itself(X0 + t * V)  # noqa: E731
    coefficients = dd.taylor(line, 0.0, 3)  # c_k = f^(k)(0) / k! on the last axis
    np.testing.assert_allclose(coefficients[:, 0], line(0.0), rtol=1e-12)
    np.testing.assert_allclose(coefficients[:, 1], numeric.derivative(line, 0.0), rtol=1e-6)
    second = numeric.derivative(line, 0.0, n=2) / 2
    np.testing.assert_allclose(coefficients[:, 2], second, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: np.sum(x, out=np.zeros(())), "numpy.sum"),
        (lambda x: np.add.reduce(x, out=np.zeros(())), "numpy.add.reduce"),
        (lambda x: np.cumsum(x, out=np.zeros(4)), "numpy.cumsum"),
        (lambda x: np.add.accumulate(x, out=np.zeros(4)), "numpy.add.accumulate"),
        (lambda x: np.max(x, out=np.zeros(())), "numpy.max"),
        (lambda x: np.sin(x, out=np.zeros(4)), "numpy.sin"),
    ],
)
def test_a_plain_out_is_refused_with_the_fix_that_works(call, name):
    with pytest.raises(TypeError) as taylor_error:
        dd.derivative(lambda t: call(X0 * t), 1.0, n=3)
    message = str(taylor_error.value)
    assert name in message and "out=" in message and "np.zeros_like(x)" in message
    assert "Drop out=." not in message and ".value" not in message
    with pytest.raises(TypeError, match="np.zeros_like"):  # eager mode refuses it too
        dd.jacobian(call, X0)
    with pytest.raises(TypeError, match="out=.*np.zeros_like"):  # and the sparsity tracer
        dd.jacobian_sparsity(call, X0)


def test_an_in_place_operator_on_a_plain_array_is_named_as_written():
    # K += x is np.add(K, x, out=K): the message names the operator and the fix, as eager mode's
    def f(x):
        K = np.zeros(4)
        K += x * 2.0
        return K

    for run in (lambda: dd.derivative(lambda t: f(X0 * t), 1.0, n=3), lambda: dd.jacobian(f, X0)):
        with pytest.raises(TypeError, match=r"K \+= x.*np.zeros\(shape, like=x\)"):
            run()


OTHER_FUNCTIONS = {
    # functions of the table (no rule of their own in eager mode), with out= a dual array (the
    # reductions into a 0-d view of one)
    "fft": lambda a, out: np.fft.fft(a, out=out),
    "cumulative_sum": lambda a, out: np.cumulative_sum(a, out=out),
    "clip": lambda a, out: np.clip(a, -0.4, 0.5, out=out),
    "nancumsum": lambda a, out: np.nancumsum(a, out=out),
    "var": lambda a, out: np.var(a, out=out),
    "median": lambda a, out: np.median(a, out=out),
    "percentile": lambda a, out: np.percentile(a, 30, out=out),
}


@pytest.mark.parametrize("name", OTHER_FUNCTIONS)
def test_out_of_the_tables_functions_in_every_mode(name):
    # eager mode refused a DualArray out= of these ("must not carry a derivative", "not
    # supported"), where Taylor mode and the tracer now write into it
    def f(a):
        o = np.zeros_like(a, dtype=complex if name == "fft" else None)
        out = o if name in ("fft", "cumulative_sum", "clip", "nancumsum") else o[:1].reshape(())
        assert OTHER_FUNCTIONS[name](a, out) is out  # NumPy returns its out=
        return np.real(o) * a

    expected = numeric.jacobian(f, X0)
    np.testing.assert_allclose(dd.jacobian(f, X0), expected, rtol=1e-6, atol=1e-8)
    taylor = dd.taylor(lambda t: f(X0 + t * V), 0.0, 1)[..., 1]
    np.testing.assert_allclose(taylor, expected @ V, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dd.jacobian(f, X0, sparsity="auto"), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "f",
    [sum_out, sum_out_by_position, cumsum_into_itself, cumprod_into_a_reversed_view,
     prod_max_mean_out],
)  # fmt: skip
def test_out_of_a_numpy_function_in_the_compiler(f):
    """The compiler writes a function's result into a traced out= functionally, given by keyword
    or by position (the position was refused as an in-place write the other modes honour)."""
    expected = numeric.jacobian(f, X0)
    np.testing.assert_allclose(dd.jit_jacobian(f)(X0), expected, rtol=1e-6, atol=1e-8)
    tangent = dd.jit_jvp(f)(X0, V)[1]
    np.testing.assert_allclose(tangent, expected @ V, rtol=1e-6, atol=1e-8)
