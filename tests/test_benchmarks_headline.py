"""The README's performance tables come from a run: ``benchmarks.headline`` on made-up results,
and the README's markers that ``python -m benchmarks --readme`` writes between."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the benchmarks package lives beside the tests, not in dualdiff
    sys.path.insert(0, str(ROOT))

from benchmarks import headline, run  # noqa: E402
from benchmarks.timing import Case, Group, Row  # noqa: E402


def _row(key, system, ratio, status="ok"):
    case = Case(key, system, f"{key} method", lambda: None)
    return Row(case, status=status, ratios={"× f": ratio, "× hand": None})


def _workload(name, groups):
    workload = run.Workload(name)
    for title, rows in groups:
        workload.results.append((Group(name, title, [r.case for r in rows]), rows))
    return workload


def test_headline_rows_take_each_system_from_its_case():
    jvp = _workload(
        "jvp",
        [
            (
                "n = 10",
                [
                    _row("f", "numpy", 1.0),
                    _row("hand", "numpy", 1.5),
                    _row("dualdiff", "dualdiff", 2.25),
                    _row("dualdiff-jit", "dualdiff", 1.75),
                    _row("jax", "jax", 3.0),
                    _row("torch", "torch", 40.0, status="error"),
                    _row("autograd", "autograd", 99.0),
                ],
            )
        ],
    )
    other = _workload("not-in-the-headline", [("x", [_row("dualdiff", "dualdiff", 5.0)])])
    rows = headline.headline_rows([other, jvp])
    assert rows == [
        ["elementwise JVP, n = 10", "2.25×", "1.75×", "1.50×", "3.00×", "", "autograd 99.0×"]
    ]


def test_tables_hold_the_targets_and_replace_only_between_the_markers():
    text = f"before\n{headline.START}\nold table\n{headline.END}\nafter\n"
    lines = ["| jvp | case | ≤ 1.5× hand | 2.00× | **no** |", "| kth | k | ≤ 1× jet | 0.5× | yes |"]
    content = headline.tables([], lines)
    assert "Targets met: 1 of 2" in content and "| kth |" not in content
    new = headline.replace_between_markers(text, content)
    assert new.startswith(f"before\n{headline.START}\n")
    assert new.endswith(f"{headline.END}\nafter\n")
    assert "old table" not in new and "| jvp | case | ≤ 1.5× hand | 2.00× | **no** |" in new
    with pytest.raises(ValueError, match="benchmarks:headline"):
        headline.replace_between_markers("no markers here", content)


def test_readme_has_the_markers_in_order():
    text = (ROOT / "README.md").read_text("utf-8")
    assert text.count(headline.START) == 1 and text.count(headline.END) == 1
    assert text.index(headline.START) < text.index(headline.END)
