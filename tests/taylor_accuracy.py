"""Accuracy of Taylor mode at orders 0-30 against 50-digit references.

The compositions are written here with NumPy and in tests/make_taylor_accuracy_reference.py with
mpmath (which wrote tests/taylor_accuracy_reference.py). The error at order ``k`` is measured
relative to the size of the derivatives there (``size_at``), not to ``f⁽ᵏ⁾(x)`` alone, which may
happen to be near zero. ``python tests/taylor_accuracy.py`` (dualdiff installed) prints the table
of the README's "Higher derivatives: Taylor mode" section.
"""

from __future__ import annotations

import math

import numpy as np
from taylor_accuracy_reference import REFERENCE

import dualdiff as dd
from dualdiff.series.taylor import taylor

ORDER = 30
BANDS = ((0, 0), (1, 10), (11, 20), (21, 30))
EPS = float(np.finfo(float).eps)

COMPOSITIONS = {
    "reciprocal_exp": lambda x: 1 / np.exp(x),
    "exp_over_exp_2x": lambda x: np.exp(x) / np.exp(2 * x),
    "exp_times_exp_minus_2x": lambda x: np.exp(x) * np.exp(-2 * x),
    "sin_over_cos": lambda x: np.sin(x) / np.cos(x),
    "tan": np.tan,
    "tanh": np.tanh,
    "runge": lambda x: 1 / (1 + x * x),
    "log_1_plus_x2": lambda x: np.log(1 + x * x),
    "sqrt_1_plus_x2": lambda x: np.sqrt(1 + x * x),
    "exp_sin": lambda x: np.exp(np.sin(x)),
    "x_pow_2_5": lambda x: x**2.5,
    "one_plus_x2_pow_minus_1_5": lambda x: (1 + x * x) ** -1.5,
    "cbrt_1_plus_x2": lambda x: np.cbrt(1 + x * x),
    "log": np.log,
    "arctan": np.arctan,
    "arcsin": np.arcsin,
    "arcsinh": np.arcsinh,
    "exp_sin_times_1_plus_x2": lambda x: np.exp(np.sin(x)) * (1 + x * x),
    "exp_sin_over_1_plus_x2": lambda x: np.exp(np.sin(x)) / (1 + x * x),
    "sigmoid": dd.sigmoid,
    "hypot_x_1_plus_x2": lambda x: np.hypot(x, 1 + x * x),
    "sinc": np.sinc,
    "sqrt_exp": lambda x: np.sqrt(np.exp(x)),
    "hypot_x_small": lambda x: np.hypot(x, 1e-3),
    "sin_over_x": lambda x: np.sin(x) / x,
}

LABELS = {
    "reciprocal_exp": "1/exp(x)",
    "exp_over_exp_2x": "exp(x)/exp(2x)",
    "exp_times_exp_minus_2x": "exp(x)·exp(-2x)",
    "sin_over_cos": "sin(x)/cos(x)",
    "tan": "tan(x)",
    "tanh": "tanh(x)",
    "runge": "1/(1+x²)",
    "log_1_plus_x2": "log(1+x²)",
    "sqrt_1_plus_x2": "sqrt(1+x²)",
    "exp_sin": "exp(sin x)",
    "x_pow_2_5": "x**2.5",
    "one_plus_x2_pow_minus_1_5": "(1+x²)**-1.5",
    "cbrt_1_plus_x2": "cbrt(1+x²)",
    "log": "log(x)",
    "arctan": "arctan(x)",
    "arcsin": "arcsin(x)",
    "arcsinh": "arcsinh(x)",
    "exp_sin_times_1_plus_x2": "exp(sin x)·(1+x²)",
    "exp_sin_over_1_plus_x2": "exp(sin x)/(1+x²)",
    "sigmoid": "sigmoid(x)",
    "hypot_x_1_plus_x2": "hypot(x, 1+x²)",
    "sinc": "np.sinc(x)",
    "sqrt_exp": "sqrt(exp(x))",
    "hypot_x_small": "hypot(x, 0.001)",
    "sin_over_x": "sin(x)/x",
}


def _pole_left_by_rounding(x: float, k: int) -> float:
    # sin(x + t)/(x + t): a rounding error in the numerator no longer vanishes at t = -x, and
    # 1/(x + t) turns it into coefficients of size e^|x|/|x|^(k+1) against sinc-like 1/(k+1)!.
    return math.exp(abs(x)) * math.factorial(k + 1) / abs(x) ** (k + 1)


CONDITION = {
    "reciprocal_exp": lambda x, k: 3.0**k,
    "exp_times_exp_minus_2x": lambda x, k: 3.0**k,
    "exp_over_exp_2x": lambda x, k: 5.0**k,
    "sqrt_exp": lambda x, k: 3.0**k,
    "sin_over_x": _pole_left_by_rounding,
}
"""The ill-conditioned compositions: how much the rounding of the intermediate series' coefficients
is amplified at order ``k`` (the result's coefficients are far smaller than those it is computed
from). The others are well-conditioned: the error stays near ``EPS`` at every order."""


def size_at(reference: list, k: int) -> float:
    """The size of the derivatives at order ``k``: ``|f⁽ᵏ⁾(x)|``, or the geometric mean of its
    neighbours ``sqrt(|f⁽ᵏ⁻¹⁾(x)·f⁽ᵏ⁺¹⁾(x)|)`` where that is larger (``f⁽ᵏ⁾`` near a zero)."""
    size = abs(reference[k])
    if 0 < k < len(reference) - 1:
        size = max(size, math.sqrt(abs(reference[k - 1] * reference[k + 1])))
    return size


def errors(name: str, x: float) -> list[float]:
    """``|computed - reference| / size_at(reference, k)`` for ``k = 0..ORDER``."""
    reference = REFERENCE[(name, x)]
    factorials = np.array([math.factorial(k) for k in range(ORDER + 1)], dtype=float)
    got = taylor(COMPOSITIONS[name], x, ORDER) * factorials
    return [abs(got[k] - reference[k]) / size_at(reference, k) for k in range(ORDER + 1)]


def table() -> str:
    """The README's table: the largest error in each band of orders, per composition."""
    lines = [
        "| f | at x | order 0 | 1–10 | 11–20 | 21–30 |",
        "|---|---|---|---|---|---|",
    ]
    names = [n for n in COMPOSITIONS if n not in CONDITION] + list(CONDITION)
    for name in names:
        points = [x for (n, x) in REFERENCE if n == name]
        worst = [0.0] * len(BANDS)
        for x in points:
            e = errors(name, x)
            worst = [max(w, *e[lo : hi + 1]) for w, (lo, hi) in zip(worst, BANDS)]
        cells = " | ".join(f"{w:.0e}" if w else "0" for w in worst)
        where = ", ".join(f"{x:g}" for x in points)
        lines.append(f"| `{LABELS[name]}` | {where} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
