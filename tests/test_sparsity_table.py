"""The sparsity tracer's handlers derived from the function table (``dualdiff.rules.functions``).

* the generic rule of the linear and multilinear kinds (a union along the declared axes) is a
  superset of the true pattern: the non-zeros of dense eager Jacobians at random points, through
  every shared case of every such function and over random shapes and axis arguments;
* each handler of the tracer's own for a function whose kind gives a generic one is at least as
  tight as the generic one (structural: the same);
* np.pad's computing modes, ufunc.at and special functions without code.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from cases import CASES, by_function
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import jacobian as numeric_jacobian

import dualdiff as dd
from dualdiff.rules import functions as table
from dualdiff.sparsity import tracer as sparsity


@contextlib.contextmanager
def generic(function):
    """The tracer with ``function``'s derived handler in place of its own; yields the number of
    calls it received (so a test that never reaches it fails)."""
    handler = sparsity.derived_handler(table.entry(function))
    calls = [0]

    def counted(*args, **kwargs):
        calls[0] += 1
        return handler(*args, **kwargs)

    own = sparsity._FUNCTIONS.get(function)
    sparsity._FUNCTIONS[function] = counted
    try:
        yield calls
    finally:
        if own is None:
            del sparsity._FUNCTIONS[function]
        else:
            sparsity._FUNCTIONS[function] = own


def pattern(f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(dd.jacobian_sparsity(f, x))


def nonzeros(jac, n):
    jac = np.abs(np.asarray(jac)).reshape(-1, n)
    return jac > 1e-9 * max(1.0, float(jac.max(initial=0.0)))


def assert_covers(p, jac, n, what):
    missed = nonzeros(jac, n) & ~p
    assert not missed.any(), f"{what}: a dependency missed at {np.argwhere(missed)[:5].tolist()}"


# -- the generic linear/multilinear rule through the shared cases ---------------------------------

_MIXING = [e for e in table.FUNCTIONS.values() if e.kind in ("linear", "multilinear")]
_MIXING_CASES = [
    (entry.name, case.name) for entry in _MIXING for case in by_function().get(entry.name, [])
]


def test_every_linear_and_multilinear_entry_has_a_case_here():
    assert {name for name, _ in _MIXING_CASES} == {e.name for e in _MIXING}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("function_name, case_name", _MIXING_CASES)
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**20))
def test_generic_mixing_rule_covers_the_jacobian(function_name, case_name, seed):
    case = CASES[case_name]
    function = table._numpy(function_name)
    with generic(function) as calls:
        p = pattern(case.f, case.point(0))
    assert calls[0], "the generic handler was not reached"
    x = case.point(seed)
    assert_covers(p, dd.jacobian(case.f, x), x.size, case_name)


# -- the generic rule over random shapes and axis arguments ----------------------------------------


def _complex_parts(y):
    # the Jacobian of a complex result, as a real one (a zero of it is a zero of both parts)
    return np.real(y) + np.pi * np.imag(y)


def _calls(draw, ndim):
    axis = draw(st.integers(-ndim, ndim - 1))
    n = draw(st.integers(1, 5))
    other = (axis + draw(st.integers(1, max(ndim - 1, 1)))) % ndim
    keep = draw(st.booleans())
    fft_axes = tuple(draw(st.permutations(range(ndim)))[: draw(st.integers(1, ndim))])
    return {
        "sum": lambda a: np.sum(a, axis=axis, keepdims=keep, initial=a[(0,) * a.ndim]),
        "mean": lambda a: np.mean(a, axis=(axis, other) if keep and ndim > 1 else axis),
        "cumsum": lambda a: np.cumsum(a, axis=None if keep else axis),
        "nansum": lambda a: np.nansum(a, axis=axis),
        "average": lambda a: np.average(a, axis=axis, weights=np.arange(1.0, a.shape[axis] + 1)),
        "diff": lambda a: np.diff(
            a, n=n % 3, axis=axis, prepend=a[(-1,) * a.ndim] if keep else 0.5
        ),
        "trace": lambda a: (
            np.trace(a, n - 3, axis, other)
            if ndim > 1 and axis % ndim != other
            else np.sum(a, axis)
        ),
        "gradient": lambda a: np.gradient(a, axis=axis) if a.shape[axis] > 1 else a,
        "trapezoid": lambda a: np.trapezoid(
            a, np.cumsum(np.arange(1.0, a.shape[axis] + 1)), axis=axis
        ),
        "fft.fft": lambda a: _complex_parts(np.fft.fft(a, n=n, axis=axis)),
        "fft.rfft": lambda a: _complex_parts(np.fft.rfft(a, axis=axis)),
        "fft.irfft": lambda a: np.fft.irfft(a, n=n + 1, axis=axis),
        "fft.hfft": lambda a: np.fft.hfft(a, axis=axis) if a.shape[axis] > 1 else a,
        "fft.fftn": lambda a: _complex_parts(np.fft.fftn(a, axes=fft_axes)),
        "fft.irfftn": lambda a: np.fft.irfftn(a, s=[n + 1] * len(fft_axes), axes=fft_axes),
    }


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_generic_mixing_rule_over_shapes_and_axes(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    calls_by_name = _calls(data.draw, len(shape))
    name = data.draw(st.sampled_from(sorted(calls_by_name)))
    f = calls_by_name[name]
    x = np.random.default_rng(data.draw(st.integers(0, 2**20))).standard_normal(shape)
    with generic(table._numpy(name)) as calls:
        p = pattern(f, x)
    assert calls[0] or name in ("gradient", "fft.hfft", "trace")  # (their fallbacks above)
    assert_covers(p, dd.jacobian(f, x), x.size, f"{name} on {shape}")


def test_diff_of_order_zero_ignores_prepend_as_numpy_does():
    x = np.arange(1.0, 3.0).reshape(1, 2)
    f = lambda a: np.diff(a, n=0, axis=0, prepend=0.5, append=a[:, :1])  # noqa: E731
    assert np.shape(f(x)) == (1, 2)
    np.testing.assert_array_equal(pattern(f, x), np.eye(2, dtype=bool))
    np.testing.assert_allclose(dd.jacobian(f, x), numeric_jacobian(f, x), atol=1e-9)


def test_generic_mixing_rule_stays_along_its_axes():
    # tight where the places match: a sum along one axis, an fft of another length along it
    x = np.ones((3, 4))
    with generic(np.sum):
        np.testing.assert_array_equal(
            pattern(lambda a: np.sum(a, axis=0), x),
            dd.jacobian(lambda a: np.sum(a, axis=0), x).reshape(4, 12) != 0,
        )
    with generic(np.fft.rfft):
        p = pattern(lambda a: np.fft.rfft(a, n=6, axis=1).real, x)
    rows = np.kron(np.eye(3, dtype=bool), np.ones((4, 4), dtype=bool))  # row i of the output
    np.testing.assert_array_equal(p, np.repeat(rows[::4], 4, axis=0))
    # no axes declared (convolve's generic rule): everything, conservatively
    with generic(np.convolve):
        assert pattern(lambda a: np.convolve(a, [1.0, 2.0]), np.ones(3)).all()


# -- the tracer's own handlers against the generic ones of their kinds -----------------------------


def _overridden_cases():
    out = []
    for name, cases in sorted(by_function().items()):
        function = table._numpy(name)
        entry = table.entry(function) if function is not None else None
        if entry is None or function not in sparsity._FUNCTIONS:
            continue
        if entry.kind in ("structural", "linear", "multilinear"):
            out += [(name, case.name) for case in cases]
    return out


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("function_name, case_name", _overridden_cases())
def test_own_handler_is_within_the_generic_one(function_name, case_name):
    case = CASES[case_name]
    x = case.point(0)
    own = pattern(case.f, x)
    function = table._numpy(function_name)
    try:
        with generic(function) as calls:
            derived = pattern(case.f, x)
    except TypeError as error:  # np.pad's computing modes, which only the own handler does
        assert "computes new values" in str(error)
        return
    assert calls[0]
    assert not (own & ~derived).any(), "the own handler has a dependency the generic one lacks"
    if table.entry(function).kind == "structural":  # the generic one is exact there
        np.testing.assert_array_equal(own, derived)


# -- np.pad's computing modes, ufunc.at, refusals --------------------------------------------------

_PAD = [
    ("mean", {}),
    ("mean", {"stat_length": 2}),
    ("median", {"stat_length": (1, 2)}),
    ("maximum", {}),
    ("minimum", {"stat_length": 1}),
    ("linear_ramp", {"end_values": 3.0}),
    ("reflect", {"reflect_type": "odd"}),
    ("symmetric", {"reflect_type": "odd"}),
]


@settings(max_examples=30, deadline=None)
@given(
    mode=st.sampled_from(_PAD),
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple),
    widths=st.lists(st.integers(0, 5), min_size=2, max_size=2).map(tuple),
    seed=st.integers(0, 2**20),
)
def test_pad_computing_modes_cover_the_jacobian(mode, shape, widths, seed):
    name, options = mode
    x = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) + 0.5

    def f(a):
        return np.pad(a, widths, mode=name, **options)

    assert_covers(pattern(f, x), numeric_jacobian(f, x), x.size, f"pad {mode} {widths}")


def test_pad_refuses_a_computing_mode_only_when_the_generic_handler_has_it():
    x = np.ones(3)
    with generic(np.pad), pytest.raises(TypeError, match="linear_ramp.*computes new values"):
        pattern(lambda a: np.pad(a, 1, mode="linear_ramp"), x)
    with pytest.raises(TypeError, match="jacobian_sparsity: numpy.pad"):
        pattern(lambda a: np.pad(a, 1, mode="linear_ramp", end_values=a[0]), x)
    # mode="empty": the new elements depend on nothing (their ids are not left undefined)
    p = pattern(lambda a: np.pad(a, 2, mode="empty"), x)
    assert not p[:2].any() and not p[-2:].any()
    np.testing.assert_array_equal(p[2:-2], np.eye(3, dtype=bool))


def test_ufunc_at_gathers_every_write():
    def f(a):
        y = a * 1.0
        np.add.at(y, [0, 0, 2], a[3:6] ** 2)
        return y

    x = np.arange(1.0, 7.0)
    expected = np.eye(6, dtype=bool)
    expected[0, [3, 4]] = expected[2, 5] = True
    np.testing.assert_array_equal(pattern(f, x), expected)

    def through_argsort(a):  # positions from x's values: any element may be reached
        y = a * 1.0
        np.add.at(y, np.argsort(a)[:1], a[0] * 2.0)
        return y

    np.testing.assert_array_equal(pattern(through_argsort, x)[:, 0], True)
    with pytest.raises(TypeError, match="add.at into a plain array"):
        pattern(lambda a: np.add.at(np.zeros(6), [0], a[0]) or a, x)


def test_special_without_code_names_the_carriers_with_it():
    entry = table.Entry(
        "linalg.qr", np.linalg.qr, "special", ("a",), carriers=frozenset({"DualArray", "Taylor"})
    )
    with pytest.raises(TypeError, match="numpy.linalg.qr.*carriers with it are: DualArray, Taylor"):
        sparsity.derived_handler(entry)(np.linalg.qr, np.eye(2))
    # the table's specials without code here refuse by name (writes only the compiler has)
    for e in table.by_kind("special"):
        if "sparsity" not in e.carriers:
            with pytest.raises(TypeError, match=e.name):
                sparsity.derived_handler(e)(e.function, np.eye(2))


def test_composition_kind_runs_its_body():
    x = np.arange(1.0, 7.0)
    f = lambda a: np.percentile(a, 40.0)  # noqa: E731 - a body from dualdiff.rules.compositions
    assert np.percentile not in sparsity._FUNCTIONS
    assert_covers(pattern(f, x), numeric_jacobian(f, x + 0.1), x.size, "percentile")


def test_bincount_follows_the_bins():
    bins = np.array([0, 2, 2, 5, 0])
    expected = np.zeros((7, 5), dtype=bool)
    expected[bins, np.arange(5)] = True
    p = pattern(lambda a: np.bincount(bins, weights=a, minlength=7), np.ones(5))
    np.testing.assert_array_equal(p, expected)

    def through_argsort(a):  # bins from x's values: any weight in any bin, at this point only
        return np.bincount(np.argsort(a), weights=a**2)

    x = np.arange(1.0, 6.0)
    with pytest.warns(dd.core.errors.ValueDependentPatternWarning, match="bincount"):
        p = dd.jacobian_sparsity(through_argsort, x)
    assert p.all()


@settings(max_examples=60, deadline=None)
@given(
    function=st.sampled_from([np.convolve, np.correlate]),
    mode=st.sampled_from(["full", "same", "valid", None]),
    sizes=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    traced=st.sampled_from(["a", "v", "both"]),
    zeros=st.lists(st.integers(0, 5), max_size=3),
    seed=st.integers(0, 2**20),
)
def test_convolution_follows_the_band(function, mode, sizes, traced, zeros, seed):
    m, n = sizes
    rng = np.random.default_rng(seed)
    constant = rng.standard_normal(n if traced == "a" else m)
    constant[[z for z in zeros if z < constant.size]] = 0.0  # a constant's zeros are trusted
    options = {} if mode is None else {"mode": mode}

    def f(x):
        if traced == "both":
            return function(x[:m], x[m:], **options)
        if traced == "a":
            return function(x, constant, **options)
        return function(constant, x, **options)

    x = rng.standard_normal(m + n if traced == "both" else (m if traced == "a" else n))
    p = pattern(f, x)
    assert_covers(p, dd.jacobian(f, x), x.size, f"{function.__name__} {mode} {sizes} {traced}")
    if traced != "both":  # exact: every entry of the band is a product with a non-zero
        np.testing.assert_array_equal(p, nonzeros(numeric_jacobian(f, x), x.size))
