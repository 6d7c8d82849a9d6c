"""Write tests/taylor_accuracy_reference.py: 50-digit references for Taylor mode to order 31.

Run from the repository root (needs mpmath, which the tests themselves do not):

    python tests/make_taylor_accuracy_reference.py

For each composition below and each point, ``f⁽ᵏ⁾(x)`` for ``k = 0..31`` is computed with
``mpmath.taylor`` (high-precision finite differences, times ``k!``) at 50 significant digits and
again at 70; the two must agree to 30 digits before the value is rounded to float64 and stored.
The point is the exact binary value of the float ``x``. The same compositions written with NumPy
are ``COMPOSITIONS`` in tests/taylor_accuracy.py, which tests/test_taylor.py runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mpmath as mp

ORDER = 31  # orders 0..30 are checked; 31 gives the neighbour for the scale at order 30

# name: (function of an mpmath number, points)
COMPOSITIONS = {
    "reciprocal_exp": (lambda x: 1 / mp.exp(x), (0.3, -1.3)),
    "exp_over_exp_2x": (lambda x: mp.exp(x) / mp.exp(2 * x), (0.3,)),
    "exp_times_exp_minus_2x": (lambda x: mp.exp(x) * mp.exp(-2 * x), (0.3,)),
    "sin_over_cos": (lambda x: mp.sin(x) / mp.cos(x), (0.3, 1.2)),
    "tan": (mp.tan, (0.3, 1.2)),
    "tanh": (mp.tanh, (0.7, -1.3)),
    "runge": (lambda x: 1 / (1 + x * x), (0.7, -0.3)),
    "log_1_plus_x2": (lambda x: mp.log(1 + x * x), (0.7, -0.3)),
    "sqrt_1_plus_x2": (lambda x: mp.sqrt(1 + x * x), (0.7, -1.3)),
    "exp_sin": (lambda x: mp.exp(mp.sin(x)), (0.7, -1.3)),
    "x_pow_2_5": (lambda x: x**2.5, (0.7, 2.0)),
    "one_plus_x2_pow_minus_1_5": (lambda x: (1 + x * x) ** -1.5, (0.7,)),
    "cbrt_1_plus_x2": (lambda x: mp.cbrt(1 + x * x), (0.7,)),
    "log": (mp.log, (0.7, 2.0)),
    "arctan": (mp.atan, (0.7, -1.3)),
    "arcsin": (mp.asin, (0.3, 0.8)),
    "arcsinh": (mp.asinh, (0.7, 5.0)),
    "sqrt_exp": (lambda x: mp.sqrt(mp.exp(x)), (0.7,)),
    "hypot_x_small": (lambda x: mp.hypot(x, mp.mpf(1e-3)), (0.5,)),
    "sin_over_x": (lambda x: mp.sin(x) / x, (0.7, 3.0)),
    "exp_sin_times_1_plus_x2": (lambda x: mp.exp(mp.sin(x)) * (1 + x * x), (0.7,)),
    "exp_sin_over_1_plus_x2": (lambda x: mp.exp(mp.sin(x)) / (1 + x * x), (0.7,)),
    "sigmoid": (lambda x: 1 / (1 + mp.exp(-x)), (0.5, -2.0)),
    "hypot_x_1_plus_x2": (lambda x: mp.hypot(x, 1 + x * x), (0.3, 5.0)),
    "sinc": (lambda x: mp.sin(mp.pi * x) / (mp.pi * x), (0.3, 12.7, 14.3)),
}


def derivatives(f, x: float, dps: int) -> list:
    with mp.workdps(dps):
        coefficients = mp.taylor(f, mp.mpf(x), ORDER)
        return [c * mp.factorial(k) for k, c in enumerate(coefficients)]


def main() -> None:
    lines = [
        '"""50-digit references for Taylor mode to order 31 (do not edit: written by',
        "tests/make_taylor_accuracy_reference.py, which lists the compositions).",
        "",
        '``REFERENCE[(name, x)][k]`` is ``f⁽ᵏ⁾(x)`` rounded to float64."""',
        "",
        "REFERENCE = {",
    ]
    for name, (f, points) in COMPOSITIONS.items():
        for x in points:
            fine, finer = derivatives(f, x, 50), derivatives(f, x, 70)
            for k, (a, b) in enumerate(zip(fine, finer)):
                scale = max(abs(b), mp.mpf(10) ** -40)
                if abs(a - b) > mp.mpf(10) ** -30 * scale:
                    sys.exit(f"{name} at {x}: order {k} disagrees between 50 and 70 digits")
            lines.append(f'    ("{name}", {x!r}): [')
            # repr, without the "+" of a positive exponent (as ruff format writes numbers)
            lines += [f"        {float(v)!r},".replace("e+", "e") for v in finer]
            lines.append("    ],")
        print(name, file=sys.stderr)
    lines.append("}")
    Path(__file__).with_name("taylor_accuracy_reference.py").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
