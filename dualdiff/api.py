"""The user's verbs of forward accumulation: seed the input with a fresh tag, run, extract.

Shape rules: ``jacobian(f, x)`` has shape ``np.shape(f(x)) + np.shape(x)``; ``gradient`` has the
shape of ``x``; ``derivative`` over an array ``x`` is elementwise (``f`` acting entrywise).
The engine under the verbs (seeding, passes, the memory budget) is ``dualdiff.engine.forward``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .arrays.dualarray import strip
from .core import errors, tags
from .core.tags import new_tag
from .dual.dual import Dual, _new
from .dual.seed import check_output, is_sequence, tangent_of
from .engine.forward import (
    MEMORY_BUDGET,
    _array_input,
    _call,
    _check_chunk,
    _is_array_input,
    _map,
    _owned,
    _scalar_input,
    _seed,
    _writable_copy,
    dense_jacobian,
    push_along,
    push_forward,
)
from .engine.parallel import jacobian_columns
from .engine.sparse import sparse_jacobian
from .rules.elementwise import is_dual
from .series.taylor import _MAX_ORDER, check_order, higher_derivative, scalar_derivative

__all__ = [
    "derivative",
    "jvp",
    "jacobian",
    "value_and_jacobian",
    "gradient",
    "value_and_gradient",
    "push_forward",
    "hessian",
]


# ---------------------------------------------------------------------------------------------
# derivative and jvp
# ---------------------------------------------------------------------------------------------


def derivative(f: Callable[..., Any], x: Any, n: int = 1) -> Any:
    """The exact ``n``-th derivative of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x)``, written with NumPy, Python arithmetic or ``dualdiff`` functions. It may return a
        number, an array, or a tuple/list of them.
    x : number or array_like
        A real or complex scalar, or an array: then ``f`` is taken to act elementwise and the result
        is the elementwise derivative, as ``scipy.differentiate.derivative`` computes it.
    n : int, optional
        The order, ``n >= 0`` (default 1). ``n = 0`` returns ``f(x)``; ``n >= 2`` uses Taylor mode
        (see :func:`taylor`).

    Returns
    -------
    number, array, or tuple/list of them
        ``f⁽ⁿ⁾(x)``. For an array ``x``, at every order the shape of ``f(x)`` broadcast with ``x``
        (zeros for an output that does not depend on ``x``), in the dtype of ``f``'s values.

    Raises
    ------
    ValueError
        If ``n < 0``, or ``n!`` is beyond the range of the dtype of ``f``'s values (``n > 8`` in
        float16, ``n > 34`` in float32, ``n > 170`` in float64): Taylor mode's coefficient
        times ``n!`` would overflow.
    TypeError
        If ``f`` drops the derivative: ``float(x)``, ``math.sin(x)``, writing a dual into a float
        array, or a NumPy function without a derivative rule. The message names the fix.

    See Also
    --------
    jvp : a directional derivative of a function of several variables.
    jacobian : all partial derivatives of a vector function.
    taylor : all Taylor coefficients up to an order, in one pass.
    dualdiff.numeric.derivative : the same by numeric differences, to compare against.

    Notes
    -----
    Calls nest safely: each call seeds its own tag, so
    ``derivative(lambda x: x * derivative(lambda y: x + y, 1.0), 1.0) == 1.0`` (libraries without
    tags answer 2, the "perturbation confusion").

    At an array ``x`` one pass moves every element at once (the direction of all ones), which is
    the elementwise derivative only when ``f`` is elementwise. For an ``f`` that mixes elements
    (``np.cumsum``, ``x[::-1]``, a sum) the result is ``J @ 1``, the sum of the Jacobian's
    columns, and one pass cannot tell the two apart: use :func:`jacobian` there, or :func:`jvp`
    along a direction of your choice.

    Examples
    --------
    >>> dd.derivative(lambda x: x**3, 2.0)
    12.0
    >>> dd.derivative(np.sin, np.array([0.0, np.pi]))  # elementwise: cos(x)
    array([ 1., -1.])
    >>> dd.derivative(lambda x: np.exp(2 * x), 0.0, n=5)  # 2**5
    32.0
    """
    if type(x) is float and type(n) is int:
        if n == 1:  # the scalar hot path
            tag = tags._next_tag()  # the module's: a fork or observe() replaces it
            seed = _new(Dual)
            seed.value, seed.tangent, seed.tag = x, 1.0, tag
            try:  # free unless raised: callable(f) is asked only then
                y = f(seed)
            except Exception as error:
                errors.check_callable(f, "derivative")
                errors.explain(error, tag)
                raise
            if type(y) is Dual and y.tag == tag:
                return y.tangent
            return _owned(tangent_of(check_output(y, "derivative"), tag))
        if 1 < n <= _MAX_ORDER:  # Taylor mode's scalar hot path
            return scalar_derivative(f, x, n, "derivative")
    return _derivative(f, x, n)


def _derivative(f: Callable[..., Any], x: Any, n: Any) -> Any:
    """``derivative`` beyond a float at order 1. Apart, because its closure's cells would be
    made on every call of ``derivative``, the scalar hot path too (two cells: 5% of its cost)."""
    errors.check_callable(f, "derivative")
    n = check_order(n, "derivative")
    if n == 0:
        if _is_array_input(x):
            return _call(f, (_writable_copy(_array_input(x, "derivative")),), "derivative")
        return _call(f, (_scalar_input(x, "derivative"),), "derivative")
    if n > 1:
        if not _is_array_input(x):  # refused as at n = 0 and 1, in derivative's name (a tuple)
            _scalar_input(x, "derivative")
        return higher_derivative(f, x, n)
    tag = new_tag()
    if _is_array_input(x):
        plain = np.asarray(strip(x))
        # the seed in x's own float or complex type, so that float32 in gives float32 out
        one = np.ones(plain.shape, plain.dtype if plain.dtype.kind in "fc" else float)
    else:
        one = 1.0
    y = _call(f, (_seed(x, one, tag, "derivative"),), "derivative")
    if not _is_array_input(x):
        return _owned(tangent_of(y, tag))
    return _owned(_map(lambda out: _elementwise_tangent(out, tag, plain.shape), y))


def _elementwise_tangent(y: Any, tag: int, x_shape: tuple[int, ...]) -> Any:
    """The tangent of output ``y`` as an elementwise derivative: an output that does not depend
    on ``x`` (a constant) has zeros in its shape broadcast with ``x``'s, as one that does."""
    t = tangent_of(y, tag)
    if is_dual(y) and y.tag >= tag:
        return t
    shape = np.shape(t)
    try:
        target = np.broadcast_shapes(shape, x_shape)
    except ValueError:  # an output that cannot broadcast with x keeps its own shape
        return t
    return t if target == shape else np.zeros(target, np.result_type(t, 0.0))


def jvp(f: Callable[..., Any], x: Any, v: Any) -> tuple[Any, Any]:
    """``(f(x), J(x)·v)``: the value and the directional derivative along ``v``, in one pass.

    Parameters
    ----------
    f : callable
        ``f(x)``, or ``f(x, y, ...)`` when ``x`` is a tuple.
    x : number, array_like, or tuple of them
        The point. For several arguments pass a tuple: ``jvp(f, (x, y), (vx, vy))`` calls
        ``f(x, y)``.
    v : number, array_like, or tuple of them
        The direction, of the shape of ``x`` (a tuple of the same length for a tuple ``x``). A
        complex ``v`` at a real ``x`` gives ``J·v``, the real Jacobian applied to it.

    Returns
    -------
    value : number, array, or tuple
        ``f(x)``.
    tangent : number, array, or tuple
        ``J(x)·v``, of the shape of ``f(x)``.

    Raises
    ------
    ValueError
        If ``v``'s shape differs from ``x``'s.

    See Also
    --------
    push_forward : several directions in one pass.
    jit_jvp : the same, compiled to straight-line NumPy for repeated calls.

    Examples
    --------
    >>> dd.jvp(lambda x: x**2, np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    (array([1., 4.]), array([2., 0.]))
    >>> dd.jvp(lambda x, y: x * y, (2.0, 3.0), (1.0, 0.0))  # d(xy)/dx = y
    (6.0, 3.0)
    """
    errors.check_callable(f, "jvp")
    return push_along(f, x, v, "jvp")


# ---------------------------------------------------------------------------------------------
# Jacobians
# ---------------------------------------------------------------------------------------------


def value_and_jacobian(
    f: Callable[..., Any],
    x: Any,
    chunk: int | None = None,
    *,
    sparsity: Any = None,
    workers: Any = None,
    progress: bool = False,
    output: str = "dense",
) -> tuple[Any, Any]:
    """``(f(x), J)`` where ``J = df/dx`` has shape ``np.shape(f(x)) + np.shape(x)``.

    Built by forward accumulation, ``chunk`` columns per pass, each pass seeded with a block of the
    identity and written into the preallocated result; ``f(x)`` comes from the first pass at no
    extra cost.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a number, an array or a tuple of them (then both results are tuples).
    x : number or array_like
        The point.
    chunk : int, optional
        Columns per pass (``chunk=1``: one column per pass). ``None``: all of them up to a 32 MiB
        Jacobian, beyond that a fifth of them at most, so that the peak memory stays near 1.4 times
        the Jacobian's size.
    sparsity : array_like, scipy.sparse matrix or "auto", optional
        The non-zero pattern (boolean, as from :func:`jacobian_sparsity`), or ``"auto"`` to detect
        it. The columns are then coloured and the Jacobian needs one pass per colour. To reuse the
        colouring across points use :class:`SparseJacobian`.
    workers : int or callable, optional
        Evaluate chunks of columns in parallel: an int for a process pool of that size, or a
        map-like callable such as ``Pool.map``, an ``Executor`` or a ``dask.distributed.Client``.
        The result is exactly the serial one.
    progress : bool, optional
        Show a progress bar (tqdm when installed, else a line on stderr).
    output : {"dense", "sparse"}, optional
        With ``sparsity``, ``"sparse"`` returns a ``scipy.sparse`` array of shape
        ``(f(x).size, x.size)``.

    Returns
    -------
    value : number, array, or tuple
        ``f(x)``.
    jacobian : ndarray, scipy.sparse array, or tuple
        ``df/dx``.

    See Also
    --------
    jacobian, SparseJacobian, jit_jacobian

    Examples
    --------
    >>> f = lambda x: np.cumsum(x**2)
    >>> value, J = dd.value_and_jacobian(f, np.array([1.0, 2.0, 3.0]))
    >>> value
    array([ 1.,  5., 14.])
    >>> J
    array([[2., 0., 0.],
           [2., 4., 0.],
           [2., 4., 6.]])
    """
    if sparsity is not None:
        return sparse_jacobian(
            f, x, sparsity, output=output, workers=workers, chunk=chunk, progress=progress
        )
    if output != "dense":
        if output != "sparse":
            raise ValueError(f"jacobian: output must be 'dense' or 'sparse', got {output!r}")
        raise ValueError("jacobian: output='sparse' needs a sparsity pattern (or 'auto')")
    if workers is not None or progress:
        return jacobian_columns(f, x, workers=workers, chunk=_check_chunk(chunk), progress=progress)
    return dense_jacobian(f, x, chunk)


def jacobian(f: Callable[..., Any], x: Any, chunk: int | None = None, **options: Any) -> Any:
    """The Jacobian ``df/dx``, of shape ``np.shape(f(x)) + np.shape(x)``.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a number, an array or a tuple of them (then a tuple of Jacobians).
    x : number or array_like
        The point.
    chunk : int, optional
        Columns (directions) per forward pass. ``None``: all of them in one pass up to a 32 MiB
        Jacobian; beyond that five or more passes, each written into the result, so that the peak
        memory stays near 1.4 times the Jacobian's size.
    **options
        ``sparsity``, ``workers``, ``progress`` and ``output``, as in :func:`value_and_jacobian`.

    Returns
    -------
    ndarray, scipy.sparse array, or tuple of them
        The Jacobian: entry ``[i..., j...]`` is ``d f(x)[i...] / d x[j...]``.

    See Also
    --------
    value_and_jacobian : also returns ``f(x)``, from the same passes.
    SparseJacobian : a sparse Jacobian prepared once and evaluated at many points.
    jit_jacobian : the same, compiled for repeated calls.
    dualdiff.numeric.jacobian : the same by numeric differences.

    Examples
    --------
    >>> dd.jacobian(lambda x: np.stack([x[0] * x[1], x[0] + x[1]]), np.array([2.0, 3.0]))
    array([[3., 2.],
           [1., 1.]])
    >>> dd.jacobian(lambda x: x[1:] - x[:-1], np.zeros(3), sparsity="auto")
    array([[-1.,  1.,  0.],
           [ 0., -1.,  1.]])
    """
    if options:
        return value_and_jacobian(f, x, chunk, **options)[1]
    return value_and_jacobian(f, x, chunk)[1]


def value_and_gradient(f: Callable[..., Any], x: Any, chunk: int | None = None) -> tuple[Any, Any]:
    """``(f(x), ∇f(x))`` for a scalar-valued ``f``, from the same passes.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a scalar.
    x : array_like
        The point.
    chunk : int, optional
        Directions per forward pass, as in :func:`jacobian`.

    Returns
    -------
    value : scalar
        ``f(x)``.
    gradient : ndarray
        ``∇f(x)``, of the shape of ``x``.

    See Also
    --------
    gradient

    Examples
    --------
    >>> value, grad = dd.value_and_gradient(np.prod, np.array([2.0, 3.0, 4.0]))
    >>> float(value), grad
    (24.0, array([12.,  8.,  6.]))
    """
    return _value_and_gradient(f, x, chunk, "gradient")


def _value_and_gradient(f: Callable[..., Any], x: Any, chunk: Any, api: str) -> tuple[Any, Any]:
    value, jac = value_and_jacobian(f, x, chunk)
    _check_scalar(value, api)
    return value, jac


def _check_scalar(value: Any, api: str) -> None:
    if is_sequence(value) or np.ndim(strip(value)) != 0:
        got = type(value).__name__ if is_sequence(value) else np.shape(strip(value))
        raise ValueError(
            f"{api}: f must return a scalar, it returned {got}; use jacobian for "
            "vector-valued functions"
        )


def gradient(f: Callable[..., Any], x: Any, chunk: int | None = None) -> Any:
    """The gradient of a scalar-valued ``f`` at ``x``, of the shape of ``x``.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a scalar.
    x : array_like
        The point.
    chunk : int, optional
        Directions per forward pass, as in :func:`jacobian`.

    Returns
    -------
    ndarray
        ``∇f(x)``.

    Raises
    ------
    ValueError
        If ``f`` does not return a scalar (use :func:`jacobian`).

    See Also
    --------
    value_and_gradient, hessian

    Notes
    -----
    Forward mode needs one pass per input (``chunk`` of them at once), so a gradient of ``n``
    inputs costs about ``n`` evaluations of ``f``; see the user guide on forward against reverse
    accumulation.

    Examples
    --------
    >>> dd.gradient(lambda x: np.sum(x**2), np.array([1.0, 2.0]))
    array([2., 4.])
    """
    return value_and_gradient(f, x, chunk)[1]


def hessian(f: Callable[..., Any], x: Any, chunk: int | None = None) -> Any:
    """The Hessian of a scalar-valued ``f`` at ``x``: shape ``x.shape + x.shape``, symmetric.

    Parameters
    ----------
    f : callable
        ``f(x)``, returning a scalar.
    x : array_like
        The point.
    chunk : int, optional
        Directions of the outer pass. ``None``: as many as keep the ``chunk·n·n`` second-order
        tangents within the memory budget.

    Returns
    -------
    ndarray
        The matrix of second derivatives.

    See Also
    --------
    gradient, taylor

    Notes
    -----
    Forward over forward: the Jacobian of the gradient, where the inner gradient carries all ``n``
    directions in one batched pass. Chosen over Taylor mode, which needs a pass per direction
    ``e_i`` and ``e_i + e_j`` (``n(n+1)/2`` passes): for a tanh layer plus ``sum(x**4)`` this took
    0.7/0.9/1.6 ms at n = 5/20/50 against 5.8/69/340 ms along Taylor directions.

    Examples
    --------
    >>> dd.hessian(lambda x: x[0]**2 * x[1], np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    errors.check_callable(f, "hessian")
    chunk = _check_chunk(chunk)
    if not _is_array_input(x):
        _scalar_input(x, "hessian")  # (a bool or a tuple: refused in hessian's name)
        second = derivative(lambda u: derivative(f, u), x)
        _check_scalar(second, "hessian")  # (of f's shape: a vector f gave its second derivatives)
        return second
    x = _array_input(x, "hessian")
    n = max(1, int(np.prod(np.shape(strip(x)))))
    if chunk is None:
        itemsize = np.dtype(np.result_type(strip(x), 0.0)).itemsize
        chunk = int(max(1, min(n, MEMORY_BUDGET // (itemsize * n * n))))
    return jacobian(lambda z: _value_and_gradient(f, z, None, "hessian")[1], x, chunk=chunk)
