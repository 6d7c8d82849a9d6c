"""Object arrays of duals: the lossless fallback for ``np.array([...])`` and ``np.asarray(x)``.

NumPy lets no one intercept ``np.array([d1, d2])``, but it builds an array of ``dtype=object``
when an element offers ``__array__`` returning one, and an object array of duals carries every
tangent exactly: NumPy's object loops apply Python operators to the elements (``+``, ``*``, ``<``)
and call a method of the ufunc's name for the rest (``np.sin(a)`` calls ``e.sin()`` on every
element). The dual types therefore

* return object arrays of their elements from ``__array__`` (``Dual``, ``DualArray``, ``Taylor``,
  the sparsity tracer), with a warning, once per call site, that the code would be faster
  written with ``np.stack`` or by keeping the dual array (``ObjectArrayWarning``);
* carry the methods NumPy's object loops call, generated from the rule table
  (``add_element_methods``);
* lift an object array back to a dual array where it meets them (``lift``): as ``f``'s output in
  every helper, and as an operand of a dual array's operation.

What truly loses a derivative still raises: an object array converted to ``float``
(``dtype=float``, ``astype(float)``, a write into a float array) calls ``float()`` on a dual,
which raises. ``strict_arrays()`` turns the fallback itself into the TypeError it replaces, for
code that must never take the slow path.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..core import errors
from ..rules import functions as table
from ..rules.calls import operand_places
from ..rules.elementwise import UFUNC_RULES, is_dual, register_object_lift

__all__ = [
    "ObjectArrayWarning",
    "strict_arrays",
    "lift",
    "lift_operand",
    "is_object_array",
    "array_like",
    "lift_inputs",
    "lift_operands",
]

_OBJECT = np.dtype(object)


class ObjectArrayWarning(RuntimeWarning):
    """NumPy made an object array of duals (``np.array([...])`` of Duals, ``np.asarray(x)`` of a
    DualArray). The derivatives stay exact, but every element is a Python object: write
    ``np.stack([...])`` (or ``dualdiff.stack``) and keep the ``DualArray`` for full speed.
    ``dualdiff.strict_arrays()`` makes this an error instead.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     dd.derivative(lambda x: np.array([x, x**2]), 3.0)  # exact, but slow
    array([1., 6.])
    >>> caught[0].category.__name__
    'ObjectArrayWarning'
    >>> dd.derivative(lambda x: np.stack([x, x**2]), 3.0)  # the fast way: no warning
    array([1., 6.])
    """


_STRICT: contextvars.ContextVar[bool] = contextvars.ContextVar("dualdiff_strict", default=False)


@contextlib.contextmanager
def strict_arrays(strict: bool = True) -> Iterator[None]:
    """Within the block, ``np.array([...])`` of duals and ``np.asarray(x)`` of a dual array raise
    TypeError instead of building an object array of duals (``strict=False`` allows it again).

    For code that must run at full speed: the error names the construct and its fix
    (``np.stack([...])``, keeping the ``DualArray``). The setting is per thread (and asyncio
    task), and nests.

    Examples
    --------
    >>> import numpy as np, dualdiff as dd
    >>> with dd.strict_arrays():
    ...     dd.jacobian(lambda x: np.array([x[0], x[1]]), np.ones(2))
    Traceback (most recent call last):
    ...
    TypeError: numpy.array([...]) of Duals ...
    """
    token = _STRICT.set(bool(strict))
    try:
        yield
    finally:
        _STRICT.reset(token)


def refuse_or_warn(
    what: str, fix: str, dtype: Any, copy: Any, tag: Any = None, stacklevel: int = 3
) -> None:
    """The checks of a dual type's ``__array__``: a dtype other than object drops the tangent
    (TypeError); so does any conversion under ``strict_arrays()``; ``copy=False`` cannot be
    honoured (NumPy's ValueError). Otherwise warn, once per call site, that the fallback is
    slow."""
    if dtype is not None and np.dtype(dtype) != _OBJECT:
        noun = what.split(" of ", 1)[-1]  # "a DualArray", "Duals", ...
        raise errors.lost_tangent(
            f"Converting {noun} to {np.dtype(dtype)} (writing into a float array: out[i] = x, "
            "out[i:j] = x, K[i:j] += x; np.asarray(x, dtype=float), x.astype(float), "
            "np.array([...], dtype=float))",
            "Keep the dual: preallocate with np.zeros_like(x) or np.zeros(n, like=x) and write "
            "into that, build arrays with np.stack([...]), or use x.value for the plain values.",
        )
    if _caller_code(stacklevel - 1) is _AS_STRIDED:
        # its strides are bytes of the values' memory: on an object array (8-byte pointers) they
        # picked the wrong elements (of a strided view, or float32) or crashed the interpreter
        raise TypeError(
            f"numpy.lib.stride_tricks.as_strided of {what.split(' of ', 1)[-1]} is not supported: "
            "its strides address the memory of plain values, which dual numbers do not have. "
            "Use np.lib.stride_tricks.sliding_window_view (differentiated, a view as well), or "
            "index with an integer array."
        )
    if _STRICT.get():
        raise errors.lost_tangent(
            f"{what} (dualdiff.strict_arrays() refuses object arrays of duals)",
            fix,
        )
    if copy is False:
        raise ValueError(
            "Unable to avoid copy while creating an array as requested: the array of a dual is "
            "a new array of objects."
        )
    errors.note_object_array(what, tag, stacklevel - 1)
    warnings.warn(
        f"{what} made an object array of duals: the derivatives are exact but every element "
        f"is a Python object (slow), and compiled code that needs float64 refuses it. {fix} "
        "dualdiff.strict_arrays() turns this into an error.",
        ObjectArrayWarning,
        stacklevel=stacklevel,
    )


def _numpy_reductions() -> frozenset[Any]:
    """The code of NumPy's ``mean``, ``var`` and ``std``, which divide the sum
    of an object array as ``ret.dtype.type(ret / n)`` when the sum has a ``dtype``."""
    methods = sys.modules.get("numpy._core._methods") or sys.modules.get("numpy.core._methods")
    names = ("_mean", "_var", "_std")
    return frozenset(getattr(methods, n).__code__ for n in names if hasattr(methods, n))


_REDUCTIONS = _numpy_reductions()
_AS_STRIDED = getattr(np.lib.stride_tricks.as_strided, "__code__", None)


def _caller_code(depth: int) -> Any:
    """The code object of the function ``depth`` frames above the caller (None past the top)."""
    try:
        return sys._getframe(depth + 1).f_code
    except ValueError:
        return None


def dtype_hidden(depth: int = 2) -> bool:
    """Whether a dual's ``dtype`` is being asked for by NumPy's ``mean``/``var`` of an object
    array. There the element must have none, as a Python float has none: NumPy would convert
    the mean to ``dtype.type``, a float, dropping the tangent (``np.float64(dual)``).
    ``depth`` is the caller's frame above this function's (2: the caller of the property)."""
    try:
        return sys._getframe(depth).f_code in _REDUCTIONS
    except ValueError:  # no Python caller that deep (read from C at the bottom of a stack)
        return False


def object_array(
    items: list[Any], shape: tuple[int, ...], writable: bool = True, like: Any = None
) -> np.ndarray:
    """An object array of ``shape`` holding ``items`` (in C order) as they are, in the memory
    order of the array ``like`` (Fortran order for a Fortran-ordered one: then
    ``np.asfortranarray`` of it is the read-only array itself, not a writable copy that a write
    meant for the dual array would be lost in).

    ``np.fromiter`` stores the objects without looking into them (``np.array(items)`` would ask
    every dual for its array again)."""
    out = np.fromiter(items, dtype=object, count=len(items)).reshape(shape)
    if (
        type(like) is np.ndarray
        and like.ndim > 1
        and like.flags.f_contiguous
        and not like.flags.c_contiguous
    ):
        out = np.asfortranarray(out)
    if not writable:
        out.flags.writeable = False
    return out


def scalar_object_array(element: Any) -> np.ndarray:
    """The 0-d object array holding ``element`` (a scalar dual's ``__array__``)."""
    out = np.empty((), dtype=object)
    out[()] = element
    return out


def is_object_array(a: Any) -> bool:
    """Whether ``a`` is an ndarray of ``dtype=object``."""
    return type(a) is np.ndarray and a.dtype == _OBJECT


def lift(a: np.ndarray) -> Any:
    """An object array as the dual array it stands for (or a plain array without duals).

    Its duals are stacked by NumPy's dispatch (the dual types' own ``np.stack``): the newest tag
    leads, older duals and plain numbers become constants of it, nested tags stay nested, and
    all ``k`` tangent directions are kept. A 0-d array gives its scalar."""
    items = a.ravel().tolist()  # an object array's tolist holds the elements themselves
    shape = a.shape
    if not any(is_dual(item) for item in items):
        plain = np.array(items) if items else np.zeros(shape)
        if plain.dtype.kind not in "biufc":
            raise TypeError(
                "an object array that holds neither duals nor numbers cannot carry a "
                f"derivative (dtype {plain.dtype} after conversion)"
            )
        return plain.reshape(shape)[()] if shape == () else plain.reshape(shape)
    bad = [item for item in items if not is_dual(item) and not _is_number(item)]
    if bad:
        raise TypeError(
            "an object array of duals holds "
            f"{errors.type_name(bad[0])}, which carries no derivative; it may hold duals and "
            "numbers only"
        )
    if shape == ():
        return items[0]
    stacked = np.stack(items)
    return stacked.reshape(shape) if len(shape) != 1 else stacked


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, complex, np.number, np.bool_))


def lift_operand(a: Any) -> Any:
    """``a`` lifted when it is an object array (of duals), else ``a`` itself."""
    if type(a) is np.ndarray and a.dtype is _OBJECT:  # (NumPy's dtypes are singletons)
        return lift(a)
    return a


def _holds_duals(a: Any) -> bool:
    return type(a) is np.ndarray and a.dtype == _OBJECT and any(is_dual(i) for i in a.flat)


def lift_arguments(args: Any) -> Any:
    """Function arguments with every object array of duals among them (at the top level or in a
    list/tuple) lifted; other object arrays are left to NumPy."""
    for a in args:  # the common case first: nothing that is or holds an object array
        t = type(a)
        if t is np.ndarray:
            if a.dtype.kind == "O":  # (a dtype with metadata is not the singleton)
                break
        elif t is list or t is tuple:
            for i in a:
                if type(i) is np.ndarray and i.dtype.kind == "O":
                    break
            else:
                continue
            break
    else:
        return args
    out = []
    changed = False
    for a in args:
        if _holds_duals(a):
            a, changed = lift(a), True
        elif type(a) in (list, tuple) and any(_holds_duals(i) for i in a):
            a, changed = type(a)(lift(i) if _holds_duals(i) else i for i in a), True
        out.append(a)
    return tuple(out) if changed else args


def _list_holds_duals(a: list | tuple) -> bool:
    for item in a:
        t = type(item)
        if t is list or t is tuple:
            if _list_holds_duals(item):
                return True
        elif is_dual(item) or _holds_duals(item):
            return True
    return False


def array_like(a: Any) -> Any:
    """A list or tuple operand as the array NumPy makes of it: when it holds duals (at any
    depth, or object arrays of them) stacked by ``np.stack`` (each dual type's own), so their
    tangents are kept; else ``a`` itself, for NumPy to convert. Left to NumPy, ``x + [d, 1.0]``
    made an object array of the duals that a carrier then took as a constant."""
    if type(a) not in (list, tuple) or not _list_holds_duals(a):
        return a
    items = [array_like(i) if type(i) in (list, tuple) else lift_operand(i) for i in a]
    if len({_shape(i) for i in items}) > 1:
        return a  # ragged: not an array but a sequence NumPy broadcasts (np.choose's choices)
    return np.stack(items)


def _shape(a: Any) -> tuple[int, ...]:
    shape = getattr(a, "shape", None)
    return np.shape(a) if shape is None else shape


def lift_inputs(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """A ufunc's inputs (each array-like) with object arrays of duals lifted and lists or tuples
    holding duals stacked (``array_like``); the tuple itself when there is nothing to do."""
    for a in inputs:  # the common case first: no list, no object array
        t = type(a)
        if t is list or t is tuple or (t is np.ndarray and a.dtype.kind == "O"):
            break
    else:
        return inputs
    lifted = tuple(lift(a) if _holds_duals(a) else array_like(a) for a in inputs)
    return inputs if all(new is old for new, old in zip(lifted, inputs)) else lifted


def lift_operands(func: Any, args: Any, kwargs: dict) -> tuple[Any, dict]:
    """``func``'s arguments with each operand the function table declares for it that is a list
    or tuple holding duals stacked (``array_like``): an array-like operand itself, or an item of
    a sequence operand (``np.concatenate([x[:2], [x[2]]])``); ``np.block``'s nested lists are
    its structure, left alone. ``(args, kwargs)`` themselves when there is nothing to do."""
    for a in (*args, *kwargs.values()):  # the common case first: no list argument
        if type(a) is list or type(a) is tuple:
            break
    else:
        return args, kwargs
    places = _operand_places(func, len(args), tuple(kwargs))
    for place, depth in places:
        a = args[place[1]] if place[0] == "a" else kwargs[place[1]]
        if type(a) is not list and type(a) is not tuple:
            continue
        if depth == 0:
            new = array_like(a)
        elif depth == 1:
            for item in a:  # (the common sequence of arrays holds no list: nothing to do)
                if type(item) is list or type(item) is tuple:
                    break
            else:
                continue
            new = type(a)(array_like(item) for item in a)
        else:
            continue
        if new is not a:
            if place[0] == "a":
                args = (*args[: place[1]], new, *args[place[1] + 1 :])
            else:
                kwargs = {**kwargs, place[1]: new}
    return args, kwargs


@functools.cache
def _operand_places(func: Any, n_args: int, keywords: tuple[str, ...]) -> tuple:
    """``operand_places`` of a call of ``func`` with ``n_args`` positional arguments and these
    keywords (where the operands sit depends on nothing else), once per kind of call."""
    entry = table.entry(func)
    if entry is None:
        return ()
    return tuple(operand_places(entry, [None] * n_args, dict.fromkeys(keywords)))


def add_element_methods(cls: type) -> None:
    """Give ``cls`` the methods NumPy's object loops call on elements: ``np.sin(a)`` of an
    object array calls ``e.sin()`` on each element, ``np.arctan2(a, b)`` calls ``e.arctan2(f)``
    (the method is named after the ufunc). One per ufunc of the rule table that has an object
    loop; a name the class already defines is left alone."""
    for ufunc, rule in UFUNC_RULES.items():
        name = ufunc.__name__
        if hasattr(cls, name) or not any("O" in t for t in ufunc.types):
            continue
        setattr(cls, name, _element_method(name, rule.function, ufunc.nin))


def _element_method(name: str, function: Callable[..., Any], nin: int) -> Callable[..., Any]:
    if nin == 1:

        def method(self: Any) -> Any:
            return function(self)

    else:

        def method(self: Any, other: Any) -> Any:
            return function(self, other)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``numpy.{name}`` of this element (NumPy's object loops call it)."
    return method


register_object_lift(lift_operand)


def plain_numbers(arr: np.ndarray) -> np.ndarray:
    """An object array of plain numbers as the numeric array it stands for (the dense driver's
    input check takes it so; the others refused it); anything else comes back as it was, for
    the caller's own error."""
    try:
        lifted = lift_operand(arr)
    except TypeError:
        return arr
    return arr if is_dual(lifted) else np.asarray(lifted)
