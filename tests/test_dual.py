"""The scalar Dual: operators in both orders with every kind of number, conversions, comparisons."""

from __future__ import annotations

import math
import operator
import pickle

import numpy as np
import pytest
from reference import assert_close, directional

import dualdiff as dd
from dualdiff import Dual
from dualdiff.arrays.dualarray import DERIVED_FUNCTIONS, HANDLED_FUNCTIONS

OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "%": operator.mod,
}
CONSTANTS = [2, 2.5, np.float64(1.5), np.float32(0.5), np.int64(3), 1.5 + 0.5j]


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
@pytest.mark.parametrize("constant", CONSTANTS, ids=repr)
def test_operator_with_constant_in_both_orders(symbol, constant):
    op = OPERATORS[symbol]
    if symbol == "%" and isinstance(constant, complex):
        pytest.skip("no complex modulo")
    x = 1.7
    left = op(Dual(x, 1.0), constant)
    right = op(constant, Dual(x, 1.0))
    rtol = 1e-6 if isinstance(constant, np.float32) else 1e-8  # NumPy keeps float32 there
    assert_close(left.value, op(x, constant), rtol=rtol)
    assert_close(right.value, op(constant, x), rtol=rtol)
    c = constant.item() if isinstance(constant, np.generic) else constant  # reference in double
    assert_close(left.tangent, directional(lambda t: op(t, c), x, 1.0), rtol=rtol)
    assert_close(right.tangent, directional(lambda t: op(c, t), x, 1.0), rtol=rtol)


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
def test_operator_between_duals(symbol):
    op = OPERATORS[symbol]
    x, y, vx, vy = 1.7, 0.6, 1.0, -0.5
    out = op(Dual(x, vx), Dual(y, vy))
    assert_close(out.value, op(x, y))
    assert_close(out.tangent, directional(lambda t: op(x + t * vx, y + t * vy), 0.0, 1.0))


def test_unary_operators_and_abs():
    d = Dual(-1.5, 2.0)
    assert (-d).value == 1.5 and (-d).tangent == -2.0
    assert (+d) is d
    assert abs(d).value == 1.5 and abs(d).tangent == -2.0


def test_floor_division_and_divmod():
    q, r = divmod(Dual(7.5, 1.0), 2.0)
    assert q.value == 3.0 and q.tangent == 0.0
    assert r.value == 1.5 and r.tangent == 1.0
    q, r = divmod(7.5, Dual(2.0, 1.0))
    assert r.tangent == -3.0  # d/dy (x mod y) = -floor(x/y)


def test_integer_values_become_floats():
    d = Dual(3)
    assert d.value == 3.0 and type(d.value) is float
    assert (Dual(3, 1) / 2).value == 1.5


def test_complex_values_and_parts():
    z = Dual(1.0 + 2.0j, 1.0)
    w = z * z
    assert w.value == (1 + 2j) ** 2 and w.tangent == 2 * (1 + 2j)
    assert z.real.value == 1.0 and z.imag.value == 2.0
    assert z.conjugate().value == 1 - 2j
    assert_close(np.exp(z).tangent, np.exp(1 + 2j))


def test_comparisons_and_bool_use_the_value():
    a, b = Dual(1.0, 5.0), Dual(2.0, -1.0)
    assert a < b and a <= b and b > a and b >= a and a != b
    assert a == 1.0 and Dual(1.0, 3.0) == a
    assert 0.5 < a < 1.5
    assert bool(Dual(0.0, 1.0)) is False
    assert {a: 1}[1.0] == 1  # equal objects hash equally
    assert hash(a) == hash(1.0)


def test_branching_code_differentiates():
    def relu(x):
        return x if x > 0 else 0.0 * x

    assert dd.derivative(relu, 2.0) == 1.0
    assert dd.derivative(relu, -2.0) == 0.0


def test_repr_and_format():
    assert repr(Dual(1.0, 2.0)) == "Dual(1.0, 2.0)"
    assert "tag=" in repr(Dual(1.0, 2.0, tag=7))
    assert f"{Dual(1.0, 2.0):.2f}" == "1.00"  # a format spec formats the value


def test_conversions_that_drop_the_tangent_raise():
    d = Dual(1.0, 1.0)
    for convert in (float, int, complex, operator.index, math.sin, math.exp, math.sqrt):
        with pytest.raises(TypeError, match="tangent"):
            convert(d)
    with pytest.raises(TypeError, match="dualdiff.sin"):
        math.sin(d)
    with dd.strict_arrays(), pytest.raises(TypeError, match="stack"):
        np.asarray(d)
    with dd.strict_arrays(), pytest.raises(TypeError, match="stack"):
        np.array([d, d])
    with pytest.raises(TypeError, match="stack"):  # a float array of Duals loses the tangents
        np.array([d, d], dtype=float)
    out = np.zeros(3)
    # NumPy raises ValueError (a Dual is indexable, as a NumPy scalar is) caused by the Dual's
    # TypeError, which names the fix
    with pytest.raises((TypeError, ValueError)) as info:
        out[0] = d
    assert "zeros_like" in str(info.value) + str(info.value.__cause__)
    with pytest.raises(TypeError):
        [1, 2, 3][d]


def test_piecewise_constant_conversions_return_plain_numbers():
    d = Dual(2.7, 1.0)
    assert math.floor(d) == 2 and math.ceil(d) == 3 and math.trunc(d) == 2 and round(d) == 3
    assert round(d, 1) == 2.7


def test_constructor_rejects_bad_input():
    with pytest.raises(TypeError, match="DualArray"):
        Dual(np.ones(3))
    with pytest.raises(TypeError):
        Dual("1.0")
    with pytest.raises(TypeError):
        Dual(None)
    with pytest.raises(TypeError):
        Dual(1.0, 1.0, tag="a")


def test_unsupported_operands_raise_type_error():
    with pytest.raises(TypeError):
        Dual(1.0, 1.0) + "a"
    with pytest.raises(TypeError):
        pow(Dual(2.0, 1.0), 2, 3)


def test_numpy_scalars_and_ufuncs_on_duals():
    d = Dual(0.5, 1.0)
    assert_close((np.float64(2.0) * d).tangent, 2.0)
    assert_close(np.sin(d).tangent, math.cos(0.5))
    assert np.isnan(d) is np.False_ or np.isnan(d) == False  # noqa: E712 - on values
    assert np.greater(d, 0.1)
    with pytest.raises(TypeError, match="numpy.gcd"):
        np.gcd(d, 2)


def test_pickle_round_trip():
    d = Dual(1.5, -2.0, tag=3)
    back = pickle.loads(pickle.dumps(d))
    assert (back.value, back.tangent, back.tag) == (1.5, -2.0, 3)


def test_nested_duals_give_second_derivatives():
    x = Dual(Dual(1.3, 1.0, tag=1), Dual(1.0, 0.0, tag=1), tag=2)
    y = x * x * x
    assert y.tangent.tangent == pytest.approx(6 * 1.3)


def _shape_kind(result):
    if isinstance(result, (tuple, list)):
        return tuple(_shape_kind(item) for item in result)
    return "0-d array" if isinstance(result, (np.ndarray, dd.DualArray)) else "scalar"


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("value", [1.5, np.float64(1.5), 1.5 - 0.5j, np.complex64(1.5 - 0.5j)])
def test_numpy_functions_of_a_dual_give_a_scalar_where_numpy_does(value):
    # np.real/np.imag/np.flip of a Dual gave a 0-d DualArray (a view of it wrote into it) and
    # np.block a Dual where NumPy gives a 0-d array (a view of it did not)
    wrong = []
    for function in {**DERIVED_FUNCTIONS, **HANDLED_FUNCTIONS}:
        if function in (np.fft.fftn, np.fft.ifftn):  # the gap of test_array.py's FFT_OF_0D
            continue
        try:
            expected = _shape_kind(function(value))
        except Exception:
            continue
        try:
            got = _shape_kind(function(Dual(value, 1.0)))
        except Exception:
            continue
        if got != expected:
            wrong.append((function.__name__, got, expected))
    for name, call in CALLS_OF_A_SCALAR.items():
        got, expected = _shape_kind(call(Dual(value, 1.0))), _shape_kind(call(value))
        if got != expected:
            wrong.append((name, got, expected))
    assert not wrong


# calls with more arguments than the array, each with a result NumPy gives as a scalar for some
# scalars and as a 0-d array for others
CALLS_OF_A_SCALAR = {
    "reshape": lambda a: np.reshape(a, ()),
    "moveaxis": lambda a: np.moveaxis(a, [], []),
    "select": lambda a: np.select([True], [a]),
    "tensordot": lambda a: np.tensordot(a, a, 0),
    "kron": lambda a: np.kron(a, a),
}


@pytest.mark.parametrize("x", [1.5, np.float64(1.5)])
@pytest.mark.parametrize(
    "g, aliases",
    [(np.real, False), (np.flip, False), (np.block, True)],
)
def test_a_write_through_a_view_of_a_function_of_a_scalar_lands_as_in_numpy(g, aliases, x):
    def h(z):
        r = g(z)
        view = np.expand_dims(r, 0)
        view += 1.0  # reaches r only where NumPy's r is a 0-d array
        return r * z

    assert h(x) == ((x + 1.0) * x if aliases else x * x)
    assert dd.derivative(h, x) == pytest.approx(2 * x + 1 if aliases else 2 * x)
