"""The README is true: its Python examples run as written, CI runs exactly its test command, and
its links to the user guide lead to the guide's pages (all of them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_TEXT = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README_TEXT, re.S)
BASH = re.findall(r"```bash\n(.*?)```", README_TEXT, re.S)


def setup_commands() -> list[str]:
    """The one-line commands of the README's Set-up section, in order."""
    section = README_TEXT.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_readme_has_examples():
    assert BLOCKS, "the README has no Python example"


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    code = BLOCKS[index]
    if "scipy" in code:
        pytest.importorskip("scipy")
    exec(compile(code, f"README.md block {index}", "exec"), {})


def test_setup_has_two_one_line_commands():
    commands = setup_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands), "each set-up command is one line"
    demo, tests = commands
    assert demo.startswith("python3 -m venv .venv && ") and demo.endswith("-m dualdiff")
    assert tests.startswith("python3 -m venv .venv && ")
    assert tests.endswith("-m pytest -q -n auto --dist worksteal")


def test_ci_runs_exactly_the_readme_test_command():
    """``.ci/run`` is the README's second set-up command, character for character."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line for line in script.splitlines() if line and not line.startswith("#")]
    command = [line for line in lines if line.startswith("python3 -m venv")]
    assert command == [setup_commands()[1]]


def test_docs_build_command_matches_ci():
    """The README's documentation build is CI's (without ``-q``), so a reader's build is CI's."""
    build = [b.strip() for b in BASH if "sphinx" in b and "pytest" not in b]
    assert len(build) == 1
    ci_build = re.search(r"\.venv/bin/python -m sphinx [^&]*", setup_commands()[1]).group(0)
    assert ci_build.replace(" -q", "").strip() in build[0]


def test_readme_links_every_guide_page():
    """Every page of the guide's table of contents is linked, and every link leads to a file."""
    links = set(re.findall(r"\]\((docs/[^)]+)\)", README_TEXT))
    assert all((ROOT / link).is_file() for link in links), links
    toctree = (ROOT / "docs" / "guide" / "index.rst").read_text(encoding="utf-8")
    pages = re.findall(r"^   (\w+)$", toctree, re.M)
    assert len(pages) >= 8
    missing = [p for p in pages if f"docs/guide/{p}.rst" not in links]
    assert not missing, f"the README does not link the guide pages {missing}"
