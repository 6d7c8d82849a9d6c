"""The scalar dual number ``a + b·ε`` with ``ε² = 0``: a value and a tangent carried together."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import errors
from ..core.tags import USER_TAG, restore_state
from ..rules import functions as table
from ..rules.elementwise import (
    RULES,
    UFUNC_RULES,
    VALUE_UFUNCS,
    Rule,
    answer,
    in_dtype,
    is_dual,
    register_lift,
    register_scalar_dual,
    tangent_in,
)
from .objects import add_element_methods, dtype_hidden, refuse_or_warn, scalar_object_array

__all__ = ["Dual", "SCALAR_TYPES"]

SCALAR_TYPES = frozenset(
    [int, float, complex, bool]
    + [t for t in set(np.sctypeDict.values()) if issubclass(t, (np.number, np.bool_))]
)
"""Plain number types a Dual combines with directly (Python and NumPy scalars)."""

_FALLBACK_ERRORS = (ValueError, OverflowError, ZeroDivisionError)
_new = object.__new__

# Set by the array module: turns a mix of Duals and arrays into a DualArray computation.
array_hooks: dict[str, Callable[..., Any]] = {}


def _make(value: Any, tangent: Any, tag: int) -> Dual:
    """Build a Dual without validating (the hot path: inputs come from other Duals)."""
    d = _new(Dual)
    d.value = value
    d.tangent = tangent
    d.tag = tag
    return d


def _plain(value: Any, what: str) -> Any:
    """Validate a value or tangent for the public constructor; integers become floats."""
    t = type(value)
    if t is float or t is complex or t is Dual:
        return value
    if t in SCALAR_TYPES or isinstance(value, numbers.Number):
        if isinstance(value, (numbers.Integral, np.bool_)):
            return float(value)
        return value
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        raise TypeError(
            f"Dual holds a scalar {what}; for arrays use dualdiff.DualArray(value, tangent)"
        )
    raise TypeError(
        f"Dual {what} must be a real or complex number or a Dual, got {errors.type_name(value)}"
    )


class Dual:
    """A dual number ``value + tangent·ε`` (``ε² = 0``) that carries a derivative through code.

    ``f(Dual(x, 1.0)).tangent`` is ``f'(x)``. Arithmetic works with Python and NumPy numbers in
    both orders, and NumPy's ufuncs and the ``dualdiff`` functions accept it.

    Parameters
    ----------
    value : number or Dual
        The value: a real or complex number, or a ``Dual`` itself (nesting, for higher
        derivatives).
    tangent : number or Dual, optional
        The derivative along the seed direction (default 0).
    tag : int, optional
        Tells perturbations apart: each differentiation uses its own, so nested derivatives never
        mix (see the user guide on nesting). Hand-built duals share tag 0.

    Raises
    ------
    TypeError
        On conversion to ``float``/``int``/``complex`` (also through ``math.sin`` and friends): it
        would drop the tangent. Use ``.value``, or ``numpy``/``dualdiff`` functions instead of
        ``math``.

    See Also
    --------
    DualArray : arrays of dual numbers.
    derivative : seeds a ``Dual`` for you.

    Notes
    -----
    Comparisons, ``bool()``, ``==`` and ``hash()`` look at the value only, so branching code
    (``if x > 0``) works and ``Dual(2.0, 1.0) == 2.0``; equal Duals therefore hash like their
    value. ``floor``, ``ceil``, ``trunc`` and ``round`` return plain numbers: their derivative is 0.

    Examples
    --------
    >>> x = dd.Dual(3.0, 1.0)
    >>> x * x + 1  # value 10, derivative 2x = 6
    Dual(10.0, 6.0)
    >>> np.sin(dd.Dual(0.0, 1.0)).tangent  # cos(0)
    1.0
    >>> dd.Dual(2.0, 1.0) > 1.5  # comparisons use the value
    True
    """

    __slots__ = ("value", "tangent", "tag")
    # unpickled in another process: that process's tag clock moves past this tag
    __setstate__ = restore_state

    ndim = 0
    shape: tuple[int, ...] = ()
    size = 1

    def __init__(self, value: Any, tangent: Any = 0.0, tag: int = USER_TAG) -> None:
        self.value = _plain(value, "value")
        self.tangent = _plain(tangent, "tangent")
        if type(tag) is not int:
            raise TypeError(f"Dual tag must be an int, got {errors.type_name(tag)}")
        self.tag = tag

    # -- presentation -------------------------------------------------------------------------

    def __repr__(self) -> str:
        tag = f", tag={self.tag}" if self.tag != USER_TAG else ""
        return f"Dual({self.value!r}, {self.tangent!r}{tag})"

    def __format__(self, spec: str) -> str:
        # A format spec formats the value, as it would the float the code was written for, so
        # ``f"{loss:.6f}"`` prints the same line with and without differentiation (and whatever
        # the tangent is: a number, k directions, a nested dual); repr shows the tangent.
        if not spec:
            return repr(self)
        value = self.value
        while is_dual(value):
            value = value.value
        return format(value, spec)

    # -- arithmetic (hand-written: these are the hot path; the table holds the same rules) ----
    # The result is built inline (object.__new__ and three stores) rather than through a helper:
    # one call less per operation is a measurable share of a scalar derivative.

    def __add__(self, other: Any) -> Any:
        if type(other) is Dual:
            if other.tag == self.tag:
                r = _new(Dual)
                r.value = self.value + other.value
                r.tangent = self.tangent + other.tangent
                r.tag = self.tag
                return r
            if other.tag > self.tag:
                return other.__radd__(self)
        elif type(other) is not float and type(other) is not int:
            return _with_number(_ADD_RULE, self, other)
        r = _new(Dual)
        r.value = self.value + other
        r.tangent = self.tangent
        r.tag = self.tag
        return r

    def __radd__(self, other: Any) -> Any:
        if type(other) is not float and type(other) is not int and type(other) is not Dual:
            return _with_number(_ADD_RULE, other, self)
        r = _new(Dual)
        r.value = other + self.value
        r.tangent = self.tangent
        r.tag = self.tag
        return r

    def __sub__(self, other: Any) -> Any:
        if type(other) is Dual:
            if other.tag == self.tag:
                r = _new(Dual)
                r.value = self.value - other.value
                r.tangent = self.tangent - other.tangent
                r.tag = self.tag
                return r
            if other.tag > self.tag:
                return other.__rsub__(self)
        elif type(other) is not float and type(other) is not int:
            return _with_number(_SUBTRACT_RULE, self, other)
        r = _new(Dual)
        r.value = self.value - other
        r.tangent = self.tangent
        r.tag = self.tag
        return r

    def __rsub__(self, other: Any) -> Any:
        if type(other) is not float and type(other) is not int and type(other) is not Dual:
            return _with_number(_SUBTRACT_RULE, other, self)
        r = _new(Dual)
        r.value = other - self.value
        r.tangent = -self.tangent
        r.tag = self.tag
        return r

    def __mul__(self, other: Any) -> Any:
        if type(other) is Dual:
            if other.tag == self.tag:
                a, b = self.value, other.value
                r = _new(Dual)
                r.value = a * b
                r.tangent = a * other.tangent + self.tangent * b
                r.tag = self.tag
                return r
            if other.tag > self.tag:
                return other.__rmul__(self)
        elif type(other) is not float and type(other) is not int:
            return _with_number(_MULTIPLY_RULE, self, other)
        r = _new(Dual)
        r.value = self.value * other
        r.tangent = self.tangent * other
        r.tag = self.tag
        return r

    def __rmul__(self, other: Any) -> Any:
        if type(other) is not float and type(other) is not int and type(other) is not Dual:
            return _with_number(_MULTIPLY_RULE, other, self)
        r = _new(Dual)
        r.value = other * self.value
        r.tangent = other * self.tangent
        r.tag = self.tag
        return r

    def __truediv__(self, other: Any) -> Any:
        # d(a/b) = (da - (a/b) db) / b, written out while a/b is finite (so b != 0 and the
        # partials 1/b, a/b**2 are finite). Otherwise the table's rule: it divides as NumPy does
        # (inf/nan, where Python floats raise ZeroDivisionError) and keeps a zero tangent zero
        # (``q * 0.0`` is NaN for inf and NaN).
        if type(other) is Dual:
            if other.tag == self.tag:
                b = other.value
                try:  # costs nothing unless it raises (Python 3.11+)
                    q = self.value / b
                    if q * 0.0 != 0.0:
                        return _DIVIDE(self, other)
                    r = _new(Dual)
                    r.value = q
                    r.tangent = (self.tangent - q * other.tangent) / b
                except ZeroDivisionError:
                    return apply_binary(_DIVIDE_RULE, self, other)
                r.tag = self.tag
                return r
            if other.tag > self.tag:
                return other.__rtruediv__(self)
        elif type(other) is not float and type(other) is not int:
            return _with_number(_DIVIDE_RULE, self, other)
        try:
            q = self.value / other
            # a NumPy zero: 1/0 meets a plain tangent in the table (a nested dual tangent is
            # divided by its own rule below, which applies the convention layer by layer)
            if other == 0 and type(self.tangent) is not Dual:
                return _DIVIDE(self, other)
            r = _new(Dual)
            r.value = q
            r.tangent = self.tangent / other
        except ZeroDivisionError:
            return apply_binary(_DIVIDE_RULE, self, other)
        r.tag = self.tag
        return r

    def __rtruediv__(self, other: Any) -> Any:
        if type(other) is not float and type(other) is not int and type(other) is not Dual:
            return _with_number(_DIVIDE_RULE, other, self)
        b = self.value
        try:
            q = other / b
            if (
                q * 0.0 != 0.0
            ):  # an infinite partial -q/b: the table's rule keeps a zero tangent zero
                return _DIVIDE(other, self)
            r = _new(Dual)
            r.value = q
            r.tangent = -q * self.tangent / b
        except ZeroDivisionError:
            return apply_binary(_DIVIDE_RULE, other, self)
        r.tag = self.tag
        return r

    def __pow__(self, other: Any, modulo: Any = None) -> Any:
        if modulo is not None:
            raise TypeError("pow() with a modulus is not differentiable")
        if type(other) is int and other == 2:  # the most common power, kept cheap
            v = self.value
            return _make(v * v, 2.0 * v * self.tangent, self.tag)
        if type(other) is not Dual and type(other) not in SCALAR_TYPES:
            return NotImplemented
        return _POWER(self, other)

    def __rpow__(self, other: Any) -> Any:
        if type(other) not in SCALAR_TYPES and type(other) is not Dual:
            return NotImplemented
        return _POWER(other, self)

    def __floordiv__(self, other: Any) -> Any:
        return self._binary_operator(_FLOOR_DIVIDE, self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return self._binary_operator(_FLOOR_DIVIDE, other, self)

    def __mod__(self, other: Any) -> Any:
        return self._binary_operator(_REMAINDER, self, other)

    def __rmod__(self, other: Any) -> Any:
        return self._binary_operator(_REMAINDER, other, self)

    def __divmod__(self, other: Any) -> Any:
        quotient = self.__floordiv__(other)
        if quotient is NotImplemented:  # an array: its __rdivmod__ (np.divmod) answers
            return NotImplemented
        return quotient, self.__mod__(other)

    def __rdivmod__(self, other: Any) -> Any:
        quotient = self.__rfloordiv__(other)
        if quotient is NotImplemented:
            return NotImplemented
        return quotient, self.__rmod__(other)

    @staticmethod
    def _binary_operator(function: Callable[..., Any], x: Any, y: Any) -> Any:
        other = y if type(x) is Dual else x
        if type(other) is not Dual and type(other) not in SCALAR_TYPES:
            return NotImplemented
        return function(x, y)

    def __neg__(self) -> Dual:
        return _make(-self.value, -self.tangent, self.tag)

    def __pos__(self) -> Dual:
        return self

    def __abs__(self) -> Any:
        return _ABSOLUTE(self)

    # -- complex parts -------------------------------------------------------------------------

    @property
    def real(self) -> Dual:
        """The real part, with the real part of the tangent."""
        return _make(self.value.real, self.tangent.real, self.tag)

    @property
    def imag(self) -> Dual:
        """The imaginary part, with the imaginary part of the tangent."""
        return _make(self.value.imag, self.tangent.imag, self.tag)

    def conjugate(self) -> Dual:
        """The complex conjugate: ``conj(a + b·ε) = conj(a) + conj(b)·ε``."""
        return _make(self.value.conjugate(), self.tangent.conjugate(), self.tag)

    conj = conjugate

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the value (float64 for a Python float), as a NumPy scalar has."""
        if dtype_hidden():  # np.mean of an object array: none, as a Python float's element
            raise AttributeError("dtype")
        return np.result_type(strip(self))

    def item(self) -> Dual:
        """The Dual itself: as ``np.float64.item()`` gives the number, with its tangent kept."""
        return self

    # -- the rest of a NumPy scalar's ndarray API (rare: not on the arithmetic path) ----------

    @property
    def T(self) -> Dual:
        """The Dual itself, as ``np.float64(x).T`` is the scalar itself."""
        return self

    # No ``__getitem__`` (a NumPy scalar's ``x[()]``): a class with one is a sequence to NumPy,
    # which then turns the TypeError of ``out[i] = d`` on a float ``out`` into "setting an array
    # element with a sequence", losing the message that names the write and its fix.

    def tolist(self) -> Dual:
        """The Dual itself, as ``np.float64.tolist()`` gives the number."""
        return self

    def is_integer(self) -> bool:
        """Whether the value is an integer (a question about the value, as comparisons are)."""
        return strip(self).is_integer()

    # -- comparisons act on the value ----------------------------------------------------------

    def __eq__(self, other: Any) -> Any:
        return self.value == (other.value if type(other) is Dual else other)

    def __ne__(self, other: Any) -> Any:
        return self.value != (other.value if type(other) is Dual else other)

    def __lt__(self, other: Any) -> Any:
        return self.value < (other.value if type(other) is Dual else other)

    def __le__(self, other: Any) -> Any:
        return self.value <= (other.value if type(other) is Dual else other)

    def __gt__(self, other: Any) -> Any:
        return self.value > (other.value if type(other) is Dual else other)

    def __ge__(self, other: Any) -> Any:
        return self.value >= (other.value if type(other) is Dual else other)

    def __hash__(self) -> int:
        return hash(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    # -- piecewise-constant conversions keep nothing they should not lose ----------------------

    def __floor__(self) -> Any:
        return math.floor(self.value)

    def __ceil__(self) -> Any:
        return math.ceil(self.value)

    def __trunc__(self) -> Any:
        return math.trunc(self.value)

    def __round__(self, ndigits: int | None = None) -> Any:
        return round(self.value, ndigits)

    # -- conversions that would drop the tangent raise -----------------------------------------

    def __float__(self) -> float:
        raise errors.lost_tangent(
            "Converting a Dual to float (float(x), a math function such as math.sin(x), "
            "'%f' % x, writing x into a float array: out[i] = x, or converting an array of "
            "Duals to float: a.astype(float), np.array([...], dtype=float))",
            "Use numpy.sin(x) or dualdiff.sin(x) instead of math.sin(x); preallocate arrays "
            "with np.zeros_like(x) or np.zeros(n, like=x), or build them with np.stack([...]); "
            "use x.value for the plain value; f'{x:.6f}' formats the value.",
        )

    def __int__(self) -> int:
        raise errors.lost_tangent(
            "Converting a Dual to int",
            "Use math.floor(x) or round(x) (piecewise constant), or x.value.",
        )

    def __complex__(self) -> complex:
        raise errors.lost_tangent(
            "Converting a Dual to complex (complex(x) or a cmath function)",
            "Use numpy.<fn>(x) or dualdiff.<fn>(x), or x.value for the plain value.",
        )

    def __index__(self) -> int:
        raise errors.lost_tangent(
            "Using a Dual as an index or a size", "Index with an integer, e.g. round(x)."
        )

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        # NumPy asks every element of np.array([...]) for its array: a 0-d object array makes
        # the result an object array of Duals, which keeps every tangent (dualdiff.dual.objects)
        refuse_or_warn(
            "numpy.array([...]) of Duals",
            "For full speed write np.stack([...]) (or dualdiff.stack), which keeps a DualArray.",
            dtype,
            copy,
            self.tag,
        )
        return scalar_object_array(self)

    # -- NumPy protocols -----------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:
            rule = UFUNC_RULES.get(ufunc)
            if rule is not None:
                # one input: it is this Dual (np.exp(x), the common case, without a detour)
                if len(inputs) == 1 and rule.on_dual is not None:
                    return rule.on_dual(self)
                if len(inputs) == 2:
                    a, b = inputs
                    other = b if a is self else a
                    if type(other) is Dual or type(other) in SCALAR_TYPES:
                        return rule.function(a, b)
                elif all(type(a) is Dual or type(a) in SCALAR_TYPES for a in inputs):
                    return rule.function(*inputs)
            if ufunc in VALUE_UFUNCS and all(type(a) is not np.ndarray for a in inputs):
                return ufunc(*(strip(a) for a in inputs))
        hook = array_hooks.get("ufunc")
        if hook is not None:
            return hook(ufunc, method, inputs, kwargs)
        raise errors.no_rule(f"{errors.function_name(ufunc)} ({method}) on a Dual")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        hook = array_hooks.get("function")
        if func in table.LIKE_CONSTRUCTORS:  # np.zeros(n, like=d): NumPy does not pass ``like`` on
            kwargs = {**kwargs, "like": self}
        if hook is not None:
            result = hook(func, types, args, kwargs)
            scalar = _SCALAR_RESULT.get(func)
            if scalar is not None:
                return _as_numpy_gives_it(result, scalar, self)
            return result
        raise errors.no_rule(f"{errors.function_name(func)}")


# NumPy functions whose result for a scalar is not what the array handler gives the 0-d array
# it sees: a scalar (True), a 0-d array (False), or a scalar for a NumPy scalar and a 0-d array
# for a Python number ("numpy": the functions that call the scalar's method). A view of the
# result aliases it only where NumPy's does: np.expand_dims(np.real(d), 0) += 1 wrote into the
# real part of d, which NumPy's scalar never sees, and into np.block(d) it did not.
_SCALAR_RESULT: dict[Any, Any] = {
    np.fft.fftn: False,  # (of a scalar: NumPy's n-d transforms over no axes)
    np.fft.ifftn: False,
    np.fft.fft2: False,
    np.fft.ifft2: False,
    np.real: True,
    np.imag: True,
    np.flip: True,
    np.kron: True,
    np.squeeze: "numpy",
    np.transpose: "numpy",
    np.reshape: "numpy",
    np.moveaxis: "numpy",
    np.block: False,
    np.select: False,
    np.tensordot: False,
}


def _as_numpy_gives_it(result: Any, scalar: Any, d: Dual) -> Any:
    """A 0-d ``result`` of a function of the Dual ``d`` as a scalar or a 0-d array, as NumPy
    gives it for ``d``'s plain value (see ``_SCALAR_RESULT``)."""
    if scalar == "numpy":
        scalar = isinstance(strip(d), np.generic)
    if scalar and type(result) is not Dual and is_dual(result) and result.ndim == 0:
        return array_hooks["box"](result)
    if not scalar and type(result) is Dual:
        return array_hooks["as_array"](result)
    return result


def _scalar_method(name: str) -> Callable[..., Any]:
    """``Dual.<name>`` as ``np.float64.<name>``: the method of a 0-d DualArray holding the dual
    (a copy), whose 0-d results become Duals again (NumPy's scalar methods return scalars where
    the result has no dimensions, ``x.reshape(())`` too, and arrays otherwise)."""

    def method(self: Dual, *args: Any, **kwargs: Any) -> Any:
        result = getattr(array_hooks["as_array"](self), name)(*args, **kwargs)
        if getattr(result, "ndim", 1) == 0 and type(result) is not Dual and is_dual(result):
            return array_hooks["box"](result)
        return result

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"As ``numpy.float64.{name}``, keeping the tangent."
    return method


for _name in (
    "reshape flatten ravel squeeze transpose swapaxes astype copy repeat take compress clip "
    "round sum mean prod min max std var cumsum cumprod all any argmax argmin argsort"
).split():
    setattr(Dual, _name, _scalar_method(_name))
del _name


def _to_numpy(x: Any) -> Any:
    """``x`` with every Python number in it (through Dual layers) as a NumPy scalar."""
    t = type(x)
    if t is Dual:
        return _make(_to_numpy(x.value), _to_numpy(x.tangent), x.tag)
    if t is float or t is int or t is complex or t is bool:
        return np.asarray(x)[()]
    return x


def strip(x: Any) -> Any:
    """The plain value under every layer of Dual."""
    while type(x) is Dual:
        x = x.value
    return x


# ---------------------------------------------------------------------------------------------
# Applying a rule of the table to Duals
# ---------------------------------------------------------------------------------------------


def apply_unary(rule: Rule, d: Dual) -> Any:
    """``rule(d)`` for a Dual ``d``: the value through the rule, the tangent by the chain rule."""
    x = d.value
    if type(x) is float:
        try:
            ans = rule.real(x)
            partial = rule.plain_partial
            t = d.tangent
            if partial is not None and type(t) is float and (t != 0.0 or not rule.safe):
                r = _new(Dual)  # the hot path, in one step
                r.value = ans
                r.tangent = partial(x, ans) * t
                r.tag = d.tag
                return r
        except _FALLBACK_ERRORS:
            ans = rule.array(x)
    else:
        ans = rule.function(x)
    try:
        tangent = rule.tangent1(x, d.tangent, ans)
    except _FALLBACK_ERRORS:
        # a Python number in a partial (1/x at 0, also under nested layers): NumPy's inf/nan
        with np.errstate(all="ignore"):
            tangent = rule.tangent1(_to_numpy(x), d.tangent, _to_numpy(ans))
    dtype = getattr(ans, "dtype", None)
    if dtype is not None:
        tangent = _in_value_dtype(tangent, dtype)
    return _make(ans, tangent, d.tag)


def apply_binary(rule: Rule, a: Any, b: Any) -> Any:
    """``rule(a, b)`` where at least one argument is a Dual; the newest tag is the outer layer."""
    ta = a.tag if type(a) is Dual else -1
    tb = b.tag if type(b) is Dual else -1
    if (ta < 0 and type(a) not in SCALAR_TYPES) or (tb < 0 and type(b) not in SCALAR_TYPES):
        hook = array_hooks.get("binary")
        if hook is None:
            raise TypeError(
                f"{rule.name}: cannot combine a Dual with {errors.type_name(a if ta < 0 else b)}"
            )
        return hook(rule, a, b)
    if ta == tb:
        x, y, tx, ty, tag = a.value, b.value, a.tangent, b.tangent, ta
    elif ta > tb:
        x, y, tx, ty, tag = a.value, b, a.tangent, None, ta
    else:
        x, y, tx, ty, tag = a, b.value, None, b.tangent, tb
    ans = rule.function(x, y)
    dtype = getattr(ans, "dtype", None)
    if dtype is not None:  # partials in the result's dtype, not a float32 constant's
        if getattr(x, "dtype", dtype) is not dtype:
            x = in_dtype(x, dtype)
        if getattr(y, "dtype", dtype) is not dtype:
            y = in_dtype(y, dtype)
    try:
        tangent = rule.tangent2(x, y, tx, ty, ans)
    except _FALLBACK_ERRORS:
        with np.errstate(all="ignore"):
            tangent = rule.tangent2(_to_numpy(x), _to_numpy(y), tx, ty, _to_numpy(ans))
    if dtype is not None:
        tangent = _in_value_dtype(tangent, dtype)
    return _make(ans, tangent, tag)


def _in_value_dtype(tangent: Any, dtype: Any) -> Any:
    """A plain tangent in its value's NumPy ``dtype`` (a float32 value's tangent is float32, a
    float64 one's float64), as NumPy would give the value; a dual tangent is left alone."""
    if type(tangent) is float:
        return tangent_in(np.float64(tangent), dtype)
    if isinstance(tangent, (np.ndarray, np.generic)) and tangent.dtype != dtype:
        return tangent_in(tangent, dtype)
    return tangent


def _with_number(rule: Rule, a: Any, b: Any) -> Any:
    """An operator with a number that is not a Python float or int (a NumPy scalar: it is not
    weak and may change the result's dtype): the table's rule, which keeps NumPy's dtypes."""
    other = b if type(a) is Dual else a
    if type(other) not in SCALAR_TYPES:
        return NotImplemented
    return apply_binary(rule, a, b)


def _on_dual(rule: Rule) -> Callable[[Dual], Any]:
    """``rule`` applied to a Dual, with the float case (the hot path) unrolled."""
    real, partial, safe = rule.real, rule.plain_partial, rule.safe
    if partial is None:
        return lambda d: apply_unary(rule, d)

    def on_dual(d: Dual) -> Any:
        x, t = d.value, d.tangent
        if type(x) is float and type(t) is float and (t != 0.0 or not safe):
            try:
                ans = real(x)
                r = _new(Dual)
                r.value = ans
                r.tangent = (ans if partial is answer else partial(x, ans)) * t
                r.tag = d.tag
                return r
            except _FALLBACK_ERRORS:
                pass  # a domain edge: the general path gives NumPy's inf/nan
        return apply_unary(rule, d)

    return on_dual


register_lift(Dual, 1, apply_unary, apply_binary)
register_scalar_dual(Dual, _on_dual)
add_element_methods(Dual)  # np.sin(a) of an object array of Duals calls d.sin()

_POWER = RULES["power"].function
_DIVIDE = RULES["divide"].function
_FLOOR_DIVIDE = RULES["floor_divide"].function
_REMAINDER = RULES["remainder"].function
_ABSOLUTE = RULES["absolute"].function
_DIVIDE_RULE = RULES["divide"]
_ADD_RULE = RULES["add"]
_SUBTRACT_RULE = RULES["subtract"]
_MULTIPLY_RULE = RULES["multiply"]
