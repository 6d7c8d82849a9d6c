"""The one shared list of NumPy-function cases, run through every mode by ``test_every_mode.py``.

Each :class:`Case` is a small function of one array ``x`` (several arguments are cut from one flat
``x``), the shape of ``x``, and a point generator that keeps inputs well inside the function's
domain, away from kinks and ties (``point(seed)`` gives a different point per seed, so compiled and
sparse modes are checked at a second point: replay). A case's name starts with the NumPy function
it covers, written as NumPy spells it below ``numpy`` (``"sum"``, ``"linalg.solve"``,
``"fft.fft"``); ``also`` lists further functions it exercises. ``kind`` is the function's kind
in the sense of issue 12 (structural, linear, multilinear, value-only, composition, special,
construction), so a function table keyed by the same names can drive (and be checked against)
this list: ``by_function()`` maps each NumPy function name to its cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = (
    "structural",
    "linear",
    "multilinear",
    "value",
    "composition",
    "construction",
    "special",
    "indexing",  # subscripts, item assignment, array methods, ufunc methods: not in a table
    "decision",  # indices, masks and Python decisions computed from the values (replay hazards)
)


# -- point generators: shape, seed -> a float array ------------------------------------------------


def normal(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def separated(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Distinct values at least 0.3 apart (no ties, no swaps within a difference step); another
    seed gives another order, so a replay meets other branches of max/sort/argsort."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed + 100)
    return (rng.permutation(n) * 0.3 - 0.15 * n + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def positive(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """In [0.5, 2): away from the zeros of prod/cumprod and the poles of log-like rules."""
    return np.random.default_rng(seed + 200).uniform(0.5, 2.0, shape)


def small(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Entries of size ~0.3: a matrix ``small + c·I`` is well conditioned."""
    return 0.3 * np.random.default_rng(seed + 300).standard_normal(shape)


def offgrid(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Tenths plus 0.025 (±0.01): at least 0.015 from the jumps of round, round(·, 1) and fix."""
    rng = np.random.default_rng(seed + 400)
    return rng.integers(-20, 20, shape) / 10 + 0.025 + rng.uniform(-0.01, 0.01, shape)


def zeros(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Normal, with exact zeros at three seed-dependent places (two of them in one column): the
    special case of prod/cumprod, whose derivative there is not ``prod / x``."""
    x = normal(shape, seed + 500)
    rng = np.random.default_rng(seed + 500)
    column = rng.integers(shape[-1])
    rows = rng.permutation(shape[0])[:2]
    x[rows[0], column] = x[rows[1], column] = 0.0
    x.flat[rng.integers(x.size)] = 0.0
    return x


def singular(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Normal square matrices, the last of rank n - 1 (its last row the sum of its first two): a
    singular matrix where the derivative of det (the adjugate) is not zero."""
    x = normal(shape, seed + 600)
    last = x.reshape(-1, shape[-2], shape[-1])[-1]
    last[-1] = last[0] + last[1]
    return x


POINTS: dict[str, Callable[[tuple[int, ...], int], np.ndarray]] = {
    "normal": normal,
    "separated": separated,
    "positive": positive,
    "small": small,
    "offgrid": offgrid,
    "zeros": zeros,
    "singular": singular,
}


@dataclass(frozen=True)
class Case:
    name: str
    f: Callable[[Any], Any]
    shape: tuple[int, ...]
    kind: str
    points: str = "normal"
    also: tuple[str, ...] = ()
    rtol: float = 1e-7

    @property
    def function(self) -> str:
        """The NumPy function the case is named after (``"linalg.solve"``: ``np.linalg.solve``)."""
        return self.name.split()[0]

    @property
    def functions(self) -> tuple[str, ...]:
        return (self.function, *self.also)

    def point(self, seed: int = 0) -> np.ndarray:
        return POINTS[self.points](self.shape, seed)


def packed(f: Callable[..., Any], *shapes: tuple[int, ...]) -> tuple[Callable[[Any], Any], tuple]:
    """``g(x) = f(a, b, ...)`` with the arguments cut from one flat ``x`` (all differentiated)."""
    sizes = [int(np.prod(s)) for s in shapes]
    stops = np.cumsum(sizes)

    def g(x):
        return f(*(x[stop - n : stop].reshape(s) for n, s, stop in zip(sizes, shapes, stops)))

    return g, (int(stops[-1]),)


def flat(parts: Any) -> Any:
    """Several outputs as one flat array (so every mode compares one array)."""
    return np.concatenate([np.ravel(p) for p in parts])


X = (3, 4)
Y = (2, 3, 4)
V = (6,)
XP = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 3.0])
EYE3 = 3 * np.eye(3)
D = np.random.default_rng(11).standard_normal((3, 3))
M34 = np.random.default_rng(13).standard_normal((3, 4))
CUBE = np.random.default_rng(14).standard_normal((2, 3, 4))
MASKED = np.random.default_rng(12).standard_normal((3, 4)) > 0
COLUMN = np.array([[True], [False], [True]])
NANS = np.zeros((3, 4), bool)
NANS[0, 1] = NANS[1, 0] = NANS[2, 2] = NANS[2, 3] = True
NAN_AT = np.where(NANS, np.nan, 0.0)  # a + NAN_AT: NaNs (with tangents) for the nan-functions
# where= keeping nothing of row 1 (NumPy's NaN there, and a NaN derivative) and one entry of row 2
EMPTY_ROW = np.array([[True, False, True, True], [False] * 4, [False, True, False, False]])


def _put(a):
    b = np.zeros_like(a)
    np.put(b, [0, 3, 7], a[0, :3])
    np.put(b, [1, 20], a[2, 1] ** 2, mode="wrap")
    return b


def _copyto(a):
    b = np.zeros_like(a)
    np.copyto(b, a**2, where=np.arange(4) % 2 == 0)
    return b


def _fill_diagonal(a):
    b = a * 1.0
    np.fill_diagonal(b, a[2, :2] ** 2)  # two values repeated along the diagonal
    np.fill_diagonal(b[:, 1:], a[0, 0], wrap=True)
    return b


def _place(a):
    b = np.sin(a)
    np.place(b, np.arange(12).reshape(3, 4) % 3 == 0, a[1, :3] ** 2)
    return b


def _putmask(a):
    b = a * 2.0
    np.putmask(b, np.arange(12).reshape(3, 4) % 2 == 1, a[0] ** 3)  # a[0] repeated by position
    return b


def _put_along_axis(a):
    b = np.cos(a)
    np.put_along_axis(b, np.array([[3, 0], [1, 1], [2, 0]]), a[:, :1] ** 2, axis=1)
    return b


def _written_like(make):
    """``make(a)``, an array built ``like=a``, with duals written into it (a row, part of a row
    through a slice, an in-place product): each write must carry its tangent in every mode."""

    def f(a):
        o = make(a)
        o[0] = a[1] ** 2
        o[1, 1:] = np.sin(a[2, :3])
        o[2] *= a[0]
        return o

    return f


def _spd(x):
    m = x.reshape(3, 3)
    return m @ m.T + np.eye(3)


def _rank2(a):
    """A 4 x 3 matrix of rank 2 (a sum of two outer products): every perturbation of ``a``
    keeps the rank, so the pseudo-inverse is differentiable along it."""
    return a[0, :, None] * a[1, :3] + a[2, :, None] * a[1, 1:]


def _nonsymmetric(x):
    return x.reshape(3, 3) * 0.3 + np.array([[1.0, 2.0, 0.0], [0.0, 3.0, 1.0], [0.5, 0.0, 5.0]])


def _rotation(x):
    """Eigenvalues near 1 and ±2i: a complex pair."""
    return x.reshape(3, 3) * 0.2 + np.array([[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def _complex_parts(parts):
    parts = parts if isinstance(parts, tuple) else (parts,)
    return flat([np.real(p) for p in parts] + [np.imag(p) for p in parts])


_R = np.random.default_rng(15)
G3 = _R.standard_normal((3, 3)) + EYE3  # constant operands of the linalg cases
B3 = _R.standard_normal(3)
B32 = _R.standard_normal((3, 2))
A63 = _R.standard_normal((6, 3))
R35, R53, R34, R43 = (_R.standard_normal(s) for s in ((3, 5), (5, 3), (3, 4), (4, 3)))


def _spd_stack(x):
    m = x.reshape(-1, 3, 3)
    return m @ np.swapaxes(m, -1, -2) + np.eye(3)


def _sym_stack(x):
    m = x.reshape(-1, 3, 3)
    return m + np.swapaxes(m, -1, -2) + np.diag([1.0, 3.0, 5.0])


def _indefinite(x):
    """Symmetric, eigenvalues near -3, 1 and 5: none near zero, and distinct absolute values (the
    singular values of a hermitian svd)."""
    m = 0.2 * x.reshape(3, 3)
    return m + m.T + np.diag([-3.0, 1.0, 5.0])


def _sym(x):
    m = x.reshape(3, 3)
    return m + m.T + np.diag([1.0, 3.0, 5.0])  # eigenvalues well apart


def _c(name, f, shape, **kw):
    return name, f, shape, kw


def _windows(a):
    w = np.lib.stride_tricks.sliding_window_view(a**2, (2, 3))
    return w.sum(axis=(2, 3)) * w[:, :, 0, 0]


_STRUCTURAL = [
    _c("reshape", lambda a: np.reshape(a, (2, -1)), X),
    _c("reshape F", lambda a: np.reshape(a, (2, 6), order="F"), X),
    _c("ravel", lambda a: np.ravel(a), Y),
    _c("ravel F", lambda a: np.ravel(a, order="F"), X),
    _c("transpose", lambda a: np.transpose(a), Y),
    _c("transpose axes", lambda a: np.transpose(a, (2, 0, 1)), Y),
    _c("transpose permute_dims", lambda a: np.permute_dims(a, (1, 2, 0)), Y),
    _c("transpose negative axes", lambda a: np.transpose(a, (-1, 0, -2)), Y),
    _c("matrix_transpose", lambda a: np.matrix_transpose(a), Y),
    _c("moveaxis", lambda a: np.moveaxis(a, 0, -1), Y),
    _c("moveaxis several", lambda a: np.moveaxis(a, [0, 1], [-1, 0]), Y),
    _c("moveaxis negative", lambda a: np.moveaxis(a, -1, 0), Y),
    _c("rollaxis", lambda a: np.rollaxis(a, 2, 0), Y),
    _c("swapaxes", lambda a: np.swapaxes(a, 0, 2), Y),
    _c("swapaxes negative", lambda a: np.swapaxes(a, -1, -2) * a.transpose(0, 2, 1), Y),
    _c("expand_dims", lambda a: np.expand_dims(a, (0, -1)), X),
    _c("expand_dims middle", lambda a: np.expand_dims(a, 1), X),
    _c("squeeze", lambda a: np.squeeze(a[:, None, :1]), X),
    _c("squeeze axis", lambda a: np.squeeze(a[:, None, :], axis=1), X),
    _c("squeeze negative", lambda a: np.squeeze(a[:, None, :1], axis=-1), X),
    _c("broadcast_to", lambda a: np.broadcast_to(a, (2, 3, 4)), X),
    _c("broadcast_to row", lambda a: np.broadcast_to(a[0], (3, 4)) * a, X),
    _c("broadcast_to column", lambda a: np.broadcast_to(a[:, :1], (3, 4)), X),
    _c("broadcast_arrays", lambda a: flat(np.broadcast_arrays(a[:, :1], a[0] ** 2)), X),
    _c("atleast_1d", lambda a: np.atleast_1d(a[0, 1:2].reshape(())), X),
    _c("atleast_1d scalar", lambda a: np.atleast_1d(a[0, 0]), X),
    _c("atleast_2d", lambda a: np.atleast_2d(a[0]), X),
    _c("atleast_2d several", lambda a: np.atleast_2d(a[0], a)[0], X),
    _c("atleast_3d", lambda a: np.atleast_3d(a), X),
    _c("atleast_3d 1d", lambda a: np.atleast_3d(a[0]), X),
    _c("flip", lambda a: np.flip(a), X),
    _c("flip axis", lambda a: np.flip(a, 1), Y),
    _c("flip axes", lambda a: np.flip(a, (0, 2)), Y),
    _c("fliplr", lambda a: np.fliplr(a) * a, X),
    _c("flipud", lambda a: np.flipud(a) ** 2, X),
    _c("roll", lambda a: np.roll(a, 2), X),
    _c("roll axis", lambda a: np.roll(a, -1, axis=1), X),
    _c("roll axes", lambda a: np.roll(a, (1, 2), axis=(0, 1)), X),
    _c("rot90", lambda a: np.rot90(a), X),
    _c("rot90 k axes", lambda a: np.rot90(a, -1, axes=(2, 0)), Y),
    _c("tile", lambda a: np.tile(a, 2), X),
    _c("tile more dims", lambda a: np.tile(a, (2, 1, 2)), X),
    _c("tile 1d", lambda a: np.tile(a[0], (2, 2)), X),
    _c("repeat", lambda a: np.repeat(a, 2), X),
    _c("repeat axis", lambda a: np.repeat(a, [1, 0, 2], axis=0), X),
    _c("resize", lambda a: np.resize(a, (5, 3)), X),
    _c("take", lambda a: np.take(a, [0, 5, 5, 11]), X),
    _c("take axis", lambda a: np.take(a, [[0, 2], [1, 1]], axis=1), X),
    _c("take scalar index", lambda a: np.take(a, 2, axis=1), X),
    _c("take negative", lambda a: np.take(a, [0, -1, 1], axis=-1), Y),
    _c("take_along_axis", lambda a: np.take_along_axis(a, np.array([[2, 0, 1, 1]]), axis=0), X),
    _c("take_along_axis none", lambda a: np.take_along_axis(a, np.array([0, 3, 11]), None), X),
    _c("diagonal", lambda a: np.diagonal(a), X),
    _c("diagonal offset axes", lambda a: np.diagonal(a, 1, axis1=2, axis2=1), Y),
    _c("diag matrix", lambda a: np.diag(a, 1), X),
    _c("diag vector", lambda a: np.diag(a[0], -1), X),
    _c("triu", lambda a: np.triu(a, 1), X),
    _c("tril", lambda a: np.tril(a) * a, X),
    _c("concatenate", lambda a: np.concatenate([a, np.ones((1, 4)), a[:1] * 2]), X),
    _c("concatenate axis none", lambda a: np.concatenate([a, a.T], axis=None), X),
    _c("concatenate last", lambda a: np.concatenate([np.ones((3, 1)), a], axis=-1), X),
    _c("stack", lambda a: np.stack([a, np.ones((3, 4)), a**2], axis=-1), X),
    _c("stack duals", lambda a: np.stack([a[0, 0], 1.0, a[1, 1]]), X),
    _c("hstack", lambda a: np.hstack([a, a[:, :1]]), X),
    _c("hstack 1d", lambda a: np.hstack([a[0], np.ones(2), a[1, 1]]), X),
    _c("vstack", lambda a: np.vstack([a[0], a, np.zeros(4)]), X),
    _c("dstack", lambda a: np.dstack([a, a**2]), X),
    _c("column_stack", lambda a: np.column_stack([a[0], a[1], np.ones(4)]), X),
    _c("column_stack 2d", lambda a: np.column_stack([a, np.ones(3)]), X),
    _c("block", lambda a: np.block([[a[:2, :2], np.ones((2, 1))], [a[2:, 1:] ** 2]]), X),
    _c("append", lambda a: np.append(a, a[:1] ** 2, axis=0), X),
    _c("append flat", lambda a: np.append(a, 1.0), X),
    _c("split", lambda a: np.split(a, 2, axis=1)[1], X),
    _c("split indices", lambda a: np.split(a, [1], axis=0)[1], X),
    _c("array_split", lambda a: np.array_split(a, 3, axis=1)[0], X),
    _c("array_split flat", lambda a: np.array_split(a.ravel(), 5)[-1], X),
    _c("hsplit", lambda a: np.hsplit(a, 2)[0] * np.hsplit(a, 2)[1], X),
    _c("vsplit", lambda a: np.vsplit(a, [1])[1], X),
    _c("dsplit", lambda a: np.dsplit(a, 2)[1], Y),
    _c("unstack", lambda a: np.unstack(a, axis=1)[2] ** 2, X),
    _c("pad", lambda a: np.pad(a, 1), X),
    _c("pad constant values", lambda a: np.pad(a, (1, 2), constant_values=(1.0, 2.0)), X),
    _c("pad reflect", lambda a: np.pad(a, ((1, 2), (0, 1)), mode="reflect"), X),
    _c("pad edge", lambda a: np.pad(a, 2, mode="edge"), X),
    _c("pad wrap", lambda a: np.pad(a, 2, mode="wrap"), X),
    _c("pad symmetric", lambda a: np.pad(a, 2, mode="symmetric"), X),
    _c("pad linear_ramp", lambda a: np.pad(a, 2, mode="linear_ramp", end_values=3.0), X),
    _c("pad empty", lambda a: np.pad(a, 1, mode="empty")[1:-1, 1:-1], X),
    _c("delete", lambda a: np.delete(a, [0, 2], axis=1), X),
    _c("delete flat", lambda a: np.delete(a, 5), X),
    _c("insert", lambda a: np.insert(a, 1, a[0] ** 2, axis=0), X),
    _c("insert constant", lambda a: np.insert(a, [0, 2], 7.0, axis=1), X),
    _c("compress", lambda a: np.compress([True, False, True], a, axis=0), X),
    _c("compress flat", lambda a: np.compress(np.arange(12) % 3 == 0, a), X),
    _c("extract", lambda a: np.extract(np.arange(12).reshape(3, 4) % 2 == 1, a), X),
    _c("copy", lambda a: np.copy(a) * 2, X),
    _c("put", _put, X),
    _c("copyto", _copyto, X),
    _c("fill_diagonal", _fill_diagonal, X),
    _c("place", _place, X),
    _c("putmask", _putmask, X),
    _c("put_along_axis", _put_along_axis, X),
    _c("fft.fftshift", lambda a: np.fft.fftshift(a) * a, X),
    _c("fft.ifftshift", lambda a: np.fft.ifftshift(a, axes=1) ** 2, X),
    _c("real", lambda a: np.real(a * (1 + 2j)), X),
    _c("imag", lambda a: np.imag(a * (1 + 2j) + a**2 * 1j), X),
    _c("diagflat", lambda a: np.diagflat(a[:2, 1:], k=1) * 2, X),
    _c("lib.stride_tricks.sliding_window_view", _windows, X),
]

_LINEAR = [
    _c("sum", lambda a: np.sum(a, axis=1), X),
    _c("sum tuple keepdims", lambda a: np.sum(a, axis=(0, 2), keepdims=True), Y),
    _c("sum initial", lambda a: np.sum(a, initial=2.0), X),
    # negative axes (from test_jit_replay: the direction axis must not shift them)
    _c("sum negative axes keepdims", lambda a: np.sum(a, axis=(0, -1), keepdims=True) * a, X),
    _c("nansum", lambda a: np.nansum(a, axis=0), X),
    _c("mean", lambda a: np.mean(a, axis=-1, keepdims=True), X),
    _c("mean tuple", lambda a: np.mean(a, axis=(0, 1)), Y),
    _c("mean negative keepdims", lambda a: np.mean(a, axis=-2, keepdims=True) - a, X),
    _c("nanmean", lambda a: np.nanmean(a, axis=1), X),
    _c("average", lambda a: np.average(a, axis=0, weights=[1.0, 2.0, 3.0]), X),
    # weights computed from x (softmax-like): they were refused, with a hint that dropped them
    _c("average weights from x", lambda a: np.average(a, axis=1, weights=np.exp(a[0])), X),
    _c("average returned", lambda a: np.average(a, weights=a * a + 1.0, returned=True)[1], X),
    _c("cumsum", lambda a: np.cumsum(a, axis=1), X),
    _c("cumsum flat", lambda a: np.cumsum(a), X),
    _c("cumsum negative", lambda a: np.cumsum(a, axis=-1), Y),
    _c("nancumsum", lambda a: np.nancumsum(a, axis=0), X),
    _c("diff", lambda a: np.diff(a, n=2, axis=1), X),
    _c("diff negative", lambda a: np.diff(a, n=2, axis=-1), Y),
    _c("diff prepend append", lambda a: np.diff(a, axis=0, prepend=1.0, append=a[:1] ** 2), X),
    _c("gradient", lambda a: np.gradient(a)[1], X),
    _c("gradient spacing", lambda a: np.gradient(a, 0.5, axis=0), X),
    _c("gradient edge order 2", lambda a: np.gradient(a, axis=1, edge_order=2), X),
    _c("trapezoid", lambda a: np.trapezoid(a, axis=0), X),
    _c("trapezoid x", lambda a: np.trapezoid(a, x=np.array([0.0, 1.0, 3.0]), axis=0), X),
    _c("trace", lambda a: np.trace(a, 1), X),
    _c("trace axes", lambda a: np.trace(a, axis1=1, axis2=2), Y),
    _c("pad mean", lambda a: np.pad(a, 2, mode="mean"), X),
    _c("pad mean stat_length", lambda a: np.pad(a, 1, mode="mean", stat_length=2), X),
    _c("convolve", lambda a: np.convolve(a, [1.0, -2.0, 0.5]), V),
    _c("convolve both", lambda a: np.convolve(a[:4], a[4:], mode="same"), V),
    _c("correlate", lambda a: np.correlate(a, [1.0, -2.0, 0.5], mode="full"), V),
    _c("correlate same", lambda a: np.correlate(a, [0.5, -1.0, 2.0], mode="same"), V),
    _c("correlate both", lambda a: np.correlate(a[:4], a[4:], mode="valid"), V),
    _c("convolve valid", lambda a: np.convolve(a, [0.5, -1.0], mode="valid"), V),
    _c("fft.fft", lambda a: np.real(np.fft.fft(a)) + np.imag(np.fft.fft(a)), V),
    _c("fft.rfft", lambda a: np.abs(np.fft.rfft(a)) ** 2, V),
    _c("einsum trace", lambda a: np.einsum("ii", a[:, :3]), X),
    _c("einsum sum", lambda a: np.einsum("ij->j", a), X),
    _c("einsum diagonal", lambda a: np.einsum("ii->i", a[:, 1:]), X),
    _c("fft.ifft", lambda a: np.abs(np.fft.ifft(a * (1 - 0.5j), axis=0)) ** 2, X),
    _c("fft.irfft", lambda a: np.fft.irfft(a[0] + 1j * a[1], n=5), X),
    _c("fft.hfft", lambda a: np.fft.hfft(a[0] + 1j * a[1], norm="ortho"), X),
    _c("fft.ihfft", lambda a: np.real(np.fft.ihfft(a, axis=0)) * 3, X),
    _c("fft.fft2", lambda a: np.imag(np.fft.fft2(a)) + np.real(np.fft.fft2(a)) ** 2, X),
    _c("fft.ifft2", lambda a: np.abs(np.fft.ifft2(a, s=(4, 4))), X),
    _c("fft.fftn", lambda a: np.real(np.fft.fftn(a, axes=(0, 2))), Y),
    _c("fft.ifftn", lambda a: np.imag(np.fft.ifftn(a * 1j + a**2)), Y),
    _c("fft.rfft2", lambda a: np.abs(np.fft.rfft2(a)), X),
    _c("fft.irfft2", lambda a: np.fft.irfft2(a[:2] + 1j * a[1:]), X),
    _c("fft.rfftn", lambda a: np.real(np.fft.rfftn(a, norm="forward")), Y),
    _c("fft.irfftn", lambda a: np.fft.irfftn(a + 0.5j * a**2, s=(2, 3, 6)), Y),
    _c("bincount", lambda a: np.bincount(BINS, weights=a.ravel(), minlength=7), X),
    _c("cumulative_sum", lambda a: np.cumulative_sum(a, axis=1, include_initial=True), X),
    _c("ediff1d", lambda a: np.ediff1d(a, to_end=a[0, :2] ** 2, to_begin=-1.0), X),
    _c(
        "polyadd",
        lambda a: np.polysub(np.polyadd(a[0], a[1, :2]), a[2, :3] ** 2),
        X,
        also=("polysub",),
    ),
    _c("polyder", lambda a: np.polyder(a[0] * a[1], 2), X),
    _c("polyint", lambda a: np.polyint(a[0], 2, k=a[1, :2] ** 2), X),
]

BINS = np.array([0, 2, 2, 5, 1, 0, 5, 5, 3, 2, 0, 1])
CHOICE = np.array([[0, 2, 1, 4], [1, 1, 0, 2], [2, 0, 0, 1]])
SAMPLE = np.random.default_rng(15).standard_normal(12)
EDGES = np.ones((3, 4))  # a * EDGES: zeros (with zero tangents) for trim_zeros to trim
EDGES[0] = EDGES[:, 3] = 0.0
REPEATS = np.r_[0:12, 4:8, 5]  # entries 4 to 7 twice and 5 thrice: unique merges equal ones


def _pairs():
    pairs = [
        ("matmul pair batch broadcast", np.matmul, (2, 1, 3, 2), (4, 2, 3)),
        ("matmul pair vector stack", np.matmul, (3,), (2, 3, 2)),
        ("matmul pair stack vector", np.matmul, (2, 4, 3), (3,)),
        ("dot pair", np.dot, (2, 3), (4, 3, 2)),
        ("inner pair", np.inner, (2, 3), (4, 3)),
        ("outer pair", np.outer, (2, 2), (3,)),
        ("vdot pair", np.vdot, (2, 3), (3, 2)),
        (
            "tensordot pair",
            lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 2])),
            (3, 2),
            (2, 2, 3),
        ),
        (
            "einsum pair broadcast",
            lambda a, b: np.einsum("...ij,jk->...ik", a, b),
            (2, 2, 3),
            (3, 2),
        ),
        ("kron pair", np.kron, (2, 1, 2), (3, 2)),
        ("cross pair", np.cross, (2, 3), (3,)),
        # 2-component vectors (deprecated by NumPy 2, still computed): the z-component only
        ("cross pair 2d vectors", np.cross, (3, 2), (3, 2)),
        ("cross pair 2d and 3d", np.cross, (4, 2), (4, 3)),
        ("cross pair 3d and 2d", np.cross, (3,), (2, 2)),
        ("linalg.vecdot pair", np.linalg.vecdot, (2, 3), (3,)),
        ("convolve pair", np.convolve, (4,), (3,)),
        ("where pair", lambda a, b: np.where(b > 0, a, b), (3, 1), (4,)),
        ("clip pair", lambda a, b: np.clip(a, b - 0.5, b + 0.5), (3, 4), (4,)),
        ("concatenate pair", lambda a, b: np.concatenate([a, b], axis=1), (3, 1), (3, 2)),
        ("stack pair", lambda a, b: np.stack([a, b], axis=1), (3, 2), (3, 2)),
        ("polyval pair", np.polyval, (4,), (2, 3)),
        ("trapezoid pair", lambda y, x: np.trapezoid(y, x=np.cumsum(np.exp(x))), (2, 5), (5,)),
    ]
    return [_c(name, *packed(f, a, b)) for name, f, a, b in pairs]


_MULTILINEAR = [
    _c("dot matrix", lambda a: np.dot(a, a.T), X),
    _c("dot vector", lambda a: np.dot(a[0], a[1]), X),
    _c("dot matrix vector", lambda a: np.dot(a, a[0]), X),
    _c("dot nd", lambda a: np.dot(a, a[0].T), Y),
    _c("dot scalar", lambda a: np.dot(2.5, a), X),
    _c("vdot", lambda a: np.vdot(a, 2 * a + 1), X),
    _c("vdot complex", lambda a: np.real(np.vdot(a * (1 + 2j), a[::-1] * (0.5 - 1j))), X),
    _c("inner", lambda a: np.inner(a, a[1:]), X),
    _c("outer", lambda a: np.outer(a, a[0]), X),
    _c("matmul", lambda a: np.matmul(a, a.T), X),
    _c("matmul broadcast", lambda a: np.matmul(a, a[0].T), Y),
    _c("matmul vector left", lambda a: a[0] @ a.T, X),
    _c("matmul vector right", lambda a: a @ a[0], X),
    _c("matmul constant", lambda a: D @ a, X),
    _c("matmul constant vector", lambda a: M34 @ np.sin(a[0]), X),
    _c("matmul vector constant", lambda a: a[0, :3] @ M34, X),
    _c("matmul constant stack", lambda a: CUBE @ a.T, X),
    _c("dot constant", lambda a: np.dot(a, M34[0]) + np.dot(a[0], M34[1]), X),
    _c("tensordot", lambda a: np.tensordot(a, a, axes=([0], [0])), X),
    _c("tensordot int", lambda a: np.tensordot(a, a[0], axes=2), Y),
    _c("einsum", lambda a: np.einsum("ij,kj->ik", a, a), X),
    _c("einsum full", lambda a: np.einsum("ij,ij", a, a), X),
    _c("einsum ellipsis", lambda a: np.einsum("...j,j->...", a, a[0, 0]), Y),
    _c("einsum three operands", lambda a: np.einsum("ij,jk,k", a, a.T, np.ones(3)), X),
    _c("kron", lambda a: np.kron(a[:2, :2], a[1:, 2:]), X),
    _c("kron mixed ndim", lambda a: np.kron(a[0], np.arange(6.0).reshape(2, 3)), X),
    _c("cross", lambda a: np.cross(a[:, :3], a[:, 1:]), X),
    _c("cross axis", lambda a: np.cross(a, a[::-1] ** 2, axis=1), Y),
    _c("linalg.matmul", lambda a: np.linalg.matmul(a, D.T @ a.T), (4, 3)),
    _c("linalg.tensordot", lambda a: np.linalg.tensordot(a, a, axes=1), (3, 3)),
    _c("linalg.outer", lambda a: np.linalg.outer(a[:3], a[3:]), V),
    _c("vecdot", lambda a: np.vecdot(a, a[::-1] ** 2), X),
    _c("matvec", lambda a: np.matvec(a, a[1] + 1.0), X),
    _c("vecmat", lambda a: np.vecmat(a[:, :3].T, a[:, 1:] ** 2), X),
    _c("linalg.cross", lambda a: np.linalg.cross(a[:3], a[3:] ** 2), V),
    _c("linalg.vecdot", lambda a: np.linalg.vecdot(a, a[::-1] + 1.0), X),
    _c("linalg.multi_dot", lambda a: np.linalg.multi_dot([a[0], D, a[1:]]), (4, 3)),
    _c("linalg.multi_dot two", lambda a: np.linalg.multi_dot([a, a]), (3, 3)),
    _c("linalg.multi_dot four", lambda a: np.linalg.multi_dot([a, R35, R53 @ a, a[:, :2]]), (3, 3)),
    _c(
        "linalg.multi_dot vectors",
        lambda a: np.linalg.multi_dot([a[0], a, R34, R43 @ a[:, 1]]),
        (3, 3),
    ),
    *_pairs(),
]


def _sorted_pick(a):
    i = np.argsort(a, axis=None)
    return a.ravel()[i] * np.arange(12)


def _histogram_dual_sample(a):
    # the counts are read from the values; the automatic edges move with the extreme samples
    fixed = np.histogram(a, bins=[-9.0, 0.0, 9.0], weights=a * a[0, 0], density=True)
    return flat([*fixed, *np.histogram(a, 3, density=True)])


def _dd(result):
    return [result[0], *result[1]]


def _unique_all(a):
    b = a.ravel()[REPEATS]
    r = np.unique_all(b)
    return (
        r.values * r.counts
        + np.unique_values(b)
        + np.unique_counts(b).values
        + np.unique_inverse(b).values
    )


_VALUE = [
    _c("isin", lambda a: np.where(np.isin(a, a[1]), a, 2 * a), X, points="separated"),
    _c("argmax", lambda a: a.ravel()[np.argmax(a)] * np.argmax(a, axis=0), X, points="separated"),
    _c(
        "argmin",
        lambda a: a.ravel()[np.argmin(a)] + a[np.argmin(a, axis=0), 0],
        X,
        points="separated",
    ),
    _c(
        "nanargmax",
        lambda a: a.ravel()[np.nanargmax(a)] * np.nanargmax(a, axis=0),
        X,
        points="separated",
    ),
    _c(
        "nanargmin",
        lambda a: a.ravel()[np.nanargmin(a)] + a[np.nanargmin(a, axis=0), 0],
        X,
        points="separated",
    ),
    _c("argsort", _sorted_pick, X, points="separated"),
    _c(
        "argsort axis",
        lambda a: np.take_along_axis(a, np.argsort(a, axis=0), axis=0),
        X,
        points="separated",
        also=("take_along_axis",),
    ),
    _c(
        "argpartition",
        lambda a: a.ravel()[np.argpartition(a.ravel(), 3)[:3]].sum() * a[0],
        X,
        points="separated",
    ),
    _c("argwhere", lambda a: a[tuple(np.argwhere(a > 0).T)] ** 2, X, points="separated"),
    _c("nonzero", lambda a: a[np.nonzero(a > 0)], X, points="separated"),
    _c("flatnonzero", lambda a: a.ravel()[np.flatnonzero(a < 0.5)], X, points="separated"),
    _c("searchsorted", lambda a: a[0] * np.searchsorted(XP, a[1]), X, points="separated"),
    _c("digitize", lambda a: a[1] ** 2 * np.digitize(a[0], XP), X, points="separated"),
    _c("lexsort", lambda a: a[1][np.lexsort((a[0], a[1]))], X, points="separated"),
    _c("count_nonzero", lambda a: a * np.count_nonzero(a > 0, axis=0), X, points="separated"),
    _c("all", lambda a: a * np.all(a > -100, axis=0) + np.all(a > 0), X),
    _c("any", lambda a: a * np.any(a > 0, axis=1, keepdims=True), X, points="separated"),
    _c("allclose", lambda a: a * (2.0 if np.allclose(a, a + 1e-12) else 3.0), X),
    _c(
        "isclose",
        lambda a: np.where(np.isclose(a, a[::-1]), 1.0, a),
        X,
        points="separated",
        also=("where",),
    ),
    _c("array_equal", lambda a: a * (2.0 if np.array_equal(a, a) else 3.0), X),
    _c("array_equiv", lambda a: a * (2.0 if np.array_equiv(a[0], a) else 3.0), X),
    _c("iscomplex", lambda a: np.where(np.iscomplex(a), 0.0, a**2), X, also=("where",)),
    _c("iscomplexobj", lambda a: a * (1.0 if np.iscomplexobj(a) else 2.0), X),
    _c("isreal", lambda a: np.where(np.isreal(a), a**2, 0.0), X, also=("where",)),
    _c("isrealobj", lambda a: a * (2.0 if np.isrealobj(a) else 1.0), X),
    _c("isneginf", lambda a: np.where(np.isneginf(a), 0.0, a**2), X, also=("where",)),
    _c("isposinf", lambda a: np.where(np.isposinf(a), 0.0, a**2), X, also=("where",)),
    _c(
        "shape",
        lambda a: a * np.shape(a)[0] + np.ndim(a) * a + np.size(a),
        X,
        also=("ndim", "size"),
    ),
    _c("result_type", lambda a: a.astype(np.result_type(a, np.float32)) * 2.0, X),
    _c("may_share_memory", lambda a: a * (1.0 if np.may_share_memory(a, a[0]) else 2.0), X),
    _c("shares_memory", lambda a: a * (1.0 if np.shares_memory(a, a[0]) else 2.0), X),
    _c("round", lambda a: a * np.round(a), X, points="offgrid"),
    _c("around", lambda a: a**2 + np.around(a, 1), X, points="offgrid"),
    _c("fix", lambda a: a * np.fix(a), X, points="offgrid"),
    _c("linalg.matrix_rank", lambda a: a * np.linalg.matrix_rank(a), X),
]

_COMPOSITION = [
    _c("where", lambda a: np.where(a > 0, a, a**2), X, points="separated"),
    _c("where constant condition", lambda a: np.where(MASKED, a**2, -a), X),
    _c("where constant column condition", lambda a: np.where(COLUMN, a, a * a), X),
    _c("where broadcast", lambda a: np.where(a[0] > 0, a, 1.0), X, points="separated"),
    _c("where broadcast dual", lambda a: np.where(a > 0, a[0, 0], a[:, :1]), X, points="separated"),
    _c(
        "select",
        lambda a: np.select([a > 0.5, a < -0.5], [a, a**2], default=a * 3),
        X,
        points="separated",
    ),
    _c(
        "select constant choice",
        lambda a: np.select([a > 0.5, a < -0.5], [a, 1.0]),
        X,
        points="separated",
    ),
    _c("clip", lambda a: np.clip(a, -0.5, 0.5), X, points="separated"),
    _c("clip dual bound", lambda a: np.clip(a, a[0] ** 2 - 1.0, None), X, points="separated"),
    _c("sort", lambda a: np.sort(a), X, points="separated"),
    _c("sort axis", lambda a: np.sort(a, axis=0), X, points="separated"),
    _c("sort flat", lambda a: np.sort(a, axis=None), X, points="separated"),
    _c("partition", lambda a: np.partition(a, 1, axis=1)[:, 1], X, points="separated"),
    _c("max", lambda a: np.max(a), X, points="separated"),
    _c("max axis", lambda a: np.max(a, axis=0), X, points="separated"),
    _c("max keepdims", lambda a: np.max(a, axis=1, keepdims=True), X, points="separated"),
    _c("max tuple", lambda a: np.max(a, axis=(0, 1)), X, points="separated"),
    _c("max initial", lambda a: np.max(a, axis=0, initial=-100.0), X, points="separated"),
    # 0.5 is larger than every entry of some columns (a zero derivative there)
    _c("max initial wins", lambda a: np.max(a, axis=0, initial=0.5), X, points="separated"),
    _c("min", lambda a: np.min(a, axis=-1), X, points="separated"),
    _c("amax", lambda a: np.amax(a, axis=-1), X, points="separated"),
    _c("amin", lambda a: np.amin(a, axis=0, keepdims=True), X, points="separated"),
    _c("nanmax", lambda a: np.nanmax(a, axis=0), X, points="separated"),
    _c("nanmin", lambda a: np.nanmin(a), X, points="separated"),
    _c("ptp", lambda a: np.ptp(a, axis=0), X, points="separated"),
    _c("ptp all", lambda a: np.ptp(a), X, points="separated"),
    _c("median", lambda a: np.median(a, axis=1), X, points="separated"),
    _c("nanmedian", lambda a: np.nanmedian(a, axis=0), (5, 2), points="separated"),
    _c("percentile", lambda a: np.percentile(a, [30.0, 80.0], axis=1), X, points="separated"),
    _c("quantile", lambda a: np.quantile(a, 0.3), X, points="separated"),
    _c("median all keepdims", lambda a: np.median(a, keepdims=True), X, points="separated"),
    _c("median tuple", lambda a: np.median(a, axis=(0, 2)), Y, points="separated"),
    _c(
        "quantile keepdims",
        lambda a: np.quantile(a, [0.1, 0.5, 0.95], axis=0, keepdims=True),
        X,
        points="separated",
    ),
    _c(
        "quantile lower",
        lambda a: np.quantile(a, 0.3, axis=1, method="lower"),
        X,
        points="separated",
    ),
    _c(
        "percentile midpoint",
        lambda a: np.percentile(a, 45.0, axis=0, method="midpoint"),
        X,
        points="separated",
    ),
    _c(
        "nanmedian with nans",
        lambda a: np.nanmedian(a + NAN_AT, axis=1),
        X,
        points="separated",
    ),
    _c(
        "nanquantile",
        lambda a: np.nanquantile(a + NAN_AT, [0.25, 0.6], axis=0),
        X,
        points="separated",
    ),
    _c(
        "nanpercentile",
        lambda a: np.nanpercentile(a + NAN_AT, 70.0),
        X,
        points="separated",
    ),
    _c(
        "nanmax with nans",
        lambda a: np.nanmax(a + NAN_AT, axis=1),
        X,
        points="separated",
    ),
    _c(
        "nanmin with nans",
        lambda a: np.nanmin(a + NAN_AT, axis=0, keepdims=True),
        X,
        points="separated",
    ),
    _c("nanvar with nans", lambda a: np.nanvar(a + NAN_AT, axis=0, ddof=1), X),
    _c("nanstd with nans", lambda a: np.nanstd(a + NAN_AT, axis=1), X),
    _c("nanprod with nans", lambda a: np.nanprod(a + NAN_AT, axis=0), X),
    _c("nancumprod with nans", lambda a: np.nancumprod(a + NAN_AT), X),
    _c(
        "piecewise",
        lambda a: np.piecewise(a, [a < -0.5, a > 0.5], [lambda v: v**3, np.sin, 0.25]),
        X,
        points="separated",
    ),
    _c("meshgrid", lambda a: flat(np.meshgrid(a[0], a[1, :3] ** 2)), X),
    _c("linspace", lambda a: np.sin(np.linspace(a[0, :1], a[1, 2:3] ** 2, 5)) * a[2, 3], X),
    _c(
        "linspace arrays",
        lambda a: np.linspace(a[0], 2.0, 3, endpoint=False, axis=-1, retstep=True)[0] ** 2,
        X,
    ),
    _c(
        "meshgrid ij sparse",
        lambda a: np.meshgrid(a[0], a[1], indexing="ij", sparse=True)[1] * a[2, :1],
        X,
    ),
    _c("polyfit", lambda a: np.polyfit(np.linspace(0.0, 1.0, 12), a.ravel(), 2), X),
    _c("polyfit x and y", lambda a: np.polyfit(a[0], a[1] * a[2], 2), X, points="separated"),
    _c(
        "polyfit dual weights", lambda a: np.polyfit(np.arange(4.0), a[:2].T, 1, w=a[2] ** 2 + 1), X
    ),
    _c("polyfit full", lambda a: flat(np.polyfit(np.arange(12.0), a.ravel(), 2, full=True)[:2]), X),
    _c(
        "polyfit weights columns",
        lambda a: np.polyfit(np.arange(4.0), a.T, 1, w=np.array([1.0, 2.0, 1.0, 3.0])),
        X,
    ),
    _c("var", lambda a: np.var(a, axis=0, ddof=1), X),
    _c("var all", lambda a: np.var(a), X),
    _c("std", lambda a: np.std(a, axis=1), X),
    _c("std keepdims", lambda a: np.std(a, axis=(1, 2), keepdims=True, ddof=1), Y),
    _c("nanvar", lambda a: np.nanvar(a, axis=1), X),
    _c("nanstd", lambda a: np.nanstd(a), X),
    _c("var where nothing kept", lambda a: np.var(a, axis=1, where=EMPTY_ROW), X),
    _c("std where ddof", lambda a: np.std(a, axis=1, ddof=1, where=EMPTY_ROW), X),
    _c("var ddof of one", lambda a: np.stack([np.var(a[:, :1], axis=1, ddof=1), a[:, 1]]), X),
    _c("mean of nothing", lambda a: np.stack([np.mean(a[:, :0], axis=1), a[:, 1] ** 2]), X),
    _c("mean where nothing kept", lambda a: np.mean(a, axis=1, where=EMPTY_ROW), X),
    _c("nanvar where", lambda a: np.nanvar(a + NAN_AT, axis=1, where=EMPTY_ROW), X),
    _c("nanstd where", lambda a: np.nanstd(a + NAN_AT, axis=1, where=EMPTY_ROW | COLUMN), X),
    _c("nanmean where", lambda a: np.nanmean(a + NAN_AT, axis=1, where=EMPTY_ROW), X),
    _c(
        "nansum where initial",
        lambda a: np.nansum(a + NAN_AT, axis=1, where=EMPTY_ROW, initial=0.5),
        X,
    ),
    _c(
        "max where initial",
        lambda a: np.max(a, axis=1, where=EMPTY_ROW, initial=-1.0),
        X,
        points="separated",
    ),
    _c(
        "min where initial",
        lambda a: np.min(a, axis=0, keepdims=True, where=MASKED, initial=0.5),
        X,
        points="separated",
    ),
    _c("amax where", lambda a: np.amax(a, where=COLUMN, initial=-9.0), X, points="separated"),
    _c(
        "nanmax where",
        lambda a: np.nanmax(a + NAN_AT, axis=1, where=EMPTY_ROW, initial=-9.0),
        X,
        points="separated",
    ),
    _c("nanprod where", lambda a: np.nanprod(a + NAN_AT, axis=0, where=EMPTY_ROW), X),
    _c("prod", lambda a: np.prod(a, axis=0), X),
    _c("prod where", lambda a: np.prod(a, axis=1, where=EMPTY_ROW, initial=0.5), X),
    _c("prod all", lambda a: np.prod(a), X, points="positive"),
    _c(
        "prod tuple keepdims",
        lambda a: np.prod(a, axis=(0, -1), keepdims=True),
        Y,
        points="positive",
    ),
    _c("nanprod", lambda a: np.nanprod(a, axis=1), X),
    _c("cumprod", lambda a: np.cumprod(a, axis=0), X),
    _c("cumprod flat", lambda a: np.cumprod(a), X, points="positive"),
    _c("nancumprod", lambda a: np.nancumprod(a, axis=1), X),
    _c("polyval", lambda a: np.polyval([1.0, -2.0, 3.0, 0.5], a), X),
    _c("polyval coefficients", lambda a: np.polyval(a[0], a[1:]), X),
    _c("polyval scalar point", lambda a: np.polyval(a[0], 0.7), X),
    _c("interp", lambda a: np.interp(a, XP, np.sin(XP)), X, points="small"),
    _c(
        "interp left right",
        lambda a: np.interp(3 * a, XP, np.sin(XP), left=-5.0, right=7.0),
        X,
        points="small",
    ),
    _c("interp fp", lambda a: np.interp(np.linspace(-4, 4, 7), np.linspace(-2, 2, 4), a[0]), X),
    _c(
        "trapezoid dual x",
        lambda a: np.trapezoid(a[0] ** 2, x=np.cumsum(np.exp(a[1]))),
        X,
        also=("cumsum",),
    ),
    _c("sinc", lambda a: np.sinc(a), X, points="small"),
    _c("nan_to_num", lambda a: np.nan_to_num(np.log(a)), X, points="positive"),
    _c("angle", lambda a: np.angle(a[0] + 1j * a[1]), X, points="positive"),
    _c("cumulative_prod", lambda a: np.cumulative_prod(a, axis=0, include_initial=True), X),
    _c("polymul", lambda a: np.polymul(a[0], a[1, :3] ** 2), X),
    _c("vander", lambda a: np.vander(a[0], 3) * a[1, 0], X),
    _c("poly", lambda a: flat([np.poly(a[0]), np.poly(a[:, :3] + EYE3)]), X, points="small"),
    _c("polydiv", lambda a: flat(np.polydiv(a[0], a[1, :2] + [2.0, 0.0])), X, points="positive"),
    _c("roots", lambda a: np.sort(np.roots(0.1 * a[0] + [1.0, -6.0, 11.0, -6.0])), X),
    _c("logspace", lambda a: np.logspace(a[0, :3], a[1, :3], 4, base=a[2, :3] ** 2 + 1, axis=1), X),
    _c(
        "geomspace",
        lambda a: flat(
            [np.geomspace(a[0, :2], 3.0, 5, axis=-1), np.geomspace(-a[1], -a[2], 4, endpoint=False)]
        ),
        X,
        points="positive",
    ),
    _c("cov", lambda a: flat([np.cov(a), np.cov(a[0], a[1] ** 2, ddof=0)]), X),
    _c(
        "cov weights",
        lambda a: np.cov(a, rowvar=False, fweights=[1, 2, 2], aweights=a[0, :3] ** 2 + 1),
        X,
    ),
    _c("corrcoef", lambda a: np.corrcoef(a[:, :3], a[:2, 1:] ** 2), X),
    _c(
        "unwrap",
        lambda a: flat(
            [np.unwrap(2.5 * a, axis=0), np.unwrap(np.cumsum(a), period=2.0, discont=1.5)]
        ),
        X,
    ),
    _c("apply_along_axis", lambda a: np.apply_along_axis(lambda r: r[::-1] * r[0], 0, a), X),
    _c("apply_over_axes", lambda a: np.apply_over_axes(np.sum, a**2, [0, 2]), Y),
    _c("choose", lambda a: np.choose(CHOICE, [a[0], a[1] ** 2, 2.0], mode="wrap"), X),
    _c("i0", lambda a: np.i0(5 * a), X),
    _c(
        "emath.sqrt",
        lambda a: flat([np.emath.sqrt(a), np.emath.sqrt(a - 1.0)]),
        X,
        points="positive",
    ),
    _c("emath.log", lambda a: flat([np.emath.log(a), np.emath.log(a - 1.0)]), X, points="positive"),
    _c("emath.log2", lambda a: np.emath.log2(a - 1.0), X, points="positive"),
    _c("emath.log10", lambda a: np.emath.log10(a), X, points="positive"),
    _c("emath.logn", lambda a: np.emath.logn(a[0] + 2.0, a[1:] - 1.0), X, points="positive"),
    _c("emath.power", lambda a: np.emath.power(a - 1.0, a[0, 0] + 0.5), X, points="positive"),
    _c(
        "emath.arcsin",
        lambda a: flat([np.emath.arcsin(a), np.emath.arcsin(3 * a)]),
        X,
        points="small",
    ),
    _c("emath.arccos", lambda a: np.emath.arccos(3 * a + 0.2), X, points="small"),
    _c("emath.arctanh", lambda a: np.emath.arctanh(a), X, points="small"),
    _c(
        "real_if_close",
        lambda a: flat(
            [np.real_if_close(a * (1 + 1e-18j)), np.abs(np.real_if_close(a + 1j * a**2))]
        ),
        X,
    ),
    _c("sort_complex", lambda a: np.real(np.sort_complex(a)) * a, X, points="separated"),
    _c("astype", lambda a: np.imag(np.astype(a, np.complex128) * 1j), X),
    _c("trim_zeros", lambda a: np.trim_zeros(a * EDGES) * 2, X),
    _c(
        "unique",
        lambda a: np.prod(np.unique(a.ravel()[REPEATS], return_counts=True), 0),
        X,
        points="separated",
    ),
    _c(
        "unique_all",
        _unique_all,
        X,
        points="separated",
        also=("unique_values", "unique_counts", "unique_inverse"),
    ),
    _c("union1d", lambda a: np.union1d(a[0], a[:2].ravel()) * np.arange(8), X, points="separated"),
    _c("intersect1d", lambda a: np.intersect1d(a.ravel(), a[1, ::2] + 0.0), X, points="separated"),
    _c("setdiff1d", lambda a: np.setdiff1d(a.ravel(), a[1]), X, points="separated"),
    _c("setxor1d", lambda a: np.setxor1d(a[0], a[:2].ravel()), X, points="separated"),
    _c("histogram", lambda a: np.histogram(SAMPLE, bins=4, weights=a.ravel() ** 2)[0], X),
    _c("histogram dual sample", _histogram_dual_sample, X, points="separated"),
    _c(
        "histogram_bin_edges",
        lambda a: np.histogram_bin_edges(a, 4) * a[1, 1],
        X,
        points="separated",
    ),
    _c(
        "histogram2d",
        lambda a: np.histogram2d(SAMPLE, SAMPLE[::-1], 3, weights=a.ravel(), density=True)[0],
        X,
    ),
    _c(
        "histogramdd",
        lambda a: flat(_dd(np.histogramdd(a[:, :2], (2, [-9.0, 0.0, 9.0]), weights=a[:, 3]))),
        X,
        points="separated",
    ),
]

_CONSTRUCTION = [
    _c("zeros_like", lambda a: np.zeros_like(a) + a, X),
    _c("ones_like", lambda a: np.ones_like(a) * a, X),
    _c("empty_like", lambda a: np.empty_like(a, shape=(2, 4)) * 0.0 + a[1:], X),
    _c("full_like", lambda a: np.full_like(a, 3.0) * a, X),
    _c("full_like dual fill", lambda a: np.full_like(a, a[0, 0]) * a, X),
    _c("zeros like=", lambda a: np.zeros((2, 3, 4), like=a) + a, X),
    _c("ones like=", lambda a: np.ones(4, like=a) * a, X),
    _c("full like=", lambda a: np.full(4, 2.0, like=a) * a, X),
    _c("empty like=", lambda a: np.empty(4, like=a) * 0.0 + a, X),
    _c("zeros like= written", _written_like(lambda a: np.zeros((3, 4), like=a)), X),
    _c("ones like= written", _written_like(lambda a: np.ones((3, 4), like=a)), X),
    _c("full like= written", _written_like(lambda a: np.full((3, 4), 2.0, like=a)), X),
    _c("empty like= written", _written_like(lambda a: np.empty((3, 4), like=a) * 0.0), X),
    _c("zeros_like written", _written_like(np.zeros_like), X),
    _c("full_like written", _written_like(lambda a: np.full_like(a, 0.5)), X),
]

_SPECIAL = [
    _c("prod at zeros", lambda a: np.prod(a, axis=0), X, points="zeros"),
    _c("prod at zeros all", lambda a: np.prod(a[:2]), X, points="zeros"),
    _c("cumprod at zeros", lambda a: np.cumprod(a, axis=0), X, points="zeros"),
    _c("cumprod at zeros flat", lambda a: np.cumprod(a.T), X, points="zeros"),
    _c(
        "linalg.solve",
        lambda a: np.linalg.solve(a[:9].reshape(3, 3) + EYE3, a[9:]),
        (12,),
        points="small",
    ),
    _c(
        "linalg.solve columns",
        lambda a: np.linalg.solve(a[:9].reshape(3, 3) + EYE3, a[9:].reshape(3, 2)),
        (15,),
        points="small",
    ),
    _c(
        "linalg.solve batched",
        lambda a: np.linalg.solve(a[:18].reshape(2, 3, 3) + EYE3, a[18:].reshape(2, 3, 1)),
        (24,),
        points="small",
    ),
    _c("linalg.inv", lambda a: np.linalg.inv(a + EYE3), (3, 3), points="small"),
    _c(
        "linalg.inv batched",
        lambda a: np.linalg.inv(a.reshape(2, 3, 3) + EYE3),
        (18,),
        points="small",
    ),
    _c("linalg.det", lambda a: np.linalg.det(a + EYE3), (3, 3), points="small"),
    _c("linalg.det batched", lambda a: np.linalg.det(a.reshape(2, 3, 3)), (18,)),
    _c(
        "linalg.slogdet",
        lambda a: flat(np.linalg.slogdet(a.reshape(2, 3, 3) + EYE3)),
        (18,),
        points="small",
    ),
    _c("linalg.cholesky", lambda a: np.linalg.cholesky(_spd(a)), (9,)),
    _c("linalg.cholesky upper", lambda a: np.linalg.cholesky(_spd(a), upper=True), (9,)),
    _c("linalg.qr", lambda a: flat(np.linalg.qr(a)), (4, 3)),
    _c("linalg.qr r", lambda a: np.linalg.qr(a, mode="r"), (4, 3)),
    _c("linalg.eigh", lambda a: flat(np.linalg.eigh(_sym(a))), (9,)),
    _c("linalg.eigvalsh", lambda a: np.linalg.eigvalsh(_sym(a), "U"), (9,)),
    _c("linalg.eig", lambda a: np.real(np.linalg.eig(_sym(a))[0]), (9,)),
    _c("linalg.eigvals", lambda a: np.real(np.linalg.eigvals(_sym(a))), (9,)),
    _c("linalg.eig nonsymmetric", lambda a: flat(np.linalg.eig(_nonsymmetric(a))), (9,)),
    _c("linalg.eig complex pair", lambda a: _complex_parts(np.linalg.eig(_rotation(a))), (9,)),
    _c("linalg.eigvals complex", lambda a: _complex_parts(np.linalg.eigvals(_rotation(a))), (9,)),
    _c(
        "linalg.eigvals batched",
        lambda a: np.linalg.eigvals(a.reshape(2, 2, 2) + np.diag([1.0, 3.0])),
        (8,),
        points="small",
    ),
    _c(
        "linalg.pinv rank deficient",
        lambda a: np.linalg.pinv(_rank2(a)),
        X,
    ),
    _c(
        "linalg.lstsq rank deficient",
        lambda a: np.linalg.lstsq(_rank2(a), a[2])[0],
        X,
    ),
    _c("linalg.svd", lambda a: flat(np.linalg.svd(a, full_matrices=False)), (4, 3)),
    _c("linalg.svd values", lambda a: np.linalg.svd(a, compute_uv=False), (4, 3)),
    _c("linalg.svdvals", lambda a: np.linalg.svdvals(a), (2, 4)),
    _c("linalg.norm", lambda a: np.linalg.norm(a), X),
    _c("linalg.norm axis", lambda a: np.linalg.norm(a, axis=1), X),
    _c("linalg.norm ord 1 keepdims", lambda a: np.linalg.norm(a, 1, axis=0, keepdims=True), X),
    _c("linalg.norm nuclear", lambda a: np.linalg.norm(a, "nuc"), X),
    _c("linalg.norm 2", lambda a: np.linalg.norm(a, 2), X),
    _c("linalg.vector_norm", lambda a: np.linalg.vector_norm(a, axis=(0, 2), ord=3), Y),
    _c("linalg.matrix_norm", lambda a: np.linalg.matrix_norm(a, ord=-2), Y),
    _c(
        "linalg.lstsq",
        lambda a: flat(np.linalg.lstsq(a[:8].reshape(4, 2), a[8:])[i] for i in (0, 1)),
        (12,),
    ),
    _c("linalg.pinv", lambda a: np.linalg.pinv(a), (3, 2)),
    _c("linalg.matrix_power", lambda a: np.linalg.matrix_power(a, 3), (3, 3), points="small"),
    _c(
        "linalg.matrix_power -1",
        lambda a: np.linalg.matrix_power(a + EYE3, -1),
        (3, 3),
        points="small",
    ),
    _c(
        "linalg.tensorsolve",
        lambda a: np.linalg.tensorsolve(
            a[:16].reshape(2, 2, 2, 2) + 3 * np.eye(4).reshape(2, 2, 2, 2), a[16:].reshape(2, 2)
        ),
        (20,),
        points="small",
    ),
    _c(
        "linalg.tensorinv",
        lambda a: np.linalg.tensorinv(a.reshape(2, 2, 4) + 3 * np.eye(4).reshape(2, 2, 4)),
        (16,),
        points="small",
    ),
    _c("linalg.cond", lambda a: np.linalg.cond(a + EYE3), (3, 3), points="small"),
    _c("linalg.trace", lambda a: np.linalg.trace(a), Y),
    _c("linalg.diagonal", lambda a: np.linalg.diagonal(a, offset=1), Y),
    _c("linalg.matrix_transpose", lambda a: np.linalg.matrix_transpose(a) ** 2, Y),
    # variants (from test_linalg's table): modes, shapes and flags that take other code paths
    _c(
        "linalg.solve matrix both",
        lambda a: np.linalg.solve(a + EYE3, a @ D + 1.0),
        (3, 3),
        points="small",
    ),
    _c(
        "linalg.slogdet negative",
        lambda a: flat(np.linalg.slogdet(a - EYE3)),
        (3, 3),
        points="small",
    ),
    _c("linalg.qr wide", lambda a: flat(np.linalg.qr(a)), (3, 5)),
    _c("linalg.qr complete", lambda a: flat(np.linalg.qr(a, mode="complete")), (2, 4)),
    _c("linalg.eigh upper", lambda a: flat(np.linalg.eigh(_sym(a), UPLO="U")), (9,)),
    _c("linalg.svd wide", lambda a: flat(np.linalg.svd(a, full_matrices=False)), (3, 5)),
    _c("linalg.svd square full", lambda a: flat(np.linalg.svd(a + EYE3)), (3, 3), points="small"),
    _c(
        "linalg.svd hermitian values",
        lambda a: np.linalg.svd(_sym(a), compute_uv=False, hermitian=True),
        (9,),
    ),
    _c("linalg.pinv wide", lambda a: np.linalg.pinv(a), (3, 5)),
    _c("linalg.pinv hermitian", lambda a: np.linalg.pinv(_spd(a), hermitian=True), (9,)),
    _c(
        "linalg.lstsq underdetermined",
        lambda a: np.linalg.lstsq(a[:15].reshape(3, 5), a[15:])[0],
        (18,),
    ),
    _c(
        "linalg.lstsq singular values",
        lambda a: np.linalg.lstsq(a[:12].reshape(4, 3), a[12:])[3],
        (16,),
    ),
    _c("linalg.matrix_power 0", lambda a: np.linalg.matrix_power(a, 0) + a, (3, 3)),
    _c(
        "linalg.matrix_power -2",
        lambda a: np.linalg.matrix_power(a + EYE3, -2),
        (3, 3),
        points="small",
    ),
    _c("linalg.cond fro", lambda a: np.linalg.cond(a + EYE3, "fro"), (3, 3), points="small"),
    _c("linalg.cond -2", lambda a: np.linalg.cond(a + EYE3, -2), (3, 3), points="small"),
    _c("linalg.norm inf", lambda a: np.linalg.norm(a, np.inf, axis=1), X, points="separated"),
    _c(
        "linalg.norm -1 matrix",
        lambda a: np.linalg.norm(a * [1, 4, 9, 16], -1),
        X,
        points="positive",
    ),
    _c("linalg.norm 0.5", lambda a: np.linalg.norm(a, 0.5, axis=0), X, points="positive"),
    _c("linalg.vector_norm all", lambda a: np.linalg.vector_norm(a), Y),
    _c(
        "linalg.matrix_norm nuc keepdims",
        lambda a: np.linalg.matrix_norm(a, ord="nuc", keepdims=True),
        Y,
    ),
    # from test_linalg's tables: constant operands, broadcasting stacks, other paths and flags
    _c("linalg.solve constant b", lambda a: np.linalg.solve(a + EYE3, B3), (3, 3), points="small"),
    _c("linalg.solve constant matrix", lambda a: np.linalg.solve(G3, a), (3,)),
    _c(
        "linalg.solve broadcast b",
        lambda a: np.linalg.solve(a[:18].reshape(2, 1, 3, 3) + EYE3, a[18:].reshape(4, 3, 2)),
        (42,),
        points="small",
    ),
    _c(
        "linalg.solve broadcast a",
        lambda a: np.linalg.solve(a[:9].reshape(3, 3) + EYE3, a[9:].reshape(2, 3, 2)),
        (21,),
        points="small",
    ),
    _c(
        "linalg.solve batched vector b",
        lambda a: np.linalg.solve(a[:18].reshape(2, 3, 3) + EYE3, a[18:]),
        (21,),
        points="small",
    ),
    _c("linalg.det singular member", lambda a: np.linalg.det(a), (2, 3, 3), points="singular"),
    _c("linalg.cholesky batched", lambda a: np.linalg.cholesky(_spd_stack(a)), (18,)),
    _c("linalg.qr square", lambda a: flat(np.linalg.qr(a + EYE3)), (3, 3), points="small"),
    _c("linalg.qr batched", lambda a: flat(np.linalg.qr(a)), (2, 4, 3)),
    _c("linalg.qr wide batched", lambda a: flat(np.linalg.qr(a)), (2, 2, 3)),
    _c("linalg.eigvalsh lower", lambda a: np.linalg.eigvalsh(_sym(a)), (9,)),
    _c("linalg.eigh batched", lambda a: flat(np.linalg.eigh(_sym_stack(a))), (18,), points="small"),
    _c(
        "linalg.svd batched",
        lambda a: flat(np.linalg.svd(a, full_matrices=False)),
        (2, 4, 3),
        points="small",
    ),
    _c(
        "linalg.svd hermitian",
        lambda a: flat(np.linalg.svd(_indefinite(a), hermitian=True)),
        (9,),
    ),
    _c("linalg.pinv batched", lambda a: np.linalg.pinv(a), (2, 4, 3)),
    _c(
        "linalg.lstsq matrix b",
        lambda a: flat(np.linalg.lstsq(a, a @ B32 + 0.5)[i] for i in (0, 1)),
        (6, 3),
    ),
    _c("linalg.lstsq constant matrix", lambda a: np.linalg.lstsq(A63, a)[0], (6,)),
    _c("linalg.matrix_power 1", lambda a: np.linalg.matrix_power(a, 1) * a, (3, 3)),
    _c(
        "linalg.matrix_power batched",
        lambda a: np.linalg.matrix_power(a, 3),
        (2, 3, 3),
        points="small",
    ),
    _c(
        "linalg.tensorinv ind 1",
        lambda a: np.linalg.tensorinv(a.reshape(6, 2, 3) + 3 * np.eye(6).reshape(6, 2, 3), ind=1),
        (36,),
        points="small",
    ),
    _c("linalg.cond 1", lambda a: np.linalg.cond(a + EYE3, 1), (3, 3), points="small"),
    _c("linalg.cond batched", lambda a: np.linalg.cond(a + EYE3), (2, 3, 3), points="small"),
    _c("linalg.norm 2 batched", lambda a: np.linalg.norm(a, 2, axis=(1, 2)), (2, 3, 3)),
    _c(
        "linalg.tensorsolve axes",
        lambda a: np.linalg.tensorsolve(
            a.reshape(6, 2, 3) + 3 * np.eye(6).reshape(6, 2, 3),
            np.arange(6.0).reshape(2, 3),
            axes=(0,),
        ),
        (36,),
        points="small",
    ),
]


def _setitem_slices(a):
    y = np.zeros_like(a)
    y[::2] = a[1::2] ** 2
    y[1] += a[0]
    return y


def _setitem_view(a):
    y = np.zeros_like(a)
    inner = y[1:-1]
    inner[:] = a[2:] * a[:-2]
    inner += a[0]
    return y


def _setitem_transposed_view(a):
    y = np.zeros_like(a)
    y.T[0] = a[0, :3] ** 3
    return y


def _imul_row_view(a):
    y = a * 1.0
    row = y[0]
    row *= a[1]
    return y


def _setitem_reshaped_view(a):
    y = np.ones_like(a)
    flat_view = y.reshape(-1)
    flat_view[1:5] = a[0] ** 2
    return y


def _iadd_column_view(a):
    y = a**2
    column = y[:, 0]
    column += a[:, 1] ** 2
    return y


def _setitem_mask(a):
    y = a * 1.0
    y[a > 0] = a[0, 0] ** 2
    return y


def _setitem_fancy(a):
    y = np.ones_like(a)
    y[[0, 2], [1, 3]] = np.sin(a[1, :2])
    return y


def _setitem_argsort(a):
    y = a * 1.0
    y[np.argsort(a)[:2]] += a[0] ** 2
    return y


def _scatter_permutation(a):
    y = np.zeros_like(a)
    y[np.argsort(a)] = a * np.arange(1.0, 7.0)
    return y


def _put_argmax(a):
    y = a * 1.0
    np.put(y, np.argmax(a), a[0] ** 2)
    return y


def _while(a):
    y = a
    while y[0] < 1.8:
        y = y * 2
    return y * a[3]


RAMP = np.arange(1.0, 7.0)


_INDEXING = [
    _c("getitem slices", lambda a: a[1:, ::2] * a[:-1, 1::2], X),
    _c("getitem negative step", lambda a: a[::-1, -2::-2], X),
    _c("getitem int", lambda a: a[1] * a[1, 2], X),
    _c("getitem newaxis ellipsis", lambda a: a[None, ..., 1] ** 2, X),
    _c("getitem constant mask", lambda a: a[MASKED] ** 2, X),
    _c("getitem constant row mask", lambda a: np.exp(a[np.array([True, False, True])]), X),
    _c("getitem slice and integer array", lambda a: a[:, np.array([3, 0, 0])] ** 2, X),
    _c("getitem integer arrays", lambda a: a[[0, 2, 2], [1, 3, 0]] * 2.0, X),
    # integer arrays apart (a slice between them): their axis goes first, as in NumPy
    _c("getitem advanced split by a slice", lambda a: a[[0, 0], :, [1, 2]] ** 2, Y),
    _c("getitem iteration", lambda a: sum(row * i for i, row in enumerate(a)), X),
    _c("getitem len", lambda a: sum(a[i] * (i + 1) for i in range(len(a))), X),
    _c("setitem slices", _setitem_slices, V),
    _c("setitem through a view", _setitem_view, V),
    _c("setitem fancy", _setitem_fancy, X),
    _c("setitem transposed view", _setitem_transposed_view, X),
    _c("setitem reshaped view", _setitem_reshaped_view, X),
    _c("setitem imul row view", _imul_row_view, X),
    _c("setitem iadd column view", _iadd_column_view, X),
    _c("ndarray.T", lambda a: a.T @ a, X),
    _c("ndarray.reshape", lambda a: a.reshape(2, 6) ** 2, X),
    _c("ndarray.sum", lambda a: a.sum(axis=0) * a.mean() + a.prod(axis=1)[0], X, points="positive"),
    _c(
        "ndarray.max",
        lambda a: a.max(axis=1) + a.min() + a.argmax(axis=0)[0],
        X,
        points="separated",
    ),
    _c("ndarray.var", lambda a: a.var(axis=0) + a.std(), X),
    _c("ndarray.cumsum", lambda a: a.cumsum(axis=1) + a.cumprod(axis=0), X),
    _c("ndarray.clip", lambda a: a.clip(-0.5, 0.5) + a.round(1), X, points="offgrid"),
    _c(
        "ndarray.sort",
        lambda a: np.sort(a.copy().ravel()) + a.ravel()[a.argsort(axis=None)],
        X,
        points="separated",
    ),
    _c("ndarray.dot", lambda a: a.dot(a.T) + a.trace() + a.diagonal().sum(), X),
    _c("ndarray.flatten", lambda a: a.flatten() * a.ravel() + a.swapaxes(0, 1).ravel(), X),
    _c("ndarray.take", lambda a: a.take([1, 5, 5]) + a.repeat(2)[:3] + a.squeeze()[0, :3], X),
    _c("add.reduce", lambda a: np.add.reduce(a, axis=1) + np.add.accumulate(a, axis=0)[2, :3], X),
    _c(
        "multiply.reduce where",
        lambda a: np.multiply.reduce(a, axis=1, where=EMPTY_ROW, initial=2.0),
        X,
    ),
    _c(
        "maximum.reduce where",
        lambda a: np.maximum.reduce(a, axis=0, where=MASKED, initial=-0.5),
        X,
        points="separated",
    ),
    _c("add.reduceat", lambda a: np.add.reduceat(a, [0, 2, 1, 3, 3], axis=1), X),
    _c(
        "multiply.reduceat",
        lambda a: np.multiply.reduceat(a.ravel(), [0, 5, 2, 7, 11]),
        X,
        points="positive",
    ),
    _c(
        "maximum.reduceat",
        lambda a: (
            np.maximum.reduceat(a, [2, 0, 1], axis=0) * np.minimum.reduceat(a[0], [1, 3, 2, 0])
        ),
        X,
        points="separated",
    ),
    _c("add where out", lambda a: _add_where(a), X),
    _c("exp where out is its input", lambda a: _exp_where_in_place(a), X),
    _c(
        "multiply.reduce",
        lambda a: np.multiply.reduce(a, axis=0) * np.multiply.accumulate(a, axis=1)[0],
        X,
    ),
    _c(
        "maximum.reduce",
        lambda a: np.maximum.reduce(a, axis=0) + np.minimum.accumulate(a, axis=1)[0],
        X,
        points="separated",
    ),
    _c("multiply.outer", lambda a: np.multiply.outer(a[0], a[1]), X),
    _c("add.at", lambda a: _add_at(a), X),
    _c("add.at assembly", lambda a: _assemble(a), V),
    _c("subtract.at dual into a view", lambda a: _subtract_at_view(a), X),
    _c("multiply.at repeated", lambda a: _multiply_at(a), X),
    _c("maximum.at", lambda a: _maximum_at(a), X, points="separated"),
    _c("negative.at", lambda a: _negative_at(a), X),
]


def _assemble(a):
    """A 1-D finite-element stiffness matrix: element k couples nodes k and k + 1."""
    k = np.zeros((7, 7)) * a[0]  # a dual array of zeros
    for e in range(6):
        local = a[e] ** 2 * np.array([[1.0, -1.0], [-1.0, 1.0]])
        np.add.at(k, np.ix_([e, e + 1], [e, e + 1]), local)
    return k


def _subtract_at_view(a):
    y = a**2
    row = y[1]
    np.subtract.at(row, [0, 2, 0], a[0, :3])
    return y


def _multiply_at(a):
    y = a + 2.0
    np.multiply.at(y, ([0, 0, 1, 0], [1, 1, 2, 1]), a[2] * 0.5 + 1.0)
    return y


def _maximum_at(a):
    y = a * 1.0
    np.maximum.at(y, (0, [0, 1, 1]), a[1, :3] * 2.0)
    return y


def _negative_at(a):
    y = a**3
    np.negative.at(y, [2, 0, 2])
    return y


def _add_where(a):
    """out= a dual array keeps its entries (value and derivative) outside where= (broadcast)."""
    out = a[::-1] * 2.0
    np.add(a, a[0] ** 2, out=out, where=np.array([True, False, True, True]))
    return out


def _exp_where_in_place(a):
    y = a * 1.0
    np.exp(y[1:], out=y[:-1], where=EMPTY_ROW[1:])  # reads y[1:] before writing its overlap
    return y


def _add_at(a):
    y = a * 1.0
    np.add.at(y, ([0, 0, 2], [1, 1, 3]), a[1, :3] ** 2)
    return y


# The two points (seeds 0 and 1) take different branches in each: argmax 3 then 2, another
# argsort, 3 then 2 positive entries, a[0] > -0.4 true then false, one doubling then none.
_DECISION = [
    _c("argmax gather", lambda a: a * a[np.argmax(a)], V, points="separated"),
    _c("argsort gather", lambda a: a[np.argsort(a)] * RAMP, V, points="separated"),
    _c("argsort of argsort", lambda a: a[np.argsort(np.argsort(a))] * RAMP, V, points="separated"),
    _c("roll by argmax", lambda a: np.roll(a, np.argmax(a)) * RAMP, V, points="separated"),
    _c(
        "searchsorted gather",
        lambda a: a * a[np.searchsorted(np.array([-0.5, 0.0, 0.5]), a[0])],
        V,
        points="separated",
    ),
    _c("put at argmax", _put_argmax, V, points="separated"),
    _c("setitem mask", _setitem_mask, X, points="separated"),
    _c("setitem argsort", _setitem_argsort, V, points="separated"),
    _c("scatter by permutation", _scatter_permutation, V, points="separated"),
    _c("mask times matmul", lambda a: ((a > 0) * np.ones((6, 6))) @ a, V, points="separated"),
    _c(
        "mask in einsum",
        lambda a: np.einsum("ij,j->i", (a > 0) * np.ones((6, 6)), a),
        V,
        points="separated",
    ),
    _c("if on a comparison", lambda a: a * 2 if a[0] > -0.4 else a * a[1], V, points="separated"),
    _c("builtin max", lambda a: a * max(a), V, points="separated"),
    _c("while loop", _while, V, points="positive"),
    _c("int of argmax", lambda a: a * a[int(np.argmax(a))], V, points="separated"),
    _c("slice from argmax", lambda a: np.sum(a[np.argmax(a) :]) * a, V, points="separated"),
    _c("boolean mask", lambda a: np.sum(a[a > 0] ** 2) + a, V, points="separated"),
    _c("nonzero sum", lambda a: np.sum(a[np.nonzero(a > 0)]) * a, V, points="separated"),
    _c("sorted builtin", lambda a: np.stack(sorted(a)) * RAMP, V, points="separated"),
    _c("delete argmax", lambda a: np.sum(np.delete(a, np.argmax(a))) * a, V, points="separated"),
    _c(
        "split at argmax", lambda a: np.split(a, [np.argmax(a)])[0].sum() * a, V, points="separated"
    ),
]

_SECTIONS = {
    "structural": _STRUCTURAL,
    "linear": _LINEAR,
    "multilinear": _MULTILINEAR,
    "value": _VALUE,
    "composition": _COMPOSITION,
    "construction": _CONSTRUCTION,
    "special": _SPECIAL,
    "indexing": _INDEXING,
    "decision": _DECISION,
}

CASES: dict[str, Case] = {}
for _kind, _entries in _SECTIONS.items():
    for _name, _f, _shape, _kw in _entries:
        assert _name not in CASES, _name
        CASES[_name] = Case(_name, _f, tuple(_shape), _kind, **_kw)


def by_function() -> dict[str, list[Case]]:
    """Each NumPy function name (as spelled below ``numpy``) -> the cases that exercise it."""
    table: dict[str, list[Case]] = {}
    for case in CASES.values():
        for name in case.functions:
            table.setdefault(name, []).append(case)
    return table
