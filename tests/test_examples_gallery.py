"""Every script in examples/ can be a page of the documentation's gallery.

sphinx-gallery (``docs/conf.py`` takes every ``examples/*.py``) needs a module docstring that
starts with a title underlined by ``=``; without it the documentation build fails, so a new
example is checked here, where the failure names the file.
"""

import ast
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_has_a_gallery_title(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=True)
    assert docstring, f"{path.name}: no module docstring"
    lines = docstring.splitlines()
    assert len(lines) >= 2, f"{path.name}: the docstring needs a title line and an underline"
    title, underline = lines[0], lines[1]
    assert title.strip() and not title.startswith(" "), f"{path.name}: first line is the title"
    assert set(underline) == {"="} and len(underline) >= len(title), (
        f"{path.name}: underline the title with at least {len(title)} '=' characters, e.g.\n"
        f'"""\\n{title}\\n{"=" * len(title)}\\n\\nWhat it shows ...\\n"""'
    )


def test_examples_exist():
    assert len(EXAMPLES) >= 6
