"""Every mode against every other and against numeric differences, on generated NumPy programs.

The programs come from ``grammar.cases`` (see there). Each property is one test; each call into
dualdiff goes through ``attempt``, which checks what every call must honour whatever it returns:
the caller's ``x`` (and ``v``) unchanged, no result sharing memory with them, and a refusal that
is a ``TypeError``/``ValueError`` with a message (never a RecursionError, ZeroDivisionError,
AxisError, AttributeError, IndexError ... from inside dualdiff). A refusal is accepted and counted
(``DUALDIFF_ADVERSARIAL_REFUSALS=1`` prints the counts); a different number is a failure.

``KNOWN_BROKEN`` switches off grammar features that fail on the current code for a known class
of issue 11, per property, so the properties run green on everything else; remove an entry once
its class is fixed.
"""

from __future__ import annotations

import collections
import math
import warnings
from typing import Any

import numpy as np
from hypothesis import assume, given, note, reject, settings

import dualdiff as dd
from dualdiff import numeric
from dualdiff.core.errors import ValueDependentPatternWarning

from .grammar import Case, cases, examples, quiet

PROFILE = settings.get_profile("dualdiff-adversarial")

# feature -> (issue 11 class, the properties it breaks); "*" is every property.
KNOWN_BROKEN: dict[str, tuple[str, set[str]]] = {}

# checks of `attempt` and the properties that fail on the current code for a known reason
KNOWN_BROKEN_CHECKS: dict[str, str] = {}

REFUSALS: collections.Counter = collections.Counter()


def disabled(prop: str) -> frozenset[str]:
    return frozenset(
        feature for feature, (_, props) in KNOWN_BROKEN.items() if "*" in props or prop in props
    )


class Refused(Exception):
    """A mode refused the program (TypeError/ValueError with a message): acceptable."""


# Exceptions that are never an acceptable refusal, even where they subclass ValueError (AxisError).
FORBIDDEN = (
    RecursionError,
    ZeroDivisionError,
    np.exceptions.AxisError,
    AttributeError,
    IndexError,
    KeyError,
    AssertionError,
    UnboundLocalError,
    NameError,
)


# Messages of Python's own TypeErrors: from a program NumPy runs, one of these is dualdiff
# tripping over an argument it did not expect, not a refusal naming the user's construct. (Not
# "'Dual' object is not subscriptable": a declared difference, see test_found's
# test_indexing_a_scalar_result.)
INTERNAL = (
    "'NoneType' object",
    "cannot be interpreted as an integer",
    "unsupported operand type",
    "unexpected keyword argument",
    "positional argument",
    "object is not iterable",
    "object is not callable",
    "unhashable type",
)


def _arrays(out: Any) -> list[np.ndarray]:
    if isinstance(out, tuple | list):
        return [a for item in out for a in _arrays(item)]
    return [out] if isinstance(out, np.ndarray) else []


def attempt(mode: str, call: Any, *inputs: np.ndarray) -> Any:
    """``call()``, checking it leaves ``inputs`` untouched and unaliased, and refuses properly."""
    before = [a.copy() for a in inputs]
    try:
        out = call()
    except FORBIDDEN as exc:
        raise AssertionError(f"{mode}: {type(exc).__name__} from inside dualdiff: {exc}") from exc
    except (TypeError, ValueError) as exc:
        assert str(exc).strip(), f"{mode}: {type(exc).__name__} without a message"
        assert not any(text in str(exc) for text in INTERNAL), (
            f"{mode}: Python's own {type(exc).__name__} from inside dualdiff (NumPy runs the "
            f"program): {exc}"
        )
        REFUSALS[(mode, f"{type(exc).__name__}: {str(exc)[:100]}")] += 1
        raise Refused(f"{mode}: {type(exc).__name__}: {exc}") from exc
    aliasing_known = mode.startswith("jvp") and "jvp_result_aliases_input" in KNOWN_BROKEN_CHECKS
    for a, b in zip(inputs, before):
        np.testing.assert_array_equal(a, b, err_msg=f"{mode} mutated the caller's array")
        for r in [] if aliasing_known else _arrays(out):
            assert not np.shares_memory(r, a), f"{mode}: a result shares memory with an input"
    return out


def fresh(z: Any) -> Any:
    """A private copy of a point (numeric differences may pass a float for a scalar x)."""
    return z.copy() if isinstance(z, np.ndarray | np.generic) else np.float64(z)


def plain(case: Case, x: np.ndarray) -> Any:
    """The program on plain NumPy at ``x`` (None when NumPy warns or fails there)."""
    try:
        return np.asarray(quiet(lambda: case.program(x.copy())))
    except Exception:
        return None


def scale_of(*arrays: Any) -> float:
    return max([1.0] + [float(np.max(np.abs(a), initial=0.0)) for a in arrays])


# Whether the case under test has a float32 intermediate (np.sum(a, dtype=np.float32)): set as
# each example is drawn (the examples run one after the other).
_FLOAT32_INTERMEDIATE = [False]


def tracked(**kw: Any) -> Any:
    """``cases(**kw)``, noting for ``close`` whether each case computes in float32 somewhere."""

    def track(case: Case) -> Case:
        _FLOAT32_INTERMEDIATE[0] = "float32_intermediate" in case.used
        return case

    return cases(**kw).map(track)


def close(actual: Any, expected: Any, tol: float, what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    eps = max(np.finfo(np.result_type(a, 0.0)).eps for a in (actual, expected))
    if eps > 1e-10 or _FLOAT32_INTERMEDIATE[0]:
        # float32 values or intermediates (a reduction with dtype=np.float32): the tangents are
        # rounded to float32 at different places in different modes (J @ v in float64, the jvp
        # in float32), so modes agree to float32's precision, not float64's
        tol = max(tol, 1e-5)
    s = scale_of(expected)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * s, err_msg=what)


def lower_precision(case: Case, x: np.ndarray) -> bool:
    """Whether NumPy evaluates the program in less precision than x's (np.sum(a, dtype=float32)):
    central differences of float32 values cannot check derivatives to these tolerances (the
    modes still agree with each other, and test_float32_input checks float32 accuracy)."""
    if "float32_intermediate" in case.used and x.dtype != np.float32:
        return True
    value = plain(case, x)
    return value is not None and value.dtype.itemsize < np.result_type(x.dtype, 0.0).itemsize


def numeric_jacobian(case: Case, x: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Central differences at two steps; None where they disagree (a kink, a jump) or NumPy
    warns at a perturbed point, or the program computes in float32. Returns the finer one and
    their disagreement."""
    if x.dtype == np.float64 and lower_precision(case, x):
        return None

    def g(z: np.ndarray) -> Any:
        # numeric differences pass a Python float for a 0-d x; the modes see a 0-d array (whose
        # views alias it, unlike a scalar's: a1 = a0.astype(float); a1[..., None] *= 0.5)
        z = np.array(z, dtype=x.dtype) if x.ndim == 0 else fresh(z)
        return quiet(lambda: case.program(z))

    try:
        fine = numeric.jacobian(g, x, method="central", step=1e-5)
        coarse = numeric.jacobian(g, x, method="central", step=1e-4)
    except Exception:
        return None
    spread = float(np.max(np.abs(fine - coarse), initial=0.0))
    if not np.all(np.isfinite(fine)) or spread > 1e-5 * scale_of(fine):
        return None
    return fine, spread


def first_point(case: Case) -> np.ndarray:
    assume(plain(case, case.x0) is not None)
    return case.x0


def points(case: Case) -> list[np.ndarray]:
    out = [x for x in (case.x0, case.x1) if plain(case, x) is not None]
    assume(out)
    return out


def eager_jacobian(case: Case, x: np.ndarray, **kw: Any) -> np.ndarray:
    try:
        return np.asarray(
            attempt(f"jacobian{kw or ''}", lambda: dd.jacobian(case.program, x, **kw), x)
        )
    except Refused:
        reject()


def tangent_along(jac: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.tensordot(jac, v, axes=v.ndim) if v.ndim else jac * v


# ---------------------------------------------------------------------------------------------
# The properties
# ---------------------------------------------------------------------------------------------


@settings(PROFILE, max_examples=examples(250))
@given(tracked(disabled=disabled("jacobian")))
def test_jacobian_matches_numeric_differences(case):
    checked = 0
    for x in points(case):
        ref = numeric_jacobian(case, x)
        if ref is None:
            continue
        fine, spread = ref
        jac = eager_jacobian(case, x)
        value = plain(case, x)
        assert jac.shape == value.shape + x.shape, "jacobian shape is f(x).shape + x.shape"
        close(jac, fine, 1e-6 + 10 * spread / scale_of(fine), "jacobian vs central differences")
        checked += 1
    assume(checked)


@settings(PROFILE, max_examples=examples(200))
@given(tracked(disabled=disabled("chunks")))
def test_jacobian_chunks_agree(case):
    x = first_point(case)
    full = eager_jacobian(case, x)
    for chunk in (1, 2):
        part = np.asarray(
            attempt(
                f"jacobian(chunk={chunk})", lambda: dd.jacobian(case.program, x, chunk=chunk), x
            )
        )
        assert part.dtype == full.dtype
        close(part, full, 1e-12, f"jacobian chunk={chunk} vs chunk=None")


@settings(PROFILE, max_examples=examples(200))
@given(tracked(disabled=disabled("jvp")))
def test_jvp_matches_jacobian(case):
    for x in points(case):
        jac = eager_jacobian(case, x)
        v = case.v.copy()
        try:
            value, tangent = attempt("jvp", lambda: dd.jvp(case.program, x, v), x, v)
        except Refused:
            continue
        close(value, plain(case, x), 1e-13, "jvp value vs plain NumPy")
        close(tangent, tangent_along(jac, v), 1e-10, "jvp tangent vs J @ v")


def _second_difference(case: Case, x: np.ndarray, v: np.ndarray, h: float) -> np.ndarray:
    g = lambda t: np.asarray(quiet(lambda: case.program(x + t * v)), dtype=float)  # noqa: E731
    return (g(h) - 2 * g(0.0) + g(-h)) / (h * h)


@settings(PROFILE, max_examples=examples(200))
@given(tracked(disabled=disabled("taylor")))
def test_taylor_order_one_and_two(case):
    x = first_point(case)
    assume(not lower_precision(case, x))  # second differences of float32 values: noise
    v = case.v.copy()
    try:
        _, tangent = attempt("jvp", lambda: dd.jvp(case.program, x, v), x, v)
    except Refused:
        reject()
    line = lambda t: case.program(x + t * v)  # noqa: E731
    try:
        d1 = attempt("derivative(n=1)", lambda: dd.derivative(line, 0.0, n=1), x, v)
        close(d1, tangent, 1e-10, "derivative along a line (n=1) vs jvp")
    except Refused:
        pass
    try:
        d2 = attempt("derivative(n=2)", lambda: dd.derivative(line, 0.0, n=2), x, v)
    except Refused:
        return
    try:
        fine, coarse = (_second_difference(case, x, v, h) for h in (1e-3, 2e-3))
    except Exception:
        return
    spread = float(np.max(np.abs(fine - coarse), initial=0.0))
    if spread > 1e-3 * scale_of(fine):
        return  # not smooth along the line (a kink, a jump)
    if "taylor_shape" in KNOWN_BROKEN_CHECKS:
        d2 = np.broadcast_to(d2, np.shape(fine))
    close(d2, fine, 1e-5 + 10 * spread / scale_of(fine), "derivative(n=2) vs second differences")


def _exact(line: Any, k: int, t: float, dtype: Any) -> np.ndarray:
    """The exact k-th derivative of ``line`` at ``t`` as an array (raises where it fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return np.asarray(dd.derivative(line, t, n=k), dtype=dtype)


def _check_taylor_orders(case: Case, x: np.ndarray, v: np.ndarray) -> None:
    """Order k of Taylor mode along ``x + t v`` against central differences (real t) of its
    exact order k - 1, an independent reference at every order (a wrong order k with a right
    order k - 1 shows); derivative(n=k), taylor's coefficient k·k! and forward over forward
    (n=2) agree to rounding."""
    dtype = np.result_type(x, v, 0.0)
    line = lambda t: case.program(x + t * v)  # noqa: E731
    try:
        coefficients = attempt("taylor(order=4)", lambda: dd.taylor(line, 0.0, 4), x, v)
        nested = attempt(
            "derivative of derivative",
            lambda: dd.derivative(lambda t: dd.derivative(line, t), 0.0),
            x,
            v,
        )
    except Refused:
        reject()
    coefficients = np.asarray(coefficients)
    # a float32 constant: Taylor mode promotes it with the series, as NumPy's ufuncs do, where
    # the plain formula of a rule such as xlog1py takes log1p of it in float32 (1e-8 apart)
    same = 1e-6 if "np.float32(" in case.program.source() else 1e-9
    for k in (2, 3, 4):
        exact = np.asarray(attempt(f"derivative(n={k})", lambda: dd.derivative(line, 0.0, n=k)))
        close(coefficients[..., k] * math.factorial(k), exact, 1e-12, f"taylor vs n={k}")
        if k == 2:
            close(nested, exact, same, "derivative of derivative vs n=2")
        try:
            fine, coarse = (
                (_exact(line, k - 1, h, dtype) - _exact(line, k - 1, -h, dtype)) / (2 * h)
                for h in (1e-4, 2e-4)
            )
        except Exception:
            return
        spread = float(np.max(np.abs(fine - coarse), initial=0.0))
        if not np.all(np.isfinite(fine)) or spread > 1e-4 * scale_of(fine):
            return  # order k - 1 is not smooth along the line here (a kink, a jump)
        close(
            exact, fine, 1e-6 + 10 * spread / scale_of(fine), f"n={k} vs differences of n={k - 1}"
        )


@settings(PROFILE, max_examples=examples(40))
@given(tracked(disabled=disabled("taylor")))
def test_taylor_orders_two_to_four(case):
    x = first_point(case)
    assume(not lower_precision(case, x))
    _check_taylor_orders(case, x, case.v.copy())


def _hessian_reference(g: Any, x: np.ndarray, h: float) -> np.ndarray:
    n = x.size
    flat = x.ravel()
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):

            def at(si: float, sj: float) -> float:
                z = flat.copy()
                z[i] += si * h
                z[j] += sj * h
                return float(g(z.reshape(x.shape)))

            out[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)
    return out.reshape(x.shape + x.shape)


@settings(PROFILE, max_examples=examples(120))
@given(tracked(disabled=disabled("hessian")))
def test_hessian_of_sum_of_squares(case):
    x = first_point(case)
    assume(not lower_precision(case, x))
    loss = lambda z: np.sum(case.program(z) ** 2)  # noqa: E731
    plain_loss = lambda z: quiet(lambda: loss(fresh(z)))  # noqa: E731
    try:
        fine, coarse = (_hessian_reference(plain_loss, x, h) for h in (1e-3, 2e-3))
    except Exception:
        reject()
    spread = float(np.max(np.abs(fine - coarse), initial=0.0))
    assume(spread <= 1e-3 * scale_of(fine) and np.all(np.isfinite(fine)))
    try:
        grad = attempt("gradient", lambda: dd.gradient(loss, x), x)
    except Refused:
        reject()
    close(grad, dd.numeric.jacobian(plain_loss, x), 1e-5, "gradient vs central differences")
    # what the first order accepts, forward over forward must accept too: a refusal here is a
    # program the user cannot get a Hessian of although nothing in it lacks a rule
    hess = attempt("hessian", lambda: dd.hessian(loss, x), x)
    close(hess, fine, 1e-5 + 10 * spread / scale_of(fine), "hessian vs second differences")


def _replay_points(case: Case) -> list[np.ndarray]:
    pts = points(case)
    return pts + [pts[0]]  # compiled at the first, replayed at the others and the first again


@settings(PROFILE, max_examples=examples(200))
@given(tracked(disabled=disabled("jit_jvp")))
def test_jit_jvp_replays_eager(case):
    _compiled_jvp_replays_eager(case.program, _replay_points(case), case.v, "")


def _compiled_jvp_replays_eager(program, points, v, label):
    """``jit_jvp(program)``, traced at the first point, against eager ``jvp`` at every point."""
    compiled = dd.jit_jvp(program)
    for x in points:
        v = v.copy()
        try:
            want = attempt(f"jvp{label}", lambda: dd.jvp(program, x, v), x, v)
        except Refused:
            reject()
        try:
            got = attempt(f"jit_jvp{label}", lambda: compiled(x, v), x, v)
        except Refused:
            return
        close(got[0], want[0], 1e-12, f"jit_jvp{label} value vs eager")
        close(got[1], want[1], 1e-10, f"jit_jvp{label} tangent vs eager jvp")


@settings(PROFILE, max_examples=examples(200))
@given(tracked(disabled=disabled("jit_jacobian")))
def test_jit_jacobian_replays_eager(case):
    compiled = dd.jit_jacobian(case.program)
    for x in _replay_points(case):
        want = eager_jacobian(case, x)
        try:
            got = attempt("jit_jacobian", lambda: compiled(x), x)
        except Refused:
            return
        close(got, want, 1e-10, "jit_jacobian vs eager jacobian")


@settings(PROFILE, max_examples=examples(200))
@given(tracked(disabled=disabled("sparsity")))
def test_sparsity_pattern_covers_the_jacobian(case):
    pts = points(case)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ValueDependentPatternWarning)
            pattern = attempt(
                "jacobian_sparsity", lambda: dd.jacobian_sparsity(case.program, pts[0]), pts[0]
            )
    except Refused:
        reject()
    if any(issubclass(w.category, ValueDependentPatternWarning) for w in caught):
        pts = pts[:1]  # f branched on x's values (if): the pattern holds at the traced x only
    for x in pts:
        jac = eager_jacobian(case, x)
        if jac.size != pattern.size:
            continue  # a value-dependent output shape (a boolean mask)
        flat = jac.reshape(pattern.shape)
        # a NaN output (xlog1py below -1: NumPy gives NaN without a warning) has NaN partials by
        # IEEE arithmetic (README: "a NaN you see") also where it structurally does not depend
        value = np.asarray(plain(case, x)).reshape(-1)
        missed = (flat != 0) & ~pattern & ~(np.isnan(flat) & np.isnan(value)[:, None])
        assert not missed.any(), f"pattern misses non-zeros at {np.argwhere(missed).tolist()}"


@settings(PROFILE, max_examples=examples(200))
@given(tracked(disabled=disabled("sparse_jacobian")))
def test_sparse_jacobian_reuse(case):
    pts = points(case)
    try:
        prepared = attempt(
            "SparseJacobian", lambda: dd.SparseJacobian(case.program, pts[0]), pts[0]
        )
    except Refused:
        reject()
    # (not at a point where f is NaN: dense passes spread the NaN over the whole row, a sparse
    # one over the pattern's entries only, and neither is a derivative there)
    pts = [x for x in pts if np.all(np.isfinite(plain(case, x)))] or reject()
    for x in pts + pts:  # twice: a prepared Jacobian must not drift
        want = eager_jacobian(case, x)
        try:
            got = attempt("SparseJacobian()", lambda: prepared(x), x)
        except Refused:
            return
        close(got, want, 1e-10, "SparseJacobian(f, x0)(x) vs jacobian(f, x)")


@settings(PROFILE, max_examples=examples(120))
@given(tracked(disabled=disabled("float32"), dtype=np.float32, shapes=[(3,), (2, 3), (4,)]))
def test_float32_input(case):
    """A float32 input: the Jacobian has NumPy's result dtype and the float64 Jacobian's values
    (to float32 accuracy), in every mode that accepts it."""
    x = case.x0
    value = plain(case, x)
    assume(value is not None)
    x64 = x.astype(np.float64)
    assume(plain(case, x64) is not None)
    jac = eager_jacobian(case, x)
    ref = np.asarray(dd.jacobian(case.program, x64))
    if "float32_dtypes" not in KNOWN_BROKEN_CHECKS:
        assert jac.dtype == np.result_type(value.dtype, x.dtype), "jacobian dtype vs NumPy's"
    assume(numeric_jacobian(case, x64) is not None)  # smooth here: float32 rounding is harmless
    close(jac, ref, 2e-3, "float32 jacobian vs float64 jacobian")
    v = case.v.copy()
    try:
        val, tan = attempt("jvp(float32)", lambda: dd.jvp(case.program, x, v), x, v)
    except Refused:
        return
    if "float32_dtypes" not in KNOWN_BROKEN_CHECKS:
        assert np.asarray(val).dtype == value.dtype, "jvp value dtype vs NumPy's"
        assert np.asarray(tan).dtype == value.dtype, "jvp tangent dtype vs NumPy's value dtype"
    close(tan, tangent_along(ref, v.astype(np.float64)), 2e-3, "float32 jvp vs float64 J @ v")


@settings(PROFILE, max_examples=examples(4) if examples(4) == 4 else 5)
@given(tracked(disabled=disabled("workers"), max_steps=3))
def test_workers_agree_with_serial(case):
    x = first_point(case)
    want = eager_jacobian(case, x)
    try:
        got = attempt("jacobian(workers=2)", lambda: dd.jacobian(case.program, x, workers=2), x)
    except Refused:
        return
    note(f"serial {want!r}")
    assert np.asarray(got).dtype == want.dtype
    close(got, want, 1e-12, "jacobian(workers=2) vs serial")


@settings(PROFILE, max_examples=examples(120))
@given(tracked(disabled=disabled("jit_shapes"), shapes=[(3,), (4,), (2, 3)]))
def test_compiled_functions_at_other_shapes_and_dtypes(case):
    """One compiled object called at x0, at another shape, at float32 and at x0 again: each call
    must agree with eager mode there (a cache keyed too loosely would replay the wrong code)."""
    x = first_point(case)
    others = [x, np.resize(case.x1, x.shape[:-1] + (x.shape[-1] + 2,)), x.astype(np.float32), x]
    jvp_c, jac_c = dd.jit_jvp(case.program), dd.jit_jacobian(case.program)
    for z in others:
        if plain(case, z) is None:
            continue
        v = np.ones_like(z)
        try:
            want = attempt("jvp", lambda: dd.jvp(case.program, z, v), z, v)
            want_jac = attempt("jacobian", lambda: dd.jacobian(case.program, z), z)
        except Refused:
            continue
        tol = 1e-10 if z.dtype == np.float64 else 1e-5
        try:
            got = attempt("jit_jvp", lambda: jvp_c(z, v), z, v)
            close(got[1], want[1], tol, f"jit_jvp at {z.shape} {z.dtype} vs eager")
        except Refused:
            pass
        try:
            got_jac = attempt("jit_jacobian", lambda: jac_c(z), z)
            close(got_jac, want_jac, tol, f"jit_jacobian at {z.shape} {z.dtype} vs eager")
        except Refused:
            pass


@settings(PROFILE, max_examples=examples(120))
@given(tracked(disabled=disabled("errstate")))
def test_errstate_raise_around_a_clean_program(case):
    """A program NumPy runs without a floating-point warning must differentiate under the user's
    ``np.errstate(all="raise")``: dualdiff's own arithmetic (masked infinite partials, ...) must
    not trip it."""
    x = first_point(case)
    assume(numeric_jacobian(case, x) is not None)  # smooth here: no infinite partial is real
    v = case.v.copy()
    with np.errstate(all="raise"):
        try:
            attempt("jacobian under errstate", lambda: dd.jacobian(case.program, x), x)
            attempt("jvp under errstate", lambda: dd.jvp(case.program, x, v), x, v)
        except Refused:
            reject()


@settings(PROFILE, max_examples=examples(120))
@given(tracked(disabled=disabled("complex"), dtype=np.complex128, shapes=[(), (3,), (2, 3)]))
def test_complex_input_jvp_matches_directional_differences(case):
    """Complex x and v: the jvp is d/dt f(x + t v) at real t = 0, for holomorphic and
    non-holomorphic programs alike, so central differences in t are a reference."""
    x = case.x0 + 0.5j * case.x1
    v = case.v + 0.25j
    if plain(case, x) is None or lower_precision(case, x):
        reject()

    def line(t: float) -> np.ndarray:
        return np.asarray(quiet(lambda: case.program(x + t * v)), dtype=complex)

    try:
        fine = (line(1e-5) - line(-1e-5)) / 2e-5
        coarse = (line(1e-4) - line(-1e-4)) / 2e-4
    except Exception:
        reject()
    spread = float(np.max(np.abs(fine - coarse), initial=0.0))
    assume(spread <= 1e-5 * scale_of(fine))
    try:
        _, tangent = attempt("jvp(complex)", lambda: dd.jvp(case.program, x, v), x, v)
    except Refused:
        reject()
    close(tangent, fine, 1e-6 + 10 * spread / scale_of(fine), "complex jvp vs differences")


@settings(PROFILE, max_examples=examples(30))
@given(tracked(disabled=disabled("complex"), dtype=np.complex128, shapes=[(), (3,), (2, 3)]))
def test_complex_input_taylor_orders_two_to_four(case):
    """Complex x and v: Taylor mode along x + t v (real t), as for real input."""
    x = case.x0 + 0.5j * case.x1
    if plain(case, x) is None or lower_precision(case, x):
        reject()
    _check_taylor_orders(case, x, case.v + 0.25j)


@settings(PROFILE, max_examples=examples(60))
@given(cases(disabled=disabled("complex_sparsity"), dtype=np.complex128, shapes=[(3,), (2, 3)]))
def test_complex_input_sparsity_and_sparse_jacobian(case):
    """Complex x (writes through np.real/np.imag views of complex entries among the steps): the
    traced pattern covers the eager Jacobian (d/dt f(x + t e_j)) and a prepared SparseJacobian
    reproduces it, at the traced point and at another."""
    pts = [case.x0 + 0.5j * case.x1, case.x1 - 0.25j * case.x0]
    pts = [x for x in pts if plain(case, x) is not None]
    assume(pts)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ValueDependentPatternWarning)
            pattern = attempt(
                "jacobian_sparsity(complex)",
                lambda: dd.jacobian_sparsity(case.program, pts[0]),
                pts[0],
            )
        prepared = attempt(
            "SparseJacobian(complex)", lambda: dd.SparseJacobian(case.program, pts[0]), pts[0]
        )
    except Refused:
        reject()
    # f branched on x's values (if): the pattern holds at the traced x only (the prepared
    # SparseJacobian traces again at every new point, so it is compared at both)
    traced_only = any(issubclass(w.category, ValueDependentPatternWarning) for w in caught)
    for x in pts:
        jac = eager_jacobian(case, x)
        if jac.size != pattern.size:
            continue
        flat = jac.reshape(pattern.shape)
        value = np.asarray(plain(case, x)).reshape(-1)
        missed = (flat != 0) & ~pattern & ~(np.isnan(flat) & np.isnan(value)[:, None])
        if x is pts[0] or not traced_only:
            assert not missed.any(), f"pattern misses non-zeros at {np.argwhere(missed).tolist()}"
        try:
            got = attempt("SparseJacobian(complex)()", lambda: prepared(x), x)
        except Refused:
            continue
        close(got, jac, 1e-10, "complex SparseJacobian(f, x0)(x) vs jacobian(f, x)")


@settings(PROFILE, max_examples=examples(60))
@given(tracked(disabled=disabled("complex_jit"), dtype=np.complex128, shapes=[(3,), (2, 3)]))
def test_complex_input_jit_jvp_replays_eager(case):
    """Complex x and v (writes through np.real/np.imag views of complex entries among the
    steps): a compiled jvp, traced at one point and replayed at another, gives eager's."""
    pts = [case.x0 + 0.5j * case.x1, case.x1 - 0.25j * case.x0]
    pts = [x for x in pts if plain(case, x) is not None]
    assume(pts)
    _compiled_jvp_replays_eager(case.program, pts + pts[:1], case.v + 0.25j, "(complex)")


@settings(PROFILE, max_examples=examples(40))
@given(tracked(disabled=disabled("sparsity_auto")))
def test_jacobian_with_sparsity_auto_matches_dense(case):
    """``jacobian(f, x, sparsity="auto")`` (traced pattern, coloured compressed passes) gives the
    dense Jacobian, at the traced point and at a second one (traced again)."""
    for x in points(case):
        want = eager_jacobian(case, x)
        if not np.all(np.isfinite(want)):
            continue  # a NaN spreads over a dense row, over the pattern's entries in a sparse one
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ValueDependentPatternWarning)
                got = attempt(
                    'jacobian(sparsity="auto")',
                    lambda: dd.jacobian(case.program, x, sparsity="auto"),
                    x,
                )
        except Refused:
            continue
        close(got, want, 1e-10, 'jacobian(sparsity="auto") vs dense jacobian')


@settings(PROFILE, max_examples=examples(40))
@given(tracked(disabled=disabled("hessian"), max_steps=4))
def test_hessian_is_the_jacobian_of_the_gradient(case):
    """``hessian(loss)`` against ``jacobian(gradient(loss))`` (nested eager passes) and against
    central differences of the gradient (the first order, checked elsewhere, as reference)."""
    x = first_point(case)
    assume(not lower_precision(case, x))

    def loss(z: Any) -> Any:
        y = case.program(z)
        return np.sum(np.sin(y) * y)

    def grad(z: Any) -> Any:
        # numeric differences pass a float for a 0-d x: the gradient at a 0-d array, as x is
        z = np.array(z, dtype=x.dtype) if np.ndim(x) == 0 else fresh(z)
        return quiet(lambda: dd.gradient(loss, z))

    def gradient(z: Any) -> Any:
        return dd.gradient(loss, z)

    try:
        nested = np.asarray(attempt("jacobian of gradient", lambda: dd.jacobian(gradient, x), x))
    except Refused:
        reject()
    try:
        differences = dd.numeric.jacobian(grad, x, step=1e-5)
        coarse = dd.numeric.jacobian(grad, x, step=1e-4)
    except (FloatingPointError, RuntimeWarning, TypeError, ValueError):
        reject()  # NumPy warns near x, or a perturbed point takes another branch that refuses
    hess = attempt("hessian", lambda: dd.hessian(loss, x), x)
    close(hess, nested, 1e-9, "hessian vs jacobian of gradient")
    spread = float(np.max(np.abs(differences - coarse), initial=0.0))
    if spread <= 1e-4 * scale_of(differences):  # smooth around x (no kink, no jump)
        close(
            hess, differences, 1e-6 + 10 * spread / scale_of(differences), "hessian vs differences"
        )


@settings(PROFILE, max_examples=examples(40))
@given(tracked(disabled=disabled("ties"), ties=True))
def test_modes_agree_at_ties(case):
    """At points with ties, exact zeros and round values (the kinks of max, sort, maximum, abs,
    clip, the comparisons), no derivative exists, but every mode must follow the same convention:
    jvp, Taylor's first order and the compiler give eager's J @ v, and the traced pattern covers
    eager's Jacobian."""
    for x in points(case):
        jac = eager_jacobian(case, x)
        v = case.v.copy()
        try:
            _, tangent = attempt("jvp", lambda: dd.jvp(case.program, x, v), x, v)
        except Refused:
            continue
        close(tangent, tangent_along(jac, v), 1e-10, "jvp vs J @ v at a tie")
        line = lambda t: case.program(x + t * v)  # noqa: E731
        try:
            d1 = attempt("derivative(n=1)", lambda: dd.derivative(line, 0.0), x, v)
            close(d1, tangent, 1e-10, "derivative along a line vs jvp at a tie")
        except Refused:
            pass
        try:
            compiled = attempt("jit_jacobian", lambda: dd.jit_jacobian(case.program)(x), x)
            close(compiled, jac, 1e-10, "jit_jacobian vs eager at a tie")
        except Refused:
            pass
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ValueDependentPatternWarning)
                pattern = attempt("sparsity", lambda: dd.jacobian_sparsity(case.program, x), x)
        except Refused:
            continue
        flat = jac.reshape(pattern.shape)
        value = np.asarray(plain(case, x)).reshape(-1)
        missed = (flat != 0) & ~pattern & ~(np.isnan(flat) & np.isnan(value)[:, None])
        assert not missed.any(), f"pattern misses non-zeros at {np.argwhere(missed).tolist()}"
