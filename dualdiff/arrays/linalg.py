"""Derivative rules for ``numpy.linalg`` on DualArrays (forward mode, Giles's matrix results).

Every rule computes the value with the NumPy function itself (so errors and conventions are
NumPy's) and the tangent with NumPy calls on the value and the tangent, which carry a leading
direction axis: ``dA`` has shape ``(k,) + A.shape`` and the stacked (gufunc) linalg functions
broadcast over it. Those calls dispatch back to these rules when the value is itself dual, so the
rules nest (Hessians). A few functions (``matrix_power``, ``multi_dot``, ``cond``, the tensor
solvers, the ``inf``/``1``/spectral matrix norms) are compositions of differentiable operations.

Conventions shared by the factorizations:

* A function that reads one triangle of its argument (``cholesky``, ``eigh``, ``eigvalsh``, ``svd``
  and ``pinv`` with ``hermitian=True``) is differentiated as the function NumPy computes: the
  tangent of the unread triangle is ignored and the read triangle is mirrored (its diagonal's
  imaginary part dropped, as LAPACK does).
* Signs and phases of factors are NumPy's (LAPACK's); they are locally constant, so their
  tangents follow them. The free phase of complex eigen/singular vectors is LAPACK's too: one
  row of the factor is real (``_real_row``), and the tangent keeps it real.
* Repeated eigenvalues or singular values make the vector tangents undefined: the rules divide
  by their differences and return ``inf``/``nan`` there (the value tangents stay finite).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core.errors import NOT_DIFFERENTIATED
from ..rules.elementwise import is_dual
from .dualarray import (
    DualArray,
    _make_array,
    box,
    fit_tangent,
    implements,
    strip,
    tangent_axis,
    zeros_tangent,
)
from .functions import _as_dual_array, _exclusive_products, _finish, _gather

__all__: list[str] = []

LinAlgError = np.linalg.LinAlgError

_EYE1 = np.eye(1)
_SlogdetResult = type(np.linalg.slogdet(_EYE1))
_EighResult = type(np.linalg.eigh(_EYE1))
_QRResult = type(np.linalg.qr(_EYE1))
_SVDResult = type(np.linalg.svd(_EYE1))
_EigResult = type(np.linalg.eig(_EYE1))

_ADJUGATE_COND = 1e8
"""Above this (1-norm) condition number ``det`` takes its gradient from the SVD adjugate."""


# ---------------------------------------------------------------------------------------------
# Helpers: operands, shapes, conjugate transposes, solves with many right-hand sides
# ---------------------------------------------------------------------------------------------


def _operands(*items: Any) -> tuple[int, int, bool, list[Any], list[Any]]:
    """``(tag, k, batched, values, tangents)`` at the newest tag; constants get tangent None."""
    tag, batched, values, tangents = _gather(items, zeros=False)
    k = next(t.shape[0] for t in tangents if t is not None)
    return tag, k, batched, values, tangents


def _result(value: Any, tangent: Any, tag: int, k: int, batched: bool) -> Any:
    if not is_dual(value):
        value = np.asarray(value)
    shape = _shape(value)
    if tangent is None:
        tangent = zeros_tangent(k, value)
    return box(_make_array(value, fit_tangent(tangent, k, shape), tag, batched))


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(strip(x))


def _complex(x: Any) -> bool:
    return np.iscomplexobj(strip(x))


def _mT(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _mH(x: Any, cplx: bool) -> Any:
    """The conjugate transpose of the last two axes (the transpose for real data)."""
    return np.conjugate(_mT(x)) if cplx else _mT(x)


def _real(x: Any, cplx: bool) -> Any:
    return np.real(x) if cplx else x


def _lift(t: Any, ndim: int) -> Any:
    """Tangent ``t`` (direction axis first) with ones inserted so it has ``ndim`` value axes."""
    shape = _shape(t)
    extra = ndim - (len(shape) - 1)
    if extra <= 0:
        return t
    return np.reshape(t, shape[:1] + (1,) * extra + shape[1:])


def _add(a: Any, b: Any) -> Any:
    """Sum of two tangent terms, either of which may be absent (None)."""
    if a is None:
        return b
    return a if b is None else a + b


def _solve_k(a: Any, r: Any) -> Any:
    """``a^{-1} r`` for ``r`` of shape ``(k, ..., n, m)``: the ``k`` directions become extra
    columns, so ``a`` is factorized once rather than once per direction."""
    r = _lift(r, len(_shape(a)))
    shape = _shape(r)
    k, m = shape[0], shape[-1]
    columns = np.moveaxis(r, 0, -2)
    columns = np.reshape(columns, shape[1:-1] + (k * m,))
    x = np.linalg.solve(a, columns)
    x = np.reshape(x, _shape(x)[:-1] + (k, m))
    return np.moveaxis(x, -2, 0)


def _solve_right(b: Any, a: Any) -> Any:
    """``b a^{-1} = (a^{-T} b^T)^T`` for ``b`` of shape ``(k, ..., m, n)``."""
    return _mT(_solve_k(_mT(a), _mT(b)))


def _real_dtype(x: Any) -> np.dtype:
    """The real float dtype of ``x``'s numbers (float32 for complex64)."""
    return np.finfo(np.result_type(strip(x), 0.0)).dtype


def _eye(n: int, like: Any) -> np.ndarray:
    """The identity in the real dtype of ``like``: a float64 one turns float32 tangents float64
    where they are duals themselves (nested differentiation), which ``_result`` does not cast."""
    return np.eye(n, dtype=_real_dtype(like))


def _hermitian_tangent(t: Any, lower: bool, cplx: bool) -> Any:
    """The tangent of the Hermitian matrix a routine reads from one triangle of its argument."""
    n = _shape(t)[-1]
    strict = np.tril(t, -1) if lower else np.triu(t, 1)
    return strict + _mH(strict, cplx) + _real(t, cplx) * _eye(n, t)


def _uplo(uplo: Any) -> bool:
    """Whether ``UPLO`` selects the lower triangle (NumPy has already validated it)."""
    return str(uplo).upper() == "L"


def _expand(x: Any, n: int) -> Any:
    """``x[..., None, ...]`` with ``n`` new trailing axes (a 0-d value or ``Dual`` broadcasts)."""
    if np.ndim(strip(x)) == 0:
        return x
    return x[(Ellipsis,) + (None,) * n]


def _inverse_differences(w: Any) -> Any:
    """``F[i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it (``inf`` where values repeat)."""
    n = _shape(w)[-1]
    eye = np.eye(n, dtype=bool)
    differences = w[..., None, :] - w[..., :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, differences))


def _stacked_matrices(a: Any) -> tuple[int, int]:
    """The matrix shape ``(m, n)`` of ``a``, with NumPy's LinAlgError for fewer than two axes."""
    shape = _shape(a)
    if len(shape) < 2:
        raise LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional"
        )
    return shape[-2], shape[-1]


def _check_plain(name: str, **arguments: Any) -> None:
    for argument, value in arguments.items():
        if is_dual(value):
            raise TypeError(
                f"numpy.linalg.{name}: {argument} must not carry a derivative {NOT_DIFFERENTIATED}"
            )


# ---------------------------------------------------------------------------------------------
# Linear systems and inverses
# ---------------------------------------------------------------------------------------------


@np.errstate(all="ignore")
def _plain_inverse(a: Any) -> Any:
    """``inv(a)`` of plain values when ``a`` is safely nonsingular, else None."""
    try:
        inverse = np.linalg.inv(a)
    except LinAlgError:
        return None
    cond = np.linalg.norm(a, 1, axis=(-2, -1)) * np.linalg.norm(inverse, 1, axis=(-2, -1))
    return inverse if np.all(cond < _ADJUGATE_COND) else None


def _adjugate_svd(a: Any, cplx: bool) -> Any:
    """``adj(a) = det(U) det(Vh) Vh^H diag(prod_{j != i} s_j) U^H``: no division, so it is exact
    at singular matrices (``a = U diag(s) Vh`` and ``adj(Q) = det(Q) Q^H`` for unitary ``Q``)."""
    u, s, vh = np.linalg.svd(a)
    others = _exclusive_products(s, -1)
    phase = np.linalg.det(u) * np.linalg.det(vh)
    return _expand(phase, 2) * ((_mH(vh, cplx) * others[..., None, :]) @ _mH(u, cplx))


_COFACTOR_MAX_N = 4
"""Up to this size a nested (dual) singular matrix takes its adjugate from cofactors."""


def _cofactors(a: Any) -> Any:
    """``C[i, j] = (-1)^(i+j) det(a without row i and column j)`` (``adj(a) = C^T``): a
    polynomial in the entries, so every derivative of it is exact at singular matrices too,
    where the SVD adjugate's derivative is not (repeated singular values, as two zeros). Each
    minor's determinant is the rule of ``det`` again, on a smaller matrix."""
    n = _shape(strip(a))[-1]
    if n == 1:
        return np.ones_like(strip(a))
    rows = []
    for i in range(n):
        keep_rows = [r for r in range(n) if r != i]
        row = []
        for j in range(n):
            keep_cols = [c for c in range(n) if c != j]
            minor = a[..., keep_rows, :][..., keep_cols]
            row.append(np.linalg.det(minor) * (-1.0) ** (i + j))
        rows.append(np.stack(row, axis=-1))
    return np.stack(rows, axis=-2)


def _det_gradient(a: Any, det_value: Any, cplx: bool) -> Any:
    """``adj(a)^T``, so that ``d det(a) = sum(adj(a)^T * da)``: ``det(a) a^{-T}`` when ``a`` is
    well conditioned, else the SVD adjugate."""
    plain = strip(a)
    inverse = _plain_inverse(plain)
    if inverse is None:
        if plain is not a and _shape(plain)[-1] <= _COFACTOR_MAX_N:
            return _cofactors(a)  # nested: the SVD's own derivative is undefined at ties
        return _mT(_adjugate_svd(a, cplx))
    if plain is not a:
        inverse = np.linalg.inv(a)
    return _expand(det_value, 2) * _mT(inverse)


@implements(np.linalg.solve)
def solve(a, b):
    """``x = a^{-1} b``: ``dx = a^{-1} (db - da x)``, one factorization for all directions.

    As in NumPy 2, ``b`` is a vector only when it is 1-d, otherwise a (stack of) matrices.
    A singular ``a`` raises NumPy's LinAlgError.
    """
    tag, k, batched, (av, bv), (da, db) = _operands(a, b)
    x = np.linalg.solve(av, bv)
    vector = len(_shape(bv)) == 1
    xm = x[..., None] if vector else x
    ndim = len(_shape(xm))
    r = None if db is None else _lift(db[..., None] if vector else db, ndim)
    if da is not None:
        r = _add(r, -(_lift(da, ndim) @ xm))
    dx = _solve_k(av, r)
    return _result(x, dx[..., 0] if vector else dx, tag, k, batched)


@implements(np.linalg.inv)
def inv(a):
    """``d(a^{-1}) = -a^{-1} da a^{-1}``; a singular ``a`` raises NumPy's LinAlgError."""
    tag, k, batched, (av,), (da,) = _operands(a)
    inverse = np.linalg.inv(av)
    return _result(inverse, -(inverse @ da @ inverse), tag, k, batched)


@implements(np.linalg.det)
def det(a):
    """``d det(a) = tr(adj(a) da)``, right for singular matrices too.

    The adjugate is ``det(a) a^{-1}`` when ``a`` is well conditioned (1-norm condition number
    below 1e8) and otherwise comes from the SVD (``_adjugate_svd``), which is exact at singular
    ``a``. When ``a`` itself carries a derivative (a Hessian, a Taylor series by nesting), a
    singular matrix of size up to 4 takes the adjugate from cofactors (``_cofactors``), whose
    derivatives are exact everywhere; larger ones go through the SVD, whose derivative is
    ``nan`` where singular values repeat (for instance two zero singular values).
    """
    tag, k, batched, (av,), (da,) = _operands(a)
    value = np.linalg.det(av)
    gradient = _det_gradient(av, value, _complex(av))
    return _result(value, np.sum(gradient * da, axis=(-2, -1)), tag, k, batched)


@implements(np.linalg.slogdet)
def slogdet(a):
    """``d log|det a| = Re tr(a^{-1} da)``; the sign of a complex determinant moves by
    ``sign * i Im tr(a^{-1} da)`` (a real sign is constant). At a singular matrix
    (``logabsdet = -inf``) the tangents are infinite or nan."""
    tag, k, batched, (av,), (da,) = _operands(a)
    sign, logabsdet = np.linalg.slogdet(av)
    cplx = _complex(av)
    try:
        trace = np.sum(_mT(np.linalg.inv(av)) * da, axis=(-2, -1))
    except LinAlgError:
        with np.errstate(divide="ignore", invalid="ignore"):
            adjugate = _adjugate_svd(av, cplx)
            trace = np.sum(_mT(adjugate) * da, axis=(-2, -1)) / (sign * np.exp(logabsdet))
    dsign = sign * (1j * np.imag(trace)) if cplx else None
    return _SlogdetResult(
        _result(sign, dsign, tag, k, batched),
        _result(logabsdet, _real(trace, cplx), tag, k, batched),
    )


@implements(np.linalg.matrix_power)
def matrix_power(a, n):
    """``a**n`` by repeated squaring (products of duals); ``n < 0`` inverts first."""
    _check_plain("matrix_power", n=n)
    try:
        n = operator.index(n)
    except TypeError as error:
        raise TypeError("exponent must be an integer") from error
    a = _as_dual_array(a)
    shape = a.shape
    if len(shape) < 2:
        raise LinAlgError(
            f"{len(shape)}-dimensional array given. Array must be at least two-dimensional"
        )
    if shape[-1] != shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:
        value = np.broadcast_to(np.eye(shape[-1], dtype=a.dtype), shape).copy()
        return _result(value, None, a.tag, a.directions, a.batched)
    if n < 0:
        a, n = inv(a), -n
    if n == 1:
        return a  # NumPy's matrix_power(a, 1) is a itself: a write into one reaches the other
    result, power = None, a
    while True:
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
        if not n:
            return result
        power = power @ power


def _chain_order(dims: list[int]) -> Any:
    """The cheapest parenthesization of a matrix chain (matrix ``i`` is ``dims[i] x dims[i+1]``),
    as a nested tuple of indices (dynamic programming over sub-chains)."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def build(i: int, j: int) -> Any:
        if i == j:
            return i
        s = split[i][j]
        return (build(i, s), build(s + 1, j))

    return build(0, count - 1)


@implements(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """The chain product in the cheapest order (the product rule through each ``@``)."""
    arrays = [_as_dual_array(x) if is_dual(x) else np.asarray(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) == 2:
        return _finish(np.dot(arrays[0], arrays[1]), out, "linalg.multi_dot")
    first, last = len(_shape(arrays[0])), len(_shape(arrays[-1]))
    if first == 1:
        arrays[0] = np.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = np.reshape(arrays[-1], (-1, 1))
    for x in arrays:
        if len(_shape(x)) != 2:
            raise LinAlgError(
                f"{len(_shape(x))}-dimensional array given. Array must be two-dimensional"
            )
    dims = [_shape(x)[0] for x in arrays] + [_shape(arrays[-1])[1]]

    def product(order: Any) -> Any:
        if isinstance(order, int):
            return arrays[order]
        return np.dot(product(order[0]), product(order[1]))

    result = product(_chain_order(dims))
    if first == 1 and last == 1:
        result = result[0, 0]  # NumPy's scalar, which no view writes into
    elif first == 1 or last == 1:
        result = np.reshape(result, (-1,))
    return _finish(result, out, "linalg.multi_dot")


@implements(np.linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    """Reshape to ``solve`` (as NumPy does), so the derivative is ``solve``'s."""
    ndim = len(_shape(a))
    if axes is not None:
        moved = [ax % ndim for ax in axes]
        a = np.transpose(a, [i for i in range(ndim) if i not in moved] + moved)
    shape = _shape(a)[-(ndim - len(_shape(b))) :]
    size = int(np.prod(shape))
    if int(np.prod(_shape(a))) != size**2:
        raise LinAlgError(
            "Input arrays must satisfy the requirement "
            "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])"
        )
    x = np.linalg.solve(np.reshape(a, (size, size)), np.ravel(b))
    return np.reshape(x, shape)


@implements(np.linalg.tensorinv)
def tensorinv(a, ind=2):
    """Reshape to ``inv`` (as NumPy does), so the derivative is ``inv``'s."""
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = _shape(a)
    rows = int(np.prod(shape[:ind]))
    inverse = np.linalg.inv(np.reshape(a, (rows, -1)))
    return np.reshape(inverse, shape[ind:] + shape[:ind])


# ---------------------------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------------------------


def _vector_norm(x: DualArray, p: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """``||x||_p`` over ``axes``: ``d||x|| = sum (|x_i| / ||x||)^(p-1) Re(conj(u_i) dx_i)`` with
    ``u_i = x_i / |x_i|``. Zero entries and a zero norm contribute 0 (as ``absolute`` at 0);
    ``inf``/``-inf`` are ``max``/``min`` of ``|x|`` (ties share the tangent), ``p = 0`` counts."""
    if p == np.inf:
        return _largest(np.abs(x), axes, keepdims)
    if p == -np.inf:
        return np.min(np.abs(x), axis=axes, keepdims=keepdims)
    tag, k, batched, (v,), (t,) = _operands(x)
    value = np.linalg.vector_norm(v, axis=axes, keepdims=True, ord=p)
    cplx = _complex(v)
    taxes = tangent_axis(axes, len(_shape(v)))
    if p == 0:  # a count: a zero tangent of the norm's real dtype
        tangent = np.sum(zeros_tangent(k, _real(v, cplx)), axis=taxes, keepdims=keepdims)
    else:
        plain_norm = strip(value)
        safe_norm = np.where(plain_norm == 0, 1.0, value)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 2:
                weight = (np.conjugate(v) if cplx else v) / safe_norm
                if type(v) is DualArray and not np.all(plain_norm):
                    zero = np.broadcast_to(plain_norm == 0, _shape(v))
                    fill = np.nan if _reduced(v, axes) > 1 else 0.0
                    weight = _derivatives_at_zero(weight, zero, fill)
            else:
                plain_abs = np.abs(strip(v))
                if cplx:
                    unit = np.conjugate(v) / np.where(plain_abs == 0, 1.0, np.abs(v))
                else:
                    unit = np.sign(v)
                if p == 1:
                    weight = unit
                else:
                    zero = (plain_abs == 0) | (plain_norm == 0)
                    ratio = np.where(zero, 1.0, np.abs(v) / safe_norm)
                    weight = np.where(zero, 0.0, unit * ratio ** (p - 1))
            tangent = _real(np.sum(weight * t, axis=taxes, keepdims=keepdims), cplx)
    if not keepdims:
        value = np.squeeze(value, axis=axes)
    return _result(value, tangent, tag, k, batched)


def _reduced(x: Any, axes: tuple[int, ...]) -> int:
    """How many elements each norm over ``axes`` of ``x`` reduces."""
    shape = _shape(x)
    return int(np.prod([shape[ax] for ax in axes]))


def _derivatives_at_zero(w: DualArray, where: np.ndarray, fill: float) -> DualArray:
    """``w`` (a nested dual) with its derivatives ``fill`` ``where`` they are non-zero; the value
    of its innermost layer is kept.

    The 2-norm's weight ``x / ||x||`` at ``x = 0`` is taken as 0, so the first derivative of the
    norm is 0 there, as ``abs`` has at 0. The weight's own derivative is the norm's second
    derivative, ``(I - u u^T) / ||x||`` with ``u = x / ||x||``. Near 0 this grows without
    bound when the norm is over more than one element, so it has no value at 0 to pick: NaN
    (``fill``), which is what Taylor mode gives here, as JAX and PyTorch do. Without this, the
    Hessian of ``norm(x)`` at 0 came out ``I``, and that of ``norm(x)**2`` came out 0 where it
    is ``2 I``: two plausible numbers. For a single element ``I - u u^T`` is 0 (the norm is
    ``abs``), and so is ``fill``."""
    value = w.value
    if type(value) is DualArray:
        value = _derivatives_at_zero(value, where, fill)
    return _make_array(value, _fill_nonzero(w.tangent_, where, fill), w.tag, w.batched)


def _fill_nonzero(t: Any, where: np.ndarray, fill: float) -> Any:
    if type(t) is DualArray:
        value = _fill_nonzero(t.value, where, fill)
        return _make_array(value, _fill_nonzero(t.tangent_, where, fill), t.tag, t.batched)
    return np.where(where & (t != 0), fill, t)


def _largest(x: Any, axis: Any, keepdims: bool = False) -> Any:
    """``max`` of non-negative numbers as NumPy's norms take it: 0 over an empty axis."""
    shape = _shape(x)
    axes = axis if isinstance(axis, tuple) else (axis,)
    if all(shape[a] for a in axes):
        return np.max(x, axis=axis, keepdims=keepdims)
    return np.max(x, axis=axis, keepdims=keepdims, initial=0.0)


def _axes_tuple(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError as error:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from error
    return tuple(tangent_axis(ax, ndim) - 1 for ax in axis)


def _matrix_norm(x: DualArray, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:
    """Matrix norms as compositions: Frobenius by ``_vector_norm``, the others by sums of
    ``|x|`` or singular values (``svd``'s rule) and ``max``/``min``."""
    row, col = axes
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord in ("fro", "f"):
        return _vector_norm(x, 2, axes, keepdims)
    y = np.moveaxis(x, (row, col), (-2, -1))
    if ord in (2, -2, "nuc"):
        s = np.linalg.svd(y, compute_uv=False)
        reduce = {2: _largest, -2: np.min, "nuc": np.sum}[ord]
        result = reduce(s, axis=-1)
    elif ord in (1, -1):
        reduce = _largest if ord == 1 else np.min
        result = reduce(np.sum(np.abs(y), axis=-2), axis=-1)
    elif ord in (np.inf, -np.inf):
        reduce = _largest if ord > 0 else np.min
        result = reduce(np.sum(np.abs(y), axis=-1), axis=-1)
    else:
        raise ValueError("Invalid norm order for matrices.")
    return np.expand_dims(result, tuple(sorted(axes))) if keepdims else result


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector and matrix norms with NumPy's ``ord``/``axis`` rules (see ``_vector_norm`` and
    ``_matrix_norm``); at a zero vector or matrix the 2-norm's tangent is 0.

    Nonsmooth points follow the core's conventions: ``|x|`` has derivative 0 at 0, ties in
    ``max``/``min`` share the tangent, and the spectral/nuclear norms use the singular vectors
    NumPy returns (a subgradient where singular values repeat or vanish).
    """
    _check_plain("norm", ord=ord)
    x = _as_dual_array(x)
    ndim = x.ndim
    if axis is None and (
        ord is None or (ord in ("f", "fro") and ndim == 2) or (ord == 2 and ndim == 1)
    ):
        return _vector_norm(x, 2, tuple(range(ndim)), keepdims)
    axes = _axes_tuple(axis, ndim)
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return _vector_norm(x, 2 if ord is None else ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


@implements(np.linalg.vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """``numpy.linalg.vector_norm``: the vector ``ord``-norm over one or several axes."""
    _check_plain("vector_norm", ord=ord)
    x = _as_dual_array(x)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    axes = _axes_tuple(axis, x.ndim)
    if len(set(axes)) != len(axes):
        raise ValueError("Duplicate axes given.")
    return _vector_norm(x, ord, axes, keepdims)


@implements(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """``numpy.linalg.matrix_norm``: ``norm`` over the last two axes."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


@implements(np.linalg.cond)
def cond(x, p=None):
    """``s_max / s_min`` for ``p`` in (None, 2, -2), else ``norm(x) norm(inv(x))``.

    A singular ``x`` gives NumPy's ``inf`` (NumPy turns the ``nan`` of ``0/0`` or of a failed
    inverse into ``inf`` unless ``x`` holds a ``nan``), with a ``nan`` derivative along every
    direction that moves ``x``: the condition number is unbounded near ``x`` (``cond(x + tV) ~
    c/|t|``), so no derivative exists (0 along a direction that leaves ``x`` as it is)."""
    _check_plain("cond", p=p)
    plain = strip(x)
    if p is None or p == 2 or p == -2:
        s = np.linalg.svd(x, compute_uv=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
        infinite = ~np.isfinite(strip(r))
    else:
        infinite = np.isinf(np.linalg.cond(plain, p))  # NumPy's value: inf where singular
        y = x
        if np.any(infinite):  # the rule on the others (an identity in place of a singular one)
            y = np.where(infinite[..., None, None], np.eye(plain.shape[-1], dtype=plain.dtype), x)
        r = norm(y, p, axis=(-2, -1)) * norm(inv(y), p, axis=(-2, -1))
    infinite = infinite & np.isfinite(plain).all(axis=(-2, -1))
    if np.any(infinite):
        r = np.where(infinite, unbounded(x, infinite.shape), r)
    return r


def unbounded(x: Any, shape: tuple[int, ...], fill: float = np.inf) -> Any:
    """``fill`` (``inf``: a condition number at a singular matrix; ``nan``) of ``shape``, one per
    matrix of ``x``, whose derivative is ``nan`` along the directions that move the matrix and 0
    along those that leave it (the value does not change there: an exactly zero tangent stays
    zero, as at the other singular points), layer by layer of a nested dual."""
    if not is_dual(x):
        return np.full(shape, fill)
    tag, k, batched, (value,), (tangent,) = _operands(x)
    moved = np.any(strip(tangent) != 0, axis=(-2, -1))
    # the nan derivative of an enclosing differentiation's value is nan along the directions
    # that move the matrix too
    along = np.where(moved, unbounded(value, shape, np.nan), 0.0)
    return _result(unbounded(value, shape, fill), along, tag, k, batched)


@implements(np.linalg.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """The rank is piecewise constant: computed on the values, it carries no derivative."""
    return np.linalg.matrix_rank(strip(A), tol=strip(tol), hermitian=hermitian, rtol=strip(rtol))


# ---------------------------------------------------------------------------------------------
# Factorizations
# ---------------------------------------------------------------------------------------------


@implements(np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    """``a = L L^H``: ``dL = L Phi(L^{-1} da L^{-H})`` where ``Phi`` keeps the strict lower
    triangle and half the diagonal. Like NumPy it reads the lower triangle of ``a`` (the upper
    one when ``upper=True``, returning ``U = L^H``); a matrix that is not positive definite
    raises NumPy's LinAlgError."""
    tag, k, batched, (av,), (da,) = _operands(a)
    value = np.linalg.cholesky(av, upper=upper)
    cplx = _complex(av)
    lower = _mH(value, cplx) if upper else value
    dsym = _hermitian_tangent(da, not upper, cplx)
    x = _mH(_solve_k(lower, _mH(_solve_k(lower, dsym), cplx)), cplx)
    phi = np.tril(x, -1) + 0.5 * _real(x, cplx) * _eye(_shape(av)[-1], x)
    dl = lower @ phi
    return _result(value, _mH(dl, cplx) if upper else dl, tag, k, batched)


def _qr_rotation(c: Any, cplx: bool) -> Any:
    """``Omega = Q^H dQ`` from ``C = Q^H da R^{-1}``: skew-Hermitian, agreeing with ``C`` below
    the diagonal; its diagonal is ``i Im C_ii`` (zero for real), since LAPACK's ``R`` has a
    real diagonal."""
    low = np.tril(c, -1)
    omega = low - _mH(low, cplx)
    if cplx:
        omega = omega + 1j * np.imag(c) * _eye(_shape(c)[-1], c)
    return omega


def _qr_last_pivot_zero(r: Any, m: int, n: int, cplx: bool) -> bool:
    """Whether a diagonal entry of ``R`` is 0 (within ``16 k eps`` of the largest), the case
    ``qr``'s rule takes apart; raises ValueError where that leaves ``Q`` without a derivative.

    The rule needs ``R^{-1}``: with a zero pivot it returned finite, plausible, wrong tangents
    (the ``Q`` of a singular 2x2 matrix). Only the last pivot of a real matrix with ``m <= n``
    can be 0 with ``Q`` still differentiable: ``Q`` is square, its last column is fixed by the
    others up to sign, and LAPACK leaves the last 1x1 block unreflected, so the sign does not
    jump as ``R``'s last pivot crosses 0."""
    size = min(m, n)
    if size == 0:
        return False
    pivots = np.abs(np.diagonal(strip(r)[..., :size, :size], axis1=-2, axis2=-1))
    scale = np.max(pivots, axis=-1, keepdims=True)
    zero = pivots <= (16 * size * np.finfo(_real_dtype(pivots)).eps) * scale
    if not zero.any():
        return False
    if m <= n and not cplx and not zero[..., :-1].any():
        return True
    raise ValueError(
        "numpy.linalg.qr of a dual matrix whose R has a zero on its diagonal (the matrix has "
        "no full rank in its leading columns): the columns of Q from there on are not unique "
        + (
            "(for a complex matrix LAPACK turns the last one's phase with the sign of R's last "
            "entry) "
            if cplx and m <= n
            else ""
        )
        + "so they have no derivative"
    )


def _qr_last_column_by_orthogonality(q: Any, r: Any, da: Any, m: int) -> Any:
    """``dQ`` of a real square ``Q`` whose last pivot is 0: the first ``m - 1`` columns by the
    full-rank rule on the first ``m - 1`` columns of ``a`` (Householder's reflectors, so also
    ``Q``'s and ``R``'s blocks, are those of ``a``), the last from ``Q^T Q = I``:
    ``dq_m = -Q_1 (dQ_1^T q_m)``."""
    q1, last = q[..., :, : m - 1], q[..., :, m - 1 :]
    d = _solve_right(da[..., :, : m - 1], r[..., : m - 1, : m - 1])
    c = _mT(q1) @ d
    dq1 = d - q1 @ (c - _qr_rotation(c, False))
    return np.concatenate([dq1, -(q1 @ (_mT(dq1) @ last))], axis=-1)


@implements(np.linalg.qr)
def qr(a, mode="reduced"):
    """``a = QR``. With ``D = da R^{-1}``, ``C = Q^H D`` and ``Omega`` from ``_qr_rotation``:
    ``dR = (C - Omega) R`` and ``dQ = D - Q (C - Omega)``. For a wide ``a = [X Y]`` the square
    part ``X`` gives ``dQ`` and ``dR_1``, and ``dR_2 = Q^H dY - Omega R_2``.

    Signs are LAPACK's (the diagonal of ``R`` may be negative). ``R`` must be nonsingular,
    except for its last pivot when ``a`` is real with ``m <= n`` (``Q`` is then still
    differentiable: ``_qr_last_pivot_zero``); other zero pivots raise ValueError. Modes
    'reduced', 'r', and 'complete' when ``m <= n``; the extra columns of a complete ``Q`` of a
    tall matrix are not unique, so they have no derivative (TypeError).
    """
    m, n = _stacked_matrices(a)
    if mode == "raw" or (mode == "complete" and m > n):
        what = "mode='raw'" if mode == "raw" else "mode='complete' for a tall matrix"
        raise TypeError(
            f"numpy.linalg.qr({what}) on duals has no derivative rule; use mode='reduced'"
        )
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"Unrecognized mode '{mode}'")
    tag, k, batched, (av,), (da,) = _operands(a)
    q, r = np.linalg.qr(av)
    cplx = _complex(av)
    q_h = _mH(q, cplx)
    if _qr_last_pivot_zero(r, m, n, cplx):
        dq = _qr_last_column_by_orthogonality(q, r, da, m)
        dr = np.triu(q_h @ (da - dq @ r))
    elif m >= n:
        d = _solve_right(da, r)
        c = q_h @ d
        omega = _qr_rotation(c, cplx)
        dr = np.triu((c - omega) @ r)
        dq = d - q @ (c - omega)
    else:
        r1, r2 = r[..., :m], r[..., m:]
        c = q_h @ _solve_right(da[..., :m], r1)
        omega = _qr_rotation(c, cplx)
        dr = np.concatenate([np.triu((c - omega) @ r1), q_h @ da[..., m:] - omega @ r2], axis=-1)
        dq = q @ omega
    r_dual = _result(r, dr, tag, k, batched)
    if mode == "r":
        return r_dual
    return _QRResult(_result(q, dq, tag, k, batched), r_dual)


def _real_row(v: Any, rows: tuple[int, ...]) -> int | None:
    """The first of ``rows`` that LAPACK left real in every column of the complex vectors ``v``
    (within rounding), or None.

    That is how LAPACK fixes the free phase of complex eigen/singular vectors: its Householder
    reductions leave one row of the factor untouched, so that row is real (``eigh``: the first
    row of ``V`` with ``UPLO='L'``, the last with ``'U'``; ``svd``: the first row of ``V`` for a
    tall or square matrix, of ``U`` for a wide one). The tangents keep the same row real."""
    plain = strip(v)
    scale = np.max(np.abs(plain), initial=0.0)
    bound = 64 * np.finfo(_real_dtype(plain)).eps * scale
    for row in rows:
        if np.all(np.abs(np.imag(plain[..., row, :])) <= bound):
            return row
    return None


def _phase_rate(v: Any, dv: Any, row: int) -> Any:
    """``i theta_j`` with ``theta_j = -Im(dv[row, j]) / v[row, j]``: the turn of column ``j``
    that keeps ``v[row, j] + dv[row, j]`` real (``v[row, j]`` is real).

    Where ``v[row, j]`` is 0 (a diagonal matrix) LAPACK's phase jumps, so NumPy's vector has no
    derivative in any case: the column keeps the turn-free tangent, so that what does not depend
    on the phase (``V diag(w) V^H``, ``|V|``) keeps its derivative."""
    pivot = np.real(v[..., row, :])
    zero = strip(pivot) == 0
    rate = -np.imag(dv[..., row, :]) / (np.where(zero, 1.0, pivot) if np.any(zero) else pivot)
    return 1j * (np.where(zero, 0.0, rate) if np.any(zero) else rate)


def _eigh_tangents(a: Any, da: Any, uplo: Any) -> tuple[Any, Any, Any, Any]:
    """``(w, V, dw, P)`` with ``P = V^H da_h V`` for the Hermitian tangent ``da_h``."""
    w, v = np.linalg.eigh(a, uplo)
    cplx = _complex(a)
    p = _mH(v, cplx) @ _hermitian_tangent(da, _uplo(uplo), cplx) @ v
    dw = _real(np.diagonal(p, axis1=-2, axis2=-1), cplx)
    return w, v, _share_repeated(w, dw), p


def _share_repeated(w: Any, dw: Any) -> Any:
    """``dw`` with the tangents of repeated eigenvalues replaced by their mean.

    Where eigenvalues coincide their sorted order has a kink, and ``v_i^H da v_i`` depends on
    the basis LAPACK happened to pick in their eigenspace (``eigvalsh(I + t E)`` gave
    ``diag(E)``, neither one-sided derivative). The mean over the group, ``trace`` of ``da`` on
    the eigenspace over its dimension, is the midpoint of the one-sided derivatives and does not
    depend on the basis: the convention of ``maximum``/``minimum`` at a tie, which
    ``eigvalsh(diag(u, v))`` is. Eigenvalues within rounding (``16 n eps`` of the largest) count
    as repeated."""
    n = _shape(w)[-1]
    if n < 2:
        return dw
    gap = np.abs(w[..., :, None] - w[..., None, :])
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None]
    same = gap <= (16 * n * np.finfo(np.result_type(strip(w), 0.0)).eps) * scale
    if type(w) is np.ndarray and np.count_nonzero(same) == same.size // n:
        return dw  # no repeated eigenvalue: nothing to share (the common case)
    share = np.where(same, 1.0, 0.0).astype(_real_dtype(dw))
    share = share / np.sum(share, axis=-1, keepdims=True)
    return (share @ dw[..., None])[..., 0]


def _flat_at_zero(s: Any, ds: Any) -> Any:
    """``ds`` with 0 where the singular value ``s`` is 0 (within the rounding of
    ``_share_repeated``).

    A zero singular value is ``|·|`` at 0: along ``a + t da`` it grows as ``|t| σ_i(P)``, with
    ``P = U_0^H da V_0`` on the zero block, so its one-sided derivatives are ``±σ_i(P)``.
    ``Re(u_i^H da v_i)`` is one of them or neither, depending on the signs (phases) LAPACK
    picked for ``u_i`` and ``v_i`` independently; the midpoint 0 is the convention of ``abs``
    at 0 (``norm(t A, 'nuc')`` at ``t = 0`` gave ``trace(A)``)."""
    plain = strip(s)
    n = plain.shape[-1]
    if n == 0:
        return ds
    scale = np.max(plain, axis=-1, keepdims=True)
    zero = plain <= (16 * n * np.finfo(_real_dtype(plain)).eps) * scale
    return np.where(zero, 0.0, ds) if np.any(zero) else ds


@implements(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """``a = V diag(w) V^H``: ``dw_i = v_i^H da v_i`` and ``dV = V (F * (V^H da V))`` with
    ``F_ij = 1 / (w_j - w_i)`` off the diagonal and 0 on it.

    Reads the ``UPLO`` triangle like NumPy. Eigenvector signs (phases) are LAPACK's; for
    complex matrices the row of ``V`` LAPACK leaves real stays real (``_real_row``). Repeated
    eigenvalues make ``dV`` inf/nan (the eigenvectors are not unique); their ``dw`` is the mean
    of ``v_i^H da v_i`` over the repeated ones (the convention of ``maximum`` at a tie; see
    ``_share_repeated``).
    """
    tag, k, batched, (av,), (da,) = _operands(a)
    w, v, dw, p = _eigh_tangents(av, da, UPLO)
    with np.errstate(invalid="ignore"):  # inf * 0 at repeated eigenvalues: nan, as documented
        dv = v @ (_inverse_differences(w) * p)
    n = _shape(v)[-1]
    row = _real_row(v, (0, n - 1) if _uplo(UPLO) else (n - 1, 0)) if _complex(v) else None
    if row is not None:
        dv = dv + v * _phase_rate(v, dv, row)[..., None, :]
    return _EighResult(_result(w, dw, tag, k, batched), _result(v, dv, tag, k, batched))


@implements(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """``dw_i = v_i^H da v_i`` (the eigenvalues of ``eigh``, whose vectors the rule needs)."""
    tag, k, batched, (av,), (da,) = _operands(a)
    w, _, dw, _ = _eigh_tangents(av, da, UPLO)
    return _result(w, dw, tag, k, batched)


_EIG_SEPARATION = 1e-10
"""Eigenvalues closer than this (relative to the largest) count as repeated."""
_EIG_CONDITION = 1e10
"""Eigenvector matrices worse conditioned than this count as defective."""


def _check_eig(name: str, w: Any, v: Any) -> None:
    """Refuse a repeated eigenvalue, or eigenvectors (nearly) parallel: neither the eigenvector
    nor, for a defective matrix, the eigenvalue is differentiable there."""
    w, v = strip(w), strip(v)
    n = w.shape[-1]
    if n < 2:
        return
    gaps = np.where(np.eye(n, dtype=bool), np.inf, np.abs(w[..., :, None] - w[..., None, :]))
    scale = np.maximum(np.max(np.abs(w), axis=-1), np.finfo(float).tiny)
    close = np.min(gaps, axis=(-2, -1)) <= _EIG_SEPARATION * scale
    with np.errstate(all="ignore"):
        defective = np.linalg.cond(v) > _EIG_CONDITION
    if np.any(close) or np.any(defective):
        raise ValueError(
            f"numpy.linalg.{name} of a dual matrix with a repeated eigenvalue (or nearly "
            "parallel eigenvectors): its derivative is not defined there. For a symmetric "
            "(Hermitian) matrix use np.linalg.eigh, whose eigenvalue derivatives exist."
        )


def _eig_tangents(name: str, a: Any, da: Any) -> tuple[Any, Any, Any, Any]:
    """``(w, V, P, Vinv)`` of ``a = V diag(w) V^{-1}`` with ``P = V^{-1} da V``."""
    w, v = np.linalg.eig(a)
    _check_eig(name, w, v)
    vinv = np.linalg.inv(v)
    return w, v, vinv @ da @ v, vinv


@implements(np.linalg.eig)
def eig(a):
    """``a = V diag(w) V^{-1}``: ``dw_i = (V^{-1} da V)_ii`` and ``dV = V (F * (V^{-1} da V))``
    (``F_ij = 1 / (w_j - w_i)`` off the diagonal, 0 on it), plus the multiple of each
    eigenvector that keeps LAPACK's normalisation: unit 2-norm (``Re(v^H dv) = 0``) and the
    largest component real (its ``dv`` real too). Results complex where NumPy's are. A repeated
    eigenvalue raises ValueError (no derivative there)."""
    tag, k, batched, (av,), (da,) = _operands(a)
    w, v, p, _ = _eig_tangents("eig", av, da)
    cplx = _complex(v)
    dw = np.diagonal(p, axis1=-2, axis2=-1)
    dv = v @ (_inverse_differences(w) * p)
    conj = np.conjugate(v) if cplx else v
    c = -_real(np.sum(conj * dv, axis=-2), cplx)
    if cplx:
        largest = np.argmax(np.abs(strip(v)), axis=-2)[..., None, :]  # (..., 1, n)
        vk = np.real(np.take_along_axis(v, largest, axis=-2))
        index = np.broadcast_to(largest, _shape(dv)[:-2] + (1, _shape(dv)[-1]))
        dvk = np.take_along_axis(dv, index, axis=-2)
        c = c - 1j * (np.imag(dvk) / vk)[..., 0, :]
    dv = dv + v * c[..., None, :]
    return _EigResult(_result(w, dw, tag, k, batched), _result(v, dv, tag, k, batched))


@implements(np.linalg.eigvals)
def eigvals(a):
    """``dw_i = (V^{-1} da V)_ii`` (the eigenvalues of ``eig``, whose vectors the rule
    needs); a repeated eigenvalue raises ValueError."""
    tag, k, batched, (av,), (da,) = _operands(a)
    w, _, p, _ = _eig_tangents("eigvals", av, da)
    return _result(w, np.diagonal(p, axis1=-2, axis2=-1), tag, k, batched)


def _svd_hermitian(a: Any, compute_uv: bool) -> Any:
    """``svd(hermitian=True)`` as NumPy builds it from ``eigh``, composed of dual operations."""
    if not compute_uv:
        return np.sort(np.abs(np.linalg.eigvalsh(a)))[..., ::-1]
    w, u = np.linalg.eigh(a)
    sign = np.copysign(1.0, strip(w))
    s = np.abs(w)
    order = np.argsort(strip(s))[..., ::-1]
    sign = np.take_along_axis(sign, order, axis=-1)
    s = np.take_along_axis(s, order, axis=-1)
    u = np.take_along_axis(u, order[..., None, :], axis=-1)
    return _SVDResult(u, s, _mH(u * sign[..., None, :], _complex(a)))


@implements(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``a = U diag(s) V^H``. With ``dP = U^H da V`` and ``F_ij = 1 / (s_j^2 - s_i^2)`` (0 on
    the diagonal): ``ds = Re diag(dP)``, ``dU = U (F * (dP S + S dP^H)) + (I - U U^H) da V S^{-1}``,
    ``dV = V (F * (S dP + dP^H S)) + (I - V V^H) da^H U S^{-1}``; for complex matrices
    ``U^H dU`` also gets ``i Im(dP_ii) / s_i`` on its diagonal, and both the turn that keeps
    LAPACK's real row real (``_real_row``).

    Signs and phases are LAPACK's. Repeated singular values make ``dU``, ``dV`` inf/nan, and so
    do zero singular values of a non-square matrix; their ``ds`` is the mean over the repeated
    ones (as ``eigh``'s ``dw``). ``full_matrices=True`` is supported for
    square matrices only (the extra vectors of a non-square one are not unique: TypeError).
    ``hermitian=True`` follows NumPy's construction from ``eigh``.
    """
    if hermitian:
        return _svd_hermitian(a, compute_uv)
    tag, k, batched, (av,), (da,) = _operands(a)
    m, n = _stacked_matrices(av)
    if compute_uv and full_matrices and m != n:
        raise TypeError(
            "numpy.linalg.svd(full_matrices=True) of a non-square matrix on duals: the extra "
            "singular vectors are not unique, so they have no derivative; pass "
            "full_matrices=False"
        )
    u, s, vh = np.linalg.svd(av, full_matrices=False)
    cplx = _complex(av)
    v = _mH(vh, cplx)
    dp = _mH(u, cplx) @ da @ v
    diagonal = np.diagonal(dp, axis1=-2, axis2=-1)
    ds = _flat_at_zero(s, _share_repeated(s, _real(diagonal, cplx)))
    if not compute_uv:
        return _result(s, ds, tag, k, batched)
    f = _inverse_differences(s * s)
    row, col = s[..., None, :], s[..., :, None]
    dp_h = _mH(dp, cplx)
    with np.errstate(divide="ignore", invalid="ignore"):  # degenerate spectra: inf/nan
        du = u @ (f * (dp * row + col * dp_h))
        dv = v @ (f * (col * dp + dp_h * row))
        inverse_s = 1.0 / s
        if cplx:
            du = du + u * (1j * np.imag(diagonal) * inverse_s)[..., None, :]
        if m > n:
            du = du + (da @ v - u @ dp) * inverse_s[..., None, :]
        if n > m:
            dv = dv + (_mH(da, cplx) @ u - v @ dp_h) * inverse_s[..., None, :]
    if cplx:  # LAPACK's phase: one row of V (U for a wide matrix) real, as _real_row says
        factors = ((v, dv), (u, du)) if m >= n else ((u, du), (v, dv))
        for vectors, tangent in factors:
            if _real_row(vectors, (0,)) is not None:
                turn = _phase_rate(vectors, tangent, 0)[..., None, :]
                du, dv = du + u * turn, dv + v * turn
                break
    return _SVDResult(
        _result(u, du, tag, k, batched),
        _result(s, ds, tag, k, batched),
        _result(vh, _mH(dv, cplx), tag, k, batched),
    )


@implements(np.linalg.svdvals)
def svdvals(x, /):
    """``svd(x, compute_uv=False)``: ``ds_i = Re(u_i^H dx v_i)``."""
    return svd(x, compute_uv=False)


# ---------------------------------------------------------------------------------------------
# Pseudo-inverse and least squares
# ---------------------------------------------------------------------------------------------


def _pinv_tangent(a: Any, p: Any, da: Any, cplx: bool) -> Any:
    """``dA+ = -A+ dA A+ + A+ A+^H dA^H (I - A A+) + (I - A+ A) dA^H A+^H A+`` (Golub and
    Pereyra), the derivative wherever the rank is locally constant."""
    da_h, p_h = _mH(da, cplx), _mH(p, cplx)
    return -(p @ da @ p) + (p @ p_h) @ (da_h - da_h @ (a @ p)) + (da_h - (p @ a) @ da_h) @ (p_h @ p)


@implements(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """The Moore-Penrose pseudo-inverse (``_pinv_tangent``). Singular values below the cutoff
    count as zero; the tangent assumes the rank does not change nearby (it is discontinuous
    where it does). ``hermitian=True`` reads the lower triangle like NumPy."""
    _check_plain("pinv", rcond=rcond, rtol=rtol)
    tag, k, batched, (av,), (da,) = _operands(a)
    p = np.linalg.pinv(av, rcond, hermitian, rtol=rtol)
    cplx = _complex(av)
    if hermitian:
        av, da = _hermitian_tangent(av, True, cplx), _hermitian_tangent(da, True, cplx)
    return _result(p, _pinv_tangent(av, p, da, cplx), tag, k, batched)


@implements(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """``(x, residuals, rank, s)`` with tangents on ``x``, the residuals and ``s``.

    ``x = A+ b``, so ``dx = A+ (db - dA x) + A+ A+^H dA^H r + (I - A+ A) dA^H A+^H x`` with
    ``r = b - A x`` (the last term vanishes at full column rank), valid where the rank is
    locally constant. ``d||r||^2 = 2 Re sum(conj(r) dr)``. ``rank`` is a plain integer.
    """
    _check_plain("lstsq", rcond=rcond)
    tag, k, batched, (av, bv), (da, db) = _operands(a, b)
    x, residuals, rank, s = np.linalg.lstsq(av, bv, rcond)
    m, n = _shape(av)[-2:]
    dtype = np.result_type(strip(av), strip(bv))
    eps = np.finfo(dtype if dtype.kind in "fc" else float).eps
    if rcond is None:
        rcond = eps * max(m, n)
    p = np.linalg.pinv(av, rcond=eps if rcond < 0 else rcond)
    cplx = _complex(av) or _complex(bv)
    vector = len(_shape(bv)) == 1
    bm, xm = (bv[..., None], x[..., None]) if vector else (bv, x)
    r = bm - av @ xm
    rhs = None if db is None else (db[..., None] if vector else db)
    if da is not None:
        rhs = _add(rhs, -(da @ xm))
    dx = p @ rhs
    if da is not None:
        da_h, p_h = _mH(da, cplx), _mH(p, cplx)
        z = da_h @ (p_h @ xm)
        dx = dx + (p @ p_h) @ (da_h @ r) + (z - (p @ av) @ z)
    dres = None
    if _shape(residuals)[0]:
        dr = rhs - av @ dx
        dres = 2.0 * _real(np.sum((np.conjugate(r) if cplx else r) * dr, axis=-2), cplx)
    if da is not None:  # in the dtype NumPy solves in (float32 a, float64 b: float64 s)
        s = np.linalg.svd(_as_dual_array(a).astype(dtype, copy=False), compute_uv=False)
    return (
        _result(x, dx[..., 0] if vector else dx, tag, k, batched),
        _result(residuals, dres, tag, k, batched),
        rank,
        s,
    )


# ---------------------------------------------------------------------------------------------
# The array-API names in numpy.linalg (thin wrappers over the core rules)
# ---------------------------------------------------------------------------------------------


@implements(np.linalg.vecdot)
def vecdot(x1, x2, /, *, axis=-1):
    """``sum(conj(x1) * x2, axis)``."""
    return np.sum(np.conjugate(x1) * x2, axis=axis)


@implements(np.linalg.matmul)
def matmul(x1, x2, /):
    return np.matmul(x1, x2)


@implements(np.linalg.matrix_transpose)
def matrix_transpose(x, /):
    return _mT(x)


@implements(np.linalg.outer)
def outer(x1, x2, /):
    if len(_shape(x1)) != 1 or len(_shape(x2)) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return np.outer(x1, x2)


@implements(np.linalg.tensordot)
def tensordot(x1, x2, /, *, axes=2):
    return np.tensordot(x1, x2, axes=axes)


@implements(np.linalg.trace)
def trace(x, /, *, offset=0, dtype=None):
    return np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


@implements(np.linalg.diagonal)
def diagonal(x, /, *, offset=0):
    return np.diagonal(x, offset=offset, axis1=-2, axis2=-1)


@implements(np.linalg.cross)
def cross(x1, x2, /, *, axis=-1):
    if _shape(x1)[axis] != 3 or _shape(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors")
    return np.cross(x1, x2, axis=axis)
