"""The function table (``dualdiff.rules.functions``) against the carriers and the shared case list.

* every function a carrier handles is declared in the table, and every table function has a case;
* a ``special`` entry names exactly the carriers that have code for it;
* where DualArray keeps a handler of its own for a function whose kind gives a generic one, the
  two agree (on every case of the function, against each other and through the case list's
  numeric-difference checks in ``test_every_mode``);
* the generic handlers refuse what they cannot honour (a view, a computing pad mode).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from cases import CASES, by_function

import dualdiff as dd
from dualdiff.rules import functions as table
from dualdiff.rules.compositions import COMPOSITIONS
from dualdiff.rules.elementwise import RULES


def _module(name):
    return importlib.import_module(name)


def _registries():
    """Each carrier's own handlers (the carriers keep them private: read here on purpose)."""
    _module("dualdiff.arrays.functions")
    dual_array = _module("dualdiff.arrays.dualarray").HANDLED_FUNCTIONS
    traced = _module("dualdiff.compiler.symbolic")
    # the compiler's code for a special function: its own handler, a functional write, or
    # DualArray's rule replayed as one instruction (traced.eager_rule)
    compiler = {*traced._FUNCTIONS, *traced._WRITING_FUNCTIONS}
    compiler |= {e.function for e in table.by_kind("special") if e.function in dual_array}
    # Taylor mode's code: its own handlers, and DualArray's rule nested once per order for the
    # special functions it has no series rule for (taylor._nested_fallback)
    taylor = _module("dualdiff.series.taylor")
    taylor_code = {*taylor._FUNCTIONS}
    taylor_code |= {
        e.function
        for e in table.by_kind("special")
        if e.function in dual_array
        and getattr(taylor._handler(e.function), "func", None) is taylor._nested_fallback
    }
    return {
        "DualArray": dual_array,
        "Taylor": taylor_code,
        "compiler": compiler,
        "sparsity": _module("dualdiff.sparsity.tracer")._FUNCTIONS,
    }


# Functions of dualdiff's own registered with a carrier's NumPy dispatch: the elementwise rules
# that are not ufuncs (np.sinc, dualdiff.sigmoid on arrays ...), from the rule table.
_RULE_FUNCTIONS = {rule.array for rule in RULES.values()}


def _spelling(function) -> str:
    entry = table.entry(function)
    return entry.name if entry else getattr(function, "__name__", repr(function))


def test_carriers_handle_only_declared_functions():
    undeclared = {
        carrier: sorted(
            _spelling(f) for f in registry if f not in table.FUNCTIONS and f not in _RULE_FUNCTIONS
        )
        for carrier, registry in _registries().items()
    }
    assert not any(undeclared.values()), undeclared


def test_special_entries_name_the_carriers_with_code():
    registries = _registries()
    wrong = {}
    for entry in table.by_kind("special"):
        have = {c for c, registry in registries.items() if entry.function in registry}
        if have != set(entry.carriers):
            wrong[entry.name] = (sorted(entry.carriers), sorted(have))
    assert not wrong, "declared carriers vs carriers with code: " + repr(wrong)


def test_special_entries_are_refused_by_name_where_missing():
    # a well-formed call for each special entry without a DualArray rule (NumPy's own argument
    # errors would name the function too); none left since putmask, place, fill_diagonal and
    # put_along_axis became compositions through np.put
    calls: dict = {}
    missing = [e for e in table.by_kind("special") if "DualArray" not in e.carriers]
    assert set(calls) == {e.function for e in missing}
    for entry in missing:
        with pytest.raises(TypeError, match=f"no derivative rule for numpy.{entry.name}"):
            entry.function(*calls[entry.function])


# Declared functions without a shared case yet.
NO_CASE_YET: set[str] = set()


def test_every_table_function_has_a_case():
    covered = set(by_function()) | NO_CASE_YET
    assert not [e.name for e in table.FUNCTIONS.values() if e.name not in covered]


# Cases of functions that no carrier handles yet (each a gap in every mode).
NOT_YET_DECLARED = {"fft.fft", "fft.rfft", "percentile", "quantile", "linalg.eig", "linalg.eigvals"}


def test_every_case_names_a_declared_function_or_a_ufunc_or_an_idiom():
    declared = {e.name for e in table.FUNCTIONS.values()} | NOT_YET_DECLARED
    for name, cases in by_function().items():
        kinds = {c.kind for c in cases}
        if kinds <= {"indexing", "decision"}:
            continue  # subscripts, methods, ufunc methods: not functions of the table
        function = table._numpy(name)
        if isinstance(function, np.ufunc) or name in RULES:
            continue
        assert name in declared, name


def test_kinds_and_operands_are_well_formed():
    for entry in table.FUNCTIONS.values():
        assert entry.kind in table.KINDS
        if entry.kind in ("structural", "linear", "multilinear"):
            assert entry.operands, entry.name
        assert set(entry.carriers) <= set(table.CARRIERS), entry.name
        if entry.kind == "composition":  # a body, or at least one carrier's own code
            own = [r for r in _registries().values() if entry.function in r]
            assert entry.function in COMPOSITIONS or own, entry.name


def test_table_is_read_only():
    with pytest.raises(TypeError):
        table.FUNCTIONS[np.sum] = None


# -- DualArray's own handlers against the generic ones of their kinds ------------------------------


def _generic(function):
    functions = _module("dualdiff.arrays.functions")
    return functions.derived_handler(table.entry(function))


def _overridden_cases():
    registry = _registries()["DualArray"]
    out = []
    for name, cases in sorted(by_function().items()):
        function = table._numpy(name)
        entry = table.entry(function) if function is not None else None
        if entry is None or entry.view or function not in registry:
            continue
        if entry.kind in ("structural", "linear", "multilinear") or function in COMPOSITIONS:
            out += [(name, case.name) for case in cases]
    return out


@pytest.mark.parametrize("function_name, case_name", _overridden_cases())
def test_override_agrees_with_the_generic_handler(monkeypatch, function_name, case_name):
    case = CASES[case_name]
    x = case.point(0)
    own = dd.jacobian(case.f, x)
    array = _module("dualdiff.arrays.dualarray")
    function = table._numpy(function_name)
    monkeypatch.setitem(array.HANDLED_FUNCTIONS, function, _generic(function))
    try:
        generic = dd.jacobian(case.f, x)
    except TypeError as e:  # only np.pad's computing modes, which the override handles
        assert "computes new values" in str(e)
        return
    np.testing.assert_allclose(generic, own, rtol=1e-12, atol=1e-12)


def test_generic_structural_handler_refuses_a_view():
    x = dd.DualArray(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match="view"):
        _generic(np.rollaxis)(x, 1)


def test_generic_pad_refuses_computing_modes():
    x = dd.DualArray(np.arange(3.0), np.ones(3))
    with pytest.raises(TypeError, match="linear_ramp"):
        _generic(np.pad)(x, 1, mode="linear_ramp")
    padded = _generic(np.pad)(x, 2, mode="reflect")
    np.testing.assert_array_equal(padded.value, np.pad(np.arange(3.0), 2, mode="reflect"))
    np.testing.assert_array_equal(padded.tangent, np.ones(7))


def test_generic_structural_handler_gathers_several_operands_and_constants():
    a = dd.DualArray(np.arange(4.0).reshape(2, 2), np.arange(4.0).reshape(2, 2) + 10)
    b = np.full((1, 2), 7.0)
    out = _generic(np.concatenate)([a, b], axis=0)
    np.testing.assert_array_equal(out.value, np.concatenate([a.value, b]))
    np.testing.assert_array_equal(out.tangent, np.concatenate([a.tangent, np.zeros((1, 2))]))
    functions = _module("dualdiff.arrays.functions")
    parts = functions.structural_by_index(table.entry(np.split), a, 2, axis=1)
    assert [p.shape for p in parts] == [(2, 1), (2, 1)]
    np.testing.assert_array_equal(parts[1].tangent, [[11.0], [13.0]])
