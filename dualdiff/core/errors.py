"""Builders for the error messages dualdiff raises: each names what failed and suggests the fix."""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import sys
from typing import Any

import numpy as np


def type_name(obj: Any) -> str:
    """A short readable name for the type of ``obj`` (``numpy.ndarray``, ``str``, ...)."""
    t = type(obj)
    module = t.__module__
    if module in ("builtins", None):
        return t.__name__
    return f"{module.split('.')[0]}.{t.__name__}"


def check_plain_array(x: Any, api: str, what: str = "x") -> None:
    """Refuse a subclass of ndarray (a masked array, np.matrix): its values without its
    semantics would go into ``f`` (the masked entries counted), a derivative of another
    function than NumPy's ``f(x)`` computes."""
    if isinstance(x, np.ndarray) and type(x) is not np.ndarray:
        raise TypeError(
            f"{api}: {what} must be a real or complex number or an array, got {type_name(x)} (a "
            "subclass of ndarray, whose own semantics, such as a mask, would be lost); pass a "
            "plain array"
        )


def check_plain_types(types: Any, what: str) -> None:
    """Refuse an ndarray subclass among the types of a NumPy call on duals (``np.dot(M, x)``
    with an ``np.matrix`` M): its own semantics (a matrix's 2-d results, a mask) would be lost
    on the duals' plain arrays, giving another result than NumPy's."""
    for t in types:
        if t is not np.ndarray and isinstance(t, type) and issubclass(t, np.ndarray):
            name = f"{t.__module__.split('.')[0]}.{t.__name__}"
            raise TypeError(
                f"{what}: a {name} operand (a subclass of ndarray, whose own semantics would be "
                "lost on dual numbers) cannot be combined with duals; pass a plain array "
                "(np.asarray)"
            )


# NumPy raises its own ValueError ("setting an array element with a sequence") for ``out[i] = x``
# when x's type supports indexing (a Taylor series, a traced array), with float()'s TypeError as
# its cause (``call_user`` raises that one instead): its message says where the write ends up.
FLOAT_WRITE = "writing x into a float array: out[i] = x"
FLOAT_WRITE_FIX = (
    "preallocate arrays with np.zeros_like(x) or np.zeros(n, like=x), or build them with "
    "np.stack([...])"
)


NOT_DIFFERENTIATED = (
    "(pass its .value only if it does not depend on what is differentiated: its derivative "
    "would be lost; dualdiff.custom_jvp defines one)"
)
"""The hint for an argument a rule does not differentiate through: ``.value`` drops a derivative,
which is right for a constant only."""


def lost_tangent(what: str, fix: str) -> TypeError:
    """The error for a conversion that would silently drop a tangent."""
    return drops_tangent(TypeError(f"{what} would drop its tangent (the derivative). {fix}"))


def drops_tangent(error: TypeError) -> TypeError:
    """``error``, marked as a conversion's that would drop a derivative (or a traced dependency):
    ``float(x)`` of a dual, a dual written into a float array (see ``call_user``)."""
    error.drops_tangent = True  # type: ignore[attr-defined]
    return error


def call_user(f: Any, *args: Any) -> Any:
    """``f(*args)``, the user's function on carriers, with an error from inside it made to say
    what went wrong for dualdiff (``explain``)."""
    try:
        return f(*args)
    except Exception as error:
        explain(error, getattr(args[0], "tag", None) if args else None)
        raise


def explain(error: BaseException, tag: Any = None) -> None:
    """Make an error raised inside the user's function, on carriers of ``tag``, say what
    dualdiff knows of it.

    - NumPy's ValueError "setting an array element with a sequence", raised for ``out[i] = x``
      when x's type supports indexing (a Taylor series, a traced array), and the SystemError of
      compiled code that calls on after ``float(x)`` of a dual failed (``scipy.optimize.brentq``)
      are replaced by their cause where that is ``drops_tangent``'s: the TypeError that names
      the fix, as eager mode raises it. The traceback still ends at the user's line.
    - Any other error gets a note when this call of ``f`` turned duals into an object array
      (``note_object_array``): NumPy's functions without an object loop and compiled code
      (SciPy's) raise their own errors on one, which do not say where it came from or what to
      write instead."""
    if type(error) is ValueError or type(error) is SystemError:
        raise_lost_tangent(error)
    site = _OBJECT_ARRAY_SITE.get()
    if site is None or getattr(error, "drops_tangent", False) or not hasattr(error, "add_note"):
        return  # (add_note: Python 3.11+)
    if getattr(error, "object_array_noted", False):
        return  # (an enclosing differentiation's call of f: noted once)
    site_tag, frame_id, code, where, what = site
    if tag is None or site_tag != tag:  # not this call's duals: only the very frame counts
        tb = error.__traceback__
        while tb is not None and not (id(tb.tb_frame) == frame_id and tb.tb_frame.f_code is code):
            tb = tb.tb_next
        if tb is None:
            return
    error.add_note(
        f"dualdiff: {what} made an object array of duals at {where}. Code that cannot compute "
        "on one (a NumPy function without an object loop, compiled code such as SciPy's) "
        "raises errors like the one above. Write that step with NumPy's functions on the duals "
        "themselves (np.stack([...]) builds an array of them; dualdiff.special has SciPy's "
        "logsumexp, softmax, log_softmax and polygamma), or give it a derivative with "
        "dualdiff.custom_jvp."
    )
    error.object_array_noted = True  # type: ignore[attr-defined]


def raise_lost_tangent(error: BaseException) -> None:
    """Raise ``error``'s cause in its place if ``drops_tangent`` marked it (see ``explain``);
    return otherwise."""
    cause = error.__cause__
    if getattr(cause, "drops_tangent", False):
        raise cause.with_traceback(error.__traceback__) from None


_OBJECT_ARRAY_SITE: contextvars.ContextVar[tuple[Any, int, Any, str, str] | None] = (
    contextvars.ContextVar("dualdiff_object_array_site", default=None)
)


def note_object_array(what: str, tag: Any, depth: int) -> None:
    """Remember where duals of ``tag`` were last turned into an object array (``what``:
    "numpy.array([...]) of Duals", ...): the frame ``depth`` levels above the caller, for
    ``explain``. Of the frame only its identity (id and code) is kept, so nothing stays alive
    for it."""
    frame = sys._getframe(depth + 1)
    where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    _OBJECT_ARRAY_SITE.set((tag, id(frame), frame.f_code, where, what))


def no_rule(function: str, hint: str = "") -> TypeError:
    """The error for a NumPy function or ufunc that has no derivative rule."""
    message = f"dualdiff has no derivative rule for {function}"
    own = _own_function(function)
    if own and not hint:
        hint = f"use {own}, which computes it with its derivative"
    if hint:
        message += f"; {hint}"
    else:
        message += (
            "; apply it to .value if the result does not depend on the tangent, or define the "
            "derivative with dualdiff.custom_jvp"
        )
    return TypeError(message)


def _own_function(function: str) -> str:
    """``dualdiff.<name>`` when a message's ``scipy.special.<name>`` is also dualdiff's own
    function, else ''."""
    if not function.startswith("scipy.special."):
        return ""
    name = function.split()[0].split("(")[0].rsplit(".", 1)[1]
    dualdiff = sys.modules.get("dualdiff")
    if name in getattr(dualdiff, "__all__", ()) and callable(getattr(dualdiff, name, None)):
        return f"dualdiff.{name}"
    return ""


# Where a ufunc that records no module of its own (SciPy's) is looked up by identity.
_UFUNC_MODULES = ("numpy", "scipy.special", "scipy.special._ufuncs")


def _ufunc_module(func: Any) -> str:
    name = getattr(func, "__name__", "")
    for module in _UFUNC_MODULES:
        if getattr(sys.modules.get(module), name, None) is func:
            return module
    return "numpy"


def function_name(func: Any) -> str:
    """The public name of a NumPy function or ufunc for messages: ``numpy.sum``,
    ``numpy.linalg.norm`` (not the private module it is defined in), ``scipy.special.erf`` (SciPy's
    ufuncs record no ``__module__``: found by identity); other functions keep their own module."""
    module = getattr(func, "__module__", None)
    if module is None and type(func).__name__ == "ufunc":
        module = _ufunc_module(func)
    module = module or "numpy"
    for public in _PUBLIC_MODULES:
        if module == public or module.startswith(public + "."):
            module = _RENAMED.get(public, public)
            break
    else:
        if module.startswith("numpy"):
            module = "numpy"
    return f"{module}.{getattr(func, '__name__', repr(func))}"


_PUBLIC_MODULES = (
    "numpy.linalg",
    "numpy.fft",
    "numpy.lib.scimath",
    "numpy.lib.stride_tricks",
    "numpy.ma",
    "numpy.rec",
    "numpy.random",
    "numpy.polynomial",
)
"""Namespaces whose functions must not be named ``numpy.<name>``: ``np.emath.sqrt`` is not
``np.sqrt`` (a message naming the latter sent users looking for a rule np.sqrt has)."""
_RENAMED = {"numpy.lib.scimath": "numpy.emath"}


def bound_arguments(func: Any, args: Any, kwargs: Any) -> dict[str, Any]:
    """The arguments of a call of NumPy's ``func`` by parameter name, however they were passed."""
    return dict(signature(func).bind(*args, **kwargs).arguments)


def check_out_shape(func: Any, out: Any, result: Any) -> None:
    """NumPy's ValueError when ``out=`` has another shape than ``func``'s result (a carrier that
    writes the result into ``out`` with ``out[...] = result`` would broadcast it instead)."""
    if type(out) is tuple and len(out) == 1:
        out = out[0]
    # a carrier's own shape: np.shape of the compiler's value-only result (np.round(x) traced)
    # is recorded as an operation, whose comparison asked for a traced truth value
    shape, wanted = getattr(out, "shape", None), getattr(result, "shape", None)
    shape = np.shape(out) if shape is None else tuple(shape)
    wanted = np.shape(result) if wanted is None else tuple(wanted)
    if shape != wanted:
        raise ValueError(f"{function_name(func)}: out= has shape {shape}, the result {wanted}")


@functools.cache
def out_position(func: Any) -> float:
    """Where a positional ``out`` of NumPy's ``func`` sits (infinite when it has no ``out`` or
    takes it by keyword only)."""
    for i, parameter in enumerate(signature(func).parameters.values()):
        if parameter.name == "out":
            positional = parameter.kind in (
                parameter.POSITIONAL_ONLY,
                parameter.POSITIONAL_OR_KEYWORD,
            )
            return i if positional else math.inf
    return math.inf


def take_out(func: Any, args: Any, kwargs: dict) -> tuple[Any, Any, dict]:
    """``(out, args, kwargs)`` of a call of NumPy's ``func`` with ``out=`` (given by keyword or
    by position) taken out: the carriers compute the result, then write it into ``out``."""
    position = out_position(func)
    if position < len(args):
        out = args[position]
        args = (*args[:position], None, *args[position + 1 :])  # type: ignore[misc]
    else:
        out = kwargs.get("out")
    return out, args, {k: v for k, v in kwargs.items() if k != "out"}


def check_callable(f: Any, api: str) -> None:
    """Raise TypeError unless ``f`` can be called."""
    if not callable(f):
        raise TypeError(f"{api} expects a callable f as its first argument, got {type_name(f)}")


def check_nestable(x: Any, api: str) -> None:
    """Raise TypeError when the point ``x`` is of a carrier that an eager differentiation cannot
    layer over (its class's ``nesting_refused`` says why): a traced array of the compiler, whose
    values the eager rules' checks would have to read."""
    reason = getattr(type(x), "nesting_refused", None)
    if reason is not None:
        raise TypeError(f"{api}: {reason}")


def check_order(n: Any, api: str) -> int:
    """Validate a derivative order: an integer (TypeError otherwise) that is >= 0 (ValueError)."""
    # bool (Python's or NumPy's, whose __index__ NumPy refuses) is not an order
    if isinstance(n, bool) or type(n).__name__ in ("bool", "bool_") or not hasattr(n, "__index__"):
        raise TypeError(f"{api}: the order n must be an integer, got {type_name(n)} {n!r}")
    try:
        n = n.__index__()
    except TypeError:  # an array that is not one integer
        raise TypeError(
            f"{api}: the order n must be an integer, got {type_name(n)} {n!r}"
        ) from None
    if n < 0:
        raise ValueError(f"{api}: the order n must be >= 0, got {n}")
    return n


def signature(func: Any) -> inspect.Signature:
    """``inspect.signature`` of a NumPy function. Before NumPy 2.3 the functions written in C
    expose none; for those the parameters are taken from the stand-ins below (NumPy 2.3's own
    signatures)."""
    try:
        return inspect.signature(func)
    except (ValueError, TypeError):
        if type(func).__name__ == "ufunc":  # x1, x2, ..., /, out=None, *, keyword options
            Parameter = inspect.Parameter
            inputs = [Parameter(f"x{i + 1}", Parameter.POSITIONAL_ONLY) for i in range(func.nin)]
            options = [Parameter(name, Parameter.KEYWORD_ONLY, default=None)
                       for name in ("axes", "axis", "keepdims", "where", "casting", "order",
                                    "dtype", "subok", "signature")]  # fmt: skip
            out = Parameter("out", Parameter.POSITIONAL_OR_KEYWORD, default=None)
            return inspect.Signature([*inputs, out, *options])
        stand_in = _C_SIGNATURES.get(getattr(func, "__name__", ""))
        if stand_in is None:
            raise
        return inspect.signature(stand_in)


# fmt: off
def _concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"): ...  # noqa: E704
def _copyto(dst, src, casting="same_kind", where=True): ...  # noqa: E704
def _dot(a, b, out=None): ...  # noqa: E704
def _empty(shape, dtype=None, order="C", *, device=None, like=None): ...  # noqa: E704
def _empty_like(prototype, /, dtype=None, order="K", subok=True, shape=None, *, device=None): ...  # noqa: E501, E704
def _inner(a, b, /): ...  # noqa: E704
def _lexsort(keys, axis=-1): ...  # noqa: E704
def _may_share_memory(a, b, /, max_work=0): ...  # noqa: E704
def _result_type(*arrays_and_dtypes): ...  # noqa: E704
def _shares_memory(a, b, /, max_work=-1): ...  # noqa: E704
def _vdot(a, b, /): ...  # noqa: E704
def _where(condition, x=None, y=None, /): ...  # noqa: E704
def _zeros(shape, dtype=None, order="C", *, device=None, like=None): ...  # noqa: E704
# fmt: on

_C_SIGNATURES = {
    f.__name__[1:]: f
    for f in (_concatenate, _copyto, _dot, _empty, _empty_like, _inner, _lexsort,
              _may_share_memory, _result_type, _shares_memory, _vdot, _where, _zeros)
}  # fmt: skip


class ValueDependentPatternWarning(RuntimeWarning):
    """A traced sparsity pattern depends on the input's values (``f`` branched in Python on a
    traced value, or used one as a Python number or a shape): it holds at the traced point only.
    ``SparseJacobian`` then traces the pattern again at every new point."""


def diff_axis(n: Any, axis: Any, ndim: int) -> int:
    """Check ``np.diff``'s arguments as NumPy does (the same errors) and return ``axis`` as a
    non-negative int: dual types take differences themselves, so NumPy never sees them. For
    ``n == 0`` ``axis`` as given: NumPy returns ``a`` itself before it checks anything else."""
    n = n.__index__()
    if n == 0:
        return axis
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    if ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    from numpy.lib.array_utils import normalize_axis_index

    return normalize_axis_index(axis, ndim)
