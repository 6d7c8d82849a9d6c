"""
Forward accumulation by hand: the chain rule, two inputs, a sigmoid
===================================================================

The worked examples of forward accumulation, each checked against its closed form:

1. The chain rule: :math:`y = 2x^2 + 4` with :math:`x = 3w`, so
   :math:`dy/dw = dy/dx \\cdot dx/dw = 4x \\cdot 3 = 36w`.
2. :math:`f(x, y) = (x + y)(x - y)`: its gradient :math:`(2x, -2y)` by two forward passes, one
   per input.
3. :math:`\\sigma(wx) = 1 / (1 + e^{-wx})`: :math:`d\\sigma/dw = \\sigma (1 - \\sigma) x`.

Run: ``python examples/chain_rule.py``
"""

import numpy as np

import dualdiff as dd


def chain_rule(w: float) -> float:
    x = 3 * w
    return 2 * x**2 + 4


def difference_of_squares(x: float, y: float) -> float:
    return (x + y) * (x - y)


def sigmoid_of_product(w: float, x: float) -> float:
    return 1 / (1 + np.exp(-w * x))


def main() -> None:
    w = 1.5
    dy_dw = dd.derivative(chain_rule, w)
    print(f"y = 2x² + 4, x = 3w      at w = {w}:  dy/dw = {dy_dw}  (36w = {36 * w})")
    assert dy_dw == 36 * w

    x, y = 3.0, 2.0
    _, df_dx = dd.jvp(difference_of_squares, (x, y), (1.0, 0.0))
    _, df_dy = dd.jvp(difference_of_squares, (x, y), (0.0, 1.0))
    print(f"f = (x + y)(x - y)       at ({x}, {y}): ∇f = ({df_dx}, {df_dy})  (2x, -2y)")
    assert (df_dx, df_dy) == (2 * x, -2 * y)

    w, x = 0.4, 2.0
    ds_dw = dd.derivative(lambda w: sigmoid_of_product(w, x), w)
    s = sigmoid_of_product(w, x)
    print(f"σ(w·x)                   at w = {w}, x = {x}: dσ/dw = {ds_dw:.15f}")
    print(f"                         closed form σ(1 − σ)·x = {s * (1 - s) * x:.15f}")
    assert abs(ds_dw - s * (1 - s) * x) < 1e-15


if __name__ == "__main__":
    main()
