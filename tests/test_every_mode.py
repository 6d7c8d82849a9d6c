"""Every case of the shared list (``cases.py``) through every mode, against numeric differences.

Modes: eager ``jacobian`` with one direction per pass (``chunk=1``) and all at once, ``jvp``,
Taylor order 2 along a direction, ``jit_jvp`` and ``jit_jacobian`` (each at two points: the second
call replays the compiled program), ``jacobian_sparsity`` (its pattern covers every non-zero) and
``SparseJacobian`` (pattern found at one point, reused at another; eager and ``jit=True``
columns). The reference is always
independent of dualdiff: 6th-order central differences of the plain NumPy function
(``reference.jacobian``) and a 4th-order second difference for Taylor mode.

A mode that cannot handle a case is an explicit gap in ``GAPS`` (every_mode_gaps.py): a strict
xfail expecting the recorded ``TypeError``, so a gap that closes fails until it is removed
(regenerate the file with make_every_mode_gaps.py after adding a rule). A wrong number is never an
accepted gap; the only ones listed (``WRONG``) say ``WRONG NUMBER`` and expect the
``AssertionError``: fix those first.
"""

from __future__ import annotations

import functools
import importlib
import sys

import numpy as np
import pytest
from cases import CASES, KINDS, Case, by_function
from every_mode_gaps import GAPS
from every_mode_refuse import refuse
from reference import jacobian as numeric_jacobian
from reference import second

import dualdiff as dd

MODES = (
    "eager_chunk1",
    "eager",
    "jvp",
    "taylor2",
    "jit_jvp",
    "jit_jacobian",
    "sparsity",
    "sparse_jacobian",
    "sparse_jacobian_jit",
)


@functools.cache
def point(name: str, seed: int) -> np.ndarray:
    return CASES[name].point(seed)


@functools.cache
def direction(name: str, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(7 + seed).standard_normal(CASES[name].shape)


@functools.cache
def expected_jacobian(name: str, seed: int) -> np.ndarray:
    return numeric_jacobian(CASES[name].f, point(name, seed))


def expected_jvp(name: str, seed: int) -> np.ndarray:
    jac = expected_jacobian(name, seed)
    v = direction(name, seed)
    return np.tensordot(jac, v, axes=v.ndim)


def assert_close(actual, expected, rtol):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def check_eager(case: Case, chunk):
    assert_close(
        dd.jacobian(case.f, point(case.name, 0), chunk=chunk),
        expected_jacobian(case.name, 0),
        case.rtol,
    )


def check_jvp(case: Case):
    x = point(case.name, 0)
    value, tangent = dd.jvp(case.f, x, direction(case.name))
    assert_close(value, case.f(x), 1e-12)
    assert_close(tangent, expected_jvp(case.name, 0), case.rtol)


def check_taylor2(case: Case):
    x, v = point(case.name, 0), direction(case.name)

    def along(t):
        return case.f(x + t * v)

    assert_close(dd.derivative(along, 0.0, n=2), second(along, 0.0), 1e-5)


def check_jit_jvp(case: Case):
    compiled = dd.jit_jvp(case.f)
    for seed in (0, 1):  # the second call replays the program traced by the first
        x = point(case.name, seed)
        value, tangent = compiled(x, direction(case.name, seed))
        assert_close(value, case.f(x), 1e-12)
        assert_close(tangent, expected_jvp(case.name, seed), case.rtol)


def check_jit_jacobian(case: Case):
    compiled = dd.jit_jacobian(case.f)
    for seed in (0, 1):
        assert_close(
            compiled(point(case.name, seed)), expected_jacobian(case.name, seed), case.rtol
        )


def check_sparsity(case: Case):
    x = point(case.name, 0)
    pattern = np.asarray(dd.jacobian_sparsity(case.f, x))
    jac = expected_jacobian(case.name, 0)
    jac = jac.reshape(-1, x.size)
    assert pattern.shape == jac.shape
    scale = max(1.0, float(np.max(np.abs(jac), initial=0.0)))
    missed = (np.abs(jac) > 1e-6 * scale) & ~pattern
    assert not missed.any(), f"non-zeros outside the pattern at {np.argwhere(missed)[:5].tolist()}"


def check_sparse_jacobian(case: Case, jit: bool = False):
    sparse = dd.SparseJacobian(case.f, point(case.name, 0), jit=jit)
    assert_close(sparse(point(case.name, 1)), expected_jacobian(case.name, 1), case.rtol)


CHECKS = {
    "eager_chunk1": lambda case: check_eager(case, 1),
    "eager": lambda case: check_eager(case, None),
    "jvp": check_jvp,
    "taylor2": check_taylor2,
    "jit_jvp": check_jit_jvp,
    "jit_jacobian": check_jit_jacobian,
    "sparsity": check_sparsity,
    "sparse_jacobian": check_sparse_jacobian,
    "sparse_jacobian_jit": lambda case: check_sparse_jacobian(case, jit=True),
}

# GAPS, (case name, mode) -> the reason the mode cannot handle the case yet: each raises TypeError
# (the reason is the start of its message). The tests are strict xfails, so a gap that closes
# fails until it is removed: rerun make_every_mode_gaps.py, which rewrites every_mode_gaps.py.

# (case name, mode) -> a mode returning a wrong number (never an accepted gap: fix these first).
# Wrong numbers found by this test, each kept failing as a strict xfail with its cause until
# fixed: (case, mode) -> reason. (The five of Taylor mode's writes through views and Taylor's det at
# a singular member, now refused, are fixed.)
WRONG: dict[tuple[str, str], str] = {}


def _params():
    for name in CASES:
        for mode in MODES:
            marks = []
            if (name, mode) in WRONG:
                reason = "WRONG NUMBER: " + WRONG[name, mode]
                marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))
            elif (name, mode) in GAPS:
                marks.append(
                    pytest.mark.xfail(strict=True, raises=TypeError, reason=GAPS[name, mode])
                )
            yield pytest.param(name, mode, marks=marks, id=f"{mode}-{name}")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::dualdiff.core.errors.ValueDependentPatternWarning")
@pytest.mark.parametrize("name, mode", list(_params()))
def test_case_in_mode(name, mode):
    if (name, mode) not in GAPS:
        CHECKS[mode](CASES[name])
        return
    __tracebackhide__ = True
    try:
        CHECKS[mode](CASES[name])
    except TypeError as error:
        message, reason = " ".join(str(error).split()), GAPS[name, mode]
        # the refusal recorded, not another one (a rule added, then failing for a new reason)
        assert reason.startswith(_GENERIC[0]) or message.startswith(reason), (message, reason)
        refuse(message)  # from a small module, the test frame hidden: a cheap traceback


def test_gap_tables_name_real_cases_and_modes():
    for name, mode in [*GAPS, *WRONG]:
        assert name in CASES and mode in MODES, (name, mode)
    assert not set(GAPS) & set(WRONG)


# Refusals that do not name the construct and the fix (the golden rule asks for both): NumPy's own
# "no implementation found", and the jit's generic conversion error (item assignment into an array
# that is not traced now names the write into a float array). Listed so a new one fails here; each
# is a defect to fix.
_GENERIC = ("UNCLEAR ERROR", "Converting a traced dual to a NumPy array would drop its tangent")
UNCLEAR_GAPS: set = set()


def test_every_refusal_names_its_construct():
    unclear = {key for key, reason in GAPS.items() if reason.startswith(_GENERIC)}
    assert unclear == UNCLEAR_GAPS, (sorted(unclear - UNCLEAR_GAPS), sorted(UNCLEAR_GAPS - unclear))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_no_case_is_vacuous():
    # a Jacobian that is zero everywhere would let a mode pass by returning zeros
    for name in CASES:
        assert np.any(np.abs(expected_jacobian(name, 0)) > 1e-8), name
        assert not np.array_equal(point(name, 0), point(name, 1)), name


def test_every_case_has_a_kind():
    assert {case.kind for case in CASES.values()} <= set(KINDS)


# -- coverage: every function a carrier registers has a case --------------------------------------


def _module(name: str):
    # ``dualdiff.taylor`` the attribute is a function shadowing the module: go through sys.modules
    importlib.import_module(name)
    return sys.modules[name]


def _spelling(function) -> str:
    """A NumPy function's name below ``numpy`` (``"linalg.solve"``), as the case names spell it."""
    if isinstance(function, str):
        return function
    name = getattr(function, "__name__", repr(function))
    module = getattr(function, "__module__", None) or ""
    for sub in ("linalg", "fft"):
        if module == f"numpy.{sub}" or module.startswith((f"numpy.{sub}.", f"numpy.lib._{sub}")):
            return f"{sub}.{name}"
    if module == "numpy.lib.stride_tricks":
        return f"lib.stride_tricks.{name}"
    if module == "numpy.lib.scimath":
        return f"emath.{name}"
    return name


def carrier_registries() -> dict[str, set[str]]:
    """The NumPy functions each carrier registers a rule for (until one function table drives
    them all, the registries are read where each carrier keeps its own)."""
    return {
        "DualArray": {_spelling(f) for f in _module("dualdiff.arrays.dualarray").HANDLED_FUNCTIONS},
        "Taylor": {_spelling(f) for f in _module("dualdiff.series.taylor")._FUNCTIONS},
        "jit": {_spelling(f) for f in _module("dualdiff.compiler.symbolic")._FUNCTIONS},
        "sparsity": {_spelling(f) for f in _module("dualdiff.sparsity.tracer")._FUNCTIONS},
    }


# Registered functions with no case here, each with the reason.
NOT_CASES = {
    # dualdiff's own array functions registered with Taylor's dispatch (covered by test_special)
    "_logit_array": "dualdiff.logit on arrays; not a NumPy function",
    "_sigmoid_array": "dualdiff.sigmoid on arrays; not a NumPy function",
    "_softplus_array": "dualdiff.softplus on arrays; not a NumPy function",
    "_xlog1py_array": "dualdiff.xlog1py on arrays; not a NumPy function",
    "_xlogy_array": "dualdiff.xlogy on arrays; not a NumPy function",
}


def test_every_registered_function_has_a_case():
    covered = set(by_function())
    missing = {
        carrier: sorted(names - covered - set(NOT_CASES))
        for carrier, names in carrier_registries().items()
    }
    assert not any(missing.values()), {k: v for k, v in missing.items() if v}


# the functions the project's first issue lists (once test_functions' own table): each needs a case
REQUIRED = """sum prod mean var std cumsum cumprod diff gradient trapezoid dot vdot inner
outer matmul tensordot einsum trace kron cross concatenate stack hstack vstack column_stack split
array_split reshape ravel transpose moveaxis swapaxes expand_dims squeeze broadcast_to
atleast_1d atleast_2d atleast_3d flip roll tile repeat pad where select clip take
take_along_axis put sort max min amax amin ptp argmax argsort nonzero polyval interp
zeros_like ones_like empty_like full_like copy zeros""".split()


def test_every_required_function_has_a_case():
    assert set(REQUIRED) <= set(by_function()), sorted(set(REQUIRED) - set(by_function()))


def test_not_cases_are_registered_somewhere():
    registered = set().union(*carrier_registries().values())
    assert set(NOT_CASES) <= registered, sorted(set(NOT_CASES) - registered)


class _Spy(np.ndarray):
    """An ndarray that records the NumPy functions and ufuncs called on it."""

    called: set[str] = set()

    def __array_function__(self, func, types, args, kwargs):
        _Spy.called.add(_spelling(func))
        return super().__array_function__(func, types, args, kwargs)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _Spy.called.add(ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}")

        def plain(a):
            return a.view(np.ndarray) if isinstance(a, _Spy) else a

        if "out" in kwargs:
            kwargs["out"] = tuple(plain(o) for o in kwargs["out"])
        result = getattr(ufunc, method)(*map(plain, inputs), **kwargs)
        return result.view(_Spy) if type(result) is np.ndarray else result


# cases whose function gets only NumPy scalars from a plain array (no dispatch to spy on); the
# dispatchers of np.poly and np.roots return the array itself, so NumPy looks for an override
# among its elements (a dual's elements are duals: its override is found)
SPY_BLIND = {"atleast_1d scalar", "stack duals", "poly", "roots"}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_case_calls_the_functions_it_is_named_for():
    # so the coverage test above cannot be satisfied by a name alone
    missing = {}
    for name, case in CASES.items():
        if case.kind in ("indexing", "decision") or name in SPY_BLIND:
            continue
        _Spy.called = set()
        case.f(point(name, 0).view(_Spy))
        if not set(case.functions) <= _Spy.called:
            missing[name] = sorted(set(case.functions) - _Spy.called)
    assert not missing, missing
