"""The rule table: every elementary function, declared once with its derivative.

Each entry names the function, its NumPy ufunc (if any), a fast implementation for a Python float,
and one partial derivative per argument written as a function of ``(*args, ans)`` with generic
calls (``cos(x)``, not ``np.cos(x)``), so the same rule works on floats, arrays and nested duals.
The table drives everything: ``Dual`` and ``DualArray`` apply it, ``__array_ufunc__`` looks rules
up by ufunc, the public ``dualdiff.<name>`` functions are generated from it, and the tests walk it.

Conventions at kinks (each tested):

* ``absolute``: ``d|x|/dx = sign(x)``, so 0 at ``x = 0`` (the midpoint of the subgradient, and the
  same answer ``maximum(x, -x)`` gives under the tie rule below).
* ``maximum``/``minimum``/``fmax``/``fmin``: at a tie the derivative is split evenly between the two
  arguments (as JAX does), so ``maximum(x, x)`` has derivative 1.
* ``sqrt``, ``cbrt``, ``log``, ``arcsin`` ... at a point where the derivative is infinite: the
  derivative is ``inf`` (``sqrt'(-0.0) = log'(-0.0) = +inf`` too), but a zero tangent stays
  exactly zero (no ``0 * inf = nan``): a zero number of any Python or NumPy type, a nested dual
  zero in every layer, entry by entry in arrays. The hand-written fast paths (``Dual``'s
  division, DualArray's ``_divide_tangent``) defer to these rules wherever a partial is infinite.
* Higher derivatives there: the one-sided limit where both sides agree (or one is outside the
  domain), NaN for infinities of opposite signs (``cbrt''(0)``; ``cbrt'''(0) = +inf``). Where a
  formula of a partial would add infinities on nested duals (``inf - inf``), the partial takes
  its derivatives' closed forms (``_derivative_chain``: cbrt, arccosh), as Taylor mode does.
* ``power``: ``d/dx x**y = y*x**(y-1)`` is 0 when ``y = 0`` (even at ``x = 0``), and
  ``d/dy x**y = x**y*log(x)`` at ``x = 0`` is 0 where ``y > 0`` (``0**y`` is 0 there) and
  ``-inf`` where ``y <= 0`` (``0**y`` jumps to 0 at ``y = 0``), so ``x**x`` has ``-inf`` at 0,
  its one-sided limit. Nested derivatives at a zero base take every order as its limit as
  ``x -> 0+`` (``_power_term``), so the Hessian of ``x0**x1`` is symmetric there.
* ``hypot`` at ``(0, 0)`` and complex ``absolute`` at 0: derivative 0, as for ``absolute``.
* ``sign``, ``floor``, ``ceil``, ``trunc``, ``rint``, ``floor_divide``: piecewise constant,
  derivative 0 everywhere (the jumps are ignored), exactly 0 even after an infinite tangent
  (``zero_tangent``, not ``t * 0``). ``heaviside(x, h)`` likewise in ``x``, and ``h`` itself
  where ``x = 0`` (a selection of ``h`` there: derivative ``dh``).
"""

from __future__ import annotations

import importlib
import math
import operator
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..core.methods import plain_value

__all__ = ["Rule", "RULES", "UFUNC_RULES", "EXTRA_UFUNC_RULES", "extra_ufunc_rule", "register_lift",
           "is_dual"]  # fmt: skip

_RULES: dict[str, Rule] = {}

RULES: Mapping[str, Rule] = types.MappingProxyType(_RULES)
"""Every rule by name (read-only: a rule is added by declaring it in this module)."""

UFUNC_RULES: dict[np.ufunc, Rule] = {}
"""The rules of NumPy ufuncs, keyed by the ufunc object (for ``__array_ufunc__``)."""

EXTRA_UFUNC_RULES: dict[np.ufunc, Rule] = {}
"""The rules of other libraries' ufuncs (``scipy.special``), filled by ``extra_ufunc_rule``."""

# The modules of such ufuncs, and dualdiff's module holding their rules: imported when the library
# is loaded and one of its ufuncs meets a dual (so ``import dualdiff`` imports NumPy only).
_LAZY_TABLES = {"scipy.special": "dualdiff.rules.scipy_special"}


def extra_ufunc_rule(ufunc: Any) -> Rule | None:
    """The rule of a ufunc that is not NumPy's (None if it has none), for ``__array_ufunc__`` after
    ``UFUNC_RULES`` missed: loads the rule module of every library already imported."""
    rule = EXTRA_UFUNC_RULES.get(ufunc)
    if rule is None and _LAZY_TABLES:
        loaded = sys.modules
        for module in _LAZY_TABLES:
            if module in loaded:
                importlib.import_module(_LAZY_TABLES.pop(module))
                return extra_ufunc_rule(ufunc)
    return rule


# Ufuncs whose result carries no derivative at all (booleans, integers): applied to the values.
VALUE_UFUNCS = frozenset(
    np.__dict__[name]
    for name in (
        "isfinite isinf isnan isnat signbit greater greater_equal less less_equal equal "
        "not_equal logical_and logical_or logical_xor logical_not"
    ).split()
    if name in np.__dict__
)

_FALLBACK_ERRORS = (ValueError, OverflowError, ZeroDivisionError)


class Rule:
    """One elementary function and its derivative.

    ``partials[i](*args, ans)`` is the partial derivative with respect to argument ``i`` (a float
    when it is constant, ``None`` when the function does not depend on the argument);
    ``jvp(*args, *tangents, ans)`` replaces the partials for functions that are not
    complex-analytic (``absolute``, ``conjugate``); ``zero`` marks a
    piecewise-constant function. ``safe`` marks a partial that can be infinite inside the domain:
    a zero tangent is then kept exactly zero. ``select`` marks a selection (``maximum``,
    ``fmax``): its partials are shares, and an argument it does not select (share exactly 0)
    adds nothing, even where its tangent is infinite or NaN (``np.maximum(0.5, np.sqrt(x))`` at
    0, ``np.fmax(x, y)`` beside a NaN y). ``domain`` (one interval per argument) and
    ``complex`` (analytic, test complex points too) tell the tests where to check the rule.
    """

    __slots__ = (
        "name",
        "nin",
        "ufunc",
        "real",
        "array",
        "partials",
        "jvp",
        "zero",
        "safe",
        "select",
        "domain",
        "complex",
        "formula",
        "function",
        "plain_partial",
        "on_dual",
    )

    def __init__(
        self,
        name: str,
        nin: int,
        ufunc: np.ufunc | None,
        real: Callable[..., Any] | None,
        array: Callable[..., Any],
        partials: tuple[Callable[..., Any] | None, ...] = (),
        jvp: Callable[..., Any] | None = None,
        zero: bool = False,
        safe: bool = False,
        domain: tuple[tuple[float, float], ...] = ((-3.0, 3.0),),
        complex: bool = False,
        formula: str = "",
        select: bool = False,
    ) -> None:
        self.name = name
        self.nin = nin
        self.ufunc = ufunc
        self.real = real if real is not None else array
        self.array = array
        self.partials = partials
        self.jvp = jvp
        self.zero = zero
        self.safe = safe
        self.select = select
        self.domain = domain
        self.complex = complex
        self.formula = formula
        self.function: Callable[..., Any] = _make_function(self)
        # The common case, a one-argument rule whose tangent is partial(x, ans) * t, kept at hand
        # so the scalar hot path can apply it without going through tangent1.
        p = partials[0] if nin == 1 and partials else None
        self.plain_partial = p if callable(p) and jvp is None and not zero else None
        self.on_dual: Callable[..., Any] | None = None  # set by dual.py: this rule on a Dual

    def __repr__(self) -> str:
        return f"<rule {self.name}: {self.formula}>"

    def tangent1(self, x: Any, t: Any, ans: Any) -> Any:
        """The output tangent of a one-argument rule for input ``x`` with tangent ``t``."""
        if self.zero:
            return zero_tangent(t)
        if self.jvp is not None:
            return self.jvp(x, t, ans)
        return _term(self.partials[0], self.safe, t, x, ans)

    def tangent2(self, x: Any, y: Any, tx: Any, ty: Any, ans: Any) -> Any:
        """The output tangent of a two-argument rule; ``tx``/``ty`` is None for a constant."""
        if self.zero:
            return zero_tangent(tx if ty is None else ty)
        if self.jvp is not None:
            return self.jvp(x, y, tx, ty, ans)
        dx, dy = self.partials
        if self.select:  # (a constant's share is not computed)
            if ty is None or dy is None:
                return select(dx(x, y, ans), tx, True) if dx is not None else zero_tangent(tx)
            if tx is None or dx is None:
                return select(dy(x, y, ans), ty, True)
            return select(dx(x, y, ans), tx, True) + select(dy(x, y, ans), ty, True)
        out = None
        if tx is not None and dx is not None:
            out = _term(dx, self.safe, tx, x, y, ans)
        if ty is not None and dy is not None:
            term = _term(dy, self.safe, ty, x, y, ans)
            if out is None:
                out = term
            elif (
                out is not tx
                and type(out) is np.ndarray
                and type(term) is np.ndarray
                and (out.shape == term.shape and out.dtype == term.dtype)
            ):
                out += term  # out is a temporary of this rule: accumulate in place
            else:
                out = out + term
        if out is None:
            return zero_tangent(tx if ty is None else ty)
        return out


def _term(partial: Any, safe: bool, t: Any, *args: Any) -> Any:
    """``partial(*args) * t``; a constant partial (a float) needs no call, and 1 or -1 no product.

    For a ``safe`` rule an exactly zero tangent gives zero without evaluating the partial, which
    may be infinite there.
    """
    if type(partial) is float:
        if partial == 1.0:
            return t
        return -t if partial == -1.0 else partial * t
    if safe:
        if _exact_zero(t):
            return t * 0.0
        return scale(safe_partial(partial, *args), t)
    return times(partial(*args), t, args)


def safe_partial(partial: Callable[..., Any], *args: Any) -> Any:
    """``partial(*args)`` of a safe rule, whose partial may be infinite by design (``sqrt'(0)``):
    under the user's ``np.errstate(all="raise")`` that division is dualdiff's, not the user's
    (NumPy evaluates the value without an error), so it is redone quietly. Free unless raised."""
    try:
        return partial(*args)
    except FloatingPointError:
        with np.errstate(all="ignore"):
            return partial(*args)


def times(p: Any, t: Any, args: tuple[Any, ...]) -> Any:
    """``p * t``, written into ``p`` when ``p`` is a temporary array of the result's shape (one
    allocation less per operation on large arrays). ``p`` is never one of the rule's inputs or
    its result (``exp``'s partial is ``ans`` itself), which stay untouched."""
    if (
        type(p) is np.ndarray
        and type(t) is np.ndarray
        and t.shape[0] == 1
        and p.shape == t.shape[1:]
        and p.dtype == t.dtype
        and p.flags.writeable
        and p.flags.c_contiguous
    ):
        for a in args:
            if p is a:
                return p * t
        out = p.reshape(t.shape)
        return np.multiply(out, t, out=out)
    return p * t


# ---------------------------------------------------------------------------------------------
# Dispatch: floats go to ``math``, dual types to their lift, everything else to NumPy.
# ---------------------------------------------------------------------------------------------


class Lift:
    """How a dual type applies a two-argument rule: ``binary(rule, x, y)``.

    When arguments of two dual types meet, the lift with the higher ``rank`` handles them (an
    array type outranks the scalar ``Dual``). One-argument rules need no ranking: they are looked
    up in ``_UNARY_LIFTS`` by the argument's type.
    """

    __slots__ = ("rank", "binary")

    def __init__(self, rank: int, binary: Callable[..., Any]):
        self.rank = rank
        self.binary = binary


_LIFTS: dict[type, Lift] = {}
_UNARY_LIFTS: dict[type, Callable[..., Any]] = {}
_SCALAR_DUAL: list[type] = []  # the scalar dual type, whose rules have a specialised ``on_dual``
_scalar_dual: type | None = None  # the same type, set by ``dual.py`` (a global is read faster)
_new = object.__new__


def answer(x: Any, a: Any) -> Any:
    """The partial of a rule whose derivative is its value (``exp``): ``a``. The scalar hot
    paths recognise it and multiply by the value without calling it."""
    return a


_SPECIALISE: list[Callable[[Rule], Callable[..., Any]]] = []  # its maker of ``on_dual``
_PRIVATE_RULES: list[Rule] = []  # rules outside the table (a partial's derivatives): specialised
_OBJECT_LIFT: list[Callable[[Any], Any]] = []  # dual.objects' lift of an object array of duals


def register_object_lift(lift: Callable[[Any], Any]) -> None:
    """Make every rule apply to an object array of duals (``np.array([d1, d2])``) as to the dual
    array ``lift(a)`` stands for: the plain-array form of a rule on the elements would run
    NumPy's object loops, or a stable formula such as ``sigmoid``'s branches on ``|x|``, whose
    pieces are not differentiable where the function is (``abs'(0) = 0`` made ``sigmoid'(0)``
    0). A registration, so that the table never imports the carriers."""
    _OBJECT_LIFT.append(lift)


def _lifted_objects(*args: Any) -> tuple | None:
    """``args`` with their object arrays lifted, or None when none of them holds a dual."""
    if not _OBJECT_LIFT:
        return None
    lift = _OBJECT_LIFT[0]
    out = tuple(lift(a) if type(a) is np.ndarray and a.dtype.kind == "O" else a for a in args)
    return out if any(is_dual(a) for a in out) else None


def register_scalar_dual(cls: type, specialise: Callable[[Rule], Callable[..., Any]]) -> None:
    """Make ``cls`` the scalar dual: every one-argument rule, present (``RULES``) or added later
    (``specialise``), calls ``specialise(rule)`` on it, its hot path with the float case
    unrolled. A registration, so that a table of rules never imports the carrier."""
    global _scalar_dual
    for rule in (*RULES.values(), *_PRIVATE_RULES):
        if rule.nin == 1:
            rule.on_dual = specialise(rule)
    _SPECIALISE.append(specialise)
    _SCALAR_DUAL.append(cls)
    _scalar_dual = cls


def specialise(rule: Rule) -> Rule:
    """``rule`` (one made after the table, such as ``scipy.special``'s) with the scalar dual's
    hot path, as every rule of ``RULES`` has it."""
    if rule.nin == 1 and _SPECIALISE:
        rule.on_dual = _SPECIALISE[0](rule)
    return rule


def register_lift(cls: type, rank: int, unary: Callable[..., Any], binary: Callable[..., Any]):
    """Make every rule accept instances of ``cls`` (used by ``Dual`` and ``DualArray``)."""
    _LIFTS[cls] = Lift(rank, binary)
    _UNARY_LIFTS[cls] = unary


def is_dual(a: Any) -> bool:
    """Whether ``a`` is one of dualdiff's dual types (``Dual``, ``DualArray``)."""
    return type(a) in _LIFTS


def lift_of(*args: Any) -> Lift | None:
    """The highest-ranked lift among the arguments' types, or None for plain numbers/arrays."""
    best = None
    for a in args:
        lift = _LIFTS.get(type(a))
        if lift is not None and (best is None or lift.rank > best.rank):
            best = lift
    return best


def _make_function(rule: Rule) -> Callable[..., Any]:
    real, array, unary_lifts = rule.real, rule.array, _UNARY_LIFTS
    if rule.nin == 1:

        def function(x):
            t = type(x)
            if t is float:
                try:
                    return real(x)
                except _FALLBACK_ERRORS:
                    return array(x)
            if t is _scalar_dual:
                # the scalar Dual's hot path here, not in a call of rule.on_dual: one Python
                # frame less per function of a scalar derivative (the same path as on_dual's)
                v, dt = x.value, x.tangent
                partial = rule.plain_partial
                if (
                    type(v) is float
                    and type(dt) is float
                    and partial is not None
                    and (dt != 0.0 or not rule.safe)
                ):
                    try:
                        ans = real(v)
                        r = _new(t)
                        r.value = ans
                        r.tangent = (ans if partial is answer else partial(v, ans)) * dt
                        r.tag = x.tag
                        return r
                    except _FALLBACK_ERRORS:
                        pass  # a domain edge: the general path gives NumPy's inf/nan
                return rule.on_dual(x)
            lift = unary_lifts.get(t)
            if lift is not None:
                return lift(rule, x)
            if t in SYMBOLIC_TYPES:
                return SYMBOLIC_TYPES[t](rule, x)
            if t is np.ndarray and x.dtype.kind == "O":
                lifted = _lifted_objects(x)
                if lifted is not None:
                    return function(*lifted)
            return array(x)

    else:

        def function(x, y):
            if type(x) is float and (type(y) is float or type(y) is int):
                try:
                    return real(x, y)
                except _FALLBACK_ERRORS:
                    return array(x, y)
            lift = lift_of(x, y)
            if lift is not None:
                return lift.binary(rule, x, y)
            symbolic = SYMBOLIC_TYPES.get(type(x)) or SYMBOLIC_TYPES.get(type(y))
            if symbolic is not None:
                return symbolic(rule, x, y)
            if (type(x) is np.ndarray and x.dtype.kind == "O") or (
                type(y) is np.ndarray and y.dtype.kind == "O"
            ):
                lifted = _lifted_objects(x, y)
                if lifted is not None:
                    return function(*lifted)
            return array(x, y)

    function.__name__ = function.__qualname__ = rule.name
    function.__doc__ = (
        f"{rule.name}({', '.join('xy'[: rule.nin])}), differentiable: {rule.formula}.\n\n"
        "Returns a plain number or array for plain input, and a dual for dual input."
    )
    return function


# ---------------------------------------------------------------------------------------------
# Generic helpers used inside rules (they work on floats, arrays and duals alike).
# ---------------------------------------------------------------------------------------------

# Python and NumPy numbers: a tangent of one of these types is a single number, and an exact zero
# among them is the "zero tangent" of the conventions (``np.std(x - x)`` has a NumPy-scalar one).
_EXACT_SCALARS = frozenset(
    [float, int, complex]
    + [t for t in set(np.sctypeDict.values()) if issubclass(t, (np.floating, np.complexfloating))]
)


def _exact_zero(t: Any) -> bool:
    """Whether tangent ``t`` is exactly zero: a zero number, or a scalar dual (nested
    differentiation) whose every layer is zero."""
    tt = type(t)
    if tt in _EXACT_SCALARS:
        return t == 0
    if _SCALAR_DUAL and tt is _SCALAR_DUAL[0]:
        return _exact_zero(t.value) and _exact_zero(t.tangent)
    return False


SYMBOLIC_TYPES: dict[type, Callable[..., Any]] = {}
"""Traced plain-array types (``dualdiff.engine.jit``) and how a rule is recorded on them. They are
arrays even when 0-d, since their values are unknown when a rule chooses between its scalar and
array forms; they are not duals (they carry no tangent)."""


def _is_array(a: Any) -> bool:
    return getattr(a, "ndim", 0) != 0 or type(a) in SYMBOLIC_TYPES


def zero_tangent(t: Any) -> Any:
    """A zero tangent like ``t``: the derivative through a piecewise-constant function.

    Not ``t * 0.0``, which is NaN where ``t`` is infinite (``floor(sqrt(x))`` at 0).
    """
    tt = type(t)
    if tt is float:
        return 0.0
    if tt is np.ndarray:
        dtype = t.dtype
        return np.zeros(t.shape, dtype if dtype.kind in "fc" else float)
    if tt in _EXACT_SCALARS:
        return tt(0) * 0.0
    if tt in _LIFTS:  # a dual tangent (nested differentiation): its zero needs no layers
        while type(t) in _LIFTS:
            t = t.value
        return zero_tangent(t)
    if tt in SYMBOLIC_TYPES:  # a traced tangent (the compiler): zeros at run time
        return np.zeros_like(t)
    return t * 0.0


PLAIN_TANGENTS: set[type] = {np.ndarray}
"""Tangent array types without dual layers (``seed.py`` adds its lazy identity seed): where such
a tangent is zero, ``scale`` knows the product is zero."""


def scale(p: Any, t: Any) -> Any:
    """``p * t`` where ``p`` may be infinite: entries with an exactly zero tangent stay zero
    (``p`` may be a dual itself: nested differentiation, the Hessian's inner Jacobian)."""
    if type(t) in _EXACT_SCALARS:
        return p * t if t != 0 else t * 0.0
    if (type(t) in PLAIN_TANGENTS or type(t) in _LIFTS) and not (
        _finite_layers(p) if type(p) in _LIFTS else all_finite(p)  # (a plain p: one call)
    ):
        zero = _zero_mask(t)
        if zero is not None:
            with np.errstate(invalid="ignore"):
                return np.where(zero, 0.0, p * t)
    return p * t


def _finite_layers(p: Any) -> bool:
    """Whether every entry of ``p`` is finite, in each layer of a dual ``p`` (a partial of a
    nested derivative whose value is finite may have an infinite derivative: ``x**y log(x)``
    at ``x = 0``)."""
    while type(p) in _LIFTS:
        if type(p) is _scalar_dual:
            inner = p.tangent
        elif hasattr(type(p), "tangent_"):  # a dual array (a Taylor series: its value decides)
            inner = p.tangent_
        else:
            inner = None
        if type(inner) is np.ndarray or type(inner) in _LIFTS or type(inner) in _EXACT_SCALARS:
            if not _finite_layers(inner):
                return False
        p = p.value
    return all_finite(p)


def select(p: Any, t: Any, temporary: bool = False) -> Any:
    """``p * t`` for a share ``p`` of a selection (0, 1/2 or 1): where ``p`` is exactly 0 the
    argument is not selected and gives 0, whatever its tangent holds (``0 * inf`` would be NaN
    where the selected argument's derivative is finite). ``p`` may be a dual (nested
    differentiation: a share is piecewise constant, its values decide). A ``temporary`` ``p``
    (made for this product alone) takes a finite tangent's product, as ``times`` writes it."""
    if type(p) in _EXACT_SCALARS or type(p) is bool:
        return p * t if p != 0 else zero_tangent(t)
    if type(p) in SYMBOLIC_TYPES:
        return p * t  # (the compiler records select itself: see compiler.symbolic)
    if temporary and type(t) is np.ndarray and all_finite(t):
        return times(p, t, ())
    out = p * t
    if all_finite(out):
        return out
    while type(p) in _LIFTS:
        p = p.value
    if type(p) is not np.ndarray:
        return out if p != 0 else zero_tangent(t)
    with np.errstate(invalid="ignore"):
        return np.where(p == 0, zero_tangent(out), out)


def _zero_mask(t: Any) -> Any:
    """Where tangent array ``t`` is exactly zero in every layer (a dual array of a nested
    differentiation: its values and all its own tangents), or None if that cannot be told."""
    if type(t) in PLAIN_TANGENTS:
        return t == 0
    inner = getattr(t, "tangent_", None)  # a DualArray: tangents along a leading axis
    if inner is None or not _is_array(t):
        return None
    value, tangent = _zero_mask(t.value), _zero_mask(inner)
    if value is None or tangent is None:
        return None
    return value & np.all(tangent, axis=0)


_BLAS_ONE_THREAD = 8192
"""Entries up to which OpenBLAS computes a dot product on one thread (it splits one above 10 000
entries: on a machine whose cores are busy, each such call waited a scheduler slice, ~20 ms)."""


def all_finite(p: Any) -> bool:
    """Whether every entry of ``p`` is finite, in one pass and without a temporary: ``Σ|p|²`` of
    finite numbers is finite (one that overflows, from entries beyond 1e154, takes the careful
    path needlessly, no more). ``vdot`` is BLAS's, 0.6 of the time of ``sum`` at n = 1000; above
    ``_BLAS_ONE_THREAD`` entries ``Σp`` (finite for finite entries but beyond 1e308 / n) as fast,
    on this thread. For a dual ``p`` (nested differentiation) its values decide."""
    while type(p) in _LIFTS:
        p = p.value
    if type(p) is np.ndarray:
        kind = p.dtype.kind
        if kind == "f" or kind == "c":
            if p.size <= _BLAS_ONE_THREAD:
                s = np.vdot(p, p)
            else:
                with np.errstate(over="ignore", invalid="ignore"):  # (inf - inf: quietly nan)
                    s = np.add.reduce(p, axis=None)
        elif kind in "biu":
            return True
        else:
            s = p.sum()
    else:
        s = p
    if type(s) is float or type(s) is np.float64:
        return math.isfinite(s)  # a third of the time of np.isfinite on a scalar
    return bool(np.isfinite(s))


def in_dtype(a: Any, dtype: Any) -> Any:
    """Plain NumPy operand ``a`` in the float/complex ``dtype`` of a rule's result, when it holds
    fewer bits (a float32 constant in a float64 program) or is an integer or boolean: NumPy
    computes the value in ``dtype``, and a partial evaluated on the constant alone (``1/y``,
    ``log(y)``, ``y - 1``, ``-y``) must be too, not rounded to float32, nor to float16 (``log``
    of an int8), nor wrapped around (``np.int8(-128) - 1``, ``-np.uint8(2)``). Anything else
    (Python numbers, duals) is returned as is."""
    d = getattr(a, "dtype", None)
    if (
        d is None
        or dtype is None
        or d == dtype
        or (type(a) is not np.ndarray and not isinstance(a, np.generic))
        or d.kind not in "biufc"
        or dtype.kind not in "fc"
        or not np.can_cast(d, dtype)
    ):
        return a
    return a.astype(dtype)


def tangent_in(t: Any, dtype: Any) -> Any:
    """Tangent array ``t`` in its value's float/complex ``dtype`` (NumPy's dtype for the value):
    a partial that came out float64 (``0.5 * (x == y)``) must not promote a float32 program, nor
    a float32 tangent stay float32 under a float64 value. A complex tangent of a real value (a
    complex direction) and anything not a float/complex array are left alone."""
    d = t.dtype
    if d.kind not in "fc" or dtype.kind not in "fc" or (d.kind == "c" and dtype.kind == "f"):
        return t
    if not isinstance(t, (np.ndarray, np.generic)):  # the lazy identity seed: a new dtype
        return type(t)(t.k, t.start, t.value_shape, dtype)
    return t.astype(dtype)


def where(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` holds, else ``b``: a Python choice for scalars, ``np.where`` else."""
    if not _is_array(cond):
        return a if cond else b
    return np.where(cond, a, b)


def safe_divide(n: Any, d: Any) -> Any:
    """``n / d``, and 0 where ``d == 0`` (the convention at kinks such as ``hypot(0, 0)``)."""
    if not _is_array(d) and not _is_array(n):
        return n / d if d != 0 else 0.0
    zero = d == 0
    return where(zero, 0.0, n / where(zero, 1.0, d))


def is_complex(x: Any) -> bool:
    """Whether ``x`` (a number, array or dual) holds complex values."""
    if type(x) is complex:
        return True
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind == "c"
    value = getattr(x, "value", None)
    return value is not None and is_complex(value)


def _sign_real(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else x * 0.0)


def _sigmoid_real(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def as_scalar_result(a: Any) -> Any:
    """A 0-d result as the scalar NumPy gives (a ufunc's, a reduction's over every axis):
    ``np.where`` keeps a 0-d array, and a view of one (``np.expand_dims(sigmoid(s), 0)``) would
    write into it, where NumPy's view of a scalar is a new array. Any array or dual carrier."""
    if type(a) is np.ndarray:  # (an attribute, not np.shape's dispatch, on the common path)
        return a if a.ndim else a[()]
    return a if np.shape(a) else a[()]


def _sigmoid_array(x: Any) -> Any:
    # exp of -|x| never overflows; the two branches are the stable forms for each sign.
    e = np.exp(-np.abs(x))
    return as_scalar_result(np.where(np.asarray(x) >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def _softplus_real(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _softplus_array(x: Any) -> Any:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _logit_array(x: Any) -> Any:
    return np.log(x) - np.log1p(-np.asarray(x))


def _sinc_real(x: float) -> float:
    if x == 0:
        return 1.0
    px = math.pi * x
    return math.sin(px) / px


def _sinc_partial(x: Any, ans: Any) -> Any:
    # (cos(pi x) - sinc(x)) / x cancels near 0, a relative error of about 3 eps/(pi x)² (3e4 ulps
    # at 1e-3, where a two-term series took over and had lost 1e4 ulps itself). Below 1/2 it is
    # the series pi w P(w²), w = pi x, P(u) = sum_j (-1)**(j+1) 2(j+1) u**j / (2j+3)!, whose 12
    # terms leave < 1e-19 there; beyond, the closed form loses at most 2 ulps to cancellation.
    if not _is_array(x):
        if abs(x) < 0.5:
            return _sinc_series(x)
        return (cos(math.pi * x) - ans) / x
    small = abs(x) < 0.5
    if type(x) is np.ndarray:  # plain values: the series on the small entries only
        out = (cos(math.pi * x) - ans) / where(small, 1.0, x)
        if small.any():
            out[small] = _sinc_series(x[small])
        return out
    return where(small, _sinc_series(x), (cos(math.pi * x) - ans) / where(small, 1.0, x))


_SINC_TERMS = tuple((-1) ** (j + 1) * 2 * (j + 1) / math.factorial(2 * j + 3) for j in range(12))


def _sinc_series(x: Any) -> Any:
    w = math.pi * x
    u = w * w
    out = _SINC_TERMS[-1]
    for c in _SINC_TERMS[-2::-1]:
        out = out * u + c
    return math.pi * (w * out)


def _xlogy_real(x: float, y: float) -> float:
    return 0.0 if x == 0 else x * math.log(y)


def _weak(a: Any, number: Any) -> Any:
    """``a`` computed from a Python ``number`` as a Python number again: NumPy takes Python
    numbers as weak (they do not promote float32), its own float64 results as strong."""
    return a.item() if type(number) in (int, float, complex) else a


def integer_in_float64(y: Any) -> Any:
    """A NumPy integer or boolean ``y`` in float64, as scipy.special's xlogy computes it
    (``np.log`` of an int8 is float16: ``xlogy(0.6, np.int8(2))`` was 0.416)."""
    if isinstance(y, (np.ndarray, np.generic)) and y.dtype.kind in "biu":
        return y.astype(np.float64)
    return y


def _xlogy_array(x: Any, y: Any) -> Any:
    y = integer_in_float64(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return as_scalar_result(
            np.where(np.asarray(x) == 0, 0.0, np.multiply(x, _weak(np.log(y), y)))
        )


def _xlog1py_real(x: float, y: float) -> float:
    return 0.0 if x == 0 else x * math.log1p(y)


def _xlog1py_array(x: Any, y: Any) -> Any:
    y = integer_in_float64(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        return as_scalar_result(
            np.where(np.asarray(x) == 0, 0.0, np.multiply(x, _weak(np.log1p(y), y)))
        )


# The real functions of a selection return a float also when the chosen argument is a Python int
# (NumPy's float64): a Dual clipped at an int bound must not hold the int (np.clip(x, 2, 3) ** 64
# would wrap around in int64). float(y) of a float is y itself, so -0.0 stays -0.0.


def _max_real(x: float, y: float) -> float:
    return x if x >= y else (float(y) if y > x else x + y)  # NaN propagates, as in np.maximum


def _min_real(x: float, y: float) -> float:
    return x if x <= y else (float(y) if y < x else x + y)


def _fmax_real(x: float, y: float) -> float:
    return x if (x >= y or y != y) else float(y)  # a NaN argument is ignored, as in np.fmax


def _fmin_real(x: float, y: float) -> float:
    return x if (x <= y or y != y) else float(y)


def _heaviside_real(x: float, h: float) -> float:
    return 0.0 if x < 0 else (1.0 if x > 0 else (float(h) if x == 0 else x))


def _share_in(s: Any, x: Any, y: Any) -> Any:
    """A share computed from booleans (float64 in NumPy) in the arguments' float dtype, so that
    it does not promote a float32 program's tangents."""
    if type(s) is np.ndarray or isinstance(s, np.generic):
        try:
            dtype = np.result_type(getattr(x, "dtype", x), getattr(y, "dtype", y), 0.0)
        except TypeError:  # an argument NumPy cannot type: keep the share as it is
            return s
        if dtype != s.dtype and dtype.kind == "f":
            return s.astype(dtype)
    return s


def _heaviside_dh(x: Any, h: Any, ans: Any) -> Any:
    # heaviside(x, h) is h where x = 0: a selection of h there, of a constant elsewhere (a
    # derivative 0 everywhere lost dh at x = 0)
    return _share_in(x == 0, x, h)


def _tie_share(x: Any, y: Any) -> Any:
    """The share of the derivative of max(x, y) that goes to ``x``: 1, 1/2 at a tie, or 0."""
    return _share_in((x > y) + 0.5 * (x == y), x, y)


def _fmax_share(x: Any, y: Any) -> Any:
    return _share_in((x > y) + 0.5 * (x == y) + (y != y) * (x == x), x, y)


def _fmin_share(x: Any, y: Any) -> Any:
    return _share_in((x < y) + 0.5 * (x == y) + (y != y) * (x == x), x, y)


def _share(x: Any, y: Any, scale: float) -> Any:
    # logaddexp's partial e**(x-a) as sigmoid((x - y) scale): e**(x-a) rounded to 1 for both
    # arguments once a = x + log 2 rounds to x (x = y = 1e17 gave the derivative 2, not 1), and
    # was nan at x = inf (sigmoid(inf) = 1, as Taylor mode gives)
    return sigmoid(x - y if scale == 1.0 else (x - y) * scale)


def _derivative_chain(name: str, *derivatives: Callable[[Any], Any]) -> Rule:
    """A rule (outside the table) for a partial ``derivatives[0]`` whose own derivatives are the
    next ones: closed forms in generic calls, on plain values with the convention at the
    singular point (the one-sided limit where the sides agree, else NaN). The last is only
    evaluated (on duals too: IEEE arithmetic beyond). A partial evaluated through its formula on
    nested duals at a singular point adds infinities of different orders (inf - inf = NaN where
    the limit is inf: arccosh at 1) or takes one side's sign; through the closed forms each
    order is its limit, the value Taylor mode gives."""
    rule: Rule | None = None
    for k in range(len(derivatives) - 2, -1, -1):
        if rule is None:
            nxt = derivatives[k + 1]

            def partial(x: Any, a: Any, nxt: Callable[[Any], Any] = nxt) -> Any:
                with np.errstate(divide="ignore", invalid="ignore"):
                    return nxt(x)

        else:

            def partial(x: Any, a: Any, inner: Rule = rule) -> Any:
                return inner.function(x)

        def array(x: Any, f: Callable[[Any], Any] = derivatives[k]) -> Any:
            with np.errstate(divide="ignore", invalid="ignore"):
                return f(x)

        rule = Rule(f"{name}'" + "'" * k, 1, None, None, array, (partial,), safe=True)
        _PRIVATE_RULES.append(rule)
        specialise(rule)
    assert rule is not None
    return rule


def _nested_at(x: Any, singular: Callable[[Any], Any], chain: Rule | None) -> bool:
    """Whether a partial evaluated at ``x`` takes ``chain``: ``x`` is a dual of a nested
    derivative (a scalar ``Dual`` or a dual array) with a value where ``singular`` holds."""
    return (
        chain is not None
        and (type(x) is _scalar_dual or hasattr(type(x), "tangent_"))
        and bool(np.any(singular(plain_value(x))))
    )


def _has_zero(x: Any) -> bool:
    """Whether the plain values under ``x``'s dual layers hold a zero."""
    v = plain_value(x)
    return v == 0 if type(v) is float else bool(np.any(v == 0))


def _pow_dx(x: Any, y: Any, ans: Any) -> Any:
    # d/dx x**y = y x**(y-1), and exactly 0 when y == 0 at x = 0 (x**0 is the constant 1, even
    # at x = 0, where the formula gives 0·inf). Elsewhere the formula itself is 0 at y == 0, and
    # keeps the tangent of a nested y (the Hessian of x0**x1 at x1 = 0 has d²/dx0dx1 = 1/x0).
    if (_LIFTS.get(type(x)) is not None or _LIFTS.get(type(y)) is not None) and _has_zero(x):
        # a nested derivative at a zero base: y x**(y-1) as a rule, whose derivatives there are
        # the limits from the right (below)
        return _at_zero_base(x, _POWER_DX.function(x, y), lambda b: y * power(b, y - 1))
    if not _is_array(y) and not _is_array(x):
        return y * power(x, y - 1) if y != 0 or x != 0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        partial = y * power(x, y - 1)
        zero = y == 0
        if not _is_array(zero) and not zero:
            return partial  # (a nonzero constant exponent: the common case, no selection)
        return where(zero & (x == 0), 0.0, partial)


def _pow_dy(x: Any, y: Any, ans: Any) -> Any:
    # d/dy x**y = x**y log(x). At x = 0 it is taken as its limit from the right: 0 where
    # Re(y) > 0, else x**y log(0) = -inf x**y (d/dx x**x = x**x (log x + 1) is -inf at 0+, not 0).
    if (_LIFTS.get(type(x)) is not None or _LIFTS.get(type(y)) is not None) and _has_zero(x):
        # a nested derivative at a zero base: x**y log(x) as a rule, whose derivatives there
        # are the limits from the right (below); the constant 0 dropped them
        return _at_zero_base(x, _POWER_DY.function(x, y), lambda b: ans * log(b))
    if not _is_array(x) and not _is_array(ans):
        if x != 0:
            return ans * log(x)
        return 0.0 if (y.real if is_complex(y) else y) > 0 else ans * -math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        zero = x == 0
        general = ans * log(where(zero, 1.0, x))
        if type(zero) is np.ndarray and not zero.any():
            return general  # (no zero base: the common case, without the selection)
        positive = (y.real if is_complex(y) else y) > 0
        return where(zero, where(positive, 0.0, ans * -math.inf), general)


def _real_part(y: Any) -> Any:
    """The real part of the plain values under ``y``'s dual layers."""
    y = plain_value(y)
    return y.real if is_complex(y) else y


def _at_zero_base(x: Any, at_zero: Any, general: Callable[[Any], Any]) -> Any:
    """``at_zero`` where ``x``'s value is 0, ``general(b)`` elsewhere (``b`` is ``x`` with its
    zeros replaced by 1, so the formula makes no infinity there)."""
    zero = plain_value(x) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = general(where(zero, 1.0, x))
    return where(zero, at_zero, out)


# The nested derivatives of power's partials at a zero base. Every derivative of x**y is a sum
# p_0(y) x**(y-m) + p_1(y) x**(y-m) log(x) + ... with polynomials p_i in y, and its limit as
# x -> 0+ follows from the largest i with p_i(y) != 0: 0 where y > m, else an infinity of that
# term's sign (log(x) -> -inf), or p_0(y) itself where y = m and i = 0. Each such sum is a rule
# (outside the table) whose partials are the next sums, so every order at a zero base is its
# limit from the right. Evaluating the formulas on duals there made 0 * inf and inf - inf (the
# Hessian of x0**x1 at (0, 0.5) was nan for -inf) or dropped a derivative (a constant 0: at
# (0, 1) d/dx0 d/dx1 was 0 beside d/dx1 d/dx0 = -inf).

_Poly = tuple[float, ...]  # the coefficients of a polynomial in y, the constant first
_POWER_TERMS: dict[tuple[int, tuple[_Poly, ...]], Rule] = {}


def _poly_at(p: _Poly, y: Any) -> Any:
    out: Any = 0.0
    for c in reversed(p):
        out = out * y + c
    return out


def _poly_add(p: _Poly, q: _Poly) -> _Poly:
    n = max(len(p), len(q))
    out = [(p[i] if i < len(p) else 0.0) + (q[i] if i < len(q) else 0.0) for i in range(n)]
    while out and out[-1] == 0.0:
        out.pop()
    return tuple(out)


def _poly_times_y_minus(p: _Poly, m: int) -> _Poly:
    return _poly_add((0.0, *p), tuple(-m * c for c in p))  # (y - m) p


def _poly_derivative(p: _Poly) -> _Poly:
    return _poly_add((), tuple(i * c for i, c in enumerate(p) if i))


def _terms(polys: list[_Poly]) -> tuple[_Poly, ...]:
    while polys and not polys[-1]:
        polys.pop()
    return tuple(polys)


def _power_term(m: int, polys: tuple[_Poly, ...]) -> Rule:
    """The rule of ``sum_i p_i(y) x**(y-m) log(x)**i`` (``polys[i]`` is ``p_i``)."""
    key = (m, polys)
    rule = _POWER_TERMS.get(key)
    if rule is not None:
        return rule
    n = len(polys)
    # d/dx: p_i (y - m) x**(y-m-1) log(x)**i + i p_i x**(y-m-1) log(x)**(i-1)
    dx_key = _terms(
        [
            _poly_add(_poly_times_y_minus(polys[i], m), tuple((i + 1) * c for c in polys[i + 1]))
            if i + 1 < n
            else _poly_times_y_minus(polys[i], m)
            for i in range(n)
        ]
    )
    # d/dy: p_i' x**(y-m) log(x)**i + p_i x**(y-m) log(x)**(i+1)
    dy_key = _terms(
        [
            _poly_add(_poly_derivative(polys[i]) if i < n else (), polys[i - 1] if i else ())
            for i in range(n + 1)
        ]
    )

    def array(x: Any, y: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            zero = np.asarray(x) == 0
            b = np.where(zero, 1.0, x)
            scale, logb = np.power(b, np.subtract(y, m)), np.log(b)
            general: Any = 0.0
            for i, p in enumerate(polys):
                if p:
                    general = general + _poly_at(p, y) * scale * logb**i
            return as_scalar_result(np.where(zero, _power_term_limit(m, polys, y), general))

    def dx(x: Any, y: Any, ans: Any) -> Any:
        return _power_term(m + 1, dx_key).function(x, y)

    def dy(x: Any, y: Any, ans: Any) -> Any:
        return _power_term(m, dy_key).function(x, y)

    rule = Rule(f"power_term{key}", 2, None, None, array, (dx, dy), safe=True,
                formula="sum_i p_i(y) x**(y-m) log(x)**i, its limit as x -> 0+ at 0")  # fmt: skip
    _POWER_TERMS[key] = rule
    return rule


def _power_term_limit(m: int, polys: tuple[_Poly, ...], y: Any) -> Any:
    v = np.asarray(_real_part(y), dtype=float)
    out = np.zeros(v.shape)
    decided = np.zeros(v.shape, dtype=bool)
    for i in range(len(polys) - 1, -1, -1):
        c = np.broadcast_to(np.asarray(_poly_at(polys[i], v), dtype=float), v.shape)
        here = (c != 0) & ~decided
        infinite = np.sign(c) * (-1.0) ** i * np.inf
        out = np.where(here, np.where((v == m) & (i == 0), c, infinite), out)
        decided = decided | here
    return np.where(v > m, 0.0, out)


_POWER_DX = _power_term(1, ((0.0, 1.0),))  # y x**(y-1)
_POWER_DY = _power_term(0, ((), (1.0,)))  # x**y log(x)


def _abs_jvp(x: Any, t: Any, ans: Any) -> Any:
    # Real: sign(x) t. Complex: |z| is not analytic; its tangent is Re(conj(z) t) / |z|.
    if is_complex(x):
        return safe_divide((x.conjugate() * t).real, ans)
    return sign(x) * t


def _sign_jvp(x: Any, t: Any, ans: Any) -> Any:
    # Real sign is piecewise constant. Complex sign(z) = z/|z| moves along the unit circle:
    # d sign = (t - sign(z) Re(conj(sign(z)) t)) / |z|.
    if is_complex(x):
        along = (ans.conjugate() * t).real
        return safe_divide(t - ans * along, absolute(x))
    return zero_tangent(t)


def _copysign_dx(x: Any, y: Any, ans: Any) -> Any:
    # copysign(x, y) = |x| * sign-bit(y); at x = 0 the derivative is 0, as for absolute.
    return sign(x) * copysign(1.0, y)


def _tanh_partial(x: Any, a: Any) -> Any:
    # 1 - a² loses 1 - |a| where |a| is near 1: a relative error of about eps sinh²(x)/3 (118
    # ulps at 3.7), and 0.0 from |x| = 19.1 on, where a rounds to ±1 and the derivative is about
    # 4 e**-2|x|. Beyond |x| = 3 (30 ulps) it is sech² x, exact: (1/cosh x)² on arrays and in
    # the compiler (fewest passes), 4e/(1 + e)² with e = e**-2|x| on floats (math.cosh raises
    # past 710) and duals (whose tangents stay finite where cosh overflows; for complex x
    # e**-2x or e**2x by the sign of Re x). Inside, 1 - a² is cheaper, and its derivative
    # -2a(1 - a²) keeps the second derivative's digits near 0.
    if type(x) is float:  # the scalar hot path
        if -3.0 < x < 3.0:
            return 1.0 - a * a
        e = math.exp(-2.0 * abs(x))
        return 4.0 * e / ((1.0 + e) * (1.0 + e))
    if type(x) is np.ndarray and x.ndim and x.dtype.kind == "f":
        far = np.abs(x) >= 3.0
        count = np.count_nonzero(far)
        if not count:
            p = a * a
            return np.subtract(1.0, p, out=p)
        with np.errstate(over="ignore"):  # (cosh is inf past 710, where sech² rounds to 0)
            if 2 * count >= far.size:  # mostly far: sech² everywhere beats a masked gather
                s = np.cosh(x)
                np.reciprocal(s, out=s)
                return np.multiply(s, s, out=s)
            p = a * a
            np.subtract(1.0, p, out=p)
            s = 1.0 / np.cosh(x[far])
            p[far] = s * s
        return p
    if type(x) in SYMBOLIC_TYPES and not is_complex(x):
        # the compiler (no branch on values): sech² x on every entry, in three operations
        # where 4e/(1 + e)² takes seven (one transcendental either way); cosh is inf past 710,
        # whose reciprocal is the 0 that sech² rounds to there
        with np.errstate(over="ignore"):
            c = cosh(x)
        s = 1.0 / c
        return s * s
    return _near_or_far(x, 1.0 - a * a, _sech2_far, 3.0)


def _sech2_far(x: Any) -> Any:
    if is_complex(x):
        e = exp(-2.0 * where(x.real > 0, x, -x))
    else:
        e = exp(-2.0 * abs(x))  # (exact for first derivatives; nested ones come at |x| >= 3)
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _tan_partial(x: Any, a: Any) -> Any:
    # 1 + a² is exact for real x; for complex x it cancels where a is near ±i (|Im x| large:
    # 1e-12 of it left at 20+5j, nothing at 5+40j). There sec² x = 4w/(1 + w)², w = e**2ix
    # (e**-2ix below the real axis), exact.
    if not is_complex(x):
        return 1.0 + a * a
    return _near_or_far(x, 1.0 + a * a, _sec2_far, 1.0, x.imag)


def _sec2_far(x: Any) -> Any:
    w = exp(2j * where(x.imag > 0, x, -x))
    return 4.0 * w / ((1.0 + w) * (1.0 + w))


def _near_or_far(x: Any, near: Any, far: Callable[[Any], Any], bound: float, size: Any = None):
    """``near`` where ``|size|`` (default ``x``) is below ``bound``, ``far(x)`` beyond: for a
    plain array on the far entries only, for duals and traced arrays both (the far form
    evaluated at ``bound`` elsewhere)."""
    size = abs(x if size is None else size)
    if not _is_array(x):
        return near if size < bound else far(x)
    if type(x) is np.ndarray:
        mask = size >= bound
        if not mask.any():
            return near
        dtype = np.result_type(near, x)
        out = near if near.dtype == dtype else near.astype(dtype)  # (near: a temporary)
        out[mask] = far(x[mask])
        return out
    mask = size >= bound
    return where(mask, far(where(mask, x, bound)), near)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG = 180.0 / math.pi
_RAD = math.pi / 180.0


def _unary(
    name,
    ufunc,
    real,
    partial=None,
    *,
    array=None,
    jvp=None,
    zero=False,
    safe=False,
    domain=(-3.0, 3.0),
    complex=False,
    formula="",
    aliases=(),
) -> Callable[..., Any]:
    rule = Rule(
        name,
        1,
        ufunc,
        real,
        array if array is not None else ufunc,
        partials=(partial,),
        jvp=jvp,
        zero=zero,
        safe=safe,
        domain=(domain,),
        complex=complex,
        formula=formula,
    )
    _register(rule, aliases)
    return rule.function


def _binary(
    name,
    ufunc,
    real,
    dx=None,
    dy=None,
    *,
    array=None,
    jvp=None,
    zero=False,
    safe=False,
    domain=((-3.0, 3.0), (-3.0, 3.0)),
    complex=False,
    formula="",
    aliases=(),
    select=False,
):
    rule = Rule(
        name,
        2,
        ufunc,
        real,
        array if array is not None else ufunc,
        partials=(dx, dy),
        jvp=jvp,
        zero=zero,
        safe=safe,
        domain=domain,
        complex=complex,
        formula=formula,
        select=select,
    )
    _register(rule, aliases)
    return rule.function


def _register(rule: Rule, aliases: tuple[str, ...]) -> None:
    _RULES[rule.name] = rule
    if rule.ufunc is not None:
        UFUNC_RULES[rule.ufunc] = rule
    for alias in aliases:
        ufunc = getattr(np, alias, None)
        if isinstance(ufunc, np.ufunc):
            UFUNC_RULES[ufunc] = rule


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------

# fmt: off
add = _binary("add", np.add, operator.add,
              1.0, 1.0,
              complex=True, formula="d(x+y) = dx + dy")
subtract = _binary("subtract", np.subtract, operator.sub,
                   1.0, -1.0,
                   complex=True, formula="d(x-y) = dx - dy")
multiply = _binary("multiply", np.multiply, operator.mul,
                   lambda x, y, a: y, lambda x, y, a: x,
                   complex=True, formula="d(xy) = y dx + x dy")
divide = _binary("divide", np.divide, operator.truediv,
                 lambda x, y, a: 1.0 / y, lambda x, y, a: -a / y,
                 domain=((-3.0, 3.0), (0.5, 3.0)), complex=True, safe=True,
                 formula="d(x/y) = dx/y - (x/y) dy/y", aliases=("true_divide",))
power = _binary("power", np.power, math.pow, _pow_dx, _pow_dy,
                domain=((0.2, 3.0), (-2.0, 2.0)), complex=True, safe=True,
                formula="d(x**y) = y x**(y-1) dx + x**y log(x) dy")
float_power = _binary("float_power", np.float_power, math.pow, _pow_dx, _pow_dy,
                      domain=((0.2, 3.0), (-2.0, 2.0)), complex=True, safe=True,
                      formula="as power, computed in float64")
negative = _unary("negative", np.negative, operator.neg, -1.0,
                  complex=True, formula="d(-x) = -dx")
positive = _unary("positive", np.positive, operator.pos, 1.0,
                  complex=True, formula="d(+x) = dx")
square = _unary("square", np.square, lambda x: x * x, lambda x, a: 2.0 * x,
                complex=True, formula="d(x**2) = 2x dx")
reciprocal = _unary("reciprocal", np.reciprocal, lambda x: 1.0 / x, lambda x, a: -a * a,
                    domain=(0.3, 3.0), complex=True, safe=True, formula="d(1/x) = -dx/x**2")
floor_divide = _binary("floor_divide", np.floor_divide, operator.floordiv, zero=True,
                       domain=((-3.0, 3.0), (0.5, 3.0)), formula="0 (piecewise constant)")
remainder = _binary("remainder", np.remainder, operator.mod,
                    1.0, lambda x, y, a: -floor(x / y),
                    domain=((-3.0, 3.0), (0.7, 3.0)), aliases=("mod",),
                    formula="d(x mod y) = dx - floor(x/y) dy")
fmod = _binary("fmod", np.fmod, math.fmod,
               1.0, lambda x, y, a: -trunc(x / y),
               domain=((-3.0, 3.0), (0.7, 3.0)), formula="d fmod(x, y) = dx - trunc(x/y) dy")

# ---------------------------------------------------------------------------------------------
# Exponentials and logarithms
# ---------------------------------------------------------------------------------------------

exp = _unary("exp", np.exp, math.exp, answer, complex=True,
             formula="d exp(x) = exp(x) dx")
exp2 = _unary("exp2", np.exp2, lambda x: 2.0**x, lambda x, a: a * _LN2, complex=True,
              formula="d 2**x = 2**x log(2) dx")
expm1 = _unary("expm1", np.expm1, math.expm1, lambda x, a: exp(x), complex=True,
               formula="d expm1(x) = exp(x) dx")
# log(-0.0) is log(0.0) = -inf: + 0.0 turns -0.0 into +0.0 (every other value unchanged), so that
# log'(0) = +inf from the only side of the domain, as sqrt'(0) (it was -inf at -0.0)
log = _unary("log", np.log, math.log, lambda x, a: 1.0 / (x + 0.0), domain=(0.1, 5.0), complex=True,
             safe=True, formula="d log(x) = dx / x")
log2 = _unary("log2", np.log2, math.log2, lambda x, a: 1.0 / ((x + 0.0) * _LN2), domain=(0.1, 5.0),
              complex=True, safe=True, formula="d log2(x) = dx / (x log 2)")
log10 = _unary("log10", np.log10, math.log10, lambda x, a: 1.0 / ((x + 0.0) * _LN10),
               domain=(0.1, 5.0), complex=True, safe=True, formula="d log10(x) = dx / (x log 10)")
log1p = _unary("log1p", np.log1p, math.log1p, lambda x, a: 1.0 / (1.0 + x), domain=(-0.9, 5.0),
               complex=True, safe=True, formula="d log1p(x) = dx / (1 + x)")
logaddexp = _binary("logaddexp", np.logaddexp, None,
                    lambda x, y, a: _share(x, y, 1.0), lambda x, y, a: _share(y, x, 1.0),
                    formula="d log(e**x + e**y) = e**(x-a) dx + e**(y-a) dy")
logaddexp2 = _binary("logaddexp2", np.logaddexp2, None,
                     lambda x, y, a: _share(x, y, _LN2), lambda x, y, a: _share(y, x, _LN2),
                     formula="d log2(2**x + 2**y) = 2**(x-a) dx + 2**(y-a) dy")
def _cbrt_partial(x: Any, a: Any) -> Any:
    if _nested_at(x, _is_zero, _CBRT_CHAIN):
        return _CBRT_CHAIN.function(x)
    return 1.0 / (3.0 * a * a)


def _is_zero(x: Any) -> Any:
    return x == 0


def _cbrt_d2(x: Any) -> Any:
    # -2/9 x**(-5/3): +inf from the left of 0, -inf from the right, so NaN at 0
    c = cbrt(x)
    return where(x == 0, np.nan, -2.0 / (9.0 * x * c * c))


def _cbrt_d3(x: Any) -> Any:
    c = cbrt(x)
    return 10.0 / (27.0 * (x * x) * (c * c))  # +inf at 0, from either side


def _cbrt_d4(x: Any) -> Any:
    c = cbrt(x)
    return -80.0 / (81.0 * (x * x * x) * (c * c))


# the derivatives of cbrt's partial 1/(3 cbrt(x)²), for nested derivatives at 0
_CBRT_CHAIN: Rule | None = None

# sqrt(-0.0) is -0.0, and 0.5 / (a + 0.0) turns it into +0.0 (every other value unchanged), so
# that sqrt'(0) = +inf from either side, as the convention says.
sqrt = _unary("sqrt", np.sqrt, math.sqrt, lambda x, a: 0.5 / (a + 0.0), domain=(0.05, 5.0),
              complex=True, safe=True, formula="d sqrt(x) = dx / (2 sqrt(x)); inf at 0")
cbrt = _unary("cbrt", np.cbrt, getattr(math, "cbrt", None), _cbrt_partial,
              domain=(-5.0, 5.0), safe=True, formula="d cbrt(x) = dx / (3 cbrt(x)**2); inf at 0")

_CBRT_CHAIN = _derivative_chain(
    "cbrt", lambda x: 1.0 / (3.0 * cbrt(x) * cbrt(x)), _cbrt_d2, _cbrt_d3, _cbrt_d4
)

# ---------------------------------------------------------------------------------------------
# Trigonometric and hyperbolic
# ---------------------------------------------------------------------------------------------

sin = _unary("sin", np.sin, math.sin, lambda x, a: cos(x), complex=True,
             formula="d sin(x) = cos(x) dx")
cos = _unary("cos", np.cos, math.cos, lambda x, a: -sin(x), complex=True,
             formula="d cos(x) = -sin(x) dx")
tan = _unary("tan", np.tan, math.tan, _tan_partial, domain=(-1.4, 1.4),
             complex=True, formula="d tan(x) = (1 + tan(x)**2) dx")
def on_branch(root: Any, like: Any) -> Any:
    """``root`` (a square root an inverse function's derivative divides by), turned to the sign
    of ``like``, a value on NumPy's branch (``cos(arcsin z)``, ``sinh(arccosh z)``).

    On a cut along the real axis NumPy's value is the side the zero's sign names:
    ``arcsin(1.5 + 0j)`` is the upper side's ``π/2 + 0.96j``, with derivative ``+0.89j``, where
    ``1/sqrt(1 - z²)`` gave ``-0.89j`` (``-0.0`` is lost in ``1 - z²`` and in arccosh's
    ``z + 1``). The size stays the root's, which keeps its digits where ``like`` rounds (near
    ±1)."""
    return where((root * conjugate(like)).real < 0, -root, root)


def _arcsin_root(x: Any, a: Any, side: Callable[[Any], Any]) -> Any:
    """``sqrt(1 - x²)``; for complex ``x`` on the branch of ``side(a)`` (``cos`` of arcsin's
    value, ``sin`` of arccos's)."""
    root = sqrt(1.0 - x * x)
    return on_branch(root, side(a)) if is_complex(x) else root


arcsin = _unary("arcsin", np.arcsin, math.asin, lambda x, a: 1.0 / _arcsin_root(x, a, cos),
                domain=(-0.95, 0.95), complex=True, safe=True,
                formula="d arcsin(x) = dx / sqrt(1 - x**2)")
arccos = _unary("arccos", np.arccos, math.acos, lambda x, a: -1.0 / _arcsin_root(x, a, sin),
                domain=(-0.95, 0.95), complex=True, safe=True,
                formula="d arccos(x) = -dx / sqrt(1 - x**2)")
arctan = _unary("arctan", np.arctan, math.atan, lambda x, a: 1.0 / (1.0 + x * x),
                complex=True, formula="d arctan(x) = dx / (1 + x**2)")
def _over_squared_radius(n: Any, y: Any, x: Any) -> Any:
    """``n / (x² + y²)`` as ``n / r / r`` with ``r = hypot(x, y)``: ``x² + y²`` underflows to 0
    at 1e-300 (arctan2'(1e-300, 1e-300) came out 0.0, for 5e299) and overflows at 1e200; 0 at
    the origin (the convention)."""
    r = hypot(y, x)
    return safe_divide(safe_divide(n, r), r)


arctan2 = _binary("arctan2", np.arctan2, math.atan2,
                  lambda y, x, a: _over_squared_radius(x, y, x),
                  lambda y, x, a: _over_squared_radius(-y, y, x),
                  domain=((-3.0, 3.0), (0.3, 3.0)),
                  formula="d arctan2(y, x) = (x dy - y dx) / (x**2 + y**2); 0 at the origin")
def _hypot_partial(x: Any, y: Any, a: Any) -> Any:
    """``x / hypot(x, y)``, 0 at the origin. On duals (a nested derivative) as
    ``sign(x)/hypot(1, y/x)`` where ``|x| >= |y|``, else ``sign(y) t/hypot(1, t)``, ``t = x/y``:
    the derivative of ``x/h``, ``(1 - (x/h)²)/h``, cancels where ``|x| >> |y|`` (hypot(x, 1)''
    came out 0.0 at 1e8, for 1e-24), and these forms' do not."""
    if not is_dual(x) and not is_dual(y):
        return safe_divide(x, a)
    xv, yv = plain_value(x), plain_value(y)
    big = abs(xv) >= abs(yv)
    if not _is_array(big):
        if big:
            if xv == 0:
                return 0.0
            return (1.0 if xv > 0 else -1.0) / hypot(1.0, y / x)
        t = x / y
        return (t if yv > 0 else -t) / hypot(1.0, t)
    origin = (xv == 0) & (yv == 0)
    t = where(big, y, x) / where(origin, 1.0, where(big, x, y))
    g = 1.0 / hypot(1.0, t)
    return where(big, np.sign(xv) * g, (np.sign(yv) * t) * g)


hypot = _binary("hypot", np.hypot, math.hypot,
                _hypot_partial, lambda x, y, a: _hypot_partial(y, x, a),
                formula="d hypot(x, y) = (x dx + y dy) / hypot(x, y); 0 at the origin")
sinh = _unary("sinh", np.sinh, math.sinh, lambda x, a: cosh(x), complex=True,
              formula="d sinh(x) = cosh(x) dx")
cosh = _unary("cosh", np.cosh, math.cosh, lambda x, a: sinh(x), complex=True,
              formula="d cosh(x) = sinh(x) dx")
tanh = _unary("tanh", np.tanh, math.tanh, _tanh_partial, complex=True,
              formula="d tanh(x) = (1 - tanh(x)**2) dx")
arcsinh = _unary("arcsinh", np.arcsinh, math.asinh, lambda x, a: 1.0 / sqrt(x * x + 1.0),
                 complex=True, formula="d arcsinh(x) = dx / sqrt(x**2 + 1)")
# sqrt(x - 1) sqrt(x + 1), not sqrt(x**2 - 1): the two differ in sign for complex x with
# Re(x) < 0, and NumPy's branch of arccosh has the former's derivative
def _arccosh_root(x: Any, a: Any) -> Any:
    """``sqrt(x - 1) sqrt(x + 1)``; for complex ``x`` on the branch of ``sinh(a)``."""
    root = sqrt(x - 1.0) * sqrt(x + 1.0)
    return on_branch(root, sinh(a)) if is_complex(x) else root


def _arccosh_partial(x: Any, a: Any) -> Any:
    if _nested_at(x, _is_one, _ARCCOSH_CHAIN) and not is_complex(x):
        return _ARCCOSH_CHAIN.function(x)
    return 1.0 / _arccosh_root(x, a)


def _is_one(x: Any) -> Any:
    return x == 1


def _arccosh_d2(x: Any) -> Any:
    r = sqrt(x - 1.0) * sqrt(x + 1.0)  # -inf at 1 (from the right: arccosh's domain)
    return -x / (r * r * r)


def _arccosh_d3(x: Any) -> Any:
    r = sqrt(x - 1.0) * sqrt(x + 1.0)  # +inf at 1
    r2 = r * r
    return (2.0 * x * x + 1.0) / (r2 * r2 * r)


def _arccosh_d4(x: Any) -> Any:
    r = sqrt(x - 1.0) * sqrt(x + 1.0)
    r2 = r * r
    return -(6.0 * x * x * x + 9.0 * x) / (r2 * r2 * r2 * r)


# the derivatives of arccosh's partial, for nested derivatives at 1 (real: from the right)
_ARCCOSH_CHAIN = _derivative_chain(
    "arccosh",
    lambda x: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)),
    _arccosh_d2,
    _arccosh_d3,
    _arccosh_d4,
)

arccosh = _unary("arccosh", np.arccosh, math.acosh, _arccosh_partial,
                 domain=(1.05, 5.0), complex=True, safe=True,
                 formula="d arccosh(x) = dx / (sqrt(x - 1) sqrt(x + 1))")
arctanh = _unary("arctanh", np.arctanh, math.atanh, lambda x, a: 1.0 / (1.0 - x * x),
                 domain=(-0.95, 0.95), complex=True, safe=True,
                 formula="d arctanh(x) = dx / (1 - x**2)")
deg2rad = _unary("deg2rad", np.deg2rad, math.radians, _RAD, domain=(-300.0, 300.0),
                 aliases=("radians",), formula="d deg2rad(x) = (pi/180) dx")
rad2deg = _unary("rad2deg", np.rad2deg, math.degrees, _DEG,
                 aliases=("degrees",), formula="d rad2deg(x) = (180/pi) dx")

# ---------------------------------------------------------------------------------------------
# Kinks, selections and piecewise-constant functions
# ---------------------------------------------------------------------------------------------

absolute = _unary("absolute", np.absolute, abs, jvp=_abs_jvp, complex=True,
                  formula="d|x| = sign(x) dx, 0 at x = 0; complex: Re(conj(z) dz)/|z|")
fabs = _unary("fabs", np.fabs, math.fabs, jvp=_abs_jvp, formula="as absolute, real only")
sign = _unary("sign", np.sign, _sign_real, jvp=_sign_jvp,
              formula="0 (piecewise constant); complex z/|z| moves on the unit circle")
conjugate = _unary("conjugate", np.conjugate, lambda x: x, jvp=lambda x, t, a: t.conjugate(),
                   complex=True, aliases=("conj",), formula="d conj(z) = conj(dz)")
maximum = _binary("maximum", np.maximum, _max_real,
                  lambda x, y, a: _tie_share(x, y), lambda x, y, a: _tie_share(y, x),
                  formula="dx where x > y, dy where y > x, (dx + dy)/2 at a tie", select=True)
minimum = _binary("minimum", np.minimum, _min_real,
                  lambda x, y, a: _tie_share(y, x), lambda x, y, a: _tie_share(x, y),
                  formula="dx where x < y, dy where y < x, (dx + dy)/2 at a tie", select=True)
fmax = _binary("fmax", np.fmax, _fmax_real,
               lambda x, y, a: _fmax_share(x, y), lambda x, y, a: _fmax_share(y, x),
               formula="as maximum, a NaN argument is ignored", select=True)
fmin = _binary("fmin", np.fmin, _fmin_real,
               lambda x, y, a: _fmin_share(x, y), lambda x, y, a: _fmin_share(y, x),
               formula="as minimum, a NaN argument is ignored", select=True)
copysign = _binary("copysign", np.copysign, math.copysign, _copysign_dx, None,
                   formula="d copysign(x, y) = sign(x) sign(y) dx; 0 at x = 0")
floor = _unary("floor", np.floor, lambda x: float(math.floor(x)), zero=True,
               formula="0 (piecewise constant)")
ceil = _unary("ceil", np.ceil, lambda x: float(math.ceil(x)), zero=True,
              formula="0 (piecewise constant)")
trunc = _unary("trunc", np.trunc, lambda x: float(math.trunc(x)), zero=True,
               formula="0 (piecewise constant)")
rint = _unary("rint", np.rint, lambda x: float(round(x)), zero=True,
              formula="0 (piecewise constant)")
heaviside = _binary("heaviside", np.heaviside, _heaviside_real, None, _heaviside_dh,
                    formula="0 in x (piecewise constant); dh where x = 0 (the value is h there)",
                    select=True)
ldexp = _binary("ldexp", np.ldexp, None, lambda x, i, a: exp2(1.0 * i), None,
                formula="d ldexp(x, i) = 2**i dx (i is an integer)")

# ---------------------------------------------------------------------------------------------
# Functions users reach for that NumPy lacks as ufuncs
# ---------------------------------------------------------------------------------------------

def _sigmoid_partial(x: Any, a: Any) -> Any:
    # a (1 - a) loses 1 - a where a is near 1: a relative error of about eps e**x (1e-7 at
    # x = 20), and 0.0 from x = 37 on, where the derivative is e**-x. There 1 - a = a e**-x.
    # For a plain array, e/(1 + e)² with e = e**-|x| is exact on both sides in fewer passes
    # (the kink of |x| at 0 would show in a nested derivative, so duals take the branches).
    if type(x) is np.ndarray:
        e = np.exp(-np.abs(x))
        return e / ((1.0 + e) * (1.0 + e))
    if type(x) is float:  # the scalar hot path: no dispatch for the exponential
        return a * (a * math.exp(-x)) if x > 0 else a * (1.0 - a)
    if is_dual(x):
        # a nested derivative: sech²(x/2)/4 = tanh'(x/2)/4, whose own derivative keeps its
        # digits near 0, where a(1 - a)'s, a'(1 - 2a), cancelled (6e-9 of sigmoid'' at 1e-8)
        h = 0.5 * x
        return 0.25 * _tanh_partial(h, tanh(h))
    if not _is_array(x):
        return a * (a * exp(-x)) if x > 0 else a * (1.0 - a)
    return where(x > 0, a * (a * exp(-absolute(x))), a * (1.0 - a))


sigmoid = _unary("sigmoid", None, _sigmoid_real, _sigmoid_partial,
                 array=_sigmoid_array, domain=(-8.0, 8.0),
                 formula="d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx")
softplus = _unary("softplus", None, _softplus_real, lambda x, a: sigmoid(x),
                  array=_softplus_array, domain=(-8.0, 8.0),
                  formula="d log(1 + e**x) = sigmoid(x) dx")
logit = _unary("logit", None, lambda x: math.log(x) - math.log1p(-x),
               lambda x, a: 1.0 / ((x + 0.0) * (1.0 - x)), array=_logit_array, domain=(0.05, 0.95),
               safe=True, formula="d log(x/(1-x)) = dx / (x (1 - x))")
sinc = _unary("sinc", None, _sinc_real, _sinc_partial, array=np.sinc, domain=(-3.0, 3.0),
              formula="d sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) dx / x, 0 at x = 0")
xlogy = _binary("xlogy", None, _xlogy_real, lambda x, y, a: log(integer_in_float64(y)),
                lambda x, y, a: x / y,
                array=_xlogy_array, domain=((-3.0, 3.0), (0.2, 3.0)), safe=True,
                formula="d x log(y) = log(y) dx + (x/y) dy; the value is 0 at x = 0")
xlog1py = _binary("xlog1py", None, _xlog1py_real, lambda x, y, a: log1p(integer_in_float64(y)),
                  lambda x, y, a: x / (1.0 + y), array=_xlog1py_array,
                  domain=((-3.0, 3.0), (-0.8, 3.0)), safe=True,
                  formula="d x log1p(y) = log1p(y) dx + x/(1+y) dy; the value is 0 at x = 0")
# fmt: on


# ---------------------------------------------------------------------------------------------
# Ufuncs of two outputs: each output a rule of the table
# ---------------------------------------------------------------------------------------------


def _plain_at_shape(x: Any) -> Any:
    """The plain values under every dual layer, at ``x``'s full shape (a Taylor series' value
    may be a broadcast scalar)."""
    value = plain_value(x)
    shape = getattr(x, "shape", ())
    return np.broadcast_to(value, shape) if np.shape(value) != shape else value


def _modf(x: Any) -> tuple[Any, Any]:
    whole = trunc(x)
    return x - whole, whole


def _divmod(x: Any, y: Any) -> tuple[Any, Any]:
    return floor_divide(x, y), remainder(x, y)


def _frexp(x: Any) -> tuple[Any, Any]:
    exponent = np.frexp(_plain_at_shape(x))[1]  # piecewise constant: no derivative
    return x * np.ldexp(1.0, -exponent), exponent


MULTI_OUTPUT_UFUNCS: Mapping[np.ufunc, Callable[..., tuple[Any, Any]]] = types.MappingProxyType(
    {np.modf: _modf, np.divmod: _divmod, np.frexp: _frexp}
)
"""``np.modf``, ``np.divmod`` and ``np.frexp`` on duals, each output through rules of the table
(``modf = (x - trunc(x), trunc(x))``, ...): every carrier applies them so."""
