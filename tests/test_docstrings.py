"""Every public name has a docstring with runnable Examples, and they give what they show.

The examples of the API reference (the docstrings of ``dualdiff.__all__`` and ``dualdiff.numeric``)
and the code of the user guide (``docs/**/*.rst``) run here as doctests, so the documentation
cannot drift from what the library does. The elementwise functions of the rule table share one
generated docstring and are shown, with their formulas, on one page of the reference, whose
examples run with the guide's.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import numeric

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
ALIASES = {"abs", "conj", "mod", "degrees", "radians", "expit"}  # names of rule-table functions


def public_objects():
    """(qualified name, object) of every documented public name outside the rule table."""
    for name in dd.__all__:
        if name in dd.RULES or name in ALIASES or name == "RULES":
            continue
        yield f"dualdiff.{name}", getattr(dd, name)
    for name in numeric.__all__:
        if name != "METHODS":
            yield f"dualdiff.numeric.{name}", getattr(numeric, name)


def run(tests: list[doctest.DocTest]) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test)
    summary = runner.summarize(verbose=False)
    assert summary.failed == 0, f"{summary.failed} of {summary.attempted} examples failed"


PUBLIC = list(public_objects())


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_docstring_has_examples_that_run(name, obj):
    finder = doctest.DocTestFinder(recurse=False)
    tests = [t for t in finder.find(obj, name, globs={"np": np, "dd": dd}) if t.examples]
    assert tests, f"{name} has no Examples in its docstring"
    assert "Examples\n" in (obj.__doc__ or ""), f"{name}: no numpydoc Examples section"
    run(tests)


DOC_FILES = sorted((ROOT / "docs").glob("**/*.rst"))
DOC_FILES = [p for p in DOC_FILES if "_build" not in p.parts and "auto_examples" not in p.parts]
DOC_FILES = [p for p in DOC_FILES if "generated" not in p.parts]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documentation_pages_run(path):
    text = path.read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"np": np, "dd": dd}, path.name, str(path), 0)
    run([test])
