"""The tracer's dense shortcut on generated programs: with every union whose parts hold half of
``x`` taken as all of ``x`` (no work budget), the pattern holds the exact one, operation by
operation (``test_properties`` checks the exact one against the Jacobian)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, reject, settings

import dualdiff as dd
from dualdiff.sparsity import tracer as sparsity

from .grammar import examples
from .test_properties import PROFILE, disabled, plain, tracked


def _pattern(case, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return dd.jacobian_sparsity(case.program, x.copy())
        except (TypeError, ValueError):
            return None


@settings(PROFILE, max_examples=examples(100))
@given(tracked(disabled=disabled("sparsity")))
def test_rounded_up_pattern_holds_the_exact_one(case):
    x = case.x0
    if plain(case, x) is None:
        reject()
    exact = _pattern(case, x)
    if exact is None:
        reject()
    budget, low = sparsity._WORK_BUDGET, sparsity._ROUND_MIN
    sparsity._WORK_BUDGET, sparsity._ROUND_MIN = 0, 1
    try:
        rounded = _pattern(case, x)
    finally:
        sparsity._WORK_BUDGET, sparsity._ROUND_MIN = budget, low
    assert rounded is not None, "refused only with the dense shortcut"
    assert rounded.shape == exact.shape
    missed = exact & ~rounded
    assert not missed.any(), f"the shortcut lost {np.argwhere(missed).tolist()}"
