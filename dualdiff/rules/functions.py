"""The function table: NumPy's functions that are not elementwise, each declared once by *kind*.

The elementwise functions have their rule table (``dualdiff.rules.elementwise``): one derivative per
function, which every carrier applies. NumPy's other functions mostly need no derivative of their
own: what a function *is* decides how a derivative passes through it, the same way for every
carrier.

``structural``
    Moves, copies or selects elements and does nothing else (reshape, the transposes, flips, roll,
    take, repeat, tile, concatenate/stack/split, pad's linear modes ...). Applied to the value
    and to the tangent alike: ``d f(x) = f(dx)``. Its sparsity pattern is the function applied to
    an array of element indices, and a compiler can gather with constant indices.
``linear``
    Linear in its ``operands`` with other parameters fixed (sum, mean, cumsum, diff, trace,
    trapezoid ...): ``d f(x) = f(dx)`` too, but elements mix, so an index map does not describe
    it. ``axes`` names the parameters that are axes, for carriers that keep a direction axis.
``multilinear``
    Linear in each operand separately (dot, einsum, kron ...): the product rule
    ``d f(a, b) = f(da, b) + f(a, db)``.
``value``
    Functions of the values only (argmax, argsort, nonzero, shape, isclose ...): no derivative
    flows through; the sparsity tracer marks their results as derived from x (an index computed
    from values holds at this point only).
``composition``
    Written in terms of other functions of the tables (``compositions`` below): every carrier
    that has those has this one.
``special``
    Needs code of its own in each carrier (the linear algebra, prod/cumprod at zeros, functions
    that write into their arguments). ``carriers`` records which carriers have it; the others
    refuse it with one clear TypeError.
``construction``
    Builds an array from shapes and constants (zeros_like, full ...): a constant, unless a fill
    value is a dual number.

A carrier (``DualArray``, ``Taylor``, the compiler's ``SymbolicDual``, ``SparsityTracer``) derives
its handler for every function from the entry's kind; it may register a faster or view-returning
handler of its own for a function (``overrides``), which the tests check against the generic one.
The table imports no carrier.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["KINDS", "CARRIERS", "Entry", "FUNCTIONS", "entry", "by_kind", "layout_refusal"]

KINDS = ("structural", "linear", "multilinear", "value", "composition", "special", "construction")
"""The kinds of NumPy functions, in the order of the module docstring."""

CARRIERS = ("DualArray", "Taylor", "compiler", "sparsity")
"""The array carriers, which each handle every function of the table or say why not."""


@dataclass(frozen=True)
class Entry:
    """One NumPy function: what it is, and which of its parameters carry derivatives.

    Attributes
    ----------
    name : str
        The function as NumPy spells it below ``numpy`` (``"sum"``, ``"linalg.solve"``).
    function : callable
        The NumPy function itself (the key of ``FUNCTIONS``).
    kind : str
        One of ``KINDS``.
    operands : tuple of str
        The parameters a derivative flows through. ``"*name"``: a sequence of arrays (the items
        are the operands); ``"**name"``: nested lists of arrays (``np.block``); a plain name:
        one array. Empty for ``value`` functions and most constructions.
    values : tuple of str
        Parameters that may hold dual numbers but are read for their values only (the condition
        of ``where``, the conditions of ``select``).
    axes : tuple of str
        The axis parameters (``axis``, ``axis1``, ...), for carriers that keep a direction axis.
    carriers : frozenset of str
        For ``special`` functions: the carriers with code for it.
    why : str
        For ``special`` functions and declared gaps: the reason, said in errors.
    view : bool
        NumPy returns a view of the first operand (writes through it land in the operand), so
        every carrier needs a view-returning handler of its own, not the generic copy.
    guard : callable or None
        ``guard(option)`` with ``option(name, default)`` reading the call's arguments: None when
        the call is of the declared kind, else why not (``np.pad``'s computing modes are not
        structural); carriers refuse such a call unless an override of theirs handles it.
    """

    name: str
    function: Callable[..., Any]
    kind: str
    operands: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    axes: tuple[str, ...] = ()
    carriers: frozenset[str] = field(default_factory=frozenset)
    why: str = ""
    view: bool = False
    guard: Callable[[Callable[..., Any]], str | None] | None = None


_TABLE: dict[Callable[..., Any], Entry] = {}


def _numpy(name: str) -> Callable[..., Any] | None:
    """The NumPy function of this dotted name, or None in a NumPy without it."""
    obj: Any = np
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _declare(kind: str, names: str, **options: Any) -> None:
    for name in names.split():
        function = _numpy(name)
        if function is None:
            continue
        if function in _TABLE:  # another name of a declared function (permute_dims, amax)
            if _TABLE[function].name == name or _TABLE[function].kind != kind:
                raise ValueError(f"numpy.{name} is declared twice in the function table")
            continue
        declared = dict(options)
        if kind == "special":
            declared["carriers"] = frozenset(options.get("carriers", ()))
        if "@0" in options.get("operands", ()):  # the first parameter, whatever its name
            first = next(iter(inspect.signature(function).parameters))
            declared["operands"] = tuple(first if o == "@0" else o for o in options["operands"])
        _TABLE[function] = Entry(name, function, kind, **declared)


# -- structural: d f(x) = f(dx), and f moves elements only ----------------------------------------


def layout_refusal(name: str, order: Any, shape: tuple[int, ...]) -> str | None:
    """Why ``numpy.{name}(a, order=order)`` of an array of ``shape`` is refused, or None.

    ``order='K'`` and ``'A'`` read the elements in the array's memory layout, which NumPy sets
    by how the array was computed (a transpose, ``np.sort`` of one, ``empty_like`` ...). The
    carriers compute values and tangents in layouts of their own, so they cannot mirror it: the
    call is refused unless the layout cannot matter (at most one axis longer than 1)."""
    if not (isinstance(order, str) and order.upper() in ("K", "A")):
        return None
    if sum(n > 1 for n in shape) <= 1:
        return None
    return (
        f"numpy.{name}(..., order={order!r}) reads the array in its memory layout, which "
        "dualdiff does not track for dual numbers (its values and tangents have layouts of their "
        "own); use order='C' or order='F'"
    )


def _layout_guard(name: str) -> Callable[[Callable[..., Any]], str | None]:
    return lambda option: layout_refusal(name, option("order", "C"), np.shape(option("a", None)))


for _name in ("reshape", "ravel"):
    _declare("structural", _name, operands=("@0",), view=True, guard=_layout_guard(_name))
_declare(
    "structural",
    "transpose permute_dims matrix_transpose swapaxes moveaxis rollaxis squeeze "
    "expand_dims broadcast_to flip fliplr flipud rot90 diagonal split array_split hsplit vsplit "
    "dsplit unstack linalg.matrix_transpose linalg.diagonal",
    operands=("@0",),
    view=True,
)
_declare(
    "structural",
    "roll take repeat tile resize diag triu tril copy delete diagflat",
    operands=("@0",),
)
_declare("structural", "lib.stride_tricks.sliding_window_view", operands=("x",), view=True)
_declare("structural", "take_along_axis", operands=("arr",))
_declare("structural", "fft.fftshift fft.ifftshift", operands=("x",), axes=("axes",))
_declare("structural", "compress", operands=("a",), values=("condition",))
_declare("structural", "extract", operands=("arr",), values=("condition",))
_declare("structural", "broadcast_arrays", operands=("*args",), view=True)
_declare("structural", "atleast_1d atleast_2d atleast_3d", operands=("*arys",), view=True)
_declare("structural", "concatenate concat stack", operands=("*arrays",))
_declare("structural", "hstack vstack dstack column_stack", operands=("*tup",))
_declare("structural", "block", operands=("**arrays",))
_declare("structural", "append", operands=("arr", "values"))
_declare("structural", "insert", operands=("arr", "values"))

STRUCTURAL_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "empty")
"""The modes of ``np.pad`` that only copy elements (``linear_ramp`` and ``mean`` compute)."""


def _pad_guard(option: Callable[..., Any]) -> str | None:
    mode = option("mode", "constant")
    if callable(mode) or mode not in STRUCTURAL_PAD_MODES:
        return f"numpy.pad(mode={mode!r}) computes new values; structural modes: " + ", ".join(
            STRUCTURAL_PAD_MODES
        )
    if mode in ("reflect", "symmetric") and option("reflect_type", "even") != "even":
        return "numpy.pad(reflect_type='odd') computes new values"
    return None


_declare("structural", "pad", operands=("array", "constant_values"), guard=_pad_guard)

# -- linear: d f(x) = f(dx), elements mix ------------------------------------------------------

_declare("linear", "mean cumsum", operands=("@0",), axes=("axis",))
_declare("linear", "sum", operands=("a", "initial"), axes=("axis",))
_declare("linear", "diff", operands=("a", "prepend", "append"), axes=("axis",))
_declare("linear", "trace linalg.trace", operands=("@0",), axes=("axis1", "axis2"))
_declare("linear", "gradient", operands=("f",), axes=("axis",))
_declare("linear", "real imag", operands=("val",), view=True)
_declare("linear", "where", operands=("x", "y"), values=("condition",))
_declare("linear", "bincount", operands=("weights",), values=("x",))
_declare("linear", "cumulative_sum", operands=("x",), axes=("axis",))
_declare("linear", "ediff1d", operands=("ary", "to_end", "to_begin"))
_declare("linear", "polyadd polysub", operands=("a1", "a2"))
_declare("linear", "polyder", operands=("p",))
_declare("linear", "polyint", operands=("p", "k"))


# real-linear (the conjugation inside hfft/ihfft too): d fft(x) = fft(dx); NumPy's dtype rules
_declare(
    "linear",
    "fft.fft fft.ifft fft.rfft fft.irfft fft.hfft fft.ihfft",
    operands=("a",),
    axes=("axis",),
)
_declare(
    "linear",
    "fft.fft2 fft.ifft2 fft.fftn fft.ifftn fft.rfft2 fft.irfft2 fft.rfftn fft.irfftn",
    operands=("a",),
    axes=("axes",),
)
_declare("linear", "select", operands=("*choicelist", "default"), values=("condlist",))

# -- multilinear: the product rule over the operands ---------------------------------------------

_declare("multilinear", "dot vdot inner outer tensordot kron cross", operands=("a", "b"))
_declare("multilinear", "matmul", operands=("x1", "x2"))
# NumPy's gufunc products (2.0: vecdot; 2.2: matvec, vecmat): __array_ufunc__ hands them over
_declare("multilinear", "vecdot matvec vecmat", operands=("x1", "x2"))
_declare("multilinear", "convolve correlate", operands=("a", "v"))
_declare("multilinear", "trapezoid", operands=("y", "x", "dx"), axes=("axis",))
_declare("multilinear", "einsum", operands=("*operands",))
_declare("multilinear", "linalg.multi_dot", operands=("*arrays",))
_declare(
    "multilinear",
    "linalg.matmul linalg.outer linalg.tensordot linalg.vecdot linalg.cross",
    operands=("x1", "x2"),
)

# -- functions of the values only -----------------------------------------------------------------

_declare(
    "value",
    "shape ndim size result_type may_share_memory shares_memory any all argmax argmin argsort "
    "nanargmax nanargmin "
    "argpartition argwhere nonzero flatnonzero lexsort count_nonzero isclose allclose "
    "array_equal array_equiv searchsorted digitize isreal iscomplex isrealobj iscomplexobj "
    "isneginf isposinf round around fix linalg.matrix_rank isin",
)

# -- compositions of other functions of the tables -------------------------------------------------

_declare(
    "composition",
    "clip sort partition max amax min amin ptp var std nanvar nanstd nanmax nanmin median "
    "nanmedian nansum nancumsum nanmean nanprod nancumprod polyval interp angle nan_to_num",
    operands=("@0",),
)
_declare(
    "composition",
    "percentile quantile nanpercentile nanquantile",
    operands=("a",),
    values=("q",),
    axes=("axis",),
)
_declare("composition", "piecewise", operands=("x",), values=("condlist",))
# writes into the first argument through np.put (the compiler keeps a functional write of its own)
_declare("composition", "fill_diagonal", operands=("a", "val"))
_declare("composition", "place", operands=("arr", "vals"), values=("mask",))
_declare("composition", "putmask", operands=("a", "values"), values=("mask",))
_declare("composition", "put_along_axis", operands=("arr", "values"), values=("indices",))
_declare("composition", "meshgrid", operands=("*xi",))
_declare("composition", "linspace", operands=("start", "stop"))
_declare("composition", "polyfit", operands=("x", "y", "w"))
_declare(
    "composition",
    "cumulative_prod vander poly roots i0 real_if_close sort_complex astype trim_zeros unwrap "
    "unique unique_values unique_counts unique_inverse unique_all",
    operands=("@0",),
)
_declare("composition", "polydiv", operands=("u", "v"))
_declare("composition", "polymul", operands=("a1", "a2"))
_declare("composition", "cov corrcoef", operands=("@0", "y"))
_declare("composition", "average", operands=("a", "weights"), axes=("axis",))
_declare("composition", "logspace", operands=("start", "stop", "base"))
_declare("composition", "geomspace", operands=("start", "stop"))
_declare("composition", "apply_along_axis", operands=("arr",))
_declare("composition", "apply_over_axes", operands=("a",))
_declare("composition", "choose", operands=("choices",), values=("a",))
_declare("composition", "union1d intersect1d setdiff1d setxor1d", operands=("ar1", "ar2"))
# linear in the weights; which bin a sample falls in is read from the values, and equal bins over
# the samples' own range move with the extreme samples
_declare("composition", "histogram", operands=("a", "weights"))
_declare("composition", "histogram_bin_edges", operands=("a",))
_declare("composition", "histogram2d", operands=("x", "y", "weights"))
_declare("composition", "histogramdd", operands=("sample", "weights"))
_declare(
    "composition",
    "emath.sqrt emath.log emath.log2 emath.log10 emath.arcsin emath.arccos emath.arctanh",
    operands=("x",),
)
_declare("composition", "emath.logn", operands=("n", "x"))
_declare("composition", "emath.power", operands=("x", "p"))

# -- special: per-carrier code --------------------------------------------------------------------

_declare(
    "special",
    "prod cumprod",
    operands=("a",),
    carriers=CARRIERS,
    why="the derivative at zeros is not prod/x",
)
_TAYLOR = CARRIERS
_declare("special", "linalg.solve", operands=("a", "b"), carriers=_TAYLOR)
_declare(
    "special",
    "linalg.inv linalg.det linalg.slogdet linalg.cholesky linalg.eigh linalg.eigvalsh",
    operands=("a",),
    carriers=_TAYLOR,
)
_declare(
    "special",
    "linalg.norm linalg.vector_norm linalg.matrix_norm",
    operands=("x",),
    carriers=_TAYLOR,
)
_declare(
    "special",
    "linalg.svdvals linalg.svd linalg.cond linalg.matrix_power linalg.tensorinv",
    operands=("@0",),
    carriers=_TAYLOR,
)
_declare("special", "linalg.tensorsolve", operands=("a", "b"), carriers=_TAYLOR)
# Taylor mode runs DualArray's first-order rule nested once per order for these (its fallback,
# dualdiff.series.taylor._nested_fallback: cost about 3**order, up to taylor.FALLBACK_MAX_ORDER).
_FALLBACK = CARRIERS
_declare("special", "linalg.lstsq linalg.pinv linalg.qr", carriers=_FALLBACK)
_declare(
    "special",
    "linalg.eig linalg.eigvals",
    carriers=_FALLBACK,
    why="non-symmetric eigenproblems have complex results and no rule at repeated eigenvalues",
)
_declare("special", "copyto", carriers=CARRIERS, why="writes into dst")
_declare("special", "put", carriers=CARRIERS, why="writes into a")

# -- construction ---------------------------------------------------------------------------------

_declare("construction", "zeros_like ones_like empty_like zeros ones empty")
_declare("construction", "full_like full", operands=("fill_value",))


FUNCTIONS: Mapping[Callable[..., Any], Entry] = types.MappingProxyType(_TABLE)
"""Every declared NumPy function, keyed by the function object (read-only)."""

LIKE_CONSTRUCTORS = frozenset(
    e.function for e in _TABLE.values() if e.kind == "construction" and not e.name.endswith("_like")
)
"""The constructors that reach a carrier only through ``like=`` (``np.zeros(n, like=x)``): NumPy
passes the carrier's ``__array_function__`` neither ``like`` nor any dual argument, so the
carrier is the prototype."""


READ_ONLY_VIEWS = frozenset(
    f
    for f in (
        np.diagonal,
        getattr(np.linalg, "diagonal", None),
        np.broadcast_to,
        np.lib.stride_tricks.sliding_window_view,
        np.diag,
    )
    if f is not None
)
"""The functions whose view NumPy may hand out read-only (``read_only_view`` says when): every
carrier marks such a result, so a write into it, or into a view of it, raises NumPy's
ValueError instead of landing in a private copy and being lost."""


def read_only_view(function: Callable[..., Any], args: Any, kwargs: Any) -> bool:
    """Whether NumPy hands out ``function(*args, **kwargs)`` read-only: ``np.diagonal``,
    ``np.linalg.diagonal`` and ``np.broadcast_to`` always, ``np.diag`` of a matrix (its
    diagonal), ``sliding_window_view`` unless ``writeable=True``."""
    if function is np.lib.stride_tricks.sliding_window_view:
        return not kwargs.get("writeable", False)
    if function is np.diag:
        return bool(args) and len(getattr(args[0], "shape", np.shape(args[0]))) == 2
    return function in READ_ONLY_VIEWS


def entry(function: Callable[..., Any]) -> Entry | None:
    """The table's entry of a NumPy function, or None if it is not declared."""
    return _TABLE.get(function)


def by_kind(kind: str) -> Iterator[Entry]:
    """The entries of one kind, in declaration order."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")
    return (e for e in _TABLE.values() if e.kind == kind)
