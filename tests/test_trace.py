"""The forward evaluation trace, checked row by row against closed forms."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.tools.evaluation import Step, Trace, trace


def sigmoid_of_product(w, x):
    return 1 / (1 + np.exp(-(w * x)))


def test_sigmoid_decomposition_values_tangents_and_local_derivatives():
    # The textbook table: y1 = w x, y2 = -y1, y3 = exp(y2), y4 = 1 + y3, y5 = 1/y4, d/dw.
    w, x = 0.5, 2.0
    t = trace(sigmoid_of_product, (w, x))
    assert [s.name for s in t] == ["w", "x", "v1", "v2", "v3", "v4", "v5"]
    assert [s.op for s in t] == ["input", "input", "multiply", "negative", "exp", "add", "divide"]
    assert [s.inputs for s in t] == [(), (), ("w", "x"), ("v1",), ("v2",), (1, "v3"), (1, "v4")]

    e = math.exp(-w * x)
    s = 1 / (1 + e)
    values = [w, x, w * x, -w * x, e, 1 + e, s]
    tangents = [1.0, 0.0, x, -x, -x * e, -x * e, x * e / (1 + e) ** 2]
    for step, value, tangent in zip(t, values, tangents):
        assert step.value == pytest.approx(value, rel=1e-15), step.name
        assert step.tangent == pytest.approx(tangent, rel=1e-15), step.name
    local = [(), (), (x, w), (-1.0,), (e,), (None, 1.0), (None, -1 / (1 + e) ** 2)]
    for step, expected in zip(t, local):
        assert len(step.local) == len(expected), step.name
        for got, want in zip(step.local, expected):
            if want is None:  # a constant input has no local derivative
                assert got is None, step.name
            else:
                assert got == pytest.approx(want, rel=1e-15), step.name

    assert t.output == "v5"
    assert t.value == pytest.approx(s, rel=1e-15)
    assert t.tangent == pytest.approx(s * (1 - s) * x, rel=1e-14)


def test_tangent_along_the_second_input():
    w, x = 0.5, 2.0
    t = trace(sigmoid_of_product, (w, x), tangent=(0.0, 1.0))
    s = 1 / (1 + math.exp(-w * x))
    assert t.tangent == pytest.approx(s * (1 - s) * w, rel=1e-14)
    assert t["v1"].tangent == w


@settings(max_examples=100, deadline=None, derandomize=True)  # (a busy machine: no deadline)
@given(
    st.floats(-4, 4, allow_nan=False),
    st.floats(-4, 4, allow_nan=False),
    st.floats(-2, 2, allow_nan=False),
    st.floats(-2, 2, allow_nan=False),
)
def test_every_row_obeys_the_chain_rule(w, x, dw, dx):
    # dv_i = sum_j (dv_i/dv_j) dv_j: the tangents (carried by the dual numbers) agree with the
    # local derivatives (from the rule table) row by row, along any direction.
    t = trace(lambda w, x: dd.tanh(w * x) / (1 + x * x) + np.sin(w) ** 2, (w, x), (dw, dx))
    tangent = {s.name: s.tangent for s in t}
    assert tangent["w"] == dw and tangent["x"] == dx
    for step in t.steps[2:]:
        expected = sum(d * tangent[i] for i, d in zip(step.inputs, step.local) if d is not None)
        assert step.tangent == pytest.approx(expected, rel=1e-12, abs=1e-12), step
    sech2 = 1 - math.tanh(w * x) ** 2
    slope_w = sech2 * x / (1 + x * x) + 2 * math.sin(w) * math.cos(w)
    slope_x = sech2 * w / (1 + x * x) - math.tanh(w * x) * 2 * x / (1 + x * x) ** 2
    assert t.tangent == pytest.approx(slope_w * dw + slope_x * dx, rel=1e-10, abs=1e-12)


def test_dualdiff_functions_and_ufuncs_record_one_step_each():
    x = 0.7
    t = trace(lambda x: dd.sigmoid(x) + np.exp(x) + dd.exp(x) + abs(-x) + 2.0**x, x)
    ops = [s.op for s in t.steps[1:]]
    assert ops == ["sigmoid", "exp", "add", "exp", "add", "negative", "absolute", "add",
                   "power", "add"]  # fmt: skip
    s = 1 / (1 + math.exp(-x))
    assert t["v1"].local == pytest.approx((s * (1 - s),))
    assert t["v9"].local == (None, pytest.approx(2**x * math.log(2)))
    assert t.tangent == pytest.approx(s * (1 - s) + 2 * math.exp(x) + 1 + 2**x * math.log(2))


def test_same_input_twice_and_branching():
    def f(x):
        if x > 0:  # comparisons look at the value
            return x * x
        return -x

    t = trace(f, 3.0)
    assert t["v1"].inputs == ("x", "x")
    assert t["v1"].local == (3.0, 3.0)
    assert t.tangent == 6.0
    assert trace(f, -3.0).tangent == -1.0


def test_singular_point_keeps_inf_local_derivative():
    t = trace(lambda x: dd.sqrt(x), 0.0)
    assert t["v1"].local == (math.inf,)
    assert t.tangent == math.inf


def test_constant_output_and_unused_steps():
    t = trace(lambda x: (x * 2, 5.0)[1], 1.0)
    assert t.output is None
    assert t.value == 5.0 and t.tangent == 0.0
    assert [s.op for s in t] == ["input", "multiply"]


def test_complex_input():
    z = 1.0 + 2.0j
    t = trace(lambda z: z * z + dd.exp(z), z)
    assert t.tangent == pytest.approx(2 * z + np.exp(z))


def test_names_from_signature_argument_or_default():
    assert [s.name for s in trace(lambda a, b: a * b, (1.0, 2.0))][:2] == ["a", "b"]
    assert [s.name for s in trace(lambda *a: a[0] * a[1], (1.0, 2.0))][:2] == ["x1", "x2"]
    assert trace(lambda v1: v1 * 2, 1.0)[0].name == "x"  # would clash with the step names
    assert trace(np.sin, 1.0)[0].name == "x"
    t = trace(lambda a, b: a * b, (1.0, 2.0), names=("p", "q"))
    assert t["v1"].inputs == ("p", "q")
    for names in (("p",), ("p", "p"), ("p", "v2"), ("p", "")):
        with pytest.raises(ValueError, match="names"):
            trace(lambda a, b: a * b, (1.0, 2.0), names=names)


def test_table_is_aligned_and_complete():
    t = trace(sigmoid_of_product, (0.5, 2.0))
    text = str(t)
    assert repr(t) == text
    lines = text.splitlines()
    assert lines[0].split() == ["step", "op", "inputs", "value", "tangent", "local", "derivatives"]
    rows = lines[1:-1]
    assert [r.split()[0] for r in rows] == ["w", "x", "v1", "v2", "v3", "v4", "v5"]
    column = lines[0].index("value")
    for row, step in zip(rows, t):
        assert float(row[column:].split()[0]) == pytest.approx(step.value, rel=1e-7)
    assert "d/dv4 = " in rows[-1]
    assert lines[-1].startswith("output v5: value 0.73105858")
    assert t.format(digits=3).splitlines()[-1] == "output v5: value 0.731, tangent 0.393"


def test_steps_are_plain_records():
    t = trace(lambda x: x + 1, 2.0)
    assert isinstance(t, Trace) and len(t) == 2
    assert t[1] == Step("v1", "add", ("x", 1), 3.0, 1.0, (1.0, None), dd.RULES["add"].formula)
    with pytest.raises(KeyError, match="v7"):
        t["v7"]


@pytest.mark.parametrize(
    "f, error, fragment",
    [
        (lambda x: x + np.ones(3), TypeError, "numpy.ndarray"),
        (lambda x: dd.derivative(lambda y: x * y, 1.0), TypeError, "nested"),
        (lambda x: float(x), TypeError, "drop its tangent"),
        (lambda x: np.sum([x, x], dtype=float), TypeError, "drop its tangent"),
        (lambda x: None, TypeError, "forget a return"),
        (lambda x: "x", TypeError, "str"),
        (lambda x: x + "a", TypeError, "unsupported operand"),
    ],
)
def test_unsupported_code_raises_clearly(f, error, fragment):
    with pytest.raises(error, match=fragment):
        trace(f, 1.0)


def test_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        trace(3, 1.0)
    with pytest.raises(TypeError, match="number"):
        trace(lambda x: x, "1")
    with pytest.raises(ValueError, match="tangent"):
        trace(lambda a, b: a, (1.0, 2.0), tangent=(1.0,))
    with pytest.raises(ValueError, match="at least one"):
        trace(lambda: 1.0, ())


def test_values_of_two_traces_do_not_mix():
    kept = []
    trace(lambda x: kept.append(x) or x, 1.0)
    with pytest.raises(ValueError, match="two different traces"):
        trace(lambda x: x + kept[0], 1.0)


def test_trace_computes_what_the_untraced_dual_computes():
    # Tracing lives in its own type that delegates to Dual, so it changes no result.
    traced = trace(sigmoid_of_product, (0.5, 2.0)).tangent
    assert dd.derivative(lambda w: sigmoid_of_product(w, 2.0), 0.5) == traced
    assert "RecordingDual" not in dd.Dual.__add__.__code__.co_names
