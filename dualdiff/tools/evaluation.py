"""The forward evaluation trace: every elementary operation of ``f(x)`` with its value and tangent.

``trace(f, x)`` runs ``f`` once on a recording wrapper of a dual number and returns the table of
AD textbooks: one row ``v_i = op(inputs)`` per operation, in execution order, with its value
``v_i``, its tangent ``dv_i`` and its local derivatives ``∂v_i/∂input``. The tangent of each row
is the chain rule applied so far: ``dv_i = Σ ∂v_i/∂v_j · dv_j``.

The recorder is a separate type (``RecordingDual``) that wraps a ``Dual``; the core's ``Dual`` knows
nothing about it, so tracing costs nothing when it is not used.
"""

from __future__ import annotations

import inspect
import numbers
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import errors
from ..core.tags import new_tag
from ..dual.dual import SCALAR_TYPES, Dual, _make
from ..dual.objects import add_element_methods, refuse_or_warn, scalar_object_array
from ..dual.seed import zero_scalar
from ..rules.elementwise import RULES, UFUNC_RULES, Rule, extra_ufunc_rule, register_lift

__all__ = ["trace", "Trace", "Step", "RecordingDual"]

_FALLBACK_ERRORS = (ValueError, OverflowError, ZeroDivisionError)
_STEP_NAME = re.compile(r"v\d+\Z")


@dataclass(frozen=True)
class Step:
    """One row of a trace: ``name = op(*inputs)``.

    ``inputs`` holds the names of earlier steps (``str``) and the constants (numbers) in argument
    order; ``value`` and ``tangent`` are the row's dual number; ``local`` holds, per input, the
    local derivative ``∂value/∂input`` (``None`` for a constant). Input rows have ``op ==
    "input"`` and no inputs. ``formula`` is the rule's derivative formula.
    """

    name: str
    op: str
    inputs: tuple[Any, ...]
    value: Any
    tangent: Any
    local: tuple[Any, ...] = ()
    formula: str = ""


class Trace:
    """The recorded steps of one evaluation, printable as an aligned table.

    Returned by :func:`trace`.

    Attributes
    ----------
    steps : list
        The rows in execution order (the inputs first). Each has ``name``, ``op``, ``inputs``
        (names of earlier rows, or constants), ``value``, ``tangent``, ``local`` (the local
        derivative with respect to each input) and ``formula`` (the rule's derivative formula).
    output : str or None
        The name of the row ``f`` returned (``None`` if the result does not depend on the inputs).
    value, tangent
        The output's value, and its derivative along the seed.

    Examples
    --------
    >>> t = dd.trace(lambda w, x: w * x + w, (2.0, 3.0))
    >>> t.output, t.value, t.tangent  # d/dw (wx + w) = x + 1
    ('v2', 8.0, 4.0)
    >>> t.steps[2].local  # d(wx)/dw = x, d(wx)/dx = w
    (3.0, 2.0)
    """

    def __init__(self, steps: list[Step], output: str | None, value: Any, tangent: Any) -> None:
        self.steps = steps
        self.output = output
        self.value = value
        self.tangent = tangent

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, key: int | str) -> Step:
        """A step by position, or by name (``trace["v3"]``, ``trace["x"]``)."""
        if isinstance(key, str):
            for step in self.steps:
                if step.name == key:
                    return step
            raise KeyError(f"no step named {key!r} in this trace")
        return self.steps[key]

    def format(self, digits: int = 8) -> str:
        """The table with numbers to ``digits`` significant digits."""

        def num(v: Any) -> str:
            return format(v, f".{digits}g")

        header = ("step", "op", "inputs", "value", "tangent", "local derivatives")
        rows = [header]
        for s in self.steps:
            inputs = ", ".join(i if isinstance(i, str) else num(i) for i in s.inputs)
            local = ", ".join(
                f"d/d{i} = {num(d)}" for i, d in zip(s.inputs, s.local) if isinstance(i, str)
            )
            rows.append((s.name, s.op, inputs, num(s.value), num(s.tangent), local))
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        source = self.output if self.output is not None else "(a constant)"
        lines.append(f"output {source}: value {num(self.value)}, tangent {num(self.tangent)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    __repr__ = __str__


class _Recorder:
    """The shared list of steps of one trace, with the tag of its perturbation."""

    __slots__ = ("tag", "steps", "count")

    def __init__(self, tag: int) -> None:
        self.tag = tag
        self.steps: list[Step] = []
        self.count = 0


class RecordingDual:
    """A ``Dual`` that records every operation applied to it (only inside ``trace``).

    Arithmetic, NumPy ufuncs and ``dualdiff.<name>`` functions are computed by the Dual
    operations and rules and appended to the trace. Comparisons look at the value, as for Dual.
    """

    __slots__ = ("dual", "name", "recorder")

    ndim = 0
    shape: tuple[int, ...] = ()
    size = 1

    def __init__(self, dual: Dual, name: str, recorder: _Recorder) -> None:
        self.dual = dual
        self.name = name
        self.recorder = recorder

    @property
    def value(self) -> Any:
        return self.dual.value

    @property
    def tangent(self) -> Any:
        return self.dual.tangent

    @property
    def tag(self) -> int:
        return self.dual.tag

    def __repr__(self) -> str:
        return f"RecordingDual({self.name}: {self.dual.value!r}, {self.dual.tangent!r})"

    # -- arithmetic: computed by Dual's own operators (the untraced result, exactly) ----------

    def __add__(self, other: Any) -> Any:
        return _record_binary(RULES["add"], operator.add, self, other)

    def __radd__(self, other: Any) -> Any:
        return _record_binary(RULES["add"], operator.add, other, self)

    def __sub__(self, other: Any) -> Any:
        return _record_binary(RULES["subtract"], operator.sub, self, other)

    def __rsub__(self, other: Any) -> Any:
        return _record_binary(RULES["subtract"], operator.sub, other, self)

    def __mul__(self, other: Any) -> Any:
        return _record_binary(RULES["multiply"], operator.mul, self, other)

    def __rmul__(self, other: Any) -> Any:
        return _record_binary(RULES["multiply"], operator.mul, other, self)

    def __truediv__(self, other: Any) -> Any:
        return _record_binary(RULES["divide"], operator.truediv, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _record_binary(RULES["divide"], operator.truediv, other, self)

    def __pow__(self, other: Any, modulo: Any = None) -> Any:
        if modulo is not None:
            raise TypeError("pow() with a modulus is not differentiable")
        return _record_binary(RULES["power"], operator.pow, self, other)

    def __rpow__(self, other: Any) -> Any:
        return _record_binary(RULES["power"], operator.pow, other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _record_binary(RULES["floor_divide"], operator.floordiv, self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return _record_binary(RULES["floor_divide"], operator.floordiv, other, self)

    def __mod__(self, other: Any) -> Any:
        return _record_binary(RULES["remainder"], operator.mod, self, other)

    def __rmod__(self, other: Any) -> Any:
        return _record_binary(RULES["remainder"], operator.mod, other, self)

    def __neg__(self) -> RecordingDual:
        return _record_unary(RULES["negative"], operator.neg, self)

    def __pos__(self) -> RecordingDual:
        return self

    def __abs__(self) -> RecordingDual:
        return _record_unary(RULES["absolute"], abs, self)

    # -- comparisons act on the value ----------------------------------------------------------

    def __eq__(self, other: Any) -> Any:
        return self.dual == _unwrap(other)

    def __ne__(self, other: Any) -> Any:
        return self.dual != _unwrap(other)

    def __lt__(self, other: Any) -> Any:
        return self.dual < _unwrap(other)

    def __le__(self, other: Any) -> Any:
        return self.dual <= _unwrap(other)

    def __gt__(self, other: Any) -> Any:
        return self.dual > _unwrap(other)

    def __ge__(self, other: Any) -> Any:
        return self.dual >= _unwrap(other)

    def __hash__(self) -> int:
        return hash(self.dual)

    def __bool__(self) -> bool:
        return bool(self.dual)

    # -- conversions that would drop the tangent raise, as for Dual ---------------------------

    def __float__(self) -> float:
        return float(self.dual)

    def __int__(self) -> int:
        return int(self.dual)

    def __complex__(self) -> complex:
        return complex(self.dual)

    def __index__(self) -> int:
        return self.dual.__index__()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        # as a Dual's: an object array (NumPy stores the recorder itself, which keeps recording)
        refuse_or_warn(
            "numpy.array([...]) of traced values",
            "For full speed write np.stack([...]) (or dualdiff.stack).",
            dtype,
            copy,
            self.dual.tag,
        )
        return scalar_object_array(self)

    # -- NumPy protocols -----------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rule = UFUNC_RULES.get(ufunc) or extra_ufunc_rule(ufunc)
        if method != "__call__" or kwargs or rule is None:
            raise errors.no_rule(
                f"{errors.function_name(ufunc)} ({method}) inside dualdiff.trace",
                "trace records the elementary functions of dualdiff's rule table on scalars",
            )
        return rule.function(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise errors.no_rule(
            f"{errors.function_name(func)} inside dualdiff.trace",
            "trace records scalar code; apply the elementary functions one value at a time",
        )


def _unwrap(a: Any) -> Any:
    return a.dual if type(a) is RecordingDual else a


def _operand(a: Any, recorder: _Recorder) -> tuple[Any, Any]:
    """``(operand for the Dual operation, reference for the step)``; rejects foreign duals."""
    if type(a) is RecordingDual:
        if a.recorder is not recorder:
            raise ValueError("trace: values from two different traces cannot be combined")
        return a.dual, a.name
    if type(a) in SCALAR_TYPES:
        return a, a
    if type(a) is Dual:
        raise TypeError(
            "trace: a traced value met a Dual computed outside the trace (from a nested "
            "dualdiff.derivative, a custom_jvp function or a hand-made Dual); trace supports "
            "functions built from arithmetic and dualdiff's elementary functions"
        )
    raise TypeError(
        f"trace: cannot combine a traced scalar with {errors.type_name(a)}; trace supports "
        "scalar inputs and scalar operations"
    )


def _local(rule: Rule, args: tuple[Any, ...], traced: tuple[bool, ...], ans: Any) -> tuple:
    """``∂ans/∂args[i]`` for each traced argument (``None`` for constants), from the rule."""

    def partials(args: tuple[Any, ...], ans: Any) -> tuple:
        if rule.nin == 1:
            return (rule.tangent1(args[0], 1.0, ans),)
        x, y = args
        dx = rule.tangent2(x, y, 1.0, None, ans) if traced[0] else None
        dy = rule.tangent2(x, y, None, 1.0, ans) if traced[1] else None
        return dx, dy

    try:
        return partials(args, ans)
    except _FALLBACK_ERRORS:
        # A singular point of a float rule (sqrt at 0): NumPy scalars give inf/nan instead.
        with np.errstate(all="ignore"):
            scalars = tuple(np.asarray(a)[()] for a in args)
            return partials(scalars, np.asarray(ans)[()])


def _append(rule: Rule, recorder: _Recorder, refs: tuple, args: tuple, out: Any) -> RecordingDual:
    if type(out) is not Dual or out.tag != recorder.tag:
        raise TypeError(f"trace: {rule.name} did not return a dual of this trace")
    traced = tuple(isinstance(r, str) for r in refs)
    recorder.count += 1
    name = f"v{recorder.count}"
    local = _local(rule, args, traced, out.value)
    step = Step(name, rule.name, refs, out.value, out.tangent, local, rule.formula)
    recorder.steps.append(step)
    return RecordingDual(out, name, recorder)


def _record_unary(rule: Rule, compute: Callable[[Any], Any], x: RecordingDual) -> RecordingDual:
    out = compute(x.dual)
    return _append(rule, x.recorder, (x.name,), (x.dual.value,), out)


def _record_binary(
    rule: Rule, compute: Callable[[Any, Any], Any], a: Any, b: Any, operator_call: bool = True
) -> Any:
    if operator_call and not (_known(a) and _known(b)):
        return NotImplemented  # let the other operand's type answer (NumPy routes it back here)
    recorder = a.recorder if type(a) is RecordingDual else b.recorder
    da, ra = _operand(a, recorder)
    db, rb = _operand(b, recorder)
    out = compute(da, db)
    args = (
        da.value if type(a) is RecordingDual else da,
        db.value if type(b) is RecordingDual else db,
    )
    return _append(rule, recorder, (ra, rb), args, out)


def _known(a: Any) -> bool:
    return type(a) is RecordingDual or type(a) in SCALAR_TYPES or type(a) is Dual


def _lift_unary(rule: Rule, x: RecordingDual) -> RecordingDual:
    return _record_unary(rule, rule.function, x)


def _lift_binary(rule: Rule, a: Any, b: Any) -> RecordingDual:
    return _record_binary(rule, rule.function, a, b, operator_call=False)


# Outranks every array type, so a traced value meeting one is refused with a clear message.
register_lift(RecordingDual, 1000, _lift_unary, _lift_binary)
add_element_methods(RecordingDual)  # np.sin(a) of an object array of recorders calls e.sin()


# ---------------------------------------------------------------------------------------------
# The user's verb
# ---------------------------------------------------------------------------------------------


def _scalar(x: Any, what: str) -> Any:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Number):
        raise TypeError(
            f"trace: {what} must be a real or complex number, got {errors.type_name(x)}"
        )
    if isinstance(x, numbers.Integral):
        return float(x)
    return x


def _input_names(f: Callable[..., Any], count: int, names: Sequence[str] | None) -> list[str]:
    """The given names, else the parameter names of ``f``, else ``x`` or ``x1, x2, ...``."""
    default = ["x"] if count == 1 else [f"x{i + 1}" for i in range(count)]
    if names is not None:
        names = list(names)
        if len(names) != count or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"trace: names must be {count} non-empty strings, got {names!r}")
        if len(set(names)) != count or any(_STEP_NAME.match(n) for n in names):
            raise ValueError(
                f"trace: names must be distinct and not of the form v1, v2, ...: {names!r}"
            )
        return names
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return default
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    found = [p.name for p in params[:count] if p.kind in positional]
    if len(found) != count or len(set(found)) != count or any(_STEP_NAME.match(n) for n in found):
        return default
    return found


def trace(
    f: Callable[..., Any],
    x: Any,
    tangent: Any = None,
    *,
    names: Sequence[str] | None = None,
) -> Trace:
    """The forward evaluation trace of ``f`` at ``x``: each elementary operation in order.

    Each row is one elementary operation with its value, its tangent and its local derivatives,
    as in the tables of AD textbooks; ``print`` the result.

    Parameters
    ----------
    f : callable
        A scalar function using arithmetic, NumPy ufuncs or ``dualdiff`` functions on scalars.
    x : number or tuple of numbers
        The point; a tuple for a function of several arguments, ``f(*x)``.
    tangent : number or tuple of numbers, optional
        The seed: by default 1 for a single input, and ``(1, 0, ..., 0)`` for several, so the
        tangents are derivatives with respect to the first argument; pass e.g. ``(0, 1)`` for the
        second, or any direction.
    names : sequence of str, optional
        Names of the input rows (default: ``f``'s parameter names). Operations are ``v1, v2, ...``.

    Returns
    -------
    Trace
        The rows; ``str()`` is the aligned table.

    See Also
    --------
    derivative, jvp

    Examples
    --------
    >>> t = dd.trace(lambda w, x: 1 / (1 + np.exp(-(w * x))), (0.5, 2.0))
    >>> [s.op for s in t.steps]
    ['input', 'input', 'multiply', 'negative', 'exp', 'add', 'divide']
    >>> t.tangent  # d/dw sigmoid(w x) = sigmoid (1 - sigmoid) x
    0.39322386648296...
    >>> print(dd.trace(lambda x: x * np.sin(x), 1.0))
    step  op        inputs  value       tangent     local derivatives
    x     input             1           1
    v1    sin       x       0.84147098  0.54030231  d/dx = 0.54030231
    v2    multiply  x, v1   0.84147098  1.3817733   d/dx = 0.84147098, d/dv1 = 1
    output v2: value 0.84147098, tangent 1.3817733
    """
    errors.check_callable(f, "trace")
    several = type(x) is tuple or type(x) is list
    xs = [_scalar(v, "x") for v in (x if several else (x,))]
    if not xs:
        raise ValueError("trace: x must hold at least one number")
    if tangent is None:
        tangents = [1.0] + [0.0] * (len(xs) - 1)
    elif several:
        if type(tangent) not in (tuple, list) or len(tangent) != len(xs):
            raise ValueError(
                f"trace: x has {len(xs)} arguments, so tangent must be a tuple of {len(xs)} numbers"
            )
        tangents = [_scalar(t, "tangent") for t in tangent]
    else:
        tangents = [_scalar(tangent, "tangent")]
    labels = _input_names(f, len(xs), names)

    recorder = _Recorder(new_tag())
    inputs = []
    for label, value, t in zip(labels, xs, tangents):
        recorder.steps.append(Step(label, "input", (), value, t))
        inputs.append(RecordingDual(_make(value, t, recorder.tag), label, recorder))
    y = f(*inputs)

    if type(y) is RecordingDual:
        if y.recorder is not recorder:
            raise ValueError("trace: f returned a value of another trace")
        return Trace(recorder.steps, y.name, y.dual.value, y.dual.tangent)
    if type(y) in SCALAR_TYPES:
        return Trace(recorder.steps, None, y, zero_scalar(y))  # 0 for an infinite constant too
    raise TypeError(
        f"trace: f must return a scalar computed from its inputs, got {errors.type_name(y)}"
        + (" (did f forget a return statement?)" if y is None else "")
    )
