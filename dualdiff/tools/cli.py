"""The command line: ``dualdiff "x**2*sin(x)" --at 1.5`` differentiates a formula at a point, and
``dualdiff`` alone shows the textbook examples worked by forward-mode AD.

Every AD result can be shown beside a numeric derivative (Richardson-extrapolated central
differences from ``dualdiff.numeric``), which checks it and never replaces it.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import numpy as np

from .. import numeric
from ..api import derivative, jvp
from ..series.taylor import higher_derivative
from . import comparison, expr
from .evaluation import trace

__all__ = ["main", "demo"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

MAX_ORDER = 170
"""The highest ``--order``: Taylor mode finds the n-th Taylor coefficient and multiplies it by
``n!``, and ``171!`` overflows a float64."""

NUMERIC_MAX_ORDER = 20
"""The highest order ``--compare`` computes numeric differences for. The round-off of central
differences of order n grows like ``eps·(2/h)^n``; at Richardson's first step ``h = 1/8`` that
is ``eps·16^n``, as large as ``|f|`` itself from n = 13. Measured on 14 functions at 11 points
(149 cases: ``exp``, ``sin``, ``log``, ``sqrt``, ``arctan``, ``sigmoid``, rational functions,
``x**25``, ...), the cases with at least one correct digit fell from 147 at order 6 to 76 at
12, 27 at 16 and 16 at 20; above 20, 12 to 14, all but 1 to 3 of them the polynomial ``x**25``.
(Richardson's error estimate never claimed a digit it did not have.) Higher orders are not
attempted: they would also cost O(n³) exact arithmetic for the stencil's weights (12-37 s at
order 170)."""

_EXAMPLES = """\
examples:
  dualdiff                                     the demo of worked examples
  dualdiff "x**2*sin(x)" --at 1.5              value and first derivative
  dualdiff "exp(-x**2/2)" --at 1 --order 2     second derivative
  dualdiff "1/(1+exp(-x))" --at 0.5 --compare --trace
  dualdiff --at 2 -- "-x**3"                   a formula starting with - goes after --
"""

_FORMULAS = """\
formulas:
  A formula in the variable x may use numbers, the constants pi, e and tau, the operators
  + - * / ** and unary -/+, parentheses, and these functions, called by name:
{functions}
  Nothing else is accepted: no other names, attributes, strings, subscripts, keyword
  arguments, lambdas or comprehensions. A formula has at most {length} characters and
  {depth} levels of nesting, and a part of it that does not involve x must evaluate to a
  finite number (so 9**9**9, 1/0 and log(0) are refused).

exit status:
  0 success, 1 the evaluation failed, 2 invalid arguments (such as an order outside 1 to
  {max_order}, or a point that is no finite real number) or a refused formula. The numeric
  column of --compare only checks AD: where numeric differences fail (an overflow, a domain
  error, no finite result, or an order above {numeric_order}), it says so, and AD's answer
  stands with exit status 0.
"""


def _help_epilog() -> str:
    names = sorted(expr.FUNCTIONS)
    functions = textwrap.fill(", ".join(names), width=92, initial_indent="    ",
                              subsequent_indent="    ")  # fmt: skip
    formulas = _FORMULAS.format(
        functions=functions,
        length=expr.MAX_LENGTH,
        depth=expr.MAX_DEPTH,
        max_order=MAX_ORDER,
        numeric_order=NUMERIC_MAX_ORDER,
    )
    return _EXAMPLES + "\n" + formulas


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, shortened when it is long."""
    return (
        repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"
    )


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        try:
            complex(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {_shown(text)}") from None
        raise argparse.ArgumentTypeError(
            "the point must be a real number (complex points are not supported), "
            f"got {_shown(text)}"
        ) from None
    if math.isinf(value) and "inf" not in text.lower():
        raise argparse.ArgumentTypeError(
            f"the point is too large for a float64 (at most {sys.float_info.max:.4g}), "
            f"got {_shown(text)}"
        )
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"the point must be finite, got {_shown(text)}")
    return value


def _order(text: str) -> int:
    supported = f"the order must be an integer from 1 to {MAX_ORDER}"
    if not re.fullmatch(r"\s*[+-]?\d+\s*", text):
        raise argparse.ArgumentTypeError(f"{supported}, got {_shown(text)}")
    try:
        n = int(text)
    except ValueError:  # more digits than int() converts: far out of range anyway
        n = None
    if n is None or not 1 <= n <= MAX_ORDER:
        why = " (Taylor mode multiplies the n-th coefficient by n!, and 171! overflows float64)"
        raise argparse.ArgumentTypeError(
            f"{supported}, got {_shown(text.strip())}" + (why if n is None or n > 0 else "")
        )
    return n


_VALUED = ("--at", "--order")


def _attach_values(argv: Sequence[str]) -> list[str]:
    """``--at -1e5`` as ``--at=-1e5``: argparse takes a value that starts with ``-`` for an
    option unless it looks like ``-5`` or ``-.5``, so ``-1e5``, ``-inf`` and ``-2e-3`` would be
    refused with "expected one argument". Values of our own options are attached; option names
    (``--at --compare``) and everything after ``--`` are left alone."""
    argv = list(argv)
    options = {"-h", "--help", "--compare", "--trace", *_VALUED}
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            out += argv[i:]
            break
        valued = len(token) > 2 and any(name.startswith(token) for name in _VALUED)
        if valued and i + 1 < len(argv):
            value = argv[i + 1]
            if value.startswith("-") and value != "--" and value not in options:
                out.append(f"{token}={value}")
                i += 2
                continue
        out.append(token)
        i += 1
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # argparse reads a formula that starts with - as an unknown option
        prefix = "unrecognized arguments: "
        first = message[len(prefix) :].split(" ")[0] if message.startswith(prefix) else ""
        if first.startswith("-") and not re.fullmatch(r"--[A-Za-z]{2}[\w-]*", first):
            if len(message) > 100:
                message = message[:100] + "..."
            message += '; a formula starting with - goes after --, as in dualdiff --at 2 -- "-x**3"'
        super().error(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dualdiff",
        description=textwrap.fill(
            "Differentiate a formula in x at a point by forward-mode automatic differentiation "
            "(dual numbers): exact derivatives, neither symbolic algebra nor finite "
            "differences. Without arguments, show worked examples.",
            width=92,
        ),
        epilog=_help_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("formula", nargs="?", help='the formula in x, e.g. "x**2*sin(x)"')
    parser.add_argument("--at", type=_finite_float, metavar="X", help="the point x (required)")
    parser.add_argument(
        "--order",
        type=_order,
        default=1,
        metavar="N",
        help=f"the derivative order, 1 to {MAX_ORDER} (default 1)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also compute the derivative by numeric differences and show the difference "
        f"(orders up to {NUMERIC_MAX_ORDER}; where they fail, AD's answer stands)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="show the forward evaluation trace: each operation with its value and tangent",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser.parse_args(_attach_values(argv))
    except SystemExit as exc:  # --help, or a usage error argparse has already reported
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out, err = sys.stdout, sys.stderr
    if args.formula is None:
        if args.at is not None or args.order != 1 or args.compare or args.trace:
            print("dualdiff: error: the options need a formula, e.g. dualdiff \"x**2\" --at 1",
                  file=err)  # fmt: skip
            return EXIT_USAGE
        demo(out)
        return EXIT_OK
    if args.at is None:
        print("dualdiff: error: give the point with --at, e.g. --at 1.5", file=err)
        return EXIT_USAGE
    try:
        formula = expr.parse(args.formula)
    except expr.ExpressionError as exc:
        print(f"dualdiff: error: {exc}", file=err)
        return EXIT_USAGE
    try:
        nth = _nth_derivative(args.order)
    except NotImplementedError as exc:
        print(f"dualdiff: error: {exc}", file=err)
        return EXIT_USAGE
    try:
        with _quiet():
            _differentiate(formula, args.at, args.order, nth, args.compare, args.trace, out)
    except (ArithmeticError, ValueError, TypeError, NotImplementedError) as exc:
        print(f"dualdiff: error: evaluating {formula} at x = {args.at!r} failed: {exc}", file=err)
        return EXIT_FAILED
    return EXIT_OK


class _quiet:
    """Silence NumPy's floating-point warnings: inf and nan results are printed as such."""

    def __enter__(self) -> None:
        self._errstate = np.errstate(all="ignore")
        self._errstate.__enter__()
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._warnings.__exit__(*exc)
        self._errstate.__exit__(*exc)


def _nth_derivative(n: int) -> Callable[[Callable[..., Any], float], Any]:
    """``(f, x) -> f^(n)(x)`` by AD: one dual number, two nested ones, or Taylor mode."""
    if n == 1:
        return derivative
    if n == 2:
        return lambda f, x: derivative(lambda y: derivative(f, y), x)
    return lambda f, x: higher_derivative(f, x, n)


def _label(n: int) -> str:
    return "f" + "'" * n + "(x)" if n <= 2 else f"f^({n})(x)"


def _numeric(f: Callable[..., Any], x: float, n: int = 1) -> tuple[float, float]:
    """The numeric ``n``-th derivative and its error estimate (Richardson extrapolation)."""
    estimate = numeric.derivative(f, x, n=n, method="richardson", full_output=True)
    return float(estimate.value), float(estimate.error)


def _print_comparison(
    f: Callable[..., Any], x: float, n: int, value: Any, ad: Any, label: str, out: TextIO
) -> None:
    """The numeric derivative beside AD; for n = 1 with ``dualdiff.compare``'s verdict, which
    also recognises kinks (higher orders: the difference and the error estimate only).

    The numeric column only checks AD: where numeric differences cannot give a number (too high
    an order, f not finite at x, an overflow or a domain error within the steps, a non-finite
    estimate) the column says so and why, and AD's answer stands.
    """
    reason = None
    if n > NUMERIC_MAX_ORDER:
        reason = (
            f"skipped: numeric differences of order above {NUMERIC_MAX_ORDER} keep no correct "
            "digit (their round-off grows like 16^n)"
        )
    elif not _finite(value):
        reason = (
            f"unavailable: f(x) = {_number(value)} is not finite, so differences of f mean nothing"
        )
    else:
        try:
            if n == 1:
                result = comparison.compare(f, x, method="richardson")
                approx = float(result.numeric)
                error = float(result.error_estimate)
                verdict = [result.summary()[0], *result.notes]
            else:
                approx, error = _numeric(f, x, n)
                verdict = []
        except Exception as exc:  # the numeric check failing must never cost AD's answer
            reason = f"unavailable: the numeric differences failed ({_failure(exc)})"
        else:
            if not (math.isfinite(approx) and math.isfinite(error)):
                reason = (
                    f"unavailable: the numeric differences are not finite ({approx!r}, error "
                    f"estimate {error!r}): f overflows or leaves its domain within their steps"
                )
    if reason is not None:
        print(f"numeric  {label} {reason}", file=out)
        return
    print(
        f"numeric  {label} = {approx!r}  (Richardson-extrapolated central differences, "
        f"error estimate {error:.1e})",
        file=out,
    )
    print(f"         |AD - numeric| = {abs(float(ad) - approx):.3e}", file=out)
    for line in verdict:
        print(f"         {line}", file=out)


def _finite(v: Any) -> bool:
    try:
        return bool(np.isfinite(v))
    except TypeError:
        return False


def _failure(exc: BaseException) -> str:
    """An exception as ``overflow: ...``/``TypeName: ...`` for a one-line reason."""
    kind = {OverflowError: "overflow", ZeroDivisionError: "division by zero"}.get(
        type(exc), type(exc).__name__
    )
    text = str(exc)
    return f"{kind}: {text}" if text else kind


def _differentiate(
    formula: expr.Expression,
    x: float,
    n: int,
    nth: Callable[[Callable[..., Any], float], Any],
    compare: bool,
    show_trace: bool,
    out: TextIO,
) -> None:
    value = formula(x)
    ad = nth(formula, x)
    label = _label(n)
    print(f"formula  f(x) = {formula}", file=out)
    print(f"point    x = {x!r}", file=out)
    print(f"value    f(x) = {_number(value)}", file=out)
    print(f"AD       {label} = {_number(ad)}", file=out)
    if compare:
        _print_comparison(formula, x, n, value, ad, label, out)
    if show_trace:
        # the trace carries one dual number: its tangents are first derivatives at any --order
        which = "" if n == 1 else f", first order only; {label} above is not traced"
        print(f"\nforward trace of f at x = {x!r} (tangent = f'{which}):", file=out)
        print(trace(formula, x, names=("x",)), file=out)


def _number(v: Any) -> str:
    return repr(float(v)) if isinstance(v, (int, float, np.floating)) else repr(v)


# ---------------------------------------------------------------------------------------------
# The demo: the seed texts' worked examples, each AD result beside a numeric one and the
# closed form.
# ---------------------------------------------------------------------------------------------


def _row(out: TextIO, what: str, ad: float, approx: float, closed: str, exact: float) -> None:
    print(
        f"   {what:<7} AD {float(ad)!r:<22} numeric {approx!r:<22} "
        f"closed form {closed} = {exact!r}",
        file=out,
    )


def demo(out: TextIO | None = None) -> None:
    """Print the worked examples: a chain rule, a gradient by two passes, a sigmoid's trace."""
    out = sys.stdout if out is None else out
    print("dualdiff: forward-mode automatic differentiation with dual numbers.", file=out)
    print(
        "Each derivative is shown three ways: AD (exact, one pass with a dual number), numeric\n"
        "(Richardson-extrapolated central differences) and the closed form.",
        file=out,
    )

    # 1. The chain rule through an intermediate variable.
    w = 2.0
    y = lambda w: 2 * (3 * w) ** 2 + 4
    print(
        "\n1. Chain rule: y = 2x^2 + 4 with x = 3w, so dy/dw = (dy/dx)(dx/dw) = 4x*3 = 36w",
        file=out,
    )
    print(f"   at w = {w!r}", file=out)
    _row(out, "dy/dw", derivative(y, w), _numeric(y, w)[0], "36w", 36 * w)

    # 2. A gradient of two inputs: one forward pass per input direction.
    x0, y0 = 3.0, 2.0
    f = lambda x, y: (x + y) * (x - y)
    print("\n2. Gradient by two forward passes: f(x, y) = (x + y)(x - y), grad f = (2x, -2y)",
          file=out)  # fmt: skip
    print(f"   at (x, y) = ({x0!r}, {y0!r}); tangent (1, 0) gives df/dx, (0, 1) gives df/dy",
          file=out)  # fmt: skip
    dfdx = jvp(f, (x0, y0), (1.0, 0.0))[1]
    dfdy = jvp(f, (x0, y0), (0.0, 1.0))[1]
    _row(out, "df/dx", dfdx, _numeric(lambda x: f(x, y0), x0)[0], "2x", 2 * x0)
    _row(out, "df/dy", dfdy, _numeric(lambda y: f(x0, y), y0)[0], "-2y", -2 * y0)

    # 3. The sigmoid of a product, decomposed into elementary steps.
    w, x = 0.5, 2.0
    s = lambda w, x: 1 / (1 + np.exp(-(w * x)))
    sw = 1 / (1 + math.exp(-(w * x)))
    print("\n3. Sigmoid: s = sigmoid(w*x) = 1/(1 + exp(-w*x)), ds/dw = s(1 - s)x", file=out)
    print(f"   at (w, x) = ({w!r}, {x!r})", file=out)
    _row(out, "ds/dw", derivative(lambda w: s(w, x), w), _numeric(lambda w: s(w, x), w)[0],
         "s(1-s)x", sw * (1 - sw) * x)  # fmt: skip
    print("   forward trace with tangent (dw, dx) = (1, 0); each tangent is d/dw of its row:",
          file=out)  # fmt: skip
    print(textwrap.indent(str(trace(s, (w, x))), "   "), file=out)
