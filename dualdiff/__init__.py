"""dualdiff: forward-mode automatic differentiation with dual numbers on top of NumPy.

A dual number ``a + b·ε`` (``ε² = 0``) carries a value and a tangent through every operation, so
the chain rule is applied exactly as the program runs. Existing NumPy code differentiates
unchanged::

    >>> import numpy as np, dualdiff as dd
    >>> dd.derivative(lambda x: np.sin(x) * x, 2.0)  # cos(2)·2 + sin(2)
    0.07700375...
"""

from . import numeric
from .api import (
    derivative,
    gradient,
    hessian,
    jacobian,
    jvp,
    push_forward,
    value_and_gradient,
    value_and_jacobian,
)
from .arrays import functions as _functions  # noqa: F401 - registers the NumPy function rules
from .arrays import linalg as _linalg  # noqa: F401 - registers the numpy.linalg rules
from .arrays.dualarray import DualArray
from .arrays.functions import concatenate, stack, where
from .custom import custom_jvp
from .dual.dual import Dual
from .dual.objects import ObjectArrayWarning, strict_arrays
from .engine.jit import CompiledJacobian, CompiledJVP, jit_jacobian, jit_jvp
from .engine.sparse import SparseJacobian
from .rules.elementwise import (
    RULES,
    absolute,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    ceil,
    conjugate,
    copysign,
    cos,
    cosh,
    deg2rad,
    divide,
    exp,
    exp2,
    expm1,
    fabs,
    float_power,
    floor,
    floor_divide,
    fmax,
    fmin,
    fmod,
    heaviside,
    hypot,
    ldexp,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    logit,
    maximum,
    minimum,
    multiply,
    negative,
    positive,
    power,
    rad2deg,
    reciprocal,
    remainder,
    rint,
    sigmoid,
    sign,
    sin,
    sinc,
    sinh,
    softplus,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    trunc,
    xlog1py,
    xlogy,
)
from .series.taylor import Taylor, higher_derivative, taylor
from .sparsity.tracer import jacobian_sparsity
from .tools.comparison import Comparison, ErrorCurve, check, compare, error_curve
from .tools.evaluation import Trace, trace

abs = absolute  # noqa: A001 - the familiar names, as in NumPy
conj = conjugate
mod = remainder
degrees = rad2deg
radians = deg2rad
expit = sigmoid

__version__ = "0.1.0"

__all__ = [
    "Dual", "DualArray", "derivative", "jvp", "jacobian", "value_and_jacobian", "gradient",
    "value_and_gradient", "push_forward", "hessian", "custom_jvp", "stack", "concatenate",
    "where", "RULES", "abs", "conj", "mod", "degrees", "radians", "expit", "numeric", "compare",
    "check", "Comparison", "error_curve", "ErrorCurve", "trace", "Trace", "SparseJacobian",
    "jacobian_sparsity", "Taylor", "higher_derivative", "taylor", "jit_jvp", "CompiledJVP",
    "jit_jacobian", "CompiledJacobian", "ObjectArrayWarning", "strict_arrays",
] + sorted(RULES)  # fmt: skip
