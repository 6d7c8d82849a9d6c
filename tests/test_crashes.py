"""Crashes that must be right answers or clear errors (issue 11, class 9).

Each case once raised an internal error (RecursionError, AxisError, ZeroDivisionError from Python
float arithmetic, a ValueError from a NaN converted to int) where NumPy gives a number. References
are NumPy's own semantics (inf/nan with a RuntimeWarning), closed forms, or central differences.
"""

from __future__ import annotations

import math
import re
import traceback
import warnings

import numpy as np
import pytest
from reference import assert_close, directional
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff import Dual

# -- value-only functions of sequences of duals ------------------------------------------------


def test_lexsort_of_a_dual_key_sorts_by_values():
    x = np.array([3.0, 1.0, 2.0])
    order = np.lexsort((x,))
    expected = np.eye(3)[order]  # x[order] picks rows of the identity
    np.testing.assert_array_equal(dd.jacobian(lambda u: u[np.lexsort((u,))], x), expected)
    # two keys, one of them a constant
    keys = np.array([1.0, 0.0, 1.0])
    order2 = np.lexsort((x, keys))
    got = dd.jacobian(lambda u: u[np.lexsort((u, keys))] * 2.0, x)
    np.testing.assert_array_equal(got, 2.0 * np.eye(3)[order2])


def test_value_functions_strip_duals_inside_sequences():
    x = dd.DualArray(np.array([0.5, 2.0]), np.ones(2))
    assert np.allclose(np.isclose(x, [0.5, 1.0]), [True, False])
    assert np.searchsorted([0.0, 1.0, 3.0], x).tolist() == [1, 2]
    assert np.digitize(x, [0.0, 1.0]).tolist() == [1, 2]


# -- joins and atleast_nd on 0-d, 1-d and n-d traced values -------------------------------------

_PIECES = {
    "0d": lambda x: x[0] ** 2,
    "1d": lambda x: x[1:3] * x[3],
    "2d": lambda x: np.sin(x[:4].reshape(2, 2)),
    "const0d": lambda x: np.float64(2.0),
    "const1d": lambda x: np.array([1.0, 2.0]),
}
_JOINS = {
    "hstack": np.hstack,
    "vstack": np.vstack,
    "dstack": np.dstack,
    "column_stack": np.column_stack,
    "concatenate": np.concatenate,
    "concatenate_flat": lambda a: np.concatenate(a, axis=None),
    "stack": np.stack,
    "stack_last": lambda a: np.stack(a, axis=-1),
    "atleast_1d": lambda a: np.atleast_1d(*a),
    "atleast_2d": lambda a: np.atleast_2d(*a),
    "atleast_3d": lambda a: np.atleast_3d(*a),
}
_COMBINATIONS = [
    ("0d", "0d"),
    ("0d", "const0d"),
    ("1d", "1d"),
    ("1d", "const1d"),
    ("2d", "2d"),
    ("0d",),
    ("1d",),
    ("2d",),
    ("0d", "1d"),
]


def _joined(join, combination):
    def f(x):
        result = join([_PIECES[name](x) for name in combination])
        if isinstance(result, tuple):  # atleast_nd of several arrays
            return np.concatenate([np.ravel(r) for r in result])
        return result

    return f


@pytest.mark.parametrize("combination", _COMBINATIONS, ids="-".join)
@pytest.mark.parametrize("name", sorted(_JOINS))
def test_joins_in_every_mode(name, combination):
    f = _joined(_JOINS[name], combination)
    x = np.linspace(0.3, 1.1, 6)
    v = np.linspace(-1.0, 1.0, 6)
    try:
        expected = np.asarray(f(x))
    except ValueError:  # NumPy refuses the shapes: every mode must refuse them too
        for run in (
            lambda: dd.jacobian(f, x),
            lambda: dd.jit_jacobian(f)(x),
            lambda: dd.jit_jvp(f)(x, v),
        ):
            with pytest.raises(ValueError):
                run()
        return
    jac = numeric_jacobian(f, x)
    for result in (dd.jacobian(f, x), dd.jit_jacobian(f)(x)):
        assert result.shape == expected.shape + (6,)
        assert_close(result, jac)
    tangent = np.tensordot(jac, v, 1)
    for value, t in (dd.jvp(f, x, v), dd.jit_jvp(f)(x, v)):
        np.testing.assert_allclose(value, expected, rtol=1e-15)
        assert t.shape == expected.shape
        assert_close(t, tangent)


def test_hstack_of_zero_d_traced_values():  # the reproduction
    got = dd.jit_jacobian(lambda x: np.hstack([x[0], x[1] ** 2]))(np.ones(2))
    np.testing.assert_array_equal(got, [[1.0, 0.0], [0.0, 2.0]])


# -- division by zero follows NumPy (inf/nan with a RuntimeWarning), never ZeroDivisionError ----


def test_compiled_division_by_a_zero_constant():
    x = np.ones(2)
    with pytest.warns(RuntimeWarning):
        eager = dd.jacobian(lambda u: u / 0.0, x)
    np.testing.assert_array_equal(eager, np.diag([np.inf, np.inf]))
    with pytest.warns(RuntimeWarning):
        compiled = dd.jit_jacobian(lambda u: u / 0.0)(x)
    np.testing.assert_array_equal(compiled, eager)
    with pytest.warns(RuntimeWarning):
        value, tangent = dd.jit_jvp(lambda u: u / 0.0)(x, x)
    np.testing.assert_array_equal(tangent, [np.inf, np.inf])
    with pytest.warns(RuntimeWarning):  # float32 stays float32, as the constant is weak
        small = dd.jit_jacobian(lambda u: u / 0.0)(np.ones(2, np.float32))
    assert small.dtype == np.float32


def test_scalar_division_by_zero_is_numpy_division():
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda x: 1 / x, 0.0) == -np.inf
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda x: x / 0.0, 1.0) == np.inf
    with pytest.warns(RuntimeWarning):
        assert np.isnan(dd.derivative(lambda x: x / x, 0.0))  # (0·1 - 0·1)/0: NumPy's 0/0
    with pytest.warns(RuntimeWarning):
        d = Dual(1.0, 1.0) / Dual(0.0, 0.0)
    # 1/0 = inf; the divisor's tangent is exactly zero, so it adds exactly zero although its
    # partial is infinite (README, Conventions): the tangent is inf, not (1 - inf·0)/0 = nan
    assert d.value == np.inf and d.tangent == np.inf
    with pytest.warns(RuntimeWarning):  # the same convention as for arrays and the rule table
        assert dd.derivative(lambda x: 1 / (x - x) ** 2, 0.0) == 0.0
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda x: np.divide(1.0, (x - x) ** 2), 0.0) == 0.0


def test_nested_derivative_through_a_pole():
    # d/dy log'(y) = d/dy 1/y = -1/y**2: -inf at 0, as NumPy's arithmetic gives
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda y: dd.derivative(np.log, y), 0.0) == -np.inf
    with pytest.warns(RuntimeWarning):
        assert dd.derivative(lambda y: dd.derivative(lambda x: 1 / x, y), 0.0) == np.inf
    assert dd.derivative(np.log, 0.0, n=2) == -np.inf  # Taylor mode: the same poles
    assert dd.derivative(lambda x: 1 / x, 0.0, n=2) == np.inf
    assert dd.derivative(lambda x: 1 / x, 0.0, n=3) == -np.inf
    # away from the pole the nested result is the closed form
    assert dd.derivative(lambda y: dd.derivative(np.log, y), 2.0) == -0.25


def test_every_scalar_operator_at_special_values_gives_a_number():
    values = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2]
    operators = [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: a**b,
    ]

    def dual(v, nested):
        if nested:
            return Dual(Dual(v, 1.0, tag=5), Dual(1.0, 0.0, tag=5), tag=6)
        return Dual(v, 1.0, tag=5)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for nested in (False, True):
            for a in values:
                for b in values:
                    for op in operators:
                        for left, right in ((True, False), (False, True), (True, True)):
                            x = dual(a, nested) if left else a
                            y = dual(b, nested) if right else b
                            result = op(x, y)
                            plain = op(np.float64(a), np.float64(b))
                            got = dd.dual.dual.strip(result)
                            assert got == plain or (np.isnan(got) and np.isnan(plain))


def test_nested_duals_keep_the_first_order_rule_at_a_pole():
    x = Dual(Dual(0.0, 1.0, tag=5), Dual(1.0, 0.0, tag=5), tag=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = x / 0.0
    # value 0/0 and tangent 1/0 at both layers, computed the way NumPy computes them; the
    # inner tangent of the outer tangent (1 + 0·ε)/0 is exactly zero: it stays zero
    assert np.isnan(y.value.value) and y.value.tangent == np.inf
    assert y.tangent.value == np.inf and y.tangent.tangent == 0.0
    assert_close(dd.derivative(lambda u: 1 / u, 0.5), directional(lambda u: 1 / u, 0.5, 1.0))


# -- Taylor rules at NaN and infinite points give NaN/inf, as NumPy would, never a crash ------


def test_sinc_higher_derivatives_at_nan_and_infinity():
    for x in (np.nan, np.inf, -np.inf):
        for n in (2, 3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert np.isnan(dd.derivative(dd.sinc, x, n=n))
                got = dd.derivative(dd.sinc, np.array([x, 0.5]), n=n)
            assert np.isnan(got[0])
            assert_close(got[1], dd.derivative(dd.sinc, 0.5, n=n), rtol=1e-14)
    # sinc''(0) = -π²/3
    assert_close(dd.derivative(dd.sinc, 0.0, n=2), -(np.pi**2) / 3, rtol=1e-14)


_SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]


@pytest.mark.parametrize("name", sorted(dd.RULES))
def test_every_taylor_rule_at_special_points(name):
    rule = dd.RULES[name]
    if name == "ldexp":  # its exponent must be an integer: NumPy refuses floats
        pytest.skip("ldexp takes an integer exponent")
    calls = []
    if rule.nin == 1:
        calls += [(rule.function, x) for x in _SPECIAL]
    else:
        for a in _SPECIAL[::2]:  # nan, -inf, -0.0 (and 1.0 below): enough pairs, quickly
            for b in _SPECIAL[::2] + [1.0]:
                calls += [
                    (lambda x, b=b: rule.function(x, b), a),
                    (lambda x, a=a: rule.function(a, x), b),
                    (lambda x, b=b: rule.function(x, x * b), a),
                ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f, x in calls:
            for n in (2,) if rule.nin == 2 else (2, 3):
                scalar = dd.derivative(f, x, n=n)
                elementwise = dd.derivative(f, np.array([x, x]), n=n)
                # the same point as a scalar and inside an array: the same answer
                np.testing.assert_allclose(elementwise, [scalar, scalar], rtol=1e-13)


# -- arguments are validated the same way on every path ---------------------------------------


@pytest.mark.parametrize("x", [1.0, 1, np.float64(1.0), np.array([1.0, 2.0])], ids=repr)
@pytest.mark.parametrize("n", [1.0, 2.0, True, False, np.True_, "1", None, np.array([1])], ids=repr)
def test_derivative_order_must_be_an_integer_on_every_path(x, n):
    with pytest.raises(TypeError, match="order n must be an integer"):
        dd.derivative(lambda u: u * u, x, n=n)


@pytest.mark.parametrize("n", [1, 2, np.int64(1), np.uint8(2), np.array(1)], ids=repr)
def test_derivative_order_accepts_integers_of_any_kind(n):
    expected = 3 * 2.0**2 if int(n) == 1 else 6 * 2.0  # (x³)' = 3x², (x³)'' = 6x at x = 2
    assert dd.derivative(lambda u: u**3, 2.0, n=n) == expected
    np.testing.assert_array_equal(dd.derivative(lambda u: u**3, np.array([2.0]), n=n), [expected])


def test_negative_orders_and_bad_taylor_orders_raise():
    for x in (1.0, np.ones(2)):
        with pytest.raises(ValueError, match=">= 0"):
            dd.derivative(np.sin, x, n=-1)
    for order in (2.0, True, np.True_, "2"):
        with pytest.raises(TypeError, match="must be an integer"):
            dd.taylor(np.sin, 1.0, order)
    np.testing.assert_allclose(dd.taylor(np.exp, 0.0, np.int8(2)), [1.0, 1.0, 0.5])


@pytest.mark.parametrize("chunk", [1.5, True, "2"], ids=repr)
def test_chunk_must_be_an_integer_everywhere(chunk):
    x = np.ones(3)
    for run in (
        lambda: dd.jacobian(lambda u: u * u, x, chunk=chunk),
        lambda: dd.gradient(lambda u: np.sum(u**3), x, chunk=chunk),
        lambda: dd.hessian(lambda u: np.sum(u**3), x, chunk=chunk),
        lambda: dd.jacobian(lambda u: u * u, x, chunk=chunk, workers=1),
    ):
        with pytest.raises(TypeError, match="chunk"):
            run()
    with pytest.raises(ValueError, match=">= 1"):
        dd.jacobian(lambda u: u * u, x, chunk=0)


def test_jacobian_output_option_is_checked():
    with pytest.raises(ValueError, match="'dense' or 'sparse'"):
        dd.jacobian(lambda u: u * u, np.ones(2), output="csr")
    with pytest.raises(TypeError, match="workers"):
        dd.jacobian(lambda u: u * u, np.ones(2), workers=2.5)


# -- every public member of np.ndarray: implemented on DualArray, or refused with a reason -----

_X0 = np.array([[0.7, -1.3, 2.1], [0.4, 1.9, -0.6]])


def _inplace(method):
    def f(u):
        y = u * 1.0  # a fresh array, so the argument itself is left alone
        method(y)
        return y

    return f


# Members that are differentiable: f(u) through the member, checked against central differences
# (and, by running f on a plain array, against NumPy's own result).
_DIFFERENTIABLE = {
    "T": lambda u: u.T,
    "mT": lambda u: u.mT,
    "clip": lambda u: u.clip(-1.0, 1.0),
    "compress": lambda u: u.compress([True, False, True], axis=1),
    "conj": lambda u: u.conj(),
    "conjugate": lambda u: u.conjugate(),
    "copy": lambda u: u.copy(),
    "cumprod": lambda u: u.cumprod(axis=1),
    "cumsum": lambda u: u.cumsum(),
    "diagonal": lambda u: u.diagonal(),
    "dot": lambda u: u.dot(np.arange(3.0)),
    "fill": _inplace(lambda y: y.fill(y[0, 1] * 2.0)),
    "flat": lambda u: u.flat[[1, 4]],
    "flatten": lambda u: u.flatten(),
    "imag": lambda u: u.imag,
    "item": lambda u: u.item(4),
    "max": lambda u: u.max(axis=0),
    "mean": lambda u: u.mean(axis=1),
    "min": lambda u: u.min(),
    "partition": _inplace(lambda y: y.partition(1, axis=1)),
    "prod": lambda u: u.prod(axis=0),
    "put": _inplace(lambda y: y.put([0, 5, -1], y[1, 1] ** 2)),
    "ravel": lambda u: u.ravel(),
    "real": lambda u: u.real,
    "repeat": lambda u: u.repeat(2, axis=0),
    "reshape": lambda u: u.reshape(3, 2),
    "resize": _inplace(lambda y: y.resize((4, 2), refcheck=False)),
    "round": lambda u: u.round(1) + u,
    "sort": _inplace(lambda y: y.sort(axis=1)),
    "squeeze": lambda u: u.reshape(1, 6).squeeze(),
    "std": lambda u: u.std(axis=1),
    "sum": lambda u: u.sum(axis=1),
    "swapaxes": lambda u: u.swapaxes(0, 1),
    "take": lambda u: u.take([5, 0, 2]),
    "trace": lambda u: u.trace(),
    "transpose": lambda u: u.transpose(1, 0),
    "var": lambda u: u.var(),
    "view": _inplace(lambda y: y.view().__setitem__((0, 0), y[1, 2] * 3.0)),
}
# Members whose result does not depend on the tangent: equal to the member of the values.
_VALUE_ONLY = {
    "all": lambda u: u.all(axis=0),
    "any": lambda u: u.any(),
    "argmax": lambda u: u.argmax(axis=1),
    "argmin": lambda u: u.argmin(),
    "argpartition": lambda u: u.argpartition(1, axis=1),
    "argsort": lambda u: u.argsort(axis=0),
    "device": lambda u: u.device,
    "dtype": lambda u: u.dtype,
    "itemsize": lambda u: u.itemsize,
    "nbytes": lambda u: u.nbytes,
    "ndim": lambda u: u.ndim,
    "nonzero": lambda u: u.nonzero(),
    "searchsorted": lambda u: np.sort(u, axis=None).searchsorted([0.0, 1.0]),
    "shape": lambda u: u.shape,
    "size": lambda u: u.size,
    "to_device": lambda u: u.to_device("cpu").shape,
}
# tolist gives Duals where ndarray gives floats: its own test below.
_OTHER = {"astype", "tolist"}


def test_every_ndarray_member_is_implemented_or_refused_with_a_reason():
    from dualdiff.core.methods import REFUSED_ATTRIBUTES, REFUSED_METHODS

    public = {name for name in dir(np.ndarray) if not name.startswith("_")}
    decided = set(_DIFFERENTIABLE) | set(_VALUE_ONLY) | _OTHER
    refused = set(REFUSED_METHODS) | set(REFUSED_ATTRIBUTES)
    assert not decided & refused
    # a member NumPy adds in a future version shows up here until it is decided
    assert public <= decided | refused, sorted(public - decided - refused)
    for name in public:
        assert hasattr(dd.DualArray, name) or name in REFUSED_ATTRIBUTES, name


@pytest.mark.parametrize("name", sorted(_DIFFERENTIABLE))
def test_differentiable_ndarray_members(name):
    f = _DIFFERENTIABLE[name]
    expected = np.asarray(f(_X0.copy()))
    value, jac = dd.value_and_jacobian(f, _X0)
    np.testing.assert_allclose(dd.arrays.dualarray.strip(value), expected, rtol=1e-15)
    assert_close(jac, numeric_jacobian(f, _X0))
    # one direction (jvp) and the same on a DualArray made by hand
    v = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    _, tangent = dd.jvp(f, _X0, v)
    assert_close(tangent, np.tensordot(numeric_jacobian(f, _X0), v, 2))


@pytest.mark.parametrize("name", sorted(_VALUE_ONLY))
def test_value_only_ndarray_members(name):
    f = _VALUE_ONLY[name]
    x = dd.DualArray(_X0, np.ones_like(_X0))
    got, expected = f(x), f(_X0.copy())
    if isinstance(expected, tuple) and expected and isinstance(expected[0], np.ndarray):
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "name", sorted(set(__import__("dualdiff.core.methods").core.methods.REFUSED_METHODS))
)
def test_refused_ndarray_methods_say_why(name):
    x = dd.DualArray(_X0, np.ones_like(_X0))
    with pytest.raises(TypeError, match=rf"DualArray\.{name}\(\) is not supported: .*x\.value"):
        getattr(x, name)()


@pytest.mark.parametrize("name", ["base", "data", "ctypes", "flags", "strides"])
def test_refused_ndarray_attributes_say_why(name):
    x = dd.DualArray(_X0, np.ones_like(_X0))
    with pytest.raises(AttributeError, match=rf"DualArray\.{name} is not available: .+"):
        getattr(x, name)
    assert not hasattr(x, name)  # code probing an attribute sees it absent


def test_in_place_methods_reach_views_with_their_tangents():
    x = dd.DualArray(np.array([3.0, 1.0, 2.0, 0.0]), np.array([30.0, 10.0, 20.0, 0.0]))
    whole = x[:]  # a view: sorting x in place must reorder what it sees, tangents included
    x.sort()
    np.testing.assert_array_equal(whole.value, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(whole.tangent, [0.0, 10.0, 20.0, 30.0])
    x.fill(Dual(5.0, 1.0))
    np.testing.assert_array_equal(whole.tangent, [1.0, 1.0, 1.0, 1.0])
    x.flat[1:3] = 0.0
    np.testing.assert_array_equal(whole.value, [5.0, 0.0, 0.0, 5.0])
    np.testing.assert_array_equal(whole.tangent, [1.0, 0.0, 0.0, 1.0])
    x.put([0, 1, 2], [Dual(7.0, 2.0), 8.0])  # a shorter v repeats, as in NumPy
    np.testing.assert_array_equal(whole.value, [7.0, 8.0, 7.0, 5.0])
    np.testing.assert_array_equal(whole.tangent, [2.0, 0.0, 2.0, 1.0])
    with pytest.raises(IndexError):
        x.put([4], 1.0)
    with pytest.raises(ValueError, match="resize"):  # NumPy refuses: a view references x
        x.resize(6)


def test_item_and_tolist_keep_the_tangent():
    x = dd.DualArray(_X0, 2.0 * _X0)
    assert x.item(1, 2) == _X0.item(1, 2) and x.item(1, 2).tangent == 2.0 * _X0.item(1, 2)
    assert x.item((0, 1)).tangent == 2.0 * _X0[0, 1]
    assert x[:1, :1].item().value == _X0[0, 0]
    with pytest.raises(ValueError, match="size 1"):
        x.item()
    assert [[d.value for d in row] for row in x.tolist()] == _X0.tolist()


# -- formatting: a format spec formats the value (0-d only for arrays, as for ndarray) --------


def test_format_spec_formats_the_value():
    d = Dual(1.0, 2.0)
    assert f"{d:.6f}" == "1.000000" and format(d, ".3e") == "1.000e+00"
    assert f"{d}" == repr(d) == "Dual(1.0, 2.0)"
    nested = Dual(Dual(0.25, 1.0, tag=3), Dual(1.0, 0.0, tag=3), tag=4)
    assert f"{nested:.2f}" == "0.25"
    assert f"{dd.DualArray(np.array(2.5), np.array(1.0)):.1f}" == "2.5"
    with pytest.raises(TypeError, match="0-d"):
        f"{dd.DualArray(np.ones(3)):.1f}"
    with pytest.raises(TypeError, match=r"f'\{x:\.6f\}'"):
        "%f" % d  # noqa: UP031 - the %-form calls float(), which would drop the tangent

    lines = []

    def f(u):
        lines.append(f"{np.sum(u**2):.4f}")
        return np.sum(u**2)

    dd.jacobian(f, np.ones(3))  # k directions: the tangent is an array
    dd.derivative(f, np.ones(3), n=2)  # Taylor mode
    dd.hessian(f, np.ones(3))  # nested duals
    assert lines == ["3.0000"] * len(lines)


def test_dual_has_the_members_numbers_have():
    d = Dual(2.5, 1.5)
    assert d.item() is d  # as np.float64(2.5).item(): the number, here with its tangent
    assert not d.is_integer() and Dual(2.0, 1.0).is_integer()
    assert (d.real.value, d.real.tangent, d.imag.value, d.imag.tangent) == (2.5, 1.5, 0.0, 0.0)
    z = Dual(1.0 + 2.0j, 3.0 - 1.0j)
    assert (z.conjugate().value, z.conjugate().tangent) == (1.0 - 2.0j, 3.0 + 1.0j)
    assert (z.conj().value, z.conj().tangent) == (1.0 - 2.0j, 3.0 + 1.0j)
    assert (d.dtype, z.dtype, Dual(np.float32(1.0)).dtype) == (
        np.float64,
        np.complex128,
        np.float32,
    )
    assert (abs(Dual(-2.0, 1.0)).value, abs(Dual(-2.0, 1.0)).tangent) == (2.0, -1.0)
    # piecewise constant: plain numbers, as the README says (derivative 0)
    import math

    assert (round(d), math.floor(d), math.ceil(d), math.trunc(d), round(d, 1)) == (2, 2, 3, 2, 2.5)


# -- found by sweeping NumPy functions over 0-d, 1-d, 2-d and empty arrays in every mode ------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda u: np.diff(u[0]), ValueError, "at least one dimensional"),
        (lambda u: np.diff(u, n=-1), ValueError, "non-negative"),  # was: u returned unchanged
        (lambda u: np.diff(u, axis=2), np.exceptions.AxisError, "out of bounds"),
    ],
)
def test_diff_checks_its_arguments_as_numpy_does_in_every_mode(call, error, message):
    x = np.ones(3)
    with pytest.raises(error, match=message):
        call(x)  # NumPy's own error, the reference
    for run in (
        lambda: dd.jacobian(call, x),
        lambda: dd.jvp(call, x, x),
        lambda: dd.jacobian(call, x, sparsity="auto"),
        lambda: dd.jit_jacobian(call)(x),
        lambda: dd.taylor(call, x, 2),
    ):
        with pytest.raises(error, match=message):
            run()


def test_jacobian_of_named_tuple_outputs():
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    sign, logdet = dd.jacobian(np.linalg.slogdet, a)
    assert type(dd.jacobian(np.linalg.slogdet, a)).__name__ == "SlogdetResult"
    np.testing.assert_array_equal(sign, np.zeros((3, 3)))
    assert_close(logdet, np.linalg.inv(a).T)  # d log|det A| / dA = A^-T
    values, _ = dd.jacobian(np.linalg.eigh, a)
    assert_close(values, numeric_jacobian(lambda m: np.linalg.eigh(m)[0], a))  # lower triangle
    with pytest.raises(TypeError, match="one array or number, got numpy.EighResult"):
        dd.jacobian(np.linalg.eigh, a, sparsity="auto")


@pytest.mark.parametrize(
    "x", [np.array(1.5), np.ones(3), np.ones((2, 0))], ids=["0d", "1d", "empty"]
)
def test_compiled_functions_return_what_eager_returns(x):
    import collections

    pair = collections.namedtuple("pair", "scaled total")
    for f in (
        lambda u: np.ndim(u),
        lambda u: np.shape(u),
        lambda u: np.size(u),
        lambda u: u.shape,
        lambda u: (),
        lambda u: u * np.size(u),
        lambda u: pair(2.0 * u, np.sum(u)),
    ):
        value, tangent = dd.jvp(f, x, np.ones_like(x))
        compiled_value, compiled_tangent = dd.jit_jvp(f)(x, np.ones_like(x))
        if not isinstance(value, (np.ndarray, np.generic)):  # ints, tuples, named tuples
            assert type(compiled_value) is type(value)
        np.testing.assert_equal(compiled_value, value)
        np.testing.assert_equal(compiled_tangent, tangent)
        jac = dd.jacobian(f, x)
        compiled_jac = dd.jit_jacobian(f)(x)
        if isinstance(jac, tuple):  # (a 0-d Jacobian is a 0-d array in compiled code)
            assert type(compiled_jac) is type(jac)
        np.testing.assert_equal(compiled_jac, jac)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 2)])
def test_compiled_flattening_functions_of_empty_arrays(shape):
    x = np.linspace(0.5, 1.5, math.prod(shape)).reshape(shape)
    for f in (np.cumsum, lambda u: np.concatenate([u, 2.0 * u], axis=None)):
        np.testing.assert_array_equal(dd.jit_jacobian(f)(x), dd.jacobian(f, x))
        assert dd.jacobian(f, x).shape == np.shape(f(x)) + shape


def test_put_into_a_zero_d_array():
    a = dd.DualArray(np.array(2.0), np.array(1.0))
    plain = np.array(2.0)
    np.put(plain, [0, 0], [3.0, 4.0])
    a.put([0, 0], [3.0, Dual(4.0, 5.0)])  # the last write wins, as in NumPy
    assert (a.value, a.tangent) == (plain, 5.0)


def test_f_may_update_an_empty_or_order_zero_argument_in_place():
    def f(u):
        u += 1.0
        u.sort()
        return 2.0 * u

    for x in (np.zeros(0), np.zeros((0, 3))):
        assert dd.jacobian(f, x).shape == x.shape + x.shape
    y = np.array([2.0, 1.0])
    np.testing.assert_array_equal(dd.derivative(f, y, n=0), [4.0, 6.0])
    np.testing.assert_array_equal(y, [2.0, 1.0])  # the caller's array is left alone


@pytest.mark.parametrize("mode", ["jvp", "sparse", "jit"])
def test_products_over_an_empty_axis(mode):
    b = np.ones((0, 2))

    def f(u):
        return u.reshape(3, 0) @ b + np.dot(u, u)

    x = np.zeros(0)
    if mode == "jvp":
        value, tangent = dd.jvp(f, x, x)
        np.testing.assert_array_equal(tangent, np.zeros((3, 2)))
    elif mode == "sparse":
        assert dd.jacobian(f, x, sparsity="auto").shape == (3, 2, 0)
    else:
        assert dd.jit_jacobian(f)(x).shape == (3, 2, 0)


def test_other_dual_types_share_the_ndarray_members():
    # Taylor mode: conj, tolist, dtype and astype as for a DualArray
    coefficients = dd.taylor(lambda u: u.copy() * 2.0 + u.conj(), np.ones(2), 2)
    np.testing.assert_array_equal(coefficients, [[3.0, 3.0, 0.0]] * 2)
    stacked = dd.taylor(lambda u: np.stack(u.tolist()) * u.astype(np.float64), np.ones(2), 2)
    np.testing.assert_array_equal(stacked, [[1.0, 2.0, 1.0]] * 2)
    seen = []
    dd.taylor(lambda u: seen.append((u.dtype, u.itemsize)) or u, np.ones(2), 2)
    assert seen == [(np.dtype(float), 8)]
    with pytest.raises(TypeError, match="tangent"):
        dd.taylor(lambda u: u.astype(int), 1.0, 2)
    # in-place resize exists on DualArray only; the others say what to use instead (the
    # compiler refuses every write into an array while tracing)
    with pytest.raises(TypeError, match=r"resize"):
        dd.jit_jvp(lambda u: u.resize(3))(np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match=r"np\.resize"):
        dd.taylor(lambda u: u.resize(3), np.ones(2), 2)
    # a view writes through in Taylor mode; the compiler has views but refuses writes
    np.testing.assert_array_equal(
        dd.taylor(lambda u: u.view() * 2.0, np.ones(2), 2), [[2.0, 2.0, 0.0]] * 2
    )
    np.testing.assert_array_equal(dd.jit_jvp(lambda u: u.view())(np.ones(2), np.ones(2))[1], 1.0)
    with pytest.raises(TypeError, match="tobytes"):
        dd.taylor(lambda u: u.tobytes(), np.ones(2), 2)


def test_value_functions_writing_into_a_dual_out_reset_its_tangent():
    x = dd.DualArray(np.array([-np.inf, 1.0]), np.ones(2))
    for call in (
        lambda out: np.isneginf(x, out),  # out by position
        lambda out: np.isneginf(x, out=out),
        lambda out: np.isnan(x, out=out),  # a value ufunc
    ):
        out = dd.DualArray(np.full(2, 7.0), np.ones(2))
        assert call(out) is out
        np.testing.assert_array_equal(out.tangent, [0.0, 0.0])  # was: a stale tangent of 1
    out = dd.DualArray(np.zeros(1), np.ones(1))
    np.any(x, keepdims=True, out=out)
    assert (out.value[0], out.tangent[0]) == (1.0, 0.0)


def test_options_computed_from_x_are_refused_not_recursed():
    x = np.ones(6)
    with pytest.raises(TypeError, match="'condition' of numpy.compress must not depend on x"):
        dd.jacobian(lambda u: np.compress(u[:3], u[3:]), x, sparsity="auto")
    with pytest.raises(TypeError, match="must not depend on x"):
        dd.jacobian(lambda u: np.array_split(u, u[:0])[0], x, sparsity="auto")
    with pytest.raises(TypeError, match="split indices cannot be dual"):
        dd.jacobian(lambda u: np.array_split(u, u[:0])[0], x)
    with pytest.raises(TypeError, match="condition cannot be a dual"):
        dd.jacobian(lambda u: np.compress(u[:3], u[3:]), x)


def test_polyval_of_no_coefficients_is_zero_in_every_mode():
    x = np.array([0.5, 2.0])
    zero = np.zeros((2, 2))
    np.testing.assert_array_equal(dd.jacobian(lambda u: np.polyval([], u), x), zero)
    np.testing.assert_array_equal(dd.jacobian(lambda u: np.polyval(u[:0], u), x), zero)
    np.testing.assert_array_equal(dd.taylor(lambda u: np.polyval(u[:0], u), x, 2), np.zeros((2, 3)))
    np.testing.assert_array_equal(
        dd.jacobian(lambda u: np.polyval(u[:0], u), x, sparsity="auto"), zero
    )


@pytest.mark.parametrize("shape", [(0,), (2, 0), (3,)])
def test_compiled_outer_of_empty_arrays(shape):
    x = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
    for f in (
        lambda u: np.outer(u, u),
        lambda u: np.outer(u, np.ones(2)),
        lambda u: np.outer(np.ones(2), u),
    ):
        np.testing.assert_array_equal(dd.jit_jacobian(f)(x), dd.jacobian(f, x))


def test_compiled_divmod_and_modf():
    def f(u):
        return np.concatenate(np.modf(u * 3.7) + divmod(u, 0.3) + np.divmod(0.7, u))

    x = np.array([0.5, -1.1])  # away from the jumps of // and %
    jac = dd.jacobian(f, x)
    np.testing.assert_array_equal(dd.jit_jacobian(f)(x), jac)
    np.testing.assert_array_equal(dd.jit_jvp(f)(x, x)[1], jac @ x)
    assert_close(jac, numeric_jacobian(f, x))


# --- a Dual has a NumPy scalar's array API (class 9) -------------------------------------------


@pytest.mark.parametrize(
    "method, args",
    [
        ("reshape", (1,)),
        ("reshape", ((),)),
        ("flatten", ()),
        ("ravel", ()),
        ("squeeze", ()),
        ("transpose", ()),
        ("astype", (np.float64,)),
        ("copy", ()),
        ("sum", ()),
        ("repeat", (2,)),
        ("take", (0,)),
        ("clip", (0.0, 1.0)),
        ("cumsum", ()),
        ("max", ()),
        ("compress", ([True],)),
    ],
)
def test_dual_methods_mirror_a_numpy_scalars(method, args):
    x = np.float64(0.3)
    expected = getattr(x, method)(*args)  # NumPy: an array or a scalar, of some shape

    def f(t):
        return getattr(np.sin(t), method)(*args)

    result = f(dd.Dual(0.3, 1.0))
    assert (type(result) is dd.DualArray) is (type(expected) is np.ndarray)
    assert np.shape(result) == np.shape(expected)
    d = dd.derivative(f, x)
    np.testing.assert_allclose(d, np.broadcast_to(np.cos(0.3), np.shape(expected)), rtol=1e-15)


def test_a_dual_is_not_subscriptable_so_a_write_into_a_float_array_names_itself():
    """A NumPy scalar allows ``x[()]``; a Dual does not, because a subscriptable object is a
    sequence to NumPy, which would turn ``out[i] = d``'s TypeError (naming the write and its fix)
    into "setting an array element with a sequence"."""
    out = np.zeros(2)
    with pytest.raises(TypeError, match=r"out\[i\] = x.*zeros_like"):
        out[0] = dd.Dual(0.3, 1.0)
    with pytest.raises(TypeError, match="not subscriptable"):
        dd.Dual(0.3, 1.0)[()]


def _write_into_floats(x):
    out = np.zeros(2)
    out[0] = x[1]  # drops the tangent: every mode refuses
    return out


_WRITE_MODES = {
    "jacobian": lambda f, x: dd.jacobian(f, x),
    "taylor": lambda f, x: dd.derivative(f, x, n=2),
    "jit_jvp": lambda f, x: dd.jit_jvp(f)(x, np.ones_like(x)),
    "jit_jacobian": lambda f, x: dd.jit_jacobian(f)(x),
    "sparsity": lambda f, x: dd.jacobian_sparsity(f, x),
}


@pytest.mark.parametrize("mode", sorted(_WRITE_MODES))
def test_a_write_into_a_float_array_names_itself_and_the_fix_in_every_mode(mode):
    """``out[i] = x[j]`` into a float array drops the tangent: a TypeError naming the write and
    the fix in every mode. The other modes' scalars support indexing, so NumPy raises its own
    ValueError ("setting an array element with a sequence") with that TypeError as its cause;
    the verbs raise the cause itself (it was the ValueError in Taylor mode, the compiler and the
    sparsity tracer)."""
    x = np.array([0.3, 0.7])
    with pytest.raises(TypeError) as info:
        _WRITE_MODES[mode](_write_into_floats, x)
    error = info.value
    assert re.search(r"out\[i\] = x", str(error)) and "zeros_like" in str(error), str(error)
    assert any(
        frame.name == "_write_into_floats" for frame in traceback.extract_tb(error.__traceback__)
    )


def test_an_array_from_a_dual_method_does_not_alias_the_dual():
    def f(x):
        s = np.sum(x)
        r = s.reshape(1)  # NumPy: a fresh array
        r *= 3.0
        return s * 1.0

    np.testing.assert_array_equal(dd.jacobian(f, np.array([0.4, 0.5])), [1.0, 1.0])
