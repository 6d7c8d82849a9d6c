"""
The step-size trade-off of numeric differences
==============================================

How the error of a numeric derivative depends on the step, and why AD has no step at all::

    python examples/step_size.py [output.png]

Draws the classic V (with matplotlib, ``pip install dualdiff[plot]``) into ``output.png``
(default ``step_size.png`` in the current directory), or prints the table without it. The test
function is the one Squire and Trapp used to introduce the complex step,
:math:`f(x) = e^x / \\sqrt{\\sin^3 x + \\cos^3 x}` at :math:`x = 1.5`. Forward differences lose
accuracy as :math:`h` (truncation) for large steps and as :math:`\\epsilon/h` (round-off) for
small ones, so their best is about :math:`\\sqrt{\\epsilon}`; central differences fall as
:math:`h^2` and do best near :math:`\\epsilon^{1/3}`; the complex step never subtracts, so it
stays accurate down to tiny steps; AD is exact to round-off.
"""

from __future__ import annotations

import sys

import numpy as np

import dualdiff as dd
from dualdiff import numeric

X = 1.5
FLOOR = 2.0**-53  # errors below half an ulp are drawn at it, since a log axis has no zero


def f(x):
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def exact(x: float) -> float:
    """The closed form: ``f'/f = 1 - 3 sin x cos x (sin x - cos x) / (2 (sin³x + cos³x))``."""
    s, c = np.sin(x), np.cos(x)
    return f(x) * (1.0 - 3.0 * s * c * (s - c) / (2.0 * (s**3 + c**3)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 or (argv and argv[0] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    path = argv[0] if argv else "step_size.png"

    curve = dd.error_curve(f, X, methods=("forward", "central", "complex"))
    reference = exact(X)
    ad_error = abs(dd.derivative(f, X) - reference) / abs(reference)
    try:
        import matplotlib
    except ImportError:
        print(curve)
        print(f"AD: relative error {ad_error:.2e} against the closed form, at every step")
        print("(install matplotlib, e.g. pip install dualdiff[plot], to draw the plot)")
        return 0

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    # The complex step's truncation error (h² f'''/6) equals the central one: draw it wide and
    # underneath, so the central curve stays visible where they overlap.
    styles = {
        "forward": ("forward  (f(x+h) - f(x)) / h", "tab:blue", 1.5, 2),
        "complex": ("complex step  Im f(x+ih) / h", "tab:green", 4.0, 1),
        "central": ("central  (f(x+h) - f(x-h)) / 2h", "tab:orange", 1.5, 3),
    }
    relative = curve.relative
    for method, (label, colour, width, order) in styles.items():
        error = np.maximum(relative[method], FLOOR)
        ax.loglog(curve.steps, error, ".-", color=colour, lw=width, zorder=order, label=label)
    ax.loglog(
        curve.steps,
        np.full(curve.steps.shape, max(ad_error, FLOOR)),
        "-",
        color="black",
        lw=2,
        label="AD (dual numbers), against the closed form",
    )
    for method, colour in (("forward", "tab:blue"), ("central", "tab:orange")):
        ax.axvline(numeric.default_step(method) * max(1.0, abs(X)), color=colour, ls=":", lw=1)
    ax.set_xlabel("step h")
    ax.set_ylabel("relative error of f'(x)")
    ax.set_title(
        "f(x) = exp(x) / sqrt(sin³x + cos³x) at x = 1.5\n"
        "dotted: the default steps sqrt(eps)·x and eps^(1/3)·x; errors below 2^-53 drawn at 2^-53",
        fontsize=9,
    )
    ax.set_ylim(FLOOR / 3, 10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", framealpha=0.9)
    fig.savefig(path, dpi=120)  # the figure stays open: the documentation's gallery shows it
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    # exit only on failure: the documentation's gallery runs this file as __main__ in its own
    # process, where sys.exit(0) would end the whole build
    if status := main():
        sys.exit(status)
