"""Checking AD against numeric differences: ``compare`` sets them side by side, ``check`` asserts.

The AD derivative is exact up to round-off; the numeric one carries the truncation and round-off
error of its method. So agreement is judged per entry as ``|AD - numeric| <= atol + rtol·|AD|``
with a tolerance that fits the method: ``rtol`` from the method's error model, and for entry
``[i, j]`` ``atol = rtol·|f(x)[i]| / max(1, |x[j]|)``, since round-off in a difference is relative
to ``f``, not to its derivative. Richardson adds a multiple of its own error estimate. Where ``f``
and its derivative vanish together (``sin(x) - x`` at 0) no relative tolerance fits: pass ``atol``.

Where an entry disagrees, the one-sided differences are consulted too: if they differ from each
other, ``f`` has a kink there, and an AD value between them is accepted with a note instead of a
blind failure (dualdiff's conventions at kinks, such as ``|x|' = 0`` at 0 and the even split of
``maximum`` at a tie, lie between them).
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import numeric
from ..api import derivative, jacobian
from ..core import errors

__all__ = ["Comparison", "compare", "check", "DEFAULT_RTOL", "ErrorCurve", "error_curve"]

DEFAULT_RTOL = {
    "forward": 1e-5,
    "backward": 1e-5,
    "central": 1e-7,
    "complex": 1e-11,
    "richardson": 1e-9,
}
"""Relative tolerance per method: a few hundred times the error its default step leaves
(``sqrt(eps)`` one-sided, ``eps^(2/3)`` central, ``eps`` complex step)."""

ESTIMATE_FACTOR = 10.0
"""Richardson also accepts an AD value within this multiple of its error estimate."""

MAX_ROWS = 20
"""Rows that ``str(comparison)`` shows; ``comparison.table(None)`` shows every entry."""

OK, KINK, FAIL = "", "kink", "FAIL"


def ad_jacobian(f: Callable[..., Any], x: Any) -> np.ndarray:
    """The AD derivative of ``f`` at ``x`` as an array of shape ``f(x).shape + x.shape``.

    Scalar ``x`` goes through ``dualdiff.derivative``, array ``x`` through
    ``dualdiff.api.jacobian``.
    """
    if np.ndim(x) == 0:
        return np.asarray(derivative(f, np.asarray(x).item()))
    return np.asarray(jacobian(f, x))


def _tolerance(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"compare: {name} must be a real number, got {errors.type_name(value)}")
    value = float(value)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"compare: {name} must be finite and >= 0, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Comparison:
    """AD and numeric derivatives side by side, entry by entry, with the verdict.

    Returned by :func:`compare` and :func:`check`; ``str()`` prints the table.

    Attributes
    ----------
    ok : bool
        Whether every entry agrees (a ``"kink"`` entry counts as agreeing).
    ad, numeric : ndarray
        The two derivatives, shape ``f(x).shape + x.shape``.
    abs_error, rel_error : ndarray
        ``|ad - numeric|``, and that relative to ``|ad|`` (``inf`` where AD is 0 and the numeric
        value is not).
    tolerance : ndarray
        The allowed ``abs_error`` of each entry.
    status : ndarray of str
        ``""`` (agrees), ``"kink"`` (disagrees, but lies between the one-sided differences at a
        kink) or ``"FAIL"``.
    one_sided : tuple of ndarray or None
        The ``(backward, forward)`` differences when they were consulted.
    method, step, rtol, atol
        The settings used.

    Examples
    --------
    At a jump of ``floor`` the central difference is huge, AD's derivative is 0, and 0 lies
    between the one-sided differences (0 and ``1/h``): a kink, not a failure.

    >>> c = dd.compare(np.floor, 0.0)
    >>> c.ok, str(c.status), float(c.ad)
    (True, 'kink', 0.0)
    """

    x: Any
    ad: np.ndarray
    numeric: np.ndarray
    abs_error: np.ndarray
    rel_error: np.ndarray
    tolerance: np.ndarray
    status: np.ndarray
    method: str
    step: Any
    rtol: float
    atol: Any
    default_atol: bool = False
    error_estimate: np.ndarray | None = None
    one_sided: tuple[np.ndarray, np.ndarray] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether every entry agrees (kinks with an AD value between the one-sided differences
        count as agreeing)."""
        return not bool((self.status == FAIL).any())

    @property
    def max_abs_error(self) -> float:
        return float(np.max(self.abs_error, initial=0.0))

    @property
    def max_rel_error(self) -> float:
        return float(np.max(self.rel_error, initial=0.0))

    @property
    def kinks(self) -> list[tuple[int, ...]]:
        """The indices of the entries accepted at a kink."""
        return [tuple(int(i) for i in idx) for idx in np.argwhere(self.status == KINK)]

    def __repr__(self) -> str:
        return (
            f"Comparison(ok={self.ok}, method={self.method!r}, max_abs_error="
            f"{self.max_abs_error:.3g}, max_rel_error={self.max_rel_error:.3g}, "
            f"shape={self.ad.shape})"
        )

    def __str__(self) -> str:
        return self.table(MAX_ROWS)

    # -- presentation ------------------------------------------------------------------------

    def _order(self) -> list[tuple[int, ...]]:
        """Entries worst first: failures, then kinks, then by falling absolute error."""
        rank = {FAIL: 0, KINK: 1, OK: 2}
        indices = list(np.ndindex(self.ad.shape))
        return sorted(indices, key=lambda i: (rank[str(self.status[i])], -self.abs_error[i]))

    def summary(self) -> list[str]:
        """The header lines: verdict, method and tolerances, largest errors."""
        size = self.ad.size
        failed = int((self.status == FAIL).sum())
        kinks = int((self.status == KINK).sum())
        if failed:
            verdict = f"FAILED, {failed} of {size} entries outside tolerance"
        else:
            verdict = "OK, AD and numeric derivatives agree"
            if kinks:
                verdict += f" ({kinks} at a kink)"
        setting = (
            f"method {self.method}, step {_format_step(self.step)}, rtol {self.rtol:.3g}, "
            + ("atol rtol·|f(x)|/max(1, |x|)" if self.default_atol else f"atol {self.atol:.3g}")
        )
        errors_line = (
            f"max abs error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g} "
            f"over {size} {'entry' if size == 1 else 'entries'}"
        )
        x_shape = np.shape(self.x)
        if self.ad.ndim:
            out_shape = self.ad.shape[: self.ad.ndim - len(x_shape)]
            errors_line += f"; an index runs over f(x) shape {out_shape}, then x shape {x_shape}"
        return [f"compare: {verdict} ({setting})", errors_line]

    def rows(self, max_rows: int | None = MAX_ROWS) -> list[tuple[str, ...]]:
        """The table's rows as strings (index, AD, numeric, abs err, rel err, note)."""
        order = self._order()
        if max_rows is not None:
            order = order[:max_rows]
        return [
            (
                _format_index(i),
                _format_number(self.ad[i]),
                _format_number(self.numeric[i]),
                f"{self.abs_error[i]:.2e}",
                f"{self.rel_error[i]:.2e}",
                str(self.status[i]),
            )
            for i in order
        ]

    def table(self, max_rows: int | None = MAX_ROWS) -> str:
        """The aligned table, worst entries first, at most ``max_rows`` rows (None: all)."""
        header = ("index", "AD", "numeric", "abs err", "rel err", "")
        rows = self.rows(max_rows)
        widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
        right = (False, True, True, True, True, False)

        def line(cells: tuple[str, ...]) -> str:
            parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
            return "  ".join(parts).rstrip()

        out = [*self.summary(), line(header)]
        out += [line(r) for r in rows]
        hidden = self.ad.size - len(rows)
        if hidden > 0:
            out.append(
                f"... {hidden} more {'entry' if hidden == 1 else 'entries'} with smaller errors "
                "(comparison.table(None) shows all)"
            )
        out += list(self.notes)
        return "\n".join(out)

    def _repr_html_(self) -> str:
        summary = self.summary()
        colour = "#b00020" if not self.ok else "#1b5e20"
        head = "".join(
            f"<th style='text-align:{a}'>{h}</th>"
            for h, a in zip(
                ("index", "AD", "numeric", "abs err", "rel err", ""),
                ("left", "right", "right", "right", "right", "left"),
            )
        )
        body = []
        for row in self.rows(MAX_ROWS):
            style = " style='color:#b00020'" if row[5] == FAIL else ""
            cells = "".join(
                f"<td style='text-align:{'left' if c in (0, 5) else 'right'}'><code>"
                f"{html.escape(v)}</code></td>"
                for c, v in enumerate(row)
            )
            body.append(f"<tr{style}>{cells}</tr>")
        hidden = self.ad.size - len(body)
        more = f"<p>... {hidden} more entries with smaller errors</p>" if hidden > 0 else ""
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return (
            f"<div><p style='color:{colour}'><b>{html.escape(summary[0])}</b><br>"
            f"{html.escape(summary[1])}</p><table><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(body)}</tbody></table>{more}{notes}</div>"
        )


def _format_index(i: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(k) for k in i) + "]"


def _format_number(v: Any) -> str:
    if isinstance(v, (complex, np.complexfloating)):
        return f"{v.real:.15g}{v.imag:+.15g}j"
    return f"{float(v):.15g}"


def _format_step(step: Any) -> str:
    if step is None or not np.size(step):  # (an empty x has no steps)
        return "-"
    step = np.asarray(step)
    low, high = f"{float(step.min()):.3g}", f"{float(step.max()):.3g}"
    return low if low == high else f"{low} to {high}"


# ---------------------------------------------------------------------------------------------
# The verbs
# ---------------------------------------------------------------------------------------------


def _errors(ad: np.ndarray, num: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``|ad - num|`` and ``|ad - num| / |ad|``, where equal infinities and two NaNs agree."""
    with np.errstate(all="ignore"):
        diff = np.abs(ad - num)
        same = (ad == num) | (np.isnan(ad) & np.isnan(num))
        diff = np.where(same, 0.0, np.where(np.isnan(diff), np.inf, diff))
        size = np.abs(ad)
        rel = np.where(diff == 0, 0.0, np.where(size == 0, np.inf, diff / size))
    return diff.astype(float), rel.astype(float)


def _between(value: np.ndarray, a: np.ndarray, b: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Whether ``value`` lies in ``[min(a, b), max(a, b)]`` widened by ``tol`` (for complex
    values, the real and imaginary parts each)."""
    inside = np.ones(value.shape, bool)
    for part in (np.real, np.imag):
        v, lo, hi = part(value), np.minimum(part(a), part(b)), np.maximum(part(a), part(b))
        inside &= (lo - tol <= v) & (v <= hi + tol)
    return inside


def compare(
    f: Callable[..., Any],
    x: Any,
    *,
    method: str = "central",
    step: Any = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """AD against numeric differences for ``f`` at ``x``, entry by entry.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a number or an array.
    x : number or array_like
        The point.
    method : str, optional
        The numeric method, one of :data:`dualdiff.numeric.METHODS` (default ``"central"``).
    step : float or array_like, optional
        The numeric step; default the method's own (see :mod:`dualdiff.numeric`).
    rtol : float, optional
        The relative tolerance; default the method's: 1e-5 forward/backward, 1e-7 central, 1e-11
        complex, 1e-9 Richardson.
    atol : float, optional
        The absolute tolerance; default ``rtol·|f(x)[i]| / max(1, |x[j]|)`` for entry ``[i, j]``.

    Returns
    -------
    Comparison
        Both derivatives (shape ``f(x).shape + x.shape``), their errors and a verdict per entry;
        ``print`` it for the table.

    See Also
    --------
    check : the same, raising on disagreement (for tests).
    dualdiff.numeric.jacobian : the numeric derivative used.

    Notes
    -----
    At a kink (``abs`` at 0) the central difference averages the one-sided slopes; an entry that
    disagrees but lies between the one-sided differences is marked ``"kink"``, not a failure.

    Examples
    --------
    >>> c = dd.compare(lambda x: np.sin(x) * x, np.array([0.5, 2.0]))
    >>> c.ok, c.ad.shape
    (True, (2, 2))
    >>> print(c)  # doctest: +SKIP
    compare: OK, AD and numeric derivatives agree (method central, step 6.06e-06, ...)
    """
    errors.check_callable(f, "compare")
    rtol = _tolerance(rtol, "rtol")
    atol = _tolerance(atol, "atol")
    point = numeric._as_point(x, "compare", "central")
    x = point.item() if point.ndim == 0 else point
    estimate = numeric.jacobian(f, x, method=method, step=step, full_output=True)
    num = np.asarray(estimate.value)
    ad = ad_jacobian(f, x)
    if ad.shape != num.shape:
        raise ValueError(
            f"compare: the AD derivative has shape {ad.shape} but the numeric one {num.shape}"
        )
    fx = numeric._output(f(x), "compare")
    # Round-off in a difference of f_i along x_j is relative to |f_i| / max(1, |x_j|).
    size = np.maximum(1.0, np.abs(point))
    values = np.where(np.isfinite(fx), np.abs(fx), 0.0)
    scale = values.reshape(fx.shape + (1,) * point.ndim) / size
    scale = np.broadcast_to(scale, ad.shape)
    rtol = DEFAULT_RTOL[method] if rtol is None else rtol
    default_atol = atol is None
    atol = rtol * scale if atol is None else atol

    abs_error, rel_error = _errors(ad, num)
    # an infinite AD value must not widen its own tolerance to infinity
    tolerance = atol + rtol * np.where(np.isfinite(ad), np.abs(ad), 0.0)
    error_estimate = None
    if estimate.error is not None:
        error_estimate = np.asarray(estimate.error)
        tolerance = tolerance + ESTIMATE_FACTOR * np.where(
            np.isfinite(error_estimate), error_estimate, 0.0
        )
    agree = (abs_error <= tolerance) | (ad == num)  # equal infinities agree
    status = np.where(agree, OK, FAIL).astype(object)

    one_sided = None
    notes: list[str] = []
    if (status == FAIL).any():
        with np.errstate(all="ignore"):
            backward = np.asarray(numeric.jacobian(f, x, method="backward"))
            forward = np.asarray(numeric.jacobian(f, x, method="forward"))
        one_sided = (backward, forward)
        side_tol = DEFAULT_RTOL["forward"] * (scale + np.maximum(np.abs(backward), np.abs(forward)))
        # Sides that are not finite (f overflows or leaves its domain there) show no kink.
        sides = np.isfinite(forward) & np.isfinite(backward)
        kink = (status == FAIL) & sides & ~(np.abs(forward - backward) <= side_tol)
        accepted = kink & _between(ad, backward, forward, side_tol)
        status = np.where(accepted, KINK, status).astype(object)
        for i in map(tuple, np.argwhere(kink)):
            verdict = "lies between them: accepted" if accepted[i] else "lies outside them"
            notes.append(
                f"kink at {_format_index(i)}: the one-sided differences disagree (backward "
                f"{_format_number(backward[i])}, forward {_format_number(forward[i])}), so f has "
                f"a kink at x or within a step of it; the AD value {_format_number(ad[i])} "
                f"{verdict}"
            )
        for i in map(tuple, np.argwhere((status == FAIL) & ~np.isfinite(num))):
            notes.append(
                f"unchecked at {_format_index(i)}: the numeric derivative is "
                f"{_format_number(num[i])}, since f overflows or leaves its domain within a step "
                "of x; no numeric difference can check the AD value there"
            )

    return Comparison(
        x=x,
        ad=ad,
        numeric=num,
        abs_error=abs_error,
        rel_error=rel_error,
        tolerance=tolerance,
        status=status,
        method=method,
        step=estimate.step,
        rtol=rtol,
        atol=atol,
        default_atol=default_atol,
        error_estimate=error_estimate,
        one_sided=one_sided,
        notes=tuple(notes),
    )


def check(f: Callable[..., Any], x: Any, **options: Any) -> Comparison:
    """``compare(f, x, **options)`` that raises ``AssertionError`` with the table on disagreement.

    Use it in tests: it passes silently when AD and the numeric derivative agree and fails with the
    entries that do not.

    Parameters
    ----------
    f : callable
        ``f(x)``.
    x : number or array_like
        The point.
    **options
        ``method``, ``step``, ``rtol``, ``atol``, as in :func:`compare`.

    Returns
    -------
    Comparison
        When they agree.

    Raises
    ------
    AssertionError
        With the comparison's table, when an entry is outside the tolerance.

    See Also
    --------
    compare

    Examples
    --------
    A derivative rule of one's own with a mistake (the factor 2 of ``d(x²)`` forgotten):

    >>> @dd.custom_jvp
    ... def square(x):
    ...     return x * x
    >>> @square.defjvp
    ... def square_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return square(x), x * t
    >>> dd.check(square, 1.5)
    Traceback (most recent call last):
        ...
    AssertionError: AD and numeric derivatives disagree
    compare: FAILED, 1 of 1 entries outside tolerance ...
    >>> dd.check(np.sin, 1.5).ok
    True
    """
    comparison = compare(f, x, **options)
    if not comparison.ok:
        raise AssertionError("AD and numeric derivatives disagree\n" + str(comparison))
    return comparison


# ---------------------------------------------------------------------------------------------
# Error against the step: the classic V-shaped curve
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ErrorCurve:
    """The error of numeric methods against the AD derivative as the step varies.

    Returned by :func:`error_curve`; ``str()`` prints the table.

    Attributes
    ----------
    x
        The point.
    steps : ndarray
        The steps.
    reference
        The AD derivative.
    errors : dict of str to ndarray
        ``errors[method][k]``: the largest absolute difference between the numeric derivative with
        step ``steps[k]`` and ``reference`` over all entries; ``nan`` where the numeric derivative
        was not finite.
    relative : dict of str to ndarray
        ``errors`` divided by the largest ``|reference|``.

    Methods
    -------
    best_step(method)
        The step with the smallest error for ``method``.

    Examples
    --------
    >>> curve = dd.error_curve(np.sin, 1.0, methods=("forward", "central"))
    >>> h = curve.best_step("forward")  # near sqrt(eps) = 1.5e-8
    >>> 1e-9 < h < 1e-7
    True
    >>> 1e-7 < curve.best_step("central") < 1e-4  # near eps**(1/3) = 6e-6
    True
    """

    x: Any
    steps: np.ndarray
    reference: Any
    errors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def relative(self) -> dict[str, np.ndarray]:
        scale = float(np.max(np.abs(self.reference))) if np.size(self.reference) else 0.0
        scale = scale if scale > 0 else 1.0
        return {method: error / scale for method, error in self.errors.items()}

    def best_step(self, method: str) -> float:
        """The step with the smallest error for ``method``."""
        errors = self.errors[method]
        if np.isnan(errors).all():  # (np.nanargmin: "All-NaN slice encountered")
            raise ValueError(
                f"error_curve: no step gave a finite numeric derivative for method {method!r}"
            )
        return float(self.steps[np.nanargmin(errors)])

    def __str__(self) -> str:
        methods = list(self.errors)
        lines = [
            f"relative error of numeric derivatives against AD at x = {self.x!r}",
            f"{'step':>10}" + "".join(f"{m:>13}" for m in methods),
        ]
        relative = self.relative
        for k, h in enumerate(self.steps):
            lines.append(f"{h:>10.1e}" + "".join(f"{relative[m][k]:>13.2e}" for m in methods))
        return "\n".join(lines)


def error_curve(
    f: Callable[..., Any],
    x: Any,
    steps: Any = None,
    methods: Sequence[str] = ("forward", "central", "complex"),
) -> ErrorCurve:
    """For every step, the error of each numeric method against the AD derivative of ``f`` at ``x``.

    The errors trace the classic V: truncation error falls with the step (as ``h`` or ``h²``)
    until round-off (``eps/h``) takes over, except for the complex step, which never subtracts.

    Parameters
    ----------
    f : callable
        ``f(x)``.
    x : number or array_like
        The point; for an array the Jacobian is compared.
    steps : array_like, optional
        Default: 65 steps from ``1e-16`` to ``1`` times ``max(1, |x|)`` (for Richardson a step is
        its first, largest step).
    methods : sequence of str, optional
        Default ``("forward", "central", "complex")``.

    Returns
    -------
    ErrorCurve

    See Also
    --------
    derivative

    Examples
    --------
    >>> curve = dd.error_curve(np.exp, 1.0, methods=("forward", "complex"))
    >>> curve.steps.shape
    (65,)
    >>> float(np.nanmin(curve.relative["forward"])) > 1e-10  # forward loses half the digits
    True
    >>> float(np.nanmin(curve.relative["complex"])) < 1e-15
    True
    """
    api = "error_curve"
    errors.check_callable(f, api)
    if isinstance(methods, str):
        methods = (methods,)
    for method in methods:
        numeric._check_method(method, 1, api)
    point = numeric._as_point(x, api, "central")
    if "complex" in methods and np.iscomplexobj(point):  # (before any other method has run)
        raise ValueError(
            f"{api}: the complex step needs a real x; leave 'complex' out of methods for a "
            "complex x"
        )
    if steps is None:
        size = float(np.max(np.abs(point), initial=1.0))
        steps = np.logspace(-16, 0, 65) * size
    steps = np.asarray(steps, dtype=float)
    if steps.ndim != 1 or steps.size == 0 or not (np.isfinite(steps).all() and (steps > 0).all()):
        raise ValueError(f"{api}: steps must be a non-empty 1-d array of positive finite numbers")
    reference = np.asarray(ad_jacobian(f, x))
    curves: dict[str, np.ndarray] = {}
    for method in methods:
        curve = np.full(steps.shape, np.nan)
        for k, h in enumerate(steps):
            if method != "complex" and not ((point.real + h) - point.real > 0).all():
                continue  # the step is too small to change x
            with np.errstate(all="ignore"):
                value = numeric.jacobian(f, x, method=method, step=h)
                difference = np.abs(np.asarray(value) - reference)
            if np.isfinite(difference).all():
                curve[k] = float(np.max(difference, initial=0.0))
        curves[method] = curve
    return ErrorCurve(x, steps, reference[()] if reference.ndim == 0 else reference, curves)
