"""Numeric derivatives by finite differences, complex step and Richardson extrapolation.

These are the independent reference that AD is checked against (``dualdiff.compare``); dualdiff
never falls back to them. Every method estimates the derivative of ``t -> f(x + t·e)`` at
``t = 0`` from a stencil of evaluations, and its default step balances the method's truncation
error against round-off, relative to the size of each input (``max(1, |x|)``):

============  =======================================  ===================  ==================
method        formula (n = 1)                          truncation error     default step
============  =======================================  ===================  ==================
forward       ``(f(x+h) - f(x)) / h``                  ``O(h)``             ``eps^(1/(n+1))``
backward      ``(f(x) - f(x-h)) / h``                  ``O(h)``             ``eps^(1/(n+1))``
central       ``(f(x+h) - f(x-h)) / 2h``               ``O(h²)``            ``eps^(1/(n+2))``
complex       ``Im f(x+ih) / h`` (no subtraction)      ``O(h²)``            ``eps``
richardson    central differences at ``h0/2^k``,       ``O(h^(2k+2))``      ``h0 = 2^-3``
              extrapolated to ``h -> 0``
============  =======================================  ===================  ==================

(each default step times ``max(1, |x|)``, which assumes ``f`` varies on the scale of ``x``; for
``f`` that oscillates faster, such as ``sin`` at ``x = 1e6``, pass ``step``). Orders ``n > 1``
use the exact finite-difference weights of the one-sided (forward/backward) or symmetric
(central/richardson) stencil; the complex step gives first derivatives of functions analytic in
``x`` only.

Richardson extrapolation also estimates its own error. ``derivative`` and ``jacobian`` return the
derivative alone by default; with ``full_output=True`` they return an :class:`Estimate` whose
``error`` holds that estimate (``None`` for the other methods) and whose ``step`` holds the steps.

Examples
--------
>>> from dualdiff import numeric
>>> print(f"{numeric.derivative(np.sin, 0.5):.10f}")  # central differences: cos(0.5)
0.8775825619
>>> numeric.derivative(np.sin, 0.5, method="complex") == np.cos(0.5)
np.True_
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

from .core import errors

__all__ = ["METHODS", "Estimate", "derivative", "jacobian"]

METHODS = ("forward", "backward", "central", "complex", "richardson")
"""The numeric methods, in order of increasing accuracy on smooth functions."""

EPS = float(np.finfo(float).eps)

# Richardson: the step shrinks by RATIO per level, from RICHARDSON_STEP·max(1, |x|) down to about
# the central step; LEVELS levels cost 2·LEVELS calls for n = 1. At most COLUMNS extrapolations.
RATIO = 2.0
LEVELS = 16
COLUMNS = 6
RICHARDSON_STEP = 2.0**-3


@dataclass(frozen=True, eq=False)
class Estimate:
    """A numeric derivative with how it was obtained; returned with ``full_output=True``.

    Attributes
    ----------
    value : number or ndarray
        The derivative (or Jacobian).
    error : number, ndarray or None
        Richardson's error estimate of each entry (``None`` for the methods that give none).
    step : number or ndarray
        The step used for each input (for Richardson the largest, first step).
    method : str
        The method.
    n : int
        The order.

    Examples
    --------
    >>> from dualdiff import numeric
    >>> est = numeric.derivative(np.exp, 1.0, method="richardson", full_output=True)
    >>> print(f"{est.value:.12f}", est.error < 1e-10, est.step)
    2.718281828459 True 0.125
    """

    value: Any
    error: Any
    step: Any
    method: str
    n: int = 1


# ---------------------------------------------------------------------------------------------
# Stencils
# ---------------------------------------------------------------------------------------------


@cache
def stencil(method: str, n: int) -> tuple[tuple[int, float], ...]:
    """``((offset, weight), ...)`` with ``f^(n)(x) ≈ Σ weight·f(x + offset·h) / h^n``.

    The weights solve ``Σ_k w_k k^m = m!·[m = n]`` for ``m = 0 .. len(offsets) - 1`` exactly in
    rational arithmetic; zero weights are dropped so they cost no evaluation.
    """
    if method == "forward":
        offsets = list(range(0, n + 1))
    elif method == "backward":
        offsets = list(range(-n, 1))
    else:
        p = (n + 1) // 2
        offsets = list(range(-p, p + 1))
    size = len(offsets)
    rows = [[Fraction(k) ** m for k in offsets] for m in range(size)]
    rhs = [Fraction(math.factorial(n) if m == n else 0) for m in range(size)]
    weights = _solve(rows, rhs)
    return tuple((k, float(w)) for k, w in zip(offsets, weights) if w != 0)


def _solve(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """``A X = B`` order by order: ``A_0 X_k = B_k - Σ_{j=1..k} A_j X_{k-j}``."""
    size = len(b)
    a = [row[:] + [rhs] for row, rhs in zip(a, b)]
    for col in range(size):
        pivot = next(r for r in range(col, size) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(size):
            if r != col and a[r][col] != 0:
                factor = a[r][col] / a[col][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col])]
    return [a[i][size] / a[i][i] for i in range(size)]


def default_step(method: str, n: int = 1) -> float:
    """The step of ``method`` for an input of size 1, from its error model.

    Truncation ``h^p`` against round-off ``eps/h^n`` is balanced at ``h = eps^(1/(n+p))``: ``p = 1``
    for one-sided differences and ``p = 2`` for central ones. The complex step has no round-off
    from subtraction, so its step only has to be small. Richardson starts from a large step.
    """
    if method in ("forward", "backward"):
        return EPS ** (1.0 / (n + 1))
    if method == "central":
        return EPS ** (1.0 / (n + 2))
    if method == "complex":
        return EPS
    return RICHARDSON_STEP


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def _check_method(method: Any, n: int, api: str) -> str:
    if not isinstance(method, str):
        raise TypeError(f"{api}: method must be a string, got {errors.type_name(method)}")
    if method not in METHODS:
        raise ValueError(f"{api}: unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "complex" and n != 1:
        raise ValueError(
            f"{api}: the complex step gives first derivatives only (n = 1), got n = {n}; use "
            "method='central' or 'richardson' for higher orders"
        )
    return method


def _as_point(x: Any, api: str, method: str) -> np.ndarray:
    """``x`` as a float or complex array; rejects non-numbers, non-finite entries and bools."""
    if isinstance(x, (str, bytes)) or x is None or isinstance(x, bool):
        raise TypeError(
            f"{api}: x must be a number or an array of numbers, got {errors.type_name(x)}"
        )
    errors.check_plain_array(x, api)
    try:
        arr = np.asarray(x)
    except TypeError as exc:
        raise TypeError(f"{api}: x must be a plain number or array ({exc})") from exc
    if arr.dtype.kind not in "iufc":
        raise TypeError(
            f"{api}: x must be a number or an array of numbers, got {errors.type_name(x)} "
            f"of dtype {arr.dtype}"
        )
    arr = arr.astype(np.result_type(arr.dtype, float))
    if not np.isfinite(arr).all():
        raise ValueError(f"{api}: x must be finite, got {x!r}")
    if method == "complex" and arr.dtype.kind == "c":
        raise ValueError(
            f"{api}: the complex step needs a real x (it perturbs x along the imaginary axis); "
            "use method='central' for complex x"
        )
    return arr


def _steps(step: Any, x: np.ndarray, method: str, n: int, api: str) -> np.ndarray:
    """The step for every entry of ``x``: the method's default relative to ``max(1, |x|)``, or
    the user's absolute step broadcast to ``x``'s shape."""
    if step is None:
        return default_step(method, n) * np.maximum(1.0, np.abs(x))
    if isinstance(step, (str, bytes, bool)) or step is None:
        raise TypeError(
            f"{api}: step must be a positive number or array, got {errors.type_name(step)}"
        )
    h = np.asarray(step)
    if h.dtype.kind not in "iuf":
        raise TypeError(f"{api}: step must be a real positive number or array, got dtype {h.dtype}")
    if not (np.isfinite(h).all() and (h > 0).all()):
        raise ValueError(f"{api}: step must be positive and finite, got {step!r}")
    try:
        return np.broadcast_to(h.astype(float), x.shape).copy()
    except ValueError:
        raise ValueError(
            f"{api}: step of shape {h.shape} does not broadcast to x of shape {x.shape}"
        ) from None


def _exact(x: np.ndarray, h: np.ndarray, api: str) -> np.ndarray:
    """The step actually taken, ``(x + h) - x``: exactly representable, so the only error left
    in ``f(x + h)`` is f's own. Raises when ``h`` is too small to change ``x``."""
    if x.dtype.kind == "c":
        taken = ((x.real + h) - x.real).astype(float)
    else:
        taken = (x + h) - x
    if not (taken > 0).all():
        raise ValueError(f"{api}: step {h!r} is too small to change x = {x!r}")
    return taken


def _check_power(h: np.ndarray, n: int, api: str) -> None:
    """Refuse a step whose ``n``-th power, the stencil's divisor, leaves the float64 range: a
    Python float raises a bare ``OverflowError`` there and an array gives ``inf``, and with it
    a derivative of 0 that no difference supports. (Richardson's finer steps may still
    underflow; those rows are not finite and are never chosen.)"""
    with np.errstate(all="ignore"):
        power = np.power(h, float(n))
    if (np.isfinite(power) & (power > 0)).all():
        return
    over = not np.isfinite(power).all()
    worst, what, need = (
        (np.max(h), "overflows", "smaller") if over else (np.min(h), "underflows", "larger")
    )
    raise OverflowError(
        f"{api}: the step h = {float(worst):.3g} raised to the order n = {n} {what} float64; "
        f"differences of order {n} need a {need} step (pass step=...)"
    )


def _output(y: Any, api: str) -> np.ndarray:
    """``f``'s result as a float or complex array; TypeError for what holds no number."""
    if y is None:
        raise TypeError(f"{api}: f returned None (did f forget a return statement?)")
    try:
        arr = np.asarray(y)
    except ValueError:  # NumPy's "inhomogeneous shape" named neither f nor what it returned
        raise ValueError(
            f"{api}: f returned a {type(y).__name__} of outputs of different shapes; numeric "
            "differences take one array (a tuple or list of outputs is stacked, so they must "
            "have one shape)"
        ) from None
    if arr.dtype.kind not in "iufc":
        raise TypeError(
            f"{api}: f must return a number or an array of numbers, got {errors.type_name(y)}"
            + (f" of dtype {arr.dtype}" if isinstance(y, np.ndarray) else "")
        )
    return arr.astype(np.result_type(arr.dtype, float))


def _caller(f: Callable[..., Any], x: np.ndarray, api: str, method: str) -> Callable[..., Any]:
    """``t -> f(x + t)`` with scalars passed as Python numbers (so ``math`` functions work)."""
    scalar = x.ndim == 0

    def call(t: Any) -> np.ndarray:
        point = np.asarray(x + t).item() if scalar else x + t
        try:
            y = f(point)
        except TypeError as exc:
            if method == "complex":
                raise TypeError(
                    f"{api}: f failed on the complex input of the complex step ({exc}); write f "
                    "with numpy functions, or choose method='central'"
                ) from exc
            raise
        return _output(y, api)

    return call


# ---------------------------------------------------------------------------------------------
# The estimators: the n-th derivative of g(t) = f(x + t·e) at t = 0 with step h
# ---------------------------------------------------------------------------------------------


def _apply_stencil(
    g: Callable[[Any], np.ndarray], h: Any, method: str, n: int, gx: np.ndarray
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The stencil estimate ``Σ w_k g(k h) / h^n`` and the values ``{k: g(k h)}`` it used."""
    total = 0.0
    points = {}
    for k, w in stencil(method, n):
        points[k] = y = gx if k == 0 else g(k * h)
        total = total + w * y
    return total / h**n, points


def _roundoff(points: dict[int, np.ndarray], h: Any, n: int, size: Any) -> np.ndarray:
    """A bound on the round-off of a central estimate from ``points``.

    Two sources: each value ``g(k h)`` is off by ``eps·|g(k h)|``, and each point ``x + k h`` by up
    to ``eps·|x|`` (``size``), which moves ``g`` by ``eps·|x|·|g'|``; both scale with the weights
    over ``h^n``. ``|g'|`` comes from the outermost pair of points.
    """
    values = 0.0
    weights = 0.0
    for k, w in stencil("central", n):
        values = values + abs(w) * np.abs(points[k])
        weights += abs(w)
    p = max(points)
    slope = np.abs(points[p] - points[-p]) / (2 * p * h)
    return EPS * (values + size * slope * weights) / h**n


def _complex_step(g: Callable[[Any], np.ndarray], h: Any, gx: np.ndarray, api: str) -> np.ndarray:
    if gx.dtype.kind == "c":
        raise ValueError(
            f"{api}: the complex step needs f to be real for real x, but f(x) is complex; "
            "choose method='central'"
        )
    y = g(1j * h)
    if y.dtype.kind != "c":
        raise ValueError(
            f"{api}: f returned a real result for the complex input x + ih, so the complex step "
            "cannot see the derivative (f is not analytic, or it drops the imaginary part, e.g. "
            "through abs, real or float); choose method='central'"
        )
    return y.imag / h


def _richardson(
    g: Callable[[Any], np.ndarray], h0: Any, n: int, gx: np.ndarray, size: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences at ``h0, h0/2, h0/4, ...`` extrapolated in a Neville tableau.

    The central estimate ``D(h) = f^(n) + c1 h² + c2 h⁴ + ...`` has an even error series, so
    ``T[i][j] = T[i][j-1] + (T[i][j-1] - T[i-1][j-1]) / (4^j - 1)`` removes one more term per
    column. An entry's error is estimated by how far it lies from its two parents and from the
    same column one step finer, plus the round-off of its row; each entry of the result takes the
    tableau entry whose estimate is smallest, with that estimate.
    """
    rows: list[list[np.ndarray]] = []
    roundoffs = []
    with np.errstate(all="ignore"):
        for i in range(LEVELS):
            h = h0 / RATIO**i
            first, points = _apply_stencil(g, h, "central", n, gx)
            roundoff = _roundoff(points, h, n, size)
            row = [first]
            for j in range(1, min(i, COLUMNS) + 1):
                factor = RATIO ** (2 * j)
                row.append(row[j - 1] + (row[j - 1] - rows[i - 1][j - 1]) / (factor - 1.0))
            rows.append(row)
            roundoffs.append(roundoff)
        best = best_error = None
        for i in range(1, LEVELS - 1):
            for j in range(1, min(i, COLUMNS) + 1):
                entry = rows[i][j]
                moved = np.maximum.reduce(
                    [
                        np.abs(entry - rows[i][j - 1]),
                        np.abs(entry - rows[i - 1][j - 1]),
                        np.abs(rows[i + 1][j] - entry),
                    ]
                )
                error = moved + roundoffs[i]
                error = np.where(np.isfinite(error) & np.isfinite(entry), error, np.inf)
                if best is None:
                    best, best_error = entry, error
                else:
                    better = error < best_error
                    best = np.where(better, entry, best)
                    best_error = np.where(better, error, best_error)
    return best, best_error


def _estimate(
    g: Callable[[Any], np.ndarray],
    h: Any,
    method: str,
    n: int,
    gx: np.ndarray,
    size: Any,
    api: str,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(derivative, error estimate or None)`` of ``g`` at 0 by ``method`` with step ``h``;
    ``size`` is ``|x|`` (for the round-off of the perturbed points)."""
    if method == "complex":
        return _complex_step(g, h, gx, api), None
    if method == "richardson":
        return _richardson(g, h, n, gx, size)
    return _apply_stencil(g, h, method, n, gx)[0], None


def _finish(value: np.ndarray) -> Any:
    """A 0-d result as a NumPy scalar (a ``float`` for real results), others unchanged."""
    return value[()] if value.ndim == 0 else value


# ---------------------------------------------------------------------------------------------
# The public verbs
# ---------------------------------------------------------------------------------------------


def derivative(
    f: Callable[..., Any],
    x: Any,
    n: int = 1,
    method: str = "central",
    step: Any = None,
    full_output: bool = False,
) -> Any:
    """The ``n``-th derivative of ``f`` at ``x`` by numeric differences.

    The reference that AD is checked against; see the module's table for the methods, their
    truncation errors and default steps.

    Parameters
    ----------
    f : callable
        ``f(x)``.
    x : number or array_like
        The point. For an array ``x`` the derivative is elementwise, as in
        ``scipy.differentiate.derivative``: ``f`` must act entry by entry and return an array of
        ``x``'s shape, and entry ``i`` of the result is ``d f(x)[i] / d x[i]`` (use :func:`jacobian`
        for a function of a whole vector). For a scalar ``x`` ``f`` may return an array,
        differentiated entry by entry.
    n : int, optional
        The order (default 1).
    method : str, optional
        One of :data:`METHODS`: ``"forward"``, ``"backward"``, ``"central"`` (default),
        ``"complex"`` (first derivatives of analytic ``f`` only) or ``"richardson"``.
    step : float or array_like, optional
        An absolute step (broadcasting to ``x``); by default the method's optimal step relative to
        ``max(1, |x|)``.
    full_output : bool, optional
        Return an :class:`Estimate` (with Richardson's error estimate) instead of the value.

    Returns
    -------
    number, ndarray or Estimate

    See Also
    --------
    dualdiff.derivative : the exact derivative by AD.
    dualdiff.compare : AD against this, entry by entry.

    Examples
    --------
    >>> from dualdiff import numeric
    >>> exact = np.cos(1.0)
    >>> for method in ("forward", "central", "complex", "richardson"):
    ...     error = abs(numeric.derivative(np.sin, 1.0, method=method) - exact)
    ...     print(f"{method:10s} {error < 1e-10} {error < 1e-13}")
    forward    False False
    central    True False
    complex    True True
    richardson True True
    """
    api = "numeric.derivative"
    errors.check_callable(f, api)
    n = errors.check_order(n, api)
    method = _check_method(method, n, api)
    x = _as_point(x, api, method)
    g = _caller(f, x, api, method)
    gx = g(0.0)
    if x.ndim and gx.shape != x.shape:
        raise ValueError(
            f"{api}: for an array x the derivative is elementwise, so f must return an array of "
            f"x's shape {x.shape}, but it returned shape {gx.shape}; use numeric.jacobian for a "
            "function of a whole vector"
        )
    if n == 0:
        return Estimate(_finish(gx), None, None, method, 0) if full_output else _finish(gx)
    h = _steps(step, x, method, n, api)
    if method != "complex":
        h = _exact(x, h, api)
        _check_power(h, n, api)
    h_arg = h.item() if x.ndim == 0 else h
    size = np.abs(x).item() if x.ndim == 0 else np.abs(x)
    value, error = _estimate(g, h_arg, method, n, gx, size, api)
    value = _finish(np.asarray(value))
    if not full_output:
        return value
    error = None if error is None else _finish(np.asarray(error))
    return Estimate(value, error, _finish(h), method, n)


def jacobian(
    f: Callable[..., Any],
    x: Any,
    method: str = "central",
    step: Any = None,
    full_output: bool = False,
) -> Any:
    """The Jacobian of ``f`` at ``x`` by numeric differences, of shape ``f(x).shape + x.shape``.

    Entry ``[i..., j...]`` is ``d f(x)[i...] / d x[j...]``, one column (``x`` perturbed along one
    coordinate) at a time, so ``f`` is called about ``2·x.size`` times for central differences.

    Parameters
    ----------
    f : callable
        ``f(x)``.
    x : array_like
        The point.
    method, step, full_output
        As in :func:`derivative`.

    Returns
    -------
    ndarray or Estimate

    See Also
    --------
    dualdiff.jacobian : the exact Jacobian by AD.

    Examples
    --------
    >>> from dualdiff import numeric
    >>> f = lambda x: np.stack([x[0] * x[1], np.sin(x[0])])
    >>> J = numeric.jacobian(f, np.array([1.0, 2.0]))
    >>> np.round(J, 6)
    array([[2.      , 1.      ],
           [0.540302, 0.      ]])
    """
    api = "numeric.jacobian"
    errors.check_callable(f, api)
    method = _check_method(method, 1, api)
    x = _as_point(x, api, method)
    fx = _caller(f, x, api, method)(0.0)
    if method == "complex" and fx.dtype.kind == "c":
        raise ValueError(
            f"{api}: the complex step needs f to be real for real x, but f(x) is complex; "
            "choose method='central'"
        )
    h = _steps(step, x, method, 1, api)
    if method != "complex":
        h = _exact(x, h, api)
    kind = np.result_type(fx.dtype, x.dtype, float)
    value = np.zeros(fx.shape + x.shape, dtype=kind)
    error = np.zeros(fx.shape + x.shape) if method == "richardson" else None
    where_out = (slice(None),) * fx.ndim
    g = _caller(f, x, api, method)
    for j in np.ndindex(x.shape):
        direction = np.zeros(x.shape)
        direction[j] = 1.0
        column, column_error = _estimate(
            lambda t, g=g, d=direction: _same_shape(g(t * d if d.ndim else t), fx, api),
            h[j].item(),
            method,
            1,
            fx,
            abs(x[j].item()),
            api,
        )
        if column.dtype.kind == "c" and kind.kind != "c":
            value = value.astype(complex)
        value[where_out + j] = column
        if error is not None:
            error[where_out + j] = column_error
    value = _finish(value)
    if not full_output:
        return value
    return Estimate(value, None if error is None else _finish(error), _finish(h), method, 1)


def _same_shape(y: np.ndarray, fx: np.ndarray, api: str) -> np.ndarray:
    if y.shape != fx.shape:
        raise ValueError(
            f"{api}: f returned shape {y.shape} at a perturbed point but {fx.shape} at x; the "
            "output shape must not depend on x"
        )
    return y
